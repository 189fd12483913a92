/* meta_copy.c - meta_copy (meta_copy.h): the SQLite export (sqlite_export.c) fed row by row into
 * the PostgreSQL import (pg_import.c), with the counts a progress display needs.
 *
 * Both databases are opened through meta_open first, which brings each to the newest schema
 * (and makes the destination's schema when it is empty); the copy itself then runs on
 * connections of its own. Not thread-safe: the state of one copy lives on the caller's stack. */
#include "storage/meta_copy.h"

#include <stdio.h>
#include <string.h>

#include "storage/meta.h"

#define COPY_REPORT_EVERY 500

/* tables that are not copied: each database numbers its own migrations, and the shared state
 * (web sessions, login throttling, S3 upload sessions) is short-lived by design */
static const char *const copy_skip[] = {"schema_migrations", "state", NULL};

struct copy_run {
    struct pg_import *pi;
    bool dry;
    int src_version;
    int dst_version;
    bool open; /* a table is begun on the destination */
    struct meta_copy_progress cur;
    struct meta_copy_progress sum;
    char table[128];
    meta_copy_fn fn;
    void *ctx;
    struct berr *err;
};

static int copy_report(struct copy_run *r)
{
    r->cur.table = r->table;
    return r->fn ? r->fn(&r->cur, r->ctx) : 0;
}

/* copy_close_table commits the table in progress and reports it finished */
static int copy_close_table(struct copy_run *r)
{
    if (!r->open)
        return 0;
    r->open = false;
    if (pg_import_table_end(r->pi, r->err) < 0)
        return -1;
    r->cur.finished = true;
    r->sum.total += r->cur.total;
    r->sum.done += r->cur.done;
    r->sum.copied += r->cur.copied;
    r->sum.present += r->cur.present;
    r->sum.conflicts += r->cur.conflicts;
    return copy_report(r);
}

static int copy_table(const char *table, int64_t rows, void *ctx)
{
    struct copy_run *r = ctx;
    int rc;

    if (r->src_version != r->dst_version && !(r->dry && r->dst_version == 0))
        return berr_set(r->err, BERR_BAD_REQUEST,
                        "schema versions differ: source %d, destination %d", r->src_version,
                        r->dst_version);
    rc = copy_close_table(r);
    if (rc != 0)
        return rc;
    memset(&r->cur, 0, sizeof(r->cur));
    (void)snprintf(r->table, sizeof(r->table), "%s", table);
    r->cur.total = rows;
    if (pg_import_table_begin(r->pi, table, r->err) < 0)
        return -1;
    r->open = true;
    return copy_report(r);
}

static int copy_row(const struct meta_row *row, void *ctx)
{
    struct copy_run *r = ctx;
    enum pg_import_res res;

    if (pg_import_row(r->pi, row, &res, r->err) < 0)
        return -1;
    r->cur.done++;
    if (res == PG_IMPORT_COPIED)
        r->cur.copied++;
    else if (res == PG_IMPORT_PRESENT)
        r->cur.present++;
    else
        r->cur.conflicts++;
    if (r->cur.done % COPY_REPORT_EVERY == 0)
        return copy_report(r);
    return 0;
}

/* copy_prepare opens a database through meta_open, which migrates it to the newest schema */
static int copy_prepare(const char *where, struct berr *err)
{
    struct meta *m = NULL;
    int rc = meta_open(&m, where, 1, err);

    meta_close(m);
    return rc;
}

static bool copy_is_pg(const char *url)
{
    return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
}

int meta_copy(const char *src_path, const char *dst_url, bool dry_run, meta_copy_fn fn, void *ctx,
              struct meta_copy_progress *sum, struct berr *err)
{
    struct copy_run r;
    int rc;

    memset(&r, 0, sizeof(r));
    if (sum)
        memset(sum, 0, sizeof(*sum));
    if (!copy_is_pg(dst_url))
        return berr_set(err, BERR_BAD_REQUEST, "the destination must be postgres://...");
    if (!dry_run && (copy_prepare(src_path, err) < 0 || copy_prepare(dst_url, err) < 0))
        return -1;
    r.dry = dry_run;
    r.fn = fn;
    r.ctx = ctx;
    r.err = err;
    if (pg_import_open(&r.pi, dst_url, dry_run, &r.dst_version, err) < 0)
        return -1;
    rc = sqlite_export(src_path, copy_skip, &r.src_version, copy_table, copy_row, &r, err);
    if (rc == 0)
        rc = copy_close_table(&r);
    pg_import_close(r.pi);
    if (rc != 0)
        return rc;
    r.sum.finished = true;
    r.sum.table = NULL;
    if (sum)
        *sum = r.sum;
    if (fn && (rc = fn(&r.sum, ctx)) != 0)
        return rc;
    if (r.sum.conflicts > 0)
        return berr_set(err, BERR_CONFLICT, "%lld rows conflict with other rows of the destination",
                        (long long)r.sum.conflicts);
    return 0;
}
