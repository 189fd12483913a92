/* gc.c - the `berth gc` and `berth fsck` subcommands.
 *
 *   berth gc   [--data DIR] [--config FILE] [--dry-run] [--window SECONDS]
 *   berth fsck [--data DIR] [--config FILE] [--repair]
 *
 * Both open the data directory the server uses (DATA/berth.db and the blob store) with their own
 * connections, so they may run while the server does; storage/gc.c states why that is safe. The
 * data directory and its database must exist already: these commands never create a registry.
 * Results and the problems found go to stdout, progress and log lines to stderr. Exit status: 0 done and (fsck)
 * consistent, 1 failed or (fsck) problems found, 2 usage error. No shared state. */
#include "cli/cmds.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/opt.h"
#include "common/log.h"
#include "common/parse.h"
#include "common/util.h"
#include "config/config.h"
#include "storage/blob_store.h"
#include "storage/gc.h"
#include "storage/meta.h"
#include "storage/upload.h"

#define GC_META_POOL 2

struct gc_args {
    const char *data;   /* NULL = from the config */
    const char *config; /* NULL = defaults only */
    const char *window; /* NULL = from the config */
    bool dry_run;
    bool repair;
    bool help;
};

struct store {
    struct berth_config cfg;
    struct blob_store *bs;
    struct upload_mgr *um;
    struct meta *m;
};

enum { O_DATA = 1, O_CONFIG, O_WINDOW, O_DRY_RUN, O_REPAIR };

static const struct cli_opt gc_opts[] = {
        {"--data", NULL, true, O_DATA},
        {"--config", NULL, true, O_CONFIG},
        {"--window", NULL, true, O_WINDOW},
        {"--dry-run", NULL, false, O_DRY_RUN},
        {NULL, NULL, false, 0},
};

static const struct cli_opt fsck_opts[] = {
        {"--data", NULL, true, O_DATA},
        {"--config", NULL, true, O_CONFIG},
        {"--repair", NULL, false, O_REPAIR},
        {NULL, NULL, false, 0},
};

/* parse_args: 0 ok, -1 usage error (message printed). */
static int parse_args(struct gc_args *a, int argc, char **argv, bool is_gc)
{
    struct cli_args w;
    const char *v;
    int id;

    memset(a, 0, sizeof(*a));
    cli_args_init(&w, argv[0], is_gc ? gc_opts : fsck_opts, argc, argv, 1);
    while ((id = cli_args_next(&w, &v)) != CLI_ARG_END) {
        switch (id) {
        case CLI_ARG_HELP:
            a->help = true;
            break;
        case O_DATA:
            a->data = v;
            break;
        case O_CONFIG:
            a->config = v;
            break;
        case O_WINDOW:
            a->window = v;
            break;
        case O_DRY_RUN:
            a->dry_run = true;
            break;
        case O_REPAIR:
            a->repair = true;
            break;
        case CLI_ARG_POS:
            (void)cli_args_fail(&w, "unexpected argument '%s' (try --help)", v); /* printed */
            return -1;
        default:
            return -1;
        }
    }
    return 0;
}

static void usage_gc(FILE *f)
{
    fprintf(f, "usage: berth gc [--data DIR] [--config FILE] [--dry-run] [--window SECONDS]\n\n"
               "Removes blobs nothing references that are older than the window (default:\n"
               "gc_window_s), blob files without metadata older than the window, and upload\n"
               "sessions older than upload_purge_age_s. Safe while the server runs.\n"
               "  --data DIR        data directory (default: data_dir of the config)\n"
               "  --config FILE     configuration file\n"
               "  --dry-run         report what would be removed, remove nothing\n"
               "  --window SECONDS  spare blobs younger than this\n");
}

static void usage_fsck(FILE *f)
{
    fprintf(f, "usage: berth fsck [--data DIR] [--config FILE] [--repair]\n\n"
               "Re-hashes every blob and compares the blob store with the metadata. Exits 1 when\n"
               "it finds a problem.\n"
               "  --data DIR     data directory (default: data_dir of the config)\n"
               "  --config FILE  configuration file\n"
               "  --repair       move corrupt blobs to DATA/quarantine/\n");
}

static void store_close(struct store *s)
{
    meta_close(s->m);
    upload_mgr_free(s->um);
    blob_store_close(s->bs);
    s->m = NULL;
    s->um = NULL;
    s->bs = NULL;
}

/* store_open loads the config and opens an existing data directory. 0, or 1 (message printed). */
static int store_open(struct store *s, const struct gc_args *a, const char *cmd)
{
    char db[PATH_MAX];
    enum log_level lvl;
    struct berr err;
    struct stat st;

    memset(s, 0, sizeof(*s));
    berr_clear(&err);
    config_defaults(&s->cfg);
    if (a->config != NULL && config_load(&s->cfg, a->config, &err) < 0) {
        fprintf(stderr, "berth %s: %s\n", cmd, err.msg);
        return 1;
    }
    if (a->data != NULL && config_set(&s->cfg, "data_dir", a->data, &err) < 0) {
        fprintf(stderr, "berth %s: --data: %s\n", cmd, err.msg);
        return 1;
    }
    if (log_level_parse(&lvl, s->cfg.log_level) == 0)
        log_set_level(lvl);
    if (stat(s->cfg.data_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "berth %s: %s is not a directory\n", cmd, s->cfg.data_dir);
        return 1;
    }
    /* the metadata location may be a PostgreSQL URL with a password: never printed */
    if (config_meta_location(&s->cfg, db, sizeof(db), &err) < 0) {
        fprintf(stderr, "berth %s: %s\n", cmd, err.msg);
        return 1;
    }
    if (s->cfg.metadata[0] == '\0' && access(db, F_OK) < 0) {
        fprintf(stderr, "berth %s: no database at %s; is this a Berth data directory?\n", cmd, db);
        return 1;
    }
    if (blob_store_open_config(&s->bs, &s->cfg, &err) < 0 ||
        upload_mgr_new(&s->um, s->bs, &err) < 0 || meta_open(&s->m, db, GC_META_POOL, &err) < 0 ||
        upload_mgr_use_meta(s->um, s->m, &err) < 0) {
        fprintf(stderr, "berth %s: cannot open %s: %s\n", cmd, s->cfg.data_dir, err.msg);
        store_close(s);
        return 1;
    }
    return 0;
}

static void print_progress(const char *phase, uint64_t done, uint64_t bytes, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "berth: %s: %llu items, %llu MiB\n", phase, (unsigned long long)done,
            (unsigned long long)(bytes >> 20));
}

int cmd_gc(int argc, char **argv)
{
    struct gc_args a;
    struct gc_opts opts;
    struct gc_stats st;
    struct store s;
    struct berr err;
    uint64_t window;
    int rc;

    if (parse_args(&a, argc, argv, true) < 0)
        return 2;
    if (a.help) {
        usage_gc(stdout);
        return 0;
    }
    if (a.window != NULL &&
        parse_u64_range(&window, a.window, strlen(a.window), 0, INT32_MAX) < 0) {
        fprintf(stderr, "berth gc: --window wants a number of seconds, got '%s'\n", a.window);
        return 2;
    }
    rc = store_open(&s, &a, "gc");
    if (rc != 0)
        return rc;
    memset(&opts, 0, sizeof(opts));
    opts.window_s = a.window != NULL ? (int64_t)window : (int64_t)s.cfg.gc_window_s;
    opts.upload_age_s = (int64_t)s.cfg.upload_purge_age_s;
    opts.dry_run = a.dry_run;
    opts.progress = print_progress;
    berr_clear(&err);
    rc = gc_run(&st, s.m, s.bs, s.um, &opts, &err);
    printf("%s%u dangling repository links, %u unreferenced blobs (%llu bytes), "
           "%u orphan files (%llu bytes), %u upload sessions\n",
           a.dry_run ? "would remove " : "removed ", st.links_removed, st.blobs_removed,
           (unsigned long long)st.blob_bytes, st.orphans_removed,
           (unsigned long long)st.orphan_bytes, st.uploads_removed);
    if (st.bad_names > 0)
        printf("%u entries under blobs/ are not blobs (left alone; see berth fsck)\n",
               st.bad_names);
    if (rc < 0)
        fprintf(stderr, "berth gc: stopped: %s\n", err.msg);
    store_close(&s);
    return rc < 0 ? 1 : 0;
}

static void print_problem(enum fsck_kind kind, const char *what, void *ctx)
{
    (void)ctx;
    printf("%s %s\n", fsck_kind_name(kind), what);
}

int cmd_fsck(int argc, char **argv)
{
    struct gc_args a;
    struct fsck_opts opts;
    struct fsck_stats st;
    struct store s;
    struct berr err;
    unsigned problems;
    int rc;

    if (parse_args(&a, argc, argv, false) < 0)
        return 2;
    if (a.help) {
        usage_fsck(stdout);
        return 0;
    }
    rc = store_open(&s, &a, "fsck");
    if (rc != 0)
        return rc;
    memset(&opts, 0, sizeof(opts));
    opts.repair = a.repair;
    opts.report = print_problem;
    opts.progress = print_progress;
    berr_clear(&err);
    rc = fsck_run(&st, s.m, s.bs, &opts, &err);
    problems = fsck_problems(&st);
    printf("checked %u blobs (%llu bytes): %u corrupt, %u unreadable, %u without metadata, "
           "%u metadata rows without a file, %u bad names",
           st.checked, (unsigned long long)st.bytes, st.corrupt, st.unreadable, st.no_row,
           st.no_file, st.bad_names);
    if (st.quarantined > 0)
        printf(", %u moved to quarantine", st.quarantined);
    if (st.in_flight > 0)
        printf(", %u new files not yet recorded (in flight)", st.in_flight);
    printf("\n");
    store_close(&s);
    if (rc < 0) {
        fprintf(stderr, "berth fsck: stopped: %s\n", err.msg);
        return 1;
    }
    return problems > 0 ? 1 : 0;
}
