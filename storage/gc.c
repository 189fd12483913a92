/* gc.c - online mark-and-sweep of unreferenced blobs, orphan files and stale uploads; fsck.
 *
 * gc runs beside a live server (its own process, its own meta connections, SQLite WAL). It keeps
 * these rules, which together with blob_store.c's invariants 3 and 4 make it safe:
 *   1. gc deletes a blob row only through meta_blob_forget_drop, which re-checks inside its
 *      write transaction that nothing references it and removes the file before that transaction
 *      commits (gc_reconcile forgets rows whose file is already gone). A push places its file and inserts its row in one write transaction too
 *      (meta_blob_link_place), so a blob re-pushed while gc collects it is either still
 *      referenced when gc looks, or placed anew after gc's commit: never a row without a file.
 *      A crash between the unlink and the commit leaves an unreferenced row without a file,
 *      which gc_reconcile deletes at the next start.
 *   2. Only rows created before now - window are candidates, and only orphan files whose mtime is
 *      before now - window, checked again inside the write transaction that finds no row
 *      (meta_blob_orphan_drop with blob_store_drop): a push dedups against a file by touching
 *      it inside its own transaction, so the file it links is never taken for an orphan.
 *   3. The candidate list is copied out of meta before any deletion, so no meta iteration is open
 *      while rows are deleted.
 *   4. A dry run calls no function that deletes anything.
 * fsck only reads, except that with repair it renames corrupt files into DATA/quarantine/.
 * gc_reconcile is the start-up repair: rows without files, old orphans, uploads/ entries that
 * are not sessions. No shared state: everything lives in the per-call context structs, except
 * the test builds' drop hook (set by a test before gc runs, read only). */
#include "storage/gc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"

#define GC_PROGRESS_MS 1000
#define GC_LIST_MAX ((size_t)64 * 1024 * 1024) /* digests held at once: 64 Mi x 65 bytes at most */

/* ---- progress ---- */

struct progress {
    gc_progress_fn fn;
    void *ctx;
    const char *phase;
    uint64_t done;
    uint64_t bytes;
    int64_t last_ms;
};

static void progress_start(struct progress *p, gc_progress_fn fn, void *ctx, const char *phase)
{
    p->fn = fn;
    p->ctx = ctx;
    p->phase = phase;
    p->done = 0;
    p->bytes = 0;
    p->last_ms = now_ms_mono();
}

static void progress_step(struct progress *p, uint64_t bytes)
{
    int64_t t;

    p->done++;
    p->bytes += bytes;
    if (p->fn == NULL)
        return;
    t = now_ms_mono();
    if (t - p->last_ms >= GC_PROGRESS_MS) {
        p->last_ms = t;
        p->fn(p->phase, p->done, p->bytes, p->ctx);
    }
}

static void progress_end(struct progress *p)
{
    if (p->fn != NULL)
        p->fn(p->phase, p->done, p->bytes, p->ctx);
}

/* ---- a growable list of digests ---- */

struct dlist {
    struct digest *v;
    size_t n;
    size_t cap;
};

static int dlist_push(struct dlist *l, const struct digest *d)
{
    if (l->n == l->cap) {
        size_t cap = l->cap == 0 ? 256 : l->cap * 2;
        struct digest *v;
        if (cap > GC_LIST_MAX) {
            errno = EFBIG;
            return -1;
        }
        v = mem_realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *d;
    return 0;
}

static void dlist_cleanup(struct dlist *l)
{
    mem_free(l->v);
    memset(l, 0, sizeof(*l));
}

struct collect {
    struct dlist list;
    int failed_errno; /* set when a push failed: meta only sees the callback's -1 */
};

static int collect_digest(const struct digest *d, void *ctx)
{
    struct collect *c = ctx;

    if (dlist_push(&c->list, d) < 0) {
        c->failed_errno = errno;
        return -1;
    }
    return 0;
}

#ifdef BERTH_TEST_BUILD
gc_test_hook_fn gc_test_drop_hook;
void *gc_test_drop_ctx;
#endif

/* ---- gc ---- */

/* gc_drop: blob_store_drop, after the test builds' hook (a test holds gc here, inside the
 * transaction that deleted the row, to race a push against it). */
static int gc_drop(void *ctx, struct berr *err)
{
#ifdef BERTH_TEST_BUILD
    const struct blob_drop *p = ctx;

    if (gc_test_drop_hook != NULL)
        gc_test_drop_hook(p->d, gc_test_drop_ctx);
#endif
    return blob_store_drop(ctx, err);
}

struct gc_ctx {
    struct meta *m;
    struct blob_store *bs;
    const struct gc_opts *opts;
    struct gc_stats *st;
    int64_t before;
    struct progress prog;
    struct berr *err;
};

/* sweep_unreferenced: rules 1 and 3. */
static int sweep_unreferenced(struct gc_ctx *g)
{
    struct collect c;
    struct dlist *l = &c.list;
    int rc = -1;

    memset(&c, 0, sizeof(c));
    rc = meta_gc_unreferenced(g->m, g->before, collect_digest, &c, g->err);
    if (c.failed_errno != 0) {
        berr_sys(g->err, c.failed_errno, "gc: candidate list");
        rc = -1;
        goto out;
    }
    if (rc != 0) {
        rc = -1;
        goto out;
    }
    rc = -1;
    progress_start(&g->prog, g->opts->progress, g->opts->progress_ctx, "sweep");
    for (size_t i = 0; i < l->n; i++) {
        const struct digest *d = &l->v[i];
        struct berr serr;
        uint64_t size = 0;
        bool forgotten = false;

        if (blob_store_stat(g->bs, d, &size, &serr) < 0) {
            if (serr.code != BERR_BLOB_UNKNOWN) {
                *g->err = serr;
                goto out;
            }
            size = 0; /* the row outlived its file: forgetting it is still right */
        }
        if (g->opts->dry_run) {
            g->st->blobs_removed++;
            g->st->blob_bytes += size;
            progress_step(&g->prog, size);
            continue;
        }
        struct blob_drop drop = {g->bs, d, 0};
        if (meta_blob_forget_drop(g->m, d, gc_drop, &drop, &forgotten, g->err) < 0)
            goto out;
        if (!forgotten)
            continue; /* referenced again since the mark: keep it */
        g->st->blobs_removed++;
        g->st->blob_bytes += size;
        progress_step(&g->prog, size);
    }
    progress_end(&g->prog);
    rc = 0;
out:
    dlist_cleanup(l);
    return rc;
}

static int orphan_visit(const struct digest *d, uint64_t size, int64_t mtime, void *ctx)
{
    struct gc_ctx *g = ctx;
    struct blob_drop drop = {g->bs, d, g->before};
    bool known = false, dropped = false;

    progress_step(&g->prog, 0);
    if (mtime >= g->before)
        return 0; /* rule 2 */
    if (meta_blob_known(g->m, d, &known, g->err) < 0)
        return -1;
    if (known)
        return 0;
    if (!g->opts->dry_run) {
        if (meta_blob_orphan_drop(g->m, d, gc_drop, &drop, &dropped, g->err) < 0)
            return -1;
        if (!dropped)
            return 0; /* rule 2: linked or touched since the walk */
        log_msg(LOG_INFO, "gc: removed orphan blob file sha256:%s", d->hex);
    }
    g->st->orphans_removed++;
    g->st->orphan_bytes += size;
    return 0;
}

static void gc_bad_name(const char *path, void *ctx)
{
    struct gc_ctx *g = ctx;

    log_msg(LOG_WARN, "gc: not a blob, left alone: %s", path);
    g->st->bad_names++;
}

int gc_run(struct gc_stats *out, struct meta *m, struct blob_store *bs, struct upload_mgr *um,
           const struct gc_opts *opts, struct berr *err)
{
    struct gc_ctx g;
    struct berr lerr;
    int64_t now = opts->now != 0 ? opts->now : now_s();
    int rc;

    memset(out, 0, sizeof(*out));
    if (opts->window_s < 0)
        return berr_set(err, BERR_BAD_REQUEST, "gc window must not be negative");
    memset(&g, 0, sizeof(g));
    berr_clear(&lerr);
    g.m = m;
    g.bs = bs;
    g.opts = opts;
    g.st = out;
    g.before = now - opts->window_s;
    g.err = &lerr;

    /* first drop links that deleted manifests left behind: their blobs then count as
     * unreferenced in the same run (a dry run only counts them, so it under-reports those) */
    if (meta_gc_unlink_dangling(m, g.before, opts->dry_run, &out->links_removed, &lerr) < 0)
        goto fail;
    if (sweep_unreferenced(&g) < 0)
        goto fail;

    progress_start(&g.prog, opts->progress, opts->progress_ctx, "orphans");
    if (blob_store_walk(bs, orphan_visit, gc_bad_name, &g) != 0)
        goto fail;
    progress_end(&g.prog);

    if (um != NULL && opts->upload_age_s >= 0) {
        if (opts->dry_run)
            rc = upload_purge_count(um, opts->upload_age_s, &out->uploads_removed, &lerr);
        else
            rc = upload_purge(um, opts->upload_age_s, &out->uploads_removed, &lerr);
        if (rc < 0)
            goto fail;
    }
    log_msg(LOG_INFO,
            "gc%s: %u dangling links, %u unreferenced blobs (%llu bytes), %u orphan files "
            "(%llu bytes), %u uploads",
            opts->dry_run ? " (dry run)" : "", out->links_removed, out->blobs_removed,
            (unsigned long long)out->blob_bytes, out->orphans_removed,
            (unsigned long long)out->orphan_bytes, out->uploads_removed);
    return 0;
fail:
    if (lerr.code == BERR_OK)
        berr_set(&lerr, BERR_INTERNAL, "internal error"); /* a walk failure, already logged */
    if (err != NULL)
        *err = lerr;
    return -1;
}

/* ---- start-up reconciliation ---- */

struct missing {
    struct blob_store *bs;
    struct dlist list; /* rows whose file is missing */
    int failed_errno;
    struct berr *err;
};

static int missing_row(const struct digest *d, void *ctx)
{
    struct missing *ms = ctx;
    struct berr serr;
    uint64_t size;

    if (blob_store_stat(ms->bs, d, &size, &serr) == 0)
        return 0;
    if (serr.code != BERR_BLOB_UNKNOWN) {
        *ms->err = serr;
        return -1;
    }
    if (dlist_push(&ms->list, d) < 0) {
        ms->failed_errno = errno;
        return -1;
    }
    return 0;
}

struct unlink_ctx {
    struct meta *m;
    const struct digest *d;
    unsigned n;
    struct berr *err;
};

static int unlink_repo(const char *name, void *ctx)
{
    struct unlink_ctx *u = ctx;
    struct repo_name repo;
    struct berr e;

    if (repo_name_parse(&repo, name, strlen(name), &e) < 0)
        return 0; /* a stored name always parses; nothing to unlink otherwise */
    if (meta_blob_unlink(u->m, &repo, u->d, &e) < 0) {
        if (e.code == BERR_BLOB_UNKNOWN)
            return 0;
        *u->err = e;
        return -1;
    }
    log_msg(LOG_WARN, "reconcile: unlinked sha256:%s from %s (its file is missing)", u->d->hex,
            name);
    u->n++;
    return 0;
}

/* drop_missing deletes the row of a blob whose file is gone (rows first unlinked). */
static int drop_missing(struct gc_reconcile_stats *out, struct meta *m, const struct digest *d,
                        struct berr *err)
{
    struct unlink_ctx u = {m, d, 0, err};
    bool forgotten = false;

    if (meta_blob_forget(m, d, &forgotten, err) < 0)
        return -1;
    if (!forgotten) {
        /* linked: the content is lost; unlinked, the registry says so (404) and clients push
         * it again, instead of serving a row that leads nowhere */
        if (meta_blob_repos(m, d, unlink_repo, &u, err) < 0)
            return -1;
        out->links_dropped += u.n;
        if (meta_blob_forget(m, d, &forgotten, err) < 0)
            return -1;
    }
    if (forgotten) {
        out->rows_dropped++;
        log_msg(LOG_WARN, "reconcile: dropped the row of sha256:%s (its file is missing)", d->hex);
    } else {
        out->rows_lost++;
        log_msg(LOG_ERROR,
                "reconcile: sha256:%s is listed by a manifest but its file is missing;"
                " push it again",
                d->hex);
    }
    return 0;
}

int gc_reconcile(struct gc_reconcile_stats *out, struct meta *m, struct blob_store *bs,
                 struct upload_mgr *um, int64_t window_s, struct berr *err)
{
    struct missing ms;
    struct gc_ctx g;
    struct gc_opts opts;
    struct gc_stats st;
    struct berr lerr;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    memset(&ms, 0, sizeof(ms));
    berr_clear(&lerr);
    if (window_s < 0)
        return berr_set(err, BERR_BAD_REQUEST, "gc window must not be negative");
    ms.bs = bs;
    ms.err = &lerr;
    if (meta_blobs_all(m, missing_row, &ms, &lerr) < 0) {
        if (ms.failed_errno != 0)
            berr_sys(&lerr, ms.failed_errno, "reconcile: missing list");
        goto out;
    }
    for (size_t i = 0; i < ms.list.n; i++) {
        if (drop_missing(out, m, &ms.list.v[i], &lerr) < 0)
            goto out;
    }

    /* orphans: gc's own sweep (rule 2), with the configured window */
    memset(&opts, 0, sizeof(opts));
    memset(&st, 0, sizeof(st));
    opts.window_s = window_s;
    memset(&g, 0, sizeof(g));
    g.m = m;
    g.bs = bs;
    g.opts = &opts;
    g.st = &st;
    g.before = now_s() - window_s;
    g.err = &lerr;
    if (blob_store_walk(bs, orphan_visit, NULL, &g) != 0)
        goto out;
    out->orphans_removed = st.orphans_removed;

    if (um != NULL && upload_sweep_debris(um, &out->uploads_removed, &lerr) < 0)
        goto out;
    rc = 0;
out:
    dlist_cleanup(&ms.list);
    if (rc < 0) {
        if (lerr.code == BERR_OK)
            berr_set(&lerr, BERR_INTERNAL, "internal error"); /* a walk failure, logged */
        if (err != NULL)
            *err = lerr;
    }
    return rc;
}

/* ---- fsck ---- */

struct fsck_ctx {
    struct meta *m;
    struct blob_store *bs;
    const struct fsck_opts *opts;
    struct fsck_stats *st;
    int64_t now;
    struct progress prog;
    char quarantine[PATH_MAX];
    struct berr *err;
};

const char *fsck_kind_name(enum fsck_kind kind)
{
    switch (kind) {
    case FSCK_CORRUPT:
        return "corrupt";
    case FSCK_UNREADABLE:
        return "unreadable";
    case FSCK_QUARANTINED:
        return "quarantined";
    case FSCK_NO_ROW:
        return "no-row";
    case FSCK_NO_FILE:
        return "no-file";
    case FSCK_BAD_NAME:
        return "bad-name";
    }
    return "unknown";
}

static void report_digest(const struct fsck_ctx *f, enum fsck_kind kind, const struct digest *d)
{
    char s[DIGEST_STR_LEN + 1];

    if (f->opts->report == NULL)
        return;
    digest_format(d, s, sizeof(s));
    f->opts->report(kind, s, f->opts->report_ctx);
}

/* quarantine moves a corrupt blob to DATA/quarantine/<hex>-<8 random hex>. */
static int quarantine(struct fsck_ctx *f, const struct digest *d, char *dst, size_t cap)
{
    char src[PATH_MAX], rnd[9];
    int n;

    if (blob_store_path(f->bs, d, src, sizeof(src), f->err) < 0)
        return -1;
    if (mkdir_p(f->quarantine) < 0)
        return berr_sys(f->err, errno, "fsck: create quarantine");
    if (rand_hex(rnd, sizeof(rnd), 4) < 0)
        return berr_set(f->err, BERR_INTERNAL, "internal error");
    n = snprintf(dst, cap, "%s/%s-%s", f->quarantine, d->hex, rnd);
    if (n < 0 || (size_t)n >= cap)
        return berr_sys(f->err, ENAMETOOLONG, "fsck: quarantine path");
    if (rename(src, dst) < 0)
        return berr_sys(f->err, errno, "fsck: move to quarantine");
    if (fsync_dir(f->quarantine) < 0)
        return berr_sys(f->err, errno, "fsck: fsync quarantine");
    return 0;
}

static int fsck_visit(const struct digest *d, uint64_t size, int64_t mtime, void *ctx)
{
    struct fsck_ctx *f = ctx;
    struct berr verr;
    bool known = false;

    berr_clear(&verr);
    if (blob_store_verify(f->bs, d, &verr) < 0) {
        if (verr.code == BERR_BLOB_UNKNOWN)
            return 0; /* removed since the walk listed it (gc alongside) */
        if (verr.code == BERR_DIGEST_INVALID) {
            f->st->corrupt++;
            log_msg(LOG_WARN, "fsck: sha256:%s does not match its content", d->hex);
            report_digest(f, FSCK_CORRUPT, d);
            if (f->opts->repair) {
                char dst[PATH_MAX];
                if (quarantine(f, d, dst, sizeof(dst)) < 0)
                    return -1;
                f->st->quarantined++;
                log_msg(LOG_WARN, "fsck: moved sha256:%s to %s", d->hex, dst);
                report_digest(f, FSCK_QUARANTINED, d);
            }
        } else if (verr.sys_errno == 0 || verr.sys_errno == ENOMEM) {
            /* not about this file (out of memory, OpenSSL): the check cannot go on */
            *f->err = verr;
            return -1;
        } else {
            f->st->unreadable++;
            log_msg(LOG_WARN, "fsck: cannot read sha256:%s", d->hex);
            report_digest(f, FSCK_UNREADABLE, d);
        }
    }
    f->st->checked++;
    f->st->bytes += size;
    progress_step(&f->prog, size);
    if (meta_blob_known(f->m, d, &known, f->err) < 0)
        return -1;
    if (!known) {
        if (mtime >= f->now - FSCK_IN_FLIGHT_S) {
            f->st->in_flight++;
        } else {
            f->st->no_row++;
            report_digest(f, FSCK_NO_ROW, d);
        }
    }
    return 0;
}

static void fsck_bad_name(const char *path, void *ctx)
{
    struct fsck_ctx *f = ctx;

    f->st->bad_names++;
    if (f->opts->report != NULL)
        f->opts->report(FSCK_BAD_NAME, path, f->opts->report_ctx);
}

static int fsck_row(const struct digest *d, void *ctx)
{
    struct fsck_ctx *f = ctx;
    struct berr serr;
    uint64_t size;

    progress_step(&f->prog, 0);
    if (blob_store_stat(f->bs, d, &size, &serr) == 0)
        return 0;
    if (serr.code != BERR_BLOB_UNKNOWN) {
        *f->err = serr;
        return -1;
    }
    f->st->no_file++;
    report_digest(f, FSCK_NO_FILE, d);
    return 0;
}

int fsck_run(struct fsck_stats *out, struct meta *m, struct blob_store *bs,
             const struct fsck_opts *opts, struct berr *err)
{
    struct fsck_ctx f;
    struct berr lerr;
    int n, rc;

    memset(out, 0, sizeof(*out));
    memset(&f, 0, sizeof(f));
    berr_clear(&lerr);
    f.m = m;
    f.bs = bs;
    f.opts = opts;
    f.st = out;
    f.now = opts->now != 0 ? opts->now : now_s();
    f.err = &lerr;
    n = snprintf(f.quarantine, sizeof(f.quarantine), "%s/quarantine", blob_store_root(bs));
    if (n < 0 || (size_t)n >= sizeof(f.quarantine))
        return berr_sys(err, ENAMETOOLONG, "fsck: quarantine path");

    progress_start(&f.prog, opts->progress, opts->progress_ctx, "verify");
    rc = blob_store_walk(bs, fsck_visit, fsck_bad_name, &f);
    if (rc != 0) {
        if (lerr.code == BERR_OK)
            berr_set(&lerr, BERR_INTERNAL, "internal error"); /* the walk failed (logged) */
        goto fail;
    }
    progress_end(&f.prog);

    progress_start(&f.prog, opts->progress, opts->progress_ctx, "rows");
    if (meta_blobs_all(m, fsck_row, &f, &lerr) < 0) {
        if (lerr.code == BERR_OK)
            berr_set(&lerr, BERR_INTERNAL, "internal error");
        goto fail;
    }
    progress_end(&f.prog);
    return 0;
fail:
    if (err != NULL)
        *err = lerr;
    return -1;
}

unsigned fsck_problems(const struct fsck_stats *s)
{
    return s->corrupt + s->unreadable + s->no_row + s->no_file + s->bad_names;
}
