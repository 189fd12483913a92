/* meta_ops.h - the metadata interface a backend implements (see meta.h for the design).
 *
 * struct meta_ops holds one table of function pointers per entity. Each pointer takes the same
 * arguments, keeps the same contract (errors, ownership, callbacks with no connection held) and
 * returns the same values as the public meta_* call of that name documented in meta.h, quota.h,
 * audit.h or pulls.h; the public call only dispatches. Where the public interface has two
 * calls for one question (a project by id or by name) the table has one pointer taking both.
 *
 * A backend's handle embeds struct meta as its first member and sets ops before handing the
 * handle out; ops and the tables it points at are static and never change. Only storage/
 * includes this header: callers use meta.h. */
#ifndef BERTH_STORAGE_META_OPS_H
#define BERTH_STORAGE_META_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"
#include "common/digest.h"
#include "storage/audit.h"
#include "storage/gc_jobs.h"
#include "storage/mcache.h"
#include "storage/meta.h"
#include "storage/pulls.h"
#include "storage/quota.h"

struct meta {
    const struct meta_ops *ops;
    struct mcache *mc; /* resolved manifests (storage/mcache.h); NULL: none. Backends leave it
                        * zeroed; meta_cache_enable sets it, meta_close frees it. */
};

/* projects */
struct meta_project_ops {
    /* get: by name when name != NULL (BERR_NAME_UNKNOWN), else by id (BERR_NOT_FOUND) */
    int (*get)(struct meta *m, int64_t id, const char *name, struct meta_project_info *out,
               struct berr *err);
    int (*list)(struct meta *m, const struct meta_project_q *q, struct meta_project_info *out,
                size_t cap, size_t *n, int64_t *total, struct berr *err);
    int (*create)(struct meta *m, const char *name, bool public, int64_t owner_id,
                  int64_t storage_limit, int64_t *id, struct berr *err);
    int (*update)(struct meta *m, int64_t id, bool set_public, bool public, bool set_limit,
                  int64_t storage_limit, struct berr *err);
    int (*remove)(struct meta *m, int64_t id, struct berr *err);
};

/* users */
struct meta_user_ops {
    /* get: by name when name != NULL, else by id; the whole row, hash included */
    int (*get)(struct meta *m, int64_t id, const char *name, struct meta_user_info *out,
               struct berr *err);
    int (*list)(struct meta *m, const struct meta_list_q *q, struct meta_user_info *out, size_t cap,
                size_t *n, int64_t *total, struct berr *err);
    int (*create)(struct meta *m, const char *name, const char *pw_hash, bool sysadmin, int64_t *id,
                  struct berr *err);
    int (*update)(struct meta *m, int64_t id, const char *email, const char *realname,
                  const char *comment, struct berr *err);
    int (*set_sysadmin)(struct meta *m, int64_t id, bool sysadmin, struct berr *err);
    int (*set_password)(struct meta *m, int64_t id, const char *pw_hash, struct berr *err);
    int (*remove)(struct meta *m, int64_t id, struct berr *err);
};

/* project members */
struct meta_member_ops {
    int (*role)(struct meta *m, int64_t project_id, int64_t user_id, int *role, struct berr *err);
    int (*add)(struct meta *m, int64_t project_id, int64_t user_id, int role, int64_t *id,
               struct berr *err);
    int (*get)(struct meta *m, int64_t project_id, int64_t member_id, struct meta_member *out,
               struct berr *err);
    int (*set_role)(struct meta *m, int64_t project_id, int64_t member_id, int role,
                    struct berr *err);
    int (*remove)(struct meta *m, int64_t project_id, int64_t member_id, struct berr *err);
    int (*list)(struct meta *m, int64_t project_id, const struct meta_list_q *q,
                struct meta_member *out, size_t cap, size_t *n, int64_t *total, struct berr *err);
};

/* robot accounts and their permissions */
struct meta_robot_ops {
    /* get: by full name when name != NULL, else by id (BERR_NOT_FOUND) */
    int (*get)(struct meta *m, int64_t id, const char *name, struct meta_robot *out,
               struct berr *err);
    int (*actions)(struct meta *m, int64_t robot_id, const char *project, unsigned *actions,
                   struct berr *err);
    int (*create)(struct meta *m, const struct meta_robot *r, const struct meta_robot_perm *perms,
                  size_t nperms, int64_t *id, struct berr *err);
    int (*perms)(struct meta *m, int64_t id, struct meta_robot_perm *out, size_t cap, size_t *n,
                 struct berr *err);
    int (*update)(struct meta *m, int64_t id, const struct meta_robot *r,
                  const struct meta_robot_perm *perms, size_t nperms, struct berr *err);
    int (*set_secret)(struct meta *m, int64_t id, const char *secret_hash, struct berr *err);
    int (*remove)(struct meta *m, int64_t id, struct berr *err);
    int (*list)(struct meta *m, const struct meta_list_q *q, int64_t project_id,
                struct meta_robot *out, size_t cap, size_t *n, int64_t *total, struct berr *err);
};

/* repositories and statistics */
struct meta_repo_ops {
    int (*count)(struct meta *m, int64_t project_id, int64_t *n, struct berr *err);
    int (*list)(struct meta *m, const struct meta_repo_q *q, struct meta_repo_info *out, size_t cap,
                size_t *n, int64_t *total, struct berr *err);
    int (*info_get)(struct meta *m, const struct repo_name *repo, struct meta_repo_info *out,
                    struct berr *err);
    int (*set_description)(struct meta *m, const struct repo_name *repo, const char *desc,
                           struct berr *err);
    int (*remove)(struct meta *m, const struct repo_name *repo, struct berr *err);
    int (*stats_get)(struct meta *m, bool all, int64_t viewer_user_id, struct meta_stats *out,
                     struct berr *err);
};

/* manifests, tags, referrers, catalog, artifacts */
struct meta_manifest_ops {
    int (*put)(struct meta *m, const struct repo_name *repo, const struct meta_manifest_in *in,
               struct berr *err);
    int (*resolve)(struct meta *m, const struct repo_name *repo, const struct reference *ref,
                   struct meta_manifest *out, struct berr *err);
    int (*remove)(struct meta *m, const struct repo_name *repo, const struct digest *d,
                  struct berr *err);
    int (*tag_delete)(struct meta *m, const struct repo_name *repo, const struct tag *t,
                      struct berr *err);
    int (*tags_list)(struct meta *m, const struct repo_name *repo, const char *last, unsigned n,
                     meta_str_fn fn, void *ctx, bool *more, struct berr *err);
    int (*catalog)(struct meta *m, const char *last, unsigned n, meta_str_fn fn, void *ctx,
                   bool *more, struct berr *err);
    int (*referrers)(struct meta *m, const struct repo_name *repo, const struct digest *d,
                     const char *artifact_type, meta_referrer_fn fn, void *ctx, struct berr *err);
    int (*artifact_list)(struct meta *m, const struct meta_artifact_q *q, struct meta_artifact *out,
                         size_t cap, size_t *n, int64_t *total, struct berr *err);
    int (*artifact_get)(struct meta *m, int64_t repo_id, const struct digest *d,
                        struct meta_artifact *out, struct berr *err);
    int (*artifact_tags)(struct meta *m, int64_t artifact_id, const struct meta_list_q *q,
                         struct meta_tag_info *out, size_t cap, size_t *n, int64_t *total,
                         struct berr *err);
    int (*artifact_refs)(struct meta *m, int64_t artifact_id, struct meta_artifact_ref *out,
                         size_t cap, size_t *n, struct berr *err);
    int (*tag_create)(struct meta *m, int64_t repo_id, int64_t artifact_id, const struct tag *t,
                      struct berr *err);
    int (*tag_detach)(struct meta *m, int64_t artifact_id, const struct tag *t, struct berr *err);
};

/* blob rows, repository links, gc and fsck queries */
struct meta_blob_ops {
    int (*link)(struct meta *m, const struct repo_name *repo, const struct digest *d, uint64_t size,
                struct berr *err);
    int (*linked)(struct meta *m, const struct repo_name *repo, const struct digest *d,
                  uint64_t *size, struct berr *err);
    int (*unlink)(struct meta *m, const struct repo_name *repo, const struct digest *d,
                  struct berr *err);
    int (*size)(struct meta *m, const struct digest *d, uint64_t *size, struct berr *err);
    int (*repos)(struct meta *m, const struct digest *d, meta_str_fn fn, void *ctx,
                 struct berr *err);
    int (*gc_unreferenced)(struct meta *m, int64_t before, meta_digest_fn fn, void *ctx,
                           struct berr *err);
    /* forget: meta_blob_forget_drop (drop may be NULL); orphan_drop: meta_blob_orphan_drop */
    int (*forget)(struct meta *m, const struct digest *d, meta_file_fn drop, void *ctx,
                  bool *forgotten, struct berr *err);
    int (*orphan_drop)(struct meta *m, const struct digest *d, meta_file_fn drop, void *ctx,
                       bool *dropped, struct berr *err);
    int (*gc_unlink_dangling)(struct meta *m, int64_t before, bool dry_run, unsigned *n,
                              struct berr *err);
    int (*known)(struct meta *m, const struct digest *d, bool *known, struct berr *err);
    int (*blobs_all)(struct meta *m, meta_digest_fn fn, void *ctx, struct berr *err);
};

/* quotas (quota.h) */
struct meta_quota_ops {
    int (*get)(struct meta *m, int64_t project_id, struct quota_info *out, struct berr *err);
    int (*usage)(struct meta *m, int64_t project_id, int64_t *used, struct berr *err);
    int (*list)(struct meta *m, int64_t project_id, int64_t offset, struct quota_info *out,
                size_t cap, size_t *n, int64_t *total, struct berr *err);
    int (*set)(struct meta *m, int64_t project_id, int64_t hard, int64_t *used, struct berr *err);
    int (*check)(struct meta *m, const struct repo_name *repo, const struct digest *d,
                 uint64_t size, struct berr *err);
    /* place (may be NULL) runs inside the transaction, after the check, before the insert */
    int (*blob_link)(struct meta *m, const struct repo_name *repo, const struct digest *d,
                     uint64_t size, meta_file_fn place, void *place_ctx, bool *added,
                     struct berr *err);
};

/* the audit log (audit.h); write stores a batch of events in one transaction, all or none */
struct meta_audit_ops {
    int (*write)(struct meta *m, const struct audit_event *ev, size_t n, struct berr *err);
    int (*list)(struct meta *m, const struct audit_q *q, struct audit_event *out, size_t cap,
                size_t *n, int64_t *total, struct berr *err);
    int (*purge)(struct meta *m, int64_t before, int64_t *removed, struct berr *err);
};

/* pull counts (pulls.h); write adds a batch of counts in one transaction, all or none */
struct meta_pulls_ops {
    int (*write)(struct meta *m, const struct pulls_entry *ents, size_t n, struct berr *err);
    int (*series)(struct meta *m, const struct pulls_q *q, struct pulls_point *out, size_t cap,
                  size_t *n, struct berr *err);
    int (*top)(struct meta *m, const struct pulls_q *q, struct pulls_point *out, size_t cap,
               size_t *n, struct berr *err);
    int (*prune)(struct meta *m, int64_t hour_before, int64_t day_before, int64_t *removed,
                 struct berr *err);
    int (*stale)(struct meta *m, const struct pulls_stale_q *q, struct pulls_stale *out, size_t cap,
                 size_t *n, int64_t *total, struct berr *err);
};

/* garbage collection history (gc_jobs.h) */
struct meta_gc_job_ops {
    int (*create)(struct meta *m, bool dry_run, int64_t now, int64_t *id, struct berr *err);
    int (*update)(struct meta *m, int64_t id, int status, const char *log, int64_t now,
                  struct berr *err);
    int (*get)(struct meta *m, int64_t id, struct gc_job *out, char **log, struct berr *err);
    int (*list)(struct meta *m, int64_t offset, struct gc_job *out, size_t cap, size_t *n,
                int64_t *total, struct berr *err);
    int (*interrupt)(struct meta *m, int64_t now, unsigned *n, struct berr *err);
};

/* shared state (meta.h "shared state"): arguments come checked; the backend reads the clock
 * for "live" (expires == 0 or expires > now_s()) */
struct meta_state_ops {
    int (*get)(struct meta *m, const char *ns, const char *key, char **val, size_t *len,
               int64_t *version, struct berr *err);
    int (*put)(struct meta *m, const char *ns, const char *key, const void *val, size_t len,
               int64_t expires, int64_t expect_version, int64_t *new_version, struct berr *err);
    int (*remove)(struct meta *m, const char *ns, const char *key, int64_t expect_version,
                  struct berr *err);
    int (*incr)(struct meta *m, const char *ns, const char *key, int64_t delta, int64_t expires,
                int64_t *value, struct berr *err);
    int (*list)(struct meta *m, const char *ns, meta_state_fn fn, void *ctx, struct berr *err);
    int (*purge)(struct meta *m, int64_t now, int64_t *removed, struct berr *err);
};

struct meta_ops {
    const char *name; /* "sqlite" */
    /* close: meta_close; schema_version: meta_schema_version */
    void (*close)(struct meta *m);
    int (*schema_version)(struct meta *m, int *out, struct berr *err);
    const struct meta_project_ops *project;
    const struct meta_user_ops *user;
    const struct meta_member_ops *member;
    const struct meta_robot_ops *robot;
    const struct meta_repo_ops *repo;
    const struct meta_manifest_ops *manifest;
    const struct meta_blob_ops *blob;
    const struct meta_quota_ops *quota;
    const struct meta_audit_ops *audit;
    const struct meta_pulls_ops *pulls;
    const struct meta_gc_job_ops *gc_job;
    const struct meta_state_ops *state;
};

/* What every backend shares beyond its table (meta_ops.c): rules that need no SQL. */

/* meta_ops_schema_check: may a binary whose newest migration is `newest` open a database at
 * schema version cur? 0 when cur <= newest; else the refusal meta_open promises (logged, and
 * BERR_INTERNAL naming both versions). */
int meta_ops_schema_check(int cur, int newest, struct berr *err);
/* meta_ops_quota_fits: does adding size bytes to used stay within limit (>= 0) of project?
 * 0 when it does; else quota.h's refusal, BERR_DENIED "quota exceeded: ...". */
/* meta_ops_sort_ok: a list's sort is NULL, "" or one of keys (NULL-terminated), optionally
 * with '-' (descending). */
bool meta_ops_sort_ok(const char *sort, const char *const *keys);
int meta_ops_quota_fits(const char *project, int64_t used, int64_t limit, uint64_t size,
                        struct berr *err);

#endif
