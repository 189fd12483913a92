/* api.c - the reply, body and paging helpers every management API handler shares (api_int.h):
 * Harbor's error body, JSON replies, typed JSON field readers, page/page_size/q/sort and the
 * X-Total-Count and Link headers of paged listings.
 *
 * Invariants:
 *   1. Every answer, errors included, is built here in Harbor's format
 *      {"errors":[{"code":"NOT_FOUND","message":"..."}]}; a handler never returns a storage
 *      error to the server's registry-format error path. api_fail marks the call answered.
 *   2. A client's fault is 400/401/403/404/409/412, never 500: bodies are parsed with jansson
 *      (duplicates rejected) and every field's type is checked before use.
 *   3. Nothing here calls a handler or the router: this file is the bottom of api/.
 * Thread-safe: all state is per request. */
#include "api/api_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/pulls.h"

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
    case HTTP_INSUFFICIENT_STORAGE:
        return "INSUFFICIENT_STORAGE";
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
        c->answered = c->out->resp != NULL;
        return c->answered ? 0 : -1;
    }
    json_decref(j);
    rc = reply_text(c, status, text, len);
    mem_free(text);
    c->answered = rc == 0;
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
    case BERR_STORAGE_FULL:
        return api_fail(c, HTTP_INSUFFICIENT_STORAGE, "%s", e->msg);
    case BERR_UNAVAILABLE:
        return api_fail(c, HTTP_SERVICE_UNAVAILABLE, "%s", e->msg);
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

/* ---- request input ---- */

int api_body(struct api_call *c, json_t **out)
{
    json_error_t je;
    json_t *j;

    *out = NULL;
    if (c->r->body.len == 0) {
        (void)api_fail(c, HTTP_BAD_REQUEST, "a JSON body is required");
        return -1;
    }
    j = json_loadb(c->r->body.data, c->r->body.len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        (void)api_fail(c, HTTP_BAD_REQUEST, "invalid JSON: %s", je.text);
        return -1;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        (void)api_fail(c, HTTP_BAD_REQUEST, "the body must be a JSON object");
        return -1;
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

#define Q_EF (PARSE_Q_EXACT | PARSE_Q_FUZZY)

const struct parse_q_key api_q_none[] = {{NULL, 0}};
const struct parse_q_key api_q_name[] = {{"name", Q_EF}, {NULL, 0}};
const struct parse_q_key api_q_projects[] = {{"name", Q_EF}, {"public", PARSE_Q_EXACT}, {NULL, 0}};
const struct parse_q_key api_q_robots[] = {
        {"name", Q_EF}, {"Level", PARSE_Q_EXACT}, {"ProjectID", PARSE_Q_EXACT}, {NULL, 0}};
const struct parse_q_key api_q_users[] = {{"username", Q_EF}, {NULL, 0}};
const struct parse_q_key api_q_members[] = {{"entityname", Q_EF}, {NULL, 0}};
const struct parse_q_key api_q_artifacts[] = {{"tags", Q_EF}, {"digest", PARSE_Q_EXACT}, {NULL, 0}};

static int bad(struct api_call *c, const char *msg)
{
    (void)api_fail(c, HTTP_BAD_REQUEST, "%s", msg);
    return -1;
}

/* page_q reads the terms api_page knows from p->q */
static int page_q(struct api_call *c, const char *name_key, struct api_page *p)
{
    const struct parse_q_term *t;

    t = name_key != NULL ? parse_q_find(&p->q, name_key) : NULL;
    if (t != NULL) {
        if (strlen(t->v[0]) > REPO_NAME_MAX)
            return bad(c, "invalid q");
        memcpy(p->name, t->v[0], strlen(t->v[0]) + 1);
        p->has_name = true;
        p->fuzzy = t->kind == PARSE_Q_FUZZY;
    }
    t = parse_q_find(&p->q, "public");
    if (t != NULL) {
        if (strcmp(t->v[0], "true") == 0)
            p->public_only = 1;
        else if (strcmp(t->v[0], "false") == 0)
            p->public_only = 0;
        else
            return bad(c, "invalid q");
    }
    t = parse_q_find(&p->q, "Level");
    if (t != NULL) {
        if (strlen(t->v[0]) >= sizeof(p->level))
            return bad(c, "invalid q");
        memcpy(p->level, t->v[0], strlen(t->v[0]) + 1);
    }
    t = parse_q_find(&p->q, "ProjectID");
    if (t != NULL && !api_parse_id(t->v[0], strlen(t->v[0]), &p->project_id))
        return bad(c, "invalid q");
    return 0;
}

int api_page_parse(struct api_call *c, const struct parse_q_key *keys, const char *name_key,
                   struct api_page *p)
{
    struct parse_paging pg;
    struct berr e;
    const char *s;

    memset(p, 0, sizeof(*p));
    p->public_only = -1;
    if (parse_paging(&pg, req_query(c->r, "page"), req_query(c->r, "page_size"),
                     API_PAGE_SIZE_DEFAULT, API_PAGE_SIZE_MAX, &e) < 0)
        return bad(c, e.msg);
    p->page = pg.page;
    p->page_size = pg.page_size;
    s = req_query(c->r, "sort");
    if (s != NULL) {
        if (strlen(s) >= sizeof(p->sort))
            return bad(c, "unknown sort key");
        memcpy(p->sort, s, strlen(s) + 1);
    }
    if (parse_q(&p->q, req_query(c->r, "q"), keys, &e) < 0)
        return bad(c, e.msg);
    return page_q(c, name_key, p);
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

/* ---- pending pull counts read with the database ---- */

void (*api_pulls_test_between)(struct api_call *c);

uint64_t api_pulls_begin(struct api_call *c, int try_n)
{
    struct pulls *p = c->r->reg->pulls;
    struct berr e;

    if (p == NULL)
        return 0;
    if (try_n > 0)
        usleep(1000); /* a flush was writing: it ends within milliseconds */
    if (try_n >= API_PULLS_READ_TRIES - 1 && pulls_flush(p, NULL, &e) < 0)
        log_msg(LOG_WARN, "pulls: read-your-writes flush failed: %s", e.msg);
    return pulls_epoch(p);
}

void api_pulls_between(struct api_call *c)
{
    if (api_pulls_test_between != NULL)
        api_pulls_test_between(c);
}

bool api_pulls_steady(struct api_call *c, uint64_t ep, int try_n)
{
    struct pulls *p = c->r->reg->pulls;

    if (p == NULL || try_n >= API_PULLS_READ_TRIES - 1)
        return true;
    return ep != 0 && ep == pulls_epoch(p);
}

int api_reply_pulls_page(struct api_call *c, const struct api_page *pg, size_t elem,
                         api_rows_read_fn read, api_row_json_fn row_json, void *ctx)
{
    struct berr e = {0};
    json_t *arr = NULL;
    int64_t total = 0;
    size_t n = 0;
    size_t i;
    char *rows;
    int rc;

    rows = mem_calloc(API_PAGE_SIZE_MAX, elem);
    if (rows == NULL)
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    for (int t = 0;; t++) { /* the page and its pending counts with no flush between */
        uint64_t ep = api_pulls_begin(c, t);

        if (read(c, rows, API_PAGE_SIZE_MAX, &n, &total, &e, ctx) < 0) {
            rc = api_fail_berr(c, &e);
            goto out;
        }
        api_pulls_between(c);
        arr = json_array();
        for (i = 0; arr != NULL && i < n; i++)
            api_array_push(&arr, row_json(c, rows + i * elem, ctx));
        if (arr == NULL || api_pulls_steady(c, ep, t))
            break;
        json_decref(arr);
        arr = NULL;
    }
    rc = api_reply_page(c, arr, pg, total);
out:
    mem_free(rows);
    return rc;
}
