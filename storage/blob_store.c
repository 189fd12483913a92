/* blob_store.c - content-addressed blob files.
 *
 * A blob lives at <root>/blobs/sha256/<hex[0..1]>/<hex> and never changes once there. New content
 * is written under <root>/uploads/ first and renamed in once its SHA-256 is known:
 *   1. A file under blobs/ always hashes to its own name (only commit_file and put_buf put files
 *      there, and both are given or compute the digest of exactly the bytes they rename).
 *   2. A crash leaves junk in uploads/, never a partial file in blobs/: the bytes are fsynced
 *      before the rename, the rename is atomic, and the directory is fsynced after it.
 *   3. The file is in place before meta records it, so a row in `blobs` implies the file; gc
 *      deletes in the reverse order (row first, file second). Both happen inside the row's write
 *      transaction (blob_store_place, blob_store_drop run as meta_file_fn steps), so a re-push
 *      and gc never interleave between a file and its row.
 *   4. A file renamed or deduplicated into blobs/ gets its mtime set to now, so gc's orphan sweep
 *      (files without a row, older than the gc window) never takes a file whose meta row is
 *      about to be written, even when the upload's last byte arrived long ago.
 * Removal does not fsync the directory: a crash that undoes an unlink brings back a file with no
 * row, which the next gc sweeps as an orphan.
 * Paths are built only from a parsed struct digest. The struct is read-only after open, so every
 * call is safe from any thread. */
#include "storage/blob_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/digest.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/blob_cache.h"
#include "config/config.h"
#include "storage/blob_s3.h"

#define BLOB_IO_CHUNK ((size_t)64 * 1024)
#define BLOB_READ_WINDOW ((size_t)4 * 1024 * 1024)

static const struct blob_backend file_backend;

struct blob_store {
    const struct blob_backend *ops;
    void *impl; /* the backend's state: the struct itself for files, a struct blob_s3 for S3 */
    struct blob_cache *cache; /* small blobs (manifests) by digest; NULL: none */
    char root[PATH_MAX];
    char sha_dir[PATH_MAX];    /* <root>/blobs/sha256 */
    char upload_dir[PATH_MAX]; /* <root>/uploads */
};

static int path_fmt2(char *out, size_t cap, const char *a, const char *b, struct berr *err)
{
    int n = snprintf(out, cap, "%s/%s", a, b);

    if (n < 0 || (size_t)n >= cap)
        return berr_sys(err, ENAMETOOLONG, "blob_store: path too long");
    return 0;
}

int blob_store_open(struct blob_store **out, const char *root, struct berr *err)
{
    struct blob_store *bs;
    size_t len = strlen(root);
    int rc = -1;

    *out = NULL;
    if (len == 0 || len >= sizeof(bs->root))
        return berr_set(err, BERR_INTERNAL, "blob store root path invalid");
    bs = mem_calloc(1, sizeof(*bs));
    if (bs == NULL)
        return berr_sys(err, ENOMEM, "blob_store: allocating store");
    memcpy(bs->root, root, len + 1);
    /* a trailing slash would double up in every path; "/" alone stays */
    while (len > 1 && bs->root[len - 1] == '/')
        bs->root[--len] = '\0';
    if (path_fmt2(bs->sha_dir, sizeof(bs->sha_dir), bs->root, "blobs/sha256", err) < 0)
        goto out;
    if (path_fmt2(bs->upload_dir, sizeof(bs->upload_dir), bs->root, "uploads", err) < 0)
        goto out;
    if (mkdir_p(bs->sha_dir) < 0) {
        berr_sys(err, errno, "blob_store: creating blobs/sha256");
        goto out;
    }
    if (mkdir_p(bs->upload_dir) < 0) {
        berr_sys(err, errno, "blob_store: creating uploads");
        goto out;
    }
    bs->ops = &file_backend;
    bs->impl = bs;
    *out = bs;
    bs = NULL;
    rc = 0;
out:
    mem_free(bs);
    return rc;
}

int blob_store_open_s3(struct blob_store **out, const char *root, const struct blob_s3_opts *o,
                       struct berr *err)
{
    struct blob_store *bs = NULL;
    struct blob_s3 *s3 = NULL;

    *out = NULL;
    if (blob_store_open(&bs, root, err) < 0)
        return -1;
    if (blob_s3_open(&s3, o, err) < 0) {
        blob_store_close(bs);
        return -1;
    }
    bs->ops = &blob_s3_backend;
    bs->impl = s3;
    *out = bs;
    return 0;
}

static const char *or_env(const char *v, const char *name)
{
    const char *e;

    if (v[0] != '\0')
        return v;
    e = getenv(name);
    return e != NULL ? e : "";
}

/* with_cache gives an opened store its cache of small blobs (blob_cache.h): manifests then come
 * from memory, on S3 with no round trip to the object store, on files with no open, sendfile
 * and close per GET */
static int with_cache(struct blob_store **out, struct berr *err)
{
    if (blob_cache_new(&(*out)->cache, err) < 0) {
        blob_store_close(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

int blob_store_open_config(struct blob_store **out, const struct berth_config *cfg,
                           struct berr *err)
{
    struct blob_s3_opts o;
    const char *region;

    if (cfg->blob_store[0] == '\0' || strcmp(cfg->blob_store, "file") == 0)
        return blob_store_open(out, cfg->data_dir, err) < 0 ? -1 : with_cache(out, err);
    if (strncmp(cfg->blob_store, "s3://", 5) != 0)
        return berr_set(err, BERR_BAD_REQUEST, "blob_store: not file or s3://BUCKET");
    region = or_env(cfg->s3_region, "AWS_REGION");
    o = (struct blob_s3_opts){
            .endpoint = or_env(cfg->s3_endpoint, "AWS_ENDPOINT_URL"),
            .region = region[0] ? region : "us-east-1",
            .bucket = cfg->blob_store + 5,
            .access_key = or_env(cfg->s3_access_key, "AWS_ACCESS_KEY_ID"),
            .secret_key = or_env(cfg->s3_secret_key, "AWS_SECRET_ACCESS_KEY"),
            .redirect = strcmp(cfg->redirect, "true") == 0,
            .redirect_ttl_s = 0,
    };
    if (o.endpoint[0] == '\0' || o.access_key[0] == '\0' || o.secret_key[0] == '\0')
        return berr_set(err, BERR_BAD_REQUEST,
                        "blob_store s3: s3_endpoint, s3_access_key and s3_secret_key (or "
                        "AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) are needed");
    return blob_store_open_s3(out, cfg->data_dir, &o, err) < 0 ? -1 : with_cache(out, err);
}

void blob_store_close(struct blob_store *bs)
{
    if (bs == NULL)
        return;
    if (bs->impl != bs)
        bs->ops->close(bs->impl);
    blob_cache_free(bs->cache);
    mem_free(bs);
}

const char *blob_store_kind(const struct blob_store *bs)
{
    return bs->ops->kind;
}

struct s3 *blob_store_s3_client(const struct blob_store *bs)
{
    return bs->ops == &blob_s3_backend ? blob_s3_client(bs->impl) : NULL;
}

void blob_store_s3_key(char out[96], const struct digest *d)
{
    blob_s3_key(out, d);
}

const char *blob_store_root(const struct blob_store *bs)
{
    return bs->root;
}

int blob_store_path(const struct blob_store *bs, const struct digest *d, char *out, size_t cap,
                    struct berr *err)
{
    int n;

    if (bs->impl != bs) {
        if (cap > 0)
            out[0] = '\0';
        return berr_set(err, BERR_UNSUPPORTED, "blob_store: no files in a %s store", bs->ops->kind);
    }
    n = snprintf(out, cap, "%s/%.2s/%s", bs->sha_dir, d->hex, d->hex);

    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return berr_sys(err, ENAMETOOLONG, "blob_store: blob path too long");
    }
    return 0;
}

/* prefix_dir writes <root>/blobs/sha256/<hex[0..1]>. */
static int prefix_dir(const struct blob_store *bs, const struct digest *d, char *out, size_t cap,
                      struct berr *err)
{
    int n = snprintf(out, cap, "%s/%.2s", bs->sha_dir, d->hex);

    if (n < 0 || (size_t)n >= cap)
        return berr_sys(err, ENAMETOOLONG, "blob_store: blob path too long");
    return 0;
}

static int file_stat(void *impl, const struct digest *d, uint64_t *size, int64_t *mtime,
                     struct berr *err)
{
    const struct blob_store *bs = impl;
    char path[PATH_MAX];
    struct stat st;

    *size = 0;
    *mtime = 0;
    if (blob_store_path(bs, d, path, sizeof(path), err) < 0)
        return -1;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT)
            return berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown to registry");
        return berr_sys(err, errno, "blob_store: stat blob");
    }
    if (!S_ISREG(st.st_mode))
        return berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown to registry");
    *size = (uint64_t)st.st_size;
    *mtime = (int64_t)st.st_mtime;
    return 0;
}

int blob_store_stat_time(const struct blob_store *bs, const struct digest *d, uint64_t *size,
                         int64_t *mtime, struct berr *err)
{
    return bs->ops->stat(bs->impl, d, size, mtime, err);
}

int blob_store_stat(const struct blob_store *bs, const struct digest *d, uint64_t *size,
                    struct berr *err)
{
    int64_t mtime;

    return blob_store_stat_time(bs, d, size, &mtime, err);
}

int blob_store_open_read(const struct blob_store *bs, const struct digest *d, int *fd,
                         uint64_t *size, struct berr *err)
{
    char path[PATH_MAX];
    struct stat st;
    int f;

    *fd = -1;
    *size = 0;
    if (bs->impl != bs)
        return berr_set(err, BERR_UNSUPPORTED, "blob_store: no files in a %s store", bs->ops->kind);
    if (blob_store_path(bs, d, path, sizeof(path), err) < 0)
        return -1;
    f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) {
        if (errno == ENOENT)
            return berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown to registry");
        return berr_sys(err, errno, "blob_store: open blob");
    }
    if (fstat(f, &st) < 0) {
        int saved = errno;
        (void)close(f); /* read-only descriptor, nothing to flush */
        return berr_sys(err, saved, "blob_store: fstat blob");
    }
    if (!S_ISREG(st.st_mode)) {
        (void)close(f); /* read-only descriptor, nothing to flush */
        return berr_set(err, BERR_BLOB_UNKNOWN, "blob unknown to registry");
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int blob_store_put_buf(struct blob_store *bs, const void *data, size_t len, struct digest *out,
                       struct berr *err)
{
    char tmp[PATH_MAX];
    uint64_t size;
    int rc;

    if (digest_of(out, data, len) < 0) {
        memset(out, 0, sizeof(*out));
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    /* the same bytes are already stored: nothing to write */
    if (blob_store_stat(bs, out, &size, NULL) == 0)
        return 0;
    if (bs->impl != bs) {
        rc = bs->ops->put_buf(bs->impl, out, data, len, err);
        if (rc < 0)
            memset(out, 0, sizeof(*out));
        return rc;
    }
    if (blob_store_stage_buf(bs, data, len, out, tmp, sizeof(tmp), err) < 0)
        return -1;
    rc = blob_store_commit_file(bs, tmp, out, err);
    if (rc < 0) {
        if (unlink(tmp) < 0 && errno != ENOENT)
            log_errno(LOG_WARN, errno, "blob_store: cannot remove %s", tmp);
        memset(out, 0, sizeof(*out));
    }
    return rc;
}

int blob_store_stage_buf(struct blob_store *bs, const void *data, size_t len, struct digest *out,
                         char *tmp, size_t cap, struct berr *err)
{
    char name[64], rnd[33];
    bool created = false;
    int fd = -1, rc = -1, n;

    if (cap > 0)
        tmp[0] = '\0';
    if (digest_of(out, data, len) < 0) {
        berr_set(err, BERR_INTERNAL, "internal error");
        goto out;
    }
    if (bs->impl != bs) {
        /* no files: the object goes straight into place (content-addressed, so idempotent) */
        rc = bs->ops->put_buf(bs->impl, out, data, len, err);
        goto out;
    }
    if (rand_hex(rnd, sizeof(rnd), 16) < 0) {
        berr_set(err, BERR_INTERNAL, "internal error");
        goto out;
    }
    n = snprintf(name, sizeof(name), "put-%s.tmp", rnd);
    if (n < 0 || (size_t)n >= sizeof(name)) {
        berr_sys(err, ENAMETOOLONG, "blob_store: temp name");
        goto out;
    }
    if (path_fmt2(tmp, cap, bs->upload_dir, name, err) < 0)
        goto out;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) {
        berr_sys(err, errno, "blob_store: create temp file");
        goto out;
    }
    created = true;
    if (write_all(fd, data, len) < 0) {
        berr_sys(err, errno, "blob_store: write temp file");
        goto out;
    }
    if (fsync(fd) < 0) {
        berr_sys(err, errno, "blob_store: fsync temp file");
        goto out;
    }
    n = close(fd);
    fd = -1;
    if (n < 0) {
        berr_sys(err, errno, "blob_store: close temp file");
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        (void)close(fd); /* already failing; the earlier error is the one reported */
    if (rc < 0 && created && unlink(tmp) < 0 && errno != ENOENT)
        log_errno(LOG_WARN, errno, "blob_store: cannot remove %s", tmp);
    if (rc < 0) {
        memset(out, 0, sizeof(*out));
        if (cap > 0)
            tmp[0] = '\0';
    }
    return rc;
}

int blob_store_commit_file(struct blob_store *bs, const char *tmp_path, const struct digest *d,
                           struct berr *err)
{
    char final[PATH_MAX], dir[PATH_MAX];
    struct stat st;

    if (bs->impl != bs) {
        uint64_t size;

        if (tmp_path[0] == '\0') /* staged straight into place (blob_store_stage_buf) */
            return blob_store_stat(bs, d, &size, err);
        return bs->ops->put_file(bs->impl, d, tmp_path, err);
    }
    if (blob_store_path(bs, d, final, sizeof(final), err) < 0)
        return -1;
    if (prefix_dir(bs, d, dir, sizeof(dir), err) < 0)
        return -1;
    if (mkdir(dir, 0750) == 0) {
        /* a new prefix directory must itself survive a crash for the rename below to */
        if (fsync_dir(bs->sha_dir) < 0)
            return berr_sys(err, errno, "blob_store: fsync blobs/sha256");
    } else if (errno != EEXIST) {
        return berr_sys(err, errno, "blob_store: create prefix directory");
    }
    if (stat(final, &st) == 0 && S_ISREG(st.st_mode)) {
        /* dedup: keep the file in place (same name, hence same bytes); refresh its mtime so the
         * orphan sweep spares it until the caller's meta row lands (invariant 4) */
        if (utimensat(AT_FDCWD, final, NULL, 0) < 0)
            return berr_sys(err, errno, "blob_store: touch existing blob");
        if (unlink(tmp_path) < 0 && errno != ENOENT)
            log_errno(LOG_WARN, errno, "blob_store: cannot remove %s", tmp_path);
        return 0;
    }
    if (utimensat(AT_FDCWD, tmp_path, NULL, 0) < 0)
        return berr_sys(err, errno, "blob_store: touch upload file");
    if (rename(tmp_path, final) < 0)
        return berr_sys(err, errno, "blob_store: rename upload into blobs/");
    if (fsync_dir(dir) < 0)
        return berr_sys(err, errno, "blob_store: fsync blob directory");
    return 0;
}

int blob_store_remove(struct blob_store *bs, const struct digest *d, struct berr *err)
{
    char path[PATH_MAX];

    if (bs->impl != bs)
        return bs->ops->drop(bs->impl, d, 0, err) < 0 ? -1 : 0;

    if (blob_store_path(bs, d, path, sizeof(path), err) < 0)
        return -1;
    if (unlink(path) < 0 && errno != ENOENT)
        return berr_sys(err, errno, "blob_store: remove blob");
    return 0;
}

int blob_store_place(void *ctx, struct berr *err)
{
    const struct blob_place *p = ctx;
    uint64_t size;

    if (p->tmp_path == NULL || p->tmp_path[0] == '\0')
        return blob_store_stat(p->bs, p->d, &size, err);
    return blob_store_commit_file(p->bs, p->tmp_path, p->d, err);
}

int blob_store_drop(void *ctx, struct berr *err)
{
    const struct blob_drop *p = ctx;
    char path[PATH_MAX];
    struct stat st;

    if (p->bs->impl != p->bs)
        return p->bs->ops->drop(p->bs->impl, p->d, p->before, err);
    if (blob_store_path(p->bs, p->d, path, sizeof(path), err) < 0)
        return -1;
    if (p->before != 0) {
        if (stat(path, &st) < 0) {
            if (errno == ENOENT)
                return 1;
            return berr_sys(err, errno, "blob_store: stat blob");
        }
        if ((int64_t)st.st_mtime >= p->before)
            return 0; /* invariant 4: touched by a push since the caller looked */
    }
    if (unlink(path) < 0 && errno != ENOENT)
        return berr_sys(err, errno, "blob_store: remove blob");
    return 1;
}

int blob_store_free(const struct blob_store *bs, uint64_t *avail, uint64_t *total, struct berr *err)
{
    struct statvfs sv;

    *avail = 0;
    *total = 0;
    if (statvfs(bs->root, &sv) < 0)
        return berr_sys(err, errno, "blob_store: statvfs");
    *avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
    *total = (uint64_t)sv.f_blocks * (uint64_t)sv.f_frsize;
    return 0;
}

static bool is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

static bool is_dot(const char *name)
{
    return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

static void report_bad(blob_bad_fn bad_fn, void *ctx, const char *dir, const char *name)
{
    char path[PATH_MAX];
    int n;

    if (bad_fn == NULL)
        return;
    n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        /* a name that long cannot be shown whole; the cut path still points the operator at it */
        path[sizeof(path) - 1] = '\0';
    }
    bad_fn(path, ctx);
}

/* walk_prefix visits one <2 hex> directory. */
static int walk_prefix(const struct blob_store *bs, int top_fd, const char *prefix, blob_walk_fn fn,
                       blob_bad_fn bad_fn, void *ctx)
{
    char dpath[PATH_MAX];
    struct dirent *de;
    DIR *dir;
    int fd, rc = 0, n;

    n = snprintf(dpath, sizeof(dpath), "%s/%s", bs->sha_dir, prefix);
    if (n < 0 || (size_t)n >= sizeof(dpath)) {
        log_msg(LOG_ERROR, "blob_store: walk path too long");
        return -1;
    }
    fd = openat(top_fd, prefix, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOTDIR) {
            report_bad(bad_fn, ctx, bs->sha_dir, prefix);
            return 0;
        }
        log_errno(LOG_ERROR, errno, "blob_store: open %s", dpath);
        return -1;
    }
    dir = fdopendir(fd);
    if (dir == NULL) {
        log_errno(LOG_ERROR, errno, "blob_store: fdopendir %s", dpath);
        (void)close(fd); /* directory descriptor: nothing to flush */
        return -1;
    }
    for (;;) {
        struct digest d;
        struct stat st;
        size_t len;

        errno = 0;
        de = readdir(dir);
        if (de == NULL) {
            if (errno != 0) {
                log_errno(LOG_ERROR, errno, "blob_store: readdir %s", dpath);
                rc = -1;
            }
            break;
        }
        if (is_dot(de->d_name))
            continue;
        len = strlen(de->d_name);
        if (len != DIGEST_HEX_LEN || !is_lower_hex(de->d_name, len) ||
            memcmp(de->d_name, prefix, 2) != 0) {
            report_bad(bad_fn, ctx, dpath, de->d_name);
            continue;
        }
        if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue; /* removed since readdir (gc running alongside) */
            log_errno(LOG_ERROR, errno, "blob_store: stat %s/%s", dpath, de->d_name);
            rc = -1;
            break;
        }
        if (!S_ISREG(st.st_mode)) {
            report_bad(bad_fn, ctx, dpath, de->d_name);
            continue;
        }
        memcpy(d.hex, de->d_name, DIGEST_HEX_LEN + 1);
        rc = fn(&d, (uint64_t)st.st_size, (int64_t)st.st_mtime, ctx);
        if (rc != 0)
            break;
    }
    (void)closedir(dir); /* read-only directory stream */
    return rc;
}

int blob_store_walk(const struct blob_store *bs, blob_walk_fn fn, blob_bad_fn bad_fn, void *ctx)
{
    return bs->ops->walk(bs->impl, fn, bad_fn, ctx);
}

static int file_walk(void *impl, blob_walk_fn fn, blob_bad_fn bad_fn, void *ctx)
{
    const struct blob_store *bs = impl;
    struct dirent *de;
    DIR *top;
    int rc = 0;

    top = opendir(bs->sha_dir);
    if (top == NULL) {
        log_errno(LOG_ERROR, errno, "blob_store: open %s", bs->sha_dir);
        return -1;
    }
    for (;;) {
        errno = 0;
        de = readdir(top);
        if (de == NULL) {
            if (errno != 0) {
                log_errno(LOG_ERROR, errno, "blob_store: readdir %s", bs->sha_dir);
                rc = -1;
            }
            break;
        }
        if (is_dot(de->d_name))
            continue;
        if (strlen(de->d_name) != 2 || !is_lower_hex(de->d_name, 2)) {
            report_bad(bad_fn, ctx, bs->sha_dir, de->d_name);
            continue;
        }
        rc = walk_prefix(bs, dirfd(top), de->d_name, fn, bad_fn, ctx);
        if (rc != 0)
            break;
    }
    (void)closedir(top); /* read-only directory stream */
    return rc;
}

int blob_store_hash_fd(EVP_MD_CTX **out, uint64_t *len, int fd, const char *what, struct berr *err)
{
    unsigned char *chunk;
    EVP_MD_CTX *md = NULL;
    uint64_t off = 0;
    int rc = -1;

    *out = NULL;
    *len = 0;
    chunk = mem_malloc(BLOB_IO_CHUNK);
    if (chunk == NULL)
        return berr_sys(err, ENOMEM, "blob_store: hash buffer");
    md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, digest_sha256_md(), NULL) != 1) {
        berr_set(err, BERR_INTERNAL, "internal error");
        goto out;
    }
    for (;;) {
        ssize_t r = pread(fd, chunk, BLOB_IO_CHUNK, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            berr_sys(err, errno, what);
            goto out;
        }
        if (r == 0)
            break;
        if (EVP_DigestUpdate(md, chunk, (size_t)r) != 1) {
            berr_set(err, BERR_INTERNAL, "internal error");
            goto out;
        }
        off += (uint64_t)r;
    }
    *out = md;
    md = NULL;
    *len = off;
    rc = 0;
out:
    EVP_MD_CTX_free(md);
    mem_free(chunk);
    return rc;
}

static int verify_reader(const struct blob_store *bs, const struct digest *d, struct berr *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    struct blob_reader *r = NULL;
    EVP_MD_CTX *ctx = NULL;
    struct digest got;
    uint64_t size, off = 0;
    char *chunk = NULL;
    int rc = -1;

    if (blob_store_reader_open(bs, d, &r, &size, err) < 0)
        return -1;
    chunk = mem_malloc(BLOB_READ_WINDOW);
    ctx = EVP_MD_CTX_new();
    if (chunk == NULL || ctx == NULL || EVP_DigestInit_ex(ctx, digest_sha256_md(), NULL) != 1) {
        berr_set(err, BERR_INTERNAL, "internal error");
        goto out;
    }
    while (off < size) {
        size_t n = 0;

        if (blob_reader_pread(r, off, chunk, BLOB_READ_WINDOW, &n, err) < 0)
            goto out;
        if (n == 0) {
            berr_set(err, BERR_DIGEST_INVALID, "blob sha256:%s shorter than its size", d->hex);
            goto out;
        }
        if (EVP_DigestUpdate(ctx, chunk, n) != 1) {
            berr_set(err, BERR_INTERNAL, "internal error");
            goto out;
        }
        off += n;
    }
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
        berr_set(err, BERR_INTERNAL, "internal error");
        goto out;
    }
    digest_from_raw(&got, md);
    if (!digest_equal(&got, d)) {
        berr_set(err, BERR_DIGEST_INVALID, "blob content does not match sha256:%s", d->hex);
        goto out;
    }
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    mem_free(chunk);
    blob_reader_close(r);
    return rc;
}

int blob_store_verify(const struct blob_store *bs, const struct digest *d, struct berr *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = NULL;
    struct digest got;
    uint64_t size, hashed;
    int fd = -1, rc = -1;

    if (bs->impl != bs)
        return verify_reader(bs, d, err);
    if (blob_store_open_read(bs, d, &fd, &size, err) < 0)
        return -1;
    if (blob_store_hash_fd(&ctx, &hashed, fd, "blob_store: read blob", err) < 0)
        goto out;
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
        berr_set(err, BERR_INTERNAL, "internal error");
        goto out;
    }
    digest_from_raw(&got, md);
    if (!digest_equal(&got, d)) {
        berr_set(err, BERR_DIGEST_INVALID, "blob content does not match sha256:%s", d->hex);
        goto out;
    }
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    (void)close(fd); /* read-only descriptor */
    return rc;
}

/* ---- the file backend's remaining operations, and the calls common to every store ---- */

static void file_close(void *impl)
{
    (void)impl; /* the struct itself: blob_store_close frees it */
}

static int file_read(void *impl, const struct digest *d, uint64_t off, void *buf, size_t len,
                     size_t *got, struct berr *err)
{
    uint64_t size;
    size_t done = 0;
    int fd;

    *got = 0;
    if (blob_store_open_read(impl, d, &fd, &size, err) < 0)
        return -1;
    while (done < len) {
        ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int saved = errno;

            (void)close(fd); /* read-only */
            return berr_sys(err, saved, "blob_store: read blob");
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    (void)close(fd); /* read-only */
    *got = done;
    return 0;
}

static int file_put_buf(void *impl, const struct digest *d, const void *data, size_t len,
                        struct berr *err)
{
    struct blob_store *bs = impl;
    struct digest got;
    char tmp[PATH_MAX];
    int rc;

    if (blob_store_stage_buf(bs, data, len, &got, tmp, sizeof(tmp), err) < 0)
        return -1;
    if (!digest_equal(&got, d))
        rc = berr_set(err, BERR_INTERNAL, "internal error");
    else
        rc = blob_store_commit_file(bs, tmp, d, err);
    if (rc < 0 && unlink(tmp) < 0 && errno != ENOENT)
        log_errno(LOG_WARN, errno, "blob_store: cannot remove %s", tmp);
    return rc;
}

static int file_put_file(void *impl, const struct digest *d, const char *path, struct berr *err)
{
    return blob_store_commit_file(impl, path, d, err);
}

static int file_drop(void *impl, const struct digest *d, int64_t before, struct berr *err)
{
    struct blob_drop p = {impl, d, before};

    return blob_store_drop(&p, err);
}

static int file_presign(void *impl, const struct digest *d, const char *method, char *out,
                        size_t cap, struct berr *err)
{
    (void)impl;
    (void)d;
    (void)method;
    (void)err;
    if (cap > 0)
        out[0] = '\0';
    return 0;
}

static const struct blob_backend file_backend = {
        .kind = "file",
        .close = file_close,
        .stat = file_stat,
        .read = file_read,
        .put_buf = file_put_buf,
        .put_file = file_put_file,
        .drop = file_drop,
        .walk = file_walk,
        .presign = file_presign,
};

struct blob_reader {
    const struct blob_store *bs;
    struct digest d;
    uint64_t size;
    int fd; /* file store: open until taken */
};

int blob_store_reader_open(const struct blob_store *bs, const struct digest *d,
                           struct blob_reader **out, uint64_t *size, struct berr *err)
{
    struct blob_reader *r;

    *out = NULL;
    *size = 0;
    r = mem_calloc(1, sizeof(*r));
    if (r == NULL)
        return berr_sys(err, ENOMEM, "blob_store: reader");
    r->bs = bs;
    r->d = *d;
    r->fd = -1;
    if (bs->impl == bs) {
        if (blob_store_open_read(bs, d, &r->fd, &r->size, err) < 0)
            goto fail;
    } else if (blob_store_stat(bs, d, &r->size, err) < 0) {
        goto fail;
    }
    *size = r->size;
    *out = r;
    return 0;
fail:
    mem_free(r);
    return -1;
}

int blob_reader_take_fd(struct blob_reader *r)
{
    int fd = r->fd;

    r->fd = -1;
    return fd;
}

int blob_reader_pread(struct blob_reader *r, uint64_t off, void *buf, size_t len, size_t *got,
                      struct berr *err)
{
    *got = 0;
    if (off >= r->size || len == 0)
        return 0;
    if (len > r->size - off)
        len = (size_t)(r->size - off);
    if (r->fd >= 0) {
        size_t done = 0;

        while (done < len) {
            ssize_t n = pread(r->fd, (char *)buf + done, len - done, (off_t)(off + done));

            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return berr_sys(err, errno, "blob_store: read blob");
            if (n == 0)
                break;
            done += (size_t)n;
        }
        *got = done;
        return 0;
    }
    return r->bs->ops->read(r->bs->impl, &r->d, off, buf, len, got, err);
}

void blob_reader_close(struct blob_reader *r)
{
    if (r == NULL)
        return;
    if (r->fd >= 0)
        (void)close(r->fd); /* read-only */
    mem_free(r);
}

int blob_store_read_small(const struct blob_store *bs, const struct digest *d, size_t max,
                          char **out, size_t *len, struct berr *err)
{
    struct blob_reader *r = NULL;
    uint64_t size = 0, off = 0;
    char *data = NULL;
    int rc = -1;

    *out = NULL;
    *len = 0;
    if (blob_cache_get(bs->cache, d, out, len) == 1) {
        if (*len <= max)
            return 0;
        mem_free(*out);
        *out = NULL;
        *len = 0;
        return berr_set(err, BERR_TOO_LARGE, "blob too large to read whole");
    }
    if (blob_store_reader_open(bs, d, &r, &size, err) < 0)
        return -1;
    if (size > max) {
        berr_set(err, BERR_TOO_LARGE, "blob too large to read whole");
        goto out;
    }
    data = mem_malloc((size_t)size + 1);
    if (data == NULL) {
        berr_sys(err, ENOMEM, "blob_store: read buffer");
        goto out;
    }
    while (off < size) {
        size_t got = 0;

        if (blob_reader_pread(r, off, data + off, (size_t)(size - off), &got, err) < 0)
            goto out;
        if (got == 0) {
            berr_set(err, BERR_INTERNAL, "blob_store: blob shorter than its size");
            goto out;
        }
        off += got;
    }
    data[size] = '\0';
    blob_cache_put(bs->cache, d, data, (size_t)size);
    *out = data;
    *len = (size_t)size;
    data = NULL;
    rc = 0;
out:
    mem_free(data);
    blob_reader_close(r);
    return rc;
}

int blob_store_presign(const struct blob_store *bs, const struct digest *d, const char *method,
                       char *out, size_t cap, struct berr *err)
{
    return bs->ops->presign(bs->impl, d, method, out, cap, err);
}
