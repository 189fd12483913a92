/* test_meta_fake.h - a fake metadata backend for storage tests (meta_ops_test.c): every ops slot
 * records that it was called (fake_last, fake_calls) and returns its own code FAKE_RC(i), so a
 * public meta_* call routed to the wrong slot cannot pass. The handle is `fake`, its ops table
 * fake_ops. Tests only; one includer per program. */
#ifndef BERTH_STORAGE_TEST_META_FAKE_H
#define BERTH_STORAGE_TEST_META_FAKE_H

#include <string.h>

#include "storage/meta.h"
#include "storage/meta_ops.h"

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
        "state.get",
        "state.put",
        "state.remove",
        "state.incr",
        "state.list",
        "state.purge",
};
#define OP_COUNT 76

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

static int fake_state_get(struct meta *m, const char *ns, const char *key, char **val, size_t *len,
                          int64_t *version, struct berr *err)
{
    fake_hit(70, m);
    fake_name = key;
    (void)ns, (void)val, (void)len, (void)version, (void)err;
    return FAKE_RC(70);
}

static int fake_state_put(struct meta *m, const char *ns, const char *key, const void *val,
                          size_t len, int64_t expires, int64_t expect_version, int64_t *new_version,
                          struct berr *err)
{
    fake_hit(71, m);
    fake_name = key;
    fake_id = expect_version;
    (void)ns, (void)val, (void)len, (void)expires, (void)new_version, (void)err;
    return FAKE_RC(71);
}

static int fake_state_remove(struct meta *m, const char *ns, const char *key,
                             int64_t expect_version, struct berr *err)
{
    fake_hit(72, m);
    fake_name = key;
    fake_id = expect_version;
    (void)ns, (void)err;
    return FAKE_RC(72);
}

static int fake_state_incr(struct meta *m, const char *ns, const char *key, int64_t delta,
                           int64_t expires, int64_t *value, struct berr *err)
{
    fake_hit(73, m);
    fake_name = key;
    fake_id = delta;
    (void)ns, (void)expires, (void)value, (void)err;
    return FAKE_RC(73);
}

static int fake_state_list(struct meta *m, const char *ns, meta_state_fn fn, void *ctx,
                           struct berr *err)
{
    fake_hit(74, m);
    fake_name = ns;
    (void)fn, (void)ctx, (void)err;
    return FAKE_RC(74);
}

static int fake_state_purge(struct meta *m, int64_t now, int64_t *removed, struct berr *err)
{
    fake_hit(75, m);
    fake_id = now;
    (void)removed, (void)err;
    return FAKE_RC(75);
}

static const struct meta_state_ops fake_state_ops = {
        .get = fake_state_get,
        .put = fake_state_put,
        .remove = fake_state_remove,
        .incr = fake_state_incr,
        .list = fake_state_list,
        .purge = fake_state_purge,
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
        .state = &fake_state_ops,
};

#endif
