/* ref.c - parsing and normalizing image references (docker/distribution rules).
 *
 * A reference is name [":" tag] ["@" digest]. The name splits into domain and remainder as
 * docker's splitDockerDomain does: the part before the first '/' is a domain when it holds '.'
 * or ':', equals "localhost", or is not all lower case; otherwise the domain is docker.io.
 *   1. After a successful parse, registry is a valid domain, repository one or more lower-case
 *      name components joined by '/', registry + "/" + repository fits IMAGE_REF_NAME_MAX.
 *   2. tag is "" or matches the tag grammar; digest is "" or "sha256:" + 64 lower-case hex;
 *      at least one of them is non-empty.
 *   3. On failure the struct is all zero.
 * No shared state. */
#include "puller/ref.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/digest.h"

#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define DEFAULT_API_HOST "registry-1.docker.io"
#define REF_INPUT_MAX 1024

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_hexc(char c)
{
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9');
}

/* domain := (domain-name | '[' ipv6 ']') [':' port]; domain-name := component ('.' component)*;
 * component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]. */
static bool domain_valid(const char *s, size_t len)
{
    size_t i = 0, host_end, start;

    if (len == 0)
        return false;
    if (s[0] == '[') {
        i = 1;
        while (i < len && (is_hexc(s[i]) || s[i] == ':'))
            i++;
        if (i == 1 || i >= len || s[i] != ']')
            return false;
        host_end = i + 1;
    } else {
        for (;;) {
            start = i;
            while (i < len && (is_alnum(s[i]) || s[i] == '-'))
                i++;
            if (i == start || s[start] == '-' || s[i - 1] == '-')
                return false;
            if (i < len && s[i] == '.') {
                i++;
                continue;
            }
            break;
        }
        host_end = i;
    }
    if (host_end == len)
        return true;
    if (s[host_end] != ':' || host_end + 1 == len)
        return false;
    for (i = host_end + 1; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool has_upper(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return true;
    return false;
}

/* One or more name components joined by '/'. */
static bool path_valid(const char *s, size_t len)
{
    size_t i = 0, j;

    if (len == 0)
        return false;
    while (i <= len) {
        j = i;
        while (j < len && s[j] != '/')
            j++;
        if (!project_name_valid(s + i, j - i))
            return false;
        i = j + 1;
    }
    return true;
}

static int copy_field(char *dst, size_t cap, const char *s, size_t len)
{
    if (len >= cap)
        return -1;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

static int parse(struct image_ref *out, const char *s, struct berr *err)
{
    size_t len, name_len, i, slash, dom_len, rem_off;
    const char *at, *colon = NULL, *dom, *rem;
    bool docker_domain;
    struct digest d;
    struct tag t;
    int n;

    if (s == NULL || s[0] == '\0')
        return berr_set(err, BERR_NAME_INVALID, "empty image reference");
    len = strnlen(s, REF_INPUT_MAX + 1);
    if (len > REF_INPUT_MAX)
        return berr_set(err, BERR_NAME_INVALID, "image reference longer than %d bytes",
                        REF_INPUT_MAX);
    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return berr_set(err, BERR_NAME_INVALID,
                            "image reference contains a space or non-ASCII byte");

    at = memchr(s, '@', len);
    name_len = at != NULL ? (size_t)(at - s) : len;
    if (at != NULL) {
        size_t dlen = len - name_len - 1;
        if (digest_parse(&d, at + 1, dlen, err) < 0)
            return berr_set(err, BERR_DIGEST_INVALID, "invalid digest in image reference");
        digest_format(&d, out->digest, sizeof(out->digest));
    }

    /* the tag is after the last ':' that follows the last '/' */
    for (i = name_len; i > 0; i--) {
        if (s[i - 1] == '/')
            break;
        if (s[i - 1] == ':') {
            colon = s + i - 1;
            break;
        }
    }
    if (colon != NULL) {
        size_t tlen = name_len - (size_t)(colon - s) - 1;
        if (tag_parse(&t, colon + 1, tlen, err) < 0)
            return berr_set(err, BERR_TAG_INVALID, "invalid tag in image reference");
        n = copy_field(out->tag, sizeof(out->tag), t.s, strlen(t.s));
        if (n < 0)
            return berr_set(err, BERR_TAG_INVALID, "tag too long");
        name_len = (size_t)(colon - s);
    }
    if (name_len == 0)
        return berr_set(err, BERR_NAME_INVALID, "image reference has no name");
    if (name_len == 64 && at == NULL && colon == NULL) {
        for (i = 0; i < 64 && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')); i++)
            ;
        if (i == 64)
            return berr_set(err, BERR_NAME_INVALID,
                            "a 64-character hex string is an image ID, not a reference");
    }

    /* splitDockerDomain */
    for (slash = 0; slash < name_len && s[slash] != '/'; slash++)
        ;
    if (slash == name_len ||
        (memchr(s, '.', slash) == NULL && memchr(s, ':', slash) == NULL &&
         !(slash == 9 && memcmp(s, "localhost", 9) == 0) && !has_upper(s, slash))) {
        dom = DEFAULT_DOMAIN;
        dom_len = strlen(DEFAULT_DOMAIN);
        rem_off = 0;
    } else {
        dom = s;
        dom_len = slash;
        rem_off = slash + 1;
        if (!domain_valid(dom, dom_len))
            return berr_set(err, BERR_NAME_INVALID, "invalid registry host in image reference");
    }
    if (dom_len == strlen(LEGACY_DEFAULT_DOMAIN) &&
        memcmp(dom, LEGACY_DEFAULT_DOMAIN, dom_len) == 0) {
        dom = DEFAULT_DOMAIN;
        dom_len = strlen(DEFAULT_DOMAIN);
    }
    docker_domain = dom_len == strlen(DEFAULT_DOMAIN) && memcmp(dom, DEFAULT_DOMAIN, dom_len) == 0;
    rem = s + rem_off;
    if (rem_off >= name_len)
        return berr_set(err, BERR_NAME_INVALID, "image reference has no repository");
    if (has_upper(rem, name_len - rem_off))
        return berr_set(err, BERR_NAME_INVALID, "repository name must be lowercase");
    if (!path_valid(rem, name_len - rem_off))
        return berr_set(err, BERR_NAME_INVALID, "invalid repository name in image reference");

    if (copy_field(out->registry, sizeof(out->registry), dom, dom_len) < 0)
        return berr_set(err, BERR_NAME_INVALID, "registry host too long");
    if (docker_domain && memchr(rem, '/', name_len - rem_off) == NULL)
        n = snprintf(out->repository, sizeof(out->repository), "library/%.*s",
                     (int)(name_len - rem_off), rem);
    else
        n = snprintf(out->repository, sizeof(out->repository), "%.*s", (int)(name_len - rem_off),
                     rem);
    if (n < 0 || (size_t)n >= sizeof(out->repository) ||
        strlen(out->registry) + 1 + (size_t)n > IMAGE_REF_NAME_MAX)
        return berr_set(err, BERR_NAME_INVALID, "image name longer than %d bytes",
                        IMAGE_REF_NAME_MAX);
    if (out->tag[0] == '\0' && out->digest[0] == '\0')
        memcpy(out->tag, "latest", sizeof("latest"));
    if (docker_domain)
        memcpy(out->api_host, DEFAULT_API_HOST, sizeof(DEFAULT_API_HOST));
    else
        memcpy(out->api_host, out->registry, strlen(out->registry) + 1);
    return 0;
}

int image_ref_parse(struct image_ref *out, const char *s, struct berr *err)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = parse(out, s, err);
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

void image_ref_keyring_name(const struct image_ref *r, char *out, size_t cap)
{
    if (cap == 0)
        return;
    /* truncation is documented: the caller sizes out (512 always suffices) */
    (void)snprintf(out, cap, "%s/%s", r->registry, r->repository);
}

void image_ref_format(const struct image_ref *r, char *out, size_t cap)
{
    if (cap == 0)
        return;
    /* truncation is documented, as above */
    (void)snprintf(out, cap, "%s/%s%s%s%s%s", r->registry, r->repository, r->tag[0] ? ":" : "",
                   r->tag, r->digest[0] ? "@" : "", r->digest);
}
