/* service.c - the registry's lifecycle: open everything from one configuration, run until
 * stopped, close everything in the reverse order.
 *
 * Invariants:
 *   1. Open order: data directory, metadata, blobs, uploads, authentication (and the admin user
 *      on the first start), audit log (flusher started), web sessions, pull counters (flusher
 *      started), token key, start-up reconciliation of store and metadata (gc_reconcile: no
 *      request runs yet; gc runs a restart cut short marked Error), HTTP server, maintenance worker. Close order is the reverse, with
 *      the server stopped before the audit log and pull counters are flushed for the last time,
 *      so every request's events and pulls are written before the database closes.
 *   2. A failed open closes what it opened (service_close handles a half-open service: every
 *      free is NULL-safe and the worker stop is a no-op when it never started).
 *   3. `mu` guards runner, running, stop and stop_sig; service_stop never waits on the runner.
 *   4. What replicas over one metadata database must agree on lives in it (meta.h "shared
 *      state"): web sessions, failed-login counts, the token signing key; this process keeps
 *      only caches it can lose. The maintenance worker purges the expired shared records.
 * Thread-safety: service_open and service_close from one owner thread; service_stop from any
 * thread; the registry handles themselves are thread-safe as their headers say. */
#include "service/service.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "auth/authn.h"
#include "auth/token_ring.h"
#include "auth/token.h"
#include "common/log.h"
#include "common/util.h"
#include "api/api_gc.h"
#include "api/api_session.h"
#include "api/mount.h"
#include "storage/audit.h"
#include "storage/blob_store.h"
#include "storage/gc.h"
#include "storage/meta.h"
#include "storage/pulls.h"
#include "storage/upload.h"

/* prune_pulls drops pull history past its retention: hourly buckets older than
 * cfg->pull_hourly_keep_s, daily ones older than cfg->pull_daily_keep_s (0: kept forever). */
static void prune_pulls(struct registry *reg)
{
    const struct berth_config *cfg = reg->cfg;
    int64_t now = now_s();
    int64_t pruned = 0;
    struct berr err;

    if (meta_pulls_prune(reg->meta, now - (int64_t)cfg->pull_hourly_keep_s,
                         cfg->pull_daily_keep_s > 0 ? now - (int64_t)cfg->pull_daily_keep_s : 0,
                         &pruned, &err) < 0)
        log_msg(LOG_WARN, "pull history prune: %s", err.msg);
    else if (pruned > 0)
        log_msg(LOG_INFO, "pull history prune: removed %lld buckets", (long long)pruned);
}

/* purge_state deletes the expired records of the shared state (sessions, login throttling,
 * retired token keys); every replica may run it, the deletes are idempotent. */
static void purge_state(struct registry *reg)
{
    int64_t removed = 0;
    struct berr err;

    if (meta_state_purge(reg->meta, now_s(), &removed, &err) < 0)
        log_msg(LOG_WARN, "shared state purge: %s", err.msg);
    else if (removed > 0)
        log_msg(LOG_INFO, "shared state purge: removed %lld expired records", (long long)removed);
}

/* maint_pass, run by the maintenance worker, purges upload sessions older than
 * cfg->upload_purge_age_s, prunes the pull history (prune_pulls) and purges the expired shared
 * state (purge_state). */
static void maint_pass(void *arg)
{
    struct registry *reg = arg;
    struct berr err;
    unsigned removed = 0;

    purge_state(reg);

    if (upload_purge(reg->uploads, (int64_t)reg->cfg->upload_purge_age_s, &removed, &err) < 0)
        log_msg(LOG_WARN, "upload purge: %s", err.msg);
    else if (removed > 0)
        log_msg(LOG_INFO, "upload purge: removed %u stale sessions", removed);
    prune_pulls(reg);
}

/* reconcile repairs what a crash may have left (gc_reconcile) before the first request. */
static int reconcile(struct registry *reg, struct berr *err)
{
    struct gc_reconcile_stats st;

    if (gc_reconcile(&st, reg->meta, reg->blobs, reg->uploads, (int64_t)reg->cfg->gc_window_s,
                     err) < 0) {
        log_msg(LOG_ERROR, "start-up reconciliation failed: %s", err->msg);
        return -1;
    }
    if (st.rows_dropped + st.links_dropped + st.rows_lost + st.orphans_removed +
                st.uploads_removed >
        0)
        log_msg(LOG_WARN,
                "start-up reconciliation: %u rows without a file dropped (%u repository links),"
                " %u lost rows kept, %u orphan files and %u upload leftovers removed",
                st.rows_dropped, st.links_dropped, st.rows_lost, st.orphans_removed,
                st.uploads_removed);
    else
        log_msg(LOG_INFO, "start-up reconciliation: store and database agree");
    return 0;
}

static int data_path(char *out, size_t cap, const struct berth_config *cfg, const char *leaf,
                     struct berr *err)
{
    int n = snprintf(out, cap, "%s/%s", cfg->data_dir, leaf);

    if (n < 0 || (size_t)n >= cap)
        return berr_set(err, BERR_BAD_REQUEST, "data directory path too long");
    return 0;
}

/* start_http serves the server's mounts (api/mount.c) on cfg->listen. */
static int start_http(struct service *svc, struct berr *err)
{
    const struct berth_config *cfg = &svc->cfg;
    struct http_mount mounts[API_MOUNTS_MAX];
    struct http_server_opts o = {
            .listen = cfg->listen,
            .threads = cfg->threads,
            .max_connections = cfg->max_connections,
            .per_ip_connections = cfg->per_ip_connections,
            .connection_timeout_s = cfg->connection_timeout_s,
            .tls_cert = cfg->tls_cert,
            .tls_key = cfg->tls_key,
            .trusted_proxies = cfg->trusted_proxies,
    };
    size_t n = api_mounts(mounts, API_MOUNTS_MAX, &svc->reg);

    if (n == 0)
        return berr_set(err, BERR_INTERNAL, "internal error");
    if (http_server_start(&svc->srv, &o, mounts, n, err) < 0)
        return -1;
    if (cfg->metrics_listen[0] != '\0') {
        struct http_mount m = {"/", false, &api_metrics_handler, &svc->reg};

        o.listen = cfg->metrics_listen;
        o.threads = 2;
        if (http_server_start(&svc->metrics_srv, &o, &m, 1, err) < 0)
            return -1;
        log_msg(LOG_INFO, "metrics on http://%s/metrics", cfg->metrics_listen);
    }
    return 0;
}

int service_open(struct service *svc, const struct berth_config *cfg, struct berr *err)
{
    struct registry *reg = &svc->reg;
    char path[PATH_MAX];
    unsigned slots, queue;

    memset(svc, 0, sizeof(*svc));
    config_login_check(cfg, &slots, &queue);
    if (pthread_mutex_init(&svc->mu, NULL) != 0)
        return berr_set(err, BERR_INTERNAL, "service: cannot create a mutex");
    svc->cfg = *cfg;
    reg->cfg = &svc->cfg;
    if (mkdir_p(cfg->data_dir) < 0) {
        log_errno(LOG_ERROR, errno, "cannot create data directory %s", cfg->data_dir);
        berr_sys(err, errno, "create data directory");
        goto fail;
    }
    /* Over a database that other replicas share, the lookup cache stays off: a client that
     * writes through one replica and reads through another behind the balancer (a delete then
     * a GET, a tag move then a pull) must see its write at once, and a local cache cannot see
     * another replica's writes (storage/mcache.h). The blob store's cache of small blobs by digest
     * (storage/blob_cache.h) cannot go stale and stays on. */
    bool shared_meta = strncmp(cfg->metadata, "postgres://", 11) == 0 ||
                       strncmp(cfg->metadata, "postgresql://", 13) == 0;

    if (config_meta_location(cfg, path, sizeof(path), err) < 0)
        goto fail;
    if (meta_open(&reg->meta, path, cfg->threads + 2, err) < 0 ||
        blob_store_open_config(&reg->blobs, cfg, err) < 0 ||
        upload_mgr_new(&reg->uploads, reg->blobs, err) < 0 ||
        meta_cache_enable(reg->meta, shared_meta ? 0 : cfg->manifest_cache_entries,
                          cfg->manifest_cache_tag_ttl_ms, err) < 0 ||
        upload_mgr_use_meta(reg->uploads, reg->meta, err) < 0 ||
        authn_new(&reg->authn, reg->meta, err) < 0 ||
        authn_configure(reg->authn, cfg->robot_prefix, cfg->login_fail_limit, err) < 0 ||
        authn_set_check_budget(reg->authn, slots, queue, cfg->login_check_wait_ms, err) < 0 ||
        authn_bootstrap_admin(reg->meta, &svc->created_admin, err) < 0 ||
        audit_new(&reg->audit, reg->meta, 0, err) < 0 ||
        audit_start(reg->audit, SERVICE_AUDIT_FLUSH_MS, err) < 0 ||
        api_sessions_new(&reg->sessions, reg->meta, cfg->session_idle_s, cfg->session_lifetime_s,
                         cfg->session_max_per_user, err) < 0 ||
        pulls_new(&reg->pulls, reg->meta, 0, err) < 0 ||
        pulls_start(reg->pulls, cfg->pull_flush_s, err) < 0) {
        log_msg(LOG_ERROR, "cannot open %s: %s", cfg->data_dir, err->msg);
        goto fail;
    }
    upload_mgr_set_limit(reg->uploads, cfg->upload_sessions_max);
    /* the token signing key: in the metadata store, shared by every replica; a key file of an
     * older single-host installation is imported on the first start (auth/token_ring.h) */
    if (data_path(path, sizeof(path), cfg, "token.key", err) < 0 ||
        tok_ring_open(&reg->tokring, reg->meta, path, err) < 0) {
        log_msg(LOG_ERROR, "token key: %s", err->msg);
        goto fail;
    }
    if (svc->created_admin)
        log_msg(LOG_INFO, "created user admin");
    if (reconcile(reg, err) < 0 || api_gc_startup(reg->meta, err) < 0)
        goto fail;
    if (start_http(svc, err) < 0) {
        log_msg(LOG_ERROR, "%s", err->msg);
        goto fail;
    }
    /* the worker's first pass is an interval away: a retention shortened while stopped, or a
     * long downtime, is applied now */
    prune_pulls(reg);
    if (worker_start(&svc->maint, (uint64_t)SERVICE_MAINT_INTERVAL_S * 1000, 0, maint_pass, reg,
                     err) < 0) {
        log_msg(LOG_ERROR, "cannot start the maintenance thread");
        goto fail;
    }
    return 0;
fail:
    service_close(svc);
    return -1;
}

unsigned service_port(const struct service *svc)
{
    return svc->srv != NULL ? http_server_port(svc->srv) : 0;
}

int service_reload_tls(struct service *svc, struct berr *err)
{
    if (svc->srv == NULL || !http_server_tls(svc->srv))
        return 0;
    if (http_server_reload_tls(svc->srv, err) < 0) {
        log_msg(LOG_ERROR, "TLS reload failed, the old certificate stays: %s", err->msg);
        return -1;
    }
    log_msg(LOG_INFO, "TLS certificate reloaded from %s", svc->cfg.tls_cert);
    return 0;
}

int service_run(struct service *svc, const sigset_t *stop)
{
    int sig = 0;

    (void)pthread_mutex_lock(&svc->mu);
    svc->runner = pthread_self();
    svc->running = true;
    /* service_stop wakes us with one of our own stop signals, aimed at this thread */
    svc->stop_sig = sigismember(stop, SIGTERM) == 1 ? SIGTERM : 0;
    for (int s = 1; svc->stop_sig == 0 && s < 32; s++) {
        if (sigismember(stop, s) == 1)
            svc->stop_sig = s;
    }
    while (!svc->stop) {
        (void)pthread_mutex_unlock(&svc->mu);
        if (sigwait(stop, &sig) != 0)
            sig = 0;
        (void)pthread_mutex_lock(&svc->mu);
        if (svc->stop) {
            sig = 0;
            break;
        }
        if (sig != 0)
            break;
    }
    svc->running = false;
    svc->stop = false;
    (void)pthread_mutex_unlock(&svc->mu);
    return sig;
}

void service_stop(struct service *svc)
{
    (void)pthread_mutex_lock(&svc->mu);
    svc->stop = true;
    if (svc->running && svc->stop_sig != 0)
        (void)pthread_kill(svc->runner, svc->stop_sig); /* the runner is alive: mu is held */
    (void)pthread_mutex_unlock(&svc->mu);
}

void service_close(struct service *svc)
{
    struct registry *reg = &svc->reg;
    struct berr err;

    if (reg->cfg == NULL)
        return; /* zeroed: never opened */
    worker_stop(&svc->maint);
    http_server_stop(svc->metrics_srv);
    http_server_stop(svc->srv);
    api_gc_wait(); /* a garbage collection run started over the API uses the handles below */
    audit_free(reg->audit); /* after the server: every request's events are queued */
    api_sessions_free(reg->sessions);
    if (pulls_stop(reg->pulls, &err) < 0) /* the last flush, before the database closes */
        log_msg(LOG_ERROR, "pull counters lost at shutdown: %s", err.msg);
    pulls_free(reg->pulls);
    authn_free(reg->authn);
    tok_ring_free(reg->tokring);
    upload_mgr_free(reg->uploads);
    blob_store_close(reg->blobs);
    meta_close(reg->meta);
    (void)pthread_mutex_destroy(&svc->mu); /* nobody runs or stops a closed service */
    memset(svc, 0, sizeof(*svc));
}
