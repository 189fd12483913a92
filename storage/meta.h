/* meta.h - metadata in SQLite: projects, users, repositories, blobs and their links, manifests,
 * manifest references, tags.
 *
 * Every call borrows a connection from a fixed pool for its own duration and gives it back before
 * returning, so callers never hold one across a network wait. Calls that write run in one
 * BEGIN IMMEDIATE transaction: check-then-update is atomic. All SQL is static text with bound
 * parameters; only parsed types (struct repo_name, struct digest, struct tag) are accepted for
 * names. Thread-safe.
 *
 * Error codes: an unknown project -> BERR_NAME_UNKNOWN ("project X not found"); an unknown
 * repository -> BERR_NAME_UNKNOWN; unknown manifest or tag -> BERR_MANIFEST_UNKNOWN; a blob not
 * linked to the repository -> BERR_BLOB_UNKNOWN; SQLite failures -> BERR_INTERNAL (logged).
 *
 * Callbacks (meta_str_fn, meta_referrer_fn, meta_digest_fn) run with no connection held: rows
 * are copied out in batches first, so a callback may call meta_* itself (gc forgets as it
 * walks, mount checks each candidate). A non-zero return stops the walk and is returned as is,
 * without touching err. A list that changes during the walk may show some rows from before the
 * change and some from after; each row is shown at most once. */
#ifndef BERTH_STORAGE_META_H
#define BERTH_STORAGE_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"
#include "common/digest.h"

#define META_MEDIA_TYPE_MAX 255

struct meta;

/* meta_open opens (creating) the database at path, sets WAL, foreign_keys, busy timeout on
 * pool_size connections (1..256; a call waits while all are borrowed), runs the numbered
 * migrations up to the newest, and makes sure the project `library` exists (private: anonymous
 * pull is opt-in; PUT /api/v2.0/projects/library {"metadata":{"public":"true"}} opens it). A database
 * migrated by a newer binary is refused (BERR_INTERNAL, the message names both versions).
 * *out is new (meta_close), NULL on failure. meta_close(NULL) is a no-op; no call may be
 * running. */
int meta_open(struct meta **out, const char *path, unsigned pool_size, struct berr *err);
void meta_close(struct meta *m);
/* meta_schema_version: the migration number the database is at. */
int meta_schema_version(struct meta *m, int *out, struct berr *err);
/* meta_schema_latest: the newest migration number this binary knows. */
int meta_schema_latest(void);

/* ---- projects ---- */
struct meta_project {
    int64_t id;
    char name[REPO_NAME_MAX + 1];
    bool public;
    int64_t created_at;
};
/* meta_project_get by name; BERR_NAME_UNKNOWN "project NAME not found". */
int meta_project_get(struct meta *m, const char *name, struct meta_project *out, struct berr *err);
/* meta_project_create; BERR_CONFLICT when it exists, BERR_NAME_INVALID when name is not one
 * name component. owner_id <= 0 means no owner. out may be NULL. */
int meta_project_create(struct meta *m, const char *name, bool public, int64_t owner_id,
                        struct meta_project *out, struct berr *err);

/* ---- users ---- */
struct meta_user {
    int64_t id;
    char name[256];
    char pw_hash[256]; /* "alg$params$salt$hash", see auth/password.h */
    bool sysadmin;
    int64_t created_at;
};
/* Names and hashes are 1..255 bytes. meta_user_get; BERR_NOT_FOUND when unknown. */
int meta_user_get(struct meta *m, const char *name, struct meta_user *out, struct berr *err);
/* meta_user_create; BERR_CONFLICT when the name exists, BERR_BAD_REQUEST for an empty or
 * too long name. id may be NULL. */
int meta_user_create(struct meta *m, const char *name, const char *pw_hash, bool sysadmin,
                     int64_t *id, struct berr *err);
/* meta_user_set_password; BERR_NOT_FOUND when unknown. */
int meta_user_set_password(struct meta *m, const char *name, const char *pw_hash, struct berr *err);

/* ---- blobs and repository links ---- */
/* meta_blob_link records that blob d (size bytes, file already in the blob store) belongs to repo:
 * inserts the blob row if new, creates the repository row if new (its project must exist:
 * BERR_NAME_UNKNOWN otherwise), links them. Idempotent. */
int meta_blob_link(struct meta *m, const struct repo_name *repo, const struct digest *d,
                   uint64_t size, struct berr *err);
/* meta_blob_linked: 0 and *size when repo may serve d (linked directly, or the digest of one of
 * its manifests); BERR_BLOB_UNKNOWN otherwise (also when the repository does not exist). */
int meta_blob_linked(struct meta *m, const struct repo_name *repo, const struct digest *d,
                     uint64_t *size, struct berr *err);
/* meta_blob_unlink removes the link of d to repo (the file stays until gc).
 * BERR_BLOB_UNKNOWN when not linked. From then on repo no longer serves d, even while one of
 * its manifests lists it (distribution's semantics of DELETE blob). */
int meta_blob_unlink(struct meta *m, const struct repo_name *repo, const struct digest *d,
                     struct berr *err);
/* meta_blob_size: size of a blob known anywhere in the registry; BERR_BLOB_UNKNOWN otherwise. */
int meta_blob_size(struct meta *m, const struct digest *d, uint64_t *size, struct berr *err);
/* meta_blob_repos calls fn with the name of every repository linked to d, in name order, until
 * fn returns non-zero (that value is returned). Used by mount without `from`. */
typedef int (*meta_str_fn)(const char *s, void *ctx);
int meta_blob_repos(struct meta *m, const struct digest *d, meta_str_fn fn, void *ctx,
                    struct berr *err);

/* ---- manifests and tags ---- */
struct meta_child {
    struct digest digest;
    char media_type[META_MEDIA_TYPE_MAX + 1];
    uint64_t size;
    char os[32];
    char arch[32];
    char variant[32];
};

struct meta_manifest_in {
    struct digest digest; /* of the exact bytes, already in the blob store */
    const char *media_type;
    uint64_t size;
    const char *artifact_type;    /* NULL when none */
    const char *annotations_json; /* the manifest's "annotations" object as JSON text, or NULL */
    const struct digest *subject; /* NULL when none */
    const struct digest *blobs;   /* config + layers (image manifests) */
    size_t nblobs;
    const struct meta_child *children; /* index entries */
    size_t nchildren;
    const struct tag *tags; /* tags to point at this manifest (0..n) */
    size_t ntags;
};
/* meta_manifest_put in one transaction: every blob must be linked to repo
 * (BERR_MANIFEST_BLOB_UNKNOWN naming the first missing one), every child must be a manifest of repo
 * (BERR_MANIFEST_UNKNOWN), then the manifest row is inserted (idempotent for the same digest), its
 * own digest linked as a blob of repo, references recorded, and each tag created or moved. */
int meta_manifest_put(struct meta *m, const struct repo_name *repo,
                      const struct meta_manifest_in *in, struct berr *err);

struct meta_manifest {
    struct digest digest;
    char media_type[META_MEDIA_TYPE_MAX + 1];
    uint64_t size;
    int64_t pushed_at;
};
/* meta_manifest_resolve a tag or digest in repo. BERR_NAME_UNKNOWN when the repository does not
 * exist, BERR_MANIFEST_UNKNOWN when the reference is unknown. */
int meta_manifest_resolve(struct meta *m, const struct repo_name *repo, const struct reference *ref,
                          struct meta_manifest *out, struct berr *err);
/* meta_manifest_delete removes the manifest d from repo with all its tags and references, and
 * the link of its own digest to repo (so gc may take it). Indexes listing d and referrers whose
 * subject is d stay. BERR_MANIFEST_UNKNOWN when absent. The blob file stays until gc. */
int meta_manifest_delete(struct meta *m, const struct repo_name *repo, const struct digest *d,
                         struct berr *err);
/* meta_tag_delete removes one tag; the manifest stays. BERR_MANIFEST_UNKNOWN when absent. */
int meta_tag_delete(struct meta *m, const struct repo_name *repo, const struct tag *t,
                    struct berr *err);
/* meta_tags_list calls fn for up to n tags of repo in lexical (byte) order strictly after
 * `last` (NULL or "" = from the start). *more is set when tags remain after the last one given
 * (with n == 0: whether any remain). BERR_NAME_UNKNOWN when the repository does not exist. */
int meta_tags_list(struct meta *m, const struct repo_name *repo, const char *last, unsigned n,
                   meta_str_fn fn, void *ctx, bool *more, struct berr *err);
/* meta_catalog: the same over repository names (repositories with at least one manifest or
 * blob). */
int meta_catalog(struct meta *m, const char *last, unsigned n, meta_str_fn fn, void *ctx,
                 bool *more, struct berr *err);

struct meta_referrer {
    struct digest digest;
    const char *media_type;
    uint64_t size;
    const char *artifact_type;    /* may be "" */
    const char *annotations_json; /* may be NULL */
};
typedef int (*meta_referrer_fn)(const struct meta_referrer *r, void *ctx);
/* meta_referrers calls fn for every manifest of repo whose subject is d, in digest order,
 * filtered by artifact_type when not NULL ("" matches those without one). Strings are borrowed
 * for the duration of the call of fn. BERR_NAME_UNKNOWN when the repository does not exist. */
int meta_referrers(struct meta *m, const struct repo_name *repo, const struct digest *d,
                   const char *artifact_type, meta_referrer_fn fn, void *ctx, struct berr *err);

/* ---- garbage collection and consistency ---- */
/* meta_gc_unreferenced calls fn for every blob row that no repository links, that is not the
 * digest of a manifest, that no manifest lists, and that was created before `before` (epoch
 * seconds), in digest order. */
typedef int (*meta_digest_fn)(const struct digest *d, void *ctx);
int meta_gc_unreferenced(struct meta *m, int64_t before, meta_digest_fn fn, void *ctx,
                         struct berr *err);
/* meta_blob_forget deletes a blob row if, inside the same transaction, it is still unreferenced;
 * *forgotten says whether it was. gc removes the file only after this. */
int meta_blob_forget(struct meta *m, const struct digest *d, bool *forgotten, struct berr *err);
/* meta_gc_unlink_dangling removes repository links created before `before` whose blob no
 * manifest of that repository lists (left by deleted manifests or abandoned pushes), so the
 * blob stops counting towards the project's quota and becomes collectable. *n counts them
 * (with dry_run: counts only). */
int meta_gc_unlink_dangling(struct meta *m, int64_t before, bool dry_run, unsigned *n,
                            struct berr *err);
/* meta_blob_known: *known set when a blob row exists for d (fsck). */
int meta_blob_known(struct meta *m, const struct digest *d, bool *known, struct berr *err);
/* meta_blobs_all calls fn for every blob row (fsck). */
int meta_blobs_all(struct meta *m, meta_digest_fn fn, void *ctx, struct berr *err);

#endif
