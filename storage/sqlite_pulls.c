/* sqlite_pulls.c - pull counts written to SQLite: one batch of pulls.c's pending keys per
 * transaction, into the counters (repositories, manifests, tags) and the pull history
 * (pull_buckets, hourly and daily); the history's reads (series, top lists), its pruning, and
 * the stale listing.
 *
 * Invariants:
 *   1. A batch is written in one BEGIN IMMEDIATE transaction: every count of it or none, so a
 *      failed flush can put the whole batch back (pulls.c invariant 2).
 *   2. A key whose repository, manifest or tag is gone updates no counter and is not an error:
 *      the count belonged to content deleted since the pull. Its buckets are written anyway:
 *      the history outlives the content.
 *   3. Each key adds its count to exactly one hourly and one daily bucket in the same
 *      transaction as the counters, so the daily series is the sum of the hourly one until the
 *      hourly buckets are pruned, and both agree with the counters.
 * Statements are prepared per flush (every few seconds): not worth slots in the statement
 * cache. Thread-safe: every call borrows its own connection. */
#include "storage/sqlite_int.h"

#include <string.h>

#include "storage/pulls.h"

static const char SQL_REPO[] =
        "UPDATE repositories SET pull_count = pull_count + ?2 WHERE name = ?1";
static const char SQL_MANIFEST[] =
        "UPDATE manifests SET pull_count = pull_count + ?3,"
        " pull_time = MAX(COALESCE(pull_time, 0), ?4)"
        " WHERE repo_id = (SELECT id FROM repositories WHERE name = ?1) AND digest = ?2";
static const char SQL_TAG[] = "UPDATE tags SET pull_count = pull_count + ?3,"
                              " pull_time = MAX(COALESCE(pull_time, 0), ?4)"
                              " WHERE repo_id = (SELECT id FROM repositories WHERE name = ?1)"
                              " AND name = ?2";
/* Harbor's updateParentArtifactPullTime: indexes listing the pulled manifest were used too */
static const char SQL_PARENTS[] =
        "UPDATE manifests SET pull_time = MAX(COALESCE(pull_time, 0), ?3)"
        " WHERE repo_id = (SELECT id FROM repositories WHERE name = ?1)"
        " AND id IN (SELECT parent_id FROM manifest_children WHERE child_digest = ?2)";

static const char SQL_BUCKET[] =
        "INSERT INTO pull_buckets(granularity, bucket, project, repo, digest, tag, who_kind, who,"
        " client, child, count, last) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        " ON CONFLICT (granularity, repo, bucket, digest, tag, who_kind, who, client, child)"
        " DO UPDATE SET count = count + excluded.count, last = MAX(last, excluded.last)";

enum { ST_REPO, ST_MANIFEST, ST_TAG, ST_PARENTS, ST_BUCKET, ST_N };

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
static int write_bucket(struct sq_conn *c, sqlite3_stmt *st, const struct pulls_entry *e, int64_t g,
                        struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    const char *kind = who_kind_name(e->who_kind);
    int64_t start = e->hour - e->hour % g;
    int rc;

    rc = sq_bind_i64(c, st, 1, g, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, start, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 3, e->repo.s, e->repo.project_len, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 4, e->repo.s, e->repo.len, err);
    if (rc == 0)
        rc = sq_bind_digest(c, st, 5, &e->digest, dbuf, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 6, e->tag.s, strlen(e->tag.s), err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 7, kind, strlen(kind), err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 8, e->who, strlen(e->who), err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 9, e->client, strlen(e->client), err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 10, e->child ? 1 : 0, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 11, (int64_t)e->count, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 12, e->last, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    return rc;
}

static int write_one(struct sq_conn *c, sqlite3_stmt *const *st, const struct pulls_entry *e,
                     struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    int rc;

    rc = sq_bind_text(c, st[ST_REPO], 1, e->repo.s, e->repo.len, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st[ST_REPO], 2, (int64_t)e->count, err);
    if (rc == 0)
        rc = sq_exec(c, st[ST_REPO], err);

    if (rc == 0)
        rc = sq_bind_text(c, st[ST_MANIFEST], 1, e->repo.s, e->repo.len, err);
    if (rc == 0)
        rc = sq_bind_digest(c, st[ST_MANIFEST], 2, &e->digest, dbuf, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st[ST_MANIFEST], 3, (int64_t)e->count, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st[ST_MANIFEST], 4, e->last, err);
    if (rc == 0)
        rc = sq_exec(c, st[ST_MANIFEST], err);

    if (rc == 0)
        rc = sq_bind_text(c, st[ST_PARENTS], 1, e->repo.s, e->repo.len, err);
    if (rc == 0)
        rc = sq_bind_digest(c, st[ST_PARENTS], 2, &e->digest, dbuf, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st[ST_PARENTS], 3, e->last, err);
    if (rc == 0)
        rc = sq_exec(c, st[ST_PARENTS], err);

    if (rc == 0 && e->tag.s[0] != '\0') {
        rc = sq_bind_text(c, st[ST_TAG], 1, e->repo.s, e->repo.len, err);
        if (rc == 0)
            rc = sq_bind_text(c, st[ST_TAG], 2, e->tag.s, strlen(e->tag.s), err);
        if (rc == 0)
            rc = sq_bind_i64(c, st[ST_TAG], 3, (int64_t)e->count, err);
        if (rc == 0)
            rc = sq_bind_i64(c, st[ST_TAG], 4, e->last, err);
        if (rc == 0)
            rc = sq_exec(c, st[ST_TAG], err);
    }
    if (rc == 0)
        rc = write_bucket(c, st[ST_BUCKET], e, PULLS_HOUR_S, err);
    if (rc == 0)
        rc = write_bucket(c, st[ST_BUCKET], e, PULLS_DAY_S, err);
    return rc;
}

static int sq_pulls_write(struct meta *m, const struct pulls_entry *ents, size_t n,
                          struct berr *err)
{
    static const char *const sql[ST_N] = {SQL_REPO, SQL_MANIFEST, SQL_TAG, SQL_PARENTS, SQL_BUCKET};
    sqlite3_stmt *st[ST_N] = {NULL, NULL, NULL, NULL, NULL};
    struct sq_conn *c;
    size_t i;
    int rc;

    /* prepared per flush (every few seconds): not worth slots in the statement cache */
    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    for (i = 0; i < ST_N && rc == 0; i++) {
        if (sqlite3_prepare_v2(c->db, sql[i], -1, &st[i], NULL) != SQLITE_OK)
            rc = sq_fail(c, "pulls: prepare", err);
    }
    for (i = 0; i < n && rc == 0; i++)
        rc = write_one(c, st, &ents[i], err);
    for (i = 0; i < ST_N; i++)
        (void)sqlite3_finalize(st[i]); /* NULL is a no-op; step errors were reported */
    rc = sq_write_end(c, rc, err);
    return rc;
}

/* ---- the history: series and top lists ---- */

#define BUCKET_SCOPE                                                                               \
    " WHERE granularity = ?1 AND bucket >= ?2 AND bucket < ?3 AND (?4 IS NULL OR project = ?4)"    \
    " AND (?5 IS NULL OR repo = ?5) AND (?7 IS NULL OR digest = ?7)"

static const char SQL_SERIES[] =
        "SELECT bucket, CASE ?6 WHEN 1 THEN tag WHEN 2 THEN digest WHEN 3 THEN who"
        " WHEN 4 THEN client WHEN 5 THEN repo ELSE '' END AS k,"
        " CASE WHEN ?6 = 3 THEN who_kind ELSE '' END AS wk, '',"
        " SUM(CASE WHEN child = 0 THEN count ELSE 0 END),"
        " SUM(CASE WHEN child = 1 THEN count ELSE 0 END), MAX(last)"
        " FROM pull_buckets" BUCKET_SCOPE " GROUP BY bucket, k, wk ORDER BY bucket, k, wk"
        " LIMIT ?8";

static const char SQL_TOP[] = "SELECT 0, CASE WHEN ?6 = 1 THEN tag ELSE repo END AS k, '', repo,"
                              " SUM(CASE WHEN child = 0 THEN count ELSE 0 END),"
                              " SUM(CASE WHEN child = 1 THEN count ELSE 0 END), MAX(last)"
                              " FROM pull_buckets" BUCKET_SCOPE " AND (?6 <> 1 OR tag <> '')"
                              " GROUP BY repo, k ORDER BY SUM(count) DESC, repo, k LIMIT ?8";

static int points_run(struct meta *m, const char *sql, const struct pulls_q *q,
                      struct pulls_point *out, size_t cap, size_t *n, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st = NULL;
    struct pulls_point *pt;
    sqlite3_int64 v;
    int rc;

    *n = 0;
    rc = sq_prepare(&st, c, sql, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, (int64_t)q->granularity, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, q->from, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, q->to, err);
    if (rc == 0)
        rc = q->project != NULL ? sq_bind_text(c, st, 4, q->project, strlen(q->project), err)
                                : sq_bind_null(c, st, 4, err);
    if (rc == 0)
        rc = q->repo != NULL ? sq_bind_text(c, st, 5, q->repo->s, q->repo->len, err)
                             : sq_bind_null(c, st, 5, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 6, (int64_t)q->group, err);
    if (rc == 0)
        rc = q->digest != NULL ? sq_bind_digest(c, st, 7, q->digest, dbuf, err)
                               : sq_bind_null(c, st, 7, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 8, (int64_t)cap, err);
    while (rc == 0 && *n < cap) {
        rc = sq_step(c, st, err);
        if (rc <= 0)
            break;
        rc = 0;
        pt = &out[*n];
        memset(pt, 0, sizeof(*pt));
        pt->bucket = (int64_t)sqlite3_column_int64(st, 0);
        if (sq_col_text(c, st, 1, pt->key, sizeof(pt->key), err) < 0 ||
            sq_col_text(c, st, 2, pt->kind, sizeof(pt->kind), err) < 0 ||
            sq_col_text(c, st, 3, pt->repo, sizeof(pt->repo), err) < 0) {
            rc = -1;
            break;
        }
        v = sqlite3_column_int64(st, 4);
        pt->pulls = v > 0 ? (uint64_t)v : 0;
        v = sqlite3_column_int64(st, 5);
        pt->child_fetches = v > 0 ? (uint64_t)v : 0;
        pt->last = (int64_t)sqlite3_column_int64(st, 6);
        (*n)++;
    }
    (void)sqlite3_finalize(st); /* NULL is a no-op; step errors were reported */
    sq_conn_put(c);
    if (rc < 0)
        *n = 0;
    return rc < 0 ? -1 : 0;
}

static int sq_pulls_series(struct meta *m, const struct pulls_q *q, struct pulls_point *out,
                           size_t cap, size_t *n, struct berr *err)
{
    return points_run(m, SQL_SERIES, q, out, cap, n, err);
}

static int sq_pulls_top(struct meta *m, const struct pulls_q *q, struct pulls_point *out,
                        size_t cap, size_t *n, struct berr *err)
{
    return points_run(m, SQL_TOP, q, out, cap, n, err);
}

/* ---- pruning ---- */

static const char SQL_PRUNE[] =
        "DELETE FROM pull_buckets WHERE (granularity = 3600 AND bucket < ?1)"
        " OR (?2 > 0 AND granularity = 86400 AND bucket < ?2)";

static int sq_pulls_prune(struct meta *m, int64_t hour_before, int64_t day_before, int64_t *removed,
                          struct berr *err)
{
    sqlite3_stmt *st = NULL;
    struct sq_conn *c;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_prepare(&st, c, SQL_PRUNE, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, hour_before, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, day_before, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0 && removed != NULL)
        *removed = (int64_t)sqlite3_changes(c->db);
    (void)sqlite3_finalize(st); /* NULL is a no-op; step errors were reported */
    return sq_write_end(c, rc, err);
}

/* ---- the stale listing ---- */

#define STALE_ART_FROM                                                                             \
    " FROM manifests m JOIN repositories r ON r.id = m.repo_id"                                    \
    " WHERE (?1 <= 0 OR r.project_id = ?1) AND COALESCE(m.pull_time, 0) < ?2 AND" ART_TOP("m")
#define STALE_TAG_FROM                                                                             \
    " FROM tags t JOIN manifests m ON m.id = t.manifest_id JOIN repositories r ON r.id = "         \
    "t.repo_id"                                                                                    \
    " WHERE (?1 <= 0 OR r.project_id = ?1) AND COALESCE(t.pull_time, 0) < ?2"

static const char SQL_STALE_ART_COUNT[] = "SELECT COUNT(*)" STALE_ART_FROM;
static const char SQL_STALE_ART_PAGE[] =
        "SELECT r.name, m.digest, '', " ART_SIZE ", m.pushed_at, COALESCE(m.pull_time, 0),"
        " m.pull_count" STALE_ART_FROM " ORDER BY COALESCE(m.pull_time, 0), m.pushed_at, m.id"
        " LIMIT ?20 OFFSET ?21";
static const char SQL_STALE_TAG_COUNT[] = "SELECT COUNT(*)" STALE_TAG_FROM;
static const char SQL_STALE_TAG_PAGE[] =
        "SELECT r.name, m.digest, t.name, " ART_SIZE ", t.pushed_at, COALESCE(t.pull_time, 0),"
        " t.pull_count" STALE_TAG_FROM " ORDER BY COALESCE(t.pull_time, 0), t.pushed_at, r.name,"
        " t.name LIMIT ?20 OFFSET ?21";

static int stale_bind(struct sq_conn *c, sqlite3_stmt *st, const void *qv, bool for_count,
                      struct berr *err)
{
    const struct pulls_stale_q *q = qv;
    int rc;

    (void)for_count; /* both queries take the same filter */
    rc = sq_bind_i64(c, st, 1, q->project_id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, q->before, err);
    return rc;
}

static int stale_read(struct sq_conn *c, sqlite3_stmt *st, void *row, struct berr *err)
{
    struct pulls_stale *s = row;
    sqlite3_int64 v;

    memset(s, 0, sizeof(*s));
    if (sq_col_text(c, st, 0, s->repo, sizeof(s->repo), err) < 0 ||
        sq_col_digest(c, st, 1, &s->digest, err) < 0 ||
        sq_col_text(c, st, 2, s->tag, sizeof(s->tag), err) < 0)
        return -1;
    v = sqlite3_column_int64(st, 3);
    s->size = v > 0 ? (uint64_t)v : 0;
    s->push_time = (int64_t)sqlite3_column_int64(st, 4);
    s->pull_time = (int64_t)sqlite3_column_int64(st, 5);
    s->pull_count = (int64_t)sqlite3_column_int64(st, 6);
    return 0;
}

static int sq_pulls_stale(struct meta *m, const struct pulls_stale_q *q, struct pulls_stale *out,
                          size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    static const struct sq_list art = {.count_sql = SQL_STALE_ART_COUNT,
                                       .page_sql = SQL_STALE_ART_PAGE,
                                       .bind = stale_bind,
                                       .read = stale_read,
                                       .elem = sizeof(struct pulls_stale)};
    static const struct sq_list tag = {.count_sql = SQL_STALE_TAG_COUNT,
                                       .page_sql = SQL_STALE_TAG_PAGE,
                                       .bind = stale_bind,
                                       .read = stale_read,
                                       .elem = sizeof(struct pulls_stale)};
    struct meta_list_q lq;

    memset(&lq, 0, sizeof(lq));
    lq.offset = q->offset;
    lq.limit = q->limit;
    return sq_list_run(m, q->tags ? &tag : &art, q, &lq, out, cap, n, total, err);
}

const struct meta_pulls_ops sqlite_pulls_ops = {
        .write = sq_pulls_write,
        .series = sq_pulls_series,
        .top = sq_pulls_top,
        .prune = sq_pulls_prune,
        .stale = sq_pulls_stale,
};
