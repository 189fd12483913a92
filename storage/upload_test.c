/* upload_test.c - unit tests for storage/upload.c.
 *
 * Sessions are driven the way registry/uploads.c drives them: create, acquire, write chunks,
 * release, commit. Each test checks the files a call leaves in uploads/ and blobs/, including
 * after failures, a wrong digest and a simulated restart (a new manager over the same data). */
#include "storage/upload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"

/* count_blobs: files under blobs/sha256/xx/. */
static int count_blobs(const char *root)
{
    char p[PATH_MAX], sub[PATH_MAX];
    struct dirent *de;
    DIR *d;
    int n = 0;

    snprintf(p, sizeof(p), "%s/blobs/sha256", root);
    d = opendir(p);
    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (snprintf(sub, sizeof(sub), "%s/%s", p, de->d_name) < (int)sizeof(sub))
            n += test_count_entries(sub);
    }
    closedir(d);
    return n;
}

static int count_uploads(const char *root)
{
    char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s/uploads", root);
    return test_count_entries(p);
}

struct fixture {
    char root[64];
    struct blob_store *bs;
    struct upload_mgr *m;
    struct repo_name repo, other;
};

static void fx_open(struct fixture *f)
{
    struct berr err;

    memset(f, 0, sizeof(*f));
    test_mkdtemp(f->root, sizeof(f->root), "up");
    if (blob_store_open(&f->bs, f->root, &err) < 0 || upload_mgr_new(&f->m, f->bs, &err) < 0 ||
        repo_name_parse(&f->repo, "library/app", 11, &err) < 0 ||
        repo_name_parse(&f->other, "library/other", 13, &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        exit(2);
    }
}

static void fx_close(struct fixture *f)
{
    upload_mgr_free(f->m);
    blob_store_close(f->bs);
    test_rm_rf(f->root);
}

static void session_file(const struct fixture *f, const char *id, const char *leaf, char *out,
                         size_t cap)
{
    snprintf(out, cap, "%s/uploads/%s/%s", f->root, id, leaf);
}

static void test_create_write_commit(void)
{
    struct fixture f;
    char id[UPLOAD_ID_LEN + 1], p[PATH_MAX], *info = NULL;
    struct upload *u = NULL;
    struct digest want, got;
    struct berr err;
    uint64_t size = 0;
    size_t len = 0, total = 300 * 1024 + 11;
    unsigned char *data = malloc(total);

    if (data == NULL)
        return;
    for (size_t i = 0; i < total; i++)
        data[i] = (unsigned char)(i * 7 + 3);
    CHECK_INT_EQ(digest_of(&want, data, total), 0);
    fx_open(&f);
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    CHECK_INT_EQ(strlen(id), UPLOAD_ID_LEN);
    CHECK(strspn(id, "0123456789abcdef") == UPLOAD_ID_LEN);
    session_file(&f, id, "info", p, sizeof(p));
    CHECK_INT_EQ(read_file(&info, &len, p, 4096), 0);
    CHECK(info != NULL && str_has_prefix(info, "repo=library/app\ncreated="));
    mem_free(info);
    session_file(&f, id, "data", p, sizeof(p));
    CHECK(access(p, F_OK) == 0);

    /* chunk 1 and 2 in one request, chunk 3 in another */
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_STR_EQ(upload_id(u), id);
    CHECK_INT_EQ(upload_offset(u), 0);
    CHECK_INT_EQ(upload_write(u, data, 1000, &err), 0);
    CHECK_INT_EQ(upload_write(u, data + 1000, 0, &err), 0);
    CHECK_INT_EQ(upload_write(u, data + 1000, 200 * 1024, &err), 0);
    CHECK_INT_EQ(upload_offset(u), 1000 + 200 * 1024);
    upload_release(u);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_offset(u), 1000 + 200 * 1024);
    CHECK_INT_EQ(upload_write(u, data + 1000 + 200 * 1024, total - 1000 - 200 * 1024, &err), 0);
    CHECK_INT_EQ(upload_offset(u), total);
    CHECK_INT_EQ(upload_commit(u, &want, &size, &err), 0);
    CHECK_INT_EQ(size, total);
    CHECK_INT_EQ(blob_store_verify(f.bs, &want, &err), 0);
    CHECK_INT_EQ(blob_store_stat(f.bs, &want, &size, &err), 0);
    CHECK_INT_EQ(size, total);
    CHECK_INT_EQ(count_uploads(f.root), 0);
    /* the session is over */
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_UNKNOWN);

    /* the same content again: dedup keeps one blob and removes the upload */
    CHECK_INT_EQ(upload_create(f.m, &f.other, id, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.other, &u, &err), 0);
    CHECK_INT_EQ(upload_write(u, data, total, &err), 0);
    CHECK_INT_EQ(upload_commit(u, &want, &size, &err), 0);
    CHECK_INT_EQ(count_blobs(f.root), 1);
    CHECK_INT_EQ(count_uploads(f.root), 0);

    /* an empty upload (monolithic POST of zero bytes) is the empty blob */
    CHECK_INT_EQ(digest_of(&got, "", 0), 0);
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_commit(u, &got, &size, &err), 0);
    CHECK_INT_EQ(size, 0);
    CHECK_INT_EQ(count_blobs(f.root), 2);
    fx_close(&f);
    free(data);
}

static void test_wrong_digest(void)
{
    struct fixture f;
    char id[UPLOAD_ID_LEN + 1];
    struct upload *u = NULL;
    struct digest want;
    struct berr err;
    uint64_t size = 5;

    fx_open(&f);
    CHECK_INT_EQ(digest_of(&want, "hello", 5), 0);
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_write(u, "hellp", 5, &err), 0);
    CHECK_INT_EQ(upload_commit(u, &want, &size, &err), -1);
    CHECK_INT_EQ(err.code, BERR_DIGEST_INVALID);
    CHECK_INT_EQ(size, 0);
    CHECK_INT_EQ(count_blobs(f.root), 0);
    CHECK_INT_EQ(count_uploads(f.root), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_UNKNOWN);
    fx_close(&f);
}

static void test_bad_ids(void)
{
    static const char *const bad[] = {
            "",
            "0123456789abcdef0123456789abcde",   /* 31 */
            "0123456789abcdef0123456789abcdef0", /* 33 */
            "0123456789ABCDEF0123456789abcdef",  /* upper case */
            "../../../../etc/passwd/xxxxxxxxx",
            "0123456789abcdef0123456789abcde/",
            "0123456789abcdef0123456789abcdeg",
    };
    struct fixture f;
    char id[UPLOAD_ID_LEN + 1], p[PATH_MAX];
    struct upload *u;
    struct berr err;

    fx_open(&f);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        u = (struct upload *)&f;
        CHECK_INT_EQ(upload_acquire(f.m, bad[i], &f.repo, &u, &err), -1);
        CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_UNKNOWN);
        CHECK(u == NULL);
        CHECK_INT_EQ(upload_cancel(f.m, bad[i], &f.repo, &err), -1);
        CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_UNKNOWN);
    }
    CHECK_INT_EQ(upload_acquire(f.m, NULL, &f.repo, &u, &err), -1);
    /* well-formed but unknown */
    CHECK_INT_EQ(upload_acquire(f.m, "0123456789abcdef0123456789abcdef", &f.repo, &u, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_UNKNOWN);
    /* a directory with a malformed info file is unknown, not an internal error */
    snprintf(p, sizeof(p), "%s/uploads/00000000000000000000000000000000", f.root);
    CHECK_INT_EQ(mkdir(p, 0750), 0);
    snprintf(p, sizeof(p), "%s/uploads/00000000000000000000000000000000/info", f.root);
    CHECK_INT_EQ(write_file_atomic(p, "repo=Bad Name\ncreated=1\n", 24, 0640), 0);
    CHECK_INT_EQ(upload_acquire(f.m, "00000000000000000000000000000000", &f.repo, &u, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_UNKNOWN);
    /* a valid session is still found after all that */
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    upload_release(u);
    fx_close(&f);
}

static void test_other_repo_and_busy(void)
{
    struct fixture f;
    char id[UPLOAD_ID_LEN + 1];
    struct upload *u = NULL, *u2 = NULL;
    struct berr err;

    fx_open(&f);
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.other, &u, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_UNKNOWN);
    CHECK_INT_EQ(upload_cancel(f.m, id, &f.other, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_UNKNOWN);

    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u2, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_INVALID);
    CHECK(u2 == NULL);
    CHECK_INT_EQ(upload_cancel(f.m, id, &f.repo, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_INVALID);
    upload_release(u);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u2, &err), 0);
    upload_release(u2);

    /* the repository check holds after a restart too */
    upload_mgr_free(f.m);
    CHECK_INT_EQ(upload_mgr_new(&f.m, f.bs, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.other, &u, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_UNKNOWN);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u2, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_INVALID);
    upload_release(u);
    fx_close(&f);
}

static void test_restart(void)
{
    struct fixture f;
    char id[UPLOAD_ID_LEN + 1], p[PATH_MAX];
    unsigned char data[100000];
    struct upload *u = NULL;
    struct digest want;
    struct berr err;
    uint64_t size;
    int fd;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i ^ (i >> 8));
    CHECK_INT_EQ(digest_of(&want, data, sizeof(data)), 0);
    fx_open(&f);
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_write(u, data, 70000, &err), 0);
    upload_release(u);

    /* restart: a new manager rebuilds the hash from the file */
    upload_mgr_free(f.m);
    CHECK_INT_EQ(upload_mgr_new(&f.m, f.bs, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_offset(u), 70000);
    CHECK_INT_EQ(upload_write(u, data + 70000, 10000, &err), 0);
    upload_release(u);

    /* bytes past the hashed length (a write that failed half way) are cut on the next acquire */
    session_file(&f, id, "data", p, sizeof(p));
    fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK_INT_EQ(write(fd, "junk", 4), 4);
    close(fd);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_offset(u), 80000);
    {
        struct stat st;
        CHECK(stat(p, &st) == 0 && st.st_size == 80000);
    }
    CHECK_INT_EQ(upload_write(u, data + 80000, sizeof(data) - 80000, &err), 0);
    CHECK_INT_EQ(upload_commit(u, &want, &size, &err), 0);
    CHECK_INT_EQ(size, sizeof(data));
    CHECK_INT_EQ(blob_store_verify(f.bs, &want, &err), 0);
    CHECK_INT_EQ(count_uploads(f.root), 0);

    /* the files vanish under an idle session (another process purged it): unknown */
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    snprintf(p, sizeof(p), "%s/uploads/%s", f.root, id);
    test_rm_rf(p);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_UNKNOWN);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_UNKNOWN);
    fx_close(&f);
}

static void test_cancel(void)
{
    struct fixture f;
    char id[UPLOAD_ID_LEN + 1], p[PATH_MAX];
    struct upload *u = NULL;
    struct berr err;

    fx_open(&f);
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_write(u, "abc", 3, &err), 0);
    upload_release(u);
    CHECK_INT_EQ(upload_cancel(f.m, id, &f.repo, &err), 0);
    snprintf(p, sizeof(p), "%s/uploads/%s", f.root, id);
    CHECK(access(p, F_OK) < 0 && errno == ENOENT);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_UNKNOWN);
    CHECK_INT_EQ(upload_cancel(f.m, id, &f.repo, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_UNKNOWN);

    /* cancel after a restart (the session is not in the table) */
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    upload_mgr_free(f.m);
    CHECK_INT_EQ(upload_mgr_new(&f.m, f.bs, &err), 0);
    CHECK_INT_EQ(upload_cancel(f.m, id, &f.repo, &err), 0);
    CHECK_INT_EQ(count_uploads(f.root), 0);
    CHECK_INT_EQ(count_blobs(f.root), 0);
    fx_close(&f);
}

static void set_created(const struct fixture *f, const char *id, int64_t created)
{
    char p[PATH_MAX], info[512];
    int n;

    session_file(f, id, "info", p, sizeof(p));
    n = snprintf(info, sizeof(info), "repo=library/app\ncreated=%" PRId64 "\n", created);
    CHECK_INT_EQ(write_file_atomic(p, info, (size_t)n, 0640), 0);
}

static void test_purge(void)
{
    struct fixture f;
    char fresh[UPLOAD_ID_LEN + 1], old[UPLOAD_ID_LEN + 1], held[UPLOAD_ID_LEN + 1];
    char p[PATH_MAX];
    struct timespec ts[2];
    struct upload *u = NULL, *h = NULL;
    struct berr err;
    unsigned removed = 99;
    int64_t long_ago = now_s() - 10 * 86400;

    fx_open(&f);
    CHECK_INT_EQ(upload_create(f.m, &f.repo, fresh, &err), 0);
    CHECK_INT_EQ(upload_create(f.m, &f.repo, old, &err), 0);
    CHECK_INT_EQ(upload_create(f.m, &f.repo, held, &err), 0);
    set_created(&f, old, long_ago);
    set_created(&f, held, long_ago);
    CHECK_INT_EQ(upload_acquire(f.m, held, &f.repo, &h, &err), 0);
    ts[0].tv_sec = ts[1].tv_sec = (time_t)long_ago;
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    /* a crash inside create: a session directory without info, old */
    snprintf(p, sizeof(p), "%s/uploads/ffffffffffffffffffffffffffffffff", f.root);
    CHECK_INT_EQ(mkdir(p, 0750), 0);
    CHECK_INT_EQ(utimensat(AT_FDCWD, p, ts, 0), 0);
    /* a crash inside blob_store_put_buf: an old temp file; and a fresh one in flight */
    snprintf(p, sizeof(p), "%s/uploads/put-0123.tmp", f.root);
    CHECK_INT_EQ(write_file_atomic(p, "x", 1, 0640), 0);
    CHECK_INT_EQ(utimensat(AT_FDCWD, p, ts, 0), 0);
    snprintf(p, sizeof(p), "%s/uploads/put-4567.tmp", f.root);
    CHECK_INT_EQ(write_file_atomic(p, "x", 1, 0640), 0);

    CHECK_INT_EQ(upload_purge_count(f.m, 7 * 86400, &removed, &err), 0);
    CHECK_INT_EQ(removed, 3);
    CHECK_INT_EQ(count_uploads(f.root), 6);
    CHECK_INT_EQ(upload_purge(f.m, 7 * 86400, &removed, &err), 0);
    CHECK_INT_EQ(removed, 3);
    CHECK_INT_EQ(count_uploads(f.root), 3); /* fresh, held, put-4567.tmp */
    CHECK_INT_EQ(upload_acquire(f.m, old, &f.repo, &u, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BLOB_UPLOAD_UNKNOWN);
    CHECK_INT_EQ(upload_acquire(f.m, fresh, &f.repo, &u, &err), 0);
    upload_release(u);
    /* once released, the held session is idle and goes too */
    upload_release(h);
    CHECK_INT_EQ(upload_purge(f.m, 7 * 86400, &removed, &err), 0);
    CHECK_INT_EQ(removed, 1);
    CHECK_INT_EQ(upload_acquire(f.m, held, &f.repo, &u, &err), -1);
    /* a negative age puts the cutoff in the future: everything idle goes */
    CHECK_INT_EQ(upload_purge(f.m, -5, &removed, &err), 0);
    CHECK_INT_EQ(removed, 2);
    CHECK_INT_EQ(count_uploads(f.root), 0);
    fx_close(&f);
}

/* a full disk (RLIMIT_FSIZE) mid-chunk: the write fails, the offset and the file stay at the
 * last good byte, and the upload goes on correctly once there is room again */
static void test_disk_full(void)
{
    struct fixture f;
    char id[UPLOAD_ID_LEN + 1], p[PATH_MAX];
    static unsigned char data[150000];
    struct rlimit old, lim;
    struct upload *u = NULL;
    struct digest want, d;
    struct berr err;
    struct stat st;
    uint64_t size;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 13 + 1);
    CHECK_INT_EQ(digest_of(&want, data, sizeof(data)), 0);
    fx_open(&f);
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 100000;
    CHECK_INT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
    CHECK_INT_EQ(upload_write(u, data, 60000, &err), 0);
    CHECK_INT_EQ(upload_write(u, data + 60000, 60000, &err), -1);
    CHECK_INT_EQ(err.code, BERR_INTERNAL);
    CHECK_INT_EQ(upload_offset(u), 60000);
    session_file(&f, id, "data", p, sizeof(p));
    CHECK(stat(p, &st) == 0 && st.st_size == 60000);
    /* a manifest that does not fit leaves nothing behind either */
    CHECK_INT_EQ(blob_store_put_buf(f.bs, data, sizeof(data), &d, &err), -1);
    CHECK_INT_EQ(count_blobs(f.root), 0);
    CHECK_INT_EQ(count_uploads(f.root), 1);
    CHECK_INT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    upload_release(u);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_offset(u), 60000);
    CHECK_INT_EQ(upload_write(u, data + 60000, sizeof(data) - 60000, &err), 0);
    CHECK_INT_EQ(upload_commit(u, &want, &size, &err), 0);
    CHECK_INT_EQ(size, sizeof(data));
    CHECK_INT_EQ(blob_store_verify(f.bs, &want, &err), 0);
    fx_close(&f);
}

struct race {
    struct upload_mgr *m;
    const struct repo_name *repo;
    const char *id;
    int ok, busy, other;
};

static void *race_main(void *arg)
{
    struct race *r = arg;
    struct upload *u;
    struct berr err;

    for (int i = 0; i < 2000; i++) {
        if (upload_acquire(r->m, r->id, r->repo, &u, &err) == 0) {
            if (upload_write(u, "x", 1, &err) == 0)
                r->ok++;
            else
                r->other++;
            upload_release(u);
        } else if (err.code == BERR_BLOB_UPLOAD_INVALID) {
            r->busy++;
        } else {
            r->other++;
        }
    }
    return NULL;
}

static void test_threads(void)
{
    struct fixture f;
    char id[UPLOAD_ID_LEN + 1];
    struct race r[4];
    pthread_t t[4];
    struct upload *u = NULL;
    struct berr err;
    int ok = 0, other = 0;

    fx_open(&f);
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    for (int i = 0; i < 4; i++) {
        r[i] = (struct race){.m = f.m, .repo = &f.repo, .id = id};
        CHECK_INT_EQ(pthread_create(&t[i], NULL, race_main, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ok += r[i].ok;
        other += r[i].other;
    }
    CHECK_INT_EQ(other, 0);
    CHECK(ok > 0);
    /* every successful write landed exactly once: offset and hash agree */
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_offset(u), ok);
    {
        char *ones = malloc((size_t)ok);
        struct digest want;
        uint64_t size;
        if (ones != NULL) {
            memset(ones, 'x', (size_t)ok);
            CHECK_INT_EQ(digest_of(&want, ones, (size_t)ok), 0);
            CHECK_INT_EQ(upload_commit(u, &want, &size, &err), 0);
            free(ones);
        }
    }
    fx_close(&f);
}

/* one allocation after another fails across a whole upload; then across a restart */
static void test_alloc_failures(void)
{
    struct fixture f;
    char id[UPLOAD_ID_LEN + 1];
    struct upload_mgr *m2;
    struct upload *u;
    struct digest want;
    struct berr err;
    uint64_t size;
    long n, injected;
    int rc = -1, failures = 0;

    fx_open(&f);
    CHECK_INT_EQ(digest_of(&want, "hello world", 11), 0);
    for (n = 0; n < 100; n++) {
        m2 = NULL;
        u = NULL;
        mem_fail_after(n);
        rc = upload_mgr_new(&m2, f.bs, &err);
        if (rc == 0)
            rc = upload_create(m2, &f.repo, id, &err);
        if (rc == 0)
            rc = upload_acquire(m2, id, &f.repo, &u, &err);
        if (rc == 0) {
            rc = upload_write(u, "hello ", 6, &err);
            if (rc == 0)
                rc = upload_write(u, "world", 5, &err);
            if (rc == 0)
                rc = upload_commit(u, &want, &size, &err);
            else
                upload_release(u);
        }
        injected = mem_injected();
        mem_fail_after(-1);
        if (rc < 0) {
            failures++;
            CHECK(injected > 0);
            CHECK(err.code == BERR_INTERNAL);
            CHECK_INT_EQ(count_blobs(f.root), 0);
        }
        upload_mgr_free(m2);
        if (rc == 0 && injected == 0)
            break;
        /* whatever a failed create left must be gone; a created session may stay (it is valid) */
        CHECK(count_uploads(f.root) <= 1);
        {
            char p[PATH_MAX];
            snprintf(p, sizeof(p), "%s/uploads", f.root);
            test_rm_rf(p);
            CHECK_INT_EQ(mkdir(p, 0750), 0);
        }
    }
    CHECK_INT_EQ(rc, 0);
    CHECK(failures >= 2);
    CHECK_INT_EQ(count_blobs(f.root), 1);
    CHECK_INT_EQ(count_uploads(f.root), 0);

    /* restart path: info read and rehash allocate */
    failures = 0;
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_write(u, "hello ", 6, &err), 0);
    upload_release(u);
    for (n = 0; n < 100; n++) {
        CHECK_INT_EQ(upload_mgr_new(&m2, f.bs, &err), 0);
        mem_fail_after(n);
        rc = upload_acquire(m2, id, &f.repo, &u, &err);
        injected = mem_injected();
        mem_fail_after(-1);
        if (rc == 0) {
            CHECK_INT_EQ(upload_offset(u), 6);
            upload_release(u);
        } else {
            failures++;
            CHECK(err.code == BERR_INTERNAL);
        }
        upload_mgr_free(m2);
        if (rc == 0 && injected == 0)
            break;
    }
    CHECK_INT_EQ(rc, 0);
    CHECK(failures >= 2);
    CHECK_INT_EQ(count_uploads(f.root), 1);
    fx_close(&f);
}

/* write_checked writes data[*done, *done + n) and checks invariant 6 of upload.c: writeback is
 * started at most UPLOAD_WRITEBACK_BYTES behind the offset, and only up to it; *kicks counts the
 * writes that started a range. */
static void write_checked(struct upload *u, const unsigned char *data, uint64_t *done, size_t n,
                          unsigned *kicks)
{
    uint64_t before = upload_writeback_offset(u), wb;
    struct berr err;

    CHECK_INT_EQ(upload_write(u, data + *done, n, &err), 0);
    *done += n;
    wb = upload_writeback_offset(u);
    CHECK_INT_EQ(upload_offset(u), *done);
    CHECK(wb <= *done);
    CHECK(*done - wb < UPLOAD_WRITEBACK_BYTES);
    /* it only moves forward, and when it moves it covers everything written so far */
    CHECK(wb == before || wb == *done);
    if (wb != before)
        (*kicks)++;
}

/* a blob several times UPLOAD_WRITEBACK_BYTES in odd-sized writes, across a release, a restart
 * (the session loaded from disk) and a data file cut short behind the server's back */
static void test_writeback_large(void)
{
    struct fixture f;
    char id[UPLOAD_ID_LEN + 1], p[PATH_MAX];
    const size_t total = 4 * UPLOAD_WRITEBACK_BYTES + 4099;
    unsigned char *data = malloc(total);
    struct upload *u = NULL;
    struct digest want;
    struct berr err;
    struct stat st;
    uint64_t done = 0, size = 0, cut;
    unsigned kicks = 0;
    size_t step = 1;

    if (data == NULL)
        return;
    for (size_t i = 0; i < total; i++)
        data[i] = (unsigned char)((i * 2654435761u) >> 13);
    CHECK_INT_EQ(digest_of(&want, data, total), 0);
    fx_open(&f);
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_writeback_offset(u), 0);
    /* odd sizes, 1 byte up to ~700 KiB, never a multiple of the threshold */
    while (done < UPLOAD_WRITEBACK_BYTES + UPLOAD_WRITEBACK_BYTES / 2) {
        step = step * 3 + 7;
        if (step > 700000)
            step = 13;
        write_checked(u, data, &done, step, &kicks);
    }
    CHECK_INT_EQ(kicks, 1);
    CHECK(upload_writeback_offset(u) >= UPLOAD_WRITEBACK_BYTES);
    upload_release(u);

    /* released and taken again: the session keeps its state in the table */
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK(upload_writeback_offset(u) >= UPLOAD_WRITEBACK_BYTES);
    write_checked(u, data, &done, 999, &kicks);
    upload_release(u);

    /* restart: the session is loaded from disk and starts over at 0 (invariant 6), so its first
     * range also covers what the old process wrote; the next write starts it */
    upload_mgr_free(f.m);
    CHECK_INT_EQ(upload_mgr_new(&f.m, f.bs, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_offset(u), done);
    CHECK_INT_EQ(upload_writeback_offset(u), 0);
    kicks = 0;
    write_checked(u, data, &done, 5, &kicks);
    CHECK_INT_EQ(kicks, 1);
    CHECK_INT_EQ(upload_writeback_offset(u), done);
    while (done < 3 * UPLOAD_WRITEBACK_BYTES) {
        step = step * 3 + 7;
        if (step > 700000)
            step = 13;
        write_checked(u, data, &done, step, &kicks);
    }
    CHECK(kicks >= 2);
    upload_release(u);

    /* the file loses its tail behind the server's back: the hash is rebuilt from what is left
     * and the writeback offset never stays past the end */
    session_file(&f, id, "data", p, sizeof(p));
    cut = UPLOAD_WRITEBACK_BYTES + 12345;
    CHECK(truncate(p, (off_t)cut) == 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_offset(u), cut);
    CHECK(upload_writeback_offset(u) <= cut);
    done = cut;
    while (done < total) {
        step = step * 3 + 7;
        if (step > 700000)
            step = 13;
        if (step > total - done)
            step = (size_t)(total - done);
        write_checked(u, data, &done, step, &kicks);
    }
    CHECK_INT_EQ(upload_commit(u, &want, &size, &err), 0);
    CHECK_INT_EQ(size, total);
    CHECK_INT_EQ(blob_store_verify(f.bs, &want, &err), 0);
    CHECK_INT_EQ(count_blobs(f.root), 1);
    CHECK_INT_EQ(count_uploads(f.root), 0);
    {
        char b[PATH_MAX];
        snprintf(b, sizeof(b), "%s/blobs/sha256/%.2s/%s", f.root, want.hex, want.hex);
        CHECK(stat(b, &st) == 0 && (uint64_t)st.st_size == total);
    }
    fx_close(&f);
    free(data);
}

#ifdef BERTH_TEST_BUILD
/* sync_file_range as the test builds' hook sees it: every call recorded, failures on demand */
struct sfr_call {
    uint64_t off, len;
    int wait;
};
static struct sfr_call sfr_calls[64];
static unsigned sfr_n;
static int sfr_fail_wait, sfr_fail_write; /* errno to fail with, 0 = succeed */

static int fake_sfr(int fd, uint64_t off, uint64_t len, int wait)
{
    (void)fd;
    if (sfr_n < sizeof(sfr_calls) / sizeof(sfr_calls[0]))
        sfr_calls[sfr_n] = (struct sfr_call){off, len, wait};
    sfr_n++;
    if ((wait ? sfr_fail_wait : sfr_fail_write) != 0) {
        errno = wait ? sfr_fail_wait : sfr_fail_write;
        return -1;
    }
    return 0;
}

/* odd_writes writes data[*done, until) in odd pieces; -1 at the first failed write */
static int odd_writes(struct upload *u, const unsigned char *data, uint64_t *done, uint64_t until,
                      struct berr *err)
{
    size_t step = 5;

    while (*done < until) {
        step = step * 3 + 1;
        if (step > 600000)
            step = 17;
        if (step > until - *done)
            step = (size_t)(until - *done);
        if (upload_write(u, data + *done, step, err) < 0)
            return -1;
        *done += step;
    }
    return 0;
}

/* the call pattern (wait for the range started last time, then start the next) and what each
 * kind of failure does: unsupported stops the calls, a failed start is only logged, a failed
 * wait (the disk lost data) empties the session */
static void test_writeback_calls(void)
{
    struct fixture f;
    char id[UPLOAD_ID_LEN + 1], p[PATH_MAX];
    const size_t total = 3 * UPLOAD_WRITEBACK_BYTES + UPLOAD_WRITEBACK_BYTES / 2;
    unsigned char *data = malloc(total);
    struct upload *u = NULL;
    struct digest want;
    struct berr err;
    struct stat st;
    uint64_t done = 0, size = 0;

    if (data == NULL)
        return;
    for (size_t i = 0; i < total; i++)
        data[i] = (unsigned char)((i * 40503u) >> 7);
    CHECK_INT_EQ(digest_of(&want, data, total), 0);
    fx_open(&f);
    upload_test_sfr = fake_sfr;

    /* the pattern: write [0,a); wait [0,a), write [a,b); wait [a,b), write [b,c) */
    sfr_n = 0;
    sfr_fail_wait = sfr_fail_write = 0;
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(odd_writes(u, data, &done, total, &err), 0);
    CHECK_INT_EQ(sfr_n, 5);
    CHECK(sfr_calls[0].wait == 0 && sfr_calls[0].off == 0);
    CHECK(sfr_calls[0].len >= UPLOAD_WRITEBACK_BYTES);
    for (unsigned i = 1; i + 1 < sfr_n && i + 1 < 64; i += 2) {
        CHECK(sfr_calls[i].wait == 1 && sfr_calls[i + 1].wait == 0);
        CHECK_INT_EQ(sfr_calls[i].off, sfr_calls[i - 1].off);
        CHECK_INT_EQ(sfr_calls[i].len, sfr_calls[i - 1].len);
        CHECK_INT_EQ(sfr_calls[i + 1].off, sfr_calls[i - 1].off + sfr_calls[i - 1].len);
        CHECK(sfr_calls[i + 1].len >= UPLOAD_WRITEBACK_BYTES);
    }
    CHECK_INT_EQ(sfr_calls[4].off + sfr_calls[4].len, upload_writeback_offset(u));
    CHECK_INT_EQ(upload_commit(u, &want, &size, &err), 0);
    CHECK_INT_EQ(size, total);

    /* unsupported (ENOSYS, EINVAL...): one call, then none; the upload commits */
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    sfr_n = 0;
    sfr_fail_write = EINVAL;
    done = 0;
    CHECK_INT_EQ(odd_writes(u, data, &done, total, &err), 0);
    CHECK_INT_EQ(sfr_n, 1);
    CHECK_INT_EQ(upload_commit(u, &want, &size, &err), 0);
    CHECK_INT_EQ(blob_store_verify(f.bs, &want, &err), 0);

    /* a start that fails otherwise is logged (once) and the calls go on; the upload commits */
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    sfr_n = 0;
    sfr_fail_write = EIO;
    done = 0;
    CHECK_INT_EQ(odd_writes(u, data, &done, total, &err), 0);
    CHECK_INT_EQ(sfr_n, 5);
    CHECK_INT_EQ(upload_commit(u, &want, &size, &err), 0);
    CHECK_INT_EQ(size, total);
    CHECK_INT_EQ(blob_store_verify(f.bs, &want, &err), 0);

    /* a failed wait: the disk lost data no fsync will report again; the write fails and the
     * session starts over empty, on disk too, so a restart cannot commit the lost bytes */
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    sfr_n = 0;
    sfr_fail_write = 0;
    sfr_fail_wait = EIO;
    done = 0;
    CHECK_INT_EQ(odd_writes(u, data, &done, total, &err), -1);
    CHECK_INT_EQ(err.code, BERR_INTERNAL);
    CHECK_INT_EQ(sfr_n, 2);
    CHECK(done >= UPLOAD_WRITEBACK_BYTES && done < 2 * UPLOAD_WRITEBACK_BYTES);
    CHECK_INT_EQ(upload_offset(u), 0);
    CHECK_INT_EQ(upload_writeback_offset(u), 0);
    session_file(&f, id, "data", p, sizeof(p));
    CHECK(stat(p, &st) == 0 && st.st_size == 0);
    upload_release(u);
    /* the client starts again from 0; this time the disk keeps it */
    sfr_fail_wait = 0;
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    CHECK_INT_EQ(upload_offset(u), 0);
    done = 0;
    CHECK_INT_EQ(odd_writes(u, data, &done, total, &err), 0);
    CHECK_INT_EQ(upload_commit(u, &want, &size, &err), 0);
    CHECK_INT_EQ(size, total);
    CHECK_INT_EQ(blob_store_verify(f.bs, &want, &err), 0);

    /* a wait that reports a full disk answers STORAGE_FULL like a failed write */
    CHECK_INT_EQ(upload_create(f.m, &f.repo, id, &err), 0);
    CHECK_INT_EQ(upload_acquire(f.m, id, &f.repo, &u, &err), 0);
    sfr_fail_wait = ENOSPC;
    done = 0;
    CHECK_INT_EQ(odd_writes(u, data, &done, total, &err), -1);
    CHECK_INT_EQ(err.code, BERR_STORAGE_FULL);
    CHECK_INT_EQ(upload_offset(u), 0);
    upload_release(u);
    CHECK_INT_EQ(upload_cancel(f.m, id, &f.repo, &err), 0);
    CHECK_INT_EQ(count_uploads(f.root), 0);

    upload_test_sfr = NULL;
    sfr_fail_wait = sfr_fail_write = 0;
    fx_close(&f);
    free(data);
}
#endif

int main(void)
{
    TEST_RUN(test_create_write_commit);
    TEST_RUN(test_wrong_digest);
    TEST_RUN(test_bad_ids);
    TEST_RUN(test_other_repo_and_busy);
    TEST_RUN(test_restart);
    TEST_RUN(test_cancel);
    TEST_RUN(test_purge);
    TEST_RUN(test_disk_full);
    TEST_RUN(test_threads);
    TEST_RUN(test_alloc_failures);
    TEST_RUN(test_writeback_large);
#ifdef BERTH_TEST_BUILD
    TEST_RUN(test_writeback_calls);
#endif
    return test_summary();
}
