/* pg_quota.c - storage quotas per project in PostgreSQL: usage from the links, checks inside the
 * link transaction. The PostgreSQL twin of sqlite_quota.c.
 *
 * Concurrency (several replicas on one database, READ COMMITTED): the check and the link of
 * meta_blob_link_quota run in one transaction that first locks the project's row
 * (pg_project_lock: SELECT ... FOR NO KEY UPDATE). Every quota-checked link into the project,
 * on any replica, takes that lock first, so they run one after the other: each one's usage
 * query starts after the previous one committed and sees its link (READ COMMITTED gives every
 * statement a snapshot taken when it starts), and two pushes cannot both pass a limit only one
 * fits under. Lock order: the project row, then the repository row (pg_repo_ensure), then the
 * digest lock (pg_blob.c). The link is not retried on deadlock: its place step moves a file.
 *
 * Invariants (as sqlite_quota.c's):
 *   1. Usage is SUM(size) over the distinct digests linked from the project's repositories.
 *   2. meta_blob_link_quota reads the limit, the usage and whether the digest is already held,
 *      then links, in one transaction under the project's row lock.
 *   3. An unlimited project (-1) pays nothing for the check: the usage is not computed (its row
 *      is still locked by the link, which keeps lock order the same for every project).
 *   4. A refused link writes nothing: the transaction is rolled back.
 *   5. The caller's place step runs inside the link's transaction, after the check, under the
 *      digest lock and before the insert, so the file and its row appear together for gc.
 * Thread-safe: every call borrows its own connection. */
#include "storage/pg_int.h"

#include <inttypes.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "storage/quota.h"

static const char SQL_USAGE[] =
        "SELECT COALESCE(SUM(b.size), 0) FROM blobs b WHERE b.digest IN"
        " (SELECT rb.digest FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id"
        " WHERE r.project_id = $1)";
static const char SQL_HELD[] =
        "SELECT 1 FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id"
        " WHERE r.project_id = $1 AND rb.digest = $2 LIMIT 1";
static const char SQL_PROJECT_LIMIT[] = "SELECT id, storage_limit FROM projects WHERE name = $1";
#define QUOTA_COLS                                                                                 \
    "SELECT p.id, p.name, COALESCE(u.name, ''), p.storage_limit, p.created_at, p.updated_at"       \
    " FROM projects p LEFT JOIN users u ON u.id = p.owner_id"
static const char SQL_QUOTA_GET[] = QUOTA_COLS " WHERE p.id = $1";
static const char SQL_QUOTA_PAGE[] =
        QUOTA_COLS " WHERE ($1::bigint = 0 OR p.id = $1::bigint) ORDER BY p.id LIMIT $2 OFFSET $3";
static const char SQL_QUOTA_COUNT[] =
        "SELECT COUNT(*) FROM projects WHERE ($1::bigint = 0 OR id = $1::bigint)";
static const char SQL_QUOTA_SET[] =
        "UPDATE projects SET storage_limit = $2, updated_at = $3 WHERE id = $1";
static const char SQL_LINKED_HERE[] = "SELECT 1 FROM repo_blobs WHERE repo_id = $1 AND digest = $2";

static int usage_on(struct pg_conn *c, int64_t project_id, int64_t *used, struct berr *err)
{
    struct pg_params p;

    pg_params_init(&p);
    pg_p_i64(&p, project_id);
    return pg_run_i64(c, PG_Q_QUOTA_USAGE, SQL_USAGE, &p, used, err) < 0 ? -1 : 0;
}

static int pg_quota_usage(struct meta *m, int64_t project_id, int64_t *used, struct berr *err)
{
    struct pg_conn *c = pg_conn_get(m);
    int rc = usage_on(c, project_id, used, err);

    pg_conn_put(c);
    return rc;
}

static int read_row(const PGresult *r, int row, struct quota_info *q, struct berr *err)
{
    memset(q, 0, sizeof(*q));
    q->project_id = pg_i64(r, row, 0);
    q->id = q->project_id;
    if (pg_text(r, row, 1, q->project, sizeof(q->project), err) < 0 ||
        pg_text(r, row, 2, q->owner_name, sizeof(q->owner_name), err) < 0)
        return -1;
    q->hard = pg_i64(r, row, 3);
    q->created_at = pg_i64(r, row, 4);
    q->updated_at = pg_i64(r, row, 5);
    return 0;
}

static int pg_quota_get(struct meta *m, int64_t project_id, struct quota_info *out,
                        struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    pg_params_init(&p);
    pg_p_i64(&p, project_id);
    c = pg_conn_get(m);
    rc = pg_run(&r, c, PG_Q_NONE, SQL_QUOTA_GET, &p, err);
    if (rc > 0)
        rc = read_row(r, 0, out, err);
    else if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "quota %" PRId64 " not found", project_id);
    pg_res_free(r);
    if (rc == 0)
        rc = usage_on(c, out->project_id, &out->used, err);
    pg_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

static int pg_quota_list(struct meta *m, int64_t project_id, int64_t offset, struct quota_info *out,
                         size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    size_t i = 0;
    int rows;
    int rc;

    *n = 0;
    *total = 0;
    if (cap > QUOTA_LIST_MAX || offset < 0 || project_id < 0)
        return berr_set(err, BERR_BAD_REQUEST, "bad page");
    c = pg_conn_get(m);
    pg_params_init(&p);
    pg_p_i64(&p, project_id);
    rc = pg_run_i64(c, PG_Q_NONE, SQL_QUOTA_COUNT, &p, total, err) < 0 ? -1 : 0;
    if (rc == 0) {
        pg_params_init(&p);
        pg_p_i64(&p, project_id);
        pg_p_i64(&p, (int64_t)cap);
        pg_p_i64(&p, offset);
        rows = pg_run(&r, c, PG_Q_NONE, SQL_QUOTA_PAGE, &p, err);
        rc = rows < 0 ? -1 : 0;
        for (int k = 0; rc == 0 && k < rows && i < cap; k++) {
            rc = read_row(r, k, &out[i], err);
            if (rc == 0)
                i++;
        }
        pg_res_free(r);
    }
    for (size_t k = 0; rc == 0 && k < i; k++)
        rc = usage_on(c, out[k].project_id, &out[k].used, err);
    pg_conn_put(c);
    if (rc < 0) {
        *total = 0;
        return -1;
    }
    *n = i;
    return 0;
}

static int pg_quota_set(struct meta *m, int64_t project_id, int64_t hard, int64_t *used,
                        struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int64_t u = 0;
    int rc;

    if (used != NULL)
        *used = 0;
    if (hard < QUOTA_UNLIMITED)
        return berr_set(err, BERR_BAD_REQUEST, "storage must be -1 (unlimited) or a byte count");
    pg_params_init(&p);
    pg_p_i64(&p, project_id);
    pg_p_i64(&p, hard);
    pg_p_i64(&p, now_s());
    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = pg_run(NULL, c, PG_Q_NONE, SQL_QUOTA_SET, &p, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "quota %" PRId64 " not found", project_id);
    rc = rc < 0 ? -1 : 0;
    if (rc == 0)
        rc = usage_on(c, project_id, &u, err);
    rc = pg_write_end(c, rc, err);
    if (rc == 0 && used != NULL)
        *used = u;
    return rc;
}

/* check_on runs the quota test on c: 0 within the limit, -1 with BERR_DENIED (or another
 * error). lock (inside the link's transaction): the project's row is locked first and the
 * limit read under the lock (invariant 2). *project_id gets the project. */
static int check_on(struct pg_conn *c, const struct repo_name *repo, const struct digest *d,
                    uint64_t size, bool lock, int64_t *project_id, struct berr *err)
{
    char project[REPO_NAME_MAX + 1];
    struct pg_params p;
    PGresult *r = NULL;
    int64_t limit = QUOTA_UNLIMITED, used = 0;
    int rc;

    *project_id = 0;
    if (size > INT64_MAX)
        return berr_set(err, BERR_SIZE_INVALID, "blob too large");
    repo_name_project(repo, project, sizeof(project));
    pg_params_init(&p);
    pg_p_text(&p, project);
    rc = pg_run(&r, c, PG_Q_NONE, SQL_PROJECT_LIMIT, &p, err);
    if (rc > 0) {
        *project_id = pg_i64(r, 0, 0);
        limit = pg_i64(r, 0, 1);
    }
    pg_res_free(r);
    if (rc > 0 && lock)
        rc = pg_project_lock(c, *project_id, &limit, err); /* 0: deleted meanwhile */
    if (rc == 0)
        return berr_set(err, BERR_NAME_UNKNOWN, "project %s not found", project);
    if (rc < 0)
        return -1;
    if (limit < 0)
        return 0; /* invariant 3 */
    pg_params_init(&p);
    pg_p_i64(&p, *project_id);
    pg_p_digest(&p, d);
    rc = pg_run_i64(c, PG_Q_NONE, SQL_HELD, &p, NULL, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0; /* the project holds d already: adds nothing */
    if (usage_on(c, *project_id, &used, err) < 0)
        return -1;
    return meta_ops_quota_fits(project, used, limit, size, err);
}

static int pg_quota_check(struct meta *m, const struct repo_name *repo, const struct digest *d,
                          uint64_t size, struct berr *err)
{
    struct pg_conn *c = pg_conn_get(m);
    int64_t pid;
    int rc = check_on(c, repo, d, size, false, &pid, err);

    pg_conn_put(c);
    return rc;
}

static int pg_quota_blob_link(struct meta *m, const struct repo_name *repo, const struct digest *d,
                              uint64_t size, meta_file_fn place, void *place_ctx, bool *added,
                              struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int64_t pid, repo_id = 0;
    int linked = 0;
    int rc;

    if (added != NULL)
        *added = false;
    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = check_on(c, repo, d, size, true, &pid, err);
    if (rc == 0)
        rc = pg_repo_ensure(c, repo, &repo_id, err);
    if (rc == 0) {
        pg_params_init(&p);
        pg_p_i64(&p, repo_id);
        pg_p_digest(&p, d);
        linked = pg_run_i64(c, PG_Q_NONE, SQL_LINKED_HERE, &p, NULL, err);
        rc = linked < 0 ? -1 : 0;
    }
    if (rc == 0)
        rc = pg_blob_lock(c, d, err);
    if (rc == 0 && place != NULL)
        rc = place(place_ctx, err) < 0 ? -1 : 0; /* invariant 5 */
    if (rc == 0)
        rc = pg_blob_insert_link(c, repo_id, d, size, err);
    rc = pg_write_end(c, rc, err);
    if (rc == 0 && added != NULL)
        *added = linked == 0;
    return rc;
}

const struct meta_quota_ops pg_quota_ops = {
        .get = pg_quota_get,
        .usage = pg_quota_usage,
        .list = pg_quota_list,
        .set = pg_quota_set,
        .check = pg_quota_check,
        .blob_link = pg_quota_blob_link,
};
