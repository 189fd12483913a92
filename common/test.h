/* test.h - the unit-test harness: CHECK macros and a closing "N passed, N failed" line.
 *
 * A test file defines test functions and calls them from main() through TEST_RUN, then returns
 * test_summary(). Every failed check prints file:line and the expression; the process exits
 * non-zero when any check failed. Single-threaded use only. */
#ifndef BERTH_COMMON_TEST_H
#define BERTH_COMMON_TEST_H

#include <stdio.h>
#include <string.h>

static int test_passed_;
static int test_failed_;

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

static inline int test_summary(void)
{
    printf("%d passed, %d failed\n", test_passed_, test_failed_);
    return test_failed_ ? 1 : 0;
}

#endif
