/* api_session.c - cookie sessions for the web UI, as Harbor's: POST /c/login (form fields
 * principal and password) sets `sid`, GET /c/log_out drops it, and /api/v2.0 calls carrying the
 * cookie are made as the session's user; unsafe methods must echo the session's CSRF token in
 * X-Harbor-CSRF-Token (403 "CSRF token invalid" otherwise). Basic-auth callers are not subject to
 * CSRF: a browser never adds an Authorization header on its own to a cross-site request.
 *
 * Invariants:
 *   1. Session ids and CSRF tokens are 256 bits from RAND_bytes (util rand_hex), compared with
 *      CRYPTO_memcmp over their fixed length; neither is ever logged.
 *   2. The cookie is HttpOnly, SameSite=Strict, Path=/, and Secure when the request came over
 *      TLS (served by Berth, or X-Forwarded-Proto: https from a proxy in trusted_proxies).
 *   3. A session idle longer than idle_s is gone: lookups remove it. At most API_SESSION_MAX
 *      sessions exist; creating one more evicts the least recently used.
 *   4. Only users log in (robots are refused, as Harbor's UI does); failures go through authn's
 *      throttle and are recorded in the audit log; passwords are wiped after use.
 * The table sits beside its mutex `mu`, which guards every field of struct api_sessions. */
#include "api/api_session.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "api/api_ext.h"
#include "registry/audit_hook.h"
#include "registry/authz.h"
#include "registry/req.h"

#define SID_COOKIE "sid"
#define CSRF_HEADER "X-Harbor-CSRF-Token"
/* bytes of a refused login name that reach the log (the rest is "...") */
#define API_LOGIN_LOG_PREFIX 3

struct session {
    char id[API_SESSION_ID_HEX + 1];
    char csrf[API_SESSION_CSRF_HEX + 1];
    struct principal who;
    int64_t last_used; /* monotonic ms */
    bool used;
};

struct api_sessions {
    pthread_mutex_t mu; /* guards everything below */
    struct session *tab;
    size_t cap;
    int64_t idle_ms;
};

int api_sessions_new(struct api_sessions **out, unsigned idle_s, struct berr *err)
{
    struct api_sessions *s;

    *out = NULL;
    s = mem_calloc(1, sizeof(*s));
    if (s == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    s->cap = API_SESSION_MAX;
    s->tab = mem_calloc(s->cap, sizeof(*s->tab));
    if (s->tab == NULL || pthread_mutex_init(&s->mu, NULL) != 0) {
        mem_free(s->tab);
        mem_free(s);
        return berr_set(err, BERR_INTERNAL, "out of memory");
    }
    if (idle_s == 0) {
        const char *env = getenv("BERTH_SESSION_IDLE_S");
        uint64_t v;
        idle_s = API_SESSION_IDLE_S_DEFAULT;
        if (env != NULL && parse_u64(&v, env, strlen(env)) == 0 && v >= 1 && v <= 86400)
            idle_s = (unsigned)v;
    }
    s->idle_ms = (int64_t)idle_s * 1000;
    *out = s;
    return 0;
}

void api_sessions_free(struct api_sessions *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s->tab, s->cap * sizeof(*s->tab));
    mem_free(s->tab);
    (void)pthread_mutex_destroy(&s->mu);
    mem_free(s);
}

static void slot_clear(struct session *e)
{
    OPENSSL_cleanse(e, sizeof(*e));
}

int api_session_create(struct api_sessions *s, const struct principal *who,
                       char id[API_SESSION_ID_HEX + 1], char csrf[API_SESSION_CSRF_HEX + 1],
                       struct berr *err)
{
    struct session *slot = NULL;
    int64_t now = now_ms_mono();

    if (rand_hex(id, API_SESSION_ID_HEX + 1, API_SESSION_ID_HEX / 2) < 0 ||
        rand_hex(csrf, API_SESSION_CSRF_HEX + 1, API_SESSION_CSRF_HEX / 2) < 0)
        return berr_set(err, BERR_INTERNAL, "internal error");
    (void)pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->cap; i++) {
        struct session *e = &s->tab[i];
        if (e->used && now - e->last_used > s->idle_ms)
            slot_clear(e); /* invariant 3 */
        if (!e->used && slot == NULL)
            slot = e;
    }
    if (slot == NULL) {
        slot = &s->tab[0];
        for (size_t i = 1; i < s->cap; i++) {
            if (s->tab[i].last_used < slot->last_used)
                slot = &s->tab[i];
        }
        slot_clear(slot);
    }
    memcpy(slot->id, id, API_SESSION_ID_HEX + 1);
    memcpy(slot->csrf, csrf, API_SESSION_CSRF_HEX + 1);
    slot->who = *who;
    slot->last_used = now;
    slot->used = true;
    (void)pthread_mutex_unlock(&s->mu);
    return 0;
}

static struct session *find_locked(struct api_sessions *s, const char *id)
{
    for (size_t i = 0; i < s->cap; i++) {
        if (s->tab[i].used && CRYPTO_memcmp(s->tab[i].id, id, API_SESSION_ID_HEX) == 0)
            return &s->tab[i];
    }
    return NULL;
}

static bool id_ok(const char *id)
{
    if (id == NULL || strlen(id) != API_SESSION_ID_HEX)
        return false;
    for (size_t i = 0; i < API_SESSION_ID_HEX; i++) {
        char ch = id[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return false;
    }
    return true;
}

int api_session_lookup(struct api_sessions *s, const char *id, struct principal *who,
                       char csrf[API_SESSION_CSRF_HEX + 1])
{
    struct session *e;
    int64_t now = now_ms_mono();
    int rc = -1;

    memset(who, 0, sizeof(*who));
    csrf[0] = '\0';
    if (s == NULL || !id_ok(id))
        return -1;
    (void)pthread_mutex_lock(&s->mu);
    e = find_locked(s, id);
    if (e != NULL && now - e->last_used > s->idle_ms) {
        slot_clear(e);
        e = NULL;
    }
    if (e != NULL) {
        e->last_used = now;
        *who = e->who;
        memcpy(csrf, e->csrf, API_SESSION_CSRF_HEX + 1);
        rc = 0;
    }
    (void)pthread_mutex_unlock(&s->mu);
    return rc;
}

void api_session_drop(struct api_sessions *s, const char *id)
{
    struct session *e;

    if (s == NULL || !id_ok(id))
        return;
    (void)pthread_mutex_lock(&s->mu);
    e = find_locked(s, id);
    if (e != NULL)
        slot_clear(e);
    (void)pthread_mutex_unlock(&s->mu);
}

void api_session_drop_user(struct api_sessions *s, const char *name)
{
    if (s == NULL)
        return;
    (void)pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->cap; i++) {
        if (s->tab[i].used && strcmp(s->tab[i].who.name, name) == 0)
            slot_clear(&s->tab[i]);
    }
    (void)pthread_mutex_unlock(&s->mu);
}

/* ---- the API side ---- */

static const char *cookie_sid(const struct req *r)
{
    if (r->http == NULL)
        return NULL;
    return http_cookie(r->http, SID_COOKIE);
}

int api_session_auth(struct api_call *c, bool *used)
{
    char csrf[API_SESSION_CSRF_HEX + 1];
    const char *sid;
    const char *tok;
    struct principal who;
    enum http_method m = c->r->method;

    *used = false;
    if (req_header(c->r, HTTP_HEADER_AUTHORIZATION) != NULL)
        return 0; /* Basic wins; no CSRF for it */
    sid = cookie_sid(c->r);
    if (sid == NULL || api_session_lookup(c->r->reg->sessions, sid, &who, csrf) < 0)
        return 0; /* no session: anonymous */
    if (m == HTTP_POST || m == HTTP_PUT || m == HTTP_PATCH || m == HTTP_DELETE) {
        tok = req_header(c->r, CSRF_HEADER);
        if (tok == NULL || strlen(tok) != API_SESSION_CSRF_HEX ||
            CRYPTO_memcmp(tok, csrf, API_SESSION_CSRF_HEX) != 0) {
            OPENSSL_cleanse(csrf, sizeof(csrf));
            return api_stop(api_fail(c, HTTP_FORBIDDEN, "CSRF token invalid"));
        }
    }
    OPENSSL_cleanse(csrf, sizeof(csrf));
    c->who = who;
    c->r->who = who;
    (void)snprintf(c->r->user, sizeof(c->r->user), "%s", who.name); /* same caps */
    *used = true;
    return 0;
}

int api_session_token_header(struct api_call *c)
{
    char csrf[API_SESSION_CSRF_HEX + 1];
    struct principal who;
    const char *sid = cookie_sid(c->r);
    int rc = 0;

    if (sid == NULL || req_header(c->r, HTTP_HEADER_AUTHORIZATION) != NULL ||
        api_session_lookup(c->r->reg->sessions, sid, &who, csrf) < 0)
        return 0;
    if (c->out->resp != NULL && api_add_header(c, CSRF_HEADER, csrf) < 0)
        rc = -1;
    OPENSSL_cleanse(csrf, sizeof(csrf));
    return rc;
}

/* ---- /c/login and /c/log_out ---- */

/* api_form_field finds key in an application/x-www-form-urlencoded body and decodes its value into
 * out: 1 found, 0 absent, -1 malformed or too long */
int api_form_field(const char *body, size_t len, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    size_t i = 0;

    while (i < len) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        if (end - i > klen && memcmp(body + i, key, klen) == 0 && body[i + klen] == '=') {
            size_t o = 0;
            for (size_t k = i + klen + 1; k < end; k++) {
                char ch = body[k];
                if (ch == '+') {
                    ch = ' ';
                } else if (ch == '%') {
                    int hi, lo;
                    if (k + 2 >= end)
                        return -1;
                    hi = parse_hex_digit(body[k + 1]);
                    lo = parse_hex_digit(body[k + 2]);
                    if (hi < 0 || lo < 0)
                        return -1;
                    ch = (char)(hi * 16 + lo);
                    k += 2;
                }
                if (ch == '\0' || o + 1 >= cap)
                    return -1;
                out[o++] = ch;
            }
            out[o] = '\0';
            return 1;
        }
        i = end + 1;
    }
    return 0;
}

/* over_tls: Berth serves TLS itself, or a trusted proxy terminated it (http_req_https) */
static bool over_tls(const struct req *r)
{
    return r->http != NULL && http_req_https(r->http);
}

static int reply_status(struct http_reply *out, unsigned status, const char *body)
{
    out->resp = body != NULL ? http_resp_json(body, strlen(body)) : http_resp_empty();
    out->status = status;
    out->len = body != NULL ? strlen(body) : 0;
    return out->resp != NULL ? 0 : -1;
}

static int add_hdr(struct http_reply *out, const char *k, const char *v)
{
    return http_resp_header(out->resp, k, v);
}

static int login(struct req *r, struct http_reply *out)
{
    char user[AUTHN_USER_MAX + 1];
    char id[API_SESSION_ID_HEX + 1];
    char csrf[API_SESSION_CSRF_HEX + 1];
    char cookie[256];
    char addr[64], addr_esc[64];
    char shown[3 * 4 + 4]; /* API_LOGIN_LOG_PREFIX bytes, escaped, and "..." */
    char retry[16];
    char *pass;
    struct principal who;
    unsigned retry_s = 0;
    struct berr e = {0};
    int rc, fu, fp;

    if (r->method != HTTP_POST)
        return reply_status(out, HTTP_METHOD_NOT_ALLOWED,
                            "{\"errors\":[{\"code\":\"METHOD_NOT_ALLOWED\","
                            "\"message\":\"method not allowed\"}]}");
    pass = mem_malloc(AUTHN_PASS_MAX + 1);
    if (pass == NULL)
        return -1;
    fu = api_form_field(r->body.data != NULL ? r->body.data : "", r->body.len, "principal", user,
                        sizeof(user));
    fp = api_form_field(r->body.data != NULL ? r->body.data : "", r->body.len, "password", pass,
                        AUTHN_PASS_MAX + 1);
    if (fu <= 0 || fp <= 0 || user[0] == '\0') {
        rc = reply_status(out, HTTP_BAD_REQUEST,
                          "{\"errors\":[{\"code\":\"BAD_REQUEST\","
                          "\"message\":\"principal and password are required\"}]}");
        goto out;
    }
    authz_client_addr(r, addr, sizeof(addr));
    if (authn_password(r->reg->authn, user, pass, addr, &who, &retry_s, &e) < 0 ||
        who.kind != PRINCIPAL_USER) {
        if (e.code == BERR_TOOMANYREQUESTS && who.kind == PRINCIPAL_ANONYMOUS) {
            rc = reply_status(out, HTTP_TOO_MANY_REQUESTS,
                              "{\"errors\":[{\"code\":\"TOO_MANY_REQUESTS\","
                              "\"message\":\"too many failed logins, retry later\"}]}");
            (void)snprintf(retry, sizeof(retry), "%u", retry_s); /* fits */
            if (rc == 0 && retry_s > 0 && add_hdr(out, HTTP_HEADER_RETRY_AFTER, retry) < 0)
                rc = -1;
            goto out;
        }
        if (e.code == BERR_INTERNAL && who.kind == PRINCIPAL_ANONYMOUS) {
            rc = -1;
            goto out;
        }
        req_audit_login_failed(r, user);
        /* a refused name may be a password typed in the wrong field: a short, escaped prefix */
        log_msg(LOG_INFO, "%s web login refused for %s from %s", r->reqid,
                log_escape_prefix(shown, sizeof(shown), user, API_LOGIN_LOG_PREFIX),
                log_escape(addr_esc, sizeof(addr_esc), addr));
        rc = reply_status(out, HTTP_UNAUTHORIZED,
                          "{\"errors\":[{\"code\":\"UNAUTHORIZED\","
                          "\"message\":\"invalid user name or password\"}]}");
        goto out;
    }
    if (r->reg->sessions == NULL || api_session_create(r->reg->sessions, &who, id, csrf, &e) < 0) {
        rc = -1;
        goto out;
    }
    rc = snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", SID_COOKIE,
                  id, over_tls(r) ? "; Secure" : "");
    if (rc < 0 || (size_t)rc >= sizeof(cookie)) {
        rc = -1;
        goto out;
    }
    rc = reply_status(out, HTTP_OK, NULL);
    if (rc == 0 &&
        (add_hdr(out, HTTP_HEADER_SET_COOKIE, cookie) < 0 || add_hdr(out, CSRF_HEADER, csrf) < 0 ||
         add_hdr(out, HTTP_HEADER_CACHE_CONTROL, "no-store") < 0))
        rc = -1;
    (void)snprintf(r->user, sizeof(r->user), "%s", who.name); /* same caps */
out:
    OPENSSL_cleanse(pass, AUTHN_PASS_MAX + 1);
    OPENSSL_cleanse(id, sizeof(id));
    OPENSSL_cleanse(csrf, sizeof(csrf));
    OPENSSL_cleanse(cookie, sizeof(cookie));
    mem_free(pass);
    return rc;
}

static int log_out(struct req *r, struct http_reply *out)
{
    char cookie[128];
    const char *sid = cookie_sid(r);

    if (r->method != HTTP_GET && r->method != HTTP_POST)
        return reply_status(out, HTTP_METHOD_NOT_ALLOWED,
                            "{\"errors\":[{\"code\":\"METHOD_NOT_ALLOWED\","
                            "\"message\":\"method not allowed\"}]}");
    if (sid != NULL)
        api_session_drop(r->reg->sessions, sid);
    (void)snprintf(cookie, sizeof(cookie), "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
                   SID_COOKIE, over_tls(r) ? "; Secure" : ""); /* fits */
    if (reply_status(out, HTTP_OK, NULL) < 0 || add_hdr(out, HTTP_HEADER_SET_COOKIE, cookie) < 0)
        return -1;
    return 0;
}

int api_session_handle(struct req *r, struct http_reply *out)
{
    int rc;

    if (strcmp(r->url, "/c/login") == 0)
        rc = login(r, out);
    else if (strcmp(r->url, "/c/log_out") == 0)
        rc = log_out(r, out);
    else
        rc = reply_status(out, HTTP_NOT_FOUND,
                          "{\"errors\":[{\"code\":\"NOT_FOUND\",\"message\":\"not found\"}]}");
    return api_handle_end(r, out, rc);
}
