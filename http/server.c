/* server.c - the HTTP core on libmicrohttpd: mounts, the request lifecycle, the access log.
 *
 * Each request goes through at most three phases of libmicrohttpd's access handler:
 *   first call   find the mount, build the struct http_req, call the handler's begin; an answer
 *                made now is queued at once when the client sends a body (so a body we will not
 *                read is not waited for), else on the second call (libmicrohttpd closes the
 *                connection when a response is queued on the first call);
 *   body calls   each piece goes to the handler's data; after a failure the rest is dropped;
 *   last call    (upload_data_size == 0) the handler's end answers.
 * All per-request state hangs off the connection's context pointer and is freed in exactly one
 * place, on_completed (MHD_OPTION_NOTIFY_COMPLETED), which calls the handler's done and writes
 * the access log line.
 * Invariants:
 *   1. Only this folder includes <microhttpd.h>; handlers see http/http.h only.
 *   2. Every request gets exactly one done() call when begin ran, and one log line.
 *   3. The log line carries method, path (never the query string), status, bytes, ms and user;
 *      never a header value.
 * Thread-safety: handlers run on any pool thread; the only shared mutable state is the request
 * counter (atomic); the mount table is read-only after start. */
#include "http/server.h"

#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <microhttpd.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "http/metrics.h"

#define SERVER_CONN_MEMORY (256 * 1024)

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
    enum http_route_class rclass; /* http/metrics.c: counted in flight since the first call */
};

struct http_server {
    struct MHD_Daemon *d;
    struct http_mount *mounts;
    size_t nmounts;
    unsigned port;
};

static _Atomic unsigned long long req_counter;
static char req_prefix[9];

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

static enum MHD_Result first_call(struct http_server *s, struct MHD_Connection *conn,
                                  const char *url, const char *method, void **con_cls)
{
    struct conn_ctx *c = mem_calloc(1, sizeof(*c));
    struct http_reply rep = {0};

    if (c == NULL)
        return MHD_NO;
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
    (void)snprintf(c->hr.reqid, sizeof(c->hr.reqid), "%s%08llx", req_prefix,
                   (unsigned long long)(atomic_fetch_add(&req_counter, 1) & 0xffffffffULL));
    c->mount = http_mount_find(s->mounts, s->nmounts, url);
    if (c->mount == NULL)
        return answer_not_found(c);
    c->begun = true;
    if (c->mount->handler->begin(c->mount->ctx, &c->hr, &c->state, &rep) == HTTP_ANSWERED)
        return answer_early(c, &rep);
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *s = cls;
    struct conn_ctx *c = *con_cls;
    struct http_reply rep = {0};

    (void)version;
    if (c == NULL)
        return first_call(s, conn, url, method, con_cls);
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
        if (!c->failed && c->mount->handler->data(c->state, upload_data, n) < 0)
            c->failed = true;
        return MHD_YES;
    }
    c->mount->handler->end(c->state, &rep);
    return queue(c, &rep);
}

/* log_path copies path for the log with control characters, backslashes and quotes escaped, so
 * a request cannot forge or break a log line. */
static void log_path(char *out, size_t cap, const char *path)
{
    size_t o = 0;

    for (const unsigned char *p = (const unsigned char *)path; *p != '\0' && o + 5 < cap; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '\\' || *p == '"') {
            static const char hex[] = "0123456789abcdef";
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o] = '\0';
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn_ctx *c = *con_cls;
    char path[1024];

    (void)cls;
    (void)conn;
    if (c == NULL)
        return;
    if (c->begun)
        c->mount->handler->done(c->state);
    http_reply_drop(&c->pending);
    log_path(path, sizeof(path), c->hr.path);
    http_metrics_end(c->rclass, c->hr.method, c->status, c->bytes_in, c->bytes_out,
                     now_ms_mono() - c->hr.t0_ms);
    log_msg(LOG_INFO, "%s %s %s %u %llu %lldms user=%s%s", c->hr.reqid,
            http_method_name(c->hr.method), path, c->status, (unsigned long long)c->bytes_out,
            (long long)(now_ms_mono() - c->hr.t0_ms), c->hr.user[0] ? c->hr.user : "-",
            toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    mem_free(c);
    *con_cls = NULL;
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char line[512];

    (void)cls;
    (void)vsnprintf(line, sizeof(line), fmt, ap); /* a cut line is still useful */
    line[strcspn(line, "\n")] = '\0';
    /* malformed requests (a TLS hello on the plain port: every client probes https first) and
     * resets are the client's business, not an operator's */
    log_msg(strstr(line, "Error processing request") != NULL || strstr(line, "reset") != NULL
                    ? LOG_DEBUG
                    : LOG_WARN,
            "http: %s", line);
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

int http_server_start(struct http_server **out, const struct http_server_opts *o,
                      const struct http_mount *mounts, size_t n, struct berr *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    struct http_server *s;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    const union MHD_DaemonInfo *info;

    *out = NULL;
    if (parse_listen(&ss, &sslen, o->listen, err) < 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (req_prefix[0] == '\0' && rand_hex(req_prefix, sizeof(req_prefix), 4) < 0)
        return berr_set(err, BERR_INTERNAL, "internal error");
    s = mem_calloc(1, sizeof(*s));
    if (s == NULL)
        return berr_sys(err, ENOMEM, "server: alloc");
    s->mounts = mem_calloc(n > 0 ? n : 1, sizeof(*mounts));
    if (s->mounts == NULL) {
        mem_free(s);
        return berr_sys(err, ENOMEM, "server: alloc");
    }
    if (n > 0)
        memcpy(s->mounts, mounts, n * sizeof(*mounts));
    s->nmounts = n;
    s->d = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, o->threads,
            MHD_OPTION_CONNECTION_LIMIT, o->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
            o->per_ip_connections, MHD_OPTION_CONNECTION_TIMEOUT, o->connection_timeout_s,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVER_CONN_MEMORY,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE,
            (unsigned int)1, MHD_OPTION_END);
    if (s->d == NULL) {
        mem_free(s->mounts);
        mem_free(s);
        return berr_set(err, BERR_INTERNAL, "cannot listen on %s", o->listen);
    }
    info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    *out = s;
    return 0;
}

unsigned http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_stop(struct http_server *s)
{
    if (s == NULL)
        return;
    MHD_stop_daemon(s->d);
    mem_free(s->mounts);
    mem_free(s);
}
