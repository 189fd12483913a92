/* manifests.c - GET/HEAD/PUT/DELETE /v2/<name>/manifests/<reference>.
 *
 * A manifest is stored as the exact bytes received, in the blob store under the SHA-256 of those
 * bytes; storage/meta records its media type, references and tags. registry/manifest_parse.c
 * checks and reads it; nothing here re-serializes it.
 *   1. A PUT that is refused leaves the store as it was: everything that can be checked before
 *      writing (reference, digest, JSON, project, referenced blobs and children) is checked
 *      first; the bytes go to a temp file only then, into the blob store inside the transaction
 *      of their own link (meta_blob_link_place), and meta_manifest_put re-checks the
 *      references inside its transaction. Only a race with a concurrent delete can leave an
 *      unreferenced manifest file behind, which gc removes.
 *   2. Every tag of a PUT (the reference and each ?tag=) is applied in one meta_manifest_put.
 *   3. GET serves the stored bytes and the stored media type as Content-Type: from the store's
 *      cache of small blobs (verified against their digest when put), or with sendfile above
 *      BLOB_CACHE_ENTRY_MAX.
 *   4. A PUT that would take the project past its storage quota is refused (DENIED) before the
 *      bytes are written; the manifest's own link is then made with the quota re-checked in its
 *      transaction, and undone when meta_manifest_put fails after it.
 * Pushes (PUT), pulls (GET, not HEAD) and deletes are recorded in the audit log.
 * Accept negotiation is lenient on purpose: a manifest is served in its stored media type even
 * when the Accept header does not list it. Berth never converts between formats, so the only
 * alternative would be a 404 for content that exists; current clients (containerd, podman,
 * skopeo, docker, oras) all send full Accept lists, and old ones that do not are better served
 * the bytes than told the manifest is missing.
 * No shared state; handlers run on any worker thread. */
#include "registry/req.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "http/etag.h"
#include "registry/audit_hook.h"
#include "registry/manifest_parse.h"
#include "registry/pull_rules.h"
#include "storage/blob_cache.h"
#include "storage/blob_store.h"
#include "storage/meta.h"
#include "storage/pulls.h"
#include "storage/quota.h"

/* cap on the tags one PUT may apply (the reference plus ?tag= values) */
#define MANIFEST_PUT_TAGS_MAX 64

static int hdr(struct http_resp *resp, const char *k, const char *v)
{
    return http_resp_header(resp, k, v);
}

/* common headers of a manifest GET/HEAD/304 */
static int manifest_headers(struct http_resp *resp, const char *dstr, const char *ctype)
{
    char etag[DIGEST_STR_LEN + 3];

    (void)http_etag_quote(etag, sizeof(etag), dstr); /* fits: DIGEST_STR_LEN + quotes */
    if (hdr(resp, "Docker-Content-Digest", dstr) < 0 ||
        hdr(resp, HTTP_HEADER_CONTENT_TYPE, ctype) < 0 || hdr(resp, HTTP_HEADER_ETAG, etag) < 0)
        return -1;
    return 0;
}

/* count_pull records one pull: who, with which client, image or child fetch; excluded users
 * and agents (pull_rules.c) are not counted. A failure is logged: the pull itself succeeded. */
static void count_pull(struct req *r, const struct reference *ref, const struct meta_manifest *m)
{
    const char *ua = req_header(r, HTTP_HEADER_USER_AGENT);
    const struct berth_config *cfg = r->reg->cfg;
    struct pulls_event ev;
    struct berr pe;

    if (pull_excluded(cfg != NULL ? cfg->pull_exclude_users : "",
                      cfg != NULL ? cfg->pull_exclude_agents : "", r->who.name, ua))
        return;
    memset(&ev, 0, sizeof(ev));
    ev.repo = &r->name;
    ev.digest = &m->digest;
    ev.tag = ref->is_digest ? NULL : &ref->tag;
    ev.who_kind = r->who.kind == PRINCIPAL_USER    ? PULLS_WHO_USER
                  : r->who.kind == PRINCIPAL_ROBOT ? PULLS_WHO_ROBOT
                                                   : PULLS_WHO_ANONYMOUS;
    ev.who = r->who.name;
    ev.client = pull_client_family(ua);
    ev.child = ref->is_digest && m->is_child;
    ev.when = now_s();
    if (pulls_record(r->reg->pulls, &ev, &pe) < 0)
        log_msg(LOG_WARN, "manifests: a pull of %s was not counted: %s", r->name.s, pe.msg);
}

int manifests_get(struct req *r, struct http_reply *out)
{
    struct reference ref;
    struct meta_manifest m;
    char dstr[DIGEST_STR_LEN + 1], etag[DIGEST_STR_LEN + 3];
    uint64_t fsize = 0;
    int fd = -1;

    /* a reference that is neither a tag nor a digest names nothing that could exist: the spec
     * (and its conformance suite) answer 404 MANIFEST_UNKNOWN, not 400 */
    if (reference_parse(&ref, r->ref, strlen(r->ref), &r->err) < 0)
        return berr_set(&r->err, BERR_MANIFEST_UNKNOWN, "manifest unknown");
    if (meta_manifest_resolve(r->reg->meta, &r->name, &ref, &m, &r->err) < 0)
        return -1;
    digest_format(&m.digest, dstr, sizeof(dstr));

    (void)http_etag_quote(etag, sizeof(etag), dstr); /* fits: DIGEST_STR_LEN + quotes */
    if (http_etag_match(req_header(r, HTTP_HEADER_IF_NONE_MATCH), etag)) {
        out->resp = http_resp_empty();
        out->status = HTTP_NOT_MODIFIED;
    } else if (r->method == HTTP_HEAD) {
        out->resp = http_resp_head(m.size);
        out->status = HTTP_OK;
    } else if (m.size <= BLOB_CACHE_ENTRY_MAX ||
               strcmp(blob_store_kind(r->reg->blobs), "file") != 0) {
        /* read whole, from the store's cache of small blobs (storage/blob_cache.h) when there:
         * no round trip to an object store, no open, sendfile and close of a file, and the
         * answer leaves in one send with its headers */
        char *bytes = NULL;
        size_t n = 0;

        if (blob_store_read_small(r->reg->blobs, &m.digest, (size_t)m.size, &bytes, &n, &r->err) <
            0) {
            if (r->err.code == BERR_UNAVAILABLE)
                return -1; /* the object store is down: 503 (docs/scale-out.md) */
            log_msg(LOG_ERROR, "manifests: %s of %s recorded but not readable", dstr, r->name.s);
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
        }
        out->resp = http_resp_bytes(bytes, n, NULL);
        mem_free(bytes);
        fsize = n;
        out->status = HTTP_OK;
        out->len = fsize;
    } else {
        /* a large manifest on files: sent with sendfile, not held in memory */
        struct blob_reader *br = NULL;

        if (blob_store_reader_open(r->reg->blobs, &m.digest, &br, &fsize, &r->err) < 0) {
            /* meta has the row, so the blob must exist (blob_store invariant 3) */
            log_msg(LOG_ERROR, "manifests: %s of %s recorded but not readable", dstr, r->name.s);
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
        }
        if (fsize != m.size)
            log_msg(LOG_WARN, "manifests: %s is %llu bytes stored, %llu in meta", dstr,
                    (unsigned long long)fsize, (unsigned long long)m.size);
        fd = blob_reader_take_fd(br);
        blob_reader_close(br);
        if (fd < 0) {
            log_msg(LOG_ERROR, "manifests: %s of %s has no file to send", dstr, r->name.s);
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
        }
        out->resp = http_resp_fd(fd, 0, fsize); /* takes fd */
        out->status = HTTP_OK;
        out->len = fsize;
    }
    if (out->resp == NULL || manifest_headers(out->resp, dstr, m.media_type) < 0)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    if (r->method == HTTP_GET)
        req_audit_ref(r, "pull", "artifact", r->ref);
    /* pull counters (anchors 2.5): a successful GET, never HEAD or 304 */
    if (r->method == HTTP_GET && out->status == HTTP_OK && r->reg->pulls != NULL)
        count_pull(r, &ref, &m);
    return 0;
}

/* ---- PUT ---- */

struct put_tags {
    struct tag tags[MANIFEST_PUT_TAGS_MAX];
    size_t n;
    struct berr *err;
};

/* add_tag appends a parsed tag unless it is already there */
static int add_tag(struct put_tags *pt, const char *s)
{
    struct tag t;

    if (tag_parse(&t, s, strlen(s), pt->err) < 0)
        return -1;
    for (size_t i = 0; i < pt->n; i++) {
        if (strcmp(pt->tags[i].s, t.s) == 0)
            return 0;
    }
    if (pt->n == MANIFEST_PUT_TAGS_MAX)
        return berr_set(pt->err, BERR_TAG_INVALID, "more than %d tags in one push",
                        MANIFEST_PUT_TAGS_MAX);
    pt->tags[pt->n++] = t;
    return 0;
}

static int query_tag_cb(const char *value, void *ctx)
{
    return add_tag(ctx, value) < 0 ? -1 : 0;
}

/* refs_present checks, before anything is written, that every blob the manifest needs is linked
 * to the repository and every child is a manifest of it. meta_manifest_put checks again inside
 * its transaction; this pass exists so a refused push leaves no file in the blob store. */
static int refs_present(struct req *r, const struct manifest_info *mi)
{
    char dstr[DIGEST_STR_LEN + 1];
    uint64_t size;
    struct berr e;

    for (size_t i = 0; i < mi->nblobs; i++) {
        if (meta_blob_linked(r->reg->meta, &r->name, &mi->blobs[i], &size, &e) < 0) {
            if (e.code != BERR_BLOB_UNKNOWN) {
                r->err = e;
                return -1;
            }
            digest_format(&mi->blobs[i], dstr, sizeof(dstr));
            return berr_set(&r->err, BERR_MANIFEST_BLOB_UNKNOWN, "blob unknown to repository: %s",
                            dstr);
        }
    }
    for (size_t i = 0; i < mi->nchildren; i++) {
        struct reference ref = {.is_digest = true};
        struct meta_manifest m;

        ref.digest = mi->children[i].digest;
        if (meta_manifest_resolve(r->reg->meta, &r->name, &ref, &m, &e) < 0) {
            if (e.code != BERR_MANIFEST_UNKNOWN && e.code != BERR_NAME_UNKNOWN) {
                r->err = e;
                return -1;
            }
            digest_format(&mi->children[i].digest, dstr, sizeof(dstr));
            return berr_set(&r->err, BERR_MANIFEST_BLOB_UNKNOWN,
                            "manifest unknown to repository: %s", dstr);
        }
    }
    return 0;
}

int manifests_put(struct req *r, struct http_reply *out)
{
    struct put_tags *pt = NULL;
    struct manifest_info mi;
    struct meta_manifest_in in;
    struct meta_project_info proj;
    struct digest want, got, stored;
    bool by_digest = false, linked = false;
    char dstr[DIGEST_STR_LEN + 1], subj[DIGEST_STR_LEN + 1];
    char loc[REPO_NAME_MAX + DIGEST_STR_LEN + 32], project[REPO_NAME_MAX + 1];
    char tmp[PATH_MAX];
    struct blob_place bp;
    int n, rc = -1;
    bool query_tags = false;

    tmp[0] = '\0';
    memset(&mi, 0, sizeof(mi));
    if (r->body.len == 0 || r->body.data == NULL)
        return berr_set(&r->err, BERR_MANIFEST_INVALID, "empty manifest");
    pt = mem_calloc(1, sizeof(*pt)); /* about 8 KiB: kept off the worker stack */
    if (pt == NULL)
        return berr_set(&r->err, BERR_INTERNAL, "out of memory");
    pt->err = &r->err;

    /* the reference: a digest the body must hash to, or a tag */
    if (memchr(r->ref, ':', strlen(r->ref)) != NULL) {
        if (digest_parse(&want, r->ref, strlen(r->ref), &r->err) < 0)
            goto out;
        by_digest = true;
    } else if (add_tag(pt, r->ref) < 0) {
        goto out;
    }
    if (req_query_each(r, "tag", query_tag_cb, pt) != 0)
        goto out;
    query_tags = req_query(r, "tag") != NULL;

    if (digest_of(&got, r->body.data, r->body.len) < 0) {
        rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
        goto out;
    }
    if (by_digest && !digest_equal(&want, &got)) {
        rc = berr_set(&r->err, BERR_DIGEST_INVALID, "manifest content does not match %s", r->ref);
        goto out;
    }
    if (manifest_parse(&mi, r->body.data, r->body.len, req_header(r, HTTP_HEADER_CONTENT_TYPE),
                       &r->err) < 0)
        goto out;

    /* an unknown project is NAME_UNKNOWN, not a missing blob */
    repo_name_project(&r->name, project, sizeof(project));
    if (meta_project_get(r->reg->meta, project, &proj, &r->err) < 0)
        goto out;
    if (refs_present(r, &mi) < 0)
        goto out;
    if (quota_check(r->reg->meta, &r->name, &got, r->body.len, &r->err) < 0)
        goto out; /* invariant 4 */

    if (blob_store_stage_buf(r->reg->blobs, r->body.data, r->body.len, &stored, tmp, sizeof(tmp),
                             &r->err) < 0)
        goto out;
    if (!digest_equal(&stored, &got)) {
        rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
        log_msg(LOG_ERROR, "manifests: blob store and digest_of disagree");
        goto out;
    }
    bp.bs = r->reg->blobs;
    bp.tmp_path = tmp;
    bp.d = &got;
    if (meta_blob_link_place(r->reg->meta, &r->name, &got, r->body.len, blob_store_place, &bp,
                             &linked, &r->err) < 0)
        goto out;

    memset(&in, 0, sizeof(in));
    in.digest = got;
    in.media_type = mi.media_type;
    in.size = r->body.len;
    in.artifact_type = mi.artifact_type;
    in.annotations_json = mi.annotations_json;
    in.subject = mi.has_subject ? &mi.subject : NULL;
    in.blobs = mi.blobs;
    in.nblobs = mi.nblobs;
    in.children = mi.children;
    in.nchildren = mi.nchildren;
    in.tags = pt->tags;
    in.ntags = pt->n;
    if (meta_manifest_put(r->reg->meta, &r->name, &in, &r->err) < 0) {
        struct berr ignored;
        if (linked) /* the link made above for the quota: not half a manifest */
            (void)meta_blob_unlink(r->reg->meta, &r->name, &got, &ignored);
        /* a child that is not a manifest of the repository: spec 1.1 answers
         * MANIFEST_BLOB_UNKNOWN for any missing reference of a pushed manifest */
        if (r->err.code == BERR_MANIFEST_UNKNOWN)
            r->err.code = BERR_MANIFEST_BLOB_UNKNOWN;
        goto out;
    }

    digest_format(&got, dstr, sizeof(dstr));
    n = snprintf(loc, sizeof(loc), "/v2/%s/manifests/%s", r->name.s, dstr);
    if (n < 0 || (size_t)n >= sizeof(loc)) {
        rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
        goto out;
    }
    out->resp = http_resp_empty();
    out->status = HTTP_CREATED;
    if (out->resp == NULL || hdr(out->resp, HTTP_HEADER_LOCATION, loc) < 0 ||
        hdr(out->resp, "Docker-Content-Digest", dstr) < 0) {
        rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
        goto out;
    }
    if (mi.has_subject) {
        digest_format(&mi.subject, subj, sizeof(subj));
        if (hdr(out->resp, "OCI-Subject", subj) < 0) {
            rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
            goto out;
        }
    }
    /* one OCI-Tag per tag applied, so a client that sent ?tag= knows they were understood */
    for (size_t i = 0; query_tags && i < pt->n; i++) {
        if (hdr(out->resp, "OCI-Tag", pt->tags[i].s) < 0) {
            rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
            goto out;
        }
    }
    req_audit_ref(r, "create", "artifact", r->ref);
    rc = 0;
out:
    /* placed (moved or deduplicated) in the link's transaction, or never: gone either way */
    if (tmp[0] != '\0' && unlink(tmp) < 0 && errno != ENOENT)
        log_errno(LOG_WARN, errno, "manifests: cannot remove %s", tmp);
    manifest_info_cleanup(&mi);
    mem_free(pt);
    return rc;
}

/* ---- DELETE ---- */

int manifests_delete(struct req *r, struct http_reply *out)
{
    struct reference ref;

    if (reference_parse(&ref, r->ref, strlen(r->ref), &r->err) < 0)
        return -1;
    /* OCI 1.1 allows deleting a tag (the manifest stays); distribution 2.8 refuses it */
    if (ref.is_digest) {
        if (meta_manifest_delete(r->reg->meta, &r->name, &ref.digest, &r->err) < 0)
            return -1;
    } else if (meta_tag_delete(r->reg->meta, &r->name, &ref.tag, &r->err) < 0) {
        return -1;
    }
    req_audit_ref(r, "delete", ref.is_digest ? "artifact" : "tag", r->ref);
    out->resp = http_resp_empty();
    out->status = HTTP_ACCEPTED;
    if (out->resp == NULL)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    return 0;
}
