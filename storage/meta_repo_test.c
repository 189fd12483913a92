/* meta_repo_test.c - unit tests for repositories as the management API sees them (meta.h,
 * meta_repo.c): visibility, filters, sort and paging; info, description and delete; registry
 * statistics; on the shared browse fixture (storage/test_meta.h). */
#include "storage/meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"
#include "storage/test_meta.h"

static char tmpdir[64]; /* test_mkdtemp, one per run */

/* robot makes a system-level robot with one grant; returns its id */
static int64_t robot(struct meta *m, const char *name, const char *ns, unsigned actions)
{
    struct meta_robot r;
    struct meta_robot_perm perm;
    struct berr e;
    int64_t id = 0;

    memset(&r, 0, sizeof(r));
    memset(&perm, 0, sizeof(perm));
    (void)snprintf(r.name, sizeof(r.name), "robot$%s", name);
    memcpy(r.secret_hash, "x", 2); /* never verified here */
    r.duration_days = -1;
    (void)snprintf(perm.ns, sizeof(perm.ns), "%s", ns);
    perm.actions = actions;
    CHECK_INT_EQ(meta_robot_create(m, &r, &perm, 1, &id, &e), 0);
    return id;
}

static void test_repo_list(void)
{
    struct browse_fixture f;
    struct meta_repo_info *rows = mem_calloc(10, sizeof(*rows));
    struct meta_repo_q q;
    struct berr e;
    size_t n = 0;
    int64_t total = 0;

    browse_setup(&f, tmpdir, "repos.db");
    CHECK(rows != NULL);
    memset(&q, 0, sizeof(q));
    q.l.limit = 10;
    q.all = true;
    q.l.sort = "name";
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(rows[0].name, "p1/secret");
    CHECK_STR_EQ(rows[1].name, "pub/app");
    CHECK_INT_EQ(rows[1].artifact_count, 2);
    CHECK_INT_EQ(rows[1].project_id, f.pub);
    CHECK(rows[1].project_public);
    CHECK(!rows[0].project_public);

    q.l.sort = "-name";
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_STR_EQ(rows[0].name, "pub/app");

    /* visibility: anonymous and bob see the public one, alice (guest of p1) both */
    q.all = false;
    q.l.sort = NULL;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_STR_EQ(rows[0].name, "pub/app");
    q.viewer_user_id = f.bob;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.viewer_user_id = f.alice;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    q.viewer_user_id = 0;
    /* robots see what their grants name, with the pull bit: a grant elsewhere shows nothing */
    q.viewer_robot_id = robot(f.m, "pub-only", "pub", META_ACT_PULL);
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_STR_EQ(rows[0].name, "pub/app");
    q.viewer_robot_id = robot(f.m, "p1-push", "p1", META_ACT_PUSH);
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.viewer_robot_id = robot(f.m, "p1-pull", "p1", META_ACT_PULL);
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    q.viewer_robot_id = robot(f.m, "every", "*", META_ACT_PULL);
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    q.viewer_robot_id = 0;
    q.viewer_user_id = f.alice;

    /* filters: project, exact and fuzzy name */
    q.project_id = f.p1;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_STR_EQ(rows[0].name, "p1/secret");
    q.project_id = 0;
    q.l.name = "ecr";
    q.l.fuzzy = true;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.l.fuzzy = false;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 0);
    CHECK_INT_EQ(n, 0);
    q.l.name = "pub/app";
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.l.name = NULL;

    /* paging: the total stays, the page moves */
    q.l.sort = "name";
    q.l.limit = 1;
    q.l.offset = 1;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    CHECK_INT_EQ(n, 1);
    CHECK_STR_EQ(rows[0].name, "pub/app");

    /* errors */
    q.l.sort = "size; DROP TABLE x";
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    q.l.sort = NULL;
    q.l.offset = -1;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    mem_free(rows);
    meta_close(f.m);
}

static void test_repo_get_update_delete(void)
{
    struct browse_fixture f;
    struct meta_repo_info info;
    struct repo_name app, secret, none;
    char *longdesc = mem_malloc(META_REPO_DESC_MAX + 2);
    struct berr e;

    browse_setup(&f, tmpdir, "repo1.db");
    app = test_repo_name("pub/app");
    secret = test_repo_name("p1/secret");
    none = test_repo_name("pub/none");
    CHECK(longdesc != NULL);
    CHECK_INT_EQ(meta_repo_info_get(f.m, &app, &info, &e), 0);
    CHECK_STR_EQ(info.name, "pub/app");
    CHECK_STR_EQ(info.description, "");
    CHECK_INT_EQ(info.pull_count, 0);
    CHECK(info.created_at > 0);
    CHECK_INT_EQ(meta_repo_info_get(f.m, &none, &info, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);

    CHECK_INT_EQ(meta_repo_set_description(f.m, &app, "an app", &e), 0);
    CHECK_INT_EQ(meta_repo_info_get(f.m, &app, &info, &e), 0);
    CHECK_STR_EQ(info.description, "an app");
    memset(longdesc, 'x', META_REPO_DESC_MAX + 1);
    longdesc[META_REPO_DESC_MAX + 1] = '\0';
    CHECK_INT_EQ(meta_repo_set_description(f.m, &app, longdesc, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(meta_repo_set_description(f.m, &none, "x", &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);

    CHECK_INT_EQ(meta_repo_delete(f.m, &secret, &e), 0);
    CHECK_INT_EQ(meta_repo_info_get(f.m, &secret, &info, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_repo_delete(f.m, &secret, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    /* the project is empty now: it may be deleted */
    CHECK_INT_EQ(meta_project_delete(f.m, f.p1, &e), 0);
    mem_free(longdesc);
    meta_close(f.m);
}

static void test_stats(void)
{
    struct browse_fixture f;
    struct meta_stats s;
    struct berr e;

    browse_setup(&f, tmpdir, "stats.db");
    CHECK_INT_EQ(meta_stats_get(f.m, true, 0, &s, &e), 0);
    CHECK_INT_EQ(s.public_project_count, 1);  /* pub */
    CHECK_INT_EQ(s.private_project_count, 2); /* library (private by default) and p1 */
    CHECK_INT_EQ(s.total_project_count, 3);
    CHECK_INT_EQ(s.public_repo_count, 1);
    CHECK_INT_EQ(s.private_repo_count, 1);
    CHECK_INT_EQ(s.total_repo_count, 2);
    CHECK(s.total_storage_consumption >= 1157);
    CHECK_INT_EQ(meta_stats_get(f.m, false, f.bob, &s, &e), 0);
    CHECK_INT_EQ(s.private_project_count, 0);
    CHECK_INT_EQ(s.private_repo_count, 0);
    CHECK_INT_EQ(s.total_repo_count, 1);
    CHECK_INT_EQ(meta_stats_get(f.m, false, f.alice, &s, &e), 0);
    CHECK_INT_EQ(s.private_project_count, 1);
    CHECK_INT_EQ(s.private_repo_count, 1);
    meta_close(f.m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "repo-test");
    TEST_RUN(test_repo_list);
    TEST_RUN(test_repo_get_update_delete);
    TEST_RUN(test_stats);
    test_rm_rf(tmpdir); /* the databases with their -wal and -shm files */
    return test_summary();
}
