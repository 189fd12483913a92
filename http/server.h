/* server.h - the HTTP core: libmicrohttpd with an internal thread pool (epoll), a table of
 * mounts (path prefix -> handler), one access-log line per request.
 *
 * The core never names a handler: the program composes the mounts (service/) and the handlers
 * register nothing global. A handler sees the request through http/http.h only.
 *
 * A request's life, as the handler sees it:
 *   begin   once the request line and headers are in. Either answers (fills *out, returns
 *           HTTP_ANSWERED) or asks for the body (returns HTTP_READ_BODY);
 *   data    each piece of the body, in order; -1 means "I failed, drop the rest" (end still
 *           answers, with the error the handler kept);
 *   end     the body is complete: fill *out;
 *   done    always, exactly once, when the request ends (answered, aborted or failed): free
 *           what begin made.
 * A reply whose resp is NULL is answered 500 by the core. */
#ifndef BERTH_HTTP_SERVER_H
#define BERTH_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/berr.h"
#include "http/http.h"

enum http_next { HTTP_ANSWERED, HTTP_READ_BODY };

struct http_handler {
    enum http_next (*begin)(void *ctx, struct http_req *hr, void **state, struct http_reply *out);
    int (*data)(void *state, const char *data, size_t n);
    void (*end)(void *state, struct http_reply *out);
    void (*done)(void *state);
};

/* A mount: requests whose path equals prefix (exact) or starts with it go to handler. Mounts
 * are tried in order; the first match wins. */
struct http_mount {
    const char *prefix;
    bool exact;
    const struct http_handler *handler;
    void *ctx; /* borrowed, handed to begin */
};

struct http_server_opts {
    const char *listen; /* ADDR:PORT, [v6]:PORT */
    unsigned threads;
    unsigned max_connections;
    unsigned per_ip_connections;
    unsigned connection_timeout_s;
    const char *tls_cert;        /* PEM file; with tls_key: serve HTTPS. NULL or "" = plain */
    const char *tls_key;         /* PEM file of the certificate's private key */
    const char *trusted_proxies; /* addresses/CIDRs whose X-Forwarded-* is believed; NULL/"" */
};

struct http_server;

/* http_server_start listens and serves the mounts (array copied; the handlers and contexts are
 * borrowed and must outlive the server; the option strings are read during the call only). A
 * request no mount takes is answered 404; one with untrustworthy framing 400 (server.c).
 * BERR_BAD_REQUEST for a bad trusted_proxies list, an unusable certificate or key. *out is new
 * (http_server_stop). */
int http_server_start(struct http_server **out, const struct http_server_opts *o,
                      const struct http_mount *mounts, size_t n, struct berr *err);
/* http_server_port: the bound port (useful with port 0). */
unsigned http_server_port(const struct http_server *s);
/* http_server_tls: the server speaks HTTPS. */
bool http_server_tls(const struct http_server *s);
/* http_server_reload_tls reads the certificate and key files again and serves new connections
 * with them, on the same listening socket; connections already open finish on the old ones.
 * On failure (unreadable or refused certificate: BERR_BAD_REQUEST) the old certificate stays.
 * A no-op without TLS. Call from the thread that started the server. */
int http_server_reload_tls(struct http_server *s, struct berr *err);
/* http_server_stop stops accepting, waits for requests in flight, frees. NULL is a no-op. */
void http_server_stop(struct http_server *s);

/* http_mount_find: the mount that takes path, or NULL (used by the core and by tests). */
const struct http_mount *http_mount_find(const struct http_mount *mounts, size_t n,
                                         const char *path);

#endif
