/* referrers_test.c - GET /v2/<name>/referrers/<digest> through route_v2_handler and the seam's
 * test double, on a real registry: the OCI index of every manifest whose subject is the digest,
 * the artifactType filter and OCI-Filters-Applied, the OCI-Subject of a push, an unknown
 * subject (200, empty), and a malformed digest. */
#include "registry/test_registry.h"

#include <jansson.h>

#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_INDEX "application/vnd.oci.image.index.v1+json"

static struct test_registry t;
static char admin[256];
static char cfg_d[DIGEST_STR_LEN + 1], layer_d[DIGEST_STR_LEN + 1], subject_d[DIGEST_STR_LEN + 1];
static char sbom_d[DIGEST_STR_LEN + 1], sig_d[DIGEST_STR_LEN + 1];

/* image writes a manifest; artifact_type and subject may be NULL. */
static void image(char *out, size_t cap, const char *artifact_type, const char *subject)
{
    char extra[300] = "";

    if (artifact_type != NULL)
        (void)snprintf(extra, sizeof(extra),
                       ",\"artifactType\":\"%s\",\"subject\":{\"mediaType\":\"" OCI_MANIFEST
                       "\",\"digest\":\"%s\",\"size\":1}",
                       artifact_type, subject);
    (void)snprintf(out, cap,
                   "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MANIFEST "\",\"config\":{"
                   "\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"%s\","
                   "\"size\":2},\"layers\":[{\"mediaType\":\"application/octet-stream\","
                   "\"digest\":\"%s\",\"size\":5}]%s}",
                   cfg_d, layer_d, extra);
}

/* count_of: the manifests of an index body, -1 when it does not parse; *first_type is set to
 * the first one's artifactType (or ""). */
static int count_of(const struct http_fake_result *res, char *first_type, size_t cap)
{
    json_t *root = json_loadb(res->body, res->body_len, 0, NULL);
    json_t *arr = root != NULL ? json_object_get(root, "manifests") : NULL;
    const char *at;
    int n;

    first_type[0] = '\0';
    if (arr == NULL || !json_is_array(arr)) {
        json_decref(root);
        return -1;
    }
    n = (int)json_array_size(arr);
    at = n > 0 ? json_string_value(json_object_get(json_array_get(arr, 0), "artifactType")) : NULL;
    (void)snprintf(first_type, cap, "%s", at != NULL ? at : "");
    json_decref(root);
    return n;
}

static void test_list(void)
{
    struct http_fake_result res;
    char target[256], type[128];

    (void)snprintf(target, sizeof(target), "/v2/lib/app/referrers/%s", subject_d);
    test_v2(&res, &t, "GET", target, admin, NULL, 0, 0, TEST_HDR_END);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(http_fake_get(&res, "Content-Type"), OCI_INDEX);
    CHECK_INT_EQ(count_of(&res, type, sizeof(type)), 2);
    CHECK(strstr(res.body, sbom_d) != NULL);
    CHECK(strstr(res.body, sig_d) != NULL);
    CHECK(http_fake_get(&res, "OCI-Filters-Applied") == NULL);
    http_fake_result_cleanup(&res);

    (void)snprintf(target, sizeof(target),
                   "/v2/lib/app/referrers/%s?artifactType=application%%2Fvnd.example.sbom",
                   subject_d);
    test_v2(&res, &t, "GET", target, admin, NULL, 0, 0, TEST_HDR_END);
    CHECK_INT_EQ(res.status, 200);
    CHECK_INT_EQ(count_of(&res, type, sizeof(type)), 1);
    CHECK_STR_EQ(type, "application/vnd.example.sbom");
    CHECK(strstr(res.body, sbom_d) != NULL);
    CHECK(strstr(res.body, sig_d) == NULL);
    CHECK_STR_EQ(http_fake_get(&res, "OCI-Filters-Applied"), "artifactType");
    http_fake_result_cleanup(&res);

    (void)snprintf(target, sizeof(target), "/v2/lib/app/referrers/%s?artifactType=none/such",
                   subject_d);
    test_v2(&res, &t, "GET", target, admin, NULL, 0, 0, TEST_HDR_END);
    CHECK_INT_EQ(res.status, 200);
    CHECK_INT_EQ(count_of(&res, type, sizeof(type)), 0);
    http_fake_result_cleanup(&res);

    /* an unknown subject, an unknown repository: 200 and an empty index */
    (void)snprintf(target, sizeof(target), "/v2/lib/app/referrers/%s", layer_d);
    test_v2(&res, &t, "GET", target, admin, NULL, 0, 0, TEST_HDR_END);
    CHECK_INT_EQ(res.status, 200);
    CHECK_INT_EQ(count_of(&res, type, sizeof(type)), 0);
    http_fake_result_cleanup(&res);
    (void)snprintf(target, sizeof(target), "/v2/lib/none/referrers/%s", subject_d);
    test_v2(&res, &t, "GET", target, admin, NULL, 0, 0, TEST_HDR_END);
    CHECK_INT_EQ(res.status, 200);
    CHECK_INT_EQ(count_of(&res, type, sizeof(type)), 0);
    http_fake_result_cleanup(&res);

    test_v2(&res, &t, "GET", "/v2/lib/app/referrers/sha256:nothex", admin, NULL, 0, 0,
            TEST_HDR_END);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "DIGEST_INVALID"));
    http_fake_result_cleanup(&res);
}

int main(void)
{
    struct http_fake_result res;
    char m[1024], target[256];

    test_registry_open(&t);
    (void)test_registry_user(&t, "admin", "Admin12345", true);
    (void)test_registry_project(&t, "lib", false, 0);
    test_basic(admin, sizeof(admin), "admin", "Admin12345");
    CHECK_INT_EQ(test_push_blob(&t, admin, "lib/app", "{}", 2, cfg_d), 201);
    CHECK_INT_EQ(test_push_blob(&t, admin, "lib/app", "layer", 5, layer_d), 201);
    image(m, sizeof(m), NULL, NULL);
    CHECK_INT_EQ(test_push_manifest(&t, admin, "lib/app", "v1", m, OCI_MANIFEST, subject_d), 201);
    image(m, sizeof(m), "application/vnd.example.sbom", subject_d);
    CHECK_INT_EQ(test_push_manifest(&t, admin, "lib/app", "sbom", m, OCI_MANIFEST, sbom_d), 201);

    /* the push of a manifest with a subject answers OCI-Subject */
    image(m, sizeof(m), "application/vnd.example.sig", subject_d);
    test_digest_str(m, strlen(m), sig_d, sizeof(sig_d));
    (void)snprintf(target, sizeof(target), "/v2/lib/app/manifests/%s", sig_d);
    test_v2(&res, &t, "PUT", target, admin, m, strlen(m), 0, "Content-Type", OCI_MANIFEST,
            TEST_HDR_END);
    CHECK_INT_EQ(res.status, 201);
    CHECK_STR_EQ(http_fake_get(&res, "OCI-Subject"), subject_d);
    http_fake_result_cleanup(&res);

    TEST_RUN(test_list);
    test_registry_close(&t);
    return test_summary();
}
