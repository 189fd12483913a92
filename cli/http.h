/* http.h - a small blocking HTTP client for the admin subcommands (libcurl): one JSON request,
 * the status, the body (capped), and the headers the management API pages with.
 * Not thread-safe across one struct http_resp; curl_global_init is done on first use. */
#ifndef BERTH_CLI_HTTP_H
#define BERTH_CLI_HTTP_H

#include <stdint.h>

#include "common/berr.h"
#include "common/buf.h"

#define HTTP_BODY_MAX (4 * 1024 * 1024)

struct http_resp {
    long status;
    struct buf body;    /* NUL-terminated */
    char location[512]; /* Location header, "" when none */
    int64_t total;      /* X-Total-Count, -1 when absent */
};

/* http_call sends method url with HTTP Basic user:pass (user NULL = anonymous) and json_body
 * (NULL = none) as application/json. *out is filled (http_resp_cleanup it, also on failure);
 * -1 with err set when no answer came (connection, TLS, timeout, body over HTTP_BODY_MAX). */
int http_call(struct http_resp *out, const char *method, const char *url, const char *user,
              const char *pass, const char *json_body, struct berr *err);
void http_resp_cleanup(struct http_resp *r);

#endif
