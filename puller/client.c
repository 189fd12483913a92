/* client.c - registry v2 HTTP client over libcurl: setup, curl callbacks, the request loop.
 *
 * Every request goes through one loop (client_perform) that owns the protocol decisions:
 *   1. Authorization is attached only when the request URL has the same origin as the URL the
 *      request started from (the registry base, or the token realm); redirects are followed by
 *      hand (CURLOPT_FOLLOWLOCATION off) so this is checked at every hop.
 *   2. A 401 is answered at most once per request: with a new token (Bearer) or the credential
 *      (Basic), as client_auth.c decides; a second 401 is BERR_UNAUTHORIZED and says which leg
 *      refused.
 *   3. 429, 5xx and transport resets are retried with exponential back-off (Retry-After
 *      honoured, capped); a blob retry asks for the bytes after the last one the sink took, so
 *      the sink sees every byte exactly once and in order.
 *   4. Body bytes reach the caller only for a 2xx answer; error bodies go to a small buffer.
 * Challenges, the credential and the token belong to client_auth.c (which keeps the token's
 * invariants); the wording of failures to client_err.c; struct client and struct req sit in
 * client_int.h. Threads: requests on one client may run at once, each with its own struct req
 * and curl handle; the curl share object is guarded by c->share_mu, the token by c->mu, and the
 * counters are atomic.
 * Secrets: the password and token live in memory only, are wiped on free, and no log line
 * carries a header value, a password, a token or a query string. */
#include "puller/client.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/util.h"
#include "puller/client_int.h"

#define ERRBODY_MAX 4096
#define WWW_AUTH_MAX 4096
#define MAX_REDIRECTS 10
#define RETRY_CAP_MS 30000L

static const char *const manifest_accept =
        "Accept: application/vnd.oci.image.manifest.v1+json, "
        "application/vnd.oci.image.index.v1+json, "
        "application/vnd.docker.distribution.manifest.v2+json, "
        "application/vnd.docker.distribution.manifest.list.v2+json";

/* ---- pure helpers ---------------------------------------------------------------------- */

/* origin_of splits "scheme://host[:port]/..." into a lowercase "scheme://host:port" */
static int origin_of(char *out, size_t cap, const char *url)
{
    const char *sep = strstr(url, "://");
    const char *host, *end, *at;
    size_t slen, hlen;
    bool has_port = false;
    const char *defport;
    int n;

    if (sep == NULL)
        return -1;
    slen = (size_t)(sep - url);
    host = sep + 3;
    end = host + strcspn(host, "/?#");
    at = memchr(host, '@', (size_t)(end - host));
    if (at != NULL)
        host = at + 1;
    hlen = (size_t)(end - host);
    if (hlen == 0)
        return -1;
    if (host[0] == '[') {
        const char *rb = memchr(host, ']', hlen);
        if (rb == NULL)
            return -1;
        has_port = rb + 1 < end && rb[1] == ':';
    } else {
        has_port = memchr(host, ':', hlen) != NULL;
    }
    if (slen == 5 && strncasecmp(url, "https", 5) == 0)
        defport = ":443";
    else if (slen == 4 && strncasecmp(url, "http", 4) == 0)
        defport = ":80";
    else
        return -1;
    n = snprintf(out, cap, "%.*s://%.*s%s", (int)slen, url, (int)hlen, host,
                 has_port ? "" : defport);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    for (char *p = out; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    return 0;
}

bool client_same_origin(const char *a, const char *b)
{
    char oa[512], ob[512];

    if (origin_of(oa, sizeof(oa), a) < 0 || origin_of(ob, sizeof(ob), b) < 0)
        return false;
    return strcmp(oa, ob) == 0;
}

/* parse_u64_prefix reads the run of digits at *pp and moves *pp past it */
static int parse_u64_prefix(uint64_t *out, const char **pp)
{
    size_t n = strspn(*pp, "0123456789");

    if (parse_u64(out, *pp, n) < 0)
        return -1;
    *pp += n;
    return 0;
}

int client_content_range_parse(uint64_t *first, uint64_t *last, uint64_t *total, const char *v)
{
    const char *p = client_skip_ows(v);

    if (strncasecmp(p, "bytes", 5) != 0)
        return -1;
    p += 5;
    if (*p != ' ')
        return -1;
    p = client_skip_ows(p);
    if (parse_u64_prefix(first, &p) < 0 || *p++ != '-' || parse_u64_prefix(last, &p) < 0)
        return -1;
    if (*p++ != '/')
        return -1;
    if (*p == '*') {
        *total = UINT64_MAX;
        p++;
    } else if (parse_u64_prefix(total, &p) < 0) {
        return -1;
    }
    p = client_skip_ows(p);
    if (*p != '\0' && *p != '\r' && *p != '\n')
        return -1;
    if (*last < *first || (*total != UINT64_MAX && *last >= *total))
        return -1;
    return 0;
}

long client_retry_delay_ms(int attempt, int base_ms, long retry_after_s)
{
    long d = base_ms > 0 ? base_ms : 500;

    for (int i = 0; i < attempt && d < RETRY_CAP_MS; i++)
        d *= 2;
    if (retry_after_s > 0 && retry_after_s <= RETRY_CAP_MS / 1000 && retry_after_s * 1000 > d)
        d = retry_after_s * 1000;
    if (retry_after_s > RETRY_CAP_MS / 1000)
        d = RETRY_CAP_MS;
    return d > RETRY_CAP_MS ? RETRY_CAP_MS : d;
}

/* ---- setup ----------------------------------------------------------------------------- */

int client_global_init(struct berr *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return berr_set(err, BERR_INTERNAL, "cannot initialise libcurl");
    return 0;
}

void client_global_cleanup(void)
{
    curl_global_cleanup();
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ctx)
{
    struct client *c = ctx;

    (void)h;
    (void)access;
    if ((unsigned)data < CURL_LOCK_DATA_LAST)
        (void)pthread_mutex_lock(&c->share_mu[data]); /* cannot fail on a valid default mutex */
}

static void share_unlock(CURL *h, curl_lock_data data, void *ctx)
{
    struct client *c = ctx;

    (void)h;
    if ((unsigned)data < CURL_LOCK_DATA_LAST)
        (void)pthread_mutex_unlock(&c->share_mu[data]);
}

void client_wipe_free(char *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, strlen(s));
    mem_free(s);
}

void client_free(struct client *c)
{
    if (c == NULL)
        return;
    if (c->share != NULL)
        (void)curl_share_cleanup(c->share); /* fails only while handles still use it: none do */
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        (void)pthread_mutex_destroy(&c->share_mu[i]);
    (void)pthread_mutex_destroy(&c->mu);
    mem_free(c->repo);
    mem_free(c->ca_file);
    client_wipe_free(c->username);
    client_wipe_free(c->password);
    client_wipe_free(c->token);
    mem_free(c);
}

int client_new(struct client **out, const struct client_opts *opts, const char *username,
               const char *password, struct berr *err)
{
    struct client *c;
    int n;

    *out = NULL;
    c = mem_calloc(1, sizeof(*c));
    if (c == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        (void)pthread_mutex_init(&c->share_mu[i], NULL); /* default attrs: cannot fail on Linux */
    (void)pthread_mutex_init(&c->mu, NULL);
    n = snprintf(c->base, sizeof(c->base), "%s://%s", opts->plain_http ? "http" : "https",
                 opts->host);
    if (n < 0 || (size_t)n >= sizeof(c->base)) {
        client_free(c);
        return berr_set(err, BERR_NAME_INVALID, "registry host too long");
    }
    c->repo = mem_strdup(opts->repo);
    c->ca_file = opts->ca_file != NULL ? mem_strdup(opts->ca_file) : NULL;
    c->username = username != NULL ? mem_strdup(username) : NULL;
    c->password = username != NULL ? mem_strdup(password != NULL ? password : "") : NULL;
    if (c->repo == NULL || (opts->ca_file != NULL && c->ca_file == NULL) ||
        (username != NULL && (c->username == NULL || c->password == NULL))) {
        client_free(c);
        return berr_set(err, BERR_INTERNAL, "out of memory");
    }
    c->insecure = opts->insecure;
    c->verbose = opts->verbose;
    c->limit_rate = opts->limit_rate;
    c->max_retries = opts->max_retries < 0 ? 4 : opts->max_retries;
    c->backoff_ms = opts->backoff_ms > 0 ? opts->backoff_ms : 500;
    c->share = curl_share_init();
    if (c->share == NULL ||
        curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        curl_share_setopt(c->share, CURLSHOPT_USERDATA, c) != CURLSHE_OK ||
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK) {
        client_free(c);
        return berr_set(err, BERR_INTERNAL, "cannot set up libcurl share");
    }
    *out = c;
    return 0;
}

void client_get_stats(struct client *c, struct client_stats *out)
{
    out->tokens = atomic_load(&c->n_tokens);
    out->requests = atomic_load(&c->n_requests);
    out->ranged = atomic_load(&c->n_ranged);
    out->retries = atomic_load(&c->n_retries);
}

/* ---- curl callbacks -------------------------------------------------------------------- */

static void copy_header_value(char *dst, size_t cap, const char *v, size_t len)
{
    while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct req *r = ud;
    size_t len = size * nmemb;
    const char *colon;
    size_t nlen;
    const char *v;
    size_t vlen;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* a new response (redirect hop, 100 Continue): forget the previous headers */
        buf_reset(&r->www_auth);
        r->content_type[0] = '\0';
        r->content_range[0] = '\0';
        r->retry_after_s = 0;
        return len;
    }
    colon = memchr(data, ':', len);
    if (colon == NULL)
        return len;
    nlen = (size_t)(colon - data);
    v = colon + 1;
    while (v < data + len && (*v == ' ' || *v == '\t'))
        v++;
    vlen = (size_t)(data + len - v);
    if (nlen == 16 && strncasecmp(data, "WWW-Authenticate", 16) == 0) {
        char tmp[WWW_AUTH_MAX];
        copy_header_value(tmp, sizeof(tmp), v, vlen);
        /* several headers are one list; an over-long value is simply cut and fails to parse */
        if ((r->www_auth.len > 0 && buf_appends(&r->www_auth, ", ") < 0) ||
            buf_appends(&r->www_auth, tmp) < 0)
            return len;
    } else if (nlen == 12 && strncasecmp(data, "Content-Type", 12) == 0) {
        copy_header_value(r->content_type, sizeof(r->content_type), v, vlen);
        r->content_type[strcspn(r->content_type, "; ")] = '\0';
    } else if (nlen == 13 && strncasecmp(data, "Content-Range", 13) == 0) {
        copy_header_value(r->content_range, sizeof(r->content_range), v, vlen);
    } else if (nlen == 11 && strncasecmp(data, "Retry-After", 11) == 0) {
        char tmp[32];
        uint64_t s;
        copy_header_value(tmp, sizeof(tmp), v, vlen);
        if (parse_u64(&s, tmp, strlen(tmp)) == 0 && s < 3600)
            r->retry_after_s = (long)s;
    }
    return len;
}

static void sleep_ms(long ms);

/* throttle sleeps in the write callback until the average rate of this request is back under
 * c->limit_rate; the socket then fills and TCP slows the sender. (curl's own
 * CURLOPT_MAX_RECV_SPEED_LARGE lets a loopback transfer of a few MiB through unthrottled.) */
static void throttle(struct req *r, size_t len)
{
    int64_t now = now_ms_mono(), due;

    if (r->rate_start_ms == 0)
        r->rate_start_ms = now;
    r->rate_bytes += len;
    due = r->rate_start_ms + (int64_t)(r->rate_bytes * 1000 / (uint64_t)r->c->limit_rate);
    if (due > now)
        sleep_ms((long)(due - now > 1000 ? 1000 : due - now));
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct req *r = ud;
    size_t len = size * nmemb;
    long status = 0;

    (void)curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        size_t room = r->errbody.max - r->errbody.len;
        /* an error body is only for the message; the rest is dropped, not an error */
        (void)buf_append(&r->errbody, data, len < room ? len : room);
        return len;
    }
    if (r->kind != REQ_BLOB) {
        if (buf_append(r->body, data, len) < 0) {
            r->too_big = true;
            return 0;
        }
        return len;
    }
    if (!r->range_checked) {
        r->range_checked = true;
        if (status == 206) {
            uint64_t first, last, total;
            if (client_content_range_parse(&first, &last, &total, r->content_range) < 0 ||
                first != r->offset) {
                r->bad_range = true;
                return 0;
            }
            atomic_fetch_add(&r->c->n_ranged, 1);
        } else {
            r->skip = r->offset; /* Range ignored: the body starts at byte 0 */
        }
    }
    if (r->skip > 0) {
        size_t drop = r->skip < len ? (size_t)r->skip : len;
        r->skip -= drop;
        data += drop;
        len -= drop;
        if (len == 0)
            return size * nmemb;
    }
    if (len > r->limit - r->delivered) {
        r->too_big = true;
        return 0;
    }
    if (r->sink(data, len, r->ctx) < 0) {
        r->sink_failed = true;
        return 0;
    }
    r->delivered += len;
    if (r->c->limit_rate > 0)
        throttle(r, len);
    return size * nmemb;
}

/* ---- the request loop ------------------------------------------------------------------ */

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* log_url logs a URL without its query string (signed storage URLs, token parameters) */
static void log_request(const struct client *c, const char *what, const char *url, long status)
{
    if (!c->verbose)
        return;
    log_msg(LOG_INFO, "%s %.*s -> %ld", what, (int)strcspn(url, "?#"), url, status);
}

static void set_tls(struct client *c, CURL *h)
{
    if (c->ca_file != NULL)
        (void)curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    if (c->insecure) {
        (void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        (void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

static void reset_response(struct req *r)
{
    buf_reset(&r->www_auth);
    buf_reset(&r->errbody);
    r->content_type[0] = '\0';
    r->content_range[0] = '\0';
    r->retry_after_s = 0;
    r->range_checked = false;
    r->skip = 0;
    r->sink_failed = false;
    r->too_big = false;
    r->bad_range = false;
    r->rate_start_ms = 0;
    r->rate_bytes = 0;
    if (r->body != NULL)
        buf_reset(r->body);
}

int client_perform(struct client *c, struct req *r, const char *start_url, struct berr *err)
{
    char url[URL_MAX];
    struct curl_slist *hdrs = NULL;
    char *auth = NULL;
    char range[96];
    char errbuf[CURL_ERROR_SIZE];
    int attempt = 0, redirects = 0, rc = -1;
    bool auth_tried = false;
    const uint64_t offset0 = r->offset;
    long gen = 0;
    size_t ulen = strlen(start_url);

    buf_init(&r->www_auth, WWW_AUTH_MAX);
    buf_init(&r->errbody, ERRBODY_MAX);
    if (ulen >= sizeof(url))
        return berr_set(err, BERR_INTERNAL, "URL too long");
    memcpy(url, start_url, ulen + 1);
    r->h = curl_easy_init();
    if (r->h == NULL) {
        rc = berr_set(err, BERR_INTERNAL, "cannot create a curl handle");
        goto out;
    }
    for (;;) {
        CURL *h = r->h;
        CURLcode cc;
        long status = 0;
        bool same = client_same_origin(url, start_url);

        reset_response(r);
        r->offset = offset0 + r->delivered;
        curl_slist_free_all(hdrs);
        hdrs = NULL;
        if (auth != NULL) {
            client_wipe_free(auth);
            auth = NULL;
        }
        if (r->kind != REQ_TOKEN && same && client_auth_header(c, &auth, &gen, err) < 0)
            goto out;
        if (r->kind == REQ_MANIFEST)
            hdrs = curl_slist_append(hdrs, manifest_accept);
        if (r->kind == REQ_BLOB && r->offset > 0) {
            int n = snprintf(range, sizeof(range), "Range: bytes=%llu-%llu",
                             (unsigned long long)r->offset,
                             (unsigned long long)(offset0 + r->limit - 1));
            if (n < 0 || (size_t)n >= sizeof(range))
                goto nomem;
            hdrs = curl_slist_append(hdrs, range);
        }
        if (auth != NULL) {
            struct curl_slist *t = curl_slist_append(hdrs, auth);
            if (t == NULL)
                goto nomem;
            hdrs = t;
        }
        curl_easy_reset(h);
        (void)curl_easy_setopt(h, CURLOPT_URL, url);
        (void)curl_easy_setopt(h, CURLOPT_SHARE, c->share);
        (void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        (void)curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        (void)curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        (void)curl_easy_setopt(h, CURLOPT_USERAGENT, "berth-pull/1");
        (void)curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
        (void)curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        (void)curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
        (void)curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        (void)curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
        (void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        (void)curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
        errbuf[0] = '\0';
        (void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        if (hdrs != NULL)
            (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        if (r->kind == REQ_TOKEN && same && c->username != NULL) {
            (void)curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            (void)curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
            (void)curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
        }
        set_tls(c, h);
        atomic_fetch_add(&c->n_requests, 1);
        cc = curl_easy_perform(h);
        (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        log_request(c, r->kind == REQ_TOKEN ? "GET(token)" : "GET", url, status);
        if (cc != CURLE_OK) {
            if (r->sink_failed) {
                rc = berr_set(err, BERR_INTERNAL, "download aborted by the writer");
                goto out;
            }
            if (r->too_big) {
                rc = r->kind == REQ_BLOB
                             ? berr_set(err, BERR_SIZE_INVALID,
                                        "blob is longer than its descriptor says")
                             : berr_set(err, BERR_TOO_LARGE, "response over its size cap");
                goto out;
            }
            if (r->bad_range) {
                rc = berr_set(err, BERR_RANGE_INVALID,
                              "registry answered a different range than asked");
                goto out;
            }
            if (client_curl_retryable(cc, errbuf) && attempt < c->max_retries) {
                long d = client_retry_delay_ms(attempt, c->backoff_ms, 0);
                if (c->verbose)
                    log_msg(LOG_INFO, "transfer failed (%s); retry in %ld ms",
                            curl_easy_strerror(cc), d);
                atomic_fetch_add(&c->n_retries, 1);
                sleep_ms(d);
                attempt++;
                continue;
            }
            rc = client_transport_error(c, url, cc, errbuf, attempt, err);
            goto out;
        }
        if (status >= 300 && status < 400 && status != 304) {
            char *loc = NULL;
            size_t llen;
            if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || loc == NULL) {
                rc = berr_set(err, BERR_INTERNAL, "redirect without a Location");
                goto out;
            }
            llen = strlen(loc);
            if (++redirects > MAX_REDIRECTS || llen >= sizeof(url)) {
                rc = berr_set(err, BERR_INTERNAL, "too many or too long redirects");
                goto out;
            }
            memmove(url, loc, llen + 1);
            continue;
        }
        if (status == 401 && r->kind != REQ_TOKEN && !auth_tried) {
            auth_tried = true;
            if (client_on_unauthorized(c, r, gen, err) < 0)
                goto out;
            memcpy(url, start_url, ulen + 1);
            continue;
        }
        if ((status == 429 || status == 500 || status == 502 || status == 503 || status == 504) &&
            attempt < c->max_retries) {
            long d = client_retry_delay_ms(attempt, c->backoff_ms, r->retry_after_s);
            if (c->verbose)
                log_msg(LOG_INFO, "registry answered %ld; retry in %ld ms", status, d);
            atomic_fetch_add(&c->n_retries, 1);
            sleep_ms(d);
            attempt++;
            memcpy(url, start_url, ulen + 1);
            continue;
        }
        if (status >= 200 && status < 300) {
            rc = 0;
            goto out;
        }
        rc = client_fail_status(c, r, status, auth_tried, err);
        client_note_retries(err, attempt);
        goto out;
    }
nomem:
    rc = berr_set(err, BERR_INTERNAL, "out of memory");
out:
    curl_slist_free_all(hdrs);
    client_wipe_free(auth);
    if (r->h != NULL)
        curl_easy_cleanup(r->h);
    r->h = NULL;
    buf_cleanup(&r->www_auth);
    buf_cleanup(&r->errbody);
    return rc;
}

int client_get_manifest(struct client *c, struct buf *body, char *media_type, size_t cap,
                        const char *ref, struct berr *err)
{
    char url[URL_MAX];
    struct req r;
    int n, rc;

    if (cap > 0)
        media_type[0] = '\0';
    if (body->max > CLIENT_MANIFEST_MAX_BYTES)
        body->max = CLIENT_MANIFEST_MAX_BYTES;
    n = snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", c->base, c->repo, ref);
    if (n < 0 || (size_t)n >= sizeof(url))
        return berr_set(err, BERR_NAME_INVALID, "reference too long");
    memset(&r, 0, sizeof(r));
    r.c = c;
    r.kind = REQ_MANIFEST;
    r.body = body;
    rc = client_perform(c, &r, url, err);
    if (rc == 0 && cap > 0) {
        n = snprintf(media_type, cap, "%s", r.content_type);
        if (n < 0 || (size_t)n >= cap)
            media_type[0] = '\0'; /* an over-long type is as good as none: the body decides */
    }
    return rc;
}

int client_get_blob(struct client *c, uint64_t *got, const char *digest, uint64_t offset,
                    uint64_t size, client_sink_fn sink, void *ctx, struct berr *err)
{
    char url[URL_MAX];
    struct req r;
    int n, rc;

    *got = 0;
    if (offset >= size && size > 0)
        return 0;
    n = snprintf(url, sizeof(url), "%s/v2/%s/blobs/%s", c->base, c->repo, digest);
    if (n < 0 || (size_t)n >= sizeof(url))
        return berr_set(err, BERR_NAME_INVALID, "blob URL too long");
    memset(&r, 0, sizeof(r));
    r.c = c;
    r.kind = REQ_BLOB;
    r.sink = sink;
    r.ctx = ctx;
    r.offset = offset;
    r.limit = size - offset;
    rc = client_perform(c, &r, url, err);
    *got = r.delivered;
    return rc;
}
