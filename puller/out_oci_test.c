/* out_oci_test.c - index.json merging and docker manifest.json building. */
#include "puller/out_oci.h"

#include <string.h>

#include "common/mem.h"
#include "common/test.h"
#include "puller/out_tar.h"

static struct fetch_desc desc(char fill, uint64_t size)
{
    struct fetch_desc d;

    memset(&d, 0, sizeof(d));
    memset(d.digest.hex, fill, DIGEST_HEX_LEN);
    memcpy(d.media_type, FETCH_MT_OCI_MANIFEST, sizeof(FETCH_MT_OCI_MANIFEST));
    d.size = size;
    return d;
}

static void test_new_index(void)
{
    struct fetch_desc d = desc('a', 42);
    struct fetch_platform p = {"linux", "arm64", "v8"};
    struct berr err;
    char *out = NULL;
    size_t len = 0;

    CHECK_INT_EQ(out_oci_index_json(&out, &len, NULL, 0, &d, &p, "v1", "h/r:v1", &err), 0);
    CHECK(out != NULL && strlen(out) == len);
    CHECK(out != NULL && strstr(out, "\"schemaVersion\":2") != NULL);
    CHECK(out != NULL && strstr(out, "\"org.opencontainers.image.ref.name\":\"v1\"") != NULL);
    CHECK(out != NULL && strstr(out, "\"variant\":\"v8\"") != NULL);
    CHECK(out != NULL && strstr(out, "\"size\":42") != NULL);
    mem_free(out);
}

static void test_merge(void)
{
    const char *old = "{\"schemaVersion\":2,\"manifests\":["
                      "{\"digest\":\"sha256:x\",\"annotations\":{\"org.opencontainers.image.ref."
                      "name\":\"v1\"}},"
                      "{\"digest\":\"sha256:y\",\"annotations\":{\"org.opencontainers.image.ref."
                      "name\":\"v2\"}}]}";
    struct fetch_desc d = desc('b', 7);
    struct berr err;
    char *out = NULL;
    size_t len;

    CHECK_INT_EQ(out_oci_index_json(&out, &len, old, strlen(old), &d, NULL, "v1", "", &err), 0);
    CHECK(out != NULL && strstr(out, "sha256:x") == NULL); /* replaced */
    CHECK(out != NULL && strstr(out, "sha256:y") != NULL); /* kept */
    CHECK(out != NULL && strstr(out, "sha256:bbbb") != NULL);
    mem_free(out);
    out = NULL;
    CHECK_INT_EQ(out_oci_index_json(&out, &len, "[1]", 3, &d, NULL, "v1", "", &err), -1);
    CHECK_INT_EQ(err.code, BERR_MANIFEST_INVALID);
    CHECK(out == NULL);
    CHECK_INT_EQ(out_oci_index_json(&out, &len, "{\"schemaVersion\":1,\"manifests\":[]}", 34, &d,
                                    NULL, "v1", "", &err),
                 -1);
}

static void test_docker_manifest(void)
{
    struct fetch_desc layers[2] = {desc('1', 1), desc('2', 2)};
    struct fetch_image img;
    struct berr err;
    char *out = NULL;

    memset(&img, 0, sizeof(img));
    img.config = desc('c', 3);
    img.layers = layers;
    img.nlayers = 2;
    CHECK_INT_EQ(out_tar_manifest_json(&out, &img, "h:5000/a/b:v1", &err), 0);
    CHECK(out != NULL && strncmp(out, "[{\"Config\":\"blobs/sha256/cccc", 29) == 0);
    CHECK(out != NULL && strstr(out, "\"RepoTags\":[\"h:5000/a/b:v1\"]") != NULL);
    CHECK(out != NULL && strstr(out, "\"Layers\":[\"blobs/sha256/1111") != NULL);
    mem_free(out);
    CHECK_INT_EQ(out_tar_manifest_json(&out, &img, NULL, &err), 0);
    CHECK(out != NULL && strstr(out, "\"RepoTags\":[]") != NULL);
    mem_free(out);
}

static void test_alloc_failures(void)
{
    struct fetch_desc d = desc('a', 42);
    struct berr err;
    int fails = 0;

    mem_install_json();
    for (long n = 0; n < 200; n++) {
        char *out = NULL;
        size_t len;
        int rc;
        mem_fail_after(n);
        rc = out_oci_index_json(&out, &len, NULL, 0, &d, NULL, "v1", "x", &err);
        mem_fail_after(-1);
        if (rc < 0) {
            fails++;
            CHECK(out == NULL);
        }
        mem_free(out);
        if (rc == 0)
            break;
    }
    CHECK(fails > 0);
}

int main(void)
{
    TEST_RUN(test_new_index);
    TEST_RUN(test_merge);
    TEST_RUN(test_docker_manifest);
    TEST_RUN(test_alloc_failures);
    return test_summary();
}
