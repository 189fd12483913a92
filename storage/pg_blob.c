/* pg_blob.c - blobs in PostgreSQL: blob rows, their links to repositories, and the queries
 * garbage collection and fsck ask. The PostgreSQL twin of sqlite_blob.c.
 *
 * A blob row says the file exists in the blob store; a repo_blobs row says a repository may
 * serve it; a blob row is referenced while a repo_blobs row, a manifest row (any repository) or
 * a manifest_blobs row names its digest.
 *
 * Concurrency (several replicas on one database, READ COMMITTED): SQLite serializes every
 * writer; here two kinds of lock stand in for that, taken in this order after any project and
 * repository row lock (pg_repo.c):
 *   - the digest lock: pg_blob_lock takes a transaction-scoped advisory lock on the digest's
 *     first 64 bits (pg_advisory_xact_lock). Everything that inserts or deletes a blob row, or
 *     places or removes its file, holds it: pg_blob_insert_link (pushes, manifest puts), the
 *     quota-checked link before its place step (pg_quota.c), gc's forget and orphan drop. So a
 *     push and gc on one digest run one after the other on every replica: the file and its row
 *     change together, and gc's re-check (its DELETE ... WHERE NOT EXISTS, a statement that
 *     starts after the lock was granted and so sees every commit before it) never misses a link
 *     made by a push it waited for. Two digests whose first 64 bits agree share a lock: harmless.
 *   - repository rows: pg_gc_unlink_dangling locks each repository whose links it removes
 *     (FOR NO KEY UPDATE, in name order) before removing them, so it waits for a manifest put
 *     into that repository that is about to list one of those blobs, then sees its rows.
 * Invariants (as sqlite_blob.c's):
 *   1. A repo_blobs row always has its blob row (foreign key), inserted in the same transaction
 *      (pg_blob_insert_link: the one INSERT of each table).
 *   2. pg_blob_linked answers from one SELECT, without a transaction (the HEAD/GET hot path).
 *   3. pg_gc_unreferenced only proposes; pg_blob_forget re-checks all three references and
 *      deletes in one statement, under the digest lock.
 *   4. Files change only inside the transaction of their row, under the digest lock: gc's drop
 *      after the row's DELETE and before COMMIT, an orphan file only while no row exists, and a
 *      push's file before its INSERT (pg_quota.c).
 * Lists are read in batches in digest order; callbacks run with no connection held. Calls pg.c,
 * pg_repo.c and meta_walk.c only. Thread-safe: every call borrows its own connection. */
#include "storage/pg_int.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

#include "common/util.h"
#include "storage/meta_walk.h"

/* ---- blobs ---- */

static const char SQL_BLOB_LOCK[] = "SELECT pg_advisory_xact_lock($1::bigint)";
static const char SQL_BLOB_INSERT[] =
        "INSERT INTO blobs(digest, size, created_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (digest) DO NOTHING";
static const char SQL_REPO_BLOB_INSERT[] =
        "INSERT INTO repo_blobs(repo_id, digest, created_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (repo_id, digest) DO NOTHING";
/* The two ways a repository may serve a digest, first hit wins (as sqlite_blob.c) */
static const char SQL_BLOB_LINKED[] =
        "SELECT b.size FROM repositories r"
        " JOIN repo_blobs rb ON rb.repo_id = r.id AND rb.digest = $2"
        " JOIN blobs b ON b.digest = rb.digest WHERE r.name = $1"
        " UNION ALL"
        " SELECT m.size FROM repositories r"
        " JOIN manifests m ON m.repo_id = r.id AND m.digest = $2 WHERE r.name = $1"
        " LIMIT 1";
static const char SQL_BLOB_LINKED_ID[] =
        "SELECT 1 FROM repo_blobs WHERE repo_id = $1 AND digest = $2"
        " UNION ALL"
        " SELECT 1 FROM manifests WHERE repo_id = $1 AND digest = $2"
        " LIMIT 1";
static const char SQL_REPO_BLOB_DELETE[] =
        "DELETE FROM repo_blobs WHERE repo_id = $1 AND digest = $2";
static const char SQL_BLOB_SIZE[] = "SELECT size FROM blobs WHERE digest = $1";
static const char SQL_BLOB_REPOS[] =
        "SELECT r.name FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id"
        " WHERE rb.digest = $1 AND r.name > $2 ORDER BY r.name LIMIT $3";

int pg_blob_lock(struct pg_conn *c, const struct digest *d, struct berr *err)
{
    struct pg_params p;
    uint64_t key = 0;
    int64_t skey;
    int i;

    assert(c->in_tx);
    /* the first 64 bits of a parsed digest (lower-case hex) */
    for (i = 0; i < 16; i++) {
        char ch = d->hex[i];

        key = key << 4 | (uint64_t)(ch >= 'a' ? ch - 'a' + 10 : ch - '0');
    }
    memcpy(&skey, &key, sizeof(skey)); /* the same 64 bits as PostgreSQL's signed bigint */
    pg_params_init(&p);
    pg_p_i64(&p, skey);
    return pg_run(NULL, c, PG_Q_BLOB_LOCK, SQL_BLOB_LOCK, &p, err) < 0 ? -1 : 0;
}

int pg_blob_insert_link(struct pg_conn *c, int64_t repo_id, const struct digest *d, uint64_t size,
                        struct berr *err)
{
    struct pg_params p;
    int64_t now = now_s();

    if (size > INT64_MAX)
        return berr_set(err, BERR_SIZE_INVALID, "blob too large");
    if (pg_blob_lock(c, d, err) < 0)
        return -1;
    pg_params_init(&p);
    pg_p_digest(&p, d);
    pg_p_i64(&p, (int64_t)size);
    pg_p_i64(&p, now);
    if (pg_run(NULL, c, PG_Q_BLOB_INSERT, SQL_BLOB_INSERT, &p, err) < 0)
        return -1;
    pg_params_init(&p);
    pg_p_i64(&p, repo_id);
    pg_p_digest(&p, d);
    pg_p_i64(&p, now);
    return pg_run(NULL, c, PG_Q_REPO_BLOB_INSERT, SQL_REPO_BLOB_INSERT, &p, err) < 0 ? -1 : 0;
}

int pg_blob_linked_id(struct pg_conn *c, int64_t repo_id, const struct digest *d, struct berr *err)
{
    struct pg_params p;

    pg_params_init(&p);
    pg_p_i64(&p, repo_id);
    pg_p_digest(&p, d);
    return pg_run_i64(c, PG_Q_BLOB_LINKED_ID, SQL_BLOB_LINKED_ID, &p, NULL, err);
}

struct blob_link_ctx {
    const struct repo_name *repo;
    const struct digest *d;
    uint64_t size;
};

static int blob_link_tx(struct pg_conn *c, void *ctx, struct berr *err)
{
    const struct blob_link_ctx *l = ctx;
    int64_t repo_id = 0;

    if (pg_repo_ensure(c, l->repo, &repo_id, err) < 0)
        return -1;
    return pg_blob_insert_link(c, repo_id, l->d, l->size, err);
}

static int pg_blob_link(struct meta *m, const struct repo_name *repo, const struct digest *d,
                        uint64_t size, struct berr *err)
{
    struct blob_link_ctx l = {repo, d, size};

    return pg_tx_run(m, blob_link_tx, &l, err);
}

static int pg_blob_linked(struct meta *m, const struct repo_name *repo, const struct digest *d,
                          uint64_t *size, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int64_t v = 0;
    int rc;

    *size = 0;
    pg_params_init(&p);
    pg_p_repo(&p, repo);
    pg_p_digest(&p, d);
    c = pg_conn_get(m);
    rc = pg_run_i64(c, PG_Q_BLOB_LINKED, SQL_BLOB_LINKED, &p, &v, err);
    pg_conn_put(c);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown to repository");
    *size = v > 0 ? (uint64_t)v : 0;
    return 0;
}

struct blob_unlink_ctx {
    const struct repo_name *repo;
    const struct digest *d;
};

static int blob_unlink_tx(struct pg_conn *c, void *ctx, struct berr *err)
{
    const struct blob_unlink_ctx *u = ctx;
    struct pg_params p;
    int64_t repo_id = 0;
    int rc;

    rc = pg_repo_lock(c, u->repo, &repo_id, err);
    if (rc == 0)
        return berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown to repository");
    if (rc < 0)
        return -1;
    pg_params_init(&p);
    pg_p_i64(&p, repo_id);
    pg_p_digest(&p, u->d);
    rc = pg_run(NULL, c, PG_Q_REPO_BLOB_DELETE, SQL_REPO_BLOB_DELETE, &p, err);
    if (rc == 0)
        return berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown to repository");
    return rc < 0 ? -1 : 0;
}

static int pg_blob_unlink(struct meta *m, const struct repo_name *repo, const struct digest *d,
                          struct berr *err)
{
    struct blob_unlink_ctx u = {repo, d};

    return pg_tx_run(m, blob_unlink_tx, &u, err);
}

static int pg_blob_size(struct meta *m, const struct digest *d, uint64_t *size, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int64_t v = 0;
    int rc;

    *size = 0;
    pg_params_init(&p);
    pg_p_digest(&p, d);
    c = pg_conn_get(m);
    rc = pg_run_i64(c, PG_Q_BLOB_SIZE, SQL_BLOB_SIZE, &p, &v, err);
    pg_conn_put(c);
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

static int blob_repos_query(struct pg_params *p, const char **sql, enum pg_q *slot, const void *q,
                            const char *after, int64_t limit, struct berr *err)
{
    const struct blob_repos_q *bq = q;

    (void)err;
    *sql = SQL_BLOB_REPOS;
    *slot = PG_Q_BLOB_REPOS;
    pg_p_text(p, bq->digest);
    pg_p_text(p, after);
    pg_p_i64(p, limit);
    return 0;
}

static int pg_blob_repos(struct meta *m, const struct digest *d, meta_str_fn fn, void *ctx,
                         struct berr *err)
{
    struct blob_repos_q q;

    digest_format(d, q.digest, sizeof(q.digest));
    return pg_page_strings(m, blob_repos_query, &q, NULL, UINT_MAX, fn, ctx, NULL, err);
}

#define SQL_UNREFERENCED                                                                           \
    " NOT EXISTS (SELECT 1 FROM repo_blobs rb WHERE rb.digest = b.digest)"                         \
    " AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = b.digest)"                        \
    " AND NOT EXISTS (SELECT 1 FROM manifest_blobs mb WHERE mb.digest = b.digest)"

static const char SQL_GC_PAGE[] =
        "SELECT b.digest FROM blobs b WHERE b.digest > $1 AND b.created_at < $2"
        " AND" SQL_UNREFERENCED " ORDER BY b.digest LIMIT $3";
static const char SQL_BLOB_FORGET[] =
        "DELETE FROM blobs AS b WHERE b.digest = $1 AND" SQL_UNREFERENCED;
/* A repository link is dangling when no manifest of that repository lists the blob and the
 * blob is not itself a manifest of it (as sqlite_blob.c); only links older than $1. */
#define SQL_DANGLING                                                                               \
    " rb.created_at < $1"                                                                          \
    " AND NOT EXISTS (SELECT 1 FROM manifest_blobs mb"                                             \
    "                 WHERE mb.repo_id = rb.repo_id AND mb.digest = rb.digest)"                    \
    " AND NOT EXISTS (SELECT 1 FROM manifests m"                                                   \
    "                 WHERE m.repo_id = rb.repo_id AND m.digest = rb.digest)"
static const char SQL_DANGLING_COUNT[] = "SELECT COUNT(*) FROM repo_blobs AS rb WHERE" SQL_DANGLING;
/* the repositories holding dangling links, locked one by one in name order (lock order) */
static const char SQL_DANGLING_REPOS[] =
        "SELECT r.id FROM repositories r WHERE EXISTS (SELECT 1 FROM repo_blobs rb"
        " WHERE rb.repo_id = r.id AND" SQL_DANGLING ") ORDER BY r.name";
static const char SQL_REPO_LOCK_ID[] = "SELECT 1 FROM repositories WHERE id = $1 FOR NO KEY UPDATE";
static const char SQL_DANGLING_DELETE[] =
        "DELETE FROM repo_blobs AS rb WHERE rb.repo_id = $2 AND" SQL_DANGLING;
static const char SQL_BLOB_KNOWN[] = "SELECT 1 FROM blobs WHERE digest = $1";
static const char SQL_BLOBS_PAGE[] =
        "SELECT digest FROM blobs WHERE digest > $1 ORDER BY digest LIMIT $2";

static int gc_query(struct pg_params *p, const char **sql, enum pg_q *slot, const void *q,
                    const char *after, int64_t limit, struct berr *err)
{
    const int64_t *before = q;

    (void)err;
    *sql = SQL_GC_PAGE;
    *slot = PG_Q_GC_PAGE;
    pg_p_text(p, after);
    pg_p_i64(p, *before);
    pg_p_i64(p, limit);
    return 0;
}

static int pg_gc_unreferenced(struct meta *m, int64_t before, meta_digest_fn fn, void *ctx,
                              struct berr *err)
{
    struct meta_digest_cb cb = {fn, ctx, err, false};
    int rc;

    rc = pg_page_strings(m, gc_query, &before, NULL, UINT_MAX, meta_digest_cb_call, &cb, NULL, err);
    return cb.bad ? -1 : rc;
}

/* forget and orphan drop call the caller's file step inside the transaction: they are not
 * retried (pg_tx_run would run the step twice); the only lock they wait for before the step is
 * the digest lock, which no holder keeps while waiting for one of theirs */
static int pg_blob_forget(struct meta *m, const struct digest *d, meta_file_fn drop, void *ctx,
                          bool *forgotten, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int rc;

    *forgotten = false;
    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = pg_blob_lock(c, d, err);
    if (rc == 0) {
        pg_params_init(&p);
        pg_p_digest(&p, d);
        rc = pg_run(NULL, c, PG_Q_BLOB_FORGET, SQL_BLOB_FORGET, &p, err);
        *forgotten = rc > 0;
        rc = rc < 0 ? -1 : 0;
    }
    if (rc == 0 && *forgotten && drop != NULL)
        rc = drop(ctx, err) < 0 ? -1 : 0; /* invariant 4 */
    rc = pg_write_end(c, rc, err);
    if (rc < 0)
        *forgotten = false;
    return rc;
}

static int pg_blob_orphan_drop(struct meta *m, const struct digest *d, meta_file_fn drop, void *ctx,
                               bool *dropped, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int rc;

    *dropped = false;
    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = pg_blob_lock(c, d, err);
    if (rc == 0) {
        pg_params_init(&p);
        pg_p_digest(&p, d);
        rc = pg_run_i64(c, PG_Q_BLOB_KNOWN, SQL_BLOB_KNOWN, &p, NULL, err);
    }
    if (rc == 0) { /* no row: an orphan, removed while no push can insert one (invariant 4) */
        rc = drop(ctx, err);
        *dropped = rc == 1;
        rc = rc < 0 ? -1 : 0;
    } else if (rc == 1) {
        rc = 0;
    }
    rc = pg_write_end(c, rc, err);
    if (rc < 0)
        *dropped = false;
    return rc;
}

static int pg_blob_known(struct meta *m, const struct digest *d, bool *known, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int rc;

    *known = false;
    pg_params_init(&p);
    pg_p_digest(&p, d);
    c = pg_conn_get(m);
    rc = pg_run_i64(c, PG_Q_BLOB_KNOWN, SQL_BLOB_KNOWN, &p, NULL, err);
    pg_conn_put(c);
    if (rc < 0)
        return -1;
    *known = rc == 1;
    return 0;
}

static int blobs_query(struct pg_params *p, const char **sql, enum pg_q *slot, const void *q,
                       const char *after, int64_t limit, struct berr *err)
{
    (void)q;
    (void)err;
    *sql = SQL_BLOBS_PAGE;
    *slot = PG_Q_BLOBS_PAGE;
    pg_p_text(p, after);
    pg_p_i64(p, limit);
    return 0;
}

static int pg_blobs_all(struct meta *m, meta_digest_fn fn, void *ctx, struct berr *err)
{
    struct meta_digest_cb cb = {fn, ctx, err, false};
    int rc;

    rc = pg_page_strings(m, blobs_query, NULL, NULL, UINT_MAX, meta_digest_cb_call, &cb, NULL, err);
    return cb.bad ? -1 : rc;
}

struct dangling_ctx {
    int64_t before;
    int64_t count;
};

static int dangling_tx(struct pg_conn *c, void *ctx, struct berr *err)
{
    struct dangling_ctx *dc = ctx;
    struct pg_params p;
    PGresult *r = NULL;
    int rows;
    int rc = 0;
    int i;

    dc->count = 0;
    pg_params_init(&p);
    pg_p_i64(&p, dc->before);
    rows = pg_run(&r, c, PG_Q_NONE, SQL_DANGLING_REPOS, &p, err);
    for (i = 0; rc == 0 && i < rows; i++) {
        int64_t repo_id = pg_i64(r, i, 0);

        pg_params_init(&p);
        pg_p_i64(&p, repo_id);
        rc = pg_run(NULL, c, PG_Q_NONE, SQL_REPO_LOCK_ID, &p, err);
        if (rc < 0)
            break;
        /* locked: a put into it that lists one of these blobs committed before this DELETE
         * started, and the DELETE sees its rows */
        pg_params_init(&p);
        pg_p_i64(&p, dc->before);
        pg_p_i64(&p, repo_id);
        rc = pg_run(NULL, c, PG_Q_DANGLING_DELETE, SQL_DANGLING_DELETE, &p, err);
        if (rc > 0)
            dc->count += rc;
        rc = rc < 0 ? -1 : 0;
    }
    pg_res_free(r);
    return rows < 0 ? -1 : rc;
}

static int pg_gc_unlink_dangling(struct meta *m, int64_t before, bool dry_run, unsigned *n,
                                 struct berr *err)
{
    struct dangling_ctx dc = {before, 0};
    struct pg_params p;
    struct pg_conn *c;
    int rc;

    *n = 0;
    if (dry_run) {
        pg_params_init(&p);
        pg_p_i64(&p, before);
        c = pg_conn_get(m);
        rc = pg_run_i64(c, PG_Q_DANGLING_COUNT, SQL_DANGLING_COUNT, &p, &dc.count, err);
        pg_conn_put(c);
        rc = rc < 0 ? -1 : 0;
    } else {
        rc = pg_tx_run(m, dangling_tx, &dc, err);
    }
    if (rc == 0 && dc.count > 0)
        *n = dc.count > UINT_MAX ? UINT_MAX : (unsigned)dc.count;
    return rc;
}

const struct meta_blob_ops pg_blob_ops = {
        .link = pg_blob_link,
        .linked = pg_blob_linked,
        .unlink = pg_blob_unlink,
        .size = pg_blob_size,
        .repos = pg_blob_repos,
        .gc_unreferenced = pg_gc_unreferenced,
        .forget = pg_blob_forget,
        .orphan_drop = pg_blob_orphan_drop,
        .gc_unlink_dangling = pg_gc_unlink_dangling,
        .known = pg_blob_known,
        .blobs_all = pg_blobs_all,
};
