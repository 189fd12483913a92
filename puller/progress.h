/* progress.h - what `berth pull` tells the user while it downloads.
 *
 * Four modes: quiet (nothing), plain (one line per event, for logs and pipes), tty (per-blob and
 * total bars with rate and ETA, redrawn in place at most every 100 ms, never more lines than the
 * terminal has rows: past that, the active blobs and a summary line) and json (one JSON object
 * per line: "start", "progress", "done", "error", for scripts). Items are the blobs being
 * fetched, registered before the downloads start. All calls are thread-safe (one mutex) and
 * write whole lines with one write(2). */
#ifndef BERTH_PULLER_PROGRESS_H
#define BERTH_PULLER_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum progress_mode { PROGRESS_QUIET, PROGRESS_PLAIN, PROGRESS_TTY, PROGRESS_JSON };

struct progress;

/* progress_new: *out is new (progress_free); writes to fd (borrowed; stderr normally). -1 when
 * out of memory. */
int progress_new(struct progress **out, enum progress_mode mode, int fd);
/* progress_free draws nothing; call progress_finish first. NULL is a no-op. */
void progress_free(struct progress *p);

/* progress_add registers an item: id is the digest string, kind "layer", "config", "manifest"
 * or "index"; total its size. *idx receives its handle. -1 when out of memory. */
int progress_add(struct progress *p, size_t *idx, const char *id, const char *kind, uint64_t total);
/* progress_begin: the download of idx starts, `already` bytes were there (resume). */
void progress_begin(struct progress *p, size_t idx, uint64_t already);
void progress_advance(struct progress *p, size_t idx, uint64_t n);
/* progress_done: idx is complete; reused when it was already present and verified. */
void progress_done(struct progress *p, size_t idx, bool reused);
/* progress_fail: idx failed with msg (safe to show). */
void progress_fail(struct progress *p, size_t idx, const char *msg);
/* progress_note prints a free line (plain and tty modes) such as "resolved ... to ...". */
void progress_note(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* progress_event writes one JSON line {"event": event, key: value...} in json mode; pairs are
 * given as NULL-terminated (key, string value) arguments. No-op in other modes. */
void progress_event(struct progress *p, const char *event, ...);
/* progress_set_term_size makes tty mode draw for a terminal of rows x cols instead of asking
 * the fd (TIOCGWINSZ); 0, 0 asks the fd again. For tests. */
void progress_set_term_size(struct progress *p, unsigned short rows, unsigned short cols);
/* progress_finish draws the final state (tty: bars at 100 %, plain: a summary line). */
void progress_finish(struct progress *p, bool ok);

/* Pure formatting, exposed for tests. Each writes a NUL-terminated string, cut to cap. */
/* progress_fmt_bytes: "512 B", "1.5 KiB", "12.3 MiB", "2.00 GiB". */
void progress_fmt_bytes(char *out, size_t cap, uint64_t n);
/* progress_fmt_eta: "--" when unknown (< 0), "42s", "3m07s", "2h05m". */
void progress_fmt_eta(char *out, size_t cap, int64_t seconds);
/* progress_fmt_bar: "[=====>    ]" of width cells between the brackets; total 0 draws empty. */
void progress_fmt_bar(char *out, size_t cap, size_t width, uint64_t cur, uint64_t total);
/* progress_fmt_line: "LABEL [bar] CUR/TOTAL RATE/s ETA Ns"; rate in bytes/s (< 0: unknown). */
void progress_fmt_line(char *out, size_t cap, const char *label, uint64_t cur, uint64_t total,
                       double rate, size_t bar_width);

#endif
