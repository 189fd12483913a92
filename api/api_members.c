/* api_members.c - /api/v2.0/projects/{p}/members[/{mid}]: list (entityname, paging), add by
 * user name or id with role_id 1..5, get, change role, remove (Harbor's ProjectMemberEntity,
 * ProjectMember and RoleRequest bodies).
 *
 * Invariants:
 *   1. Reading members needs a role other than limitedGuest, or sysadmin (anchors 1c); adding,
 *      changing and removing members needs projectAdmin or sysadmin. The router checks both
 *      (routes.c, auth/rbac.c) and parses {mid} (c->id) before.
 *   3. A member id is resolved within the project of the path only (meta_member_* take both).
 *   4. Only users are members (member_group is refused with 400: Berth has no groups).
 * Thread-safe: per-request state only. */
#include "api/api_int.h"

#include <string.h>

#include <openssl/crypto.h>

#include "auth/rbac.h"
#include "common/mem.h"

static json_t *member_json(const struct meta_member *mb)
{
    const char *role_name = rbac_role_name(mb->role);

    return json_pack("{s:I,s:I,s:s,s:s,s:i,s:I,s:s}", "id", (json_int_t)mb->id, "project_id",
                     (json_int_t)mb->project_id, "entity_name", mb->user_name, "role_name",
                     role_name != NULL ? role_name : "", "role_id", mb->role, "entity_id",
                     (json_int_t)mb->user_id, "entity_type", "u");
}

int api_member_list(struct api_call *c)
{
    const struct meta_project_info *p = c->proj;
    struct meta_member *rows = NULL;
    struct meta_list_q q;
    struct api_page pg;
    struct berr e;
    const char *ename = req_query(c->r, "entityname");
    json_t *arr = NULL;
    size_t n = 0;
    size_t i;
    int64_t total = 0;
    int rc;

    if (api_page_parse(c, api_q_members, "entityname", &pg) < 0)
        return -1;
    if (pg.sort[0] != '\0')
        return api_fail(c, HTTP_BAD_REQUEST, "unknown sort key");
    api_page_q(&pg, &q);
    if (ename != NULL && ename[0] != '\0') {
        q.name = ename;
        q.fuzzy = true; /* Harbor's entityname is a substring search */
    }
    rows = mem_calloc(API_PAGE_SIZE_MAX, sizeof(*rows));
    arr = json_array();
    if (rows == NULL || arr == NULL) {
        rc = api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
        goto out;
    }
    if (meta_member_list(c->r->reg->meta, p->p.id, &q, rows, API_PAGE_SIZE_MAX, &n, &total, &e) <
        0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    for (i = 0; arr != NULL && i < n; i++)
        api_array_push(&arr, member_json(&rows[i]));
    rc = api_reply_page(c, arr, &pg, total);
    arr = NULL;
out:
    json_decref(arr);
    mem_free(rows);
    return rc;
}

/* read_role: role_id, required, 1..5. 1 ok, -1 answered */
static int read_role(struct api_call *c, json_t *body, int *role)
{
    int64_t v;
    bool has;

    if (api_get_int(c, body, "role_id", &v, &has) < 0)
        return -1;
    if (!has || v < ROLE_PROJECT_ADMIN || v > ROLE_LIMITED_GUEST) {
        (void)api_fail(c, HTTP_BAD_REQUEST, "role_id must be 1..5");
        return -1;
    }
    *role = (int)v;
    return 1;
}

/* member_user_id resolves member_user {user_id | username}; 1 ok, -1 answered */
static int member_user_id(struct api_call *c, json_t *body, int64_t *uid)
{
    json_t *mu = json_object_get(body, "member_user");
    struct meta_user u;
    const char *name;
    struct berr e;
    bool has_id, has_name;
    int64_t id;

    if (json_object_get(body, "member_group") != NULL &&
        !json_is_null(json_object_get(body, "member_group")) && mu == NULL) {
        (void)api_fail(c, HTTP_BAD_REQUEST, "user groups are not supported");
        return -1;
    }
    if (mu == NULL || !json_is_object(mu)) {
        (void)api_fail(c, HTTP_BAD_REQUEST, "member_user must be an object");
        return -1;
    }
    if (api_get_int(c, mu, "user_id", &id, &has_id) < 0 ||
        api_get_str(c, mu, "username", &name, &has_name) < 0)
        return -1;
    if (has_id && id > 0) {
        if (meta_user_get_by_id(c->r->reg->meta, id, &u, &e) < 0) {
            (void)api_fail_berr(c, &e);
            return -1;
        }
    } else if (has_name && name[0] != '\0') {
        if (meta_user_get(c->r->reg->meta, name, &u, &e) < 0) {
            if (e.code == BERR_NOT_FOUND)
                (void)api_fail(c, HTTP_NOT_FOUND, "user %s not found", name);
            else
                (void)api_fail_berr(c, &e);
            return -1;
        }
    } else {
        (void)api_fail(c, HTTP_BAD_REQUEST, "member_user needs user_id or username");
        return -1;
    }
    OPENSSL_cleanse(u.pw_hash, sizeof(u.pw_hash));
    *uid = u.id;
    return 1;
}

int api_member_add(struct api_call *c)
{
    const struct meta_project_info *p = c->proj;
    json_t *body = NULL;
    struct berr e;
    char loc[64];
    int64_t uid = 0;
    int64_t mid = 0;
    int role = 0;
    int rc;

    rc = api_body(c, &body);
    if (rc < 0)
        return -1;
    if (read_role(c, body, &role) < 0 || member_user_id(c, body, &uid) < 0) {
        rc = 0;
        goto out;
    }
    if (meta_member_add(c->r->reg->meta, p->p.id, uid, role, &mid, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    (void)snprintf(loc, sizeof(loc), "/projects/%lld/members/%lld", (long long)p->p.id,
                   (long long)mid); /* fits */
    rc = api_reply_created(c, loc);
out:
    json_decref(body);
    return rc;
}

int api_member_get(struct api_call *c)
{
    struct meta_member mb;
    struct berr e;

    if (meta_member_get(c->r->reg->meta, c->proj->p.id, c->id, &mb, &e) < 0)
        return api_fail_berr(c, &e);
    return api_reply_json(c, HTTP_OK, member_json(&mb));
}

int api_member_update(struct api_call *c)
{
    json_t *body = NULL;
    struct berr e;
    int new_role = 0;
    int rc;

    rc = api_body(c, &body);
    if (rc < 0)
        return -1;
    if (read_role(c, body, &new_role) < 0)
        rc = 0;
    else if (meta_member_set_role(c->r->reg->meta, c->proj->p.id, c->id, new_role, &e) < 0)
        rc = api_fail_berr(c, &e);
    else
        rc = api_reply_empty(c, HTTP_OK);
    json_decref(body);
    return rc;
}

int api_member_delete(struct api_call *c)
{
    struct berr e;

    if (meta_member_delete(c->r->reg->meta, c->proj->p.id, c->id, &e) < 0)
        return api_fail_berr(c, &e);
    return api_reply_empty(c, HTTP_OK);
}
