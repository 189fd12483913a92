/* out_oci.h - the OCI image layout output of `berth pull`.
 *
 * The blobs are already in ROOT/blobs/sha256 (fetch.h puts them there); this module writes
 * ROOT/oci-layout and merges the pulled image into ROOT/index.json, annotated with
 * org.opencontainers.image.ref.name. Existing entries of other names stay, so one layout can
 * hold several images; an entry with the same name (or, unnamed, the same digest) is replaced. */
#ifndef BERTH_PULLER_OUT_OCI_H
#define BERTH_PULLER_OUT_OCI_H

#include <stddef.h>

#include "common/berr.h"
#include "puller/fetch.h"

#define OUT_OCI_INDEX_MAX_BYTES (4u * 1024u * 1024u)
#define OUT_OCI_REF_NAME "org.opencontainers.image.ref.name"

/* out_oci_top picks the descriptor the layout's index.json should name: the index itself when
 * several platforms were pulled, else the one image manifest. *platform is set (borrowed from r)
 * when the entry has one, else NULL. */
const struct fetch_desc *out_oci_top(const struct fetch_result *r,
                                     const struct fetch_platform **platform);

/* out_oci_index_json returns (new, mem_free) the bytes of index.json: `existing` (len bytes, or
 * NULL) with the entry for ref_name ("" for none) replaced by desc. BERR_MANIFEST_INVALID when
 * existing is not an OCI index. */
int out_oci_index_json(char **out, size_t *out_len, const char *existing, size_t len,
                       const struct fetch_desc *desc, const struct fetch_platform *platform,
                       const char *ref_name, const char *image_name, struct berr *err);

/* out_oci_finish writes ROOT/oci-layout (if missing) and the merged ROOT/index.json,
 * atomically. image_name ("registry/repo:tag") goes into io.containerd.image.name. */
int out_oci_finish(const char *root, const struct fetch_result *r, const char *ref_name,
                   const char *image_name, struct berr *err);

#endif
