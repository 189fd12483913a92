/* api_robots.c - /api/v2.0/robots[/{id}] and /projects/{p}/robots: robot accounts (Harbor's
 * Robot, RobotCreate, RobotCreated and RobotSec bodies).
 *
 * Invariants:
 *   1. A secret is made from RAND_bytes (ROBOT_SECRET_LEN characters of [A-Za-z0-9], with at
 *      least one of each class) or given by the caller (then password_policy_check applies); it
 *      appears only in the reply of the POST or PATCH that set it, is stored only as
 *      password_hash(), is wiped after use and never logged.
 *   2. Names: cfg->robot_prefix + "<name>" (system level) or + "<project>+<name>" (project
 *      level); <name> follows the project-name grammar, so '+' cannot appear in it.
 *   3. Robots never manage robots (USER rows of routes.c, checked by the router). A system-level
 *      robot is managed by sysadmins only; a project-level robot also by the projectAdmins of
 *      its project (checked here: it depends on the robot loaded or the body), and it holds
 *      exactly one permission entry, on that project.
 *   4. Permissions keep resource "repository" actions pull, push, delete (other resources of
 *      Harbor's list are accepted and ignored: Berth enforces repository access only).
 *   5. Any change to a robot drops its cached logins (authn_forget).
 * Thread-safe: per-request state only. */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/password.h"
#include "common/mem.h"
#include "common/util.h"

#define ROBOT_SECRET_LEN 32
#define ROBOT_DEFAULT_DAYS 30
#define ROBOT_MAX_DAYS 36500
#define DAY_S 86400

static const char *robot_prefix(const struct api_call *c)
{
    return c->r->reg->cfg->robot_prefix;
}

/* secret_generate: ROBOT_SECRET_LEN alphanumerics from RAND_bytes, each class present */
static int secret_generate(char *out, size_t cap)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[ROBOT_SECRET_LEN * 2];
    struct berr e;
    size_t n;
    size_t i;
    int tries;

    if (cap <= ROBOT_SECRET_LEN)
        return -1;
    for (tries = 0; tries < 16; tries++) {
        n = 0;
        while (n < ROBOT_SECRET_LEN) {
            if (rand_fill(rnd, sizeof(rnd)) < 0)
                return -1;
            /* 248 = 4 * 62: reject the top bytes so every character is equally likely */
            for (i = 0; i < sizeof(rnd) && n < ROBOT_SECRET_LEN; i++)
                if (rnd[i] < 248)
                    out[n++] = alpha[rnd[i] % 62];
        }
        out[n] = '\0';
        OPENSSL_cleanse(rnd, sizeof(rnd));
        if (password_policy_check(out, &e) == 0)
            return 0;
    }
    return -1;
}

static int64_t expires_of(int64_t created, int64_t days)
{
    return days < 0 ? 0 : created + days * DAY_S;
}

static json_t *perms_json(const struct meta_robot_perm *perms, size_t n)
{
    static const char *const names[] = {"pull", "push", "delete"};
    json_t *arr = json_array();
    json_t *access;
    size_t i;
    unsigned b;

    if (arr == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        access = json_array();
        for (b = 0; access != NULL && b < 3; b++)
            if ((perms[i].actions & (1u << b)) != 0 &&
                json_array_append_new(access, json_pack("{s:s,s:s,s:s}", "resource", "repository",
                                                        "action", names[b], "effect", "allow")) <
                        0) {
                json_decref(access);
                access = NULL;
            }
        if (access == NULL ||
            json_array_append_new(arr, json_pack("{s:s,s:s,s:o}", "kind", "project", "namespace",
                                                 perms[i].ns, "access", access)) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *robot_json(struct api_call *c, const struct meta_robot *rb)
{
    struct meta_robot_perm *perms = mem_calloc(META_ROBOT_PERMS_MAX, sizeof(*perms));
    char created[32];
    char updated[32];
    struct berr e;
    json_t *pj = NULL;
    json_t *j = NULL;
    size_t n = 0;

    if (perms == NULL)
        return NULL;
    if (meta_robot_perms(c->r->reg->meta, rb->id, perms, META_ROBOT_PERMS_MAX, &n, &e) == 0)
        pj = perms_json(perms, n);
    mem_free(perms);
    if (pj == NULL)
        return NULL;
    api_time(rb->created_at, created, sizeof(created));
    api_time(rb->updated_at, updated, sizeof(updated));
    j = json_pack("{s:I,s:s,s:s,s:s,s:I,s:b,s:b,s:I,s:o,s:s,s:s}", "id", (json_int_t)rb->id, "name",
                  rb->name, "description", rb->description, "level",
                  rb->project_id > 0 ? "project" : "system", "duration",
                  (json_int_t)rb->duration_days, "editable", 1, "disable", rb->disabled,
                  "expires_at", (json_int_t)(rb->expires_at > 0 ? rb->expires_at : -1),
                  "permissions", pj, "creation_time", created, "update_time", updated);
    return j;
}

/* may_manage: the policy's robot read/update/delete on the robot's project (a system robot
 * has none: sysadmins only) */
static int may_manage(struct api_call *c, const struct meta_robot *rb, enum rbac_act act, bool *ok)
{
    struct berr e;

    if (api_project_allows(c, rb->project_id, RBAC_RES_ROBOT, act, ok, &e) < 0)
        return api_stop(api_fail_berr(c, &e));
    return 0;
}

/* parse_perms reads "permissions"; 1 ok (n may be 0 when absent: *present false), -1 answered */
static int parse_perms(struct api_call *c, json_t *body, struct meta_robot_perm *out, size_t *n,
                       bool *present)
{
    json_t *arr = json_object_get(body, "permissions");
    json_t *p, *access, *a;
    const char *kind, *ns, *res, *act;
    bool has;
    size_t i, k, j;
    unsigned bits;

    *n = 0;
    *present = false;
    if (arr == NULL || json_is_null(arr))
        return 1;
    if (!json_is_array(arr)) {
        (void)api_fail(c, HTTP_BAD_REQUEST, "permissions must be an array");
        return -1;
    }
    *present = true;
    json_array_foreach(arr, i, p)
    {
        if (!json_is_object(p)) {
            (void)api_fail(c, HTTP_BAD_REQUEST, "a permission must be an object");
            return -1;
        }
        if (api_get_str(c, p, "kind", &kind, &has) < 0)
            return -1;
        if (!has || (strcmp(kind, "project") != 0 && strcmp(kind, "system") != 0)) {
            (void)api_fail(c, HTTP_BAD_REQUEST, "permission kind must be project or system");
            return -1;
        }
        if (strcmp(kind, "system") == 0)
            continue; /* system resources are not enforced by Berth */
        if (api_get_str(c, p, "namespace", &ns, &has) < 0)
            return -1;
        if (!has || strlen(ns) > REPO_NAME_MAX ||
            (strcmp(ns, "*") != 0 && !project_name_valid(ns, strlen(ns)))) {
            (void)api_fail(c, HTTP_BAD_REQUEST, "permission namespace is missing or invalid");
            return -1;
        }
        access = json_object_get(p, "access");
        if (!json_is_array(access)) {
            (void)api_fail(c, HTTP_BAD_REQUEST, "permission access must be an array");
            return -1;
        }
        bits = 0;
        json_array_foreach(access, k, a)
        {
            if (!json_is_object(a)) {
                (void)api_fail(c, HTTP_BAD_REQUEST, "an access entry must be an object");
                return -1;
            }
            if (api_get_str(c, a, "resource", &res, &has) < 0)
                return -1;
            if (!has || api_get_str(c, a, "action", &act, &has) < 0 || !has) {
                (void)api_fail(c, HTTP_BAD_REQUEST, "access needs resource and action");
                return -1;
            }
            if (strcmp(res, "repository") != 0)
                continue;
            if (strcmp(act, "pull") == 0)
                bits |= META_ACT_PULL;
            else if (strcmp(act, "push") == 0)
                bits |= META_ACT_PUSH | META_ACT_PULL; /* Harbor: push implies pull */
            else if (strcmp(act, "delete") == 0)
                bits |= META_ACT_DELETE;
        }
        for (j = 0; j < *n; j++)
            if (strcmp(out[j].ns, ns) == 0)
                break;
        if (j == *n) {
            if (*n == META_ROBOT_PERMS_MAX) {
                (void)api_fail(c, HTTP_BAD_REQUEST, "at most %d permissions", META_ROBOT_PERMS_MAX);
                return -1;
            }
            memcpy(out[j].ns, ns, strlen(ns) + 1);
            out[j].actions = 0;
            (*n)++;
        }
        out[j].actions |= bits;
    }
    return 1;
}

/* check_namespaces: every namespace but "*" names an existing project; 1 ok, -1 answered */
static int check_namespaces(struct api_call *c, const struct meta_robot_perm *perms, size_t n)
{
    struct meta_project_info pr;
    struct berr e;
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(perms[i].ns, "*") == 0)
            continue;
        if (meta_project_get(c->r->reg->meta, perms[i].ns, &pr, &e) < 0) {
            if (e.code == BERR_NAME_UNKNOWN || e.code == BERR_NOT_FOUND)
                (void)api_fail(c, HTTP_NOT_FOUND, "project %s not found", perms[i].ns);
            else
                (void)api_fail_berr(c, &e);
            return -1;
        }
    }
    return 1;
}

/* read_duration: "duration" in days, -1 = never; default when absent. 1 ok, -1 answered */
static int read_duration(struct api_call *c, json_t *body, int64_t dflt, int64_t *out)
{
    bool has;

    if (api_get_int(c, body, "duration", out, &has) < 0)
        return -1;
    if (!has)
        *out = dflt;
    if (*out == 0 || *out < -1 || *out > ROBOT_MAX_DAYS) {
        (void)api_fail(c, HTTP_BAD_REQUEST, "duration must be -1 (never) or 1..%d days",
                       ROBOT_MAX_DAYS);
        return -1;
    }
    return 1;
}

/* make_secret: the caller's secret (policy checked) or a new one into plain; hash into hash */
static int make_secret(struct api_call *c, const char *given, char *plain, size_t pcap, char *hash,
                       size_t hcap)
{
    struct berr e;

    if (given != NULL) {
        if (password_policy_check(given, &e) < 0) {
            (void)api_fail(c, HTTP_BAD_REQUEST, "secret: %s", e.msg);
            return -1;
        }
        if (strlen(given) >= pcap) {
            (void)api_fail(c, HTTP_BAD_REQUEST, "secret is too long");
            return -1;
        }
        memcpy(plain, given, strlen(given) + 1);
    } else if (secret_generate(plain, pcap) < 0) {
        (void)api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
        return -1;
    }
    if (password_hash(hash, hcap, plain, &e) < 0) {
        (void)api_fail_berr(c, &e);
        return -1;
    }
    return 1;
}

static void wipe_field(json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);

    if (json_is_string(v))
        OPENSSL_cleanse((void *)(uintptr_t)json_string_value(v), json_string_length(v));
}

struct robot_in {
    const char *name;
    const char *desc;
    const char *level;
    const char *secret;
    bool disable;
    int64_t days;
    struct meta_robot_perm *perms;
    size_t nperms;
};

/* robot_create_read parses the body of POST /robots into in; 1 ok, -1 answered */
static int robot_create_read(struct api_call *c, json_t *body, struct robot_in *in)
{
    bool has_name, has_desc, has_level, has_secret, has_dis, has_perms;

    if (api_get_str(c, body, "name", &in->name, &has_name) < 0 ||
        api_get_str(c, body, "description", &in->desc, &has_desc) < 0 ||
        api_get_str(c, body, "level", &in->level, &has_level) < 0 ||
        api_get_str(c, body, "secret", &in->secret, &has_secret) < 0 ||
        api_get_bool(c, body, "disable", &in->disable, &has_dis) < 0 ||
        read_duration(c, body, ROBOT_DEFAULT_DAYS, &in->days) < 0 ||
        parse_perms(c, body, in->perms, &in->nperms, &has_perms) < 0)
        return -1;
    if (!has_desc)
        in->desc = "";
    if (!has_name || !project_name_valid(in->name, strlen(in->name))) {
        (void)api_fail(c, HTTP_BAD_REQUEST,
                       "name is missing or invalid (lower-case letters,"
                       " digits and . _ - separators)");
        return -1;
    }
    if (!has_level || (strcmp(in->level, "system") != 0 && strcmp(in->level, "project") != 0)) {
        (void)api_fail(c, HTTP_BAD_REQUEST, "level must be system or project");
        return -1;
    }
    if (strlen(in->desc) > META_TEXT_MAX) {
        (void)api_fail(c, HTTP_BAD_REQUEST, "description is too long");
        return -1;
    }
    if (in->nperms == 0) {
        (void)api_fail(c, HTTP_BAD_REQUEST, "permissions are required");
        return -1;
    }
    return 1;
}

static int robot_create_body(struct api_call *c, json_t *body, struct meta_robot_perm *perms)
{
    struct robot_in in;
    struct meta_robot *rb = NULL;
    struct meta_project_info pr;
    struct berr e;
    char secret[PASSWORD_MAX_LEN + 1];
    char created[32];
    char loc[64];
    int64_t id = 0;
    bool ok = false;
    int n;
    int rc = 0;

    memset(&in, 0, sizeof(in));
    secret[0] = '\0';
    in.perms = perms;
    if (robot_create_read(c, body, &in) < 0 || check_namespaces(c, perms, in.nperms) < 0)
        return 0;
    rb = mem_calloc(1, sizeof(*rb));
    if (rb == NULL)
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    if (strcmp(in.level, "project") == 0) {
        if (in.nperms != 1 || strcmp(perms[0].ns, "*") == 0) {
            rc = api_fail(c, HTTP_BAD_REQUEST,
                          "a project robot has one permission entry, on its project");
            goto out;
        }
        if (meta_project_get(c->r->reg->meta, perms[0].ns, &pr, &e) < 0 ||
            api_project_allows(c, pr.p.id, RBAC_RES_ROBOT, RBAC_ACT_CREATE, &ok, &e) < 0) {
            rc = api_fail_berr(c, &e);
            goto out;
        }
        if (!ok) {
            rc = api_fail(c, HTTP_FORBIDDEN, "forbidden");
            goto out;
        }
        rb->project_id = pr.p.id;
        n = snprintf(rb->name, sizeof(rb->name), "%s%s+%s", robot_prefix(c), pr.p.name, in.name);
    } else {
        if (!api_is_sysadmin(c)) {
            rc = api_fail(c, HTTP_FORBIDDEN, "forbidden");
            goto out;
        }
        n = snprintf(rb->name, sizeof(rb->name), "%s%s", robot_prefix(c), in.name);
    }
    if (n < 0 || (size_t)n >= sizeof(rb->name)) {
        rc = api_fail(c, HTTP_BAD_REQUEST, "name is too long");
        goto out;
    }
    memcpy(rb->description, in.desc, strlen(in.desc) + 1);
    rb->disabled = in.disable;
    rb->duration_days = in.days;
    rb->created_at = now_s();
    rb->expires_at = expires_of(rb->created_at, in.days);
    if (make_secret(c, in.secret, secret, sizeof(secret), rb->secret_hash,
                    sizeof(rb->secret_hash)) < 0)
        goto out;
    if (meta_robot_create(c->r->reg->meta, rb, perms, in.nperms, &id, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    api_time(rb->created_at, created, sizeof(created));
    rc = api_reply_json(c, HTTP_CREATED,
                        json_pack("{s:I,s:s,s:s,s:s,s:I}", "id", (json_int_t)id, "name", rb->name,
                                  "secret", secret, "creation_time", created, "expires_at",
                                  (json_int_t)(rb->expires_at > 0 ? rb->expires_at : -1)));
    (void)snprintf(loc, sizeof(loc), "%s/robots/%lld", API_PREFIX, (long long)id); /* fits */
    if (rc == 0 && c->out->status == HTTP_CREATED &&
        api_add_header(c, HTTP_HEADER_LOCATION, loc) < 0)
        rc = api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    if (rb != NULL)
        OPENSSL_cleanse(rb->secret_hash, sizeof(rb->secret_hash));
    mem_free(rb);
    return rc;
}

int api_robot_create(struct api_call *c)
{
    struct meta_robot_perm *perms;
    json_t *body = NULL;
    int rc;

    rc = api_body(c, &body);
    if (rc < 0)
        return -1;
    perms = mem_calloc(META_ROBOT_PERMS_MAX, sizeof(*perms));
    if (perms == NULL)
        rc = api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    else
        rc = robot_create_body(c, body, perms);
    mem_free(perms);
    wipe_field(body, "secret");
    json_decref(body);
    return rc;
}

static int robot_list_common(struct api_call *c, const struct api_page *pg, int64_t project_id)
{
    struct meta_robot *rows = NULL;
    struct meta_list_q q;
    struct berr e;
    json_t *arr = NULL;
    size_t n = 0;
    size_t i;
    int64_t total = 0;
    int rc;

    api_page_q(pg, &q);
    rows = mem_calloc(API_PAGE_SIZE_MAX, sizeof(*rows));
    arr = json_array();
    if (rows == NULL || arr == NULL) {
        rc = api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
        goto out;
    }
    if (meta_robot_list(c->r->reg->meta, &q, project_id, rows, API_PAGE_SIZE_MAX, &n, &total, &e) <
        0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    for (i = 0; i < n; i++) {
        OPENSSL_cleanse(rows[i].secret_hash, sizeof(rows[i].secret_hash));
        api_array_push(&arr, robot_json(c, &rows[i]));
    }
    rc = api_reply_page(c, arr, pg, total);
    arr = NULL;
out:
    json_decref(arr);
    mem_free(rows);
    return rc;
}

int api_robot_list(struct api_call *c)
{
    struct api_page pg;
    struct berr e;
    int64_t project_id = 0;
    bool ok = false;

    if (api_page_parse(c, api_q_robots, "name", &pg) < 0)
        return -1;
    if (strcmp(pg.level, "system") == 0)
        project_id = -1;
    else if (pg.project_id > 0)
        project_id = pg.project_id;
    else if (strcmp(pg.level, "project") == 0 && !api_is_sysadmin(c))
        return api_fail(c, HTTP_BAD_REQUEST, "Level=project needs ProjectID");
    if (!api_is_sysadmin(c)) { /* system robots (project_id -1) are the sysadmins' */
        if (api_project_allows(c, project_id, RBAC_RES_ROBOT, RBAC_ACT_LIST, &ok, &e) < 0)
            return api_fail_berr(c, &e);
        if (!ok)
            return api_fail(c, HTTP_FORBIDDEN, "forbidden");
    }
    return robot_list_common(c, &pg, project_id);
}

int api_project_robots(struct api_call *c)
{
    struct api_page pg;

    if (api_page_parse(c, api_q_robots, "name", &pg) < 0)
        return -1;
    return robot_list_common(c, &pg, c->proj->p.id);
}

static int robot_update(struct api_call *c, struct meta_robot *rb, json_t *body,
                        struct meta_robot_perm *perms)
{
    const char *s;
    bool has, has_perms, dis;
    size_t n = 0;
    int64_t days;
    struct berr e;

    if (api_get_str(c, body, "name", &s, &has) < 0)
        return 0;
    if (has && strcmp(s, rb->name) != 0)
        return api_fail(c, HTTP_BAD_REQUEST, "the name of a robot can not change");
    if (api_get_str(c, body, "level", &s, &has) < 0)
        return 0;
    if (has && strcmp(s, rb->project_id > 0 ? "project" : "system") != 0)
        return api_fail(c, HTTP_BAD_REQUEST, "the level of a robot can not change");
    if (api_get_str(c, body, "description", &s, &has) < 0)
        return 0;
    if (has) {
        if (strlen(s) > META_TEXT_MAX)
            return api_fail(c, HTTP_BAD_REQUEST, "description is too long");
        memcpy(rb->description, s, strlen(s) + 1);
    }
    if (api_get_bool(c, body, "disable", &dis, &has) < 0)
        return 0;
    if (has)
        rb->disabled = dis;
    if (read_duration(c, body, rb->duration_days, &days) < 0)
        return 0;
    if (days != rb->duration_days) {
        rb->duration_days = days;
        rb->expires_at = expires_of(rb->created_at, days);
    }
    if (parse_perms(c, body, perms, &n, &has_perms) < 0 || check_namespaces(c, perms, n) < 0)
        return 0;
    if (has_perms && rb->project_id > 0) {
        struct meta_project_info pr;
        if (meta_project_get_by_id(c->r->reg->meta, rb->project_id, &pr, &e) < 0)
            return api_fail_berr(c, &e);
        if (n != 1 || strcmp(perms[0].ns, pr.p.name) != 0)
            return api_fail(c, HTTP_BAD_REQUEST,
                            "a project robot has one permission entry, on its project");
    }
    if (has_perms && n == 0)
        return api_fail(c, HTTP_BAD_REQUEST, "permissions must not be empty");
    if (meta_robot_update(c->r->reg->meta, rb->id, rb, has_perms ? perms : NULL, n, &e) < 0)
        return api_fail_berr(c, &e);
    authn_forget(c->r->reg->authn, rb->name);
    return api_reply_empty(c, HTTP_OK);
}

static int robot_refresh(struct api_call *c, struct meta_robot *rb)
{
    char secret[PASSWORD_MAX_LEN + 1];
    char hash[PASSWORD_HASH_MAX];
    const char *given = NULL;
    json_t *body = NULL;
    json_error_t je;
    struct berr e;
    bool has;
    int rc = 0;

    secret[0] = '\0';
    hash[0] = '\0';
    if (c->r->body.len > 0) {
        body = json_loadb(c->r->body.data, c->r->body.len, JSON_REJECT_DUPLICATES, &je);
        if (body == NULL || !json_is_object(body)) {
            rc = api_fail(c, HTTP_BAD_REQUEST, "invalid JSON body");
            goto out;
        }
        if (api_get_str(c, body, "secret", &given, &has) < 0)
            goto out;
        if (has && given[0] == '\0')
            given = NULL;
    }
    if (make_secret(c, given, secret, sizeof(secret), hash, sizeof(hash)) < 0)
        goto out;
    if (meta_robot_set_secret(c->r->reg->meta, rb->id, hash, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    authn_forget(c->r->reg->authn, rb->name);
    rc = api_reply_json(c, HTTP_OK, json_pack("{s:s}", "secret", secret));
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(hash, sizeof(hash));
    wipe_field(body, "secret");
    json_decref(body);
    return rc;
}

int api_robot_one(struct api_call *c)
{
    int64_t id = c->id;
    struct meta_robot *rb = mem_calloc(1, sizeof(*rb));
    struct meta_robot_perm *perms = NULL;
    enum http_method m = c->r->method;
    json_t *body = NULL;
    struct berr e;
    bool ok = false;
    int rc;

    if (rb == NULL)
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    if (meta_robot_get_by_id(c->r->reg->meta, id, rb, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    OPENSSL_cleanse(rb->secret_hash, sizeof(rb->secret_hash));
    rc = may_manage(c, rb,
                    m == HTTP_GET      ? RBAC_ACT_READ
                    : m == HTTP_DELETE ? RBAC_ACT_DELETE
                                       : RBAC_ACT_UPDATE,
                    &ok);
    if (rc != 0) {
        rc = rc < 0 ? -1 : 0;
        goto out;
    }
    if (!ok) {
        rc = api_fail(c, HTTP_FORBIDDEN, "forbidden");
        goto out;
    }
    switch (m) {
    case HTTP_GET:
        rc = api_reply_json(c, HTTP_OK, robot_json(c, rb));
        break;
    case HTTP_DELETE:
        if (meta_robot_delete(c->r->reg->meta, id, &e) < 0) {
            rc = api_fail_berr(c, &e);
            break;
        }
        authn_forget(c->r->reg->authn, rb->name);
        rc = api_reply_empty(c, HTTP_OK);
        break;
    case HTTP_PATCH:
        rc = robot_refresh(c, rb);
        break;
    case HTTP_PUT:
        rc = api_body(c, &body);
        if (rc != 0) {
            rc = rc < 0 ? -1 : 0;
            break;
        }
        perms = mem_calloc(META_ROBOT_PERMS_MAX, sizeof(*perms));
        rc = perms == NULL ? api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error")
                           : robot_update(c, rb, body, perms);
        break;
    default:
        rc = api_fail(c, HTTP_METHOD_NOT_ALLOWED, "method not allowed");
        break;
    }
out:
    json_decref(body);
    mem_free(perms);
    mem_free(rb);
    return rc;
}
