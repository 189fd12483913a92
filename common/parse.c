/* parse.c - the parsing toolkit: hex, bounded integers, quoted strings, q filters, paging.
 *
 * Every function here is pure: it reads the bytes it is given, writes its outputs, and touches
 * nothing else. The rules every parser keeps:
 *   1. The whole input is consumed: trailing bytes are an error, never silently dropped.
 *   2. Numbers are plain decimal: no blanks, no '+', no "0x"; overflow is an error, never a wrap.
 *   3. On failure the outputs are zeroed (empty string, 0, no q term), so a caller that forgets
 *      to check cannot act on half a result.
 *   4. q keys come from the caller's table; anything else is refused, so an unknown filter
 *      never silently widens a listing.
 * No shared state; safe on any thread. */
#include "common/parse.h"

#include <string.h>

/* ---- hex ---- */

int parse_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int parse_hex_byte(const char *s)
{
    int hi = parse_hex_digit(s[0]);
    int lo = hi < 0 ? -1 : parse_hex_digit(s[1]);

    if (hi < 0 || lo < 0)
        return -1;
    return hi << 4 | lo;
}

int parse_hex(uint8_t *out, size_t cap, const char *s, size_t len)
{
    size_t n = len / 2;

    if (len % 2 != 0 || n > cap)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        int b = parse_hex_byte(s + 2 * i);
        if (b < 0)
            goto fail;
        out[i] = (uint8_t)b;
    }
    return (int)n;
fail:
    if (cap > 0)
        memset(out, 0, cap);
    return -1;
}

bool parse_is_lower_hex(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

/* ---- integers ---- */

int parse_u64(uint64_t *out, const char *s, size_t len)
{
    uint64_t v = 0;

    *out = 0;
    if (len == 0 || len > 20)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int parse_u64_range(uint64_t *out, const char *s, size_t len, uint64_t lo, uint64_t hi)
{
    uint64_t v;

    *out = 0;
    if (parse_u64(&v, s, len) < 0 || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int parse_i64_range(int64_t *out, const char *s, size_t len, int64_t lo, int64_t hi)
{
    bool neg = len > 0 && s[0] == '-';
    uint64_t mag;
    int64_t v;

    *out = 0;
    if (neg) {
        s++;
        len--;
    }
    if (parse_u64(&mag, s, len) < 0)
        return -1;
    if (neg) {
        /* INT64_MIN's magnitude is one past INT64_MAX */
        if (mag > (uint64_t)INT64_MAX + 1)
            return -1;
        v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX)
            return -1;
        v = (int64_t)mag;
    }
    if (v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* ---- quoted-string ---- */

/* qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text; quoted-pair adds '"' and '\' */
static bool qd_ok(unsigned char c, bool escaped)
{
    if (c == '\t' || c == ' ' || c >= 0x80)
        return true;
    if (c < 0x21 || c == 0x7f)
        return false;
    return escaped || (c != '"' && c != '\\');
}

int parse_quoted(char *out, size_t cap, size_t *used, const char *s, size_t len)
{
    size_t n = 0;

    *used = 0;
    if (cap > 0)
        out[0] = '\0';
    if (cap == 0 || len == 0 || s[0] != '"')
        return -1;
    for (size_t i = 1; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool esc = false;
        if (c == '"') {
            out[n] = '\0';
            *used = i + 1;
            return 0;
        }
        if (c == '\\') {
            if (++i >= len)
                break;
            c = (unsigned char)s[i];
            esc = true;
        }
        if (!qd_ok(c, esc) || n + 1 >= cap)
            break;
        out[n++] = (char)c;
    }
    out[0] = '\0';
    return -1;
}

/* ---- q filters ---- */

static const struct parse_q_key *find_key(const struct parse_q_key *keys, const char *k,
                                          size_t klen)
{
    for (; keys->name != NULL; keys++) {
        if (strlen(keys->name) == klen && memcmp(keys->name, k, klen) == 0)
            return keys;
    }
    return NULL;
}

static const char *kind_name(enum parse_q_kind kind)
{
    switch (kind) {
    case PARSE_Q_EXACT:
        return "an exact value";
    case PARSE_Q_FUZZY:
        return "a fuzzy ~value";
    case PARSE_Q_RANGE:
        return "a [from~to] range";
    case PARSE_Q_ANY:
        return "a {a b} list";
    case PARSE_Q_ALL:
        return "an (a b) list";
    }
    return "this value";
}

/* split_items cuts the list body v (NUL-terminated, inside buf) at runs of spaces */
static int split_items(struct parse_q_term *t, char *v, struct berr *err)
{
    char *p = v;

    while (*p == ' ')
        p++;
    while (*p != '\0') {
        if (t->nv >= PARSE_Q_MAX_ITEMS)
            return berr_set(err, BERR_BAD_REQUEST, "q: %s: more than %d items", t->key,
                            PARSE_Q_MAX_ITEMS);
        t->v[t->nv++] = p;
        while (*p != '\0' && *p != ' ')
            p++;
        while (*p == ' ')
            *p++ = '\0';
    }
    if (t->nv == 0)
        return berr_set(err, BERR_BAD_REQUEST, "q: %s: empty list", t->key);
    return 0;
}

/* one_term parses buf[0..len) (NUL at len, inside out->buf) into out->t[out->n] */
static int one_term(struct parse_q *out, char *s, size_t len, const struct parse_q_key *keys,
                    struct berr *err)
{
    struct parse_q_term *t = &out->t[out->n];
    char *eq = memchr(s, '=', len);
    const struct parse_q_key *k;
    char *v;
    size_t vlen;

    if (eq == NULL || eq == s)
        return berr_set(err, BERR_BAD_REQUEST, "q: a term must be key=value");
    k = find_key(keys, s, (size_t)(eq - s));
    if (k == NULL) {
        *eq = '\0';
        return berr_set(err, BERR_BAD_REQUEST, "q: unknown key '%.40s'", s);
    }
    if (parse_q_find(out, k->name) != NULL)
        return berr_set(err, BERR_BAD_REQUEST, "q: %s given twice", k->name);
    t->key = k->name;
    v = eq + 1;
    vlen = len - (size_t)(v - s);
    if (vlen > 0 && v[0] == '~') {
        t->kind = PARSE_Q_FUZZY;
        t->v[t->nv++] = v + 1;
    } else if (vlen > 0 && v[0] == '[') {
        char *tilde = memchr(v, '~', vlen);
        if (v[vlen - 1] != ']' || tilde == NULL || vlen < 3 ||
            memchr(tilde + 1, '~', (size_t)(v + vlen - 1 - tilde - 1)) != NULL)
            return berr_set(err, BERR_BAD_REQUEST, "q: %s: a range is [from~to]", k->name);
        t->kind = PARSE_Q_RANGE;
        *tilde = '\0';
        v[vlen - 1] = '\0';
        t->v[0] = v + 1;
        t->v[1] = tilde + 1;
        t->nv = 2;
    } else if (vlen > 0 && (v[0] == '{' || v[0] == '(')) {
        char close = v[0] == '{' ? '}' : ')';
        if (vlen < 2 || v[vlen - 1] != close)
            return berr_set(err, BERR_BAD_REQUEST, "q: %s: a list ends with '%c'", k->name, close);
        t->kind = v[0] == '{' ? PARSE_Q_ANY : PARSE_Q_ALL;
        v[vlen - 1] = '\0';
        if (split_items(t, v + 1, err) < 0)
            return -1;
    } else {
        t->kind = PARSE_Q_EXACT;
        t->v[t->nv++] = v;
    }
    if ((k->kinds & (unsigned)t->kind) == 0)
        return berr_set(err, BERR_BAD_REQUEST, "q: %s does not take %s", k->name,
                        kind_name(t->kind));
    out->n++;
    return 0;
}

int parse_q(struct parse_q *out, const char *q, const struct parse_q_key *keys, struct berr *err)
{
    size_t len = q != NULL ? strlen(q) : 0;
    char *s;

    memset(out, 0, sizeof(*out));
    if (len > PARSE_Q_MAX_BYTES)
        return berr_set(err, BERR_BAD_REQUEST, "q is longer than %d bytes", PARSE_Q_MAX_BYTES);
    if (len > 0)
        memcpy(out->buf, q, len);
    out->buf[len] = '\0';
    s = out->buf;
    while (*s != '\0') {
        char *comma = strchr(s, ',');
        size_t tlen = comma != NULL ? (size_t)(comma - s) : strlen(s);
        if (out->n >= PARSE_Q_MAX_TERMS) {
            berr_set(err, BERR_BAD_REQUEST, "q: more than %d terms", PARSE_Q_MAX_TERMS);
            goto fail;
        }
        if (comma != NULL)
            *comma = '\0';
        if (one_term(out, s, tlen, keys, err) < 0)
            goto fail;
        s = comma != NULL ? comma + 1 : s + tlen;
    }
    return 0;
fail:
    memset(out, 0, sizeof(*out));
    return -1;
}

const struct parse_q_term *parse_q_find(const struct parse_q *q, const char *key)
{
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->t[i].key, key) == 0)
            return &q->t[i];
    }
    return NULL;
}

/* ---- paging ---- */

int parse_paging(struct parse_paging *out, const char *page, const char *page_size,
                 int64_t size_default, int64_t size_max, struct berr *err)
{
    int64_t max_page = INT64_MAX / size_max;
    uint64_t v;

    memset(out, 0, sizeof(*out));
    out->page = 1;
    out->page_size = size_default;
    if (page != NULL) {
        if (parse_u64(&v, page, strlen(page)) < 0 || v == 0) {
            memset(out, 0, sizeof(*out));
            return berr_set(err, BERR_BAD_REQUEST, "page must be a positive integer");
        }
        if (v > (uint64_t)max_page) {
            memset(out, 0, sizeof(*out));
            return berr_set(err, BERR_BAD_REQUEST, "page is too large");
        }
        out->page = (int64_t)v;
    }
    if (page_size != NULL) {
        if (parse_u64_range(&v, page_size, strlen(page_size), 1, (uint64_t)size_max) < 0) {
            memset(out, 0, sizeof(*out));
            return berr_set(err, BERR_BAD_REQUEST, "page_size must be 1..%lld",
                            (long long)size_max);
        }
        out->page_size = (int64_t)v;
    }
    out->offset = (out->page - 1) * out->page_size;
    return 0;
}
