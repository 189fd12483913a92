/* token.c - issue and verify RS256 bearer tokens.
 *
 * The signing key (struct tok_key: loading, generating, the libtrust kid) lives in token_key.c;
 * token_int.h is what the two share. This file holds base64url, the claims, tok_issue and
 * tok_verify.
 *
 * Invariants:
 *   1. tok_verify reads no claim before the signature over "header.payload" has verified; the
 *      only attacker-controlled JSON parsed before that is a header of at most TOK_HDR_MAX bytes.
 *   2. Only alg RS256 is accepted, with the kid of this key: "none", HS256 (the classic
 *      public-key-as-HMAC-secret confusion) and every other alg fail before any crypto runs.
 *   3. base64url is decoded strictly: the URL alphabet only, no padding, no stray bits, so one
 *      token has exactly one spelling.
 *   4. tok_issue never returns a token longer than TOK_MAX_LEN, so whatever Berth issues, it
 *      also accepts.
 *   5. A payload has one spelling: compact jansson output in insertion order. tok_verify
 *      re-serialises what it parsed and refuses any difference, which also catches jansson
 *      2.14 dropping characters on allocation failure (json_dumps and json_loadb both do;
 *      tok_issue therefore uses json_dumpb, which fails cleanly).
 * Thread safety: no shared mutable state; tok_key is read-only after creation (token_int.h). */
#include "auth/token.h"

#include <assert.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "auth/token_int.h"
#include "common/digest.h"
#include "common/mem.h"
#include "common/util.h"

#define TOK_HDR_MAX 1024 /* decoded header bytes */
#define TOK_HDR_MEMBERS 8
#define TOK_AUD_MAX 16 /* entries of an aud array */
#define TOK_JTI_BYTES 16
/* The one spelling of a payload: what tok_issue writes and tok_verify insists on */
#define TOK_JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

static int internal(struct berr *err, const char *what)
{
    ERR_clear_error();
    return berr_set(err, BERR_INTERNAL, "%s", what);
}

static int unauthorized(struct berr *err, const char *why)
{
    ERR_clear_error();
    return berr_set(err, BERR_UNAUTHORIZED, "%s", why);
}

/* ---- base64url (RFC 4648 section 5, no padding) ---- */

static const char b64url_alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t tok_b64url_len(size_t n)
{
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

size_t tok_b64url_enc(char *dst, const unsigned char *src, size_t n)
{
    size_t o = 0, i = 0;

    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)src[i] << 16 | (unsigned)src[i + 1] << 8 | src[i + 2];
        dst[o++] = b64url_alpha[v >> 18 & 63];
        dst[o++] = b64url_alpha[v >> 12 & 63];
        dst[o++] = b64url_alpha[v >> 6 & 63];
        dst[o++] = b64url_alpha[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)src[i] << 16;
        dst[o++] = b64url_alpha[v >> 18 & 63];
        dst[o++] = b64url_alpha[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)src[i] << 16 | (unsigned)src[i + 1] << 8;
        dst[o++] = b64url_alpha[v >> 18 & 63];
        dst[o++] = b64url_alpha[v >> 12 & 63];
        dst[o++] = b64url_alpha[v >> 6 & 63];
    }
    return o;
}

static int b64url_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* b64url_dec decodes n characters into dst (cap bytes); -1 on a bad character, a bad length,
 * non-zero trailing bits or when the result would not fit. */
static int b64url_dec(unsigned char *dst, size_t cap, size_t *out_len, const char *src, size_t n)
{
    size_t o = 0, i = 0;
    unsigned v = 0;
    int bits = 0;

    if (n % 4 == 1 || n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1) > cap)
        return -1;
    for (; i < n; i++) {
        int d = b64url_val(src[i]);
        if (d < 0)
            return -1;
        v = (v << 6 | (unsigned)d) & 0xffffffu;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[o++] = (unsigned char)(v >> bits & 0xff);
        }
    }
    if ((v & ((1u << bits) - 1)) != 0)
        return -1;
    *out_len = o;
    return 0;
}

/* ---- claims ---- */

void tok_claims_init(struct tok_claims *c)
{
    memset(c, 0, sizeof(*c));
}

void tok_claims_cleanup(struct tok_claims *c)
{
    mem_free(c->iss);
    mem_free(c->sub);
    mem_free(c->aud);
    mem_free(c->jti);
    for (size_t i = 0; i < c->n_access; i++) {
        mem_free(c->access[i].type);
        mem_free(c->access[i].name);
    }
    mem_free(c->access);
    tok_claims_init(c);
}

int tok_claims_fill(struct tok_claims *c, const char *iss, const char *sub, const char *aud,
                    int64_t now, int64_t ttl_s, struct berr *err)
{
    tok_claims_cleanup(c);
    c->iss = mem_strdup(iss);
    c->sub = mem_strdup(sub);
    c->aud = mem_strdup(aud);
    if (c->iss == NULL || c->sub == NULL || c->aud == NULL) {
        tok_claims_cleanup(c);
        return berr_set(err, BERR_INTERNAL, "out of memory");
    }
    c->iat = now;
    c->nbf = now;
    c->exp = now + ttl_s;
    return 0;
}

/* access_push appends an entry taking type and name (freed on failure too). */
static int access_push(struct tok_claims *c, char *type, char *name, unsigned actions,
                       struct berr *err)
{
    struct tok_access *grown;

    if (type == NULL || name == NULL) {
        mem_free(type);
        mem_free(name);
        return berr_set(err, BERR_INTERNAL, "out of memory");
    }
    if (c->n_access >= TOK_MAX_ACCESS) {
        mem_free(type);
        mem_free(name);
        return berr_set(err, BERR_INTERNAL, "too many access entries");
    }
    grown = mem_realloc(c->access, (c->n_access + 1) * sizeof(*grown));
    if (grown == NULL) {
        mem_free(type);
        mem_free(name);
        return berr_set(err, BERR_INTERNAL, "out of memory");
    }
    c->access = grown;
    c->access[c->n_access].type = type;
    c->access[c->n_access].name = name;
    c->access[c->n_access].actions = actions;
    c->n_access++;
    return 0;
}

int tok_access_add(struct tok_claims *c, const char *type, const char *name, unsigned actions,
                   struct berr *err)
{
    if (c->n_access >= TOK_MAX_ACCESS)
        return berr_set(err, BERR_INTERNAL, "too many access entries");
    return access_push(c, mem_strdup(type), mem_strdup(name), actions & SCOPE_ACT_KNOWN, err);
}

bool tok_claims_allows(const struct tok_claims *c, const char *type, const char *name,
                       unsigned action)
{
    for (size_t i = 0; i < c->n_access; i++) {
        const struct tok_access *a = &c->access[i];
        if (strcmp(a->type, type) == 0 && strcmp(a->name, name) == 0 &&
            scope_allows(a->actions, action))
            return true;
    }
    return false;
}

/* ---- issue ---- */

/* obj_set adds value to obj; value is taken (json_object_set_new frees it on failure). */
static int obj_set(json_t *obj, const char *key, json_t *value)
{
    if (value == NULL)
        return -1;
    return json_object_set_new(obj, key, value);
}

static json_t *access_json(const struct tok_claims *c)
{
    json_t *arr = json_array();

    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < c->n_access; i++) {
        const struct tok_access *a = &c->access[i];
        json_t *e = json_object();
        json_t *acts = json_array();
        int bad = e == NULL || acts == NULL;

        for (unsigned bit = 1; !bad && bit <= SCOPE_ACT_STAR; bit <<= 1) {
            if ((a->actions & bit) != 0 &&
                json_array_append_new(acts, json_string(scope_action_name(bit))) < 0)
                bad = 1;
        }
        if (!bad && (obj_set(e, "type", json_string(a->type)) < 0 ||
                     obj_set(e, "name", json_string(a->name)) < 0))
            bad = 1;
        if (!bad) {
            bad = obj_set(e, "actions", acts) < 0;
            acts = NULL; /* taken */
        }
        if (!bad) {
            bad = json_array_append_new(arr, e) < 0;
            e = NULL; /* taken */
        }
        json_decref(acts);
        json_decref(e);
        if (bad) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static int sign(unsigned char *sig, size_t *sig_len, const struct tok_key *k,
                const unsigned char *data, size_t len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t n = k->sig_len;
    int ok;

    if (ctx == NULL)
        return -1;
    ok = EVP_DigestSignInit(ctx, NULL, digest_sha256_md(), NULL, k->priv) == 1 &&
         EVP_DigestSign(ctx, sig, &n, data, len) == 1 && n == k->sig_len;
    EVP_MD_CTX_free(ctx);
    *sig_len = n;
    return ok ? 0 : -1;
}

int tok_issue(char **out, const struct tok_key *k, const struct tok_claims *c, struct berr *err)
{
    unsigned char rnd[TOK_JTI_BYTES], sig[TOK_SIG_MAX];
    char jti[2 * TOK_JTI_BYTES + 1];
    json_t *claims = NULL;
    char *payload = NULL, *tok = NULL;
    size_t plen, total, o, sig_len = 0;
    int rc = -1;

    *out = NULL;
    if (c->iss == NULL || c->sub == NULL || c->aud == NULL)
        return berr_set(err, BERR_INTERNAL, "token claims incomplete");
    if (rand_fill(rnd, sizeof(rnd)) < 0)
        return internal(err, "random generator failed");
    for (size_t i = 0; i < sizeof(rnd); i++) {
        static const char hx[] = "0123456789abcdef";
        jti[2 * i] = hx[rnd[i] >> 4];
        jti[2 * i + 1] = hx[rnd[i] & 15];
    }
    jti[sizeof(jti) - 1] = '\0';

    claims = json_object();
    if (claims == NULL || obj_set(claims, "iss", json_string(c->iss)) < 0 ||
        obj_set(claims, "sub", json_string(c->sub)) < 0 ||
        obj_set(claims, "aud", json_string(c->aud)) < 0 ||
        obj_set(claims, "exp", json_integer(c->exp)) < 0 ||
        obj_set(claims, "nbf", json_integer(c->nbf)) < 0 ||
        obj_set(claims, "iat", json_integer(c->iat)) < 0 ||
        obj_set(claims, "jti", json_string(jti)) < 0 ||
        obj_set(claims, "access", access_json(c)) < 0) {
        /* json_string also fails on invalid UTF-8: not only memory */
        rc = berr_set(err, BERR_INTERNAL, "cannot build token claims");
        goto out;
    }
    /* json_dumpb into our own buffer: jansson 2.14's json_dumps drops bytes instead of failing
     * when its buffer cannot grow; json_dumpb's output path does not allocate */
    payload = mem_malloc(TOK_MAX_LEN);
    if (payload == NULL) {
        rc = berr_set(err, BERR_INTERNAL, "out of memory");
        goto out;
    }
    plen = json_dumpb(claims, payload, TOK_MAX_LEN, TOK_JSON_FLAGS);
    if (plen == 0) {
        rc = berr_set(err, BERR_INTERNAL, "cannot build token claims");
        goto out;
    }
    if (plen >= TOK_MAX_LEN) {
        rc = berr_set(err, BERR_BAD_REQUEST, "token too large");
        goto out;
    }
    total = k->hdr_b64_len + 1 + tok_b64url_len(plen) + 1 + tok_b64url_len(k->sig_len);
    if (total > TOK_MAX_LEN) {
        rc = berr_set(err, BERR_BAD_REQUEST, "token too large");
        goto out;
    }
    tok = mem_malloc(total + 1);
    if (tok == NULL) {
        rc = berr_set(err, BERR_INTERNAL, "out of memory");
        goto out;
    }
    memcpy(tok, k->hdr_b64, k->hdr_b64_len);
    o = k->hdr_b64_len;
    tok[o++] = '.';
    o += tok_b64url_enc(tok + o, (const unsigned char *)payload, plen);
    if (sign(sig, &sig_len, k, (const unsigned char *)tok, o) < 0) {
        rc = internal(err, "token signing failed");
        goto out;
    }
    tok[o++] = '.';
    o += tok_b64url_enc(tok + o, sig, sig_len);
    tok[o] = '\0';
    assert(o == total);
    *out = tok;
    tok = NULL;
    rc = 0;
out:
    mem_free(tok);
    mem_free(payload);
    json_decref(claims);
    return rc;
}

/* ---- verify ---- */

/* check_header accepts the header segment (n base64url characters) when it names RS256 and
 * this key. The header Berth writes is recognised byte for byte without parsing. */
static int check_header(const struct tok_key *k, const char *seg, size_t n, struct berr *err)
{
    unsigned char raw[TOK_HDR_MAX];
    size_t len = 0;
    json_t *h = NULL, *v;
    json_error_t jerr;
    int rc = -1;

    if (n == k->hdr_b64_len && memcmp(seg, k->hdr_b64, n) == 0)
        return 0;
    if (b64url_dec(raw, sizeof(raw), &len, seg, n) < 0)
        return unauthorized(err, "malformed token");
    h = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, &jerr);
    if (h == NULL) {
        /* out of memory and bad JSON look alike here; both refuse the token */
        return unauthorized(err, "malformed token");
    }
    if (!json_is_object(h) || json_object_size(h) > TOK_HDR_MEMBERS) {
        rc = unauthorized(err, "malformed token");
        goto out;
    }
    v = json_object_get(h, "alg");
    if (!json_is_string(v) || strcmp(json_string_value(v), "RS256") != 0) {
        rc = unauthorized(err, "unsupported alg");
        goto out;
    }
    v = json_object_get(h, "typ");
    if (v != NULL && (!json_is_string(v) || strcmp(json_string_value(v), "JWT") != 0)) {
        rc = unauthorized(err, "malformed token");
        goto out;
    }
    if (json_object_get(h, "crit") != NULL) {
        rc = unauthorized(err, "unsupported header");
        goto out;
    }
    v = json_object_get(h, "kid");
    if (!json_is_string(v) || strcmp(json_string_value(v), k->kid) != 0) {
        rc = unauthorized(err, "unknown key");
        goto out;
    }
    rc = 0;
out:
    json_decref(h);
    return rc;
}

int tok_jwt_kid(char *out, size_t cap, const char *jwt)
{
    unsigned char raw[TOK_HDR_MAX];
    const char *dot;
    size_t len = 0;
    const char *kid;
    json_t *h;
    int rc = -1;

    if (cap > 0)
        out[0] = '\0';
    dot = strchr(jwt, '.');
    if (dot == NULL || b64url_dec(raw, sizeof(raw), &len, jwt, (size_t)(dot - jwt)) < 0)
        return -1;
    h = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, NULL);
    kid = json_string_value(json_object_get(h, "kid"));
    if (kid != NULL && strlen(kid) < cap) {
        memcpy(out, kid, strlen(kid) + 1);
        rc = 0;
    }
    json_decref(h);
    return rc;
}

static int check_signature(const struct tok_key *k, const char *signed_part, size_t signed_len,
                           const char *seg, size_t n, struct berr *err)
{
    unsigned char sig[TOK_SIG_MAX];
    size_t len = 0;
    EVP_MD_CTX *ctx;
    int ok;

    if (b64url_dec(sig, sizeof(sig), &len, seg, n) < 0)
        return unauthorized(err, "malformed token");
    if (len != k->sig_len)
        return unauthorized(err, "bad signature");
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return internal(err, "out of memory");
    if (EVP_DigestVerifyInit(ctx, NULL, digest_sha256_md(), NULL, k->pub) != 1) {
        EVP_MD_CTX_free(ctx);
        return internal(err, "token verification failed");
    }
    ok = EVP_DigestVerify(ctx, sig, len, (const unsigned char *)signed_part, signed_len);
    EVP_MD_CTX_free(ctx);
    if (ok != 1)
        return unauthorized(err, "bad signature");
    return 0;
}

/* opt_int reads an optional integer claim: 0 when absent, -1 when present but not an integer. */
static int opt_int(int64_t *out, const json_t *claims, const char *key)
{
    const json_t *v = json_object_get(claims, key);

    *out = 0;
    if (v == NULL)
        return 0;
    if (!json_is_integer(v))
        return -1;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

/* opt_str copies an optional string claim: *out NULL when absent; -1 when malformed,
 * -2 when out of memory. */
static int opt_str(char **out, const json_t *claims, const char *key)
{
    const json_t *v = json_object_get(claims, key);

    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_string(v) || json_string_length(v) > TOK_STR_MAX ||
        strlen(json_string_value(v)) != json_string_length(v))
        return -1;
    *out = mem_strdup(json_string_value(v));
    return *out == NULL ? -2 : 0;
}

static bool aud_matches(const json_t *aud, const char *want)
{
    size_t i;
    const json_t *v;

    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    if (!json_is_array(aud) || json_array_size(aud) > TOK_AUD_MAX)
        return false;
    json_array_foreach(aud, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
            return true;
    }
    return false;
}

static int parse_access(struct tok_claims *out, const json_t *arr, struct berr *err)
{
    size_t i;
    const json_t *e;

    if (arr == NULL || json_is_null(arr))
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) > TOK_MAX_ACCESS)
        return unauthorized(err, "malformed token");
    json_array_foreach(arr, i, e)
    {
        const json_t *acts, *w;
        char *type = NULL, *name = NULL;
        unsigned bits = 0;
        size_t j;
        int r;

        if (!json_is_object(e))
            return unauthorized(err, "malformed token");
        acts = json_object_get(e, "actions");
        if (acts != NULL && !json_is_null(acts)) {
            if (!json_is_array(acts) || json_array_size(acts) > TOK_MAX_ACTIONS)
                return unauthorized(err, "malformed token");
            json_array_foreach(acts, j, w)
            {
                if (!json_is_string(w))
                    return unauthorized(err, "malformed token");
                bits |= scope_action_bit(json_string_value(w), json_string_length(w));
            }
        }
        r = opt_str(&type, e, "type");
        if (r == 0)
            r = opt_str(&name, e, "name");
        if (r == 0 && (type == NULL || name == NULL))
            r = -1;
        if (r < 0) {
            mem_free(type);
            mem_free(name);
            if (r == -2)
                return berr_set(err, BERR_INTERNAL, "out of memory");
            return unauthorized(err, "malformed token");
        }
        if (access_push(out, type, name, bits, err) < 0)
            return -1;
    }
    return 0;
}

static int check_claims(struct tok_claims *out, const json_t *claims, const char *want_iss,
                        const char *want_aud, int64_t now, int64_t leeway_s, struct berr *err)
{
    const json_t *v;
    int r;

    if (!json_is_object(claims) || json_object_size(claims) > TOK_MAX_CLAIMS)
        return unauthorized(err, "malformed token");
    v = json_object_get(claims, "exp");
    if (!json_is_integer(v) || opt_int(&out->nbf, claims, "nbf") < 0 ||
        opt_int(&out->iat, claims, "iat") < 0)
        return unauthorized(err, "malformed token");
    out->exp = (int64_t)json_integer_value(v);
    /* now and leeway are sane server values; exp and nbf may be anything, so compare without
     * doing arithmetic on them */
    if (now - leeway_s >= out->exp)
        return unauthorized(err, "token expired");
    if (out->nbf > now + leeway_s)
        return unauthorized(err, "token not yet valid");

    v = json_object_get(claims, "iss");
    if (!json_is_string(v) || strcmp(json_string_value(v), want_iss) != 0)
        return unauthorized(err, "wrong issuer");
    if (!aud_matches(json_object_get(claims, "aud"), want_aud))
        return unauthorized(err, "wrong audience");

    r = opt_str(&out->sub, claims, "sub");
    if (r == 0)
        r = opt_str(&out->jti, claims, "jti");
    if (r == 0 && out->sub == NULL) {
        out->sub = mem_strdup("");
        r = out->sub == NULL ? -2 : 0;
    }
    if (r == -1)
        return unauthorized(err, "malformed token");
    out->iss = mem_strdup(want_iss);
    out->aud = mem_strdup(want_aud);
    if (r == -2 || out->iss == NULL || out->aud == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    return parse_access(out, json_object_get(claims, "access"), err);
}

/* check_canonical insists that the payload is byte for byte what tok_issue would write for the
 * parsed value. Only Berth signs with this key, so nothing else is ever legitimate; and jansson
 * 2.14's parser silently drops characters from strings when an allocation fails, which this
 * comparison turns into a refusal instead of a wrong repository name. */
static int check_canonical(const json_t *claims, const unsigned char *payload, size_t len,
                           struct berr *err)
{
    char *canon = mem_malloc(len + 1);
    size_t n;
    int rc = 0;

    if (canon == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    n = json_dumpb(claims, canon, len + 1, TOK_JSON_FLAGS);
    if (n == 0)
        rc = berr_set(err, BERR_INTERNAL, "out of memory");
    else if (n != len || memcmp(canon, payload, len) != 0)
        rc = unauthorized(err, "malformed token");
    mem_free(canon);
    return rc;
}

int tok_verify(struct tok_claims *out, const struct tok_key *k, const char *jwt,
               const char *want_iss, const char *want_aud, int64_t now, int64_t leeway_s,
               struct berr *err)
{
    const char *dot1, *dot2;
    unsigned char *payload = NULL;
    size_t len, plen = 0;
    json_t *claims = NULL;
    json_error_t jerr;
    int rc = -1;

    tok_claims_init(out);
    if (leeway_s < 0)
        leeway_s = 0;
    len = strnlen(jwt, TOK_MAX_LEN + 1);
    if (len > TOK_MAX_LEN)
        return unauthorized(err, "token too large");
    dot1 = memchr(jwt, '.', len);
    dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jwt)) : NULL;
    if (dot1 == NULL || dot2 == NULL || dot1 == jwt || dot2 == dot1 + 1 || dot2 + 1 == jwt + len ||
        memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - jwt)) != NULL)
        return unauthorized(err, "malformed token");

    rc = check_header(k, jwt, (size_t)(dot1 - jwt), err);
    if (rc < 0)
        return rc;
    rc = check_signature(k, jwt, (size_t)(dot2 - jwt), dot2 + 1, len - (size_t)(dot2 + 1 - jwt),
                         err);
    if (rc < 0)
        return rc;

    /* signed by us from here on: still parsed with care, a key can leak */
    plen = (size_t)(dot2 - dot1 - 1);
    payload = mem_malloc(plen / 4 * 3 + 3);
    if (payload == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    if (b64url_dec(payload, plen / 4 * 3 + 3, &plen, dot1 + 1, plen) < 0) {
        rc = unauthorized(err, "malformed token");
        goto out;
    }
    claims = json_loadb((const char *)payload, plen, JSON_REJECT_DUPLICATES, &jerr);
    if (claims == NULL) {
        rc = unauthorized(err, "malformed token");
        goto out;
    }
    rc = check_canonical(claims, payload, plen, err);
    if (rc < 0)
        goto out;
    rc = check_claims(out, claims, want_iss, want_aud, now, leeway_s, err);
out:
    json_decref(claims);
    mem_free(payload);
    if (rc < 0)
        tok_claims_cleanup(out);
    return rc;
}
