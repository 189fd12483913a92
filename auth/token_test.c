/* token_test.c - bearer tokens, issue and verify: round trips and the claims as the spec shows
 * them, and every way a token must be refused: tampered payload or signature, alg none, HS256
 * keyed with the public key, other algs, expiry and nbf around the leeway, issuer and audience,
 * access lists and their limits, malformed base64 and JSON, oversized tokens. Tokens are forged
 * with OpenSSL directly (token_test_util.h). Allocation failures are injected into tok_issue,
 * tok_verify and the claim helpers. Key files, kids and rates are in token_key_test.c. */
#include "auth/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth/token_test_util.h"
#include "common/mem.h"
#include "common/test.h"

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
    /* headers signed with key A as RS256: "{pre}{kid}{post}" and what verify says */
    static const struct {
        const char *pre, *post, *want;
    } rows[] = {
            {"{\"alg\":\"none\",\"kid\":\"", "\"}", "unsupported alg"},
            {"{\"alg\":\"None\",\"kid\":\"", "\"}", "unsupported alg"},
            {"{\"alg\":\"HS256\",\"kid\":\"", "\"}", "unsupported alg"},
            {"{\"alg\":\"RS512\",\"kid\":\"", "\"}", "unsupported alg"},
            {"{\"alg\":\"PS256\",\"kid\":\"", "\"}", "unsupported alg"},
            {"{\"alg\":\"ES256\",\"kid\":\"", "\"}", "unsupported alg"},
            {"{\"alg\":\"rs256\",\"kid\":\"", "\"}", "unsupported alg"},
            {"{\"alg\":\"RS256 \",\"kid\":\"", "\"}", "unsupported alg"},
            {"{\"alg\":\"\",\"kid\":\"", "\"}", "unsupported alg"},
            {"{\"kid\":\"", "\"}", "unsupported alg"},
            {"{\"alg\":256,\"kid\":\"", "\"}", "unsupported alg"},
            /* a differently spelt but equivalent header, correctly signed, is fine */
            {"{ \"kid\" : \"", "\", \"alg\":\"RS256\" }", "ok"},
            /* typ other than JWT, crit, duplicate alg */
            {"{\"alg\":\"RS256\",\"typ\":\"JOSE\",\"kid\":\"", "\"}", "malformed token"},
            {"{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"kid\":\"", "\"}", "unsupported header"},
            {"{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"", "\"}", "malformed token"},
            /* signed by this key but naming another kid (a prefix, a longer one) */
            {"{\"alg\":\"RS256\",\"kid\":\"x", "\"}", "unknown key"},
            {"{\"alg\":\"RS256\",\"kid\":\"", "x\"}", "unknown key"},
            {"{\"alg\":\"RS256\",\"kid\":7,\"k\":\"", "\"}", "unknown key"},
    };

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

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        CHECK(snprintf(h, sizeof(h), "%s%s%s", rows[i].pre, kid, rows[i].post) > 0);
        forge(jwt, sizeof(jwt), h, std_payload(), SIG_RS256, pk_a);
        CHECK_STR_EQ(verify_msg(jwt), rows[i].want);
    }
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

int main(void)
{
    if (tt_setup() < 0) {
        tt_teardown();
        return test_summary();
    }

    TEST_RUN(test_round_trip);
    TEST_RUN(test_tampered);
    TEST_RUN(test_algs);
    TEST_RUN(test_times);
    TEST_RUN(test_iss_aud);
    TEST_RUN(test_access_parse);
    TEST_RUN(test_malformed);
    TEST_RUN(test_oversized);
    TEST_RUN(test_alloc_failures);

    tt_teardown();
    return test_summary();
}
