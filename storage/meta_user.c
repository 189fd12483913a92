/* meta_user.c - users (meta.h, "users"): the argument checks, then the backend.
 *
 * The three getters ask the backend one question (ops->user->get, by id or by name) and copy
 * what the caller wants out of the one row; the password is set by id only. Invariants:
 *   1. Nothing here touches the database; a row copied out on failure is zeroed.
 *   2. A backend sees only checked arguments: names and hashes of 1..255 bytes, profile texts
 *      of at most META_TEXT_MAX bytes (meta.h rule 5).
 * No state; thread-safe as the backend is. */
#include "storage/meta.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "storage/meta_ops.h"

#define USER_NAME_MAX 255
#define PW_HASH_MAX 255

static bool user_name_ok(const char *name)
{
    size_t len = strlen(name);

    return len > 0 && len <= USER_NAME_MAX;
}

/* hashes come from password_hash(), never from a client: a bad one is our bug */
static int pw_hash_check(const char *pw_hash, struct berr *err)
{
    size_t len = strlen(pw_hash);

    if (len == 0 || len > PW_HASH_MAX) {
        log_msg(LOG_ERROR, "meta: password hash of %zu bytes rejected", len);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    return 0;
}

/* profile texts are NULL (left as they are) or at most META_TEXT_MAX bytes */
static int text_ok(const char *s, const char *what, struct berr *err)
{
    if (s != NULL && strlen(s) > META_TEXT_MAX)
        return berr_set(err, BERR_BAD_REQUEST, "%s is longer than %d bytes", what, META_TEXT_MAX);
    return 0;
}

/* user_get reads the whole row into a heap buffer (it is 1.3 KiB, too much for the stack of a
 * request thread) and copies the struct meta_user part out */
static int user_get(struct meta *m, int64_t id, const char *name, struct meta_user *out,
                    struct berr *err)
{
    struct meta_user_info *u;
    int rc;

    memset(out, 0, sizeof(*out));
    if (name != NULL && !user_name_ok(name))
        return berr_set(err, BERR_NOT_FOUND, "user not found");
    u = mem_malloc(sizeof(*u));
    if (u == NULL)
        return berr_sys(err, ENOMEM, "meta: user");
    rc = m->ops->user->get(m, id, name, u, err);
    if (rc == 0)
        *out = u->u;
    mem_free(u);
    return rc;
}

int meta_user_get(struct meta *m, const char *name, struct meta_user *out, struct berr *err)
{
    return user_get(m, 0, name, out, err);
}

int meta_user_get_by_id(struct meta *m, int64_t id, struct meta_user *out, struct berr *err)
{
    return user_get(m, id, NULL, out, err);
}

int meta_user_info_get(struct meta *m, int64_t id, struct meta_user_info *out, struct berr *err)
{
    return m->ops->user->get(m, id, NULL, out, err);
}

int meta_user_list(struct meta *m, const struct meta_list_q *q, struct meta_user_info *out,
                   size_t cap, size_t *n, int64_t *total, struct berr *err)
{
    return m->ops->user->list(m, q, out, cap, n, total, err);
}

int meta_user_create(struct meta *m, const char *name, const char *pw_hash, bool sysadmin,
                     int64_t *id, struct berr *err)
{
    if (id != NULL)
        *id = 0;
    if (!user_name_ok(name))
        return berr_set(err, BERR_BAD_REQUEST, "invalid user name");
    if (pw_hash_check(pw_hash, err) < 0)
        return -1;
    return m->ops->user->create(m, name, pw_hash, sysadmin, id, err);
}

int meta_user_update(struct meta *m, int64_t id, const char *email, const char *realname,
                     const char *comment, struct berr *err)
{
    if (text_ok(email, "email", err) < 0 || text_ok(realname, "realname", err) < 0 ||
        text_ok(comment, "comment", err) < 0)
        return -1;
    return m->ops->user->update(m, id, email, realname, comment, err);
}

int meta_user_set_sysadmin(struct meta *m, int64_t id, bool sysadmin, struct berr *err)
{
    return m->ops->user->set_sysadmin(m, id, sysadmin, err);
}

int meta_user_set_password(struct meta *m, int64_t id, const char *pw_hash, struct berr *err)
{
    if (pw_hash_check(pw_hash, err) < 0)
        return -1;
    return m->ops->user->set_password(m, id, pw_hash, err);
}

int meta_user_delete(struct meta *m, int64_t id, struct berr *err)
{
    int rc;

    mcache_facts_bump(m->mc); /* owners and memberships go (storage/mcache.h) */
    rc = m->ops->user->remove(m, id, err);
    mcache_facts_bump(m->mc);
    return rc;
}
