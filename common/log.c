/* log.c - timestamped lines on stderr.
 *
 * Each line is formatted into a local buffer and written with one write(2), so lines from worker
 * threads never interleave. The level is set once before threads start and only read after. */
#include "common/log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void log_set_level(enum log_level level)
{
    min_level = level;
}

int log_level_parse(enum log_level *out, const char *s)
{
    for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = LOG_WARN;
        return 0;
    }
    return -1;
}

static void log_vline(enum log_level level, int errnum, const char *fmt, va_list ap)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    size_t len;
    int n;

    if (level < min_level)
        return;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    (void)gmtime_r(&ts.tv_sec, &tm);
    len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    n = snprintf(line + len, sizeof(line) - len, ".%03ldZ %-5s ", ts.tv_nsec / 1000000L,
                 level_names[level]);
    if (n > 0)
        len += (size_t)n;
    n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
    if (n > 0)
        len += (size_t)n;
    if (len >= sizeof(line) - 1)
        len = sizeof(line) - 2; /* the line was cut; keep the newline */
    if (errnum != 0) {
        n = snprintf(line + len, sizeof(line) - len, ": %s", strerror(errnum));
        if (n > 0)
            len += (size_t)n;
        if (len >= sizeof(line) - 1)
            len = sizeof(line) - 2;
    }
    line[len++] = '\n';
    /* a log line that cannot be written has nowhere else to go */
    (void)!write(STDERR_FILENO, line, len);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    int saved = errno;

    va_start(ap, fmt);
    log_vline(level, 0, fmt, ap);
    va_end(ap);
    errno = saved;
}

void log_errno(enum log_level level, int errnum, const char *fmt, ...)
{
    va_list ap;
    int saved = errno;

    va_start(ap, fmt);
    log_vline(level, errnum, fmt, ap);
    va_end(ap);
    errno = saved;
}

/* escape_n writes at most n bytes of s; true when all of them fitted */
static bool escape_n(char *out, size_t cap, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (size_t i = 0; i < n && s[i] != '\0'; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f || ch == '\\' || ch == '"') {
            if (o + 4 >= cap) {
                out[o] = '\0';
                return false;
            }
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        } else {
            if (o + 1 >= cap) {
                out[o] = '\0';
                return false;
            }
            out[o++] = (char)ch;
        }
    }
    out[o] = '\0';
    return true;
}

const char *log_escape(char *out, size_t cap, const char *s)
{
    (void)escape_n(out, cap, s != NULL ? s : "", (size_t)-1);
    return out;
}

const char *log_escape_prefix(char *out, size_t cap, const char *s, size_t max)
{
    size_t len;

    if (s == NULL)
        s = "";
    len = strlen(s);
    if (escape_n(out, cap, s, max) && len > max) {
        size_t o = strlen(out);
        if (o + 3 < cap)
            memcpy(out + o, "...", 4);
    }
    return out;
}
