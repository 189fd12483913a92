/* rbac.h - what a principal may do on a project: pure decision logic over facts the caller
 * looked up (membership, robot permissions, the project's public flag), so it can be tested
 * without a database.
 *
 * The table follows Harbor's project roles (src/common/rbac/project/rbac_role.go), restricted to
 * the registry actions Berth enforces on /v2/:
 *
 *   role (id)          pull  push  delete
 *   projectAdmin (1)    x     x     x
 *   developer (2)       x     x     -
 *   guest (3)           x     -     -
 *   maintainer (4)      x     x     x
 *   limitedGuest (5)    x     -     -
 *   public project      x     -     -      (anyone, anonymous included)
 *   sysadmin            x     x     x      (every project, also one that does not exist, so the
 *                                            handler can answer 404 NAME_UNKNOWN)
 *   robot               its explicit permissions on that project, plus pull when public
 *
 * A project that does not exist grants nothing to anybody but a sysadmin. Roles outside 1..5
 * grant nothing. The catalog (`registry:catalog:*`) is open to every authenticated principal
 * (users and robots), never to anonymous callers; the catalog handler then lists only the
 * repositories of projects the caller may pull from (Harbor keeps the catalog for sysadmins;
 * Berth filters instead, so members see their own projects). No state; thread-safe. */
#ifndef BERTH_AUTH_RBAC_H
#define BERTH_AUTH_RBAC_H

#include <stdbool.h>

#include "auth/scope.h"

/* Action bits: the same values as auth/scope.h's, so a token's access list and a decision
 * compare directly. */
#define RBAC_PULL SCOPE_ACT_PULL
#define RBAC_PUSH SCOPE_ACT_PUSH
#define RBAC_DELETE SCOPE_ACT_DELETE
#define RBAC_ALL (RBAC_PULL | RBAC_PUSH | RBAC_DELETE)

/* Harbor's role ids (src/common/const.go). */
#define RBAC_ROLE_NONE 0
#define RBAC_ROLE_PROJECT_ADMIN 1
#define RBAC_ROLE_DEVELOPER 2
#define RBAC_ROLE_GUEST 3
#define RBAC_ROLE_MAINTAINER 4
#define RBAC_ROLE_LIMITED_GUEST 5

enum rbac_who { RBAC_ANONYMOUS, RBAC_USER, RBAC_ROBOT };

struct rbac_facts {
    enum rbac_who who;
    bool sysadmin; /* users only; ignored for robots and anonymous */
    bool project_exists;
    bool project_public;
    int role;               /* users: member role on this project, RBAC_ROLE_NONE when none */
    unsigned robot_actions; /* robots: RBAC_* bits granted on this project */
};

/* rbac_role_actions: the RBAC_* bits one role grants (0 for an unknown role). */
unsigned rbac_role_actions(int role);
/* rbac_project_actions: the RBAC_* bits the principal described by f may use on the project. */
unsigned rbac_project_actions(const struct rbac_facts *f);
/* rbac_catalog_allowed: whether this kind of principal may call /v2/_catalog at all. */
bool rbac_catalog_allowed(enum rbac_who who);
/* rbac_role_name: Harbor's name of a role ("projectAdmin"), NULL for an unknown id. */
const char *rbac_role_name(int role);

#endif
