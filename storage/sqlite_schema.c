/* sqlite_schema.c - the SQLite backend's numbered schema migrations and the rows every database
 * starts with.
 *
 * The schema version is MAX(version) of schema_migrations (0 for a new file). Invariants:
 *   1. Migration N runs in its own BEGIN IMMEDIATE transaction that re-reads the version first,
 *      so two processes opening one file apply it once, and a failed migration leaves the
 *      database at N - 1.
 *   2. A database whose version is newer than MIGRATION_COUNT is refused: this binary does not
 *      know what the newer schema means.
 *   3. Migrations are append-only: a released migration's text never changes; a change to the
 *      schema is a new migration at the end of `migrations`.
 * Runs on the first connection while sq_pool_open is still single-threaded. */
#include "storage/sqlite_int.h"

#include <limits.h>

#include "common/log.h"
#include "common/util.h"

/* ---- migrations ---- */

static const char MIGRATION_TABLE_SQL[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                          " version INTEGER PRIMARY KEY,"
                                          " applied_at INTEGER NOT NULL)";

/* Migration 1: the whole first schema. Digests are stored as "sha256:<hex>". Every foreign key
 * column has an index (SQLite needs one to check deletes and cascades without a scan).
 * manifest_blobs.repo_id copies its manifest's repo_id so "may this repository serve d" is one
 * probe of (digest, repo_id), however many manifests list d. */
static const char MIGRATION_1[] =
        "CREATE TABLE projects ("
        " id INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL UNIQUE,"
        " public INTEGER NOT NULL DEFAULT 0,"
        " owner_id INTEGER,"
        " created_at INTEGER NOT NULL,"
        " updated_at INTEGER NOT NULL);"
        "CREATE TABLE users ("
        " id INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL UNIQUE,"
        " pw_hash TEXT NOT NULL,"
        " sysadmin INTEGER NOT NULL DEFAULT 0,"
        " email TEXT,"
        " realname TEXT,"
        " comment TEXT,"
        " created_at INTEGER NOT NULL,"
        " updated_at INTEGER NOT NULL);"
        "CREATE TABLE repositories ("
        " id INTEGER PRIMARY KEY,"
        " project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,"
        " name TEXT NOT NULL UNIQUE,"
        " description TEXT NOT NULL DEFAULT '',"
        " pull_count INTEGER NOT NULL DEFAULT 0,"
        " created_at INTEGER NOT NULL,"
        " updated_at INTEGER NOT NULL);"
        "CREATE INDEX repositories_project ON repositories(project_id);"
        "CREATE TABLE blobs ("
        " digest TEXT PRIMARY KEY,"
        " size INTEGER NOT NULL,"
        " created_at INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE INDEX blobs_created ON blobs(created_at);"
        "CREATE TABLE repo_blobs ("
        " repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
        " digest TEXT NOT NULL REFERENCES blobs(digest),"
        " created_at INTEGER NOT NULL,"
        " PRIMARY KEY (repo_id, digest)) WITHOUT ROWID;"
        "CREATE INDEX repo_blobs_digest ON repo_blobs(digest);"
        "CREATE TABLE manifests ("
        " id INTEGER PRIMARY KEY,"
        " repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
        " digest TEXT NOT NULL,"
        " media_type TEXT NOT NULL,"
        " size INTEGER NOT NULL,"
        " artifact_type TEXT NOT NULL DEFAULT '',"
        " subject_digest TEXT,"
        " annotations TEXT,"
        " pushed_at INTEGER NOT NULL,"
        " pull_time INTEGER,"
        " pull_count INTEGER NOT NULL DEFAULT 0,"
        " UNIQUE (repo_id, digest));"
        "CREATE INDEX manifests_subject ON manifests(subject_digest, repo_id, digest)"
        " WHERE subject_digest IS NOT NULL;"
        "CREATE INDEX manifests_digest ON manifests(digest);"
        "CREATE TABLE manifest_blobs ("
        " manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,"
        " digest TEXT NOT NULL REFERENCES blobs(digest),"
        " repo_id INTEGER NOT NULL,"
        " PRIMARY KEY (manifest_id, digest)) WITHOUT ROWID;"
        "CREATE INDEX manifest_blobs_digest ON manifest_blobs(digest, repo_id);"
        "CREATE TABLE manifest_children ("
        " parent_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,"
        " child_digest TEXT NOT NULL,"
        " media_type TEXT NOT NULL,"
        " size INTEGER NOT NULL,"
        " os TEXT NOT NULL DEFAULT '',"
        " arch TEXT NOT NULL DEFAULT '',"
        " variant TEXT NOT NULL DEFAULT '');"
        "CREATE INDEX manifest_children_parent ON manifest_children(parent_id);"
        "CREATE INDEX manifest_children_child ON manifest_children(child_digest);"
        "CREATE TABLE tags ("
        " repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
        " name TEXT NOT NULL,"
        " manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,"
        " pushed_at INTEGER NOT NULL,"
        " pull_time INTEGER,"
        " pull_count INTEGER NOT NULL DEFAULT 0,"
        " PRIMARY KEY (repo_id, name)) WITHOUT ROWID;"
        "CREATE INDEX tags_manifest ON tags(manifest_id);";

/* Migration 2: identity. Project members with Harbor's role ids, robot accounts with their
 * per-namespace permissions, a storage limit per project, and two triggers:
 *   - a project inserted with an owner makes that user its projectAdmin (so every way of
 *     creating a project, meta_project_create included, keeps "the creator is a member");
 *   - a deleted project leaves a tombstone, and a project re-created under that name gets a
 *     created_at later than the deletion, even within the same second, so a token issued for
 *     the old project is always older than the new one. */
static const char MIGRATION_2[] =
        "ALTER TABLE projects ADD COLUMN storage_limit INTEGER NOT NULL DEFAULT -1;"
        "CREATE TABLE project_members ("
        " id INTEGER PRIMARY KEY,"
        " project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,"
        " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
        " role INTEGER NOT NULL CHECK (role BETWEEN 1 AND 5),"
        " created_at INTEGER NOT NULL,"
        " updated_at INTEGER NOT NULL,"
        " UNIQUE (project_id, user_id));"
        "CREATE INDEX project_members_user ON project_members(user_id);"
        "CREATE TABLE robots ("
        " id INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL UNIQUE,"
        " description TEXT NOT NULL DEFAULT '',"
        " secret_hash TEXT NOT NULL,"
        " project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,"
        " disabled INTEGER NOT NULL DEFAULT 0,"
        " duration_days INTEGER NOT NULL DEFAULT -1,"
        " expires_at INTEGER NOT NULL DEFAULT 0,"
        " created_at INTEGER NOT NULL,"
        " updated_at INTEGER NOT NULL);"
        "CREATE INDEX robots_project ON robots(project_id);"
        "CREATE TABLE robot_permissions ("
        " robot_id INTEGER NOT NULL REFERENCES robots(id) ON DELETE CASCADE,"
        " namespace TEXT NOT NULL,"
        " actions INTEGER NOT NULL,"
        " PRIMARY KEY (robot_id, namespace)) WITHOUT ROWID;"
        "CREATE INDEX robot_permissions_ns ON robot_permissions(namespace);"
        "CREATE TABLE project_tombstones ("
        " name TEXT PRIMARY KEY,"
        " deleted_at INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TRIGGER projects_owner_member AFTER INSERT ON projects"
        " WHEN NEW.owner_id IS NOT NULL AND EXISTS (SELECT 1 FROM users WHERE id = NEW.owner_id)"
        " BEGIN"
        " INSERT OR IGNORE INTO project_members(project_id, user_id, role, created_at, updated_at)"
        " VALUES (NEW.id, NEW.owner_id, 1, NEW.created_at, NEW.created_at);"
        " END;"
        "CREATE TRIGGER projects_recreated AFTER INSERT ON projects"
        " WHEN EXISTS (SELECT 1 FROM project_tombstones t"
        " WHERE t.name = NEW.name AND t.deleted_at >= NEW.created_at)"
        " BEGIN"
        " UPDATE projects SET created_at = (SELECT deleted_at + 1 FROM project_tombstones"
        " WHERE name = NEW.name), updated_at = (SELECT deleted_at + 1 FROM project_tombstones"
        " WHERE name = NEW.name) WHERE id = NEW.id;"
        " END;"
        "CREATE TRIGGER projects_deleted AFTER DELETE ON projects"
        " BEGIN"
        " INSERT OR REPLACE INTO project_tombstones(name, deleted_at)"
        " VALUES (OLD.name, MAX(CAST(strftime('%s', 'now') AS INTEGER), OLD.created_at));"
        " END;";

/* Migration 3: the audit log (storage/audit.c). project_id has no foreign key on purpose: the
 * history of a project outlives the project. Rows are read newest first, filtered by time, user
 * or project. */
static const char MIGRATION_3[] =
        "CREATE TABLE audit_log ("
        " id INTEGER PRIMARY KEY,"
        " op_time INTEGER NOT NULL,"
        " username TEXT NOT NULL,"
        " operation TEXT NOT NULL,"
        " resource_type TEXT NOT NULL,"
        " resource TEXT NOT NULL,"
        " project_id INTEGER,"
        " client TEXT NOT NULL DEFAULT '',"
        " result INTEGER NOT NULL DEFAULT 1);"
        "CREATE INDEX audit_log_time ON audit_log(op_time);"
        "CREATE INDEX audit_log_project ON audit_log(project_id, id) WHERE project_id IS NOT NULL;"
        "CREATE INDEX audit_log_user ON audit_log(username, id);";

/* Migration 4: the garbage collection history (storage/gc_jobs.c), newest first by id. */
static const char MIGRATION_4[] = "CREATE TABLE gc_jobs ("
                                  " id INTEGER PRIMARY KEY,"
                                  " dry_run INTEGER NOT NULL,"
                                  " status INTEGER NOT NULL,"
                                  " created_at INTEGER NOT NULL,"
                                  " updated_at INTEGER NOT NULL,"
                                  " log TEXT NOT NULL DEFAULT '');";

/* Migration 5: the pull history (storage/pulls.c). One row per bucket (granularity 3600 or
 * 86400 seconds, bucket = its start) and key: repository, digest, tag ('' by digest), who
 * (kind anonymous|user|robot and name), client family, image pull or child fetch. Repository
 * and project are names, not ids, on purpose: the history outlives a deleted repository, as
 * audit_log's does. repositories.push_count counts manifest pushes (for /metrics). */
static const char MIGRATION_5[] =
        "ALTER TABLE repositories ADD COLUMN push_count INTEGER NOT NULL DEFAULT 0;"
        "CREATE TABLE pull_buckets ("
        " granularity INTEGER NOT NULL,"
        " bucket INTEGER NOT NULL,"
        " project TEXT NOT NULL,"
        " repo TEXT NOT NULL,"
        " digest TEXT NOT NULL,"
        " tag TEXT NOT NULL,"
        " who_kind TEXT NOT NULL,"
        " who TEXT NOT NULL,"
        " client TEXT NOT NULL,"
        " child INTEGER NOT NULL,"
        " count INTEGER NOT NULL,"
        " last INTEGER NOT NULL,"
        " PRIMARY KEY (granularity, repo, bucket, digest, tag, who_kind, who, client, child))"
        " WITHOUT ROWID;"
        "CREATE INDEX pull_buckets_project ON pull_buckets(granularity, project, bucket);"
        "CREATE INDEX pull_buckets_time ON pull_buckets(granularity, bucket);";

/* Migration 6: the shared state (storage/sqlite_state.c): small records every replica shares,
 * by namespace and key; expires 0 = never, the partial index serves the purge. */
static const char MIGRATION_6[] = "CREATE TABLE state ("
                                  " ns TEXT NOT NULL,"
                                  " key TEXT NOT NULL,"
                                  " val BLOB NOT NULL,"
                                  " version INTEGER NOT NULL,"
                                  " expires INTEGER NOT NULL DEFAULT 0,"
                                  " PRIMARY KEY (ns, key)) WITHOUT ROWID;"
                                  "CREATE INDEX state_expires ON state(expires) WHERE expires > 0;";

static const char *const migrations[] = {MIGRATION_1, MIGRATION_2, MIGRATION_3,
                                         MIGRATION_4, MIGRATION_5, MIGRATION_6};
#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char SQL_VERSION[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
static const char SQL_MIGRATION_DONE[] =
        "INSERT INTO schema_migrations(version, applied_at) VALUES (?1, ?2)";

/* ---- version and migrations ---- */

static int version_read(struct sq_conn *c, int *out, struct berr *err)
{
    sqlite3_stmt *st;
    int64_t v;
    int rc;

    *out = 0;
    rc = sq_stmt(&st, c, SQ_Q_VERSION, SQL_VERSION, err);
    if (rc < 0)
        return rc;
    rc = sq_step(c, st, err);
    if (rc < 0)
        return rc;
    v = rc == 1 ? (int64_t)sqlite3_column_int64(st, 0) : 0;
    (void)sqlite3_reset(st);
    if (v < 0 || v > INT_MAX) {
        log_msg(LOG_ERROR, "meta: schema version %lld is invalid", (long long)v);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    *out = (int)v;
    return 0;
}

static int migrate_one(struct sq_conn *c, int version, struct berr *err)
{
    sqlite3_stmt *st = NULL;
    char *emsg = NULL;
    int cur;
    int rc;

    rc = sq_tx_begin(c, err);
    if (rc < 0)
        return rc;
    rc = version_read(c, &cur, err);
    if (rc < 0 || cur >= version)
        goto out; /* another process got here first */
    if (sqlite3_exec(c->db, migrations[version - 1], NULL, NULL, &emsg) != SQLITE_OK) {
        log_msg(LOG_ERROR, "meta: migration %d failed: %s", version,
                emsg != NULL ? emsg : "out of memory");
        sqlite3_free(emsg);
        rc = berr_set(err, BERR_INTERNAL, "database migration failed");
        goto out;
    }
    if (sqlite3_prepare_v2(c->db, SQL_MIGRATION_DONE, -1, &st, NULL) != SQLITE_OK) {
        rc = sq_fail(c, "prepare", err);
        goto out;
    }
    rc = sq_bind_i64(c, st, 1, version, err);
    if (rc == 0)
        rc = sq_bind_i64(c, st, 2, now_s(), err);
    if (rc == 0)
        rc = sq_exec(c, st, err);
    if (rc == 0)
        log_msg(LOG_INFO, "meta: applied schema migration %d", version);
out:
    (void)sqlite3_finalize(st); /* NULL is a no-op; errors were reported */
    return sq_tx_end(c, rc, err);
}

static int migrate(struct sq_conn *c, struct berr *err)
{
    int cur;
    int v;

    if (sq_exec_sql(c, MIGRATION_TABLE_SQL, err) < 0)
        return -1;
    if (version_read(c, &cur, err) < 0)
        return -1;
    if (meta_ops_schema_check(cur, MIGRATION_COUNT, err) < 0)
        return -1;
    for (v = cur + 1; v <= MIGRATION_COUNT; v++)
        if (migrate_one(c, v, err) < 0)
            return -1;
    return 0;
}

static int ensure_library(struct sq_conn *c, struct berr *err)
{
    int64_t id;
    int rc;

    rc = sq_tx_begin(c, err);
    if (rc < 0)
        return rc;
    /* private (anonymous pull is opt-in), no owner, no limit; an existing one is kept */
    rc = sq_project_insert(c, "library", false, 0, -1, &id, err);
    return sq_tx_end(c, rc < 0 ? -1 : 0, err);
}

int sq_schema_migrate(struct sq_conn *c, struct berr *err)
{
    if (migrate(c, err) < 0)
        return -1;
    return ensure_library(c, err);
}

int sq_schema_version(struct meta *m, int *out, struct berr *err)
{
    struct sq_conn *c = sq_conn_get(m);
    int rc = version_read(c, out, err);

    sq_conn_put(c);
    return rc;
}

int sq_schema_latest(void)
{
    return MIGRATION_COUNT;
}
