/* upload.h - blob upload sessions.
 *
 * A session is DATA/uploads/<id>/ holding `data` (the bytes received so far) and `info` (the
 * repository name and creation time). The id is 128 random bits in hex, made by the server, so it
 * can name a path. While the server runs, each session keeps its SHA-256 state in memory and every
 * byte is hashed once as it is written; after a restart the state is rebuilt by reading `data`
 * once. One request at a time works on a session: upload_acquire takes it, upload_release gives
 * it back; a second request for a busy session gets BERR_BLOB_UPLOAD_INVALID.
 * Thread-safe: the manager's table is guarded by its own mutex. */
#ifndef BERTH_STORAGE_UPLOAD_H
#define BERTH_STORAGE_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"
#include "common/digest.h"
#include "storage/blob_store.h"

#define UPLOAD_ID_LEN 32
/* A file session starts writeback of its data every UPLOAD_WRITEBACK_BYTES, and waits for the
 * range it started the time before (upload.c, invariant 6). 8 MiB: two syscalls per 16 body
 * pieces of 512 KiB (SERVER_BODY_BUF) cost nothing beside hashing them, and a session holds
 * about 16 MiB of dirty pages whatever the blob's size, so the commit's fsync stays short. */
#define UPLOAD_WRITEBACK_BYTES ((uint64_t)8 << 20)

struct upload_mgr;
struct upload;

/* upload_mgr_new: *out is new (upload_mgr_free); bs is borrowed and must outlive it. */
int upload_mgr_new(struct upload_mgr **out, struct blob_store *bs, struct berr *err);
void upload_mgr_free(struct upload_mgr *m);

/* upload_mgr_set_limit caps the sessions one repository may have open (0 = no cap, the
 * default). Call before the manager is shared between threads. */
void upload_mgr_set_limit(struct upload_mgr *m, unsigned per_repo);
/* upload_mgr_use_meta: on an S3 blob store, sessions live in meta's shared state and the
 * bucket, so any replica can continue any session (storage/upload_s3.c); a no-op on a file
 * store. Call once, before the manager is shared. meta is borrowed and must outlive it. */
struct meta;
int upload_mgr_use_meta(struct upload_mgr *m, struct meta *meta, struct berr *err);
/* upload_create starts a session for repo and writes its id (UPLOAD_ID_LEN hex + NUL).
 * BERR_TOOMANYREQUESTS when repo already has the manager's limit of sessions open (sessions
 * end when committed, cancelled or purged). */
int upload_create(struct upload_mgr *m, const struct repo_name *repo, char id[UPLOAD_ID_LEN + 1],
                  struct berr *err);
/* upload_acquire takes the session `id` for one request. BERR_BLOB_UPLOAD_UNKNOWN when the id is
 * malformed, unknown, or belongs to another repository; BERR_BLOB_UPLOAD_INVALID when another
 * request holds it. *out is borrowed until upload_release. */
int upload_acquire(struct upload_mgr *m, const char *id, const struct repo_name *repo,
                   struct upload **out, struct berr *err);
/* upload_offset: bytes received so far. */
uint64_t upload_offset(const struct upload *u);
/* upload_id: borrowed, valid while acquired. */
const char *upload_id(const struct upload *u);
/* upload_write appends n bytes (write + hash), and every UPLOAD_WRITEBACK_BYTES waits for the
 * disk to take the range before and starts writing the new one. On failure the offset is
 * unchanged as far as the session knows, except when the disk reports it lost bytes already
 * written: then the session starts over empty (offset 0), or where even that fails, its commit
 * fails. The caller answers an error. */
int upload_write(struct upload *u, const void *p, size_t n, struct berr *err);
/* upload_writeback_offset: the bytes at the start of a file session's data whose writeback to
 * disk has been started (every UPLOAD_WRITEBACK_BYTES, see upload.c's invariant 6); 0 for S3
 * sessions. For tests and diagnostics: durability still comes from the commit's fsync only. */
uint64_t upload_writeback_offset(const struct upload *u);
#ifdef BERTH_TEST_BUILD
/* Test builds only: when set, called instead of sync_file_range(fd, off, len, wait ?
 * SYNC_FILE_RANGE_WAIT_BEFORE : SYNC_FILE_RANGE_WRITE), with its result and errno. */
typedef int (*upload_test_sfr_fn)(int fd, uint64_t off, uint64_t len, int wait);
extern upload_test_sfr_fn upload_test_sfr;
#endif
/* upload_flush makes the bytes written so far in this request durable for every replica before
 * the request is answered (S3 sessions); a no-op for file sessions. On failure the session is
 * as before the request. */
int upload_flush(struct upload *u, struct berr *err);
/* upload_commit checks the received bytes hash to *want (BERR_DIGEST_INVALID otherwise, and the
 * session is discarded), fsyncs, moves the file into the blob store, and ends the session.
 * *size gets the blob's size. After commit (success or failure) u is gone: do not release it.
 * The file lands without a meta row; the server links it in the same transaction instead
 * (upload_commit_link), so a gc running alongside cannot collect it in between. */
int upload_commit(struct upload *u, const struct digest *want, uint64_t *size, struct berr *err);
/* upload_link_fn gets the checked, fsynced file of a finished session (path, size bytes) and
 * must move it into the blob store together with its meta row (meta_blob_link_place with
 * blob_store_place), or fail leaving it where it is. */
typedef int (*upload_link_fn)(const char *path, uint64_t size, void *ctx, struct berr *err);
/* upload_commit_link is upload_commit that hands the file to link (not NULL) instead of moving
 * it into the store itself; the session ends either way, its leftovers removed. */
int upload_commit_link(struct upload *u, const struct digest *want, upload_link_fn link, void *ctx,
                       uint64_t *size, struct berr *err);
/* upload_release gives an acquired session back. */
void upload_release(struct upload *u);
/* upload_cancel ends a session and removes its files; BERR_BLOB_UPLOAD_UNKNOWN as acquire. */
int upload_cancel(struct upload_mgr *m, const char *id, const struct repo_name *repo,
                  struct berr *err);
/* upload_purge removes idle sessions created more than max_age_s ago, and entries of uploads/
 * older than that which no session owns (info-less directories and blob_store_put_buf temp files
 * left by a crash); *removed counts them. Sessions held by a request of this manager are kept. */
int upload_purge(struct upload_mgr *m, int64_t max_age_s, unsigned *removed, struct berr *err);
/* upload_sweep_debris removes, whatever their age, the entries of uploads/ that are not a usable
 * session: files (temp files of manifests left by a crash), session directories without a
 * readable info or without data (a crash while creating or committing). Sessions this manager
 * holds are kept. For the start-up, while no request runs; *removed counts them. */
int upload_sweep_debris(struct upload_mgr *m, unsigned *removed, struct berr *err);
/* upload_purge_count counts what upload_purge would remove, removing nothing (gc --dry-run). */
int upload_purge_count(struct upload_mgr *m, int64_t max_age_s, unsigned *n, struct berr *err);

#endif
