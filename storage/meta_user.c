/* meta_user.c - users (meta.h, "users"): the public calls, dispatched to the backend.
 *
 * The three getters ask the backend one question (ops->user->get, by id or by name) and copy
 * what the caller wants out of the one row; the password is set by id only. Invariant: nothing
 * here touches the database; a row copied out on failure is zeroed. Thread-safe as the backend
 * is. */
#include "storage/meta.h"

#include <errno.h>
#include <string.h>

#include "common/mem.h"
#include "storage/meta_ops.h"

/* user_get reads the whole row into a heap buffer (it is 1.3 KiB) and copies the struct
 * meta_user part out */
static int user_get(struct meta *m, int64_t id, const char *name, struct meta_user *out,
                    struct berr *err)
{
    struct meta_user_info *u = mem_malloc(sizeof(*u));
    int rc;

    memset(out, 0, sizeof(*out));
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
    return m->ops->user->create(m, name, pw_hash, sysadmin, id, err);
}

int meta_user_update(struct meta *m, int64_t id, const char *email, const char *realname,
                     const char *comment, struct berr *err)
{
    return m->ops->user->update(m, id, email, realname, comment, err);
}

int meta_user_set_sysadmin(struct meta *m, int64_t id, bool sysadmin, struct berr *err)
{
    return m->ops->user->set_sysadmin(m, id, sysadmin, err);
}

int meta_user_set_password(struct meta *m, int64_t id, const char *pw_hash, struct berr *err)
{
    return m->ops->user->set_password(m, id, pw_hash, err);
}

int meta_user_delete(struct meta *m, int64_t id, struct berr *err)
{
    return m->ops->user->delete (m, id, err);
}
