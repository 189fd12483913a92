/* fake.h - a test double of the HTTP seam: requests built from strings, any struct http_handler
 * driven through begin/data/end/done as http/server.c does, the reply read back. No socket.
 *
 *     struct http_fake *f = http_fake_new("PUT", "/v2/lib/app/manifests/v1?x=1");
 *     http_fake_header(f, "Content-Type", "application/vnd.oci.image.manifest.v1+json");
 *     http_fake_body(f, json, strlen(json));
 *     struct http_fake_result res;
 *     http_fake_run(&res, &route_v2_handler, reg, f, 7);   (7-byte pieces to data)
 *     ... res.status, http_fake_get(&res, "Location"), res.body/res.body_len ...
 *     http_fake_result_cleanup(&res);
 *     http_fake_free(f);
 *
 * The request: the target's path is percent-decoded (an encoded NUL ends it and sets
 * hr.path_nul, as the core does); its query string is split on '&' and '=',
 * '+' read as a space and percent-decoded, as libmicrohttpd does (an argument without '=' has no
 * value: http_query gives NULL, http_query_each ""). Headers and cookies are looked up by name,
 * first one wins (header names case-insensitive). A body given without an explicit
 * Content-Length header gets one.
 * The run, as the core: begin; when it answers, the body is never read (data is not called);
 * else data gets the body in pieces of at most `piece` bytes (none for an empty body) until one
 * fails, the rest is dropped, end answers; done is always called once. A reply without a response
 * is answered 500 with the core's internal-error body. What the core adds on the wire only
 * (X-Content-Type-Options, Content-Length, Date) is not in the captured response.
 * Ownership: every string given is copied. A result owns its response and body (cleanup frees).
 * Thread-safety: none; one fake per test thread. */
#ifndef BERTH_HTTP_FAKE_H
#define BERTH_HTTP_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "http/server.h"

struct http_fake;

/* http_fake_new: a request of method ("GET", ..., anything) for target ("/path?query"); new
 * (http_fake_free), NULL when out of memory. */
struct http_fake *http_fake_new(const char *method, const char *target);
/* http_fake_header, http_fake_cookie: add one (copied); -1 when out of memory. */
int http_fake_header(struct http_fake *f, const char *name, const char *value);
int http_fake_cookie(struct http_fake *f, const char *name, const char *value);
/* http_fake_client sets the client address ("" by default); -1 when too long. */
int http_fake_client(struct http_fake *f, const char *addr);
/* http_fake_tls marks the request as arrived over Berth's own TLS; http_fake_trusted_proxy as
 * coming from an address in trusted_proxies (both false by default). */
void http_fake_tls(struct http_fake *f, bool on);
void http_fake_trusted_proxy(struct http_fake *f, bool on);
/* http_fake_body sets the request body (copied; replaces an earlier one); -1 when out of
 * memory. */
int http_fake_body(struct http_fake *f, const void *data, size_t len);
/* http_fake_req: the request as a handler sees it (borrowed until http_fake_free). */
struct http_req *http_fake_req(struct http_fake *f);
void http_fake_free(struct http_fake *f);

struct http_fake_result {
    unsigned status;
    struct http_resp *resp; /* the handler's response (owned by the result); NULL when none */
    enum http_body_kind kind;
    uint64_t len;       /* the Content-Length the reply announces */
    char *body;         /* the bytes that would go on the wire (NUL-terminated, owned) */
    size_t body_len;    /* 0 for HEAD */
    uint64_t reply_len; /* the handler's http_reply.len (for the access log) */
    bool answered_at_begin;
    bool data_failed;             /* a data call returned < 0 */
    size_t data_calls;            /* data calls made */
    size_t body_dropped;          /* body bytes never given to data */
    char user[HTTP_USER_MAX + 1]; /* what the handler recorded with http_req_set_user */
};

/* http_fake_run drives h (ctx handed to begin) with the request f, giving the body in pieces of
 * at most piece bytes (0 = all at once). 0 with *out filled; -1 when the double itself ran out of
 * memory or could not read a file range back (*out then cleaned up). */
int http_fake_run(struct http_fake_result *out, const struct http_handler *h, void *ctx,
                  struct http_fake *f, size_t piece);
/* http_fake_serve does the same through a mount table: a path no mount takes is answered 404
 * with the core's body, as http/server.c does. */
int http_fake_serve(struct http_fake_result *out, const struct http_mount *mounts, size_t n,
                    struct http_fake *f, size_t piece);
/* http_fake_get: the first response header called name, or NULL (borrowed until cleanup). */
const char *http_fake_get(const struct http_fake_result *res, const char *name);
void http_fake_result_cleanup(struct http_fake_result *res);

#endif
