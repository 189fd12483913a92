/* mount_test.c - the server's mount table (api/mount.c) through the seam's test double and a real
 * registry: which handler takes which path, and the web UI's assets (bytes, ETag, CSP,
 * If-None-Match as http/etag.c reads it: the tag, a list, a weak tag, "*"), HEAD, an unknown
 * asset, a method the UI does not have. */
#include "api/mount.h"

#include "api/ui_assets.h"
#include "registry/test_registry.h"

static struct test_registry t;
static struct http_mount mounts[API_MOUNTS_MAX];
static size_t nmounts;

static void serve(struct http_fake_result *res, const char *method, const char *target,
                  const char *inm)
{
    struct http_fake *f = http_fake_new(method, target);

    CHECK(f != NULL);
    if (f == NULL)
        abort();
    if (inm != NULL)
        CHECK_INT_EQ(http_fake_header(f, "If-None-Match", inm), 0);
    CHECK_INT_EQ(http_fake_serve(res, mounts, nmounts, f, 0), 0);
    http_fake_free(f);
}

static const struct ui_asset *asset(const char *path)
{
    for (unsigned i = 0; i < ui_assets_count; i++) {
        if (strcmp(ui_assets[i].path, path) == 0)
            return &ui_assets[i];
    }
    return NULL;
}

static void test_table(void)
{
    CHECK_INT_EQ(nmounts, 7);
    CHECK(http_mount_find(mounts, nmounts, "/v2")->handler == &route_v2_handler);
    CHECK(http_mount_find(mounts, nmounts, "/v2/x/tags/list")->handler == &route_v2_handler);
    CHECK(http_mount_find(mounts, nmounts, "/v2x")->handler == &api_ui_handler);
    CHECK(http_mount_find(mounts, nmounts, "/service/token")->handler == &api_token_handler);
    CHECK(http_mount_find(mounts, nmounts, "/api/v2.0/projects")->handler == &api_mount_handler);
    CHECK(http_mount_find(mounts, nmounts, "/c/login")->handler == &api_mount_handler);
    CHECK(http_mount_find(mounts, nmounts, "/metrics")->handler == &api_mount_handler);
    CHECK(http_mount_find(mounts, nmounts, "/harbor/projects")->handler == &api_ui_handler);
    CHECK_INT_EQ(api_mounts(mounts, 3, &t.reg), 0);
}

static void test_ui_assets(void)
{
    const struct ui_asset *idx = asset("/index.html");
    struct http_fake_result res;
    char inm[200];

    CHECK(idx != NULL);
    if (idx == NULL)
        return;
    serve(&res, "GET", "/", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK(res.body_len == idx->len && memcmp(res.body, idx->data, idx->len) == 0);
    CHECK_STR_EQ(http_fake_get(&res, "ETag"), idx->etag);
    CHECK_STR_EQ(http_fake_get(&res, "Content-Type"), idx->type);
    CHECK_STR_EQ(http_fake_get(&res, "Content-Security-Policy"),
                 "default-src 'self'; frame-ancestors 'none'");
    CHECK_STR_EQ(http_fake_get(&res, "X-Frame-Options"), "DENY");
    CHECK_STR_EQ(http_fake_get(&res, "Cache-Control"), "no-cache");
    CHECK(http_fake_get(&res, "Docker-Distribution-Api-Version") == NULL);
    http_fake_result_cleanup(&res);

    /* deep links of the single-page UI get the page */
    serve(&res, "GET", "/harbor/projects/1", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_INT_EQ(res.body_len, idx->len);
    http_fake_result_cleanup(&res);

    serve(&res, "GET", "/", idx->etag);
    CHECK_INT_EQ(res.status, 304);
    CHECK_INT_EQ(res.body_len, 0);
    CHECK_STR_EQ(http_fake_get(&res, "ETag"), idx->etag);
    http_fake_result_cleanup(&res);

    /* a list and a weak tag: 304 since the UI uses http/etag.c (strcmp before) */
    (void)snprintf(inm, sizeof(inm), "\"old\", W/%s", idx->etag);
    serve(&res, "GET", "/index.html", inm);
    CHECK_INT_EQ(res.status, 304);
    http_fake_result_cleanup(&res);
    serve(&res, "GET", "/index.html", "*");
    CHECK_INT_EQ(res.status, 304);
    http_fake_result_cleanup(&res);
    serve(&res, "GET", "/index.html", "\"old\"");
    CHECK_INT_EQ(res.status, 200);
    http_fake_result_cleanup(&res);

    serve(&res, "HEAD", "/index.html", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_INT_EQ(res.len, idx->len);
    CHECK_INT_EQ(res.body_len, 0);
    http_fake_result_cleanup(&res);

    serve(&res, "GET", "/no/such/asset.js", NULL);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "NOT_FOUND"));
    http_fake_result_cleanup(&res);

    serve(&res, "POST", "/index.html", NULL);
    CHECK_INT_EQ(res.status, 405);
    CHECK(test_err_code(&res, "UNSUPPORTED"));
    http_fake_result_cleanup(&res);
}

static void test_v2_through_table(void)
{
    struct http_fake_result res;

    serve(&res, "GET", "/v2/", NULL);
    CHECK_INT_EQ(res.status, 401);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Distribution-Api-Version"), "registry/2.0");
    http_fake_result_cleanup(&res);
}

int main(void)
{
    test_registry_open(&t);
    nmounts = api_mounts(mounts, API_MOUNTS_MAX, &t.reg);
    TEST_RUN(test_table);
    TEST_RUN(test_ui_assets);
    TEST_RUN(test_v2_through_table);
    test_registry_close(&t);
    return test_summary();
}
