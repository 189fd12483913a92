/* pg_robot.c - robot accounts and their permissions in PostgreSQL.
 *
 * Invariants (as sqlite_robot.c's):
 *   1. A robot and its permission rows are written in one transaction: a robot never exists
 *      with half of its permissions. Replacing the permissions deletes and inserts in one
 *      transaction that first updated (so locked) the robot row: two replicas replacing one
 *      robot's permissions run one after the other, and the last one's set is what remains.
 *   2. A robot row is read by robot_read only, whether fetched by name or by id or listed.
 *   3. Only the secret's hash is stored; this file never sees a secret.
 *   4. A name is taken once: INSERT ... ON CONFLICT (name) DO NOTHING RETURNING id. A
 *      project-level robot holds its project FOR KEY SHARE from the check to the commit.
 * pg_robot_get and pg_robot_actions are on the /v2/ authorization path: one cached, indexed
 * SELECT each, no transaction. Thread-safe: every call borrows its own connection. */
#include "storage/pg_int.h"

#include <string.h>

#include "common/log.h"
#include "common/util.h"

static const char SQL_PROJECT_EXISTS[] = "SELECT 1 FROM projects WHERE id = $1 FOR KEY SHARE";

#define ROBOT_COLS                                                                                 \
    "SELECT id, name, secret_hash, COALESCE(project_id, 0), disabled, expires_at, created_at,"     \
    " duration_days, description, updated_at FROM robots"
static const char SQL_ROBOT_BY_NAME[] = ROBOT_COLS " WHERE name = $1";
static const char SQL_ROBOT_BY_ID[] = ROBOT_COLS " WHERE id = $1";
static const char SQL_ROBOT_ACTIONS[] =
        "SELECT actions FROM robot_permissions WHERE robot_id = $1 AND namespace IN ($2, '*')";
static const char SQL_ROBOT_INSERT[] =
        "INSERT INTO robots(name, description, secret_hash, project_id, disabled, duration_days,"
        " expires_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
        " ON CONFLICT (name) DO NOTHING RETURNING id";
static const char SQL_PERM_INSERT[] =
        "INSERT INTO robot_permissions(robot_id, namespace, actions) VALUES ($1, $2, $3)"
        " ON CONFLICT (robot_id, namespace)"
        " DO UPDATE SET actions = robot_permissions.actions | EXCLUDED.actions";
static const char SQL_PERM_CLEAR[] = "DELETE FROM robot_permissions WHERE robot_id = $1";
static const char SQL_PERMS[] = "SELECT namespace, actions FROM robot_permissions"
                                " WHERE robot_id = $1 ORDER BY namespace LIMIT $2";
static const char SQL_ROBOT_UPDATE[] =
        "UPDATE robots SET description = $2, disabled = $3, duration_days = $4, expires_at = $5,"
        " updated_at = $6 WHERE id = $1";
static const char SQL_ROBOT_SECRET[] =
        "UPDATE robots SET secret_hash = $2, updated_at = $3 WHERE id = $1";
static const char SQL_ROBOT_DELETE[] = "DELETE FROM robots WHERE id = $1";
/* $1 name, $2 fuzzy, $3 project (> 0 that project's, < 0 system level, 0 all) */
#define ROBOT_WHERE                                                                                \
    " WHERE ($1::text IS NULL OR CASE WHEN $2::boolean THEN strpos(name, $1::text) > 0"            \
    " ELSE name = $1::text END) AND CASE WHEN $3::bigint > 0 THEN project_id = $3::bigint"         \
    " WHEN $3::bigint < 0 THEN project_id IS NULL ELSE true END"
static const char SQL_ROBOT_COUNT[] = "SELECT COUNT(*) FROM robots" ROBOT_WHERE;
/* $4 sort, $5 limit, $6 offset */
static const char SQL_ROBOT_PAGE[] =
        ROBOT_COLS ROBOT_WHERE " ORDER BY"
                               " CASE $4::text WHEN 'name' THEN name END ASC,"
                               " CASE $4::text WHEN '-name' THEN name END DESC,"
                               " CASE $4::text WHEN 'creation_time' THEN created_at END ASC,"
                               " CASE $4::text WHEN '-creation_time' THEN created_at END DESC,"
                               " CASE $4::text WHEN '-id' THEN id END DESC,"
                               " id ASC LIMIT $5 OFFSET $6";

static const char *const robot_sort_keys[] = {"name", "creation_time", "id", NULL};

static int robot_read(const PGresult *r, int row, void *out, struct berr *err)
{
    struct meta_robot *rb = out;

    memset(rb, 0, sizeof(*rb));
    rb->id = pg_i64(r, row, 0);
    rb->project_id = pg_i64(r, row, 3);
    rb->disabled = pg_bool(r, row, 4);
    rb->expires_at = pg_i64(r, row, 5);
    rb->created_at = pg_i64(r, row, 6);
    rb->duration_days = pg_i64(r, row, 7);
    rb->updated_at = pg_i64(r, row, 9);
    if (pg_text(r, row, 1, rb->name, sizeof(rb->name), err) < 0 ||
        pg_text(r, row, 2, rb->secret_hash, sizeof(rb->secret_hash), err) < 0 ||
        pg_text(r, row, 8, rb->description, sizeof(rb->description), err) < 0)
        return -1;
    return 0;
}

static int pg_robot_get(struct meta *m, int64_t id, const char *name, struct meta_robot *out,
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
        rc = pg_run(&r, c, PG_Q_ROBOT_GET, SQL_ROBOT_BY_NAME, &p, err);
    } else {
        pg_p_i64(&p, id);
        rc = pg_run(&r, c, PG_Q_ROBOT_GET_ID, SQL_ROBOT_BY_ID, &p, err);
    }
    pg_conn_put(c);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "robot account not found");
    else if (rc > 0)
        rc = robot_read(r, 0, out, err);
    pg_res_free(r);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

static int pg_robot_actions(struct meta *m, int64_t robot_id, const char *project,
                            unsigned *actions, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    int rows;

    *actions = 0;
    pg_params_init(&p);
    pg_p_i64(&p, robot_id);
    pg_p_text(&p, project);
    c = pg_conn_get(m);
    rows = pg_run(&r, c, PG_Q_ROBOT_ACTIONS, SQL_ROBOT_ACTIONS, &p, err);
    pg_conn_put(c);
    for (int i = 0; i < rows; i++)
        *actions |= (unsigned)pg_i64(r, i, 0) & META_ACT_ALL;
    pg_res_free(r);
    return rows < 0 ? -1 : 0;
}

/* perms_write (in a transaction) replaces the permissions of robot id */
static int perms_write(struct pg_conn *c, int64_t id, const struct meta_robot_perm *perms,
                       size_t nperms, struct berr *err)
{
    struct pg_params p;
    size_t i;

    pg_params_init(&p);
    pg_p_i64(&p, id);
    if (pg_run(NULL, c, PG_Q_NONE, SQL_PERM_CLEAR, &p, err) < 0)
        return -1;
    for (i = 0; i < nperms; i++) {
        pg_params_init(&p);
        pg_p_i64(&p, id);
        pg_p_text(&p, perms[i].ns);
        pg_p_i64(&p, (int64_t)(perms[i].actions & META_ACT_ALL));
        if (pg_run(NULL, c, PG_Q_NONE, SQL_PERM_INSERT, &p, err) < 0)
            return -1;
    }
    return 0;
}

static int robot_create_tx(struct pg_conn *c, const struct meta_robot *r,
                           const struct meta_robot_perm *perms, size_t nperms, int64_t *id,
                           struct berr *err)
{
    struct pg_params p;
    int64_t rid = 0;
    int rc;

    if (r->project_id > 0) {
        pg_params_init(&p);
        pg_p_i64(&p, r->project_id);
        rc = pg_run(NULL, c, PG_Q_NONE, SQL_PROJECT_EXISTS, &p, err);
        if (rc == 0)
            return berr_set(err, BERR_NOT_FOUND, "project %lld not found",
                            (long long)r->project_id);
        if (rc < 0)
            return -1;
    }
    pg_params_init(&p);
    pg_p_text(&p, r->name);
    pg_p_text(&p, r->description);
    pg_p_text(&p, r->secret_hash);
    if (r->project_id > 0)
        pg_p_i64(&p, r->project_id);
    else
        pg_p_null(&p);
    pg_p_bool(&p, r->disabled);
    pg_p_i64(&p, r->duration_days);
    pg_p_i64(&p, r->expires_at);
    pg_p_i64(&p, now_s());
    rc = pg_run_i64(c, PG_Q_NONE, SQL_ROBOT_INSERT, &p, &rid, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return berr_set(err, BERR_CONFLICT, "robot account %s already exists", r->name);
    if (perms_write(c, rid, perms, nperms, err) < 0)
        return -1;
    if (id != NULL)
        *id = rid;
    return 0;
}

static int pg_robot_create(struct meta *m, const struct meta_robot *r,
                           const struct meta_robot_perm *perms, size_t nperms, int64_t *id,
                           struct berr *err)
{
    struct pg_conn *c;
    int rc;

    if (id != NULL)
        *id = 0;
    rc = pg_write_begin(&c, m, err);
    if (rc == 0)
        rc = pg_write_end(c, robot_create_tx(c, r, perms, nperms, id, err), err);
    if (rc < 0 && id != NULL)
        *id = 0;
    return rc;
}

static int pg_robot_perms(struct meta *m, int64_t id, struct meta_robot_perm *out, size_t cap,
                          size_t *n, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    int rows;
    int rc = 0;

    *n = 0;
    pg_params_init(&p);
    pg_p_i64(&p, id);
    pg_p_i64(&p, (int64_t)cap);
    c = pg_conn_get(m);
    rows = pg_run(&r, c, PG_Q_NONE, SQL_PERMS, &p, err);
    pg_conn_put(c);
    if (rows < 0)
        return -1;
    for (int i = 0; i < rows && *n < cap; i++) {
        rc = pg_text(r, i, 0, out[*n].ns, sizeof(out[*n].ns), err);
        if (rc < 0)
            break;
        out[*n].actions = (unsigned)pg_i64(r, i, 1) & META_ACT_ALL;
        (*n)++;
    }
    pg_res_free(r);
    if (rc < 0) {
        *n = 0;
        return -1;
    }
    return 0;
}

static int robot_update_tx(struct pg_conn *c, int64_t id, const struct meta_robot *r,
                           const struct meta_robot_perm *perms, size_t nperms, struct berr *err)
{
    struct pg_params p;
    int rc;

    pg_params_init(&p);
    pg_p_i64(&p, id);
    pg_p_text(&p, r->description);
    pg_p_bool(&p, r->disabled);
    pg_p_i64(&p, r->duration_days);
    pg_p_i64(&p, r->expires_at);
    pg_p_i64(&p, now_s());
    rc = pg_run(NULL, c, PG_Q_NONE, SQL_ROBOT_UPDATE, &p, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return berr_set(err, BERR_NOT_FOUND, "robot account not found");
    if (perms != NULL)
        return perms_write(c, id, perms, nperms, err);
    return 0;
}

static int pg_robot_update(struct meta *m, int64_t id, const struct meta_robot *r,
                           const struct meta_robot_perm *perms, size_t nperms, struct berr *err)
{
    struct pg_conn *c;
    int rc;

    rc = pg_write_begin(&c, m, err);
    if (rc == 0)
        rc = pg_write_end(c, robot_update_tx(c, id, r, perms, nperms, err), err);
    return rc;
}

/* robot_write runs SET_SECRET (hash != NULL) or DELETE in a transaction */
static int robot_write(struct meta *m, int64_t id, const char *hash, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int rc;

    pg_params_init(&p);
    pg_p_i64(&p, id);
    if (hash != NULL) {
        pg_p_text(&p, hash);
        pg_p_i64(&p, now_s());
    }
    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = pg_run(NULL, c, PG_Q_NONE, hash != NULL ? SQL_ROBOT_SECRET : SQL_ROBOT_DELETE, &p, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "robot account not found");
    return pg_write_end(c, rc < 0 ? -1 : 0, err);
}

static int pg_robot_set_secret(struct meta *m, int64_t id, const char *secret_hash,
                               struct berr *err)
{
    return robot_write(m, id, secret_hash, err);
}

static int pg_robot_delete(struct meta *m, int64_t id, struct berr *err)
{
    return robot_write(m, id, NULL, err);
}

struct robot_q {
    const struct meta_list_q *l;
    int64_t project_id;
};

static int robot_bind(struct pg_params *p, const void *q, bool for_count, struct berr *err)
{
    const struct robot_q *rq = q;

    (void)err;
    pg_p_name(p, rq->l);
    pg_p_i64(p, rq->project_id);
    if (!for_count)
        pg_p_sort(p, rq->l->sort);
    return 0;
}

static int pg_robot_list(struct meta *m, const struct meta_list_q *q, int64_t project_id,
                         struct meta_robot *out, size_t cap, size_t *n, int64_t *total,
                         struct berr *err)
{
    static const struct pg_list l = {
            SQL_ROBOT_COUNT,           SQL_ROBOT_PAGE, robot_bind, robot_read,
            sizeof(struct meta_robot), robot_sort_keys};
    struct robot_q rq = {q, project_id};

    return pg_list_run(m, &l, &rq, q, out, cap, n, total, err);
}

const struct meta_robot_ops pg_robot_ops = {
        .get = pg_robot_get,
        .actions = pg_robot_actions,
        .create = pg_robot_create,
        .perms = pg_robot_perms,
        .update = pg_robot_update,
        .set_secret = pg_robot_set_secret,
        .remove = pg_robot_delete,
        .list = pg_robot_list,
};
