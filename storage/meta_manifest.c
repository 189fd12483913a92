/* meta_manifest.c - manifests, tags, references between them, referrers and the catalog.
 *
 * A manifest row belongs to one repository; the same digest pushed to two repositories is two
 * rows. Invariants:
 *   1. A manifest row exists only if, in the transaction that inserted it, every blob it lists
 *      could be served by its repository and every child was a manifest of its repository
 *      (children may be deleted later: the distribution spec allows it).
 *   2. The manifest's own digest has a blob row and a repo_blobs link from the same transaction,
 *      so gc and meta_blob_linked see it like any blob; meta_manifest_delete removes that link.
 *   3. A tag points at exactly one manifest of its own repository; deleting the manifest deletes
 *      its tags, its manifest_blobs and manifest_children rows (ON DELETE CASCADE).
 *   4. Resolving a reference is one indexed SELECT without a transaction (the GET/HEAD manifest
 *      hot path); only a miss costs a second query to tell NAME_UNKNOWN from MANIFEST_UNKNOWN.
 * Thread-safe: every call borrows its own connection; list callbacks run with none held. */
#include "storage/meta.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/meta_int.h"

/* referrers are copied out in smaller batches: each row carries its annotations */
#define META_REF_BATCH 32

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
static const char SQL_TAG_UPSERT[] =
        "INSERT INTO tags(repo_id, name, manifest_id, pushed_at) VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT(repo_id, name) DO UPDATE SET manifest_id = excluded.manifest_id,"
        " pushed_at = excluded.pushed_at WHERE tags.manifest_id <> excluded.manifest_id";
static const char SQL_REPO_TOUCH[] = "UPDATE repositories SET updated_at = ?2 WHERE id = ?1";
static const char SQL_RESOLVE_TAG[] =
        "SELECT m.digest, m.media_type, m.size, m.pushed_at FROM repositories r"
        " JOIN tags t ON t.repo_id = r.id AND t.name = ?2"
        " JOIN manifests m ON m.id = t.manifest_id WHERE r.name = ?1";
static const char SQL_RESOLVE_DIGEST[] =
        "SELECT m.digest, m.media_type, m.size, m.pushed_at FROM repositories r"
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
static int manifest_id(struct meta_conn *c, int64_t repo_id, const struct digest *d, int64_t *id,
                       struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    sqlite3_stmt *st;
    int rc;

    *id = 0;
    rc = meta_stmt_id_digest(&st, c, META_Q_MANIFEST_ID, SQL_MANIFEST_ID, repo_id, d, dbuf, err);
    if (rc == 0)
        rc = meta_step_i64(c, st, id, err);
    return rc;
}

static int check_refs(struct meta_conn *c, int64_t repo_id, const struct meta_manifest_in *in,
                      struct berr *err)
{
    char dstr[DIGEST_STR_LEN + 1];
    int64_t id;
    size_t i;
    int rc;

    for (i = 0; i < in->nblobs; i++) {
        rc = meta_blob_linked_id(c, repo_id, &in->blobs[i], err);
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
static int manifest_insert(struct meta_conn *c, int64_t repo_id, const struct meta_manifest_in *in,
                           int64_t now, int64_t *id, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    char sbuf[DIGEST_STR_LEN + 1];
    const char *at = in->artifact_type != NULL ? in->artifact_type : "";
    sqlite3_stmt *st;
    bool fresh;
    size_t i;
    int rc;

    rc = meta_stmt_id_digest(&st, c, META_Q_MANIFEST_INSERT, SQL_MANIFEST_INSERT, repo_id,
                             &in->digest, dbuf, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 3, in->media_type, strlen(in->media_type), err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 4, (int64_t)in->size, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 5, at, strlen(at), err);
    if (rc == 0)
        rc = in->subject != NULL ? meta_bind_digest(c, st, 6, in->subject, sbuf, err)
                                 : meta_bind_null(c, st, 6, err);
    if (rc == 0)
        rc = in->annotations_json != NULL ? meta_bind_text(c, st, 7, in->annotations_json,
                                                           strlen(in->annotations_json), err)
                                          : meta_bind_null(c, st, 7, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 8, now, err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    if (rc < 0)
        return -1;
    fresh = sqlite3_changes(c->db) > 0;
    if (fresh) {
        *id = (int64_t)sqlite3_last_insert_rowid(c->db);
    } else {
        rc = manifest_id(c, repo_id, &in->digest, id, err);
        if (rc <= 0)
            return rc < 0 ? -1 : meta_fail(c, "manifest vanished inside its transaction", err);
        return 0; /* kept: its references were recorded when it was first put */
    }
    for (i = 0; i < in->nblobs; i++) {
        rc = meta_stmt_id_digest(&st, c, META_Q_MANIFEST_BLOB_INSERT, SQL_MANIFEST_BLOB_INSERT, *id,
                                 &in->blobs[i], dbuf, err);
        if (rc == 0)
            rc = meta_bind_i64(c, st, 3, repo_id, err);
        if (rc == 0)
            rc = meta_exec(c, st, err);
        if (rc < 0)
            return -1;
    }
    for (i = 0; i < in->nchildren; i++) {
        const struct meta_child *ch = &in->children[i];

        if (ch->size > INT64_MAX)
            return berr_set(err, BERR_SIZE_INVALID, "manifest entry too large");
        rc = meta_stmt_id_digest(&st, c, META_Q_MANIFEST_CHILD_INSERT, SQL_MANIFEST_CHILD_INSERT,
                                 *id, &ch->digest, dbuf, err);
        if (rc == 0)
            rc = meta_bind_text(c, st, 3, ch->media_type,
                                strnlen(ch->media_type, sizeof(ch->media_type)), err);
        if (rc == 0)
            rc = meta_bind_i64(c, st, 4, (int64_t)ch->size, err);
        if (rc == 0)
            rc = meta_bind_text(c, st, 5, ch->os, strnlen(ch->os, sizeof(ch->os)), err);
        if (rc == 0)
            rc = meta_bind_text(c, st, 6, ch->arch, strnlen(ch->arch, sizeof(ch->arch)), err);
        if (rc == 0)
            rc = meta_bind_text(c, st, 7, ch->variant, strnlen(ch->variant, sizeof(ch->variant)),
                                err);
        if (rc == 0)
            rc = meta_exec(c, st, err);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int tags_set(struct meta_conn *c, int64_t repo_id, int64_t mid,
                    const struct meta_manifest_in *in, int64_t now, struct berr *err)
{
    sqlite3_stmt *st;
    size_t i;
    int rc;

    for (i = 0; i < in->ntags; i++) {
        rc = meta_stmt(&st, c, META_Q_TAG_UPSERT, SQL_TAG_UPSERT, err);
        if (rc == 0)
            rc = meta_bind_i64(c, st, 1, repo_id, err);
        if (rc == 0)
            rc = meta_bind_text(c, st, 2, in->tags[i].s,
                                strnlen(in->tags[i].s, sizeof(in->tags[i].s)), err);
        if (rc == 0)
            rc = meta_bind_i64(c, st, 3, mid, err);
        if (rc == 0)
            rc = meta_bind_i64(c, st, 4, now, err);
        if (rc == 0)
            rc = meta_exec(c, st, err);
        if (rc < 0)
            return -1;
    }
    rc = meta_stmt(&st, c, META_Q_REPO_TOUCH, SQL_REPO_TOUCH, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 1, repo_id, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 2, now, err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    return rc;
}

int meta_manifest_put(struct meta *m, const struct repo_name *repo,
                      const struct meta_manifest_in *in, struct berr *err)
{
    struct meta_conn *c;
    int64_t now = now_s();
    int64_t repo_id = 0;
    int64_t mid = 0;
    int rc;

    if (check_input(in, err) < 0)
        return -1;
    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = meta_repo_ensure(c, repo, &repo_id, err);
    if (rc == 0)
        rc = check_refs(c, repo_id, in, err);
    if (rc == 0)
        rc = meta_blob_insert_link(c, repo_id, &in->digest, in->size, err);
    if (rc == 0)
        rc = manifest_insert(c, repo_id, in, now, &mid, err);
    if (rc == 0)
        rc = tags_set(c, repo_id, mid, in, now, err);
    return meta_write_end(c, rc, err);
}

/* ---- resolve, delete ---- */

int meta_manifest_resolve(struct meta *m, const struct repo_name *repo, const struct reference *ref,
                          struct meta_manifest *out, struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct meta_conn *c = meta_conn_get(m);
    sqlite3_stmt *st;
    sqlite3_int64 size;
    int64_t repo_id;
    int rc;

    memset(out, 0, sizeof(*out));
    if (ref->is_digest)
        rc = meta_stmt(&st, c, META_Q_RESOLVE_DIGEST, SQL_RESOLVE_DIGEST, err);
    else
        rc = meta_stmt(&st, c, META_Q_RESOLVE_TAG, SQL_RESOLVE_TAG, err);
    if (rc == 0)
        rc = meta_bind_repo(c, st, 1, repo, err);
    if (rc == 0)
        rc = ref->is_digest ? meta_bind_digest(c, st, 2, &ref->digest, dbuf, err)
                            : meta_bind_text(c, st, 2, ref->tag.s,
                                             strnlen(ref->tag.s, sizeof(ref->tag.s)), err);
    if (rc == 0)
        rc = meta_step(c, st, err);
    if (rc == 1) {
        rc = meta_col_digest(c, st, 0, &out->digest, err);
        if (rc == 0)
            rc = meta_col_text(c, st, 1, out->media_type, sizeof(out->media_type), err);
        size = sqlite3_column_int64(st, 2);
        out->size = size > 0 ? (uint64_t)size : 0;
        out->pushed_at = (int64_t)sqlite3_column_int64(st, 3);
    } else if (rc == 0) {
        (void)sqlite3_reset(st);
        rc = meta_repo_id(c, repo, &repo_id, err);
        if (rc == 0)
            rc = berr_set(err, BERR_NAME_UNKNOWN, "repository name not known to registry");
        else if (rc == 1)
            rc = berr_set(err, BERR_MANIFEST_UNKNOWN, "manifest unknown");
    }
    (void)sqlite3_reset(st);
    meta_conn_put(c);
    if (rc < 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    return 0;
}

/* repo_id_or_unknown (in a transaction): 0 and *id, or BERR_NAME_UNKNOWN */
static int repo_id_or_unknown(struct meta_conn *c, const struct repo_name *repo, int64_t *id,
                              struct berr *err)
{
    int rc = meta_repo_id(c, repo, id, err);

    if (rc == 0)
        return berr_set(err, BERR_NAME_UNKNOWN, "repository name not known to registry");
    return rc < 0 ? -1 : 0;
}

int meta_manifest_delete(struct meta *m, const struct repo_name *repo, const struct digest *d,
                         struct berr *err)
{
    char dbuf[DIGEST_STR_LEN + 1];
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    int64_t repo_id = 0;
    int rc;

    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = repo_id_or_unknown(c, repo, &repo_id, err);
    if (rc == 0)
        rc = meta_stmt_id_digest(&st, c, META_Q_MANIFEST_DELETE, SQL_MANIFEST_DELETE, repo_id, d,
                                 dbuf, err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_MANIFEST_UNKNOWN, "manifest unknown");
    /* invariant 2: the link meta_manifest_put made for the manifest's own digest */
    if (rc == 0)
        rc = meta_stmt_id_digest(&st, c, META_Q_MANIFEST_UNLINK, SQL_REPO_BLOB_UNLINK, repo_id, d,
                                 dbuf, err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    return meta_write_end(c, rc, err);
}

int meta_tag_delete(struct meta *m, const struct repo_name *repo, const struct tag *t,
                    struct berr *err)
{
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    int64_t repo_id = 0;
    int rc;

    rc = meta_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = repo_id_or_unknown(c, repo, &repo_id, err);
    if (rc == 0)
        rc = meta_stmt(&st, c, META_Q_TAG_DELETE, SQL_TAG_DELETE, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 1, repo_id, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 2, t->s, strnlen(t->s, sizeof(t->s)), err);
    if (rc == 0)
        rc = meta_exec(c, st, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = berr_set(err, BERR_MANIFEST_UNKNOWN, "tag unknown");
    return meta_write_end(c, rc, err);
}

/* ---- lists ---- */

static int tags_query(sqlite3_stmt **out, struct meta_conn *c, const void *q, const char *after,
                      int64_t limit, struct berr *err)
{
    const int64_t *repo_id = q;
    int rc;

    rc = meta_stmt(out, c, META_Q_TAGS_PAGE, SQL_TAGS_PAGE, err);
    if (rc == 0)
        rc = meta_bind_i64(c, *out, 1, *repo_id, err);
    if (rc == 0)
        rc = meta_bind_text(c, *out, 2, after, strlen(after), err);
    if (rc == 0)
        rc = meta_bind_i64(c, *out, 3, limit, err);
    return rc;
}

int meta_tags_list(struct meta *m, const struct repo_name *repo, const char *last, unsigned n,
                   meta_str_fn fn, void *ctx, bool *more, struct berr *err)
{
    int64_t repo_id;
    int rc;

    *more = false;
    rc = meta_repo_lookup(m, repo, &repo_id, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return berr_set(err, BERR_NAME_UNKNOWN, "repository name not known to registry");
    return meta_page_strings(m, tags_query, &repo_id, last, n, fn, ctx, more, err);
}

static int catalog_query(sqlite3_stmt **out, struct meta_conn *c, const void *q, const char *after,
                         int64_t limit, struct berr *err)
{
    int rc;

    (void)q;
    rc = meta_stmt(out, c, META_Q_CATALOG_PAGE, SQL_CATALOG_PAGE, err);
    if (rc == 0)
        rc = meta_bind_text(c, *out, 1, after, strlen(after), err);
    if (rc == 0)
        rc = meta_bind_i64(c, *out, 2, limit, err);
    return rc;
}

int meta_catalog(struct meta *m, const char *last, unsigned n, meta_str_fn fn, void *ctx,
                 bool *more, struct berr *err)
{
    *more = false;
    return meta_page_strings(m, catalog_query, NULL, last, n, fn, ctx, more, err);
}

/* ---- referrers ---- */

struct ref_row {
    struct digest digest;
    char media_type[META_MEDIA_TYPE_MAX + 1];
    char artifact_type[META_MEDIA_TYPE_MAX + 1];
    uint64_t size;
    char *annotations; /* new, or NULL */
};

struct ref_batch {
    unsigned n;
    struct ref_row r[META_REF_BATCH];
};

static void ref_batch_clear(struct ref_batch *b)
{
    unsigned i;

    for (i = 0; i < b->n; i++) {
        mem_free(b->r[i].annotations);
        b->r[i].annotations = NULL;
    }
    b->n = 0;
}

static int ref_row_read(struct meta_conn *c, sqlite3_stmt *st, struct ref_row *r, struct berr *err)
{
    const unsigned char *ann;
    sqlite3_int64 size;

    r->annotations = NULL;
    if (meta_col_digest(c, st, 0, &r->digest, err) < 0 ||
        meta_col_text(c, st, 1, r->media_type, sizeof(r->media_type), err) < 0 ||
        meta_col_text(c, st, 3, r->artifact_type, sizeof(r->artifact_type), err) < 0)
        return -1;
    size = sqlite3_column_int64(st, 2);
    r->size = size > 0 ? (uint64_t)size : 0;
    if (sqlite3_column_type(st, 4) == SQLITE_NULL)
        return 0;
    ann = sqlite3_column_text(st, 4);
    if (ann == NULL)
        return meta_fail(c, "column", err);
    r->annotations = mem_strndup((const char *)ann, (size_t)sqlite3_column_bytes(st, 4));
    if (r->annotations == NULL)
        return berr_sys(err, ENOMEM, "meta: referrer annotations");
    return 0;
}

/* ref_fetch fills b with the next referrers after digest `after` ("" = from the start) */
static int ref_fetch(struct meta *m, const struct repo_name *repo, const char *subject,
                     const char *artifact_type, const char *after, struct ref_batch *b,
                     bool *found_repo, struct berr *err)
{
    struct meta_conn *c = meta_conn_get(m);
    sqlite3_stmt *st = NULL;
    int64_t repo_id = 0;
    int rc;

    rc = meta_repo_id(c, repo, &repo_id, err);
    *found_repo = rc == 1;
    if (rc <= 0)
        goto out;
    rc = meta_stmt(&st, c, META_Q_REFERRERS_PAGE, SQL_REFERRERS_PAGE, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 1, subject, DIGEST_STR_LEN, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 2, repo_id, err);
    if (rc == 0)
        rc = meta_bind_text(c, st, 3, after, strlen(after), err);
    if (rc == 0)
        rc = artifact_type != NULL
                     ? meta_bind_text(c, st, 4, artifact_type, strlen(artifact_type), err)
                     : meta_bind_null(c, st, 4, err);
    if (rc == 0)
        rc = meta_bind_i64(c, st, 5, META_REF_BATCH, err);
    while (rc == 0) {
        rc = meta_step(c, st, err);
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
        (void)sqlite3_reset(st); /* errors were reported by meta_step */
out:
    meta_conn_put(c);
    return rc < 0 ? -1 : 0;
}

int meta_referrers(struct meta *m, const struct repo_name *repo, const struct digest *d,
                   const char *artifact_type, meta_referrer_fn fn, void *ctx, struct berr *err)
{
    char subject[DIGEST_STR_LEN + 1];
    char after[DIGEST_STR_LEN + 1] = "";
    struct meta_referrer r;
    struct ref_batch *b;
    bool found_repo;
    unsigned i;
    int rc = 0;

    b = mem_calloc(1, sizeof(*b));
    if (b == NULL)
        return berr_sys(err, ENOMEM, "meta: referrer batch");
    digest_format(d, subject, sizeof(subject));
    for (;;) {
        rc = ref_fetch(m, repo, subject, artifact_type, after, b, &found_repo, err);
        if (rc < 0)
            break;
        if (!found_repo) {
            rc = berr_set(err, BERR_NAME_UNKNOWN, "repository name not known to registry");
            break;
        }
        for (i = 0; i < b->n; i++) {
            r.digest = b->r[i].digest;
            r.media_type = b->r[i].media_type;
            r.size = b->r[i].size;
            r.artifact_type = b->r[i].artifact_type;
            r.annotations_json = b->r[i].annotations;
            rc = fn(&r, ctx);
            if (rc != 0)
                goto out;
        }
        if (b->n < META_REF_BATCH)
            break;
        digest_format(&b->r[b->n - 1].digest, after, sizeof(after));
        ref_batch_clear(b);
    }
out:
    ref_batch_clear(b);
    mem_free(b);
    return rc;
}
