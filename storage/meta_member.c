/* meta_member.c - project members (meta.h, "members"): the argument checks, then the backend.
 *
 * Invariants: nothing here touches the database; a backend sees only roles in 1..5 (meta.h
 * rule 5) and keeps (project, member) pairs as meta.h says. No state; thread-safe as the
 * backend is. */
#include "storage/meta.h"

#include "storage/meta_ops.h"

int meta_member_role(struct meta *m, int64_t project_id, int64_t user_id, int *role,
                     struct berr *err)
{
    return m->ops->member->role(m, project_id, user_id, role, err);
}

int meta_member_role_cached(struct meta *m, int64_t project_id, int64_t user_id, int *role,
                            struct berr *err)
{
    struct mcache_snap snap;

    if (m->mc == NULL)
        return meta_member_role(m, project_id, user_id, role, err);
    if (mcache_role_get(m->mc, project_id, user_id, role) == 1)
        return 0;
    mcache_facts_snap(m->mc, &snap);
    if (meta_member_role(m, project_id, user_id, role, err) < 0)
        return -1;
    mcache_role_put(m->mc, project_id, user_id, &snap, *role);
    return 0;
}

int meta_member_add(struct meta *m, int64_t project_id, int64_t user_id, int role, int64_t *id,
                    struct berr *err)
{
    int rc;

    if (id != NULL)
        *id = 0;
    if (!meta_role_ok(role))
        return berr_set(err, BERR_BAD_REQUEST, "role_id must be 1..5");
    mcache_facts_bump(m->mc); /* storage/mcache.h: before and after */
    rc = m->ops->member->add(m, project_id, user_id, role, id, err);
    mcache_facts_bump(m->mc);
    return rc;
}

int meta_member_get(struct meta *m, int64_t project_id, int64_t member_id, struct meta_member *out,
                    struct berr *err)
{
    return m->ops->member->get(m, project_id, member_id, out, err);
}

int meta_member_set_role(struct meta *m, int64_t project_id, int64_t member_id, int role,
                         struct berr *err)
{
    int rc;

    if (!meta_role_ok(role))
        return berr_set(err, BERR_BAD_REQUEST, "role_id must be 1..5");
    mcache_facts_bump(m->mc);
    rc = m->ops->member->set_role(m, project_id, member_id, role, err);
    mcache_facts_bump(m->mc);
    return rc;
}

int meta_member_delete(struct meta *m, int64_t project_id, int64_t member_id, struct berr *err)
{
    int rc;

    mcache_facts_bump(m->mc);
    rc = m->ops->member->remove(m, project_id, member_id, err);
    mcache_facts_bump(m->mc);
    return rc;
}

int meta_member_list(struct meta *m, int64_t project_id, const struct meta_list_q *q,
                     struct meta_member *out, size_t cap, size_t *n, int64_t *total,
                     struct berr *err)
{
    return m->ops->member->list(m, project_id, q, out, cap, n, total, err);
}
