/* access.c - who may call a /v2/ endpoint, and the challenge that tells a client how to log in.
 *
 * Each route and method needs actions on its repository (SCOPE_ACT_* bits):
 *   pull    GET/HEAD of manifests and blobs, tags list, referrers
 *   push    POST/PATCH/PUT of uploads (GET and DELETE of an upload session too: they belong to
 *           the upload), PUT of manifests
 *   delete  DELETE of manifests and blobs
 * GET /v2/ needs valid credentials only; _catalog needs an authenticated caller
 * (auth/rbac.h: the handler then lists only what the caller may pull).
 *
 * Credentials and answers:
 *   none      Anonymous. Allowed when anonymous callers may do it (pull on a public project),
 *             without a challenge so `curl` works; otherwise 401 UNAUTHORIZED with
 *             Bearer realm="<scheme>://<host>/service/token",service="...",scope="..." (the
 *             scope names what the request needs; none for GET /v2/).
 *   Basic     Users and robots (auth/authn.h), throttled per user and client address (429
 *             TOOMANYREQUESTS with Retry-After). Wrong credentials: 401 with Basic realm="berth"
 *             (Harbor's answer when an Authorization header was sent). Valid but not allowed:
 *             403 DENIED - credentials are fixed, a new challenge would not help.
 *   Bearer    A token from /service/token: signature, exp/nbf (60 s leeway), iss and aud; its
 *             access claims alone decide, and a token issued before the repository's project
 *             was created is refused. Invalid: 401 with a Bearer challenge and
 *             error="invalid_token"; not enough: 401 with error="insufficient_scope" and the
 *             scope needed, which docker, containerd and containers/image answer by fetching a
 *             new token once (distribution's behaviour).
 * Invariants:
 *   1. No path through access_check returns 0 without every needed action granted.
 *   2. The challenge holds only server-made text: the realm's host comes from cfg->public_url
 *      or a Host header checked against a strict character set, the name from the parsed
 *      repository.
 * No shared state. */
#include "registry/req.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/rbac.h"
#include "auth/scope.h"
#include "auth/token.h"
#include "common/log.h"
#include "common/util.h"
#include "registry/audit_hook.h"
#include "registry/authz.h"
#include "storage/meta.h"

#define ACCESS_CATALOG 0x100u /* pseudo action: the route is /v2/_catalog */

/* needed returns the actions the request needs on r->name (0 for GET /v2/). */
static unsigned needed(const struct req *r)
{
    switch (r->route) {
    case ROUTE_CATALOG:
        return ACCESS_CATALOG;
    case ROUTE_TAGS:
    case ROUTE_REFERRERS:
        return SCOPE_ACT_PULL;
    case ROUTE_BLOB:
    case ROUTE_MANIFEST:
        if (r->method == HTTP_DELETE)
            return SCOPE_ACT_DELETE;
        if (r->method == HTTP_PUT || r->method == HTTP_POST || r->method == HTTP_PATCH)
            return SCOPE_ACT_PUSH;
        return SCOPE_ACT_PULL;
    case ROUTE_UPLOAD_START:
    case ROUTE_UPLOAD:
        return SCOPE_ACT_PUSH;
    default:
        break;
    }
    return 0;
}

/* host_ok: a Host header safe to put in a quoted challenge parameter. */
static bool host_ok(const char *h)
{
    size_t n = strlen(h);

    if (n == 0 || n > 255)
        return false;
    for (; *h != '\0'; h++) {
        char c = *h;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'))
            return false;
    }
    return true;
}

/* set_bearer_challenge writes the Bearer challenge into r->challenge. scope may be NULL;
 * error may be NULL ("invalid_token", "insufficient_scope"). */
static void set_bearer_challenge(struct req *r, const char *scope, const char *error)
{
    const struct berth_config *cfg = r->reg->cfg;
    char realm[CONFIG_STR_MAX + 64];
    const char *host;
    size_t plen;
    int n;

    if (cfg->public_url[0] != '\0') {
        plen = strlen(cfg->public_url);
        while (plen > 0 && cfg->public_url[plen - 1] == '/')
            plen--;
        n = snprintf(realm, sizeof(realm), "%.*s/service/token", (int)plen, cfg->public_url);
    } else {
        /* a trusted proxy's X-Forwarded-Host names the host the client used */
        host = r->http != NULL ? http_forwarded(r->http, "Host") : NULL;
        if (host == NULL || !host_ok(host))
            host = req_header(r, HTTP_HEADER_HOST);
        if (host == NULL || !host_ok(host))
            host = cfg->listen;
        n = snprintf(realm, sizeof(realm), "%s://%s/service/token",
                     r->http != NULL && http_req_https(r->http) ? "https" : "http", host);
    }
    if (n < 0 || (size_t)n >= sizeof(realm))
        realm[0] = '\0';
    n = snprintf(r->challenge, sizeof(r->challenge), "Bearer realm=\"%s\",service=\"%s\"%s%s%s%s%s",
                 realm, cfg->token_service, scope != NULL ? ",scope=\"" : "",
                 scope != NULL ? scope : "", scope != NULL ? "\"" : "",
                 error != NULL ? ",error=\"" : "", error != NULL ? error : "");
    if (n < 0 || (size_t)n + 1 >= sizeof(r->challenge)) {
        /* cannot happen with the config's caps; a challenge without scope still works */
        (void)snprintf(r->challenge, sizeof(r->challenge), "Bearer realm=\"%s\",service=\"%s\"",
                       realm, cfg->token_service);
        return;
    }
    if (error != NULL)
        memcpy(r->challenge + n, "\"", 2);
}

/* scope_of writes the scope a client should ask for to do `need` on r. */
static void scope_of(const struct req *r, unsigned need, char *out, size_t cap)
{
    const char *acts = "pull";
    int n;

    if (need == ACCESS_CATALOG) {
        n = snprintf(out, cap, "registry:catalog:*");
    } else {
        if (need & SCOPE_ACT_DELETE)
            acts = "delete";
        else if (need & SCOPE_ACT_PUSH)
            acts = "pull,push"; /* what docker and distribution ask for a push */
        n = snprintf(out, cap, "repository:%s:%s", r->name.s, acts);
    }
    if (n < 0 || (size_t)n >= cap)
        out[0] = '\0';
}

static int refuse_bearer(struct req *r, unsigned need, const char *error, const char *msg)
{
    char scope[REPO_NAME_MAX + 64];

    if (need != 0) {
        scope_of(r, need, scope, sizeof(scope));
        set_bearer_challenge(r, scope[0] != '\0' ? scope : NULL, error);
    } else {
        set_bearer_challenge(r, NULL, error);
    }
    return berr_set(&r->err, BERR_UNAUTHORIZED, "%s", msg);
}

/* project_created: the creation time of the project of repo, 0 when it does not exist. */
static int project_created(struct req *r, const struct repo_name *repo, int64_t *created)
{
    char project[REPO_NAME_MAX + 1];
    struct meta_project_info p;
    struct berr e;

    *created = 0;
    repo_name_project(repo, project, sizeof(project));
    if (meta_project_get(r->reg->meta, project, &p, &e) == 0) {
        *created = p.p.created_at;
        return 0;
    }
    if (e.code == BERR_NAME_UNKNOWN || e.code == BERR_NOT_FOUND)
        return 0;
    r->err = e;
    return -1;
}

/* claims_allow: the token grants every bit of need on repo (and is not older than the
 * repository's project). *stale is set when it is older. */
static int claims_allow(struct req *r, const struct tok_claims *c, const struct repo_name *repo,
                        unsigned need, bool *ok, bool *stale)
{
    int64_t created;

    *ok = false;
    *stale = false;
    for (unsigned bit = 1; bit <= SCOPE_ACT_DELETE; bit <<= 1) {
        if ((need & bit) && !tok_claims_allows(c, "repository", repo->s, bit))
            return 0;
    }
    if (project_created(r, repo, &created) < 0)
        return -1;
    if (created > 0 && c->iat < created) {
        *stale = true;
        return 0;
    }
    *ok = true;
    return 0;
}

static bool catalog_claim(const struct tok_claims *c)
{
    for (size_t i = 0; i < c->n_access; i++) {
        if (strcmp(c->access[i].type, "registry") == 0 &&
            strcmp(c->access[i].name, "catalog") == 0 && c->access[i].actions != 0)
            return true;
    }
    return false;
}

static int check_bearer(struct req *r, const char *h, unsigned need)
{
    const struct berth_config *cfg = r->reg->cfg;
    struct tok_claims c;
    struct berr e;
    bool ok = false, stale = false;
    int rc;

    if (r->reg->tokring == NULL)
        return refuse_bearer(r, need, "invalid_token", "token service not configured");
    if (authn_bearer(r->reg->authn, r->reg->tokring, h, cfg->token_issuer, cfg->token_service, &c,
                     &r->who, &e) < 0) {
        tok_claims_cleanup(&c);
        if (e.code != BERR_UNAUTHORIZED) {
            r->err = e;
            return -1;
        }
        return refuse_bearer(r, need, "invalid_token", e.msg);
    }
    /* GET /v2/ (need 0): a valid token is enough */
    rc = 0;
    if (need == ACCESS_CATALOG) {
        if (!catalog_claim(&c))
            rc = refuse_bearer(r, need, "insufficient_scope",
                               "requested access to the resource is denied");
    } else if (need != 0) {
        if (claims_allow(r, &c, &r->name, need, &ok, &stale) < 0)
            rc = -1;
        else if (stale)
            rc = refuse_bearer(r, need, "invalid_token",
                               "token issued before the project was created");
        else if (!ok)
            rc = refuse_bearer(r, need, "insufficient_scope",
                               "requested access to the resource is denied");
    }
    tok_claims_cleanup(&c);
    return rc;
}

static int check_principal(struct req *r, unsigned need, bool *ok)
{
    char project[REPO_NAME_MAX + 1];
    unsigned acts = 0;
    int64_t created;

    *ok = false;
    if (need == 0) {
        *ok = true;
        return 0;
    }
    if (need == ACCESS_CATALOG) {
        *ok = rbac_catalog_allowed(r->who.kind == PRINCIPAL_USER    ? RBAC_USER
                                   : r->who.kind == PRINCIPAL_ROBOT ? RBAC_ROBOT
                                                                    : RBAC_ANONYMOUS);
        return 0;
    }
    repo_name_project(&r->name, project, sizeof(project));
    if (authz_project_actions(r->reg, &r->who, project, &acts, &created, &r->err) < 0)
        return -1;
    *ok = (acts & need) == need;
    return 0;
}

int access_check(struct req *r)
{
    const char *h = req_header(r, HTTP_HEADER_AUTHORIZATION);
    unsigned need = needed(r);
    char addr[64];
    bool ok = false;
    struct berr e;

    memset(&r->who, 0, sizeof(r->who));
    r->user[0] = '\0';
    r->retry_after_s = 0;
    if (h == NULL) {
        if (need != 0 && need != ACCESS_CATALOG) {
            if (check_principal(r, need, &ok) < 0)
                return -1;
            if (ok)
                return 0;
        }
        return refuse_bearer(r, need, NULL, "authentication required");
    }
    if (strncasecmp(h, "Bearer ", 7) == 0) {
        if (check_bearer(r, h, need) < 0)
            return -1;
        (void)snprintf(r->user, sizeof(r->user), "%s", r->who.name); /* same caps */
        return 0;
    }
    if (strncasecmp(h, "Basic ", 6) != 0)
        return refuse_bearer(r, need, NULL, "unsupported authorization scheme");
    authz_client_addr(r, addr, sizeof(addr));
    if (authn_basic_from(r->reg->authn, h, addr, &r->who, &r->retry_after_s, &e) < 0) {
        r->err = e;
        if (e.code == BERR_UNAUTHORIZED) {
            (void)snprintf(r->challenge, sizeof(r->challenge), "Basic realm=\"berth\"");
            req_audit_login_failed(r, NULL);
        }
        return -1;
    }
    (void)snprintf(r->user, sizeof(r->user), "%s", r->who.name); /* same caps */
    if (check_principal(r, need, &ok) < 0)
        return -1;
    if (!ok)
        return berr_set(&r->err, BERR_DENIED, "requested access to the resource is denied");
    return 0;
}

bool access_repo_allows(struct req *r, const struct repo_name *repo, unsigned actions)
{
    char project[REPO_NAME_MAX + 1];
    unsigned acts = 0;
    int64_t created;
    struct berr e;
    bool ok = false, stale = false;

    if (r->who.bearer) {
        const char *h = req_header(r, HTTP_HEADER_AUTHORIZATION);
        const struct berth_config *cfg = r->reg->cfg;
        struct principal who;
        struct tok_claims c;

        if (h == NULL || r->reg->tokring == NULL)
            return false;
        /* the token verified in access_check; verify again rather than keep claims around */
        if (authn_bearer(r->reg->authn, r->reg->tokring, h, cfg->token_issuer, cfg->token_service,
                         &c, &who, &e) == 0 &&
            claims_allow(r, &c, repo, actions, &ok, &stale) < 0)
            ok = false;
        tok_claims_cleanup(&c);
        return ok && !stale;
    }
    repo_name_project(repo, project, sizeof(project));
    if (authz_project_actions(r->reg, &r->who, project, &acts, &created, &e) < 0) {
        log_msg(LOG_WARN, "%s access check failed: %s", r->reqid, e.msg);
        return false;
    }
    return (acts & actions) == actions;
}
