/* gc_jobs.c - the garbage collection history behind the metadata interface: each call checks
 * its arguments and dispatches to the backend's gc_job table (meta_ops.h).
 *
 * Invariants:
 *   1. A status stored is one of enum gc_job_status; anything else is refused before the backend.
 *   2. A log stored is at most GC_JOB_LOG_MAX bytes (the backend cuts it, the caller need not).
 * No state of its own. Thread-safe as the backend is. */
#include "storage/gc_jobs.h"

#include "storage/meta_ops.h"

const char *gc_job_status_name(enum gc_job_status st)
{
    switch (st) {
    case GC_JOB_PENDING:
        return "Pending";
    case GC_JOB_RUNNING:
        return "Running";
    case GC_JOB_SUCCESS:
        return "Success";
    case GC_JOB_ERROR:
        return "Error";
    }
    return "Error";
}

int gc_job_create(struct meta *m, bool dry_run, int64_t now, int64_t *id, struct berr *err)
{
    *id = 0;
    return m->ops->gc_job->create(m, dry_run, now, id, err);
}

int gc_job_update(struct meta *m, int64_t id, enum gc_job_status st, const char *log, int64_t now,
                  struct berr *err)
{
    if (st < GC_JOB_PENDING || st > GC_JOB_ERROR)
        return berr_set(err, BERR_BAD_REQUEST, "bad status");
    return m->ops->gc_job->update(m, id, st, log, now, err);
}

int gc_job_get(struct meta *m, int64_t id, struct gc_job *out, char **log, struct berr *err)
{
    if (log != NULL)
        *log = NULL;
    return m->ops->gc_job->get(m, id, out, log, err);
}

int gc_job_list(struct meta *m, int64_t offset, struct gc_job *out, size_t cap, size_t *n,
                int64_t *total, struct berr *err)
{
    *n = 0;
    *total = 0;
    if (cap > GC_JOB_LIST_MAX || offset < 0)
        return berr_set(err, BERR_BAD_REQUEST, "bad page");
    return m->ops->gc_job->list(m, offset, out, cap, n, total, err);
}

int gc_job_interrupt(struct meta *m, int64_t now, unsigned *n, struct berr *err)
{
    if (n != NULL)
        *n = 0;
    return m->ops->gc_job->interrupt(m, now, n, err);
}
