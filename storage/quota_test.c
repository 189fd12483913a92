/* quota_test.c - unit tests for project storage quotas: usage counts distinct blobs once per
 * project, refusals write nothing, deletes bring usage down, and racing pushes cannot pass the
 * limit together. */
#include "storage/quota.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/test.h"
#include "common/util.h"
#include "storage/meta.h"
#include "storage/test_meta.h"

static char tmpdir[64];

static int64_t usage(struct meta *m, int64_t pid)
{
    struct berr e;
    int64_t u = -99;

    if (quota_usage(m, pid, &u, &e) < 0)
        return -99;
    return u;
}

static void test_usage_distinct(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    struct repo_name a = test_repo_name("p1/a"), b = test_repo_name("p1/b"),
                     o = test_repo_name("p2/x");
    struct digest l1 = test_digest_of("layer1"), l2 = test_digest_of("layer2");
    struct meta_manifest_in in;
    struct quota_info qi;
    struct berr e;
    int64_t p1, p2;
    bool added = false;

    CHECK_INT_EQ(meta_project_create(m, "p1", false, 0, 1000, &p1, &e), 0);
    CHECK_INT_EQ(meta_project_create(m, "p2", false, 0, -1, &p2, &e), 0);
    CHECK_INT_EQ(usage(m, p1), 0);

    CHECK_INT_EQ(meta_blob_link_quota(m, &a, &l1, 300, &added, &e), 0);
    CHECK(added);
    CHECK_INT_EQ(usage(m, p1), 300);
    /* the same layer in another repository of the same project counts once (harbor#19748) */
    CHECK_INT_EQ(meta_blob_link_quota(m, &b, &l1, 300, &added, &e), 0);
    CHECK(added);
    CHECK_INT_EQ(usage(m, p1), 300);
    /* linking it again adds nothing and is not "added" */
    CHECK_INT_EQ(meta_blob_link_quota(m, &b, &l1, 300, &added, &e), 0);
    CHECK(!added);
    /* another project pays for its own copy */
    CHECK_INT_EQ(meta_blob_link_quota(m, &o, &l1, 300, NULL, &e), 0);
    CHECK_INT_EQ(usage(m, p2), 300);
    CHECK_INT_EQ(usage(m, p1), 300);

    /* a manifest's own bytes count too */
    CHECK_INT_EQ(meta_blob_link_quota(m, &a, &l2, 200, NULL, &e), 0);
    memset(&in, 0, sizeof(in));
    in.digest = test_digest_of("{manifest}");
    in.media_type = "application/vnd.oci.image.manifest.v1+json";
    in.size = 10;
    in.blobs = &l1;
    in.nblobs = 1;
    CHECK_INT_EQ(meta_manifest_put(m, &a, &in, &e), 0);
    CHECK_INT_EQ(usage(m, p1), 510);

    CHECK_INT_EQ(quota_get(m, p1, &qi, &e), 0);
    CHECK_INT_EQ(qi.id, p1);
    CHECK_STR_EQ(qi.project, "p1");
    CHECK_INT_EQ(qi.hard, 1000);
    CHECK_INT_EQ(qi.used, 510);
    CHECK_INT_EQ(quota_get(m, 9999, &qi, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);

    /* deletes bring usage down: unlinking from one repository keeps the other's copy */
    CHECK_INT_EQ(meta_blob_unlink(m, &b, &l1, &e), 0);
    CHECK_INT_EQ(usage(m, p1), 510);
    CHECK_INT_EQ(meta_manifest_delete(m, &a, &in.digest, &e), 0);
    CHECK_INT_EQ(usage(m, p1), 500);
    CHECK_INT_EQ(meta_blob_unlink(m, &a, &l1, &e), 0);
    CHECK_INT_EQ(usage(m, p1), 200);
    meta_close(m);
}

static void test_refusal(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    struct repo_name a = test_repo_name("lim/a"), b = test_repo_name("lim/b");
    struct digest l1 = test_digest_of("one"), l2 = test_digest_of("two"),
                  l3 = test_digest_of("three");
    struct berr e;
    bool known = true;
    int64_t pid, used = -1;
    uint64_t size;

    CHECK_INT_EQ(meta_project_create(m, "lim", false, 0, 100, &pid, &e), 0);
    CHECK_INT_EQ(meta_blob_link_quota(m, &a, &l1, 60, NULL, &e), 0);
    /* 60 + 50 > 100: refused with the exact message, nothing written */
    CHECK_INT_EQ(quota_check(m, &a, &l2, 50, &e), -1);
    CHECK_INT_EQ(e.code, BERR_DENIED);
    CHECK_STR_EQ(e.msg,
                 "quota exceeded: project lim uses 60 of 100 bytes, this push needs 50 more");
    CHECK_INT_EQ(meta_blob_link_quota(m, &b, &l2, 50, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_DENIED);
    CHECK_INT_EQ(meta_blob_known(m, &l2, &known, &e), 0);
    CHECK(!known); /* no blob row */
    CHECK_INT_EQ(meta_blob_linked(m, &b, &l2, &size, &e), -1);
    CHECK_INT_EQ(usage(m, pid), 60);
    /* exactly at the limit is allowed */
    CHECK_INT_EQ(meta_blob_link_quota(m, &a, &l2, 40, NULL, &e), 0);
    CHECK_INT_EQ(usage(m, pid), 100);
    /* a digest the project holds already adds nothing, even when full */
    CHECK_INT_EQ(quota_check(m, &b, &l1, 60, &e), 0);
    CHECK_INT_EQ(meta_blob_link_quota(m, &b, &l1, 60, NULL, &e), 0);
    CHECK_INT_EQ(meta_blob_link_quota(m, &b, &l3, 1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_DENIED);

    /* a limit below usage is accepted and reported (harbor#15615) */
    CHECK_INT_EQ(quota_set(m, pid, 10, &used, &e), 0);
    CHECK_INT_EQ(used, 100);
    CHECK_INT_EQ(quota_set(m, pid, -2, &used, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(quota_set(m, 4242, 10, &used, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    /* unlimited again: anything goes */
    CHECK_INT_EQ(quota_set(m, pid, QUOTA_UNLIMITED, NULL, &e), 0);
    CHECK_INT_EQ(meta_blob_link_quota(m, &b, &l3, 1000000, NULL, &e), 0);
    CHECK_INT_EQ(usage(m, pid), 1000100);

    /* unknown project */
    {
        struct repo_name x = test_repo_name("nope/x");
        CHECK_INT_EQ(meta_blob_link_quota(m, &x, &l3, 1, NULL, &e), -1);
        CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);
        CHECK_INT_EQ(quota_check(m, &x, &l3, 1, &e), -1);
        CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);
    }
    meta_close(m);
}

static void test_list(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    struct quota_info out[QUOTA_LIST_MAX];
    struct berr e;
    size_t n = 0;
    int64_t total = 0, p;

    /* library exists already */
    CHECK_INT_EQ(meta_project_create(m, "aa", false, 0, 5, &p, &e), 0);
    CHECK_INT_EQ(meta_project_create(m, "bb", false, 0, -1, NULL, &e), 0);
    CHECK_INT_EQ(quota_list(m, 0, 0, out, 2, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 3);
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(out[0].project, "library");
    CHECK_STR_EQ(out[1].project, "aa");
    CHECK_INT_EQ(out[1].hard, 5);
    CHECK_INT_EQ(quota_list(m, 0, 2, out, 2, &n, &total, &e), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_STR_EQ(out[0].project, "bb");
    CHECK_INT_EQ(quota_list(m, p, 0, out, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(out[0].id, p);
    CHECK_INT_EQ(quota_list(m, 0, 0, out, QUOTA_LIST_MAX + 1, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    meta_close(m);
}

/* racing pushes: N threads each link a distinct 10-byte blob into a 55-byte project; exactly 5
 * may get in, whatever the interleaving */
#define RACERS 8
struct racer {
    struct meta *m;
    int i;
    int rc;
    enum berr_code code;
};

static void *race_one(void *arg)
{
    struct racer *r = arg;
    char content[32], name[32];
    struct repo_name repo;
    struct digest d;
    struct berr e;

    (void)snprintf(content, sizeof(content), "racer-%d", r->i);
    (void)snprintf(name, sizeof(name), "race/r%d", r->i % 3);
    repo = test_repo_name(name);
    d = test_digest_of(content);
    r->rc = meta_blob_link_quota(r->m, &repo, &d, 10, NULL, &e);
    r->code = r->rc < 0 ? e.code : BERR_OK;
    return NULL;
}

static void test_concurrent(void)
{
    struct meta *m = test_meta_open(tmpdir, RACERS);
    struct racer rs[RACERS];
    pthread_t th[RACERS];
    struct berr e;
    int64_t pid;
    int ok = 0, denied = 0;

    CHECK_INT_EQ(meta_project_create(m, "race", false, 0, 55, &pid, &e), 0);
    for (int i = 0; i < RACERS; i++) {
        rs[i] = (struct racer){.m = m, .i = i};
        if (pthread_create(&th[i], NULL, race_one, &rs[i]) != 0)
            abort();
    }
    for (int i = 0; i < RACERS; i++) {
        (void)pthread_join(th[i], NULL);
        if (rs[i].rc == 0)
            ok++;
        else if (rs[i].code == BERR_DENIED)
            denied++;
    }
    CHECK_INT_EQ(ok, 5);
    CHECK_INT_EQ(denied, RACERS - 5);
    CHECK_INT_EQ(usage(m, pid), 50);
    meta_close(m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "quota-test");
    TEST_RUN(test_usage_distinct);
    TEST_RUN(test_refusal);
    TEST_RUN(test_list);
    TEST_RUN(test_concurrent);
    test_rm_rf(tmpdir);
    return test_summary();
}
