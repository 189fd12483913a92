/* meta_repo.c - repositories as the management API shows them (lists, the count per project,
 * info, description, delete) and registry statistics (meta.h, "repositories", "statistics"):
 * the argument checks, then the backend.
 *
 * Invariants: nothing here touches the database; a backend sees descriptions of at most
 * META_REPO_DESC_MAX bytes (meta.h rule 5); what "shown" means is the backend's, written once
 * for count and page alike. No state; thread-safe as the backend is. */
#include "storage/meta.h"

#include <string.h>

#include "storage/meta_ops.h"

int meta_repo_list(struct meta *m, const struct meta_repo_q *q, struct meta_repo_info *out,
                   size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    return m->ops->repo->list(m, q, out, cap, n, total, err);
}

int meta_repo_count(struct meta *m, int64_t project_id, int64_t *n, struct berr *err)
{
    return m->ops->repo->count(m, project_id, n, err);
}

int meta_repo_info_get(struct meta *m, const struct repo_name *repo, struct meta_repo_info *out,
                       struct berr *err)
{
    return m->ops->repo->info_get(m, repo, out, err);
}

int meta_repo_set_description(struct meta *m, const struct repo_name *repo, const char *desc,
                              struct berr *err)
{
    if (strlen(desc) > META_REPO_DESC_MAX)
        return berr_set(err, BERR_BAD_REQUEST, "description is longer than %d bytes",
                        META_REPO_DESC_MAX);
    return m->ops->repo->set_description(m, repo, desc, err);
}

int meta_repo_delete(struct meta *m, const struct repo_name *repo, struct berr *err)
{
    int rc;

    mcache_bump(m->mc, repo); /* its manifests and tags go (storage/mcache.h) */
    rc = m->ops->repo->remove(m, repo, err);
    mcache_bump(m->mc, repo);
    return rc;
}

int meta_stats_get(struct meta *m, bool all, int64_t viewer_user_id, struct meta_stats *out,
                   struct berr *err)
{
    return m->ops->repo->stats_get(m, all, viewer_user_id, out, err);
}
