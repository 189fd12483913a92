/* meta_test.c - unit tests for the SQLite metadata layer: open and migrations, projects, users,
 * blob links and concurrent use, each on a fresh temporary database (storage/test_meta.h).
 * Manifests, tags, catalog, referrers, gc queries and allocation failures are in
 * meta_manifest_test.c. */
#include "storage/meta.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    struct meta *m = test_meta_open_at(tmpdir, 2, path, sizeof(path));
    struct meta *m2 = NULL;
    struct berr e;
    sqlite3 *db = NULL;
    char *emsg = NULL;
    int v = -1;

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

static void test_projects(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    struct meta_project_info p;
    struct berr e;
    int64_t id = 0;

    CHECK_INT_EQ(meta_project_get(m, "library", &p, &e), 0);
    CHECK_STR_EQ(p.p.name, "library");
    CHECK(!p.p.public); /* private until an admin opens it */
    CHECK(p.p.id > 0);
    CHECK(p.p.created_at > 0);

    CHECK_INT_EQ(meta_project_create(m, "team-a", false, 0, -1, &id, &e), 0);
    CHECK_INT_EQ(meta_project_get_by_id(m, id, &p, &e), 0);
    CHECK_STR_EQ(p.p.name, "team-a");
    CHECK(!p.p.public);
    CHECK_INT_EQ(p.p.id, id);
    CHECK_INT_EQ(meta_project_create(m, "team-a", true, 0, -1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_project_create(m, "library", true, 0, -1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_project_create(m, "Bad/Name", true, 0, -1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_INVALID);

    CHECK_INT_EQ(meta_project_get(m, "team-a", &p, &e), 0);
    CHECK(!p.p.public);
    CHECK_INT_EQ(meta_project_get(m, "nope", &p, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);
    CHECK_STR_EQ(e.msg, "project nope not found");
    CHECK_INT_EQ(p.p.id, 0);
    CHECK_INT_EQ(meta_project_get(m, "in valid", &p, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);
    meta_close(m);
}

static void test_users(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    struct meta_user u;
    struct berr e;
    int64_t id = 0;
    int64_t id2 = 0;

    CHECK_INT_EQ(meta_user_create(m, "admin", "pbkdf2$1$salt$hash", true, &id, &e), 0);
    CHECK(id > 0);
    CHECK_INT_EQ(meta_user_create(m, "bob", "pbkdf2$1$s2$h2", false, &id2, &e), 0);
    CHECK(id2 > id);
    CHECK_INT_EQ(meta_user_create(m, "admin", "x", false, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_user_create(m, "", "x", false, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);

    CHECK_INT_EQ(meta_user_get(m, "admin", &u, &e), 0);
    CHECK_INT_EQ(u.id, id);
    CHECK_STR_EQ(u.name, "admin");
    CHECK_STR_EQ(u.pw_hash, "pbkdf2$1$salt$hash");
    CHECK(u.sysadmin);
    CHECK(u.created_at > 0);
    CHECK_INT_EQ(meta_user_get(m, "bob", &u, &e), 0);
    CHECK(!u.sysadmin);

    CHECK_INT_EQ(meta_user_set_password(m, id2, "pbkdf2$1$s3$h3", &e), 0);
    CHECK_INT_EQ(meta_user_get(m, "bob", &u, &e), 0);
    CHECK_STR_EQ(u.pw_hash, "pbkdf2$1$s3$h3");
    CHECK_INT_EQ(meta_user_set_password(m, id2 + 100, "x", &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_user_get(m, "carol", &u, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(u.id, 0);
    meta_close(m);
}

static void test_blob_links(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    struct repo_name r = test_repo_name("library/app");
    struct repo_name r2 = test_repo_name("library/other");
    struct repo_name nope = test_repo_name("nope/app");
    struct digest d = test_digest_of("layer one");
    struct digest d2 = test_digest_of("layer two");
    struct coll col;
    struct berr e;
    uint64_t size = 1;
    bool more = true;

    CHECK_INT_EQ(meta_blob_linked(m, &r, &d, &size, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BLOB_UNKNOWN);
    CHECK_INT_EQ(size, 0);

    CHECK_INT_EQ(meta_blob_link(m, &r, &d, 1234, &e), 0);
    CHECK_INT_EQ(meta_blob_link(m, &r, &d, 1234, &e), 0); /* idempotent */
    CHECK_INT_EQ(meta_blob_linked(m, &r, &d, &size, &e), 0);
    CHECK_INT_EQ(size, 1234);
    CHECK_INT_EQ(meta_blob_linked(m, &r2, &d, &size, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BLOB_UNKNOWN);
    CHECK_INT_EQ(meta_blob_linked(m, &r, &d2, &size, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BLOB_UNKNOWN);
    CHECK_INT_EQ(meta_blob_size(m, &d, &size, &e), 0);
    CHECK_INT_EQ(size, 1234);
    CHECK_INT_EQ(meta_blob_size(m, &d2, &size, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BLOB_UNKNOWN);

    /* the repository now exists and shows in the catalog */
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_catalog(m, NULL, 100, coll_str, &col, &more, &e), 0);
    CHECK_STR_EQ(col.s, "library/app");
    CHECK(!more);

    /* a push into a project that does not exist */
    CHECK_INT_EQ(meta_blob_link(m, &nope, &d, 1234, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);
    CHECK_STR_EQ(e.msg, "project nope not found");
    CHECK_INT_EQ(meta_blob_linked(m, &nope, &d, &size, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BLOB_UNKNOWN);

    /* mount: which repositories hold d */
    CHECK_INT_EQ(meta_blob_link(m, &r2, &d, 1234, &e), 0);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_blob_repos(m, &d, coll_str, &col, &e), 0);
    CHECK_STR_EQ(col.s, "library/app,library/other");
    memset(&col, 0, sizeof(col));
    col.stop_after = 1;
    CHECK_INT_EQ(meta_blob_repos(m, &d, coll_str, &col, &e), 7);
    CHECK_STR_EQ(col.s, "library/app");

    CHECK_INT_EQ(meta_blob_unlink(m, &r, &d, &e), 0);
    CHECK_INT_EQ(meta_blob_linked(m, &r, &d, &size, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BLOB_UNKNOWN);
    CHECK_INT_EQ(meta_blob_linked(m, &r2, &d, &size, &e), 0);
    CHECK_INT_EQ(meta_blob_unlink(m, &r, &d, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BLOB_UNKNOWN);
    CHECK_INT_EQ(meta_blob_unlink(m, &nope, &d, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BLOB_UNKNOWN);
    CHECK_INT_EQ(meta_blob_size(m, &d, &size, &e), 0); /* the row stays until gc */
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
    char path[256];
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

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "meta-test");
    TEST_RUN(test_migrations);
    TEST_RUN(test_projects);
    TEST_RUN(test_users);
    TEST_RUN(test_blob_links);
    TEST_RUN(test_concurrent);
    test_rm_rf(tmpdir); /* the databases with their -wal and -shm files */
    return test_summary();
}
