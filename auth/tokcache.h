/* tokcache.h - a bounded cache of verified bearer tokens, so a client that sends the same token
 * on every request pays the RS256 signature check and the JSON parse once, not per request.
 *
 * An entry is keyed by SHA-256 over (key ID, wanted issuer, wanted audience, token text): the
 * same token checked against another key, issuer or audience never hits. It holds a copy of the
 * claims tok_verify returned and is used only while the token's own time window holds (now <
 * exp + leeway and nbf <= now + leeway, as tok_verify checks): after that the caller verifies
 * again and is refused with tok_verify's own message. Nothing in an entry comes from the
 * database: a token's validity is a pure function of its text, the key and the clock, so a change
 * of a project, user or robot never makes an entry wrong (the checks that read the database -
 * the project's creation time, a robot being disabled - run on every request, outside). Only
 * successes are stored; tokens longer than TOKCACHE_TOKEN_MAX are never stored (bounded memory:
 * TOKCACHE_SLOTS entries). Thread-safe: slots are guarded by striped mutexes. */
#ifndef BERTH_AUTH_TOKCACHE_H
#define BERTH_AUTH_TOKCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"

#define TOKCACHE_SLOTS 1024     /* entries at most (direct-mapped by the key's hash) */
#define TOKCACHE_TOKEN_MAX 8192 /* bytes: longer tokens are verified every time */

struct tokcache;
struct tok_claims;

/* tokcache_new: *out is new (tokcache_free). -1 with err on allocation failure. */
int tokcache_new(struct tokcache **out, struct berr *err);
/* tokcache_free frees every entry. NULL is a no-op. */
void tokcache_free(struct tokcache *tc);

/* tokcache_key computes the entry key of (kid, iss, aud, jwt) into key. -1 when hashing fails. */
int tokcache_key(unsigned char key[32], const char *kid, const char *iss, const char *aud,
                 const char *jwt);
/* tokcache_get copies the claims cached under key into *out (initialised here; the caller
 * cleans it up) when an entry exists and its window holds at `now` with `leeway_s`. 1 on a hit,
 * 0 on a miss (out zeroed), -1 on allocation failure (out zeroed; treat as a miss). */
int tokcache_get(struct tokcache *tc, const unsigned char key[32], int64_t now, int64_t leeway_s,
                 struct tok_claims *out);
/* tokcache_put stores a copy of c (borrowed) under key, replacing whatever shared its slot.
 * token_len is the token's length: above TOKCACHE_TOKEN_MAX nothing is stored. A failed copy
 * stores nothing. */
void tokcache_put(struct tokcache *tc, const unsigned char key[32], size_t token_len,
                  const struct tok_claims *c);
/* tokcache_clear drops every entry (a new signing key). */
void tokcache_clear(struct tokcache *tc);

#endif
