/* opt_test.c - the option parser: both value spellings, flags, aliases, positionals, "--",
 * --help, and each usage error with what the walk leaves behind. Messages go to stderr and are
 * not captured; the return codes and values are checked exactly. */
#include "cli/opt.h"

#include <string.h>

#include "common/test.h"

/* argv strings are never written: the casts only satisfy main()'s char ** */
#define A(s) ((char *)(s))

enum { O_DATA = 1, O_JSON, O_QUIET, O_CONFIG };

static const struct cli_opt opts[] = {
        {"--data", NULL, true, O_DATA},
        {"--json", NULL, false, O_JSON},
        {"--quiet", "-q", false, O_QUIET},
        {"--config", "-c", true, O_CONFIG},
        {NULL, NULL, false, 0},
};

static void test_values(void)
{
    char *argv[] = {A("stats"),   A("--data"), A("/d1"), A("--data=/d2"),
                    A("--data="), A("-c"),     A("f"),   A("--config=g=h")};
    struct cli_args a;
    const char *v = "x";

    cli_args_init(&a, "stats", opts, 8, argv, 1);
    CHECK_INT_EQ(cli_args_next(&a, &v), O_DATA);
    CHECK_STR_EQ(v, "/d1");
    CHECK_INT_EQ(cli_args_next(&a, &v), O_DATA);
    CHECK_STR_EQ(v, "/d2");
    CHECK_INT_EQ(cli_args_next(&a, &v), O_DATA);
    CHECK_STR_EQ(v, ""); /* an empty value is the command's to refuse */
    CHECK_INT_EQ(cli_args_next(&a, &v), O_CONFIG);
    CHECK_STR_EQ(v, "f");
    CHECK_INT_EQ(cli_args_next(&a, &v), O_CONFIG);
    CHECK_STR_EQ(v, "g=h");
    CHECK_INT_EQ(cli_args_next(&a, &v), CLI_ARG_END);
    CHECK(v == NULL);
    CHECK_INT_EQ(cli_args_next(&a, &v), CLI_ARG_END);
}

static void test_flags_and_positionals(void)
{
    char *argv[] = {A("x"),       A("repo"), A("--json"), A("-q"), A("-"),
                    A("--quiet"), A("--"),   A("--json"), A("-q")};
    struct cli_args a;
    const char *v;

    cli_args_init(&a, "x", opts, 9, argv, 1);
    CHECK_INT_EQ(cli_args_next(&a, &v), CLI_ARG_POS);
    CHECK_STR_EQ(v, "repo");
    CHECK_INT_EQ(cli_args_next(&a, &v), O_JSON);
    CHECK(v == NULL);
    CHECK_INT_EQ(cli_args_next(&a, &v), O_QUIET);
    CHECK_INT_EQ(cli_args_next(&a, &v), CLI_ARG_POS);
    CHECK_STR_EQ(v, "-");
    CHECK_INT_EQ(cli_args_next(&a, &v), O_QUIET);
    CHECK_INT_EQ(cli_args_next(&a, &v), CLI_ARG_POS); /* after "--" */
    CHECK_STR_EQ(v, "--json");
    CHECK_INT_EQ(cli_args_next(&a, &v), CLI_ARG_POS);
    CHECK_STR_EQ(v, "-q");
    CHECK_INT_EQ(cli_args_next(&a, &v), CLI_ARG_END);
}

static int one(const char *arg, const char **v)
{
    char *argv[] = {A("cmd"), A(arg)};
    struct cli_args a;

    cli_args_init(&a, "cmd", opts, 2, argv, 1);
    return cli_args_next(&a, v);
}

static void test_errors(void)
{
    const char *v = "x";

    CHECK_INT_EQ(one("--help", &v), CLI_ARG_HELP);
    CHECK_INT_EQ(one("-h", &v), CLI_ARG_HELP);
    CHECK_INT_EQ(one("--help=1", &v), CLI_ARG_ERR);
    CHECK_INT_EQ(one("--data", &v), CLI_ARG_ERR); /* needs a value */
    CHECK(v == NULL);
    CHECK_INT_EQ(one("--json=yes", &v), CLI_ARG_ERR); /* takes no value */
    CHECK_INT_EQ(one("--database", &v), CLI_ARG_ERR); /* a prefix is not a match */
    CHECK_INT_EQ(one("--dat", &v), CLI_ARG_ERR);
    CHECK_INT_EQ(one("--database=x", &v), CLI_ARG_ERR);
    CHECK_INT_EQ(one("-x", &v), CLI_ARG_ERR);
    CHECK_INT_EQ(one("-q=1", &v), CLI_ARG_ERR); /* short options take no "=" */
    CHECK_INT_EQ(one("-c", &v), CLI_ARG_ERR);   /* needs a value */
    {
        struct cli_args a;
        char *argv[] = {A("cmd")};
        cli_args_init(&a, "cmd", opts, 1, argv, 1);
        CHECK_INT_EQ(cli_args_fail(&a, "too many arguments (%d)", 3), CLI_ARG_ERR);
        CHECK_INT_EQ(cli_args_next(&a, &v), CLI_ARG_END);
    }
    {
        struct cli_args a;
        char *argv[] = {A("cmd"), A("--json")};
        cli_args_init(&a, "cmd", NULL, 2, argv, 1); /* no table: every option is unknown */
        CHECK_INT_EQ(cli_args_next(&a, &v), CLI_ARG_ERR);
    }
}

int main(void)
{
    TEST_RUN(test_values);
    TEST_RUN(test_flags_and_positionals);
    TEST_RUN(test_errors);
    return test_summary();
}
