/* fetch_test.c - platform parsing, normalization and matching; resume bookkeeping; blob paths;
 * what a re-pull does with manifests and blobs already in the output (same-size corruption). */
#include "puller/fetch.h"

#include <string.h>

#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"

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

/* layout makes ROOT/blobs/sha256 in a fresh directory */
static void layout(char *root, size_t cap, char *path, size_t pcap, const struct digest *d)
{
    char dir[PATH_MAX];

    test_mkdtemp(root, cap, "fetch-test");
    snprintf(dir, sizeof(dir), "%s/blobs", root);
    CHECK_INT_EQ(mkdir(dir, 0755), 0);
    snprintf(dir, sizeof(dir), "%s/blobs/sha256", root);
    CHECK_INT_EQ(mkdir(dir, 0755), 0);
    CHECK_INT_EQ(fetch_blob_path(path, pcap, root, d), 0);
}

static void put(const char *path, const char *content)
{
    CHECK_INT_EQ(write_file_atomic(path, content, strlen(content), 0644), 0);
}

/* file_is: the file holds exactly content */
static bool file_is(const char *path, const char *content)
{
    char *got = NULL;
    size_t len = 0;
    bool same;

    if (read_file(&got, &len, path, 1u << 20) < 0)
        return false;
    same = len == strlen(content) && memcmp(got, content, len) == 0;
    mem_free(got);
    return same;
}

static void test_store_manifest(void)
{
    const char *good = "{\"schemaVersion\":2,\"config\":{}}";
    const char *same_size = "{\"schemaVersion\":2,\"config\":[]}";
    struct digest d = test_digest_of(good);
    char root[PATH_MAX], path[PATH_MAX];
    struct berr err;
    struct stat st;

    layout(root, sizeof(root), path, sizeof(path), &d);
    /* fresh */
    CHECK_INT_EQ(fetch_store_manifest(root, &d, good, strlen(good), &err), 0);
    CHECK(file_is(path, good));
    /* a re-pull over the right bytes keeps them */
    CHECK_INT_EQ(fetch_store_manifest(root, &d, good, strlen(good), &err), 0);
    CHECK(file_is(path, good));
    /* a same-length corrupted file is replaced, not trusted by its length */
    CHECK_INT_EQ(strlen(same_size), strlen(good));
    put(path, same_size);
    CHECK_INT_EQ(fetch_store_manifest(root, &d, good, strlen(good), &err), 0);
    CHECK(file_is(path, good));
    /* so is one of another length */
    put(path, "{}");
    CHECK_INT_EQ(fetch_store_manifest(root, &d, good, strlen(good), &err), 0);
    CHECK(file_is(path, good));
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    /* the output directory cannot be written: an error, not a silent keep */
    test_rm_rf(root);
    CHECK_INT_EQ(fetch_store_manifest(root, &d, good, strlen(good), &err), -1);
    CHECK_INT_EQ(err.code, BERR_INTERNAL);
}

static void test_blob_present(void)
{
    const char *good = "layer bytes, 32 of them, exactly";
    const char *flip = "layer bytes, 32 of them, exactlY";
    struct fetch_desc d;
    char root[PATH_MAX], path[PATH_MAX];
    struct stat st;

    memset(&d, 0, sizeof(d));
    d.digest = test_digest_of(good);
    d.size = strlen(good);
    layout(root, sizeof(root), path, sizeof(path), &d.digest);
    CHECK(!fetch_blob_present(path, &d)); /* missing */
    put(path, good);
    CHECK(fetch_blob_present(path, &d));
    CHECK(file_is(path, good)); /* kept */
    /* same size, one byte changed: refused and removed so it is fetched again */
    CHECK_INT_EQ(strlen(flip), strlen(good));
    put(path, flip);
    CHECK(!fetch_blob_present(path, &d));
    CHECK(stat(path, &st) < 0);
    /* right prefix, wrong size: refused and removed */
    put(path, "layer bytes");
    CHECK(!fetch_blob_present(path, &d));
    CHECK(stat(path, &st) < 0);
    /* right bytes followed by more */
    put(path, "layer bytes, 32 of them, exactly!");
    CHECK(!fetch_blob_present(path, &d));
    CHECK(stat(path, &st) < 0);
    test_rm_rf(root);
}

int main(void)
{
    TEST_RUN(test_parse);
    TEST_RUN(test_match);
    TEST_RUN(test_host_and_format);
    TEST_RUN(test_resume_plan);
    TEST_RUN(test_blob_path);
    TEST_RUN(test_store_manifest);
    TEST_RUN(test_blob_present);
    return test_summary();
}
