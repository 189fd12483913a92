/* cidr_test.c - trusted_proxies lists: parsing (good and bad entries, the cap) and matching
 * (exact addresses, networks, prefix bits inside a byte, IPv6, IPv4-mapped peers). */
#include "common/cidr.h"

#include "common/test.h"

static void test_parse(void)
{
    struct cidr_list l;
    struct berr e;
    char many[1024];
    size_t o = 0;

    CHECK_INT_EQ(cidr_list_parse(&l, "", &e), 0);
    CHECK_INT_EQ(l.n, 0);
    CHECK_INT_EQ(cidr_list_parse(&l, "10.0.0.0/8, 127.0.0.1 ::1,fd00::/8", &e), 0);
    CHECK_INT_EQ(l.n, 4);
    CHECK_INT_EQ(cidr_list_parse(&l, "10.0.0.0/33", &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(l.n, 0);
    CHECK_INT_EQ(cidr_list_parse(&l, "proxy.example.com", &e), -1);
    CHECK_INT_EQ(cidr_list_parse(&l, "10.0.0.1/", &e), -1);
    CHECK_INT_EQ(cidr_list_parse(&l, "10.0.0.1/-1", &e), -1);
    CHECK_INT_EQ(cidr_list_parse(&l, "::1/129", &e), -1);
    CHECK_INT_EQ(cidr_list_parse(&l, "1.2.3", &e), -1);
    for (int i = 0; i < CIDR_LIST_MAX + 1; i++)
        o += (size_t)snprintf(many + o, sizeof(many) - o, "10.0.0.%d ", i);
    CHECK_INT_EQ(cidr_list_parse(&l, many, &e), -1);
}

static void test_match(void)
{
    struct cidr_list l;
    struct berr e;

    CHECK_INT_EQ(cidr_list_parse(&l, "", &e), 0);
    CHECK(!cidr_list_match(&l, "127.0.0.1"));
    CHECK_INT_EQ(cidr_list_parse(&l, "127.0.0.1 10.1.2.3/12 2001:db8::/32", &e), 0);
    CHECK(cidr_list_match(&l, "127.0.0.1"));
    CHECK(!cidr_list_match(&l, "127.0.0.2"));
    CHECK(cidr_list_match(&l, "10.0.0.1")); /* host bits of the entry ignored */
    CHECK(cidr_list_match(&l, "10.15.255.255"));
    CHECK(!cidr_list_match(&l, "10.16.0.0")); /* /12 stops inside the second byte */
    CHECK(cidr_list_match(&l, "::ffff:127.0.0.1"));
    CHECK(cidr_list_match(&l, "2001:db8:1::5"));
    CHECK(!cidr_list_match(&l, "2001:db9::1"));
    CHECK(!cidr_list_match(&l, "::1"));
    CHECK(!cidr_list_match(&l, ""));
    CHECK(!cidr_list_match(&l, "garbage"));
    CHECK_INT_EQ(cidr_list_parse(&l, "0.0.0.0/0", &e), 0);
    CHECK(cidr_list_match(&l, "192.0.2.7"));
    CHECK(!cidr_list_match(&l, "2001:db8::1"));
}

int main(void)
{
    TEST_RUN(test_parse);
    TEST_RUN(test_match);
    return test_summary();
}
