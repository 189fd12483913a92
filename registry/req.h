/* req.h - what a registry handler gets: the long-lived registry state and one request's context.
 *
 * registry/server.c owns the request lifecycle: it routes the URL, parses the repository name,
 * authenticates, buffers a manifest body (capped at cfg->manifest_max_bytes, 413 above), calls one
 * handler, and logs one line. A handler fills `struct http_reply` and returns 0, or returns -1 with
 * r->err set; the server turns r->err into the spec's JSON error (registry/reply.c).
 * Handlers run on any worker thread; everything in struct registry is thread-safe. */
#ifndef BERTH_REGISTRY_REQ_H
#define BERTH_REGISTRY_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include "common/berr.h"
#include "common/buf.h"
#include "common/digest.h"
#include "auth/authn.h"
#include "config/config.h"
#include "http/http.h"

struct blob_store;
struct upload_mgr;
struct upload;
struct meta;
struct authn;
struct tok_ring;
struct audit;
struct api_sessions;
struct pulls;

struct registry {
    const struct berth_config *cfg;
    struct blob_store *blobs;
    struct upload_mgr *uploads;
    struct meta *meta;
    struct authn *authn;
    struct tok_ring *tokring;      /* signs and verifies bearer tokens (auth/token_ring.h) */
    struct audit *audit;           /* audit log queue (storage/audit.h); NULL = auditing off */
    struct api_sessions *sessions; /* web UI sessions (api/api_session.h); NULL = none */
    struct pulls *pulls;           /* pull counters (storage/pulls.h); NULL = not counted */
};

enum req_route {
    ROUTE_NONE,
    ROUTE_BASE,         /* GET /v2/ */
    ROUTE_CATALOG,      /* GET /v2/_catalog */
    ROUTE_TAGS,         /* GET /v2/<name>/tags/list */
    ROUTE_BLOB,         /* /v2/<name>/blobs/<digest> */
    ROUTE_UPLOAD_START, /* POST /v2/<name>/blobs/uploads/ */
    ROUTE_UPLOAD,       /* /v2/<name>/blobs/uploads/<id> */
    ROUTE_MANIFEST,     /* /v2/<name>/manifests/<ref> */
    ROUTE_REFERRERS,    /* GET /v2/<name>/referrers/<digest> */
    ROUTE_TOKEN,        /* GET/POST /service/token */
    ROUTE_API,          /* /api/..., /c/..., /metrics (management API, api/) */
    ROUTE_UI,           /* anything else: the embedded web UI */
};

struct req {
    struct registry *reg;
    struct http_req *http; /* the request as the HTTP seam gives it; NULL in some unit tests */
    enum http_method method;
    enum req_route route;
    const char *url; /* decoded path, without the query string (http->path) */

    /* set by the router for repository routes */
    struct repo_name name;
    char ref[256]; /* raw last path segment: tag, digest or upload id ("" when none) */

    /* authenticated principal ("" = anonymous), set by access_check */
    char user[256];
    struct principal who;
    /* WWW-Authenticate value for a 401 ("" = the default Basic challenge) */
    char challenge[1024];
    /* seconds for a Retry-After header on a 429 TOOMANYREQUESTS (0 = none) */
    unsigned retry_after_s;

    /* request body for routes that buffer it (manifest PUT); capped */
    struct buf body;

    /* blob upload in progress (registry/uploads.c), released by the server at the end */
    struct upload *upload;
    struct digest upload_want; /* ?digest= of the request finishing the upload */
    bool upload_finish;        /* this request commits the upload (PUT, POST ?digest=) */
    bool upload_range;         /* the request carried a Content-Range */
    uint64_t upload_expect;    /* bytes the request announced (Content-Length or range) */
    uint64_t upload_got;       /* body bytes received by this request */

    struct berr err;

    const char *reqid; /* http->reqid, for log lines */
};

/* req_header returns a request header value (borrowed until the request ends) or NULL. */
const char *req_header(const struct req *r, const char *name);
/* req_query returns the first value of a query argument or NULL. */
const char *req_query(const struct req *r, const char *name);
/* req_query_each calls fn for every value of a (possibly repeated) query argument, in order;
 * stops and returns fn's non-zero result. */
typedef int (*req_query_fn)(const char *value, void *ctx);
int req_query_each(const struct req *r, const char *name, req_query_fn fn, void *ctx);

/* ---- the request's life (registry/req.c), shared by route.c and the management API ---- */

/* req_new: a request context for hr on reg (new, req_free), NULL when out of memory. The body
 * buffer is capped at the manifest limit until req_body_expect says otherwise. */
struct req *req_new(struct registry *reg, struct http_req *hr);
/* req_free records r->user for the access log and frees. An upload the request held must have
 * been released (uploads_abort) first. NULL is a no-op. */
void req_free(struct req *r);
/* req_body_expect prepares r->body for a buffered body of at most max bytes: refuses at once
 * (TOO_LARGE "<what> larger than N bytes", -1) when Content-Length already says more. */
int req_body_expect(struct req *r, uint64_t max, const char *what);
/* req_body_append adds a piece of a buffered body; -1 with r->err set (TOO_LARGE past the cap). */
int req_body_append(struct req *r, const char *data, size_t n);
/* req_answer closes a handler call: when rc < 0, whatever was built is dropped and r->err is
 * answered in the spec's format; then the headers every answer of this kind carries are added
 * (Docker-Distribution-Api-Version on /v2/, WWW-Authenticate on a 401 of /v2/ or whenever
 * r->challenge is set, Retry-After on a 429). */
void req_answer(struct req *r, int rc, struct http_reply *out, bool v2);

/* reply_error builds the spec's {"errors":[{"code","message","detail"}]} for err and sets
 * *status from the code (new; NULL when out of memory). */
struct http_resp *reply_error(const struct berr *err, unsigned *status);
/* reply_status_of: the HTTP status of an error code. */
unsigned reply_status_of(enum berr_code code);

/* access_check (registry/access.c) authenticates a /v2/ request and decides whether the caller
 * may do what the route and method ask. On refusal it sets r->err (UNAUTHORIZED, DENIED or
 * TOOMANYREQUESTS) and, for a 401, r->challenge. Sets r->who and r->user on success. */
int access_check(struct req *r);
/* access_repo_allows: the caller of r (as access_check authenticated it) may use every one of
 * `actions` (SCOPE_ACT_* bits: pull 1, push 2, delete 4) on repo - by its bearer token's claims
 * (also refused when the token predates repo's project), else by its role. For the mount
 * check: pull on `from`. False on any store failure. */
bool access_repo_allows(struct req *r, const struct repo_name *repo, unsigned actions);

/* The management API's JSON bodies are capped at this size. */
#define REQ_JSON_MAX_BYTES (64 * 1024)

/* ---- handlers (one file per endpoint family) ---- */
int base_get(struct req *r, struct http_reply *out);      /* GET /v2/ */
int blobs_get(struct req *r, struct http_reply *out);     /* GET/HEAD /v2/<name>/blobs/<digest> */
int blobs_delete(struct req *r, struct http_reply *out);  /* DELETE /v2/<name>/blobs/<digest> */
int manifests_get(struct req *r, struct http_reply *out); /* GET/HEAD /v2/<name>/manifests/<ref> */
int manifests_put(struct req *r, struct http_reply *out); /* PUT, body in r->body */
int manifests_delete(struct req *r, struct http_reply *out);
int tags_list(struct req *r, struct http_reply *out);     /* GET /v2/<name>/tags/list */
int catalog_list(struct req *r, struct http_reply *out);  /* GET /v2/_catalog */
int referrers_get(struct req *r, struct http_reply *out); /* GET /v2/<name>/referrers/<digest> */

/* Uploads (registry/uploads.c). uploads_begin runs before the body: it may answer at once
 * (*done set: mounts, a POST that only opens a session, early errors); otherwise the body goes
 * to uploads_data chunk by chunk and uploads_end answers. uploads_abort releases what a request
 * holds when it ends early (called by the /v2/ mount's done in every case; safe to call twice). */
int uploads_begin(struct req *r, struct http_reply *out, bool *done);
int uploads_data(struct req *r, const char *data, size_t n);
int uploads_end(struct req *r, struct http_reply *out);
void uploads_abort(struct req *r);
int uploads_status(struct req *r, struct http_reply *out); /* GET /v2/<name>/blobs/uploads/<id> */
int uploads_delete(struct req *r,
                   struct http_reply *out); /* DELETE /v2/<name>/blobs/uploads/<id> */

#endif
