/* server.c - the HTTP core on libmicrohttpd: mounts, the request lifecycle, the access log.
 *
 * Each request goes through at most three phases of libmicrohttpd's access handler:
 *   first call   find the mount, build the struct http_req, call the handler's begin; an answer
 *                made now is queued at once when the client sends a body (so a body we will not
 *                read is not waited for), else on the second call (libmicrohttpd closes the
 *                connection when a response is queued on the first call);
 *   body calls   pieces are gathered into blocks of up to SERVER_BODY_BUF bytes for the handler's
 *                data (the last block before end); after a failure the rest is dropped;
 *   last call    (upload_data_size == 0) the handler's end answers.
 * All per-request state hangs off the connection's context pointer and is freed in exactly one
 * place, on_completed (MHD_OPTION_NOTIFY_COMPLETED), which calls the handler's done and writes
 * the access log line.
 * Before any mount sees a request, the framing is checked (generic, for every mount): an
 * HTTP/1.1 request without Host, or one whose Content-Length headers disagree (or that has both
 * Content-Length and Transfer-Encoding: the request-smuggling shapes behind a proxy) is answered
 * 400 and the connection closed.
 * The raw request target is seen once, in the URI log callback, before libmicrohttpd decodes it
 * into a C string: an encoded NUL (%00) in the path would silently cut the path there, so the
 * request is flagged (http_req.path_nul) for the mount to refuse.
 * A client that left: when the first call of a connection's first request finds the client's side
 * closed (its FIN received, even with part of a body still unread), the request is not served: no
 * mount runs, the connection is closed and the log line says 499 (aborted). Later requests of a
 * keep-alive connection are not asked (a getsockopt each was 4% of a manifest GET): their
 * credentials were checked once already and come from the cache. A request is read whole before it
 * runs, and a thread runs one at a time, so a burst of clients that gave up (a load generator
 * stopped, clients timing out while password checks queue) would otherwise have every one of
 * their requests run in turn (each a password check of up to its full cost) while the thread
 * leaves its other closed connections unreaped (CLOSE_WAIT) and, at its share of
 * max_connections, accepts nothing: the listen queue fills. A client that half-closes after its
 * request and waits for the answer is treated the same (as Go's net/http and nginx's proxy do);
 * HTTP/1.1 clients do not do that.
 * Lingering close: when a connection closes, on_connection (MHD_CONNECTION_NOTIFY_CLOSED, called
 * before libmicrohttpd closes the socket) makes sure the client reads an answer: a plain-HTTP
 * connection that sent bytes but got nothing back (libmicrohttpd drops some malformed requests,
 * e.g. a TLS ClientHello, without a word) gets a 400 written directly; then, when unread request
 * bytes are still in the socket, it half-closes (SHUT_WR) and drains them for at most
 * SERVER_LINGER_MS, so close() does not make the kernel send a reset that would discard the
 * answer before the client read it.
 * TLS: with a certificate and key, the daemon speaks HTTPS (libmicrohttpd's GnuTLS support).
 * Berth opens the listening socket itself and hands it to the daemon, so a certificate reload
 * (http_server_reload_tls, on SIGHUP) starts a second daemon on the same socket with the new
 * certificate, then quiesces the old one: it accepts no more connections but finishes those it
 * has, and is stopped once idle (checked at each reload and at stop). The listener is never
 * closed, so no connection attempt is refused during a reload. (The alternative,
 * MHD_OPTION_HTTPS_CERT_CALLBACK, hands GnuTLS structures across the seam and would tie Berth to
 * GnuTLS's own API.) A certificate that does not load leaves the old daemon serving.
 * Invariants:
 *   1. Only this folder includes <microhttpd.h>; handlers see http/http.h only.
 *   2. Every request gets exactly one done() call when begin ran, and one log line.
 *   3. The log line carries method, path (escaped, never the query string), status, bytes, ms
 *      and user; never a header value.
 *   4. X-Forwarded-* is believed only from a peer in trusted_proxies (hr.proxy_trusted).
 * Thread-safety: handlers run on any pool thread; the only shared mutable state is the request
 * counter (atomic); the mount table and the proxy list are read-only after start. Start, reload
 * and stop run on one owner thread. */
#include "http/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <linux/tcp.h>

#include <microhttpd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/cidr.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "http/metrics.h"

/* libmicrohttpd's per-connection pool (request line, headers, the read buffer for bodies). It
 * zeroes the whole pool between two requests of a keep-alive connection, so every open
 * connection keeps all of it resident and every request pays a memset of it: 24 KiB holds the
 * largest header set Berth accepts (a TOK_MAX_LEN bearer token with the usual headers; nginx's
 * default stops at 8 KiB per header line) and keeps 1,000 keep-alive connections near 24 MiB
 * (32 KiB measured 65.6 MiB VmHWM at 1,000 connections, 24 KiB 56-60 MiB; 256 KiB made the
 * pools alone 256 MiB and cost 7% of a manifest GET's CPU). */
#define SERVER_CONN_MEMORY (24 * 1024)
/* Request bodies reach a handler's data() in pieces of at most this many bytes, gathered from
 * the pieces libmicrohttpd hands over (each at most what fits in the pool above): an upload is
 * written and hashed in large blocks, not one write(2) per 16 KiB. Only a request with a body
 * holds such a buffer, from its first body byte to its end. */
#define SERVER_BODY_BUF ((size_t)512 * 1024)
/* TCP_CLOSE_WAIT of the kernel's TCP states (include/net/tcp_states.h; linux/tcp.h has none) */
#define SERVER_TCP_CLOSE_WAIT 8
/* the status logged for a request whose client left before it was served (nginx's 499) */
#define SERVER_STATUS_CLIENT_GONE 499
/* how long a closing connection may wait for the client to stop sending, and how much it reads */
#define SERVER_LINGER_MS 250
#define SERVER_LINGER_MAX_BYTES ((size_t)256 * 1024)
/* certificate and key files are read whole */
#define SERVER_PEM_MAX_BYTES ((size_t)1024 * 1024)
/* daemons quiesced by reloads and still finishing their connections */
#define SERVER_RETIRED_MAX 16

struct conn_ctx {
    struct http_req hr;
    struct MHD_Connection *conn;
    const struct http_mount *mount;
    void *state;      /* the handler's, from begin */
    bool begun;       /* begin ran: done() is owed */
    bool failed;      /* data() failed: the rest of the body is dropped */
    bool answered;    /* a response was queued */
    bool has_pending; /* an answer made on the first call, queued on the second */
    struct http_reply pending;
    unsigned status;
    uint64_t bytes_out;
    uint64_t bytes_in;
    char *body;      /* SERVER_BODY_BUF bytes once a body arrives; NULL: pass through */
    size_t body_len; /* bytes gathered in body, not yet given to data() */
    enum http_route_class rclass; /* http/metrics.c: counted in flight since the first call */
};

struct http_server {
    struct MHD_Daemon *d; /* serving now */
    struct MHD_Daemon *retired[SERVER_RETIRED_MAX];
    int retired_fd[SERVER_RETIRED_MAX]; /* the listener duplicate each gave back when quiesced */
    size_t nretired;
    int listen_fd; /* ours; each daemon gets a duplicate it may close */
    struct http_mount *mounts;
    size_t nmounts;
    unsigned port;
    unsigned threads, max_connections, per_ip_connections, connection_timeout_s;
    bool tls;
    char *cert_path, *key_path; /* NULL without TLS */
    struct cidr_list proxies;
};

static _Atomic unsigned long long req_counter;
static char req_prefix[9];

/* what the URI log callback hands to the first access-handler call (as its context pointer)
 * when the raw path held an encoded NUL; never freed, never written */
static char uri_nul_mark;

/* ---- the request source: libmicrohttpd ---- */

static const char *mhd_header(void *impl, const char *name)
{
    struct conn_ctx *c = impl;
    return MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, name);
}

static const char *mhd_query(void *impl, const char *name)
{
    struct conn_ctx *c = impl;
    return MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
}

static const char *mhd_cookie(void *impl, const char *name)
{
    struct conn_ctx *c = impl;
    return MHD_lookup_connection_value(c->conn, MHD_COOKIE_KIND, name);
}

struct query_iter {
    const char *name;
    int (*fn)(const char *value, void *ctx);
    void *ctx;
    int rc;
};

static enum MHD_Result query_iter_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct query_iter *it = cls;

    (void)kind;
    if (strcmp(key, it->name) != 0)
        return MHD_YES;
    it->rc = it->fn(value ? value : "", it->ctx);
    return it->rc == 0 ? MHD_YES : MHD_NO;
}

static int mhd_query_each(void *impl, const char *name, int (*fn)(const char *value, void *ctx),
                          void *ctx)
{
    struct conn_ctx *c = impl;
    struct query_iter it = {name, fn, ctx, 0};

    (void)MHD_get_connection_values(c->conn, MHD_GET_ARGUMENT_KIND, query_iter_cb, &it);
    return it.rc;
}

static void mhd_client_addr(void *impl, char *out, size_t cap)
{
    struct conn_ctx *c = impl;
    const union MHD_ConnectionInfo *ci;
    const struct sockaddr *sa;

    ci = MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return;
    sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)(const void *)sa;
        if (inet_ntop(AF_INET, &in4->sin_addr, out, (socklen_t)cap) == NULL)
            out[0] = '\0';
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        if (inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)cap) == NULL)
            out[0] = '\0';
    }
}

static const struct http_req_ops mhd_ops = {
        .header = mhd_header,
        .query = mhd_query,
        .query_each = mhd_query_each,
        .cookie = mhd_cookie,
        .client_addr = mhd_client_addr,
};

/* ---- replies ---- */

/* A HEAD reply carries the Content-Length of the body it does not send; libmicrohttpd takes it
 * from the response size and never calls the reader for HEAD. */
static ssize_t head_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    (void)pos;
    (void)buf;
    (void)max;
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* A streamed body: libmicrohttpd's reader calls ours; the holder frees the context with it. */
struct stream_hold {
    http_stream_fn fn;
    http_stream_free_fn free_fn;
    void *ctx;
};

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_hold *h = cls;
    long n = h->fn(h->ctx, pos, buf, max);

    if (n <= 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream_hold *h = cls;

    if (h->free_fn != NULL)
        h->free_fn(h->ctx);
    mem_free(h);
}

#define STREAM_BLOCK_BYTES (256 * 1024)

/* to_mhd builds libmicrohttpd's response from ours (resp keeps ownership of what it holds,
 * except a descriptor, which libmicrohttpd takes). NULL when out of memory. */
static struct MHD_Response *to_mhd(struct http_resp *resp)
{
    struct MHD_Response *m = NULL;
    const char *k, *v;

    switch (http_resp_kind(resp)) {
    case HTTP_BODY_MEM: {
        size_t len;
        const char *body = http_resp_body(resp, &len);
        m = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
        break;
    }
    case HTTP_BODY_FD: {
        uint64_t off;
        int fd = http_resp_fd_of(resp, &off);
        m = MHD_create_response_from_fd_at_offset64(http_resp_len(resp), fd, off);
        if (m != NULL)
            (void)http_resp_fd_release(resp); /* libmicrohttpd closes it now */
        break;
    }
    case HTTP_BODY_SIZE:
        m = MHD_create_response_from_callback(http_resp_len(resp), 4096, head_reader, NULL, NULL);
        break;
    case HTTP_BODY_STREAM: {
        struct stream_hold *h = mem_calloc(1, sizeof(*h));

        if (h == NULL)
            break;
        http_resp_stream_of(resp, &h->fn, &h->free_fn, &h->ctx);
        m = MHD_create_response_from_callback(http_resp_len(resp), STREAM_BLOCK_BYTES,
                                              stream_reader, h, stream_free);
        if (m != NULL)
            http_resp_stream_release(resp); /* freed with libmicrohttpd's response now */
        else
            mem_free(h);
        break;
    }
    }
    if (m == NULL)
        return NULL;
    for (size_t i = 0; http_resp_header_at(resp, i, &k, &v) == 0; i++) {
        if (MHD_add_response_header(m, k, v) != MHD_YES) {
            MHD_destroy_response(m);
            return NULL;
        }
    }
    if (MHD_add_response_header(m, "X-Content-Type-Options", "nosniff") != MHD_YES) {
        MHD_destroy_response(m);
        return NULL;
    }
    return m;
}

static const char internal_body[] =
        "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"internal error\"}]}";

/* queue sends rep (takes its response). */
static enum MHD_Result queue(struct conn_ctx *c, struct http_reply *rep)
{
    struct MHD_Response *m = NULL;
    unsigned status = rep->status;
    enum MHD_Result ret;

    if (rep->resp != NULL)
        m = to_mhd(rep->resp);
    if (m == NULL) {
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        m = MHD_create_response_from_buffer(sizeof(internal_body) - 1, (void *)internal_body,
                                            MHD_RESPMEM_PERSISTENT);
        if (m == NULL) {
            http_reply_drop(rep);
            return MHD_NO;
        }
        rep->len = sizeof(internal_body) - 1;
        (void)MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE,
                                      "application/json; charset=utf-8"); /* best effort */
    }
    c->status = status;
    c->bytes_out = rep->len;
    ret = MHD_queue_response(c->conn, status, m);
    MHD_destroy_response(m);
    http_reply_drop(rep);
    c->answered = true;
    return ret;
}

/* request_has_body: the client announced a body (Content-Length > 0 or chunked). */
static bool request_has_body(struct conn_ctx *c)
{
    const char *cl = mhd_header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);

    if (mhd_header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
        return true;
    return cl != NULL && strcmp(cl, "0") != 0;
}

static enum MHD_Result answer_early(struct conn_ctx *c, struct http_reply *rep)
{
    if (request_has_body(c))
        return queue(c, rep);
    c->has_pending = true;
    c->pending = *rep;
    rep->resp = NULL;
    return MHD_YES;
}

static enum MHD_Result answer_not_found(struct conn_ctx *c)
{
    static const char body[] = "{\"errors\":[{\"code\":\"NOT_FOUND\",\"message\":\"not found\"}]}";
    struct http_reply rep = {0};

    rep.resp = http_resp_json(body, sizeof(body) - 1);
    rep.status = MHD_HTTP_NOT_FOUND;
    rep.len = sizeof(body) - 1;
    return answer_early(c, &rep);
}

/* answer_bad_request refuses a request whose framing cannot be trusted: answered at once, on the
 * first call, which makes libmicrohttpd close the connection after it (nothing more of the
 * stream can be believed). */
static enum MHD_Result answer_bad_request(struct conn_ctx *c, const char *why)
{
    char body[160];
    struct http_reply rep = {0};
    int n = snprintf(body, sizeof(body),
                     "{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"%s\"}]}", why);

    if (n < 0 || (size_t)n >= sizeof(body))
        return MHD_NO; /* why is one of our constants: cannot happen */
    rep.resp = http_resp_json(body, (size_t)n);
    rep.status = MHD_HTTP_BAD_REQUEST;
    rep.len = (uint64_t)n;
    if (rep.resp != NULL && http_resp_header(rep.resp, "Connection", "close") < 0)
        http_reply_drop(&rep); /* queue answers 500, still closing */
    return queue(c, &rep);
}

struct framing {
    unsigned n_length;
    bool lengths_differ;
    const char *length;
};

static enum MHD_Result framing_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    struct framing *f = cls;

    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) != 0)
        return MHD_YES;
    if (value == NULL)
        value = "";
    if (f->n_length++ > 0 && strcmp(value, f->length) != 0)
        f->lengths_differ = true;
    f->length = value;
    return MHD_YES;
}

/* framing_error: why the request's framing is refused, or NULL when it is fine */
static const char *framing_error(struct conn_ctx *c, const char *version)
{
    struct framing f = {0, false, NULL};

    if (version != NULL && strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
        mhd_header(c, MHD_HTTP_HEADER_HOST) == NULL)
        return "HTTP/1.1 request without Host";
    (void)MHD_get_connection_values(c->conn, MHD_HEADER_KIND, framing_cb, &f);
    if (f.lengths_differ)
        return "conflicting Content-Length headers";
    if (f.n_length > 0 && mhd_header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
        return "both Content-Length and Transfer-Encoding";
    return NULL;
}

const struct http_mount *http_mount_find(const struct http_mount *mounts, size_t n,
                                         const char *path)
{
    for (size_t i = 0; i < n; i++) {
        const struct http_mount *m = &mounts[i];
        if (m->exact ? strcmp(path, m->prefix) == 0 : str_has_prefix(path, m->prefix))
            return m;
    }
    return NULL;
}

/* conn_sock: a connection's own record (libmicrohttpd's socket context, made and freed by
 * on_connection); only the connection's current thread touches it */
struct conn_sock {
    uint64_t requests; /* requests begun on the connection */
};

/* first_request: the connection's first request (or one whose connection has no record) */
static bool first_request(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn_sock *cs = ci != NULL ? ci->socket_context : NULL;

    return cs == NULL || cs->requests++ == 0;
}

/* peer_gone: the client has finished sending (its FIN arrived: TCP's state is CLOSE_WAIT), whether
 * or not bytes it sent are still unread (half a body): a client that closed, or half-closed. */
static bool peer_gone(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct tcp_info ti;
    socklen_t len = sizeof(ti);

    if (ci == NULL || ci->connect_fd == MHD_INVALID_SOCKET)
        return false;
    memset(&ti, 0, sizeof(ti));
    return getsockopt(ci->connect_fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
           len >= offsetof(struct tcp_info, tcpi_state) + sizeof(ti.tcpi_state) &&
           ti.tcpi_state == SERVER_TCP_CLOSE_WAIT;
}

static enum MHD_Result first_call(struct http_server *s, struct MHD_Connection *conn,
                                  const char *url, const char *method, const char *version,
                                  void **con_cls)
{
    struct conn_ctx *c = mem_calloc(1, sizeof(*c));
    struct http_reply rep = {0};
    const char *bad;
    char addr[64];

    if (c == NULL)
        return MHD_NO;
    c->hr.path_nul = *con_cls == &uri_nul_mark;
    *con_cls = c;
    c->conn = conn;
    c->hr.method = http_method_of(method);
    c->hr.method_str = method;
    c->hr.path = url;
    c->hr.ops = &mhd_ops;
    c->hr.impl = c;
    c->hr.t0_ms = now_ms_mono();
    c->rclass = http_metrics_class(url);
    http_metrics_begin(c->rclass);
    c->hr.tls = s->tls;
    (void)snprintf(c->hr.reqid, sizeof(c->hr.reqid), "%s%08llx", req_prefix,
                   (unsigned long long)(atomic_fetch_add(&req_counter, 1) & 0xffffffffULL));
    if (s->proxies.n > 0) {
        addr[0] = '\0';
        mhd_client_addr(c, addr, sizeof(addr));
        c->hr.proxy_trusted = cidr_list_match(&s->proxies, addr);
    }
    bad = framing_error(c, version);
    if (bad != NULL)
        return answer_bad_request(c, bad);
    /* asked of a connection's first request only: a getsockopt per request cost 4% of a
     * keep-alive manifest GET, and the clients that leave before their answer (a flood of
     * connect, send, close) leave on their first */
    if (first_request(conn) && peer_gone(conn)) {
        /* nobody is left to read the answer: closed without running the mount (file comment) */
        c->status = SERVER_STATUS_CLIENT_GONE;
        return MHD_NO;
    }
    c->mount = http_mount_find(s->mounts, s->nmounts, url);
    if (c->mount == NULL)
        return answer_not_found(c);
    c->begun = true;
    if (c->mount->handler->begin(c->mount->ctx, &c->hr, &c->state, &rep) == HTTP_ANSWERED)
        return answer_early(c, &rep);
    return MHD_YES;
}

/* body_flush hands what body holds to the handler. */
static void body_flush(struct conn_ctx *c)
{
    if (c->body_len > 0 && !c->failed &&
        c->mount->handler->data(c->state, c->body, c->body_len) < 0)
        c->failed = true;
    c->body_len = 0;
}

/* body_feed gathers one piece of the body; a piece as large as the buffer, or arriving when no
 * buffer could be had, goes to the handler directly (after what is gathered, keeping order). */
static void body_feed(struct conn_ctx *c, const char *p, size_t n)
{
    if (c->body == NULL && n < SERVER_BODY_BUF)
        c->body = mem_malloc(SERVER_BODY_BUF); /* NULL: pieces pass through unbuffered */
    if (c->body == NULL || n >= SERVER_BODY_BUF) {
        body_flush(c);
        if (!c->failed && c->mount->handler->data(c->state, p, n) < 0)
            c->failed = true;
        return;
    }
    if (c->body_len + n > SERVER_BODY_BUF)
        body_flush(c);
    memcpy(c->body + c->body_len, p, n);
    c->body_len += n;
    if (c->body_len == SERVER_BODY_BUF)
        body_flush(c);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *s = cls;
    struct conn_ctx *c = *con_cls;
    struct http_reply rep = {0};

    if (c == NULL || c == (void *)&uri_nul_mark)
        return first_call(s, conn, url, method, version, con_cls);
    if (c->has_pending && !c->answered) {
        *upload_data_size = 0;
        c->has_pending = false;
        rep = c->pending;
        c->pending.resp = NULL;
        return queue(c, &rep);
    }
    if (c->answered) {
        /* answered on the first call; drop whatever body still arrives */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        c->bytes_in += n;
        if (!c->failed)
            body_feed(c, upload_data, n);
        return MHD_YES;
    }
    body_flush(c);
    mem_free(c->body);
    c->body = NULL;
    c->mount->handler->end(c->state, &rep);
    return queue(c, &rep);
}

/* uri_log sees the request target as received, before libmicrohttpd decodes it; what it
 * returns becomes the request's context pointer for the first access-handler call. */
static void *uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    size_t plen = strcspn(uri, "?");

    (void)cls;
    (void)conn;
    for (size_t i = 0; i + 3 <= plen; i++) {
        if (uri[i] == '%' && uri[i + 1] == '0' && uri[i + 2] == '0')
            return &uri_nul_mark;
    }
    return NULL;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn_ctx *c = *con_cls;
    char path[1024], user[2 * HTTP_USER_MAX];

    (void)cls;
    (void)conn;
    if (c == NULL || c == (void *)&uri_nul_mark) {
        *con_cls = NULL;
        return;
    }
    if (c->begun)
        c->mount->handler->done(c->state);
    http_reply_drop(&c->pending);
    mem_free(c->body); /* a body cut off before its end: the rest never reaches the handler */
    log_escape(path, sizeof(path), c->hr.path);
    log_escape(user, sizeof(user), c->hr.user[0] ? c->hr.user : "-");
    http_metrics_end(c->rclass, c->hr.method, c->status, c->bytes_in, c->bytes_out,
                     now_ms_mono() - c->hr.t0_ms);
    log_msg(LOG_INFO, "%s %s %s %u %llu %lldms user=%s%s", c->hr.reqid,
            http_method_name(c->hr.method), path, c->status, (unsigned long long)c->bytes_out,
            (long long)(now_ms_mono() - c->hr.t0_ms), user,
            toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    mem_free(c);
    *con_cls = NULL;
}

/* ---- lingering close ---- */

static const char linger_400[] = "HTTP/1.1 400 Bad Request\r\n"
                                 "Connection: close\r\n"
                                 "Content-Type: text/plain\r\n"
                                 "Content-Length: 12\r\n"
                                 "\r\n"
                                 "Bad Request\n";

/* unanswered: the client sent bytes on this plain-HTTP connection and nothing was ever sent
 * back (TCP's own counters: nothing transmitted, nothing queued) */
static bool unanswered(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    int queued = 0;

    memset(&ti, 0, sizeof(ti));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_sent) + sizeof(ti.tcpi_bytes_sent))
        return false; /* unknown: say nothing rather than answer twice */
    if (ioctl(fd, SIOCOUTQ, &queued) < 0)
        return false;
    return ti.tcpi_bytes_received > 0 && ti.tcpi_bytes_sent == 0 && queued == 0;
}

/* linger runs on the connection's socket just before libmicrohttpd closes it (see the file
 * comment). Bounded: SERVER_LINGER_MS and SERVER_LINGER_MAX_BYTES. */
static void linger(int fd, bool tls)
{
    char buf[4096];
    size_t total = 0;
    int64_t deadline;
    ssize_t n;

    n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK);
    if (n == 0)
        return; /* the client has closed its side: nobody to answer, nothing left to reset */
    if (!tls && unanswered(fd)) {
        /* best effort: a short write only shortens an answer nobody else would give */
        (void)!send(fd, linger_400, sizeof(linger_400) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    if (n < 0)
        return;                  /* nothing unread (or the peer is gone): close() is a clean FIN */
    (void)shutdown(fd, SHUT_WR); /* our answer is complete; ENOTCONN is fine */
    deadline = now_ms_mono() + SERVER_LINGER_MS;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
        int64_t left = deadline - now_ms_mono();

        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0)
            return; /* the client closed its side: nothing left to reset */
        if (n > 0) {
            total += (size_t)n;
            if (total > SERVER_LINGER_MAX_BYTES)
                return;
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return;
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return;
    }
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    const struct http_server *s = cls;
    const union MHD_ConnectionInfo *ci;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = mem_calloc(1, sizeof(struct conn_sock)); /* NULL: every request checked */
        return;
    }
    if (toe != MHD_CONNECTION_NOTIFY_CLOSED)
        return;
    mem_free(*socket_context);
    *socket_context = NULL;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci != NULL && ci->connect_fd != MHD_INVALID_SOCKET)
        linger(ci->connect_fd, s->tls);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char line[512], esc[4 * sizeof(line)];

    (void)cls;
    (void)vsnprintf(line, sizeof(line), fmt, ap); /* a cut line is still useful */
    line[strcspn(line, "\n")] = '\0';
    /* libmicrohttpd quotes request lines and headers in some messages */
    (void)log_escape(esc, sizeof(esc), line);
    /* malformed requests (a TLS hello on the plain port: every client probes https first),
     * failed TLS handshakes (clients that probe or give up on an untrusted certificate) and
     * resets are the client's business, not an operator's */
    log_msg(strstr(line, "Error processing request") != NULL || strstr(line, "reset") != NULL ||
                            strstr(line, "handshake") != NULL ||
                            strstr(line, "no longer available") != NULL ||
                            /* our MHD_NO: a client that left (499) or no memory (logged) */
                            strstr(line, "Application reported internal error") != NULL
                    ? LOG_DEBUG
                    : LOG_WARN,
            "http: %s", esc);
}

static int parse_listen(struct sockaddr_storage *ss, socklen_t *sslen, const char *listen,
                        struct berr *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    struct addrinfo hints = {0}, *res = NULL;
    size_t hl;
    int rc;

    if (colon == NULL)
        return berr_set(err, BERR_BAD_REQUEST, "listen address must be ADDR:PORT");
    hl = (size_t)(colon - listen);
    if (hl >= sizeof(host))
        return berr_set(err, BERR_BAD_REQUEST, "listen address too long");
    memcpy(host, listen, hl);
    host[hl] = '\0';
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
    if (rc != 0 || res == NULL)
        return berr_set(err, BERR_BAD_REQUEST, "cannot resolve listen address %s", listen);
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sslen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* listen_open binds and listens on the address (the daemons share this socket). The backlog is
 * the kernel's most (SOMAXCONN, capped by net.core.somaxconn): with 128, a burst of 1,000
 * connections overflowed it and the dropped SYNs were retried by clients only after 1, 3, 7 s. */
static int listen_open(int *out, const struct sockaddr_storage *ss, socklen_t sslen,
                       const char *where, struct berr *err)
{
    int one = 1;
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    *out = -1;
    if (fd < 0)
        return berr_sys(err, errno, "socket");
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        (ss->ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)) {
        (void)close(fd);
        return berr_sys(err, errno, "setsockopt");
    }
    if (bind(fd, (const struct sockaddr *)ss, sslen) < 0 || listen(fd, SOMAXCONN) < 0) {
        int e = errno;
        (void)close(fd);
        log_errno(LOG_ERROR, e, "http: cannot listen on %s", where);
        return berr_set(err, BERR_INTERNAL, "cannot listen on %s%s", where,
                        e == EADDRINUSE ? ": address in use" : "");
    }
    *out = fd;
    return 0;
}

/* daemon_start_fd: a daemon serving s's mounts on the listening socket fd (taken), with cert and
 * key (PEM text, NUL-terminated) when s->tls. NULL when libmicrohttpd refuses. */
static struct MHD_Daemon *daemon_start_fd(struct http_server *s, int fd, const char *cert,
                                          const char *key)
{
    /* MHD_USE_TURBO: among other things, libmicrohttpd then leaves shutdown() to us, so the
     * lingering close can still write the answer libmicrohttpd did not give (file comment).
     * MHD_USE_POLL, not MHD_USE_EPOLL: with the thread pool, 0.9.75's epoll mode leaves some
     * connections unserved after a burst (1,000 connections opened and closed at once: 30-270
     * of them stayed in CLOSE_WAIT with every thread idle in epoll_wait, and a fresh round of
     * 1,000 got 500-995 answers in 60 s); poll(2) over each thread's share of the connections
     * reaped them all within a second and served the fresh round in 0.2 s, at the same
     * manifest GET rate with 1,000 connections (tests/blackbox/http_conn_churn.sh, issue 14) */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | MHD_USE_TURBO;

    if (s->tls)
        return MHD_start_daemon(
                flags | MHD_USE_TLS, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
                mhd_logger, NULL, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_HTTPS_MEM_CERT, cert,
                MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_THREAD_POOL_SIZE, s->threads,
                MHD_OPTION_CONNECTION_LIMIT, s->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                s->per_ip_connections, MHD_OPTION_CONNECTION_TIMEOUT, s->connection_timeout_s,
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVER_CONN_MEMORY,
                MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_NOTIFY_CONNECTION,
                on_connection, s, MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL, MHD_OPTION_END);
    return MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
            MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE, s->threads,
            MHD_OPTION_CONNECTION_LIMIT, s->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
            s->per_ip_connections, MHD_OPTION_CONNECTION_TIMEOUT, s->connection_timeout_s,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVER_CONN_MEMORY,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_NOTIFY_CONNECTION,
            on_connection, s, MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL, MHD_OPTION_END);
}

/* daemon_start: a daemon serving s's mounts on s->listen_fd, with cert and key (PEM text,
 * NUL-terminated) when s->tls. NULL when libmicrohttpd refuses (e.g. a bad certificate). */
static struct MHD_Daemon *daemon_start(struct http_server *s, const char *cert, const char *key)
{
    struct MHD_Daemon *d;
    /* a duplicate of the listener: libmicrohttpd closes the socket it was given when it stops,
     * and also when it fails to start (so a failed start is never followed by our close: a
     * leaked duplicate at worst, never a descriptor closed twice) */
    int fd = fcntl(s->listen_fd, F_DUPFD_CLOEXEC, 0);

    if (fd < 0) {
        log_errno(LOG_ERROR, errno, "http: cannot duplicate the listening socket");
        return NULL;
    }
    d = daemon_start_fd(s, fd, cert, key);
    return d;
}

/* pem_check: cert holds a PEM certificate and key the PEM private key that goes with it (checked
 * with OpenSSL before libmicrohttpd sees them, so a bad file fails here, not in a half-started
 * daemon). 0 or -1. */
static int pem_check(const char *cert, const char *key)
{
    BIO *cb = BIO_new_mem_buf(cert, -1), *kb = BIO_new_mem_buf(key, -1);
    X509 *x = NULL;
    EVP_PKEY *pk = NULL;
    int rc = -1;

    if (cb == NULL || kb == NULL)
        goto out;
    x = PEM_read_bio_X509(cb, NULL, NULL, NULL);
    pk = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
    if (x != NULL && pk != NULL && X509_check_private_key(x, pk) == 1)
        rc = 0;
out:
    EVP_PKEY_free(pk);
    X509_free(x);
    BIO_free(kb);
    BIO_free(cb);
    ERR_clear_error();
    return rc;
}

/* daemon_start_tls reads the certificate and key files and starts a daemon with them. */
static struct MHD_Daemon *daemon_start_tls(struct http_server *s, struct berr *err)
{
    struct MHD_Daemon *d = NULL;
    char *cert = NULL, *key = NULL;
    size_t len;

    if (read_file(&cert, &len, s->cert_path, SERVER_PEM_MAX_BYTES) < 0) {
        berr_set(err, BERR_BAD_REQUEST, "cannot read tls_cert %s", s->cert_path);
        goto out;
    }
    if (read_file(&key, &len, s->key_path, SERVER_PEM_MAX_BYTES) < 0) {
        berr_set(err, BERR_BAD_REQUEST, "cannot read tls_key %s", s->key_path);
        goto out;
    }
    if (pem_check(cert, key) < 0) {
        berr_set(err, BERR_BAD_REQUEST, "tls_cert and tls_key are not a certificate and its key");
        goto out;
    }
    d = daemon_start(s, cert, key);
    if (d == NULL)
        berr_set(err, BERR_BAD_REQUEST, "TLS certificate or key not accepted (%s, %s)",
                 s->cert_path, s->key_path);
out:
    if (key != NULL) {
        memset(key, 0, strlen(key)); /* the private key leaves memory with the call */
        mem_free(key);
    }
    mem_free(cert);
    return d;
}

/* reap stops the retired daemons that have no connection left (all of them when force). */
static void reap(struct http_server *s, bool force)
{
    size_t keep = 0;

    for (size_t i = 0; i < s->nretired; i++) {
        const union MHD_DaemonInfo *di =
                MHD_get_daemon_info(s->retired[i], MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (force || di == NULL || di->num_connections == 0) {
            MHD_stop_daemon(s->retired[i]);
            if (s->retired_fd[i] >= 0)
                (void)close(s->retired_fd[i]); /* a duplicate: the listener stays open */
        } else {
            s->retired_fd[keep] = s->retired_fd[i];
            s->retired[keep++] = s->retired[i];
        }
    }
    s->nretired = keep;
}

static void server_free(struct http_server *s)
{
    mem_free(s->cert_path);
    mem_free(s->key_path);
    mem_free(s->mounts);
    if (s->listen_fd >= 0)
        (void)close(s->listen_fd);
    mem_free(s);
}

int http_server_start(struct http_server **out, const struct http_server_opts *o,
                      const struct http_mount *mounts, size_t n, struct berr *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    struct http_server *s;
    bool tls = o->tls_cert != NULL && o->tls_cert[0] != '\0';

    *out = NULL;
    memset(&ss, 0, sizeof(ss));
    if (tls != (o->tls_key != NULL && o->tls_key[0] != '\0'))
        return berr_set(err, BERR_BAD_REQUEST, "tls_cert and tls_key go together");
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return berr_set(err, BERR_BAD_REQUEST, "this libmicrohttpd has no TLS support");
    if (parse_listen(&ss, &sslen, o->listen, err) < 0)
        return -1;
    if (req_prefix[0] == '\0' && rand_hex(req_prefix, sizeof(req_prefix), 4) < 0)
        return berr_set(err, BERR_INTERNAL, "internal error");
    s = mem_calloc(1, sizeof(*s));
    if (s == NULL)
        return berr_sys(err, ENOMEM, "server: alloc");
    s->listen_fd = -1;
    s->threads = o->threads;
    s->max_connections = o->max_connections;
    s->per_ip_connections = o->per_ip_connections;
    s->connection_timeout_s = o->connection_timeout_s;
    s->tls = tls;
    if (cidr_list_parse(&s->proxies, o->trusted_proxies != NULL ? o->trusted_proxies : "", err) <
        0) {
        server_free(s);
        return -1;
    }
    s->mounts = mem_calloc(n > 0 ? n : 1, sizeof(*mounts));
    if (s->mounts == NULL || (tls && ((s->cert_path = mem_strdup(o->tls_cert)) == NULL ||
                                      (s->key_path = mem_strdup(o->tls_key)) == NULL))) {
        server_free(s);
        return berr_sys(err, ENOMEM, "server: alloc");
    }
    if (n > 0)
        memcpy(s->mounts, mounts, n * sizeof(*mounts));
    s->nmounts = n;
    if (listen_open(&s->listen_fd, &ss, sslen, o->listen, err) < 0) {
        server_free(s);
        return -1;
    }
    s->d = tls ? daemon_start_tls(s, err) : daemon_start(s, NULL, NULL);
    if (s->d == NULL) {
        if (!tls)
            berr_set(err, BERR_INTERNAL, "cannot serve on %s", o->listen);
        server_free(s);
        return -1;
    }
    {
        struct sockaddr_storage bound;
        socklen_t blen = sizeof(bound);
        if (getsockname(s->listen_fd, (struct sockaddr *)&bound, &blen) == 0)
            s->port = ntohs(bound.ss_family == AF_INET6
                                    ? ((struct sockaddr_in6 *)(void *)&bound)->sin6_port
                                    : ((struct sockaddr_in *)(void *)&bound)->sin_port);
    }
    *out = s;
    return 0;
}

unsigned http_server_port(const struct http_server *s)
{
    return s->port;
}

bool http_server_tls(const struct http_server *s)
{
    return s->tls;
}

int http_server_reload_tls(struct http_server *s, struct berr *err)
{
    struct MHD_Daemon *d;

    if (!s->tls)
        return 0;
    reap(s, false);
    if (s->nretired == SERVER_RETIRED_MAX)
        return berr_set(err, BERR_TOOMANYREQUESTS, "too many reloads still finishing");
    d = daemon_start_tls(s, err);
    if (d == NULL)
        return -1; /* the old daemon keeps serving */
    /* both accept on the socket for a moment; then only the new one does */
    s->retired_fd[s->nretired] = MHD_quiesce_daemon(s->d);
    if (s->retired_fd[s->nretired] == MHD_INVALID_SOCKET)
        log_msg(LOG_WARN, "http: the old TLS daemon could not be quiesced");
    s->retired[s->nretired++] = s->d;
    s->d = d;
    reap(s, false);
    return 0;
}

void http_server_stop(struct http_server *s)
{
    if (s == NULL)
        return;
    {
        /* quiesced, its duplicate of the listener comes back to us to close */
        int fd = MHD_quiesce_daemon(s->d);
        MHD_stop_daemon(s->d);
        if (fd != MHD_INVALID_SOCKET)
            (void)close(fd);
    }
    reap(s, true);
    server_free(s);
}
