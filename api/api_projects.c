/* api_projects.c - /api/v2.0/projects: list (q, sort, paging, visibility; with_pulls=true adds
 * each listed project's image pulls of the last 7 days, pulls_7d, one query per project of the
 * page), create, HEAD by name, get/update/delete by name or id, _deletable. The router has found the project of the
 * path (c->proj) and checked the row's permission (routes.c, auth/rbac.c).
 *
 * Invariants:
 *   1. A caller sees a project only when it is public, the caller is a member, a sysadmin, or a
 *      robot with a grant on it; otherwise 401 (anonymous) or 403, as Harbor (the router).
 *   2. Updating or deleting a project needs projectAdmin or sysadmin (the router); storage_limit
 *      is set by sysadmins only (here: it depends on the body). A project holding repositories is not deleted (412 PRECONDITION, as
 *      Harbor; the storage layer checks it inside the delete transaction).
 *   3. The creator of a project becomes its projectAdmin (owner, in the same transaction).
 *   4. An anonymous caller cannot tell a private project from a missing one: every lookup of
 *      a project it may not read, existing or not, answers 401, and HEAD ?project_name= answers
 *      401 to anonymous callers whatever the name (as Harbor).
 * Thread-safe: per-request state only. */
#include "api/api_int.h"
#include "api/api_pulls.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/mem.h"

static json_t *project_json(const struct meta_project_info *p, int role, const uint64_t *pulls)
{
    char created[32];
    char updated[32];
    json_t *j;
    json_t *ids;

    api_time(p->p.created_at, created, sizeof(created));
    api_time(p->updated_at, updated, sizeof(updated));
    ids = role > 0 ? json_pack("[i]", role) : json_array();
    j = json_pack("{s:I,s:I,s:s,s:i,s:s,s:s,s:b,s:s,s:i,s:o,s:I,s:{s:s}}", "project_id",
                  (json_int_t)p->p.id, "owner_id", (json_int_t)p->owner_id, "name", p->p.name,
                  "registry_id", 0, "creation_time", created, "update_time", updated, "deleted", 0,
                  "owner_name", p->owner_name, "current_user_role_id", role,
                  "current_user_role_ids", ids, "repo_count", (json_int_t)p->repo_count, "metadata",
                  "public", p->p.public ? "true" : "false");
    if (j != NULL && pulls != NULL &&
        json_object_set_new(j, "pulls_7d", json_integer((json_int_t)*pulls)) < 0) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

int api_project_list(struct api_call *c)
{
    struct meta_project_info *rows = NULL;
    struct meta_project_q q;
    struct api_page p;
    struct berr e;
    const char *s;
    json_t *arr = NULL;
    size_t n = 0;
    size_t i;
    int64_t total = 0;
    const char *names[API_PAGE_SIZE_MAX];
    uint64_t pulls[API_PAGE_SIZE_MAX];
    bool with_pulls = false;
    int role;
    int rc;

    if (api_page_parse(c, api_q_projects, "name", &p) < 0)
        return -1;
    /* Harbor's name= parameter is a fuzzy match; public= a boolean */
    s = req_query(c->r, "name");
    if (s != NULL && !p.has_name) {
        if (strlen(s) > REPO_NAME_MAX)
            return api_fail(c, HTTP_BAD_REQUEST, "name is too long");
        memcpy(p.name, s, strlen(s) + 1);
        p.has_name = true;
        p.fuzzy = true;
    }
    s = req_query(c->r, "public");
    if (s != NULL) {
        if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
            p.public_only = 1;
        else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
            p.public_only = 0;
        else
            return api_fail(c, HTTP_BAD_REQUEST, "public must be true or false");
    }
    s = req_query(c->r, "with_pulls");
    if (s != NULL) {
        if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
            with_pulls = true;
        else if (strcmp(s, "false") != 0 && strcmp(s, "0") != 0)
            return api_fail(c, HTTP_BAD_REQUEST, "with_pulls must be true or false");
    }
    memset(&q, 0, sizeof(q));
    api_page_q(&p, &q.l);
    q.public_only = p.public_only;
    q.all = api_is_sysadmin(c);
    q.viewer_user_id = api_is_user(c) ? c->who.user_id : 0;
    q.viewer_robot_id = c->who.kind == PRINCIPAL_ROBOT ? c->who.robot_id : 0;
    rows = mem_calloc(API_PAGE_SIZE_MAX, sizeof(*rows));
    arr = json_array();
    if (rows == NULL || arr == NULL) {
        rc = api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
        goto out;
    }
    if (meta_project_list(c->r->reg->meta, &q, rows, API_PAGE_SIZE_MAX, &n, &total, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    if (with_pulls) { /* the page's projects only: one query each (api_pulls_recent) */
        for (i = 0; i < n; i++)
            names[i] = rows[i].p.name;
        if (api_pulls_recent(c, names, n, pulls, &e) < 0) {
            rc = api_fail_berr(c, &e);
            goto out;
        }
    }
    for (i = 0; arr != NULL && i < n; i++) {
        if (api_project_role(c, rows[i].p.id, &role, &e) < 0) {
            rc = api_fail_berr(c, &e);
            goto out;
        }
        api_array_push(&arr, project_json(&rows[i], role, with_pulls ? &pulls[i] : NULL));
    }
    rc = api_reply_page(c, arr, &p, total);
    arr = NULL;
out:
    json_decref(arr);
    mem_free(rows);
    return rc;
}

int api_project_head(struct api_call *c)
{
    const char *name = req_query(c->r, "project_name");
    struct meta_project_info pr;
    struct berr e;

    /* invariant 4: as Harbor, the existence check is for logged-in callers only */
    if (api_anonymous(c))
        return api_reply_empty(c, HTTP_UNAUTHORIZED);
    if (name == NULL || name[0] == '\0')
        return api_fail(c, HTTP_BAD_REQUEST, "project_name is required");
    if (meta_project_get(c->r->reg->meta, name, &pr, &e) < 0) {
        if (e.code == BERR_NAME_UNKNOWN || e.code == BERR_NOT_FOUND)
            return api_reply_empty(c, HTTP_NOT_FOUND);
        return api_fail_berr(c, &e);
    }
    return api_reply_empty(c, HTTP_OK);
}

/* read_public: metadata.public ("true"/"false" string, as Harbor) or the deprecated bool
 * `public`. 1 when present, 0 when absent, -1 when answered 400. */
static int read_public(struct api_call *c, json_t *body, bool *out)
{
    json_t *md = json_object_get(body, "metadata");
    const char *s;
    bool has;
    int rc;

    *out = false;
    if (md != NULL && !json_is_null(md)) {
        if (!json_is_object(md)) {
            (void)api_fail(c, HTTP_BAD_REQUEST, "metadata must be an object");
            return -1;
        }
        rc = api_get_str(c, md, "public", &s, &has);
        if (rc < 0)
            return -1;
        if (has) {
            if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0) {
                (void)api_fail(c, HTTP_BAD_REQUEST,
                               "metadata.public must be \"true\" or"
                               " \"false\"");
                return -1;
            }
            *out = strcmp(s, "true") == 0;
            return 1;
        }
    }
    rc = api_get_bool(c, body, "public", out, &has);
    if (rc < 0)
        return -1;
    return has ? 1 : 0;
}

int api_project_create(struct api_call *c)
{
    const char *name;
    const char *loc_hdr = req_header(c->r, "X-Resource-Name-In-Location");
    bool has_name, has_limit, public = false;
    json_t *body = NULL;
    struct berr e;
    char loc[REPO_NAME_MAX + 32];
    int64_t limit = -1;
    int64_t id = 0;
    int rc;

    rc = api_body(c, &body);
    if (rc < 0)
        return -1;
    if (api_get_str(c, body, "project_name", &name, &has_name) < 0 ||
        read_public(c, body, &public) < 0 ||
        api_get_int(c, body, "storage_limit", &limit, &has_limit) < 0) {
        rc = 0;
        goto out;
    }
    if (!has_name) {
        rc = api_fail(c, HTTP_BAD_REQUEST, "project_name is required");
        goto out;
    }
    if (!has_limit || limit == 0)
        limit = -1;
    if (limit < -1) {
        rc = api_fail(c, HTTP_BAD_REQUEST, "storage_limit must be -1 or positive");
        goto out;
    }
    if (limit != -1 && !api_is_sysadmin(c)) {
        rc = api_fail(c, HTTP_FORBIDDEN, "only a system administrator sets storage_limit");
        goto out;
    }
    if (meta_project_create(c->r->reg->meta, name, public, c->who.user_id, limit, &id, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    if (loc_hdr != NULL && strcasecmp(loc_hdr, "true") == 0)
        (void)snprintf(loc, sizeof(loc), "/projects/%s", name); /* name <= 255 */
    else
        (void)snprintf(loc, sizeof(loc), "/projects/%lld", (long long)id);
    rc = api_reply_created(c, loc);
out:
    json_decref(body);
    return rc;
}

int api_project_get(struct api_call *c)
{
    return api_reply_json(c, HTTP_OK, project_json(c->proj, c->role, NULL));
}

int api_project_update(struct api_call *c)
{
    const struct meta_project_info *p = c->proj;
    json_t *body = NULL;
    struct berr e;
    bool public = false;
    bool has_limit;
    int64_t limit = 0;
    int has_public;
    int rc;

    rc = api_body(c, &body);
    if (rc < 0)
        return -1;
    has_public = read_public(c, body, &public);
    if (has_public < 0 || api_get_int(c, body, "storage_limit", &limit, &has_limit) < 0) {
        rc = 0;
        goto out;
    }
    if (has_limit && limit == 0)
        limit = -1;
    if (has_limit && limit < -1) {
        rc = api_fail(c, HTTP_BAD_REQUEST, "storage_limit must be -1 or positive");
        goto out;
    }
    if (has_limit && limit != p->storage_limit && !api_is_sysadmin(c)) {
        rc = api_fail(c, HTTP_FORBIDDEN, "only a system administrator sets storage_limit");
        goto out;
    }
    if (meta_project_update(c->r->reg->meta, p->p.id, has_public == 1, public, has_limit, limit,
                            &e) < 0)
        rc = api_fail_berr(c, &e);
    else
        rc = api_reply_empty(c, HTTP_OK);
out:
    json_decref(body);
    return rc;
}

/* robot_names collects the names of the project's robots, '\n'-separated, into b */
static int robot_names(struct api_call *c, int64_t project_id, struct buf *b, struct berr *err)
{
    struct meta_robot *rows = mem_calloc(API_PAGE_SIZE_MAX, sizeof(*rows));
    struct meta_list_q q;
    size_t n = 0;
    size_t i;
    int64_t total = 0;
    int rc = 0;

    if (rows == NULL)
        return berr_set(err, BERR_INTERNAL, "internal error");
    memset(&q, 0, sizeof(q));
    q.limit = API_PAGE_SIZE_MAX;
    do {
        rc = meta_robot_list(c->r->reg->meta, &q, project_id, rows, API_PAGE_SIZE_MAX, &n, &total,
                             err);
        for (i = 0; rc == 0 && i < n; i++) {
            OPENSSL_cleanse(rows[i].secret_hash, sizeof(rows[i].secret_hash));
            if (buf_appends(b, rows[i].name) < 0 || buf_append(b, "\n", 1) < 0)
                rc = berr_set(err, BERR_INTERNAL, "internal error");
        }
        q.offset += (int64_t)n;
    } while (rc == 0 && n == API_PAGE_SIZE_MAX);
    mem_free(rows);
    return rc;
}

int api_project_delete(struct api_call *c)
{
    const struct meta_project_info *p = c->proj;
    struct berr e;
    struct buf names;
    char *s;
    char *nl;
    int rc;

    /* the project's robots go with it (cascade): their cached logins must go too */
    buf_init(&names, 4u << 20);
    if (robot_names(c, p->p.id, &names, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    if (meta_project_delete(c->r->reg->meta, p->p.id, &e) < 0) {
        if (e.code == BERR_CONFLICT)
            rc = api_fail(c, HTTP_PRECONDITION_FAILED, "%s", e.msg);
        else
            rc = api_fail_berr(c, &e);
        goto out;
    }
    for (s = names.data; s != NULL && *s != '\0'; s = nl + 1) {
        nl = strchr(s, '\n');
        if (nl == NULL)
            break;
        *nl = '\0';
        authn_forget(c->r->reg->authn, s);
    }
    rc = api_reply_empty(c, HTTP_OK);
out:
    buf_cleanup(&names);
    return rc;
}

int api_project_deletable(struct api_call *c)
{
    if (c->proj->repo_count > 0)
        return api_reply_json(c, HTTP_OK,
                              json_pack("{s:b,s:s}", "deletable", 0, "message",
                                        "the project contains repositories"));
    return api_reply_json(c, HTTP_OK, json_pack("{s:b}", "deletable", 1));
}
