/* http.h - the request/reply seam: what a handler sees of HTTP, with no libmicrohttpd in sight.
 *
 * A handler reads its request through struct http_req (method, path, headers, query, cookies,
 * client address) and answers with a struct http_resp (a status is set beside it in struct
 * http_reply): a body in memory, a file range sent with sendfile, or only a Content-Length (HEAD),
 * plus headers. The HTTP core (http/server.c) alone turns these into libmicrohttpd calls; a test
 * double (http/fake.c) builds requests from strings and reads replies back, so any handler can be
 * driven in-process, with no socket.
 *
 * Ownership: an http_req and everything it returns are borrowed for the request's lifetime. An
 * http_resp is new from its constructor and owned by whoever holds it; http_reply_set and the
 * core take it. Header names and values are copied.
 * Thread-safety: one request is handled by one thread at a time; nothing here is shared. */
#ifndef BERTH_HTTP_HTTP_H
#define BERTH_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Status codes the handlers use (RFC 9110 names). */
#define HTTP_OK 200
#define HTTP_CREATED 201
#define HTTP_ACCEPTED 202
#define HTTP_NO_CONTENT 204
#define HTTP_PARTIAL_CONTENT 206
#define HTTP_NOT_MODIFIED 304
#define HTTP_TEMPORARY_REDIRECT 307
#define HTTP_BAD_REQUEST 400
#define HTTP_UNAUTHORIZED 401
#define HTTP_FORBIDDEN 403
#define HTTP_NOT_FOUND 404
#define HTTP_METHOD_NOT_ALLOWED 405
#define HTTP_CONFLICT 409
#define HTTP_PRECONDITION_FAILED 412
#define HTTP_CONTENT_TOO_LARGE 413
#define HTTP_RANGE_NOT_SATISFIABLE 416
#define HTTP_TOO_MANY_REQUESTS 429
#define HTTP_INTERNAL_SERVER_ERROR 500
#define HTTP_SERVICE_UNAVAILABLE 503
#define HTTP_INSUFFICIENT_STORAGE 507

/* Header names. */
#define HTTP_HEADER_ACCEPT "Accept"
#define HTTP_HEADER_ACCEPT_RANGES "Accept-Ranges"
#define HTTP_HEADER_AUTHORIZATION "Authorization"
#define HTTP_HEADER_CACHE_CONTROL "Cache-Control"
#define HTTP_HEADER_CONTENT_LENGTH "Content-Length"
#define HTTP_HEADER_CONTENT_RANGE "Content-Range"
#define HTTP_HEADER_CONTENT_TYPE "Content-Type"
#define HTTP_HEADER_ETAG "ETag"
#define HTTP_HEADER_HOST "Host"
#define HTTP_HEADER_IF_NONE_MATCH "If-None-Match"
#define HTTP_HEADER_LINK "Link"
#define HTTP_HEADER_LOCATION "Location"
#define HTTP_HEADER_PRAGMA "Pragma"
#define HTTP_HEADER_RANGE "Range"
#define HTTP_HEADER_RETRY_AFTER "Retry-After"
#define HTTP_HEADER_SET_COOKIE "Set-Cookie"
#define HTTP_HEADER_TRANSFER_ENCODING "Transfer-Encoding"
#define HTTP_HEADER_USER_AGENT "User-Agent"
#define HTTP_HEADER_WWW_AUTHENTICATE "WWW-Authenticate"

enum http_method {
    HTTP_GET,
    HTTP_HEAD,
    HTTP_PUT,
    HTTP_POST,
    HTTP_PATCH,
    HTTP_DELETE,
    HTTP_OPTIONS,
    HTTP_METHOD_OTHER
};

/* http_method_of: the method named m ("GET"...), HTTP_METHOD_OTHER for anything else. */
enum http_method http_method_of(const char *m);
/* http_method_name: "GET", ... ("OTHER" for HTTP_METHOD_OTHER). */
const char *http_method_name(enum http_method m);

/* ---- the request ---- */

/* What a request source provides (the libmicrohttpd connection, or the test double). Every
 * returned string is borrowed until the request ends; NULL when absent. */
struct http_req_ops {
    const char *(*header)(void *impl, const char *name); /* case-insensitive name */
    const char *(*query)(void *impl, const char *name);  /* first value, decoded */
    /* calls fn for every value of the query argument name, in order; stops on fn's non-zero
     * result and returns it */
    int (*query_each)(void *impl, const char *name, int (*fn)(const char *value, void *ctx),
                      void *ctx);
    const char *(*cookie)(void *impl, const char *name);
    /* the client's address as text ("127.0.0.1", "::1"), "" when unknown */
    void (*client_addr)(void *impl, char *out, size_t cap);
};

#define HTTP_REQID_LEN 16
#define HTTP_USER_MAX 255

struct http_req {
    enum http_method method;
    const char *method_str; /* as received */
    const char *path;       /* decoded path, without the query string */
    const struct http_req_ops *ops;
    void *impl;
    char reqid[HTTP_REQID_LEN + 1]; /* unique per request, for logs */
    char user[HTTP_USER_MAX + 1];   /* who the handler says the caller is ("" = anonymous) */
    int64_t t0_ms;                  /* monotonic arrival time */
    bool path_nul;      /* the raw path held an encoded NUL (%00): path stops where it was */
    bool tls;           /* the request came over TLS that Berth serves itself */
    bool proxy_trusted; /* the peer is in trusted_proxies: its X-Forwarded-* may be believed */
};

const char *http_header(const struct http_req *hr, const char *name);
const char *http_query(const struct http_req *hr, const char *name);
typedef int (*http_query_fn)(const char *value, void *ctx);
int http_query_each(const struct http_req *hr, const char *name, http_query_fn fn, void *ctx);
const char *http_cookie(const struct http_req *hr, const char *name);
/* http_client_addr: the client's address: the peer's, or, when the peer is a trusted proxy, the
 * last address of its X-Forwarded-For (numeric only; anything else falls back to the peer). */
void http_client_addr(const struct http_req *hr, char *out, size_t cap);
/* http_forwarded: the X-Forwarded-<what> header ("Proto", "For", "Host") when the peer is a
 * trusted proxy (hr->proxy_trusted), else NULL. The only way handlers read X-Forwarded-*: a
 * client talking to Berth directly could otherwise claim any scheme, address or host. */
const char *http_forwarded(const struct http_req *hr, const char *what);
/* http_req_https: the client reached us over https: TLS served by Berth, or a trusted proxy
 * that says X-Forwarded-Proto: https. */
bool http_req_https(const struct http_req *hr);
/* http_req_set_user records who the caller is, for the access log (truncated to
 * HTTP_USER_MAX). */
void http_req_set_user(struct http_req *hr, const char *user);

/* ---- the response ---- */

enum http_body_kind {
    HTTP_BODY_MEM,    /* bytes held by the response */
    HTTP_BODY_FD,     /* [offset, offset+len) of a file descriptor, sent with sendfile */
    HTTP_BODY_SIZE,   /* no body, but Content-Length: len (the answer to a HEAD) */
    HTTP_BODY_STREAM, /* len bytes pulled from a callback as the client takes them */
};

/* A streamed body: fn copies up to max bytes starting at byte pos (0 = the first byte of this
 * body) into buf and returns how many (at least 1 while pos < len), or -1 on failure (the
 * connection is then cut: the status line is gone already). free_fn (may be NULL) releases ctx
 * when the response is done with, whether or not the body was sent. Called from the thread
 * sending the response, one call at a time. */
typedef long (*http_stream_fn)(void *ctx, uint64_t pos, char *buf, size_t max);
typedef void (*http_stream_free_fn)(void *ctx);

struct http_resp; /* opaque */

/* Constructors: new, or NULL when out of memory (a descriptor given is then closed). */
struct http_resp *http_resp_empty(void);
/* copies data */
struct http_resp *http_resp_bytes(const void *data, size_t len, const char *content_type);
/* http_resp_json: bytes with Content-Type application/json; charset=utf-8 */
struct http_resp *http_resp_json(const char *json, size_t len);
/* takes fd (closed with the response, also on failure) */
struct http_resp *http_resp_fd(int fd, uint64_t offset, uint64_t len);
struct http_resp *http_resp_head(uint64_t len);
/* http_resp_stream: a body of len bytes read through fn. Takes ctx: free_fn runs on it when the
 * response is freed (also when this constructor fails). */
struct http_resp *http_resp_stream(uint64_t len, http_stream_fn fn, http_stream_free_fn free_fn,
                                   void *ctx);
/* http_resp_header adds a header (copied); -1 when out of memory. resp NULL fails. */
int http_resp_header(struct http_resp *resp, const char *name, const char *value);
void http_resp_free(struct http_resp *resp);

/* Reading a response back (the core and tests). */
enum http_body_kind http_resp_kind(const struct http_resp *resp);
/* body bytes of a HTTP_BODY_MEM response (borrowed), *len set; NULL and 0 otherwise */
const char *http_resp_body(const struct http_resp *resp, size_t *len);
/* the length a response announces (body bytes, file range or HEAD size) */
uint64_t http_resp_len(const struct http_resp *resp);
/* for HTTP_BODY_FD: the descriptor and offset (still owned by resp) */
int http_resp_fd_of(const struct http_resp *resp, uint64_t *offset);
/* http_resp_fd_release: the core takes the descriptor over (resp no longer closes it) */
int http_resp_fd_release(struct http_resp *resp);
/* for HTTP_BODY_STREAM: the callbacks and context (still owned by resp) */
void http_resp_stream_of(const struct http_resp *resp, http_stream_fn *fn,
                         http_stream_free_fn *free_fn, void **ctx);
/* http_resp_stream_release: the core takes ctx over (resp no longer frees it) */
void http_resp_stream_release(struct http_resp *resp);
/* the value of the first header named name (case-insensitive), or NULL; borrowed */
const char *http_resp_get(const struct http_resp *resp, const char *name);
/* header i (0-based) in the order added: 0 and *name and *value set, -1 past the last */
int http_resp_header_at(const struct http_resp *resp, size_t i, const char **name,
                        const char **value);

/* A handler's answer: the response and its status. len is the body length for the access log
 * (0 when unknown). */
struct http_reply {
    struct http_resp *resp;
    unsigned status;
    uint64_t len;
};

/* http_reply_drop frees a half-built response (NULL is fine) and clears the reply. */
void http_reply_drop(struct http_reply *out);

#endif
