/* manifest_parse.h - checking a pushed manifest and reading what the registry must record.
 *
 * Pure parsing: no HTTP, no SQLite, no files. The bytes are only read (jansson, duplicate keys
 * rejected); the registry stores and hashes the exact bytes it received, never a re-serialization.
 *
 * Accepted media types: Docker schema 2 manifest and manifest list, OCI image manifest and image
 * index (OCI artifacts are image manifests with any config media type and/or an artifactType).
 * Everything refused, Docker schema 1 and a malformed descriptor digest included, is
 * BERR_MANIFEST_INVALID with a message naming the field or the reason. Not BERR_UNSUPPORTED for
 * schema 1: that code answers 405, which tells a client the method is wrong. DIGEST_INVALID is
 * kept for "the content does not match the digest the client named".
 * Digests are sha256 only (common/digest.h), so a descriptor with another algorithm is refused.
 * Reentrant; allocation goes through common/mem.h (jansson's too once mem_install_json ran). */
#ifndef BERTH_REGISTRY_MANIFEST_PARSE_H
#define BERTH_REGISTRY_MANIFEST_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"
#include "common/digest.h"
#include "storage/meta.h"

#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"

enum manifest_kind {
    MANIFEST_KIND_IMAGE, /* config + layers (Docker schema 2, OCI image manifest, OCI artifact) */
    MANIFEST_KIND_INDEX  /* manifests[] (Docker manifest list, OCI image index) */
};

struct manifest_info {
    enum manifest_kind kind;
    /* the media type to store and serve back as Content-Type: the JSON mediaType field when
     * present, else the Content-Type (without parameters), else inferred (OCI) */
    char media_type[META_MEDIA_TYPE_MAX + 1];
    char *artifact_type;    /* new or NULL: explicit artifactType, else (OCI image manifest) the
                             * config mediaType, as the referrers API requires */
    char *annotations_json; /* new or NULL: the "annotations" object as compact JSON */
    bool has_subject;
    struct digest subject;

    /* image manifests: the blobs that must be linked to the repository before the manifest is
     * accepted: config first, then every layer without `urls`, in manifest order, duplicates
     * kept out */
    struct digest *blobs; /* new (mem_free via manifest_info_cleanup) */
    size_t nblobs;
    /* layers carrying `urls` (foreign / non-distributable): listed, not required in the repo */
    struct digest *foreign;
    size_t nforeign;

    /* indexes: one entry per element of manifests[], in order */
    struct meta_child *children;
    size_t nchildren;
};

/* manifest_parse checks len bytes of data as a manifest and fills *out, which the caller frees
 * with manifest_info_cleanup. On failure *out is zeroed and holds nothing (cleanup is harmless).
 *
 * content_type is the request's Content-Type header or NULL. Parameters (";charset=...") and
 * case are ignored. NULL, "", application/json and application/octet-stream count as "not
 * given". When both the header and the JSON mediaType are given they must name the same type.
 *
 * Errors: BERR_MANIFEST_INVALID (with a message naming the field) for malformed JSON, duplicate
 * keys, schemaVersion != 2, a missing or malformed config, layers, manifests entry or subject,
 * an unknown media type, a media type that disagrees with the header, and schema 1;
 * BERR_INTERNAL when memory runs out. */
int manifest_parse(struct manifest_info *out, const void *data, size_t len,
                   const char *content_type, struct berr *err);

/* manifest_info_cleanup frees what manifest_parse allocated and zeroes *m. NULL is a no-op. */
void manifest_info_cleanup(struct manifest_info *m);

/* manifest_media_type_base copies the media type of a header value (parameters and surrounding
 * blanks removed, lowercased) into out; "" for NULL or a header with no type. Returns false (out
 * set to "") when it does not fit in cap. */
bool manifest_media_type_base(char *out, size_t cap, const char *header);

/* manifest_media_type_known: one of the four manifest media types Berth accepts. */
bool manifest_media_type_known(const char *mt);

#endif
