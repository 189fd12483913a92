/* sqlite_state.c - the shared state's table in SQLite (migration 6): (ns, key) -> val, version,
 * expires.
 *
 * Invariants:
 *   1. Every write (put, remove, incr, purge) is one BEGIN IMMEDIATE transaction: the read of
 *      the current version and the write that depends on it cannot be split by another writer,
 *      in this process or another one on the same file.
 *   2. "Live" is expires = 0 or expires > now, now read once per call from the wall clock; an
 *      expired row is never returned, never matches a version, and is overwritten by a create.
 *   3. A row's version only grows while the row exists (a put over an expired row continues
 *      its count).
 *   4. list copies rows out in batches of META_STATE_BATCH (meta_walk.c) in key order
 *      (strictly after the last key seen) and gives the connection back before calling the
 *      callback.
 * All SQL is static with bound parameters. Thread-safe: every call borrows its own connection. */
#include "storage/sqlite_int.h"

#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "common/parse.h"
#include "common/util.h"
#include "storage/meta_walk.h"

static const char SQL_GET[] = "SELECT val, version, expires FROM state WHERE ns = ?1 AND key = ?2";
static const char SQL_WRITE[] =
        "INSERT INTO state(ns, key, val, version, expires) VALUES (?1, ?2, ?3, ?4, ?5)"
        " ON CONFLICT (ns, key) DO UPDATE SET val = excluded.val, version = excluded.version,"
        " expires = excluded.expires";
static const char SQL_REMOVE[] =
        "DELETE FROM state WHERE ns = ?1 AND key = ?2 AND (expires = 0 OR expires > ?3)"
        " AND (?4 < 0 OR version = ?4)";
static const char SQL_PAGE[] =
        "SELECT key, val, version, expires FROM state WHERE ns = ?1 AND key > ?2"
        " AND (expires = 0 OR expires > ?3) ORDER BY key LIMIT ?4";
static const char SQL_PURGE[] = "DELETE FROM state WHERE expires > 0 AND expires <= ?1";

static bool live(int64_t expires, int64_t now)
{
    return expires == 0 || expires > now;
}

/* a row as read: val is malloc'd (NUL-terminated beyond len) when asked for */
struct row {
    char *val;
    size_t len;
    int64_t version;
    int64_t expires;
};

/* row_read reads (ns, key) on c, expired or not: 1 and *r, 0 when absent, -1 on failure. With
 * want_val false, r->val stays NULL. */
static int row_read(struct sq_conn *c, const char *ns, const char *key, bool want_val,
                    struct row *r, struct berr *err)
{
    sqlite3_stmt *st;
    int rc;

    memset(r, 0, sizeof(*r));
    rc = sq_stmt(&st, c, SQ_Q_STATE_GET, SQL_GET, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 1, ns, strlen(ns), err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 2, key, strlen(key), err);
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc != 1) {
        (void)sqlite3_reset(st);
        return rc;
    }
    r->version = (int64_t)sqlite3_column_int64(st, 1);
    r->expires = (int64_t)sqlite3_column_int64(st, 2);
    if (want_val) {
        const void *p = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);

        r->len = n > 0 ? (size_t)n : 0;
        r->val = mem_malloc(r->len + 1);
        if (r->val == NULL) {
            (void)sqlite3_reset(st);
            return berr_set(err, BERR_INTERNAL, "out of memory");
        }
        if (r->len > 0)
            memcpy(r->val, p, r->len);
        r->val[r->len] = '\0';
    }
    (void)sqlite3_reset(st);
    return 1;
}

/* row_write stores (ns, key) = val at version and expires, in the caller's transaction */
static int row_write(struct sq_conn *c, const char *ns, const char *key, const void *val,
                     size_t len, int64_t version, int64_t expires, struct berr *err)
{
    sqlite3_stmt *st;
    int rc;

    rc = sq_stmt(&st, c, SQ_Q_STATE_WRITE, SQL_WRITE, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 1, ns, strlen(ns), err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 2, key, strlen(key), err);
    if (rc == 0)
        rc = sq_bind_blob(c, st, 3, val, len, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 4, version, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 5, expires, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    else
        (void)sqlite3_reset(st);
    return rc;
}

static int sq_state_get(struct meta *m, const char *ns, const char *key, char **val, size_t *len,
                        int64_t *version, struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    struct row r;
    int rc;

    rc = row_read(c, ns, key, true, &r, err);
    sq_conn_put(c);
    if (rc == 1 && !live(r.expires, now_s()))
        rc = 0;
    if (rc != 1) {
        mem_free(r.val);
        return rc;
    }
    *val = r.val;
    if (len != NULL)
        *len = r.len;
    if (version != NULL)
        *version = r.version;
    return 1;
}

static int sq_state_put(struct meta *m, const char *ns, const char *key, const void *val,
                        size_t len, int64_t expires, int64_t expect_version, int64_t *new_version,
                        struct berr *err)
{
    struct sq_conn *c;
    struct row r;
    int64_t v = 0;
    bool is_live;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = row_read(c, ns, key, false, &r, err);
    if (rc >= 0) {
        is_live = rc == 1 && live(r.expires, now_s());
        v = rc == 1 ? r.version + 1 : 1; /* invariant 3 */
        rc = 0;
        if (expect_version == 0 && is_live)
            rc = berr_set(err, BERR_CONFLICT, "state record exists");
        else if (expect_version > 0 && (!is_live || r.version != expect_version))
            rc = berr_set(err, BERR_CONFLICT, "state record changed");
    }
    if (rc == 0)
        rc = row_write(c, ns, key, val, len, v, expires, err);
    rc = sq_write_end(c, rc, err);
    if (rc == 0 && new_version != NULL)
        *new_version = v;
    return rc;
}

static int sq_state_remove(struct meta *m, const char *ns, const char *key, int64_t expect_version,
                           struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int changed = 0;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_prepare(&st, c, SQL_REMOVE, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 1, ns, strlen(ns), err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 2, key, strlen(key), err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, now_s(), err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 4, expect_version, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0)
        changed = sqlite3_changes(c->db);
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    rc = sq_write_end(c, rc, err);
    if (rc < 0)
        return -1;
    return changed > 0 ? 1 : 0;
}

static int sq_state_incr(struct meta *m, const char *ns, const char *key, int64_t delta,
                         int64_t expires, int64_t *value, struct berr *err)
{
    struct sq_conn *c;
    struct row r;
    int64_t cur = 0, sum = delta, v = 1;
    char text[32];
    int n, rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = row_read(c, ns, key, true, &r, err);
    if (rc == 1) {
        v = r.version + 1;
        rc = 0;
        if (live(r.expires, now_s())) {
            expires = r.expires; /* a fixed window: the first count sets it */
            if (parse_i64_range(&cur, r.val, r.len, INT64_MIN, INT64_MAX) < 0)
                rc = berr_set(err, BERR_CONFLICT, "state record is not a counter");
            else if (__builtin_add_overflow(cur, delta, &sum))
                rc = berr_set(err, BERR_BAD_REQUEST, "counter out of range");
        }
    }
    if (rc == 0) {
        n = snprintf(text, sizeof(text), "%lld", (long long)sum);
        rc = row_write(c, ns, key, text, (size_t)n, v, expires, err);
    }
    mem_free(r.val);
    rc = sq_write_end(c, rc, err);
    if (rc == 0 && value != NULL)
        *value = sum;
    return rc;
}

/* page_read copies up to META_STATE_BATCH live rows of ns after `after` into rows; *n rows */
static int page_read(struct meta *m, const char *ns, const char *after, struct meta_state_row *rows,
                     size_t *n, struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st = NULL;
    size_t i = 0;
    int rc;

    rc = sq_prepare(&st, c, SQL_PAGE, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 1, ns, strlen(ns), err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 2, after, strlen(after), err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, now_s(), err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 4, META_STATE_BATCH, err);
    while (rc == 0 && i < META_STATE_BATCH) {
        const void *p;
        int len;

        rc = sq_step(c, st, err);
        if (rc <= 0)
            break;
        rc = sq_col_text(c, st, 0, rows[i].key, sizeof(rows[i].key), err);
        if (rc < 0)
            break;
        p = sqlite3_column_blob(st, 1);
        len = sqlite3_column_bytes(st, 1);
        rows[i].len = len > 0 ? (size_t)len : 0;
        rows[i].val = mem_malloc(rows[i].len + 1);
        if (rows[i].val == NULL) {
            rc = berr_set(err, BERR_INTERNAL, "out of memory");
            break;
        }
        if (rows[i].len > 0)
            memcpy(rows[i].val, p, rows[i].len);
        rows[i].val[rows[i].len] = '\0';
        rows[i].version = (int64_t)sqlite3_column_int64(st, 2);
        rows[i].expires = (int64_t)sqlite3_column_int64(st, 3);
        i++;
    }
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    sq_conn_put(c);
    if (rc < 0) {
        meta_state_rows_clear(rows, i);
        *n = 0;
        return -1;
    }
    *n = i;
    return 0;
}

static int sq_state_list(struct meta *m, const char *ns, meta_state_fn fn, void *ctx,
                         struct berr *err)
{
    return meta_state_walk(m, ns, page_read, fn, ctx, err);
}

static int sq_state_purge(struct meta *m, int64_t now, int64_t *removed, struct berr *err)
{
    int changed = 0;
    int rc;

    rc = sq_write_i64(m, SQL_PURGE, now, &changed, err);
    if (rc == 0 && removed != NULL)
        *removed = changed;
    return rc;
}

const struct meta_state_ops sqlite_state_ops = {
        .get = sq_state_get,
        .put = sq_state_put,
        .remove = sq_state_remove,
        .incr = sq_state_incr,
        .list = sq_state_list,
        .purge = sq_state_purge,
};
