/* util.h - small helpers shared by every layer: time, random ids, durable file operations. */
#ifndef BERTH_COMMON_UTIL_H
#define BERTH_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* parse_u64 moved to the parsing toolkit; included until every caller includes it itself */
#include "common/parse.h"

/* now_s: seconds since the epoch (wall clock). now_ms_wall: milliseconds since the epoch (what
 * replicas on several hosts share). now_ms_mono: monotonic milliseconds. */
int64_t now_s(void);
int64_t now_ms_wall(void);
int64_t now_ms_mono(void);
/* time_rfc3339 writes "YYYY-MM-DDTHH:MM:SSZ" (UTC) into out (cap >= 21). */
void time_rfc3339(int64_t t, char *out, size_t cap);

/* rand_hex fills out with 2*nbytes lowercase hex characters from RAND_bytes plus a NUL
 * (cap >= 2*nbytes+1). -1 when OpenSSL's generator fails. */
int rand_hex(char *out, size_t cap, size_t nbytes);
/* rand_bytes: RAND_bytes with its result checked; -1 on failure. */
int rand_fill(void *out, size_t n);

/* mkdir_p creates dir and its parents with mode 0750 (existing ones are fine). */
int mkdir_p(const char *dir);
/* fsync_dir opens dir and fsyncs it, so a rename or unlink inside it survives a crash. */
int fsync_dir(const char *dir);
/* write_file_atomic writes data to path via path.tmp, fsync, rename, fsync of the directory.
 * mode applies to the new file. */
int write_file_atomic(const char *path, const void *data, size_t len, unsigned mode);
/* read_file reads a whole file of at most max bytes; *out is new (mem_free), NUL-terminated.
 * -1 with errno (EFBIG when over max). */
int read_file(char **out, size_t *out_len, const char *path, size_t max);
/* str_has_prefix: s starts with prefix. */
int str_has_prefix(const char *s, const char *prefix);

#endif
