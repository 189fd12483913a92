/* api_projects_test.c - /api/v2.0/projects through api_mount_handler: listing by visibility,
 * HEAD by name, create (who may, storage_limit, duplicates, bodies), get by name and id, update,
 * _deletable, delete, summary, logs; the router's 401/403/404/405 with Harbor's exact bodies. */
#include "api/test_api.h"

static struct test_api w;

static void test_list(void)
{
    struct http_fake_result res;
    char names[256];

    test_api_req(&res, &w, W_ANON, "GET", "/api/v2.0/projects", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(test_api_names(&res, "name", names, sizeof(names)), "pub");
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "1");
    http_fake_result_cleanup(&res);
    test_api_req(&res, &w, W_ADMIN, "GET", "/api/v2.0/projects?sort=name", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(test_api_names(&res, "name", names, sizeof(names)), "library,priv,pub");
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "3");
    http_fake_result_cleanup(&res);
    test_api_req(&res, &w, W_GUEST, "GET", "/api/v2.0/projects?sort=name", NULL);
    CHECK_STR_EQ(test_api_names(&res, "name", names, sizeof(names)), "priv,pub");
    http_fake_result_cleanup(&res);
    test_api_req(&res, &w, W_OUT, "GET", "/api/v2.0/projects", NULL);
    CHECK_STR_EQ(test_api_names(&res, "name", names, sizeof(names)), "pub");
    http_fake_result_cleanup(&res);
    test_api_req(&res, &w, W_ADMIN, "GET", "/api/v2.0/projects?q=name%3D~pri", NULL);
    CHECK_STR_EQ(test_api_names(&res, "name", names, sizeof(names)), "priv");
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/projects?page=0", NULL, 400, "BAD_REQUEST",
                       "page must be a positive integer"));
    /* q is checked against the keys the listing takes (common/parse.c) */
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/projects?q=owner%3Dx", NULL, 400,
                       "BAD_REQUEST", "q: unknown key 'owner'"));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/projects?q=public%3Dmaybe", NULL, 400,
                       "BAD_REQUEST", "invalid q"));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/projects?q=name%3D%5Ba~b%5D", NULL, 400,
                       "BAD_REQUEST", "q: name does not take a [from~to] range"));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/projects?page_size=0", NULL, 400,
                       "BAD_REQUEST", "page_size must be 1..100"));
    test_api_req(&res, &w, W_ADMIN, "GET", "/api/v2.0/projects?q=public%3Dtrue", NULL);
    CHECK_STR_EQ(test_api_names(&res, "name", names, sizeof(names)), "pub");
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/projects?public=maybe", NULL, 400,
                       "BAD_REQUEST", "public must be true or false"));
}

static void test_head(void)
{
    CHECK_INT_EQ(test_api_status(&w, W_ANON, "HEAD", "/api/v2.0/projects?project_name=priv", NULL),
                 200);
    CHECK_INT_EQ(test_api_status(&w, W_ANON, "HEAD", "/api/v2.0/projects?project_name=nope", NULL),
                 404);
    CHECK_INT_EQ(test_api_status(&w, W_ANON, "HEAD", "/api/v2.0/projects", NULL), 400);
    CHECK_INT_EQ(test_api_status(&w, W_ANON, "HEAD", "/api/v2.0/projects/priv", NULL), 401);
}

static void test_create(void)
{
    struct http_fake_result res;

    CHECK(test_api_err(&w, W_ANON, "POST", "/api/v2.0/projects", "{\"project_name\":\"x\"}",
                       TEST_API_401));
    CHECK(test_api_err(&w, W_ROBOT_ALL, "POST", "/api/v2.0/projects", "{\"project_name\":\"x\"}",
                       403, "FORBIDDEN", "robot accounts may not create projects"));
    CHECK(test_api_err(&w, W_DEV, "POST", "/api/v2.0/projects",
                       "{\"project_name\":\"x\",\"storage_limit\":10}", 403, "FORBIDDEN",
                       "only a system administrator sets storage_limit"));
    CHECK(test_api_err(&w, W_DEV, "POST", "/api/v2.0/projects", "{}", 400, "BAD_REQUEST",
                       "project_name is required"));
    CHECK(test_api_err(&w, W_DEV, "POST", "/api/v2.0/projects", "[]", 400, "BAD_REQUEST",
                       "the body must be a JSON object"));
    CHECK(test_api_err(&w, W_DEV, "POST", "/api/v2.0/projects", "", 400, "BAD_REQUEST",
                       "a JSON body is required"));
    CHECK(test_api_err(&w, W_DEV, "POST", "/api/v2.0/projects",
                       "{\"project_name\":\"x\",\"metadata\":{\"public\":\"yes\"}}", 400,
                       "BAD_REQUEST", "metadata.public must be \\\"true\\\" or \\\"false\\\""));
    test_api_req(&res, &w, W_DEV, "POST", "/api/v2.0/projects",
                 "{\"project_name\":\"devs\",\"metadata\":{\"public\":\"false\"}}");
    CHECK_INT_EQ(res.status, 201);
    CHECK(http_fake_get(&res, "Location") != NULL &&
          strncmp(http_fake_get(&res, "Location"), "/api/v2.0/projects/", 19) == 0);
    CHECK_INT_EQ(res.body_len, 0);
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_DEV, "POST", "/api/v2.0/projects", "{\"project_name\":\"devs\"}", 409,
                       "CONFLICT", "project devs already exists"));
    /* the creator is its projectAdmin */
    test_api_req(&res, &w, W_DEV, "GET", "/api/v2.0/projects/devs", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK(res.body != NULL && strstr(res.body, "\"current_user_role_id\":1") != NULL);
    http_fake_result_cleanup(&res);
}

static void test_get(void)
{
    struct http_fake_result res;
    char target[64];
    json_t *j;

    CHECK(test_api_err(&w, W_ANON, "GET", "/api/v2.0/projects/priv", NULL, TEST_API_401));
    CHECK(test_api_err(&w, W_OUT, "GET", "/api/v2.0/projects/priv", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/projects/nope", NULL, 404, "NOT_FOUND",
                       "project nope not found"));
    test_api_req(&res, &w, W_GUEST, "GET", "/api/v2.0/projects/priv", NULL);
    CHECK_INT_EQ(res.status, 200);
    j = test_api_json(&res);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "name")), "priv");
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "project_id")), w.priv_id);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "current_user_role_id")), ROLE_GUEST);
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(j, "metadata"), "public")),
                 "false");
    json_decref(j);
    http_fake_result_cleanup(&res);
    (void)snprintf(target, sizeof(target), "/api/v2.0/projects/%lld", (long long)w.pub_id);
    test_api_req(&res, &w, W_ANON, "GET", target, NULL);
    CHECK_INT_EQ(res.status, 200);
    j = test_api_json(&res);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "name")), "pub");
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "current_user_role_id")), 0);
    json_decref(j);
    http_fake_result_cleanup(&res);
    /* the robot with a grant on priv may read it; HEAD answers too */
    CHECK_INT_EQ(test_api_status(&w, W_ROBOT_PULL, "GET", "/api/v2.0/projects/priv", NULL), 200);
    CHECK_INT_EQ(test_api_status(&w, W_GUEST, "HEAD", "/api/v2.0/projects/priv", NULL), 200);
    CHECK(test_api_err(&w, W_ADMIN, "PATCH", "/api/v2.0/projects/priv", "{}", 405,
                       "METHOD_NOT_ALLOWED", "method not allowed"));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/projects/priv/nope", NULL, 404, "NOT_FOUND",
                       "not found"));
}

static void test_update(void)
{
    struct http_fake_result res;

    CHECK(test_api_err(&w, W_ANON, "PUT", "/api/v2.0/projects/priv", "{}", TEST_API_401));
    CHECK(test_api_err(&w, W_MAINT, "PUT", "/api/v2.0/projects/priv", "{}", TEST_API_403));
    CHECK(test_api_err(&w, W_ROBOT_ALL, "PUT", "/api/v2.0/projects/priv", "{}", TEST_API_403));
    CHECK(test_api_err(&w, W_PA, "PUT", "/api/v2.0/projects/priv", "{\"storage_limit\":5}", 403,
                       "FORBIDDEN", "only a system administrator sets storage_limit"));
    CHECK(test_api_err(&w, W_PA, "PUT", "/api/v2.0/projects/priv", "{\"public\":1}", 400,
                       "BAD_REQUEST", "public must be a boolean"));
    CHECK_INT_EQ(test_api_status(&w, W_PA, "PUT", "/api/v2.0/projects/priv",
                                 "{\"metadata\":{\"public\":\"true\"}}"),
                 200);
    test_api_req(&res, &w, W_ANON, "GET", "/api/v2.0/projects/priv", NULL);
    CHECK_INT_EQ(res.status, 200); /* now public */
    http_fake_result_cleanup(&res);
    CHECK_INT_EQ(test_api_status(&w, W_ADMIN, "PUT", "/api/v2.0/projects/priv",
                                 "{\"metadata\":{\"public\":\"false\"},\"storage_limit\":1000}"),
                 200);
    CHECK(test_api_err(&w, W_ANON, "GET", "/api/v2.0/projects/priv", NULL, TEST_API_401));
}

static void test_deletable_and_delete(void)
{
    struct http_fake_result res;

    test_api_req(&res, &w, W_PA, "GET", "/api/v2.0/projects/priv/_deletable", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(res.body, "{\"deletable\":true}");
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_DEV, "GET", "/api/v2.0/projects/priv/_deletable", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_PA, "POST", "/api/v2.0/projects/priv/_deletable", "{}", 405,
                       "METHOD_NOT_ALLOWED", "method not allowed"));
    CHECK(test_api_err(&w, W_MAINT, "DELETE", "/api/v2.0/projects/devs", NULL, TEST_API_403));
    CHECK_INT_EQ(test_api_status(&w, W_DEV, "DELETE", "/api/v2.0/projects/devs", NULL), 200);
    CHECK(test_api_err(&w, W_DEV, "GET", "/api/v2.0/projects/devs", NULL, 404, "NOT_FOUND",
                       "project devs not found"));
}

static void test_summary_and_logs(void)
{
    struct http_fake_result res;
    json_t *j;

    test_api_req(&res, &w, W_GUEST, "GET", "/api/v2.0/projects/priv/summary", NULL);
    CHECK_INT_EQ(res.status, 200);
    j = test_api_json(&res);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "repo_count")), 0);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "guest_count")), 1);
    CHECK(json_is_object(json_object_get(j, "quota")));
    json_decref(j);
    http_fake_result_cleanup(&res);
    /* outsiders see a public project's repo_count only */
    test_api_req(&res, &w, W_OUT, "GET", "/api/v2.0/projects/pub/summary", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(res.body, "{\"repo_count\":0}");
    http_fake_result_cleanup(&res);
    CHECK_INT_EQ(test_api_status(&w, W_GUEST, "GET", "/api/v2.0/projects/priv/logs", NULL), 200);
    CHECK(test_api_err(&w, W_LIM, "GET", "/api/v2.0/projects/priv/logs", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_ANON, "GET", "/api/v2.0/projects/pub/logs", NULL, TEST_API_401));
    CHECK(test_api_err(&w, W_ROBOT_ALL, "GET", "/api/v2.0/projects/priv/logs", NULL, TEST_API_403));
}

static void test_router(void)
{
    struct http_fake_result res;

    test_api_req(&res, &w, W_ANON, "GET", "/api/v2.0/ping", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(res.body, "Pong");
    http_fake_result_cleanup(&res);
    /* NOAUTH: even bad credentials are not looked at */
    CHECK_INT_EQ(test_api_status(&w, W_ANON, "POST", "/api/v2.0/ping", "{}"), 405);
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/nope", NULL, 404, "NOT_FOUND", "not found"));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0", NULL, 404, "NOT_FOUND", "not found"));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0x/projects", NULL, 404, "NOT_FOUND",
                       "not found"));
    /* the root /metrics is the /metrics row */
    CHECK(test_api_err(&w, W_ANON, "GET", "/metrics", NULL, TEST_API_401));
    CHECK(test_api_err(&w, W_GUEST, "GET", "/metrics", NULL, 403, "FORBIDDEN",
                       "metrics are for system administrators"));
    test_api_req(&res, &w, W_ADMIN, "GET", "/metrics", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(http_fake_get(&res, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_ADMIN, "DELETE", "/api/v2.0/projects", NULL, 405, "METHOD_NOT_ALLOWED",
                       "method not allowed"));
    test_api_req(&res, &w, W_ANON, "GET", "/api/v2.0/projects", NULL);
    CHECK_INT_EQ(res.status, 200);
    http_fake_result_cleanup(&res);
    {
        struct http_fake *f = http_fake_new("GET", "/api/v2.0/projects");
        CHECK(f != NULL && http_fake_header(f, "Authorization", "Basic Z3Vlc3Q6d3Jvbmc=") == 0);
        CHECK(http_fake_run(&res, &api_mount_handler, &w.t.reg, f, 0) == 0);
        CHECK_INT_EQ(res.status, 401); /* guest:wrong */
        http_fake_result_cleanup(&res);
        http_fake_free(f);
    }
}

int main(void)
{
    test_api_open(&w);
    TEST_RUN(test_list);
    TEST_RUN(test_head);
    TEST_RUN(test_create);
    TEST_RUN(test_get);
    TEST_RUN(test_update);
    TEST_RUN(test_deletable_and_delete);
    TEST_RUN(test_summary_and_logs);
    TEST_RUN(test_router);
    test_api_close(&w);
    return test_summary();
}
