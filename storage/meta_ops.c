/* meta_ops.c - what every metadata backend (sqlite_*.c, pg*.c) shares beyond its ops table
 * (meta_ops.h): the rules that need no SQL, written once so the backends cannot drift apart.
 *   1. A database at a schema version newer than the binary's newest migration is refused
 *      (meta.h, meta_open), with the same log line and message on every backend.
 *   2. A push over a project's limit gets the one refusal quota.h documents.
 *   3. A list accepts the same spellings of a sort key on every backend.
 * No SQL, no connection, no shared state. */
#include "storage/meta_ops.h"

#include <inttypes.h>
#include <string.h>

#include "common/log.h"

int meta_ops_schema_check(int cur, int newest, struct berr *err)
{
    if (cur <= newest)
        return 0;
    log_msg(LOG_ERROR, "meta: database schema version %d is newer than this binary's %d", cur,
            newest);
    return berr_set(err, BERR_INTERNAL, "database schema version %d is newer than supported (%d)",
                    cur, newest);
}

int meta_ops_quota_fits(const char *project, int64_t used, int64_t limit, uint64_t size,
                        struct berr *err)
{
    if ((uint64_t)used + size > (uint64_t)limit)
        return berr_set(err, BERR_DENIED,
                        "quota exceeded: project %s uses %" PRId64 " of %" PRId64
                        " bytes, this push needs %" PRIu64 " more",
                        project, used, limit, size);
    return 0;
}

bool meta_ops_sort_ok(const char *sort, const char *const *keys)
{
    size_t i;

    if (sort == NULL || sort[0] == '\0')
        return true;
    if (sort[0] == '-')
        sort++;
    for (i = 0; keys[i] != NULL; i++)
        if (strcmp(sort, keys[i]) == 0)
            return true;
    return false;
}
