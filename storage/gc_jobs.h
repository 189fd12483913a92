/* gc_jobs.h - the history of garbage collection runs started through the management API: one
 * row per run (dry run or not, status, times) with its log text, kept in the database so it
 * survives restarts. The runs themselves are gc_run (gc.h); api/api_gc.c drives them.
 * Thread-safe: every call borrows its own connection. */
#ifndef BERTH_STORAGE_GC_JOBS_H
#define BERTH_STORAGE_GC_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"
#include "storage/meta.h"

/* The log kept per run is cut to this many bytes (the tail is replaced by a note). */
#define GC_JOB_LOG_MAX (64 * 1024)
#define GC_JOB_LIST_MAX 100

enum gc_job_status {
    GC_JOB_PENDING = 0,
    GC_JOB_RUNNING = 1,
    GC_JOB_SUCCESS = 2,
    GC_JOB_ERROR = 3,
};

struct gc_job {
    int64_t id;
    bool dry_run;
    enum gc_job_status status;
    int64_t created; /* epoch seconds */
    int64_t updated;
};

/* gc_job_status_name: Harbor's word for a status ("Pending", "Running", "Success", "Error"). */
const char *gc_job_status_name(enum gc_job_status st);
/* gc_job_create records a new Pending run at now; *id is its id. */
int gc_job_create(struct meta *m, bool dry_run, int64_t now, int64_t *id, struct berr *err);
/* gc_job_update sets a run's status and update time, and its log when log is not NULL (cut at
 * GC_JOB_LOG_MAX). BERR_NOT_FOUND for an unknown id. */
int gc_job_update(struct meta *m, int64_t id, enum gc_job_status st, const char *log, int64_t now,
                  struct berr *err);
/* gc_job_get reads one run; when log is not NULL, *log is its log (new, mem_free; "" when none).
 * BERR_NOT_FOUND for an unknown id. */
int gc_job_get(struct meta *m, int64_t id, struct gc_job *out, char **log, struct berr *err);
/* gc_job_list fills out with up to cap (<= GC_JOB_LIST_MAX) runs, newest first, skipping
 * offset; *total is the number of runs. */
int gc_job_list(struct meta *m, int64_t offset, struct gc_job *out, size_t cap, size_t *n,
                int64_t *total, struct berr *err);
/* gc_job_interrupt marks every Pending or Running run Error at now (at start-up: a run cannot
 * survive a restart); *n how many (may be NULL). */
int gc_job_interrupt(struct meta *m, int64_t now, unsigned *n, struct berr *err);

#endif
