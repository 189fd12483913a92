/* fetch_test.c - platform parsing, normalization and matching; resume bookkeeping; blob paths. */
#include "puller/fetch.h"

#include <string.h>

#include "common/test.h"

static struct fetch_platform plat(const char *os, const char *arch, const char *var)
{
    struct fetch_platform p;

    memset(&p, 0, sizeof(p));
    memcpy(p.os, os, strlen(os) + 1);
    memcpy(p.arch, arch, strlen(arch) + 1);
    memcpy(p.variant, var, strlen(var) + 1);
    return p;
}

static void test_parse(void)
{
    struct fetch_platform p;
    struct berr err;

    CHECK_INT_EQ(fetch_platform_parse(&p, "linux/amd64", &err), 0);
    CHECK_STR_EQ(p.os, "linux");
    CHECK_STR_EQ(p.arch, "amd64");
    CHECK_STR_EQ(p.variant, "");
    CHECK_INT_EQ(fetch_platform_parse(&p, "Linux/aarch64", &err), 0);
    CHECK_STR_EQ(p.os, "linux");
    CHECK_STR_EQ(p.arch, "arm64");
    CHECK_STR_EQ(p.variant, "v8");
    CHECK_INT_EQ(fetch_platform_parse(&p, "linux/arm", &err), 0);
    CHECK_STR_EQ(p.variant, "v7");
    CHECK_INT_EQ(fetch_platform_parse(&p, "linux/x86_64", &err), 0);
    CHECK_STR_EQ(p.arch, "amd64");
    CHECK_INT_EQ(fetch_platform_parse(&p, "linux", &err), -1);
    CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(fetch_platform_parse(&p, "linux/", &err), -1);
    CHECK_INT_EQ(fetch_platform_parse(&p, "/amd64", &err), -1);
    CHECK_INT_EQ(fetch_platform_parse(&p, "linux/arm/v7/x", &err), -1);
    CHECK_INT_EQ(fetch_platform_parse(&p, "linux/arm/", &err), -1);
    CHECK_INT_EQ(fetch_platform_parse(&p, "linux/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &err),
                 -1);
}

static void test_match(void)
{
    struct fetch_platform want = plat("linux", "arm64", "");
    struct fetch_platform h;

    h = plat("linux", "arm64", "v8");
    CHECK_INT_EQ(fetch_platform_match(&want, &h), 2); /* arm64 -> v8 by default */
    h = plat("linux", "arm64", "");
    CHECK_INT_EQ(fetch_platform_match(&want, &h), 2);
    h = plat("linux", "arm64", "v9");
    CHECK_INT_EQ(fetch_platform_match(&want, &h), -1);
    h = plat("linux", "amd64", "");
    CHECK_INT_EQ(fetch_platform_match(&want, &h), -1);
    h = plat("windows", "arm64", "");
    CHECK_INT_EQ(fetch_platform_match(&want, &h), -1);
    want = plat("linux", "arm", "v7");
    h = plat("linux", "arm", "v6");
    CHECK_INT_EQ(fetch_platform_match(&want, &h), 1); /* older arm variant runs */
    h = plat("linux", "arm", "v7");
    CHECK_INT_EQ(fetch_platform_match(&want, &h), 2);
    want = plat("linux", "arm", "v6");
    h = plat("linux", "arm", "v7");
    CHECK_INT_EQ(fetch_platform_match(&want, &h), -1); /* never a newer one */
    want = plat("linux", "amd64", "");
    h = plat("linux", "x86_64", "");
    CHECK_INT_EQ(fetch_platform_match(&want, &h), 2);
    h = plat("unknown", "unknown", "");
    CHECK_INT_EQ(fetch_platform_match(&want, &h), -1);
}

static void test_host_and_format(void)
{
    struct fetch_platform p;
    char s[96];

    fetch_platform_host(&p);
    CHECK_STR_EQ(p.os, "linux");
    CHECK(p.arch[0] != '\0');
    p = plat("linux", "arm64", "v8");
    fetch_platform_format(&p, s, sizeof(s));
    CHECK_STR_EQ(s, "linux/arm64/v8");
    p = plat("linux", "amd64", "");
    fetch_platform_format(&p, s, sizeof(s));
    CHECK_STR_EQ(s, "linux/amd64");
}

static void test_resume_plan(void)
{
    CHECK_INT_EQ(fetch_resume_plan(0, 100), FETCH_RESUME_FRESH);
    CHECK_INT_EQ(fetch_resume_plan(0, 0), FETCH_RESUME_FRESH);
    CHECK_INT_EQ(fetch_resume_plan(1, 100), FETCH_RESUME_CONTINUE);
    CHECK_INT_EQ(fetch_resume_plan(99, 100), FETCH_RESUME_CONTINUE);
    CHECK_INT_EQ(fetch_resume_plan(100, 100), FETCH_RESUME_VERIFY);
    CHECK_INT_EQ(fetch_resume_plan(101, 100), FETCH_RESUME_RESTART);
}

static void test_blob_path(void)
{
    struct digest d;
    char p[128], small[20];

    memset(d.hex, 'a', DIGEST_HEX_LEN);
    d.hex[DIGEST_HEX_LEN] = '\0';
    CHECK_INT_EQ(fetch_blob_path(p, sizeof(p), "/x", &d), 0);
    CHECK(strncmp(p, "/x/blobs/sha256/aaaa", 20) == 0);
    CHECK_INT_EQ(strlen(p), 16 + DIGEST_HEX_LEN);
    CHECK_INT_EQ(fetch_blob_path(small, sizeof(small), "/x", &d), -1);
}

int main(void)
{
    TEST_RUN(test_parse);
    TEST_RUN(test_match);
    TEST_RUN(test_host_and_format);
    TEST_RUN(test_resume_plan);
    TEST_RUN(test_blob_path);
    return test_summary();
}
