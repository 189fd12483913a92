/* blob_s3.c - blobs as objects of an S3 bucket.
 *
 *   1. An object under blobs/sha256/ is only ever written with bytes whose SHA-256 its name
 *      spells (put_buf and put_file are given the checked digest), so it hashes to its name.
 *   2. A blob written again while already there (dedup) gets a fresh Last-Modified (a copy onto
 *      itself), the S3 form of the file store's touch: gc's orphan sweep and drop(before) compare
 *      against it, so a blob whose row is about to land is not collected.
 *   3. Objects are written before their meta row and deleted after it, as in the file store.
 * S3 cannot rename, so a local file is uploaded (one PUT up to BLOB_S3_PART, multipart above)
 * and then removed. No mutable state of its own beyond the client's pool; thread-safe. */
#include "storage/blob_s3.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "storage/s3.h"

#define BLOB_S3_PREFIX "blobs/sha256/"
#define BLOB_S3_PART ((size_t)16 * 1024 * 1024)
#define BLOB_S3_REDIRECT_TTL_S 1200

struct blob_s3 {
    struct s3 *s3;
    int redirect;
    unsigned ttl_s;
};

void blob_s3_key(char out[96], const struct digest *d)
{
    snprintf(out, 96, BLOB_S3_PREFIX "%.2s/%s", d->hex, d->hex);
}

struct s3 *blob_s3_client(struct blob_s3 *b)
{
    return b->s3;
}

int blob_s3_open(struct blob_s3 **out, const struct blob_s3_opts *o, struct berr *err)
{
    struct s3_opts so = {o->endpoint, o->region, o->bucket, o->access_key, o->secret_key, 0, 0};
    struct blob_s3 *b;

    *out = NULL;
    b = mem_calloc(1, sizeof(*b));
    if (b == NULL)
        return berr_sys(err, ENOMEM, "blob_s3: allocating");
    if (s3_new(&b->s3, &so, err) < 0 || s3_bucket_create(b->s3, err) < 0) {
        s3_free(b->s3);
        mem_free(b);
        return -1;
    }
    b->redirect = o->redirect;
    b->ttl_s = o->redirect_ttl_s ? o->redirect_ttl_s : BLOB_S3_REDIRECT_TTL_S;
    *out = b;
    return 0;
}

static void s3b_close(void *impl)
{
    struct blob_s3 *b = impl;

    if (b == NULL)
        return;
    s3_free(b->s3);
    mem_free(b);
}

static int s3b_stat(void *impl, const struct digest *d, uint64_t *size, int64_t *mtime,
                    struct berr *err)
{
    struct blob_s3 *b = impl;
    char key[96];
    int rc;

    *size = 0;
    *mtime = 0;
    blob_s3_key(key, d);
    rc = s3_head(b->s3, key, size, mtime, err);
    if (rc == 0)
        return berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown to registry");
    return rc < 0 ? -1 : 0;
}

static int s3b_read(void *impl, const struct digest *d, uint64_t off, void *buf, size_t len,
                    size_t *got, struct berr *err)
{
    struct blob_s3 *b = impl;
    char key[96];

    blob_s3_key(key, d);
    if (s3_get_range(b->s3, key, off, len, buf, got, err) < 0) {
        if (err != NULL && err->code == BERR_NOT_FOUND)
            return berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown to registry");
        return -1;
    }
    return 0;
}

/* dedup: 1 when the blob is there already (its time refreshed), 0 when not, -1 error */
static int refresh_existing(struct blob_s3 *b, const char *key, struct berr *err)
{
    uint64_t size;
    int rc = s3_head(b->s3, key, &size, NULL, err);

    if (rc <= 0)
        return rc;
    if (s3_touch(b->s3, key, err) < 0)
        return -1;
    return 1;
}

static int s3b_put_buf(void *impl, const struct digest *d, const void *data, size_t len,
                       struct berr *err)
{
    struct blob_s3 *b = impl;
    char key[96];
    int rc;

    blob_s3_key(key, d);
    rc = refresh_existing(b, key, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    return s3_put(b->s3, key, data, len, err);
}

static int read_full(int fd, char *buf, size_t len, uint64_t off)
{
    size_t done = 0;

    while (done < len) {
        ssize_t r = pread(fd, buf + done, len - done, (off_t)(off + done));

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

/* upload the local file at fd (size bytes) to key: one PUT, or a multipart upload */
static int upload_fd(struct blob_s3 *b, const char *key, int fd, uint64_t size, struct berr *err)
{
    char upload_id[S3_UPLOAD_ID_MAX];
    struct s3_part *parts = NULL;
    size_t nparts, cap = size < BLOB_S3_PART ? (size_t)size : BLOB_S3_PART;
    char *buf = mem_malloc(cap + 1);
    int rc = -1;

    if (buf == NULL)
        return berr_sys(err, ENOMEM, "blob_s3: upload buffer");
    if (size <= BLOB_S3_PART) {
        if (read_full(fd, buf, (size_t)size, 0) < 0)
            rc = berr_sys(err, errno ? errno : EIO, "blob_s3: read upload file");
        else
            rc = s3_put(b->s3, key, buf, (size_t)size, err);
        mem_free(buf);
        return rc;
    }
    nparts = (size_t)((size + BLOB_S3_PART - 1) / BLOB_S3_PART);
    parts = mem_calloc(nparts, sizeof(*parts));
    if (parts == NULL || nparts > S3_MAX_PARTS) {
        mem_free(buf);
        mem_free(parts);
        return berr_set(err, BERR_INTERNAL, "blob_s3: too many parts");
    }
    if (s3_mpu_create(b->s3, key, upload_id, err) < 0)
        goto out;
    for (size_t i = 0; i < nparts; i++) {
        uint64_t off = (uint64_t)i * BLOB_S3_PART;
        size_t n = size - off < BLOB_S3_PART ? (size_t)(size - off) : BLOB_S3_PART;

        if (read_full(fd, buf, n, off) < 0) {
            berr_sys(err, errno ? errno : EIO, "blob_s3: read upload file");
            goto abort;
        }
        parts[i].number = (unsigned)i + 1;
        if (s3_mpu_part(b->s3, key, upload_id, parts[i].number, buf, n, parts[i].etag, err) < 0)
            goto abort;
    }
    if (s3_mpu_complete(b->s3, key, upload_id, parts, nparts, err) < 0)
        goto abort;
    rc = 0;
    goto out;
abort : {
    struct berr ignored;

    (void)s3_mpu_abort(b->s3, key, upload_id, &ignored);
}
out:
    mem_free(parts);
    mem_free(buf);
    return rc;
}

static int s3b_put_file(void *impl, const struct digest *d, const char *path, struct berr *err)
{
    struct blob_s3 *b = impl;
    struct stat st;
    char key[96];
    int fd, rc;

    blob_s3_key(key, d);
    rc = refresh_existing(b, key, err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return berr_sys(err, errno, "blob_s3: open upload file");
        if (fstat(fd, &st) < 0) {
            rc = berr_sys(err, errno, "blob_s3: stat upload file");
        } else {
            rc = upload_fd(b, key, fd, (uint64_t)st.st_size, err);
        }
        (void)close(fd); /* read-only */
        if (rc < 0)
            return -1;
    }
    if (unlink(path) < 0 && errno != ENOENT)
        log_errno(LOG_WARN, errno, "blob_s3: cannot remove %s", path);
    return 0;
}

static int s3b_drop(void *impl, const struct digest *d, int64_t before, struct berr *err)
{
    struct blob_s3 *b = impl;
    char key[96];

    blob_s3_key(key, d);
    if (before != 0) {
        uint64_t size;
        int64_t mtime = 0;
        int rc = s3_head(b->s3, key, &size, &mtime, err);

        if (rc < 0)
            return -1;
        if (rc == 0)
            return 1;
        if (mtime >= before)
            return 0; /* invariant 2: refreshed by a push since the caller looked */
    }
    return s3_delete(b->s3, key, err) < 0 ? -1 : 1;
}

struct walk_ctx {
    blob_walk_fn fn;
    blob_bad_fn bad_fn;
    void *ctx;
};

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int walk_one(const char *key, uint64_t size, int64_t mtime, void *ctx)
{
    struct walk_ctx *w = ctx;
    const char *rest = key + strlen(BLOB_S3_PREFIX);
    struct digest d;

    /* <2 hex>/<64 hex>, the two agreeing */
    if (strlen(rest) != 3 + DIGEST_HEX_LEN || rest[2] != '/' || !is_lower_hex(rest, 2) ||
        !is_lower_hex(rest + 3, DIGEST_HEX_LEN) || memcmp(rest, rest + 3, 2) != 0) {
        if (w->bad_fn != NULL)
            w->bad_fn(key, w->ctx);
        return 0;
    }
    memcpy(d.hex, rest + 3, DIGEST_HEX_LEN + 1);
    return w->fn(&d, size, mtime, w->ctx);
}

static int s3b_walk(void *impl, blob_walk_fn fn, blob_bad_fn bad_fn, void *ctx)
{
    struct blob_s3 *b = impl;
    struct walk_ctx w = {fn, bad_fn, ctx};
    struct berr err;
    int rc;

    berr_clear(&err);
    rc = s3_list(b->s3, BLOB_S3_PREFIX, walk_one, &w, &err);

    if (rc < 0 && err.code != BERR_OK)
        log_msg(LOG_ERROR, "blob_s3: listing blobs: %s", err.msg);
    return rc;
}

static int s3b_presign(void *impl, const struct digest *d, const char *method, char *out,
                       size_t cap, struct berr *err)
{
    struct blob_s3 *b = impl;
    char key[96];

    if (cap > 0)
        out[0] = '\0';
    if (!b->redirect)
        return 0;
    blob_s3_key(key, d);
    if (s3_presign_url(b->s3, method, key, b->ttl_s, out, cap, err) < 0)
        return -1;
    return 1;
}

const struct blob_backend blob_s3_backend = {
        .kind = "s3",
        .close = s3b_close,
        .stat = s3b_stat,
        .read = s3b_read,
        .put_buf = s3b_put_buf,
        .put_file = s3b_put_file,
        .drop = s3b_drop,
        .walk = s3b_walk,
        .presign = s3b_presign,
};
