/* meta_ops_test.c - unit tests for the metadata interface itself (meta_ops.h): every public
 * call reaches the ops slot of its name with its arguments, the two getters of one entity share
 * one slot (by name: name set; by id: name NULL), the backend's return value comes back
 * unchanged, arguments a backend must not see are refused before the ops, the queue flushes of
 * audit.c and pulls.c write through the ops, and the SQLite backend's table is complete. The fake backend
 * (storage/test_meta_fake.h) records which slot was called; a second backend
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
#include "storage/test_meta_fake.h"

static char tmpdir[64]; /* test_mkdtemp, one per run */

/* ---- tests ---- */

static int state_nop(const char *key, const char *val, size_t len, int64_t version, int64_t expires,
                     void *ctx)
{
    (void)key, (void)val, (void)len, (void)version, (void)expires, (void)ctx;
    return 0;
}

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
    {
        char *sv = NULL;

        CHECK_INT_EQ(meta_state_get(&fake, "ns", "k1", &sv, NULL, NULL, &e), FAKE_RC(70));
        CHECK_STR_EQ(op_names[fake_last], "state.get");
        CHECK(fake_name != NULL && strcmp(fake_name, "k1") == 0);
        CHECK_INT_EQ(meta_state_put(&fake, "ns", "k2", "v", 1, 0, 3, NULL, &e), FAKE_RC(71));
        CHECK_STR_EQ(op_names[fake_last], "state.put");
        CHECK_INT_EQ(fake_id, 3);
        CHECK_INT_EQ(meta_state_remove(&fake, "ns", "k3", META_STATE_ANY, &e), FAKE_RC(72));
        CHECK_STR_EQ(op_names[fake_last], "state.remove");
        CHECK_INT_EQ(fake_id, META_STATE_ANY);
        CHECK_INT_EQ(meta_state_incr(&fake, "ns", "k4", 5, 0, NULL, &e), FAKE_RC(73));
        CHECK_STR_EQ(op_names[fake_last], "state.incr");
        CHECK_INT_EQ(fake_id, 5);
        CHECK_INT_EQ(meta_state_list(&fake, "ns5", state_nop, NULL, &e), FAKE_RC(74));
        CHECK_STR_EQ(op_names[fake_last], "state.list");
        CHECK(fake_name != NULL && strcmp(fake_name, "ns5") == 0);
        CHECK_INT_EQ(meta_state_purge(&fake, 1234, NULL, &e), FAKE_RC(75));
        CHECK_STR_EQ(op_names[fake_last], "state.purge");
        CHECK_INT_EQ(fake_id, 1234);
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
    {
        static char longkey[META_STATE_KEY_MAX + 2];
        static char bigval[META_STATE_VAL_MAX + 1];
        const char *bad[] = {"",     "has space", "tab\t",
                             "\x7f", "a\xc3\xa9", "nsnsnsnsnsnsnsnsnsnsnsnsnsnsnsnsn" /* 33 */};
        char *sv = (char *)1;
        size_t sl = 9;
        int64_t ver = 9;
        size_t i;

        memset(longkey, 'k', META_STATE_KEY_MAX + 1);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            CHECK_INT_EQ(meta_state_get(&fake, bad[i], "k", &sv, &sl, &ver, &e), -1);
            CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
            CHECK(sv == NULL && sl == 0 && ver == 0); /* outputs defined on failure */
            if (strlen(bad[i]) > META_STATE_NS_MAX)
                continue; /* a good key */
            CHECK_INT_EQ(meta_state_put(&fake, "ns", bad[i], "v", 1, 0, 0, NULL, &e), -1);
            CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
        }
        CHECK_INT_EQ(meta_state_get(&fake, NULL, "k", &sv, NULL, NULL, &e), -1);
        CHECK_INT_EQ(meta_state_get(&fake, "ns", NULL, &sv, NULL, NULL, &e), -1);
        CHECK_INT_EQ(meta_state_get(&fake, "ns", longkey, &sv, NULL, NULL, &e), -1);
        CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
        CHECK_INT_EQ(meta_state_put(&fake, "ns", "k", bigval, sizeof(bigval), 0, 0, NULL, &e), -1);
        CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
        CHECK_INT_EQ(meta_state_put(&fake, "ns", "k", NULL, 1, 0, 0, NULL, &e), -1);
        CHECK_INT_EQ(meta_state_put(&fake, "ns", "k", "v", 1, -1, 0, NULL, &e), -1);
        CHECK_INT_EQ(meta_state_put(&fake, "ns", "k", "v", 1, 0, -2, NULL, &e), -1);
        CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
        CHECK_INT_EQ(meta_state_remove(&fake, "ns", "k", 0, &e), -1);
        CHECK_INT_EQ(meta_state_remove(&fake, "ns", "k", -5, &e), -1);
        CHECK_INT_EQ(meta_state_incr(&fake, "ns", "k", 1, -1, NULL, &e), -1);
        CHECK_INT_EQ(meta_state_incr(&fake, "", "k", 1, 0, NULL, &e), -1);
        CHECK_INT_EQ(meta_state_list(&fake, "", state_nop, NULL, &e), -1);
        CHECK_INT_EQ(meta_state_list(&fake, "ns", NULL, NULL, &e), -1);
        CHECK_INT_EQ(meta_state_purge(&fake, -1, NULL, &e), -1);
        CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
        /* the longest names pass */
        memset(longkey, 'k', META_STATE_KEY_MAX);
        longkey[META_STATE_KEY_MAX] = '\0';
        calls = fake_calls;
        CHECK_INT_EQ(meta_state_get(&fake, "n2345678901234567890123456789012", longkey, &sv, NULL,
                                    NULL, &e),
                     FAKE_RC(70));
        CHECK_INT_EQ(meta_state_put(&fake, "ns", "k", bigval, META_STATE_VAL_MAX, 0, 0, NULL, &e),
                     FAKE_RC(71));
        calls += 2;
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

/* the backend of this run (SQLite, or PostgreSQL with BERTH_TEST_PG_URL) fills every slot */
static void test_table_complete(void)
{
    struct meta *m = test_meta_open(tmpdir, 1);
    const struct meta_ops *o = m->ops;

    CHECK(o != NULL);
    if (o == NULL)
        return;
    CHECK_STR_EQ(o->name, test_meta_pg() != NULL ? "postgres" : "sqlite");
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
    CHECK(o->gc_job != NULL);
    CHECK(o->state != NULL);
    if (o->state != NULL) {
        CHECK(o->state->get != NULL);
        CHECK(o->state->put != NULL);
        CHECK(o->state->remove != NULL);
        CHECK(o->state->incr != NULL);
        CHECK(o->state->list != NULL);
        CHECK(o->state->purge != NULL);
    }
    meta_close(m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "ops-test");
    TEST_RUN(test_dispatch);
    TEST_RUN(test_checks_before_ops);
    TEST_RUN(test_queue_writes);
    TEST_RUN(test_table_complete);
    CHECK_INT_EQ(OP_COUNT, (int)(sizeof(op_names) / sizeof(op_names[0])));
    test_rm_rf(tmpdir);
    return test_summary();
}
