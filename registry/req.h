/* req.h - what a registry handler gets: the long-lived registry state and one request's context.
 *
 * registry/server.c owns the request lifecycle: it routes the URL, parses the repository name,
 * authenticates, buffers a manifest body (capped at cfg->manifest_max_bytes, 413 above), calls one
 * handler, and logs one line. A handler fills `struct reply` and returns 0, or returns -1 with
 * r->err set; the server turns r->err into the spec's JSON error (registry/reply.c).
 * Handlers run on any worker thread; everything in struct registry is thread-safe. */
#ifndef BERTH_REGISTRY_REQ_H
#define BERTH_REGISTRY_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include <microhttpd.h>

#include "common/berr.h"
#include "common/buf.h"
#include "common/digest.h"
#include "auth/authn.h"
#include "config/config.h"

struct blob_store;
struct upload_mgr;
struct upload;
struct meta;
struct authn;
struct tok_key;
struct audit;
struct api_sessions;
struct pulls;

struct registry {
    const struct berth_config *cfg;
    struct blob_store *blobs;
    struct upload_mgr *uploads;
    struct meta *meta;
    struct authn *authn;
    struct tok_key *tokkey; /* signs and verifies bearer tokens (DATA/token.key), read-only */
    struct audit *audit;    /* audit log queue (storage/audit.h); NULL = auditing off */
    struct api_sessions *sessions; /* web UI sessions (registry/api_session.h); NULL = none */
    struct pulls *pulls;           /* pull counters (storage/pulls.h); NULL = not counted */
};

enum req_method { REQ_GET, REQ_HEAD, REQ_PUT, REQ_POST, REQ_PATCH, REQ_DELETE, REQ_OTHER };

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
    ROUTE_API,          /* /api/... (management API, registry/api.c) */
    ROUTE_UI,           /* anything else: the embedded web UI */
};

struct req {
    struct registry *reg;
    struct MHD_Connection *conn;
    enum req_method method;
    enum req_route route;
    const char *url; /* path as received, borrowed from libmicrohttpd */

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

    /* bookkeeping for the access log */
    char reqid[17];
    int64_t t0_ms;
    unsigned status;
    uint64_t bytes_out;
};

struct reply {
    struct MHD_Response *resp; /* new; the server queues and destroys it */
    unsigned status;
    uint64_t len; /* body bytes, for the access log (0 when unknown) */
};

/* req_header returns a request header value (borrowed until the request ends) or NULL. */
const char *req_header(const struct req *r, const char *name);
/* req_query returns the first value of a query argument or NULL. */
const char *req_query(const struct req *r, const char *name);
/* req_query_each calls fn for every value of a (possibly repeated) query argument, in order;
 * stops and returns fn's non-zero result. */
typedef int (*req_query_fn)(const char *value, void *ctx);
int req_query_each(const struct req *r, const char *name, req_query_fn fn, void *ctx);

/* Building replies. Each returns a new response (NULL on allocation failure; the server then
 * answers 500). Common headers (Docker-Distribution-Api-Version) are added by the server. */
struct MHD_Response *reply_empty(void);
/* reply_json / reply_bytes copy the data. */
struct MHD_Response *reply_json(const char *json, size_t len);
struct MHD_Response *reply_bytes(const void *data, size_t len, const char *content_type);
/* reply_fd serves [offset, offset+len) of fd with sendfile; takes fd (closed with the response,
 * also on failure). */
struct MHD_Response *reply_fd(int fd, uint64_t offset, uint64_t len);
/* reply_head: an empty body that still announces Content-Length: len (for HEAD). */
struct MHD_Response *reply_head(uint64_t len);
/* reply_error builds the spec's {"errors":[{"code","message","detail"}]} for err and sets
 * *status from the code. */
struct MHD_Response *reply_error(const struct berr *err, unsigned *status);
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

/* token_handle (registry/token_ep.c): GET/POST /service/token. Body (POST form) in r->body. */
int token_handle(struct req *r, struct reply *out);
/* api_handle (registry/api.c): everything under /api/. JSON body in r->body (capped at
 * REQ_JSON_MAX_BYTES). Authenticates on its own (Basic, session cookie). */
#define REQ_JSON_MAX_BYTES (64 * 1024)
int api_handle(struct req *r, struct reply *out);

/* ---- handlers (one file per endpoint family) ---- */
int base_get(struct req *r, struct reply *out);      /* GET /v2/ */
int blobs_get(struct req *r, struct reply *out);     /* GET/HEAD /v2/<name>/blobs/<digest> */
int blobs_delete(struct req *r, struct reply *out);  /* DELETE /v2/<name>/blobs/<digest> */
int manifests_get(struct req *r, struct reply *out); /* GET/HEAD /v2/<name>/manifests/<ref> */
int manifests_put(struct req *r, struct reply *out); /* PUT, body in r->body */
int manifests_delete(struct req *r, struct reply *out);
int tags_list(struct req *r, struct reply *out);     /* GET /v2/<name>/tags/list */
int catalog_list(struct req *r, struct reply *out);  /* GET /v2/_catalog */
int referrers_get(struct req *r, struct reply *out); /* GET /v2/<name>/referrers/<digest> */

/* Uploads (registry/uploads.c). uploads_begin runs before the body: it may answer at once
 * (*done set: mounts, a POST that only opens a session, early errors); otherwise the body goes
 * to uploads_data chunk by chunk and uploads_end answers. uploads_abort releases what a request
 * holds when it ends early (called by the server in every case; safe to call twice). */
int uploads_begin(struct req *r, struct reply *out, bool *done);
int uploads_data(struct req *r, const char *data, size_t n);
int uploads_end(struct req *r, struct reply *out);
void uploads_abort(struct req *r);
int uploads_status(struct req *r, struct reply *out); /* GET /v2/<name>/blobs/uploads/<id> */
int uploads_delete(struct req *r, struct reply *out); /* DELETE /v2/<name>/blobs/uploads/<id> */

#endif
