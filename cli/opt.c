/* opt.c - the command-line option parser shared by every subcommand.
 *
 * cli_args_next reads only argv and the option table and writes only the walk position and
 * *val:
 *   1. An option matches by its whole name: "--database" is not "--data", "--data=x" is.
 *   2. The walk moves past a separate value only when the option takes one; "--flag=x" for an
 *      option without a value is an error, never silently a positional.
 *   3. Every message has the same form, "berth CMD: ...", and goes to stderr.
 * No global state; safe from any thread. */
#include "cli/opt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cli_args_init(struct cli_args *a, const char *cmd, const struct cli_opt *opts, int argc,
                   char **argv, int from)
{
    memset(a, 0, sizeof(*a));
    a->cmd = cmd;
    a->opts = opts;
    a->argc = argc;
    a->argv = argv;
    a->i = from;
}

int cli_args_fail(const struct cli_args *a, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "berth %s: ", a->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_ARG_ERR;
}

/* find matches arg's name part (up to '=' for a long option) against the table */
static const struct cli_opt *find(const struct cli_opt *opts, const char *arg, size_t nlen)
{
    for (const struct cli_opt *o = opts; o != NULL && o->name != NULL; o++) {
        if (strlen(o->name) == nlen && strncmp(o->name, arg, nlen) == 0)
            return o;
        if (o->alias != NULL && strlen(o->alias) == nlen && strncmp(o->alias, arg, nlen) == 0)
            return o;
    }
    return NULL;
}

int cli_args_next(struct cli_args *a, const char **val)
{
    const struct cli_opt *o;
    const char *arg, *eq;
    size_t nlen;

    *val = NULL;
    if (a->i >= a->argc)
        return CLI_ARG_END;
    arg = a->argv[a->i++];
    if (a->no_more || arg[0] != '-' || arg[1] == '\0') {
        *val = arg;
        return CLI_ARG_POS;
    }
    if (strcmp(arg, "--") == 0) {
        a->no_more = true;
        return cli_args_next(a, val);
    }
    eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
    nlen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    o = find(a->opts, arg, nlen);
    if (o == NULL) {
        if ((nlen == 6 && strncmp(arg, "--help", 6) == 0) || strcmp(arg, "-h") == 0)
            return eq == NULL ? CLI_ARG_HELP : cli_args_fail(a, "--help takes no value");
        return cli_args_fail(a, "unknown option '%s' (try --help)", arg);
    }
    if (!o->value) {
        if (eq != NULL)
            return cli_args_fail(a, "%s takes no value", o->name);
        return o->id;
    }
    if (eq != NULL) {
        *val = eq + 1;
        return o->id;
    }
    if (a->i >= a->argc)
        return cli_args_fail(a, "%s needs a value", o->name);
    *val = a->argv[a->i++];
    return o->id;
}
