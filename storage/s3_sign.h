/* s3_sign.h - AWS Signature Version 4 for S3 requests: the Authorization header and presigned URLs.
 *
 * Pure functions over OpenSSL's HMAC-SHA256; no I/O, no clock (the caller passes the time), so the
 * AWS test vectors check them byte for byte. Paths and query strings are given in their wire form
 * (already percent-encoded with s3_uri_encode); the signer sorts the query itself. Thread-safe. */
#ifndef BERTH_STORAGE_S3_SIGN_H
#define BERTH_STORAGE_S3_SIGN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/berr.h"

#define S3_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* hex SHA-256 of no bytes */
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define S3_AMZ_DATE_LEN 16 /* YYYYMMDDTHHMMSSZ */
#define S3_SIG_HEX_LEN 64
#define S3_MAX_HEADERS 16

/* Who signs: borrowed strings. service is "s3" for S3 (the test vectors use "service"). */
struct s3_cred {
    const char *access_key;
    const char *secret_key;
    const char *region;
    const char *service;
};

struct s3_header {
    const char *name; /* any case; signed lower-cased */
    const char *value;
};

/* One request to sign; all borrowed. */
struct s3_sign_req {
    const char *method;              /* "GET", "PUT", ... */
    const char *path;                /* wire form, starting with '/' */
    const char *query;               /* wire form without '?', NULL or "" for none; any order */
    const struct s3_header *headers; /* every header to sign, Host and X-Amz-Date included */
    size_t nheaders;                 /* at most S3_MAX_HEADERS */
    const char *payload_hash;        /* hex SHA-256 of the body, or S3_UNSIGNED_PAYLOAD */
};

/* s3_amz_date formats t (UTC) as YYYYMMDDTHHMMSSZ into out. */
void s3_amz_date(char out[S3_AMZ_DATE_LEN + 1], time_t t);

/* s3_uri_encode percent-encodes in (len bytes) the way SigV4 wants: A-Z a-z 0-9 - . _ ~ kept,
 * '/' kept when keep_slash, everything else %XX upper case. 0, or -1 (BERR_INTERNAL) when out
 * (cap bytes, NUL included) is too small. */
int s3_uri_encode(char *out, size_t cap, const char *in, size_t len, int keep_slash,
                  struct berr *err);

/* s3_canonical_request writes the canonical request of r into out (cap bytes) and the signed
 * header list ("host;x-amz-date") into signed_out (signed_cap bytes). Header values are trimmed
 * and inner runs of spaces collapsed; two headers with one name are joined with ','. */
int s3_canonical_request(char *out, size_t cap, char *signed_out, size_t signed_cap,
                         const struct s3_sign_req *r, struct berr *err);

/* s3_sign computes the signature (64 hex + NUL into sig) and the full Authorization header value
 * into auth (cap bytes). amz_date is the request's X-Amz-Date (which must also be among the signed
 * headers for header signing). */
int s3_sign(char sig[S3_SIG_HEX_LEN + 1], char *auth, size_t cap, const struct s3_cred *c,
            const char *amz_date, const struct s3_sign_req *r, struct berr *err);

/* s3_presign writes a presigned URL into out: base ("http://host:port", no trailing slash) +
 * path + "?" + query (may be NULL) + the X-Amz-* parameters, valid expires_s seconds from
 * amz_date, signing only the host header with an unsigned payload. host is the Host header the
 * client will send (host[:port]). A URL presigned for GET does not work for HEAD: presign each. */
int s3_presign(char *out, size_t cap, const struct s3_cred *c, const char *method, const char *base,
               const char *host, const char *path, const char *query, const char *amz_date,
               unsigned expires_s, struct berr *err);

/* s3_sha256_hex: hex SHA-256 of data into out. */
void s3_sha256_hex(char out[S3_SIG_HEX_LEN + 1], const void *data, size_t len);

#endif
