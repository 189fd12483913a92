/* admin_api.c - `berth project|member|robot|user ...` over the management REST API, and
 * `berth audit purge` on a data directory.
 *
 *   berth project ls|add NAME [--public] [--storage-limit BYTES]|rm NAME
 *   berth member  ls PROJECT|add PROJECT USER --role ROLE|rm PROJECT USER
 *   berth robot   ls|add NAME --project P [--access pull,push,delete] [--duration DAYS]|rm ID|refresh ID
 *   berth user    ls|add NAME --email E [--realname R] [--admin]|rm NAME|passwd NAME
 *   berth audit   purge --older-than 30d|12h --data DIR
 * common: --url URL --user NAME --password-stdin --json  (or BERTH_URL, BERTH_USER,
 * BERTH_PASSWORD). `berth user passwd NAME` with --data DIR (or without any URL) is the offline
 * reset of cli/admin.c, unchanged.
 *
 * Passwords come from stdin, one per line: the caller's first (with --password-stdin), then the
 * new user's (user add, user passwd). They are wiped after use and never printed; a robot
 * secret is printed once, as the API returns it once. Output: a table, or the API's JSON with
 * --json. Exit status: 0 done, 1 the API refused or failed (its message on stderr), 2 usage.
 * No shared state. */
#include "cli/cmds.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cli/http.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/audit.h"
#include "storage/meta.h"

#define API "/api/v2.0"
#define PW_MAX 256

struct opts {
    const char *url;
    const char *user;
    char pass[PW_MAX];
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
    const char *older;
    int64_t duration;
    int64_t limit;
    bool has_limit;
    bool public_;
    bool admin;
    const char *pos[4]; /* positional arguments after the verb */
    int npos;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: berth project ls | add NAME [--public] [--storage-limit BYTES] | rm NAME\n"
               "       berth member ls PROJECT | add PROJECT USER --role ROLE | rm PROJECT USER\n"
               "       berth robot ls | add NAME --project P [--access pull,push,delete]\n"
               "                  [--duration DAYS] | rm ID | refresh ID\n"
               "       berth user ls | add NAME --email E [--realname R] [--admin] | rm NAME |\n"
               "                  passwd NAME\n"
               "       berth audit purge --older-than 30d --data DIR\n\n"
               "API options: --url URL --user NAME --password-stdin --json\n"
               "(or BERTH_URL, BERTH_USER, BERTH_PASSWORD). ROLE: admin, developer, guest,\n"
               "maintainer, limited-guest or 1-5. Passwords are read from stdin, one per line.\n");
}

static int read_line(char *out, size_t cap)
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

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (s == NULL || *s == '\0')
        return -1;
    v = strtoll(s, &end, 10);
    if (*end != '\0')
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* parse_opts reads argv[from..]; -1 on a usage error (message printed) */
static int parse_opts(struct opts *o, int argc, char **argv, int from)
{
    for (int i = from; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (strcmp(a, "--password-stdin") == 0) {
            o->pw_stdin = true;
            continue;
        }
        if (strcmp(a, "--public") == 0) {
            o->public_ = true;
            continue;
        }
        if (strcmp(a, "--admin") == 0) {
            o->admin = true;
            continue;
        }
        if (strcmp(a, "--url") == 0)
            dst = &o->url;
        else if (strcmp(a, "--user") == 0)
            dst = &o->user;
        else if (strcmp(a, "--role") == 0)
            dst = &o->role;
        else if (strcmp(a, "--project") == 0)
            dst = &o->project;
        else if (strcmp(a, "--access") == 0)
            dst = &o->access;
        else if (strcmp(a, "--email") == 0)
            dst = &o->email;
        else if (strcmp(a, "--realname") == 0)
            dst = &o->realname;
        else if (strcmp(a, "--data") == 0)
            dst = &o->data;
        else if (strcmp(a, "--older-than") == 0)
            dst = &o->older;
        if (dst != NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "berth: %s needs a value\n", a);
                return -1;
            }
            *dst = argv[++i];
            continue;
        }
        if (strcmp(a, "--storage-limit") == 0 || strcmp(a, "--duration") == 0) {
            int64_t v;
            if (i + 1 >= argc || parse_i64(argv[i + 1], &v) < 0) {
                fprintf(stderr, "berth: %s needs an integer\n", a);
                return -1;
            }
            i++;
            if (a[2] == 's') {
                o->limit = v;
                o->has_limit = true;
            } else {
                o->duration = v;
            }
            continue;
        }
        if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "berth: unknown option %s\n", a);
            return -1;
        }
        if (o->npos == (int)(sizeof(o->pos) / sizeof(o->pos[0]))) {
            fprintf(stderr, "berth: too many arguments\n");
            return -1;
        }
        o->pos[o->npos++] = a;
    }
    if (o->url == NULL)
        o->url = getenv("BERTH_URL");
    if (o->user == NULL)
        o->user = getenv("BERTH_USER");
    return 0;
}

/* need_creds: URL set, the caller's password from stdin or BERTH_PASSWORD */
static int need_creds(struct opts *o)
{
    const char *env = getenv("BERTH_PASSWORD");

    if (o->url == NULL || o->url[0] == '\0') {
        fprintf(stderr, "berth: --url or BERTH_URL is required\n");
        return -1;
    }
    if (o->user == NULL)
        return 0; /* anonymous */
    if (o->pw_stdin) {
        if (read_line(o->pass, sizeof(o->pass)) < 0) {
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

/* call: one API request; *out is the parsed JSON body (NULL when empty), status checked
 * against want (0 = any 2xx). Prints the API's error message and returns -1 otherwise. */
static int call(struct opts *o, const char *method, const char *path, json_t *body, long want,
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

static void print_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2));

    if (s != NULL) {
        printf("%s\n", s);
        free(s);
    }
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s != NULL ? s : "";
}

static long long num(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* list: GET path page by page (100 a page) into one array */
static int list_all(struct opts *o, const char *path, json_t **out)
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
        if (n < 0 || (size_t)n >= sizeof(p) || call(o, "GET", p, NULL, 200, &page, NULL) < 0) {
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

/* One column of an `ls` table: heading, padding (0 for the last column), how the cell is shown,
 * and the field: key of each row, or with sub set the field sub of the object key. */
enum col_kind { COL_NUM, COL_STR, COL_YESNO };
struct col {
    const char *head;
    int width;
    enum col_kind kind;
    const char *key;
    const char *sub;
};

/* print_ls lists path (every page) and prints it as JSON (--json) or as a table of the ncols
 * columns, one space apart. 0 done, 1 the listing failed (message printed). */
static int print_ls(struct opts *o, const char *path, const struct col *cols, size_t ncols)
{
    char cell[32];
    json_t *j = NULL;
    json_t *v;
    size_t i;

    if (list_all(o, path, &j) < 0)
        return 1;
    if (o->json) {
        print_json(j);
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
            case COL_NUM:
                (void)snprintf(cell, sizeof(cell), "%lld", num(row, key)); /* 21 chars at most */
                break;
            case COL_STR:
                cs = str(row, key);
                break;
            case COL_YESNO:
                cs = json_is_true(json_object_get(row, key)) ? "yes" : "no";
                break;
            }
            printf("%-*s%s", cols[k].width, cs, k + 1 < ncols ? " " : "\n");
        }
    }
    json_decref(j);
    return 0;
}

/* ---- project ---- */

static int project_cmd(struct opts *o, const char *verb)
{
    char path[512];

    if (strcmp(verb, "ls") == 0) {
        static const struct col cols[] = {{"ID", 6, COL_NUM, "project_id", NULL},
                                          {"NAME", 30, COL_STR, "name", NULL},
                                          {"PUBLIC", 7, COL_STR, "metadata", "public"},
                                          {"REPOS", 6, COL_NUM, "repo_count", NULL},
                                          {"OWNER", 0, COL_STR, "owner_name", NULL}};
        return print_ls(o, "/projects", cols, sizeof(cols) / sizeof(cols[0]));
    }
    if (o->npos != 1) {
        usage(stderr);
        return 2;
    }
    if (strcmp(verb, "add") == 0) {
        json_t *b = json_pack("{s:s,s:{s:s}}", "project_name", o->pos[0], "metadata", "public",
                              o->public_ ? "true" : "false");
        int rc;
        if (b != NULL && o->has_limit)
            (void)json_object_set_new(b, "storage_limit", json_integer((json_int_t)o->limit));
        rc = call(o, "POST", "/projects", b, 201, NULL, NULL);
        json_decref(b);
        if (rc == 0 && !o->json)
            printf("project %s created\n", o->pos[0]);
        return rc < 0 ? 1 : 0;
    }
    if (strcmp(verb, "rm") == 0) {
        (void)snprintf(path, sizeof(path), "/projects/%s", o->pos[0]); /* names are short */
        if (call(o, "DELETE", path, NULL, 200, NULL, NULL) < 0)
            return 1;
        if (!o->json)
            printf("project %s deleted\n", o->pos[0]);
        return 0;
    }
    usage(stderr);
    return 2;
}

/* ---- member ---- */

static int role_id(const char *s)
{
    static const char *const names[] = {NULL,    "admin",      "developer",
                                        "guest", "maintainer", "limited-guest"};
    int64_t v;

    if (s == NULL)
        return -1;
    for (int i = 1; i <= 5; i++) {
        if (strcmp(s, names[i]) == 0)
            return i;
    }
    if (parse_i64(s, &v) == 0 && v >= 1 && v <= 5)
        return (int)v;
    return -1;
}

/* member_find: the member id of user in project, 0 when not a member */
static int member_find(struct opts *o, const char *project, const char *user, int64_t *id)
{
    char path[768];
    json_t *j;
    size_t i;
    json_t *v;

    *id = 0;
    (void)snprintf(path, sizeof(path), "/projects/%s/members?entityname=%s", project, user);
    if (list_all(o, path, &j) < 0)
        return -1;
    json_array_foreach(j, i, v)
    {
        if (strcmp(str(v, "entity_name"), user) == 0)
            *id = (int64_t)num(v, "id");
    }
    json_decref(j);
    return 0;
}

static int member_cmd(struct opts *o, const char *verb)
{
    char path[768];
    int64_t id;
    int rc;

    if (o->npos < 1) {
        usage(stderr);
        return 2;
    }
    if (strcmp(verb, "ls") == 0) {
        (void)snprintf(path, sizeof(path), "/projects/%s/members", o->pos[0]);
        static const struct col cols[] = {{"ID", 6, COL_NUM, "id", NULL},
                                          {"USER", 30, COL_STR, "entity_name", NULL},
                                          {"ROLE", 0, COL_STR, "role_name", NULL}};
        return print_ls(o, path, cols, sizeof(cols) / sizeof(cols[0]));
    }
    if (o->npos != 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(verb, "add") == 0) {
        int role = role_id(o->role);
        if (role < 0) {
            fprintf(stderr, "berth: --role must be admin, developer, guest, maintainer, "
                            "limited-guest or 1-5\n");
            return 2;
        }
        json_t *b =
                json_pack("{s:i,s:{s:s}}", "role_id", role, "member_user", "username", o->pos[1]);
        (void)snprintf(path, sizeof(path), "/projects/%s/members", o->pos[0]);
        rc = call(o, "POST", path, b, 201, NULL, NULL);
        json_decref(b);
        if (rc == 0 && !o->json)
            printf("%s added to %s\n", o->pos[1], o->pos[0]);
        return rc < 0 ? 1 : 0;
    }
    if (strcmp(verb, "rm") == 0) {
        if (member_find(o, o->pos[0], o->pos[1], &id) < 0)
            return 1;
        if (id == 0) {
            fprintf(stderr, "berth: %s is not a member of %s\n", o->pos[1], o->pos[0]);
            return 1;
        }
        (void)snprintf(path, sizeof(path), "/projects/%s/members/%lld", o->pos[0], (long long)id);
        if (call(o, "DELETE", path, NULL, 200, NULL, NULL) < 0)
            return 1;
        if (!o->json)
            printf("%s removed from %s\n", o->pos[1], o->pos[0]);
        return 0;
    }
    usage(stderr);
    return 2;
}

/* ---- robot ---- */

static json_t *access_list(const char *spec)
{
    json_t *arr = json_array();
    const char *s = spec != NULL ? spec : "pull";

    while (arr != NULL && *s != '\0') {
        const char *e = strchr(s, ',');
        size_t len = e != NULL ? (size_t)(e - s) : strlen(s);
        char act[16];
        if (len == 0 || len >= sizeof(act)) {
            json_decref(arr);
            return NULL;
        }
        memcpy(act, s, len);
        act[len] = '\0';
        if (json_array_append_new(
                    arr, json_pack("{s:s,s:s}", "resource", "repository", "action", act)) < 0) {
            json_decref(arr);
            return NULL;
        }
        s = e != NULL ? e + 1 : s + len;
    }
    return arr;
}

static int robot_cmd(struct opts *o, const char *verb)
{
    char path[256];
    json_t *j = NULL;
    int64_t id;
    int rc;

    if (strcmp(verb, "ls") == 0) {
        static const struct col cols[] = {{"ID", 6, COL_NUM, "id", NULL},
                                          {"NAME", 40, COL_STR, "name", NULL},
                                          {"LEVEL", 8, COL_STR, "level", NULL},
                                          {"DISABLED", 0, COL_YESNO, "disable", NULL}};
        return print_ls(o, "/robots", cols, sizeof(cols) / sizeof(cols[0]));
    }
    if (o->npos != 1) {
        usage(stderr);
        return 2;
    }
    if (strcmp(verb, "add") == 0) {
        json_t *acc = access_list(o->access);
        json_t *b;
        if (o->project == NULL || acc == NULL) {
            json_decref(acc);
            fprintf(stderr, "berth: robot add needs --project and a valid --access list\n");
            return 2;
        }
        b = json_pack("{s:s,s:s,s:I,s:[{s:s,s:s,s:o}]}", "name", o->pos[0], "level", "system",
                      "duration", (json_int_t)(o->duration != 0 ? o->duration : -1), "permissions",
                      "kind", "project", "namespace", o->project, "access", acc);
        rc = call(o, "POST", "/robots", b, 201, &j, NULL);
        json_decref(b);
        if (rc < 0)
            return 1;
        if (o->json)
            print_json(j);
        else
            printf("robot %s (id %lld) created\nsecret: %s\n", str(j, "name"), num(j, "id"),
                   str(j, "secret"));
        json_decref(j);
        return 0;
    }
    if (parse_i64(o->pos[0], &id) < 0 || id <= 0) {
        fprintf(stderr, "berth: robot id must be a positive integer\n");
        return 2;
    }
    (void)snprintf(path, sizeof(path), "/robots/%lld", (long long)id);
    if (strcmp(verb, "rm") == 0) {
        if (call(o, "DELETE", path, NULL, 200, NULL, NULL) < 0)
            return 1;
        if (!o->json)
            printf("robot %lld deleted\n", (long long)id);
        return 0;
    }
    if (strcmp(verb, "refresh") == 0) {
        json_t *b = json_object();
        rc = call(o, "PATCH", path, b, 200, &j, NULL);
        json_decref(b);
        if (rc < 0)
            return 1;
        if (o->json)
            print_json(j);
        else
            printf("secret: %s\n", str(j, "secret"));
        json_decref(j);
        return 0;
    }
    usage(stderr);
    return 2;
}

/* ---- user ---- */

static int user_id(struct opts *o, const char *name, int64_t *id)
{
    char path[512];
    json_t *j;
    size_t i;
    json_t *v;

    *id = 0;
    (void)snprintf(path, sizeof(path), "/users?q=username%%3D%s", name);
    if (list_all(o, path, &j) < 0)
        return -1;
    json_array_foreach(j, i, v)
    {
        if (strcmp(str(v, "username"), name) == 0)
            *id = (int64_t)num(v, "user_id");
    }
    json_decref(j);
    if (*id == 0) {
        fprintf(stderr, "berth: user %s not found\n", name);
        return -1;
    }
    return 0;
}

static int user_cmd(struct opts *o, const char *verb)
{
    char path[256];
    char pw[PW_MAX];
    json_t *b;
    int64_t id;
    int rc;

    if (strcmp(verb, "ls") == 0) {
        static const struct col cols[] = {{"ID", 6, COL_NUM, "user_id", NULL},
                                          {"NAME", 30, COL_STR, "username", NULL},
                                          {"ADMIN", 6, COL_YESNO, "sysadmin_flag", NULL},
                                          {"EMAIL", 0, COL_STR, "email", NULL}};
        return print_ls(o, "/users", cols, sizeof(cols) / sizeof(cols[0]));
    }
    if (o->npos != 1) {
        usage(stderr);
        return 2;
    }
    if (strcmp(verb, "add") == 0 || strcmp(verb, "passwd") == 0) {
        if (read_line(pw, sizeof(pw)) < 0 || pw[0] == '\0') {
            fprintf(stderr, "berth: the new password is read from stdin (one line)\n");
            return 2;
        }
        if (strcmp(verb, "add") == 0) {
            b = json_pack("{s:s,s:s,s:s,s:s}", "username", o->pos[0], "password", pw, "email",
                          o->email != NULL ? o->email : "", "realname",
                          o->realname != NULL ? o->realname : o->pos[0]);
            OPENSSL_cleanse(pw, sizeof(pw));
            rc = call(o, "POST", "/users", b, 201, NULL, NULL);
            json_decref(b);
            if (rc == 0 && o->admin) {
                rc = user_id(o, o->pos[0], &id);
                (void)snprintf(path, sizeof(path), "/users/%lld/sysadmin", (long long)id);
                b = json_pack("{s:b}", "sysadmin_flag", 1);
                if (rc == 0)
                    rc = call(o, "PUT", path, b, 200, NULL, NULL);
                json_decref(b);
            }
            if (rc == 0 && !o->json)
                printf("user %s created\n", o->pos[0]);
            return rc < 0 ? 1 : 0;
        }
        rc = user_id(o, o->pos[0], &id);
        b = json_pack("{s:s}", "new_password", pw);
        OPENSSL_cleanse(pw, sizeof(pw));
        (void)snprintf(path, sizeof(path), "/users/%lld/password", (long long)id);
        if (rc == 0)
            rc = call(o, "PUT", path, b, 200, NULL, NULL);
        json_decref(b);
        if (rc == 0 && !o->json)
            printf("password of %s changed\n", o->pos[0]);
        return rc < 0 ? 1 : 0;
    }
    if (strcmp(verb, "rm") == 0) {
        if (user_id(o, o->pos[0], &id) < 0)
            return 1;
        (void)snprintf(path, sizeof(path), "/users/%lld", (long long)id);
        if (call(o, "DELETE", path, NULL, 200, NULL, NULL) < 0)
            return 1;
        if (!o->json)
            printf("user %s deleted\n", o->pos[0]);
        return 0;
    }
    usage(stderr);
    return 2;
}

/* ---- dispatch ---- */

static int run(int argc, char **argv, int (*fn)(struct opts *, const char *))
{
    struct opts o;
    int rc;

    memset(&o, 0, sizeof(o));
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (parse_opts(&o, argc, argv, 2) < 0) {
        usage(stderr);
        return 2;
    }
    mem_install_json();
    if (need_creds(&o) < 0)
        return 2;
    rc = fn(&o, argv[1]);
    OPENSSL_cleanse(o.pass, sizeof(o.pass));
    return rc;
}

int cmd_project(int argc, char **argv)
{
    return run(argc, argv, project_cmd);
}

int cmd_member(int argc, char **argv)
{
    return run(argc, argv, member_cmd);
}

int cmd_robot(int argc, char **argv)
{
    return run(argc, argv, robot_cmd);
}

int cmd_user_any(int argc, char **argv)
{
    bool offline = false, url = getenv("BERTH_URL") != NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 || strcmp(argv[i], "--config") == 0 ||
            strncmp(argv[i], "--data=", 7) == 0 || strncmp(argv[i], "--config=", 9) == 0)
            offline = true;
        if (strcmp(argv[i], "--url") == 0)
            url = true;
    }
    /* the offline reset (cli/admin.c) keeps its behaviour: passwd with --data, or no URL */
    if (argc >= 2 && strcmp(argv[1], "passwd") == 0 && (offline || !url))
        return cmd_user(argc, argv);
    return run(argc, argv, user_cmd);
}

/* parse_age: "30d", "12h", "90m", "3600s" or seconds */
static int parse_age(const char *s, int64_t *out)
{
    size_t len = strlen(s);
    int64_t mul = 1, v;
    char num_s[24];

    if (len == 0 || len >= sizeof(num_s))
        return -1;
    memcpy(num_s, s, len + 1);
    switch (num_s[len - 1]) {
    case 'd':
        mul = 86400;
        num_s[len - 1] = '\0';
        break;
    case 'h':
        mul = 3600;
        num_s[len - 1] = '\0';
        break;
    case 'm':
        mul = 60;
        num_s[len - 1] = '\0';
        break;
    case 's':
        num_s[len - 1] = '\0';
        break;
    default:
        break;
    }
    if (parse_i64(num_s, &v) < 0 || v < 0 || v > INT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

int cmd_audit(int argc, char **argv)
{
    struct opts o;
    struct meta *m = NULL;
    struct berr err;
    char path[4096];
    int64_t age, removed = 0;
    int n;

    memset(&o, 0, sizeof(o));
    if (argc < 2 || strcmp(argv[1], "purge") != 0 || parse_opts(&o, argc, argv, 2) < 0 ||
        o.older == NULL || o.data == NULL || o.npos != 0) {
        fprintf(stderr, "usage: berth audit purge --older-than 30d --data DIR\n");
        return 2;
    }
    if (parse_age(o.older, &age) < 0) {
        fprintf(stderr, "berth audit: --older-than takes 30d, 12h, 90m or seconds\n");
        return 2;
    }
    n = snprintf(path, sizeof(path), "%s/berth.db", o.data);
    if (n < 0 || (size_t)n >= sizeof(path) || access(path, F_OK) != 0) {
        fprintf(stderr, "berth audit: no database at %s/berth.db\n", o.data);
        return 1;
    }
    if (meta_open(&m, path, 1, &err) < 0 || audit_purge(m, now_s() - age, &removed, &err) < 0) {
        fprintf(stderr, "berth audit: %s\n", err.msg);
        meta_close(m);
        return 1;
    }
    meta_close(m);
    printf("removed %lld audit events older than %s\n", (long long)removed, o.older);
    return 0;
}
