/* server.c - request lifecycle on libmicrohttpd.
 *
 * Each request goes through at most three phases of the access handler:
 *   first call   route, parse the name, authenticate; answer at once when the request needs no
 *                body (GET, HEAD, DELETE) or is refused; otherwise prepare the body consumer;
 *   body calls   a manifest body is appended to r->body (capped: 413 past it); an upload body
 *                streams into the upload session; after a failure the rest is read and dropped;
 *   last call    (upload_data_size == 0) the handler answers.
 * All per-request state hangs off the connection's context pointer and is freed in exactly one
 * place, on_completed (MHD_OPTION_NOTIFY_COMPLETED), which also writes the access log line.
 * Invariants:
 *   1. A repository name reaches a handler only through repo_name_parse.
 *   2. No /v2/ handler runs before authentication succeeded.
 *   3. The log line carries method, path (never the query string), status, bytes, ms and user;
 *      never a header value.
 * Thread-safety: handlers run on any pool thread; the only shared mutable state is the request
 * counter (atomic). */
#include "registry/server.h"

#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "auth/authn.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "registry/ui_assets.h"

#define SERVER_CONN_MEMORY (256 * 1024)

enum body_mode { BODY_NONE, BODY_BUFFER, BODY_UPLOAD };

struct conn_ctx {
    struct req r;
    enum req_route route;
    enum body_mode body;
    bool failed; /* r.err holds why; the rest of the body is dropped */
    bool answered;
    bool has_pending;     /* an answer made on the first call, queued on the second */
    bool pending_is_err;  /* the answer is r.err */
    struct reply pending; /* the answer when !pending_is_err */
};

struct server {
    struct MHD_Daemon *d;
    struct registry *reg;
    unsigned port;
};

static _Atomic unsigned long long req_counter;
static char req_prefix[9];

static enum req_method method_of(const char *m)
{
    if (strcmp(m, "GET") == 0)
        return REQ_GET;
    if (strcmp(m, "HEAD") == 0)
        return REQ_HEAD;
    if (strcmp(m, "PUT") == 0)
        return REQ_PUT;
    if (strcmp(m, "POST") == 0)
        return REQ_POST;
    if (strcmp(m, "PATCH") == 0)
        return REQ_PATCH;
    if (strcmp(m, "DELETE") == 0)
        return REQ_DELETE;
    return REQ_OTHER;
}

const char *req_header(const struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *req_query(const struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct query_iter {
    const char *name;
    req_query_fn fn;
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

int req_query_each(const struct req *r, const char *name, req_query_fn fn, void *ctx)
{
    struct query_iter it = {name, fn, ctx, 0};

    (void)MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_iter_cb, &it);
    return it.rc;
}

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

/* route_v2 splits "/v2/<name>/<kind>/<ref>" (rest = after "/v2/"). */
static int route_v2(struct conn_ctx *c, const char *rest)
{
    struct req *r = &c->r;
    size_t len = strlen(rest), name_len = 0;
    const char *ref = NULL, *p;

    if (len == 0) {
        c->route = ROUTE_BASE;
        return 0;
    }
    if (strcmp(rest, "_catalog") == 0) {
        c->route = ROUTE_CATALOG;
        return 0;
    }
    if (ends_with(rest, len, "/tags/list")) {
        c->route = ROUTE_TAGS;
        name_len = len - strlen("/tags/list");
    } else if (ends_with(rest, len, "/blobs/uploads/") || ends_with(rest, len, "/blobs/uploads")) {
        c->route = ROUTE_UPLOAD_START;
        name_len = (size_t)(find_last(rest, len, "/blobs/uploads") - rest);
    } else if ((p = find_last(rest, len, "/blobs/uploads/")) != NULL &&
               strchr(p + strlen("/blobs/uploads/"), '/') == NULL) {
        c->route = ROUTE_UPLOAD;
        name_len = (size_t)(p - rest);
        ref = p + strlen("/blobs/uploads/");
    } else if ((p = find_last(rest, len, "/blobs/")) != NULL &&
               strchr(p + strlen("/blobs/"), '/') == NULL) {
        c->route = ROUTE_BLOB;
        name_len = (size_t)(p - rest);
        ref = p + strlen("/blobs/");
    } else if ((p = find_last(rest, len, "/manifests/")) != NULL &&
               strchr(p + strlen("/manifests/"), '/') == NULL) {
        c->route = ROUTE_MANIFEST;
        name_len = (size_t)(p - rest);
        ref = p + strlen("/manifests/");
    } else if ((p = find_last(rest, len, "/referrers/")) != NULL &&
               strchr(p + strlen("/referrers/"), '/') == NULL) {
        c->route = ROUTE_REFERRERS;
        name_len = (size_t)(p - rest);
        ref = p + strlen("/referrers/");
    } else {
        return berr_set(&r->err, BERR_NOT_FOUND, "unknown endpoint");
    }
    if (repo_name_parse(&r->name, rest, name_len, &r->err) < 0)
        return -1;
    if (ref != NULL) {
        size_t rl = strlen(ref);
        if (rl == 0 || rl >= sizeof(r->ref)) {
            if (c->route == ROUTE_MANIFEST)
                return berr_set(&r->err, BERR_TAG_INVALID, "invalid reference");
            if (c->route == ROUTE_UPLOAD)
                return berr_set(&r->err, BERR_BLOB_UPLOAD_UNKNOWN, "unknown upload");
            return berr_set(&r->err, BERR_DIGEST_INVALID, "invalid digest");
        }
        memcpy(r->ref, ref, rl + 1);
    }
    return 0;
}

static bool method_allowed(enum req_route route, enum req_method m)
{
    switch (route) {
    case ROUTE_BASE:
    case ROUTE_CATALOG:
    case ROUTE_TAGS:
    case ROUTE_REFERRERS:
    case ROUTE_UI:
        return m == REQ_GET || m == REQ_HEAD;
    case ROUTE_TOKEN:
        return m == REQ_GET || m == REQ_POST;
    case ROUTE_API:
        return true;
    case ROUTE_BLOB:
        return m == REQ_GET || m == REQ_HEAD || m == REQ_DELETE;
    case ROUTE_UPLOAD_START:
        return m == REQ_POST;
    case ROUTE_UPLOAD:
        return m == REQ_GET || m == REQ_PATCH || m == REQ_PUT || m == REQ_DELETE;
    case ROUTE_MANIFEST:
        return m == REQ_GET || m == REQ_HEAD || m == REQ_PUT || m == REQ_DELETE;
    case ROUTE_NONE:
        break;
    }
    return false;
}

static bool is_v2(enum req_route route)
{
    return route != ROUTE_API && route != ROUTE_TOKEN && route != ROUTE_UI && route != ROUTE_NONE;
}

static int add_header(struct MHD_Response *resp, const char *k, const char *v)
{
    return MHD_add_response_header(resp, k, v) == MHD_YES ? 0 : -1;
}

static enum MHD_Result queue(struct conn_ctx *c, struct reply *rep)
{
    struct req *r = &c->r;
    enum MHD_Result ret;
    unsigned status = rep->status;

    if (rep->resp == NULL) {
        struct berr e;
        berr_set(&e, BERR_INTERNAL, "internal error");
        rep->resp = reply_error(&e, &status);
        if (rep->resp == NULL)
            return MHD_NO;
    }
    if (is_v2(c->route) &&
        add_header(rep->resp, "Docker-Distribution-Api-Version", "registry/2.0") < 0) {
        MHD_destroy_response(rep->resp);
        return MHD_NO;
    }
    if (status == MHD_HTTP_UNAUTHORIZED && (is_v2(c->route) || r->challenge[0] != '\0') &&
        add_header(rep->resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                   r->challenge[0] ? r->challenge : "Basic realm=\"berth\"") < 0) {
        MHD_destroy_response(rep->resp);
        return MHD_NO;
    }
    if (status == MHD_HTTP_TOO_MANY_REQUESTS && r->retry_after_s > 0) {
        char ra[16];
        (void)snprintf(ra, sizeof(ra), "%u", r->retry_after_s); /* fits */
        if (add_header(rep->resp, MHD_HTTP_HEADER_RETRY_AFTER, ra) < 0) {
            MHD_destroy_response(rep->resp);
            return MHD_NO;
        }
    }
    (void)add_header(rep->resp, "X-Content-Type-Options", "nosniff"); /* advisory only */
    r->status = status;
    r->bytes_out = rep->len;
    ret = MHD_queue_response(r->conn, status, rep->resp);
    MHD_destroy_response(rep->resp);
    rep->resp = NULL;
    c->answered = true;
    return ret;
}

static enum MHD_Result queue_error(struct conn_ctx *c)
{
    struct reply rep = {0};

    rep.resp = reply_error(&c->r.err, &rep.status);
    return queue(c, &rep);
}

static int ui_get(struct conn_ctx *c, struct reply *out)
{
    const char *path = c->r.url;
    const char *inm = req_header(&c->r, MHD_HTTP_HEADER_IF_NONE_MATCH);

    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0 ||
        str_has_prefix(path, "/harbor") || str_has_prefix(path, "/ui/"))
        path = "/index.html";
    for (unsigned i = 0; i < ui_assets_count; i++) {
        const struct ui_asset *a = &ui_assets[i];
        if (strcmp(a->path, path) != 0)
            continue;
        if (inm != NULL && strcmp(inm, a->etag) == 0) {
            out->resp = reply_empty();
            out->status = MHD_HTTP_NOT_MODIFIED;
        } else {
            out->resp = reply_bytes(a->data, a->len, a->type);
            out->status = MHD_HTTP_OK;
            out->len = a->len;
        }
        if (out->resp == NULL)
            return berr_set(&c->r.err, BERR_INTERNAL, "internal error");
        if (add_header(out->resp, MHD_HTTP_HEADER_ETAG, a->etag) < 0 ||
            add_header(out->resp, "Content-Security-Policy", "default-src 'self'") < 0 ||
            add_header(out->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache") < 0)
            return berr_set(&c->r.err, BERR_INTERNAL, "internal error");
        return 0;
    }
    return berr_set(&c->r.err, BERR_NOT_FOUND, "not found");
}

int base_get(struct req *r, struct reply *out)
{
    (void)r;
    out->resp = reply_json("{}", 2);
    out->status = MHD_HTTP_OK;
    out->len = 2;
    return 0;
}

/* dispatch runs the handler of a request that needs no body (or whose body is complete). */
static int dispatch(struct conn_ctx *c, struct reply *out)
{
    struct req *r = &c->r;

    switch (c->route) {
    case ROUTE_BASE:
        return base_get(r, out);
    case ROUTE_CATALOG:
        return catalog_list(r, out);
    case ROUTE_TAGS:
        return tags_list(r, out);
    case ROUTE_REFERRERS:
        return referrers_get(r, out);
    case ROUTE_BLOB:
        return r->method == REQ_DELETE ? blobs_delete(r, out) : blobs_get(r, out);
    case ROUTE_UPLOAD:
        if (r->method == REQ_GET)
            return uploads_status(r, out);
        if (r->method == REQ_DELETE)
            return uploads_delete(r, out);
        return uploads_end(r, out);
    case ROUTE_UPLOAD_START:
        return uploads_end(r, out);
    case ROUTE_MANIFEST:
        if (r->method == REQ_PUT)
            return manifests_put(r, out);
        if (r->method == REQ_DELETE)
            return manifests_delete(r, out);
        return manifests_get(r, out);
    case ROUTE_TOKEN:
        return token_handle(r, out);
    case ROUTE_API:
        return api_handle(r, out);
    case ROUTE_UI:
        return ui_get(c, out);
    case ROUTE_NONE:
        break;
    }
    return berr_set(&r->err, BERR_NOT_FOUND, "not found");
}

/* request_has_body: the client announced a body (Content-Length > 0 or chunked). */
static bool request_has_body(const struct req *r)
{
    const char *cl = req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);

    if (req_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
        return true;
    return cl != NULL && strcmp(cl, "0") != 0;
}

/* answer_early: libmicrohttpd closes the connection when a response is queued on the first
 * call (it cannot know the request is complete), so a request without a body is answered on the
 * second call and keeps its connection; a request with a body is answered at once, before a
 * body we will not read is sent. */
static enum MHD_Result answer_early(struct conn_ctx *c, struct reply *rep, bool is_err)
{
    if (request_has_body(&c->r))
        return is_err ? queue_error(c) : queue(c, rep);
    c->has_pending = true;
    c->pending_is_err = is_err;
    if (!is_err)
        c->pending = *rep;
    return MHD_YES;
}

/* first_call sets up a request; returns MHD_YES/MHD_NO like the access handler. */
static enum MHD_Result first_call(struct server *s, struct MHD_Connection *conn, const char *url,
                                  const char *method, void **con_cls)
{
    struct conn_ctx *c = mem_calloc(1, sizeof(*c));
    struct req *r;
    struct reply rep = {0};
    const char *cl;

    if (c == NULL)
        return MHD_NO;
    *con_cls = c;
    r = &c->r;
    r->reg = s->reg;
    r->conn = conn;
    r->url = url;
    r->method = method_of(method);
    r->t0_ms = now_ms_mono();
    (void)snprintf(r->reqid, sizeof(r->reqid), "%s%08llx", req_prefix,
                   (unsigned long long)(atomic_fetch_add(&req_counter, 1) & 0xffffffffULL));
    buf_init(&r->body, r->reg->cfg->manifest_max_bytes);

    if (strcmp(url, "/v2") == 0 || str_has_prefix(url, "/v2/")) {
        if (route_v2(c, url[3] == '/' ? url + 4 : "") < 0)
            return answer_early(c, NULL, true);
    } else if (strcmp(url, "/service/token") == 0) {
        c->route = ROUTE_TOKEN;
    } else if (str_has_prefix(url, "/api/") || str_has_prefix(url, "/c/")) {
        c->route = ROUTE_API; /* /c/login, /c/log_out: the web UI's session (api_session.c) */
    } else if (strcmp(url, "/metrics") == 0) {
        c->route = ROUTE_API; /* Prometheus metrics (api_misc.c) */
    } else {
        c->route = ROUTE_UI;
    }
    if (!method_allowed(c->route, r->method)) {
        berr_set(&r->err, BERR_UNSUPPORTED, "method %s not allowed here", method);
        return answer_early(c, NULL, true);
    }
    r->route = c->route;
    if (is_v2(c->route) && access_check(r) < 0)
        return answer_early(c, NULL, true);
    if ((c->route == ROUTE_API || c->route == ROUTE_TOKEN) &&
        (r->method == REQ_POST || r->method == REQ_PUT || r->method == REQ_PATCH ||
         r->method == REQ_DELETE)) {
        uint64_t n;
        buf_init(&r->body, REQ_JSON_MAX_BYTES);
        cl = req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL && parse_u64(&n, cl, strlen(cl)) == 0 && n > REQ_JSON_MAX_BYTES) {
            berr_set(&r->err, BERR_TOO_LARGE, "request body larger than %d bytes",
                     REQ_JSON_MAX_BYTES);
            return answer_early(c, NULL, true);
        }
        c->body = BODY_BUFFER;
        return MHD_YES;
    }

    if (c->route == ROUTE_MANIFEST && r->method == REQ_PUT) {
        uint64_t n;
        cl = req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL && parse_u64(&n, cl, strlen(cl)) == 0 &&
            n > r->reg->cfg->manifest_max_bytes) {
            berr_set(&r->err, BERR_TOO_LARGE, "manifest larger than %llu bytes",
                     (unsigned long long)r->reg->cfg->manifest_max_bytes);
            return answer_early(c, NULL, true);
        }
        c->body = BODY_BUFFER;
        return MHD_YES;
    }
    if ((c->route == ROUTE_UPLOAD && (r->method == REQ_PATCH || r->method == REQ_PUT)) ||
        c->route == ROUTE_UPLOAD_START) {
        bool done = false;
        if (uploads_begin(r, &rep, &done) < 0)
            return answer_early(c, NULL, true);
        if (done)
            return answer_early(c, &rep, false);
        c->body = BODY_UPLOAD;
        return MHD_YES;
    }
    if (dispatch(c, &rep) < 0)
        return answer_early(c, NULL, true);
    return answer_early(c, &rep, false);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct server *s = cls;
    struct conn_ctx *c = *con_cls;
    struct reply rep = {0};

    (void)version;
    if (c == NULL)
        return first_call(s, conn, url, method, con_cls);
    if (c->has_pending && !c->answered) {
        *upload_data_size = 0;
        c->has_pending = false;
        if (c->pending_is_err)
            return queue_error(c);
        rep = c->pending;
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
        if (c->failed)
            return MHD_YES;
        if (c->body == BODY_BUFFER) {
            if (buf_append(&c->r.body, upload_data, n) < 0) {
                c->failed = true;
                if (errno == EFBIG)
                    berr_set(&c->r.err, BERR_TOO_LARGE, "body larger than %llu bytes",
                             (unsigned long long)c->r.body.max);
                else
                    berr_sys(&c->r.err, errno, "manifest body");
            }
        } else if (c->body == BODY_UPLOAD) {
            if (uploads_data(&c->r, upload_data, n) < 0)
                c->failed = true;
        }
        return MHD_YES;
    }
    if (c->failed)
        return queue_error(c);
    if (dispatch(c, &rep) < 0)
        return queue_error(c);
    return queue(c, &rep);
}

static const char *method_name(enum req_method m)
{
    static const char *const names[] = {"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OTHER"};
    return names[m];
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn_ctx *c = *con_cls;
    struct req *r;

    (void)cls;
    (void)conn;
    if (c == NULL)
        return;
    r = &c->r;
    uploads_abort(r);
    if (c->has_pending && !c->pending_is_err && c->pending.resp != NULL)
        MHD_destroy_response(c->pending.resp);
    log_msg(LOG_INFO, "%s %s %s %u %llu %lldms user=%s%s", r->reqid, method_name(r->method), r->url,
            r->status, (unsigned long long)r->bytes_out, (long long)(now_ms_mono() - r->t0_ms),
            r->user[0] ? r->user : "-",
            toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    buf_cleanup(&r->body);
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

int server_start(struct server **out, struct registry *reg, struct berr *err)
{
    const struct berth_config *cfg = reg->cfg;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    struct server *s;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    const union MHD_DaemonInfo *info;

    *out = NULL;
    if (parse_listen(&ss, &sslen, cfg->listen, err) < 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (req_prefix[0] == '\0' && rand_hex(req_prefix, sizeof(req_prefix), 4) < 0)
        return berr_set(err, BERR_INTERNAL, "internal error");
    s = mem_calloc(1, sizeof(*s));
    if (s == NULL)
        return berr_sys(err, ENOMEM, "server: alloc");
    s->reg = reg;
    s->d = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
            (unsigned int)cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned int)cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
            (unsigned int)cfg->per_ip_connections, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned int)cfg->connection_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)SERVER_CONN_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
            MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1, MHD_OPTION_END);
    if (s->d == NULL) {
        mem_free(s);
        return berr_set(err, BERR_INTERNAL, "cannot listen on %s", cfg->listen);
    }
    info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    *out = s;
    return 0;
}

unsigned server_port(const struct server *s)
{
    return s->port;
}

void server_stop(struct server *s)
{
    if (s == NULL)
        return;
    MHD_stop_daemon(s->d);
    mem_free(s);
}
