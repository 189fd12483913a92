/* ref_test.c - image reference normalization: docker's rules, row by row. */
#include "puller/ref.h"

#include <stdio.h>
#include <string.h>

#include "common/test.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct row {
    const char *in, *registry, *repository, *tag, *digest, *api_host, *keyring;
};

static const struct row good[] = {
        {"nginx", "docker.io", "library/nginx", "latest", "", "registry-1.docker.io",
         "docker.io/library/nginx"},
        {"nginx:1.25", "docker.io", "library/nginx", "1.25", "", "registry-1.docker.io",
         "docker.io/library/nginx"},
        {"user/app", "docker.io", "user/app", "latest", "", "registry-1.docker.io",
         "docker.io/user/app"},
        {"docker.io/nginx", "docker.io", "library/nginx", "latest", "", "registry-1.docker.io",
         "docker.io/library/nginx"},
        {"index.docker.io/user/app:v2", "docker.io", "user/app", "v2", "", "registry-1.docker.io",
         "docker.io/user/app"},
        {"host:5000/a/b:tag", "host:5000", "a/b", "tag", "", "host:5000", "host:5000/a/b"},
        {"harbor.example.com:8443/proj/app:1.0", "harbor.example.com:8443", "proj/app", "1.0", "",
         "harbor.example.com:8443", "harbor.example.com:8443/proj/app"},
        {"localhost/app", "localhost", "app", "latest", "", "localhost", "localhost/app"},
        {"localhost:5000/app", "localhost:5000", "app", "latest", "", "localhost:5000",
         "localhost:5000/app"},
        {"nginx@sha256:" D64, "docker.io", "library/nginx", "", "sha256:" D64,
         "registry-1.docker.io", "docker.io/library/nginx"},
        {"nginx:1.25@sha256:" D64, "docker.io", "library/nginx", "1.25", "sha256:" D64,
         "registry-1.docker.io", "docker.io/library/nginx"},
        {"h.io/a/b/c/d:x_Y.z-1", "h.io", "a/b/c/d", "x_Y.z-1", "", "h.io", "h.io/a/b/c/d"},
        {"Registry.Example.com/proj/app", "Registry.Example.com", "proj/app", "latest", "",
         "Registry.Example.com", "Registry.Example.com/proj/app"},
        {"FOO/bar", "FOO", "bar", "latest", "", "FOO", "FOO/bar"}, /* upper case: a host */
        {"a__b/c-d--e.f", "docker.io", "a__b/c-d--e.f", "latest", "", "registry-1.docker.io",
         "docker.io/a__b/c-d--e.f"},
        {"[::1]:5000/app", "[::1]:5000", "app", "latest", "", "[::1]:5000", "[::1]:5000/app"},
        {"10.0.0.5:5000/x", "10.0.0.5:5000", "x", "latest", "", "10.0.0.5:5000", "10.0.0.5:5000/x"},
        {"host:5000", "docker.io", "library/host", "5000", "", "registry-1.docker.io",
         "docker.io/library/host"}, /* ':' after the last '/' is a tag, as in docker */
};

static void test_good(void)
{
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct image_ref r;
        struct berr err = {0};
        char name[512];
        int rc = image_ref_parse(&r, good[i].in, &err);
        CHECK_INT_EQ(rc, 0);
        if (rc != 0) {
            fprintf(stderr, "  input %s: %s\n", good[i].in, err.msg);
            continue;
        }
        CHECK_STR_EQ(r.registry, good[i].registry);
        CHECK_STR_EQ(r.repository, good[i].repository);
        CHECK_STR_EQ(r.tag, good[i].tag);
        CHECK_STR_EQ(r.digest, good[i].digest);
        CHECK_STR_EQ(r.api_host, good[i].api_host);
        image_ref_keyring_name(&r, name, sizeof(name));
        CHECK_STR_EQ(name, good[i].keyring);
    }
}

struct bad {
    const char *in;
    enum berr_code code;
};

static void test_bad(void)
{
    char longname[400], longtag[200];
    static const struct bad bad[] = {
            {"", BERR_NAME_INVALID},
            {"Nginx", BERR_NAME_INVALID},
            {"user/App", BERR_NAME_INVALID},
            {"harbor.example.com/Proj/app", BERR_NAME_INVALID},
            {"nginx:", BERR_TAG_INVALID},
            {"nginx:-bad", BERR_TAG_INVALID},
            {"nginx@sha256:abc", BERR_DIGEST_INVALID},
            {"nginx@sha512:" D64, BERR_DIGEST_INVALID},
            {"nginx@", BERR_DIGEST_INVALID},
            {"@sha256:" D64, BERR_NAME_INVALID},
            {"nginx/", BERR_NAME_INVALID},
            {"/nginx", BERR_NAME_INVALID},
            {"a//b", BERR_NAME_INVALID},
            {"host:5000/", BERR_NAME_INVALID},
            {"-host.com/x", BERR_NAME_INVALID},
            {"host.com:abc/x", BERR_NAME_INVALID},
            {"a b", BERR_NAME_INVALID},
            {"a_/b", BERR_NAME_INVALID},
            {"a..b/c", BERR_NAME_INVALID},
            {D64, BERR_NAME_INVALID},
            {"caf\xc3\xa9", BERR_NAME_INVALID},
    };
    struct image_ref r;
    struct berr err;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        memset(&r, 0x55, sizeof(r));
        CHECK_INT_EQ(image_ref_parse(&r, bad[i].in, &err), -1);
        if (err.code != bad[i].code)
            fprintf(stderr, "  input \"%s\": code %d msg %s\n", bad[i].in, err.code, err.msg);
        CHECK_INT_EQ(err.code, bad[i].code);
        CHECK(err.msg[0] != '\0');
        CHECK(r.registry[0] == '\0' && r.repository[0] == '\0' && r.tag[0] == '\0');
    }
    CHECK_INT_EQ(image_ref_parse(&r, NULL, &err), -1);
    CHECK_STR_EQ(err.msg, "empty image reference");
    CHECK_INT_EQ(image_ref_parse(&r, "Nginx", &err), -1);
    CHECK_STR_EQ(err.msg, "repository name must be lowercase");

    /* too long: registry + '/' + repository over 255 */
    memset(longname, 'a', sizeof(longname));
    memcpy(longname, "h.io/", 5);
    longname[5 + 250] = '\0'; /* 255 total: fine */
    CHECK_INT_EQ(image_ref_parse(&r, longname, &err), 0);
    longname[5 + 250] = 'a';
    longname[5 + 251] = '\0'; /* 256 */
    CHECK_INT_EQ(image_ref_parse(&r, longname, &err), -1);
    CHECK_INT_EQ(err.code, BERR_NAME_INVALID);
    /* docker.io adds "library/": 246 chars of name become 255 with "docker.io/library/" */
    memset(longname, 'b', 237);
    longname[237] = '\0';
    CHECK_INT_EQ(image_ref_parse(&r, longname, &err), 0);
    memset(longname, 'b', 238);
    longname[238] = '\0';
    CHECK_INT_EQ(image_ref_parse(&r, longname, &err), -1);
    /* over the input cap */
    {
        char huge[2000];
        memset(huge, 'c', sizeof(huge) - 1);
        huge[sizeof(huge) - 1] = '\0';
        CHECK_INT_EQ(image_ref_parse(&r, huge, &err), -1);
    }
    /* tags: 128 fine, 129 too long */
    memcpy(longtag, "x:", 2);
    memset(longtag + 2, 't', 128);
    longtag[130] = '\0';
    CHECK_INT_EQ(image_ref_parse(&r, longtag, &err), 0);
    CHECK_INT_EQ((long long)strlen(r.tag), 128);
    longtag[130] = 't';
    longtag[131] = '\0';
    CHECK_INT_EQ(image_ref_parse(&r, longtag, &err), -1);
    CHECK_INT_EQ(err.code, BERR_TAG_INVALID);
}

static void test_format(void)
{
    struct image_ref r;
    struct berr err;
    char s[600];

    CHECK_INT_EQ(image_ref_parse(&r, "nginx:1@sha256:" D64, &err), 0);
    image_ref_format(&r, s, sizeof(s));
    CHECK_STR_EQ(s, "docker.io/library/nginx:1@sha256:" D64);
    image_ref_keyring_name(&r, s, 10);
    CHECK_STR_EQ(s, "docker.io");
}

int main(void)
{
    TEST_RUN(test_good);
    TEST_RUN(test_bad);
    TEST_RUN(test_format);
    return test_summary();
}
