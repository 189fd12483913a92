/* routes.h - the management API as a table: one row per (method, path pattern) under /api/v2.0,
 * with its handler and the permission it needs (scope, resource, action: auth/rbac.h).
 *
 * A pattern is a path below /api/v2.0 whose segments are literals or "{name}", matching any one
 * non-empty segment; the names are those of docs/openapi.json, so api/routes_test.c compares the
 * two path by path. The router (api/router.c) checks the row's permission before the handler
 * runs; a handler checks only what depends on the object it loads. */
#ifndef BERTH_API_ROUTES_H
#define BERTH_API_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/rbac.h"
#include "http/http.h"

struct api_call;

/* A handler answers c (errors included) and returns 0, or -1: stopped, with the reply built
 * when c->answered (an error answered on the way), else nothing could be built (500). */
typedef int (*api_handler_fn)(struct api_call *c);

/* The numeric path parameter a row parses before its permission check, with its 400 message. */
enum api_param {
    API_PARAM_NONE,
    API_PARAM_USER_ID,
    API_PARAM_ROBOT_ID,
    API_PARAM_QUOTA_ID,
    API_PARAM_MEMBER_ID
};

struct api_route {
    enum http_method method;
    bool head;        /* a GET that also answers HEAD (Harbor's clients probe with it; the
                         document lists GET only) */
    const char *path; /* pattern below /api/v2.0 */
    api_handler_fn fn;
    enum rbac_scope scope; /* PROJECT: the project is the path's first "{project_name...}" */
    enum rbac_res res;
    enum rbac_act act;
    enum api_param param;
    const char *deny; /* the 403 message; NULL: "forbidden" (anonymous callers always get 401
                         "UnAuthorized") */
};

extern const struct api_route api_routes[];
extern const size_t api_routes_n;

/* api_route_match finds the row for method and the path segments seg[0..n): the first row (in
 * table order) whose pattern matches the path decides the path; among the rows with that same
 * pattern, the one of the method (a GET row with head set also takes HEAD). Returns the row, or
 * NULL with *status HTTP_NOT_FOUND (no pattern matches) or HTTP_METHOD_NOT_ALLOWED. *noauth is
 * set when the path's rows are all NOAUTH (a 405 there is answered before authentication). */
const struct api_route *api_route_match(enum http_method method, const char *const *seg, size_t n,
                                        unsigned *status, bool *noauth);
#endif
