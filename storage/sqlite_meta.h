/* sqlite_meta.h - the SQLite backend of the metadata interface, as meta.c sees it: how to open
 * one. Everything else reaches the backend through the ops table of the handle (meta_ops.h).
 *
 * The backend keeps one file (WAL mode, foreign keys on, a busy timeout) and a fixed pool of
 * connections; sqlite_int.h tells its files how to use them. Thread-safe. */
#ifndef BERTH_STORAGE_SQLITE_META_H
#define BERTH_STORAGE_SQLITE_META_H

#include "common/berr.h"

struct meta;

/* sqlite_meta_open is meta_open (meta.h) for a SQLite file at path. *out is new (meta_close),
 * NULL on failure. */
int sqlite_meta_open(struct meta **out, const char *path, unsigned pool_size, struct berr *err);
/* sqlite_meta_schema_latest: the newest migration number this binary knows. */
int sqlite_meta_schema_latest(void);

#endif
