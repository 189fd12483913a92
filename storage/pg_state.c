/* pg_state.c - the shared state's table in PostgreSQL (migration 6): (ns, key) -> val (bytea),
 * version, expires. Several replicas write it at once, so every check-then-write is one
 * statement that PostgreSQL makes atomic on the row (pg_int.h a.):
 *   put ANY:    INSERT ... ON CONFLICT DO UPDATE SET version = state.version + 1
 *   put 0:      the same upsert, its DO UPDATE only WHERE the stored row has expired; no row
 *               back means a live record exists (BERR_CONFLICT)
 *   put N:      UPDATE ... WHERE version = N AND live; no row back: BERR_CONFLICT
 *   incr:       an upsert whose DO UPDATE adds to the stored number, or restarts an expired one
 *   remove:     DELETE ... WHERE live AND (any version or version = N)
 * Values travel as hex text (parameters are text, a value may hold NUL bytes) and are decoded
 * by decode()/encode() in the statement.
 *
 * Invariants (as sqlite_state.c's):
 *   1. "Live" is expires = 0 or expires > now, now from this process's wall clock per call.
 *   2. A row's version only grows while the row exists.
 *   3. list copies rows out in batches of META_STATE_BATCH (meta_walk.c) in key order
 *      (COLLATE "C": bytewise, like SQLite's) strictly after the last key seen, and gives the
 *      connection back before calling the callback.
 * Thread-safe: every call borrows its own connection. */
#include "storage/pg_int.h"

#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "common/parse.h"
#include "common/util.h"
#include "storage/meta_walk.h"

#define LIVE " (expires = 0 OR expires > $3::bigint)"

static const char SQL_GET[] = "SELECT encode(val, 'hex'), version, expires FROM state"
                              " WHERE ns = $1 AND key = $2 AND" LIVE;
/* $1 ns, $2 key, $3 now, $4 val (hex), $5 expires */
static const char SQL_UPSERT[] =
        "INSERT INTO state(ns, key, val, version, expires)"
        " VALUES ($1, $2, decode($4, 'hex'), 1, $5::bigint) ON CONFLICT (ns, key) DO UPDATE"
        " SET val = excluded.val, version = state.version + 1, expires = excluded.expires"
        " WHERE $3::bigint IS NOT NULL RETURNING version"; /* $3 unused: always true */
static const char SQL_CREATE[] =
        "INSERT INTO state(ns, key, val, version, expires)"
        " VALUES ($1, $2, decode($4, 'hex'), 1, $5::bigint) ON CONFLICT (ns, key) DO UPDATE"
        " SET val = excluded.val, version = state.version + 1, expires = excluded.expires"
        " WHERE state.expires <> 0 AND state.expires <= $3::bigint RETURNING version";
/* $6 the expected version */
static const char SQL_REPLACE[] =
        "UPDATE state SET val = decode($4, 'hex'), version = version + 1, expires = $5::bigint"
        " WHERE ns = $1 AND key = $2 AND" LIVE " AND version = $6::bigint RETURNING version";
/* $4 the version or -1 */
static const char SQL_REMOVE[] = "DELETE FROM state WHERE ns = $1 AND key = $2 AND" LIVE
                                 " AND ($4::bigint < 0 OR version = $4::bigint)";
/* $4 delta, $5 expires: the stored number is decimal text */
static const char SQL_INCR[] =
        "INSERT INTO state(ns, key, val, version, expires)"
        " VALUES ($1, $2, convert_to($4::bigint::text, 'UTF8'), 1, $5::bigint)"
        " ON CONFLICT (ns, key) DO UPDATE SET"
        " val = CASE WHEN state.expires <> 0 AND state.expires <= $3::bigint THEN excluded.val"
        " ELSE convert_to((convert_from(state.val, 'UTF8')::bigint + $4::bigint)::text, 'UTF8')"
        " END,"
        " version = state.version + 1,"
        " expires = CASE WHEN state.expires <> 0 AND state.expires <= $3::bigint"
        " THEN excluded.expires ELSE state.expires END"
        " RETURNING convert_from(val, 'UTF8')::bigint";
static const char SQL_PAGE[] = "SELECT key, encode(val, 'hex'), version, expires FROM state"
                               " WHERE ns = $1 AND key > $2 AND" LIVE " ORDER BY key LIMIT $4";
static const char SQL_PURGE[] = "DELETE FROM state WHERE expires > 0 AND expires <= $1";

/* hex_of: *out new (mem_free), the hex of len bytes at p */
static int hex_of(char **out, const void *p, size_t len, struct berr *err)
{
    static const char hx[] = "0123456789abcdef";
    const unsigned char *b = p;
    char *h = mem_malloc(2 * len + 1);

    *out = NULL;
    if (h == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < len; i++) {
        h[2 * i] = hx[b[i] >> 4];
        h[2 * i + 1] = hx[b[i] & 15];
    }
    h[2 * len] = '\0';
    *out = h;
    return 0;
}

/* col_bytes decodes the hex column into *out (new, NUL-terminated beyond *len) */
static int col_bytes(const PGresult *r, int row, int col, char **out, size_t *len, struct berr *err)
{
    const char *h = PQgetvalue(r, row, col);
    size_t n = (size_t)PQgetlength(r, row, col);
    char *b = mem_malloc(n / 2 + 1);

    *out = NULL;
    *len = 0;
    if (b == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    if (n > 0 && parse_hex((uint8_t *)b, n / 2, h, n) != (int)(n / 2)) {
        mem_free(b);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    b[n / 2] = '\0';
    *out = b;
    *len = n / 2;
    return 0;
}

static void key_params(struct pg_params *p, const char *ns, const char *key, int64_t now)
{
    pg_params_init(p);
    pg_p_text(p, ns);
    pg_p_text(p, key);
    pg_p_i64(p, now);
}

static int pgs_get(struct meta *m, const char *ns, const char *key, char **val, size_t *len,
                   int64_t *version, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    char *v = NULL;
    size_t n = 0;
    int rows, rc;

    key_params(&p, ns, key, now_s());
    c = pg_conn_get(m);
    rows = pg_run(&r, c, PG_Q_NONE, SQL_GET, &p, err);
    rc = rows < 0 ? -1 : rows > 0 ? 1 : 0;
    if (rc == 1 && col_bytes(r, 0, 0, &v, &n, err) < 0)
        rc = -1;
    if (rc == 1) {
        *val = v;
        if (len != NULL)
            *len = n;
        if (version != NULL)
            *version = pg_i64(r, 0, 1);
    }
    pg_res_free(r);
    pg_conn_put(c);
    return rc;
}

static int pgs_put(struct meta *m, const char *ns, const char *key, const void *val, size_t len,
                   int64_t expires, int64_t expect_version, int64_t *new_version, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    const char *sql;
    char *hex = NULL;
    int64_t v = 0;
    int rc;

    if (hex_of(&hex, val, len, err) < 0)
        return -1;
    key_params(&p, ns, key, now_s());
    pg_p_text(&p, hex);
    pg_p_i64(&p, expires);
    if (expect_version > 0) {
        pg_p_i64(&p, expect_version);
        sql = SQL_REPLACE;
    } else {
        sql = expect_version == 0 ? SQL_CREATE : SQL_UPSERT;
    }
    rc = pg_write_begin(&c, m, err);
    if (rc == 0) {
        rc = pg_run_i64(c, PG_Q_NONE, sql, &p, &v, err);
        if (rc == 0)
            rc = berr_set(err, BERR_CONFLICT,
                          expect_version == 0 ? "state record exists" : "state record changed");
        rc = pg_write_end(c, rc < 0 ? -1 : 0, err);
    }
    mem_free(hex);
    if (rc == 0 && new_version != NULL)
        *new_version = v;
    return rc;
}

static int pgs_remove(struct meta *m, const char *ns, const char *key, int64_t expect_version,
                      struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int rows = 0, rc;

    key_params(&p, ns, key, now_s());
    pg_p_i64(&p, expect_version);
    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rows = pg_run(NULL, c, PG_Q_NONE, SQL_REMOVE, &p, err);
    rc = pg_write_end(c, rows < 0 ? -1 : 0, err);
    if (rc < 0)
        return -1;
    return rows > 0 ? 1 : 0;
}

static int pgs_incr(struct meta *m, const char *ns, const char *key, int64_t delta, int64_t expires,
                    int64_t *value, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int64_t v = 0;
    int rc;

    key_params(&p, ns, key, now_s());
    pg_p_i64(&p, delta);
    pg_p_i64(&p, expires);
    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = pg_run_i64(c, PG_Q_NONE, SQL_INCR, &p, &v, err);
    if (rc < 0 && strcmp(c->sqlstate, "22P02") == 0)
        (void)berr_set(err, BERR_CONFLICT, "state record is not a counter");
    else if (rc < 0 && strcmp(c->sqlstate, "22003") == 0)
        (void)berr_set(err, BERR_BAD_REQUEST, "counter out of range");
    else if (rc == 0)
        rc = berr_set(err, BERR_INTERNAL, "internal error"); /* an upsert returns its row */
    rc = pg_write_end(c, rc < 0 ? -1 : 0, err);
    if (rc == 0 && value != NULL)
        *value = v;
    return rc;
}

static int page_read(struct meta *m, const char *ns, const char *after, struct meta_state_row *rows,
                     size_t *n, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    size_t i = 0;
    int k, nrows, rc;

    key_params(&p, ns, after, now_s());
    pg_p_i64(&p, META_STATE_BATCH);
    c = pg_conn_get(m);
    nrows = pg_run(&r, c, PG_Q_NONE, SQL_PAGE, &p, err);
    rc = nrows < 0 ? -1 : 0;
    for (k = 0; rc == 0 && k < nrows && i < META_STATE_BATCH; k++) {
        rc = pg_text(r, k, 0, rows[i].key, sizeof(rows[i].key), err);
        if (rc == 0)
            rc = col_bytes(r, k, 1, &rows[i].val, &rows[i].len, err);
        if (rc < 0)
            break;
        rows[i].version = pg_i64(r, k, 2);
        rows[i].expires = pg_i64(r, k, 3);
        i++;
    }
    pg_res_free(r);
    pg_conn_put(c);
    if (rc < 0) {
        meta_state_rows_clear(rows, i);
        *n = 0;
        return -1;
    }
    *n = i;
    return 0;
}

static int pgs_list(struct meta *m, const char *ns, meta_state_fn fn, void *ctx, struct berr *err)
{
    return meta_state_walk(m, ns, page_read, fn, ctx, err);
}

static int pgs_purge(struct meta *m, int64_t now, int64_t *removed, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int rows = 0, rc;

    pg_params_init(&p);
    pg_p_i64(&p, now);
    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rows = pg_run(NULL, c, PG_Q_NONE, SQL_PURGE, &p, err);
    rc = pg_write_end(c, rows < 0 ? -1 : 0, err);
    if (rc == 0 && removed != NULL)
        *removed = rows;
    return rc;
}

const struct meta_state_ops pg_state_ops = {
        .get = pgs_get,
        .put = pgs_put,
        .remove = pgs_remove,
        .incr = pgs_incr,
        .list = pgs_list,
        .purge = pgs_purge,
};
