/* pg_ops.c - the PostgreSQL backend's ops table and its way in: open the pool, migrate on the
 * first connection (under the advisory lock of pg_schema.c), hand out the handle with the table
 * set.
 *
 * Invariants:
 *   1. The table names one static table per entity file (pg_<entity>.c); it is const and
 *      complete: every pointer is set (meta_ops_test checks each one on the run's backend).
 *   2. The migrations run on the first connection before the other connections are opened, so
 *      no connection of the pool ever sees an older schema.
 * Only this file knows every entity file; none of them knows it. Thread-safe: the table is
 * read-only. */
#include "storage/pg_meta.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

#include "storage/pg_int.h"

static const struct meta_ops pg_ops = {
        .name = "postgres",
        .close = pg_pool_close,
        .schema_version = pg_schema_version,
        .project = &pg_project_ops,
        .user = &pg_user_ops,
        .member = &pg_member_ops,
        .robot = &pg_robot_ops,
        .repo = &pg_repo_ops,
        .manifest = &pg_manifest_ops,
        .blob = &pg_blob_ops,
        .quota = &pg_quota_ops,
        .audit = &pg_audit_ops,
        .pulls = &pg_pulls_ops,
        .gc_job = &pg_gc_job_ops,
        .state = &pg_state_ops,
};

bool pg_meta_is_url(const char *s)
{
    return strncmp(s, "postgres://", 11) == 0 || strncmp(s, "postgresql://", 13) == 0;
}

int pg_meta_open(struct meta **out, const char *url, unsigned pool_size, struct berr *err)
{
    struct pg_db *db;

    *out = NULL;
    if (pg_pool_open(&db, url, pool_size, pg_schema_migrate, err) < 0)
        return -1;
    db->base.ops = &pg_ops;
    *out = &db->base;
    return 0;
}

int pg_meta_scratch(const char *url, const char *name, char *out, size_t cap, struct berr *err)
{
    char sql[256];
    char where[128];
    PGconn *pc;
    PGresult *r;
    size_t len = strlen(name);
    int rc = 0;
    int n;

    if (len == 0 || len > 63 || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
        return berr_set(err, BERR_BAD_REQUEST, "schema name must be 1..63 of [a-z0-9_]");
    n = snprintf(out, cap, "%s%coptions=-csearch_path%%3D%s", url,
                 strchr(url, '?') != NULL ? '&' : '?', name);
    if (n < 0 || (size_t)n >= cap)
        return berr_set(err, BERR_INTERNAL, "database location too long");
    pg_url_where(url, where, sizeof(where));
    pc = PQconnectdb(url);
    if (pc == NULL || PQstatus(pc) != CONNECTION_OK) {
        log_msg(LOG_ERROR, "meta: cannot connect to %s", where);
        PQfinish(pc);
        return berr_set(err, BERR_INTERNAL, "cannot connect to database");
    }
    (void)snprintf(sql, sizeof(sql),
                   "SET client_min_messages = warning;"
                   " DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s",
                   name, name);
    r = PQexec(pc, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        log_msg(LOG_ERROR, "meta: cannot create schema %s on %s", name, where);
        rc = berr_set(err, BERR_INTERNAL, "cannot create schema");
    }
    PQclear(r);
    PQfinish(pc);
    return rc;
}
