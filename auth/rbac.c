/* rbac.c - the role table of rbac.h.
 *
 * Invariants:
 *   1. The result never holds a bit outside RBAC_ALL, whatever the facts say (robot_actions is
 *      masked).
 *   2. Anonymous callers get at most RBAC_PULL, and only on an existing public project.
 *   3. A missing project grants nothing unless the caller is a sysadmin user.
 * No state; thread-safe. */
#include "auth/rbac.h"

#include <stddef.h>

unsigned rbac_role_actions(int role)
{
    switch (role) {
    case RBAC_ROLE_PROJECT_ADMIN:
    case RBAC_ROLE_MAINTAINER:
        return RBAC_PULL | RBAC_PUSH | RBAC_DELETE;
    case RBAC_ROLE_DEVELOPER:
        return RBAC_PULL | RBAC_PUSH;
    case RBAC_ROLE_GUEST:
    case RBAC_ROLE_LIMITED_GUEST:
        return RBAC_PULL;
    default:
        break;
    }
    return 0;
}

unsigned rbac_project_actions(const struct rbac_facts *f)
{
    unsigned acts = 0;

    if (f->who == RBAC_USER && f->sysadmin)
        return RBAC_ALL;
    if (!f->project_exists)
        return 0;
    if (f->project_public)
        acts |= RBAC_PULL;
    switch (f->who) {
    case RBAC_USER:
        acts |= rbac_role_actions(f->role);
        break;
    case RBAC_ROBOT:
        acts |= f->robot_actions & RBAC_ALL;
        break;
    case RBAC_ANONYMOUS:
        break;
    }
    return acts & RBAC_ALL;
}

bool rbac_catalog_allowed(enum rbac_who who)
{
    return who == RBAC_USER || who == RBAC_ROBOT;
}

const char *rbac_role_name(int role)
{
    switch (role) {
    case RBAC_ROLE_PROJECT_ADMIN:
        return "projectAdmin";
    case RBAC_ROLE_DEVELOPER:
        return "developer";
    case RBAC_ROLE_GUEST:
        return "guest";
    case RBAC_ROLE_MAINTAINER:
        return "maintainer";
    case RBAC_ROLE_LIMITED_GUEST:
        return "limitedGuest";
    default:
        break;
    }
    return NULL;
}
