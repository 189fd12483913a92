/* token_ring_test.c - the shared token signing key: the first start imports an existing key
 * file (tokens signed with it stay valid) or makes one, two replicas (two rings over two
 * handles of one database) sign with the same key and verify each other's tokens, two first
 * starts racing end with one key, rotation (new rings sign with the new key, old tokens still
 * verify everywhere, the retired key carries an expiry and is gone after the purge), unknown
 * kids and garbage are refused, and a ring of one key without a store. */
#include "auth/token_ring.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"
#include "storage/meta.h"
#include "storage/test_meta.h"

static char tmpdir[64];

static char *issue(const struct tok_key *k, const char *sub)
{
    struct tok_claims c;
    struct berr e;
    char *t = NULL;

    tok_claims_init(&c);
    if (tok_claims_fill(&c, "iss", sub, "svc", now_s(), 600, &e) < 0 ||
        tok_issue(&t, k, &c, &e) < 0)
        t = NULL;
    tok_claims_cleanup(&c);
    return t;
}

static int verify(struct tok_ring *r, const char *t, char *sub_out, size_t cap, struct berr *e)
{
    struct tok_claims c;
    int rc;

    if (t == NULL)
        return -2;
    rc = tok_ring_verify(&c, r, t, "iss", "svc", now_s(), 60, e);
    if (rc == 0 && sub_out != NULL)
        (void)snprintf(sub_out, cap, "%s", c.sub);
    tok_claims_cleanup(&c);
    return rc;
}

struct count {
    int keys;
    int expiring;
};

static int count_fn(const char *key, const char *val, size_t len, int64_t version, int64_t expires,
                    void *ctx)
{
    struct count *c = ctx;

    (void)val, (void)len, (void)version;
    if (strcmp(key, "signer") == 0)
        return 0;
    c->keys++;
    if (expires > 0)
        c->expiring++;
    return 0;
}

static void test_import_and_replicas(void)
{
    char path[256], keyfile[300], sub[64];
    struct meta *m1 = test_meta_open_at(tmpdir, 2, path, sizeof(path));
    struct meta *m2 = NULL;
    struct tok_key *old = NULL;
    struct tok_ring *a = NULL, *b = NULL;
    char *t_old = NULL, *t_a = NULL, *t_b = NULL;
    struct count cn = {0, 0};
    struct berr e;

    if (meta_open(&m2, path, 2, &e) < 0)
        abort();
    /* a single-host installation's key file, and a token it signed */
    (void)snprintf(keyfile, sizeof(keyfile), "%s/token.key", tmpdir);
    CHECK_INT_EQ(tok_key_load_or_create(&old, keyfile, &e), 0);
    t_old = issue(old, "alice");
    CHECK_INT_EQ(tok_ring_open(&a, m1, keyfile, &e), 0);
    if (a == NULL)
        goto out;
    CHECK_STR_EQ(tok_key_kid(tok_ring_signer(a)), tok_key_kid(old)); /* imported */
    CHECK_INT_EQ(verify(a, t_old, sub, sizeof(sub), &e), 0);
    CHECK_STR_EQ(sub, "alice");
    /* replica B has another data directory: no file; it uses the store's key */
    CHECK_INT_EQ(tok_ring_open(&b, m2, NULL, &e), 0);
    if (b == NULL)
        goto out;
    CHECK_STR_EQ(tok_key_kid(tok_ring_signer(b)), tok_key_kid(old));
    t_a = issue(tok_ring_signer(a), "from-a");
    t_b = issue(tok_ring_signer(b), "from-b");
    CHECK_INT_EQ(verify(b, t_a, sub, sizeof(sub), &e), 0);
    CHECK_STR_EQ(sub, "from-a");
    CHECK_INT_EQ(verify(a, t_b, sub, sizeof(sub), &e), 0);
    CHECK_INT_EQ(verify(b, t_old, NULL, 0, &e), 0);
    CHECK_INT_EQ(meta_state_list(m1, "token_key", count_fn, &cn, &e), 0);
    CHECK_INT_EQ(cn.keys, 1);
    CHECK_INT_EQ(cn.expiring, 0);
out:
    mem_free(t_old);
    mem_free(t_a);
    mem_free(t_b);
    tok_key_free(old);
    tok_ring_free(a);
    tok_ring_free(b);
    meta_close(m2);
    meta_close(m1);
}

static void test_rotation(void)
{
    char path[256], sub[64], newkid[TOK_KID_LEN + 1];
    struct meta *m = test_meta_open_at(tmpdir, 2, path, sizeof(path));
    struct tok_ring *a = NULL, *c = NULL, *d = NULL;
    char *t_a = NULL, *t_c = NULL;
    struct count cn = {0, 0};
    int64_t removed = 0;
    struct berr e;

    CHECK_INT_EQ(tok_ring_rotate(m, 60, newkid, &e), -1); /* nothing stored yet */
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(tok_ring_open(&a, m, NULL, &e), 0);
    if (a == NULL)
        goto out;
    t_a = issue(tok_ring_signer(a), "before");
    CHECK_INT_EQ(tok_ring_rotate(m, 60, newkid, &e), 0);
    CHECK(strcmp(newkid, tok_key_kid(tok_ring_signer(a))) != 0);
    /* a replica started now signs with the new key; a running one learns it within
     * TOK_RING_REFRESH_S and meanwhile verifies the new key's tokens by their kid */
    CHECK_INT_EQ(tok_ring_open(&c, m, NULL, &e), 0);
    if (c == NULL)
        goto out;
    CHECK_STR_EQ(tok_key_kid(tok_ring_signer(c)), newkid);
    t_c = issue(tok_ring_signer(c), "after");
    CHECK_INT_EQ(verify(a, t_c, sub, sizeof(sub), &e), 0);
    CHECK_STR_EQ(sub, "after");
    CHECK_INT_EQ(verify(c, t_a, sub, sizeof(sub), &e), 0); /* old tokens stay valid */
    CHECK_STR_EQ(sub, "before");
    /* the retired key ends keep_s + TOK_RING_REFRESH_S from now; the purge then drops it */
    CHECK_INT_EQ(meta_state_list(m, "token_key", count_fn, &cn, &e), 0);
    CHECK_INT_EQ(cn.keys, 2);
    CHECK_INT_EQ(cn.expiring, 1);
    CHECK_INT_EQ(meta_state_purge(m, now_s() + 60 + TOK_RING_REFRESH_S - 5, &removed, &e), 0);
    CHECK_INT_EQ(removed, 0);
    CHECK_INT_EQ(meta_state_purge(m, now_s() + 60 + TOK_RING_REFRESH_S + 5, &removed, &e), 0);
    CHECK_INT_EQ(removed, 1);
    CHECK_INT_EQ(tok_ring_open(&d, m, NULL, &e), 0);
    if (d != NULL) {
        CHECK_INT_EQ(verify(d, t_a, NULL, 0, &e), -1); /* the dropped key verifies nothing */
        CHECK_INT_EQ(e.code, BERR_UNAUTHORIZED);
        CHECK_STR_EQ(e.msg, "unknown key");
        CHECK_INT_EQ(verify(d, t_c, NULL, 0, &e), 0);
    }
    /* garbage and a kid nobody stored */
    CHECK_INT_EQ(verify(c, "abc", NULL, 0, &e), -1);
    CHECK_INT_EQ(e.code, BERR_UNAUTHORIZED);
    CHECK_INT_EQ(verify(c, "eyJhbGciOiJSUzI1NiIsImtpZCI6IkFBQUEifQ.e30.AAAA", NULL, 0, &e), -1);
    CHECK_INT_EQ(e.code, BERR_UNAUTHORIZED);
out:
    mem_free(t_a);
    mem_free(t_c);
    tok_ring_free(a);
    tok_ring_free(c);
    tok_ring_free(d);
    meta_close(m);
}

/* two first starts racing on one empty store end with one signing key */
struct race_arg {
    struct meta *m;
    struct tok_ring *r;
    int rc;
};

static void *race_open(void *p)
{
    struct race_arg *a = p;
    struct berr e;

    a->rc = tok_ring_open(&a->r, a->m, NULL, &e);
    return NULL;
}

static void test_first_start_race(void)
{
    char path[256];
    struct meta *m1 = test_meta_open_at(tmpdir, 2, path, sizeof(path));
    struct meta *m2 = NULL;
    struct race_arg ra[2];
    pthread_t th[2];
    struct count cn = {0, 0};
    struct berr e;

    if (meta_open(&m2, path, 2, &e) < 0)
        abort();
    memset(ra, 0, sizeof(ra));
    ra[0].m = m1;
    ra[1].m = m2;
    for (int i = 0; i < 2; i++)
        CHECK_INT_EQ(pthread_create(&th[i], NULL, race_open, &ra[i]), 0);
    for (int i = 0; i < 2; i++)
        (void)pthread_join(th[i], NULL);
    CHECK_INT_EQ(ra[0].rc, 0);
    CHECK_INT_EQ(ra[1].rc, 0);
    if (ra[0].r != NULL && ra[1].r != NULL)
        CHECK_STR_EQ(tok_key_kid(tok_ring_signer(ra[0].r)), tok_key_kid(tok_ring_signer(ra[1].r)));
    CHECK_INT_EQ(meta_state_list(m1, "token_key", count_fn, &cn, &e), 0);
    CHECK_INT_EQ(cn.keys, 1); /* the loser removed its key */
    tok_ring_free(ra[0].r);
    tok_ring_free(ra[1].r);
    meta_close(m2);
    meta_close(m1);
}

static void test_fixed_ring(void)
{
    struct tok_key *k = NULL, *other = NULL;
    struct tok_ring *r = NULL;
    char *t = NULL, *t2 = NULL;
    struct berr e;

    CHECK_INT_EQ(tok_key_generate(&k, 2048, &e), 0);
    CHECK_INT_EQ(tok_key_generate(&other, 2048, &e), 0);
    CHECK_INT_EQ(tok_ring_from_key(&r, k, &e), 0);
    if (r != NULL) {
        t = issue(tok_ring_signer(r), "x");
        t2 = issue(other, "x");
        CHECK_INT_EQ(verify(r, t, NULL, 0, &e), 0);
        CHECK_INT_EQ(verify(r, t2, NULL, 0, &e), -1); /* no store to ask */
        CHECK_STR_EQ(e.msg, "unknown key");
    }
    tok_ring_free(r);
    CHECK_INT_EQ(tok_ring_from_key(&r, NULL, &e), -1);
    CHECK(r == NULL);
    mem_free(t);
    mem_free(t2);
    tok_key_free(other);
    tok_ring_free(NULL);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "token-ring-test");
    TEST_RUN(test_import_and_replicas);
    TEST_RUN(test_rotation);
    TEST_RUN(test_first_start_race);
    TEST_RUN(test_fixed_ring);
    test_rm_rf(tmpdir);
    return test_summary();
}
