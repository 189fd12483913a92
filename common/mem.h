/* mem.h - the one allocator of Berth.
 *
 * Every allocation in Berth, jansson's included (mem_install_json), goes through these calls so
 * tests can make the Nth one fail (mem_fail_after) and check that each error path frees what it
 * took. The same rules as libc: mem_free(NULL) is a no-op; on failure NULL and errno ENOMEM. */
#ifndef BERTH_COMMON_MEM_H
#define BERTH_COMMON_MEM_H

#include <stddef.h>

void *mem_malloc(size_t n);
void *mem_calloc(size_t count, size_t size);
void *mem_realloc(void *p, size_t n);
void mem_free(void *p);
/* mem_strdup / mem_strndup: new, caller frees with mem_free. */
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t n);

/* mem_fail_after makes the call after the next n calls fail (n = 0: the very next one);
 * a negative n turns injection off. Thread-safe (atomic). For tests only. */
void mem_fail_after(long n);
/* mem_injected returns how many failures were injected since the last mem_fail_after. */
long mem_injected(void);
/* mem_install_json routes jansson's allocations through this allocator. */
void mem_install_json(void);

#endif
