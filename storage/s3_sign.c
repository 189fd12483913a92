/* s3_sign.c - AWS Signature Version 4 (header signing and presigned URLs).
 *
 * The procedure (AWS "Signature Version 4 signing process"):
 *   canonical request = METHOD \n path \n sorted query \n "name:value\n" per header sorted by
 *                       name \n signed header names joined by ';' \n payload hash
 *   string to sign    = "AWS4-HMAC-SHA256" \n date \n scope \n hex(sha256(canonical request))
 *   key               = HMAC chain over "AWS4"+secret: date (YYYYMMDD), region, service,
 *                       "aws4_request"
 *   signature         = hex(HMAC(key, string to sign))
 * Invariants:
 *   1. The query is sorted by parameter name, then value (byte order), in its encoded form, so a
 *      request whose wire query is unsorted (?uploads, partNumber before uploadId) still signs
 *      the way the server computes it.
 *   2. Headers are sorted by lower-cased name, not by the whole "name:value" line.
 *   3. The secret never leaves this file except inside HMAC inputs; nothing here logs.
 * Everything is on the stack or in caller buffers; thread-safe. */
#include "storage/s3_sign.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/buf.h"
#include "common/digest.h"
#include "common/mem.h"

#define S3_SIGN_MAX (64 * 1024) /* a canonical request never comes near this */
#define S3_QUERY_MAX_PARAMS 32

static const char hexd[] = "0123456789abcdef";

static void hex_of(char *out, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[p[i] >> 4];
        out[2 * i + 1] = hexd[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void s3_sha256_hex(char out[S3_SIG_HEX_LEN + 1], const void *data, size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256(data, len, md);
    hex_of(out, md, sizeof(md));
}

void s3_amz_date(char out[S3_AMZ_DATE_LEN + 1], time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, S3_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

int s3_uri_encode(char *out, size_t cap, const char *in, size_t len, int keep_slash,
                  struct berr *err)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        int keep = isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
                   (keep_slash && c == '/');

        if (keep && c < 0x80) {
            if (o + 1 >= cap)
                goto full;
            out[o++] = (char)c;
        } else {
            if (o + 3 >= cap)
                goto full;
            out[o++] = '%';
            out[o++] = "0123456789ABCDEF"[c >> 4];
            out[o++] = "0123456789ABCDEF"[c & 15];
        }
    }
    if (o >= cap)
        goto full;
    out[o] = '\0';
    return 0;
full:
    if (cap > 0)
        out[0] = '\0';
    return berr_set(err, BERR_INTERNAL, "s3: encoded string too long");
}

struct qparam {
    const char *s; /* "name=value" or "name" */
    size_t len;
    size_t name_len;
};

static int qparam_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->s, y->s, n);

    if (c != 0)
        return c;
    if (x->name_len != y->name_len)
        return x->name_len < y->name_len ? -1 : 1;
    /* same name: by value */
    {
        const char *xv = x->s + x->name_len, *yv = y->s + y->name_len;
        size_t xl = x->len - x->name_len, yl = y->len - y->name_len;
        size_t m = xl < yl ? xl : yl;

        c = memcmp(xv, yv, m);
        if (c != 0)
            return c;
        return xl < yl ? -1 : (xl > yl ? 1 : 0);
    }
}

/* canonical query: the wire query split on '&', sorted, each "name=value" (a bare name gets '=') */
static int canon_query(struct buf *b, const char *q, struct berr *err)
{
    struct qparam p[S3_QUERY_MAX_PARAMS] = {{NULL, 0, 0}};
    size_t n = 0;

    while (q != NULL && *q != '\0') {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);

        if (len > 0) {
            const char *eq = memchr(q, '=', len);

            if (n == S3_QUERY_MAX_PARAMS)
                return berr_set(err, BERR_INTERNAL, "s3: too many query parameters");
            p[n].s = q;
            p[n].len = len;
            p[n].name_len = eq ? (size_t)(eq - q) : len;
            n++;
        }
        q = amp ? amp + 1 : q + len;
    }
    qsort(p, n, sizeof(p[0]), qparam_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && buf_append(b, "&", 1) < 0)
            goto oom;
        if (buf_append(b, p[i].s, p[i].len) < 0)
            goto oom;
        if (p[i].name_len == p[i].len && buf_append(b, "=", 1) < 0)
            goto oom;
    }
    return 0;
oom:
    return berr_set(err, BERR_INTERNAL, "s3: canonical query too long");
}

struct hdr {
    char name[64];
    const char *value;
};

static int hdr_cmp(const void *a, const void *b)
{
    return strcmp(((const struct hdr *)a)->name, ((const struct hdr *)b)->name);
}

/* value trimmed, inner runs of whitespace collapsed to one space */
static int append_trimmed(struct buf *b, const char *v)
{
    int space = 0, any = 0;

    for (; *v != '\0'; v++) {
        if (*v == ' ' || *v == '\t') {
            space = any;
            continue;
        }
        if (space && buf_append(b, " ", 1) < 0)
            return -1;
        space = 0;
        any = 1;
        if (buf_append(b, v, 1) < 0)
            return -1;
    }
    return 0;
}

static int canon_build(struct buf *b, struct buf *sh, const struct s3_sign_req *r, struct berr *err)
{
    struct hdr h[S3_MAX_HEADERS];

    if (r->nheaders > S3_MAX_HEADERS)
        return berr_set(err, BERR_INTERNAL, "s3: too many headers to sign");
    for (size_t i = 0; i < r->nheaders; i++) {
        size_t len = strlen(r->headers[i].name);

        if (len == 0 || len >= sizeof(h[i].name))
            return berr_set(err, BERR_INTERNAL, "s3: header name invalid");
        for (size_t k = 0; k <= len; k++)
            h[i].name[k] = (char)tolower((unsigned char)r->headers[i].name[k]);
        h[i].value = r->headers[i].value;
    }
    qsort(h, r->nheaders, sizeof(h[0]), hdr_cmp);
    if (buf_printf(b, "%s\n%s\n", r->method, r->path) < 0)
        goto oom;
    if (canon_query(b, r->query, err) < 0)
        return -1;
    if (buf_append(b, "\n", 1) < 0)
        goto oom;
    for (size_t i = 0; i < r->nheaders; i++) {
        int same_as_prev = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;

        if (same_as_prev) {
            /* a repeated name joins the previous line: name:v1,v2 */
            b->len--; /* drop the '\n' */
            if (buf_append(b, ",", 1) < 0)
                goto oom;
        } else {
            if (buf_printf(b, "%s:", h[i].name) < 0)
                goto oom;
            if (sh->len > 0 && buf_append(sh, ";", 1) < 0)
                goto oom;
            if (buf_appends(sh, h[i].name) < 0)
                goto oom;
        }
        if (append_trimmed(b, h[i].value) < 0 || buf_append(b, "\n", 1) < 0)
            goto oom;
    }
    if (buf_printf(b, "\n%s\n%s", sh->data ? sh->data : "", r->payload_hash) < 0)
        goto oom;
    return 0;
oom:
    return berr_set(err, BERR_INTERNAL, "s3: canonical request too long");
}

int s3_canonical_request(char *out, size_t cap, char *signed_out, size_t signed_cap,
                         const struct s3_sign_req *r, struct berr *err)
{
    struct buf b, sh;
    int rc = -1;

    buf_init(&b, S3_SIGN_MAX);
    buf_init(&sh, 1024);
    if (canon_build(&b, &sh, r, err) < 0)
        goto out;
    if (b.len >= cap || sh.len >= signed_cap) {
        berr_set(err, BERR_INTERNAL, "s3: canonical request too long");
        goto out;
    }
    memcpy(out, b.data, b.len + 1);
    memcpy(signed_out, sh.data ? sh.data : "", sh.len + 1);
    rc = 0;
out:
    buf_cleanup(&b);
    buf_cleanup(&sh);
    return rc;
}

static int hmac(unsigned char out[32], const void *key, size_t klen, const char *msg)
{
    unsigned int olen = 0;

    if (HMAC(digest_sha256_md(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out,
             &olen) == NULL ||
        olen != 32)
        return -1;
    return 0;
}

/* signature of a canonical request; scope gets "YYYYMMDD/region/service/aws4_request" */
static int sign_canon(char sig[S3_SIG_HEX_LEN + 1], char *scope, size_t scope_cap,
                      const struct s3_cred *c, const char *amz_date, const char *canon,
                      struct berr *err)
{
    char date[9], creq_hash[S3_SIG_HEX_LEN + 1], sts[512], kseed[256];
    unsigned char k1[32], k2[32], k3[32], k4[32], s[32];
    int n, rc = -1;

    if (strlen(amz_date) != S3_AMZ_DATE_LEN)
        return berr_set(err, BERR_INTERNAL, "s3: bad amz date");
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    n = snprintf(scope, scope_cap, "%s/%s/%s/aws4_request", date, c->region, c->service);
    if (n < 0 || (size_t)n >= scope_cap)
        return berr_set(err, BERR_INTERNAL, "s3: scope too long");
    s3_sha256_hex(creq_hash, canon, strlen(canon));
    n = snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, creq_hash);
    if (n < 0 || (size_t)n >= sizeof(sts))
        return berr_set(err, BERR_INTERNAL, "s3: string to sign too long");
    n = snprintf(kseed, sizeof(kseed), "AWS4%s", c->secret_key);
    if (n < 0 || (size_t)n >= sizeof(kseed)) {
        berr_set(err, BERR_INTERNAL, "s3: secret key too long");
        goto out;
    }
    if (hmac(k1, kseed, (size_t)n, date) < 0 || hmac(k2, k1, 32, c->region) < 0 ||
        hmac(k3, k2, 32, c->service) < 0 || hmac(k4, k3, 32, "aws4_request") < 0 ||
        hmac(s, k4, 32, sts) < 0) {
        berr_set(err, BERR_INTERNAL, "s3: HMAC failed");
        goto out;
    }
    hex_of(sig, s, sizeof(s));
    rc = 0;
out:
    OPENSSL_cleanse(kseed, sizeof(kseed));
    OPENSSL_cleanse(k4, sizeof(k4));
    return rc;
}

int s3_sign(char sig[S3_SIG_HEX_LEN + 1], char *auth, size_t cap, const struct s3_cred *c,
            const char *amz_date, const struct s3_sign_req *r, struct berr *err)
{
    struct buf b, sh;
    char scope[256];
    int n, rc = -1;

    buf_init(&b, S3_SIGN_MAX);
    buf_init(&sh, 1024);
    if (canon_build(&b, &sh, r, err) < 0)
        goto out;
    if (sign_canon(sig, scope, sizeof(scope), c, amz_date, b.data, err) < 0)
        goto out;
    n = snprintf(auth, cap, "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                 c->access_key, scope, sh.data ? sh.data : "", sig);
    if (n < 0 || (size_t)n >= cap) {
        berr_set(err, BERR_INTERNAL, "s3: authorization too long");
        goto out;
    }
    rc = 0;
out:
    buf_cleanup(&b);
    buf_cleanup(&sh);
    return rc;
}

int s3_presign(char *out, size_t cap, const struct s3_cred *c, const char *method, const char *base,
               const char *host, const char *path, const char *query, const char *amz_date,
               unsigned expires_s, struct berr *err)
{
    char cred[512], cred_enc[768], q[4096], sig[S3_SIG_HEX_LEN + 1];
    struct s3_header h = {"host", host};
    struct s3_sign_req r = {method, path, q, &h, 1, S3_UNSIGNED_PAYLOAD};
    struct buf b, sh;
    char scope[256];
    int n, rc = -1;

    n = snprintf(cred, sizeof(cred), "%s/%.8s/%s/%s/aws4_request", c->access_key, amz_date,
                 c->region, c->service);
    if (n < 0 || (size_t)n >= sizeof(cred))
        return berr_set(err, BERR_INTERNAL, "s3: credential too long");
    if (s3_uri_encode(cred_enc, sizeof(cred_enc), cred, (size_t)n, 0, err) < 0)
        return -1;
    n = snprintf(q, sizeof(q),
                 "%s%sX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s&X-Amz-Date=%s"
                 "&X-Amz-Expires=%u&X-Amz-SignedHeaders=host",
                 query ? query : "", query && *query ? "&" : "", cred_enc, amz_date, expires_s);
    if (n < 0 || (size_t)n >= sizeof(q))
        return berr_set(err, BERR_INTERNAL, "s3: presigned query too long");
    buf_init(&b, S3_SIGN_MAX);
    buf_init(&sh, 64);
    if (canon_build(&b, &sh, &r, err) < 0)
        goto out;
    if (sign_canon(sig, scope, sizeof(scope), c, amz_date, b.data, err) < 0)
        goto out;
    n = snprintf(out, cap, "%s%s?%s&X-Amz-Signature=%s", base, path, q, sig);
    if (n < 0 || (size_t)n >= cap) {
        berr_set(err, BERR_INTERNAL, "s3: presigned URL too long");
        goto out;
    }
    rc = 0;
out:
    buf_cleanup(&b);
    buf_cleanup(&sh);
    return rc;
}
