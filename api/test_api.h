/* test_api.h - in-process tests of the management API: a real registry on a fresh directory
 * (registry/test_registry.h) with a cast of callers, and one request at a time driven through
 * api_mount_handler with the seam's test double (http/fake.h), as the HTTP core would.
 *
 * The cast, on the private project "priv" and the public project "pub":
 *   admin (sysadmin), pa (projectAdmin of both), maint (maintainer), dev (developer), guest,
 *   lim (limitedGuest) of priv; out (a user in no project); robot$puller (pull on priv),
 *   robot$cleaner (pull, push and delete on priv). w->auth[] holds their Basic values.
 * Test-only, header-only; a fixture that cannot be built aborts (no check could run).
 * Single-threaded use only. */
#ifndef BERTH_API_TEST_API_H
#define BERTH_API_TEST_API_H

#include <jansson.h>

#include "api/mount.h"
#include "registry/test_registry.h"

enum test_who {
    W_ANON,
    W_ADMIN,
    W_PA,
    W_MAINT,
    W_DEV,
    W_GUEST,
    W_LIM,
    W_OUT,
    W_ROBOT_PULL,
    W_ROBOT_ALL,
    W_N
};

struct test_api {
    struct test_registry t;
    char auth[W_N][512]; /* "" for W_ANON */
    int64_t uid[W_N];    /* user ids (0 for anonymous and robots) */
    int64_t robot_id[W_N];
    int64_t priv_id, pub_id;
};

#define TEST_API_PASS "Passw0rd-Test"

static inline void test_api_open(struct test_api *w)
{
    static const char *const names[W_N] = {NULL,    "admin", "pa",  "maint", "dev",
                                           "guest", "lim",   "out", NULL,    NULL};
    static const int roles[W_N] = {0,
                                   0,
                                   ROLE_PROJECT_ADMIN,
                                   ROLE_MAINTAINER,
                                   ROLE_DEVELOPER,
                                   ROLE_GUEST,
                                   ROLE_LIMITED_GUEST,
                                   0,
                                   0,
                                   0};
    char full[256];

    memset(w, 0, sizeof(*w));
    test_registry_open(&w->t);
    w->priv_id = test_registry_project(&w->t, "priv", false, 0);
    w->pub_id = test_registry_project(&w->t, "pub", true, 0);
    for (int i = W_ADMIN; i <= W_OUT; i++) {
        w->uid[i] = test_registry_user(&w->t, names[i], TEST_API_PASS, i == W_ADMIN);
        test_basic(w->auth[i], sizeof(w->auth[i]), names[i], TEST_API_PASS);
        if (roles[i] != 0)
            test_registry_member(&w->t, w->priv_id, w->uid[i], roles[i]);
    }
    test_registry_member(&w->t, w->pub_id, w->uid[W_PA], ROLE_PROJECT_ADMIN);
    w->robot_id[W_ROBOT_PULL] = test_registry_robot(&w->t, "puller", TEST_API_PASS, "priv",
                                                    META_ACT_PULL, full, sizeof(full));
    test_basic(w->auth[W_ROBOT_PULL], sizeof(w->auth[0]), full, TEST_API_PASS);
    w->robot_id[W_ROBOT_ALL] = test_registry_robot(&w->t, "cleaner", TEST_API_PASS, "priv",
                                                   META_ACT_ALL, full, sizeof(full));
    test_basic(w->auth[W_ROBOT_ALL], sizeof(w->auth[0]), full, TEST_API_PASS);
}

static inline void test_api_close(struct test_api *w)
{
    test_registry_close(&w->t);
}

/* test_api_req runs one request through api_mount_handler as who; body may be NULL. *res is
 * filled (http_fake_result_cleanup). */
static inline void test_api_req(struct http_fake_result *res, struct test_api *w, enum test_who who,
                                const char *method, const char *target, const char *body)
{
    struct http_fake *f = http_fake_new(method, target);

    if (f == NULL)
        test_registry_die("fake request", NULL);
    if (who != W_ANON && http_fake_header(f, "Authorization", w->auth[who]) < 0)
        test_registry_die("fake header", NULL);
    if (body != NULL && (http_fake_header(f, "Content-Type", "application/json") < 0 ||
                         http_fake_body(f, body, strlen(body)) < 0))
        test_registry_die("fake body", NULL);
    if (http_fake_run(res, &api_mount_handler, &w->t.reg, f, 0) < 0)
        test_registry_die("fake run", NULL);
    http_fake_free(f);
}

/* test_api_status: the status of one request (the reply is dropped) */
static inline unsigned test_api_status(struct test_api *w, enum test_who who, const char *method,
                                       const char *target, const char *body)
{
    struct http_fake_result res;
    unsigned status;

    test_api_req(&res, w, who, method, target, body);
    status = res.status;
    http_fake_result_cleanup(&res);
    return status;
}

/* test_api_is_err: whether res is exactly status with Harbor's body for code and message */
static inline bool test_api_is_err(const struct http_fake_result *res, unsigned status,
                                   const char *code, const char *msg)
{
    char want[512];

    (void)snprintf(want, sizeof(want), "{\"errors\":[{\"code\":\"%s\",\"message\":\"%s\"}]}", code,
                   msg); /* the tests' messages fit */
    if (res->status == status && res->body != NULL && strcmp(res->body, want) == 0)
        return true;
    fprintf(stderr, "  got %u %s\n  want %u %s\n", res->status,
            res->body != NULL ? res->body : "(none)", status, want);
    return false;
}

/* test_api_err: one request, checked against an exact error answer */
static inline bool test_api_err(struct test_api *w, enum test_who who, const char *method,
                                const char *target, const char *body, unsigned status,
                                const char *code, const char *msg)
{
    struct http_fake_result res;
    bool ok;

    test_api_req(&res, w, who, method, target, body);
    ok = test_api_is_err(&res, status, code, msg);
    http_fake_result_cleanup(&res);
    return ok;
}

#define TEST_API_401 HTTP_UNAUTHORIZED, "UNAUTHORIZED", "UnAuthorized"
#define TEST_API_403 HTTP_FORBIDDEN, "FORBIDDEN", "forbidden"

/* test_api_json: the reply body parsed (new, json_decref); NULL when it is not JSON */
static inline json_t *test_api_json(const struct http_fake_result *res)
{
    json_error_t je;

    return res->body != NULL ? json_loadb(res->body, res->body_len, 0, &je) : NULL;
}

/* test_api_names: the values of key in the array body, joined by ',' into out */
static inline const char *test_api_names(const struct http_fake_result *res, const char *key,
                                         char *out, size_t cap)
{
    json_t *j = test_api_json(res);
    size_t used = 0;
    size_t i;
    json_t *v;

    out[0] = '\0';
    json_array_foreach(j, i, v)
    {
        const char *s = json_string_value(json_object_get(v, key));
        int n = snprintf(out + used, cap - used, "%s%s", used > 0 ? "," : "", s ? s : "?");
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
    json_decref(j);
    return out;
}

/* test_api_push_image pushes a one-layer OCI image (config: amd64/linux) to repo:tag through
 * /v2/ as the sysadmin, aborting when it cannot; the manifest digest goes into dstr
 * (DIGEST_STR_LEN + 1 bytes). layer makes images differ. */
static inline void test_api_push_image(struct test_api *w, const char *repo, const char *tag,
                                       const char *layer, char *dstr)
{
    static const char cfg[] = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
    char cfg_d[DIGEST_STR_LEN + 1], layer_d[DIGEST_STR_LEN + 1];
    char manifest[1024];
    int n;

    if (test_push_blob(&w->t, w->auth[W_ADMIN], repo, cfg, sizeof(cfg) - 1, cfg_d) != 201 ||
        test_push_blob(&w->t, w->auth[W_ADMIN], repo, layer, strlen(layer), layer_d) != 201)
        test_registry_die("push blobs", NULL);
    n = snprintf(
            manifest, sizeof(manifest),
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
            "\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
            "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\","
            "\"size\":%zu}]}",
            cfg_d, sizeof(cfg) - 1, layer_d, strlen(layer));
    if (n < 0 || (size_t)n >= sizeof(manifest) ||
        test_push_manifest(&w->t, w->auth[W_ADMIN], repo, tag, manifest,
                           "application/vnd.oci.image.manifest.v1+json", dstr) != 201)
        test_registry_die("push manifest", NULL);
}

#endif
