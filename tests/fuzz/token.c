/* token.c (fuzz) - tok_verify on any bytes, and on any claims or header signed with the key.
 *
 * The first byte picks what the rest is:
 *   0: a whole token, verified as it is;
 *   1: a claims payload, sent with Berth's header and a real RS256 signature of the fuzzer's
 *      key, so the claim parser is reached;
 *   2: a header (each "$KID" replaced by the key's kid) with a fixed claims payload, signed.
 * Promises checked: a refusal is UNAUTHORIZED (or INTERNAL) and leaves the claims zeroed; an
 * accepted token has iss and aud as asked, exp after now - leeway, nbf before now + leeway, at
 * most TOK_MAX_ACCESS entries with known action bits only, and its claims re-issued and
 * verified again read back the same. The key (2048 bits) is made once per process. */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "auth/token.h"
#include "common/mem.h"

#define ISS "berth-token-issuer"
#define AUD "berth-registry"
#define NOW ((int64_t)1760000000)
#define LEEWAY_S 60

static EVP_PKEY *pk;
static struct tok_key *key;

static void need(int cond)
{
    if (!cond)
        abort();
}

static void setup(void)
{
    BIO *bio;
    char *pem = NULL;
    long len;
    struct berr err;

    if (key != NULL)
        return;
    pk = EVP_RSA_gen(2048);
    need(pk != NULL);
    bio = BIO_new(BIO_s_mem());
    need(bio != NULL && PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1);
    len = BIO_get_mem_data(bio, &pem);
    need(len > 0 && tok_key_from_pem(&key, pem, (size_t)len, &err) == 0);
    BIO_free(bio);
}

/* b64u appends the base64url of n bytes at out (room for 4*n/3+4) and returns the length. */
static size_t b64u(char *out, const unsigned char *in, size_t n)
{
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    size_t o = 0;

    for (int i = 0; i < len && out[i] != '='; i++)
        out[o++] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    return o;
}

/* signed_token builds hdr.payload.RS256 with the fuzzer's key; new (mem_free) or NULL. */
static char *signed_token(const char *hdr, size_t hl, const unsigned char *payload, size_t pl)
{
    unsigned char sig[512];
    size_t sl = sizeof(sig), o;
    char *out = mem_malloc((hl + pl) / 3 * 4 + 1024);
    EVP_MD_CTX *ctx;

    if (out == NULL)
        return NULL;
    o = b64u(out, (const unsigned char *)hdr, hl);
    out[o++] = '.';
    o += b64u(out + o, payload, pl);
    ctx = EVP_MD_CTX_new();
    need(ctx != NULL && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1 &&
         EVP_DigestSign(ctx, sig, &sl, (unsigned char *)out, o) == 1);
    EVP_MD_CTX_free(ctx);
    out[o++] = '.';
    o += b64u(out + o, sig, sl);
    out[o] = '\0';
    return out;
}

static void check_accepted(const struct tok_claims *c)
{
    struct tok_claims again, c2;
    struct berr err;
    char *jwt = NULL;

    need(c->iss != NULL && strcmp(c->iss, ISS) == 0);
    need(c->aud != NULL && strcmp(c->aud, AUD) == 0);
    need(c->sub != NULL);
    need(NOW - LEEWAY_S < c->exp && c->nbf <= NOW + LEEWAY_S);
    need(c->n_access <= TOK_MAX_ACCESS);
    for (size_t i = 0; i < c->n_access; i++) {
        need(c->access[i].type != NULL && c->access[i].name != NULL);
        need((c->access[i].actions & ~SCOPE_ACT_KNOWN) == 0);
    }

    /* round trip: the same claims issued by Berth read back the same */
    tok_claims_init(&c2);
    if (tok_claims_fill(&c2, c->iss, c->sub, c->aud, NOW, 1, &err) < 0)
        return;
    c2.iat = c->iat;
    c2.nbf = c->nbf;
    c2.exp = c->exp;
    for (size_t i = 0; i < c->n_access; i++)
        if (tok_access_add(&c2, c->access[i].type, c->access[i].name, c->access[i].actions, &err) <
            0)
            goto out;
    if (tok_issue(&jwt, key, &c2, &err) < 0) {
        /* only a claim jansson will not write (bad UTF-8 cannot get here) or the size cap */
        need(err.code == BERR_INTERNAL);
        goto out;
    }
    need(tok_verify(&again, key, jwt, ISS, AUD, NOW, LEEWAY_S, &err) == 0);
    need(strcmp(again.sub, c->sub) == 0 && again.exp == c->exp && again.nbf == c->nbf &&
         again.iat == c->iat && again.n_access == c->n_access);
    for (size_t i = 0; i < c->n_access; i++) {
        need(strcmp(again.access[i].type, c->access[i].type) == 0);
        need(strcmp(again.access[i].name, c->access[i].name) == 0);
        need(again.access[i].actions == c->access[i].actions);
    }
    tok_claims_cleanup(&again);
out:
    mem_free(jwt);
    tok_claims_cleanup(&c2);
}

static void verify(const char *jwt)
{
    struct tok_claims c;
    struct berr err;

    if (tok_verify(&c, key, jwt, ISS, AUD, NOW, LEEWAY_S, &err) < 0) {
        need(err.code == BERR_UNAUTHORIZED || err.code == BERR_INTERNAL);
        need(c.iss == NULL && c.sub == NULL && c.aud == NULL && c.jti == NULL && c.access == NULL &&
             c.n_access == 0);
        return;
    }
    check_accepted(&c);
    tok_claims_cleanup(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char payload[] = "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1760000300}";
    char *s = NULL, *jwt = NULL;

    setup();
    if (size < 1 || size > 3 * TOK_MAX_LEN)
        return 0;
    switch (data[0] % 3) {
    case 0:
        s = mem_strndup((const char *)data + 1, size - 1);
        if (s != NULL)
            verify(s);
        break;
    case 1: {
        char hdr[160];
        int n = snprintf(hdr, sizeof(hdr), "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"%s\"}",
                         tok_key_kid(key));
        need(n > 0 && (size_t)n < sizeof(hdr));
        jwt = signed_token(hdr, (size_t)n, data + 1, size - 1);
        if (jwt != NULL)
            verify(jwt);
        break;
    }
    default: {
        /* the header with each "$KID" swapped for the kid: at most size * 15 bytes */
        size_t cap = (size - 1) * (TOK_KID_LEN / 4 + 1) + 1, o = 0;
        s = mem_malloc(cap);
        if (s == NULL)
            break;
        for (size_t i = 1; i < size; i++) {
            if (i + 4 <= size && memcmp(data + i, "$KID", 4) == 0) {
                memcpy(s + o, tok_key_kid(key), TOK_KID_LEN);
                o += TOK_KID_LEN;
                i += 3;
            } else {
                s[o++] = (char)data[i];
            }
        }
        jwt = signed_token(s, o, (const unsigned char *)payload, sizeof(payload) - 1);
        if (jwt != NULL)
            verify(jwt);
        break;
    }
    }
    mem_free(s);
    mem_free(jwt);
    return 0;
}
