/* progress_test.c - progress formatting (bytes, ETA, bar, line) and the JSON/plain output. */
#include "puller/progress.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/test.h"

static void test_bytes(void)
{
    char s[32];

    progress_fmt_bytes(s, sizeof(s), 0);
    CHECK_STR_EQ(s, "0 B");
    progress_fmt_bytes(s, sizeof(s), 1023);
    CHECK_STR_EQ(s, "1023 B");
    progress_fmt_bytes(s, sizeof(s), 1536);
    CHECK_STR_EQ(s, "1.5 KiB");
    progress_fmt_bytes(s, sizeof(s), 12900000);
    CHECK_STR_EQ(s, "12.3 MiB");
    progress_fmt_bytes(s, sizeof(s), 2147483648u);
    CHECK_STR_EQ(s, "2.00 GiB");
    progress_fmt_bytes(s, 4, 2147483648u); /* cut, still terminated */
    CHECK_STR_EQ(s, "2.0");
}

static void test_eta(void)
{
    char s[16];

    progress_fmt_eta(s, sizeof(s), -1);
    CHECK_STR_EQ(s, "--");
    progress_fmt_eta(s, sizeof(s), 42);
    CHECK_STR_EQ(s, "42s");
    progress_fmt_eta(s, sizeof(s), 187);
    CHECK_STR_EQ(s, "3m07s");
    progress_fmt_eta(s, sizeof(s), 7500);
    CHECK_STR_EQ(s, "2h05m");
}

static void test_bar(void)
{
    char s[32];

    progress_fmt_bar(s, sizeof(s), 10, 0, 100);
    CHECK_STR_EQ(s, "[>         ]");
    progress_fmt_bar(s, sizeof(s), 10, 50, 100);
    CHECK_STR_EQ(s, "[=====>    ]");
    progress_fmt_bar(s, sizeof(s), 10, 100, 100);
    CHECK_STR_EQ(s, "[==========]");
    progress_fmt_bar(s, sizeof(s), 10, 200, 100);
    CHECK_STR_EQ(s, "[==========]");
    progress_fmt_bar(s, sizeof(s), 10, 5, 0);
    CHECK_STR_EQ(s, "[          ]");
    progress_fmt_bar(s, 8, 10, 5, 10); /* too small: empty string */
    CHECK_STR_EQ(s, "");
}

static void test_line(void)
{
    char s[256];

    progress_fmt_line(s, sizeof(s), "abc", 1048576, 2097152, 524288.0, 4);
    CHECK_STR_EQ(s, "abc          [==> ]    1.0 MiB/2.0 MiB     512.0 KiB/s ETA 2s");
    progress_fmt_line(s, sizeof(s), "x", 0, 10, -1.0, 4);
    CHECK(strstr(s, "--/s ETA --") != NULL);
    progress_fmt_line(s, sizeof(s), "x", 10, 10, -1.0, 4);
    CHECK(strstr(s, "ETA 0s") != NULL);
}

/* run_json drives a JSON progress into a temp file and returns what it wrote */
static void test_json_and_plain(void)
{
    char path[] = "/tmp/progress_test.XXXXXX";
    char buf[4096];
    struct progress *p = NULL;
    size_t i;
    ssize_t n;
    int fd = mkstemp(path);

    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK_INT_EQ(progress_new(&p, PROGRESS_JSON, fd), 0);
    CHECK_INT_EQ(progress_add(p, &i, "sha256:abc", "layer", 10), 0);
    progress_begin(p, i, 2);
    progress_advance(p, i, 8);
    progress_done(p, i, false);
    progress_fail(p, 7, "ignored: no such item");
    progress_event(p, "pulled", "digest", "sha256:x\"y", (const char *)NULL);
    progress_finish(p, true);
    progress_free(p);
    n = pread(fd, buf, sizeof(buf) - 1, 0);
    CHECK(n > 0);
    buf[n > 0 ? n : 0] = '\0';
    CHECK(strstr(buf, "{\"event\":\"start\",\"id\":\"sha256:abc\",\"kind\":\"layer\",\"total\":10,"
                      "\"offset\":2}\n") != NULL);
    CHECK(strstr(buf, "\"event\":\"progress\"") != NULL);
    CHECK(strstr(buf, "\"event\":\"done\",\"id\":\"sha256:abc\"") != NULL);
    CHECK(strstr(buf, "\"reused\":false") != NULL);
    CHECK(strstr(buf, "\"digest\":\"sha256:x\\\"y\"") != NULL); /* escaped */
    (void)close(fd);
    fd = open(path, O_RDWR | O_TRUNC | O_CLOEXEC);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK_INT_EQ(progress_new(&p, PROGRESS_PLAIN, fd), 0);
    CHECK_INT_EQ(progress_add(p, &i, "sha256:def", "config", 2048), 0);
    progress_begin(p, i, 1024);
    progress_done(p, i, true);
    progress_finish(p, true);
    progress_free(p);
    n = pread(fd, buf, sizeof(buf) - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    CHECK(strstr(buf, "pulling config sha256:def 2.0 KiB (resuming at 1.0 KiB)\n") != NULL);
    CHECK(strstr(buf, "exists  config sha256:def 2.0 KiB\n") != NULL);
    CHECK(strstr(buf, "complete: 1 blobs (2.0 KiB), 0 B downloaded, 1 reused") != NULL);
    (void)close(fd);
    (void)unlink(path);
    progress_free(NULL);
}

int main(void)
{
    TEST_RUN(test_bytes);
    TEST_RUN(test_eta);
    TEST_RUN(test_bar);
    TEST_RUN(test_line);
    TEST_RUN(test_json_and_plain);
    return test_summary();
}
