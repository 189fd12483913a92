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
    bool self;              /* SELF scope: the path's {user_id} is this user */
};

/* ---- the management API's policy (/api/v2.0) ----
 *
 * Every route of api/routes.c names a scope, a resource and an action (Harbor's RBAC names);
 * rbac_decide says yes or no from the facts alone. The scopes:
 *   PUBLIC    anyone, anonymous included (the handler filters what it shows)
 *   AUTH      any authenticated caller, users and robots
 *   USER      authenticated users; robots are refused
 *   SYSADMIN  system administrators only
 *   SELF      a system administrator, or the user the path names ({user_id}; facts.self)
 *   PROJECT   the project named by the path, decided by the table in rbac.c (rbac_rules[]):
 *             member roles, robots' explicit permissions, public projects for reads, and
 *             sysadmins for everything
 * NOAUTH (GET /ping) is PUBLIC without even looking at credentials. RBAC_SCOPE_UNSET is 0 so a
 * route row that forgets its scope is refused, never allowed. */
enum rbac_scope {
    RBAC_SCOPE_UNSET,
    RBAC_SCOPE_NOAUTH,
    RBAC_SCOPE_PUBLIC,
    RBAC_SCOPE_AUTH,
    RBAC_SCOPE_USER,
    RBAC_SCOPE_SYSADMIN,
    RBAC_SCOPE_SELF,
    RBAC_SCOPE_PROJECT,
};

/* Harbor's resources (src/common/rbac/const.go); RBAC_RES_NONE only on PUBLIC/NOAUTH rows. */
enum rbac_res {
    RBAC_RES_NONE,
    RBAC_RES_PROJECT,
    RBAC_RES_MEMBER,
    RBAC_RES_ROBOT,
    RBAC_RES_LOG,
    RBAC_RES_REPOSITORY,
    RBAC_RES_ARTIFACT,
    RBAC_RES_TAG,
    RBAC_RES_QUOTA,
    RBAC_RES_AUDIT_LOG,
    RBAC_RES_USER,
    RBAC_RES_STATISTICS,
    RBAC_RES_METRICS,
    RBAC_RES_SYSTEM,
};

enum rbac_act {
    RBAC_ACT_NONE,
    RBAC_ACT_CREATE,
    RBAC_ACT_READ,
    RBAC_ACT_UPDATE,
    RBAC_ACT_DELETE,
    RBAC_ACT_LIST,
    RBAC_ACT_PULL,
    RBAC_ACT_PUSH,
};

/* rbac_decide: whether the caller described by f may do act on res under scope. For PROJECT the
 * facts describe the project of the path (project_exists, project_public, role, robot_actions);
 * for SELF, f->self says whether the path's user is the caller. Pure; thread-safe. */
bool rbac_decide(const struct rbac_facts *f, enum rbac_scope scope, enum rbac_res res,
                 enum rbac_act act);
/* rbac_project_rule_roles: the member roles (bit 1 << role) the table grants res/act to, and
 * through *robot_bits the RBAC_* bits a robot needs one of (0: robots never); false when the
 * table has no such row (nobody but a sysadmin may then). For tests and documentation. */
bool rbac_project_rule(enum rbac_res res, enum rbac_act act, unsigned *role_bits,
                       unsigned *robot_bits, bool *public_ok);
/* Names as Harbor writes them ("project", "audit-log"; "create", "list"), "" for NONE. */
const char *rbac_res_name(enum rbac_res res);
const char *rbac_act_name(enum rbac_act act);
const char *rbac_scope_name(enum rbac_scope scope);

/* rbac_role_actions: the RBAC_* bits one role grants (0 for an unknown role). */
unsigned rbac_role_actions(int role);
/* rbac_project_actions: the RBAC_* bits the principal described by f may use on the project. */
unsigned rbac_project_actions(const struct rbac_facts *f);
/* rbac_catalog_allowed: whether this kind of principal may call /v2/_catalog at all. */
bool rbac_catalog_allowed(enum rbac_who who);
/* rbac_role_name: Harbor's name of a role ("projectAdmin"), NULL for an unknown id. */
const char *rbac_role_name(int role);

#endif
