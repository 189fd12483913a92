/* route.c - the /v2/ mount: the distribution API's routes behind the HTTP seam.
 *
 * begin   split "/v2/<name>/<kind>/<ref>" into a route, parse the repository name, refuse a
 *         method the route does not have, authenticate and authorize (access.c); then either
 *         answer (requests without a body), or ask for the body: a manifest is buffered (capped
 *         at cfg->manifest_max_bytes, 413 above), an upload streams into its session;
 * data    appends to the buffer or the upload; a failure keeps r->err and drops the rest;
 * end     runs the route's handler.
 * Every /v2/ error carries one of the distribution spec's codes:
 *   - a path that names no endpoint answers 404 UNSUPPORTED: the spec has no "not found" of its
 *     own, NAME_UNKNOWN would claim a repository was looked up (it was not: the path does not
 *     parse), and UNSUPPORTED ("the operation is unsupported") is what a client can act on;
 *     distribution answers a bare 404 there, so no client depends on a body;
 *   - an encoded NUL in the path (the core cuts the decoded path there and flags it) answers
 *     NAME_INVALID when it falls in the name, else the code of the bad reference;
 *   - an upload id with path characters ("../..") answers BLOB_UPLOAD_UNKNOWN, since ids are
 *     server-made hex and no such session can exist; likewise a manifest reference that is
 *     neither tag nor digest answers MANIFEST_UNKNOWN to GET/HEAD (TAG_INVALID to a PUT).
 * Invariants:
 *   1. A repository name reaches a handler only through repo_name_parse.
 *   2. No handler runs before authentication succeeded.
 *   3. Every answer, errors included, goes through req_answer (spec error body, API version
 *      header, challenge).
 * Thread-safety: per-request state only; struct registry is thread-safe. */
#include "registry/route.h"

#include <string.h>

#include "common/mem.h"
#include "common/util.h"

enum body_mode { BODY_NONE, BODY_BUFFER, BODY_UPLOAD };

struct v2_state {
    struct req *r;
    enum body_mode body;
    bool failed; /* r->err holds why */
};

/* find the last occurrence of needle in [s, s+len) */
static const char *find_last(const char *s, size_t len, const char *needle)
{
    size_t nlen = strlen(needle);

    if (len < nlen)
        return NULL;
    for (size_t i = len - nlen + 1; i-- > 0;) {
        if (memcmp(s + i, needle, nlen) == 0)
            return s + i;
    }
    return NULL;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
    size_t sl = strlen(suffix);
    return len >= sl && memcmp(s + len - sl, suffix, sl) == 0;
}

/* bad_ref: the error for an unusable last path segment of route (empty, too long, cut by an
 * encoded NUL, or holding a '/') */
static int bad_ref(struct req *r)
{
    switch (r->route) {
    case ROUTE_MANIFEST:
        if (r->method == HTTP_PUT)
            return berr_set(&r->err, BERR_TAG_INVALID, "invalid reference");
        if (r->method == HTTP_GET || r->method == HTTP_HEAD)
            return berr_set(&r->err, BERR_MANIFEST_UNKNOWN, "manifest unknown");
        return berr_set(&r->err, BERR_TAG_INVALID, "invalid reference");
    case ROUTE_UPLOAD:
        return berr_set(&r->err, BERR_BLOB_UPLOAD_UNKNOWN, "unknown upload");
    case ROUTE_BLOB:
    case ROUTE_REFERRERS:
        return berr_set(&r->err, BERR_DIGEST_INVALID, "invalid digest");
    default:
        return berr_set(&r->err, BERR_NAME_INVALID, "invalid repository name");
    }
}

int route_v2_parse(struct req *r, const char *rest)
{
    size_t len = strlen(rest), name_len = 0;
    const char *ref = NULL, *p;

    if (len == 0) {
        r->route = ROUTE_BASE;
        return 0;
    }
    if (strcmp(rest, "_catalog") == 0) {
        r->route = ROUTE_CATALOG;
        return 0;
    }
    if (ends_with(rest, len, "/tags/list")) {
        r->route = ROUTE_TAGS;
        name_len = len - strlen("/tags/list");
    } else if (ends_with(rest, len, "/blobs/uploads/") || ends_with(rest, len, "/blobs/uploads")) {
        r->route = ROUTE_UPLOAD_START;
        name_len = (size_t)(find_last(rest, len, "/blobs/uploads") - rest);
    } else if ((p = find_last(rest, len, "/blobs/uploads/")) != NULL) {
        /* an id with a '/' in it ("../.."): still an upload route, never a blob or manifest */
        r->route = ROUTE_UPLOAD;
        name_len = (size_t)(p - rest);
        ref = p + strlen("/blobs/uploads/");
    } else if ((p = find_last(rest, len, "/blobs/")) != NULL &&
               strchr(p + strlen("/blobs/"), '/') == NULL) {
        r->route = ROUTE_BLOB;
        name_len = (size_t)(p - rest);
        ref = p + strlen("/blobs/");
    } else if ((p = find_last(rest, len, "/manifests/")) != NULL &&
               strchr(p + strlen("/manifests/"), '/') == NULL) {
        r->route = ROUTE_MANIFEST;
        name_len = (size_t)(p - rest);
        ref = p + strlen("/manifests/");
    } else if ((p = find_last(rest, len, "/referrers/")) != NULL &&
               strchr(p + strlen("/referrers/"), '/') == NULL) {
        r->route = ROUTE_REFERRERS;
        name_len = (size_t)(p - rest);
        ref = p + strlen("/referrers/");
    } else {
        r->route = ROUTE_NONE;
        return berr_set(&r->err, BERR_UNSUPPORTED, "unknown endpoint");
    }
    if (repo_name_parse(&r->name, rest, name_len, &r->err) < 0)
        return -1;
    if (ref != NULL) {
        size_t rl = strlen(ref);
        if (rl == 0 || rl >= sizeof(r->ref) || memchr(ref, '/', rl) != NULL)
            return bad_ref(r);
        memcpy(r->ref, ref, rl + 1);
    }
    return 0;
}

/* parse_cut: route_v2_parse of a path the core cut at an encoded NUL. The NUL belongs to the
 * last segment when what is left already parses into a route with a reference (its reference
 * is then bad); anywhere else it is inside the repository name. */
static int parse_cut(struct req *r, const char *rest)
{
    if (route_v2_parse(r, rest) == 0 && r->ref[0] != '\0')
        return bad_ref(r);
    if (r->route == ROUTE_MANIFEST || r->route == ROUTE_UPLOAD || r->route == ROUTE_BLOB ||
        r->route == ROUTE_REFERRERS)
        return bad_ref(r); /* an empty reference: the NUL was its first byte */
    r->route = ROUTE_NONE;
    return berr_set(&r->err, BERR_NAME_INVALID, "invalid repository name");
}

bool route_v2_method_allowed(enum req_route route, enum http_method m)
{
    switch (route) {
    case ROUTE_BASE:
    case ROUTE_CATALOG:
    case ROUTE_TAGS:
    case ROUTE_REFERRERS:
        return m == HTTP_GET || m == HTTP_HEAD;
    case ROUTE_BLOB:
        return m == HTTP_GET || m == HTTP_HEAD || m == HTTP_DELETE;
    case ROUTE_UPLOAD_START:
        return m == HTTP_POST;
    case ROUTE_UPLOAD:
        return m == HTTP_GET || m == HTTP_PATCH || m == HTTP_PUT || m == HTTP_DELETE;
    case ROUTE_MANIFEST:
        return m == HTTP_GET || m == HTTP_HEAD || m == HTTP_PUT || m == HTTP_DELETE;
    case ROUTE_TOKEN:
    case ROUTE_API:
    case ROUTE_UI:
    case ROUTE_NONE:
        break;
    }
    return false;
}

int base_get(struct req *r, struct http_reply *out)
{
    (void)r;
    out->resp = http_resp_json("{}", 2);
    out->status = HTTP_OK;
    out->len = 2;
    return 0;
}

/* dispatch runs the handler of a request that needs no body (or whose body is complete). */
static int dispatch(struct req *r, struct http_reply *out)
{
    switch (r->route) {
    case ROUTE_BASE:
        return base_get(r, out);
    case ROUTE_CATALOG:
        return catalog_list(r, out);
    case ROUTE_TAGS:
        return tags_list(r, out);
    case ROUTE_REFERRERS:
        return referrers_get(r, out);
    case ROUTE_BLOB:
        return r->method == HTTP_DELETE ? blobs_delete(r, out) : blobs_get(r, out);
    case ROUTE_UPLOAD:
        if (r->method == HTTP_GET)
            return uploads_status(r, out);
        if (r->method == HTTP_DELETE)
            return uploads_delete(r, out);
        return uploads_end(r, out);
    case ROUTE_UPLOAD_START:
        return uploads_end(r, out);
    case ROUTE_MANIFEST:
        if (r->method == HTTP_PUT)
            return manifests_put(r, out);
        if (r->method == HTTP_DELETE)
            return manifests_delete(r, out);
        return manifests_get(r, out);
    case ROUTE_TOKEN:
    case ROUTE_API:
    case ROUTE_UI:
    case ROUTE_NONE:
        break;
    }
    return berr_set(&r->err, BERR_UNSUPPORTED, "unknown endpoint");
}

/* prepare: everything before the body. 1 = wants the body, 0 = answered, -1 = refused. */
static int prepare(struct v2_state *st, struct http_reply *out)
{
    struct req *r = st->r;
    const char *url = r->url;
    bool done = false;

    if (r->http->path_nul)
        return parse_cut(r, url[3] == '/' ? url + 4 : "");
    if (route_v2_parse(r, url[3] == '/' ? url + 4 : "") < 0)
        return -1;
    if (!route_v2_method_allowed(r->route, r->method))
        return berr_set(&r->err, BERR_UNSUPPORTED, "method %s not allowed here",
                        r->http->method_str != NULL ? r->http->method_str
                                                    : http_method_name(r->method));
    if (access_check(r) < 0)
        return -1;
    if (r->route == ROUTE_MANIFEST && r->method == HTTP_PUT) {
        if (req_body_expect(r, r->reg->cfg->manifest_max_bytes, "manifest") < 0)
            return -1;
        st->body = BODY_BUFFER;
        return 1;
    }
    if ((r->route == ROUTE_UPLOAD && (r->method == HTTP_PATCH || r->method == HTTP_PUT)) ||
        r->route == ROUTE_UPLOAD_START) {
        if (uploads_begin(r, out, &done) < 0)
            return -1;
        if (done)
            return 0;
        st->body = BODY_UPLOAD;
        return 1;
    }
    return dispatch(r, out);
}

static enum http_next v2_begin(void *ctx, struct http_req *hr, void **state, struct http_reply *out)
{
    struct v2_state *st = mem_calloc(1, sizeof(*st));
    int rc;

    *state = st;
    if (st == NULL)
        return HTTP_ANSWERED; /* out->resp NULL: the core answers 500 */
    st->r = req_new(ctx, hr);
    if (st->r == NULL)
        return HTTP_ANSWERED;
    rc = prepare(st, out);
    if (rc > 0)
        return HTTP_READ_BODY;
    req_answer(st->r, rc, out, true);
    /* a path that names no endpoint: UNSUPPORTED (file comment), but 404 as for any URL
     * nothing answers, not the 405 UNSUPPORTED means for a known route */
    if (rc < 0 && st->r->route == ROUTE_NONE && st->r->err.code == BERR_UNSUPPORTED)
        out->status = HTTP_NOT_FOUND;
    return HTTP_ANSWERED;
}

static int v2_data(void *state, const char *data, size_t n)
{
    struct v2_state *st = state;
    int rc = 0;

    if (st->body == BODY_BUFFER)
        rc = req_body_append(st->r, data, n);
    else if (st->body == BODY_UPLOAD)
        rc = uploads_data(st->r, data, n);
    if (rc < 0)
        st->failed = true;
    return rc;
}

static void v2_end(void *state, struct http_reply *out)
{
    struct v2_state *st = state;
    int rc = st->failed ? -1 : dispatch(st->r, out);

    req_answer(st->r, rc, out, true);
}

static void v2_done(void *state)
{
    struct v2_state *st = state;

    if (st == NULL)
        return;
    if (st->r != NULL)
        uploads_abort(st->r); /* a session the request still holds, whatever happened */
    req_free(st->r);
    mem_free(st);
}

const struct http_handler route_v2_handler = {
        .begin = v2_begin,
        .data = v2_data,
        .end = v2_end,
        .done = v2_done,
};
