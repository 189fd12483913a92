/* opt.h - command-line option helpers shared by the offline subcommands (cli/admin.c, cli/gc.c).
 * No state. */
#ifndef BERTH_CLI_OPT_H
#define BERTH_CLI_OPT_H

/* cli_opt_value matches argv[*i] against option name in both spellings, "--name VALUE" and
 * "--name=VALUE". Returns 1 and sets *val (borrowed from argv) when it matches, advancing *i past
 * a separate value; 0 when argv[*i] is another argument (nothing changed); -1 when the value is
 * missing, after printing "berth CMD: NAME needs a value" to stderr (cmd names the subcommand). */
int cli_opt_value(const char **val, int argc, char **argv, int *i, const char *name,
                  const char *cmd);

#endif
