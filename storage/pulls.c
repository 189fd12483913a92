/* pulls.c - pull counters gathered in memory and written to the database in batches
 * (sqlite_pulls.c writes one batch).
 *
 * Harbor learnt that one UPDATE per pull overloads the database under heavy pull load
 * (harbor#16039) and moved to an in-memory batch flushed every few seconds (harbor#16107).
 * Berth does the same, and counts per artifact and per tag too (harbor#21664).
 *
 * The table maps a key (repository, digest, tag or none, who, client family, image or child,
 * hour) to a count and the latest pull time; a flush adds each key's count to the counters of
 * the repository, artifact and tag and to the hourly and daily buckets of the pull history.
 * Keys live in `ents` (grown by doubling up to `max`); `slots` is an open-addressing index over
 * them (linear probing, value = entry index + 1, 0 = empty), sized to twice `max` so a probe
 * always ends. Invariants:
 *   1. Every entry of ents[0..n) is reachable from slots, and every non-zero slot names one.
 *   2. pulls_flush detaches the whole table under `mu` and writes it with `mu` released, so
 *      recording never waits on the database. A failed write merges the detached entries back:
 *      a count is either in the database or pending, never both, never lost (except when the
 *      merge-back itself cannot allocate, which is logged with the number of pulls lost).
 *   3. `pending` equals the sum of the counts of ents[0..n).
 * The flush thread (pulls_start) is a common/worker.c worker; pulls_stop joins it, then flushes
 * once more so the last counts and their error reach the caller.
 *   4. pulls_peek reads the table under `mu`; a count being written by a flush is in neither
 *      the table nor (until the commit) the database, so a reader may miss it for the length
 *      of one write transaction, never count it twice.
 *   5. `writing` counts the flushes holding detached counts (from the detach to the commit or the
 *      merge-back); `epoch` grows at each detach and at each end. A reader that copied the table
 *      and then read the database saw every pull exactly once when pulls_epoch (0 while
 *      anything is being written) gave the same non-zero value before and after.
 * Thread-safe: `mu` guards ents, n, cap, slots, pending, epoch and the flush statistics. */
#include "storage/pulls.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/worker.h"
#include "storage/meta_ops.h"

#define PULLS_RECORD_TRIES 16

struct pulls {
    struct meta *m;
    pthread_mutex_t mu;
    struct pulls_entry *ents;
    size_t n;
    size_t cap;
    size_t max;
    uint32_t *slots;
    size_t nslots; /* power of two, >= 2 * max */
    uint64_t pending;
    uint64_t flushes;
    uint64_t epoch;   /* grows at every detach and every end of a flush (pulls_epoch) */
    unsigned writing; /* flushes holding detached counts */
    double flush_last_s;
    double flush_total_s;

    struct worker flusher;
};

static uint64_t fnv(uint64_t h, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t key_hash(const struct pulls_entry *k)
{
    uint64_t h = 14695981039346656037ULL;
    unsigned char misc[10];
    uint64_t hour = (uint64_t)k->hour;

    h = fnv(h, k->repo.s, k->repo.len);
    h = fnv(h, "\n", 1);
    h = fnv(h, k->digest.hex, DIGEST_HEX_LEN);
    h = fnv(h, "\n", 1);
    h = fnv(h, k->tag.s, strlen(k->tag.s));
    h = fnv(h, "\n", 1);
    h = fnv(h, k->who, strlen(k->who));
    h = fnv(h, "\n", 1);
    h = fnv(h, k->client, strlen(k->client));
    /* the small fields as bytes (no formatting on the pull path) */
    misc[0] = (unsigned char)k->who_kind;
    misc[1] = k->child ? 1 : 0;
    for (int i = 0; i < 8; i++)
        misc[2 + i] = (unsigned char)(hour >> (8 * i));
    return fnv(h, (const char *)misc, sizeof(misc));
}

static bool key_eq(const struct pulls_entry *a, const struct pulls_entry *b)
{
    return a->repo.len == b->repo.len && memcmp(a->repo.s, b->repo.s, a->repo.len) == 0 &&
           memcmp(a->digest.hex, b->digest.hex, DIGEST_HEX_LEN) == 0 &&
           strcmp(a->tag.s, b->tag.s) == 0 && a->who_kind == b->who_kind &&
           strcmp(a->who, b->who) == 0 && strcmp(a->client, b->client) == 0 &&
           a->child == b->child && a->hour == b->hour;
}

int pulls_new(struct pulls **out, struct meta *m, size_t max_entries, struct berr *err)
{
    struct pulls *p;

    *out = NULL;
    if (max_entries == 0)
        max_entries = PULLS_MAX_ENTRIES_DEFAULT;
    if (max_entries > (1u << 24))
        return berr_set(err, BERR_INTERNAL, "pulls: table too large");
    p = mem_calloc(1, sizeof(*p));
    if (p == NULL)
        return berr_sys(err, ENOMEM, "pulls");
    p->m = m;
    p->max = max_entries;
    p->epoch = 1; /* 0 means "a flush is writing" to readers */
    p->nslots = 16;
    while (p->nslots < 2 * max_entries)
        p->nslots *= 2;
    p->slots = mem_calloc(p->nslots, sizeof(*p->slots));
    if (p->slots == NULL) {
        mem_free(p);
        return berr_sys(err, ENOMEM, "pulls");
    }
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        mem_free(p->slots);
        mem_free(p);
        return berr_set(err, BERR_INTERNAL, "pulls: cannot create a mutex");
    }
    *out = p;
    return 0;
}

void pulls_free(struct pulls *p)
{
    if (p == NULL)
        return;
    if (p->pending > 0)
        log_msg(LOG_WARN, "pulls: %llu pulls were not flushed", (unsigned long long)p->pending);
    (void)pthread_mutex_destroy(&p->mu); /* no call may be running */
    mem_free(p->ents);
    mem_free(p->slots);
    mem_free(p);
}

/* add_locked adds k->count pulls of k's key, with mu held. 1 when the table is full (nothing
 * changed), -1 when it could not grow, 0 when added. */
static int add_locked(struct pulls *p, const struct pulls_entry *k)
{
    size_t mask = p->nslots - 1;
    size_t i = (size_t)key_hash(k) & mask;
    struct pulls_entry *e;

    for (; p->slots[i] != 0; i = (i + 1) & mask) {
        e = &p->ents[p->slots[i] - 1];
        if (key_eq(e, k)) {
            e->count += k->count;
            if (k->last > e->last)
                e->last = k->last;
            p->pending += k->count;
            return 0;
        }
    }
    if (p->n == p->max)
        return 1;
    if (p->n == p->cap) {
        size_t ncap = p->cap == 0 ? 64 : p->cap * 2;
        struct pulls_entry *ne;

        if (ncap > p->max)
            ncap = p->max;
        ne = mem_realloc(p->ents, ncap * sizeof(*ne));
        if (ne == NULL)
            return -1;
        p->ents = ne;
        p->cap = ncap;
    }
    e = &p->ents[p->n];
    *e = *k;
    p->n++;
    p->slots[i] = (uint32_t)p->n;
    p->pending += k->count;
    return 0;
}

static void copy_cut(char *dst, size_t cap, const char *src)
{
    size_t len = src != NULL ? strnlen(src, cap - 1) : 0;

    if (len > 0)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

int pulls_record(struct pulls *p, const struct pulls_event *ev, struct berr *err)
{
    struct pulls_entry k;
    int tries;
    int rc = 1;

    memset(&k, 0, sizeof(k));
    k.repo = *ev->repo;
    k.digest = *ev->digest;
    if (ev->tag != NULL)
        k.tag = *ev->tag;
    k.who_kind = ev->who_kind;
    if (ev->who_kind != PULLS_WHO_ANONYMOUS)
        copy_cut(k.who, sizeof(k.who), ev->who);
    copy_cut(k.client, sizeof(k.client), ev->client != NULL ? ev->client : "other");
    k.child = ev->child;
    k.hour = ev->when - ev->when % PULLS_HOUR_S;
    k.count = 1;
    k.last = ev->when;

    /* a full table is flushed by the thread that found it full; other threads may refill it
     * before this one retries, hence a few rounds */
    for (tries = 0; tries < PULLS_RECORD_TRIES && rc == 1; tries++) {
        (void)pthread_mutex_lock(&p->mu);
        rc = add_locked(p, &k);
        (void)pthread_mutex_unlock(&p->mu);
        if (rc == 1 && pulls_flush(p, NULL, err) < 0)
            return -1;
    }
    if (rc < 0)
        return berr_sys(err, ENOMEM, "pulls: record");
    if (rc == 1)
        return berr_set(err, BERR_INTERNAL, "pulls: table full");
    return 0;
}

void pulls_peek(struct pulls *p, const struct repo_name *repo, const struct digest *d,
                const struct tag *t, int64_t *count, int64_t *last)
{
    const struct pulls_entry *e;
    size_t i;

    if (p == NULL)
        return;
    (void)pthread_mutex_lock(&p->mu);
    for (i = 0; i < p->n; i++) {
        e = &p->ents[i];
        if (e->repo.len != repo->len || memcmp(e->repo.s, repo->s, repo->len) != 0)
            continue;
        if (d != NULL && memcmp(e->digest.hex, d->hex, DIGEST_HEX_LEN) != 0)
            continue;
        if (t != NULL && strcmp(e->tag.s, t->s) != 0)
            continue;
        *count += (int64_t)e->count;
        if (e->last > *last)
            *last = e->last;
    }
    (void)pthread_mutex_unlock(&p->mu);
}

int pulls_pending_copy(struct pulls *p, struct pulls_entry **out, size_t *n, uint64_t *epoch)
{
    int rc = 0;

    *out = NULL;
    *n = 0;
    *epoch = 0;
    if (p == NULL)
        return 0;
    (void)pthread_mutex_lock(&p->mu);
    *epoch = p->writing == 0 ? p->epoch : 0;
    if (p->n > 0) {
        *out = mem_malloc(p->n * sizeof(**out));
        if (*out == NULL) {
            rc = -1;
        } else {
            memcpy(*out, p->ents, p->n * sizeof(**out));
            *n = p->n;
        }
    }
    (void)pthread_mutex_unlock(&p->mu);
    return rc;
}

uint64_t pulls_epoch(struct pulls *p)
{
    uint64_t v;

    if (p == NULL)
        return 0;
    (void)pthread_mutex_lock(&p->mu);
    v = p->writing == 0 ? p->epoch : 0;
    (void)pthread_mutex_unlock(&p->mu);
    return v;
}

void pulls_flush_stats(struct pulls *p, uint64_t *flushes, double *last_s, double *total_s)
{
    (void)pthread_mutex_lock(&p->mu);
    *flushes = p->flushes;
    *last_s = p->flush_last_s;
    *total_s = p->flush_total_s;
    (void)pthread_mutex_unlock(&p->mu);
}

static double now_s(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail with this clock */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t pulls_pending(struct pulls *p)
{
    uint64_t v;

    (void)pthread_mutex_lock(&p->mu);
    v = p->pending;
    (void)pthread_mutex_unlock(&p->mu);
    return v;
}

int pulls_flush(struct pulls *p, uint64_t *flushed, struct berr *err)
{
    struct pulls_entry *ents;
    uint64_t total;
    uint64_t lost = 0;
    double t0;
    size_t n;
    size_t i;
    int rc;

    if (flushed != NULL)
        *flushed = 0;
    (void)pthread_mutex_lock(&p->mu);
    ents = p->ents;
    n = p->n;
    total = p->pending;
    p->ents = NULL;
    p->n = 0;
    p->cap = 0;
    p->pending = 0;
    if (n > 0) {
        memset(p->slots, 0, p->nslots * sizeof(*p->slots));
        p->epoch++; /* invariant 5 */
        p->writing++;
    }
    (void)pthread_mutex_unlock(&p->mu);
    if (n == 0) {
        mem_free(ents);
        return 0;
    }
    t0 = now_s();
    rc = p->m->ops->pulls->write(p->m, ents, n, err);
    t0 = now_s() - t0;
    (void)pthread_mutex_lock(&p->mu);
    p->flushes++;
    p->flush_last_s = t0;
    p->flush_total_s += t0;
    if (rc < 0) {
        /* invariant 2: put the counts back */
        for (i = 0; i < n; i++) {
            if (add_locked(p, &ents[i]) != 0)
                lost += ents[i].count;
        }
    }
    p->epoch++; /* the counts are in the database or back in the table */
    p->writing--;
    (void)pthread_mutex_unlock(&p->mu);
    if (rc < 0) {
        if (lost > 0)
            log_msg(LOG_ERROR, "pulls: flush failed and %llu pulls could not be kept",
                    (unsigned long long)lost);
    } else if (flushed != NULL) {
        *flushed = total;
    }
    mem_free(ents);
    return rc;
}

/* ---- the flush thread ---- */

static void flush_pass(void *arg)
{
    struct pulls *p = arg;
    struct berr err;
    uint64_t n;

    if (pulls_flush(p, &n, &err) < 0)
        log_msg(LOG_WARN, "pulls: flush failed, counts kept for the next one: %s", err.msg);
}

int pulls_start(struct pulls *p, unsigned interval_s, struct berr *err)
{
    if (p->flusher.started)
        return berr_set(err, BERR_INTERNAL, "pulls: already started");
    if (worker_start(&p->flusher, (uint64_t)(interval_s > 0 ? interval_s : 1) * 1000, 0, flush_pass,
                     p, err) < 0)
        return berr_set(err, BERR_INTERNAL, "pulls: cannot start the flush thread");
    return 0;
}

int pulls_stop(struct pulls *p, struct berr *err)
{
    if (p == NULL)
        return 0;
    worker_stop(&p->flusher);
    return pulls_flush(p, NULL, err);
}

/* ---- the pull history: dispatch to the backend ---- */

int meta_pulls_series(struct meta *m, const struct pulls_q *q, struct pulls_point *out, size_t cap,
                      size_t *n, struct berr *err)
{
    *n = 0;
    if (q->granularity != PULLS_HOUR_S && q->granularity != PULLS_DAY_S)
        return berr_set(err, BERR_BAD_REQUEST, "granularity must be hour or day");
    return m->ops->pulls->series(m, q, out, cap, n, err);
}

int meta_pulls_top(struct meta *m, const struct pulls_q *q, struct pulls_point *out, size_t cap,
                   size_t *n, struct berr *err)
{
    *n = 0;
    if (q->granularity != PULLS_HOUR_S && q->granularity != PULLS_DAY_S)
        return berr_set(err, BERR_BAD_REQUEST, "granularity must be hour or day");
    if (q->group != PULLS_GROUP_REPO && q->group != PULLS_GROUP_TAG)
        return berr_set(err, BERR_BAD_REQUEST, "top lists are by repository or tag");
    return m->ops->pulls->top(m, q, out, cap, n, err);
}

int meta_pulls_prune(struct meta *m, int64_t hour_before, int64_t day_before, int64_t *removed,
                     struct berr *err)
{
    if (removed != NULL)
        *removed = 0;
    return m->ops->pulls->prune(m, hour_before, day_before, removed, err);
}

int meta_pulls_stale(struct meta *m, const struct pulls_stale_q *q, struct pulls_stale *out,
                     size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    *n = 0;
    *total = 0;
    return m->ops->pulls->stale(m, q, out, cap, n, total, err);
}
