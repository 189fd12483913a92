/* throttle.h - slows down password guessing: failed logins are counted per (user, client
 * address); after `limit` failures in a row that pair is refused for a back-off that doubles with
 * every further failure (THROTTLE_BASE_MS, 2x, 4x ... up to THROTTLE_MAX_MS), answered as
 * 429 TOOMANYREQUESTS with Retry-After. A success clears the pair; so does THROTTLE_FORGET_MS
 * without a failure once the back-off has run out. Attempts refused while blocked are not
 * verified and do not count.
 *
 * Memory is bounded: a fixed table of THROTTLE_SETS x THROTTLE_WAYS entries keyed by a salted
 * SHA-256 of user and address (no user name or address is kept). When a set is full the entry
 * idle longest is reused, a blocked one only when every entry of the set is blocked.
 * Times are the caller's milliseconds, so tests drive the clock; authn passes the wall clock
 * (now_ms_wall()), which replicas on several hosts share.
 *
 * Shared mode (throttle_new_shared): the counts live in the metadata store's shared state, not
 * in this process, so failures on every replica over one database add up and a block on one is
 * a block on all. The salt is stored there too (created once), so every replica computes the
 * same key. There the count forgets THROTTLE_FORGET_MS after the window's first failure rather
 * than after the last one. Store failures while counting are logged (the login failed anyway);
 * while checking they fail the check with BERR_INTERNAL.
 * Thread-safe: one mutex guards the table; the store serializes the shared mode. */
#ifndef BERTH_AUTH_THROTTLE_H
#define BERTH_AUTH_THROTTLE_H

#include <stdint.h>

#include "common/berr.h"

#define THROTTLE_SETS 1024
#define THROTTLE_WAYS 8
#define THROTTLE_BASE_MS 1000LL
#define THROTTLE_MAX_MS (15LL * 60 * 1000)
#define THROTTLE_FORGET_MS (15LL * 60 * 1000)

struct throttle;

/* throttle_new: limit = failures allowed before the first back-off (>= 1; 0 is taken as 1).
 * *out is new (throttle_free). */
int throttle_new(struct throttle **out, unsigned limit, struct berr *err);
/* throttle_new_shared: the same, counting in m's shared state (m borrowed, outlives *out). */
struct meta;
int throttle_new_shared(struct throttle **out, unsigned limit, struct meta *m, struct berr *err);
void throttle_free(struct throttle *t);

/* throttle_check: 0 when user may try from addr now. When blocked: -1, BERR_TOOMANYREQUESTS in
 * err and *retry_after_s (>= 1) set to the seconds left. addr may be "" (unknown). Shared mode:
 * -1 and BERR_INTERNAL when the store cannot be read. */
int throttle_check(struct throttle *t, const char *user, const char *addr, int64_t now_ms,
                   unsigned *retry_after_s, struct berr *err);
/* throttle_fail records one failed login; throttle_success forgets the pair. */
void throttle_fail(struct throttle *t, const char *user, const char *addr, int64_t now_ms);
void throttle_success(struct throttle *t, const char *user, const char *addr);

/* The pair's key (a salted SHA-256 of user and addr), and throttle_check and throttle_success
 * taking it: a caller that meets one pair on every request (authn's login cache) keeps the key
 * rather than hash twice per request. throttle_key: -1 only when OpenSSL fails. */
#define THROTTLE_KEY_LEN 32
int throttle_key(const struct throttle *t, const char *user, const char *addr,
                 unsigned char key[THROTTLE_KEY_LEN]);
int throttle_check_key(struct throttle *t, const unsigned char key[THROTTLE_KEY_LEN],
                       int64_t now_ms, unsigned *retry_after_s, struct berr *err);
void throttle_success_key(struct throttle *t, const unsigned char key[THROTTLE_KEY_LEN]);

#endif
