/* api_artifacts_test.c - artifacts and tags of /api/v2.0 through api_mount_handler: lists (a
 * repository's, a project's), one artifact by tag and by digest with its tags and extra_attrs,
 * tag lists, tag creation (push: developers up, robots with push) and deletion, artifact
 * deletion (delete: maintainers up, robots with delete), bad and unknown references, with exact
 * statuses and bodies. */
#include "api/test_api.h"

static struct test_api w;
static char v1_d[DIGEST_STR_LEN + 1];
static char v2_d[DIGEST_STR_LEN + 1];

#define REPO "/api/v2.0/projects/priv/repositories/app"

static void test_lists(void)
{
    struct http_fake_result res;
    json_t *j;

    test_api_req(&res, &w, W_LIM, "GET", REPO "/artifacts", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "2");
    j = test_api_json(&res);
    CHECK_INT_EQ(json_array_size(j), 2);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "repository_name")),
                 "priv/app");
    json_decref(j);
    http_fake_result_cleanup(&res);
    test_api_req(&res, &w, W_GUEST, "GET", "/api/v2.0/projects/priv/artifacts", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "2");
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_ANON, "GET", REPO "/artifacts", NULL, TEST_API_401));
    CHECK(test_api_err(&w, W_OUT, "GET", "/api/v2.0/projects/priv/artifacts", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_GUEST, "GET", "/api/v2.0/projects/priv/repositories/nope/artifacts",
                       NULL, 404, "NOT_FOUND", "repository priv/nope not found"));
    CHECK(test_api_err(&w, W_GUEST, "POST", REPO "/artifacts", "{}", 405, "METHOD_NOT_ALLOWED",
                       "method not allowed"));
    CHECK(test_api_err(&w, W_GUEST, "DELETE", "/api/v2.0/projects/priv/artifacts", NULL, 405,
                       "METHOD_NOT_ALLOWED", "method not allowed"));
}

static void test_get(void)
{
    struct http_fake_result res;
    char target[256];
    json_t *j;

    test_api_req(&res, &w, W_ROBOT_PULL, "GET", REPO "/artifacts/v1", NULL);
    CHECK_INT_EQ(res.status, 200);
    j = test_api_json(&res);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "digest")), v1_d);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "type")), "IMAGE");
    CHECK_STR_EQ(
            json_string_value(json_object_get(json_object_get(j, "extra_attrs"), "architecture")),
            "amd64");
    CHECK_STR_EQ(json_string_value(
                         json_object_get(json_array_get(json_object_get(j, "tags"), 0), "name")),
                 "v1");
    json_decref(j);
    http_fake_result_cleanup(&res);
    (void)snprintf(target, sizeof(target), REPO "/artifacts/%s?with_tag=false", v2_d);
    test_api_req(&res, &w, W_GUEST, "GET", target, NULL);
    CHECK_INT_EQ(res.status, 200);
    j = test_api_json(&res);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "digest")), v2_d);
    CHECK(json_is_null(json_object_get(j, "tags")));
    json_decref(j);
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_GUEST, "GET", REPO "/artifacts/nope", NULL, 404, "NOT_FOUND",
                       "artifact nope not found"));
    CHECK(test_api_err(&w, W_GUEST, "GET", REPO "/artifacts/-bad", NULL, 400, "BAD_REQUEST",
                       "invalid reference"));
    CHECK(test_api_err(&w, W_GUEST, "GET", REPO "/artifacts/v1?with_tag=maybe", NULL, 400,
                       "BAD_REQUEST", "with_tag must be true or false"));
    CHECK(test_api_err(&w, W_ANON, "GET", REPO "/artifacts/v1", NULL, TEST_API_401));
    CHECK(test_api_err(&w, W_GUEST, "PUT", REPO "/artifacts/v1", "{}", 405, "METHOD_NOT_ALLOWED",
                       "method not allowed"));
}

static void test_tags(void)
{
    const char *t = REPO "/artifacts/v1/tags";
    struct http_fake_result res;
    char names[256];

    test_api_req(&res, &w, W_LIM, "GET", t, NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(test_api_names(&res, "name", names, sizeof(names)), "v1");
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_ANON, "POST", t, "{\"name\":\"x\"}", TEST_API_401));
    CHECK(test_api_err(&w, W_GUEST, "POST", t, "{\"name\":\"x\"}", TEST_API_403));
    CHECK(test_api_err(&w, W_LIM, "POST", t, "{\"name\":\"x\"}", TEST_API_403));
    CHECK(test_api_err(&w, W_ROBOT_PULL, "POST", t, "{\"name\":\"x\"}", TEST_API_403));
    CHECK(test_api_err(&w, W_DEV, "POST", t, "{\"name\":\"-x\"}", 400, "BAD_REQUEST",
                       "name must be a valid tag"));
    CHECK(test_api_err(&w, W_DEV, "POST", t, "{}", 400, "BAD_REQUEST", "name must be a valid tag"));
    test_api_req(&res, &w, W_DEV, "POST", t, "{\"name\":\"stable\"}");
    CHECK_INT_EQ(res.status, 201);
    CHECK_STR_EQ(http_fake_get(&res, "Location"), REPO "/artifacts/v1/tags/stable");
    http_fake_result_cleanup(&res);
    CHECK_INT_EQ(test_api_status(&w, W_ROBOT_ALL, "POST", t, "{\"name\":\"robot\"}"), 201);
    CHECK_INT_EQ(test_api_status(&w, W_DEV, "POST", t, "{\"name\":\"stable\"}"), 409);
    test_api_req(&res, &w, W_GUEST, "GET", t, NULL);
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "3");
    http_fake_result_cleanup(&res);
    /* the new tag names the same artifact */
    test_api_req(&res, &w, W_GUEST, "GET", REPO "/artifacts/stable?with_tag=false", NULL);
    CHECK(res.body != NULL && strstr(res.body, v1_d) != NULL);
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_DEV, "DELETE", REPO "/artifacts/v1/tags/stable", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_MAINT, "DELETE", REPO "/artifacts/v1/tags/-x", NULL, 400,
                       "BAD_REQUEST", "invalid tag"));
    CHECK_INT_EQ(test_api_status(&w, W_MAINT, "DELETE", REPO "/artifacts/v1/tags/stable", NULL),
                 200);
    CHECK(test_api_err(&w, W_GUEST, "GET", REPO "/artifacts/stable", NULL, 404, "NOT_FOUND",
                       "artifact stable not found"));
    CHECK(test_api_err(&w, W_MAINT, "GET", REPO "/artifacts/v1/tags/robot", NULL, 405,
                       "METHOD_NOT_ALLOWED", "method not allowed"));
    CHECK(test_api_err(&w, W_MAINT, "GET", REPO "/artifacts/v1/nope", NULL, 404, "NOT_FOUND",
                       "not found"));
}

static void test_delete(void)
{
    struct http_fake_result res;
    char target[256];

    CHECK(test_api_err(&w, W_ANON, "DELETE", REPO "/artifacts/v1", NULL, TEST_API_401));
    CHECK(test_api_err(&w, W_DEV, "DELETE", REPO "/artifacts/v1", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_GUEST, "DELETE", REPO "/artifacts/v1", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_ROBOT_PULL, "DELETE", REPO "/artifacts/v1", NULL, TEST_API_403));
    /* the permission is checked before the artifact is looked up */
    CHECK(test_api_err(&w, W_DEV, "DELETE", REPO "/artifacts/nope", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_MAINT, "DELETE", REPO "/artifacts/nope", NULL, 404, "NOT_FOUND",
                       "artifact nope not found"));
    CHECK_INT_EQ(test_api_status(&w, W_MAINT, "DELETE", REPO "/artifacts/v1", NULL), 200);
    (void)snprintf(target, sizeof(target), REPO "/artifacts/%s", v2_d);
    CHECK_INT_EQ(test_api_status(&w, W_ROBOT_ALL, "DELETE", target, NULL), 200);
    test_api_req(&res, &w, W_GUEST, "GET", REPO "/artifacts", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(res.body, "[]");
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "0");
    http_fake_result_cleanup(&res);
}

int main(void)
{
    test_api_open(&w);
    test_api_push_image(&w, "priv/app", "v1", "layer-one", v1_d);
    test_api_push_image(&w, "priv/app", "v2", "layer-two", v2_d);
    TEST_RUN(test_lists);
    TEST_RUN(test_get);
    TEST_RUN(test_tags);
    TEST_RUN(test_delete);
    test_api_close(&w);
    return test_summary();
}
