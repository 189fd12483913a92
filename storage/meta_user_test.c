/* meta_user_test.c - unit tests for users (meta.h, meta_user.c): create, the fetches by name and
 * by id (one row reader), the one password setter, profile updates, sysadmin, lists (no hashes)
 * and delete, each on a fresh temporary database (storage/test_meta.h). */
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

static void test_user_create_get_password(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    struct meta_user u;
    struct berr e;
    int64_t id = 0;
    int64_t id2 = 0;

    CHECK_INT_EQ(meta_user_create(m, "admin", "pbkdf2$1$salt$hash", true, &id, &e), 0);
    CHECK(id > 0);
    CHECK_INT_EQ(meta_user_create(m, "bob", "pbkdf2$1$s2$h2", false, &id2, &e), 0);
    CHECK(id2 > id);
    CHECK_INT_EQ(meta_user_create(m, "admin", "x", false, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_user_create(m, "", "x", false, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);

    CHECK_INT_EQ(meta_user_get(m, "admin", &u, &e), 0);
    CHECK_INT_EQ(u.id, id);
    CHECK_STR_EQ(u.name, "admin");
    CHECK_STR_EQ(u.pw_hash, "pbkdf2$1$salt$hash");
    CHECK(u.sysadmin);
    CHECK(u.created_at > 0);
    CHECK_INT_EQ(meta_user_get(m, "bob", &u, &e), 0);
    CHECK(!u.sysadmin);

    CHECK_INT_EQ(meta_user_set_password(m, id2, "pbkdf2$1$s3$h3", &e), 0);
    CHECK_INT_EQ(meta_user_get(m, "bob", &u, &e), 0);
    CHECK_STR_EQ(u.pw_hash, "pbkdf2$1$s3$h3");
    CHECK_INT_EQ(meta_user_set_password(m, id2 + 100, "x", &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_user_get(m, "carol", &u, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(u.id, 0);
    meta_close(m);
}

static void test_user_profiles_lists(void)
{
    struct meta *m = test_meta_open_public(tmpdir);
    struct meta_user_info *list = mem_calloc(META_LIST_MAX, sizeof(*list));
    struct meta_user_info info;
    struct meta_user u;
    struct meta_list_q q;
    struct berr e;
    size_t n = 0;
    int64_t total = 0;
    int64_t alice = test_mkuser(m, "alice", false);
    int64_t bob = test_mkuser(m, "bob", false);
    int64_t carol = test_mkuser(m, "carol", true);

    CHECK(list != NULL);
    CHECK_INT_EQ(meta_user_get_by_id(m, bob, &u, &e), 0);
    CHECK_STR_EQ(u.name, "bob");
    CHECK(u.pw_hash[0] != '\0');
    CHECK_INT_EQ(meta_user_get_by_id(m, 999, &u, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_STR_EQ(u.name, "");

    CHECK_INT_EQ(meta_user_update(m, alice, "a@example.com", "Alice A", NULL, &e), 0);
    CHECK_INT_EQ(meta_user_update(m, alice, NULL, NULL, "hi", &e), 0);
    CHECK_INT_EQ(meta_user_info_get(m, alice, &info, &e), 0);
    CHECK_STR_EQ(info.email, "a@example.com");
    CHECK_STR_EQ(info.realname, "Alice A");
    CHECK_STR_EQ(info.comment, "hi");
    CHECK_INT_EQ(meta_user_update(m, 999, "x", NULL, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    {
        char longtext[META_TEXT_MAX + 2];

        memset(longtext, 'x', sizeof(longtext) - 1);
        longtext[sizeof(longtext) - 1] = '\0';
        CHECK_INT_EQ(meta_user_update(m, alice, longtext, NULL, NULL, &e), -1);
        CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    }

    CHECK_INT_EQ(meta_user_set_sysadmin(m, alice, true, &e), 0);
    CHECK_INT_EQ(meta_user_get_by_id(m, alice, &u, &e), 0);
    CHECK(u.sysadmin);
    CHECK_INT_EQ(meta_user_set_password(m, bob, "pbkdf2-sha256$1000$bmV3$bmV3", &e), 0);
    CHECK_INT_EQ(meta_user_get(m, "bob", &u, &e), 0);
    CHECK_STR_EQ(u.pw_hash, "pbkdf2-sha256$1000$bmV3$bmV3");
    CHECK_INT_EQ(meta_user_set_password(m, 999, "x$y", &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);

    /* list: all, exact, fuzzy, sort, paging; hashes never listed */
    memset(&q, 0, sizeof(q));
    q.limit = 10;
    CHECK_INT_EQ(meta_user_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 3);
    CHECK_INT_EQ(n, 3);
    CHECK_INT_EQ(list[0].u.id, alice);
    CHECK_STR_EQ(list[0].u.pw_hash, "");
    q.name = "o";
    q.fuzzy = true;
    CHECK_INT_EQ(meta_user_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2); /* bob, carol */
    q.fuzzy = false;
    CHECK_INT_EQ(meta_user_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 0);
    q.name = "carol";
    CHECK_INT_EQ(meta_user_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(list[0].u.id, carol);
    q.name = NULL;
    q.sort = "-username";
    q.limit = 2;
    q.offset = 1;
    CHECK_INT_EQ(meta_user_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 3);
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(list[0].u.name, "bob");
    CHECK_STR_EQ(list[1].u.name, "alice");
    q.sort = "password";
    CHECK_INT_EQ(meta_user_list(m, &q, list, META_LIST_MAX, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    q.sort = NULL;
    q.offset = -1;
    CHECK_INT_EQ(meta_user_list(m, &q, list, META_LIST_MAX, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);

    CHECK_INT_EQ(meta_user_delete(m, bob, &e), 0);
    CHECK_INT_EQ(meta_user_delete(m, bob, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_user_get(m, "bob", &u, &e), -1);
    mem_free(list);
    meta_close(m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "user-test");
    TEST_RUN(test_user_create_get_password);
    TEST_RUN(test_user_profiles_lists);
    test_rm_rf(tmpdir); /* the databases with their -wal and -shm files */
    return test_summary();
}
