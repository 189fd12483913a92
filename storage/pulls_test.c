/* pulls_test.c - unit tests for storage/pulls.h: what one flush writes (repository, artifact,
 * tag, parent index), batching (nothing written before a flush), a full table flushing inline,
 * a failed flush keeping its counts, exact totals under concurrent recording and flushing, and
 * allocation failures. */
#include "storage/pulls.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "common/mem.h"
#include "common/test.h"
#include "storage/meta.h"
#include "storage/test_meta.h"

static char tmpdir[64];

/* rec records one anonymous, unknown-client image pull (the counting core of the old call) */
static int rec(struct pulls *p, const struct repo_name *repo, const struct digest *d,
               const struct tag *t, int64_t when, struct berr *e)
{
    struct pulls_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.repo = repo;
    ev.digest = d;
    ev.tag = t;
    ev.when = when;
    return pulls_record(p, &ev, e);
}

/* lib/app: m1 tagged v1, and index idx (tag multi) listing m1 */
static struct meta *setup(const char *file, char *path, size_t cap)
{
    struct repo_name app = test_repo_name("library/app");
    struct digest b1 = test_digest_of("b1"), m1 = test_digest_of("m1");
    struct meta_manifest_in in;
    struct meta_child ch;
    struct tag v1 = test_tag("v1"), multi = test_tag("multi");
    struct meta *m = NULL;
    struct berr e;

    test_meta_location(path, cap, tmpdir, file); /* tmpdir/file, or a PostgreSQL schema */
    if (meta_open(&m, path, 4, &e) < 0 || meta_blob_link(m, &app, &b1, 10, &e) < 0)
        abort();
    memset(&in, 0, sizeof(in));
    in.digest = m1;
    in.media_type = "application/vnd.oci.image.manifest.v1+json";
    in.size = 2;
    in.blobs = &b1;
    in.nblobs = 1;
    in.tags = &v1;
    in.ntags = 1;
    if (meta_manifest_put(m, &app, &in, &e) < 0)
        abort();
    memset(&ch, 0, sizeof(ch));
    ch.digest = m1;
    (void)snprintf(ch.media_type, sizeof(ch.media_type), "%s", in.media_type);
    ch.size = 2;
    memset(&in, 0, sizeof(in));
    in.digest = test_digest_of("idx");
    in.media_type = "application/vnd.oci.image.index.v1+json";
    in.size = 3;
    in.children = &ch;
    in.nchildren = 1;
    in.tags = &multi;
    in.ntags = 1;
    if (meta_manifest_put(m, &app, &in, &e) < 0)
        abort();
    return m;
}

struct counts {
    int64_t repo;
    int64_t m1, m1_time;
    int64_t idx, idx_time;
    int64_t v1, v1_time;
    int64_t multi;
};

static void read_counts(struct meta *m, struct counts *c)
{
    struct repo_name app = test_repo_name("library/app");
    struct meta_repo_info info;
    struct meta_artifact a;
    struct meta_tag_info t[4];
    struct meta_list_q q;
    struct digest m1 = test_digest_of("m1"), idx = test_digest_of("idx");
    struct berr e;
    size_t n;
    int64_t total;

    memset(c, 0, sizeof(*c));
    memset(&q, 0, sizeof(q));
    q.limit = 4;
    if (meta_repo_info_get(m, &app, &info, &e) < 0)
        abort();
    c->repo = info.pull_count;
    if (meta_artifact_get(m, info.id, &m1, &a, &e) < 0)
        abort();
    c->m1 = a.pull_count;
    c->m1_time = a.pull_time;
    if (meta_artifact_tags(m, a.id, &q, t, 4, &n, &total, &e) < 0 || n != 1)
        abort();
    c->v1 = t[0].pull_count;
    c->v1_time = t[0].pull_time;
    if (meta_artifact_get(m, info.id, &idx, &a, &e) < 0)
        abort();
    c->idx = a.pull_count;
    c->idx_time = a.pull_time;
    if (meta_artifact_tags(m, a.id, &q, t, 4, &n, &total, &e) < 0 || n != 1)
        abort();
    c->multi = t[0].pull_count;
}

static void test_flush_writes(void)
{
    char path[256];
    struct meta *m = setup("flush.db", path, sizeof(path));
    struct repo_name app = test_repo_name("library/app");
    struct digest m1 = test_digest_of("m1"), idx = test_digest_of("idx");
    struct tag v1 = test_tag("v1"), multi = test_tag("multi");
    struct pulls *p = NULL;
    struct counts c;
    struct berr e;
    uint64_t flushed = 99;

    CHECK_INT_EQ(pulls_new(&p, m, 0, &e), 0);
    CHECK_INT_EQ(pulls_flush(p, &flushed, &e), 0); /* nothing pending */
    CHECK_INT_EQ(flushed, 0);
    /* docker pull app:multi = index by tag, then the child by digest */
    CHECK_INT_EQ(rec(p, &app, &idx, &multi, 1000, &e), 0);
    CHECK_INT_EQ(rec(p, &app, &m1, NULL, 1001, &e), 0);
    CHECK_INT_EQ(rec(p, &app, &m1, &v1, 1005, &e), 0);
    CHECK_INT_EQ(rec(p, &app, &m1, &v1, 1003, &e), 0);
    CHECK_INT_EQ(pulls_pending(p), 4);
    read_counts(m, &c);
    CHECK_INT_EQ(c.repo, 0); /* batched: nothing written yet */
    CHECK_INT_EQ(c.m1, 0);
    CHECK_INT_EQ(pulls_flush(p, &flushed, &e), 0);
    CHECK_INT_EQ(flushed, 4);
    CHECK_INT_EQ(pulls_pending(p), 0);
    read_counts(m, &c);
    CHECK_INT_EQ(c.repo, 4);
    CHECK_INT_EQ(c.m1, 3);
    CHECK_INT_EQ(c.m1_time, 1005);
    CHECK_INT_EQ(c.v1, 2);
    CHECK_INT_EQ(c.v1_time, 1005);
    CHECK_INT_EQ(c.idx, 1);
    CHECK_INT_EQ(c.idx_time, 1005); /* the parent index was used when its child was pulled */
    CHECK_INT_EQ(c.multi, 1);
    /* pull times never go back */
    CHECK_INT_EQ(rec(p, &app, &m1, &v1, 10, &e), 0);
    CHECK_INT_EQ(pulls_flush(p, &flushed, &e), 0);
    read_counts(m, &c);
    CHECK_INT_EQ(c.m1, 4);
    CHECK_INT_EQ(c.m1_time, 1005);
    CHECK_INT_EQ(c.repo, 5);
    /* pulls of something that is gone write nothing and fail nothing */
    {
        struct repo_name gone = test_repo_name("library/gone");
        CHECK_INT_EQ(rec(p, &gone, &m1, &v1, 10, &e), 0);
        CHECK_INT_EQ(pulls_flush(p, &flushed, &e), 0);
        CHECK_INT_EQ(flushed, 1);
    }
    pulls_free(p);
    meta_close(m);
}

static void test_full_table(void)
{
    char path[256];
    struct meta *m = setup("full.db", path, sizeof(path));
    struct repo_name app = test_repo_name("library/app");
    struct digest m1 = test_digest_of("m1"), idx = test_digest_of("idx");
    struct tag v1 = test_tag("v1");
    struct pulls *p = NULL;
    struct counts c;
    struct berr e;

    CHECK_INT_EQ(pulls_new(&p, m, 2, &e), 0);
    CHECK_INT_EQ(rec(p, &app, &m1, &v1, 5, &e), 0);
    CHECK_INT_EQ(rec(p, &app, &m1, NULL, 5, &e), 0);
    CHECK_INT_EQ(rec(p, &app, &m1, NULL, 5, &e), 0); /* same key: no new entry */
    read_counts(m, &c);
    CHECK_INT_EQ(c.repo, 0);
    CHECK_INT_EQ(rec(p, &app, &idx, NULL, 5, &e), 0); /* third key: flushes first */
    read_counts(m, &c);
    CHECK_INT_EQ(c.repo, 3);
    CHECK_INT_EQ(pulls_pending(p), 1);
    CHECK_INT_EQ(pulls_flush(p, NULL, &e), 0);
    read_counts(m, &c);
    CHECK_INT_EQ(c.repo, 4);
    CHECK_INT_EQ(c.idx, 1);
    pulls_free(p);
    meta_close(m);
}

/* other_sql runs sql on a connection of its own to the database at path (the SQLite file, or
 * the PostgreSQL URL naming the test's schema): 0, or -1 with the reason printed */
static int other_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    PGconn *pc;
    PGresult *r;
    int rc = 0;

    if (test_meta_pg() != NULL) {
        pc = PQconnectdb(path);
        r = PQexec(pc, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fprintf(stderr, "other_sql: %s", PQerrorMessage(pc));
            rc = -1;
        }
        PQclear(r);
        PQfinish(pc);
        return rc;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
        sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "other_sql: %s\n", db != NULL ? sqlite3_errmsg(db) : "no memory");
        rc = -1;
    }
    (void)sqlite3_close(db);
    return rc;
}

/* a flush that fails (the tags table is renamed away by another connection) keeps its counts */
static void test_flush_failure(void)
{
    char path[512];
    struct meta *m = setup("fail.db", path, sizeof(path));
    struct repo_name app = test_repo_name("library/app");
    struct digest m1 = test_digest_of("m1");
    struct tag v1 = test_tag("v1");
    struct pulls *p = NULL;
    struct counts c;
    struct berr e;
    uint64_t flushed = 7;

    CHECK_INT_EQ(pulls_new(&p, m, 0, &e), 0);
    for (int i = 0; i < 5; i++)
        CHECK_INT_EQ(rec(p, &app, &m1, &v1, 100 + i, &e), 0);
    CHECK_INT_EQ(other_sql(path, "ALTER TABLE tags RENAME TO tags_away"), 0);
    CHECK_INT_EQ(pulls_flush(p, &flushed, &e), -1);
    CHECK_INT_EQ(e.code, BERR_INTERNAL);
    CHECK_INT_EQ(flushed, 0);
    CHECK_INT_EQ(pulls_pending(p), 5);
    CHECK_INT_EQ(other_sql(path, "ALTER TABLE tags_away RENAME TO tags"), 0);
    read_counts(m, &c);
    CHECK_INT_EQ(c.repo, 0); /* the failed transaction was rolled back as a whole */
    CHECK_INT_EQ(rec(p, &app, &m1, &v1, 200, &e), 0);
    CHECK_INT_EQ(pulls_flush(p, &flushed, &e), 0);
    CHECK_INT_EQ(flushed, 6);
    read_counts(m, &c);
    CHECK_INT_EQ(c.repo, 6);
    CHECK_INT_EQ(c.m1, 6);
    CHECK_INT_EQ(c.v1, 6);
    CHECK_INT_EQ(c.v1_time, 200);
    pulls_free(p);
    meta_close(m);
}

#define THREADS 8
#define PER_THREAD 2000

struct worker {
    struct pulls *p;
    int idx;
    int failures;
};

static void *record_main(void *arg)
{
    struct worker *w = arg;
    struct repo_name app = test_repo_name("library/app");
    struct digest m1 = test_digest_of("m1"), idx = test_digest_of("idx");
    struct tag v1 = test_tag("v1");
    struct berr e;

    for (int i = 0; i < PER_THREAD; i++) {
        const struct digest *d = (i + w->idx) % 3 == 0 ? &idx : &m1;
        const struct tag *t = i % 2 == 0 && d == &m1 ? &v1 : NULL;
        if (rec(w->p, &app, d, t, 1000 + i, &e) < 0)
            w->failures++;
    }
    return NULL;
}

struct flusher {
    struct pulls *p;
    volatile int stop;
    int flushes;
    int failures;
};

static void *flush_main(void *arg)
{
    struct flusher *f = arg;
    struct berr e;

    while (!f->stop) {
        if (pulls_flush(f->p, NULL, &e) < 0)
            f->failures++;
        f->flushes++;
    }
    return NULL;
}

static void test_concurrency(void)
{
    char path[256];
    struct meta *m = setup("conc.db", path, sizeof(path));
    pthread_t th[THREADS], ft;
    struct worker w[THREADS];
    struct flusher fl;
    struct pulls *p = NULL;
    struct counts c;
    struct berr e;
    int failures = 0;

    /* a small table: recording threads also flush inline when it fills */
    CHECK_INT_EQ(pulls_new(&p, m, 2, &e), 0);
    memset(&fl, 0, sizeof(fl));
    fl.p = p;
    CHECK_INT_EQ(pthread_create(&ft, NULL, flush_main, &fl), 0);
    for (int i = 0; i < THREADS; i++) {
        w[i].p = p;
        w[i].idx = i;
        w[i].failures = 0;
        CHECK_INT_EQ(pthread_create(&th[i], NULL, record_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        (void)pthread_join(th[i], NULL);
        failures += w[i].failures;
    }
    fl.stop = 1;
    (void)pthread_join(ft, NULL);
    CHECK_INT_EQ(pulls_flush(p, NULL, &e), 0);
    CHECK_INT_EQ(pulls_pending(p), 0);
    read_counts(m, &c);
    /* a record refused because the table refilled between its flush and its retry is the only
     * allowed loss, and it is reported to the caller */
    CHECK_INT_EQ(c.repo + failures, THREADS * PER_THREAD);
    CHECK_INT_EQ(c.m1 + c.idx + failures, THREADS * PER_THREAD);
    CHECK_INT_EQ(fl.failures, 0);
    fprintf(stderr, "concurrency: %d background flushes, %d refused records\n", fl.flushes,
            failures);
    pulls_free(p);
    meta_close(m);
}

static void test_oom(void)
{
    char path[256];
    struct meta *m = setup("oom.db", path, sizeof(path));
    struct repo_name app = test_repo_name("library/app");
    struct digest m1 = test_digest_of("m1");
    struct pulls *p = NULL;
    struct counts c;
    struct berr e;
    int done = 0;
    int injected = 0;

    for (long i = 0; i < 10 && !done; i++) {
        mem_fail_after(i);
        if (pulls_new(&p, m, 0, &e) == 0) {
            done = mem_injected() == 0;
            if (!done) {
                pulls_free(p);
                p = NULL;
            }
        } else {
            CHECK(p == NULL);
            injected++;
        }
        mem_fail_after(-1);
    }
    CHECK(done);
    CHECK(injected > 0);
    /* the first record grows the table: make that fail, then succeed */
    mem_fail_after(0);
    CHECK_INT_EQ(rec(p, &app, &m1, NULL, 1, &e), -1);
    mem_fail_after(-1);
    CHECK_INT_EQ(pulls_pending(p), 0);
    CHECK_INT_EQ(rec(p, &app, &m1, NULL, 1, &e), 0);
    CHECK_INT_EQ(pulls_flush(p, NULL, &e), 0);
    read_counts(m, &c);
    CHECK_INT_EQ(c.repo, 1);
    pulls_free(p);
    pulls_free(NULL);
    meta_close(m);
}

/* ev records one pull with its who, client and kind at `when` */
static void ev(struct pulls *p, const char *repo, const char *dig, const char *tag,
               enum pulls_who kind, const char *who, const char *client, bool child, int64_t when)
{
    struct repo_name r = test_repo_name(repo);
    struct digest d = test_digest_of(dig);
    struct tag t = test_tag(tag != NULL ? tag : "x");
    struct pulls_event e;
    struct berr err;

    memset(&e, 0, sizeof(e));
    e.repo = &r;
    e.digest = &d;
    e.tag = tag != NULL ? &t : NULL;
    e.who_kind = kind;
    e.who = who;
    e.client = client;
    e.child = child;
    e.when = when;
    CHECK_INT_EQ(pulls_record(p, &e, &err), 0);
}

static const struct pulls_point *point(const struct pulls_point *pts, size_t n, int64_t bucket,
                                       const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (pts[i].bucket == bucket && strcmp(pts[i].key, key) == 0)
            return &pts[i];
    }
    return NULL;
}

#define H(x) ((int64_t)(x)*PULLS_HOUR_S)
#define D0 ((int64_t)20000 * PULLS_DAY_S) /* a midnight */

/* the history: buckets per hour and day, grouped by tag, artifact, who and client, read back
 * after a reopen; pending counts show in pulls_peek; top lists; pruning */
static void test_history(void)
{
    char path[256];
    struct meta *m = setup("hist.db", path, sizeof(path));
    struct repo_name app = test_repo_name("library/app");
    struct digest m1 = test_digest_of("m1");
    struct tag v1 = test_tag("v1");
    struct pulls_point pts[64];
    const struct pulls_point *pt;
    char m1s[DIGEST_STR_LEN + 1];
    struct pulls *p = NULL;
    struct pulls_q q;
    struct berr e;
    int64_t cnt = 0, last = 0, removed = 0;
    size_t n = 0;

    digest_format(&m1, m1s, sizeof(m1s));
    CHECK_INT_EQ(pulls_new(&p, m, 0, &e), 0);
    /* day 0, hour 1: alice with docker by tag twice, a robot with containerd: index + child */
    ev(p, "library/app", "m1", "v1", PULLS_WHO_USER, "alice", "docker", false, D0 + H(1) + 5);
    ev(p, "library/app", "m1", "v1", PULLS_WHO_USER, "alice", "docker", false, D0 + H(1) + 50);
    ev(p, "library/app", "idx", "multi", PULLS_WHO_ROBOT, "robot$ci", "containerd", false,
       D0 + H(1) + 60);
    ev(p, "library/app", "m1", NULL, PULLS_WHO_ROBOT, "robot$ci", "containerd", true,
       D0 + H(1) + 61);
    /* day 0, hour 5: anonymous podman by digest */
    ev(p, "library/app", "m1", NULL, PULLS_WHO_ANONYMOUS, "ignored", "podman", false,
       D0 + H(5) + 1);
    /* day 1: alice again, and another repository */
    ev(p, "library/app", "m1", "v1", PULLS_WHO_USER, "alice", "docker", false, D0 + H(25));
    ev(p, "library/other", "m9", "latest", PULLS_WHO_USER, "bob", "helm", false, D0 + H(26));
    CHECK_INT_EQ(pulls_pending(p), 7);
    /* read-your-writes: pending counts are visible before any flush */
    pulls_peek(p, &app, NULL, NULL, &cnt, &last);
    CHECK_INT_EQ(cnt, 6);
    CHECK_INT_EQ(last, D0 + H(25));
    cnt = 0;
    pulls_peek(p, &app, &m1, &v1, &cnt, &last);
    CHECK_INT_EQ(cnt, 3);
    cnt = 0;
    pulls_peek(p, &app, &m1, NULL, &cnt, &last);
    CHECK_INT_EQ(cnt, 5);
    /* a reader's copy: every pending key, and an epoch that a flush changes */
    {
        struct pulls_entry *copy = NULL;
        uint64_t e1 = 0;
        size_t nc = 0;

        CHECK_INT_EQ(pulls_pending_copy(p, &copy, &nc, &e1), 0);
        CHECK_INT_EQ(nc, 6); /* 7 pulls, the two by alice at hour 1 share a key */
        CHECK(e1 != 0);
        CHECK(pulls_epoch(p) == e1); /* nothing flushed since */
        mem_free(copy);
        CHECK_INT_EQ(pulls_flush(p, NULL, &e), 0);
        CHECK(pulls_epoch(p) != 0 && pulls_epoch(p) != e1);
        CHECK_INT_EQ(pulls_pending_copy(p, &copy, &nc, &e1), 0);
        CHECK(copy == NULL && nc == 0);
    }
    cnt = 0;
    pulls_peek(p, &app, NULL, NULL, &cnt, &last);
    CHECK_INT_EQ(cnt, 0);
    pulls_free(p);
    meta_close(m); /* a restart keeps everything */
    m = NULL;
    CHECK_INT_EQ(meta_open(&m, path, 2, &e), 0);
    if (m == NULL)
        return;

    /* hourly, no grouping, one repository */
    memset(&q, 0, sizeof(q));
    q.repo = &app;
    q.from = D0;
    q.to = D0 + H(48);
    q.granularity = PULLS_HOUR_S;
    CHECK_INT_EQ(meta_pulls_series(m, &q, pts, 64, &n, &e), 0);
    CHECK_INT_EQ(n, 3);
    pt = point(pts, n, D0 + H(1), "");
    CHECK(pt != NULL && pt->pulls == 3 && pt->child_fetches == 1 && pt->last == D0 + H(1) + 61);
    pt = point(pts, n, D0 + H(5), "");
    CHECK(pt != NULL && pt->pulls == 1 && pt->child_fetches == 0);
    pt = point(pts, n, D0 + H(25), "");
    CHECK(pt != NULL && pt->pulls == 1);
    /* daily by tag */
    q.granularity = PULLS_DAY_S;
    q.group = PULLS_GROUP_TAG;
    CHECK_INT_EQ(meta_pulls_series(m, &q, pts, 64, &n, &e), 0);
    pt = point(pts, n, D0, "v1");
    CHECK(pt != NULL && pt->pulls == 2);
    pt = point(pts, n, D0, "multi");
    CHECK(pt != NULL && pt->pulls == 1);
    pt = point(pts, n, D0, ""); /* by digest: the podman pull and the child fetch */
    CHECK(pt != NULL && pt->pulls == 1 && pt->child_fetches == 1);
    pt = point(pts, n, D0 + PULLS_DAY_S, "v1");
    CHECK(pt != NULL && pt->pulls == 1);
    CHECK_INT_EQ(n, 4);
    /* daily by artifact */
    q.group = PULLS_GROUP_ARTIFACT;
    CHECK_INT_EQ(meta_pulls_series(m, &q, pts, 64, &n, &e), 0);
    pt = point(pts, n, D0, m1s);
    CHECK(pt != NULL && pt->pulls == 3 && pt->child_fetches == 1);
    /* daily by user, with the kind */
    q.group = PULLS_GROUP_USER;
    CHECK_INT_EQ(meta_pulls_series(m, &q, pts, 64, &n, &e), 0);
    pt = point(pts, n, D0, "alice");
    CHECK(pt != NULL && pt->pulls == 2 && strcmp(pt->kind, "user") == 0);
    pt = point(pts, n, D0, "robot$ci");
    CHECK(pt != NULL && pt->pulls == 1 && pt->child_fetches == 1 && strcmp(pt->kind, "robot") == 0);
    pt = point(pts, n, D0, ""); /* anonymous: no name kept */
    CHECK(pt != NULL && pt->pulls == 1 && strcmp(pt->kind, "anonymous") == 0);
    /* hourly by client, whole project, one artifact */
    q.group = PULLS_GROUP_CLIENT;
    q.granularity = PULLS_HOUR_S;
    q.repo = NULL;
    q.project = "library";
    CHECK_INT_EQ(meta_pulls_series(m, &q, pts, 64, &n, &e), 0);
    CHECK_INT_EQ(n, 5);
    pt = point(pts, n, D0 + H(26), "helm");
    CHECK(pt != NULL && pt->pulls == 1);
    q.repo = &app;
    q.digest = &m1;
    CHECK_INT_EQ(meta_pulls_series(m, &q, pts, 64, &n, &e), 0);
    pt = point(pts, n, D0 + H(1), "docker");
    CHECK(pt != NULL && pt->pulls == 2);
    pt = point(pts, n, D0 + H(1), "containerd");
    CHECK(pt != NULL && pt->pulls == 0 && pt->child_fetches == 1);
    /* a window: only day 1 */
    q.digest = NULL;
    q.from = D0 + PULLS_DAY_S;
    CHECK_INT_EQ(meta_pulls_series(m, &q, pts, 64, &n, &e), 0);
    CHECK_INT_EQ(n, 1);
    q.granularity = 60;
    CHECK_INT_EQ(meta_pulls_series(m, &q, pts, 64, &n, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);

    /* top repositories and tags, system wide */
    memset(&q, 0, sizeof(q));
    q.from = D0;
    q.to = D0 + H(48);
    q.granularity = PULLS_DAY_S;
    q.group = PULLS_GROUP_REPO;
    CHECK_INT_EQ(meta_pulls_top(m, &q, pts, 64, &n, &e), 0);
    CHECK_INT_EQ(n, 2);
    if (n == 2) {
        CHECK_STR_EQ(pts[0].key, "library/app");
        CHECK_INT_EQ(pts[0].pulls + pts[0].child_fetches, 6);
        CHECK_STR_EQ(pts[1].key, "library/other");
    }
    q.group = PULLS_GROUP_TAG;
    CHECK_INT_EQ(meta_pulls_top(m, &q, pts, 1, &n, &e), 0);
    CHECK_INT_EQ(n, 1);
    if (n == 1) {
        CHECK_STR_EQ(pts[0].key, "v1");
        CHECK_STR_EQ(pts[0].repo, "library/app");
        CHECK_INT_EQ(pts[0].pulls, 3);
    }

    /* pruning: hourly buckets before day 1 go, daily ones stay (0 = forever) */
    CHECK_INT_EQ(meta_pulls_prune(m, D0 + PULLS_DAY_S, 0, &removed, &e), 0);
    CHECK_INT_EQ(removed, 4); /* hour 1: alice/docker, robot index, robot child; hour 5 */
    memset(&q, 0, sizeof(q));
    q.repo = &app;
    q.from = D0;
    q.to = D0 + H(48);
    q.granularity = PULLS_HOUR_S;
    CHECK_INT_EQ(meta_pulls_series(m, &q, pts, 64, &n, &e), 0);
    CHECK_INT_EQ(n, 1);
    q.granularity = PULLS_DAY_S;
    CHECK_INT_EQ(meta_pulls_series(m, &q, pts, 64, &n, &e), 0);
    CHECK_INT_EQ(n, 2);
    CHECK_INT_EQ(meta_pulls_prune(m, 0, D0 + PULLS_DAY_S, &removed, &e), 0);
    CHECK_INT_EQ(meta_pulls_series(m, &q, pts, 64, &n, &e), 0);
    CHECK_INT_EQ(n, 1);
    meta_close(m);
}

/* stale: artifacts and tags not pulled since a date, never-pulled first, with sizes */
static void test_stale(void)
{
    char path[256];
    struct meta *m = setup("stale.db", path, sizeof(path));
    struct meta_project_info pi;
    struct pulls_stale rows[8];
    struct pulls_stale_q q;
    struct pulls *p = NULL;
    struct berr e;
    size_t n = 0;
    int64_t total = 0;

    CHECK_INT_EQ(meta_project_get(m, "library", &pi, &e), 0);
    memset(&q, 0, sizeof(q));
    q.project_id = pi.p.id;
    q.before = 1000;
    q.limit = 8;
    CHECK_INT_EQ(meta_pulls_stale(m, &q, rows, 8, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1); /* m1 is a child of idx: only top-level artifacts */
    q.tags = true;
    CHECK_INT_EQ(meta_pulls_stale(m, &q, rows, 8, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    CHECK_INT_EQ(pulls_new(&p, m, 0, &e), 0);
    ev(p, "library/app", "m1", "v1", PULLS_WHO_USER, "a", "docker", false, 500);
    ev(p, "library/app", "idx", "multi", PULLS_WHO_USER, "a", "docker", false, 2000);
    CHECK_INT_EQ(pulls_flush(p, NULL, &e), 0);
    pulls_free(p);
    /* v1 pulled at 500 (before 1000): stale; multi at 2000: not */
    CHECK_INT_EQ(meta_pulls_stale(m, &q, rows, 8, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    if (n == 1) {
        CHECK_STR_EQ(rows[0].tag, "v1");
        CHECK_STR_EQ(rows[0].repo, "library/app");
        CHECK_INT_EQ(rows[0].pull_time, 500);
        CHECK_INT_EQ(rows[0].size, 12); /* manifest 2 + blob 10 */
    }
    q.tags = false;
    CHECK_INT_EQ(meta_pulls_stale(m, &q, rows, 8, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 0); /* the index was pulled at 2000 */
    q.before = 3000;
    CHECK_INT_EQ(meta_pulls_stale(m, &q, rows, 8, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    meta_close(m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "pulls-test");
    mem_install_json();
    TEST_RUN(test_flush_writes);
    TEST_RUN(test_full_table);
    TEST_RUN(test_flush_failure);
    TEST_RUN(test_concurrency);
    TEST_RUN(test_oom);
    TEST_RUN(test_history);
    TEST_RUN(test_stale);
    test_rm_rf(tmpdir);
    return test_summary();
}
