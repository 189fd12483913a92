/* vgate.c - a counting semaphore with a bounded, time-limited queue for password checks (see
 * vgate.h).
 *
 * Invariants:
 *   1. running <= slots and waiting <= queue at every unlock.
 *   2. A caller that returns 0 from vgate_enter has counted itself in running exactly once, and
 *      vgate_leave uncounts it; a refused caller leaves both counters as it found them.
 *   3. No caller waits longer than wait_ms (CLOCK_MONOTONIC deadline), so a request thread is
 *      never held by the gate itself for more than that.
 * Thread-safety: `mu` guards running and waiting; `cv` is signalled on each leave; `refused` is
 * an atomic counter read without the lock. */
#include "auth/vgate.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "common/mem.h"

struct vgate {
    pthread_mutex_t mu; /* guards running, waiting */
    pthread_cond_t cv;  /* a slot was given back */
    unsigned slots, queue, wait_ms;
    unsigned running, waiting;
    _Atomic uint64_t refused;
};

int vgate_new(struct vgate **out, unsigned slots, unsigned queue, unsigned wait_ms,
              struct berr *err)
{
    pthread_condattr_t ca;
    struct vgate *g;
    int ok;

    *out = NULL;
    g = mem_calloc(1, sizeof(*g));
    if (g == NULL)
        return berr_sys(err, ENOMEM, "vgate: alloc");
    g->slots = slots > 0 ? slots : 1;
    g->queue = queue;
    g->wait_ms = wait_ms < VGATE_WAIT_MS_MAX ? wait_ms : VGATE_WAIT_MS_MAX;
    atomic_init(&g->refused, 0);
    if (pthread_condattr_init(&ca) != 0) {
        mem_free(g);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
         pthread_cond_init(&g->cv, &ca) == 0;
    (void)pthread_condattr_destroy(&ca); /* cv keeps its own copy */
    if (!ok) {
        mem_free(g);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    if (pthread_mutex_init(&g->mu, NULL) != 0) {
        (void)pthread_cond_destroy(&g->cv); /* unused */
        mem_free(g);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    *out = g;
    return 0;
}

void vgate_free(struct vgate *g)
{
    if (g == NULL)
        return;
    (void)pthread_cond_destroy(&g->cv); /* no thread uses them any more */
    (void)pthread_mutex_destroy(&g->mu);
    mem_free(g);
}

static void deadline_after(struct timespec *ts, unsigned ms)
{
    if (clock_gettime(CLOCK_MONOTONIC, ts) != 0) {
        ts->tv_sec = 0; /* a deadline in the past: the wait ends at once */
        ts->tv_nsec = 0;
        return;
    }
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int vgate_enter(struct vgate *g, unsigned *retry_after_s, struct berr *err)
{
    struct timespec deadline;
    int got = 0;

    if (retry_after_s != NULL)
        *retry_after_s = 0;
    (void)pthread_mutex_lock(&g->mu);
    if (g->running < g->slots) {
        got = 1;
    } else if (g->waiting < g->queue && g->wait_ms > 0) {
        g->waiting++;
        deadline_after(&deadline, g->wait_ms);
        while (g->running >= g->slots) {
            if (pthread_cond_timedwait(&g->cv, &g->mu, &deadline) == ETIMEDOUT)
                break;
        }
        g->waiting--;
        got = g->running < g->slots;
    }
    if (got)
        g->running++;
    (void)pthread_mutex_unlock(&g->mu);
    if (got)
        return 0;
    atomic_fetch_add(&g->refused, 1);
    if (retry_after_s != NULL)
        *retry_after_s = VGATE_RETRY_S;
    return berr_set(err, BERR_TOOMANYREQUESTS, "too many logins being checked, retry in %d s",
                    VGATE_RETRY_S);
}

void vgate_leave(struct vgate *g)
{
    (void)pthread_mutex_lock(&g->mu);
    if (g->running > 0)
        g->running--;
    (void)pthread_cond_signal(&g->cv);
    (void)pthread_mutex_unlock(&g->mu);
}

uint64_t vgate_refused(struct vgate *g)
{
    return atomic_load(&g->refused);
}
