/* rbac_test.c - the role table: every role x {pull, push, delete} on its own private project,
 * on another private project (no membership), on a public project it is not a member of, and
 * on a missing project; robots with explicit permissions; anonymous callers; sysadmins; the
 * catalog rule and role names. */
#include "auth/rbac.h"

#include <stdio.h>

#include "common/test.h"

struct role_row {
    const char *name;
    int role;
    unsigned own; /* expected on its own private project */
};

static const struct role_row roles[] = {
        {"projectAdmin", RBAC_ROLE_PROJECT_ADMIN, RBAC_PULL | RBAC_PUSH | RBAC_DELETE},
        {"developer", RBAC_ROLE_DEVELOPER, RBAC_PULL | RBAC_PUSH},
        {"guest", RBAC_ROLE_GUEST, RBAC_PULL},
        {"maintainer", RBAC_ROLE_MAINTAINER, RBAC_PULL | RBAC_PUSH | RBAC_DELETE},
        {"limitedGuest", RBAC_ROLE_LIMITED_GUEST, RBAC_PULL},
};

static struct rbac_facts user_facts(int role, bool exists, bool pub)
{
    struct rbac_facts f = {
            .who = RBAC_USER, .project_exists = exists, .project_public = pub, .role = role};
    return f;
}

static void test_roles(void)
{
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        const struct role_row *rr = &roles[i];
        struct rbac_facts own = user_facts(rr->role, true, false);
        struct rbac_facts other = user_facts(RBAC_ROLE_NONE, true, false);
        struct rbac_facts own_pub = user_facts(rr->role, true, true);
        struct rbac_facts other_pub = user_facts(RBAC_ROLE_NONE, true, true);
        struct rbac_facts gone = user_facts(rr->role, false, false);
        unsigned a = rbac_project_actions(&own);

        CHECK_INT_EQ(rbac_role_actions(rr->role), rr->own);
        CHECK_INT_EQ(a, rr->own);
        /* each bit on its own, so a table typo shows which action is wrong */
        CHECK_INT_EQ((a & RBAC_PULL) != 0, (rr->own & RBAC_PULL) != 0);
        CHECK_INT_EQ((a & RBAC_PUSH) != 0, (rr->own & RBAC_PUSH) != 0);
        CHECK_INT_EQ((a & RBAC_DELETE) != 0, (rr->own & RBAC_DELETE) != 0);
        CHECK_INT_EQ(rbac_project_actions(&other), 0);
        CHECK_INT_EQ(rbac_project_actions(&own_pub), rr->own | RBAC_PULL);
        CHECK_INT_EQ(rbac_project_actions(&other_pub), RBAC_PULL);
        CHECK_INT_EQ(rbac_project_actions(&gone), 0);
        CHECK_STR_EQ(rbac_role_name(rr->role), rr->name);
    }
    /* exact expectations written out once more, independent of the table above */
    CHECK_INT_EQ(rbac_role_actions(1), 7);
    CHECK_INT_EQ(rbac_role_actions(2), 3);
    CHECK_INT_EQ(rbac_role_actions(3), 1);
    CHECK_INT_EQ(rbac_role_actions(4), 7);
    CHECK_INT_EQ(rbac_role_actions(5), 1);
}

static void test_unknown_roles(void)
{
    struct rbac_facts f = user_facts(6, true, false);

    CHECK_INT_EQ(rbac_role_actions(0), 0);
    CHECK_INT_EQ(rbac_role_actions(-1), 0);
    CHECK_INT_EQ(rbac_role_actions(6), 0);
    CHECK_INT_EQ(rbac_project_actions(&f), 0);
    CHECK(rbac_role_name(0) == NULL);
    CHECK(rbac_role_name(6) == NULL);
}

static void test_sysadmin(void)
{
    struct rbac_facts f = user_facts(RBAC_ROLE_NONE, true, false);

    f.sysadmin = true;
    CHECK_INT_EQ(rbac_project_actions(&f), RBAC_ALL);
    f.project_exists = false;
    CHECK_INT_EQ(rbac_project_actions(&f), RBAC_ALL);
    f.role = RBAC_ROLE_GUEST;
    CHECK_INT_EQ(rbac_project_actions(&f), RBAC_ALL);
    CHECK(rbac_catalog_allowed(RBAC_USER));
}

static void test_anonymous(void)
{
    struct rbac_facts f = {.who = RBAC_ANONYMOUS, .project_exists = true};

    CHECK_INT_EQ(rbac_project_actions(&f), 0);
    f.project_public = true;
    CHECK_INT_EQ(rbac_project_actions(&f), RBAC_PULL);
    /* facts that do not belong to anonymous callers grant nothing more */
    f.sysadmin = true;
    f.role = RBAC_ROLE_PROJECT_ADMIN;
    f.robot_actions = RBAC_ALL;
    CHECK_INT_EQ(rbac_project_actions(&f), RBAC_PULL);
    f.project_public = false;
    CHECK_INT_EQ(rbac_project_actions(&f), 0);
    f.project_exists = false;
    f.project_public = true;
    CHECK_INT_EQ(rbac_project_actions(&f), 0);
    CHECK(!rbac_catalog_allowed(RBAC_ANONYMOUS));
}

static void test_robots(void)
{
    struct rbac_facts f = {.who = RBAC_ROBOT, .project_exists = true};

    CHECK_INT_EQ(rbac_project_actions(&f), 0);
    f.robot_actions = RBAC_PULL;
    CHECK_INT_EQ(rbac_project_actions(&f), RBAC_PULL);
    f.robot_actions = RBAC_PULL | RBAC_PUSH;
    CHECK_INT_EQ(rbac_project_actions(&f), RBAC_PULL | RBAC_PUSH);
    f.robot_actions = RBAC_PUSH;
    CHECK_INT_EQ(rbac_project_actions(&f), RBAC_PUSH);
    f.robot_actions = RBAC_DELETE;
    CHECK_INT_EQ(rbac_project_actions(&f), RBAC_DELETE);
    /* stray bits (e.g. "*") are masked away */
    f.robot_actions = 0xffu;
    CHECK_INT_EQ(rbac_project_actions(&f), RBAC_ALL);
    /* a robot is never a sysadmin, and roles are for users */
    f.robot_actions = 0;
    f.sysadmin = true;
    f.role = RBAC_ROLE_PROJECT_ADMIN;
    CHECK_INT_EQ(rbac_project_actions(&f), 0);
    f.project_public = true;
    CHECK_INT_EQ(rbac_project_actions(&f), RBAC_PULL);
    f.project_exists = false;
    f.robot_actions = RBAC_ALL;
    CHECK_INT_EQ(rbac_project_actions(&f), 0);
    CHECK(rbac_catalog_allowed(RBAC_ROBOT));
}

int main(void)
{
    TEST_RUN(test_roles);
    TEST_RUN(test_unknown_roles);
    TEST_RUN(test_sysadmin);
    TEST_RUN(test_anonymous);
    TEST_RUN(test_robots);
    return test_summary();
}
