/* pg_meta.h - the PostgreSQL backend of the metadata interface, as meta.c sees it: how to open
 * one. Everything else reaches the backend through the ops table of the handle (meta_ops.h).
 *
 * The backend keeps a fixed pool of libpq connections to one database, which several Berth
 * processes (replicas) may share; pg_int.h tells its files how to use them. Thread-safe. */
#ifndef BERTH_STORAGE_PG_META_H
#define BERTH_STORAGE_PG_META_H

#include <stdbool.h>
#include <stddef.h>

#include "common/berr.h"

struct meta;

/* pg_meta_is_url: s starts with "postgres://" or "postgresql://" (the locations meta_open gives
 * to this backend). */
bool pg_meta_is_url(const char *s);
/* pg_meta_open is meta_open (meta.h) for a PostgreSQL database at url (a libpq connection URI).
 * It applies the missing migrations under an advisory lock. *out is new (meta_close), NULL on
 * failure; the URL's password never reaches a log line or err. */
int pg_meta_open(struct meta **out, const char *url, unsigned pool_size, struct berr *err);

/* pg_meta_scratch makes a new, empty schema `name` (an existing one is dropped with everything
 * in it) in the database at url and writes into out (cap bytes) url with that schema as the
 * search path, for meta_open: a database of its own for one test fixture, at the cost of one
 * CREATE SCHEMA. name is 1..63 of [a-z0-9_]. Test use; never on a database with data. */
int pg_meta_scratch(const char *url, const char *name, char *out, size_t cap, struct berr *err);

#endif
