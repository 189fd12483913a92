/* scope.c (fuzz) - scope_parse and scope_list_add on any bytes.
 *
 * The input up to the first '\n' is one scope= parameter, the rest (when there is a '\n') a
 * second one added to the same list. Besides not crashing or leaking, what the parser accepts
 * must keep scope.h's promises: at most SCOPE_MAX_COUNT entries, a type of [a-z0-9] within
 * SCOPE_TYPE_MAX, a name of 0x21..0x7e within SCOPE_NAME_MAX, only known action bits, no two
 * entries with the same key; adding the same parameter again changes nothing; a refusal is
 * BAD_REQUEST (or INTERNAL) and leaves the list as it was. A broken promise aborts. */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "auth/scope.h"
#include "common/mem.h"

static void need(int cond)
{
    if (!cond)
        abort();
}

static int same_opt(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static void check_list(const struct scope_list *l)
{
    need(l->n <= SCOPE_MAX_COUNT && l->n <= l->cap);
    for (size_t i = 0; i < l->n; i++) {
        const struct scope *s = &l->items[i];
        size_t tl = strlen(s->type), nl = strlen(s->name);

        need(tl > 0 && tl <= SCOPE_TYPE_MAX &&
             strspn(s->type, "abcdefghijklmnopqrstuvwxyz0123456789") == tl);
        need(s->rclass == NULL || (strlen(s->rclass) > 0 && strlen(s->rclass) <= SCOPE_TYPE_MAX));
        need(nl > 0 && nl <= SCOPE_NAME_MAX);
        for (size_t j = 0; j < nl; j++)
            need((unsigned char)s->name[j] >= 0x21 && (unsigned char)s->name[j] <= 0x7e);
        need((s->actions & ~SCOPE_ACT_KNOWN) == 0);
        need(s->unknown == NULL ||
             (strlen(s->unknown) > 0 && strlen(s->unknown) <= SCOPE_UNKNOWN_MAX));
        for (size_t j = 0; j < i; j++) {
            const struct scope *o = &l->items[j];
            need(!(strcmp(o->type, s->type) == 0 && same_opt(o->rclass, s->rclass) &&
                   strcmp(o->name, s->name) == 0));
        }
    }
}

static void snapshot(const struct scope_list *l, size_t *n, unsigned *acts)
{
    *n = l->n;
    for (size_t i = 0; i < l->n && i < SCOPE_MAX_COUNT; i++)
        acts[i] = l->items[i].actions;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *first, *second = NULL;
    const char *nl = memchr(data, '\n', size);
    size_t flen = nl != NULL ? (size_t)(nl - (const char *)data) : size;
    unsigned acts[SCOPE_MAX_COUNT], acts2[SCOPE_MAX_COUNT];
    struct scope_list l;
    struct berr err;
    size_t n, n2;

    first = mem_strndup((const char *)data, flen);
    if (first == NULL)
        return 0;
    if (nl != NULL) {
        second = mem_strndup(nl + 1, size - flen - 1);
        if (second == NULL) {
            mem_free(first);
            return 0;
        }
    }

    if (scope_parse(&l, first, &err) < 0) {
        need(err.code == BERR_BAD_REQUEST || err.code == BERR_INTERNAL);
        need(l.n == 0 && l.items == NULL);
        goto out;
    }
    check_list(&l);
    /* the same parameter again merges into what is there */
    snapshot(&l, &n, acts);
    need(scope_list_add(&l, first, &err) == 0);
    snapshot(&l, &n2, acts2);
    need(n == n2 && memcmp(acts, acts2, n * sizeof(acts[0])) == 0);
    if (second != NULL) {
        if (scope_list_add(&l, second, &err) < 0) {
            need(err.code == BERR_BAD_REQUEST || err.code == BERR_INTERNAL);
            snapshot(&l, &n2, acts2);
            need(n == n2 && memcmp(acts, acts2, n * sizeof(acts[0])) == 0);
        } else {
            need(l.n >= n);
            /* merging only ever adds bits */
            for (size_t i = 0; i < n; i++)
                need((l.items[i].actions & acts[i]) == acts[i]);
        }
        check_list(&l);
    }
    scope_list_cleanup(&l);
    need(l.n == 0 && l.items == NULL);
out:
    mem_free(first);
    mem_free(second);
    return 0;
}
