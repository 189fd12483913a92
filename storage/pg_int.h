/* pg_int.h - what the PostgreSQL backend's files (storage/pg*.c) share, and nobody else.
 *
 * The backend: struct pg_db is the handle meta_open returns for a postgres:// or postgresql://
 * location (its struct meta base, first, carries the ops table of pg_ops.c); it owns a fixed
 * pool of struct pg_conn, one libpq connection each with its own set of prepared statements
 * (named "q<slot>", prepared on first use like sq_stmt's cache). A thread owns a connection
 * between pg_conn_get and pg_conn_put and is the only one to touch it (libpq connections are
 * not shared between threads). Parameters travel as text (struct pg_params); every column comes
 * back as text and is read with the getters below. Statements are sent synchronously, one at a
 * time.
 *
 * Transactions and locking, per backend (what a writer may rely on):
 *   SQLite (sqlite_int.h): every write runs in BEGIN IMMEDIATE under the process's write_mu, so
 *     writes are serialized: a write transaction that reads, checks and writes is alone in the
 *     database, and other processes on the file wait on the busy timeout.
 *   PostgreSQL (this backend): READ COMMITTED, every write in an explicit transaction
 *     (pg_tx_begin / pg_write_begin, or pg_tx_run with retry). Several replicas share one
 *     database, so writers are NOT serialized; a check-then-write is made safe by one of:
 *       a. a unique key and INSERT ... ON CONFLICT DO NOTHING RETURNING (0 rows: it existed),
 *          never "SELECT, then INSERT" (two replicas would both see nothing);
 *       b. a row lock on the row the check is about, taken by the check itself:
 *          - quota: `SELECT ... FROM projects WHERE id = $1 FOR NO KEY UPDATE` (pg_project_lock)
 *            before summing usage and inserting, so two pushes into one project, on any
 *            replicas, check and add one after the other and the limit holds across replicas.
 *            NO KEY UPDATE, not UPDATE: it does not block the FOR KEY SHARE that foreign-key
 *            inserts (a new repository of the project) take, only other quota checks and
 *            project deletes;
 *          - a project delete locks the project row and its repositories FOR UPDATE
 *            (pg_project.c) before checking they are empty; a push's insert of a manifest, a
 *            blob link or a repository takes FOR KEY SHARE on the parent row through its foreign
 *            key (or explicitly, pg_repo_ensure), so either the delete waits for the push and
 *            then sees its rows (READ COMMITTED: each statement sees what committed before it),
 *            or the push waits for the delete and then finds no parent;
 *       c. pg_tx_run, which retries the whole transaction on serialization failure (40001) and
 *          deadlock (40P01) up to PG_TX_RETRIES times. We do not run SERIALIZABLE: every
 *          check of the metadata is about one row (a. or b.), which READ COMMITTED plus a row
 *          lock makes exact without aborting the unrelated concurrent writes that SERIALIZABLE's
 *          predicate locks would (every push into a busy repository would retry). Deadlocks are
 *          still possible when two transactions lock rows in different orders; they are
 *          retried, and lock order is kept: project row, then repository rows, then the rest.
 *     A read outside a transaction sees one snapshot per statement; a read that needs two
 *     statements to agree runs inside pg_tx_begin (REPEATABLE READ is not used).
 * Rules for code holding a connection:
 *   1. Every PGresult is cleared (pg_res_free) before the function that made it returns.
 *   2. Writes happen only between pg_tx_begin and pg_tx_end; callbacks of the caller are never
 *      called while a connection is held (results are copied out in batches first).
 *   3. Cached statements (pg_run with a slot) are for the hot paths; others go unnamed
 *      (pg_run with PG_Q_NONE). A slot's SQL text never changes (checked on reuse).
 *   4. Parameters are $1..$n, bound in order with the pg_p_* calls; a parameter whose type
 *      PostgreSQL cannot infer (`$1 IS NULL`, a CASE on it) is cast in the SQL ($1::text).
 *   5. No call circles between the files. Entity files call pg.c, and each other only down one
 *      order: pg_manifest.c and pg_quota.c -> pg_blob.c -> pg_repo.c -> pg_project.c;
 *      pg_schema.c -> pg_project.c (the one project INSERT). Never back up that order, and
 *      never a public meta_* function.
 *   6. Text columns that are compared or ordered (names, digests, tags) are COLLATE "C" in the
 *      schema, so ordering and paging are bytewise like SQLite's, whatever the database locale.
 * The pg_ prefix is this header's. */
#ifndef BERTH_STORAGE_PG_INT_H
#define BERTH_STORAGE_PG_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "storage/meta.h"
#include "storage/meta_ops.h"

/* One slot per cached (prepared) statement. The SQL text sits next to the code that uses it.
 * PG_Q_NONE runs a statement unnamed (parsed every time). */
enum pg_q {
    PG_Q_NONE = -1,
    PG_Q_VERSION,
    PG_Q_REPO_ID,
    PG_Q_REPO_INSERT,
    PG_Q_REPO_LOCK,
    PG_Q_PROJECT_ID,
    PG_Q_PROJECT_GET,
    PG_Q_PROJECT_GET_ID,
    PG_Q_PROJECT_INSERT,
    PG_Q_PROJECT_LOCK,
    PG_Q_USER_GET,
    PG_Q_USER_GET_ID,
    PG_Q_USER_INSERT,
    PG_Q_MEMBER_ROLE,
    PG_Q_ROBOT_GET,
    PG_Q_ROBOT_GET_ID,
    PG_Q_ROBOT_ACTIONS,
    PG_Q_AUDIT_INSERT,
    PG_Q_BLOB_LOCK,
    PG_Q_BLOB_INSERT,
    PG_Q_REPO_BLOB_INSERT,
    PG_Q_BLOB_LINKED,
    PG_Q_BLOB_LINKED_ID,
    PG_Q_REPO_BLOB_DELETE,
    PG_Q_BLOB_SIZE,
    PG_Q_BLOB_REPOS,
    PG_Q_MANIFEST_ID,
    PG_Q_MANIFEST_INSERT,
    PG_Q_MANIFEST_BLOB_INSERT,
    PG_Q_MANIFEST_CHILD_INSERT,
    PG_Q_TAG_UPSERT,
    PG_Q_REPO_TOUCH,
    PG_Q_RESOLVE_TAG,
    PG_Q_RESOLVE_DIGEST,
    PG_Q_MANIFEST_DELETE,
    PG_Q_MANIFEST_UNLINK,
    PG_Q_TAG_DELETE,
    PG_Q_TAGS_PAGE,
    PG_Q_CATALOG_PAGE,
    PG_Q_REFERRERS_PAGE,
    PG_Q_GC_PAGE,
    PG_Q_BLOB_FORGET,
    PG_Q_BLOB_KNOWN,
    PG_Q_BLOBS_PAGE,
    PG_Q_DANGLING_DELETE,
    PG_Q_DANGLING_COUNT,
    PG_Q_QUOTA_USAGE,
    PG_Q_PULLS_COUNT,
    PG_Q_PULLS_UPSERT,
    PG_Q_COUNT
};

struct pg_db;

struct pg_conn {
    struct pg_db *owner;
    PGconn *pc;
    const char *sql[PG_Q_COUNT]; /* text each slot was prepared from; NULL: not yet */
    bool in_tx;                  /* between pg_tx_begin and pg_tx_end */
    bool broken;                 /* the connection failed; pg_conn_get reconnects it */
    char sqlstate[6];            /* SQLSTATE of the last failed statement, "" after success */
};

struct pg_db {
    struct meta base;   /* first: the struct meta * callers hold points here */
    pthread_mutex_t mu; /* guards free_idx and nfree */
    pthread_cond_t cv;  /* signalled when a connection is given back */
    struct pg_conn *conns;
    unsigned nconns;
    unsigned *free_idx; /* stack of indices into conns that are not borrowed */
    unsigned nfree;
    bool ready;      /* pg_pool_open finished: every connection is in free_idx */
    char *conninfo;  /* the location as given (holds the password: never logged) */
    char where[128]; /* host:port/dbname for log lines, no user or password */
};

/* pg_db gives the PostgreSQL handle behind m (which pg_meta_open made). */
static inline struct pg_db *pg_db(struct meta *m)
{
    return (struct pg_db *)(void *)m;
}

/* Results are copied out in batches of this many rows, then the connection is given back
 * before the caller's callback runs. */
#define PG_BATCH 64
/* pg_tx_run's attempts on 40001 / 40P01 */
#define PG_TX_RETRIES 5

/* ---- pool ---- */

/* pg_conn_get borrows a connection, waiting while all are busy (a connection found broken is
 * reconnected first; when that fails the next statement fails); pg_conn_put gives it back,
 * rolling back (logged) a transaction left open. */
struct pg_conn *pg_conn_get(struct meta *m);
void pg_conn_put(struct pg_conn *c);

/* pg_pool_open connects pool_size connections to url and calls setup on the first one before
 * the others are opened (pg_ops.c passes the migrations). *out is new (pg_pool_close), NULL on
 * failure; its base.ops is for the caller to set. pg_pool_close(NULL) is a no-op. */
typedef int (*pg_setup_fn)(struct pg_conn *c, struct berr *err);
int pg_pool_open(struct pg_db **out, const char *url, unsigned pool_size, pg_setup_fn setup,
                 struct berr *err);
void pg_pool_close(struct meta *m);

/* pg_url_where writes "host:port/dbname" of url into out (cap bytes) for log lines: never the
 * user or password. Unparsable: "(unparsable location)". */
void pg_url_where(const char *url, char *out, size_t cap);

/* ---- parameters ---- */

#define PG_MAX_PARAMS 24
#define PG_NUM_LEN 24

/* Parameters of one statement, $1..$n in the order added. Text is borrowed (it must live until
 * the statement ran); numbers, booleans and digests are formatted into the struct itself. An
 * overflow (more than PG_MAX_PARAMS, or more than 4 digests) is remembered and makes the run
 * fail with BERR_INTERNAL. */
struct pg_params {
    int n;
    bool overflow;
    const char *v[PG_MAX_PARAMS]; /* NULL: SQL NULL */
    char num[PG_MAX_PARAMS][PG_NUM_LEN];
    char dig[4][DIGEST_STR_LEN + 1];
    int ndig;
};

void pg_params_init(struct pg_params *p);
/* pg_p_text adds s (NULL: SQL NULL); pg_p_i64 a number; pg_p_bool "t"/"f"; pg_p_null NULL;
 * pg_p_digest "sha256:<hex>"; pg_p_repo the repository's whole name. */
void pg_p_text(struct pg_params *p, const char *s);
void pg_p_i64(struct pg_params *p, int64_t v);
void pg_p_bool(struct pg_params *p, bool b);
void pg_p_null(struct pg_params *p);
void pg_p_digest(struct pg_params *p, const struct digest *d);
void pg_p_repo(struct pg_params *p, const struct repo_name *r);
/* pg_p_name adds a list's name filter (NULL: none) and fuzzy (bool), like sq_bind_name;
 * pg_p_sort the sort key or NULL when sort is NULL or "". */
void pg_p_name(struct pg_params *p, const struct meta_list_q *q);
void pg_p_sort(struct pg_params *p, const char *sort);

/* ---- running statements ---- */

/* pg_run runs sql with p (p may be NULL: no parameters) as the cached statement of slot q
 * (prepared on first use on this connection), or unnamed when q is PG_Q_NONE. Returns the
 * number of rows the statement returned (SELECT, ... RETURNING) or, for a command without
 * rows, the number of rows it changed; -1 on failure (err set by pg_fail, c->sqlstate kept).
 * out, when not NULL, gets the result (pg_res_free; NULL on failure); when NULL the result is
 * freed here. */
int pg_run(PGresult **out, struct pg_conn *c, enum pg_q q, const char *sql,
           const struct pg_params *p, struct berr *err);
/* pg_run_i64 is pg_run for a lookup of one value: 1 and *v = row 0 column 0 when a row came,
 * 0 (*v = 0) when none, -1 on failure (*v = 0). v may be NULL when only existence matters. */
int pg_run_i64(struct pg_conn *c, enum pg_q q, const char *sql, const struct pg_params *p,
               int64_t *v, struct berr *err);
/* pg_exec_sql runs static SQL text, without parameters, possibly several statements (DDL,
 * SET); the result is dropped. */
int pg_exec_sql(struct pg_conn *c, const char *sql, struct berr *err);
/* pg_res_free: PQclear; NULL is a no-op. */
void pg_res_free(PGresult *r);

/* pg_fail logs the server's (or libpq's) message for c with `what`, escaped, and maps the
 * SQLSTATE: 23505 unique violation -> BERR_CONFLICT "conflict" (where SQLite has
 * SQLITE_CONSTRAINT); 53100 disk full -> BERR_STORAGE_FULL; 22021 (text that is not UTF-8)
 * -> BERR_BAD_REQUEST; anything else BERR_INTERNAL "internal error". A lost connection marks
 * c broken. Returns -1. */
int pg_fail(struct pg_conn *c, const PGresult *r, const char *what, struct berr *err);

/* pg_utf8 gives s when it is valid UTF-8 (PostgreSQL refuses other text), else a copy in buf
 * (cap bytes, cut to fit) with every byte that does not start a valid sequence made '?'. */
const char *pg_utf8(char *buf, size_t cap, const char *s);

/* ---- reading columns (every column comes as text; NULL reads as 0, false or "") ---- */

bool pg_is_null(const PGresult *r, int row, int col);
int64_t pg_i64(const PGresult *r, int row, int col);
bool pg_bool(const PGresult *r, int row, int col);
/* pg_text copies the column into out (cap bytes); -1 (logged, BERR_INTERNAL) when it does not
 * fit. */
int pg_text(const PGresult *r, int row, int col, char *out, size_t cap, struct berr *err);
/* pg_digest parses the column ("sha256:<hex>"); -1 (logged, BERR_INTERNAL) when malformed. */
int pg_digest(const PGresult *r, int row, int col, struct digest *out, struct berr *err);

/* ---- transactions ---- */

/* pg_tx_begin opens BEGIN (READ COMMITTED). pg_tx_end commits when rc == 0, rolls back
 * otherwise, and returns rc (or -1 when the commit failed). */
int pg_tx_begin(struct pg_conn *c, struct berr *err);
int pg_tx_end(struct pg_conn *c, int rc, struct berr *err);
/* pg_write_begin borrows a connection of m and opens a transaction on it; on failure it gives
 * the connection back and *out is NULL. pg_write_end ends that transaction (pg_tx_end with rc)
 * and gives the connection back; returns what pg_tx_end returns. */
int pg_write_begin(struct pg_conn **out, struct meta *m, struct berr *err);
int pg_write_end(struct pg_conn *c, int rc, struct berr *err);
/* pg_tx_run borrows a connection, runs fn inside a transaction and commits when it returned
 * 0; on 40001 (serialization failure) or 40P01 (deadlock), from fn's statements or the
 * commit, everything is rolled back and fn runs again, up to PG_TX_RETRIES times. fn must
 * have no effect outside the database before it returns (it may run more than once). Returns
 * fn's result (-1 with err set on failure). */
typedef int (*pg_tx_fn)(struct pg_conn *c, void *ctx, struct berr *err);
int pg_tx_run(struct meta *m, pg_tx_fn fn, void *ctx, struct berr *err);

/* ---- schema (pg_schema.c) ---- */

/* pg_schema_migrate applies the missing migrations under a session advisory lock (two
 * replicas starting together apply each once) and makes sure the project `library` exists;
 * refuses a database newer than this binary. pg_schema_version reads the version;
 * pg_schema_latest is the newest this binary knows. */
int pg_schema_migrate(struct pg_conn *c, struct berr *err);
int pg_schema_version(struct meta *m, int *out, struct berr *err);
int pg_schema_latest(void);

/* ---- shared entity helpers ---- */

/* pg_project_insert (pg_project.c, in a transaction) is the one INSERT of a project row: 1 and
 * *id when inserted, 0 (*id = 0) when the name exists, -1 on failure. owner_id <= 0: no owner;
 * storage_limit -1: none. The schema's `library` project goes through it too. */
int pg_project_insert(struct pg_conn *c, const char *name, bool public, int64_t owner_id,
                      int64_t storage_limit, int64_t *id, struct berr *err);
/* pg_project_lock (pg_project.c, in a transaction) locks the project row FOR NO KEY UPDATE
 * (quota checks: see the header comment): 1 when locked (*limit = its storage_limit; limit
 * may be NULL), 0 when no such project, -1 on failure. */
int pg_project_lock(struct pg_conn *c, int64_t project_id, int64_t *limit, struct berr *err);

/* pg_repo_id / pg_repo_ensure / pg_repo_lookup: as sq_repo_id etc. (pg_repo.c). pg_repo_ensure
 * (in a transaction) returns the repository's row locked FOR NO KEY UPDATE, inserted when new
 * (the writers of one repository's content run one after the other: pg_repo.c). pg_repo_lock
 * (in a transaction) takes that lock on an existing repository: 1 and *id, 0 when none, -1. */
int pg_repo_id(struct pg_conn *c, const struct repo_name *repo, int64_t *id, struct berr *err);
int pg_repo_ensure(struct pg_conn *c, const struct repo_name *repo, int64_t *id, struct berr *err);
int pg_repo_lock(struct pg_conn *c, const struct repo_name *repo, int64_t *id, struct berr *err);
int pg_repo_lookup(struct meta *m, const struct repo_name *repo, int64_t *id, struct berr *err);

/* pg_blob.c: pg_blob_lock (in a transaction) takes the digest lock of d, a transaction-scoped
 * advisory lock held by everything that inserts or deletes d's blob row or its file (pg_blob.c's
 * header); pg_blob_insert_link (in a transaction, under the digest lock it takes) inserts the
 * blob row when new and links it to repo_id; pg_blob_linked_id: 1 when repo_id may serve d, 0
 * when not, -1 on failure. */
int pg_blob_lock(struct pg_conn *c, const struct digest *d, struct berr *err);
int pg_blob_insert_link(struct pg_conn *c, int64_t repo_id, const struct digest *d, uint64_t size,
                        struct berr *err);
int pg_blob_linked_id(struct pg_conn *c, int64_t repo_id, const struct digest *d, struct berr *err);

/* ---- lists and paging ---- */

/* One list: bind adds the filter parameters (for_count: the count query's; the page query's
 * may add more, the sort key usually); pg_list_run then adds limit and offset as the two
 * parameters after those, so the page SQL names them $n+1 and $n+2. read copies row `row` of r
 * into out. sort_keys: as struct sq_list's, checked first by pg_list_run. */
typedef int (*pg_bind_fn)(struct pg_params *p, const void *q, bool for_count, struct berr *err);
typedef int (*pg_read_fn)(const PGresult *r, int row, void *out, struct berr *err);
struct pg_list {
    const char *count_sql;
    const char *page_sql;
    pg_bind_fn bind;
    pg_read_fn read;
    size_t elem; /* size of one output row */
    const char *const *sort_keys;
};
int pg_list_run(struct meta *m, const struct pg_list *l, const void *q,
                const struct meta_list_q *lq, void *out, size_t cap, size_t *n, int64_t *total,
                struct berr *err);

/* Paging over one text column, as sq_page_strings: query adds the parameters of the statement
 * that returns the strings in ascending order strictly after `after` ("" = from the start), at
 * most `limit` rows, and gives its SQL and slot. */
typedef int (*pg_page_query_fn)(struct pg_params *p, const char **sql, enum pg_q *slot,
                                const void *q, const char *after, int64_t limit, struct berr *err);
int pg_page_strings(struct meta *m, pg_page_query_fn query, const void *q, const char *last,
                    unsigned n, meta_str_fn fn, void *ctx, bool *more, struct berr *err);

/* ---- what "shown" means, for the project, repository and artifact lists: the same SQL as
 * sqlite_int.h's, which is portable ---- */

/* a repository that holds a manifest or a blob (as the catalog) */
#define PG_REPO_HAS_CONTENT                                                                        \
    " (EXISTS (SELECT 1 FROM manifests cm WHERE cm.repo_id = r.id) OR"                             \
    " EXISTS (SELECT 1 FROM repo_blobs rb WHERE rb.repo_id = r.id))"

/* a top-level artifact: not a child of an index of its repository, not a referrer of one of its
 * manifests */
#define PG_ART_TOP(M)                                                                              \
    " (NOT EXISTS (SELECT 1 FROM manifest_children tc JOIN manifests tp ON tp.id = tc.parent_id"   \
    " WHERE tc.child_digest = " M ".digest AND tp.repo_id = " M ".repo_id) AND"                    \
    " (" M ".subject_digest IS NULL OR NOT EXISTS (SELECT 1 FROM manifests ts"                     \
    " WHERE ts.repo_id = " M ".repo_id AND ts.digest = " M ".subject_digest)))"

/* manifest plus the blobs it lists */
#define PG_OWN_SIZE(M)                                                                             \
    "(" M ".size + COALESCE((SELECT SUM(b.size) FROM manifest_blobs mb JOIN blobs b"               \
    " ON b.digest = mb.digest WHERE mb.manifest_id = " M ".id), 0))"

#define PG_ART_SIZE                                                                                \
    "(" PG_OWN_SIZE("m") " + COALESCE((SELECT SUM(" PG_OWN_SIZE(                                   \
            "xm") ") FROM manifest_children xc"                                                    \
                  " JOIN manifests xm ON xm.repo_id = m.repo_id AND xm.digest = xc.child_digest"   \
                  " WHERE xc.parent_id = m.id), 0))"

/* ---- the ops tables, one per entity file; pg_ops.c gathers them ---- */

extern const struct meta_project_ops pg_project_ops;
extern const struct meta_user_ops pg_user_ops;
extern const struct meta_member_ops pg_member_ops;
extern const struct meta_robot_ops pg_robot_ops;
extern const struct meta_audit_ops pg_audit_ops;
extern const struct meta_state_ops pg_state_ops;
extern const struct meta_repo_ops pg_repo_ops;
extern const struct meta_manifest_ops pg_manifest_ops;
extern const struct meta_blob_ops pg_blob_ops;
extern const struct meta_quota_ops pg_quota_ops;
extern const struct meta_pulls_ops pg_pulls_ops;
extern const struct meta_gc_job_ops pg_gc_job_ops;

#endif
