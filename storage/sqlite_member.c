/* sqlite_member.c - project members in SQLite: Harbor's five roles per (project, user).
 *
 * Invariants:
 *   1. A (project, user) pair has at most one member row (UNIQUE), with a role in 1..5 (CHECK
 *      and checked by meta_member.c first, so a bad role is BERR_BAD_REQUEST, not a constraint
 *      failure).
 *   2. A member is addressed by (project id, member id): a member id of another project is
 *      BERR_NOT_FOUND, never touched.
 *   3. Adding a member checks in the same transaction that the project and the user exist.
 * sq_member_role is on the /v2/ authorization path: one indexed SELECT, no transaction.
 * Thread-safe: every call borrows its own connection. */
#include "storage/sqlite_int.h"

#include <string.h>

#include "common/log.h"
#include "common/util.h"

static const char SQL_MEMBER_ROLE[] =
        "SELECT role FROM project_members WHERE project_id = ?1 AND user_id = ?2";
static const char SQL_PROJECT_EXISTS[] = "SELECT 1 FROM projects WHERE id = ?1";
static const char SQL_USER_EXISTS[] = "SELECT 1 FROM users WHERE id = ?1";
static const char SQL_MEMBER_INSERT[] =
        "INSERT INTO project_members(project_id, user_id, role, created_at, updated_at)"
        " VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT(project_id, user_id) DO NOTHING";
#define MEMBER_COLS                                                                                \
    "SELECT pm.id, pm.project_id, pm.user_id, u.name, pm.role, pm.created_at, pm.updated_at"       \
    " FROM project_members pm JOIN users u ON u.id = pm.user_id"
static const char SQL_MEMBER_GET[] = MEMBER_COLS " WHERE pm.project_id = ?1 AND pm.id = ?2";
static const char SQL_MEMBER_SET_ROLE[] =
        "UPDATE project_members SET role = ?3, updated_at = ?4 WHERE project_id = ?1 AND id = ?2";
static const char SQL_MEMBER_DELETE[] =
        "DELETE FROM project_members WHERE project_id = ?1 AND id = ?2";
#define MEMBER_WHERE                                                                               \
    " WHERE pm.project_id = ?3 AND"                                                                \
    " (?1 IS NULL OR CASE WHEN ?2 THEN instr(u.name, ?1) > 0 ELSE u.name = ?1 END)"
static const char SQL_MEMBER_COUNT[] =
        "SELECT COUNT(*) FROM project_members pm JOIN users u ON u.id = pm.user_id" MEMBER_WHERE;
static const char SQL_MEMBER_PAGE[] =
        MEMBER_COLS MEMBER_WHERE " ORDER BY pm.id LIMIT ?20 OFFSET ?21";

static int sq_member_role(struct meta *m, int64_t project_id, int64_t user_id, int *role,
                          struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st = NULL;
    int64_t v = 0;
    int rc;

    *role = 0;
    rc = sq_prepare(&st, c, SQL_MEMBER_ROLE, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, project_id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, user_id, err);
    if (rc == 0)
        rc = sq_step_i64(c, st, &v, err);
    if (rc == 1) {
        *role = meta_role_ok(v) ? (int)v : 0;
        rc = 0;
    }
    (void)sqlite3_finalize(st); /* step errors were reported */
    sq_conn_put(c);
    return rc;
}

static int member_read(struct sq_conn *c, sqlite3_stmt *st, void *row, struct berr *err)
{
    struct meta_member *mb = row;

    memset(mb, 0, sizeof(*mb));
    mb->id = (int64_t)sqlite3_column_int64(st, 0);
    mb->project_id = (int64_t)sqlite3_column_int64(st, 1);
    mb->user_id = (int64_t)sqlite3_column_int64(st, 2);
    mb->role = (int)sqlite3_column_int64(st, 4);
    mb->created_at = (int64_t)sqlite3_column_int64(st, 5);
    mb->updated_at = (int64_t)sqlite3_column_int64(st, 6);
    return sq_col_text(c, st, 3, mb->user_name, sizeof(mb->user_name), err);
}

static int member_add_tx(struct sq_conn *c, int64_t project_id, int64_t user_id, int role,
                         int64_t *id, struct berr *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sq_exists(c, SQL_PROJECT_EXISTS, project_id, err);
    if (rc == 0)
        return berr_set(err, BERR_NOT_FOUND, "project %lld not found", (long long)project_id);
    if (rc < 0)
        return -1;
    rc = sq_exists(c, SQL_USER_EXISTS, user_id, err);
    if (rc == 0)
        return berr_set(err, BERR_NOT_FOUND, "user %lld not found", (long long)user_id);
    if (rc < 0)
        return -1;
    rc = sq_prepare(&st, c, SQL_MEMBER_INSERT, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, project_id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, user_id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, role, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 4, now_s(), err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_CONFLICT, "the user is already a member of the project");
    if (rc == 0 && id != NULL)
        *id = (int64_t)sqlite3_last_insert_rowid(c->db);
    (void)sqlite3_finalize(st); /* step errors were reported */
    return rc;
}

static int sq_member_add(struct meta *m, int64_t project_id, int64_t user_id, int role, int64_t *id,
                         struct berr *err)
{
    struct sq_conn *c;
    int rc;

    if (id != NULL)
        *id = 0;
    rc = sq_write_begin(&c, m, err);
    if (rc == 0)
        rc = sq_write_end(c, member_add_tx(c, project_id, user_id, role, id, err), err);
    if (rc < 0 && id != NULL)
        *id = 0;
    return rc;
}

static int sq_member_get(struct meta *m, int64_t project_id, int64_t member_id,
                         struct meta_member *out, struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = sq_prepare(&st, c, SQL_MEMBER_GET, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, project_id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, member_id, err);
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "member %lld not found", (long long)member_id);
    else if (rc == 1)
        rc = member_read(c, st, out, err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    sq_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

/* member_write runs SET_ROLE (role > 0) or DELETE (role == 0) in a transaction */
static int member_write(struct meta *m, int64_t project_id, int64_t member_id, int role,
                        struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_prepare(&st, c, role > 0 ? SQL_MEMBER_SET_ROLE : SQL_MEMBER_DELETE, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, project_id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, member_id, err);
    if (rc == 0 && role > 0)
        rc = sq_bind_i64(c, st, 3, role, err);
    if (rc == 0 && role > 0)
        rc = sq_bind_i64(c, st, 4, now_s(), err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "member %lld not found", (long long)member_id);
    (void)sqlite3_finalize(st); /* step errors were reported */
    rc = sq_write_end(c, rc, err);
    return rc;
}

static int sq_member_set_role(struct meta *m, int64_t project_id, int64_t member_id, int role,
                              struct berr *err)
{
    return member_write(m, project_id, member_id, role, err);
}

static int sq_member_delete(struct meta *m, int64_t project_id, int64_t member_id, struct berr *err)
{
    return member_write(m, project_id, member_id, 0, err);
}

struct member_q {
    const struct meta_list_q *l;
    int64_t project_id;
};

static int member_bind(struct sq_conn *c, sqlite3_stmt *st, const void *q, bool for_count,
                       struct berr *err)
{
    const struct member_q *mq = q;
    int rc = sq_bind_name(c, st, 1, mq->l, err);

    (void)for_count; /* both queries take the same parameters */
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, mq->project_id, err);
    return rc;
}

static int sq_member_list(struct meta *m, int64_t project_id, const struct meta_list_q *q,
                          struct meta_member *out, size_t cap, size_t *n, int64_t *total,
                          struct berr *err)
{
    static const struct sq_list l = {.count_sql = SQL_MEMBER_COUNT,
                                     .page_sql = SQL_MEMBER_PAGE,
                                     .bind = member_bind,
                                     .read = member_read,
                                     .elem = sizeof(struct meta_member)};
    struct member_q mq = {q, project_id};

    return sq_list_run(m, &l, &mq, q, out, cap, n, total, err);
}

const struct meta_member_ops sqlite_member_ops = {
        .role = sq_member_role,
        .add = sq_member_add,
        .get = sq_member_get,
        .set_role = sq_member_set_role,
        .remove = sq_member_delete,
        .list = sq_member_list,
};
