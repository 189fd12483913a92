/* gc_test.c - unit tests for storage/gc.c against a real storage/meta database.
 *
 * The clock is moved with gc_opts.now / fsck_opts.now instead of sleeping: "now + 2 h" makes
 * everything written during the test older than a one-minute window. Each test checks the files
 * and rows left behind, and that a dry run changes nothing. */
#include "storage/gc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"
#include "storage/quota.h"
#include "storage/test_meta.h"

struct fixture {
    char root[64];
    struct blob_store *bs;
    struct upload_mgr *um;
    struct meta *m;
    struct repo_name app, other;
};

static void fx_open(struct fixture *f)
{
    char db[PATH_MAX];
    struct berr err;

    memset(f, 0, sizeof(*f));
    test_mkdtemp(f->root, sizeof(f->root), "gc");
    test_meta_path(db, sizeof(db), f->root); /* root/tN.db, or a fresh PostgreSQL schema */
    if (blob_store_open(&f->bs, f->root, &err) < 0 || upload_mgr_new(&f->um, f->bs, &err) < 0 ||
        meta_open(&f->m, db, 2, &err) < 0 ||
        repo_name_parse(&f->app, "library/app", 11, &err) < 0 ||
        repo_name_parse(&f->other, "library/other", 13, &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        exit(2);
    }
}

static void fx_close(struct fixture *f)
{
    meta_close(f->m);
    upload_mgr_free(f->um);
    blob_store_close(f->bs);
    test_rm_rf(f->root);
}

/* put_linked stores s as a blob and links it to repo (repo NULL: file only, an orphan). */
static void put_linked(struct fixture *f, const char *s, const struct repo_name *repo,
                       struct digest *out)
{
    struct berr err;

    CHECK_INT_EQ(blob_store_put_buf(f->bs, s, strlen(s), out, &err), 0);
    if (repo != NULL)
        CHECK_INT_EQ(meta_blob_link(f->m, repo, out, strlen(s), &err), 0);
}

static bool file_exists(struct fixture *f, const struct digest *d)
{
    uint64_t size;
    struct berr err;

    return blob_store_stat(f->bs, d, &size, &err) == 0;
}

static bool row_exists(struct fixture *f, const struct digest *d)
{
    bool known = false;
    struct berr err;

    CHECK_INT_EQ(meta_blob_known(f->m, d, &known, &err), 0);
    return known;
}

static void age_file(struct fixture *f, const struct digest *d, int64_t secs)
{
    char p[PATH_MAX];
    struct timespec ts[2];
    struct berr err;

    CHECK_INT_EQ(blob_store_path(f->bs, d, p, sizeof(p), &err), 0);
    ts[0].tv_sec = ts[1].tv_sec = (time_t)(time(NULL) - secs);
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    CHECK_INT_EQ(utimensat(AT_FDCWD, p, ts, 0), 0);
}

static int progress_calls;

static void count_progress(const char *phase, uint64_t done, uint64_t bytes, void *ctx)
{
    (void)phase;
    (void)done;
    (void)bytes;
    (void)ctx;
    progress_calls++;
}

/* put_manifest records a manifest of repo listing one blob (the bytes need not be JSON here:
 * meta only needs the digest, and the file makes it a real blob) */
static void put_manifest(struct fixture *f, const char *bytes, const struct repo_name *repo,
                         const struct digest *listed)
{
    struct meta_manifest_in in;
    struct berr err;

    memset(&in, 0, sizeof(in));
    CHECK_INT_EQ(blob_store_put_buf(f->bs, bytes, strlen(bytes), &in.digest, &err), 0);
    in.media_type = "application/vnd.oci.image.manifest.v1+json";
    in.size = strlen(bytes);
    in.blobs = listed;
    in.nblobs = 1;
    CHECK_INT_EQ(meta_manifest_put(f->m, repo, &in, &err), 0);
}

static void test_gc(void)
{
    struct fixture f;
    struct digest keep, shared, dropped, orphan, ghost;
    struct gc_opts o;
    struct gc_stats st;
    struct berr err;
    char id[UPLOAD_ID_LEN + 1], p[PATH_MAX], info[256];
    int n;

    fx_open(&f);
    put_linked(&f, "keep me", &f.app, &keep);
    put_linked(&f, "shared", &f.app, &shared);
    CHECK_INT_EQ(meta_blob_link(f.m, &f.other, &shared, 6, &err), 0);
    /* links stay only while a manifest of the repository lists the blob */
    put_manifest(&f, "manifest of app", &f.app, &keep);
    put_manifest(&f, "manifest of other", &f.other, &shared);
    CHECK_INT_EQ(meta_blob_unlink(f.m, &f.app, &shared, &err), 0); /* still in other */
    put_linked(&f, "drop me!", &f.app, &dropped);
    CHECK_INT_EQ(meta_blob_unlink(f.m, &f.app, &dropped, &err), 0);
    put_linked(&f, "orphan", NULL, &orphan);
    put_linked(&f, "ghost", &f.app, &ghost); /* a row whose file went missing */
    CHECK_INT_EQ(meta_blob_unlink(f.m, &f.app, &ghost, &err), 0);
    CHECK_INT_EQ(blob_store_remove(f.bs, &ghost, &err), 0);
    /* an upload session abandoned ten days ago, and a live one */
    CHECK_INT_EQ(upload_create(f.um, &f.app, id, &err), 0);
    snprintf(p, sizeof(p), "%s/uploads/%s/info", f.root, id);
    n = snprintf(info, sizeof(info), "repo=library/app\ncreated=%" PRId64 "\n",
                 now_s() - 10 * 86400);
    CHECK_INT_EQ(write_file_atomic(p, info, (size_t)n, 0640), 0);
    CHECK_INT_EQ(upload_create(f.um, &f.app, id, &err), 0);

    /* within the window nothing goes */
    memset(&o, 0, sizeof(o));
    o.window_s = 3600;
    o.upload_age_s = 7 * 86400;
    CHECK_INT_EQ(gc_run(&st, f.m, f.bs, f.um, &o, &err), 0);
    CHECK_INT_EQ(st.blobs_removed, 0);
    CHECK_INT_EQ(st.orphans_removed, 0);
    CHECK_INT_EQ(st.uploads_removed, 1);

    /* two hours later, dry run: counts, removes nothing */
    o.now = now_s() + 7200;
    o.window_s = 60;
    o.dry_run = true;
    o.progress = count_progress;
    progress_calls = 0;
    CHECK_INT_EQ(gc_run(&st, f.m, f.bs, f.um, &o, &err), 0);
    CHECK_INT_EQ(st.blobs_removed, 2);
    CHECK_INT_EQ(st.blob_bytes, 8);
    CHECK_INT_EQ(st.orphans_removed, 1);
    CHECK_INT_EQ(st.orphan_bytes, 6);
    CHECK_INT_EQ(st.uploads_removed, 0);
    CHECK(progress_calls >= 2);
    CHECK(file_exists(&f, &dropped) && row_exists(&f, &dropped));
    CHECK(file_exists(&f, &orphan));
    CHECK(row_exists(&f, &ghost));

    /* the real run */
    o.dry_run = false;
    CHECK_INT_EQ(gc_run(&st, f.m, f.bs, f.um, &o, &err), 0);
    CHECK_INT_EQ(st.links_removed, 0);
    CHECK_INT_EQ(st.blobs_removed, 2);
    CHECK_INT_EQ(st.blob_bytes, 8);
    CHECK_INT_EQ(st.orphans_removed, 1);
    CHECK(!file_exists(&f, &dropped) && !row_exists(&f, &dropped));
    CHECK(!row_exists(&f, &ghost));
    CHECK(!file_exists(&f, &orphan));
    CHECK(file_exists(&f, &keep) && row_exists(&f, &keep));
    CHECK(file_exists(&f, &shared) && row_exists(&f, &shared));
    /* the live upload session stays (its age is measured against the real clock) */
    snprintf(p, sizeof(p), "%s/uploads", f.root);
    CHECK_INT_EQ(test_count_entries(p), 1);

    /* a second run finds nothing */
    CHECK_INT_EQ(gc_run(&st, f.m, f.bs, f.um, &o, &err), 0);
    CHECK_INT_EQ(st.blobs_removed + st.orphans_removed + st.uploads_removed, 0);

    /* entries under blobs/ that are not blobs are counted and left alone */
    snprintf(p, sizeof(p), "%s/blobs/sha256/zz", f.root);
    CHECK_INT_EQ(mkdir(p, 0750), 0);
    CHECK_INT_EQ(gc_run(&st, f.m, f.bs, f.um, &o, &err), 0);
    CHECK_INT_EQ(st.bad_names, 1);
    CHECK(access(p, F_OK) == 0);

    o.window_s = -1;
    CHECK_INT_EQ(gc_run(&st, f.m, f.bs, f.um, &o, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);
    fx_close(&f);
}

static void test_gc_keeps_manifest_blobs(void)
{
    struct fixture f;
    struct digest config, layer, man;
    struct meta_manifest_in in;
    struct digest blobs[2];
    struct gc_opts o;
    struct gc_stats st;
    struct berr err;
    char body[1024];
    int n;

    fx_open(&f);
    put_linked(&f, "{}", &f.app, &config);
    put_linked(&f, "layer bytes", &f.app, &layer);
    n = snprintf(body, sizeof(body),
                 "{\"schemaVersion\":2,\"mediaType\":"
                 "\"application/vnd.oci.image.manifest.v1+json\","
                 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                 "\"digest\":\"sha256:%s\",\"size\":2},"
                 "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
                 "\"digest\":\"sha256:%s\",\"size\":11}]}",
                 config.hex, layer.hex);
    CHECK_INT_EQ(blob_store_put_buf(f.bs, body, (size_t)n, &man, &err), 0);
    blobs[0] = config;
    blobs[1] = layer;
    memset(&in, 0, sizeof(in));
    in.digest = man;
    in.media_type = "application/vnd.oci.image.manifest.v1+json";
    in.size = (uint64_t)n;
    in.blobs = blobs;
    in.nblobs = 2;
    CHECK_INT_EQ(meta_manifest_put(f.m, &f.app, &in, &err), 0);
    /* the layer's own link goes; the manifest still lists it */
    CHECK_INT_EQ(meta_blob_unlink(f.m, &f.app, &layer, &err), 0);
    memset(&o, 0, sizeof(o));
    o.now = now_s() + 7200;
    o.window_s = 60;
    o.upload_age_s = -1;
    CHECK_INT_EQ(gc_run(&st, f.m, f.bs, f.um, &o, &err), 0);
    CHECK_INT_EQ(st.blobs_removed, 0);
    CHECK_INT_EQ(st.orphans_removed, 0);
    CHECK(file_exists(&f, &layer) && file_exists(&f, &man) && file_exists(&f, &config));
    fx_close(&f);
}

struct seen {
    int n[FSCK_BAD_NAME + 1];
};

static void collect_report(enum fsck_kind kind, const char *what, void *ctx)
{
    struct seen *s = ctx;

    CHECK(what != NULL && what[0] != '\0');
    CHECK(strcmp(fsck_kind_name(kind), "unknown") != 0);
    s->n[kind]++;
}

/* A deleted manifest leaves its layer links behind; gc drops them once they are older than the
 * window, and the blobs then go too. A link still listed by another manifest stays. */
static void test_gc_dangling_links(void)
{
    struct fixture f;
    struct digest layer, kept, man;
    struct gc_opts o;
    struct gc_stats st;
    struct berr err;

    fx_open(&f);
    put_linked(&f, "layer of a deleted image", &f.app, &layer);
    put_linked(&f, "layer still used", &f.app, &kept);
    put_manifest(&f, "image to delete", &f.app, &layer);
    CHECK_INT_EQ(digest_of(&man, "image to delete", strlen("image to delete")), 0);
    put_manifest(&f, "image kept", &f.app, &kept);
    CHECK_INT_EQ(meta_manifest_delete(f.m, &f.app, &man, &err), 0);

    memset(&o, 0, sizeof(o));
    o.window_s = 3600; /* within the window: the link may belong to a push in flight */
    o.upload_age_s = -1;
    CHECK_INT_EQ(gc_run(&st, f.m, f.bs, f.um, &o, &err), 0);
    CHECK_INT_EQ(st.links_removed, 0);
    CHECK(row_exists(&f, &layer));

    o.now = now_s() + 7200;
    o.window_s = 60;
    o.dry_run = true;
    CHECK_INT_EQ(gc_run(&st, f.m, f.bs, f.um, &o, &err), 0);
    CHECK_INT_EQ(st.links_removed, 1);
    CHECK(row_exists(&f, &layer));
    o.dry_run = false;
    CHECK_INT_EQ(gc_run(&st, f.m, f.bs, f.um, &o, &err), 0);
    CHECK_INT_EQ(st.links_removed, 1);
    CHECK(!row_exists(&f, &layer) && !file_exists(&f, &layer));
    CHECK(row_exists(&f, &kept) && file_exists(&f, &kept));
    fx_close(&f);
}

static void test_fsck(void)
{
    struct fixture f;
    struct digest good, bad, orphan, young, ghost;
    struct fsck_opts o;
    struct fsck_stats st;
    struct seen seen;
    struct berr err;
    char p[PATH_MAX];

    fx_open(&f);
    memset(&o, 0, sizeof(o));
    memset(&seen, 0, sizeof(seen));
    o.report = collect_report;
    o.report_ctx = &seen;
    CHECK_INT_EQ(fsck_run(&st, f.m, f.bs, &o, &err), 0);
    CHECK_INT_EQ(fsck_problems(&st), 0);
    CHECK_INT_EQ(st.checked, 0);

    put_linked(&f, "good", &f.app, &good);
    put_linked(&f, "bad", &f.app, &bad);
    CHECK_INT_EQ(blob_store_path(f.bs, &bad, p, sizeof(p), &err), 0);
    CHECK_INT_EQ(write_file_atomic(p, "BAD", 3, 0640), 0);
    put_linked(&f, "orphan", NULL, &orphan);
    age_file(&f, &orphan, 86400);
    put_linked(&f, "young orphan", NULL, &young);
    put_linked(&f, "ghost", &f.app, &ghost);
    CHECK_INT_EQ(blob_store_remove(f.bs, &ghost, &err), 0);
    snprintf(p, sizeof(p), "%s/blobs/sha256/not-hex", f.root);
    CHECK_INT_EQ(write_file_atomic(p, "x", 1, 0640), 0);

    CHECK_INT_EQ(fsck_run(&st, f.m, f.bs, &o, &err), 0);
    CHECK_INT_EQ(st.checked, 4);
    CHECK_INT_EQ(st.bytes, 4 + 3 + 6 + 12);
    CHECK_INT_EQ(st.corrupt, 1);
    CHECK_INT_EQ(st.quarantined, 0);
    CHECK_INT_EQ(st.no_row, 1);
    CHECK_INT_EQ(st.in_flight, 1);
    CHECK_INT_EQ(st.no_file, 1);
    CHECK_INT_EQ(st.bad_names, 1);
    CHECK_INT_EQ(st.unreadable, 0);
    CHECK_INT_EQ(fsck_problems(&st), 4);
    CHECK_INT_EQ(seen.n[FSCK_CORRUPT], 1);
    CHECK_INT_EQ(seen.n[FSCK_NO_ROW], 1);
    CHECK_INT_EQ(seen.n[FSCK_NO_FILE], 1);
    CHECK_INT_EQ(seen.n[FSCK_BAD_NAME], 1);
    CHECK(file_exists(&f, &bad)); /* no repair: nothing moved */

    /* repair moves the corrupt file to quarantine/; its row is then a row without a file */
    o.repair = true;
    memset(&seen, 0, sizeof(seen));
    CHECK_INT_EQ(fsck_run(&st, f.m, f.bs, &o, &err), 0);
    CHECK_INT_EQ(st.corrupt, 1);
    CHECK_INT_EQ(st.quarantined, 1);
    CHECK_INT_EQ(seen.n[FSCK_QUARANTINED], 1);
    CHECK(!file_exists(&f, &bad));
    snprintf(p, sizeof(p), "%s/quarantine", f.root);
    CHECK_INT_EQ(test_count_entries(p), 1);
    CHECK_INT_EQ(fsck_run(&st, f.m, f.bs, &o, &err), 0);
    CHECK_INT_EQ(st.corrupt, 0);
    CHECK_INT_EQ(st.no_file, 2);
    fx_close(&f);
}

/* allocation failures inside gc and fsck: a clean error or success, never a leak */
static void test_alloc_failures(void)
{
    struct fixture f;
    struct digest d;
    struct gc_opts go;
    struct fsck_opts fo;
    struct gc_stats gs;
    struct fsck_stats fs;
    struct berr err;
    char s[32];
    long n, injected;
    int rc = -1, failures = 0;

    fx_open(&f);
    /* enough candidates for the list to grow more than once */
    for (int i = 0; i < 600; i++) {
        snprintf(s, sizeof(s), "blob %d", i);
        put_linked(&f, s, &f.app, &d);
        CHECK_INT_EQ(meta_blob_unlink(f.m, &f.app, &d, &err), 0);
    }
    memset(&go, 0, sizeof(go));
    go.now = now_s() + 7200;
    go.window_s = 60;
    go.upload_age_s = 7 * 86400;
    go.dry_run = true;
    for (n = 0; n < 2000; n++) {
        mem_fail_after(n);
        rc = gc_run(&gs, f.m, f.bs, f.um, &go, &err);
        injected = mem_injected();
        mem_fail_after(-1);
        if (rc < 0) {
            failures++;
            CHECK(err.code == BERR_INTERNAL);
        } else {
            CHECK_INT_EQ(gs.blobs_removed, 600);
        }
        if (rc == 0 && injected == 0)
            break;
    }
    CHECK_INT_EQ(rc, 0);
    CHECK(failures >= 1);

    memset(&fo, 0, sizeof(fo));
    failures = 0;
    for (n = 0; n < 2000; n++) {
        mem_fail_after(n);
        rc = fsck_run(&fs, f.m, f.bs, &fo, &err);
        injected = mem_injected();
        mem_fail_after(-1);
        if (rc < 0) {
            failures++;
            CHECK(err.code == BERR_INTERNAL);
        }
        if (rc == 0 && injected == 0)
            break;
    }
    CHECK_INT_EQ(rc, 0);
    CHECK(failures >= 1);
    CHECK_INT_EQ(fs.checked, 600);
    CHECK_INT_EQ(fsck_problems(&fs), 0);

    /* and the real sweep after all that */
    go.dry_run = false;
    CHECK_INT_EQ(gc_run(&gs, f.m, f.bs, f.um, &go, &err), 0);
    CHECK_INT_EQ(gs.blobs_removed, 600);
    CHECK(!file_exists(&f, &d));
    fx_close(&f);
}

/* start-up reconciliation: what a crash (or a lost file) leaves is repaired, the rest kept */
static void test_reconcile(void)
{
    struct fixture f;
    struct digest linked, loose, listed, orphan, young, keep;
    struct gc_reconcile_stats rs;
    struct fsck_opts fo;
    struct fsck_stats fs;
    struct berr err;
    char id[UPLOAD_ID_LEN + 1], live[UPLOAD_ID_LEN + 1], p[PATH_MAX];
    uint64_t size;

    fx_open(&f);
    put_linked(&f, "kept, file and row", &f.app, &keep);
    put_linked(&f, "linked, file lost", &f.app, &linked);
    CHECK_INT_EQ(blob_store_remove(f.bs, &linked, &err), 0);
    put_linked(&f, "unreferenced, file lost", &f.app, &loose);
    CHECK_INT_EQ(meta_blob_unlink(f.m, &f.app, &loose, &err), 0);
    CHECK_INT_EQ(blob_store_remove(f.bs, &loose, &err), 0);
    put_linked(&f, "orphan, old", NULL, &orphan);
    age_file(&f, &orphan, 3 * 3600);
    put_linked(&f, "orphan, young", NULL, &young);
    /* uploads/: a live session, one whose info never landed, one committed but not cleaned up,
     * a manifest's temp file */
    CHECK_INT_EQ(upload_create(f.um, &f.app, live, &err), 0);
    CHECK_INT_EQ(upload_create(f.um, &f.app, id, &err), 0);
    snprintf(p, sizeof(p), "%s/uploads/%s/info", f.root, id);
    CHECK_INT_EQ(unlink(p), 0);
    CHECK_INT_EQ(upload_create(f.um, &f.app, id, &err), 0);
    snprintf(p, sizeof(p), "%s/uploads/%s/data", f.root, id);
    CHECK_INT_EQ(unlink(p), 0);
    snprintf(p, sizeof(p), "%s/uploads/put-0123.tmp", f.root);
    CHECK_INT_EQ(write_file_atomic(p, "{}", 2, 0640), 0);
    /* the upload manager of a restarted server knows none of them */
    upload_mgr_free(f.um);
    CHECK_INT_EQ(upload_mgr_new(&f.um, f.bs, &err), 0);

    CHECK_INT_EQ(gc_reconcile(&rs, f.m, f.bs, f.um, 7200, &err), 0);
    CHECK_INT_EQ(rs.rows_dropped, 2);
    CHECK_INT_EQ(rs.links_dropped, 1);
    CHECK_INT_EQ(rs.rows_lost, 0);
    CHECK_INT_EQ(rs.orphans_removed, 1);
    CHECK_INT_EQ(rs.uploads_removed, 3);
    CHECK(!row_exists(&f, &linked) && !row_exists(&f, &loose));
    CHECK(meta_blob_linked(f.m, &f.app, &linked, &size, &err) < 0);
    CHECK_INT_EQ(err.code, BERR_BLOB_UNKNOWN); /* clients push it again */
    CHECK(!file_exists(&f, &orphan));
    CHECK(file_exists(&f, &young)); /* inside the window: may be a push in flight */
    CHECK(file_exists(&f, &keep) && row_exists(&f, &keep));
    snprintf(p, sizeof(p), "%s/uploads", f.root);
    CHECK_INT_EQ(test_count_entries(p), 1);
    snprintf(p, sizeof(p), "%s/uploads/%s/data", f.root, live);
    CHECK(access(p, F_OK) == 0);

    memset(&fo, 0, sizeof(fo));
    CHECK_INT_EQ(fsck_run(&fs, f.m, f.bs, &fo, &err), 0);
    CHECK_INT_EQ(fsck_problems(&fs), 0);
    CHECK_INT_EQ(fs.in_flight, 1);

    /* a second pass finds nothing */
    CHECK_INT_EQ(gc_reconcile(&rs, f.m, f.bs, f.um, 7200, &err), 0);
    CHECK_INT_EQ(rs.rows_dropped + rs.links_dropped + rs.rows_lost + rs.orphans_removed +
                         rs.uploads_removed,
                 0);

    /* a blob a manifest lists whose file is lost cannot be repaired: kept and counted */
    put_linked(&f, "listed, file lost", &f.app, &listed);
    put_manifest(&f, "manifest listing it", &f.app, &listed);
    CHECK_INT_EQ(blob_store_remove(f.bs, &listed, &err), 0);
    CHECK_INT_EQ(gc_reconcile(&rs, f.m, f.bs, f.um, 7200, &err), 0);
    CHECK_INT_EQ(rs.rows_lost, 1);
    CHECK_INT_EQ(rs.links_dropped, 1);
    CHECK(row_exists(&f, &listed));
    CHECK_INT_EQ(gc_reconcile(&rs, f.m, f.bs, f.um, -1, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);
    fx_close(&f);
}

/* ---- the re-push race ----
 * gc is held inside the transaction that deleted a blob's row (the drop hook), and a client
 * re-pushes the same bytes the way registry/uploads.c does: upload session, commit, file placed
 * and row inserted in one transaction. The push must not get through while gc holds the row's
 * transaction (before the fix it did: it deduplicated against the file gc was about to remove
 * and inserted a row for it), and afterwards row and file must both be there. */
struct race {
    struct fixture *f;
    const char *bytes;
    struct digest d;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool linking; /* the pusher is about to place and link */
    bool done;    /* the pusher's commit returned */
    int push_rc;
    bool hook_ran;
    bool done_while_held; /* the push finished while gc was inside its transaction */
    pthread_t th;
};

static void race_set(struct race *r, bool *flag)
{
    pthread_mutex_lock(&r->mu);
    *flag = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static int race_link(const char *path, uint64_t size, void *ctx, struct berr *err)
{
    struct race *r = ctx;
    struct blob_place bp = {r->f->bs, path, &r->d};

    race_set(r, &r->linking);
    return meta_blob_link_place(r->f->m, &r->f->app, &r->d, size, blob_store_place, &bp, NULL, err);
}

static void *race_push(void *arg)
{
    struct race *r = arg;
    char id[UPLOAD_ID_LEN + 1];
    struct upload *u = NULL;
    uint64_t size = 0;
    struct berr err;
    int rc;

    rc = upload_create(r->f->um, &r->f->app, id, &err);
    if (rc == 0)
        rc = upload_acquire(r->f->um, id, &r->f->app, &u, &err);
    if (rc == 0)
        rc = upload_write(u, r->bytes, strlen(r->bytes), &err);
    if (rc == 0)
        rc = upload_commit_link(u, &r->d, race_link, r, &size, &err);
    else if (u != NULL)
        upload_release(u);
    r->push_rc = rc;
    race_set(r, &r->linking); /* a push failing early must not leave the hook waiting */
    race_set(r, &r->done);
    return NULL;
}

static void race_hook(const struct digest *d, void *ctx)
{
    struct race *r = ctx;
    struct timespec ts;

    if (!digest_equal(d, &r->d) || r->hook_ran)
        return;
    r->hook_ran = true;
    CHECK_INT_EQ(pthread_create(&r->th, NULL, race_push, r), 0);
    pthread_mutex_lock(&r->mu);
    while (!r->linking)
        pthread_cond_wait(&r->cv, &r->mu);
    /* the pusher is at its link: give it 300 ms to get through (it must not) */
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 300 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (!r->done) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) != 0)
            break;
    }
    r->done_while_held = r->done;
    pthread_mutex_unlock(&r->mu);
}

/* orphan: the blob is a file without a row (gc's orphan sweep) instead of an unreferenced row */
static void race_case(bool orphan)
{
    struct fixture f;
    struct race r;
    struct gc_opts o;
    struct gc_stats st;
    struct berr err;
    uint64_t size = 0;

    fx_open(&f);
    memset(&r, 0, sizeof(r));
    r.f = &f;
    r.bytes = orphan ? "an orphan re-pushed" : "a layer re-pushed";
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    put_linked(&f, r.bytes, orphan ? NULL : &f.app, &r.d);
    if (!orphan)
        CHECK_INT_EQ(meta_blob_unlink(f.m, &f.app, &r.d, &err), 0);

    memset(&o, 0, sizeof(o));
    o.now = now_s() + 7200;
    o.window_s = 60;
    o.upload_age_s = -1;
    gc_test_drop_hook = race_hook;
    gc_test_drop_ctx = &r;
    CHECK_INT_EQ(gc_run(&st, f.m, f.bs, NULL, &o, &err), 0);
    gc_test_drop_hook = NULL;
    gc_test_drop_ctx = NULL;
    CHECK(r.hook_ran);
    if (r.hook_ran)
        CHECK_INT_EQ(pthread_join(r.th, NULL), 0);
    CHECK(!r.done_while_held);
    CHECK_INT_EQ(r.push_rc, 0);
    CHECK_INT_EQ(orphan ? st.orphans_removed : st.blobs_removed, 1);
    /* the re-push won in the end: row, link and a file with the right bytes */
    CHECK(row_exists(&f, &r.d));
    CHECK(file_exists(&f, &r.d));
    CHECK_INT_EQ(meta_blob_linked(f.m, &f.app, &r.d, &size, &err), 0);
    CHECK_INT_EQ(size, strlen(r.bytes));
    CHECK_INT_EQ(blob_store_verify(f.bs, &r.d, &err), 0);
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
    fx_close(&f);
}

static void test_gc_repush_race(void)
{
    race_case(false);
    race_case(true);
}

int main(void)
{
    TEST_RUN(test_gc);
    TEST_RUN(test_gc_keeps_manifest_blobs);
    TEST_RUN(test_gc_dangling_links);
    TEST_RUN(test_fsck);
    TEST_RUN(test_alloc_failures);
    TEST_RUN(test_gc_repush_race);
    TEST_RUN(test_reconcile);
    return test_summary();
}
