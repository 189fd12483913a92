/* range_test.c - Range (blob GET) and Content-Range (chunked upload PATCH) parsing: the
 * satisfiable forms, the ones served whole (1), the unsatisfiable ones (-1) and garbage. */
#include "common/range.h"

#include "common/test.h"

/* rb runs range_parse_bytes and returns rc; *f and *l get the bounds */
static int rb(uint64_t *f, uint64_t *l, const char *hdr, uint64_t size)
{
    *f = *l = 12345; /* the parser must overwrite */
    return range_parse_bytes(f, l, hdr, size);
}

static void test_range_satisfiable(void)
{
    uint64_t f, l;

    CHECK_INT_EQ(rb(&f, &l, "bytes=0-99", 1000), 0);
    CHECK_INT_EQ(f, 0);
    CHECK_INT_EQ(l, 99);
    CHECK_INT_EQ(rb(&f, &l, "bytes=5-5", 1000), 0);
    CHECK_INT_EQ(f, 5);
    CHECK_INT_EQ(l, 5);
    /* open-ended */
    CHECK_INT_EQ(rb(&f, &l, "bytes=900-", 1000), 0);
    CHECK_INT_EQ(f, 900);
    CHECK_INT_EQ(l, 999);
    CHECK_INT_EQ(rb(&f, &l, "bytes=999-", 1000), 0);
    CHECK_INT_EQ(f, 999);
    CHECK_INT_EQ(l, 999);
    /* suffix: the last N bytes, all of them when N exceeds the size */
    CHECK_INT_EQ(rb(&f, &l, "bytes=-100", 1000), 0);
    CHECK_INT_EQ(f, 900);
    CHECK_INT_EQ(l, 999);
    CHECK_INT_EQ(rb(&f, &l, "bytes=-1000", 1000), 0);
    CHECK_INT_EQ(f, 0);
    CHECK_INT_EQ(rb(&f, &l, "bytes=-5000", 1000), 0);
    CHECK_INT_EQ(f, 0);
    CHECK_INT_EQ(l, 999);
    /* a last byte past the end is clamped */
    CHECK_INT_EQ(rb(&f, &l, "bytes=10-99999", 1000), 0);
    CHECK_INT_EQ(f, 10);
    CHECK_INT_EQ(l, 999);
    CHECK_INT_EQ(rb(&f, &l, "bytes=0-18446744073709551615", 1000), 0);
    CHECK_INT_EQ(l, 999);
    /* blanks around the value and after '=' */
    CHECK_INT_EQ(rb(&f, &l, "  bytes= 1-2\t", 1000), 0);
    CHECK_INT_EQ(f, 1);
    CHECK_INT_EQ(l, 2);
    /* the largest resource */
    CHECK_INT_EQ(rb(&f, &l, "bytes=-1", UINT64_MAX), 0);
    CHECK_INT_EQ(f == UINT64_MAX - 1, 1);
    CHECK_INT_EQ(l == UINT64_MAX - 1, 1);
}

static void test_range_unsatisfiable(void)
{
    uint64_t f, l;

    /* past the end: 416 */
    CHECK_INT_EQ(rb(&f, &l, "bytes=1000-", 1000), -1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=1000-2000", 1000), -1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=5000-6000", 1000), -1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=-0", 1000), -1);
    /* an empty resource has no satisfiable range */
    CHECK_INT_EQ(rb(&f, &l, "bytes=0-", 0), -1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=0-0", 0), -1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=-5", 0), -1);
    CHECK_INT_EQ(f, 0);
    CHECK_INT_EQ(l, 0);
}

static void test_range_whole(void)
{
    uint64_t f, l;

    /* several ranges, other units, reversed and malformed specs: ignore the header (200) */
    CHECK_INT_EQ(rb(&f, &l, "bytes=0-1,5-9", 1000), 1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=0-1, 5-9", 1000), 1);
    CHECK_INT_EQ(rb(&f, &l, "items=0-1", 1000), 1);
    CHECK_INT_EQ(rb(&f, &l, "bytes 0-1", 1000), 1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=5-2", 1000), 1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=", 1000), 1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=-", 1000), 1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=abc", 1000), 1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=a-b", 1000), 1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=+1-2", 1000), 1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=0 -1", 1000), 1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=1-2-3", 1000), 1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=99999999999999999999-", 1000), 1);
    CHECK_INT_EQ(rb(&f, &l, "bytes=--5", 1000), 1);
    CHECK_INT_EQ(rb(&f, &l, "", 1000), 1);
    CHECK_INT_EQ(rb(&f, &l, "bytes", 1000), 1);
    CHECK_INT_EQ(f, 0);
    CHECK_INT_EQ(l, 0);
}

static int cr(uint64_t *f, uint64_t *l, const char *hdr)
{
    *f = *l = 12345;
    return content_range_parse(f, l, hdr);
}

static void test_content_range(void)
{
    uint64_t f, l;

    CHECK_INT_EQ(cr(&f, &l, "0-1023"), 0);
    CHECK_INT_EQ(f, 0);
    CHECK_INT_EQ(l, 1023);
    CHECK_INT_EQ(cr(&f, &l, "1024-2047"), 0);
    CHECK_INT_EQ(f, 1024);
    CHECK_INT_EQ(l, 2047);
    CHECK_INT_EQ(cr(&f, &l, "bytes 0-1023/*"), 0);
    CHECK_INT_EQ(l, 1023);
    CHECK_INT_EQ(cr(&f, &l, "bytes 0-1023/4096"), 0);
    CHECK_INT_EQ(cr(&f, &l, "bytes 7-7/8"), 0);
    CHECK_INT_EQ(f, 7);
    CHECK_INT_EQ(l, 7);
    CHECK_INT_EQ(cr(&f, &l, "bytes=7-7"), -1);
    CHECK_INT_EQ(cr(&f, &l, " 3-4 "), 0);
    CHECK_INT_EQ(cr(&f, &l, "0-18446744073709551615"), 0);
    CHECK_INT_EQ(l == UINT64_MAX, 1);

    CHECK_INT_EQ(cr(&f, &l, "5-2"), -1);
    CHECK_INT_EQ(f, 0);
    CHECK_INT_EQ(l, 0);
    CHECK_INT_EQ(cr(&f, &l, "-5"), -1);
    CHECK_INT_EQ(cr(&f, &l, "5-"), -1);
    CHECK_INT_EQ(cr(&f, &l, "-"), -1);
    CHECK_INT_EQ(cr(&f, &l, ""), -1);
    CHECK_INT_EQ(cr(&f, &l, "5"), -1);
    CHECK_INT_EQ(cr(&f, &l, "a-b"), -1);
    CHECK_INT_EQ(cr(&f, &l, "0-1,2-3"), -1);
    CHECK_INT_EQ(cr(&f, &l, "+0-1"), -1);
    CHECK_INT_EQ(cr(&f, &l, "0-18446744073709551616"), -1);
    CHECK_INT_EQ(cr(&f, &l, "bytes */1000"), -1);
    CHECK_INT_EQ(cr(&f, &l, "items 0-1"), -1);
    CHECK_INT_EQ(f, 0);
    CHECK_INT_EQ(l, 0);
}

int main(void)
{
    TEST_RUN(test_range_satisfiable);
    TEST_RUN(test_range_unsatisfiable);
    TEST_RUN(test_range_whole);
    TEST_RUN(test_content_range);
    return test_summary();
}
