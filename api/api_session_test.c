/* api_session_test.c - sessions in the shared state: a user past its cap loses its own oldest
 * session and nobody else's (also after many logins), the absolute lifetime ends a session in
 * use, the idle time ends an unused one, drop and drop_user, two replicas (two api_sessions over
 * one database, through two handles) see each other's logins and logouts at once, the store
 * never holds a session id, and allocation failure in api_sessions_new. */
#include "api/api_session.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/mem.h"
#include "common/test.h"
#include "storage/meta.h"
#include "storage/test_meta.h"

static char tmpdir[64];

static struct principal user(const char *name, int64_t id)
{
    struct principal p;

    memset(&p, 0, sizeof(p));
    (void)snprintf(p.name, sizeof(p.name), "%s", name); /* test names fit */
    p.kind = PRINCIPAL_USER;
    p.user_id = id;
    return p;
}

static bool alive(struct api_sessions *s, const char *id, const char *want_name)
{
    char csrf[API_SESSION_CSRF_HEX + 1];
    struct principal who;

    if (api_session_lookup(s, id, &who, csrf) < 0)
        return false;
    return strcmp(who.name, want_name) == 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    (void)nanosleep(&ts, NULL);
}

static void test_per_user_cap(void)
{
    struct api_sessions *s = NULL;
    struct principal alice = user("alice", 2), bob = user("bob", 3);
    char a1[API_SESSION_ID_HEX + 1], a2[API_SESSION_ID_HEX + 1], a3[API_SESSION_ID_HEX + 1];
    char b1[API_SESSION_ID_HEX + 1], csrf[API_SESSION_CSRF_HEX + 1];
    struct meta *m = test_meta_open(tmpdir, 2);
    struct berr e;

    CHECK_INT_EQ(api_sessions_new(&s, m, 0, 0, 2, &e), 0);
    CHECK_INT_EQ(api_session_create(s, &alice, a1, csrf, &e), 0);
    sleep_ms(2); /* distinct login times */
    CHECK_INT_EQ(api_session_create(s, &alice, a2, csrf, &e), 0);
    CHECK_INT_EQ(api_session_create(s, &bob, b1, csrf, &e), 0);
    CHECK(alive(s, a1, "alice")); /* touched: still the oldest login */
    sleep_ms(2);
    CHECK_INT_EQ(api_session_create(s, &alice, a3, csrf, &e), 0);
    CHECK(!alive(s, a1, "alice"));
    CHECK(alive(s, a2, "alice"));
    CHECK(alive(s, a3, "alice"));
    CHECK(alive(s, b1, "bob"));
    CHECK_INT_EQ(api_session_drop_user(s, "alice", &e), 0);
    CHECK(!alive(s, a2, "alice"));
    CHECK(!alive(s, a3, "alice"));
    CHECK(alive(s, b1, "bob"));
    CHECK_INT_EQ(api_session_drop_user(s, "alice", &e), 0); /* nothing left: fine */
    api_session_drop(s, b1);
    CHECK(!alive(s, b1, "bob"));
    api_session_drop(s, "not-an-id");
    CHECK(!alive(s, "zz", "bob"));
    api_sessions_free(s);
    api_sessions_free(NULL);
    meta_close(m);
}

static void test_many_logins(void)
{
    struct api_sessions *s = NULL;
    struct principal alice = user("alice", 2), bob = user("bob", 3);
    char id[API_SESSION_ID_HEX + 1], b1[API_SESSION_ID_HEX + 1];
    char csrf[API_SESSION_CSRF_HEX + 1];
    char first[API_SESSION_ID_HEX + 1];
    struct meta *m = test_meta_open(tmpdir, 2);
    struct berr e;
    int fails = 0, live = 0;
    char ids[API_SESSION_PER_USER_DEFAULT * 3][API_SESSION_ID_HEX + 1];

    CHECK_INT_EQ(api_sessions_new(&s, m, 0, 0, 0, &e), 0);
    CHECK_INT_EQ(api_session_create(s, &bob, b1, csrf, &e), 0);
    for (int i = 0; i < API_SESSION_PER_USER_DEFAULT * 3; i++) {
        if (api_session_create(s, &alice, ids[i], csrf, &e) < 0)
            fails++;
    }
    CHECK_INT_EQ(fails, 0);
    memcpy(first, ids[0], sizeof(first));
    memcpy(id, ids[API_SESSION_PER_USER_DEFAULT * 3 - 1], sizeof(id));
    for (int i = 0; i < API_SESSION_PER_USER_DEFAULT * 3; i++)
        live += alive(s, ids[i], "alice") ? 1 : 0;
    CHECK_INT_EQ(live, API_SESSION_PER_USER_DEFAULT); /* exactly the cap */
    CHECK(!alive(s, first, "alice"));
    CHECK(alive(s, b1, "bob"));
    CHECK(alive(s, id, "alice"));
    api_sessions_free(s);
    meta_close(m);
}

static void test_lifetime_and_idle(void)
{
    struct api_sessions *s = NULL;
    struct principal alice = user("alice", 2);
    char busy[API_SESSION_ID_HEX + 1], idle[API_SESSION_ID_HEX + 1];
    char csrf[API_SESSION_CSRF_HEX + 1];
    struct meta *m = test_meta_open(tmpdir, 2);
    struct berr e;

    /* lifetime 2 s, idle 1 s: the busy one is used every 300 ms */
    CHECK_INT_EQ(api_sessions_new(&s, m, 1, 2, 0, &e), 0);
    CHECK_INT_EQ(api_session_create(s, &alice, busy, csrf, &e), 0);
    CHECK_INT_EQ(api_session_create(s, &alice, idle, csrf, &e), 0);
    for (int i = 0; i < 5; i++) {
        sleep_ms(300);
        CHECK(alive(s, busy, "alice"));
    }
    CHECK(!alive(s, idle, "alice")); /* 1.5 s unused */
    sleep_ms(600);
    CHECK(!alive(s, busy, "alice")); /* 2.1 s after the login, however busy */
    api_sessions_free(s);
    meta_close(m);
}

struct keys_seen {
    int n;
    int leaked; /* a session id found in a key or a value */
    const char *ids[2];
};

static int key_seen(const char *key, const char *val, size_t len, int64_t version, int64_t expires,
                    void *ctx)
{
    struct keys_seen *k = ctx;

    (void)len, (void)version;
    k->n++;
    for (int i = 0; i < 2; i++)
        if (strstr(key, k->ids[i]) != NULL || strstr(val, k->ids[i]) != NULL)
            k->leaked++;
    if (expires <= 0)
        k->leaked++; /* every session record ends */
    return 0;
}

/* two replicas: two api_sessions, each over its own handle of one database */
static void test_replicas(void)
{
    char path[256];
    struct meta *m1 = test_meta_open_at(tmpdir, 2, path, sizeof(path));
    struct meta *m2 = NULL;
    struct api_sessions *a = NULL, *b = NULL;
    struct principal alice = user("alice", 2), who;
    char id[API_SESSION_ID_HEX + 1], id2[API_SESSION_ID_HEX + 1];
    char csrf[API_SESSION_CSRF_HEX + 1], csrf_b[API_SESSION_CSRF_HEX + 1];
    struct keys_seen ks;
    struct berr e;

    if (meta_open(&m2, path, 2, &e) < 0)
        abort();
    alice.sysadmin = true;
    CHECK_INT_EQ(api_sessions_new(&a, m1, 0, 0, 0, &e), 0);
    CHECK_INT_EQ(api_sessions_new(&b, m2, 0, 0, 0, &e), 0);
    CHECK_INT_EQ(api_session_create(a, &alice, id, csrf, &e), 0);
    /* the login on A is a session on B, with the same user and CSRF token */
    CHECK_INT_EQ(api_session_lookup(b, id, &who, csrf_b), 0);
    CHECK_STR_EQ(who.name, "alice");
    CHECK_INT_EQ(who.user_id, 2);
    CHECK(who.sysadmin);
    CHECK_INT_EQ(who.kind, PRINCIPAL_USER);
    CHECK_STR_EQ(csrf_b, csrf);
    /* the store knows the sessions by hash only */
    CHECK_INT_EQ(api_session_create(b, &alice, id2, csrf, &e), 0);
    memset(&ks, 0, sizeof(ks));
    ks.ids[0] = id;
    ks.ids[1] = id2;
    CHECK_INT_EQ(meta_state_list(m1, "session", key_seen, &ks, &e), 0);
    CHECK_INT_EQ(ks.n, 2);
    CHECK_INT_EQ(ks.leaked, 0);
    /* logout on B: refused on A at once */
    api_session_drop(b, id);
    CHECK(!alive(a, id, "alice"));
    CHECK(alive(a, id2, "alice"));
    /* a password change on A ends B's sessions */
    CHECK_INT_EQ(api_session_drop_user(a, "alice", &e), 0);
    CHECK(!alive(b, id2, "alice"));
    /* robots and anonymous hold no session */
    who = user("robot$x", 0);
    who.kind = PRINCIPAL_ROBOT;
    CHECK_INT_EQ(api_session_create(a, &who, id, csrf, &e), -1);
    api_sessions_free(a);
    api_sessions_free(b);
    meta_close(m2);
    meta_close(m1);
}

static void test_alloc_failure(void)
{
    struct api_sessions *s = (struct api_sessions *)&s;
    struct meta *m = test_meta_open(tmpdir, 1);
    struct berr e;

    mem_fail_after(0);
    CHECK_INT_EQ(api_sessions_new(&s, m, 0, 0, 0, &e), -1);
    mem_fail_after(-1);
    CHECK(s == NULL);
    s = (struct api_sessions *)&s;
    CHECK_INT_EQ(api_sessions_new(&s, NULL, 0, 0, 0, &e), -1); /* no store */
    CHECK(s == NULL);
    meta_close(m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "session-test");
    TEST_RUN(test_per_user_cap);
    TEST_RUN(test_many_logins);
    TEST_RUN(test_lifetime_and_idle);
    TEST_RUN(test_replicas);
    TEST_RUN(test_alloc_failure);
    test_rm_rf(tmpdir);
    return test_summary();
}
