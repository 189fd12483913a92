/* meta_int.h - what the storage/meta*.c files share, and nobody else.
 *
 * A struct meta_conn is one SQLite connection of the pool with its cache of prepared statements.
 * A thread owns a connection between meta_conn_get and meta_conn_put and is the only one to touch
 * it (connections are opened SQLITE_OPEN_NOMUTEX). Rules for code holding a connection:
 *   1. Every statement taken with meta_stmt is reset before the function that took it returns
 *      (meta_conn_put resets stragglers too), so no read transaction outlives a call.
 *   2. Text bound with SQLITE_STATIC (repository names, formatted digests) lives until that reset.
 *   3. Writes happen only between meta_tx_begin and meta_tx_end; callbacks of the caller are
 *      never called while a connection is held (results are copied out in batches first). */
#ifndef BERTH_STORAGE_META_INT_H
#define BERTH_STORAGE_META_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "storage/meta.h"

/* One slot per cached statement. The SQL text sits next to the code that uses it. */
enum meta_q {
    META_Q_BEGIN,
    META_Q_COMMIT,
    META_Q_ROLLBACK,
    META_Q_VERSION,
    META_Q_REPO_ID,
    META_Q_PROJECT_ID,
    META_Q_REPO_INSERT,
    META_Q_PROJECT_GET,
    META_Q_PROJECT_INSERT,
    META_Q_USER_GET,
    META_Q_USER_INSERT,
    META_Q_USER_SET_PW,
    META_Q_BLOB_INSERT,
    META_Q_REPO_BLOB_INSERT,
    META_Q_BLOB_LINKED,
    META_Q_BLOB_LINKED_ID,
    META_Q_REPO_BLOB_DELETE,
    META_Q_BLOB_SIZE,
    META_Q_BLOB_REPOS,
    META_Q_MANIFEST_ID,
    META_Q_MANIFEST_INSERT,
    META_Q_MANIFEST_BLOB_INSERT,
    META_Q_MANIFEST_CHILD_INSERT,
    META_Q_TAG_UPSERT,
    META_Q_REPO_TOUCH,
    META_Q_RESOLVE_TAG,
    META_Q_RESOLVE_DIGEST,
    META_Q_MANIFEST_DELETE,
    META_Q_MANIFEST_UNLINK,
    META_Q_TAG_DELETE,
    META_Q_TAGS_PAGE,
    META_Q_CATALOG_PAGE,
    META_Q_REFERRERS_PAGE,
    META_Q_GC_PAGE,
    META_Q_BLOB_FORGET,
    META_Q_BLOB_KNOWN,
    META_Q_BLOBS_PAGE,
    META_Q_DANGLING_DELETE,
    META_Q_DANGLING_COUNT,
    META_Q_COUNT
};

struct meta;

struct meta_conn {
    struct meta *m;
    sqlite3 *db;
    sqlite3_stmt *stmt[META_Q_COUNT];
    const char *sql[META_Q_COUNT]; /* text each slot was prepared from (checked on reuse) */
    bool in_tx;                    /* between meta_tx_begin and meta_tx_end */
};

struct meta {
    pthread_mutex_t mu; /* guards free_idx and nfree */
    pthread_cond_t cv;  /* signalled when a connection is given back */
    /* write_mu serializes this process's write transactions: a writer waits here on a condition
     * variable instead of in SQLite's sleeping busy handler. Taken after a connection, never
     * the other way round. */
    pthread_mutex_t write_mu;
    struct meta_conn *conns;
    unsigned nconns;
    unsigned *free_idx; /* stack of indices into conns that are not borrowed */
    unsigned nfree;
    bool ready; /* meta_open finished: every connection is in free_idx */
};

/* Results are copied out of SQLite in batches of this many rows, then the connection is given
 * back before the caller's callback runs. */
#define META_BATCH 64

/* meta_conn_get borrows a connection, waiting while all are busy; meta_conn_put gives it back. */
struct meta_conn *meta_conn_get(struct meta *m);
void meta_conn_put(struct meta_conn *c);

/* meta_fail logs SQLite's message for c with `what` and sets BERR_INTERNAL "internal error".
 * Returns -1. */
int meta_fail(struct meta_conn *c, const char *what, struct berr *err);
/* meta_stmt gives the cached statement for slot q, preparing sql on first use; it comes reset
 * with no bindings. Borrowed: valid until meta_conn_put. */
int meta_stmt(sqlite3_stmt **out, struct meta_conn *c, enum meta_q q, const char *sql,
              struct berr *err);
/* meta_step steps st: 1 for a row, 0 when done, -1 (err set, st reset) on failure. */
int meta_step(struct meta_conn *c, sqlite3_stmt *st, struct berr *err);
/* meta_exec runs a statement that returns no rows to completion and resets it. */
int meta_exec(struct meta_conn *c, sqlite3_stmt *st, struct berr *err);
/* meta_step_i64 is meta_step for a lookup of one row: 1 for a row (then *v = its column 0), 0
 * when there is none (*v = 0), -1 on failure (err set, *v = 0). st is reset either way, so the
 * statement is done with. v may be NULL when only existence matters. */
int meta_step_i64(struct meta_conn *c, sqlite3_stmt *st, int64_t *v, struct berr *err);

/* Binding helpers: all return 0 or -1 with err set. Text is bound SQLITE_STATIC (rule 2);
 * meta_bind_digest formats into buf, which must live until the statement is reset. */
int meta_bind_text(struct meta_conn *c, sqlite3_stmt *st, int idx, const char *s, size_t len,
                   struct berr *err);
int meta_bind_i64(struct meta_conn *c, sqlite3_stmt *st, int idx, int64_t v, struct berr *err);
int meta_bind_null(struct meta_conn *c, sqlite3_stmt *st, int idx, struct berr *err);
int meta_bind_digest(struct meta_conn *c, sqlite3_stmt *st, int idx, const struct digest *d,
                     char buf[DIGEST_STR_LEN + 1], struct berr *err);
int meta_bind_repo(struct meta_conn *c, sqlite3_stmt *st, int idx, const struct repo_name *r,
                   struct berr *err);
/* meta_stmt_id_digest is meta_stmt for slot q, then ?1 = id (a repository or manifest row id) and
 * ?2 = d, formatted into dbuf (rule 2: dbuf lives until the reset). Statements on one digest of
 * one row share that prefix; the caller binds any further parameters. */
int meta_stmt_id_digest(sqlite3_stmt **out, struct meta_conn *c, enum meta_q q, const char *sql,
                        int64_t id, const struct digest *d, char dbuf[DIGEST_STR_LEN + 1],
                        struct berr *err);
/* meta_col_digest parses column col ("sha256:<hex>"); -1 (logged, BERR_INTERNAL) when the
 * stored text is not a digest. */
int meta_col_digest(struct meta_conn *c, sqlite3_stmt *st, int col, struct digest *out,
                    struct berr *err);
/* meta_col_text copies column col into out (cap bytes); -1 (logged, BERR_INTERNAL) when it
 * does not fit. NULL reads as "". */
int meta_col_text(struct meta_conn *c, sqlite3_stmt *st, int col, char *out, size_t cap,
                  struct berr *err);

/* meta_exec_sql runs static SQL text without parameters or results (pragmas, DDL). */
int meta_exec_sql(struct meta_conn *c, const char *sql, struct berr *err);

/* meta_schema_migrate (meta_schema.c) applies the missing migrations and makes sure the project
 * `library` exists; refuses a database newer than this binary. */
int meta_schema_migrate(struct meta_conn *c, struct berr *err);

/* meta_tx_begin takes the process write lock and opens BEGIN IMMEDIATE. meta_tx_end commits
 * when rc == 0, rolls back otherwise, releases the lock, and returns rc (or -1 when the commit
 * failed). */
int meta_tx_begin(struct meta_conn *c, struct berr *err);
int meta_tx_end(struct meta_conn *c, int rc, struct berr *err);
/* meta_write_begin borrows a connection of m (meta_conn_get) and opens a write transaction on it
 * (meta_tx_begin); on failure it gives the connection back and *out is NULL. meta_write_end
 * ends that transaction (meta_tx_end with rc) and gives the connection back; it returns what
 * meta_tx_end returns. The frame of every public call that writes. */
int meta_write_begin(struct meta_conn **out, struct meta *m, struct berr *err);
int meta_write_end(struct meta_conn *c, int rc, struct berr *err);

/* meta_repo_id looks a repository up by name: 1 and *id when it exists, 0 when not, -1 on
 * failure. meta_repo_ensure (inside a transaction) creates it when its project exists and
 * fails with BERR_NAME_UNKNOWN "project X not found" otherwise. */
int meta_repo_id(struct meta_conn *c, const struct repo_name *repo, int64_t *id, struct berr *err);
int meta_repo_ensure(struct meta_conn *c, const struct repo_name *repo, int64_t *id,
                     struct berr *err);
/* meta_repo_lookup does meta_repo_id on a connection of its own. */
int meta_repo_lookup(struct meta *m, const struct repo_name *repo, int64_t *id, struct berr *err);

/* meta_blob_insert_link (in a transaction) inserts the blob row when new and links it to
 * repo_id. meta_blob_linked_id: 1 when repo_id may serve d (see meta_blob_linked), 0 when not,
 * -1 on failure. Both in meta_repo.c. */
int meta_blob_insert_link(struct meta_conn *c, int64_t repo_id, const struct digest *d,
                          uint64_t size, struct berr *err);
int meta_blob_linked_id(struct meta_conn *c, int64_t repo_id, const struct digest *d,
                        struct berr *err);

/* Paging over one text column. The query function prepares and binds a statement returning
 * the strings in ascending order strictly after `after` ("" = from the start), at most `limit`
 * rows. meta_page_strings runs it batch by batch, gives the connection back, then calls fn for
 * each string; it stops after n strings (*more says whether more remained; more may be NULL),
 * or when fn returns non-zero (that value is returned). Strings longer than REPO_NAME_MAX are
 * an internal error. */
typedef int (*meta_page_query_fn)(sqlite3_stmt **out, struct meta_conn *c, const void *q,
                                  const char *after, int64_t limit, struct berr *err);
int meta_page_strings(struct meta *m, meta_page_query_fn query, const void *q, const char *last,
                      unsigned n, meta_str_fn fn, void *ctx, bool *more, struct berr *err);

#endif
