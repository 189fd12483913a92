/* api_users.c - /api/v2.0/users: list, create, get, update, delete, password, sysadmin flag,
 * /users/current and /users/search (Harbor's UserResp, UserCreationReq, UserProfile,
 * PasswordReq and UserSysAdminFlag bodies).
 *
 * Invariants:
 *   1. Managing users is for sysadmins; a user may read and update its own profile and change its
 *      own password (with the old one; a sysadmin changing another user's omits it). The router
 *      checks both (SYSADMIN and SELF rows of routes.c); what is left here depends on the
 *      object: nobody deletes or un-admins itself.
 *   2. A new password passes password_policy_check and is stored only as password_hash();
 *      plaintext is wiped (OPENSSL_cleanse) and never logged or echoed.
 *   3. A user name may not start with the robot prefix, so a user can never shadow a robot.
 *   4. After a password change or delete, authn_forget drops the cached logins of that user
 *      and api_session_drop_user its web UI sessions (also after a sysadmin change).
 * Thread-safe: per-request state only. */
#include "api/api_int.h"

#include <string.h>

#include <openssl/crypto.h>

#include "auth/password.h"
#include "common/mem.h"
#include "api/api_session.h"
#include "registry/authz.h"

static json_t *user_json(const struct meta_user_info *u)
{
    char created[32];
    char updated[32];

    api_time(u->u.created_at, created, sizeof(created));
    api_time(u->updated_at, updated, sizeof(updated));
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:b,s:b,s:s,s:s}", "user_id", (json_int_t)u->u.id,
                     "username", u->u.name, "email", u->email, "realname", u->realname, "comment",
                     u->comment, "sysadmin_flag", u->u.sysadmin, "admin_role_in_auth", 0,
                     "creation_time", created, "update_time", updated);
}

static bool username_ok(const struct api_call *c, const char *s)
{
    const char *prefix = authn_robot_prefix(c->r->reg->authn);
    size_t len = strlen(s);
    size_t i;

    if (len == 0 || len > 255)
        return false;
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x21 || ch == 0x7f || strchr(",\"~#$%:/", ch) != NULL)
            return false;
    }
    return prefix == NULL || prefix[0] == '\0' || strncmp(s, prefix, strlen(prefix)) != 0;
}

static bool email_ok(const char *s)
{
    const char *at = strchr(s, '@');

    return s[0] == '\0' || (at != NULL && at != s && at[1] != '\0' && strlen(s) <= META_TEXT_MAX);
}

static int user_get(struct api_call *c, int64_t id)
{
    struct meta_user_info *u = mem_malloc(sizeof(*u));
    struct berr e;
    int rc;

    if (u == NULL)
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    if (meta_user_info_get(c->r->reg->meta, id, u, &e) < 0)
        rc = api_fail_berr(c, &e);
    else
        rc = api_reply_json(c, HTTP_OK, user_json(u));
    OPENSSL_cleanse(u->u.pw_hash, sizeof(u->u.pw_hash));
    mem_free(u);
    return rc;
}

int api_user_list(struct api_call *c)
{
    struct meta_user_info *rows = NULL;
    struct meta_list_q q;
    struct api_page p;
    struct berr e;
    json_t *arr = NULL;
    size_t n = 0;
    size_t i;
    int64_t total = 0;
    int rc;

    if (api_page_parse(c, api_q_users, "username", &p) < 0)
        return -1;
    api_page_q(&p, &q);
    rows = mem_calloc(API_PAGE_SIZE_MAX, sizeof(*rows));
    arr = json_array();
    if (rows == NULL || arr == NULL) {
        rc = api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
        goto out;
    }
    if (meta_user_list(c->r->reg->meta, &q, rows, API_PAGE_SIZE_MAX, &n, &total, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    for (i = 0; arr != NULL && i < n; i++)
        api_array_push(&arr, user_json(&rows[i]));
    rc = api_reply_page(c, arr, &p, total);
    arr = NULL;
out:
    json_decref(arr);
    mem_free(rows);
    return rc;
}

/* users/search?username=: any authenticated caller may find users to add as members */
int api_user_search(struct api_call *c)
{
    struct meta_user_info *rows = NULL;
    struct meta_list_q q;
    struct api_page p;
    struct berr e;
    const char *name = req_query(c->r, "username");
    json_t *arr = NULL;
    size_t n = 0;
    size_t i;
    int64_t total = 0;
    int rc;

    if (name == NULL || name[0] == '\0' || strlen(name) > 255)
        return api_fail(c, HTTP_BAD_REQUEST, "username is required");
    if (api_page_parse(c, api_q_users, "username", &p) < 0)
        return -1;
    api_page_q(&p, &q);
    q.name = name;
    q.fuzzy = true;
    q.sort = NULL;
    rows = mem_calloc(API_PAGE_SIZE_MAX, sizeof(*rows));
    arr = json_array();
    if (rows == NULL || arr == NULL) {
        rc = api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
        goto out;
    }
    if (meta_user_list(c->r->reg->meta, &q, rows, API_PAGE_SIZE_MAX, &n, &total, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    for (i = 0; arr != NULL && i < n; i++)
        api_array_push(&arr, json_pack("{s:I,s:s}", "user_id", (json_int_t)rows[i].u.id, "username",
                                       rows[i].u.name));
    rc = api_reply_page(c, arr, &p, total);
    arr = NULL;
out:
    json_decref(arr);
    mem_free(rows);
    return rc;
}

int api_user_create(struct api_call *c)
{
    char hash[PASSWORD_HASH_MAX];
    const char *username, *password, *email, *realname, *comment;
    bool has_user, has_pw, has_email, has_real, has_comment;
    json_t *body = NULL;
    struct berr e;
    char loc[64];
    int64_t id = 0;
    int rc;

    rc = api_body(c, &body);
    if (rc < 0)
        return -1;
    if (api_get_str(c, body, "username", &username, &has_user) < 0 ||
        api_get_str(c, body, "password", &password, &has_pw) < 0 ||
        api_get_str(c, body, "email", &email, &has_email) < 0 ||
        api_get_str(c, body, "realname", &realname, &has_real) < 0 ||
        api_get_str(c, body, "comment", &comment, &has_comment) < 0) {
        rc = 0;
        goto out;
    }
    if (!has_user || !username_ok(c, username)) {
        rc = api_fail(c, HTTP_BAD_REQUEST, "username is missing or invalid");
        goto out;
    }
    if (!has_pw) {
        rc = api_fail(c, HTTP_BAD_REQUEST, "password is required");
        goto out;
    }
    if (password_policy_check(password, &e) < 0) {
        rc = api_fail(c, HTTP_BAD_REQUEST, "%s", e.msg);
        goto out;
    }
    if (has_email && !email_ok(email)) {
        rc = api_fail(c, HTTP_BAD_REQUEST, "email is invalid");
        goto out;
    }
    if (password_hash(hash, sizeof(hash), password, &e) < 0 ||
        meta_user_create(c->r->reg->meta, username, hash, false, &id, &e) < 0 ||
        meta_user_update(c->r->reg->meta, id, has_email ? email : NULL, has_real ? realname : NULL,
                         has_comment ? comment : NULL, &e) < 0) {
        if (id > 0) {
            struct berr e2;
            (void)meta_user_delete(c->r->reg->meta, id, &e2); /* undo; e says why */
        }
        rc = api_fail_berr(c, &e);
        goto out;
    }
    (void)snprintf(loc, sizeof(loc), "/users/%lld", (long long)id); /* fits */
    rc = api_reply_created(c, loc);
out:
    OPENSSL_cleanse(hash, sizeof(hash));
    if (body != NULL) {
        /* wipe the plaintext password held by jansson */
        json_t *pw = json_object_get(body, "password");
        if (json_is_string(pw))
            OPENSSL_cleanse((void *)(uintptr_t)json_string_value(pw), json_string_length(pw));
    }
    json_decref(body);
    return rc;
}

int api_user_update(struct api_call *c)
{
    int64_t id = c->id;
    const char *email, *realname, *comment;
    bool has_email, has_real, has_comment;
    json_t *body = NULL;
    struct berr e;
    int rc;

    rc = api_body(c, &body);
    if (rc < 0)
        return -1;
    if (api_get_str(c, body, "email", &email, &has_email) < 0 ||
        api_get_str(c, body, "realname", &realname, &has_real) < 0 ||
        api_get_str(c, body, "comment", &comment, &has_comment) < 0) {
        rc = 0;
        goto out;
    }
    if (has_email && !email_ok(email)) {
        rc = api_fail(c, HTTP_BAD_REQUEST, "email is invalid");
        goto out;
    }
    if (meta_user_update(c->r->reg->meta, id, email, realname, comment, &e) < 0)
        rc = api_fail_berr(c, &e);
    else
        rc = api_reply_empty(c, HTTP_OK);
out:
    json_decref(body);
    return rc;
}

int api_user_delete(struct api_call *c)
{
    int64_t id = c->id;
    struct meta_user u;
    struct berr e;

    if (c->who.user_id == id)
        return api_fail(c, HTTP_FORBIDDEN, "can not delete yourself");
    if (meta_user_get_by_id(c->r->reg->meta, id, &u, &e) < 0 ||
        meta_user_delete(c->r->reg->meta, id, &e) < 0)
        return api_fail_berr(c, &e);
    authn_forget(c->r->reg->authn, u.name);
    OPENSSL_cleanse(u.pw_hash, sizeof(u.pw_hash));
    if (api_session_drop_user(c->r->reg->sessions, u.name, &e) < 0)
        return api_fail_berr(c, &e);
    return api_reply_empty(c, HTTP_OK);
}

static void wipe_field(json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);

    if (json_is_string(v))
        OPENSSL_cleanse((void *)(uintptr_t)json_string_value(v), json_string_length(v));
}

/* check_old_password proves oldp like a login (authn_password): throttled per (user, address)
 * apart from logins, within the password-check budget. 0 when right; 1 when
 * answered (403 wrong, 429 throttled or no budget, with Retry-After); -1 on failure. */
static int check_old_password(struct api_call *c, const char *name, const char *oldp)
{
    struct principal who;
    char addr[64], retry[16];
    unsigned retry_s = 0;
    struct berr e = {0};
    int rc;

    /* counted apart from logins ("<addr> pw"): the caller's own successful logins, which
     * authenticate this very request, must not clear the failures of old-password guesses */
    authz_client_addr(c->r, addr, sizeof(addr) - 3);
    memcpy(addr + strlen(addr), " pw", 4);
    if (authn_password(c->r->reg->authn, name, oldp, addr, &who, &retry_s, &e) == 0)
        return who.kind == PRINCIPAL_USER
                       ? 0
                       : (api_fail(c, HTTP_FORBIDDEN, "the old password is incorrect") < 0 ? -1
                                                                                           : 1);
    if (e.code == BERR_TOOMANYREQUESTS) {
        c->r->retry_after_s = retry_s;
        rc = api_fail(c, HTTP_TOO_MANY_REQUESTS, "%s", e.msg);
        (void)snprintf(retry, sizeof(retry), "%u", retry_s); /* fits */
        if (rc == 0 && retry_s > 0 && api_add_header(c, HTTP_HEADER_RETRY_AFTER, retry) < 0)
            rc = -1;
        return rc < 0 ? -1 : 1;
    }
    if (e.code == BERR_UNAUTHORIZED)
        return api_fail(c, HTTP_FORBIDDEN, "the old password is incorrect") < 0 ? -1 : 1;
    return api_fail_berr(c, &e) < 0 ? -1 : 1;
}

/* password_change_checked: the body is parsed; checks and stores */
static int password_change_checked(struct api_call *c, int64_t id, const char *oldp, bool has_old,
                                   const char *newp)
{
    char hash[PASSWORD_HASH_MAX];
    struct meta_user u;
    struct berr e;
    int rc;

    if (meta_user_get_by_id(c->r->reg->meta, id, &u, &e) < 0)
        return api_fail_berr(c, &e);
    /* a sysadmin resets another user's password without the old one; everyone else proves it */
    if (!(api_is_sysadmin(c) && c->who.user_id != id)) {
        if (!has_old) {
            rc = api_fail(c, HTTP_BAD_REQUEST, "old_password is required");
            goto out;
        }
        rc = check_old_password(c, u.name, oldp);
        if (rc != 0) {
            rc = rc < 0 ? -1 : 0;
            goto out;
        }
        if (strcmp(oldp, newp) == 0) {
            rc = api_fail(c, HTTP_BAD_REQUEST, "the new password is the same as the old one");
            goto out;
        }
    }
    if (password_policy_check(newp, &e) < 0) {
        rc = api_fail(c, HTTP_BAD_REQUEST, "%s", e.msg);
        goto out;
    }
    if (password_hash(hash, sizeof(hash), newp, &e) < 0 ||
        meta_user_set_password(c->r->reg->meta, id, hash, &e) < 0) {
        rc = api_fail_berr(c, &e);
    } else {
        authn_forget(c->r->reg->authn, u.name);
        if (api_session_drop_user(c->r->reg->sessions, u.name, &e) < 0)
            rc = api_fail_berr(c, &e);
        else
            rc = api_reply_empty(c, HTTP_OK);
    }
    OPENSSL_cleanse(hash, sizeof(hash));
out:
    OPENSSL_cleanse(u.pw_hash, sizeof(u.pw_hash));
    return rc;
}

int api_user_password(struct api_call *c)
{
    int64_t id = c->id;
    const char *oldp, *newp;
    bool has_old, has_new;
    json_t *body = NULL;
    int rc;

    rc = api_body(c, &body);
    if (rc < 0)
        return -1;
    if (api_get_str(c, body, "old_password", &oldp, &has_old) < 0 ||
        api_get_str(c, body, "new_password", &newp, &has_new) < 0) {
        rc = 0;
        goto out;
    }
    if (!has_new)
        rc = api_fail(c, HTTP_BAD_REQUEST, "new_password is required");
    else
        rc = password_change_checked(c, id, oldp, has_old, newp);
out:
    wipe_field(body, "old_password");
    wipe_field(body, "new_password");
    json_decref(body);
    return rc;
}

/* set_sysadmin stores the flag and drops the user's cached logins, which carry the old flag */
static int set_sysadmin(struct api_call *c, int64_t id, bool flag)
{
    struct meta_user u;
    struct berr e;

    if (meta_user_get_by_id(c->r->reg->meta, id, &u, &e) < 0 ||
        meta_user_set_sysadmin(c->r->reg->meta, id, flag, &e) < 0)
        return api_fail_berr(c, &e);
    OPENSSL_cleanse(u.pw_hash, sizeof(u.pw_hash));
    authn_forget(c->r->reg->authn, u.name);
    if (api_session_drop_user(c->r->reg->sessions, u.name, &e) < 0)
        return api_fail_berr(c, &e);
    return api_reply_empty(c, HTTP_OK);
}

int api_user_sysadmin(struct api_call *c)
{
    int64_t id = c->id;
    json_t *body = NULL;
    bool flag;
    bool has;
    int rc;

    rc = api_body(c, &body);
    if (rc < 0)
        return -1;
    if (api_get_bool(c, body, "sysadmin_flag", &flag, &has) < 0) {
        rc = 0;
        goto out;
    }
    if (!has)
        rc = api_fail(c, HTTP_BAD_REQUEST, "sysadmin_flag is required");
    else if (id == c->who.user_id && !flag)
        rc = api_fail(c, HTTP_FORBIDDEN, "can not revoke your own sysadmin flag");
    else
        rc = set_sysadmin(c, id, flag);
out:
    json_decref(body);
    return rc;
}

int api_user_current(struct api_call *c)
{
    return user_get(c, c->who.user_id);
}

int api_user_get(struct api_call *c)
{
    return user_get(c, c->id);
}
