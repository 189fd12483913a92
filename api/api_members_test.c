/* api_members_test.c - /api/v2.0/projects/{p}/members[/{mid}] through api_mount_handler: who may
 * list, read, add, change and remove members (the router's checks, every role), {mid} parsing,
 * body refusals, and the member read back after each change. */
#include "api/test_api.h"

static struct test_api w;

static void test_list(void)
{
    struct http_fake_result res;
    char names[256];

    test_api_req(&res, &w, W_GUEST, "GET", "/api/v2.0/projects/priv/members", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "5");
    CHECK_STR_EQ(test_api_names(&res, "entity_name", names, sizeof(names)),
                 "pa,maint,dev,guest,lim");
    http_fake_result_cleanup(&res);
    test_api_req(&res, &w, W_ADMIN, "GET", "/api/v2.0/projects/priv/members?entityname=ma", NULL);
    CHECK_STR_EQ(test_api_names(&res, "entity_name", names, sizeof(names)), "maint");
    http_fake_result_cleanup(&res);
    for (int who = W_PA; who <= W_GUEST; who++)
        CHECK_INT_EQ(test_api_status(&w, (enum test_who)who, "GET",
                                     "/api/v2.0/projects/priv/members", NULL),
                     200);
    CHECK(test_api_err(&w, W_LIM, "GET", "/api/v2.0/projects/priv/members", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_OUT, "GET", "/api/v2.0/projects/priv/members", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_ANON, "GET", "/api/v2.0/projects/priv/members", NULL, TEST_API_401));
    /* a public project is readable, its members are not */
    CHECK(test_api_err(&w, W_ANON, "GET", "/api/v2.0/projects/pub/members", NULL, TEST_API_401));
    CHECK(test_api_err(&w, W_OUT, "GET", "/api/v2.0/projects/pub/members", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_ROBOT_ALL, "GET", "/api/v2.0/projects/priv/members", NULL,
                       TEST_API_403));
    CHECK(test_api_err(&w, W_GUEST, "GET", "/api/v2.0/projects/priv/members?sort=name", NULL, 400,
                       "BAD_REQUEST", "unknown sort key"));
}

static int64_t member_id_of(const char *name)
{
    struct http_fake_result res;
    char target[128];
    int64_t id = 0;
    json_t *j;

    (void)snprintf(target, sizeof(target), "/api/v2.0/projects/priv/members?entityname=%s", name);
    test_api_req(&res, &w, W_ADMIN, "GET", target, NULL);
    j = test_api_json(&res);
    id = (int64_t)json_integer_value(json_object_get(json_array_get(j, 0), "id"));
    json_decref(j);
    http_fake_result_cleanup(&res);
    return id;
}

static void test_add(void)
{
    struct http_fake_result res;
    const char *add_out = "{\"role_id\":3,\"member_user\":{\"username\":\"out\"}}";
    char loc[128];

    for (int who = W_MAINT; who <= W_LIM; who++)
        CHECK(test_api_err(&w, (enum test_who)who, "POST", "/api/v2.0/projects/priv/members",
                           add_out, TEST_API_403));
    CHECK(test_api_err(&w, W_ANON, "POST", "/api/v2.0/projects/priv/members", add_out,
                       TEST_API_401));
    CHECK(test_api_err(&w, W_PA, "POST", "/api/v2.0/projects/priv/members",
                       "{\"role_id\":9,\"member_user\":{\"username\":\"out\"}}", 400, "BAD_REQUEST",
                       "role_id must be 1..5"));
    CHECK(test_api_err(&w, W_PA, "POST", "/api/v2.0/projects/priv/members",
                       "{\"role_id\":3,\"member_user\":{\"username\":\"nobody\"}}", 404,
                       "NOT_FOUND", "user nobody not found"));
    CHECK(test_api_err(&w, W_PA, "POST", "/api/v2.0/projects/priv/members",
                       "{\"role_id\":3,\"member_group\":{\"id\":1}}", 400, "BAD_REQUEST",
                       "user groups are not supported"));
    CHECK(test_api_err(&w, W_PA, "POST", "/api/v2.0/projects/priv/members", "{\"role_id\":\"3\"}",
                       400, "BAD_REQUEST", "role_id must be an integer"));
    test_api_req(&res, &w, W_PA, "POST", "/api/v2.0/projects/priv/members", add_out);
    CHECK_INT_EQ(res.status, 201);
    (void)snprintf(loc, sizeof(loc), "/api/v2.0/projects/%lld/members/%lld", (long long)w.priv_id,
                   (long long)member_id_of("out"));
    CHECK_STR_EQ(http_fake_get(&res, "Location"), loc);
    http_fake_result_cleanup(&res);
    /* out is a guest now: it reads the project and its members */
    CHECK_INT_EQ(test_api_status(&w, W_OUT, "GET", "/api/v2.0/projects/priv/members", NULL), 200);
    CHECK_INT_EQ(test_api_status(&w, W_PA, "POST", "/api/v2.0/projects/priv/members", add_out),
                 409);
}

static void test_one(void)
{
    struct http_fake_result res;
    int64_t mid = member_id_of("out");
    char target[128];
    char want[256];

    (void)snprintf(target, sizeof(target), "/api/v2.0/projects/priv/members/%lld", (long long)mid);
    CHECK(test_api_err(&w, W_GUEST, "GET", "/api/v2.0/projects/priv/members/abc", NULL, 400,
                       "BAD_REQUEST", "invalid member id"));
    CHECK(test_api_err(&w, W_GUEST, "GET", "/api/v2.0/projects/priv/members/999", NULL, 404,
                       "NOT_FOUND", "member 999 not found"));
    test_api_req(&res, &w, W_GUEST, "GET", target, NULL);
    CHECK_INT_EQ(res.status, 200);
    (void)snprintf(want, sizeof(want),
                   "{\"id\":%lld,\"project_id\":%lld,\"entity_name\":\"out\",\"role_name\":"
                   "\"guest\",\"role_id\":3,\"entity_id\":%lld,\"entity_type\":\"u\"}",
                   (long long)mid, (long long)w.priv_id, (long long)w.uid[W_OUT]);
    CHECK_STR_EQ(res.body, want);
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_LIM, "GET", target, NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_MAINT, "PUT", target, "{\"role_id\":2}", TEST_API_403));
    CHECK(test_api_err(&w, W_PA, "PUT", target, "{}", 400, "BAD_REQUEST", "role_id must be 1..5"));
    CHECK_INT_EQ(test_api_status(&w, W_PA, "PUT", target, "{\"role_id\":2}"), 200);
    test_api_req(&res, &w, W_ADMIN, "GET", target, NULL);
    CHECK(res.body != NULL &&
          strstr(res.body, "\"role_name\":\"developer\",\"role_id\":2") != NULL);
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_DEV, "DELETE", target, NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_PA, "PATCH", target, "{}", 405, "METHOD_NOT_ALLOWED",
                       "method not allowed"));
    CHECK_INT_EQ(test_api_status(&w, W_PA, "DELETE", target, NULL), 200);
    (void)snprintf(want, sizeof(want), "member %lld not found", (long long)mid);
    CHECK(test_api_err(&w, W_ADMIN, "GET", target, NULL, 404, "NOT_FOUND", want));
    CHECK(test_api_err(&w, W_OUT, "GET", "/api/v2.0/projects/priv/members", NULL, TEST_API_403));
}

int main(void)
{
    test_api_open(&w);
    TEST_RUN(test_list);
    TEST_RUN(test_add);
    TEST_RUN(test_one);
    test_api_close(&w);
    return test_summary();
}
