/* api_session_test.c - the session table: a user past its cap loses its own oldest session and
 * nobody else's (also after 10,001 logins), the absolute lifetime ends a session in use, the
 * idle time ends an unused one, drop and drop_user, and allocation failure in
 * api_sessions_new. */
#include "api/api_session.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/mem.h"
#include "common/test.h"

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
    struct berr e;

    CHECK_INT_EQ(api_sessions_new(&s, 0, 0, 2, &e), 0);
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
    api_session_drop_user(s, "alice");
    CHECK(!alive(s, a2, "alice"));
    CHECK(alive(s, b1, "bob"));
    api_session_drop(s, b1);
    CHECK(!alive(s, b1, "bob"));
    api_sessions_free(s);
    api_sessions_free(NULL);
}

static void test_many_logins(void)
{
    struct api_sessions *s = NULL;
    struct principal alice = user("alice", 2), bob = user("bob", 3);
    char id[API_SESSION_ID_HEX + 1], b1[API_SESSION_ID_HEX + 1];
    char csrf[API_SESSION_CSRF_HEX + 1];
    struct berr e;
    int fails = 0;

    CHECK_INT_EQ(api_sessions_new(&s, 0, 0, 0, &e), 0);
    CHECK_INT_EQ(api_session_create(s, &bob, b1, csrf, &e), 0);
    for (int i = 0; i < API_SESSION_MAX + 1; i++) {
        if (api_session_create(s, &alice, id, csrf, &e) < 0)
            fails++;
    }
    CHECK_INT_EQ(fails, 0);
    CHECK(alive(s, b1, "bob"));
    CHECK(alive(s, id, "alice"));
    api_sessions_free(s);
}

static void test_lifetime_and_idle(void)
{
    struct api_sessions *s = NULL;
    struct principal alice = user("alice", 2);
    char busy[API_SESSION_ID_HEX + 1], idle[API_SESSION_ID_HEX + 1];
    char csrf[API_SESSION_CSRF_HEX + 1];
    struct berr e;

    /* lifetime 2 s, idle 1 s: the busy one is used every 300 ms */
    CHECK_INT_EQ(api_sessions_new(&s, 1, 2, 0, &e), 0);
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
}

static void test_alloc_failure(void)
{
    struct api_sessions *s = (struct api_sessions *)&s;
    struct berr e;

    for (long n = 0; n < 2; n++) {
        mem_fail_after(n);
        CHECK_INT_EQ(api_sessions_new(&s, 0, 0, 0, &e), -1);
        mem_fail_after(-1);
        CHECK(s == NULL);
    }
}

int main(void)
{
    TEST_RUN(test_per_user_cap);
    TEST_RUN(test_many_logins);
    TEST_RUN(test_lifetime_and_idle);
    TEST_RUN(test_alloc_failure);
    return test_summary();
}
