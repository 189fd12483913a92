/* fetch.h - from a reference to verified blobs on disk.
 *
 * fetch_resolve reads the manifest a reference names; when it is an index (OCI index or Docker
 * manifest list) it picks the manifest of one platform, or all of them, and reads those. Every
 * manifest's bytes are checked against the digest that named them, stored as a blob, and
 * parsed into a struct fetch_image (config plus layers). fetch_blobs then downloads the configs
 * and layers, N at a time, into the same blob directory.
 *
 * The blob directory is an OCI layout root: a blob lives at ROOT/blobs/sha256/<hex>, and only
 * once its size and SHA-256 were checked while it streamed in; until then it grows in
 * ROOT/blobs/sha256/<hex>.partial, which survives an interrupted pull and is resumed with a Range
 * request the next time. A blob already in place whose content verifies is reused.
 *
 * fetch.c holds the platform helpers and fetch_resolve; fetch_blobs.c the downloads
 * (fetch_blobs, fetch_resume_plan). */
#ifndef BERTH_PULLER_FETCH_H
#define BERTH_PULLER_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"
#include "common/digest.h"
#include "puller/client.h"
#include "puller/progress.h"

#define FETCH_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define FETCH_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define FETCH_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define FETCH_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define FETCH_MAX_LAYERS 1024
#define FETCH_MAX_PARALLEL 32

struct fetch_platform {
    char os[32];
    char arch[32];
    char variant[16];
};

/* A blob named by a descriptor. */
struct fetch_desc {
    struct digest digest;
    uint64_t size;
    char media_type[CLIENT_MEDIA_TYPE_MAX];
};

struct fetch_image {
    struct fetch_desc manifest;
    bool has_platform; /* the index gave one */
    struct fetch_platform platform;
    struct fetch_desc config;
    struct fetch_desc *layers; /* owned */
    size_t nlayers;
};

struct fetch_result {
    bool is_index;              /* the reference named an index */
    struct fetch_desc top;      /* what the reference named (index or manifest) */
    struct fetch_image *images; /* owned; one unless all_platforms */
    size_t nimages;
};

struct fetch_opts {
    const char *root;               /* blob directory (OCI layout root), created if missing */
    const char *reference;          /* tag or "sha256:..." to ask the registry for */
    const char *digest;             /* "" or the digest the reference pins: the bytes must match */
    struct fetch_platform platform; /* wanted platform (normalized by fetch_resolve) */
    bool all_platforms;
    int parallel;              /* concurrent blob downloads, 1..FETCH_MAX_PARALLEL */
    struct progress *progress; /* borrowed */
};

/* fetch_platform_parse reads "os/arch[/variant]"; BERR_BAD_REQUEST when malformed. The result
 * is normalized (see fetch_platform_normalize). */
int fetch_platform_parse(struct fetch_platform *out, const char *s, struct berr *err);
/* fetch_platform_host: the platform this binary runs on (uname), normalized. */
void fetch_platform_host(struct fetch_platform *out);
/* fetch_platform_normalize maps aliases as containerd does: x86_64/x86-64 -> amd64,
 * aarch64 -> arm64, armhf -> arm/v7, armel -> arm/v6, i386/i686 -> 386; lower-cases os and
 * arch; an arm64 variant "8" or "" becomes "v8", an arm variant "" becomes "v7", "7" -> "v7". */
void fetch_platform_normalize(struct fetch_platform *p);
/* fetch_platform_match scores how well `have` (from an index) serves `want`: -1 no match,
 * 2 exact match, 1 a compatible older arm variant (v7 hosts run v6 and v5 images). Both are
 * normalized first (on copies). */
int fetch_platform_match(const struct fetch_platform *want, const struct fetch_platform *have);
/* fetch_platform_format: "os/arch[/variant]". */
void fetch_platform_format(const struct fetch_platform *p, char *out, size_t cap);

/* How to go on from a .partial file of `have` bytes for a blob of `size` bytes. */
enum fetch_resume {
    FETCH_RESUME_FRESH,    /* nothing there: download from byte 0 */
    FETCH_RESUME_CONTINUE, /* hash the bytes there, then ask for the rest with Range */
    FETCH_RESUME_VERIFY,   /* all bytes there: hash them, no download */
    FETCH_RESUME_RESTART,  /* more bytes than the blob has: truncate, start over */
};
enum fetch_resume fetch_resume_plan(uint64_t have, uint64_t size);

/* fetch_resolve fills *out (fetch_result_cleanup) for o->reference. Manifests are stored as
 * blobs under o->root. Errors: the client's (BERR_UNAUTHORIZED tells the caller to try the next
 * credential), BERR_DIGEST_INVALID (bytes do not match), BERR_MANIFEST_INVALID,
 * BERR_UNSUPPORTED (schema 1), BERR_MANIFEST_UNKNOWN (no manifest for the platform; the message
 * lists what the index offers), BERR_INTERNAL (disk). */
int fetch_resolve(struct fetch_result *out, struct client *c, const struct fetch_opts *o,
                  struct berr *err);

/* fetch_blobs downloads every config and layer of r not yet under o->root, o->parallel at a
 * time, reporting to o->progress. On the first failure the other downloads stop after their
 * current chunk; partial files stay for a later resume (unless their content proved wrong). */
int fetch_blobs(struct client *c, const struct fetch_result *r, const struct fetch_opts *o,
                struct berr *err);

/* fetch_blob_path writes ROOT/blobs/sha256/<hex> into out. -1 when cap is too small. */
int fetch_blob_path(char *out, size_t cap, const char *root, const struct digest *d);

/* fetch_store_manifest stores len bytes, already checked to hash to d, as ROOT/blobs/sha256/<hex>
 * (write_file_atomic). A file already there is kept only when it holds exactly those bytes; a
 * same-length file with other content is replaced. BERR_INTERNAL when the write fails. */
int fetch_store_manifest(const char *root, const struct digest *d, const char *data, size_t len,
                         struct berr *err);

/* fetch_blob_present: the file at path exists, is d->size bytes and hashes to d->digest. A file
 * there that fails either check is removed (so it gets downloaded again). */
bool fetch_blob_present(const char *path, const struct fetch_desc *d);

void fetch_result_cleanup(struct fetch_result *r);

#endif
