/* throttle_test.c - back-off timing with a driven clock: the limit, the first block of
 * THROTTLE_BASE_MS, doubling, the cap, release by time and by success, forgetting after
 * THROTTLE_FORGET_MS, independence of users and addresses, blocked pairs surviving a flood of
 * other pairs, and allocation failure in throttle_new. Shared mode: two replicas (two throttles
 * over two handles of one database) add their failures up, a block on one is a block on the
 * other, a success on one releases both, a later replica finds the same salt, and the store
 * holds no user name or address. */
#include "auth/throttle.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"
#include "storage/meta.h"
#include "storage/test_meta.h"

static char tmpdir[64];

static int blocked(struct throttle *t, const char *u, const char *a, int64_t now, unsigned *retry)
{
    struct berr e = {0};
    int rc = throttle_check(t, u, a, now, retry, &e);

    if (rc < 0)
        CHECK_INT_EQ(e.code, BERR_TOOMANYREQUESTS);
    return rc < 0;
}

static void test_limit_and_doubling(void)
{
    struct throttle *t = NULL;
    struct berr e;
    unsigned retry = 99;
    int64_t now = 1000000;

    CHECK_INT_EQ(throttle_new(&t, 3, &e), 0);
    CHECK(!blocked(t, "alice", "10.0.0.1", now, &retry));
    CHECK_INT_EQ(retry, 0);
    throttle_fail(t, "alice", "10.0.0.1", now);
    throttle_fail(t, "alice", "10.0.0.1", now);
    CHECK(!blocked(t, "alice", "10.0.0.1", now, &retry)); /* 2 < limit */
    throttle_fail(t, "alice", "10.0.0.1", now);           /* 3rd: 1 s */
    CHECK(blocked(t, "alice", "10.0.0.1", now, &retry));
    CHECK_INT_EQ(retry, 1);
    CHECK(blocked(t, "alice", "10.0.0.1", now + 999, &retry));
    CHECK_INT_EQ(retry, 1);
    CHECK(!blocked(t, "alice", "10.0.0.1", now + 1000, &retry));
    /* other users and other addresses are not affected */
    CHECK(!blocked(t, "bob", "10.0.0.1", now, &retry));
    CHECK(!blocked(t, "alice", "10.0.0.2", now, &retry));
    CHECK(!blocked(t, "alice", "", now, &retry));
    /* every further failure doubles the back-off */
    now += 1000;
    throttle_fail(t, "alice", "10.0.0.1", now); /* 4th: 2 s */
    CHECK(blocked(t, "alice", "10.0.0.1", now + 1999, &retry));
    CHECK_INT_EQ(retry, 1);
    CHECK(blocked(t, "alice", "10.0.0.1", now, &retry));
    CHECK_INT_EQ(retry, 2);
    CHECK(!blocked(t, "alice", "10.0.0.1", now + 2000, &retry));
    now += 2000;
    throttle_fail(t, "alice", "10.0.0.1", now); /* 5th: 4 s */
    CHECK(blocked(t, "alice", "10.0.0.1", now, &retry));
    CHECK_INT_EQ(retry, 4);
    /* success releases at once and starts the count over */
    throttle_success(t, "alice", "10.0.0.1");
    CHECK(!blocked(t, "alice", "10.0.0.1", now, &retry));
    throttle_fail(t, "alice", "10.0.0.1", now);
    throttle_fail(t, "alice", "10.0.0.1", now);
    CHECK(!blocked(t, "alice", "10.0.0.1", now, &retry));
    throttle_free(t);
}

static void test_cap_and_forget(void)
{
    struct throttle *t = NULL;
    struct berr e;
    unsigned retry = 0;
    int64_t now = 5000;

    CHECK_INT_EQ(throttle_new(&t, 1, &e), 0);
    for (int i = 0; i < 40; i++) {
        throttle_fail(t, "mallory", "192.0.2.7", now);
        now += THROTTLE_FORGET_MS - 1000; /* close to, not past, forgetting */
    }
    now -= THROTTLE_FORGET_MS - 1000;
    CHECK(blocked(t, "mallory", "192.0.2.7", now, &retry));
    CHECK_INT_EQ(retry, THROTTLE_MAX_MS / 1000);
    /* after the block and THROTTLE_FORGET_MS without failures, the count starts over: the
     * next failure blocks for THROTTLE_BASE_MS again, not for the cap */
    now += THROTTLE_MAX_MS + THROTTLE_FORGET_MS;
    CHECK(!blocked(t, "mallory", "192.0.2.7", now, &retry));
    throttle_fail(t, "mallory", "192.0.2.7", now);
    CHECK(blocked(t, "mallory", "192.0.2.7", now, &retry));
    CHECK_INT_EQ(retry, THROTTLE_BASE_MS / 1000);
    throttle_free(t);
}

static void test_limit_zero(void)
{
    struct throttle *t = NULL;
    struct berr e;
    unsigned retry = 0;

    CHECK_INT_EQ(throttle_new(&t, 0, &e), 0); /* taken as 1 */
    throttle_fail(t, "u", "a", 10);
    CHECK(blocked(t, "u", "a", 10, &retry));
    throttle_free(t);
    throttle_free(NULL);
}

static void test_flood_keeps_blocked(void)
{
    struct throttle *t = NULL;
    struct berr e;
    unsigned retry = 0;
    char user[32];
    int64_t now = 1;

    CHECK_INT_EQ(throttle_new(&t, 2, &e), 0);
    throttle_fail(t, "victim", "198.51.100.1", now);
    throttle_fail(t, "victim", "198.51.100.1", now);
    CHECK(blocked(t, "victim", "198.51.100.1", now, &retry));
    /* 50000 other pairs fail once each (none blocked): the blocked pair is never evicted */
    for (int i = 0; i < 50000; i++) {
        (void)snprintf(user, sizeof(user), "spray%d", i);
        throttle_fail(t, user, "203.0.113.9", now);
    }
    CHECK(blocked(t, "victim", "198.51.100.1", now + 500, &retry));
    throttle_free(t);
}

static void test_alloc_failure(void)
{
    struct throttle *t = (struct throttle *)&t; /* must be reset to NULL */
    struct berr e = {0};

    mem_fail_after(0);
    CHECK_INT_EQ(throttle_new(&t, 3, &e), -1);
    mem_fail_after(-1);
    CHECK(t == NULL);
    CHECK_INT_EQ(e.code, BERR_INTERNAL);
}

struct seen {
    int n;
    int bad;
};

static int seen_fn(const char *key, const char *val, size_t len, int64_t version, int64_t expires,
                   void *ctx)
{
    struct seen *s = ctx;

    (void)val, (void)len, (void)version;
    s->n++;
    if (strlen(key) != 64 || strstr(key, "alice") != NULL || expires <= 0)
        s->bad++;
    return 0;
}

static void test_shared_replicas(void)
{
    char path[256];
    struct meta *m1 = test_meta_open_at(tmpdir, 2, path, sizeof(path));
    struct meta *m2 = NULL;
    struct throttle *a = NULL, *b = NULL, *c = NULL;
    struct seen sn = {0, 0};
    unsigned retry = 0;
    int64_t now = now_ms_wall();
    struct berr e;

    if (meta_open(&m2, path, 2, &e) < 0)
        abort();
    CHECK_INT_EQ(throttle_new_shared(&a, 5, m1, &e), 0);
    CHECK_INT_EQ(throttle_new_shared(&b, 5, m2, &e), 0);
    /* 5 failures split over the two replicas trip the limit on both */
    throttle_fail(a, "alice", "10.0.0.1", now);
    throttle_fail(b, "alice", "10.0.0.1", now);
    throttle_fail(a, "alice", "10.0.0.1", now);
    throttle_fail(b, "alice", "10.0.0.1", now);
    CHECK(!blocked(a, "alice", "10.0.0.1", now, &retry));
    CHECK(!blocked(b, "alice", "10.0.0.1", now, &retry));
    throttle_fail(a, "alice", "10.0.0.1", now);
    CHECK(blocked(a, "alice", "10.0.0.1", now, &retry));
    CHECK_INT_EQ(retry, 1);
    CHECK(blocked(b, "alice", "10.0.0.1", now, &retry));
    CHECK_INT_EQ(retry, 1);
    CHECK(!blocked(b, "alice", "10.0.0.1", now + 1000, &retry)); /* the back-off ran out */
    CHECK(!blocked(b, "bob", "10.0.0.1", now, &retry));
    CHECK(!blocked(b, "alice", "10.0.0.2", now, &retry));
    /* the sixth, on B, doubles the back-off seen by A */
    throttle_fail(b, "alice", "10.0.0.1", now + 1000);
    CHECK(blocked(a, "alice", "10.0.0.1", now + 1000, &retry));
    CHECK_INT_EQ(retry, 2);
    /* a replica started later computes the same keys */
    CHECK_INT_EQ(throttle_new_shared(&c, 5, m2, &e), 0);
    CHECK(blocked(c, "alice", "10.0.0.1", now + 1000, &retry));
    /* the store knows pairs by salted hash only, and every record ends */
    CHECK_INT_EQ(meta_state_list(m1, "throttle", seen_fn, &sn, &e), 0);
    CHECK_INT_EQ(meta_state_list(m1, "throttle_block", seen_fn, &sn, &e), 0);
    CHECK_INT_EQ(sn.n, 2);
    CHECK_INT_EQ(sn.bad, 0);
    /* a success on B releases A and starts the count over */
    throttle_success(b, "alice", "10.0.0.1");
    CHECK(!blocked(a, "alice", "10.0.0.1", now + 1000, &retry));
    throttle_fail(a, "alice", "10.0.0.1", now + 1000);
    CHECK(!blocked(c, "alice", "10.0.0.1", now + 1000, &retry));
    throttle_free(c);
    CHECK_INT_EQ(throttle_new_shared(&c, 5, NULL, &e), -1);
    CHECK(c == NULL);
    throttle_free(a);
    throttle_free(b);
    meta_close(m2);
    meta_close(m1);
}

/* the shared mode's hint: after a success a replica answers from memory for up to a second
 * (META_REPLICA_WINDOW_MS), so another replica's failures show here within that window, not at
 * once; a failure counted here drops the hint at once */
static void test_shared_hint(void)
{
    struct timespec window = {1, 100 * 1000 * 1000};
    char path[256];
    struct meta *m1 = test_meta_open_at(tmpdir, 2, path, sizeof(path));
    struct meta *m2 = NULL;
    struct throttle *a = NULL, *b = NULL;
    unsigned retry = 0;
    int64_t now = now_ms_wall();
    struct berr e;

    if (meta_open(&m2, path, 2, &e) < 0)
        abort();
    CHECK_INT_EQ(throttle_new_shared(&a, 3, m1, &e), 0);
    CHECK_INT_EQ(throttle_new_shared(&b, 3, m2, &e), 0);
    throttle_success(b, "carol", "10.0.0.9"); /* B saw the store clear: hint */
    for (int i = 0; i < 3; i++)
        throttle_fail(a, "carol", "10.0.0.9", now);
    CHECK(blocked(a, "carol", "10.0.0.9", now, &retry));
    CHECK(!blocked(b, "carol", "10.0.0.9", now, &retry)); /* inside B's window */
    (void)nanosleep(&window, NULL);
    CHECK(blocked(b, "carol", "10.0.0.9", now, &retry)); /* the window ran out */
    /* a success clears the store and B's hint comes back; B's own failure drops it at once */
    throttle_success(a, "carol", "10.0.0.9");
    throttle_success(b, "carol", "10.0.0.9");
    throttle_fail(a, "carol", "10.0.0.9", now);
    throttle_fail(a, "carol", "10.0.0.9", now);
    throttle_fail(b, "carol", "10.0.0.9", now);
    CHECK(blocked(b, "carol", "10.0.0.9", now, &retry));
    throttle_free(a);
    throttle_free(b);
    meta_close(m2);
    meta_close(m1);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "throttle-test");
    TEST_RUN(test_limit_and_doubling);
    TEST_RUN(test_cap_and_forget);
    TEST_RUN(test_limit_zero);
    TEST_RUN(test_flood_keeps_blocked);
    TEST_RUN(test_alloc_failure);
    TEST_RUN(test_shared_replicas);
    TEST_RUN(test_shared_hint);
    test_rm_rf(tmpdir);
    return test_summary();
}
