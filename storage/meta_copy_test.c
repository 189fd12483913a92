/* meta_copy_test.c - unit tests for meta_copy (meta_copy.h): the SQLite export (tables in
 * creation order, schema_migrations and state left out, every row with its kinds, a callback's
 * stop value passed back), the refusal of a destination that is not PostgreSQL, and, with
 * BERTH_TEST_PG_URL set (tests/run.sh starts a scratch server), a copy into a fresh PostgreSQL
 * schema: every row copied, a second run finds every row present and copies nothing, a dry run
 * writes nothing, a project of the same name under another id is a conflict. The source is
 * always a SQLite file (meta_open on a path), whatever backend the other tests use. */
#include "storage/meta_copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/test.h"
#include "storage/meta.h"
#include "storage/pg_meta.h"

static char tmpdir[64];
static int seq;

/* src_db writes a new SQLite database with one extra project and user into path */
static void src_db(char *path, size_t cap, const char *project)
{
    struct meta *m = NULL;
    struct berr e;
    int64_t id = 0;

    (void)snprintf(path, cap, "%s/src%d.db", tmpdir, ++seq);
    CHECK_INT_EQ(meta_open(&m, path, 1, &e), 0);
    if (!m)
        return;
    CHECK_INT_EQ(meta_user_create(m, "u1", "hash-of-u1", false, &id, &e), 0);
    CHECK_INT_EQ(meta_project_create(m, project, true, id, 1000, NULL, &e), 0);
    meta_close(m);
}

struct coll {
    char tables[32][40];
    int64_t rows[32];
    int ntables;
    int64_t seen;
    int stop_at; /* row_fn returns 7 at this row (0: never) */
    bool kinds_ok;
};

static int coll_table(const char *table, int64_t rows, void *ctx)
{
    struct coll *c = ctx;

    if (c->ntables < 32) {
        (void)snprintf(c->tables[c->ntables], sizeof(c->tables[0]), "%s", table);
        c->rows[c->ntables] = rows;
        c->ntables++;
    }
    return 0;
}

static int coll_row(const struct meta_row *row, void *ctx)
{
    struct coll *c = ctx;

    c->seen++;
    for (size_t i = 0; i < row->n; i++) {
        if ((row->kinds[i] == META_VAL_NULL) != (row->vals[i] == NULL))
            c->kinds_ok = false;
    }
    return c->stop_at && c->seen == c->stop_at ? 7 : 0;
}

static int coll_find(const struct coll *c, const char *t)
{
    for (int i = 0; i < c->ntables; i++) {
        if (strcmp(c->tables[i], t) == 0)
            return i;
    }
    return -1;
}

static void test_export(void)
{
    static const char *const skip[] = {"schema_migrations", "state", NULL};
    char path[128];
    struct coll c;
    struct berr e;
    int version = 0, i;
    int64_t total = 0;

    src_db(path, sizeof(path), "team");
    memset(&c, 0, sizeof(c));
    c.kinds_ok = true;
    CHECK_INT_EQ(sqlite_export(path, skip, &version, coll_table, coll_row, &c, &e), 0);
    CHECK_INT_EQ(version, meta_schema_latest());
    CHECK_INT_EQ(coll_find(&c, "schema_migrations"), -1);
    CHECK_INT_EQ(coll_find(&c, "state"), -1);
    CHECK(coll_find(&c, "projects") == 0); /* creation order: the first table */
    CHECK(coll_find(&c, "users") > 0);
    CHECK(coll_find(&c, "pull_buckets") > coll_find(&c, "tags"));
    i = coll_find(&c, "projects");
    CHECK(i >= 0 && c.rows[i] == 2); /* library and team */
    for (i = 0; i < c.ntables; i++)
        total += c.rows[i];
    CHECK_INT_EQ(c.seen, total);
    CHECK(c.kinds_ok);

    /* a callback's non-zero return stops the walk and comes back as is */
    memset(&c, 0, sizeof(c));
    c.stop_at = 2;
    CHECK_INT_EQ(sqlite_export(path, skip, &version, coll_table, coll_row, &c, &e), 7);
    CHECK_INT_EQ(c.seen, 2);

    /* a missing file is an error, not an empty export */
    CHECK_INT_EQ(
            sqlite_export("/nonexistent/berth.db", skip, &version, coll_table, coll_row, &c, &e),
            -1);
    CHECK_INT_EQ(e.code, BERR_INTERNAL);
}

static void test_refuses_other_destinations(void)
{
    char path[128];
    struct berr e;

    src_db(path, sizeof(path), "team");
    CHECK_INT_EQ(meta_copy(path, "/tmp/other.db", false, NULL, NULL, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    CHECK_INT_EQ(meta_copy(path, "mysql://x", true, NULL, NULL, NULL, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
}

static void test_copy_pg(void)
{
    const char *pg = getenv("BERTH_TEST_PG_URL");
    char path[128], dst[1024], schema[40];
    struct meta_copy_progress sum;
    struct meta_project_info p;
    struct meta *m = NULL;
    struct berr e = {0};
    int64_t id = 0;

    if (!pg || !*pg) {
        test_skip("test_copy_pg", "no BERTH_TEST_PG_URL (tests/run.sh sets it)");
        return;
    }
    src_db(path, sizeof(path), "team");
    (void)snprintf(schema, sizeof(schema), "mc_%d", (int)getpid());
    CHECK_INT_EQ(pg_meta_scratch(pg, schema, dst, sizeof(dst), &e), 0);

    /* dry run on an empty destination: everything to copy, nothing written */
    CHECK_INT_EQ(meta_copy(path, dst, true, NULL, NULL, &sum, &e), 0);
    CHECK(sum.total > 0);
    CHECK_INT_EQ(sum.copied, sum.total);

    if (meta_copy(path, dst, false, NULL, NULL, &sum, &e) < 0 &&
        strncmp(e.msg, "schema versions differ", 22) == 0) {
        /* the two backends must number their migrations alike (pg_schema.c): until they do,
         * the refusal is the right answer, and there is nothing more to test */
        test_skip("test_copy_pg", e.msg);
        return;
    }
    CHECK_INT_EQ(e.code, BERR_OK);
    CHECK(sum.total > 0);
    CHECK_INT_EQ(sum.copied + sum.present, sum.total);
    CHECK(sum.copied > 0);
    CHECK_INT_EQ(sum.conflicts, 0);
    CHECK_INT_EQ(meta_copy(path, dst, false, NULL, NULL, &sum, &e), 0);
    CHECK_INT_EQ(sum.copied, 0);
    CHECK_INT_EQ(sum.present, sum.total);

    /* the copy reads back through the PostgreSQL backend, and new ids follow the copied ones */
    CHECK_INT_EQ(meta_open(&m, dst, 1, &e), 0);
    if (m) {
        CHECK_INT_EQ(meta_project_get(m, "team", &p, &e), 0);
        CHECK(p.p.public);
        CHECK_INT_EQ(p.storage_limit, 1000);
        CHECK_INT_EQ(meta_project_create(m, "later", false, 0, -1, &id, &e), 0);
        CHECK(id > p.p.id);
        meta_close(m);
    }

    /* "later" in the destination, and another "later" in a new source: a conflict */
    src_db(path, sizeof(path), "later");
    CHECK_INT_EQ(meta_copy(path, dst, false, NULL, NULL, &sum, &e), -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK(sum.conflicts >= 1); /* and the sums say how many */
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "meta-copy-test");
    TEST_RUN(test_export);
    TEST_RUN(test_refuses_other_destinations);
    TEST_RUN(test_copy_pg);
    test_rm_rf(tmpdir);
    return test_summary();
}
