/* api_robots_test.c - /api/v2.0/robots[/{robot_id}] and /projects/{p}/robots through
 * api_mount_handler: robots never manage robots, system robots are for sysadmins, project robots
 * for their projectAdmins (checked against the robot or the body loaded), {robot_id} parsing,
 * create / read / refresh / update / delete with exact answers. */
#include "api/test_api.h"

static struct test_api w;

#define PROJECT_ROBOT                                                                              \
    "{\"name\":\"ci\",\"level\":\"project\",\"duration\":-1,\"permissions\":[{\"kind\":"           \
    "\"project\",\"namespace\":\"priv\",\"access\":[{\"resource\":\"repository\",\"action\":"      \
    "\"pull\"}]}]}"
#define SYSTEM_ROBOT                                                                               \
    "{\"name\":\"sys\",\"level\":\"system\",\"permissions\":[{\"kind\":\"project\","               \
    "\"namespace\":\"*\",\"access\":[{\"resource\":\"repository\",\"action\":\"pull\"}]}]}"

static int64_t created_id;

static void test_who_may(void)
{
    CHECK(test_api_err(&w, W_ANON, "GET", "/api/v2.0/robots", NULL, TEST_API_401));
    CHECK(test_api_err(&w, W_ROBOT_ALL, "GET", "/api/v2.0/robots", NULL, 403, "FORBIDDEN",
                       "robot accounts may not manage robots"));
    CHECK(test_api_err(&w, W_ROBOT_ALL, "POST", "/api/v2.0/robots", SYSTEM_ROBOT, 403, "FORBIDDEN",
                       "robot accounts may not manage robots"));
    CHECK(test_api_err(&w, W_ROBOT_PULL, "DELETE", "/api/v2.0/robots/1", NULL, 403, "FORBIDDEN",
                       "robot accounts may not manage robots"));
    CHECK(test_api_err(&w, W_DEV, "GET", "/api/v2.0/robots", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_DEV, "POST", "/api/v2.0/robots", SYSTEM_ROBOT, TEST_API_403));
    CHECK(test_api_err(&w, W_MAINT, "POST", "/api/v2.0/robots", PROJECT_ROBOT, TEST_API_403));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/robots/abc", NULL, 400, "BAD_REQUEST",
                       "invalid robot id"));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/robots/0", NULL, 400, "BAD_REQUEST",
                       "invalid robot id"));
    CHECK(test_api_err(&w, W_ADMIN, "POST", "/api/v2.0/robots/1", "{}", 405, "METHOD_NOT_ALLOWED",
                       "method not allowed"));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/robots/1/x", NULL, 404, "NOT_FOUND",
                       "not found"));
}

static void test_list(void)
{
    struct http_fake_result res;
    char names[512];
    char target[128];

    test_api_req(&res, &w, W_ADMIN, "GET", "/api/v2.0/robots", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(test_api_names(&res, "name", names, sizeof(names)), "robot$puller,robot$cleaner");
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "2");
    http_fake_result_cleanup(&res);
    (void)snprintf(target, sizeof(target), "/api/v2.0/robots?q=Level%%3Dproject,ProjectID%%3D%lld",
                   (long long)w.priv_id);
    CHECK_INT_EQ(test_api_status(&w, W_GUEST, "GET", target, NULL), 200);
    CHECK(test_api_err(&w, W_LIM, "GET", target, NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_GUEST, "GET", "/api/v2.0/robots?q=Level%3Dproject", NULL, 400,
                       "BAD_REQUEST", "Level=project needs ProjectID"));
    /* a project's robots: every role but limitedGuest */
    for (int who = W_PA; who <= W_GUEST; who++)
        CHECK_INT_EQ(test_api_status(&w, (enum test_who)who, "GET",
                                     "/api/v2.0/projects/priv/robots", NULL),
                     200);
    CHECK(test_api_err(&w, W_LIM, "GET", "/api/v2.0/projects/priv/robots", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_ANON, "GET", "/api/v2.0/projects/pub/robots", NULL, TEST_API_401));
    CHECK(test_api_err(&w, W_OUT, "GET", "/api/v2.0/projects/pub/robots", NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_ROBOT_ALL, "GET", "/api/v2.0/projects/priv/robots", NULL,
                       TEST_API_403));
    CHECK(test_api_err(&w, W_PA, "POST", "/api/v2.0/projects/priv/robots", "{}", 405,
                       "METHOD_NOT_ALLOWED", "method not allowed"));
}

static void test_create(void)
{
    struct http_fake_result res;
    char loc[64];
    json_t *j;

    CHECK(test_api_err(&w, W_PA, "POST", "/api/v2.0/robots", "{\"name\":\"x\"}", 400, "BAD_REQUEST",
                       "level must be system or project"));
    CHECK(test_api_err(&w, W_PA, "POST", "/api/v2.0/robots",
                       "{\"name\":\"x\",\"level\":\"project\",\"duration\":0}", 400, "BAD_REQUEST",
                       "duration must be -1 (never) or 1..36500 days"));
    test_api_req(&res, &w, W_PA, "POST", "/api/v2.0/robots", PROJECT_ROBOT);
    CHECK_INT_EQ(res.status, 201);
    j = test_api_json(&res);
    created_id = (int64_t)json_integer_value(json_object_get(j, "id"));
    CHECK(created_id > 0);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "name")), "robot$priv+ci");
    CHECK(json_string_length(json_object_get(j, "secret")) == 32);
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "expires_at")), -1);
    json_decref(j);
    (void)snprintf(loc, sizeof(loc), "/api/v2.0/robots/%lld", (long long)created_id);
    CHECK_STR_EQ(http_fake_get(&res, "Location"), loc);
    http_fake_result_cleanup(&res);
    CHECK_INT_EQ(test_api_status(&w, W_PA, "POST", "/api/v2.0/robots", PROJECT_ROBOT), 409);
    CHECK_INT_EQ(test_api_status(&w, W_ADMIN, "POST", "/api/v2.0/robots", SYSTEM_ROBOT), 201);
}

static void test_one(void)
{
    struct http_fake_result res;
    char target[64];
    json_t *j;

    (void)snprintf(target, sizeof(target), "/api/v2.0/robots/%lld", (long long)created_id);
    test_api_req(&res, &w, W_GUEST, "GET", target, NULL);
    CHECK_INT_EQ(res.status, 200);
    j = test_api_json(&res);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "name")), "robot$priv+ci");
    CHECK_STR_EQ(json_string_value(json_object_get(j, "level")), "project");
    CHECK(json_object_get(j, "secret") == NULL);
    json_decref(j);
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_LIM, "GET", target, NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_OUT, "GET", target, NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_MAINT, "DELETE", target, NULL, TEST_API_403));
    CHECK(test_api_err(&w, W_MAINT, "PATCH", target, "{}", TEST_API_403));
    /* the system robots are the sysadmins' */
    (void)snprintf(target, sizeof(target), "/api/v2.0/robots/%lld",
                   (long long)w.robot_id[W_ROBOT_PULL]);
    CHECK(test_api_err(&w, W_PA, "GET", target, NULL, TEST_API_403));
    CHECK_INT_EQ(test_api_status(&w, W_ADMIN, "GET", target, NULL), 200);
    (void)snprintf(target, sizeof(target), "/api/v2.0/robots/%lld", (long long)created_id);
    test_api_req(&res, &w, W_PA, "PATCH", target, "{}");
    CHECK_INT_EQ(res.status, 200);
    j = test_api_json(&res);
    CHECK(json_string_length(json_object_get(j, "secret")) == 32);
    json_decref(j);
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(&w, W_PA, "PATCH", target, "{\"secret\":\"short\"}", 400, "BAD_REQUEST",
                       "secret: password must be 8-128 characters with at least one "
                       "upper-case letter, one lower-case letter and one digit"));
    CHECK_INT_EQ(test_api_status(&w, W_PA, "DELETE", target, NULL), 200);
    CHECK(test_api_err(&w, W_PA, "GET", target, NULL, 404, "NOT_FOUND", "robot account not found"));
    CHECK(test_api_err(&w, W_ADMIN, "GET", "/api/v2.0/robots/9999", NULL, 404, "NOT_FOUND",
                       "robot account not found"));
}

int main(void)
{
    test_api_open(&w);
    TEST_RUN(test_who_may);
    TEST_RUN(test_list);
    TEST_RUN(test_create);
    TEST_RUN(test_one);
    test_api_close(&w);
    return test_summary();
}
