/* pulls.c - pull counters gathered in memory and written to the database in batches
 * (sqlite_pulls.c writes one batch).
 *
 * Harbor learnt that one UPDATE per pull overloads the database under heavy pull load
 * (harbor#16039) and moved to an in-memory batch flushed every few seconds (harbor#16107).
 * Berth does the same, and counts per artifact and per tag too (harbor#21664).
 *
 * The table maps a key (repository, digest, tag or none) to a count and the latest pull time.
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
 * Thread-safe: `mu` guards ents, n, cap, slots and pending. */
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

static uint64_t key_hash(const struct repo_name *repo, const struct digest *d, const char *tag)
{
    uint64_t h = 14695981039346656037ULL;

    h = fnv(h, repo->s, repo->len);
    h = fnv(h, "\n", 1);
    h = fnv(h, d->hex, DIGEST_HEX_LEN);
    h = fnv(h, "\n", 1);
    return fnv(h, tag, strlen(tag));
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

/* add_locked adds count pulls of one key, with mu held. 1 when the table is full (nothing
 * changed), -1 when it could not grow, 0 when added. */
static int add_locked(struct pulls *p, const struct repo_name *repo, const struct digest *d,
                      const char *tag, uint64_t count, int64_t when)
{
    size_t mask = p->nslots - 1;
    size_t i = (size_t)key_hash(repo, d, tag) & mask;
    struct pulls_entry *e;

    for (; p->slots[i] != 0; i = (i + 1) & mask) {
        e = &p->ents[p->slots[i] - 1];
        if (e->repo.len == repo->len && memcmp(e->repo.s, repo->s, repo->len) == 0 &&
            memcmp(e->digest.hex, d->hex, DIGEST_HEX_LEN) == 0 && strcmp(e->tag.s, tag) == 0) {
            e->count += count;
            if (when > e->last)
                e->last = when;
            p->pending += count;
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
    memset(e, 0, sizeof(*e));
    e->repo = *repo;
    e->digest = *d;
    memcpy(e->tag.s, tag, strlen(tag) + 1); /* tag fits: it came from a struct tag */
    e->count = count;
    e->last = when;
    p->n++;
    p->slots[i] = (uint32_t)p->n;
    p->pending += count;
    return 0;
}

int pulls_record(struct pulls *p, const struct repo_name *repo, const struct digest *d,
                 const struct tag *tag, int64_t when, struct berr *err)
{
    const char *t = tag != NULL ? tag->s : "";
    int tries;
    int rc = 1;

    /* a full table is flushed by the thread that found it full; other threads may refill it
     * before this one retries, hence a few rounds */
    for (tries = 0; tries < PULLS_RECORD_TRIES && rc == 1; tries++) {
        (void)pthread_mutex_lock(&p->mu);
        rc = add_locked(p, repo, d, t, 1, when);
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
    if (n > 0)
        memset(p->slots, 0, p->nslots * sizeof(*p->slots));
    (void)pthread_mutex_unlock(&p->mu);
    if (n == 0) {
        mem_free(ents);
        return 0;
    }
    rc = p->m->ops->pulls->write(p->m, ents, n, err);
    if (rc < 0) {
        /* invariant 2: put the counts back */
        (void)pthread_mutex_lock(&p->mu);
        for (i = 0; i < n; i++) {
            if (add_locked(p, &ents[i].repo, &ents[i].digest, ents[i].tag.s, ents[i].count,
                           ents[i].last) != 0)
                lost += ents[i].count;
        }
        (void)pthread_mutex_unlock(&p->mu);
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
