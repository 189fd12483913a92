/* fake.c - the test double of the HTTP seam (http/fake.h): a request source built from strings
 * and a driver that calls a handler the way http/server.c does.
 *
 * A fake request keeps three lists of (name, value) pairs - headers, query arguments, cookies -
 * each pair one allocation "name\0value\0" (value NULL for a query argument without '='), and
 * the body in one block.
 * Invariants:
 *   1. The driver keeps the core's order: begin, then (only when begin asked for the body) data
 *      for each piece in order until one fails, then end; done exactly once, last.
 *   2. A reply with no response becomes the core's 500 internal-error body.
 *   3. A result's body is what the wire would carry: the bytes held, the file range read back
 *      with pread, nothing for HEAD; len is the Content-Length.
 * Thread-safety: a fake and its results belong to one thread; the request-id counter is atomic. */
#include "http/fake.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/mem.h"

#define FAKE_ADDR_MAX 64

struct pair {
    char *name;
    char *value; /* NULL: a query argument without '=' */
};

struct pairs {
    struct pair *v;
    size_t n;
};

struct http_fake {
    struct http_req hr;
    char *method;
    char *path;
    struct pairs headers, query, cookies;
    char *body;
    size_t body_len;
    bool body_set;
    char addr[FAKE_ADDR_MAX];
    char len_text[24]; /* Content-Length made from the body */
};

static _Atomic unsigned long fake_counter; /* request ids, the only shared state */

/* pairs_add copies name[0..nl) and value[0..vl) (value NULL: none) into one block. */
static int pairs_add(struct pairs *ps, const char *name, size_t nl, const char *value, size_t vl)
{
    struct pair *nv = mem_realloc(ps->v, (ps->n + 1) * sizeof(*nv));
    char *block;

    if (nv == NULL)
        return -1;
    ps->v = nv;
    block = mem_malloc(nl + 1 + (value != NULL ? vl + 1 : 0));
    if (block == NULL)
        return -1;
    memcpy(block, name, nl);
    block[nl] = '\0';
    nv[ps->n].name = block;
    nv[ps->n].value = NULL;
    if (value != NULL) {
        nv[ps->n].value = block + nl + 1;
        memcpy(nv[ps->n].value, value, vl);
        nv[ps->n].value[vl] = '\0';
    }
    ps->n++;
    return 0;
}

static void pairs_free(struct pairs *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        mem_free(ps->v[i].name);
    mem_free(ps->v);
    ps->v = NULL;
    ps->n = 0;
}

static const struct pair *pairs_find(const struct pairs *ps, const char *name, bool nocase)
{
    for (size_t i = 0; i < ps->n; i++) {
        if ((nocase ? strcasecmp(ps->v[i].name, name) : strcmp(ps->v[i].name, name)) == 0)
            return &ps->v[i];
    }
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* unescape decodes %XX in place (an incomplete or non-hex escape stays as it is), and '+' as a
 * space when plus is set; returns the new length. As MHD_http_unescape (with MHD_unescape_plus
 * first for query arguments). */
static size_t unescape(char *s, size_t len, bool plus)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            s[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (plus && s[i] == '+') {
            s[o++] = ' ';
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = '\0';
    return o;
}

static int parse_query(struct http_fake *f, const char *q)
{
    while (*q != '\0') {
        size_t len = strcspn(q, "&");
        char *arg = mem_strndup(q, len);
        char *eq;
        size_t nl, vl = 0;
        int rc;

        if (arg == NULL)
            return -1;
        eq = strchr(arg, '=');
        if (eq != NULL) {
            *eq = '\0';
            vl = unescape(eq + 1, strlen(eq + 1), true);
        }
        nl = unescape(arg, strlen(arg), true);
        rc = pairs_add(&f->query, arg, nl, eq != NULL ? eq + 1 : NULL, vl);
        mem_free(arg);
        if (rc < 0)
            return -1;
        q += len;
        if (*q == '&')
            q++;
    }
    return 0;
}

/* ---- the request source ---- */

static const char *fake_header(void *impl, const char *name)
{
    struct http_fake *f = impl;
    const struct pair *p = pairs_find(&f->headers, name, true);

    if (p != NULL)
        return p->value;
    if (f->body_set && f->body_len > 0 && strcasecmp(name, HTTP_HEADER_CONTENT_LENGTH) == 0 &&
        pairs_find(&f->headers, HTTP_HEADER_TRANSFER_ENCODING, true) == NULL)
        return f->len_text;
    return NULL;
}

static const char *fake_query(void *impl, const char *name)
{
    struct http_fake *f = impl;
    const struct pair *p = pairs_find(&f->query, name, false);

    return p != NULL ? p->value : NULL;
}

static int fake_query_each(void *impl, const char *name, int (*fn)(const char *value, void *ctx),
                           void *ctx)
{
    struct http_fake *f = impl;

    for (size_t i = 0; i < f->query.n; i++) {
        int rc;
        if (strcmp(f->query.v[i].name, name) != 0)
            continue;
        rc = fn(f->query.v[i].value != NULL ? f->query.v[i].value : "", ctx);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static const char *fake_cookie(void *impl, const char *name)
{
    struct http_fake *f = impl;
    const struct pair *p = pairs_find(&f->cookies, name, false);

    return p != NULL ? p->value : NULL;
}

static void fake_client_addr(void *impl, char *out, size_t cap)
{
    struct http_fake *f = impl;

    if (snprintf(out, cap, "%s", f->addr) >= (int)cap)
        out[0] = '\0'; /* as the core: unknown rather than cut */
}

static const struct http_req_ops fake_ops = {
        .header = fake_header,
        .query = fake_query,
        .query_each = fake_query_each,
        .cookie = fake_cookie,
        .client_addr = fake_client_addr,
};

/* ---- building a request ---- */

struct http_fake *http_fake_new(const char *method, const char *target)
{
    struct http_fake *f = mem_calloc(1, sizeof(*f));
    size_t plen = strcspn(target, "?");

    if (f == NULL)
        return NULL;
    f->method = mem_strdup(method);
    f->path = mem_strndup(target, plen);
    if (f->method == NULL || f->path == NULL)
        goto fail;
    /* an encoded NUL cuts the decoded path there, as in libmicrohttpd; the core flags it */
    f->hr.path_nul = unescape(f->path, plen, false) != strlen(f->path);
    if (target[plen] == '?' && parse_query(f, target + plen + 1) < 0)
        goto fail;
    f->hr.method = http_method_of(f->method);
    f->hr.method_str = f->method;
    f->hr.path = f->path;
    f->hr.ops = &fake_ops;
    f->hr.impl = f;
    /* fits: 4 + 12 hex digits */
    (void)snprintf(f->hr.reqid, sizeof(f->hr.reqid), "fake%012lx",
                   atomic_fetch_add(&fake_counter, 1) + 1);
    return f;
fail:
    http_fake_free(f);
    return NULL;
}

int http_fake_header(struct http_fake *f, const char *name, const char *value)
{
    return pairs_add(&f->headers, name, strlen(name), value, strlen(value));
}

int http_fake_cookie(struct http_fake *f, const char *name, const char *value)
{
    return pairs_add(&f->cookies, name, strlen(name), value, strlen(value));
}

int http_fake_client(struct http_fake *f, const char *addr)
{
    size_t n = strlen(addr);

    if (n >= sizeof(f->addr))
        return -1;
    memcpy(f->addr, addr, n + 1);
    return 0;
}

void http_fake_tls(struct http_fake *f, bool on)
{
    f->hr.tls = on;
}

void http_fake_trusted_proxy(struct http_fake *f, bool on)
{
    f->hr.proxy_trusted = on;
}

int http_fake_body(struct http_fake *f, const void *data, size_t len)
{
    char *copy = mem_malloc(len + 1);

    if (copy == NULL)
        return -1;
    if (len > 0)
        memcpy(copy, data, len);
    copy[len] = '\0';
    mem_free(f->body);
    f->body = copy;
    f->body_len = len;
    f->body_set = true;
    (void)snprintf(f->len_text, sizeof(f->len_text), "%zu", len); /* fits: 20 digits */
    return 0;
}

struct http_req *http_fake_req(struct http_fake *f)
{
    return &f->hr;
}

void http_fake_free(struct http_fake *f)
{
    if (f == NULL)
        return;
    pairs_free(&f->headers);
    pairs_free(&f->query);
    pairs_free(&f->cookies);
    mem_free(f->body);
    mem_free(f->path);
    mem_free(f->method);
    mem_free(f);
}

/* ---- running a handler ---- */

static const char internal_body[] =
        "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"internal error\"}]}";
static const char not_found_body[] =
        "{\"errors\":[{\"code\":\"NOT_FOUND\",\"message\":\"not found\"}]}";

/* read_range reads [off, off+len) of fd into a new block. */
static int read_range(char **out, int fd, uint64_t off, uint64_t len)
{
    char *b;
    size_t got = 0;

    *out = NULL;
    if (len > SIZE_MAX - 1)
        return -1;
    b = mem_malloc((size_t)len + 1);
    if (b == NULL)
        return -1;
    while (got < len) {
        ssize_t n = pread(fd, b + got, (size_t)len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) { /* a short file: the core would cut the connection */
            mem_free(b);
            return -1;
        }
        got += (size_t)n;
    }
    b[got] = '\0';
    *out = b;
    return 0;
}

/* capture turns the reply into *out (takes rep's response). */
static int capture(struct http_fake_result *out, struct http_reply *rep, bool head)
{
    out->reply_len = rep->len;
    if (rep->resp == NULL) {
        rep->resp = http_resp_json(internal_body, sizeof(internal_body) - 1);
        rep->status = HTTP_INTERNAL_SERVER_ERROR;
        if (rep->resp == NULL)
            return -1;
    }
    out->status = rep->status;
    out->resp = rep->resp;
    rep->resp = NULL;
    out->kind = http_resp_kind(out->resp);
    out->len = http_resp_len(out->resp);
    if (!head && out->kind == HTTP_BODY_FD) {
        uint64_t off;
        int fd = http_resp_fd_of(out->resp, &off);
        if (read_range(&out->body, fd, off, out->len) < 0)
            return -1;
        out->body_len = (size_t)out->len;
        return 0;
    }
    if (!head && out->kind == HTTP_BODY_STREAM) {
        http_stream_fn fn;
        http_stream_free_fn free_fn;
        void *sctx;
        uint64_t pos = 0;

        http_resp_stream_of(out->resp, &fn, &free_fn, &sctx);
        (void)free_fn;
        if (out->len > SIZE_MAX - 1 || (out->body = mem_malloc((size_t)out->len + 1)) == NULL)
            return -1;
        while (pos < out->len) {
            size_t want = out->len - pos < 65536 ? (size_t)(out->len - pos) : 65536;
            long n = fn(sctx, pos, out->body + pos, want);

            if (n <= 0)
                return -1;
            pos += (uint64_t)n;
        }
        out->body[pos] = '\0';
        out->body_len = (size_t)pos;
        return 0;
    }
    if (!head && out->kind == HTTP_BODY_MEM) {
        size_t n;
        const char *b = http_resp_body(out->resp, &n);
        out->body = mem_malloc(n + 1);
        if (out->body == NULL)
            return -1;
        memcpy(out->body, b, n);
        out->body[n] = '\0';
        out->body_len = n;
        return 0;
    }
    out->body = mem_strdup("");
    return out->body != NULL ? 0 : -1;
}

int http_fake_run(struct http_fake_result *out, const struct http_handler *h, void *ctx,
                  struct http_fake *f, size_t piece)
{
    struct http_reply rep = {0};
    void *state = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    f->hr.user[0] = '\0';
    if (h->begin(ctx, &f->hr, &state, &rep) == HTTP_ANSWERED) {
        out->answered_at_begin = true;
        out->body_dropped = f->body_len;
    } else {
        size_t off = 0;
        size_t step = piece > 0 ? piece : (f->body_len > 0 ? f->body_len : 1);
        while (off < f->body_len) {
            size_t n = f->body_len - off < step ? f->body_len - off : step;
            out->data_calls++;
            if (h->data(state, f->body + off, n) < 0) {
                out->data_failed = true;
                off += n;
                out->body_dropped = f->body_len - off;
                break;
            }
            off += n;
        }
        h->end(state, &rep);
    }
    rc = capture(out, &rep, f->hr.method == HTTP_HEAD);
    http_reply_drop(&rep);
    h->done(state);
    memcpy(out->user, f->hr.user, sizeof(out->user));
    if (rc < 0)
        http_fake_result_cleanup(out);
    return rc;
}

int http_fake_serve(struct http_fake_result *out, const struct http_mount *mounts, size_t n,
                    struct http_fake *f, size_t piece)
{
    const struct http_mount *m = http_mount_find(mounts, n, f->hr.path);
    struct http_reply rep = {0};
    int rc;

    if (m != NULL)
        return http_fake_run(out, m->handler, m->ctx, f, piece);
    memset(out, 0, sizeof(*out));
    out->answered_at_begin = true;
    out->body_dropped = f->body_len;
    rep.resp = http_resp_json(not_found_body, sizeof(not_found_body) - 1);
    rep.status = HTTP_NOT_FOUND;
    rep.len = sizeof(not_found_body) - 1;
    if (rep.resp == NULL)
        return -1;
    rc = capture(out, &rep, f->hr.method == HTTP_HEAD);
    http_reply_drop(&rep);
    if (rc < 0)
        http_fake_result_cleanup(out);
    return rc;
}

const char *http_fake_get(const struct http_fake_result *res, const char *name)
{
    return res->resp != NULL ? http_resp_get(res->resp, name) : NULL;
}

void http_fake_result_cleanup(struct http_fake_result *res)
{
    http_resp_free(res->resp);
    mem_free(res->body);
    memset(res, 0, sizeof(*res));
}
