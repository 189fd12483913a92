/* meta_browse.h - what the management API shows of the content: repositories (lists with
 * visibility, name filter, sort and paging; description; delete), artifacts (lists per
 * repository or per project, by digest, with total sizes, pull counts and times), their tags and
 * index children (platforms), tag create/detach, and registry-wide statistics.
 *
 * Same rules as meta.h and meta_ident.h: every call borrows a pooled connection for its own
 * duration, writes run in one BEGIN IMMEDIATE transaction, SQL is static text with bound
 * parameters, sort keys are checked against fixed lists. Thread-safe.
 *
 * Definitions:
 *   - A repository is shown when it holds a manifest or a blob (as /v2/_catalog).
 *   - An artifact is a manifest; lists show the top-level ones only: not a child of an index of
 *     the same repository, and not a referrer (signature, SBOM) of a manifest of it. Children
 *     are listed under their index (meta_artifact_refs) and still found by digest.
 *   - An artifact's size is its manifest plus the blobs it lists (config and layers); for an
 *     index, its manifest plus the sizes of its children found in the repository.
 *   - Times are epoch seconds; a pull time of 0 means never pulled.
 * Lists fill caller-owned arrays (at most cap rows, starting at q->l.offset) and set *n and
 * *total (rows matching the filter). Errors: unknown repository, artifact or tag ->
 * BERR_NOT_FOUND; a tag that exists -> BERR_CONFLICT; bad sort key or too long text ->
 * BERR_BAD_REQUEST; SQLite failures -> BERR_INTERNAL (logged). */
#ifndef BERTH_STORAGE_META_BROWSE_H
#define BERTH_STORAGE_META_BROWSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"
#include "common/digest.h"
#include "storage/meta.h"
#include "storage/meta_ident.h"

#define META_REPO_DESC_MAX 2048 /* bytes of a repository description */

/* ---- repositories ---- */
struct meta_repo_info {
    int64_t id;
    int64_t project_id;
    bool project_public;
    char name[REPO_NAME_MAX + 1]; /* "project/repo" */
    char description[META_REPO_DESC_MAX + 1];
    int64_t artifact_count; /* top-level artifacts */
    int64_t pull_count;
    int64_t created_at;
    int64_t updated_at;
};

/* A repository list. l.name filters the full name (fuzzy: substring); sort keys: name,
 * creation_time, update_time, pull_count, artifact_count, id ("-" prefix descending; default
 * -creation_time then id). Visibility: all (sysadmin), else public projects, projects
 * viewer_user_id (> 0) is a member of, and projects viewer_robot_id (> 0) may pull from. */
struct meta_repo_q {
    struct meta_list_q l;
    int64_t project_id; /* > 0: that project only */
    bool all;
    int64_t viewer_user_id;
    int64_t viewer_robot_id;
};
int meta_repo_list(struct meta *m, const struct meta_repo_q *q, struct meta_repo_info *out,
                   size_t cap, size_t *n, int64_t *total, struct berr *err);
/* meta_repo_info_get: BERR_NOT_FOUND when repo does not exist or holds nothing. */
int meta_repo_info_get(struct meta *m, const struct repo_name *repo, struct meta_repo_info *out,
                       struct berr *err);
/* meta_repo_set_description replaces the description (<= META_REPO_DESC_MAX bytes). */
int meta_repo_set_description(struct meta *m, const struct repo_name *repo, const char *desc,
                              struct berr *err);
/* meta_repo_delete removes the repository with every manifest, tag, reference and blob link of
 * it (files stay until gc). BERR_NOT_FOUND when it does not exist or holds nothing. */
int meta_repo_delete(struct meta *m, const struct repo_name *repo, struct berr *err);

/* ---- artifacts ---- */
struct meta_artifact {
    int64_t id;
    int64_t repo_id;
    int64_t project_id;
    char repo_name[REPO_NAME_MAX + 1];
    struct digest digest;
    char media_type[META_MEDIA_TYPE_MAX + 1];    /* of the manifest */
    char artifact_type[META_MEDIA_TYPE_MAX + 1]; /* artifactType or config media type; "" */
    uint64_t manifest_size;
    uint64_t size; /* see "size" above */
    int64_t pushed_at;
    int64_t pull_time;
    int64_t pull_count;
    bool is_index; /* lists children */
};

/* An artifact list of one repository (repo_id > 0) or of a whole project (repo_id == 0,
 * project_id > 0). tagged: -1 any, 1 only tagged, 0 only untagged. tag (may be NULL): only
 * artifacts with a tag equal to it (tag_fuzzy: containing it). digest (may be NULL): only that
 * digest. Sort keys: push_time, pull_time, pull_count, id (default -push_time, then -id). */
struct meta_artifact_q {
    struct meta_list_q l;
    int64_t repo_id;
    int64_t project_id;
    int tagged;
    const char *tag;
    bool tag_fuzzy;
    const struct digest *digest;
};
int meta_artifact_list(struct meta *m, const struct meta_artifact_q *q, struct meta_artifact *out,
                       size_t cap, size_t *n, int64_t *total, struct berr *err);
/* meta_artifact_get: the manifest d of repository repo_id (top-level or not). */
int meta_artifact_get(struct meta *m, int64_t repo_id, const struct digest *d,
                      struct meta_artifact *out, struct berr *err);

struct meta_tag_info {
    int64_t repo_id;
    int64_t artifact_id;
    char name[TAG_MAX + 1];
    int64_t pushed_at;
    int64_t pull_time;
    int64_t pull_count;
};
/* meta_artifact_tags lists the tags of artifact_id; q->name filters them (fuzzy: substring);
 * sort keys: name (default), push_time, pull_time. */
int meta_artifact_tags(struct meta *m, int64_t artifact_id, const struct meta_list_q *q,
                       struct meta_tag_info *out, size_t cap, size_t *n, int64_t *total,
                       struct berr *err);

struct meta_artifact_ref {
    struct digest child;
    int64_t child_id; /* 0 when the child is not in the repository */
    char media_type[META_MEDIA_TYPE_MAX + 1];
    uint64_t size;
    char os[32];
    char arch[32];
    char variant[32];
};
/* meta_artifact_refs copies up to cap children of index artifact_id, in manifest order. */
int meta_artifact_refs(struct meta *m, int64_t artifact_id, struct meta_artifact_ref *out,
                       size_t cap, size_t *n, struct berr *err);

/* meta_tag_create points a new tag of repository repo_id at artifact_id. BERR_CONFLICT when the
 * repository has that tag already, BERR_NOT_FOUND when the artifact is not in the repository. */
int meta_tag_create(struct meta *m, int64_t repo_id, int64_t artifact_id, const struct tag *t,
                    struct berr *err);
/* meta_tag_detach deletes tag t when it points at artifact_id; BERR_NOT_FOUND otherwise. */
int meta_tag_detach(struct meta *m, int64_t artifact_id, const struct tag *t, struct berr *err);

/* ---- statistics ---- */
struct meta_stats {
    int64_t private_project_count;
    int64_t public_project_count;
    int64_t total_project_count;
    int64_t private_repo_count;
    int64_t public_repo_count;
    int64_t total_repo_count;
    int64_t total_storage_consumption; /* bytes of every blob row */
};
/* meta_stats_get counts public projects and repositories, and the private ones visible to the
 * viewer (all: every one; else those viewer_user_id is a member of). */
int meta_stats_get(struct meta *m, bool all, int64_t viewer_user_id, struct meta_stats *out,
                   struct berr *err);

#endif
