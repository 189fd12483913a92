/* rbac.c - the role tables of rbac.h: the registry actions of /v2/ (rbac_project_actions) and
 * the management API's policy (rbac_rules[], rbac_decide), each written once, here.
 *
 * Invariants:
 *   1. The result never holds a bit outside RBAC_ALL, whatever the facts say (robot_actions is
 *      masked).
 *   2. Anonymous callers get at most RBAC_PULL, and only on an existing public project; in the
 *      management API at most the PUBLIC scope and the rules marked public_ok on an existing
 *      public project.
 *   3. A missing project grants nothing unless the caller is a sysadmin user.
 *   4. rbac_decide refuses what it does not know: an unset scope, a PROJECT resource/action with
 *      no row in rbac_rules[], a role outside 1..5.
 *   5. A robot is never a sysadmin and never "self"; on a project it gets exactly the rules whose
 *      robot_bits meet its explicit permissions there.
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

/* ---- the management API's policy ---- */

#define R_ADMIN (1u << RBAC_ROLE_PROJECT_ADMIN)
#define R_DEV (1u << RBAC_ROLE_DEVELOPER)
#define R_GUEST (1u << RBAC_ROLE_GUEST)
#define R_MAINT (1u << RBAC_ROLE_MAINTAINER)
#define R_LIMITED (1u << RBAC_ROLE_LIMITED_GUEST)
#define R_MEMBERS (R_ADMIN | R_DEV | R_GUEST | R_MAINT) /* every role but limitedGuest */
#define R_ANY (R_MEMBERS | R_LIMITED)

struct rbac_rule {
    enum rbac_res res;
    enum rbac_act act;
    unsigned roles;      /* member roles granted, bit 1 << role */
    unsigned robot_bits; /* a robot needs one of these RBAC_* bits on the project; 0 = never */
    bool public_ok;      /* anyone, anonymous included, on a public project */
};

/* One row per project-scoped permission. Sysadmins may do everything and are not listed. Reads
 * follow "the project is readable": public, any member, a robot with any grant on it. Writes on
 * content follow the /v2/ table (rbac_role_actions): push for developers up, delete for
 * maintainers and projectAdmins; project settings, members, project robots and the project
 * itself belong to projectAdmins; members, robots and logs are shown to every role but
 * limitedGuest; a project's quota to every member. */
static const struct rbac_rule rbac_rules[] = {
        {RBAC_RES_PROJECT, RBAC_ACT_READ, R_ANY, RBAC_ALL, true},
        {RBAC_RES_PROJECT, RBAC_ACT_UPDATE, R_ADMIN, 0, false},
        {RBAC_RES_PROJECT, RBAC_ACT_DELETE, R_ADMIN, 0, false},
        {RBAC_RES_MEMBER, RBAC_ACT_LIST, R_MEMBERS, 0, false},
        {RBAC_RES_MEMBER, RBAC_ACT_READ, R_MEMBERS, 0, false},
        {RBAC_RES_MEMBER, RBAC_ACT_CREATE, R_ADMIN, 0, false},
        {RBAC_RES_MEMBER, RBAC_ACT_UPDATE, R_ADMIN, 0, false},
        {RBAC_RES_MEMBER, RBAC_ACT_DELETE, R_ADMIN, 0, false},
        {RBAC_RES_ROBOT, RBAC_ACT_LIST, R_MEMBERS, 0, false},
        {RBAC_RES_ROBOT, RBAC_ACT_READ, R_MEMBERS, 0, false},
        {RBAC_RES_ROBOT, RBAC_ACT_CREATE, R_ADMIN, 0, false},
        {RBAC_RES_ROBOT, RBAC_ACT_UPDATE, R_ADMIN, 0, false},
        {RBAC_RES_ROBOT, RBAC_ACT_DELETE, R_ADMIN, 0, false},
        {RBAC_RES_QUOTA, RBAC_ACT_READ, R_ANY, 0, false},
        {RBAC_RES_LOG, RBAC_ACT_LIST, R_MEMBERS, 0, false},
        {RBAC_RES_REPOSITORY, RBAC_ACT_LIST, R_ANY, RBAC_ALL, true},
        {RBAC_RES_REPOSITORY, RBAC_ACT_READ, R_ANY, RBAC_ALL, true},
        {RBAC_RES_REPOSITORY, RBAC_ACT_UPDATE, R_ADMIN | R_MAINT, RBAC_DELETE, false},
        {RBAC_RES_REPOSITORY, RBAC_ACT_DELETE, R_ADMIN | R_MAINT, RBAC_DELETE, false},
        {RBAC_RES_ARTIFACT, RBAC_ACT_LIST, R_ANY, RBAC_ALL, true},
        {RBAC_RES_ARTIFACT, RBAC_ACT_READ, R_ANY, RBAC_ALL, true},
        {RBAC_RES_ARTIFACT, RBAC_ACT_DELETE, R_ADMIN | R_MAINT, RBAC_DELETE, false},
        {RBAC_RES_TAG, RBAC_ACT_LIST, R_ANY, RBAC_ALL, true},
        {RBAC_RES_TAG, RBAC_ACT_CREATE, R_ADMIN | R_MAINT | R_DEV, RBAC_PUSH, false},
        {RBAC_RES_TAG, RBAC_ACT_DELETE, R_ADMIN | R_MAINT, RBAC_DELETE, false},
};

static const struct rbac_rule *rule_of(enum rbac_res res, enum rbac_act act)
{
    for (size_t i = 0; i < sizeof(rbac_rules) / sizeof(rbac_rules[0]); i++)
        if (rbac_rules[i].res == res && rbac_rules[i].act == act)
            return &rbac_rules[i];
    return NULL;
}

bool rbac_project_rule(enum rbac_res res, enum rbac_act act, unsigned *role_bits,
                       unsigned *robot_bits, bool *public_ok)
{
    const struct rbac_rule *r = rule_of(res, act);

    *role_bits = r != NULL ? r->roles : 0;
    *robot_bits = r != NULL ? r->robot_bits : 0;
    *public_ok = r != NULL && r->public_ok;
    return r != NULL;
}

static bool project_allows(const struct rbac_facts *f, enum rbac_res res, enum rbac_act act)
{
    const struct rbac_rule *r = rule_of(res, act);

    if (r == NULL || !f->project_exists)
        return false;
    if (r->public_ok && f->project_public)
        return true;
    switch (f->who) {
    case RBAC_USER:
        return f->role >= RBAC_ROLE_PROJECT_ADMIN && f->role <= RBAC_ROLE_LIMITED_GUEST &&
               (r->roles & (1u << f->role)) != 0;
    case RBAC_ROBOT:
        return (r->robot_bits & f->robot_actions & RBAC_ALL) != 0;
    case RBAC_ANONYMOUS:
        break;
    }
    return false;
}

bool rbac_decide(const struct rbac_facts *f, enum rbac_scope scope, enum rbac_res res,
                 enum rbac_act act)
{
    bool sysadmin = f->who == RBAC_USER && f->sysadmin;

    switch (scope) {
    case RBAC_SCOPE_NOAUTH:
    case RBAC_SCOPE_PUBLIC:
        return true;
    case RBAC_SCOPE_AUTH:
        return f->who != RBAC_ANONYMOUS;
    case RBAC_SCOPE_USER:
        return f->who == RBAC_USER;
    case RBAC_SCOPE_SYSADMIN:
        return sysadmin;
    case RBAC_SCOPE_SELF:
        return sysadmin || (f->who == RBAC_USER && f->self);
    case RBAC_SCOPE_PROJECT:
        if (sysadmin)
            return rule_of(res, act) != NULL;
        return project_allows(f, res, act);
    case RBAC_SCOPE_UNSET:
        break;
    }
    return false;
}

const char *rbac_res_name(enum rbac_res res)
{
    static const char *const names[] = {
            [RBAC_RES_NONE] = "",
            [RBAC_RES_PROJECT] = "project",
            [RBAC_RES_MEMBER] = "member",
            [RBAC_RES_ROBOT] = "robot",
            [RBAC_RES_LOG] = "log",
            [RBAC_RES_REPOSITORY] = "repository",
            [RBAC_RES_ARTIFACT] = "artifact",
            [RBAC_RES_TAG] = "tag",
            [RBAC_RES_QUOTA] = "quota",
            [RBAC_RES_AUDIT_LOG] = "audit-log",
            [RBAC_RES_USER] = "user",
            [RBAC_RES_STATISTICS] = "statistics",
            [RBAC_RES_METRICS] = "metrics",
            [RBAC_RES_SYSTEM] = "system",
    };

    return (size_t)res < sizeof(names) / sizeof(names[0]) ? names[res] : "";
}

const char *rbac_act_name(enum rbac_act act)
{
    static const char *const names[] = {
            [RBAC_ACT_NONE] = "",         [RBAC_ACT_CREATE] = "create", [RBAC_ACT_READ] = "read",
            [RBAC_ACT_UPDATE] = "update", [RBAC_ACT_DELETE] = "delete", [RBAC_ACT_LIST] = "list",
            [RBAC_ACT_PULL] = "pull",     [RBAC_ACT_PUSH] = "push",
    };

    return (size_t)act < sizeof(names) / sizeof(names[0]) ? names[act] : "";
}

const char *rbac_scope_name(enum rbac_scope scope)
{
    static const char *const names[] = {
            [RBAC_SCOPE_UNSET] = "unset",   [RBAC_SCOPE_NOAUTH] = "noauth",
            [RBAC_SCOPE_PUBLIC] = "public", [RBAC_SCOPE_AUTH] = "auth",
            [RBAC_SCOPE_USER] = "user",     [RBAC_SCOPE_SYSADMIN] = "sysadmin",
            [RBAC_SCOPE_SELF] = "self",     [RBAC_SCOPE_PROJECT] = "project",
    };

    return (size_t)scope < sizeof(names) / sizeof(names[0]) ? names[scope] : "";
}
