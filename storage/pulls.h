/* pulls.h - pull counters: every successful manifest GET counts once for its repository, its
 * artifact (manifest digest) and, when the reference was a tag, that tag, with the time.
 *
 * Counts are gathered in memory (pulls_record, cheap, thread-safe) and written to the database
 * in one BEGIN IMMEDIATE transaction per pulls_flush: repositories.pull_count,
 * manifests.pull_count/pull_time, tags.pull_count/pull_time, and the pull_time of the indexes of
 * the repository that list the pulled manifest (as Harbor does). A flush that fails puts its
 * counts back, so nothing is lost while the database is busy or full.
 * Thread-safe: every call may run on any thread, flushes included. */
#ifndef BERTH_STORAGE_PULLS_H
#define BERTH_STORAGE_PULLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"
#include "common/digest.h"

#define PULLS_MAX_ENTRIES_DEFAULT 4096
#define PULLS_WHO_MAX 255
#define PULLS_CLIENT_MAX 15
#define PULLS_HOUR_S 3600
#define PULLS_DAY_S 86400

struct meta;
struct pulls;

/* Who pulled: the kind is stored as "anonymous", "user" or "robot". */
enum pulls_who { PULLS_WHO_ANONYMOUS = 0, PULLS_WHO_USER, PULLS_WHO_ROBOT };

/* One pull, as the registry saw it (all pointers borrowed for the call). */
struct pulls_event {
    const struct repo_name *repo;
    const struct digest *digest;
    const struct tag *tag; /* NULL: pulled by digest */
    enum pulls_who who_kind;
    const char *who;    /* user or full robot name; "" or NULL for anonymous */
    const char *client; /* client family ("docker", "containerd", ...; see registry/pullctx) */
    bool child;         /* a child manifest of an index fetched by digest */
    int64_t when;       /* epoch seconds */
};

/* One pending key with its count: what pulls_flush hands the backend (meta_ops.h). The key is
 * everything but count and last; hour is the start of the hour of the pulls. */
struct pulls_entry {
    struct repo_name repo;
    struct digest digest;
    struct tag tag; /* s[0] == '\0': pulled by digest */
    enum pulls_who who_kind;
    char who[PULLS_WHO_MAX + 1];
    char client[PULLS_CLIENT_MAX + 1];
    bool child;
    int64_t hour;
    uint64_t count;
    int64_t last; /* latest pull time, epoch seconds */
};

/* pulls_new: *out is new (pulls_free), bound to m (borrowed: must outlive it). max_entries
 * (0 = PULLS_MAX_ENTRIES_DEFAULT) caps the distinct (repository, digest, tag) keys held in
 * memory; reaching it makes the recording thread flush. NULL on failure. */
int pulls_new(struct pulls **out, struct meta *m, size_t max_entries, struct berr *err);
/* pulls_free drops what was not flushed (call pulls_flush first). NULL is a no-op. */
void pulls_free(struct pulls *p);

/* pulls_record counts one pull (ev borrowed). Strings longer than their caps are cut. -1 (err
 * set) only when the key could not be stored (allocation failure, or a full table whose flush
 * failed). */
int pulls_record(struct pulls *p, const struct pulls_event *ev, struct berr *err);

/* pulls_peek adds to *count the pulls still pending (not flushed) of repo, restricted to digest
 * d and to tag t when not NULL, and raises *last to their latest time. Readers add this to what
 * the database says (read-your-writes without a write per read). */
void pulls_peek(struct pulls *p, const struct repo_name *repo, const struct digest *d,
                const struct tag *t, int64_t *count, int64_t *last);

/* pulls_flush writes every pending count in one transaction. *flushed (may be NULL) is the
 * number of pulls written. On failure the counts stay pending and err is set. */
int pulls_flush(struct pulls *p, uint64_t *flushed, struct berr *err);

/* pulls_start runs a thread that flushes every interval_s seconds (>= 1); pulls_stop stops it
 * (prompt: it is woken) and flushes one last time, returning that flush's result. Call
 * pulls_stop before pulls_free and before the database closes; it is a no-op when not
 * started. */
int pulls_start(struct pulls *p, unsigned interval_s, struct berr *err);
int pulls_stop(struct pulls *p, struct berr *err);

/* pulls_pending_copy: *out (new, mem_free; NULL when none) a copy of the pending entries, *n of
 * them, for readers that merge them into what they read from the database, and *epoch the
 * flush epoch at the copy (pulls_epoch). -1 (*out NULL, *n 0) when out of memory.
 * A reader copies, reads the database, then calls pulls_epoch: when both epochs are equal and
 * not 0, no flush ran in between, so the copy and the database hold each pull exactly once;
 * otherwise it reads again. */
int pulls_pending_copy(struct pulls *p, struct pulls_entry **out, size_t *n, uint64_t *epoch);
/* pulls_epoch: 0 while a flush is writing, else a number that changes with every flush that
 * wrote. */
uint64_t pulls_epoch(struct pulls *p);
/* pulls_pending: pulls recorded and not yet flushed. */
uint64_t pulls_pending(struct pulls *p);
/* pulls_flush_stats: number of flushes done, and the seconds the last and all of them took. */
void pulls_flush_stats(struct pulls *p, uint64_t *flushes, double *last_s, double *total_s);

/* ---- the pull history (time series), read from the database ---- */

/* Every flush adds its counts to hourly and daily buckets keyed by repository, digest, tag,
 * who, client family and image-or-child; reads sum them. */
enum pulls_group {
    PULLS_GROUP_NONE = 0,
    PULLS_GROUP_TAG,
    PULLS_GROUP_ARTIFACT,
    PULLS_GROUP_USER,
    PULLS_GROUP_CLIENT,
    PULLS_GROUP_REPO
};

/* The scope of a series or a top list: a project (project != NULL), a repository (repo !=
 * NULL), an artifact (repo and digest), or everything; buckets with from <= start < to. */
struct pulls_q {
    const char *project;
    const struct repo_name *repo;
    const struct digest *digest;
    int64_t from;
    int64_t to;
    unsigned granularity; /* PULLS_HOUR_S or PULLS_DAY_S */
    enum pulls_group group;
};

struct pulls_point {
    int64_t bucket;               /* start of the bucket; 0 in top lists */
    char key[PULLS_WHO_MAX + 1];  /* tag, "sha256:..." digest, who, client or repository; "" */
    char kind[12];                /* group user: anonymous|user|robot */
    char repo[REPO_NAME_MAX + 1]; /* group tag in top lists: the tag's repository */
    uint64_t pulls;               /* image pulls (a tag or a top-level digest) */
    uint64_t child_fetches;       /* child manifests of an index fetched by digest */
    int64_t last;
};

/* meta_pulls_series: one point per (bucket, group key) in q's window, by bucket then key,
 * at most cap (*n set); BERR_BAD_REQUEST for a granularity other than hour or day. */
int meta_pulls_series(struct meta *m, const struct pulls_q *q, struct pulls_point *out, size_t cap,
                      size_t *n, struct berr *err);
/* meta_pulls_top: the cap busiest keys of q's window (group PULLS_GROUP_REPO or
 * PULLS_GROUP_TAG, bucket 0), most pulls (image pulls plus child fetches) first. */
int meta_pulls_top(struct meta *m, const struct pulls_q *q, struct pulls_point *out, size_t cap,
                   size_t *n, struct berr *err);
/* meta_pulls_prune deletes hourly buckets older than hour_before and daily ones older than
 * day_before (0: none); *removed (may be NULL) counts the rows. */
int meta_pulls_prune(struct meta *m, int64_t hour_before, int64_t day_before, int64_t *removed,
                     struct berr *err);

/* A stale listing: artifacts (tags == false) or tags of project_id (<= 0: of every project)
 * not pulled since `before`, or never; oldest pull first (never pulled first of all). */
struct pulls_stale_q {
    int64_t project_id;
    int64_t before;
    bool tags;
    int64_t offset;
    size_t limit;
};
struct pulls_stale {
    char repo[REPO_NAME_MAX + 1];
    struct digest digest;
    char tag[TAG_MAX + 1]; /* tags only */
    uint64_t size;         /* the artifact's, manifest plus blobs plus children */
    int64_t push_time;
    int64_t pull_time; /* 0 = never */
    int64_t pull_count;
};
int meta_pulls_stale(struct meta *m, const struct pulls_stale_q *q, struct pulls_stale *out,
                     size_t cap, size_t *n, int64_t *total, struct berr *err);

#endif
