/* meta_blob_test.c - unit tests for blobs (meta.h, meta_blob.c): links to repositories, what a
 * repository may serve, unlink, sizes, the repositories of a digest, and the gc and fsck queries
 * (unreferenced blobs, forget with its re-check, dangling links), each on a fresh temporary
 * database (storage/test_meta.h). */
#include "storage/meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"
#include "storage/test_meta.h"

static char tmpdir[64]; /* test_mkdtemp, one per run */

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

static void test_gc(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    struct repo_name r = test_repo_name("library/gc");
    struct digest keep = test_digest_of("keep");
    struct digest drop = test_digest_of("drop");
    struct digest layer = test_digest_of("layer");
    struct digest md = test_digest_of("manifest");
    struct digest absent = test_digest_of("absent");
    struct coll col;
    struct berr e;
    bool forgotten = true;
    bool known = false;
    char want[64];
    int64_t later = now_s() + 10;

    CHECK_INT_EQ(meta_blob_link(m, &r, &keep, 1, &e), 0);
    CHECK_INT_EQ(meta_blob_link(m, &r, &drop, 1, &e), 0);
    CHECK_INT_EQ(meta_blob_link(m, &r, &layer, 1, &e), 0);
    CHECK_INT_EQ(put_image(m, &r, "manifest", &layer, 1, "t", &e), 0);
    CHECK_INT_EQ(meta_blob_unlink(m, &r, &drop, &e), 0);
    /* listed by the manifest: still referenced without its link */
    CHECK_INT_EQ(meta_blob_unlink(m, &r, &layer, &e), 0);

    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_gc_unreferenced(m, later, coll_digest, &col, &e), 0);
    CHECK_STR_EQ(col.s, tail4(&drop));
    /* `before` protects recent rows */
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_gc_unreferenced(m, 0, coll_digest, &col, &e), 0);
    CHECK_INT_EQ(col.n, 0);

    /* forget refuses a blob that became referenced again */
    CHECK_INT_EQ(meta_blob_link(m, &r, &drop, 1, &e), 0);
    CHECK_INT_EQ(meta_blob_forget(m, &drop, &forgotten, &e), 0);
    CHECK(!forgotten);
    CHECK_INT_EQ(meta_blob_forget(m, &keep, &forgotten, &e), 0);
    CHECK(!forgotten);
    CHECK_INT_EQ(meta_blob_forget(m, &layer, &forgotten, &e), 0);
    CHECK(!forgotten);
    CHECK_INT_EQ(meta_blob_forget(m, &md, &forgotten, &e), 0);
    CHECK(!forgotten);
    CHECK_INT_EQ(meta_blob_unlink(m, &r, &drop, &e), 0);
    CHECK_INT_EQ(meta_blob_forget(m, &drop, &forgotten, &e), 0);
    CHECK(forgotten);
    CHECK_INT_EQ(meta_blob_known(m, &drop, &known, &e), 0);
    CHECK(!known);
    CHECK_INT_EQ(meta_blob_forget(m, &absent, &forgotten, &e), 0);
    CHECK(!forgotten);

    /* deleting the manifest frees it and its layer */
    CHECK_INT_EQ(meta_manifest_delete(m, &r, &md, &e), 0);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_gc_unreferenced(m, later, coll_digest, &col, &e), 0);
    CHECK_INT_EQ(col.n, 2);
    CHECK(strstr(col.s, tail4(&md)) != NULL);
    CHECK(strstr(col.s, tail4(&layer)) != NULL);

    /* fsck view */
    CHECK_INT_EQ(meta_blob_known(m, &keep, &known, &e), 0);
    CHECK(known);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_blobs_all(m, coll_digest, &col, &e), 0);
    CHECK_INT_EQ(col.n, 3);
    CHECK(snprintf(want, sizeof(want), "%s", tail4(&keep)) > 0);
    CHECK(strstr(col.s, want) != NULL);
    meta_close(m);
}

/* gc's callback forgets as it goes: it runs with no connection held, even with a pool of 1 */
static int forget_cb(const struct digest *d, void *ctx)
{
    struct meta *m = ctx;
    struct berr e;
    bool forgotten = false;

    if (meta_blob_forget(m, d, &forgotten, &e) < 0 || !forgotten)
        return 1;
    return 0;
}

static void test_gc_many(void)
{
    char content[32];
    struct meta *m = test_meta_open(tmpdir, 1);
    struct repo_name r = test_repo_name("library/many");
    struct digest d;
    struct coll col;
    struct berr e;
    int i;

    for (i = 0; i < 150; i++) {
        CHECK(snprintf(content, sizeof(content), "blob %d", i) > 0);
        d = test_digest_of(content);
        CHECK_INT_EQ(meta_blob_link(m, &r, &d, 1, &e), 0);
        CHECK_INT_EQ(meta_blob_unlink(m, &r, &d, &e), 0);
    }
    CHECK_INT_EQ(meta_gc_unreferenced(m, now_s() + 10, forget_cb, m, &e), 0);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_blobs_all(m, coll_digest, &col, &e), 0);
    CHECK_INT_EQ(col.n, 0);
    meta_close(m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "blob-test");
    TEST_RUN(test_blob_links);
    TEST_RUN(test_gc);
    TEST_RUN(test_gc_many);
    test_rm_rf(tmpdir); /* the databases with their -wal and -shm files */
    return test_summary();
}
