/* pg_gc_jobs.c - the garbage collection history's table in PostgreSQL (migration 4). The
 * PostgreSQL twin of sqlite_gc_jobs.c.
 *
 * Concurrency: every write is one statement (an INSERT, or an UPDATE of one row or of the
 * unfinished rows), atomic on its own; two replicas marking interrupted runs at start-up both
 * set status 3 on what is unfinished, which is the same result in either order. No locks
 * beyond the row locks of the statements, no retries needed.
 * Invariants (as sqlite_gc_jobs.c's):
 *   1. Ids grow (an identity column), so "newest first" is ORDER BY id DESC.
 *   2. A log is stored cut to GC_JOB_LOG_MAX bytes with a closing note.
 * Thread-safe: every call borrows its own connection. */
#include "storage/pg_int.h"

#include <string.h>

#include "common/mem.h"
#include "storage/gc_jobs.h"

static const char SQL_INSERT[] = "INSERT INTO gc_jobs(dry_run, status, created_at, updated_at)"
                                 " VALUES ($1, 0, $2, $2) RETURNING id";
static const char SQL_UPDATE[] = "UPDATE gc_jobs SET status = $2, updated_at = $3 WHERE id = $1";
static const char SQL_UPDATE_LOG[] =
        "UPDATE gc_jobs SET status = $2, updated_at = $3, log = $4 WHERE id = $1";
static const char SQL_GET[] =
        "SELECT id, dry_run, status, created_at, updated_at, log FROM gc_jobs WHERE id = $1";
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM gc_jobs";
static const char SQL_PAGE[] = "SELECT id, dry_run, status, created_at, updated_at FROM gc_jobs"
                               " ORDER BY id DESC LIMIT $1 OFFSET $2";
static const char SQL_INTERRUPT[] =
        "UPDATE gc_jobs SET status = 3, updated_at = $1 WHERE status IN (0, 1)";

#define CUT_NOTE "\n... log cut ...\n"

/* write_one runs one writing statement in its own transaction; the rows it changed, -1 */
static int write_one(struct meta *m, const char *sql, const struct pg_params *p, int64_t *id,
                     struct berr *err)
{
    struct pg_conn *c;
    int rc;

    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    if (id != NULL)
        rc = pg_run_i64(c, PG_Q_NONE, sql, p, id, err);
    else
        rc = pg_run(NULL, c, PG_Q_NONE, sql, p, err);
    if (pg_write_end(c, rc < 0 ? -1 : 0, err) < 0)
        return -1;
    return rc;
}

static int pg_gc_job_create(struct meta *m, bool dry_run, int64_t now, int64_t *id,
                            struct berr *err)
{
    struct pg_params p;
    int64_t v = 0;
    int rc;

    *id = 0;
    pg_params_init(&p);
    pg_p_bool(&p, dry_run);
    pg_p_i64(&p, now);
    rc = write_one(m, SQL_INSERT, &p, &v, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return berr_set(err, BERR_INTERNAL, "internal error"); /* RETURNING gives one row */
    *id = v;
    return 0;
}

static int pg_gc_job_update(struct meta *m, int64_t id, int status, const char *log, int64_t now,
                            struct berr *err)
{
    struct pg_params p;
    char *cut = NULL;
    int rc;

    if (log != NULL && strlen(log) > GC_JOB_LOG_MAX) {
        size_t keep = GC_JOB_LOG_MAX - sizeof(CUT_NOTE);

        cut = mem_malloc(GC_JOB_LOG_MAX + 1);
        if (cut == NULL)
            return berr_set(err, BERR_INTERNAL, "out of memory");
        memcpy(cut, log, keep);
        memcpy(cut + keep, CUT_NOTE, sizeof(CUT_NOTE));
        log = cut;
    }
    pg_params_init(&p);
    pg_p_i64(&p, id);
    pg_p_i64(&p, status);
    pg_p_i64(&p, now);
    if (log != NULL)
        pg_p_text(&p, log);
    rc = write_one(m, log != NULL ? SQL_UPDATE_LOG : SQL_UPDATE, &p, NULL, err);
    mem_free(cut);
    if (rc == 0)
        return berr_set(err, BERR_NOT_FOUND, "garbage collection run %lld not found",
                        (long long)id);
    return rc < 0 ? -1 : 0;
}

static void read_job(const PGresult *r, int row, struct gc_job *j)
{
    memset(j, 0, sizeof(*j));
    j->id = pg_i64(r, row, 0);
    j->dry_run = pg_bool(r, row, 1);
    switch (pg_i64(r, row, 2)) {
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
    j->created = pg_i64(r, row, 3);
    j->updated = pg_i64(r, row, 4);
}

static int pg_gc_job_get(struct meta *m, int64_t id, struct gc_job *out, char **log,
                         struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    pg_params_init(&p);
    pg_p_i64(&p, id);
    c = pg_conn_get(m);
    rc = pg_run(&r, c, PG_Q_NONE, SQL_GET, &p, err);
    pg_conn_put(c);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "garbage collection run %lld not found", (long long)id);
    if (rc > 0) {
        rc = 0;
        read_job(r, 0, out);
        if (log != NULL) {
            *log = mem_strndup(PQgetvalue(r, 0, 5), (size_t)PQgetlength(r, 0, 5));
            if (*log == NULL)
                rc = berr_set(err, BERR_INTERNAL, "out of memory");
        }
    }
    pg_res_free(r);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

static int pg_gc_job_list(struct meta *m, int64_t offset, struct gc_job *out, size_t cap, size_t *n,
                          int64_t *total, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    size_t i = 0;
    int rows;
    int rc;

    *n = 0;
    *total = 0;
    c = pg_conn_get(m);
    rc = pg_run_i64(c, PG_Q_NONE, SQL_COUNT, NULL, total, err) < 0 ? -1 : 0;
    if (rc == 0) {
        pg_params_init(&p);
        pg_p_i64(&p, (int64_t)cap);
        pg_p_i64(&p, offset);
        rows = pg_run(&r, c, PG_Q_NONE, SQL_PAGE, &p, err);
        rc = rows < 0 ? -1 : 0;
        for (int k = 0; k < rows && i < cap; k++)
            read_job(r, k, &out[i++]);
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

static int pg_gc_job_interrupt(struct meta *m, int64_t now, unsigned *n, struct berr *err)
{
    struct pg_params p;
    int rc;

    pg_params_init(&p);
    pg_p_i64(&p, now);
    rc = write_one(m, SQL_INTERRUPT, &p, NULL, err);
    if (rc < 0)
        return -1;
    if (n != NULL)
        *n = (unsigned)rc;
    return 0;
}

const struct meta_gc_job_ops pg_gc_job_ops = {
        .create = pg_gc_job_create,
        .update = pg_gc_job_update,
        .get = pg_gc_job_get,
        .list = pg_gc_job_list,
        .interrupt = pg_gc_job_interrupt,
};
