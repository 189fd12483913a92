/* token_ep.c - the token service, /service/token (Docker token spec, Harbor's behaviour).
 *
 * GET  ?service=&scope=...&account=&client_id=&offline_token=  with or without HTTP Basic
 *      (users and robots); the docker, podman, skopeo and containerd GET path.
 * POST application/x-www-form-urlencoded (containerd's OAuth2 path):
 *      grant_type=password&username=&password=&service=&scope=&client_id=&access_type=offline
 *      grant_type=refresh_token&refresh_token=&service=&scope=&client_id=
 * Reply 200 {"token","access_token" (same value),"expires_in","issued_at"[,"refresh_token"]}.
 *
 * Rules:
 *   1. An unknown service is 400. A malformed scope is 400 (the grammar is the client's bug);
 *      a scope the caller may not have is never an error: its entry gets "actions":[].
 *   2. No valid credentials and no scope: 401 (how `docker login` learns a password is wrong).
 *      Wrong credentials: 401 whatever the scope. No credentials with scopes: an anonymous
 *      token holding what anonymous callers may do (pull on public projects).
 *   3. Repository scopes are filtered through the caller's role (registry/authz.c); the
 *      catalog scope (registry:catalog:*) is kept for every authenticated caller (the catalog
 *      itself is filtered, auth/rbac.h); any other type gets no actions.
 *   4. Failed logins are throttled per user and client address: 429 TOOMANYREQUESTS with
 *      Retry-After, before any password is checked.
 *   5. Refresh tokens are issued only when asked (GET offline_token=true, POST
 *      access_type=offline, or a refresh grant) to an authenticated caller. A refresh token is a
 *      JWT signed with the same key but with audience "<service>/refresh", so it can never be
 *      used on /v2/ and an access token never refreshes. It carries one access entry of type
 *      "berth-refresh" naming "u:<user id>:<binding>" or "r:<robot id>:<binding>", binding being
 *      the first 16 bytes (hex) of SHA-256 over the account's stored password or secret hash: a
 *      password change, a secret refresh, a deleted and re-created account, a disabled or
 *      expired robot all make it worthless. It lives TOKEN_REFRESH_TTL_S.
 *   6. Nothing from a request (passwords, tokens, the query string) is logged.
 * No shared state; the signing key is read-only. */
#include "registry/req.h"
#include "api/mount.h"
#include "api/api_session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/authn.h"
#include "auth/rbac.h"
#include "auth/scope.h"
#include "auth/token.h"
#include "auth/token_ring.h"
#include "common/digest.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "registry/audit_hook.h"
#include "registry/authz.h"
#include "storage/meta.h"

/* bearer tokens issued since the start (/metrics); an _Atomic counter (STYLE 7) */
static _Atomic uint64_t tokens_issued;

uint64_t token_issued_total(void)
{
    return atomic_load_explicit(&tokens_issued, memory_order_relaxed);
}

#define TOKEN_REFRESH_TTL_S (30LL * 24 * 3600)
#define TOKEN_REFRESH_TYPE "berth-refresh"
#define TOKEN_BIND_BYTES 16
#define TOKEN_BIND_HEX ((size_t)2 * TOKEN_BIND_BYTES) /* hex characters of a binding */
#define TOKEN_FIELD_MAX (TOK_MAX_LEN + 1)             /* longest form value we decode */

/* ---- application/x-www-form-urlencoded ---- */

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

/* form_decode decodes [s, s+len) into out (cap bytes incl. NUL). -1 on a bad escape, an
 * embedded NUL or when it does not fit. */
static int form_decode(char *out, size_t cap, const char *s, size_t len)
{
    size_t w = 0;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return -1;
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0' || w + 1 >= cap)
            return -1;
        out[w++] = c;
    }
    out[w] = '\0';
    return 0;
}

typedef int (*form_fn)(const char *value, void *ctx);

/* form_each calls fn with every decoded value of key in body, in order. Returns fn's non-zero
 * result, -2 for a malformed body, 0 otherwise. The value buffer is wiped after each call. */
static int form_each(const char *body, size_t len, const char *key, form_fn fn, void *ctx)
{
    char kbuf[64];
    char *val = NULL;
    size_t pos = 0;
    int rc = 0;

    if (body == NULL)
        return 0;
    val = mem_malloc(TOKEN_FIELD_MAX);
    if (val == NULL)
        return -3;
    while (pos < len && rc == 0) {
        const char *pair = body + pos, *amp = memchr(pair, '&', len - pos), *eq;
        size_t plen = amp != NULL ? (size_t)(amp - pair) : len - pos;

        pos += plen + 1;
        if (plen == 0)
            continue;
        eq = memchr(pair, '=', plen);
        if (form_decode(kbuf, sizeof(kbuf), pair, eq != NULL ? (size_t)(eq - pair) : plen) < 0)
            continue; /* a key longer than any we know: not ours */
        if (strcmp(kbuf, key) != 0)
            continue;
        if (form_decode(val, TOKEN_FIELD_MAX, eq != NULL ? eq + 1 : pair + plen,
                        eq != NULL ? plen - (size_t)(eq - pair) - 1 : 0) < 0) {
            rc = -2;
            break;
        }
        rc = fn(val, ctx);
        OPENSSL_cleanse(val, strlen(val));
    }
    OPENSSL_cleanse(val, TOKEN_FIELD_MAX);
    mem_free(val);
    return rc;
}

struct form_copy {
    char *out;
    size_t cap;
    bool found;
    bool too_long;
};

static int form_copy_fn(const char *value, void *ctx)
{
    struct form_copy *fc = ctx;
    size_t n = strlen(value);

    if (fc->found)
        return 0; /* the first value wins, as req_query */
    fc->found = true;
    if (n >= fc->cap) {
        fc->too_long = true;
        return 0;
    }
    memcpy(fc->out, value, n + 1);
    return 0;
}

/* form_get copies the first value of key into out. 1 found, 0 absent, -1 malformed or too long
 * (r->err set). */
static int form_get(struct req *r, const char *key, char *out, size_t cap)
{
    struct form_copy fc = {out, cap, false, false};
    int rc;

    out[0] = '\0';
    rc = form_each(r->body.data, r->body.len, key, form_copy_fn, &fc);
    if (rc == 0 && fc.found && !fc.too_long)
        return 1;
    if (rc == -3)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    if (rc != 0 || fc.too_long) {
        out[0] = '\0';
        return berr_set(&r->err, BERR_BAD_REQUEST, "malformed form field %s", key);
    }
    return 0;
}

/* ---- scopes ---- */

struct scope_add {
    struct scope_list *l;
    struct berr *err;
};

static int scope_add_fn(const char *value, void *ctx)
{
    struct scope_add *sa = ctx;
    return scope_list_add(sa->l, value, sa->err) < 0 ? -1 : 0;
}

/* read_scopes fills l from the query (GET) or the form (POST). */
static int read_scopes(struct req *r, struct scope_list *l)
{
    struct scope_add sa = {l, &r->err};
    int rc;

    scope_list_init(l);
    if (r->method == HTTP_POST) {
        rc = form_each(r->body.data, r->body.len, "scope", scope_add_fn, &sa);
        if (rc == -2)
            return berr_set(&r->err, BERR_BAD_REQUEST, "malformed form field scope");
        if (rc == -3)
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
    } else {
        rc = req_query_each(r, "scope", scope_add_fn, &sa);
    }
    if (rc != 0) {
        scope_list_cleanup(l);
        return -1;
    }
    return 0;
}

static enum rbac_who rbac_kind(const struct principal *p)
{
    switch (p->kind) {
    case PRINCIPAL_USER:
        return RBAC_USER;
    case PRINCIPAL_ROBOT:
        return RBAC_ROBOT;
    case PRINCIPAL_ANONYMOUS:
        break;
    }
    return RBAC_ANONYMOUS;
}

/* grant adds one access entry per scope, filtered by what who may do. */
static int grant(struct req *r, const struct principal *who, const struct scope_list *l,
                 struct tok_claims *c)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct scope *s = &l->items[i];
        unsigned acts = 0;

        if (s->rclass == NULL && strcmp(s->type, "repository") == 0) {
            struct repo_name name;
            char project[REPO_NAME_MAX + 1];
            int64_t created;
            struct berr e;
            unsigned allowed = 0;

            if (repo_name_parse(&name, s->name, strlen(s->name), &e) == 0) {
                repo_name_project(&name, project, sizeof(project));
                if (authz_project_actions(r->reg, who, project, &allowed, &created, &r->err) < 0)
                    return -1;
                /* "*" on a repository means every action the caller has */
                acts = (s->actions & SCOPE_ACT_STAR) ? allowed : (s->actions & allowed);
            }
        } else if (s->rclass == NULL && strcmp(s->type, "registry") == 0 &&
                   strcmp(s->name, "catalog") == 0 && rbac_catalog_allowed(rbac_kind(who))) {
            acts = s->actions & SCOPE_ACT_KNOWN;
        }
        if (tok_access_add(c, s->type, s->name, acts, &r->err) < 0)
            return -1;
    }
    return 0;
}

/* ---- refresh tokens ---- */

static int refresh_aud(const struct req *r, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/refresh", r->reg->cfg->token_service);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* binding_hex: hex of the first TOKEN_BIND_BYTES of SHA-256("berth-refresh" 0 kind id 0 hash). */
static int binding_hex(char out[TOKEN_BIND_HEX + 1], char kind, int64_t id, const char *stored_hash)
{
    static const char hexd[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char idbuf[32];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int n, rc = -1;

    n = snprintf(idbuf, sizeof(idbuf), "%c%" PRId64, kind, id);
    if (ctx == NULL || n < 0 || (size_t)n >= sizeof(idbuf))
        goto out;
    if (EVP_DigestInit_ex(ctx, digest_sha256_md(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, TOKEN_REFRESH_TYPE, sizeof(TOKEN_REFRESH_TYPE)) != 1 ||
        EVP_DigestUpdate(ctx, idbuf, (size_t)n + 1) != 1 ||
        EVP_DigestUpdate(ctx, stored_hash, strlen(stored_hash)) != 1 ||
        EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < TOKEN_BIND_BYTES)
        goto out;
    for (size_t i = 0; i < TOKEN_BIND_BYTES; i++) {
        out[2 * i] = hexd[md[i] >> 4];
        out[2 * i + 1] = hexd[md[i] & 15];
    }
    out[TOKEN_BIND_HEX] = '\0';
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* account_binding loads who's stored hash (by id) and computes its binding. */
static int account_binding(struct req *r, const struct principal *who, char out[TOKEN_BIND_HEX + 1],
                           char *kind, int64_t *id)
{
    int rc = -1;

    if (who->kind == PRINCIPAL_USER && who->user_id > 0) {
        struct meta_user *u = mem_malloc(sizeof(*u));
        if (u == NULL)
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
        if (meta_user_get_by_id(r->reg->meta, who->user_id, u, &r->err) == 0) {
            *kind = 'u';
            *id = u->id;
            rc = binding_hex(out, 'u', u->id, u->pw_hash);
            if (rc < 0)
                berr_set(&r->err, BERR_INTERNAL, "internal error");
        }
        OPENSSL_cleanse(u, sizeof(*u));
        mem_free(u);
    } else if (who->kind == PRINCIPAL_ROBOT && who->robot_id > 0) {
        struct meta_robot *rb = mem_malloc(sizeof(*rb));
        if (rb == NULL)
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
        if (meta_robot_get_by_id(r->reg->meta, who->robot_id, rb, &r->err) == 0) {
            *kind = 'r';
            *id = rb->id;
            rc = binding_hex(out, 'r', rb->id, rb->secret_hash);
            if (rc < 0)
                berr_set(&r->err, BERR_INTERNAL, "internal error");
        }
        OPENSSL_cleanse(rb, sizeof(*rb));
        mem_free(rb);
    } else {
        rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
    }
    return rc;
}

/* issue_refresh makes a refresh token for who; *out is new (mem_free). */
static int issue_refresh(struct req *r, const struct principal *who, int64_t now, char **out)
{
    const struct berth_config *cfg = r->reg->cfg;
    char aud[128], bind[TOKEN_BIND_HEX + 1], name[96], kind = 0;
    struct tok_claims c;
    int64_t id = 0;
    int n, rc;

    *out = NULL;
    tok_claims_init(&c);
    if (refresh_aud(r, aud, sizeof(aud)) < 0)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    if (account_binding(r, who, bind, &kind, &id) < 0)
        return -1;
    n = snprintf(name, sizeof(name), "%c:%" PRId64 ":%s", kind, id, bind);
    if (n < 0 || (size_t)n >= sizeof(name))
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    rc = tok_claims_fill(&c, cfg->token_issuer, who->name, aud, now, TOKEN_REFRESH_TTL_S, &r->err);
    if (rc == 0)
        rc = tok_access_add(&c, TOKEN_REFRESH_TYPE, name, 0, &r->err);
    if (rc == 0)
        rc = tok_issue(out, tok_ring_signer(r->reg->tokring), &c, &r->err);
    tok_claims_cleanup(&c);
    return rc;
}

/* redeem_refresh checks a refresh token and fills *who from the account it is bound to.
 * BERR_UNAUTHORIZED for every reason a client may see. */
static int redeem_refresh(struct req *r, const char *token, struct principal *who)
{
    const struct berth_config *cfg = r->reg->cfg;
    char aud[128], want[TOKEN_BIND_HEX + 1], got[TOKEN_BIND_HEX + 1];
    const char *bindname = NULL, *p;
    struct tok_claims c;
    struct berr e;
    int64_t id;
    char kind, *end;
    int rc = -1;

    memset(who, 0, sizeof(*who));
    if (refresh_aud(r, aud, sizeof(aud)) < 0)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    if (tok_ring_verify(&c, r->reg->tokring, token, cfg->token_issuer, aud, now_s(),
                        AUTHN_BEARER_LEEWAY_S, &e) < 0) {
        r->err = e;
        tok_claims_cleanup(&c);
        return -1;
    }
    for (size_t i = 0; i < c.n_access; i++) {
        if (strcmp(c.access[i].type, TOKEN_REFRESH_TYPE) == 0)
            bindname = c.access[i].name;
    }
    if (bindname == NULL || (bindname[0] != 'u' && bindname[0] != 'r') || bindname[1] != ':')
        goto bad;
    kind = bindname[0];
    errno = 0;
    id = strtoll(bindname + 2, &end, 10);
    if (errno != 0 || end == bindname + 2 || *end != ':' || id <= 0)
        goto bad;
    p = end + 1;
    if (strlen(p) != TOKEN_BIND_HEX)
        goto bad;
    memcpy(got, p, sizeof(got));
    if (kind == 'u') {
        who->kind = PRINCIPAL_USER;
        who->user_id = id;
    } else {
        who->kind = PRINCIPAL_ROBOT;
        who->robot_id = id;
    }
    if (account_binding(r, who, want, &kind, &id) < 0) {
        if (r->err.code == BERR_INTERNAL)
            goto out;
        goto bad; /* the account is gone */
    }
    if (CRYPTO_memcmp(want, got, TOKEN_BIND_HEX) != 0)
        goto bad;
    /* the account's current state: name, sysadmin flag, robot enabled and unexpired */
    if (who->kind == PRINCIPAL_USER) {
        struct meta_user *u = mem_malloc(sizeof(*u));
        bool same;
        if (u == NULL) {
            berr_set(&r->err, BERR_INTERNAL, "internal error");
            goto out;
        }
        if (meta_user_get_by_id(r->reg->meta, who->user_id, u, &r->err) < 0) {
            mem_free(u);
            goto bad;
        }
        same = strcmp(u->name, c.sub) == 0;
        who->sysadmin = u->sysadmin;
        (void)snprintf(who->name, sizeof(who->name), "%s", u->name); /* same caps */
        OPENSSL_cleanse(u, sizeof(*u));
        mem_free(u);
        if (!same)
            goto bad;
    } else {
        struct meta_robot *rb = mem_malloc(sizeof(*rb));
        bool usable;
        if (rb == NULL) {
            berr_set(&r->err, BERR_INTERNAL, "internal error");
            goto out;
        }
        if (meta_robot_get_by_id(r->reg->meta, who->robot_id, rb, &r->err) < 0) {
            mem_free(rb);
            goto bad;
        }
        usable = strcmp(rb->name, c.sub) == 0 && !rb->disabled &&
                 (rb->expires_at <= 0 || now_s() < rb->expires_at);
        (void)snprintf(who->name, sizeof(who->name), "%s", rb->name); /* same caps */
        OPENSSL_cleanse(rb, sizeof(*rb));
        mem_free(rb);
        if (!usable)
            goto bad;
    }
    rc = 0;
    goto out;
bad:
    memset(who, 0, sizeof(*who));
    rc = berr_set(&r->err, BERR_UNAUTHORIZED, "invalid refresh token");
out:
    if (rc < 0)
        memset(who, 0, sizeof(*who));
    tok_claims_cleanup(&c);
    return rc;
}

/* ---- the endpoint ---- */

/* refuse answers an error; a 429 carries Retry-After, a 401 a Basic challenge. */
static int refuse(struct req *r, struct http_reply *out, unsigned retry_after_s)
{
    char v[16];
    int n;

    if (r->err.code == BERR_UNAUTHORIZED)
        (void)snprintf(r->challenge, sizeof(r->challenge), "Basic realm=\"berth\"");
    if (r->err.code != BERR_TOOMANYREQUESTS || retry_after_s == 0)
        return -1;
    out->resp = reply_error(&r->err, &out->status);
    if (out->resp == NULL)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    n = snprintf(v, sizeof(v), "%u", retry_after_s);
    if (n < 0 || (size_t)n >= sizeof(v) ||
        http_resp_header(out->resp, HTTP_HEADER_RETRY_AFTER, v) < 0) {
        http_resp_free(out->resp);
        out->resp = NULL;
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    }
    return 0;
}

/* authenticate sets *who from the request: POST grants or the Basic header of a GET. *offline
 * tells whether a refresh token was asked for. */
/* audit_login_failed records a refused login: the OAuth2 password grant names the user in the
 * form, GET requests in the Basic header. */
static void audit_login_failed(struct req *r)
{
    char name[AUTHN_USER_MAX + 1];

    if (r->method != HTTP_POST) {
        req_audit_login_failed(r, NULL);
        return;
    }
    if (api_form_field(r->body.data != NULL ? r->body.data : "", r->body.len, "username", name,
                       sizeof(name)) <= 0)
        name[0] = '\0';
    req_audit_login_failed(r, name);
}

static int authenticate(struct req *r, struct principal *who, bool *offline, unsigned *retry)
{
    char addr[64];
    const char *h;
    int rc;

    memset(who, 0, sizeof(*who));
    *offline = false;
    *retry = 0;
    authz_client_addr(r, addr, sizeof(addr));
    if (r->method == HTTP_POST) {
        char grant_type[32], at[16];
        char *user = NULL, *pass = NULL, *refresh = NULL;

        if (form_get(r, "grant_type", grant_type, sizeof(grant_type)) < 0 ||
            form_get(r, "access_type", at, sizeof(at)) < 0)
            return -1;
        *offline = strcmp(at, "offline") == 0;
        if (strcmp(grant_type, "password") == 0) {
            user = mem_malloc(AUTHN_USER_MAX + 1);
            pass = mem_malloc(AUTHN_PASS_MAX);
            if (user == NULL || pass == NULL) {
                rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
            } else if (form_get(r, "username", user, AUTHN_USER_MAX + 1) <= 0 ||
                       form_get(r, "password", pass, AUTHN_PASS_MAX) <= 0) {
                rc = berr_set(&r->err, BERR_UNAUTHORIZED, "invalid username or password");
            } else {
                rc = authn_password(r->reg->authn, user, pass, addr, who, retry, &r->err);
            }
            if (pass != NULL)
                OPENSSL_cleanse(pass, AUTHN_PASS_MAX);
            mem_free(user);
            mem_free(pass);
            return rc;
        }
        if (strcmp(grant_type, "refresh_token") == 0) {
            refresh = mem_malloc(TOK_MAX_LEN + 1);
            if (refresh == NULL)
                return berr_set(&r->err, BERR_INTERNAL, "internal error");
            rc = form_get(r, "refresh_token", refresh, TOK_MAX_LEN + 1);
            if (rc == 0)
                rc = berr_set(&r->err, BERR_UNAUTHORIZED, "invalid refresh token");
            else if (rc > 0)
                rc = redeem_refresh(r, refresh, who);
            OPENSSL_cleanse(refresh, TOK_MAX_LEN + 1);
            mem_free(refresh);
            *offline = true; /* a refresh grant always hands back a refresh token */
            return rc;
        }
        return berr_set(&r->err, BERR_BAD_REQUEST, "unsupported grant_type");
    }
    h = req_header(r, HTTP_HEADER_AUTHORIZATION);
    {
        const char *ot = req_query(r, "offline_token");
        *offline = ot != NULL && strcmp(ot, "true") == 0;
    }
    if (h == NULL)
        return 0; /* anonymous */
    if (strncasecmp(h, "Basic ", 6) != 0)
        return berr_set(&r->err, BERR_UNAUTHORIZED, "unsupported authorization scheme");
    return authn_basic_from(r->reg->authn, h, addr, who, retry, &r->err);
}

static int reply_token(struct req *r, struct http_reply *out, const char *token,
                       const char *refresh, int64_t now)
{
    char issued[32];
    json_t *o = json_object();
    char *text = NULL;
    size_t len;
    int rc = -1;

    time_rfc3339(now, issued, sizeof(issued));
    if (o == NULL || json_object_set_new(o, "token", json_string(token)) < 0 ||
        json_object_set_new(o, "access_token", json_string(token)) < 0 ||
        json_object_set_new(o, "expires_in", json_integer((json_int_t)r->reg->cfg->token_ttl_s)) <
                0 ||
        json_object_set_new(o, "issued_at", json_string(issued)) < 0 ||
        (refresh != NULL && json_object_set_new(o, "refresh_token", json_string(refresh)) < 0))
        goto out;
    text = json_dumps(o, JSON_COMPACT);
    if (text == NULL)
        goto out;
    len = strlen(text);
    out->resp = http_resp_json(text, len);
    out->status = HTTP_OK;
    out->len = len;
    if (out->resp == NULL)
        goto out;
    /* tokens are credentials: no cache may keep them */
    if (http_resp_header(out->resp, HTTP_HEADER_CACHE_CONTROL, "no-store") < 0 ||
        http_resp_header(out->resp, HTTP_HEADER_PRAGMA, "no-cache") < 0) {
        http_resp_free(out->resp);
        out->resp = NULL;
        goto out;
    }
    rc = 0;
out:
    if (text != NULL) {
        OPENSSL_cleanse(text, strlen(text));
        mem_free(text);
    }
    json_decref(o);
    if (rc < 0)
        berr_set(&r->err, BERR_INTERNAL, "internal error");
    return rc;
}

int token_handle(struct req *r, struct http_reply *out)
{
    const struct berth_config *cfg = r->reg->cfg;
    char service[128];
    struct principal who;
    struct scope_list scopes;
    struct tok_claims c;
    char *token = NULL, *refresh = NULL;
    unsigned retry = 0;
    bool offline = false;
    int64_t now = now_s();
    int rc;

    tok_claims_init(&c);
    scope_list_init(&scopes);
    if (r->reg->tokring == NULL)
        return berr_set(&r->err, BERR_NOT_FOUND, "token service not enabled");
    if (r->method == HTTP_POST) {
        if (form_get(r, "service", service, sizeof(service)) < 0)
            return -1;
    } else {
        const char *s = req_query(r, "service");
        int n = snprintf(service, sizeof(service), "%s", s != NULL ? s : "");
        if (n < 0 || (size_t)n >= sizeof(service))
            return berr_set(&r->err, BERR_BAD_REQUEST, "unable to handle service");
    }
    if (service[0] != '\0' && strcmp(service, cfg->token_service) != 0)
        return berr_set(&r->err, BERR_BAD_REQUEST, "unable to handle service");
    if (authenticate(r, &who, &offline, &retry) < 0) {
        if (r->err.code == BERR_UNAUTHORIZED)
            audit_login_failed(r);
        return refuse(r, out, retry);
    }
    r->who = who;
    (void)snprintf(r->user, sizeof(r->user), "%s", who.name); /* same caps */
    if (read_scopes(r, &scopes) < 0)
        return -1;
    if (who.kind == PRINCIPAL_ANONYMOUS && scopes.n == 0) {
        scope_list_cleanup(&scopes);
        berr_set(&r->err, BERR_UNAUTHORIZED, "authentication required");
        return refuse(r, out, 0);
    }
    rc = tok_claims_fill(&c, cfg->token_issuer, who.name, cfg->token_service, now,
                         (int64_t)cfg->token_ttl_s, &r->err);
    if (rc == 0)
        rc = grant(r, &who, &scopes, &c);
    if (rc == 0)
        rc = tok_issue(&token, tok_ring_signer(r->reg->tokring), &c, &r->err);
    if (rc == 0)
        atomic_fetch_add_explicit(&tokens_issued, 1, memory_order_relaxed);
    if (rc == 0 && offline && who.kind != PRINCIPAL_ANONYMOUS)
        rc = issue_refresh(r, &who, now, &refresh);
    if (rc == 0)
        rc = reply_token(r, out, token, refresh, now);
    if (token != NULL) {
        OPENSSL_cleanse(token, strlen(token));
        mem_free(token);
    }
    if (refresh != NULL) {
        OPENSSL_cleanse(refresh, strlen(refresh));
        mem_free(refresh);
    }
    tok_claims_cleanup(&c);
    scope_list_cleanup(&scopes);
    return rc;
}
