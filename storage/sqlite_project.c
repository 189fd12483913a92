/* sqlite_project.c - projects in SQLite: the one row reader, the one INSERT, lists, updates and
 * delete.
 *
 * Invariants:
 *   1. A project row is read by project_read only, from PROJECT_COLS, whether found by name, by
 *      id or in a list, so every caller sees the same fields (the repository count only in
 *      lists: see PROJECT_COLS).
 *   2. A project row is inserted by sq_project_insert only (meta_project_create and the
 *      `library` project of a new database); an existing name inserts nothing.
 *   3. A project is deleted only inside the transaction that found none of its repositories
 *      holding a manifest or a blob; the check and the delete cannot be split by a push
 *      (meta_blob_link and meta_manifest_put write in their own BEGIN IMMEDIATE).
 *   4. Deleting a project removes every permission naming it (robot_permissions.namespace) in
 *      the same transaction, so a project re-created under that name does not inherit grants.
 *      Members and project-level robots go by foreign-key cascade.
 *   5. Filters and sort keys reach SQL only as bound parameters; sort keys are checked against a
 *      fixed list first and selected by CASE expressions in static text.
 * Fetching by name is on the /v2/ authorization path: one cached, indexed SELECT, no
 * transaction. Thread-safe: every call borrows its own connection. */
#include "storage/sqlite_int.h"

#include <assert.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/* The columns project_read reads; REPO_COUNT is the repository count: a walk of the project's
 * repositories in lists, 0 in the getters (the /v2/ authorization path fetches a project per
 * request and must not pay for it; meta_repo_count asks on its own). */
#define PROJECT_COLS(REPO_COUNT)                                                                   \
    "SELECT p.id, p.name, p.public, p.created_at, COALESCE(p.owner_id, 0), COALESCE(u.name, ''),"  \
    " p.updated_at, " REPO_COUNT ", p.storage_limit"                                               \
    " FROM projects p LEFT JOIN users u ON u.id = p.owner_id"
#define PROJECT_REPO_COUNT                                                                         \
    "(SELECT COUNT(*) FROM repositories r WHERE r.project_id = p.id AND" REPO_HAS_CONTENT ")"
static const char SQL_PROJECT_BY_ID[] = PROJECT_COLS("0") " WHERE p.id = ?1";
static const char SQL_PROJECT_BY_NAME[] = PROJECT_COLS("0") " WHERE p.name = ?1";
#define PROJECT_WHERE                                                                              \
    " WHERE (?1 IS NULL OR CASE WHEN ?2 THEN instr(p.name, ?1) > 0 ELSE p.name = ?1 END)"          \
    " AND (?3 < 0 OR p.public = ?3)"                                                               \
    " AND (?4 OR (NOT ?6 AND p.public = 1) OR EXISTS (SELECT 1 FROM project_members pm"            \
    " WHERE pm.project_id = p.id AND pm.user_id = ?5) OR EXISTS (SELECT 1 FROM"                    \
    " robot_permissions rp WHERE ?8 > 0 AND rp.robot_id = ?8 AND rp.actions != 0"                  \
    " AND (rp.namespace = p.name OR rp.namespace = '*')))"
static const char SQL_PROJECT_COUNT[] = "SELECT COUNT(*) FROM projects p" PROJECT_WHERE;
static const char SQL_PROJECT_PAGE[] = PROJECT_COLS(PROJECT_REPO_COUNT) PROJECT_WHERE
        " ORDER BY"
        " CASE ?7 WHEN 'name' THEN p.name END ASC,"
        " CASE ?7 WHEN '-name' THEN p.name END DESC,"
        " CASE ?7 WHEN 'creation_time' THEN p.created_at END ASC,"
        " CASE ?7 WHEN '-creation_time' THEN p.created_at END DESC,"
        " CASE ?7 WHEN 'update_time' THEN p.updated_at END ASC,"
        " CASE ?7 WHEN '-update_time' THEN p.updated_at END DESC,"
        " CASE ?7 WHEN '-project_id' THEN p.id END DESC,"
        " p.id ASC LIMIT ?20 OFFSET ?21";
static const char SQL_PROJECT_INSERT[] =
        "INSERT INTO projects(name, public, owner_id, created_at, updated_at, storage_limit)"
        " VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT(name) DO NOTHING";
static const char SQL_PROJECT_UPDATE[] =
        "UPDATE projects SET public = CASE WHEN ?2 THEN ?3 ELSE public END,"
        " storage_limit = CASE WHEN ?4 THEN ?5 ELSE storage_limit END, updated_at = ?6"
        " WHERE id = ?1";
static const char SQL_PROJECT_NAME[] = "SELECT name FROM projects WHERE id = ?1";
static const char SQL_PROJECT_BUSY[] =
        "SELECT 1 FROM repositories r WHERE r.project_id = ?1 AND"
        " (EXISTS (SELECT 1 FROM manifests mf WHERE mf.repo_id = r.id) OR"
        " EXISTS (SELECT 1 FROM repo_blobs rb WHERE rb.repo_id = r.id)) LIMIT 1";
static const char SQL_PROJECT_PERMS_DELETE[] = "DELETE FROM robot_permissions WHERE namespace = ?1";
static const char SQL_PROJECT_DELETE[] = "DELETE FROM projects WHERE id = ?1";

static const char *const project_sort_keys[] = {"name", "creation_time", "update_time",
                                                "project_id", NULL};

static int project_read(struct sq_conn *c, sqlite3_stmt *st, void *row, struct berr *err)
{
    struct meta_project_info *p = row;

    memset(p, 0, sizeof(*p));
    p->p.id = (int64_t)sqlite3_column_int64(st, 0);
    p->p.public = sqlite3_column_int64(st, 2) != 0;
    p->p.created_at = (int64_t)sqlite3_column_int64(st, 3);
    p->owner_id = (int64_t)sqlite3_column_int64(st, 4);
    p->updated_at = (int64_t)sqlite3_column_int64(st, 6);
    p->repo_count = (int64_t)sqlite3_column_int64(st, 7);
    p->storage_limit = (int64_t)sqlite3_column_int64(st, 8);
    if (sq_col_text(c, st, 1, p->p.name, sizeof(p->p.name), err) < 0 ||
        sq_col_text(c, st, 5, p->owner_name, sizeof(p->owner_name), err) < 0)
        return -1;
    return 0;
}

static int sq_project_get(struct meta *m, int64_t id, const char *name,
                          struct meta_project_info *out, struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st;
    size_t len = name != NULL ? strlen(name) : 0;
    int rc;

    memset(out, 0, sizeof(*out));
    c = sq_conn_get(m);
    if (name != NULL) {
        rc = sq_stmt(&st, c, SQ_Q_PROJECT_GET, SQL_PROJECT_BY_NAME, err);
        if (rc == 0)
            rc = sq_bind_text(c, st, 1, name, len, err);
    } else {
        rc = sq_stmt(&st, c, SQ_Q_PROJECT_GET_ID, SQL_PROJECT_BY_ID, err);
        if (rc == 0)
            rc = sq_bind_i64(c, st, 1, id, err);
    }
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc == 1)
        rc = project_read(c, st, out, err);
    else if (rc == 0 && name != NULL)
        rc = berr_set(err, BERR_NAME_UNKNOWN, "project %s not found", name);
    else if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "project %lld not found", (long long)id);
    if (rc >= 0)
        (void)sqlite3_reset(st); /* the step succeeded; a failed one was reset by sq_step */
    sq_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

static int project_bind(struct sq_conn *c, sqlite3_stmt *st, const void *q, bool for_count,
                        struct berr *err)
{
    const struct meta_project_q *pq = q;
    int rc = sq_bind_name(c, st, 1, &pq->l, err);

    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, pq->public_only, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 4, pq->all ? 1 : 0, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 5, pq->viewer_user_id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 6, pq->member_only ? 1 : 0, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 8, pq->viewer_robot_id, err);
    if (rc == 0 && !for_count)
        rc = sq_bind_sort(c, st, 7, pq->l.sort, err);
    return rc;
}

static int sq_project_list(struct meta *m, const struct meta_project_q *q,
                           struct meta_project_info *out, size_t cap, size_t *n, int64_t *total,
                           struct berr *err)
{
    static const struct sq_list l = {SQL_PROJECT_COUNT,
                                     SQL_PROJECT_PAGE,
                                     project_bind,
                                     project_read,
                                     sizeof(struct meta_project_info),
                                     project_sort_keys};

    return sq_list_run(m, &l, q, &q->l, out, cap, n, total, err);
}

int sq_project_insert(struct sq_conn *c, const char *name, bool public, int64_t owner_id,
                      int64_t storage_limit, int64_t *id, struct berr *err)
{
    sqlite3_stmt *st;
    int rc;

    assert(c->in_tx);
    *id = 0;
    rc = sq_stmt(&st, c, SQ_Q_PROJECT_INSERT, SQL_PROJECT_INSERT, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 1, name, strlen(name), err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, public ? 1 : 0, err);
    if (rc == 0)
        rc = owner_id > 0 ? sq_bind_i64(c, st, 3, owner_id, err) : sq_bind_null(c, st, 3, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 4, now_s(), err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 5, storage_limit, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc < 0)
        return -1;
    if (sqlite3_changes(c->db) == 0)
        return 0;
    *id = (int64_t)sqlite3_last_insert_rowid(c->db);
    return 1;
}

static int sq_project_create(struct meta *m, const char *name, bool public, int64_t owner_id,
                             int64_t storage_limit, int64_t *id, struct berr *err)
{
    struct sq_conn *c;
    int64_t new_id = 0;
    int rc;

    if (id != NULL)
        *id = 0;
    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_project_insert(c, name, public, owner_id, storage_limit, &new_id, err);
    if (rc == 0)
        rc = berr_set(err, BERR_CONFLICT, "project %s already exists", name);
    rc = sq_write_end(c, rc < 0 ? -1 : 0, err);
    if (rc == 0 && id != NULL)
        *id = new_id;
    return rc;
}

static int sq_project_update(struct meta *m, int64_t id, bool set_public, bool public,
                             bool set_limit, int64_t storage_limit, struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_prepare(&st, c, SQL_PROJECT_UPDATE, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, set_public ? 1 : 0, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, public ? 1 : 0, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 4, set_limit ? 1 : 0, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 5, storage_limit, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 6, now_s(), err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "project %lld not found", (long long)id);
    (void)sqlite3_finalize(st); /* step errors were reported */
    rc = sq_write_end(c, rc, err);
    return rc;
}

/* project_delete_tx: the body of meta_project_delete inside its transaction */
static int project_delete_tx(struct sq_conn *c, int64_t id, struct berr *err)
{
    char name[REPO_NAME_MAX + 1];
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sq_prepare(&st, c, SQL_PROJECT_NAME, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, id, err);
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "project %lld not found", (long long)id);
    else if (rc == 1)
        rc = sq_col_text(c, st, 0, name, sizeof(name), err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    st = NULL;
    if (rc < 0)
        return -1;
    rc = sq_exists(c, SQL_PROJECT_BUSY, id, err);
    if (rc < 0)
        return -1;
    if (rc == 1)
        return berr_set(err, BERR_CONFLICT,
                        "project %s is not empty: delete its repositories first", name);
    rc = sq_prepare(&st, c, SQL_PROJECT_PERMS_DELETE, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 1, name, strlen(name), err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    st = NULL;
    if (rc < 0)
        return -1;
    rc = sq_prepare(&st, c, SQL_PROJECT_DELETE, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, id, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    return rc;
}

static int sq_project_delete(struct meta *m, int64_t id, struct berr *err)
{
    struct sq_conn *c;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc == 0)
        rc = sq_write_end(c, project_delete_tx(c, id, err), err);
    return rc;
}

const struct meta_project_ops sqlite_project_ops = {
        .get = sq_project_get,
        .list = sq_project_list,
        .create = sq_project_create,
        .update = sq_project_update,
        .remove = sq_project_delete,
};
