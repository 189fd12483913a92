/* sqlite.c - the SQLite backend's connection pool and the helpers its entity files
 * (sqlite_<entity>.c) build on: statement cache, binding, transactions, lists and paging.
 *
 * The pool is fixed at sq_pool_open (from meta_open): nconns connections, each opened
 * SQLITE_OPEN_NOMUTEX (the pool hands a connection to one thread at a time) and set up with
 *   journal_mode=WAL    readers never block the writer nor the writer the readers;
 *   synchronous=NORMAL  in WAL mode a commit is durable across a crash of the process (the WAL
 *                       frames are in the OS page cache before COMMIT returns) and the database is
 *                       never corrupted; only a power loss or kernel crash may undo the last
 *                       transactions before a checkpoint. FULL would fsync the WAL on every
 *                       commit - one fsync per pushed blob and manifest - for that last case
 *                       only. Losing the newest rows leaves blob files without rows, which gc
 *                       sweeps as orphans; it never leaves a row without its file (blob_store.c
 *                       invariant 3), so NORMAL keeps Berth consistent and we take it;
 *   foreign_keys=ON, busy_timeout=5000 ms, extended result codes.
 * The database, -wal and -shm files are mode 0600 (they hold every password hash): created so
 * before SQLite first opens them, tightened on open when an older version left them looser.
 * Invariants:
 *   1. A connection is either in free_idx or borrowed by exactly one thread (mu guards both).
 *   2. A borrowed connection goes back with no statement active and no transaction open
 *      (sq_conn_put resets statements and rolls back, logging, if a caller forgot).
 *   3. Every write runs in BEGIN IMMEDIATE under write_mu, so two writers of this process never
 *      meet inside SQLite; other processes on the same file (berth gc) meet the busy timeout.
 * Thread-safe: everything mutable is in struct sq_db under the mutexes named in sqlite_int.h. */
#include "storage/sqlite_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/meta_walk.h"

#define META_BUSY_TIMEOUT_MS 5000
#define META_POOL_MAX 256
/* keep the WAL file from staying large after a burst of writes */
#define META_JOURNAL_LIMIT_SQL "PRAGMA journal_size_limit=67108864"

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";
/* ---- allocation ---- */

#ifdef BERTH_TEST_BUILD
/* Test builds route SQLite's allocations through mem.c, so mem_fail_after reaches them and the
 * tests walk SQLite's out-of-memory paths through ours. Each block carries its size in front
 * (SQLite asks for it through xSize); 16 bytes keep the user part aligned like malloc's. */
#define SQ_HDR 16

static void *sq_put_size(unsigned char *p, int n)
{
    size_t sz = (size_t)n;

    memcpy(p, &sz, sizeof(sz));
    return p + SQ_HDR;
}

static void *sq_malloc(int n)
{
    unsigned char *p;

    if (n <= 0)
        return NULL;
    p = mem_malloc((size_t)n + SQ_HDR);
    return p != NULL ? sq_put_size(p, n) : NULL;
}

static void sq_free(void *p)
{
    if (p != NULL)
        mem_free((unsigned char *)p - SQ_HDR);
}

static void *sq_realloc(void *p, int n)
{
    unsigned char *q;

    if (n <= 0)
        return NULL;
    q = mem_realloc((unsigned char *)p - SQ_HDR, (size_t)n + SQ_HDR);
    return q != NULL ? sq_put_size(q, n) : NULL;
}

static int sq_size(void *p)
{
    size_t sz;

    if (p == NULL)
        return 0;
    memcpy(&sz, (unsigned char *)p - SQ_HDR, sizeof(sz));
    return (int)sz;
}

static int sq_roundup(int n)
{
    return (n + 7) & ~7;
}

static int sq_init(void *app)
{
    (void)app;
    return SQLITE_OK;
}

static void sq_shutdown(void *app)
{
    (void)app;
}

static void sq_install(void)
{
    static const sqlite3_mem_methods methods = {sq_malloc,  sq_free, sq_realloc,  sq_size,
                                                sq_roundup, sq_init, sq_shutdown, NULL};

    /* fails only when SQLite was already initialized by someone else: then it keeps its own */
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) != SQLITE_OK)
        log_msg(LOG_WARN, "meta: SQLite allocations not routed through mem.c");
}

/* guards the one sqlite3_config call, which must precede every other use of SQLite */
static pthread_once_t sq_once = PTHREAD_ONCE_INIT;
#endif

/* ---- errors, statements, binding ---- */

int sq_fail(struct sq_conn *c, const char *what, struct berr *err)
{
    log_msg(LOG_ERROR, "meta: %s: %s (sqlite %d)", what, sqlite3_errmsg(c->db),
            sqlite3_extended_errcode(c->db));
    if (sqlite3_errcode(c->db) == SQLITE_FULL)
        return berr_set(err, BERR_STORAGE_FULL, "%s", BERR_STORAGE_FULL_MSG);
    return berr_set(err, BERR_INTERNAL, "internal error");
}

int sq_stmt(sqlite3_stmt **out, struct sq_conn *c, enum sq_q q, const char *sql, struct berr *err)
{
    sqlite3_stmt *st = c->stmt[q];

    *out = NULL;
    if (st != NULL) {
        /* one slot, one text: a slot reused for other SQL would run the wrong statement */
        assert(c->sql[q] == sql || strcmp(c->sql[q], sql) == 0);
        /* both only report the error of the last step, which was handled then */
        (void)sqlite3_reset(st);
        (void)sqlite3_clear_bindings(st);
        *out = st;
        return 0;
    }
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        return sq_fail(c, "prepare", err);
    c->stmt[q] = st;
    c->sql[q] = sql;
    *out = st;
    return 0;
}

int sq_step(struct sq_conn *c, sqlite3_stmt *st, struct berr *err)
{
    int src = sqlite3_step(st);

    if (src == SQLITE_ROW)
        return 1;
    if (src == SQLITE_DONE)
        return 0;
    (void)sq_fail(c, "step", err);
    (void)sqlite3_reset(st); /* repeats the error just logged */
    return -1;
}

int sq_exec(struct sq_conn *c, sqlite3_stmt *st, struct berr *err)
{
    int rc = sq_step(c, st, err);

    if (rc < 0)
        return -1;
    (void)sqlite3_reset(st); /* the step succeeded, so does the reset */
    return 0;
}

int sq_step_i64(struct sq_conn *c, sqlite3_stmt *st, int64_t *v, struct berr *err)
{
    int rc = sq_step(c, st, err);

    if (v != NULL)
        *v = rc == 1 ? (int64_t)sqlite3_column_int64(st, 0) : 0;
    (void)sqlite3_reset(st); /* after a failed step this repeats the error sq_step logged */
    return rc;
}

static int bind_check(struct sq_conn *c, int src, struct berr *err)
{
    if (src != SQLITE_OK)
        return sq_fail(c, "bind", err);
    return 0;
}

int sq_bind_text(struct sq_conn *c, sqlite3_stmt *st, int idx, const char *s, size_t len,
                 struct berr *err)
{
    if (len > INT_MAX)
        return berr_set(err, BERR_INTERNAL, "internal error");
    return bind_check(c, sqlite3_bind_text(st, idx, s, (int)len, SQLITE_STATIC), err);
}

int sq_bind_blob(struct sq_conn *c, sqlite3_stmt *st, int idx, const void *p, size_t len,
                 struct berr *err)
{
    if (len > INT_MAX)
        return berr_set(err, BERR_INTERNAL, "internal error");
    /* a zero-length blob, not NULL: p is never NULL here */
    return bind_check(c, sqlite3_bind_blob(st, idx, p, (int)len, SQLITE_STATIC), err);
}

int sq_bind_i64(struct sq_conn *c, sqlite3_stmt *st, int idx, int64_t v, struct berr *err)
{
    return bind_check(c, sqlite3_bind_int64(st, idx, (sqlite3_int64)v), err);
}

int sq_bind_null(struct sq_conn *c, sqlite3_stmt *st, int idx, struct berr *err)
{
    return bind_check(c, sqlite3_bind_null(st, idx), err);
}

int sq_bind_digest(struct sq_conn *c, sqlite3_stmt *st, int idx, const struct digest *d,
                   char buf[DIGEST_STR_LEN + 1], struct berr *err)
{
    digest_format(d, buf, DIGEST_STR_LEN + 1);
    return sq_bind_text(c, st, idx, buf, DIGEST_STR_LEN, err);
}

int sq_bind_repo(struct sq_conn *c, sqlite3_stmt *st, int idx, const struct repo_name *r,
                 struct berr *err)
{
    return sq_bind_text(c, st, idx, r->s, r->len, err);
}

int sq_stmt_id_digest(sqlite3_stmt **out, struct sq_conn *c, enum sq_q q, const char *sql,
                      int64_t id, const struct digest *d, char dbuf[DIGEST_STR_LEN + 1],
                      struct berr *err)
{
    int rc = sq_stmt(out, c, q, sql, err);

    if (rc == 0)
        rc = sq_bind_i64(c, *out, 1, id, err);
    if (rc == 0)
        rc = sq_bind_digest(c, *out, 2, d, dbuf, err);
    return rc;
}

int sq_col_digest(struct sq_conn *c, sqlite3_stmt *st, int col, struct digest *out,
                  struct berr *err)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    struct berr perr;

    (void)c;
    if (s == NULL || n < 0 || digest_parse(out, (const char *)s, (size_t)n, &perr) < 0) {
        log_msg(LOG_ERROR, "meta: stored digest is malformed");
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    return 0;
}

int sq_col_text(struct sq_conn *c, sqlite3_stmt *st, int col, char *out, size_t cap,
                struct berr *err)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);

    if (s == NULL) {
        if (sqlite3_column_type(st, col) != SQLITE_NULL)
            return sq_fail(c, "column", err); /* out of memory converting it */
        out[0] = '\0';
        return 0;
    }
    if (n < 0 || (size_t)n >= cap) {
        log_msg(LOG_ERROR, "meta: stored text of %d bytes exceeds %zu", n, cap - 1);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    memcpy(out, s, (size_t)n);
    out[n] = '\0';
    return 0;
}

/* ---- transactions ---- */

static void tx_rollback(struct sq_conn *c)
{
    sqlite3_stmt *st;
    struct berr e;

    /* SQLite may already have rolled back (some errors do that); then there is nothing to do */
    if (sqlite3_get_autocommit(c->db))
        return;
    if (sq_stmt(&st, c, SQ_Q_ROLLBACK, SQL_ROLLBACK, &e) < 0 || sq_exec(c, st, &e) < 0)
        log_msg(LOG_ERROR, "meta: rollback failed");
}

int sq_tx_begin(struct sq_conn *c, struct berr *err)
{
    sqlite3_stmt *st;
    int rc;

    assert(!c->in_tx);
    rc = pthread_mutex_lock(&c->owner->write_mu);
    assert(rc == 0); /* fails only for a corrupt or recursively locked default mutex */
    /* a ROLLBACK that failed (out of memory) left this connection inside a transaction */
    if (!sqlite3_get_autocommit(c->db))
        tx_rollback(c);
    rc = sq_stmt(&st, c, SQ_Q_BEGIN, SQL_BEGIN, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc < 0) {
        (void)pthread_mutex_unlock(&c->owner->write_mu); /* locked just above */
        return -1;
    }
    c->in_tx = true;
    return 0;
}

int sq_tx_end(struct sq_conn *c, int rc, struct berr *err)
{
    sqlite3_stmt *st;
    int i;

    assert(c->in_tx);
    /* an open statement would make COMMIT fail (or keep a read snapshot); rule 1 of sqlite_int.h */
    for (i = 0; i < SQ_Q_COUNT; i++)
        if (c->stmt[i] != NULL)
            (void)sqlite3_reset(c->stmt[i]); /* errors were reported by their step */
    if (rc == 0) {
        rc = sq_stmt(&st, c, SQ_Q_COMMIT, SQL_COMMIT, err);
        if (rc == 0)
            rc = sq_exec(c, st, err);
    }
    if (rc < 0)
        tx_rollback(c);
    c->in_tx = false;
    (void)pthread_mutex_unlock(&c->owner->write_mu); /* held since sq_tx_begin */
    return rc;
}

/* ---- pool ---- */

struct sq_conn *sq_conn_get(struct meta *mh)
{
    struct sq_db *m = sq_db(mh);
    struct sq_conn *c;

    (void)pthread_mutex_lock(&m->mu); /* default mutex: fails only when corrupt */
    while (m->nfree == 0)
        (void)pthread_cond_wait(&m->cv, &m->mu); /* spurious wakeups are re-checked */
    c = &m->conns[m->free_idx[--m->nfree]];
    (void)pthread_mutex_unlock(&m->mu);
    return c;
}

void sq_conn_put(struct sq_conn *c)
{
    struct sq_db *m = c->owner;
    int i;

    for (i = 0; i < SQ_Q_COUNT; i++)
        if (c->stmt[i] != NULL && sqlite3_stmt_busy(c->stmt[i]))
            (void)sqlite3_reset(c->stmt[i]); /* only ends the read; errors were reported */
    if (c->in_tx) {
        log_msg(LOG_ERROR, "meta: connection returned inside a transaction; rolling back");
        (void)sq_tx_end(c, -1, NULL);
    }
    (void)pthread_mutex_lock(&m->mu);
    m->free_idx[m->nfree++] = (unsigned)(c - m->conns);
    (void)pthread_cond_signal(&m->cv);
    (void)pthread_mutex_unlock(&m->mu);
}

int sq_write_begin(struct sq_conn **out, struct meta *m, struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);

    *out = NULL;
    if (sq_tx_begin(c, err) < 0) {
        sq_conn_put(c);
        return -1;
    }
    *out = c;
    return 0;
}

int sq_write_end(struct sq_conn *c, int rc, struct berr *err)
{
    rc = sq_tx_end(c, rc, err);
    sq_conn_put(c);
    return rc;
}

int sq_write_i64(struct meta *m, const char *sql, int64_t v, int *changed, struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    int n = 0;
    int rc;

    rc = sq_write_begin(&c, m, err);
    if (rc < 0)
        return -1;
    rc = sq_prepare(&st, c, sql, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, v, err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0)
        n = sqlite3_changes(c->db);
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    rc = sq_write_end(c, rc, err);
    if (rc == 0 && changed != NULL)
        *changed = n;
    return rc;
}

int sq_exec_sql(struct sq_conn *c, const char *sql, struct berr *err)
{
    char *emsg = NULL;

    /* static text without parameters or results we need: sqlite3_exec is the simple way */
    if (sqlite3_exec(c->db, sql, NULL, NULL, &emsg) != SQLITE_OK) {
        log_msg(LOG_ERROR, "meta: %s: %s", sql, emsg != NULL ? emsg : "out of memory");
        sqlite3_free(emsg);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    return 0;
}

static int conn_wal(struct sq_conn *c, struct berr *err)
{
    sqlite3_stmt *st = NULL;
    const unsigned char *mode;
    int rc = -1;

    if (sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
        return sq_fail(c, "journal_mode", err);
    rc = sq_step(c, st, err);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = sq_fail(c, "journal_mode gave no row", err);
        goto out;
    }
    mode = sqlite3_column_text(st, 0);
    if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
        log_msg(LOG_ERROR, "meta: database cannot use WAL (journal mode %s)",
                mode != NULL ? (const char *)mode : "unknown");
        rc = berr_set(err, BERR_INTERNAL, "database cannot use WAL mode");
        goto out;
    }
    rc = 0;
out:
    (void)sqlite3_finalize(st); /* step errors were reported */
    return rc;
}

static int conn_open(struct sq_conn *c, struct sq_db *m, const char *path, struct berr *err)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc;

    c->owner = m;
    rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        log_msg(LOG_ERROR, "meta: cannot open database %s: %s", path,
                c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        return berr_set(err, BERR_INTERNAL, "cannot open database");
    }
    /* both return SQLITE_OK on an open connection */
    (void)sqlite3_extended_result_codes(c->db, 1);
    (void)sqlite3_busy_timeout(c->db, META_BUSY_TIMEOUT_MS);
    if (conn_wal(c, err) < 0 || sq_exec_sql(c, "PRAGMA synchronous=NORMAL", err) < 0 ||
        sq_exec_sql(c, "PRAGMA foreign_keys=ON", err) < 0 ||
        sq_exec_sql(c, META_JOURNAL_LIMIT_SQL, err) < 0)
        return -1;
    return 0;
}

static void conn_close(struct sq_conn *c)
{
    int i;

    if (c->db == NULL)
        return;
    for (i = 0; i < SQ_Q_COUNT; i++)
        (void)sqlite3_finalize(c->stmt[i]); /* NULL is a no-op; errors were reported by step */
    if (sqlite3_close(c->db) != SQLITE_OK)
        log_msg(LOG_ERROR, "meta: close: %s", sqlite3_errmsg(c->db));
    c->db = NULL;
}

/* ---- file modes ---- */

/* The database holds every password hash: the file and its -wal and -shm companions are the
 * owner's alone (0600). SQLite gives -wal and -shm the main file's mode when it creates them, so
 * the main file is made 0600 before the first open; files left looser by an older version are
 * tightened on every open. */
#define SQ_FILE_MODE 0600

/* private_file: chmod path to SQ_FILE_MODE when it exists with other bits; missing is fine. */
static int private_file(const char *path, struct berr *err)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return berr_sys(err, errno, "meta: stat database file");
    }
    if ((st.st_mode & 07777) == SQ_FILE_MODE)
        return 0;
    if (chmod(path, SQ_FILE_MODE) < 0)
        return berr_sys(err, errno, "meta: chmod database file");
    log_msg(LOG_WARN, "meta: %s had mode %03o, now 600", path, (unsigned)(st.st_mode & 0777));
    return 0;
}

/* private_files creates the database file 0600 when missing and tightens path, path-wal and
 * path-shm. SQLite's special names (":memory:", "file:" URIs) are left to SQLite. */
/* create is false once SQLite has the file open: closing any descriptor of a file drops every
 * POSIX lock this process holds on it, SQLite's included, and another process could then take
 * itself for the last connection, checkpoint and drop the WAL the server still appends to (its
 * commits invisible to others until it closes). */
static int private_files(const char *path, bool create, struct berr *err)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[PATH_MAX];
    int fd, n;

    if (path[0] == ':' || strncmp(path, "file:", 5) == 0)
        return 0;
    if (create) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, SQ_FILE_MODE);
        if (fd < 0) {
            log_errno(LOG_ERROR, errno, "meta: cannot open database %s", path);
            return berr_set(err, BERR_INTERNAL, "cannot open database");
        }
        (void)close(fd); /* nothing written: SQLite takes an empty file for a new database */
    }
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        n = snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        if (n < 0 || (size_t)n >= sizeof(p))
            return berr_sys(err, ENAMETOOLONG, "meta: database path");
        if (private_file(p, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- open and close ---- */

int sq_pool_open(struct sq_db **out, const char *path, unsigned pool_size, sq_setup_fn setup,
                 struct berr *err)
{
    struct sq_db *m;
    unsigned i;
    int rc = -1;

    *out = NULL;
#ifdef BERTH_TEST_BUILD
    (void)pthread_once(&sq_once, sq_install); /* fails only with an invalid once control */
#endif
    if (pool_size == 0 || pool_size > META_POOL_MAX)
        return berr_set(err, BERR_INTERNAL, "database pool size must be 1..%d", META_POOL_MAX);
    m = mem_calloc(1, sizeof(*m));
    if (m == NULL)
        return berr_sys(err, ENOMEM, "meta: allocate");
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        mem_free(m);
        return berr_sys(err, ENOMEM, "meta: mutex");
    }
    if (pthread_mutex_init(&m->write_mu, NULL) != 0) {
        (void)pthread_mutex_destroy(&m->mu); /* unused */
        mem_free(m);
        return berr_sys(err, ENOMEM, "meta: mutex");
    }
    if (pthread_cond_init(&m->cv, NULL) != 0) {
        (void)pthread_mutex_destroy(&m->mu); /* unused */
        (void)pthread_mutex_destroy(&m->write_mu);
        mem_free(m);
        return berr_sys(err, ENOMEM, "meta: condition variable");
    }
    m->conns = mem_calloc(pool_size, sizeof(*m->conns));
    m->free_idx = mem_calloc(pool_size, sizeof(*m->free_idx));
    if (m->conns == NULL || m->free_idx == NULL) {
        rc = berr_sys(err, ENOMEM, "meta: allocate pool");
        goto out;
    }
    m->nconns = pool_size;
    rc = private_files(path, true, err);
    if (rc < 0)
        goto out;
    /* the first connection migrates before the others exist */
    for (i = 0; i < pool_size; i++) {
        rc = conn_open(&m->conns[i], m, path, err);
        if (rc < 0)
            goto out;
        if (i == 0) {
            rc = setup(&m->conns[0], err);
            if (rc < 0)
                goto out;
        }
        m->free_idx[m->nfree++] = i;
    }
    /* -wal and -shm exist now (WAL mode): make sure they did not come out looser */
    rc = private_files(path, false, err);
    if (rc < 0)
        goto out;
    m->ready = true;
out:
    if (rc < 0) {
        sq_pool_close(&m->base);
        return -1;
    }
    *out = m;
    return 0;
}

void sq_pool_close(struct meta *mh)
{
    struct sq_db *m = sq_db(mh);
    unsigned i;

    if (m == NULL)
        return;
    if (m->conns != NULL) {
        if (m->ready && m->nfree != m->nconns)
            log_msg(LOG_ERROR, "meta: closing with %u connection(s) still borrowed",
                    m->nconns - m->nfree);
        for (i = 0; i < m->nconns; i++)
            conn_close(&m->conns[i]);
    }
    mem_free(m->conns);
    mem_free(m->free_idx);
    (void)pthread_cond_destroy(&m->cv); /* nobody waits: all connections are back */
    (void)pthread_mutex_destroy(&m->mu);
    (void)pthread_mutex_destroy(&m->write_mu);
    mem_free(m);
}

/* ---- per-call statements and lists ---- */

int sq_prepare(sqlite3_stmt **out, struct sq_conn *c, const char *sql, struct berr *err)
{
    *out = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, out, NULL) != SQLITE_OK) {
        (void)sqlite3_finalize(*out); /* NULL is a no-op */
        *out = NULL;
        return sq_fail(c, "prepare", err);
    }
    return 0;
}

int sq_bind_sort(struct sq_conn *c, sqlite3_stmt *st, int idx, const char *sort, struct berr *err)
{
    if (sort == NULL || sort[0] == '\0')
        return sq_bind_null(c, st, idx, err);
    return sq_bind_text(c, st, idx, sort, strlen(sort), err);
}

int sq_bind_name(struct sq_conn *c, sqlite3_stmt *st, int idx, const struct meta_list_q *q,
                 struct berr *err)
{
    int rc;

    if (q == NULL || q->name == NULL)
        rc = sq_bind_null(c, st, idx, err);
    else
        rc = sq_bind_text(c, st, idx, q->name, strlen(q->name), err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, idx + 1, q != NULL && q->fuzzy ? 1 : 0, err);
    return rc;
}

int sq_exists(struct sq_conn *c, const char *sql, int64_t id, struct berr *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = sq_prepare(&st, c, sql, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 1, id, err);
    if (rc == 0)
        rc = sq_step(c, st, err);
    (void)sqlite3_finalize(st); /* step errors were reported */
    return rc;
}

int sq_list_run(struct meta *m, const struct sq_list *l, const void *q,
                const struct meta_list_q *lq, void *out, size_t cap, size_t *n, int64_t *total,
                struct berr *err)
{
    struct sq_conn *c;
    sqlite3_stmt *st = NULL;
    size_t limit = lq->limit < cap ? lq->limit : cap;
    int rc;

    *n = 0;
    *total = 0;
    if (l->sort_keys != NULL && !meta_ops_sort_ok(lq->sort, l->sort_keys))
        return berr_set(err, BERR_BAD_REQUEST, "unknown sort key");
    if (lq->offset < 0)
        return berr_set(err, BERR_BAD_REQUEST, "offset must not be negative");
    if (limit > META_LIST_MAX)
        limit = META_LIST_MAX;
    c = sq_conn_get(m);
    rc = sq_prepare(&st, c, l->count_sql, err);
    if (rc == 0)
        rc = l->bind(c, st, q, true, err);
    if (rc == 0)
        rc = sq_step_i64(c, st, total, err);
    if (rc == 1)
        rc = 0;
    (void)sqlite3_finalize(st); /* step errors were reported */
    st = NULL;
    if (rc < 0 || limit == 0)
        goto out;
    rc = sq_prepare(&st, c, l->page_sql, err);
    if (rc == 0)
        rc = l->bind(c, st, q, false, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 20, (int64_t)limit, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 21, lq->offset, err);
    while (rc == 0 && *n < limit) {
        rc = sq_step(c, st, err);
        if (rc <= 0)
            break;
        rc = l->read(c, st, (char *)out + *n * l->elem, err);
        if (rc == 0)
            (*n)++;
    }
    (void)sqlite3_finalize(st); /* step errors were reported */
out:
    sq_conn_put(c);
    if (rc < 0) {
        *n = 0;
        *total = 0;
        return -1;
    }
    return 0;
}

/* ---- paging over one text column ---- */

/* what page_fetch runs: the caller's query and its argument */
struct page_req {
    sq_page_query_fn query;
    const void *q;
};

/* page_fetch is meta_walk.h's fetch over a struct page_req */
static int page_fetch(struct meta *m, const void *arg, const char *after, unsigned want,
                      struct meta_page_batch *b, bool *extra, struct berr *err)
{
    const struct page_req *req = arg;
    struct sq_conn *c = sq_conn_get(m);
    sqlite3_stmt *st = NULL;
    int rc;

    b->n = 0;
    *extra = false;
    rc = req->query(&st, c, req->q, after, (int64_t)want + 1, err);
    while (rc == 0) {
        rc = sq_step(c, st, err);
        if (rc <= 0)
            break;
        if (b->n == want) {
            *extra = true;
            rc = 0;
            break;
        }
        rc = sq_col_text(c, st, 0, b->s[b->n], sizeof(b->s[b->n]), err);
        if (rc == 0)
            b->n++;
    }
    if (st != NULL)
        (void)sqlite3_reset(st); /* errors were reported by sq_step */
    sq_conn_put(c);
    return rc < 0 ? -1 : 0;
}

int sq_page_strings(struct meta *m, sq_page_query_fn query, const void *q, const char *last,
                    unsigned n, meta_str_fn fn, void *ctx, bool *more, struct berr *err)
{
    struct page_req req = {query, q};

    return meta_page_walk(m, page_fetch, &req, last, n, fn, ctx, more, err);
}
