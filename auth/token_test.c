/* token_test.c - bearer tokens: the libtrust kid against a vector computed outside Berth,
 * key file creation (mode 0600), reload and rejection of bad files, issue/verify round trips,
 * and every way a token must be refused: tampered payload or signature, alg none, HS256 keyed
 * with the public key, other algs, foreign keys, expiry and nbf around the leeway, issuer and
 * audience, malformed base64 and JSON, oversized tokens. Tokens are forged here with OpenSSL
 * directly (own base64url via EVP_EncodeBlock), not with token.c's code. Allocation failures
 * are injected into tok_issue, tok_verify and the claim helpers. Last, issue and verify rates
 * for a 2048- and a 3072-bit key are printed. */
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
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"

#define ISS "berth-token-issuer"
#define AUD "berth-registry"
#define NOW ((int64_t)1760000000)

static char tmpdir[] = "/tmp/berth-token-test-XXXXXX";
static EVP_PKEY *pk_a;     /* the test's own handle on key A, for forging */
static struct tok_key *ka; /* key A, 2048 bits, from PEM */
static struct tok_key *kb; /* key B, another 2048-bit key */
static struct tok_key *kf; /* the 3072-bit key tok_key_load_or_create made */

/* ---- helpers: our own base64url and JWT forging ---- */

static size_t b64u(char *out, const unsigned char *in, size_t n)
{
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    size_t o = 0;

    for (int i = 0; i < len; i++) {
        char c = out[i];
        if (c == '=')
            break;
        out[o++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[o] = '\0';
    return o;
}

enum forge_sig { SIG_RS256, SIG_HS256_PUBPEM, SIG_EMPTY, SIG_JUNK };

/* forge builds header.payload.signature into out (cap must fit; 64 KiB callers). */
static void forge(char *out, size_t cap, const char *hdr, const char *payload, enum forge_sig how,
                  EVP_PKEY *key)
{
    static unsigned char sig[1024];
    size_t o, sl = sizeof(sig);

    if (4 * (strlen(hdr) + strlen(payload)) / 3 + 2048 > cap) {
        out[0] = '\0';
        return;
    }
    o = b64u(out, (const unsigned char *)hdr, strlen(hdr));
    out[o++] = '.';
    o += b64u(out + o, (const unsigned char *)payload, strlen(payload));
    if (how == SIG_RS256) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        CHECK(ctx != NULL && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
              EVP_DigestSign(ctx, sig, &sl, (unsigned char *)out, o) == 1);
        EVP_MD_CTX_free(ctx);
    } else if (how == SIG_HS256_PUBPEM) {
        char *pem = NULL;
        unsigned int ml = 0;
        struct berr err;
        CHECK_INT_EQ(tok_key_public_pem(&pem, ka, &err), 0);
        CHECK(pem != NULL &&
              HMAC(EVP_sha256(), pem, (int)strlen(pem), (unsigned char *)out, o, sig, &ml) != NULL);
        sl = ml;
        mem_free(pem);
    } else if (how == SIG_JUNK) {
        memset(sig, 0x41, 256);
        sl = 256;
    } else {
        sl = 0;
    }
    out[o++] = '.';
    o += b64u(out + o, sig, sl);
    out[o] = '\0';
}

static const char *hdr_a(void)
{
    static char h[160];
    int n = snprintf(h, sizeof(h), "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"%s\"}",
                     tok_key_kid(ka));
    CHECK(n > 0 && (size_t)n < sizeof(h));
    return h;
}

static const char *std_payload(void)
{
    return "{\"iss\":\"" ISS "\",\"sub\":\"alice\",\"aud\":\"" AUD "\",\"exp\":1760000300,"
           "\"nbf\":1760000000,\"iat\":1760000000,\"jti\":\"x\",\"access\":[]}";
}

/* verify_msg runs tok_verify with key A at NOW, leeway 60; returns the error message or "ok". */
static const char *verify_msg(const char *jwt)
{
    static struct berr err;
    struct tok_claims c;

    berr_clear(&err);
    if (tok_verify(&c, ka, jwt, ISS, AUD, NOW, 60, &err) == 0) {
        tok_claims_cleanup(&c);
        return "ok";
    }
    CHECK_INT_EQ(err.code, BERR_UNAUTHORIZED);
    CHECK(c.sub == NULL && c.access == NULL && c.n_access == 0);
    return err.msg;
}

static const char *verify_payload(const char *payload)
{
    static char jwt[65536];

    forge(jwt, sizeof(jwt), hdr_a(), payload, SIG_RS256, pk_a);
    return verify_msg(jwt);
}

/* ---- tests ---- */

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

static void pem_of(EVP_PKEY *pk, char *out, size_t cap, const EVP_CIPHER *enc)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len;

    out[0] = '\0';
    CHECK(bio != NULL);
    if (bio == NULL)
        return;
    if (enc != NULL)
        CHECK(PEM_write_bio_PrivateKey(bio, pk, enc, (unsigned char *)"pw", 2, NULL, NULL) == 1);
    else
        CHECK(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1);
    len = BIO_get_mem_data(bio, &data);
    CHECK(len > 0 && (size_t)len < cap);
    if (len > 0 && (size_t)len < cap) {
        memcpy(out, data, (size_t)len);
        out[len] = '\0';
    }
    BIO_free(bio);
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

static void test_round_trip(void)
{
    struct tok_claims c, v;
    struct berr err;
    char *jwt = NULL, *jwt2 = NULL;
    unsigned char raw[4096];
    int n;

    tok_claims_init(&c);
    CHECK_INT_EQ(tok_claims_fill(&c, ISS, "robot$proj+ci", AUD, NOW, 1800, &err), 0);
    CHECK_INT_EQ(
            tok_access_add(&c, "repository", "proj/app", SCOPE_ACT_PULL | SCOPE_ACT_PUSH, &err), 0);
    CHECK_INT_EQ(tok_access_add(&c, "repository", "host:5000/p/r", 0, &err), 0);
    CHECK_INT_EQ(tok_access_add(&c, "registry", "catalog", SCOPE_ACT_STAR, &err), 0);
    CHECK_INT_EQ(tok_issue(&jwt, ka, &c, &err), 0);
    CHECK(jwt != NULL);
    if (jwt == NULL)
        goto out;
    CHECK(strchr(jwt, '=') == NULL && strchr(jwt, '+') == NULL && strchr(jwt, '/') == NULL);

    /* the header and claims as the spec shows them */
    {
        const char *d1 = strchr(jwt, '.');
        const char *d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
        char seg[4096], want[256];
        size_t sl;
        CHECK(d1 != NULL && d2 != NULL);
        if (d1 == NULL || d2 == NULL)
            goto out;
        /* pad for EVP_DecodeBlock */
        sl = (size_t)(d1 - jwt);
        memcpy(seg, jwt, sl);
        while (sl % 4 != 0)
            seg[sl++] = '=';
        for (size_t i = 0; i < sl; i++)
            seg[i] = seg[i] == '-' ? '+' : seg[i] == '_' ? '/' : seg[i];
        n = EVP_DecodeBlock(raw, (unsigned char *)seg, (int)sl);
        CHECK(n > 0);
        raw[n > 0 ? n : 0] = '\0';
        CHECK(snprintf(want, sizeof(want), "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"%s\"}",
                       tok_key_kid(ka)) > 0);
        CHECK(strncmp((char *)raw, want, strlen(want)) == 0);

        sl = (size_t)(d2 - d1 - 1);
        memcpy(seg, d1 + 1, sl);
        while (sl % 4 != 0)
            seg[sl++] = '=';
        for (size_t i = 0; i < sl; i++)
            seg[i] = seg[i] == '-' ? '+' : seg[i] == '_' ? '/' : seg[i];
        n = EVP_DecodeBlock(raw, (unsigned char *)seg, (int)sl);
        CHECK(n > 0);
        raw[n > 0 ? n : 0] = '\0';
        CHECK(strstr((char *)raw, "\"aud\":\"" AUD "\"") != NULL); /* a string, not an array */
        CHECK(strstr((char *)raw, "\"sub\":\"robot$proj+ci\"") != NULL);
        CHECK(strstr((char *)raw, "\"exp\":1760001800,\"nbf\":1760000000,\"iat\":1760000000") !=
              NULL);
        CHECK(strstr((char *)raw,
                     "\"access\":[{\"type\":\"repository\",\"name\":\"proj/app\","
                     "\"actions\":[\"pull\",\"push\"]},{\"type\":\"repository\","
                     "\"name\":\"host:5000/p/r\",\"actions\":[]},{\"type\":"
                     "\"registry\",\"name\":\"catalog\",\"actions\":[\"*\"]}]") != NULL);
        CHECK(strstr((char *)raw, "\"jti\":\"") != NULL);
        /* the signature is the modulus size: 256 bytes -> 342 characters */
        CHECK_INT_EQ(strlen(d2 + 1), 342);
    }

    CHECK_INT_EQ(tok_verify(&v, ka, jwt, ISS, AUD, NOW + 100, 0, &err), 0);
    CHECK_STR_EQ(v.iss, ISS);
    CHECK_STR_EQ(v.sub, "robot$proj+ci");
    CHECK_STR_EQ(v.aud, AUD);
    CHECK_INT_EQ(v.iat, NOW);
    CHECK_INT_EQ(v.nbf, NOW);
    CHECK_INT_EQ(v.exp, NOW + 1800);
    CHECK(v.jti != NULL && strlen(v.jti) == 32);
    CHECK_INT_EQ(v.n_access, 3);
    if (v.n_access == 3) {
        CHECK_STR_EQ(v.access[0].type, "repository");
        CHECK_STR_EQ(v.access[0].name, "proj/app");
        CHECK_INT_EQ(v.access[0].actions, SCOPE_ACT_PULL | SCOPE_ACT_PUSH);
        CHECK_STR_EQ(v.access[1].name, "host:5000/p/r");
        CHECK_INT_EQ(v.access[1].actions, 0);
        CHECK_INT_EQ(v.access[2].actions, SCOPE_ACT_STAR);
    }
    CHECK(tok_claims_allows(&v, "repository", "proj/app", SCOPE_ACT_PUSH));
    CHECK(!tok_claims_allows(&v, "repository", "proj/app", SCOPE_ACT_DELETE));
    CHECK(!tok_claims_allows(&v, "repository", "proj/ap", SCOPE_ACT_PULL));
    CHECK(!tok_claims_allows(&v, "registry", "proj/app", SCOPE_ACT_PULL));
    CHECK(!tok_claims_allows(&v, "repository", "host:5000/p/r", SCOPE_ACT_PULL));
    CHECK(tok_claims_allows(&v, "registry", "catalog", SCOPE_ACT_PULL));
    tok_claims_cleanup(&v);
    CHECK(v.sub == NULL && v.n_access == 0);

    /* a fresh jti each time */
    CHECK_INT_EQ(tok_issue(&jwt2, ka, &c, &err), 0);
    CHECK(jwt2 != NULL && strcmp(jwt, jwt2) != 0);
    CHECK_INT_EQ(tok_verify(&v, ka, jwt2, ISS, AUD, NOW, 0, &err), 0);
    tok_claims_cleanup(&v);

    /* an empty access list and an empty subject (anonymous) */
    tok_claims_cleanup(&c);
    CHECK_INT_EQ(tok_claims_fill(&c, ISS, "", AUD, NOW, 60, &err), 0);
    mem_free(jwt);
    jwt = NULL;
    CHECK_INT_EQ(tok_issue(&jwt, ka, &c, &err), 0);
    CHECK_INT_EQ(tok_verify(&v, ka, jwt, ISS, AUD, NOW, 0, &err), 0);
    CHECK_STR_EQ(v.sub, "");
    CHECK_INT_EQ(v.n_access, 0);
    tok_claims_cleanup(&v);

    /* incomplete claims are not signed */
    tok_claims_cleanup(&c);
    mem_free(jwt);
    jwt = NULL;
    CHECK_INT_EQ(tok_issue(&jwt, ka, &c, &err), -1);
    CHECK(jwt == NULL);
out:
    mem_free(jwt);
    mem_free(jwt2);
    tok_claims_cleanup(&c);
}

static void test_tampered(void)
{
    struct tok_claims c;
    struct berr err;
    char *jwt = NULL, *d1, *d2;
    char copy[8192], p2[4096];

    tok_claims_init(&c);
    CHECK_INT_EQ(tok_claims_fill(&c, ISS, "alice", AUD, NOW, 300, &err), 0);
    CHECK_INT_EQ(tok_access_add(&c, "repository", "a/b", SCOPE_ACT_PULL, &err), 0);
    CHECK_INT_EQ(tok_issue(&jwt, ka, &c, &err), 0);
    tok_claims_cleanup(&c);
    CHECK(jwt != NULL && strlen(jwt) < sizeof(copy));
    if (jwt == NULL || strlen(jwt) >= sizeof(copy))
        return;
    CHECK_STR_EQ(verify_msg(jwt), "ok");

    /* payload: one character changed */
    memcpy(copy, jwt, strlen(jwt) + 1);
    d1 = strchr(copy, '.');
    d1[5] = d1[5] == 'A' ? 'B' : 'A';
    CHECK_STR_EQ(verify_msg(copy), "bad signature");

    /* payload swapped for one that grants push, old signature kept */
    memcpy(copy, jwt, strlen(jwt) + 1);
    d1 = strchr(copy, '.');
    d2 = strchr(d1 + 1, '.');
    {
        const char *pl = "{\"iss\":\"" ISS "\",\"sub\":\"alice\",\"aud\":\"" AUD
                         "\",\"exp\":1760000300,\"access\":[{\"type\":\"repository\","
                         "\"name\":\"a/b\",\"actions\":[\"pull\",\"push\"]}]}";
        size_t o = b64u(p2, (const unsigned char *)pl, strlen(pl));
        char rebuilt[8192];
        int n = snprintf(rebuilt, sizeof(rebuilt), "%.*s.%.*s%s", (int)(d1 - copy), copy, (int)o,
                         p2, d2);
        CHECK(n > 0 && (size_t)n < sizeof(rebuilt));
        CHECK_STR_EQ(verify_msg(rebuilt), "bad signature");
    }

    /* signature: a middle character changed, the last one, a byte short, a byte long */
    memcpy(copy, jwt, strlen(jwt) + 1);
    d2 = strrchr(copy, '.');
    d2[100] = d2[100] == 'x' ? 'y' : 'x';
    CHECK_STR_EQ(verify_msg(copy), "bad signature");
    memcpy(copy, jwt, strlen(jwt) + 1);
    d2 = strrchr(copy, '.');
    memmove(d2 + 100, d2 + 104, strlen(d2 + 104) + 1); /* 3 bytes fewer, same canonical tail */
    CHECK_STR_EQ(verify_msg(copy), "bad signature");
    memcpy(copy, jwt, strlen(jwt) + 1);
    memcpy(copy + strlen(copy), "AAAA", 5);
    CHECK_STR_EQ(verify_msg(copy), "bad signature");
    /* 342 characters carry 2 spare bits: setting them is another spelling, refused */
    memcpy(copy, jwt, strlen(jwt) + 1);
    {
        char *last = copy + strlen(copy) - 1;
        static const char alpha[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        int val = (int)(strchr(alpha, *last) - alpha);
        *last = alpha[val | 1];
        if (val & 1)
            *last = alpha[val & ~1];
        CHECK_STR_EQ(verify_msg(copy), "malformed token");
    }
    mem_free(jwt);
}

static void test_algs(void)
{
    char jwt[65536], h[256];
    const char *kid = tok_key_kid(ka);
    static const char *const algs[] = {"none",  "None",  "HS256",  "RS512", "PS256",
                                       "ES256", "rs256", "RS256 ", ""};

    /* alg none: with an empty signature, and with some signature bytes */
    CHECK(snprintf(h, sizeof(h), "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid) > 0);
    forge(jwt, sizeof(jwt), h, std_payload(), SIG_EMPTY, NULL);
    CHECK(strcmp(verify_msg(jwt), "ok") != 0);
    forge(jwt, sizeof(jwt), h, std_payload(), SIG_JUNK, NULL);
    CHECK_STR_EQ(verify_msg(jwt), "unsupported alg");

    /* HS256 keyed with our own public key PEM: the confusion attack */
    CHECK(snprintf(h, sizeof(h), "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid) > 0);
    forge(jwt, sizeof(jwt), h, std_payload(), SIG_HS256_PUBPEM, NULL);
    CHECK_STR_EQ(verify_msg(jwt), "unsupported alg");
    /* same token body claiming RS256: the HMAC is not an RSA signature */
    CHECK(snprintf(h, sizeof(h), "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid) > 0);
    forge(jwt, sizeof(jwt), h, std_payload(), SIG_HS256_PUBPEM, NULL);
    CHECK_STR_EQ(verify_msg(jwt), "bad signature");

    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        CHECK(snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"kid\":\"%s\"}", algs[i], kid) > 0);
        forge(jwt, sizeof(jwt), h, std_payload(), SIG_RS256, pk_a);
        CHECK_STR_EQ(verify_msg(jwt), "unsupported alg");
    }
    CHECK(snprintf(h, sizeof(h), "{\"kid\":\"%s\"}", kid) > 0);
    forge(jwt, sizeof(jwt), h, std_payload(), SIG_RS256, pk_a);
    CHECK_STR_EQ(verify_msg(jwt), "unsupported alg");
    CHECK(snprintf(h, sizeof(h), "{\"alg\":256,\"kid\":\"%s\"}", kid) > 0);
    forge(jwt, sizeof(jwt), h, std_payload(), SIG_RS256, pk_a);
    CHECK_STR_EQ(verify_msg(jwt), "unsupported alg");

    /* a differently spelt but equivalent header, correctly signed, is fine */
    CHECK(snprintf(h, sizeof(h), "{ \"kid\" : \"%s\", \"alg\":\"RS256\" }", kid) > 0);
    forge(jwt, sizeof(jwt), h, std_payload(), SIG_RS256, pk_a);
    CHECK_STR_EQ(verify_msg(jwt), "ok");
    /* typ other than JWT, crit, duplicate alg */
    CHECK(snprintf(h, sizeof(h), "{\"alg\":\"RS256\",\"typ\":\"JOSE\",\"kid\":\"%s\"}", kid) > 0);
    forge(jwt, sizeof(jwt), h, std_payload(), SIG_RS256, pk_a);
    CHECK_STR_EQ(verify_msg(jwt), "malformed token");
    CHECK(snprintf(h, sizeof(h), "{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"kid\":\"%s\"}", kid) > 0);
    forge(jwt, sizeof(jwt), h, std_payload(), SIG_RS256, pk_a);
    CHECK_STR_EQ(verify_msg(jwt), "unsupported header");
    CHECK(snprintf(h, sizeof(h), "{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"%s\"}", kid) > 0);
    forge(jwt, sizeof(jwt), h, std_payload(), SIG_RS256, pk_a);
    CHECK_STR_EQ(verify_msg(jwt), "malformed token");
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

static void test_times(void)
{
    char p[512];
    /* exp with leeway 60 at NOW */
    static const struct {
        const char *exp_nbf;
        const char *want;
    } rows[] = {
            {"\"exp\":1760000001", "ok"},
            {"\"exp\":1759999990", "ok"},            /* expired, within leeway */
            {"\"exp\":1759999941", "ok"},            /* 59 s ago */
            {"\"exp\":1759999940", "token expired"}, /* exactly the leeway */
            {"\"exp\":1759999000", "token expired"},
            {"\"exp\":-9223372036854775807", "token expired"},
            {"\"exp\":9223372036854775807", "ok"},
            {"\"exp\":1760000300,\"nbf\":1760000060", "ok"}, /* nbf just inside leeway */
            {"\"exp\":1760000300,\"nbf\":1760000061", "token not yet valid"},
            {"\"exp\":1760000300,\"nbf\":9223372036854775807", "token not yet valid"},
            {"\"exp\":1760000300,\"nbf\":\"1\"", "malformed token"},
            {"\"exp\":1760000300,\"iat\":1.5", "malformed token"},
            {"\"exp\":1760000300.0", "malformed token"},
            {"\"exp\":\"1760000300\"", "malformed token"},
            {"\"nbf\":1760000000", "malformed token"}, /* exp is required */
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *got;
        CHECK(snprintf(p, sizeof(p), "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",%s}",
                       rows[i].exp_nbf) > 0);
        got = verify_payload(p);
        if (strcmp(got, rows[i].want) != 0)
            fprintf(stderr, "times row %zu: %s\n", i, rows[i].exp_nbf);
        CHECK_STR_EQ(got, rows[i].want);
    }
    /* leeway 0 and an issued token: exp is exclusive */
    {
        struct tok_claims c, v;
        struct berr err;
        char *jwt = NULL;
        tok_claims_init(&c);
        CHECK_INT_EQ(tok_claims_fill(&c, ISS, "u", AUD, NOW, 300, &err), 0);
        CHECK_INT_EQ(tok_issue(&jwt, ka, &c, &err), 0);
        CHECK(jwt != NULL);
        if (jwt != NULL) {
            CHECK_INT_EQ(tok_verify(&v, ka, jwt, ISS, AUD, NOW + 299, 0, &err), 0);
            tok_claims_cleanup(&v);
            CHECK_INT_EQ(tok_verify(&v, ka, jwt, ISS, AUD, NOW + 300, 0, &err), -1);
            CHECK_STR_EQ(err.msg, "token expired");
            CHECK_INT_EQ(tok_verify(&v, ka, jwt, ISS, AUD, NOW + 359, 60, &err), 0);
            tok_claims_cleanup(&v);
            CHECK_INT_EQ(tok_verify(&v, ka, jwt, ISS, AUD, NOW - 1, 0, &err), -1);
            CHECK_STR_EQ(err.msg, "token not yet valid");
            CHECK_INT_EQ(tok_verify(&v, ka, jwt, ISS, AUD, NOW - 60, 60, &err), 0);
            tok_claims_cleanup(&v);
            CHECK_INT_EQ(tok_verify(&v, ka, jwt, ISS, AUD, NOW - 61, 60, &err), -1);
            CHECK_STR_EQ(err.msg, "token not yet valid");
            /* a negative leeway counts as 0 */
            CHECK_INT_EQ(tok_verify(&v, ka, jwt, ISS, AUD, NOW, -100, &err), 0);
            tok_claims_cleanup(&v);
        }
        mem_free(jwt);
        tok_claims_cleanup(&c);
    }
}

static void test_iss_aud(void)
{
    static const struct {
        const char *p;
        const char *want;
    } rows[] = {
            {"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1760000300}", "ok"},
            {"{\"iss\":\"other\",\"aud\":\"" AUD "\",\"exp\":1760000300}", "wrong issuer"},
            {"{\"aud\":\"" AUD "\",\"exp\":1760000300}", "wrong issuer"},
            {"{\"iss\":[\"" ISS "\"],\"aud\":\"" AUD "\",\"exp\":1760000300}", "wrong issuer"},
            {"{\"iss\":\"" ISS "\",\"aud\":\"other\",\"exp\":1760000300}", "wrong audience"},
            {"{\"iss\":\"" ISS "\",\"exp\":1760000300}", "wrong audience"},
            {"{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"" AUD "\"],\"exp\":1760000300}", "ok"},
            {"{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"y\"],\"exp\":1760000300}", "wrong audience"},
            {"{\"iss\":\"" ISS "\",\"aud\":[],\"exp\":1760000300}", "wrong audience"},
            {"{\"iss\":\"" ISS "\",\"aud\":[1,\"" AUD "\"],\"exp\":1760000300}", "ok"},
            {"{\"iss\":\"" ISS "\",\"aud\":{\"a\":\"" AUD "\"},\"exp\":1760000300}",
             "wrong audience"},
            {"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "x\",\"exp\":1760000300}", "wrong audience"},
            {"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1760000300,\"sub\":5}",
             "malformed token"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *got = verify_payload(rows[i].p);
        if (strcmp(got, rows[i].want) != 0)
            fprintf(stderr, "iss/aud row %zu: %s\n", i, rows[i].p);
        CHECK_STR_EQ(got, rows[i].want);
    }
    /* the matched audience is reported */
    {
        char jwt[4096];
        struct tok_claims v;
        struct berr err;
        forge(jwt, sizeof(jwt), hdr_a(),
              "{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"" AUD "\"],\"exp\":1760000300}", SIG_RS256,
              pk_a);
        CHECK_INT_EQ(tok_verify(&v, ka, jwt, ISS, AUD, NOW, 0, &err), 0);
        CHECK_STR_EQ(v.aud, AUD);
        CHECK_STR_EQ(v.sub, "");
        CHECK(v.jti == NULL);
        tok_claims_cleanup(&v);
    }
}

static void test_access_parse(void)
{
    static const struct {
        const char *access;
        const char *want;
    } rows[] = {
            {"[]", "ok"},
            {"null", "ok"},
            {"[{\"type\":\"repository\",\"name\":\"a\",\"actions\":[\"pull\",\"scanner-pull\"]}]",
             "ok"},
            {"[{\"type\":\"repository\",\"name\":\"a\"}]", "ok"},
            {"[{\"type\":\"repository\",\"name\":\"a\",\"actions\":null}]", "ok"},
            {"{}", "malformed token"},
            {"[1]", "malformed token"},
            {"[{\"name\":\"a\",\"actions\":[]}]", "malformed token"},
            {"[{\"type\":\"repository\",\"actions\":[]}]", "malformed token"},
            {"[{\"type\":1,\"name\":\"a\",\"actions\":[]}]", "malformed token"},
            {"[{\"type\":\"repository\",\"name\":\"a\",\"actions\":\"pull\"}]", "malformed token"},
            {"[{\"type\":\"repository\",\"name\":\"a\",\"actions\":[1]}]", "malformed token"},
    };
    char p[4096];

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *got;
        CHECK(snprintf(p, sizeof(p),
                       "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1760000300,\"access\":%s}",
                       rows[i].access) > 0);
        got = verify_payload(p);
        if (strcmp(got, rows[i].want) != 0)
            fprintf(stderr, "access row %zu: %s\n", i, rows[i].access);
        CHECK_STR_EQ(got, rows[i].want);
    }
    /* unknown actions grant nothing; known ones survive */
    {
        char jwt[4096];
        struct tok_claims v;
        struct berr err;
        forge(jwt, sizeof(jwt), hdr_a(),
              "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1760000300,\"access\":[{\"type\":"
              "\"repository\",\"name\":\"a\",\"actions\":[\"scanner-pull\",\"delete\",\"Push\"]}]}",
              SIG_RS256, pk_a);
        CHECK_INT_EQ(tok_verify(&v, ka, jwt, ISS, AUD, NOW, 0, &err), 0);
        CHECK_INT_EQ(v.n_access, 1);
        if (v.n_access == 1)
            CHECK_INT_EQ(v.access[0].actions, SCOPE_ACT_DELETE);
        tok_claims_cleanup(&v);
    }
    /* limits: TOK_MAX_ACCESS entries pass, one more fails; TOK_MAX_ACTIONS likewise;
     * more than TOK_MAX_CLAIMS members fail */
    {
        static char big[65536];
        size_t o;
        int n;
        for (int extra = 0; extra <= 1; extra++) {
            o = (size_t)snprintf(big, sizeof(big),
                                 "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
                                 "\",\"exp\":1760000300,\"access\":[");
            for (int i = 0; i < TOK_MAX_ACCESS + extra; i++) {
                n = snprintf(big + o, sizeof(big) - o,
                             "%s{\"type\":\"repository\",\"name\":\"r%d\",\"actions\":[]}",
                             i == 0 ? "" : ",", i);
                CHECK(n > 0 && (size_t)n < sizeof(big) - o);
                o += (size_t)n;
            }
            CHECK(snprintf(big + o, sizeof(big) - o, "]}") == 2);
            CHECK_STR_EQ(verify_payload(big), extra ? "malformed token" : "ok");

            o = (size_t)snprintf(big, sizeof(big),
                                 "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
                                 "\",\"exp\":1760000300,\"access\":[{\"type\":\"repository\","
                                 "\"name\":\"a\",\"actions\":[");
            for (int i = 0; i < TOK_MAX_ACTIONS + extra; i++) {
                n = snprintf(big + o, sizeof(big) - o, "%s\"pull\"", i == 0 ? "" : ",");
                o += (size_t)n;
            }
            CHECK(snprintf(big + o, sizeof(big) - o, "]}]}") == 4);
            CHECK_STR_EQ(verify_payload(big), extra ? "malformed token" : "ok");

            o = (size_t)snprintf(big, sizeof(big),
                                 "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1760000300");
            for (int i = 3; i < TOK_MAX_CLAIMS + extra; i++) {
                n = snprintf(big + o, sizeof(big) - o, ",\"x%d\":%d", i, i);
                o += (size_t)n;
            }
            CHECK(snprintf(big + o, sizeof(big) - o, "}") == 1);
            CHECK_STR_EQ(verify_payload(big), extra ? "malformed token" : "ok");
        }
    }
}

static void test_malformed(void)
{
    static char jwt[65536];
    /* "H" stands for key A's real header, so the later segments are what is tested */
    static const char *const bad[] = {
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "..",
            "a..c",
            ".b.c",
            "a.b.",
            "H.e30.AAAA.",
            "H.e30=.AAAA", /* the signature fails first: it covers the text as sent */
            "H.e30.AA+A",
            "H.e30.AA/A",
            "H.e30.AAAAA", /* length % 4 == 1 */
            "H.e30.AAB",   /* non-zero spare bits */
            "H.e30.AA A",
            "H.e30.AA==",
            "H.e30.AA\nA",
            "W10.e30.AAAA",         /* header [] */
            "bm90IGpzb24.e30.AAAA", /* header "not json" */
            "e30.e30.AAAA",         /* header {} */
    };
    static const char *const want[] = {
            "malformed token", "malformed token", "malformed token", "malformed token",
            "malformed token", "malformed token", "malformed token", "malformed token",
            "malformed token", "bad signature",   "malformed token", "malformed token",
            "malformed token", "malformed token", "malformed token", "malformed token",
            "malformed token", "malformed token", "malformed token", "unsupported alg",
    };
    char h[200];
    size_t hl;

    hl = b64u(h, (const unsigned char *)hdr_a(), strlen(hdr_a()));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *got;
        if (bad[i][0] == 'H') {
            memcpy(jwt, h, hl);
            memcpy(jwt + hl, bad[i] + 1, strlen(bad[i]));
        } else {
            memcpy(jwt, bad[i], strlen(bad[i]) + 1);
        }
        got = verify_msg(jwt);
        if (strcmp(got, want[i]) != 0)
            fprintf(stderr, "malformed row %zu: got %s\n", i, got);
        CHECK_STR_EQ(got, want[i]);
    }
    /* signed payloads that are JSON but not in the one spelling tok_issue writes */
    CHECK_STR_EQ(verify_payload("{\"iss\": \"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1760000300}"),
                 "malformed token");
    CHECK_STR_EQ(verify_payload("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1760000300}\n"),
                 "malformed token");
    CHECK_STR_EQ(
            verify_payload("{\"iss\":\"" ISS "\",\"aud\":\"berth\\/registry\",\"exp\":1760000300}"),
            "malformed token");
    CHECK_STR_EQ(verify_payload("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1760000300,"
                                "\"x\":\"\\u0041\"}"),
                 "malformed token");
    /* key order is free: jansson keeps it */
    CHECK_STR_EQ(verify_payload("{\"exp\":1760000300,\"aud\":\"" AUD "\",\"iss\":\"" ISS "\"}"),
                 "ok");
    /* a correctly signed payload that is not JSON, or not an object */
    CHECK_STR_EQ(verify_payload("not json"), "malformed token");
    CHECK_STR_EQ(verify_payload("[1,2]"), "malformed token");
    CHECK_STR_EQ(verify_payload(""), "malformed token");
    CHECK_STR_EQ(verify_payload("{\"iss\":\"a\",\"iss\":\"b\"}"), "malformed token");
    /* a header over TOK_HDR_MAX bytes */
    {
        static char hb[3000];
        memset(hb, ' ', sizeof(hb));
        memcpy(hb, "{\"alg\":\"RS256\"", 14);
        hb[sizeof(hb) - 2] = '}';
        hb[sizeof(hb) - 1] = '\0';
        forge(jwt, sizeof(jwt), hb, std_payload(), SIG_RS256, pk_a);
        CHECK_STR_EQ(verify_msg(jwt), "malformed token");
    }
}

static void test_oversized(void)
{
    static char jwt[TOK_MAX_LEN + 64];
    static char name[400];
    struct tok_claims c;
    struct berr err;
    char *out = NULL;
    int i, ok_count = 0;

    /* too long to accept, whatever it holds */
    memset(jwt, 'A', TOK_MAX_LEN + 1);
    jwt[10] = '.';
    jwt[20] = '.';
    jwt[TOK_MAX_LEN + 1] = '\0';
    CHECK_STR_EQ(verify_msg(jwt), "token too large");
    jwt[TOK_MAX_LEN] = '\0';
    CHECK_STR_EQ(verify_msg(jwt), "malformed token");

    /* too long to issue: 64 long names */
    tok_claims_init(&c);
    CHECK_INT_EQ(tok_claims_fill(&c, ISS, "u", AUD, NOW, 60, &err), 0);
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    for (i = 0; i < TOK_MAX_ACCESS; i++)
        CHECK_INT_EQ(tok_access_add(&c, "repository", name, SCOPE_ACT_PULL, &err), 0);
    CHECK_INT_EQ(tok_access_add(&c, "repository", "one-more", SCOPE_ACT_PULL, &err), -1);
    CHECK_INT_EQ(c.n_access, TOK_MAX_ACCESS);
    CHECK_INT_EQ(tok_issue(&out, ka, &c, &err), -1);
    CHECK(out == NULL);
    CHECK_STR_EQ(err.msg, "token too large");
    tok_claims_cleanup(&c);

    /* the largest that issues also verifies */
    CHECK_INT_EQ(tok_claims_fill(&c, ISS, "u", AUD, NOW, 60, &err), 0);
    name[150] = '\0';
    for (i = 0; i < TOK_MAX_ACCESS; i++) {
        CHECK_INT_EQ(tok_access_add(&c, "repository", name, SCOPE_ACT_PULL, &err), 0);
        if (tok_issue(&out, ka, &c, &err) == 0) {
            struct tok_claims v;
            CHECK(strlen(out) <= TOK_MAX_LEN);
            if (tok_verify(&v, ka, out, ISS, AUD, NOW, 0, &err) == 0)
                ok_count++;
            tok_claims_cleanup(&v);
            mem_free(out);
            out = NULL;
        } else {
            CHECK_STR_EQ(err.msg, "token too large");
            break;
        }
    }
    CHECK(i < TOK_MAX_ACCESS); /* the cap was reached */
    CHECK_INT_EQ(ok_count, i);
    tok_claims_cleanup(&c);

    /* invalid UTF-8 in a claim cannot be issued */
    CHECK_INT_EQ(tok_claims_fill(&c, ISS, "\xff", AUD, NOW, 60, &err), 0);
    CHECK_INT_EQ(tok_issue(&out, ka, &c, &err), -1);
    tok_claims_cleanup(&c);
}

static void test_alloc_failures(void)
{
    struct tok_claims c, v, ref;
    struct berr err;
    char *jwt = NULL, *good = NULL;
    long i;
    int ok, rc, successes = 0;

    tok_claims_init(&c);
    /* tok_claims_fill and tok_access_add; strings longer than jansson's 16-byte initial
     * buffers, so its parser has to grow them (where 2.14 drops characters on failure) */
    for (ok = 0, i = 0; i < 50 && !ok; i++) {
        mem_fail_after(i);
        ok = tok_claims_fill(&c, ISS, "alice-with-a-rather-long-account", AUD, NOW, 300, &err) ==
                     0 &&
             tok_access_add(&c, "repository", "project-name/repository-with-a-long-name",
                            SCOPE_ACT_PULL, &err) == 0 &&
             tok_access_add(&c, "registry", "catalog", SCOPE_ACT_STAR, &err) == 0;
        mem_fail_after(-1);
        if (!ok) {
            CHECK_INT_EQ(err.code, BERR_INTERNAL);
            CHECK(c.n_access <= 2);
        }
    }
    CHECK(ok);
    CHECK(i > 3);
    CHECK_INT_EQ(c.n_access, 2);

    /* tok_issue: every success must verify to the same claims */
    for (ok = 0, i = 0; i < 500 && !ok; i++) {
        mem_fail_after(i);
        ok = tok_issue(&jwt, ka, &c, &err) == 0;
        mem_fail_after(-1);
        if (!ok) {
            CHECK(jwt == NULL);
            CHECK_INT_EQ(err.code, BERR_INTERNAL);
        }
    }
    CHECK(ok);
    CHECK(i > 10); /* jansson's allocations were failed too */
    good = jwt;
    CHECK_INT_EQ(tok_verify(&ref, ka, good, ISS, AUD, NOW, 0, &err), 0);
    CHECK_STR_EQ(ref.sub, "alice-with-a-rather-long-account");
    CHECK(ref.jti != NULL && strlen(ref.jti) == 32);

    /* tok_verify: a clean BERR_INTERNAL or BERR_UNAUTHORIZED, never a half-filled result, and
     * every success reads back exactly what was issued */
    for (ok = 0, i = 0; i < 500 && !ok; i++) {
        mem_fail_after(i);
        rc = tok_verify(&v, ka, good, ISS, AUD, NOW, 0, &err);
        ok = mem_injected() == 0;
        mem_fail_after(-1);
        if (rc < 0) {
            CHECK(err.code == BERR_INTERNAL || err.code == BERR_UNAUTHORIZED);
            CHECK(v.sub == NULL && v.iss == NULL && v.access == NULL && v.n_access == 0);
            continue;
        }
        successes++;
        CHECK_STR_EQ(v.sub, ref.sub);
        CHECK_STR_EQ(v.jti, ref.jti);
        CHECK_INT_EQ(v.n_access, 2);
        if (v.n_access == 2) {
            CHECK_STR_EQ(v.access[0].name, "project-name/repository-with-a-long-name");
            CHECK_STR_EQ(v.access[1].type, "registry");
            CHECK_STR_EQ(v.access[1].name, "catalog");
        }
        tok_claims_cleanup(&v);
    }
    CHECK(ok);
    CHECK(i > 5);
    CHECK_INT_EQ(successes, 1); /* only the run without an injected failure */
    tok_claims_cleanup(&ref);
    mem_free(good);
    tok_claims_cleanup(&c);

    /* tok_key_public_pem */
    for (ok = 0, i = 0; i < 10 && !ok; i++) {
        char *pem = NULL;
        mem_fail_after(i);
        ok = tok_key_public_pem(&pem, ka, &err) == 0;
        mem_fail_after(-1);
        CHECK(ok == (pem != NULL));
        mem_free(pem);
    }
    CHECK(ok);
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
    struct berr err;
    char pem[8192];
    int rc;

    mem_install_json();
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    pk_a = EVP_RSA_gen(2048);
    CHECK(pk_a != NULL);
    if (pk_a == NULL)
        return test_summary();
    pem_of(pk_a, pem, sizeof(pem), NULL);
    CHECK_INT_EQ(tok_key_from_pem(&ka, pem, strlen(pem), &err), 0);
    CHECK_INT_EQ(tok_key_generate(&kb, 2048, &err), 0);
    if (ka == NULL || kb == NULL)
        return test_summary();
    CHECK_INT_EQ(tok_key_bits(ka), 2048);

    TEST_RUN(test_kid_vector);
    TEST_RUN(test_key_file);
    TEST_RUN(test_round_trip);
    TEST_RUN(test_tampered);
    TEST_RUN(test_algs);
    TEST_RUN(test_kid);
    TEST_RUN(test_times);
    TEST_RUN(test_iss_aud);
    TEST_RUN(test_access_parse);
    TEST_RUN(test_malformed);
    TEST_RUN(test_oversized);
    TEST_RUN(test_alloc_failures);
    TEST_RUN(test_rates);

    tok_key_free(ka);
    tok_key_free(kb);
    tok_key_free(kf);
    tok_key_free(NULL);
    EVP_PKEY_free(pk_a);
    rc = remove_tmpdir();
    CHECK_INT_EQ(rc, 0);
    return test_summary();
}
