/* pg_test.c - unit tests of the PostgreSQL backend's core (pg.c, pg_schema.c, pg_ops.c): the
 * location's log form, parameters, the statement cache, error mapping, transactions and their
 * retry, reconnecting a lost connection, migrations (idempotent, refused when newer, two
 * meta_open at once on one empty database) and that a password in the location reaches neither
 * a log line nor an error. Needs a server: BERTH_TEST_PG_URL (tests/run.sh starts one with
 * scripts/pg.sh); without it the tests that need one are skipped. */
#include "storage/pg_int.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/test.h"
#include "storage/pg_meta.h"
#include "storage/test_meta.h"

static char tmpdir[64];

/* ---- without a server ---- */

static void test_url_where(void)
{
    char w[128];

    pg_url_where("postgres://alice:s3cret@db.example:5433/berth?sslmode=disable", w, sizeof(w));
    CHECK_STR_EQ(w, "db.example:5433/berth");
    pg_url_where("postgresql://db/x", w, sizeof(w));
    CHECK_STR_EQ(w, "db:5432/x");
    pg_url_where("postgres://u:pw@[::1", w, sizeof(w)); /* unparsable: nothing of it */
    CHECK(strstr(w, "pw") == NULL);
    CHECK(pg_meta_is_url("postgres://h/d"));
    CHECK(pg_meta_is_url("postgresql://h/d"));
    CHECK(!pg_meta_is_url("/var/lib/berth/berth.db"));
    CHECK(!pg_meta_is_url("postgres:/h"));
}

static void test_params_utf8(void)
{
    struct pg_params p;
    char buf[16];
    struct digest d = test_digest_of("x");

    pg_params_init(&p);
    pg_p_i64(&p, -9223372036854775807LL - 1);
    CHECK_STR_EQ(p.v[0], "-9223372036854775808");
    pg_p_bool(&p, true);
    pg_p_null(&p);
    pg_p_digest(&p, &d);
    CHECK_STR_EQ(p.v[1], "t");
    CHECK(p.v[2] == NULL);
    CHECK(strncmp(p.v[3], "sha256:", 7) == 0 && strlen(p.v[3]) == DIGEST_STR_LEN);
    for (int i = 0; i < PG_MAX_PARAMS; i++)
        pg_p_i64(&p, i);
    CHECK(p.overflow);
    CHECK_INT_EQ(p.n, PG_MAX_PARAMS);

    CHECK_STR_EQ(pg_utf8(buf, sizeof(buf), "caf\xc3\xa9"), "caf\xc3\xa9");
    CHECK_STR_EQ(pg_utf8(buf, sizeof(buf),
                         "a\xff"
                         "b\xc3"),
                 "a?b?");
    CHECK_STR_EQ(pg_utf8(buf, sizeof(buf), "\xc0\xaf\xed\xa0\x80"),
                 "?????"); /* overlong, surrogate */
    CHECK_STR_EQ(pg_utf8(buf, 4, "\xff\xff\xff\xff\xff"), "???");
}

/* ---- with a server ---- */

/* open_fresh opens a new schema of the test server; NULL (skipped) without one */
static struct meta *open_fresh(const char *name, unsigned pool, char *url, size_t cap)
{
    struct meta *m = NULL;
    struct berr e;

    if (test_meta_pg() == NULL) {
        test_skip(name, "BERTH_TEST_PG_URL is not set");
        return NULL;
    }
    test_meta_location(url, cap, tmpdir, name);
    if (meta_open(&m, url, pool, &e) < 0) {
        fprintf(stderr, "meta_open: %s\n", e.msg);
        abort();
    }
    return m;
}

static int64_t count_of(struct meta *m, const char *sql)
{
    struct pg_conn *c = pg_conn_get(m);
    int64_t v = -1;
    struct berr e;

    if (pg_run_i64(c, PG_Q_NONE, sql, NULL, &v, &e) != 1)
        v = -1;
    pg_conn_put(c);
    return v;
}

static void test_migrations(void)
{
    char url[512];
    struct meta *m = open_fresh("test_migrations", 2, url, sizeof(url));
    struct pg_conn *c;
    struct berr e;
    int v = -1;

    if (m == NULL)
        return;
    CHECK_STR_EQ(m->ops->name, "postgres");
    CHECK_INT_EQ(meta_schema_version(m, &v, &e), 0);
    CHECK_INT_EQ(v, meta_schema_latest());
    CHECK_INT_EQ(pg_schema_latest(), meta_schema_latest()); /* one numbering for both backends */
    CHECK_INT_EQ(count_of(m, "SELECT COUNT(*) FROM schema_migrations"), meta_schema_latest());
    CHECK_INT_EQ(count_of(m, "SELECT COUNT(*) FROM projects WHERE name = 'library'"), 1);
    /* every table of the SQLite schema is there */
    CHECK_INT_EQ(count_of(m, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name IN"
                             " ('projects', 'users', 'repositories', 'blobs', 'repo_blobs',"
                             " 'manifests', 'manifest_blobs', 'manifest_children', 'tags',"
                             " 'project_members', 'robots', 'robot_permissions',"
                             " 'project_tombstones', 'audit_log', 'gc_jobs', 'pull_buckets')"
                             " AND table_schema = current_schema()"),
                 16);
    meta_close(m);

    /* reopen: nothing applied again, library still once */
    m = NULL;
    CHECK_INT_EQ(meta_open(&m, url, 3, &e), 0);
    if (m == NULL)
        return;
    CHECK_INT_EQ(count_of(m, "SELECT COUNT(*) FROM schema_migrations"), meta_schema_latest());
    CHECK_INT_EQ(count_of(m, "SELECT COUNT(*) FROM projects WHERE name = 'library'"), 1);

    /* a database of a newer Berth is refused */
    c = pg_conn_get(m);
    CHECK_INT_EQ(pg_exec_sql(c, "INSERT INTO schema_migrations VALUES (99, 0)", &e), 0);
    pg_conn_put(c);
    meta_close(m);
    m = NULL;
    CHECK_INT_EQ(meta_open(&m, url, 2, &e), -1);
    CHECK(m == NULL);
    CHECK_INT_EQ(e.code, BERR_INTERNAL);
    CHECK(strstr(e.msg, "newer") != NULL);
}

struct opener {
    const char *url;
    struct meta *m;
    int rc;
};

static void *open_run(void *arg)
{
    struct opener *o = arg;
    struct berr e;

    o->rc = meta_open(&o->m, o->url, 2, &e);
    return NULL;
}

/* replicas starting together on one empty database: the advisory lock makes one migrate and
 * the others wait and find the schema current */
static void test_concurrent_open(void)
{
    char url[512];
    struct opener o[4];
    pthread_t th[4];
    struct berr e;
    int v;

    if (test_meta_pg() == NULL) {
        test_skip("test_concurrent_open", "BERTH_TEST_PG_URL is not set");
        return;
    }
    test_meta_location(url, sizeof(url), tmpdir, "concurrent");
    for (int i = 0; i < 4; i++) {
        o[i].url = url;
        o[i].m = NULL;
        o[i].rc = -1;
        CHECK_INT_EQ(pthread_create(&th[i], NULL, open_run, &o[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        CHECK_INT_EQ(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 4; i++) {
        CHECK_INT_EQ(o[i].rc, 0);
        if (o[i].m == NULL)
            continue;
        v = -1;
        CHECK_INT_EQ(meta_schema_version(o[i].m, &v, &e), 0);
        CHECK_INT_EQ(v, meta_schema_latest());
    }
    if (o[0].m != NULL) {
        CHECK_INT_EQ(count_of(o[0].m, "SELECT COUNT(*) FROM schema_migrations"),
                     meta_schema_latest());
        CHECK_INT_EQ(count_of(o[0].m, "SELECT COUNT(*) FROM projects WHERE name = 'library'"), 1);
    }
    for (int i = 0; i < 4; i++)
        meta_close(o[i].m);
}

static void test_errors(void)
{
    char url[512];
    struct meta *m = open_fresh("test_errors", 2, url, sizeof(url));
    struct pg_params p;
    struct pg_conn *c;
    struct berr e;

    if (m == NULL)
        return;
    c = pg_conn_get(m);
    /* a unique violation is a conflict, as SQLITE_CONSTRAINT */
    pg_params_init(&p);
    pg_p_text(&p, "library");
    CHECK_INT_EQ(pg_run(NULL, c, PG_Q_NONE,
                        "INSERT INTO projects(name, created_at, updated_at) VALUES ($1, 0, 0)", &p,
                        &e),
                 -1);
    CHECK_INT_EQ(e.code, BERR_CONFLICT);
    CHECK_STR_EQ(c->sqlstate, "23505");
    /* a full disk is a full disk */
    CHECK_INT_EQ(pg_exec_sql(c,
                             "DO $$ BEGIN RAISE EXCEPTION 'no space' USING ERRCODE = '53100';"
                             " END $$",
                             &e),
                 -1);
    CHECK_INT_EQ(e.code, BERR_STORAGE_FULL);
    /* text that is not UTF-8 is the client's fault */
    pg_params_init(&p);
    pg_p_text(&p, "bad\xff");
    CHECK_INT_EQ(pg_run(NULL, c, PG_Q_NONE, "SELECT $1::text", &p, &e), -1);
    CHECK_INT_EQ(e.code, BERR_BAD_REQUEST);
    /* anything else is internal, with the server's message logged, not returned */
    CHECK_INT_EQ(pg_exec_sql(c, "SELEC 1", &e), -1);
    CHECK_INT_EQ(e.code, BERR_INTERNAL);
    CHECK_STR_EQ(e.msg, "internal error");
    /* too many parameters never reach the server */
    pg_params_init(&p);
    for (int i = 0; i <= PG_MAX_PARAMS; i++)
        pg_p_i64(&p, i);
    CHECK_INT_EQ(pg_run(NULL, c, PG_Q_NONE, "SELECT 1", &p, &e), -1);
    CHECK_INT_EQ(e.code, BERR_INTERNAL);
    /* the connection is still good after all that */
    CHECK_INT_EQ(pg_run(NULL, c, PG_Q_NONE, "SELECT 1", NULL, &e), 1);
    pg_conn_put(c);
    meta_close(m);
}

static int64_t users_named(struct pg_conn *c, const char *name)
{
    struct pg_params p;
    int64_t v = -1;
    struct berr e;

    pg_params_init(&p);
    pg_p_text(&p, name);
    if (pg_run_i64(c, PG_Q_NONE, "SELECT COUNT(*) FROM users WHERE name = $1", &p, &v, &e) != 1)
        v = -1;
    return v;
}

static int add_user(struct pg_conn *c, const char *name, struct berr *e)
{
    struct pg_params p;

    pg_params_init(&p);
    pg_p_text(&p, name);
    return pg_run(NULL, c, PG_Q_NONE,
                  "INSERT INTO users(name, pw_hash, created_at, updated_at) VALUES ($1, 'h', 0, 0)",
                  &p, e);
}

static void test_cache_and_tx(void)
{
    static const char sql[] = "SELECT COUNT(*) FROM projects WHERE name = $1";
    char url[512];
    struct meta *m = open_fresh("test_cache_and_tx", 1, url, sizeof(url));
    struct pg_params p;
    struct pg_conn *c;
    struct berr e;
    int64_t v = -1;

    if (m == NULL)
        return;
    c = pg_conn_get(m);
    pg_params_init(&p);
    pg_p_text(&p, "library");
    CHECK(c->sql[PG_Q_PROJECT_ID] == NULL);
    CHECK_INT_EQ(pg_run_i64(c, PG_Q_PROJECT_ID, sql, &p, &v, &e), 1);
    CHECK_INT_EQ(v, 1);
    CHECK(c->sql[PG_Q_PROJECT_ID] == sql); /* prepared once, kept */
    CHECK_INT_EQ(pg_run_i64(c, PG_Q_PROJECT_ID, sql, &p, &v, &e), 1);

    /* commit keeps, rollback drops */
    CHECK_INT_EQ(pg_tx_begin(c, &e), 0);
    CHECK_INT_EQ(add_user(c, "kept", &e), 1);
    CHECK_INT_EQ(pg_tx_end(c, 0, &e), 0);
    CHECK_INT_EQ(users_named(c, "kept"), 1);
    CHECK_INT_EQ(pg_tx_begin(c, &e), 0);
    CHECK_INT_EQ(add_user(c, "dropped", &e), 1);
    CHECK_INT_EQ(pg_tx_end(c, -1, &e), -1);
    CHECK_INT_EQ(users_named(c, "dropped"), 0);
    /* a caller that ignores a failed statement cannot commit the rest */
    CHECK_INT_EQ(pg_tx_begin(c, &e), 0);
    CHECK_INT_EQ(add_user(c, "half", &e), 1);
    CHECK_INT_EQ(add_user(c, "kept", &e), -1); /* unique violation: the transaction is failed */
    CHECK_INT_EQ(pg_tx_end(c, 0, &e), -1);
    CHECK_INT_EQ(users_named(c, "half"), 0);
    /* the cached statement still works after the failed transaction */
    CHECK_INT_EQ(pg_run_i64(c, PG_Q_PROJECT_ID, sql, &p, &v, &e), 1);
    /* a connection given back inside a transaction is rolled back */
    CHECK_INT_EQ(pg_tx_begin(c, &e), 0);
    CHECK_INT_EQ(add_user(c, "forgotten", &e), 1);
    pg_conn_put(c);
    c = pg_conn_get(m);
    CHECK(!c->in_tx);
    CHECK_INT_EQ(PQtransactionStatus(c->pc), PQTRANS_IDLE);
    CHECK_INT_EQ(users_named(c, "forgotten"), 0);
    pg_conn_put(c);
    meta_close(m);
}

/* pg_tx_run retries 40001 and 40P01, nothing else, at most PG_TX_RETRIES times */
struct flaky {
    int attempts;
    int fail_first; /* attempts that fail with state */
    const char *state;
};

static int flaky_fn(struct pg_conn *c, void *ctx, struct berr *err)
{
    struct flaky *f = ctx;
    char sql[160];

    f->attempts++;
    if (add_user(c, "flaky", err) < 0)
        return -1;
    if (f->attempts > f->fail_first)
        return 0;
    (void)snprintf(sql, sizeof(sql),
                   "DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '%s'; END $$", f->state);
    return pg_exec_sql(c, sql, err);
}

static void test_tx_retry(void)
{
    char url[512];
    struct meta *m = open_fresh("test_tx_retry", 2, url, sizeof(url));
    struct flaky f;
    struct pg_conn *c;
    struct berr e;

    if (m == NULL)
        return;
    f = (struct flaky){0, 2, "40001"};
    CHECK_INT_EQ(pg_tx_run(m, flaky_fn, &f, &e), 0);
    CHECK_INT_EQ(f.attempts, 3);
    c = pg_conn_get(m);
    CHECK_INT_EQ(users_named(c, "flaky"), 1); /* the failed attempts left nothing */
    CHECK_INT_EQ(pg_exec_sql(c, "DELETE FROM users WHERE name = 'flaky'", &e), 0);
    pg_conn_put(c);

    f = (struct flaky){0, 100, "40P01"};
    CHECK_INT_EQ(pg_tx_run(m, flaky_fn, &f, &e), -1);
    CHECK_INT_EQ(f.attempts, PG_TX_RETRIES);
    CHECK_INT_EQ(e.code, BERR_INTERNAL);

    f = (struct flaky){0, 100, "53100"};
    CHECK_INT_EQ(pg_tx_run(m, flaky_fn, &f, &e), -1);
    CHECK_INT_EQ(f.attempts, 1);
    CHECK_INT_EQ(e.code, BERR_STORAGE_FULL);
    c = pg_conn_get(m);
    CHECK_INT_EQ(users_named(c, "flaky"), 0);
    pg_conn_put(c);
    meta_close(m);
}

/* a connection the server dropped costs one call, then the pool reconnects it */
static void test_reconnect(void)
{
    char url[512];
    struct meta *m = open_fresh("test_reconnect", 1, url, sizeof(url));
    struct meta *killer = NULL;
    struct meta_project_info pi;
    struct pg_params p;
    struct pg_conn *c;
    struct berr e;
    int pid;
    int failures = 0;

    if (m == NULL)
        return;
    CHECK_INT_EQ(meta_open(&killer, url, 1, &e), 0);
    if (killer == NULL) {
        meta_close(m);
        return;
    }
    c = pg_conn_get(m);
    pid = PQbackendPID(c->pc);
    pg_conn_put(c);
    c = pg_conn_get(killer);
    pg_params_init(&p);
    pg_p_i64(&p, pid);
    CHECK_INT_EQ(pg_run(NULL, c, PG_Q_NONE, "SELECT pg_terminate_backend($1::int, 5000)", &p, &e),
                 1);
    pg_conn_put(c);
    for (int i = 0; i < 3; i++)
        if (meta_project_get(m, "library", &pi, &e) < 0)
            failures++;
    CHECK(failures <= 1);
    CHECK_INT_EQ(meta_project_get(m, "library", &pi, &e), 0);
    CHECK_STR_EQ(pi.p.name, "library");
    meta_close(killer);
    meta_close(m);
}

/* replicas creating one name at once: one row, one success, the others BERR_CONFLICT */
struct racer {
    struct meta *m;
    int rc;
    enum berr_code code;
};

static void *race_run(void *arg)
{
    struct racer *r = arg;
    struct berr e;

    berr_clear(&e);
    r->rc = meta_user_create(r->m, "racer", "pbkdf2-sha256$1000$c2FsdA==$aGFzaA==", false, NULL,
                             &e);
    r->code = e.code;
    if (r->rc == 0) {
        berr_clear(&e);
        r->rc = meta_project_create(r->m, "race", false, 0, -1, NULL, &e) == 0 ? 2 : 0;
        r->code = e.code;
    } else {
        (void)meta_project_create(r->m, "race", false, 0, -1, NULL, &e);
    }
    return NULL;
}

static void test_replica_races(void)
{
    char url[512];
    struct meta *m = open_fresh("test_replica_races", 4, url, sizeof(url));
    struct meta *m2 = NULL;
    struct racer r[8];
    pthread_t th[8];
    struct berr e;
    int won = 0, conflicts = 0;

    if (m == NULL)
        return;
    CHECK_INT_EQ(meta_open(&m2, url, 4, &e), 0);
    if (m2 == NULL) {
        meta_close(m);
        return;
    }
    for (int i = 0; i < 8; i++) {
        r[i].m = i % 2 == 0 ? m : m2;
        r[i].rc = -1;
        r[i].code = BERR_OK;
        CHECK_INT_EQ(pthread_create(&th[i], NULL, race_run, &r[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        CHECK_INT_EQ(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 8; i++) {
        if (r[i].rc >= 0)
            won++;
        else if (r[i].code == BERR_CONFLICT)
            conflicts++;
    }
    CHECK_INT_EQ(won, 1);
    CHECK_INT_EQ(conflicts, 7);
    CHECK_INT_EQ(count_of(m, "SELECT COUNT(*) FROM users WHERE name = 'racer'"), 1);
    CHECK_INT_EQ(count_of(m, "SELECT COUNT(*) FROM projects WHERE name = 'race'"), 1);
    meta_close(m2);
    meta_close(m);
}

/* a project delete on one replica racing a push into it on another: either the delete sees
 * the pushed blob and refuses, or the push finds no project; never both succeed (pg_project.c
 * invariant 3). Half the rounds push into an existing empty repository, half create it. */
struct dp_side {
    struct meta *m;
    pthread_barrier_t *go;
    int64_t project;
    int rc;
    enum berr_code code;
};

static void *dp_delete(void *arg)
{
    struct dp_side *s = arg;
    struct berr e;

    berr_clear(&e);
    (void)pthread_barrier_wait(s->go);
    s->rc = meta_project_delete(s->m, s->project, &e);
    s->code = e.code;
    return NULL;
}

static void *dp_push(void *arg)
{
    struct dp_side *s = arg;
    struct repo_name r = test_repo_name("dp/app");
    struct digest d = test_digest_of("dp-layer");
    struct berr e;

    berr_clear(&e);
    (void)pthread_barrier_wait(s->go);
    s->rc = meta_blob_link(s->m, &r, &d, 5, &e);
    s->code = e.code;
    return NULL;
}

static void test_delete_vs_push(void)
{
    char url[512];
    struct meta *m = open_fresh("test_delete_vs_push", 2, url, sizeof(url));
    struct meta *m2 = NULL;
    struct repo_name r = test_repo_name("dp/app");
    struct digest d = test_digest_of("dp-layer");
    pthread_barrier_t go;
    struct dp_side del, push;
    pthread_t t1, t2;
    struct berr e;
    int refused = 0, gone = 0, both = 0, other = 0;

    if (m == NULL)
        return;
    if (m->ops->blob == NULL || m->ops->repo == NULL) {
        test_skip("test_delete_vs_push", "the content entities (pg-data) are not in this build");
        meta_close(m);
        return;
    }
    CHECK_INT_EQ(meta_open(&m2, url, 2, &e), 0);
    CHECK_INT_EQ(pthread_barrier_init(&go, NULL, 2), 0);
    for (int round = 0; m2 != NULL && round < 40; round++) {
        int64_t pid = 0;

        CHECK_INT_EQ(meta_project_create(m, "dp", false, 0, -1, &pid, &e), 0);
        if (round % 2 == 1) { /* an existing, empty repository */
            CHECK_INT_EQ(meta_blob_link(m, &r, &d, 5, &e), 0);
            CHECK_INT_EQ(meta_blob_unlink(m, &r, &d, &e), 0);
        }
        del = (struct dp_side){m, &go, pid, -1, BERR_OK};
        push = (struct dp_side){m2, &go, pid, -1, BERR_OK};
        CHECK_INT_EQ(pthread_create(&t1, NULL, dp_delete, &del), 0);
        CHECK_INT_EQ(pthread_create(&t2, NULL, dp_push, &push), 0);
        CHECK_INT_EQ(pthread_join(t1, NULL), 0);
        CHECK_INT_EQ(pthread_join(t2, NULL), 0);
        if (del.rc == 0 && push.rc == 0)
            both++;
        else if (del.rc < 0 && del.code == BERR_CONFLICT && push.rc == 0)
            refused++;
        else if (del.rc == 0 && push.rc < 0 && push.code == BERR_NAME_UNKNOWN)
            gone++;
        else
            other++;
        if (del.rc < 0) { /* the project stayed: empty it and delete it for the next round */
            (void)meta_blob_unlink(m, &r, &d, &e);
            CHECK_INT_EQ(meta_project_delete(m, pid, &e), 0);
        }
    }
    (void)pthread_barrier_destroy(&go);
    CHECK_INT_EQ(both, 0);
    CHECK_INT_EQ(other, 0);
    CHECK_INT_EQ(refused + gone, 40);
    fprintf(stderr, "# delete vs push: %d refused, %d pushes found no project\n", refused, gone);
    meta_close(m2);
    meta_close(m);
}

/* a password in the location reaches neither the log nor the error, whether the open fails or
 * works */
static void test_password_hidden(void)
{
    static const char pw[] = "Sup3rSecretPw";
    const char *base = test_meta_pg();
    const char *at;
    char url[512], bad[512], logpath[128], logbuf[8192];
    struct meta *m = NULL;
    struct berr e;
    int saved, fd, n;
    ssize_t got;

    if (base == NULL) {
        test_skip("test_password_hidden", "BERTH_TEST_PG_URL is not set");
        return;
    }
    at = strchr(base, '@');
    if (at == NULL) {
        test_skip("test_password_hidden", "the test server URL names no user");
        return;
    }
    n = snprintf(url, sizeof(url), "postgres://berth:%s%s", pw, at);
    CHECK(n > 0 && (size_t)n < sizeof(url));
    n = snprintf(bad, sizeof(bad), "postgres://berth:%s@127.0.0.1:1/none", pw);
    CHECK(n > 0 && (size_t)n < sizeof(bad));
    n = snprintf(logpath, sizeof(logpath), "%s/stderr.log", tmpdir);
    CHECK(n > 0 && (size_t)n < sizeof(logpath));
    fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    saved = dup(STDERR_FILENO);
    CHECK(saved >= 0 && dup2(fd, STDERR_FILENO) == STDERR_FILENO);

    CHECK_INT_EQ(meta_open(&m, bad, 1, &e), -1);
    CHECK(strstr(e.msg, pw) == NULL);
    CHECK_INT_EQ(meta_open(&m, url, 1, &e), 0);
    if (m != NULL) {
        struct pg_conn *c = pg_conn_get(m);

        CHECK_INT_EQ(pg_exec_sql(c, "SELEC 1", &e), -1); /* a failure logs the location */
        pg_conn_put(c);
    }
    meta_close(m);

    (void)dup2(saved, STDERR_FILENO);
    (void)close(saved);
    (void)close(fd);
    fd = open(logpath, O_RDONLY);
    got = fd >= 0 ? read(fd, logbuf, sizeof(logbuf) - 1) : -1;
    if (fd >= 0)
        (void)close(fd);
    CHECK(got > 0);
    logbuf[got > 0 ? got : 0] = '\0';
    CHECK(strstr(logbuf, "cannot connect to 127.0.0.1:1/none") != NULL);
    CHECK(strstr(logbuf, pw) == NULL);
}

int main(void)
{
    test_mkdtemp(tmpdir, sizeof(tmpdir), "pg-test");
    TEST_RUN(test_url_where);
    TEST_RUN(test_params_utf8);
    TEST_RUN(test_migrations);
    TEST_RUN(test_concurrent_open);
    TEST_RUN(test_errors);
    TEST_RUN(test_cache_and_tx);
    TEST_RUN(test_tx_retry);
    TEST_RUN(test_reconnect);
    TEST_RUN(test_replica_races);
    TEST_RUN(test_delete_vs_push);
    TEST_RUN(test_password_hidden);
    test_rm_rf(tmpdir);
    return test_summary();
}
