/* sqlite_audit.c - the audit log's table in SQLite: a batch of events written in one
 * transaction, the filtered list and the purge.
 *
 * Invariants:
 *   1. A batch is inserted in one BEGIN IMMEDIATE transaction: all of its events or none, in
 *      the order given, so ids follow the order events were recorded (audit.c invariant 2).
 *   2. An event names its project by name; the id is looked up in the INSERT itself, so an
 *      event of a project deleted meanwhile is stored with no project.
 * All SQL is static with bound parameters; statements are prepared per call and finalized
 * before the connection is given back. Thread-safe: every call borrows its own connection. */
#include "storage/sqlite_int.h"

#include <string.h>

#include "storage/audit.h"

static const char SQL_INSERT[] =
        "INSERT INTO audit_log(op_time, username, operation, resource_type, resource,"
        " project_id, client, result)"
        " VALUES (?1, ?2, ?3, ?4, ?5, (SELECT id FROM projects WHERE name = ?6), ?7, ?8)";
/* ?1 username, ?2 fuzzy; ?3/?4 operation; ?5/?6 resource_type; ?7/?8 resource; ?9 from, ?10 to,
 * ?11 project_id */
#define AUDIT_WHERE                                                                                \
    " WHERE (?1 IS NULL OR (CASE WHEN ?2 THEN instr(username, ?1) > 0 ELSE username = ?1 END))"    \
    " AND (?3 IS NULL OR (CASE WHEN ?4 THEN instr(operation, ?3) > 0 ELSE operation = ?3 END))"    \
    " AND (?5 IS NULL OR (CASE WHEN ?6 THEN instr(resource_type, ?5) > 0"                          \
    " ELSE resource_type = ?5 END))"                                                               \
    " AND (?7 IS NULL OR (CASE WHEN ?8 THEN instr(resource, ?7) > 0 ELSE resource = ?7 END))"      \
    " AND (?9 = 0 OR op_time >= ?9) AND (?10 = 0 OR op_time <= ?10)"                               \
    " AND (?11 = 0 OR project_id = ?11)"
#define AUDIT_COLS                                                                                 \
    "SELECT id, op_time, username, operation, resource_type, resource, COALESCE(project_id, 0),"   \
    " client, result FROM audit_log"
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM audit_log" AUDIT_WHERE;
static const char SQL_PAGE_DESC[] = AUDIT_COLS AUDIT_WHERE " ORDER BY id DESC LIMIT ?12 OFFSET ?13";
static const char SQL_PAGE_ASC[] = AUDIT_COLS AUDIT_WHERE " ORDER BY id ASC LIMIT ?12 OFFSET ?13";
static const char SQL_PURGE[] = "DELETE FROM audit_log WHERE op_time < ?1";

/* ---- queue ---- */

static int bind_text_or_empty(struct sq_conn *c, sqlite3_stmt *st, int idx, const char *s,
                              struct berr *err)
{
    return sq_bind_text(c, st, idx, s, strlen(s), err);
}

/* sq_audit_write inserts events in one transaction */
static int sq_audit_write(struct meta *m, const struct audit_event *ev, size_t n, struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    if (sqlite3_prepare_v2(c->db, SQL_INSERT, -1, &st, NULL) != SQLITE_OK)
        rc = sq_fail(c, "prepare", err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct audit_event *e = &ev[i];

        (void)sqlite3_reset(st);
        rc = sq_bind_i64(c, st, 1, e->op_time, err);
        if (rc == 0)
            rc = bind_text_or_empty(c, st, 2, e->username, err);
        if (rc == 0)
            rc = bind_text_or_empty(c, st, 3, e->operation, err);
        if (rc == 0)
            rc = bind_text_or_empty(c, st, 4, e->resource_type, err);
        if (rc == 0)
            rc = bind_text_or_empty(c, st, 5, e->resource, err);
        if (rc == 0)
            rc = e->project[0] != '\0' ? bind_text_or_empty(c, st, 6, e->project, err)
                                       : sq_bind_null(c, st, 6, err);
        if (rc == 0)
            rc = bind_text_or_empty(c, st, 7, e->client, err);
        if (rc == 0)
            rc = sq_bind_i64(c, st, 8, e->result ? 1 : 0, err);
        if (rc == 0)
            rc = sq_exec(c, st, err);
    }
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    rc = sq_write_end(c, rc, err);
    return rc;
}

/* ---- queries ---- */

static int bind_filter(struct sq_conn *c, sqlite3_stmt *st, int idx, const char *v, bool fuzzy,
                       struct berr *err)
{
    int rc =
            v != NULL ? sq_bind_text(c, st, idx, v, strlen(v), err) : sq_bind_null(c, st, idx, err);

    if (rc == 0)
        rc = sq_bind_i64(c, st, idx + 1, fuzzy ? 1 : 0, err);
    return rc;
}

static int bind_where(struct sq_conn *c, sqlite3_stmt *st, const struct audit_q *q,
                      struct berr *err)
{
    int rc = bind_filter(c, st, 1, q->username, q->username_fuzzy, err);

    if (rc == 0)
        rc = bind_filter(c, st, 3, q->operation, q->operation_fuzzy, err);
    if (rc == 0)
        rc = bind_filter(c, st, 5, q->resource_type, q->resource_type_fuzzy, err);
    if (rc == 0)
        rc = bind_filter(c, st, 7, q->resource, q->resource_fuzzy, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 9, q->from, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 10, q->to, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 11, q->project_id, err);
    return rc;
}

static int read_event(struct sq_conn *c, sqlite3_stmt *st, struct audit_event *e, struct berr *err)
{
    memset(e, 0, sizeof(*e));
    e->id = (int64_t)sqlite3_column_int64(st, 0);
    e->op_time = (int64_t)sqlite3_column_int64(st, 1);
    if (sq_col_text(c, st, 2, e->username, sizeof(e->username), err) < 0 ||
        sq_col_text(c, st, 3, e->operation, sizeof(e->operation), err) < 0 ||
        sq_col_text(c, st, 4, e->resource_type, sizeof(e->resource_type), err) < 0 ||
        sq_col_text(c, st, 5, e->resource, sizeof(e->resource), err) < 0)
        return -1;
    e->project_id = (int64_t)sqlite3_column_int64(st, 6);
    if (sq_col_text(c, st, 7, e->client, sizeof(e->client), err) < 0)
        return -1;
    e->result = sqlite3_column_int(st, 8) != 0;
    return 0;
}

static int sq_audit_list(struct meta *m, const struct audit_q *q, struct audit_event *out,
                         size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    size_t i = 0;
    int rc = 0;

    *n = 0;
    *total = 0;
    if (cap > AUDIT_LIST_MAX || q->offset < 0 || q->project_id < 0)
        return berr_set(err, BERR_BAD_REQUEST, "bad page");
    c = sq_conn_get(m);
    if (sqlite3_prepare_v2(c->db, SQL_COUNT, -1, &st, NULL) != SQLITE_OK)
        rc = sq_fail(c, "prepare", err);
    if (rc == 0)
        rc = bind_where(c, st, q, err);
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc == 1) {
        *total = (int64_t)sqlite3_column_int64(st, 0);
        rc = 0;
    }
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    st = NULL;
    if (rc == 0 && sqlite3_prepare_v2(c->db, q->oldest_first ? SQL_PAGE_ASC : SQL_PAGE_DESC, -1,
                                      &st, NULL) != SQLITE_OK)
        rc = sq_fail(c, "prepare", err);
    if (rc == 0)
        rc = bind_where(c, st, q, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 12, (int64_t)cap, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 13, q->offset, err);
    while (rc == 0 && i < cap) {
        rc = sq_step(c, st, err);
        if (rc <= 0)
            break;
        rc = read_event(c, st, &out[i], err);
        if (rc == 0)
            i++;
    }
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    sq_conn_put(c);
    if (rc < 0) {
        *total = 0;
        return -1;
    }
    *n = i;
    return 0;
}

static int sq_audit_purge(struct meta *m, int64_t before, int64_t *removed, struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int64_t gone = 0;
    int rc;

    if (removed != NULL)
        *removed = 0;
    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    if (sqlite3_prepare_v2(c->db, SQL_PURGE, -1, &st, NULL) != SQLITE_OK)
        rc = sq_fail(c, "prepare", err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, before, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0)
        gone = (int64_t)sqlite3_changes(c->db);
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    rc = sq_write_end(c, rc, err);
    if (rc == 0 && removed != NULL)
        *removed = gone;
    return rc;
}

const struct meta_audit_ops sqlite_audit_ops = {
        .write = sq_audit_write,
        .list = sq_audit_list,
        .purge = sq_audit_purge,
};
