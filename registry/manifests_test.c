/* manifests_test.c - GET/HEAD/PUT/DELETE /v2/<name>/manifests/<ref> through route_v2_handler and
 * the seam's test double, on a real registry: PUT by tag (body in pieces), by digest, with
 * ?tag=; GET/HEAD by tag and digest with the exact bytes, ETag and If-None-Match; wrong media
 * type, missing blobs, a digest that does not match, too large (by Content-Length at begin and
 * while streaming), DELETE of a tag and of a manifest; which requests count as pulls. */
#include "registry/test_registry.h"

static struct test_registry t;
static char admin[256];
static char cfg_d[DIGEST_STR_LEN + 1], layer_d[DIGEST_STR_LEN + 1];
static char manifest[1024];
static size_t manifest_len;
static char man_d[DIGEST_STR_LEN + 1];

#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"

static void req(struct http_fake_result *res, const char *method, const char *target,
                const void *body, size_t len, size_t piece, const char *hname, const char *hval)
{
    test_v2(res, &t, method, target, admin, body, len, piece, hname, hval, TEST_HDR_END);
}

static void test_put_by_tag(void)
{
    struct http_fake_result res;
    char loc[256];

    req(&res, "PUT", "/v2/lib/app/manifests/v1", manifest, manifest_len, 50, "Content-Type",
        OCI_MANIFEST);
    CHECK_INT_EQ(res.status, 201);
    CHECK(!res.answered_at_begin);
    CHECK(res.data_calls > 2);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Content-Digest"), man_d);
    (void)snprintf(loc, sizeof(loc), "/v2/lib/app/manifests/%s", man_d);
    CHECK_STR_EQ(http_fake_get(&res, "Location"), loc);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Distribution-Api-Version"), "registry/2.0");
    CHECK_INT_EQ(res.body_len, 0);
    http_fake_result_cleanup(&res);
}

static void test_get(void)
{
    struct http_fake_result res;
    char got[DIGEST_STR_LEN + 1], etag[DIGEST_STR_LEN + 3], target[256];

    req(&res, "GET", "/v2/lib/app/manifests/v1", NULL, 0, 0, "Accept", OCI_MANIFEST);
    CHECK_INT_EQ(res.status, 200);
    CHECK_INT_EQ(res.body_len, manifest_len);
    test_body_digest(&res, got, sizeof(got));
    CHECK_STR_EQ(got, man_d);
    CHECK_STR_EQ(http_fake_get(&res, "Content-Type"), OCI_MANIFEST);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Content-Digest"), man_d);
    (void)snprintf(etag, sizeof(etag), "\"%s\"", man_d);
    CHECK_STR_EQ(http_fake_get(&res, "ETag"), etag);
    http_fake_result_cleanup(&res);

    /* by digest */
    (void)snprintf(target, sizeof(target), "/v2/lib/app/manifests/%s", man_d);
    req(&res, "GET", target, NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK(res.body_len == manifest_len && memcmp(res.body, manifest, manifest_len) == 0);
    http_fake_result_cleanup(&res);

    /* HEAD: the length, no bytes */
    req(&res, "HEAD", "/v2/lib/app/manifests/v1", NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_INT_EQ(res.kind, HTTP_BODY_SIZE);
    CHECK_INT_EQ(res.len, manifest_len);
    CHECK_INT_EQ(res.body_len, 0);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Content-Digest"), man_d);
    CHECK_STR_EQ(http_fake_get(&res, "Content-Type"), OCI_MANIFEST);
    http_fake_result_cleanup(&res);

    /* If-None-Match: the ETag, a list holding it weakly, another tag */
    req(&res, "GET", "/v2/lib/app/manifests/v1", NULL, 0, 0, "If-None-Match", etag);
    CHECK_INT_EQ(res.status, 304);
    CHECK_INT_EQ(res.body_len, 0);
    CHECK_STR_EQ(http_fake_get(&res, "ETag"), etag);
    http_fake_result_cleanup(&res);
    {
        char list[256];
        (void)snprintf(list, sizeof(list), "\"x\", W/%s", etag);
        req(&res, "HEAD", "/v2/lib/app/manifests/v1", NULL, 0, 0, "If-None-Match", list);
        CHECK_INT_EQ(res.status, 304);
        http_fake_result_cleanup(&res);
    }
    req(&res, "GET", "/v2/lib/app/manifests/v1", NULL, 0, 0, "If-None-Match", "\"sha256:00\"");
    CHECK_INT_EQ(res.status, 200);
    CHECK_INT_EQ(res.body_len, manifest_len);
    http_fake_result_cleanup(&res);

    /* unknown tag, invalid reference */
    req(&res, "GET", "/v2/lib/app/manifests/nope", NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "MANIFEST_UNKNOWN"));
    http_fake_result_cleanup(&res);
    /* neither tag nor digest: nothing by that reference can exist (spec: 404) */
    req(&res, "GET", "/v2/lib/app/manifests/-bad", NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "MANIFEST_UNKNOWN"));
    http_fake_result_cleanup(&res);
    req(&res, "HEAD", "/v2/lib/app/manifests/sha256:nothex", NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    http_fake_result_cleanup(&res);
    req(&res, "PUT", "/v2/lib/app/manifests/-bad", manifest, manifest_len, 0, "Content-Type",
        OCI_MANIFEST);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "TAG_INVALID"));
    http_fake_result_cleanup(&res);
    req(&res, "GET", "/v2/lib/nothing/manifests/v1", NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    http_fake_result_cleanup(&res);
}

/* pull counters (anchors 2.5): a successful GET counts once; HEAD, 304, a miss and Harbor's own
 * replication client do not */
static void test_pull_counting(void)
{
    struct http_fake_result res;
    char etag[DIGEST_STR_LEN + 3], target[256];
    uint64_t before = pulls_pending(t.reg.pulls);

    req(&res, "GET", "/v2/lib/app/manifests/v1", NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 200);
    http_fake_result_cleanup(&res);
    CHECK_INT_EQ(pulls_pending(t.reg.pulls), before + 1);
    (void)snprintf(target, sizeof(target), "/v2/lib/app/manifests/%s", man_d);
    req(&res, "GET", target, NULL, 0, 0, "User-Agent", "containerd/1.7");
    CHECK_INT_EQ(res.status, 200);
    http_fake_result_cleanup(&res);
    CHECK_INT_EQ(pulls_pending(t.reg.pulls), before + 2);

    req(&res, "HEAD", "/v2/lib/app/manifests/v1", NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 200);
    http_fake_result_cleanup(&res);
    (void)snprintf(etag, sizeof(etag), "\"%s\"", man_d);
    req(&res, "GET", "/v2/lib/app/manifests/v1", NULL, 0, 0, "If-None-Match", etag);
    CHECK_INT_EQ(res.status, 304);
    http_fake_result_cleanup(&res);
    req(&res, "GET", "/v2/lib/app/manifests/v1", NULL, 0, 0, "User-Agent",
        "harbor-registry-client");
    CHECK_INT_EQ(res.status, 200);
    http_fake_result_cleanup(&res);
    req(&res, "GET", "/v2/lib/app/manifests/nope", NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    http_fake_result_cleanup(&res);
    CHECK_INT_EQ(pulls_pending(t.reg.pulls), before + 2);
    /* only the exact replication client is exempt */
    req(&res, "GET", "/v2/lib/app/manifests/v1", NULL, 0, 0, "User-Agent",
        "harbor-registry-client/2");
    CHECK_INT_EQ(res.status, 200);
    http_fake_result_cleanup(&res);
    CHECK_INT_EQ(pulls_pending(t.reg.pulls), before + 3);
}

static void test_put_by_digest(void)
{
    struct http_fake_result res;
    char target[256];

    /* the same bytes by digest, plus two tags from ?tag= */
    (void)snprintf(target, sizeof(target), "/v2/lib/app/manifests/%s?tag=v2&tag=latest", man_d);
    req(&res, "PUT", target, manifest, manifest_len, 0, "Content-Type", OCI_MANIFEST);
    CHECK_INT_EQ(res.status, 201);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Content-Digest"), man_d);
    /* one OCI-Tag per tag applied, in order */
    {
        const char *k, *v;
        char tags[64] = "";
        size_t o = 0;
        for (size_t i = 0; http_resp_header_at(res.resp, i, &k, &v) == 0; i++) {
            int n;
            if (strcmp(k, "OCI-Tag") != 0)
                continue;
            n = snprintf(tags + o, sizeof(tags) - o, "%s,", v);
            if (n > 0 && (size_t)n < sizeof(tags) - o)
                o += (size_t)n;
        }
        CHECK_STR_EQ(tags, "v2,latest,");
    }
    http_fake_result_cleanup(&res);
    /* a plain PUT by tag sends none */
    req(&res, "PUT", "/v2/lib/app/manifests/v1", manifest, manifest_len, 0, "Content-Type",
        OCI_MANIFEST);
    CHECK_INT_EQ(res.status, 201);
    CHECK(http_fake_get(&res, "OCI-Tag") == NULL);
    http_fake_result_cleanup(&res);
    req(&res, "HEAD", "/v2/lib/app/manifests/latest", NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Content-Digest"), man_d);
    http_fake_result_cleanup(&res);

    /* a digest the bytes do not hash to */
    (void)snprintf(target, sizeof(target), "/v2/lib/app/manifests/%s", layer_d);
    req(&res, "PUT", target, manifest, manifest_len, 0, "Content-Type", OCI_MANIFEST);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "DIGEST_INVALID"));
    http_fake_result_cleanup(&res);
    req(&res, "PUT", "/v2/lib/app/manifests/sha256:1234", manifest, manifest_len, 0, "Content-Type",
        OCI_MANIFEST);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "DIGEST_INVALID"));
    http_fake_result_cleanup(&res);
}

static void test_put_refused(void)
{
    struct http_fake_result res;
    char body[1024], missing[DIGEST_STR_LEN + 1];
    int n;

    /* a media type that is not a manifest */
    req(&res, "PUT", "/v2/lib/app/manifests/bad", manifest, manifest_len, 0, "Content-Type",
        "text/plain");
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "MANIFEST_INVALID"));
    http_fake_result_cleanup(&res);

    /* not JSON */
    req(&res, "PUT", "/v2/lib/app/manifests/bad", "{nope", 5, 0, "Content-Type", OCI_MANIFEST);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "MANIFEST_INVALID"));
    http_fake_result_cleanup(&res);

    /* empty */
    req(&res, "PUT", "/v2/lib/app/manifests/bad", "", 0, 0, "Content-Type", OCI_MANIFEST);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "MANIFEST_INVALID"));
    http_fake_result_cleanup(&res);

    /* a layer the repository does not have */
    test_digest_str("missing", 7, missing, sizeof(missing));
    n = snprintf(body, sizeof(body),
                 "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MANIFEST "\","
                 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                 "\"digest\":\"%s\",\"size\":2},\"layers\":[{\"mediaType\":"
                 "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":7}]}",
                 cfg_d, missing);
    req(&res, "PUT", "/v2/lib/app/manifests/bad", body, (size_t)n, 0, "Content-Type", OCI_MANIFEST);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "MANIFEST_BLOB_UNKNOWN"));
    http_fake_result_cleanup(&res);
    req(&res, "GET", "/v2/lib/app/manifests/bad", NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 404); /* nothing was tagged */
    http_fake_result_cleanup(&res);

    /* an unknown project */
    req(&res, "PUT", "/v2/nope/app/manifests/v1", manifest, manifest_len, 0, "Content-Type",
        OCI_MANIFEST);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "NAME_UNKNOWN"));
    http_fake_result_cleanup(&res);
}

static void test_too_large(void)
{
    struct http_fake_result res;
    static char big[5000];
    uint64_t saved = t.cfg.manifest_max_bytes;

    memset(big, ' ', sizeof(big));
    t.cfg.manifest_max_bytes = 4096;
    /* Content-Length says too much: refused before the body */
    req(&res, "PUT", "/v2/lib/app/manifests/big", big, sizeof(big), 1000, "Content-Type",
        OCI_MANIFEST);
    CHECK_INT_EQ(res.status, 413);
    CHECK(test_err_code(&res, "SIZE_INVALID"));
    CHECK(res.answered_at_begin);
    CHECK_INT_EQ(res.data_calls, 0);
    http_fake_result_cleanup(&res);

    /* no length (chunked): refused once the cap is passed, the rest dropped */
    {
        struct http_fake *f = http_fake_new("PUT", "/v2/lib/app/manifests/big");
        CHECK(http_fake_header(f, "Authorization", admin) == 0);
        CHECK(http_fake_header(f, "Content-Type", OCI_MANIFEST) == 0);
        CHECK(http_fake_header(f, "Transfer-Encoding", "chunked") == 0);
        CHECK(http_fake_body(f, big, sizeof(big)) == 0);
        CHECK_INT_EQ(http_fake_run(&res, &route_v2_handler, &t.reg, f, 1000), 0);
        CHECK_INT_EQ(res.status, 413);
        CHECK(test_err_code(&res, "SIZE_INVALID"));
        CHECK(res.data_failed);
        CHECK_INT_EQ(res.data_calls, 5);
        http_fake_result_cleanup(&res);
        http_fake_free(f);
    }
    t.cfg.manifest_max_bytes = saved;
}

static void test_delete(void)
{
    struct http_fake_result res;
    char target[256];

    /* a tag: the manifest stays */
    req(&res, "DELETE", "/v2/lib/app/manifests/v2", NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 202);
    http_fake_result_cleanup(&res);
    req(&res, "GET", "/v2/lib/app/manifests/v2", NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "MANIFEST_UNKNOWN"));
    http_fake_result_cleanup(&res);
    req(&res, "HEAD", "/v2/lib/app/manifests/v1", NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 200);
    http_fake_result_cleanup(&res);

    /* the manifest: every tag goes with it */
    (void)snprintf(target, sizeof(target), "/v2/lib/app/manifests/%s", man_d);
    req(&res, "DELETE", target, NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 202);
    http_fake_result_cleanup(&res);
    req(&res, "GET", target, NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "MANIFEST_UNKNOWN"));
    http_fake_result_cleanup(&res);
    req(&res, "GET", "/v2/lib/app/manifests/latest", NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    http_fake_result_cleanup(&res);
    req(&res, "DELETE", target, NULL, 0, 0, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "MANIFEST_UNKNOWN"));
    http_fake_result_cleanup(&res);
}

int main(void)
{
    static const char cfg[] = "{}";
    static const char layer[] = "layer-bytes";
    int n;

    test_registry_open(&t);
    (void)test_registry_user(&t, "admin", "Admin12345", true);
    (void)test_registry_project(&t, "lib", false, 0);
    test_basic(admin, sizeof(admin), "admin", "Admin12345");
    CHECK_INT_EQ(test_push_blob(&t, admin, "lib/app", cfg, 2, cfg_d), 201);
    CHECK_INT_EQ(test_push_blob(&t, admin, "lib/app", layer, sizeof(layer) - 1, layer_d), 201);
    n = snprintf(manifest, sizeof(manifest),
                 "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MANIFEST "\","
                 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                 "\"digest\":\"%s\",\"size\":2},\"layers\":[{\"mediaType\":"
                 "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\","
                 "\"size\":%zu}]}",
                 cfg_d, layer_d, sizeof(layer) - 1);
    manifest_len = (size_t)n;
    test_digest_str(manifest, manifest_len, man_d, sizeof(man_d));

    TEST_RUN(test_put_by_tag);
    TEST_RUN(test_get);
    TEST_RUN(test_pull_counting);
    TEST_RUN(test_put_by_digest);
    TEST_RUN(test_put_refused);
    TEST_RUN(test_too_large);
    TEST_RUN(test_delete);
    test_registry_close(&t);
    return test_summary();
}
