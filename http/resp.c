/* resp.c - the response object of the request/reply seam (http/http.h), and the small request
 * accessors that only forward to the request source's operations.
 *
 * A response is one allocation for the struct plus, for a body in memory, one for the bytes,
 * and one per header (name and value in one block, "name\0value\0"). Headers keep their order.
 * Invariants:
 *   1. A HTTP_BODY_FD response owns its descriptor from construction on: it is closed by
 *      http_resp_free, or by the core once libmicrohttpd has taken it (fd is then -1).
 *   2. len is what Content-Length will say: the bytes held, the file range, or the HEAD size.
 * No shared state. */
#include "http/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/mem.h"

#define HTTP_RESP_MAX_HEADERS 64

struct http_resp {
    enum http_body_kind kind;
    char *body; /* HTTP_BODY_MEM: mem_malloc'd (NULL when empty) */
    int fd;     /* HTTP_BODY_FD: owned, -1 once given away */
    uint64_t offset;
    uint64_t len;
    http_stream_fn stream_fn; /* HTTP_BODY_STREAM */
    http_stream_free_fn stream_free;
    void *stream_ctx;                 /* owned until released */
    char *hdr[HTTP_RESP_MAX_HEADERS]; /* "name\0value\0" each */
    size_t nhdr;
};

enum http_method http_method_of(const char *m)
{
    static const char *const names[] = {"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(m, names[i]) == 0)
            return (enum http_method)i;
    }
    return HTTP_METHOD_OTHER;
}

const char *http_method_name(enum http_method m)
{
    static const char *const names[] = {"GET",   "HEAD",   "PUT",     "POST",
                                        "PATCH", "DELETE", "OPTIONS", "OTHER"};

    return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "OTHER";
}

const char *http_header(const struct http_req *hr, const char *name)
{
    return hr->ops != NULL ? hr->ops->header(hr->impl, name) : NULL;
}

const char *http_query(const struct http_req *hr, const char *name)
{
    return hr->ops != NULL ? hr->ops->query(hr->impl, name) : NULL;
}

int http_query_each(const struct http_req *hr, const char *name, http_query_fn fn, void *ctx)
{
    return hr->ops != NULL ? hr->ops->query_each(hr->impl, name, fn, ctx) : 0;
}

const char *http_cookie(const struct http_req *hr, const char *name)
{
    return hr->ops != NULL ? hr->ops->cookie(hr->impl, name) : NULL;
}

/* forwarded_for copies the last address of a trusted proxy's X-Forwarded-For (the one that proxy
 * appended: earlier entries are the client's own claims) into out; false when there is none or
 * it is not a numeric address. */
static bool forwarded_for(const struct http_req *hr, char *out, size_t cap)
{
    const char *xff = http_forwarded(hr, "For"), *last;
    unsigned char bin[sizeof(struct in6_addr)];
    size_t len;

    if (xff == NULL)
        return false;
    last = strrchr(xff, ',');
    last = last != NULL ? last + 1 : xff;
    last += strspn(last, " \t");
    len = strcspn(last, " \t");
    if (len == 0 || len >= cap || last[len] != '\0')
        return false;
    memcpy(out, last, len);
    out[len] = '\0';
    if (inet_pton(AF_INET, out, bin) != 1 && inet_pton(AF_INET6, out, bin) != 1) {
        out[0] = '\0';
        return false;
    }
    return true;
}

void http_client_addr(const struct http_req *hr, char *out, size_t cap)
{
    if (cap == 0)
        return;
    out[0] = '\0';
    if (forwarded_for(hr, out, cap))
        return;
    if (hr->ops != NULL)
        hr->ops->client_addr(hr->impl, out, cap);
}

const char *http_forwarded(const struct http_req *hr, const char *what)
{
    char name[48];
    int n;

    if (!hr->proxy_trusted)
        return NULL;
    n = snprintf(name, sizeof(name), "X-Forwarded-%s", what);
    if (n < 0 || (size_t)n >= sizeof(name))
        return NULL;
    return http_header(hr, name);
}

bool http_req_https(const struct http_req *hr)
{
    const char *proto;

    if (hr->tls)
        return true;
    proto = http_forwarded(hr, "Proto");
    return proto != NULL && strcasecmp(proto, "https") == 0;
}

void http_req_set_user(struct http_req *hr, const char *user)
{
    (void)snprintf(hr->user, sizeof(hr->user), "%s", user); /* a cut name is still a hint */
}

static struct http_resp *resp_new(enum http_body_kind kind)
{
    struct http_resp *r = mem_calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->kind = kind;
    r->fd = -1;
    return r;
}

struct http_resp *http_resp_empty(void)
{
    return resp_new(HTTP_BODY_MEM);
}

struct http_resp *http_resp_bytes(const void *data, size_t len, const char *content_type)
{
    struct http_resp *r = resp_new(HTTP_BODY_MEM);

    if (r == NULL)
        return NULL;
    if (len > 0) {
        r->body = mem_malloc(len);
        if (r->body == NULL) {
            http_resp_free(r);
            return NULL;
        }
        memcpy(r->body, data, len);
        r->len = len;
    }
    if (content_type != NULL && http_resp_header(r, HTTP_HEADER_CONTENT_TYPE, content_type) < 0) {
        http_resp_free(r);
        return NULL;
    }
    return r;
}

struct http_resp *http_resp_json(const char *json, size_t len)
{
    return http_resp_bytes(json, len, "application/json; charset=utf-8");
}

struct http_resp *http_resp_fd(int fd, uint64_t offset, uint64_t len)
{
    struct http_resp *r;

    if (offset > INT64_MAX || len > INT64_MAX) {
        (void)close(fd); /* read-only descriptor */
        return NULL;
    }
    r = resp_new(HTTP_BODY_FD);
    if (r == NULL) {
        (void)close(fd); /* read-only descriptor; the caller answers 500 */
        return NULL;
    }
    r->fd = fd;
    r->offset = offset;
    r->len = len;
    return r;
}

struct http_resp *http_resp_head(uint64_t len)
{
    struct http_resp *r = resp_new(HTTP_BODY_SIZE);

    if (r != NULL)
        r->len = len;
    return r;
}

struct http_resp *http_resp_stream(uint64_t len, http_stream_fn fn, http_stream_free_fn free_fn,
                                   void *ctx)
{
    struct http_resp *r = len <= INT64_MAX ? resp_new(HTTP_BODY_STREAM) : NULL;

    if (r == NULL) {
        if (free_fn != NULL)
            free_fn(ctx);
        return NULL;
    }
    r->len = len;
    r->stream_fn = fn;
    r->stream_free = free_fn;
    r->stream_ctx = ctx;
    return r;
}

void http_resp_stream_of(const struct http_resp *resp, http_stream_fn *fn,
                         http_stream_free_fn *free_fn, void **ctx)
{
    *fn = resp->stream_fn;
    *free_fn = resp->stream_free;
    *ctx = resp->stream_ctx;
}

void http_resp_stream_release(struct http_resp *resp)
{
    resp->stream_ctx = NULL;
    resp->stream_free = NULL;
}

int http_resp_header(struct http_resp *resp, const char *name, const char *value)
{
    size_t nl, vl;
    char *h;

    if (resp == NULL || resp->nhdr >= HTTP_RESP_MAX_HEADERS)
        return -1;
    nl = strlen(name);
    vl = strlen(value);
    h = mem_malloc(nl + vl + 2);
    if (h == NULL)
        return -1;
    memcpy(h, name, nl + 1);
    memcpy(h + nl + 1, value, vl + 1);
    resp->hdr[resp->nhdr++] = h;
    return 0;
}

void http_resp_free(struct http_resp *resp)
{
    if (resp == NULL)
        return;
    for (size_t i = 0; i < resp->nhdr; i++)
        mem_free(resp->hdr[i]);
    mem_free(resp->body);
    if (resp->fd >= 0)
        (void)close(resp->fd); /* read-only descriptor */
    if (resp->stream_free != NULL)
        resp->stream_free(resp->stream_ctx);
    mem_free(resp);
}

enum http_body_kind http_resp_kind(const struct http_resp *resp)
{
    return resp->kind;
}

const char *http_resp_body(const struct http_resp *resp, size_t *len)
{
    if (resp->kind != HTTP_BODY_MEM) {
        *len = 0;
        return NULL;
    }
    *len = (size_t)resp->len;
    return resp->body != NULL ? resp->body : "";
}

uint64_t http_resp_len(const struct http_resp *resp)
{
    return resp->len;
}

int http_resp_fd_of(const struct http_resp *resp, uint64_t *offset)
{
    *offset = resp->offset;
    return resp->fd;
}

int http_resp_fd_release(struct http_resp *resp)
{
    int fd = resp->fd;

    resp->fd = -1;
    return fd;
}

const char *http_resp_get(const struct http_resp *resp, const char *name)
{
    for (size_t i = 0; i < resp->nhdr; i++) {
        if (strcasecmp(resp->hdr[i], name) == 0)
            return resp->hdr[i] + strlen(resp->hdr[i]) + 1;
    }
    return NULL;
}

int http_resp_header_at(const struct http_resp *resp, size_t i, const char **name,
                        const char **value)
{
    if (i >= resp->nhdr)
        return -1;
    *name = resp->hdr[i];
    *value = resp->hdr[i] + strlen(resp->hdr[i]) + 1;
    return 0;
}

void http_reply_drop(struct http_reply *out)
{
    http_resp_free(out->resp);
    out->resp = NULL;
    out->status = 0;
    out->len = 0;
}
