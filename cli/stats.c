/* stats.c - `berth stats`: pull counts, time series, top lists and stale images, read over the
 * management API (--url, the admin commands' credentials) or offline from DATA/berth.db.
 *
 * Modes, by option:
 *   (none)       counts per repository, artifact and tag (the Harbor fields pull_count and
 *                pull_time); REPOSITORY or --repo limits it to one repository
 *   --by/--since the pull history over the window (default 7d): one row per group key (tag,
 *                artifact, user, client) or per repository (--by day|hour), with a sparkline
 *   --top N      the N busiest repositories and tags of the window
 *   --stale D    artifacts and tags of --project not pulled for D (or never), with sizes
 * --json prints the documents of the API (api/pulls_json.h) instead of tables. Over the API
 * every read includes the pulls the server has not flushed yet; offline, the server may be
 * running (SQLite's WAL lets this reader see the last committed state) and the pulls it still
 * holds in memory (at most pull_flush_s seconds' worth) are not shown.
 * A sparkline needs a terminal on stdout; plain text otherwise. Exit status 0, 1 on failure,
 * 2 on usage error. The data directory must exist: stats never creates a registry. No shared
 * state. */
#include "cli/cmds.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <jansson.h>

#include "api/pulls_json.h"
#include "cli/admin_common.h"
#include "cli/opt.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/meta.h"
#include "storage/pulls.h"

#define STATS_PAGE 100
#define STATS_POINTS_MAX 20000
#define STATS_SPARK_CELLS 24

static void stats_usage(FILE *f)
{
    fprintf(f,
            "usage: berth stats [--data DIR] [--config FILE | --url URL [--user U]\n"
            "                   [--password-stdin]] [--project P] [--repo R] [--since 7d]\n"
            "                   [--by day|hour|tag|artifact|user|client] [--top N] [--stale 30d]\n"
            "                   [--json] [REPOSITORY]\n\n"
            "Without --by, --since, --top or --stale: pull counts per repository, artifact and\n"
            "tag. --by/--since: the pull history of the window per group (a sparkline per row\n"
            "on a terminal). --top N: the busiest repositories and tags. --stale D: artifacts\n"
            "and tags of --project not pulled for D, or never. Offline reads the metadata store "
            "of\n"
            "--config FILE (PostgreSQL too) or DIR/berth.db (--data, default ./data); --url\n"
            "reads the management API (BERTH_URL, BERTH_USER,\n"
            "BERTH_PASSWORD as for the admin commands).\n");
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

/* ---- one run: where the data comes from and what was asked ---- */

struct stats_run {
    struct adm_opts api; /* api.url set: over the management API */
    struct meta *m;      /* offline */
    const char *config;  /* offline: --config FILE, NULL: none */
    const char *project;
    char repo[REPO_NAME_MAX + 1]; /* full name; "" = none */
    int64_t since;
    const char *by;
    int64_t top;
    int64_t stale;
    bool json;
};

/* repo_path: "/projects/P/repositories/NAME" for full repository name repo, '/' in NAME as %2F */
static int repo_path(char *out, size_t cap, const char *repo, const char *suffix)
{
    const char *slash = strchr(repo, '/');
    size_t used;
    int n;

    if (slash == NULL)
        return -1;
    n = snprintf(out, cap, "/projects/%.*s/repositories/", (int)(slash - repo), repo);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    used = (size_t)n;
    for (const char *p = slash + 1; *p != '\0'; p++) {
        if (used + 4 >= cap)
            return -1;
        if (*p == '/') {
            memcpy(out + used, "%2F", 3);
            used += 3;
        } else {
            out[used++] = *p;
        }
    }
    out[used] = '\0';
    n = snprintf(out + used, cap - used, "%s", suffix);
    return n < 0 || (size_t)n >= cap - used ? -1 : 0;
}

static const char *run_project(const struct stats_run *s, char *buf, size_t cap)
{
    const char *slash;

    if (s->project != NULL)
        return s->project;
    slash = strchr(s->repo, '/');
    if (s->repo[0] == '\0' || slash == NULL || (size_t)(slash - s->repo) >= cap)
        return NULL;
    memcpy(buf, s->repo, (size_t)(slash - s->repo));
    buf[slash - s->repo] = '\0';
    return buf;
}

/* window: the buckets of the last `since` seconds, the current one included */
static void window(struct pulls_q *q, int64_t since)
{
    int64_t g = (int64_t)q->granularity;
    int64_t now = now_s();

    q->to = now - now % g + g;
    q->from = now - since;
    q->from -= q->from % g;
}

/* ---- the history ---- */

static int series_doc(struct stats_run *s, json_t **out)
{
    struct pulls_q q;
    struct pulls_point *pts = NULL;
    struct repo_name rn;
    struct berr err = {0};
    char path[1200], pbuf[REPO_NAME_MAX + 1];
    const char *project = run_project(s, pbuf, sizeof(pbuf));
    size_t n = 0;
    int rc = -1;

    *out = NULL;
    memset(&q, 0, sizeof(q));
    if (s->by != NULL && strcmp(s->by, "hour") == 0)
        q.granularity = PULLS_HOUR_S;
    else if (s->by != NULL && strcmp(s->by, "day") == 0)
        q.granularity = PULLS_DAY_S;
    else
        q.granularity = s->since <= 2 * PULLS_DAY_S ? PULLS_HOUR_S : PULLS_DAY_S;
    if (s->by != NULL && strcmp(s->by, "hour") != 0 && strcmp(s->by, "day") != 0) {
        if (pulls_group_parse(s->by, &q.group) < 0) {
            fprintf(stderr, "berth stats: --by is day, hour, tag, artifact, user or client\n");
            return -1;
        }
    } else {
        q.group = s->repo[0] != '\0' ? PULLS_GROUP_NONE : PULLS_GROUP_REPO;
    }
    window(&q, s->since);
    if (s->api.url != NULL) {
        char qs[200];
        int len = snprintf(
                qs, sizeof(qs), "/pulls/timeseries?from=%lld&to=%lld&granularity=%s%s%s",
                (long long)q.from, (long long)q.to, q.granularity == PULLS_HOUR_S ? "hour" : "day",
                q.group != PULLS_GROUP_NONE ? "&group_by=" : "", pulls_group_name(q.group));

        if (len < 0 || (size_t)len >= sizeof(qs))
            return -1;
        if (s->repo[0] != '\0') {
            if (repo_path(path, sizeof(path), s->repo, qs) < 0)
                return -1;
        } else if (project != NULL) {
            len = snprintf(path, sizeof(path), "/projects/%s%s", project, qs);
            if (len < 0 || (size_t)len >= sizeof(path))
                return -1;
        } else {
            fprintf(stderr, "berth stats: over --url the history needs --project or --repo\n");
            return -1;
        }
        return adm_call(&s->api, "GET", path, NULL, 200, out, NULL);
    }
    pts = mem_calloc(STATS_POINTS_MAX, sizeof(*pts));
    if (pts == NULL)
        goto out;
    q.project = project;
    if (s->repo[0] != '\0') {
        if (repo_name_parse(&rn, s->repo, strlen(s->repo), &err) < 0)
            goto out;
        q.repo = &rn;
    }
    if (meta_pulls_series(s->m, &q, pts, STATS_POINTS_MAX, &n, &err) < 0)
        goto out;
    *out = pulls_series_json(&q, pts, n);
    rc = *out != NULL ? 0 : -1;
out:
    if (rc < 0 && err.msg[0] != '\0')
        fprintf(stderr, "berth stats: %s\n", err.msg);
    mem_free(pts);
    return rc;
}

/* spark prints the points of one series as STATS_SPARK_CELLS block characters */
static void spark(const json_t *series, int64_t from, int64_t to)
{
    static const char *const bars[] = {" ",      "\u2581", "\u2582", "\u2583", "\u2584",
                                       "\u2585", "\u2586", "\u2587", "\u2588"};
    uint64_t cell[STATS_SPARK_CELLS] = {0};
    uint64_t max = 0;
    const json_t *pt;
    size_t i;

    if (to <= from)
        return;
    json_array_foreach(json_object_get(series, "points"), i, pt)
    {
        int64_t t;
        size_t c;

        if (pulls_time_parse(json_string_value(json_object_get(pt, "time")), &t) < 0 || t < from ||
            t >= to)
            continue;
        c = (size_t)((t - from) * STATS_SPARK_CELLS / (to - from));
        cell[c] += (uint64_t)json_integer_value(json_object_get(pt, "pulls")) +
                   (uint64_t)json_integer_value(json_object_get(pt, "child_fetches"));
        if (cell[c] > max)
            max = cell[c];
    }
    for (i = 0; i < STATS_SPARK_CELLS; i++)
        fputs(bars[max == 0 || cell[i] == 0 ? 0 : 1 + (cell[i] * 7) / max], stdout);
}

static void print_series(const json_t *doc, bool tty)
{
    const char *gb = json_string_value(json_object_get(doc, "group_by"));
    int64_t from = 0, to = 0;
    const json_t *s;
    size_t i;

    (void)pulls_time_parse(json_string_value(json_object_get(doc, "from")), &from);
    (void)pulls_time_parse(json_string_value(json_object_get(doc, "to")), &to);
    printf("# %s buckets from %s to %s\n", json_string_value(json_object_get(doc, "granularity")),
           json_string_value(json_object_get(doc, "from")),
           json_string_value(json_object_get(doc, "to")));
    printf("%-50s %8s %8s  %-20s%s\n", gb != NULL ? gb : "scope", "PULLS", "CHILD", "LAST PULL",
           tty ? "  TREND" : "");
    json_array_foreach(json_object_get(doc, "series"), i, s)
    {
        const char *key = json_string_value(json_object_get(s, "key"));
        const char *kind = json_string_value(json_object_get(s, "kind"));
        const char *last = json_string_value(json_object_get(s, "last_pull_time"));
        char label[300];

        if (kind != NULL && strcmp(kind, "anonymous") == 0)
            (void)snprintf(label, sizeof(label), "(anonymous)");
        else if (key == NULL || key[0] == '\0')
            (void)snprintf(label, sizeof(label), "%s",
                           gb != NULL && strcmp(gb, "tag") == 0 ? "(by digest)" : "(all)");
        else
            (void)snprintf(label, sizeof(label), "%s", key); /* display only: cut is fine */
        printf("%-50s %8lld %8lld  %-20s", label,
               (long long)json_integer_value(json_object_get(s, "pulls")),
               (long long)json_integer_value(json_object_get(s, "child_fetches")),
               last != NULL ? last : "never");
        if (tty) {
            printf("  ");
            spark(s, from, to);
        }
        printf("\n");
    }
}

/* ---- top lists ---- */

static int top_one(struct stats_run *s, enum pulls_group g, json_t **out)
{
    struct pulls_q q;
    struct pulls_point *pts = NULL;
    struct berr err = {0};
    char path[600], pbuf[REPO_NAME_MAX + 1];
    const char *project = run_project(s, pbuf, sizeof(pbuf));
    size_t n = 0;
    int len;

    *out = NULL;
    memset(&q, 0, sizeof(q));
    q.granularity = s->since <= 2 * PULLS_DAY_S ? PULLS_HOUR_S : PULLS_DAY_S;
    q.group = g;
    window(&q, s->since);
    if (s->api.url != NULL) {
        len = snprintf(path, sizeof(path), "%s%s/pulls/top?from=%lld&to=%lld&by=%s&n=%lld",
                       project != NULL ? "/projects/" : "", project != NULL ? project : "",
                       (long long)q.from, (long long)q.to,
                       g == PULLS_GROUP_TAG ? "tag" : "repository", (long long)s->top);
        if (len < 0 || (size_t)len >= sizeof(path))
            return -1;
        return adm_call(&s->api, "GET", path, NULL, 200, out, NULL);
    }
    q.project = project;
    pts = mem_calloc((size_t)s->top, sizeof(*pts));
    if (pts == NULL || meta_pulls_top(s->m, &q, pts, (size_t)s->top, &n, &err) < 0) {
        if (err.msg[0] != '\0')
            fprintf(stderr, "berth stats: %s\n", err.msg);
        mem_free(pts);
        return -1;
    }
    *out = pulls_top_json(&q, pts, n);
    mem_free(pts);
    return *out != NULL ? 0 : -1;
}

static void print_top(const json_t *doc, const char *title)
{
    const json_t *it;
    size_t i;

    printf("# top %s from %s to %s\n", title, json_string_value(json_object_get(doc, "from")),
           json_string_value(json_object_get(doc, "to")));
    printf("%-4s %-50s %-20s %10s  %s\n", "#", "REPOSITORY", "TAG", "PULLS", "LAST PULL");
    json_array_foreach(json_object_get(doc, "items"), i, it)
    {
        const char *last = json_string_value(json_object_get(it, "last_pull_time"));

        printf("%-4zu %-50s %-20s %10lld  %s\n", i + 1, adm_str(it, "repository_name"),
               adm_str(it, "tag"), adm_num(it, "pull_count"), last != NULL ? last : "never");
    }
}

/* ---- stale ---- */

static int stale_list(struct stats_run *s, const char *project, int64_t before, bool tags,
                      json_t **out)
{
    struct meta_project_info pi;
    struct pulls_stale *rows = NULL;
    struct pulls_stale_q q;
    struct berr err = {0};
    char path[600];
    int64_t total = 0;
    size_t n = 0;
    int len;

    *out = NULL;
    if (s->api.url != NULL) {
        len = snprintf(path, sizeof(path), "/projects/%s/pulls/stale?before=%lld&kind=%s", project,
                       (long long)before, tags ? "tag" : "artifact");
        if (len < 0 || (size_t)len >= sizeof(path))
            return -1;
        return adm_list_all(&s->api, path, out);
    }
    *out = json_array();
    rows = mem_calloc(STATS_PAGE, sizeof(*rows));
    if (*out == NULL || rows == NULL || meta_project_get(s->m, project, &pi, &err) < 0)
        goto fail;
    memset(&q, 0, sizeof(q));
    q.project_id = pi.p.id;
    q.before = before;
    q.tags = tags;
    q.limit = STATS_PAGE;
    do {
        if (meta_pulls_stale(s->m, &q, rows, STATS_PAGE, &n, &total, &err) < 0)
            goto fail;
        for (size_t i = 0; i < n; i++) {
            if (json_array_append_new(*out, pulls_stale_item_json(&rows[i], tags)) < 0)
                goto fail;
        }
        q.offset += (int64_t)n;
    } while (n == STATS_PAGE && q.offset < total);
    mem_free(rows);
    return 0;
fail:
    if (err.msg[0] != '\0')
        fprintf(stderr, "berth stats: %s\n", err.msg);
    mem_free(rows);
    json_decref(*out);
    *out = NULL;
    return -1;
}

static int stale_doc(struct stats_run *s, json_t **out)
{
    char pbuf[REPO_NAME_MAX + 1];
    const char *project = run_project(s, pbuf, sizeof(pbuf));
    int64_t before = now_s() - s->stale;
    json_t *arts = NULL, *tags = NULL;

    *out = NULL;
    if (project == NULL) {
        fprintf(stderr, "berth stats: --stale needs --project\n");
        return -1;
    }
    if (stale_list(s, project, before, false, &arts) < 0 ||
        stale_list(s, project, before, true, &tags) < 0) {
        json_decref(arts);
        return -1;
    }
    *out = json_pack("{s:s,s:o,s:o,s:o}", "project", project, "before", when_json(before),
                     "artifacts", arts, "tags", tags);
    return *out != NULL ? 0 : -1;
}

static void human_size(uint64_t b, char *out, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    size_t u = 0;

    while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024;
        u++;
    }
    (void)snprintf(out, cap, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]); /* fits: 32 bytes */
}

static void print_stale(const json_t *doc)
{
    static const char *const kinds[] = {"artifacts", "tags"};
    char size[32];
    const json_t *it;
    size_t i;

    printf("# not pulled since %s (or never) in project %s\n",
           json_string_value(json_object_get(doc, "before")), adm_str(doc, "project"));
    printf("%-9s %-40s %-25s %10s  %s\n", "KIND", "REPOSITORY", "TAG / DIGEST", "SIZE",
           "LAST PULL");
    for (size_t k = 0; k < 2; k++) {
        json_array_foreach(json_object_get(doc, kinds[k]), i, it)
        {
            const char *last = json_string_value(json_object_get(it, "pull_time"));
            const char *what = k == 1 ? adm_str(it, "tag") : adm_str(it, "digest");

            human_size((uint64_t)adm_num(it, "size"), size, sizeof(size));
            printf("%-9s %-40s %-25.25s %10s  %s\n", k == 1 ? "tag" : "artifact",
                   adm_str(it, "repository_name"), what, size,
                   last != NULL && strncmp(last, "0001-", 5) != 0 ? last : "never");
        }
    }
}

/* ---- counts over the API: the document the offline listing builds ---- */

static json_t *api_when(const json_t *v)
{
    const char *s = json_string_value(v);

    if (s == NULL || strncmp(s, "0001-", 5) == 0)
        return json_null();
    return json_string(s);
}

static json_t *api_repo_counts(struct stats_run *s, const char *full, json_int_t count)
{
    char path[1200];
    json_t *arts = NULL, *jr, *ja, *a, *t, *one, *jt;
    size_t i, k;

    jr = json_pack("{s:s,s:I,s:[]}", "name", full, "pull_count", count, "artifacts");
    if (jr == NULL || repo_path(path, sizeof(path), full, "/artifacts?with_tag=true") < 0 ||
        adm_list_all(&s->api, path, &arts) < 0)
        goto fail;
    ja = json_object_get(jr, "artifacts");
    json_array_foreach(arts, i, a)
    {
        one = json_pack("{s:s,s:I,s:o,s:[]}", "digest", adm_str(a, "digest"), "pull_count",
                        (json_int_t)adm_num(a, "pull_count"), "pull_time",
                        api_when(json_object_get(a, "pull_time")), "tags");
        if (one == NULL || json_array_append_new(ja, one) < 0)
            goto fail;
        jt = json_object_get(one, "tags");
        json_array_foreach(json_object_get(a, "tags"), k, t)
        {
            if (json_array_append_new(
                        jt, json_pack("{s:s,s:I,s:o}", "name", adm_str(t, "name"), "pull_count",
                                      (json_int_t)adm_num(t, "pull_count"), "pull_time",
                                      api_when(json_object_get(t, "pull_time")))) < 0)
                goto fail;
        }
    }
    json_decref(arts);
    return jr;
fail:
    json_decref(arts);
    json_decref(jr);
    return NULL;
}

static int api_counts(struct stats_run *s, json_t **out)
{
    char path[1200];
    json_t *repos = NULL, *one = NULL, *r, *arr;
    size_t i;
    int len;

    *out = json_pack("{s:[]}", "repositories");
    if (*out == NULL)
        return -1;
    arr = json_object_get(*out, "repositories");
    if (s->repo[0] != '\0') {
        if (repo_path(path, sizeof(path), s->repo, "") < 0 ||
            adm_call(&s->api, "GET", path, NULL, 200, &one, NULL) < 0)
            goto fail;
        repos = json_pack("[o]", one);
    } else {
        if (s->project != NULL)
            len = snprintf(path, sizeof(path), "/projects/%s/repositories", s->project);
        else
            len = snprintf(path, sizeof(path), "/repositories");
        if (len < 0 || (size_t)len >= sizeof(path) || adm_list_all(&s->api, path, &repos) < 0)
            goto fail;
    }
    if (repos == NULL)
        goto fail;
    json_array_foreach(repos, i, r)
    {
        json_t *jr = api_repo_counts(s, adm_str(r, "name"), (json_int_t)adm_num(r, "pull_count"));

        if (jr == NULL || json_array_append_new(arr, jr) < 0)
            goto fail;
    }
    json_decref(repos);
    return 0;
fail:
    json_decref(repos);
    json_decref(*out);
    *out = NULL;
    return -1;
}

/* offline counts: every repository, or one */
static int offline_counts(struct stats_run *s, json_t **out)
{
    struct meta_repo_info *rows = mem_calloc(STATS_PAGE, sizeof(*rows));
    struct meta_repo_q q;
    struct berr err = {0};
    json_t *arr, *one;
    int64_t total = 0;
    size_t n = 0, i;

    *out = json_pack("{s:[]}", "repositories");
    if (rows == NULL || *out == NULL)
        goto fail;
    arr = json_object_get(*out, "repositories");
    memset(&q, 0, sizeof(q));
    q.all = true;
    q.l.sort = "name";
    q.l.limit = STATS_PAGE;
    q.l.name = s->repo[0] != '\0' ? s->repo : NULL;
    do {
        if (meta_repo_list(s->m, &q, rows, STATS_PAGE, &n, &total, &err) < 0)
            goto fail;
        for (i = 0; i < n; i++) {
            if (s->project != NULL && (strncmp(rows[i].name, s->project, strlen(s->project)) != 0 ||
                                       rows[i].name[strlen(s->project)] != '/'))
                continue;
            one = repo_stats(s->m, &rows[i], &err);
            if (one == NULL || json_array_append_new(arr, one) < 0)
                goto fail;
        }
        q.l.offset += (int64_t)n;
    } while (n == STATS_PAGE && q.l.offset < total);
    if (s->repo[0] != '\0' && total == 0) {
        fprintf(stderr, "berth stats: repository %s not found\n", s->repo);
        goto fail;
    }
    mem_free(rows);
    return 0;
fail:
    if (err.msg[0] != '\0')
        fprintf(stderr, "berth stats: %s\n", err.msg);
    mem_free(rows);
    json_decref(*out);
    *out = NULL;
    return -1;
}

enum {
    O_DATA = 1,
    O_CONFIG,
    O_JSON,
    O_URL,
    O_USER,
    O_PW_STDIN,
    O_PROJECT,
    O_REPO,
    O_SINCE,
    O_BY,
    O_TOP,
    O_STALE,
};

static const struct cli_opt stats_opts[] = {
        {"--data", NULL, true, O_DATA},
        {"--config", NULL, true, O_CONFIG},
        {"--json", NULL, false, O_JSON},
        {"--url", NULL, true, O_URL},
        {"--user", NULL, true, O_USER},
        {"--password-stdin", NULL, false, O_PW_STDIN},
        {"--project", NULL, true, O_PROJECT},
        {"--repo", NULL, true, O_REPO},
        {"--since", NULL, true, O_SINCE},
        {"--by", NULL, true, O_BY},
        {"--top", NULL, true, O_TOP},
        {"--stale", NULL, true, O_STALE},
        {NULL, NULL, false, 0},
};

/* parse_args fills s; 0 to run, 1 for --help (printed), 2 on a usage error (printed) */
static int parse_args(struct stats_run *s, const char **data, bool *history, int argc, char **argv)
{
    const char *v;
    const char *repo = NULL;
    struct cli_args w;
    int64_t n;
    int id;

    cli_args_init(&w, "stats", stats_opts, argc, argv, 1);
    while ((id = cli_args_next(&w, &v)) != CLI_ARG_END) {
        switch (id) {
        case CLI_ARG_HELP:
            stats_usage(stdout);
            return 1;
        case O_DATA:
            *data = v;
            break;
        case O_CONFIG:
            s->config = v;
            break;
        case O_JSON:
            s->json = true;
            break;
        case O_URL:
            s->api.url = v;
            break;
        case O_USER:
            s->api.user = v;
            break;
        case O_PW_STDIN:
            s->api.pw_stdin = true;
            break;
        case O_PROJECT:
            s->project = v;
            break;
        case O_SINCE:
        case O_STALE:
            if (pulls_duration_parse(v, &n) < 0) {
                (void)cli_args_fail(&w, "%s needs a duration such as 7d, 12h", /* printed */
                                    id == O_SINCE ? "--since" : "--stale");
                goto usage;
            }
            if (id == O_SINCE)
                s->since = n;
            else
                s->stale = n;
            *history = *history || id == O_SINCE;
            break;
        case O_BY:
            s->by = v;
            *history = true;
            break;
        case O_TOP:
            if (adm_parse_i64(v, &n) < 0 || n < 1 || n > 1000) {
                (void)cli_args_fail(&w, "--top needs a number 1..1000"); /* printed */
                goto usage;
            }
            s->top = n;
            break;
        case O_REPO:
        case CLI_ARG_POS:
            if (repo != NULL) {
                (void)cli_args_fail(&w, "one repository only"); /* printed */
                goto usage;
            }
            repo = v;
            break;
        default:
            goto usage;
        }
    }
    if (repo != NULL) {
        int len = strchr(repo, '/') == NULL && s->project != NULL
                          ? snprintf(s->repo, sizeof(s->repo), "%s/%s", s->project, repo)
                          : snprintf(s->repo, sizeof(s->repo), "%s", repo);
        if (len < 0 || (size_t)len >= sizeof(s->repo)) {
            (void)cli_args_fail(&w, "repository name too long"); /* printed */
            goto usage;
        }
    }
    if (s->api.url == NULL && *data == NULL)
        s->api.url = getenv("BERTH_URL");
    if (s->api.url != NULL && s->api.user == NULL)
        s->api.user = getenv("BERTH_USER");
    return 0;
usage:
    stats_usage(stderr);
    return 2;
}

int cmd_stats(int argc, char **argv)
{
    struct stats_run s;
    const char *data = NULL;
    json_t *doc = NULL, *t1 = NULL, *t2 = NULL;
    bool history = false;
    bool tty = isatty(STDOUT_FILENO) == 1;
    int rc;

    memset(&s, 0, sizeof(s));
    s.since = 7 * PULLS_DAY_S;
    rc = parse_args(&s, &data, &history, argc, argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    rc = 1;
    mem_install_json();
    if (s.api.url != NULL) {
        if (adm_need_creds(&s.api) < 0)
            return 1;
    } else {
        /* the configuration's metadata store (PostgreSQL too), or DIR/berth.db */
        if (adm_store_open(&s.m, s.config, data, "stats") < 0)
            return 1;
    }
    if (s.stale > 0) {
        if (stale_doc(&s, &doc) < 0)
            goto out;
    } else if (s.top > 0) {
        if (top_one(&s, PULLS_GROUP_REPO, &t1) < 0 || top_one(&s, PULLS_GROUP_TAG, &t2) < 0)
            goto out;
        doc = json_pack("{s:o,s:o}", "repositories", t1, "tags", t2);
        t1 = t2 = NULL;
        if (doc == NULL)
            goto out;
    } else if (history) {
        if (series_doc(&s, &doc) < 0)
            goto out;
    } else if ((s.api.url != NULL ? api_counts(&s, &doc) : offline_counts(&s, &doc)) < 0) {
        goto out;
    }
    if (s.json) {
        if (json_dumpf(doc, stdout, JSON_INDENT(2)) < 0)
            goto out;
        printf("\n");
    } else if (s.stale > 0) {
        print_stale(doc);
    } else if (s.top > 0) {
        print_top(json_object_get(doc, "repositories"), "repositories");
        print_top(json_object_get(doc, "tags"), "tags");
    } else if (history) {
        print_series(doc, tty);
    } else {
        print_table(doc);
    }
    rc = fflush(stdout) == 0 ? 0 : 1;
out:
    json_decref(t1);
    json_decref(t2);
    json_decref(doc);
    meta_close(s.m);
    OPENSSL_cleanse(s.api.pass, sizeof(s.api.pass));
    return rc;
}
