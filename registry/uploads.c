/* uploads.c - the blob upload endpoints: POST (open, single-request upload, mount), PATCH (chunk or
 * stream), PUT (finish), GET (status), DELETE (cancel).
 *
 * Bodies never sit in memory: each piece libmicrohttpd hands over goes straight to upload_write
 * (write + SHA-256) and is dropped. A request that carries a body holds its session from the first
 * callback to the end (r->upload); uploads_abort gives it back whatever happened.
 * Invariants:
 *   1. A chunk is accepted only at the session's current offset (416 otherwise), so the bytes
 *      in a session are exactly the client's bytes in order.
 *   2. A blob becomes visible in a repository only after upload_commit verified its digest; the
 *      file goes into the blob store inside the transaction that links it
 *      (meta_blob_link_place), so gc collecting the same digest cannot come in between.
 *   3. A mount links an existing blob only from a repository that already serves it.
 *   4. A blob that would take its project past its storage quota is refused (DENIED) before
 *      upload_commit moves it into the store, and the link is re-checked against the quota in
 *      the link's own transaction (storage/quota.h); only a push losing that race leaves a file
 *      without a row, which gc collects as an orphan.
 *   5. A push that runs out of space (BERR_STORAGE_FULL, 507) releases what it wrote: a write
 *      that fails so ends the session and removes its files, a commit that fails so has
 *      already ended it (upload_commit), so a full disk is never kept full by its own debris.
 * No shared state beyond what storage/ guards. */
#include "registry/req.h"

#include <stdio.h>
#include <string.h>

#include "auth/scope.h"
#include "common/log.h"
#include "common/range.h"
#include "common/util.h"
#include "storage/blob_store.h"
#include "storage/meta.h"
#include "storage/quota.h"
#include "storage/upload.h"

/* Retry-After of a 429 for a repository at its cap of upload sessions: a push in progress
 * ends its sessions within seconds */
#define UPLOADS_RETRY_AFTER_S 30

static int hdr(struct http_resp *resp, const char *k, const char *v)
{
    return http_resp_header(resp, k, v);
}

/* session_headers adds the session's Location, Range and Docker-Upload-UUID to resp. */
static int session_headers(struct req *r, struct http_resp *resp, const char *id, uint64_t offset)
{
    char loc[REPO_NAME_MAX + 64], range[48];
    int n;

    n = snprintf(loc, sizeof(loc), "/v2/%s/blobs/uploads/%s", r->name.s, id);
    if (n < 0 || (size_t)n >= sizeof(loc))
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    (void)snprintf(range, sizeof(range), "0-%llu",
                   (unsigned long long)(offset > 0 ? offset - 1 : 0)); /* always fits */
    if (hdr(resp, HTTP_HEADER_LOCATION, loc) < 0 || hdr(resp, "Range", range) < 0 ||
        hdr(resp, "Docker-Upload-UUID", id) < 0)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    return 0;
}

/* session_reply answers 202/204 with the session headers. */
static int session_reply(struct req *r, struct http_reply *out, const char *id, uint64_t offset,
                         unsigned status)
{
    char minlen[24];

    out->resp = http_resp_empty();
    out->status = status;
    if (out->resp == NULL)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    if (session_headers(r, out->resp, id, offset) < 0)
        return -1;
    if (r->reg->cfg->chunk_min_bytes > 0) {
        (void)snprintf(minlen, sizeof(minlen), "%llu",
                       (unsigned long long)r->reg->cfg->chunk_min_bytes); /* fits */
        if (hdr(out->resp, "OCI-Chunk-Min-Length", minlen) < 0)
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
    }
    return 0;
}

/* range_refused answers 416 with the error body plus the session headers. */
static int range_refused(struct req *r, struct http_reply *out)
{
    out->resp = reply_error(&r->err, &out->status);
    if (out->resp == NULL)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    if (session_headers(r, out->resp, upload_id(r->upload), upload_offset(r->upload)) < 0)
        return -1;
    uploads_abort(r);
    return 0;
}

/* blob_created answers 201 for a blob now served by the repository. */
static int blob_created(struct req *r, struct http_reply *out, const struct digest *d)
{
    char loc[REPO_NAME_MAX + DIGEST_STR_LEN + 16], dstr[DIGEST_STR_LEN + 1];
    int n;

    digest_format(d, dstr, sizeof(dstr));
    n = snprintf(loc, sizeof(loc), "/v2/%s/blobs/%s", r->name.s, dstr);
    if (n < 0 || (size_t)n >= sizeof(loc))
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    out->resp = http_resp_empty();
    out->status = HTTP_CREATED;
    if (out->resp == NULL || hdr(out->resp, HTTP_HEADER_LOCATION, loc) < 0 ||
        hdr(out->resp, "Docker-Content-Digest", dstr) < 0)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    return 0;
}

struct mount_find {
    struct req *r;
    struct digest d;
    uint64_t size;
    bool found;
};

static int mount_candidate(const char *repo, void *ctx)
{
    struct mount_find *mf = ctx;
    struct repo_name from;
    struct berr e;

    if (repo_name_parse(&from, repo, strlen(repo), &e) < 0)
        return 0;
    /* only a source the caller may pull from (a mount must not leak blobs) */
    if (!access_repo_allows(mf->r, &from, SCOPE_ACT_PULL))
        return 0;
    if (meta_blob_linked(mf->r->reg->meta, &from, &mf->d, &mf->size, &e) < 0)
        return 0;
    mf->found = true;
    return 1;
}

/* try_mount links the blob into r->name when a readable source serves it. *mounted tells. */
static int try_mount(struct req *r, const char *mount, const char *from, bool *mounted)
{
    struct mount_find mf = {.r = r};
    struct repo_name src;
    struct berr e;

    *mounted = false;
    if (digest_parse(&mf.d, mount, strlen(mount), &r->err) < 0)
        return -1;
    if (from != NULL) {
        /* an unusable `from` is not an error: the client gets an upload session instead */
        if (repo_name_parse(&src, from, strlen(from), &e) < 0)
            return 0;
        /* pull on `from` is needed (push on the target was checked by access_check);
         * without it the client gets an upload session, as for an unknown blob */
        if (!access_repo_allows(r, &src, SCOPE_ACT_PULL))
            return 0;
        if (meta_blob_linked(r->reg->meta, &src, &mf.d, &mf.size, &e) < 0) {
            if (e.code == BERR_INTERNAL) {
                r->err = e;
                return -1;
            }
            return 0;
        }
        mf.found = true;
    } else if (meta_blob_repos(r->reg->meta, &mf.d, mount_candidate, &mf, &r->err) < 0) {
        return -1;
    }
    if (!mf.found)
        return 0;
    /* the file must still be there when the link is written (gc may collect in between) */
    struct blob_place bp = {r->reg->blobs, NULL, &mf.d};
    if (meta_blob_link_place(r->reg->meta, &r->name, &mf.d, mf.size, blob_store_place, &bp, NULL,
                             &r->err) < 0) {
        if (r->err.code != BERR_BLOB_UNKNOWN)
            return -1;
        berr_clear(&r->err);
        return 0; /* collected meanwhile: the client uploads it */
    }
    *mounted = true;
    return 0;
}

/* check_range validates Content-Range / Content-Length against the session's offset. */
static int check_range(struct req *r)
{
    const char *cr = req_header(r, HTTP_HEADER_CONTENT_RANGE);
    const char *cl = req_header(r, HTTP_HEADER_CONTENT_LENGTH);
    uint64_t first, last, len = 0, off = upload_offset(r->upload);
    bool have_len = false;

    if (cl != NULL) {
        if (parse_u64(&len, cl, strlen(cl)) < 0)
            return berr_set(&r->err, BERR_SIZE_INVALID, "invalid Content-Length");
        have_len = true;
    }
    if (cr == NULL)
        return 0;
    if (content_range_parse(&first, &last, cr) < 0)
        return berr_set(&r->err, BERR_RANGE_INVALID, "invalid Content-Range");
    if (first != off)
        return berr_set(&r->err, BERR_RANGE_INVALID, "chunk starts at %llu, the upload is at %llu",
                        (unsigned long long)first, (unsigned long long)off);
    if (have_len && len != last - first + 1)
        return berr_set(&r->err, BERR_SIZE_INVALID, "Content-Length does not match Content-Range");
    r->upload_range = true;
    r->upload_expect = last - first + 1;
    return 0;
}

int uploads_begin(struct req *r, struct http_reply *out, bool *done)
{
    char id[UPLOAD_ID_LEN + 1], project[REPO_NAME_MAX + 1];
    const char *mount, *digest;
    struct meta_project_info p;
    bool mounted = false;

    *done = false;
    if (r->method == HTTP_POST) {
        repo_name_project(&r->name, project, sizeof(project));
        if (meta_project_get(r->reg->meta, project, &p, &r->err) < 0)
            return -1;
        mount = req_query(r, "mount");
        if (mount != NULL && mount[0] != '\0') {
            if (try_mount(r, mount, req_query(r, "from"), &mounted) < 0)
                return -1;
            if (mounted) {
                *done = true;
                struct digest d;
                (void)digest_parse(&d, mount, strlen(mount), NULL); /* checked in try_mount */
                return blob_created(r, out, &d);
            }
        }
        digest = req_query(r, "digest");
        if (upload_create(r->reg->uploads, &r->name, id, &r->err) < 0) {
            if (r->err.code == BERR_TOOMANYREQUESTS)
                r->retry_after_s = UPLOADS_RETRY_AFTER_S;
            return -1;
        }
        if (digest == NULL) {
            *done = true;
            return session_reply(r, out, id, 0, HTTP_ACCEPTED);
        }
        /* single-request upload: the body is the whole blob */
        if (digest_parse(&r->upload_want, digest, strlen(digest), &r->err) < 0 ||
            upload_acquire(r->reg->uploads, id, &r->name, &r->upload, &r->err) < 0) {
            struct berr ignored;
            (void)upload_cancel(r->reg->uploads, id, &r->name, &ignored); /* best effort */
            return -1;
        }
        r->upload_finish = true;
        return 0;
    }
    if (r->method == HTTP_PUT) {
        digest = req_query(r, "digest");
        if (digest == NULL)
            return berr_set(&r->err, BERR_DIGEST_INVALID, "digest query parameter required");
        if (digest_parse(&r->upload_want, digest, strlen(digest), &r->err) < 0)
            return -1;
        r->upload_finish = true;
    }
    if (upload_acquire(r->reg->uploads, r->ref, &r->name, &r->upload, &r->err) < 0)
        return -1;
    if (check_range(r) < 0) {
        if (r->err.code != BERR_RANGE_INVALID)
            return -1;
        /* a chunk out of order: 416 with the session's Location and Range, so the client
         * can resume from where the server is */
        *done = true;
        return range_refused(r, out);
    }
    return 0;
}

/* drop_session ends the request's session and removes its files (invariant 5). */
static void drop_session(struct req *r)
{
    char id[UPLOAD_ID_LEN + 1];
    struct berr ignored;

    memcpy(id, upload_id(r->upload), sizeof(id));
    uploads_abort(r);
    if (upload_cancel(r->reg->uploads, id, &r->name, &ignored) < 0)
        log_msg(LOG_WARN, "uploads: cannot remove session %s: %s", id, ignored.msg);
}

int uploads_data(struct req *r, const char *data, size_t n)
{
    if (r->upload == NULL)
        return berr_set(&r->err, BERR_BLOB_UPLOAD_UNKNOWN, "unknown upload");
    if (r->upload_range && n > r->upload_expect - r->upload_got)
        return berr_set(&r->err, BERR_SIZE_INVALID, "chunk longer than its Content-Range");
    if (upload_write(r->upload, data, n, &r->err) < 0) {
        if (r->err.code == BERR_STORAGE_FULL)
            drop_session(r);
        return -1;
    }
    r->upload_got += n;
    return 0;
}

/* link_upload moves a finished upload into the blob store and links it in one transaction
 * (invariant 2). */
static int link_upload(const char *path, uint64_t size, void *ctx, struct berr *err)
{
    struct req *r = ctx;
    struct blob_place bp = {r->reg->blobs, path, &r->upload_want};

    return meta_blob_link_place(r->reg->meta, &r->name, &r->upload_want, size, blob_store_place,
                                &bp, NULL, err);
}

int uploads_end(struct req *r, struct http_reply *out)
{
    char id[UPLOAD_ID_LEN + 1];
    uint64_t size = 0;
    int rc;

    if (r->upload == NULL)
        return berr_set(&r->err, BERR_BLOB_UPLOAD_UNKNOWN, "unknown upload");
    if (r->upload_range && r->upload_got != r->upload_expect)
        return berr_set(&r->err, BERR_SIZE_INVALID, "chunk shorter than its Content-Range");
    if (!r->upload_finish) {
        if (upload_flush(r->upload, &r->err) < 0)
            return -1;
        memcpy(id, upload_id(r->upload), sizeof(id));
        rc = session_reply(r, out, id, upload_offset(r->upload), HTTP_ACCEPTED);
        uploads_abort(r);
        return rc;
    }
    /* invariant 4: refuse over quota before anything reaches the store */
    if (quota_check(r->reg->meta, &r->name, &r->upload_want, upload_offset(r->upload), &r->err) <
        0) {
        if (r->err.code == BERR_DENIED) {
            struct berr ignored;
            memcpy(id, upload_id(r->upload), sizeof(id));
            uploads_abort(r);
            (void)upload_cancel(r->reg->uploads, id, &r->name, &ignored); /* best effort */
        }
        return -1;
    }
    rc = upload_commit_link(r->upload, &r->upload_want, link_upload, r, &size, &r->err);
    r->upload = NULL; /* commit ends the session either way */
    if (rc < 0)
        return -1;
    return blob_created(r, out, &r->upload_want);
}

void uploads_abort(struct req *r)
{
    if (r->upload != NULL) {
        upload_release(r->upload);
        r->upload = NULL;
    }
}

int uploads_status(struct req *r, struct http_reply *out)
{
    char id[UPLOAD_ID_LEN + 1];
    int rc;

    if (upload_acquire(r->reg->uploads, r->ref, &r->name, &r->upload, &r->err) < 0)
        return -1;
    memcpy(id, upload_id(r->upload), sizeof(id));
    rc = session_reply(r, out, id, upload_offset(r->upload), HTTP_NO_CONTENT);
    uploads_abort(r);
    return rc;
}

int uploads_delete(struct req *r, struct http_reply *out)
{
    if (upload_cancel(r->reg->uploads, r->ref, &r->name, &r->err) < 0)
        return -1;
    out->resp = http_resp_empty();
    out->status = HTTP_NO_CONTENT;
    if (out->resp == NULL)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    return 0;
}
