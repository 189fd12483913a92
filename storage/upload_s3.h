/* upload_s3.h - upload sessions of an S3 blob store, shared by every replica.
 *
 * A session is one record of the shared state (namespace "upload", key the session id) plus
 * objects under _uploads/<id>/ of the bucket: the multipart upload of its data, and the last
 * bytes that do not make a part yet (a "tail" object). Any replica may take the next request of
 * a session. storage/upload.c dispatches here when its blob store is S3; nothing else calls
 * this header. Thread-safe: no state beyond the struct given back by acquire. */
#ifndef BERTH_STORAGE_UPLOAD_S3_H
#define BERTH_STORAGE_UPLOAD_S3_H

#include <stdint.h>

#include "common/berr.h"
#include "common/digest.h"
#include "storage/blob_store.h"
#include "storage/meta.h"

#define UPLOAD_S3_ID_LEN 32
#define UPLOAD_S3_NS "upload"

struct us3_mgr;
struct us3;

/* us3_link_fn: as upload_link_fn; path is "" (the blob object is in place already). */
typedef int (*us3_link_fn)(const char *path, uint64_t size, void *ctx, struct berr *err);

int us3_mgr_new(struct us3_mgr **out, struct blob_store *bs, struct meta *meta, struct berr *err);
void us3_mgr_free(struct us3_mgr *m);
void us3_mgr_set_limit(struct us3_mgr *m, unsigned per_repo);
int us3_create(struct us3_mgr *m, const struct repo_name *repo, char id[UPLOAD_S3_ID_LEN + 1],
               struct berr *err);
int us3_acquire(struct us3_mgr *m, const char *id, const struct repo_name *repo, struct us3 **out,
                struct berr *err);
uint64_t us3_offset(const struct us3 *u);
const char *us3_id(const struct us3 *u);
int us3_write(struct us3 *u, const void *p, size_t n, struct berr *err);
/* us3_flush makes what this request wrote durable and visible to every replica (the tail
 * object, then the record). */
int us3_flush(struct us3 *u, struct berr *err);
int us3_commit(struct us3 *u, const struct digest *want, us3_link_fn link, void *ctx,
               uint64_t *size, struct berr *err);
void us3_release(struct us3 *u);
int us3_cancel(struct us3_mgr *m, const char *id, const struct repo_name *repo, struct berr *err);
/* us3_purge ends sessions created more than max_age_s ago that no request holds, aborts
 * multipart uploads and removes objects under _uploads/ of that age that no session owns;
 * *removed counts sessions and orphans. dry: count only. */
int us3_purge(struct us3_mgr *m, int64_t max_age_s, int dry, unsigned *removed, struct berr *err);

#endif
