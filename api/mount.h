/* mount.h - the whole server's mount table (api/mount.c): /v2/ (registry/route.c), the token
 * service, the management API, the web sessions, /metrics and the web UI's assets. */
#ifndef BERTH_API_MOUNT_H
#define BERTH_API_MOUNT_H

#include <stddef.h>

#include "http/server.h"
#include "registry/req.h"
#include "registry/route.h"

#define API_MOUNTS_MAX 8

extern const struct http_handler api_mount_handler;
extern const struct http_handler api_token_handler;
extern const struct http_handler api_ui_handler;
/* api_metrics_handler: the separate metrics listener (metrics_listen), mounted at "/": GET
 * /metrics without authentication, 404 for any other path. */
extern const struct http_handler api_metrics_handler;

/* api_mounts fills out with the server's mounts, in match order, every one with reg as its
 * context; returns how many (0 when cap is too small). */
size_t api_mounts(struct http_mount *out, size_t cap, struct registry *reg);

/* token_handle (api/token_ep.c): GET/POST /service/token. Body (POST form) in r->body. */
int token_handle(struct req *r, struct http_reply *out);
/* token_issued_total: bearer tokens issued by token_handle since the start. */
uint64_t token_issued_total(void);
/* api_handle (api/router.c): everything under /api/, /c/ and /metrics: the route table of
 * api/routes.c. JSON body in r->body (capped at REQ_JSON_MAX_BYTES). Authenticates on its own
 * (Basic, session cookie) and checks each row's permission before its handler runs. */
int api_handle(struct req *r, struct http_reply *out);

#endif
