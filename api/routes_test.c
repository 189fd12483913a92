/* routes_test.c - the route table against its two other statements: the permission every row
 * declares, walked for every kind of caller through auth/rbac.c's policy (anonymous, the five
 * project roles, a user outside the project, a sysadmin, a robot with and without the
 * permission, on a private and on a public project, for SELF rows the user itself and another),
 * and docs/openapi.json, path by path and method by method. Also: a row without a permission is
 * refused by the walker, every row is reachable (no earlier pattern shadows it), the matcher's
 * 404 and 405. Runs from the repository root (tests/run.sh). */
#include "api/routes.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/path.h"
#include "common/test.h"

/* ---- the walker's rule: a row must say who may call it ---- */

/* row_ok: NULL when r is well formed, else why not */
static const char *row_ok(const struct api_route *r)
{
    if (r->path == NULL || r->path[0] != '/')
        return "path must start with /";
    if (r->fn == NULL)
        return "no handler";
    if (r->scope == RBAC_SCOPE_UNSET)
        return "no scope (PUBLIC must be written out)";
    if (r->scope == RBAC_SCOPE_PUBLIC || r->scope == RBAC_SCOPE_NOAUTH) {
        if (r->res != RBAC_RES_NONE || r->act != RBAC_ACT_NONE)
            return "a PUBLIC row names no permission";
        return NULL;
    }
    if (r->res == RBAC_RES_NONE || r->act == RBAC_ACT_NONE)
        return "no permission (resource and action)";
    if (r->scope == RBAC_SCOPE_PROJECT) {
        unsigned roles, robot;
        bool pub;
        if (api_path_project_param(r->path) < 0)
            return "a PROJECT row needs {project_name_or_id} or {project_name}";
        if (!rbac_project_rule(r->res, r->act, &roles, &robot, &pub))
            return "no rule in auth/rbac.c for this resource and action";
    }
    if (r->scope == RBAC_SCOPE_SELF && api_path_param(r->path, "user_id") < 0)
        return "a SELF row needs {user_id}";
    return NULL;
}

static int dummy(struct api_call *c)
{
    (void)c;
    return 0;
}

static void test_walker_refuses_rows_without_permission(void)
{
    const struct api_route no_scope = {
            HTTP_GET,      false,         "/x",           dummy, RBAC_SCOPE_UNSET,
            RBAC_RES_NONE, RBAC_ACT_NONE, API_PARAM_NONE, NULL};
    const struct api_route no_perm = {
            HTTP_GET,      false,         "/x",           dummy, RBAC_SCOPE_SYSADMIN,
            RBAC_RES_NONE, RBAC_ACT_NONE, API_PARAM_NONE, NULL};
    const struct api_route no_act = {HTTP_GET,      false,           "/x",
                                     dummy,         RBAC_SCOPE_AUTH, RBAC_RES_USER,
                                     RBAC_ACT_NONE, API_PARAM_NONE,  NULL};
    const struct api_route no_rule = {HTTP_GET,
                                      false,
                                      "/projects/{project_name}/x",
                                      dummy,
                                      RBAC_SCOPE_PROJECT,
                                      RBAC_RES_QUOTA,
                                      RBAC_ACT_PUSH,
                                      API_PARAM_NONE,
                                      NULL};
    const struct api_route no_project = {
            HTTP_GET,         false,         "/x",           dummy, RBAC_SCOPE_PROJECT,
            RBAC_RES_PROJECT, RBAC_ACT_READ, API_PARAM_NONE, NULL};
    const struct api_route public_ok = {
            HTTP_GET,      false,         "/x",           dummy, RBAC_SCOPE_PUBLIC,
            RBAC_RES_NONE, RBAC_ACT_NONE, API_PARAM_NONE, NULL};

    CHECK(row_ok(&no_scope) != NULL);
    CHECK(row_ok(&no_perm) != NULL);
    CHECK(row_ok(&no_act) != NULL);
    CHECK(row_ok(&no_rule) != NULL);
    CHECK(row_ok(&no_project) != NULL);
    CHECK(row_ok(&public_ok) == NULL);
}

static void test_every_row_declares_a_permission(void)
{
    CHECK(api_routes_n > 40);
    for (size_t i = 0; i < api_routes_n; i++) {
        const char *why = row_ok(&api_routes[i]);
        if (why != NULL)
            fprintf(stderr, "row %zu %s %s: %s\n", i, http_method_name(api_routes[i].method),
                    api_routes[i].path, why);
        CHECK(why == NULL);
    }
}

/* ---- the permission walk ---- */

enum persona {
    P_ANON,
    P_LIMITED,
    P_GUEST,
    P_DEV,
    P_MAINT,
    P_ADMIN,
    P_OUTSIDER, /* a user with no role on the project (and not the {user_id} of SELF rows) */
    P_SELF,     /* SELF rows: the user the path names */
    P_SYSADMIN,
    P_ROBOT_WITH,
    P_ROBOT_WITHOUT,
    P_N
};

static const char *const persona_name[P_N] = {
        "anonymous", "limitedGuest", "guest",    "developer",  "maintainer",    "projectAdmin",
        "outsider",  "self",         "sysadmin", "robot+perm", "robot-no-perm",
};

/* Harbor's project matrix, as Berth enforces it, written independently of auth/rbac.c: for each
 * resource/action the roles (L G D M A), the robot permission that grants it, and whether a
 * public project opens it to everyone. */
struct expect {
    enum rbac_res res;
    enum rbac_act act;
    const char *roles; /* letters of the roles allowed */
    unsigned robot;    /* RBAC_* bit a robot needs (0: never) */
    bool pub;
};

static const struct expect matrix[] = {
        {RBAC_RES_PROJECT, RBAC_ACT_READ, "LGDMA", RBAC_PULL, true},
        {RBAC_RES_PROJECT, RBAC_ACT_UPDATE, "A", 0, false},
        {RBAC_RES_PROJECT, RBAC_ACT_DELETE, "A", 0, false},
        {RBAC_RES_MEMBER, RBAC_ACT_LIST, "GDMA", 0, false},
        {RBAC_RES_MEMBER, RBAC_ACT_READ, "GDMA", 0, false},
        {RBAC_RES_MEMBER, RBAC_ACT_CREATE, "A", 0, false},
        {RBAC_RES_MEMBER, RBAC_ACT_UPDATE, "A", 0, false},
        {RBAC_RES_MEMBER, RBAC_ACT_DELETE, "A", 0, false},
        {RBAC_RES_ROBOT, RBAC_ACT_LIST, "GDMA", 0, false},
        {RBAC_RES_LOG, RBAC_ACT_LIST, "GDMA", 0, false},
        {RBAC_RES_REPOSITORY, RBAC_ACT_LIST, "LGDMA", RBAC_PULL, true},
        {RBAC_RES_REPOSITORY, RBAC_ACT_READ, "LGDMA", RBAC_PULL, true},
        {RBAC_RES_REPOSITORY, RBAC_ACT_UPDATE, "MA", RBAC_DELETE, false},
        {RBAC_RES_REPOSITORY, RBAC_ACT_DELETE, "MA", RBAC_DELETE, false},
        {RBAC_RES_ARTIFACT, RBAC_ACT_LIST, "LGDMA", RBAC_PULL, true},
        {RBAC_RES_ARTIFACT, RBAC_ACT_READ, "LGDMA", RBAC_PULL, true},
        {RBAC_RES_ARTIFACT, RBAC_ACT_DELETE, "MA", RBAC_DELETE, false},
        {RBAC_RES_TAG, RBAC_ACT_LIST, "LGDMA", RBAC_PULL, true},
        {RBAC_RES_TAG, RBAC_ACT_CREATE, "DMA", RBAC_PUSH, false},
        {RBAC_RES_TAG, RBAC_ACT_DELETE, "MA", RBAC_DELETE, false},
};

static const struct expect *expect_of(enum rbac_res res, enum rbac_act act)
{
    for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++)
        if (matrix[i].res == res && matrix[i].act == act)
            return &matrix[i];
    return NULL;
}

static const char role_letter[] = {0, 'A', 'D', 'G', 'M', 'L'}; /* by Harbor role id */

static int role_of(enum persona p)
{
    switch (p) {
    case P_LIMITED:
        return RBAC_ROLE_LIMITED_GUEST;
    case P_GUEST:
        return RBAC_ROLE_GUEST;
    case P_DEV:
        return RBAC_ROLE_DEVELOPER;
    case P_MAINT:
        return RBAC_ROLE_MAINTAINER;
    case P_ADMIN:
        return RBAC_ROLE_PROJECT_ADMIN;
    default:
        return RBAC_ROLE_NONE;
    }
}

static struct rbac_facts facts_for(enum persona p, const struct api_route *r, bool pub)
{
    const struct expect *x = expect_of(r->res, r->act);
    struct rbac_facts f;

    memset(&f, 0, sizeof(f));
    f.project_exists = r->scope == RBAC_SCOPE_PROJECT;
    f.project_public = pub && f.project_exists;
    switch (p) {
    case P_ANON:
        f.who = RBAC_ANONYMOUS;
        break;
    case P_ROBOT_WITH:
        f.who = RBAC_ROBOT;
        /* the permission the row needs; for rows robots never get, everything */
        f.robot_actions = x != NULL && x->robot != 0 ? x->robot : RBAC_ALL;
        break;
    case P_ROBOT_WITHOUT:
        f.who = RBAC_ROBOT;
        break;
    default:
        f.who = RBAC_USER;
        f.sysadmin = p == P_SYSADMIN;
        f.role = f.project_exists ? role_of(p) : RBAC_ROLE_NONE;
        f.self = p == P_SELF;
        break;
    }
    return f;
}

/* expected: the decision the row's declaration implies for persona p */
static bool expected(enum persona p, const struct api_route *r, bool pub)
{
    const struct expect *x;
    int role;

    switch (r->scope) {
    case RBAC_SCOPE_NOAUTH:
    case RBAC_SCOPE_PUBLIC:
        return true;
    case RBAC_SCOPE_AUTH:
        return p != P_ANON;
    case RBAC_SCOPE_USER:
        return p != P_ANON && p != P_ROBOT_WITH && p != P_ROBOT_WITHOUT;
    case RBAC_SCOPE_SYSADMIN:
        return p == P_SYSADMIN;
    case RBAC_SCOPE_SELF:
        return p == P_SYSADMIN || p == P_SELF;
    case RBAC_SCOPE_PROJECT:
        x = expect_of(r->res, r->act);
        if (x == NULL)
            return false;
        if (p == P_SYSADMIN || (pub && x->pub))
            return true;
        if (p == P_ROBOT_WITH)
            return x->robot != 0;
        if (p == P_ANON || p == P_ROBOT_WITHOUT)
            return false;
        role = role_of(p);
        return role != RBAC_ROLE_NONE && strchr(x->roles, role_letter[role]) != NULL;
    case RBAC_SCOPE_UNSET:
        break;
    }
    return false;
}

static int walk_checks;

static void test_permission_walk(void)
{
    for (size_t i = 0; i < api_routes_n; i++) {
        const struct api_route *r = &api_routes[i];
        for (int pubi = 0; pubi < 2; pubi++) {
            bool pub = pubi == 1;
            if (pub && r->scope != RBAC_SCOPE_PROJECT)
                continue; /* public/private only matters on a project */
            for (int p = 0; p < P_N; p++) {
                struct rbac_facts f = facts_for((enum persona)p, r, pub);
                bool got = rbac_decide(&f, r->scope, r->res, r->act);
                bool want = expected((enum persona)p, r, pub);
                if (got != want)
                    fprintf(stderr, "%s %s (%s %s:%s) %s project, %s: got %s, want %s\n",
                            http_method_name(r->method), r->path, rbac_scope_name(r->scope),
                            rbac_res_name(r->res), rbac_act_name(r->act),
                            pub ? "public" : "private", persona_name[p], got ? "allow" : "deny",
                            want ? "allow" : "deny");
                CHECK(got == want);
                walk_checks++;
            }
        }
    }
}

/* pinned decisions, a few per kind, so a wrong matrix above cannot hide a wrong policy */
static void test_policy_anchors(void)
{
    struct rbac_facts anon = {.who = RBAC_ANONYMOUS, .project_exists = true, .project_public = 1};
    struct rbac_facts dev = {.who = RBAC_USER, .project_exists = true, .role = 2};
    struct rbac_facts maint = {.who = RBAC_USER, .project_exists = true, .role = 4};
    struct rbac_facts lim = {.who = RBAC_USER, .project_exists = true, .role = 5};
    struct rbac_facts robot = {.who = RBAC_ROBOT, .project_exists = true, .robot_actions = 4};
    struct rbac_facts gone = {.who = RBAC_USER, .project_exists = false, .role = 1};
    struct rbac_facts bad_role = {.who = RBAC_USER, .project_exists = true, .role = 9};
    struct rbac_facts admin = {.who = RBAC_USER, .sysadmin = true};
    struct rbac_facts robot_admin = {.who = RBAC_ROBOT, .sysadmin = true};

    CHECK(rbac_decide(&anon, RBAC_SCOPE_PROJECT, RBAC_RES_ARTIFACT, RBAC_ACT_READ));
    CHECK(!rbac_decide(&anon, RBAC_SCOPE_PROJECT, RBAC_RES_ARTIFACT, RBAC_ACT_DELETE));
    CHECK(!rbac_decide(&anon, RBAC_SCOPE_PROJECT, RBAC_RES_MEMBER, RBAC_ACT_LIST));
    CHECK(rbac_decide(&dev, RBAC_SCOPE_PROJECT, RBAC_RES_TAG, RBAC_ACT_CREATE));
    CHECK(!rbac_decide(&dev, RBAC_SCOPE_PROJECT, RBAC_RES_TAG, RBAC_ACT_DELETE));
    CHECK(rbac_decide(&maint, RBAC_SCOPE_PROJECT, RBAC_RES_REPOSITORY, RBAC_ACT_DELETE));
    CHECK(!rbac_decide(&maint, RBAC_SCOPE_PROJECT, RBAC_RES_PROJECT, RBAC_ACT_UPDATE));
    CHECK(!rbac_decide(&lim, RBAC_SCOPE_PROJECT, RBAC_RES_MEMBER, RBAC_ACT_LIST));
    CHECK(!rbac_decide(&lim, RBAC_SCOPE_PROJECT, RBAC_RES_LOG, RBAC_ACT_LIST));
    CHECK(rbac_decide(&robot, RBAC_SCOPE_PROJECT, RBAC_RES_ARTIFACT, RBAC_ACT_DELETE));
    CHECK(!rbac_decide(&robot, RBAC_SCOPE_PROJECT, RBAC_RES_TAG, RBAC_ACT_CREATE));
    CHECK(!rbac_decide(&robot, RBAC_SCOPE_PROJECT, RBAC_RES_MEMBER, RBAC_ACT_LIST));
    CHECK(!rbac_decide(&gone, RBAC_SCOPE_PROJECT, RBAC_RES_PROJECT, RBAC_ACT_READ));
    CHECK(!rbac_decide(&bad_role, RBAC_SCOPE_PROJECT, RBAC_RES_PROJECT, RBAC_ACT_READ));
    CHECK(rbac_decide(&admin, RBAC_SCOPE_SYSADMIN, RBAC_RES_USER, RBAC_ACT_LIST));
    CHECK(!rbac_decide(&robot_admin, RBAC_SCOPE_SYSADMIN, RBAC_RES_USER, RBAC_ACT_LIST));
    CHECK(!rbac_decide(&robot_admin, RBAC_SCOPE_SELF, RBAC_RES_USER, RBAC_ACT_READ));
    CHECK(!rbac_decide(&admin, RBAC_SCOPE_UNSET, RBAC_RES_USER, RBAC_ACT_READ));
    CHECK(!rbac_decide(&admin, RBAC_SCOPE_PROJECT, RBAC_RES_QUOTA, RBAC_ACT_PUSH));
    /* rules handlers ask on a project they loaded (a robot's, a quota's): api_project_allows */
    CHECK(rbac_decide(&maint, RBAC_SCOPE_PROJECT, RBAC_RES_ROBOT, RBAC_ACT_READ));
    CHECK(!rbac_decide(&maint, RBAC_SCOPE_PROJECT, RBAC_RES_ROBOT, RBAC_ACT_UPDATE));
    CHECK(!rbac_decide(&lim, RBAC_SCOPE_PROJECT, RBAC_RES_ROBOT, RBAC_ACT_READ));
    CHECK(rbac_decide(&lim, RBAC_SCOPE_PROJECT, RBAC_RES_QUOTA, RBAC_ACT_READ));
    CHECK(!rbac_decide(&robot, RBAC_SCOPE_PROJECT, RBAC_RES_QUOTA, RBAC_ACT_READ));
    CHECK(!rbac_decide(&gone, RBAC_SCOPE_PROJECT, RBAC_RES_ROBOT, RBAC_ACT_LIST));
    CHECK(rbac_decide(&admin, RBAC_SCOPE_PROJECT, RBAC_RES_ROBOT, RBAC_ACT_CREATE));
    CHECK_STR_EQ(rbac_res_name(RBAC_RES_AUDIT_LOG), "audit-log");
    CHECK_STR_EQ(rbac_act_name(RBAC_ACT_LIST), "list");
    CHECK_STR_EQ(rbac_scope_name(RBAC_SCOPE_SELF), "self");
}

/* The scope of the rows outside a project, pinned here independently of api/routes.c: the walk
 * above derives its expectation from each row's own declaration, so a row that loses its
 * SYSADMIN (or USER, or AUTH) would pass it. Each pinned row must exist with exactly that scope;
 * a new row outside a project belongs here too. */
struct pinned_row {
    enum http_method method;
    const char *path;
    enum rbac_scope scope;
};

static const struct pinned_row pinned[] = {
        {HTTP_GET, "/ping", RBAC_SCOPE_NOAUTH},
        {HTTP_GET, "/health", RBAC_SCOPE_PUBLIC},
        {HTTP_GET, "/systeminfo", RBAC_SCOPE_PUBLIC},
        {HTTP_GET, "/openapi.json", RBAC_SCOPE_PUBLIC},
        {HTTP_GET, "/search", RBAC_SCOPE_PUBLIC},
        {HTTP_GET, "/statistics", RBAC_SCOPE_AUTH},
        {HTTP_GET, "/metrics", RBAC_SCOPE_SYSADMIN},
        {HTTP_GET, "/repositories", RBAC_SCOPE_PUBLIC},
        {HTTP_GET, "/users", RBAC_SCOPE_SYSADMIN},
        {HTTP_POST, "/users", RBAC_SCOPE_SYSADMIN},
        {HTTP_GET, "/users/current", RBAC_SCOPE_USER},
        {HTTP_GET, "/users/search", RBAC_SCOPE_USER},
        {HTTP_GET, "/users/{user_id}", RBAC_SCOPE_SELF},
        {HTTP_PUT, "/users/{user_id}", RBAC_SCOPE_SELF},
        {HTTP_DELETE, "/users/{user_id}", RBAC_SCOPE_SYSADMIN},
        {HTTP_PUT, "/users/{user_id}/password", RBAC_SCOPE_SELF},
        {HTTP_PUT, "/users/{user_id}/sysadmin", RBAC_SCOPE_SYSADMIN},
        {HTTP_GET, "/projects", RBAC_SCOPE_PUBLIC},
        {HTTP_HEAD, "/projects", RBAC_SCOPE_PUBLIC},
        {HTTP_POST, "/projects", RBAC_SCOPE_USER},
        {HTTP_GET, "/robots", RBAC_SCOPE_USER},
        {HTTP_POST, "/robots", RBAC_SCOPE_USER},
        {HTTP_GET, "/robots/{robot_id}", RBAC_SCOPE_USER},
        {HTTP_PUT, "/robots/{robot_id}", RBAC_SCOPE_USER},
        {HTTP_PATCH, "/robots/{robot_id}", RBAC_SCOPE_USER},
        {HTTP_DELETE, "/robots/{robot_id}", RBAC_SCOPE_USER},
        {HTTP_GET, "/quotas", RBAC_SCOPE_SYSADMIN},
        {HTTP_GET, "/quotas/{id}", RBAC_SCOPE_AUTH},
        {HTTP_PUT, "/quotas/{id}", RBAC_SCOPE_SYSADMIN},
        {HTTP_GET, "/audit-logs", RBAC_SCOPE_SYSADMIN},
        {HTTP_POST, "/system/purgeaudit", RBAC_SCOPE_SYSADMIN},
};

static void test_scopes_pinned(void)
{
    struct rbac_facts robot_self = {.who = RBAC_ROBOT, .self = true, .robot_actions = RBAC_ALL};

    for (size_t j = 0; j < sizeof(pinned) / sizeof(pinned[0]); j++) {
        const struct api_route *r = NULL;
        for (size_t i = 0; i < api_routes_n; i++)
            if (api_routes[i].method == pinned[j].method &&
                strcmp(api_routes[i].path, pinned[j].path) == 0)
                r = &api_routes[i];
        if (r == NULL || r->scope != pinned[j].scope)
            fprintf(stderr, "%s %s: scope %s, pinned %s\n", http_method_name(pinned[j].method),
                    pinned[j].path, r != NULL ? rbac_scope_name(r->scope) : "(no row)",
                    rbac_scope_name(pinned[j].scope));
        CHECK(r != NULL && r->scope == pinned[j].scope);
    }
    /* invariant 5 of rbac.c: a robot is never "self", whatever the facts say */
    CHECK(!rbac_decide(&robot_self, RBAC_SCOPE_SELF, RBAC_RES_USER, RBAC_ACT_READ));
    CHECK(!rbac_decide(&robot_self, RBAC_SCOPE_SELF, RBAC_RES_USER, RBAC_ACT_UPDATE));
}

/* ---- matching ---- */

/* sample: seg[] for pattern with every {param} replaced by "p1" */
static size_t sample(const char *pattern, char *buf, size_t cap, const char **seg)
{
    size_t n = 0;
    size_t used = 0;
    const char *s = pattern;

    while (*s == '/' && n < 8) {
        const char *e = strchr(s + 1, '/');
        size_t len = e != NULL ? (size_t)(e - s - 1) : strlen(s + 1);
        const char *v = s + 1;
        size_t vlen = len;
        if (len >= 2 && v[0] == '{') {
            v = "p1";
            vlen = 2;
        }
        if (used + vlen + 1 > cap)
            break;
        memcpy(buf + used, v, vlen);
        buf[used + vlen] = '\0';
        seg[n++] = buf + used;
        used += vlen + 1;
        s += len + 1;
    }
    return n;
}

static void test_every_row_reachable(void)
{
    for (size_t i = 0; i < api_routes_n; i++) {
        const struct api_route *r = &api_routes[i];
        const char *seg[8];
        char buf[512];
        size_t n = sample(r->path, buf, sizeof(buf), seg);
        unsigned status = 0;
        bool noauth = false;
        const struct api_route *got = api_route_match(r->method, seg, n, &status, &noauth);
        if (got != r)
            fprintf(stderr, "row %zu %s %s is shadowed\n", i, http_method_name(r->method), r->path);
        CHECK(got == r);
        for (size_t j = 0; j < i; j++) /* one row per (method, pattern) */
            CHECK(!(api_routes[j].method == r->method && strcmp(api_routes[j].path, r->path) == 0));
    }
}

static void test_match(void)
{
    const char *users_current[] = {"users", "current"};
    const char *users_id[] = {"users", "7"};
    const char *tag[] = {"projects",  "p",      "repositories", "a%2Fb",
                         "artifacts", "latest", "tags",         "v1"};
    const char *ping[] = {"ping"};
    const char *nope[] = {"nope"};
    const char *empty[] = {"users", ""};
    const char *too_long[] = {"projects", "p", "members", "1", "x"};
    unsigned status = 0;
    bool noauth = false;
    const struct api_route *r;

    r = api_route_match(HTTP_GET, users_current, 2, &status, &noauth);
    CHECK(r != NULL && strcmp(r->path, "/users/current") == 0);
    /* /users/current exists for GET only: PUT is 405, not PUT /users/{user_id} */
    CHECK(api_route_match(HTTP_PUT, users_current, 2, &status, &noauth) == NULL);
    CHECK_INT_EQ(status, HTTP_METHOD_NOT_ALLOWED);
    CHECK(!noauth);
    r = api_route_match(HTTP_PUT, users_id, 2, &status, &noauth);
    CHECK(r != NULL && strcmp(r->path, "/users/{user_id}") == 0 && r->param == API_PARAM_USER_ID);
    r = api_route_match(HTTP_DELETE, tag, 8, &status, &noauth);
    CHECK(r != NULL && r->res == RBAC_RES_TAG && r->act == RBAC_ACT_DELETE);
    CHECK(api_route_match(HTTP_GET, tag, 8, &status, &noauth) == NULL);
    CHECK_INT_EQ(status, HTTP_METHOD_NOT_ALLOWED);
    r = api_route_match(HTTP_HEAD, ping, 1, &status, &noauth);
    CHECK(r != NULL && r->scope == RBAC_SCOPE_NOAUTH);
    CHECK(api_route_match(HTTP_POST, ping, 1, &status, &noauth) == NULL);
    CHECK_INT_EQ(status, HTTP_METHOD_NOT_ALLOWED);
    CHECK(noauth);
    CHECK(api_route_match(HTTP_GET, nope, 1, &status, &noauth) == NULL);
    CHECK_INT_EQ(status, HTTP_NOT_FOUND);
    CHECK(api_route_match(HTTP_GET, empty, 2, &status, &noauth) == NULL);
    CHECK_INT_EQ(status, HTTP_NOT_FOUND);
    CHECK(api_route_match(HTTP_GET, too_long, 5, &status, &noauth) == NULL);
    CHECK_INT_EQ(status, HTTP_NOT_FOUND);
    CHECK_INT_EQ(api_path_param("/projects/{project_name}/repositories/{repository_name}",
                                "repository_name"),
                 3);
    CHECK_INT_EQ(api_path_project_param("/projects/{project_name_or_id}/members/{mid}"), 1);
    CHECK_INT_EQ(api_path_project_param("/users/{user_id}"), -1);
}

/* ---- the OpenAPI document ---- */

static const char *const doc_methods[] = {"get", "put", "post", "delete", "patch", "head"};

static enum http_method method_of(const char *m)
{
    char up[8];
    size_t i;

    for (i = 0; m[i] != '\0' && i + 1 < sizeof(up); i++)
        up[i] = (char)(m[i] - 'a' + 'A');
    up[i] = '\0';
    return http_method_of(up);
}

static void test_openapi_matches_table(void)
{
    json_error_t je;
    json_t *doc = json_load_file("docs/openapi.json", JSON_REJECT_DUPLICATES, &je);
    json_t *paths = json_object_get(doc, "paths");
    const char *path;
    json_t *ops;
    int documented = 0;

    CHECK(json_is_object(paths));
    if (!json_is_object(paths)) {
        fprintf(stderr, "docs/openapi.json: %s (run from the repository root)\n", je.text);
        json_decref(doc);
        return;
    }
    /* every documented operation is a row */
    json_object_foreach(paths, path, ops)
    {
        for (size_t k = 0; k < sizeof(doc_methods) / sizeof(doc_methods[0]); k++) {
            enum http_method m = method_of(doc_methods[k]);
            bool found = false;
            if (json_object_get(ops, doc_methods[k]) == NULL)
                continue;
            documented++;
            for (size_t i = 0; i < api_routes_n && !found; i++)
                found = api_routes[i].method == m && strcmp(api_routes[i].path, path) == 0;
            if (!found)
                fprintf(stderr, "documented, not routed: %s %s\n", doc_methods[k], path);
            CHECK(found);
        }
    }
    /* every row is documented (a GET row's HEAD is not listed) */
    for (size_t i = 0; i < api_routes_n; i++) {
        const struct api_route *r = &api_routes[i];
        char m[8];
        const char *name = http_method_name(r->method);
        size_t j;
        for (j = 0; name[j] != '\0' && j + 1 < sizeof(m); j++)
            m[j] = (char)(name[j] - 'A' + 'a');
        m[j] = '\0';
        ops = json_object_get(paths, r->path);
        if (json_object_get(ops, m) == NULL)
            fprintf(stderr, "routed, not documented: %s %s\n", name, r->path);
        CHECK(json_object_get(ops, m) != NULL);
    }
    CHECK_INT_EQ(documented, (long long)api_routes_n);
    json_decref(doc);
}

int main(void)
{
    TEST_RUN(test_walker_refuses_rows_without_permission);
    TEST_RUN(test_every_row_declares_a_permission);
    TEST_RUN(test_permission_walk);
    TEST_RUN(test_policy_anchors);
    TEST_RUN(test_scopes_pinned);
    TEST_RUN(test_every_row_reachable);
    TEST_RUN(test_match);
    TEST_RUN(test_openapi_matches_table);
    fprintf(stderr, "%zu routes, %d permission-walk decisions\n", api_routes_n, walk_checks);
    return test_summary();
}
