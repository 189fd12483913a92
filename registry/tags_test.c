/* tags_test.c - GET /v2/<name>/tags/list and GET /v2/_catalog through route_v2_handler and the
 * seam's test double, on a real registry: whole lists, pages with n and last, the Link header
 * (present only when more remain, last percent-encoded), n=0, a malformed n, an unknown
 * repository, and a catalog that shows only what the caller may pull. */
#include "registry/test_registry.h"

static struct test_registry t;
static char admin[256], dev[256];

static void get(struct http_fake_result *res, const char *target, const char *auth)
{
    test_v2(res, &t, "GET", target, auth, NULL, 0, 0, TEST_HDR_END);
}

static void test_tags(void)
{
    struct http_fake_result res;

    get(&res, "/v2/lib/app/tags/list", admin);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(res.body, "{\"name\":\"lib/app\",\"tags\":[\"a\",\"b\",\"c\",\"d\"]}");
    CHECK_STR_EQ(http_fake_get(&res, "Content-Type"), "application/json; charset=utf-8");
    CHECK(http_fake_get(&res, "Link") == NULL);
    http_fake_result_cleanup(&res);

    get(&res, "/v2/lib/app/tags/list?n=2", admin);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(res.body, "{\"name\":\"lib/app\",\"tags\":[\"a\",\"b\"]}");
    CHECK_STR_EQ(http_fake_get(&res, "Link"), "</v2/lib/app/tags/list?n=2&last=b>; rel=\"next\"");
    http_fake_result_cleanup(&res);

    get(&res, "/v2/lib/app/tags/list?n=2&last=b", admin);
    CHECK_STR_EQ(res.body, "{\"name\":\"lib/app\",\"tags\":[\"c\",\"d\"]}");
    CHECK(http_fake_get(&res, "Link") == NULL); /* nothing after d */
    http_fake_result_cleanup(&res);

    get(&res, "/v2/lib/app/tags/list?last=c", admin);
    CHECK_STR_EQ(res.body, "{\"name\":\"lib/app\",\"tags\":[\"d\"]}");
    http_fake_result_cleanup(&res);

    get(&res, "/v2/lib/app/tags/list?n=0", admin);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(res.body, "{\"name\":\"lib/app\",\"tags\":[]}");
    CHECK(http_fake_get(&res, "Link") == NULL);
    http_fake_result_cleanup(&res);

    get(&res, "/v2/lib/app/tags/list?n=x2", admin);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "BAD_REQUEST"));
    http_fake_result_cleanup(&res);

    get(&res, "/v2/lib/none/tags/list", admin);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "NAME_UNKNOWN"));
    http_fake_result_cleanup(&res);
}

static void test_catalog(void)
{
    struct http_fake_result res;

    get(&res, "/v2/_catalog", admin);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(res.body, "{\"repositories\":[\"dev/app\",\"lib/app\",\"lib/b-c\"]}");
    CHECK(http_fake_get(&res, "Link") == NULL);
    http_fake_result_cleanup(&res);

    get(&res, "/v2/_catalog?n=1", admin);
    CHECK_STR_EQ(res.body, "{\"repositories\":[\"dev/app\"]}");
    CHECK_STR_EQ(http_fake_get(&res, "Link"), "</v2/_catalog?n=1&last=dev%2Fapp>; rel=\"next\"");
    http_fake_result_cleanup(&res);

    /* the Link's last, decoded by the client's next request */
    get(&res, "/v2/_catalog?n=1&last=dev%2Fapp", admin);
    CHECK_STR_EQ(res.body, "{\"repositories\":[\"lib/app\"]}");
    CHECK_STR_EQ(http_fake_get(&res, "Link"), "</v2/_catalog?n=1&last=lib%2Fapp>; rel=\"next\"");
    http_fake_result_cleanup(&res);

    get(&res, "/v2/_catalog?n=5&last=lib%2Fapp", admin);
    CHECK_STR_EQ(res.body, "{\"repositories\":[\"lib/b-c\"]}");
    CHECK(http_fake_get(&res, "Link") == NULL);
    http_fake_result_cleanup(&res);

    /* dev sees its own project only */
    get(&res, "/v2/_catalog", dev);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(res.body, "{\"repositories\":[\"dev/app\"]}");
    http_fake_result_cleanup(&res);

    /* anonymous: authentication required, with the catalog scope */
    get(&res, "/v2/_catalog", NULL);
    CHECK_INT_EQ(res.status, 401);
    CHECK(test_err_code(&res, "UNAUTHORIZED"));
    CHECK_STR_EQ(http_fake_get(&res, "WWW-Authenticate"),
                 "Bearer realm=\"https://reg.test/service/token\",service=\"berth-registry\","
                 "scope=\"registry:catalog:*\"");
    http_fake_result_cleanup(&res);
}

int main(void)
{
    static const char layer[] = "layer";
    char cfg_d[DIGEST_STR_LEN + 1], layer_d[DIGEST_STR_LEN + 1], man_d[DIGEST_STR_LEN + 1];
    char manifest[1024];
    int64_t dev_id, dev_proj;
    const char *repos[] = {"lib/app", "lib/b-c", "dev/app"};

    test_registry_open(&t);
    (void)test_registry_user(&t, "admin", "Admin12345", true);
    dev_id = test_registry_user(&t, "dev", "Dev1234567", false);
    (void)test_registry_project(&t, "lib", false, 0);
    dev_proj = test_registry_project(&t, "dev", false, 0);
    test_registry_member(&t, dev_proj, dev_id, ROLE_DEVELOPER);
    test_basic(admin, sizeof(admin), "admin", "Admin12345");
    test_basic(dev, sizeof(dev), "dev", "Dev1234567");
    for (size_t i = 0; i < 3; i++) {
        CHECK_INT_EQ(test_push_blob(&t, admin, repos[i], "{}", 2, cfg_d), 201);
        CHECK_INT_EQ(test_push_blob(&t, admin, repos[i], layer, sizeof(layer) - 1, layer_d), 201);
        (void)snprintf(manifest, sizeof(manifest),
                       "{\"schemaVersion\":2,\"mediaType\":"
                       "\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
                       "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\","
                       "\"size\":2},\"layers\":[{\"mediaType\":"
                       "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\","
                       "\"size\":5}]}",
                       cfg_d, layer_d);
        CHECK_INT_EQ(test_push_manifest(&t, admin, repos[i], "c?tag=a&tag=d&tag=b", manifest,
                                        "application/vnd.oci.image.manifest.v1+json", man_d),
                     201);
    }

    TEST_RUN(test_tags);
    TEST_RUN(test_catalog);
    test_registry_close(&t);
    return test_summary();
}
