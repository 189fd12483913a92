/* meta_gc.c - the queries garbage collection and fsck need.
 *
 * A blob row is referenced while any of these exists for its digest: a repo_blobs row, a
 * manifest row (any repository), a manifest_blobs row. Invariants:
 *   1. meta_gc_unreferenced only proposes; meta_blob_forget re-checks all three references and
 *      deletes in one statement of one write transaction, so a blob linked or listed between
 *      the two calls is never forgotten.
 *   2. gc removes the file only after meta_blob_forget said forgotten (blob_store.c invariant 3:
 *      row first, file second).
 * Lists are read in batches of META_BATCH digests in digest order; the caller's callback runs
 * with no connection held, so it may call meta_blob_forget itself. Thread-safe. */
#include "storage/meta.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "common/log.h"
#include "storage/meta_int.h"

#define SQL_UNREFERENCED                                                                           \
    " NOT EXISTS (SELECT 1 FROM repo_blobs rb WHERE rb.digest = b.digest)"                         \
    " AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = b.digest)"                        \
    " AND NOT EXISTS (SELECT 1 FROM manifest_blobs mb WHERE mb.digest = b.digest)"

static const char SQL_GC_PAGE[] =
        "SELECT b.digest FROM blobs b WHERE b.digest > ?1 AND b.created_at < ?2"
        " AND" SQL_UNREFERENCED " ORDER BY b.digest LIMIT ?3";
static const char SQL_BLOB_FORGET[] =
        "DELETE FROM blobs AS b WHERE b.digest = ?1 AND" SQL_UNREFERENCED;
/* A repository link is dangling when no manifest of that repository lists the blob and the
 * blob is not itself a manifest of it: left behind by a deleted manifest, or by a push that
 * never finished. Only links older than the window are touched, so layers uploaded for a
 * manifest still on its way stay. */
#define SQL_DANGLING                                                                               \
    " rb.created_at < ?1"                                                                          \
    " AND NOT EXISTS (SELECT 1 FROM manifest_blobs mb"                                             \
    "                 WHERE mb.repo_id = rb.repo_id AND mb.digest = rb.digest)"                    \
    " AND NOT EXISTS (SELECT 1 FROM manifests m"                                                   \
    "                 WHERE m.repo_id = rb.repo_id AND m.digest = rb.digest)"
static const char SQL_DANGLING_DELETE[] = "DELETE FROM repo_blobs AS rb WHERE" SQL_DANGLING;
static const char SQL_DANGLING_COUNT[] = "SELECT COUNT(*) FROM repo_blobs AS rb WHERE" SQL_DANGLING;
static const char SQL_BLOB_KNOWN[] = "SELECT 1 FROM blobs WHERE digest = ?1";
static const char SQL_BLOBS_PAGE[] =
        "SELECT digest FROM blobs WHERE digest > ?1 ORDER BY digest LIMIT ?2";

/* adapts meta_page_strings (text) to a meta_digest_fn */
struct digest_cb {
    meta_digest_fn fn;
    void *ctx;
    struct berr *err;
    bool bad; /* a stored digest did not parse */
};

static int digest_cb_call(const char *s, void *ctx)
{
    struct digest_cb *cb = ctx;
    struct digest d;
    struct berr perr;

    if (digest_parse(&d, s, strlen(s), &perr) < 0) {
        log_msg(LOG_ERROR, "meta: stored digest is malformed");
        cb->bad = true;
        return berr_set(cb->err, BERR_INTERNAL, "internal error");
    }
    return cb->fn(&d, cb->ctx);
}

static int gc_query(sqlite3_stmt **out, struct meta_conn *c, const void *q, const char *after,
                    int64_t limit, struct berr *err)
{
    const int64_t *before = q;
    int rc;

    rc = meta_stmt(out, c, META_Q_GC_PAGE, SQL_GC_PAGE, err);
    if (rc == 0)
        rc = meta_bind_text(c, *out, 1, after, strlen(after), err);
    if (rc == 0)
        rc = meta_bind_i64(c, *out, 2, *before, err);
    if (rc == 0)
        rc = meta_bind_i64(c, *out, 3, limit, err);
    return rc;
}

int meta_gc_unreferenced(struct meta *m, int64_t before, meta_digest_fn fn, void *ctx,
                         struct berr *err)
{
    struct digest_cb cb = {fn, ctx, err, false};
    int rc;

    rc = meta_page_strings(m, gc_query, &before, NULL, UINT_MAX, digest_cb_call, &cb, NULL, err);
    return cb.bad ? -1 : rc;
}

int meta_blob_forget(struct meta *m, const struct digest *d, bool *forgotten, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct meta_conn *c;
    sqlite3_stmt *st;
    int rc;

    *forgotten = false;
    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = meta_stmt(&st, c, META_Q_BLOB_FORGET, SQL_BLOB_FORGET, err);
    if (rc == 0)
        rc = meta_bind_digest(c, st, 1, d, dbuf, err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    if (rc == 0)
        *forgotten = sqlite3_changes(c->db) > 0;
    rc = meta_write_end(c, rc, err);
    if (rc < 0)
        *forgotten = false;
    return rc;
}

int meta_blob_known(struct meta *m, const struct digest *d, bool *known, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct meta_conn *c = meta_conn_get(m);
    sqlite3_stmt *st;
    int rc;

    *known = false;
    rc = meta_stmt(&st, c, META_Q_BLOB_KNOWN, SQL_BLOB_KNOWN, err);
    if (rc == 0)
        rc = meta_bind_digest(c, st, 1, d, dbuf, err);
    if (rc == 0)
        rc = meta_step_i64(c, st, NULL, err);
    meta_conn_put(c);
    if (rc < 0)
        return -1;
    *known = rc == 1;
    return 0;
}

static int blobs_query(sqlite3_stmt **out, struct meta_conn *c, const void *q, const char *after,
                       int64_t limit, struct berr *err)
{
    int rc;

    (void)q;
    rc = meta_stmt(out, c, META_Q_BLOBS_PAGE, SQL_BLOBS_PAGE, err);
    if (rc == 0)
        rc = meta_bind_text(c, *out, 1, after, strlen(after), err);
    if (rc == 0)
        rc = meta_bind_i64(c, *out, 2, limit, err);
    return rc;
}

int meta_blobs_all(struct meta *m, meta_digest_fn fn, void *ctx, struct berr *err)
{
    struct digest_cb cb = {fn, ctx, err, false};
    int rc;

    rc = meta_page_strings(m, blobs_query, NULL, NULL, UINT_MAX, digest_cb_call, &cb, NULL, err);
    return cb.bad ? -1 : rc;
}

int meta_gc_unlink_dangling(struct meta *m, int64_t before, bool dry_run, unsigned *n,
                            struct berr *err)
{
    struct meta_conn *c;
    sqlite3_stmt *st;
    int64_t count = 0;
    int rc;

    *n = 0;
    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    if (dry_run) {
        rc = meta_stmt(&st, c, META_Q_DANGLING_COUNT, SQL_DANGLING_COUNT, err);
        if (rc == 0)
            rc = meta_bind_i64(c, st, 1, before, err);
        if (rc == 0)
            rc = meta_step_i64(c, st, &count, err) < 0 ? -1 : 0;
    } else {
        rc = meta_stmt(&st, c, META_Q_DANGLING_DELETE, SQL_DANGLING_DELETE, err);
        if (rc == 0)
            rc = meta_bind_i64(c, st, 1, before, err);
        if (rc == 0)
            rc = meta_exec(c, st, err);
        if (rc == 0)
            count = sqlite3_changes(c->db);
    }
    rc = meta_write_end(c, rc, err);
    if (rc == 0 && count > 0)
        *n = count > UINT_MAX ? UINT_MAX : (unsigned)count;
    return rc;
}
