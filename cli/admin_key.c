/* admin_key.c - offline maintenance of the shared token signing key.
 *
 *   berth admin rotate-token-key [--data DIR] [--config FILE]
 *
 * The store is the configuration's `metadata` (PostgreSQL, shared by replicas) or, without it,
 * DATA/berth.db.
 * Stores a new signing key in the metadata store (auth/token_ring.h): every server over that
 * store signs new tokens with it within TOK_RING_REFRESH_S, tokens signed with the previous key
 * keep verifying until they expire (the previous key is kept for token_ttl_s plus the
 * verification leeway, then dropped by the maintenance purge). The store must exist already
 * and must have been started on once (it holds the first key); the command may run while
 * servers do. Prints the new kid. Exit status: 0 done, 1 failed, 2 usage error. No shared
 * state. */
#include "cli/cmds.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/authn.h"
#include "auth/token_ring.h"
#include "cli/opt.h"
#include "common/log.h"
#include "config/config.h"
#include "storage/meta.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: berth admin rotate-token-key [--data DIR] [--config FILE]\n\n"
               "Stores a new token signing key that every server over this metadata store signs\n"
               "with from then on; tokens signed with the previous key stay valid until they\n"
               "expire (token_ttl_s), then that key is dropped.\n");
}

static int rotate(const struct berth_config *cfg)
{
    char path[CONFIG_STR_MAX + 16], kid[TOK_KID_LEN + 1];
    struct meta *m = NULL;
    struct stat st;
    struct berr e;
    int rc = 1;

    if (config_meta_location(cfg, path, sizeof(path), &e) < 0) {
        fprintf(stderr, "berth admin: %s\n", e.msg);
        return 1;
    }
    /* a SQLite file must exist already: this never creates a registry */
    if (strstr(path, "://") == NULL && stat(path, &st) < 0) {
        fprintf(stderr, "berth admin: %s: %s (is --data right?)\n", path, strerror(errno));
        return 1;
    }
    if (meta_open(&m, path, 1, &e) < 0) {
        /* meta_open's messages never hold the location (it may carry a password) */
        fprintf(stderr, "berth admin: cannot open the metadata store: %s\n", e.msg);
        return 1;
    }
    if (tok_ring_rotate(m, (int64_t)cfg->token_ttl_s + AUTHN_BEARER_LEEWAY_S, kid, &e) < 0) {
        fprintf(stderr, "berth admin rotate-token-key: %s\n", e.msg);
        goto out;
    }
    printf("token signing key rotated: new kid %s\n", kid);
    rc = 0;
out:
    meta_close(m);
    return rc;
}

enum { O_DATA = 1, O_CONFIG };

static const struct cli_opt key_opts[] = {
        {"--data", NULL, true, O_DATA},
        {"--config", NULL, true, O_CONFIG},
        {NULL, NULL, false, 0},
};

int cmd_admin(int argc, char **argv)
{
    struct berth_config cfg;
    const char *data = NULL;
    const char *config = NULL;
    const char *v;
    struct cli_args w;
    struct berr e;
    int id;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "rotate-token-key") != 0) {
        fprintf(stderr, "berth admin: unknown subcommand '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    cli_args_init(&w, "admin rotate-token-key", key_opts, argc, argv, 2);
    while ((id = cli_args_next(&w, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_HELP) {
            usage(stdout);
            return 0;
        }
        if (id == O_DATA) {
            data = v;
        } else if (id == O_CONFIG) {
            config = v;
        } else {
            if (id == CLI_ARG_POS)
                (void)cli_args_fail(&w, "unexpected argument '%s'", v); /* printed */
            usage(stderr);
            return 2;
        }
    }
    config_defaults(&cfg);
    if ((config != NULL && config_load(&cfg, config, &e) < 0) ||
        (data != NULL && config_set(&cfg, "data_dir", data, &e) < 0)) {
        fprintf(stderr, "berth admin: %s\n", e.msg);
        return 2;
    }
    log_set_level(LOG_WARN);
    return rotate(&cfg);
}
