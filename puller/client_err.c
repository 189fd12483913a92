/* client_err.c - the registry client's failures, worded for the user.
 *
 * client_fail_status turns a final HTTP status into a struct berr whose code the caller acts on
 * (BERR_UNAUTHORIZED makes cli/pull try the next credential); client_transport_error does the
 * same for a curl failure and says what to do about it (--ca-file, --insecure, --plain-http);
 * client_curl_retryable tells the request loop which transport failures to retry.
 *   1. No message carries a secret, a header value or a query string: URLs are cut to their
 *      path, and an OCI error body gives only its first message, non-printable bytes replaced.
 *   2. The reason comes first, so a message cut to fit struct berr still says it.
 * No state of its own. */
#include "puller/client.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/util.h"
#include "puller/client_int.h"

/* client_curl_retryable: transport failures worth another attempt. A TLS handshake that failed because
 * the peer does not speak TLS at all ("wrong version number": a plain-HTTP port) fails the same
 * way every time, so it is not retried. */
bool client_curl_retryable(CURLcode rc, const char *detail)
{
    if (rc == CURLE_SSL_CONNECT_ERROR && strstr(detail, "wrong version number") != NULL)
        return false;
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

/* error_detail extracts a safe, short message from an OCI error body */
static void error_detail(char *out, size_t cap, const struct buf *body)
{
    json_t *root, *errs, *first, *msg;
    const char *s;
    size_t n = 0;

    out[0] = '\0';
    if (body->len == 0)
        return;
    root = json_loadb(body->data, body->len, 0, NULL);
    if (root == NULL)
        return;
    errs = json_object_get(root, "errors");
    first = json_is_array(errs) ? json_array_get(errs, 0) : NULL;
    msg = first != NULL ? json_object_get(first, "message") : NULL;
    s = json_is_string(msg) ? json_string_value(msg) : NULL;
    if (s != NULL) {
        for (; *s != '\0' && n + 1 < cap; s++)
            out[n++] = isprint((unsigned char)*s) ? *s : '?';
        out[n] = '\0';
    }
    json_decref(root);
}

/* url_path: the part of an absolute URL after its origin, without query or fragment */
static void url_path(char *out, size_t cap, const char *url)
{
    const char *p = strstr(url, "://");

    p = p != NULL ? p + 3 : url;
    p += strcspn(p, "/?#");
    /* a cut path is still a fair pointer in a message */
    (void)snprintf(out, cap, "%.*s", (int)strcspn(p, "?#"), p);
}

/* client_transport_error fills err for a transfer that failed after `attempts` retries. The reason
 * comes first so that a cut message keeps it; TLS failures say what to do about them
 * (--ca-file, --insecure, --plain-http). detail is curl's error buffer (may be empty). */
int client_transport_error(const struct client *c, const char *url, CURLcode cc, const char *detail,
                           int attempts, struct berr *err)
{
    const char *d = detail[0] != '\0' ? detail : curl_easy_strerror(cc);
    const char *prefix = "SSL certificate problem: ";
    bool plain = str_has_prefix(c->base, "http://");
    char path[96], tries[48] = "";

    if (str_has_prefix(d, prefix))
        d += strlen(prefix);
    switch (cc) {
    case CURLE_PEER_FAILED_VERIFICATION:
        return berr_set(err, BERR_INTERNAL,
                        "TLS certificate not trusted; add its CA with --ca-file or use "
                        "--insecure (%s)",
                        d); /* advice first: a long curl detail is what the cap may cut */
    case CURLE_SSL_CACERT_BADFILE:
        return berr_set(err, BERR_INTERNAL, "cannot use the CA file given with --ca-file (%s)", d);
    case CURLE_SSL_CONNECT_ERROR:
        if (strstr(d, "wrong version number") != NULL)
            return berr_set(err, BERR_INTERNAL,
                            "TLS handshake failed: the registry does not speak TLS on this port "
                            "(plain HTTP? use --plain-http)");
        break;
    default:
        break;
    }
    url_path(path, sizeof(path), url);
    if (attempts > 0)
        (void)snprintf(tries, sizeof(tries), "; gave up after %d %s", attempts,
                       attempts == 1 ? "retry" : "retries"); /* fits: a number and words */
    return berr_set(err, BERR_INTERNAL, "%s%s%s (GET %s)", d, tries,
                    plain && (cc == CURLE_GOT_NOTHING || cc == CURLE_RECV_ERROR)
                            ? "; a TLS port? drop --plain-http"
                            : "",
                    path);
}

/* client_note_retries appends how many retries were spent to a final error, so a user can tell a
 * flaky registry from a refusal. */
void client_note_retries(struct berr *err, int attempts)
{
    size_t len;

    if (err == NULL || attempts <= 0)
        return;
    len = strlen(err->msg);
    /* a cut suffix still says enough; the message stays NUL-terminated */
    (void)snprintf(err->msg + len, sizeof(err->msg) - len, " (gave up after %d %s)", attempts,
                   attempts == 1 ? "retry" : "retries");
}

int client_fail_status(struct client *c, struct req *r, long status, bool auth_tried,
                       struct berr *err)
{
    char detail[96];
    const char *sep;

    error_detail(detail, sizeof(detail), &r->errbody);
    sep = detail[0] != '\0' ? ": " : "";
    if (r->kind == REQ_TOKEN) {
        if (status == 401 || status == 403)
            return berr_set(err, BERR_UNAUTHORIZED, "token service refused %s (HTTP %ld)",
                            c->username != NULL ? "the credentials" : "anonymous access", status);
        return berr_set(err, BERR_UNAUTHORIZED, "token service answered HTTP %ld", status);
    }
    switch (status) {
    case 401:
        if (c->auth == AUTH_BASIC)
            return berr_set(err, BERR_UNAUTHORIZED, "registry refused the credentials%s%s", sep,
                            detail);
        if (c->auth == AUTH_BEARER)
            return berr_set(err, BERR_UNAUTHORIZED, "registry refused the token%s%s%s", sep, detail,
                            c->username == NULL ? " (anonymous)" : "");
        return berr_set(err, BERR_UNAUTHORIZED, "authentication required%s%s%s", sep, detail,
                        auth_tried ? "" : " (no challenge answered)");
    case 403:
        return berr_set(err, BERR_DENIED, "access denied%s%s", sep, detail);
    case 404:
        if (strstr(r->errbody.data != NULL ? r->errbody.data : "", "NAME_UNKNOWN") != NULL)
            return berr_set(err, BERR_NAME_UNKNOWN, "repository not found%s%s", sep, detail);
        if (r->kind == REQ_BLOB)
            return berr_set(err, BERR_BLOB_UNKNOWN, "blob not found%s%s", sep, detail);
        return berr_set(err, BERR_MANIFEST_UNKNOWN, "manifest not found%s%s", sep, detail);
    case 400:
        /* Go's TLS server answers a plain-HTTP request with this 400 */
        if (str_has_prefix(c->base, "http://") &&
            strstr(r->errbody.data != NULL ? r->errbody.data : "", "HTTPS server") != NULL)
            return berr_set(err, BERR_INTERNAL,
                            "the registry speaks TLS on this port; drop --plain-http");
        return berr_set(err, BERR_INTERNAL, "registry answered HTTP 400%s%s", sep, detail);
    case 416:
        return berr_set(err, BERR_RANGE_INVALID, "registry refused the range");
    case 429:
        return berr_set(err, BERR_TOOMANYREQUESTS, "registry answered 429 (too many requests)");
    default:
        return berr_set(err, BERR_INTERNAL, "registry answered HTTP %ld%s%s", status, sep, detail);
    }
}
