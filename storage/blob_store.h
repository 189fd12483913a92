/* blob_store.h - content-addressed blob files under DATA/blobs/sha256/<2 hex>/<hex>.
 *
 * A blob file never changes once in place and always hashes to its own name. Manifests are blobs
 * too (their exact received bytes). The store knows nothing of repositories: which repository may
 * serve which blob is recorded by storage/meta. Thread-safe: the struct is read-only after open. */
#ifndef BERTH_STORAGE_BLOB_STORE_H
#define BERTH_STORAGE_BLOB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "common/berr.h"
#include "common/digest.h"

struct blob_store;

/* blob_store_open creates ROOT/blobs/sha256 and ROOT/uploads when missing.
 * *out is new (blob_store_close). */
int blob_store_open(struct blob_store **out, const char *root, struct berr *err);
void blob_store_close(struct blob_store *bs);
/* blob_store_root: borrowed, valid until close. */
const char *blob_store_root(const struct blob_store *bs);
/* blob_store_path writes the final path of a blob into out. */
int blob_store_path(const struct blob_store *bs, const struct digest *d, char *out, size_t cap,
                    struct berr *err);
/* blob_store_stat: size of a stored blob; BERR_BLOB_UNKNOWN when the file is missing. */
int blob_store_stat(const struct blob_store *bs, const struct digest *d, uint64_t *size,
                    struct berr *err);
/* blob_store_open_read opens a blob read-only (O_CLOEXEC); *fd is the caller's to close.
 * BERR_BLOB_UNKNOWN when missing. */
int blob_store_open_read(const struct blob_store *bs, const struct digest *d, int *fd,
                         uint64_t *size, struct berr *err);
/* blob_store_put_buf stores bytes held in memory (a manifest): computes their digest into *out,
 * and unless that blob exists already writes a temp file under uploads/, fsyncs, renames into
 * place, fsyncs the directory. With gc running, use blob_store_stage_buf and place the file in
 * the transaction of its row instead. */
int blob_store_put_buf(struct blob_store *bs, const void *data, size_t len, struct digest *out,
                       struct berr *err);
/* blob_store_stage_buf writes bytes held in memory (a manifest) to a new temp file under
 * uploads/, fsynced, and its path into tmp (cap bytes); *out gets their digest. The blob goes
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
typedef int (*blob_walk_fn)(const struct digest *d, uint64_t size, int64_t mtime, void *ctx);
typedef void (*blob_bad_fn)(const char *path, void *ctx);
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
