/* blobs_test.c - GET/HEAD/DELETE /v2/<name>/blobs/<digest> through route_v2_handler and the
 * seam's test double, on a real registry (registry/test_registry.h): the bytes and their digest,
 * the headers (Docker-Content-Digest, ETag, Content-Range), Range (206, suffix, 416),
 * If-None-Match (304), unknown and invalid digests, delete, and a blob another repository owns. */
#include "registry/test_registry.h"

static struct test_registry t;
static char admin[256];
static const char blob[] = "hello blob content 0123456789";
static char dstr[DIGEST_STR_LEN + 1];

static void get(struct http_fake_result *res, const char *method, const char *repo,
                const char *digest, const char *hname, const char *hval)
{
    char target[512];

    (void)snprintf(target, sizeof(target), "/v2/%s/blobs/%s", repo, digest);
    test_v2(res, &t, method, target, admin, NULL, 0, 0, hname, hval, TEST_HDR_END);
}

static void test_get(void)
{
    struct http_fake_result res;
    char got[DIGEST_STR_LEN + 1], etag[DIGEST_STR_LEN + 3];

    get(&res, "GET", "lib/app", dstr, NULL, NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_INT_EQ(res.kind, HTTP_BODY_FD);
    CHECK_INT_EQ(res.body_len, sizeof(blob) - 1);
    CHECK_INT_EQ(res.reply_len, sizeof(blob) - 1);
    test_body_digest(&res, got, sizeof(got));
    CHECK_STR_EQ(got, dstr);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Content-Digest"), dstr);
    (void)snprintf(etag, sizeof(etag), "\"%s\"", dstr);
    CHECK_STR_EQ(http_fake_get(&res, "ETag"), etag);
    CHECK_STR_EQ(http_fake_get(&res, "Content-Type"), "application/octet-stream");
    CHECK_STR_EQ(http_fake_get(&res, "Accept-Ranges"), "bytes");
    CHECK_STR_EQ(http_fake_get(&res, "Cache-Control"), "max-age=31536000");
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Distribution-Api-Version"), "registry/2.0");
    CHECK(res.answered_at_begin);
    CHECK_STR_EQ(res.user, "admin");
    http_fake_result_cleanup(&res);
}

static void test_head(void)
{
    struct http_fake_result res;

    get(&res, "HEAD", "lib/app", dstr, NULL, NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_INT_EQ(res.kind, HTTP_BODY_SIZE);
    CHECK_INT_EQ(res.len, sizeof(blob) - 1);
    CHECK_INT_EQ(res.body_len, 0);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Content-Digest"), dstr);
    http_fake_result_cleanup(&res);
}

static void test_range(void)
{
    struct http_fake_result res;
    char cr[64];

    get(&res, "GET", "lib/app", dstr, "Range", "bytes=2-5");
    CHECK_INT_EQ(res.status, 206);
    CHECK_INT_EQ(res.body_len, 4);
    CHECK_STR_EQ(res.body, "llo ");
    (void)snprintf(cr, sizeof(cr), "bytes 2-5/%zu", sizeof(blob) - 1);
    CHECK_STR_EQ(http_fake_get(&res, "Content-Range"), cr);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Content-Digest"), dstr);
    http_fake_result_cleanup(&res);

    get(&res, "GET", "lib/app", dstr, "Range", "bytes=-3");
    CHECK_INT_EQ(res.status, 206);
    CHECK_STR_EQ(res.body, "789");
    http_fake_result_cleanup(&res);

    get(&res, "GET", "lib/app", dstr, "Range", "bytes=20-");
    CHECK_INT_EQ(res.status, 206);
    CHECK_STR_EQ(res.body, "123456789");
    http_fake_result_cleanup(&res);

    /* past the end: 416 with the size */
    get(&res, "GET", "lib/app", dstr, "Range", "bytes=100-200");
    CHECK_INT_EQ(res.status, 416);
    (void)snprintf(cr, sizeof(cr), "bytes */%zu", sizeof(blob) - 1);
    CHECK_STR_EQ(http_fake_get(&res, "Content-Range"), cr);
    CHECK_INT_EQ(res.body_len, 0);
    http_fake_result_cleanup(&res);

    /* a Range that does not parse is ignored (RFC 9110 14.2): the whole blob */
    get(&res, "GET", "lib/app", dstr, "Range", "pages=1-2");
    CHECK_INT_EQ(res.status, 200);
    CHECK_INT_EQ(res.body_len, sizeof(blob) - 1);
    http_fake_result_cleanup(&res);
}

static void test_if_none_match(void)
{
    struct http_fake_result res;
    char inm[200];

    (void)snprintf(inm, sizeof(inm), "\"%s\"", dstr);
    get(&res, "GET", "lib/app", dstr, "If-None-Match", inm);
    CHECK_INT_EQ(res.status, 304);
    CHECK_INT_EQ(res.body_len, 0);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Content-Digest"), dstr);
    CHECK(http_fake_get(&res, "ETag") != NULL);
    http_fake_result_cleanup(&res);

    (void)snprintf(inm, sizeof(inm), "\"sha256:0000\", W/\"%s\"", dstr);
    get(&res, "GET", "lib/app", dstr, "If-None-Match", inm);
    CHECK_INT_EQ(res.status, 304);
    http_fake_result_cleanup(&res);

    get(&res, "GET", "lib/app", dstr, "If-None-Match", "*");
    CHECK_INT_EQ(res.status, 304);
    http_fake_result_cleanup(&res);

    get(&res, "GET", "lib/app", dstr, "If-None-Match", "\"sha256:0000\"");
    CHECK_INT_EQ(res.status, 200);
    http_fake_result_cleanup(&res);
}

static void test_unknown(void)
{
    struct http_fake_result res;
    char other[DIGEST_STR_LEN + 1];

    test_digest_str("nope", 4, other, sizeof(other));
    get(&res, "GET", "lib/app", other, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "BLOB_UNKNOWN"));
    CHECK_STR_EQ(http_fake_get(&res, "Content-Type"), "application/json; charset=utf-8");
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Distribution-Api-Version"), "registry/2.0");
    http_fake_result_cleanup(&res);

    get(&res, "HEAD", "lib/app", other, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    CHECK_INT_EQ(res.body_len, 0);
    http_fake_result_cleanup(&res);

    get(&res, "GET", "lib/app", "sha256:xyz", NULL, NULL);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "DIGEST_INVALID"));
    http_fake_result_cleanup(&res);

    /* the blob exists, but lib/other never got it */
    get(&res, "GET", "lib/other", dstr, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "BLOB_UNKNOWN"));
    http_fake_result_cleanup(&res);

    /* a method the route does not have */
    get(&res, "PUT", "lib/app", dstr, NULL, NULL);
    CHECK_INT_EQ(res.status, 405);
    CHECK(test_err_code(&res, "UNSUPPORTED"));
    http_fake_result_cleanup(&res);
}

static void test_delete(void)
{
    struct http_fake_result res;
    char d2[DIGEST_STR_LEN + 1];
    static const char other[] = "a blob to delete";

    CHECK_INT_EQ(test_push_blob(&t, admin, "lib/app", other, sizeof(other) - 1, d2), 201);
    get(&res, "DELETE", "lib/app", d2, NULL, NULL);
    CHECK_INT_EQ(res.status, 202);
    CHECK_INT_EQ(res.body_len, 0);
    http_fake_result_cleanup(&res);
    get(&res, "GET", "lib/app", d2, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "BLOB_UNKNOWN"));
    http_fake_result_cleanup(&res);
    get(&res, "DELETE", "lib/app", d2, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "BLOB_UNKNOWN"));
    http_fake_result_cleanup(&res);
    /* the first blob is untouched */
    get(&res, "HEAD", "lib/app", dstr, NULL, NULL);
    CHECK_INT_EQ(res.status, 200);
    http_fake_result_cleanup(&res);
}

int main(void)
{
    test_registry_open(&t);
    (void)test_registry_user(&t, "admin", "Admin12345", true);
    (void)test_registry_project(&t, "lib", false, 0);
    test_basic(admin, sizeof(admin), "admin", "Admin12345");
    CHECK_INT_EQ(test_push_blob(&t, admin, "lib/app", blob, sizeof(blob) - 1, dstr), 201);

    TEST_RUN(test_get);
    TEST_RUN(test_head);
    TEST_RUN(test_range);
    TEST_RUN(test_if_none_match);
    TEST_RUN(test_unknown);
    TEST_RUN(test_delete);
    test_registry_close(&t);
    return test_summary();
}
