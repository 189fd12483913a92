/* sqlite_export.c - the SQLite side of meta_copy (meta_copy.h): every row of every table of a
 * database, as text and bytes, in one read transaction.
 *
 * The database is opened read-only on a connection of its own (not the pool of a struct meta),
 * so a server may keep running on it: the read transaction sees one consistent snapshot (WAL),
 * and a copy taken while pushes go on is the state of one instant. Tables come in creation
 * order (sqlite_master's rowid), which is also the order of their foreign keys; table names
 * come from sqlite_master and are quoted as identifiers. Not thread-safe (one call, one
 * connection). */
#include "storage/meta_copy.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"

#define EXPORT_COLS_MAX 64
#define EXPORT_SQL_MAX 512

static int exp_fail(sqlite3 *db, const char *what, struct berr *err)
{
    log_msg(LOG_ERROR, "migrate: SQLite %s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
    return berr_set(err, BERR_INTERNAL, "SQLite source: %s failed", what);
}

static bool exp_skipped(const char *name, const char *const *skip)
{
    if (strncmp(name, "sqlite_", 7) == 0)
        return true;
    for (size_t i = 0; skip && skip[i]; i++) {
        if (strcmp(name, skip[i]) == 0)
            return true;
    }
    return false;
}

/* exp_quote writes "name" (doubling any '"') into out */
static int exp_quote(char *out, size_t cap, const char *name)
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

static int exp_table(sqlite3 *db, const char *table, meta_table_fn table_fn, meta_row_fn row_fn,
                     void *ctx, struct berr *err)
{
    char q[EXPORT_SQL_MAX / 2], sql[EXPORT_SQL_MAX];
    sqlite3_stmt *st = NULL;
    const char *cols[EXPORT_COLS_MAX];
    enum meta_val_kind kinds[EXPORT_COLS_MAX];
    const char *vals[EXPORT_COLS_MAX];
    int lens[EXPORT_COLS_MAX];
    int64_t rows;
    int n, rc;

    if (exp_quote(q, sizeof(q), table) < 0)
        return berr_set(err, BERR_INTERNAL, "SQLite source: table name too long");
    (void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", q);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return exp_fail(db, "count", err);
    }
    rows = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    rc = table_fn(table, rows, ctx);
    if (rc != 0)
        return rc;
    (void)snprintf(sql, sizeof(sql), "SELECT * FROM %s", q);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return exp_fail(db, "select", err);
    n = sqlite3_column_count(st);
    if (n <= 0 || n > EXPORT_COLS_MAX) {
        sqlite3_finalize(st);
        return berr_set(err, BERR_INTERNAL, "SQLite source: table %.40s has %d columns", table, n);
    }
    for (int i = 0; i < n; i++)
        cols[i] = sqlite3_column_name(st, i);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct meta_row row = {(size_t)n, cols, kinds, vals, lens};

        for (int i = 0; i < n; i++) {
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_NULL:
                kinds[i] = META_VAL_NULL;
                vals[i] = NULL;
                lens[i] = 0;
                continue;
            case SQLITE_INTEGER:
                kinds[i] = META_VAL_INT;
                break;
            case SQLITE_FLOAT:
                kinds[i] = META_VAL_REAL;
                break;
            case SQLITE_BLOB:
                kinds[i] = META_VAL_BLOB;
                vals[i] = sqlite3_column_blob(st, i);
                lens[i] = sqlite3_column_bytes(st, i);
                if (!vals[i])
                    vals[i] = "";
                continue;
            default:
                kinds[i] = META_VAL_TEXT;
                break;
            }
            /* integers and reals come out in SQLite's own decimal text */
            vals[i] = (const char *)sqlite3_column_text(st, i);
            lens[i] = sqlite3_column_bytes(st, i);
            if (!vals[i]) {
                sqlite3_finalize(st);
                return exp_fail(db, "read", err);
            }
        }
        rc = row_fn(&row, ctx);
        if (rc != 0) {
            sqlite3_finalize(st);
            return rc;
        }
    }
    if (rc != SQLITE_DONE) {
        (void)exp_fail(db, "read", err);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

int sqlite_export(const char *path, const char *const *skip, int *version, meta_table_fn table_fn,
                  meta_row_fn row_fn, void *ctx, struct berr *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;

    *version = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        (void)exp_fail(db, "open", err);
        goto out;
    }
    (void)sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        (void)exp_fail(db, "begin", err);
        goto out;
    }
    if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", -1, &st,
                           NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        (void)exp_fail(db, "schema version", err);
        goto out;
    }
    *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK) {
        (void)exp_fail(db, "table list", err);
        goto out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);

        if (!name || exp_skipped(name, skip))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = mem_realloc(names, ncap * sizeof(*names));

            if (!nn) {
                (void)berr_set(err, BERR_INTERNAL, "out of memory");
                goto out;
            }
            names = nn;
            cap = ncap;
        }
        names[n] = mem_strdup(name);
        if (!names[n]) {
            (void)berr_set(err, BERR_INTERNAL, "out of memory");
            goto out;
        }
        n++;
    }
    sqlite3_finalize(st);
    st = NULL;
    for (size_t i = 0; i < n; i++) {
        rc = exp_table(db, names[i], table_fn, row_fn, ctx, err);
        if (rc != 0)
            goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++)
        mem_free(names[i]);
    mem_free(names);
    if (db) {
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(db);
    }
    return rc;
}
