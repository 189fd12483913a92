/* pg_manifest.c - manifests in PostgreSQL: put, resolve, delete, tags, referrers, the catalog,
 * and artifacts (manifests as the management API lists them). The PostgreSQL twin of
 * sqlite_manifest.c.
 *
 * Concurrency (several replicas on one database, READ COMMITTED): every write here (manifest
 * put and delete, tag delete and create) starts by locking the repository's row FOR NO KEY
 * UPDATE (pg_repo_ensure / pg_repo_lock, or by id for tag create), and does its checks after
 * the lock. So the writers of one repository run one after the other on every replica, as under
 * SQLite's write lock: a put's check that its blobs and children are in the repository, its
 * manifest row and its tag moves form one step no delete of the same repository can enter;
 * a tag always points at a manifest row of its own repository (and the foreign key, ON DELETE
 * CASCADE, removes it with the manifest); a tag moved by two pushes ends on the one that
 * committed last, never nowhere. We chose row locks over SERIALIZABLE: the conflicts are
 * all about one repository, and SERIALIZABLE would abort unrelated pushes. The transactions
 * only touch the database, so they run in pg_tx_run and are retried on deadlock (lock order:
 * repository row, then the digest lock of the manifest's own blob row, pg_blob.c). The only
 * write without the lock is tag detach: one DELETE whose condition (the tag still points at
 * the artifact) PostgreSQL re-checks on the row it waited for.
 *
 * Invariants (as sqlite_manifest.c's):
 *   1. A manifest row exists only if, in the transaction that inserted it, every blob it lists
 *      could be served by its repository and every child was a manifest of its repository.
 *   2. The manifest's own digest has a blob row and a repo_blobs link from the same transaction;
 *      meta_manifest_delete removes that link.
 *   3. A tag points at exactly one manifest of its own repository; tag_put is its one INSERT.
 *   4. Resolving a reference is one indexed SELECT without a transaction; only a miss costs a
 *      second query to tell NAME_UNKNOWN from MANIFEST_UNKNOWN.
 *   5. Artifact lists use one definition of a top-level artifact (PG_ART_TOP) for count and
 *      page alike. Index children keep their manifest order (manifest_children.id).
 * Calls pg.c, pg_repo.c, pg_blob.c and meta_walk.c only. Thread-safe: every call borrows its
 * own connection; list callbacks run with none held. */
#include "storage/pg_int.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/meta_walk.h"

static const char SQL_MANIFEST_ID[] = "SELECT id FROM manifests WHERE repo_id = $1 AND digest = $2";
static const char SQL_MANIFEST_INSERT[] =
        "INSERT INTO manifests(repo_id, digest, media_type, size, artifact_type, subject_digest,"
        " annotations, pushed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (repo_id, digest) DO NOTHING RETURNING id";
static const char SQL_MANIFEST_BLOB_INSERT[] =
        "INSERT INTO manifest_blobs(manifest_id, digest, repo_id) VALUES ($1, $2, $3)"
        " ON CONFLICT (manifest_id, digest) DO NOTHING";
static const char SQL_MANIFEST_CHILD_INSERT[] =
        "INSERT INTO manifest_children(parent_id, child_digest, media_type, size, os, arch,"
        " variant) VALUES ($1, $2, $3, $4, $5, $6, $7)";
/* the one INSERT of a tag: $5 true moves an existing tag (push), false leaves it (tag create) */
static const char SQL_TAG_UPSERT[] =
        "INSERT INTO tags(repo_id, name, manifest_id, pushed_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (repo_id, name) DO UPDATE SET manifest_id = excluded.manifest_id,"
        " pushed_at = excluded.pushed_at"
        " WHERE $5::boolean AND tags.manifest_id <> excluded.manifest_id";
static const char SQL_REPO_TOUCH[] = "UPDATE repositories SET updated_at = $2 WHERE id = $1";
static const char SQL_REPO_PUSHED[] =
        "UPDATE repositories SET push_count = push_count + 1 WHERE id = $1";
static const char SQL_RESOLVE_TAG[] =
        "SELECT m.digest, m.media_type, m.size, m.pushed_at, false FROM repositories r"
        " JOIN tags t ON t.repo_id = r.id AND t.name = $2"
        " JOIN manifests m ON m.id = t.manifest_id WHERE r.name = $1";
static const char SQL_RESOLVE_DIGEST[] =
        "SELECT m.digest, m.media_type, m.size, m.pushed_at,"
        " EXISTS (SELECT 1 FROM manifest_children mc JOIN manifests pm ON pm.id = mc.parent_id"
        " WHERE mc.child_digest = m.digest AND pm.repo_id = r.id) FROM repositories r"
        " JOIN manifests m ON m.repo_id = r.id AND m.digest = $2 WHERE r.name = $1";
static const char SQL_MANIFEST_DELETE[] =
        "DELETE FROM manifests WHERE repo_id = $1 AND digest = $2";
static const char SQL_REPO_BLOB_UNLINK[] =
        "DELETE FROM repo_blobs WHERE repo_id = $1 AND digest = $2";
static const char SQL_TAG_DELETE[] = "DELETE FROM tags WHERE repo_id = $1 AND name = $2";
static const char SQL_TAGS_PAGE[] =
        "SELECT name FROM tags WHERE repo_id = $1 AND name > $2 ORDER BY name LIMIT $3";
static const char SQL_CATALOG_PAGE[] =
        "SELECT r.name FROM repositories r WHERE r.name > $1 AND" PG_REPO_HAS_CONTENT
        " ORDER BY r.name LIMIT $2";
static const char SQL_REFERRERS_PAGE[] =
        "SELECT digest, media_type, size, artifact_type, annotations FROM manifests"
        " WHERE subject_digest = $1 AND repo_id = $2 AND digest > $3"
        " AND ($4::text IS NULL OR artifact_type = $4::text) ORDER BY digest LIMIT $5";

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
    for (size_t i = 0; i < in->nchildren; i++)
        if (in->children[i].size > INT64_MAX)
            return berr_set(err, BERR_SIZE_INVALID, "manifest entry too large");
    return 0;
}

/* manifest_id: 1 and *id when d is a manifest of repo_id, 0 when not, -1 on failure */
static int manifest_id(struct pg_conn *c, int64_t repo_id, const struct digest *d, int64_t *id,
                       struct berr *err)
{
    struct pg_params p;

    pg_params_init(&p);
    pg_p_i64(&p, repo_id);
    pg_p_digest(&p, d);
    return pg_run_i64(c, PG_Q_MANIFEST_ID, SQL_MANIFEST_ID, &p, id, err);
}

static int check_refs(struct pg_conn *c, int64_t repo_id, const struct meta_manifest_in *in,
                      struct berr *err)
{
    char dstr[DIGEST_STR_LEN + 1];
    int64_t id;
    size_t i;
    int rc;

    for (i = 0; i < in->nblobs; i++) {
        rc = pg_blob_linked_id(c, repo_id, &in->blobs[i], err);
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

/* child_insert records index entry ch of manifest id (inserted in manifest order) */
static int child_insert(struct pg_conn *c, int64_t id, const struct meta_child *ch,
                        struct berr *err)
{
    char media_type[META_MEDIA_TYPE_MAX + 1];
    char os[sizeof(ch->os) + 1];
    char arch[sizeof(ch->arch) + 1];
    char variant[sizeof(ch->variant) + 1];
    struct pg_params p;

    /* the fields are fixed arrays, not necessarily terminated when full */
    (void)snprintf(media_type, sizeof(media_type), "%.*s", (int)sizeof(ch->media_type),
                   ch->media_type);
    (void)snprintf(os, sizeof(os), "%.*s", (int)sizeof(ch->os), ch->os);
    (void)snprintf(arch, sizeof(arch), "%.*s", (int)sizeof(ch->arch), ch->arch);
    (void)snprintf(variant, sizeof(variant), "%.*s", (int)sizeof(ch->variant), ch->variant);
    pg_params_init(&p);
    pg_p_i64(&p, id);
    pg_p_digest(&p, &ch->digest);
    pg_p_text(&p, media_type);
    pg_p_i64(&p, (int64_t)ch->size);
    pg_p_text(&p, os);
    pg_p_text(&p, arch);
    pg_p_text(&p, variant);
    return pg_run(NULL, c, PG_Q_MANIFEST_CHILD_INSERT, SQL_MANIFEST_CHILD_INSERT, &p, err) < 0 ? -1
                                                                                               : 0;
}

/* manifest_insert: the row (kept if present) and, when new, its references; *id either way */
static int manifest_insert(struct pg_conn *c, int64_t repo_id, const struct meta_manifest_in *in,
                           int64_t now, int64_t *id, struct berr *err)
{
    struct pg_params p;
    size_t i;
    int rc;

    pg_params_init(&p);
    pg_p_i64(&p, repo_id);
    pg_p_digest(&p, &in->digest);
    pg_p_text(&p, in->media_type);
    pg_p_i64(&p, (int64_t)in->size);
    pg_p_text(&p, in->artifact_type != NULL ? in->artifact_type : "");
    if (in->subject != NULL)
        pg_p_digest(&p, in->subject);
    else
        pg_p_null(&p);
    pg_p_text(&p, in->annotations_json);
    pg_p_i64(&p, now);
    rc = pg_run_i64(c, PG_Q_MANIFEST_INSERT, SQL_MANIFEST_INSERT, &p, id, err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        rc = manifest_id(c, repo_id, &in->digest, id, err);
        if (rc <= 0) {
            if (rc == 0) {
                log_msg(LOG_ERROR, "meta: manifest vanished inside its transaction");
                (void)berr_set(err, BERR_INTERNAL, "internal error");
            }
            return -1;
        }
        return 0; /* kept: its references were recorded when it was first put */
    }
    for (i = 0; i < in->nblobs; i++) {
        pg_params_init(&p);
        pg_p_i64(&p, *id);
        pg_p_digest(&p, &in->blobs[i]);
        pg_p_i64(&p, repo_id);
        if (pg_run(NULL, c, PG_Q_MANIFEST_BLOB_INSERT, SQL_MANIFEST_BLOB_INSERT, &p, err) < 0)
            return -1;
    }
    for (i = 0; i < in->nchildren; i++)
        if (child_insert(c, *id, &in->children[i], err) < 0)
            return -1;
    return 0;
}

/* tag_put points tag name of repo_id at manifest mid (the one INSERT of a tag). move: an existing
 * tag is moved; otherwise it stays and *written is false. */
static int tag_put(struct pg_conn *c, int64_t repo_id, const char *name, int64_t mid, int64_t now,
                   bool move, bool *written, struct berr *err)
{
    struct pg_params p;
    int rc;

    *written = false;
    pg_params_init(&p);
    pg_p_i64(&p, repo_id);
    pg_p_text(&p, name);
    pg_p_i64(&p, mid);
    pg_p_i64(&p, now);
    pg_p_bool(&p, move);
    rc = pg_run(NULL, c, PG_Q_TAG_UPSERT, SQL_TAG_UPSERT, &p, err);
    if (rc < 0)
        return -1;
    *written = rc > 0;
    return 0;
}

static int repo_touch(struct pg_conn *c, int64_t repo_id, int64_t now, struct berr *err)
{
    struct pg_params p;

    pg_params_init(&p);
    pg_p_i64(&p, repo_id);
    pg_p_i64(&p, now);
    return pg_run(NULL, c, PG_Q_REPO_TOUCH, SQL_REPO_TOUCH, &p, err) < 0 ? -1 : 0;
}

static int tags_set(struct pg_conn *c, int64_t repo_id, int64_t mid,
                    const struct meta_manifest_in *in, int64_t now, struct berr *err)
{
    char name[TAG_MAX + 1];
    bool written;
    size_t i;

    for (i = 0; i < in->ntags; i++) {
        (void)snprintf(name, sizeof(name), "%.*s", (int)sizeof(in->tags[i].s), in->tags[i].s);
        if (tag_put(c, repo_id, name, mid, now, true, &written, err) < 0)
            return -1;
    }
    return repo_touch(c, repo_id, now, err);
}

static int count_push(struct pg_conn *c, int64_t repo_id, struct berr *err)
{
    struct pg_params p;

    pg_params_init(&p);
    pg_p_i64(&p, repo_id);
    return pg_run(NULL, c, PG_Q_NONE, SQL_REPO_PUSHED, &p, err) < 0 ? -1 : 0;
}

struct put_ctx {
    const struct repo_name *repo;
    const struct meta_manifest_in *in;
    int64_t now;
};

static int manifest_put_tx(struct pg_conn *c, void *ctx, struct berr *err)
{
    const struct put_ctx *pc = ctx;
    int64_t repo_id = 0;
    int64_t mid = 0;
    int rc;

    rc = pg_repo_ensure(c, pc->repo, &repo_id, err);
    if (rc == 0)
        rc = check_refs(c, repo_id, pc->in, err);
    if (rc == 0)
        rc = pg_blob_insert_link(c, repo_id, &pc->in->digest, pc->in->size, err);
    if (rc == 0)
        rc = manifest_insert(c, repo_id, pc->in, pc->now, &mid, err);
    if (rc == 0)
        rc = tags_set(c, repo_id, mid, pc->in, pc->now, err);
    if (rc == 0)
        rc = count_push(c, repo_id, err);
    return rc;
}

static int pg_manifest_put(struct meta *m, const struct repo_name *repo,
                           const struct meta_manifest_in *in, struct berr *err)
{
    struct put_ctx pc = {repo, in, now_s()};

    if (check_input(in, err) < 0)
        return -1;
    return pg_tx_run(m, manifest_put_tx, &pc, err);
}

/* ---- resolve, delete ---- */

static int pg_manifest_resolve(struct meta *m, const struct repo_name *repo,
                               const struct reference *ref, struct meta_manifest *out,
                               struct berr *err)
{
    char tag[TAG_MAX + 1];
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    int64_t size, repo_id;
    int rc;

    memset(out, 0, sizeof(*out));
    pg_params_init(&p);
    pg_p_repo(&p, repo);
    if (ref->is_digest) {
        pg_p_digest(&p, &ref->digest);
    } else {
        (void)snprintf(tag, sizeof(tag), "%.*s", (int)sizeof(ref->tag.s), ref->tag.s);
        pg_p_text(&p, tag);
    }
    c = pg_conn_get(m);
    if (ref->is_digest)
        rc = pg_run(&r, c, PG_Q_RESOLVE_DIGEST, SQL_RESOLVE_DIGEST, &p, err);
    else
        rc = pg_run(&r, c, PG_Q_RESOLVE_TAG, SQL_RESOLVE_TAG, &p, err);
    if (rc > 0) {
        rc = pg_digest(r, 0, 0, &out->digest, err);
        if (rc == 0)
            rc = pg_text(r, 0, 1, out->media_type, sizeof(out->media_type), err);
        size = pg_i64(r, 0, 2);
        out->size = size > 0 ? (uint64_t)size : 0;
        out->pushed_at = pg_i64(r, 0, 3);
        out->is_child = pg_bool(r, 0, 4);
    } else if (rc == 0) {
        rc = pg_repo_id(c, repo, &repo_id, err);
        if (rc == 0)
            rc = berr_set(err, BERR_NAME_UNKNOWN, "repository name not known to registry");
        else if (rc == 1)
            rc = berr_set(err, BERR_MANIFEST_UNKNOWN, "manifest unknown");
    }
    pg_res_free(r);
    pg_conn_put(c);
    if (rc < 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    return 0;
}

/* repo_lock_or_unknown (in a transaction): lock the repository's row; 0 and *id, or
 * BERR_NAME_UNKNOWN */
static int repo_lock_or_unknown(struct pg_conn *c, const struct repo_name *repo, int64_t *id,
                                struct berr *err)
{
    int rc = pg_repo_lock(c, repo, id, err);

    if (rc == 0)
        return berr_set(err, BERR_NAME_UNKNOWN, "repository name not known to registry");
    return rc < 0 ? -1 : 0;
}

struct delete_ctx {
    const struct repo_name *repo;
    const struct digest *d;
    const struct tag *t;
};

static int manifest_delete_tx(struct pg_conn *c, void *ctx, struct berr *err)
{
    const struct delete_ctx *dc = ctx;
    struct pg_params p;
    int64_t repo_id = 0;
    int rc;

    if (repo_lock_or_unknown(c, dc->repo, &repo_id, err) < 0)
        return -1;
    pg_params_init(&p);
    pg_p_i64(&p, repo_id);
    pg_p_digest(&p, dc->d);
    rc = pg_run(NULL, c, PG_Q_MANIFEST_DELETE, SQL_MANIFEST_DELETE, &p, err);
    if (rc == 0)
        return berr_set(err, BERR_MANIFEST_UNKNOWN, "manifest unknown");
    if (rc < 0)
        return -1;
    /* invariant 2: the link meta_manifest_put made for the manifest's own digest */
    return pg_run(NULL, c, PG_Q_MANIFEST_UNLINK, SQL_REPO_BLOB_UNLINK, &p, err) < 0 ? -1 : 0;
}

static int pg_manifest_delete(struct meta *m, const struct repo_name *repo, const struct digest *d,
                              struct berr *err)
{
    struct delete_ctx dc = {repo, d, NULL};

    return pg_tx_run(m, manifest_delete_tx, &dc, err);
}

static int tag_delete_tx(struct pg_conn *c, void *ctx, struct berr *err)
{
    const struct delete_ctx *dc = ctx;
    char name[TAG_MAX + 1];
    struct pg_params p;
    int64_t repo_id = 0;
    int rc;

    if (repo_lock_or_unknown(c, dc->repo, &repo_id, err) < 0)
        return -1;
    (void)snprintf(name, sizeof(name), "%.*s", (int)sizeof(dc->t->s), dc->t->s);
    pg_params_init(&p);
    pg_p_i64(&p, repo_id);
    pg_p_text(&p, name);
    rc = pg_run(NULL, c, PG_Q_TAG_DELETE, SQL_TAG_DELETE, &p, err);
    if (rc == 0)
        return berr_set(err, BERR_MANIFEST_UNKNOWN, "tag unknown");
    return rc < 0 ? -1 : 0;
}

static int pg_tag_delete(struct meta *m, const struct repo_name *repo, const struct tag *t,
                         struct berr *err)
{
    struct delete_ctx dc = {repo, NULL, t};

    return pg_tx_run(m, tag_delete_tx, &dc, err);
}

/* ---- lists ---- */

static int tags_query(struct pg_params *p, const char **sql, enum pg_q *slot, const void *q,
                      const char *after, int64_t limit, struct berr *err)
{
    (void)err;
    *sql = SQL_TAGS_PAGE;
    *slot = PG_Q_TAGS_PAGE;
    pg_p_i64(p, *(const int64_t *)q);
    pg_p_text(p, after);
    pg_p_i64(p, limit);
    return 0;
}

static int pg_tags_list(struct meta *m, const struct repo_name *repo, const char *last, unsigned n,
                        meta_str_fn fn, void *ctx, bool *more, struct berr *err)
{
    int64_t repo_id;
    int rc;

    *more = false;
    rc = pg_repo_lookup(m, repo, &repo_id, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return berr_set(err, BERR_NAME_UNKNOWN, "repository name not known to registry");
    return pg_page_strings(m, tags_query, &repo_id, last, n, fn, ctx, more, err);
}

static int catalog_query(struct pg_params *p, const char **sql, enum pg_q *slot, const void *q,
                         const char *after, int64_t limit, struct berr *err)
{
    (void)q;
    (void)err;
    *sql = SQL_CATALOG_PAGE;
    *slot = PG_Q_CATALOG_PAGE;
    pg_p_text(p, after);
    pg_p_i64(p, limit);
    return 0;
}

static int pg_catalog(struct meta *m, const char *last, unsigned n, meta_str_fn fn, void *ctx,
                      bool *more, struct berr *err)
{
    *more = false;
    return pg_page_strings(m, catalog_query, NULL, last, n, fn, ctx, more, err);
}

/* ---- referrers ---- */

static int ref_row_read(const PGresult *r, int row, struct meta_ref_row *rr, struct berr *err)
{
    int64_t size;

    rr->annotations = NULL;
    if (pg_digest(r, row, 0, &rr->digest, err) < 0 ||
        pg_text(r, row, 1, rr->media_type, sizeof(rr->media_type), err) < 0 ||
        pg_text(r, row, 3, rr->artifact_type, sizeof(rr->artifact_type), err) < 0)
        return -1;
    size = pg_i64(r, row, 2);
    rr->size = size > 0 ? (uint64_t)size : 0;
    if (pg_is_null(r, row, 4))
        return 0;
    rr->annotations = mem_strndup(PQgetvalue(r, row, 4), (size_t)PQgetlength(r, row, 4));
    if (rr->annotations == NULL)
        return berr_sys(err, ENOMEM, "meta: referrer annotations");
    return 0;
}

/* ref_fetch fills b with the next referrers after digest `after` ("" = from the start) */
static int ref_fetch(struct meta *m, const struct repo_name *repo, const char *subject,
                     const char *artifact_type, const char *after, struct meta_ref_batch *b,
                     bool *found_repo, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c = pg_conn_get(m);
    PGresult *r = NULL;
    int64_t repo_id = 0;
    int rows;
    int rc;

    rc = pg_repo_id(c, repo, &repo_id, err);
    *found_repo = rc == 1;
    if (rc <= 0)
        goto out;
    pg_params_init(&p);
    pg_p_text(&p, subject);
    pg_p_i64(&p, repo_id);
    pg_p_text(&p, after);
    pg_p_text(&p, artifact_type);
    pg_p_i64(&p, META_REF_BATCH);
    rows = pg_run(&r, c, PG_Q_REFERRERS_PAGE, SQL_REFERRERS_PAGE, &p, err);
    rc = rows < 0 ? -1 : 0;
    for (int i = 0; rc == 0 && i < rows && b->n < META_REF_BATCH; i++) {
        rc = ref_row_read(r, i, &b->r[b->n], err);
        if (rc < 0) {
            mem_free(b->r[b->n].annotations);
            b->r[b->n].annotations = NULL;
            break;
        }
        b->n++;
    }
    pg_res_free(r);
out:
    pg_conn_put(c);
    return rc < 0 ? -1 : 0;
}

static int pg_referrers(struct meta *m, const struct repo_name *repo, const struct digest *d,
                        const char *artifact_type, meta_referrer_fn fn, void *ctx, struct berr *err)
{
    return meta_ref_walk(m, repo, d, artifact_type, ref_fetch, fn, ctx, err);
}

/* ---- artifacts: the management API's view ---- */

#define ART_COLS                                                                                   \
    "SELECT m.id, m.repo_id, r.project_id, r.name, m.digest, m.media_type, m.artifact_type,"       \
    " m.size, " PG_ART_SIZE ", m.pushed_at, COALESCE(m.pull_time, 0), m.pull_count,"               \
    " EXISTS (SELECT 1 FROM manifest_children ic WHERE ic.parent_id = m.id)"                       \
    " FROM manifests m JOIN repositories r ON r.id = m.repo_id"

/* $1 repository, $2 project, $3 tagged, $4 tag, $5 tag fuzzy, $6 digest */
#define ART_WHERE                                                                                  \
    " WHERE ($1::bigint <= 0 OR m.repo_id = $1::bigint)"                                           \
    " AND ($2::bigint <= 0 OR r.project_id = $2::bigint) AND" PG_ART_TOP(                          \
            "m") " AND ($3::bigint < 0 OR ($3::bigint = 1) = EXISTS (SELECT 1 FROM tags t"         \
                 " WHERE t.manifest_id = m.id))"                                                   \
                 " AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id ="    \
                 " m.id AND CASE WHEN $5::boolean THEN strpos(t.name, $4::text) > 0"               \
                 " ELSE t.name = $4::text END))"                                                   \
                 " AND ($6::text IS NULL OR m.digest = $6::text)"

static const char SQL_ART_COUNT[] =
        "SELECT COUNT(*) FROM manifests m JOIN repositories r ON r.id = m.repo_id" ART_WHERE;
/* $7 sort, $8 limit, $9 offset; a NULL pull time sorts as SQLite sorts it: first ascending */
static const char SQL_ART_PAGE[] =
        ART_COLS ART_WHERE " ORDER BY"
                           " CASE $7::text WHEN 'push_time' THEN m.pushed_at END ASC,"
                           " CASE $7::text WHEN '-push_time' THEN m.pushed_at END DESC,"
                           " CASE $7::text WHEN 'pull_time' THEN m.pull_time END ASC NULLS FIRST,"
                           " CASE $7::text WHEN '-pull_time' THEN m.pull_time END DESC NULLS LAST,"
                           " CASE $7::text WHEN 'pull_count' THEN m.pull_count END ASC,"
                           " CASE $7::text WHEN '-pull_count' THEN m.pull_count END DESC,"
                           " CASE $7::text WHEN 'id' THEN m.id END ASC,"
                           " CASE WHEN $7::text IS NULL THEN m.pushed_at END DESC,"
                           " m.id DESC LIMIT $8 OFFSET $9";
static const char SQL_ART_GET[] = ART_COLS " WHERE m.repo_id = $1 AND m.digest = $2";

static const char *const art_sort_keys[] = {"push_time", "pull_time", "pull_count", "id", NULL};

static int art_read(const PGresult *r, int row, void *out, struct berr *err)
{
    struct meta_artifact *a = out;
    int64_t msize, size;

    memset(a, 0, sizeof(*a));
    a->id = pg_i64(r, row, 0);
    a->repo_id = pg_i64(r, row, 1);
    a->project_id = pg_i64(r, row, 2);
    msize = pg_i64(r, row, 7);
    size = pg_i64(r, row, 8);
    a->manifest_size = msize > 0 ? (uint64_t)msize : 0;
    a->size = size > 0 ? (uint64_t)size : 0;
    a->pushed_at = pg_i64(r, row, 9);
    a->pull_time = pg_i64(r, row, 10);
    a->pull_count = pg_i64(r, row, 11);
    a->is_index = pg_bool(r, row, 12);
    if (pg_text(r, row, 3, a->repo_name, sizeof(a->repo_name), err) < 0 ||
        pg_digest(r, row, 4, &a->digest, err) < 0 ||
        pg_text(r, row, 5, a->media_type, sizeof(a->media_type), err) < 0 ||
        pg_text(r, row, 6, a->artifact_type, sizeof(a->artifact_type), err) < 0)
        return -1;
    return 0;
}

static int art_bind(struct pg_params *p, const void *ctx, bool for_count, struct berr *err)
{
    const struct meta_artifact_q *q = ctx;

    (void)err;
    pg_p_i64(p, q->repo_id);
    pg_p_i64(p, q->project_id);
    pg_p_i64(p, q->tagged);
    pg_p_text(p, q->tag);
    pg_p_bool(p, q->tag_fuzzy);
    if (q->digest != NULL)
        pg_p_digest(p, q->digest);
    else
        pg_p_null(p);
    if (!for_count)
        pg_p_sort(p, q->l.sort);
    return 0;
}

static int pg_artifact_list(struct meta *m, const struct meta_artifact_q *q,
                            struct meta_artifact *out, size_t cap, size_t *n, int64_t *total,
                            struct berr *err)
{
    /* no sort_keys: the sort key is checked below, before the tag filter */
    static const struct pg_list l = {
            SQL_ART_COUNT, SQL_ART_PAGE, art_bind, art_read, sizeof(struct meta_artifact), NULL};

    *n = 0;
    *total = 0;
    if (q->repo_id <= 0 && q->project_id <= 0)
        return berr_set(err, BERR_BAD_REQUEST, "a repository or a project is required");
    if (!meta_ops_sort_ok(q->l.sort, art_sort_keys))
        return berr_set(err, BERR_BAD_REQUEST, "unknown sort key");
    if (q->tag != NULL && strlen(q->tag) > TAG_MAX)
        return berr_set(err, BERR_BAD_REQUEST, "tag filter is too long");
    return pg_list_run(m, &l, q, &q->l, out, cap, n, total, err);
}

static int pg_artifact_get(struct meta *m, int64_t repo_id, const struct digest *d,
                           struct meta_artifact *out, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    pg_params_init(&p);
    pg_p_i64(&p, repo_id);
    pg_p_digest(&p, d);
    c = pg_conn_get(m);
    rc = pg_run(&r, c, PG_Q_NONE, SQL_ART_GET, &p, err);
    pg_conn_put(c);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "artifact sha256:%s not found", d->hex);
    else if (rc > 0)
        rc = art_read(r, 0, out, err);
    pg_res_free(r);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? -1 : 0;
}

/* ---- tags and references ---- */

#define TAG_COLS                                                                                   \
    "SELECT repo_id, manifest_id, name, pushed_at, COALESCE(pull_time, 0), pull_count FROM tags"
/* $1 artifact, $2 name, $3 fuzzy */
#define TAG_WHERE                                                                                  \
    " WHERE manifest_id = $1 AND ($2::text IS NULL OR CASE WHEN $3::boolean"                       \
    " THEN strpos(name, $2::text) > 0 ELSE name = $2::text END)"
static const char SQL_TAG_COUNT[] = "SELECT COUNT(*) FROM tags" TAG_WHERE;
/* $4 sort, $5 limit, $6 offset */
static const char SQL_TAG_PAGE[] =
        TAG_COLS TAG_WHERE " ORDER BY"
                           " CASE $4::text WHEN 'push_time' THEN pushed_at END ASC,"
                           " CASE $4::text WHEN '-push_time' THEN pushed_at END DESC,"
                           " CASE $4::text WHEN 'pull_time' THEN pull_time END ASC NULLS FIRST,"
                           " CASE $4::text WHEN '-pull_time' THEN pull_time END DESC NULLS LAST,"
                           " CASE $4::text WHEN '-name' THEN name END DESC,"
                           " name ASC LIMIT $5 OFFSET $6";

static const char *const tag_sort_keys[] = {"name", "push_time", "pull_time", NULL};

struct tag_bind_ctx {
    int64_t artifact_id;
    const struct meta_list_q *q;
};

static int tag_bind(struct pg_params *p, const void *ctx, bool for_count, struct berr *err)
{
    const struct tag_bind_ctx *tc = ctx;

    (void)err;
    pg_p_i64(p, tc->artifact_id);
    pg_p_name(p, tc->q);
    if (!for_count)
        pg_p_sort(p, tc->q->sort);
    return 0;
}

static int tag_read(const PGresult *r, int row, void *out, struct berr *err)
{
    struct meta_tag_info *t = out;

    memset(t, 0, sizeof(*t));
    t->repo_id = pg_i64(r, row, 0);
    t->artifact_id = pg_i64(r, row, 1);
    t->pushed_at = pg_i64(r, row, 3);
    t->pull_time = pg_i64(r, row, 4);
    t->pull_count = pg_i64(r, row, 5);
    return pg_text(r, row, 2, t->name, sizeof(t->name), err);
}

static int pg_artifact_tags(struct meta *m, int64_t artifact_id, const struct meta_list_q *q,
                            struct meta_tag_info *out, size_t cap, size_t *n, int64_t *total,
                            struct berr *err)
{
    static const struct pg_list l = {
            SQL_TAG_COUNT, SQL_TAG_PAGE, tag_bind, tag_read, sizeof(struct meta_tag_info),
            tag_sort_keys};
    struct tag_bind_ctx tc = {artifact_id, q};

    return pg_list_run(m, &l, &tc, q, out, cap, n, total, err);
}

static const char SQL_REFS[] =
        "SELECT mc.child_digest, COALESCE(cm.id, 0), mc.media_type, mc.size, mc.os, mc.arch,"
        " mc.variant FROM manifest_children mc JOIN manifests pm ON pm.id = mc.parent_id"
        " LEFT JOIN manifests cm ON cm.repo_id = pm.repo_id AND cm.digest = mc.child_digest"
        " WHERE mc.parent_id = $1 ORDER BY mc.id LIMIT $2";

static int pg_artifact_refs(struct meta *m, int64_t artifact_id, struct meta_artifact_ref *out,
                            size_t cap, size_t *n, struct berr *err)
{
    struct meta_artifact_ref *ar;
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    int64_t size;
    int rows;
    int rc;

    *n = 0;
    pg_params_init(&p);
    pg_p_i64(&p, artifact_id);
    pg_p_i64(&p, cap > INT64_MAX ? INT64_MAX : (int64_t)cap);
    c = pg_conn_get(m);
    rows = pg_run(&r, c, PG_Q_NONE, SQL_REFS, &p, err);
    pg_conn_put(c);
    rc = rows < 0 ? -1 : 0;
    for (int i = 0; rc == 0 && i < rows && *n < cap; i++) {
        ar = &out[*n];
        memset(ar, 0, sizeof(*ar));
        ar->child_id = pg_i64(r, i, 1);
        size = pg_i64(r, i, 3);
        ar->size = size > 0 ? (uint64_t)size : 0;
        rc = pg_digest(r, i, 0, &ar->child, err);
        if (rc == 0)
            rc = pg_text(r, i, 2, ar->media_type, sizeof(ar->media_type), err);
        if (rc == 0)
            rc = pg_text(r, i, 4, ar->os, sizeof(ar->os), err);
        if (rc == 0)
            rc = pg_text(r, i, 5, ar->arch, sizeof(ar->arch), err);
        if (rc == 0)
            rc = pg_text(r, i, 6, ar->variant, sizeof(ar->variant), err);
        if (rc == 0)
            (*n)++;
    }
    pg_res_free(r);
    if (rc < 0) {
        *n = 0;
        return -1;
    }
    return 0;
}

static const char SQL_REPO_LOCK_ID[] = "SELECT 1 FROM repositories WHERE id = $1 FOR NO KEY UPDATE";
static const char SQL_ART_IN_REPO[] = "SELECT 1 FROM manifests WHERE id = $2 AND repo_id = $1";
static const char SQL_TAG_DETACH[] = "DELETE FROM tags WHERE manifest_id = $1 AND name = $2";

struct tag_create_ctx {
    int64_t repo_id;
    int64_t artifact_id;
    const struct tag *t;
};

static int tag_create_tx(struct pg_conn *c, void *ctx, struct berr *err)
{
    const struct tag_create_ctx *tc = ctx;
    struct pg_params p;
    int64_t now = now_s();
    bool written = false;
    int rc;

    pg_params_init(&p);
    pg_p_i64(&p, tc->repo_id);
    rc = pg_run_i64(c, PG_Q_NONE, SQL_REPO_LOCK_ID, &p, NULL, err);
    if (rc == 1) {
        pg_p_i64(&p, tc->artifact_id);
        rc = pg_run_i64(c, PG_Q_NONE, SQL_ART_IN_REPO, &p, NULL, err);
    }
    if (rc == 0)
        return berr_set(err, BERR_NOT_FOUND, "artifact not found");
    if (rc < 0)
        return -1;
    if (tag_put(c, tc->repo_id, tc->t->s, tc->artifact_id, now, false, &written, err) < 0)
        return -1;
    if (!written)
        return berr_set(err, BERR_CONFLICT, "tag %s already exists", tc->t->s);
    return repo_touch(c, tc->repo_id, now, err);
}

static int pg_tag_create(struct meta *m, int64_t repo_id, int64_t artifact_id, const struct tag *t,
                         struct berr *err)
{
    struct tag_create_ctx tc = {repo_id, artifact_id, t};

    return pg_tx_run(m, tag_create_tx, &tc, err);
}

static int pg_tag_detach(struct meta *m, int64_t artifact_id, const struct tag *t, struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    int rc;

    pg_params_init(&p);
    pg_p_i64(&p, artifact_id);
    pg_p_text(&p, t->s);
    rc = pg_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = pg_run(NULL, c, PG_Q_NONE, SQL_TAG_DETACH, &p, err);
    if (rc == 0)
        rc = berr_set(err, BERR_NOT_FOUND, "tag %s not found on the artifact", t->s);
    return pg_write_end(c, rc < 0 ? -1 : 0, err);
}

const struct meta_manifest_ops pg_manifest_ops = {
        .put = pg_manifest_put,
        .resolve = pg_manifest_resolve,
        .remove = pg_manifest_delete,
        .tag_delete = pg_tag_delete,
        .tags_list = pg_tags_list,
        .catalog = pg_catalog,
        .referrers = pg_referrers,
        .artifact_list = pg_artifact_list,
        .artifact_get = pg_artifact_get,
        .artifact_tags = pg_artifact_tags,
        .artifact_refs = pg_artifact_refs,
        .tag_create = pg_tag_create,
        .tag_detach = pg_tag_detach,
};
