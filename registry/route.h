/* route.h - the /v2/ mount of the HTTP core (registry/route.c): the distribution API's routes.
 * Mount it at "/v2" (exact) and "/v2/" (prefix) with a struct registry as its context. */
#ifndef BERTH_REGISTRY_ROUTE_H
#define BERTH_REGISTRY_ROUTE_H

#include <stdbool.h>

#include "http/server.h"
#include "registry/req.h"

extern const struct http_handler route_v2_handler;

/* route_v2_parse splits rest (the path after "/v2/") into r->route, r->name and r->ref; -1 with
 * r->err set (NOT_FOUND for no endpoint, NAME_INVALID, TAG_INVALID, DIGEST_INVALID,
 * BLOB_UPLOAD_UNKNOWN) when it cannot. */
int route_v2_parse(struct req *r, const char *rest);
/* route_v2_method_allowed: route has method m. */
bool route_v2_method_allowed(enum req_route route, enum http_method m);

#endif
