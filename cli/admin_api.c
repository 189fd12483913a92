/* admin_api.c - `berth project|member|robot|user ...` over the management REST API, and
 * `berth audit purge` on a data directory or the metadata store of a configuration.
 *
 *   berth project ls|add NAME [--public] [--storage-limit BYTES]|rm NAME
 *   berth member  ls PROJECT|add PROJECT USER --role ROLE|rm PROJECT USER
 *   berth robot   ls|add NAME --project P [--access pull,push,delete] [--duration DAYS]|rm ID|refresh ID
 *   berth user    ls|add NAME --email E [--realname R] [--admin]|rm NAME|passwd NAME
 *   berth audit   purge --older-than 30d|12h (--data DIR | --config FILE, both: --data over the
 *                 configuration's data_dir; the configuration's metadata may be PostgreSQL)
 * common: --url URL --user NAME --password-stdin --json  (or BERTH_URL, BERTH_USER,
 * BERTH_PASSWORD). `berth user passwd NAME` with --data DIR (or without any URL) is the offline
 * reset of cli/admin.c, unchanged.
 *
 * Passwords come from stdin, one per line: the caller's first (with --password-stdin), then the
 * new user's (user add, user passwd). They are wiped after use and never printed; a robot
 * secret is printed once, as the API returns it once. Output: a table, or the API's JSON with
 * --json. Exit status: 0 done, 1 the API refused or failed (its message on stderr), 2 usage.
 * Option parsing, the request, paging and tables are cli/admin_common.c's (adm_*).
 * No shared state. */
#include "cli/cmds.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cli/admin_common.h"
#include "common/mem.h"
#include "config/config.h"
#include "common/util.h"
#include "storage/audit.h"
#include "storage/meta.h"

/* ---- project ---- */

static int project_cmd(struct adm_opts *o, const char *verb)
{
    char path[512];

    if (strcmp(verb, "ls") == 0) {
        static const struct adm_col cols[] = {{"ID", 6, ADM_COL_NUM, "project_id", NULL},
                                              {"NAME", 30, ADM_COL_STR, "name", NULL},
                                              {"PUBLIC", 7, ADM_COL_STR, "metadata", "public"},
                                              {"REPOS", 6, ADM_COL_NUM, "repo_count", NULL},
                                              {"OWNER", 0, ADM_COL_STR, "owner_name", NULL}};
        return adm_print_ls(o, "/projects", cols, sizeof(cols) / sizeof(cols[0]));
    }
    if (o->npos != 1) {
        adm_usage(stderr);
        return 2;
    }
    if (strcmp(verb, "add") == 0) {
        json_t *b = json_pack("{s:s,s:{s:s}}", "project_name", o->pos[0], "metadata", "public",
                              o->public_ ? "true" : "false");
        int rc;
        if (b != NULL && o->has_limit)
            (void)json_object_set_new(b, "storage_limit", json_integer((json_int_t)o->limit));
        rc = adm_call(o, "POST", "/projects", b, 201, NULL, NULL);
        json_decref(b);
        if (rc == 0 && !o->json)
            printf("project %s created\n", o->pos[0]);
        return rc < 0 ? 1 : 0;
    }
    if (strcmp(verb, "rm") == 0) {
        (void)snprintf(path, sizeof(path), "/projects/%s", o->pos[0]); /* names are short */
        if (adm_call(o, "DELETE", path, NULL, 200, NULL, NULL) < 0)
            return 1;
        if (!o->json)
            printf("project %s deleted\n", o->pos[0]);
        return 0;
    }
    adm_usage(stderr);
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
    if (adm_parse_i64(s, &v) == 0 && v >= 1 && v <= 5)
        return (int)v;
    return -1;
}

/* member_find: the member id of user in project, 0 when not a member */
static int member_find(struct adm_opts *o, const char *project, const char *user, int64_t *id)
{
    char path[768];
    json_t *j;
    size_t i;
    json_t *v;

    *id = 0;
    (void)snprintf(path, sizeof(path), "/projects/%s/members?entityname=%s", project, user);
    if (adm_list_all(o, path, &j) < 0)
        return -1;
    json_array_foreach(j, i, v)
    {
        if (strcmp(adm_str(v, "entity_name"), user) == 0)
            *id = (int64_t)adm_num(v, "id");
    }
    json_decref(j);
    return 0;
}

static int member_cmd(struct adm_opts *o, const char *verb)
{
    char path[768];
    int64_t id;
    int rc;

    if (o->npos < 1) {
        adm_usage(stderr);
        return 2;
    }
    if (strcmp(verb, "ls") == 0) {
        (void)snprintf(path, sizeof(path), "/projects/%s/members", o->pos[0]);
        static const struct adm_col cols[] = {{"ID", 6, ADM_COL_NUM, "id", NULL},
                                              {"USER", 30, ADM_COL_STR, "entity_name", NULL},
                                              {"ROLE", 0, ADM_COL_STR, "role_name", NULL}};
        return adm_print_ls(o, path, cols, sizeof(cols) / sizeof(cols[0]));
    }
    if (o->npos != 2) {
        adm_usage(stderr);
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
        rc = adm_call(o, "POST", path, b, 201, NULL, NULL);
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
        if (adm_call(o, "DELETE", path, NULL, 200, NULL, NULL) < 0)
            return 1;
        if (!o->json)
            printf("%s removed from %s\n", o->pos[1], o->pos[0]);
        return 0;
    }
    adm_usage(stderr);
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

static int robot_cmd(struct adm_opts *o, const char *verb)
{
    char path[256];
    json_t *j = NULL;
    int64_t id;
    int rc;

    if (strcmp(verb, "ls") == 0) {
        static const struct adm_col cols[] = {{"ID", 6, ADM_COL_NUM, "id", NULL},
                                              {"NAME", 40, ADM_COL_STR, "name", NULL},
                                              {"LEVEL", 8, ADM_COL_STR, "level", NULL},
                                              {"DISABLED", 0, ADM_COL_YESNO, "disable", NULL}};
        return adm_print_ls(o, "/robots", cols, sizeof(cols) / sizeof(cols[0]));
    }
    if (o->npos != 1) {
        adm_usage(stderr);
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
        rc = adm_call(o, "POST", "/robots", b, 201, &j, NULL);
        json_decref(b);
        if (rc < 0)
            return 1;
        if (o->json)
            adm_print_json(j);
        else
            printf("robot %s (id %lld) created\nsecret: %s\n", adm_str(j, "name"), adm_num(j, "id"),
                   adm_str(j, "secret"));
        json_decref(j);
        return 0;
    }
    if (adm_parse_i64(o->pos[0], &id) < 0 || id <= 0) {
        fprintf(stderr, "berth: robot id must be a positive integer\n");
        return 2;
    }
    (void)snprintf(path, sizeof(path), "/robots/%lld", (long long)id);
    if (strcmp(verb, "rm") == 0) {
        if (adm_call(o, "DELETE", path, NULL, 200, NULL, NULL) < 0)
            return 1;
        if (!o->json)
            printf("robot %lld deleted\n", (long long)id);
        return 0;
    }
    if (strcmp(verb, "refresh") == 0) {
        json_t *b = json_object();
        rc = adm_call(o, "PATCH", path, b, 200, &j, NULL);
        json_decref(b);
        if (rc < 0)
            return 1;
        if (o->json)
            adm_print_json(j);
        else
            printf("secret: %s\n", adm_str(j, "secret"));
        json_decref(j);
        return 0;
    }
    adm_usage(stderr);
    return 2;
}

/* ---- user ---- */

static int user_id(struct adm_opts *o, const char *name, int64_t *id)
{
    char path[512];
    json_t *j;
    size_t i;
    json_t *v;

    *id = 0;
    (void)snprintf(path, sizeof(path), "/users?q=username%%3D%s", name);
    if (adm_list_all(o, path, &j) < 0)
        return -1;
    json_array_foreach(j, i, v)
    {
        if (strcmp(adm_str(v, "username"), name) == 0)
            *id = (int64_t)adm_num(v, "user_id");
    }
    json_decref(j);
    if (*id == 0) {
        fprintf(stderr, "berth: user %s not found\n", name);
        return -1;
    }
    return 0;
}

static int user_cmd(struct adm_opts *o, const char *verb)
{
    char path[256];
    char pw[ADM_PW_MAX];
    json_t *b;
    int64_t id;
    int rc;

    if (strcmp(verb, "ls") == 0) {
        static const struct adm_col cols[] = {{"ID", 6, ADM_COL_NUM, "user_id", NULL},
                                              {"NAME", 30, ADM_COL_STR, "username", NULL},
                                              {"ADMIN", 6, ADM_COL_YESNO, "sysadmin_flag", NULL},
                                              {"EMAIL", 0, ADM_COL_STR, "email", NULL}};
        return adm_print_ls(o, "/users", cols, sizeof(cols) / sizeof(cols[0]));
    }
    if (o->npos != 1) {
        adm_usage(stderr);
        return 2;
    }
    if (strcmp(verb, "add") == 0 || strcmp(verb, "passwd") == 0) {
        if (adm_read_line(pw, sizeof(pw)) < 0 || pw[0] == '\0') {
            fprintf(stderr, "berth: the new password is read from stdin (one line)\n");
            return 2;
        }
        if (strcmp(verb, "add") == 0) {
            b = json_pack("{s:s,s:s,s:s,s:s}", "username", o->pos[0], "password", pw, "email",
                          o->email != NULL ? o->email : "", "realname",
                          o->realname != NULL ? o->realname : o->pos[0]);
            OPENSSL_cleanse(pw, sizeof(pw));
            rc = adm_call(o, "POST", "/users", b, 201, NULL, NULL);
            json_decref(b);
            if (rc == 0 && o->admin) {
                rc = user_id(o, o->pos[0], &id);
                (void)snprintf(path, sizeof(path), "/users/%lld/sysadmin", (long long)id);
                b = json_pack("{s:b}", "sysadmin_flag", 1);
                if (rc == 0)
                    rc = adm_call(o, "PUT", path, b, 200, NULL, NULL);
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
            rc = adm_call(o, "PUT", path, b, 200, NULL, NULL);
        json_decref(b);
        if (rc == 0 && !o->json)
            printf("password of %s changed\n", o->pos[0]);
        return rc < 0 ? 1 : 0;
    }
    if (strcmp(verb, "rm") == 0) {
        if (user_id(o, o->pos[0], &id) < 0)
            return 1;
        (void)snprintf(path, sizeof(path), "/users/%lld", (long long)id);
        if (adm_call(o, "DELETE", path, NULL, 200, NULL, NULL) < 0)
            return 1;
        if (!o->json)
            printf("user %s deleted\n", o->pos[0]);
        return 0;
    }
    adm_usage(stderr);
    return 2;
}

/* ---- dispatch ---- */

static int run(int argc, char **argv, int (*fn)(struct adm_opts *, const char *))
{
    struct adm_opts o;
    int rc;

    memset(&o, 0, sizeof(o));
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        adm_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    rc = adm_parse_opts(&o, argc, argv, 2);
    if (rc != 0) {
        adm_usage(rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    mem_install_json();
    if (adm_need_creds(&o) < 0)
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
        if (strcmp(argv[i], "--url") == 0 || strncmp(argv[i], "--url=", 6) == 0)
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
    if (adm_parse_i64(num_s, &v) < 0 || v < 0 || v > INT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

int cmd_audit(int argc, char **argv)
{
    struct adm_opts o;
    struct meta *m = NULL;
    struct berr err;
    int64_t age, removed = 0;
    int rc = 1;

    memset(&o, 0, sizeof(o));
    if (argc < 2 || strcmp(argv[1], "purge") != 0 || adm_parse_opts(&o, argc, argv, 2) != 0 ||
        o.older == NULL || (o.data == NULL && o.config == NULL) || o.npos != 0) {
        fprintf(stderr, "usage: berth audit purge --older-than 30d (--data DIR | --config FILE)\n");
        return 2;
    }
    if (parse_age(o.older, &age) < 0) {
        fprintf(stderr, "berth audit: --older-than takes 30d, 12h, 90m or seconds\n");
        return 2;
    }
    if (adm_store_open(&m, o.config, o.data, "audit") < 0)
        return 1;
    if (audit_purge(m, now_s() - age, &removed, &err) < 0) {
        fprintf(stderr, "berth audit: %s\n", err.msg);
    } else {
        printf("removed %lld audit events older than %s\n", (long long)removed, o.older);
        rc = 0;
    }
    meta_close(m);
    return rc;
}
