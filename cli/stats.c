/* stats.c - `berth stats [--data DIR] [--json] [REPOSITORY]`: pull counts per repository,
 * artifact and tag, read offline from DATA/berth.db (the server may be running: SQLite's WAL
 * lets this reader see the last committed state). Pulls the server still holds in memory (at
 * most pull_flush_s seconds' worth) are not in the database yet and not shown.
 *
 * Output: a table (repository, artifact digest, tags, pulls, last pull) or, with --json, one JSON
 * document {"repositories":[{name, pull_count, artifacts:[{digest, pull_count, pull_time,
 * tags:[{name, pull_count, pull_time}]}]}]}. Exit status 0, 1 on failure, 2 on usage error.
 * The data directory must exist: stats never creates a registry. No shared state. */
#include "cli/cmds.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli/opt.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/meta.h"

#define STATS_PAGE 100

static void stats_usage(FILE *f)
{
    fprintf(f, "usage: berth stats [--data DIR] [--json] [REPOSITORY]\n\n"
               "Prints pull counts per repository, artifact and tag from DIR/berth.db\n"
               "(default ./data). REPOSITORY limits the output to one repository.\n");
}

static json_t *when_json(int64_t t)
{
    char buf[32];

    if (t <= 0)
        return json_null();
    time_rfc3339(t, buf, sizeof(buf));
    return json_string(buf);
}

/* add_children appends the children of index a (pulled by digest, listed under it) */
static int add_children(struct meta *m, const struct meta_artifact *a, json_t *ja, struct berr *err)
{
    struct meta_artifact_ref refs[64];
    struct meta_artifact ca;
    char dstr[DIGEST_STR_LEN + 1];
    char pstr[DIGEST_STR_LEN + 1];
    size_t n = 0;

    if (meta_artifact_refs(m, a->id, refs, 64, &n, err) < 0)
        return -1;
    digest_format(&a->digest, pstr, sizeof(pstr));
    for (size_t i = 0; i < n; i++) {
        if (refs[i].child_id <= 0 || meta_artifact_get(m, a->repo_id, &refs[i].child, &ca, err) < 0)
            continue; /* a child not in the repository has no counts */
        digest_format(&ca.digest, dstr, sizeof(dstr));
        if (json_array_append_new(ja,
                                  json_pack("{s:s,s:s,s:I,s:o,s:[]}", "digest", dstr, "child_of",
                                            pstr, "pull_count", (json_int_t)ca.pull_count,
                                            "pull_time", when_json(ca.pull_time), "tags")) < 0)
            return -1;
    }
    return 0;
}

/* one repository: its artifacts (index children after their index) and their tags */
static json_t *repo_stats(struct meta *m, const struct meta_repo_info *r, struct berr *err)
{
    struct meta_artifact *arts = mem_calloc(STATS_PAGE, sizeof(*arts));
    struct meta_tag_info *tags = mem_calloc(STATS_PAGE, sizeof(*tags));
    struct meta_artifact_q q;
    struct meta_list_q tq;
    char dstr[DIGEST_STR_LEN + 1];
    json_t *jr = NULL, *ja = NULL, *jt, *one;
    int64_t total = 0, ttotal;
    size_t n = 0, nt, i, k;
    int rc = 0;

    jr = json_pack("{s:s,s:I,s:[]}", "name", r->name, "pull_count", (json_int_t)r->pull_count,
                   "artifacts");
    if (arts == NULL || tags == NULL || jr == NULL)
        goto fail;
    ja = json_object_get(jr, "artifacts");
    memset(&q, 0, sizeof(q));
    q.repo_id = r->id;
    q.tagged = -1;
    q.l.limit = STATS_PAGE;
    q.l.sort = "-pull_count";
    do {
        if (meta_artifact_list(m, &q, arts, STATS_PAGE, &n, &total, err) < 0)
            goto fail;
        for (i = 0; i < n; i++) {
            digest_format(&arts[i].digest, dstr, sizeof(dstr));
            one = json_pack("{s:s,s:I,s:o,s:[]}", "digest", dstr, "pull_count",
                            (json_int_t)arts[i].pull_count, "pull_time",
                            when_json(arts[i].pull_time), "tags");
            if (one == NULL || json_array_append_new(ja, one) < 0)
                goto fail;
            jt = json_object_get(one, "tags");
            memset(&tq, 0, sizeof(tq));
            tq.limit = STATS_PAGE;
            if (meta_artifact_tags(m, arts[i].id, &tq, tags, STATS_PAGE, &nt, &ttotal, err) < 0)
                goto fail;
            for (k = 0; k < nt; k++) {
                if (json_array_append_new(jt,
                                          json_pack("{s:s,s:I,s:o}", "name", tags[k].name,
                                                    "pull_count", (json_int_t)tags[k].pull_count,
                                                    "pull_time", when_json(tags[k].pull_time))) < 0)
                    goto fail;
            }
            if (arts[i].is_index && add_children(m, &arts[i], ja, err) < 0)
                goto fail;
        }
        q.l.offset += (int64_t)n;
    } while (n == STATS_PAGE && q.l.offset < total);
    goto out;
fail:
    rc = -1;
out:
    mem_free(arts);
    mem_free(tags);
    if (rc < 0) {
        json_decref(jr);
        return NULL;
    }
    return jr;
}

static void print_table(json_t *doc)
{
    size_t i, k, t;
    json_t *r, *a, *tag;
    const char *sep;

    printf("%-40s %-19s %10s  %-20s  %s\n", "REPOSITORY", "ARTIFACT", "PULLS", "LAST PULL",
           "TAGS (pulls)");
    json_array_foreach(json_object_get(doc, "repositories"), i, r)
    {
        printf("%-40s %-19s %10lld\n", json_string_value(json_object_get(r, "name")), "",
               (long long)json_integer_value(json_object_get(r, "pull_count")));
        json_array_foreach(json_object_get(r, "artifacts"), k, a)
        {
            const char *d = json_string_value(json_object_get(a, "digest"));
            const char *w = json_string_value(json_object_get(a, "pull_time"));
            printf("%-40s %.19s %10lld  %-20s  ", "", d != NULL ? d : "",
                   (long long)json_integer_value(json_object_get(a, "pull_count")),
                   w != NULL ? w : "never");
            sep = "";
            json_array_foreach(json_object_get(a, "tags"), t, tag)
            {
                printf("%s%s (%lld)", sep, json_string_value(json_object_get(tag, "name")),
                       (long long)json_integer_value(json_object_get(tag, "pull_count")));
                sep = ", ";
            }
            printf("\n");
        }
    }
}

enum { O_DATA = 1, O_JSON };

static const struct cli_opt stats_opts[] = {
        {"--data", NULL, true, O_DATA},
        {"--json", NULL, false, O_JSON},
        {NULL, NULL, false, 0},
};

int cmd_stats(int argc, char **argv)
{
    const char *data = "./data";
    const char *only = NULL;
    const char *v;
    struct cli_args w;
    int id;
    struct meta_repo_info *rows = NULL;
    struct meta_repo_q q;
    struct meta *m = NULL;
    struct berr err = {0};
    char path[PATH_MAX];
    struct stat st;
    json_t *doc = NULL, *arr, *one;
    int64_t total = 0;
    bool as_json = false;
    size_t n = 0, i;
    int rc = 1;
    int len;

    cli_args_init(&w, "stats", stats_opts, argc, argv, 1);
    while ((id = cli_args_next(&w, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_HELP) {
            stats_usage(stdout);
            return 0;
        } else if (id == O_DATA) {
            data = v;
        } else if (id == O_JSON) {
            as_json = true;
        } else if (id == CLI_ARG_POS && only == NULL) {
            only = v;
        } else {
            if (id == CLI_ARG_POS)
                (void)cli_args_fail(&w, "unexpected argument '%s'", v); /* printed */
            stats_usage(stderr);
            return 2;
        }
    }
    mem_install_json();
    len = snprintf(path, sizeof(path), "%s/berth.db", data);
    if (len < 0 || (size_t)len >= sizeof(path) || stat(path, &st) < 0) {
        fprintf(stderr, "berth stats: no registry database at %s/berth.db\n", data);
        return 1;
    }
    if (meta_open(&m, path, 1, &err) < 0) {
        fprintf(stderr, "berth stats: %s\n", err.msg);
        return 1;
    }
    rows = mem_calloc(STATS_PAGE, sizeof(*rows));
    doc = json_pack("{s:[]}", "repositories");
    if (rows == NULL || doc == NULL)
        goto out;
    arr = json_object_get(doc, "repositories");
    memset(&q, 0, sizeof(q));
    q.all = true;
    q.l.sort = "name";
    q.l.limit = STATS_PAGE;
    q.l.name = only;
    do {
        if (meta_repo_list(m, &q, rows, STATS_PAGE, &n, &total, &err) < 0)
            goto out;
        for (i = 0; i < n; i++) {
            one = repo_stats(m, &rows[i], &err);
            if (one == NULL || json_array_append_new(arr, one) < 0)
                goto out;
        }
        q.l.offset += (int64_t)n;
    } while (n == STATS_PAGE && q.l.offset < total);
    if (only != NULL && total == 0) {
        fprintf(stderr, "berth stats: repository %s not found\n", only);
        goto out;
    }
    if (as_json) {
        if (json_dumpf(doc, stdout, JSON_INDENT(2)) < 0)
            goto out;
        printf("\n");
    } else {
        print_table(doc);
    }
    rc = fflush(stdout) == 0 ? 0 : 1;
out:
    if (rc != 0 && err.msg[0] != '\0')
        fprintf(stderr, "berth stats: %s\n", err.msg);
    json_decref(doc);
    mem_free(rows);
    meta_close(m);
    return rc;
}
