/* meta.c - opening and closing the metadata store, and the schema questions: the entry points
 * of the metadata interface (meta.h) that are not about one entity.
 *
 * meta_open picks the backend (SQLite: sqlite_meta.h; the PostgreSQL backend will be chosen
 * here by the configuration) and every other call dispatches through the handle's ops table.
 * Invariants:
 *   1. A handle returned by meta_open has its ops set, and they never change.
 *   2. meta_close(NULL) is a no-op; meta_close goes to the backend that opened the handle.
 *   3. The manifest cache (meta_cache_enable, storage/mcache.h) is the only state above the
 *      backend; the calls that change what meta_manifest_resolve answers bump its generations.
 * Thread-safe as the backend is (the cache has its own locks). */
#include "storage/meta.h"

#include <stddef.h>

#include "storage/meta_ops.h"
#include "storage/sqlite_meta.h"

int meta_open(struct meta **out, const char *path, unsigned pool_size, struct berr *err)
{
    return sqlite_meta_open(out, path, pool_size, err);
}

int meta_cache_enable(struct meta *m, size_t entries, unsigned tag_ttl_ms, struct berr *err)
{
    struct mcache *mc = NULL;

    if (entries > 0 && mcache_new(&mc, entries, tag_ttl_ms, err) < 0)
        return -1;
    mcache_free(m->mc);
    m->mc = mc;
    return 0;
}

void meta_close(struct meta *m)
{
    if (m != NULL) {
        mcache_free(m->mc);
        m->mc = NULL;
        m->ops->close(m);
    }
}

int meta_schema_version(struct meta *m, int *out, struct berr *err)
{
    return m->ops->schema_version(m, out, err);
}

int meta_schema_latest(void)
{
    return sqlite_meta_schema_latest();
}
