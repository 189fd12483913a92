/* meta_ops_test.c - unit tests for the metadata interface itself (meta_ops.h): every public
 * call reaches the ops slot of its name with its arguments, the two getters of one entity share
 * one slot (by name: name set; by id: name NULL), the backend's return value comes back
 * unchanged, arguments a backend must not see are refused before the ops, the queue flushes of
 * audit.c and pulls.c write through the ops, and the SQLite backend's table is complete. A fake backend records which slot was called; a second backend
 * (PostgreSQL) can be checked for completeness the same way. */
#include "storage/meta_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/test.h"
#include "storage/audit.h"
#include "storage/meta.h"
#include "storage/pulls.h"
#include "storage/quota.h"
#include "storage/test_meta.h"

static char tmpdir[64]; /* test_mkdtemp, one per run */

/* ---- a fake backend that records the slot called ---- */

/* each slot returns its own code, so a call routed to the wrong slot cannot pass */
#define FAKE_RC(i) (-1000 - (i))

static struct meta fake;
static int fake_last = -1;
static int fake_calls;
static int64_t fake_id;
static const char *fake_name;
static size_t fake_batch; /* events or pull keys in the last write */
static bool fake_closed;

static void fake_hit(int i, struct meta *m)
{
    fake_last = i;
    fake_calls++;
    if (m != &fake) {
        fprintf(stderr, "meta_ops_test: slot %d called with another handle\n", i);
        abort();
    }
}

static const char *const op_names[] = {
        "project.get",
        "project.list",
        "project.create",
        "project.update",
        "project.remove",
        "user.get",
        "user.list",
        "user.create",
        "user.update",
        "user.set_sysadmin",
        "user.set_password",
        "user.remove",
        "member.role",
        "member.add",
        "member.get",
        "member.set_role",
        "member.remove",
        "member.list",
        "robot.get",
        "robot.actions",
        "robot.create",
        "robot.perms",
        "robot.update",
        "robot.set_secret",
        "robot.remove",
        "robot.list",
        "repo.count",
        "repo.list",
        "repo.info_get",
        "repo.set_description",
        "repo.remove",
        "repo.stats_get",
        "manifest.put",
        "manifest.resolve",
        "manifest.remove",
        "manifest.tag_delete",
        "manifest.tags_list",
        "manifest.catalog",
        "manifest.referrers",
        "manifest.artifact_list",
        "manifest.artifact_get",
        "manifest.artifact_tags",
        "manifest.artifact_refs",
        "manifest.tag_create",
        "manifest.tag_detach",
        "blob.link",
        "blob.linked",
        "blob.unlink",
        "blob.size",
        "blob.repos",
        "blob.gc_unreferenced",
        "blob.forget",
        "blob.gc_unlink_dangling",
        "blob.known",
        "blob.blobs_all",
        "quota.get",
        "quota.usage",
        "quota.list",
        "quota.set",
        "quota.check",
        "quota.blob_link",
        "audit.write",
        "audit.list",
        "audit.purge",
        "pulls.write",
        "blob.orphan_drop",
        "pulls.series",
        "pulls.top",
        "pulls.prune",
        "pulls.stale",
};
#define OP_COUNT 70

static int fake_project_get(struct meta *m, int64_t id, const char *name,
                            struct meta_project_info *out, struct berr *err)
{
    fake_hit(0, m);
    fake_id = id;
    fake_name = name;
    (void)out;
    (void)err;
    return FAKE_RC(0);
}

static int fake_project_list(struct meta *m, const struct meta_project_q *q,
                             struct meta_project_info *out, size_t cap, size_t *n, int64_t *total,
                             struct berr *err)
{
    fake_hit(1, m);
    (void)q;
    (void)out;
    (void)cap;
    (void)n;
    (void)total;
    (void)err;
    return FAKE_RC(1);
}

static int fake_project_create(struct meta *m, const char *name, bool public, int64_t owner_id,
                               int64_t storage_limit, int64_t *id, struct berr *err)
{
    fake_hit(2, m);
    fake_name = name;
    (void)public;
    (void)owner_id;
    (void)storage_limit;
    (void)id;
    (void)err;
    return FAKE_RC(2);
}

static int fake_project_update(struct meta *m, int64_t id, bool set_public, bool public,
                               bool set_limit, int64_t storage_limit, struct berr *err)
{
    fake_hit(3, m);
    fake_id = id;
    (void)set_public;
    (void)public;
    (void)set_limit;
    (void)storage_limit;
    (void)err;
    return FAKE_RC(3);
}

static int fake_project_remove(struct meta *m, int64_t id, struct berr *err)
{
    fake_hit(4, m);
    fake_id = id;
    (void)err;
    return FAKE_RC(4);
}

static int fake_user_get(struct meta *m, int64_t id, const char *name, struct meta_user_info *out,
                         struct berr *err)
{
    fake_hit(5, m);
    fake_id = id;
    fake_name = name;
    (void)out;
    (void)err;
    return FAKE_RC(5);
}

static int fake_user_list(struct meta *m, const struct meta_list_q *q, struct meta_user_info *out,
                          size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    fake_hit(6, m);
    (void)q;
    (void)out;
    (void)cap;
    (void)n;
    (void)total;
    (void)err;
    return FAKE_RC(6);
}

static int fake_user_create(struct meta *m, const char *name, const char *pw_hash, bool sysadmin,
                            int64_t *id, struct berr *err)
{
    fake_hit(7, m);
    fake_name = name;
    (void)pw_hash;
    (void)sysadmin;
    (void)id;
    (void)err;
    return FAKE_RC(7);
}

static int fake_user_update(struct meta *m, int64_t id, const char *email, const char *realname,
                            const char *comment, struct berr *err)
{
    fake_hit(8, m);
    fake_id = id;
    (void)email;
    (void)realname;
    (void)comment;
    (void)err;
    return FAKE_RC(8);
}

static int fake_user_set_sysadmin(struct meta *m, int64_t id, bool sysadmin, struct berr *err)
{
    fake_hit(9, m);
    fake_id = id;
    (void)sysadmin;
    (void)err;
    return FAKE_RC(9);
}

static int fake_user_set_password(struct meta *m, int64_t id, const char *pw_hash, struct berr *err)
{
    fake_hit(10, m);
    fake_id = id;
    (void)pw_hash;
    (void)err;
    return FAKE_RC(10);
}

static int fake_user_remove(struct meta *m, int64_t id, struct berr *err)
{
    fake_hit(11, m);
    fake_id = id;
    (void)err;
    return FAKE_RC(11);
}

static int fake_member_role(struct meta *m, int64_t project_id, int64_t user_id, int *role,
                            struct berr *err)
{
    fake_hit(12, m);
    (void)project_id;
    (void)user_id;
    (void)role;
    (void)err;
    return FAKE_RC(12);
}

static int fake_member_add(struct meta *m, int64_t project_id, int64_t user_id, int role,
                           int64_t *id, struct berr *err)
{
    fake_hit(13, m);
    (void)project_id;
    (void)user_id;
    (void)role;
    (void)id;
    (void)err;
    return FAKE_RC(13);
}

static int fake_member_get(struct meta *m, int64_t project_id, int64_t member_id,
                           struct meta_member *out, struct berr *err)
{
    fake_hit(14, m);
    (void)project_id;
    (void)member_id;
    (void)out;
    (void)err;
    return FAKE_RC(14);
}

static int fake_member_set_role(struct meta *m, int64_t project_id, int64_t member_id, int role,
                                struct berr *err)
{
    fake_hit(15, m);
    (void)project_id;
    (void)member_id;
    (void)role;
    (void)err;
    return FAKE_RC(15);
}

static int fake_member_remove(struct meta *m, int64_t project_id, int64_t member_id,
                              struct berr *err)
{
    fake_hit(16, m);
    (void)project_id;
    (void)member_id;
    (void)err;
    return FAKE_RC(16);
}

static int fake_member_list(struct meta *m, int64_t project_id, const struct meta_list_q *q,
                            struct meta_member *out, size_t cap, size_t *n, int64_t *total,
                            struct berr *err)
{
    fake_hit(17, m);
    (void)project_id;
    (void)q;
    (void)out;
    (void)cap;
    (void)n;
    (void)total;
    (void)err;
    return FAKE_RC(17);
}

static int fake_robot_get(struct meta *m, int64_t id, const char *name, struct meta_robot *out,
                          struct berr *err)
{
    fake_hit(18, m);
    fake_id = id;
    fake_name = name;
    (void)out;
    (void)err;
    return FAKE_RC(18);
}

static int fake_robot_actions(struct meta *m, int64_t robot_id, const char *project,
                              unsigned *actions, struct berr *err)
{
    fake_hit(19, m);
    (void)robot_id;
    (void)project;
    (void)actions;
    (void)err;
    return FAKE_RC(19);
}

static int fake_robot_create(struct meta *m, const struct meta_robot *r,
                             const struct meta_robot_perm *perms, size_t nperms, int64_t *id,
                             struct berr *err)
{
    fake_hit(20, m);
    (void)r;
    (void)perms;
    (void)nperms;
    (void)id;
    (void)err;
    return FAKE_RC(20);
}

static int fake_robot_perms(struct meta *m, int64_t id, struct meta_robot_perm *out, size_t cap,
                            size_t *n, struct berr *err)
{
    fake_hit(21, m);
    fake_id = id;
    (void)out;
    (void)cap;
    (void)n;
    (void)err;
    return FAKE_RC(21);
}

static int fake_robot_update(struct meta *m, int64_t id, const struct meta_robot *r,
                             const struct meta_robot_perm *perms, size_t nperms, struct berr *err)
{
    fake_hit(22, m);
    fake_id = id;
    (void)r;
    (void)perms;
    (void)nperms;
    (void)err;
    return FAKE_RC(22);
}

static int fake_robot_set_secret(struct meta *m, int64_t id, const char *secret_hash,
                                 struct berr *err)
{
    fake_hit(23, m);
    fake_id = id;
    (void)secret_hash;
    (void)err;
    return FAKE_RC(23);
}

static int fake_robot_remove(struct meta *m, int64_t id, struct berr *err)
{
    fake_hit(24, m);
    fake_id = id;
    (void)err;
    return FAKE_RC(24);
}

static int fake_robot_list(struct meta *m, const struct meta_list_q *q, int64_t project_id,
                           struct meta_robot *out, size_t cap, size_t *n, int64_t *total,
                           struct berr *err)
{
    fake_hit(25, m);
    (void)q;
    (void)project_id;
    (void)out;
    (void)cap;
    (void)n;
    (void)total;
    (void)err;
    return FAKE_RC(25);
}

static int fake_repo_count(struct meta *m, int64_t project_id, int64_t *n, struct berr *err)
{
    fake_hit(26, m);
    (void)project_id;
    (void)n;
    (void)err;
    return FAKE_RC(26);
}

static int fake_repo_list(struct meta *m, const struct meta_repo_q *q, struct meta_repo_info *out,
                          size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    fake_hit(27, m);
    (void)q;
    (void)out;
    (void)cap;
    (void)n;
    (void)total;
    (void)err;
    return FAKE_RC(27);
}

static int fake_repo_info_get(struct meta *m, const struct repo_name *repo,
                              struct meta_repo_info *out, struct berr *err)
{
    fake_hit(28, m);
    (void)repo;
    (void)out;
    (void)err;
    return FAKE_RC(28);
}

static int fake_repo_set_description(struct meta *m, const struct repo_name *repo, const char *desc,
                                     struct berr *err)
{
    fake_hit(29, m);
    (void)repo;
    (void)desc;
    (void)err;
    return FAKE_RC(29);
}

static int fake_repo_remove(struct meta *m, const struct repo_name *repo, struct berr *err)
{
    fake_hit(30, m);
    (void)repo;
    (void)err;
    return FAKE_RC(30);
}

static int fake_repo_stats_get(struct meta *m, bool all, int64_t viewer_user_id,
                               struct meta_stats *out, struct berr *err)
{
    fake_hit(31, m);
    (void)all;
    (void)viewer_user_id;
    (void)out;
    (void)err;
    return FAKE_RC(31);
}

static int fake_manifest_put(struct meta *m, const struct repo_name *repo,
                             const struct meta_manifest_in *in, struct berr *err)
{
    fake_hit(32, m);
    (void)repo;
    (void)in;
    (void)err;
    return FAKE_RC(32);
}

static int fake_manifest_resolve(struct meta *m, const struct repo_name *repo,
                                 const struct reference *ref, struct meta_manifest *out,
                                 struct berr *err)
{
    fake_hit(33, m);
    (void)repo;
    (void)ref;
    (void)out;
    (void)err;
    return FAKE_RC(33);
}

static int fake_manifest_remove(struct meta *m, const struct repo_name *repo,
                                const struct digest *d, struct berr *err)
{
    fake_hit(34, m);
    (void)repo;
    (void)d;
    (void)err;
    return FAKE_RC(34);
}

static int fake_manifest_tag_delete(struct meta *m, const struct repo_name *repo,
                                    const struct tag *t, struct berr *err)
{
    fake_hit(35, m);
    (void)repo;
    (void)t;
    (void)err;
    return FAKE_RC(35);
}

static int fake_manifest_tags_list(struct meta *m, const struct repo_name *repo, const char *last,
                                   unsigned n, meta_str_fn fn, void *ctx, bool *more,
                                   struct berr *err)
{
    fake_hit(36, m);
    (void)repo;
    (void)last;
    (void)n;
    (void)fn;
    (void)ctx;
    (void)more;
    (void)err;
    return FAKE_RC(36);
}

static int fake_manifest_catalog(struct meta *m, const char *last, unsigned n, meta_str_fn fn,
                                 void *ctx, bool *more, struct berr *err)
{
    fake_hit(37, m);
    (void)last;
    (void)n;
    (void)fn;
    (void)ctx;
    (void)more;
    (void)err;
    return FAKE_RC(37);
}

static int fake_manifest_referrers(struct meta *m, const struct repo_name *repo,
                                   const struct digest *d, const char *artifact_type,
                                   meta_referrer_fn fn, void *ctx, struct berr *err)
{
    fake_hit(38, m);
    (void)repo;
    (void)d;
    (void)artifact_type;
    (void)fn;
    (void)ctx;
    (void)err;
    return FAKE_RC(38);
}

static int fake_manifest_artifact_list(struct meta *m, const struct meta_artifact_q *q,
                                       struct meta_artifact *out, size_t cap, size_t *n,
                                       int64_t *total, struct berr *err)
{
    fake_hit(39, m);
    (void)q;
    (void)out;
    (void)cap;
    (void)n;
    (void)total;
    (void)err;
    return FAKE_RC(39);
}

static int fake_manifest_artifact_get(struct meta *m, int64_t repo_id, const struct digest *d,
                                      struct meta_artifact *out, struct berr *err)
{
    fake_hit(40, m);
    (void)repo_id;
    (void)d;
    (void)out;
    (void)err;
    return FAKE_RC(40);
}

static int fake_manifest_artifact_tags(struct meta *m, int64_t artifact_id,
                                       const struct meta_list_q *q, struct meta_tag_info *out,
                                       size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    fake_hit(41, m);
    (void)artifact_id;
    (void)q;
    (void)out;
    (void)cap;
    (void)n;
    (void)total;
    (void)err;
    return FAKE_RC(41);
}

static int fake_manifest_artifact_refs(struct meta *m, int64_t artifact_id,
                                       struct meta_artifact_ref *out, size_t cap, size_t *n,
                                       struct berr *err)
{
    fake_hit(42, m);
    (void)artifact_id;
    (void)out;
    (void)cap;
    (void)n;
    (void)err;
    return FAKE_RC(42);
}

static int fake_manifest_tag_create(struct meta *m, int64_t repo_id, int64_t artifact_id,
                                    const struct tag *t, struct berr *err)
{
    fake_hit(43, m);
    (void)repo_id;
    (void)artifact_id;
    (void)t;
    (void)err;
    return FAKE_RC(43);
}

static int fake_manifest_tag_detach(struct meta *m, int64_t artifact_id, const struct tag *t,
                                    struct berr *err)
{
    fake_hit(44, m);
    (void)artifact_id;
    (void)t;
    (void)err;
    return FAKE_RC(44);
}

static int fake_blob_link(struct meta *m, const struct repo_name *repo, const struct digest *d,
                          uint64_t size, struct berr *err)
{
    fake_hit(45, m);
    (void)repo;
    (void)d;
    (void)size;
    (void)err;
    return FAKE_RC(45);
}

static int fake_blob_linked(struct meta *m, const struct repo_name *repo, const struct digest *d,
                            uint64_t *size, struct berr *err)
{
    fake_hit(46, m);
    (void)repo;
    (void)d;
    (void)size;
    (void)err;
    return FAKE_RC(46);
}

static int fake_blob_unlink(struct meta *m, const struct repo_name *repo, const struct digest *d,
                            struct berr *err)
{
    fake_hit(47, m);
    (void)repo;
    (void)d;
    (void)err;
    return FAKE_RC(47);
}

static int fake_blob_size(struct meta *m, const struct digest *d, uint64_t *size, struct berr *err)
{
    fake_hit(48, m);
    (void)d;
    (void)size;
    (void)err;
    return FAKE_RC(48);
}

static int fake_blob_repos(struct meta *m, const struct digest *d, meta_str_fn fn, void *ctx,
                           struct berr *err)
{
    fake_hit(49, m);
    (void)d;
    (void)fn;
    (void)ctx;
    (void)err;
    return FAKE_RC(49);
}

static int fake_blob_gc_unreferenced(struct meta *m, int64_t before, meta_digest_fn fn, void *ctx,
                                     struct berr *err)
{
    fake_hit(50, m);
    (void)before;
    (void)fn;
    (void)ctx;
    (void)err;
    return FAKE_RC(50);
}

static int fake_blob_forget(struct meta *m, const struct digest *d, meta_file_fn drop, void *ctx,
                            bool *forgotten, struct berr *err)
{
    fake_hit(51, m);
    (void)d;
    (void)drop;
    (void)ctx;
    (void)forgotten;
    (void)err;
    return FAKE_RC(51);
}

static int fake_blob_orphan_drop(struct meta *m, const struct digest *d, meta_file_fn drop,
                                 void *ctx, bool *dropped, struct berr *err)
{
    fake_hit(65, m);
    (void)d;
    (void)drop;
    (void)ctx;
    (void)dropped;
    (void)err;
    return FAKE_RC(65);
}

static int fake_blob_gc_unlink_dangling(struct meta *m, int64_t before, bool dry_run, unsigned *n,
                                        struct berr *err)
{
    fake_hit(52, m);
    (void)before;
    (void)dry_run;
    (void)n;
    (void)err;
    return FAKE_RC(52);
}

static int fake_blob_known(struct meta *m, const struct digest *d, bool *known, struct berr *err)
{
    fake_hit(53, m);
    (void)d;
    (void)known;
    (void)err;
    return FAKE_RC(53);
}

static int fake_blob_blobs_all(struct meta *m, meta_digest_fn fn, void *ctx, struct berr *err)
{
    fake_hit(54, m);
    (void)fn;
    (void)ctx;
    (void)err;
    return FAKE_RC(54);
}

static int fake_quota_get(struct meta *m, int64_t project_id, struct quota_info *out,
                          struct berr *err)
{
    fake_hit(55, m);
    (void)project_id;
    (void)out;
    (void)err;
    return FAKE_RC(55);
}

static int fake_quota_usage(struct meta *m, int64_t project_id, int64_t *used, struct berr *err)
{
    fake_hit(56, m);
    (void)project_id;
    (void)used;
    (void)err;
    return FAKE_RC(56);
}

static int fake_quota_list(struct meta *m, int64_t project_id, int64_t offset,
                           struct quota_info *out, size_t cap, size_t *n, int64_t *total,
                           struct berr *err)
{
    fake_hit(57, m);
    (void)project_id;
    (void)offset;
    (void)out;
    (void)cap;
    (void)n;
    (void)total;
    (void)err;
    return FAKE_RC(57);
}

static int fake_quota_set(struct meta *m, int64_t project_id, int64_t hard, int64_t *used,
                          struct berr *err)
{
    fake_hit(58, m);
    (void)project_id;
    (void)hard;
    (void)used;
    (void)err;
    return FAKE_RC(58);
}

static int fake_quota_check(struct meta *m, const struct repo_name *repo, const struct digest *d,
                            uint64_t size, struct berr *err)
{
    fake_hit(59, m);
    (void)repo;
    (void)d;
    (void)size;
    (void)err;
    return FAKE_RC(59);
}

static int fake_quota_blob_link(struct meta *m, const struct repo_name *repo,
                                const struct digest *d, uint64_t size, meta_file_fn place,
                                void *place_ctx, bool *added, struct berr *err)
{
    fake_hit(60, m);
    (void)repo;
    (void)d;
    (void)size;
    (void)place;
    (void)place_ctx;
    (void)added;
    (void)err;
    return FAKE_RC(60);
}

static int fake_audit_write(struct meta *m, const struct audit_event *ev, size_t n,
                            struct berr *err)
{
    fake_batch = n;
    fake_hit(61, m);
    (void)ev;
    (void)err;
    return FAKE_RC(61);
}

static int fake_audit_list(struct meta *m, const struct audit_q *q, struct audit_event *out,
                           size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    fake_hit(62, m);
    (void)q;
    (void)out;
    (void)cap;
    (void)n;
    (void)total;
    (void)err;
    return FAKE_RC(62);
}

static int fake_audit_purge(struct meta *m, int64_t before, int64_t *removed, struct berr *err)
{
    fake_hit(63, m);
    (void)before;
    (void)removed;
    (void)err;
    return FAKE_RC(63);
}

/* rec records one anonymous, unknown-client image pull (the counting core of the old call) */
static int rec(struct pulls *p, const struct repo_name *repo, const struct digest *d,
               const struct tag *t, int64_t when, struct berr *e)
{
    struct pulls_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.repo = repo;
    ev.digest = d;
    ev.tag = t;
    ev.when = when;
    return pulls_record(p, &ev, e);
}

static int fake_pulls_write(struct meta *m, const struct pulls_entry *ents, size_t n,
                            struct berr *err)
{
    fake_batch = n;
    fake_hit(64, m);
    (void)ents;
    (void)err;
    return FAKE_RC(64);
}

static int fake_pulls_series(struct meta *m, const struct pulls_q *q, struct pulls_point *out,
                             size_t cap, size_t *n, struct berr *err)
{
    fake_hit(66, m);
    (void)q, (void)out, (void)cap, (void)n, (void)err;
    return FAKE_RC(66);
}

static int fake_pulls_top(struct meta *m, const struct pulls_q *q, struct pulls_point *out,
                          size_t cap, size_t *n, struct berr *err)
{
    fake_hit(67, m);
    (void)q, (void)out, (void)cap, (void)n, (void)err;
    return FAKE_RC(67);
}

static int fake_pulls_prune(struct meta *m, int64_t hb, int64_t db, int64_t *removed,
                            struct berr *err)
{
    fake_hit(68, m);
    (void)hb, (void)db, (void)removed, (void)err;
    return FAKE_RC(68);
}

static int fake_pulls_stale(struct meta *m, const struct pulls_stale_q *q, struct pulls_stale *out,
                            size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    fake_hit(69, m);
    (void)q, (void)out, (void)cap, (void)n, (void)total, (void)err;
    return FAKE_RC(69);
}

static const struct meta_project_ops fake_project_ops = {
        .get = fake_project_get,
        .list = fake_project_list,
        .create = fake_project_create,
        .update = fake_project_update,
        .remove = fake_project_remove,
};

static const struct meta_user_ops fake_user_ops = {
        .get = fake_user_get,
        .list = fake_user_list,
        .create = fake_user_create,
        .update = fake_user_update,
        .set_sysadmin = fake_user_set_sysadmin,
        .set_password = fake_user_set_password,
        .remove = fake_user_remove,
};

static const struct meta_member_ops fake_member_ops = {
        .role = fake_member_role,
        .add = fake_member_add,
        .get = fake_member_get,
        .set_role = fake_member_set_role,
        .remove = fake_member_remove,
        .list = fake_member_list,
};

static const struct meta_robot_ops fake_robot_ops = {
        .get = fake_robot_get,
        .actions = fake_robot_actions,
        .create = fake_robot_create,
        .perms = fake_robot_perms,
        .update = fake_robot_update,
        .set_secret = fake_robot_set_secret,
        .remove = fake_robot_remove,
        .list = fake_robot_list,
};

static const struct meta_repo_ops fake_repo_ops = {
        .count = fake_repo_count,
        .list = fake_repo_list,
        .info_get = fake_repo_info_get,
        .set_description = fake_repo_set_description,
        .remove = fake_repo_remove,
        .stats_get = fake_repo_stats_get,
};

static const struct meta_manifest_ops fake_manifest_ops = {
        .put = fake_manifest_put,
        .resolve = fake_manifest_resolve,
        .remove = fake_manifest_remove,
        .tag_delete = fake_manifest_tag_delete,
        .tags_list = fake_manifest_tags_list,
        .catalog = fake_manifest_catalog,
        .referrers = fake_manifest_referrers,
        .artifact_list = fake_manifest_artifact_list,
        .artifact_get = fake_manifest_artifact_get,
        .artifact_tags = fake_manifest_artifact_tags,
        .artifact_refs = fake_manifest_artifact_refs,
        .tag_create = fake_manifest_tag_create,
        .tag_detach = fake_manifest_tag_detach,
};

static const struct meta_blob_ops fake_blob_ops = {
        .link = fake_blob_link,
        .linked = fake_blob_linked,
        .unlink = fake_blob_unlink,
        .size = fake_blob_size,
        .repos = fake_blob_repos,
        .gc_unreferenced = fake_blob_gc_unreferenced,
        .forget = fake_blob_forget,
        .orphan_drop = fake_blob_orphan_drop,
        .gc_unlink_dangling = fake_blob_gc_unlink_dangling,
        .known = fake_blob_known,
        .blobs_all = fake_blob_blobs_all,
};

static const struct meta_quota_ops fake_quota_ops = {
        .get = fake_quota_get,
        .usage = fake_quota_usage,
        .list = fake_quota_list,
        .set = fake_quota_set,
        .check = fake_quota_check,
        .blob_link = fake_quota_blob_link,
};

static const struct meta_audit_ops fake_audit_ops = {
        .write = fake_audit_write,
        .list = fake_audit_list,
        .purge = fake_audit_purge,
};

static const struct meta_pulls_ops fake_pulls_ops = {
        .write = fake_pulls_write,
        .series = fake_pulls_series,
        .top = fake_pulls_top,
        .prune = fake_pulls_prune,
        .stale = fake_pulls_stale,
};

static void fake_close(struct meta *m)
{
    (void)m;
    fake_closed = true;
}

static int fake_schema_version(struct meta *m, int *out, struct berr *err)
{
    (void)err;
    (void)m;
    *out = 77;
    return 0;
}

static const struct meta_ops fake_ops = {
        .name = "fake",
        .close = fake_close,
        .schema_version = fake_schema_version,
        .project = &fake_project_ops,
        .user = &fake_user_ops,
        .member = &fake_member_ops,
        .robot = &fake_robot_ops,
        .repo = &fake_repo_ops,
        .manifest = &fake_manifest_ops,
        .blob = &fake_blob_ops,
        .quota = &fake_quota_ops,
        .audit = &fake_audit_ops,
        .pulls = &fake_pulls_ops,
};

/* ---- tests ---- */

/* every public call goes to its own slot, with the handle it was given */
static void test_dispatch(void)
{
    struct meta_project_info pi;
    struct meta_robot rb;
    struct meta_user u;
    unsigned acts = 0;
    struct berr e;
    int v = 0;

    memset(&rb, 0, sizeof(rb)); /* a robot that passes the public call's checks */
    memcpy(rb.name, "robot$n", 8);
    memcpy(rb.secret_hash, "x", 2);
    fake.ops = &fake_ops;
    memset(&e, 0, sizeof(e));
    CHECK_INT_EQ(meta_project_get(&fake, "n", &pi, &e), FAKE_RC(0));
    CHECK_STR_EQ(op_names[fake_last], "project.get");
    CHECK(fake_name != NULL && strcmp(fake_name, "n") == 0);
    CHECK_INT_EQ(meta_project_get_by_id(&fake, 7, &pi, &e), FAKE_RC(0));
    CHECK_STR_EQ(op_names[fake_last], "project.get");
    CHECK_INT_EQ(fake_id, 7);
    CHECK(fake_name == NULL);
    CHECK_INT_EQ(meta_project_list(&fake, NULL, NULL, 0, NULL, NULL, &e), FAKE_RC(1));
    CHECK_STR_EQ(op_names[fake_last], "project.list");
    CHECK_INT_EQ(meta_project_create(&fake, "n", false, 0, 0, NULL, &e), FAKE_RC(2));
    CHECK_STR_EQ(op_names[fake_last], "project.create");
    CHECK_INT_EQ(meta_project_update(&fake, 0, false, false, false, 0, &e), FAKE_RC(3));
    CHECK_STR_EQ(op_names[fake_last], "project.update");
    CHECK_INT_EQ(meta_project_delete(&fake, 0, &e), FAKE_RC(4));
    CHECK_STR_EQ(op_names[fake_last], "project.remove");
    CHECK_INT_EQ(meta_user_get(&fake, "n", &u, &e), FAKE_RC(5));
    CHECK_STR_EQ(op_names[fake_last], "user.get");
    CHECK(fake_name != NULL && strcmp(fake_name, "n") == 0);
    CHECK_INT_EQ(meta_user_get_by_id(&fake, 7, &u, &e), FAKE_RC(5));
    CHECK_STR_EQ(op_names[fake_last], "user.get");
    CHECK_INT_EQ(fake_id, 7);
    CHECK(fake_name == NULL);
    CHECK_INT_EQ(meta_user_info_get(&fake, 0, NULL, &e), FAKE_RC(5));
    CHECK_STR_EQ(op_names[fake_last], "user.get");
    CHECK_INT_EQ(meta_user_list(&fake, NULL, NULL, 0, NULL, NULL, &e), FAKE_RC(6));
    CHECK_STR_EQ(op_names[fake_last], "user.list");
    CHECK_INT_EQ(meta_user_create(&fake, "n", "x", false, NULL, &e), FAKE_RC(7));
    CHECK_STR_EQ(op_names[fake_last], "user.create");
    CHECK_INT_EQ(meta_user_update(&fake, 0, NULL, NULL, NULL, &e), FAKE_RC(8));
    CHECK_STR_EQ(op_names[fake_last], "user.update");
    CHECK_INT_EQ(meta_user_set_sysadmin(&fake, 0, false, &e), FAKE_RC(9));
    CHECK_STR_EQ(op_names[fake_last], "user.set_sysadmin");
    CHECK_INT_EQ(meta_user_set_password(&fake, 0, "x", &e), FAKE_RC(10));
    CHECK_STR_EQ(op_names[fake_last], "user.set_password");
    CHECK_INT_EQ(meta_user_delete(&fake, 0, &e), FAKE_RC(11));
    CHECK_STR_EQ(op_names[fake_last], "user.remove");
    CHECK_INT_EQ(meta_member_role(&fake, 0, 0, NULL, &e), FAKE_RC(12));
    CHECK_STR_EQ(op_names[fake_last], "member.role");
    CHECK_INT_EQ(meta_member_add(&fake, 0, 0, ROLE_GUEST, NULL, &e), FAKE_RC(13));
    CHECK_STR_EQ(op_names[fake_last], "member.add");
    CHECK_INT_EQ(meta_member_get(&fake, 0, 0, NULL, &e), FAKE_RC(14));
    CHECK_STR_EQ(op_names[fake_last], "member.get");
    CHECK_INT_EQ(meta_member_set_role(&fake, 0, 0, ROLE_GUEST, &e), FAKE_RC(15));
    CHECK_STR_EQ(op_names[fake_last], "member.set_role");
    CHECK_INT_EQ(meta_member_delete(&fake, 0, 0, &e), FAKE_RC(16));
    CHECK_STR_EQ(op_names[fake_last], "member.remove");
    CHECK_INT_EQ(meta_member_list(&fake, 0, NULL, NULL, 0, NULL, NULL, &e), FAKE_RC(17));
    CHECK_STR_EQ(op_names[fake_last], "member.list");
    CHECK_INT_EQ(meta_robot_get(&fake, "n", NULL, &e), FAKE_RC(18));
    CHECK_STR_EQ(op_names[fake_last], "robot.get");
    CHECK(fake_name != NULL && strcmp(fake_name, "n") == 0);
    CHECK_INT_EQ(meta_robot_get_by_id(&fake, 7, NULL, &e), FAKE_RC(18));
    CHECK_STR_EQ(op_names[fake_last], "robot.get");
    CHECK_INT_EQ(fake_id, 7);
    CHECK(fake_name == NULL);
    CHECK_INT_EQ(meta_robot_actions(&fake, 0, "x", &acts, &e), FAKE_RC(19));
    CHECK_STR_EQ(op_names[fake_last], "robot.actions");
    CHECK_INT_EQ(meta_robot_create(&fake, &rb, NULL, 0, NULL, &e), FAKE_RC(20));
    CHECK_STR_EQ(op_names[fake_last], "robot.create");
    CHECK_INT_EQ(meta_robot_perms(&fake, 0, NULL, 0, NULL, &e), FAKE_RC(21));
    CHECK_STR_EQ(op_names[fake_last], "robot.perms");
    CHECK_INT_EQ(meta_robot_update(&fake, 0, &rb, NULL, 0, &e), FAKE_RC(22));
    CHECK_STR_EQ(op_names[fake_last], "robot.update");
    CHECK_INT_EQ(meta_robot_set_secret(&fake, 0, "x", &e), FAKE_RC(23));
    CHECK_STR_EQ(op_names[fake_last], "robot.set_secret");
    CHECK_INT_EQ(meta_robot_delete(&fake, 0, &e), FAKE_RC(24));
    CHECK_STR_EQ(op_names[fake_last], "robot.remove");
    CHECK_INT_EQ(meta_robot_list(&fake, NULL, 0, NULL, 0, NULL, NULL, &e), FAKE_RC(25));
    CHECK_STR_EQ(op_names[fake_last], "robot.list");
    CHECK_INT_EQ(meta_repo_list(&fake, NULL, NULL, 0, NULL, NULL, &e), FAKE_RC(27));
    CHECK_STR_EQ(op_names[fake_last], "repo.list");
    CHECK_INT_EQ(meta_repo_count(&fake, 0, NULL, &e), FAKE_RC(26));
    CHECK_STR_EQ(op_names[fake_last], "repo.count");
    CHECK_INT_EQ(meta_repo_info_get(&fake, NULL, NULL, &e), FAKE_RC(28));
    CHECK_STR_EQ(op_names[fake_last], "repo.info_get");
    CHECK_INT_EQ(meta_repo_set_description(&fake, NULL, "x", &e), FAKE_RC(29));
    CHECK_STR_EQ(op_names[fake_last], "repo.set_description");
    CHECK_INT_EQ(meta_repo_delete(&fake, NULL, &e), FAKE_RC(30));
    CHECK_STR_EQ(op_names[fake_last], "repo.remove");
    CHECK_INT_EQ(meta_stats_get(&fake, false, 0, NULL, &e), FAKE_RC(31));
    CHECK_STR_EQ(op_names[fake_last], "repo.stats_get");
    CHECK_INT_EQ(meta_manifest_put(&fake, NULL, NULL, &e), FAKE_RC(32));
    CHECK_STR_EQ(op_names[fake_last], "manifest.put");
    CHECK_INT_EQ(meta_manifest_resolve(&fake, NULL, NULL, NULL, &e), FAKE_RC(33));
    CHECK_STR_EQ(op_names[fake_last], "manifest.resolve");
    CHECK_INT_EQ(meta_manifest_delete(&fake, NULL, NULL, &e), FAKE_RC(34));
    CHECK_STR_EQ(op_names[fake_last], "manifest.remove");
    CHECK_INT_EQ(meta_tag_delete(&fake, NULL, NULL, &e), FAKE_RC(35));
    CHECK_STR_EQ(op_names[fake_last], "manifest.tag_delete");
    CHECK_INT_EQ(meta_tags_list(&fake, NULL, NULL, 0, NULL, NULL, NULL, &e), FAKE_RC(36));
    CHECK_STR_EQ(op_names[fake_last], "manifest.tags_list");
    CHECK_INT_EQ(meta_catalog(&fake, NULL, 0, NULL, NULL, NULL, &e), FAKE_RC(37));
    CHECK_STR_EQ(op_names[fake_last], "manifest.catalog");
    CHECK_INT_EQ(meta_referrers(&fake, NULL, NULL, NULL, NULL, NULL, &e), FAKE_RC(38));
    CHECK_STR_EQ(op_names[fake_last], "manifest.referrers");
    CHECK_INT_EQ(meta_artifact_list(&fake, NULL, NULL, 0, NULL, NULL, &e), FAKE_RC(39));
    CHECK_STR_EQ(op_names[fake_last], "manifest.artifact_list");
    CHECK_INT_EQ(meta_artifact_get(&fake, 0, NULL, NULL, &e), FAKE_RC(40));
    CHECK_STR_EQ(op_names[fake_last], "manifest.artifact_get");
    CHECK_INT_EQ(meta_artifact_tags(&fake, 0, NULL, NULL, 0, NULL, NULL, &e), FAKE_RC(41));
    CHECK_STR_EQ(op_names[fake_last], "manifest.artifact_tags");
    CHECK_INT_EQ(meta_artifact_refs(&fake, 0, NULL, 0, NULL, &e), FAKE_RC(42));
    CHECK_STR_EQ(op_names[fake_last], "manifest.artifact_refs");
    CHECK_INT_EQ(meta_tag_create(&fake, 0, 0, NULL, &e), FAKE_RC(43));
    CHECK_STR_EQ(op_names[fake_last], "manifest.tag_create");
    CHECK_INT_EQ(meta_tag_detach(&fake, 0, NULL, &e), FAKE_RC(44));
    CHECK_STR_EQ(op_names[fake_last], "manifest.tag_detach");
    CHECK_INT_EQ(meta_blob_link(&fake, NULL, NULL, 0, &e), FAKE_RC(45));
    CHECK_STR_EQ(op_names[fake_last], "blob.link");
    CHECK_INT_EQ(meta_blob_linked(&fake, NULL, NULL, NULL, &e), FAKE_RC(46));
    CHECK_STR_EQ(op_names[fake_last], "blob.linked");
    CHECK_INT_EQ(meta_blob_unlink(&fake, NULL, NULL, &e), FAKE_RC(47));
    CHECK_STR_EQ(op_names[fake_last], "blob.unlink");
    CHECK_INT_EQ(meta_blob_size(&fake, NULL, NULL, &e), FAKE_RC(48));
    CHECK_STR_EQ(op_names[fake_last], "blob.size");
    CHECK_INT_EQ(meta_blob_repos(&fake, NULL, NULL, NULL, &e), FAKE_RC(49));
    CHECK_STR_EQ(op_names[fake_last], "blob.repos");
    CHECK_INT_EQ(meta_gc_unreferenced(&fake, 0, NULL, NULL, &e), FAKE_RC(50));
    CHECK_STR_EQ(op_names[fake_last], "blob.gc_unreferenced");
    CHECK_INT_EQ(meta_blob_forget(&fake, NULL, NULL, &e), FAKE_RC(51));
    CHECK_STR_EQ(op_names[fake_last], "blob.forget");
    CHECK_INT_EQ(meta_blob_forget_drop(&fake, NULL, NULL, NULL, NULL, &e), FAKE_RC(51));
    CHECK_STR_EQ(op_names[fake_last], "blob.forget");
    CHECK_INT_EQ(meta_blob_orphan_drop(&fake, NULL, NULL, NULL, NULL, &e), FAKE_RC(65));
    CHECK_STR_EQ(op_names[fake_last], "blob.orphan_drop");
    CHECK_INT_EQ(meta_gc_unlink_dangling(&fake, 0, false, NULL, &e), FAKE_RC(52));
    CHECK_STR_EQ(op_names[fake_last], "blob.gc_unlink_dangling");
    CHECK_INT_EQ(meta_blob_known(&fake, NULL, NULL, &e), FAKE_RC(53));
    CHECK_STR_EQ(op_names[fake_last], "blob.known");
    CHECK_INT_EQ(meta_blobs_all(&fake, NULL, NULL, &e), FAKE_RC(54));
    CHECK_STR_EQ(op_names[fake_last], "blob.blobs_all");
    CHECK_INT_EQ(quota_get(&fake, 0, NULL, &e), FAKE_RC(55));
    CHECK_STR_EQ(op_names[fake_last], "quota.get");
    CHECK_INT_EQ(quota_usage(&fake, 0, NULL, &e), FAKE_RC(56));
    CHECK_STR_EQ(op_names[fake_last], "quota.usage");
    CHECK_INT_EQ(quota_list(&fake, 0, 0, NULL, 0, NULL, NULL, &e), FAKE_RC(57));
    CHECK_STR_EQ(op_names[fake_last], "quota.list");
    CHECK_INT_EQ(quota_set(&fake, 0, 0, NULL, &e), FAKE_RC(58));
    CHECK_STR_EQ(op_names[fake_last], "quota.set");
    CHECK_INT_EQ(quota_check(&fake, NULL, NULL, 0, &e), FAKE_RC(59));
    CHECK_STR_EQ(op_names[fake_last], "quota.check");
    CHECK_INT_EQ(meta_blob_link_quota(&fake, NULL, NULL, 0, NULL, &e), FAKE_RC(60));
    CHECK_STR_EQ(op_names[fake_last], "quota.blob_link");
    CHECK_INT_EQ(meta_blob_link_place(&fake, NULL, NULL, 0, NULL, NULL, NULL, &e), FAKE_RC(60));
    CHECK_STR_EQ(op_names[fake_last], "quota.blob_link");
    CHECK_INT_EQ(audit_list(&fake, NULL, NULL, 0, NULL, NULL, &e), FAKE_RC(62));
    CHECK_STR_EQ(op_names[fake_last], "audit.list");
    CHECK_INT_EQ(audit_purge(&fake, 0, NULL, &e), FAKE_RC(63));
    CHECK_STR_EQ(op_names[fake_last], "audit.purge");
    {
        struct pulls_q pq;
        struct pulls_stale_q sq;
        size_t pn;
        int64_t ptotal;

        memset(&pq, 0, sizeof(pq));
        memset(&sq, 0, sizeof(sq));
        pq.granularity = PULLS_HOUR_S;
        CHECK_INT_EQ(meta_pulls_series(&fake, &pq, NULL, 0, &pn, &e), FAKE_RC(66));
        CHECK_STR_EQ(op_names[fake_last], "pulls.series");
        pq.group = PULLS_GROUP_REPO;
        CHECK_INT_EQ(meta_pulls_top(&fake, &pq, NULL, 0, &pn, &e), FAKE_RC(67));
        CHECK_STR_EQ(op_names[fake_last], "pulls.top");
        CHECK_INT_EQ(meta_pulls_prune(&fake, 0, 0, NULL, &e), FAKE_RC(68));
        CHECK_STR_EQ(op_names[fake_last], "pulls.prune");
        CHECK_INT_EQ(meta_pulls_stale(&fake, &sq, NULL, 0, &pn, &ptotal, &e), FAKE_RC(69));
        CHECK_STR_EQ(op_names[fake_last], "pulls.stale");
    }
    CHECK_INT_EQ(meta_schema_version(&fake, &v, &e), 0);
    CHECK_INT_EQ(v, 77);
    fake_closed = false;
    meta_close(&fake);
    CHECK(fake_closed);
    meta_close(NULL); /* a no-op */
}

/* arguments a backend must never see are refused by the public call (meta.h rule 5) */
static void test_checks_before_ops(void)
{
    char *desc = malloc(META_REPO_DESC_MAX + 2);
    struct meta_project_info pi;
    struct meta_robot rb;
    struct meta_user u;
    struct berr e;
    int calls;

    fake.ops = &fake_ops;
    calls = fake_calls;
    CHECK_INT_EQ(meta_project_get(&fake, "Bad Name", &pi, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);
    CHECK_INT_EQ(meta_project_get_by_id(&fake, 0, &pi, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_project_create(&fake, "Bad/Name", false, 0, -1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_INVALID);
    CHECK_INT_EQ(meta_project_create(&fake, "ok", false, 0, -2, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(meta_project_update(&fake, 1, false, false, true, -2, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(meta_user_get(&fake, "", &u, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_user_create(&fake, "", "x", false, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(meta_user_set_password(&fake, 1, "", &e), -1);
    CHECK_INT_EQ(e.code, BERR_INTERNAL);
    CHECK_INT_EQ(meta_member_add(&fake, 1, 1, 9, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(meta_member_set_role(&fake, 1, 1, 0, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    memset(&rb, 0, sizeof(rb));
    CHECK_INT_EQ(meta_robot_create(&fake, &rb, NULL, 0, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(meta_robot_set_secret(&fake, 1, "", &e), -1);
    CHECK_INT_EQ(e.code, BERR_INTERNAL);
    CHECK(desc != NULL);
    if (desc != NULL) {
        memset(desc, 'd', META_REPO_DESC_MAX + 1);
        desc[META_REPO_DESC_MAX + 1] = '\0';
        CHECK_INT_EQ(meta_repo_set_description(&fake, NULL, desc, &e), -1);
        CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    }
    CHECK_INT_EQ(fake_calls, calls); /* none of them reached the backend */
    free(desc);
}

/* the queues of audit.c and pulls.c write their batches through the ops */
static void test_queue_writes(void)
{
    struct audit *a = NULL;
    struct pulls *p = NULL;
    struct repo_name r = test_repo_name("library/app");
    struct digest d = test_digest_of("m");
    struct berr e;
    uint64_t flushed = 0;

    fake.ops = &fake_ops;
    CHECK_INT_EQ(audit_new(&a, &fake, 0, &e), 0);
    CHECK_INT_EQ(audit_record(a, "alice", "create", "project", "p", "p", "127.0.0.1", true), 0);
    CHECK_INT_EQ(audit_record(a, "bob", "delete", "project", "p", "p", "127.0.0.1", true), 0);
    fake_batch = 0;
    /* the fake's write fails (FAKE_RC): the flush fails and the events stay queued */
    CHECK(audit_flush(a, &flushed, &e) < 0);
    CHECK_STR_EQ(op_names[fake_last], "audit.write");
    CHECK_INT_EQ(fake_batch, 2);
    CHECK_INT_EQ(audit_pending(a), 2);
    audit_free(a); /* its last flush fails too, logged */

    CHECK_INT_EQ(pulls_new(&p, &fake, 0, &e), 0);
    CHECK_INT_EQ(rec(p, &r, &d, NULL, 1, &e), 0);
    CHECK_INT_EQ(rec(p, &r, &d, NULL, 2, &e), 0);
    fake_batch = 0;
    CHECK(pulls_flush(p, &flushed, &e) < 0);
    CHECK_STR_EQ(op_names[fake_last], "pulls.write");
    CHECK_INT_EQ(fake_batch, 1); /* one key, counted twice */
    CHECK_INT_EQ(pulls_pending(p), 2);
    pulls_free(p);
}

/* the SQLite backend fills every slot */
static void test_sqlite_table_complete(void)
{
    struct meta *m = test_meta_open(tmpdir, 1);
    const struct meta_ops *o = m->ops;

    CHECK(o != NULL);
    if (o == NULL)
        return;
    CHECK_STR_EQ(o->name, "sqlite");
    CHECK(o->close != NULL);
    CHECK(o->schema_version != NULL);
    CHECK(o->project != NULL);
    if (o->project != NULL) {
        CHECK(o->project->get != NULL);
        CHECK(o->project->list != NULL);
        CHECK(o->project->create != NULL);
        CHECK(o->project->update != NULL);
        CHECK(o->project->remove != NULL);
    }
    CHECK(o->user != NULL);
    if (o->user != NULL) {
        CHECK(o->user->get != NULL);
        CHECK(o->user->list != NULL);
        CHECK(o->user->create != NULL);
        CHECK(o->user->update != NULL);
        CHECK(o->user->set_sysadmin != NULL);
        CHECK(o->user->set_password != NULL);
        CHECK(o->user->remove != NULL);
    }
    CHECK(o->member != NULL);
    if (o->member != NULL) {
        CHECK(o->member->role != NULL);
        CHECK(o->member->add != NULL);
        CHECK(o->member->get != NULL);
        CHECK(o->member->set_role != NULL);
        CHECK(o->member->remove != NULL);
        CHECK(o->member->list != NULL);
    }
    CHECK(o->robot != NULL);
    if (o->robot != NULL) {
        CHECK(o->robot->get != NULL);
        CHECK(o->robot->actions != NULL);
        CHECK(o->robot->create != NULL);
        CHECK(o->robot->perms != NULL);
        CHECK(o->robot->update != NULL);
        CHECK(o->robot->set_secret != NULL);
        CHECK(o->robot->remove != NULL);
        CHECK(o->robot->list != NULL);
    }
    CHECK(o->repo != NULL);
    if (o->repo != NULL) {
        CHECK(o->repo->count != NULL);
        CHECK(o->repo->list != NULL);
        CHECK(o->repo->info_get != NULL);
        CHECK(o->repo->set_description != NULL);
        CHECK(o->repo->remove != NULL);
        CHECK(o->repo->stats_get != NULL);
    }
    CHECK(o->manifest != NULL);
    if (o->manifest != NULL) {
        CHECK(o->manifest->put != NULL);
        CHECK(o->manifest->resolve != NULL);
        CHECK(o->manifest->remove != NULL);
        CHECK(o->manifest->tag_delete != NULL);
        CHECK(o->manifest->tags_list != NULL);
        CHECK(o->manifest->catalog != NULL);
        CHECK(o->manifest->referrers != NULL);
        CHECK(o->manifest->artifact_list != NULL);
        CHECK(o->manifest->artifact_get != NULL);
        CHECK(o->manifest->artifact_tags != NULL);
        CHECK(o->manifest->artifact_refs != NULL);
        CHECK(o->manifest->tag_create != NULL);
        CHECK(o->manifest->tag_detach != NULL);
    }
    CHECK(o->blob != NULL);
    if (o->blob != NULL) {
        CHECK(o->blob->link != NULL);
        CHECK(o->blob->linked != NULL);
        CHECK(o->blob->unlink != NULL);
        CHECK(o->blob->size != NULL);
        CHECK(o->blob->repos != NULL);
        CHECK(o->blob->gc_unreferenced != NULL);
        CHECK(o->blob->forget != NULL);
        CHECK(o->blob->orphan_drop != NULL);
        CHECK(o->blob->gc_unlink_dangling != NULL);
        CHECK(o->blob->known != NULL);
        CHECK(o->blob->blobs_all != NULL);
    }
    CHECK(o->quota != NULL);
    if (o->quota != NULL) {
        CHECK(o->quota->get != NULL);
        CHECK(o->quota->usage != NULL);
        CHECK(o->quota->list != NULL);
        CHECK(o->quota->set != NULL);
        CHECK(o->quota->check != NULL);
        CHECK(o->quota->blob_link != NULL);
    }
    CHECK(o->audit != NULL);
    if (o->audit != NULL) {
        CHECK(o->audit->write != NULL);
        CHECK(o->audit->list != NULL);
        CHECK(o->audit->purge != NULL);
    }
    CHECK(o->pulls != NULL);
    if (o->pulls != NULL) {
        CHECK(o->pulls->write != NULL);
        CHECK(o->pulls->series != NULL);
        CHECK(o->pulls->top != NULL);
        CHECK(o->pulls->prune != NULL);
        CHECK(o->pulls->stale != NULL);
    }
    meta_close(m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "ops-test");
    TEST_RUN(test_dispatch);
    TEST_RUN(test_checks_before_ops);
    TEST_RUN(test_queue_writes);
    TEST_RUN(test_sqlite_table_complete);
    CHECK_INT_EQ(OP_COUNT, (int)(sizeof(op_names) / sizeof(op_names[0])));
    test_rm_rf(tmpdir);
    return test_summary();
}
