/* etag.c - the one If-None-Match matcher (RFC 9110 13.1.2) and entity-tag formatting.
 *
 * If-None-Match = "*" / #entity-tag; entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE. The list is
 * walked once, left to right, without copying:
 *   1. "*" alone matches (the caller only asks for a representation that exists).
 *   2. Comparison is weak: W/ is dropped from both sides, then the opaque tags (quotes
 *      excluded) must be equal byte for byte.
 *   3. A quoted tag runs to the next DQUOTE, commas included; an unquoted member (not RFC, sent
 *      by some clients) runs to the next comma, surrounding blanks trimmed.
 * Pure functions; thread-safe. */
#include "http/etag.h"

#include <stdio.h>
#include <string.h>

/* opaque_of: the opaque part of an entity tag (W/ and quotes removed, when present). */
static void opaque_of(const char *tag, size_t len, const char **out, size_t *out_len)
{
    if (len >= 2 && tag[0] == 'W' && tag[1] == '/') {
        tag += 2;
        len -= 2;
    }
    if (len >= 2 && tag[0] == '"' && tag[len - 1] == '"') {
        tag++;
        len -= 2;
    }
    *out = tag;
    *out_len = len;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

bool http_etag_match(const char *inm, const char *etag)
{
    const char *want, *p = inm;
    size_t want_len;

    if (inm == NULL || etag == NULL)
        return false;
    opaque_of(etag, strlen(etag), &want, &want_len);
    while (*p != '\0') {
        const char *s, *e;

        while (is_blank(*p) || *p == ',')
            p++;
        if (*p == '\0')
            break;
        if (*p == '*') {
            const char *q = p + 1;
            while (is_blank(*q))
                q++;
            if (*q == '\0' || *q == ',')
                return true;
        }
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p == '"') {
            s = ++p;
            e = strchr(s, '"');
            if (e == NULL)
                return false; /* unterminated: nothing after it can be trusted */
            p = e + 1;
        } else {
            s = p;
            while (*p != '\0' && *p != ',')
                p++;
            e = p;
            while (e > s && is_blank(e[-1]))
                e--;
        }
        if ((size_t)(e - s) == want_len && memcmp(s, want, want_len) == 0)
            return true;
        while (is_blank(*p))
            p++;
        if (*p != '\0' && *p != ',')
            return false; /* junk after a tag */
    }
    return false;
}

int http_etag_quote(char *out, size_t cap, const char *opaque)
{
    int n = snprintf(out, cap, "\"%s\"", opaque);

    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return -1;
    }
    return 0;
}
