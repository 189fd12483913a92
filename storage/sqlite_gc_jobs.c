/* sqlite_gc_jobs.c - the garbage collection history's table in SQLite (migration 4).
 *
 * Invariants:
 *   1. Writes are single statements in BEGIN IMMEDIATE transactions; ids grow, so "newest first"
 *      is ORDER BY id DESC.
 *   2. A log is stored cut to GC_JOB_LOG_MAX bytes with a closing note.
 * All SQL is static with bound parameters; statements are prepared per call and finalized
 * before the connection is given back. Thread-safe: every call borrows its own connection. */
#include "storage/sqlite_int.h"

#include <string.h>

#include "common/mem.h"
#include "storage/gc_jobs.h"

static const char SQL_INSERT[] = "INSERT INTO gc_jobs(dry_run, status, created_at, updated_at)"
                                 " VALUES (?1, 0, ?2, ?2)";
static const char SQL_UPDATE[] = "UPDATE gc_jobs SET status = ?2, updated_at = ?3 WHERE id = ?1";
static const char SQL_UPDATE_LOG[] =
        "UPDATE gc_jobs SET status = ?2, updated_at = ?3, log = ?4 WHERE id = ?1";
static const char SQL_GET[] =
        "SELECT id, dry_run, status, created_at, updated_at, log FROM gc_jobs WHERE id = ?1";
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM gc_jobs";
static const char SQL_PAGE[] = "SELECT id, dry_run, status, created_at, updated_at, '' FROM gc_jobs"
                               " ORDER BY id DESC LIMIT ?1 OFFSET ?2";
static const char SQL_INTERRUPT[] =
        "UPDATE gc_jobs SET status = 3, updated_at = ?1 WHERE status IN (0, 1)";

#define CUT_NOTE "\n... log cut ...\n"

static int sq_gc_job_create(struct meta *m, bool dry_run, int64_t now, int64_t *id,
                            struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int rc;

    *id = 0;
    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_prepare(&st, c, SQL_INSERT, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, dry_run ? 1 : 0, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, now, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0)
        *id = (int64_t)sqlite3_last_insert_rowid(c->db);
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    rc = sq_write_end(c, rc, err);
    if (rc < 0)
        *id = 0;
    return rc;
}

static int sq_gc_job_update(struct meta *m, int64_t id, int status, const char *log, int64_t now,
                            struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    char *cut = NULL;
    size_t len = log != NULL ? strlen(log) : 0;
    int rc;

    if (log != NULL && len > GC_JOB_LOG_MAX) {
        size_t keep = GC_JOB_LOG_MAX - sizeof(CUT_NOTE);
        cut = mem_malloc(GC_JOB_LOG_MAX + 1);
        if (cut == NULL)
            return berr_set(err, BERR_INTERNAL, "out of memory");
        memcpy(cut, log, keep);
        memcpy(cut + keep, CUT_NOTE, sizeof(CUT_NOTE));
        log = cut;
        len = strlen(cut);
    }
    rc = sq_write_begin(&c, m, err);
    if (rc < 0) {
        mem_free(cut);
        return -1;
    }
    rc = sq_prepare(&st, c, log != NULL ? SQL_UPDATE_LOG : SQL_UPDATE, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, status, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, now, err);
    if (rc == 0 && log != NULL)
        rc = sq_bind_text(c, st, 4, log, len, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "garbage collection run %lld not found", (long long)id);
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    rc = sq_write_end(c, rc, err);
    mem_free(cut);
    return rc;
}

static void read_job(sqlite3_stmt *st, struct gc_job *j)
{
    memset(j, 0, sizeof(*j));
    j->id = (int64_t)sqlite3_column_int64(st, 0);
    j->dry_run = sqlite3_column_int(st, 1) != 0;
    switch (sqlite3_column_int(st, 2)) {
    case 0:
        j->status = GC_JOB_PENDING;
        break;
    case 1:
        j->status = GC_JOB_RUNNING;
        break;
    case 2:
        j->status = GC_JOB_SUCCESS;
        break;
    default:
        j->status = GC_JOB_ERROR;
        break;
    }
    j->created = (int64_t)sqlite3_column_int64(st, 3);
    j->updated = (int64_t)sqlite3_column_int64(st, 4);
}

static int sq_gc_job_get(struct meta *m, int64_t id, struct gc_job *out, char **log,
                         struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = sq_prepare(&st, c, SQL_GET, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, id, err);
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "garbage collection run %lld not found", (long long)id);
    if (rc == 1) {
        rc = 0;
        read_job(st, out);
        if (log != NULL) {
            const unsigned char *t = sqlite3_column_text(st, 5);
            int n = sqlite3_column_bytes(st, 5);
            *log = mem_strndup(t != NULL ? (const char *)t : "",
                               t != NULL && n > 0 ? (size_t)n : 0);
            if (*log == NULL)
                rc = berr_set(err, BERR_INTERNAL, "out of memory");
        }
    }
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    sq_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

static int sq_gc_job_list(struct meta *m, int64_t offset, struct gc_job *out, size_t cap, size_t *n,
                          int64_t *total, struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st = NULL;
    size_t i = 0;
    int rc;

    *n = 0;
    *total = 0;
    rc = sq_prepare(&st, c, SQL_COUNT, err);
    if (rc == 0)
        rc = sq_step_i64(c, st, total, err);
    if (rc == 1)
        rc = 0;
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    st = NULL;
    if (rc == 0)
        rc = sq_prepare(&st, c, SQL_PAGE, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, (int64_t)cap, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, offset, err);
    while (rc == 0 && i < cap) {
        rc = sq_step(c, st, err);
        if (rc <= 0)
            break;
        read_job(st, &out[i++]);
        rc = 0;
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

static int sq_gc_job_interrupt(struct meta *m, int64_t now, unsigned *n, struct berr *err)
{
    int changed = 0;
    int rc;

    rc = sq_write_i64(m, SQL_INTERRUPT, now, &changed, err);
    if (rc == 0 && n != NULL)
        *n = (unsigned)changed;
    return rc;
}

const struct meta_gc_job_ops sqlite_gc_job_ops = {
        .create = sq_gc_job_create,
        .update = sq_gc_job_update,
        .get = sq_gc_job_get,
        .list = sq_gc_job_list,
        .interrupt = sq_gc_job_interrupt,
};
