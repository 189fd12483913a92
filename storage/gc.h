/* gc.h - garbage collection and consistency checks of the blob store against the metadata.
 *
 * gc_run is an online mark-and-sweep, safe while the server runs: it asks meta for blob rows that
 * nothing references and that are older than a window, deletes each row (meta_blob_forget_drop
 * checks again inside its transaction) and its file inside that transaction; it removes files under blobs/ that have no
 * row and are older than the window (a crash between the rename and the meta insert); and it
 * purges upload sessions older than an age. fsck_run re-hashes every blob and compares the store
 * with the metadata. Both only read the options; neither keeps state between calls. */
#ifndef BERTH_STORAGE_GC_H
#define BERTH_STORAGE_GC_H

#include <stdbool.h>
#include <stdint.h>

#include "common/berr.h"
#include "storage/blob_store.h"
#include "storage/meta.h"
#include "storage/upload.h"

/* Progress: called at most about once a second during long phases, and once at each phase's
 * end. phase is a static string ("sweep", "orphans", "verify", ...), done counts items seen. */
typedef void (*gc_progress_fn)(const char *phase, uint64_t done, uint64_t bytes, void *ctx);

struct gc_opts {
    int64_t now;             /* epoch seconds; 0 = the current time */
    int64_t window_s;        /* spare blobs (rows and orphan files) younger than this */
    int64_t upload_age_s;    /* purge upload sessions created longer ago; negative = do not purge */
    bool dry_run;            /* count what would go, remove nothing */
    gc_progress_fn progress; /* may be NULL */
    void *progress_ctx;
};

struct gc_stats {
    unsigned links_removed; /* repository links no manifest of the repository lists */
    unsigned blobs_removed; /* unreferenced blobs: row and file (or would be, in a dry run) */
    uint64_t blob_bytes;
    unsigned orphans_removed; /* files under blobs/ without a row */
    uint64_t orphan_bytes;
    unsigned uploads_removed; /* upload sessions and stale temp files */
    unsigned bad_names;       /* entries under blobs/ whose name is not a digest (left alone) */
};

/* gc_run: m, bs and um are borrowed; um may be NULL (no upload purge). *out is filled with what
 * was done until the failure when the call fails. */
int gc_run(struct gc_stats *out, struct meta *m, struct blob_store *bs, struct upload_mgr *um,
           const struct gc_opts *opts, struct berr *err);

#ifdef BERTH_TEST_BUILD
/* Test builds only: called inside the transaction that deleted d's row (or found none, for an
 * orphan), just before the file is removed. Set before gc_run, cleared after. */
typedef void (*gc_test_hook_fn)(const struct digest *d, void *ctx);
extern gc_test_hook_fn gc_test_drop_hook;
extern void *gc_test_drop_ctx;
#endif

/* What gc_reconcile repaired. */
struct gc_reconcile_stats {
    unsigned rows_dropped;    /* rows whose file was missing, deleted (unreferenced, or unlinked) */
    unsigned links_dropped;   /* repository links of such rows, removed so clients push again */
    unsigned rows_lost;       /* rows without a file that a manifest still needs (logged) */
    unsigned orphans_removed; /* files without a row older than the window */
    unsigned uploads_removed; /* uploads/ entries that are not usable sessions */
};

/* gc_reconcile makes the store and the metadata agree again after a crash, at start-up before
 * the server takes requests: a blob row whose file is missing is deleted (when repositories
 * still link it, the links go first, so HEAD answers 404 and clients upload it again; a row a
 * manifest needs is logged as lost and kept); files without a row older than window_s are
 * removed; entries of uploads/ that are not usable sessions are removed (upload_sweep_debris).
 * Every repair is logged. m, bs and um are borrowed. */
int gc_reconcile(struct gc_reconcile_stats *out, struct meta *m, struct blob_store *bs,
                 struct upload_mgr *um, int64_t window_s, struct berr *err);

/* fsck problem kinds passed to the report callback, with the digest or path concerned. */
enum fsck_kind {
    FSCK_CORRUPT,     /* content does not hash to the file's name */
    FSCK_UNREADABLE,  /* reading the file failed */
    FSCK_QUARANTINED, /* a corrupt file was moved to DATA/quarantine/ (repair) */
    FSCK_NO_ROW,      /* a file without a meta row */
    FSCK_NO_FILE,     /* a meta row without a file */
    FSCK_BAD_NAME,    /* an entry under blobs/ whose name is not a digest */
};
typedef void (*fsck_report_fn)(enum fsck_kind kind, const char *what, void *ctx);
/* fsck_kind_name: a short static word for a kind ("corrupt", "no-row", ...). */
const char *fsck_kind_name(enum fsck_kind kind);

/* Files younger than this without a row are counted as in flight (the server writes the row
 * right after the rename), not as problems. */
#define FSCK_IN_FLIGHT_S 600

struct fsck_opts {
    int64_t now;           /* 0 = the current time */
    bool repair;           /* move corrupt files to DATA/quarantine/<hex>-<random> */
    fsck_report_fn report; /* may be NULL */
    void *report_ctx;
    gc_progress_fn progress; /* may be NULL */
    void *progress_ctx;
};

struct fsck_stats {
    unsigned checked; /* files re-hashed */
    uint64_t bytes;
    unsigned corrupt;
    unsigned unreadable;
    unsigned quarantined;
    unsigned no_row;
    unsigned in_flight; /* files without a row, younger than FSCK_IN_FLIGHT_S */
    unsigned no_file;
    unsigned bad_names;
};

/* fsck_run walks the store and the blob rows. It returns 0 when the check ran to the end, even
 * when it found problems (see fsck_problems); -1 when it could not run (database, I/O). */
int fsck_run(struct fsck_stats *out, struct meta *m, struct blob_store *bs,
             const struct fsck_opts *opts, struct berr *err);
/* fsck_problems: how many problems the stats hold (0 = consistent). */
unsigned fsck_problems(const struct fsck_stats *s);

#endif
