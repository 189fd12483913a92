/* meta_repo.c - projects, users, blobs and their links to repositories.
 *
 * A blob row says the file exists in the blob store (blob_store.c invariant 3); a repo_blobs row
 * says a repository may serve it. Invariants:
 *   1. A repository row exists only under an existing project: it is created by the first
 *      meta_blob_link (or meta_manifest_put) into that name, in the same transaction that
 *      checked the project.
 *   2. A repo_blobs row always has its blob row (foreign key), inserted in the same transaction.
 *   3. meta_blob_linked answers from one SELECT, without a transaction: it is the HEAD/GET blob
 *      hot path. A repository may serve a digest linked to it, the digest of one of its
 *      manifests, or a blob one of its manifests lists.
 * Names reaching SQL are parsed types or checked here (project and user names). Thread-safe:
 * every call borrows its own connection. */
#include "storage/meta.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "storage/meta_int.h"

#define USER_NAME_MAX 255
#define PW_HASH_MAX 255

/* ---- projects ---- */

static const char SQL_PROJECT_GET[] =
        "SELECT id, name, public, created_at FROM projects WHERE name = ?1";
static const char SQL_PROJECT_INSERT[] =
        "INSERT INTO projects(name, public, owner_id, created_at, updated_at)"
        " VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT(name) DO NOTHING";

int meta_project_get(struct meta *m, const char *name, struct meta_project *out, struct berr *err)
{
    struct meta_conn *c;
    sqlite3_stmt *st;
    size_t len = strlen(name);
    int rc;

    memset(out, 0, sizeof(*out));
    if (!project_name_valid(name, len))
        return berr_set(err, BERR_NAME_UNKNOWN, "project not found");
    c = meta_conn_get(m);
    rc = meta_stmt(&st, c, META_Q_PROJECT_GET, SQL_PROJECT_GET, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 1, name, len, err);
    if (rc == 0)
        rc = meta_step(c, st, err);
    if (rc == 1) {
        out->id = (int64_t)sqlite3_column_int64(st, 0);
        rc = meta_col_text(c, st, 1, out->name, sizeof(out->name), err);
        out->public = sqlite3_column_int(st, 2) != 0;
        out->created_at = (int64_t)sqlite3_column_int64(st, 3);
    } else if (rc == 0) {
        rc = berr_set(err, BERR_NAME_UNKNOWN, "project %s not found", name);
    }
    (void)sqlite3_reset(st);
    meta_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

int meta_project_create(struct meta *m, const char *name, bool public, int64_t owner_id,
                        struct meta_project *out, struct berr *err)
{
    struct meta_conn *c;
    sqlite3_stmt *st;
    size_t len = strlen(name);
    int64_t now = now_s();
    int rc;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (!project_name_valid(name, len))
        return berr_set(err, BERR_NAME_INVALID, "invalid project name");
    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = meta_stmt(&st, c, META_Q_PROJECT_INSERT, SQL_PROJECT_INSERT, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 1, name, len, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 2, public ? 1 : 0, err);
    if (rc == 0)
        rc = owner_id > 0 ? meta_bind_i64(c, st, 3, owner_id, err) : meta_bind_null(c, st, 3, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 4, now, err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_CONFLICT, "project %s already exists", name);
    if (rc == 0 && out != NULL) {
        out->id = (int64_t)sqlite3_last_insert_rowid(c->db);
        memcpy(out->name, name, len + 1);
        out->public = public;
        out->created_at = now;
    }
    rc = meta_write_end(c, rc, err);
    if (rc < 0 && out != NULL)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- users ---- */

static const char SQL_USER_GET[] =
        "SELECT id, name, pw_hash, sysadmin, created_at FROM users WHERE name = ?1";
static const char SQL_USER_INSERT[] =
        "INSERT INTO users(name, pw_hash, sysadmin, created_at, updated_at)"
        " VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT(name) DO NOTHING";
static const char SQL_USER_SET_PW[] =
        "UPDATE users SET pw_hash = ?2, updated_at = ?3 WHERE name = ?1";

static bool user_name_ok(size_t len)
{
    return len > 0 && len <= USER_NAME_MAX;
}

static int pw_hash_check(size_t len, struct berr *err)
{
    if (len == 0 || len > PW_HASH_MAX) {
        log_msg(LOG_ERROR, "meta: password hash of %zu bytes rejected", len);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    return 0;
}

int meta_user_get(struct meta *m, const char *name, struct meta_user *out, struct berr *err)
{
    struct meta_conn *c;
    sqlite3_stmt *st;
    size_t len = strlen(name);
    int rc;

    memset(out, 0, sizeof(*out));
    if (!user_name_ok(len))
        return berr_set(err, BERR_NOT_FOUND, "user not found");
    c = meta_conn_get(m);
    rc = meta_stmt(&st, c, META_Q_USER_GET, SQL_USER_GET, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 1, name, len, err);
    if (rc == 0)
        rc = meta_step(c, st, err);
    if (rc == 1) {
        out->id = (int64_t)sqlite3_column_int64(st, 0);
        rc = meta_col_text(c, st, 1, out->name, sizeof(out->name), err);
        if (rc == 0)
            rc = meta_col_text(c, st, 2, out->pw_hash, sizeof(out->pw_hash), err);
        out->sysadmin = sqlite3_column_int(st, 3) != 0;
        out->created_at = (int64_t)sqlite3_column_int64(st, 4);
    } else if (rc == 0) {
        rc = berr_set(err, BERR_NOT_FOUND, "user not found");
    }
    (void)sqlite3_reset(st);
    meta_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

int meta_user_create(struct meta *m, const char *name, const char *pw_hash, bool sysadmin,
                     int64_t *id, struct berr *err)
{
    struct meta_conn *c;
    sqlite3_stmt *st;
    size_t len = strlen(name);
    size_t hlen = strlen(pw_hash);
    int rc;

    if (id != NULL)
        *id = 0;
    if (!user_name_ok(len))
        return berr_set(err, BERR_BAD_REQUEST, "invalid user name");
    if (pw_hash_check(hlen, err) < 0)
        return -1;
    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = meta_stmt(&st, c, META_Q_USER_INSERT, SQL_USER_INSERT, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 1, name, len, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 2, pw_hash, hlen, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 3, sysadmin ? 1 : 0, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 4, now_s(), err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_CONFLICT, "user already exists");
    if (rc == 0 && id != NULL)
        *id = (int64_t)sqlite3_last_insert_rowid(c->db);
    rc = meta_write_end(c, rc, err);
    if (rc < 0 && id != NULL)
        *id = 0;
    return rc;
}

int meta_user_set_password(struct meta *m, const char *name, const char *pw_hash, struct berr *err)
{
    struct meta_conn *c;
    sqlite3_stmt *st;
    size_t len = strlen(name);
    size_t hlen = strlen(pw_hash);
    int rc;

    if (!user_name_ok(len))
        return berr_set(err, BERR_NOT_FOUND, "user not found");
    if (pw_hash_check(hlen, err) < 0)
        return -1;
    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = meta_stmt(&st, c, META_Q_USER_SET_PW, SQL_USER_SET_PW, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 1, name, len, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 2, pw_hash, hlen, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 3, now_s(), err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "user not found");
    return meta_write_end(c, rc, err);
}

/* ---- blobs ---- */

static const char SQL_BLOB_INSERT[] =
        "INSERT INTO blobs(digest, size, created_at) VALUES (?1, ?2, ?3)"
        " ON CONFLICT(digest) DO NOTHING";
static const char SQL_REPO_BLOB_INSERT[] =
        "INSERT INTO repo_blobs(repo_id, digest, created_at) VALUES (?1, ?2, ?3)"
        " ON CONFLICT(repo_id, digest) DO NOTHING";
/* The two ways a repository may serve a digest (invariant 3), first hit wins. A manifest's
 * config and layers are linked when it is pushed (meta_manifest_put requires it); a DELETE of
 * the blob removes that link and the repository stops serving it, as distribution does, even
 * while a manifest still lists it. */
static const char SQL_BLOB_LINKED[] =
        "SELECT b.size FROM repositories r"
        " JOIN repo_blobs rb ON rb.repo_id = r.id AND rb.digest = ?2"
        " JOIN blobs b ON b.digest = rb.digest WHERE r.name = ?1"
        " UNION ALL"
        " SELECT m.size FROM repositories r"
        " JOIN manifests m ON m.repo_id = r.id AND m.digest = ?2 WHERE r.name = ?1"
        " LIMIT 1";
static const char SQL_BLOB_LINKED_ID[] =
        "SELECT 1 FROM repo_blobs WHERE repo_id = ?1 AND digest = ?2"
        " UNION ALL"
        " SELECT 1 FROM manifests WHERE repo_id = ?1 AND digest = ?2"
        " LIMIT 1";
static const char SQL_REPO_BLOB_DELETE[] =
        "DELETE FROM repo_blobs WHERE repo_id = ?1 AND digest = ?2";
static const char SQL_BLOB_SIZE[] = "SELECT size FROM blobs WHERE digest = ?1";
static const char SQL_BLOB_REPOS[] =
        "SELECT r.name FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id"
        " WHERE rb.digest = ?1 AND r.name > ?2 ORDER BY r.name LIMIT ?3";

int meta_blob_insert_link(struct meta_conn *c, int64_t repo_id, const struct digest *d,
                          uint64_t size, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    sqlite3_stmt *st;
    int64_t now = now_s();
    int rc;

    if (size > INT64_MAX)
        return berr_set(err, BERR_SIZE_INVALID, "blob too large");
    rc = meta_stmt(&st, c, META_Q_BLOB_INSERT, SQL_BLOB_INSERT, err);
    if (rc == 0)
        rc = meta_bind_digest(c, st, 1, d, dbuf, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 2, (int64_t)size, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 3, now, err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    if (rc < 0)
        return -1;
    rc = meta_stmt_id_digest(&st, c, META_Q_REPO_BLOB_INSERT, SQL_REPO_BLOB_INSERT, repo_id, d,
                             dbuf, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 3, now, err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    return rc;
}

int meta_blob_linked_id(struct meta_conn *c, int64_t repo_id, const struct digest *d,
                        struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    sqlite3_stmt *st;
    int rc;

    rc = meta_stmt_id_digest(&st, c, META_Q_BLOB_LINKED_ID, SQL_BLOB_LINKED_ID, repo_id, d, dbuf,
                             err);
    if (rc == 0)
        rc = meta_step_i64(c, st, NULL, err);
    return rc;
}

int meta_blob_link(struct meta *m, const struct repo_name *repo, const struct digest *d,
                   uint64_t size, struct berr *err)
{
    struct meta_conn *c;
    int64_t repo_id;
    int rc;

    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = meta_repo_ensure(c, repo, &repo_id, err);
    if (rc == 0)
        rc = meta_blob_insert_link(c, repo_id, d, size, err);
    return meta_write_end(c, rc, err);
}

int meta_blob_linked(struct meta *m, const struct repo_name *repo, const struct digest *d,
                     uint64_t *size, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct meta_conn *c = meta_conn_get(m);
    sqlite3_stmt *st;
    int64_t v = 0;
    int rc;

    *size = 0;
    rc = meta_stmt(&st, c, META_Q_BLOB_LINKED, SQL_BLOB_LINKED, err);
    if (rc == 0)
        rc = meta_bind_repo(c, st, 1, repo, err);
    if (rc == 0)
        rc = meta_bind_digest(c, st, 2, d, dbuf, err);
    if (rc == 0)
        rc = meta_step_i64(c, st, &v, err);
    meta_conn_put(c);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown to repository");
    *size = v > 0 ? (uint64_t)v : 0;
    return 0;
}

int meta_blob_unlink(struct meta *m, const struct repo_name *repo, const struct digest *d,
                     struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    int64_t repo_id;
    int rc;

    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = meta_repo_id(c, repo, &repo_id, err);
    if (rc == 0)
        rc = berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown to repository");
    if (rc == 1)
        rc = meta_stmt_id_digest(&st, c, META_Q_REPO_BLOB_DELETE, SQL_REPO_BLOB_DELETE, repo_id, d,
                                 dbuf, err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown to repository");
    return meta_write_end(c, rc, err);
}

int meta_blob_size(struct meta *m, const struct digest *d, uint64_t *size, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct meta_conn *c = meta_conn_get(m);
    sqlite3_stmt *st;
    int64_t v = 0;
    int rc;

    *size = 0;
    rc = meta_stmt(&st, c, META_Q_BLOB_SIZE, SQL_BLOB_SIZE, err);
    if (rc == 0)
        rc = meta_bind_digest(c, st, 1, d, dbuf, err);
    if (rc == 0)
        rc = meta_step_i64(c, st, &v, err);
    meta_conn_put(c);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown");
    *size = v > 0 ? (uint64_t)v : 0;
    return 0;
}

struct blob_repos_q {
    char digest[DIGEST_STR_LEN + 1];
};

static int blob_repos_query(sqlite3_stmt **out, struct meta_conn *c, const void *q,
                            const char *after, int64_t limit, struct berr *err)
{
    const struct blob_repos_q *bq = q;
    int rc;

    rc = meta_stmt(out, c, META_Q_BLOB_REPOS, SQL_BLOB_REPOS, err);
    if (rc == 0)
        rc = meta_bind_text(c, *out, 1, bq->digest, DIGEST_STR_LEN, err);
    if (rc == 0)
        rc = meta_bind_text(c, *out, 2, after, strlen(after), err);
    if (rc == 0)
        rc = meta_bind_i64(c, *out, 3, limit, err);
    return rc;
}

int meta_blob_repos(struct meta *m, const struct digest *d, meta_str_fn fn, void *ctx,
                    struct berr *err)
{
    struct blob_repos_q q;

    digest_format(d, q.digest, sizeof(q.digest));
    return meta_page_strings(m, blob_repos_query, &q, NULL, UINT_MAX, fn, ctx, NULL, err);
}
