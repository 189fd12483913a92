/* gc_jobs_test.c - the garbage collection history on SQLite: a run's life (Pending, Running with
 * a log, Success), unknown ids, the list newest first with paging and its bounds, a log cut at
 * GC_JOB_LOG_MAX, and start-up marking of the runs a restart cut short. */
#include "storage/gc_jobs.h"

#include <string.h>

#include "common/mem.h"
#include "common/test.h"
#include "storage/test_meta.h"

static char tmpdir[64];

static void test_life(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    struct gc_job j, rows[4];
    int64_t id1 = 0, id2 = 0, total = 0;
    size_t n = 0;
    char *log = NULL;
    struct berr e;

    CHECK_INT_EQ(gc_job_create(m, true, 1000, &id1, &e), 0);
    CHECK_INT_EQ(gc_job_create(m, false, 1001, &id2, &e), 0);
    CHECK(id2 > id1);
    CHECK_INT_EQ(gc_job_get(m, id1, &j, &log, &e), 0);
    CHECK(j.dry_run);
    CHECK_INT_EQ(j.status, GC_JOB_PENDING);
    CHECK_INT_EQ(j.created, 1000);
    CHECK_STR_EQ(log, "");
    mem_free(log);
    CHECK_INT_EQ(gc_job_update(m, id1, GC_JOB_RUNNING, "line 1\n", 1002, &e), 0);
    CHECK_INT_EQ(gc_job_update(m, id1, GC_JOB_SUCCESS, NULL, 1003, &e), 0); /* log kept */
    CHECK_INT_EQ(gc_job_get(m, id1, &j, &log, &e), 0);
    CHECK_INT_EQ(j.status, GC_JOB_SUCCESS);
    CHECK_INT_EQ(j.updated, 1003);
    CHECK_STR_EQ(log, "line 1\n");
    mem_free(log);
    CHECK_INT_EQ(gc_job_get(m, 999, &j, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(gc_job_update(m, 999, GC_JOB_ERROR, NULL, 1, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(gc_job_update(m, id1, (enum gc_job_status)7, NULL, 1, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);

    CHECK_INT_EQ(gc_job_list(m, 0, rows, 1, &n, &total, &e), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(total, 2);
    CHECK_INT_EQ(rows[0].id, id2); /* newest first */
    CHECK_INT_EQ(gc_job_list(m, 1, rows, 4, &n, &total, &e), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(rows[0].id, id1);
    CHECK_INT_EQ(gc_job_list(m, -1, rows, 4, &n, &total, &e), -1);
    CHECK_INT_EQ(gc_job_list(m, 0, rows, GC_JOB_LIST_MAX + 1, &n, &total, &e), -1);

    /* id2 is still Pending: a restart marks it Error, id1 stays Success */
    {
        unsigned cut = 0;
        CHECK_INT_EQ(gc_job_interrupt(m, 2000, &cut, &e), 0);
        CHECK_INT_EQ(cut, 1);
    }
    CHECK_INT_EQ(gc_job_get(m, id2, &j, NULL, &e), 0);
    CHECK_INT_EQ(j.status, GC_JOB_ERROR);
    CHECK_INT_EQ(j.updated, 2000);
    CHECK_INT_EQ(gc_job_get(m, id1, &j, NULL, &e), 0);
    CHECK_INT_EQ(j.status, GC_JOB_SUCCESS);
    meta_close(m);
}

static void test_log_cut(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    size_t big = GC_JOB_LOG_MAX + 100;
    char *text = mem_malloc(big + 1);
    char *log = NULL;
    struct gc_job j;
    int64_t id = 0;
    struct berr e;

    CHECK(text != NULL);
    if (text == NULL)
        return;
    memset(text, 'x', big);
    text[big] = '\0';
    CHECK_INT_EQ(gc_job_create(m, false, 1, &id, &e), 0);
    CHECK_INT_EQ(gc_job_update(m, id, GC_JOB_SUCCESS, text, 2, &e), 0);
    CHECK_INT_EQ(gc_job_get(m, id, &j, &log, &e), 0);
    CHECK(log != NULL && strlen(log) <= GC_JOB_LOG_MAX);
    CHECK(log != NULL && strstr(log, "... log cut ...") != NULL);
    mem_free(log);
    mem_free(text);
    meta_close(m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "gc-jobs-test");
    TEST_RUN(test_life);
    TEST_RUN(test_log_cut);
    test_rm_rf(tmpdir);
    return test_summary();
}
