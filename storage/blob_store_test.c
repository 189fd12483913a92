/* blob_store_test.c - unit tests for storage/blob_store.c.
 *
 * Each test works in a fresh directory under /tmp, removed at the end. Besides the happy paths it
 * checks what failed calls leave behind: no temp file in uploads/, no file in blobs/. */
#include "storage/blob_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"

/* sha256("hello") */
#define HELLO_HEX "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

static int write_path(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    size_t len = strlen(s);
    int rc = 0;

    if (fd < 0)
        return -1;
    if (write(fd, s, len) != (ssize_t)len)
        rc = -1;
    if (close(fd) < 0)
        rc = -1;
    return rc;
}

static void sub_path(char *out, size_t cap, const char *root, const char *rel)
{
    snprintf(out, cap, "%s/%s", root, rel);
}

static void test_open_layout(void)
{
    char root[64], p[PATH_MAX];
    struct blob_store *bs = NULL;
    struct digest d;
    struct stat st;
    struct berr err;

    test_mkdtemp(root, sizeof(root), "bs");
    CHECK_INT_EQ(blob_store_open(&bs, root, &err), 0);
    CHECK(bs != NULL);
    sub_path(p, sizeof(p), root, "blobs/sha256");
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    sub_path(p, sizeof(p), root, "uploads");
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_STR_EQ(blob_store_root(bs), root);

    memcpy(d.hex, HELLO_HEX, DIGEST_HEX_LEN + 1);
    char want[PATH_MAX];
    snprintf(want, sizeof(want), "%s/blobs/sha256/2c/%s", root, HELLO_HEX);
    CHECK_INT_EQ(blob_store_path(bs, &d, p, sizeof(p), &err), 0);
    CHECK_STR_EQ(p, want);
    /* a buffer too small is an error, not a cut path */
    char small[16];
    CHECK_INT_EQ(blob_store_path(bs, &d, small, sizeof(small), &err), -1);
    CHECK_INT_EQ(err.code, BERR_INTERNAL);
    blob_store_close(bs);

    /* reopening an existing store works; a trailing slash is harmless */
    char slashed[80];
    snprintf(slashed, sizeof(slashed), "%s/", root);
    CHECK_INT_EQ(blob_store_open(&bs, slashed, &err), 0);
    CHECK_STR_EQ(blob_store_root(bs), root);
    blob_store_close(bs);
    blob_store_close(NULL);

    /* a root that cannot be created fails cleanly */
    sub_path(p, sizeof(p), root, "file");
    CHECK_INT_EQ(write_path(p, "x"), 0);
    bs = (struct blob_store *)1;
    CHECK_INT_EQ(blob_store_open(&bs, p, &err), -1);
    CHECK(bs == NULL);
    CHECK_INT_EQ(blob_store_open(&bs, "", &err), -1);
    test_rm_rf(root);
}

static void test_put_stat_open(void)
{
    char root[64], p[PATH_MAX], buf[16];
    struct blob_store *bs = NULL;
    struct digest d, d2, unknown;
    struct berr err;
    uint64_t size = 99;
    int fd = 7;

    test_mkdtemp(root, sizeof(root), "bs");
    CHECK_INT_EQ(blob_store_open(&bs, root, &err), 0);
    CHECK_INT_EQ(blob_store_put_buf(bs, "hello", 5, &d, &err), 0);
    CHECK_STR_EQ(d.hex, HELLO_HEX);
    CHECK_INT_EQ(blob_store_stat(bs, &d, &size, &err), 0);
    CHECK_INT_EQ(size, 5);
    CHECK_INT_EQ(blob_store_open_read(bs, &d, &fd, &size, &err), 0);
    CHECK(fd >= 0);
    CHECK_INT_EQ(size, 5);
    memset(buf, 0, sizeof(buf));
    CHECK_INT_EQ(read(fd, buf, sizeof(buf)), 5);
    CHECK_STR_EQ(buf, "hello");
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);

    /* storing it again keeps one file and leaves no temp file */
    CHECK_INT_EQ(blob_store_put_buf(bs, "hello", 5, &d2, &err), 0);
    CHECK(digest_equal(&d, &d2));
    sub_path(p, sizeof(p), root, "uploads");
    CHECK_INT_EQ(test_count_entries(p), 0);
    sub_path(p, sizeof(p), root, "blobs/sha256/2c");
    CHECK_INT_EQ(test_count_entries(p), 1);

    /* the empty blob is a blob too */
    CHECK_INT_EQ(blob_store_put_buf(bs, "", 0, &d2, &err), 0);
    CHECK_STR_EQ(d2.hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_INT_EQ(blob_store_stat(bs, &d2, &size, &err), 0);
    CHECK_INT_EQ(size, 0);

    memset(unknown.hex, 'a', DIGEST_HEX_LEN);
    unknown.hex[DIGEST_HEX_LEN] = '\0';
    size = 3;
    CHECK_INT_EQ(blob_store_stat(bs, &unknown, &size, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UNKNOWN);
    CHECK_INT_EQ(size, 0);
    CHECK_INT_EQ(blob_store_open_read(bs, &unknown, &fd, &size, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UNKNOWN);
    CHECK_INT_EQ(fd, -1);

    blob_store_close(bs);
    test_rm_rf(root);
}

static void test_commit_file(void)
{
    char root[64], tmp[PATH_MAX], fin[PATH_MAX], up[PATH_MAX];
    struct blob_store *bs = NULL;
    struct timespec old[2];
    struct digest d;
    struct stat st;
    struct berr err;

    test_mkdtemp(root, sizeof(root), "bs");
    CHECK_INT_EQ(blob_store_open(&bs, root, &err), 0);
    memcpy(d.hex, HELLO_HEX, DIGEST_HEX_LEN + 1);
    sub_path(tmp, sizeof(tmp), root, "uploads/t1");
    CHECK_INT_EQ(write_path(tmp, "hello"), 0);
    /* an upload whose last byte came a day ago: the blob must still look new (gc window) */
    old[0].tv_sec = old[1].tv_sec = time(NULL) - 86400;
    old[0].tv_nsec = old[1].tv_nsec = 0;
    CHECK_INT_EQ(utimensat(AT_FDCWD, tmp, old, 0), 0);
    CHECK_INT_EQ(blob_store_commit_file(bs, tmp, &d, &err), 0);
    CHECK(access(tmp, F_OK) < 0 && errno == ENOENT);
    CHECK_INT_EQ(blob_store_path(bs, &d, fin, sizeof(fin), &err), 0);
    CHECK(stat(fin, &st) == 0);
    CHECK(st.st_mtime >= time(NULL) - 60);
    CHECK_INT_EQ(blob_store_verify(bs, &d, &err), 0);

    /* dedup: the second copy is removed, the blob stays and is touched */
    CHECK_INT_EQ(utimensat(AT_FDCWD, fin, old, 0), 0);
    CHECK_INT_EQ(write_path(tmp, "hello"), 0);
    CHECK_INT_EQ(blob_store_commit_file(bs, tmp, &d, &err), 0);
    CHECK(access(tmp, F_OK) < 0 && errno == ENOENT);
    CHECK(stat(fin, &st) == 0 && st.st_size == 5);
    CHECK(st.st_mtime >= time(NULL) - 60);
    sub_path(up, sizeof(up), root, "uploads");
    CHECK_INT_EQ(test_count_entries(up), 0);

    /* remove, then remove again: missing is fine */
    CHECK_INT_EQ(blob_store_remove(bs, &d, &err), 0);
    CHECK(access(fin, F_OK) < 0);
    CHECK_INT_EQ(blob_store_remove(bs, &d, &err), 0);

    /* a commit that cannot rename leaves the file where it was and nothing in blobs/ */
    CHECK_INT_EQ(write_path(tmp, "hello"), 0);
    sub_path(fin, sizeof(fin), root, "blobs/sha256/2c");
    test_rm_rf(fin);
    CHECK_INT_EQ(write_path(fin, "not a directory"), 0);
    CHECK_INT_EQ(blob_store_commit_file(bs, tmp, &d, &err), -1);
    CHECK_INT_EQ(err.code, BERR_INTERNAL);
    CHECK(access(tmp, F_OK) == 0);
    blob_store_close(bs);
    test_rm_rf(root);
}

static void test_put_failure_leaves_nothing(void)
{
    char root[64], p[PATH_MAX];
    struct blob_store *bs = NULL;
    struct digest d;
    struct berr err;
    uint64_t size;

    test_mkdtemp(root, sizeof(root), "bs");
    CHECK_INT_EQ(blob_store_open(&bs, root, &err), 0);
    /* the prefix directory of "hello" is a file: rename must fail */
    sub_path(p, sizeof(p), root, "blobs/sha256/2c");
    CHECK_INT_EQ(write_path(p, "junk"), 0);
    memset(&d, 'x', sizeof(d));
    CHECK_INT_EQ(blob_store_put_buf(bs, "hello", 5, &d, &err), -1);
    CHECK_INT_EQ(err.code, BERR_INTERNAL);
    CHECK_STR_EQ(err.msg, "internal error");
    CHECK_INT_EQ(d.hex[0], '\0');
    sub_path(p, sizeof(p), root, "uploads");
    CHECK_INT_EQ(test_count_entries(p), 0);
    sub_path(p, sizeof(p), root, "blobs/sha256");
    CHECK_INT_EQ(test_count_entries(p), 1); /* only the junk file */
    memcpy(d.hex, HELLO_HEX, DIGEST_HEX_LEN + 1);
    CHECK_INT_EQ(blob_store_stat(bs, &d, &size, &err), -1);
    blob_store_close(bs);
    test_rm_rf(root);
}

/* stage, place and drop: the file steps gc and pushes run inside their meta transactions */
static void test_stage_place_drop(void)
{
    char root[64], tmp[PATH_MAX], p[PATH_MAX];
    struct blob_store *bs = NULL;
    struct blob_place bp;
    struct blob_drop bd;
    struct timespec ts[2];
    struct digest d, missing;
    struct berr err;
    uint64_t size, avail = 0, total = 0;

    test_mkdtemp(root, sizeof(root), "bs");
    CHECK_INT_EQ(blob_store_open(&bs, root, &err), 0);
    CHECK_INT_EQ(blob_store_stage_buf(bs, "hello", 5, &d, tmp, sizeof(tmp), &err), 0);
    CHECK_STR_EQ(d.hex, HELLO_HEX);
    CHECK(strstr(tmp, "/uploads/") != NULL);
    CHECK(access(tmp, F_OK) == 0);
    CHECK_INT_EQ(blob_store_stat(bs, &d, &size, &err), -1); /* staged, not in place */
    CHECK_INT_EQ(err.code, BERR_BLOB_UNKNOWN);

    bp.bs = bs;
    bp.tmp_path = tmp;
    bp.d = &d;
    CHECK_INT_EQ(blob_store_place(&bp, &err), 0);
    CHECK(access(tmp, F_OK) < 0);
    CHECK_INT_EQ(blob_store_verify(bs, &d, &err), 0);
    /* the same bytes again: deduplicated, the temp file goes */
    CHECK_INT_EQ(blob_store_stage_buf(bs, "hello", 5, &d, tmp, sizeof(tmp), &err), 0);
    CHECK_INT_EQ(blob_store_place(&bp, &err), 0);
    CHECK(access(tmp, F_OK) < 0);
    sub_path(p, sizeof(p), root, "uploads");
    CHECK_INT_EQ(test_count_entries(p), 0);

    /* no temp file: a check that the blob is there (mount) */
    bp.tmp_path = NULL;
    CHECK_INT_EQ(blob_store_place(&bp, &err), 0);
    memset(&missing, 0, sizeof(missing));
    memset(missing.hex, 'a', DIGEST_HEX_LEN);
    bp.d = &missing;
    CHECK_INT_EQ(blob_store_place(&bp, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UNKNOWN);

    /* drop with an age limit keeps a file touched since, removes an old one */
    bd.bs = bs;
    bd.d = &d;
    bd.before = now_s() - 60;
    CHECK_INT_EQ(blob_store_drop(&bd, &err), 0);
    CHECK_INT_EQ(blob_store_stat(bs, &d, &size, &err), 0);
    CHECK_INT_EQ(blob_store_path(bs, &d, p, sizeof(p), &err), 0);
    ts[0].tv_sec = ts[1].tv_sec = (time_t)(now_s() - 3600);
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    CHECK_INT_EQ(utimensat(AT_FDCWD, p, ts, 0), 0);
    CHECK_INT_EQ(blob_store_drop(&bd, &err), 1);
    CHECK_INT_EQ(blob_store_stat(bs, &d, &size, &err), -1);
    CHECK_INT_EQ(blob_store_drop(&bd, &err), 1); /* already gone */
    bd.before = 0;
    CHECK_INT_EQ(blob_store_drop(&bd, &err), 1);

    CHECK_INT_EQ(blob_store_free(bs, &avail, &total, &err), 0);
    CHECK(avail > 0);
    CHECK(total >= avail);
    blob_store_close(bs);
    test_rm_rf(root);
}

struct walk_ctx {
    int good;
    int bad;
    uint64_t bytes;
    int stop_after;
};

static int walk_count(const struct digest *d, uint64_t size, int64_t mtime, void *ctx)
{
    struct walk_ctx *w = ctx;

    (void)d;
    CHECK(mtime > 0);
    w->good++;
    w->bytes += size;
    if (w->stop_after > 0 && w->good == w->stop_after)
        return 42;
    return 0;
}

static void walk_bad(const char *path, void *ctx)
{
    struct walk_ctx *w = ctx;

    CHECK(strstr(path, "/blobs/sha256/") != NULL);
    w->bad++;
}

static void test_walk(void)
{
    char root[64], p[PATH_MAX];
    struct blob_store *bs = NULL;
    struct walk_ctx w;
    struct digest d;
    struct berr err;

    test_mkdtemp(root, sizeof(root), "bs");
    CHECK_INT_EQ(blob_store_open(&bs, root, &err), 0);
    memset(&w, 0, sizeof(w));
    CHECK_INT_EQ(blob_store_walk(bs, walk_count, walk_bad, &w), 0);
    CHECK_INT_EQ(w.good, 0);

    CHECK_INT_EQ(blob_store_put_buf(bs, "a", 1, &d, &err), 0);
    CHECK_INT_EQ(blob_store_put_buf(bs, "bb", 2, &d, &err), 0);
    CHECK_INT_EQ(blob_store_put_buf(bs, "ccc", 3, &d, &err), 0);
    /* bad names: a non-hex prefix dir, a short name, a name in the wrong prefix dir */
    sub_path(p, sizeof(p), root, "blobs/sha256/zz");
    CHECK_INT_EQ(mkdir(p, 0750), 0);
    snprintf(p, sizeof(p), "%s/blobs/sha256/%.2s/short", root, d.hex);
    CHECK_INT_EQ(write_path(p, "x"), 0);
    snprintf(p, sizeof(p), "%s/blobs/sha256/00", root);
    mkdir(p, 0750);
    snprintf(p, sizeof(p), "%s/blobs/sha256/00/%s", root, HELLO_HEX);
    CHECK_INT_EQ(write_path(p, "x"), 0);

    memset(&w, 0, sizeof(w));
    CHECK_INT_EQ(blob_store_walk(bs, walk_count, walk_bad, &w), 0);
    CHECK_INT_EQ(w.good, 3);
    CHECK_INT_EQ(w.bytes, 6);
    CHECK_INT_EQ(w.bad, 3);
    /* no bad_fn is fine */
    memset(&w, 0, sizeof(w));
    CHECK_INT_EQ(blob_store_walk(bs, walk_count, NULL, &w), 0);
    CHECK_INT_EQ(w.good, 3);
    /* the callback's non-zero value stops the walk and is returned */
    memset(&w, 0, sizeof(w));
    w.stop_after = 2;
    CHECK_INT_EQ(blob_store_walk(bs, walk_count, NULL, &w), 42);
    CHECK_INT_EQ(w.good, 2);
    blob_store_close(bs);
    test_rm_rf(root);
}

static void test_verify(void)
{
    char root[64], p[PATH_MAX];
    struct blob_store *bs = NULL;
    struct digest d, unknown;
    struct berr err;

    test_mkdtemp(root, sizeof(root), "bs");
    CHECK_INT_EQ(blob_store_open(&bs, root, &err), 0);
    /* larger than one read chunk */
    size_t big = 200 * 1024 + 7;
    char *data = malloc(big);
    CHECK(data != NULL);
    if (data == NULL)
        return;
    for (size_t i = 0; i < big; i++)
        data[i] = (char)(i * 31 + 7);
    CHECK_INT_EQ(blob_store_put_buf(bs, data, big, &d, &err), 0);
    CHECK_INT_EQ(blob_store_verify(bs, &d, &err), 0);
    free(data);

    CHECK_INT_EQ(blob_store_path(bs, &d, p, sizeof(p), &err), 0);
    CHECK_INT_EQ(write_path(p, "tampered"), 0);
    CHECK_INT_EQ(blob_store_verify(bs, &d, &err), -1);
    CHECK_INT_EQ(err.code, BERR_DIGEST_INVALID);

    memset(unknown.hex, 'b', DIGEST_HEX_LEN);
    unknown.hex[DIGEST_HEX_LEN] = '\0';
    CHECK_INT_EQ(blob_store_verify(bs, &unknown, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UNKNOWN);
    blob_store_close(bs);
    test_rm_rf(root);
}

/* every allocation of open, put and verify fails in turn: clean error, no leak, no junk */
static void test_alloc_failures(void)
{
    char root[64], p[PATH_MAX];
    struct blob_store *bs;
    struct digest d;
    struct berr err;
    long n;
    int rc = -1, failures = 0;

    test_mkdtemp(root, sizeof(root), "bs");
    sub_path(p, sizeof(p), root, "uploads");
    CHECK_INT_EQ(mkdir_p(p), 0);
    for (n = 0; n < 50; n++) {
        bs = NULL;
        mem_fail_after(n);
        rc = blob_store_open(&bs, root, &err);
        if (rc == 0)
            rc = blob_store_put_buf(bs, "hello", 5, &d, &err);
        if (rc == 0)
            rc = blob_store_verify(bs, &d, &err);
        long injected = mem_injected();
        mem_fail_after(-1);
        if (rc < 0) {
            failures++;
            CHECK(injected > 0);
            CHECK_INT_EQ(err.code, BERR_INTERNAL);
        }
        blob_store_close(bs);
        sub_path(p, sizeof(p), root, "uploads");
        CHECK_INT_EQ(test_count_entries(p), 0);
        if (rc == 0 && injected == 0)
            break;
    }
    CHECK_INT_EQ(rc, 0);
    CHECK(failures >= 2); /* open and verify allocate */
    test_rm_rf(root);
}

int main(void)
{
    TEST_RUN(test_open_layout);
    TEST_RUN(test_put_stat_open);
    TEST_RUN(test_commit_file);
    TEST_RUN(test_put_failure_leaves_nothing);
    TEST_RUN(test_stage_place_drop);
    TEST_RUN(test_walk);
    TEST_RUN(test_verify);
    TEST_RUN(test_alloc_failures);
    return test_summary();
}
