/* password.h - the one way Berth turns a password into a stored string and checks it again.
 *
 * Stored form: "pbkdf2-sha256$<iterations>$<base64 salt>$<base64 hash>" (standard base64 with
 * padding, 16-byte salt, 32-byte hash), at most PASSWORD_HASH_MAX - 1 characters. The algorithm
 * and its parameters travel with the hash, so the cost can be raised later without invalidating
 * what is stored: password_verify accepts any iteration count in
 * PASSWORD_PBKDF2_MIN_ITER..PASSWORD_PBKDF2_MAX_ITER, password_needs_rehash says when a stored
 * string is weaker than what password_hash writes today.
 *
 * Test builds (-DBERTH_TEST_BUILD, the ASan build) let the environment variable
 * BERTH_TEST_KDF_ITER lower the iteration count password_hash uses, so suites that create many
 * users stay fast. Release builds never read it. All calls are thread-safe. */
#ifndef BERTH_AUTH_PASSWORD_H
#define BERTH_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "common/berr.h"

#define PASSWORD_HASH_MAX 160             /* buffer for a stored string, NUL included */
#define PASSWORD_PBKDF2_ITER 600000       /* OWASP 2023 for PBKDF2-HMAC-SHA256 */
#define PASSWORD_PBKDF2_MIN_ITER 1000     /* verify refuses weaker strings as corrupt */
#define PASSWORD_PBKDF2_MAX_ITER 10000000 /* and stronger ones: a cap on CPU per login */
#define PASSWORD_GEN_LEN 24               /* password_generate's length (out needs one more) */
#define PASSWORD_MIN_LEN 8
#define PASSWORD_MAX_LEN 128

/* password_hash derives a new stored string for plain into out (cap >= PASSWORD_HASH_MAX is
 * always enough). BERR_INTERNAL when the random generator or the KDF fails or cap is too small;
 * out is then "". plain is borrowed and not wiped (the caller owns it). */
int password_hash(char *out, size_t cap, const char *plain, struct berr *err);

/* password_verify sets *ok to whether plain matches stored. A mismatch is not an error (returns
 * 0, *ok false). A stored string that is malformed, of an unknown algorithm or out of the
 * parameter ranges fails with BERR_INTERNAL (*ok false): it is our data, not the client's. */
int password_verify(const char *stored, const char *plain, bool *ok, struct berr *err);

/* password_needs_rehash: true when stored does not parse or uses fewer iterations than
 * password_hash would use now, so a caller that has just verified plain may store a new hash. */
bool password_needs_rehash(const char *stored);

/* password_generate writes PASSWORD_GEN_LEN random characters from [A-Za-z0-9] (no character a
 * shell would interpret) with at least one upper-case letter, one lower-case letter and one
 * digit, so it passes password_policy_check. cap must be > PASSWORD_GEN_LEN. -1 when cap is too
 * small or RAND_bytes fails (out is then ""). */
int password_generate(char *out, size_t cap);

/* password_policy_check: 8..128 characters with at least one upper-case letter, one lower-case
 * letter and one digit (Harbor's rule). BERR_BAD_REQUEST with a message for the user. */
int password_policy_check(const char *plain, struct berr *err);

#endif
