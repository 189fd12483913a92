/* meta_ident.h - identity metadata: users (beyond name and hash), projects (by id, lists,
 * updates, delete), project members with Harbor's roles, robot accounts and their permissions.
 *
 * Same rules as meta.h: every call borrows a pooled connection for its own duration, writes run
 * in one BEGIN IMMEDIATE transaction, all SQL is static text with bound parameters. Thread-safe.
 *
 * Error codes: an unknown user, project (by id), member or robot -> BERR_NOT_FOUND; a name or
 * membership that exists already -> BERR_CONFLICT; arguments out of range (role outside 1..5,
 * empty name, too long text) -> BERR_BAD_REQUEST; SQLite failures -> BERR_INTERNAL (logged).
 *
 * Lists fill caller-owned arrays of at most `cap` rows starting at `offset` (after filtering and
 * sorting) and set *n to the rows written and *total to the rows matching the filter. */
#ifndef BERTH_STORAGE_META_IDENT_H
#define BERTH_STORAGE_META_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"
#include "storage/meta.h"

/* Harbor's role ids (anchors 1c). */
#define ROLE_PROJECT_ADMIN 1
#define ROLE_DEVELOPER 2
#define ROLE_GUEST 3
#define ROLE_MAINTAINER 4
#define ROLE_LIMITED_GUEST 5

/* Robot permission actions on repositories of a project. */
#define META_ACT_PULL 1u
#define META_ACT_PUSH 2u
#define META_ACT_DELETE 4u
#define META_ACT_ALL (META_ACT_PULL | META_ACT_PUSH | META_ACT_DELETE)

#define META_TEXT_MAX 255       /* email, realname, comment, description: bytes */
#define META_ROBOT_PERMS_MAX 64 /* permission entries of one robot */
#define META_LIST_MAX 100       /* largest page a list call accepts */

/* A list filter and page. name: NULL = any; fuzzy: name is a substring, else exact. sort: NULL
 * or "" = by id; otherwise one of the keys a list documents, "-key" for descending. */
struct meta_list_q {
    const char *name;
    bool fuzzy;
    const char *sort;
    int64_t offset;
    size_t limit; /* rows wanted, <= cap of the output array */
};

/* ---- users ---- */
struct meta_user_info {
    struct meta_user u; /* id, name, pw_hash, sysadmin, created_at */
    char email[META_TEXT_MAX + 1];
    char realname[META_TEXT_MAX + 1];
    char comment[META_TEXT_MAX + 1];
    int64_t updated_at;
};
/* meta_user_get_by_id / meta_user_info_get: BERR_NOT_FOUND when unknown. */
int meta_user_get_by_id(struct meta *m, int64_t id, struct meta_user *out, struct berr *err);
int meta_user_info_get(struct meta *m, int64_t id, struct meta_user_info *out, struct berr *err);
/* meta_user_list filters by name (q->name on username), sort keys: username, creation_time,
 * update_time, user_id. Password hashes are not copied (pw_hash is ""). */
int meta_user_list(struct meta *m, const struct meta_list_q *q, struct meta_user_info *out,
                   size_t cap, size_t *n, int64_t *total, struct berr *err);
/* meta_user_update sets email, realname and comment (NULL leaves a field as is).
 * BERR_NOT_FOUND when unknown. */
int meta_user_update(struct meta *m, int64_t id, const char *email, const char *realname,
                     const char *comment, struct berr *err);
/* meta_user_set_sysadmin; BERR_NOT_FOUND when unknown. */
int meta_user_set_sysadmin(struct meta *m, int64_t id, bool sysadmin, struct berr *err);
/* meta_user_set_password_id: like meta_user_set_password, by id. */
int meta_user_set_password_id(struct meta *m, int64_t id, const char *pw_hash, struct berr *err);
/* meta_user_delete removes the user and its memberships; projects it owns keep owner_id.
 * BERR_NOT_FOUND when unknown. */
int meta_user_delete(struct meta *m, int64_t id, struct berr *err);

/* ---- projects ---- */
struct meta_project_info {
    struct meta_project p; /* id, name, public, created_at */
    int64_t owner_id;      /* 0 = none */
    char owner_name[256];  /* "" when no owner or the owner was deleted */
    int64_t updated_at;
    int64_t repo_count;    /* repositories holding a manifest or a blob */
    int64_t storage_limit; /* bytes, -1 = unlimited */
};
/* meta_project_get_by_id: BERR_NOT_FOUND when unknown. */
int meta_project_get_by_id(struct meta *m, int64_t id, struct meta_project *out, struct berr *err);
/* meta_project_info_get by id (id > 0) or, when id <= 0, by name. BERR_NOT_FOUND. */
int meta_project_info_get(struct meta *m, int64_t id, const char *name,
                          struct meta_project_info *out, struct berr *err);

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
/* meta_project_create_full: meta_project_create plus a storage limit (-1 none); when
 * owner_id > 0 the owner becomes its projectAdmin member in the same transaction (also true of
 * meta_project_create: a schema trigger adds the member). A project re-created under the name
 * of a deleted one gets created_at later than the deletion, so tokens issued for the old one are
 * older than the new one. *id may be NULL. */
int meta_project_create_full(struct meta *m, const char *name, bool public, int64_t owner_id,
                             int64_t storage_limit, int64_t *id, struct berr *err);
/* meta_project_update sets public (when set_public) and storage_limit (when set_limit).
 * BERR_NOT_FOUND when unknown. */
int meta_project_update(struct meta *m, int64_t id, bool set_public, bool public, bool set_limit,
                        int64_t storage_limit, struct berr *err);
/* meta_project_delete refuses (BERR_CONFLICT) while a repository of the project holds a manifest
 * or a blob; otherwise deletes it with its members, empty repositories and robot permissions on
 * it (project-level robots of it are deleted). BERR_NOT_FOUND when unknown. */
int meta_project_delete(struct meta *m, int64_t id, struct berr *err);

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
/* meta_member_role: *role = 0 when the user is not a member of the project. */
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

#endif
