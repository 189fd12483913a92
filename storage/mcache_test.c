/* mcache_test.c - the manifest cache: miss, put, hit; keys that differ by repository, kind or
 * reference; a bump of the repository or of everything invalidating; a put whose snapshot is
 * older than a bump stored nothing; the tag TTL (0 = tags never cached) while digest entries
 * stay; the project and role entries and their own generation; range checks and allocation failure in mcache_new; and threads that write (bump, then
 * publish a new value, then bump) while others read, no reader ever seeing a value older than
 * the last write completed before its read began. */
#include "storage/mcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/test.h"
#include "storage/meta.h"

static void repo(struct repo_name *r, const char *s)
{
    memset(r, 0, sizeof(*r));
    (void)snprintf(r->s, sizeof(r->s), "%s", s);
    r->len = strlen(r->s);
}

static void tagref(struct reference *ref, const char *t)
{
    memset(ref, 0, sizeof(*ref));
    (void)snprintf(ref->tag.s, sizeof(ref->tag.s), "%s", t);
}

static void digref(struct reference *ref, char c)
{
    memset(ref, 0, sizeof(*ref));
    ref->is_digest = true;
    memset(ref->digest.hex, c, DIGEST_HEX_LEN);
}

static void val(struct meta_manifest *m, char c, uint64_t size)
{
    memset(m, 0, sizeof(*m));
    memset(m->digest.hex, c, DIGEST_HEX_LEN);
    (void)snprintf(m->media_type, sizeof(m->media_type),
                   "application/vnd.oci.image.manifest.v1+json");
    m->size = size;
}

static void test_basic(void)
{
    struct mcache *mc = NULL;
    struct repo_name a, b;
    struct reference t1, t2, d1;
    struct meta_manifest v, got;
    struct mcache_snap snap;
    struct berr e;

    CHECK_INT_EQ(mcache_new(&mc, 64, 60000, &e), 0);
    if (mc == NULL)
        return;
    repo(&a, "p/a");
    repo(&b, "p/b");
    tagref(&t1, "v1");
    tagref(&t2, "v2");
    digref(&d1, 'a');
    val(&v, 'a', 123);
    CHECK_INT_EQ(mcache_get(mc, &a, &t1, &got), 0);
    mcache_snap(mc, &a, &snap);
    mcache_put(mc, &a, &t1, &snap, &v);
    CHECK_INT_EQ(mcache_get(mc, &a, &t1, &got), 1);
    CHECK_STR_EQ(got.digest.hex, v.digest.hex);
    CHECK_INT_EQ(got.size, 123);
    /* other repository, other tag, a digest spelled like the tag's kind: all misses */
    CHECK_INT_EQ(mcache_get(mc, &b, &t1, &got), 0);
    CHECK_INT_EQ(mcache_get(mc, &a, &t2, &got), 0);
    CHECK_INT_EQ(mcache_get(mc, &a, &d1, &got), 0);
    mcache_snap(mc, &a, &snap);
    mcache_put(mc, &a, &d1, &snap, &v);
    CHECK_INT_EQ(mcache_get(mc, &a, &d1, &got), 1);
    /* a bump of the repository drops its entries, tags and digests alike */
    mcache_bump(mc, &a);
    CHECK_INT_EQ(mcache_get(mc, &a, &t1, &got), 0);
    CHECK_INT_EQ(mcache_get(mc, &a, &d1, &got), 0);
    /* a snapshot taken before a bump stores nothing */
    mcache_snap(mc, &a, &snap);
    mcache_bump(mc, &a);
    mcache_put(mc, &a, &t1, &snap, &v);
    CHECK_INT_EQ(mcache_get(mc, &a, &t1, &got), 0);
    /* the global bump */
    mcache_snap(mc, &b, &snap);
    mcache_put(mc, &b, &t1, &snap, &v);
    CHECK_INT_EQ(mcache_get(mc, &b, &t1, &got), 1);
    mcache_bump(mc, NULL);
    CHECK_INT_EQ(mcache_get(mc, &b, &t1, &got), 0);
    mcache_snap(mc, &b, &snap);
    mcache_bump(mc, NULL);
    mcache_put(mc, &b, &t1, &snap, &v);
    CHECK_INT_EQ(mcache_get(mc, &b, &t1, &got), 0);
    CHECK(mcache_hits(mc) == 3);
    CHECK(mcache_misses(mc) > 0);
    mcache_bump(NULL, &a); /* no cache: a no-op */
    mcache_free(mc);
    mcache_free(NULL);
}

static void test_ttl(void)
{
    struct mcache *mc = NULL;
    struct repo_name a;
    struct reference t1, d1;
    struct meta_manifest v, got;
    struct mcache_snap snap;
    struct berr e;

    CHECK_INT_EQ(mcache_new(&mc, 64, 50, &e), 0);
    if (mc == NULL)
        return;
    repo(&a, "p/a");
    tagref(&t1, "latest");
    digref(&d1, 'b');
    val(&v, 'b', 9);
    mcache_snap(mc, &a, &snap);
    mcache_put(mc, &a, &t1, &snap, &v);
    mcache_put(mc, &a, &d1, &snap, &v);
    CHECK_INT_EQ(mcache_get(mc, &a, &t1, &got), 1);
    (void)usleep(80 * 1000);
    CHECK_INT_EQ(mcache_get(mc, &a, &t1, &got), 0); /* the tag's entry aged out */
    CHECK_INT_EQ(mcache_get(mc, &a, &d1, &got), 1); /* the digest's did not */
    mcache_free(mc);
    /* ttl 0: tags never cached, digests still are */
    CHECK_INT_EQ(mcache_new(&mc, 64, 0, &e), 0);
    if (mc == NULL)
        return;
    mcache_snap(mc, &a, &snap);
    mcache_put(mc, &a, &t1, &snap, &v);
    mcache_put(mc, &a, &d1, &snap, &v);
    CHECK_INT_EQ(mcache_get(mc, &a, &t1, &got), 0);
    CHECK_INT_EQ(mcache_get(mc, &a, &d1, &got), 1);
    mcache_free(mc);
}

/* projects and roles: their own generation, and the TTL (0: never cached) */
static void test_facts(void)
{
    struct mcache *mc = NULL;
    struct meta_project_info p, got;
    struct mcache_snap snap;
    struct repo_name a;
    struct berr e;
    int role = 0;

    CHECK_INT_EQ(mcache_new(&mc, 64, 60000, &e), 0);
    if (mc == NULL)
        return;
    memset(&p, 0, sizeof(p));
    p.p.id = 7;
    p.p.public = true;
    p.p.created_at = 1234;
    CHECK_INT_EQ(mcache_project_get(mc, "lib", &got), 0);
    mcache_facts_snap(mc, &snap);
    mcache_project_put(mc, "lib", &snap, &p);
    mcache_role_put(mc, 7, 3, &snap, 2);
    CHECK_INT_EQ(mcache_project_get(mc, "lib", &got), 1);
    CHECK(got.p.id == 7 && got.p.public && got.p.created_at == 1234);
    CHECK_INT_EQ(mcache_project_get(mc, "li", &got), 0);
    CHECK_INT_EQ(mcache_role_get(mc, 7, 3, &role), 1);
    CHECK_INT_EQ(role, 2);
    CHECK_INT_EQ(mcache_role_get(mc, 7, 4, &role), 0);
    CHECK_INT_EQ(mcache_role_get(mc, 73, 0, &role), 0);
    /* a manifest bump leaves facts; a facts bump drops them all */
    repo(&a, "lib/x");
    mcache_bump(mc, &a);
    mcache_bump(mc, NULL);
    CHECK_INT_EQ(mcache_project_get(mc, "lib", &got), 1);
    mcache_facts_bump(mc);
    CHECK_INT_EQ(mcache_project_get(mc, "lib", &got), 0);
    CHECK_INT_EQ(mcache_role_get(mc, 7, 3, &role), 0);
    /* a put from before a bump stores nothing */
    mcache_facts_snap(mc, &snap);
    mcache_facts_bump(mc);
    mcache_project_put(mc, "lib", &snap, &p);
    CHECK_INT_EQ(mcache_project_get(mc, "lib", &got), 0);
    mcache_facts_bump(NULL);
    mcache_free(mc);
    CHECK_INT_EQ(mcache_new(&mc, 64, 0, &e), 0);
    if (mc == NULL)
        return;
    mcache_facts_snap(mc, &snap);
    mcache_project_put(mc, "lib", &snap, &p);
    CHECK_INT_EQ(mcache_project_get(mc, "lib", &got), 0);
    mcache_free(mc);
}

static void test_new_errors(void)
{
    struct mcache *mc = (struct mcache *)&mc;
    struct berr e = {0};

    CHECK_INT_EQ(mcache_new(&mc, 0, 1000, &e), -1);
    CHECK(mc == NULL);
    CHECK_INT_EQ(mcache_new(&mc, MCACHE_ENTRIES_MAX + 1, 1000, &e), -1);
    for (int n = 0; n < 2; n++) {
        mc = (struct mcache *)&mc;
        mem_fail_after(n);
        CHECK_INT_EQ(mcache_new(&mc, 16, 1000, &e), -1);
        mem_fail_after(-1);
        CHECK(mc == NULL);
    }
}

/* ---- threads: writers publish versions, readers check they never go back ---- */

#define READERS 6
#define WRITES 3000

static struct mcache *tmc;
static _Atomic uint64_t published; /* the version the "database" holds */
static _Atomic uint64_t acked;     /* the last version whose write completed */
static _Atomic int writing_done;

static void *writer(void *arg)
{
    struct repo_name a;

    (void)arg;
    repo(&a, "p/race");
    for (uint64_t v = 1; v <= WRITES; v++) {
        mcache_bump(tmc, &a);        /* meta_manifest_put: before ... */
        atomic_store(&published, v); /* ... the commit ... */
        mcache_bump(tmc, &a);        /* ... and after */
        atomic_store(&acked, v);     /* the client is answered */
    }
    atomic_store(&writing_done, 1);
    return NULL;
}

struct reader {
    int stale, hits;
};

static void *reader(void *arg)
{
    struct reader *rd = arg;
    struct repo_name a;
    struct reference t;
    struct meta_manifest got;
    struct mcache_snap snap;

    repo(&a, "p/race");
    tagref(&t, "latest");
    while (!atomic_load(&writing_done)) {
        uint64_t floor = atomic_load(&acked), v;

        if (mcache_get(tmc, &a, &t, &got) == 1) {
            rd->hits++;
            v = got.size;
        } else {
            mcache_snap(tmc, &a, &snap);
            v = atomic_load(&published); /* the "database read" */
            val(&got, 'c', v);
            mcache_put(tmc, &a, &t, &snap, &got);
        }
        if (v < floor)
            rd->stale++;
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t w, r[READERS];
    struct reader rd[READERS];
    struct berr e;
    int stale = 0, hits = 0;

    CHECK_INT_EQ(mcache_new(&tmc, 16, 60000, &e), 0);
    if (tmc == NULL)
        return;
    for (int i = 0; i < READERS; i++) {
        rd[i] = (struct reader){0};
        CHECK_INT_EQ(pthread_create(&r[i], NULL, reader, &rd[i]), 0);
    }
    CHECK_INT_EQ(pthread_create(&w, NULL, writer, NULL), 0);
    (void)pthread_join(w, NULL);
    for (int i = 0; i < READERS; i++) {
        (void)pthread_join(r[i], NULL);
        stale += rd[i].stale;
        hits += rd[i].hits;
    }
    CHECK_INT_EQ(stale, 0);
    CHECK(hits > 0);
    fprintf(stderr, "  %d cache hits among the readers\n", hits);
    mcache_free(tmc);
}

int main(void)
{
    TEST_RUN(test_basic);
    TEST_RUN(test_ttl);
    TEST_RUN(test_facts);
    TEST_RUN(test_new_errors);
    TEST_RUN(test_threads);
    return test_summary();
}
