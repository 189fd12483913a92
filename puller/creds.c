/* creds.c - the credential policy of `berth pull` (see creds.h): which sources, in which order,
 * and the fallback to anonymous.
 *
 * Invariants:
 *   1. Pod credentials (--secret files, in order) are loaded before node ones, and the keyring
 *      keeps pod before node at lookup, so a pod secret always wins, as in kubelet.
 *   2. Anonymous is attempted exactly when no credential matched; once any matched, a refusal of
 *      all of them is a refusal, never a silent anonymous pull.
 *   3. Only a refusal (BERR_UNAUTHORIZED, BERR_DENIED) moves on to the next credential; a
 *      transport error or a missing image stops at once, so one broken mirror is not retried
 *      with every credential.
 *   4. No password reaches a message, a note or the tried list: credentials are named by their
 *      source and username.
 * No shared state; the keyring lives only inside creds_for_image. */
#include "puller/creds.h"

#include <string.h>

#include "puller/secrets.h"

int creds_for_image(struct cred_list *out, const struct creds_opts *o, const char *keyring_name,
                    struct berr *err)
{
    struct keyring *k = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = keyring_new(&k, err);
    for (size_t i = 0; rc == 0 && i < o->nsecrets; i++)
        rc = secrets_load_file(k, o->secrets[i], SECRET_POD, o->verbose, err);
    if (rc == 0 && o->docker_config)
        rc = secrets_load_docker_config(k, o->verbose, err);
    if (rc == 0)
        rc = keyring_lookup(out, k, keyring_name, err);
    keyring_free(k);
    return rc < 0 ? -1 : 0;
}

const char *creds_user(const struct cred *cr)
{
    return cr->username[0] != '\0' ? cr->username : "(empty)";
}

int creds_try(const struct cred_list *l, creds_attempt_fn attempt, creds_refused_fn refused,
              void *ctx, struct buf *tried, struct berr *err)
{
    size_t n = l->n > 0 ? l->n : 1;

    for (size_t i = 0; i < n; i++) {
        const struct cred *cr = l->n > 0 ? &l->v[i] : NULL;

        berr_clear(err);
        if (attempt(cr, err, ctx) == 0)
            return (int)i;
        /* the list is for the message only: a cut list is still a truthful prefix */
        if (tried != NULL && cr != NULL)
            (void)buf_printf(tried, "%s%s (user %s): %s", tried->len ? "; " : "", cr->source,
                             creds_user(cr), err->msg);
        else if (tried != NULL)
            (void)buf_printf(tried, "%sanonymous: %s", tried->len ? "; " : "", err->msg);
        if (err->code != BERR_UNAUTHORIZED && err->code != BERR_DENIED)
            return -1;
        if (refused != NULL && i + 1 < n)
            refused(cr, err, ctx);
    }
    return CREDS_ALL_REFUSED;
}
