/* pg_pulls.c - pull counts written to PostgreSQL: one batch of pulls.c's pending keys per
 * transaction, into the counters (repositories, manifests, tags) and the pull history
 * (pull_buckets, hourly and daily); the history's reads, its pruning, and the stale listing.
 * The PostgreSQL twin of sqlite_pulls.c.
 *
 * Concurrency (several replicas flushing into one database, READ COMMITTED): every write is
 * additive and read-free, so two replicas' flushes of the same keys add up and none is lost:
 * counters are `pull_count = pull_count + n` and `pull_time = GREATEST(pull_time, t)` in one
 * UPDATE (the row lock it takes makes the second flush add to what the first committed), and a
 * bucket is an upsert whose conflict arm adds (`count = pull_buckets.count + excluded.count`,
 * `last = GREATEST(...)`). A batch is written in a fixed order (keys sorted by repository,
 * digest, tag, who, client, child, hour; counters first, then hourly buckets, then daily ones),
 * so two flushes lock shared rows in the same order; the counter rows of one repository come
 * after its repository row, which every writer of that repository locks first (pg_repo.c). A
 * deadlock left over (with a prune, say) is retried by pg_tx_run: a batch touches nothing but
 * the database.
 *
 * Invariants (as sqlite_pulls.c's):
 *   1. A batch is written in one transaction: every count of it or none.
 *   2. A key whose repository, manifest or tag is gone updates no counter and is not an error;
 *      its buckets are written anyway.
 *   3. Each key adds its count to exactly one hourly and one daily bucket in the same
 *      transaction as the counters.
 * Thread-safe: every call borrows its own connection. */
#include "storage/pg_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "storage/pulls.h"

/* The counters of one key in one statement (one round trip): the repository, the manifest, the
 * indexes of the repository that list it (Harbor's updateParentArtifactPullTime: they were used
 * too) and the tag ($5, '' when pulled by digest). The repository's UPDATE runs first (the
 * others read its RETURNING), so its row is locked before the rows of its content; the
 * manifest is never among its own parents, so no row is updated twice. */
static const char SQL_COUNTERS[] =
        "WITH r AS (UPDATE repositories SET pull_count = pull_count + $3 WHERE name = $1"
        " RETURNING id),"
        " m AS (UPDATE manifests SET pull_count = pull_count + $3,"
        " pull_time = GREATEST(COALESCE(pull_time, 0), $4)"
        " WHERE repo_id = (SELECT id FROM r) AND digest = $2 RETURNING id),"
        " p AS (UPDATE manifests SET pull_time = GREATEST(COALESCE(pull_time, 0), $4)"
        " WHERE repo_id = (SELECT id FROM r)"
        " AND id IN (SELECT parent_id FROM manifest_children WHERE child_digest = $2) RETURNING "
        "id),"
        " t AS (UPDATE tags SET pull_count = pull_count + $3,"
        " pull_time = GREATEST(COALESCE(pull_time, 0), $4)"
        " WHERE $5::text <> '' AND repo_id = (SELECT id FROM r) AND name = $5::text RETURNING 1)"
        " SELECT (SELECT COUNT(*) FROM m), (SELECT COUNT(*) FROM p), (SELECT COUNT(*) FROM t)";
static const char SQL_BUCKET[] =
        "INSERT INTO pull_buckets(granularity, bucket, project, repo, digest, tag, who_kind, who,"
        " client, child, count, last) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        " ON CONFLICT (granularity, repo, bucket, digest, tag, who_kind, who, client, child)"
        " DO UPDATE SET count = pull_buckets.count + excluded.count,"
        " last = GREATEST(pull_buckets.last, excluded.last)";

static const char *who_kind_name(enum pulls_who k)
{
    switch (k) {
    case PULLS_WHO_USER:
        return "user";
    case PULLS_WHO_ROBOT:
        return "robot";
    default:
        return "anonymous";
    }
}

/* write_bucket adds e to its bucket of granularity g */
static int write_bucket(struct pg_conn *c, const struct pulls_entry *e, int64_t g, struct berr *err)
{
    char project[REPO_NAME_MAX + 1];
    struct pg_params p;

    repo_name_project(&e->repo, project, sizeof(project));
    pg_params_init(&p);
    pg_p_i64(&p, g);
    pg_p_i64(&p, e->hour - e->hour % g);
    pg_p_text(&p, project);
    pg_p_repo(&p, &e->repo);
    pg_p_digest(&p, &e->digest);
    pg_p_text(&p, e->tag.s);
    pg_p_text(&p, who_kind_name(e->who_kind));
    pg_p_text(&p, e->who);
    pg_p_text(&p, e->client);
    pg_p_bool(&p, e->child);
    pg_p_i64(&p, (int64_t)e->count);
    pg_p_i64(&p, e->last);
    return pg_run(NULL, c, PG_Q_PULLS_UPSERT, SQL_BUCKET, &p, err) < 0 ? -1 : 0;
}

static int write_counters(struct pg_conn *c, const struct pulls_entry *e, struct berr *err)
{
    struct pg_params p;

    pg_params_init(&p);
    pg_p_repo(&p, &e->repo);
    pg_p_digest(&p, &e->digest);
    pg_p_i64(&p, (int64_t)e->count);
    pg_p_i64(&p, e->last);
    pg_p_text(&p, e->tag.s);
    return pg_run(NULL, c, PG_Q_PULLS_COUNT, SQL_COUNTERS, &p, err) < 0 ? -1 : 0;
}

/* entry_cmp orders keys bytewise (COLLATE "C" in the database) by repository, digest, tag,
 * who, client, child, then hour: the lock order of a batch */
static int entry_cmp(const void *a, const void *b)
{
    const struct pulls_entry *x = *(const struct pulls_entry *const *)a;
    const struct pulls_entry *y = *(const struct pulls_entry *const *)b;
    int r;

    if ((r = strcmp(x->repo.s, y->repo.s)) != 0 ||
        (r = strcmp(x->digest.hex, y->digest.hex)) != 0 || (r = strcmp(x->tag.s, y->tag.s)) != 0)
        return r;
    if (x->who_kind != y->who_kind)
        return strcmp(who_kind_name(x->who_kind), who_kind_name(y->who_kind));
    if ((r = strcmp(x->who, y->who)) != 0 || (r = strcmp(x->client, y->client)) != 0)
        return r;
    if (x->child != y->child)
        return x->child ? 1 : -1;
    return x->hour < y->hour ? -1 : x->hour > y->hour;
}

struct write_ctx {
    const struct pulls_entry *const *sorted;
    size_t n;
};

static int pulls_write_tx(struct pg_conn *c, void *ctx, struct berr *err)
{
    const struct write_ctx *w = ctx;
    size_t i;

    for (i = 0; i < w->n; i++)
        if (write_counters(c, w->sorted[i], err) < 0)
            return -1;
    for (i = 0; i < w->n; i++)
        if (write_bucket(c, w->sorted[i], PULLS_HOUR_S, err) < 0)
            return -1;
    for (i = 0; i < w->n; i++)
        if (write_bucket(c, w->sorted[i], PULLS_DAY_S, err) < 0)
            return -1;
    return 0;
}

static int pg_pulls_write(struct meta *m, const struct pulls_entry *ents, size_t n,
                          struct berr *err)
{
    const struct pulls_entry **sorted;
    struct write_ctx w;
    size_t i;
    int rc;

    if (n == 0)
        return 0;
    sorted = mem_calloc(n, sizeof(*sorted));
    if (sorted == NULL)
        return berr_sys(err, ENOMEM, "meta: pull batch");
    for (i = 0; i < n; i++)
        sorted[i] = &ents[i];
    qsort(sorted, n, sizeof(*sorted), entry_cmp);
    w.sorted = sorted;
    w.n = n;
    rc = pg_tx_run(m, pulls_write_tx, &w, err);
    mem_free(sorted);
    return rc;
}

/* ---- the history: series and top lists ---- */

/* $1 granularity, $2 from, $3 to, $4 project, $5 repository, $6 group, $7 digest, $8 limit */
#define BUCKET_SCOPE                                                                               \
    " WHERE granularity = $1 AND bucket >= $2 AND bucket < $3"                                     \
    " AND ($4::text IS NULL OR project = $4::text) AND ($5::text IS NULL OR repo = $5::text)"      \
    " AND ($7::text IS NULL OR digest = $7::text)"

static const char SQL_SERIES[] =
        "SELECT bucket, CASE $6::bigint WHEN 1 THEN tag WHEN 2 THEN digest WHEN 3 THEN who"
        " WHEN 4 THEN client WHEN 5 THEN repo ELSE '' END AS k,"
        " CASE WHEN $6::bigint = 3 THEN who_kind ELSE '' END AS wk, '',"
        " SUM(CASE WHEN NOT child THEN count ELSE 0 END),"
        " SUM(CASE WHEN child THEN count ELSE 0 END), MAX(last)"
        " FROM pull_buckets" BUCKET_SCOPE " GROUP BY bucket, k, wk ORDER BY bucket, k, wk"
        " LIMIT $8";

static const char SQL_TOP[] =
        "SELECT 0, CASE WHEN $6::bigint = 1 THEN tag ELSE repo END AS k, '', repo,"
        " SUM(CASE WHEN NOT child THEN count ELSE 0 END),"
        " SUM(CASE WHEN child THEN count ELSE 0 END), MAX(last)"
        " FROM pull_buckets" BUCKET_SCOPE " AND ($6::bigint <> 1 OR tag <> '')"
        " GROUP BY repo, k ORDER BY SUM(count) DESC, repo, k LIMIT $8";

static int points_run(struct meta *m, const char *sql, const struct pulls_q *q,
                      struct pulls_point *out, size_t cap, size_t *n, struct berr *err)
{
    struct pulls_point *pt;
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    int64_t v;
    int rows;
    int rc;

    *n = 0;
    pg_params_init(&p);
    pg_p_i64(&p, (int64_t)q->granularity);
    pg_p_i64(&p, q->from);
    pg_p_i64(&p, q->to);
    pg_p_text(&p, q->project);
    pg_p_text(&p, q->repo != NULL ? q->repo->s : NULL);
    pg_p_i64(&p, (int64_t)q->group);
    if (q->digest != NULL)
        pg_p_digest(&p, q->digest);
    else
        pg_p_null(&p);
    pg_p_i64(&p, (int64_t)cap);
    c = pg_conn_get(m);
    rows = pg_run(&r, c, PG_Q_NONE, sql, &p, err);
    pg_conn_put(c);
    rc = rows < 0 ? -1 : 0;
    for (int i = 0; rc == 0 && i < rows && *n < cap; i++) {
        pt = &out[*n];
        memset(pt, 0, sizeof(*pt));
        pt->bucket = pg_i64(r, i, 0);
        if (pg_text(r, i, 1, pt->key, sizeof(pt->key), err) < 0 ||
            pg_text(r, i, 2, pt->kind, sizeof(pt->kind), err) < 0 ||
            pg_text(r, i, 3, pt->repo, sizeof(pt->repo), err) < 0) {
            rc = -1;
            break;
        }
        v = pg_i64(r, i, 4);
        pt->pulls = v > 0 ? (uint64_t)v : 0;
        v = pg_i64(r, i, 5);
        pt->child_fetches = v > 0 ? (uint64_t)v : 0;
        pt->last = pg_i64(r, i, 6);
        (*n)++;
    }
    pg_res_free(r);
    if (rc < 0)
        *n = 0;
    return rc;
}

static int pg_pulls_series(struct meta *m, const struct pulls_q *q, struct pulls_point *out,
                           size_t cap, size_t *n, struct berr *err)
{
    return points_run(m, SQL_SERIES, q, out, cap, n, err);
}

static int pg_pulls_top(struct meta *m, const struct pulls_q *q, struct pulls_point *out,
                        size_t cap, size_t *n, struct berr *err)
{
    return points_run(m, SQL_TOP, q, out, cap, n, err);
}

/* ---- pruning ---- */

static const char SQL_PRUNE[] =
        "DELETE FROM pull_buckets WHERE (granularity = 3600 AND bucket < $1)"
        " OR ($2::bigint > 0 AND granularity = 86400 AND bucket < $2::bigint)";

static int pg_pulls_prune(struct meta *m, int64_t hour_before, int64_t day_before, int64_t *removed,
                          struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int rc;

    pg_params_init(&p);
    pg_p_i64(&p, hour_before);
    pg_p_i64(&p, day_before);
    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = pg_run(NULL, c, PG_Q_NONE, SQL_PRUNE, &p, err);
    if (rc >= 0 && removed != NULL)
        *removed = rc;
    return pg_write_end(c, rc < 0 ? -1 : 0, err);
}

/* ---- the stale listing ---- */

/* $1 project, $2 before */
#define STALE_ART_FROM                                                                             \
    " FROM manifests m JOIN repositories r ON r.id = m.repo_id"                                    \
    " WHERE ($1::bigint <= 0 OR r.project_id = $1::bigint) AND COALESCE(m.pull_time, 0) < $2 "     \
    "AND" PG_ART_TOP("m")
#define STALE_TAG_FROM                                                                             \
    " FROM tags t JOIN manifests m ON m.id = t.manifest_id JOIN repositories r ON r.id = "         \
    "t.repo_id"                                                                                    \
    " WHERE ($1::bigint <= 0 OR r.project_id = $1::bigint) AND COALESCE(t.pull_time, 0) < $2"

static const char SQL_STALE_ART_COUNT[] = "SELECT COUNT(*)" STALE_ART_FROM;
/* $3 limit, $4 offset */
static const char SQL_STALE_ART_PAGE[] =
        "SELECT r.name, m.digest, '', " PG_ART_SIZE ", m.pushed_at, COALESCE(m.pull_time, 0),"
        " m.pull_count" STALE_ART_FROM " ORDER BY COALESCE(m.pull_time, 0), m.pushed_at, m.id"
        " LIMIT $3 OFFSET $4";
static const char SQL_STALE_TAG_COUNT[] = "SELECT COUNT(*)" STALE_TAG_FROM;
static const char SQL_STALE_TAG_PAGE[] =
        "SELECT r.name, m.digest, t.name, " PG_ART_SIZE ", t.pushed_at, COALESCE(t.pull_time, 0),"
        " t.pull_count" STALE_TAG_FROM " ORDER BY COALESCE(t.pull_time, 0), t.pushed_at, r.name,"
        " t.name LIMIT $3 OFFSET $4";

static int stale_bind(struct pg_params *p, const void *qv, bool for_count, struct berr *err)
{
    const struct pulls_stale_q *q = qv;

    (void)for_count; /* both queries take the same filter */
    (void)err;
    pg_p_i64(p, q->project_id);
    pg_p_i64(p, q->before);
    return 0;
}

static int stale_read(const PGresult *r, int row, void *out, struct berr *err)
{
    struct pulls_stale *s = out;
    int64_t v;

    memset(s, 0, sizeof(*s));
    if (pg_text(r, row, 0, s->repo, sizeof(s->repo), err) < 0 ||
        pg_digest(r, row, 1, &s->digest, err) < 0 ||
        pg_text(r, row, 2, s->tag, sizeof(s->tag), err) < 0)
        return -1;
    v = pg_i64(r, row, 3);
    s->size = v > 0 ? (uint64_t)v : 0;
    s->push_time = pg_i64(r, row, 4);
    s->pull_time = pg_i64(r, row, 5);
    s->pull_count = pg_i64(r, row, 6);
    return 0;
}

static int pg_pulls_stale(struct meta *m, const struct pulls_stale_q *q, struct pulls_stale *out,
                          size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    static const struct pg_list art = {.count_sql = SQL_STALE_ART_COUNT,
                                       .page_sql = SQL_STALE_ART_PAGE,
                                       .bind = stale_bind,
                                       .read = stale_read,
                                       .elem = sizeof(struct pulls_stale)};
    static const struct pg_list tag = {.count_sql = SQL_STALE_TAG_COUNT,
                                       .page_sql = SQL_STALE_TAG_PAGE,
                                       .bind = stale_bind,
                                       .read = stale_read,
                                       .elem = sizeof(struct pulls_stale)};
    struct meta_list_q lq;

    memset(&lq, 0, sizeof(lq));
    lq.offset = q->offset;
    lq.limit = q->limit;
    return pg_list_run(m, q->tags ? &tag : &art, q, &lq, out, cap, n, total, err);
}

const struct meta_pulls_ops pg_pulls_ops = {
        .write = pg_pulls_write,
        .series = pg_pulls_series,
        .top = pg_pulls_top,
        .prune = pg_pulls_prune,
        .stale = pg_pulls_stale,
};
