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

/* check_redraws splits tty output at its cursor-up sequences (one per redraw after the first)
 * and checks that no redraw has more than max_lines lines or a line wider than max_cols. The
 * closing "complete: ..." line is printed once, below the last redraw, and is not counted. */
static void check_redraws(const char *out, size_t max_lines, size_t max_cols, size_t *nredraws)
{
    const char *p = out, *end = strstr(out, "complete: ");
    size_t lines = 0, col = 0;

    if (end == NULL)
        end = out + strlen(out);
    *nredraws = 1;
    while (p < end) {
        if (p[0] == '\033' && p[1] == '[') {
            const char *q = p + 2;
            while (*q >= '0' && *q <= '9')
                q++;
            if (*q == 'A') {
                CHECK(lines <= max_lines);
                (*nredraws)++;
                lines = 0;
            }
            p = q + 1;
            continue;
        }
        if (*p == '\n') {
            lines++;
            CHECK(col <= max_cols);
            col = 0;
        } else if (*p != '\r') {
            col++;
        }
        p++;
    }
    CHECK(lines <= max_lines);
}

/* tty_run: 50 layers on a rows x cols terminal, 3 active, then all done; output into buf */
static void tty_run(char *buf, size_t cap, unsigned short rows, unsigned short cols)
{
    char path[] = "/tmp/progress_test.XXXXXX";
    struct progress *p = NULL;
    size_t idx[50];
    ssize_t n;
    int fd = mkstemp(path);

    buf[0] = '\0';
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK_INT_EQ(progress_new(&p, PROGRESS_TTY, fd), 0);
    progress_set_term_size(p, rows, cols);
    for (size_t i = 0; i < 50; i++) {
        char id[80];
        (void)snprintf(id, sizeof(id), "sha256:%064zu", i);
        CHECK_INT_EQ(progress_add(p, &idx[i], id, "layer", 1000), 0);
    }
    progress_begin(p, idx[0], 0); /* the first redraw is not throttled */
    progress_begin(p, idx[1], 0);
    progress_begin(p, idx[2], 500);
    progress_advance(p, idx[0], 100);
    progress_fail(p, idx[49], "x"); /* forces a redraw with 3 active */
    for (size_t i = 0; i < 49; i++)
        progress_done(p, idx[i], i % 2 == 0);
    progress_finish(p, true);
    progress_free(p);
    n = pread(fd, buf, cap - 1, 0);
    CHECK(n > 0);
    buf[n > 0 ? n : 0] = '\0';
    (void)close(fd);
    (void)unlink(path);
}

static void test_tty_many_layers(void)
{
    static char buf[256 * 1024];
    size_t redraws = 0;

    /* a 10-row, 60-column terminal: 9 lines at most per redraw, 59 columns per line */
    tty_run(buf, sizeof(buf), 10, 60);
    check_redraws(buf, 9, 59, &redraws);
    CHECK(redraws >= 2);
    CHECK(strstr(buf, "+ 50 blobs: 3 active 46 waiting 0 done 1 failed") != NULL);
    CHECK(strstr(buf, "\r\033[K50 blobs: 0 active 0 waiting 49 done 1 failed\n") != NULL);
    CHECK(strstr(buf, "waiting\n") == NULL); /* waiting blobs are summed up, not listed */
    CHECK(strstr(buf, "\r\033[Ktotal ") != NULL);
    CHECK(strstr(buf, "complete: 50 blobs") != NULL);

    /* 3 rows: no room for blob lines, only the total */
    tty_run(buf, sizeof(buf), 3, 200);
    check_redraws(buf, 2, 199, &redraws);
    CHECK(strstr(buf, "\r\033[Ktotal ") != NULL);

    /* a tall terminal: every blob gets its line (50 + total) */
    tty_run(buf, sizeof(buf), 100, 200);
    check_redraws(buf, 51, 199, &redraws);
    CHECK(strstr(buf, "blobs: ") == NULL);
    CHECK(strstr(buf, "waiting\n") != NULL);
    CHECK(strstr(buf, "\033[51A") != NULL);
}

int main(void)
{
    TEST_RUN(test_bytes);
    TEST_RUN(test_eta);
    TEST_RUN(test_bar);
    TEST_RUN(test_line);
    TEST_RUN(test_json_and_plain);
    TEST_RUN(test_tty_many_layers);
    return test_summary();
}
