/* token_ring.c - the shared signing keys of bearer tokens (see token_ring.h).
 *
 * Invariants:
 *   1. keys[0..n) are loaded keys, never freed before tok_ring_free, so a pointer handed out
 *      by tok_ring_signer or used by a verification stays valid however the signer changes;
 *      `signer` points into keys. At most TOK_RING_MAX are loaded.
 *   2. The store's "signer" record only ever names a key record that was stored before it:
 *      the key is put first (create-only), then "signer" (create-only on the first start,
 *      compare-and-swap on its version when rotating).
 *   3. A retired key record gets an expiry of keep_s + TOK_RING_REFRESH_S from its retirement:
 *      a replica may sign with it for up to TOK_RING_REFRESH_S after the rotation, and such a
 *      token lives at most keep_s.
 *   4. Private keys travel as PEM text only between the store and OpenSSL; every copy is wiped
 *      (OPENSSL_cleanse) before it is freed, and none is ever logged.
 * `mu` guards keys, n, signer, checked_ms, miss_sec and misses; no store call is made while
 * holding it except the ones under the refresh (a short read). Thread-safe. */
#include "auth/token_ring.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/meta.h"

#define NS_KEY "token_key"
#define SIGNER "signer"

struct tok_ring {
    struct meta *m; /* NULL: a ring of fixed keys */
    pthread_mutex_t mu;
    struct tok_key *keys[TOK_RING_MAX];
    size_t n;
    struct tok_key *signer;
    int64_t checked_ms; /* monotonic: the last look at the store's signer */
    int64_t miss_sec;   /* monotonic second of the counted misses */
    unsigned misses;
};

static bool kid_ok(const char *kid)
{
    size_t i;

    if (strlen(kid) != TOK_KID_LEN)
        return false;
    for (i = 0; i < TOK_KID_LEN; i++) {
        char ch = kid[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '2' && ch <= '7') || ch == ':'))
            return false;
    }
    return true;
}

/* key_record is the JSON of a key record; *out is new (wipe and free(), jansson's) */
static int key_record(char **out, const struct tok_key *k, struct berr *err)
{
    char *pem = NULL;
    size_t len = 0;
    json_t *o;

    *out = NULL;
    if (tok_key_private_pem(&pem, &len, k, err) < 0)
        return -1;
    o = json_pack("{s:s,s:I}", "pem", pem, "created", (json_int_t)now_s());
    OPENSSL_cleanse(pem, len);
    mem_free(pem);
    if (o != NULL)
        *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (*out == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    return 0;
}

static void wipe_free(char *s, bool jansson)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, strlen(s));
    if (jansson)
        free(s);
    else
        mem_free(s);
}

/* key_put stores k's record create-only; a record of that kid already there is the same key
 * (the kid is the hash of the public key), so that is fine too */
static int key_put(struct meta *m, const struct tok_key *k, struct berr *err)
{
    char *rec = NULL;
    int rc;

    if (key_record(&rec, k, err) < 0)
        return -1;
    rc = meta_state_put(m, NS_KEY, tok_key_kid(k), rec, strlen(rec), 0, 0, NULL, err);
    wipe_free(rec, true);
    if (rc < 0 && err->code == BERR_CONFLICT)
        rc = 0;
    return rc;
}

/* key_get loads the key record of kid: 1 and *out, 0 when the store has none, -1 on failure */
static int key_get(struct tok_key **out, struct meta *m, const char *kid, struct berr *err)
{
    char *val = NULL;
    size_t len = 0;
    json_t *o = NULL;
    const char *pem;
    int rc;

    *out = NULL;
    rc = meta_state_get(m, NS_KEY, kid, &val, &len, NULL, err);
    if (rc != 1)
        goto out;
    o = json_loadb(val, len, 0, NULL);
    pem = json_string_value(json_object_get(o, "pem"));
    if (pem == NULL) {
        log_msg(LOG_ERROR, "token key: the stored key %s is unreadable", kid);
        rc = berr_set(err, BERR_INTERNAL, "internal error");
        goto out;
    }
    rc = tok_key_from_pem(out, pem, strlen(pem), err) < 0 ? -1 : 1;
    if (rc == 1 && strcmp(tok_key_kid(*out), kid) != 0) {
        log_msg(LOG_ERROR, "token key: the stored key %s has another kid", kid);
        tok_key_free(*out);
        *out = NULL;
        rc = berr_set(err, BERR_INTERNAL, "internal error");
    }
out:
    if (o != NULL) {
        json_t *p = json_object_get(o, "pem");
        if (json_is_string(p))
            OPENSSL_cleanse((void *)(uintptr_t)json_string_value(p), json_string_length(p));
    }
    json_decref(o);
    if (val != NULL) {
        OPENSSL_cleanse(val, len);
        mem_free(val);
    }
    return rc;
}

/* signer_kid reads the store's signer: 1 and kid (TOK_KID_LEN + 1) and *version, 0 none */
static int signer_kid(struct meta *m, char *kid, int64_t *version, struct berr *err)
{
    char *val = NULL;
    size_t len = 0;
    int rc = meta_state_get(m, NS_KEY, SIGNER, &val, &len, version, err);

    kid[0] = '\0';
    if (rc == 1) {
        if (len != TOK_KID_LEN) {
            rc = berr_set(err, BERR_INTERNAL, "token key: the stored signer is unreadable");
        } else {
            memcpy(kid, val, len);
            kid[len] = '\0';
        }
    }
    mem_free(val);
    return rc;
}

/* first_key is the key of a store that has none yet: the key file's at import_path (made
 * there first when there is none, mode 0600, as a single-host installation always had it),
 * else a new one */
static int first_key(struct tok_key **out, const char *import_path, struct berr *err)
{
    int rc;

    *out = NULL;
    if (import_path == NULL) {
        rc = tok_key_generate(out, TOK_KEY_BITS, err);
        if (rc == 0)
            log_msg(LOG_INFO, "token key: created a %d-bit RSA key (kid %s)", TOK_KEY_BITS,
                    tok_key_kid(*out));
        return rc;
    }
    rc = tok_key_load_or_create(out, import_path, err);
    if (rc == 0)
        log_msg(LOG_INFO, "token key: stored the key of %s in the metadata store (kid %s)",
                import_path, tok_key_kid(*out));
    return rc;
}

/* file_tighten makes a key file left readable by others (an older version, a copy made with
 * cp) the owner's alone, as loading it would: it still holds a private key */
static void file_tighten(const char *path)
{
    struct stat st;

    if (path == NULL || stat(path, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) == 0)
        return;
    if (chmod(path, 0600) == 0)
        log_msg(LOG_WARN, "token key %s had mode %03o, now 600", path,
                (unsigned)(st.st_mode & 0777));
    else
        log_errno(LOG_WARN, errno, "token key %s is readable by group or others (mode %03o)", path,
                  (unsigned)(st.st_mode & 0777));
}

static struct tok_ring *ring_alloc(struct meta *m, struct berr *err)
{
    struct tok_ring *r = mem_calloc(1, sizeof(*r));

    if (r == NULL) {
        (void)berr_set(err, BERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        mem_free(r);
        (void)berr_set(err, BERR_INTERNAL, "internal error");
        return NULL;
    }
    r->m = m;
    return r;
}

/* ring_add_locked keeps k (taken) in the ring; returns it, or NULL when the ring is full */
static struct tok_key *ring_add_locked(struct tok_ring *r, struct tok_key *k)
{
    if (r->n >= TOK_RING_MAX) {
        log_msg(LOG_ERROR, "token key: more than %d keys in one run; key %s not loaded",
                TOK_RING_MAX, tok_key_kid(k));
        tok_key_free(k);
        return NULL;
    }
    r->keys[r->n++] = k;
    return k;
}

static struct tok_key *ring_find_locked(struct tok_ring *r, const char *kid)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(tok_key_kid(r->keys[i]), kid) == 0)
            return r->keys[i];
    return NULL;
}

int tok_ring_from_key(struct tok_ring **out, struct tok_key *k, struct berr *err)
{
    struct tok_ring *r;

    *out = NULL;
    if (k == NULL)
        return berr_set(err, BERR_INTERNAL, "no key");
    r = ring_alloc(NULL, err);
    if (r == NULL) {
        tok_key_free(k);
        return -1;
    }
    r->signer = ring_add_locked(r, k);
    *out = r;
    return 0;
}

int tok_ring_open(struct tok_ring **out, struct meta *m, const char *import_path, struct berr *err)
{
    char kid[TOK_KID_LEN + 1];
    struct tok_key *k = NULL;
    struct tok_ring *r;
    int rc;

    *out = NULL;
    r = ring_alloc(m, err);
    if (r == NULL)
        return -1;
    for (int tries = 0; tries < 3 && r->signer == NULL; tries++) {
        rc = signer_kid(m, kid, NULL, err);
        if (rc < 0)
            goto fail;
        if (rc == 1) { /* the store has one: use it */
            rc = key_get(&k, m, kid, err);
            if (rc < 0)
                goto fail;
            if (rc == 0) {
                log_msg(LOG_ERROR, "token key: the signer %s has no key record", kid);
                (void)berr_set(err, BERR_INTERNAL, "token key: the stored signer has no key");
                goto fail;
            }
            r->signer = ring_add_locked(r, k);
            file_tighten(import_path);
            break;
        }
        /* the first start on this store (invariant 2: the key, then the signer) */
        if (first_key(&k, import_path, err) < 0 || key_put(m, k, err) < 0)
            goto fail;
        rc = meta_state_put(m, NS_KEY, SIGNER, tok_key_kid(k), TOK_KID_LEN, 0, 0, NULL, err);
        if (rc == 0) {
            r->signer = ring_add_locked(r, k);
            break;
        }
        if (err->code != BERR_CONFLICT)
            goto fail;
        /* another replica stored its key first: drop ours, use theirs */
        (void)meta_state_remove(m, NS_KEY, tok_key_kid(k), META_STATE_ANY, err);
        tok_key_free(k);
        k = NULL;
    }
    if (r->signer == NULL) {
        (void)berr_set(err, BERR_INTERNAL, "token key: no signing key could be stored");
        goto fail;
    }
    r->checked_ms = now_ms_mono();
    *out = r;
    return 0;
fail:
    tok_key_free(k);
    tok_ring_free(r);
    return -1;
}

void tok_ring_free(struct tok_ring *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++)
        tok_key_free(r->keys[i]);
    (void)pthread_mutex_destroy(&r->mu);
    mem_free(r);
}

/* load_kid finds kid in the ring or, when allowed, the store; NULL when unknown */
static const struct tok_key *load_kid(struct tok_ring *r, const char *kid, bool rate_limited)
{
    struct tok_key *k, *have;
    int64_t sec;
    struct berr e;
    int rc;

    (void)pthread_mutex_lock(&r->mu);
    k = ring_find_locked(r, kid);
    if (k == NULL && rate_limited) {
        sec = now_ms_mono() / 1000;
        if (sec != r->miss_sec) {
            r->miss_sec = sec;
            r->misses = 0;
        }
        if (r->misses >= TOK_RING_MISSES_PER_S) {
            (void)pthread_mutex_unlock(&r->mu);
            return NULL;
        }
        r->misses++;
    }
    (void)pthread_mutex_unlock(&r->mu);
    if (k != NULL || r->m == NULL || !kid_ok(kid))
        return k;
    rc = key_get(&k, r->m, kid, &e);
    if (rc < 0)
        log_msg(LOG_WARN, "token key: lookup failed: %s", e.msg);
    if (rc != 1)
        return NULL;
    (void)pthread_mutex_lock(&r->mu);
    have = ring_find_locked(r, kid); /* another thread loaded it meanwhile */
    if (have != NULL)
        tok_key_free(k);
    else
        have = ring_add_locked(r, k);
    (void)pthread_mutex_unlock(&r->mu);
    return have;
}

const struct tok_key *tok_ring_signer(struct tok_ring *r)
{
    char kid[TOK_KID_LEN + 1];
    const struct tok_key *k;
    int64_t now = now_ms_mono();
    bool look;
    struct berr e;

    (void)pthread_mutex_lock(&r->mu);
    look = r->m != NULL && now - r->checked_ms >= TOK_RING_REFRESH_S * 1000;
    if (look)
        r->checked_ms = now; /* one thread looks; the others sign with the current key */
    k = r->signer;
    (void)pthread_mutex_unlock(&r->mu);
    if (!look)
        return k;
    if (signer_kid(r->m, kid, NULL, &e) != 1) {
        log_msg(LOG_WARN, "token key: the signer could not be read; signing with %s",
                tok_key_kid(k));
        return k;
    }
    if (strcmp(kid, tok_key_kid(k)) == 0)
        return k;
    k = load_kid(r, kid, false);
    if (k == NULL)
        return r->signer; /* logged by load_kid or the ring is full */
    (void)pthread_mutex_lock(&r->mu);
    r->signer = (struct tok_key *)(uintptr_t)k; /* one of keys[] (invariant 1) */
    (void)pthread_mutex_unlock(&r->mu);
    log_msg(LOG_INFO, "token key: now signing with %s", kid);
    return k;
}

int tok_ring_verify(struct tok_claims *out, struct tok_ring *r, const char *jwt,
                    const char *want_iss, const char *want_aud, int64_t now, int64_t leeway_s,
                    struct berr *err)
{
    char kid[TOK_KID_LEN + 1];
    const struct tok_key *k;

    tok_claims_init(out);
    if (tok_jwt_kid(kid, sizeof(kid), jwt) < 0) {
        /* no kid Berth could have written: let tok_verify name what is wrong */
        (void)pthread_mutex_lock(&r->mu);
        k = r->signer;
        (void)pthread_mutex_unlock(&r->mu);
        return tok_verify(out, k, jwt, want_iss, want_aud, now, leeway_s, err);
    }
    k = load_kid(r, kid, true);
    if (k == NULL)
        return berr_set(err, BERR_UNAUTHORIZED, "unknown key");
    return tok_verify(out, k, jwt, want_iss, want_aud, now, leeway_s, err);
}

int tok_ring_rotate(struct meta *m, int64_t keep_s, char *kid, struct berr *err)
{
    char old[TOK_KID_LEN + 1];
    struct tok_key *k = NULL;
    int64_t version = 0, oldv = 0;
    char *val = NULL;
    size_t len = 0;
    int rc;

    if (kid != NULL)
        kid[0] = '\0';
    if (keep_s < 0)
        return berr_set(err, BERR_BAD_REQUEST, "bad keep time");
    rc = signer_kid(m, old, &version, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return berr_set(err, BERR_NOT_FOUND, "no token key stored yet: start the server once");
    if (tok_key_generate(&k, TOK_KEY_BITS, err) < 0)
        return -1;
    /* invariant 2: the key, then the signer, by compare-and-swap */
    rc = key_put(m, k, err);
    if (rc == 0)
        rc = meta_state_put(m, NS_KEY, SIGNER, tok_key_kid(k), TOK_KID_LEN, 0, version, NULL, err);
    if (rc < 0) {
        struct berr e2;
        if (err->code == BERR_CONFLICT)
            (void)berr_set(err, BERR_CONFLICT, "another rotation of the token key won the race");
        (void)meta_state_remove(m, NS_KEY, tok_key_kid(k), META_STATE_ANY, &e2);
        tok_key_free(k);
        return -1;
    }
    if (kid != NULL)
        memcpy(kid, tok_key_kid(k), TOK_KID_LEN + 1);
    log_msg(LOG_INFO, "token key: rotated from %s to %s", old, tok_key_kid(k));
    tok_key_free(k);
    /* invariant 3: the old key goes once its last token has expired */
    rc = meta_state_get(m, NS_KEY, old, &val, &len, &oldv, err);
    if (rc == 1)
        rc = meta_state_put(m, NS_KEY, old, val, len, now_s() + keep_s + TOK_RING_REFRESH_S, oldv,
                            NULL, err);
    if (val != NULL) {
        OPENSSL_cleanse(val, len);
        mem_free(val);
    }
    if (rc < 0) {
        log_msg(LOG_WARN, "token key: the retired key %s keeps no expiry: %s", old, err->msg);
        berr_clear(err);
    }
    return 0;
}
