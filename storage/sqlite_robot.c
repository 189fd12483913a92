/* sqlite_robot.c - robot accounts and their permissions in SQLite.
 *
 * Invariants:
 *   1. A robot and its permission rows are written in one transaction: a robot never exists
 *      with half of its permissions. Replacing the permissions deletes and inserts in one
 *      transaction too.
 *   2. A robot row is read by robot_read only, whether fetched by name or by id or listed.
 *   3. Only the secret's hash is stored; this file never sees a secret.
 * sq_robot_get and sq_robot_actions are on the /v2/ authorization path: one indexed SELECT
 * each, no transaction. Thread-safe: every call borrows its own connection. */
#include "storage/sqlite_int.h"

#include <string.h>

#include "common/log.h"
#include "common/util.h"

static const char SQL_PROJECT_EXISTS[] = "SELECT 1 FROM projects WHERE id = ?1";

#define ROBOT_COLS                                                                                 \
    "SELECT id, name, secret_hash, COALESCE(project_id, 0), disabled, expires_at, created_at,"     \
    " duration_days, description, updated_at FROM robots"
static const char SQL_ROBOT_BY_NAME[] = ROBOT_COLS " WHERE name = ?1";
static const char SQL_ROBOT_BY_ID[] = ROBOT_COLS " WHERE id = ?1";
static const char SQL_ROBOT_ACTIONS[] =
        "SELECT actions FROM robot_permissions WHERE robot_id = ?1 AND namespace IN (?2, '*')";
static const char SQL_ROBOT_INSERT[] =
        "INSERT INTO robots(name, description, secret_hash, project_id, disabled, duration_days,"
        " expires_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"
        " ON CONFLICT(name) DO NOTHING";
static const char SQL_PERM_INSERT[] =
        "INSERT INTO robot_permissions(robot_id, namespace, actions) VALUES (?1, ?2, ?3)"
        " ON CONFLICT(robot_id, namespace) DO UPDATE SET actions = actions | excluded.actions";
static const char SQL_PERM_CLEAR[] = "DELETE FROM robot_permissions WHERE robot_id = ?1";
static const char SQL_PERMS[] =
        "SELECT namespace, actions FROM robot_permissions WHERE robot_id = ?1 ORDER BY namespace";
static const char SQL_ROBOT_UPDATE[] =
        "UPDATE robots SET description = ?2, disabled = ?3, duration_days = ?4, expires_at = ?5,"
        " updated_at = ?6 WHERE id = ?1";
static const char SQL_ROBOT_SECRET[] =
        "UPDATE robots SET secret_hash = ?2, updated_at = ?3 WHERE id = ?1";
static const char SQL_ROBOT_DELETE[] = "DELETE FROM robots WHERE id = ?1";
#define ROBOT_WHERE                                                                                \
    " WHERE (?1 IS NULL OR CASE WHEN ?2 THEN instr(name, ?1) > 0 ELSE name = ?1 END) AND"          \
    " CASE WHEN ?3 > 0 THEN project_id = ?3 WHEN ?3 < 0 THEN project_id IS NULL ELSE 1 END"
static const char SQL_ROBOT_COUNT[] = "SELECT COUNT(*) FROM robots" ROBOT_WHERE;
static const char SQL_ROBOT_PAGE[] =
        ROBOT_COLS ROBOT_WHERE " ORDER BY"
                               " CASE ?4 WHEN 'name' THEN name END ASC,"
                               " CASE ?4 WHEN '-name' THEN name END DESC,"
                               " CASE ?4 WHEN 'creation_time' THEN created_at END ASC,"
                               " CASE ?4 WHEN '-creation_time' THEN created_at END DESC,"
                               " CASE ?4 WHEN '-id' THEN id END DESC,"
                               " id ASC LIMIT ?20 OFFSET ?21";

static const char *const robot_sort_keys[] = {"name", "creation_time", "id", NULL};

static int robot_read(struct sq_conn *c, sqlite3_stmt *st, void *row, struct berr *err)
{
    struct meta_robot *r = row;

    memset(r, 0, sizeof(*r));
    r->id = (int64_t)sqlite3_column_int64(st, 0);
    r->project_id = (int64_t)sqlite3_column_int64(st, 3);
    r->disabled = sqlite3_column_int64(st, 4) != 0;
    r->expires_at = (int64_t)sqlite3_column_int64(st, 5);
    r->created_at = (int64_t)sqlite3_column_int64(st, 6);
    r->duration_days = (int64_t)sqlite3_column_int64(st, 7);
    r->updated_at = (int64_t)sqlite3_column_int64(st, 9);
    if (sq_col_text(c, st, 1, r->name, sizeof(r->name), err) < 0 ||
        sq_col_text(c, st, 2, r->secret_hash, sizeof(r->secret_hash), err) < 0 ||
        sq_col_text(c, st, 8, r->description, sizeof(r->description), err) < 0)
        return -1;
    return 0;
}

static int sq_robot_get(struct meta *m, int64_t id, const char *name, struct meta_robot *out,
                        struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    c = sq_conn_get(m);
    rc = sq_prepare(&st, c, name != NULL ? SQL_ROBOT_BY_NAME : SQL_ROBOT_BY_ID, err);
    if (rc == 0)
        rc = name != NULL ? sq_bind_text(c, st, 1, name, strlen(name), err)
                          : sq_bind_i64(c, st, 1, id, err);
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "robot account not found");
    else if (rc == 1)
        rc = robot_read(c, st, out, err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    sq_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

static int sq_robot_actions(struct meta *m, int64_t robot_id, const char *project,
                            unsigned *actions, struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int64_t v;
    int rc;

    *actions = 0;
    c = sq_conn_get(m);
    rc = sq_prepare(&st, c, SQL_ROBOT_ACTIONS, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, robot_id, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 2, project, strlen(project), err);
    while (rc == 0) {
        rc = sq_step(c, st, err);
        if (rc <= 0)
            break;
        v = (int64_t)sqlite3_column_int64(st, 0);
        *actions |= (unsigned)v & META_ACT_ALL;
        rc = 0;
    }
    (void)sqlite3_finalize(st); /* step errors were reported */
    sq_conn_put(c);
    if (rc < 0)
        *actions = 0;
    return rc < 0 ? -1 : 0;
}

/* perms_write (in a transaction) replaces the permissions of robot id */
static int perms_write(struct sq_conn *c, int64_t id, const struct meta_robot_perm *perms,
                       size_t nperms, struct berr *err)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc;

    rc = sq_prepare(&st, c, SQL_PERM_CLEAR, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, id, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    st = NULL;
    if (rc < 0)
        return -1;
    rc = sq_prepare(&st, c, SQL_PERM_INSERT, err);
    for (i = 0; rc == 0 && i < nperms; i++) {
        (void)sqlite3_reset(st);          /* the previous step succeeded */
        (void)sqlite3_clear_bindings(st); /* always SQLITE_OK */
        rc = sq_bind_i64(c, st, 1, id, err);
        if (rc == 0)
            rc = sq_bind_text(c, st, 2, perms[i].ns, strlen(perms[i].ns), err);
        if (rc == 0)
            rc = sq_bind_i64(c, st, 3, (int64_t)(perms[i].actions & META_ACT_ALL), err);
        if (rc == 0)
            rc = sq_exec(c, st, err);
    }
    (void)sqlite3_finalize(st); /* step errors were reported */
    return rc;
}

static int robot_create_tx(struct sq_conn *c, const struct meta_robot *r,
                           const struct meta_robot_perm *perms, size_t nperms, int64_t *id,
                           struct berr *err)
{
    sqlite3_stmt *st = NULL;
    int64_t rid = 0;
    int rc;

    if (r->project_id > 0) {
        rc = sq_exists(c, SQL_PROJECT_EXISTS, r->project_id, err);
        if (rc == 0)
            return berr_set(err, BERR_NOT_FOUND, "project %lld not found",
                            (long long)r->project_id);
        if (rc < 0)
            return -1;
    }
    rc = sq_prepare(&st, c, SQL_ROBOT_INSERT, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 1, r->name, strlen(r->name), err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 2, r->description, strlen(r->description), err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 3, r->secret_hash, strlen(r->secret_hash), err);
    if (rc == 0)
        rc = r->project_id > 0 ? sq_bind_i64(c, st, 4, r->project_id, err)
                               : sq_bind_null(c, st, 4, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 5, r->disabled ? 1 : 0, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 6, r->duration_days, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 7, r->expires_at, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 8, now_s(), err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_CONFLICT, "robot account %s already exists", r->name);
    if (rc == 0)
        rid = (int64_t)sqlite3_last_insert_rowid(c->db);
    (void)sqlite3_finalize(st); /* step errors were reported */
    if (rc == 0)
        rc = perms_write(c, rid, perms, nperms, err);
    if (rc == 0 && id != NULL)
        *id = rid;
    return rc;
}

static int sq_robot_create(struct meta *m, const struct meta_robot *r,
                           const struct meta_robot_perm *perms, size_t nperms, int64_t *id,
                           struct berr *err)
{
    struct sq_conn *c;
    int rc;

    if (id != NULL)
        *id = 0;
    rc = sq_write_begin(&c, m, err);
    if (rc == 0)
        rc = sq_write_end(c, robot_create_tx(c, r, perms, nperms, id, err), err);
    if (rc < 0 && id != NULL)
        *id = 0;
    return rc;
}

static int sq_robot_perms(struct meta *m, int64_t id, struct meta_robot_perm *out, size_t cap,
                          size_t *n, struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st = NULL;
    int rc;

    *n = 0;
    rc = sq_prepare(&st, c, SQL_PERMS, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, id, err);
    while (rc == 0 && *n < cap) {
        rc = sq_step(c, st, err);
        if (rc <= 0)
            break;
        rc = sq_col_text(c, st, 0, out[*n].ns, sizeof(out[*n].ns), err);
        if (rc == 0) {
            out[*n].actions = (unsigned)sqlite3_column_int64(st, 1) & META_ACT_ALL;
            (*n)++;
        }
    }
    (void)sqlite3_finalize(st); /* step errors were reported */
    sq_conn_put(c);
    if (rc < 0) {
        *n = 0;
        return -1;
    }
    return 0;
}

static int robot_update_tx(struct sq_conn *c, int64_t id, const struct meta_robot *r,
                           const struct meta_robot_perm *perms, size_t nperms, struct berr *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sq_prepare(&st, c, SQL_ROBOT_UPDATE, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, id, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 2, r->description, strlen(r->description), err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, r->disabled ? 1 : 0, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 4, r->duration_days, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 5, r->expires_at, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 6, now_s(), err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "robot account not found");
    (void)sqlite3_finalize(st); /* step errors were reported */
    if (rc == 0 && perms != NULL)
        rc = perms_write(c, id, perms, nperms, err);
    return rc;
}

static int sq_robot_update(struct meta *m, int64_t id, const struct meta_robot *r,
                           const struct meta_robot_perm *perms, size_t nperms, struct berr *err)
{
    struct sq_conn *c;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc == 0)
        rc = sq_write_end(c, robot_update_tx(c, id, r, perms, nperms, err), err);
    return rc;
}

/* robot_write runs SET_SECRET (hash != NULL) or DELETE in a transaction */
static int robot_write(struct meta *m, int64_t id, const char *hash, struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_prepare(&st, c, hash != NULL ? SQL_ROBOT_SECRET : SQL_ROBOT_DELETE, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, id, err);
    if (rc == 0 && hash != NULL)
        rc = sq_bind_text(c, st, 2, hash, strlen(hash), err);
    if (rc == 0 && hash != NULL)
        rc = sq_bind_i64(c, st, 3, now_s(), err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "robot account not found");
    (void)sqlite3_finalize(st); /* step errors were reported */
    rc = sq_write_end(c, rc, err);
    return rc;
}

static int sq_robot_set_secret(struct meta *m, int64_t id, const char *secret_hash,
                               struct berr *err)
{
    return robot_write(m, id, secret_hash, err);
}

static int sq_robot_delete(struct meta *m, int64_t id, struct berr *err)
{
    return robot_write(m, id, NULL, err);
}

struct robot_q {
    const struct meta_list_q *l;
    int64_t project_id;
};

static int robot_bind(struct sq_conn *c, sqlite3_stmt *st, const void *q, bool for_count,
                      struct berr *err)
{
    const struct robot_q *rq = q;
    int rc = sq_bind_name(c, st, 1, rq->l, err);

    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, rq->project_id, err);
    if (rc == 0 && !for_count)
        rc = sq_bind_sort(c, st, 4, rq->l->sort, err);
    return rc;
}

static int sq_robot_list(struct meta *m, const struct meta_list_q *q, int64_t project_id,
                         struct meta_robot *out, size_t cap, size_t *n, int64_t *total,
                         struct berr *err)
{
    static const struct sq_list l = {
            SQL_ROBOT_COUNT,           SQL_ROBOT_PAGE, robot_bind, robot_read,
            sizeof(struct meta_robot), robot_sort_keys};
    struct robot_q rq = {q, project_id};

    return sq_list_run(m, &l, &rq, q, out, cap, n, total, err);
}

const struct meta_robot_ops sqlite_robot_ops = {
        .get = sq_robot_get,
        .actions = sq_robot_actions,
        .create = sq_robot_create,
        .perms = sq_robot_perms,
        .update = sq_robot_update,
        .set_secret = sq_robot_set_secret,
        .remove = sq_robot_delete,
        .list = sq_robot_list,
};
