/* blobs.c - GET/HEAD/DELETE /v2/<name>/blobs/<digest>.
 *
 * A repository serves a blob only when storage/meta says it may (pushed, mounted or referenced
 * there). Bodies go out with sendfile from the blob file; Range requests get 206 with
 * Content-Range, unsatisfiable ones 416 with "bytes * /size" (Range parsed by common/range.c
 * only). Blobs are immutable, so they carry a long Cache-Control and the quoted digest as ETag;
 * If-None-Match goes through http/etag.c (304). No shared state. */
#include "registry/req.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

int blobs_get(struct req *r, struct http_reply *out)
{
    char dstr[DIGEST_STR_LEN + 1], etag[DIGEST_STR_LEN + 3], cr[96];
    const char *range;
    struct digest d;
    uint64_t size = 0, fsize = 0, first = 0, last = 0;
    int fd = -1, rr = 1;

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
    if (r->method == HTTP_HEAD) {
        if (blob_store_stat(r->reg->blobs, &d, &fsize, &r->err) < 0)
            return -1;
        out->resp = http_resp_head(fsize);
        out->status = HTTP_OK;
        goto headers;
    }
    if (blob_store_open_read(r->reg->blobs, &d, &fd, &fsize, &r->err) < 0)
        return -1;
    range = req_header(r, HTTP_HEADER_RANGE);
    if (range != NULL)
        rr = range_parse_bytes(&first, &last, range, fsize);
    if (rr < 0) {
        (void)close(fd); /* read-only */
        (void)snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)fsize);
        out->resp = http_resp_empty();
        out->status = HTTP_RANGE_NOT_SATISFIABLE;
        if (out->resp == NULL || http_resp_header(out->resp, HTTP_HEADER_CONTENT_RANGE, cr) < 0)
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
        return 0;
    }
    if (rr == 0) {
        out->resp = http_resp_fd(fd, first, last - first + 1);
        out->status = HTTP_PARTIAL_CONTENT;
        out->len = last - first + 1;
        (void)snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)first,
                       (unsigned long long)last, (unsigned long long)fsize);
        if (out->resp != NULL && http_resp_header(out->resp, HTTP_HEADER_CONTENT_RANGE, cr) < 0)
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
    } else {
        out->resp = http_resp_fd(fd, 0, fsize);
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
