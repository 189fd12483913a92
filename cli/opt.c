/* opt.c - command-line option helpers shared by the offline subcommands.
 *
 * cli_opt_value reads only argv and writes only *i and *val:
 *   1. A prefix is not a match: "--database" is not "--data".
 *   2. *i moves past the value only when the value was a separate argument.
 * No state; safe from any thread. */
#include "cli/opt.h"

#include <stdio.h>
#include <string.h>

int cli_opt_value(const char **val, int argc, char **argv, int *i, const char *name,
                  const char *cmd)
{
    size_t len = strlen(name);
    const char *a = argv[*i];

    if (strncmp(a, name, len) != 0)
        return 0;
    if (a[len] == '=') {
        *val = a + len + 1;
        return 1;
    }
    if (a[len] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "berth %s: %s needs a value\n", cmd, name);
        return -1;
    }
    (*i)++;
    *val = argv[*i];
    return 1;
}
