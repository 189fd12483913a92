/* client_test.c - the pure parts of the registry client: WWW-Authenticate parsing, origin
 * comparison for redirects, Content-Range of a 206, back-off delays. */
#include "puller/client.h"

#include <stdint.h>
#include <string.h>

#include "common/test.h"

static void test_challenge_bearer(void)
{
    struct client_challenge ch[4];
    size_t n = 9;

    CHECK_INT_EQ(client_challenge_parse(ch, 4, &n,
                                        "Bearer realm=\"https://auth.example/token\",service="
                                        "\"registry.example\",scope=\"repository:a/b:pull\""),
                 0);
    CHECK_INT_EQ(n, 1);
    CHECK_STR_EQ(ch[0].scheme, "Bearer");
    CHECK_STR_EQ(ch[0].realm, "https://auth.example/token");
    CHECK_STR_EQ(ch[0].service, "registry.example");
    CHECK_STR_EQ(ch[0].scope, "repository:a/b:pull");
}

static void test_challenge_several(void)
{
    struct client_challenge ch[4];
    size_t n = 0;

    /* two challenges, a quoted comma, an escaped quote, a token value, odd spacing */
    CHECK_INT_EQ(client_challenge_parse(ch, 4, &n,
                                        "Basic realm=\"a, \\\"b\\\"\" ,  BEARER  realm = "
                                        "\"https://x/t\", service=svc, error=\"invalid_token\""),
                 0);
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(ch[0].scheme, "Basic");
    CHECK_STR_EQ(ch[0].realm, "a, \"b\"");
    CHECK_STR_EQ(ch[1].scheme, "BEARER");
    CHECK_STR_EQ(ch[1].realm, "https://x/t");
    CHECK_STR_EQ(ch[1].service, "svc");
    CHECK_STR_EQ(ch[1].error, "invalid_token");
    CHECK_STR_EQ(ch[1].scope, "");
    /* a token68 challenge before a Bearer one */
    CHECK_INT_EQ(client_challenge_parse(ch, 4, &n, "Negotiate abc+/==, Bearer realm=\"r\""), 0);
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(ch[1].realm, "r");
    /* unknown parameters are skipped */
    CHECK_INT_EQ(client_challenge_parse(ch, 4, &n, "Bearer foo=\"x\",realm=\"r2\""), 0);
    CHECK_STR_EQ(ch[0].realm, "r2");
}

static void test_challenge_bad(void)
{
    struct client_challenge ch[2];
    char big[CLIENT_REALM_MAX + 40];
    size_t n;

    CHECK_INT_EQ(client_challenge_parse(ch, 2, &n, ""), -1);
    CHECK_INT_EQ(client_challenge_parse(ch, 2, &n, "Bearer realm=\"unterminated"), -1);
    CHECK_INT_EQ(client_challenge_parse(ch, 2, &n, "Bearer realm=\"a\" junk"), -1);
    CHECK_INT_EQ(client_challenge_parse(ch, 2, &n, "=x"), -1);
    CHECK_INT_EQ(client_challenge_parse(ch, 2, &n, "A, B, C"), -1); /* over cap */
    memcpy(big, "Bearer realm=\"", 14);
    memset(big + 14, 'a', CLIENT_REALM_MAX);
    memcpy(big + 14 + CLIENT_REALM_MAX, "\"", 2);
    CHECK_INT_EQ(client_challenge_parse(ch, 2, &n, big), -1);
}

static void test_same_origin(void)
{
    CHECK(client_same_origin("https://Reg.Example/v2/x", "https://reg.example:443/v2/y"));
    CHECK(client_same_origin("http://h:5000/a", "http://h:5000/b?x=1"));
    CHECK(!client_same_origin("https://reg.example/v2", "https://storage.example/blob"));
    CHECK(!client_same_origin("https://reg.example/v2", "http://reg.example/v2"));
    CHECK(!client_same_origin("https://reg.example/v2", "https://reg.example:8443/v2"));
    CHECK(!client_same_origin("https://reg.example/", "https://evil@other.example/"));
    CHECK(client_same_origin("http://[::1]:5000/a", "http://[::1]:5000/b"));
    CHECK(!client_same_origin("ftp://a/", "ftp://a/"));
    CHECK(!client_same_origin("not a url", "not a url"));
}

static void test_content_range(void)
{
    uint64_t f, l, t;

    CHECK_INT_EQ(client_content_range_parse(&f, &l, &t, "bytes 100-199/200"), 0);
    CHECK_INT_EQ(f, 100);
    CHECK_INT_EQ(l, 199);
    CHECK_INT_EQ(t, 200);
    CHECK_INT_EQ(client_content_range_parse(&f, &l, &t, "bytes 0-0/*"), 0);
    CHECK(t == UINT64_MAX);
    CHECK_INT_EQ(client_content_range_parse(&f, &l, &t, "bytes 5-4/10"), -1);
    CHECK_INT_EQ(client_content_range_parse(&f, &l, &t, "bytes 0-10/10"), -1);
    CHECK_INT_EQ(client_content_range_parse(&f, &l, &t, "bytes=0-1/10"), -1);
    CHECK_INT_EQ(client_content_range_parse(&f, &l, &t, "bytes 0-1"), -1);
    CHECK_INT_EQ(client_content_range_parse(&f, &l, &t, "bytes 99999999999999999999-1/2"), -1);
}

static void test_retry_delay(void)
{
    CHECK_INT_EQ(client_retry_delay_ms(0, 500, 0), 500);
    CHECK_INT_EQ(client_retry_delay_ms(3, 500, 0), 4000);
    CHECK_INT_EQ(client_retry_delay_ms(20, 500, 0), 30000);
    CHECK_INT_EQ(client_retry_delay_ms(0, 500, 3), 3000); /* Retry-After wins when longer */
    CHECK_INT_EQ(client_retry_delay_ms(4, 500, 1), 8000);
    CHECK_INT_EQ(client_retry_delay_ms(0, 500, 3600), 30000); /* capped */
    CHECK_INT_EQ(client_retry_delay_ms(0, 0, 0), 500);
}

int main(void)
{
    TEST_RUN(test_challenge_bearer);
    TEST_RUN(test_challenge_several);
    TEST_RUN(test_challenge_bad);
    TEST_RUN(test_same_origin);
    TEST_RUN(test_content_range);
    TEST_RUN(test_retry_delay);
    return test_summary();
}
