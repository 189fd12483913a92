/* scope.c - parse Docker token scopes into a merged list.
 *
 * Invariants:
 *   1. Every entry in a list has a non-empty type of [a-z0-9], a name of printable ASCII without
 *      spaces (0x21..0x7e) and only SCOPE_ACT_KNOWN bits in `actions`.
 *   2. No two entries share (type, class, name): a new scope with the same key is OR'ed into the
 *      existing entry, whose position is kept.
 *   3. A list never holds more than SCOPE_MAX_COUNT entries.
 *   4. scope_list_add works on a private copy and swaps it in only when everything succeeded,
 *      so a failed call leaves the caller's list untouched (and leaks nothing).
 * No shared state: scope_* calls are thread-safe on distinct lists. */
#include "auth/scope.h"

#include <string.h>

#include "common/mem.h"

static int oom(struct berr *err)
{
    return berr_set(err, BERR_INTERNAL, "out of memory");
}

static int bad(struct berr *err, const char *why)
{
    return berr_set(err, BERR_BAD_REQUEST, "invalid scope: %s", why);
}

unsigned scope_action_bit(const char *word, size_t len)
{
    if (len == 4 && memcmp(word, "pull", 4) == 0)
        return SCOPE_ACT_PULL;
    if (len == 4 && memcmp(word, "push", 4) == 0)
        return SCOPE_ACT_PUSH;
    if (len == 6 && memcmp(word, "delete", 6) == 0)
        return SCOPE_ACT_DELETE;
    if (len == 1 && word[0] == '*')
        return SCOPE_ACT_STAR;
    return 0;
}

const char *scope_action_name(unsigned bit)
{
    switch (bit) {
    case SCOPE_ACT_PULL:
        return "pull";
    case SCOPE_ACT_PUSH:
        return "push";
    case SCOPE_ACT_DELETE:
        return "delete";
    case SCOPE_ACT_STAR:
        return "*";
    default:
        return NULL;
    }
}

bool scope_allows(unsigned actions, unsigned action)
{
    if (action == 0 || (action & ~SCOPE_ACT_KNOWN) != 0)
        return false;
    return (actions & SCOPE_ACT_STAR) != 0 || (actions & action) == action;
}

void scope_list_init(struct scope_list *l)
{
    l->items = NULL;
    l->n = 0;
    l->cap = 0;
}

static void scope_cleanup(struct scope *s)
{
    mem_free(s->type);
    mem_free(s->rclass);
    mem_free(s->name);
    mem_free(s->unknown);
    memset(s, 0, sizeof(*s));
}

void scope_list_cleanup(struct scope_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        scope_cleanup(&l->items[i]);
    mem_free(l->items);
    scope_list_init(l);
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_action_char(char c)
{
    return is_lower_alnum(c) || c == '_' || c == '*' || c == '-';
}

/* unknown_add appends word to the comma-joined list *u unless it is already there. */
static int unknown_add(char **u, const char *word, size_t len, struct berr *err)
{
    size_t have = *u != NULL ? strlen(*u) : 0;
    char *grown;

    if (*u != NULL) {
        const char *p = *u;
        while (*p != '\0') {
            const char *comma = strchr(p, ',');
            size_t wl = comma != NULL ? (size_t)(comma - p) : strlen(p);
            if (wl == len && memcmp(p, word, len) == 0)
                return 0;
            p += wl + (comma != NULL ? 1 : 0);
        }
    }
    if (have + 1 + len > SCOPE_UNKNOWN_MAX)
        return bad(err, "too many unknown actions");
    grown = mem_realloc(*u, have + 1 + len + 1);
    if (grown == NULL)
        return oom(err);
    if (have > 0)
        grown[have++] = ',';
    memcpy(grown + have, word, len);
    grown[have + len] = '\0';
    *u = grown;
    return 0;
}

/* parse_type splits "type" or "type(class)" (len bytes at p) into new strings. */
static int parse_type(struct scope *out, const char *p, size_t len, struct berr *err)
{
    size_t tl = 0;

    while (tl < len && is_lower_alnum(p[tl]))
        tl++;
    if (tl == 0 || tl > SCOPE_TYPE_MAX)
        return bad(err, "bad resource type");
    if (tl < len) {
        size_t cl = 0;
        /* "(" class ")" must fill the rest exactly */
        if (p[tl] != '(' || p[len - 1] != ')' || len - tl < 3)
            return bad(err, "bad resource type");
        for (size_t i = tl + 1; i < len - 1; i++) {
            if (!is_lower_alnum(p[i]))
                return bad(err, "bad resource class");
            cl++;
        }
        if (cl > SCOPE_TYPE_MAX)
            return bad(err, "bad resource class");
        out->rclass = mem_strndup(p + tl + 1, cl);
        if (out->rclass == NULL)
            return oom(err);
    }
    out->type = mem_strndup(p, tl);
    if (out->type == NULL)
        return oom(err);
    return 0;
}

/* parse_one parses one scope of len bytes (no spaces) into *out (zeroed on entry); on failure
 * the caller cleans *out up. */
static int parse_one(struct scope *out, const char *p, size_t len, struct berr *err)
{
    const char *first = memchr(p, ':', len);
    const char *last = NULL;
    size_t nl, al;
    const char *a;

    for (size_t i = len; i > 0; i--) {
        if (p[i - 1] == ':') {
            last = p + i - 1;
            break;
        }
    }
    if (first == NULL || last == first)
        return bad(err, "want type:name:actions");
    if (parse_type(out, p, (size_t)(first - p), err) < 0)
        return -1;

    nl = (size_t)(last - first) - 1;
    if (nl == 0 || nl > SCOPE_NAME_MAX)
        return bad(err, "bad resource name");
    for (size_t i = 0; i < nl; i++) {
        unsigned char c = (unsigned char)first[1 + i];
        if (c < 0x21 || c > 0x7e)
            return bad(err, "bad resource name");
    }
    out->name = mem_strndup(first + 1, nl);
    if (out->name == NULL)
        return oom(err);

    a = last + 1;
    al = len - (size_t)(a - p);
    while (al > 0) {
        const char *comma = memchr(a, ',', al);
        size_t wl = comma != NULL ? (size_t)(comma - a) : al;
        if (wl > 0) {
            unsigned bit;
            if (wl > SCOPE_ACTION_MAX)
                return bad(err, "bad action");
            for (size_t i = 0; i < wl; i++) {
                if (!is_action_char(a[i]))
                    return bad(err, "bad action");
            }
            bit = scope_action_bit(a, wl);
            if (bit != 0)
                out->actions |= bit;
            else if (unknown_add(&out->unknown, a, wl, err) < 0)
                return -1;
        }
        if (comma == NULL)
            break;
        al -= wl + 1;
        a = comma + 1;
    }
    return 0;
}

static bool same_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* merge_into adds *s to l: OR'ed into an entry with the same key, else appended.
 * Takes *s: on success and failure alike it is consumed (cleaned up or moved). */
static int merge_into(struct scope_list *l, struct scope *s, struct berr *err)
{
    int rc = 0;

    for (size_t i = 0; i < l->n; i++) {
        struct scope *e = &l->items[i];
        if (strcmp(e->type, s->type) != 0 || !same_str(e->rclass, s->rclass) ||
            strcmp(e->name, s->name) != 0)
            continue;
        e->actions |= s->actions;
        if (s->unknown != NULL) {
            const char *p = s->unknown;
            while (*p != '\0' && rc == 0) {
                const char *comma = strchr(p, ',');
                size_t wl = comma != NULL ? (size_t)(comma - p) : strlen(p);
                rc = unknown_add(&e->unknown, p, wl, err);
                p += wl + (comma != NULL ? 1 : 0);
            }
        }
        scope_cleanup(s);
        return rc;
    }
    if (l->n == SCOPE_MAX_COUNT) {
        rc = bad(err, "too many scopes");
        goto out;
    }
    if (l->n == l->cap) {
        size_t ncap = l->cap == 0 ? 4 : l->cap * 2;
        struct scope *grown;
        if (ncap > SCOPE_MAX_COUNT)
            ncap = SCOPE_MAX_COUNT;
        grown = mem_realloc(l->items, ncap * sizeof(*grown));
        if (grown == NULL) {
            rc = oom(err);
            goto out;
        }
        l->items = grown;
        l->cap = ncap;
    }
    l->items[l->n++] = *s;
    memset(s, 0, sizeof(*s));
out:
    if (rc < 0)
        scope_cleanup(s);
    return rc;
}

static int dup_opt(char **out, const char *s)
{
    *out = NULL;
    if (s == NULL)
        return 0;
    *out = mem_strdup(s);
    return *out == NULL ? -1 : 0;
}

/* list_copy deep-copies src into *dst (initialised here); on failure *dst is empty. */
static int list_copy(struct scope_list *dst, const struct scope_list *src, struct berr *err)
{
    scope_list_init(dst);
    if (src->n == 0)
        return 0;
    dst->items = mem_calloc(src->n, sizeof(*dst->items));
    if (dst->items == NULL)
        return oom(err);
    dst->cap = src->n;
    for (size_t i = 0; i < src->n; i++) {
        const struct scope *s = &src->items[i];
        struct scope *d = &dst->items[i];
        dst->n = i + 1; /* so cleanup frees a half-copied entry too */
        d->actions = s->actions;
        if (dup_opt(&d->type, s->type) < 0 || dup_opt(&d->rclass, s->rclass) < 0 ||
            dup_opt(&d->name, s->name) < 0 || dup_opt(&d->unknown, s->unknown) < 0) {
            scope_list_cleanup(dst);
            return oom(err);
        }
    }
    return 0;
}

int scope_list_add(struct scope_list *l, const char *s, struct berr *err)
{
    struct scope_list work;
    size_t len = strnlen(s, SCOPE_MAX_LEN + 1);
    size_t i = 0;
    int rc;

    if (len > SCOPE_MAX_LEN)
        return bad(err, "too long");
    rc = list_copy(&work, l, err);
    if (rc < 0)
        return rc;
    while (i < len) {
        struct scope one;
        size_t start;
        if (s[i] == ' ') {
            i++;
            continue;
        }
        start = i;
        while (i < len && s[i] != ' ')
            i++;
        memset(&one, 0, sizeof(one));
        rc = parse_one(&one, s + start, i - start, err);
        if (rc < 0) {
            scope_cleanup(&one);
            goto out;
        }
        rc = merge_into(&work, &one, err);
        if (rc < 0)
            goto out;
    }
out:
    if (rc < 0) {
        scope_list_cleanup(&work);
        return rc;
    }
    scope_list_cleanup(l);
    *l = work;
    return 0;
}

int scope_parse(struct scope_list *out, const char *s, struct berr *err)
{
    scope_list_init(out);
    return scope_list_add(out, s, err);
}
