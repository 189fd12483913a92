/* api_quotas_test.c - /api/v2.0/quotas[/{id}] through api_mount_handler: the list and updates are
 * for sysadmins (the router), one quota for the members of its project (the handler asks the
 * policy on the quota's project), {id} parsing, update bodies, with exact answers. */
#include "api/test_api.h"

static struct test_api w;
static char priv_quota[64];

/* find_quota: the target of priv's quota, from the sysadmin's list */
static void find_quota(void)
{
    struct http_fake_result res;
    json_t *j;
    size_t i;
    json_t *v;

    test_api_req(&res, &w, W_ADMIN, "GET", "/api/v2.0/quotas?page_size=100", NULL);
    CHECK_INT_EQ(res.status, 200);
    j = test_api_json(&res);
    json_array_foreach(j, i, v)
    {
        if (json_integer_value(json_object_get(json_object_get(v, "ref"), "id")) == w.priv_id)
            (void)snprintf(priv_quota, sizeof(priv_quota), "/api/v2.0/quotas/%lld",
                           (long long)json_integer_value(json_object_get(v, "id")));
    }
    json_decref(j);
    http_fake_result_cleanup(&res);
    CHECK(priv_quota[0] != '\0');
}

static void test_list(void)
{
    CHECK(test_api_err(&w, W_ANON, "GET", "/api/v2.0/quotas", NULL, TEST_API_401));
    CHECK(test_api_err(&w, W_PA, "GET", "/api/v2.0/quotas", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_ROBOT_ALL, "GET", "/api/v2.0/quotas", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/quotas?q=name%3Dx", NULL, 400, "BAD_REQUEST",
                       "q: unknown key 'name'"));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/quotas?reference=user", NULL, 400,
                       "BAD_REQUEST", "reference must be project"));
    CHECK(test_api_err(&w, W_ADMIN, "POST", "/api/v2.0/quotas", "{}", 405, "METHOD_NOT_ALLOWED",
                       "method not allowed"));
}

static void test_get(void)
{
    struct http_fake_result res;
    json_t *j;

    /* every member of the quota's project, limitedGuest included */
    for (int who = W_PA; who <= W_LIM; who++)
        CHECK_INT_EQ(test_api_status(&w, (enum test_who)who, "GET", priv_quota, NULL), 200);
    test_api_req(&res, &w, W_GUEST, "GET", priv_quota, NULL);
    j = test_api_json(&res);
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(j, "ref"), "name")), "priv");
    CHECK_INT_EQ(json_integer_value(json_object_get(json_object_get(j, "hard"), "storage")), -1);
    json_decref(j);
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_OUT, "GET", priv_quota, NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_ROBOT_ALL, "GET", priv_quota, NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_ANON, "GET", priv_quota, NULL, TEST_API_401));
    CHECK(test_api_err(&w, W_GUEST, "GET", "/api/v2.0/quotas/x", NULL, 400, "BAD_REQUEST",
                       "the quota id must be a positive integer"));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/quotas/9999", NULL, 404, "NOT_FOUND",
                       "quota 9999 not found"));
}

static void test_put(void)
{
    struct http_fake_result res;

    CHECK(test_api_err(&w, W_PA, "PUT", priv_quota, "{\"hard\":{\"storage\":10}}", TEST_API_403));
    CHECK(test_api_err(&w, W_ANON, "PUT", priv_quota, "{\"hard\":{\"storage\":10}}", TEST_API_401));
    CHECK(test_api_err(&w, W_ADMIN, "PUT", priv_quota, "{\"hard\":{\"storage\":0}}", 400,
                       "BAD_REQUEST",
                       "hard.storage must be -1 (unlimited) or a positive byte count"));
    CHECK(test_api_err(&w, W_ADMIN, "PUT", priv_quota, "{}", 400, "BAD_REQUEST",
                       "hard.storage must be an integer"));
    test_api_req(&res, &w, W_ADMIN, "PUT", priv_quota, "{\"hard\":{\"storage\":1048576}}");
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(res.body, "{\"hard\":{\"storage\":1048576},\"used\":{\"storage\":0}}");
    http_fake_result_cleanup(&res);
    test_api_req(&res, &w, W_LIM, "GET", priv_quota, NULL);
    CHECK(res.body != NULL && strstr(res.body, "\"hard\":{\"storage\":1048576}") != NULL);
    http_fake_result_cleanup(&res);
}

int main(void)
{
    test_api_open(&w);
    find_quota();
    TEST_RUN(test_list);
    TEST_RUN(test_get);
    TEST_RUN(test_put);
    test_api_close(&w);
    return test_summary();
}
