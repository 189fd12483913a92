/* meta_manifest_test.c - unit tests for manifests (meta.h, meta_manifest.c): put, resolve,
 * delete, tags and their paging, the catalog, referrers, allocation failures during a put and a
 * list, and artifacts as the management API lists them (top-level rule, sizes, filters, index
 * children, tag create and detach), each on a fresh temporary database (storage/test_meta.h). */
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

static void test_manifests(void)
{
    char want[128];
    struct meta *m = test_meta_open(tmpdir, 2);
    struct repo_name r = test_repo_name("library/app");
    struct repo_name r2 = test_repo_name("library/fresh");
    struct digest blobs[2] = {test_digest_of("config"), test_digest_of("layer")};
    struct digest missing = test_digest_of("missing");
    struct digest md = test_digest_of("manifest v1");
    struct digest md2 = test_digest_of("manifest v2");
    struct reference ref;
    struct meta_manifest mf;
    struct meta_manifest_in in;
    struct meta_child child;
    struct coll col;
    struct berr e;
    uint64_t size;
    bool more;

    CHECK_INT_EQ(meta_blob_link(m, &r, &blobs[0], 10, &e), 0);
    /* a blob not linked: refused, naming the digest, and nothing is left behind */
    CHECK_INT_EQ(put_image(m, &r, "manifest v1", blobs, 2, "v1", &e), -1);
    CHECK_INT_EQ(e.code, BERR_MANIFEST_BLOB_UNKNOWN);
    CHECK(snprintf(want, sizeof(want), "sha256:%s", blobs[1].hex) > 0);
    CHECK(strstr(e.msg, want) != NULL);
    ref = ref_tag("v1");
    CHECK_INT_EQ(meta_manifest_resolve(m, &r, &ref, &mf, &e), -1);
    CHECK_INT_EQ(e.code, BERR_MANIFEST_UNKNOWN);
    CHECK_INT_EQ(meta_blob_linked(m, &r, &md, &size, &e), -1);

    /* a failed first push into a new repository does not create it */
    CHECK_INT_EQ(put_image(m, &r2, "x", &missing, 1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_MANIFEST_BLOB_UNKNOWN);
    ref = ref_digest(&md);
    CHECK_INT_EQ(meta_manifest_resolve(m, &r2, &ref, &mf, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);

    CHECK_INT_EQ(meta_blob_link(m, &r, &blobs[1], 20, &e), 0);
    CHECK_INT_EQ(put_image(m, &r, "manifest v1", blobs, 2, "v1", &e), 0);
    CHECK_INT_EQ(put_image(m, &r, "manifest v1", blobs, 2, "v1", &e), 0); /* idempotent */

    /* resolve by tag and by digest */
    ref = ref_tag("v1");
    CHECK_INT_EQ(meta_manifest_resolve(m, &r, &ref, &mf, &e), 0);
    CHECK(digest_equal(&mf.digest, &md));
    CHECK_STR_EQ(mf.media_type, "application/vnd.oci.image.manifest.v1+json");
    CHECK_INT_EQ(mf.size, strlen("manifest v1"));
    CHECK(mf.pushed_at > 0);
    ref = ref_digest(&md);
    CHECK_INT_EQ(meta_manifest_resolve(m, &r, &ref, &mf, &e), 0);
    CHECK(digest_equal(&mf.digest, &md));
    ref = ref_tag("nope");
    CHECK_INT_EQ(meta_manifest_resolve(m, &r, &ref, &mf, &e), -1);
    CHECK_INT_EQ(e.code, BERR_MANIFEST_UNKNOWN);
    CHECK(mf.size == 0 && mf.media_type[0] == '\0');
    ref = ref_digest(&md2);
    CHECK_INT_EQ(meta_manifest_resolve(m, &r, &ref, &mf, &e), -1);
    CHECK_INT_EQ(e.code, BERR_MANIFEST_UNKNOWN);
    ref = ref_tag("v1");
    CHECK_INT_EQ(meta_manifest_resolve(m, &r2, &ref, &mf, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);

    /* the manifest's own digest is servable as a blob */
    CHECK_INT_EQ(meta_blob_linked(m, &r, &md, &size, &e), 0);
    CHECK_INT_EQ(size, strlen("manifest v1"));

    /* a deleted blob link is no longer served, even while a manifest lists the blob */
    CHECK_INT_EQ(meta_blob_unlink(m, &r, &blobs[1], &e), 0);
    CHECK_INT_EQ(meta_blob_linked(m, &r, &blobs[1], &size, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BLOB_UNKNOWN);
    CHECK_INT_EQ(meta_blob_link(m, &r, &blobs[1], 20, &e), 0);

    /* tag move: v1 and latest to the second manifest */
    CHECK_INT_EQ(put_image(m, &r, "manifest v2", blobs, 1, "latest", &e), 0);
    CHECK_INT_EQ(put_image(m, &r, "manifest v2", blobs, 1, "v1", &e), 0);
    ref = ref_tag("v1");
    CHECK_INT_EQ(meta_manifest_resolve(m, &r, &ref, &mf, &e), 0);
    CHECK(digest_equal(&mf.digest, &md2));
    ref = ref_digest(&md);
    CHECK_INT_EQ(meta_manifest_resolve(m, &r, &ref, &mf, &e), 0); /* still there untagged */

    /* an index: children must be manifests of the repository */
    memset(&in, 0, sizeof(in));
    memset(&child, 0, sizeof(child));
    child.digest = missing;
    memcpy(child.media_type, "application/vnd.oci.image.manifest.v1+json", 43);
    child.size = 11;
    memcpy(child.os, "linux", 6);
    memcpy(child.arch, "amd64", 6);
    in.digest = test_digest_of("index");
    in.media_type = "application/vnd.oci.image.index.v1+json";
    in.size = 5;
    in.children = &child;
    in.nchildren = 1;
    CHECK_INT_EQ(meta_manifest_put(m, &r, &in, &e), -1);
    CHECK_INT_EQ(e.code, BERR_MANIFEST_UNKNOWN);
    CHECK(snprintf(want, sizeof(want), "sha256:%s", missing.hex) > 0);
    CHECK(strstr(e.msg, want) != NULL);
    child.digest = md;
    CHECK_INT_EQ(meta_manifest_put(m, &r, &in, &e), 0);

    /* a child manifest may be deleted even though an index lists it */
    CHECK_INT_EQ(meta_manifest_delete(m, &r, &md, &e), 0);
    ref = ref_digest(&md);
    CHECK_INT_EQ(meta_manifest_resolve(m, &r, &ref, &mf, &e), -1);
    CHECK_INT_EQ(e.code, BERR_MANIFEST_UNKNOWN);
    CHECK_INT_EQ(meta_blob_linked(m, &r, &md, &size, &e), -1);
    CHECK_INT_EQ(meta_manifest_delete(m, &r, &md, &e), -1);
    CHECK_INT_EQ(e.code, BERR_MANIFEST_UNKNOWN);
    CHECK_INT_EQ(meta_manifest_delete(m, &r2, &md, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);

    /* tag delete keeps the manifest */
    struct tag t = test_tag("latest");
    CHECK_INT_EQ(meta_tag_delete(m, &r, &t, &e), 0);
    CHECK_INT_EQ(meta_tag_delete(m, &r, &t, &e), -1);
    CHECK_INT_EQ(e.code, BERR_MANIFEST_UNKNOWN);
    CHECK_INT_EQ(meta_tag_delete(m, &r2, &t, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);
    ref = ref_digest(&md2);
    CHECK_INT_EQ(meta_manifest_resolve(m, &r, &ref, &mf, &e), 0);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_tags_list(m, &r, NULL, 10, coll_str, &col, &more, &e), 0);
    CHECK_STR_EQ(col.s, "v1");

    /* manifest delete removes its tags */
    CHECK_INT_EQ(meta_manifest_delete(m, &r, &md2, &e), 0);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_tags_list(m, &r, NULL, 10, coll_str, &col, &more, &e), 0);
    CHECK_STR_EQ(col.s, "");
    CHECK_INT_EQ(col.n, 0);
    ref = ref_tag("v1");
    CHECK_INT_EQ(meta_manifest_resolve(m, &r, &ref, &mf, &e), -1);
    CHECK_INT_EQ(e.code, BERR_MANIFEST_UNKNOWN);

    /* bad input */
    memset(&in, 0, sizeof(in));
    in.digest = test_digest_of("bad");
    in.media_type = "";
    CHECK_INT_EQ(meta_manifest_put(m, &r, &in, &e), -1);
    CHECK_INT_EQ(e.code, BERR_MANIFEST_INVALID);
    meta_close(m);
}

static void test_tags_paging(void)
{
    char name[16];
    struct meta *m = test_meta_open(tmpdir, 2);
    struct repo_name r = test_repo_name("library/paged");
    struct repo_name none = test_repo_name("library/none");
    struct digest cfg = test_digest_of("cfg");
    struct meta_manifest_in in;
    struct tag tags[150];
    struct coll col;
    struct berr e;
    bool more;
    int i;

    CHECK_INT_EQ(meta_blob_link(m, &r, &cfg, 3, &e), 0);
    /* 150 tags t000..t149 in one push: more than two batches */
    for (i = 0; i < 150; i++) {
        CHECK(snprintf(name, sizeof(name), "t%03d", i) > 0);
        tags[i] = test_tag(name);
    }
    memset(&in, 0, sizeof(in));
    in.digest = test_digest_of("m");
    in.media_type = "application/vnd.oci.image.manifest.v1+json";
    in.size = 1;
    in.blobs = &cfg;
    in.nblobs = 1;
    in.tags = tags;
    in.ntags = 150;
    CHECK_INT_EQ(meta_manifest_put(m, &r, &in, &e), 0);

    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_tags_list(m, &r, NULL, 3, coll_str, &col, &more, &e), 0);
    CHECK_STR_EQ(col.s, "t000,t001,t002");
    CHECK(more);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_tags_list(m, &r, "t002", 2, coll_str, &col, &more, &e), 0);
    CHECK_STR_EQ(col.s, "t003,t004");
    CHECK(more);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_tags_list(m, &r, "t147", 5, coll_str, &col, &more, &e), 0);
    CHECK_STR_EQ(col.s, "t148,t149");
    CHECK(!more);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_tags_list(m, &r, "t147", 2, coll_str, &col, &more, &e), 0);
    CHECK_STR_EQ(col.s, "t148,t149");
    CHECK(!more); /* exactly the rest: nothing remains */
    /* across batches */
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_tags_list(m, &r, "", 1000, coll_str, &col, &more, &e), 0);
    CHECK_INT_EQ(col.n, 150);
    CHECK(!more);
    CHECK(strncmp(col.s, "t000,t001", 9) == 0);
    CHECK(strcmp(col.s + strlen(col.s) - 9, "t148,t149") == 0);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_tags_list(m, &r, "t010", 130, coll_str, &col, &more, &e), 0);
    CHECK_INT_EQ(col.n, 130);
    CHECK(more);
    CHECK(strcmp(col.s + strlen(col.s) - 4, "t140") == 0);
    /* n = 0 says whether any remain */
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_tags_list(m, &r, NULL, 0, coll_str, &col, &more, &e), 0);
    CHECK_INT_EQ(col.n, 0);
    CHECK(more);
    CHECK_INT_EQ(meta_tags_list(m, &r, "zzz", 10, coll_str, &col, &more, &e), 0);
    CHECK(!more);
    /* the callback stops the walk */
    memset(&col, 0, sizeof(col));
    col.stop_after = 70;
    CHECK_INT_EQ(meta_tags_list(m, &r, NULL, 100, coll_str, &col, &more, &e), 7);
    CHECK_INT_EQ(col.n, 70);
    /* unknown repository */
    CHECK_INT_EQ(meta_tags_list(m, &none, NULL, 10, coll_str, &col, &more, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);

    /* an allocation failure is an error, not an empty list */
    mem_fail_after(0);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_tags_list(m, &r, NULL, 10, coll_str, &col, &more, &e), -1);
    CHECK_INT_EQ(e.code, BERR_INTERNAL);
    CHECK_INT_EQ(mem_injected(), 1);
    mem_fail_after(-1);
    CHECK_INT_EQ(col.n, 0);
    meta_close(m);
}

static void test_catalog(void)
{
    char name[64];
    struct meta *m = test_meta_open(tmpdir, 2);
    struct digest d = test_digest_of("b");
    struct repo_name r;
    struct coll col;
    struct berr e;
    bool more;
    int i;

    CHECK_INT_EQ(meta_project_create(m, "zeta", true, 0, -1, NULL, &e), 0);
    for (i = 0; i < 5; i++) {
        CHECK(snprintf(name, sizeof(name), "library/r%d", i) > 0);
        r = test_repo_name(name);
        CHECK_INT_EQ(meta_blob_link(m, &r, &d, 1, &e), 0);
    }
    r = test_repo_name("zeta/app");
    CHECK_INT_EQ(put_image(m, &r, "zm", NULL, 0, "t", &e), 0);
    /* a repository whose only blob went is not listed */
    r = test_repo_name("library/r2");
    CHECK_INT_EQ(meta_blob_unlink(m, &r, &d, &e), 0);

    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_catalog(m, NULL, 2, coll_str, &col, &more, &e), 0);
    CHECK_STR_EQ(col.s, "library/r0,library/r1");
    CHECK(more);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_catalog(m, "library/r1", 2, coll_str, &col, &more, &e), 0);
    CHECK_STR_EQ(col.s, "library/r3,library/r4");
    CHECK(more);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_catalog(m, "library/r4", 2, coll_str, &col, &more, &e), 0);
    CHECK_STR_EQ(col.s, "zeta/app");
    CHECK(!more);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_catalog(m, NULL, 100, coll_str, &col, &more, &e), 0);
    CHECK_INT_EQ(col.n, 5);
    CHECK(!more);
    meta_close(m);
}

struct ref_coll {
    char s[1024];
    int n;
};

static int coll_ref(const struct meta_referrer *r, void *ctx)
{
    struct ref_coll *c = ctx;
    size_t len = strlen(c->s);

    if (snprintf(c->s + len, sizeof(c->s) - len, "%s%s/%s/%llu/%s", len ? "," : "",
                 tail4(&r->digest), r->artifact_type, (unsigned long long)r->size,
                 r->annotations_json != NULL ? r->annotations_json : "-") < 0)
        abort();
    c->n++;
    return 0;
}

static void test_referrers(void)
{
    char want[512];
    char content[32];
    struct meta *m = test_meta_open(tmpdir, 2);
    struct repo_name r = test_repo_name("library/art");
    struct repo_name none = test_repo_name("library/none");
    struct digest cfg = test_digest_of("cfg");
    struct digest subject = test_digest_of("subject manifest");
    struct digest other = test_digest_of("other");
    struct digest a1 = test_digest_of("sig one");
    struct digest a2 = test_digest_of("sbom one");
    struct meta_manifest_in in;
    struct ref_coll col;
    struct berr e;
    int i;

    CHECK_INT_EQ(meta_blob_link(m, &r, &cfg, 3, &e), 0);
    CHECK_INT_EQ(put_image(m, &r, "subject manifest", &cfg, 1, "v1", &e), 0);
    memset(&in, 0, sizeof(in));
    in.media_type = "application/vnd.oci.image.manifest.v1+json";
    in.blobs = &cfg;
    in.nblobs = 1;
    in.subject = &subject;
    in.digest = a1;
    in.size = 7;
    in.artifact_type = "application/vnd.example.sig";
    CHECK_INT_EQ(meta_manifest_put(m, &r, &in, &e), 0);
    in.digest = a2;
    in.size = 8;
    in.artifact_type = "application/vnd.example.sbom";
    in.annotations_json = "{\"k\":\"v\"}";
    CHECK_INT_EQ(meta_manifest_put(m, &r, &in, &e), 0);

    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_referrers(m, &r, &subject, NULL, coll_ref, &col, &e), 0);
    CHECK_INT_EQ(col.n, 2);
    CHECK(strstr(col.s, "/application/vnd.example.sig/7/-") != NULL);
    CHECK(strstr(col.s, "/application/vnd.example.sbom/8/{\"k\":\"v\"}") != NULL);

    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(
            meta_referrers(m, &r, &subject, "application/vnd.example.sbom", coll_ref, &col, &e), 0);
    CHECK(snprintf(want, sizeof(want), "%s/application/vnd.example.sbom/8/{\"k\":\"v\"}",
                   tail4(&a2)) > 0);
    CHECK_STR_EQ(col.s, want);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_referrers(m, &r, &subject, "application/none", coll_ref, &col, &e), 0);
    CHECK_INT_EQ(col.n, 0);
    CHECK_INT_EQ(meta_referrers(m, &r, &other, NULL, coll_ref, &col, &e), 0);
    CHECK_INT_EQ(col.n, 0);
    CHECK_INT_EQ(meta_referrers(m, &none, &subject, NULL, coll_ref, &col, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);

    /* more than one batch of referrers */
    in.artifact_type = NULL;
    in.annotations_json = NULL;
    for (i = 0; i < 70; i++) {
        CHECK(snprintf(content, sizeof(content), "bulk %d", i) > 0);
        in.digest = test_digest_of(content);
        CHECK_INT_EQ(meta_manifest_put(m, &r, &in, &e), 0);
    }
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_referrers(m, &r, &subject, NULL, coll_ref, &col, &e), 0);
    CHECK_INT_EQ(col.n, 72);
    memset(&col, 0, sizeof(col));
    CHECK_INT_EQ(meta_referrers(m, &r, &subject, "", coll_ref, &col, &e), 0);
    CHECK_INT_EQ(col.n, 70); /* "" matches the ones without an artifact type */

    for (i = 0; i < 3; i++) {
        mem_fail_after(i);
        memset(&col, 0, sizeof(col));
        (void)meta_referrers(m, &r, &subject, NULL, coll_ref, &col, &e);
        mem_fail_after(-1);
    }
    mem_fail_after(0);
    CHECK_INT_EQ(meta_referrers(m, &r, &subject, NULL, coll_ref, &col, &e), -1);
    mem_fail_after(-1);
    CHECK_INT_EQ(e.code, BERR_INTERNAL);
    meta_close(m);
}

/* a write hit by an allocation failure at any point is all or nothing */
static void test_put_alloc_failures(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    struct repo_name r = test_repo_name("library/oom");
    struct digest blobs[2] = {test_digest_of("oom config"), test_digest_of("oom layer")};
    struct digest md = test_digest_of("oom manifest");
    struct reference by_tag = ref_tag("v1");
    struct reference by_digest = ref_digest(&md);
    struct meta_manifest mf;
    struct berr e;
    long i;
    int rc;
    int rt;
    int rd;
    int failed = 0;
    int torn = 0;

    CHECK_INT_EQ(meta_blob_link(m, &r, &blobs[0], 1, &e), 0);
    CHECK_INT_EQ(meta_blob_link(m, &r, &blobs[1], 2, &e), 0);
    for (i = 0; i < 20000; i++) {
        mem_fail_after(i);
        rc = put_image(m, &r, "oom manifest", blobs, 2, "v1", &e);
        mem_fail_after(-1);
        if (rc < 0) {
            failed++;
            CHECK_INT_EQ(e.code, BERR_INTERNAL);
        }
        /* the manifest and its tag come together or not at all */
        rt = meta_manifest_resolve(m, &r, &by_tag, &mf, &e);
        rd = meta_manifest_resolve(m, &r, &by_digest, &mf, &e);
        if (rt != rd)
            torn++;
        if (rc == 0) {
            CHECK_INT_EQ(rt, 0);
            break;
        }
        CHECK(rd < 0); /* a failed first put leaves nothing */
    }
    CHECK_INT_EQ(torn, 0);
    /* SQLite's allocations go through mem.c in test builds, libpq's do not: on PostgreSQL the
     * put itself allocates nothing, so no step fails there */
    CHECK(failed > 10 || (test_meta_pg() != NULL && failed == 0));
    CHECK(i < 20000);

    /* deletes under failure: the manifest goes with its tags or stays with them */
    for (i = 0; i < 20000; i++) {
        mem_fail_after(i);
        rc = meta_manifest_delete(m, &r, &md, &e);
        mem_fail_after(-1);
        rt = meta_manifest_resolve(m, &r, &by_tag, &mf, &e);
        rd = meta_manifest_resolve(m, &r, &by_digest, &mf, &e);
        CHECK_INT_EQ(rt, rd);
        if (rc == 0) {
            CHECK(rd < 0);
            break;
        }
        CHECK_INT_EQ(rd, 0);
    }
    CHECK(i < 20000);
    meta_close(m);
}

/* a list hit by an allocation failure is an error, never a short list */
static void test_list_alloc_failures(void)
{
    char content[32];
    char mcontent[40];
    struct meta *m = test_meta_open(tmpdir, 2);
    struct repo_name r = test_repo_name("library/oomlist");
    struct digest d;
    struct coll col;
    struct berr e;
    bool more;
    long i;
    int rc;
    int failed = 0;

    for (i = 0; i < 100; i++) {
        CHECK(snprintf(content, sizeof(content), "t%03ld", i) > 0);
        d = test_digest_of(content);
        CHECK_INT_EQ(meta_blob_link(m, &r, &d, 1, &e), 0);
        CHECK(snprintf(mcontent, sizeof(mcontent), "manifest %s", content) > 0);
        CHECK_INT_EQ(put_image(m, &r, mcontent, &d, 1, content, &e), 0);
    }
    for (i = 0; i < 20000; i++) {
        memset(&col, 0, sizeof(col));
        mem_fail_after(i);
        rc = meta_tags_list(m, &r, NULL, 90, coll_str, &col, &more, &e);
        mem_fail_after(-1);
        if (rc < 0) {
            failed++;
            CHECK_INT_EQ(e.code, BERR_INTERNAL);
            continue;
        }
        CHECK_INT_EQ(rc, 0);
        CHECK_INT_EQ(col.n, 90);
        CHECK(more);
        if (mem_injected() == 0)
            break;
    }
    CHECK(failed >= 1);
    CHECK(i < 20000);
    for (i = 0; i < 20000; i++) {
        memset(&col, 0, sizeof(col));
        mem_fail_after(i);
        rc = meta_blobs_all(m, coll_digest, &col, &e);
        mem_fail_after(-1);
        if (rc < 0) {
            CHECK_INT_EQ(e.code, BERR_INTERNAL);
            continue;
        }
        CHECK_INT_EQ(col.n, 200); /* 100 layers and 100 manifests */
        if (mem_injected() == 0)
            break;
    }
    CHECK(i < 20000);
    meta_close(m);
}

static void test_artifacts(void)
{
    struct browse_fixture f;
    struct meta_artifact *rows = mem_calloc(10, sizeof(*rows));
    struct meta_artifact a;
    struct meta_artifact_q q;
    struct meta_repo_info info;
    struct repo_name app = test_repo_name("pub/app");
    struct digest m1 = test_digest_of("m1-content"), m2 = test_digest_of("m2-content-longer");
    struct berr e;
    size_t n = 0;
    int64_t total = 0;

    browse_setup(&f, tmpdir, "arts.db");
    CHECK(rows != NULL);
    CHECK_INT_EQ(meta_repo_info_get(f.m, &app, &info, &e), 0);
    memset(&q, 0, sizeof(q));
    q.l.limit = 10;
    q.repo_id = info.id;
    q.tagged = -1;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    CHECK_INT_EQ(n, 2);
    /* sizes: manifest plus config and layers */
    for (size_t i = 0; i < n; i++) {
        if (digest_equal(&rows[i].digest, &m1))
            CHECK_INT_EQ(rows[i].size, strlen("m1-content") + 1100);
        else
            CHECK_INT_EQ(rows[i].size, strlen("m2-content-longer") + 50);
        CHECK_STR_EQ(rows[i].repo_name, "pub/app");
        CHECK_INT_EQ(rows[i].project_id, f.pub);
        CHECK(!rows[i].is_index);
        CHECK_INT_EQ(rows[i].pull_time, 0);
    }
    q.tagged = 1;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK(digest_equal(&rows[0].digest, &m1));
    q.tagged = 0;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK(digest_equal(&rows[0].digest, &m2));
    q.tagged = -1;
    q.tag = "v";
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 0);
    q.tag_fuzzy = true;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.tag = NULL;
    q.digest = &m2;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.digest = NULL;
    q.l.sort = "bogus";
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    q.l.sort = NULL;
    q.repo_id = 0;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    /* project-wide */
    q.project_id = f.pub;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);

    CHECK_INT_EQ(meta_artifact_get(f.m, info.id, &m1, &a, &e), 0);
    CHECK_INT_EQ(a.manifest_size, strlen("m1-content"));
    CHECK_STR_EQ(a.artifact_type, "application/vnd.oci.image.config.v1+json");
    CHECK_INT_EQ(meta_artifact_get(f.m, info.id, &(struct digest){.hex = {'0'}}, &a, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    mem_free(rows);
    meta_close(f.m);
}

static void test_index(void)
{
    struct browse_fixture f;
    struct meta_artifact *rows = mem_calloc(10, sizeof(*rows));
    struct meta_artifact_ref refs[4];
    struct meta_artifact_q q;
    struct meta_artifact a;
    struct meta_repo_info info;
    struct meta_manifest_in in;
    struct meta_child ch[2];
    struct repo_name app = test_repo_name("pub/app");
    struct digest m1 = test_digest_of("m1-content"), m2 = test_digest_of("m2-content-longer");
    struct tag t = test_tag("multi");
    const char *idx = "index-content";
    struct berr e;
    size_t n = 0;
    int64_t total = 0;

    browse_setup(&f, tmpdir, "index.db");
    memset(ch, 0, sizeof(ch));
    ch[0].digest = m1;
    ch[1].digest = m2;
    for (int i = 0; i < 2; i++) {
        (void)snprintf(ch[i].media_type, sizeof(ch[i].media_type), "%s",
                       "application/vnd.oci.image.manifest.v1+json");
        (void)snprintf(ch[i].os, sizeof(ch[i].os), "linux");
    }
    ch[0].size = strlen("m1-content");
    ch[1].size = strlen("m2-content-longer");
    (void)snprintf(ch[0].arch, sizeof(ch[0].arch), "amd64");
    (void)snprintf(ch[1].arch, sizeof(ch[1].arch), "arm64");
    (void)snprintf(ch[1].variant, sizeof(ch[1].variant), "v8");
    memset(&in, 0, sizeof(in));
    in.digest = test_digest_of(idx);
    in.media_type = "application/vnd.oci.image.index.v1+json";
    in.size = strlen(idx);
    in.children = ch;
    in.nchildren = 2;
    in.tags = &t;
    in.ntags = 1;
    CHECK_INT_EQ(meta_manifest_put(f.m, &app, &in, &e), 0);
    CHECK_INT_EQ(meta_repo_info_get(f.m, &app, &info, &e), 0);
    CHECK_INT_EQ(info.artifact_count, 1); /* the children went under the index */

    memset(&q, 0, sizeof(q));
    q.l.limit = 10;
    q.repo_id = info.id;
    q.tagged = -1;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK(rows[0].is_index);
    CHECK_INT_EQ(rows[0].size,
                 strlen(idx) + strlen("m1-content") + 1100 + strlen("m2-content-longer") + 50);
    CHECK_INT_EQ(meta_artifact_refs(f.m, rows[0].id, refs, 4, &n, &e), 0);
    CHECK_INT_EQ(n, 2);
    CHECK(digest_equal(&refs[0].child, &m1));
    CHECK_STR_EQ(refs[0].arch, "amd64");
    CHECK_STR_EQ(refs[1].arch, "arm64");
    CHECK_STR_EQ(refs[1].variant, "v8");
    CHECK(refs[0].child_id > 0);
    /* a child is still found by digest */
    CHECK_INT_EQ(meta_artifact_get(f.m, info.id, &m2, &a, &e), 0);
    CHECK_INT_EQ(meta_artifact_refs(f.m, a.id, refs, 4, &n, &e), 0);
    CHECK_INT_EQ(n, 0);
    mem_free(rows);
    meta_close(f.m);
}

static void test_tags(void)
{
    struct browse_fixture f;
    struct meta_tag_info rows[8];
    struct meta_list_q q;
    struct meta_artifact a1, a2, s;
    struct meta_repo_info app, secret;
    struct repo_name rapp = test_repo_name("pub/app"), rsecret = test_repo_name("p1/secret");
    struct digest m1 = test_digest_of("m1-content"), m2 = test_digest_of("m2-content-longer");
    struct digest s1 = test_digest_of("s-content");
    struct tag v3 = test_tag("v3"), v1 = test_tag("v1");
    struct berr e;
    size_t n = 0;
    int64_t total = 0;

    browse_setup(&f, tmpdir, "tags.db");
    CHECK_INT_EQ(meta_repo_info_get(f.m, &rapp, &app, &e), 0);
    CHECK_INT_EQ(meta_repo_info_get(f.m, &rsecret, &secret, &e), 0);
    CHECK_INT_EQ(meta_artifact_get(f.m, app.id, &m1, &a1, &e), 0);
    CHECK_INT_EQ(meta_artifact_get(f.m, app.id, &m2, &a2, &e), 0);
    CHECK_INT_EQ(meta_artifact_get(f.m, secret.id, &s1, &s, &e), 0);
    memset(&q, 0, sizeof(q));
    q.limit = 8;
    CHECK_INT_EQ(meta_artifact_tags(f.m, a1.id, &q, rows, 8, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    CHECK_STR_EQ(rows[0].name, "v1");
    CHECK_STR_EQ(rows[1].name, "v2");
    CHECK_INT_EQ(rows[0].artifact_id, a1.id);
    CHECK_INT_EQ(rows[0].repo_id, app.id);
    CHECK(rows[0].pushed_at > 0);
    q.sort = "-name";
    CHECK_INT_EQ(meta_artifact_tags(f.m, a1.id, &q, rows, 8, &n, &total, &e), 0);
    CHECK_STR_EQ(rows[0].name, "v2");
    q.sort = "nope";
    CHECK_INT_EQ(meta_artifact_tags(f.m, a1.id, &q, rows, 8, &n, &total, &e), -1);
    q.sort = NULL;
    q.name = "2";
    q.fuzzy = true;
    CHECK_INT_EQ(meta_artifact_tags(f.m, a1.id, &q, rows, 8, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.name = NULL;

    CHECK_INT_EQ(meta_tag_create(f.m, app.id, a2.id, &v3, &e), 0);
    CHECK_INT_EQ(meta_artifact_tags(f.m, a2.id, &q, rows, 8, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_INT_EQ(meta_tag_create(f.m, app.id, a2.id, &v3, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_tag_create(f.m, app.id, a2.id, &v1, &e), -1); /* v1 is m1's */
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_tag_create(f.m, app.id, s.id, &v3, &e), -1); /* not in this repo */
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);

    CHECK_INT_EQ(meta_tag_detach(f.m, a1.id, &v3, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_tag_detach(f.m, a2.id, &v3, &e), 0);
    CHECK_INT_EQ(meta_artifact_tags(f.m, a2.id, &q, rows, 8, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 0);
    meta_close(f.m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "manifest-test");
    TEST_RUN(test_manifests);
    TEST_RUN(test_tags_paging);
    TEST_RUN(test_catalog);
    TEST_RUN(test_referrers);
    TEST_RUN(test_put_alloc_failures);
    TEST_RUN(test_list_alloc_failures);
    TEST_RUN(test_artifacts);
    TEST_RUN(test_index);
    TEST_RUN(test_tags);
    test_rm_rf(tmpdir); /* the databases with their -wal and -shm files */
    return test_summary();
}
