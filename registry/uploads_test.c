/* uploads_test.c - the blob upload endpoints through route_v2_handler and the seam's test double,
 * on a real registry: monolithic POST ?digest=, a session (POST) fed by PATCH chunks in several
 * data() pieces with and without Content-Range, status GET, PUT ?digest= with the last bytes,
 * the blob read back by digest; out-of-order and mismatched ranges, a wrong digest, cancel, an
 * unknown session, and cross-repository mounts (with and without from, refused without pull). */
#include "registry/test_registry.h"

static struct test_registry t;
static char admin[256], dev[256];

static void call(struct http_fake_result *res, const char *method, const char *target,
                 const char *auth, const void *body, size_t len, size_t piece, const char *h1,
                 const char *v1, const char *h2, const char *v2)
{
    test_v2(res, &t, method, target, auth, body, len, piece, h1, v1, h2, v2, TEST_HDR_END);
}

/* open_session: POST, returns the Location into loc. */
static void open_session(const char *repo, char *loc, size_t cap)
{
    struct http_fake_result res;
    char target[256];
    const char *l;

    (void)snprintf(target, sizeof(target), "/v2/%s/blobs/uploads/", repo);
    call(&res, "POST", target, admin, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 202);
    l = http_fake_get(&res, "Location");
    CHECK(l != NULL);
    (void)snprintf(loc, cap, "%s", l != NULL ? l : "/none");
    http_fake_result_cleanup(&res);
}

static void test_monolithic(void)
{
    struct http_fake_result res;
    static const char data[] = "monolithic blob";
    char d[DIGEST_STR_LEN + 1], target[256], loc[256], got[DIGEST_STR_LEN + 1];

    test_digest_str(data, sizeof(data) - 1, d, sizeof(d));
    (void)snprintf(target, sizeof(target), "/v2/lib/app/blobs/uploads/?digest=%s", d);
    call(&res, "POST", target, admin, data, sizeof(data) - 1, 4, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 201);
    CHECK_INT_EQ(res.data_calls, 4);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Content-Digest"), d);
    (void)snprintf(loc, sizeof(loc), "/v2/lib/app/blobs/%s", d);
    CHECK_STR_EQ(http_fake_get(&res, "Location"), loc);
    http_fake_result_cleanup(&res);

    call(&res, "GET", loc, admin, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 200);
    test_body_digest(&res, got, sizeof(got));
    CHECK_STR_EQ(got, d);
    http_fake_result_cleanup(&res);

    /* the body does not hash to ?digest= */
    call(&res, "POST", target, admin, "other", 5, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "DIGEST_INVALID"));
    http_fake_result_cleanup(&res);

    /* ?digest= that does not parse: refused at begin */
    call(&res, "POST", "/v2/lib/app/blobs/uploads/?digest=sha256:12", admin, "x", 1, 0, NULL, NULL,
         NULL, NULL);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "DIGEST_INVALID"));
    CHECK(res.answered_at_begin);
    http_fake_result_cleanup(&res);
}

static void test_chunked(void)
{
    struct http_fake_result res;
    static const char data[] = "0123456789abcdefghijKLMNOP";
    char loc[256], target[400], d[DIGEST_STR_LEN + 1], got[DIGEST_STR_LEN + 1], blob[256];
    const char *id;

    open_session("lib/app", loc, sizeof(loc));
    CHECK(strncmp(loc, "/v2/lib/app/blobs/uploads/", 26) == 0);
    id = loc + 26;

    /* the first chunk, with its Content-Range, in pieces of 3 */
    call(&res, "PATCH", loc, admin, data, 10, 3, "Content-Range", "0-9", NULL, NULL);
    CHECK_INT_EQ(res.status, 202);
    CHECK_INT_EQ(res.data_calls, 4);
    CHECK_STR_EQ(http_fake_get(&res, "Range"), "0-9");
    CHECK_STR_EQ(http_fake_get(&res, "Location"), loc);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Upload-UUID"), id);
    http_fake_result_cleanup(&res);

    /* a chunk that does not start where the upload is: 416 with where it is */
    call(&res, "PATCH", loc, admin, data + 5, 5, 0, "Content-Range", "5-9", NULL, NULL);
    CHECK_INT_EQ(res.status, 416);
    CHECK(test_err_code(&res, "RANGE_INVALID"));
    CHECK_STR_EQ(http_fake_get(&res, "Range"), "0-9");
    CHECK_STR_EQ(http_fake_get(&res, "Location"), loc);
    CHECK(res.answered_at_begin);
    http_fake_result_cleanup(&res);

    /* Content-Length disagrees with Content-Range */
    call(&res, "PATCH", loc, admin, data + 10, 5, 0, "Content-Range", "10-19", NULL, NULL);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "SIZE_INVALID"));
    http_fake_result_cleanup(&res);

    /* status */
    call(&res, "GET", loc, admin, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 204);
    CHECK_STR_EQ(http_fake_get(&res, "Range"), "0-9");
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Upload-UUID"), id);
    http_fake_result_cleanup(&res);

    /* a streamed chunk without Content-Range, in pieces of 4 */
    call(&res, "PATCH", loc, admin, data + 10, 10, 4, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 202);
    CHECK_INT_EQ(res.data_calls, 3);
    CHECK_STR_EQ(http_fake_get(&res, "Range"), "0-19");
    http_fake_result_cleanup(&res);

    /* PUT ?digest= with the last bytes finishes the blob */
    test_digest_str(data, sizeof(data) - 1, d, sizeof(d));
    (void)snprintf(target, sizeof(target), "%s?digest=%s", loc, d);
    call(&res, "PUT", target, admin, data + 20, sizeof(data) - 1 - 20, 2, "Content-Range", "20-25",
         NULL, NULL);
    CHECK_INT_EQ(res.status, 201);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Content-Digest"), d);
    (void)snprintf(blob, sizeof(blob), "/v2/lib/app/blobs/%s", d);
    CHECK_STR_EQ(http_fake_get(&res, "Location"), blob);
    http_fake_result_cleanup(&res);

    call(&res, "GET", blob, admin, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_INT_EQ(res.body_len, sizeof(data) - 1);
    test_body_digest(&res, got, sizeof(got));
    CHECK_STR_EQ(got, d);
    http_fake_result_cleanup(&res);

    /* the session ended with the PUT */
    call(&res, "GET", loc, admin, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "BLOB_UPLOAD_UNKNOWN"));
    http_fake_result_cleanup(&res);
}

static void test_put_refused(void)
{
    struct http_fake_result res;
    char loc[256], target[400], d[DIGEST_STR_LEN + 1];

    open_session("lib/app", loc, sizeof(loc));
    /* PUT without ?digest= */
    call(&res, "PUT", loc, admin, "abc", 3, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "DIGEST_INVALID"));
    http_fake_result_cleanup(&res);

    /* a chunk longer than its Content-Range: data() refuses it */
    call(&res, "PATCH", loc, admin, "abcdef", 6, 2, "Content-Range", "0-3", "Content-Length", "4");
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "SIZE_INVALID"));
    CHECK(res.data_failed);
    http_fake_result_cleanup(&res);

    /* the digest of other bytes */
    test_digest_str("xyz", 3, d, sizeof(d));
    open_session("lib/app", loc, sizeof(loc));
    (void)snprintf(target, sizeof(target), "%s?digest=%s", loc, d);
    call(&res, "PUT", target, admin, "abc", 3, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "DIGEST_INVALID"));
    http_fake_result_cleanup(&res);
}

static void test_cancel_and_unknown(void)
{
    struct http_fake_result res;
    char loc[256];

    open_session("lib/app", loc, sizeof(loc));
    call(&res, "DELETE", loc, admin, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 204);
    http_fake_result_cleanup(&res);
    call(&res, "GET", loc, admin, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "BLOB_UPLOAD_UNKNOWN"));
    http_fake_result_cleanup(&res);
    call(&res, "DELETE", loc, admin, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "BLOB_UPLOAD_UNKNOWN"));
    http_fake_result_cleanup(&res);
    call(&res, "PATCH", "/v2/lib/app/blobs/uploads/0123456789abcdef0123456789abcdef", admin, "x", 1,
         0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "BLOB_UPLOAD_UNKNOWN"));
    http_fake_result_cleanup(&res);

    /* a session of one repository is unknown to another */
    open_session("lib/app", loc, sizeof(loc));
    {
        char other[300];
        (void)snprintf(other, sizeof(other), "/v2/lib/other/blobs/uploads/%s", loc + 26);
        call(&res, "GET", other, admin, NULL, 0, 0, NULL, NULL, NULL, NULL);
        CHECK_INT_EQ(res.status, 404);
        CHECK(test_err_code(&res, "BLOB_UPLOAD_UNKNOWN"));
        http_fake_result_cleanup(&res);
    }
}

static void test_mount(void)
{
    struct http_fake_result res;
    static const char data[] = "a blob to mount";
    char d[DIGEST_STR_LEN + 1], target[400], loc[256];

    CHECK_INT_EQ(test_push_blob(&t, admin, "lib/app", data, sizeof(data) - 1, d), 201);

    /* from a repository that has it */
    (void)snprintf(target, sizeof(target), "/v2/lib/other/blobs/uploads/?mount=%s&from=lib/app", d);
    call(&res, "POST", target, admin, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 201);
    (void)snprintf(loc, sizeof(loc), "/v2/lib/other/blobs/%s", d);
    CHECK_STR_EQ(http_fake_get(&res, "Location"), loc);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Content-Digest"), d);
    http_fake_result_cleanup(&res);
    call(&res, "HEAD", loc, admin, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_INT_EQ(res.len, sizeof(data) - 1);
    http_fake_result_cleanup(&res);

    /* without from: any repository the caller may pull from */
    (void)snprintf(target, sizeof(target), "/v2/lib/third/blobs/uploads/?mount=%s", d);
    call(&res, "POST", target, admin, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 201);
    http_fake_result_cleanup(&res);

    /* a from that does not have it: an upload session instead */
    (void)snprintf(target, sizeof(target), "/v2/lib/fourth/blobs/uploads/?mount=%s&from=lib/none",
                   d);
    call(&res, "POST", target, admin, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 202);
    CHECK(http_fake_get(&res, "Docker-Upload-UUID") != NULL);
    http_fake_result_cleanup(&res);

    /* dev may push to dev/app but not pull from lib (private, not a member): no mount */
    (void)snprintf(target, sizeof(target), "/v2/dev/app/blobs/uploads/?mount=%s&from=lib/app", d);
    call(&res, "POST", target, dev, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 202);
    http_fake_result_cleanup(&res);
    (void)snprintf(target, sizeof(target), "/v2/dev/app/blobs/%s", d);
    call(&res, "HEAD", target, dev, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 404);
    http_fake_result_cleanup(&res);

    /* an invalid mount digest */
    call(&res, "POST", "/v2/lib/app/blobs/uploads/?mount=sha256:zz&from=lib/app", admin, NULL, 0, 0,
         NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "DIGEST_INVALID"));
    http_fake_result_cleanup(&res);
}

/* the cap on open sessions per repository: the next POST is 429 TOOMANYREQUESTS with the spec's
 * body and a Retry-After; another repository is not affected; ending a session frees a place;
 * a monolithic upload needs a place too */
static void test_session_cap(void)
{
    struct http_fake_result res;
    char loc[3][256], other[256];

    upload_mgr_set_limit(t.reg.uploads, 3);
    open_session("lib/capped", loc[0], sizeof(loc[0]));
    open_session("lib/capped", loc[1], sizeof(loc[1]));
    open_session("lib/capped", loc[2], sizeof(loc[2]));
    call(&res, "POST", "/v2/lib/capped/blobs/uploads/", admin, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 429);
    CHECK(test_err_code(&res, "TOOMANYREQUESTS"));
    CHECK_STR_EQ(http_fake_get(&res, "Retry-After"), "30");
    CHECK(http_fake_get(&res, "Location") == NULL);
    http_fake_result_cleanup(&res);
    call(&res, "POST",
         "/v2/lib/capped/blobs/uploads/?digest=sha256:"
         "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
         admin, "hello", 5, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 429);
    CHECK(test_err_code(&res, "TOOMANYREQUESTS"));
    http_fake_result_cleanup(&res);

    open_session("lib/uncapped", other, sizeof(other)); /* another repository is not capped */

    call(&res, "DELETE", loc[1], admin, NULL, 0, 0, NULL, NULL, NULL, NULL);
    CHECK_INT_EQ(res.status, 204);
    http_fake_result_cleanup(&res);
    open_session("lib/capped", loc[1], sizeof(loc[1]));
    upload_mgr_set_limit(t.reg.uploads, 0);
}

int main(void)
{
    int64_t dev_id, dev_proj;

    test_registry_open(&t);
    (void)test_registry_user(&t, "admin", "Admin12345", true);
    dev_id = test_registry_user(&t, "dev", "Dev1234567", false);
    (void)test_registry_project(&t, "lib", false, 0);
    dev_proj = test_registry_project(&t, "dev", false, 0);
    test_registry_member(&t, dev_proj, dev_id, ROLE_DEVELOPER);
    test_basic(admin, sizeof(admin), "admin", "Admin12345");
    test_basic(dev, sizeof(dev), "dev", "Dev1234567");

    TEST_RUN(test_monolithic);
    TEST_RUN(test_chunked);
    TEST_RUN(test_put_refused);
    TEST_RUN(test_cancel_and_unknown);
    TEST_RUN(test_mount);
    TEST_RUN(test_session_cap);
    test_registry_close(&t);
    return test_summary();
}
