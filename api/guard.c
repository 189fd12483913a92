/* guard.c - the management API's one permission check, run by the router before every handler.
 *
 * It gathers the facts auth/rbac.c decides from (who the caller is, its member role on the
 * path's project, a robot's explicit permissions there, the project's public flag, whether the
 * path's {user_id} is the caller) and answers the refusals, in this order:
 *   1. anonymous caller on an AUTH, USER, SYSADMIN or SELF row: 401 "UnAuthorized";
 *   2. PROJECT rows: unknown project 404 (401 to an anonymous caller, as for a private
 *      project); a caller that may not read it 401/403;
 *   3. the row's numeric path parameter, when it has one: 400 when it is not an id > 0;
 *   4. the row's permission: 401 to anonymous callers, 403 (the row's message) to others.
 * The /metrics row alone takes its scope from the configuration (metrics_access).
 * A handler that runs may thus rely on its row's permission; it checks only what depends on the
 * object it loads (a quota's project, a robot's project, a storage_limit in a body).
 * Thread-safe: per-request state only. */
#include "api/api_int.h"

#include <string.h>
#include <strings.h>

#include "api/path.h"
#include "common/mem.h"

int api_project_role(struct api_call *c, int64_t project_id, int *role, struct berr *err)
{
    *role = 0;
    if (!api_is_user(c))
        return 0;
    return meta_member_role(c->r->reg->meta, project_id, c->who.user_id, role, err);
}

/* facts_of_caller: who the caller is, nothing about a project */
static void facts_of_caller(struct api_call *c, struct rbac_facts *f)
{
    memset(f, 0, sizeof(*f));
    switch (c->who.kind) {
    case PRINCIPAL_USER:
        f->who = c->who.user_id > 0 ? RBAC_USER : RBAC_ANONYMOUS;
        f->sysadmin = c->who.sysadmin;
        break;
    case PRINCIPAL_ROBOT:
        f->who = RBAC_ROBOT;
        break;
    default:
        f->who = RBAC_ANONYMOUS;
        break;
    }
}

/* facts_of: what rbac_decide needs about the caller, and about c->proj when set */
static void facts_of(struct api_call *c, struct rbac_facts *f)
{
    struct berr e;

    facts_of_caller(c, f);
    f->self =
            f->who == RBAC_USER && c->route->param == API_PARAM_USER_ID && c->id == c->who.user_id;
    if (c->proj == NULL)
        return;
    f->project_exists = true;
    f->project_public = c->proj->p.public;
    f->role = c->role;
    if (f->who == RBAC_ROBOT && c->who.robot_id > 0 &&
        meta_robot_actions(c->r->reg->meta, c->who.robot_id, c->proj->p.name, &f->robot_actions,
                           &e) < 0)
        f->robot_actions = 0; /* a store failure grants nothing */
}

int api_project_allows(struct api_call *c, int64_t project_id, enum rbac_res res, enum rbac_act act,
                       bool *ok, struct berr *err)
{
    struct rbac_facts f;

    *ok = false;
    facts_of_caller(c, &f);
    f.project_exists = project_id > 0;
    if (f.project_exists && api_project_role(c, project_id, &f.role, err) < 0)
        return -1;
    /* robot_actions stays 0: the rules asked here grant robots nothing; nor does a public flag */
    *ok = rbac_decide(&f, RBAC_SCOPE_PROJECT, res, act);
    return 0;
}

static int refuse(struct api_call *c, const char *msg)
{
    if (api_anonymous(c))
        (void)api_fail(c, HTTP_UNAUTHORIZED, "UnAuthorized");
    else
        (void)api_fail(c, HTTP_FORBIDDEN, "%s", msg != NULL ? msg : "forbidden");
    return -1;
}

/* find_project: c->proj and c->role from the route's project segment */
static int find_project(struct api_call *c)
{
    const char *isname = req_header(c->r, "X-Is-Resource-Name");
    bool by_name = isname != NULL && strcasecmp(isname, "true") == 0;
    int i = api_path_project_param(c->route->path);
    struct rbac_facts f;
    struct berr e;
    int64_t id = 0;

    if (i < 0 || (size_t)i >= c->nseg) {
        (void)api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
        return -1;
    }
    c->proj = mem_malloc(sizeof(*c->proj));
    if (c->proj == NULL) {
        (void)api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
        return -1;
    }
    if (!by_name && !api_parse_id(c->seg[i], c->seglen[i], &id))
        by_name = true;
    if ((by_name ? meta_project_get(c->r->reg->meta, c->seg[i], c->proj, &e)
                 : meta_project_get_by_id(c->r->reg->meta, id, c->proj, &e)) < 0 ||
        meta_repo_count(c->r->reg->meta, c->proj->p.id, &c->proj->repo_count, &e) < 0 ||
        api_project_role(c, c->proj->p.id, &c->role, &e) < 0) {
        mem_free(c->proj);
        c->proj = NULL;
        /* an anonymous caller gets the answer of a private project: it learns nothing about
         * which projects exist */
        if (api_anonymous(c) && (e.code == BERR_NAME_UNKNOWN || e.code == BERR_NOT_FOUND))
            return refuse(c, NULL);
        (void)api_fail_berr(c, &e);
        return -1;
    }
    facts_of(c, &f);
    if (!rbac_decide(&f, RBAC_SCOPE_PROJECT, RBAC_RES_PROJECT, RBAC_ACT_READ))
        return refuse(c, NULL);
    return 0;
}

static int parse_param(struct api_call *c)
{
    static const struct {
        const char *name;
        const char *msg;
    } params[] = {
            [API_PARAM_NONE] = {NULL, NULL},
            [API_PARAM_USER_ID] = {"user_id", "invalid user id"},
            [API_PARAM_ROBOT_ID] = {"robot_id", "invalid robot id"},
            [API_PARAM_QUOTA_ID] = {"id", "the quota id must be a positive integer"},
            [API_PARAM_MEMBER_ID] = {"mid", "invalid member id"},
            [API_PARAM_GC_ID] = {"gc_id", "invalid gc id"},
    };
    enum api_param p = c->route->param;
    int i;

    if (p == API_PARAM_NONE)
        return 0;
    i = api_path_param(c->route->path, params[p].name);
    if (i < 0 || (size_t)i >= c->nseg || !api_parse_id(c->seg[i], c->seglen[i], &c->id)) {
        (void)api_fail(c, HTTP_BAD_REQUEST, "%s", params[p].msg);
        return -1;
    }
    return 0;
}

/* scope_of: the row's scope, except /metrics, whose scope the configuration sets
 * (metrics_access: admin keeps the row's SYSADMIN, auth any caller logged in, open anyone) */
static enum rbac_scope scope_of(const struct api_call *c)
{
    const struct berth_config *cfg = c->r->reg->cfg;

    if (c->route->res != RBAC_RES_METRICS || cfg == NULL)
        return c->route->scope;
    if (strcmp(cfg->metrics_access, "open") == 0)
        return RBAC_SCOPE_PUBLIC;
    if (strcmp(cfg->metrics_access, "auth") == 0)
        return RBAC_SCOPE_AUTH;
    return c->route->scope;
}

int api_guard(struct api_call *c)
{
    const struct api_route *rt = c->route;
    enum rbac_scope scope = scope_of(c);
    struct rbac_facts f;

    switch (scope) {
    case RBAC_SCOPE_AUTH:
    case RBAC_SCOPE_USER:
    case RBAC_SCOPE_SYSADMIN:
    case RBAC_SCOPE_SELF:
        if (api_anonymous(c))
            return refuse(c, NULL);
        break;
    case RBAC_SCOPE_PROJECT:
        if (find_project(c) < 0)
            return -1;
        break;
    default:
        break;
    }
    if (parse_param(c) < 0)
        return -1;
    facts_of(c, &f);
    if (!rbac_decide(&f, scope, rt->res, rt->act))
        return refuse(c, rt->deny);
    return 0;
}
