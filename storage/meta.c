/* meta.c - opening and closing the metadata store, and the schema questions: the entry points
 * of the metadata interface (meta.h) that are not about one entity.
 *
 * meta_open picks the backend by the location: postgres://... or postgresql://... is a
 * PostgreSQL database (pg_meta.h), anything else a SQLite file (sqlite_meta.h); every other call
 * dispatches through the handle's ops table. Both backends number their migrations alike
 * (pg_schema.c), so meta_schema_latest holds for either.
 * Invariants:
 *   1. A handle returned by meta_open has its ops set, and they never change.
 *   2. meta_close(NULL) is a no-op; meta_close goes to the backend that opened the handle.
 * No state of its own; thread-safe as the backend is. */
#include "storage/meta.h"

#include <stddef.h>

#include "storage/meta_ops.h"
#include "storage/pg_meta.h"
#include "storage/sqlite_meta.h"

int meta_open(struct meta **out, const char *path, unsigned pool_size, struct berr *err)
{
    if (pg_meta_is_url(path))
        return pg_meta_open(out, path, pool_size, err);
    return sqlite_meta_open(out, path, pool_size, err);
}

void meta_close(struct meta *m)
{
    if (m != NULL)
        m->ops->close(m);
}

int meta_schema_version(struct meta *m, int *out, struct berr *err)
{
    return m->ops->schema_version(m, out, err);
}

int meta_schema_latest(void)
{
    return sqlite_meta_schema_latest();
}
