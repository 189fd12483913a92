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

#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"
#include "common/digest.h"

#define PULLS_MAX_ENTRIES_DEFAULT 4096

struct meta;
struct pulls;

/* One pending key with its count: what pulls_flush hands the backend (meta_ops.h). */
struct pulls_entry {
    struct repo_name repo;
    struct digest digest;
    struct tag tag; /* s[0] == '\0': pulled by digest */
    uint64_t count;
    int64_t last; /* latest pull time, epoch seconds */
};

/* pulls_new: *out is new (pulls_free), bound to m (borrowed: must outlive it). max_entries
 * (0 = PULLS_MAX_ENTRIES_DEFAULT) caps the distinct (repository, digest, tag) keys held in
 * memory; reaching it makes the recording thread flush. NULL on failure. */
int pulls_new(struct pulls **out, struct meta *m, size_t max_entries, struct berr *err);
/* pulls_free drops what was not flushed (call pulls_flush first). NULL is a no-op. */
void pulls_free(struct pulls *p);

/* pulls_record counts one pull of digest d in repo at time `when` (epoch seconds); tag is the
 * tag the client asked for, or NULL for a pull by digest. -1 (err set) only when the key could
 * not be stored (allocation failure, or a full table whose flush failed). */
int pulls_record(struct pulls *p, const struct repo_name *repo, const struct digest *d,
                 const struct tag *tag, int64_t when, struct berr *err);

/* pulls_flush writes every pending count in one transaction. *flushed (may be NULL) is the
 * number of pulls written. On failure the counts stay pending and err is set. */
int pulls_flush(struct pulls *p, uint64_t *flushed, struct berr *err);

/* pulls_start runs a thread that flushes every interval_s seconds (>= 1); pulls_stop stops it
 * (prompt: it is woken) and flushes one last time, returning that flush's result. Call
 * pulls_stop before pulls_free and before the database closes; it is a no-op when not
 * started. */
int pulls_start(struct pulls *p, unsigned interval_s, struct berr *err);
int pulls_stop(struct pulls *p, struct berr *err);

/* pulls_pending: pulls recorded and not yet flushed. */
uint64_t pulls_pending(struct pulls *p);

#endif
