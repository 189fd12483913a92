/* parse_test.c - the parsing toolkit: hex, bounded integers, quoted strings, q filters, paging.
 * Every case states the exact value or message expected, and what a failed call leaves behind. */
#include "common/parse.h"

#include <stdio.h>
#include <string.h>

#include "common/test.h"

static int pu(uint64_t *v, const char *s)
{
    return parse_u64(v, s, strlen(s));
}

static void test_parse_u64(void)
{
    uint64_t v = 7;

    CHECK_INT_EQ(pu(&v, "0"), 0);
    CHECK_INT_EQ(v, 0);
    CHECK_INT_EQ(pu(&v, "42"), 0);
    CHECK_INT_EQ(v, 42);
    CHECK_INT_EQ(pu(&v, "007"), 0);
    CHECK_INT_EQ(v, 7);
    CHECK_INT_EQ(pu(&v, "18446744073709551615"), 0);
    CHECK(v == UINT64_MAX);
    /* overflow by one, by a digit, by length */
    CHECK_INT_EQ(pu(&v, "18446744073709551616"), -1);
    CHECK_INT_EQ(v, 0);
    CHECK_INT_EQ(pu(&v, "18446744073709551620"), -1);
    CHECK_INT_EQ(pu(&v, "99999999999999999999"), -1);
    CHECK_INT_EQ(pu(&v, "184467440737095516150"), -1);
    CHECK_INT_EQ(pu(&v, "000000000000000000001"), -1); /* 21 bytes */
    CHECK_INT_EQ(pu(&v, ""), -1);
    CHECK_INT_EQ(pu(&v, "-1"), -1);
    CHECK_INT_EQ(pu(&v, "+1"), -1);
    CHECK_INT_EQ(pu(&v, " 1"), -1);
    CHECK_INT_EQ(pu(&v, "1 "), -1);
    CHECK_INT_EQ(pu(&v, "0x10"), -1);
    CHECK_INT_EQ(pu(&v, "1e3"), -1);
    /* the length bounds the parse */
    CHECK_INT_EQ(parse_u64(&v, "123abc", 3), 0);
    CHECK_INT_EQ(v, 123);
    CHECK_INT_EQ(parse_u64(&v, "123abc", 4), -1);
    CHECK_INT_EQ(parse_u64(&v, "5", 0), -1);
}

static void test_hex(void)
{
    uint8_t out[4];

    CHECK_INT_EQ(parse_hex_digit('0'), 0);
    CHECK_INT_EQ(parse_hex_digit('9'), 9);
    CHECK_INT_EQ(parse_hex_digit('a'), 10);
    CHECK_INT_EQ(parse_hex_digit('F'), 15);
    CHECK_INT_EQ(parse_hex_digit('g'), -1);
    CHECK_INT_EQ(parse_hex_digit('G'), -1);
    CHECK_INT_EQ(parse_hex_digit('/'), -1);
    CHECK_INT_EQ(parse_hex_digit(':'), -1);
    CHECK_INT_EQ(parse_hex_digit('@'), -1);
    CHECK_INT_EQ(parse_hex_digit('`'), -1);
    CHECK_INT_EQ(parse_hex_digit('\0'), -1);
    CHECK_INT_EQ(parse_hex_byte("2f"), 0x2f);
    CHECK_INT_EQ(parse_hex_byte("Ff"), 0xff);
    CHECK_INT_EQ(parse_hex_byte("00"), 0);
    CHECK_INT_EQ(parse_hex_byte("2"), -1); /* stops at the NUL, never reads past it */
    CHECK_INT_EQ(parse_hex_byte("x0"), -1);
    CHECK_INT_EQ(parse_hex_byte("0x"), -1);

    CHECK_INT_EQ(parse_hex(out, sizeof(out), "deadBEEF", 8), 4);
    CHECK(out[0] == 0xde && out[1] == 0xad && out[2] == 0xbe && out[3] == 0xef);
    CHECK_INT_EQ(parse_hex(out, sizeof(out), "", 0), 0);
    CHECK_INT_EQ(parse_hex(out, sizeof(out), "abc", 3), -1);         /* odd */
    CHECK(out[0] == 0 && out[3] == 0);                               /* zeroed on failure */
    CHECK_INT_EQ(parse_hex(out, sizeof(out), "0102030405", 10), -1); /* too long */
    CHECK_INT_EQ(parse_hex(out, sizeof(out), "01zz", 4), -1);
    CHECK_INT_EQ(parse_hex(out, 1, "ff", 2), 1);
    CHECK_INT_EQ(out[0], 0xff);

    CHECK(parse_is_lower_hex("0123456789abcdef", 16));
    CHECK(!parse_is_lower_hex("0123456789abcdeF", 16));
    CHECK(!parse_is_lower_hex("g", 1));
    CHECK(!parse_is_lower_hex("", 0));
    CHECK(parse_is_lower_hex("abX", 2)); /* the length bounds the check */
}

static int pur(uint64_t *v, const char *s, uint64_t lo, uint64_t hi)
{
    return parse_u64_range(v, s, strlen(s), lo, hi);
}

static int pir(int64_t *v, const char *s, int64_t lo, int64_t hi)
{
    return parse_i64_range(v, s, strlen(s), lo, hi);
}

static void test_ranges(void)
{
    uint64_t u = 9;
    int64_t i = 9;

    CHECK_INT_EQ(pur(&u, "1", 1, 5), 0);
    CHECK_INT_EQ(u, 1);
    CHECK_INT_EQ(pur(&u, "5", 1, 5), 0);
    CHECK_INT_EQ(u, 5);
    CHECK_INT_EQ(pur(&u, "6", 1, 5), -1);
    CHECK_INT_EQ(u, 0);
    u = 9;
    CHECK_INT_EQ(pur(&u, "0", 1, 5), -1);
    CHECK_INT_EQ(u, 0);
    CHECK_INT_EQ(pur(&u, "-1", 0, 5), -1);
    CHECK_INT_EQ(pur(&u, "18446744073709551615", 0, UINT64_MAX), 0);
    CHECK(u == UINT64_MAX);

    CHECK_INT_EQ(pir(&i, "0", -5, 5), 0);
    CHECK_INT_EQ(i, 0);
    CHECK_INT_EQ(pir(&i, "-5", -5, 5), 0);
    CHECK_INT_EQ(i, -5);
    CHECK_INT_EQ(pir(&i, "-6", -5, 5), -1);
    CHECK_INT_EQ(i, 0);
    CHECK_INT_EQ(pir(&i, "6", -5, 5), -1);
    CHECK_INT_EQ(pir(&i, "+1", -5, 5), -1);
    CHECK_INT_EQ(pir(&i, "--1", -5, 5), -1);
    CHECK_INT_EQ(pir(&i, "-", -5, 5), -1);
    CHECK_INT_EQ(pir(&i, "", -5, 5), -1);
    CHECK_INT_EQ(pir(&i, " 1", -5, 5), -1);
    CHECK_INT_EQ(pir(&i, "1x", -5, 5), -1);
    CHECK_INT_EQ(pir(&i, "-0", -5, 5), 0);
    CHECK_INT_EQ(i, 0);
    CHECK_INT_EQ(pir(&i, "9223372036854775807", INT64_MIN, INT64_MAX), 0);
    CHECK(i == INT64_MAX);
    CHECK_INT_EQ(pir(&i, "9223372036854775808", INT64_MIN, INT64_MAX), -1);
    CHECK_INT_EQ(pir(&i, "-9223372036854775808", INT64_MIN, INT64_MAX), 0);
    CHECK(i == INT64_MIN);
    CHECK_INT_EQ(pir(&i, "-9223372036854775809", INT64_MIN, INT64_MAX), -1);
    CHECK_INT_EQ(pir(&i, "-18446744073709551616", INT64_MIN, INT64_MAX), -1);
    CHECK_INT_EQ(parse_i64_range(&i, "-12x", 3, -100, 100), 0);
    CHECK_INT_EQ(i, -12);
}

static int pq(char *out, size_t cap, size_t *used, const char *s)
{
    return parse_quoted(out, cap, used, s, strlen(s));
}

static void test_quoted(void)
{
    char out[16];
    size_t used = 9;

    CHECK_INT_EQ(pq(out, sizeof(out), &used, "\"abc\""), 0);
    CHECK_STR_EQ(out, "abc");
    CHECK_INT_EQ(used, 5);
    CHECK_INT_EQ(pq(out, sizeof(out), &used, "\"\",next"), 0);
    CHECK_STR_EQ(out, "");
    CHECK_INT_EQ(used, 2);
    CHECK_INT_EQ(pq(out, sizeof(out), &used, "\"a\\\"b\\\\c\" tail"), 0);
    CHECK_STR_EQ(out, "a\"b\\c");
    CHECK_INT_EQ(used, 9);
    CHECK_INT_EQ(pq(out, sizeof(out), &used, "\"tab\there\""), 0);
    CHECK_STR_EQ(out, "tab\there");
    CHECK_INT_EQ(pq(out, sizeof(out), &used, "\"\xc3\xa9\""), 0); /* obs-text kept */
    CHECK_STR_EQ(out, "\xc3\xa9");
    /* refusals leave "" and used 0 */
    CHECK_INT_EQ(pq(out, sizeof(out), &used, "abc"), -1);
    CHECK_STR_EQ(out, "");
    CHECK_INT_EQ(used, 0);
    CHECK_INT_EQ(pq(out, sizeof(out), &used, "\"abc"), -1);
    CHECK_STR_EQ(out, "");
    CHECK_INT_EQ(pq(out, sizeof(out), &used, "\"abc\\"), -1);
    CHECK_INT_EQ(pq(out, sizeof(out), &used, "\"a\nb\""), -1);
    CHECK_INT_EQ(pq(out, sizeof(out), &used, "\"a\x7f\""), -1);
    CHECK_INT_EQ(pq(out, sizeof(out), &used, "\"a\\\x01\""), -1);
    CHECK_INT_EQ(pq(out, sizeof(out), &used, ""), -1);
    CHECK_INT_EQ(pq(out, sizeof(out), &used, "\"0123456789abcde\""), 0); /* 15 + NUL fits */
    CHECK_INT_EQ(pq(out, sizeof(out), &used, "\"0123456789abcdef\""), -1);
    CHECK_STR_EQ(out, "");
    CHECK_INT_EQ(parse_quoted(out, sizeof(out), &used, "\"ab\"", 3), -1); /* len bounds it */
    CHECK_INT_EQ(parse_quoted(out, 0, &used, "\"\"", 2), -1);
}

static const struct parse_q_key keys[] = {
        {"name", PARSE_Q_EXACT | PARSE_Q_FUZZY},
        {"public", PARSE_Q_EXACT},
        {"ProjectID", PARSE_Q_EXACT},
        {"op_time", PARSE_Q_RANGE},
        {"tags", PARSE_Q_EXACT | PARSE_Q_FUZZY | PARSE_Q_ANY | PARSE_Q_ALL},
        {NULL, 0},
};

/* qfail: q is refused with exactly msg, and out is left empty */
static void qfail(const char *q, const char *msg)
{
    struct parse_q out;
    struct berr err = {0};

    CHECK_INT_EQ(parse_q(&out, q, keys, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);
    CHECK_STR_EQ(err.msg, msg);
    CHECK_INT_EQ(out.n, 0);
    if (strcmp(err.msg, msg) != 0)
        fprintf(stderr, "  (for q \"%s\")\n", q);
}

static void test_q(void)
{
    struct parse_q out;
    struct berr err = {0};
    const struct parse_q_term *t;

    CHECK_INT_EQ(parse_q(&out, NULL, keys, &err), 0);
    CHECK_INT_EQ(out.n, 0);
    CHECK_INT_EQ(parse_q(&out, "", keys, &err), 0);
    CHECK_INT_EQ(out.n, 0);

    CHECK_INT_EQ(parse_q(&out, "name=~foo,public=true,ProjectID=3", keys, &err), 0);
    CHECK_INT_EQ(out.n, 3);
    CHECK_STR_EQ(out.t[0].key, "name");
    CHECK_INT_EQ(out.t[0].kind, PARSE_Q_FUZZY);
    CHECK_INT_EQ(out.t[0].nv, 1);
    CHECK_STR_EQ(out.t[0].v[0], "foo");
    CHECK(out.t[0].key == keys[0].name); /* borrowed from the table */
    CHECK_STR_EQ(out.t[1].key, "public");
    CHECK_INT_EQ(out.t[1].kind, PARSE_Q_EXACT);
    CHECK_STR_EQ(out.t[1].v[0], "true");
    t = parse_q_find(&out, "ProjectID");
    CHECK(t != NULL && t->kind == PARSE_Q_EXACT && strcmp(t->v[0], "3") == 0);
    CHECK(parse_q_find(&out, "op_time") == NULL);

    /* exact with an empty value, fuzzy with an empty value, trailing comma */
    CHECK_INT_EQ(parse_q(&out, "name=,", keys, &err), 0);
    CHECK_INT_EQ(out.n, 1);
    CHECK_STR_EQ(out.t[0].v[0], "");
    CHECK_INT_EQ(parse_q(&out, "name=~", keys, &err), 0);
    CHECK_INT_EQ(out.t[0].kind, PARSE_Q_FUZZY);
    CHECK_STR_EQ(out.t[0].v[0], "");
    /* a value may hold '=' and spaces */
    CHECK_INT_EQ(parse_q(&out, "name=a=b c", keys, &err), 0);
    CHECK_STR_EQ(out.t[0].v[0], "a=b c");

    /* ranges, open ends */
    CHECK_INT_EQ(parse_q(&out, "op_time=[2024-01-01 00:00:00~2024-02-01]", keys, &err), 0);
    CHECK_INT_EQ(out.t[0].kind, PARSE_Q_RANGE);
    CHECK_INT_EQ(out.t[0].nv, 2);
    CHECK_STR_EQ(out.t[0].v[0], "2024-01-01 00:00:00");
    CHECK_STR_EQ(out.t[0].v[1], "2024-02-01");
    CHECK_INT_EQ(parse_q(&out, "op_time=[~5]", keys, &err), 0);
    CHECK_STR_EQ(out.t[0].v[0], "");
    CHECK_STR_EQ(out.t[0].v[1], "5");
    CHECK_INT_EQ(parse_q(&out, "op_time=[~]", keys, &err), 0);
    CHECK_STR_EQ(out.t[0].v[1], "");

    /* lists */
    CHECK_INT_EQ(parse_q(&out, "tags={v1  v2 v3 }", keys, &err), 0);
    CHECK_INT_EQ(out.t[0].kind, PARSE_Q_ANY);
    CHECK_INT_EQ(out.t[0].nv, 3);
    CHECK_STR_EQ(out.t[0].v[0], "v1");
    CHECK_STR_EQ(out.t[0].v[1], "v2");
    CHECK_STR_EQ(out.t[0].v[2], "v3");
    CHECK_INT_EQ(parse_q(&out, "tags=(a)", keys, &err), 0);
    CHECK_INT_EQ(out.t[0].kind, PARSE_Q_ALL);
    CHECK_INT_EQ(out.t[0].nv, 1);
    CHECK_STR_EQ(out.t[0].v[0], "a");

    /* the one behaviour for what the table does not allow */
    qfail("nope=1", "q: unknown key 'nope'");
    qfail("name=x,Name=y", "q: unknown key 'Name'");
    qfail("name", "q: a term must be key=value");
    qfail("=x", "q: a term must be key=value");
    qfail("name=a,,public=true", "q: a term must be key=value");
    qfail(",", "q: a term must be key=value");
    qfail("name=a,name=b", "q: name given twice");
    qfail("public=~true", "q: public does not take a fuzzy ~value");
    qfail("name=[a~b]", "q: name does not take a [from~to] range");
    qfail("name={a b}", "q: name does not take a {a b} list");
    qfail("name=(a b)", "q: name does not take an (a b) list");
    qfail("op_time=5", "q: op_time does not take an exact value");
    qfail("op_time=[5]", "q: op_time: a range is [from~to]");
    qfail("op_time=[1~2", "q: op_time: a range is [from~to]");
    qfail("op_time=[1~2~3]", "q: op_time: a range is [from~to]");
    qfail("op_time=[", "q: op_time: a range is [from~to]");
    qfail("tags={a b", "q: tags: a list ends with '}'");
    qfail("tags=(", "q: tags: a list ends with ')'");
    qfail("tags={}", "q: tags: empty list");
    qfail("tags={   }", "q: tags: empty list");
    qfail("tags={a b c d e f g h i j k l m n o p q}", "q: tags: more than 16 items");
    qfail("name=1,name=2,name=3,name=4,name=5,name=6,name=7,name=8,name=9,name=10,name=11,"
          "name=12,name=13,name=14,name=15,name=16,name=17",
          "q: name given twice");
    {
        char big[PARSE_Q_MAX_BYTES + 8];
        memset(big, 'a', sizeof(big) - 1);
        memcpy(big, "name=", 5);
        big[sizeof(big) - 1] = '\0';
        qfail(big, "q is longer than 1024 bytes");
        big[PARSE_Q_MAX_BYTES] = '\0';
        CHECK_INT_EQ(parse_q(&out, big, keys, &err), 0);
        CHECK_INT_EQ(strlen(out.t[0].v[0]), PARSE_Q_MAX_BYTES - 5);
    }
}

static void test_q_many_terms(void)
{
    static const struct parse_q_key many[] = {
            {"a", PARSE_Q_EXACT}, {"b", PARSE_Q_EXACT}, {"c", PARSE_Q_EXACT},
            {"d", PARSE_Q_EXACT}, {"e", PARSE_Q_EXACT}, {"f", PARSE_Q_EXACT},
            {"g", PARSE_Q_EXACT}, {"h", PARSE_Q_EXACT}, {"i", PARSE_Q_EXACT},
            {"j", PARSE_Q_EXACT}, {"k", PARSE_Q_EXACT}, {"l", PARSE_Q_EXACT},
            {"m", PARSE_Q_EXACT}, {"n", PARSE_Q_EXACT}, {"o", PARSE_Q_EXACT},
            {"p", PARSE_Q_EXACT}, {"q", PARSE_Q_EXACT}, {NULL, 0},
    };
    struct parse_q out;
    struct berr err = {0};

    CHECK_INT_EQ(parse_q(&out, "a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1,j=1,k=1,l=1,m=1,n=1,o=1,p=1",
                         many, &err),
                 0);
    CHECK_INT_EQ(out.n, 16);
    CHECK_INT_EQ(parse_q(&out,
                         "a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1,j=1,k=1,l=1,m=1,n=1,o=1,p=1,q=1",
                         many, &err),
                 -1);
    CHECK_STR_EQ(err.msg, "q: more than 16 terms");
    CHECK_INT_EQ(out.n, 0);
}

static void test_page(void)
{
    struct parse_paging p;
    struct berr err = {0};

    CHECK_INT_EQ(parse_paging(&p, NULL, NULL, 10, 100, &err), 0);
    CHECK_INT_EQ(p.page, 1);
    CHECK_INT_EQ(p.page_size, 10);
    CHECK_INT_EQ(p.offset, 0);
    CHECK_INT_EQ(parse_paging(&p, "3", "25", 10, 100, &err), 0);
    CHECK_INT_EQ(p.page, 3);
    CHECK_INT_EQ(p.page_size, 25);
    CHECK_INT_EQ(p.offset, 50);
    CHECK_INT_EQ(parse_paging(&p, NULL, "100", 10, 100, &err), 0);
    CHECK_INT_EQ(p.page_size, 100);

    CHECK_INT_EQ(parse_paging(&p, "0", NULL, 10, 100, &err), -1);
    CHECK_STR_EQ(err.msg, "page must be a positive integer");
    CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(p.page, 0);
    CHECK_INT_EQ(parse_paging(&p, "-1", NULL, 10, 100, &err), -1);
    CHECK_STR_EQ(err.msg, "page must be a positive integer");
    CHECK_INT_EQ(parse_paging(&p, "", NULL, 10, 100, &err), -1);
    CHECK_INT_EQ(parse_paging(&p, "1x", NULL, 10, 100, &err), -1);
    CHECK_INT_EQ(parse_paging(&p, "99999999999999999999", NULL, 10, 100, &err), -1);
    CHECK_STR_EQ(err.msg, "page must be a positive integer");
    CHECK_INT_EQ(parse_paging(&p, "92233720368547759", NULL, 10, 100, &err), -1);
    CHECK_STR_EQ(err.msg, "page is too large");
    CHECK_INT_EQ(parse_paging(&p, "92233720368547758", NULL, 10, 100, &err), 0);
    CHECK(p.offset == (INT64_MAX / 100 - 1) * 10);
    CHECK_INT_EQ(parse_paging(&p, "1", "0", 10, 100, &err), -1);
    CHECK_STR_EQ(err.msg, "page_size must be 1..100");
    CHECK_INT_EQ(p.page_size, 0);
    CHECK_INT_EQ(parse_paging(&p, "1", "101", 10, 100, &err), -1);
    CHECK_STR_EQ(err.msg, "page_size must be 1..100");
    CHECK_INT_EQ(parse_paging(&p, "1", " 5", 10, 100, &err), -1);
    CHECK_STR_EQ(err.msg, "page_size must be 1..100");
}

int main(void)
{
    TEST_RUN(test_parse_u64);
    TEST_RUN(test_hex);
    TEST_RUN(test_ranges);
    TEST_RUN(test_quoted);
    TEST_RUN(test_q);
    TEST_RUN(test_q_many_terms);
    TEST_RUN(test_page);
    return test_summary();
}
