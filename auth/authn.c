/* authn.c - HTTP Basic authentication of users and robots, bearer token verification, and
 * failed-login throttling.
 *
 * Invariants:
 *   1. A cache entry exists only for credentials that password_verify accepted within the last
 *      AUTHN_CACHE_TTL_S seconds (and, for a robot, before its expiry), and it stores only an
 *      HMAC of them under a random process key, with a stamp (SHA-256) of the stored hash they
 *      were verified against. A hit counts only while the row still carries that hash (and a
 *      robot is still enabled and unexpired): one read of the row, no KDF, at most once per
 *      META_REPLICA_WINDOW_MS per entry (the replica cache window, storage/meta.h), so a
 *      password or secret change, a delete or a disable on any replica over the same database
 *      ends the cached login within that window, and a busy client's requests in between read
 *      no row. In this process authn_forget ends it at once.
 *   2. Lookups compare HMACs with CRYPTO_memcmp over their fixed length.
 *   3. Plaintext passwords live on the stack only and are wiped with OPENSSL_cleanse before return.
 *   4. Unknown users and robots cost one password_verify against a dummy hash, like known ones.
 *   5. A name with the robot prefix is only ever checked against robots, never users.
 *   6. With an address, a blocked (user, address) pair is refused before any password check.
 *      With a store, the counts are the store's (throttle_new_shared), shared by every replica.
 *   7. Every password_verify of a request runs inside the check budget (auth/vgate.h); a cache
 *      hit needs no budget, so callers whose credentials were verified lately are never refused
 *      for lack of it.
 *   8. Requests with the same credentials that miss the cache together run one password check:
 *      the first leads a flight (flights[]), the others (up to AUTHN_FLIGHT_WAITERS_MAX, for at
 *      most AUTHN_FLIGHT_WAIT_MS) wait for its answer instead of each queueing for the gate.
 *      Without this, the expiry of a busy client's entry sent all its concurrent requests to the
 *      gate at once, and all but one were answered 429 (or waited) for a whole KDF run each. An
 *      accepted answer is the cache entry the leader stored; a refused one (BERR_UNAUTHORIZED)
 *      counts as a failed login for every waiter; any other ending (gate full, store failure)
 *      sends the waiters to check for themselves.
 *   9. Bearer tokens that verified are remembered by auth/tokcache.c until their own exp; a
 *      hit skips only the signature check and JSON parse, never a check that reads the
 *      database.
 * Thread-safety: `lock` guards `slots` and `flights`; the KDF runs outside the lock. prefix, throttle and gate
 * are set before serving (authn_configure, authn_set_check_budget) and read-only after;
 * throttle, gate and tokens have their own locks. */
#include "auth/authn.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>

#include "auth/password.h"
#include "auth/throttle.h"
#include "auth/tokcache.h"
#include "auth/token.h"
#include "auth/token_ring.h"
#include "auth/vgate.h"
#include "common/digest.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/meta.h"

/* failed logins since the start (/metrics); an _Atomic counter (STYLE 7) */
static _Atomic uint64_t failed_logins;

uint64_t authn_failed_logins(void)
{
    return atomic_load_explicit(&failed_logins, memory_order_relaxed);
}

#define AUTHN_SLOTS 256
/* password checks in progress that later requests with the same credentials may wait for, the
 * waiters one check may have, and how long one waits at most */
#define AUTHN_FLIGHTS 16
/* the longest client address a slot keeps a throttle key for (an IPv6 address in text) */
#define AUTHN_PAIR_ADDR_MAX 64
/* Keyed HMAC contexts kept for reuse (credential_mac): a new one per Basic request cost a dozen
 * allocations and a fetch by name of HMAC and SHA-256 inside OpenSSL 3. */
#define AUTHN_MAC_POOL 16
#define AUTHN_FLIGHT_WAITERS_MAX 64
#define AUTHN_FLIGHT_WAIT_MS 5000
#define AUTHN_DEFAULT_FAIL_LIMIT 5

struct authn_slot {
    unsigned char mac[32];
    unsigned char stamp[32]; /* SHA-256 of the hash verified against (invariant 1) */
    struct principal who;
    int64_t expires;
    int64_t checked_ms; /* monotonic time the row was last found carrying stamp */
    /* the throttle's key of this user with the client address pair_addr (throttle_key), so a
     * cached login's requests from one address do not hash it twice each; "" when none */
    char pair_addr[AUTHN_PAIR_ADDR_MAX];
    unsigned char pair_key[THROTTLE_KEY_LEN];
};

/* One password check in progress (invariant 8). */
struct authn_flight {
    bool busy; /* in use: a leader checks, or waiters still read the result */
    bool done; /* the leader finished; code and who hold its result */
    unsigned waiters;
    unsigned char mac[32];
    enum berr_code code; /* BERR_OK-like 0 when the credentials were accepted */
    struct principal who;
};

struct authn {
    struct meta *meta;
    unsigned char key[32];
    char dummy_hash[256]; /* verified against for unknown users: equal timing */
    char prefix[AUTHN_PREFIX_MAX + 1];
    struct throttle *throttle;
    struct vgate *gate;                    /* the budget of KDF runs (auth/vgate.h) */
    struct tokcache *tokens;               /* verified bearer tokens (auth/tokcache.h) */
    EVP_MAC_CTX *mac_keyed;                /* HMAC-SHA256 keyed with key: the pool's template */
    pthread_mutex_t mac_lock;              /* guards mac_pool and mac_free */
    EVP_MAC_CTX *mac_pool[AUTHN_MAC_POOL]; /* keyed contexts not in use */
    unsigned mac_free;
    pthread_mutex_t lock;     /* guards slots and flights */
    pthread_cond_t flight_cv; /* a flight ended */
    struct authn_slot slots[AUTHN_SLOTS];
    struct authn_flight flights[AUTHN_FLIGHTS];
};

/* mac_setup makes the keyed template of credential_mac (the last step of authn_new) */
static int mac_setup(struct authn *a)
{
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
            OSSL_PARAM_construct_end(),
    };
    EVP_MAC *mac;

    if (pthread_mutex_init(&a->mac_lock, NULL) != 0)
        return -1;
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    a->mac_keyed = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL; /* holds its own reference */
    EVP_MAC_free(mac);
    if (a->mac_keyed == NULL || EVP_MAC_init(a->mac_keyed, a->key, sizeof(a->key), params) != 1)
        return -1;
    return 0;
}

int authn_new(struct authn **out, struct meta *m, struct berr *err)
{
    char pass[33];
    struct authn *a;

    *out = NULL;
    a = mem_calloc(1, sizeof(*a));
    if (a == NULL)
        return berr_sys(err, ENOMEM, "authn: alloc");
    a->meta = m;
    memcpy(a->prefix, "robot$", sizeof("robot$"));
    if (rand_fill(a->key, sizeof(a->key)) < 0 || rand_hex(pass, sizeof(pass), 16) < 0 ||
        password_hash(a->dummy_hash, sizeof(a->dummy_hash), pass, err) < 0) {
        mem_free(a);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    if ((m != NULL ? throttle_new_shared(&a->throttle, AUTHN_DEFAULT_FAIL_LIMIT, m, err)
                   : throttle_new(&a->throttle, AUTHN_DEFAULT_FAIL_LIMIT, err)) < 0) {
        mem_free(a);
        return -1;
    }
    if (vgate_new(&a->gate, AUTHN_DEFAULT_CHECK_SLOTS, AUTHN_DEFAULT_CHECK_QUEUE,
                  AUTHN_DEFAULT_CHECK_WAIT_MS, err) < 0) {
        throttle_free(a->throttle);
        mem_free(a);
        return -1;
    }
    if (tokcache_new(&a->tokens, err) < 0) {
        vgate_free(a->gate);
        throttle_free(a->throttle);
        mem_free(a);
        return -1;
    }
    if (pthread_cond_init(&a->flight_cv, NULL) != 0) {
        tokcache_free(a->tokens);
        vgate_free(a->gate);
        throttle_free(a->throttle);
        mem_free(a);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    if (pthread_mutex_init(&a->lock, NULL) != 0) {
        (void)pthread_cond_destroy(&a->flight_cv); /* unused */
        tokcache_free(a->tokens);
        vgate_free(a->gate);
        throttle_free(a->throttle);
        mem_free(a);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    if (mac_setup(a) < 0) {
        authn_free(a);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    *out = a;
    return 0;
}

void authn_free(struct authn *a)
{
    if (a == NULL)
        return;
    for (unsigned i = 0; i < a->mac_free; i++)
        EVP_MAC_CTX_free(a->mac_pool[i]);
    EVP_MAC_CTX_free(a->mac_keyed);
    (void)pthread_mutex_destroy(&a->mac_lock);
    (void)pthread_mutex_destroy(&a->lock); /* no thread uses it any more */
    (void)pthread_cond_destroy(&a->flight_cv);
    throttle_free(a->throttle);
    vgate_free(a->gate);
    tokcache_free(a->tokens);
    OPENSSL_cleanse(a, sizeof(*a));
    mem_free(a);
}

int authn_configure(struct authn *a, const char *robot_prefix, unsigned login_fail_limit,
                    struct berr *err)
{
    struct throttle *t = NULL;
    size_t len = strlen(robot_prefix);

    if (len == 0 || len > AUTHN_PREFIX_MAX)
        return berr_set(err, BERR_BAD_REQUEST, "robot prefix must be 1..%d bytes",
                        AUTHN_PREFIX_MAX);
    if ((a->meta != NULL ? throttle_new_shared(&t, login_fail_limit, a->meta, err)
                         : throttle_new(&t, login_fail_limit, err)) < 0)
        return -1;
    memcpy(a->prefix, robot_prefix, len + 1);
    throttle_free(a->throttle);
    a->throttle = t;
    return 0;
}

int authn_set_check_budget(struct authn *a, unsigned slots, unsigned queue, unsigned wait_ms,
                           struct berr *err)
{
    struct vgate *g = NULL;

    if (vgate_new(&g, slots, queue, wait_ms, err) < 0)
        return -1;
    vgate_free(a->gate);
    a->gate = g;
    return 0;
}

uint64_t authn_checks_refused(struct authn *a)
{
    return vgate_refused(a->gate);
}

const char *authn_robot_prefix(const struct authn *a)
{
    return a->prefix;
}

int authn_basic_decode(const char *header, char *user, size_t user_cap, char *pass, size_t pass_cap)
{
    unsigned char dec[AUTHN_USER_MAX + AUTHN_PASS_MAX + 8];
    size_t inlen, pad = 0;
    const char *b64, *colon;
    int n;

    if (strncasecmp(header, "Basic ", 6) != 0)
        return -1;
    b64 = header + 6;
    while (*b64 == ' ')
        b64++;
    inlen = strlen(b64);
    while (inlen > 0 && b64[inlen - 1] == ' ')
        inlen--;
    if (inlen == 0 || inlen % 4 != 0 || inlen / 4 * 3 > sizeof(dec) - 1)
        return -1;
    n = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)inlen);
    if (n < 0)
        return -1;
    /* EVP_DecodeBlock counts the padding as zero bytes */
    if (b64[inlen - 1] == '=')
        pad++;
    if (inlen > 1 && b64[inlen - 2] == '=')
        pad++;
    n -= (int)pad;
    if (n <= 0)
        return -1;
    dec[n] = '\0';
    if (memchr(dec, '\0', (size_t)n) != NULL)
        goto bad;
    colon = memchr(dec, ':', (size_t)n);
    if (colon == NULL)
        goto bad;
    {
        size_t ulen = (size_t)(colon - (const char *)dec);
        size_t plen = (size_t)n - ulen - 1;
        if (ulen == 0 || ulen >= user_cap || plen >= pass_cap)
            goto bad;
        memcpy(user, dec, ulen);
        user[ulen] = '\0';
        memcpy(pass, colon + 1, plen);
        pass[plen] = '\0';
    }
    OPENSSL_cleanse(dec, sizeof(dec));
    return 0;
bad:
    OPENSSL_cleanse(dec, sizeof(dec));
    return -1;
}

/* mac_take: a keyed HMAC context of the pool, or a copy of the template; NULL on failure */
static EVP_MAC_CTX *mac_take(struct authn *a)
{
    EVP_MAC_CTX *c = NULL;

    (void)pthread_mutex_lock(&a->mac_lock);
    if (a->mac_free > 0)
        c = a->mac_pool[--a->mac_free];
    (void)pthread_mutex_unlock(&a->mac_lock);
    return c != NULL ? c : EVP_MAC_CTX_dup(a->mac_keyed);
}

/* mac_give returns c to the pool, or frees it when the pool is full */
static void mac_give(struct authn *a, EVP_MAC_CTX *c)
{
    (void)pthread_mutex_lock(&a->mac_lock);
    if (a->mac_free < AUTHN_MAC_POOL) {
        a->mac_pool[a->mac_free++] = c;
        c = NULL;
    }
    (void)pthread_mutex_unlock(&a->mac_lock);
    EVP_MAC_CTX_free(c);
}

/* credential_mac: HMAC-SHA256 under the process's key of "user:pass", the cache's key. A
 * pooled context is re-initialized with its key kept (EVP_MAC_init with no key). */
static int credential_mac(struct authn *a, const char *user, const char *pass,
                          unsigned char mac[32])
{
    unsigned char buf[AUTHN_USER_MAX + AUTHN_PASS_MAX + 2];
    size_t ulen = strlen(user), plen = strlen(pass), maclen = 0;
    EVP_MAC_CTX *c;
    bool ok;

    if (ulen + plen + 1 > sizeof(buf))
        return -1;
    c = mac_take(a);
    if (c == NULL)
        return -1;
    memcpy(buf, user, ulen);
    buf[ulen] = ':';
    memcpy(buf + ulen + 1, pass, plen);
    ok = EVP_MAC_init(c, NULL, 0, NULL) == 1 && EVP_MAC_update(c, buf, ulen + plen + 1) == 1 &&
         EVP_MAC_final(c, mac, &maclen, 32) == 1 && maclen == 32;
    OPENSSL_cleanse(buf, sizeof(buf));
    if (ok)
        mac_give(a, c);
    else
        EVP_MAC_CTX_free(c); /* state unknown: not reused */
    return ok ? 0 : -1;
}

/* cache_lookup: true on a hit (*out, stamp filled); *fresh when the entry's row was checked
 * less than META_REPLICA_WINDOW_MS ago (invariant 1); *have_pair with pair_key filled when the
 * entry keeps the throttle key of addr (NULL: none wanted) */
static bool cache_lookup(struct authn *a, const unsigned char mac[32], const char *addr,
                         struct principal *out, unsigned char stamp[32], bool *fresh,
                         unsigned char pair_key[THROTTLE_KEY_LEN], bool *have_pair)
{
    struct authn_slot *s = &a->slots[mac[0] % AUTHN_SLOTS];
    bool hit = false;

    *fresh = false;
    *have_pair = false;
    (void)pthread_mutex_lock(&a->lock);
    if (s->expires > now_s() && CRYPTO_memcmp(s->mac, mac, 32) == 0) {
        *out = s->who;
        memcpy(stamp, s->stamp, 32);
        *fresh = now_ms_mono() - s->checked_ms < META_REPLICA_WINDOW_MS;
        if (addr != NULL && s->pair_addr[0] != '\0' && strcmp(s->pair_addr, addr) == 0) {
            memcpy(pair_key, s->pair_key, THROTTLE_KEY_LEN);
            *have_pair = true;
        }
        hit = true;
    }
    (void)pthread_mutex_unlock(&a->lock);
    return hit;
}

/* cache_pair keeps addr's throttle key in mac's entry, when the slot still holds mac */
static void cache_pair(struct authn *a, const unsigned char mac[32], const char *addr,
                       const unsigned char pair_key[THROTTLE_KEY_LEN])
{
    struct authn_slot *s = &a->slots[mac[0] % AUTHN_SLOTS];
    size_t len = strlen(addr);

    if (len == 0 || len >= sizeof(s->pair_addr))
        return;
    (void)pthread_mutex_lock(&a->lock);
    if (CRYPTO_memcmp(s->mac, mac, 32) == 0) {
        memcpy(s->pair_addr, addr, len + 1);
        memcpy(s->pair_key, pair_key, THROTTLE_KEY_LEN);
    }
    (void)pthread_mutex_unlock(&a->lock);
}

static void cache_store(struct authn *a, const unsigned char mac[32], const struct principal *p,
                        const unsigned char stamp[32], int64_t expires)
{
    struct authn_slot *s = &a->slots[mac[0] % AUTHN_SLOTS];

    (void)pthread_mutex_lock(&a->lock);
    memcpy(s->mac, mac, 32);
    memcpy(s->stamp, stamp, 32);
    s->who = *p;
    s->expires = expires;
    s->checked_ms = now_ms_mono();
    s->pair_addr[0] = '\0'; /* a key of the slot's previous user must not be reused */
    (void)pthread_mutex_unlock(&a->lock);
}

/* cache_checked records that the row of mac's entry still carried its stamp just now */
static void cache_checked(struct authn *a, const unsigned char mac[32], const struct principal *p)
{
    struct authn_slot *s = &a->slots[mac[0] % AUTHN_SLOTS];

    (void)pthread_mutex_lock(&a->lock);
    if (CRYPTO_memcmp(s->mac, mac, 32) == 0) {
        s->who.sysadmin = p->sysadmin;
        s->checked_ms = now_ms_mono();
    }
    (void)pthread_mutex_unlock(&a->lock);
}

/* cache_drop empties the slot of mac when it still holds mac */
static void cache_drop(struct authn *a, const unsigned char mac[32])
{
    struct authn_slot *s = &a->slots[mac[0] % AUTHN_SLOTS];

    (void)pthread_mutex_lock(&a->lock);
    if (CRYPTO_memcmp(s->mac, mac, 32) == 0)
        memset(s, 0, sizeof(*s));
    (void)pthread_mutex_unlock(&a->lock);
}

/* hash_stamp: SHA-256 of a stored password or secret hash (invariant 1) */
static void hash_stamp(unsigned char out[32], const char *hash)
{
    unsigned int len = 0;

    if (EVP_Digest(hash, strlen(hash), out, &len, digest_sha256_md(), NULL) != 1 || len != 32)
        memset(out, 0, 32); /* matches no real stamp: the next hit re-verifies */
}

/* cache_current: the cached login *who still stands (invariant 1), sysadmin refreshed; false
 * when its row changed, went or cannot be read (then the full check runs) */
static bool cache_current(struct authn *a, struct principal *who, const unsigned char stamp[32])
{
    unsigned char now_stamp[32];
    bool ok = false;
    struct berr e;

    if (a->meta == NULL)
        return true;
    if (who->kind == PRINCIPAL_USER) {
        struct meta_user *u = mem_malloc(sizeof(*u));
        if (u != NULL && meta_user_get_by_id(a->meta, who->user_id, u, &e) == 0 &&
            strcmp(u->name, who->name) == 0) {
            hash_stamp(now_stamp, u->pw_hash);
            ok = CRYPTO_memcmp(now_stamp, stamp, 32) == 0;
            who->sysadmin = u->sysadmin;
        }
        if (u != NULL)
            OPENSSL_cleanse(u, sizeof(*u));
        mem_free(u);
    } else if (who->kind == PRINCIPAL_ROBOT) {
        struct meta_robot *rb = mem_malloc(sizeof(*rb));
        if (rb != NULL && meta_robot_get_by_id(a->meta, who->robot_id, rb, &e) == 0 &&
            strcmp(rb->name, who->name) == 0 && !rb->disabled &&
            (rb->expires_at <= 0 || now_s() < rb->expires_at)) {
            hash_stamp(now_stamp, rb->secret_hash);
            ok = CRYPTO_memcmp(now_stamp, stamp, 32) == 0;
        }
        if (rb != NULL)
            OPENSSL_cleanse(rb, sizeof(*rb));
        mem_free(rb);
    }
    return ok;
}

void authn_forget(struct authn *a, const char *user)
{
    (void)pthread_mutex_lock(&a->lock);
    for (unsigned i = 0; i < AUTHN_SLOTS; i++) {
        if (strcmp(a->slots[i].who.name, user) == 0)
            memset(&a->slots[i], 0, sizeof(a->slots[i]));
    }
    (void)pthread_mutex_unlock(&a->lock);
}

/* ---- flights (invariant 8) ---- */

enum flight_result { FLIGHT_NONE, FLIGHT_ACCEPTED, FLIGHT_REFUSED };

/* flight_join: when a check of the same credentials is in progress, wait for it (at most
 * AUTHN_FLIGHT_WAIT_MS) and take its answer: ACCEPTED (*out filled) or REFUSED (the same
 * credentials were wrong). NONE: check them yourself; *lead is then the flight this caller leads
 * (-1: none free), to be ended with flight_end. */
static enum flight_result flight_join(struct authn *a, const unsigned char mac[32],
                                      struct principal *out, int *lead)
{
    enum flight_result res = FLIGHT_NONE;
    struct authn_flight *f = NULL;
    struct timespec until;
    int free_idx = -1;

    *lead = -1;
    (void)pthread_mutex_lock(&a->lock);
    for (int i = 0; i < AUTHN_FLIGHTS; i++) {
        if (!a->flights[i].busy) {
            if (free_idx < 0)
                free_idx = i;
        } else if (!a->flights[i].done && CRYPTO_memcmp(a->flights[i].mac, mac, 32) == 0) {
            f = &a->flights[i];
        }
    }
    if (f == NULL) {
        if (free_idx >= 0) {
            f = &a->flights[free_idx];
            memset(f, 0, sizeof(*f));
            f->busy = true;
            memcpy(f->mac, mac, 32);
            *lead = free_idx;
        }
        (void)pthread_mutex_unlock(&a->lock);
        return FLIGHT_NONE;
    }
    if (f->waiters >= AUTHN_FLIGHT_WAITERS_MAX) {
        (void)pthread_mutex_unlock(&a->lock);
        return FLIGHT_NONE;
    }
    f->waiters++;
    (void)clock_gettime(CLOCK_REALTIME, &until); /* cannot fail with a valid clock id */
    until.tv_sec += AUTHN_FLIGHT_WAIT_MS / 1000;
    while (!f->done) {
        if (pthread_cond_timedwait(&a->flight_cv, &a->lock, &until) == ETIMEDOUT)
            break;
    }
    if (f->done && f->code == BERR_OK) {
        *out = f->who;
        res = FLIGHT_ACCEPTED;
    } else if (f->done && f->code == BERR_UNAUTHORIZED) {
        res = FLIGHT_REFUSED;
    }
    if (--f->waiters == 0 && f->done)
        memset(f, 0, sizeof(*f));
    (void)pthread_mutex_unlock(&a->lock);
    return res;
}

/* flight_end publishes the leader's answer (who NULL unless accepted) and wakes its waiters. */
static void flight_end(struct authn *a, int lead, enum berr_code code, const struct principal *who)
{
    struct authn_flight *f;

    if (lead < 0)
        return;
    (void)pthread_mutex_lock(&a->lock);
    f = &a->flights[lead];
    f->done = true;
    f->code = code;
    if (who != NULL)
        f->who = *who;
    if (f->waiters == 0)
        memset(f, 0, sizeof(*f));
    else
        (void)pthread_cond_broadcast(&a->flight_cv);
    (void)pthread_mutex_unlock(&a->lock);
}

/* check_user verifies a user's password; *until is when a cache entry must end. */
static int check_user(struct authn *a, const char *user, const char *pass, struct principal *out,
                      int64_t *until, unsigned char stamp[32], struct berr *err)
{
    struct meta_user *u = mem_malloc(sizeof(*u));
    struct berr uerr;
    bool ok = false;
    int rc;

    if (u == NULL)
        return berr_sys(err, ENOMEM, "authn: alloc");
    if (meta_user_get(a->meta, user, u, &uerr) < 0) {
        if (uerr.code != BERR_NOT_FOUND) {
            *err = uerr;
            rc = -1;
            goto out;
        }
        /* spend the same KDF time for unknown users so timing tells nothing */
        (void)password_verify(a->dummy_hash, pass, &ok, NULL);
        rc = berr_set(err, BERR_UNAUTHORIZED, "invalid username or password");
        goto out;
    }
    rc = password_verify(u->pw_hash, pass, &ok, err);
    if (rc < 0)
        goto out;
    if (!ok) {
        rc = berr_set(err, BERR_UNAUTHORIZED, "invalid username or password");
        goto out;
    }
    (void)snprintf(out->name, sizeof(out->name), "%s", u->name); /* same cap as meta_user.name */
    out->sysadmin = u->sysadmin;
    out->kind = PRINCIPAL_USER;
    out->user_id = u->id;
    *until = now_s() + AUTHN_CACHE_TTL_S;
    hash_stamp(stamp, u->pw_hash);
out:
    OPENSSL_cleanse(u, sizeof(*u));
    mem_free(u);
    return rc;
}

/* check_robot verifies a robot's secret, then that it is enabled and not expired. */
static int check_robot(struct authn *a, const char *name, const char *pass, struct principal *out,
                       int64_t *until, unsigned char stamp[32], struct berr *err)
{
    struct meta_robot *rb = mem_malloc(sizeof(*rb));
    struct berr rerr;
    int64_t now = now_s();
    bool ok = false;
    int rc;

    if (rb == NULL)
        return berr_sys(err, ENOMEM, "authn: alloc");
    if (meta_robot_get(a->meta, name, rb, &rerr) < 0) {
        if (rerr.code != BERR_NOT_FOUND) {
            *err = rerr;
            rc = -1;
            goto out;
        }
        (void)password_verify(a->dummy_hash, pass, &ok, NULL); /* equal timing, see above */
        rc = berr_set(err, BERR_UNAUTHORIZED, "invalid username or password");
        goto out;
    }
    rc = password_verify(rb->secret_hash, pass, &ok, err);
    if (rc < 0)
        goto out;
    if (!ok) {
        rc = berr_set(err, BERR_UNAUTHORIZED, "invalid username or password");
        goto out;
    }
    /* only the holder of the secret learns why a known robot is refused */
    if (rb->disabled) {
        rc = berr_set(err, BERR_UNAUTHORIZED, "robot account is disabled");
        goto out;
    }
    if (rb->expires_at > 0 && now >= rb->expires_at) {
        rc = berr_set(err, BERR_UNAUTHORIZED, "robot account has expired");
        goto out;
    }
    (void)snprintf(out->name, sizeof(out->name), "%s", rb->name); /* same cap */
    out->kind = PRINCIPAL_ROBOT;
    out->robot_id = rb->id;
    *until = now + AUTHN_CACHE_TTL_S;
    hash_stamp(stamp, rb->secret_hash);
    if (rb->expires_at > 0 && rb->expires_at < *until)
        *until = rb->expires_at;
out:
    OPENSSL_cleanse(rb, sizeof(*rb));
    mem_free(rb);
    return rc;
}

int authn_password(struct authn *a, const char *user, const char *pass, const char *addr,
                   struct principal *out, unsigned *retry_after_s, struct berr *err)
{
    unsigned char mac[32], stamp[32], pair_key[THROTTLE_KEY_LEN];
    int64_t until = 0;
    unsigned retry = 0;
    bool have_mac, hit, fresh = false, have_pair = false;
    int lead = -1;
    int rc;

    memset(out, 0, sizeof(*out));
    if (retry_after_s != NULL)
        *retry_after_s = 0;
    if (user[0] == '\0' || strlen(user) > AUTHN_USER_MAX || strlen(pass) >= AUTHN_PASS_MAX)
        return berr_set(err, BERR_UNAUTHORIZED, "invalid username or password");
    have_mac = credential_mac(a, user, pass, mac) == 0;
    hit = have_mac && cache_lookup(a, mac, addr, out, stamp, &fresh, pair_key, &have_pair);
    /* the throttle first, hit or not: a blocked pair is refused even its right password */
    if (addr != NULL) {
        if (!have_pair && throttle_key(a->throttle, user, addr, pair_key) < 0) {
            memset(out, 0, sizeof(*out));
            return berr_set(err, BERR_INTERNAL, "internal error");
        }
        if (throttle_check_key(a->throttle, pair_key, now_ms_wall(), &retry, err) < 0) {
            memset(out, 0, sizeof(*out));
            if (retry_after_s != NULL)
                *retry_after_s = retry;
            return -1;
        }
    }
    if (hit) {
        if (fresh)
            goto ok;
        if (cache_current(a, out, stamp)) {
            cache_checked(a, mac, out);
            goto ok;
        }
        cache_drop(a, mac); /* changed on some replica: verify afresh */
        memset(out, 0, sizeof(*out));
    }
    if (have_mac) {
        switch (flight_join(a, mac, out, &lead)) {
        case FLIGHT_ACCEPTED:
            goto ok;
        case FLIGHT_REFUSED:
            rc = berr_set(err, BERR_UNAUTHORIZED, "invalid username or password");
            goto failed;
        case FLIGHT_NONE:
            break;
        }
    }
    /* invariant 7: the KDF runs only inside the gate's budget */
    if (vgate_enter(a->gate, &retry, err) < 0) {
        flight_end(a, lead, err->code, NULL);
        if (retry_after_s != NULL)
            *retry_after_s = retry;
        return -1;
    }
    if (str_has_prefix(user, a->prefix))
        rc = check_robot(a, user, pass, out, &until, stamp, err);
    else
        rc = check_user(a, user, pass, out, &until, stamp, err);
    vgate_leave(a->gate);
    if (rc == 0 && have_mac)
        cache_store(a, mac, out, stamp, until);
    flight_end(a, lead, rc == 0 ? BERR_OK : err->code, out);
failed:
    if (rc < 0) {
        memset(out, 0, sizeof(*out));
        /* only a wrong secret counts, not a store failure */
        if (err->code == BERR_UNAUTHORIZED)
            atomic_fetch_add_explicit(&failed_logins, 1, memory_order_relaxed);
        if (addr != NULL && err->code == BERR_UNAUTHORIZED)
            throttle_fail(a->throttle, user, addr, now_ms_wall());
        return -1;
    }
ok:
    if (addr != NULL) {
        throttle_success_key(a->throttle, pair_key);
        if (have_mac && !have_pair)
            cache_pair(a, mac, addr, pair_key);
    }
    return 0;
}

int authn_basic_from(struct authn *a, const char *header, const char *addr, struct principal *out,
                     unsigned *retry_after_s, struct berr *err)
{
    char user[AUTHN_USER_MAX + 1], pass[AUTHN_PASS_MAX];
    int rc;

    memset(out, 0, sizeof(*out));
    if (retry_after_s != NULL)
        *retry_after_s = 0;
    if (authn_basic_decode(header, user, sizeof(user), pass, sizeof(pass)) < 0)
        return berr_set(err, BERR_UNAUTHORIZED, "authentication required");
    rc = authn_password(a, user, pass, addr, out, retry_after_s, err);
    OPENSSL_cleanse(pass, sizeof(pass));
    return rc;
}

int authn_basic(struct authn *a, const char *header, struct principal *out, struct berr *err)
{
    return authn_basic_from(a, header, NULL, out, NULL, err);
}

int authn_bearer(struct authn *a, struct tok_ring *ring, const char *header, const char *iss,
                 const char *aud, struct tok_claims *claims, struct principal *out,
                 struct berr *err)
{
    unsigned char key[32];
    int64_t now = now_s();
    bool have_key;
    const char *jwt;
    size_t len;

    memset(out, 0, sizeof(*out));
    tok_claims_init(claims);
    if (strncasecmp(header, "Bearer ", 7) != 0)
        return berr_set(err, BERR_UNAUTHORIZED, "authentication required");
    jwt = header + 7;
    while (*jwt == ' ')
        jwt++;
    len = strlen(jwt);
    if (len == 0 || len > TOK_MAX_LEN || strchr(jwt, ' ') != NULL)
        return berr_set(err, BERR_UNAUTHORIZED, "malformed token");
    /* a token seen before and still inside its window needs no signature check (tokcache.h);
     * the key hashes the whole token, header (kid) and signature included, so a hit is a token
     * this ring verified before (the ring's address names it: one ring per process, and a
     * second ring, as in tests, gets no hit of the first); keys leave a ring only after every
     * token they signed has expired */
    char ring_id[2 * sizeof(void *) + 3];
    (void)snprintf(ring_id, sizeof(ring_id), "%p", (void *)ring);
    have_key = tokcache_key(key, ring_id, iss, aud, jwt) == 0;
    if (!have_key || tokcache_get(a->tokens, key, now, AUTHN_BEARER_LEEWAY_S, claims) != 1) {
        if (tok_ring_verify(claims, ring, jwt, iss, aud, now, AUTHN_BEARER_LEEWAY_S, err) < 0)
            return -1;
        if (have_key)
            tokcache_put(a->tokens, key, len, claims);
    }
    if (strlen(claims->sub) > AUTHN_USER_MAX) {
        tok_claims_cleanup(claims);
        return berr_set(err, BERR_UNAUTHORIZED, "malformed token");
    }
    memcpy(out->name, claims->sub, strlen(claims->sub) + 1);
    if (out->name[0] == '\0')
        out->kind = PRINCIPAL_ANONYMOUS;
    else if (str_has_prefix(out->name, a->prefix))
        out->kind = PRINCIPAL_ROBOT;
    else
        out->kind = PRINCIPAL_USER;
    out->bearer = true;
    return 0;
}

int authn_bootstrap_admin(struct meta *m, bool *created, struct berr *err)
{
    char pass[128], hash[512];
    const char *env = getenv("BERTH_ADMIN_PASSWORD");
    struct meta_user u;
    struct berr e;
    int rc;

    *created = false;
    if (meta_user_get(m, "admin", &u, &e) == 0)
        return 0;
    if (e.code != BERR_NOT_FOUND) {
        *err = e;
        return -1;
    }
    if (env != NULL && env[0] != '\0') {
        if (strlen(env) >= sizeof(pass))
            return berr_set(err, BERR_BAD_REQUEST, "BERTH_ADMIN_PASSWORD is too long");
        memcpy(pass, env, strlen(env) + 1);
    } else if (password_generate(pass, sizeof(pass)) < 0) {
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    rc = password_hash(hash, sizeof(hash), pass, err);
    if (rc == 0)
        rc = meta_user_create(m, "admin", hash, true, NULL, err);
    if (rc == 0) {
        *created = true;
        if (env == NULL || env[0] == '\0') {
            /* printed once, on the first start only; never logged */
            printf("berth: generated admin password (shown once): %s\n", pass);
            (void)fflush(stdout);
        }
    }
    OPENSSL_cleanse(pass, sizeof(pass));
    OPENSSL_cleanse(hash, sizeof(hash));
    return rc;
}
