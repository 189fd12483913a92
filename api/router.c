/* router.c - the management API's entry point: every request under /api/v2.0 (and the root
 * /metrics) goes through api_handle, which finds the row of api/routes.c, authenticates the
 * caller once, has api/guard.c check the row's permission, and only then runs the row's handler.
 *
 * Invariants:
 *   1. No handler runs before its row's permission is checked (api_guard); the only handlers
 *      run without authenticating are NOAUTH rows (GET /ping, a readiness probe, as Harbor).
 *   2. The caller is authenticated once per request, with HTTP Basic (users and robots,
 *      throttled per user and address like /v2/) or, without an Authorization header, the web
 *      UI's session cookie (api_session.c, CSRF-checked); neither is the anonymous caller.
 *      Passwords, secrets and Authorization values are never logged; the access log shows the
 *      path only.
 *   3. A path no row matches is 404, a path matched for another method 405, both after
 *      authentication (bad credentials are 401 wherever they go), except on NOAUTH paths.
 *   4. Every call ends here: its project (guard.c) is freed, a successful unsafe call is
 *      audited (api_audit.c), a session caller gets its CSRF token header.
 * /c/login and /c/log_out (web sessions, outside /api/v2.0) are handed to api_session.c before
 * any of this. Thread-safe: all state is per request. */
#include "api/mount.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/mem.h"
#include "common/util.h"
#include "api/api_ext.h"
#include "api/api_int.h"
#include "api/api_session.h"
#include "registry/authz.h"

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

/* authenticate: c->who from an Authorization: Basic header (none: anonymous, 0); -1 when the
 * credentials are refused (401, 429 with Retry-After: answered) or out of memory */
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
        return api_stop(api_fail(c, HTTP_UNAUTHORIZED, "unsupported authorization scheme"));
    authz_client_addr(c->r, addr, sizeof(addr));
    if (authn_basic_from(c->r->reg->authn, h, addr, &c->who, &retry_s, &e) < 0) {
        memset(&c->who, 0, sizeof(c->who));
        if (e.code == BERR_TOOMANYREQUESTS) {
            c->r->retry_after_s = retry_s;
            if (api_fail(c, HTTP_TOO_MANY_REQUESTS, "%s", e.msg) < 0)
                return -1;
            (void)snprintf(retry, sizeof(retry), "%u", retry_s); /* fits */
            if (retry_s > 0 && api_add_header(c, HTTP_HEADER_RETRY_AFTER, retry) < 0)
                return api_stop(api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error"));
            return -1; /* answered */
        }
        if (e.code == BERR_UNAUTHORIZED)
            return api_stop(api_fail(c, HTTP_UNAUTHORIZED, "%s", e.msg));
        return api_stop(api_fail_berr(c, &e)); /* 503 while the database is away */
    }
    c->r->who = c->who;
    (void)snprintf(c->r->user, sizeof(c->r->user), "%s", c->who.name); /* same caps */
    return 0;
}

/* dispatch: everything after the path is split */
static int dispatch(struct api_call *c)
{
    bool by_session = false;
    bool noauth = false;
    unsigned status = HTTP_NOT_FOUND;
    int rc;

    c->route = api_route_match(c->r->method, c->seg, c->nseg, &status, &noauth);
    if (c->route == NULL && noauth)
        return api_fail(c, status, status == HTTP_NOT_FOUND ? "not found" : "method not allowed");
    if (c->route != NULL && c->route->scope == RBAC_SCOPE_NOAUTH)
        return c->route->fn(c);
    rc = authenticate(c);
    if (rc == 0 && api_anonymous(c))
        rc = api_session_auth(c, &by_session);
    if (rc < 0)
        return -1; /* refused (answered) or out of memory */
    if (c->route == NULL)
        return api_fail(c, status, status == HTTP_NOT_FOUND ? "not found" : "method not allowed");
    rc = api_guard(c);
    if (rc == 0)
        rc = c->route->fn(c);
    if (rc < 0 && c->answered && c->out->resp != NULL)
        rc = 0; /* stopped with an error reply built */
    if (rc == 0)
        api_audit_after(c);
    if (rc == 0 && by_session && api_session_token_header(c) < 0)
        rc = api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    return rc;
}

int api_handle(struct req *r, struct http_reply *out)
{
    struct api_call *c;
    size_t plen = strlen(API_PREFIX);
    int rc;

    if (str_has_prefix(r->url, "/c/"))
        return api_session_handle(r, out); /* /c/login, /c/log_out */
    c = mem_calloc(1, sizeof(*c));
    if (c == NULL)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    c->r = r;
    c->out = out;
    if (strcmp(r->url, "/metrics") == 0) /* Prometheus' default path, served as /metrics */
        plen = 0;
    else if (strncmp(r->url, API_PREFIX, plen) != 0 ||
             (r->url[plen] != '/' && r->url[plen] != '\0'))
        plen = SIZE_MAX;
    if (plen == SIZE_MAX || split_path(c, r->url + plen) < 0 || c->nseg == 0)
        rc = api_fail(c, HTTP_NOT_FOUND, "not found");
    else
        rc = dispatch(c);
    if (rc < 0 && c->answered && c->out->resp != NULL)
        rc = 0;
    mem_free(c->proj);
    mem_free(c);
    return api_handle_end(r, out, rc);
}
