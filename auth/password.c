/* password.c - PBKDF2-HMAC-SHA256 password hashes, generated passwords, the password policy.
 *
 * Why PBKDF2 and not scrypt: OWASP (2023) accepts both, PBKDF2-HMAC-SHA256 at 600000 iterations
 * and scrypt at N=2^17, r=8, p=1. scrypt's strength is memory hardness, but that memory (128 MiB
 * per derivation at OWASP's setting) is paid by the server for every concurrent login: eight
 * worker threads answering token requests would claim a gigabyte, and an attacker sending bad
 * passwords could push the host into swap. PBKDF2 costs CPU only, a fixed few hundred
 * milliseconds per login on one core, which the login throttle and auth/authn.c's cache of
 * recent successes bound; it is also FIPS 140 approved and has one parameter to raise.
 *
 * Invariants:
 *   1. A stored string always names its algorithm and iteration count; verify derives with the
 *      stored count, never the current default, so raising PASSWORD_PBKDF2_ITER breaks nothing.
 *   2. verify accepts only the canonical encoding (it re-encodes what it decoded and compares),
 *      so one password has exactly one stored form per salt and count.
 *   3. Hashes are compared with CRYPTO_memcmp over the full 32 bytes: time does not depend on
 *      where they differ.
 *   4. Derived keys and salts on the stack are wiped with OPENSSL_cleanse on every path.
 * No shared state; OpenSSL's RAND and KDF are thread-safe. */
#include "auth/password.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/digest.h"
#include "common/parse.h"
#include "common/util.h"

#define ALG_PREFIX "pbkdf2-sha256$"
#define SALT_BYTES 16
#define SALT_MIN_BYTES 16
#define SALT_MAX_BYTES 64
#define HASH_BYTES 32
#define B64_LEN(n) ((((size_t)(n) + 2) / 3) * 4)

/* iterations password_hash uses: the default, or BERTH_TEST_KDF_ITER in test builds */
static unsigned long kdf_iterations(void)
{
#ifdef BERTH_TEST_BUILD
    const char *env = getenv("BERTH_TEST_KDF_ITER");
    uint64_t v;

    if (env != NULL && parse_u64_range(&v, env, strlen(env), PASSWORD_PBKDF2_MIN_ITER,
                                       PASSWORD_PBKDF2_MAX_ITER) == 0)
        return (unsigned long)v;
#endif
    return PASSWORD_PBKDF2_ITER;
}

static int derive(unsigned char out[HASH_BYTES], const char *plain, const unsigned char *salt,
                  size_t saltlen, unsigned long iter)
{
    size_t plen = strlen(plain);

    if (plen > INT_MAX || saltlen > INT_MAX || iter > INT_MAX)
        return -1;
    if (PKCS5_PBKDF2_HMAC(plain, (int)plen, salt, (int)saltlen, (int)iter, digest_sha256_md(),
                          HASH_BYTES, out) != 1)
        return -1;
    return 0;
}

/* b64_encode writes the padded base64 of n bytes plus a NUL; cap >= B64_LEN(n) + 1 */
static void b64_encode(char *out, const unsigned char *p, size_t n)
{
    (void)EVP_EncodeBlock((unsigned char *)out, p, (int)n); /* n is at most SALT_MAX_BYTES */
}

/* b64_decode_canonical decodes exactly len characters into out (cap bytes) and returns the
 * number of bytes, or -1 unless s is the canonical padded base64 of that many bytes. */
static int b64_decode_canonical(unsigned char *out, size_t cap, const char *s, size_t len)
{
    unsigned char tmp[B64_LEN(SALT_MAX_BYTES) / 4 * 3];
    char again[B64_LEN(SALT_MAX_BYTES) + 1];
    size_t pad = 0, n;
    int got;

    if (len == 0 || len % 4 != 0 || len > B64_LEN(SALT_MAX_BYTES))
        return -1;
    if (s[len - 1] == '=')
        pad++;
    if (s[len - 2] == '=')
        pad++;
    got = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)len);
    if (got < 0 || (size_t)got != len / 4 * 3)
        return -1;
    n = (size_t)got - pad;
    if (n > cap)
        goto fail;
    b64_encode(again, tmp, n);
    if (strlen(again) != len || memcmp(again, s, len) != 0)
        goto fail;
    memcpy(out, tmp, n);
    OPENSSL_cleanse(tmp, sizeof(tmp));
    return (int)n;
fail:
    OPENSSL_cleanse(tmp, sizeof(tmp));
    return -1;
}

int password_hash(char *out, size_t cap, const char *plain, struct berr *err)
{
    unsigned char salt[SALT_BYTES], dk[HASH_BYTES];
    char salt64[B64_LEN(SALT_BYTES) + 1], dk64[B64_LEN(HASH_BYTES) + 1];
    unsigned long iter = kdf_iterations();
    int rc = 0, n;

    if (cap > 0)
        out[0] = '\0';
    if (RAND_bytes(salt, SALT_BYTES) != 1) {
        rc = berr_set(err, BERR_INTERNAL, "internal error");
        goto out;
    }
    if (derive(dk, plain, salt, SALT_BYTES, iter) < 0) {
        rc = berr_set(err, BERR_INTERNAL, "internal error");
        goto out;
    }
    b64_encode(salt64, salt, SALT_BYTES);
    b64_encode(dk64, dk, HASH_BYTES);
    n = snprintf(out, cap, ALG_PREFIX "%lu$%s$%s", iter, salt64, dk64);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            OPENSSL_cleanse(out, cap);
        rc = berr_set(err, BERR_INTERNAL, "internal error");
    }
out:
    OPENSSL_cleanse(salt, sizeof(salt));
    OPENSSL_cleanse(dk, sizeof(dk));
    OPENSSL_cleanse(salt64, sizeof(salt64));
    OPENSSL_cleanse(dk64, sizeof(dk64));
    return rc;
}

/* parse_stored splits a stored string; -1 when it is not a well-formed pbkdf2-sha256 string */
static int parse_stored(unsigned long *iter, unsigned char *salt, size_t *saltlen,
                        unsigned char hash[HASH_BYTES], const char *stored)
{
    const char *p, *d1, *d2;
    uint64_t v;
    int n;

    if (!str_has_prefix(stored, ALG_PREFIX))
        return -1;
    p = stored + strlen(ALG_PREFIX);
    d1 = strchr(p, '$');
    if (d1 == NULL)
        return -1;
    d2 = strchr(d1 + 1, '$');
    if (d2 == NULL)
        return -1;
    /* decimal without leading zeros, so the count has one spelling */
    if (p[0] == '0' || parse_u64_range(&v, p, (size_t)(d1 - p), PASSWORD_PBKDF2_MIN_ITER,
                                       PASSWORD_PBKDF2_MAX_ITER) < 0)
        return -1;
    *iter = (unsigned long)v;
    n = b64_decode_canonical(salt, SALT_MAX_BYTES, d1 + 1, (size_t)(d2 - d1 - 1));
    if (n < SALT_MIN_BYTES)
        return -1;
    *saltlen = (size_t)n;
    n = b64_decode_canonical(hash, HASH_BYTES, d2 + 1, strlen(d2 + 1));
    if (n != HASH_BYTES)
        return -1;
    return 0;
}

int password_verify(const char *stored, const char *plain, bool *ok, struct berr *err)
{
    unsigned char salt[SALT_MAX_BYTES], want[HASH_BYTES], got[HASH_BYTES];
    unsigned long iter = 0;
    size_t saltlen = 0;
    int rc = 0;

    *ok = false;
    if (parse_stored(&iter, salt, &saltlen, want, stored) < 0) {
        rc = berr_set(err, BERR_INTERNAL, "stored password hash is malformed or unsupported");
        goto out;
    }
    if (derive(got, plain, salt, saltlen, iter) < 0) {
        rc = berr_set(err, BERR_INTERNAL, "internal error");
        goto out;
    }
    *ok = CRYPTO_memcmp(got, want, HASH_BYTES) == 0;
out:
    OPENSSL_cleanse(salt, sizeof(salt));
    OPENSSL_cleanse(want, sizeof(want));
    OPENSSL_cleanse(got, sizeof(got));
    return rc;
}

bool password_needs_rehash(const char *stored)
{
    unsigned char salt[SALT_MAX_BYTES], hash[HASH_BYTES];
    unsigned long iter = 0;
    size_t saltlen = 0;
    bool weak;

    weak = parse_stored(&iter, salt, &saltlen, hash, stored) < 0 || iter < kdf_iterations() ||
           saltlen < SALT_BYTES;
    OPENSSL_cleanse(salt, sizeof(salt));
    OPENSSL_cleanse(hash, sizeof(hash));
    return weak;
}

static bool classes_ok(const char *s, size_t len)
{
    bool upper = false, lower = false, digit = false;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            upper = true;
        else if (c >= 'a' && c <= 'z')
            lower = true;
        else if (c >= '0' && c <= '9')
            digit = true;
    }
    return upper && lower && digit;
}

int password_generate(char *out, size_t cap)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    /* bytes at or above this would bias the modulo; 62 * 4 = 248 */
    const unsigned limit = (256 / (sizeof(alphabet) - 1)) * (sizeof(alphabet) - 1);
    unsigned char rnd[64];
    int rc = -1;

    if (cap > 0)
        out[0] = '\0';
    if (cap <= PASSWORD_GEN_LEN)
        return -1;
    /* a draw misses a class with probability about 24 * (36/62)^24, below 1e-4; 64 tries
     * failing in a row mean a broken generator, reported as such */
    for (int attempt = 0; attempt < 64; attempt++) {
        size_t n = 0;

        while (n < PASSWORD_GEN_LEN) {
            if (RAND_bytes(rnd, (int)sizeof(rnd)) != 1)
                goto out;
            for (size_t i = 0; i < sizeof(rnd) && n < PASSWORD_GEN_LEN; i++) {
                if (rnd[i] < limit)
                    out[n++] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
            }
        }
        out[n] = '\0';
        if (classes_ok(out, n)) {
            rc = 0;
            goto out;
        }
    }
out:
    OPENSSL_cleanse(rnd, sizeof(rnd));
    if (rc < 0)
        OPENSSL_cleanse(out, cap);
    return rc;
}

int password_policy_check(const char *plain, struct berr *err)
{
    size_t len = strnlen(plain, PASSWORD_MAX_LEN + 1);

    if (len < PASSWORD_MIN_LEN || len > PASSWORD_MAX_LEN || !classes_ok(plain, len))
        return berr_set(err, BERR_BAD_REQUEST,
                        "password must be %d-%d characters with at least one upper-case letter, "
                        "one lower-case letter and one digit",
                        PASSWORD_MIN_LEN, PASSWORD_MAX_LEN);
    return 0;
}
