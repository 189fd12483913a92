/* pg_concurrency_test.c - the PostgreSQL backend under several replicas: two metadata handles
 * (two pools, as two berth processes would have) on one database, with threads on both.
 *   - quota: pushes into one project whose limit admits only some of the blobs; a watcher reads
 *     the usage all along: it never exceeds the limit, the project ends exactly full, and the
 *     admitted pushes are exactly the blobs the usage counts;
 *   - pull counts: both handles record pulls of two repositories and flush them concurrently
 *     (keys that share rows, in different orders): the counters and the hourly and daily
 *     history add up to exactly what was recorded;
 *   - tags: both handles push manifests moving one tag, and push and delete untagged ones:
 *     the tag always resolves to a manifest of the repository, and ends on the last push.
 * Needs a PostgreSQL server (BERTH_TEST_PG_URL, as tests/run.sh starts with scripts/pg.sh);
 * without one every test is skipped. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/test.h"
#include "storage/meta.h"
#include "storage/pulls.h"
#include "storage/quota.h"
#include "storage/test_meta.h"

static char tmpdir[64];

/* two handles on one fresh database (schema) */
static void open_two(struct meta **a, struct meta **b, unsigned pool)
{
    char path[512];
    struct berr e;

    *a = test_meta_open_at(tmpdir, pool, path, sizeof(path));
    if (meta_open(b, path, pool, &e) < 0) {
        fprintf(stderr, "second handle: %s\n", e.msg);
        abort();
    }
}

/* ---- quota ---- */

#define Q_THREADS 8 /* half on each handle */
#define Q_PER_THREAD 12
#define Q_SIZE 10  /* bytes per blob */
#define Q_ADMIT 25 /* blobs the limit admits */

struct q_pusher {
    struct meta *m;
    int id;
    int ok[Q_PER_THREAD + 1]; /* 1 when blob i was admitted; [Q_PER_THREAD]: the shared one */
    int errors;               /* failures other than BERR_DENIED */
};

static int q_push(struct q_pusher *w, const char *content, const char *repo)
{
    struct repo_name r = test_repo_name(repo);
    struct digest d = test_digest_of(content);
    struct berr e;

    if (meta_blob_link_quota(w->m, &r, &d, Q_SIZE, NULL, &e) == 0)
        return 1;
    if (e.code != BERR_DENIED) {
        fprintf(stderr, "pusher %d: %s\n", w->id, e.msg);
        w->errors++;
    }
    return 0;
}

static void *q_run(void *arg)
{
    struct q_pusher *w = arg;
    char content[32], repo[32];

    (void)snprintf(repo, sizeof(repo), "race/r%d", w->id % 3);
    /* every pusher pushes one shared blob too: the project pays for it once */
    w->ok[Q_PER_THREAD] = q_push(w, "shared", repo);
    for (int i = 0; i < Q_PER_THREAD; i++) {
        (void)snprintf(content, sizeof(content), "q-%d-%d", w->id, i);
        w->ok[i] = q_push(w, content, repo);
    }
    return NULL;
}

struct q_watch {
    struct meta *m;
    int64_t project_id;
    volatile int stop;
    int64_t max_used;
    int samples;
};

static void *q_watch_run(void *arg)
{
    struct q_watch *w = arg;
    struct berr e;
    int64_t used;

    while (!w->stop) {
        if (quota_usage(w->m, w->project_id, &used, &e) == 0) {
            if (used > w->max_used)
                w->max_used = used;
            w->samples++;
        }
    }
    return NULL;
}

static void test_quota_two_handles(void)
{
    struct meta *a, *b;
    struct q_pusher w[Q_THREADS];
    struct q_watch watch;
    pthread_t th[Q_THREADS], wt;
    struct berr e;
    int64_t pid = 0, used = -1;
    int admitted = 0, shared = 0, errors = 0;

    open_two(&a, &b, 4);
    CHECK_INT_EQ(meta_project_create(a, "race", false, 0, Q_ADMIT * Q_SIZE, &pid, &e), 0);
    memset(&watch, 0, sizeof(watch));
    watch.m = b;
    watch.project_id = pid;
    CHECK_INT_EQ(pthread_create(&wt, NULL, q_watch_run, &watch), 0);
    for (int i = 0; i < Q_THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].m = i % 2 == 0 ? a : b;
        w[i].id = i;
        CHECK_INT_EQ(pthread_create(&th[i], NULL, q_run, &w[i]), 0);
    }
    for (int i = 0; i < Q_THREADS; i++) {
        CHECK_INT_EQ(pthread_join(th[i], NULL), 0);
        errors += w[i].errors;
        for (int k = 0; k < Q_PER_THREAD; k++)
            admitted += w[i].ok[k];
        shared += w[i].ok[Q_PER_THREAD];
    }
    watch.stop = 1;
    CHECK_INT_EQ(pthread_join(wt, NULL), 0);
    CHECK_INT_EQ(errors, 0);
    CHECK(watch.samples > 0);
    CHECK(watch.max_used <= Q_ADMIT * Q_SIZE);
    /* more was pushed than fits: the project ends exactly full */
    CHECK_INT_EQ(quota_usage(a, pid, &used, &e), 0);
    CHECK_INT_EQ(used, Q_ADMIT * Q_SIZE);
    /* every admitted blob is counted once: the shared one (admitted to all or none) once */
    CHECK(shared == 0 || shared == Q_THREADS);
    CHECK_INT_EQ((admitted + (shared > 0 ? 1 : 0)) * Q_SIZE, used);
    fprintf(stderr, "quota: %d unique admitted, shared %s, %d usage samples, max %lld\n", admitted,
            shared > 0 ? "admitted" : "refused", watch.samples, (long long)watch.max_used);
    meta_close(b);
    meta_close(a);
}

/* ---- pull counts ---- */

#define P_THREADS 4 /* recording threads per handle */
#define P_PER_THREAD 400
#define P_BASE 1700000000 /* a whole day, so hours and days start on it */
#define P_HOURS 5

struct p_side {
    struct meta *m;
    struct pulls *p;
    volatile int stop;
    int flushes;
    int errors;
};

struct p_rec {
    struct p_side *side;
    int id;
    int errors;
};

/* pull i of thread id: which repository, whether by tag, which hour and who */
static void p_event(int id, int i, struct pulls_event *ev, struct repo_name *r, struct digest *d,
                    struct tag *t)
{
    static const char *const who[] = {"alice", "bob", "robot$ci"};
    bool other = (i + id) % 2 == 1;

    memset(ev, 0, sizeof(*ev));
    *r = test_repo_name(other ? "library/other" : "library/app");
    *d = test_digest_of(other ? "o1" : "m1");
    *t = test_tag("v1");
    ev->repo = r;
    ev->digest = d;
    ev->tag = i % 3 == 0 ? NULL : t;
    ev->who_kind = i % 3 == 2 ? PULLS_WHO_ROBOT : PULLS_WHO_USER;
    ev->who = who[i % 3];
    ev->client = i % 4 == 0 ? "docker" : "containerd";
    ev->when = P_BASE + (int64_t)(i % P_HOURS) * PULLS_HOUR_S + id;
}

static void *p_rec_run(void *arg)
{
    struct p_rec *w = arg;
    struct pulls_event ev;
    struct repo_name r;
    struct digest d;
    struct tag t;
    struct berr e;

    for (int i = 0; i < P_PER_THREAD; i++) {
        p_event(w->id, i, &ev, &r, &d, &t);
        if (pulls_record(w->side->p, &ev, &e) < 0)
            w->errors++;
    }
    return NULL;
}

/* flushes its handle's counts over and over while the recorders run */
static void *p_flush_run(void *arg)
{
    struct p_side *s = arg;
    struct berr e;

    while (!s->stop) {
        if (pulls_flush(s->p, NULL, &e) < 0) {
            fprintf(stderr, "flush: %s\n", e.msg);
            s->errors++;
        }
        s->flushes++;
        (void)usleep(2000); /* a server flushes every few seconds; this is a busy one */
    }
    return NULL;
}

static void p_put(struct meta *m, const char *repo, const char *content, const char *blob)
{
    struct repo_name r = test_repo_name(repo);
    struct digest bd = test_digest_of(blob);
    struct berr e;

    CHECK_INT_EQ(meta_blob_link(m, &r, &bd, 7, &e), 0);
    CHECK_INT_EQ(put_image(m, &r, content, &bd, 1, "v1", &e), 0);
}

/* expected counts of one repository, from the same p_event the recorders used */
struct p_want {
    int64_t total, by_tag, last;
};

static void p_expect(struct p_want *app, struct p_want *other)
{
    struct pulls_event ev;
    struct repo_name r;
    struct digest d;
    struct tag t;

    memset(app, 0, sizeof(*app));
    memset(other, 0, sizeof(*other));
    for (int id = 0; id < 2 * P_THREADS; id++)
        for (int i = 0; i < P_PER_THREAD; i++) {
            struct p_want *w;

            p_event(id, i, &ev, &r, &d, &t);
            w = strcmp(r.s, "library/app") == 0 ? app : other;
            w->total++;
            if (ev.tag != NULL)
                w->by_tag++;
            if (ev.when > w->last)
                w->last = ev.when;
        }
}

static void p_check(struct meta *m, const char *repo, const char *content, const struct p_want *w)
{
    struct repo_name r = test_repo_name(repo);
    struct digest d = test_digest_of(content);
    struct meta_repo_info ri;
    struct meta_artifact art;
    struct meta_tag_info tags[2];
    struct meta_list_q lq;
    struct pulls_point pts[64];
    struct pulls_q q;
    struct berr e;
    int64_t total = 0;
    size_t n = 0;

    CHECK_INT_EQ(meta_repo_info_get(m, &r, &ri, &e), 0);
    CHECK_INT_EQ(ri.pull_count, w->total);
    CHECK_INT_EQ(ri.pull_time, w->last);
    CHECK_INT_EQ(meta_artifact_get(m, ri.id, &d, &art, &e), 0);
    CHECK_INT_EQ(art.pull_count, w->total);
    CHECK_INT_EQ(art.pull_time, w->last);
    memset(&lq, 0, sizeof(lq));
    lq.limit = 2;
    CHECK_INT_EQ(meta_artifact_tags(m, art.id, &lq, tags, 2, &n, &total, &e), 0);
    CHECK_INT_EQ(n, 1);
    if (n == 1)
        CHECK_INT_EQ(tags[0].pull_count, w->by_tag);
    /* the history: hourly and daily both sum to the total */
    for (int g = 0; g < 2; g++) {
        memset(&q, 0, sizeof(q));
        q.repo = &r;
        q.from = P_BASE - PULLS_DAY_S;
        q.to = P_BASE + PULLS_DAY_S * 2;
        q.granularity = g == 0 ? PULLS_HOUR_S : PULLS_DAY_S;
        CHECK_INT_EQ(meta_pulls_series(m, &q, pts, 64, &n, &e), 0);
        total = 0;
        for (size_t i = 0; i < n; i++)
            total += (int64_t)pts[i].pulls;
        CHECK_INT_EQ(total, w->total);
    }
}

static void test_pulls_two_handles(void)
{
    struct p_side side[2];
    struct p_rec rec[2 * P_THREADS];
    pthread_t rt[2 * P_THREADS], ft[2];
    struct p_want want_app, want_other;
    struct meta *a, *b;
    struct berr e;
    int errors = 0;

    open_two(&a, &b, 3);
    p_put(a, "library/app", "m1", "b1");
    p_put(b, "library/other", "o1", "b2");
    for (int s = 0; s < 2; s++) {
        memset(&side[s], 0, sizeof(side[s]));
        side[s].m = s == 0 ? a : b;
        /* a small table: recorders flush inline too, so flushes come from many threads */
        CHECK_INT_EQ(pulls_new(&side[s].p, side[s].m, 16, &e), 0);
    }
    for (int s = 0; s < 2; s++)
        CHECK_INT_EQ(pthread_create(&ft[s], NULL, p_flush_run, &side[s]), 0);
    for (int i = 0; i < 2 * P_THREADS; i++) {
        rec[i].side = &side[i % 2];
        rec[i].id = i;
        rec[i].errors = 0;
        CHECK_INT_EQ(pthread_create(&rt[i], NULL, p_rec_run, &rec[i]), 0);
    }
    for (int i = 0; i < 2 * P_THREADS; i++) {
        CHECK_INT_EQ(pthread_join(rt[i], NULL), 0);
        errors += rec[i].errors;
    }
    for (int s = 0; s < 2; s++) {
        side[s].stop = 1;
        CHECK_INT_EQ(pthread_join(ft[s], NULL), 0);
        errors += side[s].errors;
        CHECK_INT_EQ(pulls_flush(side[s].p, NULL, &e), 0);
        CHECK_INT_EQ(pulls_pending(side[s].p), 0);
    }
    CHECK_INT_EQ(errors, 0);
    fprintf(stderr, "pulls: %d + %d background flushes\n", side[0].flushes, side[1].flushes);
    p_expect(&want_app, &want_other);
    CHECK_INT_EQ(want_app.total + want_other.total, 2 * P_THREADS * P_PER_THREAD);
    p_check(a, "library/app", "m1", &want_app);
    p_check(b, "library/other", "o1", &want_other);
    for (int s = 0; s < 2; s++)
        pulls_free(side[s].p);
    meta_close(b);
    meta_close(a);
}

/* ---- tags moved and manifests deleted from two handles ---- */

#define T_THREADS 6
#define T_ROUNDS 40

struct t_worker {
    struct meta *m;
    int id;
    int errors;
};

static void *t_run(void *arg)
{
    struct t_worker *w = arg;
    struct repo_name r = test_repo_name("library/tags");
    struct digest blob = test_digest_of("tb");
    struct meta_manifest mf;
    struct reference ref = ref_tag("latest");
    char content[32];
    struct digest d;
    struct berr e;

    for (int i = 0; i < T_ROUNDS; i++) {
        /* move the tag (to a manifest new or pushed before: contents repeat) */
        (void)snprintf(content, sizeof(content), "t-%d-%d", w->id, i % 4);
        if (put_image(w->m, &r, content, &blob, 1, "latest", &e) < 0) {
            fprintf(stderr, "tag worker %d: put: %s\n", w->id, e.msg);
            w->errors++;
        }
        /* whoever moved it last, it names a manifest that is there */
        if (meta_manifest_resolve(w->m, &r, &ref, &mf, &e) < 0) {
            fprintf(stderr, "tag worker %d: resolve: %s\n", w->id, e.msg);
            w->errors++;
        }
        /* an untagged manifest of ours, pushed and deleted while the tag moves */
        (void)snprintf(content, sizeof(content), "u-%d-%d", w->id, i);
        d = test_digest_of(content);
        if (put_image(w->m, &r, content, &blob, 1, NULL, &e) < 0 ||
            meta_manifest_delete(w->m, &r, &d, &e) < 0) {
            fprintf(stderr, "tag worker %d: untagged: %s\n", w->id, e.msg);
            w->errors++;
        }
    }
    return NULL;
}

static void test_tags_two_handles(void)
{
    struct repo_name r = test_repo_name("library/tags");
    struct digest blob = test_digest_of("tb");
    struct t_worker w[T_THREADS];
    pthread_t th[T_THREADS];
    struct reference ref = ref_tag("latest");
    struct meta_manifest mf, byd;
    struct meta *a, *b;
    struct berr e;
    int errors = 0;

    open_two(&a, &b, 3);
    CHECK_INT_EQ(meta_blob_link(a, &r, &blob, 5, &e), 0);
    CHECK_INT_EQ(put_image(a, &r, "t-start", &blob, 1, "latest", &e), 0);
    for (int i = 0; i < T_THREADS; i++) {
        w[i].m = i % 2 == 0 ? a : b;
        w[i].id = i;
        w[i].errors = 0;
        CHECK_INT_EQ(pthread_create(&th[i], NULL, t_run, &w[i]), 0);
    }
    for (int i = 0; i < T_THREADS; i++) {
        CHECK_INT_EQ(pthread_join(th[i], NULL), 0);
        errors += w[i].errors;
    }
    CHECK_INT_EQ(errors, 0);
    /* a last push: the tag names it, from either handle */
    CHECK_INT_EQ(put_image(b, &r, "t-final", &blob, 1, "latest", &e), 0);
    CHECK_INT_EQ(meta_manifest_resolve(a, &r, &ref, &mf, &e), 0);
    {
        struct digest fin = test_digest_of("t-final");
        struct reference rd = ref_digest(&fin);

        CHECK(digest_equal(&mf.digest, &fin));
        CHECK_INT_EQ(meta_manifest_resolve(a, &r, &rd, &byd, &e), 0);
    }
    meta_close(b);
    meta_close(a);
}

int main(void)
{
    if (test_meta_pg() == NULL) {
        test_skip("test_quota_two_handles", "needs BERTH_TEST_PG_URL");
        test_skip("test_pulls_two_handles", "needs BERTH_TEST_PG_URL");
        test_skip("test_tags_two_handles", "needs BERTH_TEST_PG_URL");
        return test_summary();
    }
    test_mkdtemp(tmpdir, sizeof(tmpdir), "pg-concurrency-test");
    TEST_RUN(test_quota_two_handles);
    TEST_RUN(test_pulls_two_handles);
    TEST_RUN(test_tags_two_handles);
    test_rm_rf(tmpdir);
    return test_summary();
}
