/* meta_browse.c - read queries behind the management API's repositories, artifacts and tags,
 * plus the few writes that go with them (description, repository delete, tag create/detach).
 *
 * Invariants:
 *   1. "Shown" has one definition per kind, written once as SQL text (REPO_HAS_CONTENT,
 *      ART_TOP) and used by both the count and the page query, so X-Total-Count always
 *      matches the rows a client can page through.
 *   2. Visibility of a repository list is decided in SQL from bound viewer ids, never by
 *      filtering rows after the LIMIT (which would break paging).
 *   3. Writes check and change inside one BEGIN IMMEDIATE transaction (tag create cannot race a
 *      delete of its artifact into a dangling tag; foreign keys back this up).
 *   4. A repository delete relies on ON DELETE CASCADE (migration 1) for manifests, tags,
 *      references and blob links: one statement, nothing half-deleted.
 * Lists use ident_list_run (count query plus page query on one borrowed connection).
 * Thread-safe: every call borrows its own connection. */
#include "storage/meta_browse.h"

#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "storage/meta_ident_int.h"

/* a repository that holds a manifest or a blob (as the catalog) */
#define REPO_HAS_CONTENT                                                                           \
    " (EXISTS (SELECT 1 FROM manifests cm WHERE cm.repo_id = r.id) OR"                             \
    " EXISTS (SELECT 1 FROM repo_blobs rb WHERE rb.repo_id = r.id))"

/* a top-level artifact: not a child of an index of its repository, not a referrer of one of its
 * manifests */
#define ART_TOP(M)                                                                                 \
    " (NOT EXISTS (SELECT 1 FROM manifest_children tc JOIN manifests tp ON tp.id = tc.parent_id"   \
    " WHERE tc.child_digest = " M ".digest AND tp.repo_id = " M ".repo_id) AND"                    \
    " (" M ".subject_digest IS NULL OR NOT EXISTS (SELECT 1 FROM manifests ts"                     \
    " WHERE ts.repo_id = " M ".repo_id AND ts.digest = " M ".subject_digest)))"

/* manifest plus the blobs it lists */
#define OWN_SIZE(M)                                                                                \
    "(" M ".size + COALESCE((SELECT SUM(b.size) FROM manifest_blobs mb JOIN blobs b"               \
    " ON b.digest = mb.digest WHERE mb.manifest_id = " M ".id), 0))"

#define ART_SIZE                                                                                   \
    "(" OWN_SIZE("m") " + COALESCE((SELECT SUM(" OWN_SIZE(                                         \
            "xm") ") FROM manifest_children xc"                                                    \
                  " JOIN manifests xm ON xm.repo_id = m.repo_id AND xm.digest = xc.child_digest"   \
                  " WHERE xc.parent_id = m.id), 0))"

/* ---- repositories ---- */

#define REPO_COLS                                                                                  \
    "SELECT r.id, r.project_id, p.public, r.name, r.description,"                                  \
    " (SELECT COUNT(*) FROM manifests m WHERE m.repo_id = r.id AND" ART_TOP(                       \
            "m") ") AS ac,"                                                                        \
                 " r.pull_count, r.created_at, r.updated_at"                                       \
                 " FROM repositories r JOIN projects p ON p.id = r.project_id"

#define REPO_WHERE                                                                                 \
    " WHERE (?1 IS NULL OR CASE WHEN ?2 THEN instr(r.name, ?1) > 0 ELSE r.name = ?1 END)"          \
    " AND (?3 <= 0 OR r.project_id = ?3)"                                                          \
    " AND (?4 OR p.public = 1"                                                                     \
    " OR EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = p.id AND pm.user_id = ?5)" \
    " OR EXISTS (SELECT 1 FROM robot_permissions rp WHERE rp.robot_id = ?6"                        \
    " AND (rp.namespace = p.name OR rp.namespace = '*') AND (rp.actions & 1) != 0))"               \
    " AND" REPO_HAS_CONTENT

static const char SQL_REPO_COUNT[] =
        "SELECT COUNT(*) FROM repositories r JOIN projects p ON p.id = r.project_id" REPO_WHERE;
static const char SQL_REPO_PAGE[] = "SELECT * FROM (" REPO_COLS REPO_WHERE ") v ORDER BY"
                                    " CASE ?7 WHEN 'name' THEN v.name END ASC,"
                                    " CASE ?7 WHEN '-name' THEN v.name END DESC,"
                                    " CASE ?7 WHEN 'creation_time' THEN v.created_at END ASC,"
                                    " CASE ?7 WHEN '-creation_time' THEN v.created_at END DESC,"
                                    " CASE ?7 WHEN 'update_time' THEN v.updated_at END ASC,"
                                    " CASE ?7 WHEN '-update_time' THEN v.updated_at END DESC,"
                                    " CASE ?7 WHEN 'pull_count' THEN v.pull_count END ASC,"
                                    " CASE ?7 WHEN '-pull_count' THEN v.pull_count END DESC,"
                                    " CASE ?7 WHEN 'artifact_count' THEN v.ac END ASC,"
                                    " CASE ?7 WHEN '-artifact_count' THEN v.ac END DESC,"
                                    " CASE ?7 WHEN 'id' THEN v.id END ASC,"
                                    " CASE WHEN ?7 IS NULL THEN v.created_at END DESC,"
                                    " v.id DESC LIMIT ?20 OFFSET ?21";
static const char SQL_REPO_GET[] = REPO_COLS " WHERE r.name = ?1 AND" REPO_HAS_CONTENT;
static const char SQL_REPO_DESC[] =
        "UPDATE repositories SET description = ?2, updated_at = ?3 WHERE name = ?1";
static const char SQL_REPO_DELETE[] = "DELETE FROM repositories WHERE name = ?1";
static const char SQL_REPO_ID_SHOWN[] =
        "SELECT r.id FROM repositories r WHERE r.name = ?1 AND" REPO_HAS_CONTENT;

static const char *const repo_sort_keys[] = {
        "name", "creation_time", "update_time", "pull_count", "artifact_count", "id", NULL};

static int repo_read(struct meta_conn *c, sqlite3_stmt *st, void *row, struct berr *err)
{
    struct meta_repo_info *r = row;

    memset(r, 0, sizeof(*r));
    r->id = (int64_t)sqlite3_column_int64(st, 0);
    r->project_id = (int64_t)sqlite3_column_int64(st, 1);
    r->project_public = sqlite3_column_int64(st, 2) != 0;
    r->artifact_count = (int64_t)sqlite3_column_int64(st, 5);
    r->pull_count = (int64_t)sqlite3_column_int64(st, 6);
    r->created_at = (int64_t)sqlite3_column_int64(st, 7);
    r->updated_at = (int64_t)sqlite3_column_int64(st, 8);
    if (meta_col_text(c, st, 3, r->name, sizeof(r->name), err) < 0 ||
        meta_col_text(c, st, 4, r->description, sizeof(r->description), err) < 0)
        return -1;
    return 0;
}

static int repo_bind(struct meta_conn *c, sqlite3_stmt *st, const void *q, bool for_count,
                     struct berr *err)
{
    const struct meta_repo_q *rq = q;
    int rc = ident_bind_name(c, st, 1, &rq->l, err);

    if (rc == 0)
        rc = meta_bind_i64(c, st, 3, rq->project_id, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 4, rq->all ? 1 : 0, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 5, rq->viewer_user_id, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 6, rq->viewer_robot_id, err);
    if (rc == 0 && !for_count)
        rc = ident_bind_sort(c, st, 7, rq->l.sort, err);
    return rc;
}

int meta_repo_list(struct meta *m, const struct meta_repo_q *q, struct meta_repo_info *out,
                   size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    /* the page query sorts a sub-select; its artifact count column is named "ac" */
    static const struct ident_list l = {SQL_REPO_COUNT, SQL_REPO_PAGE, repo_bind, repo_read,
                                        sizeof(struct meta_repo_info)};

    *n = 0;
    *total = 0;
    if (!ident_sort_ok(q->l.sort, repo_sort_keys))
        return berr_set(err, BERR_BAD_REQUEST, "unknown sort key");
    return ident_list_run(m, &l, q, &q->l, out, cap, n, total, err);
}

int meta_repo_info_get(struct meta *m, const struct repo_name *repo, struct meta_repo_info *out,
                       struct berr *err)
{
    struct meta_conn *c = meta_conn_get(m);
    sqlite3_stmt *st = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = ident_prepare(&st, c, SQL_REPO_GET, err);
    if (rc == 0)
        rc = meta_bind_repo(c, st, 1, repo, err);
    if (rc == 0)
        rc = meta_step(c, st, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "repository %s not found", repo->s);
    else if (rc == 1)
        rc = repo_read(c, st, out, err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    meta_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

/* repo_write runs sql (?1 = repository name, optional ?2 text, ?3 time) on a repository that is
 * shown, in one transaction. */
static int repo_write(struct meta *m, const struct repo_name *repo, const char *sql,
                      const char *text, struct berr *err)
{
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    int rc;

    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = ident_prepare(&st, c, SQL_REPO_ID_SHOWN, err);
    if (rc == 0)
        rc = meta_bind_repo(c, st, 1, repo, err);
    if (rc == 0)
        rc = meta_step(c, st, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "repository %s not found", repo->s);
    (void)sqlite3_finalize(st);
    st = NULL;
    if (rc < 0)
        goto end;
    rc = ident_prepare(&st, c, sql, err);
    if (rc == 0)
        rc = meta_bind_repo(c, st, 1, repo, err);
    if (rc == 0 && text != NULL) {
        rc = meta_bind_text(c, st, 2, text, strlen(text), err);
        if (rc == 0)
            rc = meta_bind_i64(c, st, 3, now_s(), err);
    }
    if (rc == 0)
        rc = meta_exec(c, st, err);
    (void)sqlite3_finalize(st); /* errors were reported */
end:
    rc = meta_write_end(c, rc, err);
    return rc;
}

int meta_repo_set_description(struct meta *m, const struct repo_name *repo, const char *desc,
                              struct berr *err)
{
    if (strlen(desc) > META_REPO_DESC_MAX)
        return berr_set(err, BERR_BAD_REQUEST, "description is longer than %d bytes",
                        META_REPO_DESC_MAX);
    return repo_write(m, repo, SQL_REPO_DESC, desc, err);
}

int meta_repo_delete(struct meta *m, const struct repo_name *repo, struct berr *err)
{
    return repo_write(m, repo, SQL_REPO_DELETE, NULL, err);
}

/* ---- artifacts ---- */

#define ART_COLS                                                                                   \
    "SELECT m.id, m.repo_id, r.project_id, r.name, m.digest, m.media_type, m.artifact_type,"       \
    " m.size, " ART_SIZE ", m.pushed_at, COALESCE(m.pull_time, 0), m.pull_count,"                  \
    " EXISTS (SELECT 1 FROM manifest_children ic WHERE ic.parent_id = m.id)"                       \
    " FROM manifests m JOIN repositories r ON r.id = m.repo_id"

#define ART_WHERE                                                                                  \
    " WHERE (?1 <= 0 OR m.repo_id = ?1) AND (?2 <= 0 OR r.project_id = ?2) AND" ART_TOP(           \
            "m") " AND (?3 < 0 OR (?3 = 1) = EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = "  \
                 "m.id))"                                                                          \
                 " AND (?4 IS NULL OR EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id AND" \
                 " CASE WHEN ?5 THEN instr(t.name, ?4) > 0 ELSE t.name = ?4 END))"                 \
                 " AND (?6 IS NULL OR m.digest = ?6)"

static const char SQL_ART_COUNT[] =
        "SELECT COUNT(*) FROM manifests m JOIN repositories r ON r.id = m.repo_id" ART_WHERE;
static const char SQL_ART_PAGE[] =
        ART_COLS ART_WHERE " ORDER BY"
                           " CASE ?7 WHEN 'push_time' THEN m.pushed_at END ASC,"
                           " CASE ?7 WHEN '-push_time' THEN m.pushed_at END DESC,"
                           " CASE ?7 WHEN 'pull_time' THEN m.pull_time END ASC,"
                           " CASE ?7 WHEN '-pull_time' THEN m.pull_time END DESC,"
                           " CASE ?7 WHEN 'pull_count' THEN m.pull_count END ASC,"
                           " CASE ?7 WHEN '-pull_count' THEN m.pull_count END DESC,"
                           " CASE ?7 WHEN 'id' THEN m.id END ASC,"
                           " CASE WHEN ?7 IS NULL THEN m.pushed_at END DESC,"
                           " m.id DESC LIMIT ?20 OFFSET ?21";
static const char SQL_ART_GET[] = ART_COLS " WHERE m.repo_id = ?1 AND m.digest = ?2";

static const char *const art_sort_keys[] = {"push_time", "pull_time", "pull_count", "id", NULL};

static int art_read(struct meta_conn *c, sqlite3_stmt *st, void *row, struct berr *err)
{
    struct meta_artifact *a = row;
    int64_t msize, size;

    memset(a, 0, sizeof(*a));
    a->id = (int64_t)sqlite3_column_int64(st, 0);
    a->repo_id = (int64_t)sqlite3_column_int64(st, 1);
    a->project_id = (int64_t)sqlite3_column_int64(st, 2);
    msize = (int64_t)sqlite3_column_int64(st, 7);
    size = (int64_t)sqlite3_column_int64(st, 8);
    a->manifest_size = msize > 0 ? (uint64_t)msize : 0;
    a->size = size > 0 ? (uint64_t)size : 0;
    a->pushed_at = (int64_t)sqlite3_column_int64(st, 9);
    a->pull_time = (int64_t)sqlite3_column_int64(st, 10);
    a->pull_count = (int64_t)sqlite3_column_int64(st, 11);
    a->is_index = sqlite3_column_int64(st, 12) != 0;
    if (meta_col_text(c, st, 3, a->repo_name, sizeof(a->repo_name), err) < 0 ||
        meta_col_digest(c, st, 4, &a->digest, err) < 0 ||
        meta_col_text(c, st, 5, a->media_type, sizeof(a->media_type), err) < 0 ||
        meta_col_text(c, st, 6, a->artifact_type, sizeof(a->artifact_type), err) < 0)
        return -1;
    return 0;
}

/* the digest filter is formatted into this per-call buffer (bound SQLITE_STATIC) */
struct art_bind_ctx {
    const struct meta_artifact_q *q;
    char dbuf[DIGEST_STR_LEN + 1];
};

static int art_bind(struct meta_conn *c, sqlite3_stmt *st, const void *ctx, bool for_count,
                    struct berr *err)
{
    struct art_bind_ctx *bc = (struct art_bind_ctx *)(uintptr_t)ctx;
    const struct meta_artifact_q *q = bc->q;
    int rc;

    rc = meta_bind_i64(c, st, 1, q->repo_id, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 2, q->project_id, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 3, q->tagged, err);
    if (rc == 0)
        rc = q->tag != NULL ? meta_bind_text(c, st, 4, q->tag, strlen(q->tag), err)
                            : meta_bind_null(c, st, 4, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 5, q->tag_fuzzy ? 1 : 0, err);
    if (rc == 0)
        rc = q->digest != NULL ? meta_bind_digest(c, st, 6, q->digest, bc->dbuf, err)
                               : meta_bind_null(c, st, 6, err);
    if (rc == 0 && !for_count)
        rc = ident_bind_sort(c, st, 7, q->l.sort, err);
    return rc;
}

int meta_artifact_list(struct meta *m, const struct meta_artifact_q *q, struct meta_artifact *out,
                       size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    static const struct ident_list l = {SQL_ART_COUNT, SQL_ART_PAGE, art_bind, art_read,
                                        sizeof(struct meta_artifact)};
    struct art_bind_ctx bc;

    *n = 0;
    *total = 0;
    if (q->repo_id <= 0 && q->project_id <= 0)
        return berr_set(err, BERR_BAD_REQUEST, "a repository or a project is required");
    if (!ident_sort_ok(q->l.sort, art_sort_keys))
        return berr_set(err, BERR_BAD_REQUEST, "unknown sort key");
    if (q->tag != NULL && strlen(q->tag) > TAG_MAX)
        return berr_set(err, BERR_BAD_REQUEST, "tag filter is too long");
    bc.q = q;
    return ident_list_run(m, &l, &bc, &q->l, out, cap, n, total, err);
}

int meta_artifact_get(struct meta *m, int64_t repo_id, const struct digest *d,
                      struct meta_artifact *out, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct meta_conn *c = meta_conn_get(m);
    sqlite3_stmt *st = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = ident_prepare(&st, c, SQL_ART_GET, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 1, repo_id, err);
    if (rc == 0)
        rc = meta_bind_digest(c, st, 2, d, dbuf, err);
    if (rc == 0)
        rc = meta_step(c, st, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "artifact sha256:%s not found", d->hex);
    else if (rc == 1)
        rc = art_read(c, st, out, err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    meta_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

/* ---- tags and references ---- */

#define TAG_COLS                                                                                   \
    "SELECT repo_id, manifest_id, name, pushed_at, COALESCE(pull_time, 0), pull_count FROM tags"
#define TAG_WHERE                                                                                  \
    " WHERE manifest_id = ?1"                                                                      \
    " AND (?2 IS NULL OR CASE WHEN ?3 THEN instr(name, ?2) > 0 ELSE name = ?2 END)"
static const char SQL_TAG_COUNT[] = "SELECT COUNT(*) FROM tags" TAG_WHERE;
static const char SQL_TAG_PAGE[] =
        TAG_COLS TAG_WHERE " ORDER BY"
                           " CASE ?4 WHEN 'push_time' THEN pushed_at END ASC,"
                           " CASE ?4 WHEN '-push_time' THEN pushed_at END DESC,"
                           " CASE ?4 WHEN 'pull_time' THEN pull_time END ASC,"
                           " CASE ?4 WHEN '-pull_time' THEN pull_time END DESC,"
                           " CASE ?4 WHEN '-name' THEN name END DESC,"
                           " name ASC LIMIT ?20 OFFSET ?21";

static const char *const tag_sort_keys[] = {"name", "push_time", "pull_time", NULL};

struct tag_bind_ctx {
    int64_t artifact_id;
    const struct meta_list_q *q;
};

static int tag_bind(struct meta_conn *c, sqlite3_stmt *st, const void *ctx, bool for_count,
                    struct berr *err)
{
    const struct tag_bind_ctx *tc = ctx;
    int rc = meta_bind_i64(c, st, 1, tc->artifact_id, err);

    if (rc == 0)
        rc = ident_bind_name(c, st, 2, tc->q, err);
    if (rc == 0 && !for_count)
        rc = ident_bind_sort(c, st, 4, tc->q->sort, err);
    return rc;
}

static int tag_read(struct meta_conn *c, sqlite3_stmt *st, void *row, struct berr *err)
{
    struct meta_tag_info *t = row;

    memset(t, 0, sizeof(*t));
    t->repo_id = (int64_t)sqlite3_column_int64(st, 0);
    t->artifact_id = (int64_t)sqlite3_column_int64(st, 1);
    t->pushed_at = (int64_t)sqlite3_column_int64(st, 3);
    t->pull_time = (int64_t)sqlite3_column_int64(st, 4);
    t->pull_count = (int64_t)sqlite3_column_int64(st, 5);
    return meta_col_text(c, st, 2, t->name, sizeof(t->name), err);
}

int meta_artifact_tags(struct meta *m, int64_t artifact_id, const struct meta_list_q *q,
                       struct meta_tag_info *out, size_t cap, size_t *n, int64_t *total,
                       struct berr *err)
{
    static const struct ident_list l = {SQL_TAG_COUNT, SQL_TAG_PAGE, tag_bind, tag_read,
                                        sizeof(struct meta_tag_info)};
    struct tag_bind_ctx tc = {artifact_id, q};

    *n = 0;
    *total = 0;
    if (!ident_sort_ok(q->sort, tag_sort_keys))
        return berr_set(err, BERR_BAD_REQUEST, "unknown sort key");
    return ident_list_run(m, &l, &tc, q, out, cap, n, total, err);
}

static const char SQL_REFS[] =
        "SELECT mc.child_digest, COALESCE(cm.id, 0), mc.media_type, mc.size, mc.os, mc.arch,"
        " mc.variant FROM manifest_children mc JOIN manifests pm ON pm.id = mc.parent_id"
        " LEFT JOIN manifests cm ON cm.repo_id = pm.repo_id AND cm.digest = mc.child_digest"
        " WHERE mc.parent_id = ?1 ORDER BY mc.rowid";

int meta_artifact_refs(struct meta *m, int64_t artifact_id, struct meta_artifact_ref *out,
                       size_t cap, size_t *n, struct berr *err)
{
    struct meta_conn *c = meta_conn_get(m);
    sqlite3_stmt *st = NULL;
    struct meta_artifact_ref *r;
    int64_t size;
    int rc;

    *n = 0;
    rc = ident_prepare(&st, c, SQL_REFS, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 1, artifact_id, err);
    while (rc == 0 && *n < cap) {
        rc = meta_step(c, st, err);
        if (rc <= 0)
            break;
        r = &out[*n];
        memset(r, 0, sizeof(*r));
        r->child_id = (int64_t)sqlite3_column_int64(st, 1);
        size = (int64_t)sqlite3_column_int64(st, 3);
        r->size = size > 0 ? (uint64_t)size : 0;
        rc = meta_col_digest(c, st, 0, &r->child, err);
        if (rc == 0)
            rc = meta_col_text(c, st, 2, r->media_type, sizeof(r->media_type), err);
        if (rc == 0)
            rc = meta_col_text(c, st, 4, r->os, sizeof(r->os), err);
        if (rc == 0)
            rc = meta_col_text(c, st, 5, r->arch, sizeof(r->arch), err);
        if (rc == 0)
            rc = meta_col_text(c, st, 6, r->variant, sizeof(r->variant), err);
        if (rc == 0)
            (*n)++;
    }
    (void)sqlite3_finalize(st); /* step errors were reported */
    meta_conn_put(c);
    if (rc < 0) {
        *n = 0;
        return -1;
    }
    return 0;
}

static const char SQL_ART_IN_REPO[] = "SELECT 1 FROM manifests WHERE id = ?2 AND repo_id = ?1";
static const char SQL_TAG_INSERT[] =
        "INSERT INTO tags(repo_id, name, manifest_id, pushed_at) VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT(repo_id, name) DO NOTHING";
static const char SQL_TAG_DETACH[] = "DELETE FROM tags WHERE manifest_id = ?1 AND name = ?2";
static const char SQL_REPO_TOUCH_ID[] = "UPDATE repositories SET updated_at = ?2 WHERE id = ?1";

int meta_tag_create(struct meta *m, int64_t repo_id, int64_t artifact_id, const struct tag *t,
                    struct berr *err)
{
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    int64_t now = now_s();
    int rc;

    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = ident_prepare(&st, c, SQL_ART_IN_REPO, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 1, repo_id, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 2, artifact_id, err);
    if (rc == 0)
        rc = meta_step(c, st, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "artifact not found");
    else if (rc == 1)
        rc = 0;
    (void)sqlite3_finalize(st);
    st = NULL;
    if (rc == 0)
        rc = ident_prepare(&st, c, SQL_TAG_INSERT, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 1, repo_id, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 2, t->s, strlen(t->s), err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 3, artifact_id, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 4, now, err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_CONFLICT, "tag %s already exists", t->s);
    (void)sqlite3_finalize(st);
    st = NULL;
    if (rc == 0)
        rc = ident_prepare(&st, c, SQL_REPO_TOUCH_ID, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 1, repo_id, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 2, now, err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    (void)sqlite3_finalize(st); /* errors were reported */
    rc = meta_write_end(c, rc, err);
    return rc;
}

int meta_tag_detach(struct meta *m, int64_t artifact_id, const struct tag *t, struct berr *err)
{
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    int rc;

    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = ident_prepare(&st, c, SQL_TAG_DETACH, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 1, artifact_id, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 2, t->s, strlen(t->s), err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "tag %s not found on the artifact", t->s);
    (void)sqlite3_finalize(st); /* errors were reported */
    rc = meta_write_end(c, rc, err);
    return rc;
}

/* ---- statistics ---- */

#define STAT_VISIBLE_PRIVATE                                                                       \
    " p.public = 0 AND (?1 OR EXISTS (SELECT 1 FROM project_members pm"                            \
    " WHERE pm.project_id = p.id AND pm.user_id = ?2))"
static const char SQL_STATS[] =
        "SELECT (SELECT COUNT(*) FROM projects p WHERE" STAT_VISIBLE_PRIVATE "),"
        " (SELECT COUNT(*) FROM projects p WHERE p.public = 1),"
        " (SELECT COUNT(*) FROM repositories r JOIN projects p ON p.id = r.project_id"
        " WHERE" STAT_VISIBLE_PRIVATE " AND" REPO_HAS_CONTENT "),"
        " (SELECT COUNT(*) FROM repositories r JOIN projects p ON p.id = r.project_id"
        " WHERE p.public = 1 AND" REPO_HAS_CONTENT "),"
        " (SELECT COALESCE(SUM(size), 0) FROM blobs)";

int meta_stats_get(struct meta *m, bool all, int64_t viewer_user_id, struct meta_stats *out,
                   struct berr *err)
{
    struct meta_conn *c = meta_conn_get(m);
    sqlite3_stmt *st = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = ident_prepare(&st, c, SQL_STATS, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 1, all ? 1 : 0, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 2, viewer_user_id, err);
    if (rc == 0)
        rc = meta_step(c, st, err);
    if (rc == 0) {
        rc = meta_fail(c, "stats: no row", err);
    } else if (rc == 1) {
        out->private_project_count = (int64_t)sqlite3_column_int64(st, 0);
        out->public_project_count = (int64_t)sqlite3_column_int64(st, 1);
        out->private_repo_count = (int64_t)sqlite3_column_int64(st, 2);
        out->public_repo_count = (int64_t)sqlite3_column_int64(st, 3);
        out->total_storage_consumption = (int64_t)sqlite3_column_int64(st, 4);
        out->total_project_count = out->private_project_count + out->public_project_count;
        out->total_repo_count = out->private_repo_count + out->public_repo_count;
        rc = 0;
    }
    (void)sqlite3_finalize(st); /* step errors were reported */
    meta_conn_put(c);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}
