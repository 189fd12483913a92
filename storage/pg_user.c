/* pg_user.c - users in PostgreSQL: the one row reader, the one INSERT, lists, profile updates,
 * the password, delete.
 *
 * Invariants (as sqlite_user.c's):
 *   1. A user row is read by user_read only (from USER_COLS), whether fetched by name, by id or
 *      listed; a fetch adds the hash, a list never does: password hashes never leave this file
 *      through a list.
 *   2. The password is set by id, by one UPDATE; meta_user.c has checked the hash and the name.
 *   3. A name is taken once: INSERT ... ON CONFLICT (name) DO NOTHING RETURNING id, so two
 *      replicas creating one name get one row and one BERR_CONFLICT.
 *   4. Filters and sort keys reach SQL only as parameters; sort keys are checked against a fixed
 *      list first and selected by CASE expressions in static text.
 * Fetching by name is on the login path: one cached, indexed SELECT, no transaction.
 * Thread-safe: every call borrows its own connection. */
#include "storage/pg_int.h"

#include <string.h>

#include "common/log.h"
#include "common/util.h"

static const char SQL_USER_INSERT[] =
        "INSERT INTO users(name, pw_hash, sysadmin, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $4) ON CONFLICT (name) DO NOTHING RETURNING id";

#define USER_COLS                                                                                  \
    "SELECT id, name, sysadmin, created_at, COALESCE(email, ''), COALESCE(realname, ''),"          \
    " COALESCE(comment, ''), updated_at, pw_hash FROM users"
static const char SQL_USER_BY_ID[] = USER_COLS " WHERE id = $1";
static const char SQL_USER_BY_NAME[] = USER_COLS " WHERE name = $1";
#define USER_WHERE                                                                                 \
    " WHERE ($1::text IS NULL OR CASE WHEN $2::boolean THEN strpos(name, $1::text) > 0"            \
    " ELSE name = $1::text END)"
static const char SQL_USER_COUNT[] = "SELECT COUNT(*) FROM users" USER_WHERE;
/* $3 sort, $4 limit, $5 offset */
static const char SQL_USER_PAGE[] =
        USER_COLS USER_WHERE " ORDER BY"
                             " CASE $3::text WHEN 'username' THEN name END ASC,"
                             " CASE $3::text WHEN '-username' THEN name END DESC,"
                             " CASE $3::text WHEN 'creation_time' THEN created_at END ASC,"
                             " CASE $3::text WHEN '-creation_time' THEN created_at END DESC,"
                             " CASE $3::text WHEN 'update_time' THEN updated_at END ASC,"
                             " CASE $3::text WHEN '-update_time' THEN updated_at END DESC,"
                             " CASE $3::text WHEN '-user_id' THEN id END DESC,"
                             " id ASC LIMIT $4 OFFSET $5";
static const char SQL_USER_UPDATE[] =
        "UPDATE users SET email = COALESCE($2, email), realname = COALESCE($3, realname),"
        " comment = COALESCE($4, comment), updated_at = $5 WHERE id = $1";
static const char SQL_USER_SYSADMIN[] =
        "UPDATE users SET sysadmin = $2, updated_at = $3 WHERE id = $1";
static const char SQL_USER_PW[] = "UPDATE users SET pw_hash = $2, updated_at = $3 WHERE id = $1";
static const char SQL_USER_DELETE[] = "DELETE FROM users WHERE id = $1";

static const char *const user_sort_keys[] = {"username", "creation_time", "update_time", "user_id",
                                             NULL};

/* user_read copies a row without its hash (invariant 1); pg_user_get adds it */
static int user_read(const PGresult *r, int row, void *out, struct berr *err)
{
    struct meta_user_info *u = out;

    memset(u, 0, sizeof(*u));
    u->u.id = pg_i64(r, row, 0);
    u->u.sysadmin = pg_bool(r, row, 2);
    u->u.created_at = pg_i64(r, row, 3);
    u->updated_at = pg_i64(r, row, 7);
    if (pg_text(r, row, 1, u->u.name, sizeof(u->u.name), err) < 0 ||
        pg_text(r, row, 4, u->email, sizeof(u->email), err) < 0 ||
        pg_text(r, row, 5, u->realname, sizeof(u->realname), err) < 0 ||
        pg_text(r, row, 6, u->comment, sizeof(u->comment), err) < 0)
        return -1;
    return 0;
}

static int pg_user_get(struct meta *m, int64_t id, const char *name, struct meta_user_info *out,
                       struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    pg_params_init(&p);
    c = pg_conn_get(m);
    if (name != NULL) {
        pg_p_text(&p, name);
        rc = pg_run(&r, c, PG_Q_USER_GET, SQL_USER_BY_NAME, &p, err);
    } else {
        pg_p_i64(&p, id);
        rc = pg_run(&r, c, PG_Q_USER_GET_ID, SQL_USER_BY_ID, &p, err);
    }
    pg_conn_put(c);
    if (rc == 0 && name != NULL)
        rc = berr_set(err, BERR_NOT_FOUND, "user not found");
    else if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "user %lld not found", (long long)id);
    else if (rc > 0)
        rc = user_read(r, 0, out, err);
    if (rc == 0)
        rc = pg_text(r, 0, 8, out->u.pw_hash, sizeof(out->u.pw_hash), err);
    pg_res_free(r);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

static int user_bind(struct pg_params *p, const void *q, bool for_count, struct berr *err)
{
    const struct meta_list_q *lq = q;

    (void)err;
    pg_p_name(p, lq);
    if (!for_count)
        pg_p_sort(p, lq->sort);
    return 0;
}

static int pg_user_list(struct meta *m, const struct meta_list_q *q, struct meta_user_info *out,
                        size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    static const struct pg_list l = {
            SQL_USER_COUNT, SQL_USER_PAGE, user_bind, user_read, sizeof(struct meta_user_info),
            user_sort_keys};

    return pg_list_run(m, &l, q, q, out, cap, n, total, err);
}

/* user_write runs one UPDATE/DELETE by id ($1) with p's further parameters in a transaction;
 * BERR_NOT_FOUND when no row changed */
static int user_write(struct meta *m, int64_t id, const char *sql, const struct pg_params *p,
                      struct berr *err)
{
    struct pg_conn *c;
    int rc;

    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = pg_run(NULL, c, PG_Q_NONE, sql, p, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "user %lld not found", (long long)id);
    return pg_write_end(c, rc < 0 ? -1 : 0, err);
}

static int pg_user_update(struct meta *m, int64_t id, const char *email, const char *realname,
                          const char *comment, struct berr *err)
{
    struct pg_params p;

    pg_params_init(&p);
    pg_p_i64(&p, id);
    pg_p_text(&p, email);
    pg_p_text(&p, realname);
    pg_p_text(&p, comment);
    pg_p_i64(&p, now_s());
    return user_write(m, id, SQL_USER_UPDATE, &p, err);
}

static int pg_user_set_sysadmin(struct meta *m, int64_t id, bool sysadmin, struct berr *err)
{
    struct pg_params p;

    pg_params_init(&p);
    pg_p_i64(&p, id);
    pg_p_bool(&p, sysadmin);
    pg_p_i64(&p, now_s());
    return user_write(m, id, SQL_USER_SYSADMIN, &p, err);
}

static int pg_user_set_password(struct meta *m, int64_t id, const char *pw_hash, struct berr *err)
{
    struct pg_params p;

    pg_params_init(&p);
    pg_p_i64(&p, id);
    pg_p_text(&p, pw_hash);
    pg_p_i64(&p, now_s());
    return user_write(m, id, SQL_USER_PW, &p, err);
}

static int pg_user_create(struct meta *m, const char *name, const char *pw_hash, bool sysadmin,
                          int64_t *id, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int64_t v = 0;
    int rc;

    if (id != NULL)
        *id = 0;
    pg_params_init(&p);
    pg_p_text(&p, name);
    pg_p_text(&p, pw_hash);
    pg_p_bool(&p, sysadmin);
    pg_p_i64(&p, now_s());
    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = pg_run_i64(c, PG_Q_USER_INSERT, SQL_USER_INSERT, &p, &v, err);
    if (rc == 0)
        rc = berr_set(err, BERR_CONFLICT, "user already exists");
    rc = pg_write_end(c, rc < 0 ? -1 : 0, err);
    if (rc == 0 && id != NULL)
        *id = v;
    return rc;
}

static int pg_user_delete(struct meta *m, int64_t id, struct berr *err)
{
    struct pg_params p;

    pg_params_init(&p);
    pg_p_i64(&p, id);
    return user_write(m, id, SQL_USER_DELETE, &p, err);
}

const struct meta_user_ops pg_user_ops = {
        .get = pg_user_get,
        .list = pg_user_list,
        .create = pg_user_create,
        .update = pg_user_update,
        .set_sysadmin = pg_user_set_sysadmin,
        .set_password = pg_user_set_password,
        .remove = pg_user_delete,
};
