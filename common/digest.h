/* digest.h - content digests and the distribution-spec name, tag and reference grammar.
 *
 * Only what passed these parsers may reach a path or a SQL statement: a struct digest always holds
 * 64 lowercase hex characters, a struct repo_name always matches the spec's name grammar and has
 * a project component and a repository part, a struct tag always matches the tag grammar. */
#ifndef BERTH_COMMON_DIGEST_H
#define BERTH_COMMON_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "common/berr.h"

#define DIGEST_HEX_LEN 64
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN) /* "sha256:" + hex */
#define REPO_NAME_MAX 255
#define TAG_MAX 128

struct digest {
    char hex[DIGEST_HEX_LEN + 1];
};

struct repo_name {
    char s[REPO_NAME_MAX + 1]; /* whole name, "project/repo/..." */
    size_t len;
    size_t project_len; /* bytes of s before the first '/' */
};

struct tag {
    char s[TAG_MAX + 1];
};

/* A manifest reference: a tag or a digest. */
struct reference {
    bool is_digest;
    struct tag tag;
    struct digest digest;
};

/* digest_parse reads "sha256:<64 lowercase hex>" of exactly len bytes. Other well-formed
 * algorithms and malformed strings fail with BERR_DIGEST_INVALID. */
int digest_parse(struct digest *out, const char *s, size_t len, struct berr *err);
/* digest_format writes "sha256:<hex>" into out (at least DIGEST_STR_LEN + 1 bytes). */
void digest_format(const struct digest *d, char *out, size_t cap);
bool digest_equal(const struct digest *a, const struct digest *b);
/* digest_of computes the SHA-256 of a buffer. -1 only when OpenSSL fails. */
int digest_of(struct digest *out, const void *p, size_t len);
/* digest_sha256_md: OpenSSL's SHA-256, fetched from its provider once per process. Pass it
 * wherever an EVP_MD is wanted: OpenSSL 3 looks EVP_sha256() up by name (a method-store search
 * and string copies) on every init, which was a tenth of a cached Basic login's CPU. */
const struct evp_md_st *digest_sha256_md(void);
/* digest_from_raw turns 32 raw SHA-256 bytes into a struct digest. */
void digest_from_raw(struct digest *out, const unsigned char raw[32]);

/* repo_name_parse checks the spec's name grammar, at most REPO_NAME_MAX bytes, and at least two
 * components (project and repository). Fails with BERR_NAME_INVALID. */
int repo_name_parse(struct repo_name *out, const char *s, size_t len, struct berr *err);
/* repo_name_project copies the project component into out (cap >= REPO_NAME_MAX + 1). */
void repo_name_project(const struct repo_name *n, char *out, size_t cap);
/* project_name_valid: one name component ([a-z0-9]+ with separators), 1..255 bytes. */
bool project_name_valid(const char *s, size_t len);

/* tag_parse checks [A-Za-z0-9_][A-Za-z0-9._-]{0,127}. Fails with BERR_TAG_INVALID. */
int tag_parse(struct tag *out, const char *s, size_t len, struct berr *err);
/* reference_parse: a string containing ':' must be a digest, anything else a tag. */
int reference_parse(struct reference *out, const char *s, size_t len, struct berr *err);

#endif
