/* worker.c - a periodic worker thread: run fn every interval, early on request, once more at
 * stop when asked, then join.
 *
 * Invariants:
 *   1. `mu` guards stop, wake and runs; fn always runs with `mu` released, so worker_wake and
 *      worker_stop never wait on a pass (only worker_stop's join does).
 *   2. The deadline is taken on CLOCK_MONOTONIC (the condition variable is created with that
 *      clock), so setting the wall clock neither delays nor hurries a pass; a spurious wake-up
 *      before the deadline goes back to waiting.
 *   3. After worker_stop returns, fn is not running and will not run again.
 * Thread-safe: worker_wake from any thread; worker_start and worker_stop from one owner. */
#include "common/worker.h"

#include <string.h>
#include <time.h>

static struct timespec deadline_after(uint64_t ms)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail for CLOCK_MONOTONIC */
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static bool passed(const struct timespec *deadline)
{
    struct timespec now;

    (void)clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct timespec deadline;

    (void)pthread_mutex_lock(&w->mu);
    for (;;) {
        deadline = deadline_after(w->interval_ms);
        while (!w->stop && !w->wake && !passed(&deadline))
            (void)pthread_cond_timedwait(&w->cv, &w->mu, &deadline); /* timeout: loop checks */
        if (w->stop)
            break;
        w->wake = false;
        (void)pthread_mutex_unlock(&w->mu);
        w->fn(w->ctx);
        (void)pthread_mutex_lock(&w->mu);
        w->runs++;
    }
    (void)pthread_mutex_unlock(&w->mu);
    if (w->flags & WORKER_FINAL_PASS) {
        w->fn(w->ctx);
        (void)pthread_mutex_lock(&w->mu);
        w->runs++;
        (void)pthread_mutex_unlock(&w->mu);
    }
    return NULL;
}

int worker_start(struct worker *w, uint64_t interval_ms, unsigned flags, worker_fn fn, void *ctx,
                 struct berr *err)
{
    pthread_condattr_t ca;

    if (w->started)
        return berr_set(err, BERR_INTERNAL, "worker: already started");
    memset(w, 0, sizeof(*w));
    w->fn = fn;
    w->ctx = ctx;
    w->interval_ms = interval_ms > 0 ? interval_ms : 1;
    w->flags = flags;
    if (pthread_mutex_init(&w->mu, NULL) != 0)
        return berr_set(err, BERR_INTERNAL, "worker: cannot create a mutex");
    if (pthread_condattr_init(&ca) != 0)
        goto fail_mu;
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&w->cv, &ca) != 0) {
        (void)pthread_condattr_destroy(&ca);
        goto fail_mu;
    }
    (void)pthread_condattr_destroy(&ca); /* the condition variable keeps its own copy */
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        (void)pthread_cond_destroy(&w->cv);
        (void)pthread_mutex_destroy(&w->mu);
        return berr_set(err, BERR_INTERNAL, "worker: cannot start a thread");
    }
    w->started = true;
    return 0;
fail_mu:
    (void)pthread_mutex_destroy(&w->mu);
    return berr_set(err, BERR_INTERNAL, "worker: cannot create a condition variable");
}

void worker_wake(struct worker *w)
{
    if (!w->started)
        return;
    (void)pthread_mutex_lock(&w->mu);
    w->wake = true;
    (void)pthread_cond_signal(&w->cv);
    (void)pthread_mutex_unlock(&w->mu);
}

void worker_stop(struct worker *w)
{
    if (!w->started)
        return;
    (void)pthread_mutex_lock(&w->mu);
    w->stop = true;
    (void)pthread_cond_signal(&w->cv);
    (void)pthread_mutex_unlock(&w->mu);
    (void)pthread_join(w->thread, NULL); /* the thread exits once it sees stop */
    (void)pthread_cond_destroy(&w->cv);
    (void)pthread_mutex_destroy(&w->mu);
    w->started = false;
}

uint64_t worker_runs(struct worker *w)
{
    uint64_t n;

    if (!w->started)
        return w->runs;
    (void)pthread_mutex_lock(&w->mu);
    n = w->runs;
    (void)pthread_mutex_unlock(&w->mu);
    return n;
}
