/* sqlite_pulls.c - pull counts written to SQLite: one batch of pulls.c's pending keys per
 * transaction.
 *
 * Invariants:
 *   1. A batch is written in one BEGIN IMMEDIATE transaction: every count of it or none, so a
 *      failed flush can put the whole batch back (pulls.c invariant 2).
 *   2. A key whose repository, manifest or tag is gone updates nothing and is not an error: the
 *      count belonged to content deleted since the pull.
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

enum { ST_REPO, ST_MANIFEST, ST_TAG, ST_PARENTS, ST_N };

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
    return rc;
}

static int sq_pulls_write(struct meta *m, const struct pulls_entry *ents, size_t n,
                          struct berr *err)
{
    static const char *const sql[ST_N] = {SQL_REPO, SQL_MANIFEST, SQL_TAG, SQL_PARENTS};
    sqlite3_stmt *st[ST_N] = {NULL, NULL, NULL, NULL};
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

const struct meta_pulls_ops sqlite_pulls_ops = {
        .write = sq_pulls_write,
};
