/* meta_robot.c - robot accounts and their permissions (meta.h, "robots"): the argument checks,
 * then the backend.
 *
 * A robot is fetched by one backend call (ops->robot->get) by id or by full name. Invariants:
 *   1. Nothing here touches the database; a robot and its permissions are written together by
 *      the backend.
 *   2. A backend sees only checked arguments: names of 1..255 bytes, secret hashes of 1..255
 *      bytes, descriptions of at most META_TEXT_MAX bytes, at most META_ROBOT_PERMS_MAX
 *      permissions with non-empty namespaces (meta.h rule 5).
 * No state; thread-safe as the backend is. */
#include "storage/meta.h"

#include <string.h>

#include "storage/meta_ops.h"

#define ROBOT_NAME_MAX 255
#define SECRET_HASH_MAX 255

static int perms_check(const struct meta_robot_perm *perms, size_t nperms, struct berr *err)
{
    size_t i;
    size_t len;

    if (nperms > META_ROBOT_PERMS_MAX)
        return berr_set(err, BERR_BAD_REQUEST, "at most %d permissions", META_ROBOT_PERMS_MAX);
    for (i = 0; i < nperms; i++) {
        len = strnlen(perms[i].ns, sizeof(perms[i].ns));
        if (len == 0 || len >= sizeof(perms[i].ns))
            return berr_set(err, BERR_BAD_REQUEST, "permission namespace is empty or too long");
    }
    return 0;
}

int meta_robot_get(struct meta *m, const char *name, struct meta_robot *out, struct berr *err)
{
    if (strlen(name) > ROBOT_NAME_MAX) {
        memset(out, 0, sizeof(*out));
        return berr_set(err, BERR_NOT_FOUND, "robot account not found");
    }
    return m->ops->robot->get(m, 0, name, out, err);
}

int meta_robot_get_by_id(struct meta *m, int64_t id, struct meta_robot *out, struct berr *err)
{
    return m->ops->robot->get(m, id, NULL, out, err);
}

int meta_robot_actions(struct meta *m, int64_t robot_id, const char *project, unsigned *actions,
                       struct berr *err)
{
    *actions = 0;
    if (strlen(project) > REPO_NAME_MAX)
        return 0; /* no project has that name: no grant */
    return m->ops->robot->actions(m, robot_id, project, actions, err);
}

int meta_robot_create(struct meta *m, const struct meta_robot *r,
                      const struct meta_robot_perm *perms, size_t nperms, int64_t *id,
                      struct berr *err)
{
    size_t nlen = strnlen(r->name, sizeof(r->name));
    size_t hlen = strnlen(r->secret_hash, sizeof(r->secret_hash));

    if (id != NULL)
        *id = 0;
    if (nlen == 0 || nlen > ROBOT_NAME_MAX)
        return berr_set(err, BERR_BAD_REQUEST, "robot name is empty or too long");
    if (hlen == 0 || hlen > SECRET_HASH_MAX)
        return berr_set(err, BERR_INTERNAL, "internal error");
    if (strnlen(r->description, sizeof(r->description)) > META_TEXT_MAX)
        return berr_set(err, BERR_BAD_REQUEST, "description is too long");
    if (perms_check(perms, nperms, err) < 0)
        return -1;
    return m->ops->robot->create(m, r, perms, nperms, id, err);
}

int meta_robot_perms(struct meta *m, int64_t id, struct meta_robot_perm *out, size_t cap, size_t *n,
                     struct berr *err)
{
    return m->ops->robot->perms(m, id, out, cap, n, err);
}

int meta_robot_update(struct meta *m, int64_t id, const struct meta_robot *r,
                      const struct meta_robot_perm *perms, size_t nperms, struct berr *err)
{
    if (strnlen(r->description, sizeof(r->description)) > META_TEXT_MAX)
        return berr_set(err, BERR_BAD_REQUEST, "description is too long");
    if (perms != NULL && perms_check(perms, nperms, err) < 0)
        return -1;
    return m->ops->robot->update(m, id, r, perms, nperms, err);
}

int meta_robot_set_secret(struct meta *m, int64_t id, const char *secret_hash, struct berr *err)
{
    size_t len = strlen(secret_hash);

    if (len == 0 || len > SECRET_HASH_MAX)
        return berr_set(err, BERR_INTERNAL, "internal error");
    return m->ops->robot->set_secret(m, id, secret_hash, err);
}

int meta_robot_delete(struct meta *m, int64_t id, struct berr *err)
{
    return m->ops->robot->remove(m, id, err);
}

int meta_robot_list(struct meta *m, const struct meta_list_q *q, int64_t project_id,
                    struct meta_robot *out, size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    return m->ops->robot->list(m, q, project_id, out, cap, n, total, err);
}
