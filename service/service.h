/* service.h - the whole registry as one object: what `berth serve` opens, runs and closes.
 *
 * service_open opens everything a running registry needs from one validated configuration (the
 * data directory, the metadata database, blobs, uploads, users and the admin bootstrap, the
 * audit log, pull counters, web sessions, the token key), starts the HTTP server and the
 * periodic workers; service_close stops and frees them in the reverse order. service_run waits
 * for a stop signal or service_stop. The layer under cli/: cli/serve.c only parses options. */
#ifndef BERTH_SERVICE_SERVICE_H
#define BERTH_SERVICE_SERVICE_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "common/berr.h"
#include "common/worker.h"
#include "config/config.h"
#include "http/server.h"
#include "registry/req.h"

struct service {
    struct berth_config cfg; /* a copy: reg.cfg points here, so a service never moves */
    struct registry reg;
    struct http_server *srv;
    struct http_server *metrics_srv; /* cfg->metrics_listen, NULL when not configured */
    struct worker maint;             /* upload purge every SERVICE_MAINT_INTERVAL_S */
    bool created_admin;              /* service_open made the admin user (first start) */
    pthread_mutex_t mu;              /* guards the three fields below */
    pthread_t runner;
    bool running;
    bool stop;
    int stop_sig; /* the signal service_stop sends to the runner */
};

#define SERVICE_MAINT_INTERVAL_S 600
#define SERVICE_AUDIT_FLUSH_MS 1000 /* audit events reach the database within about this */

/* service_open opens and starts the registry described by cfg (copied; validated by the
 * caller). On success the server is listening (service_port) and svc must be closed with
 * service_close; on failure everything opened is closed again and err says what failed
 * (BERR_INTERNAL with the message logged, or the open call's own code). */
int service_open(struct service *svc, const struct berth_config *cfg, struct berr *err);
/* service_port: the bound port (the real one when cfg->listen asked for port 0). */
unsigned service_port(const struct service *svc);
/* service_run blocks until a signal of stop arrives or service_stop is called, and returns the
 * signal number (0 after service_stop). Every signal of stop must be blocked in every thread
 * (block them before service_open: its threads inherit the mask). One runner at a time. */
int service_run(struct service *svc, const sigset_t *stop);
/* service_stop makes service_run return (now, or at once when it starts later). Safe from any
 * thread, not from a signal handler. */
void service_stop(struct service *svc);
/* service_reload_tls serves new connections with the certificate and key files as they are
 * now (SIGHUP); the old ones keep serving when the new ones do not load (logged, -1). A no-op
 * without TLS. From the thread that opened the service. */
int service_reload_tls(struct service *svc, struct berr *err);
/* service_close stops the maintenance worker and the server (requests in flight finish), then
 * flushes the audit log and pull counters and closes everything; svc is then zeroed. A zeroed
 * svc is a no-op. */
void service_close(struct service *svc);

#endif
