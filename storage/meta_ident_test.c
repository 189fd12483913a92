/* meta_ident_test.c - unit tests for users, projects, members and robots in storage/meta_ident.h,
 * each on a fresh temporary database. */
#include "storage/meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"
#include "storage/test_meta.h"

static char tmpdir[64];

static struct meta *open_fresh(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    struct berr e;

    /* these tests were written with Harbor's public `library`; Berth makes it private, so
     * open it here as an admin would */
    {
        struct meta_project_info lib;
        if (meta_project_get(m, "library", &lib, &e) < 0 ||
            meta_project_update(m, lib.p.id, true, true, false, 0, &e) < 0)
            abort();
    }
    return m;
}

static int64_t mkuser(struct meta *m, const char *name, bool admin)
{
    struct berr e;
    int64_t id = 0;

    if (meta_user_create(m, name, "pbkdf2-sha256$1000$c2FsdA==$aGFzaA==", admin, &id, &e) < 0)
        abort();
    return id;
}

static void test_schema(void)
{
    struct meta *m = open_fresh();
    struct berr e;
    int v = 0;

    CHECK_INT_EQ(meta_schema_version(m, &v, &e), 0);
    CHECK(v >= 2); /* migration 2 is identity; later ones belong to other modules */
    meta_close(m);
}

static void test_users(void)
{
    struct meta *m = open_fresh();
    struct meta_user_info *list = mem_calloc(META_LIST_MAX, sizeof(*list));
    struct meta_user_info info;
    struct meta_user u;
    struct meta_list_q q;
    struct berr e;
    size_t n = 0;
    int64_t total = 0;
    int64_t alice = mkuser(m, "alice", false);
    int64_t bob = mkuser(m, "bob", false);
    int64_t carol = mkuser(m, "carol", true);

    CHECK(list != NULL);
    CHECK_INT_EQ(meta_user_get_by_id(m, bob, &u, &e), 0);
    CHECK_STR_EQ(u.name, "bob");
    CHECK(u.pw_hash[0] != '\0');
    CHECK_INT_EQ(meta_user_get_by_id(m, 999, &u, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_STR_EQ(u.name, "");

    CHECK_INT_EQ(meta_user_update(m, alice, "a@example.com", "Alice A", NULL, &e), 0);
    CHECK_INT_EQ(meta_user_update(m, alice, NULL, NULL, "hi", &e), 0);
    CHECK_INT_EQ(meta_user_info_get(m, alice, &info, &e), 0);
    CHECK_STR_EQ(info.email, "a@example.com");
    CHECK_STR_EQ(info.realname, "Alice A");
    CHECK_STR_EQ(info.comment, "hi");
    CHECK_INT_EQ(meta_user_update(m, 999, "x", NULL, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    {
        char longtext[META_TEXT_MAX + 2];

        memset(longtext, 'x', sizeof(longtext) - 1);
        longtext[sizeof(longtext) - 1] = '\0';
        CHECK_INT_EQ(meta_user_update(m, alice, longtext, NULL, NULL, &e), -1);
        CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    }

    CHECK_INT_EQ(meta_user_set_sysadmin(m, alice, true, &e), 0);
    CHECK_INT_EQ(meta_user_get_by_id(m, alice, &u, &e), 0);
    CHECK(u.sysadmin);
    CHECK_INT_EQ(meta_user_set_password(m, bob, "pbkdf2-sha256$1000$bmV3$bmV3", &e), 0);
    CHECK_INT_EQ(meta_user_get(m, "bob", &u, &e), 0);
    CHECK_STR_EQ(u.pw_hash, "pbkdf2-sha256$1000$bmV3$bmV3");
    CHECK_INT_EQ(meta_user_set_password(m, 999, "x$y", &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);

    /* list: all, exact, fuzzy, sort, paging; hashes never listed */
    memset(&q, 0, sizeof(q));
    q.limit = 10;
    CHECK_INT_EQ(meta_user_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 3);
    CHECK_INT_EQ(n, 3);
    CHECK_INT_EQ(list[0].u.id, alice);
    CHECK_STR_EQ(list[0].u.pw_hash, "");
    q.name = "o";
    q.fuzzy = true;
    CHECK_INT_EQ(meta_user_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2); /* bob, carol */
    q.fuzzy = false;
    CHECK_INT_EQ(meta_user_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 0);
    q.name = "carol";
    CHECK_INT_EQ(meta_user_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(list[0].u.id, carol);
    q.name = NULL;
    q.sort = "-username";
    q.limit = 2;
    q.offset = 1;
    CHECK_INT_EQ(meta_user_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 3);
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(list[0].u.name, "bob");
    CHECK_STR_EQ(list[1].u.name, "alice");
    q.sort = "password";
    CHECK_INT_EQ(meta_user_list(m, &q, list, META_LIST_MAX, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    q.sort = NULL;
    q.offset = -1;
    CHECK_INT_EQ(meta_user_list(m, &q, list, META_LIST_MAX, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);

    CHECK_INT_EQ(meta_user_delete(m, bob, &e), 0);
    CHECK_INT_EQ(meta_user_delete(m, bob, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_user_get(m, "bob", &u, &e), -1);
    mem_free(list);
    meta_close(m);
}

static void test_projects(void)
{
    struct meta *m = open_fresh();
    struct meta_project_info *list = mem_calloc(META_LIST_MAX, sizeof(*list));
    struct meta_project_info info;
    struct meta_project_info p;
    struct meta_project_q q;
    struct repo_name r = test_repo_name("team/app");
    struct digest d;
    struct berr e;
    size_t n = 0;
    int64_t total = 0;
    int64_t alice = mkuser(m, "alice", false);
    int64_t bob = mkuser(m, "bob", false);
    int64_t team = 0;
    int64_t priv = 0;
    int64_t old_created;
    int role = -1;

    CHECK(list != NULL);
    CHECK_INT_EQ(meta_project_create(m, "team", false, alice, 1000, &team, &e), 0);
    CHECK(team > 0);
    CHECK_INT_EQ(meta_project_create(m, "team", true, bob, -1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_project_create(m, "Bad Name", true, bob, -1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_INVALID);
    CHECK_INT_EQ(meta_project_create(m, "x", true, bob, -2, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    /* the creator is projectAdmin; meta_project_create's owner too (trigger) */
    CHECK_INT_EQ(meta_member_role(m, team, alice, &role, &e), 0);
    CHECK_INT_EQ(role, ROLE_PROJECT_ADMIN);
    CHECK_INT_EQ(meta_member_role(m, team, bob, &role, &e), 0);
    CHECK_INT_EQ(role, 0);
    CHECK_INT_EQ(meta_project_create(m, "bobs", false, bob, -1, &priv, &e), 0);
    CHECK_INT_EQ(meta_member_role(m, priv, bob, &role, &e), 0);
    CHECK_INT_EQ(role, ROLE_PROJECT_ADMIN);

    CHECK_INT_EQ(meta_project_get_by_id(m, team, &p, &e), 0);
    CHECK_STR_EQ(p.p.name, "team");
    CHECK(!p.p.public);
    CHECK_INT_EQ(meta_project_get_by_id(m, 999, &p, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_project_get(m, "team", &info, &e), 0);
    CHECK_INT_EQ(info.p.id, team);
    CHECK_STR_EQ(info.owner_name, "alice");
    CHECK_INT_EQ(info.storage_limit, 1000);
    CHECK_INT_EQ(info.repo_count, 0);
    CHECK_INT_EQ(meta_project_get(m, "nope", &info, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NAME_UNKNOWN);

    CHECK_INT_EQ(meta_project_update(m, team, true, true, false, 0, &e), 0);
    CHECK_INT_EQ(meta_project_get_by_id(m, team, &info, &e), 0);
    CHECK(info.p.public);
    CHECK_INT_EQ(info.storage_limit, 1000);
    CHECK_INT_EQ(meta_project_update(m, team, false, false, true, -1, &e), 0);
    CHECK_INT_EQ(meta_project_get_by_id(m, team, &info, &e), 0);
    CHECK(info.p.public);
    CHECK_INT_EQ(info.storage_limit, -1);
    CHECK_INT_EQ(meta_project_update(m, 999, true, true, false, 0, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);

    /* visibility: library (public), team (public now), bobs (private, bob's) */
    memset(&q, 0, sizeof(q));
    q.l.limit = 10;
    q.public_only = -1;
    q.all = true;
    CHECK_INT_EQ(meta_project_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 3);
    q.all = false;
    q.viewer_user_id = 0;
    CHECK_INT_EQ(meta_project_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    q.viewer_user_id = bob;
    CHECK_INT_EQ(meta_project_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 3);
    q.member_only = true;
    CHECK_INT_EQ(meta_project_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_STR_EQ(list[0].p.name, "bobs");
    q.member_only = false;
    q.public_only = 0;
    CHECK_INT_EQ(meta_project_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.public_only = -1;
    q.l.name = "b";
    q.l.fuzzy = true;
    q.l.sort = "-name";
    CHECK_INT_EQ(meta_project_list(m, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2); /* library, bobs */
    CHECK_STR_EQ(list[0].p.name, "library");
    CHECK_STR_EQ(list[1].p.name, "bobs");
    q.l.sort = "owner";
    CHECK_INT_EQ(meta_project_list(m, &q, list, META_LIST_MAX, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);

    /* delete refused while a repository holds a blob; allowed once unlinked */
    CHECK_INT_EQ(digest_of(&d, "layer", 5), 0);
    CHECK_INT_EQ(meta_blob_link(m, &r, &d, 5, &e), 0);
    CHECK_INT_EQ(meta_project_get_by_id(m, team, &info, &e), 0);
    CHECK_INT_EQ(info.repo_count, 1);
    CHECK_INT_EQ(meta_project_delete(m, team, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_blob_unlink(m, &r, &d, &e), 0);
    old_created = info.p.created_at;
    CHECK_INT_EQ(meta_project_delete(m, team, &e), 0);
    CHECK_INT_EQ(meta_project_delete(m, team, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_member_role(m, team, alice, &role, &e), 0);
    CHECK_INT_EQ(role, 0);
    /* re-created in the same second: created_at still moves past the deletion */
    CHECK_INT_EQ(meta_project_create(m, "team", false, bob, -1, &team, &e), 0);
    CHECK_INT_EQ(meta_project_get(m, "team", &p, &e), 0);
    CHECK(p.p.created_at > old_created);
    CHECK(p.p.created_at > now_s() - 1);
    mem_free(list);
    meta_close(m);
}

static void test_members(void)
{
    struct meta *m = open_fresh();
    struct meta_member *list = mem_calloc(META_LIST_MAX, sizeof(*list));
    struct meta_member mb;
    struct meta_list_q q;
    struct berr e;
    size_t n = 0;
    int64_t total = 0;
    int64_t alice = mkuser(m, "alice", false);
    int64_t bob = mkuser(m, "bob", false);
    int64_t carl = mkuser(m, "carl", false);
    int64_t proj = 0;
    int64_t other = 0;
    int64_t mid = 0;
    int role = 0;

    CHECK(list != NULL);
    CHECK_INT_EQ(meta_project_create(m, "p1", false, alice, -1, &proj, &e), 0);
    CHECK_INT_EQ(meta_project_create(m, "p2", false, 0, -1, &other, &e), 0);
    CHECK_INT_EQ(meta_member_add(m, proj, bob, ROLE_DEVELOPER, &mid, &e), 0);
    CHECK(mid > 0);
    CHECK_INT_EQ(meta_member_add(m, proj, bob, ROLE_GUEST, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_member_add(m, proj, carl, 6, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(meta_member_add(m, proj, carl, 0, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(meta_member_add(m, proj, 999, ROLE_GUEST, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_member_add(m, 999, carl, ROLE_GUEST, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_member_add(m, proj, carl, ROLE_LIMITED_GUEST, NULL, &e), 0);

    CHECK_INT_EQ(meta_member_get(m, proj, mid, &mb, &e), 0);
    CHECK_STR_EQ(mb.user_name, "bob");
    CHECK_INT_EQ(mb.role, ROLE_DEVELOPER);
    CHECK_INT_EQ(mb.user_id, bob);
    /* a member id is only valid within its project */
    CHECK_INT_EQ(meta_member_get(m, other, mid, &mb, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_member_set_role(m, other, mid, ROLE_GUEST, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_member_delete(m, other, mid, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);

    CHECK_INT_EQ(meta_member_set_role(m, proj, mid, ROLE_MAINTAINER, &e), 0);
    CHECK_INT_EQ(meta_member_role(m, proj, bob, &role, &e), 0);
    CHECK_INT_EQ(role, ROLE_MAINTAINER);
    CHECK_INT_EQ(meta_member_set_role(m, proj, mid, 9, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);

    memset(&q, 0, sizeof(q));
    q.limit = 10;
    CHECK_INT_EQ(meta_member_list(m, proj, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 3);
    CHECK_STR_EQ(list[0].user_name, "alice");
    CHECK_INT_EQ(list[0].role, ROLE_PROJECT_ADMIN);
    q.name = "ca";
    q.fuzzy = true;
    CHECK_INT_EQ(meta_member_list(m, proj, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_STR_EQ(list[0].user_name, "carl");
    q.name = NULL;
    q.limit = 1;
    q.offset = 2;
    CHECK_INT_EQ(meta_member_list(m, proj, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(total, 3);

    CHECK_INT_EQ(meta_member_delete(m, proj, mid, &e), 0);
    CHECK_INT_EQ(meta_member_role(m, proj, bob, &role, &e), 0);
    CHECK_INT_EQ(role, 0);
    /* deleting a user drops its memberships */
    CHECK_INT_EQ(meta_user_delete(m, carl, &e), 0);
    q.offset = 0;
    q.limit = 10;
    CHECK_INT_EQ(meta_member_list(m, proj, &q, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    mem_free(list);
    meta_close(m);
}

static void test_robots(void)
{
    struct meta *m = open_fresh();
    struct meta_robot *list = mem_calloc(META_LIST_MAX, sizeof(*list));
    struct meta_robot_perm perms[3];
    struct meta_robot_perm got[8];
    struct meta_robot r;
    struct meta_robot g;
    struct meta_list_q q;
    struct berr e;
    size_t n = 0;
    int64_t total = 0;
    int64_t p1 = 0;
    int64_t p2 = 0;
    int64_t sys = 0;
    int64_t pr = 0;
    unsigned act = 99;

    CHECK(list != NULL);
    CHECK_INT_EQ(meta_project_create(m, "p1", false, 0, -1, &p1, &e), 0);
    CHECK_INT_EQ(meta_project_create(m, "p2", false, 0, -1, &p2, &e), 0);
    memset(perms, 0, sizeof(perms));
    memcpy(perms[0].ns, "p1", 3);
    perms[0].actions = META_ACT_PULL | META_ACT_PUSH;
    memcpy(perms[1].ns, "*", 2);
    perms[1].actions = META_ACT_PULL;

    memset(&r, 0, sizeof(r));
    memcpy(r.name, "robot$ci", 9);
    memcpy(r.secret_hash, "pbkdf2-sha256$1000$c2FsdA==$aGFzaA==", 37);
    memcpy(r.description, "ci", 3);
    r.duration_days = -1;
    CHECK_INT_EQ(meta_robot_create(m, &r, perms, 2, &sys, &e), 0);
    CHECK(sys > 0);
    CHECK_INT_EQ(meta_robot_create(m, &r, perms, 2, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);

    memcpy(r.name, "robot$p1+deploy", 16);
    r.project_id = p1;
    r.expires_at = now_s() + 86400;
    r.duration_days = 1;
    memset(perms[1].ns, 0, sizeof(perms[1].ns));
    perms[0].actions = META_ACT_ALL;
    CHECK_INT_EQ(meta_robot_create(m, &r, perms, 1, &pr, &e), 0);
    r.project_id = 999;
    memcpy(r.name, "robot$x+y", 10);
    CHECK_INT_EQ(meta_robot_create(m, &r, perms, 1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    r.project_id = 0;
    CHECK_INT_EQ(meta_robot_create(m, &r, perms, 2, NULL, &e), -1); /* empty namespace */
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(meta_robot_create(m, &r, perms, META_ROBOT_PERMS_MAX + 1, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);

    CHECK_INT_EQ(meta_robot_get(m, "robot$ci", &g, &e), 0);
    CHECK_INT_EQ(g.id, sys);
    CHECK_INT_EQ(g.project_id, 0);
    CHECK_INT_EQ(g.expires_at, 0);
    CHECK_INT_EQ(g.duration_days, -1);
    CHECK_STR_EQ(g.description, "ci");
    CHECK(!g.disabled);
    CHECK_INT_EQ(meta_robot_get(m, "robot$nope", &g, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_robot_get_by_id(m, pr, &g, &e), 0);
    CHECK_STR_EQ(g.name, "robot$p1+deploy");
    CHECK_INT_EQ(g.project_id, p1);

    /* actions: the '*' entry applies everywhere, OR-ed with the project's own */
    CHECK_INT_EQ(meta_robot_actions(m, sys, "p1", &act, &e), 0);
    CHECK_INT_EQ(act, META_ACT_PULL | META_ACT_PUSH);
    CHECK_INT_EQ(meta_robot_actions(m, sys, "p2", &act, &e), 0);
    CHECK_INT_EQ(act, META_ACT_PULL);
    CHECK_INT_EQ(meta_robot_actions(m, pr, "p2", &act, &e), 0);
    CHECK_INT_EQ(act, 0);
    CHECK_INT_EQ(meta_robot_actions(m, pr, "p1", &act, &e), 0);
    CHECK_INT_EQ(act, META_ACT_ALL);
    CHECK_INT_EQ(meta_robot_actions(m, 999, "p1", &act, &e), 0);
    CHECK_INT_EQ(act, 0);
    CHECK_INT_EQ(meta_robot_perms(m, sys, got, 8, &n, &e), 0);
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(got[0].ns, "*");
    CHECK_STR_EQ(got[1].ns, "p1");

    /* update: disable, replace permissions */
    g.disabled = true;
    memcpy(g.description, "off", 4);
    memcpy(perms[0].ns, "p2", 3);
    perms[0].actions = META_ACT_PULL;
    CHECK_INT_EQ(meta_robot_update(m, sys, &g, perms, 1, &e), 0);
    CHECK_INT_EQ(meta_robot_get_by_id(m, sys, &g, &e), 0);
    CHECK(g.disabled);
    CHECK_STR_EQ(g.description, "off");
    CHECK_INT_EQ(meta_robot_actions(m, sys, "p1", &act, &e), 0);
    CHECK_INT_EQ(act, 0);
    CHECK_INT_EQ(meta_robot_update(m, 999, &g, NULL, 0, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_robot_set_secret(m, sys, "pbkdf2-sha256$1000$bmV3$bmV3", &e), 0);
    CHECK_INT_EQ(meta_robot_get_by_id(m, sys, &g, &e), 0);
    CHECK_STR_EQ(g.secret_hash, "pbkdf2-sha256$1000$bmV3$bmV3");
    CHECK_INT_EQ(meta_robot_set_secret(m, 999, "x$y", &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);

    /* lists */
    memset(&q, 0, sizeof(q));
    q.limit = 10;
    CHECK_INT_EQ(meta_robot_list(m, &q, 0, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    CHECK_INT_EQ(meta_robot_list(m, &q, p1, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_STR_EQ(list[0].name, "robot$p1+deploy");
    CHECK_INT_EQ(meta_robot_list(m, &q, -1, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_STR_EQ(list[0].name, "robot$ci");
    q.name = "deploy";
    q.fuzzy = true;
    CHECK_INT_EQ(meta_robot_list(m, &q, 0, list, META_LIST_MAX, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.sort = "secret";
    CHECK_INT_EQ(meta_robot_list(m, &q, 0, list, META_LIST_MAX, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);

    /* deleting p2 drops the system robot's grant on it; deleting p1 its project robot */
    CHECK_INT_EQ(meta_project_delete(m, p2, &e), 0);
    CHECK_INT_EQ(meta_robot_perms(m, sys, got, 8, &n, &e), 0);
    CHECK_INT_EQ(n, 0);
    CHECK_INT_EQ(meta_project_delete(m, p1, &e), 0);
    CHECK_INT_EQ(meta_robot_get_by_id(m, pr, &g, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_robot_delete(m, sys, &e), 0);
    CHECK_INT_EQ(meta_robot_delete(m, sys, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    mem_free(list);
    meta_close(m);
}

/* every allocation failure during a write leaves the database as it was */
static void test_alloc_failures(void)
{
    struct meta *m = open_fresh();
    struct meta_robot_perm perm;
    struct meta_robot r;
    struct meta_robot g;
    struct berr e;
    int64_t p = 0;
    long i;
    int rc;
    int ok_at = -1;

    CHECK_INT_EQ(meta_project_create(m, "p", false, 0, -1, &p, &e), 0);
    memset(&perm, 0, sizeof(perm));
    memcpy(perm.ns, "p", 2);
    perm.actions = META_ACT_PULL;
    memset(&r, 0, sizeof(r));
    memcpy(r.name, "robot$p+oom", 12);
    memcpy(r.secret_hash, "pbkdf2-sha256$1000$c2FsdA==$aGFzaA==", 37);
    r.project_id = p;
    for (i = 0; i < 5000; i++) {
        mem_fail_after(i);
        rc = meta_robot_create(m, &r, &perm, 1, NULL, &e);
        mem_fail_after(-1);
        if (rc == 0) {
            ok_at = (int)i;
            break;
        }
        CHECK_INT_EQ(meta_robot_get(m, "robot$p+oom", &g, &e), -1);
    }
    CHECK(ok_at >= 0);
    CHECK_INT_EQ(meta_robot_get(m, "robot$p+oom", &g, &e), 0);
    meta_close(m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "ident-test");
    TEST_RUN(test_schema);
    TEST_RUN(test_users);
    TEST_RUN(test_projects);
    TEST_RUN(test_members);
    TEST_RUN(test_robots);
    TEST_RUN(test_alloc_failures);
    test_rm_rf(tmpdir);
    return test_summary();
}
