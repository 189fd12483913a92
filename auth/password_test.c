/* password_test.c - round trip, wrong password, tampered and unknown strings, parameter parsing,
 * rehash advice, generated passwords and the policy. BERTH_TEST_KDF_ITER (test builds only)
 * keeps most derivations cheap; one round trip runs at the full default count. */
#include "auth/password.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/test.h"

/* release builds ignore BERTH_TEST_KDF_ITER (that is the point), so expect the default there */
#ifdef BERTH_TEST_BUILD
#define ITER_PREFIX "pbkdf2-sha256$2000$"
#define ITER_DIGITS 4
#else
#define ITER_PREFIX "pbkdf2-sha256$600000$"
#define ITER_DIGITS 6
#endif

static void test_round_trip(void)
{
    char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];
    struct berr err;
    bool ok = false;

    CHECK_INT_EQ(password_hash(h1, sizeof(h1), "Secret123", &err), 0);
    CHECK(strncmp(h1, ITER_PREFIX, strlen(ITER_PREFIX)) == 0);
    /* 14 + digits + 1 + 24 + 1 + 44 */
    CHECK_INT_EQ(strlen(h1), 84 + ITER_DIGITS);
    CHECK_INT_EQ(password_verify(h1, "Secret123", &ok, &err), 0);
    CHECK(ok);
    CHECK_INT_EQ(password_verify(h1, "Secret124", &ok, &err), 0);
    CHECK(!ok);
    CHECK_INT_EQ(password_verify(h1, "", &ok, &err), 0);
    CHECK(!ok);
    CHECK_INT_EQ(password_verify(h1, "Secret1234", &ok, &err), 0);
    CHECK(!ok);
    /* a fresh salt each time: same password, different strings, both verify */
    CHECK_INT_EQ(password_hash(h2, sizeof(h2), "Secret123", &err), 0);
    CHECK(strcmp(h1, h2) != 0);
    CHECK_INT_EQ(password_verify(h2, "Secret123", &ok, &err), 0);
    CHECK(ok);
    /* empty and long passwords hash too */
    CHECK_INT_EQ(password_hash(h2, sizeof(h2), "", &err), 0);
    CHECK_INT_EQ(password_verify(h2, "", &ok, &err), 0);
    CHECK(ok);
}

static void test_default_iterations(void)
{
    char h[PASSWORD_HASH_MAX];
    struct berr err;
    bool ok = false;

    /* without the override the OWASP count is used */
    CHECK_INT_EQ(unsetenv("BERTH_TEST_KDF_ITER"), 0);
    CHECK_INT_EQ(password_hash(h, sizeof(h), "Secret123", &err), 0);
    CHECK(strncmp(h, "pbkdf2-sha256$600000$", 21) == 0);
    CHECK_INT_EQ(password_verify(h, "Secret123", &ok, &err), 0);
    CHECK(ok);
    CHECK(!password_needs_rehash(h));
    /* an out-of-range override is ignored */
    CHECK_INT_EQ(setenv("BERTH_TEST_KDF_ITER", "5", 1), 0);
    CHECK_INT_EQ(password_hash(h, sizeof(h), "x", &err), 0);
    CHECK(strncmp(h, "pbkdf2-sha256$600000$", 21) == 0);
    CHECK_INT_EQ(setenv("BERTH_TEST_KDF_ITER", "2000", 1), 0);
}

/* reference computes the expected hash independently of password.c */
static void make_reference(char *out, size_t cap, const char *pw, const unsigned char *salt,
                           int saltlen, int iter)
{
    unsigned char dk[32];
    unsigned char s64[128], d64[64];

    if (PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, saltlen, iter, EVP_sha256(), 32, dk) != 1) {
        out[0] = '\0';
        return;
    }
    EVP_EncodeBlock(s64, salt, saltlen);
    EVP_EncodeBlock(d64, dk, 32);
    (void)snprintf(out, cap, "pbkdf2-sha256$%d$%s$%s", iter, s64, d64); /* test only */
}

static void test_parameters_parsed(void)
{
    unsigned char salt[64];
    char ref[256];
    struct berr err;
    bool ok = false;

    for (int i = 0; i < 64; i++)
        salt[i] = (unsigned char)(i * 7 + 1);
    /* another iteration count, and salt lengths other than 16, verify */
    make_reference(ref, sizeof(ref), "pw", salt, 16, 1000);
    CHECK_INT_EQ(password_verify(ref, "pw", &ok, &err), 0);
    CHECK(ok);
    CHECK(password_needs_rehash(ref)); /* 1000 < 2000 */
    make_reference(ref, sizeof(ref), "pw", salt, 32, 3001);
    CHECK_INT_EQ(password_verify(ref, "pw", &ok, &err), 0);
    CHECK(ok);
#ifdef BERTH_TEST_BUILD
    CHECK(!password_needs_rehash(ref));
#else
    CHECK(password_needs_rehash(ref));
#endif
    CHECK_INT_EQ(password_verify(ref, "pW", &ok, &err), 0);
    CHECK(!ok);
    make_reference(ref, sizeof(ref), "pw", salt, 64, 1000);
    CHECK_INT_EQ(password_verify(ref, "pw", &ok, &err), 0);
    CHECK(ok);
    /* RFC 7914 / well-known PBKDF2-HMAC-SHA256 vector: "password", "salt", 1 iteration would be
     * below the minimum; check a known value at 4096 iterations with a 16-byte salt instead
     * through the independent reference, then through verify */
    make_reference(ref, sizeof(ref), "password", (const unsigned char *)"saltSALTsaltSALT", 16,
                   4096);
    CHECK_INT_EQ(password_verify(ref, "password", &ok, &err), 0);
    CHECK(ok);
    /* too-short salt, too few and too many iterations are refused */
    make_reference(ref, sizeof(ref), "pw", salt, 8, 1000);
    CHECK_INT_EQ(password_verify(ref, "pw", &ok, &err), -1);
    CHECK(!ok);
    make_reference(ref, sizeof(ref), "pw", salt, 16, 999);
    CHECK_INT_EQ(password_verify(ref, "pw", &ok, &err), -1);
    CHECK(!ok);
    CHECK(password_needs_rehash(ref));
}

static void expect_malformed(const char *stored)
{
    struct berr err;
    bool ok = true;

    berr_clear(&err);
    CHECK_INT_EQ(password_verify(stored, "Secret123", &ok, &err), -1);
    CHECK(!ok);
    CHECK_INT_EQ(err.code, BERR_INTERNAL);
    CHECK(password_needs_rehash(stored));
}

static void test_tampered(void)
{
    char h[PASSWORD_HASH_MAX], t[PASSWORD_HASH_MAX + 8];
    struct berr err;
    bool ok = true;
    size_t len;
    char *p;

    CHECK_INT_EQ(password_hash(h, sizeof(h), "Secret123", &err), 0);
    len = strlen(h);

    /* one changed character in the hash part: parses, does not match */
    memcpy(t, h, len + 1);
    t[len - 3] = t[len - 3] == 'A' ? 'B' : 'A';
    CHECK_INT_EQ(password_verify(t, "Secret123", &ok, &err), 0);
    CHECK(!ok);
    /* a changed salt: no match */
    memcpy(t, h, len + 1);
    p = strchr(t + 14, '$') + 1;
    *p = *p == 'A' ? 'B' : 'A';
    CHECK_INT_EQ(password_verify(t, "Secret123", &ok, &err), 0);
    CHECK(!ok);
    /* a changed iteration count: no match */
    memcpy(t, h, len + 1);
    t[14] = t[14] == '3' ? '4' : '3'; /* 2000 -> 3000, 600000 -> 300000 */
    CHECK_INT_EQ(password_verify(t, "Secret123", &ok, &err), 0);
    CHECK(!ok);

    /* structural damage */
    memcpy(t, h, len + 1);
    t[len - 1] = '\0'; /* drop the padding */
    expect_malformed(t);
    memcpy(t, h, len + 1);
    t[len - 2] = '!';
    expect_malformed(t);
    memcpy(t, h, len + 1);
    memcpy(t + len, "AAAA", 5); /* hash too long */
    expect_malformed(t);
    memcpy(t, h, len + 1);
    t[len - 1] = 'A'; /* "=" replaced: 33 bytes? no, non-canonical */
    expect_malformed(t);
    memcpy(t, h, len + 1);
    /* non-zero low bits in the last character before the padding: non-canonical */
    t[len - 2] = t[len - 2] == 'B' ? 'D' : 'B';
    expect_malformed(t);

    expect_malformed("");
    expect_malformed("pbkdf2-sha256$");
    expect_malformed("pbkdf2-sha256$2000$");
    expect_malformed("pbkdf2-sha256$2000$$");
    expect_malformed("pbkdf2-sha256$$AAAAAAAAAAAAAAAAAAAAAA==$"
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    expect_malformed("pbkdf2-sha256$02000$AAAAAAAAAAAAAAAAAAAAAA==$"
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    expect_malformed("pbkdf2-sha256$-2000$AAAAAAAAAAAAAAAAAAAAAA==$"
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    expect_malformed("pbkdf2-sha256$99999999999999999999999$AAAAAAAAAAAAAAAAAAAAAA==$"
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    expect_malformed("pbkdf2-sha256$10000001$AAAAAAAAAAAAAAAAAAAAAA==$"
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    expect_malformed("pbkdf2-sha256$2000$AAAAAAAAAAAAAAAAAAAAAA==$"
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$x");
    expect_malformed("pbkdf2-sha256$2000$AAAAAAAAAAAAAAAAAAA AA==$"
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    /* well-formed, so the structural cases above are refused for their damage alone */
    {
        bool okw = true;
        CHECK_INT_EQ(password_verify("pbkdf2-sha256$2000$AAAAAAAAAAAAAAAAAAAAAA==$"
                                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                                     "Secret123", &okw, &err),
                     0);
        CHECK(!okw);
    }
}

static void test_unknown_algorithm(void)
{
    expect_malformed("scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$"
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    expect_malformed("pbkdf2-sha1$2000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    expect_malformed("$2y$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234");
    expect_malformed("Secret123"); /* a plaintext password in the column never verifies */
}

static void test_hash_small_buffer(void)
{
    char h[40];
    struct berr err;

    berr_clear(&err);
    CHECK_INT_EQ(password_hash(h, sizeof(h), "Secret123", &err), -1);
    CHECK_INT_EQ(err.code, BERR_INTERNAL);
    CHECK_STR_EQ(h, "");
}

static void test_generate(void)
{
    char pw[PASSWORD_GEN_LEN + 1], prev[PASSWORD_GEN_LEN + 1];
    struct berr err;
    char small[PASSWORD_GEN_LEN];

    prev[0] = '\0';
    for (int i = 0; i < 200; i++) {
        CHECK_INT_EQ(password_generate(pw, sizeof(pw)), 0);
        CHECK_INT_EQ(strlen(pw), PASSWORD_GEN_LEN);
        CHECK_INT_EQ(strspn(pw, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
                     PASSWORD_GEN_LEN);
        CHECK_INT_EQ(password_policy_check(pw, &err), 0);
        CHECK(strcmp(pw, prev) != 0);
        memcpy(prev, pw, sizeof(pw));
    }
    CHECK_INT_EQ(password_generate(small, sizeof(small)), -1);
    CHECK_STR_EQ(small, "");
}

static void test_policy(void)
{
    struct berr err;
    char longpw[140];

    CHECK_INT_EQ(password_policy_check("Harbor12345", &err), 0);
    CHECK_INT_EQ(password_policy_check("aB345678", &err), 0);
    CHECK_INT_EQ(password_policy_check("aB34567", &err), -1); /* 7 chars */
    CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);
    CHECK(strstr(err.msg, "8-128") != NULL);
    CHECK_INT_EQ(password_policy_check("harbor12345", &err), -1);
    CHECK_INT_EQ(password_policy_check("HARBOR12345", &err), -1);
    CHECK_INT_EQ(password_policy_check("HarborHarbor", &err), -1);
    CHECK_INT_EQ(password_policy_check("", &err), -1);
    CHECK_INT_EQ(password_policy_check("Pass word 1 with spaces!", &err), 0);
    memset(longpw, 'a', sizeof(longpw));
    longpw[0] = 'A';
    longpw[1] = '1';
    longpw[128] = '\0';
    CHECK_INT_EQ(password_policy_check(longpw, &err), 0);
    longpw[128] = 'a';
    longpw[129] = '\0';
    CHECK_INT_EQ(password_policy_check(longpw, &err), -1);
}

int main(void)
{
    if (setenv("BERTH_TEST_KDF_ITER", "2000", 1) != 0)
        return 1;
    TEST_RUN(test_round_trip);
    TEST_RUN(test_default_iterations);
    TEST_RUN(test_parameters_parsed);
    TEST_RUN(test_tampered);
    TEST_RUN(test_unknown_algorithm);
    TEST_RUN(test_hash_small_buffer);
    TEST_RUN(test_generate);
    TEST_RUN(test_policy);
    return test_summary();
}
