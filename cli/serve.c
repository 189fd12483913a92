/* serve.c - `berth serve`: parse the options into a configuration, open the registry
 * (service/service.c), run it until SIGTERM or SIGINT, then close it cleanly (requests in flight
 * finish, the database is closed, exit status 0). SIGHUP reloads the TLS certificate and key.
 *
 * Signals are blocked in every thread before the service starts and taken with sigwait() by
 * service_run, so no handler runs inside a worker. */
#include "cli/cmds.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/opt.h"
#include "common/log.h"
#include "common/mem.h"
#include "config/config.h"
#include "service/service.h"

static void serve_usage(FILE *f)
{
    fprintf(f, "usage: berth serve [--config FILE] [--listen ADDR:PORT] [--data DIR]\n"
               "                   [--log-level debug|info|warn|error]\n"
               "                   [--tls-cert FILE --tls-key FILE]\n\n"
               "Runs the registry. On the first start the admin password is taken from\n"
               "BERTH_ADMIN_PASSWORD, or generated and printed once. With a certificate and\n"
               "key it serves HTTPS; SIGHUP reloads them.\n");
}

enum { O_CONFIG = 1, O_LISTEN, O_DATA, O_LOG_LEVEL, O_TLS_CERT, O_TLS_KEY };

static const struct cli_opt serve_opts[] = {
        {"--config", NULL, true, O_CONFIG},
        {"--listen", NULL, true, O_LISTEN},
        {"--data", NULL, true, O_DATA},
        {"--log-level", NULL, true, O_LOG_LEVEL},
        {"--tls-cert", NULL, true, O_TLS_CERT},
        {"--tls-key", NULL, true, O_TLS_KEY},
        {NULL, NULL, false, 0},
};

/* serve_args: the options of `berth serve`, borrowed from argv; NULL when not given */
struct serve_args {
    const char *config;
    const char *set[O_TLS_KEY + 1]; /* by option id: listen, data_dir, log_level, tls_* */
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
        } else if (id > O_CONFIG && id <= O_TLS_KEY) {
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
    static const char *const keys[O_TLS_KEY + 1] = {
            [O_LISTEN] = "listen",     [O_DATA] = "data_dir",   [O_LOG_LEVEL] = "log_level",
            [O_TLS_CERT] = "tls_cert", [O_TLS_KEY] = "tls_key",
    };

    config_defaults(cfg);
    if (sa->config != NULL && config_load(cfg, sa->config, err) < 0)
        return -1;
    for (int id = O_LISTEN; id <= O_TLS_KEY; id++) {
        if (sa->set[id] != NULL && config_set(cfg, keys[id], sa->set[id], err) < 0)
            return -1;
    }
    return config_validate(cfg, err);
}

int cmd_serve(int argc, char **argv)
{
    struct berth_config cfg;
    struct serve_args sa;
    struct service svc;
    struct berr err = {0};
    enum log_level lvl;
    sigset_t set;
    int sig;

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
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
        fprintf(stderr, "berth serve: cannot block signals\n");
        return 1;
    }
    if (service_open(&svc, &cfg, &err) < 0)
        return 1; /* logged where it failed */
    log_msg(LOG_INFO, "berth listening on %s (port %u), data in %s, %u threads", cfg.listen,
            service_port(&svc), cfg.data_dir, cfg.threads);
    printf("berth: registry and web UI at %s://%s/\n", cfg.tls_cert[0] ? "https" : "http",
           cfg.listen);
    (void)fflush(stdout);
    for (;;) {
        sig = service_run(&svc, &set);
        if (sig == SIGPIPE)
            continue; /* blocked for the workers' sake, never a reason to stop */
        if (sig != SIGHUP)
            break;
        (void)service_reload_tls(&svc, &err); /* logged; the old certificate stays */
    }
    log_msg(LOG_INFO, "signal %d: stopping", sig);
    service_close(&svc);
    log_msg(LOG_INFO, "stopped");
    return 0;
}
