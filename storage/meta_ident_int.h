/* meta_ident_int.h - what meta_ident.c and meta_robot.c share, and nobody else.
 *
 * Identity statements are prepared per call (they are not in meta_int.h's statement cache) and
 * finalized before the connection is given back: ident_prepare pairs with sqlite3_finalize on
 * every path. Lists run a count query and a page query on one borrowed connection. */
#ifndef BERTH_STORAGE_META_IDENT_INT_H
#define BERTH_STORAGE_META_IDENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "storage/meta_ident.h"
#include "storage/meta_int.h"

/* ident_prepare: *out is new (sqlite3_finalize), NULL on failure. */
int ident_prepare(sqlite3_stmt **out, struct meta_conn *c, const char *sql, struct berr *err);

/* ident_bind_name binds q's name filter at idx (NULL when none) and fuzzy at idx + 1. */
int ident_bind_name(struct meta_conn *c, sqlite3_stmt *st, int idx, const struct meta_list_q *q,
                    struct berr *err);

/* ident_bind_sort binds the sort key at idx: the text, or NULL when sort is NULL or "" (no order
 * asked; the page queries' CASE arms yield NULL for both, leaving the default order). */
int ident_bind_sort(struct meta_conn *c, sqlite3_stmt *st, int idx, const char *sort,
                    struct berr *err);
/* ident_sort_ok: sort is NULL, "" or one of keys (NULL-terminated), optionally with '-'. */
bool ident_sort_ok(const char *sort, const char *const *keys);

/* One list: bind binds the filter (for_count: the count query, which has no sort, limit or
 * offset parameters); the page query takes limit and offset at ?20 and ?21. read copies the
 * current row into row. */
typedef int (*ident_bind_fn)(struct meta_conn *c, sqlite3_stmt *st, const void *q, bool for_count,
                             struct berr *err);
typedef int (*ident_read_fn)(struct meta_conn *c, sqlite3_stmt *st, void *row, struct berr *err);
struct ident_list {
    const char *count_sql;
    const char *page_sql;
    ident_bind_fn bind;
    ident_read_fn read;
    size_t elem; /* size of one output row */
};
int ident_list_run(struct meta *m, const struct ident_list *l, const void *q,
                   const struct meta_list_q *lq, void *out, size_t cap, size_t *n, int64_t *total,
                   struct berr *err);

/* ident_exists: 1 when sql (one i64 parameter) yields a row, 0 when not, -1 on failure. */
int ident_exists(struct meta_conn *c, const char *sql, int64_t id, struct berr *err);

#endif
