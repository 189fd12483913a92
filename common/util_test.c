/* util_test.c - durable writes, bounded reads, random hex, time formatting.
 * Files live in a private temp directory removed at the end. */
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/test.h"

static char dir[64];

static void path_in(char *out, size_t cap, const char *name)
{
    (void)snprintf(out, cap, "%s/%s", dir, name); /* test only: dir is short */
}

static void test_write_file_atomic(void)
{
    char p[128], tmp[140];
    char *data = NULL;
    size_t len = 0;
    struct stat st;

    path_in(p, sizeof(p), "f");
    CHECK_INT_EQ(write_file_atomic(p, "hello", 5, 0640), 0);
    CHECK_INT_EQ(read_file(&data, &len, p, 100), 0);
    CHECK_INT_EQ(len, 5);
    CHECK_STR_EQ(data, "hello");
    mem_free(data);
    CHECK_INT_EQ(stat(p, &st), 0);
    {
        mode_t mask = umask(0);

        (void)umask(mask); /* restores what umask(0) returned; cannot fail */
        CHECK_INT_EQ(st.st_mode & 0777, 0640 & ~mask);
    }
    /* no temp file is left behind */
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", p);
    CHECK_INT_EQ(access(tmp, F_OK), -1);
    /* replaced whole, never appended or mixed */
    CHECK_INT_EQ(write_file_atomic(p, "ab", 2, 0600), 0);
    CHECK_INT_EQ(read_file(&data, &len, p, 100), 0);
    CHECK_INT_EQ(len, 2);
    CHECK_STR_EQ(data, "ab");
    mem_free(data);
    /* empty content */
    CHECK_INT_EQ(write_file_atomic(p, "", 0, 0600), 0);
    CHECK_INT_EQ(read_file(&data, &len, p, 100), 0);
    CHECK_INT_EQ(len, 0);
    CHECK_STR_EQ(data, "");
    mem_free(data);
    /* a missing directory fails with ENOENT and creates nothing */
    path_in(p, sizeof(p), "nodir/f");
    errno = 0;
    CHECK_INT_EQ(write_file_atomic(p, "x", 1, 0600), -1);
    CHECK_INT_EQ(errno, ENOENT);
    CHECK_INT_EQ(access(p, F_OK), -1);
    /* a path too long for the temp name */
    {
        char longp[5000];
        memset(longp, 'a', sizeof(longp) - 1);
        longp[sizeof(longp) - 1] = '\0';
        errno = 0;
        CHECK_INT_EQ(write_file_atomic(longp, "x", 1, 0600), -1);
        CHECK_INT_EQ(errno, ENAMETOOLONG);
    }
    /* the target is a directory: rename fails, the temp file is cleaned up */
    path_in(p, sizeof(p), "adir");
    CHECK_INT_EQ(mkdir(p, 0700), 0);
    CHECK_INT_EQ(write_file_atomic(p, "x", 1, 0600), -1);
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", p);
    CHECK_INT_EQ(access(tmp, F_OK), -1);
    CHECK_INT_EQ(rmdir(p), 0);
}

static void test_read_file(void)
{
    char p[128];
    char *data = (char *)1;
    size_t len = 99;
    char big[4096];

    memset(big, 'b', sizeof(big));
    path_in(p, sizeof(p), "r");
    CHECK_INT_EQ(write_file_atomic(p, big, sizeof(big), 0600), 0);
    /* exactly max is fine */
    CHECK_INT_EQ(read_file(&data, &len, p, sizeof(big)), 0);
    CHECK_INT_EQ(len, sizeof(big));
    CHECK(data != NULL && data[sizeof(big)] == '\0');
    mem_free(data);
    /* one byte over max: EFBIG, *out NULL, *out_len 0 */
    data = (char *)1;
    len = 99;
    errno = 0;
    CHECK_INT_EQ(read_file(&data, &len, p, sizeof(big) - 1), -1);
    CHECK_INT_EQ(errno, EFBIG);
    CHECK(data == NULL);
    CHECK_INT_EQ(len, 0);
    /* missing file */
    path_in(p, sizeof(p), "missing");
    errno = 0;
    CHECK_INT_EQ(read_file(&data, NULL, p, 10), -1);
    CHECK_INT_EQ(errno, ENOENT);
    CHECK(data == NULL);
    /* allocation failure: ENOMEM, nothing returned, nothing leaked (ASan) */
    path_in(p, sizeof(p), "r");
    mem_fail_after(0);
    errno = 0;
    CHECK_INT_EQ(read_file(&data, &len, p, sizeof(big)), -1);
    mem_fail_after(-1);
    CHECK_INT_EQ(errno, ENOMEM);
    CHECK(data == NULL);
    /* out_len may be NULL */
    CHECK_INT_EQ(read_file(&data, NULL, p, sizeof(big)), 0);
    mem_free(data);
    CHECK_INT_EQ(unlink(p), 0);
}

static void test_rand_hex(void)
{
    char a[65], b[65], small[10];

    CHECK_INT_EQ(rand_hex(a, sizeof(a), 32), 0);
    CHECK_INT_EQ(strlen(a), 64);
    CHECK_INT_EQ(strspn(a, "0123456789abcdef"), 64);
    CHECK_INT_EQ(rand_hex(b, sizeof(b), 32), 0);
    CHECK(strcmp(a, b) != 0);
    CHECK_INT_EQ(rand_hex(small, sizeof(small), 5), -1); /* needs 11 */
    CHECK_INT_EQ(rand_hex(small, sizeof(small), 4), 0);
    CHECK_INT_EQ(strlen(small), 8);
    {
        char huge[200];
        CHECK_INT_EQ(rand_hex(huge, sizeof(huge), 65), -1); /* over the 64-byte limit */
    }
    CHECK_INT_EQ(rand_fill(a, 0), 0);
}

static void test_time(void)
{
    char out[32], small[10];

    time_rfc3339(0, out, sizeof(out));
    CHECK_STR_EQ(out, "1970-01-01T00:00:00Z");
    time_rfc3339(1700000000, out, sizeof(out));
    CHECK_STR_EQ(out, "2023-11-14T22:13:20Z");
    time_rfc3339(0, small, sizeof(small));
    CHECK_STR_EQ(small, "");
    CHECK(now_s() > 1700000000);
    {
        int64_t a = now_ms_mono(), b = now_ms_mono();
        CHECK(b >= a);
    }
}

static void test_dirs_and_prefix(void)
{
    char p[128];
    struct stat st;

    path_in(p, sizeof(p), "a/b/c");
    CHECK_INT_EQ(mkdir_p(p), 0);
    CHECK_INT_EQ(stat(p, &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK_INT_EQ(mkdir_p(p), 0); /* existing is fine */
    CHECK_INT_EQ(fsync_dir(p), 0);
    CHECK_INT_EQ(mkdir_p(""), -1);
    path_in(p, sizeof(p), "missing-dir");
    CHECK_INT_EQ(fsync_dir(p), -1);
    path_in(p, sizeof(p), "a/b/c");
    CHECK_INT_EQ(rmdir(p), 0);
    path_in(p, sizeof(p), "a/b");
    CHECK_INT_EQ(rmdir(p), 0);
    path_in(p, sizeof(p), "a");
    CHECK_INT_EQ(rmdir(p), 0);

    CHECK(str_has_prefix("sha256:abc", "sha256:"));
    CHECK(str_has_prefix("abc", ""));
    CHECK(!str_has_prefix("sha25", "sha256:"));
    CHECK(!str_has_prefix("Sha256:", "sha256:"));
}

int main(void)
{
    memcpy(dir, "/tmp/berth-util-test-XXXXXX", 28);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    TEST_RUN(test_write_file_atomic);
    TEST_RUN(test_read_file);
    TEST_RUN(test_rand_hex);
    TEST_RUN(test_time);
    TEST_RUN(test_dirs_and_prefix);
    {
        char p[128];
        path_in(p, sizeof(p), "f");
        (void)unlink(p); /* cleanup: failure changes no result */
    }
    CHECK_INT_EQ(rmdir(dir), 0);
    return test_summary();
}
