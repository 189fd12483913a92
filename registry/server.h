/* server.h - the HTTP server: libmicrohttpd with an internal thread pool (epoll), routing of the
 * registry API, the management API's ping, and the embedded web UI. */
#ifndef BERTH_REGISTRY_SERVER_H
#define BERTH_REGISTRY_SERVER_H

#include "common/berr.h"
#include "registry/req.h"

struct server;

/* server_start listens on cfg->listen and serves reg (borrowed: must outlive the server).
 * *out is new (server_stop). */
int server_start(struct server **out, struct registry *reg, struct berr *err);
/* server_port: the bound port (useful with port 0). */
unsigned server_port(const struct server *s);
/* server_stop stops accepting, waits for requests in flight, frees. NULL is a no-op. */
void server_stop(struct server *s);

#endif
