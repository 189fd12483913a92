/* test.h - the unit-test harness: CHECK macros and a closing "N passed, N failed" line.
 *
 * A test file defines test functions and calls them from main() through TEST_RUN, then returns
 * test_summary(). Every failed check prints file:line and the expression; the process exits
 * non-zero when any check failed. Tests that need files get a fresh directory under /tmp from
 * test_mkdtemp and remove it with test_rm_rf; test_digest_of, test_repo_name and test_tag turn
 * literals into the parsed types (aborting on a typo in the test itself). Single-threaded use
 * only. */
#ifndef BERTH_COMMON_TEST_H
#define BERTH_COMMON_TEST_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/digest.h"

static int test_passed_;
static int test_failed_;
static int test_skipped_;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            test_passed_++;                                                                        \
        } else {                                                                                   \
            test_failed_++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                                         \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        if (va_ == vb_) {                                                                          \
            test_passed_++;                                                                        \
        } else {                                                                                   \
            test_failed_++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK_INT_EQ failed: %s == %lld, want %lld\n", __FILE__,       \
                    __LINE__, #a, va_, vb_);                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                                         \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        if (sa_ != NULL && sb_ != NULL && strcmp(sa_, sb_) == 0) {                                 \
            test_passed_++;                                                                        \
        } else {                                                                                   \
            test_failed_++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK_STR_EQ failed: %s == \"%s\", want \"%s\"\n", __FILE__,   \
                    __LINE__, #a, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                     \
        }                                                                                          \
    } while (0)

#define TEST_RUN(fn)                                                                               \
    do {                                                                                           \
        int before_ = test_failed_;                                                                \
        fn();                                                                                      \
        fprintf(stderr, "%s %s\n", test_failed_ == before_ ? "ok  " : "FAIL", #fn);                \
    } while (0)

/* test_mkdtemp makes a fresh directory /tmp/berth-<tag>-XXXXXX and writes its path into out (cap
 * bytes). Without it no test of the file could run, so failing exits the process with status 2. */
static inline void test_mkdtemp(char *out, size_t cap, const char *tag)
{
    int n = snprintf(out, cap, "/tmp/berth-%s-XXXXXX", tag);

    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "test_mkdtemp: no room for the path of %s\n", tag);
        exit(2);
    }
    if (mkdtemp(out) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
}

/* test_rm_rf removes path and, when it is a directory, everything below it; links are removed,
 * never followed. Best effort: what cannot be removed stays, and a leftover under /tmp harms no
 * later run (each takes a fresh test_mkdtemp directory). */
static inline void test_rm_rf(const char *path)
{
    char sub[PATH_MAX];
    struct dirent *de;
    struct stat st;
    DIR *d;

    if (lstat(path, &st) < 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        (void)unlink(path); /* best effort, see above */
        return;
    }
    d = opendir(path);
    if (d != NULL) {
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) < (int)sizeof(sub))
                test_rm_rf(sub);
        }
        (void)closedir(d); /* read-only stream: nothing to lose */
    }
    (void)rmdir(path); /* best effort, see above */
}

/* test_count_entries: the entries of dir other than . and .. (-1 when it cannot be opened). */
static inline int test_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    }
    (void)closedir(d); /* read-only stream: nothing to lose */
    return n;
}

/* test_digest_of: the SHA-256 digest of the text content. */
static inline struct digest test_digest_of(const char *content)
{
    struct digest d;

    if (digest_of(&d, content, strlen(content)) < 0)
        abort();
    return d;
}

/* test_repo_name and test_tag parse a literal the test knows to be valid. */
static inline struct repo_name test_repo_name(const char *s)
{
    struct repo_name r;
    struct berr e;

    if (repo_name_parse(&r, s, strlen(s), &e) < 0)
        abort();
    return r;
}

static inline struct tag test_tag(const char *s)
{
    struct tag t;
    struct berr e;

    if (tag_parse(&t, s, strlen(s), &e) < 0)
        abort();
    return t;
}

/* test_skip counts one skipped test, saying which and why; the test returns right after
 * (a test that cannot run where it is, such as one reading SQLite's files on PostgreSQL). */
static inline void test_skip(const char *name, const char *why)
{
    test_skipped_++;
    fprintf(stderr, "skip %s: %s\n", name, why);
}

static inline int test_summary(void)
{
    if (test_skipped_ > 0)
        printf("%d passed, %d failed, %d skipped\n", test_passed_, test_failed_, test_skipped_);
    else
        printf("%d passed, %d failed\n", test_passed_, test_failed_);
    return test_failed_ ? 1 : 0;
}

#endif
