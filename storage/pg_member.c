/* pg_member.c - project members in PostgreSQL: Harbor's five roles per (project, user).
 *
 * Invariants (as sqlite_member.c's):
 *   1. A (project, user) pair has at most one member row (UNIQUE; ON CONFLICT DO NOTHING makes a
 *      second add, from any replica, BERR_CONFLICT), with a role in 1..5 (CHECK, and checked by
 *      meta_member.c first).
 *   2. A member is addressed by (project id, member id): a member id of another project is
 *      BERR_NOT_FOUND, never touched.
 *   3. Adding a member checks in the same transaction that the project and the user exist, and
 *      holds both rows FOR KEY SHARE until the insert commits, so a concurrent delete of either
 *      waits and then cascades to the new row instead of failing its foreign key.
 * pg_member_role is on the /v2/ authorization path: one cached, indexed SELECT, no transaction.
 * Thread-safe: every call borrows its own connection. */
#include "storage/pg_int.h"

#include <string.h>

#include "common/log.h"
#include "common/util.h"

static const char SQL_MEMBER_ROLE[] =
        "SELECT role FROM project_members WHERE project_id = $1 AND user_id = $2";
static const char SQL_PROJECT_EXISTS[] = "SELECT 1 FROM projects WHERE id = $1 FOR KEY SHARE";
static const char SQL_USER_EXISTS[] = "SELECT 1 FROM users WHERE id = $1 FOR KEY SHARE";
static const char SQL_MEMBER_INSERT[] =
        "INSERT INTO project_members(project_id, user_id, role, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $4) ON CONFLICT (project_id, user_id) DO NOTHING RETURNING id";
#define MEMBER_COLS                                                                                \
    "SELECT pm.id, pm.project_id, pm.user_id, u.name, pm.role, pm.created_at, pm.updated_at"       \
    " FROM project_members pm JOIN users u ON u.id = pm.user_id"
static const char SQL_MEMBER_GET[] = MEMBER_COLS " WHERE pm.project_id = $1 AND pm.id = $2";
static const char SQL_MEMBER_SET_ROLE[] =
        "UPDATE project_members SET role = $3, updated_at = $4 WHERE project_id = $1 AND id = $2";
static const char SQL_MEMBER_DELETE[] =
        "DELETE FROM project_members WHERE project_id = $1 AND id = $2";
/* $1 name, $2 fuzzy, $3 project; the page adds $4 limit, $5 offset */
#define MEMBER_WHERE                                                                               \
    " WHERE pm.project_id = $3::bigint AND ($1::text IS NULL OR CASE WHEN $2::boolean"             \
    " THEN strpos(u.name, $1::text) > 0 ELSE u.name = $1::text END)"
static const char SQL_MEMBER_COUNT[] =
        "SELECT COUNT(*) FROM project_members pm JOIN users u ON u.id = pm.user_id" MEMBER_WHERE;
static const char SQL_MEMBER_PAGE[] = MEMBER_COLS MEMBER_WHERE " ORDER BY pm.id LIMIT $4 OFFSET $5";

static int pg_member_role(struct meta *m, int64_t project_id, int64_t user_id, int *role,
                          struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int64_t v = 0;
    int rc;

    *role = 0;
    pg_params_init(&p);
    pg_p_i64(&p, project_id);
    pg_p_i64(&p, user_id);
    c = pg_conn_get(m);
    rc = pg_run_i64(c, PG_Q_MEMBER_ROLE, SQL_MEMBER_ROLE, &p, &v, err);
    pg_conn_put(c);
    if (rc == 1)
        *role = meta_role_ok(v) ? (int)v : 0;
    return rc < 0 ? -1 : 0;
}

static int member_read(const PGresult *r, int row, void *out, struct berr *err)
{
    struct meta_member *mb = out;

    memset(mb, 0, sizeof(*mb));
    mb->id = pg_i64(r, row, 0);
    mb->project_id = pg_i64(r, row, 1);
    mb->user_id = pg_i64(r, row, 2);
    mb->role = (int)pg_i64(r, row, 4);
    mb->created_at = pg_i64(r, row, 5);
    mb->updated_at = pg_i64(r, row, 6);
    return pg_text(r, row, 3, mb->user_name, sizeof(mb->user_name), err);
}

static int member_add_tx(struct pg_conn *c, int64_t project_id, int64_t user_id, int role,
                         int64_t *id, struct berr *err)
{
    struct pg_params p;
    int64_t v = 0;
    int rc;

    pg_params_init(&p);
    pg_p_i64(&p, project_id);
    rc = pg_run(NULL, c, PG_Q_NONE, SQL_PROJECT_EXISTS, &p, err);
    if (rc == 0)
        return berr_set(err, BERR_NOT_FOUND, "project %lld not found", (long long)project_id);
    if (rc < 0)
        return -1;
    pg_params_init(&p);
    pg_p_i64(&p, user_id);
    rc = pg_run(NULL, c, PG_Q_NONE, SQL_USER_EXISTS, &p, err);
    if (rc == 0)
        return berr_set(err, BERR_NOT_FOUND, "user %lld not found", (long long)user_id);
    if (rc < 0)
        return -1;
    pg_params_init(&p);
    pg_p_i64(&p, project_id);
    pg_p_i64(&p, user_id);
    pg_p_i64(&p, role);
    pg_p_i64(&p, now_s());
    rc = pg_run_i64(c, PG_Q_NONE, SQL_MEMBER_INSERT, &p, &v, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return berr_set(err, BERR_CONFLICT, "the user is already a member of the project");
    if (id != NULL)
        *id = v;
    return 0;
}

static int pg_member_add(struct meta *m, int64_t project_id, int64_t user_id, int role, int64_t *id,
                         struct berr *err)
{
    struct pg_conn *c;
    int rc;

    if (id != NULL)
        *id = 0;
    rc = pg_write_begin(&c, m, err);
    if (rc == 0)
        rc = pg_write_end(c, member_add_tx(c, project_id, user_id, role, id, err), err);
    if (rc < 0 && id != NULL)
        *id = 0;
    return rc;
}

static int pg_member_get(struct meta *m, int64_t project_id, int64_t member_id,
                         struct meta_member *out, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    pg_params_init(&p);
    pg_p_i64(&p, project_id);
    pg_p_i64(&p, member_id);
    c = pg_conn_get(m);
    rc = pg_run(&r, c, PG_Q_NONE, SQL_MEMBER_GET, &p, err);
    pg_conn_put(c);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "member %lld not found", (long long)member_id);
    else if (rc > 0)
        rc = member_read(r, 0, out, err);
    pg_res_free(r);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

/* member_write runs SET_ROLE (role > 0) or DELETE (role == 0) in a transaction */
static int member_write(struct meta *m, int64_t project_id, int64_t member_id, int role,
                        struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int rc;

    pg_params_init(&p);
    pg_p_i64(&p, project_id);
    pg_p_i64(&p, member_id);
    if (role > 0) {
        pg_p_i64(&p, role);
        pg_p_i64(&p, now_s());
    }
    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = pg_run(NULL, c, PG_Q_NONE, role > 0 ? SQL_MEMBER_SET_ROLE : SQL_MEMBER_DELETE, &p, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "member %lld not found", (long long)member_id);
    return pg_write_end(c, rc < 0 ? -1 : 0, err);
}

static int pg_member_set_role(struct meta *m, int64_t project_id, int64_t member_id, int role,
                              struct berr *err)
{
    return member_write(m, project_id, member_id, role, err);
}

static int pg_member_delete(struct meta *m, int64_t project_id, int64_t member_id, struct berr *err)
{
    return member_write(m, project_id, member_id, 0, err);
}

struct member_q {
    const struct meta_list_q *l;
    int64_t project_id;
};

static int member_bind(struct pg_params *p, const void *q, bool for_count, struct berr *err)
{
    const struct member_q *mq = q;

    (void)for_count; /* both queries take the same parameters */
    (void)err;
    pg_p_name(p, mq->l);
    pg_p_i64(p, mq->project_id);
    return 0;
}

static int pg_member_list(struct meta *m, int64_t project_id, const struct meta_list_q *q,
                          struct meta_member *out, size_t cap, size_t *n, int64_t *total,
                          struct berr *err)
{
    static const struct pg_list l = {.count_sql = SQL_MEMBER_COUNT,
                                     .page_sql = SQL_MEMBER_PAGE,
                                     .bind = member_bind,
                                     .read = member_read,
                                     .elem = sizeof(struct meta_member)};
    struct member_q mq = {q, project_id};

    return pg_list_run(m, &l, &mq, q, out, cap, n, total, err);
}

const struct meta_member_ops pg_member_ops = {
        .role = pg_member_role,
        .add = pg_member_add,
        .get = pg_member_get,
        .set_role = pg_member_set_role,
        .remove = pg_member_delete,
        .list = pg_member_list,
};
