/* test_meta.h - fixtures for the unit tests of storage/ modules that work on the metadata
 * database (meta_test, meta_manifest_test, audit_test, quota_test, meta_ident_test): a fresh
 * database per call (test_meta_open, or test_meta_open_at when the test needs the path), plus
 * reference/manifest builders and callback collectors the meta tests share. Test-only,
 * header-only (like common/test.h); the database counter is not thread-safe, so open fixtures
 * from the main thread only. */
#ifndef BERTH_STORAGE_TEST_META_H
#define BERTH_STORAGE_TEST_META_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/test.h"
#include "storage/meta.h"

/* test_meta_path writes a new database path dir/tN.db into out (cap bytes); N counts the calls
 * shared with test_meta_open, so no two paths of one run meet. A path that does not fit aborts. */
static int test_meta_seq_;

static inline void test_meta_path(char *out, size_t cap, const char *dir)
{
    int n = snprintf(out, cap, "%s/t%d.db", dir, ++test_meta_seq_);

    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "test_meta_path: no room for the path under %s\n", dir);
        abort();
    }
}

/* test_meta_open_at opens a new database under dir with pool connections and writes its path
 * into path (cap bytes), for tests that reopen the file. Without it the test cannot go on, so a
 * failure prints why and aborts. */
static inline struct meta *test_meta_open_at(const char *dir, unsigned pool, char *path, size_t cap)
{
    struct meta *m = NULL;
    struct berr e;

    test_meta_path(path, cap, dir);
    if (meta_open(&m, path, pool, &e) < 0) {
        fprintf(stderr, "meta_open: %s\n", e.msg);
        abort();
    }
    return m;
}

/* test_meta_open opens a new database dir/tN.db with pool connections (see test_meta_open_at). */
static inline struct meta *test_meta_open(const char *dir, unsigned pool)
{
    char path[256];

    return test_meta_open_at(dir, pool, path, sizeof(path));
}

/* ---- builders and collectors shared by the meta tests ---- */

static inline struct reference ref_tag(const char *s)
{
    struct reference r;

    memset(&r, 0, sizeof(r));
    if (snprintf(r.tag.s, sizeof(r.tag.s), "%s", s) >= (int)sizeof(r.tag.s))
        abort();
    return r;
}

static inline struct reference ref_digest(const struct digest *d)
{
    struct reference r;

    memset(&r, 0, sizeof(r));
    r.is_digest = true;
    r.digest = *d;
    return r;
}

/* an image manifest over the given blobs, pushed with at most one tag */
static inline int put_image(struct meta *m, const struct repo_name *r, const char *content,
                            const struct digest *blobs, size_t nblobs, const char *tag,
                            struct berr *e)
{
    struct meta_manifest_in in;
    struct tag t;

    memset(&in, 0, sizeof(in));
    in.digest = test_digest_of(content);
    in.media_type = "application/vnd.oci.image.manifest.v1+json";
    in.size = strlen(content);
    in.blobs = blobs;
    in.nblobs = nblobs;
    if (tag != NULL) {
        t = test_tag(tag);
        in.tags = &t;
        in.ntags = 1;
    }
    return meta_manifest_put(m, r, &in, e);
}

/* collects callback strings, joined by ',' */
struct coll {
    char s[4096];
    int n;
    int stop_after; /* return 7 from the callback after this many; 0 = never */
};

static inline int coll_str(const char *s, void *ctx)
{
    struct coll *c = ctx;
    size_t len = strlen(c->s);

    if (snprintf(c->s + len, sizeof(c->s) - len, "%s%s", len ? "," : "", s) < 0)
        abort();
    c->n++;
    return c->stop_after != 0 && c->n >= c->stop_after ? 7 : 0;
}

static inline int coll_digest(const struct digest *d, void *ctx)
{
    char s[DIGEST_STR_LEN + 1];

    digest_format(d, s, sizeof(s));
    return coll_str(s + 7 + 60, ctx); /* the last 4 hex characters are enough to tell */
}

static inline const char *tail4(const struct digest *d)
{
    return d->hex + 60;
}

#endif
