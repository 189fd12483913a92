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

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth/authn.h"
#include "auth/password.h"
#include "cli/admin_common.h"
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
    rc = adm_read_line(out, cap);
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &old) < 0)
        rc = -1;
    return rc;
}

static int read_password(char *out, size_t cap)
{
    char again[LINE_MAX_BYTES];
    int rc;

    if (!isatty(STDIN_FILENO)) {
        if (adm_read_line(out, cap) < 0) {
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
    struct meta *m = NULL;
    struct meta_user u;
    struct berr e;
    int rc = 1;

    plain[0] = '\0';
    hash[0] = '\0';
    if (adm_meta_open(&m, cfg, "user passwd") < 0)
        return 1;
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

static const struct adm_offline passwd_cmd = {"user", "passwd", "user passwd", usage, 1};

int cmd_user(int argc, char **argv)
{
    struct berth_config cfg;
    const char *name;
    int status;

    if (adm_offline_config(&cfg, &name, &status, &passwd_cmd, argc, argv) < 0)
        return status;
    return user_passwd(&cfg, name);
}
