/* access_test.c - who may call /v2/, through route_v2_handler and the seam's test double, on a
 * real registry: anonymous callers (401 with the Bearer challenge naming the scope, and the API
 * version header; pulls of a public project allowed), Basic users by role (guest pull yes, push
 * and delete 403 DENIED; a non-member 403), wrong passwords (401 Basic), robots by their
 * permission, bearer tokens (their claims alone decide: insufficient_scope, invalid_token,
 * a token older than the project), and the router's own refusals (unknown endpoint, bad name,
 * method). */
#include "registry/test_registry.h"

#include "auth/scope.h"

#define REALM "Bearer realm=\"https://reg.test/service/token\",service=\"berth-registry\""

static struct test_registry t;
static char admin[256], guest[256], outsider[256], robot[256], robot_name[256];
static char blob_d[DIGEST_STR_LEN + 1];

static void call(struct http_fake_result *res, const char *method, const char *target,
                 const char *auth)
{
    test_v2(res, &t, method, target, auth, NULL, 0, 0, TEST_HDR_END);
}

static void blob_target(char *out, size_t cap, const char *repo)
{
    (void)snprintf(out, cap, "/v2/%s/blobs/%s", repo, blob_d);
}

static void test_anonymous(void)
{
    struct http_fake_result res;
    char target[256];

    call(&res, "GET", "/v2/", NULL);
    CHECK_INT_EQ(res.status, 401);
    CHECK(test_err_code(&res, "UNAUTHORIZED"));
    CHECK_STR_EQ(http_fake_get(&res, "WWW-Authenticate"), REALM);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Distribution-Api-Version"), "registry/2.0");
    CHECK(res.answered_at_begin);
    http_fake_result_cleanup(&res);

    call(&res, "GET", "/v2", NULL); /* the exact mount */
    CHECK_INT_EQ(res.status, 401);
    http_fake_result_cleanup(&res);

    blob_target(target, sizeof(target), "lib/app");
    call(&res, "HEAD", target, NULL);
    CHECK_INT_EQ(res.status, 401);
    CHECK_STR_EQ(http_fake_get(&res, "WWW-Authenticate"),
                 REALM ",scope=\"repository:lib/app:pull\"");
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Distribution-Api-Version"), "registry/2.0");
    http_fake_result_cleanup(&res);

    call(&res, "POST", "/v2/lib/app/blobs/uploads/", NULL);
    CHECK_INT_EQ(res.status, 401);
    CHECK_STR_EQ(http_fake_get(&res, "WWW-Authenticate"),
                 REALM ",scope=\"repository:lib/app:pull,push\"");
    http_fake_result_cleanup(&res);

    call(&res, "DELETE", target, NULL);
    CHECK_INT_EQ(res.status, 401);
    CHECK_STR_EQ(http_fake_get(&res, "WWW-Authenticate"),
                 REALM ",scope=\"repository:lib/app:delete\"");
    http_fake_result_cleanup(&res);

    /* a public project: pulls need no credentials, pushes do */
    blob_target(target, sizeof(target), "pub/app");
    call(&res, "GET", target, NULL);
    CHECK_INT_EQ(res.status, 200);
    CHECK(http_fake_get(&res, "WWW-Authenticate") == NULL);
    CHECK_STR_EQ(res.user, "");
    http_fake_result_cleanup(&res);
    call(&res, "POST", "/v2/pub/app/blobs/uploads/", NULL);
    CHECK_INT_EQ(res.status, 401);
    CHECK(test_err_code(&res, "UNAUTHORIZED"));
    http_fake_result_cleanup(&res);
}

static void test_basic_users(void)
{
    struct http_fake_result res;
    char target[256], wrong[256];

    call(&res, "GET", "/v2/", admin);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(res.body, "{}");
    CHECK_STR_EQ(res.user, "admin");
    CHECK(http_fake_get(&res, "WWW-Authenticate") == NULL);
    http_fake_result_cleanup(&res);

    /* guest: pull yes, push and delete no */
    blob_target(target, sizeof(target), "lib/app");
    call(&res, "GET", target, guest);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(res.user, "guest");
    http_fake_result_cleanup(&res);
    call(&res, "POST", "/v2/lib/app/blobs/uploads/", guest);
    CHECK_INT_EQ(res.status, 403);
    CHECK(test_err_code(&res, "DENIED"));
    CHECK(http_fake_get(&res, "WWW-Authenticate") == NULL); /* a new challenge would not help */
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Distribution-Api-Version"), "registry/2.0");
    http_fake_result_cleanup(&res);
    call(&res, "PUT", "/v2/lib/app/manifests/v9", guest);
    CHECK_INT_EQ(res.status, 403);
    CHECK(test_err_code(&res, "DENIED"));
    CHECK(res.answered_at_begin);
    http_fake_result_cleanup(&res);
    call(&res, "DELETE", target, guest);
    CHECK_INT_EQ(res.status, 403);
    CHECK(test_err_code(&res, "DENIED"));
    http_fake_result_cleanup(&res);

    /* not a member of a private project */
    call(&res, "GET", target, outsider);
    CHECK_INT_EQ(res.status, 403);
    CHECK(test_err_code(&res, "DENIED"));
    http_fake_result_cleanup(&res);

    /* a wrong password: 401 with the Basic challenge */
    test_basic(wrong, sizeof(wrong), "guest", "not-the-password");
    call(&res, "GET", target, wrong);
    CHECK_INT_EQ(res.status, 401);
    CHECK(test_err_code(&res, "UNAUTHORIZED"));
    CHECK_STR_EQ(http_fake_get(&res, "WWW-Authenticate"), "Basic realm=\"berth\"");
    http_fake_result_cleanup(&res);

    /* a scheme we do not speak */
    call(&res, "GET", target, "Digest username=\"x\"");
    CHECK_INT_EQ(res.status, 401);
    CHECK_STR_EQ(http_fake_get(&res, "WWW-Authenticate"),
                 REALM ",scope=\"repository:lib/app:pull\"");
    http_fake_result_cleanup(&res);
}

static void test_robot(void)
{
    struct http_fake_result res;
    char target[256];

    blob_target(target, sizeof(target), "lib/app");
    call(&res, "GET", target, robot);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(res.user, robot_name);
    http_fake_result_cleanup(&res);
    call(&res, "POST", "/v2/lib/app/blobs/uploads/", robot);
    CHECK_INT_EQ(res.status, 403);
    CHECK(test_err_code(&res, "DENIED"));
    http_fake_result_cleanup(&res);
    /* no permission on pub at all; pub is public, so pull still works */
    blob_target(target, sizeof(target), "pub/app");
    call(&res, "GET", target, robot);
    CHECK_INT_EQ(res.status, 200);
    http_fake_result_cleanup(&res);
    call(&res, "POST", "/v2/pub/app/blobs/uploads/", robot);
    CHECK_INT_EQ(res.status, 403);
    http_fake_result_cleanup(&res);
}

static void test_bearer_tokens(void)
{
    struct http_fake_result res;
    char target[256], tok[4096];

    blob_target(target, sizeof(target), "lib/app");
    test_bearer(&t, tok, sizeof(tok), "guest", "lib/app", SCOPE_ACT_PULL, 0);
    call(&res, "GET", target, tok);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(res.user, "guest");
    http_fake_result_cleanup(&res);

    /* the claims alone decide: pull on lib/app is not push, nor pull on lib/other */
    call(&res, "POST", "/v2/lib/app/blobs/uploads/", tok);
    CHECK_INT_EQ(res.status, 401);
    CHECK(test_err_code(&res, "UNAUTHORIZED"));
    CHECK_STR_EQ(http_fake_get(&res, "WWW-Authenticate"),
                 REALM ",scope=\"repository:lib/app:pull,push\",error=\"insufficient_scope\"");
    http_fake_result_cleanup(&res);
    call(&res, "GET", "/v2/lib/other/tags/list", tok);
    CHECK_INT_EQ(res.status, 401);
    CHECK_STR_EQ(http_fake_get(&res, "WWW-Authenticate"),
                 REALM ",scope=\"repository:lib/other:pull\",error=\"insufficient_scope\"");
    http_fake_result_cleanup(&res);

    /* GET /v2/: a valid token is enough */
    call(&res, "GET", "/v2/", tok);
    CHECK_INT_EQ(res.status, 200);
    http_fake_result_cleanup(&res);

    /* a token that does not verify */
    call(&res, "GET", target, "Bearer a.b.c");
    CHECK_INT_EQ(res.status, 401);
    CHECK_STR_EQ(http_fake_get(&res, "WWW-Authenticate"),
                 REALM ",scope=\"repository:lib/app:pull\",error=\"invalid_token\"");
    http_fake_result_cleanup(&res);

    /* a token issued before the project existed */
    test_bearer(&t, tok, sizeof(tok), "guest", "lib/app", SCOPE_ACT_PULL, -3600);
    call(&res, "GET", target, tok);
    CHECK_INT_EQ(res.status, 401);
    CHECK(res.body != NULL && strstr(res.body, "before the project was created") != NULL);
    CHECK_STR_EQ(http_fake_get(&res, "WWW-Authenticate"),
                 REALM ",scope=\"repository:lib/app:pull\",error=\"invalid_token\"");
    http_fake_result_cleanup(&res);
}

static void test_router(void)
{
    struct http_fake_result res;

    call(&res, "GET", "/v2/lib/app/nothing/here", admin);
    CHECK_INT_EQ(res.status, 404);
    CHECK(test_err_code(&res, "UNSUPPORTED"));
    http_fake_result_cleanup(&res);
    call(&res, "GET", "/v2/LIB/app/tags/list", admin);
    CHECK_INT_EQ(res.status, 400);
    CHECK(test_err_code(&res, "NAME_INVALID"));
    http_fake_result_cleanup(&res);
    call(&res, "DELETE", "/v2/", admin);
    CHECK_INT_EQ(res.status, 405);
    CHECK(test_err_code(&res, "UNSUPPORTED"));
    http_fake_result_cleanup(&res);
    call(&res, "BREW", "/v2/lib/app/tags/list", admin);
    CHECK_INT_EQ(res.status, 405);
    CHECK(res.body != NULL && strstr(res.body, "method BREW not allowed") != NULL);
    http_fake_result_cleanup(&res);
}

/* realm_of: the WWW-Authenticate of an anonymous GET /v2/ with the given transport and
 * proxy headers, public_url unset so the realm is derived from the request */
static void realm_of(char *out, size_t cap, bool tls, bool trusted, const char *proto,
                     const char *fwd_host)
{
    struct http_fake *f = http_fake_new("GET", "/v2/");
    struct http_fake_result res;
    const char *w;

    if (f == NULL || http_fake_header(f, "Host", "reg.example:5000") < 0 ||
        (proto != NULL && http_fake_header(f, "X-Forwarded-Proto", proto) < 0) ||
        (fwd_host != NULL && http_fake_header(f, "X-Forwarded-Host", fwd_host) < 0))
        abort();
    http_fake_tls(f, tls);
    http_fake_trusted_proxy(f, trusted);
    if (http_fake_run(&res, &route_v2_handler, &t.reg, f, 0) < 0)
        abort();
    CHECK_INT_EQ(res.status, 401);
    w = http_fake_get(&res, "WWW-Authenticate");
    (void)snprintf(out, cap, "%s", w != NULL ? w : "");
    http_fake_result_cleanup(&res);
    http_fake_free(f);
}

/* X-Forwarded-* is believed from a trusted proxy only; Berth's own TLS makes the realm https */
static void test_forwarded(void)
{
    char saved[sizeof(t.cfg.public_url)], w[1024];

    memcpy(saved, t.cfg.public_url, sizeof(saved));
    t.cfg.public_url[0] = '\0';
    realm_of(w, sizeof(w), false, false, NULL, NULL);
    CHECK(str_has_prefix(w, "Bearer realm=\"http://reg.example:5000/service/token\""));
    realm_of(w, sizeof(w), false, false, "https", "evil.example");
    CHECK(str_has_prefix(w, "Bearer realm=\"http://reg.example:5000/service/token\""));
    realm_of(w, sizeof(w), false, true, "https", NULL);
    CHECK(str_has_prefix(w, "Bearer realm=\"https://reg.example:5000/service/token\""));
    realm_of(w, sizeof(w), false, true, "https", "registry.example.com");
    CHECK(str_has_prefix(w, "Bearer realm=\"https://registry.example.com/service/token\""));
    realm_of(w, sizeof(w), false, true, "https", "bad\"host");
    CHECK(str_has_prefix(w, "Bearer realm=\"https://reg.example:5000/service/token\""));
    realm_of(w, sizeof(w), true, false, NULL, NULL);
    CHECK(str_has_prefix(w, "Bearer realm=\"https://reg.example:5000/service/token\""));
    realm_of(w, sizeof(w), true, false, "http", NULL); /* an untrusted header cannot downgrade */
    CHECK(str_has_prefix(w, "Bearer realm=\"https://reg.example:5000/service/token\""));
    memcpy(t.cfg.public_url, saved, sizeof(saved));
}

int main(void)
{
    int64_t guest_id, lib_id;

    test_registry_open(&t);
    (void)test_registry_user(&t, "admin", "Admin12345", true);
    guest_id = test_registry_user(&t, "guest", "Guest12345", false);
    (void)test_registry_user(&t, "outsider", "Outsider123", false);
    lib_id = test_registry_project(&t, "lib", false, 0);
    (void)test_registry_project(&t, "pub", true, 0);
    test_registry_member(&t, lib_id, guest_id, ROLE_GUEST);
    (void)test_registry_robot(&t, "ci", "RobotSecret1", "lib", META_ACT_PULL, robot_name,
                              sizeof(robot_name));
    test_basic(admin, sizeof(admin), "admin", "Admin12345");
    test_basic(guest, sizeof(guest), "guest", "Guest12345");
    test_basic(outsider, sizeof(outsider), "outsider", "Outsider123");
    test_basic(robot, sizeof(robot), robot_name, "RobotSecret1");
    CHECK_INT_EQ(test_push_blob(&t, admin, "lib/app", "blob", 4, blob_d), 201);
    CHECK_INT_EQ(test_push_blob(&t, admin, "pub/app", "blob", 4, blob_d), 201);

    TEST_RUN(test_anonymous);
    TEST_RUN(test_basic_users);
    TEST_RUN(test_robot);
    TEST_RUN(test_bearer_tokens);
    TEST_RUN(test_router);
    TEST_RUN(test_forwarded);
    test_registry_close(&t);
    return test_summary();
}
