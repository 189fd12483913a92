/* pg_repo.c - repositories in PostgreSQL: the row by name (found or created under its project,
 * and locked for the writer), the management API's repository lists and count per project,
 * description and delete, and registry statistics. The PostgreSQL twin of sqlite_repo.c.
 *
 * Concurrency (several replicas on one database; pg_int.h's header says what each kind of
 * check needs): every write to the content of one repository (manifests, tags, blob links, its
 * description, its delete) first locks the repository's row, FOR NO KEY UPDATE (FOR UPDATE to
 * delete it), so the writers of one repository run one after the other on every replica, as
 * SQLite's write lock makes them run everywhere; writers of different repositories do not wait
 * for each other. NO KEY UPDATE leaves the foreign-key checks of other inserts (FOR KEY SHARE)
 * alone and is excluded by a project delete's FOR UPDATE. Lock order: project row (quota),
 * then repository row, then the digest locks of pg_blob.c.
 *
 * Invariants (as sqlite_repo.c's):
 *   1. A repository row exists only under an existing project: pg_repo_ensure creates it (the
 *      one INSERT into repositories, ON CONFLICT DO NOTHING, so two replicas creating one name
 *      get one row) for the first blob link or manifest put into that name; a project deleted
 *      meanwhile makes the insert's foreign key fail, reported as the unknown project.
 *   2. "Shown" has one definition (PG_REPO_HAS_CONTENT), used by the count and the page query.
 *   3. Visibility of a list is decided in SQL from bound viewer ids, never after the LIMIT.
 *   4. A repository delete relies on ON DELETE CASCADE for manifests, tags and links.
 * Thread-safe: every call borrows its own connection. */
#include "storage/pg_int.h"

#include <assert.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/* ---- the repository row ---- */

static const char SQL_REPO_ID[] = "SELECT id FROM repositories WHERE name = $1";
static const char SQL_REPO_LOCK[] = "SELECT id FROM repositories WHERE name = $1 FOR NO KEY UPDATE";
static const char SQL_PROJECT_ID[] = "SELECT id FROM projects WHERE name = $1";
static const char SQL_REPO_INSERT[] =
        "INSERT INTO repositories(project_id, name, created_at, updated_at)"
        " VALUES ($1, $2, $3, $3) ON CONFLICT (name) DO NOTHING RETURNING id";

int pg_repo_id(struct pg_conn *c, const struct repo_name *repo, int64_t *id, struct berr *err)
{
    struct pg_params p;

    pg_params_init(&p);
    pg_p_repo(&p, repo);
    return pg_run_i64(c, PG_Q_REPO_ID, SQL_REPO_ID, &p, id, err);
}

int pg_repo_lookup(struct meta *m, const struct repo_name *repo, int64_t *id, struct berr *err)
{
    struct pg_conn *c = pg_conn_get(m);
    int rc = pg_repo_id(c, repo, id, err);

    pg_conn_put(c);
    return rc;
}

/* project_unknown: the error of a push into a project that does not exist */
static int project_unknown(const struct repo_name *repo, struct berr *err)
{
    char project[REPO_NAME_MAX + 1];

    repo_name_project(repo, project, sizeof(project));
    return berr_set(err, BERR_NAME_UNKNOWN, "project %s not found", project);
}

int pg_repo_lock(struct pg_conn *c, const struct repo_name *repo, int64_t *id, struct berr *err)
{
    struct pg_params p;

    assert(c->in_tx);
    pg_params_init(&p);
    pg_p_repo(&p, repo);
    return pg_run_i64(c, PG_Q_REPO_LOCK, SQL_REPO_LOCK, &p, id, err);
}

int pg_repo_ensure(struct pg_conn *c, const struct repo_name *repo, int64_t *id, struct berr *err)
{
    char project[REPO_NAME_MAX + 1];
    struct pg_params p;
    int64_t project_id = 0;
    int attempt;
    int rc;

    assert(c->in_tx);
    *id = 0;
    repo_name_project(repo, project, sizeof(project));
    /* a row another replica inserts between our lock and our insert is found on the next
     * round: its INSERT committed (ours waited for it and did nothing) */
    for (attempt = 0; attempt < 3; attempt++) {
        rc = pg_repo_lock(c, repo, id, err);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        pg_params_init(&p);
        pg_p_text(&p, project);
        rc = pg_run_i64(c, PG_Q_PROJECT_ID, SQL_PROJECT_ID, &p, &project_id, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return project_unknown(repo, err);
        pg_params_init(&p);
        pg_p_i64(&p, project_id);
        pg_p_repo(&p, repo);
        pg_p_i64(&p, now_s());
        rc = pg_run_i64(c, PG_Q_REPO_INSERT, SQL_REPO_INSERT, &p, id, err);
        if (rc < 0 && strcmp(c->sqlstate, "23503") == 0)
            return project_unknown(repo, err); /* deleted since we read it (invariant 1) */
        if (rc != 0)
            return rc < 0 ? -1 : 0; /* inserted: the row is ours until we commit */
    }
    log_msg(LOG_ERROR, "meta: repository row neither found nor inserted");
    return berr_set(err, BERR_INTERNAL, "internal error");
}

/* ---- repositories ---- */

#define REPO_COLS                                                                                  \
    "SELECT r.id, r.project_id, p.public, r.name, r.description,"                                  \
    " (SELECT COUNT(*) FROM manifests m WHERE m.repo_id = r.id AND" PG_ART_TOP(                    \
            "m") ") AS ac,"                                                                        \
                 " r.pull_count, r.created_at, r.updated_at,"                                      \
                 " (SELECT COALESCE(MAX(pm.pull_time), 0) FROM manifests pm"                       \
                 " WHERE pm.repo_id = r.id) AS pt, r.push_count"                                   \
                 " FROM repositories r JOIN projects p ON p.id = r.project_id"

/* $1 name, $2 fuzzy, $3 project, $4 all, $5 viewer user, $6 viewer robot */
#define REPO_WHERE                                                                                 \
    " WHERE ($1::text IS NULL OR CASE WHEN $2::boolean THEN strpos(r.name, $1::text) > 0"          \
    " ELSE r.name = $1::text END)"                                                                 \
    " AND ($3::bigint <= 0 OR r.project_id = $3::bigint)"                                          \
    " AND ($4::boolean OR p.public"                                                                \
    " OR EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = p.id"                      \
    " AND pm.user_id = $5::bigint)"                                                                \
    " OR EXISTS (SELECT 1 FROM robot_permissions rp WHERE rp.robot_id = $6::bigint"                \
    " AND (rp.namespace = p.name OR rp.namespace = '*') AND (rp.actions & 1) != 0))"               \
    " AND" PG_REPO_HAS_CONTENT

static const char SQL_REPO_COUNT[] =
        "SELECT COUNT(*) FROM repositories r JOIN projects p ON p.id = r.project_id" REPO_WHERE;
/* $7 sort, $8 limit, $9 offset */
static const char SQL_REPO_PAGE[] = "SELECT * FROM (" REPO_COLS REPO_WHERE ") v ORDER BY"
                                    " CASE $7::text WHEN 'name' THEN v.name END ASC,"
                                    " CASE $7::text WHEN '-name' THEN v.name END DESC,"
                                    " CASE $7::text WHEN 'creation_time' THEN v.created_at END ASC,"
                                    " CASE $7::text WHEN '-creation_time' THEN v.created_at END"
                                    " DESC,"
                                    " CASE $7::text WHEN 'update_time' THEN v.updated_at END ASC,"
                                    " CASE $7::text WHEN '-update_time' THEN v.updated_at END DESC,"
                                    " CASE $7::text WHEN 'pull_count' THEN v.pull_count END ASC,"
                                    " CASE $7::text WHEN '-pull_count' THEN v.pull_count END DESC,"
                                    " CASE $7::text WHEN 'pull_time' THEN v.pt END ASC,"
                                    " CASE $7::text WHEN '-pull_time' THEN v.pt END DESC,"
                                    " CASE $7::text WHEN 'artifact_count' THEN v.ac END ASC,"
                                    " CASE $7::text WHEN '-artifact_count' THEN v.ac END DESC,"
                                    " CASE $7::text WHEN 'id' THEN v.id END ASC,"
                                    " CASE WHEN $7::text IS NULL THEN v.created_at END DESC,"
                                    " v.id DESC LIMIT $8 OFFSET $9";
static const char SQL_REPO_GET[] = REPO_COLS " WHERE r.name = $1 AND" PG_REPO_HAS_CONTENT;
static const char SQL_REPO_DESC[] =
        "UPDATE repositories SET description = $2, updated_at = $3 WHERE id = $1";
static const char SQL_REPO_DELETE[] = "DELETE FROM repositories WHERE id = $1";
static const char SQL_REPO_LOCK_DELETE[] = "SELECT id FROM repositories WHERE name = $1 FOR UPDATE";
static const char SQL_REPO_SHOWN[] =
        "SELECT 1 FROM repositories r WHERE r.id = $1 AND" PG_REPO_HAS_CONTENT;

static const char *const repo_sort_keys[] = {
        "name",      "creation_time",  "update_time", "pull_count",
        "pull_time", "artifact_count", "id",          NULL};

static int repo_read(const PGresult *r, int row, void *out, struct berr *err)
{
    struct meta_repo_info *ri = out;

    memset(ri, 0, sizeof(*ri));
    ri->id = pg_i64(r, row, 0);
    ri->project_id = pg_i64(r, row, 1);
    ri->project_public = pg_bool(r, row, 2);
    ri->artifact_count = pg_i64(r, row, 5);
    ri->pull_count = pg_i64(r, row, 6);
    ri->created_at = pg_i64(r, row, 7);
    ri->updated_at = pg_i64(r, row, 8);
    ri->pull_time = pg_i64(r, row, 9);
    ri->push_count = pg_i64(r, row, 10);
    if (pg_text(r, row, 3, ri->name, sizeof(ri->name), err) < 0 ||
        pg_text(r, row, 4, ri->description, sizeof(ri->description), err) < 0)
        return -1;
    return 0;
}

static int repo_bind(struct pg_params *p, const void *q, bool for_count, struct berr *err)
{
    const struct meta_repo_q *rq = q;

    (void)err;
    pg_p_name(p, &rq->l);
    pg_p_i64(p, rq->project_id);
    pg_p_bool(p, rq->all);
    pg_p_i64(p, rq->viewer_user_id);
    pg_p_i64(p, rq->viewer_robot_id);
    if (!for_count)
        pg_p_sort(p, rq->l.sort);
    return 0;
}

static int pg_repo_list(struct meta *m, const struct meta_repo_q *q, struct meta_repo_info *out,
                        size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    /* the page query sorts a sub-select; its artifact count column is named "ac" */
    static const struct pg_list l = {
            SQL_REPO_COUNT, SQL_REPO_PAGE, repo_bind, repo_read, sizeof(struct meta_repo_info),
            repo_sort_keys};

    return pg_list_run(m, &l, q, &q->l, out, cap, n, total, err);
}

static const char SQL_REPO_COUNT_PROJECT[] =
        "SELECT COUNT(*) FROM repositories r WHERE r.project_id = $1 AND" PG_REPO_HAS_CONTENT;

static int pg_repo_count(struct meta *m, int64_t project_id, int64_t *n, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int rc;

    *n = 0;
    pg_params_init(&p);
    pg_p_i64(&p, project_id);
    c = pg_conn_get(m);
    rc = pg_run_i64(c, PG_Q_NONE, SQL_REPO_COUNT_PROJECT, &p, n, err);
    pg_conn_put(c);
    return rc < 0 ? -1 : 0;
}

static int pg_repo_info_get(struct meta *m, const struct repo_name *repo,
                            struct meta_repo_info *out, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    pg_params_init(&p);
    pg_p_repo(&p, repo);
    c = pg_conn_get(m);
    rc = pg_run(&r, c, PG_Q_NONE, SQL_REPO_GET, &p, err);
    pg_conn_put(c);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "repository %s not found", repo->s);
    else if (rc > 0)
        rc = repo_read(r, 0, out, err);
    pg_res_free(r);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

/* repo_write: in one transaction, lock the repository row (FOR UPDATE when it goes), check it
 * is shown, then run sql with $1 = its id (and $2 = text, $3 = now when text != NULL) */
struct repo_write {
    const struct repo_name *repo;
    const char *lock_sql;
    enum pg_q lock_slot;
    const char *sql;
    const char *text;
};

static int repo_write_tx(struct pg_conn *c, void *ctx, struct berr *err)
{
    const struct repo_write *w = ctx;
    struct pg_params p;
    int64_t id = 0;
    int rc;

    pg_params_init(&p);
    pg_p_repo(&p, w->repo);
    rc = pg_run_i64(c, w->lock_slot, w->lock_sql, &p, &id, err);
    if (rc == 1) {
        pg_params_init(&p);
        pg_p_i64(&p, id);
        rc = pg_run_i64(c, PG_Q_NONE, SQL_REPO_SHOWN, &p, NULL, err);
    }
    if (rc == 0)
        return berr_set(err, BERR_NOT_FOUND, "repository %s not found", w->repo->s);
    if (rc < 0)
        return -1;
    pg_params_init(&p);
    pg_p_i64(&p, id);
    if (w->text != NULL) {
        pg_p_text(&p, w->text);
        pg_p_i64(&p, now_s());
    }
    return pg_run(NULL, c, PG_Q_NONE, w->sql, &p, err) < 0 ? -1 : 0;
}

static int pg_repo_set_description(struct meta *m, const struct repo_name *repo, const char *desc,
                                   struct berr *err)
{
    struct repo_write w = {repo, SQL_REPO_LOCK, PG_Q_REPO_LOCK, SQL_REPO_DESC, desc};

    return pg_tx_run(m, repo_write_tx, &w, err);
}

static int pg_repo_delete(struct meta *m, const struct repo_name *repo, struct berr *err)
{
    struct repo_write w = {repo, SQL_REPO_LOCK_DELETE, PG_Q_NONE, SQL_REPO_DELETE, NULL};

    return pg_tx_run(m, repo_write_tx, &w, err);
}

/* ---- statistics ---- */

#define STAT_VISIBLE_PRIVATE                                                                       \
    " NOT p.public AND ($1::boolean OR EXISTS (SELECT 1 FROM project_members pm"                   \
    " WHERE pm.project_id = p.id AND pm.user_id = $2::bigint))"
static const char SQL_STATS[] =
        "SELECT (SELECT COUNT(*) FROM projects p WHERE" STAT_VISIBLE_PRIVATE "),"
        " (SELECT COUNT(*) FROM projects p WHERE p.public),"
        " (SELECT COUNT(*) FROM repositories r JOIN projects p ON p.id = r.project_id"
        " WHERE" STAT_VISIBLE_PRIVATE " AND" PG_REPO_HAS_CONTENT "),"
        " (SELECT COUNT(*) FROM repositories r JOIN projects p ON p.id = r.project_id"
        " WHERE p.public AND" PG_REPO_HAS_CONTENT "),"
        " (SELECT COALESCE(SUM(size), 0) FROM blobs), (SELECT COUNT(*) FROM blobs)";

static int pg_stats_get(struct meta *m, bool all, int64_t viewer_user_id, struct meta_stats *out,
                        struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    pg_params_init(&p);
    pg_p_bool(&p, all);
    pg_p_i64(&p, viewer_user_id);
    c = pg_conn_get(m);
    rc = pg_run(&r, c, PG_Q_NONE, SQL_STATS, &p, err);
    pg_conn_put(c);
    if (rc == 0) {
        log_msg(LOG_ERROR, "meta: stats: no row");
        rc = berr_set(err, BERR_INTERNAL, "internal error");
    } else if (rc > 0) {
        out->private_project_count = pg_i64(r, 0, 0);
        out->public_project_count = pg_i64(r, 0, 1);
        out->private_repo_count = pg_i64(r, 0, 2);
        out->public_repo_count = pg_i64(r, 0, 3);
        out->total_storage_consumption = pg_i64(r, 0, 4);
        out->total_blob_count = pg_i64(r, 0, 5);
        out->total_project_count = out->private_project_count + out->public_project_count;
        out->total_repo_count = out->private_repo_count + out->public_repo_count;
        rc = 0;
    }
    pg_res_free(r);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

const struct meta_repo_ops pg_repo_ops = {
        .count = pg_repo_count,
        .list = pg_repo_list,
        .info_get = pg_repo_info_get,
        .set_description = pg_repo_set_description,
        .remove = pg_repo_delete,
        .stats_get = pg_stats_get,
};
