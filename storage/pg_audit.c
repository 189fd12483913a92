/* pg_audit.c - the audit log's table in PostgreSQL: a batch of events written in one
 * transaction, the filtered list and the purge.
 *
 * Invariants (as sqlite_audit.c's):
 *   1. A batch is inserted in one transaction: all of its events or none, in the order given,
 *      so the ids of one batch follow the order its events were recorded (audit.c invariant 2).
 *      Batches of several replicas interleave by id allocation.
 *   2. An event names its project by name; the id is looked up in the INSERT itself, so an
 *      event of a project deleted meanwhile is stored with no project.
 *   3. A batch is never refused for its text: PostgreSQL stores only valid UTF-8, so bytes that
 *      are not (a name from a client, already escaped by the callers in the usual case) are
 *      stored as '?' (pg_utf8) rather than losing the batch; SQLite keeps them as they were.
 * Thread-safe: every call borrows its own connection. */
#include "storage/pg_int.h"

#include <string.h>

#include "storage/audit.h"

static const char SQL_INSERT[] =
        "INSERT INTO audit_log(op_time, username, operation, resource_type, resource,"
        " project_id, client, result)"
        " VALUES ($1, $2, $3, $4, $5, (SELECT id FROM projects WHERE name = $6), $7, $8)";
/* $1 username, $2 fuzzy; $3/$4 operation; $5/$6 resource_type; $7/$8 resource; $9 from, $10 to,
 * $11 project_id */
#define AUDIT_FILTER(V, F, COL)                                                                    \
    " ($" V "::text IS NULL OR (CASE WHEN $" F "::boolean THEN strpos(" COL ", $" V "::text) > 0"  \
    " ELSE " COL " = $" V "::text END))"
#define AUDIT_WHERE                                                                                \
    " WHERE" AUDIT_FILTER("1", "2", "username") " AND" AUDIT_FILTER(                               \
            "3", "4",                                                                              \
            "operation") " AND" AUDIT_FILTER("5", "6",                                             \
                                             "resource_type") " AND" AUDIT_FILTER("7", "8",        \
                                                                                  "resource") " A" \
                                                                                              "ND" \
                                                                                              " (" \
                                                                                              "$9" \
                                                                                              "::" \
                                                                                              "bi" \
                                                                                              "gi" \
                                                                                              "nt" \
                                                                                              " =" \
                                                                                              " 0" \
                                                                                              " O" \
                                                                                              "R " \
                                                                                              "op" \
                                                                                              "_t" \
                                                                                              "im" \
                                                                                              "e " \
                                                                                              ">=" \
                                                                                              " $" \
                                                                                              "9:" \
                                                                                              ":b" \
                                                                                              "ig" \
                                                                                              "in" \
                                                                                              "t)" \
                                                                                              " A" \
                                                                                              "ND" \
                                                                                              " (" \
                                                                                              "$1" \
                                                                                              "0:" \
                                                                                              ":b" \
                                                                                              "ig" \
                                                                                              "in" \
                                                                                              "t " \
                                                                                              "= " \
                                                                                              "0 " \
                                                                                              "OR" \
                                                                                              " o" \
                                                                                              "p_" \
                                                                                              "ti" \
                                                                                              "me" \
                                                                                              " <" \
                                                                                              "= " \
                                                                                              "$1" \
                                                                                              "0:" \
                                                                                              ":b" \
                                                                                              "ig" \
                                                                                              "in" \
                                                                                              "t)" \
                                                                                              " A" \
                                                                                              "ND" \
                                                                                              " (" \
                                                                                              "$1" \
                                                                                              "1:" \
                                                                                              ":b" \
                                                                                              "ig" \
                                                                                              "in" \
                                                                                              "t " \
                                                                                              "= " \
                                                                                              "0 " \
                                                                                              "OR" \
                                                                                              " p" \
                                                                                              "ro" \
                                                                                              "je" \
                                                                                              "ct" \
                                                                                              "_i" \
                                                                                              "d " \
                                                                                              "= " \
                                                                                              "$1" \
                                                                                              "1:" \
                                                                                              ":b" \
                                                                                              "ig" \
                                                                                              "in" \
                                                                                              "t)"
#define AUDIT_COLS                                                                                 \
    "SELECT id, op_time, username, operation, resource_type, resource, COALESCE(project_id, 0),"   \
    " client, result FROM audit_log"
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM audit_log" AUDIT_WHERE;
static const char SQL_PAGE_DESC[] = AUDIT_COLS AUDIT_WHERE " ORDER BY id DESC LIMIT $12 OFFSET $13";
static const char SQL_PAGE_ASC[] = AUDIT_COLS AUDIT_WHERE " ORDER BY id ASC LIMIT $12 OFFSET $13";
static const char SQL_PURGE[] = "DELETE FROM audit_log WHERE op_time < $1";

/* ---- writing ---- */

/* the text fields of one event, made valid UTF-8 (invariant 3) */
struct event_text {
    char username[AUDIT_USER_MAX + 1];
    char operation[AUDIT_WORD_MAX + 1];
    char resource_type[AUDIT_WORD_MAX + 1];
    char resource[AUDIT_RESOURCE_MAX + 1];
    char project[AUDIT_PROJECT_MAX + 1];
    char client[AUDIT_CLIENT_MAX + 1];
};

static int event_insert(struct pg_conn *c, const struct audit_event *e, struct event_text *t,
                        struct berr *err)
{
    struct pg_params p;

    pg_params_init(&p);
    pg_p_i64(&p, e->op_time);
    pg_p_text(&p, pg_utf8(t->username, sizeof(t->username), e->username));
    pg_p_text(&p, pg_utf8(t->operation, sizeof(t->operation), e->operation));
    pg_p_text(&p, pg_utf8(t->resource_type, sizeof(t->resource_type), e->resource_type));
    pg_p_text(&p, pg_utf8(t->resource, sizeof(t->resource), e->resource));
    if (e->project[0] != '\0')
        pg_p_text(&p, pg_utf8(t->project, sizeof(t->project), e->project));
    else
        pg_p_null(&p);
    pg_p_text(&p, pg_utf8(t->client, sizeof(t->client), e->client));
    pg_p_i64(&p, e->result ? 1 : 0);
    return pg_run(NULL, c, PG_Q_AUDIT_INSERT, SQL_INSERT, &p, err) < 0 ? -1 : 0;
}

/* pg_audit_write inserts events in one transaction */
static int pg_audit_write(struct meta *m, const struct audit_event *ev, size_t n, struct berr *err)
{
    struct event_text t;
    struct pg_conn *c;
    int rc;

    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = event_insert(c, &ev[i], &t, err);
    return pg_write_end(c, rc, err);
}

/* ---- queries ---- */

static void add_filter(struct pg_params *p, const char *v, bool fuzzy)
{
    pg_p_text(p, v);
    pg_p_bool(p, fuzzy);
}

static void add_where(struct pg_params *p, const struct audit_q *q)
{
    add_filter(p, q->username, q->username_fuzzy);
    add_filter(p, q->operation, q->operation_fuzzy);
    add_filter(p, q->resource_type, q->resource_type_fuzzy);
    add_filter(p, q->resource, q->resource_fuzzy);
    pg_p_i64(p, q->from);
    pg_p_i64(p, q->to);
    pg_p_i64(p, q->project_id);
}

static int read_event(const PGresult *r, int row, struct audit_event *e, struct berr *err)
{
    memset(e, 0, sizeof(*e));
    e->id = pg_i64(r, row, 0);
    e->op_time = pg_i64(r, row, 1);
    if (pg_text(r, row, 2, e->username, sizeof(e->username), err) < 0 ||
        pg_text(r, row, 3, e->operation, sizeof(e->operation), err) < 0 ||
        pg_text(r, row, 4, e->resource_type, sizeof(e->resource_type), err) < 0 ||
        pg_text(r, row, 5, e->resource, sizeof(e->resource), err) < 0)
        return -1;
    e->project_id = pg_i64(r, row, 6);
    if (pg_text(r, row, 7, e->client, sizeof(e->client), err) < 0)
        return -1;
    e->result = pg_i64(r, row, 8) != 0;
    return 0;
}

static int pg_audit_list(struct meta *m, const struct audit_q *q, struct audit_event *out,
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
    if (cap > AUDIT_LIST_MAX || q->offset < 0 || q->project_id < 0)
        return berr_set(err, BERR_BAD_REQUEST, "bad page");
    pg_params_init(&p);
    add_where(&p, q);
    c = pg_conn_get(m);
    rc = pg_run_i64(c, PG_Q_NONE, SQL_COUNT, &p, total, err);
    if (rc >= 0) {
        pg_p_i64(&p, (int64_t)cap);
        pg_p_i64(&p, q->offset);
        rows = pg_run(&r, c, PG_Q_NONE, q->oldest_first ? SQL_PAGE_ASC : SQL_PAGE_DESC, &p, err);
        rc = rows < 0 ? -1 : 0;
        for (int k = 0; rc == 0 && k < rows && i < cap; k++) {
            rc = read_event(r, k, &out[i], err);
            if (rc == 0)
                i++;
        }
        pg_res_free(r);
    }
    pg_conn_put(c);
    if (rc < 0) {
        *total = 0;
        return -1;
    }
    *n = i;
    return 0;
}

static int pg_audit_purge(struct meta *m, int64_t before, int64_t *removed, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int gone;
    int rc;

    if (removed != NULL)
        *removed = 0;
    pg_params_init(&p);
    pg_p_i64(&p, before);
    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    gone = pg_run(NULL, c, PG_Q_NONE, SQL_PURGE, &p, err);
    rc = pg_write_end(c, gone < 0 ? -1 : 0, err);
    if (rc == 0 && removed != NULL)
        *removed = gone;
    return rc;
}

const struct meta_audit_ops pg_audit_ops = {
        .write = pg_audit_write,
        .list = pg_audit_list,
        .purge = pg_audit_purge,
};
