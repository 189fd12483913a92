/* api_gc.c - garbage collection over the management API, with Harbor's paths: POST
 * /system/gc/schedule starts a manual run now (dry or real), GET /system/gc lists the runs,
 * GET /system/gc/{gc_id} shows one, GET /system/gc/{gc_id}/log its log as text.
 *
 * A run is gc_run (storage/gc.h, online mark-and-sweep, safe while serving) on a background
 * thread of its own, never on a request thread; its row in gc_jobs (storage/gc_jobs.h) goes
 * Pending -> Running -> Success | Error, and its log (progress lines, what was removed or would
 * be, counts, bytes, duration) is written to the row as it goes.
 * Invariants:
 *   1. At most one run at a time: `running` is set under `mu` in the same critical section that
 *      checked it and created the row, and cleared by the runner after its last write.
 *   2. A run's row reaches Success or Error before `running` is cleared; a run cut short by a
 *      restart is marked Error at start-up (api_gc_startup).
 *   3. The runner uses only the registry handles, which outlive it: service_close calls
 *      api_gc_wait before closing them.
 * Thread-safety: `mu` guards `running`; `cv` is signalled when it is cleared. Everything else is
 * per request or owned by the one runner. */
#include "api/api_gc.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"
#include "config/config.h"
#include "storage/gc.h"
#include "storage/gc_jobs.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool running; /* guarded by mu: a runner thread exists */

struct gc_task {
    struct registry *reg;
    int64_t id;
    bool dry_run;
    struct buf log;
    time_t last_write;
};

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static void task_write(struct gc_task *t, enum gc_job_status st)
{
    struct berr e;

    if (gc_job_update(t->reg->meta, t->id, st, t->log.data != NULL ? t->log.data : "", now_s(),
                      &e) < 0)
        log_msg(LOG_WARN, "gc run %lld: cannot record its state: %s", (long long)t->id, e.msg);
    t->last_write = time(NULL);
}

static void on_progress(const char *phase, uint64_t done, uint64_t bytes, void *ctx)
{
    struct gc_task *t = ctx;

    /* a full log keeps its head: the summary lines still fit, gc_jobs cuts the stored text */
    (void)buf_printf(&t->log, "progress: %s: %llu items, %llu bytes\n", phase,
                     (unsigned long long)done, (unsigned long long)bytes);
    if (time(NULL) != t->last_write)
        task_write(t, GC_JOB_RUNNING);
}

static void *runner(void *arg)
{
    struct gc_task *t = arg;
    const struct berth_config *cfg = t->reg->cfg;
    struct gc_opts o = {
            .window_s = (int64_t)cfg->gc_window_s,
            .upload_age_s = (int64_t)cfg->upload_purge_age_s,
            .dry_run = t->dry_run,
            .progress = on_progress,
            .progress_ctx = t,
    };
    struct gc_stats s;
    struct timespec t0, t1;
    struct berr e;
    int rc;

    (void)clock_gettime(CLOCK_MONOTONIC, &t0); /* CLOCK_MONOTONIC always exists on Linux */
    (void)buf_printf(&t->log, "garbage collection %lld started%s, window %lld s\n",
                     (long long)t->id, t->dry_run ? " (dry run: nothing is removed)" : "",
                     (long long)o.window_s);
    task_write(t, GC_JOB_RUNNING);
    memset(&e, 0, sizeof(e));
    rc = gc_run(&s, t->reg->meta, t->reg->blobs, t->reg->uploads, &o, &e);
    (void)clock_gettime(CLOCK_MONOTONIC, &t1);
    (void)buf_printf(&t->log,
                     "%s %u unreferenced blobs (%llu bytes), %u orphan files (%llu bytes),"
                     " %u repository links, %u upload sessions\n",
                     t->dry_run ? "would remove" : "removed", s.blobs_removed,
                     (unsigned long long)s.blob_bytes, s.orphans_removed,
                     (unsigned long long)s.orphan_bytes, s.links_removed, s.uploads_removed);
    if (s.bad_names > 0)
        (void)buf_printf(&t->log, "left alone %u entries whose names are not digests\n",
                         s.bad_names);
    if (rc < 0)
        (void)buf_printf(&t->log, "failed: %s\n", e.msg);
    (void)buf_printf(&t->log, "duration: %.3f s\n%s\n",
                     (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
                     rc < 0 ? "result: error" : "result: success");
    log_msg(rc < 0 ? LOG_WARN : LOG_INFO, "gc run %lld%s: %u blobs, %llu bytes%s", (long long)t->id,
            t->dry_run ? " (dry run)" : "", s.blobs_removed,
            (unsigned long long)(s.blob_bytes + s.orphan_bytes), rc < 0 ? ", failed" : "");
    task_write(t, rc < 0 ? GC_JOB_ERROR : GC_JOB_SUCCESS);
    buf_cleanup(&t->log);
    mem_free(t);
    if (pthread_mutex_lock(&mu) != 0)
        abort();
    running = false;
    (void)pthread_cond_broadcast(&cv); /* cannot fail on an initialised condition */
    (void)pthread_mutex_unlock(&mu);
    return NULL;
}

/* start creates the row and the runner under mu: 0 with *id, 1 when a run is going, -1 */
static int start(struct registry *reg, bool dry_run, int64_t *id, struct berr *err)
{
    struct gc_task *t;
    pthread_attr_t attr;
    pthread_t th;
    int rc = 0;

    *id = 0;
    if (pthread_mutex_lock(&mu) != 0)
        abort();
    if (running) {
        rc = 1;
        goto out;
    }
    t = mem_calloc(1, sizeof(*t));
    if (t == NULL) {
        rc = berr_set(err, BERR_INTERNAL, "out of memory");
        goto out;
    }
    t->reg = reg;
    t->dry_run = dry_run;
    buf_init(&t->log, GC_JOB_LOG_MAX);
    rc = gc_job_create(reg->meta, dry_run, now_s(), &t->id, err);
    if (rc == 0)
        *id = t->id; /* before the runner starts: it frees t when it ends, without mu */
    if (rc == 0 && pthread_attr_init(&attr) != 0)
        rc = berr_set(err, BERR_INTERNAL, "cannot start a thread");
    if (rc == 0) {
        if (pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0 ||
            pthread_create(&th, &attr, runner, t) != 0)
            rc = berr_set(err, BERR_INTERNAL, "cannot start a thread");
        (void)pthread_attr_destroy(&attr); /* cannot fail on an initialised attribute */
        if (rc < 0) {
            struct berr e2;
            if (gc_job_update(reg->meta, t->id, GC_JOB_ERROR, "failed: cannot start a thread\n",
                              now_s(), &e2) < 0)
                log_msg(LOG_WARN, "gc: cannot record a failed start: %s", e2.msg);
        }
    }
    if (rc < 0) {
        *id = 0;
        buf_cleanup(&t->log);
        mem_free(t);
        goto out;
    }
    running = true;
out:
    (void)pthread_mutex_unlock(&mu);
    return rc;
}

void api_gc_wait(void)
{
    if (pthread_mutex_lock(&mu) != 0)
        abort();
    while (running)
        (void)pthread_cond_wait(&cv, &mu); /* cannot fail with a locked, initialised mutex */
    (void)pthread_mutex_unlock(&mu);
}

int api_gc_startup(struct meta *m, struct berr *err)
{
    unsigned n = 0;

    if (gc_job_interrupt(m, now_s(), &n, err) < 0)
        return -1;
    if (n > 0)
        log_msg(LOG_WARN, "gc: %u runs cut short by a restart marked Error", n);
    return 0;
}

/* ---- handlers ---- */

int api_gc_schedule(struct api_call *c)
{
    json_t *body = NULL, *sched, *params;
    const char *type = NULL;
    bool dry_run = false, present = false;
    char loc[64];
    int64_t id = 0;
    struct berr e;
    int rc;

    if (api_body(c, &body) < 0)
        return -1;
    sched = json_object_get(body, "schedule");
    if (!json_is_object(sched)) {
        json_decref(body);
        return api_stop(api_fail(c, HTTP_BAD_REQUEST, "schedule is required"));
    }
    rc = api_get_str(c, sched, "type", &type, &present);
    if (rc == 0 || (rc == 1 && strcmp(type, "Manual") != 0)) {
        json_decref(body);
        return api_stop(
                api_fail(c, HTTP_BAD_REQUEST, "only a Manual schedule (run now) is supported"));
    }
    params = json_object_get(body, "parameters");
    if (rc > 0 && params != NULL) {
        if (!json_is_object(params)) {
            json_decref(body);
            return api_stop(api_fail(c, HTTP_BAD_REQUEST, "parameters must be an object"));
        }
        rc = api_get_bool(c, params, "dry_run", &dry_run, &present);
    }
    json_decref(body);
    if (rc < 0)
        return -1;
    rc = start(c->r->reg, dry_run, &id, &e);
    if (rc < 0)
        return api_fail_berr(c, &e);
    if (rc > 0)
        return api_stop(api_fail(c, HTTP_CONFLICT, "a garbage collection is already running"));
    (void)snprintf(loc, sizeof(loc), "/system/gc/%lld", (long long)id); /* fits: 20 digits */
    return api_reply_created(c, loc);
}

static json_t *job_json(const struct gc_job *j)
{
    char created[32], updated[32];

    api_time(j->created, created, sizeof(created));
    api_time(j->updated, updated, sizeof(updated));
    return json_pack("{s:I, s:s, s:s, s:{s:s}, s:s, s:s, s:s, s:s, s:b}", "id", (json_int_t)j->id,
                     "job_name", "GARBAGE_COLLECTION", "job_kind", "MANUAL", "schedule", "type",
                     "Manual", "job_parameters",
                     j->dry_run ? "{\"dry_run\":true}" : "{\"dry_run\":false}", "job_status",
                     gc_job_status_name(j->status), "creation_time", created, "update_time",
                     updated, "deleted", 0);
}

int api_gc_list(struct api_call *c)
{
    struct api_page p;
    struct gc_job rows[API_PAGE_SIZE_MAX];
    size_t n = 0;
    int64_t total = 0;
    json_t *arr;
    struct berr e;

    if (api_page_parse(c, api_q_none, NULL, &p) < 0)
        return -1;
    if (gc_job_list(c->r->reg->meta, (p.page - 1) * p.page_size, rows, (size_t)p.page_size, &n,
                    &total, &e) < 0)
        return api_fail_berr(c, &e);
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        api_array_push(&arr, job_json(&rows[i]));
    return api_reply_page(c, arr, &p, total);
}

int api_gc_get(struct api_call *c)
{
    struct gc_job j;
    struct berr e;

    if (gc_job_get(c->r->reg->meta, c->id, &j, NULL, &e) < 0)
        return api_fail_berr(c, &e);
    return api_reply_json(c, HTTP_OK, job_json(&j));
}

int api_gc_log(struct api_call *c)
{
    struct gc_job j;
    char *log = NULL;
    struct berr e;
    size_t len;

    if (gc_job_get(c->r->reg->meta, c->id, &j, &log, &e) < 0)
        return api_fail_berr(c, &e);
    len = strlen(log);
    c->out->resp = http_resp_bytes(log, len, "text/plain; charset=utf-8");
    c->out->status = HTTP_OK;
    c->out->len = len;
    mem_free(log);
    return c->out->resp != NULL ? 0 : -1;
}
