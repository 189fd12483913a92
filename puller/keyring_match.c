/* keyring_match.c - kubelet's key normalization (BasicDockerKeyring.Add), URLsMatchStr and
 * isDefaultRegistryMatch, on top of a re-implementation of the parts of Go's net/url.Parse,
 * net.SplitHostPort and path/filepath.Match that they use.
 *
 * Odd keys behave as in kubelet: a '?' in a key starts a URL query (so "h?st.example.com"
 * normalizes to "h"), a key whose host starts with '[' must be an IPv6 literal, bad %-escapes
 * make a key unparseable (kubelet logs and ignores such entries).
 * Invariants:
 *   1. Keys and targets are only copied into fixed buffers sized from KEY_MAX (keyring_int.h),
 *      every copy checked for truncation: a key longer than KEY_MAX never normalizes (returns
 *      1), and a glob or target too long to parse never matches.
 *   2. keyring_urls_match has no error channel: anything Go would fail to parse, and an
 *      allocation failure, read as "no match". keyring_normalize_key reports the latter as -1.
 * Pure functions of their arguments: safe on any thread; no global state. */
#include "puller/keyring.h"

#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "common/parse.h"
#include "puller/keyring_int.h"

/* ---- a subset of Go's net/url ---------------------------------------------------------- */

struct gurl {
    char host[KEY_MAX + 1]; /* decoded, port kept */
    char path[KEY_MAX + 1]; /* decoded */
};

enum esc_mode { ESC_HOST, ESC_PATH, ESC_USER, ESC_FRAGMENT };

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Go's shouldEscape(c, encodeHost) for ASCII bytes. */
static bool host_byte_ok(unsigned char c)
{
    return is_alnum(c) || (c != '\0' && strchr("-_.~!$&'()*+,;=:[]<>\"", c) != NULL);
}

/* Go's unescape(s, mode): checks %-escapes (and host bytes) and writes the decoded bytes to out
 * (cap > len always holds for callers). -1 when Go would return an error. */
static int go_unescape(char *out, size_t cap, const char *s, size_t len, enum esc_mode mode)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return -1;
            hi = parse_hex_digit(s[i + 1]);
            lo = parse_hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            /* RFC 3986: in a host, %-encoding is only for non-ASCII bytes (and %25) */
            if (mode == ESC_HOST && hi < 8 && !(s[i + 1] == '2' && s[i + 2] == '5'))
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            if (c == '\0') /* Go would keep a NUL; C strings cannot, so refuse the key */
                return -1;
            i += 2;
        } else if (mode == ESC_HOST && c < 0x80 && !host_byte_ok(c)) {
            return -1;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

static bool valid_optional_port(const char *s, size_t len)
{
    if (len == 0)
        return true;
    if (s[0] != ':')
        return false;
    for (size_t i = 1; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool valid_userinfo(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_alnum(c) && (c == '\0' || strchr("-._:~!$&'()*+,;=%@", c) == NULL))
            return false;
    }
    return true;
}

static const char *mem_rchr(const char *s, size_t len, char c)
{
    for (size_t i = len; i > 0; i--)
        if (s[i - 1] == c)
            return s + i - 1;
    return NULL;
}

static int parse_host(char *out, size_t cap, const char *h, size_t len)
{
    const char *p;

    if (len > 0 && h[0] == '[') {
        p = mem_rchr(h, len, ']');
        if (p == NULL)
            return -1;
        if (!valid_optional_port(p + 1, len - (size_t)(p + 1 - h)))
            return -1;
        /* RFC 6874 zones ("%25" inside the brackets) are not supported: such a key is treated
         * as unparseable. */
        for (const char *q = h; q + 2 < p; q++)
            if (q[0] == '%' && q[1] == '2' && q[2] == '5')
                return -1;
    } else if ((p = mem_rchr(h, len, ':')) != NULL) {
        if (!valid_optional_port(p, len - (size_t)(p - h)))
            return -1;
    }
    return go_unescape(out, cap, h, len, ESC_HOST);
}

/* go_url_parse: url.Parse(raw) for raw = "<scheme>://...", keeping Host and Path. -1 when Go's
 * url.Parse fails. */
static int go_url_parse(struct gurl *u, const char *raw)
{
    size_t len = strlen(raw), i, rest_len, auth_len;
    const char *hash, *q, *rest, *auth, *at, *slash;
    char scratch[KEY_MAX + 1];

    if (len > KEY_MAX + 16)
        return -1;
    for (i = 0; i < len; i++)
        if ((unsigned char)raw[i] < 0x20 || (unsigned char)raw[i] == 0x7f)
            return -1;
    hash = memchr(raw, '#', len);
    if (hash != NULL) {
        if (go_unescape(scratch, sizeof(scratch), hash + 1, len - (size_t)(hash + 1 - raw),
                        ESC_FRAGMENT) < 0)
            return -1;
        len = (size_t)(hash - raw);
    }
    rest = memchr(raw, ':', len); /* callers always pass a scheme */
    if (rest == NULL)
        return -1;
    rest++;
    rest_len = len - (size_t)(rest - raw);
    /* "...?" with a single '?' forces an empty query; otherwise cut at the first '?' */
    q = memchr(rest, '?', rest_len);
    if (q != NULL)
        rest_len = (size_t)(q - rest);
    if (rest_len < 2 || rest[0] != '/' || rest[1] != '/')
        return -1;
    auth = rest + 2;
    slash = memchr(auth, '/', rest_len - 2);
    auth_len = slash != NULL ? (size_t)(slash - auth) : rest_len - 2;
    at = mem_rchr(auth, auth_len, '@');
    if (at != NULL) {
        size_t ulen = (size_t)(at - auth);
        if (!valid_userinfo(auth, ulen))
            return -1;
        if (go_unescape(scratch, sizeof(scratch), auth, ulen, ESC_USER) < 0)
            return -1;
        if (parse_host(u->host, sizeof(u->host), at + 1, auth_len - ulen - 1) < 0)
            return -1;
    } else if (parse_host(u->host, sizeof(u->host), auth, auth_len) < 0) {
        return -1;
    }
    if (slash == NULL) {
        u->path[0] = '\0';
        return 0;
    }
    return go_unescape(u->path, sizeof(u->path), slash, rest_len - 2 - auth_len, ESC_PATH);
}

/* net.SplitHostPort; on error host = whole, port = "" (kubelet's SplitURL). host_len and the
 * port are views into hp. */
static void split_host_port(const char *hp, size_t *host_off, size_t *host_len, const char **port)
{
    size_t len = strlen(hp), j = 0, k = 0, i;
    const char *last = mem_rchr(hp, len, ':'), *end;

    *host_off = 0;
    *host_len = len;
    *port = "";
    if (last == NULL)
        return;
    i = (size_t)(last - hp);
    if (hp[0] == '[') {
        end = memchr(hp, ']', len);
        if (end == NULL)
            return;
        if ((size_t)(end - hp) + 1 != i)
            return;
        j = 1;
        k = (size_t)(end - hp) + 1;
        if (memchr(hp + j, '[', len - j) != NULL || memchr(hp + k, ']', len - k) != NULL)
            return;
        *host_off = 1;
        *host_len = (size_t)(end - hp) - 1;
    } else {
        if (memchr(hp, ':', i) != NULL)
            return;
        if (memchr(hp, '[', len) != NULL || memchr(hp, ']', len) != NULL)
            return;
        *host_len = i;
    }
    *port = hp + i + 1;
}

/* ---- a port of Go's path/filepath.Match (Unix separator) -------------------------------- */

/* utf8.DecodeRuneInString: invalid or short input decodes as U+FFFD of width 1. */
static long decode_rune(const char *s, size_t len, size_t *width)
{
    const unsigned char *p = (const unsigned char *)s;
    long r;
    size_t n, i;

    *width = 1;
    if (len == 0)
        return 0xFFFD;
    if (p[0] < 0x80)
        return p[0];
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 2;
        r = p[0] & 0x1F;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3;
        r = p[0] & 0x0F;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4;
        r = p[0] & 0x07;
    } else {
        return 0xFFFD;
    }
    if (len < n)
        return 0xFFFD;
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0xFFFD;
        r = r << 6 | (p[i] & 0x3F);
    }
    if ((n == 3 && (r < 0x800 || (r >= 0xD800 && r <= 0xDFFF))) ||
        (n == 4 && (r < 0x10000 || r > 0x10FFFF)))
        return 0xFFFD;
    *width = n;
    return r;
}

/* getEsc; -1 for ErrBadPattern. */
static int get_esc(long *r, const char **chunk, size_t *clen)
{
    const char *c = *chunk;
    size_t len = *clen, w;

    if (len == 0 || c[0] == '-' || c[0] == ']')
        return -1;
    if (c[0] == '\\') {
        c++;
        len--;
        if (len == 0)
            return -1;
    }
    *r = decode_rune(c, len, &w);
    if (*r == 0xFFFD && w == 1)
        return -1;
    c += w;
    len -= w;
    if (len == 0)
        return -1;
    *chunk = c;
    *clen = len;
    return 0;
}

/* matchChunk: 1 matched (*rest set), 0 not, -1 bad pattern. */
static int match_chunk(const char *chunk, size_t clen, const char *s, size_t slen, size_t *rest)
{
    bool failed = false;
    size_t w;

    while (clen > 0) {
        if (!failed && slen == 0)
            failed = true;
        switch (chunk[0]) {
        case '[': {
            long r = 0, lo, hi;
            bool negated = false, match = false;
            size_t nrange = 0;
            if (!failed) {
                r = decode_rune(s, slen, &w);
                s += w;
                slen -= w;
            }
            chunk++;
            clen--;
            if (clen > 0 && chunk[0] == '^') {
                negated = true;
                chunk++;
                clen--;
            }
            for (;;) {
                if (clen > 0 && chunk[0] == ']' && nrange > 0) {
                    chunk++;
                    clen--;
                    break;
                }
                if (get_esc(&lo, &chunk, &clen) < 0)
                    return -1;
                hi = lo;
                if (chunk[0] == '-') {
                    chunk++;
                    clen--;
                    if (get_esc(&hi, &chunk, &clen) < 0)
                        return -1;
                }
                if (lo <= r && r <= hi)
                    match = true;
                nrange++;
            }
            if (match == negated)
                failed = true;
            break;
        }
        case '?':
            if (!failed) {
                if (s[0] == '/')
                    failed = true;
                (void)decode_rune(s, slen, &w); /* only the width matters for '?' */
                s += w;
                slen -= w;
            }
            chunk++;
            clen--;
            break;
        case '\\':
            chunk++;
            clen--;
            if (clen == 0)
                return -1;
            /* fall through */
        default:
            if (!failed) {
                if (chunk[0] != s[0])
                    failed = true;
                s++;
                slen--;
            }
            chunk++;
            clen--;
            break;
        }
    }
    if (failed)
        return 0;
    *rest = slen;
    return 1;
}

static void scan_chunk(const char *p, size_t plen, bool *star, size_t *skip, size_t *clen)
{
    size_t i = 0, start;
    bool inrange = false;

    *star = false;
    while (i < plen && p[i] == '*') {
        i++;
        *star = true;
    }
    start = i;
    for (; i < plen; i++) {
        if (p[i] == '\\') {
            if (i + 1 < plen)
                i++;
        } else if (p[i] == '[') {
            inrange = true;
        } else if (p[i] == ']') {
            inrange = false;
        } else if (p[i] == '*' && !inrange) {
            break;
        }
    }
    *skip = start;
    *clen = i - start;
}

/* filepath.Match; a bad pattern counts as no match (kubelet ignores the error). */
static bool glob_match(const char *pat, size_t plen, const char *name, size_t nlen)
{
    bool star;
    size_t skip, clen, rest, i;
    const char *chunk;
    int m;

    while (plen > 0) {
        scan_chunk(pat, plen, &star, &skip, &clen);
        chunk = pat + skip;
        pat = chunk + clen;
        plen -= skip + clen;
        if (star && clen == 0)
            return memchr(name, '/', nlen) == NULL;
        m = match_chunk(chunk, clen, name, nlen, &rest);
        if (m == 1 && (rest == 0 || plen > 0)) {
            name += nlen - rest;
            nlen = rest;
            continue;
        }
        if (m < 0)
            return false;
        if (star) {
            bool found = false;
            for (i = 0; i < nlen && name[i] != '/'; i++) {
                m = match_chunk(chunk, clen, name + i + 1, nlen - i - 1, &rest);
                if (m == 1) {
                    if (plen == 0 && rest > 0)
                        continue;
                    name += nlen - rest;
                    nlen = rest;
                    found = true;
                    break;
                }
                if (m < 0)
                    return false;
            }
            if (found)
                continue;
        }
        return false;
    }
    return nlen == 0;
}

/* ---- kubelet's URLsMatch, isDefaultRegistryMatch, Add normalization ---------------------- */

static int parse_schemeless(struct gurl *u, const char *s)
{
    char raw[KEY_MAX + 16];
    int n = snprintf(raw, sizeof(raw), "https://%s", s);

    if (n < 0 || (size_t)n >= sizeof(raw))
        return -1;
    return go_url_parse(u, raw);
}

bool keyring_urls_match(const char *glob, const char *target)
{
    struct gurl *g = NULL, *t = NULL;
    size_t goff, glen, toff, tlen, gi, ti;
    const char *gport, *tport, *gh, *th;
    bool ok = false;

    g = mem_malloc(sizeof(*g));
    t = mem_malloc(sizeof(*t));
    if (g == NULL || t == NULL)
        goto out;
    if (parse_schemeless(g, glob) < 0 || parse_schemeless(t, target) < 0)
        goto out;
    split_host_port(g->host, &goff, &glen, &gport);
    split_host_port(t->host, &toff, &tlen, &tport);
    if (strcmp(gport, tport) != 0)
        goto out;
    gh = g->host + goff;
    th = t->host + toff;
    /* same number of '.'-separated labels */
    {
        size_t gd = 0, td = 0;
        for (gi = 0; gi < glen; gi++)
            gd += gh[gi] == '.';
        for (ti = 0; ti < tlen; ti++)
            td += th[ti] == '.';
        if (gd != td)
            goto out;
    }
    if (strncmp(t->path, g->path, strlen(g->path)) != 0)
        goto out;
    gi = 0;
    ti = 0;
    for (;;) {
        size_t ge = gi, te = ti;
        while (ge < glen && gh[ge] != '.')
            ge++;
        while (te < tlen && th[te] != '.')
            te++;
        if (!glob_match(gh + gi, ge - gi, th + ti, te - ti))
            goto out;
        if (ge == glen)
            break;
        gi = ge + 1;
        ti = te + 1;
    }
    ok = true;
out:
    mem_free(g);
    mem_free(t);
    return ok;
}

bool keyring_is_default_registry(const char *image)
{
    const char *slash = strchr(image, '/');
    size_t n = slash != NULL ? (size_t)(slash - image) : strlen(image);

    if (n == 0)
        return false;
    if (slash == NULL)
        return true;
    if ((n == 9 && memcmp(image, "docker.io", 9) == 0) ||
        (n == 15 && memcmp(image, "index.docker.io", 15) == 0))
        return true;
    return memchr(image, '.', n) == NULL && memchr(image, ':', n) == NULL;
}

int keyring_normalize_key(char *out, size_t cap, const char *key)
{
    char raw[KEY_MAX + 16];
    struct gurl *u;
    const char *path;
    int n, rc = 1;

    if (cap > 0)
        out[0] = '\0';
    if (strnlen(key, KEY_MAX + 1) > KEY_MAX)
        return 1;
    if (strncmp(key, "https://", 8) == 0 || strncmp(key, "http://", 7) == 0)
        n = snprintf(raw, sizeof(raw), "%s", key);
    else
        n = snprintf(raw, sizeof(raw), "https://%s", key);
    if (n < 0 || (size_t)n >= sizeof(raw))
        return 1;
    u = mem_malloc(sizeof(*u));
    if (u == NULL)
        return -1;
    if (go_url_parse(u, raw) < 0)
        goto out;
    path = u->path;
    if (strncmp(path, "/v2/", 4) == 0 || strncmp(path, "/v1/", 4) == 0)
        path += 3;
    if (path[0] != '\0' && strcmp(path, "/") != 0)
        n = snprintf(out, cap, "%s%s", u->host, path);
    else
        n = snprintf(out, cap, "%s", u->host);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            out[0] = '\0';
        rc = -1;
        goto out;
    }
    rc = 0;
out:
    mem_free(u);
    return rc;
}
