/* buf_test.c - the ceiling, growth, and what a failed append leaves behind (nothing changed),
 * with allocation failures injected through mem_fail_after. */
#include "common/buf.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/mem.h"
#include "common/test.h"

static void test_basic(void)
{
    struct buf b;
    char *p;

    buf_init(&b, 100);
    CHECK(b.data == NULL);
    CHECK_INT_EQ(b.len, 0);
    CHECK_INT_EQ(buf_appends(&b, "hello"), 0);
    CHECK_INT_EQ(buf_append(&b, ", ", 2), 0);
    CHECK_INT_EQ(buf_printf(&b, "%s %d", "world", 42), 0);
    CHECK_STR_EQ(b.data, "hello, world 42");
    CHECK_INT_EQ(b.len, 15);
    CHECK(b.cap > b.len);
    buf_reset(&b);
    CHECK_INT_EQ(b.len, 0);
    CHECK_STR_EQ(b.data, "");
    CHECK_INT_EQ(buf_appends(&b, "x"), 0);
    p = buf_detach(&b);
    CHECK_STR_EQ(p, "x");
    CHECK(b.data == NULL);
    CHECK_INT_EQ(b.len, 0);
    mem_free(p);
    CHECK(buf_detach(&b) == NULL);
    /* an empty append still yields a terminated string */
    CHECK_INT_EQ(buf_append(&b, "", 0), 0);
    CHECK_STR_EQ(b.data, "");
    buf_cleanup(&b);
    CHECK(b.data == NULL);
    buf_cleanup(&b); /* twice is fine */
}

static void test_ceiling(void)
{
    struct buf b;

    buf_init(&b, 10);
    CHECK_INT_EQ(buf_appends(&b, "0123456789"), 0);
    CHECK_INT_EQ(b.len, 10);
    errno = 0;
    CHECK_INT_EQ(buf_appends(&b, "x"), -1);
    CHECK_INT_EQ(errno, EFBIG);
    CHECK_INT_EQ(b.len, 10);
    CHECK_STR_EQ(b.data, "0123456789");
    errno = 0;
    CHECK_INT_EQ(buf_printf(&b, "%d", 1), -1);
    CHECK_INT_EQ(errno, EFBIG);
    CHECK_STR_EQ(b.data, "0123456789");
    CHECK_INT_EQ(buf_append(&b, "", 0), 0); /* nothing more still fits */
    buf_reset(&b);
    CHECK_INT_EQ(buf_printf(&b, "%s", "01234567890"), -1); /* 11 > 10 at once */
    CHECK_INT_EQ(b.len, 0);
    CHECK_STR_EQ(b.data, "");
    buf_cleanup(&b);

    /* a zero ceiling takes nothing but the empty string */
    buf_init(&b, 0);
    CHECK_INT_EQ(buf_appends(&b, "a"), -1);
    CHECK(b.data == NULL);
    buf_cleanup(&b);

    /* sizes near SIZE_MAX are refused, never wrapped */
    buf_init(&b, SIZE_MAX);
    CHECK_INT_EQ(buf_appends(&b, "ab"), 0);
    errno = 0;
    CHECK_INT_EQ(buf_append(&b, "x", SIZE_MAX - 2), -1);
    CHECK_INT_EQ(b.len, 2);
    CHECK_INT_EQ(buf_append(&b, "x", SIZE_MAX - 1), -1);
    CHECK_STR_EQ(b.data, "ab");
    buf_cleanup(&b);
}

static void test_growth(void)
{
    struct buf b;
    char chunk[1000];

    memset(chunk, 'z', sizeof(chunk));
    buf_init(&b, 1 << 20);
    for (int i = 0; i < 100; i++)
        CHECK_INT_EQ(buf_append(&b, chunk, sizeof(chunk)), 0);
    CHECK_INT_EQ(b.len, 100000);
    CHECK_INT_EQ(strlen(b.data), 100000);
    CHECK(b.cap > b.len);
    buf_cleanup(&b);
}

static void test_alloc_failure(void)
{
    struct buf b;
    char big[600];
    size_t cap;

    memset(big, 'q', sizeof(big));
    /* the first allocation fails: nothing allocated, nothing changed */
    buf_init(&b, 4096);
    mem_fail_after(0);
    errno = 0;
    CHECK_INT_EQ(buf_appends(&b, "abc"), -1);
    CHECK_INT_EQ(errno, ENOMEM);
    CHECK_INT_EQ(mem_injected(), 1);
    CHECK(b.data == NULL);
    CHECK_INT_EQ(b.len, 0);
    mem_fail_after(-1);

    /* a growing realloc fails: the old content stays intact */
    CHECK_INT_EQ(buf_appends(&b, "abc"), 0);
    cap = b.cap;
    mem_fail_after(0);
    CHECK_INT_EQ(buf_append(&b, big, sizeof(big)), -1);
    CHECK_INT_EQ(b.len, 3);
    CHECK_INT_EQ(b.cap, cap);
    CHECK_STR_EQ(b.data, "abc");
    mem_fail_after(0);
    CHECK_INT_EQ(buf_printf(&b, "%.*s", 600, big), -1);
    CHECK_STR_EQ(b.data, "abc");
    mem_fail_after(-1);
    /* an append that fits the allocation needs no allocation */
    mem_fail_after(0);
    CHECK_INT_EQ(buf_appends(&b, "def"), 0);
    CHECK_INT_EQ(mem_injected(), 0);
    mem_fail_after(-1);
    CHECK_STR_EQ(b.data, "abcdef");
    /* after the failures, the buffer works again */
    CHECK_INT_EQ(buf_append(&b, big, sizeof(big)), 0);
    CHECK_INT_EQ(b.len, 606);
    buf_cleanup(&b);

    /* the failing call may be the Nth: loop N until an append succeeds */
    for (long n = 0; n < 20; n++) {
        struct buf c;
        int rc = 0;

        buf_init(&c, 1 << 20);
        mem_fail_after(n);
        for (int i = 0; i < 20 && rc == 0; i++)
            rc = buf_append(&c, big, sizeof(big));
        mem_fail_after(-1);
        if (rc < 0) {
            CHECK(c.len % sizeof(big) == 0);
            CHECK(c.data == NULL || strlen(c.data) == c.len);
        }
        buf_cleanup(&c);
    }
}

int main(void)
{
    TEST_RUN(test_basic);
    TEST_RUN(test_ceiling);
    TEST_RUN(test_growth);
    TEST_RUN(test_alloc_failure);
    return test_summary();
}
