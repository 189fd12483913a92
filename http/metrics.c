/* metrics.c - HTTP request metrics for Prometheus, kept in process-wide atomic counters.
 *
 * Invariants:
 *   1. Every request that began is ended once (server.c calls begin on its first call and end
 *      in the completion callback), so in_flight returns to 0 when the server is idle.
 *   2. Status codes outside `codes` are counted under the last slot, shown as status="other";
 *      methods outside GET..OPTIONS as method="OTHER".
 *   3. A histogram's buckets are cumulative when written (Prometheus' le semantics); counts are
 *      kept per bucket and summed at write time, so a scrape may see a request counted in
 *      _count but not yet in a bucket (never the reverse order for one request's own fields
 *      beyond that race, which Prometheus tolerates).
 * Thread-safety: `_Atomic` counters only (STYLE 7), relaxed updates. */
#include "http/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

static const unsigned codes[] = {200, 201, 202, 204, 206, 301, 302, 304, 307, 308, 400,
                                 401, 403, 404, 405, 409, 412, 413, 416, 429, 500, 503};
#define NCODES (sizeof(codes) / sizeof(codes[0]) + 1)
#define NMETHODS (HTTP_METHOD_OTHER + 1)

static const int64_t bounds_ms[] = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
static const char *const bounds_s[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                       "0.5",   "1",    "2.5",   "5",    "10"};
#define NBOUNDS (sizeof(bounds_ms) / sizeof(bounds_ms[0]))

static const char *const class_names[HTTP_RC_N] = {
        "v2_manifest", "v2_blob", "v2_upload", "v2_other", "api", "token", "metrics", "ui"};

static _Atomic uint64_t requests[HTTP_RC_N][NMETHODS][NCODES];
static _Atomic uint64_t hist[HTTP_RC_N][NBOUNDS + 1];
static _Atomic uint64_t hist_sum_ms[HTTP_RC_N];
static _Atomic uint64_t bytes_in_total[HTTP_RC_N];
static _Atomic uint64_t bytes_out_total[HTTP_RC_N];
static _Atomic uint64_t in_flight[HTTP_RC_N];

enum http_route_class http_metrics_class(const char *path)
{
    if (str_has_prefix(path, "/v2/")) {
        if (strstr(path, "/manifests/") != NULL)
            return HTTP_RC_V2_MANIFEST;
        if (strstr(path, "/blobs/uploads") != NULL)
            return HTTP_RC_V2_UPLOAD;
        if (strstr(path, "/blobs/") != NULL)
            return HTTP_RC_V2_BLOB;
        return HTTP_RC_V2_OTHER;
    }
    if (strcmp(path, "/v2") == 0)
        return HTTP_RC_V2_OTHER;
    if (str_has_prefix(path, "/api/") || str_has_prefix(path, "/c/"))
        return HTTP_RC_API;
    if (str_has_prefix(path, "/service/token"))
        return HTTP_RC_TOKEN;
    if (strcmp(path, "/metrics") == 0)
        return HTTP_RC_METRICS;
    return HTTP_RC_UI;
}

void http_metrics_begin(enum http_route_class rc)
{
    atomic_fetch_add_explicit(&in_flight[rc], 1, memory_order_relaxed);
}

void http_metrics_end(enum http_route_class rc, enum http_method m, unsigned status,
                      uint64_t bytes_in, uint64_t bytes_out, int64_t ms)
{
    size_t ci = NCODES - 1;
    size_t bi = NBOUNDS;
    size_t mi = (size_t)m < NMETHODS ? (size_t)m : NMETHODS - 1;

    for (size_t i = 0; i + 1 < NCODES; i++) {
        if (codes[i] == status) {
            ci = i;
            break;
        }
    }
    for (size_t i = 0; i < NBOUNDS; i++) {
        if (ms <= bounds_ms[i]) {
            bi = i;
            break;
        }
    }
    atomic_fetch_add_explicit(&requests[rc][mi][ci], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&hist[rc][bi], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&hist_sum_ms[rc], ms > 0 ? (uint64_t)ms : 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&bytes_in_total[rc], bytes_in, memory_order_relaxed);
    atomic_fetch_add_explicit(&bytes_out_total[rc], bytes_out, memory_order_relaxed);
    atomic_fetch_sub_explicit(&in_flight[rc], 1, memory_order_relaxed);
}

uint64_t http_metrics_uploads_in_flight(void)
{
    return atomic_load_explicit(&in_flight[HTTP_RC_V2_UPLOAD], memory_order_relaxed);
}

static int write_requests(struct buf *b)
{
    char code[8];
    int rc = buf_appends(b, "# HELP berth_http_requests_total HTTP requests answered, by route "
                            "class, method and status.\n"
                            "# TYPE berth_http_requests_total counter\n");

    for (size_t c = 0; rc == 0 && c < HTTP_RC_N; c++) {
        for (size_t m = 0; rc == 0 && m < NMETHODS; m++) {
            for (size_t s = 0; rc == 0 && s < NCODES; s++) {
                uint64_t v = atomic_load_explicit(&requests[c][m][s], memory_order_relaxed);

                if (v == 0)
                    continue;
                if (s + 1 < NCODES)
                    (void)snprintf(code, sizeof(code), "%u", codes[s]); /* 3 digits */
                else
                    memcpy(code, "other", 6);
                rc = buf_printf(b,
                                "berth_http_requests_total{class=\"%s\",method=\"%s\","
                                "status=\"%s\"} %llu\n",
                                class_names[c], http_method_name((enum http_method)m), code,
                                (unsigned long long)v);
            }
        }
    }
    return rc;
}

static int write_histograms(struct buf *b)
{
    int rc = buf_appends(b, "# HELP berth_http_request_duration_seconds Time from the first byte "
                            "of a request to the end of its answer, by route class.\n"
                            "# TYPE berth_http_request_duration_seconds histogram\n");

    for (size_t c = 0; rc == 0 && c < HTTP_RC_N; c++) {
        uint64_t cum = 0;

        for (size_t i = 0; rc == 0 && i <= NBOUNDS; i++) {
            cum += atomic_load_explicit(&hist[c][i], memory_order_relaxed);
            rc = buf_printf(b,
                            "berth_http_request_duration_seconds_bucket{class=\"%s\",le=\"%s\"} "
                            "%llu\n",
                            class_names[c], i < NBOUNDS ? bounds_s[i] : "+Inf",
                            (unsigned long long)cum);
        }
        if (rc == 0)
            rc = buf_printf(b,
                            "berth_http_request_duration_seconds_sum{class=\"%s\"} %.3f\n"
                            "berth_http_request_duration_seconds_count{class=\"%s\"} %llu\n",
                            class_names[c],
                            (double)atomic_load_explicit(&hist_sum_ms[c], memory_order_relaxed) /
                                    1000.0,
                            class_names[c], (unsigned long long)cum);
    }
    return rc;
}

static int write_per_class(struct buf *b, const char *name, const char *help, const char *type,
                           _Atomic uint64_t *v)
{
    int rc = buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);

    for (size_t c = 0; rc == 0 && c < HTTP_RC_N; c++)
        rc = buf_printf(b, "%s{class=\"%s\"} %llu\n", name, class_names[c],
                        (unsigned long long)atomic_load_explicit(&v[c], memory_order_relaxed));
    return rc;
}

int http_metrics_write(struct buf *b)
{
    int rc = write_requests(b);

    if (rc == 0)
        rc = write_histograms(b);
    if (rc == 0)
        rc = write_per_class(b, "berth_http_response_bytes_total",
                             "Bytes of response bodies served, by route class.", "counter",
                             bytes_out_total);
    if (rc == 0)
        rc = write_per_class(b, "berth_http_request_bytes_total",
                             "Bytes of request bodies received, by route class.", "counter",
                             bytes_in_total);
    if (rc == 0)
        rc = write_per_class(b, "berth_http_requests_in_flight",
                             "Requests being served now, by route class.", "gauge", in_flight);
    if (rc == 0)
        rc = buf_printf(b,
                        "# HELP berth_uploads_in_flight Blob upload requests being served now.\n"
                        "# TYPE berth_uploads_in_flight gauge\nberth_uploads_in_flight %llu\n",
                        (unsigned long long)http_metrics_uploads_in_flight());
    return rc;
}
