/* tokcache.c - verified bearer tokens, remembered until their own expiry (tokcache.h).
 *
 * TOKCACHE_SLOTS slots, direct-mapped by the first bytes of the key; slot i is guarded by
 * locks[i % TOKCACHE_STRIPES], so threads checking different tokens rarely meet.
 * Invariants:
 *   1. A slot with used == true holds claims copied from a successful tok_verify of a token
 *      whose key (kid, iss, aud, text) hashes to slot->key.
 *   2. A hit hands out a copy made under the slot's lock: a concurrent put replacing the slot
 *      never frees claims a reader still uses.
 *   3. The hit re-checks exp and nbf against the caller's clock with the caller's leeway, the
 *      same checks tok_verify made, so a cached token stops working exactly when it would have
 *      stopped verifying.
 * Thread-safe. */
#include "auth/tokcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/token.h"
#include "common/digest.h"
#include "common/mem.h"

#define TOKCACHE_STRIPES 16

struct tc_slot {
    bool used;
    unsigned char key[32];
    struct tok_claims c;
};

struct tokcache {
    pthread_mutex_t locks[TOKCACHE_STRIPES];
    struct tc_slot slots[TOKCACHE_SLOTS];
};

int tokcache_new(struct tokcache **out, struct berr *err)
{
    struct tokcache *tc;
    unsigned i;

    *out = NULL;
    tc = mem_calloc(1, sizeof(*tc));
    if (tc == NULL)
        return berr_sys(err, ENOMEM, "tokcache: alloc");
    for (i = 0; i < TOKCACHE_STRIPES; i++) {
        if (pthread_mutex_init(&tc->locks[i], NULL) != 0)
            break;
    }
    if (i < TOKCACHE_STRIPES) {
        while (i-- > 0)
            (void)pthread_mutex_destroy(&tc->locks[i]); /* unused */
        mem_free(tc);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    *out = tc;
    return 0;
}

void tokcache_clear(struct tokcache *tc)
{
    for (unsigned i = 0; i < TOKCACHE_SLOTS; i++) {
        pthread_mutex_t *mu = &tc->locks[i % TOKCACHE_STRIPES];

        (void)pthread_mutex_lock(mu); /* default mutex: fails only when corrupt */
        if (tc->slots[i].used)
            tok_claims_cleanup(&tc->slots[i].c);
        tc->slots[i].used = false;
        (void)pthread_mutex_unlock(mu);
    }
}

void tokcache_free(struct tokcache *tc)
{
    if (tc == NULL)
        return;
    tokcache_clear(tc);
    for (unsigned i = 0; i < TOKCACHE_STRIPES; i++)
        (void)pthread_mutex_destroy(&tc->locks[i]); /* no thread uses it any more */
    mem_free(tc);
}

int tokcache_key(unsigned char key[32], const char *kid, const char *iss, const char *aud,
                 const char *jwt)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int len = 0;
    int rc = -1;

    /* the NUL after each part keeps ("ab","c") and ("a","bc") apart */
    if (md != NULL && EVP_DigestInit_ex(md, digest_sha256_md(), NULL) == 1 &&
        EVP_DigestUpdate(md, kid, strlen(kid) + 1) == 1 &&
        EVP_DigestUpdate(md, iss, strlen(iss) + 1) == 1 &&
        EVP_DigestUpdate(md, aud, strlen(aud) + 1) == 1 &&
        EVP_DigestUpdate(md, jwt, strlen(jwt)) == 1 && EVP_DigestFinal_ex(md, key, &len) == 1 &&
        len == 32)
        rc = 0;
    EVP_MD_CTX_free(md);
    return rc;
}

/* claims_copy deep-copies src into *dst (zeroed first). -1 on allocation failure, dst zeroed. */
static int claims_copy(struct tok_claims *dst, const struct tok_claims *src)
{
    tok_claims_init(dst);
    dst->iat = src->iat;
    dst->nbf = src->nbf;
    dst->exp = src->exp;
    if ((src->iss != NULL && (dst->iss = mem_strdup(src->iss)) == NULL) ||
        (src->sub != NULL && (dst->sub = mem_strdup(src->sub)) == NULL) ||
        (src->aud != NULL && (dst->aud = mem_strdup(src->aud)) == NULL) ||
        (src->jti != NULL && (dst->jti = mem_strdup(src->jti)) == NULL))
        goto fail;
    if (src->n_access > 0) {
        dst->access = mem_calloc(src->n_access, sizeof(*dst->access));
        if (dst->access == NULL)
            goto fail;
        for (size_t i = 0; i < src->n_access; i++) {
            dst->n_access = i + 1; /* cleanup frees what is filled so far */
            dst->access[i].actions = src->access[i].actions;
            dst->access[i].type = mem_strdup(src->access[i].type);
            dst->access[i].name = mem_strdup(src->access[i].name);
            if (dst->access[i].type == NULL || dst->access[i].name == NULL)
                goto fail;
        }
    }
    return 0;
fail:
    tok_claims_cleanup(dst);
    return -1;
}

static size_t slot_of(const unsigned char key[32])
{
    return ((size_t)key[0] | (size_t)key[1] << 8) % TOKCACHE_SLOTS;
}

int tokcache_get(struct tokcache *tc, const unsigned char key[32], int64_t now, int64_t leeway_s,
                 struct tok_claims *out)
{
    size_t i = slot_of(key);
    struct tc_slot *s = &tc->slots[i];
    pthread_mutex_t *mu = &tc->locks[i % TOKCACHE_STRIPES];
    int rc = 0;

    if (leeway_s < 0)
        leeway_s = 0;
    tok_claims_init(out);
    (void)pthread_mutex_lock(mu);
    if (s->used && CRYPTO_memcmp(s->key, key, 32) == 0) {
        /* invariant 3: tok_verify's time checks, again */
        if (now >= s->c.exp + leeway_s || s->c.nbf > now + leeway_s) {
            tok_claims_cleanup(&s->c);
            s->used = false;
        } else {
            rc = claims_copy(out, &s->c) == 0 ? 1 : -1;
        }
    }
    (void)pthread_mutex_unlock(mu);
    return rc;
}

void tokcache_put(struct tokcache *tc, const unsigned char key[32], size_t token_len,
                  const struct tok_claims *c)
{
    struct tok_claims copy;
    size_t i = slot_of(key);
    struct tc_slot *s = &tc->slots[i];
    pthread_mutex_t *mu = &tc->locks[i % TOKCACHE_STRIPES];

    if (token_len > TOKCACHE_TOKEN_MAX || claims_copy(&copy, c) < 0)
        return;
    (void)pthread_mutex_lock(mu);
    if (s->used)
        tok_claims_cleanup(&s->c); /* the old claims were copied for any reader (invariant 2) */
    s->c = copy;
    memcpy(s->key, key, 32);
    s->used = true;
    (void)pthread_mutex_unlock(mu);
}
