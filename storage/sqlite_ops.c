/* sqlite_ops.c - the SQLite backend's ops table and its way in: open the pool, migrate on the
 * first connection, hand out the handle with the table set.
 *
 * Invariants:
 *   1. The table names one static table per entity file (sqlite_<entity>.c); it is const and
 *      complete: every pointer is set (meta_ops_test checks each one; a missing one would crash
 *      its first caller).
 *   2. The migrations run on the first connection before the other connections are opened, so
 *      no connection of the pool ever sees an older schema.
 * Only this file knows every entity file; none of them knows it. Thread-safe: the table is
 * read-only. */
#include "storage/sqlite_meta.h"

#include <stddef.h>

#include "storage/sqlite_int.h"

static const struct meta_ops sqlite_ops = {
        .name = "sqlite",
        .close = sq_pool_close,
        .schema_version = sq_schema_version,
        .project = &sqlite_project_ops,
        .user = &sqlite_user_ops,
        .member = &sqlite_member_ops,
        .robot = &sqlite_robot_ops,
        .repo = &sqlite_repo_ops,
        .manifest = &sqlite_manifest_ops,
        .blob = &sqlite_blob_ops,
        .quota = &sqlite_quota_ops,
        .audit = &sqlite_audit_ops,
        .pulls = &sqlite_pulls_ops,
        .gc_job = &sqlite_gc_job_ops,
        .state = &sqlite_state_ops,
};

int sqlite_meta_open(struct meta **out, const char *path, unsigned pool_size, struct berr *err)
{
    struct sq_db *db;

    *out = NULL;
    if (sq_pool_open(&db, path, pool_size, sq_schema_migrate, err) < 0)
        return -1;
    db->base.ops = &sqlite_ops;
    *out = &db->base;
    return 0;
}

int sqlite_meta_schema_latest(void)
{
    return sq_schema_latest();
}
