/* meta_ident.c - users beyond name and hash, projects by id, project lists, updates and delete,
 * plus the list helpers meta_robot.c shares.
 *
 * Invariants:
 *   1. A project is deleted only inside the transaction that found none of its repositories
 *      holding a manifest or a blob; the check and the delete cannot be split by a push
 *      (meta_blob_link and meta_manifest_put write in their own BEGIN IMMEDIATE).
 *   2. Deleting a project removes every permission naming it (robot_permissions.namespace) in
 *      the same transaction, so a project re-created under that name does not inherit grants.
 *      Members and project-level robots go by foreign-key cascade.
 *   3. Password hashes never leave this file through a list (meta_user_list blanks them).
 *   4. Filters and sort keys reach SQL only as bound parameters; sort keys are checked against a
 *      fixed list first and selected by CASE expressions in static text.
 * Thread-safe: every call borrows its own connection. */
#include "storage/meta_ident.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/meta_ident_int.h"

#define PW_HASH_MAX 255

/* ---- shared helpers ---- */

int ident_prepare(sqlite3_stmt **out, struct meta_conn *c, const char *sql, struct berr *err)
{
    *out = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, out, NULL) != SQLITE_OK) {
        (void)sqlite3_finalize(*out); /* NULL is a no-op */
        *out = NULL;
        return meta_fail(c, "prepare", err);
    }
    return 0;
}

int ident_bind_sort(struct meta_conn *c, sqlite3_stmt *st, int idx, const char *sort,
                    struct berr *err)
{
    if (sort == NULL || sort[0] == '\0')
        return meta_bind_null(c, st, idx, err);
    return meta_bind_text(c, st, idx, sort, strlen(sort), err);
}

int ident_bind_name(struct meta_conn *c, sqlite3_stmt *st, int idx, const struct meta_list_q *q,
                    struct berr *err)
{
    int rc;

    if (q == NULL || q->name == NULL)
        rc = meta_bind_null(c, st, idx, err);
    else
        rc = meta_bind_text(c, st, idx, q->name, strlen(q->name), err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, idx + 1, q != NULL && q->fuzzy ? 1 : 0, err);
    return rc;
}

bool ident_sort_ok(const char *sort, const char *const *keys)
{
    size_t i;

    if (sort == NULL || sort[0] == '\0')
        return true;
    if (sort[0] == '-')
        sort++;
    for (i = 0; keys[i] != NULL; i++)
        if (strcmp(sort, keys[i]) == 0)
            return true;
    return false;
}

int ident_exists(struct meta_conn *c, const char *sql, int64_t id, struct berr *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = ident_prepare(&st, c, sql, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 1, id, err);
    if (rc == 0)
        rc = meta_step(c, st, err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    return rc;
}

int ident_list_run(struct meta *m, const struct ident_list *l, const void *q,
                   const struct meta_list_q *lq, void *out, size_t cap, size_t *n, int64_t *total,
                   struct berr *err)
{
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    size_t limit = lq->limit < cap ? lq->limit : cap;
    int rc;

    *n = 0;
    *total = 0;
    if (lq->offset < 0)
        return berr_set(err, BERR_BAD_REQUEST, "offset must not be negative");
    if (limit > META_LIST_MAX)
        limit = META_LIST_MAX;
    c = meta_conn_get(m);
    rc = ident_prepare(&st, c, l->count_sql, err);
    if (rc == 0)
        rc = l->bind(c, st, q, true, err);
    if (rc == 0)
        rc = meta_step_i64(c, st, total, err);
    if (rc == 1)
        rc = 0;
    (void)sqlite3_finalize(st); /* step errors were reported */
    st = NULL;
    if (rc < 0 || limit == 0)
        goto out;
    rc = ident_prepare(&st, c, l->page_sql, err);
    if (rc == 0)
        rc = l->bind(c, st, q, false, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 20, (int64_t)limit, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 21, lq->offset, err);
    while (rc == 0 && *n < limit) {
        rc = meta_step(c, st, err);
        if (rc <= 0)
            break;
        rc = l->read(c, st, (char *)out + *n * l->elem, err);
        if (rc == 0)
            (*n)++;
    }
    (void)sqlite3_finalize(st); /* step errors were reported */
out:
    meta_conn_put(c);
    if (rc < 0) {
        *n = 0;
        *total = 0;
        return -1;
    }
    return 0;
}

/* text column or "" when NULL; fields of META_TEXT_MAX never overflow (checked on write) */
static int text_ok(const char *s, const char *what, struct berr *err)
{
    if (s != NULL && strlen(s) > META_TEXT_MAX)
        return berr_set(err, BERR_BAD_REQUEST, "%s is longer than %d bytes", what, META_TEXT_MAX);
    return 0;
}

/* ---- users ---- */

#define USER_COLS                                                                                  \
    "SELECT id, name, sysadmin, created_at, COALESCE(email, ''), COALESCE(realname, ''),"          \
    " COALESCE(comment, ''), updated_at, pw_hash FROM users"
static const char SQL_USER_BY_ID[] = USER_COLS " WHERE id = ?1";
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

/* user_read copies a row without its hash (invariant 3); meta_user_info_get adds it */
static int user_read(struct meta_conn *c, sqlite3_stmt *st, void *row, struct berr *err)
{
    struct meta_user_info *u = row;

    memset(u, 0, sizeof(*u));
    u->u.id = (int64_t)sqlite3_column_int64(st, 0);
    u->u.sysadmin = sqlite3_column_int64(st, 2) != 0;
    u->u.created_at = (int64_t)sqlite3_column_int64(st, 3);
    u->updated_at = (int64_t)sqlite3_column_int64(st, 7);
    if (meta_col_text(c, st, 1, u->u.name, sizeof(u->u.name), err) < 0 ||
        meta_col_text(c, st, 4, u->email, sizeof(u->email), err) < 0 ||
        meta_col_text(c, st, 5, u->realname, sizeof(u->realname), err) < 0 ||
        meta_col_text(c, st, 6, u->comment, sizeof(u->comment), err) < 0)
        return -1;
    return 0;
}

int meta_user_info_get(struct meta *m, int64_t id, struct meta_user_info *out, struct berr *err)
{
    struct meta_conn *c = meta_conn_get(m);
    sqlite3_stmt *st = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = ident_prepare(&st, c, SQL_USER_BY_ID, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 1, id, err);
    if (rc == 0)
        rc = meta_step(c, st, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "user %lld not found", (long long)id);
    else if (rc == 1)
        rc = user_read(c, st, out, err);
    if (rc == 0)
        rc = meta_col_text(c, st, 8, out->u.pw_hash, sizeof(out->u.pw_hash), err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    meta_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

int meta_user_get_by_id(struct meta *m, int64_t id, struct meta_user *out, struct berr *err)
{
    struct meta_user_info *u = mem_malloc(sizeof(*u));
    int rc;

    memset(out, 0, sizeof(*out));
    if (u == NULL)
        return berr_sys(err, ENOMEM, "meta: user");
    rc = meta_user_info_get(m, id, u, err);
    if (rc == 0)
        *out = u->u;
    mem_free(u);
    return rc;
}

static int user_bind(struct meta_conn *c, sqlite3_stmt *st, const void *q, bool for_count,
                     struct berr *err)
{
    const struct meta_list_q *lq = q;
    int rc = ident_bind_name(c, st, 1, lq, err);

    if (rc == 0 && !for_count)
        rc = ident_bind_sort(c, st, 3, lq->sort, err);
    return rc;
}

int meta_user_list(struct meta *m, const struct meta_list_q *q, struct meta_user_info *out,
                   size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    static const struct ident_list l = {SQL_USER_COUNT, SQL_USER_PAGE, user_bind, user_read,
                                        sizeof(struct meta_user_info)};

    *n = 0;
    *total = 0;
    if (!ident_sort_ok(q->sort, user_sort_keys))
        return berr_set(err, BERR_BAD_REQUEST, "unknown sort key");
    return ident_list_run(m, &l, q, q, out, cap, n, total, err);
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
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    int idx = 2;
    int i;
    int rc;

    texts[0] = w->t1;
    texts[1] = w->t2;
    texts[2] = w->t3;
    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = ident_prepare(&st, c, w->sql, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 1, id, err);
    for (i = 0; rc == 0 && i < w->ntext; i++, idx++)
        rc = texts[i] != NULL ? meta_bind_text(c, st, idx, texts[i], strlen(texts[i]), err)
                              : meta_bind_null(c, st, idx, err);
    if (rc == 0 && w->has_i1)
        rc = meta_bind_i64(c, st, idx++, w->i1, err);
    if (rc == 0 && w->stamp)
        rc = meta_bind_i64(c, st, idx, now_s(), err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "user %lld not found", (long long)id);
    (void)sqlite3_finalize(st); /* step errors were reported */
    rc = meta_write_end(c, rc, err);
    return rc;
}

int meta_user_update(struct meta *m, int64_t id, const char *email, const char *realname,
                     const char *comment, struct berr *err)
{
    struct user_write w = {SQL_USER_UPDATE, email, realname, comment, 3, 0, false, true};

    if (text_ok(email, "email", err) < 0 || text_ok(realname, "realname", err) < 0 ||
        text_ok(comment, "comment", err) < 0)
        return -1;
    return user_write_run(m, id, &w, err);
}

int meta_user_set_sysadmin(struct meta *m, int64_t id, bool sysadmin, struct berr *err)
{
    struct user_write w = {SQL_USER_SYSADMIN, NULL, NULL, NULL, 0, sysadmin ? 1 : 0, true, true};

    return user_write_run(m, id, &w, err);
}

int meta_user_set_password_id(struct meta *m, int64_t id, const char *pw_hash, struct berr *err)
{
    struct user_write w = {SQL_USER_PW, pw_hash, NULL, NULL, 1, 0, false, true};
    size_t len = strlen(pw_hash);

    if (len == 0 || len > PW_HASH_MAX)
        return berr_set(err, BERR_INTERNAL, "internal error");
    return user_write_run(m, id, &w, err);
}

int meta_user_delete(struct meta *m, int64_t id, struct berr *err)
{
    struct user_write w = {SQL_USER_DELETE, NULL, NULL, NULL, 0, 0, false, false};

    return user_write_run(m, id, &w, err);
}

/* ---- projects ---- */

#define PROJECT_COLS                                                                               \
    "SELECT p.id, p.name, p.public, p.created_at, COALESCE(p.owner_id, 0), COALESCE(u.name, ''),"  \
    " p.updated_at, (SELECT COUNT(*) FROM repositories r WHERE r.project_id = p.id AND"            \
    " (EXISTS (SELECT 1 FROM manifests mf WHERE mf.repo_id = r.id) OR"                             \
    " EXISTS (SELECT 1 FROM repo_blobs rb WHERE rb.repo_id = r.id))), p.storage_limit"             \
    " FROM projects p LEFT JOIN users u ON u.id = p.owner_id"
static const char SQL_PROJECT_BY_ID[] = PROJECT_COLS " WHERE p.id = ?1";
static const char SQL_PROJECT_BY_NAME[] = PROJECT_COLS " WHERE p.name = ?1";
#define PROJECT_WHERE                                                                              \
    " WHERE (?1 IS NULL OR CASE WHEN ?2 THEN instr(p.name, ?1) > 0 ELSE p.name = ?1 END)"          \
    " AND (?3 < 0 OR p.public = ?3)"                                                               \
    " AND (?4 OR (NOT ?6 AND p.public = 1) OR EXISTS (SELECT 1 FROM project_members pm"            \
    " WHERE pm.project_id = p.id AND pm.user_id = ?5) OR EXISTS (SELECT 1 FROM"                    \
    " robot_permissions rp WHERE ?8 > 0 AND rp.robot_id = ?8 AND rp.actions != 0"                  \
    " AND (rp.namespace = p.name OR rp.namespace = '*')))"
static const char SQL_PROJECT_COUNT[] = "SELECT COUNT(*) FROM projects p" PROJECT_WHERE;
static const char SQL_PROJECT_PAGE[] =
        PROJECT_COLS PROJECT_WHERE " ORDER BY"
                                   " CASE ?7 WHEN 'name' THEN p.name END ASC,"
                                   " CASE ?7 WHEN '-name' THEN p.name END DESC,"
                                   " CASE ?7 WHEN 'creation_time' THEN p.created_at END ASC,"
                                   " CASE ?7 WHEN '-creation_time' THEN p.created_at END DESC,"
                                   " CASE ?7 WHEN 'update_time' THEN p.updated_at END ASC,"
                                   " CASE ?7 WHEN '-update_time' THEN p.updated_at END DESC,"
                                   " CASE ?7 WHEN '-project_id' THEN p.id END DESC,"
                                   " p.id ASC LIMIT ?20 OFFSET ?21";
static const char SQL_PROJECT_INSERT_FULL[] =
        "INSERT INTO projects(name, public, owner_id, created_at, updated_at, storage_limit)"
        " VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT(name) DO NOTHING";
static const char SQL_PROJECT_UPDATE[] =
        "UPDATE projects SET public = CASE WHEN ?2 THEN ?3 ELSE public END,"
        " storage_limit = CASE WHEN ?4 THEN ?5 ELSE storage_limit END, updated_at = ?6"
        " WHERE id = ?1";
static const char SQL_PROJECT_NAME[] = "SELECT name FROM projects WHERE id = ?1";
static const char SQL_PROJECT_BUSY[] =
        "SELECT 1 FROM repositories r WHERE r.project_id = ?1 AND"
        " (EXISTS (SELECT 1 FROM manifests mf WHERE mf.repo_id = r.id) OR"
        " EXISTS (SELECT 1 FROM repo_blobs rb WHERE rb.repo_id = r.id)) LIMIT 1";
static const char SQL_PROJECT_PERMS_DELETE[] = "DELETE FROM robot_permissions WHERE namespace = ?1";
static const char SQL_PROJECT_DELETE[] = "DELETE FROM projects WHERE id = ?1";

static const char *const project_sort_keys[] = {"name", "creation_time", "update_time",
                                                "project_id", NULL};

static int project_read(struct meta_conn *c, sqlite3_stmt *st, void *row, struct berr *err)
{
    struct meta_project_info *p = row;

    memset(p, 0, sizeof(*p));
    p->p.id = (int64_t)sqlite3_column_int64(st, 0);
    p->p.public = sqlite3_column_int64(st, 2) != 0;
    p->p.created_at = (int64_t)sqlite3_column_int64(st, 3);
    p->owner_id = (int64_t)sqlite3_column_int64(st, 4);
    p->updated_at = (int64_t)sqlite3_column_int64(st, 6);
    p->repo_count = (int64_t)sqlite3_column_int64(st, 7);
    p->storage_limit = (int64_t)sqlite3_column_int64(st, 8);
    if (meta_col_text(c, st, 1, p->p.name, sizeof(p->p.name), err) < 0 ||
        meta_col_text(c, st, 5, p->owner_name, sizeof(p->owner_name), err) < 0)
        return -1;
    return 0;
}

int meta_project_info_get(struct meta *m, int64_t id, const char *name,
                          struct meta_project_info *out, struct berr *err)
{
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (id <= 0 && (name == NULL || name[0] == '\0' || strlen(name) > REPO_NAME_MAX))
        return berr_set(err, BERR_NOT_FOUND, "project not found");
    c = meta_conn_get(m);
    rc = ident_prepare(&st, c, id > 0 ? SQL_PROJECT_BY_ID : SQL_PROJECT_BY_NAME, err);
    if (rc == 0)
        rc = id > 0 ? meta_bind_i64(c, st, 1, id, err)
                    : meta_bind_text(c, st, 1, name, strlen(name), err);
    if (rc == 0)
        rc = meta_step(c, st, err);
    if (rc == 0) {
        if (id > 0)
            rc = berr_set(err, BERR_NOT_FOUND, "project %lld not found", (long long)id);
        else
            rc = berr_set(err, BERR_NOT_FOUND, "project %s not found", name);
    } else if (rc == 1) {
        rc = project_read(c, st, out, err);
    }
    (void)sqlite3_finalize(st); /* step errors were reported */
    meta_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

int meta_project_get_by_id(struct meta *m, int64_t id, struct meta_project *out, struct berr *err)
{
    struct meta_project_info *p = mem_malloc(sizeof(*p));
    int rc;

    memset(out, 0, sizeof(*out));
    if (p == NULL)
        return berr_sys(err, ENOMEM, "meta: project");
    if (id <= 0)
        rc = berr_set(err, BERR_NOT_FOUND, "project %lld not found", (long long)id);
    else
        rc = meta_project_info_get(m, id, NULL, p, err);
    if (rc == 0)
        *out = p->p;
    mem_free(p);
    return rc;
}

static int project_bind(struct meta_conn *c, sqlite3_stmt *st, const void *q, bool for_count,
                        struct berr *err)
{
    const struct meta_project_q *pq = q;
    int rc = ident_bind_name(c, st, 1, &pq->l, err);

    if (rc == 0)
        rc = meta_bind_i64(c, st, 3, pq->public_only, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 4, pq->all ? 1 : 0, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 5, pq->viewer_user_id, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 6, pq->member_only ? 1 : 0, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 8, pq->viewer_robot_id, err);
    if (rc == 0 && !for_count)
        rc = ident_bind_sort(c, st, 7, pq->l.sort, err);
    return rc;
}

int meta_project_list(struct meta *m, const struct meta_project_q *q, struct meta_project_info *out,
                      size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    static const struct ident_list l = {SQL_PROJECT_COUNT, SQL_PROJECT_PAGE, project_bind,
                                        project_read, sizeof(struct meta_project_info)};

    *n = 0;
    *total = 0;
    if (!ident_sort_ok(q->l.sort, project_sort_keys))
        return berr_set(err, BERR_BAD_REQUEST, "unknown sort key");
    return ident_list_run(m, &l, q, &q->l, out, cap, n, total, err);
}

int meta_project_create_full(struct meta *m, const char *name, bool public, int64_t owner_id,
                             int64_t storage_limit, int64_t *id, struct berr *err)
{
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    size_t len = strlen(name);
    int rc;

    if (id != NULL)
        *id = 0;
    if (!project_name_valid(name, len))
        return berr_set(err, BERR_NAME_INVALID, "invalid project name");
    if (storage_limit < -1)
        return berr_set(err, BERR_BAD_REQUEST, "storage_limit must be -1 or more");
    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = ident_prepare(&st, c, SQL_PROJECT_INSERT_FULL, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 1, name, len, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 2, public ? 1 : 0, err);
    if (rc == 0)
        rc = owner_id > 0 ? meta_bind_i64(c, st, 3, owner_id, err) : meta_bind_null(c, st, 3, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 4, now_s(), err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 5, storage_limit, err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_CONFLICT, "project %s already exists", name);
    if (rc == 0 && id != NULL)
        *id = (int64_t)sqlite3_last_insert_rowid(c->db);
    (void)sqlite3_finalize(st); /* step errors were reported */
    rc = meta_write_end(c, rc, err);
    if (rc < 0 && id != NULL)
        *id = 0;
    return rc;
}

int meta_project_update(struct meta *m, int64_t id, bool set_public, bool public, bool set_limit,
                        int64_t storage_limit, struct berr *err)
{
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    int rc;

    if (set_limit && storage_limit < -1)
        return berr_set(err, BERR_BAD_REQUEST, "storage_limit must be -1 or more");
    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = ident_prepare(&st, c, SQL_PROJECT_UPDATE, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 1, id, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 2, set_public ? 1 : 0, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 3, public ? 1 : 0, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 4, set_limit ? 1 : 0, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 5, storage_limit, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 6, now_s(), err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "project %lld not found", (long long)id);
    (void)sqlite3_finalize(st); /* step errors were reported */
    rc = meta_write_end(c, rc, err);
    return rc;
}

/* project_delete_tx: the body of meta_project_delete inside its transaction */
static int project_delete_tx(struct meta_conn *c, int64_t id, struct berr *err)
{
    char name[REPO_NAME_MAX + 1];
    sqlite3_stmt *st = NULL;
    int rc;

    rc = ident_prepare(&st, c, SQL_PROJECT_NAME, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 1, id, err);
    if (rc == 0)
        rc = meta_step(c, st, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "project %lld not found", (long long)id);
    else if (rc == 1)
        rc = meta_col_text(c, st, 0, name, sizeof(name), err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    st = NULL;
    if (rc < 0)
        return -1;
    rc = ident_exists(c, SQL_PROJECT_BUSY, id, err);
    if (rc < 0)
        return -1;
    if (rc == 1)
        return berr_set(err, BERR_CONFLICT,
                        "project %s is not empty: delete its repositories first", name);
    rc = ident_prepare(&st, c, SQL_PROJECT_PERMS_DELETE, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 1, name, strlen(name), err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    st = NULL;
    if (rc < 0)
        return -1;
    rc = ident_prepare(&st, c, SQL_PROJECT_DELETE, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 1, id, err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    return rc;
}

int meta_project_delete(struct meta *m, int64_t id, struct berr *err)
{
    struct meta_conn *c;
    int rc;

    rc = meta_write_begin(&c, m, err);
    if (rc == 0)
        rc = meta_write_end(c, project_delete_tx(c, id, err), err);
    return rc;
}
