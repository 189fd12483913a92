/* meta_robot.c - robot accounts and their permissions (meta.h, "robots"): the public calls,
 * dispatched to the backend.
 *
 * A robot is fetched by one backend call (ops->robot->get) by id or by full name. Invariant:
 * nothing here touches the database; a robot and its permissions are written together by the
 * backend. Thread-safe as the backend is. */
#include "storage/meta.h"

#include "storage/meta_ops.h"

int meta_robot_get(struct meta *m, const char *name, struct meta_robot *out, struct berr *err)
{
    return m->ops->robot->get(m, 0, name, out, err);
}

int meta_robot_get_by_id(struct meta *m, int64_t id, struct meta_robot *out, struct berr *err)
{
    return m->ops->robot->get(m, id, NULL, out, err);
}

int meta_robot_actions(struct meta *m, int64_t robot_id, const char *project, unsigned *actions,
                       struct berr *err)
{
    return m->ops->robot->actions(m, robot_id, project, actions, err);
}

int meta_robot_create(struct meta *m, const struct meta_robot *r,
                      const struct meta_robot_perm *perms, size_t nperms, int64_t *id,
                      struct berr *err)
{
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
    return m->ops->robot->update(m, id, r, perms, nperms, err);
}

int meta_robot_set_secret(struct meta *m, int64_t id, const char *secret_hash, struct berr *err)
{
    return m->ops->robot->set_secret(m, id, secret_hash, err);
}

int meta_robot_delete(struct meta *m, int64_t id, struct berr *err)
{
    return m->ops->robot->delete (m, id, err);
}

int meta_robot_list(struct meta *m, const struct meta_list_q *q, int64_t project_id,
                    struct meta_robot *out, size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    return m->ops->robot->list(m, q, project_id, out, cap, n, total, err);
}
