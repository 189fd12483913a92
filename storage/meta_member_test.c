/* meta_member_test.c - unit tests for project members (meta.h, meta_member.c): add, role, get,
 * set role, delete, lists, and members addressed through the wrong project, on a fresh temporary
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

static void test_members(void)
{
    struct meta *m = test_meta_open_public(tmpdir);
    struct meta_member *list = mem_calloc(META_LIST_MAX, sizeof(*list));
    struct meta_member mb;
    struct meta_list_q q;
    struct berr e;
    size_t n = 0;
    int64_t total = 0;
    int64_t alice = test_mkuser(m, "alice", false);
    int64_t bob = test_mkuser(m, "bob", false);
    int64_t carl = test_mkuser(m, "carl", false);
    int64_t proj = 0;
    int64_t other = 0;
    int64_t mid = 0;
    int role = 0;

    CHECK(list != NULL);
    CHECK_INT_EQ(meta_project_create(m, "p1", false, alice, -1, &proj, &e), 0);
    CHECK_INT_EQ(meta_project_create(m, "p2", false, 0, -1, &other, &e), 0);
    CHECK_INT_EQ(meta_member_add(m, proj, bob, ROLE_DEVELOPER, &mid, &e), 0);
    CHECK(mid > 0);
    CHECK_INT_EQ(meta_member_add(m, proj, bob, ROLE_GUEST, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_member_add(m, proj, carl, 6, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(meta_member_add(m, proj, carl, 0, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(meta_member_add(m, proj, 999, ROLE_GUEST, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_member_add(m, 999, carl, ROLE_GUEST, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_member_add(m, proj, carl, ROLE_LIMITED_GUEST, NULL, &e), 0);

    CHECK_INT_EQ(meta_member_get(m, proj, mid, &mb, &e), 0);
    CHECK_STR_EQ(mb.user_name, "bob");
    CHECK_INT_EQ(mb.role, ROLE_DEVELOPER);
    CHECK_INT_EQ(mb.user_id, bob);
    /* a member id is only valid within its project */
    CHECK_INT_EQ(meta_member_get(m, other, mid, &mb, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_member_set_role(m, other, mid, ROLE_GUEST, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_member_delete(m, other, mid, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);

    CHECK_INT_EQ(meta_member_set_role(m, proj, mid, ROLE_MAINTAINER, &e), 0);
    CHECK_INT_EQ(meta_member_role(m, proj, bob, &role, &e), 0);
    CHECK_INT_EQ(role, ROLE_MAINTAINER);
    CHECK_INT_EQ(meta_member_set_role(m, proj, mid, 9, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);

    memset(&q, 0, sizeof(q));
    q.limit = 10;
    CHECK_INT_EQ(meta_member_list(m, proj, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 3);
    CHECK_STR_EQ(list[0].user_name, "alice");
    CHECK_INT_EQ(list[0].role, ROLE_PROJECT_ADMIN);
    q.name = "ca";
    q.fuzzy = true;
    CHECK_INT_EQ(meta_member_list(m, proj, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_STR_EQ(list[0].user_name, "carl");
    q.name = NULL;
    q.limit = 1;
    q.offset = 2;
    CHECK_INT_EQ(meta_member_list(m, proj, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(total, 3);

    CHECK_INT_EQ(meta_member_delete(m, proj, mid, &e), 0);
    CHECK_INT_EQ(meta_member_role(m, proj, bob, &role, &e), 0);
    CHECK_INT_EQ(role, 0);
    /* deleting a user drops its memberships */
    CHECK_INT_EQ(meta_user_delete(m, carl, &e), 0);
    q.offset = 0;
    q.limit = 10;
    CHECK_INT_EQ(meta_member_list(m, proj, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    mem_free(list);
    meta_close(m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "member-test");
    TEST_RUN(test_members);
    test_rm_rf(tmpdir); /* the databases with their -wal and -shm files */
    return test_summary();
}
