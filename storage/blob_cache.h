/* blob_cache.h - small blobs (manifests) kept in memory by digest: a manifest GET then costs no
 * round trip to an object store (S3), and on the file store no open, sendfile and close (its
 * answer leaves in one send with the headers: 37.6 -> 25.7 us of server CPU per GET measured).
 *
 * Content-addressed, so never stale: the bytes of a digest cannot change, and an entry is put
 * only after its bytes hashed to its digest. Whether a manifest may be served at all is the
 * metadata's answer (resolve), asked before the cache, so a deleted blob's entry is never
 * reached through a manifest GET; it just waits to be replaced.
 * Bounded: BLOB_CACHE_SLOTS direct-mapped slots (by the digest's first hex digits), entries of
 * at most BLOB_CACHE_ENTRY_MAX bytes, BLOB_CACHE_BYTES in all (a put that would pass the bound
 * is dropped). A replica may lose it at any time.
 * Thread-safe: BLOB_CACHE_LOCKS striped mutexes, none held process-wide. */
#ifndef BERTH_STORAGE_BLOB_CACHE_H
#define BERTH_STORAGE_BLOB_CACHE_H

#include <stddef.h>

#include "common/berr.h"
#include "common/digest.h"

#define BLOB_CACHE_SLOTS 4096
#define BLOB_CACHE_LOCKS 64
#define BLOB_CACHE_ENTRY_MAX ((size_t)256 * 1024)
#define BLOB_CACHE_BYTES ((size_t)32 * 1024 * 1024)

struct blob_cache;

/* blob_cache_new: *out is new (blob_cache_free). */
int blob_cache_new(struct blob_cache **out, struct berr *err);
void blob_cache_free(struct blob_cache *c);
/* blob_cache_get: 1 with a copy of d's bytes in *out (mem_free; NUL after len bytes) and *len,
 * 0 when d is not cached (or the copy could not be made), *out NULL then. */
int blob_cache_get(struct blob_cache *c, const struct digest *d, char **out, size_t *len);
/* blob_cache_put keeps a copy of p (len bytes) as d's, when they hash to d and fit the bounds;
 * otherwise it does nothing. */
void blob_cache_put(struct blob_cache *c, const struct digest *d, const void *p, size_t len);

#endif
