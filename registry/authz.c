/* authz.c - facts for auth/rbac.c from storage/meta.
 *
 * Invariants:
 *   1. Rights are computed only from the database and the principal's ids (or, for a bearer
 *      principal, its name resolved again here): nothing a client sends besides its
 *      credentials reaches the decision.
 *   2. A missing project is not an error: it grants nothing (rbac.c), except to sysadmins.
 * No shared state. */
#include "registry/authz.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/rbac.h"
#include "common/mem.h"
#include "common/util.h"
#include "registry/req.h"
#include "storage/meta.h"

_Static_assert(ROLE_PROJECT_ADMIN == RBAC_ROLE_PROJECT_ADMIN &&
                       ROLE_DEVELOPER == RBAC_ROLE_DEVELOPER && ROLE_GUEST == RBAC_ROLE_GUEST &&
                       ROLE_MAINTAINER == RBAC_ROLE_MAINTAINER &&
                       ROLE_LIMITED_GUEST == RBAC_ROLE_LIMITED_GUEST,
               "role ids of meta.h and rbac.h agree");
_Static_assert(META_ACT_PULL == RBAC_PULL && META_ACT_PUSH == RBAC_PUSH &&
                       META_ACT_DELETE == RBAC_DELETE,
               "robot permission bits of meta.h and rbac.h agree");

/* resolve fills the identity part of f for who; a bearer principal is looked up by name. */
static int resolve(struct registry *reg, const struct principal *who, struct rbac_facts *f,
                   int64_t *user_id, int64_t *robot_id, struct berr *err)
{
    struct berr e;

    *user_id = 0;
    *robot_id = 0;
    f->who = RBAC_ANONYMOUS;
    if (who->kind == PRINCIPAL_USER) {
        f->who = RBAC_USER;
        f->sysadmin = who->sysadmin;
        *user_id = who->user_id;
        if (who->bearer || who->user_id == 0) {
            struct meta_user *u = mem_malloc(sizeof(*u));
            int rc;
            if (u == NULL)
                return berr_set(err, BERR_INTERNAL, "internal error");
            rc = meta_user_get(reg->meta, who->name, u, &e);
            if (rc == 0) {
                *user_id = u->id;
                f->sysadmin = u->sysadmin;
            }
            memset(u, 0, sizeof(*u));
            mem_free(u);
            if (rc < 0 && e.code != BERR_NOT_FOUND) {
                *err = e;
                return -1;
            }
            if (rc < 0)
                f->who = RBAC_ANONYMOUS; /* deleted since the token was issued */
        }
    } else if (who->kind == PRINCIPAL_ROBOT) {
        f->who = RBAC_ROBOT;
        *robot_id = who->robot_id;
        if (who->bearer || who->robot_id == 0) {
            struct meta_robot *rb = mem_malloc(sizeof(*rb));
            int rc;
            if (rb == NULL)
                return berr_set(err, BERR_INTERNAL, "internal error");
            rc = meta_robot_get(reg->meta, who->name, rb, &e);
            if (rc == 0 && !rb->disabled && (rb->expires_at <= 0 || now_s() < rb->expires_at))
                *robot_id = rb->id;
            memset(rb, 0, sizeof(*rb));
            mem_free(rb);
            if (rc < 0 && e.code != BERR_NOT_FOUND) {
                *err = e;
                return -1;
            }
            if (*robot_id == 0)
                f->who = RBAC_ANONYMOUS;
        }
    }
    return 0;
}

int authz_project_actions(struct registry *reg, const struct principal *who, const char *project,
                          unsigned *actions, int64_t *created_at, struct berr *err)
{
    struct rbac_facts f = {0};
    struct meta_project_info p;
    struct berr e;
    int64_t uid, rid;

    *actions = 0;
    *created_at = 0;
    if (resolve(reg, who, &f, &uid, &rid, err) < 0)
        return -1;
    if (meta_project_get_cached(reg->meta, project, &p, &e) < 0) {
        if (e.code != BERR_NAME_UNKNOWN && e.code != BERR_NOT_FOUND &&
            e.code != BERR_NAME_INVALID) {
            *err = e;
            return -1;
        }
        f.project_exists = false;
    } else {
        f.project_exists = true;
        f.project_public = p.p.public;
        *created_at = p.p.created_at;
        if (f.who == RBAC_USER && !f.sysadmin && uid > 0 &&
            meta_member_role_cached(reg->meta, p.p.id, uid, &f.role, err) < 0)
            return -1;
        if (f.who == RBAC_ROBOT &&
            meta_robot_actions(reg->meta, rid, p.p.name, &f.robot_actions, err) < 0)
            return -1;
    }
    *actions = rbac_project_actions(&f);
    return 0;
}

void authz_client_addr(const struct req *r, char *out, size_t cap)
{
    if (cap == 0)
        return;
    out[0] = '\0';
    if (r->http != NULL)
        http_client_addr(r->http, out, cap);
}
