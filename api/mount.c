/* mount.c - the management API's mounts on the HTTP core: /api/ (and /metrics), /c/ (web
 * sessions), /service/token, and the web UI's assets for every other path.
 *
 * Each mount builds a struct req (registry/req.c) for its request, buffers a body for the methods
 * that carry one (JSON and forms, capped at REQ_JSON_MAX_BYTES: 413 past it), and calls one entry
 * point when the body is complete. Every answer goes through req_answer, so a failure that left
 * no reply becomes the spec's error body.
 * Thread-safety: per-request state only. */
#include "api/mount.h"

#include <string.h>

#include "api/api_content.h"
#include "api/api_session.h"
#include "api/ui_assets.h"
#include "common/mem.h"
#include "common/util.h"
#include "http/etag.h"

/* no other site may frame the UI (clickjacking): CSP for today's browsers, X-Frame-Options for
 * older ones */
#define UI_CSP "default-src 'self'; frame-ancestors 'none'"

typedef int (*entry_fn)(struct req *r, struct http_reply *out);

struct api_state {
    struct req *r;
    entry_fn fn;
    bool failed; /* r->err holds why */
};

static bool has_body(enum http_method m)
{
    return m == HTTP_POST || m == HTTP_PUT || m == HTTP_PATCH || m == HTTP_DELETE;
}

/* begin_with: the common begin of every mount here; route tells the audit hook where the
 * request came in. */
static enum http_next begin_with(struct registry *reg, struct http_req *hr, void **state,
                                 struct http_reply *out, entry_fn fn, enum req_route route,
                                 bool (*allowed)(enum http_method))
{
    struct api_state *st = mem_calloc(1, sizeof(*st));
    struct req *r;
    int rc;

    *state = st;
    if (st == NULL)
        return HTTP_ANSWERED;
    st->fn = fn;
    st->r = r = req_new(reg, hr);
    if (r == NULL)
        return HTTP_ANSWERED;
    r->route = route;
    if (!allowed(r->method)) {
        rc = berr_set(&r->err, BERR_UNSUPPORTED, "method %s not allowed here",
                      hr->method_str != NULL ? hr->method_str : http_method_name(r->method));
        req_answer(r, rc, out, false);
        return HTTP_ANSWERED;
    }
    if (has_body(r->method)) {
        if (req_body_expect(r, REQ_JSON_MAX_BYTES, "request body") < 0) {
            req_answer(r, -1, out, false);
            return HTTP_ANSWERED;
        }
        return HTTP_READ_BODY;
    }
    rc = fn(r, out);
    req_answer(r, rc, out, false);
    return HTTP_ANSWERED;
}

static int api_data(void *state, const char *data, size_t n)
{
    struct api_state *st = state;

    if (req_body_append(st->r, data, n) < 0) {
        st->failed = true;
        return -1;
    }
    return 0;
}

static void api_end(void *state, struct http_reply *out)
{
    struct api_state *st = state;
    int rc = st->failed ? -1 : st->fn(st->r, out);

    req_answer(st->r, rc, out, false);
}

static void api_done(void *state)
{
    struct api_state *st = state;

    if (st == NULL)
        return;
    req_free(st->r);
    mem_free(st);
}

static bool any_method(enum http_method m)
{
    (void)m;
    return true;
}

static bool get_or_post(enum http_method m)
{
    return m == HTTP_GET || m == HTTP_POST;
}

static bool get_or_head(enum http_method m)
{
    return m == HTTP_GET || m == HTTP_HEAD;
}

static enum http_next api_begin(void *ctx, struct http_req *hr, void **state,
                                struct http_reply *out)
{
    return begin_with(ctx, hr, state, out, api_handle, ROUTE_API, any_method);
}

static enum http_next token_begin(void *ctx, struct http_req *hr, void **state,
                                  struct http_reply *out)
{
    return begin_with(ctx, hr, state, out, token_handle, ROUTE_TOKEN, get_or_post);
}

/* ---- the web UI's assets ---- */

static int ui_get(struct req *r, struct http_reply *out)
{
    const char *path = r->url;

    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0 ||
        str_has_prefix(path, "/harbor") || str_has_prefix(path, "/ui/"))
        path = "/index.html";
    for (unsigned i = 0; i < ui_assets_count; i++) {
        const struct ui_asset *a = &ui_assets[i];
        if (strcmp(a->path, path) != 0)
            continue;
        if (http_etag_match(req_header(r, HTTP_HEADER_IF_NONE_MATCH), a->etag)) {
            out->resp = http_resp_empty();
            out->status = HTTP_NOT_MODIFIED;
        } else {
            out->resp = http_resp_bytes(a->data, a->len, a->type);
            out->status = HTTP_OK;
            out->len = a->len;
        }
        if (out->resp == NULL)
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
        if (http_resp_header(out->resp, HTTP_HEADER_ETAG, a->etag) < 0 ||
            http_resp_header(out->resp, "Content-Security-Policy", UI_CSP) < 0 ||
            http_resp_header(out->resp, "X-Frame-Options", "DENY") < 0 ||
            http_resp_header(out->resp, HTTP_HEADER_CACHE_CONTROL, "no-cache") < 0)
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
        return 0;
    }
    return berr_set(&r->err, BERR_NOT_FOUND, "not found");
}

static enum http_next ui_begin(void *ctx, struct http_req *hr, void **state, struct http_reply *out)
{
    return begin_with(ctx, hr, state, out, ui_get, ROUTE_UI, get_or_head);
}

const struct http_handler api_mount_handler = {
        .begin = api_begin,
        .data = api_data,
        .end = api_end,
        .done = api_done,
};

const struct http_handler api_token_handler = {
        .begin = token_begin,
        .data = api_data,
        .end = api_end,
        .done = api_done,
};

static enum http_next metrics_begin(void *ctx, struct http_req *hr, void **state,
                                    struct http_reply *out)
{
    return begin_with(ctx, hr, state, out, api_metrics_listener, ROUTE_API, get_or_head);
}

const struct http_handler api_metrics_handler = {
        .begin = metrics_begin,
        .data = api_data,
        .end = api_end,
        .done = api_done,
};

const struct http_handler api_ui_handler = {
        .begin = ui_begin,
        .data = api_data,
        .end = api_end,
        .done = api_done,
};

size_t api_mounts(struct http_mount *out, size_t cap, struct registry *reg)
{
    const struct http_mount all[] = {
            {"/v2", true, &route_v2_handler, reg},
            {"/v2/", false, &route_v2_handler, reg},
            {"/service/token", true, &api_token_handler, reg},
            {"/api/", false, &api_mount_handler, reg},
            {"/c/", false, &api_mount_handler, reg},     /* /c/login, /c/log_out (api_session.c) */
            {"/metrics", true, &api_mount_handler, reg}, /* Prometheus metrics (api_misc.c) */
            {"/", false, &api_ui_handler, reg},
    };
    size_t n = sizeof(all) / sizeof(all[0]);

    if (cap < n)
        return 0;
    memcpy(out, all, sizeof(all));
    return n;
}
