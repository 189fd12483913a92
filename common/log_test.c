/* log_test.c - log_escape and log_escape_prefix: what a request could smuggle into a log line
 * (CR/LF, other control bytes, quotes, backslashes) comes out as \xHH, and a cut never leaves
 * half an escape. */
#include "common/log.h"

#include <string.h>

#include "common/test.h"

static void test_escape(void)
{
    char out[64];

    CHECK_STR_EQ(log_escape(out, sizeof(out), "lib/app"), "lib/app");
    CHECK_STR_EQ(log_escape(out, sizeof(out), "a\r\nINFO forged"), "a\\x0d\\x0aINFO forged");
    CHECK_STR_EQ(log_escape(out, sizeof(out), "q\"b\\s\x7f\x01"), "q\\x22b\\x5cs\\x7f\\x01");
    CHECK_STR_EQ(log_escape(out, sizeof(out), "caf\xc3\xa9"), "caf\xc3\xa9");
    CHECK_STR_EQ(log_escape(out, sizeof(out), NULL), "");
    /* a cut keeps whole escapes only */
    CHECK_STR_EQ(log_escape(out, 6, "ab\ncd"), "ab");
    CHECK_STR_EQ(log_escape(out, 7, "ab\ncd"), "ab\\x0a");
    CHECK_STR_EQ(log_escape(out, 1, "abc"), "");
    CHECK(strchr(log_escape(out, sizeof(out), "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"), '\n') ==
          NULL);
}

static void test_prefix(void)
{
    char out[64];

    CHECK_STR_EQ(log_escape_prefix(out, sizeof(out), "alice", 8), "alice");
    CHECK_STR_EQ(log_escape_prefix(out, sizeof(out), "MySecretPassw0rd!", 4), "MySe...");
    CHECK_STR_EQ(log_escape_prefix(out, sizeof(out), "a\nbcdef", 3), "a\\x0ab...");
    CHECK_STR_EQ(log_escape_prefix(out, sizeof(out), "abcd", 4), "abcd");
    CHECK_STR_EQ(log_escape_prefix(out, sizeof(out), NULL, 4), "");
}

int main(void)
{
    TEST_RUN(test_escape);
    TEST_RUN(test_prefix);
    return test_summary();
}
