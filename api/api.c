/* api.c - the management API under /api/v2.0 (Harbor-compatible paths, field names, status codes
 * and error bodies): routing, authentication, and the reply, body and paging helpers the
 * api_*.c handlers share (api/api_int.h).
 *
 * Invariants:
 *   1. Every answer, errors included, is built here in Harbor's format
 *      {"errors":[{"code":"NOT_FOUND","message":"..."}]}; a handler never returns a storage
 *      error to the server's registry-format error path (-1 means "could not allocate").
 *   2. A client's fault is 400/401/403/404/409/412, never 500: bodies are parsed with jansson
 *      (duplicates rejected) and every field's type is checked before use.
 *   3. The caller is authenticated once per request, with HTTP Basic (users and robots,
 *      throttled per user and address like /v2/) or, without an Authorization header, the web
 *      UI's session cookie (api_session.c, CSRF-checked); neither is the anonymous caller. Passwords,
 *      secrets and Authorization values are never logged; the access log shows the path only.
 * GET /api/v2.0/ping answers "Pong" without authentication (a readiness probe, as Harbor).
 * Thread-safe: all state is per request. */
#include "registry/req.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "api/api_content.h"
#include "api/mount.h"
#include "api/api_ext.h"
#include "api/api_int.h"
#include "api/api_session.h"
#include "registry/authz.h"

/* ---- replies ---- */

static const char *status_code_name(unsigned status)
{
    switch (status) {
    case HTTP_BAD_REQUEST:
        return "BAD_REQUEST";
    case HTTP_UNAUTHORIZED:
        return "UNAUTHORIZED";
    case HTTP_FORBIDDEN:
        return "FORBIDDEN";
    case HTTP_NOT_FOUND:
        return "NOT_FOUND";
    case HTTP_METHOD_NOT_ALLOWED:
        return "METHOD_NOT_ALLOWED";
    case HTTP_CONFLICT:
        return "CONFLICT";
    case HTTP_PRECONDITION_FAILED:
        return "PRECONDITION";
    case HTTP_CONTENT_TOO_LARGE:
        return "PAYLOAD_TOO_LARGE";
    case HTTP_TOO_MANY_REQUESTS:
        return "TOO_MANY_REQUESTS";
    default:
        return "INTERNAL_SERVER_ERROR";
    }
}

int api_add_header(struct api_call *c, const char *k, const char *v)
{
    if (c->out->resp == NULL)
        return -1;
    return http_resp_header(c->out->resp, k, v);
}

static int reply_text(struct api_call *c, unsigned status, char *text, size_t len)
{
    c->out->resp = http_resp_json(text, len);
    c->out->status = status;
    c->out->len = len;
    return c->out->resp != NULL ? 0 : -1;
}

int api_reply_json(struct api_call *c, unsigned status, json_t *j)
{
    char *text;
    size_t len;
    int rc;

    if (j == NULL)
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    len = json_dumpb(j, NULL, 0, JSON_COMPACT);
    text = len > 0 ? mem_malloc(len) : NULL;
    if (text == NULL || json_dumpb(j, text, len, JSON_COMPACT) != len) {
        mem_free(text);
        json_decref(j);
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    }
    json_decref(j);
    rc = reply_text(c, status, text, len);
    mem_free(text);
    return rc;
}

int api_fail(struct api_call *c, unsigned status, const char *fmt, ...)
{
    static const char fallback[] =
            "{\"errors\":[{\"code\":\"INTERNAL_SERVER_ERROR\",\"message\":\"internal error\"}]}";
    char msg[256];
    json_t *j;
    char *text;
    size_t len;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        msg[0] = '\0';
    va_end(ap);
    if (c->out->resp != NULL) {
        http_resp_free(c->out->resp); /* a header failed after the body was built */
        c->out->resp = NULL;
    }
    j = json_pack("{s:[{s:s,s:s}]}", "errors", "code", status_code_name(status), "message", msg);
    text = NULL;
    len = j != NULL ? json_dumpb(j, NULL, 0, JSON_COMPACT) : 0;
    if (len > 0)
        text = mem_malloc(len);
    if (text == NULL || json_dumpb(j, text, len, JSON_COMPACT) != len) {
        json_decref(j); /* NULL is a no-op */
        mem_free(text);
        c->out->resp = http_resp_json(fallback, sizeof(fallback) - 1);
        c->out->status = HTTP_INTERNAL_SERVER_ERROR;
        c->out->len = sizeof(fallback) - 1;
        return c->out->resp != NULL ? 0 : -1;
    }
    json_decref(j);
    rc = reply_text(c, status, text, len);
    mem_free(text);
    return rc;
}

int api_fail_berr(struct api_call *c, const struct berr *e)
{
    switch (e->code) {
    case BERR_NOT_FOUND:
    case BERR_NAME_UNKNOWN:
        return api_fail(c, HTTP_NOT_FOUND, "%s", e->msg);
    case BERR_CONFLICT:
        return api_fail(c, HTTP_CONFLICT, "%s", e->msg);
    case BERR_BAD_REQUEST:
    case BERR_NAME_INVALID:
        return api_fail(c, HTTP_BAD_REQUEST, "%s", e->msg);
    case BERR_UNAUTHORIZED:
        return api_fail(c, HTTP_UNAUTHORIZED, "%s", e->msg);
    case BERR_DENIED:
        return api_fail(c, HTTP_FORBIDDEN, "%s", e->msg);
    default:
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    }
}

int api_reply_empty(struct api_call *c, unsigned status)
{
    c->out->resp = http_resp_empty();
    c->out->status = status;
    c->out->len = 0;
    return c->out->resp != NULL ? 0 : -1;
}

int api_reply_created(struct api_call *c, const char *location)
{
    char loc[600];
    int n = snprintf(loc, sizeof(loc), "%s%s", API_PREFIX, location);

    if (n < 0 || (size_t)n >= sizeof(loc))
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    if (api_reply_empty(c, HTTP_CREATED) < 0)
        return -1;
    if (api_add_header(c, HTTP_HEADER_LOCATION, loc) < 0)
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    return 0;
}

int api_need_auth(struct api_call *c)
{
    if (!api_anonymous(c))
        return 0;
    if (api_fail(c, HTTP_UNAUTHORIZED, "UnAuthorized") < 0)
        return -1;
    return 1;
}

int api_deny(struct api_call *c)
{
    if (api_anonymous(c))
        return api_fail(c, HTTP_UNAUTHORIZED, "UnAuthorized");
    return api_fail(c, HTTP_FORBIDDEN, "forbidden");
}

/* ---- request input ---- */

int api_body(struct api_call *c, json_t **out)
{
    json_error_t je;
    json_t *j;

    *out = NULL;
    if (c->r->body.len == 0)
        return api_fail(c, HTTP_BAD_REQUEST, "a JSON body is required") < 0 ? -1 : 1;
    j = json_loadb(c->r->body.data, c->r->body.len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL)
        return api_fail(c, HTTP_BAD_REQUEST, "invalid JSON: %s", je.text) < 0 ? -1 : 1;
    if (!json_is_object(j)) {
        json_decref(j);
        return api_fail(c, HTTP_BAD_REQUEST, "the body must be a JSON object") < 0 ? -1 : 1;
    }
    *out = j;
    return 0;
}

static int wrong_type(struct api_call *c, const char *key, const char *want)
{
    (void)api_fail(c, HTTP_BAD_REQUEST, "%s must be %s", key, want);
    return -1;
}

int api_get_str(struct api_call *c, json_t *obj, const char *key, const char **out, bool *present)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    *present = false;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return wrong_type(c, key, "a string");
    *out = json_string_value(v);
    *present = true;
    return 1;
}

int api_get_int(struct api_call *c, json_t *obj, const char *key, int64_t *out, bool *present)
{
    json_t *v = json_object_get(obj, key);

    *out = 0;
    *present = false;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return wrong_type(c, key, "an integer");
    *out = (int64_t)json_integer_value(v);
    *present = true;
    return 1;
}

int api_get_bool(struct api_call *c, json_t *obj, const char *key, bool *out, bool *present)
{
    json_t *v = json_object_get(obj, key);

    *out = false;
    *present = false;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return wrong_type(c, key, "a boolean");
    *out = json_is_true(v);
    *present = true;
    return 1;
}

int api_hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

bool api_parse_id(const char *s, size_t len, int64_t *out)
{
    uint64_t v;

    *out = 0;
    if (len == 0 || len > 18 || parse_u64(&v, s, len) < 0 || v == 0)
        return false;
    *out = (int64_t)v;
    return true;
}

void api_time(int64_t t, char *out, size_t cap)
{
    time_rfc3339(t, out, cap);
}

/* ---- paging ---- */

static int parse_pos(const char *s, int64_t *out)
{
    return s != NULL && api_parse_id(s, strlen(s), out) ? 0 : -1;
}

/* q_term applies one "key=value" or "key=~value" term of q */
static int q_term(struct api_page *p, const char *name_key, const char *t, size_t len)
{
    const char *eq = memchr(t, '=', len);
    size_t klen;
    const char *v;
    size_t vlen;
    bool fuzzy = false;
    int64_t id;

    if (eq == NULL || eq == t)
        return -1;
    klen = (size_t)(eq - t);
    v = eq + 1;
    vlen = len - klen - 1;
    if (vlen > 0 && v[0] == '~') {
        fuzzy = true;
        v++;
        vlen--;
    }
    if (klen == strlen(name_key) && memcmp(t, name_key, klen) == 0) {
        if (vlen > REPO_NAME_MAX)
            return -1;
        memcpy(p->name, v, vlen);
        p->name[vlen] = '\0';
        p->has_name = true;
        p->fuzzy = fuzzy;
        return 0;
    }
    if (klen == 6 && memcmp(t, "public", 6) == 0 && !fuzzy) {
        if (vlen == 4 && memcmp(v, "true", 4) == 0)
            p->public_only = 1;
        else if (vlen == 5 && memcmp(v, "false", 5) == 0)
            p->public_only = 0;
        else
            return -1;
        return 0;
    }
    if (klen == 5 && memcmp(t, "Level", 5) == 0 && !fuzzy) {
        if (vlen >= sizeof(p->level))
            return -1;
        memcpy(p->level, v, vlen);
        p->level[vlen] = '\0';
        return 0;
    }
    if (klen == 9 && memcmp(t, "ProjectID", 9) == 0 && !fuzzy) {
        if (!api_parse_id(v, vlen, &id))
            return -1;
        p->project_id = id;
        return 0;
    }
    return 0; /* other keys of Harbor's q are not filters Berth has: ignored */
}

int api_page_parse(struct api_call *c, const char *name_key, struct api_page *p)
{
    const char *s;
    const char *t;
    size_t len;

    memset(p, 0, sizeof(*p));
    p->page = 1;
    p->page_size = API_PAGE_SIZE_DEFAULT;
    p->public_only = -1;
    s = req_query(c->r, "page");
    if (s != NULL && parse_pos(s, &p->page) < 0)
        return api_fail(c, HTTP_BAD_REQUEST, "page must be a positive integer") < 0 ? -1 : 1;
    s = req_query(c->r, "page_size");
    if (s != NULL && (parse_pos(s, &p->page_size) < 0 || p->page_size > API_PAGE_SIZE_MAX))
        return api_fail(c, HTTP_BAD_REQUEST, "page_size must be 1..%d", API_PAGE_SIZE_MAX) < 0 ? -1
                                                                                               : 1;
    if (p->page > INT64_MAX / API_PAGE_SIZE_MAX)
        return api_fail(c, HTTP_BAD_REQUEST, "page is too large") < 0 ? -1 : 1;
    s = req_query(c->r, "sort");
    if (s != NULL) {
        if (strlen(s) >= sizeof(p->sort))
            return api_fail(c, HTTP_BAD_REQUEST, "unknown sort key") < 0 ? -1 : 1;
        memcpy(p->sort, s, strlen(s) + 1);
    }
    s = req_query(c->r, "q");
    while (s != NULL && *s != '\0') {
        t = strchr(s, ',');
        len = t != NULL ? (size_t)(t - s) : strlen(s);
        if (q_term(p, name_key, s, len) < 0)
            return api_fail(c, HTTP_BAD_REQUEST, "invalid q") < 0 ? -1 : 1;
        s = t != NULL ? t + 1 : NULL;
    }
    return 0;
}

void api_page_q(const struct api_page *p, struct meta_list_q *q)
{
    memset(q, 0, sizeof(*q));
    q->name = p->has_name ? p->name : NULL;
    q->fuzzy = p->fuzzy;
    q->sort = p->sort[0] != '\0' ? p->sort : NULL;
    q->offset = (p->page - 1) * p->page_size;
    q->limit = (size_t)p->page_size;
}

/* url_escape appends s percent-encoded (RFC 3986 unreserved kept) */
static int url_escape(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char esc[3];

    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            if (buf_append(b, s, 1) < 0)
                return -1;
            continue;
        }
        esc[0] = '%';
        esc[1] = hex[ch >> 4];
        esc[2] = hex[ch & 15];
        if (buf_append(b, esc, 3) < 0)
            return -1;
    }
    return 0;
}

static int link_one(struct api_call *c, struct buf *b, int64_t page, int64_t page_size,
                    const char *rel)
{
    const char *q = req_query(c->r, "q");
    const char *sort = req_query(c->r, "sort");

    if (b->len > 0 && buf_appends(b, " , ") < 0)
        return -1;
    if (buf_printf(b, "<%s?page=%lld&page_size=%lld", c->r->url, (long long)page,
                   (long long)page_size) < 0)
        return -1;
    if (q != NULL && (buf_appends(b, "&q=") < 0 || url_escape(b, q) < 0))
        return -1;
    if (sort != NULL && (buf_appends(b, "&sort=") < 0 || url_escape(b, sort) < 0))
        return -1;
    return buf_printf(b, ">; rel=\"%s\"", rel);
}

int api_page_headers(struct api_call *c, const struct api_page *p, int64_t total)
{
    char n[24];
    struct buf b;
    int rc = 0;

    buf_init(&b, 8192);
    (void)snprintf(n, sizeof(n), "%lld", (long long)total); /* 24 bytes hold any int64 */
    if (api_add_header(c, "X-Total-Count", n) < 0)
        rc = -1;
    if (rc == 0 && p->page > 1 && link_one(c, &b, p->page - 1, p->page_size, "prev") < 0)
        rc = -1;
    if (rc == 0 && p->page * p->page_size < total &&
        link_one(c, &b, p->page + 1, p->page_size, "next") < 0)
        rc = -1;
    if (rc == 0 && b.len > 0 && api_add_header(c, "Link", b.data) < 0)
        rc = -1;
    buf_cleanup(&b);
    if (rc < 0)
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    return 0;
}

void api_array_push(json_t **arr, json_t *item)
{
    if (*arr == NULL) {
        json_decref(item); /* NULL is a no-op */
        return;
    }
    if (json_array_append_new(*arr, item) < 0) { /* takes item, also on failure */
        json_decref(*arr);
        *arr = NULL;
    }
}

int api_reply_page(struct api_call *c, json_t *arr, const struct api_page *p, int64_t total)
{
    int rc = api_reply_json(c, HTTP_OK, arr);

    if (rc == 0 && c->out->status == HTTP_OK)
        rc = api_page_headers(c, p, total);
    return rc;
}

/* ---- routing and authentication ---- */

/* split_path copies the segments of the path after /api/v2.0/ into c; -1 when too many or long */
static int split_path(struct api_call *c, const char *path)
{
    size_t used = 0;
    const char *s = path;
    const char *e;
    size_t len;

    c->nseg = 0;
    while (*s != '\0') {
        while (*s == '/')
            s++;
        if (*s == '\0')
            break;
        e = strchr(s, '/');
        len = e != NULL ? (size_t)(e - s) : strlen(s);
        if (c->nseg == API_MAX_SEGS || used + len + 1 > sizeof(c->segbuf))
            return -1;
        memcpy(c->segbuf + used, s, len);
        c->segbuf[used + len] = '\0';
        c->seg[c->nseg] = c->segbuf + used;
        c->seglen[c->nseg] = len;
        c->nseg++;
        used += len + 1;
        s += len;
    }
    return 0;
}

static int authenticate(struct api_call *c)
{
    const char *h = req_header(c->r, HTTP_HEADER_AUTHORIZATION);
    char addr[64];
    char retry[16];
    unsigned retry_s = 0;
    struct berr e;

    memset(&c->who, 0, sizeof(c->who));
    if (h == NULL)
        return 0;
    if (strncasecmp(h, "Basic ", 6) != 0)
        return api_fail(c, HTTP_UNAUTHORIZED, "unsupported authorization scheme") < 0 ? -1 : 1;
    authz_client_addr(c->r, addr, sizeof(addr));
    if (authn_basic_from(c->r->reg->authn, h, addr, &c->who, &retry_s, &e) < 0) {
        memset(&c->who, 0, sizeof(c->who));
        if (e.code == BERR_TOOMANYREQUESTS) {
            c->r->retry_after_s = retry_s;
            if (api_fail(c, HTTP_TOO_MANY_REQUESTS, "%s", e.msg) < 0)
                return -1;
            (void)snprintf(retry, sizeof(retry), "%u", retry_s); /* fits */
            if (retry_s > 0 && api_add_header(c, HTTP_HEADER_RETRY_AFTER, retry) < 0)
                return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error") < 0 ? -1 : 1;
            return 1;
        }
        if (e.code == BERR_UNAUTHORIZED)
            return api_fail(c, HTTP_UNAUTHORIZED, "%s", e.msg) < 0 ? -1 : 1;
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error") < 0 ? -1 : 1;
    }
    c->r->who = c->who;
    (void)snprintf(c->r->user, sizeof(c->r->user), "%s", c->who.name); /* same caps */
    return 0;
}

static int ping(struct api_call *c)
{
    c->out->resp = http_resp_bytes("Pong", 4, "text/plain; charset=utf-8");
    c->out->status = HTTP_OK;
    c->out->len = 4;
    return c->out->resp != NULL ? 0 : -1;
}

int api_handle_end(struct req *r, struct http_reply *out, int rc)
{
    if (rc < 0) {
        if (out->resp != NULL) {
            http_resp_free(out->resp);
            out->resp = NULL;
        }
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    }
    return 0;
}

int api_handle(struct req *r, struct http_reply *out)
{
    struct api_call *c;
    size_t plen = strlen(API_PREFIX);
    bool by_session = false;
    int rc;

    if (str_has_prefix(r->url, "/c/"))
        return api_session_handle(r, out); /* /c/login, /c/log_out */
    c = mem_calloc(1, sizeof(*c));
    if (c == NULL)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    c->r = r;
    c->out = out;
    if (strcmp(r->url, "/metrics") == 0) /* Prometheus' default path, handled as /metrics */
        plen = 0;
    else if (strncmp(r->url, API_PREFIX, plen) != 0 ||
             (r->url[plen] != '/' && r->url[plen] != '\0'))
        plen = SIZE_MAX;
    if (plen == SIZE_MAX || split_path(c, r->url + plen) < 0 || c->nseg == 0) {
        rc = api_fail(c, HTTP_NOT_FOUND, "not found");
        goto out;
    }
    if (c->nseg == 1 && strcmp(c->seg[0], "ping") == 0) {
        rc = r->method == HTTP_GET || r->method == HTTP_HEAD
                     ? ping(c)
                     : api_fail(c, HTTP_METHOD_NOT_ALLOWED, "method not allowed");
        goto out;
    }
    rc = authenticate(c);
    if (rc == 0 && api_anonymous(c))
        rc = api_session_auth(c, &by_session);
    if (rc != 0) {
        rc = rc < 0 ? -1 : 0;
        goto out;
    }
    if (strcmp(c->seg[0], "users") == 0)
        rc = api_users(c);
    else if (strcmp(c->seg[0], "projects") == 0)
        rc = api_projects(c);
    else if (strcmp(c->seg[0], "robots") == 0)
        rc = api_robots(c);
    else if (strcmp(c->seg[0], "quotas") == 0)
        rc = api_quotas(c);
    else if (strcmp(c->seg[0], "audit-logs") == 0)
        rc = api_audit_logs(c);
    else if (strcmp(c->seg[0], "system") == 0)
        rc = api_system(c);
    else if (api_content_dispatch(c, &rc) != 0) /* repositories, statistics, search, ... */
        rc = api_fail(c, HTTP_NOT_FOUND, "not found");
    if (rc == 0)
        api_audit_after(c);
    if (rc == 0 && by_session && api_session_token_header(c) < 0)
        rc = api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
out:
    mem_free(c);
    return api_handle_end(r, out, rc);
}
