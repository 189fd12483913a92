/* link.c - the one builder of paging Link headers (http/link.h).
 *
 * Invariants:
 *   1. Every parameter value goes out percent-encoded: only A-Z a-z 0-9 - . _ ~ stay as they are,
 *      so a value can never close the <...> or start a new parameter.
 *   2. Link-values are separated by " , ", the first one has no separator.
 * Pure functions on the caller's buffer; thread-safe. */
#include "http/link.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

static int pct_append(struct buf *b, const char *s)
{
    static const char hexd[] = "0123456789ABCDEF";
    char esc[3];

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        if (plain) {
            if (buf_append(b, s, 1) < 0)
                return -1;
            continue;
        }
        esc[0] = '%';
        esc[1] = hexd[c >> 4];
        esc[2] = hexd[c & 15];
        if (buf_append(b, esc, 3) < 0)
            return -1;
    }
    return 0;
}

int http_link_add(struct buf *b, const char *path, const char *rel,
                  const struct http_link_param *params, size_t n)
{
    char sep = '?';

    if (b->len > 0 && buf_appends(b, " , ") < 0)
        return -1;
    if (buf_appends(b, "<") < 0 || buf_appends(b, path) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (params[i].value == NULL)
            continue;
        if (buf_append(b, &sep, 1) < 0 || buf_appends(b, params[i].name) < 0 ||
            buf_appends(b, "=") < 0 || pct_append(b, params[i].value) < 0)
            return -1;
        sep = '&';
    }
    return buf_printf(b, ">; rel=\"%s\"", rel) < 0 ? -1 : 0;
}

/* page_link appends the link to page (with page_size and extra). */
static int page_link(struct buf *b, const char *path, const char *rel, int64_t page,
                     int64_t page_size, const struct http_link_param *extra, size_t n_extra)
{
    struct http_link_param ps[16];
    char pg[24], sz[24];

    if (n_extra > sizeof(ps) / sizeof(ps[0]) - 2)
        return -1;
    (void)snprintf(pg, sizeof(pg), "%" PRId64, page);      /* 24 bytes hold any int64 */
    (void)snprintf(sz, sizeof(sz), "%" PRId64, page_size); /* same */
    ps[0] = (struct http_link_param){"page", pg};
    ps[1] = (struct http_link_param){"page_size", sz};
    for (size_t i = 0; i < n_extra; i++)
        ps[i + 2] = extra[i];
    return http_link_add(b, path, rel, ps, n_extra + 2);
}

int http_link_pages(struct buf *b, const char *path, int64_t page, int64_t page_size, int64_t total,
                    const struct http_link_param *extra, size_t n_extra)
{
    if (page > 1 && page_link(b, path, "prev", page - 1, page_size, extra, n_extra) < 0)
        return -1;
    if (page >= 1 && page_size > 0 && page <= INT64_MAX / page_size && page * page_size < total &&
        page_link(b, path, "next", page + 1, page_size, extra, n_extra) < 0)
        return -1;
    return 0;
}
