/* blob_s3.h - the S3 backend of the blob store (struct blob_backend over storage/s3.c).
 *
 * Blob sha256:<hex> is the object blobs/sha256/<hex[0..1]>/<hex> of the bucket. Only
 * storage/blob_store.c uses this header. Thread-safe like storage/s3.c. */
#ifndef BERTH_STORAGE_BLOB_S3_H
#define BERTH_STORAGE_BLOB_S3_H

#include "common/berr.h"
#include "storage/blob_store.h"

struct blob_s3;

extern const struct blob_backend blob_s3_backend;

/* blob_s3_open makes the client and the bucket (when missing); *out new (blob_s3_backend.close). */
int blob_s3_open(struct blob_s3 **out, const struct blob_s3_opts *o, struct berr *err);
/* blob_s3_client: the S3 client underneath (borrowed), for the S3 upload sessions. */
struct s3 *blob_s3_client(struct blob_s3 *b);
/* blob_s3_key writes the object key of d. */
void blob_s3_key(char out[96], const struct digest *d);

#endif
