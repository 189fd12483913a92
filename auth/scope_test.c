/* scope_test.c - the scope grammar table (several scopes, a colon in the name, catalog, class,
 * empty, garbage), repeated scope= parameters and merging, limits, the action helpers, and
 * allocation failures in scope_parse and scope_list_add (clean error, list untouched, no leak). */
#include "auth/scope.h"

#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "common/test.h"

struct row {
    const char *in;
    int ok;
    size_t n;
    /* first entry, when n > 0 */
    const char *type, *rclass, *name;
    unsigned actions;
    const char *unknown;
};

static const struct row rows[] = {
        {"repository:library/alpine:pull", 1, 1, "repository", NULL, "library/alpine",
         SCOPE_ACT_PULL, NULL},
        {"repository:p/r:pull,push", 1, 1, "repository", NULL, "p/r",
         SCOPE_ACT_PULL | SCOPE_ACT_PUSH, NULL},
        {"repository:p/r:delete,pull,push", 1, 1, "repository", NULL, "p/r",
         SCOPE_ACT_PULL | SCOPE_ACT_PUSH | SCOPE_ACT_DELETE, NULL},
        {"repository:host:5000/p/r:pull", 1, 1, "repository", NULL, "host:5000/p/r", SCOPE_ACT_PULL,
         NULL},
        {"repository:a:b:c:push", 1, 1, "repository", NULL, "a:b:c", SCOPE_ACT_PUSH, NULL},
        {"registry:catalog:*", 1, 1, "registry", NULL, "catalog", SCOPE_ACT_STAR, NULL},
        {"repository(plugin):vieux/sshfs:pull", 1, 1, "repository", "plugin", "vieux/sshfs",
         SCOPE_ACT_PULL, NULL},
        {"repository:p/r:pull,scanner-pull,foo", 1, 1, "repository", NULL, "p/r", SCOPE_ACT_PULL,
         "scanner-pull,foo"},
        {"repository:p/r:foo,foo,pull,foo", 1, 1, "repository", NULL, "p/r", SCOPE_ACT_PULL, "foo"},
        {"repository:p/r:", 1, 1, "repository", NULL, "p/r", 0, NULL},
        {"repository:p/r:pull,,push,", 1, 1, "repository", NULL, "p/r",
         SCOPE_ACT_PULL | SCOPE_ACT_PUSH, NULL},
        {"repository:p/r:pull repository:q/s:push", 1, 2, "repository", NULL, "p/r", SCOPE_ACT_PULL,
         NULL},
        {"  repository:p/r:pull   registry:catalog:*  ", 1, 2, "repository", NULL, "p/r",
         SCOPE_ACT_PULL, NULL},
        {"repository:p/r:pull repository:p/r:push", 1, 1, "repository", NULL, "p/r",
         SCOPE_ACT_PULL | SCOPE_ACT_PUSH, NULL},
        {"", 1, 0, NULL, NULL, NULL, 0, NULL},
        {"    ", 1, 0, NULL, NULL, NULL, 0, NULL},
        /* garbage */
        {"repository", 0, 0, NULL, NULL, NULL, 0, NULL},
        {"repository:p/r", 0, 0, NULL, NULL, NULL, 0, NULL},
        {":p/r:pull", 0, 0, NULL, NULL, NULL, 0, NULL},
        {"repository::pull", 0, 0, NULL, NULL, NULL, 0, NULL},
        {"Repository:p/r:pull", 0, 0, NULL, NULL, NULL, 0, NULL},
        {"repo-sitory:p/r:pull", 0, 0, NULL, NULL, NULL, 0, NULL},
        {"repository():p/r:pull", 0, 0, NULL, NULL, NULL, 0, NULL},
        {"repository(x:p/r:pull", 0, 0, NULL, NULL, NULL, 0, NULL},
        {"repository(x)y:p/r:pull", 0, 0, NULL, NULL, NULL, 0, NULL},
        {"repository(X):p/r:pull", 0, 0, NULL, NULL, NULL, 0, NULL},
        {"repository:p/r:PULL", 0, 0, NULL, NULL, NULL, 0, NULL},
        {"repository:p/r:pu ll", 0, 0, NULL, NULL, NULL, 0, NULL},
        {"repository:p\tr:pull", 0, 0, NULL, NULL, NULL, 0, NULL},
        {"repository:p\x7fr:pull", 0, 0, NULL, NULL, NULL, 0, NULL},
        {"repository:p\xc3\xa9:pull", 0, 0, NULL, NULL, NULL, 0, NULL},
        {"repository:p/r:pull repository:q:", 1, 2, "repository", NULL, "p/r", SCOPE_ACT_PULL,
         NULL},
        {"repository:p/r:pull garbage", 0, 0, NULL, NULL, NULL, 0, NULL},
        {"repository:p/r:pull;rm", 0, 0, NULL, NULL, NULL, 0, NULL},
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        struct scope_list l;
        struct berr err;
        int rc;

        berr_clear(&err);
        rc = scope_parse(&l, r->in, &err);
        if ((rc == 0) != r->ok)
            fprintf(stderr, "row %zu: \"%s\" rc %d (%s)\n", i, r->in, rc, err.msg);
        CHECK_INT_EQ(rc == 0, r->ok);
        if (!r->ok) {
            CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);
            CHECK(strncmp(err.msg, "invalid scope", 13) == 0);
            CHECK_INT_EQ(l.n, 0);
            CHECK(l.items == NULL);
            continue;
        }
        CHECK_INT_EQ(l.n, r->n);
        if (r->n > 0 && l.n > 0) {
            CHECK_STR_EQ(l.items[0].type, r->type);
            if (r->rclass == NULL)
                CHECK(l.items[0].rclass == NULL);
            else
                CHECK_STR_EQ(l.items[0].rclass, r->rclass);
            CHECK_STR_EQ(l.items[0].name, r->name);
            CHECK_INT_EQ(l.items[0].actions, r->actions);
            if (r->unknown == NULL)
                CHECK(l.items[0].unknown == NULL);
            else
                CHECK_STR_EQ(l.items[0].unknown, r->unknown);
        }
        scope_list_cleanup(&l);
        CHECK_INT_EQ(l.n, 0);
    }
}

static void test_second_entry(void)
{
    struct scope_list l;
    struct berr err;

    CHECK_INT_EQ(scope_parse(&l, "repository:p/r:pull registry:catalog:*", &err), 0);
    CHECK_INT_EQ(l.n, 2);
    if (l.n == 2) {
        CHECK_STR_EQ(l.items[1].type, "registry");
        CHECK_STR_EQ(l.items[1].name, "catalog");
        CHECK_INT_EQ(l.items[1].actions, SCOPE_ACT_STAR);
    }
    scope_list_cleanup(&l);
    /* a class makes a different key */
    CHECK_INT_EQ(scope_parse(&l, "repository:p/r:pull repository(plugin):p/r:push", &err), 0);
    CHECK_INT_EQ(l.n, 2);
    scope_list_cleanup(&l);
}

static void test_repeated(void)
{
    struct scope_list l;
    struct berr err;

    CHECK_INT_EQ(scope_parse(&l, "repository:p/r:pull", &err), 0);
    CHECK_INT_EQ(scope_list_add(&l, "repository:p/r:push,foo repository:q/s:pull", &err), 0);
    CHECK_INT_EQ(scope_list_add(&l, "repository:p/r:delete,bar,foo", &err), 0);
    CHECK_INT_EQ(l.n, 2);
    if (l.n == 2) {
        CHECK_STR_EQ(l.items[0].name, "p/r");
        CHECK_INT_EQ(l.items[0].actions, SCOPE_ACT_PULL | SCOPE_ACT_PUSH | SCOPE_ACT_DELETE);
        CHECK_STR_EQ(l.items[0].unknown, "foo,bar");
        CHECK_STR_EQ(l.items[1].name, "q/s");
        CHECK_INT_EQ(l.items[1].actions, SCOPE_ACT_PULL);
    }
    /* a bad parameter leaves the list as it was, even when its first scope was good */
    CHECK_INT_EQ(scope_list_add(&l, "repository:z:pull repository:p/r:*  bad", &err), -1);
    CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(l.n, 2);
    if (l.n == 2)
        CHECK_INT_EQ(l.items[0].actions, SCOPE_ACT_PULL | SCOPE_ACT_PUSH | SCOPE_ACT_DELETE);
    scope_list_cleanup(&l);
    /* adding to an empty list works too */
    scope_list_init(&l);
    CHECK_INT_EQ(scope_list_add(&l, "registry:catalog:*", &err), 0);
    CHECK_INT_EQ(l.n, 1);
    scope_list_cleanup(&l);
}

static void test_limits(void)
{
    char big[SCOPE_MAX_LEN + 16];
    char name[SCOPE_NAME_MAX + 64];
    struct scope_list l;
    struct berr err;
    size_t len = 0;
    int i, n;

    /* SCOPE_MAX_COUNT distinct entries pass, one more fails */
    for (i = 0; i < SCOPE_MAX_COUNT; i++) {
        n = snprintf(big + len, sizeof(big) - len, "repository:p/r%d:pull ", i);
        CHECK(n > 0 && (size_t)n < sizeof(big) - len);
        len += (size_t)n;
    }
    CHECK_INT_EQ(scope_parse(&l, big, &err), 0);
    CHECK_INT_EQ(l.n, SCOPE_MAX_COUNT);
    CHECK_INT_EQ(scope_list_add(&l, "repository:p/r0:push", &err), 0); /* merges: no new entry */
    CHECK_INT_EQ(scope_list_add(&l, "repository:one/more:pull", &err), -1);
    CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(l.n, SCOPE_MAX_COUNT);
    scope_list_cleanup(&l);
    n = snprintf(big + len, sizeof(big) - len, "repository:x:pull");
    CHECK(n > 0);
    CHECK_INT_EQ(scope_parse(&l, big, &err), -1);

    /* length cap */
    memset(big, ' ', sizeof(big));
    big[SCOPE_MAX_LEN] = '\0';
    CHECK_INT_EQ(scope_parse(&l, big, &err), 0);
    big[SCOPE_MAX_LEN] = ' ';
    big[SCOPE_MAX_LEN + 1] = '\0';
    CHECK_INT_EQ(scope_parse(&l, big, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);

    /* name cap: exactly SCOPE_NAME_MAX passes */
    memcpy(name, "repository:", 11);
    memset(name + 11, 'a', SCOPE_NAME_MAX);
    memcpy(name + 11 + SCOPE_NAME_MAX, ":pull", 6);
    CHECK_INT_EQ(scope_parse(&l, name, &err), 0);
    scope_list_cleanup(&l);
    memset(name + 11, 'a', SCOPE_NAME_MAX + 1);
    memcpy(name + 11 + SCOPE_NAME_MAX + 1, ":pull", 6);
    CHECK_INT_EQ(scope_parse(&l, name, &err), -1);

    /* action word cap */
    CHECK_INT_EQ(scope_parse(&l, "repository:p:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &err), 0);
    scope_list_cleanup(&l);
    CHECK_INT_EQ(scope_parse(&l, "repository:p:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &err), -1);
}

static void test_actions(void)
{
    CHECK_INT_EQ(scope_action_bit("pull", 4), SCOPE_ACT_PULL);
    CHECK_INT_EQ(scope_action_bit("push", 4), SCOPE_ACT_PUSH);
    CHECK_INT_EQ(scope_action_bit("delete", 6), SCOPE_ACT_DELETE);
    CHECK_INT_EQ(scope_action_bit("*", 1), SCOPE_ACT_STAR);
    CHECK_INT_EQ(scope_action_bit("pul", 3), 0);
    CHECK_INT_EQ(scope_action_bit("pulls", 5), 0);
    CHECK_STR_EQ(scope_action_name(SCOPE_ACT_DELETE), "delete");
    CHECK_STR_EQ(scope_action_name(SCOPE_ACT_STAR), "*");
    CHECK(scope_action_name(SCOPE_ACT_PULL | SCOPE_ACT_PUSH) == NULL);
    CHECK(scope_action_name(0) == NULL);
    CHECK(scope_allows(SCOPE_ACT_PULL, SCOPE_ACT_PULL));
    CHECK(!scope_allows(SCOPE_ACT_PULL, SCOPE_ACT_PUSH));
    CHECK(scope_allows(SCOPE_ACT_STAR, SCOPE_ACT_DELETE));
    CHECK(scope_allows(SCOPE_ACT_PULL | SCOPE_ACT_PUSH, SCOPE_ACT_PULL | SCOPE_ACT_PUSH));
    CHECK(!scope_allows(SCOPE_ACT_PULL, SCOPE_ACT_PULL | SCOPE_ACT_PUSH));
    CHECK(!scope_allows(0, SCOPE_ACT_PULL));
    CHECK(!scope_allows(SCOPE_ACT_STAR, 0));
    CHECK(!scope_allows(SCOPE_ACT_STAR, 16));
}

static void test_alloc_failures(void)
{
    const char *in_ok = "repository(plugin):p/r:pull,foo repository:q:5000/s:push,bar,baz "
                        "registry:catalog:* repository(plugin):p/r:delete,qux";
    struct scope_list l;
    struct berr err;
    long i;
    int rc, ok_seen = 0;

    for (i = 0; i < 200 && !ok_seen; i++) {
        mem_fail_after(i);
        rc = scope_parse(&l, in_ok, &err);
        mem_fail_after(-1);
        if (rc == 0) {
            CHECK_INT_EQ(l.n, 3);
            if (l.n == 3)
                CHECK_STR_EQ(l.items[0].unknown, "foo,qux");
            scope_list_cleanup(&l);
            ok_seen = 1;
        } else {
            CHECK_INT_EQ(err.code, BERR_INTERNAL);
            CHECK_INT_EQ(l.n, 0);
            CHECK(l.items == NULL);
        }
    }
    CHECK(ok_seen);
    CHECK(i > 5); /* it did fail a few times first */

    /* scope_list_add under failure: the list is untouched */
    CHECK_INT_EQ(scope_parse(&l, "repository:p/r:pull,foo repository:z:pull", &err), 0);
    ok_seen = 0;
    for (i = 0; i < 200 && !ok_seen; i++) {
        mem_fail_after(i);
        rc = scope_list_add(&l, "repository:p/r:push,bar repository:n:pull", &err);
        mem_fail_after(-1);
        if (rc == 0) {
            ok_seen = 1;
            CHECK_INT_EQ(l.n, 3);
            if (l.n == 3) {
                CHECK_INT_EQ(l.items[0].actions, SCOPE_ACT_PULL | SCOPE_ACT_PUSH);
                CHECK_STR_EQ(l.items[0].unknown, "foo,bar");
            }
        } else {
            CHECK_INT_EQ(err.code, BERR_INTERNAL);
            CHECK_INT_EQ(l.n, 2);
            if (l.n == 2) {
                CHECK_INT_EQ(l.items[0].actions, SCOPE_ACT_PULL);
                CHECK_STR_EQ(l.items[0].unknown, "foo");
            }
        }
    }
    CHECK(ok_seen);
    scope_list_cleanup(&l);
}

int main(void)
{
    TEST_RUN(test_table);
    TEST_RUN(test_second_entry);
    TEST_RUN(test_repeated);
    TEST_RUN(test_limits);
    TEST_RUN(test_actions);
    TEST_RUN(test_alloc_failures);
    return test_summary();
}
