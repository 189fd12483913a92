/* migrate.c - `berth migrate`: move a single-host installation (DATA/berth.db and DATA/blobs) to
 * the scale-out backends, PostgreSQL for the metadata and an S3 bucket for the blobs.
 *
 *   berth migrate --data DIR (--config FILE | --metadata URL --blob-store s3://BUCKET
 *                 --s3-endpoint URL [--s3-region R] --s3-access-key KEY) [--dry-run]
 *                 [--skip-blobs] [--skip-metadata]
 *
 * Blobs go first, then the metadata, so that a row of the destination always has its object
 * (blob_store.c's invariant 3, in the new store). Each blob is hashed while it is read from the
 * source and uploaded only when the hash matches its name; a blob the destination has already is
 * read back and hashed instead of uploaded again (a second run verifies, it does not trust), and
 * one whose object is wrong is uploaded again. The metadata is copied by meta_copy
 * (storage/meta_copy.h): rows equal in the destination are left alone, so a second run goes on
 * where the first stopped and reports everything present. --dry-run writes nothing and says what
 * would move. Progress goes to stderr: one line rewritten in place on a terminal, plain lines
 * otherwise; the summary goes to stdout. The secret key comes from the configuration file or
 * BERTH_S3_SECRET_KEY, never from the command line (it would show in ps).
 * Exit status: 0 everything moved (or, with --dry-run, could be looked at), 1 something failed
 * or conflicted, 2 usage error. The server should not run on DIR during a migration (its newest
 * pushes would be missed); a second run after stopping it picks them up. No shared state. */
#include "cli/cmds.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cli/opt.h"
#include "common/digest.h"
#include "common/log.h"
#include "common/mem.h"
#include "config/config.h"
#include "storage/blob_store.h"
#include "storage/meta_copy.h"

#define MIG_CHUNK (1024 * 1024)
#define MIG_PATH_MAX 4096

enum {
    O_DATA = 1,
    O_CONFIG,
    O_METADATA,
    O_BLOB_STORE,
    O_S3_ENDPOINT,
    O_S3_REGION,
    O_S3_ACCESS_KEY,
    O_DRY_RUN,
    O_SKIP_BLOBS,
    O_SKIP_META,
};

static const struct cli_opt migrate_opts[] = {
        {"--data", NULL, true, O_DATA},
        {"--config", NULL, true, O_CONFIG},
        {"--metadata", NULL, true, O_METADATA},
        {"--blob-store", NULL, true, O_BLOB_STORE},
        {"--s3-endpoint", NULL, true, O_S3_ENDPOINT},
        {"--s3-region", NULL, true, O_S3_REGION},
        {"--s3-access-key", NULL, true, O_S3_ACCESS_KEY},
        {"--dry-run", "-n", false, O_DRY_RUN},
        {"--skip-blobs", NULL, false, O_SKIP_BLOBS},
        {"--skip-metadata", NULL, false, O_SKIP_META},
        {NULL, NULL, false, 0},
};

struct mig_args {
    const char *data;
    const char *config;
    const char *metadata;
    const char *blob_store;
    const char *endpoint;
    const char *region;
    const char *access_key;
    const char *secret_key;
    bool dry_run;
    bool skip_blobs;
    bool skip_meta;
    bool help;
};

/* what one phase has done, for the progress line and the summary */
struct mig_blobs {
    struct blob_store *src;
    struct blob_store *dst;
    const char *tmp_dir;
    bool dry;
    bool tty;
    uint64_t total, done, uploaded, present, repaired, failed;
    uint64_t bytes_total, bytes_done, bytes_uploaded;
    time_t last_line;
    unsigned char *buf;
};

static void migrate_usage(FILE *f)
{
    fprintf(f,
            "usage: berth migrate --data DIR [--config FILE] [--metadata postgres://...]\n"
            "                     [--blob-store s3://BUCKET --s3-endpoint URL [--s3-region R]\n"
            "                      --s3-access-key KEY] [--dry-run] [--skip-blobs]\n"
            "                     [--skip-metadata]\n\n"
            "Moves a single-host installation (DIR/berth.db, DIR/blobs) to PostgreSQL and an S3\n"
            "bucket: blobs first, each hashed on the way, then the metadata row by row. What is\n"
            "there already is verified and skipped, so the command can be run again after an\n"
            "interruption. The destination comes from the configuration file the replicas use\n"
            "(metadata, blob_store, s3_*), or from the options; the S3 secret key from the file "
            "or\n"
            "BERTH_S3_SECRET_KEY. Stop the server on DIR first.\n"
            "  --data DIR          the single-host data folder (the source)\n"
            "  --config FILE       the scale-out configuration (destination)\n"
            "  --metadata URL      destination database, postgres://USER@HOST:PORT/DB\n"
            "  --blob-store URL    destination bucket, s3://BUCKET\n"
            "  --s3-endpoint URL   the object store, http(s)://HOST:PORT\n"
            "  --s3-region R       its region (default us-east-1)\n"
            "  --s3-access-key K   the access key\n"
            "  -n, --dry-run       say what would move, move nothing\n"
            "  --skip-blobs        metadata only\n"
            "  --skip-metadata     blobs only\n");
}

static int migrate_parse(struct mig_args *a, int argc, char **argv)
{
    struct cli_args w;
    const char *v;
    int id;

    memset(a, 0, sizeof(*a));
    cli_args_init(&w, "migrate", migrate_opts, argc, argv, 1);
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
        case O_METADATA:
            a->metadata = v;
            break;
        case O_BLOB_STORE:
            a->blob_store = v;
            break;
        case O_S3_ENDPOINT:
            a->endpoint = v;
            break;
        case O_S3_REGION:
            a->region = v;
            break;
        case O_S3_ACCESS_KEY:
            a->access_key = v;
            break;
        case O_DRY_RUN:
            a->dry_run = true;
            break;
        case O_SKIP_BLOBS:
            a->skip_blobs = true;
            break;
        case O_SKIP_META:
            a->skip_meta = true;
            break;
        case CLI_ARG_POS:
            return cli_args_fail(&w, "unexpected argument '%s' (try --help)", v);
        default:
            return -1;
        }
    }
    if (a->help)
        return 0;
    if (!a->data)
        return cli_args_fail(&w, "--data DIR is required (the single-host data folder)");
    if (a->skip_blobs && a->skip_meta)
        return cli_args_fail(&w, "--skip-blobs and --skip-metadata leave nothing to do");
    return 0;
}

/* ---- progress ---- */

static double mib(uint64_t b)
{
    return (double)b / (1024.0 * 1024.0);
}

static void blobs_progress(struct mig_blobs *mb, bool last)
{
    time_t now = time(NULL);

    if (!last && now == mb->last_line && mb->done != 1)
        return;
    mb->last_line = now;
    if (mb->tty) {
        fprintf(stderr, "\rmigrate: blobs %llu/%llu, %.1f/%.1f MiB%s", (unsigned long long)mb->done,
                (unsigned long long)mb->total, mib(mb->bytes_done), mib(mb->bytes_total),
                last ? "\n" : "   ");
    } else if (last || now % 5 == 0) {
        fprintf(stderr, "migrate: blobs %llu/%llu, %.1f/%.1f MiB\n", (unsigned long long)mb->done,
                (unsigned long long)mb->total, mib(mb->bytes_done), mib(mb->bytes_total));
    }
    fflush(stderr);
}

/* ---- blobs ---- */

static int blobs_count(const struct digest *d, uint64_t size, int64_t mtime, void *ctx)
{
    struct mig_blobs *mb = ctx;

    (void)d;
    (void)mtime;
    mb->total++;
    mb->bytes_total += size;
    return 0;
}

static void blobs_bad(const char *path, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "migrate: not a blob name, left out: %s\n", path);
}

/* blob_hash_matches reads d from store and hashes it: 1 it matches, 0 it does not (or cannot be
 * read), copying it to fd on the way when fd >= 0; -1 on a local failure */
static int blob_hash_matches(struct mig_blobs *mb, struct blob_store *bs, const struct digest *d,
                             int fd, uint64_t *len)
{
    struct blob_reader *r = NULL;
    EVP_MD_CTX *md = NULL;
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned hl = 0;
    uint64_t size, off = 0;
    struct digest got;
    struct berr err = {0};
    int rc = 0;

    *len = 0;
    if (blob_store_reader_open(bs, d, &r, &size, &err) < 0)
        return 0;
    md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, digest_sha256_md(), NULL) != 1) {
        rc = -1;
        goto out;
    }
    while (off < size) {
        size_t want = size - off < MIG_CHUNK ? (size_t)(size - off) : MIG_CHUNK, got_n = 0;

        if (blob_reader_pread(r, off, mb->buf, want, &got_n, &err) < 0 || got_n == 0)
            goto out; /* unreadable: does not match */
        if (EVP_DigestUpdate(md, mb->buf, got_n) != 1) {
            rc = -1;
            goto out;
        }
        if (fd >= 0) {
            size_t w = 0;

            while (w < got_n) {
                ssize_t k = write(fd, mb->buf + w, got_n - w);

                if (k < 0 && errno == EINTR)
                    continue;
                if (k <= 0) {
                    fprintf(stderr, "migrate: writing a temporary file: %s\n", strerror(errno));
                    rc = -1;
                    goto out;
                }
                w += (size_t)k;
            }
        }
        off += got_n;
    }
    if (EVP_DigestFinal_ex(md, h, &hl) != 1 || hl != 32) {
        rc = -1;
        goto out;
    }
    digest_from_raw(&got, h);
    rc = digest_equal(&got, d) ? 1 : 0;
    *len = off;
out:
    EVP_MD_CTX_free(md);
    blob_reader_close(r);
    return rc;
}

static int blobs_copy_one(const struct digest *d, uint64_t size, int64_t mtime, void *ctx)
{
    struct mig_blobs *mb = ctx;
    char tmp[MIG_PATH_MAX], name[DIGEST_STR_LEN + 1];
    struct berr err = {0};
    uint64_t dsize = 0, len = 0;
    bool there;
    int fd, rc;

    (void)mtime;
    digest_format(d, name, sizeof(name));
    there = blob_store_stat(mb->dst, d, &dsize, &err) == 0;
    if (there && dsize == size) {
        /* read back and hash: a second run verifies what the first wrote */
        rc = blob_hash_matches(mb, mb->dst, d, -1, &len);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            mb->present++;
            goto done;
        }
        fprintf(stderr, "migrate: %s is wrong in the destination: uploading it again\n", name);
    } else if (there) {
        fprintf(stderr,
                "migrate: %s has %llu bytes in the destination, %llu here: uploading it again\n",
                name, (unsigned long long)dsize, (unsigned long long)size);
    }
    if (mb->dry) {
        mb->uploaded++;
        mb->bytes_uploaded += size;
        goto done;
    }
    if (snprintf(tmp, sizeof(tmp), "%s/blob.XXXXXX", mb->tmp_dir) >= (int)sizeof(tmp))
        return -1;
    fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "migrate: a temporary file in %s: %s\n", mb->tmp_dir, strerror(errno));
        return -1;
    }
    rc = blob_hash_matches(mb, mb->src, d, fd, &len);
    if (rc == 1 && fsync(fd) != 0)
        rc = -1;
    (void)close(fd);
    if (rc < 0) {
        (void)unlink(tmp);
        return -1;
    }
    if (rc == 0) {
        (void)unlink(tmp);
        fprintf(stderr,
                "migrate: %s does not hash to its name in the source: left out "
                "(berth fsck --data finds it)\n",
                name);
        mb->failed++;
        goto done;
    }
    if (blob_store_commit_file(mb->dst, tmp, d, &err) < 0) {
        (void)unlink(tmp);
        fprintf(stderr, "migrate: uploading %s: %s\n", name, err.msg);
        mb->failed++;
        goto done;
    }
    (void)unlink(tmp); /* gone already when the store moved it */
    if (there)
        mb->repaired++;
    else
        mb->uploaded++;
    mb->bytes_uploaded += size;
done:
    mb->done++;
    mb->bytes_done += size;
    blobs_progress(mb, false);
    return 0;
}

/* ---- the destination ---- */

struct mig_dest {
    char metadata[CONFIG_STR_MAX];
    char bucket[CONFIG_STR_MAX];
    char endpoint[CONFIG_STR_MAX];
    char region[CONFIG_STR_MAX];
    char access_key[CONFIG_STR_MAX];
    char secret_key[CONFIG_STR_MAX];
};

static void mig_set(char *dst, const char *v)
{
    size_t n;

    if (!v)
        return;
    n = strnlen(v, CONFIG_STR_MAX - 1);
    memcpy(dst, v, n);
    dst[n] = '\0';
}

/* mig_dest_fill: the destination from the configuration file, then the options over it */
static int mig_dest_fill(struct mig_dest *d, const struct mig_args *a)
{
    struct berth_config cfg;
    struct berr err = {0};

    memset(d, 0, sizeof(*d));
    if (a->config) {
        config_defaults(&cfg);
        if (config_load(&cfg, a->config, &err) < 0) {
            fprintf(stderr, "berth migrate: %s\n", err.msg);
            return -1;
        }
        mig_set(d->metadata, cfg.metadata);
        if (strncmp(cfg.blob_store, "s3://", 5) == 0)
            mig_set(d->bucket, cfg.blob_store + 5);
        mig_set(d->endpoint, cfg.s3_endpoint);
        mig_set(d->region, cfg.s3_region);
        mig_set(d->access_key, cfg.s3_access_key);
        mig_set(d->secret_key, cfg.s3_secret_key);
        memset(cfg.s3_secret_key, 0, sizeof(cfg.s3_secret_key));
    }
    mig_set(d->metadata, a->metadata);
    if (a->blob_store) {
        if (strncmp(a->blob_store, "s3://", 5) != 0 || !a->blob_store[5]) {
            fprintf(stderr, "berth migrate: --blob-store takes s3://BUCKET\n");
            return -1;
        }
        mig_set(d->bucket, a->blob_store + 5);
    }
    mig_set(d->endpoint, a->endpoint);
    mig_set(d->region, a->region);
    mig_set(d->access_key, a->access_key);
    mig_set(d->secret_key, getenv("BERTH_S3_SECRET_KEY"));
    if (!a->skip_meta && !d->metadata[0]) {
        fprintf(stderr, "berth migrate: no destination database (--metadata or metadata = in "
                        "--config)\n");
        return -1;
    }
    if (!a->skip_blobs &&
        (!d->bucket[0] || !d->endpoint[0] || !d->access_key[0] || !d->secret_key[0])) {
        fprintf(stderr,
                "berth migrate: the S3 destination needs a bucket, an endpoint, an access "
                "key and a secret key (--config, or the options and BERTH_S3_SECRET_KEY)\n");
        return -1;
    }
    return 0;
}

static int mig_blobs_run(const struct mig_args *a, const struct mig_dest *dst, bool tty)
{
    struct mig_blobs mb;
    struct blob_s3_opts o;
    struct berr err = {0};
    char tmp_root[MIG_PATH_MAX];
    int rc = 1;

    memset(&mb, 0, sizeof(mb));
    mb.dry = a->dry_run;
    mb.tty = tty;
    if (snprintf(tmp_root, sizeof(tmp_root), "%s/migrate-tmp", a->data) >= (int)sizeof(tmp_root))
        return 1;
    if (mkdir(tmp_root, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "berth migrate: %s: %s\n", tmp_root, strerror(errno));
        return 1;
    }
    mb.tmp_dir = tmp_root;
    mb.buf = mem_malloc(MIG_CHUNK);
    if (!mb.buf)
        goto out;
    if (blob_store_open(&mb.src, a->data, &err) < 0) {
        fprintf(stderr, "berth migrate: the source blob store: %s\n", err.msg);
        goto out;
    }
    memset(&o, 0, sizeof(o));
    o.endpoint = dst->endpoint;
    o.region = dst->region[0] ? dst->region : NULL;
    o.bucket = dst->bucket;
    o.access_key = dst->access_key;
    o.secret_key = dst->secret_key;
    if (blob_store_open_s3(&mb.dst, tmp_root, &o, &err) < 0) {
        fprintf(stderr, "berth migrate: the S3 store: %s\n", err.msg);
        goto out;
    }
    if (blob_store_walk(mb.src, blobs_count, blobs_bad, &mb) != 0) {
        fprintf(stderr, "berth migrate: listing the source blobs failed\n");
        goto out;
    }
    fprintf(stderr, "migrate: %llu blobs, %.1f MiB to look at\n", (unsigned long long)mb.total,
            mib(mb.bytes_total));
    if (blob_store_walk(mb.src, blobs_copy_one, NULL, &mb) != 0) {
        if (tty)
            fputc('\n', stderr);
        fprintf(stderr, "berth migrate: copying blobs stopped after %llu of %llu\n",
                (unsigned long long)mb.done, (unsigned long long)mb.total);
        goto out;
    }
    blobs_progress(&mb, true);
    printf("blobs: %llu in the source (%llu bytes), %llu %s (%llu bytes), %llu present and "
           "verified, %llu uploaded again, %llu failed\n",
           (unsigned long long)mb.total, (unsigned long long)mb.bytes_total,
           (unsigned long long)mb.uploaded, a->dry_run ? "to upload" : "uploaded",
           (unsigned long long)mb.bytes_uploaded, (unsigned long long)mb.present,
           (unsigned long long)mb.repaired, (unsigned long long)mb.failed);
    rc = mb.failed ? 1 : 0;
out:
    blob_store_close(mb.dst);
    blob_store_close(mb.src);
    mem_free(mb.buf);
    (void)rmdir(tmp_root);
    return rc;
}

/* ---- metadata ---- */

struct mig_meta {
    bool tty;
    bool dry;
};

static int meta_progress(const struct meta_copy_progress *p, void *ctx)
{
    struct mig_meta *mm = ctx;

    if (!p->table) {
        printf("metadata: %lld rows in the source, %lld %s, %lld present and verified, "
               "%lld conflicts\n",
               (long long)p->total, (long long)p->copied, mm->dry ? "to copy" : "copied",
               (long long)p->present, (long long)p->conflicts);
        return 0;
    }
    if (p->finished) {
        if (mm->tty)
            fprintf(stderr, "\r\033[K");
        printf("metadata: %-20s %lld rows, %lld %s, %lld present, %lld conflicts\n", p->table,
               (long long)p->total, (long long)p->copied, mm->dry ? "to copy" : "copied",
               (long long)p->present, (long long)p->conflicts);
        fflush(stdout);
    } else if (mm->tty) {
        fprintf(stderr, "\rmigrate: %s %lld/%lld rows", p->table, (long long)p->done,
                (long long)p->total);
        fflush(stderr);
    }
    return 0;
}

static int mig_meta_run(const struct mig_args *a, const struct mig_dest *dst, bool tty)
{
    char src[MIG_PATH_MAX];
    struct mig_meta mm = {tty, a->dry_run};
    struct berr err = {0};

    if (snprintf(src, sizeof(src), "%s/berth.db", a->data) >= (int)sizeof(src))
        return 1;
    if (access(src, R_OK) != 0) {
        fprintf(stderr, "berth migrate: %s: %s\n", src, strerror(errno));
        return 1;
    }
    if (meta_copy(src, dst->metadata, a->dry_run, meta_progress, &mm, NULL, &err) < 0) {
        if (tty)
            fprintf(stderr, "\n");
        fprintf(stderr, "berth migrate: metadata: %s\n", err.msg);
        return 1;
    }
    return 0;
}

int cmd_migrate(int argc, char **argv)
{
    struct mig_args a;
    struct mig_dest dst;
    struct stat st;
    bool tty = isatty(STDERR_FILENO) == 1;
    int rc = 0;

    if (migrate_parse(&a, argc, argv) < 0)
        return 2;
    if (a.help) {
        migrate_usage(stdout);
        return 0;
    }
    if (stat(a.data, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "berth migrate: %s is not a data folder\n", a.data);
        return 2;
    }
    if (mig_dest_fill(&dst, &a) < 0)
        return 2;
    if (a.dry_run)
        printf("dry run: nothing is written\n");
    if (!a.skip_blobs)
        rc = mig_blobs_run(&a, &dst, tty);
    if (rc == 0 && !a.skip_meta)
        rc = mig_meta_run(&a, &dst, tty);
    memset(&dst, 0, sizeof(dst)); /* the secret key */
    return rc;
}
