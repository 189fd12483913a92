/* admin_common.h - private to the administration subcommands. The API subcommands
 * (cli/admin_api.c, and cli/stats.c over --url): their parsed options, the caller's
 * credentials, one management API request and `ls` tables. The offline subcommands over the
 * data directory (cli/admin.c `user passwd`, cli/admin_key.c `admin rotate-token-key`): their
 * arguments, configuration and metadata store. Prefix adm_. Messages go to stderr prefixed
 * "berth: "; no state beyond struct adm_opts. */
#ifndef BERTH_CLI_ADMIN_COMMON_H
#define BERTH_CLI_ADMIN_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/http.h"
#include "config/config.h"

struct meta;

#define ADM_PW_MAX 256

/* The options of one subcommand; strings are borrowed from argv or the environment. */
struct adm_opts {
    const char *url;
    const char *user;
    char pass[ADM_PW_MAX];
    bool have_pass;
    bool json;
    bool pw_stdin;
    /* command options */
    const char *role;
    const char *project;
    const char *access;
    const char *email;
    const char *realname;
    const char *data;
    const char *config; /* --config FILE (berth audit purge) */
    const char *older;
    int64_t duration;
    int64_t limit;
    bool has_limit;
    bool public_;
    bool admin;
    const char *pos[4]; /* positional arguments after the verb */
    int npos;
};

/* adm_usage prints the usage of every API subcommand to f */
void adm_usage(FILE *f);
/* adm_read_line reads one line of stdin into out (cap bytes, newline and CR stripped);
 * -1 at end of input or when the line does not fit */
int adm_read_line(char *out, size_t cap);
/* adm_parse_i64: s as a whole decimal integer; -1 when s is NULL, empty or not a number */
int adm_parse_i64(const char *s, int64_t *out);
/* adm_parse_opts reads argv[from..] into o (then BERTH_URL, BERTH_USER for what is unset);
 * -1 on a usage error (message printed), 1 for --help (nothing printed) */
int adm_parse_opts(struct adm_opts *o, int argc, char **argv, int from);
/* adm_need_creds: URL set, the caller's password from stdin or BERTH_PASSWORD (none without
 * --user: anonymous); -1 with the message printed */
int adm_need_creds(struct adm_opts *o);
/* adm_call: one API request to path under /api/v2.0 with body (borrowed, NULL = none); *out is
 * the parsed JSON body, new (NULL when empty), status checked against want (0 = any 2xx).
 * resp_out (may be NULL) gets the response on success (http_resp_cleanup it). Prints the API's
 * error message and returns -1 otherwise, with *out NULL. */
int adm_call(struct adm_opts *o, const char *method, const char *path, json_t *body, long want,
             json_t **out, struct http_resp *resp_out);
/* adm_print_json prints j indented to stdout */
void adm_print_json(const json_t *j);
/* adm_str: string field k of o, borrowed from o; "" when absent or not a string */
const char *adm_str(const json_t *o, const char *k);
/* adm_num: integer field k of o; 0 when absent or not an integer */
long long adm_num(const json_t *o, const char *k);
/* adm_list_all: GET path page by page (100 a page) into one array, *out new; -1 with *out NULL
 * when any page failed (message printed) */
int adm_list_all(struct adm_opts *o, const char *path, json_t **out);

/* One column of an `ls` table: heading, padding (0 for the last column), how the cell is shown,
 * and the field: key of each row, or with sub set the field sub of the object key. */
enum adm_col_kind { ADM_COL_NUM, ADM_COL_STR, ADM_COL_YESNO };
struct adm_col {
    const char *head;
    int width;
    enum adm_col_kind kind;
    const char *key;
    const char *sub;
};

/* adm_print_ls lists path (every page) and prints it as JSON (--json) or as a table of the
 * ncols columns, one space apart. 0 done, 1 the listing failed (message printed). */
int adm_print_ls(struct adm_opts *o, const char *path, const struct adm_col *cols, size_t ncols);

/* An offline subcommand "berth CMD SUB [POS...] [--data DIR] [--config FILE]": its names, its
 * usage, and how many positional arguments (non-empty) it takes, at most 4. */
struct adm_offline {
    const char *cmd;     /* "user" */
    const char *sub;     /* "passwd" */
    const char *cmd_sub; /* "user passwd": names it in option messages */
    void (*usage)(FILE *f);
    int npos;
};

/* adm_offline_config reads argv ("CMD SUB ...") as c describes into pos (c->npos entries,
 * borrowed from argv) and cfg (defaults, then the --config file, then --data), and lowers the
 * log level to warnings. 0 ready; -1 when the command ends here with exit status *status: 0
 * for --help (usage on stdout), 2 for a missing or unknown subcommand, a bad option, a
 * missing, empty or extra argument, or a configuration the loader refused (message and/or
 * usage on stderr, "berth CMD: ..."). */
int adm_offline_config(struct berth_config *cfg, const char **pos, int *status,
                       const struct adm_offline *c, int argc, char **argv);
/* adm_meta_open opens cfg's metadata store (config_meta_location) on one connection. A SQLite
 * file must exist already (this never creates a registry). *out is new (meta_close); -1 with
 * *out NULL and the message printed ("berth CMD: ...", never the location of a PostgreSQL
 * store, which may hold a password). */
int adm_meta_open(struct meta **out, const struct berth_config *cfg, const char *cmd);
/* adm_store_open: adm_meta_open of the configuration FILE config (NULL: the defaults) with
 * data_dir set to data (NULL: the configuration's), for the offline commands that take
 * --config and --data (berth audit purge, berth stats). Messages as adm_meta_open's. */
int adm_store_open(struct meta **out, const char *config, const char *data, const char *cmd);

#endif
