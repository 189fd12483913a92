/* api_artifacts.c - /api/v2.0 artifacts and tags (Harbor's paths and field names):
 *   GET  /projects/{p}/repositories/{r}/artifacts               with_tag, q (tags=, digest=)
 *   GET|DELETE .../artifacts/{reference}                        tag or digest
 *   GET|POST   .../artifacts/{reference}/tags                   list, create ({"name":...})
 *   DELETE     .../artifacts/{reference}/tags/{tag}
 *   GET  /projects/{p}/artifacts                                recent, project-wide
 * Rows of routes.c: the router has found the project and checked the row's permission.
 * Artifacts carry Berth's pull_count next to Harbor's pull_time (Harbor lacks it: harbor#21664).
 *
 * Invariants:
 *   1. Reading needs only that the project is readable. Creating a tag needs push; deleting an
 *      artifact or a tag needs delete (projectAdmin, maintainer, sysadmin, robots granted
 *      delete): developers and guests get 403, anonymous callers 401. All checked by the router
 *      (routes.c, auth/rbac.c) before the handler runs.
 *   2. References and tags from the path are parsed (reference_parse, tag_parse) before any
 *      storage call; a malformed one is a 400, an unknown one a 404.
 *   3. Deleting by tag deletes the whole artifact, as Harbor.
 *   4. Pull counts and times are the database's plus the pulls still pending in memory
 *      (pulls_peek), read with no flush between the two (api_pulls_begin/steady, api_int.h).
 * extra_attrs (architecture, os, author, created) comes from the config blob, read (capped at
 * ATTR_MAX_BYTES) only for image manifests; a missing or odd config leaves it out.
 * Thread-safe: per-request state only. */
#include "api/api_content.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "storage/blob_store.h"
#include "storage/meta.h"
#include "storage/pulls.h"

#define ATTR_MAX_BYTES (256 * 1024) /* manifests and configs read for extra_attrs */
#define ART_TAGS_MAX 100            /* tags embedded in one artifact */
#define ART_REFS_MAX 256            /* children embedded in one index */

/* read_small reads a whole blob of at most ATTR_MAX_BYTES; *out new (mem_free) or NULL */
static int read_small(struct api_call *c, const struct digest *d, char **out, size_t *len)
{
    struct berr e;

    return blob_store_read_small(c->r->reg->blobs, d, ATTR_MAX_BYTES, out, len, &e);
}

/* config_info: the config descriptor of an image manifest and, from the config blob, the
 * extra_attrs object (architecture, os, variant, author, created). Either may stay NULL. */
static void config_info(struct api_call *c, const struct meta_artifact *a, char *cfg_mt, size_t cap,
                        json_t **attrs)
{
    static const char *const keys[] = {"architecture", "os", "variant", "author", "created", NULL};
    json_t *man = NULL, *conf = NULL, *v;
    const char *s;
    struct digest cd;
    struct berr e;
    char *data = NULL;
    size_t len;
    size_t i;

    cfg_mt[0] = '\0';
    *attrs = NULL;
    if (a->is_index || read_small(c, &a->digest, &data, &len) < 0)
        goto out;
    man = json_loadb(data, len, 0, NULL);
    mem_free(data);
    data = NULL;
    v = json_object_get(json_object_get(man, "config"), "mediaType");
    if (json_is_string(v) && json_string_length(v) < cap)
        memcpy(cfg_mt, json_string_value(v), json_string_length(v) + 1);
    v = json_object_get(json_object_get(man, "config"), "digest");
    if (!json_is_string(v) ||
        digest_parse(&cd, json_string_value(v), json_string_length(v), &e) < 0 ||
        read_small(c, &cd, &data, &len) < 0)
        goto out;
    conf = json_loadb(data, len, 0, NULL);
    if (!json_is_object(conf))
        goto out;
    *attrs = json_object();
    for (i = 0; *attrs != NULL && keys[i] != NULL; i++) {
        v = json_object_get(conf, keys[i]);
        s = json_string_value(v);
        if (s != NULL && json_object_set_new(*attrs, keys[i], json_string(s)) < 0) {
            json_decref(*attrs);
            *attrs = NULL;
        }
    }
out:
    mem_free(data);
    json_decref(man);
    json_decref(conf);
}

static bool is_image_config(const char *mt)
{
    return mt[0] == '\0' || strcmp(mt, "application/vnd.oci.image.config.v1+json") == 0 ||
           strcmp(mt, "application/vnd.docker.container.image.v1+json") == 0;
}

/* tag_id: tags have no row id (WITHOUT ROWID); a stable id from (repository id, name), kept
 * within JSON's exact integer range */
static int64_t tag_id(int64_t repo_id, const char *name)
{
    uint64_t h = 14695981039346656037ULL ^ (uint64_t)repo_id;

    for (; *name != '\0'; name++) {
        h ^= (unsigned char)*name;
        h *= 1099511628211ULL;
    }
    h &= (1ULL << 53) - 1;
    return h == 0 ? 1 : (int64_t)h;
}

/* pending: what pulls_peek adds to a's counts (tag t when not NULL); read-your-writes */
static void pending(const struct api_call *c, const struct meta_artifact *a, const char *t,
                    int64_t *count, int64_t *last)
{
    struct repo_name rn;
    struct tag tg;
    struct berr e;

    if (repo_name_parse(&rn, a->repo_name, strlen(a->repo_name), &e) < 0)
        return;
    if (t != NULL && tag_parse(&tg, t, strlen(t), &e) < 0)
        return;
    pulls_peek(c->r->reg->pulls, &rn, &a->digest, t != NULL ? &tg : NULL, count, last);
}

static json_t *tag_json(const struct api_call *c, const struct meta_artifact *a,
                        const struct meta_tag_info *t)
{
    json_t *j = json_object();
    bool ok = j != NULL;
    int64_t count = t->pull_count;
    int64_t last = t->pull_time;

    if (!ok)
        return NULL;
    pending(c, a, t->name, &count, &last);
    api_json_set(j, "id", json_integer(tag_id(t->repo_id, t->name)), &ok);
    api_json_set(j, "repository_id", json_integer(t->repo_id), &ok);
    api_json_set(j, "artifact_id", json_integer(t->artifact_id), &ok);
    api_json_set(j, "name", json_string(t->name), &ok);
    api_json_set(j, "push_time", api_time_json(t->pushed_at), &ok);
    api_json_set(j, "pull_time", api_time_json(last), &ok);
    api_json_set(j, "pull_count", json_integer(count), &ok);
    api_json_set(j, "immutable", json_false(), &ok);
    api_json_set(j, "signed", json_false(), &ok);
    if (!ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static json_t *tags_json(struct api_call *c, const struct meta_artifact *a, struct berr *e)
{
    struct meta_tag_info *rows = mem_calloc(ART_TAGS_MAX, sizeof(*rows));
    struct meta_list_q q;
    json_t *arr = json_array();
    int64_t total;
    size_t n = 0;
    size_t i;

    memset(&q, 0, sizeof(q));
    q.limit = ART_TAGS_MAX;
    if (rows == NULL || arr == NULL ||
        meta_artifact_tags(c->r->reg->meta, a->id, &q, rows, ART_TAGS_MAX, &n, &total, e) < 0) {
        json_decref(arr);
        arr = NULL;
    }
    for (i = 0; arr != NULL && i < n; i++)
        api_array_push(&arr, tag_json(c, a, &rows[i]));
    mem_free(rows);
    return arr;
}

static json_t *refs_json(struct api_call *c, const struct meta_artifact *a, struct berr *e)
{
    struct meta_artifact_ref *rows = mem_calloc(ART_REFS_MAX, sizeof(*rows));
    char dstr[DIGEST_STR_LEN + 1];
    json_t *arr = json_array();
    json_t *plat, *ref;
    size_t n = 0;
    size_t i;
    bool ok;

    if (rows == NULL || arr == NULL ||
        meta_artifact_refs(c->r->reg->meta, a->id, rows, ART_REFS_MAX, &n, e) < 0) {
        json_decref(arr);
        arr = NULL;
    }
    for (i = 0; arr != NULL && i < n; i++) {
        ok = true;
        plat = json_object();
        ref = json_object();
        if (plat == NULL || ref == NULL) {
            json_decref(plat);
            json_decref(ref);
            json_decref(arr);
            arr = NULL;
            break;
        }
        api_json_set(plat, "os", json_string(rows[i].os), &ok);
        api_json_set(plat, "architecture", json_string(rows[i].arch), &ok);
        if (rows[i].variant[0] != '\0')
            api_json_set(plat, "variant", json_string(rows[i].variant), &ok);
        digest_format(&rows[i].child, dstr, sizeof(dstr));
        api_json_set(ref, "parent_id", json_integer(a->id), &ok);
        api_json_set(ref, "child_id", json_integer(rows[i].child_id), &ok);
        api_json_set(ref, "child_digest", json_string(dstr), &ok);
        api_json_set(ref, "platform", plat, &ok);
        /* plat belongs to ref now (set_new takes it even when it fails) */
        if (!ok) {
            json_decref(ref);
            json_decref(arr);
            arr = NULL;
        } else if (json_array_append_new(arr, ref) < 0) { /* takes ref */
            json_decref(arr);
            arr = NULL;
        }
    }
    mem_free(rows);
    return arr;
}

static json_t *artifact_json(struct api_call *c, const struct meta_artifact *a, bool with_tags,
                             struct berr *e)
{
    char dstr[DIGEST_STR_LEN + 1];
    char cfg_mt[META_MEDIA_TYPE_MAX + 1];
    const char *type;
    const char *mt;
    json_t *attrs = NULL;
    json_t *j = json_object();
    bool ok = j != NULL;
    int64_t count = a->pull_count;
    int64_t last = a->pull_time;

    if (!ok)
        return NULL;
    config_info(c, a, cfg_mt, sizeof(cfg_mt), &attrs);
    if (a->is_index || is_image_config(a->artifact_type))
        type = "IMAGE";
    else if (strcmp(a->artifact_type, "application/vnd.cncf.helm.config.v1+json") == 0)
        type = "CHART";
    else
        type = a->artifact_type;
    /* Harbor: media_type is the config's for an image, the manifest's for an index */
    mt = a->is_index ? a->media_type
                     : (cfg_mt[0] != '\0'
                                ? cfg_mt
                                : (a->artifact_type[0] != '\0' ? a->artifact_type : a->media_type));
    digest_format(&a->digest, dstr, sizeof(dstr));
    api_json_set(j, "id", json_integer(a->id), &ok);
    api_json_set(j, "type", json_string(type), &ok);
    api_json_set(j, "media_type", json_string(mt), &ok);
    api_json_set(j, "manifest_media_type", json_string(a->media_type), &ok);
    api_json_set(j, "artifact_type", json_string(a->artifact_type), &ok);
    api_json_set(j, "project_id", json_integer(a->project_id), &ok);
    api_json_set(j, "repository_id", json_integer(a->repo_id), &ok);
    api_json_set(j, "repository_name", json_string(a->repo_name), &ok);
    api_json_set(j, "digest", json_string(dstr), &ok);
    api_json_set(j, "size", json_integer((json_int_t)a->size), &ok);
    api_json_set(j, "icon", json_string(""), &ok);
    api_json_set(j, "push_time", api_time_json(a->pushed_at), &ok);
    pending(c, a, NULL, &count, &last);
    api_json_set(j, "pull_time", api_time_json(last), &ok);
    api_json_set(j, "pull_count", json_integer(count), &ok);
    api_json_set(j, "extra_attrs", attrs != NULL ? attrs : json_object(), &ok);
    api_json_set(j, "annotations", json_object(), &ok);
    api_json_set(j, "labels", json_null(), &ok);
    if (a->is_index)
        api_json_set(j, "references", refs_json(c, a, e), &ok);
    api_json_set(j, "tags", with_tags ? tags_json(c, a, e) : json_null(), &ok);
    if (!ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static int query_bool(struct api_call *c, const char *name, bool dflt, bool *out)
{
    const char *s = req_query(c->r, name);

    *out = dflt;
    if (s == NULL)
        return 0;
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
        *out = true;
    else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
        *out = false;
    else
        return api_stop(api_fail(c, HTTP_BAD_REQUEST, "%s must be true or false", name));
    return 0;
}

/* art_q: Harbor's artifact q terms, parsed by api_page_parse: tags=* (tagged), tags=nil
 * (untagged), tags=v, tags=~v, digest=sha256:... */
struct art_filter {
    char tag[TAG_MAX + 1];
    struct digest digest;
    bool has_digest;
};

static int art_q(struct api_call *c, const struct parse_q *pq, struct meta_artifact_q *q,
                 struct art_filter *f)
{
    const struct parse_q_term *t = parse_q_find(pq, "tags");
    struct berr e;

    q->tagged = -1;
    if (t != NULL) {
        const char *v = t->v[0];
        bool fuzzy = t->kind == PARSE_Q_FUZZY;
        if (!fuzzy && strcmp(v, "*") == 0) {
            q->tagged = 1;
        } else if (!fuzzy && strcmp(v, "nil") == 0) {
            q->tagged = 0;
        } else {
            if (v[0] == '\0' || strlen(v) > TAG_MAX)
                return api_stop(api_fail(c, HTTP_BAD_REQUEST, "invalid q"));
            memcpy(f->tag, v, strlen(v) + 1);
            q->tag = f->tag;
            q->tag_fuzzy = fuzzy;
        }
    }
    t = parse_q_find(pq, "digest");
    if (t != NULL) {
        if (digest_parse(&f->digest, t->v[0], strlen(t->v[0]), &e) < 0)
            return api_stop(api_fail(c, HTTP_BAD_REQUEST, "invalid digest in q"));
        f->has_digest = true;
        q->digest = &f->digest;
    }
    return 0;
}

/* what artifact_list reads and shows a page with (api_reply_pulls_page) */
struct art_page {
    struct meta_artifact_q q;
    bool with_tag;
    struct berr e;
};

static int art_rows(struct api_call *c, void *rows, size_t cap, size_t *n, int64_t *total,
                    struct berr *err, void *ctx)
{
    struct art_page *ap = ctx;

    return meta_artifact_list(c->r->reg->meta, &ap->q, rows, cap, n, total, err);
}

static json_t *art_row_json(struct api_call *c, const void *row, void *ctx)
{
    struct art_page *ap = ctx;

    return artifact_json(c, row, ap->with_tag, &ap->e);
}

static int artifact_list(struct api_call *c, int64_t project_id, int64_t repo_id)
{
    struct art_page ap;
    struct art_filter f;
    struct api_page pg;
    int rc;

    if (api_page_parse(c, api_q_artifacts, NULL, &pg) < 0)
        return -1;
    memset(&ap, 0, sizeof(ap));
    memset(&f, 0, sizeof(f));
    rc = query_bool(c, "with_tag", true, &ap.with_tag);
    if (rc == 0)
        rc = art_q(c, &pg.q, &ap.q, &f);
    if (rc != 0)
        return rc;
    api_page_q(&pg, &ap.q.l);
    ap.q.l.name = NULL;
    ap.q.repo_id = repo_id;
    ap.q.project_id = project_id;
    return api_reply_pulls_page(c, &pg, sizeof(struct meta_artifact), art_rows, art_row_json, &ap);
}

/* find_artifact resolves {reference} (segment i) in repo: 0 and *a, or -1 (answered) */
static int find_artifact(struct api_call *c, const struct repo_name *repo, size_t i,
                         int64_t *repo_id, struct meta_artifact *a)
{
    struct meta_repo_info *info = NULL;
    struct reference ref;
    struct meta_manifest mm;
    struct berr e;
    int rc = 0;

    if (reference_parse(&ref, c->seg[i], c->seglen[i], &e) < 0)
        return api_stop(api_fail(c, HTTP_BAD_REQUEST, "invalid reference"));
    if (meta_manifest_resolve(c->r->reg->meta, repo, &ref, &mm, &e) < 0) {
        if (e.code == BERR_NAME_UNKNOWN || e.code == BERR_MANIFEST_UNKNOWN)
            return api_stop(api_fail(c, HTTP_NOT_FOUND, "artifact %s not found", c->seg[i]));
        return api_stop(api_fail_berr(c, &e));
    }
    info = mem_malloc(sizeof(*info));
    if (info == NULL)
        return api_stop(api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error"));
    if (meta_repo_info_get(c->r->reg->meta, repo, info, &e) < 0 ||
        meta_artifact_get(c->r->reg->meta, info->id, &mm.digest, a, &e) < 0)
        rc = api_stop(api_fail_berr(c, &e));
    else
        *repo_id = info->id;
    mem_free(info);
    return rc;
}

/* load: the repository (segment 3) and the artifact (segment 5) of the path; 0, or -1 with
 * *a NULL (answered when c->answered) */
static int load(struct api_call *c, struct repo_name *repo, int64_t *repo_id,
                struct meta_artifact **a)
{
    int rc;

    *a = NULL;
    if (api_repo_from_path(c, 3, repo) < 0)
        return -1;
    *a = mem_malloc(sizeof(**a));
    if (*a == NULL) {
        (void)api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
        return -1;
    }
    rc = find_artifact(c, repo, 5, repo_id, *a);
    if (rc != 0) {
        mem_free(*a);
        *a = NULL;
        return -1;
    }
    return 0;
}

int api_artifact_project_list(struct api_call *c)
{
    return artifact_list(c, c->proj->p.id, 0);
}

int api_artifact_list_repo(struct api_call *c)
{
    struct meta_repo_info *info;
    int rc;

    if (api_repo_load(c, 3, &info) < 0)
        return -1;
    rc = artifact_list(c, 0, info->id);
    mem_free(info);
    return rc;
}

int api_artifact_get(struct api_call *c)
{
    struct meta_artifact *a;
    struct repo_name repo;
    struct berr e = {0};
    int64_t repo_id = 0;
    bool with_tag;
    int rc;

    json_t *j = NULL;

    rc = query_bool(c, "with_tag", true, &with_tag);
    if (rc != 0)
        return rc;
    for (int t = 0;; t++) { /* the artifact and its pending counts with no flush between */
        uint64_t ep = api_pulls_begin(c, t);

        if (load(c, &repo, &repo_id, &a) < 0)
            return -1;
        api_pulls_between(c);
        j = artifact_json(c, a, with_tag, &e);
        mem_free(a);
        if (j == NULL || api_pulls_steady(c, ep, t))
            break;
        json_decref(j);
    }
    return api_reply_json(c, HTTP_OK, j);
}

int api_artifact_delete(struct api_call *c)
{
    struct meta_artifact *a;
    struct repo_name repo;
    struct berr e;
    int64_t repo_id = 0;
    int rc;

    if (load(c, &repo, &repo_id, &a) < 0)
        return -1;
    if (meta_manifest_delete(c->r->reg->meta, &repo, &a->digest, &e) < 0)
        rc = api_fail_berr(c, &e);
    else
        rc = api_reply_empty(c, HTTP_OK);
    mem_free(a);
    return rc;
}

/* what api_tag_list reads and shows a page with (api_reply_pulls_page) */
struct tag_page {
    const struct meta_artifact *a;
    struct meta_list_q q;
};

static int tag_rows(struct api_call *c, void *rows, size_t cap, size_t *n, int64_t *total,
                    struct berr *err, void *ctx)
{
    struct tag_page *tp = ctx;

    return meta_artifact_tags(c->r->reg->meta, tp->a->id, &tp->q, rows, cap, n, total, err);
}

static json_t *tag_row_json(struct api_call *c, const void *row, void *ctx)
{
    struct tag_page *tp = ctx;

    return tag_json(c, tp->a, row);
}

int api_tag_list(struct api_call *c)
{
    struct meta_artifact *a = NULL;
    struct repo_name repo;
    int64_t repo_id = 0;
    struct tag_page tp;
    struct api_page pg;
    int rc;

    if (load(c, &repo, &repo_id, &a) < 0)
        return -1;
    if (api_page_parse(c, api_q_name, "name", &pg) < 0) {
        rc = -1;
        goto out;
    }
    tp.a = a;
    api_page_q(&pg, &tp.q);
    rc = api_reply_pulls_page(c, &pg, sizeof(struct meta_tag_info), tag_rows, tag_row_json, &tp);
out:
    mem_free(a);
    return rc;
}

int api_tag_create(struct api_call *c)
{
    struct meta_artifact *a = NULL;
    struct repo_name repo;
    int64_t repo_id = 0;
    char loc[1024];
    const char *name;
    json_t *body = NULL;
    struct tag t;
    struct berr e;
    bool has;
    int rc;

    if (load(c, &repo, &repo_id, &a) < 0)
        return -1;
    rc = api_body(c, &body);
    if (rc < 0)
        goto out;
    if (api_get_str(c, body, "name", &name, &has) < 0) {
        rc = 0;
        goto out;
    }
    if (!has || tag_parse(&t, name, strlen(name), &e) < 0) {
        rc = api_fail(c, HTTP_BAD_REQUEST, "name must be a valid tag");
        goto out;
    }
    if (meta_tag_create(c->r->reg->meta, repo_id, a->id, &t, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    rc = snprintf(loc, sizeof(loc), "%.*s/%s", (int)(strlen(c->r->url) - strlen(API_PREFIX)),
                  c->r->url + strlen(API_PREFIX), t.s);
    if (rc < 0 || (size_t)rc >= sizeof(loc))
        rc = api_reply_empty(c, HTTP_CREATED);
    else
        rc = api_reply_created(c, loc);
out:
    json_decref(body);
    mem_free(a);
    return rc;
}

int api_tag_delete(struct api_call *c)
{
    struct meta_artifact *a;
    struct repo_name repo;
    struct berr e;
    struct tag t;
    int64_t repo_id = 0;
    int rc;

    if (load(c, &repo, &repo_id, &a) < 0)
        return -1;
    if (tag_parse(&t, c->seg[7], c->seglen[7], &e) < 0)
        rc = api_fail(c, HTTP_BAD_REQUEST, "invalid tag");
    else if (meta_tag_detach(c->r->reg->meta, a->id, &t, &e) < 0)
        rc = api_fail_berr(c, &e);
    else
        rc = api_reply_empty(c, HTTP_OK);
    mem_free(a);
    return rc;
}
