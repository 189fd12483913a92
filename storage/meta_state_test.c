/* meta_state_test.c - the shared state on SQLite: create-only puts and the loser's conflict,
 * compare-and-swap by version, upserts, expiry (reads, CAS, create over an expired record,
 * purge), counters with a fixed window, lists in key order across batches with early stop,
 * binary values, and concurrent compare-and-swap from threads over two handles of one file
 * (two replicas) losing no update. */
#include "storage/meta.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"
#include "storage/test_meta.h"

static char tmpdir[64];

static void test_create_only(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    int64_t v = -7;
    char *val = NULL;
    size_t len = 0;
    struct berr e;

    CHECK_INT_EQ(meta_state_get(m, "t", "a", &val, &len, &v, &e), 0);
    CHECK(val == NULL);
    CHECK_INT_EQ(v, 0);
    CHECK_INT_EQ(meta_state_put(m, "t", "a", "one", 3, 0, 0, &v, &e), 0);
    CHECK_INT_EQ(v, 1);
    /* the loser of a create race gets a conflict and reads the winner's value */
    CHECK_INT_EQ(meta_state_put(m, "t", "a", "two", 3, 0, 0, &v, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(v, 0);
    CHECK_INT_EQ(meta_state_get(m, "t", "a", &val, &len, &v, &e), 1);
    CHECK_STR_EQ(val, "one");
    CHECK_INT_EQ(len, 3);
    CHECK_INT_EQ(v, 1);
    mem_free(val);
    /* the same key in another namespace is another record */
    CHECK_INT_EQ(meta_state_put(m, "u", "a", "x", 1, 0, 0, &v, &e), 0);
    CHECK_INT_EQ(meta_state_get(m, "u", "a", &val, NULL, NULL, &e), 1);
    CHECK_STR_EQ(val, "x");
    mem_free(val);
    meta_close(m);
}

static void test_cas(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    int64_t v = 0;
    char *val = NULL;
    struct berr e;

    CHECK_INT_EQ(meta_state_put(m, "t", "k", "a", 1, 0, 5, &v, &e), -1); /* absent: conflict */
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_state_put(m, "t", "k", "a", 1, 0, META_STATE_ANY, &v, &e), 0);
    CHECK_INT_EQ(v, 1);
    CHECK_INT_EQ(meta_state_put(m, "t", "k", "b", 1, 0, 1, &v, &e), 0);
    CHECK_INT_EQ(v, 2);
    CHECK_INT_EQ(meta_state_put(m, "t", "k", "c", 1, 0, 1, &v, &e), -1); /* stale version */
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_state_get(m, "t", "k", &val, NULL, &v, &e), 1);
    CHECK_STR_EQ(val, "b");
    CHECK_INT_EQ(v, 2);
    mem_free(val);
    CHECK_INT_EQ(meta_state_put(m, "t", "k", "d", 1, 0, META_STATE_ANY, &v, &e), 0);
    CHECK_INT_EQ(v, 3);
    /* remove: a stale version keeps the record, the current one or ANY removes it */
    CHECK_INT_EQ(meta_state_remove(m, "t", "k", 2, &e), 0);
    CHECK_INT_EQ(meta_state_remove(m, "t", "k", 3, &e), 1);
    CHECK_INT_EQ(meta_state_remove(m, "t", "k", META_STATE_ANY, &e), 0);
    CHECK_INT_EQ(meta_state_get(m, "t", "k", &val, NULL, &v, &e), 0);
    CHECK_INT_EQ(meta_state_put(m, "t", "k", "e", 1, 0, META_STATE_ANY, &v, &e), 0);
    CHECK_INT_EQ(meta_state_remove(m, "t", "k", META_STATE_ANY, &e), 1);
    meta_close(m);
}

static void test_expiry(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    int64_t now = now_s(), v = 0, removed = -1;
    char *val = NULL;
    struct berr e;

    CHECK_INT_EQ(meta_state_put(m, "t", "old", "x", 1, now - 1, 0, &v, &e), 0);
    CHECK_INT_EQ(meta_state_put(m, "t", "live", "y", 1, now + 3600, 0, &v, &e), 0);
    CHECK_INT_EQ(meta_state_put(m, "t", "ever", "z", 1, 0, 0, &v, &e), 0);
    CHECK_INT_EQ(meta_state_get(m, "t", "old", &val, NULL, &v, &e), 0); /* reads as absent */
    CHECK(val == NULL);
    CHECK_INT_EQ(meta_state_get(m, "t", "live", &val, NULL, &v, &e), 1);
    mem_free(val);
    /* a CAS on the expired record's version fails; a remove finds nothing */
    CHECK_INT_EQ(meta_state_put(m, "t", "old", "x2", 2, 0, 1, &v, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_state_remove(m, "t", "old", META_STATE_ANY, &e), 0);
    /* purge removes only what expired by `now` */
    CHECK_INT_EQ(meta_state_purge(m, now, &removed, &e), 0);
    CHECK_INT_EQ(removed, 1);
    CHECK_INT_EQ(meta_state_purge(m, now, &removed, &e), 0);
    CHECK_INT_EQ(removed, 0);
    CHECK_INT_EQ(meta_state_purge(m, now + 3600, &removed, &e), 0);
    CHECK_INT_EQ(removed, 1); /* "live" at its expiry; "ever" never goes */
    CHECK_INT_EQ(meta_state_get(m, "t", "ever", &val, NULL, &v, &e), 1);
    mem_free(val);
    /* create-only over an expired (not yet purged) record succeeds, and the version goes on */
    CHECK_INT_EQ(meta_state_put(m, "t", "k", "a", 1, now - 5, 0, &v, &e), 0);
    CHECK_INT_EQ(meta_state_put(m, "t", "k", "a", 1, now - 5, META_STATE_ANY, &v, &e), 0);
    CHECK_INT_EQ(v, 2);
    CHECK_INT_EQ(meta_state_put(m, "t", "k", "b", 1, 0, 0, &v, &e), 0);
    CHECK_INT_EQ(v, 3); /* a holder of version 1 or 2 cannot match the new record */
    CHECK_INT_EQ(meta_state_put(m, "t", "k", "c", 1, 0, 2, &v, &e), -1);
    meta_close(m);
}

static void test_incr(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    int64_t now = now_s(), val = -1, v = 0;
    char *s = NULL;
    struct berr e;

    CHECK_INT_EQ(meta_state_incr(m, "c", "n", 1, now + 600, &val, &e), 0);
    CHECK_INT_EQ(val, 1);
    CHECK_INT_EQ(meta_state_incr(m, "c", "n", 4, now + 9999, &val, &e), 0);
    CHECK_INT_EQ(val, 5);
    CHECK_INT_EQ(meta_state_incr(m, "c", "n", -2, 0, &val, &e), 0);
    CHECK_INT_EQ(val, 3);
    CHECK_INT_EQ(meta_state_get(m, "c", "n", &s, NULL, &v, &e), 1);
    CHECK_STR_EQ(s, "3");
    CHECK_INT_EQ(v, 3);
    mem_free(s);
    /* the window is the first count's: the later expires was ignored */
    {
        int64_t removed = 0;
        CHECK_INT_EQ(meta_state_purge(m, now + 600, &removed, &e), 0);
        CHECK_INT_EQ(removed, 1);
    }
    /* an expired counter starts again at delta */
    CHECK_INT_EQ(meta_state_incr(m, "c", "x", 7, now - 1, &val, &e), 0);
    CHECK_INT_EQ(meta_state_incr(m, "c", "x", 2, now + 60, &val, &e), 0);
    CHECK_INT_EQ(val, 2);
    /* not a number: conflict, the record is kept; overflow: refused */
    CHECK_INT_EQ(meta_state_put(m, "c", "s", "abc", 3, 0, META_STATE_ANY, &v, &e), 0);
    CHECK_INT_EQ(meta_state_incr(m, "c", "s", 1, 0, &val, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(val, 0);
    CHECK_INT_EQ(meta_state_incr(m, "c", "big", INT64_MAX, 0, &val, &e), 0);
    CHECK_INT_EQ(meta_state_incr(m, "c", "big", 1, 0, &val, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(meta_state_get(m, "c", "big", &s, NULL, &v, &e), 1);
    CHECK_STR_EQ(s, "9223372036854775807");
    mem_free(s);
    meta_close(m);
}

struct collect {
    int n;
    int stop_at;
    char keys[200][16];
    int bad;
};

static int collect_fn(const char *key, const char *val, size_t len, int64_t version,
                      int64_t expires, void *ctx)
{
    struct collect *c = ctx;

    if (version < 1 || val[len] != '\0' || expires < 0)
        c->bad++;
    if (c->n < 200)
        snprintf(c->keys[c->n], sizeof(c->keys[0]), "%s", key);
    c->n++;
    return c->stop_at > 0 && c->n == c->stop_at ? 42 : 0;
}

static void test_list(void)
{
    struct meta *m = test_meta_open(tmpdir, 2);
    struct collect *c = calloc(1, sizeof(*c));
    int64_t now = now_s();
    char key[16];
    struct berr e;
    int i, sorted = 1;

    if (c == NULL)
        abort();
    /* 150 live records (more than two batches), 10 expired, one in another ns */
    for (i = 0; i < 160; i++) {
        snprintf(key, sizeof(key), "k%03d", (i * 37) % 160);
        CHECK_INT_EQ(
                meta_state_put(m, "l", key, key, strlen(key), i < 150 ? 0 : now - 1, 0, NULL, &e),
                0);
    }
    CHECK_INT_EQ(meta_state_put(m, "l2", "k000", "x", 1, 0, 0, NULL, &e), 0);
    CHECK_INT_EQ(meta_state_list(m, "l", collect_fn, c, &e), 0);
    CHECK_INT_EQ(c->n, 150);
    CHECK_INT_EQ(c->bad, 0);
    for (i = 1; i < c->n && i < 200; i++)
        if (strcmp(c->keys[i - 1], c->keys[i]) >= 0)
            sorted = 0;
    CHECK(sorted);
    /* a callback's non-zero return stops the walk and comes back */
    memset(c, 0, sizeof(*c));
    c->stop_at = 70;
    CHECK_INT_EQ(meta_state_list(m, "l", collect_fn, c, &e), 42);
    CHECK_INT_EQ(c->n, 70);
    memset(c, 0, sizeof(*c));
    CHECK_INT_EQ(meta_state_list(m, "empty", collect_fn, c, &e), 0);
    CHECK_INT_EQ(c->n, 0);
    free(c);
    meta_close(m);
}

static void test_binary(void)
{
    struct meta *m = test_meta_open(tmpdir, 1);
    static char big[META_STATE_VAL_MAX];
    char bin[4] = {'a', '\0', 'b', '\0'};
    char *val = NULL;
    size_t len = 0;
    struct berr e;
    size_t i;

    CHECK_INT_EQ(meta_state_put(m, "b", "z", bin, sizeof(bin), 0, 0, NULL, &e), 0);
    CHECK_INT_EQ(meta_state_get(m, "b", "z", &val, &len, NULL, &e), 1);
    CHECK_INT_EQ(len, 4);
    CHECK(val != NULL && memcmp(val, bin, 4) == 0 && val[4] == '\0');
    mem_free(val);
    CHECK_INT_EQ(meta_state_put(m, "b", "empty", NULL, 0, 0, 0, NULL, &e), 0);
    CHECK_INT_EQ(meta_state_get(m, "b", "empty", &val, &len, NULL, &e), 1);
    CHECK_INT_EQ(len, 0);
    CHECK_STR_EQ(val, "");
    mem_free(val);
    for (i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 7);
    CHECK_INT_EQ(meta_state_put(m, "b", "big", big, sizeof(big), 0, 0, NULL, &e), 0);
    CHECK_INT_EQ(meta_state_get(m, "b", "big", &val, &len, NULL, &e), 1);
    CHECK_INT_EQ(len, sizeof(big));
    CHECK(val != NULL && memcmp(val, big, sizeof(big)) == 0);
    mem_free(val);
    meta_close(m);
}

/* ---- concurrent compare-and-swap: every thread adds one to a counter kept as text, by
 * read-modify-CAS with retry; half of the threads use a second handle of the same file (a
 * second replica). No update may be lost. ---- */

#define CAS_THREADS 8
#define CAS_ROUNDS 40

struct cas_arg {
    struct meta *m;
    int conflicts;
    int failures;
};

static void *cas_worker(void *p)
{
    struct cas_arg *a = p;
    struct berr e;
    int r;

    for (r = 0; r < CAS_ROUNDS; r++) {
        for (;;) {
            char *val = NULL, text[32];
            int64_t v = 0;
            long n;
            int rc = meta_state_get(a->m, "cas", "n", &val, NULL, &v, &e);

            if (rc != 1) {
                a->failures++;
                mem_free(val);
                return NULL;
            }
            n = strtol(val, NULL, 10);
            mem_free(val);
            snprintf(text, sizeof(text), "%ld", n + 1);
            if (meta_state_put(a->m, "cas", "n", text, strlen(text), 0, v, NULL, &e) == 0)
                break;
            if (e.code != BERR_CONFLICT) {
                a->failures++;
                return NULL;
            }
            a->conflicts++;
        }
    }
    return NULL;
}

static void test_concurrent_cas(void)
{
    char path[256];
    struct meta *m1 = test_meta_open_at(tmpdir, 4, path, sizeof(path));
    struct meta *m2 = NULL;
    struct cas_arg args[CAS_THREADS];
    pthread_t th[CAS_THREADS];
    int conflicts = 0, failures = 0, i;
    char *val = NULL;
    int64_t v = 0;
    struct berr e;

    if (meta_open(&m2, path, 4, &e) < 0) {
        fprintf(stderr, "meta_open: %s\n", e.msg);
        abort();
    }
    CHECK_INT_EQ(meta_state_put(m1, "cas", "n", "0", 1, 0, 0, NULL, &e), 0);
    memset(args, 0, sizeof(args));
    for (i = 0; i < CAS_THREADS; i++) {
        args[i].m = i % 2 == 0 ? m1 : m2;
        CHECK_INT_EQ(pthread_create(&th[i], NULL, cas_worker, &args[i]), 0);
    }
    for (i = 0; i < CAS_THREADS; i++) {
        (void)pthread_join(th[i], NULL);
        conflicts += args[i].conflicts;
        failures += args[i].failures;
    }
    CHECK_INT_EQ(failures, 0);
    CHECK_INT_EQ(meta_state_get(m2, "cas", "n", &val, NULL, &v, &e), 1);
    CHECK(val != NULL && strtol(val, NULL, 10) == CAS_THREADS * CAS_ROUNDS);
    CHECK_INT_EQ(v, 1 + CAS_THREADS * CAS_ROUNDS); /* one version per successful put */
    mem_free(val);
    printf("# %d conflicts retried\n", conflicts);
    meta_close(m2);
    meta_close(m1);
}

struct incr_arg {
    struct meta *m;
    int failures;
};

static void *incr_worker(void *p)
{
    struct incr_arg *a = p;
    struct berr e;
    int r;

    for (r = 0; r < CAS_ROUNDS; r++)
        if (meta_state_incr(a->m, "cnt", "n", 1, 0, NULL, &e) < 0)
            a->failures++;
    return NULL;
}

static void test_concurrent_incr(void)
{
    char path[256];
    struct meta *m1 = test_meta_open_at(tmpdir, 4, path, sizeof(path));
    struct meta *m2 = NULL;
    struct incr_arg args[CAS_THREADS];
    pthread_t th[CAS_THREADS];
    int failures = 0, i;
    int64_t val = 0;
    struct berr e;

    if (meta_open(&m2, path, 4, &e) < 0) {
        fprintf(stderr, "meta_open: %s\n", e.msg);
        abort();
    }
    memset(args, 0, sizeof(args));
    for (i = 0; i < CAS_THREADS; i++) {
        args[i].m = i % 2 == 0 ? m1 : m2;
        CHECK_INT_EQ(pthread_create(&th[i], NULL, incr_worker, &args[i]), 0);
    }
    for (i = 0; i < CAS_THREADS; i++) {
        (void)pthread_join(th[i], NULL);
        failures += args[i].failures;
    }
    CHECK_INT_EQ(failures, 0);
    CHECK_INT_EQ(meta_state_incr(m1, "cnt", "n", 0, 0, &val, &e), 0);
    CHECK_INT_EQ(val, CAS_THREADS * CAS_ROUNDS);
    meta_close(m2);
    meta_close(m1);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "state-test");
    TEST_RUN(test_create_only);
    TEST_RUN(test_cas);
    TEST_RUN(test_expiry);
    TEST_RUN(test_incr);
    TEST_RUN(test_list);
    TEST_RUN(test_binary);
    TEST_RUN(test_concurrent_cas);
    TEST_RUN(test_concurrent_incr);
    test_rm_rf(tmpdir);
    return test_summary();
}
