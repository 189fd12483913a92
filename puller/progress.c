/* progress.c - bars, plain lines or JSON events for `berth pull`.
 *
 * Invariants:
 *   1. Every field of struct progress and its items is touched only with p->mu held.
 *   2. Each output line (or, in tty mode, each whole redraw) goes out with one write(2), so
 *      lines never interleave with other writers of the same fd at line granularity.
 *   3. tty mode: p->drawn is the number of lines the last redraw left below the cursor's start;
 *      a redraw moves up that many lines first, so the bars stay in place.
 *   4. tty mode: a redraw never scrolls the terminal: it draws at most rows - 1 lines (the
 *      cursor keeps the last row), each cut to cols - 1 characters so none wraps. When the blobs
 *      do not fit, the active ones are drawn (as many as fit) and one summary line counts the
 *      rest by state; the terminal size is read at every redraw, so a resize is followed.
 *   4. Nothing here ever sees a credential: ids are digests, messages come from struct berr. */
#include "puller/progress.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/mem.h"
#include "common/util.h"

#define REDRAW_MS 100
#define JSON_EVERY_MS 250
#define PLAIN_EVERY_MS 5000
#define BAR_WIDTH 30
#define LINE_MAX_BYTES 256
#define MAX_ITEMS 4096

enum item_state { ITEM_WAITING, ITEM_ACTIVE, ITEM_DONE, ITEM_FAILED };

struct item {
    char id[80];
    char kind[12];
    uint64_t total;
    uint64_t cur;
    uint64_t at_begin; /* bytes present when the download began (resume) */
    int64_t begin_ms;
    int64_t end_ms;
    int64_t last_emit_ms;
    enum item_state state;
    bool reused;
};

struct progress {
    pthread_mutex_t mu;
    enum progress_mode mode;
    int fd;
    struct item *items;
    size_t n, cap;
    size_t drawn;
    unsigned short rows, cols; /* forced terminal size (tests); 0: ask the fd */
    int64_t start_ms;
    int64_t last_draw_ms;
};

/* ---- pure formatting ------------------------------------------------------------------- */

void progress_fmt_bytes(char *out, size_t cap, uint64_t n)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    size_t u = 0;

    if (n < 1024) {
        (void)snprintf(out, cap, "%llu B", (unsigned long long)n); /* cut is fine: display */
        return;
    }
    v /= 1024.0;
    while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024.0;
        u++;
    }
    (void)snprintf(out, cap, v < 10.0 && u >= 2 ? "%.2f %s" : "%.1f %s", v, units[u]);
}

void progress_fmt_eta(char *out, size_t cap, int64_t s)
{
    if (s < 0)
        (void)snprintf(out, cap, "--");
    else if (s < 60)
        (void)snprintf(out, cap, "%llds", (long long)s);
    else if (s < 3600)
        (void)snprintf(out, cap, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
    else
        (void)snprintf(out, cap, "%lldh%02lldm", (long long)(s / 3600),
                       (long long)((s % 3600) / 60));
}

void progress_fmt_bar(char *out, size_t cap, size_t width, uint64_t cur, uint64_t total)
{
    size_t fill = 0, i, n = 0;

    if (cap < width + 3) {
        if (cap > 0)
            out[0] = '\0';
        return;
    }
    if (total > 0)
        fill = cur >= total ? width : (size_t)((double)cur / (double)total * (double)width);
    out[n++] = '[';
    for (i = 0; i < width; i++) {
        if (i < fill)
            out[n++] = '=';
        else if (i == fill && total > 0 && cur < total)
            out[n++] = '>';
        else
            out[n++] = ' ';
    }
    out[n++] = ']';
    out[n] = '\0';
}

void progress_fmt_line(char *out, size_t cap, const char *label, uint64_t cur, uint64_t total,
                       double rate, size_t bar_width)
{
    char bar[128], c[32], t[32], r[32], eta[32];
    int64_t secs = -1;

    progress_fmt_bar(bar, sizeof(bar), bar_width < 100 ? bar_width : 100, cur, total);
    progress_fmt_bytes(c, sizeof(c), cur);
    progress_fmt_bytes(t, sizeof(t), total);
    if (rate > 0.0) {
        progress_fmt_bytes(r, sizeof(r), (uint64_t)rate);
        if (total >= cur)
            secs = (int64_t)((double)(total - cur) / rate + 0.999);
    } else {
        (void)snprintf(r, sizeof(r), "--");
    }
    progress_fmt_eta(eta, sizeof(eta), cur >= total ? 0 : secs);
    (void)snprintf(out, cap, "%-12.12s %s %10s/%-10s %10s/s ETA %s", label, bar, c, t, r, eta);
}

/* ---- state ----------------------------------------------------------------------------- */

int progress_new(struct progress **out, enum progress_mode mode, int fd)
{
    struct progress *p = mem_calloc(1, sizeof(*p));

    *out = NULL;
    if (p == NULL)
        return -1;
    (void)pthread_mutex_init(&p->mu, NULL); /* default attributes: cannot fail on Linux */
    p->mode = mode;
    p->fd = fd;
    p->start_ms = now_ms_mono();
    *out = p;
    return 0;
}

void progress_free(struct progress *p)
{
    if (p == NULL)
        return;
    (void)pthread_mutex_destroy(&p->mu);
    mem_free(p->items);
    mem_free(p);
}

static void write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, s, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* progress output is best effort: a closed stderr must not stop a pull */
        s += w;
        len -= (size_t)w;
    }
}

static void emit_line(struct progress *p, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void emit_line(struct progress *p, const char *fmt, ...)
{
    char line[LINE_MAX_BYTES + 2];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line) - 1)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    write_all(p->fd, line, (size_t)n);
}

/* emit_json writes obj as one line and drops the reference */
static void emit_json(struct progress *p, json_t *obj)
{
    char *s;

    if (obj == NULL)
        return;
    s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (s == NULL)
        return;
    write_all(p->fd, s, strlen(s));
    write_all(p->fd, "\n", 1);
    mem_free(s);
}

static double item_rate(const struct item *it, int64_t now)
{
    int64_t end = it->state == ITEM_ACTIVE ? now : it->end_ms;
    int64_t ms = end - it->begin_ms;

    if (it->begin_ms == 0 || ms <= 0 || it->cur <= it->at_begin)
        return -1.0;
    return (double)(it->cur - it->at_begin) * 1000.0 / (double)ms;
}

static void short_id(char *out, size_t cap, const char *id)
{
    const char *colon = strchr(id, ':');

    (void)snprintf(out, cap, "%.12s", colon != NULL ? colon + 1 : id);
}

/* term_size: the terminal's rows and columns (forced ones first), 24x80 when unknown */
static void term_size(const struct progress *p, size_t *rows, size_t *cols)
{
    struct winsize ws;

    *rows = 24;
    *cols = 80;
    if (p->rows > 0 && p->cols > 0) {
        *rows = p->rows;
        *cols = p->cols;
        return;
    }
    if (ioctl(p->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
        *rows = ws.ws_row;
        *cols = ws.ws_col;
    }
}

/* item_line formats the one-line view of an item */
static void item_line(char *line, size_t cap, const struct item *it, int64_t now)
{
    char label[16];

    short_id(label, sizeof(label), it->id);
    if (it->state == ITEM_DONE) {
        char sz[32];
        progress_fmt_bytes(sz, sizeof(sz), it->total);
        (void)snprintf(line, cap, "%-12.12s %-8s %s %s", label, it->kind,
                       it->reused ? "exists " : "done   ", sz);
    } else if (it->state == ITEM_FAILED) {
        (void)snprintf(line, cap, "%-12.12s %-8s failed", label, it->kind);
    } else if (it->state == ITEM_WAITING) {
        (void)snprintf(line, cap, "%-12.12s %-8s waiting", label, it->kind);
    } else {
        progress_fmt_line(line, cap, label, it->cur, it->total, item_rate(it, now), BAR_WIDTH);
    }
}

/* put_line appends one cleared line, cut to width characters (all output is ASCII) */
static int put_line(struct buf *b, const char *line, size_t width)
{
    return buf_printf(b, "\r\033[K%.*s\n", (int)(width < LINE_MAX_BYTES ? width : LINE_MAX_BYTES),
                      line);
}

/* redraw repaints the bars plus the total line within the terminal (invariant 4); caller holds
 * p->mu */
static void redraw(struct progress *p, bool force)
{
    struct buf b;
    char line[LINE_MAX_BYTES];
    int64_t now = now_ms_mono();
    uint64_t cur = 0, total = 0, fresh = 0;
    size_t rows, cols, width, room, lines = 0, shown = 0;
    size_t nstate[4] = {0, 0, 0, 0};
    bool all;
    double rate;

    if (!force && now - p->last_draw_ms < REDRAW_MS)
        return;
    p->last_draw_ms = now;
    term_size(p, &rows, &cols);
    width = cols > 1 ? cols - 1 : 1;
    /* lines for items: rows less the total line and the cursor's row */
    room = rows > 2 ? rows - 2 : 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct item *it = &p->items[i];
        cur += it->cur;
        total += it->total;
        if (it->state != ITEM_WAITING && !it->reused)
            fresh += it->cur - it->at_begin;
        nstate[it->state]++;
    }
    all = p->n <= room;
    buf_init(&b, (p->n + 3) * (LINE_MAX_BYTES + 16) + 32);
    if (p->drawn > 0 && buf_printf(&b, "\033[%zuA", p->drawn) < 0)
        goto out;
    /* not all fit: active items only, one line kept for the summary */
    for (size_t i = 0; i < p->n; i++) {
        const struct item *it = &p->items[i];
        if (!all && (it->state != ITEM_ACTIVE || shown + 1 >= room))
            continue;
        item_line(line, sizeof(line), it, now);
        if (put_line(&b, line, width) < 0)
            goto out;
        shown++;
        lines++;
    }
    if (!all && room > 0) {
        /* short enough for an 80-column terminal; the counts cover every blob */
        (void)snprintf(line, sizeof(line),
                       "%s%zu blobs: %zu active %zu waiting %zu done %zu failed",
                       shown > 0 ? "+ " : "", p->n, nstate[ITEM_ACTIVE], nstate[ITEM_WAITING],
                       nstate[ITEM_DONE], nstate[ITEM_FAILED]);
        if (put_line(&b, line, width) < 0)
            goto out;
        lines++;
    }
    rate = now > p->start_ms ? (double)fresh * 1000.0 / (double)(now - p->start_ms) : -1.0;
    progress_fmt_line(line, sizeof(line), "total", cur, total, fresh > 0 ? rate : -1.0, BAR_WIDTH);
    /* a redraw may be shorter than the last one: clear what is left of that below */
    if (put_line(&b, line, width) < 0 || buf_appends(&b, "\033[J") < 0)
        goto out;
    lines++;
    write_all(p->fd, b.data, b.len);
    p->drawn = lines;
out:
    buf_cleanup(&b);
}

void progress_set_term_size(struct progress *p, unsigned short rows, unsigned short cols)
{
    (void)pthread_mutex_lock(&p->mu);
    p->rows = rows;
    p->cols = cols;
    (void)pthread_mutex_unlock(&p->mu);
}

int progress_add(struct progress *p, size_t *idx, const char *id, const char *kind, uint64_t total)
{
    struct item *it;
    int rc = -1;

    (void)pthread_mutex_lock(&p->mu);
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        struct item *v;
        if (cap > MAX_ITEMS)
            goto out;
        v = mem_realloc(p->items, cap * sizeof(*v));
        if (v == NULL)
            goto out;
        p->items = v;
        p->cap = cap;
    }
    it = &p->items[p->n];
    memset(it, 0, sizeof(*it));
    (void)snprintf(it->id, sizeof(it->id), "%s", id); /* digests fit; display only */
    (void)snprintf(it->kind, sizeof(it->kind), "%s", kind);
    it->total = total;
    *idx = p->n++;
    rc = 0;
out:
    (void)pthread_mutex_unlock(&p->mu);
    return rc;
}

void progress_begin(struct progress *p, size_t idx, uint64_t already)
{
    struct item *it;
    char sz[32], have[32];

    (void)pthread_mutex_lock(&p->mu);
    if (idx >= p->n)
        goto out;
    it = &p->items[idx];
    it->state = ITEM_ACTIVE;
    it->cur = already;
    it->at_begin = already;
    it->begin_ms = now_ms_mono();
    switch (p->mode) {
    case PROGRESS_PLAIN:
        progress_fmt_bytes(sz, sizeof(sz), it->total);
        progress_fmt_bytes(have, sizeof(have), already);
        if (already > 0)
            emit_line(p, "pulling %s %s %s (resuming at %s)", it->kind, it->id, sz, have);
        else
            emit_line(p, "pulling %s %s %s", it->kind, it->id, sz);
        break;
    case PROGRESS_JSON:
        emit_json(p, json_pack("{s:s,s:s,s:s,s:I,s:I}", "event", "start", "id", it->id, "kind",
                               it->kind, "total", (json_int_t)it->total, "offset",
                               (json_int_t)already));
        break;
    case PROGRESS_TTY:
        redraw(p, false);
        break;
    case PROGRESS_QUIET:
        break;
    }
out:
    (void)pthread_mutex_unlock(&p->mu);
}

void progress_advance(struct progress *p, size_t idx, uint64_t n)
{
    struct item *it;
    int64_t now;

    (void)pthread_mutex_lock(&p->mu);
    if (idx >= p->n)
        goto out;
    it = &p->items[idx];
    it->cur += n;
    now = now_ms_mono();
    switch (p->mode) {
    case PROGRESS_JSON:
        if (now - it->last_emit_ms >= JSON_EVERY_MS) {
            it->last_emit_ms = now;
            emit_json(p, json_pack("{s:s,s:s,s:I,s:I}", "event", "progress", "id", it->id,
                                   "current", (json_int_t)it->cur, "total", (json_int_t)it->total));
        }
        break;
    case PROGRESS_PLAIN:
        if (it->last_emit_ms == 0)
            it->last_emit_ms = now;
        if (now - it->last_emit_ms >= PLAIN_EVERY_MS) {
            char c[32], t[32];
            it->last_emit_ms = now;
            progress_fmt_bytes(c, sizeof(c), it->cur);
            progress_fmt_bytes(t, sizeof(t), it->total);
            emit_line(p, "  %s %s of %s", it->id, c, t);
        }
        break;
    case PROGRESS_TTY:
        redraw(p, false);
        break;
    case PROGRESS_QUIET:
        break;
    }
out:
    (void)pthread_mutex_unlock(&p->mu);
}

void progress_done(struct progress *p, size_t idx, bool reused)
{
    struct item *it;
    char sz[32], rate[32];
    double r;

    (void)pthread_mutex_lock(&p->mu);
    if (idx >= p->n)
        goto out;
    it = &p->items[idx];
    it->state = ITEM_DONE;
    it->reused = reused;
    it->cur = it->total;
    it->end_ms = now_ms_mono();
    switch (p->mode) {
    case PROGRESS_PLAIN:
        progress_fmt_bytes(sz, sizeof(sz), it->total);
        r = item_rate(it, it->end_ms);
        progress_fmt_bytes(rate, sizeof(rate), r > 0 ? (uint64_t)r : 0);
        if (reused)
            emit_line(p, "exists  %s %s %s", it->kind, it->id, sz);
        else
            emit_line(p, "done    %s %s %s (%s/s)", it->kind, it->id, sz, rate);
        break;
    case PROGRESS_JSON:
        emit_json(p, json_pack("{s:s,s:s,s:s,s:I,s:b}", "event", "done", "id", it->id, "kind",
                               it->kind, "size", (json_int_t)it->total, "reused", reused));
        break;
    case PROGRESS_TTY:
        redraw(p, false);
        break;
    case PROGRESS_QUIET:
        break;
    }
out:
    (void)pthread_mutex_unlock(&p->mu);
}

void progress_fail(struct progress *p, size_t idx, const char *msg)
{
    (void)pthread_mutex_lock(&p->mu);
    if (idx < p->n) {
        struct item *it = &p->items[idx];
        it->state = ITEM_FAILED;
        it->end_ms = now_ms_mono();
        if (p->mode == PROGRESS_PLAIN)
            emit_line(p, "failed  %s %s: %s", it->kind, it->id, msg);
        else if (p->mode == PROGRESS_JSON)
            emit_json(p,
                      json_pack("{s:s,s:s,s:s}", "event", "error", "id", it->id, "message", msg));
        else if (p->mode == PROGRESS_TTY)
            redraw(p, true);
    }
    (void)pthread_mutex_unlock(&p->mu);
}

void progress_note(struct progress *p, const char *fmt, ...)
{
    char line[LINE_MAX_BYTES];
    va_list ap;

    if (p->mode != PROGRESS_PLAIN && p->mode != PROGRESS_TTY)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof(line), fmt, ap); /* a cut note is still a note */
    va_end(ap);
    (void)pthread_mutex_lock(&p->mu);
    if (p->mode == PROGRESS_TTY && p->drawn > 0) {
        /* a note goes above the bars: clear them, print, and draw them again below */
        char up[32];
        int n = snprintf(up, sizeof(up), "\033[%zuA\033[J", p->drawn);
        if (n > 0 && (size_t)n < sizeof(up))
            write_all(p->fd, up, (size_t)n);
        p->drawn = 0;
        emit_line(p, "%s", line);
        redraw(p, true);
    } else {
        emit_line(p, "%s", line);
    }
    (void)pthread_mutex_unlock(&p->mu);
}

void progress_event(struct progress *p, const char *event, ...)
{
    json_t *obj;
    va_list ap;
    const char *k;

    if (p->mode != PROGRESS_JSON)
        return;
    obj = json_object();
    if (obj == NULL || json_object_set_new(obj, "event", json_string(event)) < 0) {
        json_decref(obj);
        return;
    }
    va_start(ap, event);
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        if (json_object_set_new(obj, k, json_string(v != NULL ? v : "")) < 0)
            break;
    }
    va_end(ap);
    (void)pthread_mutex_lock(&p->mu);
    emit_json(p, obj);
    (void)pthread_mutex_unlock(&p->mu);
}

void progress_finish(struct progress *p, bool ok)
{
    uint64_t total = 0, fresh = 0;
    size_t reused = 0;
    char a[32], b[32];
    int64_t ms;

    (void)pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->n; i++) {
        total += p->items[i].total;
        if (p->items[i].reused)
            reused++;
        else if (p->items[i].state != ITEM_WAITING)
            fresh += p->items[i].cur - p->items[i].at_begin;
    }
    ms = now_ms_mono() - p->start_ms;
    progress_fmt_bytes(a, sizeof(a), fresh);
    progress_fmt_bytes(b, sizeof(b), total);
    if (p->mode == PROGRESS_TTY) {
        if (p->n > 0)
            redraw(p, true);
        emit_line(p, "%s: %zu blobs (%s), %s downloaded, %zu reused, %lld.%01llds",
                  ok ? "complete" : "failed", p->n, b, a, reused, (long long)(ms / 1000),
                  (long long)(ms % 1000 / 100));
    } else if (p->mode == PROGRESS_PLAIN) {
        emit_line(p, "%s: %zu blobs (%s), %s downloaded, %zu reused, %lld.%01llds",
                  ok ? "complete" : "failed", p->n, b, a, reused, (long long)(ms / 1000),
                  (long long)(ms % 1000 / 100));
    }
    (void)pthread_mutex_unlock(&p->mu);
}
