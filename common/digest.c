/* digest.c - digests, names and tags, checked against the distribution-spec grammar.
 *
 * The grammar (spec "Pulling manifests"):
 *   name      [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
 *   tag       [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
 *   digest    algorithm ":" encoded; Berth stores sha256 only (64 lowercase hex).
 * The parsers are hand-written state machines rather than regex(3) so they need no allocation and
 * cannot be fooled by locale. Everything is reentrant. */
#include "common/digest.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static const EVP_MD *sha256_md;

static void sha256_fetch(void)
{
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);

    /* kept for the life of the process; the built-in one still works when the fetch fails */
    sha256_md = md != NULL ? md : EVP_sha256();
}

const EVP_MD *digest_sha256_md(void)
{
    (void)pthread_once(&sha256_once, sha256_fetch);
    return sha256_md;
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_hex_lower(char c)
{
    return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9');
}

int digest_parse(struct digest *out, const char *s, size_t len, struct berr *err)
{
    const char *colon = memchr(s, ':', len);
    size_t alen, i;

    memset(out, 0, sizeof(*out));
    if (colon == NULL || colon == s)
        return berr_set(err, BERR_DIGEST_INVALID, "invalid digest");
    alen = (size_t)(colon - s);
    if (alen != 6 || memcmp(s, "sha256", 6) != 0) {
        /* a well-formed other algorithm is still not one we can verify */
        return berr_set(err, BERR_DIGEST_INVALID, "unsupported digest algorithm");
    }
    if (len - alen - 1 != DIGEST_HEX_LEN)
        return berr_set(err, BERR_DIGEST_INVALID, "invalid sha256 digest length");
    for (i = 0; i < DIGEST_HEX_LEN; i++) {
        if (!is_hex_lower(colon[1 + i]))
            return berr_set(err, BERR_DIGEST_INVALID, "invalid sha256 digest");
    }
    memcpy(out->hex, colon + 1, DIGEST_HEX_LEN);
    out->hex[DIGEST_HEX_LEN] = '\0';
    return 0;
}

void digest_format(const struct digest *d, char *out, size_t cap)
{
    /* callers pass DIGEST_STR_LEN + 1 bytes; a shorter buffer gets a cut string */
    (void)snprintf(out, cap, "sha256:%s", d->hex);
}

bool digest_equal(const struct digest *a, const struct digest *b)
{
    return memcmp(a->hex, b->hex, DIGEST_HEX_LEN) == 0;
}

void digest_from_raw(struct digest *out, const unsigned char raw[32])
{
    static const char hexd[] = "0123456789abcdef";

    for (int i = 0; i < 32; i++) {
        out->hex[2 * i] = hexd[raw[i] >> 4];
        out->hex[2 * i + 1] = hexd[raw[i] & 15];
    }
    out->hex[DIGEST_HEX_LEN] = '\0';
}

int digest_of(struct digest *out, const void *p, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    memset(out, 0, sizeof(*out));
    if (EVP_Digest(p, len, md, &mdlen, digest_sha256_md(), NULL) != 1 || mdlen != 32)
        return -1;
    digest_from_raw(out, md);
    return 0;
}

/* component_len returns the length of one valid name component at s (stopping at '/' or end),
 * or 0 when it does not match [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*. */
static size_t component_len(const char *s, size_t len)
{
    size_t i = 0;

    if (len == 0 || !is_lower_alnum(s[0]))
        return 0;
    while (i < len && s[i] != '/') {
        if (is_lower_alnum(s[i])) {
            i++;
            continue;
        }
        /* a separator: ".", "_", "__" or a run of "-" */
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i++;
            if (i < len && s[i] == '_')
                i++;
        } else if (s[i] == '-') {
            while (i < len && s[i] == '-')
                i++;
        } else {
            return 0;
        }
        if (i >= len || !is_lower_alnum(s[i]))
            return 0;
    }
    return i;
}

bool project_name_valid(const char *s, size_t len)
{
    return len > 0 && len <= REPO_NAME_MAX && component_len(s, len) == len;
}

int repo_name_parse(struct repo_name *out, const char *s, size_t len, struct berr *err)
{
    size_t i = 0, n, components = 0, first = 0;

    memset(out, 0, sizeof(*out));
    if (len == 0)
        return berr_set(err, BERR_NAME_INVALID, "empty repository name");
    if (len > REPO_NAME_MAX)
        return berr_set(err, BERR_NAME_INVALID, "repository name longer than %d bytes",
                        REPO_NAME_MAX);
    for (;;) {
        n = component_len(s + i, len - i);
        if (n == 0)
            return berr_set(err, BERR_NAME_INVALID, "invalid repository name");
        if (components == 0)
            first = n;
        components++;
        i += n;
        if (i == len)
            break;
        i++; /* the '/' */
        if (i == len)
            return berr_set(err, BERR_NAME_INVALID, "invalid repository name");
    }
    if (components < 2)
        return berr_set(err, BERR_NAME_INVALID, "repository name must be <project>/<repository>");
    memcpy(out->s, s, len);
    out->s[len] = '\0';
    out->len = len;
    out->project_len = first;
    return 0;
}

void repo_name_project(const struct repo_name *n, char *out, size_t cap)
{
    size_t l = n->project_len < cap - 1 ? n->project_len : cap - 1;

    memcpy(out, n->s, l);
    out[l] = '\0';
}

int tag_parse(struct tag *out, const char *s, size_t len, struct berr *err)
{
    memset(out, 0, sizeof(*out));
    if (len == 0 || len > TAG_MAX)
        return berr_set(err, BERR_TAG_INVALID, "invalid tag");
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || (i > 0 && (c == '.' || c == '-'));
        if (!ok)
            return berr_set(err, BERR_TAG_INVALID, "invalid tag");
    }
    memcpy(out->s, s, len);
    out->s[len] = '\0';
    return 0;
}

int reference_parse(struct reference *out, const char *s, size_t len, struct berr *err)
{
    memset(out, 0, sizeof(*out));
    if (memchr(s, ':', len) != NULL) {
        out->is_digest = true;
        return digest_parse(&out->digest, s, len, err);
    }
    return tag_parse(&out->tag, s, len, err);
}
