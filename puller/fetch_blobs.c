/* fetch_blobs.c - verified, resumable, parallel downloads of configs and layers.
 *
 * fetch_blobs (declared in fetch.h) runs a pool of worker threads over the blobs a
 * fetch_result names; each worker streams one blob at a time into ROOT/blobs/sha256/<hex>.partial,
 * going on from what an earlier run left there as fetch_resume_plan says.
 * Invariants:
 *   1. A file ROOT/blobs/sha256/<hex> (no suffix) was checked, size and SHA-256, before it got
 *      that name: it is written as <hex>.partial and renamed only after the check, then the
 *      directory is fsynced.
 *   2. The SHA-256 context of a download always covers exactly the bytes of its .partial file:
 *      a resume hashes the bytes already there before the first new byte is appended, and the
 *      sink hashes and writes each chunk together.
 *   3. A .partial file whose content proved wrong (digest mismatch, more bytes than the size)
 *      is removed; one left by a transport failure is kept for the next run.
 *   4. Workers share only the job cursor, the stop flag and the first error, all under
 *      pool.mu; the client and progress objects are thread-safe themselves. */
#include "puller/fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/digest.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"

#define READ_CHUNK (128u * 1024u)

/* ---- resume bookkeeping ---------------------------------------------------------------- */

enum fetch_resume fetch_resume_plan(uint64_t have, uint64_t size)
{
    if (have == 0)
        return FETCH_RESUME_FRESH;
    if (have < size)
        return FETCH_RESUME_CONTINUE;
    if (have == size)
        return FETCH_RESUME_VERIFY;
    return FETCH_RESUME_RESTART;
}

/* ---- blob downloads -------------------------------------------------------------------- */

struct job {
    const struct fetch_desc *desc;
    const char *kind;
    size_t pidx;
};

struct pool {
    struct client *c;
    const struct fetch_opts *o;
    struct job *jobs;
    size_t njobs;
    pthread_mutex_t mu; /* guards next, stop, err */
    size_t next;
    bool stop;
    struct berr err;
};

struct sink_ctx {
    int fd;
    EVP_MD_CTX *md;
    struct progress *progress;
    size_t pidx;
    uint64_t total;
    struct pool *pool;
    struct berr err;
};

static bool pool_stopped(struct pool *pl)
{
    bool s;

    (void)pthread_mutex_lock(&pl->mu);
    s = pl->stop;
    (void)pthread_mutex_unlock(&pl->mu);
    return s;
}

static int sink_write(const void *p, size_t n, void *ctx)
{
    struct sink_ctx *s = ctx;
    const char *q = p;
    size_t left = n;

    if (pool_stopped(s->pool))
        return berr_set(&s->err, BERR_INTERNAL, "stopped after another download failed");
    while (left > 0) {
        ssize_t w = write(s->fd, q, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return berr_set(&s->err, BERR_INTERNAL, "cannot write blob: %s", strerror(errno));
        q += w;
        left -= (size_t)w;
    }
    if (EVP_DigestUpdate(s->md, p, n) != 1)
        return berr_set(&s->err, BERR_INTERNAL, "SHA-256 update failed");
    s->total += n;
    progress_advance(s->progress, s->pidx, n);
    return 0;
}

/* hash_fd feeds the first len bytes of fd to md (resume, or verification of a present blob) */
static int hash_fd(EVP_MD_CTX *md, int fd, uint64_t len, struct berr *err)
{
    char *b = mem_malloc(READ_CHUNK);
    uint64_t done = 0;
    int rc = -1;

    if (b == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    if (lseek(fd, 0, SEEK_SET) < 0) {
        rc = berr_set(err, BERR_INTERNAL, "lseek: %s", strerror(errno));
        goto out;
    }
    while (done < len) {
        size_t want = len - done < READ_CHUNK ? (size_t)(len - done) : READ_CHUNK;
        ssize_t r = read(fd, b, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = berr_set(err, BERR_INTERNAL, "cannot read back a blob: %s",
                          r < 0 ? strerror(errno) : "short file");
            goto out;
        }
        if (EVP_DigestUpdate(md, b, (size_t)r) != 1) {
            rc = berr_set(err, BERR_INTERNAL, "SHA-256 update failed");
            goto out;
        }
        done += (uint64_t)r;
    }
    rc = 0;
out:
    mem_free(b);
    return rc;
}

static int md_final(struct digest *out, EVP_MD_CTX *md)
{
    unsigned char raw[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (EVP_DigestFinal_ex(md, raw, &len) != 1 || len != 32)
        return -1;
    digest_from_raw(out, raw);
    return 0;
}

bool fetch_blob_present(const char *path, const struct fetch_desc *d)
{
    struct stat st;
    EVP_MD_CTX *md;
    struct digest got;
    struct berr e;
    int fd;
    bool ok = false;

    if (stat(path, &st) < 0)
        return false;
    if ((uint64_t)st.st_size == d->size) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        md = EVP_MD_CTX_new();
        if (fd >= 0 && md != NULL && EVP_DigestInit_ex(md, digest_sha256_md(), NULL) == 1 &&
            hash_fd(md, fd, d->size, &e) == 0 && md_final(&got, md) == 0)
            ok = digest_equal(&got, &d->digest);
        EVP_MD_CTX_free(md);
        if (fd >= 0)
            (void)close(fd); /* opened read-only: nothing to lose on close */
    }
    if (!ok && unlink(path) < 0 && errno != ENOENT)
        log_errno(LOG_WARN, errno, "cannot remove bad blob %s", path);
    return ok;
}

static int download_one(struct pool *pl, const struct job *j, struct berr *err)
{
    const struct fetch_desc *d = j->desc;
    struct progress *pr = pl->o->progress;
    char final[PATH_MAX], partial[PATH_MAX + 16], dir[PATH_MAX], ds[DIGEST_STR_LEN + 1];
    struct sink_ctx s;
    struct stat st;
    struct digest got;
    uint64_t have = 0, n_got = 0;
    bool restarted = false, bad_content = false;
    int rc = -1, n;

    memset(&s, 0, sizeof(s));
    s.fd = -1;
    digest_format(&d->digest, ds, sizeof(ds));
    if (fetch_blob_path(final, sizeof(final), pl->o->root, &d->digest) < 0)
        return berr_set(err, BERR_INTERNAL, "output path too long");
    n = snprintf(partial, sizeof(partial), "%s.partial", final);
    if (n < 0 || (size_t)n >= sizeof(partial))
        return berr_set(err, BERR_INTERNAL, "output path too long");
    if (fetch_blob_present(final, d)) {
        progress_begin(pr, j->pidx, d->size);
        progress_done(pr, j->pidx, true);
        return 0;
    }
    s.fd = open(partial, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s.fd < 0) {
        rc = berr_set(err, BERR_INTERNAL, "cannot open %s: %s", partial, strerror(errno));
        goto out;
    }
    s.md = EVP_MD_CTX_new();
    if (s.md == NULL || fstat(s.fd, &st) < 0) {
        rc = berr_set(err, BERR_INTERNAL, "cannot start the download of %s", ds);
        goto out;
    }
    s.pool = pl;
    s.progress = pr;
    s.pidx = j->pidx;
restart:
    if (EVP_DigestInit_ex(s.md, digest_sha256_md(), NULL) != 1) {
        rc = berr_set(err, BERR_INTERNAL, "SHA-256 init failed");
        goto out;
    }
    have = restarted ? 0 : (uint64_t)st.st_size;
    switch (fetch_resume_plan(have, d->size)) {
    case FETCH_RESUME_RESTART:
        have = 0;
        /* fall through */
    case FETCH_RESUME_FRESH:
        if (ftruncate(s.fd, 0) < 0) {
            rc = berr_set(err, BERR_INTERNAL, "cannot truncate %s: %s", partial, strerror(errno));
            goto out;
        }
        break;
    case FETCH_RESUME_CONTINUE:
    case FETCH_RESUME_VERIFY:
        if (hash_fd(s.md, s.fd, have, err) < 0)
            goto out;
        break;
    }
    if (lseek(s.fd, (off_t)have, SEEK_SET) < 0) {
        rc = berr_set(err, BERR_INTERNAL, "lseek: %s", strerror(errno));
        goto out;
    }
    s.total = have;
    progress_begin(pr, j->pidx, have);
    if (have < d->size || d->size == 0) {
        if (client_get_blob(pl->c, &n_got, ds, have, d->size, sink_write, &s, err) < 0) {
            if (s.err.code != BERR_OK) {
                *err = s.err;
            } else if (err->code == BERR_RANGE_INVALID && have > 0 && !restarted) {
                /* the registry will not resume this blob: start again from byte 0 */
                restarted = true;
                goto restart;
            }
            bad_content = err->code == BERR_SIZE_INVALID;
            goto out;
        }
    }
    if (s.total != d->size) {
        rc = berr_set(err, BERR_SIZE_INVALID, "blob %s: got %llu bytes, expected %llu", ds,
                      (unsigned long long)s.total, (unsigned long long)d->size);
        bad_content = s.total > d->size;
        goto out;
    }
    if (md_final(&got, s.md) < 0) {
        rc = berr_set(err, BERR_INTERNAL, "SHA-256 final failed");
        goto out;
    }
    if (!digest_equal(&got, &d->digest)) {
        char gs[DIGEST_STR_LEN + 1];
        digest_format(&got, gs, sizeof(gs));
        rc = berr_set(err, BERR_DIGEST_INVALID, "blob %.19s... content has digest %.19s...", ds,
                      gs);
        bad_content = true;
        goto out;
    }
    if (fsync(s.fd) < 0) {
        rc = berr_set(err, BERR_INTERNAL, "fsync %s: %s", partial, strerror(errno));
        goto out;
    }
    n = close(s.fd);
    s.fd = -1;
    if (n < 0 || rename(partial, final) < 0) {
        rc = berr_set(err, BERR_INTERNAL, "cannot finish %s: %s", final, strerror(errno));
        goto out;
    }
    n = snprintf(dir, sizeof(dir), "%s/blobs/sha256", pl->o->root);
    if (n < 0 || (size_t)n >= sizeof(dir) || fsync_dir(dir) < 0) {
        rc = berr_set(err, BERR_INTERNAL, "cannot fsync %s", dir);
        goto out;
    }
    progress_done(pr, j->pidx, false);
    rc = 0;
out:
    if (s.fd >= 0)
        (void)close(s.fd); /* failing already; the partial file is kept or removed below */
    EVP_MD_CTX_free(s.md);
    if (rc < 0 || err->code != BERR_OK) {
        rc = -1;
        if (bad_content && unlink(partial) < 0 && errno != ENOENT)
            log_errno(LOG_WARN, errno, "cannot remove %s", partial);
    }
    return rc;
}

static void *worker(void *arg)
{
    struct pool *pl = arg;

    for (;;) {
        struct berr e;
        size_t i;

        berr_clear(&e);
        (void)pthread_mutex_lock(&pl->mu);
        if (pl->stop || pl->next >= pl->njobs) {
            (void)pthread_mutex_unlock(&pl->mu);
            return NULL;
        }
        i = pl->next++;
        (void)pthread_mutex_unlock(&pl->mu);
        if (download_one(pl, &pl->jobs[i], &e) < 0) {
            (void)pthread_mutex_lock(&pl->mu);
            /* the first failure is the one to report; later ones are its consequences */
            if (!pl->stop) {
                pl->stop = true;
                pl->err = e;
            }
            (void)pthread_mutex_unlock(&pl->mu);
            progress_fail(pl->o->progress, pl->jobs[i].pidx, e.msg);
        }
    }
}

static bool job_seen(const struct pool *pl, const struct fetch_desc *d)
{
    for (size_t i = 0; i < pl->njobs; i++) {
        if (digest_equal(&pl->jobs[i].desc->digest, &d->digest))
            return true;
    }
    return false;
}

static int add_job(struct pool *pl, const struct fetch_desc *d, const char *kind, struct berr *err)
{
    char ds[DIGEST_STR_LEN + 1];
    struct job *j;

    if (job_seen(pl, d))
        return 0;
    j = &pl->jobs[pl->njobs];
    j->desc = d;
    j->kind = kind;
    digest_format(&d->digest, ds, sizeof(ds));
    if (progress_add(pl->o->progress, &j->pidx, ds, kind, d->size) < 0)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    pl->njobs++;
    return 0;
}

int fetch_blobs(struct client *c, const struct fetch_result *r, const struct fetch_opts *o,
                struct berr *err)
{
    struct pool pl;
    pthread_t th[FETCH_MAX_PARALLEL];
    size_t total = 0, started = 0;
    int nth = o->parallel < 1
                      ? 1
                      : (o->parallel > FETCH_MAX_PARALLEL ? FETCH_MAX_PARALLEL : o->parallel);
    int rc = -1;

    memset(&pl, 0, sizeof(pl));
    pl.c = c;
    pl.o = o;
    (void)pthread_mutex_init(&pl.mu, NULL); /* default attributes: cannot fail on Linux */
    for (size_t i = 0; i < r->nimages; i++)
        total += 1 + r->images[i].nlayers;
    pl.jobs = mem_calloc(total + 1, sizeof(*pl.jobs));
    if (pl.jobs == NULL) {
        rc = berr_set(err, BERR_INTERNAL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < r->nimages; i++) {
        const struct fetch_image *img = &r->images[i];
        if (add_job(&pl, &img->config, "config", err) < 0)
            goto out;
        for (size_t k = 0; k < img->nlayers; k++) {
            if (add_job(&pl, &img->layers[k], "layer", err) < 0)
                goto out;
        }
    }
    if ((size_t)nth > pl.njobs)
        nth = (int)(pl.njobs > 0 ? pl.njobs : 1);
    for (int i = 0; i < nth; i++) {
        int e = pthread_create(&th[i], NULL, worker, &pl);
        if (e != 0) {
            if (started == 0) {
                rc = berr_set(err, BERR_INTERNAL, "cannot start a download thread: %s",
                              strerror(e));
                goto out;
            }
            break; /* fewer workers is slower, not wrong */
        }
        started++;
    }
    for (size_t i = 0; i < started; i++)
        (void)pthread_join(th[i], NULL); /* joinable threads we created: cannot fail */
    if (pl.stop) {
        *err = pl.err;
        rc = -1;
        goto out;
    }
    rc = 0;
out:
    (void)pthread_mutex_destroy(&pl.mu);
    mem_free(pl.jobs);
    return rc;
}
