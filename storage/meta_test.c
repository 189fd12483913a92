/* meta_test.c - unit tests for the metadata store as a whole (meta.h, meta.c and the SQLite
 * pool): open, migrations and the schema version, allocation failures while opening, and
 * concurrent use through a small pool, each on a fresh temporary database
 * (storage/test_meta.h). The entities have a test file each (meta_<entity>_test.c); the ops
 * interface itself is tested in meta_ops_test.c. */
#include "storage/meta.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"
#include "storage/test_meta.h"

static char tmpdir[64]; /* test_mkdtemp, one per run */

/* ---- tests ---- */

static void test_migrations(void)
{
    char path[256];
    struct meta *m;
    struct meta *m2 = NULL;
    struct berr e;
    sqlite3 *db = NULL;
    char *emsg = NULL;
    int v = -1;

    if (test_meta_pg() != NULL) {
        test_skip("test_migrations", "reads the SQLite file (pg_test covers PostgreSQL's)");
        return;
    }
    m = test_meta_open_at(tmpdir, 2, path, sizeof(path));
    CHECK_INT_EQ(meta_schema_version(m, &v, &e), 0);
    CHECK_INT_EQ(v, meta_schema_latest());
    meta_close(m);

    /* reopen: nothing to apply, same version, library still there once */
    CHECK_INT_EQ(meta_open(&m2, path, 3, &e), 0);
    v = -1;
    CHECK_INT_EQ(meta_schema_version(m2, &v, &e), 0);
    CHECK_INT_EQ(v, meta_schema_latest());
    meta_close(m2);

    /* the schema and its indexes are there */
    CHECK_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT_EQ(sqlite3_exec(db,
                              "SELECT repo_id, name, manifest_id, pushed_at, pull_time, pull_count"
                              " FROM tags; SELECT email, realname, comment FROM users;"
                              " SELECT 1 FROM sqlite_master WHERE name = 'manifests_subject'",
                              NULL, NULL, &emsg),
                 SQLITE_OK);
    sqlite3_free(emsg);
    emsg = NULL;
    /* a database from a newer binary is refused */
    CHECK_INT_EQ(
            sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (99, 0)", NULL, NULL, &emsg),
            SQLITE_OK);
    sqlite3_free(emsg);
    CHECK_INT_EQ(sqlite3_close(db), SQLITE_OK);
    m2 = (struct meta *)&v; /* must be reset to NULL on failure */
    berr_clear(&e);
    CHECK(meta_open(&m2, path, 2, &e) < 0);
    CHECK(m2 == NULL);
    CHECK(strstr(e.msg, "newer") != NULL);
    CHECK(strstr(e.msg, "99") != NULL);

    /* pool size bounds */
    CHECK(meta_open(&m2, path, 0, &e) < 0);
    CHECK(m2 == NULL);
    /* a path that cannot be opened */
    CHECK(meta_open(&m2, "/nonexistent-dir/x/y.db", 1, &e) < 0);
    CHECK_INT_EQ(e.code, BERR_INTERNAL);
    CHECK(m2 == NULL);
}

static void test_schema(void)
{
    struct meta *m = test_meta_open_public(tmpdir);
    struct berr e;
    int v = 0;

    CHECK_INT_EQ(meta_schema_version(m, &v, &e), 0);
    CHECK(v >= 2); /* migration 2 is identity; later ones belong to other modules */
    meta_close(m);
}

/* Every allocation meta_open makes, SQLite's included (test builds route them through mem.c),
 * may fail: a clean BERR_INTERNAL and *out NULL each time, no leak (ASan), and the half-made
 * database opens fine afterwards. */
static void test_open_alloc_failures(void)
{
    char path[512];
    struct meta *m = NULL;
    struct berr e;
    long i;
    int failed = 0;
    int v = 0;

    test_meta_path(path, sizeof(path), tmpdir);
    for (i = 0; i < 20000; i++) {
        mem_fail_after(i);
        m = NULL;
        berr_clear(&e);
        if (meta_open(&m, path, 2, &e) < 0) {
            failed++;
            CHECK(m == NULL);
            CHECK_INT_EQ(e.code, BERR_INTERNAL);
        } else {
            CHECK(m != NULL);
            meta_close(m);
        }
        if (mem_injected() == 0)
            break; /* i is past the last allocation: the whole open ran */
        mem_fail_after(-1);
    }
    mem_fail_after(-1);
    CHECK(i < 20000);
    CHECK(failed >= 3); /* the struct and the pool arrays at least */
    CHECK_INT_EQ(meta_open(&m, path, 2, &e), 0);
    CHECK_INT_EQ(meta_schema_version(m, &v, &e), 0);
    CHECK_INT_EQ(v, meta_schema_latest());
    meta_close(m);
}

/* ---- concurrency ---- */

#define THREADS 6
#define ROUNDS 40

struct worker {
    struct meta *m;
    int id;
    int failures;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    char name[64];
    char content[64];
    char tag[16];
    struct repo_name r;
    struct digest layer;
    struct digest shared = test_digest_of("shared base layer");
    struct reference ref;
    struct meta_manifest mf;
    struct berr e;
    uint64_t size;
    bool forgotten;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        if (snprintf(name, sizeof(name), "library/w%d-%d", w->id, i % 4) < 0 ||
            snprintf(content, sizeof(content), "layer %d %d", w->id, i) < 0 ||
            snprintf(tag, sizeof(tag), "t%d", i % 3) < 0)
            abort();
        r = test_repo_name(name);
        layer = test_digest_of(content);
        if (meta_blob_link(w->m, &r, &layer, 5, &e) < 0 ||
            meta_blob_link(w->m, &r, &shared, 9, &e) < 0) {
            fprintf(stderr, "worker %d: link: %s\n", w->id, e.msg);
            w->failures++;
            continue;
        }
        struct digest blobs[2] = {layer, shared};
        if (put_image(w->m, &r, content, blobs, 2, tag, &e) < 0) {
            fprintf(stderr, "worker %d: put: %s\n", w->id, e.msg);
            w->failures++;
            continue;
        }
        ref = ref_tag(tag);
        if (meta_manifest_resolve(w->m, &r, &ref, &mf, &e) < 0 ||
            meta_blob_linked(w->m, &r, &layer, &size, &e) < 0 || size != 5) {
            fprintf(stderr, "worker %d: read: %s\n", w->id, e.msg);
            w->failures++;
        }
        /* gc's transaction racing the pushes */
        if (meta_blob_forget(w->m, &shared, &forgotten, &e) < 0 || forgotten) {
            fprintf(stderr, "worker %d: forget took a linked blob\n", w->id);
            w->failures++;
        }
    }
    return NULL;
}

static void test_concurrent(void)
{
    char path[512];
    struct meta *m =
            test_meta_open_at(tmpdir, 3, path, sizeof(path)); /* fewer connections than threads */
    struct meta *other = NULL;
    pthread_t th[THREADS + 1];
    struct worker w[THREADS + 1];
    struct coll col;
    struct berr e;
    bool more;
    int i;

    /* a second pool on the same file meets the first through SQLite's locks only */
    CHECK_INT_EQ(meta_open(&other, path, 2, &e), 0);
    for (i = 0; i <= THREADS; i++) {
        w[i].m = i == THREADS ? other : m;
        w[i].id = i;
        w[i].failures = 0;
        CHECK_INT_EQ(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (i = 0; i <= THREADS; i++) {
        CHECK_INT_EQ(pthread_join(th[i], NULL), 0);
        CHECK_INT_EQ(w[i].failures, 0);
    }
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_catalog(m, NULL, 1000, coll_str, &col, &more, &e), 0);
    CHECK_INT_EQ(col.n, (THREADS + 1) * 4);
    meta_close(other);
    meta_close(m);
}

/* mode_of: the permission bits of path, -1 when it cannot be stat'ed */
static int mode_of(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return -1;
    return (int)(st.st_mode & 07777);
}

static int mode_of2(const char *path, const char *suffix)
{
    char p[300];

    (void)snprintf(p, sizeof(p), "%s%s", path, suffix); /* the test paths are short */
    return mode_of(p);
}

/* the database and its -wal and -shm files are 0600 when new, and are tightened on open when
 * they exist looser (an older version, a restored backup), whatever the umask */
static void test_file_modes(void)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char path[256], p[300];
    struct meta *m = NULL;
    mode_t old;
    struct berr e;

    if (test_meta_pg() != NULL) {
        test_skip("test_file_modes", "SQLite's files");
        return;
    }
    old = umask(0);
    test_meta_path(path, sizeof(path), tmpdir);
    CHECK_INT_EQ(meta_open(&m, path, 2, &e), 0);
    for (size_t i = 0; i < 3; i++)
        CHECK_INT_EQ(mode_of2(path, suffix[i]), 0600);
    meta_close(m);

    /* loosen all three, as an older Berth or a copy with cp left them */
    for (size_t i = 0; i < 3; i++) {
        (void)snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        if (mode_of(p) < 0) {
            FILE *f = fopen(p, "w"); /* closed cleanly, SQLite removed it: make an empty one */
            CHECK(f != NULL);
            if (f != NULL)
                CHECK_INT_EQ(fclose(f), 0);
        }
        CHECK_INT_EQ(chmod(p, 0644), 0);
        CHECK_INT_EQ(mode_of(p), 0644);
    }
    m = NULL;
    CHECK_INT_EQ(meta_open(&m, path, 2, &e), 0);
    for (size_t i = 0; i < 3; i++)
        CHECK_INT_EQ(mode_of2(path, suffix[i]), 0600);
    meta_close(m);
    (void)umask(old);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "meta-test");
    TEST_RUN(test_migrations);
    TEST_RUN(test_schema);
    TEST_RUN(test_open_alloc_failures);
    TEST_RUN(test_concurrent);
    TEST_RUN(test_file_modes);
    test_rm_rf(tmpdir); /* the databases with their -wal and -shm files */
    return test_summary();
}
