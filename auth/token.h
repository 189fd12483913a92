/* token.h - Docker registry bearer tokens: RS256 JWTs issued by /service/token and checked on
 * every /v2/ request.
 *
 * A token is base64url(header) "." base64url(claims) "." base64url(RSASSA-PKCS1-v1_5 SHA-256
 * signature), without padding. The header is {"typ":"JWT","alg":"RS256","kid":KID} where KID is
 * the libtrust key ID of the signing key (what distribution <= 2.7 expects): SHA-256 of the DER
 * SubjectPublicKeyInfo, first 30 bytes (240 bits), base32 (RFC 4648 alphabet, no padding) -> 48
 * characters, written as 12 groups of 4 joined by ':'. Claims: iss, sub, aud (one string), exp,
 * nbf, iat, jti (16 random bytes as 32 hex) and access, a list of
 * {"type","name","actions":[...]} in the form of the Docker token spec.
 *
 * Every verification failure is BERR_UNAUTHORIZED with a short message ("token expired",
 * "token not yet valid", "bad signature", "wrong audience", "wrong issuer", "unknown key",
 * "unsupported alg", "malformed token", "token too large"); BERR_INTERNAL only for memory or
 * OpenSSL failures. A struct tok_key is read-only once made: tok_issue and tok_verify may run on
 * any number of threads at once with the same key. */
#ifndef BERTH_AUTH_TOKEN_H
#define BERTH_AUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/scope.h"
#include "common/berr.h"

#define TOK_MAX_LEN 16384  /* bytes of a whole token, issued or accepted */
#define TOK_MAX_CLAIMS 32  /* members of the claims object */
#define TOK_MAX_ACCESS 64  /* entries of "access" (= SCOPE_MAX_COUNT) */
#define TOK_MAX_ACTIONS 16 /* words in one entry's "actions" */
#define TOK_STR_MAX 1024   /* bytes of any string claim or access type/name */
#define TOK_KID_LEN 59     /* 12 groups of 4 + 11 ':' */
#define TOK_KEY_BITS 3072  /* size of a generated key */
#define TOK_KEY_FILE_MAX 65536

struct tok_key;

/* One entry of "access". type and name are new strings owned by the claims they sit in. */
struct tok_access {
    char *type;
    char *name;
    unsigned actions; /* SCOPE_ACT_* bits; action words other than pull/push/delete/"*" found
                       * in a verified token are dropped (they grant nothing here) */
};

/* Claims, owned: every string and the access array are new and freed by tok_claims_cleanup.
 * tok_issue reads iss, sub, aud, iat, nbf, exp and access (jti is made fresh and ignored);
 * tok_verify fills all of them. An absent sub reads as "", absent iat/nbf as 0, absent jti as
 * NULL. */
struct tok_claims {
    char *iss;
    char *sub;
    char *aud; /* on verify: the audience that matched want_aud */
    char *jti;
    int64_t iat, nbf, exp;
    struct tok_access *access;
    size_t n_access;
};

/* tok_key_load_or_create loads the PEM RSA private key at path (PKCS#1 or PKCS#8, 2048 to 4096
 * bits, unencrypted) or, when the file does not exist, generates a TOK_KEY_BITS one and writes
 * it there (PKCS#8, mode 0600, atomically; when two processes race, both end up using the one
 * that reached the disk first). *out is new (tok_key_free). BERR_INTERNAL with a message naming
 * the problem (unreadable, not an RSA key, wrong size) - the file is never overwritten. */
int tok_key_load_or_create(struct tok_key **out, const char *path, struct berr *err);
/* tok_key_from_pem parses a PEM RSA private key held in memory (same rules). */
int tok_key_from_pem(struct tok_key **out, const char *pem, size_t len, struct berr *err);
/* tok_key_generate makes a new in-memory key of `bits` (2048..4096). */
int tok_key_generate(struct tok_key **out, int bits, struct berr *err);
void tok_key_free(struct tok_key *k);
/* tok_key_kid is the key's libtrust ID, TOK_KID_LEN characters; borrowed until tok_key_free. */
const char *tok_key_kid(const struct tok_key *k);
/* tok_key_bits is the RSA modulus size. */
int tok_key_bits(const struct tok_key *k);
/* tok_key_private_pem writes the private key as PKCS#8 PEM: *out is new (the caller wipes it
 * with OPENSSL_cleanse over *len bytes, then mem_free), NUL-terminated. */
int tok_key_private_pem(char **out, size_t *len, const struct tok_key *k, struct berr *err);
/* tok_key_public_pem writes the public key as "BEGIN PUBLIC KEY" PEM; *out is new (mem_free). */
int tok_key_public_pem(char **out, const struct tok_key *k, struct berr *err);
/* tok_kid_from_spki computes the libtrust ID of a DER SubjectPublicKeyInfo into out
 * (cap >= TOK_KID_LEN + 1). -1 when cap is too small or hashing fails. */
int tok_kid_from_spki(char *out, size_t cap, const unsigned char *der, size_t len);

/* tok_claims_init zeroes c (no allocation). tok_claims_cleanup frees what c owns and zeroes it;
 * safe on a zeroed struct. */
void tok_claims_init(struct tok_claims *c);
void tok_claims_cleanup(struct tok_claims *c);
/* tok_claims_fill sets iss, sub and aud (copies) and iat = nbf = now, exp = now + ttl_s, ready
 * for tok_access_add and tok_issue. On failure c is cleaned up. */
int tok_claims_fill(struct tok_claims *c, const char *iss, const char *sub, const char *aud,
                    int64_t now, int64_t ttl_s, struct berr *err);
/* tok_access_add appends {type, name, actions} (strings copied; actions 0 is allowed and
 * issues "actions":[]). BERR_INTERNAL past TOK_MAX_ACCESS or on allocation failure; c is
 * unchanged then. */
int tok_access_add(struct tok_claims *c, const char *type, const char *name, unsigned actions,
                   struct berr *err);
/* tok_claims_allows: some access entry of exactly this type and name grants `action`
 * (one SCOPE_ACT_* bit; "*" grants all). */
bool tok_claims_allows(const struct tok_claims *c, const char *type, const char *name,
                       unsigned action);

/* tok_issue signs c with k. *out is new (mem_free), NUL-terminated, at most TOK_MAX_LEN bytes:
 * claims that would make a longer token fail with BERR_BAD_REQUEST "token too large" (the
 * client asked for more scopes than fit in one token), so the server never hands out a token it
 * would refuse. iss, sub and aud must be set (sub may be ""). */
int tok_issue(char **out, const struct tok_key *k, const struct tok_claims *c, struct berr *err);

/* tok_jwt_kid copies the kid named by jwt's header into out (cap bytes): 0, or -1 when the
 * header is not base64url JSON with a string kid that fits. Nothing is verified: it only says
 * which key to verify with (tok_verify checks the header again). */
int tok_jwt_kid(char *out, size_t cap, const char *jwt);

/* tok_verify checks jwt (a NUL-terminated string) against k and fills *out (initialised here;
 * on failure left zeroed). The signature is checked before any claim is read. Then: exp is
 * required and now must be < exp + leeway_s; nbf and iat, when present, must be integers and
 * nbf <= now + leeway_s; iss must equal want_iss; aud, a string or an array of strings, must
 * be or hold want_aud; access, when present, must be a well-formed list (an absent or empty
 * list grants nothing). want_iss and want_aud are required (non-NULL); a negative leeway counts
 * as 0. */
int tok_verify(struct tok_claims *out, const struct tok_key *k, const char *jwt,
               const char *want_iss, const char *want_aud, int64_t now, int64_t leeway_s,
               struct berr *err);

#endif
