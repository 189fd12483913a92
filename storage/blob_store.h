/* blob_store.h - content-addressed blobs: files under DATA/blobs/sha256/<2 hex>/<hex>, or objects
 * blobs/sha256/<2 hex>/<hex> of an S3 bucket.
 *
 * A blob never changes once in place and always hashes to its own name. Manifests are blobs
 * too (their exact received bytes). The store knows nothing of repositories: which repository may
 * serve which blob is recorded by storage/meta. Both kinds sit behind one ops table (struct
 * blob_backend); the calls below dispatch to it. What only a file store can do (a path, a
 * descriptor for sendfile) says so. Thread-safe: the struct is read-only after open. */
#ifndef BERTH_STORAGE_BLOB_STORE_H
#define BERTH_STORAGE_BLOB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "common/berr.h"
#include "common/digest.h"

struct blob_store;
struct blob_reader;

typedef int (*blob_walk_fn)(const struct digest *d, uint64_t size, int64_t mtime, void *ctx);
typedef void (*blob_bad_fn)(const char *path, void *ctx);

/* The operations of one kind of store. impl is the backend's own state. Errors as the public
 * calls below; BERR_BLOB_UNKNOWN for a missing blob. */
struct blob_backend {
    const char *kind; /* "file", "s3" */
    void (*close)(void *impl);
    /* size and last-modified time (epoch s) of a stored blob */
    int (*stat)(void *impl, const struct digest *d, uint64_t *size, int64_t *mtime,
                struct berr *err);
    /* up to len bytes from off into buf, *got how many (fewer only at the end) */
    int (*read)(void *impl, const struct digest *d, uint64_t off, void *buf, size_t len,
                size_t *got, struct berr *err);
    /* bytes in memory known to hash to d into place; when d is there already, its time is
     * refreshed instead (so gc's orphan sweep spares it) */
    int (*put_buf)(void *impl, const struct digest *d, const void *data, size_t len,
                   struct berr *err);
    /* a checked, fsynced local file hashing to d into place (moved or copied; the file is gone
     * afterwards on success); dedup and refresh as put_buf */
    int (*put_file)(void *impl, const struct digest *d, const char *path, struct berr *err);
    /* remove d when last modified before `before` (0: whatever its age): 1 removed or absent,
     * 0 kept, -1 error */
    int (*drop)(void *impl, const struct digest *d, int64_t before, struct berr *err);
    /* every stored blob, in no particular order; see blob_store_walk */
    int (*walk)(void *impl, blob_walk_fn fn, blob_bad_fn bad_fn, void *ctx);
    /* a URL clients may fetch d from themselves (method "GET" or "HEAD"): 1 and the URL, 0 when
     * this store does not redirect */
    int (*presign)(void *impl, const struct digest *d, const char *method, char *out, size_t cap,
                   struct berr *err);
};

/* Options of an S3 store (strings borrowed for the call). */
struct blob_s3_opts {
    const char *endpoint; /* "http://host:port" */
    const char *region;
    const char *bucket;
    const char *access_key;
    const char *secret_key;
    int redirect;            /* blob GET/HEAD answer 307 to a presigned URL */
    unsigned redirect_ttl_s; /* lifetime of those URLs; 0 = 20 min */
};

/* blob_store_open creates ROOT/blobs/sha256 and ROOT/uploads when missing.
 * *out is new (blob_store_close). */
int blob_store_open(struct blob_store **out, const char *root, struct berr *err);
/* blob_store_open_s3: blobs in an S3 bucket (created when missing). root still holds the local
 * upload area and the database. */
int blob_store_open_s3(struct blob_store **out, const char *root, const struct blob_s3_opts *o,
                       struct berr *err);
/* blob_store_open_config: the store cfg names (blob_store, s3_*, redirect, the AWS_* environment
 * as fallback) on cfg->data_dir. */
struct berth_config;
int blob_store_open_config(struct blob_store **out, const struct berth_config *cfg,
                           struct berr *err);
void blob_store_close(struct blob_store *bs);
/* blob_store_kind: "file" or "s3". */
const char *blob_store_kind(const struct blob_store *bs);
/* blob_store_s3_client: the S3 client of an S3 store (borrowed), NULL for a file store; the S3
 * upload sessions (storage/upload_s3.c) write through it. */
struct s3;
struct s3 *blob_store_s3_client(const struct blob_store *bs);
/* blob_store_s3_key: the object key of blob d in an S3 store. */
void blob_store_s3_key(char out[96], const struct digest *d);
/* blob_store_root: borrowed, valid until close. */
const char *blob_store_root(const struct blob_store *bs);
/* blob_store_path writes the final path of a blob into out (file store only: BERR_UNSUPPORTED
 * otherwise). */
int blob_store_path(const struct blob_store *bs, const struct digest *d, char *out, size_t cap,
                    struct berr *err);
/* blob_store_stat: size of a stored blob; BERR_BLOB_UNKNOWN when the file is missing. */
int blob_store_stat(const struct blob_store *bs, const struct digest *d, uint64_t *size,
                    struct berr *err);
/* blob_store_stat_time: blob_store_stat plus the last-modified time (epoch s). */
int blob_store_stat_time(const struct blob_store *bs, const struct digest *d, uint64_t *size,
                         int64_t *mtime, struct berr *err);
/* blob_store_open_read opens a blob read-only (O_CLOEXEC); *fd is the caller's to close.
 * BERR_BLOB_UNKNOWN when missing; BERR_UNSUPPORTED on a store without files (use a reader). */
int blob_store_open_read(const struct blob_store *bs, const struct digest *d, int *fd,
                         uint64_t *size, struct berr *err);
/* A reader of one blob, whatever the store. blob_store_reader_open: *out new
 * (blob_reader_close), *size the blob's size; BERR_BLOB_UNKNOWN when missing. */
int blob_store_reader_open(const struct blob_store *bs, const struct digest *d,
                           struct blob_reader **out, uint64_t *size, struct berr *err);
/* blob_reader_take_fd: on a file store, the open descriptor (now the caller's; the reader keeps
 * working through it no longer); -1 otherwise. */
int blob_reader_take_fd(struct blob_reader *r);
/* blob_reader_pread reads up to len bytes at off into buf: *got bytes (0 at or past the end). */
int blob_reader_pread(struct blob_reader *r, uint64_t off, void *buf, size_t len, size_t *got,
                      struct berr *err);
void blob_reader_close(struct blob_reader *r);
/* blob_store_read_small reads a whole blob of at most max bytes: *out new (mem_free), NUL
 * after *len bytes. BERR_TOO_LARGE when bigger. */
int blob_store_read_small(const struct blob_store *bs, const struct digest *d, size_t max,
                          char **out, size_t *len, struct berr *err);
/* blob_store_presign: 1 and a URL (valid a short while) clients may `method` ("GET" or "HEAD")
 * the blob at without credentials, when the store is set to redirect; 0 when it is not. */
int blob_store_presign(const struct blob_store *bs, const struct digest *d, const char *method,
                       char *out, size_t cap, struct berr *err);

/* blob_store_put_buf stores bytes held in memory (a manifest): computes their digest into *out,
 * and unless that blob exists already writes a temp file under uploads/, fsyncs, renames into
 * place, fsyncs the directory. With gc running, use blob_store_stage_buf and place the file in
 * the transaction of its row instead. */
int blob_store_put_buf(struct blob_store *bs, const void *data, size_t len, struct digest *out,
                       struct berr *err);
/* blob_store_stage_buf writes bytes held in memory (a manifest) to a new temp file under
 * uploads/, fsynced, and its path into tmp (cap bytes); *out gets their digest. On a store
 * without files the bytes go straight to their final object instead and tmp is "" (an object
 * whose row never lands is an orphan for gc's sweep). The blob goes
 * into place with blob_store_place inside the link's transaction (meta_blob_link_place); the
 * caller removes tmp (unlink, ENOENT fine) when that never happens. On failure nothing is left. */
int blob_store_stage_buf(struct blob_store *bs, const void *data, size_t len, struct digest *out,
                         char *tmp, size_t cap, struct berr *err);
/* blob_store_commit_file moves a finished upload file (under ROOT/uploads, already fsynced, whose
 * SHA-256 the caller has checked equals *d) into place and fsyncs the directory. When the blob
 * exists already the file is removed instead (dedup). */
int blob_store_commit_file(struct blob_store *bs, const char *tmp_path, const struct digest *d,
                           struct berr *err);
/* blob_store_remove deletes a blob file (gc only). Missing is not an error. */
int blob_store_remove(struct blob_store *bs, const struct digest *d, struct berr *err);

/* The file steps a meta transaction runs (meta_file_fn): all fields borrowed for the call. */
struct blob_place {
    struct blob_store *bs;
    const char *tmp_path;   /* a checked, fsynced file to move in; NULL: d must be there (mount) */
    const struct digest *d; /* what tmp_path hashes to */
};
/* blob_store_place: blob_store_commit_file(tmp_path), or with no tmp_path a check that the blob
 * file exists (BERR_BLOB_UNKNOWN when not). ctx is a struct blob_place. */
int blob_store_place(void *ctx, struct berr *err);
struct blob_drop {
    struct blob_store *bs;
    const struct digest *d;
    int64_t before; /* remove only a file last touched before this (epoch s); 0: whatever its age */
};
/* blob_store_drop removes the blob file when older than `before`: 1 removed (or already gone),
 * 0 kept (touched since: a push is placing it), -1 on error. ctx is a struct blob_drop. */
int blob_store_drop(void *ctx, struct berr *err);
/* blob_store_free: bytes free for the server (statvfs f_bavail) on the filesystem of the
 * store's root, and that filesystem's size. */
int blob_store_free(const struct blob_store *bs, uint64_t *avail, uint64_t *total,
                    struct berr *err);

/* blob_store_walk calls fn for every file under blobs/sha256 whose name is a valid digest;
 * fn returning non-zero stops the walk with that value. Files with bad names are reported to
 * bad_fn (may be NULL) with their path. */
int blob_store_walk(const struct blob_store *bs, blob_walk_fn fn, blob_bad_fn bad_fn, void *ctx);
/* blob_store_verify re-hashes one blob: 0 when it matches its name, -1 with BERR_DIGEST_INVALID
 * when it does not, BERR_BLOB_UNKNOWN when missing. */
int blob_store_verify(const struct blob_store *bs, const struct digest *d, struct berr *err);
/* blob_store_hash_fd hashes the file open on fd from its first byte to its end (pread: the
 * descriptor's offset does not move). *out is a new SHA-256 context holding that state (free it
 * with EVP_MD_CTX_free; NULL on failure) and *len the bytes hashed. what names the file in the
 * log when reading fails. Errors: BERR_INTERNAL. */
int blob_store_hash_fd(EVP_MD_CTX **out, uint64_t *len, int fd, const char *what, struct berr *err);

#endif
