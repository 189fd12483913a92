/* pg_import.c - the PostgreSQL side of meta_copy (meta_copy.h): rows written into the tables of
 * the same names, column by column, on one connection of its own.
 *
 * For each row: a SELECT of a row equal in every column (IS NOT DISTINCT FROM, so NULLs compare
 * equal) says "present"; otherwise the row is written under a savepoint, as an upsert on the
 * table's primary key (a plain INSERT for a table without one), and a unique violation on
 * another key rolls back to the savepoint and says "conflict". Values go as text parameters
 * whose types PostgreSQL takes from the columns (SQLite's 0/1 flags read as booleans), blobs as
 * binary. Table and column names come from the source's catalogue and are quoted as
 * identifiers; nothing else reaches SQL text.
 * Invariants:
 *   1. A table is one transaction: _table_end commits it, any error rolls it back.
 *   2. dry_run never writes: no SET, no BEGIN, no INSERT, no setval. A dry run on a database
 *      without the schema yet (version 0) counts every row as one to copy, comparing nothing.
 * Not thread-safe: one handle, one connection, one caller. */
#include "storage/meta_copy.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"

#define PGI_COLS_MAX 64
#define PGI_NAME_MAX 128

struct pg_import {
    PGconn *c;
    bool dry;
    bool empty; /* dry run on a database without Berth's schema: every row would be copied */
    bool in_tx;
    char table[PGI_NAME_MAX]; /* quoted */
    char rawname[PGI_NAME_MAX];
    char *sql_exists; /* built at the table's first row */
    char *sql_write;
    size_t ncols;
    char pk[PGI_COLS_MAX][PGI_NAME_MAX];
    size_t npk;
    char ident[8][PGI_NAME_MAX];
    size_t nident;
};

static int pgi_fail(struct pg_import *pi, const char *what, PGresult *res, struct berr *err)
{
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(pi->c);

    log_msg(LOG_ERROR, "migrate: PostgreSQL %s: %s", what, msg ? msg : "?");
    if (res)
        PQclear(res);
    return berr_set(err, BERR_INTERNAL, "PostgreSQL destination: %s failed: %.60s", what,
                    msg ? msg : "?");
}

/* pgi_exec runs one command without parameters; -1 on failure */
static int pgi_exec(struct pg_import *pi, const char *sql, struct berr *err)
{
    PGresult *res = PQexec(pi->c, sql);

    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        return pgi_fail(pi, sql, res, err);
    PQclear(res);
    return 0;
}

static int pgi_quote(char *out, size_t cap, const char *name)
{
    size_t j = 0;

    if (cap < 3)
        return -1;
    out[j++] = '"';
    for (const char *p = name; *p; p++) {
        if (j + 3 >= cap)
            return -1;
        if (*p == '"')
            out[j++] = '"';
        out[j++] = *p;
    }
    out[j++] = '"';
    out[j] = '\0';
    return 0;
}

int pg_import_open(struct pg_import **out, const char *url, bool dry_run, int *version,
                   struct berr *err)
{
    struct pg_import *pi;
    PGresult *res;

    *out = NULL;
    *version = 0;
    pi = mem_calloc(1, sizeof(*pi));
    if (!pi)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    pi->dry = dry_run;
    pi->c = PQconnectdb(url);
    if (!pi->c || PQstatus(pi->c) != CONNECTION_OK) {
        (void)pgi_fail(pi, "connect", NULL, err);
        pg_import_close(pi);
        return -1;
    }
    res = PQexec(pi->c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        *version = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    pi->empty = dry_run && *version == 0;
    if (!dry_run && pgi_exec(pi, "SET session_replication_role = replica", err) < 0) {
        pg_import_close(pi);
        return berr_set(err, BERR_BAD_REQUEST,
                        "the destination's user may not set session_replication_role "
                        "(a superuser, or GRANT SET ON PARAMETER)");
    }
    *out = pi;
    return 0;
}

void pg_import_close(struct pg_import *pi)
{
    if (!pi)
        return;
    if (pi->in_tx)
        (void)pgi_exec(pi, "ROLLBACK", NULL);
    mem_free(pi->sql_exists);
    mem_free(pi->sql_write);
    if (pi->c)
        PQfinish(pi->c);
    mem_free(pi);
}

/* pgi_names runs a one-parameter query returning names into dst (at most cap) */
static int pgi_names(struct pg_import *pi, const char *sql, char (*dst)[PGI_NAME_MAX], size_t cap,
                     size_t *n, struct berr *err)
{
    const char *params[1] = {pi->table};
    PGresult *res = PQexecParams(pi->c, sql, 1, NULL, params, NULL, NULL, 0);

    *n = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pgi_fail(pi, "catalogue", res, err);
    for (int i = 0; i < PQntuples(res) && *n < cap; i++) {
        (void)snprintf(dst[*n], PGI_NAME_MAX, "%s", PQgetvalue(res, i, 0));
        (*n)++;
    }
    PQclear(res);
    return 0;
}

int pg_import_table_begin(struct pg_import *pi, const char *table, struct berr *err)
{
    const char *params[1];
    PGresult *res;
    bool there;

    mem_free(pi->sql_exists);
    mem_free(pi->sql_write);
    pi->sql_exists = pi->sql_write = NULL;
    pi->ncols = 0;
    (void)snprintf(pi->rawname, sizeof(pi->rawname), "%s", table);
    if (pgi_quote(pi->table, sizeof(pi->table), table) < 0)
        return berr_set(err, BERR_BAD_REQUEST, "table name too long");
    if (pi->empty)
        return 0;
    params[0] = pi->table;
    res = PQexecParams(pi->c, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pgi_fail(pi, "catalogue", res, err);
    there = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!there)
        return berr_set(err, BERR_BAD_REQUEST, "the destination has no table %.60s", table);
    if (pgi_names(pi,
                  "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                  " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass($1)"
                  " AND i.indisprimary",
                  pi->pk, PGI_COLS_MAX, &pi->npk, err) < 0)
        return -1;
    if (pgi_names(pi,
                  "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1)"
                  " AND attnum > 0 AND NOT attisdropped"
                  " AND pg_get_serial_sequence($1, attname) IS NOT NULL",
                  pi->ident, 8, &pi->nident, err) < 0)
        return -1;
    if (!pi->dry) {
        if (pgi_exec(pi, "BEGIN", err) < 0)
            return -1;
        pi->in_tx = true;
    }
    return 0;
}

static bool pgi_is_pk(const struct pg_import *pi, const char *col)
{
    for (size_t i = 0; i < pi->npk; i++) {
        if (strcmp(pi->pk[i], col) == 0)
            return true;
    }
    return false;
}

/* pgi_cols appends "c1, c2, ..." (quoted) to b; -1 when a name is too long or memory fails */
static int pgi_cols(struct buf *b, const struct meta_row *row)
{
    char q[PGI_NAME_MAX];

    for (size_t i = 0; i < row->n; i++) {
        if (pgi_quote(q, sizeof(q), row->cols[i]) < 0 ||
            buf_printf(b, "%s%s", i ? ", " : "", q) < 0)
            return -1;
    }
    return 0;
}

/* pgi_build makes the two statements of this table from the first row's columns: the equality
 * probe, and the upsert on the primary key (a plain INSERT when the table has none, or when
 * every column is in it: no equal row means no row with that key) */
static int pgi_build(struct pg_import *pi, const struct meta_row *row, struct berr *err)
{
    struct buf ex, wr;
    char q[PGI_NAME_MAX];
    size_t nonpk = 0;
    int bad = 0;

    if (row->n == 0 || row->n > PGI_COLS_MAX)
        return berr_set(err, BERR_BAD_REQUEST, "table %.60s: %zu columns", pi->rawname, row->n);
    for (size_t i = 0; i < row->n; i++)
        nonpk += pgi_is_pk(pi, row->cols[i]) ? 0 : 1;
    buf_init(&ex, 1 << 16);
    buf_init(&wr, 1 << 16);
    bad |= buf_printf(&ex, "SELECT 1 FROM %s WHERE ", pi->table);
    for (size_t i = 0; i < row->n && !bad; i++) {
        bad |= pgi_quote(q, sizeof(q), row->cols[i]);
        bad |= buf_printf(&ex, "%s%s IS NOT DISTINCT FROM $%zu", i ? " AND " : "", q, i + 1);
    }
    bad |= buf_appends(&ex, " LIMIT 1");
    bad |= buf_printf(&wr, "INSERT INTO %s (", pi->table);
    bad |= pgi_cols(&wr, row);
    bad |= buf_appends(&wr, ") VALUES (");
    for (size_t i = 0; i < row->n; i++)
        bad |= buf_printf(&wr, "%s$%zu", i ? ", " : "", i + 1);
    bad |= buf_appends(&wr, ")");
    if (pi->npk > 0 && nonpk > 0) {
        bad |= buf_appends(&wr, " ON CONFLICT (");
        for (size_t i = 0; i < pi->npk && !bad; i++) {
            bad |= pgi_quote(q, sizeof(q), pi->pk[i]);
            bad |= buf_printf(&wr, "%s%s", i ? ", " : "", q);
        }
        bad |= buf_appends(&wr, ") DO UPDATE SET ");
        nonpk = 0;
        for (size_t i = 0; i < row->n && !bad; i++) {
            if (pgi_is_pk(pi, row->cols[i]))
                continue;
            bad |= pgi_quote(q, sizeof(q), row->cols[i]);
            bad |= buf_printf(&wr, "%s%s = EXCLUDED.%s", nonpk ? ", " : "", q, q);
            nonpk++;
        }
    }
    if (!bad) {
        pi->sql_exists = buf_detach(&ex);
        pi->sql_write = buf_detach(&wr);
    }
    buf_cleanup(&ex);
    buf_cleanup(&wr);
    if (bad || !pi->sql_exists || !pi->sql_write)
        return berr_set(err, BERR_INTERNAL, "table %.60s: statement too long", pi->rawname);
    pi->ncols = row->n;
    return 0;
}

int pg_import_row(struct pg_import *pi, const struct meta_row *row, enum pg_import_res *res_out,
                  struct berr *err)
{
    int formats[PGI_COLS_MAX];
    PGresult *res;
    bool found;

    if (pi->empty) {
        *res_out = PG_IMPORT_COPIED;
        return 0;
    }
    if (!pi->sql_exists && pgi_build(pi, row, err) < 0)
        return -1;
    if (row->n != pi->ncols)
        return berr_set(err, BERR_INTERNAL, "table %.60s: rows of different widths", pi->rawname);
    for (size_t i = 0; i < row->n; i++)
        formats[i] = row->kinds[i] == META_VAL_BLOB ? 1 : 0;
    res = PQexecParams(pi->c, pi->sql_exists, (int)row->n, NULL, row->vals, row->lens, formats, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        (void)pgi_fail(pi, "compare", res, err);
        return berr_set(err, BERR_BAD_REQUEST,
                        "table %.40s: the destination cannot compare a row "
                        "(columns differ?)",
                        pi->rawname);
    }
    found = PQntuples(res) > 0;
    PQclear(res);
    if (found) {
        *res_out = PG_IMPORT_PRESENT;
        return 0;
    }
    *res_out = PG_IMPORT_COPIED;
    if (pi->dry)
        return 0;
    if (pgi_exec(pi, "SAVEPOINT berth_row", err) < 0)
        return -1;
    res = PQexecParams(pi->c, pi->sql_write, (int)row->n, NULL, row->vals, row->lens, formats, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

        if (state && strcmp(state, "23505") == 0) {
            log_msg(LOG_WARN, "migrate: %s: a row conflicts with another on a unique key: %s",
                    pi->rawname, PQresultErrorMessage(res));
            PQclear(res);
            *res_out = PG_IMPORT_CONFLICT;
            return pgi_exec(pi, "ROLLBACK TO SAVEPOINT berth_row", err);
        }
        return pgi_fail(pi, "insert", res, err);
    }
    PQclear(res);
    return pgi_exec(pi, "RELEASE SAVEPOINT berth_row", err);
}

int pg_import_table_end(struct pg_import *pi, struct berr *err)
{
    char q[PGI_NAME_MAX], sql[PGI_NAME_MAX * 4];
    const char *params[2];
    PGresult *res;

    if (pi->dry)
        return 0;
    for (size_t i = 0; i < pi->nident; i++) {
        if (pgi_quote(q, sizeof(q), pi->ident[i]) < 0)
            return berr_set(err, BERR_INTERNAL, "column name too long");
        (void)snprintf(sql, sizeof(sql),
                       "SELECT setval(pg_get_serial_sequence($1, $2),"
                       " GREATEST((SELECT COALESCE(MAX(%s), 0) FROM %s), 1))",
                       q, pi->table);
        params[0] = pi->table;
        params[1] = pi->ident[i];
        res = PQexecParams(pi->c, sql, 2, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            return pgi_fail(pi, "setval", res, err);
        PQclear(res);
    }
    if (pgi_exec(pi, "COMMIT", err) < 0)
        return -1;
    pi->in_tx = false;
    return 0;
}
