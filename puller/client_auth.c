/* client_auth.c - the registry client's authentication: WWW-Authenticate challenges, Basic
 * credentials and Bearer tokens.
 *
 * client_challenge_parse reads the challenges of a 401; client_on_unauthorized picks how to
 * answer them; client_auth_header builds the Authorization line of each attempt, fetching a token
 * from the realm first when there is none or it expired.
 *   1. The token, its expiry and generation are read and written under c->mu; the fetch of a
 *      new token happens under c->mu too, so concurrent 401s cause one fetch, not N: a thread
 *      whose failed request used an older generation just retries with the current token.
 *   2. A token request carries the credential (as Basic, set by client_perform) only to the
 *      realm's own origin, and never the registry's Authorization line.
 *   3. Every buffer that held a credential or a token (the Basic encoding, the token response)
 *      is cleansed before it is freed; the Authorization line is wiped by its taker.
 * No log line carries the token or the credential; --verbose names the scope and lifetime. */
#include "puller/client.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "puller/client_int.h"

#define TOKEN_BODY_MAX (64u * 1024u)
#define DEFAULT_TOKEN_TTL_S 60

const char *client_skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static bool is_tchar(char ch)
{
    /* strchr finds the terminator too: '\0' must be ruled out first */
    return ch != '\0' && (isalnum((unsigned char)ch) || strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* read_token copies a token into out; returns the char after it, NULL when none or too long */
static const char *read_token(const char *p, char *out, size_t cap)
{
    size_t n = 0;

    while (is_tchar(*p)) {
        if (n + 1 >= cap)
            return NULL;
        out[n++] = *p++;
    }
    out[n] = '\0';
    return n == 0 ? NULL : p;
}

/* read_quoted reads a quoted-string starting at '"'; NULL when unterminated or too long */
static const char *read_quoted(const char *p, char *out, size_t cap)
{
    size_t n = 0;

    p++;
    while (*p != '"') {
        if (*p == '\0')
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == '\0')
                return NULL;
        }
        if (n + 1 >= cap)
            return NULL;
        out[n++] = *p++;
    }
    out[n] = '\0';
    return p + 1;
}

static int set_param(struct client_challenge *ch, const char *name, const char *val)
{
    struct {
        const char *name;
        char *dst;
        size_t cap;
    } fields[] = {
            {"realm", ch->realm, sizeof(ch->realm)},
            {"service", ch->service, sizeof(ch->service)},
            {"scope", ch->scope, sizeof(ch->scope)},
            {"error", ch->error, sizeof(ch->error)},
    };

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strcasecmp(name, fields[i].name) != 0)
            continue;
        size_t len = strlen(val);
        if (len >= fields[i].cap)
            return -1;
        memcpy(fields[i].dst, val, len + 1);
        return 0;
    }
    return 0; /* unknown parameters are allowed and ignored */
}

int client_challenge_parse(struct client_challenge *out, size_t cap, size_t *n, const char *value)
{
    const char *p = value;
    char name[64], val[CLIENT_SCOPE_MAX > CLIENT_REALM_MAX ? CLIENT_SCOPE_MAX : CLIENT_REALM_MAX];
    struct client_challenge *cur = NULL;

    *n = 0;
    for (;;) {
        const char *q;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            return *n > 0 ? 0 : -1;
        q = read_token(p, name, sizeof(name));
        if (q == NULL)
            return -1;
        q = client_skip_ows(q);
        if (*q == '=' && cur != NULL) {
            /* an auth-param of the current challenge */
            q = client_skip_ows(q + 1);
            if (*q == '"')
                q = read_quoted(q, val, sizeof(val));
            else
                q = read_token(q, val, sizeof(val));
            if (q == NULL || set_param(cur, name, val) < 0)
                return -1;
            q = client_skip_ows(q);
            if (*q != ',' && *q != '\0')
                return -1;
            p = q;
            continue;
        }
        /* a new challenge: scheme name */
        if (*n >= cap || strlen(name) >= sizeof(out[0].scheme))
            return -1;
        cur = &out[(*n)++];
        memset(cur, 0, sizeof(*cur));
        memcpy(cur->scheme, name, strlen(name) + 1);
        p = q;
        /* token68 form ("Negotiate abc==") : skip it, it carries nothing we use */
        if (is_tchar(*p) || *p == '/' || *p == '=') {
            const char *t = p;
            while (is_tchar(*t) || *t == '/')
                t++;
            if (*t == '=') {
                const char *e = t;
                while (*e == '=')
                    e++;
                e = client_skip_ows(e);
                if (*e == ',' || *e == '\0') {
                    p = e;
                    continue;
                }
            }
        }
    }
}

/* build_basic returns a new "Authorization: Basic ..." line; NULL when out of memory */
static char *build_basic(const char *user, const char *pass)
{
    size_t rawlen = strlen(user) + strlen(pass) + 1;
    size_t b64cap = 4 * (rawlen / 3 + 1) + 1;
    char *raw = mem_malloc(rawlen + 1);
    unsigned char *b64 = mem_malloc(b64cap);
    char *line = mem_malloc(b64cap + 32);
    int n, m;

    if (raw == NULL || b64 == NULL || line == NULL)
        goto fail;
    n = snprintf(raw, rawlen + 1, "%s:%s", user, pass);
    if (n < 0 || (size_t)n != rawlen)
        goto fail;
    m = EVP_EncodeBlock(b64, (const unsigned char *)raw, n);
    if (m < 0)
        goto fail;
    n = snprintf(line, b64cap + 32, "Authorization: Basic %.*s", m, (const char *)b64);
    if (n < 0 || (size_t)n >= b64cap + 32)
        goto fail;
    OPENSSL_cleanse(raw, rawlen + 1);
    OPENSSL_cleanse(b64, b64cap);
    mem_free(raw);
    mem_free(b64);
    return line;
fail:
    if (raw != NULL)
        OPENSSL_cleanse(raw, rawlen + 1);
    if (b64 != NULL)
        OPENSSL_cleanse(b64, b64cap);
    mem_free(raw);
    mem_free(b64);
    mem_free(line);
    return NULL;
}

/* fetch_token_locked gets a new token for c->bearer from its realm. Caller holds c->mu. */
static int fetch_token_locked(struct client *c, struct berr *err)
{
    struct buf body, url;
    struct req t;
    json_t *root = NULL;
    const char *tok;
    json_int_t ttl = DEFAULT_TOKEN_TTL_S;
    char *esc = NULL, *copy = NULL;
    char scope[CLIENT_SCOPE_MAX + 64];
    int64_t margin_ms;
    int rc = -1, n;

    buf_init(&body, TOKEN_BODY_MAX);
    buf_init(&url, URL_MAX);
    memset(&t, 0, sizeof(t));
    if (!str_has_prefix(c->bearer.realm, "https://") &&
        !str_has_prefix(c->bearer.realm, "http://")) {
        rc = berr_set(err, BERR_UNAUTHORIZED, "registry sent a Bearer realm that is not a URL");
        goto out;
    }
    if (c->bearer.scope[0] != '\0')
        n = snprintf(scope, sizeof(scope), "%s", c->bearer.scope);
    else
        n = snprintf(scope, sizeof(scope), "repository:%s:pull", c->repo);
    if (n < 0 || (size_t)n >= sizeof(scope)) {
        rc = berr_set(err, BERR_UNAUTHORIZED, "token scope too long");
        goto out;
    }
    if (buf_appends(&url, c->bearer.realm) < 0 ||
        buf_appends(&url, strchr(c->bearer.realm, '?') != NULL ? "&" : "?") < 0)
        goto nomem;
    if (c->bearer.service[0] != '\0') {
        esc = curl_easy_escape(NULL, c->bearer.service, 0);
        if (esc == NULL || buf_printf(&url, "service=%s&", esc) < 0)
            goto nomem;
        curl_free(esc);
        esc = NULL;
    }
    esc = curl_easy_escape(NULL, scope, 0);
    if (esc == NULL || buf_printf(&url, "scope=%s", esc) < 0)
        goto nomem;
    t.c = c;
    t.kind = REQ_TOKEN;
    t.body = &body;
    rc = client_perform(c, &t, url.data, err);
    if (rc < 0)
        goto out;
    root = json_loadb(body.data != NULL ? body.data : "", body.len, 0, NULL);
    tok = root != NULL ? json_string_value(json_object_get(root, "token")) : NULL;
    if (tok == NULL || tok[0] == '\0')
        tok = root != NULL ? json_string_value(json_object_get(root, "access_token")) : NULL;
    if (tok == NULL || tok[0] == '\0') {
        rc = berr_set(err, BERR_UNAUTHORIZED, "token service answered without a token");
        goto out;
    }
    if (json_is_integer(json_object_get(root, "expires_in")))
        ttl = json_integer_value(json_object_get(root, "expires_in"));
    if (ttl <= 0)
        ttl = DEFAULT_TOKEN_TTL_S;
    if (ttl > 86400)
        ttl = 86400;
    copy = mem_strdup(tok);
    if (copy == NULL)
        goto nomem;
    client_wipe_free(c->token);
    c->token = copy;
    copy = NULL;
    /* renew a little early so a token does not expire between check and use */
    margin_ms = ttl >= 40 ? 10000 : (int64_t)ttl * 250;
    c->token_expiry_ms = now_ms_mono() + (int64_t)ttl * 1000 - margin_ms;
    c->token_gen++;
    atomic_fetch_add(&c->n_tokens, 1);
    if (c->verbose)
        log_msg(LOG_INFO, "token for %s obtained (expires in %lld s)", scope, (long long)ttl);
    rc = 0;
    goto out;
nomem:
    rc = berr_set(err, BERR_INTERNAL, "out of memory");
out:
    if (esc != NULL)
        curl_free(esc);
    json_decref(root);
    if (body.data != NULL)
        OPENSSL_cleanse(body.data, body.len);
    buf_cleanup(&body);
    buf_cleanup(&url);
    return rc;
}

/* client_auth_header builds the Authorization line for the current state (NULL: none), renewing an
 * expired token first, and records the token generation it used. */
int client_auth_header(struct client *c, char **line, long *gen, struct berr *err)
{
    int rc = 0;

    *line = NULL;
    (void)pthread_mutex_lock(&c->mu);
    if (c->auth == AUTH_BASIC && c->username != NULL) {
        *line = build_basic(c->username, c->password);
        if (*line == NULL)
            rc = berr_set(err, BERR_INTERNAL, "out of memory");
    } else if (c->auth == AUTH_BEARER) {
        if (c->token == NULL || now_ms_mono() >= c->token_expiry_ms)
            rc = fetch_token_locked(c, err);
        if (rc == 0) {
            size_t cap = strlen(c->token) + 32;
            *line = mem_malloc(cap);
            if (*line == NULL)
                rc = berr_set(err, BERR_INTERNAL, "out of memory");
            else
                (void)snprintf(*line, cap, "Authorization: Bearer %s", c->token);
        }
    }
    *gen = c->token_gen;
    (void)pthread_mutex_unlock(&c->mu);
    return rc;
}

/* client_on_unauthorized decides how to answer a 401 of the registry. */
int client_on_unauthorized(struct client *c, struct req *r, long gen_used, struct berr *err)
{
    struct client_challenge ch[CLIENT_MAX_CHALLENGES];
    const struct client_challenge *bearer = NULL, *basic = NULL;
    size_t n = 0;
    int rc = 0;

    if (r->www_auth.len == 0 ||
        client_challenge_parse(ch, CLIENT_MAX_CHALLENGES, &n, r->www_auth.data) < 0)
        return berr_set(err, BERR_UNAUTHORIZED, "registry answered 401 without a usable challenge");
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(ch[i].scheme, "Bearer") == 0 && bearer == NULL)
            bearer = &ch[i];
        else if (strcasecmp(ch[i].scheme, "Basic") == 0 && basic == NULL)
            basic = &ch[i];
    }
    (void)pthread_mutex_lock(&c->mu);
    if (bearer != NULL) {
        if (c->auth == AUTH_BEARER && c->token_gen != gen_used && c->token != NULL) {
            rc = 0; /* another request renewed the token meanwhile */
        } else {
            memcpy(&c->bearer, bearer, sizeof(c->bearer));
            c->auth = AUTH_BEARER;
            rc = fetch_token_locked(c, err);
        }
    } else if (basic != NULL) {
        if (c->username == NULL)
            rc = berr_set(err, BERR_UNAUTHORIZED, "registry requires credentials (Basic)");
        else
            c->auth = AUTH_BASIC;
    } else {
        rc = berr_set(err, BERR_UNAUTHORIZED, "registry asks for an unsupported auth scheme %s",
                      ch[0].scheme);
    }
    (void)pthread_mutex_unlock(&c->mu);
    return rc;
}
