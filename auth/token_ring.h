/* token_ring.h - the signing keys of bearer tokens as every replica shares them: one key signs
 * (the same on every replica over one metadata store), and a token verifies against any key
 * the store still knows by the kid in its header, so the signing key can be rotated without
 * cutting off tokens already handed out.
 *
 * In the store (meta.h "shared state", ns "token_key"):
 *   key "signer": the kid of the key that signs new tokens
 *   key KID:      {"pem": PKCS#8 PEM private key, "created": Unix seconds}; a retired key
 *                 carries an expiry keep_s after its retirement and then goes
 * The first start stores one key, created once: the key file (DATA/token.key) is imported, so
 * a single-host installation's tokens stay valid, and made first (mode 0600) when there is
 * none; two replicas starting at once both try a create-only put and the loser uses the
 * winner's key (its own file then holds a key nobody uses). After that the file is never read
 * again: the store's key is the one that signs.
 * A replica checks which key signs at most every TOK_RING_REFRESH_S, and looks up a kid it
 * does not know when a token names it (at most TOK_RING_MISSES_PER_S store reads a second).
 * Thread-safe. */
#ifndef BERTH_AUTH_TOKEN_RING_H
#define BERTH_AUTH_TOKEN_RING_H

#include <stdint.h>

#include "auth/token.h"
#include "common/berr.h"

#define TOK_RING_MAX 64          /* keys one process loads in its life */
#define TOK_RING_REFRESH_S 10    /* how stale a replica's idea of the signing key may be */
#define TOK_RING_MISSES_PER_S 20 /* store reads for unknown kids, per second */

struct tok_ring;
struct meta;

/* tok_ring_open loads the signing key from m (borrowed, outlives *out), storing one on the
 * first start: the key file at import_path (tok_key_load_or_create: loaded, or made there), or
 * with import_path NULL a new key kept nowhere else.
 * *out is new (tok_ring_free). */
int tok_ring_open(struct tok_ring **out, struct meta *m, const char *import_path, struct berr *err);
/* tok_ring_from_key makes a ring of one key and no store (tests, tools); takes k, also on
 * failure. */
int tok_ring_from_key(struct tok_ring **out, struct tok_key *k, struct berr *err);
void tok_ring_free(struct tok_ring *r);

/* tok_ring_signer: the key new tokens are signed with; borrowed until tok_ring_free. */
const struct tok_key *tok_ring_signer(struct tok_ring *r);
/* tok_ring_verify is tok_verify (token.h) with the key the token's kid names, when the ring or
 * the store knows it (BERR_UNAUTHORIZED "unknown key" otherwise). */
int tok_ring_verify(struct tok_claims *out, struct tok_ring *r, const char *jwt,
                    const char *want_iss, const char *want_aud, int64_t now, int64_t leeway_s,
                    struct berr *err);

/* tok_ring_rotate stores a new signing key in m: new tokens are signed with it (every replica
 * within TOK_RING_REFRESH_S), the previous key keeps verifying for keep_s more seconds (pass
 * at least the longest token lifetime plus leeway) and is then dropped. kid (TOK_KID_LEN + 1
 * bytes, may be NULL) gets the new kid. BERR_CONFLICT when another rotation won the race;
 * BERR_NOT_FOUND when the store has no key yet (no server has started on it). */
int tok_ring_rotate(struct meta *m, int64_t keep_s, char *kid, struct berr *err);

#endif
