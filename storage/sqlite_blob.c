/* sqlite_blob.c - blobs in SQLite: blob rows, their links to repositories, and the queries
 * garbage collection and fsck ask.
 *
 * A blob row says the file exists in the blob store (blob_store.c invariant 3); a repo_blobs row
 * says a repository may serve it; a blob row is referenced while a repo_blobs row, a manifest
 * row (any repository) or a manifest_blobs row names its digest. Invariants:
 *   1. A repo_blobs row always has its blob row (foreign key), inserted in the same transaction
 *      (sq_blob_insert_link: the one INSERT of each table, shared with manifest put and the
 *      quota-checked link).
 *   2. sq_blob_linked answers from one SELECT, without a transaction: it is the HEAD/GET blob
 *      hot path. A repository may serve a digest linked to it, the digest of one of its
 *      manifests, or a blob one of its manifests lists.
 *   3. sq_gc_unreferenced only proposes; sq_blob_forget re-checks all three references and
 *      deletes in one statement of one write transaction, so a blob linked or listed between
 *      the two calls is never forgotten.
 *   4. Files change only inside the write transaction of their row: gc's drop step removes the
 *      file after the row's DELETE and before COMMIT (sq_blob_forget), an orphan file only
 *      while no row exists (sq_blob_orphan_drop), and a push places its file before its INSERT
 *      in the same transaction (sqlite_quota.c invariant 5). Writers of this process queue on
 *      write_mu, other processes on SQLite's write lock, so a blob re-pushed while gc collects
 *      it either finds row and file gone and places a new file, or links it before gc looks.
 * Lists are read in batches of SQ_BATCH digests in digest order; the caller's callback runs
 * with no connection held, so it may call meta_blob_forget itself. Calls sqlite.c,
 * sqlite_repo.c and meta_walk.c only. Thread-safe: every call borrows its own connection. */
#include "storage/sqlite_int.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "common/util.h"
#include "storage/meta_walk.h"

/* ---- blobs ---- */

static const char SQL_BLOB_INSERT[] =
        "INSERT INTO blobs(digest, size, created_at) VALUES (?1, ?2, ?3)"
        " ON CONFLICT(digest) DO NOTHING";
static const char SQL_REPO_BLOB_INSERT[] =
        "INSERT INTO repo_blobs(repo_id, digest, created_at) VALUES (?1, ?2, ?3)"
        " ON CONFLICT(repo_id, digest) DO NOTHING";
/* The two ways a repository may serve a digest (invariant 3), first hit wins. A manifest's
 * config and layers are linked when it is pushed (meta_manifest_put requires it); a DELETE of
 * the blob removes that link and the repository stops serving it, as distribution does, even
 * while a manifest still lists it. */
static const char SQL_BLOB_LINKED[] =
        "SELECT b.size FROM repositories r"
        " JOIN repo_blobs rb ON rb.repo_id = r.id AND rb.digest = ?2"
        " JOIN blobs b ON b.digest = rb.digest WHERE r.name = ?1"
        " UNION ALL"
        " SELECT m.size FROM repositories r"
        " JOIN manifests m ON m.repo_id = r.id AND m.digest = ?2 WHERE r.name = ?1"
        " LIMIT 1";
static const char SQL_BLOB_LINKED_ID[] =
        "SELECT 1 FROM repo_blobs WHERE repo_id = ?1 AND digest = ?2"
        " UNION ALL"
        " SELECT 1 FROM manifests WHERE repo_id = ?1 AND digest = ?2"
        " LIMIT 1";
static const char SQL_REPO_BLOB_DELETE[] =
        "DELETE FROM repo_blobs WHERE repo_id = ?1 AND digest = ?2";
static const char SQL_BLOB_SIZE[] = "SELECT size FROM blobs WHERE digest = ?1";
static const char SQL_BLOB_REPOS[] =
        "SELECT r.name FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id"
        " WHERE rb.digest = ?1 AND r.name > ?2 ORDER BY r.name LIMIT ?3";

int sq_blob_insert_link(struct sq_conn *c, int64_t repo_id, const struct digest *d, uint64_t size,
                        struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    sqlite3_stmt *st;
    int64_t now = now_s();
    int rc;

    if (size > INT64_MAX)
        return berr_set(err, BERR_SIZE_INVALID, "blob too large");
    rc = sq_stmt(&st, c, SQ_Q_BLOB_INSERT, SQL_BLOB_INSERT, err);
    if (rc == 0)
        rc = sq_bind_digest(c, st, 1, d, dbuf, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, (int64_t)size, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, now, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc < 0)
        return -1;
    rc = sq_stmt_id_digest(&st, c, SQ_Q_REPO_BLOB_INSERT, SQL_REPO_BLOB_INSERT, repo_id, d, dbuf,
                           err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, now, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    return rc;
}

int sq_blob_linked_id(struct sq_conn *c, int64_t repo_id, const struct digest *d, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    sqlite3_stmt *st;
    int rc;

    rc = sq_stmt_id_digest(&st, c, SQ_Q_BLOB_LINKED_ID, SQL_BLOB_LINKED_ID, repo_id, d, dbuf, err);
    if (rc == 0)
        rc = sq_step_i64(c, st, NULL, err);
    return rc;
}

static int sq_blob_link(struct meta *m, const struct repo_name *repo, const struct digest *d,
                        uint64_t size, struct berr *err)
{
    struct sq_conn *c;
    int64_t repo_id;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_repo_ensure(c, repo, &repo_id, err);
    if (rc == 0)
        rc = sq_blob_insert_link(c, repo_id, d, size, err);
    return sq_write_end(c, rc, err);
}

static int sq_blob_linked(struct meta *m, const struct repo_name *repo, const struct digest *d,
                          uint64_t *size, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st;
    int64_t v = 0;
    int rc;

    *size = 0;
    rc = sq_stmt(&st, c, SQ_Q_BLOB_LINKED, SQL_BLOB_LINKED, err);
    if (rc == 0)
        rc = sq_bind_repo(c, st, 1, repo, err);
    if (rc == 0)
        rc = sq_bind_digest(c, st, 2, d, dbuf, err);
    if (rc == 0)
        rc = sq_step_i64(c, st, &v, err);
    sq_conn_put(c);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown to repository");
    *size = v > 0 ? (uint64_t)v : 0;
    return 0;
}

static int sq_blob_unlink(struct meta *m, const struct repo_name *repo, const struct digest *d,
                          struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int64_t repo_id;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_repo_id(c, repo, &repo_id, err);
    if (rc == 0)
        rc = berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown to repository");
    if (rc == 1)
        rc = sq_stmt_id_digest(&st, c, SQ_Q_REPO_BLOB_DELETE, SQL_REPO_BLOB_DELETE, repo_id, d,
                               dbuf, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown to repository");
    return sq_write_end(c, rc, err);
}

static int sq_blob_size(struct meta *m, const struct digest *d, uint64_t *size, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st;
    int64_t v = 0;
    int rc;

    *size = 0;
    rc = sq_stmt(&st, c, SQ_Q_BLOB_SIZE, SQL_BLOB_SIZE, err);
    if (rc == 0)
        rc = sq_bind_digest(c, st, 1, d, dbuf, err);
    if (rc == 0)
        rc = sq_step_i64(c, st, &v, err);
    sq_conn_put(c);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown");
    *size = v > 0 ? (uint64_t)v : 0;
    return 0;
}

struct blob_repos_q {
    char digest[DIGEST_STR_LEN + 1];
};

static int blob_repos_query(sqlite3_stmt **out, struct sq_conn *c, const void *q, const char *after,
                            int64_t limit, struct berr *err)
{
    const struct blob_repos_q *bq = q;
    int rc;

    rc = sq_stmt(out, c, SQ_Q_BLOB_REPOS, SQL_BLOB_REPOS, err);
    if (rc == 0)
        rc = sq_bind_text(c, *out, 1, bq->digest, DIGEST_STR_LEN, err);
    if (rc == 0)
        rc = sq_bind_text(c, *out, 2, after, strlen(after), err);
    if (rc == 0)
        rc = sq_bind_i64(c, *out, 3, limit, err);
    return rc;
}

static int sq_blob_repos(struct meta *m, const struct digest *d, meta_str_fn fn, void *ctx,
                         struct berr *err)
{
    struct blob_repos_q q;

    digest_format(d, q.digest, sizeof(q.digest));
    return sq_page_strings(m, blob_repos_query, &q, NULL, UINT_MAX, fn, ctx, NULL, err);
}

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

static int gc_query(sqlite3_stmt **out, struct sq_conn *c, const void *q, const char *after,
                    int64_t limit, struct berr *err)
{
    const int64_t *before = q;
    int rc;

    rc = sq_stmt(out, c, SQ_Q_GC_PAGE, SQL_GC_PAGE, err);
    if (rc == 0)
        rc = sq_bind_text(c, *out, 1, after, strlen(after), err);
    if (rc == 0)
        rc = sq_bind_i64(c, *out, 2, *before, err);
    if (rc == 0)
        rc = sq_bind_i64(c, *out, 3, limit, err);
    return rc;
}

static int sq_gc_unreferenced(struct meta *m, int64_t before, meta_digest_fn fn, void *ctx,
                              struct berr *err)
{
    struct meta_digest_cb cb = {fn, ctx, err, false};
    int rc;

    rc = sq_page_strings(m, gc_query, &before, NULL, UINT_MAX, meta_digest_cb_call, &cb, NULL, err);
    return cb.bad ? -1 : rc;
}

static int sq_blob_forget(struct meta *m, const struct digest *d, meta_file_fn drop, void *ctx,
                          bool *forgotten, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct sq_conn *c;
    sqlite3_stmt *st;
    int rc;

    *forgotten = false;
    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_stmt(&st, c, SQ_Q_BLOB_FORGET, SQL_BLOB_FORGET, err);
    if (rc == 0)
        rc = sq_bind_digest(c, st, 1, d, dbuf, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0)
        *forgotten = sqlite3_changes(c->db) > 0;
    if (rc == 0 && *forgotten && drop != NULL)
        rc = drop(ctx, err) < 0 ? -1 : 0; /* invariant 4 */
    rc = sq_write_end(c, rc, err);
    if (rc < 0)
        *forgotten = false;
    return rc;
}

static int sq_blob_orphan_drop(struct meta *m, const struct digest *d, meta_file_fn drop, void *ctx,
                               bool *dropped, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct sq_conn *c;
    sqlite3_stmt *st;
    int rc;

    *dropped = false;
    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_stmt(&st, c, SQ_Q_BLOB_KNOWN, SQL_BLOB_KNOWN, err);
    if (rc == 0)
        rc = sq_bind_digest(c, st, 1, d, dbuf, err);
    if (rc == 0)
        rc = sq_step_i64(c, st, NULL, err);
    if (rc == 0) { /* no row: an orphan, removed while no push can insert one (invariant 4) */
        rc = drop(ctx, err);
        *dropped = rc == 1;
        rc = rc < 0 ? -1 : 0;
    } else if (rc == 1) {
        rc = 0;
    }
    rc = sq_write_end(c, rc, err);
    if (rc < 0)
        *dropped = false;
    return rc;
}

static int sq_blob_known(struct meta *m, const struct digest *d, bool *known, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st;
    int rc;

    *known = false;
    rc = sq_stmt(&st, c, SQ_Q_BLOB_KNOWN, SQL_BLOB_KNOWN, err);
    if (rc == 0)
        rc = sq_bind_digest(c, st, 1, d, dbuf, err);
    if (rc == 0)
        rc = sq_step_i64(c, st, NULL, err);
    sq_conn_put(c);
    if (rc < 0)
        return -1;
    *known = rc == 1;
    return 0;
}

static int blobs_query(sqlite3_stmt **out, struct sq_conn *c, const void *q, const char *after,
                       int64_t limit, struct berr *err)
{
    int rc;

    (void)q;
    rc = sq_stmt(out, c, SQ_Q_BLOBS_PAGE, SQL_BLOBS_PAGE, err);
    if (rc == 0)
        rc = sq_bind_text(c, *out, 1, after, strlen(after), err);
    if (rc == 0)
        rc = sq_bind_i64(c, *out, 2, limit, err);
    return rc;
}

static int sq_blobs_all(struct meta *m, meta_digest_fn fn, void *ctx, struct berr *err)
{
    struct meta_digest_cb cb = {fn, ctx, err, false};
    int rc;

    rc = sq_page_strings(m, blobs_query, NULL, NULL, UINT_MAX, meta_digest_cb_call, &cb, NULL, err);
    return cb.bad ? -1 : rc;
}

static int sq_gc_unlink_dangling(struct meta *m, int64_t before, bool dry_run, unsigned *n,
                                 struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st;
    int64_t count = 0;
    int rc;

    *n = 0;
    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    if (dry_run) {
        rc = sq_stmt(&st, c, SQ_Q_DANGLING_COUNT, SQL_DANGLING_COUNT, err);
        if (rc == 0)
            rc = sq_bind_i64(c, st, 1, before, err);
        if (rc == 0)
            rc = sq_step_i64(c, st, &count, err) < 0 ? -1 : 0;
    } else {
        rc = sq_stmt(&st, c, SQ_Q_DANGLING_DELETE, SQL_DANGLING_DELETE, err);
        if (rc == 0)
            rc = sq_bind_i64(c, st, 1, before, err);
        if (rc == 0)
            rc = sq_exec(c, st, err);
        if (rc == 0)
            count = sqlite3_changes(c->db);
    }
    rc = sq_write_end(c, rc, err);
    if (rc == 0 && count > 0)
        *n = count > UINT_MAX ? UINT_MAX : (unsigned)count;
    return rc;
}

const struct meta_blob_ops sqlite_blob_ops = {
        .link = sq_blob_link,
        .linked = sq_blob_linked,
        .unlink = sq_blob_unlink,
        .size = sq_blob_size,
        .repos = sq_blob_repos,
        .gc_unreferenced = sq_gc_unreferenced,
        .forget = sq_blob_forget,
        .orphan_drop = sq_blob_orphan_drop,
        .gc_unlink_dangling = sq_gc_unlink_dangling,
        .known = sq_blob_known,
        .blobs_all = sq_blobs_all,
};
