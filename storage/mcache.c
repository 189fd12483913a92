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
#define MCACHE_FACTS 1024 /* project and role entries */
#define MCACHE_FACT_KEY_MAX 300

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

/* a project (key "p" name) or a role (key "r" project id ":" user id) */
struct mc_fact {
    bool used;
    uint64_t hash;
    uint64_t gen;
    int64_t filled_ms;
    char key[MCACHE_FACT_KEY_MAX];
    struct meta_project_info p;
    int role;
};

struct mcache {
    _Atomic uint64_t gen_facts;
    pthread_mutex_t fact_locks[MCACHE_LOCKS];
    struct mc_fact facts[MCACHE_FACTS];
    size_t cap;
    unsigned tag_ttl_ms;
    _Atomic uint64_t gen_global;
    _Atomic uint64_t gen_repo[MCACHE_GEN_STRIPES];
    _Atomic uint64_t hits, misses;
    pthread_mutex_t locks[MCACHE_LOCKS];
    struct mc_slot *slots;
};

/* the manifest slots' locks, then the facts' */
static pthread_mutex_t *lock_at(struct mcache *mc, unsigned i)
{
    return i < MCACHE_LOCKS ? &mc->locks[i] : &mc->fact_locks[i - MCACHE_LOCKS];
}

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
    for (i = 0; i < 2 * MCACHE_LOCKS; i++) {
        if (pthread_mutex_init(lock_at(mc, i), NULL) != 0)
            break;
    }
    if (i < 2 * MCACHE_LOCKS) {
        while (i-- > 0)
            (void)pthread_mutex_destroy(lock_at(mc, i)); /* unused */
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
    for (unsigned i = 0; i < 2 * MCACHE_LOCKS; i++)
        (void)pthread_mutex_destroy(lock_at(mc, i)); /* no thread uses it any more */
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

/* ---- facts ---- */

void mcache_facts_snap(struct mcache *mc, struct mcache_snap *snap)
{
    snap->global = atomic_load(&mc->gen_facts);
    snap->repo = 0;
    snap->at_ms = now_ms_mono();
}

void mcache_facts_bump(struct mcache *mc)
{
    if (mc != NULL)
        atomic_fetch_add(&mc->gen_facts, 1);
}

/* fact_get copies the valid entry of key into *p or *role (whichever is not NULL): 1 hit. */
static int fact_get(struct mcache *mc, const char *key, struct meta_project_info *p, int *role)
{
    uint64_t h = fnv(0xcbf29ce484222325ULL, key, strlen(key));
    size_t i = (size_t)(h % MCACHE_FACTS);
    struct mc_fact *f = &mc->facts[i];
    uint64_t gen = atomic_load(&mc->gen_facts);
    int hit = 0;

    if (mc->tag_ttl_ms == 0)
        return 0;
    (void)pthread_mutex_lock(&mc->fact_locks[i % MCACHE_LOCKS]);
    if (f->used && f->hash == h && strcmp(f->key, key) == 0 && f->gen == gen &&
        now_ms_mono() - f->filled_ms < (int64_t)mc->tag_ttl_ms) {
        if (p != NULL)
            *p = f->p;
        if (role != NULL)
            *role = f->role;
        hit = 1;
    }
    (void)pthread_mutex_unlock(&mc->fact_locks[i % MCACHE_LOCKS]);
    return hit;
}

static void fact_put(struct mcache *mc, const char *key, const struct mcache_snap *snap,
                     const struct meta_project_info *p, int role)
{
    uint64_t h = fnv(0xcbf29ce484222325ULL, key, strlen(key));
    size_t i = (size_t)(h % MCACHE_FACTS);
    struct mc_fact *f = &mc->facts[i];

    if (mc->tag_ttl_ms == 0 || strlen(key) >= sizeof(f->key))
        return;
    (void)pthread_mutex_lock(&mc->fact_locks[i % MCACHE_LOCKS]);
    if (atomic_load(&mc->gen_facts) == snap->global) {
        f->used = true;
        f->hash = h;
        f->gen = snap->global;
        f->filled_ms = snap->at_ms;
        memcpy(f->key, key, strlen(key) + 1);
        if (p != NULL)
            f->p = *p;
        f->role = role;
    }
    (void)pthread_mutex_unlock(&mc->fact_locks[i % MCACHE_LOCKS]);
}

int mcache_project_get(struct mcache *mc, const char *name, struct meta_project_info *out)
{
    char key[MCACHE_FACT_KEY_MAX];
    int n = snprintf(key, sizeof(key), "p%s", name);

    if (n < 0 || (size_t)n >= sizeof(key))
        return 0;
    return fact_get(mc, key, out, NULL);
}

void mcache_project_put(struct mcache *mc, const char *name, const struct mcache_snap *snap,
                        const struct meta_project_info *p)
{
    char key[MCACHE_FACT_KEY_MAX];
    int n = snprintf(key, sizeof(key), "p%s", name);

    if (n > 0 && (size_t)n < sizeof(key))
        fact_put(mc, key, snap, p, 0);
}

int mcache_role_get(struct mcache *mc, int64_t project_id, int64_t user_id, int *role)
{
    char key[64];

    (void)snprintf(key, sizeof(key), "r%lld:%lld", (long long)project_id, (long long)user_id);
    return fact_get(mc, key, NULL, role); /* fits: two 64-bit integers */
}

void mcache_role_put(struct mcache *mc, int64_t project_id, int64_t user_id,
                     const struct mcache_snap *snap, int role)
{
    char key[64];

    (void)snprintf(key, sizeof(key), "r%lld:%lld", (long long)project_id, (long long)user_id);
    fact_put(mc, key, snap, NULL, role); /* fits: two 64-bit integers */
}

uint64_t mcache_hits(const struct mcache *mc)
{
    return mc != NULL ? atomic_load(&mc->hits) : 0;
}

uint64_t mcache_misses(const struct mcache *mc)
{
    return mc != NULL ? atomic_load(&mc->misses) : 0;
}
