/* audit_test.c - unit tests for the audit log: queueing, batched flush, filters, paging,
 * project resolution, purge, a full queue, the background flusher, and concurrent recorders. */
#include "storage/audit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/test.h"
#include "common/util.h"
#include "storage/meta.h"
#include "storage/test_meta.h"

static char tmpdir[64];

static int64_t count(struct meta *m, const struct audit_q *q)
{
    struct audit_event out[4];
    struct berr e;
    size_t n;
    int64_t total = -1;

    if (audit_list(m, q, out, 4, &n, &total, &e) < 0)
        return -1;
    return total;
}

static void test_record_flush_list(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    struct audit *a = NULL;
    struct audit_event out[AUDIT_LIST_MAX];
    struct audit_q q;
    struct berr e;
    uint64_t flushed = 0;
    size_t n = 0;
    int64_t total = 0, pid;

    CHECK_INT_EQ(meta_project_create(m, "proj", false, 0, -1, &pid, &e), 0);
    CHECK_INT_EQ(audit_new(&a, m, 0, &e), 0);
    CHECK_INT_EQ(
            audit_record(a, "alice", "create", "artifact", "proj/app:v1", "proj", "10.0.0.1", true),
            0);
    CHECK_INT_EQ(
            audit_record(a, "bob", "pull", "artifact", "proj/app:v1", "proj", "10.0.0.2", true), 0);
    CHECK_INT_EQ(audit_record(a, "mallory", "login", "user", "mallory", NULL, "10.0.0.3", false),
                 0);
    CHECK_INT_EQ(audit_record(a, "admin", "delete", "project", "gone", "gone", NULL, true), 0);
    CHECK_INT_EQ((int64_t)audit_pending(a), 4);

    memset(&q, 0, sizeof(q));
    CHECK_INT_EQ(count(m, &q), 0); /* not flushed yet */
    CHECK_INT_EQ(audit_flush(a, &flushed, &e), 0);
    CHECK_INT_EQ((int64_t)flushed, 4);
    CHECK_INT_EQ((int64_t)audit_pending(a), 0);

    CHECK_INT_EQ(audit_list(m, &q, out, AUDIT_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 4);
    CHECK_INT_EQ(n, 4);
    CHECK_STR_EQ(out[0].username, "admin"); /* newest first */
    CHECK_INT_EQ(out[0].project_id, 0);     /* "gone" does not exist: no project */
    CHECK_STR_EQ(out[3].username, "alice");
    CHECK_STR_EQ(out[3].resource, "proj/app:v1");
    CHECK_STR_EQ(out[3].client, "10.0.0.1");
    CHECK_INT_EQ(out[3].project_id, pid);
    CHECK(out[3].result);
    CHECK(!out[1].result);
    CHECK(out[3].op_time > 0);
    CHECK(out[0].id > out[3].id);

    /* filters */
    q.username = "bob";
    CHECK_INT_EQ(count(m, &q), 1);
    q.username = "b";
    CHECK_INT_EQ(count(m, &q), 0);
    q.username_fuzzy = true;
    CHECK_INT_EQ(count(m, &q), 1);
    memset(&q, 0, sizeof(q));
    q.operation = "login";
    CHECK_INT_EQ(count(m, &q), 1);
    memset(&q, 0, sizeof(q));
    q.resource_type = "artifact";
    CHECK_INT_EQ(count(m, &q), 2);
    q.resource = "app";
    q.resource_fuzzy = true;
    CHECK_INT_EQ(count(m, &q), 2);
    memset(&q, 0, sizeof(q));
    q.project_id = pid;
    CHECK_INT_EQ(count(m, &q), 2);
    memset(&q, 0, sizeof(q));
    q.from = now_s() + 3600;
    CHECK_INT_EQ(count(m, &q), 0);
    q.from = now_s() - 3600;
    q.to = now_s() + 3600;
    CHECK_INT_EQ(count(m, &q), 4);

    /* paging, oldest first */
    memset(&q, 0, sizeof(q));
    q.oldest_first = true;
    q.offset = 1;
    CHECK_INT_EQ(audit_list(m, &q, out, 2, &n, &total, &e), 0);
    CHECK_INT_EQ(n, 2);
    CHECK_INT_EQ(total, 4);
    CHECK_STR_EQ(out[0].username, "bob");
    CHECK_STR_EQ(out[1].username, "mallory");
    CHECK_INT_EQ(audit_list(m, &q, out, AUDIT_LIST_MAX + 1, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);

    /* purge by age */
    {
        int64_t removed = -1;
        memset(&q, 0, sizeof(q));
        CHECK_INT_EQ(audit_purge(m, now_s() - 3600, &removed, &e), 0);
        CHECK_INT_EQ(removed, 0);
        CHECK_INT_EQ(audit_purge(m, now_s() + 1, &removed, &e), 0);
        CHECK_INT_EQ(removed, 4);
        CHECK_INT_EQ(count(m, &q), 0);
    }
    /* NULL handle: auditing off */
    CHECK_INT_EQ(audit_record(NULL, "x", "pull", "artifact", "r", NULL, NULL, true), 0);
    CHECK_INT_EQ(audit_flush(NULL, &flushed, &e), 0);
    audit_free(a);
    audit_free(NULL);
    meta_close(m);
}

static void test_truncation_and_full(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    struct audit *a = NULL;
    struct audit_event out[8];
    struct audit_q q;
    char longres[2000];
    struct berr e;
    size_t n;
    int64_t total;

    memset(longres, 'r', sizeof(longres) - 1);
    longres[sizeof(longres) - 1] = '\0';
    CHECK_INT_EQ(audit_new(&a, m, 3, &e), 0);
    CHECK_INT_EQ(audit_record(a, NULL, "pull", "artifact", longres, NULL, NULL, true), 0);
    CHECK_INT_EQ(audit_record(a, "u", "pull", "artifact", "r2", NULL, NULL, true), 0);
    CHECK_INT_EQ(audit_record(a, "u", "pull", "artifact", "r3", NULL, NULL, true), 0);
    /* the fourth finds the queue full: the recorder flushes, then queues it */
    CHECK_INT_EQ(audit_record(a, "u", "pull", "artifact", "r4", NULL, NULL, true), 0);
    CHECK_INT_EQ((int64_t)audit_pending(a), 1);
    memset(&q, 0, sizeof(q));
    q.oldest_first = true;
    CHECK_INT_EQ(audit_list(m, &q, out, 8, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 3);
    CHECK_INT_EQ(strlen(out[0].resource), AUDIT_RESOURCE_MAX);
    CHECK_STR_EQ(out[0].username, "");
    audit_free(a); /* flushes the last one */
    CHECK_INT_EQ(audit_list(m, &q, out, 8, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 4);
    CHECK_STR_EQ(out[3].resource, "r4");
    meta_close(m);
}

#define RECORDERS 4
#define PER_RECORDER 500
struct rec_arg {
    struct audit *a;
    int i;
    int failures;
};

static void *recorder(void *arg)
{
    struct rec_arg *ra = arg;
    char res[32];

    for (int k = 0; k < PER_RECORDER; k++) {
        (void)snprintf(res, sizeof(res), "t%d/%d", ra->i, k);
        if (audit_record(ra->a, "u", "pull", "artifact", res, NULL, NULL, true) < 0)
            ra->failures++;
    }
    return NULL;
}

static void test_flusher_concurrent(void)
{
    struct meta *m = test_meta_open(tmpdir, 4);
    struct audit *a = NULL;
    struct rec_arg ra[RECORDERS];
    pthread_t th[RECORDERS];
    struct audit_q q;
    struct berr e;
    int failures = 0;

    CHECK_INT_EQ(audit_new(&a, m, 64, &e), 0);
    CHECK_INT_EQ(audit_start(a, 20, &e), 0);
    CHECK_INT_EQ(audit_start(a, 20, &e), -1); /* once */
    for (int i = 0; i < RECORDERS; i++) {
        ra[i] = (struct rec_arg){.a = a, .i = i};
        if (pthread_create(&th[i], NULL, recorder, &ra[i]) != 0)
            abort();
    }
    for (int i = 0; i < RECORDERS; i++) {
        (void)pthread_join(th[i], NULL);
        failures += ra[i].failures;
    }
    CHECK_INT_EQ(failures, 0);
    /* the background flusher empties the queue without help */
    for (int waited = 0; audit_pending(a) > 0 && waited < 500; waited++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        (void)nanosleep(&ts, NULL);
    }
    CHECK_INT_EQ((int64_t)audit_pending(a), 0);
    /* pending is 0 as soon as the flusher took the last batch out; a flush of our own waits on
     * flush_mu for that batch to be written (and finds nothing left) */
    CHECK_INT_EQ(audit_flush(a, NULL, &e), 0);
    memset(&q, 0, sizeof(q));
    CHECK_INT_EQ(count(m, &q), RECORDERS * PER_RECORDER);
    audit_free(a);
    meta_close(m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "audit-test");
    TEST_RUN(test_record_flush_list);
    TEST_RUN(test_truncation_and_full);
    TEST_RUN(test_flusher_concurrent);
    test_rm_rf(tmpdir);
    return test_summary();
}
