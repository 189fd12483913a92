/* admin_common.c - what the administration subcommands share. The API subcommands of
 * cli/admin_api.c: their options, the caller's credentials, one management API request,
 * paging, and `ls` tables. The offline subcommands (cli/admin.c, cli/admin_key.c): their
 * arguments, configuration, and opening the metadata store that must exist already.
 *
 *   1. adm_call wipes the request body (it may hold a password) before freeing it; the
 *      caller's password stays in struct adm_opts, which admin_api.c wipes after the command.
 *   2. adm_list_all follows pages of 100 until a short or empty page; any failed page fails the
 *      whole listing, so a table is never printed half.
 *   3. Every message goes to stderr prefixed "berth: "; only results go to stdout.
 * No shared state. */
#include "cli/admin_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "cli/http.h"
#include "cli/opt.h"
#include "common/log.h"
#include "common/parse.h"
#include "config/config.h"
#include "storage/meta.h"

#define API "/api/v2.0"

void adm_usage(FILE *f)
{
    fprintf(f, "usage: berth project ls | add NAME [--public] [--storage-limit BYTES] | rm NAME\n"
               "       berth member ls PROJECT | add PROJECT USER --role ROLE | rm PROJECT USER\n"
               "       berth robot ls | add NAME --project P [--access pull,push,delete]\n"
               "                  [--duration DAYS] | rm ID | refresh ID\n"
               "       berth user ls | add NAME --email E [--realname R] [--admin] | rm NAME |\n"
               "                  passwd NAME\n"
               "       berth audit purge --older-than 30d (--data DIR | --config FILE)\n\n"
               "API options: --url URL --user NAME --password-stdin --json\n"
               "(or BERTH_URL, BERTH_USER, BERTH_PASSWORD). ROLE: admin, developer, guest,\n"
               "maintainer, limited-guest or 1-5. Passwords are read from stdin, one per line.\n");
}

int adm_read_line(char *out, size_t cap)
{
    size_t len;

    if (fgets(out, (int)cap, stdin) == NULL)
        return -1;
    len = strlen(out);
    if (len > 0 && out[len - 1] == '\n')
        out[--len] = '\0';
    else if (!feof(stdin))
        return -1;
    if (len > 0 && out[len - 1] == '\r')
        out[--len] = '\0';
    return 0;
}

int adm_parse_i64(const char *s, int64_t *out)
{
    if (s == NULL)
        return -1;
    return parse_i64_range(out, s, strlen(s), INT64_MIN, INT64_MAX);
}

enum {
    O_JSON = 1,
    O_PW_STDIN,
    O_PUBLIC,
    O_ADMIN,
    O_URL,
    O_USER,
    O_ROLE,
    O_PROJECT,
    O_ACCESS,
    O_EMAIL,
    O_REALNAME,
    O_DATA,
    O_CONFIG,
    O_OLDER,
    O_LIMIT,
    O_DURATION,
};

static const struct cli_opt adm_opts_table[] = {
        {"--json", NULL, false, O_JSON},
        {"--password-stdin", NULL, false, O_PW_STDIN},
        {"--public", NULL, false, O_PUBLIC},
        {"--admin", NULL, false, O_ADMIN},
        {"--url", NULL, true, O_URL},
        {"--user", NULL, true, O_USER},
        {"--role", NULL, true, O_ROLE},
        {"--project", NULL, true, O_PROJECT},
        {"--access", NULL, true, O_ACCESS},
        {"--email", NULL, true, O_EMAIL},
        {"--realname", NULL, true, O_REALNAME},
        {"--data", NULL, true, O_DATA},
        {"--older-than", NULL, true, O_OLDER},
        {"--storage-limit", NULL, true, O_LIMIT},
        {"--duration", NULL, true, O_DURATION},
        {"--config", NULL, true, O_CONFIG},
        {NULL, NULL, false, 0},
};

/* adm_parse_opts reads argv[from..]; -1 on a usage error (message printed), 1 for --help */
int adm_parse_opts(struct adm_opts *o, int argc, char **argv, int from)
{
    const char **strs[O_DURATION + 1] = {
            [O_URL] = &o->url,           [O_USER] = &o->user,     [O_ROLE] = &o->role,
            [O_PROJECT] = &o->project,   [O_ACCESS] = &o->access, [O_EMAIL] = &o->email,
            [O_REALNAME] = &o->realname, [O_DATA] = &o->data,     [O_OLDER] = &o->older,
            [O_CONFIG] = &o->config,
    };
    struct cli_args w;
    const char *v;
    int64_t n;
    int id;

    cli_args_init(&w, argv[0], adm_opts_table, argc, argv, from);
    while ((id = cli_args_next(&w, &v)) != CLI_ARG_END) {
        switch (id) {
        case CLI_ARG_HELP:
            return 1;
        case CLI_ARG_ERR:
            return -1;
        case CLI_ARG_POS:
            if (o->npos == (int)(sizeof(o->pos) / sizeof(o->pos[0]))) {
                (void)cli_args_fail(&w, "too many arguments"); /* printed */
                return -1;
            }
            o->pos[o->npos++] = v;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_PW_STDIN:
            o->pw_stdin = true;
            break;
        case O_PUBLIC:
            o->public_ = true;
            break;
        case O_ADMIN:
            o->admin = true;
            break;
        case O_LIMIT:
        case O_DURATION:
            if (adm_parse_i64(v, &n) < 0) {
                (void)cli_args_fail(&w, "%s needs an integer",
                                    id == O_LIMIT ? "--storage-limit" : "--duration");
                return -1;
            }
            if (id == O_LIMIT) {
                o->limit = n;
                o->has_limit = true;
            } else {
                o->duration = n;
            }
            break;
        default:
            *strs[id] = v;
            break;
        }
    }
    if (o->url == NULL)
        o->url = getenv("BERTH_URL");
    if (o->user == NULL)
        o->user = getenv("BERTH_USER");
    return 0;
}

/* adm_need_creds: URL set, the caller's password from stdin or BERTH_PASSWORD */
int adm_need_creds(struct adm_opts *o)
{
    const char *env = getenv("BERTH_PASSWORD");

    if (o->url == NULL || o->url[0] == '\0') {
        fprintf(stderr, "berth: --url or BERTH_URL is required\n");
        return -1;
    }
    if (o->user == NULL)
        return 0; /* anonymous */
    if (o->pw_stdin) {
        if (adm_read_line(o->pass, sizeof(o->pass)) < 0) {
            fprintf(stderr, "berth: cannot read the password from stdin\n");
            return -1;
        }
    } else if (env != NULL && strlen(env) < sizeof(o->pass)) {
        memcpy(o->pass, env, strlen(env) + 1);
    } else {
        fprintf(stderr, "berth: give the password with --password-stdin or BERTH_PASSWORD\n");
        return -1;
    }
    o->have_pass = true;
    return 0;
}

/* adm_call: one API request; *out is the parsed JSON body (NULL when empty), status checked
 * against want (0 = any 2xx). Prints the API's error message and returns -1 otherwise. */
int adm_call(struct adm_opts *o, const char *method, const char *path, json_t *body, long want,
             json_t **out, struct http_resp *resp_out)
{
    char url[2048];
    struct http_resp resp;
    struct berr err;
    char *text = NULL;
    json_t *j = NULL;
    size_t ulen = strlen(o->url);
    int n, rc = 0;

    if (out != NULL)
        *out = NULL;
    while (ulen > 0 && o->url[ulen - 1] == '/')
        ulen--;
    n = snprintf(url, sizeof(url), "%.*s%s%s", (int)ulen, o->url, API, path);
    if (n < 0 || (size_t)n >= sizeof(url)) {
        fprintf(stderr, "berth: URL too long\n");
        return -1;
    }
    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT);
        if (text == NULL) {
            fprintf(stderr, "berth: out of memory\n");
            return -1;
        }
    }
    rc = http_call(&resp, method, url, o->user, o->have_pass ? o->pass : NULL, text, &err);
    if (text != NULL) {
        OPENSSL_cleanse(text, strlen(text)); /* may hold a password */
        free(text);
    }
    if (rc < 0) {
        fprintf(stderr, "berth: %s\n", err.msg);
        http_resp_cleanup(&resp);
        return -1;
    }
    if (resp.body.len > 0)
        j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
    if ((want != 0 && resp.status != want) ||
        (want == 0 && (resp.status < 200 || resp.status > 299))) {
        json_t *m = json_object_get(json_array_get(json_object_get(j, "errors"), 0), "message");
        fprintf(stderr, "berth: %s %s: HTTP %ld%s%s\n", method, path, resp.status,
                json_is_string(m) ? ": " : "", json_is_string(m) ? json_string_value(m) : "");
        rc = -1;
    }
    if (rc == 0 && out != NULL) {
        *out = j;
        j = NULL;
    }
    json_decref(j);
    if (resp_out != NULL && rc == 0)
        *resp_out = resp;
    else
        http_resp_cleanup(&resp);
    return rc;
}

void adm_print_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2));

    if (s != NULL) {
        printf("%s\n", s);
        free(s);
    }
}

const char *adm_str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s != NULL ? s : "";
}

long long adm_num(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* adm_list_all: GET path page by page (100 a page) into one array */
int adm_list_all(struct adm_opts *o, const char *path, json_t **out)
{
    char p[1024];
    json_t *all = json_array();
    json_t *page;
    int rc = 0;

    *out = NULL;
    if (all == NULL)
        return -1;
    for (int pg = 1; rc == 0; pg++) {
        int n = snprintf(p, sizeof(p), "%s%spage=%d&page_size=100", path,
                         strchr(path, '?') != NULL ? "&" : "?", pg);
        if (n < 0 || (size_t)n >= sizeof(p) || adm_call(o, "GET", p, NULL, 200, &page, NULL) < 0) {
            rc = -1;
            break;
        }
        if (!json_is_array(page) || json_array_size(page) == 0) {
            json_decref(page);
            break;
        }
        rc = json_array_extend(all, page) == 0 ? 0 : -1;
        n = (int)json_array_size(page);
        json_decref(page);
        if (n < 100)
            break;
    }
    if (rc < 0) {
        json_decref(all);
        return -1;
    }
    *out = all;
    return 0;
}

/* adm_print_ls lists path (every page) and prints it as JSON (--json) or as a table of the ncols
 * columns, one space apart. 0 done, 1 the listing failed (message printed). */
int adm_print_ls(struct adm_opts *o, const char *path, const struct adm_col *cols, size_t ncols)
{
    char cell[32];
    json_t *j = NULL;
    json_t *v;
    size_t i;

    if (adm_list_all(o, path, &j) < 0)
        return 1;
    if (o->json) {
        adm_print_json(j);
        json_decref(j);
        return 0;
    }
    for (size_t k = 0; k < ncols; k++)
        printf("%-*s%s", cols[k].width, cols[k].head, k + 1 < ncols ? " " : "\n");
    json_array_foreach(j, i, v)
    {
        for (size_t k = 0; k < ncols; k++) {
            const json_t *row = cols[k].sub != NULL ? json_object_get(v, cols[k].key) : v;
            const char *key = cols[k].sub != NULL ? cols[k].sub : cols[k].key;
            const char *cs = cell;

            switch (cols[k].kind) {
            case ADM_COL_NUM:
                (void)snprintf(cell, sizeof(cell), "%lld",
                               adm_num(row, key)); /* 21 chars at most */
                break;
            case ADM_COL_STR:
                cs = adm_str(row, key);
                break;
            case ADM_COL_YESNO:
                cs = json_is_true(json_object_get(row, key)) ? "yes" : "no";
                break;
            }
            printf("%-*s%s", cols[k].width, cs, k + 1 < ncols ? " " : "\n");
        }
    }
    json_decref(j);
    return 0;
}

enum { O_OFF_DATA = 1, O_OFF_CONFIG };

static const struct cli_opt offline_opts[] = {
        {"--data", NULL, true, O_OFF_DATA},
        {"--config", NULL, true, O_OFF_CONFIG},
        {NULL, NULL, false, 0},
};

int adm_offline_config(struct berth_config *cfg, const char **pos, int *status,
                       const struct adm_offline *c, int argc, char **argv)
{
    const char *data = NULL;
    const char *config = NULL;
    const char *v;
    struct cli_args w;
    struct berr e;
    int n = 0;
    int id;

    for (int i = 0; i < c->npos; i++)
        pos[i] = NULL;
    *status = 2;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        c->usage(argc < 2 ? stderr : stdout);
        *status = argc < 2 ? 2 : 0;
        return -1;
    }
    if (strcmp(argv[1], c->sub) != 0) {
        fprintf(stderr, "berth %s: unknown subcommand '%s'\n", c->cmd, argv[1]);
        c->usage(stderr);
        return -1;
    }
    cli_args_init(&w, c->cmd_sub, offline_opts, argc, argv, 2);
    while ((id = cli_args_next(&w, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_HELP) {
            c->usage(stdout);
            *status = 0;
            return -1;
        }
        if (id == O_OFF_DATA) {
            data = v;
        } else if (id == O_OFF_CONFIG) {
            config = v;
        } else if (id == CLI_ARG_POS && n < c->npos) {
            pos[n++] = v;
        } else {
            if (id == CLI_ARG_POS)
                (void)cli_args_fail(&w, "unexpected argument '%s'", v); /* printed */
            c->usage(stderr);
            return -1;
        }
    }
    for (int i = 0; i < c->npos; i++) {
        if (pos[i] == NULL || pos[i][0] == '\0') {
            c->usage(stderr);
            return -1;
        }
    }
    config_defaults(cfg);
    if ((config != NULL && config_load(cfg, config, &e) < 0) ||
        (data != NULL && config_set(cfg, "data_dir", data, &e) < 0)) {
        fprintf(stderr, "berth %s: %s\n", c->cmd, e.msg);
        return -1;
    }
    log_set_level(LOG_WARN);
    *status = 0;
    return 0;
}

int adm_meta_open(struct meta **out, const struct berth_config *cfg, const char *cmd)
{
    char path[CONFIG_STR_MAX + 16];
    struct stat st;
    struct berr e;

    *out = NULL;
    if (config_meta_location(cfg, path, sizeof(path), &e) < 0) {
        fprintf(stderr, "berth %s: %s\n", cmd, e.msg);
        return -1;
    }
    /* a SQLite file must exist already: this never creates a registry */
    if (strstr(path, "://") == NULL && stat(path, &st) < 0) {
        fprintf(stderr, "berth %s: %s: %s (is --data right?)\n", cmd, path, strerror(errno));
        return -1;
    }
    if (meta_open(out, path, 1, &e) < 0) {
        /* meta_open's messages never hold the location (it may carry a password) */
        fprintf(stderr, "berth %s: cannot open the metadata store: %s\n", cmd, e.msg);
        return -1;
    }
    return 0;
}

int adm_store_open(struct meta **out, const char *config, const char *data, const char *cmd)
{
    struct berth_config cfg;
    struct berr err;

    *out = NULL;
    config_defaults(&cfg);
    if ((config != NULL && config_load(&cfg, config, &err) < 0) ||
        (data != NULL && config_set(&cfg, "data_dir", data, &err) < 0)) {
        fprintf(stderr, "berth %s: %s\n", cmd, err.msg);
        return -1;
    }
    return adm_meta_open(out, &cfg, cmd);
}
