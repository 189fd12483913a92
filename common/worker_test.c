/* worker_test.c - the periodic worker: passes on the interval, early on a wake, a final pass
 * only when asked, prompt stop with a long interval, nothing after stop, restart. Waits poll
 * with a deadline; nothing depends on a bare sleep being long enough. */
#include "common/worker.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "common/test.h"
#include "common/util.h"

struct counter {
    _Atomic int calls;
    _Atomic int on_main; /* calls made on the thread that started the worker */
    pthread_t main;
};

static void count(void *ctx)
{
    struct counter *c = ctx;

    c->calls++;
    if (pthread_equal(pthread_self(), c->main))
        c->on_main++;
}

static void nap_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    (void)nanosleep(&ts, NULL); /* a short pause between polls */
}

/* wait_calls polls until c->calls >= want or ms pass; true when reached */
static bool wait_calls(struct counter *c, int want, long ms)
{
    int64_t end = now_ms_mono() + ms;

    while (c->calls < want) {
        if (now_ms_mono() > end)
            return false;
        nap_ms(2);
    }
    return true;
}

static void test_interval(void)
{
    struct worker w;
    struct counter c = {.main = pthread_self()};
    struct berr err = {0};

    memset(&w, 0, sizeof(w));
    CHECK_INT_EQ(worker_start(&w, 10, 0, count, &c, &err), 0);
    CHECK(wait_calls(&c, 3, 5000));
    worker_stop(&w);
    CHECK_INT_EQ(c.on_main, 0);
    CHECK_INT_EQ(worker_runs(&w), c.calls);
    {
        int after = c.calls;
        nap_ms(40);
        CHECK_INT_EQ(c.calls, after); /* nothing runs after stop */
    }
}

static void test_wake_and_prompt_stop(void)
{
    struct worker w;
    struct counter c = {.main = pthread_self()};
    struct berr err = {0};
    int64_t t0;

    memset(&w, 0, sizeof(w));
    CHECK_INT_EQ(worker_start(&w, 3600 * 1000, 0, count, &c, &err), 0);
    nap_ms(20);
    CHECK_INT_EQ(c.calls, 0); /* an hour is not up */
    worker_wake(&w);
    CHECK(wait_calls(&c, 1, 5000));
    worker_wake(&w);
    CHECK(wait_calls(&c, 2, 5000));
    t0 = now_ms_mono();
    worker_stop(&w);
    CHECK(now_ms_mono() - t0 < 2000); /* stop does not wait for the interval */
    CHECK_INT_EQ(c.calls, 2);         /* and no final pass unless asked */
    CHECK_INT_EQ(worker_runs(&w), 2);
}

static void test_final_pass(void)
{
    struct worker w;
    struct counter c = {.main = pthread_self()};
    struct berr err = {0};

    memset(&w, 0, sizeof(w));
    CHECK_INT_EQ(worker_start(&w, 3600 * 1000, WORKER_FINAL_PASS, count, &c, &err), 0);
    worker_stop(&w);
    CHECK_INT_EQ(c.calls, 1);
    CHECK_INT_EQ(c.on_main, 0); /* the final pass runs on the worker thread */
    CHECK_INT_EQ(worker_runs(&w), 1);

    /* restart the same struct */
    CHECK_INT_EQ(worker_start(&w, 3600 * 1000, WORKER_FINAL_PASS, count, &c, &err), 0);
    CHECK_INT_EQ(worker_start(&w, 10, 0, count, &c, &err), -1);
    CHECK_STR_EQ(err.msg, "worker: already started");
    worker_wake(&w);
    CHECK(wait_calls(&c, 2, 5000));
    worker_stop(&w);
    CHECK_INT_EQ(c.calls, 3);
    CHECK_INT_EQ(worker_runs(&w), 2);
}

static void test_idle_calls(void)
{
    struct worker w;
    struct counter c = {.main = pthread_self()};
    struct berr err = {0};

    memset(&w, 0, sizeof(w));
    worker_wake(&w); /* not started: no-ops */
    worker_stop(&w);
    worker_stop(&w);
    CHECK_INT_EQ(worker_runs(&w), 0);
    CHECK_INT_EQ(worker_start(&w, 0, 0, count, &c, &err), 0); /* 0 ms is taken as 1 */
    CHECK(wait_calls(&c, 5, 5000));
    worker_stop(&w);
    worker_stop(&w); /* twice is fine */
}

int main(void)
{
    TEST_RUN(test_interval);
    TEST_RUN(test_wake_and_prompt_stop);
    TEST_RUN(test_final_pass);
    TEST_RUN(test_idle_calls);
    return test_summary();
}
