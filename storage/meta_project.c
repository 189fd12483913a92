/* meta_project.c - projects (meta.h, "projects"): the argument checks, then the backend.
 *
 * One question, one call: a project is fetched by one backend call (ops->project->get) whether
 * asked by name or by id, so both public getters see the same row; a project is created by one
 * call whatever the caller sets (owner, storage limit). Invariants:
 *   1. Nothing here touches the database; the backend keeps meta.h's rules.
 *   2. A backend sees only checked arguments: a name that is one valid name component, an id
 *      above 0, a storage limit of -1 or more (meta.h rule 5). A refused call leaves out zeroed.
 * No state; thread-safe as the backend is. */
#include "storage/meta.h"

#include <string.h>

#include "storage/meta_ops.h"

int meta_project_get(struct meta *m, const char *name, struct meta_project_info *out,
                     struct berr *err)
{
    memset(out, 0, sizeof(*out));
    if (!project_name_valid(name, strlen(name)))
        return berr_set(err, BERR_NAME_UNKNOWN, "project not found");
    return m->ops->project->get(m, 0, name, out, err);
}

int meta_project_get_cached(struct meta *m, const char *name, struct meta_project_info *out,
                            struct berr *err)
{
    struct mcache_snap snap;

    if (m->mc == NULL)
        return meta_project_get(m, name, out, err);
    if (mcache_project_get(m->mc, name, out) == 1)
        return 0;
    mcache_facts_snap(m->mc, &snap);
    if (meta_project_get(m, name, out, err) < 0)
        return -1;
    mcache_project_put(m->mc, name, &snap, out);
    return 0;
}

int meta_project_get_by_id(struct meta *m, int64_t id, struct meta_project_info *out,
                           struct berr *err)
{
    memset(out, 0, sizeof(*out));
    if (id <= 0)
        return berr_set(err, BERR_NOT_FOUND, "project %lld not found", (long long)id);
    return m->ops->project->get(m, id, NULL, out, err);
}

int meta_project_list(struct meta *m, const struct meta_project_q *q, struct meta_project_info *out,
                      size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    return m->ops->project->list(m, q, out, cap, n, total, err);
}

int meta_project_create(struct meta *m, const char *name, bool public, int64_t owner_id,
                        int64_t storage_limit, int64_t *id, struct berr *err)
{
    int rc;

    if (id != NULL)
        *id = 0;
    if (!project_name_valid(name, strlen(name)))
        return berr_set(err, BERR_NAME_INVALID, "invalid project name");
    if (storage_limit < -1)
        return berr_set(err, BERR_BAD_REQUEST, "storage_limit must be -1 or more");
    mcache_facts_bump(m->mc); /* storage/mcache.h: before and after */
    rc = m->ops->project->create(m, name, public, owner_id, storage_limit, id, err);
    mcache_facts_bump(m->mc);
    return rc;
}

int meta_project_update(struct meta *m, int64_t id, bool set_public, bool public, bool set_limit,
                        int64_t storage_limit, struct berr *err)
{
    int rc;

    if (set_limit && storage_limit < -1)
        return berr_set(err, BERR_BAD_REQUEST, "storage_limit must be -1 or more");
    mcache_facts_bump(m->mc);
    rc = m->ops->project->update(m, id, set_public, public, set_limit, storage_limit, err);
    mcache_facts_bump(m->mc);
    return rc;
}

int meta_project_delete(struct meta *m, int64_t id, struct berr *err)
{
    int rc;

    mcache_bump(m->mc, NULL); /* storage/mcache.h */
    mcache_facts_bump(m->mc);
    rc = m->ops->project->remove(m, id, err);
    mcache_bump(m->mc, NULL);
    mcache_facts_bump(m->mc);
    return rc;
}
