/* sqlite_manifest.c - manifests in SQLite: put, resolve, delete, tags, referrers, the catalog,
 * and artifacts (manifests as the management API lists them, with their tags and children).
 *
 * A manifest row belongs to one repository; the same digest pushed to two repositories is two
 * rows. Invariants:
 *   1. A manifest row exists only if, in the transaction that inserted it, every blob it lists
 *      could be served by its repository and every child was a manifest of its repository
 *      (children may be deleted later: the distribution spec allows it).
 *   2. The manifest's own digest has a blob row and a repo_blobs link from the same transaction,
 *      so gc and meta_blob_linked see it like any blob; meta_manifest_delete removes that link.
 *   3. A tag points at exactly one manifest of its own repository; deleting the manifest deletes
 *      its tags, its manifest_blobs and manifest_children rows (ON DELETE CASCADE). A tag is
 *      written by tag_put only: a push moves it, a tag create refuses an existing one.
 *   4. Resolving a reference is one indexed SELECT without a transaction (the GET/HEAD manifest
 *      hot path); only a miss costs a second query to tell NAME_UNKNOWN from MANIFEST_UNKNOWN.
 *   5. Artifact lists use one definition of a top-level artifact (ART_TOP, sqlite_int.h) for
 *      count and page alike; tag create checks the artifact and writes the tag in one
 *      BEGIN IMMEDIATE transaction, so it cannot race a delete into a dangling tag.
 * Calls sqlite.c, sqlite_repo.c (repository rows), sqlite_blob.c (links) and meta_walk.c
 * (the referrers walk) only.
 * Thread-safe: every call borrows its own connection; list callbacks run with none held. */
#include "storage/sqlite_int.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/meta_walk.h"

static const char SQL_MANIFEST_ID[] = "SELECT id FROM manifests WHERE repo_id = ?1 AND digest = ?2";
static const char SQL_MANIFEST_INSERT[] =
        "INSERT INTO manifests(repo_id, digest, media_type, size, artifact_type, subject_digest,"
        " annotations, pushed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        " ON CONFLICT(repo_id, digest) DO NOTHING";
static const char SQL_MANIFEST_BLOB_INSERT[] =
        "INSERT INTO manifest_blobs(manifest_id, digest, repo_id) VALUES (?1, ?2, ?3)"
        " ON CONFLICT(manifest_id, digest) DO NOTHING";
static const char SQL_MANIFEST_CHILD_INSERT[] =
        "INSERT INTO manifest_children(parent_id, child_digest, media_type, size, os, arch,"
        " variant) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
/* the one INSERT of a tag: ?5 = 1 moves an existing tag (push), 0 leaves it (tag create) */
static const char SQL_TAG_UPSERT[] =
        "INSERT INTO tags(repo_id, name, manifest_id, pushed_at) VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT(repo_id, name) DO UPDATE SET manifest_id = excluded.manifest_id,"
        " pushed_at = excluded.pushed_at WHERE ?5 AND tags.manifest_id <> excluded.manifest_id";
static const char SQL_REPO_TOUCH[] = "UPDATE repositories SET updated_at = ?2 WHERE id = ?1";
static const char SQL_REPO_PUSHED[] =
        "UPDATE repositories SET push_count = push_count + 1 WHERE id = ?1";
static const char SQL_RESOLVE_TAG[] =
        "SELECT m.digest, m.media_type, m.size, m.pushed_at, 0 FROM repositories r"
        " JOIN tags t ON t.repo_id = r.id AND t.name = ?2"
        " JOIN manifests m ON m.id = t.manifest_id WHERE r.name = ?1";
static const char SQL_RESOLVE_DIGEST[] =
        "SELECT m.digest, m.media_type, m.size, m.pushed_at,"
        " EXISTS (SELECT 1 FROM manifest_children mc JOIN manifests pm ON pm.id = mc.parent_id"
        " WHERE mc.child_digest = m.digest AND pm.repo_id = r.id) FROM repositories r"
        " JOIN manifests m ON m.repo_id = r.id AND m.digest = ?2 WHERE r.name = ?1";
static const char SQL_MANIFEST_DELETE[] =
        "DELETE FROM manifests WHERE repo_id = ?1 AND digest = ?2";
static const char SQL_REPO_BLOB_UNLINK[] =
        "DELETE FROM repo_blobs WHERE repo_id = ?1 AND digest = ?2";
static const char SQL_TAG_DELETE[] = "DELETE FROM tags WHERE repo_id = ?1 AND name = ?2";
static const char SQL_TAGS_PAGE[] =
        "SELECT name FROM tags WHERE repo_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3";
static const char SQL_CATALOG_PAGE[] =
        "SELECT r.name FROM repositories r WHERE r.name > ?1"
        " AND (EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = r.id)"
        " OR EXISTS (SELECT 1 FROM repo_blobs rb WHERE rb.repo_id = r.id))"
        " ORDER BY r.name LIMIT ?2";
static const char SQL_REFERRERS_PAGE[] =
        "SELECT digest, media_type, size, artifact_type, annotations FROM manifests"
        " WHERE subject_digest = ?1 AND repo_id = ?2 AND digest > ?3"
        " AND (?4 IS NULL OR artifact_type = ?4) ORDER BY digest LIMIT ?5";

/* ---- put ---- */

static int check_input(const struct meta_manifest_in *in, struct berr *err)
{
    size_t mlen = in->media_type != NULL ? strlen(in->media_type) : 0;

    if (mlen == 0 || mlen > META_MEDIA_TYPE_MAX)
        return berr_set(err, BERR_MANIFEST_INVALID, "invalid manifest media type");
    if (in->artifact_type != NULL && strlen(in->artifact_type) > META_MEDIA_TYPE_MAX)
        return berr_set(err, BERR_MANIFEST_INVALID, "artifactType too long");
    if (in->size > INT64_MAX)
        return berr_set(err, BERR_SIZE_INVALID, "manifest too large");
    if ((in->nblobs > 0 && in->blobs == NULL) || (in->nchildren > 0 && in->children == NULL) ||
        (in->ntags > 0 && in->tags == NULL)) {
        log_msg(LOG_ERROR, "meta: manifest_put given a count without its array");
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    return 0;
}

/* manifest_id: 1 and *id when d is a manifest of repo_id, 0 when not, -1 on failure */
static int manifest_id(struct sq_conn *c, int64_t repo_id, const struct digest *d, int64_t *id,
                       struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    sqlite3_stmt *st;
    int rc;

    *id = 0;
    rc = sq_stmt_id_digest(&st, c, SQ_Q_MANIFEST_ID, SQL_MANIFEST_ID, repo_id, d, dbuf, err);
    if (rc == 0)
        rc = sq_step_i64(c, st, id, err);
    return rc;
}

static int check_refs(struct sq_conn *c, int64_t repo_id, const struct meta_manifest_in *in,
                      struct berr *err)
{
    char dstr[DIGEST_STR_LEN + 1];
    int64_t id;
    size_t i;
    int rc;

    for (i = 0; i < in->nblobs; i++) {
        rc = sq_blob_linked_id(c, repo_id, &in->blobs[i], err);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            digest_format(&in->blobs[i], dstr, sizeof(dstr));
            return berr_set(err, BERR_MANIFEST_BLOB_UNKNOWN, "blob unknown to repository: %s",
                            dstr);
        }
    }
    for (i = 0; i < in->nchildren; i++) {
        rc = manifest_id(c, repo_id, &in->children[i].digest, &id, err);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            digest_format(&in->children[i].digest, dstr, sizeof(dstr));
            return berr_set(err, BERR_MANIFEST_UNKNOWN, "manifest unknown to repository: %s", dstr);
        }
    }
    return 0;
}

/* manifest_insert: the row (kept if present) and, when new, its references; *id either way */
static int manifest_insert(struct sq_conn *c, int64_t repo_id, const struct meta_manifest_in *in,
                           int64_t now, int64_t *id, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    char sbuf[DIGEST_STR_LEN + 1];
    const char *at = in->artifact_type != NULL ? in->artifact_type : "";
    sqlite3_stmt *st;
    bool fresh;
    size_t i;
    int rc;

    rc = sq_stmt_id_digest(&st, c, SQ_Q_MANIFEST_INSERT, SQL_MANIFEST_INSERT, repo_id, &in->digest,
                           dbuf, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 3, in->media_type, strlen(in->media_type), err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 4, (int64_t)in->size, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 5, at, strlen(at), err);
    if (rc == 0)
        rc = in->subject != NULL ? sq_bind_digest(c, st, 6, in->subject, sbuf, err)
                                 : sq_bind_null(c, st, 6, err);
    if (rc == 0)
        rc = in->annotations_json != NULL ? sq_bind_text(c, st, 7, in->annotations_json,
                                                         strlen(in->annotations_json), err)
                                          : sq_bind_null(c, st, 7, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 8, now, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc < 0)
        return -1;
    fresh = sqlite3_changes(c->db) > 0;
    if (fresh) {
        *id = (int64_t)sqlite3_last_insert_rowid(c->db);
    } else {
        rc = manifest_id(c, repo_id, &in->digest, id, err);
        if (rc <= 0)
            return rc < 0 ? -1 : sq_fail(c, "manifest vanished inside its transaction", err);
        return 0; /* kept: its references were recorded when it was first put */
    }
    for (i = 0; i < in->nblobs; i++) {
        rc = sq_stmt_id_digest(&st, c, SQ_Q_MANIFEST_BLOB_INSERT, SQL_MANIFEST_BLOB_INSERT, *id,
                               &in->blobs[i], dbuf, err);
        if (rc == 0)
            rc = sq_bind_i64(c, st, 3, repo_id, err);
        if (rc == 0)
            rc = sq_exec(c, st, err);
        if (rc < 0)
            return -1;
    }
    for (i = 0; i < in->nchildren; i++) {
        const struct meta_child *ch = &in->children[i];

        if (ch->size > INT64_MAX)
            return berr_set(err, BERR_SIZE_INVALID, "manifest entry too large");
        rc = sq_stmt_id_digest(&st, c, SQ_Q_MANIFEST_CHILD_INSERT, SQL_MANIFEST_CHILD_INSERT, *id,
                               &ch->digest, dbuf, err);
        if (rc == 0)
            rc = sq_bind_text(c, st, 3, ch->media_type,
                              strnlen(ch->media_type, sizeof(ch->media_type)), err);
        if (rc == 0)
            rc = sq_bind_i64(c, st, 4, (int64_t)ch->size, err);
        if (rc == 0)
            rc = sq_bind_text(c, st, 5, ch->os, strnlen(ch->os, sizeof(ch->os)), err);
        if (rc == 0)
            rc = sq_bind_text(c, st, 6, ch->arch, strnlen(ch->arch, sizeof(ch->arch)), err);
        if (rc == 0)
            rc = sq_bind_text(c, st, 7, ch->variant, strnlen(ch->variant, sizeof(ch->variant)),
                              err);
        if (rc == 0)
            rc = sq_exec(c, st, err);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* tag_put points tag name of repo_id at manifest mid (the one INSERT of a tag). move: an existing
 * tag is moved; otherwise it stays and *written is false. */
static int tag_put(struct sq_conn *c, int64_t repo_id, const char *name, size_t len, int64_t mid,
                   int64_t now, bool move, bool *written, struct berr *err)
{
    sqlite3_stmt *st;
    int rc;

    *written = false;
    rc = sq_stmt(&st, c, SQ_Q_TAG_UPSERT, SQL_TAG_UPSERT, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, repo_id, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 2, name, len, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, mid, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 4, now, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 5, move ? 1 : 0, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0)
        *written = sqlite3_changes(c->db) != 0;
    return rc;
}

static int repo_touch(struct sq_conn *c, int64_t repo_id, int64_t now, struct berr *err)
{
    sqlite3_stmt *st;
    int rc;

    rc = sq_stmt(&st, c, SQ_Q_REPO_TOUCH, SQL_REPO_TOUCH, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, repo_id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, now, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    return rc;
}

static int tags_set(struct sq_conn *c, int64_t repo_id, int64_t mid,
                    const struct meta_manifest_in *in, int64_t now, struct berr *err)
{
    bool written;
    size_t i;

    for (i = 0; i < in->ntags; i++)
        if (tag_put(c, repo_id, in->tags[i].s, strnlen(in->tags[i].s, sizeof(in->tags[i].s)), mid,
                    now, true, &written, err) < 0)
            return -1;
    return repo_touch(c, repo_id, now, err);
}

/* count_push adds one to the repository's push counter (prepared per push: pushes are rare
 * next to pulls, not worth a cached statement slot) */
static int count_push(struct sq_conn *c, int64_t repo_id, struct berr *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sq_prepare(&st, c, SQL_REPO_PUSHED, err);

    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, repo_id, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    (void)sqlite3_finalize(st); /* NULL is a no-op; step errors were reported */
    return rc;
}

static int sq_manifest_put(struct meta *m, const struct repo_name *repo,
                           const struct meta_manifest_in *in, struct berr *err)
{
    struct sq_conn *c;
    int64_t now = now_s();
    int64_t repo_id = 0;
    int64_t mid = 0;
    int rc;

    if (check_input(in, err) < 0)
        return -1;
    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_repo_ensure(c, repo, &repo_id, err);
    if (rc == 0)
        rc = check_refs(c, repo_id, in, err);
    if (rc == 0)
        rc = sq_blob_insert_link(c, repo_id, &in->digest, in->size, err);
    if (rc == 0)
        rc = manifest_insert(c, repo_id, in, now, &mid, err);
    if (rc == 0)
        rc = tags_set(c, repo_id, mid, in, now, err);
    if (rc == 0)
        rc = count_push(c, repo_id, err);
    return sq_write_end(c, rc, err);
}

/* ---- resolve, delete ---- */

static int sq_manifest_resolve(struct meta *m, const struct repo_name *repo,
                               const struct reference *ref, struct meta_manifest *out,
                               struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st;
    sqlite3_int64 size;
    int64_t repo_id;
    int rc;

    memset(out, 0, sizeof(*out));
    if (ref->is_digest)
        rc = sq_stmt(&st, c, SQ_Q_RESOLVE_DIGEST, SQL_RESOLVE_DIGEST, err);
    else
        rc = sq_stmt(&st, c, SQ_Q_RESOLVE_TAG, SQL_RESOLVE_TAG, err);
    if (rc == 0)
        rc = sq_bind_repo(c, st, 1, repo, err);
    if (rc == 0)
        rc = ref->is_digest ? sq_bind_digest(c, st, 2, &ref->digest, dbuf, err)
                            : sq_bind_text(c, st, 2, ref->tag.s,
                                           strnlen(ref->tag.s, sizeof(ref->tag.s)), err);
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc == 1) {
        rc = sq_col_digest(c, st, 0, &out->digest, err);
        if (rc == 0)
            rc = sq_col_text(c, st, 1, out->media_type, sizeof(out->media_type), err);
        size = sqlite3_column_int64(st, 2);
        out->size = size > 0 ? (uint64_t)size : 0;
        out->pushed_at = (int64_t)sqlite3_column_int64(st, 3);
        out->is_child = sqlite3_column_int64(st, 4) != 0;
    } else if (rc == 0) {
        (void)sqlite3_reset(st);
        rc = sq_repo_id(c, repo, &repo_id, err);
        if (rc == 0)
            rc = berr_set(err, BERR_NAME_UNKNOWN, "repository name not known to registry");
        else if (rc == 1)
            rc = berr_set(err, BERR_MANIFEST_UNKNOWN, "manifest unknown");
    }
    (void)sqlite3_reset(st);
    sq_conn_put(c);
    if (rc < 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    return 0;
}

/* repo_id_or_unknown (in a transaction): 0 and *id, or BERR_NAME_UNKNOWN */
static int repo_id_or_unknown(struct sq_conn *c, const struct repo_name *repo, int64_t *id,
                              struct berr *err)
{
    int rc = sq_repo_id(c, repo, id, err);

    if (rc == 0)
        return berr_set(err, BERR_NAME_UNKNOWN, "repository name not known to registry");
    return rc < 0 ? -1 : 0;
}

static int sq_manifest_delete(struct meta *m, const struct repo_name *repo, const struct digest *d,
                              struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int64_t repo_id = 0;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = repo_id_or_unknown(c, repo, &repo_id, err);
    if (rc == 0)
        rc = sq_stmt_id_digest(&st, c, SQ_Q_MANIFEST_DELETE, SQL_MANIFEST_DELETE, repo_id, d, dbuf,
                               err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_MANIFEST_UNKNOWN, "manifest unknown");
    /* invariant 2: the link meta_manifest_put made for the manifest's own digest */
    if (rc == 0)
        rc = sq_stmt_id_digest(&st, c, SQ_Q_MANIFEST_UNLINK, SQL_REPO_BLOB_UNLINK, repo_id, d, dbuf,
                               err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    return sq_write_end(c, rc, err);
}

static int sq_tag_delete(struct meta *m, const struct repo_name *repo, const struct tag *t,
                         struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int64_t repo_id = 0;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = repo_id_or_unknown(c, repo, &repo_id, err);
    if (rc == 0)
        rc = sq_stmt(&st, c, SQ_Q_TAG_DELETE, SQL_TAG_DELETE, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, repo_id, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 2, t->s, strnlen(t->s, sizeof(t->s)), err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_MANIFEST_UNKNOWN, "tag unknown");
    return sq_write_end(c, rc, err);
}

/* ---- lists ---- */

static int tags_query(sqlite3_stmt **out, struct sq_conn *c, const void *q, const char *after,
                      int64_t limit, struct berr *err)
{
    const int64_t *repo_id = q;
    int rc;

    rc = sq_stmt(out, c, SQ_Q_TAGS_PAGE, SQL_TAGS_PAGE, err);
    if (rc == 0)
        rc = sq_bind_i64(c, *out, 1, *repo_id, err);
    if (rc == 0)
        rc = sq_bind_text(c, *out, 2, after, strlen(after), err);
    if (rc == 0)
        rc = sq_bind_i64(c, *out, 3, limit, err);
    return rc;
}

static int sq_tags_list(struct meta *m, const struct repo_name *repo, const char *last, unsigned n,
                        meta_str_fn fn, void *ctx, bool *more, struct berr *err)
{
    int64_t repo_id;
    int rc;

    *more = false;
    rc = sq_repo_lookup(m, repo, &repo_id, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return berr_set(err, BERR_NAME_UNKNOWN, "repository name not known to registry");
    return sq_page_strings(m, tags_query, &repo_id, last, n, fn, ctx, more, err);
}

static int catalog_query(sqlite3_stmt **out, struct sq_conn *c, const void *q, const char *after,
                         int64_t limit, struct berr *err)
{
    int rc;

    (void)q;
    rc = sq_stmt(out, c, SQ_Q_CATALOG_PAGE, SQL_CATALOG_PAGE, err);
    if (rc == 0)
        rc = sq_bind_text(c, *out, 1, after, strlen(after), err);
    if (rc == 0)
        rc = sq_bind_i64(c, *out, 2, limit, err);
    return rc;
}

static int sq_catalog(struct meta *m, const char *last, unsigned n, meta_str_fn fn, void *ctx,
                      bool *more, struct berr *err)
{
    *more = false;
    return sq_page_strings(m, catalog_query, NULL, last, n, fn, ctx, more, err);
}

/* ---- referrers ---- */

static int ref_row_read(struct sq_conn *c, sqlite3_stmt *st, struct meta_ref_row *r,
                        struct berr *err)
{
    const unsigned char *ann;
    sqlite3_int64 size;

    r->annotations = NULL;
    if (sq_col_digest(c, st, 0, &r->digest, err) < 0 ||
        sq_col_text(c, st, 1, r->media_type, sizeof(r->media_type), err) < 0 ||
        sq_col_text(c, st, 3, r->artifact_type, sizeof(r->artifact_type), err) < 0)
        return -1;
    size = sqlite3_column_int64(st, 2);
    r->size = size > 0 ? (uint64_t)size : 0;
    if (sqlite3_column_type(st, 4) == SQLITE_NULL)
        return 0;
    ann = sqlite3_column_text(st, 4);
    if (ann == NULL)
        return sq_fail(c, "column", err);
    r->annotations = mem_strndup((const char *)ann, (size_t)sqlite3_column_bytes(st, 4));
    if (r->annotations == NULL)
        return berr_sys(err, ENOMEM, "meta: referrer annotations");
    return 0;
}

/* ref_fetch fills b with the next referrers after digest `after` ("" = from the start) */
static int ref_fetch(struct meta *m, const struct repo_name *repo, const char *subject,
                     const char *artifact_type, const char *after, struct meta_ref_batch *b,
                     bool *found_repo, struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st = NULL;
    int64_t repo_id = 0;
    int rc;

    rc = sq_repo_id(c, repo, &repo_id, err);
    *found_repo = rc == 1;
    if (rc <= 0)
        goto out;
    rc = sq_stmt(&st, c, SQ_Q_REFERRERS_PAGE, SQL_REFERRERS_PAGE, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 1, subject, DIGEST_STR_LEN, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, repo_id, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 3, after, strlen(after), err);
    if (rc == 0)
        rc = artifact_type != NULL
                     ? sq_bind_text(c, st, 4, artifact_type, strlen(artifact_type), err)
                     : sq_bind_null(c, st, 4, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 5, META_REF_BATCH, err);
    while (rc == 0) {
        rc = sq_step(c, st, err);
        if (rc <= 0)
            break;
        rc = ref_row_read(c, st, &b->r[b->n], err);
        if (rc < 0) {
            mem_free(b->r[b->n].annotations);
            b->r[b->n].annotations = NULL;
            break;
        }
        b->n++;
        if (b->n == META_REF_BATCH)
            break;
    }
    if (st != NULL)
        (void)sqlite3_reset(st); /* errors were reported by sq_step */
out:
    sq_conn_put(c);
    return rc < 0 ? -1 : 0;
}

static int sq_referrers(struct meta *m, const struct repo_name *repo, const struct digest *d,
                        const char *artifact_type, meta_referrer_fn fn, void *ctx, struct berr *err)
{
    return meta_ref_walk(m, repo, d, artifact_type, ref_fetch, fn, ctx, err);
}

/* ---- artifacts: the management API's view ---- */

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

static int art_read(struct sq_conn *c, sqlite3_stmt *st, void *row, struct berr *err)
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
    if (sq_col_text(c, st, 3, a->repo_name, sizeof(a->repo_name), err) < 0 ||
        sq_col_digest(c, st, 4, &a->digest, err) < 0 ||
        sq_col_text(c, st, 5, a->media_type, sizeof(a->media_type), err) < 0 ||
        sq_col_text(c, st, 6, a->artifact_type, sizeof(a->artifact_type), err) < 0)
        return -1;
    return 0;
}

/* the digest filter is formatted into this per-call buffer (bound SQLITE_STATIC) */
struct art_bind_ctx {
    const struct meta_artifact_q *q;
    char dbuf[DIGEST_STR_LEN + 1];
};

static int art_bind(struct sq_conn *c, sqlite3_stmt *st, const void *ctx, bool for_count,
                    struct berr *err)
{
    struct art_bind_ctx *bc = (struct art_bind_ctx *)(uintptr_t)ctx;
    const struct meta_artifact_q *q = bc->q;
    int rc;

    rc = sq_bind_i64(c, st, 1, q->repo_id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, q->project_id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 3, q->tagged, err);
    if (rc == 0)
        rc = q->tag != NULL ? sq_bind_text(c, st, 4, q->tag, strlen(q->tag), err)
                            : sq_bind_null(c, st, 4, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 5, q->tag_fuzzy ? 1 : 0, err);
    if (rc == 0)
        rc = q->digest != NULL ? sq_bind_digest(c, st, 6, q->digest, bc->dbuf, err)
                               : sq_bind_null(c, st, 6, err);
    if (rc == 0 && !for_count)
        rc = sq_bind_sort(c, st, 7, q->l.sort, err);
    return rc;
}

static int sq_artifact_list(struct meta *m, const struct meta_artifact_q *q,
                            struct meta_artifact *out, size_t cap, size_t *n, int64_t *total,
                            struct berr *err)
{
    /* no sort_keys: the sort key is checked below, before the tag filter */
    static const struct sq_list l = {
            SQL_ART_COUNT, SQL_ART_PAGE, art_bind, art_read, sizeof(struct meta_artifact), NULL};
    struct art_bind_ctx bc;

    *n = 0;
    *total = 0;
    if (q->repo_id <= 0 && q->project_id <= 0)
        return berr_set(err, BERR_BAD_REQUEST, "a repository or a project is required");
    if (!meta_ops_sort_ok(q->l.sort, art_sort_keys))
        return berr_set(err, BERR_BAD_REQUEST, "unknown sort key");
    if (q->tag != NULL && strlen(q->tag) > TAG_MAX)
        return berr_set(err, BERR_BAD_REQUEST, "tag filter is too long");
    bc.q = q;
    return sq_list_run(m, &l, &bc, &q->l, out, cap, n, total, err);
}

static int sq_artifact_get(struct meta *m, int64_t repo_id, const struct digest *d,
                           struct meta_artifact *out, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = sq_prepare(&st, c, SQL_ART_GET, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, repo_id, err);
    if (rc == 0)
        rc = sq_bind_digest(c, st, 2, d, dbuf, err);
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "artifact sha256:%s not found", d->hex);
    else if (rc == 1)
        rc = art_read(c, st, out, err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    sq_conn_put(c);
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

static int tag_bind(struct sq_conn *c, sqlite3_stmt *st, const void *ctx, bool for_count,
                    struct berr *err)
{
    const struct tag_bind_ctx *tc = ctx;
    int rc = sq_bind_i64(c, st, 1, tc->artifact_id, err);

    if (rc == 0)
        rc = sq_bind_name(c, st, 2, tc->q, err);
    if (rc == 0 && !for_count)
        rc = sq_bind_sort(c, st, 4, tc->q->sort, err);
    return rc;
}

static int tag_read(struct sq_conn *c, sqlite3_stmt *st, void *row, struct berr *err)
{
    struct meta_tag_info *t = row;

    memset(t, 0, sizeof(*t));
    t->repo_id = (int64_t)sqlite3_column_int64(st, 0);
    t->artifact_id = (int64_t)sqlite3_column_int64(st, 1);
    t->pushed_at = (int64_t)sqlite3_column_int64(st, 3);
    t->pull_time = (int64_t)sqlite3_column_int64(st, 4);
    t->pull_count = (int64_t)sqlite3_column_int64(st, 5);
    return sq_col_text(c, st, 2, t->name, sizeof(t->name), err);
}

static int sq_artifact_tags(struct meta *m, int64_t artifact_id, const struct meta_list_q *q,
                            struct meta_tag_info *out, size_t cap, size_t *n, int64_t *total,
                            struct berr *err)
{
    static const struct sq_list l = {
            SQL_TAG_COUNT, SQL_TAG_PAGE, tag_bind, tag_read, sizeof(struct meta_tag_info),
            tag_sort_keys};
    struct tag_bind_ctx tc = {artifact_id, q};

    return sq_list_run(m, &l, &tc, q, out, cap, n, total, err);
}

static const char SQL_REFS[] =
        "SELECT mc.child_digest, COALESCE(cm.id, 0), mc.media_type, mc.size, mc.os, mc.arch,"
        " mc.variant FROM manifest_children mc JOIN manifests pm ON pm.id = mc.parent_id"
        " LEFT JOIN manifests cm ON cm.repo_id = pm.repo_id AND cm.digest = mc.child_digest"
        " WHERE mc.parent_id = ?1 ORDER BY mc.rowid";

static int sq_artifact_refs(struct meta *m, int64_t artifact_id, struct meta_artifact_ref *out,
                            size_t cap, size_t *n, struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st = NULL;
    struct meta_artifact_ref *r;
    int64_t size;
    int rc;

    *n = 0;
    rc = sq_prepare(&st, c, SQL_REFS, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, artifact_id, err);
    while (rc == 0 && *n < cap) {
        rc = sq_step(c, st, err);
        if (rc <= 0)
            break;
        r = &out[*n];
        memset(r, 0, sizeof(*r));
        r->child_id = (int64_t)sqlite3_column_int64(st, 1);
        size = (int64_t)sqlite3_column_int64(st, 3);
        r->size = size > 0 ? (uint64_t)size : 0;
        rc = sq_col_digest(c, st, 0, &r->child, err);
        if (rc == 0)
            rc = sq_col_text(c, st, 2, r->media_type, sizeof(r->media_type), err);
        if (rc == 0)
            rc = sq_col_text(c, st, 4, r->os, sizeof(r->os), err);
        if (rc == 0)
            rc = sq_col_text(c, st, 5, r->arch, sizeof(r->arch), err);
        if (rc == 0)
            rc = sq_col_text(c, st, 6, r->variant, sizeof(r->variant), err);
        if (rc == 0)
            (*n)++;
    }
    (void)sqlite3_finalize(st); /* step errors were reported */
    sq_conn_put(c);
    if (rc < 0) {
        *n = 0;
        return -1;
    }
    return 0;
}

static const char SQL_ART_IN_REPO[] = "SELECT 1 FROM manifests WHERE id = ?2 AND repo_id = ?1";
static const char SQL_TAG_DETACH[] = "DELETE FROM tags WHERE manifest_id = ?1 AND name = ?2";

static int sq_tag_create(struct meta *m, int64_t repo_id, int64_t artifact_id, const struct tag *t,
                         struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int64_t now = now_s();
    bool written = false;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_prepare(&st, c, SQL_ART_IN_REPO, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, repo_id, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, artifact_id, err);
    if (rc == 0)
        rc = sq_step(c, st, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "artifact not found");
    else if (rc == 1)
        rc = 0;
    (void)sqlite3_finalize(st);
    st = NULL;
    if (rc == 0)
        rc = tag_put(c, repo_id, t->s, strlen(t->s), artifact_id, now, false, &written, err);
    if (rc == 0 && !written)
        rc = berr_set(err, BERR_CONFLICT, "tag %s already exists", t->s);
    if (rc == 0)
        rc = repo_touch(c, repo_id, now, err);
    rc = sq_write_end(c, rc, err);
    return rc;
}

static int sq_tag_detach(struct meta *m, int64_t artifact_id, const struct tag *t, struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_prepare(&st, c, SQL_TAG_DETACH, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, artifact_id, err);
    if (rc == 0)
        rc = sq_bind_text(c, st, 2, t->s, strlen(t->s), err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "tag %s not found on the artifact", t->s);
    (void)sqlite3_finalize(st); /* errors were reported */
    rc = sq_write_end(c, rc, err);
    return rc;
}

const struct meta_manifest_ops sqlite_manifest_ops = {
        .put = sq_manifest_put,
        .resolve = sq_manifest_resolve,
        .remove = sq_manifest_delete,
        .tag_delete = sq_tag_delete,
        .tags_list = sq_tags_list,
        .catalog = sq_catalog,
        .referrers = sq_referrers,
        .artifact_list = sq_artifact_list,
        .artifact_get = sq_artifact_get,
        .artifact_tags = sq_artifact_tags,
        .artifact_refs = sq_artifact_refs,
        .tag_create = sq_tag_create,
        .tag_detach = sq_tag_detach,
};
