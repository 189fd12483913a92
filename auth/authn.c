/* authn.c - HTTP Basic authentication against the user table.
 *
 * Invariants:
 *   1. A cache entry exists only for credentials that password_verify accepted within the last
 *      AUTHN_CACHE_TTL_S seconds, and it stores only an HMAC of them under a random process key.
 *   2. Lookups compare HMACs with CRYPTO_memcmp over their fixed length.
 *   3. Plaintext passwords live on the stack only and are wiped with OPENSSL_cleanse before return.
 * Thread-safety: `lock` guards `slots`; the KDF runs outside the lock. */
#include "auth/authn.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/password.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/meta.h"

#define AUTHN_SLOTS 256
#define AUTHN_PASS_MAX 512

struct authn_slot {
    unsigned char mac[32];
    char user[AUTHN_USER_MAX + 1];
    bool sysadmin;
    int64_t expires;
};

struct authn {
    struct meta *meta;
    unsigned char key[32];
    char dummy_hash[256]; /* verified against for unknown users: equal timing */
    pthread_mutex_t lock; /* guards slots */
    struct authn_slot slots[AUTHN_SLOTS];
};

int authn_new(struct authn **out, struct meta *m, struct berr *err)
{
    char pass[33];
    struct authn *a;

    *out = NULL;
    a = mem_calloc(1, sizeof(*a));
    if (a == NULL)
        return berr_sys(err, ENOMEM, "authn: alloc");
    a->meta = m;
    if (rand_fill(a->key, sizeof(a->key)) < 0 || rand_hex(pass, sizeof(pass), 16) < 0 ||
        password_hash(a->dummy_hash, sizeof(a->dummy_hash), pass, err) < 0) {
        mem_free(a);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    if (pthread_mutex_init(&a->lock, NULL) != 0) {
        mem_free(a);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    *out = a;
    return 0;
}

void authn_free(struct authn *a)
{
    if (a == NULL)
        return;
    (void)pthread_mutex_destroy(&a->lock); /* no thread uses it any more */
    OPENSSL_cleanse(a, sizeof(*a));
    mem_free(a);
}

int authn_basic_decode(const char *header, char *user, size_t user_cap, char *pass,
                       size_t pass_cap)
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

static int credential_mac(const struct authn *a, const char *user, const char *pass,
                          unsigned char mac[32])
{
    unsigned char buf[AUTHN_USER_MAX + AUTHN_PASS_MAX + 2];
    size_t ulen = strlen(user), plen = strlen(pass);
    unsigned int maclen = 0;
    int rc = 0;

    if (ulen + plen + 1 > sizeof(buf))
        return -1;
    memcpy(buf, user, ulen);
    buf[ulen] = ':';
    memcpy(buf + ulen + 1, pass, plen);
    if (HMAC(EVP_sha256(), a->key, sizeof(a->key), buf, ulen + plen + 1, mac, &maclen) == NULL ||
        maclen != 32)
        rc = -1;
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

static bool cache_lookup(struct authn *a, const unsigned char mac[32], struct principal *out)
{
    struct authn_slot *s = &a->slots[mac[0] % AUTHN_SLOTS];
    bool hit = false;

    (void)pthread_mutex_lock(&a->lock);
    if (s->expires > now_s() && CRYPTO_memcmp(s->mac, mac, 32) == 0) {
        memcpy(out->name, s->user, sizeof(out->name));
        out->sysadmin = s->sysadmin;
        hit = true;
    }
    (void)pthread_mutex_unlock(&a->lock);
    return hit;
}

static void cache_store(struct authn *a, const unsigned char mac[32], const struct principal *p)
{
    struct authn_slot *s = &a->slots[mac[0] % AUTHN_SLOTS];

    (void)pthread_mutex_lock(&a->lock);
    memcpy(s->mac, mac, 32);
    memcpy(s->user, p->name, sizeof(s->user));
    s->sysadmin = p->sysadmin;
    s->expires = now_s() + AUTHN_CACHE_TTL_S;
    (void)pthread_mutex_unlock(&a->lock);
}

void authn_forget(struct authn *a, const char *user)
{
    (void)pthread_mutex_lock(&a->lock);
    for (unsigned i = 0; i < AUTHN_SLOTS; i++) {
        if (strcmp(a->slots[i].user, user) == 0)
            memset(&a->slots[i], 0, sizeof(a->slots[i]));
    }
    (void)pthread_mutex_unlock(&a->lock);
}

int authn_basic(struct authn *a, const char *header, struct principal *out, struct berr *err)
{
    char user[AUTHN_USER_MAX + 1], pass[AUTHN_PASS_MAX];
    unsigned char mac[32];
    struct meta_user *u = NULL;
    struct berr uerr;
    bool ok = false;
    int rc;

    memset(out, 0, sizeof(*out));
    if (authn_basic_decode(header, user, sizeof(user), pass, sizeof(pass)) < 0)
        return berr_set(err, BERR_UNAUTHORIZED, "authentication required");
    rc = credential_mac(a, user, pass, mac);
    if (rc == 0 && cache_lookup(a, mac, out))
        goto out;
    u = mem_malloc(sizeof(*u));
    if (u == NULL) {
        rc = berr_sys(err, ENOMEM, "authn: alloc");
        goto out;
    }
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
    if (password_verify(u->pw_hash, pass, &ok, err) < 0) {
        rc = -1;
        goto out;
    }
    if (!ok) {
        rc = berr_set(err, BERR_UNAUTHORIZED, "invalid username or password");
        goto out;
    }
    (void)snprintf(out->name, sizeof(out->name), "%s", u->name); /* same cap as meta_user.name */
    out->sysadmin = u->sysadmin;
    if (rc == 0)
        cache_store(a, mac, out);
    rc = 0;
out:
    OPENSSL_cleanse(pass, sizeof(pass));
    if (u != NULL) {
        OPENSSL_cleanse(u, sizeof(*u));
        mem_free(u);
    }
    return rc;
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
