/* log.h - one line per event on stderr.
 *
 * Lines are "TIME LEVEL message". Callers never pass credentials, tokens, cookies or the token
 * endpoint's query string; the request log prints method, path, status, bytes, ms and user. */
#ifndef BERTH_COMMON_LOG_H
#define BERTH_COMMON_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* log_set_level sets the lowest level written; default LOG_INFO. Call before threads start. */
void log_set_level(enum log_level level);
/* log_level_parse maps "debug|info|warn|error" to a level; -1 when unknown. */
int log_level_parse(enum log_level *out, const char *s);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* log_errno appends ": strerror(errnum)". */
void log_errno(enum log_level level, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* log_escape copies s into out[cap] for a log line: control characters, DEL, '\\' and '"' become
 * \xHH, bytes >= 0x80 pass (UTF-8 names stay readable); cut, never split inside an escape, when
 * it does not fit. Everything from a request (paths, user and repository names) is logged
 * through it, so no request can forge or break a log line. cap must be at least 1; returns out. */
const char *log_escape(char *out, size_t cap, const char *s);
/* log_escape_prefix: log_escape of at most the first max bytes of s, with "..." appended when s
 * was longer; for names that must not be logged in full (a refused login may be a password). */
const char *log_escape_prefix(char *out, size_t cap, const char *s, size_t max);

#endif
