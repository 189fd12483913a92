/* api_gc_test.c - garbage collection over the management API, in-process: who may start and
 * read runs; a dry run removes nothing and reports what it would; a real run removes an
 * unreferenced blob once it is older than the window (0 s here); the history (newest first,
 * paged) and the log; 409 while a run is going (test builds: the run is held in gc's drop
 * hook); runs cut short by a restart are marked Error; the start is audit-logged. */
#include "api/test_api.h"

#include <pthread.h>
#include <time.h>

#include "api/api_gc.h"
#include "storage/audit.h"
#include "storage/gc.h"
#include "storage/gc_jobs.h"

static struct test_api w;

#define DRY "{\"schedule\":{\"type\":\"Manual\"},\"parameters\":{\"dry_run\":true}}"
#define REAL "{\"schedule\":{\"type\":\"Manual\"},\"parameters\":{\"dry_run\":false}}"

/* a blob linked to a repository no manifest uses: gc unlinks it, then removes it */
static void push_spare(const char *data, char *dstr)
{
    time_t t0 = time(NULL);

    CHECK_INT_EQ(test_push_blob(&w.t, w.auth[W_ADMIN], "priv/spare", data, strlen(data), dstr),
                 201);
    /* rows younger than now - window (0 s) are spared: wait for the clock's next second */
    while (time(NULL) <= t0 + 1) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static bool blob_there(const char *dstr)
{
    struct digest d;
    uint64_t size = 0;
    struct berr e;

    if (digest_parse(&d, dstr, strlen(dstr), &e) < 0)
        return false;
    return blob_store_stat(w.t.reg.blobs, &d, &size, &e) == 0;
}

/* start posts body as admin and returns the run's id from Location (0 on failure) */
static int64_t start(const char *body)
{
    struct http_fake_result res;
    const char *loc;
    long long id = 0;

    test_api_req(&res, &w, W_ADMIN, "POST", "/api/v2.0/system/gc/schedule", body);
    CHECK_INT_EQ(res.status, 201);
    loc = http_fake_get(&res, "Location");
    CHECK(loc != NULL && sscanf(loc, "/api/v2.0/system/gc/%lld", &id) == 1);
    http_fake_result_cleanup(&res);
    return id;
}

static json_t *get_run(int64_t id)
{
    struct http_fake_result res;
    char target[128];
    json_t *j;

    snprintf(target, sizeof(target), "/api/v2.0/system/gc/%lld", (long long)id);
    test_api_req(&res, &w, W_ADMIN, "GET", target, NULL);
    CHECK_INT_EQ(res.status, 200);
    j = test_api_json(&res);
    http_fake_result_cleanup(&res);
    return j;
}

static char *get_log(int64_t id)
{
    struct http_fake_result res;
    char target[128];
    char *s;

    snprintf(target, sizeof(target), "/api/v2.0/system/gc/%lld/log", (long long)id);
    test_api_req(&res, &w, W_ADMIN, "GET", target, NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(http_fake_get(&res, "Content-Type"), "text/plain; charset=utf-8");
    s = strndup(res.body != NULL ? res.body : "", res.body_len);
    http_fake_result_cleanup(&res);
    return s;
}

static void test_permissions(void)
{
    CHECK(test_api_err(&w, W_ANON, "POST", "/api/v2.0/system/gc/schedule", DRY, TEST_API_401));
    CHECK(test_api_err(&w, W_PA, "POST", "/api/v2.0/system/gc/schedule", DRY, TEST_API_403));
    CHECK(test_api_err(&w, W_ROBOT_ALL, "POST", "/api/v2.0/system/gc/schedule", DRY, TEST_API_403));
    CHECK(test_api_err(&w, W_ANON, "GET", "/api/v2.0/system/gc", NULL, TEST_API_401));
    CHECK(test_api_err(&w, W_DEV, "GET", "/api/v2.0/system/gc", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_OUT, "GET", "/api/v2.0/system/gc/1", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_OUT, "GET", "/api/v2.0/system/gc/1/log", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/system/gc/x", NULL, HTTP_BAD_REQUEST,
                       "BAD_REQUEST", "invalid gc id"));
    CHECK_INT_EQ(test_api_status(&w, W_ADMIN, "GET", "/api/v2.0/system/gc/999", NULL), 404);
    CHECK_INT_EQ(test_api_status(&w, W_ADMIN, "GET", "/api/v2.0/system/gc/999/log", NULL), 404);
    CHECK(test_api_err(&w, W_ADMIN, "POST", "/api/v2.0/system/gc/schedule",
                       "{\"schedule\":{\"type\":\"Hourly\"}}", HTTP_BAD_REQUEST, "BAD_REQUEST",
                       "only a Manual schedule (run now) is supported"));
    CHECK(test_api_err(&w, W_ADMIN, "POST", "/api/v2.0/system/gc/schedule", "{}", HTTP_BAD_REQUEST,
                       "BAD_REQUEST", "schedule is required"));
    CHECK_INT_EQ(test_api_status(&w, W_ADMIN, "POST", "/api/v2.0/system/gc/schedule",
                                 "{\"schedule\":{\"type\":\"Manual\"},\"parameters\":"
                                 "{\"dry_run\":\"yes\"}}"),
                 400);
}

static void test_dry_then_real(void)
{
    char d[DIGEST_STR_LEN + 1];
    json_t *j;
    char *log;
    int64_t dry, real;

    push_spare("spare layer bytes", d);
    dry = start(DRY);
    api_gc_wait();
    CHECK(blob_there(d)); /* a dry run removes nothing */
    j = get_run(dry);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "job_status")), "Success");
    CHECK_STR_EQ(json_string_value(json_object_get(j, "job_name")), "GARBAGE_COLLECTION");
    CHECK_STR_EQ(json_string_value(json_object_get(j, "job_kind")), "MANUAL");
    CHECK_STR_EQ(json_string_value(json_object_get(j, "job_parameters")), "{\"dry_run\":true}");
    CHECK(json_is_false(json_object_get(j, "deleted")));
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(j, "schedule"), "type")),
                 "Manual");
    CHECK(json_string_value(json_object_get(j, "creation_time")) != NULL);
    json_decref(j);
    log = get_log(dry);
    CHECK(strstr(log, "dry run") != NULL);
    /* the blob's only link is dangling: the dry run reports the link it would remove (the
     * blob becomes unreferenced only once that link is gone, in a real run) */
    CHECK(strstr(log, "would remove 0 unreferenced blobs (0 bytes), 0 orphan files (0 bytes),"
                      " 1 repository links") != NULL);
    CHECK(strstr(log, "duration: ") != NULL);
    CHECK(strstr(log, "result: success") != NULL);
    free(log);

    real = start(REAL);
    CHECK(real > dry);
    api_gc_wait();
    CHECK(!blob_there(d)); /* older than the window and unreferenced: gone */
    j = get_run(real);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "job_status")), "Success");
    CHECK_STR_EQ(json_string_value(json_object_get(j, "job_parameters")), "{\"dry_run\":false}");
    json_decref(j);
    log = get_log(real);
    CHECK(strstr(log, "removed 1 unreferenced blobs (17 bytes), 0 orphan files (0 bytes),"
                      " 1 repository links") != NULL);
    CHECK(strstr(log, "progress: ") != NULL);
    free(log);
}

static void test_history(void)
{
    struct http_fake_result res;
    char names[256];
    json_t *j;

    test_api_req(&res, &w, W_ADMIN, "GET", "/api/v2.0/system/gc?page=1&page_size=1", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "2");
    CHECK(http_fake_get(&res, "Link") != NULL &&
          strstr(http_fake_get(&res, "Link"), "rel=\"next\"") != NULL);
    j = test_api_json(&res);
    CHECK_INT_EQ(json_array_size(j), 1);
    /* newest first: the real run */
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "job_parameters")),
                 "{\"dry_run\":false}");
    json_decref(j);
    http_fake_result_cleanup(&res);
    test_api_req(&res, &w, W_ADMIN, "GET", "/api/v2.0/system/gc", NULL);
    CHECK_STR_EQ(test_api_names(&res, "job_status", names, sizeof(names)), "Success,Success");
    http_fake_result_cleanup(&res);
}

static void test_audited(void)
{
    struct audit_q q;
    struct audit_event ev[4];
    size_t n = 0;
    int64_t total = 0;
    struct berr e;

    CHECK_INT_EQ(audit_flush(w.t.reg.audit, NULL, &e), 0);
    memset(&q, 0, sizeof(q));
    q.resource_type = "garbage_collection";
    CHECK_INT_EQ(audit_list(w.t.reg.meta, &q, ev, 4, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    if (n > 0) {
        CHECK_STR_EQ(ev[0].operation, "create");
        CHECK_STR_EQ(ev[0].username, "admin");
    }
}

#ifdef BERTH_TEST_BUILD
static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static bool held, released;

static void hold_hook(const struct digest *d, void *ctx)
{
    (void)d;
    (void)ctx;
    pthread_mutex_lock(&hold_mu);
    held = true;
    pthread_cond_broadcast(&hold_cv);
    while (!released)
        pthread_cond_wait(&hold_cv, &hold_mu);
    pthread_mutex_unlock(&hold_mu);
}

static void test_conflict_while_running(void)
{
    char d[DIGEST_STR_LEN + 1];
    struct timespec dl;
    json_t *j;
    int64_t id;

    push_spare("another spare layer", d);
    gc_test_drop_hook = hold_hook;
    id = start(REAL);
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
    pthread_mutex_lock(&hold_mu);
    while (!held && pthread_cond_timedwait(&hold_cv, &hold_mu, &dl) == 0)
        ;
    pthread_mutex_unlock(&hold_mu);
    CHECK(held);
    CHECK(test_api_err(&w, W_ADMIN, "POST", "/api/v2.0/system/gc/schedule", DRY, HTTP_CONFLICT,
                       "CONFLICT", "a garbage collection is already running"));
    j = get_run(id);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "job_status")), "Running");
    json_decref(j);
    pthread_mutex_lock(&hold_mu);
    released = true;
    pthread_cond_broadcast(&hold_cv);
    pthread_mutex_unlock(&hold_mu);
    api_gc_wait();
    gc_test_drop_hook = NULL;
    j = get_run(id);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "job_status")), "Success");
    json_decref(j);
    CHECK(!blob_there(d));
}
#endif

/* a run a restart cut short is Error after api_gc_startup; finished runs stay as they were */
static void test_interrupted(void)
{
    struct gc_job job;
    int64_t id = 0;
    struct berr e;

    CHECK_INT_EQ(gc_job_create(w.t.reg.meta, true, 100, &id, &e), 0);
    CHECK_INT_EQ(gc_job_update(w.t.reg.meta, id, GC_JOB_RUNNING, "half", 101, &e), 0);
    CHECK_INT_EQ(api_gc_startup(w.t.reg.meta, &e), 0);
    CHECK_INT_EQ(gc_job_get(w.t.reg.meta, id, &job, NULL, &e), 0);
    CHECK_INT_EQ(job.status, GC_JOB_ERROR);
    CHECK_INT_EQ(gc_job_get(w.t.reg.meta, 1, &job, NULL, &e), 0);
    CHECK_INT_EQ(job.status, GC_JOB_SUCCESS);
}

int main(void)
{
    test_api_open(&w);
    w.t.cfg.gc_window_s = 0;
    TEST_RUN(test_permissions);
    TEST_RUN(test_dry_then_real);
    TEST_RUN(test_history);
    TEST_RUN(test_audited);
#ifdef BERTH_TEST_BUILD
    TEST_RUN(test_conflict_while_running);
#endif
    TEST_RUN(test_interrupted);
    api_gc_wait();
    test_api_close(&w);
    return test_summary();
}
