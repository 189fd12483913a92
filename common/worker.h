/* worker.h - a thread that runs one function periodically.
 *
 * worker_start runs fn(ctx) on a new thread every interval_ms (measured on CLOCK_MONOTONIC from
 * the end of the previous run), sooner when worker_wake asks; worker_stop wakes the thread,
 * lets a run in progress finish, runs fn one last time on the thread when WORKER_FINAL_PASS was
 * given, and joins it. The struct is caller-owned; its fields are private to worker.c. */
#ifndef BERTH_COMMON_WORKER_H
#define BERTH_COMMON_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/berr.h"

/* worker_fn does one pass of the periodic job; it must not call worker_stop on its own worker */
typedef void (*worker_fn)(void *ctx);

#define WORKER_FINAL_PASS 1u /* flag: run fn once more at stop, after the last wait */

struct worker {
    pthread_mutex_t mu; /* guards stop, wake, runs */
    pthread_cond_t cv;
    pthread_t thread;
    worker_fn fn;
    void *ctx;
    uint64_t interval_ms;
    unsigned flags;
    uint64_t runs; /* passes completed, the final one included */
    bool stop;
    bool wake;
    bool started;
};

/* worker_start starts the thread (interval_ms >= 1; 0 is taken as 1). w must be zeroed or
 * stopped; fn and ctx are borrowed until worker_stop returns. -1 with BERR_INTERNAL when the
 * thread, mutex or condition variable cannot be made (w is then as before: not started). */
int worker_start(struct worker *w, uint64_t interval_ms, unsigned flags, worker_fn fn, void *ctx,
                 struct berr *err);
/* worker_wake asks for a pass now (coalesced: several wakes before the thread runs give one
 * pass). A no-op on a worker that is not started. Safe from any thread. */
void worker_wake(struct worker *w);
/* worker_stop ends the thread as described above and joins it; a no-op on a zeroed or stopped
 * worker. Call it from one thread, never from fn. */
void worker_stop(struct worker *w);
/* worker_runs: passes completed so far (for tests and logs). */
uint64_t worker_runs(struct worker *w);

#endif
