/* route_test.c - the /v2/ mount (registry/route.c): how a path splits into route, name and
 * reference, which methods each route has, and whole requests under allocation failure: for
 * every allocation of a request (blob GET, manifest GET and PUT, monolithic upload,
 * referrers, tags) made to fail in turn, the answer is the success or a 500 that says only
 * "internal error", never another status; nothing leaks (ASan), and the same request succeeds
 * afterwards. */
#include "registry/test_registry.h"

static struct test_registry t;
static char admin[256];

static void test_parse(void)
{
    static const struct {
        const char *rest;
        int rc;
        enum req_route route;
        const char *name;
        const char *ref;
        const char *code; /* error code name when rc < 0 */
    } cases[] = {
            {"", 0, ROUTE_BASE, "", "", NULL},
            {"_catalog", 0, ROUTE_CATALOG, "", "", NULL},
            {"lib/app/tags/list", 0, ROUTE_TAGS, "lib/app", "", NULL},
            {"a/b/c/tags/list", 0, ROUTE_TAGS, "a/b/c", "", NULL},
            {"lib/app/blobs/uploads/", 0, ROUTE_UPLOAD_START, "lib/app", "", NULL},
            {"lib/app/blobs/uploads", 0, ROUTE_UPLOAD_START, "lib/app", "", NULL},
            {"lib/app/blobs/uploads/abc", 0, ROUTE_UPLOAD, "lib/app", "abc", NULL},
            {"lib/app/blobs/sha256:x", 0, ROUTE_BLOB, "lib/app", "sha256:x", NULL},
            {"lib/app/manifests/v1", 0, ROUTE_MANIFEST, "lib/app", "v1", NULL},
            {"lib/manifests/app/manifests/v1", 0, ROUTE_MANIFEST, "lib/manifests/app", "v1", NULL},
            {"lib/app/referrers/sha256:x", 0, ROUTE_REFERRERS, "lib/app", "sha256:x", NULL},
            {"lib/app/blobs/a/b", -1, ROUTE_NONE, "", "", "UNSUPPORTED"},
            {"lib/app/other", -1, ROUTE_NONE, "", "", "UNSUPPORTED"},
            {"lib/app/blobs/uploads/../..", -1, ROUTE_UPLOAD, "lib/app", "", "BLOB_UPLOAD_UNKNOWN"},
            {"lib/app/blobs/uploads/a/b", -1, ROUTE_UPLOAD, "lib/app", "", "BLOB_UPLOAD_UNKNOWN"},
            {"LIB/app/tags/list", -1, ROUTE_TAGS, "", "", "NAME_INVALID"},
            {"/tags/list", -1, ROUTE_TAGS, "", "", "NAME_INVALID"},
            {"lib/app/manifests/", -1, ROUTE_MANIFEST, "lib/app", "", "MANIFEST_UNKNOWN"},
            {"lib/app/blobs/", -1, ROUTE_BLOB, "lib/app", "", "DIGEST_INVALID"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct req r;
        int rc;

        memset(&r, 0, sizeof(r));
        rc = route_v2_parse(&r, cases[i].rest);
        if (rc != cases[i].rc || r.route != cases[i].route)
            fprintf(stderr, "case %zu (%s): rc %d route %d\n", i, cases[i].rest, rc, r.route);
        CHECK_INT_EQ(rc, cases[i].rc);
        CHECK_INT_EQ(r.route, cases[i].route);
        if (rc == 0) {
            CHECK_STR_EQ(r.name.s, cases[i].name);
            CHECK_STR_EQ(r.ref, cases[i].ref);
        } else {
            CHECK_STR_EQ(berr_code_name(r.err.code), cases[i].code);
        }
    }
}

static void test_methods(void)
{
    CHECK(route_v2_method_allowed(ROUTE_BASE, HTTP_GET));
    CHECK(route_v2_method_allowed(ROUTE_BASE, HTTP_HEAD));
    CHECK(!route_v2_method_allowed(ROUTE_BASE, HTTP_POST));
    CHECK(route_v2_method_allowed(ROUTE_BLOB, HTTP_DELETE));
    CHECK(!route_v2_method_allowed(ROUTE_BLOB, HTTP_PUT));
    CHECK(route_v2_method_allowed(ROUTE_UPLOAD_START, HTTP_POST));
    CHECK(!route_v2_method_allowed(ROUTE_UPLOAD_START, HTTP_GET));
    CHECK(route_v2_method_allowed(ROUTE_UPLOAD, HTTP_PATCH));
    CHECK(!route_v2_method_allowed(ROUTE_UPLOAD, HTTP_HEAD));
    CHECK(route_v2_method_allowed(ROUTE_MANIFEST, HTTP_PUT));
    CHECK(!route_v2_method_allowed(ROUTE_MANIFEST, HTTP_PATCH));
    CHECK(!route_v2_method_allowed(ROUTE_REFERRERS, HTTP_DELETE));
    CHECK(!route_v2_method_allowed(ROUTE_TAGS, HTTP_METHOD_OTHER));
    CHECK(!route_v2_method_allowed(ROUTE_API, HTTP_GET));
}

/* every refusal of a malformed /v2/ path carries a spec code, before authentication */
static void test_refused_paths(void)
{
    static const struct {
        const char *method, *target;
        unsigned status;
        const char *code;
    } cases[] = {
            {"GET", "/v2/lib%00x/app/manifests/v1", 400, "NAME_INVALID"},
            {"GET", "/v2/lib/app%00/tags/list", 400, "NAME_INVALID"},
            {"GET", "/v2/%00", 400, "NAME_INVALID"},
            {"GET", "/v2/lib/app/manifests/v1%00x", 404, "MANIFEST_UNKNOWN"},
            {"PUT", "/v2/lib/app/manifests/%00", 400, "TAG_INVALID"},
            {"GET", "/v2/lib/app/blobs/sha256:0%00", 400, "DIGEST_INVALID"},
            {"PATCH", "/v2/lib/app/blobs/uploads/..%2F..", 404, "BLOB_UPLOAD_UNKNOWN"},
            {"PUT", "/v2/lib/app/blobs/uploads/..%2F..%2Fx?digest=sha256:0", 404,
             "BLOB_UPLOAD_UNKNOWN"},
            {"GET", "/v2/lib/app/blobs/uploads/%2e%2e", 404, "BLOB_UPLOAD_UNKNOWN"},
            {"GET", "/v2/lib/app/nothing", 404, "UNSUPPORTED"},
            {"GET", "/v2/lib/app/blobs/a/b", 404, "UNSUPPORTED"},
            {"GET", "/v2/lib/app/manifests/-bad", 404, "MANIFEST_UNKNOWN"},
            {"HEAD", "/v2/lib/app/manifests/sha256:1234", 404, "MANIFEST_UNKNOWN"},
            {"PUT", "/v2/lib/app/manifests/-bad", 400, "TAG_INVALID"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct http_fake_result res;

        test_v2(&res, &t, cases[i].method, cases[i].target, admin, "{}", 2, 0, TEST_HDR_END);
        if (res.status != cases[i].status ||
            (strcmp(cases[i].method, "HEAD") != 0 && !test_err_code(&res, cases[i].code)))
            fprintf(stderr, "%s %s: %u %s\n", cases[i].method, cases[i].target, res.status,
                    res.body != NULL ? res.body : "");
        CHECK_INT_EQ(res.status, cases[i].status);
        /* HEAD has no body; its status says it */
        CHECK(strcmp(cases[i].method, "HEAD") == 0 || test_err_code(&res, cases[i].code));
        CHECK(res.body == NULL || strstr(res.body, "NOT_FOUND") == NULL);
        http_fake_result_cleanup(&res);
    }
}

/* internal: a 500 that says no more than "internal error" */
static bool internal(const struct http_fake_result *res)
{
    return res->status == 500 && res->body != NULL &&
           (test_err_code(res, "INTERNAL_ERROR") || test_err_code(res, "UNKNOWN")) &&
           strstr(res->body, "\"message\":\"internal error\"") != NULL;
}

/* alloc_loop runs method target (body in pieces of 7) with the nth allocation failing, for n =
 * 0, 1, ... until a run needs no injection; each answer must be `want` or a bare 500 (or, when
 * also_code is set, 400 with that code). Returns how many runs answered also_code. */
static int alloc_loop(const char *method, const char *target, const char *body, unsigned want,
                      const char *h, const char *v, const char *also_code)
{
    int runs = 0, odd = 0, also = 0;

    for (long n = 0; n < 2000; n++) {
        struct http_fake *f = http_fake_new(method, target);
        struct http_fake_result res;
        long injected;
        int rc;

        if (f == NULL || http_fake_header(f, "Authorization", admin) < 0 ||
            (h != NULL && http_fake_header(f, h, v) < 0) ||
            (body != NULL && http_fake_body(f, body, strlen(body)) < 0))
            abort();
        mem_fail_after(n);
        rc = http_fake_run(&res, &route_v2_handler, &t.reg, f, 7);
        injected = mem_injected();
        mem_fail_after(-1);
        runs++;
        if (rc < 0) {
            /* the double's own capture ran out: nothing to check */
        } else if (also_code != NULL && res.status == 400 && test_err_code(&res, also_code)) {
            also++;
        } else if (res.status != want && !internal(&res)) {
            odd++;
            fprintf(stderr, "%s %s, allocation %ld failing: status %u %s\n", method, target, n,
                    res.status, res.body != NULL ? res.body : "");
        }
        if (rc == 0)
            http_fake_result_cleanup(&res);
        http_fake_free(f);
        if (injected == 0)
            break;
    }
    CHECK_INT_EQ(odd, 0);
    CHECK(runs > 1);
    CHECK(runs < 2000);
    return also;
}

static void test_alloc_failures(void)
{
    struct http_fake_result res;
    static const char layer[] = "alloc layer";
    char cfg_d[DIGEST_STR_LEN + 1], layer_d[DIGEST_STR_LEN + 1], man_d[DIGEST_STR_LEN + 1];
    char manifest[1024], target[512], d[DIGEST_STR_LEN + 1];

    CHECK_INT_EQ(test_push_blob(&t, admin, "lib/app", "{}", 2, cfg_d), 201);
    CHECK_INT_EQ(test_push_blob(&t, admin, "lib/app", layer, sizeof(layer) - 1, layer_d), 201);
    (void)snprintf(manifest, sizeof(manifest),
                   "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+"
                   "json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                   "\"digest\":\"%s\",\"size\":2},\"layers\":[{\"mediaType\":\"application/"
                   "vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":%zu}]}",
                   cfg_d, layer_d, sizeof(layer) - 1);
    test_digest_str(manifest, strlen(manifest), man_d, sizeof(man_d));

    (void)snprintf(target, sizeof(target), "/v2/lib/app/blobs/%s", layer_d);
    CHECK_INT_EQ(alloc_loop("GET", target, NULL, 200, NULL, NULL, NULL), 0);

    /* TODO: 0 once jansson's lexer reports a failed allocation: it drops the byte it could not
     * store (lex_save ignores strbuffer_append_byte's result), so the manifest reads as another
     * one and is refused as MANIFEST_INVALID rather than answered 500 */
    CHECK(alloc_loop("PUT", "/v2/lib/app/manifests/v1", manifest, 201, "Content-Type",
                     "application/vnd.oci.image.manifest.v1+json", "MANIFEST_INVALID") <= 5);
    CHECK_INT_EQ(alloc_loop("GET", "/v2/lib/app/manifests/v1", NULL, 200, NULL, NULL, NULL), 0);
    CHECK_INT_EQ(alloc_loop("GET", "/v2/lib/app/tags/list?n=1", NULL, 200, NULL, NULL, NULL), 0);
    (void)snprintf(target, sizeof(target), "/v2/lib/app/referrers/%s", man_d);
    CHECK_INT_EQ(alloc_loop("GET", target, NULL, 200, NULL, NULL, NULL), 0);

    test_digest_str("alloc blob", 10, d, sizeof(d));
    (void)snprintf(target, sizeof(target), "/v2/lib/app/blobs/uploads/?digest=%s", d);
    CHECK_INT_EQ(alloc_loop("POST", target, "alloc blob", 201, NULL, NULL, NULL), 0);

    /* afterwards everything is in place: the tag, the blob, and no session left locked */
    test_v2(&res, &t, "GET", "/v2/lib/app/manifests/v1", admin, NULL, 0, 0, TEST_HDR_END);
    CHECK_INT_EQ(res.status, 200);
    CHECK_STR_EQ(http_fake_get(&res, "Docker-Content-Digest"), man_d);
    http_fake_result_cleanup(&res);
    (void)snprintf(target, sizeof(target), "/v2/lib/app/blobs/%s", d);
    test_v2(&res, &t, "HEAD", target, admin, NULL, 0, 0, TEST_HDR_END);
    CHECK_INT_EQ(res.status, 200);
    CHECK_INT_EQ(res.len, 10);
    http_fake_result_cleanup(&res);
}

int main(void)
{
    test_registry_open(&t);
    (void)test_registry_user(&t, "admin", "Admin12345", true);
    (void)test_registry_project(&t, "lib", false, 0);
    test_basic(admin, sizeof(admin), "admin", "Admin12345");

    TEST_RUN(test_parse);
    TEST_RUN(test_methods);
    TEST_RUN(test_refused_paths);
    TEST_RUN(test_alloc_failures);
    test_registry_close(&t);
    return test_summary();
}
