/* opt.h - the one command-line option parser of every berth subcommand.
 *
 * A command lists its options in a table and walks argv with cli_args_next, which answers one
 * argument at a time: an option (its id, and its value for one that takes a value), a
 * positional argument, --help, the end, or an error already printed. Both spellings of a value
 * work everywhere: "--data DIR" and "--data=DIR". No state beyond struct cli_args. */
#ifndef BERTH_CLI_OPT_H
#define BERTH_CLI_OPT_H

#include <stdbool.h>

/* one option: "--name" (and an optional short alias such as "-q"), whether it takes a value,
 * and the id (>= 1) cli_args_next answers for it. A table ends with a {NULL} row. */
struct cli_opt {
    const char *name;
    const char *alias;
    bool value;
    int id;
};

enum {
    CLI_ARG_POS = 0,   /* a positional argument, in *val */
    CLI_ARG_END = -1,  /* no argument left */
    CLI_ARG_ERR = -2,  /* a usage error; the message was printed to stderr */
    CLI_ARG_HELP = -3, /* --help or -h */
};

struct cli_args {
    const char *cmd; /* names the subcommand in messages: "berth CMD: ..." */
    const struct cli_opt *opts;
    int argc;
    char **argv;
    int i;        /* next argument */
    bool no_more; /* after "--": everything is positional */
};

/* cli_args_init prepares to walk argv[from..argc) against opts (borrowed, as are argv and cmd,
 * until the walk ends). */
void cli_args_init(struct cli_args *a, const char *cmd, const struct cli_opt *opts, int argc,
                   char **argv, int from);
/* cli_args_next reads the next argument. Returns the option's id with *val its value (NULL for
 * an option without one); CLI_ARG_POS with *val the argument; CLI_ARG_HELP; CLI_ARG_END; or
 * CLI_ARG_ERR after printing one of, to stderr:
 *   berth CMD: unknown option 'ARG' (try --help)
 *   berth CMD: NAME needs a value
 *   berth CMD: NAME takes no value
 * A prefix is not a match ("--database" is not "--data"); "-" alone is positional; "--" ends
 * the options. */
int cli_args_next(struct cli_args *a, const char **val);
/* cli_args_fail prints "berth CMD: " and the formatted message to stderr; returns CLI_ARG_ERR
 * (for a command's own checks: too many arguments, a bad number). */
int cli_args_fail(const struct cli_args *a, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#endif
