/* http.c - blocking libcurl requests for the admin subcommands.
 *
 * Invariants: every request has a connect and total timeout; the body is capped at
 * HTTP_BODY_MAX (the transfer is aborted past it); credentials go through CURLOPT_USERNAME and
 * CURLOPT_PASSWORD, never into a URL or a log. No shared state beyond curl's global init. */
#include "cli/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "common/parse.h"

#define HTTP_TIMEOUT_S 60L
#define HTTP_CONNECT_TIMEOUT_S 10L

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct http_resp *r = ctx;

    if (buf_append(&r->body, p, size * n) < 0)
        return 0; /* aborts the transfer: over the cap */
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct http_resp *r = ctx;
    size_t len = size * n;
    size_t klen;
    const char *v;
    size_t vlen;

    if (len > 9 && strncasecmp(p, "Location:", 9) == 0)
        klen = 9;
    else if (len > 14 && strncasecmp(p, "X-Total-Count:", 14) == 0)
        klen = 14;
    else
        return len;
    v = p + klen;
    vlen = len - klen;
    while (vlen > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
    if (klen == 9) {
        if (vlen < sizeof(r->location)) {
            memcpy(r->location, v, vlen);
            r->location[vlen] = '\0';
        }
    } else {
        int64_t t;
        if (parse_i64_range(&t, v, vlen, 0, INT64_MAX) == 0)
            r->total = t;
    }
    return len;
}

int http_call(struct http_resp *out, const char *method, const char *url, const char *user,
              const char *pass, const char *json_body, struct berr *err)
{
    static int inited;
    struct curl_slist *hdrs = NULL;
    CURLcode cc;
    CURL *h;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    buf_init(&out->body, HTTP_BODY_MAX);
    out->total = -1;
    if (!inited) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return berr_set(err, BERR_INTERNAL, "cannot initialise libcurl");
        inited = 1;
    }
    h = curl_easy_init();
    if (h == NULL)
        return berr_set(err, BERR_INTERNAL, "cannot initialise libcurl");
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (hdrs != NULL && json_body != NULL)
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    if (hdrs == NULL) {
        curl_easy_cleanup(h);
        return berr_set(err, BERR_INTERNAL, "out of memory");
    }
    if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEDATA, out) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HEADERDATA, out) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TIMEOUT, HTTP_TIMEOUT_S) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, HTTP_CONNECT_TIMEOUT_S) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
        rc = berr_set(err, BERR_INTERNAL, "cannot set up the request");
    if (rc == 0 && json_body != NULL &&
        (curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body) != CURLE_OK ||
         curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(json_body)) != CURLE_OK))
        rc = berr_set(err, BERR_INTERNAL, "cannot set up the request");
    if (rc == 0 && user != NULL &&
        (curl_easy_setopt(h, CURLOPT_USERNAME, user) != CURLE_OK ||
         curl_easy_setopt(h, CURLOPT_PASSWORD, pass != NULL ? pass : "") != CURLE_OK))
        rc = berr_set(err, BERR_INTERNAL, "cannot set up the request");
    if (rc == 0) {
        cc = curl_easy_perform(h);
        if (cc != CURLE_OK)
            rc = berr_set(err, BERR_INTERNAL, "%s %s: %s", method, url, curl_easy_strerror(cc));
        else if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status) != CURLE_OK)
            rc = berr_set(err, BERR_INTERNAL, "no status from %s", url);
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return rc;
}

void http_resp_cleanup(struct http_resp *r)
{
    buf_cleanup(&r->body);
}
