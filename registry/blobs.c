/* blobs.c - GET/HEAD/DELETE /v2/<name>/blobs/<digest>.
 *
 * A repository serves a blob only when storage/meta says it may (pushed, mounted or referenced
 * there). Bodies go out with sendfile from the blob file, or, from a store without files (S3),
 * streamed in windows of BLOB_STREAM_WINDOW bytes read as the client takes them; a store set to
 * redirect answers GET and HEAD with 307 to a URL presigned for that method instead (after the
 * access check, so the URL goes only to callers allowed the blob). Range requests get 206 with
 * Content-Range, unsatisfiable ones 416 with "bytes * /size" (Range parsed by common/range.c
 * only). Blobs are immutable, so they carry a long Cache-Control and the quoted digest as ETag;
 * If-None-Match goes through http/etag.c (304). No shared state. */
#include "registry/req.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/range.h"
#include "http/etag.h"
#include "registry/audit_hook.h"
#include "storage/blob_store.h"
#include "storage/meta.h"

static int blob_headers(struct http_resp *resp, const char *dstr, const char *etag,
                        const char *ctype)
{
    if (http_resp_header(resp, "Docker-Content-Digest", dstr) < 0 ||
        http_resp_header(resp, HTTP_HEADER_CONTENT_TYPE, ctype) < 0 ||
        http_resp_header(resp, HTTP_HEADER_ETAG, etag) < 0 ||
        http_resp_header(resp, HTTP_HEADER_ACCEPT_RANGES, "bytes") < 0 ||
        http_resp_header(resp, HTTP_HEADER_CACHE_CONTROL, "max-age=31536000") < 0)
        return -1;
    return 0;
}

#define BLOB_STREAM_WINDOW ((size_t)4 * 1024 * 1024)
#define BLOB_URL_MAX 4096

/* A streamed body: bytes [first, first + len) of the blob, read a window at a time. */
struct blob_stream {
    struct blob_reader *br;
    uint64_t first;
    uint64_t len;
    char *win;
    uint64_t win_off; /* offset in the body of win[0] */
    size_t win_len;
};

static long stream_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
    struct blob_stream *s = ctx;
    size_t n;

    if (pos >= s->len)
        return -1;
    if (pos < s->win_off || pos >= s->win_off + s->win_len) {
        uint64_t left = s->len - pos;
        size_t want = left < BLOB_STREAM_WINDOW ? (size_t)left : BLOB_STREAM_WINDOW;
        struct berr err;

        s->win_len = 0;
        if (blob_reader_pread(s->br, s->first + pos, s->win, want, &s->win_len, &err) < 0) {
            log_msg(LOG_ERROR, "blobs: reading at %llu: %s", (unsigned long long)pos, err.msg);
            return -1;
        }
        if (s->win_len == 0)
            return -1;
        s->win_off = pos;
    }
    n = (size_t)(s->win_off + s->win_len - pos);
    if (n > max)
        n = max;
    memcpy(buf, s->win + (pos - s->win_off), n);
    return (long)n;
}

static void stream_free(void *ctx)
{
    struct blob_stream *s = ctx;

    blob_reader_close(s->br);
    mem_free(s->win);
    mem_free(s);
}

/* body_of: the reply body for [first, first + len) of the blob open in br (taken) */
static struct http_resp *body_of(struct blob_reader *br, uint64_t first, uint64_t len)
{
    struct blob_stream *s;
    int fd = blob_reader_take_fd(br);

    if (fd >= 0) {
        blob_reader_close(br);
        return http_resp_fd(fd, first, len);
    }
    s = mem_calloc(1, sizeof(*s));
    if (s == NULL || (s->win = mem_malloc(BLOB_STREAM_WINDOW)) == NULL) {
        mem_free(s);
        blob_reader_close(br);
        return NULL;
    }
    s->br = br;
    s->first = first;
    s->len = len;
    if (len == 0) {
        stream_free(s);
        return http_resp_empty();
    }
    return http_resp_stream(len, stream_read, stream_free, s);
}

/* redirect: 1 when the store sent the client elsewhere (out filled), 0 when not, -1 error */
static int redirect(struct req *r, const struct digest *d, struct http_reply *out)
{
    char url[BLOB_URL_MAX];
    int rc = blob_store_presign(r->reg->blobs, d, r->method == HTTP_HEAD ? "HEAD" : "GET", url,
                                sizeof(url), &r->err);

    if (rc <= 0)
        return rc;
    out->resp = http_resp_empty();
    out->status = HTTP_TEMPORARY_REDIRECT;
    if (out->resp == NULL || http_resp_header(out->resp, HTTP_HEADER_LOCATION, url) < 0)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    return 1;
}

int blobs_get(struct req *r, struct http_reply *out)
{
    char dstr[DIGEST_STR_LEN + 1], etag[DIGEST_STR_LEN + 3], cr[96];
    const char *range;
    struct digest d;
    uint64_t size = 0, fsize = 0, first = 0, last = 0;
    struct blob_reader *br = NULL;
    int rr = 1, rd;

    if (digest_parse(&d, r->ref, strlen(r->ref), &r->err) < 0)
        return -1;
    if (meta_blob_linked(r->reg->meta, &r->name, &d, &size, &r->err) < 0)
        return -1;
    digest_format(&d, dstr, sizeof(dstr));
    (void)http_etag_quote(etag, sizeof(etag), dstr); /* fits: DIGEST_STR_LEN + quotes */
    if (http_etag_match(req_header(r, HTTP_HEADER_IF_NONE_MATCH), etag)) {
        out->resp = http_resp_empty();
        out->status = HTTP_NOT_MODIFIED;
        goto headers;
    }
    rd = redirect(r, &d, out);
    if (rd < 0)
        return -1;
    if (rd > 0)
        goto headers;
    if (r->method == HTTP_HEAD) {
        if (blob_store_stat(r->reg->blobs, &d, &fsize, &r->err) < 0)
            return -1;
        out->resp = http_resp_head(fsize);
        out->status = HTTP_OK;
        goto headers;
    }
    if (blob_store_reader_open(r->reg->blobs, &d, &br, &fsize, &r->err) < 0)
        return -1;
    range = req_header(r, HTTP_HEADER_RANGE);
    if (range != NULL)
        rr = range_parse_bytes(&first, &last, range, fsize);
    if (rr < 0) {
        blob_reader_close(br);
        (void)snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)fsize);
        out->resp = http_resp_empty();
        out->status = HTTP_RANGE_NOT_SATISFIABLE;
        if (out->resp == NULL || http_resp_header(out->resp, HTTP_HEADER_CONTENT_RANGE, cr) < 0)
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
        return 0;
    }
    if (rr == 0) {
        out->resp = body_of(br, first, last - first + 1);
        out->status = HTTP_PARTIAL_CONTENT;
        out->len = last - first + 1;
        (void)snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)first,
                       (unsigned long long)last, (unsigned long long)fsize);
        if (out->resp != NULL && http_resp_header(out->resp, HTTP_HEADER_CONTENT_RANGE, cr) < 0)
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
    } else {
        out->resp = body_of(br, 0, fsize);
        out->status = HTTP_OK;
        out->len = fsize;
    }
headers:
    if (out->resp == NULL || blob_headers(out->resp, dstr, etag, "application/octet-stream") < 0)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    return 0;
}

int blobs_delete(struct req *r, struct http_reply *out)
{
    struct digest d;

    if (digest_parse(&d, r->ref, strlen(r->ref), &r->err) < 0)
        return -1;
    if (meta_blob_unlink(r->reg->meta, &r->name, &d, &r->err) < 0)
        return -1;
    req_audit_ref(r, "delete", "blob", r->ref);
    out->resp = http_resp_empty();
    out->status = HTTP_ACCEPTED;
    if (out->resp == NULL)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    return 0;
}
