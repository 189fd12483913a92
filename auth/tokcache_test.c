/* tokcache_test.c - the verified-token cache: a miss, a put and a hit returning an equal deep
 * copy; keys that differ by key ID, issuer, audience or one character of the token; the window
 * (exp + leeway, nbf - leeway) checked on every hit; long tokens not stored; a put replacing a
 * slot; clear; allocation failures in new, get and put; and eight threads putting and getting
 * their own tokens at once, each always reading back its own claims. */
#include "auth/tokcache.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "auth/token.h"
#include "common/mem.h"
#include "common/test.h"

#define NOW 1700000000

static void mk(struct tok_claims *c, const char *sub, int64_t nbf, int64_t exp)
{
    struct berr e;

    tok_claims_init(c);
    if (tok_claims_fill(c, "iss-x", sub, "svc-x", nbf, exp - nbf, &e) < 0 ||
        tok_access_add(c, "repository", "p/app", SCOPE_ACT_PULL | SCOPE_ACT_PUSH, &e) < 0 ||
        tok_access_add(c, "registry", "catalog", SCOPE_ACT_PULL, &e) < 0)
        fprintf(stderr, "mk: %s\n", e.msg);
}

static void test_hit_and_miss(void)
{
    struct tokcache *tc = NULL;
    struct tok_claims c, got;
    unsigned char k[32], k2[32];
    struct berr e;

    CHECK_INT_EQ(tokcache_new(&tc, &e), 0);
    if (tc == NULL)
        return;
    mk(&c, "alice", NOW - 10, NOW + 300);
    CHECK_INT_EQ(tokcache_key(k, "KID", "iss-x", "svc-x", "a.b.c"), 0);
    CHECK_INT_EQ(tokcache_get(tc, k, NOW, 60, &got), 0);
    CHECK(got.sub == NULL && got.n_access == 0);
    tokcache_put(tc, k, 5, &c);
    CHECK_INT_EQ(tokcache_get(tc, k, NOW, 60, &got), 1);
    CHECK_STR_EQ(got.sub, "alice");
    CHECK_STR_EQ(got.iss, "iss-x");
    CHECK_STR_EQ(got.aud, "svc-x");
    CHECK_INT_EQ(got.exp, NOW + 300);
    CHECK_INT_EQ(got.n_access, 2);
    CHECK(got.access != c.access && got.sub != c.sub); /* a copy, not the stored strings */
    CHECK(tok_claims_allows(&got, "repository", "p/app", SCOPE_ACT_PUSH));
    CHECK(!tok_claims_allows(&got, "repository", "p/app", SCOPE_ACT_DELETE));
    CHECK(tok_claims_allows(&got, "registry", "catalog", SCOPE_ACT_PULL));
    tok_claims_cleanup(&got);
    /* every part of the key matters */
    CHECK_INT_EQ(tokcache_key(k2, "KID2", "iss-x", "svc-x", "a.b.c"), 0);
    CHECK(memcmp(k, k2, 32) != 0);
    CHECK_INT_EQ(tokcache_get(tc, k2, NOW, 60, &got), 0);
    CHECK_INT_EQ(tokcache_key(k2, "KID", "iss-y", "svc-x", "a.b.c"), 0);
    CHECK_INT_EQ(tokcache_get(tc, k2, NOW, 60, &got), 0);
    CHECK_INT_EQ(tokcache_key(k2, "KID", "iss-x", "svc-y", "a.b.c"), 0);
    CHECK_INT_EQ(tokcache_get(tc, k2, NOW, 60, &got), 0);
    CHECK_INT_EQ(tokcache_key(k2, "KID", "iss-x", "svc-x", "a.b.d"), 0);
    CHECK_INT_EQ(tokcache_get(tc, k2, NOW, 60, &got), 0);
    /* parts do not run into each other */
    CHECK_INT_EQ(tokcache_key(k2, "KI", "Diss-x", "svc-x", "a.b.c"), 0);
    CHECK(memcmp(k, k2, 32) != 0);
    /* clear drops it */
    tokcache_clear(tc);
    CHECK_INT_EQ(tokcache_get(tc, k, NOW, 60, &got), 0);
    tok_claims_cleanup(&c);
    tokcache_free(tc);
    tokcache_free(NULL);
}

static void test_window(void)
{
    struct tokcache *tc = NULL;
    struct tok_claims c, got;
    unsigned char k[32];
    struct berr e;

    CHECK_INT_EQ(tokcache_new(&tc, &e), 0);
    if (tc == NULL)
        return;
    mk(&c, "bob", NOW + 100, NOW + 400);
    CHECK_INT_EQ(tokcache_key(k, "KID", "iss-x", "svc-x", "t1"), 0);
    tokcache_put(tc, k, 2, &c);
    /* not yet valid: nbf > now + leeway */
    CHECK_INT_EQ(tokcache_get(tc, k, NOW + 39, 60, &got), 0);
    tokcache_put(tc, k, 2, &c);
    CHECK_INT_EQ(tokcache_get(tc, k, NOW + 40, 60, &got), 1);
    tok_claims_cleanup(&got);
    CHECK_INT_EQ(tokcache_get(tc, k, NOW + 459, 60, &got), 1);
    tok_claims_cleanup(&got);
    /* expired: now >= exp + leeway, and the entry is gone for good */
    CHECK_INT_EQ(tokcache_get(tc, k, NOW + 460, 60, &got), 0);
    CHECK_INT_EQ(tokcache_get(tc, k, NOW + 100, 60, &got), 0);
    /* a negative leeway counts as 0, like tok_verify */
    tokcache_put(tc, k, 2, &c);
    CHECK_INT_EQ(tokcache_get(tc, k, NOW + 400, -5, &got), 0);
    /* too long a token is never stored */
    tokcache_put(tc, k, TOKCACHE_TOKEN_MAX + 1, &c);
    CHECK_INT_EQ(tokcache_get(tc, k, NOW + 200, 60, &got), 0);
    tokcache_put(tc, k, TOKCACHE_TOKEN_MAX, &c);
    CHECK_INT_EQ(tokcache_get(tc, k, NOW + 200, 60, &got), 1);
    tok_claims_cleanup(&got);
    tok_claims_cleanup(&c);
    tokcache_free(tc);
}

static void test_replace(void)
{
    struct tokcache *tc = NULL;
    struct tok_claims c1, c2, got;
    unsigned char k1[32], k2[32];
    struct berr e;
    char tok[32];
    int i;

    CHECK_INT_EQ(tokcache_new(&tc, &e), 0);
    if (tc == NULL)
        return;
    mk(&c1, "one", NOW, NOW + 300);
    mk(&c2, "two", NOW, NOW + 300);
    CHECK_INT_EQ(tokcache_key(k1, "K", "i", "a", "tok-0"), 0);
    /* find a second token that maps to the same slot: it replaces the first */
    for (i = 1; i < 100000; i++) {
        (void)snprintf(tok, sizeof(tok), "tok-%d", i);
        if (tokcache_key(k2, "K", "i", "a", tok) == 0 &&
            ((k1[0] | k1[1] << 8) % TOKCACHE_SLOTS) == ((k2[0] | k2[1] << 8) % TOKCACHE_SLOTS))
            break;
    }
    CHECK(i < 100000);
    tokcache_put(tc, k1, 5, &c1);
    tokcache_put(tc, k2, 5, &c2);
    CHECK_INT_EQ(tokcache_get(tc, k1, NOW, 60, &got), 0);
    CHECK_INT_EQ(tokcache_get(tc, k2, NOW, 60, &got), 1);
    CHECK_STR_EQ(got.sub, "two");
    tok_claims_cleanup(&got);
    tok_claims_cleanup(&c1);
    tok_claims_cleanup(&c2);
    tokcache_free(tc);
}

static void test_alloc_failure(void)
{
    struct tokcache *tc = (struct tokcache *)&tc;
    struct tok_claims c, got;
    unsigned char k[32];
    struct berr e = {0};

    mem_fail_after(0);
    CHECK_INT_EQ(tokcache_new(&tc, &e), -1);
    mem_fail_after(-1);
    CHECK(tc == NULL);
    CHECK_INT_EQ(tokcache_new(&tc, &e), 0);
    if (tc == NULL)
        return;
    mk(&c, "carol", NOW, NOW + 300);
    CHECK_INT_EQ(tokcache_key(k, "K", "i", "a", "t"), 0);
    /* every allocation point (8) of the copy made by put, then by get */
    for (int n = 0; n < 8; n++) {
        mem_fail_after(n);
        tokcache_put(tc, k, 1, &c);
        mem_fail_after(-1);
        CHECK_INT_EQ(tokcache_get(tc, k, NOW, 60, &got), 0);
    }
    tokcache_put(tc, k, 1, &c);
    for (int n = 0; n < 8; n++) {
        mem_fail_after(n);
        CHECK_INT_EQ(tokcache_get(tc, k, NOW, 60, &got), -1);
        mem_fail_after(-1);
        CHECK(got.sub == NULL && got.access == NULL && got.n_access == 0);
    }
    CHECK_INT_EQ(tokcache_get(tc, k, NOW, 60, &got), 1);
    tok_claims_cleanup(&got);
    tok_claims_cleanup(&c);
    tokcache_free(tc);
}

#define THREADS 8
#define ROUNDS 2000

struct worker {
    struct tokcache *tc;
    int id;
    int hits, wrong;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct tok_claims c, got;
    char sub[32], tok[32];
    unsigned char k[32];

    for (int i = 0; i < ROUNDS; i++) {
        /* 64 tokens per thread: slots are shared between threads */
        (void)snprintf(sub, sizeof(sub), "user-%d-%d", w->id, i % 64);
        (void)snprintf(tok, sizeof(tok), "tok-%d-%d", w->id, i % 64);
        if (tokcache_key(k, "K", "i", "a", tok) < 0)
            continue;
        if (tokcache_get(w->tc, k, NOW, 60, &got) == 1) {
            w->hits++;
            if (got.sub == NULL || strcmp(got.sub, sub) != 0 || got.n_access != 2)
                w->wrong++;
            tok_claims_cleanup(&got);
            continue;
        }
        mk(&c, sub, NOW, NOW + 300);
        tokcache_put(w->tc, k, strlen(tok), &c);
        tok_claims_cleanup(&c);
    }
    return NULL;
}

static void test_threads(void)
{
    struct worker w[THREADS];
    pthread_t th[THREADS];
    struct tokcache *tc = NULL;
    struct berr e;
    int hits = 0, wrong = 0;

    CHECK_INT_EQ(tokcache_new(&tc, &e), 0);
    if (tc == NULL)
        return;
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.tc = tc, .id = i};
        CHECK_INT_EQ(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        (void)pthread_join(th[i], NULL);
        hits += w[i].hits;
        wrong += w[i].wrong;
    }
    CHECK_INT_EQ(wrong, 0);
    CHECK(hits > THREADS * ROUNDS / 2);
    tokcache_free(tc);
}

int main(void)
{
    TEST_RUN(test_hit_and_miss);
    TEST_RUN(test_window);
    TEST_RUN(test_replace);
    TEST_RUN(test_alloc_failure);
    TEST_RUN(test_threads);
    return test_summary();
}
