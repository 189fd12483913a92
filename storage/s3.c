/* s3.c - the S3 client: one signed libcurl request per call, retried when the failure is transient.
 *
 *   1. Every attempt is signed afresh (its own X-Amz-Date), with x-amz-content-sha256 set: the hash
 *      of small bodies (XML, empty), UNSIGNED-PAYLOAD for object data.
 *   2. Retries are bounded (opts.retries, default 4) with a pause doubling from 100 ms (at most
 *      2 s): connection errors, timeouts, 5xx and 429 are retried; every other answer is final.
 *   3. A 200 that carries an <Error> document (CompleteMultipartUpload and CopyObject may answer
 *      so) is a failure, retried like a 5xx when its code is InternalError or SlowDown.
 *   4. The secret key stays in struct s3 and the signer; messages carry the method, the key and
 *      S3's error code only.
 * Handles are pooled (S3_POOL idle at most) so keep-alive connections are reused; the pool is the
 * only shared mutable state and its mutex guards it. */
#include "storage/s3.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"
#include "storage/s3_sign.h"
#include "storage/s3_xml.h"

#define S3_POOL 16
#define S3_XML_BODY_MAX ((size_t)8 * 1024 * 1024)
#define S3_SMALL_BODY ((size_t)64 * 1024)
#define S3_URL_MAX 4096
#define S3_COPY_PART ((uint64_t)1024 * 1024 * 1024)

struct s3 {
    char endpoint[256];
    char host[256];
    char region[64];
    char bucket[64];
    char access_key[128];
    char secret_key[256];
    unsigned retries;
    unsigned timeout_s;
    pthread_mutex_t mu;
    CURL *pool[S3_POOL];
    size_t npool;
};

/* One request and what came back. */
struct call {
    const char *method;
    const char *key;   /* NULL: the bucket itself */
    const char *query; /* wire form, NULL for none */
    const void *body;
    size_t body_len;
    const struct s3_header *extra;
    size_t nextra;
    int data; /* object data: no total timeout, unsigned payload */
    /* answer */
    long status;
    struct buf resp; /* body, unless sink */
    char *sink;      /* s3_get_range: straight into the caller's buffer */
    size_t sink_cap;
    size_t sink_len;
    size_t body_pos; /* read position in body */
    CURL *h;         /* the handle performing it */
    char etag[S3_ETAG_MAX];
    int64_t clen;  /* Content-Length of the answer, -1 when unknown */
    int64_t mtime; /* Last-Modified, 0 when unknown */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_ok;

static void global_init(void)
{
    global_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    s3_xml_init();
}

static int copy_opt(char *dst, size_t cap, const char *src, const char *what, struct berr *err)
{
    size_t len = src ? strlen(src) : 0;

    if (len == 0 || len >= cap)
        return berr_set(err, BERR_INTERNAL, "s3: %s missing or too long", what);
    memcpy(dst, src, len + 1);
    return 0;
}

int s3_new(struct s3 **out, const struct s3_opts *o, struct berr *err)
{
    struct s3 *s;
    const char *h;

    *out = NULL;
    pthread_once(&global_once, global_init);
    if (!global_ok)
        return berr_set(err, BERR_INTERNAL, "s3: libcurl initialisation failed");
    s = mem_calloc(1, sizeof(*s));
    if (s == NULL)
        return berr_sys(err, ENOMEM, "s3: allocating client");
    if (copy_opt(s->endpoint, sizeof(s->endpoint), o->endpoint, "endpoint", err) < 0 ||
        copy_opt(s->region, sizeof(s->region), o->region ? o->region : "us-east-1", "region", err) <
                0 ||
        copy_opt(s->bucket, sizeof(s->bucket), o->bucket, "bucket", err) < 0 ||
        copy_opt(s->access_key, sizeof(s->access_key), o->access_key, "access key", err) < 0 ||
        copy_opt(s->secret_key, sizeof(s->secret_key), o->secret_key, "secret key", err) < 0)
        goto fail;
    /* endpoint: http(s)://host[:port], no path, no trailing slash */
    {
        size_t len = strlen(s->endpoint);

        while (len > 0 && s->endpoint[len - 1] == '/')
            s->endpoint[--len] = '\0';
    }
    if (strncmp(s->endpoint, "http://", 7) == 0)
        h = s->endpoint + 7;
    else if (strncmp(s->endpoint, "https://", 8) == 0)
        h = s->endpoint + 8;
    else {
        berr_set(err, BERR_INTERNAL, "s3: endpoint must start with http:// or https://");
        goto fail;
    }
    if (*h == '\0' || strchr(h, '/') != NULL || strchr(h, '?') != NULL || strchr(h, '@')) {
        berr_set(err, BERR_INTERNAL, "s3: endpoint must be scheme://host[:port] only");
        goto fail;
    }
    memcpy(s->host, h, strlen(h) + 1);
    for (const char *p = s->bucket; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || *p == '.')) {
            berr_set(err, BERR_INTERNAL, "s3: bucket name invalid");
            goto fail;
        }
    s->retries = o->retries ? o->retries : 4;
    s->timeout_s = o->timeout_s ? o->timeout_s : 60;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        berr_set(err, BERR_INTERNAL, "s3: mutex");
        goto fail;
    }
    *out = s;
    return 0;
fail:
    OPENSSL_cleanse(s->secret_key, sizeof(s->secret_key));
    mem_free(s);
    return -1;
}

void s3_free(struct s3 *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->npool; i++)
        curl_easy_cleanup(s->pool[i]);
    pthread_mutex_destroy(&s->mu);
    OPENSSL_cleanse(s->secret_key, sizeof(s->secret_key));
    mem_free(s);
}

const char *s3_bucket(const struct s3 *s)
{
    return s->bucket;
}

static CURL *handle_take(struct s3 *s)
{
    CURL *c = NULL;

    pthread_mutex_lock(&s->mu);
    if (s->npool > 0)
        c = s->pool[--s->npool];
    pthread_mutex_unlock(&s->mu);
    if (c == NULL)
        c = curl_easy_init();
    else
        curl_easy_reset(c);
    return c;
}

static void handle_give(struct s3 *s, CURL *c, int healthy)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    if (healthy && s->npool < S3_POOL) {
        s->pool[s->npool++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    if (c != NULL)
        curl_easy_cleanup(c);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
    struct call *c = ctx;
    size_t n = size * nmemb;

    long status = 0;

    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    if (c->sink != NULL && status >= 200 && status < 300) {
        if (n > c->sink_cap - c->sink_len)
            return 0; /* more than asked for: abort */
        memcpy(c->sink + c->sink_len, p, n);
        c->sink_len += n;
        return n;
    }
    if (buf_append(&c->resp, p, n) < 0)
        return 0;
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ctx)
{
    struct call *c = ctx;
    size_t n = size * nmemb;

    if (n > 5 && strncasecmp(p, "ETag:", 5) == 0) {
        const char *v = p + 5;
        size_t len = n - 5;

        while (len > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            len--;
        }
        while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
            len--;
        if (len < sizeof(c->etag)) {
            memcpy(c->etag, v, len);
            c->etag[len] = '\0';
        }
    }
    return n;
}

static size_t on_read(char *p, size_t size, size_t nmemb, void *ctx)
{
    struct call *c = ctx;
    size_t n = size * nmemb, left = c->body_len - c->body_pos;

    if (n > left)
        n = left;
    if (n > 0)
        memcpy(p, (const char *)c->body + c->body_pos, n);
    c->body_pos += n;
    return n;
}

/* "/bucket[/encoded key]" */
static int canon_path(const struct s3 *s, const char *key, char *out, size_t cap, struct berr *err)
{
    char enc[2048];
    int n;

    if (key == NULL) {
        n = snprintf(out, cap, "/%s", s->bucket);
    } else {
        if (s3_uri_encode(enc, sizeof(enc), key, strlen(key), 1, err) < 0)
            return -1;
        n = snprintf(out, cap, "/%s/%s", s->bucket, enc);
    }
    if (n < 0 || (size_t)n >= cap)
        return berr_set(err, BERR_INTERNAL, "s3: key too long");
    return 0;
}

static int transient_code(const char *code)
{
    return strcmp(code, "InternalError") == 0 || strcmp(code, "SlowDown") == 0 ||
           strcmp(code, "ServiceUnavailable") == 0 || strcmp(code, "RequestTimeout") == 0;
}

/* one attempt; 0 with c->status set when an answer came, -1 (retryable when *again) otherwise */
static int attempt(struct s3 *s, CURL *h, struct call *c, const char *path, int *again,
                   struct berr *err)
{
    char url[S3_URL_MAX], date[S3_AMZ_DATE_LEN + 1], hash[S3_SIG_HEX_LEN + 1];
    char sig[S3_SIG_HEX_LEN + 1], auth[1024], line[2048];
    struct s3_header hd[S3_MAX_HEADERS];
    struct s3_cred cred = {s->access_key, s->secret_key, s->region, "s3"};
    struct s3_sign_req r;
    struct curl_slist *hl = NULL, *tmp;
    size_t nh = 0;
    CURLcode cc;
    int n, rc = -1;

    *again = 0;
    n = snprintf(url, sizeof(url), "%s%s%s%s", s->endpoint, path, c->query ? "?" : "",
                 c->query ? c->query : "");
    if (n < 0 || (size_t)n >= sizeof(url))
        return berr_set(err, BERR_INTERNAL, "s3: URL too long");
    s3_amz_date(date, time(NULL));
    if (c->data)
        memcpy(hash, S3_UNSIGNED_PAYLOAD, sizeof(S3_UNSIGNED_PAYLOAD));
    else
        s3_sha256_hex(hash, c->body ? c->body : "", c->body_len);
    if (c->nextra + 3 > S3_MAX_HEADERS)
        return berr_set(err, BERR_INTERNAL, "s3: too many headers");
    hd[nh++] = (struct s3_header){"host", s->host};
    hd[nh++] = (struct s3_header){"x-amz-content-sha256", hash};
    hd[nh++] = (struct s3_header){"x-amz-date", date};
    for (size_t i = 0; i < c->nextra; i++)
        hd[nh++] = c->extra[i];
    r = (struct s3_sign_req){c->method, path, c->query, hd, nh, hash};
    if (s3_sign(sig, auth, sizeof(auth), &cred, date, &r, err) < 0)
        return -1;
    for (size_t i = 0; i < nh; i++) {
        n = snprintf(line, sizeof(line), "%s: %s", hd[i].name, hd[i].value);
        if (n < 0 || (size_t)n >= sizeof(line) || (tmp = curl_slist_append(hl, line)) == NULL)
            goto oom;
        hl = tmp;
    }
    n = snprintf(line, sizeof(line), "Authorization: %s", auth);
    if (n < 0 || (size_t)n >= sizeof(line) || (tmp = curl_slist_append(hl, line)) == NULL)
        goto oom;
    hl = tmp;
    /* no Expect: 100-continue round trip; curl's Accept and default type are not signed and are
     * harmless, but a Content-Type curl adds to POST must go */
    if ((tmp = curl_slist_append(hl, "Expect:")) == NULL)
        goto oom;
    hl = tmp;
    if ((tmp = curl_slist_append(hl, "Content-Type:")) == NULL)
        goto oom;
    hl = tmp;

    buf_reset(&c->resp);
    c->sink_len = 0;
    c->body_pos = 0;
    c->etag[0] = '\0';
    c->status = 0;
    c->h = h;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
    if (c->data) {
        /* big bodies: give up only when nothing moves for a minute */
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    } else {
        curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)s->timeout_s);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    if (strcmp(c->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(c->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, c);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->body_len);
    } else if (strcmp(c->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body ? (const char *)c->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
    } else if (strcmp(c->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    }
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        *again = cc != CURLE_WRITE_ERROR && cc != CURLE_URL_MALFORMAT && cc != CURLE_OUT_OF_MEMORY;
        berr_set(err, BERR_INTERNAL, "s3: %s %s: %s", c->method, c->key ? c->key : "(bucket)",
                 curl_easy_strerror(cc));
        /* no answer (refused, reset, timed out): the store is unreachable, 503 once retries
         * end; the details stay in the log */
        if (*again) {
            log_msg(LOG_ERROR, "%s", err ? err->msg : "s3: no answer");
            berr_set(err, BERR_UNAVAILABLE, "object store unavailable");
        }
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
    {
        curl_off_t cl = -1, ft = -1;

        curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        curl_easy_getinfo(h, CURLINFO_FILETIME_T, &ft);
        c->clen = (int64_t)cl;
        c->mtime = ft > 0 ? (int64_t)ft : 0;
    }
    rc = 0;
out:
    curl_slist_free_all(hl);
    OPENSSL_cleanse(auth, sizeof(auth));
    OPENSSL_cleanse(line, sizeof(line));
    return rc;
oom:
    curl_slist_free_all(hl);
    return berr_set(err, BERR_INTERNAL, "s3: building request headers");
}

/* error code of an <Error> body ("" when none) */
static void error_code(const struct call *c, char *code, size_t cap)
{
    struct berr ignored;

    code[0] = '\0';
    if (c->resp.len > 0 && c->resp.data != NULL && strstr(c->resp.data, "<Error") != NULL)
        if (s3_xml_find(c->resp.data, c->resp.len, "Code", code, cap, &ignored) < 0)
            code[0] = '\0';
}

/* run c with retries; 0 on a 2xx (without an <Error> body), -1 otherwise (BERR_NOT_FOUND on 404) */
static int run(struct s3 *s, struct call *c, struct berr *err)
{
    char path[2560], code[128];
    unsigned pause_ms = 100;
    CURL *h;
    int rc = -1;

    if (canon_path(s, c->key, path, sizeof(path), err) < 0)
        return -1;
    h = handle_take(s);
    if (h == NULL)
        return berr_set(err, BERR_INTERNAL, "s3: curl_easy_init failed");
    for (unsigned i = 0;; i++) {
        int again = 0, transient;

        if (attempt(s, h, c, path, &again, err) == 0) {
            error_code(c, code, sizeof(code));
            if (c->status >= 200 && c->status < 300 && code[0] == '\0') {
                rc = 0;
                break;
            }
            transient = c->status >= 500 || c->status == 429 ||
                        (c->status < 300 && transient_code(code));
            if (!transient || i >= s->retries) {
                if (c->status == 404)
                    berr_set(err, BERR_NOT_FOUND, "s3: %s %s: not found", c->method,
                             c->key ? c->key : "(bucket)");
                else
                    berr_set(err, BERR_INTERNAL, "s3: %s %s: %ld %s", c->method,
                             c->key ? c->key : "(bucket)", c->status, code[0] ? code : "");
                if (transient && c->status != 404) {
                    log_msg(LOG_ERROR, "%s", err ? err->msg : "s3: server error");
                    berr_set(err, BERR_UNAVAILABLE, "object store unavailable");
                }
                break;
            }
        } else if (!again || i >= s->retries) {
            break;
        }
        log_msg(LOG_WARN, "s3: %s %s: %s, retrying in %u ms", c->method,
                c->key ? c->key : "(bucket)", c->status ? "server error" : "no answer", pause_ms);
        {
            struct timespec ts = {(time_t)(pause_ms / 1000), (long)(pause_ms % 1000) * 1000000L};

            nanosleep(&ts, NULL);
        }
        if (pause_ms < 2000)
            pause_ms *= 2;
    }
    handle_give(s, h, rc == 0 || c->status != 0);
    return rc;
}

static void call_init(struct call *c, const char *method, const char *key)
{
    memset(c, 0, sizeof(*c));
    c->method = method;
    c->key = key;
    buf_init(&c->resp, S3_XML_BODY_MAX);
}

int s3_bucket_create(struct s3 *s, struct berr *err)
{
    char code[128];
    struct call c;
    int rc;

    call_init(&c, "PUT", NULL);
    rc = run(s, &c, err);
    if (rc < 0 && c.status == 409) {
        error_code(&c, code, sizeof(code));
        if (strcmp(code, "BucketAlreadyOwnedByYou") == 0)
            rc = 0;
    }
    buf_cleanup(&c.resp);
    return rc;
}

int s3_put(struct s3 *s, const char *key, const void *data, size_t len, struct berr *err)
{
    struct call c;
    int rc;

    call_init(&c, "PUT", key);
    c.body = data;
    c.body_len = len;
    c.data = 1;
    rc = run(s, &c, err);
    buf_cleanup(&c.resp);
    return rc;
}

/* "Fri, 04 Dec 2026 19:53:00 GMT" or ISO 8601 "2026-12-04T19:53:00.000Z" to epoch seconds */
static int64_t parse_time(const char *v)
{
    struct tm tm;
    int y, mo, d, h, mi, se;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) == 6) {
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = se;
        return (int64_t)timegm(&tm);
    }
    {
        time_t t = curl_getdate(v, NULL);

        return t < 0 ? 0 : (int64_t)t;
    }
}

int s3_head(struct s3 *s, const char *key, uint64_t *size, int64_t *mtime, struct berr *err)
{
    struct call c;
    int rc;

    call_init(&c, "HEAD", key);
    rc = run(s, &c, err);
    if (rc == 0) {
        if (c.clen < 0) {
            rc = berr_set(err, BERR_INTERNAL, "s3: HEAD %s: no Content-Length", key);
        } else {
            *size = (uint64_t)c.clen;
            if (mtime != NULL)
                *mtime = c.mtime;
            rc = 1;
        }
    } else if (err != NULL && err->code == BERR_NOT_FOUND) {
        rc = 0;
    }
    buf_cleanup(&c.resp);
    return rc;
}

int s3_get_range(struct s3 *s, const char *key, uint64_t off, size_t len, void *out, size_t *got,
                 struct berr *err)
{
    char range[64];
    struct s3_header h = {"range", range};
    struct call c;
    int rc;

    *got = 0;
    if (len == 0)
        return 0;
    snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)off,
             (unsigned long long)(off + len - 1));
    call_init(&c, "GET", key);
    c.extra = &h;
    c.nextra = 1;
    c.data = 1;
    c.sink = out;
    c.sink_cap = len;
    rc = run(s, &c, err);
    if (rc == 0)
        *got = c.sink_len;
    buf_cleanup(&c.resp);
    return rc;
}

int s3_delete(struct s3 *s, const char *key, struct berr *err)
{
    struct call c;
    int rc;

    call_init(&c, "DELETE", key);
    rc = run(s, &c, err);
    if (rc < 0 && err != NULL && err->code == BERR_NOT_FOUND)
        rc = 0;
    buf_cleanup(&c.resp);
    return rc;
}

static int copy_source(const struct s3 *s, const char *src, char *out, size_t cap, struct berr *err)
{
    return canon_path(s, src, out, cap, err);
}

int s3_copy(struct s3 *s, const char *dst, const char *src, uint64_t size, struct berr *err)
{
    char source[2560], upload_id[S3_UPLOAD_ID_MAX];
    struct s3_header h = {"x-amz-copy-source", source};
    struct s3_part *parts;
    struct call c;
    size_t n;
    int rc;

    if (copy_source(s, src, source, sizeof(source), err) < 0)
        return -1;
    if (size <= S3_MAX_COPY_BYTES) {
        call_init(&c, "PUT", dst);
        c.extra = &h;
        c.nextra = 1;
        rc = run(s, &c, err);
        buf_cleanup(&c.resp);
        return rc;
    }
    /* above 5 GiB: a multipart copy in 1 GiB parts */
    n = (size_t)((size + S3_COPY_PART - 1) / S3_COPY_PART);
    if (n > S3_MAX_PARTS)
        return berr_set(err, BERR_INTERNAL, "s3: object too large to copy");
    parts = mem_calloc(n, sizeof(*parts));
    if (parts == NULL)
        return berr_sys(err, ENOMEM, "s3: copy parts");
    rc = s3_mpu_create(s, dst, upload_id, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint64_t off = (uint64_t)i * S3_COPY_PART;
        uint64_t len = size - off < S3_COPY_PART ? size - off : S3_COPY_PART;

        parts[i].number = (unsigned)i + 1;
        rc = s3_mpu_part_copy(s, dst, upload_id, parts[i].number, src, off, len, parts[i].etag,
                              err);
    }
    if (rc == 0)
        rc = s3_mpu_complete(s, dst, upload_id, parts, n, err);
    if (rc < 0 && upload_id[0] != '\0') {
        struct berr ignored;

        s3_mpu_abort(s, dst, upload_id, &ignored);
    }
    mem_free(parts);
    return rc;
}

int s3_touch(struct s3 *s, const char *key, struct berr *err)
{
    char source[2560];
    struct s3_header h[2] = {{"x-amz-copy-source", source},
                             {"x-amz-metadata-directive", "REPLACE"}};
    struct call c;
    int rc;

    if (copy_source(s, key, source, sizeof(source), err) < 0)
        return -1;
    call_init(&c, "PUT", key);
    c.extra = h;
    c.nextra = 2;
    rc = run(s, &c, err);
    buf_cleanup(&c.resp);
    return rc;
}

/* list_page runs one GET of a listing with query, hands each element named item to fn (missing:
 * the error when one lacks a required field) and says in *more whether the answer is
 * truncated. Returns 0, fn's first non-zero return, or -1 with err set. */
static int list_page(struct s3 *s, struct call *c, const char *query, const char *item,
                     const char *const *fields, s3_xml_item_fn fn, void *ctx, const char *missing,
                     bool *more, struct berr *err)
{
    char trunc[16];
    int rc;

    *more = false;
    c->query = query;
    if (run(s, c, err) < 0)
        return -1;
    rc = s3_xml_each(c->resp.data, c->resp.len, item, fields, 3, fn, ctx, err);
    if (rc == -2)
        rc = berr_set(err, BERR_INTERNAL, "%s", missing);
    if (rc != 0)
        return rc;
    if (s3_xml_find(c->resp.data, c->resp.len, "IsTruncated", trunc, sizeof(trunc), err) < 0)
        return -1;
    *more = strcmp(trunc, "true") == 0;
    return 0;
}

struct list_ctx {
    s3_list_fn fn;
    void *ctx;
};

static int list_item(const char *const *v, void *ctx)
{
    struct list_ctx *l = ctx;
    char *end;
    unsigned long long size = strtoull(v[1], &end, 10);

    if (v[0][0] == '\0' || v[1][0] == '\0' || *end != '\0')
        return -2;
    return l->fn(v[0], (uint64_t)size, parse_time(v[2]), l->ctx);
}

int s3_list(struct s3 *s, const char *prefix, s3_list_fn fn, void *ctx, struct berr *err)
{
    static const char *const fields[] = {"Key", "Size", "LastModified"};
    char pfx[1024], token[1024], tok_enc[3100], query[4200];
    struct list_ctx l = {fn, ctx};
    struct call c;
    int rc = 0;

    if (s3_uri_encode(pfx, sizeof(pfx), prefix, strlen(prefix), 0, err) < 0)
        return -1;
    token[0] = '\0';
    call_init(&c, "GET", NULL);
    for (;;) {
        bool more;
        int n;

        if (token[0] != '\0') {
            if (s3_uri_encode(tok_enc, sizeof(tok_enc), token, strlen(token), 0, err) < 0) {
                rc = -1;
                break;
            }
            n = snprintf(query, sizeof(query), "continuation-token=%s&list-type=2&prefix=%s",
                         tok_enc, pfx);
        } else {
            n = snprintf(query, sizeof(query), "list-type=2&prefix=%s", pfx);
        }
        if (n < 0 || (size_t)n >= sizeof(query)) {
            rc = berr_set(err, BERR_INTERNAL, "s3: list query too long");
            break;
        }
        rc = list_page(s, &c, query, "Contents", fields, list_item, &l,
                       "s3: list answer without key or size", &more, err);
        if (rc != 0 || !more)
            break;
        if (s3_xml_find(c.resp.data, c.resp.len, "NextContinuationToken", token, sizeof(token),
                        err) != 1 ||
            token[0] == '\0') {
            rc = berr_set(err, BERR_INTERNAL, "s3: truncated list without a continuation token");
            break;
        }
    }
    buf_cleanup(&c.resp);
    return rc;
}

int s3_mpu_create(struct s3 *s, const char *key, char upload_id[S3_UPLOAD_ID_MAX], struct berr *err)
{
    struct call c;
    int rc;

    upload_id[0] = '\0';
    call_init(&c, "POST", key);
    c.query = "uploads";
    rc = run(s, &c, err);
    if (rc == 0 &&
        s3_xml_find(c.resp.data, c.resp.len, "UploadId", upload_id, S3_UPLOAD_ID_MAX, err) != 1)
        rc = berr_set(err, BERR_INTERNAL, "s3: create multipart %s: no UploadId", key);
    if (rc == 0 && upload_id[0] == '\0')
        rc = berr_set(err, BERR_INTERNAL, "s3: create multipart %s: empty UploadId", key);
    buf_cleanup(&c.resp);
    return rc;
}

static int part_query(char *out, size_t cap, unsigned number, const char *upload_id,
                      struct berr *err)
{
    char id[S3_UPLOAD_ID_MAX * 3];
    int n;

    if (number < 1 || number > S3_MAX_PARTS)
        return berr_set(err, BERR_INTERNAL, "s3: part number out of range");
    if (s3_uri_encode(id, sizeof(id), upload_id, strlen(upload_id), 0, err) < 0)
        return -1;
    n = snprintf(out, cap, "partNumber=%u&uploadId=%s", number, id);
    if (n < 0 || (size_t)n >= cap)
        return berr_set(err, BERR_INTERNAL, "s3: part query too long");
    return 0;
}

int s3_mpu_part(struct s3 *s, const char *key, const char *upload_id, unsigned number,
                const void *data, size_t len, char etag[S3_ETAG_MAX], struct berr *err)
{
    char query[S3_UPLOAD_ID_MAX * 3 + 64];
    struct call c;
    int rc;

    etag[0] = '\0';
    if (part_query(query, sizeof(query), number, upload_id, err) < 0)
        return -1;
    call_init(&c, "PUT", key);
    c.query = query;
    c.body = data;
    c.body_len = len;
    c.data = 1;
    rc = run(s, &c, err);
    if (rc == 0 && c.etag[0] == '\0')
        rc = berr_set(err, BERR_INTERNAL, "s3: upload part %s: no ETag", key);
    if (rc == 0)
        memcpy(etag, c.etag, strlen(c.etag) + 1);
    buf_cleanup(&c.resp);
    return rc;
}

int s3_mpu_part_copy(struct s3 *s, const char *key, const char *upload_id, unsigned number,
                     const char *src, uint64_t off, uint64_t len, char etag[S3_ETAG_MAX],
                     struct berr *err)
{
    char query[S3_UPLOAD_ID_MAX * 3 + 64], source[2560], range[64];
    struct s3_header h[2] = {{"x-amz-copy-source", source}, {"x-amz-copy-source-range", range}};
    struct call c;
    int rc;

    etag[0] = '\0';
    if (len == 0)
        return berr_set(err, BERR_INTERNAL, "s3: empty part copy");
    if (part_query(query, sizeof(query), number, upload_id, err) < 0 ||
        copy_source(s, src, source, sizeof(source), err) < 0)
        return -1;
    snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)off,
             (unsigned long long)(off + len - 1));
    call_init(&c, "PUT", key);
    c.query = query;
    c.extra = h;
    c.nextra = 2;
    rc = run(s, &c, err);
    if (rc == 0 && s3_xml_find(c.resp.data, c.resp.len, "ETag", etag, S3_ETAG_MAX, err) != 1)
        rc = berr_set(err, BERR_INTERNAL, "s3: copy part %s: no ETag", key);
    buf_cleanup(&c.resp);
    return rc;
}

int s3_mpu_complete(struct s3 *s, const char *key, const char *upload_id,
                    const struct s3_part *parts, size_t n, struct berr *err)
{
    char query[S3_UPLOAD_ID_MAX * 3 + 16], id[S3_UPLOAD_ID_MAX * 3];
    struct buf body;
    struct call c;
    int rc = -1;

    if (n == 0 || n > S3_MAX_PARTS)
        return berr_set(err, BERR_INTERNAL, "s3: complete with %zu parts", n);
    if (s3_uri_encode(id, sizeof(id), upload_id, strlen(upload_id), 0, err) < 0)
        return -1;
    snprintf(query, sizeof(query), "uploadId=%s", id);
    buf_init(&body, (size_t)S3_MAX_PARTS * 256);
    if (buf_appends(&body, "<CompleteMultipartUpload>") < 0)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        /* ETags are quoted hex; anything needing XML escapes would be refused by S3 anyway */
        if (strpbrk(parts[i].etag, "<>&") != NULL) {
            rc = berr_set(err, BERR_INTERNAL, "s3: odd ETag");
            goto out;
        }
        if (buf_printf(&body, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>",
                       parts[i].number, parts[i].etag) < 0)
            goto oom;
    }
    if (buf_appends(&body, "</CompleteMultipartUpload>") < 0)
        goto oom;
    call_init(&c, "POST", key);
    c.query = query;
    c.body = body.data;
    c.body_len = body.len;
    rc = run(s, &c, err);
    buf_cleanup(&c.resp);
out:
    buf_cleanup(&body);
    return rc;
oom:
    buf_cleanup(&body);
    return berr_sys(err, ENOMEM, "s3: complete body");
}

int s3_mpu_abort(struct s3 *s, const char *key, const char *upload_id, struct berr *err)
{
    char query[S3_UPLOAD_ID_MAX * 3 + 16], id[S3_UPLOAD_ID_MAX * 3];
    struct call c;
    int rc;

    if (s3_uri_encode(id, sizeof(id), upload_id, strlen(upload_id), 0, err) < 0)
        return -1;
    snprintf(query, sizeof(query), "uploadId=%s", id);
    call_init(&c, "DELETE", key);
    c.query = query;
    rc = run(s, &c, err);
    if (rc < 0 && err != NULL && err->code == BERR_NOT_FOUND)
        rc = 0;
    buf_cleanup(&c.resp);
    return rc;
}

struct mpu_ctx {
    s3_mpu_fn fn;
    void *ctx;
};

static int mpu_item(const char *const *v, void *ctx)
{
    struct mpu_ctx *m = ctx;

    if (v[0][0] == '\0' || v[1][0] == '\0')
        return -2;
    return m->fn(v[0], v[1], parse_time(v[2]), m->ctx);
}

int s3_mpu_list(struct s3 *s, const char *prefix, s3_mpu_fn fn, void *ctx, struct berr *err)
{
    static const char *const fields[] = {"Key", "UploadId", "Initiated"};
    char pfx[1024], km[1024], um[S3_UPLOAD_ID_MAX], km_enc[3100], um_enc[S3_UPLOAD_ID_MAX * 3];
    char query[5000];
    struct mpu_ctx m = {fn, ctx};
    struct call c;
    int rc = 0;

    if (s3_uri_encode(pfx, sizeof(pfx), prefix, strlen(prefix), 0, err) < 0)
        return -1;
    km[0] = um[0] = '\0';
    call_init(&c, "GET", NULL);
    for (;;) {
        bool more;
        int n;

        if (km[0] != '\0') {
            if (s3_uri_encode(km_enc, sizeof(km_enc), km, strlen(km), 0, err) < 0 ||
                s3_uri_encode(um_enc, sizeof(um_enc), um, strlen(um), 0, err) < 0) {
                rc = -1;
                break;
            }
            n = snprintf(query, sizeof(query),
                         "key-marker=%s&prefix=%s&upload-id-marker=%s&uploads", km_enc, pfx,
                         um_enc);
        } else {
            n = snprintf(query, sizeof(query), "prefix=%s&uploads", pfx);
        }
        if (n < 0 || (size_t)n >= sizeof(query)) {
            rc = berr_set(err, BERR_INTERNAL, "s3: uploads query too long");
            break;
        }
        rc = list_page(s, &c, query, "Upload", fields, mpu_item, &m,
                       "s3: uploads answer without key or id", &more, err);
        if (rc != 0 || !more)
            break;
        if (s3_xml_find(c.resp.data, c.resp.len, "NextKeyMarker", km, sizeof(km), err) != 1 ||
            s3_xml_find(c.resp.data, c.resp.len, "NextUploadIdMarker", um, sizeof(um), err) < 0 ||
            km[0] == '\0') {
            rc = berr_set(err, BERR_INTERNAL, "s3: truncated uploads list without markers");
            break;
        }
    }
    buf_cleanup(&c.resp);
    return rc;
}

int s3_presign_url(struct s3 *s, const char *method, const char *key, unsigned expires_s, char *out,
                   size_t cap, struct berr *err)
{
    struct s3_cred cred = {s->access_key, s->secret_key, s->region, "s3"};
    char path[2560], date[S3_AMZ_DATE_LEN + 1];

    if (canon_path(s, key, path, sizeof(path), err) < 0)
        return -1;
    s3_amz_date(date, time(NULL));
    return s3_presign(out, cap, &cred, method, s->endpoint, s->host, path, NULL, date, expires_s,
                      err);
}
