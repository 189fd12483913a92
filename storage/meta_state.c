/* meta_state.c - the shared state behind the metadata interface (meta.h "shared state"): each
 * call checks its arguments and dispatches to the backend's state table (meta_ops.h).
 *
 * Invariants:
 *   1. A backend only ever sees an ns of 1..META_STATE_NS_MAX and a key of 1..META_STATE_KEY_MAX
 *      printable ASCII bytes without spaces, a val of at most META_STATE_VAL_MAX bytes (never
 *      NULL with len > 0), expires >= 0 and expect_version >= META_STATE_ANY.
 *   2. Output parameters are defined on every return: cleared before the checks.
 * No state of its own. Thread-safe as the backend is. */
#include "storage/meta.h"

#include <string.h>

#include "storage/meta_ops.h"

/* name_ok: 1..max bytes of 0x21..0x7e */
static bool name_ok(const char *s, size_t max)
{
    size_t i;

    if (s == NULL)
        return false;
    for (i = 0; s[i] != '\0'; i++) {
        if (i >= max || (unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return false;
    }
    return i > 0;
}

static int check_ns_key(const char *ns, const char *key, struct berr *err)
{
    if (!name_ok(ns, META_STATE_NS_MAX))
        return berr_set(err, BERR_BAD_REQUEST, "bad state namespace");
    if (key != NULL && !name_ok(key, META_STATE_KEY_MAX))
        return berr_set(err, BERR_BAD_REQUEST, "bad state key");
    return 0;
}

int meta_state_get(struct meta *m, const char *ns, const char *key, char **val, size_t *len,
                   int64_t *version, struct berr *err)
{
    *val = NULL;
    if (len != NULL)
        *len = 0;
    if (version != NULL)
        *version = 0;
    if (check_ns_key(ns, key, err) < 0)
        return -1;
    if (key == NULL)
        return berr_set(err, BERR_BAD_REQUEST, "bad state key");
    return m->ops->state->get(m, ns, key, val, len, version, err);
}

int meta_state_put(struct meta *m, const char *ns, const char *key, const void *val, size_t len,
                   int64_t expires, int64_t expect_version, int64_t *new_version, struct berr *err)
{
    if (new_version != NULL)
        *new_version = 0;
    if (check_ns_key(ns, key, err) < 0)
        return -1;
    if (key == NULL)
        return berr_set(err, BERR_BAD_REQUEST, "bad state key");
    if (len > META_STATE_VAL_MAX || (val == NULL && len > 0))
        return berr_set(err, BERR_BAD_REQUEST, "bad state value");
    if (expires < 0)
        return berr_set(err, BERR_BAD_REQUEST, "bad state expiry");
    if (expect_version < META_STATE_ANY)
        return berr_set(err, BERR_BAD_REQUEST, "bad state version");
    return m->ops->state->put(m, ns, key, val != NULL ? val : "", len, expires, expect_version,
                              new_version, err);
}

int meta_state_remove(struct meta *m, const char *ns, const char *key, int64_t expect_version,
                      struct berr *err)
{
    if (check_ns_key(ns, key, err) < 0)
        return -1;
    if (key == NULL)
        return berr_set(err, BERR_BAD_REQUEST, "bad state key");
    /* 0 would mean "create only", which means nothing to a remove */
    if (expect_version != META_STATE_ANY && expect_version <= 0)
        return berr_set(err, BERR_BAD_REQUEST, "bad state version");
    return m->ops->state->remove(m, ns, key, expect_version, err);
}

int meta_state_incr(struct meta *m, const char *ns, const char *key, int64_t delta, int64_t expires,
                    int64_t *value, struct berr *err)
{
    if (value != NULL)
        *value = 0;
    if (check_ns_key(ns, key, err) < 0)
        return -1;
    if (key == NULL)
        return berr_set(err, BERR_BAD_REQUEST, "bad state key");
    if (expires < 0)
        return berr_set(err, BERR_BAD_REQUEST, "bad state expiry");
    return m->ops->state->incr(m, ns, key, delta, expires, value, err);
}

int meta_state_list(struct meta *m, const char *ns, meta_state_fn fn, void *ctx, struct berr *err)
{
    if (check_ns_key(ns, NULL, err) < 0)
        return -1;
    if (fn == NULL)
        return berr_set(err, BERR_BAD_REQUEST, "no callback");
    return m->ops->state->list(m, ns, fn, ctx, err);
}

int meta_state_purge(struct meta *m, int64_t now, int64_t *removed, struct berr *err)
{
    if (removed != NULL)
        *removed = 0;
    if (now < 0)
        return berr_set(err, BERR_BAD_REQUEST, "bad time");
    return m->ops->state->purge(m, now, removed, err);
}
