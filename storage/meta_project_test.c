/* meta_project_test.c - unit tests for projects (meta.h, meta_project.c): the one fetch by name
 * and by id, the one create (conflicts, bad names, storage limit, owner as admin), lists with
 * visibility, filters and sort, updates, and delete (refused while content remains), each on a
 * fresh temporary database (storage/test_meta.h). */
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

static void test_project_get_create(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    struct meta_project_info p;
    struct berr e;
    int64_t id = 0;

    CHECK_INT_EQ(meta_project_get(m, "library", &p, &e), 0);
    CHECK_STR_EQ(p.p.name, "library");
    CHECK(!p.p.public); /* private until an admin opens it */
    CHECK(p.p.id > 0);
    CHECK(p.p.created_at > 0);

    CHECK_INT_EQ(meta_project_create(m, "team-a", false, 0, -1, &id, &e), 0);
    CHECK_INT_EQ(meta_project_get_by_id(m, id, &p, &e), 0);
    CHECK_STR_EQ(p.p.name, "team-a");
    CHECK(!p.p.public);
    CHECK_INT_EQ(p.p.id, id);
    CHECK_INT_EQ(meta_project_create(m, "team-a", true, 0, -1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_project_create(m, "library", true, 0, -1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_project_create(m, "Bad/Name", true, 0, -1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_INVALID);

    CHECK_INT_EQ(meta_project_get(m, "team-a", &p, &e), 0);
    CHECK(!p.p.public);
    CHECK_INT_EQ(meta_project_get(m, "nope", &p, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);
    CHECK_STR_EQ(e.msg, "project nope not found");
    CHECK_INT_EQ(p.p.id, 0);
    CHECK_INT_EQ(meta_project_get(m, "in valid", &p, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);
    meta_close(m);
}

static void test_project_lists_update_delete(void)
{
    struct meta *m = test_meta_open_public(tmpdir);
    struct meta_project_info *list = mem_calloc(META_LIST_MAX, sizeof(*list));
    struct meta_project_info info;
    struct meta_project_info p;
    struct meta_project_q q;
    struct repo_name r = test_repo_name("team/app");
    struct digest d;
    struct berr e;
    size_t n = 0;
    int64_t total = 0;
    int64_t alice = test_mkuser(m, "alice", false);
    int64_t bob = test_mkuser(m, "bob", false);
    int64_t team = 0;
    int64_t priv = 0;
    int64_t old_created;
    int64_t count = -1;
    size_t i;
    int role = -1;

    CHECK(list != NULL);
    CHECK_INT_EQ(meta_project_create(m, "team", false, alice, 1000, &team, &e), 0);
    CHECK(team > 0);
    CHECK_INT_EQ(meta_project_create(m, "team", true, bob, -1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_project_create(m, "Bad Name", true, bob, -1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_INVALID);
    CHECK_INT_EQ(meta_project_create(m, "x", true, bob, -2, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    /* the creator is projectAdmin; meta_project_create's owner too (trigger) */
    CHECK_INT_EQ(meta_member_role(m, team, alice, &role, &e), 0);
    CHECK_INT_EQ(role, ROLE_PROJECT_ADMIN);
    CHECK_INT_EQ(meta_member_role(m, team, bob, &role, &e), 0);
    CHECK_INT_EQ(role, 0);
    CHECK_INT_EQ(meta_project_create(m, "bobs", false, bob, -1, &priv, &e), 0);
    CHECK_INT_EQ(meta_member_role(m, priv, bob, &role, &e), 0);
    CHECK_INT_EQ(role, ROLE_PROJECT_ADMIN);

    CHECK_INT_EQ(meta_project_get_by_id(m, team, &p, &e), 0);
    CHECK_STR_EQ(p.p.name, "team");
    CHECK(!p.p.public);
    CHECK_INT_EQ(meta_project_get_by_id(m, 999, &p, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_project_get(m, "team", &info, &e), 0);
    CHECK_INT_EQ(info.p.id, team);
    CHECK_STR_EQ(info.owner_name, "alice");
    CHECK_INT_EQ(info.storage_limit, 1000);
    CHECK_INT_EQ(info.repo_count, 0); /* the getters never count */
    CHECK_INT_EQ(meta_repo_count(m, team, &count, &e), 0);
    CHECK_INT_EQ(count, 0);
    CHECK_INT_EQ(meta_project_get(m, "nope", &info, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);

    CHECK_INT_EQ(meta_project_update(m, team, true, true, false, 0, &e), 0);
    CHECK_INT_EQ(meta_project_get_by_id(m, team, &info, &e), 0);
    CHECK(info.p.public);
    CHECK_INT_EQ(info.storage_limit, 1000);
    CHECK_INT_EQ(meta_project_update(m, team, false, false, true, -1, &e), 0);
    CHECK_INT_EQ(meta_project_get_by_id(m, team, &info, &e), 0);
    CHECK(info.p.public);
    CHECK_INT_EQ(info.storage_limit, -1);
    CHECK_INT_EQ(meta_project_update(m, 999, true, true, false, 0, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);

    /* visibility: library (public), team (public now), bobs (private, bob's) */
    memset(&q, 0, sizeof(q));
    q.l.limit = 10;
    q.public_only = -1;
    q.all = true;
    CHECK_INT_EQ(meta_project_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 3);
    q.all = false;
    q.viewer_user_id = 0;
    CHECK_INT_EQ(meta_project_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    q.viewer_user_id = bob;
    CHECK_INT_EQ(meta_project_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 3);
    q.member_only = true;
    CHECK_INT_EQ(meta_project_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_STR_EQ(list[0].p.name, "bobs");
    q.member_only = false;
    q.public_only = 0;
    CHECK_INT_EQ(meta_project_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.public_only = -1;
    q.l.name = "b";
    q.l.fuzzy = true;
    q.l.sort = "-name";
    CHECK_INT_EQ(meta_project_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2); /* library, bobs */
    CHECK_STR_EQ(list[0].p.name, "library");
    CHECK_STR_EQ(list[1].p.name, "bobs");
    q.l.sort = "owner";
    CHECK_INT_EQ(meta_project_list(m, &q, list, META_LIST_MAX, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);

    /* delete refused while a repository holds a blob; allowed once unlinked */
    CHECK_INT_EQ(digest_of(&d, "layer", 5), 0);
    CHECK_INT_EQ(meta_blob_link(m, &r, &d, 5, &e), 0);
    CHECK_INT_EQ(meta_project_get_by_id(m, team, &info, &e), 0);
    CHECK_INT_EQ(meta_repo_count(m, team, &count, &e), 0);
    CHECK_INT_EQ(count, 1);
    q.l.name = NULL;
    q.l.fuzzy = false;
    q.l.sort = NULL;
    CHECK_INT_EQ(meta_project_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    i = 0;
    while (i < n && list[i].p.id != team)
        i++;
    CHECK(i < n && list[i].repo_count == 1); /* lists count */
    CHECK_INT_EQ(meta_project_delete(m, team, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_blob_unlink(m, &r, &d, &e), 0);
    old_created = info.p.created_at;
    CHECK_INT_EQ(meta_project_delete(m, team, &e), 0);
    CHECK_INT_EQ(meta_project_delete(m, team, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_member_role(m, team, alice, &role, &e), 0);
    CHECK_INT_EQ(role, 0);
    /* re-created in the same second: created_at still moves past the deletion */
    CHECK_INT_EQ(meta_project_create(m, "team", false, bob, -1, &team, &e), 0);
    CHECK_INT_EQ(meta_project_get(m, "team", &p, &e), 0);
    CHECK(p.p.created_at > old_created);
    CHECK(p.p.created_at > now_s() - 1);
    mem_free(list);
    meta_close(m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "project-test");
    TEST_RUN(test_project_get_create);
    TEST_RUN(test_project_lists_update_delete);
    test_rm_rf(tmpdir); /* the databases with their -wal and -shm files */
    return test_summary();
}
