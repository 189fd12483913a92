/* routes.c - the management API's route table and its matcher.
 *
 * Adding an endpoint is one row here, its handler, its entry in scripts/openapi_gen.py and a
 * test (docs/internals/adding-an-endpoint.md).
 * Invariants:
 *   1. Every row has a scope; every row but PUBLIC and NOAUTH ones names a resource and an
 *      action (api/routes_test.c walks the table and fails otherwise).
 *   2. A literal segment comes before a "{param}" at the same place ("/users/current" before
 *      "/users/{user_id}"): the first pattern that matches decides the path.
 *   3. Every (method, pattern) is in docs/openapi.json and the other way round; a GET row with
 *      head set also answers HEAD, which the document does not list. Outside both, by design:
 *      the root /metrics (an alias the router maps onto the /metrics row) and /c/login,
 *      /c/log_out (web sessions, not /api/v2.0: api_session.c, before any routing).
 * The table is constant; matching reads only its arguments. Thread-safe. */
#include "api/routes.h"

#include <string.h>

#include "api/api_content.h"
#include "api/api_ext.h"
#include "api/api_gc.h"
#include "api/api_int.h"
#include "api/api_pulls.h"
#include "api/path.h"

#define GET HTTP_GET, false
#define GETH HTTP_GET, true
#define HEAD HTTP_HEAD, false
#define PUT HTTP_PUT, false
#define POST HTTP_POST, false
#define PATCH HTTP_PATCH, false
#define DELETE HTTP_DELETE, false

#define NOAUTH RBAC_SCOPE_NOAUTH, RBAC_RES_NONE, RBAC_ACT_NONE
#define PUBLIC RBAC_SCOPE_PUBLIC, RBAC_RES_NONE, RBAC_ACT_NONE
#define AUTH(res, act) RBAC_SCOPE_AUTH, RBAC_RES_##res, RBAC_ACT_##act
#define USER(res, act) RBAC_SCOPE_USER, RBAC_RES_##res, RBAC_ACT_##act
#define SYSADMIN(res, act) RBAC_SCOPE_SYSADMIN, RBAC_RES_##res, RBAC_ACT_##act
#define SELF(res, act) RBAC_SCOPE_SELF, RBAC_RES_##res, RBAC_ACT_##act
#define PROJECT(res, act) RBAC_SCOPE_PROJECT, RBAC_RES_##res, RBAC_ACT_##act

#define P "/projects/{project_name_or_id}"
#define R "/projects/{project_name}/repositories/{repository_name}"
#define A R "/artifacts/{reference}"

#define NO_ROBOTS "robot accounts may not manage robots"

/* clang-format off */
const struct api_route api_routes[] = {
    /* the registry as a whole */
    {GETH, "/ping", api_ping, NOAUTH, 0, NULL},
    {GETH, "/health", api_health, PUBLIC, 0, NULL},
    {GETH, "/systeminfo", api_systeminfo, PUBLIC, 0, NULL},
    {GETH, "/openapi.json", api_openapi, PUBLIC, 0, NULL},
    {GETH, "/search", api_search, PUBLIC, 0, NULL},
    {GETH, "/statistics", api_statistics, AUTH(STATISTICS, READ), 0, NULL},
    {GETH, "/metrics", api_metrics, SYSADMIN(METRICS, READ), 0,
     "metrics are for system administrators"},
    {GET, "/repositories", api_repositories, PUBLIC, 0, NULL},

    /* users */
    {GET, "/users", api_user_list, SYSADMIN(USER, LIST), 0, NULL},
    {POST, "/users", api_user_create, SYSADMIN(USER, CREATE), 0, NULL},
    {GET, "/users/current", api_user_current, USER(USER, READ), 0,
     "robot accounts have no user profile"},
    {GET, "/users/search", api_user_search, USER(USER, LIST), 0, NULL},
    {GET, "/users/{user_id}", api_user_get, SELF(USER, READ), API_PARAM_USER_ID, NULL},
    {PUT, "/users/{user_id}", api_user_update, SELF(USER, UPDATE), API_PARAM_USER_ID, NULL},
    {DELETE, "/users/{user_id}", api_user_delete, SYSADMIN(USER, DELETE), API_PARAM_USER_ID, NULL},
    {PUT, "/users/{user_id}/password", api_user_password, SELF(USER, UPDATE), API_PARAM_USER_ID,
     NULL},
    {PUT, "/users/{user_id}/sysadmin", api_user_sysadmin, SYSADMIN(USER, UPDATE),
     API_PARAM_USER_ID, NULL},

    /* projects */
    {GET, "/projects", api_project_list, PUBLIC, 0, NULL},
    {HEAD, "/projects", api_project_head, PUBLIC, 0, NULL},
    {POST, "/projects", api_project_create, USER(PROJECT, CREATE), 0,
     "robot accounts may not create projects"},
    {GETH, P, api_project_get, PROJECT(PROJECT, READ), 0, NULL},
    {PUT, P, api_project_update, PROJECT(PROJECT, UPDATE), 0, NULL},
    {DELETE, P, api_project_delete, PROJECT(PROJECT, DELETE), 0, NULL},
    {GET, P "/_deletable", api_project_deletable, PROJECT(PROJECT, DELETE), 0, NULL},
    {GETH, P "/summary", api_project_summary, PROJECT(PROJECT, READ), 0, NULL},
    {GETH, P "/logs", api_project_logs, PROJECT(LOG, LIST), 0, NULL},
    {GET, P "/members", api_member_list, PROJECT(MEMBER, LIST), 0, NULL},
    {POST, P "/members", api_member_add, PROJECT(MEMBER, CREATE), 0, NULL},
    {GET, P "/members/{mid}", api_member_get, PROJECT(MEMBER, READ), API_PARAM_MEMBER_ID, NULL},
    {PUT, P "/members/{mid}", api_member_update, PROJECT(MEMBER, UPDATE), API_PARAM_MEMBER_ID,
     NULL},
    {DELETE, P "/members/{mid}", api_member_delete, PROJECT(MEMBER, DELETE), API_PARAM_MEMBER_ID,
     NULL},
    {GET, P "/robots", api_project_robots, PROJECT(ROBOT, LIST), 0, NULL},

    /* content */
    {GET, "/projects/{project_name}/artifacts", api_artifact_project_list,
     PROJECT(ARTIFACT, LIST), 0, NULL},
    {GET, "/projects/{project_name}/repositories", api_repo_list, PROJECT(REPOSITORY, LIST), 0,
     NULL},
    {GET, R, api_repo_get, PROJECT(REPOSITORY, READ), 0, NULL},
    {PUT, R, api_repo_update, PROJECT(REPOSITORY, UPDATE), 0, NULL},
    {DELETE, R, api_repo_delete, PROJECT(REPOSITORY, DELETE), 0, NULL},
    {GET, R "/artifacts", api_artifact_list_repo, PROJECT(ARTIFACT, LIST), 0, NULL},
    {GET, A, api_artifact_get, PROJECT(ARTIFACT, READ), 0, NULL},
    {DELETE, A, api_artifact_delete, PROJECT(ARTIFACT, DELETE), 0, NULL},
    {GET, A "/tags", api_tag_list, PROJECT(TAG, LIST), 0, NULL},
    {POST, A "/tags", api_tag_create, PROJECT(TAG, CREATE), 0, NULL},
    {DELETE, A "/tags/{tag_name}", api_tag_delete, PROJECT(TAG, DELETE), 0, NULL},

    /* pull analytics (api_pulls.c) */
    {GETH, "/projects/{project_name}/pulls/timeseries", api_pulls_project_series,
     PROJECT(REPOSITORY, LIST), 0, NULL},
    {GETH, "/projects/{project_name}/pulls/top", api_pulls_project_top,
     PROJECT(REPOSITORY, LIST), 0, NULL},
    {GETH, "/projects/{project_name}/pulls/stale", api_pulls_stale, PROJECT(ARTIFACT, LIST), 0,
     NULL},
    {GETH, R "/pulls/timeseries", api_pulls_repo_series, PROJECT(REPOSITORY, READ), 0, NULL},
    {GETH, A "/pulls/timeseries", api_pulls_artifact_series, PROJECT(ARTIFACT, READ), 0, NULL},
    {GETH, "/pulls/timeseries", api_pulls_series_all, SYSADMIN(STATISTICS, READ), 0,
     "the system-wide pull history is for system administrators"},
    {GETH, "/pulls/top", api_pulls_top, SYSADMIN(STATISTICS, READ), 0,
     "the system-wide top list is for system administrators"},
    {GETH, "/pulls/stale", api_pulls_stale_all, SYSADMIN(STATISTICS, READ), 0,
     "the system-wide stale listing is for system administrators"},

    /* robots */
    {GET, "/robots", api_robot_list, USER(ROBOT, LIST), 0, NO_ROBOTS},
    {POST, "/robots", api_robot_create, USER(ROBOT, CREATE), 0, NO_ROBOTS},
    {GET, "/robots/{robot_id}", api_robot_one, USER(ROBOT, READ), API_PARAM_ROBOT_ID, NO_ROBOTS},
    {PUT, "/robots/{robot_id}", api_robot_one, USER(ROBOT, UPDATE), API_PARAM_ROBOT_ID,
     NO_ROBOTS},
    {PATCH, "/robots/{robot_id}", api_robot_one, USER(ROBOT, UPDATE), API_PARAM_ROBOT_ID,
     NO_ROBOTS},
    {DELETE, "/robots/{robot_id}", api_robot_one, USER(ROBOT, DELETE), API_PARAM_ROBOT_ID,
     NO_ROBOTS},

    /* quotas, audit log, system */
    {GETH, "/quotas", api_quota_list, SYSADMIN(QUOTA, LIST), 0, NULL},
    {GETH, "/quotas/{id}", api_quota_get, AUTH(QUOTA, READ), API_PARAM_QUOTA_ID, NULL},
    {PUT, "/quotas/{id}", api_quota_put, SYSADMIN(QUOTA, UPDATE), API_PARAM_QUOTA_ID, NULL},
    {GETH, "/audit-logs", api_audit_logs, SYSADMIN(AUDIT_LOG, LIST), 0, NULL},
    {POST, "/system/purgeaudit", api_system_purgeaudit, SYSADMIN(AUDIT_LOG, DELETE), 0, NULL},
    {GET, "/system/gc", api_gc_list, SYSADMIN(SYSTEM, LIST), 0, NULL},
    {POST, "/system/gc/schedule", api_gc_schedule, SYSADMIN(SYSTEM, CREATE), 0, NULL},
    {GET, "/system/gc/{gc_id}", api_gc_get, SYSADMIN(SYSTEM, READ), API_PARAM_GC_ID, NULL},
    {GET, "/system/gc/{gc_id}/log", api_gc_log, SYSADMIN(SYSTEM, READ), API_PARAM_GC_ID, NULL},
};
/* clang-format on */

const size_t api_routes_n = sizeof(api_routes) / sizeof(api_routes[0]);

const struct api_route *api_route_match(enum http_method method, const char *const *seg, size_t n,
                                        unsigned *status, bool *noauth)
{
    const char *found = NULL;

    *status = HTTP_NOT_FOUND;
    *noauth = false;
    for (size_t i = 0; i < api_routes_n; i++) {
        const struct api_route *r = &api_routes[i];
        if (found == NULL) {
            if (!api_path_match(r->path, seg, n))
                continue;
            found = r->path;
            *status = HTTP_METHOD_NOT_ALLOWED;
            *noauth = true;
        } else if (strcmp(found, r->path) != 0) {
            continue;
        }
        if (r->scope != RBAC_SCOPE_NOAUTH)
            *noauth = false;
        if (r->method == method || (r->head && method == HTTP_HEAD))
            return r;
    }
    return NULL;
}
