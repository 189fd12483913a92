/* authn.h - who is calling: HTTP Basic credentials of users and robot accounts, and bearer
 * tokens issued by /service/token; a short cache of recent Basic successes so a busy client does
 * not pay the password KDF on every request; failed-login throttling (auth/throttle.h).
 *
 * A user name that starts with the robot prefix (cfg->robot_prefix, "robot$" by default) is
 * looked up among robot accounts only, never among users: a disabled or expired robot is refused
 * even with the right secret. Robots' secrets are stored with password_hash like passwords.
 *
 * The cache keys are HMAC-SHA256(process secret, "user:password"); no password or hash of it that
 * outlives the process is kept. Entries live AUTHN_CACHE_TTL_S seconds and are dropped when a
 * password changes (authn_forget). Thread-safe: the cache sits beside its mutex. */
#ifndef BERTH_AUTH_AUTHN_H
#define BERTH_AUTH_AUTHN_H

#include <stdbool.h>
#include <stddef.h>

#include <stdint.h>

#include "common/berr.h"

#define AUTHN_CACHE_TTL_S 60
#define AUTHN_USER_MAX 255
#define AUTHN_PASS_MAX 512
#define AUTHN_PREFIX_MAX 31
#define AUTHN_DEFAULT_CHECK_SLOTS 1
#define AUTHN_DEFAULT_CHECK_QUEUE 1
#define AUTHN_DEFAULT_CHECK_WAIT_MS 100

struct meta;
struct authn;
struct tok_key;
struct tok_ring;
struct tok_claims;

enum principal_kind { PRINCIPAL_ANONYMOUS = 0, PRINCIPAL_USER, PRINCIPAL_ROBOT };

/* A zeroed principal is the anonymous caller. */
struct principal {
    char name[AUTHN_USER_MAX + 1]; /* "" = anonymous; robots: full name with prefix */
    bool sysadmin;                 /* users only */
    enum principal_kind kind;
    int64_t user_id;  /* PRINCIPAL_USER authenticated by password: meta user id; else 0 */
    int64_t robot_id; /* PRINCIPAL_ROBOT authenticated by secret: meta robot id; else 0 */
    bool bearer;      /* authenticated by a bearer token: its access claims decide, ids are 0 */
};

/* authn_new: m is borrowed and must outlive the result. Robot prefix "robot$" and a failed-login
 * limit of 5 until authn_configure. *out is new (authn_free). */
int authn_new(struct authn **out, struct meta *m, struct berr *err);
void authn_free(struct authn *a);
/* authn_failed_logins: logins refused for a wrong name, password or secret since the start
 * (every authn of the process). */
uint64_t authn_failed_logins(void);
/* authn_configure sets the robot prefix (1..AUTHN_PREFIX_MAX bytes) and the failed-login limit
 * (cfg->robot_prefix, cfg->login_fail_limit). Call before serving requests (not thread-safe
 * against concurrent authn_* calls). BERR_BAD_REQUEST for a bad prefix. */
int authn_configure(struct authn *a, const char *robot_prefix, unsigned login_fail_limit,
                    struct berr *err);
/* authn_set_check_budget bounds password checks (auth/vgate.h): at most `slots` KDF runs at
 * once, `queue` more waiting up to wait_ms each; a check beyond that fails with
 * BERR_TOOMANYREQUESTS and a Retry-After. authn_new starts with AUTHN_DEFAULT_CHECK_*. Call
 * before serving requests (not thread-safe against concurrent authn_* calls). */
int authn_set_check_budget(struct authn *a, unsigned slots, unsigned queue, unsigned wait_ms,
                           struct berr *err);
/* authn_checks_refused: password checks refused for lack of budget since the budget was set. */
uint64_t authn_checks_refused(struct authn *a);
/* authn_robot_prefix: the configured prefix, borrowed until authn_free. */
const char *authn_robot_prefix(const struct authn *a);

/* authn_basic checks an Authorization header value "Basic <base64(user:pass)>" of a user or
 * robot, without throttling (use authn_basic_from when the client address is known).
 * BERR_UNAUTHORIZED for malformed headers and wrong credentials (one message for both, so a
 * caller learns nothing about which users exist; a robot with the right secret that is disabled
 * or expired is told so); BERR_INTERNAL when the store fails. *out is zeroed on failure. */
int authn_basic(struct authn *a, const char *header, struct principal *out, struct berr *err);
/* authn_basic_from: the same, throttled per (user, addr): while the pair is blocked it fails
 * with BERR_TOOMANYREQUESTS and *retry_after_s (else 0) without checking the password; a wrong
 * password counts one failure, a success clears the pair. Credentials not in the cache are
 * checked within the check budget (authn_set_check_budget): when it is spent the call fails
 * with BERR_TOOMANYREQUESTS and *retry_after_s too, and nothing is counted against the pair. */
int authn_basic_from(struct authn *a, const char *header, const char *addr, struct principal *out,
                     unsigned *retry_after_s, struct berr *err);
/* authn_password checks a user name and password given apart (the token endpoint's POST form),
 * throttled like authn_basic_from when addr != NULL. pass is borrowed and not wiped. */
int authn_password(struct authn *a, const char *user, const char *pass, const char *addr,
                   struct principal *out, unsigned *retry_after_s, struct berr *err);
/* authn_bearer verifies "Bearer <jwt>" with the key of ring its kid names (auth/token_ring.h;
 * auth/token.h: signature, exp/nbf with
 * AUTHN_BEARER_LEEWAY_S, iss, aud) and fills *claims (initialised here, tok_claims_cleanup by
 * the caller, also on failure) and *out (kind from sub: "" anonymous, the robot prefix a robot,
 * else a user; bearer = true; sysadmin false: rights come only from the claims).
 * BERR_UNAUTHORIZED with tok_verify's message when the token is refused. */
#define AUTHN_BEARER_LEEWAY_S 60
int authn_bearer(struct authn *a, struct tok_ring *ring, const char *header, const char *iss,
                 const char *aud, struct tok_claims *claims, struct principal *out,
                 struct berr *err);
/* authn_basic_decode splits a Basic header into user and password (both NUL-terminated, the
 * password wiped by the caller with OPENSSL_cleanse). -1 when malformed. */
int authn_basic_decode(const char *header, char *user, size_t user_cap, char *pass,
                       size_t pass_cap);
/* authn_forget drops cached successes of one user or robot (after a password or secret change,
 * a delete, a robot disabled or its permissions changed). */
void authn_forget(struct authn *a, const char *user);

/* authn_bootstrap_admin makes sure the user `admin` exists: its password is taken from
 * BERTH_ADMIN_PASSWORD, else generated and written once to stdout. Does nothing when admin
 * exists. *created tells whether it did. */
int authn_bootstrap_admin(struct meta *m, bool *created, struct berr *err);

#endif
