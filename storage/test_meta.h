/* test_meta.h - fixtures for the unit tests of storage/ modules that work on the metadata
 * database (meta_test, meta_<entity>_test, audit_test, quota_test, pulls_test): a fresh
 * database per call (test_meta_open, or test_meta_open_at when the test needs the path; with
 * `library` public: test_meta_open_public), users (test_mkuser), the browse fixture (two
 * projects, users, images), plus reference/manifest builders and callback collectors the meta
 * tests share. Backends: with BERTH_TEST_PG_URL set (a postgres:// URL of a scratch server, as
 * tests/run.sh starts with scripts/pg.sh) every "database" is a fresh PostgreSQL schema
 * t<N>_<pid> on that server (pg_meta_scratch) and its "path" the URL naming it; without, a
 * SQLite file under the test's directory. Tests that look at SQLite's files themselves ask
 * test_meta_pg() and skip (test_skip). Test-only,
 * header-only (like common/test.h); the database counter is not thread-safe, so open fixtures
 * from the main thread only. */
#ifndef BERTH_STORAGE_TEST_META_H
#define BERTH_STORAGE_TEST_META_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "common/test.h"
#include "storage/meta.h"
#include "storage/pg_meta.h"

/* test_meta_pg: the scratch PostgreSQL server's URL when the tests run on PostgreSQL, else
 * NULL. */
static inline const char *test_meta_pg(void)
{
    const char *u = getenv("BERTH_TEST_PG_URL");

    return u != NULL && u[0] != '\0' ? u : NULL;
}

/* test_meta_location writes into out (cap bytes) the location of a new database named file
 * under dir: dir/file for SQLite; on PostgreSQL a new empty schema named after file (".db"
 * dropped, other characters than [a-z0-9] as '_') and the process. A location that cannot be
 * made aborts. */
static inline void test_meta_location(char *out, size_t cap, const char *dir, const char *file)
{
    const char *pg = test_meta_pg();
    char schema[64];
    size_t len;
    struct berr e;
    int n;

    if (pg == NULL) {
        n = snprintf(out, cap, "%s/%s", dir, file);
        if (n < 0 || (size_t)n >= cap) {
            fprintf(stderr, "test_meta_location: no room for the path under %s\n", dir);
            abort();
        }
        return;
    }
    len = strlen(file);
    if (len > 3 && strcmp(file + len - 3, ".db") == 0)
        len -= 3;
    n = snprintf(schema, sizeof(schema), "%.*s_%ld", (int)len, file, (long)getpid());
    for (char *s = schema; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
            *s = '_';
    if (n < 0 || (size_t)n >= sizeof(schema) || pg_meta_scratch(pg, schema, out, cap, &e) < 0) {
        fprintf(stderr, "test_meta_location: no scratch schema %s\n", schema);
        abort();
    }
}

/* test_meta_path writes a new database location (dir/tN.db, or schema tN_<pid>) into out (cap
 * bytes); N counts the calls shared with test_meta_open, so no two locations of one run meet. */
static int test_meta_seq_;

static inline void test_meta_path(char *out, size_t cap, const char *dir)
{
    char file[32];

    (void)snprintf(file, sizeof(file), "t%d.db", ++test_meta_seq_);
    test_meta_location(out, cap, dir, file);
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
    char path[512];

    return test_meta_open_at(dir, pool, path, sizeof(path));
}

/* test_meta_open_public is test_meta_open with `library` made public, as the identity tests were
 * written against Harbor's public `library` (Berth makes it private). */
static inline struct meta *test_meta_open_public(const char *dir)
{
    struct meta *m = test_meta_open(dir, 2);
    struct meta_project_info lib;
    struct berr e;

    if (meta_project_get(m, "library", &lib, &e) < 0 ||
        meta_project_update(m, lib.p.id, true, true, false, 0, &e) < 0)
        abort();
    return m;
}

/* test_mkuser creates a user with a fixed hash and gives its id; aborts on failure */
static inline int64_t test_mkuser(struct meta *m, const char *name, bool admin)
{
    struct berr e;
    int64_t id = 0;

    if (meta_user_create(m, name, "pbkdf2-sha256$1000$c2FsdA==$aGFzaA==", admin, &id, &e) < 0)
        abort();
    return id;
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

/* ---- the browse fixture (repositories and artifacts as the management API sees them) ---- */

static inline void browse_blob(struct meta *m, const char *repo, const char *content, uint64_t size)
{
    struct repo_name r = test_repo_name(repo);
    struct digest d = test_digest_of(content);
    struct berr e;

    if (meta_blob_link(m, &r, &d, size, &e) < 0)
        abort();
}

static inline void browse_image(struct meta *m, const char *repo, const char *content,
                                const char *b1, const char *b2, const char *tag1, const char *tag2)
{
    struct repo_name r = test_repo_name(repo);
    struct meta_manifest_in in;
    struct digest blobs[2];
    struct tag tags[2];
    struct berr e;

    memset(&in, 0, sizeof(in));
    in.digest = test_digest_of(content);
    in.media_type = "application/vnd.oci.image.manifest.v1+json";
    in.artifact_type = "application/vnd.oci.image.config.v1+json";
    in.size = strlen(content);
    blobs[0] = test_digest_of(b1);
    in.nblobs = 1;
    if (b2 != NULL) {
        blobs[1] = test_digest_of(b2);
        in.nblobs = 2;
    }
    in.blobs = blobs;
    if (tag1 != NULL)
        tags[in.ntags++] = test_tag(tag1);
    if (tag2 != NULL)
        tags[in.ntags++] = test_tag(tag2);
    in.tags = tags;
    if (meta_manifest_put(m, &r, &in, &e) < 0) {
        fprintf(stderr, "put: %s\n", e.msg);
        abort();
    }
}

struct browse_fixture {
    struct meta *m;
    int64_t alice, bob;
    int64_t p1, pub;
};

/* p1 (private, alice a guest): p1/secret. pub (public): pub/app with m1 (tags v1, v2; blobs
 * 100 + 1000 bytes) and m2 (untagged; blob 50 bytes). */
static inline void browse_setup(struct browse_fixture *f, const char *dir, const char *file)
{
    char path[512];
    struct berr e;

    test_meta_location(path, sizeof(path), dir, file);
    if (meta_open(&f->m, path, 2, &e) < 0)
        abort();
    f->alice = test_mkuser(f->m, "alice", false);
    f->bob = test_mkuser(f->m, "bob", false);
    if (meta_project_create(f->m, "p1", false, 0, -1, &f->p1, &e) < 0 ||
        meta_project_create(f->m, "pub", true, 0, -1, &f->pub, &e) < 0 ||
        meta_member_add(f->m, f->p1, f->alice, 3, NULL, &e) < 0)
        abort();
    browse_blob(f->m, "pub/app", "b1", 100);
    browse_blob(f->m, "pub/app", "b2", 1000);
    browse_blob(f->m, "pub/app", "b3", 50);
    browse_blob(f->m, "p1/secret", "s1", 7);
    browse_image(f->m, "pub/app", "m1-content", "b1", "b2", "v1", "v2");
    browse_image(f->m, "pub/app", "m2-content-longer", "b3", NULL, NULL, NULL);
    browse_image(f->m, "p1/secret", "s-content", "s1", NULL, "latest", NULL);
}

#endif
