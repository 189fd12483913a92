/* quota.c - storage quotas per project (quota.h): the public calls, answered by the metadata
 * backend (sqlite_quota.c computes usage from the links and checks inside the link
 * transaction).
 *
 * Invariant: a call here only dispatches through m->ops->quota; what quota.h promises (distinct
 * digests counted once, check and link atomic, a refused link writes nothing) is the backend's
 * to keep. No SQL here. Thread-safe as the backend is. */
#include "storage/quota.h"

#include "storage/meta_ops.h"

int quota_get(struct meta *m, int64_t project_id, struct quota_info *out, struct berr *err)
{
    return m->ops->quota->get(m, project_id, out, err);
}

int quota_usage(struct meta *m, int64_t project_id, int64_t *used, struct berr *err)
{
    return m->ops->quota->usage(m, project_id, used, err);
}

int quota_list(struct meta *m, int64_t project_id, int64_t offset, struct quota_info *out,
               size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    return m->ops->quota->list(m, project_id, offset, out, cap, n, total, err);
}

int quota_set(struct meta *m, int64_t project_id, int64_t hard, int64_t *used, struct berr *err)
{
    int rc;

    mcache_facts_bump(m->mc); /* a project's storage_limit (storage/mcache.h) */
    rc = m->ops->quota->set(m, project_id, hard, used, err);
    mcache_facts_bump(m->mc);
    return rc;
}

int quota_check(struct meta *m, const struct repo_name *repo, const struct digest *d, uint64_t size,
                struct berr *err)
{
    return m->ops->quota->check(m, repo, d, size, err);
}

int meta_blob_link_quota(struct meta *m, const struct repo_name *repo, const struct digest *d,
                         uint64_t size, bool *added, struct berr *err)
{
    return m->ops->quota->blob_link(m, repo, d, size, NULL, NULL, added, err);
}

int meta_blob_link_place(struct meta *m, const struct repo_name *repo, const struct digest *d,
                         uint64_t size, meta_file_fn place, void *place_ctx, bool *added,
                         struct berr *err)
{
    return m->ops->quota->blob_link(m, repo, d, size, place, place_ctx, added, err);
}
