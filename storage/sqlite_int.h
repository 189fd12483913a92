/* sqlite_int.h - what the SQLite backend's files (storage/sqlite*.c) share, and nobody else.
 *
 * The backend: struct sq_db is the handle meta_open returns (its struct meta base, first, carries
 * the ops table of sqlite_ops.c); it owns a fixed pool of struct sq_conn, one SQLite connection
 * each with its cache of prepared statements. A thread owns a connection between sq_conn_get
 * and sq_conn_put and is the only one to touch it (connections are opened SQLITE_OPEN_NOMUTEX).
 * Rules for code holding a connection:
 *   1. Every statement taken with sq_stmt is reset before the function that took it returns
 *      (sq_conn_put resets stragglers too), so no read transaction outlives a call.
 *   2. Text bound with SQLITE_STATIC (repository names, formatted digests) lives until that reset.
 *   3. Writes happen only between sq_tx_begin and sq_tx_end; callbacks of the caller are
 *      never called while a connection is held (results are copied out in batches first).
 *   4. Statements outside the cache (lists, rare writes) are prepared with sq_prepare and
 *      finalized on every path before the connection is given back.
 *   5. No call circles between the files. Entity files call sqlite.c, and each other only down
 *      one order: sqlite_manifest.c and sqlite_quota.c -> sqlite_blob.c -> sqlite_repo.c;
 *      sqlite_schema.c -> sqlite_project.c (the one project INSERT). Never back up that order,
 *      and never a public meta_* function (it would come back in through the ops table).
 * The sq_ prefix is this header's. */
#ifndef BERTH_STORAGE_SQLITE_INT_H
#define BERTH_STORAGE_SQLITE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "storage/meta.h"
#include "storage/meta_ops.h"

/* One slot per cached statement. The SQL text sits next to the code that uses it. */
enum sq_q {
    SQ_Q_BEGIN,
    SQ_Q_COMMIT,
    SQ_Q_ROLLBACK,
    SQ_Q_VERSION,
    SQ_Q_REPO_ID,
    SQ_Q_PROJECT_ID,
    SQ_Q_REPO_INSERT,
    SQ_Q_PROJECT_GET,
    SQ_Q_PROJECT_GET_ID,
    SQ_Q_PROJECT_INSERT,
    SQ_Q_USER_GET,
    SQ_Q_USER_GET_ID,
    SQ_Q_USER_INSERT,
    SQ_Q_BLOB_INSERT,
    SQ_Q_REPO_BLOB_INSERT,
    SQ_Q_BLOB_LINKED,
    SQ_Q_BLOB_LINKED_ID,
    SQ_Q_REPO_BLOB_DELETE,
    SQ_Q_BLOB_SIZE,
    SQ_Q_BLOB_REPOS,
    SQ_Q_MANIFEST_ID,
    SQ_Q_MANIFEST_INSERT,
    SQ_Q_MANIFEST_BLOB_INSERT,
    SQ_Q_MANIFEST_CHILD_INSERT,
    SQ_Q_TAG_UPSERT,
    SQ_Q_REPO_TOUCH,
    SQ_Q_RESOLVE_TAG,
    SQ_Q_RESOLVE_DIGEST,
    SQ_Q_MANIFEST_DELETE,
    SQ_Q_MANIFEST_UNLINK,
    SQ_Q_TAG_DELETE,
    SQ_Q_TAGS_PAGE,
    SQ_Q_CATALOG_PAGE,
    SQ_Q_REFERRERS_PAGE,
    SQ_Q_GC_PAGE,
    SQ_Q_BLOB_FORGET,
    SQ_Q_BLOB_KNOWN,
    SQ_Q_BLOBS_PAGE,
    SQ_Q_DANGLING_DELETE,
    SQ_Q_DANGLING_COUNT,
    SQ_Q_STATE_GET,
    SQ_Q_STATE_WRITE,
    SQ_Q_COUNT
};

struct sq_db;

struct sq_conn {
    struct sq_db *owner;
    sqlite3 *db;
    sqlite3_stmt *stmt[SQ_Q_COUNT];
    const char *sql[SQ_Q_COUNT]; /* text each slot was prepared from (checked on reuse) */
    bool in_tx;                  /* between sq_tx_begin and sq_tx_end */
};

struct sq_db {
    struct meta base;   /* first: the struct meta * callers hold points here */
    pthread_mutex_t mu; /* guards free_idx and nfree */
    pthread_cond_t cv;  /* signalled when a connection is given back */
    /* write_mu serializes this process's write transactions: a writer waits here on a condition
     * variable instead of in SQLite's sleeping busy handler. Taken after a connection, never
     * the other way round. */
    pthread_mutex_t write_mu;
    struct sq_conn *conns;
    unsigned nconns;
    unsigned *free_idx; /* stack of indices into conns that are not borrowed */
    unsigned nfree;
    bool ready; /* sq_pool_open finished: every connection is in free_idx */
};

/* sq_db gives the SQLite handle behind m (which sqlite_meta_open made). */
static inline struct sq_db *sq_db(struct meta *m)
{
    return (struct sq_db *)(void *)m;
}

/* Results are copied out of SQLite in batches of this many rows, then the connection is given
 * back before the caller's callback runs. */
#define SQ_BATCH 64

/* sq_conn_get borrows a connection, waiting while all are busy; sq_conn_put gives it back. */
struct sq_conn *sq_conn_get(struct meta *m);
void sq_conn_put(struct sq_conn *c);

/* sq_fail logs SQLite's message for c with `what` and sets BERR_INTERNAL "internal error".
 * Returns -1. */
int sq_fail(struct sq_conn *c, const char *what, struct berr *err);
/* sq_stmt gives the cached statement for slot q, preparing sql on first use; it comes reset
 * with no bindings. Borrowed: valid until sq_conn_put. */
int sq_stmt(sqlite3_stmt **out, struct sq_conn *c, enum sq_q q, const char *sql, struct berr *err);
/* sq_step steps st: 1 for a row, 0 when done, -1 (err set, st reset) on failure. */
int sq_step(struct sq_conn *c, sqlite3_stmt *st, struct berr *err);
/* sq_exec runs a statement that returns no rows to completion and resets it. */
int sq_exec(struct sq_conn *c, sqlite3_stmt *st, struct berr *err);
/* sq_step_i64 is sq_step for a lookup of one row: 1 for a row (then *v = its column 0), 0
 * when there is none (*v = 0), -1 on failure (err set, *v = 0). st is reset either way, so the
 * statement is done with. v may be NULL when only existence matters. */
int sq_step_i64(struct sq_conn *c, sqlite3_stmt *st, int64_t *v, struct berr *err);

/* Binding helpers: all return 0 or -1 with err set. Text is bound SQLITE_STATIC (rule 2);
 * sq_bind_digest formats into buf, which must live until the statement is reset. */
int sq_bind_text(struct sq_conn *c, sqlite3_stmt *st, int idx, const char *s, size_t len,
                 struct berr *err);
/* sq_bind_blob binds len bytes at p (never NULL) as a blob, SQLITE_STATIC like text. */
int sq_bind_blob(struct sq_conn *c, sqlite3_stmt *st, int idx, const void *p, size_t len,
                 struct berr *err);
int sq_bind_i64(struct sq_conn *c, sqlite3_stmt *st, int idx, int64_t v, struct berr *err);
int sq_bind_null(struct sq_conn *c, sqlite3_stmt *st, int idx, struct berr *err);
int sq_bind_digest(struct sq_conn *c, sqlite3_stmt *st, int idx, const struct digest *d,
                   char buf[DIGEST_STR_LEN + 1], struct berr *err);
int sq_bind_repo(struct sq_conn *c, sqlite3_stmt *st, int idx, const struct repo_name *r,
                 struct berr *err);
/* sq_stmt_id_digest is sq_stmt for slot q, then ?1 = id (a repository or manifest row id) and
 * ?2 = d, formatted into dbuf (rule 2: dbuf lives until the reset). Statements on one digest of
 * one row share that prefix; the caller binds any further parameters. */
int sq_stmt_id_digest(sqlite3_stmt **out, struct sq_conn *c, enum sq_q q, const char *sql,
                      int64_t id, const struct digest *d, char dbuf[DIGEST_STR_LEN + 1],
                      struct berr *err);
/* sq_col_digest parses column col ("sha256:<hex>"); -1 (logged, BERR_INTERNAL) when the
 * stored text is not a digest. */
int sq_col_digest(struct sq_conn *c, sqlite3_stmt *st, int col, struct digest *out,
                  struct berr *err);
/* sq_col_text copies column col into out (cap bytes); -1 (logged, BERR_INTERNAL) when it
 * does not fit. NULL reads as "". */
int sq_col_text(struct sq_conn *c, sqlite3_stmt *st, int col, char *out, size_t cap,
                struct berr *err);

/* sq_exec_sql runs static SQL text without parameters or results (pragmas, DDL). */
int sq_exec_sql(struct sq_conn *c, const char *sql, struct berr *err);

/* sq_pool_open opens pool_size connections to path (WAL, foreign keys, busy timeout) and calls
 * setup on the first one before the others are opened (sqlite_ops.c passes the migrations).
 * *out is new (sq_pool_close), NULL on failure; its base.ops is for the caller to set.
 * sq_pool_close(NULL) is a no-op. */
typedef int (*sq_setup_fn)(struct sq_conn *c, struct berr *err);
int sq_pool_open(struct sq_db **out, const char *path, unsigned pool_size, sq_setup_fn setup,
                 struct berr *err);
void sq_pool_close(struct meta *m);

/* sq_schema_migrate (sqlite_schema.c) applies the missing migrations and makes sure the project
 * `library` exists; refuses a database newer than this binary. sq_schema_version reads the
 * version; sq_schema_latest is the newest this binary knows. */
int sq_schema_migrate(struct sq_conn *c, struct berr *err);
int sq_schema_version(struct meta *m, int *out, struct berr *err);
int sq_schema_latest(void);

/* sq_tx_begin takes the process write lock and opens BEGIN IMMEDIATE. sq_tx_end commits
 * when rc == 0, rolls back otherwise, releases the lock, and returns rc (or -1 when the commit
 * failed). */
int sq_tx_begin(struct sq_conn *c, struct berr *err);
int sq_tx_end(struct sq_conn *c, int rc, struct berr *err);
/* sq_write_begin borrows a connection of m (sq_conn_get) and opens a write transaction on it
 * (sq_tx_begin); on failure it gives the connection back and *out is NULL. sq_write_end
 * ends that transaction (sq_tx_end with rc) and gives the connection back; it returns what
 * sq_tx_end returns. The frame of every public call that writes. */
int sq_write_begin(struct sq_conn **out, struct meta *m, struct berr *err);
int sq_write_end(struct sq_conn *c, int rc, struct berr *err);
/* sq_write_i64 runs sql, whose one parameter ?1 is v, in a write transaction of its own and
 * sets *changed (may be NULL) to the rows it changed. Returns 0, or -1 with err set. */
int sq_write_i64(struct meta *m, const char *sql, int64_t v, int *changed, struct berr *err);

/* sq_repo_id (sqlite_repo.c) looks a repository up by name: 1 and *id when it exists, 0 when
 * not, -1 on failure. sq_repo_ensure (inside a transaction) creates it when its project exists
 * and fails with BERR_NAME_UNKNOWN "project X not found" otherwise. */
int sq_repo_id(struct sq_conn *c, const struct repo_name *repo, int64_t *id, struct berr *err);
int sq_repo_ensure(struct sq_conn *c, const struct repo_name *repo, int64_t *id, struct berr *err);
/* sq_repo_lookup does sq_repo_id on a connection of its own. */
int sq_repo_lookup(struct meta *m, const struct repo_name *repo, int64_t *id, struct berr *err);

/* sq_blob_insert_link (in a transaction) inserts the blob row when new and links it to
 * repo_id. sq_blob_linked_id: 1 when repo_id may serve d (see meta_blob_linked), 0 when not,
 * -1 on failure. Both in sqlite_blob.c. */
int sq_blob_insert_link(struct sq_conn *c, int64_t repo_id, const struct digest *d, uint64_t size,
                        struct berr *err);
int sq_blob_linked_id(struct sq_conn *c, int64_t repo_id, const struct digest *d, struct berr *err);

/* sq_project_insert (sqlite_project.c, in a transaction) is the one INSERT of a project row:
 * 1 and *id when inserted, 0 (*id = 0) when the name exists, -1 on failure. owner_id <= 0: no
 * owner; storage_limit -1: none. The schema's `library` project goes through it too. */
int sq_project_insert(struct sq_conn *c, const char *name, bool public, int64_t owner_id,
                      int64_t storage_limit, int64_t *id, struct berr *err);

/* Paging over one text column. The query function prepares and binds a statement returning
 * the strings in ascending order strictly after `after` ("" = from the start), at most `limit`
 * rows. sq_page_strings runs it batch by batch, gives the connection back, then calls fn for
 * each string; it stops after n strings (*more says whether more remained; more may be NULL),
 * or when fn returns non-zero (that value is returned). Strings longer than REPO_NAME_MAX are
 * an internal error. */
typedef int (*sq_page_query_fn)(sqlite3_stmt **out, struct sq_conn *c, const void *q,
                                const char *after, int64_t limit, struct berr *err);
int sq_page_strings(struct meta *m, sq_page_query_fn query, const void *q, const char *last,
                    unsigned n, meta_str_fn fn, void *ctx, bool *more, struct berr *err);

/* ---- per-call statements and lists ---- */

/* sq_prepare: *out is new (sqlite3_finalize), NULL on failure. */
int sq_prepare(sqlite3_stmt **out, struct sq_conn *c, const char *sql, struct berr *err);

/* sq_bind_name binds q's name filter at idx (NULL when none) and fuzzy at idx + 1. */
int sq_bind_name(struct sq_conn *c, sqlite3_stmt *st, int idx, const struct meta_list_q *q,
                 struct berr *err);

/* sq_bind_sort binds the sort key at idx: the text, or NULL when sort is NULL or "" (no order
 * asked; the page queries' CASE arms yield NULL for both, leaving the default order). */
int sq_bind_sort(struct sq_conn *c, sqlite3_stmt *st, int idx, const char *sort, struct berr *err);

/* One list: bind binds the filter (for_count: the count query, which has no sort, limit or
 * offset parameters); the page query takes limit and offset at ?20 and ?21. read copies the
 * current row into row. sort_keys: the sort keys the list takes (meta_ops_sort_ok), which
 * sq_list_run checks first (BERR_BAD_REQUEST "unknown sort key"); NULL: not checked there
 * (the caller checks, or the list takes no sort). */
typedef int (*sq_bind_fn)(struct sq_conn *c, sqlite3_stmt *st, const void *q, bool for_count,
                          struct berr *err);
typedef int (*sq_read_fn)(struct sq_conn *c, sqlite3_stmt *st, void *row, struct berr *err);
struct sq_list {
    const char *count_sql;
    const char *page_sql;
    sq_bind_fn bind;
    sq_read_fn read;
    size_t elem; /* size of one output row */
    const char *const *sort_keys;
};
int sq_list_run(struct meta *m, const struct sq_list *l, const void *q,
                const struct meta_list_q *lq, void *out, size_t cap, size_t *n, int64_t *total,
                struct berr *err);

/* sq_exists: 1 when sql (one i64 parameter) yields a row, 0 when not, -1 on failure. */
int sq_exists(struct sq_conn *c, const char *sql, int64_t id, struct berr *err);

/* ---- what "shown" means, for the repository and artifact lists (sqlite_repo.c,
 * sqlite_manifest.c): written once, used by count and page queries alike ---- */

/* a repository that holds a manifest or a blob (as the catalog) */
#define REPO_HAS_CONTENT                                                                           \
    " (EXISTS (SELECT 1 FROM manifests cm WHERE cm.repo_id = r.id) OR"                             \
    " EXISTS (SELECT 1 FROM repo_blobs rb WHERE rb.repo_id = r.id))"

/* a top-level artifact: not a child of an index of its repository, not a referrer of one of its
 * manifests */
#define ART_TOP(M)                                                                                 \
    " (NOT EXISTS (SELECT 1 FROM manifest_children tc JOIN manifests tp ON tp.id = tc.parent_id"   \
    " WHERE tc.child_digest = " M ".digest AND tp.repo_id = " M ".repo_id) AND"                    \
    " (" M ".subject_digest IS NULL OR NOT EXISTS (SELECT 1 FROM manifests ts"                     \
    " WHERE ts.repo_id = " M ".repo_id AND ts.digest = " M ".subject_digest)))"

/* manifest plus the blobs it lists */
#define OWN_SIZE(M)                                                                                \
    "(" M ".size + COALESCE((SELECT SUM(b.size) FROM manifest_blobs mb JOIN blobs b"               \
    " ON b.digest = mb.digest WHERE mb.manifest_id = " M ".id), 0))"

#define ART_SIZE                                                                                   \
    "(" OWN_SIZE("m") " + COALESCE((SELECT SUM(" OWN_SIZE(                                         \
            "xm") ") FROM manifest_children xc"                                                    \
                  " JOIN manifests xm ON xm.repo_id = m.repo_id AND xm.digest = xc.child_digest"   \
                  " WHERE xc.parent_id = m.id), 0))"

/* ---- the ops tables, one per entity file; sqlite_ops.c gathers them ---- */

extern const struct meta_project_ops sqlite_project_ops;
extern const struct meta_user_ops sqlite_user_ops;
extern const struct meta_member_ops sqlite_member_ops;
extern const struct meta_robot_ops sqlite_robot_ops;
extern const struct meta_repo_ops sqlite_repo_ops;
extern const struct meta_manifest_ops sqlite_manifest_ops;
extern const struct meta_blob_ops sqlite_blob_ops;
extern const struct meta_quota_ops sqlite_quota_ops;
extern const struct meta_audit_ops sqlite_audit_ops;
extern const struct meta_pulls_ops sqlite_pulls_ops;
extern const struct meta_gc_job_ops sqlite_gc_job_ops;
extern const struct meta_state_ops sqlite_state_ops;

#endif
