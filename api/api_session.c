/* api_session.c - cookie sessions for the web UI, as Harbor's: POST /c/login (form fields
 * principal and password) sets `sid`, GET /c/log_out drops it, and /api/v2.0 calls carrying the
 * cookie are made as the session's user; unsafe methods must echo the session's CSRF token in
 * X-Harbor-CSRF-Token (403 "CSRF token invalid" otherwise). Basic-auth callers are not subject to
 * CSRF: a browser never adds an Authorization header on its own to a cross-site request.
 *
 * Sessions live in the metadata store's shared state (meta.h "shared state"), so every replica
 * over one database sees the same sessions:
 *   ns "session",  key SHA-256 hex of the session id (the id itself is never stored):
 *                  {"user","uid","sysadmin","csrf","created","used"} (times: wall-clock ms)
 *   ns "session_u", key SHA-256 hex of the user name: [[session key, created], ...], the
 *                  user's sessions, for the per-user cap and for dropping them all.
 * There is no in-process cache: every lookup reads the record, so a logout or a password
 * change on any replica is honoured by every replica at the next request.
 *
 * Invariants:
 *   1. Session ids and CSRF tokens are 256 bits from RAND_bytes (util rand_hex), compared with
 *      CRYPTO_memcmp over their fixed length; neither is ever logged, and the store holds only
 *      the id's SHA-256.
 *   2. The cookie is HttpOnly, SameSite=Strict, Path=/, and Secure when the request came over
 *      TLS (served by Berth, or X-Forwarded-Proto: https from a proxy in trusted_proxies).
 *   3. A session idle longer than idle_ms, or older than lifetime_ms, is gone: a lookup that
 *      finds it so removes it, and its record's expires (the earlier of the two ends, rounded
 *      up to a second) lets the store drop it unread. The last use is written back at most
 *      once per touch_ms (a minute, less for short idle times: half of idle), so a busy session
 *      costs one write a minute, not one per request; the idle time therefore counts from a
 *      use at most touch_ms old.
 *   4. One user holds at most per_user sessions: a login past that drops the same user's
 *      oldest session (by login time), never another user's. The user's list is changed only
 *      by compare-and-swap on its version, so two replicas logging the same user in at once
 *      both land in it. A session is listed before its record is written; an entry whose record
 *      is absent is pruned only once it is SESSION_ORPHAN_MS old (a login still in flight on
 *      another replica is never pruned), so drop_user always finds every live session.
 *   5. Only users log in (robots are refused, as Harbor's UI does); failures go through authn's
 *      throttle and are recorded in the audit log; passwords are wiped after use.
 * Thread-safe: struct api_sessions is read-only after api_sessions_new; the store serializes. */
#include "api/api_session.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "common/digest.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "api/api_ext.h"
#include "registry/audit_hook.h"
#include "registry/authz.h"
#include "registry/req.h"
#include "storage/meta.h"

#define SID_COOKIE "sid"
#define CSRF_HEADER "X-Harbor-CSRF-Token"
/* bytes of a refused login name that reach the log (the rest is "...") */
#define API_LOGIN_LOG_PREFIX 3

#define NS_SESSION "session"
#define NS_USER "session_u"
#define SESSION_TOUCH_MS (60 * 1000)  /* invariant 3 */
#define SESSION_ORPHAN_MS (60 * 1000) /* invariant 4 */
#define SESSION_CAS_TRIES 16          /* compare-and-swap rounds on a user's list */
#define SESSION_USER_MAX 500 /* a user's list: 500 entries of ~85 bytes fit META_STATE_VAL_MAX */

struct api_sessions {
    struct meta *m;
    int64_t idle_ms;
    int64_t lifetime_ms;
    int64_t touch_ms;
    unsigned per_user;
};

int api_sessions_new(struct api_sessions **out, struct meta *m, unsigned idle_s,
                     unsigned lifetime_s, unsigned per_user, struct berr *err)
{
    struct api_sessions *s;

    *out = NULL;
    if (m == NULL)
        return berr_set(err, BERR_INTERNAL, "sessions need a metadata store");
    s = mem_calloc(1, sizeof(*s));
    if (s == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    s->m = m;
    s->idle_ms = (int64_t)(idle_s > 0 ? idle_s : API_SESSION_IDLE_S_DEFAULT) * 1000;
    s->lifetime_ms = (int64_t)(lifetime_s > 0 ? lifetime_s : API_SESSION_LIFETIME_S_DEFAULT) * 1000;
    s->touch_ms = s->idle_ms / 2 < SESSION_TOUCH_MS ? s->idle_ms / 2 : SESSION_TOUCH_MS;
    s->per_user = per_user > 0 ? per_user : API_SESSION_PER_USER_DEFAULT;
    if (s->per_user > SESSION_USER_MAX)
        s->per_user = SESSION_USER_MAX;
    *out = s;
    return 0;
}

void api_sessions_free(struct api_sessions *s)
{
    mem_free(s);
}

/* hash_key writes the SHA-256 hex of s (a store key that tells nothing of s) */
static int hash_key(char out[DIGEST_HEX_LEN + 1], const char *s)
{
    struct digest d;

    if (digest_of(&d, s, strlen(s)) < 0)
        return -1;
    memcpy(out, d.hex, DIGEST_HEX_LEN + 1);
    return 0;
}

/* rec_expires: when the store may drop a record used at `used` (invariant 3), in seconds */
static int64_t rec_expires(const struct api_sessions *s, int64_t created, int64_t used)
{
    int64_t end = used + s->idle_ms;

    if (created + s->lifetime_ms < end)
        end = created + s->lifetime_ms;
    return (end + 999) / 1000 + 1;
}

/* ---- a user's list of sessions: [[key, created], ...] ---- */

struct ulist {
    char key[SESSION_USER_MAX + 1][DIGEST_HEX_LEN + 1];
    int64_t created[SESSION_USER_MAX + 1];
    size_t n;
};

static int ulist_parse(struct ulist *l, const char *val, size_t len)
{
    json_t *arr = json_loadb(val, len, 0, NULL);
    size_t i;
    json_t *e;

    l->n = 0;
    if (!json_is_array(arr)) {
        json_decref(arr);
        return -1;
    }
    json_array_foreach(arr, i, e)
    {
        const char *k = json_string_value(json_array_get(e, 0));
        json_t *c = json_array_get(e, 1);

        if (k == NULL || strlen(k) != DIGEST_HEX_LEN || !json_is_integer(c) ||
            l->n >= SESSION_USER_MAX)
            continue;
        memcpy(l->key[l->n], k, DIGEST_HEX_LEN + 1);
        l->created[l->n] = (int64_t)json_integer_value(c);
        l->n++;
    }
    json_decref(arr);
    return 0;
}

static char *ulist_dump(const struct ulist *l, size_t *len)
{
    json_t *arr = json_array();
    char *out = NULL;
    size_t i;

    if (arr == NULL)
        return NULL;
    for (i = 0; i < l->n; i++) {
        if (json_array_append_new(arr, json_pack("[s,I]", l->key[i], (json_int_t)l->created[i])) <
            0)
            goto out;
    }
    out = json_dumps(arr, JSON_COMPACT);
    if (out != NULL)
        *len = strlen(out);
out:
    json_decref(arr);
    return out;
}

static void ulist_del(struct ulist *l, size_t i)
{
    memmove(&l->key[i], &l->key[i + 1], (l->n - i - 1) * sizeof(l->key[0]));
    memmove(&l->created[i], &l->created[i + 1], (l->n - i - 1) * sizeof(l->created[0]));
    l->n--;
}

/* ulist_add puts (key, now) into the list of user ukey, pruning entries whose record is gone
 * (once old enough) and evicting the oldest past per_user; the evicted records are removed
 * after the list is stored. */
static int ulist_add(struct api_sessions *s, const char *ukey, const char *key, int64_t now,
                     struct berr *err)
{
    struct ulist *l = mem_malloc(sizeof(*l));
    struct ulist *gone = mem_malloc(sizeof(*gone));
    int rc = -1;

    if (l == NULL || gone == NULL) {
        rc = berr_set(err, BERR_INTERNAL, "out of memory");
        goto out;
    }
    for (int tries = 0; tries < SESSION_CAS_TRIES; tries++) {
        char *val = NULL, *dump;
        size_t len = 0, i;
        int64_t ver = 0, newest = now;
        int found;

        found = meta_state_get(s->m, NS_USER, ukey, &val, &len, &ver, err);
        if (found < 0)
            goto out;
        l->n = 0;
        if (found == 1 && ulist_parse(l, val, len) < 0)
            log_msg(LOG_WARN, "sessions: a user's session list was unreadable; started afresh");
        mem_free(val);
        gone->n = 0;
        for (i = 0; i < l->n;) { /* invariant 4: prune old orphans */
            char *sv = NULL;
            int live = meta_state_get(s->m, NS_SESSION, l->key[i], &sv, NULL, NULL, err);

            mem_free(sv);
            if (live < 0)
                goto out;
            if (live == 0 && now - l->created[i] >= SESSION_ORPHAN_MS)
                ulist_del(l, i);
            else
                i++;
        }
        while (l->n >= s->per_user) { /* the user's own oldest */
            size_t old = 0;
            for (i = 1; i < l->n; i++)
                if (l->created[i] < l->created[old])
                    old = i;
            memcpy(gone->key[gone->n], l->key[old], DIGEST_HEX_LEN + 1);
            gone->n++;
            ulist_del(l, old);
        }
        memcpy(l->key[l->n], key, DIGEST_HEX_LEN + 1);
        l->created[l->n++] = now;
        for (i = 0; i < l->n; i++)
            if (l->created[i] > newest)
                newest = l->created[i];
        dump = ulist_dump(l, &len);
        if (dump == NULL) {
            rc = berr_set(err, BERR_INTERNAL, "out of memory");
            goto out;
        }
        rc = meta_state_put(s->m, NS_USER, ukey, dump, len, (newest + s->lifetime_ms) / 1000 + 2,
                            found == 1 ? ver : 0, NULL, err);
        free(dump); /* jansson's allocation */
        if (rc == 0) {
            for (i = 0; i < gone->n; i++)
                (void)meta_state_remove(s->m, NS_SESSION, gone->key[i], META_STATE_ANY, err);
            goto out;
        }
        if (err->code != BERR_CONFLICT)
            goto out;
    }
    rc = berr_set(err, BERR_INTERNAL, "sessions: too much contention on a user's sessions");
out:
    mem_free(l);
    mem_free(gone);
    return rc;
}

int api_session_create(struct api_sessions *s, const struct principal *who,
                       char id[API_SESSION_ID_HEX + 1], char csrf[API_SESSION_CSRF_HEX + 1],
                       struct berr *err)
{
    char key[DIGEST_HEX_LEN + 1], ukey[DIGEST_HEX_LEN + 1];
    int64_t now = now_ms_wall();
    char *text = NULL;
    json_t *o = NULL;
    int rc = -1;

    id[0] = '\0';
    csrf[0] = '\0';
    if (who->kind != PRINCIPAL_USER || who->name[0] == '\0')
        return berr_set(err, BERR_INTERNAL, "only users hold sessions");
    if (rand_hex(id, API_SESSION_ID_HEX + 1, API_SESSION_ID_HEX / 2) < 0 ||
        rand_hex(csrf, API_SESSION_CSRF_HEX + 1, API_SESSION_CSRF_HEX / 2) < 0 ||
        hash_key(key, id) < 0 || hash_key(ukey, who->name) < 0) {
        rc = berr_set(err, BERR_INTERNAL, "internal error");
        goto out;
    }
    o = json_pack("{s:s,s:I,s:b,s:s,s:I,s:I}", "user", who->name, "uid", (json_int_t)who->user_id,
                  "sysadmin", who->sysadmin ? 1 : 0, "csrf", csrf, "created", (json_int_t)now,
                  "used", (json_int_t)now);
    text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text == NULL) {
        rc = berr_set(err, BERR_INTERNAL, "out of memory");
        goto out;
    }
    /* invariant 4: listed first, then written */
    if (ulist_add(s, ukey, key, now, err) < 0)
        goto out;
    rc = meta_state_put(s->m, NS_SESSION, key, text, strlen(text), rec_expires(s, now, now), 0,
                        NULL, err);
out:
    if (text != NULL) {
        OPENSSL_cleanse(text, strlen(text));
        free(text); /* jansson's allocation */
    }
    json_decref(o);
    if (rc < 0) {
        OPENSSL_cleanse(id, API_SESSION_ID_HEX + 1);
        OPENSSL_cleanse(csrf, API_SESSION_CSRF_HEX + 1);
    }
    return rc;
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

/* touch writes the last use back (invariant 3); a lost race is fine: another request of the
 * same session wrote a use as recent */
static void touch(struct api_sessions *s, const char *key, json_t *o, int64_t created, int64_t now,
                  int64_t version)
{
    struct berr e;
    char *text;

    if (json_object_set_new(o, "used", json_integer((json_int_t)now)) < 0)
        return;
    text = json_dumps(o, JSON_COMPACT);
    if (text == NULL)
        return;
    if (meta_state_put(s->m, NS_SESSION, key, text, strlen(text), rec_expires(s, created, now),
                       version, NULL, &e) < 0 &&
        e.code != BERR_CONFLICT)
        log_msg(LOG_WARN, "sessions: last use not stored: %s", e.msg);
    OPENSSL_cleanse(text, strlen(text));
    free(text); /* jansson's allocation */
}

int api_session_lookup(struct api_sessions *s, const char *id, struct principal *who,
                       char csrf[API_SESSION_CSRF_HEX + 1])
{
    char key[DIGEST_HEX_LEN + 1];
    int64_t now = now_ms_wall(), version = 0;
    char *val = NULL;
    size_t len = 0;
    json_t *o = NULL, *jsa;
    const char *name, *tok;
    json_int_t uid = 0, created = 0, used = 0;
    struct berr e;
    int rc = -1;

    memset(who, 0, sizeof(*who));
    csrf[0] = '\0';
    if (s == NULL || !id_ok(id) || hash_key(key, id) < 0)
        return -1;
    rc = meta_state_get(s->m, NS_SESSION, key, &val, &len, &version, &e);
    if (rc < 0)
        log_msg(LOG_WARN, "sessions: lookup failed: %s", e.msg);
    if (rc != 1) {
        rc = -1;
        goto out;
    }
    rc = -1;
    o = json_loadb(val, len, 0, NULL);
    name = json_string_value(json_object_get(o, "user"));
    tok = json_string_value(json_object_get(o, "csrf"));
    jsa = json_object_get(o, "sysadmin");
    if (json_unpack(o, "{s:I,s:I,s:I}", "uid", &uid, "created", &created, "used", &used) < 0 ||
        name == NULL || strlen(name) > AUTHN_USER_MAX || name[0] == '\0' || tok == NULL ||
        strlen(tok) != API_SESSION_CSRF_HEX || !json_is_boolean(jsa)) {
        log_msg(LOG_WARN, "sessions: a session record is unreadable; dropped");
        (void)meta_state_remove(s->m, NS_SESSION, key, version, &e);
        goto out;
    }
    if (now - used > s->idle_ms || now - created >= s->lifetime_ms) { /* invariant 3 */
        (void)meta_state_remove(s->m, NS_SESSION, key, version, &e);
        goto out;
    }
    memcpy(who->name, name, strlen(name) + 1);
    who->kind = PRINCIPAL_USER;
    who->user_id = (int64_t)uid;
    who->sysadmin = json_is_true(jsa);
    memcpy(csrf, tok, API_SESSION_CSRF_HEX + 1);
    rc = 0;
    if (now - used >= s->touch_ms)
        touch(s, key, o, (int64_t)created, now, version);
out:
    if (val != NULL) {
        OPENSSL_cleanse(val, len);
        mem_free(val);
    }
    json_decref(o);
    return rc;
}

void api_session_drop(struct api_sessions *s, const char *id)
{
    char key[DIGEST_HEX_LEN + 1];
    struct berr e;

    if (s == NULL || !id_ok(id) || hash_key(key, id) < 0)
        return;
    if (meta_state_remove(s->m, NS_SESSION, key, META_STATE_ANY, &e) < 0)
        log_msg(LOG_WARN, "sessions: logout not stored: %s", e.msg);
}

int api_session_drop_user(struct api_sessions *s, const char *name, struct berr *err)
{
    char ukey[DIGEST_HEX_LEN + 1];
    struct ulist *l;
    int rc = -1;

    if (s == NULL)
        return 0;
    if (hash_key(ukey, name) < 0)
        return berr_set(err, BERR_INTERNAL, "internal error");
    l = mem_malloc(sizeof(*l));
    if (l == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    for (int tries = 0; tries < SESSION_CAS_TRIES; tries++) {
        char *val = NULL;
        size_t len = 0, i;
        int64_t ver = 0;
        int found = meta_state_get(s->m, NS_USER, ukey, &val, &len, &ver, err);

        if (found <= 0) {
            rc = found; /* none listed: none live (invariant 4) */
            goto out;
        }
        l->n = 0;
        (void)ulist_parse(l, val, len);
        mem_free(val);
        for (i = 0; i < l->n; i++)
            if (meta_state_remove(s->m, NS_SESSION, l->key[i], META_STATE_ANY, err) < 0)
                goto out;
        /* the list goes only as it was read: a login meanwhile made a new version, whose
         * sessions the next round removes */
        found = meta_state_remove(s->m, NS_USER, ukey, ver, err);
        if (found < 0)
            goto out;
        if (found == 1) {
            rc = 0;
            goto out;
        }
    }
    rc = berr_set(err, BERR_INTERNAL, "sessions: too much contention on a user's sessions");
out:
    mem_free(l);
    return rc;
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
