/* audit.c - the audit log: an in-memory queue of events written in batches, and the queries,
 * which the metadata backend answers (sqlite_audit.c).
 *
 * Invariants:
 *   1. `mu` guards q, n, cap, dropped; it is never held during a database call, so
 *      audit_record never waits on the database (only on another recorder's memcpy).
 *   2. `flush_mu` lets one flush run at a time: a flush takes the whole queue out under `mu`,
 *      writes it in one write transaction (the backend's audit write), and on failure puts it
 *      back in front of what was recorded meanwhile, so the order of events (and of their ids)
 *      is the order they were recorded.
 *   3. The queue never holds more than max events: when full, the recording thread flushes;
 *      if that fails the oldest event is dropped and counted (logged at the next flush).
 *   4. Lock order: flush_mu before mu.
 *   5. The flusher is a common/worker.c worker; audit_free stops it, then flushes once more.
 * No SQL here. Thread-safe. */
#include "storage/audit.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "common/worker.h"
#include "storage/meta_ops.h"

/* attempts of audit_record to make room by flushing before it drops the oldest event */
#define AUDIT_RECORD_TRIES 64

struct audit {
    struct meta *m;
    pthread_mutex_t mu; /* guards q, n, cap, dropped (invariant 1) */
    pthread_mutex_t flush_mu;
    struct audit_event *q;
    size_t n;
    size_t cap;
    size_t max;
    uint64_t dropped;
    struct worker flusher;
};

static void copy_field(char *dst, size_t cap, const char *src)
{
    size_t len = src != NULL ? strnlen(src, cap - 1) : 0;

    if (len > 0)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

int audit_new(struct audit **out, struct meta *m, size_t max_pending, struct berr *err)
{
    struct audit *a;

    *out = NULL;
    a = mem_calloc(1, sizeof(*a));
    if (a == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    a->m = m;
    a->max = max_pending > 0 ? max_pending : AUDIT_PENDING_DEFAULT;
    if (pthread_mutex_init(&a->mu, NULL) != 0) {
        mem_free(a);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    if (pthread_mutex_init(&a->flush_mu, NULL) != 0) {
        (void)pthread_mutex_destroy(&a->mu);
        mem_free(a);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    *out = a;
    return 0;
}

/* push_locked appends e (mu held); false when the queue is at its cap or cannot grow */
static bool push_locked(struct audit *a, const struct audit_event *e)
{
    struct audit_event *nq;
    size_t ncap;

    if (a->n == a->max)
        return false;
    if (a->n == a->cap) {
        ncap = a->cap == 0 ? 16 : a->cap * 2;
        if (ncap > a->max)
            ncap = a->max;
        nq = mem_realloc(a->q, ncap * sizeof(*nq));
        if (nq == NULL)
            return false;
        a->q = nq;
        a->cap = ncap;
    }
    a->q[a->n++] = *e;
    return true;
}

int audit_record(struct audit *a, const char *username, const char *operation,
                 const char *resource_type, const char *resource, const char *project,
                 const char *client, bool result)
{
    struct audit_event e;
    struct berr err;
    bool ok;

    if (a == NULL)
        return 0;
    memset(&e, 0, sizeof(e));
    e.op_time = now_s();
    copy_field(e.username, sizeof(e.username), username);
    copy_field(e.operation, sizeof(e.operation), operation);
    copy_field(e.resource_type, sizeof(e.resource_type), resource_type);
    copy_field(e.resource, sizeof(e.resource), resource);
    copy_field(e.project, sizeof(e.project), project);
    copy_field(e.client, sizeof(e.client), client);
    e.result = result;

    /* invariant 3: full (or out of memory): write the queue out on this thread and try again;
     * other recorders may fill it meanwhile, so retry while flushes succeed */
    for (int tries = 0; tries < AUDIT_RECORD_TRIES; tries++) {
        (void)pthread_mutex_lock(&a->mu);
        ok = push_locked(a, &e);
        (void)pthread_mutex_unlock(&a->mu);
        if (ok)
            return 0;
        if (audit_flush(a, NULL, &err) < 0) {
            log_msg(LOG_WARN, "audit: flush on a full queue failed: %s", err.msg);
            break;
        }
    }
    (void)pthread_mutex_lock(&a->mu);
    ok = push_locked(a, &e);
    if (!ok && a->n > 0) {
        memmove(a->q, a->q + 1, (a->n - 1) * sizeof(*a->q));
        a->n--;
        a->dropped++;
        ok = push_locked(a, &e);
    }
    if (!ok)
        a->dropped++;
    (void)pthread_mutex_unlock(&a->mu);
    return ok ? 0 : -1;
}

size_t audit_pending(struct audit *a)
{
    size_t n;

    if (a == NULL)
        return 0;
    (void)pthread_mutex_lock(&a->mu);
    n = a->n;
    (void)pthread_mutex_unlock(&a->mu);
    return n;
}

/* put_back puts a failed batch in front of the events recorded since (invariant 2), dropping
 * the oldest beyond max */
static void put_back(struct audit *a, struct audit_event *batch, size_t nb)
{
    size_t total, keep_b, skip;
    struct audit_event *nq;

    (void)pthread_mutex_lock(&a->mu);
    total = nb + a->n;
    if (total > a->max)
        total = a->max;
    keep_b = total > a->n ? total - a->n : 0; /* newest keep_b of the batch */
    skip = nb - keep_b;
    nq = mem_malloc((total > 0 ? total : 1) * sizeof(*nq));
    if (nq == NULL) {
        a->dropped += nb; /* cannot even hold them: the recorded-since events stay */
    } else {
        if (keep_b > 0)
            memcpy(nq, batch + skip, keep_b * sizeof(*nq));
        if (total > keep_b)
            memcpy(nq + keep_b, a->q, (total - keep_b) * sizeof(*nq));
        a->dropped += skip + (a->n - (total - keep_b));
        mem_free(a->q);
        a->q = nq;
        a->n = total;
        a->cap = total > 0 ? total : 1;
    }
    (void)pthread_mutex_unlock(&a->mu);
    mem_free(batch);
}

int audit_flush(struct audit *a, uint64_t *flushed, struct berr *err)
{
    struct audit_event *batch;
    uint64_t dropped;
    size_t nb;
    int rc = 0;

    if (flushed != NULL)
        *flushed = 0;
    if (a == NULL)
        return 0;
    (void)pthread_mutex_lock(&a->flush_mu);
    (void)pthread_mutex_lock(&a->mu);
    batch = a->q;
    nb = a->n;
    dropped = a->dropped;
    a->q = NULL;
    a->n = 0;
    a->cap = 0;
    a->dropped = 0;
    (void)pthread_mutex_unlock(&a->mu);
    if (dropped > 0)
        log_msg(LOG_WARN, "audit: %llu events were dropped (queue full, database failing)",
                (unsigned long long)dropped);
    if (nb > 0) {
        rc = a->m->ops->audit->write(a->m, batch, nb, err);
        if (rc < 0) {
            put_back(a, batch, nb);
            batch = NULL;
        } else if (flushed != NULL) {
            *flushed = nb;
        }
    }
    mem_free(batch);
    (void)pthread_mutex_unlock(&a->flush_mu);
    return rc;
}

/* ---- flusher ---- */

static void flusher_pass(void *arg)
{
    struct audit *a = arg;
    struct berr err;
    size_t n;

    (void)pthread_mutex_lock(&a->mu);
    n = a->n;
    (void)pthread_mutex_unlock(&a->mu);
    if (n > 0 && audit_flush(a, NULL, &err) < 0)
        log_msg(LOG_WARN, "audit: flush failed: %s (events kept)", err.msg);
}

int audit_start(struct audit *a, unsigned interval_ms, struct berr *err)
{
    if (a->flusher.started)
        return berr_set(err, BERR_INTERNAL, "audit flusher already running");
    if (worker_start(&a->flusher, interval_ms < 10 ? 10 : interval_ms, 0, flusher_pass, a, err) < 0)
        return berr_set(err, BERR_INTERNAL, "cannot start the audit flusher");
    return 0;
}

void audit_free(struct audit *a)
{
    struct berr err;

    if (a == NULL)
        return;
    worker_stop(&a->flusher);
    if (audit_flush(a, NULL, &err) < 0)
        log_msg(LOG_ERROR, "audit: %zu events lost at shutdown: %s", a->n, err.msg);
    mem_free(a->q);
    (void)pthread_mutex_destroy(&a->flush_mu);
    (void)pthread_mutex_destroy(&a->mu);
    mem_free(a);
}

/* ---- queries (sqlite_audit.c answers them) ---- */

int audit_list(struct meta *m, const struct audit_q *q, struct audit_event *out, size_t cap,
               size_t *n, int64_t *total, struct berr *err)
{
    return m->ops->audit->list(m, q, out, cap, n, total, err);
}

int audit_purge(struct meta *m, int64_t before, int64_t *removed, struct berr *err)
{
    return m->ops->audit->purge(m, before, removed, err);
}
