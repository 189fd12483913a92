/* s3_sign_test.c - unit tests for storage/s3_sign.c against AWS's published vectors.
 *
 * The header-signing cases come from AWS's SigV4 test suite (aws-sig-v4-test-suite: credentials
 * AKIDEXAMPLE, 20150830T123600Z, us-east-1, service "service"); the presigned URL is the example
 * of the S3 documentation ("Authenticating Requests: Using Query Parameters", examplebucket,
 * test.txt, 20130524T000000Z). Inputs and expected outputs are written out here. */
#include "storage/s3_sign.h"

#include <string.h>

#include "common/test.h"

static const struct s3_cred suite_cred = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                          "us-east-1", "service"};

#define SUITE_DATE "20150830T123600Z"
#define SUITE_PREFIX                                                                               \
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "

static void test_get_vanilla(void)
{
    struct s3_header h[] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", SUITE_DATE}};
    struct s3_sign_req r = {"GET", "/", NULL, h, 2, S3_EMPTY_SHA256};
    char sig[S3_SIG_HEX_LEN + 1], auth[512], creq[1024], sh[128];
    struct berr err;

    CHECK_INT_EQ(s3_canonical_request(creq, sizeof(creq), sh, sizeof(sh), &r, &err), 0);
    CHECK_STR_EQ(creq, "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                       "host;x-amz-date\n" S3_EMPTY_SHA256);
    CHECK_STR_EQ(sh, "host;x-amz-date");
    CHECK_INT_EQ(s3_sign(sig, auth, sizeof(auth), &suite_cred, SUITE_DATE, &r, &err), 0);
    CHECK_STR_EQ(sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    CHECK_STR_EQ(auth, SUITE_PREFIX "SignedHeaders=host;x-amz-date, "
                                    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8a"
                                    "ae1d763fbf31");
    /* a buffer one byte short fails instead of truncating */
    CHECK_INT_EQ(s3_sign(sig, auth, strlen(SUITE_PREFIX) + 10, &suite_cred, SUITE_DATE, &r, &err),
                 -1);
}

/* get-vanilla-query-order-key-case: GET /?Param2=value2&Param1=value1 */
static void test_query_order(void)
{
    struct s3_header h[] = {{"X-Amz-Date", SUITE_DATE}, {"Host", "example.amazonaws.com"}};
    struct s3_sign_req r = {"GET", "/", "Param2=value2&Param1=value1", h, 2, S3_EMPTY_SHA256};
    char sig[S3_SIG_HEX_LEN + 1], auth[512], creq[1024], sh[128];
    struct berr err;

    CHECK_INT_EQ(s3_sign(sig, auth, sizeof(auth), &suite_cred, SUITE_DATE, &r, &err), 0);
    CHECK_STR_EQ(sig, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
    CHECK_INT_EQ(s3_canonical_request(creq, sizeof(creq), sh, sizeof(sh), &r, &err), 0);
    CHECK(strstr(creq, "\nParam1=value1&Param2=value2\n") != NULL);
    /* a bare name (?uploads) signs as "uploads=", sorted among the others */
    r.query = "uploads&partNumber=2&uploadId=x";
    CHECK_INT_EQ(s3_canonical_request(creq, sizeof(creq), sh, sizeof(sh), &r, &err), 0);
    CHECK(strstr(creq, "\npartNumber=2&uploadId=x&uploads=\n") != NULL);
}

/* post-x-www-form-urlencoded: a signed Content-Type and a hashed body */
static void test_post_form(void)
{
    struct s3_header h[] = {{"Content-Type", "application/x-www-form-urlencoded"},
                            {"Host", "example.amazonaws.com"},
                            {"X-Amz-Date", SUITE_DATE}};
    char body_hash[S3_SIG_HEX_LEN + 1], sig[S3_SIG_HEX_LEN + 1], auth[512];
    struct s3_sign_req r = {"POST", "/", "", h, 3, body_hash};
    struct berr err;

    s3_sha256_hex(body_hash, "Param1=value1", 13);
    CHECK_STR_EQ(body_hash, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
    CHECK_INT_EQ(s3_sign(sig, auth, sizeof(auth), &suite_cred, SUITE_DATE, &r, &err), 0);
    CHECK_STR_EQ(auth, SUITE_PREFIX "SignedHeaders=content-type;host;x-amz-date, "
                                    "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d1"
                                    "96a0fe09473a");
}

/* header names are sorted as names (not as whole lines), values trimmed and collapsed, and a
 * repeated name is joined with ',' */
static void test_header_canon(void)
{
    struct s3_header h[] = {{"x-amz-copy-source-range", "bytes=0-9"},
                            {"X-Amz-Copy-Source", "  /b/k   key "},
                            {"My-Header", "a"},
                            {"my-header", "b"}};
    struct s3_sign_req r = {"PUT", "/b/k", NULL, h, 4, S3_UNSIGNED_PAYLOAD};
    char creq[1024], sh[256];
    struct berr err;

    CHECK_INT_EQ(s3_canonical_request(creq, sizeof(creq), sh, sizeof(sh), &r, &err), 0);
    CHECK_STR_EQ(sh, "my-header;x-amz-copy-source;x-amz-copy-source-range");
    CHECK_STR_EQ(creq, "PUT\n/b/k\n\nmy-header:a,b\nx-amz-copy-source:/b/k key\n"
                       "x-amz-copy-source-range:bytes=0-9\n\n"
                       "my-header;x-amz-copy-source;x-amz-copy-source-range\nUNSIGNED-PAYLOAD");
}

/* the S3 documentation's presigned GET of examplebucket/test.txt, 24 hours */
static void test_presign_doc(void)
{
    static const struct s3_cred c = {"AKIAIOSFODNN7EXAMPLE",
                                     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3"};
    char url[2048];
    struct berr err;

    CHECK_INT_EQ(s3_presign(url, sizeof(url), &c, "GET", "https://examplebucket.s3.amazonaws.com",
                            "examplebucket.s3.amazonaws.com", "/test.txt", NULL, "20130524T000000Z",
                            86400, &err),
                 0);
    CHECK_STR_EQ(url, "https://examplebucket.s3.amazonaws.com/test.txt"
                      "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                      "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_"
                      "request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
                      "&X-Amz-SignedHeaders=host"
                      "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f6"
                      "04d404");
    /* HEAD is signed separately and differs */
    CHECK_INT_EQ(s3_presign(url, sizeof(url), &c, "HEAD", "https://examplebucket.s3.amazonaws.com",
                            "examplebucket.s3.amazonaws.com", "/test.txt", NULL, "20130524T000000Z",
                            86400, &err),
                 0);
    CHECK(strstr(url, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404") == NULL);
    CHECK_INT_EQ(s3_presign(url, 100, &c, "GET", "https://examplebucket.s3.amazonaws.com",
                            "examplebucket.s3.amazonaws.com", "/test.txt", NULL, "20130524T000000Z",
                            86400, &err),
                 -1);
}

static void test_uri_encode(void)
{
    char out[64];
    struct berr err;

    CHECK_INT_EQ(s3_uri_encode(out, sizeof(out), "a b/c~d+e*", 10, 1, &err), 0);
    CHECK_STR_EQ(out, "a%20b/c~d%2Be%2A");
    CHECK_INT_EQ(s3_uri_encode(out, sizeof(out), "a/b", 3, 0, &err), 0);
    CHECK_STR_EQ(out, "a%2Fb");
    CHECK_INT_EQ(s3_uri_encode(out, sizeof(out), "\xc3\xa9", 2, 0, &err), 0);
    CHECK_STR_EQ(out, "%C3%A9");
    CHECK_INT_EQ(s3_uri_encode(out, 4, "abcd", 4, 0, &err), -1);
    CHECK_INT_EQ(s3_uri_encode(out, 4, "a/", 2, 0, &err), -1);
}

static void test_amz_date(void)
{
    char d[S3_AMZ_DATE_LEN + 1];

    s3_amz_date(d, 1369353600); /* 2013-05-24 00:00:00 UTC */
    CHECK_STR_EQ(d, "20130524T000000Z");
}

int main(void)
{
    TEST_RUN(test_get_vanilla);
    TEST_RUN(test_query_order);
    TEST_RUN(test_post_form);
    TEST_RUN(test_header_canon);
    TEST_RUN(test_presign_doc);
    TEST_RUN(test_uri_encode);
    TEST_RUN(test_amz_date);
    return test_summary();
}
