/* throttle.c - failed-login counting with exponential back-off (see throttle.h).
 *
 * Two homes for the counts. A throttle made by throttle_new keeps them in its own table (one
 * process). One made by throttle_new_shared keeps them only in the metadata store's shared
 * state, so every replica over one database counts the same failures. Its only local memory is
 * a hint per pair, in the table the other mode counts in: "the store held no count and no block
 * for this pair at clear_ms" (monotonic). For META_REPLICA_WINDOW_MS (the replica cache window,
 * storage/meta.h) after that, throttle_check and throttle_success answer without a store read,
 * so an authenticated client's requests do not each cost two database reads; a failure counted
 * by this process drops the hint at once, so guesses here always read the store; failures
 * counted by another replica are seen here within that window:
 *   ns "throttle_salt", key "salt": the salt, 32 random bytes in hex, created once
 *                   (create-only put; the loser of a race reads the winner's)
 *   ns "throttle",  key = hex of the pair key (invariant 4): the failure count, an atomic
 *                   counter (meta_state_incr) that expires THROTTLE_FORGET_MS after the first
 *                   failure counted (a fixed window)
 *   ns "throttle_block", same key: the end of the back-off in wall-clock ms, expiring then
 *
 * Invariants:
 *   1. An entry with used == false holds nothing; key is meaningful only when used.
 *   2. until_ms > now means the pair is blocked; it is set only by throttle_fail, when fails
 *      reaches the limit, to last_ms + back-off(fails), never past THROTTLE_MAX_MS from then.
 *   3. fails counts failures since the last success or the last forget; a failure arriving
 *      THROTTLE_FORGET_MS after the previous one (and after its block ended) starts from 1.
 *   4. Keys are SHA-256(salt || user || 0 || addr) with a random per-process salt, compared with
 *      CRYPTO_memcmp.
 * Thread-safety: `lock` guards `sets`. */
#include "auth/throttle.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/digest.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/util.h"
#include "storage/meta.h"

#define NS_SALT "throttle_salt"
#define NS_COUNT "throttle"
#define NS_BLOCK "throttle_block"

struct throttle_entry {
    unsigned char key[32];
    bool used;
    unsigned fails;
    int64_t last_ms;
    int64_t until_ms;
    int64_t clear_ms; /* shared mode: the store was seen clear for key then (monotonic) */
};

struct throttle {
    struct meta *m; /* shared mode when set: the table below holds only hints (clear_ms) */
    unsigned limit;
    unsigned char salt[32];
    pthread_mutex_t lock; /* guards sets */
    struct throttle_entry sets[THROTTLE_SETS][THROTTLE_WAYS];
};

int throttle_new(struct throttle **out, unsigned limit, struct berr *err)
{
    struct throttle *t;

    *out = NULL;
    t = mem_calloc(1, sizeof(*t));
    if (t == NULL)
        return berr_sys(err, ENOMEM, "throttle: alloc");
    t->limit = limit > 0 ? limit : 1;
    if (rand_fill(t->salt, sizeof(t->salt)) < 0 || pthread_mutex_init(&t->lock, NULL) != 0) {
        mem_free(t);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    *out = t;
    return 0;
}

/* shared_salt reads the store's salt, creating it when there is none */
static int shared_salt(struct throttle *t, struct berr *err)
{
    char hex[65], *val = NULL;
    size_t len = 0;
    int rc;

    for (int tries = 0; tries < 3; tries++) {
        rc = meta_state_get(t->m, NS_SALT, "salt", &val, &len, NULL, err);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            rc = len == 64 && parse_hex(t->salt, sizeof(t->salt), val, len) == 32 ? 0 : -1;
            OPENSSL_cleanse(val, len);
            mem_free(val);
            if (rc < 0)
                return berr_set(err, BERR_INTERNAL, "throttle: the stored salt is unreadable");
            return 0;
        }
        if (rand_hex(hex, sizeof(hex), 32) < 0)
            return berr_set(err, BERR_INTERNAL, "internal error");
        rc = meta_state_put(t->m, NS_SALT, "salt", hex, 64, 0, 0, NULL, err);
        OPENSSL_cleanse(hex, sizeof(hex));
        if (rc < 0 && err->code != BERR_CONFLICT)
            return -1;
        /* created, or another replica was first: read what is stored */
    }
    return berr_set(err, BERR_INTERNAL, "throttle: no salt could be stored");
}

int throttle_new_shared(struct throttle **out, unsigned limit, struct meta *m, struct berr *err)
{
    struct throttle *t = NULL;

    *out = NULL;
    if (m == NULL)
        return berr_set(err, BERR_INTERNAL, "throttle: no store");
    if (throttle_new(&t, limit, err) < 0)
        return -1;
    t->m = m;
    if (shared_salt(t, err) < 0) {
        throttle_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void throttle_free(struct throttle *t)
{
    if (t == NULL)
        return;
    (void)pthread_mutex_destroy(&t->lock); /* no thread uses it any more */
    OPENSSL_cleanse(t->salt, sizeof(t->salt));
    mem_free(t);
}

static int pair_key(const struct throttle *t, const char *user, const char *addr,
                    unsigned char key[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int len = 0;
    int rc = -1;

    if (md == NULL)
        return -1;
    if (EVP_DigestInit_ex(md, digest_sha256_md(), NULL) == 1 &&
        EVP_DigestUpdate(md, t->salt, sizeof(t->salt)) == 1 &&
        EVP_DigestUpdate(md, user, strlen(user) + 1) == 1 &&
        EVP_DigestUpdate(md, addr, strlen(addr)) == 1 && EVP_DigestFinal_ex(md, key, &len) == 1 &&
        len == 32)
        rc = 0;
    EVP_MD_CTX_free(md);
    return rc;
}

static void key_hex(char out[65], const unsigned char key[32])
{
    static const char hx[] = "0123456789abcdef";

    for (int i = 0; i < 32; i++) {
        out[2 * i] = hx[key[i] >> 4];
        out[2 * i + 1] = hx[key[i] & 15];
    }
    out[64] = '\0';
}

static struct throttle_entry *set_of(struct throttle *t, const unsigned char key[32])
{
    unsigned idx = ((unsigned)key[0] << 8 | key[1]) % THROTTLE_SETS;
    return t->sets[idx];
}

static bool stale(const struct throttle_entry *e, int64_t now_ms)
{
    return !e->used || (e->until_ms <= now_ms && now_ms - e->last_ms >= THROTTLE_FORGET_MS);
}

/* find returns the live entry of key, or NULL (a stale one is cleared on the way). */
static struct throttle_entry *find(struct throttle_entry *set, const unsigned char key[32],
                                   int64_t now_ms)
{
    for (unsigned i = 0; i < THROTTLE_WAYS; i++) {
        struct throttle_entry *e = &set[i];
        if (!e->used || CRYPTO_memcmp(e->key, key, 32) != 0)
            continue;
        if (stale(e, now_ms)) {
            memset(e, 0, sizeof(*e));
            return NULL;
        }
        return e;
    }
    return NULL;
}

/* victim picks the way to reuse: a free or stale one, else the unblocked one idle longest,
 * else the blocked one whose back-off ends first. */
static struct throttle_entry *victim(struct throttle_entry *set, int64_t now_ms)
{
    struct throttle_entry *idle = NULL, *blocked = NULL;

    for (unsigned i = 0; i < THROTTLE_WAYS; i++) {
        struct throttle_entry *e = &set[i];
        if (stale(e, now_ms))
            return e;
        if (e->until_ms <= now_ms) {
            if (idle == NULL || e->last_ms < idle->last_ms)
                idle = e;
        } else if (blocked == NULL || e->until_ms < blocked->until_ms) {
            blocked = e;
        }
    }
    return idle != NULL ? idle : blocked;
}

static int64_t backoff_ms(unsigned fails, unsigned limit)
{
    unsigned shift = fails - limit; /* fails >= limit here */
    int64_t ms = THROTTLE_BASE_MS;

    while (shift-- > 0 && ms < THROTTLE_MAX_MS)
        ms *= 2;
    return ms < THROTTLE_MAX_MS ? ms : THROTTLE_MAX_MS;
}

/* hint_clear: shared mode, the store was seen clear for key less than META_REPLICA_WINDOW_MS
 * ago */
static bool hint_clear(struct throttle *t, const unsigned char key[32])
{
    struct throttle_entry *set = set_of(t, key);
    int64_t now = now_ms_mono();
    bool clear = false;

    (void)pthread_mutex_lock(&t->lock);
    for (unsigned i = 0; i < THROTTLE_WAYS; i++) {
        if (set[i].used && CRYPTO_memcmp(set[i].key, key, 32) == 0)
            clear = now - set[i].clear_ms < META_REPLICA_WINDOW_MS;
    }
    (void)pthread_mutex_unlock(&t->lock);
    return clear;
}

/* hint_set records (clear) or drops (!clear) the hint of key */
static void hint_set(struct throttle *t, const unsigned char key[32], bool clear)
{
    struct throttle_entry *set = set_of(t, key), *e = NULL, *oldest = &set[0];

    (void)pthread_mutex_lock(&t->lock);
    for (unsigned i = 0; i < THROTTLE_WAYS && e == NULL; i++) {
        if (set[i].used && CRYPTO_memcmp(set[i].key, key, 32) == 0)
            e = &set[i];
        else if (!set[i].used || set[i].clear_ms < oldest->clear_ms)
            oldest = !oldest->used ? oldest : &set[i];
    }
    if (e == NULL && clear) {
        e = oldest;
        memset(e, 0, sizeof(*e));
        memcpy(e->key, key, 32);
        e->used = true;
    }
    if (e != NULL) {
        if (clear)
            e->clear_ms = now_ms_mono();
        else
            memset(e, 0, sizeof(*e));
    }
    (void)pthread_mutex_unlock(&t->lock);
}

int throttle_key(const struct throttle *t, const char *user, const char *addr,
                 unsigned char key[THROTTLE_KEY_LEN])
{
    return pair_key(t, user, addr, key);
}

int throttle_check(struct throttle *t, const char *user, const char *addr, int64_t now_ms,
                   unsigned *retry_after_s, struct berr *err)
{
    unsigned char key[32];

    *retry_after_s = 0;
    if (pair_key(t, user, addr, key) < 0)
        return berr_set(err, BERR_INTERNAL, "internal error");
    return throttle_check_key(t, key, now_ms, retry_after_s, err);
}

int throttle_check_key(struct throttle *t, const unsigned char key[THROTTLE_KEY_LEN],
                       int64_t now_ms, unsigned *retry_after_s, struct berr *err)
{
    struct throttle_entry *e;
    int64_t left = 0;

    *retry_after_s = 0;
    if (t->m != NULL) {
        char hex[65], *val = NULL;
        size_t len = 0;
        int64_t until = 0;
        int rc;

        if (hint_clear(t, key))
            return 0;
        key_hex(hex, key);
        rc = meta_state_get(t->m, NS_BLOCK, hex, &val, &len, NULL, err);
        if (rc < 0)
            return -1;
        if (rc == 1 && parse_i64_range(&until, val, len, 0, INT64_MAX) == 0 && until > now_ms)
            left = until - now_ms;
        mem_free(val);
        /* no block: clear only when no count is building up either (throttle_success) */
    } else {
        (void)pthread_mutex_lock(&t->lock);
        e = find(set_of(t, key), key, now_ms);
        if (e != NULL && e->until_ms > now_ms)
            left = e->until_ms - now_ms;
        (void)pthread_mutex_unlock(&t->lock);
    }
    if (left <= 0)
        return 0;
    *retry_after_s = (unsigned)((left + 999) / 1000);
    return berr_set(err, BERR_TOOMANYREQUESTS, "too many failed logins, retry in %u s",
                    *retry_after_s);
}

/* shared_fail counts one failure in the store and, at the limit, stores the block's end */
static void shared_fail(struct throttle *t, const unsigned char key[32], int64_t now_ms)
{
    char hex[65], until_s[24];
    int64_t fails = 0, until;
    struct berr e;
    int n;

    key_hex(hex, key);
    if (meta_state_incr(t->m, NS_COUNT, hex, 1, (now_ms + THROTTLE_FORGET_MS) / 1000 + 1, &fails,
                        &e) < 0) {
        log_msg(LOG_WARN, "throttle: a failed login was not counted: %s", e.msg);
        return;
    }
    if (fails < (int64_t)t->limit)
        return;
    until = now_ms + backoff_ms(fails > 1000000 ? 1000000u : (unsigned)fails, t->limit);
    n = snprintf(until_s, sizeof(until_s), "%lld", (long long)until);
    if (meta_state_put(t->m, NS_BLOCK, hex, until_s, (size_t)n, until / 1000 + 1, META_STATE_ANY,
                       NULL, &e) < 0)
        log_msg(LOG_WARN, "throttle: a back-off was not stored: %s", e.msg);
}

void throttle_fail(struct throttle *t, const char *user, const char *addr, int64_t now_ms)
{
    unsigned char key[32];
    struct throttle_entry *set, *e;

    if (pair_key(t, user, addr, key) < 0)
        return; /* nothing to count under; the login failed anyway */
    if (t->m != NULL) {
        hint_set(t, key, false);
        shared_fail(t, key, now_ms);
        return;
    }
    (void)pthread_mutex_lock(&t->lock);
    set = set_of(t, key);
    e = find(set, key, now_ms);
    if (e == NULL) {
        e = victim(set, now_ms);
        memset(e, 0, sizeof(*e));
        memcpy(e->key, key, 32);
        e->used = true;
    }
    if (e->fails < 1000000u)
        e->fails++;
    e->last_ms = now_ms;
    if (e->fails >= t->limit)
        e->until_ms = now_ms + backoff_ms(e->fails, t->limit);
    (void)pthread_mutex_unlock(&t->lock);
}

void throttle_success(struct throttle *t, const char *user, const char *addr)
{
    unsigned char key[32];

    if (pair_key(t, user, addr, key) == 0)
        throttle_success_key(t, key);
}

void throttle_success_key(struct throttle *t, const unsigned char key[THROTTLE_KEY_LEN])
{
    struct throttle_entry *set;

    if (t->m != NULL) {
        char hex[65], *val = NULL;
        struct berr e;
        int rc;

        /* a success is every authenticated request: one read, and writes only when there is
         * a count to forget (a live block has its count: the check refused the pair while
         * one outlived it) */
        if (hint_clear(t, key))
            return;
        key_hex(hex, key);
        rc = meta_state_get(t->m, NS_COUNT, hex, &val, NULL, NULL, &e);
        mem_free(val);
        if (rc == 1 && (meta_state_remove(t->m, NS_BLOCK, hex, META_STATE_ANY, &e) < 0 ||
                        meta_state_remove(t->m, NS_COUNT, hex, META_STATE_ANY, &e) < 0))
            rc = -1;
        if (rc < 0)
            log_msg(LOG_WARN, "throttle: a success was not stored: %s", e.msg);
        else
            hint_set(t, key, true); /* no count (any more), and so no block */
        return;
    }
    (void)pthread_mutex_lock(&t->lock);
    set = set_of(t, key);
    for (unsigned i = 0; i < THROTTLE_WAYS; i++) {
        if (set[i].used && CRYPTO_memcmp(set[i].key, key, 32) == 0)
            memset(&set[i], 0, sizeof(set[i]));
    }
    (void)pthread_mutex_unlock(&t->lock);
}
