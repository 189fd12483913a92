/* sqlite_repo.c - repositories in SQLite: the row by name (found or created under its project),
 * the management API's repository lists and count per project, description and delete, and
 * registry statistics.
 *
 * Invariants:
 *   1. A repository row exists only under an existing project: sq_repo_ensure creates it (the
 *      one INSERT into repositories) for the first blob link or manifest put into that name, in
 *      the same transaction that checked the project.
 *   2. "Shown" has one definition per kind, written once as SQL text (REPO_HAS_CONTENT in
 *      sqlite_int.h) and used by both the count and the page query, so X-Total-Count always
 *      matches the rows a client can page through.
 *   3. Visibility of a repository list is decided in SQL from bound viewer ids, never by
 *      filtering rows after the LIMIT (which would break paging).
 *   4. A repository delete relies on ON DELETE CASCADE (migration 1) for manifests, tags,
 *      references and blob links: one statement, nothing half-deleted.
 * Lists use sq_list_run (count query plus page query on one borrowed connection). This file
 * calls only sqlite.c. Thread-safe: every call borrows its own connection. */
#include "storage/sqlite_int.h"

#include <assert.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/* ---- the repository row ---- */

static const char SQL_REPO_ID[] = "SELECT id FROM repositories WHERE name = ?1";
static const char SQL_PROJECT_ID[] = "SELECT id FROM projects WHERE name = ?1";
static const char SQL_REPO_INSERT[] =
        "INSERT INTO repositories(project_id, name, created_at, updated_at)"
        " VALUES (?1, ?2, ?3, ?3)";

int sq_repo_id(struct sq_conn *c, const struct repo_name *repo, int64_t *id, struct berr *err)
{
    sqlite3_stmt *st;
    int rc;

    *id = 0;
    rc = sq_stmt(&st, c, SQ_Q_REPO_ID, SQL_REPO_ID, err);
    if (rc == 0)
        rc = sq_bind_repo(c, st, 1, repo, err);
    if (rc == 0)
        rc = sq_step_i64(c, st, id, err);
    return rc;
}

int sq_repo_lookup(struct meta *m, const struct repo_name *repo, int64_t *id, struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    int rc = sq_repo_id(c, repo, id, err);

    sq_conn_put(c);
    return rc;
}

int sq_repo_ensure(struct sq_conn *c, const struct repo_name *repo, int64_t *id, struct berr *err)
{
    char project[REPO_NAME_MAX + 1];
    sqlite3_stmt *st;
    int64_t project_id = 0;
    int rc;

    assert(c->in_tx);
    rc = sq_repo_id(c, repo, id, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    rc = sq_stmt(&st, c, SQ_Q_PROJECT_ID, SQL_PROJECT_ID, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 1, repo->s, repo->project_len, err);
    if (rc == 0)
        rc = sq_step_i64(c, st, &project_id, err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        repo_name_project(repo, project, sizeof(project));
        return berr_set(err, BERR_NAME_UNKNOWN, "project %s not found", project);
    }
    rc = sq_stmt(&st, c, SQ_Q_REPO_INSERT, SQL_REPO_INSERT, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, project_id, err);
    if (rc == 0)
        rc = sq_bind_repo(c, st, 2, repo, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, now_s(), err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc < 0)
        return -1;
    *id = (int64_t)sqlite3_last_insert_rowid(c->db);
    return 0;
}
/* ---- repositories ---- */

#define REPO_COLS                                                                                  \
    "SELECT r.id, r.project_id, p.public, r.name, r.description,"                                  \
    " (SELECT COUNT(*) FROM manifests m WHERE m.repo_id = r.id AND" ART_TOP(                       \
            "m") ") AS ac,"                                                                        \
                 " r.pull_count, r.created_at, r.updated_at,"                                      \
                 " (SELECT COALESCE(MAX(pm.pull_time), 0) FROM manifests pm"                       \
                 " WHERE pm.repo_id = r.id) AS pt, r.push_count"                                   \
                 " FROM repositories r JOIN projects p ON p.id = r.project_id"

#define REPO_WHERE                                                                                 \
    " WHERE (?1 IS NULL OR CASE WHEN ?2 THEN instr(r.name, ?1) > 0 ELSE r.name = ?1 END)"          \
    " AND (?3 <= 0 OR r.project_id = ?3)"                                                          \
    " AND (?4 OR p.public = 1"                                                                     \
    " OR EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = p.id AND pm.user_id = ?5)" \
    " OR EXISTS (SELECT 1 FROM robot_permissions rp WHERE rp.robot_id = ?6"                        \
    " AND (rp.namespace = p.name OR rp.namespace = '*') AND (rp.actions & 1) != 0))"               \
    " AND" REPO_HAS_CONTENT

static const char SQL_REPO_COUNT[] =
        "SELECT COUNT(*) FROM repositories r JOIN projects p ON p.id = r.project_id" REPO_WHERE;
static const char SQL_REPO_PAGE[] = "SELECT * FROM (" REPO_COLS REPO_WHERE ") v ORDER BY"
                                    " CASE ?7 WHEN 'name' THEN v.name END ASC,"
                                    " CASE ?7 WHEN '-name' THEN v.name END DESC,"
                                    " CASE ?7 WHEN 'creation_time' THEN v.created_at END ASC,"
                                    " CASE ?7 WHEN '-creation_time' THEN v.created_at END DESC,"
                                    " CASE ?7 WHEN 'update_time' THEN v.updated_at END ASC,"
                                    " CASE ?7 WHEN '-update_time' THEN v.updated_at END DESC,"
                                    " CASE ?7 WHEN 'pull_count' THEN v.pull_count END ASC,"
                                    " CASE ?7 WHEN '-pull_count' THEN v.pull_count END DESC,"
                                    " CASE ?7 WHEN 'pull_time' THEN v.pt END ASC,"
                                    " CASE ?7 WHEN '-pull_time' THEN v.pt END DESC,"
                                    " CASE ?7 WHEN 'artifact_count' THEN v.ac END ASC,"
                                    " CASE ?7 WHEN '-artifact_count' THEN v.ac END DESC,"
                                    " CASE ?7 WHEN 'id' THEN v.id END ASC,"
                                    " CASE WHEN ?7 IS NULL THEN v.created_at END DESC,"
                                    " v.id DESC LIMIT ?20 OFFSET ?21";
static const char SQL_REPO_GET[] = REPO_COLS " WHERE r.name = ?1 AND" REPO_HAS_CONTENT;
static const char SQL_REPO_DESC[] =
        "UPDATE repositories SET description = ?2, updated_at = ?3 WHERE name = ?1";
static const char SQL_REPO_DELETE[] = "DELETE FROM repositories WHERE name = ?1";
static const char SQL_REPO_ID_SHOWN[] =
        "SELECT r.id FROM repositories r WHERE r.name = ?1 AND" REPO_HAS_CONTENT;

static const char *const repo_sort_keys[] = {
        "name",      "creation_time",  "update_time", "pull_count",
        "pull_time", "artifact_count", "id",          NULL};

static int repo_read(struct sq_conn *c, sqlite3_stmt *st, void *row, struct berr *err)
{
    struct meta_repo_info *r = row;

    memset(r, 0, sizeof(*r));
    r->id = (int64_t)sqlite3_column_int64(st, 0);
    r->project_id = (int64_t)sqlite3_column_int64(st, 1);
    r->project_public = sqlite3_column_int64(st, 2) != 0;
    r->artifact_count = (int64_t)sqlite3_column_int64(st, 5);
    r->pull_count = (int64_t)sqlite3_column_int64(st, 6);
    r->created_at = (int64_t)sqlite3_column_int64(st, 7);
    r->updated_at = (int64_t)sqlite3_column_int64(st, 8);
    r->pull_time = (int64_t)sqlite3_column_int64(st, 9);
    r->push_count = (int64_t)sqlite3_column_int64(st, 10);
    if (sq_col_text(c, st, 3, r->name, sizeof(r->name), err) < 0 ||
        sq_col_text(c, st, 4, r->description, sizeof(r->description), err) < 0)
        return -1;
    return 0;
}

static int repo_bind(struct sq_conn *c, sqlite3_stmt *st, const void *q, bool for_count,
                     struct berr *err)
{
    const struct meta_repo_q *rq = q;
    int rc = sq_bind_name(c, st, 1, &rq->l, err);

    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, rq->project_id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 4, rq->all ? 1 : 0, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 5, rq->viewer_user_id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 6, rq->viewer_robot_id, err);
    if (rc == 0 && !for_count)
        rc = sq_bind_sort(c, st, 7, rq->l.sort, err);
    return rc;
}

static int sq_repo_list(struct meta *m, const struct meta_repo_q *q, struct meta_repo_info *out,
                        size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    /* the page query sorts a sub-select; its artifact count column is named "ac" */
    static const struct sq_list l = {
            SQL_REPO_COUNT, SQL_REPO_PAGE, repo_bind, repo_read, sizeof(struct meta_repo_info),
            repo_sort_keys};

    return sq_list_run(m, &l, q, &q->l, out, cap, n, total, err);
}

static const char SQL_REPO_COUNT_PROJECT[] =
        "SELECT COUNT(*) FROM repositories r WHERE r.project_id = ?1 AND" REPO_HAS_CONTENT;

static int sq_repo_count(struct meta *m, int64_t project_id, int64_t *n, struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st = NULL;
    int rc;

    *n = 0;
    rc = sq_prepare(&st, c, SQL_REPO_COUNT_PROJECT, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, project_id, err);
    if (rc == 0)
        rc = sq_step_i64(c, st, n, err);
    (void)sqlite3_finalize(st); /* NULL is a no-op; step errors were reported */
    sq_conn_put(c);
    return rc < 0 ? -1 : 0;
}

static int sq_repo_info_get(struct meta *m, const struct repo_name *repo,
                            struct meta_repo_info *out, struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = sq_prepare(&st, c, SQL_REPO_GET, err);
    if (rc == 0)
        rc = sq_bind_repo(c, st, 1, repo, err);
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "repository %s not found", repo->s);
    else if (rc == 1)
        rc = repo_read(c, st, out, err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    sq_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

/* repo_write runs sql (?1 = repository name, optional ?2 text, ?3 time) on a repository that is
 * shown, in one transaction. */
static int repo_write(struct meta *m, const struct repo_name *repo, const char *sql,
                      const char *text, struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_prepare(&st, c, SQL_REPO_ID_SHOWN, err);
    if (rc == 0)
        rc = sq_bind_repo(c, st, 1, repo, err);
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "repository %s not found", repo->s);
    (void)sqlite3_finalize(st);
    st = NULL;
    if (rc < 0)
        goto end;
    rc = sq_prepare(&st, c, sql, err);
    if (rc == 0)
        rc = sq_bind_repo(c, st, 1, repo, err);
    if (rc == 0 && text != NULL) {
        rc = sq_bind_text(c, st, 2, text, strlen(text), err);
        if (rc == 0)
            rc = sq_bind_i64(c, st, 3, now_s(), err);
    }
    if (rc == 0)
        rc = sq_exec(c, st, err);
    (void)sqlite3_finalize(st); /* errors were reported */
end:
    rc = sq_write_end(c, rc, err);
    return rc;
}

static int sq_repo_set_description(struct meta *m, const struct repo_name *repo, const char *desc,
                                   struct berr *err)
{
    return repo_write(m, repo, SQL_REPO_DESC, desc, err);
}

static int sq_repo_delete(struct meta *m, const struct repo_name *repo, struct berr *err)
{
    return repo_write(m, repo, SQL_REPO_DELETE, NULL, err);
}

/* ---- statistics ---- */

#define STAT_VISIBLE_PRIVATE                                                                       \
    " p.public = 0 AND (?1 OR EXISTS (SELECT 1 FROM project_members pm"                            \
    " WHERE pm.project_id = p.id AND pm.user_id = ?2))"
static const char SQL_STATS[] =
        "SELECT (SELECT COUNT(*) FROM projects p WHERE" STAT_VISIBLE_PRIVATE "),"
        " (SELECT COUNT(*) FROM projects p WHERE p.public = 1),"
        " (SELECT COUNT(*) FROM repositories r JOIN projects p ON p.id = r.project_id"
        " WHERE" STAT_VISIBLE_PRIVATE " AND" REPO_HAS_CONTENT "),"
        " (SELECT COUNT(*) FROM repositories r JOIN projects p ON p.id = r.project_id"
        " WHERE p.public = 1 AND" REPO_HAS_CONTENT "),"
        " (SELECT COALESCE(SUM(size), 0) FROM blobs), (SELECT COUNT(*) FROM blobs)";

static int sq_stats_get(struct meta *m, bool all, int64_t viewer_user_id, struct meta_stats *out,
                        struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = sq_prepare(&st, c, SQL_STATS, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, all ? 1 : 0, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, viewer_user_id, err);
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc == 0) {
        rc = sq_fail(c, "stats: no row", err);
    } else if (rc == 1) {
        out->private_project_count = (int64_t)sqlite3_column_int64(st, 0);
        out->public_project_count = (int64_t)sqlite3_column_int64(st, 1);
        out->private_repo_count = (int64_t)sqlite3_column_int64(st, 2);
        out->public_repo_count = (int64_t)sqlite3_column_int64(st, 3);
        out->total_storage_consumption = (int64_t)sqlite3_column_int64(st, 4);
        out->total_blob_count = (int64_t)sqlite3_column_int64(st, 5);
        out->total_project_count = out->private_project_count + out->public_project_count;
        out->total_repo_count = out->private_repo_count + out->public_repo_count;
        rc = 0;
    }
    (void)sqlite3_finalize(st); /* step errors were reported */
    sq_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

const struct meta_repo_ops sqlite_repo_ops = {
        .count = sq_repo_count,
        .list = sq_repo_list,
        .info_get = sq_repo_info_get,
        .set_description = sq_repo_set_description,
        .remove = sq_repo_delete,
        .stats_get = sq_stats_get,
};
