/* sqlite_user.c - users in SQLite: the one row reader, the one INSERT, lists, profile updates,
 * the password, delete.
 *
 * Invariants:
 *   1. A user row is read by user_read only (from USER_COLS), whether fetched by name, by id or
 *      listed; a fetch adds the hash, a list never does: password hashes never leave this file
 *      through a list.
 *   2. The password is set by id, by one UPDATE (sq_user_set_password); meta_user.c has
 *      checked the hash (1..255 bytes) and the name (1..255 bytes) before.
 *   3. Filters and sort keys reach SQL only as bound parameters; sort keys are checked against a
 *      fixed list first and selected by CASE expressions in static text.
 * Fetching by name is on the login path: one cached, indexed SELECT, no transaction.
 * Thread-safe: every call borrows its own connection. */
#include "storage/sqlite_int.h"

#include <string.h>

#include "common/log.h"
#include "common/util.h"

static const char SQL_USER_INSERT[] =
        "INSERT INTO users(name, pw_hash, sysadmin, created_at, updated_at)"
        " VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT(name) DO NOTHING";

#define USER_COLS                                                                                  \
    "SELECT id, name, sysadmin, created_at, COALESCE(email, ''), COALESCE(realname, ''),"          \
    " COALESCE(comment, ''), updated_at, pw_hash FROM users"
static const char SQL_USER_BY_ID[] = USER_COLS " WHERE id = ?1";
static const char SQL_USER_BY_NAME[] = USER_COLS " WHERE name = ?1";
#define USER_WHERE " WHERE (?1 IS NULL OR CASE WHEN ?2 THEN instr(name, ?1) > 0 ELSE name = ?1 END)"
static const char SQL_USER_COUNT[] = "SELECT COUNT(*) FROM users" USER_WHERE;
static const char SQL_USER_PAGE[] =
        USER_COLS USER_WHERE " ORDER BY"
                             " CASE ?3 WHEN 'username' THEN name END ASC,"
                             " CASE ?3 WHEN '-username' THEN name END DESC,"
                             " CASE ?3 WHEN 'creation_time' THEN created_at END ASC,"
                             " CASE ?3 WHEN '-creation_time' THEN created_at END DESC,"
                             " CASE ?3 WHEN 'update_time' THEN updated_at END ASC,"
                             " CASE ?3 WHEN '-update_time' THEN updated_at END DESC,"
                             " CASE ?3 WHEN '-user_id' THEN id END DESC,"
                             " id ASC LIMIT ?20 OFFSET ?21";
static const char SQL_USER_UPDATE[] =
        "UPDATE users SET email = COALESCE(?2, email), realname = COALESCE(?3, realname),"
        " comment = COALESCE(?4, comment), updated_at = ?5 WHERE id = ?1";
static const char SQL_USER_SYSADMIN[] =
        "UPDATE users SET sysadmin = ?2, updated_at = ?3 WHERE id = ?1";
static const char SQL_USER_PW[] = "UPDATE users SET pw_hash = ?2, updated_at = ?3 WHERE id = ?1";
static const char SQL_USER_DELETE[] = "DELETE FROM users WHERE id = ?1";

static const char *const user_sort_keys[] = {"username", "creation_time", "update_time", "user_id",
                                             NULL};

/* user_read copies a row without its hash (invariant 1); sq_user_get adds it */
static int user_read(struct sq_conn *c, sqlite3_stmt *st, void *row, struct berr *err)
{
    struct meta_user_info *u = row;

    memset(u, 0, sizeof(*u));
    u->u.id = (int64_t)sqlite3_column_int64(st, 0);
    u->u.sysadmin = sqlite3_column_int64(st, 2) != 0;
    u->u.created_at = (int64_t)sqlite3_column_int64(st, 3);
    u->updated_at = (int64_t)sqlite3_column_int64(st, 7);
    if (sq_col_text(c, st, 1, u->u.name, sizeof(u->u.name), err) < 0 ||
        sq_col_text(c, st, 4, u->email, sizeof(u->email), err) < 0 ||
        sq_col_text(c, st, 5, u->realname, sizeof(u->realname), err) < 0 ||
        sq_col_text(c, st, 6, u->comment, sizeof(u->comment), err) < 0)
        return -1;
    return 0;
}

static int sq_user_get(struct meta *m, int64_t id, const char *name, struct meta_user_info *out,
                       struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st;
    size_t len = name != NULL ? strlen(name) : 0;
    int rc;

    memset(out, 0, sizeof(*out));
    c = sq_conn_get(m);
    if (name != NULL) {
        rc = sq_stmt(&st, c, SQ_Q_USER_GET, SQL_USER_BY_NAME, err);
        if (rc == 0)
            rc = sq_bind_text(c, st, 1, name, len, err);
    } else {
        rc = sq_stmt(&st, c, SQ_Q_USER_GET_ID, SQL_USER_BY_ID, err);
        if (rc == 0)
            rc = sq_bind_i64(c, st, 1, id, err);
    }
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc == 0 && name != NULL)
        rc = berr_set(err, BERR_NOT_FOUND, "user not found");
    else if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "user %lld not found", (long long)id);
    else if (rc == 1)
        rc = user_read(c, st, out, err);
    if (rc == 0)
        rc = sq_col_text(c, st, 8, out->u.pw_hash, sizeof(out->u.pw_hash), err);
    if (rc == 0)
        (void)sqlite3_reset(st); /* the step succeeded; a failed one was reset by sq_step */
    sq_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

static int user_bind(struct sq_conn *c, sqlite3_stmt *st, const void *q, bool for_count,
                     struct berr *err)
{
    const struct meta_list_q *lq = q;
    int rc = sq_bind_name(c, st, 1, lq, err);

    if (rc == 0 && !for_count)
        rc = sq_bind_sort(c, st, 3, lq->sort, err);
    return rc;
}

static int sq_user_list(struct meta *m, const struct meta_list_q *q, struct meta_user_info *out,
                        size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    static const struct sq_list l = {
            SQL_USER_COUNT, SQL_USER_PAGE, user_bind, user_read, sizeof(struct meta_user_info),
            user_sort_keys};

    return sq_list_run(m, &l, q, q, out, cap, n, total, err);
}

/* user_write runs one UPDATE/DELETE by id in a transaction; BERR_NOT_FOUND when no row changed */
struct user_write {
    const char *sql;
    const char *t1, *t2, *t3; /* text parameters ?2..?4 (NULL binds NULL), when ntext > 0 */
    int ntext;
    int64_t i1; /* integer parameter ?2 when ntext == 0 and has_i1 */
    bool has_i1;
    bool stamp; /* bind now_s() after the other parameters */
};

static int user_write_run(struct meta *m, int64_t id, const struct user_write *w, struct berr *err)
{
    const char *texts[3];
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int idx = 2;
    int i;
    int rc;

    texts[0] = w->t1;
    texts[1] = w->t2;
    texts[2] = w->t3;
    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_prepare(&st, c, w->sql, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, id, err);
    for (i = 0; rc == 0 && i < w->ntext; i++, idx++)
        rc = texts[i] != NULL ? sq_bind_text(c, st, idx, texts[i], strlen(texts[i]), err)
                              : sq_bind_null(c, st, idx, err);
    if (rc == 0 && w->has_i1)
        rc = sq_bind_i64(c, st, idx++, w->i1, err);
    if (rc == 0 && w->stamp)
        rc = sq_bind_i64(c, st, idx, now_s(), err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "user %lld not found", (long long)id);
    (void)sqlite3_finalize(st); /* step errors were reported */
    rc = sq_write_end(c, rc, err);
    return rc;
}

static int sq_user_update(struct meta *m, int64_t id, const char *email, const char *realname,
                          const char *comment, struct berr *err)
{
    struct user_write w = {SQL_USER_UPDATE, email, realname, comment, 3, 0, false, true};

    return user_write_run(m, id, &w, err);
}

static int sq_user_set_sysadmin(struct meta *m, int64_t id, bool sysadmin, struct berr *err)
{
    struct user_write w = {SQL_USER_SYSADMIN, NULL, NULL, NULL, 0, sysadmin ? 1 : 0, true, true};

    return user_write_run(m, id, &w, err);
}

static int sq_user_set_password(struct meta *m, int64_t id, const char *pw_hash, struct berr *err)
{
    struct user_write w = {SQL_USER_PW, pw_hash, NULL, NULL, 1, 0, false, true};

    return user_write_run(m, id, &w, err);
}

static int sq_user_create(struct meta *m, const char *name, const char *pw_hash, bool sysadmin,
                          int64_t *id, struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st;
    size_t len = strlen(name);
    size_t hlen = strlen(pw_hash);
    int rc;

    if (id != NULL)
        *id = 0;
    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_stmt(&st, c, SQ_Q_USER_INSERT, SQL_USER_INSERT, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 1, name, len, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 2, pw_hash, hlen, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, sysadmin ? 1 : 0, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 4, now_s(), err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_CONFLICT, "user already exists");
    if (rc == 0 && id != NULL)
        *id = (int64_t)sqlite3_last_insert_rowid(c->db);
    rc = sq_write_end(c, rc, err);
    if (rc < 0 && id != NULL)
        *id = 0;
    return rc;
}

static int sq_user_delete(struct meta *m, int64_t id, struct berr *err)
{
    struct user_write w = {SQL_USER_DELETE, NULL, NULL, NULL, 0, 0, false, false};

    return user_write_run(m, id, &w, err);
}

const struct meta_user_ops sqlite_user_ops = {
        .get = sq_user_get,
        .list = sq_user_list,
        .create = sq_user_create,
        .update = sq_user_update,
        .set_sysadmin = sq_user_set_sysadmin,
        .set_password = sq_user_set_password,
        .remove = sq_user_delete,
};
