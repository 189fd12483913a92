/* mcache.c - resolved manifests by (repository, reference), with generations (mcache.h).
 *
 * `slots` is direct-mapped by an FNV-1a hash of (repository, reference kind, reference); slot i
 * is guarded by locks[i % MCACHE_LOCKS]. Invariants:
 *   1. A used slot holds what the database answered for its key, read after the generations
 *      stored with it (gen_global, gen_repo) were read.
 *   2. mcache_get answers from a slot only when its key matches exactly (the hash only picks the
 *      slot), both generations equal the current ones, and - for a tag key - it is younger than
 *      tag_ttl_ms.
 *   3. mcache_put drops its answer when a generation moved since the snapshot: the read may have
 *      raced with a write.
 *   4. Generations only grow (atomic increments); a writer bumps before and after its write, so
 *      no entry filled before the write's end survives it.
 * Thread-safe. */
#include "storage/mcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "common/util.h"
#include "storage/meta.h"

#define MCACHE_LOCKS 64

struct mc_slot {
    bool used;
    bool by_digest;
    uint64_t hash;
    uint64_t gen_global, gen_repo;
    int64_t filled_ms; /* monotonic, taken before the database read */
    struct repo_name repo;
    char ref[TAG_MAX + DIGEST_HEX_LEN + 2]; /* the tag, or the digest's hex */
    struct meta_manifest m;
};

struct mcache {
    size_t cap;
    unsigned tag_ttl_ms;
    _Atomic uint64_t gen_global;
    _Atomic uint64_t gen_repo[MCACHE_GEN_STRIPES];
    _Atomic uint64_t hits, misses;
    pthread_mutex_t locks[MCACHE_LOCKS];
    struct mc_slot *slots;
};

int mcache_new(struct mcache **out, size_t entries, unsigned tag_ttl_ms, struct berr *err)
{
    struct mcache *mc;
    unsigned i;

    *out = NULL;
    if (entries == 0 || entries > MCACHE_ENTRIES_MAX)
        return berr_set(err, BERR_INTERNAL, "manifest cache: %zu entries out of range", entries);
    mc = mem_calloc(1, sizeof(*mc));
    if (mc == NULL)
        return berr_sys(err, ENOMEM, "mcache: alloc");
    mc->slots = mem_calloc(entries, sizeof(*mc->slots));
    if (mc->slots == NULL) {
        mem_free(mc);
        return berr_sys(err, ENOMEM, "mcache: alloc");
    }
    mc->cap = entries;
    mc->tag_ttl_ms = tag_ttl_ms;
    for (i = 0; i < MCACHE_LOCKS; i++) {
        if (pthread_mutex_init(&mc->locks[i], NULL) != 0)
            break;
    }
    if (i < MCACHE_LOCKS) {
        while (i-- > 0)
            (void)pthread_mutex_destroy(&mc->locks[i]); /* unused */
        mem_free(mc->slots);
        mem_free(mc);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    *out = mc;
    return 0;
}

void mcache_free(struct mcache *mc)
{
    if (mc == NULL)
        return;
    for (unsigned i = 0; i < MCACHE_LOCKS; i++)
        (void)pthread_mutex_destroy(&mc->locks[i]); /* no thread uses it any more */
    mem_free(mc->slots);
    mem_free(mc);
}

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
    const unsigned char *s = p;

    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t repo_hash(const struct repo_name *repo)
{
    return fnv(0xcbf29ce484222325ULL, repo->s, strlen(repo->s));
}

static const char *ref_text(const struct reference *ref)
{
    return ref->is_digest ? ref->digest.hex : ref->tag.s;
}

static uint64_t key_hash(const struct repo_name *repo, const struct reference *ref)
{
    const char *r = ref_text(ref);
    unsigned char kind = ref->is_digest ? 1 : 2;
    uint64_t h = repo_hash(repo);

    h = fnv(h, &kind, 1);
    return fnv(h, r, strlen(r));
}

static _Atomic uint64_t *repo_gen(struct mcache *mc, const struct repo_name *repo)
{
    return &mc->gen_repo[repo_hash(repo) % MCACHE_GEN_STRIPES];
}

void mcache_snap(struct mcache *mc, const struct repo_name *repo, struct mcache_snap *snap)
{
    snap->global = atomic_load(&mc->gen_global);
    snap->repo = atomic_load(repo_gen(mc, repo));
    snap->at_ms = now_ms_mono();
}

void mcache_bump(struct mcache *mc, const struct repo_name *repo)
{
    if (mc == NULL)
        return;
    if (repo == NULL)
        atomic_fetch_add(&mc->gen_global, 1);
    else
        atomic_fetch_add(repo_gen(mc, repo), 1);
}

static bool key_eq(const struct mc_slot *s, uint64_t h, const struct repo_name *repo,
                   const struct reference *ref)
{
    return s->used && s->hash == h && s->by_digest == ref->is_digest &&
           strcmp(s->repo.s, repo->s) == 0 && strcmp(s->ref, ref_text(ref)) == 0;
}

int mcache_get(struct mcache *mc, const struct repo_name *repo, const struct reference *ref,
               struct meta_manifest *out)
{
    uint64_t h = key_hash(repo, ref);
    size_t i = (size_t)(h % mc->cap);
    struct mc_slot *s = &mc->slots[i];
    struct mcache_snap now;
    int hit = 0;

    if (!ref->is_digest && mc->tag_ttl_ms == 0) {
        atomic_fetch_add_explicit(&mc->misses, 1, memory_order_relaxed);
        return 0;
    }
    mcache_snap(mc, repo, &now);
    (void)pthread_mutex_lock(&mc->locks[i % MCACHE_LOCKS]); /* fails only when corrupt */
    if (key_eq(s, h, repo, ref) && s->gen_global == now.global && s->gen_repo == now.repo &&
        (ref->is_digest || now_ms_mono() - s->filled_ms < (int64_t)mc->tag_ttl_ms)) {
        *out = s->m;
        hit = 1;
    }
    (void)pthread_mutex_unlock(&mc->locks[i % MCACHE_LOCKS]);
    atomic_fetch_add_explicit(hit ? &mc->hits : &mc->misses, 1, memory_order_relaxed);
    return hit;
}

void mcache_put(struct mcache *mc, const struct repo_name *repo, const struct reference *ref,
                const struct mcache_snap *snap, const struct meta_manifest *m)
{
    uint64_t h = key_hash(repo, ref);
    size_t i = (size_t)(h % mc->cap);
    struct mc_slot *s = &mc->slots[i];
    struct mcache_snap now;

    if (!ref->is_digest && mc->tag_ttl_ms == 0)
        return;
    (void)pthread_mutex_lock(&mc->locks[i % MCACHE_LOCKS]);
    /* invariant 3: read under the lock, so a bump after this check invalidates what we store */
    mcache_snap(mc, repo, &now);
    if (now.global == snap->global && now.repo == snap->repo) {
        s->used = true;
        s->by_digest = ref->is_digest;
        s->hash = h;
        s->gen_global = snap->global;
        s->gen_repo = snap->repo;
        s->filled_ms = snap->at_ms;
        s->repo = *repo;
        (void)snprintf(s->ref, sizeof(s->ref), "%s", ref_text(ref)); /* fits: sized for both */
        s->m = *m;
    }
    (void)pthread_mutex_unlock(&mc->locks[i % MCACHE_LOCKS]);
}

uint64_t mcache_hits(const struct mcache *mc)
{
    return mc != NULL ? atomic_load(&mc->hits) : 0;
}

uint64_t mcache_misses(const struct mcache *mc)
{
    return mc != NULL ? atomic_load(&mc->misses) : 0;
}
