/* s3.h - a small S3 client (libcurl + storage/s3_sign): the object calls the blob store needs.
 *
 * Path-style addressing (ENDPOINT/BUCKET/KEY), SigV4 on every request. Keys are given unencoded
 * and must be printable ASCII. Transient failures (connection errors, 5xx, 429) are retried a few
 * times with a growing pause, then reported; nothing retries forever. A 404 is BERR_NOT_FOUND;
 * anything else the server refuses is BERR_INTERNAL with S3's error code in the message (never a
 * credential). Thread-safe: handles come from a small mutex-guarded pool, so connections are
 * reused across requests. */
#ifndef BERTH_STORAGE_S3_H
#define BERTH_STORAGE_S3_H

#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"

#define S3_MIN_PART_BYTES ((size_t)5 * 1024 * 1024)
#define S3_MAX_COPY_BYTES ((uint64_t)5 * 1024 * 1024 * 1024)
#define S3_UPLOAD_ID_MAX 256
#define S3_ETAG_MAX 128
#define S3_MAX_PARTS 10000

struct s3_opts {
    const char *endpoint; /* "http://127.0.0.1:7480" (scheme, host, optional port) */
    const char *region;   /* "us-east-1" when NULL */
    const char *bucket;
    const char *access_key;
    const char *secret_key;
    unsigned retries;   /* attempts after the first; 0 means the default (4) */
    unsigned timeout_s; /* per request without a big body; 0 means 60 */
};

struct s3;

/* s3_new copies opts; *out is new (s3_free). Checks the options, contacts nobody. */
int s3_new(struct s3 **out, const struct s3_opts *opts, struct berr *err);
void s3_free(struct s3 *s);
/* s3_bucket: borrowed. */
const char *s3_bucket(const struct s3 *s);

/* s3_bucket_create makes the bucket; one that exists and is ours already is fine. */
int s3_bucket_create(struct s3 *s, struct berr *err);
/* s3_put stores len bytes under key (replacing any object there). */
int s3_put(struct s3 *s, const char *key, const void *data, size_t len, struct berr *err);
/* s3_head: 1 and *size when key exists, 0 when not (404), -1 on error. mtime (may be NULL) gets
 * Last-Modified as epoch seconds (0 when absent). */
int s3_head(struct s3 *s, const char *key, uint64_t *size, int64_t *mtime, struct berr *err);
/* s3_get_range reads bytes [off, off+len) of key into out (len bytes; the object must hold them):
 * *got gets how many came (less only at the object's end). BERR_NOT_FOUND when missing. */
int s3_get_range(struct s3 *s, const char *key, uint64_t off, size_t len, void *out, size_t *got,
                 struct berr *err);
/* s3_touch gives key a new Last-Modified (a copy onto itself); BERR_NOT_FOUND when missing. */
int s3_touch(struct s3 *s, const char *key, struct berr *err);
/* s3_delete removes key; a missing key is not an error. */
int s3_delete(struct s3 *s, const char *key, struct berr *err);
/* s3_copy copies src to dst inside the bucket (size of src given: above S3_MAX_COPY_BYTES the copy
 * is a multipart copy in 1 GiB parts). BERR_NOT_FOUND when src is missing. */
int s3_copy(struct s3 *s, const char *dst, const char *src, uint64_t size, struct berr *err);

/* s3_list calls fn for every object whose key starts with prefix, in key order (ListObjectsV2,
 * following continuation tokens). fn's non-zero return stops the walk and is returned. */
typedef int (*s3_list_fn)(const char *key, uint64_t size, int64_t mtime, void *ctx);
int s3_list(struct s3 *s, const char *prefix, s3_list_fn fn, void *ctx, struct berr *err);

/* Multipart uploads. upload_id is S3's (at most S3_UPLOAD_ID_MAX - 1 bytes). */
struct s3_part {
    unsigned number; /* 1..S3_MAX_PARTS */
    char etag[S3_ETAG_MAX];
};
int s3_mpu_create(struct s3 *s, const char *key, char upload_id[S3_UPLOAD_ID_MAX],
                  struct berr *err);
/* s3_mpu_part uploads part `number` (len bytes; at least S3_MIN_PART_BYTES unless last) and
 * writes its ETag. */
int s3_mpu_part(struct s3 *s, const char *key, const char *upload_id, unsigned number,
                const void *data, size_t len, char etag[S3_ETAG_MAX], struct berr *err);
/* s3_mpu_part_copy: part `number` is bytes [off, off+len) of the object src. */
int s3_mpu_part_copy(struct s3 *s, const char *key, const char *upload_id, unsigned number,
                     const char *src, uint64_t off, uint64_t len, char etag[S3_ETAG_MAX],
                     struct berr *err);
/* s3_mpu_complete joins the parts (in the order given, ascending numbers) into key. */
int s3_mpu_complete(struct s3 *s, const char *key, const char *upload_id,
                    const struct s3_part *parts, size_t n, struct berr *err);
/* s3_mpu_abort drops an upload and its parts; an unknown upload is not an error. */
int s3_mpu_abort(struct s3 *s, const char *key, const char *upload_id, struct berr *err);
/* s3_mpu_list calls fn for every multipart upload in progress whose key starts with prefix
 * (ListMultipartUploads, following markers); initiated is epoch seconds. */
typedef int (*s3_mpu_fn)(const char *key, const char *upload_id, int64_t initiated, void *ctx);
int s3_mpu_list(struct s3 *s, const char *prefix, s3_mpu_fn fn, void *ctx, struct berr *err);

/* s3_presign_url: a URL that lets its holder `method` ("GET" or "HEAD") key for expires_s
 * seconds, with no other credential. */
int s3_presign_url(struct s3 *s, const char *method, const char *key, unsigned expires_s, char *out,
                   size_t cap, struct berr *err);

#endif
