/* challenge.c (fuzz) - client_challenge_parse (puller/client.h) on any WWW-Authenticate value.
 *
 * The input, cut at the first NUL as a header string would be, is parsed with room for
 * CLIENT_MAX_CHALLENGES challenges and again with room for one. Promises checked:
 *   1. The result is 0 or -1; on 0 there is at least one challenge and no more than the room.
 *   2. Every parsed scheme is a non-empty token (RFC 7230 tchar) and every field is
 *      NUL-terminated inside its array.
 *   3. Parsing is deterministic, and room only limits: with room for one the parse succeeds
 *      exactly when the full parse found one challenge, with the same result.
 *   4. Round trip: each successful result, written back as `Scheme realm="..",service=".."`
 *      (quoted strings, '"' and '\' escaped, empty fields left out), parses to the same
 *      schemes and fields.
 * A broken promise aborts. */
#include "tests/fuzz/fuzz.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "puller/client.h"

#define ROUNDTRIP_MAX (64u * 1024u)

static void need(int cond)
{
    if (!cond)
        abort();
}

static int is_tchar(char ch)
{
    return ch != '\0' && (isalnum((unsigned char)ch) || strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static void check_field(const char *f, size_t cap)
{
    need(memchr(f, '\0', cap) != NULL);
}

static void check_one(const struct client_challenge *c)
{
    size_t n;

    check_field(c->scheme, sizeof(c->scheme));
    check_field(c->realm, sizeof(c->realm));
    check_field(c->service, sizeof(c->service));
    check_field(c->scope, sizeof(c->scope));
    check_field(c->error, sizeof(c->error));
    n = strlen(c->scheme);
    need(n > 0);
    for (size_t i = 0; i < n; i++)
        need(is_tchar(c->scheme[i]));
}

static int same(const struct client_challenge *a, const struct client_challenge *b)
{
    return strcmp(a->scheme, b->scheme) == 0 && strcmp(a->realm, b->realm) == 0 &&
           strcmp(a->service, b->service) == 0 && strcmp(a->scope, b->scope) == 0 &&
           strcmp(a->error, b->error) == 0;
}

/* put appends s to out (len in use, cap bytes) */
static void put(char *out, size_t *len, size_t cap, const char *s)
{
    size_t n = strlen(s);

    need(*len + n < cap);
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = '\0';
}

static void put_param(char *out, size_t *len, size_t cap, int *first, const char *name,
                      const char *val)
{
    if (val[0] == '\0')
        return;
    put(out, len, cap, *first ? " " : ",");
    *first = 0;
    put(out, len, cap, name);
    put(out, len, cap, "=\"");
    for (const char *p = val; *p != '\0'; p++) {
        char ch[3] = {'\\', *p, '\0'};
        put(out, len, cap, (*p == '"' || *p == '\\') ? ch : ch + 1);
    }
    put(out, len, cap, "\"");
}

static void roundtrip(const struct client_challenge *ch, size_t n)
{
    struct client_challenge back[CLIENT_MAX_CHALLENGES];
    char *s = mem_malloc(ROUNDTRIP_MAX);
    size_t len = 0, m = 0;

    if (s == NULL)
        return;
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int first = 1;
        if (i > 0)
            put(s, &len, ROUNDTRIP_MAX, ", ");
        put(s, &len, ROUNDTRIP_MAX, ch[i].scheme);
        put_param(s, &len, ROUNDTRIP_MAX, &first, "realm", ch[i].realm);
        put_param(s, &len, ROUNDTRIP_MAX, &first, "service", ch[i].service);
        put_param(s, &len, ROUNDTRIP_MAX, &first, "scope", ch[i].scope);
        put_param(s, &len, ROUNDTRIP_MAX, &first, "error", ch[i].error);
    }
    need(client_challenge_parse(back, CLIENT_MAX_CHALLENGES, &m, s) == 0);
    need(m == n);
    for (size_t i = 0; i < n; i++)
        need(same(&ch[i], &back[i]));
    mem_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct client_challenge a[CLIENT_MAX_CHALLENGES], b[CLIENT_MAX_CHALLENGES], one[1];
    size_t na = 99, nb = 99, n1 = 99;
    char *v = mem_malloc(size + 1);
    int ra, rb, r1;

    if (v == NULL)
        return 0;
    if (size > 0)
        memcpy(v, data, size);
    v[size] = '\0';

    ra = client_challenge_parse(a, CLIENT_MAX_CHALLENGES, &na, v);
    need(ra == 0 || ra == -1);
    need(na <= CLIENT_MAX_CHALLENGES);
    if (ra == 0) {
        need(na >= 1);
        for (size_t i = 0; i < na; i++)
            check_one(&a[i]);
    }

    rb = client_challenge_parse(b, CLIENT_MAX_CHALLENGES, &nb, v);
    need(rb == ra && nb == na);
    if (ra == 0) {
        for (size_t i = 0; i < na; i++)
            need(same(&a[i], &b[i]));
    }

    r1 = client_challenge_parse(one, 1, &n1, v);
    need(n1 <= 1);
    need((r1 == 0) == (ra == 0 && na == 1));
    if (r1 == 0)
        need(same(&one[0], &a[0]));

    if (ra == 0)
        roundtrip(a, na);
    mem_free(v);
    return 0;
}
