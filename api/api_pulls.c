/* api_pulls.c - the pull analytics of the management API: time series per project, repository
 * and artifact, top lists per project and system wide, and the stale listing of a project.
 *
 *   GET /projects/{project_name}/pulls/timeseries and GET /pulls/timeseries (system
 *       administrators: every project's)
 *   GET /projects/{project_name}/repositories/{repository_name}/pulls/timeseries
 *   GET /projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/pulls/timeseries
 *       ?from=&to= (Unix seconds, YYYY-MM-DD or RFC 3339 UTC; default the last 7 days)
 *       &granularity=hour|day (default day) &group_by=tag|artifact|user|client|repository
 *   GET /projects/{project_name}/pulls/top and GET /pulls/top (system administrators)
 *       ?from=&to= &by=repository|tag (default repository) &n=1..100 (default 10)
 *   GET /projects/{project_name}/pulls/stale and GET /pulls/stale (system administrators)
 *       ?before= (a time) or ?days=N (default 30) &kind=artifact|tag (default artifact)
 *       &page=&page_size= (Harbor's paging, X-Total-Count); kind=artifact also answers
 *       X-Total-Size: the bytes of every stale artifact, not only the page's (each artifact's
 *       size: layers shared between artifacts count in each, so deleting them all frees at
 *       most this), left out above API_PULLS_STALE_SUM_MAX rows
 * and for the projects list (api_projects.c, ?with_pulls=true) api_pulls_recent: each
 * project's image pulls of the last 7 days.
 *
 * Invariants:
 *   1. Read-your-writes: a pull answered before the read is in it. Time series add the
 *      pending pulls (a copy of pulls.c's table) to the buckets read from the database, as the
 *      counters on repositories, artifacts and tags do (pulls_peek): reading never writes.
 *      Top lists and the stale listing rank and page over the database, so they flush the
 *      pending pulls first instead (pulls_flush: one small write transaction, only when
 *      anything is pending). Merging would not be exact: a pending pull can lift a key that the
 *      database ranks below the n returned (a top list would need each pending key's count in
 *      the window, one query per key), and it can take an artifact out of the stale set, which
 *      moves every later row to another page and changes X-Total-Count; the flush costs one
 *      transaction per interval of pulls, the same write the flush thread does anyway.
 *   2. A window holds at most API_PULLS_BUCKETS_MAX buckets and a series answer at most
 *      API_PULLS_POINTS_MAX points: a larger one is a 400 that says to narrow it, never a cut
 *      answer.
 *   3. Who may call is in the rows of api/routes.c: reading a project's repositories (its
 *      history, top list) or artifacts (stale listing, an artifact's history); the
 *      system-wide history, top list and stale listing are for system administrators.
 * Thread-safe: all state is per request. */
#include "api/api_pulls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_content.h"
#include "api/pulls_json.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/pulls.h"

#define API_PULLS_BUCKETS_MAX 5000
#define API_PULLS_POINTS_MAX 20000
#define API_PULLS_TOP_MAX 100
#define API_PULLS_STALE_CHUNK 500
#define API_PULLS_STALE_SUM_MAX 50000
#define API_PULLS_RECENT_DAYS 7
#define API_PULLS_RECENT_POINTS (API_PULLS_RECENT_DAYS * 24 + 2)

/* flush_pending: invariant 1; a failed flush is logged and the read goes on (the counts stay
 * pending and are written by the next flush) */
static void flush_pending(struct api_call *c)
{
    struct berr e;

    if (c->r->reg->pulls != NULL && pulls_flush(c->r->reg->pulls, NULL, &e) < 0)
        log_msg(LOG_WARN, "pulls: read-your-writes flush failed: %s", e.msg);
}

/* window_parse reads from, to and granularity into q. 0, or 1 with a 400 answered. */
static int window_parse(struct api_call *c, struct pulls_q *q, unsigned dflt_g)
{
    const char *g = req_query(c->r, "granularity");
    const char *from = req_query(c->r, "from");
    const char *to = req_query(c->r, "to");
    int64_t gs;
    int64_t now = now_s();

    if (g == NULL || g[0] == '\0')
        q->granularity = dflt_g;
    else if (strcmp(g, "hour") == 0)
        q->granularity = PULLS_HOUR_S;
    else if (strcmp(g, "day") == 0)
        q->granularity = PULLS_DAY_S;
    else
        return api_fail(c, HTTP_BAD_REQUEST, "granularity must be hour or day") < 0 ? -1 : 1;
    gs = (int64_t)q->granularity;
    if (to != NULL) {
        if (pulls_time_parse(to, &q->to) < 0)
            return api_fail(c, HTTP_BAD_REQUEST, "to: not a time") < 0 ? -1 : 1;
    } else {
        q->to = now - now % gs + gs; /* the current bucket included */
    }
    if (from != NULL) {
        if (pulls_time_parse(from, &q->from) < 0)
            return api_fail(c, HTTP_BAD_REQUEST, "from: not a time") < 0 ? -1 : 1;
    } else {
        q->from = q->to - 7 * PULLS_DAY_S;
    }
    q->from -= q->from % gs; /* whole buckets */
    if (q->to <= q->from)
        return api_fail(c, HTTP_BAD_REQUEST, "from must be before to") < 0 ? -1 : 1;
    if ((q->to - q->from) / gs > API_PULLS_BUCKETS_MAX)
        return api_fail(c, HTTP_BAD_REQUEST,
                        "the window holds more than %d buckets: narrow it or use days",
                        API_PULLS_BUCKETS_MAX) < 0
                       ? -1
                       : 1;
    return 0;
}

static const char *who_kind_name(enum pulls_who k)
{
    return k == PULLS_WHO_USER ? "user" : k == PULLS_WHO_ROBOT ? "robot" : "anonymous";
}

/* in_scope: pending entry e belongs to q's project, repository and artifact */
static bool in_scope(const struct pulls_q *q, const struct pulls_entry *e)
{
    if (q->project != NULL && (e->repo.project_len != strlen(q->project) ||
                               memcmp(e->repo.s, q->project, e->repo.project_len) != 0))
        return false;
    if (q->repo != NULL &&
        (e->repo.len != q->repo->len || memcmp(e->repo.s, q->repo->s, e->repo.len) != 0))
        return false;
    return q->digest == NULL || memcmp(e->digest.hex, q->digest->hex, DIGEST_HEX_LEN) == 0;
}

/* point_key: the group key (and kind) of e, as sqlite_pulls.c's series query forms it */
static void point_key(const struct pulls_q *q, const struct pulls_entry *e, char *key, size_t cap,
                      char *kind, size_t kcap)
{
    const char *k = "";

    kind[0] = '\0';
    switch (q->group) {
    case PULLS_GROUP_TAG:
        k = e->tag.s;
        break;
    case PULLS_GROUP_ARTIFACT:
        digest_format(&e->digest, key, cap);
        return;
    case PULLS_GROUP_USER:
        k = e->who;
        (void)snprintf(kind, kcap, "%s", who_kind_name(e->who_kind)); /* fits: 12 bytes */
        break;
    case PULLS_GROUP_CLIENT:
        k = e->client;
        break;
    case PULLS_GROUP_REPO:
        k = e->repo.s;
        break;
    default:
        break;
    }
    (void)snprintf(key, cap, "%s", k); /* fits: every key is shorter than a point's key */
}

static int point_cmp(const void *a, const void *b)
{
    const struct pulls_point *x = a, *y = b;
    int c;

    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    c = strcmp(x->key, y->key);
    return c != 0 ? c : strcmp(x->kind, y->kind);
}

/* merge_pending adds the pending entries pe[0..np) of q's scope and window to pts[0..*n)
 * (room for np more), keeping the storage's order (bucket, key, kind) */
static void merge_pending(const struct pulls_q *q, const struct pulls_entry *pe, size_t np,
                          struct pulls_point *pts, size_t *n)
{
    int64_t g = (int64_t)q->granularity;
    char key[sizeof(pts->key)];
    char kind[sizeof(pts->kind)];
    size_t i, k;

    for (i = 0; i < np; i++) {
        const struct pulls_entry *e = &pe[i];
        int64_t b = e->hour - e->hour % g;
        struct pulls_point *pt = NULL;

        if (!in_scope(q, e) || b < q->from || b >= q->to)
            continue;
        point_key(q, e, key, sizeof(key), kind, sizeof(kind));
        for (k = 0; k < *n; k++) {
            if (pts[k].bucket == b && strcmp(pts[k].key, key) == 0 &&
                strcmp(pts[k].kind, kind) == 0) {
                pt = &pts[k];
                break;
            }
        }
        if (pt == NULL) {
            pt = &pts[(*n)++];
            memset(pt, 0, sizeof(*pt));
            pt->bucket = b;
            memcpy(pt->key, key, sizeof(key));
            memcpy(pt->kind, kind, sizeof(kind));
        }
        if (e->child)
            pt->child_fetches += e->count;
        else
            pt->pulls += e->count;
        if (e->last > pt->last)
            pt->last = e->last;
    }
    qsort(pts, *n, sizeof(*pts), point_cmp);
}

static int series(struct api_call *c, const char *project, const struct repo_name *repo,
                  const struct digest *d)
{
    struct pulls_entry *pend = NULL;
    uint64_t epoch = 0;
    size_t np = 0;
    int tries;
    struct pulls_point *pts = NULL;
    struct pulls_q q;
    struct berr e;
    size_t n = 0;
    int rc;

    if (c->r->method != HTTP_GET && c->r->method != HTTP_HEAD)
        return api_fail(c, HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    memset(&q, 0, sizeof(q));
    q.project = project;
    q.repo = repo;
    q.digest = d;
    rc = window_parse(c, &q, PULLS_DAY_S);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (pulls_group_parse(req_query(c->r, "group_by"), &q.group) < 0)
        return api_fail(c, HTTP_BAD_REQUEST,
                        "group_by must be tag, artifact, user, client or repository");
    pts = mem_calloc(API_PULLS_POINTS_MAX + PULLS_MAX_ENTRIES_DEFAULT, sizeof(*pts));
    if (pts == NULL)
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    /* the pending pulls, then the database, with no flush in between (invariant 1) */
    for (tries = 0; tries < API_PULLS_READ_TRIES; tries++) {
        mem_free(pend);
        pend = NULL;
        np = 0;
        if (tries == API_PULLS_READ_TRIES - 1) {
            flush_pending(c); /* flushes kept racing: read what is written */
        } else if (pulls_pending_copy(c->r->reg->pulls, &pend, &np, &epoch) < 0) {
            tries = API_PULLS_READ_TRIES; /* out of memory: 500 below */
            break;
        }
        api_pulls_between(c);
        rc = meta_pulls_series(c->r->reg->meta, &q, pts, API_PULLS_POINTS_MAX, &n, &e);
        if (rc < 0 || tries == API_PULLS_READ_TRIES - 1 ||
            (epoch != 0 && epoch == pulls_epoch(c->r->reg->pulls)))
            break;
    }
    if (tries == API_PULLS_READ_TRIES || np > PULLS_MAX_ENTRIES_DEFAULT) {
        rc = api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    } else if (rc < 0) {
        rc = api_fail_berr(c, &e);
    } else if (n == API_PULLS_POINTS_MAX) {
        rc = api_fail(c, HTTP_BAD_REQUEST, "more than %d points: narrow the window or the grouping",
                      API_PULLS_POINTS_MAX);
    } else {
        if (pend != NULL)
            merge_pending(&q, pend, np, pts, &n);
        rc = api_reply_json(c, HTTP_OK, pulls_series_json(&q, pts, n));
    }
    mem_free(pts);
    mem_free(pend);
    return rc;
}

static int top(struct api_call *c, const char *project)
{
    struct pulls_point pts[API_PULLS_TOP_MAX];
    const char *by = req_query(c->r, "by");
    const char *ns = req_query(c->r, "n");
    uint64_t want = 10;
    struct pulls_q q;
    struct berr e;
    size_t n = 0;
    int rc;

    if (c->r->method != HTTP_GET && c->r->method != HTTP_HEAD)
        return api_fail(c, HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    memset(&q, 0, sizeof(q));
    q.project = project;
    if (by == NULL || strcmp(by, "repository") == 0)
        q.group = PULLS_GROUP_REPO;
    else if (strcmp(by, "tag") == 0)
        q.group = PULLS_GROUP_TAG;
    else
        return api_fail(c, HTTP_BAD_REQUEST, "by must be repository or tag");
    if (ns != NULL && parse_u64_range(&want, ns, strlen(ns), 1, API_PULLS_TOP_MAX) < 0)
        return api_fail(c, HTTP_BAD_REQUEST, "n must be 1..%d", API_PULLS_TOP_MAX);
    /* hourly buckets when the window is still covered by them, else daily */
    rc = window_parse(c, &q, PULLS_HOUR_S);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (req_query(c->r, "granularity") == NULL &&
        q.from < now_s() - (int64_t)c->r->reg->cfg->pull_hourly_keep_s) {
        q.granularity = PULLS_DAY_S;
        q.from -= q.from % PULLS_DAY_S;
    }
    flush_pending(c);
    if (meta_pulls_top(c->r->reg->meta, &q, pts, (size_t)want, &n, &e) < 0)
        return api_fail_berr(c, &e);
    return api_reply_json(c, HTTP_OK, pulls_top_json(&q, pts, n));
}

/* stale_size: the sum of the sizes of every row of q0 (total of them) into *size; 1 when there
 * are more than API_PULLS_STALE_SUM_MAX (not summed), 0 when summed, -1 with e set */
static int stale_size(struct api_call *c, const struct pulls_stale_q *q0, int64_t total,
                      uint64_t *size, struct berr *e)
{
    struct pulls_stale_q q = *q0;
    struct pulls_stale *rows;
    int64_t t = 0;
    size_t n = 0;
    int rc = 0;

    *size = 0;
    if (total > API_PULLS_STALE_SUM_MAX)
        return 1;
    rows = mem_calloc(API_PULLS_STALE_CHUNK, sizeof(*rows));
    if (rows == NULL)
        return berr_set(e, BERR_INTERNAL, "out of memory");
    q.limit = API_PULLS_STALE_CHUNK;
    for (q.offset = 0; q.offset < total; q.offset += (int64_t)n) {
        rc = meta_pulls_stale(c->r->reg->meta, &q, rows, API_PULLS_STALE_CHUNK, &n, &t, e);
        if (rc < 0 || n == 0)
            break;
        for (size_t i = 0; i < n; i++)
            *size += rows[i].size;
    }
    mem_free(rows);
    return rc;
}

static int stale(struct api_call *c, int64_t project_id)
{
    const char *before = req_query(c->r, "before");
    const char *days = req_query(c->r, "days");
    const char *kind = req_query(c->r, "kind");
    struct pulls_stale *rows = NULL;
    struct pulls_stale_q q;
    struct api_page pg;
    struct berr e;
    uint64_t d = 30;
    uint64_t size = 0;
    char num[24];
    int sized = 1;
    int64_t total = 0;
    size_t n = 0;
    json_t *arr;
    int rc;

    if (c->r->method != HTTP_GET && c->r->method != HTTP_HEAD)
        return api_fail(c, HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    memset(&q, 0, sizeof(q));
    q.project_id = project_id;
    if (kind == NULL || strcmp(kind, "artifact") == 0)
        q.tags = false;
    else if (strcmp(kind, "tag") == 0)
        q.tags = true;
    else
        return api_fail(c, HTTP_BAD_REQUEST, "kind must be artifact or tag");
    if (before != NULL) {
        if (pulls_time_parse(before, &q.before) < 0)
            return api_fail(c, HTTP_BAD_REQUEST, "before: not a time");
    } else {
        if (days != NULL && parse_u64_range(&d, days, strlen(days), 0, 36500) < 0)
            return api_fail(c, HTTP_BAD_REQUEST, "days must be 0..36500");
        q.before = now_s() - (int64_t)d * PULLS_DAY_S;
    }
    if (api_page_parse(c, api_q_none, NULL, &pg) < 0)
        return -1;
    q.offset = (pg.page - 1) * pg.page_size;
    q.limit = (size_t)pg.page_size;
    rows = mem_calloc((size_t)pg.page_size, sizeof(*rows));
    if (rows == NULL)
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    flush_pending(c);
    if (meta_pulls_stale(c->r->reg->meta, &q, rows, (size_t)pg.page_size, &n, &total, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    if (!q.tags) {
        sized = stale_size(c, &q, total, &size, &e);
        if (sized < 0) {
            rc = api_fail_berr(c, &e);
            goto out;
        }
    }
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        api_array_push(&arr, pulls_stale_item_json(&rows[i], q.tags));
    rc = api_reply_page(c, arr, &pg, total);
    if (rc == 0 && c->out->status == HTTP_OK && !q.tags && sized == 0) {
        (void)snprintf(num, sizeof(num), "%llu", (unsigned long long)size); /* fits */
        rc = api_add_header(c, "X-Total-Size", num);
    }
out:
    mem_free(rows);
    return rc;
}

/* ---- the rows of api/routes.c (the router has checked the permission) ---- */

int api_pulls_project_series(struct api_call *c)
{
    return series(c, c->proj->p.name, NULL, NULL);
}

int api_pulls_series_all(struct api_call *c)
{
    return series(c, NULL, NULL, NULL);
}

int api_pulls_repo_series(struct api_call *c)
{
    struct repo_name repo;

    if (api_repo_from_path(c, 3, &repo) < 0)
        return -1;
    return series(c, c->proj->p.name, &repo, NULL);
}

int api_pulls_artifact_series(struct api_call *c)
{
    struct repo_name repo;
    struct meta_manifest m;
    struct reference ref;
    struct berr e;

    if (api_repo_from_path(c, 3, &repo) < 0)
        return -1;
    if (reference_parse(&ref, c->seg[5], c->seglen[5], &e) < 0)
        return api_fail(c, HTTP_BAD_REQUEST, "invalid reference");
    if (meta_manifest_resolve(c->r->reg->meta, &repo, &ref, &m, &e) < 0)
        return api_fail(c, HTTP_NOT_FOUND, "artifact not found");
    return series(c, c->proj->p.name, &repo, &m.digest);
}

int api_pulls_project_top(struct api_call *c)
{
    return top(c, c->proj->p.name);
}

int api_pulls_top(struct api_call *c)
{
    return top(c, NULL);
}

int api_pulls_stale(struct api_call *c)
{
    return stale(c, c->proj->p.id);
}

int api_pulls_stale_all(struct api_call *c)
{
    return stale(c, 0);
}

/* recent_window: the last API_PULLS_RECENT_DAYS days in hourly buckets while the hourly ones
 * cover them, else in whole days (today included) */
static void recent_window(const struct api_call *c, struct pulls_q *q)
{
    int64_t now = now_s();
    int64_t span = API_PULLS_RECENT_DAYS * (int64_t)PULLS_DAY_S;
    int64_t g = (int64_t)c->r->reg->cfg->pull_hourly_keep_s >= span ? PULLS_HOUR_S : PULLS_DAY_S;

    q->granularity = (unsigned)g;
    q->to = now - now % g + g;
    q->from = q->to - span;
}

int api_pulls_recent(struct api_call *c, const char *const *projects, size_t n, uint64_t *out,
                     struct berr *err)
{
    struct pulls_point *pts = mem_calloc(API_PULLS_RECENT_POINTS, sizeof(*pts));
    struct pulls_entry *pend = NULL;
    uint64_t epoch = 0;
    size_t np = 0, k, i, j;
    struct pulls_q q;
    int tries;
    int rc = 0;

    memset(out, 0, n * sizeof(*out));
    if (pts == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    memset(&q, 0, sizeof(q));
    recent_window(c, &q);
    /* the pending pulls, then the database, with no flush in between (invariant 1) */
    for (tries = 0; rc == 0 && tries < API_PULLS_READ_TRIES; tries++) {
        mem_free(pend);
        pend = NULL;
        np = 0;
        memset(out, 0, n * sizeof(*out));
        if (tries == API_PULLS_READ_TRIES - 1) {
            flush_pending(c); /* flushes kept racing: read what is written */
        } else if (pulls_pending_copy(c->r->reg->pulls, &pend, &np, &epoch) < 0) {
            rc = berr_set(err, BERR_INTERNAL, "out of memory");
            break;
        }
        api_pulls_between(c);
        for (i = 0; rc == 0 && i < n; i++) {
            q.project = projects[i];
            rc = meta_pulls_series(c->r->reg->meta, &q, pts, API_PULLS_RECENT_POINTS, &k, err);
            for (j = 0; rc == 0 && j < k; j++)
                out[i] += pts[j].pulls;
        }
        if (rc < 0 || tries == API_PULLS_READ_TRIES - 1 ||
            (epoch != 0 && epoch == pulls_epoch(c->r->reg->pulls)))
            break;
    }
    for (i = 0; rc == 0 && pend != NULL && i < n; i++) {
        q.project = projects[i];
        for (j = 0; j < np; j++) {
            const struct pulls_entry *e = &pend[j];
            int64_t b = e->hour - e->hour % (int64_t)q.granularity;

            if (!e->child && in_scope(&q, e) && b >= q.from && b < q.to)
                out[i] += e->count;
        }
    }
    mem_free(pend);
    mem_free(pts);
    return rc;
}
