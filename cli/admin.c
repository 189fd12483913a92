/* admin.c - offline administration of the data directory.
 *
 *   berth user passwd NAME [--data DIR] [--config FILE]
 *
 * Resets a user's password directly in DATA/berth.db, for an administrator locked out of the API.
 * The new password is read from the terminal with echo off (asked twice) when stdin is a
 * terminal, else as the first line of stdin (so scripts can pipe it). It must pass
 * password_policy_check and is stored only as password_hash(); the plaintext is wiped and never
 * printed. The database must exist already (this never creates a registry); the command may run
 * while the server does (SQLite WAL), and a running server keeps accepting the old password only
 * as long as its login cache holds it (AUTHN_CACHE_TTL_S). Exit status: 0 done, 1 failed, 2
 * usage error. No shared state. */
#include "cli/cmds.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth/authn.h"
#include "auth/password.h"
#include "cli/opt.h"
#include "common/log.h"
#include "config/config.h"
#include "storage/meta.h"

#define LINE_MAX_BYTES (PASSWORD_MAX_LEN + 2)

static void usage(FILE *f)
{
    fprintf(f, "usage: berth user passwd NAME [--data DIR] [--config FILE]\n\n"
               "Sets a new password for user NAME in the data directory, without the server.\n"
               "The password is read from the terminal (asked twice, not echoed) or, when stdin\n"
               "is not a terminal, from the first line of stdin.\n");
}

/* read_line reads one line from f into out without its newline; -1 on EOF, error or a line
 * longer than cap - 1. */
static int read_line(FILE *f, char *out, size_t cap)
{
    size_t len;

    if (fgets(out, (int)cap, f) == NULL)
        return -1;
    len = strlen(out);
    if (len > 0 && out[len - 1] == '\n')
        out[--len] = '\0';
    else if (!feof(f))
        return -1; /* longer than the buffer */
    if (len > 0 && out[len - 1] == '\r')
        out[--len] = '\0';
    return 0;
}

/* prompt reads a line from the terminal with echo off */
static int prompt(const char *question, char *out, size_t cap)
{
    struct termios old, quiet;
    int rc;

    fprintf(stderr, "%s", question);
    fflush(stderr);
    if (tcgetattr(STDIN_FILENO, &old) < 0)
        return -1;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
        return -1;
    rc = read_line(stdin, out, cap);
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &old) < 0)
        rc = -1;
    return rc;
}

static int read_password(char *out, size_t cap)
{
    char again[LINE_MAX_BYTES];
    int rc;

    if (!isatty(STDIN_FILENO)) {
        if (read_line(stdin, out, cap) < 0) {
            fprintf(stderr, "berth user passwd: cannot read the password from stdin\n");
            return -1;
        }
        return 0;
    }
    if (prompt("New password: ", out, cap) < 0 ||
        prompt("Retype new password: ", again, sizeof(again)) < 0) {
        fprintf(stderr, "berth user passwd: cannot read the password\n");
        OPENSSL_cleanse(again, sizeof(again));
        return -1;
    }
    rc = strcmp(out, again) == 0 ? 0 : -1;
    OPENSSL_cleanse(again, sizeof(again));
    if (rc < 0)
        fprintf(stderr, "berth user passwd: the passwords do not match\n");
    return rc;
}

static int user_passwd(const struct berth_config *cfg, const char *name)
{
    char plain[LINE_MAX_BYTES];
    char hash[PASSWORD_HASH_MAX];
    char path[CONFIG_STR_MAX + 16];
    struct meta *m = NULL;
    struct meta_user u;
    struct stat st;
    struct berr e;
    int rc = 1;

    plain[0] = '\0';
    hash[0] = '\0';
    /* the metadata location may be a PostgreSQL URL with a password: never printed */
    if (config_meta_location(cfg, path, sizeof(path), &e) < 0) {
        fprintf(stderr, "berth user passwd: %s\n", e.msg);
        return 1;
    }
    if (cfg->metadata[0] == '\0' && stat(path, &st) < 0) {
        fprintf(stderr, "berth user passwd: %s: %s (is --data right?)\n", path, strerror(errno));
        return 1;
    }
    if (meta_open(&m, path, 1, &e) < 0) {
        fprintf(stderr, "berth user passwd: cannot open the metadata database: %s\n", e.msg);
        return 1;
    }
    if (meta_user_get(m, name, &u, &e) < 0) {
        fprintf(stderr, "berth user passwd: %s\n",
                e.code == BERR_NOT_FOUND ? "no such user" : e.msg);
        goto out;
    }
    OPENSSL_cleanse(u.pw_hash, sizeof(u.pw_hash));
    if (read_password(plain, sizeof(plain)) < 0)
        goto out;
    if (password_policy_check(plain, &e) < 0) {
        fprintf(stderr, "berth user passwd: %s\n", e.msg);
        goto out;
    }
    if (password_hash(hash, sizeof(hash), plain, &e) < 0 ||
        meta_user_set_password(m, u.id, hash, &e) < 0) {
        fprintf(stderr, "berth user passwd: %s\n", e.msg);
        goto out;
    }
    printf("password of user %s changed\n", name);
    rc = 0;
out:
    OPENSSL_cleanse(plain, sizeof(plain));
    OPENSSL_cleanse(hash, sizeof(hash));
    meta_close(m);
    return rc;
}

enum { O_DATA = 1, O_CONFIG };

static const struct cli_opt passwd_opts[] = {
        {"--data", NULL, true, O_DATA},
        {"--config", NULL, true, O_CONFIG},
        {NULL, NULL, false, 0},
};

int cmd_user(int argc, char **argv)
{
    struct berth_config cfg;
    const char *data = NULL;
    const char *config = NULL;
    const char *name = NULL;
    const char *v;
    struct cli_args w;
    struct berr e;
    int id;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "passwd") != 0) {
        fprintf(stderr, "berth user: unknown subcommand '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    cli_args_init(&w, "user passwd", passwd_opts, argc, argv, 2);
    while ((id = cli_args_next(&w, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_HELP) {
            usage(stdout);
            return 0;
        }
        if (id == O_DATA) {
            data = v;
        } else if (id == O_CONFIG) {
            config = v;
        } else if (id == CLI_ARG_POS && name == NULL) {
            name = v;
        } else {
            if (id == CLI_ARG_POS)
                (void)cli_args_fail(&w, "unexpected argument '%s'", v); /* printed */
            usage(stderr);
            return 2;
        }
    }
    if (name == NULL || name[0] == '\0') {
        usage(stderr);
        return 2;
    }
    config_defaults(&cfg);
    if ((config != NULL && config_load(&cfg, config, &e) < 0) ||
        (data != NULL && config_set(&cfg, "data_dir", data, &e) < 0)) {
        fprintf(stderr, "berth user: %s\n", e.msg);
        return 2;
    }
    log_set_level(LOG_WARN);
    return user_passwd(&cfg, name);
}
