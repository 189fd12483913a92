/* authn_test.c - authn against a temporary database: users (right, wrong, unknown, malformed
 * headers), robots with the default and a custom prefix (enabled, wrong secret, disabled,
 * expired, a name with the other prefix), the success cache and authn_forget, throttling by
 * user and address, and bearer tokens (valid user/robot/anonymous, tampered, wrong audience,
 * wrong issuer, expired, another key, not a bearer header, the same token twice), and concurrent
 * logins with the same credentials sharing one password check (flights). */
#include "auth/authn.h"
#include "auth/token_ring.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "auth/password.h"
#include "auth/token.h"
#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"
#include "storage/meta.h"

static char tmpdir[] = "/tmp/berth-authn-test-XXXXXX";
static struct meta *m;
static struct authn *a;
static int64_t robot_ci_id, robot_off_id, robot_old_id, robot_dash_id;
static int64_t project_p;

/* basic builds "Basic base64(user:pass)" into out. */
static void basic(char *out, size_t cap, const char *user, const char *pass)
{
    char plain[512];
    unsigned char enc[800];
    int n = snprintf(plain, sizeof(plain), "%s:%s", user, pass);
    int len;

    if (n < 0 || (size_t)n >= sizeof(plain)) {
        out[0] = '\0';
        return;
    }
    len = EVP_EncodeBlock(enc, (const unsigned char *)plain, n);
    (void)snprintf(out, cap, "Basic %.*s", len, (const char *)enc);
}

static int64_t mk_robot(const char *name, const char *secret, int64_t project_id, bool disabled,
                        int64_t expires_at)
{
    struct meta_robot rb;
    struct meta_robot_perm perm = {.ns = "p", .actions = META_ACT_PULL};
    struct berr e;
    int64_t id = 0;

    memset(&rb, 0, sizeof(rb));
    (void)snprintf(rb.name, sizeof(rb.name), "%s", name);
    if (password_hash(rb.secret_hash, sizeof(rb.secret_hash), secret, &e) < 0)
        return 0;
    rb.project_id = project_id;
    rb.disabled = disabled;
    rb.expires_at = expires_at;
    rb.duration_days = -1;
    if (meta_robot_create(m, &rb, &perm, 1, &id, &e) < 0) {
        fprintf(stderr, "meta_robot_create %s: %s\n", name, e.msg);
        return 0;
    }
    return id;
}

static int setup(void)
{
    char path[256], hash[PASSWORD_HASH_MAX];
    struct berr e;
    int64_t pid = 0;
    int n;

    if (mkdtemp(tmpdir) == NULL)
        return -1;
    n = snprintf(path, sizeof(path), "%s/t.db", tmpdir);
    if (n < 0 || (size_t)n >= sizeof(path) || meta_open(&m, path, 4, &e) < 0)
        return -1;
    if (authn_new(&a, m, &e) < 0)
        return -1;
    if (password_hash(hash, sizeof(hash), "Alice-pass1", &e) < 0 ||
        meta_user_create(m, "alice", hash, false, NULL, &e) < 0 ||
        password_hash(hash, sizeof(hash), "Root-pass1", &e) < 0 ||
        meta_user_create(m, "root", hash, true, NULL, &e) < 0)
        return -1;
    if (meta_project_create(m, "p", false, 0, -1, &pid, &e) < 0)
        return -1;
    project_p = pid;
    robot_ci_id = mk_robot("robot$p+ci", "Sekret-ci-1", pid, false, 0);
    robot_off_id = mk_robot("robot$p+off", "Sekret-off-1", pid, true, 0);
    robot_old_id = mk_robot("robot$p+old", "Sekret-old-1", pid, false, now_s() - 10);
    robot_dash_id = mk_robot("robot-p+ci", "Sekret-dash-1", pid, false, now_s() + 3600);
    return robot_ci_id > 0 && robot_off_id > 0 && robot_old_id > 0 && robot_dash_id > 0 ? 0 : -1;
}

static int try_basic(const char *user, const char *pass, struct principal *who, struct berr *e)
{
    char h[1024];

    basic(h, sizeof(h), user, pass);
    return authn_basic(a, h, who, e);
}

static void test_users(void)
{
    struct principal who;
    struct berr e1 = {0}, e2 = {0};

    CHECK_INT_EQ(try_basic("alice", "Alice-pass1", &who, &e1), 0);
    CHECK_STR_EQ(who.name, "alice");
    CHECK_INT_EQ(who.kind, PRINCIPAL_USER);
    CHECK(who.user_id > 0);
    CHECK_INT_EQ(who.robot_id, 0);
    CHECK(!who.sysadmin);
    CHECK(!who.bearer);
    /* a second time comes from the cache and says the same */
    memset(&who, 0x5a, sizeof(who));
    CHECK_INT_EQ(try_basic("alice", "Alice-pass1", &who, &e1), 0);
    CHECK_STR_EQ(who.name, "alice");
    CHECK_INT_EQ(who.kind, PRINCIPAL_USER);
    CHECK(who.user_id > 0);
    CHECK_INT_EQ(try_basic("root", "Root-pass1", &who, &e1), 0);
    CHECK(who.sysadmin);

    CHECK_INT_EQ(try_basic("alice", "wrong", &who, &e1), -1);
    CHECK_INT_EQ(e1.code, BERR_UNAUTHORIZED);
    CHECK_STR_EQ(who.name, "");
    CHECK_INT_EQ(who.kind, PRINCIPAL_ANONYMOUS);
    CHECK_INT_EQ(try_basic("nobody", "Alice-pass1", &who, &e2), -1);
    CHECK_INT_EQ(e2.code, BERR_UNAUTHORIZED);
    CHECK_STR_EQ(e1.msg, e2.msg); /* nothing tells which users exist */

    CHECK_INT_EQ(authn_basic(a, "Bearer abc", &who, &e1), -1);
    CHECK_INT_EQ(authn_basic(a, "Basic !!!!", &who, &e1), -1);
    CHECK_INT_EQ(authn_basic(a, "Basic YWxpY2U=", &who, &e1), -1); /* "alice", no colon */
    CHECK_INT_EQ(authn_basic(a, "Basic ", &who, &e1), -1);
    CHECK_INT_EQ(e1.code, BERR_UNAUTHORIZED);
}

static void test_robots_default_prefix(void)
{
    struct principal who;
    struct berr e = {0};

    CHECK_STR_EQ(authn_robot_prefix(a), "robot$");
    CHECK_INT_EQ(try_basic("robot$p+ci", "Sekret-ci-1", &who, &e), 0);
    CHECK_INT_EQ(who.kind, PRINCIPAL_ROBOT);
    CHECK_INT_EQ(who.robot_id, robot_ci_id);
    CHECK_INT_EQ(who.user_id, 0);
    CHECK_STR_EQ(who.name, "robot$p+ci");
    CHECK(!who.sysadmin);

    CHECK_INT_EQ(try_basic("robot$p+ci", "Sekret-ci-2", &who, &e), -1);
    CHECK_STR_EQ(e.msg, "invalid username or password");
    CHECK_INT_EQ(try_basic("robot$p+off", "Sekret-off-1", &who, &e), -1);
    CHECK_INT_EQ(e.code, BERR_UNAUTHORIZED);
    CHECK_STR_EQ(e.msg, "robot account is disabled");
    CHECK_INT_EQ(try_basic("robot$p+off", "wrong", &who, &e), -1);
    CHECK_STR_EQ(e.msg, "invalid username or password"); /* no hint without the secret */
    CHECK_INT_EQ(try_basic("robot$p+old", "Sekret-old-1", &who, &e), -1);
    CHECK_STR_EQ(e.msg, "robot account has expired");
    CHECK_INT_EQ(try_basic("robot$p+none", "x", &who, &e), -1);
    CHECK_INT_EQ(e.code, BERR_UNAUTHORIZED);
    /* "robot-..." is no robot with this prefix: looked up among users, and unknown */
    CHECK_INT_EQ(try_basic("robot-p+ci", "Sekret-dash-1", &who, &e), -1);
    CHECK_INT_EQ(e.code, BERR_UNAUTHORIZED);
}

static void test_cache_and_forget(void)
{
    struct principal who;
    struct meta_robot rb;
    struct berr e = {0};

    CHECK_INT_EQ(try_basic("robot$p+ci", "Sekret-ci-1", &who, &e), 0);
    CHECK_INT_EQ(meta_robot_get_by_id(m, robot_ci_id, &rb, &e), 0);
    rb.disabled = true;
    CHECK_INT_EQ(meta_robot_update(m, robot_ci_id, &rb, NULL, 0, &e), 0);
    /* disabled in the database (by this or another replica): the cached login ends, without
     * authn_forget, once the entry's recheck window has run out (test_cache_other_replica);
     * authn_forget (what this process's API calls) ends it at once */
    authn_forget(a, "robot$p+ci");
    CHECK_INT_EQ(try_basic("robot$p+ci", "Sekret-ci-1", &who, &e), -1);
    CHECK_STR_EQ(e.msg, "robot account is disabled");
    rb.disabled = false;
    CHECK_INT_EQ(meta_robot_update(m, robot_ci_id, &rb, NULL, 0, &e), 0);
    CHECK_INT_EQ(try_basic("robot$p+ci", "Sekret-ci-1", &who, &e), 0);
}

/* a password changed by another replica (straight in the database, no authn_forget here) ends
 * the cached login once the entry's recheck window (META_REPLICA_WINDOW_MS) has run out, not
 * before: inside it a cached login reads no row; the new password works; a sysadmin change shows
 * after the window too */
static void test_cache_other_replica(void)
{
    struct timespec window = {META_REPLICA_WINDOW_MS / 1000,
                              (META_REPLICA_WINDOW_MS % 1000 + 100) * 1000000L};
    char hash[PASSWORD_HASH_MAX];
    struct principal who;
    struct berr e = {0};
    int64_t id = 0;

    CHECK_INT_EQ(password_hash(hash, sizeof(hash), "Carol-pass-1", &e), 0);
    CHECK_INT_EQ(meta_user_create(m, "carol", hash, false, &id, &e), 0);
    CHECK(id > 0);
    CHECK_INT_EQ(try_basic("carol", "Carol-pass-1", &who, &e), 0); /* verified */
    CHECK_INT_EQ(try_basic("carol", "Carol-pass-1", &who, &e), 0); /* cached */
    CHECK(!who.sysadmin);
    CHECK_INT_EQ(meta_user_set_sysadmin(m, id, true, &e), 0);
    CHECK_INT_EQ(try_basic("carol", "Carol-pass-1", &who, &e), 0);
    CHECK(!who.sysadmin); /* inside the window: the entry as it was */
    (void)nanosleep(&window, NULL);
    CHECK_INT_EQ(try_basic("carol", "Carol-pass-1", &who, &e), 0);
    CHECK(who.sysadmin);
    CHECK_INT_EQ(password_hash(hash, sizeof(hash), "Carol-pass-2", &e), 0);
    CHECK_INT_EQ(meta_user_set_password(m, id, hash, &e), 0);
    (void)nanosleep(&window, NULL);
    CHECK_INT_EQ(try_basic("carol", "Carol-pass-1", &who, &e), -1);
    CHECK_INT_EQ(e.code, BERR_UNAUTHORIZED);
    CHECK_INT_EQ(try_basic("carol", "Carol-pass-2", &who, &e), 0);
}

/* a robot's cached login ends at the robot's expiry, not AUTHN_CACHE_TTL_S later */
static void test_cache_ends_at_robot_expiry(void)
{
    int64_t until = now_s() + 2, deadline = now_ms_mono() + 10000;
    struct timespec tick = {0, 50 * 1000 * 1000};
    struct principal who;
    struct berr e = {0};

    CHECK(mk_robot("robot$p+soon", "Sekret-soon-1", project_p, false, until) > 0);
    CHECK_INT_EQ(try_basic("robot$p+soon", "Sekret-soon-1", &who, &e), 0); /* verified */
    CHECK_INT_EQ(try_basic("robot$p+soon", "Sekret-soon-1", &who, &e), 0); /* cached */
    while (now_s() < until && now_ms_mono() < deadline)
        (void)nanosleep(&tick, NULL); /* an early wake-up only polls again */
    CHECK(now_s() >= until);
    CHECK_INT_EQ(try_basic("robot$p+soon", "Sekret-soon-1", &who, &e), -1);
    CHECK_STR_EQ(e.msg, "robot account has expired");
}

static void test_custom_prefix(void)
{
    struct principal who;
    struct berr e = {0};

    CHECK_INT_EQ(authn_configure(a, "", 5, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(authn_configure(a, "0123456789012345678901234567890123", 5, &e), -1);
    CHECK_STR_EQ(authn_robot_prefix(a), "robot$");
    CHECK_INT_EQ(authn_configure(a, "robot-", 3, &e), 0);
    CHECK_STR_EQ(authn_robot_prefix(a), "robot-");
    CHECK_INT_EQ(try_basic("robot-p+ci", "Sekret-dash-1", &who, &e), 0);
    CHECK_INT_EQ(who.kind, PRINCIPAL_ROBOT);
    CHECK_INT_EQ(who.robot_id, robot_dash_id);
    /* robot$ names are now plain user names: no such user. The cache may still hold the
     * earlier success of robot$p+ci under the old prefix: forget it first. */
    authn_forget(a, "robot$p+ci");
    CHECK_INT_EQ(try_basic("robot$p+ci", "Sekret-ci-1", &who, &e), -1);
    CHECK_INT_EQ(e.code, BERR_UNAUTHORIZED);
    CHECK_INT_EQ(authn_configure(a, "robot$", 3, &e), 0);
}

static void test_throttle(void)
{
    struct principal who;
    struct berr e = {0};
    unsigned retry = 7;
    char h[1024];

    /* limit 3 since test_custom_prefix */
    basic(h, sizeof(h), "alice", "bad");
    for (int i = 0; i < 3; i++) {
        CHECK_INT_EQ(authn_basic_from(a, h, "10.1.1.1", &who, &retry, &e), -1);
        CHECK_INT_EQ(e.code, BERR_UNAUTHORIZED);
        CHECK_INT_EQ(retry, 0);
    }
    basic(h, sizeof(h), "alice", "Alice-pass1");
    CHECK_INT_EQ(authn_basic_from(a, h, "10.1.1.1", &who, &retry, &e), -1);
    CHECK_INT_EQ(e.code, BERR_TOOMANYREQUESTS);
    CHECK(retry >= 1);
    CHECK_STR_EQ(who.name, "");
    /* the same user from elsewhere, and the legacy unthrottled call, still work */
    CHECK_INT_EQ(authn_basic_from(a, h, "10.1.1.2", &who, &retry, &e), 0);
    CHECK_INT_EQ(retry, 0);
    CHECK_INT_EQ(authn_basic(a, h, &who, &e), 0);
    /* authn_password throttles the same pairs */
    CHECK_INT_EQ(authn_password(a, "alice", "Alice-pass1", "10.1.1.1", &who, &retry, &e), -1);
    CHECK_INT_EQ(e.code, BERR_TOOMANYREQUESTS);
    CHECK_INT_EQ(authn_password(a, "root", "Root-pass1", "10.1.1.1", &who, &retry, &e), 0);
    CHECK(who.sysadmin);
    CHECK_INT_EQ(authn_password(a, "", "x", NULL, &who, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_UNAUTHORIZED);

    /* a cached login keeps the throttle key of the address it last came from (cache_pair):
     * failures from another address block the right password there, not here, and failures
     * from the kept address block it through the kept key */
    CHECK_INT_EQ(authn_password(a, "root", "Root-pass1", "10.2.2.2", &who, &retry, &e), 0);
    CHECK_INT_EQ(authn_password(a, "root", "Root-pass1", "10.2.2.2", &who, &retry, &e), 0);
    for (int i = 0; i < 3; i++) {
        CHECK_INT_EQ(authn_password(a, "root", "bad", "10.2.2.3", &who, &retry, &e), -1);
        CHECK_INT_EQ(e.code, BERR_UNAUTHORIZED);
    }
    CHECK_INT_EQ(authn_password(a, "root", "Root-pass1", "10.2.2.3", &who, &retry, &e), -1);
    CHECK_INT_EQ(e.code, BERR_TOOMANYREQUESTS);
    CHECK_INT_EQ(authn_password(a, "root", "Root-pass1", "10.2.2.2", &who, &retry, &e), 0);
    CHECK_INT_EQ(authn_password(a, "root", "Root-pass1", "10.2.2.2", &who, &retry, &e), 0);
    for (int i = 0; i < 3; i++)
        CHECK_INT_EQ(authn_password(a, "root", "bad", "10.2.2.2", &who, &retry, &e), -1);
    CHECK_INT_EQ(authn_password(a, "root", "Root-pass1", "10.2.2.2", &who, &retry, &e), -1);
    CHECK_INT_EQ(e.code, BERR_TOOMANYREQUESTS);
}

static char *issue(const struct tok_key *k, const char *iss, const char *sub, const char *aud,
                   int64_t iat, int64_t ttl)
{
    struct tok_claims c;
    struct berr e;
    char *t = NULL;

    tok_claims_init(&c);
    if (tok_claims_fill(&c, iss, sub, aud, iat, ttl, &e) < 0 ||
        tok_access_add(&c, "repository", "p/app", 3, &e) < 0 || tok_issue(&t, k, &c, &e) < 0)
        t = NULL;
    tok_claims_cleanup(&c);
    return t;
}

static int try_bearer(struct tok_ring *k, const char *tok, struct principal *who, struct berr *e)
{
    char h[TOK_MAX_LEN + 16];
    struct tok_claims c;
    int rc;

    (void)snprintf(h, sizeof(h), "Bearer %s", tok);
    rc = authn_bearer(a, k, h, "iss-x", "svc-x", &c, who, e);
    if (rc == 0)
        CHECK(tok_claims_allows(&c, "repository", "p/app", 2));
    tok_claims_cleanup(&c);
    return rc;
}

static void test_bearer(void)
{
    struct tok_key *k = NULL, *other = NULL;
    struct tok_ring *ring = NULL, *other_ring = NULL;
    struct principal who;
    struct tok_claims c;
    struct berr e = {0};
    int64_t now = now_s();
    char *t;

    CHECK_INT_EQ(tok_key_generate(&k, 2048, &e), 0);
    CHECK_INT_EQ(tok_key_generate(&other, 2048, &e), 0);
    if (k == NULL || other == NULL)
        goto out;
    CHECK_INT_EQ(tok_ring_from_key(&ring, k, &e), 0); /* the ring owns k now */
    if (ring == NULL) {
        k = NULL;
        goto out;
    }
    CHECK_INT_EQ(tok_ring_from_key(&other_ring, other, &e), 0); /* owns other now */
    other = NULL;
    if (other_ring == NULL)
        goto out;

    t = issue(k, "iss-x", "alice", "svc-x", now, 60);
    CHECK_INT_EQ(try_bearer(ring, t, &who, &e), 0);
    CHECK_INT_EQ(who.kind, PRINCIPAL_USER);
    CHECK(who.bearer);
    CHECK_STR_EQ(who.name, "alice");
    CHECK_INT_EQ(who.user_id, 0);
    CHECK(!who.sysadmin);
    /* the same token again (now from the verified-token cache): the same answer, and a cached
     * token is still refused under another key, issuer or audience */
    CHECK_INT_EQ(try_bearer(ring, t, &who, &e), 0);
    CHECK_STR_EQ(who.name, "alice");
    CHECK_INT_EQ(try_bearer(other_ring, t, &who, &e), -1);
    CHECK_INT_EQ(e.code, BERR_UNAUTHORIZED);
    if (t != NULL) {
        char h[4096];

        (void)snprintf(h, sizeof(h), "Bearer %s", t);
        CHECK_INT_EQ(authn_bearer(a, ring, h, "iss-x", "svc-y", &c, &who, &e), -1);
        CHECK_STR_EQ(e.msg, "wrong audience");
        tok_claims_cleanup(&c);
        CHECK_INT_EQ(authn_bearer(a, ring, h, "iss-y", "svc-x", &c, &who, &e), -1);
        CHECK_STR_EQ(e.msg, "wrong issuer");
        tok_claims_cleanup(&c);
        CHECK_INT_EQ(authn_bearer(a, ring, h, "iss-x", "svc-x", &c, &who, &e), 0);
        CHECK(tok_claims_allows(&c, "repository", "p/app", SCOPE_ACT_PUSH));
        CHECK(!tok_claims_allows(&c, "repository", "p/app", SCOPE_ACT_DELETE));
        tok_claims_cleanup(&c);
    }
    /* tampered: flip one character of the claims part */
    if (t != NULL) {
        char *dot = strchr(t, '.');
        if (dot != NULL)
            dot[5] = dot[5] == 'A' ? 'B' : 'A';
        CHECK_INT_EQ(try_bearer(ring, t, &who, &e), -1);
        CHECK_INT_EQ(e.code, BERR_UNAUTHORIZED);
        CHECK_STR_EQ(who.name, "");
    }
    mem_free(t);
    /* signed by another key */
    t = issue(tok_ring_signer(other_ring), "iss-x", "alice", "svc-x", now, 60);
    CHECK_INT_EQ(try_bearer(ring, t, &who, &e), -1);
    mem_free(t);
    t = issue(k, "iss-x", "alice", "other-svc", now, 60);
    CHECK_INT_EQ(try_bearer(ring, t, &who, &e), -1);
    CHECK_STR_EQ(e.msg, "wrong audience");
    mem_free(t);
    t = issue(k, "iss-y", "alice", "svc-x", now, 60);
    CHECK_INT_EQ(try_bearer(ring, t, &who, &e), -1);
    CHECK_STR_EQ(e.msg, "wrong issuer");
    mem_free(t);
    /* expired beyond the 60 s leeway, and within it */
    t = issue(k, "iss-x", "alice", "svc-x", now - 200, 100);
    CHECK_INT_EQ(try_bearer(ring, t, &who, &e), -1);
    CHECK_STR_EQ(e.msg, "token expired");
    mem_free(t);
    t = issue(k, "iss-x", "alice", "svc-x", now - 130, 100);
    CHECK_INT_EQ(try_bearer(ring, t, &who, &e), 0);
    mem_free(t);
    /* not yet valid beyond the leeway */
    t = issue(k, "iss-x", "alice", "svc-x", now + 300, 100);
    CHECK_INT_EQ(try_bearer(ring, t, &who, &e), -1);
    mem_free(t);
    /* robots and anonymous tokens */
    t = issue(k, "iss-x", "robot$p+ci", "svc-x", now, 60);
    CHECK_INT_EQ(try_bearer(ring, t, &who, &e), 0);
    CHECK_INT_EQ(who.kind, PRINCIPAL_ROBOT);
    CHECK_INT_EQ(who.robot_id, 0);
    mem_free(t);
    t = issue(k, "iss-x", "", "svc-x", now, 60);
    CHECK_INT_EQ(try_bearer(ring, t, &who, &e), 0);
    CHECK_INT_EQ(who.kind, PRINCIPAL_ANONYMOUS);
    CHECK(who.bearer);
    mem_free(t);
    /* not a bearer header, empty, garbage */
    CHECK_INT_EQ(authn_bearer(a, ring, "Basic abc", "iss-x", "svc-x", &c, &who, &e), -1);
    tok_claims_cleanup(&c);
    CHECK_INT_EQ(authn_bearer(a, ring, "Bearer ", "iss-x", "svc-x", &c, &who, &e), -1);
    tok_claims_cleanup(&c);
    CHECK_INT_EQ(authn_bearer(a, ring, "Bearer a.b.c", "iss-x", "svc-x", &c, &who, &e), -1);
    CHECK_INT_EQ(e.code, BERR_UNAUTHORIZED);
    tok_claims_cleanup(&c);
out:
    if (ring != NULL)
        tok_ring_free(ring);
    else
        tok_key_free(k);
    if (other_ring != NULL)
        tok_ring_free(other_ring);
    tok_key_free(other);
}

/* ---- flights: concurrent misses with the same credentials share one check ---- */

#define FLIGHT_THREADS 8

struct flighter {
    pthread_barrier_t *start;
    const char *pass;
    int rc;
    enum berr_code code;
    char name[AUTHN_USER_MAX + 1];
};

static void *flight_work(void *arg)
{
    struct flighter *f = arg;
    struct principal who;
    struct berr e = {0};

    (void)pthread_barrier_wait(f->start);
    f->rc = try_basic("slow", f->pass, &who, &e);
    f->code = e.code;
    (void)snprintf(f->name, sizeof(f->name), "%s", who.name);
    return NULL;
}

/* run FLIGHT_THREADS logins as "slow" at once; counts answers by code */
static void flight_round(const char *pass, int *ok, int *unauthorized, int *busy)
{
    struct flighter f[FLIGHT_THREADS];
    pthread_t th[FLIGHT_THREADS];
    pthread_barrier_t start;

    *ok = *unauthorized = *busy = 0;
    (void)pthread_barrier_init(&start, NULL, FLIGHT_THREADS);
    for (int i = 0; i < FLIGHT_THREADS; i++) {
        f[i] = (struct flighter){.start = &start, .pass = pass};
        CHECK_INT_EQ(pthread_create(&th[i], NULL, flight_work, &f[i]), 0);
    }
    for (int i = 0; i < FLIGHT_THREADS; i++) {
        (void)pthread_join(th[i], NULL);
        if (f[i].rc == 0 && strcmp(f[i].name, "slow") == 0)
            (*ok)++;
        else if (f[i].rc < 0 && f[i].code == BERR_UNAUTHORIZED)
            (*unauthorized)++;
        else if (f[i].rc < 0 && f[i].code == BERR_TOOMANYREQUESTS)
            (*busy)++;
    }
    (void)pthread_barrier_destroy(&start);
}

/* With one check slot and no queue, eight requests with the same credentials arriving together
 * used to get one answer and seven 429s (the stall of a busy client whose cache entry expired);
 * now they all wait for the one check. The user's hash has the full iteration count, so the check
 * lasts long enough for every thread to arrive during it. */
static void test_flights(void)
{
    char hash[PASSWORD_HASH_MAX];
    struct berr e = {0};
    int ok, unauthorized, busy;

    (void)setenv("BERTH_TEST_KDF_ITER", "600000", 1);
    CHECK_INT_EQ(password_hash(hash, sizeof(hash), "Slow-pass1", &e), 0);
    (void)setenv("BERTH_TEST_KDF_ITER", "1000", 1);
    CHECK_INT_EQ(meta_user_create(m, "slow", hash, false, NULL, &e), 0);
    CHECK_INT_EQ(authn_set_check_budget(a, 1, 0, 0, &e), 0);

    flight_round("Wrong-pass1", &ok, &unauthorized, &busy);
    CHECK_INT_EQ(unauthorized, FLIGHT_THREADS);
    CHECK_INT_EQ(busy, 0);
    flight_round("Slow-pass1", &ok, &unauthorized, &busy);
    CHECK_INT_EQ(ok, FLIGHT_THREADS);
    CHECK_INT_EQ(busy, 0);
    /* the answer was cached: a later one needs no check */
    authn_forget(a, "slow");
    flight_round("Slow-pass1", &ok, &unauthorized, &busy);
    CHECK_INT_EQ(ok, FLIGHT_THREADS);
    CHECK_INT_EQ(authn_set_check_budget(a, AUTHN_DEFAULT_CHECK_SLOTS, AUTHN_DEFAULT_CHECK_QUEUE,
                                        AUTHN_DEFAULT_CHECK_WAIT_MS, &e),
                 0);
}

static void test_alloc_failure(void)
{
    struct authn *x = (struct authn *)&x;
    struct berr e = {0};

    mem_fail_after(0);
    CHECK_INT_EQ(authn_new(&x, m, &e), -1);
    mem_fail_after(-1);
    CHECK(x == NULL);
    authn_free(NULL);
}

int main(void)
{
    const char *names[] = {"t.db", "t.db-wal", "t.db-shm"};
    char p[300];

    (void)setenv("BERTH_TEST_KDF_ITER", "1000", 1); /* test builds only: fast hashes */
    mem_install_json();
    if (setup() < 0) {
        fprintf(stderr, "setup failed\n");
        CHECK(0);
        return test_summary();
    }
    TEST_RUN(test_users);
    TEST_RUN(test_robots_default_prefix);
    TEST_RUN(test_cache_and_forget);
    TEST_RUN(test_cache_other_replica);
    TEST_RUN(test_cache_ends_at_robot_expiry);
    TEST_RUN(test_custom_prefix);
    TEST_RUN(test_throttle);
    TEST_RUN(test_bearer);
    TEST_RUN(test_flights);
    TEST_RUN(test_alloc_failure);
    authn_free(a);
    meta_close(m);
    for (size_t i = 0; i < 3; i++) {
        (void)snprintf(p, sizeof(p), "%s/%s", tmpdir, names[i]);
        (void)unlink(p); /* may not exist */
    }
    (void)rmdir(tmpdir); /* best effort: a leftover temp dir fails nothing */
    return test_summary();
}
