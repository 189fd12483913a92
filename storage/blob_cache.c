/* blob_cache.c - small blobs in memory by digest (see blob_cache.h).
 *
 * Invariants:
 *   1. A used slot holds bytes that hashed to its digest when they were put.
 *   2. total is the sum of the used slots' lengths, never above BLOB_CACHE_BYTES; it is changed
 *      only with total_mu held, after the slot's lock (slot lock, then total_mu, never the other
 *      way round). */
#include "storage/blob_cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "common/mem.h"

struct blob_cache_slot {
    struct digest d;
    char *data; /* NULL: unused */
    size_t len;
};

struct blob_cache {
    pthread_mutex_t locks[BLOB_CACHE_LOCKS]; /* slot i is guarded by locks[i % BLOB_CACHE_LOCKS] */
    pthread_mutex_t total_mu;                /* guards total */
    size_t total;
    struct blob_cache_slot slots[BLOB_CACHE_SLOTS];
};

int blob_cache_new(struct blob_cache **out, struct berr *err)
{
    struct blob_cache *c = mem_calloc(1, sizeof(*c));
    unsigned i;

    *out = NULL;
    if (c == NULL)
        return berr_sys(err, ENOMEM, "blob_cache");
    for (i = 0; i < BLOB_CACHE_LOCKS; i++)
        (void)pthread_mutex_init(&c->locks[i], NULL);
    (void)pthread_mutex_init(&c->total_mu, NULL);
    *out = c;
    return 0;
}

void blob_cache_free(struct blob_cache *c)
{
    unsigned i;

    if (c == NULL)
        return;
    for (i = 0; i < BLOB_CACHE_SLOTS; i++)
        mem_free(c->slots[i].data);
    for (i = 0; i < BLOB_CACHE_LOCKS; i++)
        (void)pthread_mutex_destroy(&c->locks[i]);
    (void)pthread_mutex_destroy(&c->total_mu);
    mem_free(c);
}

/* slot_of: the slot of d, from its first 6 hex digits (uniform: a SHA-256) */
static size_t slot_of(const struct digest *d)
{
    size_t v = 0;

    for (int i = 0; i < 6; i++) {
        char ch = d->hex[i];
        v = v * 16 + (size_t)(ch >= 'a' ? ch - 'a' + 10 : ch - '0');
    }
    return v % BLOB_CACHE_SLOTS;
}

int blob_cache_get(struct blob_cache *c, const struct digest *d, char **out, size_t *len)
{
    size_t i;
    struct blob_cache_slot *s;
    int hit = 0;

    *out = NULL;
    *len = 0;
    if (c == NULL)
        return 0;
    i = slot_of(d);
    s = &c->slots[i];
    (void)pthread_mutex_lock(&c->locks[i % BLOB_CACHE_LOCKS]);
    if (s->data != NULL && digest_equal(&s->d, d)) {
        char *copy = mem_malloc(s->len + 1);
        if (copy != NULL) {
            memcpy(copy, s->data, s->len);
            copy[s->len] = '\0';
            *out = copy;
            *len = s->len;
            hit = 1;
        }
    }
    (void)pthread_mutex_unlock(&c->locks[i % BLOB_CACHE_LOCKS]);
    return hit;
}

void blob_cache_put(struct blob_cache *c, const struct digest *d, const void *p, size_t len)
{
    struct digest got;
    struct blob_cache_slot *s;
    char *copy;
    size_t i;
    bool fits;

    if (c == NULL || len > BLOB_CACHE_ENTRY_MAX)
        return;
    if (digest_of(&got, p, len) < 0 || !digest_equal(&got, d))
        return; /* invariant 1 */
    copy = mem_malloc(len + 1);
    if (copy == NULL)
        return;
    memcpy(copy, p, len);
    copy[len] = '\0';
    i = slot_of(d);
    s = &c->slots[i];
    (void)pthread_mutex_lock(&c->locks[i % BLOB_CACHE_LOCKS]);
    (void)pthread_mutex_lock(&c->total_mu);
    fits = c->total - (s->data != NULL ? s->len : 0) + len <= BLOB_CACHE_BYTES;
    if (fits)
        c->total = c->total - (s->data != NULL ? s->len : 0) + len;
    (void)pthread_mutex_unlock(&c->total_mu);
    if (fits) {
        mem_free(s->data);
        s->d = *d;
        s->data = copy;
        s->len = len;
        copy = NULL;
    }
    (void)pthread_mutex_unlock(&c->locks[i % BLOB_CACHE_LOCKS]);
    mem_free(copy);
}
