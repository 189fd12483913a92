/* authz.h - registry-side authorization glue: looks up the facts auth/rbac.c decides on
 * (project, membership, robot permissions) for a principal, and the client address used for
 * login throttling. Shared by access.c (/v2/), token_ep.c (/service/token) and the catalog.
 * Thread-safe: every call borrows meta connections for its own duration. */
#ifndef BERTH_REGISTRY_AUTHZ_H
#define BERTH_REGISTRY_AUTHZ_H

#include <stddef.h>
#include <stdint.h>

#include "auth/authn.h"
#include "common/berr.h"

struct registry;
struct req;

/* authz_project_actions sets *actions to the RBAC bits (auth/rbac.h) who may use on the project
 * named `project`, and *created_at to the project's creation time (0 when it does not exist).
 * A principal authenticated by a bearer token is resolved by name (a user's membership and
 * sysadmin flag, a robot's permissions; a robot that no longer exists, is disabled or has
 * expired gets what anonymous callers get). BERR_INTERNAL when the store fails. */
int authz_project_actions(struct registry *reg, const struct principal *who, const char *project,
                          unsigned *actions, int64_t *created_at, struct berr *err);

/* authz_client_addr writes the numeric client address of the request ("" when unknown). */
void authz_client_addr(const struct req *r, char *out, size_t cap);

#endif
