/* main.c - subcommand dispatch for the one binary, bin/berth. */
#include <stdio.h>
#include <string.h>

#include "cli/cmds.h"

struct subcmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct subcmd subcmds[] = {
        {"serve", cmd_serve, "run the registry server"},
        {"pull", cmd_pull, "pull an image from any v2 registry with kubelet's credential rules"},
        {"gc", cmd_gc, "collect unreferenced blobs and stale uploads"},
        {"fsck", cmd_fsck, "check the blob store against the metadata"},
        {"user", cmd_user_any, "users over the API; user passwd NAME --data DIR offline"},
        {"project", cmd_project, "projects over the API (ls, add, rm)"},
        {"member", cmd_member, "project members over the API (ls, add, rm)"},
        {"robot", cmd_robot, "robot accounts over the API (ls, add, rm, refresh)"},
        {"stats", cmd_stats, "pull counts, history, top lists, stale images (--url or --data)"},
        {"audit", cmd_audit,
         "audit log maintenance (audit purge --older-than 30d --data DIR or --config FILE)"},
        {"migrate", cmd_migrate, "move a single host's data to PostgreSQL and S3 (scale-out)"},
        {"admin", cmd_admin, "offline maintenance (admin rotate-token-key --data DIR)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: berth COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
        fprintf(f, "  %-8s %s\n", subcmds[i].name, subcmds[i].help);
    fprintf(f, "\nberth COMMAND --help shows the options of a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++) {
        if (strcmp(argv[1], subcmds[i].name) == 0)
            return subcmds[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "berth: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
