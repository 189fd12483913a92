/* mem.c - allocation with failure injection.
 *
 * fail_countdown < 0 means no injection. Otherwise each allocation decrements it and the one that
 * finds it at 0 fails. Both counters are _Atomic: allocations happen on every worker thread. */
#include "common/mem.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static _Atomic long fail_countdown = -1;
static _Atomic long injected;

static int should_fail(void)
{
    long cur = atomic_load(&fail_countdown);

    while (cur >= 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &cur, cur - 1)) {
            if (cur == 0) {
                atomic_fetch_add(&injected, 1);
                errno = ENOMEM;
                return 1;
            }
            return 0;
        }
    }
    return 0;
}

void *mem_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n == 0 ? 1 : n);
}

void *mem_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);
}

void *mem_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n == 0 ? 1 : n);
}

void mem_free(void *p)
{
    free(p);
}

char *mem_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *out = mem_malloc(len + 1);

    if (out == NULL)
        return NULL;
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

char *mem_strdup(const char *s)
{
    return mem_strndup(s, strlen(s));
}

void mem_fail_after(long n)
{
    atomic_store(&injected, 0);
    atomic_store(&fail_countdown, n < 0 ? -1 : n);
}

long mem_injected(void)
{
    return atomic_load(&injected);
}

void mem_install_json(void)
{
    json_set_alloc_funcs(mem_malloc, mem_free);
}
