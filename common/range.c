/* range.c - Range and Content-Range parsing.
 *
 * Numbers go through parse_u64 (no sign, no overflow, no whitespace inside). Whitespace is allowed
 * only around the whole value. No shared state. */
#include "common/range.h"

#include <string.h>

#include "common/parse.h"

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

/* split "A-B" at the dash; either side may be empty */
static int split_dash(const char *s, size_t len, const char **a, size_t *alen, const char **b,
                      size_t *blen)
{
    const char *dash = memchr(s, '-', len);

    if (dash == NULL)
        return -1;
    *a = s;
    *alen = (size_t)(dash - s);
    *b = dash + 1;
    *blen = len - *alen - 1;
    return 0;
}

int range_parse_bytes(uint64_t *first, uint64_t *last, const char *hdr, uint64_t size)
{
    const char *s = hdr, *a, *b;
    size_t len = strlen(hdr), alen, blen;
    uint64_t va, vb;

    *first = *last = 0;
    trim(&s, &len);
    if (len < 6 || strncmp(s, "bytes=", 6) != 0)
        return 1;
    s += 6;
    len -= 6;
    trim(&s, &len);
    if (memchr(s, ',', len) != NULL)
        return 1;
    if (split_dash(s, len, &a, &alen, &b, &blen) < 0)
        return 1;
    if (alen == 0) {
        /* suffix range: the last N bytes */
        if (parse_u64(&vb, b, blen) < 0)
            return 1;
        if (vb == 0 || size == 0)
            return -1;
        *first = vb >= size ? 0 : size - vb;
        *last = size - 1;
        return 0;
    }
    if (parse_u64(&va, a, alen) < 0)
        return 1;
    if (blen == 0) {
        vb = size == 0 ? 0 : size - 1;
    } else {
        if (parse_u64(&vb, b, blen) < 0)
            return 1;
        if (vb < va)
            return 1; /* RFC 9110: an invalid range-spec is ignored */
    }
    if (va >= size)
        return -1;
    if (vb >= size)
        vb = size - 1;
    *first = va;
    *last = vb;
    return 0;
}

int content_range_parse(uint64_t *first, uint64_t *last, const char *hdr)
{
    const char *s = hdr, *a, *b, *slash;
    size_t len = strlen(hdr), alen, blen;
    uint64_t va, vb;

    *first = *last = 0;
    trim(&s, &len);
    if (len >= 6 && strncmp(s, "bytes ", 6) == 0) {
        s += 6;
        len -= 6;
        trim(&s, &len);
    }
    slash = memchr(s, '/', len);
    if (slash != NULL)
        len = (size_t)(slash - s);
    if (split_dash(s, len, &a, &alen, &b, &blen) < 0)
        return -1;
    if (parse_u64(&va, a, alen) < 0 || parse_u64(&vb, b, blen) < 0 || vb < va)
        return -1;
    *first = va;
    *last = vb;
    return 0;
}
