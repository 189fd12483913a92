/* cmds.h - the subcommands of the one binary. Each takes the arguments after its own name
 * (argv[0] is the subcommand name) and returns the process exit status. */
#ifndef BERTH_CLI_CMDS_H
#define BERTH_CLI_CMDS_H

int cmd_serve(int argc, char **argv);    /* cli/serve.c */
int cmd_pull(int argc, char **argv);     /* cli/pull.c */
int cmd_gc(int argc, char **argv);       /* cli/gc.c */
int cmd_fsck(int argc, char **argv);     /* cli/gc.c */
int cmd_user(int argc, char **argv);     /* cli/admin.c */
int cmd_stats(int argc, char **argv);    /* cli/stats.c */
int cmd_project(int argc, char **argv);  /* cli/admin_api.c */
int cmd_member(int argc, char **argv);   /* cli/admin_api.c */
int cmd_robot(int argc, char **argv);    /* cli/admin_api.c */
int cmd_user_any(int argc, char **argv); /* cli/admin_api.c: API, or cmd_user offline */
int cmd_audit(int argc, char **argv);    /* cli/admin_api.c */
int cmd_migrate(int argc, char **argv);  /* cli/migrate.c */
int cmd_admin(int argc, char **argv);    /* cli/admin_key.c */

#endif
