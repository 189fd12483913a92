/* creds.h - which credentials `berth pull` tries, from where, in which order, and when it falls
 * back to pulling anonymously: kubelet's policy, in one place.
 *
 * Sources, loaded in this order into one keyring (keyring.h ranks them at lookup):
 *   1. each --secret FILE, in the order given, as pod credentials (imagePullSecrets);
 *   2. with --docker-config, the node credentials: $DOCKER_CONFIG/config.json, else
 *      ~/.docker/config.json, else ~/.dockercfg (secrets_load_docker_config);
 *   3. credential helpers (credHelpers/credsStore of those files) run at lookup, only for the
 *      keys that match the image.
 * Every matching credential is tried in keyring order; the next one only when the registry
 * refused the previous (BERR_UNAUTHORIZED or BERR_DENIED); any other failure stops. Anonymous is
 * tried only when no credential matched, exactly as kubelet does. */
#ifndef BERTH_PULLER_CREDS_H
#define BERTH_PULLER_CREDS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/berr.h"
#include "common/buf.h"
#include "puller/keyring.h"

struct creds_opts {
    const char *const *secrets; /* --secret files (borrowed), pod credentials, in order */
    size_t nsecrets;
    bool docker_config; /* also load the node credentials */
    bool verbose;       /* notes on stderr about what was loaded (never a secret) */
};

/* creds_for_image fills *out (new: cred_list_cleanup) with every credential for keyring_name
 * (image_ref_keyring_name) from the sources of o, in the order to try them; out->n == 0 means
 * anonymous. -1 (out empty) when a source cannot be read or parsed (the message names it) or a
 * matched credential helper fails. */
int creds_for_image(struct cred_list *out, const struct creds_opts *o, const char *keyring_name,
                    struct berr *err);

/* creds_attempt_fn tries one credential (NULL: anonymous); 0 when the registry accepted it, -1
 * with err otherwise. */
typedef int (*creds_attempt_fn)(const struct cred *cr, struct berr *err, void *ctx);
/* creds_refused_fn (may be NULL) hears that cr was refused with err and the next credential is
 * about to be tried. */
typedef void (*creds_refused_fn)(const struct cred *cr, const struct berr *err, void *ctx);

#define CREDS_ALL_REFUSED (-2)

/* creds_try runs attempt with each credential of l in order, or once anonymously when l is
 * empty, until one is accepted. Returns the index of the accepted attempt (0 for anonymous);
 * CREDS_ALL_REFUSED when every attempt was refused (BERR_UNAUTHORIZED/BERR_DENIED), err left as
 * the last refusal; -1 when an attempt failed for another reason (err as it left it, no further
 * attempt). tried (may be NULL) gets "SOURCE (user U): message; ..." or "anonymous: message"
 * for every failed attempt, cut at its cap. */
int creds_try(const struct cred_list *l, creds_attempt_fn attempt, creds_refused_fn refused,
              void *ctx, struct buf *tried, struct berr *err);

/* creds_user: the username to show for cr ("(empty)" for an empty one); never the password. */
const char *creds_user(const struct cred *cr);

#endif
