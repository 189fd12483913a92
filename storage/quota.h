/* quota.h - storage quotas per project: the limit (projects.storage_limit, -1 = unlimited) and
 * the usage, which is the sum of the sizes of the DISTINCT blobs (layers, configs, manifests)
 * linked to any repository of the project: a layer shared by two repositories of one project
 * counts once (harbor#19748). Usage is computed from the links, never kept in a counter, so it
 * goes down as soon as links are removed (manifest or blob DELETE, repository delete) and cannot
 * drift from the content.
 *
 * Enforcement: meta_blob_link_quota checks and links in one BEGIN IMMEDIATE transaction, so two
 * pushes racing past the limit cannot both get in. quota_check is the same check without the
 * link, for callers that want to refuse before writing a file (it is advisory: the link call
 * decides). A limit may be set below the current usage (harbor#15615): quota_set reports the
 * usage so the caller can say so; further pushes that add bytes are refused.
 *
 * Refusals: BERR_DENIED "quota exceeded: project P uses U of L bytes, this push needs N more".
 * Unknown project: BERR_NAME_UNKNOWN for repository calls, BERR_NOT_FOUND for calls by id.
 * Quota ids are project ids. Same connection rules as meta.h. Thread-safe. */
#ifndef BERTH_STORAGE_QUOTA_H
#define BERTH_STORAGE_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"
#include "common/digest.h"
#include "storage/meta.h"

#define QUOTA_UNLIMITED (-1)
#define QUOTA_LIST_MAX 100

struct quota_info {
    int64_t id; /* = project id */
    int64_t project_id;
    char project[REPO_NAME_MAX + 1];
    char owner_name[256]; /* "" when none */
    int64_t hard;         /* bytes, QUOTA_UNLIMITED = none */
    int64_t used;         /* bytes */
    int64_t created_at;   /* the project's */
    int64_t updated_at;
};

/* quota_get: BERR_NOT_FOUND when the project is unknown. */
int quota_get(struct meta *m, int64_t project_id, struct quota_info *out, struct berr *err);
/* quota_usage: bytes used by the project (0 for an unknown or empty one). */
int quota_usage(struct meta *m, int64_t project_id, int64_t *used, struct berr *err);
/* quota_list fills out[0..cap) with quotas in project id order, skipping `offset`;
 * project_id > 0 limits to that project. *n rows written, *total rows matching. */
int quota_list(struct meta *m, int64_t project_id, int64_t offset, struct quota_info *out,
               size_t cap, size_t *n, int64_t *total, struct berr *err);
/* quota_set sets the limit (>= -1; BERR_BAD_REQUEST otherwise) and gives the usage in *used
 * (may be NULL), so a limit below it can be reported. BERR_NOT_FOUND when unknown. */
int quota_set(struct meta *m, int64_t project_id, int64_t hard, int64_t *used, struct berr *err);

/* quota_check: would linking d (size bytes) into repo stay within its project's limit? A digest
 * already linked to any repository of the project adds nothing. 0 when it would, BERR_DENIED
 * when not. Reads only. */
int quota_check(struct meta *m, const struct repo_name *repo, const struct digest *d, uint64_t size,
                struct berr *err);
/* meta_blob_link_quota is meta_blob_link (blob row, repository row, link) preceded, in the same
 * transaction, by quota_check's test. *added (may be NULL) is set when the repository had no link
 * to d before. Nothing is written when it fails. It checks nothing about the file: a push uses
 * meta_blob_link_place, so gc cannot remove the file between its check and this link. */
int meta_blob_link_quota(struct meta *m, const struct repo_name *repo, const struct digest *d,
                         uint64_t size, bool *added, struct berr *err);
/* meta_blob_link_place is meta_blob_link_quota that calls place(place_ctx) inside the same
 * transaction, after the quota check and before the rows are written: the push puts its file
 * in the blob store (or checks it is there, for a mount) while gc, which removes files inside
 * the transaction that deletes their rows, cannot run between the file and the row. A failing
 * place writes nothing. A crash after place leaves a file without a row (an orphan gc sweeps);
 * never a row without its file. */
int meta_blob_link_place(struct meta *m, const struct repo_name *repo, const struct digest *d,
                         uint64_t size, meta_file_fn place, void *place_ctx, bool *added,
                         struct berr *err);

#endif
