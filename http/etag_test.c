/* etag_test.c - If-None-Match matching (RFC 9110 13.1.2): "*", lists, weak comparison, quoted
 * strings with commas, the lenient unquoted form, junk, and entity-tag quoting. */
#include "http/etag.h"

#include "common/test.h"

#define D "sha256:abc"

static void test_match(void)
{
    static const struct {
        const char *inm;
        const char *etag;
        bool want;
    } cases[] = {
            {NULL, "\"" D "\"", false},
            {"", "\"" D "\"", false},
            {"*", "\"" D "\"", true},
            {" * ", "\"" D "\"", true},
            {"\"x\", *", "\"" D "\"", true},
            {"\"" D "\"", "\"" D "\"", true},
            {"W/\"" D "\"", "\"" D "\"", true}, /* weak comparison: W/ ignored */
            {"\"" D "\"", "W/\"" D "\"", true}, /* on both sides */
            {"W/\"" D "\"", "W/\"" D "\"", true},
            {"\"x\", \"" D "\"", "\"" D "\"", true},
            {"\"x\",\"y\" ,\t\"" D "\"", "\"" D "\"", true},
            {"\"a,b\", \"" D "\"", "\"" D "\"", true}, /* comma inside quotes */
            {"\"a,b\"", "\"a,b\"", true},
            {"\"a", "\"a\"", false}, /* unterminated */
            {"\"" D "x\"", "\"" D "\"", false},
            {"\"sha256:ab\"", "\"" D "\"", false},
            {"\"SHA256:ABC\"", "\"" D "\"", false}, /* byte for byte */
            {D, "\"" D "\"", true},                 /* unquoted, as some clients send it */
            {" " D " , \"x\"", "\"" D "\"", true},
            {"\"x\" junk, \"" D "\"", "\"" D "\"", false}, /* junk ends the list */
            {"w/\"" D "\"", "\"" D "\"", false},           /* W is upper case only */
            {"**", "\"" D "\"", false},
            {"\"\"", "\"\"", true},
            {"\"" D "\"", NULL, false},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = http_etag_match(cases[i].inm, cases[i].etag);
        if (got != cases[i].want)
            fprintf(stderr, "case %zu: If-None-Match %s vs %s\n", i,
                    cases[i].inm ? cases[i].inm : "(null)",
                    cases[i].etag ? cases[i].etag : "(null)");
        CHECK(got == cases[i].want);
    }
}

static void test_quote(void)
{
    char out[16];

    CHECK_INT_EQ(http_etag_quote(out, sizeof(out), "abc"), 0);
    CHECK_STR_EQ(out, "\"abc\"");
    CHECK_INT_EQ(http_etag_quote(out, 5, "abc"), -1);
    CHECK_STR_EQ(out, "");
    CHECK_INT_EQ(http_etag_quote(out, 6, "abc"), 0);
}

int main(void)
{
    TEST_RUN(test_match);
    TEST_RUN(test_quote);
    return test_summary();
}
