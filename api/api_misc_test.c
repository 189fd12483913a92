/* api_misc_test.c - /api/v2.0/health and /metrics through api_mount_handler: the storage
 * component and the metrics report the free bytes of the data directory's filesystem; and
 * api_fail_berr answers a full disk with 507 INSUFFICIENT_STORAGE in Harbor's error body. */
#include "api/test_api.h"

#include <errno.h>
#include <sys/statvfs.h>

#include "api/api_int.h"

static struct test_api w;

static void test_health_free_bytes(void)
{
    struct http_fake_result res;
    struct statvfs sv;
    json_t *j, *c, *storage = NULL;
    size_t i;
    uint64_t fs_total;

    CHECK_INT_EQ(statvfs(w.t.reg.cfg->data_dir, &sv), 0);
    fs_total = (uint64_t)sv.f_blocks * (uint64_t)sv.f_frsize;
    test_api_req(&res, &w, W_ANON, "GET", "/api/v2.0/health", NULL);
    CHECK_INT_EQ(res.status, 200);
    j = test_api_json(&res);
    json_array_foreach(json_object_get(j, "components"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "name")), "storage") == 0)
            storage = c;
    }
    CHECK(storage != NULL);
    if (storage != NULL) {
        json_int_t avail = json_integer_value(json_object_get(storage, "free_bytes"));
        json_int_t total = json_integer_value(json_object_get(storage, "total_bytes"));
        CHECK(json_is_integer(json_object_get(storage, "free_bytes")));
        CHECK(avail > 0);
        CHECK(total >= avail);
        CHECK_INT_EQ(total, (long long)fs_total);
        CHECK_STR_EQ(json_string_value(json_object_get(storage, "status")), "healthy");
    }
    json_decref(j);
    http_fake_result_cleanup(&res);
}

static void test_metrics_free_bytes(void)
{
    struct http_fake_result res;

    test_api_req(&res, &w, W_ADMIN, "GET", "/api/v2.0/metrics", NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK(res.body != NULL && strstr(res.body, "\nberth_storage_free_bytes ") != NULL);
    CHECK(res.body != NULL && strstr(res.body, "\nberth_storage_capacity_bytes ") != NULL);
    CHECK(res.body != NULL && strstr(res.body, "# TYPE berth_storage_free_bytes gauge\n") != NULL);
    http_fake_result_cleanup(&res);
}

static void test_fail_storage_full(void)
{
    struct http_reply out;
    struct api_call c;
    struct berr e;

    memset(&out, 0, sizeof(out));
    memset(&c, 0, sizeof(c));
    c.out = &out;
    berr_clear(&e);
    CHECK_INT_EQ(berr_sys(&e, ENOSPC, "test: write"), -1);
    CHECK_INT_EQ(api_fail_berr(&c, &e), 0);
    CHECK_INT_EQ(out.status, HTTP_INSUFFICIENT_STORAGE);
    CHECK(out.resp != NULL);
    /* the body: Harbor's error list with the code and the storage-full message */
    CHECK_INT_EQ(out.len, strlen("{\"errors\":[{\"code\":\"INSUFFICIENT_STORAGE\",\"message\":"
                                 "\"" BERR_STORAGE_FULL_MSG "\"}]}"));
    http_resp_free(out.resp);
}

int main(void)
{
    test_api_open(&w);
    TEST_RUN(test_health_free_bytes);
    TEST_RUN(test_metrics_free_bytes);
    TEST_RUN(test_fail_storage_full);
    test_api_close(&w);
    return test_summary();
}
