/* metrics_test.c - route classes from paths, and the Prometheus text of the HTTP metrics:
 * counters by class, method and status, cumulative histogram buckets, in-flight gauges. */
#include "http/metrics.h"

#include <stdio.h>
#include <string.h>

#include "common/test.h"

static void test_classes(void)
{
    CHECK_INT_EQ(http_metrics_class("/v2/library/app/manifests/1.0"), HTTP_RC_V2_MANIFEST);
    CHECK_INT_EQ(http_metrics_class("/v2/a/b/blobs/sha256:00"), HTTP_RC_V2_BLOB);
    CHECK_INT_EQ(http_metrics_class("/v2/a/blobs/uploads/"), HTTP_RC_V2_UPLOAD);
    CHECK_INT_EQ(http_metrics_class("/v2/a/blobs/uploads/123"), HTTP_RC_V2_UPLOAD);
    CHECK_INT_EQ(http_metrics_class("/v2/"), HTTP_RC_V2_OTHER);
    CHECK_INT_EQ(http_metrics_class("/v2"), HTTP_RC_V2_OTHER);
    CHECK_INT_EQ(http_metrics_class("/v2/_catalog"), HTTP_RC_V2_OTHER);
    CHECK_INT_EQ(http_metrics_class("/api/v2.0/projects"), HTTP_RC_API);
    CHECK_INT_EQ(http_metrics_class("/c/login"), HTTP_RC_API);
    CHECK_INT_EQ(http_metrics_class("/service/token"), HTTP_RC_TOKEN);
    CHECK_INT_EQ(http_metrics_class("/metrics"), HTTP_RC_METRICS);
    CHECK_INT_EQ(http_metrics_class("/"), HTTP_RC_UI);
    CHECK_INT_EQ(http_metrics_class("/app.js"), HTTP_RC_UI);
}

static void test_text(void)
{
    struct buf b;
    const char *s;

    http_metrics_begin(HTTP_RC_V2_MANIFEST);
    http_metrics_begin(HTTP_RC_V2_UPLOAD);
    CHECK_INT_EQ(http_metrics_uploads_in_flight(), 1);
    http_metrics_end(HTTP_RC_V2_MANIFEST, HTTP_GET, 200, 0, 1234, 3);
    http_metrics_begin(HTTP_RC_V2_MANIFEST);
    http_metrics_end(HTTP_RC_V2_MANIFEST, HTTP_GET, 304, 0, 0, 40);
    http_metrics_begin(HTTP_RC_V2_MANIFEST);
    http_metrics_end(HTTP_RC_V2_MANIFEST, HTTP_METHOD_OTHER, 599, 0, 0, 20000);
    http_metrics_end(HTTP_RC_V2_UPLOAD, HTTP_PATCH, 202, 5000, 0, 7);
    CHECK_INT_EQ(http_metrics_uploads_in_flight(), 0);
    buf_init(&b, 1 << 20);
    CHECK_INT_EQ(http_metrics_write(&b), 0);
    s = b.data != NULL ? b.data : "";
    CHECK(strstr(s, "# TYPE berth_http_requests_total counter\n") != NULL);
    CHECK(strstr(s, "berth_http_requests_total{class=\"v2_manifest\",method=\"GET\","
                    "status=\"200\"} 1\n") != NULL);
    CHECK(strstr(s, "berth_http_requests_total{class=\"v2_manifest\",method=\"GET\","
                    "status=\"304\"} 1\n") != NULL);
    CHECK(strstr(s, "berth_http_requests_total{class=\"v2_manifest\",method=\"OTHER\","
                    "status=\"other\"} 1\n") != NULL);
    CHECK(strstr(s, "berth_http_requests_total{class=\"api\"") == NULL); /* zero: not shown */
    /* cumulative buckets: 3 ms in le=0.005, 40 ms from le=0.05, 20 s only in +Inf */
    CHECK(strstr(s, "berth_http_request_duration_seconds_bucket{class=\"v2_manifest\","
                    "le=\"0.005\"} 1\n") != NULL);
    CHECK(strstr(s, "berth_http_request_duration_seconds_bucket{class=\"v2_manifest\","
                    "le=\"0.05\"} 2\n") != NULL);
    CHECK(strstr(s, "berth_http_request_duration_seconds_bucket{class=\"v2_manifest\","
                    "le=\"10\"} 2\n") != NULL);
    CHECK(strstr(s, "berth_http_request_duration_seconds_bucket{class=\"v2_manifest\","
                    "le=\"+Inf\"} 3\n") != NULL);
    CHECK(strstr(s, "berth_http_request_duration_seconds_count{class=\"v2_manifest\"} 3\n") !=
          NULL);
    CHECK(strstr(s, "berth_http_request_duration_seconds_sum{class=\"v2_manifest\"} 20.043\n") !=
          NULL);
    CHECK(strstr(s, "berth_http_response_bytes_total{class=\"v2_manifest\"} 1234\n") != NULL);
    CHECK(strstr(s, "berth_http_request_bytes_total{class=\"v2_upload\"} 5000\n") != NULL);
    CHECK(strstr(s, "berth_http_requests_in_flight{class=\"v2_manifest\"} 0\n") != NULL);
    CHECK(strstr(s, "berth_uploads_in_flight 0\n") != NULL);
    buf_cleanup(&b);
    /* a buffer too small for the text: -1, never a cut line passed off as whole */
    buf_init(&b, 64);
    CHECK(http_metrics_write(&b) < 0);
    buf_cleanup(&b);
}

int main(void)
{
    TEST_RUN(test_classes);
    TEST_RUN(test_text);
    return test_summary();
}
