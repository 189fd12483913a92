/* meta_blob.c - blob rows and their links to repositories, and the queries gc and fsck ask
 * (meta.h, "blobs and repository links"): the public calls, dispatched to the backend.
 *
 * Invariant: nothing here touches the database; a blob is forgotten only by the backend's
 * re-check inside its write transaction (gc removes the file inside it too). Thread-safe as the backend
 * is; callbacks run with no connection held. */
#include "storage/meta.h"

#include "storage/meta_ops.h"

int meta_blob_link(struct meta *m, const struct repo_name *repo, const struct digest *d,
                   uint64_t size, struct berr *err)
{
    return m->ops->blob->link(m, repo, d, size, err);
}

int meta_blob_linked(struct meta *m, const struct repo_name *repo, const struct digest *d,
                     uint64_t *size, struct berr *err)
{
    return m->ops->blob->linked(m, repo, d, size, err);
}

int meta_blob_unlink(struct meta *m, const struct repo_name *repo, const struct digest *d,
                     struct berr *err)
{
    return m->ops->blob->unlink(m, repo, d, err);
}

int meta_blob_size(struct meta *m, const struct digest *d, uint64_t *size, struct berr *err)
{
    return m->ops->blob->size(m, d, size, err);
}

int meta_blob_repos(struct meta *m, const struct digest *d, meta_str_fn fn, void *ctx,
                    struct berr *err)
{
    return m->ops->blob->repos(m, d, fn, ctx, err);
}

int meta_gc_unreferenced(struct meta *m, int64_t before, meta_digest_fn fn, void *ctx,
                         struct berr *err)
{
    return m->ops->blob->gc_unreferenced(m, before, fn, ctx, err);
}

int meta_blob_forget(struct meta *m, const struct digest *d, bool *forgotten, struct berr *err)
{
    int rc;

    mcache_bump(m->mc, NULL);
    rc = m->ops->blob->forget(m, d, NULL, NULL, forgotten, err);
    mcache_bump(m->mc, NULL);
    return rc;
}

int meta_blob_forget_drop(struct meta *m, const struct digest *d, meta_file_fn drop, void *ctx,
                          bool *forgotten, struct berr *err)
{
    int rc;

    mcache_bump(m->mc, NULL); /* gc: a manifest's file may go (storage/mcache.h) */
    rc = m->ops->blob->forget(m, d, drop, ctx, forgotten, err);
    mcache_bump(m->mc, NULL);
    return rc;
}

int meta_blob_orphan_drop(struct meta *m, const struct digest *d, meta_file_fn drop, void *ctx,
                          bool *dropped, struct berr *err)
{
    int rc;

    mcache_bump(m->mc, NULL);
    rc = m->ops->blob->orphan_drop(m, d, drop, ctx, dropped, err);
    mcache_bump(m->mc, NULL);
    return rc;
}

int meta_gc_unlink_dangling(struct meta *m, int64_t before, bool dry_run, unsigned *n,
                            struct berr *err)
{
    return m->ops->blob->gc_unlink_dangling(m, before, dry_run, n, err);
}

int meta_blob_known(struct meta *m, const struct digest *d, bool *known, struct berr *err)
{
    return m->ops->blob->known(m, d, known, err);
}

int meta_blobs_all(struct meta *m, meta_digest_fn fn, void *ctx, struct berr *err)
{
    return m->ops->blob->blobs_all(m, fn, ctx, err);
}
