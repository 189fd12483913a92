/* meta_walk.h - the batch walks both metadata backends share: the referrers walk (meta_referrers
 * in meta.h), the paging over one text column (catalog, tags and the like) with its digest
 * adapter, and the state list (meta_state_list).
 *
 * A backend supplies a fetch that fills a batch with the next referrers of a subject after a
 * given digest, holding its connection only for that; meta_ref_walk hands each row to the
 * caller's meta_referrer_fn with no connection held, and pages on by the last digest seen. Only
 * storage/ backends include this header. */
#ifndef BERTH_STORAGE_META_WALK_H
#define BERTH_STORAGE_META_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/berr.h"
#include "common/digest.h"
#include "storage/meta.h"

/* referrers are copied out in smaller batches: each row carries its annotations */
#define META_REF_BATCH 32

struct meta_ref_row {
    struct digest digest;
    char media_type[META_MEDIA_TYPE_MAX + 1];
    char artifact_type[META_MEDIA_TYPE_MAX + 1];
    uint64_t size;
    char *annotations; /* new, or NULL */
};

struct meta_ref_batch {
    unsigned n;
    struct meta_ref_row r[META_REF_BATCH];
};

/* meta_ref_batch_clear frees the rows' annotations and empties b */
void meta_ref_batch_clear(struct meta_ref_batch *b);

/* meta_ref_fetch_fn fills the empty b with up to META_REF_BATCH referrers of subject (a digest
 * string) in repo, of artifact_type (NULL: any), whose digest sorts after `after` ("" = from
 * the start), in digest order. *found_repo says whether repo exists. Returns 0, or -1 with err
 * set; rows already in b on failure are freed by the caller. */
typedef int (*meta_ref_fetch_fn)(struct meta *m, const struct repo_name *repo, const char *subject,
                                 const char *artifact_type, const char *after,
                                 struct meta_ref_batch *b, bool *found_repo, struct berr *err);

/* meta_ref_walk is meta_referrers (meta.h) over a backend's fetch */
int meta_ref_walk(struct meta *m, const struct repo_name *repo, const struct digest *d,
                  const char *artifact_type, meta_ref_fetch_fn fetch, meta_referrer_fn fn,
                  void *ctx, struct berr *err);

/* paging over one text column: strings are copied out in batches */
#define META_PAGE_BATCH 64

struct meta_page_batch {
    unsigned n;
    char s[META_PAGE_BATCH][REPO_NAME_MAX + 1];
};

/* meta_page_fetch_fn empties b and fills it with up to want (<= META_PAGE_BATCH) strings of the
 * query q, in order, after `after` ("" = from the start); *extra when one more exists. Returns
 * 0, or -1 with err set. */
typedef int (*meta_page_fetch_fn)(struct meta *m, const void *q, const char *after, unsigned want,
                                  struct meta_page_batch *b, bool *extra, struct berr *err);

/* meta_page_walk calls fn for up to n strings of q after last (NULL or "": from the start), a
 * batch at a time from fetch, with no connection held; *more (may be NULL) says whether more
 * follow. Returns 0, fn's first non-zero return, or -1 with err set (BERR_BAD_REQUEST when
 * last is too long). */
int meta_page_walk(struct meta *m, meta_page_fetch_fn fetch, const void *q, const char *last,
                   unsigned n, meta_str_fn fn, void *ctx, bool *more, struct berr *err);

/* meta_digest_cb adapts a walk over text to a meta_digest_fn: pass meta_digest_cb_call as the
 * meta_str_fn and a struct meta_digest_cb {fn, ctx, err, false} as its ctx. A stored string that
 * is not a digest is logged, ends the walk with BERR_INTERNAL in err and sets bad: the caller
 * then returns -1. */
struct meta_digest_cb {
    meta_digest_fn fn;
    void *ctx;
    struct berr *err;
    bool bad; /* a stored digest did not parse */
};

int meta_digest_cb_call(const char *s, void *ctx);

/* the state list (meta_state_list in meta.h): rows are copied out in batches in key order */
#define META_STATE_BATCH 64

struct meta_state_row {
    char key[META_STATE_KEY_MAX + 1];
    char *val; /* new */
    size_t len;
    int64_t version;
    int64_t expires;
};

/* meta_state_rows_clear frees the values of the first n rows */
void meta_state_rows_clear(struct meta_state_row *rows, size_t n);

/* meta_state_fetch_fn copies up to META_STATE_BATCH live rows of ns whose key sorts after
 * `after` ("" = from the start) into rows, in key order; *n rows. Returns 0, or -1 with err set
 * and no row left to free. */
typedef int (*meta_state_fetch_fn)(struct meta *m, const char *ns, const char *after,
                                   struct meta_state_row *rows, size_t *n, struct berr *err);

/* meta_state_walk is meta_state_list (meta.h) over a backend's fetch */
int meta_state_walk(struct meta *m, const char *ns, meta_state_fetch_fn fetch, meta_state_fn fn,
                    void *ctx, struct berr *err);

#endif
