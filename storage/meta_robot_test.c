/* meta_robot_test.c - unit tests for robot accounts (meta.h, meta_robot.c): create with
 * permissions, the fetches by name and by id, actions per project, updates, secrets, lists,
 * delete, and allocation failures during a create (all or nothing), each on a fresh temporary
 * database (storage/test_meta.h). */
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

static void test_robots(void)
{
    struct meta *m = test_meta_open_public(tmpdir);
    struct meta_robot *list = mem_calloc(META_LIST_MAX, sizeof(*list));
    struct meta_robot_perm perms[3];
    struct meta_robot_perm got[8];
    struct meta_robot r;
    struct meta_robot g;
    struct meta_list_q q;
    struct berr e;
    size_t n = 0;
    int64_t total = 0;
    int64_t p1 = 0;
    int64_t p2 = 0;
    int64_t sys = 0;
    int64_t pr = 0;
    unsigned act = 99;

    CHECK(list != NULL);
    CHECK_INT_EQ(meta_project_create(m, "p1", false, 0, -1, &p1, &e), 0);
    CHECK_INT_EQ(meta_project_create(m, "p2", false, 0, -1, &p2, &e), 0);
    memset(perms, 0, sizeof(perms));
    memcpy(perms[0].ns, "p1", 3);
    perms[0].actions = META_ACT_PULL | META_ACT_PUSH;
    memcpy(perms[1].ns, "*", 2);
    perms[1].actions = META_ACT_PULL;

    memset(&r, 0, sizeof(r));
    memcpy(r.name, "robot$ci", 9);
    memcpy(r.secret_hash, "pbkdf2-sha256$1000$c2FsdA==$aGFzaA==", 37);
    memcpy(r.description, "ci", 3);
    r.duration_days = -1;
    CHECK_INT_EQ(meta_robot_create(m, &r, perms, 2, &sys, &e), 0);
    CHECK(sys > 0);
    CHECK_INT_EQ(meta_robot_create(m, &r, perms, 2, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);

    memcpy(r.name, "robot$p1+deploy", 16);
    r.project_id = p1;
    r.expires_at = now_s() + 86400;
    r.duration_days = 1;
    memset(perms[1].ns, 0, sizeof(perms[1].ns));
    perms[0].actions = META_ACT_ALL;
    CHECK_INT_EQ(meta_robot_create(m, &r, perms, 1, &pr, &e), 0);
    r.project_id = 999;
    memcpy(r.name, "robot$x+y", 10);
    CHECK_INT_EQ(meta_robot_create(m, &r, perms, 1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    r.project_id = 0;
    CHECK_INT_EQ(meta_robot_create(m, &r, perms, 2, NULL, &e), -1); /* empty namespace */
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(meta_robot_create(m, &r, perms, META_ROBOT_PERMS_MAX + 1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);

    CHECK_INT_EQ(meta_robot_get(m, "robot$ci", &g, &e), 0);
    CHECK_INT_EQ(g.id, sys);
    CHECK_INT_EQ(g.project_id, 0);
    CHECK_INT_EQ(g.expires_at, 0);
    CHECK_INT_EQ(g.duration_days, -1);
    CHECK_STR_EQ(g.description, "ci");
    CHECK(!g.disabled);
    CHECK_INT_EQ(meta_robot_get(m, "robot$nope", &g, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_robot_get_by_id(m, pr, &g, &e), 0);
    CHECK_STR_EQ(g.name, "robot$p1+deploy");
    CHECK_INT_EQ(g.project_id, p1);

    /* actions: the '*' entry applies everywhere, OR-ed with the project's own */
    CHECK_INT_EQ(meta_robot_actions(m, sys, "p1", &act, &e), 0);
    CHECK_INT_EQ(act, META_ACT_PULL | META_ACT_PUSH);
    CHECK_INT_EQ(meta_robot_actions(m, sys, "p2", &act, &e), 0);
    CHECK_INT_EQ(act, META_ACT_PULL);
    CHECK_INT_EQ(meta_robot_actions(m, pr, "p2", &act, &e), 0);
    CHECK_INT_EQ(act, 0);
    CHECK_INT_EQ(meta_robot_actions(m, pr, "p1", &act, &e), 0);
    CHECK_INT_EQ(act, META_ACT_ALL);
    CHECK_INT_EQ(meta_robot_actions(m, 999, "p1", &act, &e), 0);
    CHECK_INT_EQ(act, 0);
    CHECK_INT_EQ(meta_robot_perms(m, sys, got, 8, &n, &e), 0);
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(got[0].ns, "*");
    CHECK_STR_EQ(got[1].ns, "p1");

    /* update: disable, replace permissions */
    g.disabled = true;
    memcpy(g.description, "off", 4);
    memcpy(perms[0].ns, "p2", 3);
    perms[0].actions = META_ACT_PULL;
    CHECK_INT_EQ(meta_robot_update(m, sys, &g, perms, 1, &e), 0);
    CHECK_INT_EQ(meta_robot_get_by_id(m, sys, &g, &e), 0);
    CHECK(g.disabled);
    CHECK_STR_EQ(g.description, "off");
    CHECK_INT_EQ(meta_robot_actions(m, sys, "p1", &act, &e), 0);
    CHECK_INT_EQ(act, 0);
    CHECK_INT_EQ(meta_robot_update(m, 999, &g, NULL, 0, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_robot_set_secret(m, sys, "pbkdf2-sha256$1000$bmV3$bmV3", &e), 0);
    CHECK_INT_EQ(meta_robot_get_by_id(m, sys, &g, &e), 0);
    CHECK_STR_EQ(g.secret_hash, "pbkdf2-sha256$1000$bmV3$bmV3");
    CHECK_INT_EQ(meta_robot_set_secret(m, 999, "x$y", &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);

    /* lists */
    memset(&q, 0, sizeof(q));
    q.limit = 10;
    CHECK_INT_EQ(meta_robot_list(m, &q, 0, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    CHECK_INT_EQ(meta_robot_list(m, &q, p1, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_STR_EQ(list[0].name, "robot$p1+deploy");
    CHECK_INT_EQ(meta_robot_list(m, &q, -1, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_STR_EQ(list[0].name, "robot$ci");
    q.name = "deploy";
    q.fuzzy = true;
    CHECK_INT_EQ(meta_robot_list(m, &q, 0, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.sort = "secret";
    CHECK_INT_EQ(meta_robot_list(m, &q, 0, list, META_LIST_MAX, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);

    /* deleting p2 drops the system robot's grant on it; deleting p1 its project robot */
    CHECK_INT_EQ(meta_project_delete(m, p2, &e), 0);
    CHECK_INT_EQ(meta_robot_perms(m, sys, got, 8, &n, &e), 0);
    CHECK_INT_EQ(n, 0);
    CHECK_INT_EQ(meta_project_delete(m, p1, &e), 0);
    CHECK_INT_EQ(meta_robot_get_by_id(m, pr, &g, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_robot_delete(m, sys, &e), 0);
    CHECK_INT_EQ(meta_robot_delete(m, sys, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    mem_free(list);
    meta_close(m);
}

/* every allocation failure during a write leaves the database as it was */
static void test_alloc_failures(void)
{
    struct meta *m = test_meta_open_public(tmpdir);
    struct meta_robot_perm perm;
    struct meta_robot r;
    struct meta_robot g;
    struct berr e;
    int64_t p = 0;
    long i;
    int rc;
    int ok_at = -1;

    CHECK_INT_EQ(meta_project_create(m, "p", false, 0, -1, &p, &e), 0);
    memset(&perm, 0, sizeof(perm));
    memcpy(perm.ns, "p", 2);
    perm.actions = META_ACT_PULL;
    memset(&r, 0, sizeof(r));
    memcpy(r.name, "robot$p+oom", 12);
    memcpy(r.secret_hash, "pbkdf2-sha256$1000$c2FsdA==$aGFzaA==", 37);
    r.project_id = p;
    for (i = 0; i < 5000; i++) {
        mem_fail_after(i);
        rc = meta_robot_create(m, &r, &perm, 1, NULL, &e);
        mem_fail_after(-1);
        if (rc == 0) {
            ok_at = (int)i;
            break;
        }
        CHECK_INT_EQ(meta_robot_get(m, "robot$p+oom", &g, &e), -1);
    }
    CHECK(ok_at >= 0);
    CHECK_INT_EQ(meta_robot_get(m, "robot$p+oom", &g, &e), 0);
    meta_close(m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "robot-test");
    TEST_RUN(test_robots);
    TEST_RUN(test_alloc_failures);
    test_rm_rf(tmpdir); /* the databases with their -wal and -shm files */
    return test_summary();
}
