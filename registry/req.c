/* req.c - the life of one request context (struct req) behind the HTTP seam: made when a mount
 * takes a request, its buffered body, its answer, and its release.
 *
 * Shared by the /v2/ mount (registry/route.c) and the management API's mount (api/): both turn a
 * failed call into the spec's error body here, so the headers every error carries (a challenge on
 * a 401, Retry-After on a 429) are added in one place.
 * Invariants:
 *   1. A buffered body never grows past the cap given to req_body_expect (413 TOO_LARGE).
 *   2. req_free runs once per request (the mount's done). An upload session is the /v2/ mount's
 *      business: route.c releases it before req_free, so this file never calls into uploads.c.
 * No shared state. */
#include "registry/req.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "common/util.h"

const char *req_header(const struct req *r, const char *name)
{
    return r->http != NULL ? http_header(r->http, name) : NULL;
}

const char *req_query(const struct req *r, const char *name)
{
    return r->http != NULL ? http_query(r->http, name) : NULL;
}

int req_query_each(const struct req *r, const char *name, req_query_fn fn, void *ctx)
{
    return r->http != NULL ? http_query_each(r->http, name, fn, ctx) : 0;
}

struct req *req_new(struct registry *reg, struct http_req *hr)
{
    struct req *r = mem_calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->reg = reg;
    r->http = hr;
    r->url = hr->path;
    r->method = hr->method;
    r->reqid = hr->reqid;
    buf_init(&r->body, reg->cfg->manifest_max_bytes);
    return r;
}

void req_free(struct req *r)
{
    if (r == NULL)
        return;
    assert(r->upload == NULL); /* the /v2/ mount releases it first (route.c, v2_done) */
    if (r->http != NULL && r->user[0] != '\0')
        http_req_set_user(r->http, r->user);
    buf_cleanup(&r->body);
    mem_free(r);
}

int req_body_expect(struct req *r, uint64_t max, const char *what)
{
    const char *cl = req_header(r, HTTP_HEADER_CONTENT_LENGTH);
    uint64_t n;

    buf_cleanup(&r->body);
    buf_init(&r->body, (size_t)max);
    if (cl != NULL && parse_u64(&n, cl, strlen(cl)) == 0 && n > max)
        return berr_set(&r->err, BERR_TOO_LARGE, "%s larger than %llu bytes", what,
                        (unsigned long long)max);
    return 0;
}

int req_body_append(struct req *r, const char *data, size_t n)
{
    if (buf_append(&r->body, data, n) == 0)
        return 0;
    if (errno == EFBIG)
        return berr_set(&r->err, BERR_TOO_LARGE, "body larger than %llu bytes",
                        (unsigned long long)r->body.max);
    return berr_sys(&r->err, errno, "request body");
}

static void add_or_drop(struct http_reply *out, const char *k, const char *v)
{
    if (out->resp != NULL && http_resp_header(out->resp, k, v) < 0)
        http_reply_drop(out); /* the core answers 500 */
}

void req_answer(struct req *r, int rc, struct http_reply *out, bool v2)
{
    if (rc < 0 || out->resp == NULL) {
        http_reply_drop(out);
        if (rc >= 0)
            berr_set(&r->err, BERR_INTERNAL, "internal error");
        out->resp = reply_error(&r->err, &out->status);
        out->len = 0;
        if (out->resp != NULL)
            out->len = http_resp_len(out->resp);
    }
    if (out->resp == NULL)
        return;
    if (v2)
        add_or_drop(out, "Docker-Distribution-Api-Version", "registry/2.0");
    if (out->status == HTTP_UNAUTHORIZED && (v2 || r->challenge[0] != '\0'))
        add_or_drop(out, HTTP_HEADER_WWW_AUTHENTICATE,
                    r->challenge[0] ? r->challenge : "Basic realm=\"berth\"");
    if (out->status == HTTP_TOO_MANY_REQUESTS && r->retry_after_s > 0) {
        char ra[16];
        (void)snprintf(ra, sizeof(ra), "%u", r->retry_after_s); /* fits */
        add_or_drop(out, HTTP_HEADER_RETRY_AFTER, ra);
    }
}
