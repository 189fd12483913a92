/* meta_walk.c - the backend-neutral walks of meta_walk.h: batching, paging and the
 * callbacks; the backends' fetches do the reading. */
#include "storage/meta_walk.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"

void meta_ref_batch_clear(struct meta_ref_batch *b)
{
    unsigned i;

    for (i = 0; i < b->n; i++) {
        mem_free(b->r[i].annotations);
        b->r[i].annotations = NULL;
    }
    b->n = 0;
}

int meta_ref_walk(struct meta *m, const struct repo_name *repo, const struct digest *d,
                  const char *artifact_type, meta_ref_fetch_fn fetch, meta_referrer_fn fn,
                  void *ctx, struct berr *err)
{
    char subject[DIGEST_STR_LEN + 1];
    char after[DIGEST_STR_LEN + 1] = "";
    struct meta_referrer r;
    struct meta_ref_batch *b;
    bool found_repo;
    unsigned i;
    int rc = 0;

    b = mem_calloc(1, sizeof(*b));
    if (b == NULL)
        return berr_sys(err, ENOMEM, "meta: referrer batch");
    digest_format(d, subject, sizeof(subject));
    for (;;) {
        rc = fetch(m, repo, subject, artifact_type, after, b, &found_repo, err);
        if (rc < 0)
            break;
        if (!found_repo) {
            rc = berr_set(err, BERR_NAME_UNKNOWN, "repository name not known to registry");
            break;
        }
        for (i = 0; i < b->n; i++) {
            r.digest = b->r[i].digest;
            r.media_type = b->r[i].media_type;
            r.size = b->r[i].size;
            r.artifact_type = b->r[i].artifact_type;
            r.annotations_json = b->r[i].annotations;
            rc = fn(&r, ctx);
            if (rc != 0)
                goto out;
        }
        if (b->n < META_REF_BATCH)
            break;
        digest_format(&b->r[b->n - 1].digest, after, sizeof(after));
        meta_ref_batch_clear(b);
    }
out:
    meta_ref_batch_clear(b);
    mem_free(b);
    return rc;
}

int meta_page_walk(struct meta *m, meta_page_fetch_fn fetch, const void *q, const char *last,
                   unsigned n, meta_str_fn fn, void *ctx, bool *more, struct berr *err)
{
    char after[REPO_NAME_MAX + 1];
    struct meta_page_batch *b;
    unsigned left = n;
    unsigned want;
    unsigned i;
    bool extra = false;
    int rc = 0;

    if (more != NULL)
        *more = false;
    if (last == NULL)
        last = "";
    if (strlen(last) > REPO_NAME_MAX)
        return berr_set(err, BERR_BAD_REQUEST, "last is too long");
    memcpy(after, last, strlen(last) + 1);
    b = mem_malloc(sizeof(*b));
    if (b == NULL)
        return berr_sys(err, ENOMEM, "meta: page buffer");
    for (;;) {
        want = left < META_PAGE_BATCH ? left : META_PAGE_BATCH;
        rc = fetch(m, q, after, want, b, &extra, err);
        if (rc < 0)
            break;
        for (i = 0; i < b->n; i++) {
            rc = fn(b->s[i], ctx);
            if (rc != 0)
                goto out;
        }
        left -= b->n;
        if (!extra || left == 0)
            break;
        memcpy(after, b->s[b->n - 1], strlen(b->s[b->n - 1]) + 1);
    }
    if (rc == 0 && more != NULL)
        *more = extra;
out:
    mem_free(b);
    return rc;
}

int meta_digest_cb_call(const char *s, void *ctx)
{
    struct meta_digest_cb *cb = ctx;
    struct digest d;
    struct berr perr;

    if (digest_parse(&d, s, strlen(s), &perr) < 0) {
        log_msg(LOG_ERROR, "meta: stored digest is malformed");
        cb->bad = true;
        return berr_set(cb->err, BERR_INTERNAL, "internal error");
    }
    return cb->fn(&d, cb->ctx);
}

void meta_state_rows_clear(struct meta_state_row *rows, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        mem_free(rows[i].val);
        rows[i].val = NULL;
    }
}

int meta_state_walk(struct meta *m, const char *ns, meta_state_fetch_fn fetch, meta_state_fn fn,
                    void *ctx, struct berr *err)
{
    struct meta_state_row *rows = mem_calloc(META_STATE_BATCH, sizeof(*rows));
    char after[META_STATE_KEY_MAX + 1] = "";
    size_t n = 0, i;
    int rc = 0;

    if (rows == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    for (;;) {
        rc = fetch(m, ns, after, rows, &n, err);
        if (rc < 0 || n == 0)
            break;
        for (i = 0; i < n && rc == 0; i++)
            rc = fn(rows[i].key, rows[i].val, rows[i].len, rows[i].version, rows[i].expires, ctx);
        memcpy(after, rows[n - 1].key, sizeof(after));
        meta_state_rows_clear(rows, n);
        if (rc != 0 || n < META_STATE_BATCH)
            break;
    }
    mem_free(rows);
    return rc;
}
