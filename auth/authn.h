/* authn.h - who is calling: HTTP Basic credentials checked against the user table, with a short
 * cache of recent successes so a busy client does not pay the password KDF on every request.
 *
 * The cache keys are HMAC-SHA256(process secret, "user:password"); no password or hash of it that
 * outlives the process is kept. Entries live AUTHN_CACHE_TTL_S seconds and are dropped when a
 * password changes (authn_forget). Thread-safe: the cache sits beside its mutex. */
#ifndef BERTH_AUTH_AUTHN_H
#define BERTH_AUTH_AUTHN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/berr.h"

#define AUTHN_CACHE_TTL_S 60
#define AUTHN_USER_MAX 255

struct meta;
struct authn;

struct principal {
    char name[AUTHN_USER_MAX + 1]; /* "" = anonymous */
    bool sysadmin;
};

/* authn_new: m is borrowed and must outlive the result. *out is new (authn_free). */
int authn_new(struct authn **out, struct meta *m, struct berr *err);
void authn_free(struct authn *a);

/* authn_basic checks an Authorization header value "Basic <base64(user:pass)>".
 * BERR_UNAUTHORIZED for malformed headers and wrong credentials (one message for both, so a
 * caller learns nothing about which users exist); BERR_INTERNAL when the store fails. */
int authn_basic(struct authn *a, const char *header, struct principal *out, struct berr *err);
/* authn_basic_decode splits a Basic header into user and password (both NUL-terminated, the
 * password wiped by the caller with OPENSSL_cleanse). -1 when malformed. */
int authn_basic_decode(const char *header, char *user, size_t user_cap, char *pass,
                       size_t pass_cap);
/* authn_forget drops cached successes of one user (after a password change or delete). */
void authn_forget(struct authn *a, const char *user);

/* authn_bootstrap_admin makes sure the user `admin` exists: its password is taken from
 * BERTH_ADMIN_PASSWORD, else generated and written once to stdout. Does nothing when admin
 * exists. *created tells whether it did. */
int authn_bootstrap_admin(struct meta *m, bool *created, struct berr *err);

#endif
