/* serve.c - `berth serve`: open the data directory, make sure the admin user exists, run the HTTP
 * server until SIGTERM or SIGINT, then stop cleanly (requests in flight finish, the database is
 * closed, exit status 0).
 *
 * Signals are blocked in every thread before the server starts and taken with sigwait() here, so
 * no handler runs inside a worker. */
#include "cli/cmds.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <string.h>

#include "auth/authn.h"
#include "auth/token.h"
#include "cli/opt.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "common/worker.h"
#include "config/config.h"
#include "registry/api_session.h"
#include "registry/server.h"
#include "storage/audit.h"
#include "storage/blob_store.h"
#include "storage/meta.h"
#include "storage/pulls.h"
#include "storage/upload.h"

#define SERVE_MAINT_INTERVAL_S 600
#define SERVE_AUDIT_FLUSH_MS 1000 /* audit events reach the database within about this */

/* maint_pass, run by the maintenance worker every SERVE_MAINT_INTERVAL_S, purges upload
 * sessions older than cfg->upload_purge_age_s. */
static void maint_pass(void *arg)
{
    struct registry *reg = arg;
    struct berr err;
    unsigned removed = 0;

    if (upload_purge(reg->uploads, (int64_t)reg->cfg->upload_purge_age_s, &removed, &err) < 0)
        log_msg(LOG_WARN, "upload purge: %s", err.msg);
    else if (removed > 0)
        log_msg(LOG_INFO, "upload purge: removed %u stale sessions", removed);
}

static void serve_usage(FILE *f)
{
    fprintf(f, "usage: berth serve [--config FILE] [--listen ADDR:PORT] [--data DIR]\n"
               "                   [--log-level debug|info|warn|error]\n\n"
               "Runs the registry. On the first start the admin password is taken from\n"
               "BERTH_ADMIN_PASSWORD, or generated and printed once.\n");
}

enum { O_CONFIG = 1, O_LISTEN, O_DATA, O_LOG_LEVEL };

static const struct cli_opt serve_opts[] = {
        {"--config", NULL, true, O_CONFIG},
        {"--listen", NULL, true, O_LISTEN},
        {"--data", NULL, true, O_DATA},
        {"--log-level", NULL, true, O_LOG_LEVEL},
        {NULL, NULL, false, 0},
};

/* serve_args: the options of `berth serve`, borrowed from argv; NULL when not given */
struct serve_args {
    const char *config;
    const char *set[O_LOG_LEVEL + 1]; /* by option id: listen, data_dir, log_level */
    bool help;
};

/* serve_parse reads argv; -1 on a usage error (message printed) */
static int serve_parse(struct serve_args *sa, int argc, char **argv)
{
    struct cli_args w;
    const char *v;
    int id;

    memset(sa, 0, sizeof(*sa));
    cli_args_init(&w, "serve", serve_opts, argc, argv, 1);
    while ((id = cli_args_next(&w, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_HELP) {
            sa->help = true;
        } else if (id == O_CONFIG) {
            sa->config = v;
        } else if (id > O_CONFIG && id <= O_LOG_LEVEL) {
            sa->set[id] = v;
        } else {
            if (id == CLI_ARG_POS)
                (void)cli_args_fail(&w, "unexpected argument '%s'", v); /* printed */
            return -1;
        }
    }
    return 0;
}

/* serve_load_config: defaults, then --config FILE, then the other flags (flags win). */
static int serve_load_config(struct berth_config *cfg, const struct serve_args *sa,
                             struct berr *err)
{
    static const char *const keys[O_LOG_LEVEL + 1] = {
            [O_LISTEN] = "listen", [O_DATA] = "data_dir", [O_LOG_LEVEL] = "log_level"};

    config_defaults(cfg);
    if (sa->config != NULL && config_load(cfg, sa->config, err) < 0)
        return -1;
    for (int id = O_LISTEN; id <= O_LOG_LEVEL; id++) {
        if (sa->set[id] != NULL && config_set(cfg, keys[id], sa->set[id], err) < 0)
            return -1;
    }
    return config_validate(cfg, err);
}

int cmd_serve(int argc, char **argv)
{
    struct berth_config cfg;
    struct serve_args sa;
    struct registry reg = {0};
    struct server *srv = NULL;
    struct worker maint = {0};
    struct berr err = {0};
    char path[PATH_MAX];
    enum log_level lvl;
    sigset_t set;
    bool created = false;
    int sig = 0, rc = 1, n;

    if (serve_parse(&sa, argc, argv) < 0) {
        serve_usage(stderr);
        return 2;
    }
    if (sa.help) {
        serve_usage(stdout);
        return 0;
    }
    mem_install_json();
    if (serve_load_config(&cfg, &sa, &err) < 0) {
        fprintf(stderr, "berth serve: %s\n", err.msg);
        serve_usage(stderr);
        return 2;
    }
    if (log_level_parse(&lvl, cfg.log_level) == 0)
        log_set_level(lvl);

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGPIPE);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
        fprintf(stderr, "berth serve: cannot block signals\n");
        return 1;
    }

    if (mkdir_p(cfg.data_dir) < 0) {
        log_errno(LOG_ERROR, errno, "cannot create data directory %s", cfg.data_dir);
        return 1;
    }
    n = snprintf(path, sizeof(path), "%s/berth.db", cfg.data_dir);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        log_msg(LOG_ERROR, "data directory path too long");
        return 1;
    }
    reg.cfg = &cfg;
    if (meta_open(&reg.meta, path, cfg.threads + 2, &err) < 0 ||
        blob_store_open(&reg.blobs, cfg.data_dir, &err) < 0 ||
        upload_mgr_new(&reg.uploads, reg.blobs, &err) < 0 ||
        authn_new(&reg.authn, reg.meta, &err) < 0 ||
        authn_configure(reg.authn, cfg.robot_prefix, cfg.login_fail_limit, &err) < 0 ||
        authn_bootstrap_admin(reg.meta, &created, &err) < 0 ||
        audit_new(&reg.audit, reg.meta, 0, &err) < 0 ||
        audit_start(reg.audit, SERVE_AUDIT_FLUSH_MS, &err) < 0 ||
        api_sessions_new(&reg.sessions, 0, &err) < 0 ||
        pulls_new(&reg.pulls, reg.meta, 0, &err) < 0 ||
        pulls_start(reg.pulls, cfg.pull_flush_s, &err) < 0) {
        log_msg(LOG_ERROR, "cannot open %s: %s", cfg.data_dir, err.msg);
        goto out;
    }
    /* the token signing key: made on the first start (mode 0600), loaded once */
    n = snprintf(path, sizeof(path), "%s/token.key", cfg.data_dir);
    if (n < 0 || (size_t)n >= sizeof(path) || tok_key_load_or_create(&reg.tokkey, path, &err) < 0) {
        log_msg(LOG_ERROR, "token key %s: %s", path, err.msg);
        goto out;
    }
    if (created)
        log_msg(LOG_INFO, "created user admin");
    if (server_start(&srv, &reg, &err) < 0) {
        log_msg(LOG_ERROR, "%s", err.msg);
        goto out;
    }
    if (worker_start(&maint, (uint64_t)SERVE_MAINT_INTERVAL_S * 1000, 0, maint_pass, &reg, &err) <
        0) {
        log_msg(LOG_ERROR, "cannot start the maintenance thread");
        goto out;
    }
    log_msg(LOG_INFO, "berth listening on %s (port %u), data in %s, %u threads", cfg.listen,
            server_port(srv), cfg.data_dir, cfg.threads);
    printf("berth: registry and web UI at http://%s/\n", cfg.listen);
    (void)fflush(stdout);

    for (;;) {
        if (sigwait(&set, &sig) != 0)
            break;
        if (sig == SIGTERM || sig == SIGINT)
            break;
    }
    log_msg(LOG_INFO, "signal %d: stopping", sig);
    rc = 0;
out:
    worker_stop(&maint);
    server_stop(srv);
    audit_free(reg.audit); /* after the server: every request's events are queued */
    api_sessions_free(reg.sessions);
    if (pulls_stop(reg.pulls, &err) < 0) /* the last flush, before the database closes */
        log_msg(LOG_ERROR, "pull counters lost at shutdown: %s", err.msg);
    pulls_free(reg.pulls);
    authn_free(reg.authn);
    tok_key_free(reg.tokkey);
    upload_mgr_free(reg.uploads);
    blob_store_close(reg.blobs);
    meta_close(reg.meta);
    if (rc == 0)
        log_msg(LOG_INFO, "stopped");
    return rc;
}
