/* meta_manifest.c - manifests, tags, referrers, the catalog and artifacts (meta.h, "manifests
 * and tags", "artifacts"): the public calls, dispatched to the backend.
 *
 * Invariants: nothing here touches the database; a manifest put (blobs checked, row, links,
 * tags) is one backend call, hence one transaction. Resolves go through the manifest cache when
 * the handle has one (storage/mcache.h), and every call here that writes manifests or tags bumps
 * its generations before and after the backend call. Thread-safe as the backend is; callbacks
 * run with no connection held. */
#include "storage/meta.h"

#include "storage/meta_ops.h"

int meta_manifest_put(struct meta *m, const struct repo_name *repo,
                      const struct meta_manifest_in *in, struct berr *err)
{
    int rc;

    mcache_bump(m->mc, repo); /* mcache.h: before and after every write */
    rc = m->ops->manifest->put(m, repo, in, err);
    mcache_bump(m->mc, repo);
    return rc;
}

int meta_manifest_resolve(struct meta *m, const struct repo_name *repo, const struct reference *ref,
                          struct meta_manifest *out, struct berr *err)
{
    struct mcache_snap snap;

    if (m->mc == NULL)
        return m->ops->manifest->resolve(m, repo, ref, out, err);
    if (mcache_get(m->mc, repo, ref, out) == 1)
        return 0;
    mcache_snap(m->mc, repo, &snap);
    if (m->ops->manifest->resolve(m, repo, ref, out, err) < 0)
        return -1;
    mcache_put(m->mc, repo, ref, &snap, out);
    return 0;
}

int meta_manifest_delete(struct meta *m, const struct repo_name *repo, const struct digest *d,
                         struct berr *err)
{
    int rc;

    mcache_bump(m->mc, repo);
    rc = m->ops->manifest->remove(m, repo, d, err);
    mcache_bump(m->mc, repo);
    return rc;
}

int meta_tag_delete(struct meta *m, const struct repo_name *repo, const struct tag *t,
                    struct berr *err)
{
    int rc;

    mcache_bump(m->mc, repo);
    rc = m->ops->manifest->tag_delete(m, repo, t, err);
    mcache_bump(m->mc, repo);
    return rc;
}

int meta_tags_list(struct meta *m, const struct repo_name *repo, const char *last, unsigned n,
                   meta_str_fn fn, void *ctx, bool *more, struct berr *err)
{
    return m->ops->manifest->tags_list(m, repo, last, n, fn, ctx, more, err);
}

int meta_catalog(struct meta *m, const char *last, unsigned n, meta_str_fn fn, void *ctx,
                 bool *more, struct berr *err)
{
    return m->ops->manifest->catalog(m, last, n, fn, ctx, more, err);
}

int meta_referrers(struct meta *m, const struct repo_name *repo, const struct digest *d,
                   const char *artifact_type, meta_referrer_fn fn, void *ctx, struct berr *err)
{
    return m->ops->manifest->referrers(m, repo, d, artifact_type, fn, ctx, err);
}

int meta_artifact_list(struct meta *m, const struct meta_artifact_q *q, struct meta_artifact *out,
                       size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    return m->ops->manifest->artifact_list(m, q, out, cap, n, total, err);
}

int meta_artifact_get(struct meta *m, int64_t repo_id, const struct digest *d,
                      struct meta_artifact *out, struct berr *err)
{
    return m->ops->manifest->artifact_get(m, repo_id, d, out, err);
}

int meta_artifact_tags(struct meta *m, int64_t artifact_id, const struct meta_list_q *q,
                       struct meta_tag_info *out, size_t cap, size_t *n, int64_t *total,
                       struct berr *err)
{
    return m->ops->manifest->artifact_tags(m, artifact_id, q, out, cap, n, total, err);
}

int meta_artifact_refs(struct meta *m, int64_t artifact_id, struct meta_artifact_ref *out,
                       size_t cap, size_t *n, struct berr *err)
{
    return m->ops->manifest->artifact_refs(m, artifact_id, out, cap, n, err);
}

int meta_tag_create(struct meta *m, int64_t repo_id, int64_t artifact_id, const struct tag *t,
                    struct berr *err)
{
    int rc;

    /* by ids: the repository's name is not at hand, so every repository's entries go */
    mcache_bump(m->mc, NULL);
    rc = m->ops->manifest->tag_create(m, repo_id, artifact_id, t, err);
    mcache_bump(m->mc, NULL);
    return rc;
}

int meta_tag_detach(struct meta *m, int64_t artifact_id, const struct tag *t, struct berr *err)
{
    int rc;

    mcache_bump(m->mc, NULL);
    rc = m->ops->manifest->tag_detach(m, artifact_id, t, err);
    mcache_bump(m->mc, NULL);
    return rc;
}
