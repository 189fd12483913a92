/* pg_project.c - projects in PostgreSQL: the one row reader, the one INSERT, the quota lock,
 * lists, updates and delete.
 *
 * Invariants (as sqlite_project.c's, with PostgreSQL's locking for the third):
 *   1. A project row is read by project_read only, from PROJECT_COLS, whether found by name, by
 *      id or in a list (the repository count only in lists).
 *   2. A project row is inserted by pg_project_insert only (meta_project_create and the
 *      `library` project of a new database): INSERT ... ON CONFLICT DO NOTHING RETURNING id,
 *      so two replicas creating one name get one row and one BERR_CONFLICT.
 *   3. A project is deleted only inside the transaction that locked its row and its
 *      repositories FOR UPDATE and then found none of them holding a manifest or a blob. A push
 *      inserts its rows under FOR KEY SHARE of the repository (foreign key or pg_repo_ensure),
 *      which the FOR UPDATE excludes: the push either committed before the check (which then
 *      sees it: READ COMMITTED reads what committed before each statement) or waits and finds
 *      the repository gone.
 *   4. Deleting a project removes every permission naming it in the same transaction.
 *   5. Filters and sort keys reach SQL only as parameters; sort keys are checked against a
 *      fixed list first and selected by CASE expressions in static text.
 * Fetching by name is on the /v2/ authorization path: one cached, indexed SELECT, no
 * transaction. Thread-safe: every call borrows its own connection. */
#include "storage/pg_int.h"

#include <assert.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define PROJECT_COLS(REPO_COUNT)                                                                   \
    "SELECT p.id, p.name, p.public, p.created_at, COALESCE(p.owner_id, 0), COALESCE(u.name, ''),"  \
    " p.updated_at, " REPO_COUNT ", p.storage_limit"                                               \
    " FROM projects p LEFT JOIN users u ON u.id = p.owner_id"
#define PROJECT_REPO_COUNT                                                                         \
    "(SELECT COUNT(*) FROM repositories r WHERE r.project_id = p.id AND" PG_REPO_HAS_CONTENT ")"
static const char SQL_PROJECT_BY_ID[] = PROJECT_COLS("0") " WHERE p.id = $1";
static const char SQL_PROJECT_BY_NAME[] = PROJECT_COLS("0") " WHERE p.name = $1";
/* $1 name, $2 fuzzy, $3 public_only, $4 all, $5 viewer user, $6 member_only, $7 viewer robot */
#define PROJECT_WHERE                                                                              \
    " WHERE ($1::text IS NULL OR CASE WHEN $2::boolean THEN strpos(p.name, $1::text) > 0"          \
    " ELSE p.name = $1::text END)"                                                                 \
    " AND ($3::bigint < 0 OR p.public = ($3::bigint = 1))"                                         \
    " AND ($4::boolean OR (NOT $6::boolean AND p.public) OR EXISTS (SELECT 1 FROM"                 \
    " project_members pm WHERE pm.project_id = p.id AND pm.user_id = $5::bigint) OR EXISTS"        \
    " (SELECT 1 FROM robot_permissions rp WHERE $7::bigint > 0 AND rp.robot_id = $7::bigint"       \
    " AND rp.actions != 0 AND (rp.namespace = p.name OR rp.namespace = '*')))"
static const char SQL_PROJECT_COUNT[] = "SELECT COUNT(*) FROM projects p" PROJECT_WHERE;
/* $8 sort, $9 limit, $10 offset */
static const char SQL_PROJECT_PAGE[] = PROJECT_COLS(PROJECT_REPO_COUNT) PROJECT_WHERE
        " ORDER BY"
        " CASE $8::text WHEN 'name' THEN p.name END ASC,"
        " CASE $8::text WHEN '-name' THEN p.name END DESC,"
        " CASE $8::text WHEN 'creation_time' THEN p.created_at END ASC,"
        " CASE $8::text WHEN '-creation_time' THEN p.created_at END DESC,"
        " CASE $8::text WHEN 'update_time' THEN p.updated_at END ASC,"
        " CASE $8::text WHEN '-update_time' THEN p.updated_at END DESC,"
        " CASE $8::text WHEN '-project_id' THEN p.id END DESC,"
        " p.id ASC LIMIT $9 OFFSET $10";
static const char SQL_PROJECT_INSERT[] =
        "INSERT INTO projects(name, public, owner_id, created_at, updated_at, storage_limit)"
        " VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING id";
static const char SQL_PROJECT_LOCK[] =
        "SELECT storage_limit FROM projects WHERE id = $1 FOR NO KEY UPDATE";
static const char SQL_PROJECT_UPDATE[] =
        "UPDATE projects SET public = CASE WHEN $2::boolean THEN $3::boolean ELSE public END,"
        " storage_limit = CASE WHEN $4::boolean THEN $5::bigint ELSE storage_limit END,"
        " updated_at = $6 WHERE id = $1";
static const char SQL_PROJECT_NAME_LOCK[] = "SELECT name FROM projects WHERE id = $1 FOR UPDATE";
static const char SQL_PROJECT_REPOS_LOCK[] =
        "SELECT id FROM repositories WHERE project_id = $1 ORDER BY id FOR UPDATE";
static const char SQL_PROJECT_BUSY[] =
        "SELECT 1 FROM repositories r WHERE r.project_id = $1 AND"
        " (EXISTS (SELECT 1 FROM manifests mf WHERE mf.repo_id = r.id) OR"
        " EXISTS (SELECT 1 FROM repo_blobs rb WHERE rb.repo_id = r.id)) LIMIT 1";
static const char SQL_PROJECT_PERMS_DELETE[] = "DELETE FROM robot_permissions WHERE namespace = $1";
static const char SQL_PROJECT_DELETE[] = "DELETE FROM projects WHERE id = $1";

static const char *const project_sort_keys[] = {"name", "creation_time", "update_time",
                                                "project_id", NULL};

static int project_read(const PGresult *r, int row, void *out, struct berr *err)
{
    struct meta_project_info *p = out;

    memset(p, 0, sizeof(*p));
    p->p.id = pg_i64(r, row, 0);
    p->p.public = pg_bool(r, row, 2);
    p->p.created_at = pg_i64(r, row, 3);
    p->owner_id = pg_i64(r, row, 4);
    p->updated_at = pg_i64(r, row, 6);
    p->repo_count = pg_i64(r, row, 7);
    p->storage_limit = pg_i64(r, row, 8);
    if (pg_text(r, row, 1, p->p.name, sizeof(p->p.name), err) < 0 ||
        pg_text(r, row, 5, p->owner_name, sizeof(p->owner_name), err) < 0)
        return -1;
    return 0;
}

static int pg_project_get(struct meta *m, int64_t id, const char *name,
                          struct meta_project_info *out, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    pg_params_init(&p);
    c = pg_conn_get(m);
    if (name != NULL) {
        pg_p_text(&p, name);
        rc = pg_run(&r, c, PG_Q_PROJECT_GET, SQL_PROJECT_BY_NAME, &p, err);
    } else {
        pg_p_i64(&p, id);
        rc = pg_run(&r, c, PG_Q_PROJECT_GET_ID, SQL_PROJECT_BY_ID, &p, err);
    }
    pg_conn_put(c);
    if (rc > 0)
        rc = project_read(r, 0, out, err);
    else if (rc == 0 && name != NULL)
        rc = berr_set(err, BERR_NAME_UNKNOWN, "project %s not found", name);
    else if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "project %lld not found", (long long)id);
    pg_res_free(r);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

static int project_bind(struct pg_params *p, const void *q, bool for_count, struct berr *err)
{
    const struct meta_project_q *pq = q;

    (void)err;
    pg_p_name(p, &pq->l);
    pg_p_i64(p, pq->public_only);
    pg_p_bool(p, pq->all);
    pg_p_i64(p, pq->viewer_user_id);
    pg_p_bool(p, pq->member_only);
    pg_p_i64(p, pq->viewer_robot_id);
    if (!for_count)
        pg_p_sort(p, pq->l.sort);
    return 0;
}

static int pg_project_list(struct meta *m, const struct meta_project_q *q,
                           struct meta_project_info *out, size_t cap, size_t *n, int64_t *total,
                           struct berr *err)
{
    static const struct pg_list l = {SQL_PROJECT_COUNT,
                                     SQL_PROJECT_PAGE,
                                     project_bind,
                                     project_read,
                                     sizeof(struct meta_project_info),
                                     project_sort_keys};

    return pg_list_run(m, &l, q, &q->l, out, cap, n, total, err);
}

int pg_project_insert(struct pg_conn *c, const char *name, bool public, int64_t owner_id,
                      int64_t storage_limit, int64_t *id, struct berr *err)
{
    struct pg_params p;
    int64_t v = 0;
    int rc;

    assert(c->in_tx);
    *id = 0;
    pg_params_init(&p);
    pg_p_text(&p, name);
    pg_p_bool(&p, public);
    if (owner_id > 0)
        pg_p_i64(&p, owner_id);
    else
        pg_p_null(&p);
    pg_p_i64(&p, now_s());
    pg_p_i64(&p, storage_limit);
    rc = pg_run_i64(c, PG_Q_PROJECT_INSERT, SQL_PROJECT_INSERT, &p, &v, err);
    if (rc <= 0)
        return rc;
    *id = v;
    return 1;
}

int pg_project_lock(struct pg_conn *c, int64_t project_id, int64_t *limit, struct berr *err)
{
    struct pg_params p;
    int64_t v = 0;
    int rc;

    assert(c->in_tx);
    pg_params_init(&p);
    pg_p_i64(&p, project_id);
    rc = pg_run_i64(c, PG_Q_PROJECT_LOCK, SQL_PROJECT_LOCK, &p, &v, err);
    if (limit != NULL)
        *limit = rc == 1 ? v : 0;
    return rc;
}

static int pg_project_create(struct meta *m, const char *name, bool public, int64_t owner_id,
                             int64_t storage_limit, int64_t *id, struct berr *err)
{
    struct pg_conn *c;
    int64_t new_id = 0;
    int rc;

    if (id != NULL)
        *id = 0;
    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = pg_project_insert(c, name, public, owner_id, storage_limit, &new_id, err);
    if (rc == 0)
        rc = berr_set(err, BERR_CONFLICT, "project %s already exists", name);
    rc = pg_write_end(c, rc < 0 ? -1 : 0, err);
    if (rc == 0 && id != NULL)
        *id = new_id;
    return rc;
}

static int pg_project_update(struct meta *m, int64_t id, bool set_public, bool public,
                             bool set_limit, int64_t storage_limit, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int rc;

    pg_params_init(&p);
    pg_p_i64(&p, id);
    pg_p_bool(&p, set_public);
    pg_p_bool(&p, public);
    pg_p_bool(&p, set_limit);
    pg_p_i64(&p, storage_limit);
    pg_p_i64(&p, now_s());
    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = pg_run(NULL, c, PG_Q_NONE, SQL_PROJECT_UPDATE, &p, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "project %lld not found", (long long)id);
    return pg_write_end(c, rc < 0 ? -1 : 0, err);
}

/* project_delete_tx: the body of meta_project_delete inside its transaction (invariant 3) */
static int project_delete_tx(struct pg_conn *c, int64_t id, struct berr *err)
{
    char name[REPO_NAME_MAX + 1];
    struct pg_params p;
    PGresult *r = NULL;
    int rc;

    pg_params_init(&p);
    pg_p_i64(&p, id);
    rc = pg_run(&r, c, PG_Q_NONE, SQL_PROJECT_NAME_LOCK, &p, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "project %lld not found", (long long)id);
    else if (rc > 0)
        rc = pg_text(r, 0, 0, name, sizeof(name), err);
    pg_res_free(r);
    if (rc < 0)
        return -1;
    if (pg_run(NULL, c, PG_Q_NONE, SQL_PROJECT_REPOS_LOCK, &p, err) < 0)
        return -1;
    rc = pg_run(NULL, c, PG_Q_NONE, SQL_PROJECT_BUSY, &p, err);
    if (rc < 0)
        return -1;
    if (rc > 0)
        return berr_set(err, BERR_CONFLICT,
                        "project %s is not empty: delete its repositories first", name);
    pg_params_init(&p);
    pg_p_text(&p, name);
    if (pg_run(NULL, c, PG_Q_NONE, SQL_PROJECT_PERMS_DELETE, &p, err) < 0)
        return -1;
    pg_params_init(&p);
    pg_p_i64(&p, id);
    return pg_run(NULL, c, PG_Q_NONE, SQL_PROJECT_DELETE, &p, err) < 0 ? -1 : 0;
}

static int project_delete_fn(struct pg_conn *c, void *ctx, struct berr *err)
{
    return project_delete_tx(c, *(const int64_t *)ctx, err);
}

static int pg_project_delete(struct meta *m, int64_t id, struct berr *err)
{
    /* a push may hold a repository row the delete waits for: deadlocks are retried */
    return pg_tx_run(m, project_delete_fn, &id, err);
}

const struct meta_project_ops pg_project_ops = {
        .get = pg_project_get,
        .list = pg_project_list,
        .create = pg_project_create,
        .update = pg_project_update,
        .remove = pg_project_delete,
};
