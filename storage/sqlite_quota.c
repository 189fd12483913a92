/* sqlite_quota.c - storage quotas per project in SQLite: usage from the links, checks inside the
 * link transaction.
 *
 * Invariants:
 *   1. Usage is SUM(size) over the distinct digests of repo_blobs rows whose repository belongs
 *      to the project. Each digest is counted once however many repositories of the project
 *      link it; a digest linked from two projects counts in both (each project pays for what it
 *      holds, as Harbor does).
 *   2. meta_blob_link_quota reads the limit, the usage and whether the digest is already held by
 *      the project, then links, all inside one BEGIN IMMEDIATE transaction: no second push can
 *      link between the check and the link (this process's writers also queue on write_mu).
 *   3. An unlimited project (-1) pays nothing for the check: the usage is not computed.
 *   4. A refused link writes nothing: the transaction is rolled back.
 *   5. The caller's place step (putting the blob file in the store) runs inside the link's
 *      transaction, after the check and before the insert, so the file and its row appear
 *      together for every other writer, gc included (sqlite_blob.c invariant 4).
 * Statements are prepared per call and finalized before the connection is given back (they are
 * not in sqlite_int.h's statement cache). Thread-safe: every call borrows its own connection. */
#include "storage/sqlite_int.h"

#include <inttypes.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "storage/quota.h"

static const char SQL_USAGE[] =
        "SELECT COALESCE(SUM(b.size), 0) FROM blobs b WHERE b.digest IN"
        " (SELECT rb.digest FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id"
        " WHERE r.project_id = ?1)";
static const char SQL_HELD[] =
        "SELECT 1 FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id"
        " WHERE rb.digest = ?2 AND r.project_id = ?1 LIMIT 1";
static const char SQL_PROJECT_LIMIT[] = "SELECT id, storage_limit FROM projects WHERE name = ?1";
static const char SQL_QUOTA_GET[] =
        "SELECT p.id, p.name, COALESCE(u.name, ''), p.storage_limit, p.created_at, p.updated_at"
        " FROM projects p LEFT JOIN users u ON u.id = p.owner_id WHERE p.id = ?1";
static const char SQL_QUOTA_PAGE[] =
        "SELECT p.id, p.name, COALESCE(u.name, ''), p.storage_limit, p.created_at, p.updated_at"
        " FROM projects p LEFT JOIN users u ON u.id = p.owner_id"
        " WHERE (?1 = 0 OR p.id = ?1) ORDER BY p.id LIMIT ?2 OFFSET ?3";
static const char SQL_QUOTA_COUNT[] = "SELECT COUNT(*) FROM projects WHERE (?1 = 0 OR id = ?1)";
static const char SQL_QUOTA_SET[] =
        "UPDATE projects SET storage_limit = ?2, updated_at = ?3 WHERE id = ?1";
static const char SQL_LINKED_HERE[] = "SELECT 1 FROM repo_blobs WHERE repo_id = ?1 AND digest = ?2";

/* one_i64 runs sql with ?1 = a (and ?2 = the digest when d != NULL): 1 and *out for a row, 0
 * when none, -1 on failure */
static int one_i64(struct sq_conn *c, const char *sql, int64_t a, const struct digest *d,
                   int64_t *out, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    sqlite3_stmt *st;
    int rc;

    *out = 0;
    rc = sq_prepare(&st, c, sql, err);
    if (rc < 0)
        return -1;
    rc = sq_bind_i64(c, st, 1, a, err);
    if (rc == 0 && d != NULL)
        rc = sq_bind_digest(c, st, 2, d, dbuf, err);
    if (rc == 0)
        rc = sq_step_i64(c, st, out, err);
    (void)sqlite3_finalize(st); /* errors were reported by sq_step_i64 */
    return rc;
}

static int usage_on(struct sq_conn *c, int64_t project_id, int64_t *used, struct berr *err)
{
    return one_i64(c, SQL_USAGE, project_id, NULL, used, err) < 0 ? -1 : 0;
}

static int sq_quota_usage(struct meta *m, int64_t project_id, int64_t *used, struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    int rc = usage_on(c, project_id, used, err);

    sq_conn_put(c);
    return rc;
}

static int read_row(struct sq_conn *c, sqlite3_stmt *st, struct quota_info *q, struct berr *err)
{
    memset(q, 0, sizeof(*q));
    q->project_id = (int64_t)sqlite3_column_int64(st, 0);
    q->id = q->project_id;
    if (sq_col_text(c, st, 1, q->project, sizeof(q->project), err) < 0 ||
        sq_col_text(c, st, 2, q->owner_name, sizeof(q->owner_name), err) < 0)
        return -1;
    q->hard = (int64_t)sqlite3_column_int64(st, 3);
    q->created_at = (int64_t)sqlite3_column_int64(st, 4);
    q->updated_at = (int64_t)sqlite3_column_int64(st, 5);
    return 0;
}

static int sq_quota_get(struct meta *m, int64_t project_id, struct quota_info *out,
                        struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = sq_prepare(&st, c, SQL_QUOTA_GET, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, project_id, err);
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc == 1)
        rc = read_row(c, st, out, err);
    else if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "quota %" PRId64 " not found", project_id);
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    if (rc == 0)
        rc = usage_on(c, out->project_id, &out->used, err);
    sq_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

static int sq_quota_list(struct meta *m, int64_t project_id, int64_t offset, struct quota_info *out,
                         size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    size_t i = 0;
    int rc;

    *n = 0;
    *total = 0;
    if (cap > QUOTA_LIST_MAX || offset < 0 || project_id < 0)
        return berr_set(err, BERR_BAD_REQUEST, "bad page");
    c = sq_conn_get(m);
    rc = one_i64(c, SQL_QUOTA_COUNT, project_id, NULL, total, err);
    if (rc > 0)
        rc = 0;
    if (rc == 0)
        rc = sq_prepare(&st, c, SQL_QUOTA_PAGE, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, project_id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, (int64_t)cap, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, offset, err);
    while (rc == 0 && i < cap) {
        rc = sq_step(c, st, err);
        if (rc <= 0)
            break;
        rc = read_row(c, st, &out[i], err);
        if (rc == 0)
            i++;
    }
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    for (size_t k = 0; rc == 0 && k < i; k++)
        rc = usage_on(c, out[k].project_id, &out[k].used, err);
    sq_conn_put(c);
    if (rc < 0) {
        *total = 0;
        return -1;
    }
    *n = i;
    return 0;
}

static int sq_quota_set(struct meta *m, int64_t project_id, int64_t hard, int64_t *used,
                        struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int64_t u = 0;
    int rc;

    if (used != NULL)
        *used = 0;
    if (hard < QUOTA_UNLIMITED)
        return berr_set(err, BERR_BAD_REQUEST, "storage must be -1 (unlimited) or a byte count");
    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_prepare(&st, c, SQL_QUOTA_SET, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, project_id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, hard, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, now_s(), err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "quota %" PRId64 " not found", project_id);
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    if (rc == 0)
        rc = usage_on(c, project_id, &u, err);
    rc = sq_write_end(c, rc, err);
    if (rc == 0 && used != NULL)
        *used = u;
    return rc;
}

/* check_on runs the quota test on c (inside a transaction when the caller links next):
 * 0 within the limit, -1 with BERR_DENIED (or another error). *project_id gets the project. */
static int check_on(struct sq_conn *c, const struct repo_name *repo, const struct digest *d,
                    uint64_t size, int64_t *project_id, struct berr *err)
{
    char project[REPO_NAME_MAX + 1];
    sqlite3_stmt *st = NULL;
    int64_t limit = QUOTA_UNLIMITED, used = 0, held = 0;
    int rc;

    *project_id = 0;
    if (size > INT64_MAX)
        return berr_set(err, BERR_SIZE_INVALID, "blob too large");
    repo_name_project(repo, project, sizeof(project));
    rc = sq_prepare(&st, c, SQL_PROJECT_LIMIT, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 1, project, strlen(project), err);
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc == 1) {
        *project_id = (int64_t)sqlite3_column_int64(st, 0);
        limit = (int64_t)sqlite3_column_int64(st, 1);
        rc = 0;
    } else if (rc == 0) {
        rc = berr_set(err, BERR_NAME_UNKNOWN, "project %s not found", project);
    }
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    if (rc < 0 || limit < 0)
        return rc; /* invariant 3 */
    rc = one_i64(c, SQL_HELD, *project_id, d, &held, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0; /* the project holds d already: adds nothing */
    if (usage_on(c, *project_id, &used, err) < 0)
        return -1;
    return meta_ops_quota_fits(project, used, limit, size, err);
}

static int sq_quota_check(struct meta *m, const struct repo_name *repo, const struct digest *d,
                          uint64_t size, struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    int64_t pid;
    int rc = check_on(c, repo, d, size, &pid, err);

    sq_conn_put(c);
    return rc;
}

static int sq_quota_blob_link(struct meta *m, const struct repo_name *repo, const struct digest *d,
                              uint64_t size, meta_file_fn place, void *place_ctx, bool *added,
                              struct berr *err)
{
    struct sq_conn *c;
    int64_t pid, repo_id, linked = 0;
    int rc;

    if (added != NULL)
        *added = false;
    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = check_on(c, repo, d, size, &pid, err);
    if (rc == 0)
        rc = sq_repo_ensure(c, repo, &repo_id, err);
    if (rc == 0)
        rc = one_i64(c, SQL_LINKED_HERE, repo_id, d, &linked, err) < 0 ? -1 : 0;
    if (rc == 0 && place != NULL)
        rc = place(place_ctx, err) < 0 ? -1 : 0; /* invariant 5 */
    if (rc == 0)
        rc = sq_blob_insert_link(c, repo_id, d, size, err);
    rc = sq_write_end(c, rc, err);
    if (rc == 0 && added != NULL)
        *added = linked == 0;
    return rc;
}

const struct meta_quota_ops sqlite_quota_ops = {
        .get = sq_quota_get,
        .usage = sq_quota_usage,
        .list = sq_quota_list,
        .set = sq_quota_set,
        .check = sq_quota_check,
        .blob_link = sq_quota_blob_link,
};
