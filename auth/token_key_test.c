/* token_key_test.c - bearer-token keys: the libtrust kid against a vector computed outside
 * Berth, key file creation (mode 0600), reload and rejection of bad files (garbage, small RSA,
 * EC, encrypted, a directory, a missing parent), refused key sizes, tokens whose kid names no
 * key or another key. Last, issue and verify rates for a 2048- and a 3072-bit key are printed.
 * Invariant: every file is made inside one mkdtemp directory, which must be empty and removable
 * at the end. */
#include "auth/token.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "auth/token_test_util.h"
#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"

static char tmpdir[] = "/tmp/berth-token-key-test-XXXXXX";
static struct tok_key *kf; /* the 3072-bit key tok_key_load_or_create made */

static void test_kid_vector(void)
{
    /* an RSA-2048 SubjectPublicKeyInfo; the expected ID was computed with Python's hashlib and
     * base64.b32encode from the DER `openssl pkey -pubout -outform DER` printed */
    static const char spki_b64[] =
            "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqEdoCcHSD55KvW6g3uoiK8w//pohASTbVBkqurNa"
            "pWNZobFl4O8Dl7Gm/Pu3JF3O9lz54LCPNcEz78Kd45YiJ/jbcoflRD1fLLMpLoo65GQ8mxtdWXqULmCJG9a0"
            "TZnaefZG/LS8G/NHcim1aaSWA3n5LyrHdec8PBPz8ZEVtt8J5P3VL9OappkHVhU+2uVh+Sl85CVfGGfLVX6D"
            "WE2sLl8W2pWyjsy7Qj8rm5OHx/zBLn3JqcZ2YFOKO9opy0SGNUPzL8zDL8FlrlXoVVVIZ1YBkGP3cslquEo/"
            "GWHmckyUdRK13DLzREm0hGGD4stOCtTcqLhe4BMIjCUFMFoO/wIDAQAB";
    unsigned char der[400];
    char kid[TOK_KID_LEN + 1];
    unsigned char *mine = NULL;
    int n;

    n = EVP_DecodeBlock(der, (const unsigned char *)spki_b64, (int)strlen(spki_b64));
    CHECK_INT_EQ(n, 294);
    CHECK_INT_EQ(tok_kid_from_spki(kid, sizeof(kid), der, 294), 0);
    CHECK_STR_EQ(kid, "TUJS:7FZT:NI4A:65CR:YFX3:VYEH:5Y4O:43HQ:5QZL:XGZV:3T54:R4EO");
    CHECK_INT_EQ(tok_kid_from_spki(kid, TOK_KID_LEN, der, 294), -1);
    /* one bit of the key changes the ID */
    der[100] ^= 1;
    CHECK_INT_EQ(tok_kid_from_spki(kid, sizeof(kid), der, 294), 0);
    CHECK(strcmp(kid, "TUJS:7FZT:NI4A:65CR:YFX3:VYEH:5Y4O:43HQ:5QZL:XGZV:3T54:R4EO") != 0);

    /* a loaded key's kid is that of its own SPKI, in the 12x4 shape */
    n = i2d_PUBKEY(pk_a, &mine);
    CHECK(n > 0);
    CHECK_INT_EQ(tok_kid_from_spki(kid, sizeof(kid), mine, (size_t)n), 0);
    OPENSSL_free(mine);
    CHECK_STR_EQ(tok_key_kid(ka), kid);
    CHECK_INT_EQ(strlen(tok_key_kid(ka)), TOK_KID_LEN);
    for (size_t i = 0; i < TOK_KID_LEN; i++) {
        char c = tok_key_kid(ka)[i];
        if (i % 5 == 4)
            CHECK(c == ':');
        else
            CHECK((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'));
    }
    CHECK(strcmp(tok_key_kid(ka), tok_key_kid(kb)) != 0);
}

/* count_entries counts the names in dir other than . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    }
    (void)closedir(d); /* read-only handle */
    return n;
}

/* remove_tmpdir deletes the (flat) test directory */
static int remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char p[512];
    int rc = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name) >= (int)sizeof(p) || unlink(p) < 0)
            rc = -1;
    }
    (void)closedir(d); /* read-only handle */
    if (rmdir(tmpdir) < 0)
        rc = -1;
    return rc;
}

static int write_raw(const char *path, const char *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    ssize_t w;

    if (fd < 0)
        return -1;
    w = write(fd, data, len);
    if (close(fd) < 0 || w < 0 || (size_t)w != len)
        return -1;
    return 0;
}

static void test_key_file(void)
{
    char path[256], bad[256], before[8192], after[8192], pem[8192];
    struct tok_key *k2 = NULL, *k3 = NULL;
    EVP_PKEY *small = NULL, *ec = NULL;
    struct stat st;
    struct berr err;
    char *data = NULL;
    size_t len = 0;
    int64_t t0;

    CHECK(snprintf(path, sizeof(path), "%s/token.key", tmpdir) > 0);
    t0 = now_ms_mono();
    CHECK_INT_EQ(tok_key_load_or_create(&kf, path, &err), 0);
    printf("generated a %d-bit key in %lld ms\n", kf != NULL ? tok_key_bits(kf) : 0,
           (long long)(now_ms_mono() - t0));
    CHECK(kf != NULL);
    if (kf == NULL)
        return;
    CHECK_INT_EQ(tok_key_bits(kf), 3072);
    CHECK_INT_EQ(stat(path, &st), 0);
    CHECK_INT_EQ(st.st_mode & 0777, 0600);
    CHECK(S_ISREG(st.st_mode));
    CHECK_INT_EQ(read_file(&data, &len, path, 65536), 0);
    CHECK(data != NULL && strstr(data, "-----BEGIN PRIVATE KEY-----") == data);
    if (data != NULL && len < sizeof(before)) {
        memcpy(before, data, len + 1);
    }
    mem_free(data);
    data = NULL;

    /* reload: same key, same kid, file untouched; no temp file left behind */
    CHECK_INT_EQ(tok_key_load_or_create(&k2, path, &err), 0);
    CHECK(k2 != NULL && strcmp(tok_key_kid(k2), tok_key_kid(kf)) == 0);
    CHECK_INT_EQ(read_file(&data, &len, path, 65536), 0);
    if (data != NULL && len < sizeof(after)) {
        memcpy(after, data, len + 1);
        CHECK_STR_EQ(after, before);
    }
    mem_free(data);
    data = NULL;
    CHECK_INT_EQ(count_entries(tmpdir), 1);

    /* a key file left looser (an older version, a copy) is tightened to 0600 on load */
    CHECK_INT_EQ(chmod(path, 0644), 0);
    CHECK_INT_EQ(tok_key_load_or_create(&k3, path, &err), 0);
    CHECK(k3 != NULL && strcmp(tok_key_kid(k3), tok_key_kid(kf)) == 0);
    CHECK_INT_EQ(stat(path, &st), 0);
    CHECK_INT_EQ(st.st_mode & 0777, 0600);
    tok_key_free(k3);
    k3 = NULL;

    /* a token issued with the first handle verifies with the reloaded one */
    {
        struct tok_claims c, v;
        char *jwt = NULL;
        tok_claims_init(&c);
        CHECK_INT_EQ(tok_claims_fill(&c, ISS, "bob", AUD, NOW, 300, &err), 0);
        CHECK_INT_EQ(tok_issue(&jwt, kf, &c, &err), 0);
        CHECK(jwt != NULL && k2 != NULL);
        if (jwt != NULL && k2 != NULL) {
            CHECK_INT_EQ(tok_verify(&v, k2, jwt, ISS, AUD, NOW, 0, &err), 0);
            CHECK_STR_EQ(v.sub, "bob");
            tok_claims_cleanup(&v);
            /* a foreign key refuses it by kid */
            CHECK_INT_EQ(tok_verify(&v, ka, jwt, ISS, AUD, NOW, 0, &err), -1);
            CHECK_STR_EQ(err.msg, "unknown key");
        }
        mem_free(jwt);
        tok_claims_cleanup(&c);
    }
    tok_key_free(k2);

    /* a garbage file is an error and is never replaced */
    CHECK(snprintf(bad, sizeof(bad), "%s/garbage.key", tmpdir) > 0);
    CHECK_INT_EQ(write_raw(bad, "not a key\n", 10, 0600), 0);
    CHECK_INT_EQ(tok_key_load_or_create(&k3, bad, &err), -1);
    CHECK(k3 == NULL);
    CHECK_INT_EQ(err.code, BERR_INTERNAL);
    CHECK_INT_EQ(read_file(&data, &len, bad, 100), 0);
    CHECK(data != NULL && len == 10 && memcmp(data, "not a key\n", 10) == 0);
    mem_free(data);
    data = NULL;

    /* a 1024-bit RSA key, an EC key and an encrypted key are refused (no passphrase prompt) */
    small = EVP_RSA_gen(1024);
    CHECK(small != NULL);
    if (small != NULL) {
        pem_of(small, pem, sizeof(pem), NULL);
        CHECK_INT_EQ(write_raw(bad, pem, strlen(pem), 0600), 0);
        CHECK_INT_EQ(tok_key_load_or_create(&k3, bad, &err), -1);
        CHECK(strstr(err.msg, "1024 bits") != NULL);
    }
    ec = EVP_EC_gen("P-256");
    CHECK(ec != NULL);
    if (ec != NULL) {
        pem_of(ec, pem, sizeof(pem), NULL);
        CHECK_INT_EQ(tok_key_from_pem(&k3, pem, strlen(pem), &err), -1);
        CHECK_STR_EQ(err.msg, "token key: not an RSA key");
    }
    pem_of(pk_a, pem, sizeof(pem), EVP_aes_128_cbc());
    CHECK(strstr(pem, "ENCRYPTED") != NULL);
    CHECK_INT_EQ(tok_key_from_pem(&k3, pem, strlen(pem), &err), -1);
    CHECK(k3 == NULL);
    EVP_PKEY_free(small);
    EVP_PKEY_free(ec);

    /* a directory in the way, a missing parent directory */
    CHECK_INT_EQ(tok_key_load_or_create(&k3, tmpdir, &err), -1);
    CHECK(snprintf(bad, sizeof(bad), "%s/no/such/dir/token.key", tmpdir) > 0);
    CHECK_INT_EQ(tok_key_load_or_create(&k3, bad, &err), -1);
    CHECK_INT_EQ(err.code, BERR_INTERNAL);
    CHECK(k3 == NULL);

    /* key sizes tok_key_generate refuses */
    CHECK_INT_EQ(tok_key_generate(&k3, 1024, &err), -1);
    CHECK_INT_EQ(tok_key_generate(&k3, 8192, &err), -1);
    CHECK(k3 == NULL);
}

static void test_kid(void)
{
    char jwt[65536], h[256];
    EVP_PKEY *other = EVP_RSA_gen(2048);

    CHECK(other != NULL);
    /* our kid, someone else's signature */
    forge(jwt, sizeof(jwt), hdr_a(), std_payload(), SIG_RS256, other);
    CHECK_STR_EQ(verify_msg(jwt), "bad signature");
    /* kid missing, kid of key B, kid not a string */
    forge(jwt, sizeof(jwt), "{\"alg\":\"RS256\"}", std_payload(), SIG_RS256, pk_a);
    CHECK_STR_EQ(verify_msg(jwt), "unknown key");
    CHECK(snprintf(h, sizeof(h), "{\"alg\":\"RS256\",\"kid\":\"%s\"}", tok_key_kid(kb)) > 0);
    forge(jwt, sizeof(jwt), h, std_payload(), SIG_RS256, pk_a);
    CHECK_STR_EQ(verify_msg(jwt), "unknown key");
    forge(jwt, sizeof(jwt), "{\"alg\":\"RS256\",\"kid\":7}", std_payload(), SIG_RS256, pk_a);
    CHECK_STR_EQ(verify_msg(jwt), "unknown key");
    EVP_PKEY_free(other);
}

static void rates(const char *label, const struct tok_key *k)
{
    struct tok_claims c, v;
    struct berr err;
    char *jwt = NULL;
    int64_t t0, dt;
    long n;

    tok_claims_init(&c);
    CHECK_INT_EQ(tok_claims_fill(&c, ISS, "alice", AUD, now_s(), 1800, &err), 0);
    CHECK_INT_EQ(
            tok_access_add(&c, "repository", "proj/app", SCOPE_ACT_PULL | SCOPE_ACT_PUSH, &err), 0);
    t0 = now_ms_mono();
    for (n = 0; (dt = now_ms_mono() - t0) < 700; n++) {
        mem_free(jwt);
        jwt = NULL;
        if (tok_issue(&jwt, k, &c, &err) < 0)
            break;
    }
    printf("%s: issue  %8.0f tokens/s (%ld in %lld ms)\n", label,
           dt > 0 ? (double)n * 1000.0 / (double)dt : 0.0, n, (long long)dt);
    CHECK(jwt != NULL);
    if (jwt == NULL)
        goto out;
    t0 = now_ms_mono();
    for (n = 0; (dt = now_ms_mono() - t0) < 700; n++) {
        if (tok_verify(&v, k, jwt, ISS, AUD, now_s(), 60, &err) < 0)
            break;
        tok_claims_cleanup(&v);
    }
    printf("%s: verify %8.0f tokens/s (%ld in %lld ms)\n", label,
           dt > 0 ? (double)n * 1000.0 / (double)dt : 0.0, n, (long long)dt);
    CHECK(n > 10);
out:
    mem_free(jwt);
    tok_claims_cleanup(&c);
}

static void test_rates(void)
{
    rates("rsa-2048", ka);
    if (kf != NULL)
        rates("rsa-3072", kf);
}

int main(void)
{
    int rc;

    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    if (tt_setup() < 0) {
        tt_teardown();
        return test_summary();
    }

    TEST_RUN(test_kid_vector);
    TEST_RUN(test_key_file);
    TEST_RUN(test_kid);
    TEST_RUN(test_rates);

    tt_teardown();
    tok_key_free(kf);
    rc = remove_tmpdir();
    CHECK_INT_EQ(rc, 0);
    return test_summary();
}
