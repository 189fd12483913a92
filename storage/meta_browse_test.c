/* meta_browse_test.c - unit tests for storage/meta_browse.h on a fresh temporary database:
 * repository visibility, filters, sort and paging; artifacts (top-level rule, sizes, filters,
 * index children); tags (list, create, detach); statistics; description and delete. */
#include "storage/meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"

static char tmpdir[64];

static void blob(struct meta *m, const char *repo, const char *content, uint64_t size)
{
    struct repo_name r = test_repo_name(repo);
    struct digest d = test_digest_of(content);
    struct berr e;

    if (meta_blob_link(m, &r, &d, size, &e) < 0)
        abort();
}

static void image(struct meta *m, const char *repo, const char *content, const char *b1,
                  const char *b2, const char *tag1, const char *tag2)
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

static int64_t mkuser(struct meta *m, const char *name)
{
    struct berr e;
    int64_t id = 0;

    if (meta_user_create(m, name, "pbkdf2-sha256$1000$c2FsdA==$aGFzaA==", false, &id, &e) < 0)
        abort();
    return id;
}

struct fixture {
    struct meta *m;
    int64_t alice, bob;
    int64_t p1, pub;
};

/* p1 (private, alice a guest): p1/secret. pub (public): pub/app with m1 (tags v1, v2; blobs
 * 100 + 1000 bytes) and m2 (untagged; blob 50 bytes). */
static void setup(struct fixture *f, const char *file)
{
    char path[256];
    struct berr e;
    int n = snprintf(path, sizeof(path), "%s/%s", tmpdir, file);

    if (n < 0 || (size_t)n >= sizeof(path) || meta_open(&f->m, path, 2, &e) < 0)
        abort();
    f->alice = mkuser(f->m, "alice");
    f->bob = mkuser(f->m, "bob");
    if (meta_project_create(f->m, "p1", false, 0, -1, &f->p1, &e) < 0 ||
        meta_project_create(f->m, "pub", true, 0, -1, &f->pub, &e) < 0 ||
        meta_member_add(f->m, f->p1, f->alice, 3, NULL, &e) < 0)
        abort();
    blob(f->m, "pub/app", "b1", 100);
    blob(f->m, "pub/app", "b2", 1000);
    blob(f->m, "pub/app", "b3", 50);
    blob(f->m, "p1/secret", "s1", 7);
    image(f->m, "pub/app", "m1-content", "b1", "b2", "v1", "v2");
    image(f->m, "pub/app", "m2-content-longer", "b3", NULL, NULL, NULL);
    image(f->m, "p1/secret", "s-content", "s1", NULL, "latest", NULL);
}

static void test_repo_list(void)
{
    struct fixture f;
    struct meta_repo_info *rows = mem_calloc(10, sizeof(*rows));
    struct meta_repo_q q;
    struct berr e;
    size_t n = 0;
    int64_t total = 0;

    setup(&f, "repos.db");
    CHECK(rows != NULL);
    memset(&q, 0, sizeof(q));
    q.l.limit = 10;
    q.all = true;
    q.l.sort = "name";
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(rows[0].name, "p1/secret");
    CHECK_STR_EQ(rows[1].name, "pub/app");
    CHECK_INT_EQ(rows[1].artifact_count, 2);
    CHECK_INT_EQ(rows[1].project_id, f.pub);
    CHECK(rows[1].project_public);
    CHECK(!rows[0].project_public);

    q.l.sort = "-name";
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_STR_EQ(rows[0].name, "pub/app");

    /* visibility: anonymous and bob see the public one, alice (guest of p1) both */
    q.all = false;
    q.l.sort = NULL;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_STR_EQ(rows[0].name, "pub/app");
    q.viewer_user_id = f.bob;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.viewer_user_id = f.alice;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);

    /* filters: project, exact and fuzzy name */
    q.project_id = f.p1;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_STR_EQ(rows[0].name, "p1/secret");
    q.project_id = 0;
    q.l.name = "ecr";
    q.l.fuzzy = true;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.l.fuzzy = false;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 0);
    CHECK_INT_EQ(n, 0);
    q.l.name = "pub/app";
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.l.name = NULL;

    /* paging: the total stays, the page moves */
    q.l.sort = "name";
    q.l.limit = 1;
    q.l.offset = 1;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    CHECK_INT_EQ(n, 1);
    CHECK_STR_EQ(rows[0].name, "pub/app");

    /* errors */
    q.l.sort = "size; DROP TABLE x";
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    q.l.sort = NULL;
    q.l.offset = -1;
    CHECK_INT_EQ(meta_repo_list(f.m, &q, rows, 10, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    mem_free(rows);
    meta_close(f.m);
}

static void test_repo_get_update_delete(void)
{
    struct fixture f;
    struct meta_repo_info info;
    struct repo_name app, secret, none;
    char *longdesc = mem_malloc(META_REPO_DESC_MAX + 2);
    struct berr e;

    setup(&f, "repo1.db");
    app = test_repo_name("pub/app");
    secret = test_repo_name("p1/secret");
    none = test_repo_name("pub/none");
    CHECK(longdesc != NULL);
    CHECK_INT_EQ(meta_repo_info_get(f.m, &app, &info, &e), 0);
    CHECK_STR_EQ(info.name, "pub/app");
    CHECK_STR_EQ(info.description, "");
    CHECK_INT_EQ(info.pull_count, 0);
    CHECK(info.created_at > 0);
    CHECK_INT_EQ(meta_repo_info_get(f.m, &none, &info, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);

    CHECK_INT_EQ(meta_repo_set_description(f.m, &app, "an app", &e), 0);
    CHECK_INT_EQ(meta_repo_info_get(f.m, &app, &info, &e), 0);
    CHECK_STR_EQ(info.description, "an app");
    memset(longdesc, 'x', META_REPO_DESC_MAX + 1);
    longdesc[META_REPO_DESC_MAX + 1] = '\0';
    CHECK_INT_EQ(meta_repo_set_description(f.m, &app, longdesc, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(meta_repo_set_description(f.m, &none, "x", &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);

    CHECK_INT_EQ(meta_repo_delete(f.m, &secret, &e), 0);
    CHECK_INT_EQ(meta_repo_info_get(f.m, &secret, &info, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_repo_delete(f.m, &secret, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    /* the project is empty now: it may be deleted */
    CHECK_INT_EQ(meta_project_delete(f.m, f.p1, &e), 0);
    mem_free(longdesc);
    meta_close(f.m);
}

static void test_artifacts(void)
{
    struct fixture f;
    struct meta_artifact *rows = mem_calloc(10, sizeof(*rows));
    struct meta_artifact a;
    struct meta_artifact_q q;
    struct meta_repo_info info;
    struct repo_name app = test_repo_name("pub/app");
    struct digest m1 = test_digest_of("m1-content"), m2 = test_digest_of("m2-content-longer");
    struct berr e;
    size_t n = 0;
    int64_t total = 0;

    setup(&f, "arts.db");
    CHECK(rows != NULL);
    CHECK_INT_EQ(meta_repo_info_get(f.m, &app, &info, &e), 0);
    memset(&q, 0, sizeof(q));
    q.l.limit = 10;
    q.repo_id = info.id;
    q.tagged = -1;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    CHECK_INT_EQ(n, 2);
    /* sizes: manifest plus config and layers */
    for (size_t i = 0; i < n; i++) {
        if (digest_equal(&rows[i].digest, &m1))
            CHECK_INT_EQ(rows[i].size, strlen("m1-content") + 1100);
        else
            CHECK_INT_EQ(rows[i].size, strlen("m2-content-longer") + 50);
        CHECK_STR_EQ(rows[i].repo_name, "pub/app");
        CHECK_INT_EQ(rows[i].project_id, f.pub);
        CHECK(!rows[i].is_index);
        CHECK_INT_EQ(rows[i].pull_time, 0);
    }
    q.tagged = 1;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK(digest_equal(&rows[0].digest, &m1));
    q.tagged = 0;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK(digest_equal(&rows[0].digest, &m2));
    q.tagged = -1;
    q.tag = "v";
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 0);
    q.tag_fuzzy = true;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.tag = NULL;
    q.digest = &m2;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.digest = NULL;
    q.l.sort = "bogus";
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    q.l.sort = NULL;
    q.repo_id = 0;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    /* project-wide */
    q.project_id = f.pub;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);

    CHECK_INT_EQ(meta_artifact_get(f.m, info.id, &m1, &a, &e), 0);
    CHECK_INT_EQ(a.manifest_size, strlen("m1-content"));
    CHECK_STR_EQ(a.artifact_type, "application/vnd.oci.image.config.v1+json");
    CHECK_INT_EQ(meta_artifact_get(f.m, info.id, &(struct digest){.hex = {'0'}}, &a, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    mem_free(rows);
    meta_close(f.m);
}

static void test_index(void)
{
    struct fixture f;
    struct meta_artifact *rows = mem_calloc(10, sizeof(*rows));
    struct meta_artifact_ref refs[4];
    struct meta_artifact_q q;
    struct meta_artifact a;
    struct meta_repo_info info;
    struct meta_manifest_in in;
    struct meta_child ch[2];
    struct repo_name app = test_repo_name("pub/app");
    struct digest m1 = test_digest_of("m1-content"), m2 = test_digest_of("m2-content-longer");
    struct tag t = test_tag("multi");
    const char *idx = "index-content";
    struct berr e;
    size_t n = 0;
    int64_t total = 0;

    setup(&f, "index.db");
    memset(ch, 0, sizeof(ch));
    ch[0].digest = m1;
    ch[1].digest = m2;
    for (int i = 0; i < 2; i++) {
        (void)snprintf(ch[i].media_type, sizeof(ch[i].media_type), "%s",
                       "application/vnd.oci.image.manifest.v1+json");
        (void)snprintf(ch[i].os, sizeof(ch[i].os), "linux");
    }
    ch[0].size = strlen("m1-content");
    ch[1].size = strlen("m2-content-longer");
    (void)snprintf(ch[0].arch, sizeof(ch[0].arch), "amd64");
    (void)snprintf(ch[1].arch, sizeof(ch[1].arch), "arm64");
    (void)snprintf(ch[1].variant, sizeof(ch[1].variant), "v8");
    memset(&in, 0, sizeof(in));
    in.digest = test_digest_of(idx);
    in.media_type = "application/vnd.oci.image.index.v1+json";
    in.size = strlen(idx);
    in.children = ch;
    in.nchildren = 2;
    in.tags = &t;
    in.ntags = 1;
    CHECK_INT_EQ(meta_manifest_put(f.m, &app, &in, &e), 0);
    CHECK_INT_EQ(meta_repo_info_get(f.m, &app, &info, &e), 0);
    CHECK_INT_EQ(info.artifact_count, 1); /* the children went under the index */

    memset(&q, 0, sizeof(q));
    q.l.limit = 10;
    q.repo_id = info.id;
    q.tagged = -1;
    CHECK_INT_EQ(meta_artifact_list(f.m, &q, rows, 10, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK(rows[0].is_index);
    CHECK_INT_EQ(rows[0].size,
                 strlen(idx) + strlen("m1-content") + 1100 + strlen("m2-content-longer") + 50);
    CHECK_INT_EQ(meta_artifact_refs(f.m, rows[0].id, refs, 4, &n, &e), 0);
    CHECK_INT_EQ(n, 2);
    CHECK(digest_equal(&refs[0].child, &m1));
    CHECK_STR_EQ(refs[0].arch, "amd64");
    CHECK_STR_EQ(refs[1].arch, "arm64");
    CHECK_STR_EQ(refs[1].variant, "v8");
    CHECK(refs[0].child_id > 0);
    /* a child is still found by digest */
    CHECK_INT_EQ(meta_artifact_get(f.m, info.id, &m2, &a, &e), 0);
    CHECK_INT_EQ(meta_artifact_refs(f.m, a.id, refs, 4, &n, &e), 0);
    CHECK_INT_EQ(n, 0);
    mem_free(rows);
    meta_close(f.m);
}

static void test_tags(void)
{
    struct fixture f;
    struct meta_tag_info rows[8];
    struct meta_list_q q;
    struct meta_artifact a1, a2, s;
    struct meta_repo_info app, secret;
    struct repo_name rapp = test_repo_name("pub/app"), rsecret = test_repo_name("p1/secret");
    struct digest m1 = test_digest_of("m1-content"), m2 = test_digest_of("m2-content-longer");
    struct digest s1 = test_digest_of("s-content");
    struct tag v3 = test_tag("v3"), v1 = test_tag("v1");
    struct berr e;
    size_t n = 0;
    int64_t total = 0;

    setup(&f, "tags.db");
    CHECK_INT_EQ(meta_repo_info_get(f.m, &rapp, &app, &e), 0);
    CHECK_INT_EQ(meta_repo_info_get(f.m, &rsecret, &secret, &e), 0);
    CHECK_INT_EQ(meta_artifact_get(f.m, app.id, &m1, &a1, &e), 0);
    CHECK_INT_EQ(meta_artifact_get(f.m, app.id, &m2, &a2, &e), 0);
    CHECK_INT_EQ(meta_artifact_get(f.m, secret.id, &s1, &s, &e), 0);
    memset(&q, 0, sizeof(q));
    q.limit = 8;
    CHECK_INT_EQ(meta_artifact_tags(f.m, a1.id, &q, rows, 8, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 2);
    CHECK_STR_EQ(rows[0].name, "v1");
    CHECK_STR_EQ(rows[1].name, "v2");
    CHECK_INT_EQ(rows[0].artifact_id, a1.id);
    CHECK_INT_EQ(rows[0].repo_id, app.id);
    CHECK(rows[0].pushed_at > 0);
    q.sort = "-name";
    CHECK_INT_EQ(meta_artifact_tags(f.m, a1.id, &q, rows, 8, &n, &total, &e), 0);
    CHECK_STR_EQ(rows[0].name, "v2");
    q.sort = "nope";
    CHECK_INT_EQ(meta_artifact_tags(f.m, a1.id, &q, rows, 8, &n, &total, &e), -1);
    q.sort = NULL;
    q.name = "2";
    q.fuzzy = true;
    CHECK_INT_EQ(meta_artifact_tags(f.m, a1.id, &q, rows, 8, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    q.name = NULL;

    CHECK_INT_EQ(meta_tag_create(f.m, app.id, a2.id, &v3, &e), 0);
    CHECK_INT_EQ(meta_artifact_tags(f.m, a2.id, &q, rows, 8, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 1);
    CHECK_INT_EQ(meta_tag_create(f.m, app.id, a2.id, &v3, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_tag_create(f.m, app.id, a2.id, &v1, &e), -1); /* v1 is m1's */
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_INT_EQ(meta_tag_create(f.m, app.id, s.id, &v3, &e), -1); /* not in this repo */
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);

    CHECK_INT_EQ(meta_tag_detach(f.m, a1.id, &v3, &e), -1);
    CHECK_INT_EQ(e.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(meta_tag_detach(f.m, a2.id, &v3, &e), 0);
    CHECK_INT_EQ(meta_artifact_tags(f.m, a2.id, &q, rows, 8, &n, &total, &e), 0);
    CHECK_INT_EQ(total, 0);
    meta_close(f.m);
}

static void test_stats(void)
{
    struct fixture f;
    struct meta_stats s;
    struct berr e;

    setup(&f, "stats.db");
    CHECK_INT_EQ(meta_stats_get(f.m, true, 0, &s, &e), 0);
    CHECK_INT_EQ(s.public_project_count, 1);  /* pub */
    CHECK_INT_EQ(s.private_project_count, 2); /* library (private by default) and p1 */
    CHECK_INT_EQ(s.total_project_count, 3);
    CHECK_INT_EQ(s.public_repo_count, 1);
    CHECK_INT_EQ(s.private_repo_count, 1);
    CHECK_INT_EQ(s.total_repo_count, 2);
    CHECK(s.total_storage_consumption >= 1157);
    CHECK_INT_EQ(meta_stats_get(f.m, false, f.bob, &s, &e), 0);
    CHECK_INT_EQ(s.private_project_count, 0);
    CHECK_INT_EQ(s.private_repo_count, 0);
    CHECK_INT_EQ(s.total_repo_count, 1);
    CHECK_INT_EQ(meta_stats_get(f.m, false, f.alice, &s, &e), 0);
    CHECK_INT_EQ(s.private_project_count, 1);
    CHECK_INT_EQ(s.private_repo_count, 1);
    meta_close(f.m);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "browse-test");
    TEST_RUN(test_repo_list);
    TEST_RUN(test_repo_get_update_delete);
    TEST_RUN(test_artifacts);
    TEST_RUN(test_index);
    TEST_RUN(test_tags);
    TEST_RUN(test_stats);
    test_rm_rf(tmpdir);
    return test_summary();
}
