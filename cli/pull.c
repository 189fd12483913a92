/* pull.c - `berth pull`: an image from any v2 registry, with kubelet's credential rules, into an
 * OCI layout, a docker-archive or an oci-archive.
 *
 * Order of work: parse options and the reference; ask puller/creds.c for the credentials of
 * the image (pod secrets, then node ones; none: anonymous) and resolve the manifest with each
 * in turn through creds_try, which owns kubelet's fallback rules; download the blobs with the
 * accepted credential; write the output. Archive outputs download into
 * FILE.partial.d (an OCI layout), kept when the pull fails so the next run resumes, removed
 * after the archive is complete.
 * Never printed: passwords, tokens, Authorization headers. A credential is named by its source
 * and user. Exit status: 0 pulled, 1 failed, 2 usage. */
#include "cli/cmds.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/opt.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/util.h"
#include "puller/client.h"
#include "puller/creds.h"
#include "puller/fetch.h"
#include "puller/out_oci.h"
#include "puller/out_tar.h"
#include "puller/progress.h"
#include "puller/ref.h"

#define MAX_SECRETS 64
#define TRIED_MAX 2048

enum out_kind { OUT_NONE, OUT_OCI, OUT_TAR, OUT_OCI_ARCHIVE };

struct pull_opts {
    const char *secrets[MAX_SECRETS];
    size_t nsecrets;
    bool docker_config;
    enum out_kind out;
    const char *out_path;
    const char *platform;
    bool all_platforms;
    const char *ca_file;
    bool insecure;
    bool plain_http;
    int parallel;
    bool quiet, json, verbose;
    int64_t limit_rate;
    int retries;
    int backoff_ms;
    const char *image;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: berth pull [OPTIONS] IMAGE\n\n"
            "Pull IMAGE (docker reference: [registry/]name[:tag][@digest]) with kubelet's\n"
            "credential rules into one output:\n"
            "  --oci DIR             OCI image layout (blobs already there are reused)\n"
            "  --tar FILE            docker-archive (docker load / podman load)\n"
            "  --oci-archive FILE    OCI layout in a tar\n"
            "credentials (tried in kubelet keyring order; anonymous when none matches):\n"
            "  --secret FILE         Secret manifest or docker config JSON (repeatable; pod\n"
            "                        credentials, tried before node ones)\n"
            "  --docker-config       node credentials: $DOCKER_CONFIG/config.json,\n"
            "                        ~/.docker/config.json or ~/.dockercfg\n"
            "platform:\n"
            "  --platform OS/ARCH[/VARIANT]   from an index (default: this host's)\n"
            "  --all-platforms       every manifest of an index (not with --tar)\n"
            "transport:\n"
            "  --ca-file FILE        extra CA certificates for TLS\n"
            "  --insecure            TLS without certificate verification\n"
            "  --plain-http          http:// instead of https://\n"
            "  --parallel N          concurrent blob downloads (default 3, max %d)\n"
            "  --limit-rate BYTES    cap each transfer at BYTES per second\n"
            "  --retries N           retries of a failed request (default 4)\n"
            "  --backoff-ms MS       first retry delay, doubling (default 500)\n"
            "output:\n"
            "  --quiet               only the digest on stdout\n"
            "  --json                JSON events on stdout, one per line\n"
            "  --verbose             log requests (never headers or secrets)\n",
            FETCH_MAX_PARALLEL);
}

enum {
    O_SECRET = 1,
    O_DOCKER_CONFIG,
    O_OCI,
    O_TAR,
    O_OCI_ARCHIVE,
    O_PLATFORM,
    O_ALL_PLATFORMS,
    O_CA_FILE,
    O_INSECURE,
    O_PLAIN_HTTP,
    O_PARALLEL,
    O_LIMIT_RATE,
    O_RETRIES,
    O_BACKOFF_MS,
    O_QUIET,
    O_JSON,
    O_VERBOSE,
};

static const struct cli_opt pull_opts[] = {
        {"--secret", NULL, true, O_SECRET},
        {"--docker-config", NULL, false, O_DOCKER_CONFIG},
        {"--oci", NULL, true, O_OCI},
        {"--tar", NULL, true, O_TAR},
        {"--oci-archive", NULL, true, O_OCI_ARCHIVE},
        {"--platform", NULL, true, O_PLATFORM},
        {"--all-platforms", NULL, false, O_ALL_PLATFORMS},
        {"--ca-file", NULL, true, O_CA_FILE},
        {"--insecure", NULL, false, O_INSECURE},
        {"--plain-http", NULL, false, O_PLAIN_HTTP},
        {"--parallel", NULL, true, O_PARALLEL},
        {"--limit-rate", NULL, true, O_LIMIT_RATE},
        {"--retries", NULL, true, O_RETRIES},
        {"--backoff-ms", NULL, true, O_BACKOFF_MS},
        {"--quiet", "-q", false, O_QUIET},
        {"--json", NULL, false, O_JSON},
        {"--verbose", "-v", false, O_VERBOSE},
        {NULL, NULL, false, 0},
};

/* num reads an integer option's value within [lo, hi] (0 <= lo): plain digits, no sign; -1
 * with msg printed otherwise */
static int num(int64_t *out, const struct cli_args *w, const char *v, int64_t lo, int64_t hi,
               const char *msg)
{
    uint64_t u;

    *out = 0;
    if (parse_u64_range(&u, v, strlen(v), (uint64_t)lo, (uint64_t)hi) < 0) {
        (void)cli_args_fail(w, "%s", msg); /* printed */
        return -1;
    }
    *out = (int64_t)u;
    return 0;
}

/* parse_args returns 0, 1 for --help, -1 on a usage error (message printed) */
static int parse_args(struct pull_opts *o, int argc, char **argv)
{
    struct cli_args w;
    char msg[64];
    const char *val;
    int64_t v;
    int id;

    memset(o, 0, sizeof(*o));
    o->parallel = 3;
    o->retries = -1;
    cli_args_init(&w, "pull", pull_opts, argc, argv, 1);
    while ((id = cli_args_next(&w, &val)) != CLI_ARG_END) {
        switch (id) {
        case CLI_ARG_HELP:
            return 1;
        case CLI_ARG_ERR:
            return -1;
        case CLI_ARG_POS:
            if (o->image != NULL) {
                (void)cli_args_fail(&w, "one IMAGE only"); /* printed */
                return -1;
            }
            o->image = val;
            break;
        case O_SECRET:
            if (o->nsecrets >= MAX_SECRETS) {
                (void)cli_args_fail(&w, "at most %d --secret", MAX_SECRETS); /* printed */
                return -1;
            }
            o->secrets[o->nsecrets++] = val;
            break;
        case O_DOCKER_CONFIG:
            o->docker_config = true;
            break;
        case O_OCI:
        case O_TAR:
        case O_OCI_ARCHIVE:
            if (o->out != OUT_NONE) {
                (void)cli_args_fail(&w, "choose one of --oci, --tar, --oci-archive");
                return -1;
            }
            o->out = id == O_OCI ? OUT_OCI : id == O_TAR ? OUT_TAR : OUT_OCI_ARCHIVE;
            o->out_path = val;
            break;
        case O_PLATFORM:
            o->platform = val;
            break;
        case O_ALL_PLATFORMS:
            o->all_platforms = true;
            break;
        case O_CA_FILE:
            o->ca_file = val;
            break;
        case O_INSECURE:
            o->insecure = true;
            break;
        case O_PLAIN_HTTP:
            o->plain_http = true;
            break;
        case O_PARALLEL:
            (void)snprintf(msg, sizeof(msg), "--parallel takes 1..%d", FETCH_MAX_PARALLEL);
            if (num(&v, &w, val, 1, FETCH_MAX_PARALLEL, msg) < 0)
                return -1;
            o->parallel = (int)v;
            break;
        case O_LIMIT_RATE:
            if (num(&v, &w, val, 1, INT64_MAX, "--limit-rate takes bytes per second") < 0)
                return -1;
            o->limit_rate = v;
            break;
        case O_RETRIES:
            if (num(&v, &w, val, 0, 20, "--retries takes 0..20") < 0)
                return -1;
            o->retries = (int)v;
            break;
        case O_BACKOFF_MS:
            if (num(&v, &w, val, 1, 60000, "--backoff-ms takes 1..60000") < 0)
                return -1;
            o->backoff_ms = (int)v;
            break;
        case O_QUIET:
            o->quiet = true;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_VERBOSE:
            o->verbose = true;
            break;
        default:
            return -1;
        }
    }
    if (o->image == NULL) {
        fprintf(stderr, "berth pull: IMAGE missing\n");
        return -1;
    }
    if (o->out == OUT_NONE) {
        fprintf(stderr, "berth pull: choose an output: --oci DIR, --tar FILE or "
                        "--oci-archive FILE\n");
        return -1;
    }
    if (o->platform != NULL && o->all_platforms) {
        fprintf(stderr, "berth pull: --platform and --all-platforms exclude each other\n");
        return -1;
    }
    if (o->all_platforms && o->out == OUT_TAR) {
        fprintf(stderr, "berth pull: a docker archive holds one platform; use --oci or "
                        "--oci-archive with --all-platforms\n");
        return -1;
    }
    if (o->quiet && o->json) {
        fprintf(stderr, "berth pull: --quiet and --json exclude each other\n");
        return -1;
    }
    return 0;
}

/* remove_tree_partial removes a FILE.partial.d work directory: files in blobs/sha256, then
 * the fixed layout names. Only names this program creates are touched. */
static void remove_work_dir(const char *root)
{
    char path[PATH_MAX];
    DIR *d;
    struct dirent *e;
    int n;

    n = snprintf(path, sizeof(path), "%s/blobs/sha256", root);
    if (n < 0 || (size_t)n >= sizeof(path))
        return;
    d = opendir(path);
    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            char f[PATH_MAX];
            if (e->d_name[0] == '.')
                continue;
            n = snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
            if (n > 0 && (size_t)n < sizeof(f) && unlink(f) < 0)
                log_errno(LOG_WARN, errno, "cannot remove %s", f);
        }
        (void)closedir(d); /* read-only directory stream */
    }
    if (rmdir(path) < 0 && errno != ENOENT)
        log_errno(LOG_WARN, errno, "cannot remove %s", path);
    n = snprintf(path, sizeof(path), "%s/blobs", root);
    if (n > 0 && (size_t)n < sizeof(path) && rmdir(path) < 0 && errno != ENOENT)
        log_errno(LOG_WARN, errno, "cannot remove %s", path);
    if (rmdir(root) < 0 && errno != ENOENT)
        log_errno(LOG_WARN, errno, "cannot remove %s", root);
}

/* display_repo: docker's familiar name ("busybox", "user/app", "host:5000/a/b") */
static void display_repo(char *out, size_t cap, const struct image_ref *r)
{
    const char *repo = r->repository;

    if (strcmp(r->registry, "docker.io") == 0) {
        if (str_has_prefix(repo, "library/") && strchr(repo + 8, '/') == NULL)
            repo += 8;
        (void)snprintf(out, cap, "%s", repo); /* 512 bytes hold any parsed name */
    } else {
        (void)snprintf(out, cap, "%s/%s", r->registry, repo);
    }
}

/* one resolve attempt per credential (puller/creds.c decides which and when to stop) */
struct attempt_ctx {
    const struct pull_opts *o;
    const struct image_ref *ref;
    struct fetch_opts *fo;
    struct fetch_result *res;
    struct progress *pr;
    struct client **c;
};

static int attempt_resolve(const struct cred *cr, struct berr *err, void *arg)
{
    struct attempt_ctx *a = arg;
    struct client_opts co = {
            .host = a->ref->api_host,
            .repo = a->ref->repository,
            .ca_file = a->o->ca_file,
            .insecure = a->o->insecure,
            .plain_http = a->o->plain_http,
            .verbose = a->o->verbose,
            .limit_rate = a->o->limit_rate,
            .max_retries = a->o->retries,
            .backoff_ms = a->o->backoff_ms,
    };

    client_free(*a->c);
    *a->c = NULL;
    if (client_new(a->c, &co, cr != NULL ? cr->username : NULL, cr != NULL ? cr->password : NULL,
                   err) < 0)
        return -1;
    if (fetch_resolve(a->res, *a->c, a->fo, err) < 0)
        return -1;
    if (cr != NULL)
        progress_note(a->pr, "using credential from %s (user %s)", cr->source, creds_user(cr));
    return 0;
}

static void note_refused(const struct cred *cr, const struct berr *err, void *arg)
{
    struct attempt_ctx *a = arg;

    if (cr != NULL)
        progress_note(a->pr, "credential from %s (user %s) refused: %s; trying the next",
                      cr->source, cr->username, err->msg);
}

static void report_error(struct progress *p, bool json, const char *msg)
{
    if (json)
        progress_event(p, "error", "message", msg, (const char *)NULL);
    else
        fprintf(stderr, "berth pull: error: %s\n", msg);
}

int cmd_pull(int argc, char **argv)
{
    struct pull_opts o;
    struct image_ref ref;
    struct cred_list creds = {0};
    struct creds_opts cro;
    struct attempt_ctx actx;
    struct client *c = NULL;
    struct progress *pr = NULL;
    struct fetch_opts fo;
    struct fetch_result res = {0};
    struct berr err;
    struct buf tried;
    char keyname[512], work[PATH_MAX], full[600], repo_disp[512], dg[DIGEST_STR_LEN + 1];
    enum progress_mode mode;
    bool curl_up = false;
    int rc, status = 1, n;

    berr_clear(&err);
    buf_init(&tried, TRIED_MAX);
    rc = parse_args(&o, argc, argv);
    if (rc != 0) {
        usage(rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    mem_install_json();
    if (o.quiet)
        mode = PROGRESS_QUIET;
    else if (o.json)
        mode = PROGRESS_JSON;
    else
        mode = isatty(STDERR_FILENO) ? PROGRESS_TTY : PROGRESS_PLAIN;
    if (progress_new(&pr, mode, o.json ? STDOUT_FILENO : STDERR_FILENO) < 0) {
        fprintf(stderr, "berth pull: out of memory\n");
        return 1;
    }
    memset(&fo, 0, sizeof(fo));
    if (image_ref_parse(&ref, o.image, &err) < 0)
        goto fail;
    if (o.platform != NULL) {
        if (fetch_platform_parse(&fo.platform, o.platform, &err) < 0)
            goto fail;
    } else {
        fetch_platform_host(&fo.platform);
    }
    cro = (struct creds_opts){.secrets = o.secrets,
                              .nsecrets = o.nsecrets,
                              .docker_config = o.docker_config,
                              .verbose = o.verbose};
    image_ref_keyring_name(&ref, keyname, sizeof(keyname));
    if (creds_for_image(&creds, &cro, keyname, &err) < 0)
        goto fail;
    image_ref_format(&ref, full, sizeof(full));
    display_repo(repo_disp, sizeof(repo_disp), &ref);
    if (o.verbose)
        log_msg(LOG_INFO, "pull %s from %s: %zu matching credential(s)", full, ref.api_host,
                creds.n);
    if (o.out == OUT_OCI) {
        n = snprintf(work, sizeof(work), "%s", o.out_path);
    } else {
        n = snprintf(work, sizeof(work), "%s.partial.d", o.out_path);
    }
    if (n < 0 || (size_t)n >= sizeof(work)) {
        berr_set(&err, BERR_BAD_REQUEST, "output path too long");
        goto fail;
    }
    fo.root = work;
    fo.reference = ref.digest[0] != '\0' ? ref.digest : ref.tag;
    fo.digest = ref.digest;
    fo.all_platforms = o.all_platforms;
    fo.parallel = o.parallel;
    fo.progress = pr;
    if (client_global_init(&err) < 0)
        goto fail;
    curl_up = true;
    progress_event(pr, "resolve", "image", full, (const char *)NULL);
    actx = (struct attempt_ctx){.o = &o, .ref = &ref, .fo = &fo, .res = &res, .pr = pr, .c = &c};
    rc = creds_try(&creds, attempt_resolve, note_refused, &actx, &tried, &err);
    if (rc == -1)
        goto fail;
    if (rc == CREDS_ALL_REFUSED) {
        char msg[TRIED_MAX + 128];
        (void)snprintf(msg, sizeof(msg), "%s: not authorized; tried %s", full,
                       tried.data != NULL ? tried.data : "nothing");
        report_error(pr, o.json, msg);
        goto out;
    }
    digest_format(&res.top.digest, dg, sizeof(dg));
    progress_note(pr, "%s: %s %s", full, res.is_index ? "index" : "manifest", dg);
    if (fetch_blobs(c, &res, &fo, &err) < 0)
        goto fail;
    switch (o.out) {
    case OUT_OCI:
        rc = out_oci_finish(o.out_path, &res, ref.tag, full, &err);
        break;
    case OUT_TAR:
        rc = out_tar_docker(o.out_path, work, &res, repo_disp, ref.tag, full, &err);
        break;
    case OUT_OCI_ARCHIVE:
        rc = out_tar_oci(o.out_path, work, &res, ref.tag, full, &err);
        break;
    case OUT_NONE:
        rc = berr_set(&err, BERR_INTERNAL, "no output");
        break;
    }
    if (rc < 0)
        goto fail;
    if (o.out != OUT_OCI)
        remove_work_dir(work);
    progress_finish(pr, true);
    if (o.verbose) {
        struct client_stats st;
        client_get_stats(c, &st);
        log_msg(LOG_INFO, "requests %ld, tokens %ld, ranged %ld, retries %ld", st.requests,
                st.tokens, st.ranged, st.retries);
    }
    progress_event(pr, "pulled", "image", full, "digest", dg, "output", o.out_path,
                   (const char *)NULL);
    if (!o.json)
        printf("%s\n", dg);
    status = 0;
    goto out;
fail:
    progress_finish(pr, false);
    {
        char msg[256];
        (void)snprintf(msg, sizeof(msg), "%s: %s", o.image, err.msg[0] ? err.msg : "failed");
        report_error(pr, o.json, msg);
    }
out:
    fetch_result_cleanup(&res);
    client_free(c);
    cred_list_cleanup(&creds);
    progress_free(pr);
    buf_cleanup(&tried);
    if (curl_up)
        client_global_cleanup();
    return status;
}
