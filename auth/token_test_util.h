/* token_test_util.h - shared fixtures for the bearer-token unit tests (token_test.c and
 * token_key_test.c): the test keys, our own base64url and JWT forging with OpenSSL directly (not
 * token.c's code), and verify_msg/verify_payload, which run tok_verify with key A at NOW, leeway
 * 60. Invariants: tt_setup() must succeed before any helper is used; pk_a and ka are the same
 * 2048-bit key (pk_a is the test's own handle, for forging), kb another 2048-bit key; tt_teardown()
 * frees all three. Everything here is static or static inline, so each test binary has its own
 * copy of the fixture state. */
#ifndef BERTH_AUTH_TOKEN_TEST_UTIL_H
#define BERTH_AUTH_TOKEN_TEST_UTIL_H

#include "auth/token.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/mem.h"
#include "common/test.h"

#define ISS "berth-token-issuer"
#define AUD "berth-registry"
#define NOW ((int64_t)1760000000)

static EVP_PKEY *pk_a;     /* the test's own handle on key A, for forging */
static struct tok_key *ka; /* key A, 2048 bits, from PEM */
static struct tok_key *kb; /* key B, another 2048-bit key */

/* ---- helpers: our own base64url and JWT forging ---- */

static inline size_t b64u(char *out, const unsigned char *in, size_t n)
{
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    size_t o = 0;

    for (int i = 0; i < len; i++) {
        char c = out[i];
        if (c == '=')
            break;
        out[o++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[o] = '\0';
    return o;
}

enum forge_sig { SIG_RS256, SIG_HS256_PUBPEM, SIG_EMPTY, SIG_JUNK };

/* forge builds header.payload.signature into out (cap must fit; 64 KiB callers). */
static inline void forge(char *out, size_t cap, const char *hdr, const char *payload,
                         enum forge_sig how, EVP_PKEY *key)
{
    static unsigned char sig[1024];
    size_t o, sl = sizeof(sig);

    if (4 * (strlen(hdr) + strlen(payload)) / 3 + 2048 > cap) {
        out[0] = '\0';
        return;
    }
    o = b64u(out, (const unsigned char *)hdr, strlen(hdr));
    out[o++] = '.';
    o += b64u(out + o, (const unsigned char *)payload, strlen(payload));
    if (how == SIG_RS256) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        CHECK(ctx != NULL && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
              EVP_DigestSign(ctx, sig, &sl, (unsigned char *)out, o) == 1);
        EVP_MD_CTX_free(ctx);
    } else if (how == SIG_HS256_PUBPEM) {
        char *pem = NULL;
        unsigned int ml = 0;
        struct berr err;
        CHECK_INT_EQ(tok_key_public_pem(&pem, ka, &err), 0);
        CHECK(pem != NULL &&
              HMAC(EVP_sha256(), pem, (int)strlen(pem), (unsigned char *)out, o, sig, &ml) != NULL);
        sl = ml;
        mem_free(pem);
    } else if (how == SIG_JUNK) {
        memset(sig, 0x41, 256);
        sl = 256;
    } else {
        sl = 0;
    }
    out[o++] = '.';
    o += b64u(out + o, sig, sl);
    out[o] = '\0';
}

static inline const char *hdr_a(void)
{
    static char h[160];
    int n = snprintf(h, sizeof(h), "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"%s\"}",
                     tok_key_kid(ka));
    CHECK(n > 0 && (size_t)n < sizeof(h));
    return h;
}

static inline const char *std_payload(void)
{
    return "{\"iss\":\"" ISS "\",\"sub\":\"alice\",\"aud\":\"" AUD "\",\"exp\":1760000300,"
           "\"nbf\":1760000000,\"iat\":1760000000,\"jti\":\"x\",\"access\":[]}";
}

/* verify_msg runs tok_verify with key A at NOW, leeway 60; returns the error message or "ok". */
static inline const char *verify_msg(const char *jwt)
{
    static struct berr err;
    struct tok_claims c;

    berr_clear(&err);
    if (tok_verify(&c, ka, jwt, ISS, AUD, NOW, 60, &err) == 0) {
        tok_claims_cleanup(&c);
        return "ok";
    }
    CHECK_INT_EQ(err.code, BERR_UNAUTHORIZED);
    CHECK(c.sub == NULL && c.access == NULL && c.n_access == 0);
    return err.msg;
}

static inline const char *verify_payload(const char *payload)
{
    static char jwt[65536];

    forge(jwt, sizeof(jwt), hdr_a(), payload, SIG_RS256, pk_a);
    return verify_msg(jwt);
}

static inline void pem_of(EVP_PKEY *pk, char *out, size_t cap, const EVP_CIPHER *enc)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len;

    out[0] = '\0';
    CHECK(bio != NULL);
    if (bio == NULL)
        return;
    if (enc != NULL)
        CHECK(PEM_write_bio_PrivateKey(bio, pk, enc, (unsigned char *)"pw", 2, NULL, NULL) == 1);
    else
        CHECK(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1);
    len = BIO_get_mem_data(bio, &data);
    CHECK(len > 0 && (size_t)len < cap);
    if (len > 0 && (size_t)len < cap) {
        memcpy(out, data, (size_t)len);
        out[len] = '\0';
    }
    BIO_free(bio);
}

/* tt_setup makes key A (pk_a and ka, via PEM) and key B; -1 if any of them failed. */
static inline int tt_setup(void)
{
    struct berr err;
    char pem[8192];

    mem_install_json();
    pk_a = EVP_RSA_gen(2048);
    CHECK(pk_a != NULL);
    if (pk_a == NULL)
        return -1;
    pem_of(pk_a, pem, sizeof(pem), NULL);
    CHECK_INT_EQ(tok_key_from_pem(&ka, pem, strlen(pem), &err), 0);
    CHECK_INT_EQ(tok_key_generate(&kb, 2048, &err), 0);
    if (ka == NULL || kb == NULL)
        return -1;
    CHECK_INT_EQ(tok_key_bits(ka), 2048);
    return 0;
}

static inline void tt_teardown(void)
{
    tok_key_free(ka);
    tok_key_free(kb);
    tok_key_free(NULL);
    EVP_PKEY_free(pk_a);
    ka = NULL;
    kb = NULL;
    pk_a = NULL;
}

#endif
