/* metrics.h - HTTP request metrics kept by the server (http/server.c) for Prometheus: requests
 * by route class, method and status, latency histograms, bytes served and received, requests
 * in flight. Process-wide atomic counters; every call is thread-safe and never blocks. */
#ifndef BERTH_HTTP_METRICS_H
#define BERTH_HTTP_METRICS_H

#include <stdint.h>

#include "common/buf.h"
#include "http/http.h"

/* Route classes: what a request was for, from its path alone. */
enum http_route_class {
    HTTP_RC_V2_MANIFEST,
    HTTP_RC_V2_BLOB,
    HTTP_RC_V2_UPLOAD,
    HTTP_RC_V2_OTHER,
    HTTP_RC_API,
    HTTP_RC_TOKEN,
    HTTP_RC_METRICS,
    HTTP_RC_UI,
    HTTP_RC_N
};

/* http_metrics_class: the route class of path (never NULL). */
enum http_route_class http_metrics_class(const char *path);
/* http_metrics_begin counts a request of class rc as in flight; http_metrics_end ends it with
 * its method, status, bytes and duration. */
void http_metrics_begin(enum http_route_class rc);
void http_metrics_end(enum http_route_class rc, enum http_method m, unsigned status,
                      uint64_t bytes_in, uint64_t bytes_out, int64_t ms);
/* http_metrics_uploads_in_flight: requests of class HTTP_RC_V2_UPLOAD being served now. */
uint64_t http_metrics_uploads_in_flight(void);
/* http_metrics_write appends the HTTP metrics in Prometheus text format 0.0.4; -1 when b's cap
 * is reached. */
int http_metrics_write(struct buf *b);

#endif
