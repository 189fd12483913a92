/* meta_copy.h - copying the metadata of a single-host installation (its SQLite database) into
 * a PostgreSQL database, for `berth migrate`.
 *
 * The copy is row by row and table by table, every column as it is: ids, times, counters, hashes
 * and the audit and pull history keep their values, so a replica opened on the copy answers as
 * the single host did. The destination is first brought to the newest schema by meta_open, the
 * source too (both backends number their migrations alike, storage/pg_schema.c), and the copy
 * is refused when the versions still differ. Each destination row is then:
 *   - present: a row with every column equal is there already (a second run, or a row both
 *     databases start with): nothing written, counted as verified;
 *   - copied: inserted, or written over a row with the same primary key but other values (the
 *     rows a new database starts with, such as the `library` project);
 *   - a conflict: another row holds one of its unique values (a name) under another key:
 *     nothing written, reported, and the copy ends with BERR_CONFLICT after the table.
 * One table is one transaction on the destination, so an interrupted copy leaves whole tables
 * and a new run goes on from there. Triggers and foreign-key checks are off for the copying
 * session (session_replication_role = replica, which needs a superuser or a role granted that
 * parameter): the rows come with their own members and tombstones. Identity sequences are moved
 * past the largest id copied. Skipped: schema_migrations (each database has its own) and the
 * shared-state records (web sessions, throttling: short-lived by design).
 * Not thread-safe: one copy at a time per process. */
#ifndef BERTH_STORAGE_META_COPY_H
#define BERTH_STORAGE_META_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"

/* the counts of one table, or (table == NULL) of the whole copy */
struct meta_copy_progress {
    const char *table; /* borrowed for the call; NULL in the closing call */
    int64_t total;     /* rows in the source table */
    int64_t done;      /* rows looked at so far */
    int64_t copied;    /* rows written */
    int64_t present;   /* rows found equal in the destination */
    int64_t conflicts; /* rows refused (see above) */
    bool finished;     /* the table (or the copy) is done */
};
/* called every few hundred rows and at the end of each table, then once with table NULL and the
 * sums; a non-zero return stops the copy (returned as is) */
typedef int (*meta_copy_fn)(const struct meta_copy_progress *p, void *ctx);

/* meta_copy copies the SQLite database at src_path into the PostgreSQL database at dst_url (a
 * libpq URI). dry_run: nothing is written; rows are still compared with the destination when
 * it is there, so the counts say what a real run would copy. *sum (may be NULL) gets the sums.
 * Errors: BERR_BAD_REQUEST (dst_url is not PostgreSQL's, the schemas differ, a column the
 * destination lacks), BERR_CONFLICT (rows refused, after copying every other row), BERR_INTERNAL
 * (either database failed: the message says which, never a password). */
int meta_copy(const char *src_path, const char *dst_url, bool dry_run, meta_copy_fn fn, void *ctx,
              struct meta_copy_progress *sum, struct berr *err);

/* ---- between meta_copy.c and the backends (storage/ only) ---- */

enum meta_val_kind { META_VAL_NULL = 0, META_VAL_INT, META_VAL_REAL, META_VAL_TEXT, META_VAL_BLOB };

/* one row as the source holds it: values as text (integers and reals in decimal), blobs as
 * bytes; all borrowed for the callback */
struct meta_row {
    size_t n;
    const char *const *cols;
    const enum meta_val_kind *kinds;
    const char *const *vals; /* NULL for META_VAL_NULL */
    const int *lens;
};

/* the export side (sqlite_export.c) */
typedef int (*meta_table_fn)(const char *table, int64_t rows, void *ctx);
typedef int (*meta_row_fn)(const struct meta_row *row, void *ctx);
/* sqlite_export reads the database at path (read-only, one read transaction: a consistent
 * snapshot) and calls table_fn before the rows of each table, then row_fn per row, tables in
 * creation order, skipping the ones named in skip (NULL-terminated). Version: *version. */
int sqlite_export(const char *path, const char *const *skip, int *version, meta_table_fn table_fn,
                  meta_row_fn row_fn, void *ctx, struct berr *err);

/* the import side (pg_import.c) */
struct pg_import;
enum pg_import_res { PG_IMPORT_COPIED = 0, PG_IMPORT_PRESENT = 1, PG_IMPORT_CONFLICT = 2 };
/* pg_import_open connects to url; *version gets its schema version. dry_run: never writes. */
int pg_import_open(struct pg_import **out, const char *url, bool dry_run, int *version,
                   struct berr *err);
void pg_import_close(struct pg_import *pi);
/* pg_import_table_begin starts a table (one transaction); _end commits it and moves the
 * table's identity sequences past its largest value */
int pg_import_table_begin(struct pg_import *pi, const char *table, struct berr *err);
int pg_import_row(struct pg_import *pi, const struct meta_row *row, enum pg_import_res *res,
                  struct berr *err);
int pg_import_table_end(struct pg_import *pi, struct berr *err);

#endif
