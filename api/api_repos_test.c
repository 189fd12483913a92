/* api_repos_test.c - /api/v2.0 repositories through api_mount_handler: the registry-wide list by
 * visibility, a project's list, one repository by its %2F / %252F encoded name, description
 * updates and deletes (who may: every role, robots with and without delete), 400/404 for bad and
 * unknown names, with exact bodies. */
#include "api/test_api.h"

static struct test_api w;
static char app_d[DIGEST_STR_LEN + 1];

static void test_lists(void)
{
    struct http_fake_result res;
    char names[256];

    test_api_req(&res, &w, W_ANON, "GET", "/api/v2.0/repositories", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(test_api_names(&res, "name", names, sizeof(names)), "pub/web");
    http_fake_result_cleanup(&res);
    test_api_req(&res, &w, W_ADMIN, "GET", "/api/v2.0/repositories?sort=name", NULL);
    CHECK_STR_EQ(test_api_names(&res, "name", names, sizeof(names)), "priv/a/b,priv/app,pub/web");
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "3");
    http_fake_result_cleanup(&res);
    test_api_req(&res, &w, W_ROBOT_PULL, "GET", "/api/v2.0/repositories?sort=name", NULL);
    CHECK_STR_EQ(test_api_names(&res, "name", names, sizeof(names)), "priv/a/b,priv/app,pub/web");
    http_fake_result_cleanup(&res);
    test_api_req(&res, &w, W_GUEST, "GET",
                 "/api/v2.0/projects/priv/repositories?sort=name&page_size=1", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(test_api_names(&res, "name", names, sizeof(names)), "priv/a/b");
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "2");
    CHECK_STR_EQ(http_fake_get(&res, "Link"), "</api/v2.0/projects/priv/repositories?page=2&"
                                              "page_size=1&sort=name>; rel=\"next\"");
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_ANON, "GET", "/api/v2.0/projects/priv/repositories", NULL,
                       TEST_API_401));
    CHECK(test_api_err(&w, W_OUT, "GET", "/api/v2.0/projects/priv/repositories", NULL,
                       TEST_API_403));
    CHECK_INT_EQ(test_api_status(&w, W_LIM, "GET", "/api/v2.0/projects/priv/repositories", NULL),
                 200);
    CHECK_INT_EQ(test_api_status(&w, W_ANON, "GET", "/api/v2.0/projects/pub/repositories", NULL),
                 200);
    CHECK(test_api_err(&w, W_ADMIN, "POST", "/api/v2.0/repositories", "{}", 405,
                       "METHOD_NOT_ALLOWED", "method not allowed"));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/repositories?page_size=101", NULL, 400,
                       "BAD_REQUEST", "page_size must be 1..100"));
}

static void test_one(void)
{
    struct http_fake_result res;
    json_t *j;

    test_api_req(&res, &w, W_LIM, "GET", "/api/v2.0/projects/priv/repositories/app", NULL);
    CHECK_INT_EQ(res.status, 200);
    j = test_api_json(&res);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "name")), "priv/app");
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "project_id")), w.priv_id);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "artifact_count")), 1);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "description")), "");
    json_decref(j);
    http_fake_result_cleanup(&res);
    /* a '/' in the name: %252F (Harbor's clients) and %2F decoded once by the core */
    test_api_req(&res, &w, W_GUEST, "GET", "/api/v2.0/projects/priv/repositories/a%252Fb", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK(res.body != NULL && strstr(res.body, "\"name\":\"priv/a/b\"") != NULL);
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_GUEST, "GET", "/api/v2.0/projects/priv/repositories/a%2Fb", NULL, 404,
                       "NOT_FOUND", "not found"));
    CHECK(test_api_err(&w, W_GUEST, "GET", "/api/v2.0/projects/priv/repositories/Bad", NULL, 400,
                       "BAD_REQUEST", "invalid repository name"));
    CHECK(test_api_err(&w, W_GUEST, "GET", "/api/v2.0/projects/priv/repositories/nope", NULL, 404,
                       "NOT_FOUND", "repository priv/nope not found"));
    CHECK(test_api_err(&w, W_OUT, "GET", "/api/v2.0/projects/priv/repositories/app", NULL,
                       TEST_API_403));
    CHECK(test_api_err(&w, W_GUEST, "PATCH", "/api/v2.0/projects/priv/repositories/app", "{}", 405,
                       "METHOD_NOT_ALLOWED", "method not allowed"));
}

static void test_update(void)
{
    const char *t = "/api/v2.0/projects/priv/repositories/app";
    const char *desc = "{\"description\":\"the app\"}";
    struct http_fake_result res;

    CHECK(test_api_err(&w, W_ANON, "PUT", t, desc, TEST_API_401));
    CHECK(test_api_err(&w, W_DEV, "PUT", t, desc, TEST_API_403));
    CHECK(test_api_err(&w, W_GUEST, "PUT", t, desc, TEST_API_403));
    CHECK(test_api_err(&w, W_LIM, "PUT", t, desc, TEST_API_403));
    CHECK(test_api_err(&w, W_ROBOT_PULL, "PUT", t, desc, TEST_API_403));
    CHECK(test_api_err(&w, W_MAINT, "PUT", t, "{\"description\":1}", 400, "BAD_REQUEST",
                       "description must be a string"));
    CHECK_INT_EQ(test_api_status(&w, W_MAINT, "PUT", t, desc), 200);
    test_api_req(&res, &w, W_GUEST, "GET", t, NULL);
    CHECK(res.body != NULL && strstr(res.body, "\"description\":\"the app\"") != NULL);
    http_fake_result_cleanup(&res);
    CHECK_INT_EQ(test_api_status(&w, W_PA, "PUT", t, "{}"), 200);
    CHECK_INT_EQ(test_api_status(&w, W_ROBOT_ALL, "PUT", t, desc), 200);
}

static void test_delete(void)
{
    const char *t = "/api/v2.0/projects/priv/repositories/a%252Fb";
    struct http_fake_result res;
    char names[256];

    CHECK(test_api_err(&w, W_ANON, "DELETE", t, NULL, TEST_API_401));
    CHECK(test_api_err(&w, W_DEV, "DELETE", t, NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_ROBOT_PULL, "DELETE", t, NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_ANON, "DELETE", "/api/v2.0/projects/pub/repositories/web", NULL,
                       TEST_API_401));
    CHECK(test_api_err(&w, W_OUT, "DELETE", "/api/v2.0/projects/pub/repositories/web", NULL,
                       TEST_API_403));
    CHECK_INT_EQ(test_api_status(&w, W_ROBOT_ALL, "DELETE", t, NULL), 200);
    CHECK(test_api_err(&w, W_MAINT, "DELETE", t, NULL, 404, "NOT_FOUND",
                       "repository priv/a/b not found"));
    test_api_req(&res, &w, W_ADMIN, "GET", "/api/v2.0/projects/priv/repositories", NULL);
    CHECK_STR_EQ(test_api_names(&res, "name", names, sizeof(names)), "priv/app");
    http_fake_result_cleanup(&res);
}

int main(void)
{
    char d[DIGEST_STR_LEN + 1];

    test_api_open(&w);
    test_api_push_image(&w, "priv/app", "v1", "app-layer", app_d);
    test_api_push_image(&w, "priv/a/b", "v1", "ab-layer", d);
    test_api_push_image(&w, "pub/web", "latest", "web-layer", d);
    TEST_RUN(test_lists);
    TEST_RUN(test_one);
    TEST_RUN(test_update);
    TEST_RUN(test_delete);
    test_api_close(&w);
    return test_summary();
}
