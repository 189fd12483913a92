/* throttle_test.c - back-off timing with a driven clock: the limit, the first block of
 * THROTTLE_BASE_MS, doubling, the cap, release by time and by success, forgetting after
 * THROTTLE_FORGET_MS, independence of users and addresses, blocked pairs surviving a flood of
 * other pairs, and allocation failure in throttle_new. */
#include "auth/throttle.h"

#include <stdio.h>

#include "common/mem.h"
#include "common/test.h"

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

int main(void)
{
    TEST_RUN(test_limit_and_doubling);
    TEST_RUN(test_cap_and_forget);
    TEST_RUN(test_limit_zero);
    TEST_RUN(test_flood_keeps_blocked);
    TEST_RUN(test_alloc_failure);
    return test_summary();
}
