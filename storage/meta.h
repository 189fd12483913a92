/* meta.h - the metadata interface: every question Berth asks of its database, grouped by
 * entity, with one implementation behind it per backend (SQLite today, PostgreSQL later).
 *
 * Entities and the files that answer for them (public meta_* function -> ops -> backend):
 *   projects      meta_project.c   sqlite_project.c   (members and robot grants of a deleted
 *                                                      project go with it)
 *   users         meta_user.c      sqlite_user.c
 *   members       meta_member.c    sqlite_member.c    (a user's role in a project)
 *   robots        meta_robot.c     sqlite_robot.c     (robot accounts and their permissions)
 *   repositories  meta_repo.c      sqlite_repo.c      (lists, description, delete, statistics)
 *   manifests     meta_manifest.c  sqlite_manifest.c  (manifests, tags, referrers, catalog,
 *                                                      artifacts as the management API sees them)
 *   blobs         meta_blob.c      sqlite_blob.c      (blob rows, repository links, gc queries)
 *   quotas        quota.c          sqlite_quota.c     (quota.h)
 *   audit log     audit.c          sqlite_audit.c     (audit.h; the queue stays in audit.c)
 *   pull counts   pulls.c          sqlite_pulls.c     (pulls.h; the counters stay in pulls.c)
 *   shared state  meta_state.c     sqlite_state.c     (small records every replica shares: web
 *                                                      sessions, login throttling, token keys)
 *   schema        meta.c           sqlite_schema.c    (numbered migrations)
 * Each question has one function: one fetch per entity (by id and by name share one row
 * reader), one way to set a password, one INSERT per table.
 *
 * The ops table (storage/meta_ops.h) is what a backend implements: struct meta_ops holds one
 * struct of function pointers per entity, with the same arguments as the public calls. A struct
 * meta starts with the ops pointer; the backend's own handle embeds it as its first member.
 * meta_open opens the PostgreSQL backend (pg_meta.h, storage/pg*.c) for a postgres:// or
 * postgresql:// location and the SQLite backend (sqlite_meta.h) otherwise; the public functions
 * only dispatch. No
 * code outside storage/ sees a SQL type, SQL text or a connection. A second backend mirrors the
 * SQLite one: its own <backend>_<entity>.c files with static functions, one ops table per
 * entity, a <backend>_ops.c gathering them and a way in that meta_open picks; meta_ops_test
 * shows how to check that every slot is filled.
 *
 * Rules every backend keeps:
 *   1. Connections come from a fixed pool (pool_size at meta_open). Every call borrows one for
 *      its own duration and gives it back before returning, so callers never hold one across a
 *      network wait; a call waits while all are borrowed.
 *   2. A call that writes runs in one write transaction that takes the write lock first
 *      (SQLite: BEGIN IMMEDIATE, after the process-wide write mutex; PostgreSQL: READ COMMITTED
 *      with a row lock on what the check is about, see pg_int.h): check-then-update (moving a
 *      tag, the quota check and the link, deleting a project only while it is empty) is atomic,
 *      also across processes sharing the database.
 *   3. Names reach the database only as parsed types (struct repo_name, struct digest, struct
 *      tag) or checked strings, as bound parameters of static SQL text.
 *   4. Callbacks (meta_str_fn, meta_referrer_fn, meta_digest_fn) run with no connection held:
 *      rows are copied out in batches first, so a callback may call meta_* itself (gc forgets
 *      as it walks, mount checks each candidate). A non-zero return stops the walk and is
 *      returned as is, without touching err. A list that changes during the walk may show some
 *      rows from before the change and some from after; each row is shown at most once.
 *   5. Arguments are checked before the database is touched, with the error codes below: name
 *      grammar, lengths and roles by the public calls (meta_<entity>.c), before the ops, so a
 *      backend receives checked arguments; sort keys by the backend, whose lists map them to
 *      its own ORDER BY.
 * Thread-safe.
 *
 * Error codes: an unknown project by name -> BERR_NAME_UNKNOWN ("project X not found"), by id
 * -> BERR_NOT_FOUND; an unknown repository -> BERR_NAME_UNKNOWN (registry calls) or
 * BERR_NOT_FOUND (management calls); unknown manifest or tag -> BERR_MANIFEST_UNKNOWN; a blob not
 * linked to the repository -> BERR_BLOB_UNKNOWN; an unknown user, member or robot ->
 * BERR_NOT_FOUND; a name or membership that exists already -> BERR_CONFLICT; arguments out of
 * range (role outside 1..5, empty name, too long text, bad sort key) -> BERR_BAD_REQUEST;
 * database failures -> BERR_INTERNAL (logged, never shown).
 *
 * Lists fill caller-owned arrays of at most `cap` rows starting at `offset` (after filtering and
 * sorting) and set *n to the rows written and *total to the rows matching the filter. */
#ifndef BERTH_STORAGE_META_H
#define BERTH_STORAGE_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"
#include "common/digest.h"

#define META_MEDIA_TYPE_MAX 255
#define META_TEXT_MAX 255       /* email, realname, comment, description: bytes */
#define META_ROBOT_PERMS_MAX 64 /* permission entries of one robot */
#define META_LIST_MAX 100       /* largest page a list call accepts */
#define META_REPO_DESC_MAX 2048 /* bytes of a repository description */

/* The replica cache window: how long a process may answer from what it read of the shared
 * database before it reads it again, so a change made through one replica is seen by every
 * other one over the same database within this time. Used by a cached login, which rereads its
 * user or robot row at most this often (auth/authn.c invariant 1), and by the shared login
 * throttle's "the store held nothing for this pair" hint (auth/throttle.c). */
#define META_REPLICA_WINDOW_MS 1000

/* Harbor's role ids (anchors 1c). */
#define ROLE_PROJECT_ADMIN 1
#define ROLE_DEVELOPER 2
#define ROLE_GUEST 3
#define ROLE_MAINTAINER 4
#define ROLE_LIMITED_GUEST 5

/* meta_role_ok: role is one of the five above. */
static inline bool meta_role_ok(int64_t role)
{
    return role >= ROLE_PROJECT_ADMIN && role <= ROLE_LIMITED_GUEST;
}

/* Robot permission actions on repositories of a project. */
#define META_ACT_PULL 1u
#define META_ACT_PUSH 2u
#define META_ACT_DELETE 4u
#define META_ACT_ALL (META_ACT_PULL | META_ACT_PUSH | META_ACT_DELETE)

struct meta;

/* Callbacks of the walks below (rule 4). */
typedef int (*meta_str_fn)(const char *s, void *ctx);
typedef int (*meta_digest_fn)(const struct digest *d, void *ctx);
/* A step on a blob file that must happen inside the write transaction of the row it belongs to
 * (placing a file before its row is inserted, removing one after its row is deleted), so no
 * other writer can come between the file and the row. Returns 0 (done; a drop step may return 1
 * for "removed" and 0 for "kept"), or -1 with err set: the transaction is rolled back. */
typedef int (*meta_file_fn)(void *ctx, struct berr *err);

/* A list filter and page. name: NULL = any; fuzzy: name is a substring, else exact. sort: NULL
 * or "" = by id; otherwise one of the keys a list documents, "-key" for descending. */
struct meta_list_q {
    const char *name;
    bool fuzzy;
    const char *sort;
    int64_t offset;
    size_t limit; /* rows wanted, <= cap of the output array */
};

/* meta_open opens (creating) the database at path - a SQLite file (WAL, foreign_keys, busy
 * timeout), or a PostgreSQL database when path is a postgres:// or postgresql:// URL (its
 * password never logged) - on pool_size connections (1..256; a call waits while all are
 * borrowed), runs the numbered migrations up to the newest (on PostgreSQL under an advisory
 * lock, so replicas starting together apply each once), and makes sure the project `library` exists (private: anonymous
 * pull is opt-in; PUT /api/v2.0/projects/library {"metadata":{"public":"true"}} opens it). A database
 * migrated by a newer binary is refused (BERR_INTERNAL, the message names both versions).
 * *out is new (meta_close), NULL on failure. meta_close(NULL) is a no-op; no call may be
 * running. */
int meta_open(struct meta **out, const char *path, unsigned pool_size, struct berr *err);
void meta_close(struct meta *m);
/* meta_cache_enable gives m a cache of resolved manifests (storage/mcache.h) of `entries`
 * references (0: none), tag-keyed ones kept tag_ttl_ms (0: tags never cached), replacing any
 * earlier one; call it before serving, with no call running. Without it every resolve reads the
 * database. */
int meta_cache_enable(struct meta *m, size_t entries, unsigned tag_ttl_ms, struct berr *err);
/* meta_schema_version: the migration number the database is at. */
int meta_schema_version(struct meta *m, int *out, struct berr *err);
/* meta_schema_latest: the newest migration number this binary knows. */
int meta_schema_latest(void);

/* ---- projects ---- */
struct meta_project {
    int64_t id;
    char name[REPO_NAME_MAX + 1];
    bool public;
    int64_t created_at;
};
struct meta_project_info {
    struct meta_project p; /* id, name, public, created_at */
    int64_t owner_id;      /* 0 = none */
    char owner_name[256];  /* "" when no owner or the owner was deleted */
    int64_t updated_at;
    int64_t repo_count;    /* repositories holding content: meta_project_list fills it, the
                              getters leave 0 (it costs a walk of the project's repositories;
                              meta_repo_count asks for one project) */
    int64_t storage_limit; /* bytes, -1 = unlimited */
};
/* meta_project_get by name (BERR_NAME_UNKNOWN "project NAME not found", also for a name that is
 * not one valid name component) and meta_project_get_by_id (BERR_NOT_FOUND "project ID not
 * found"): one row, read by one reader; cheap (the /v2/ authorization path), so repo_count is 0. */
/* meta_project_get_cached: meta_project_get for the /v2/ authorization path, possibly from the
 * cache (as meta_member_role_cached). */
int meta_project_get_cached(struct meta *m, const char *name, struct meta_project_info *out,
                            struct berr *err);
int meta_project_get(struct meta *m, const char *name, struct meta_project_info *out,
                     struct berr *err);
int meta_project_get_by_id(struct meta *m, int64_t id, struct meta_project_info *out,
                           struct berr *err);
/* A project list: q as above (sort keys: name, creation_time, update_time, project_id), plus
 * who is asking. */
struct meta_project_q {
    struct meta_list_q l;
    int public_only;         /* -1 any, 0 private only, 1 public only (Harbor's `public`) */
    bool all;                /* sysadmin: every project */
    int64_t viewer_user_id;  /* when !all: public projects plus those this user (> 0) is a
                               member of; 0 = anonymous: public only */
    bool member_only;        /* with viewer_user_id: only projects the viewer is a member of */
    int64_t viewer_robot_id; /* > 0: also the projects this robot has a grant on */
};
int meta_project_list(struct meta *m, const struct meta_project_q *q, struct meta_project_info *out,
                      size_t cap, size_t *n, int64_t *total, struct berr *err);
/* meta_project_create: BERR_CONFLICT when it exists, BERR_NAME_INVALID when name is not one
 * name component, BERR_BAD_REQUEST when storage_limit < -1 (-1 = none). owner_id <= 0 means no
 * owner; when owner_id > 0 the owner becomes its projectAdmin member in the same transaction (a
 * schema trigger adds the member). A project re-created under the name of a deleted one gets
 * created_at later than the deletion, so tokens issued for the old one are older than the new
 * one. *id may be NULL. */
int meta_project_create(struct meta *m, const char *name, bool public, int64_t owner_id,
                        int64_t storage_limit, int64_t *id, struct berr *err);
/* meta_project_update sets public (when set_public) and storage_limit (when set_limit).
 * BERR_NOT_FOUND when unknown. */
int meta_project_update(struct meta *m, int64_t id, bool set_public, bool public, bool set_limit,
                        int64_t storage_limit, struct berr *err);
/* meta_project_delete refuses (BERR_CONFLICT) while a repository of the project holds a manifest
 * or a blob; otherwise deletes it with its members, empty repositories and robot permissions on
 * it (project-level robots of it are deleted). BERR_NOT_FOUND when unknown. */
int meta_project_delete(struct meta *m, int64_t id, struct berr *err);

/* ---- users ---- */
struct meta_user {
    int64_t id;
    char name[256];
    char pw_hash[256]; /* "alg$params$salt$hash", see auth/password.h */
    bool sysadmin;
    int64_t created_at;
};
struct meta_user_info {
    struct meta_user u; /* id, name, pw_hash, sysadmin, created_at */
    char email[META_TEXT_MAX + 1];
    char realname[META_TEXT_MAX + 1];
    char comment[META_TEXT_MAX + 1];
    int64_t updated_at;
};
/* Names and hashes are 1..255 bytes. meta_user_get by name, meta_user_get_by_id and
 * meta_user_info_get (the same row with the profile fields) by id; BERR_NOT_FOUND when unknown.
 * All three read the row with one reader. */
int meta_user_get(struct meta *m, const char *name, struct meta_user *out, struct berr *err);
int meta_user_get_by_id(struct meta *m, int64_t id, struct meta_user *out, struct berr *err);
int meta_user_info_get(struct meta *m, int64_t id, struct meta_user_info *out, struct berr *err);
/* meta_user_list filters by name (q->name on username), sort keys: username, creation_time,
 * update_time, user_id. Password hashes are not copied (pw_hash is ""). */
int meta_user_list(struct meta *m, const struct meta_list_q *q, struct meta_user_info *out,
                   size_t cap, size_t *n, int64_t *total, struct berr *err);
/* meta_user_create; BERR_CONFLICT when the name exists, BERR_BAD_REQUEST for an empty or
 * too long name. id may be NULL. */
int meta_user_create(struct meta *m, const char *name, const char *pw_hash, bool sysadmin,
                     int64_t *id, struct berr *err);
/* meta_user_update sets email, realname and comment (NULL leaves a field as is).
 * BERR_NOT_FOUND when unknown. */
int meta_user_update(struct meta *m, int64_t id, const char *email, const char *realname,
                     const char *comment, struct berr *err);
/* meta_user_set_sysadmin; BERR_NOT_FOUND when unknown. */
int meta_user_set_sysadmin(struct meta *m, int64_t id, bool sysadmin, struct berr *err);
/* meta_user_set_password stores a new hash (the one way to set a password); BERR_NOT_FOUND when
 * unknown; a hash that is empty or longer than 255 bytes is BERR_INTERNAL (hashes come from
 * password_hash(), never from a client). */
int meta_user_set_password(struct meta *m, int64_t id, const char *pw_hash, struct berr *err);
/* meta_user_delete removes the user and its memberships; projects it owns keep owner_id.
 * BERR_NOT_FOUND when unknown. */
int meta_user_delete(struct meta *m, int64_t id, struct berr *err);

/* ---- members ---- */
struct meta_member {
    int64_t id; /* member id (not the user id) */
    int64_t project_id;
    int64_t user_id;
    char user_name[256];
    int role;
    int64_t created_at;
    int64_t updated_at;
};
/* meta_member_role: *role = 0 when the user is not a member of the project.
 * meta_member_role_cached: the same, possibly from the cache of the /v2/ authorization path
 * (storage/mcache.h: exact for this process's writes; another process's change shows within
 * manifest_cache_tag_ttl_ms). */
int meta_member_role_cached(struct meta *m, int64_t project_id, int64_t user_id, int *role,
                            struct berr *err);
int meta_member_role(struct meta *m, int64_t project_id, int64_t user_id, int *role,
                     struct berr *err);
/* meta_member_add: BERR_NOT_FOUND when the project or user is unknown, BERR_CONFLICT when the
 * user is a member already, BERR_BAD_REQUEST for a role outside 1..5. *id may be NULL. */
int meta_member_add(struct meta *m, int64_t project_id, int64_t user_id, int role, int64_t *id,
                    struct berr *err);
/* meta_member_get / _set_role / _delete by member id within project_id: BERR_NOT_FOUND when
 * that member does not belong to that project. */
int meta_member_get(struct meta *m, int64_t project_id, int64_t member_id, struct meta_member *out,
                    struct berr *err);
int meta_member_set_role(struct meta *m, int64_t project_id, int64_t member_id, int role,
                         struct berr *err);
int meta_member_delete(struct meta *m, int64_t project_id, int64_t member_id, struct berr *err);
/* meta_member_list: q->name filters entity names; sort is by member id. */
int meta_member_list(struct meta *m, int64_t project_id, const struct meta_list_q *q,
                     struct meta_member *out, size_t cap, size_t *n, int64_t *total,
                     struct berr *err);

/* ---- robots ---- */
struct meta_robot {
    int64_t id;
    char name[256];        /* full name incl. prefix, e.g. "robot$proj+ci" */
    char secret_hash[256]; /* password_hash() of the secret */
    int64_t project_id;    /* 0 = system level */
    bool disabled;
    int64_t expires_at; /* 0 = never */
    int64_t created_at;
    /* fields below were added after the first version of this header */
    int64_t duration_days; /* -1 = never expires */
    char description[META_TEXT_MAX + 1];
    int64_t updated_at;
};
struct meta_robot_perm {
    char ns[REPO_NAME_MAX + 1]; /* project name or "*" (every project) */
    unsigned actions;           /* META_ACT_* */
};
/* meta_robot_get by full name: BERR_NOT_FOUND when unknown. */
int meta_robot_get(struct meta *m, const char *name, struct meta_robot *out, struct berr *err);
int meta_robot_get_by_id(struct meta *m, int64_t id, struct meta_robot *out, struct berr *err);
/* meta_robot_actions: bitmask of META_ACT_* granted to robot_id on project (an entry on "*"
 * applies to every project). 0 when none; an unknown robot has none. */
int meta_robot_actions(struct meta *m, int64_t robot_id, const char *project, unsigned *actions,
                       struct berr *err);
/* meta_robot_create inserts r (id, created_at, updated_at ignored) with its permissions.
 * BERR_CONFLICT when the name exists, BERR_NOT_FOUND when r->project_id is unknown,
 * BERR_BAD_REQUEST when nperms > META_ROBOT_PERMS_MAX. *id may be NULL. */
int meta_robot_create(struct meta *m, const struct meta_robot *r,
                      const struct meta_robot_perm *perms, size_t nperms, int64_t *id,
                      struct berr *err);
/* meta_robot_perms copies up to cap permission entries of robot id, in namespace order. */
int meta_robot_perms(struct meta *m, int64_t id, struct meta_robot_perm *out, size_t cap, size_t *n,
                     struct berr *err);
/* meta_robot_update sets description, disabled, duration_days and expires_at from r, and
 * replaces the permissions when perms != NULL. BERR_NOT_FOUND when unknown. */
int meta_robot_update(struct meta *m, int64_t id, const struct meta_robot *r,
                      const struct meta_robot_perm *perms, size_t nperms, struct berr *err);
/* meta_robot_set_secret stores a new secret hash. BERR_NOT_FOUND when unknown. */
int meta_robot_set_secret(struct meta *m, int64_t id, const char *secret_hash, struct berr *err);
int meta_robot_delete(struct meta *m, int64_t id, struct berr *err);
/* A robot list: q->name filters full names; project_id > 0 limits to that project's
 * project-level robots, 0 = all, -1 = system level only. sort: name, creation_time, id. */
int meta_robot_list(struct meta *m, const struct meta_list_q *q, int64_t project_id,
                    struct meta_robot *out, size_t cap, size_t *n, int64_t *total,
                    struct berr *err);

/* ---- repositories ---- */
struct meta_repo_info {
    int64_t id;
    int64_t project_id;
    bool project_public;
    char name[REPO_NAME_MAX + 1]; /* "project/repo" */
    char description[META_REPO_DESC_MAX + 1];
    int64_t artifact_count; /* top-level artifacts */
    int64_t pull_count;
    int64_t pull_time;  /* latest pull of any of its manifests, 0 = never */
    int64_t push_count; /* manifest pushes */
    int64_t created_at;
    int64_t updated_at;
};

/* A repository list. l.name filters the full name (fuzzy: substring); sort keys: name,
 * creation_time, update_time, pull_count, pull_time (its manifests' latest), artifact_count,
 * id ("-" prefix descending; default -creation_time then id). Visibility: all (sysadmin), else
 * public projects, projects viewer_user_id (> 0) is a member of, and projects viewer_robot_id
 * (> 0) may pull from. */
struct meta_repo_q {
    struct meta_list_q l;
    int64_t project_id; /* > 0: that project only */
    bool all;
    int64_t viewer_user_id;
    int64_t viewer_robot_id;
};
int meta_repo_list(struct meta *m, const struct meta_repo_q *q, struct meta_repo_info *out,
                   size_t cap, size_t *n, int64_t *total, struct berr *err);
/* meta_repo_count: *n = repositories of project_id holding a manifest or a blob (as lists show
 * them); 0 for an unknown project. */
int meta_repo_count(struct meta *m, int64_t project_id, int64_t *n, struct berr *err);
/* meta_repo_info_get: BERR_NOT_FOUND when repo does not exist or holds nothing. */
int meta_repo_info_get(struct meta *m, const struct repo_name *repo, struct meta_repo_info *out,
                       struct berr *err);
/* meta_repo_set_description replaces the description (<= META_REPO_DESC_MAX bytes). */
int meta_repo_set_description(struct meta *m, const struct repo_name *repo, const char *desc,
                              struct berr *err);
/* meta_repo_delete removes the repository with every manifest, tag, reference and blob link of
 * it (files stay until gc). BERR_NOT_FOUND when it does not exist or holds nothing. */
int meta_repo_delete(struct meta *m, const struct repo_name *repo, struct berr *err);

/* ---- statistics ---- */
struct meta_stats {
    int64_t private_project_count;
    int64_t public_project_count;
    int64_t total_project_count;
    int64_t private_repo_count;
    int64_t public_repo_count;
    int64_t total_repo_count;
    int64_t total_storage_consumption; /* bytes of every blob row */
    int64_t total_blob_count;          /* blob rows */
};
/* meta_stats_get counts public projects and repositories, and the private ones visible to the
 * viewer (all: every one; else those viewer_user_id is a member of). */
int meta_stats_get(struct meta *m, bool all, int64_t viewer_user_id, struct meta_stats *out,
                   struct berr *err);

/* ---- manifests and tags ---- */
struct meta_child {
    struct digest digest;
    char media_type[META_MEDIA_TYPE_MAX + 1];
    uint64_t size;
    char os[32];
    char arch[32];
    char variant[32];
};

struct meta_manifest_in {
    struct digest digest; /* of the exact bytes, already in the blob store */
    const char *media_type;
    uint64_t size;
    const char *artifact_type;    /* NULL when none */
    const char *annotations_json; /* the manifest's "annotations" object as JSON text, or NULL */
    const struct digest *subject; /* NULL when none */
    const struct digest *blobs;   /* config + layers (image manifests) */
    size_t nblobs;
    const struct meta_child *children; /* index entries */
    size_t nchildren;
    const struct tag *tags; /* tags to point at this manifest (0..n) */
    size_t ntags;
};
/* meta_manifest_put in one transaction: every blob must be linked to repo
 * (BERR_MANIFEST_BLOB_UNKNOWN naming the first missing one), every child must be a manifest of repo
 * (BERR_MANIFEST_UNKNOWN), then the manifest row is inserted (idempotent for the same digest), its
 * own digest linked as a blob of repo, references recorded, and each tag created or moved. */
int meta_manifest_put(struct meta *m, const struct repo_name *repo,
                      const struct meta_manifest_in *in, struct berr *err);

struct meta_manifest {
    struct digest digest;
    char media_type[META_MEDIA_TYPE_MAX + 1];
    uint64_t size;
    int64_t pushed_at;
    bool is_child; /* resolved by digest and listed by an index of the repository */
};
/* meta_manifest_resolve a tag or digest in repo. BERR_NAME_UNKNOWN when the repository does not
 * exist, BERR_MANIFEST_UNKNOWN when the reference is unknown. */
int meta_manifest_resolve(struct meta *m, const struct repo_name *repo, const struct reference *ref,
                          struct meta_manifest *out, struct berr *err);
/* meta_manifest_delete removes the manifest d from repo with all its tags and references, and
 * the link of its own digest to repo (so gc may take it). Indexes listing d and referrers whose
 * subject is d stay. BERR_MANIFEST_UNKNOWN when absent. The blob file stays until gc. */
int meta_manifest_delete(struct meta *m, const struct repo_name *repo, const struct digest *d,
                         struct berr *err);
/* meta_tag_delete removes one tag; the manifest stays. BERR_MANIFEST_UNKNOWN when absent. */
int meta_tag_delete(struct meta *m, const struct repo_name *repo, const struct tag *t,
                    struct berr *err);
/* meta_tags_list calls fn for up to n tags of repo in lexical (byte) order strictly after
 * `last` (NULL or "" = from the start). *more is set when tags remain after the last one given
 * (with n == 0: whether any remain). BERR_NAME_UNKNOWN when the repository does not exist. */
int meta_tags_list(struct meta *m, const struct repo_name *repo, const char *last, unsigned n,
                   meta_str_fn fn, void *ctx, bool *more, struct berr *err);
/* meta_catalog: the same over repository names (repositories with at least one manifest or
 * blob). */
int meta_catalog(struct meta *m, const char *last, unsigned n, meta_str_fn fn, void *ctx,
                 bool *more, struct berr *err);

struct meta_referrer {
    struct digest digest;
    const char *media_type;
    uint64_t size;
    const char *artifact_type;    /* may be "" */
    const char *annotations_json; /* may be NULL */
};
typedef int (*meta_referrer_fn)(const struct meta_referrer *r, void *ctx);
/* meta_referrers calls fn for every manifest of repo whose subject is d, in digest order,
 * filtered by artifact_type when not NULL ("" matches those without one). Strings are borrowed
 * for the duration of the call of fn. BERR_NAME_UNKNOWN when the repository does not exist. */
int meta_referrers(struct meta *m, const struct repo_name *repo, const struct digest *d,
                   const char *artifact_type, meta_referrer_fn fn, void *ctx, struct berr *err);

/* ---- artifacts: manifests as the management API shows them ---- */
struct meta_artifact {
    int64_t id;
    int64_t repo_id;
    int64_t project_id;
    char repo_name[REPO_NAME_MAX + 1];
    struct digest digest;
    char media_type[META_MEDIA_TYPE_MAX + 1];    /* of the manifest */
    char artifact_type[META_MEDIA_TYPE_MAX + 1]; /* artifactType or config media type; "" */
    uint64_t manifest_size;
    uint64_t size; /* see "size" above */
    int64_t pushed_at;
    int64_t pull_time;
    int64_t pull_count;
    bool is_index; /* lists children */
};

/* An artifact list of one repository (repo_id > 0) or of a whole project (repo_id == 0,
 * project_id > 0). tagged: -1 any, 1 only tagged, 0 only untagged. tag (may be NULL): only
 * artifacts with a tag equal to it (tag_fuzzy: containing it). digest (may be NULL): only that
 * digest. Sort keys: push_time, pull_time, pull_count, id (default -push_time, then -id). */
struct meta_artifact_q {
    struct meta_list_q l;
    int64_t repo_id;
    int64_t project_id;
    int tagged;
    const char *tag;
    bool tag_fuzzy;
    const struct digest *digest;
};
int meta_artifact_list(struct meta *m, const struct meta_artifact_q *q, struct meta_artifact *out,
                       size_t cap, size_t *n, int64_t *total, struct berr *err);
/* meta_artifact_get: the manifest d of repository repo_id (top-level or not). */
int meta_artifact_get(struct meta *m, int64_t repo_id, const struct digest *d,
                      struct meta_artifact *out, struct berr *err);

struct meta_tag_info {
    int64_t repo_id;
    int64_t artifact_id;
    char name[TAG_MAX + 1];
    int64_t pushed_at;
    int64_t pull_time;
    int64_t pull_count;
};
/* meta_artifact_tags lists the tags of artifact_id; q->name filters them (fuzzy: substring);
 * sort keys: name (default), push_time, pull_time. */
int meta_artifact_tags(struct meta *m, int64_t artifact_id, const struct meta_list_q *q,
                       struct meta_tag_info *out, size_t cap, size_t *n, int64_t *total,
                       struct berr *err);

struct meta_artifact_ref {
    struct digest child;
    int64_t child_id; /* 0 when the child is not in the repository */
    char media_type[META_MEDIA_TYPE_MAX + 1];
    uint64_t size;
    char os[32];
    char arch[32];
    char variant[32];
};
/* meta_artifact_refs copies up to cap children of index artifact_id, in manifest order. */
int meta_artifact_refs(struct meta *m, int64_t artifact_id, struct meta_artifact_ref *out,
                       size_t cap, size_t *n, struct berr *err);

/* meta_tag_create points a new tag of repository repo_id at artifact_id. BERR_CONFLICT when the
 * repository has that tag already, BERR_NOT_FOUND when the artifact is not in the repository. */
int meta_tag_create(struct meta *m, int64_t repo_id, int64_t artifact_id, const struct tag *t,
                    struct berr *err);
/* meta_tag_detach deletes tag t when it points at artifact_id; BERR_NOT_FOUND otherwise. */
int meta_tag_detach(struct meta *m, int64_t artifact_id, const struct tag *t, struct berr *err);

/* ---- blobs and repository links ---- */
/* meta_blob_link records that blob d (size bytes, file already in the blob store) belongs to repo:
 * inserts the blob row if new, creates the repository row if new (its project must exist:
 * BERR_NAME_UNKNOWN otherwise), links them. Idempotent. */
int meta_blob_link(struct meta *m, const struct repo_name *repo, const struct digest *d,
                   uint64_t size, struct berr *err);
/* meta_blob_linked: 0 and *size when repo may serve d (linked directly, or the digest of one of
 * its manifests); BERR_BLOB_UNKNOWN otherwise (also when the repository does not exist). */
int meta_blob_linked(struct meta *m, const struct repo_name *repo, const struct digest *d,
                     uint64_t *size, struct berr *err);
/* meta_blob_unlink removes the link of d to repo (the file stays until gc).
 * BERR_BLOB_UNKNOWN when not linked. From then on repo no longer serves d, even while one of
 * its manifests lists it (distribution's semantics of DELETE blob). */
int meta_blob_unlink(struct meta *m, const struct repo_name *repo, const struct digest *d,
                     struct berr *err);
/* meta_blob_size: size of a blob known anywhere in the registry; BERR_BLOB_UNKNOWN otherwise. */
int meta_blob_size(struct meta *m, const struct digest *d, uint64_t *size, struct berr *err);
/* meta_blob_repos calls fn with the name of every repository linked to d, in name order, until
 * fn returns non-zero (that value is returned). Used by mount without `from`. */
int meta_blob_repos(struct meta *m, const struct digest *d, meta_str_fn fn, void *ctx,
                    struct berr *err);
/* meta_gc_unreferenced calls fn for every blob row that no repository links, that is not the
 * digest of a manifest, that no manifest lists, and that was created before `before` (epoch
 * seconds), in digest order. */
int meta_gc_unreferenced(struct meta *m, int64_t before, meta_digest_fn fn, void *ctx,
                         struct berr *err);
/* meta_blob_forget deletes a blob row if, inside the same transaction, it is still unreferenced;
 * *forgotten says whether it was. */
int meta_blob_forget(struct meta *m, const struct digest *d, bool *forgotten, struct berr *err);
/* meta_blob_forget_drop is meta_blob_forget that, when the row went, calls drop(ctx) before the
 * transaction commits: the file is removed while no other writer can link or re-insert d
 * (a push places its file and inserts its row in one transaction too: meta_blob_link_place).
 * A failing drop rolls the row back. A crash between drop and the commit leaves an unreferenced
 * row without a file, which the start-up reconciliation (gc_reconcile) deletes. */
int meta_blob_forget_drop(struct meta *m, const struct digest *d, meta_file_fn drop, void *ctx,
                          bool *forgotten, struct berr *err);
/* meta_blob_orphan_drop calls drop(ctx) inside a write transaction when d has no blob row:
 * removing an orphan file while no push can insert its row. *dropped is set when drop returned
 * 1 (removed); with a row, drop is not called and *dropped stays false. */
int meta_blob_orphan_drop(struct meta *m, const struct digest *d, meta_file_fn drop, void *ctx,
                          bool *dropped, struct berr *err);
/* meta_gc_unlink_dangling removes repository links created before `before` whose blob no
 * manifest of that repository lists (left by deleted manifests or abandoned pushes), so the
 * blob stops counting towards the project's quota and becomes collectable. *n counts them
 * (with dry_run: counts only). */
int meta_gc_unlink_dangling(struct meta *m, int64_t before, bool dry_run, unsigned *n,
                            struct berr *err);
/* meta_blob_known: *known set when a blob row exists for d (fsck). */
int meta_blob_known(struct meta *m, const struct digest *d, bool *known, struct berr *err);
/* meta_blobs_all calls fn for every blob row (fsck). */
int meta_blobs_all(struct meta *m, meta_digest_fn fn, void *ctx, struct berr *err);

/* ---- shared state ---- */
/* Small records shared by every replica: web sessions, login throttling, token signing keys,
 * upload sessions of the S3 store. A replica keeps only caches it can lose; whatever two
 * replicas must agree on lives here. Records are (ns, key) -> val:
 *   - ns and key are printable ASCII without spaces (0x21..0x7e), ns 1..META_STATE_NS_MAX
 *     bytes, key 1..META_STATE_KEY_MAX bytes; val is up to META_STATE_VAL_MAX bytes of anything.
 *   - expires is a Unix time in seconds, 0 = never. A record whose expires is <= now (the
 *     backend's wall clock) is expired: it reads as absent (get, list, CAS, remove) and
 *     meta_state_purge deletes it.
 *   - version starts at 1 and grows by one on every put and incr. A put over an expired record
 *     continues its count (no version is handed out twice while the row exists), so a stale
 *     version can never match a record that was re-created after expiring.
 * Arguments are checked before the backend (BERR_BAD_REQUEST). Thread-safe; safe across
 * processes sharing one database: every write is one write transaction. */
#define META_STATE_ANY (-1) /* put/remove: whatever the version */
#define META_STATE_NS_MAX 32
#define META_STATE_KEY_MAX 200
#define META_STATE_VAL_MAX (64 * 1024)

/* meta_state_get: 1 found (*val malloc'd (mem_free), NUL-terminated beyond *len, *version),
 * 0 absent or expired, -1 error. On 0 and -1, *val is NULL, *len and *version 0. len and version
 * may be NULL. */
int meta_state_get(struct meta *m, const char *ns, const char *key, char **val, size_t *len,
                   int64_t *version, struct berr *err);
/* meta_state_put stores val (len bytes; val may be NULL when len is 0). expect_version
 * META_STATE_ANY: upsert; 0: create only (BERR_CONFLICT when a live record exists); N > 0:
 * replace only when the live record's version is N (BERR_CONFLICT otherwise, also when absent).
 * *new_version (may be NULL) gets the stored version, 0 on failure. */
int meta_state_put(struct meta *m, const char *ns, const char *key, const void *val, size_t len,
                   int64_t expires, int64_t expect_version, int64_t *new_version, struct berr *err);
/* meta_state_remove deletes the record when it is live and expect_version is META_STATE_ANY or
 * its version: 1 removed, 0 absent, expired or another version, -1 error. */
int meta_state_remove(struct meta *m, const char *ns, const char *key, int64_t expect_version,
                      struct berr *err);
/* meta_state_incr is an atomic counter: creates the record at delta with expires (also over
 * an expired one) or adds delta to the live one, whose expires stays (a fixed window). The
 * value is stored as decimal text; a live record holding anything else is BERR_CONFLICT, a sum
 * outside int64 BERR_BAD_REQUEST. *value (may be NULL) gets the new value, 0 on failure. */
int meta_state_incr(struct meta *m, const char *ns, const char *key, int64_t delta, int64_t expires,
                    int64_t *value, struct berr *err);
/* meta_state_list calls fn for every live record of ns, in key order (bytewise), with no
 * connection held (rule 4); val is NUL-terminated beyond len and lives during the call only. A
 * non-zero return of fn stops the walk and is returned. */
typedef int (*meta_state_fn)(const char *key, const char *val, size_t len, int64_t version,
                             int64_t expires, void *ctx);
int meta_state_list(struct meta *m, const char *ns, meta_state_fn fn, void *ctx, struct berr *err);
/* meta_state_purge deletes every record of every ns with 0 < expires <= now; *removed (may be
 * NULL) counts them. The maintenance worker runs it. */
int meta_state_purge(struct meta *m, int64_t now, int64_t *removed, struct berr *err);

#endif
