/* vgate_test.c - the password-check budget: slots are handed out up to the limit, a full gate
 * with no queue refuses at once with BERR_TOOMANYREQUESTS and Retry-After, a queued caller
 * waits at most wait_ms and gets a slot given back within that time, the queue is bounded,
 * the refused counter counts, and vgate_new fails cleanly when allocation fails. */
#include "auth/vgate.h"

#include <pthread.h>
#include <time.h>

#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"

static void test_slots_and_refusal(void)
{
    struct vgate *g = NULL;
    struct berr e = {0};
    unsigned retry = 99;

    CHECK_INT_EQ(vgate_new(&g, 2, 0, 100, &e), 0);
    CHECK_INT_EQ(vgate_enter(g, &retry, &e), 0);
    CHECK_INT_EQ(retry, 0);
    CHECK_INT_EQ(vgate_enter(g, &retry, &e), 0);
    CHECK_INT_EQ(vgate_enter(g, &retry, &e), -1); /* both slots taken, no queue */
    CHECK_INT_EQ(e.code, BERR_TOOMANYREQUESTS);
    CHECK_INT_EQ(retry, VGATE_RETRY_S);
    CHECK_INT_EQ(vgate_refused(g), 1);
    vgate_leave(g);
    CHECK_INT_EQ(vgate_enter(g, &retry, &e), 0); /* a slot given back is free again */
    CHECK_INT_EQ(retry, 0);
    vgate_leave(g);
    vgate_leave(g);
    CHECK_INT_EQ(vgate_refused(g), 1);
    vgate_free(g);
    vgate_free(NULL);
}

static void test_wait_times_out(void)
{
    struct vgate *g = NULL;
    struct berr e = {0};
    unsigned retry = 0;
    int64_t t0;

    CHECK_INT_EQ(vgate_new(&g, 1, 1, 80, &e), 0);
    CHECK_INT_EQ(vgate_enter(g, &retry, &e), 0);
    t0 = now_ms_mono();
    CHECK_INT_EQ(vgate_enter(g, &retry, &e), -1); /* queued, nobody leaves */
    CHECK(now_ms_mono() - t0 >= 75);
    CHECK(now_ms_mono() - t0 < 2000);
    CHECK_INT_EQ(e.code, BERR_TOOMANYREQUESTS);
    CHECK_INT_EQ(retry, VGATE_RETRY_S);
    vgate_leave(g);
    vgate_free(g);
}

struct holder {
    struct vgate *g;
    int entered;
};

static void *hold_then_leave(void *arg)
{
    struct holder *h = arg;
    struct timespec ts = {0, 50 * 1000000L};

    (void)nanosleep(&ts, NULL); /* the main thread queues meanwhile */
    vgate_leave(h->g);
    return NULL;
}

static void *queue_behind(void *arg)
{
    struct holder *h = arg;
    struct berr e;
    unsigned retry;

    h->entered = vgate_enter(h->g, &retry, &e) == 0;
    return NULL;
}

static void test_wait_gets_slot(void)
{
    struct vgate *g = NULL;
    struct berr e = {0};
    struct holder h;
    pthread_t th;
    unsigned retry = 0;

    CHECK_INT_EQ(vgate_new(&g, 1, 1, 5000, &e), 0);
    CHECK_INT_EQ(vgate_enter(g, &retry, &e), 0);
    h.g = g;
    h.entered = 0;
    CHECK_INT_EQ(pthread_create(&th, NULL, hold_then_leave, &h), 0);
    CHECK_INT_EQ(vgate_enter(g, &retry, &e), 0); /* the slot comes back after ~50 ms */
    CHECK_INT_EQ(pthread_join(th, NULL), 0);
    vgate_leave(g);
    CHECK_INT_EQ(vgate_refused(g), 0);
    vgate_free(g);
}

static void test_queue_bounded(void)
{
    struct vgate *g = NULL;
    struct berr e = {0};
    struct holder h;
    pthread_t th;
    unsigned retry = 0;
    int64_t t0;

    CHECK_INT_EQ(vgate_new(&g, 1, 1, 300, &e), 0);
    CHECK_INT_EQ(vgate_enter(g, &retry, &e), 0);
    h.g = g;
    h.entered = -1;
    CHECK_INT_EQ(pthread_create(&th, NULL, queue_behind, &h), 0); /* takes the one queue place */
    {
        struct timespec ts = {0, 50 * 1000000L};
        (void)nanosleep(&ts, NULL);
    }
    t0 = now_ms_mono();
    CHECK_INT_EQ(vgate_enter(g, &retry, &e), -1); /* queue full: refused without waiting */
    CHECK(now_ms_mono() - t0 < 200);
    CHECK_INT_EQ(e.code, BERR_TOOMANYREQUESTS);
    vgate_leave(g); /* the queued thread gets the slot */
    CHECK_INT_EQ(pthread_join(th, NULL), 0);
    CHECK_INT_EQ(h.entered, 1);
    vgate_leave(g);
    vgate_free(g);
}

static void test_alloc_failure(void)
{
    struct vgate *g = (struct vgate *)&g;
    struct berr e = {0};

    mem_fail_after(0);
    CHECK_INT_EQ(vgate_new(&g, 1, 0, 0, &e), -1);
    mem_fail_after(-1);
    CHECK(g == NULL);
    CHECK_INT_EQ(e.code, BERR_INTERNAL);
}

int main(void)
{
    TEST_RUN(test_slots_and_refusal);
    TEST_RUN(test_wait_times_out);
    TEST_RUN(test_wait_gets_slot);
    TEST_RUN(test_queue_bounded);
    TEST_RUN(test_alloc_failure);
    return test_summary();
}
