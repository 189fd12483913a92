/* blob_cache_test.c - the cache of small blobs: hits give back exactly the bytes put, bytes
 * that do not hash to their digest are never kept, entries and the total stay bounded, and
 * threads reading and writing one slot always read whole, matching entries. */
#include "storage/blob_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "common/test.h"

static void put_of(struct blob_cache *c, const char *s, struct digest *d)
{
    CHECK_INT_EQ(digest_of(d, s, strlen(s)), 0);
    blob_cache_put(c, d, s, strlen(s));
}

static void test_put_get(void)
{
    struct blob_cache *c = NULL;
    struct berr e;
    struct digest d, other;
    char *out = NULL;
    size_t n = 0;

    CHECK_INT_EQ(blob_cache_new(&c, &e), 0);
    CHECK_INT_EQ(digest_of(&other, "nothing", 7), 0);
    CHECK_INT_EQ(blob_cache_get(c, &other, &out, &n), 0);
    CHECK(out == NULL);
    put_of(c, "{\"schemaVersion\":2}", &d);
    CHECK_INT_EQ(blob_cache_get(c, &d, &out, &n), 1);
    CHECK_INT_EQ((long long)n, 19);
    if (out != NULL)
        CHECK_STR_EQ(out, "{\"schemaVersion\":2}");
    mem_free(out);
    /* bytes that are not d's are refused: a wrong read can never poison the cache */
    blob_cache_put(c, &other, "not the bytes", 13);
    CHECK_INT_EQ(blob_cache_get(c, &other, &out, &n), 0);
    /* NULL cache: every get misses */
    CHECK_INT_EQ(blob_cache_get(NULL, &d, &out, &n), 0);
    blob_cache_free(c);
}

static void test_bounds(void)
{
    struct blob_cache *c = NULL;
    struct berr e;
    struct digest d;
    char *big = mem_malloc(BLOB_CACHE_ENTRY_MAX + 2), *out = NULL;
    size_t n = 0, kept = 0;

    CHECK_INT_EQ(blob_cache_new(&c, &e), 0);
    if (big == NULL || c == NULL)
        goto out;
    memset(big, 'x', BLOB_CACHE_ENTRY_MAX + 1);
    CHECK_INT_EQ(digest_of(&d, big, BLOB_CACHE_ENTRY_MAX + 1), 0);
    blob_cache_put(c, &d, big, BLOB_CACHE_ENTRY_MAX + 1);
    CHECK_INT_EQ(blob_cache_get(c, &d, &out, &n), 0); /* over the entry cap */
    /* entries of the cap's size, many distinct ones: the total never passes BLOB_CACHE_BYTES */
    for (unsigned i = 0; i < 2 * BLOB_CACHE_BYTES / BLOB_CACHE_ENTRY_MAX; i++) {
        struct digest di;
        (void)snprintf(big, 16, "%08u", i);
        CHECK_INT_EQ(digest_of(&di, big, BLOB_CACHE_ENTRY_MAX), 0);
        blob_cache_put(c, &di, big, BLOB_CACHE_ENTRY_MAX);
    }
    for (unsigned i = 0; i < 2 * BLOB_CACHE_BYTES / BLOB_CACHE_ENTRY_MAX; i++) {
        struct digest di;
        (void)snprintf(big, 16, "%08u", i);
        (void)digest_of(&di, big, BLOB_CACHE_ENTRY_MAX);
        if (blob_cache_get(c, &di, &out, &n) == 1) {
            kept += n;
            CHECK(memcmp(out, big, 8) == 0);
            mem_free(out);
        }
    }
    CHECK(kept > 0);
    CHECK(kept <= BLOB_CACHE_BYTES);
out:
    mem_free(big);
    blob_cache_free(c);
}

/* two blobs put and read from 4 threads at once: every hit is whole and its own */
struct race {
    struct blob_cache *c;
    const char *a, *b;
    struct digest da, db;
    int bad;
};

static void *racer(void *arg)
{
    struct race *r = arg;
    char *out = NULL;
    size_t n = 0;

    for (int i = 0; i < 20000; i++) {
        blob_cache_put(r->c, i % 2 ? &r->da : &r->db, i % 2 ? r->a : r->b,
                       strlen(i % 2 ? r->a : r->b));
        if (blob_cache_get(r->c, &r->da, &out, &n) == 1) {
            if (n != strlen(r->a) || memcmp(out, r->a, n) != 0)
                __atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
            mem_free(out);
        }
    }
    return NULL;
}

static void test_race(void)
{
    struct race r = {0};
    struct berr e;
    pthread_t t[4];
    char b[64];

    CHECK_INT_EQ(blob_cache_new(&r.c, &e), 0);
    r.a = "manifest a";
    CHECK_INT_EQ(digest_of(&r.da, r.a, strlen(r.a)), 0);
    (void)snprintf(b, sizeof(b), "manifest b");
    r.b = b;
    CHECK_INT_EQ(digest_of(&r.db, r.b, strlen(r.b)), 0);
    for (int i = 0; i < 4; i++)
        CHECK_INT_EQ(pthread_create(&t[i], NULL, racer, &r), 0);
    for (int i = 0; i < 4; i++)
        (void)pthread_join(t[i], NULL);
    CHECK_INT_EQ(r.bad, 0);
    blob_cache_free(r.c);
}

int main(void)
{
    TEST_RUN(test_put_get);
    TEST_RUN(test_bounds);
    TEST_RUN(test_race);
    return test_summary();
}
