/* out_tar.h - archive outputs of `berth pull`, written with libarchive.
 *
 * Both archives are built from a blob directory that fetch.h filled (ROOT/blobs/sha256/...),
 * streaming every blob from its file in fixed chunks: no blob is ever held in memory whole.
 * The archive is written to FILE.tmp and renamed to FILE once complete.
 *   - out_tar_docker: a docker-archive as docker 25 writes it: manifest.json, repositories,
 *     oci-layout, index.json and blobs/sha256/<hex> (config and layers, layers as pulled,
 *     compressed). `docker load` and `podman load` read it. One image only.
 *   - out_tar_oci: an OCI image layout in a tar (oci-archive): oci-layout, index.json, blobs. */
#ifndef BERTH_PULLER_OUT_TAR_H
#define BERTH_PULLER_OUT_TAR_H

#include <stddef.h>

#include "common/berr.h"
#include "puller/fetch.h"

/* out_tar_manifest_json returns (new, mem_free) docker's manifest.json for one image:
 * [{"Config":"blobs/sha256/<hex>","RepoTags":[repo_tag],"Layers":[...]}]; repo_tag may be NULL
 * (no tag: by-digest pull). */
int out_tar_manifest_json(char **out, const struct fetch_image *img, const char *repo_tag,
                          struct berr *err);

/* out_tar_docker writes a docker-archive of r (exactly one image, else BERR_UNSUPPORTED) to
 * path. repo ("host/name") and tag (NULL or "" when pulled by digest) name it. */
int out_tar_docker(const char *path, const char *root, const struct fetch_result *r,
                   const char *repo, const char *tag, const char *image_name, struct berr *err);

/* out_tar_oci writes an oci-archive of r to path, the index entry named ref_name. */
int out_tar_oci(const char *path, const char *root, const struct fetch_result *r,
                const char *ref_name, const char *image_name, struct berr *err);

#endif
