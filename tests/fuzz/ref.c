/* ref.c (fuzz) - image_ref_parse (puller/ref.h), the reference parser of `berth pull`, on any
 * bytes.
 *
 * The input, cut at the first NUL as a command-line argument would be, is parsed. Promises
 * checked (ref.c's invariants):
 *   1. The result is 0 or -1; on -1 the struct is all zero and err is NAME_INVALID,
 *      TAG_INVALID or DIGEST_INVALID with a message.
 *   2. On 0: every field is NUL-terminated inside its array; the registry is non-empty and has
 *      no '/'; the repository is non-empty, lower case, without an empty component; tag is ""
 *      or passes tag_parse; digest is "" or passes digest_parse; at least one of them is set;
 *      registry + "/" + repository fits IMAGE_REF_NAME_MAX; docker.io is contacted as
 *      registry-1.docker.io and every other registry as itself.
 *   3. Normalization is idempotent: image_ref_format written back parses to the same fields.
 *   4. The keyring sees the registry as its own key: a kubelet key equal to the registry
 *      (an IPv6 literal without a port excepted, as in kubelet) matches the keyring name.
 * A broken promise aborts. */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "common/digest.h"
#include "common/mem.h"
#include "puller/keyring.h"
#include "puller/ref.h"

static void need(int cond)
{
    if (!cond)
        abort();
}

static void need_terminated(const char *f, size_t cap)
{
    need(memchr(f, '\0', cap) != NULL);
}

static void check_zero(const struct image_ref *r)
{
    const unsigned char *p = (const unsigned char *)r;

    for (size_t i = 0; i < sizeof(*r); i++)
        need(p[i] == 0);
}

static void check_accepted(const struct image_ref *r)
{
    struct berr err;
    struct digest d;
    struct tag t;
    size_t rl;

    need_terminated(r->registry, sizeof(r->registry));
    need_terminated(r->repository, sizeof(r->repository));
    need_terminated(r->tag, sizeof(r->tag));
    need_terminated(r->digest, sizeof(r->digest));
    need_terminated(r->api_host, sizeof(r->api_host));
    need(r->registry[0] != '\0' && strchr(r->registry, '/') == NULL);
    rl = strlen(r->repository);
    need(rl > 0 && r->repository[0] != '/' && r->repository[rl - 1] != '/');
    need(strstr(r->repository, "//") == NULL);
    for (size_t i = 0; i < rl; i++)
        need(!(r->repository[i] >= 'A' && r->repository[i] <= 'Z'));
    need(strlen(r->registry) + 1 + rl <= IMAGE_REF_NAME_MAX);
    need(r->tag[0] != '\0' || r->digest[0] != '\0');
    if (r->tag[0] != '\0')
        need(tag_parse(&t, r->tag, strlen(r->tag), &err) == 0);
    if (r->digest[0] != '\0')
        need(digest_parse(&d, r->digest, strlen(r->digest), &err) == 0);
    need(strcmp(r->registry, "index.docker.io") != 0);
    if (strcmp(r->registry, "docker.io") == 0)
        need(strcmp(r->api_host, "registry-1.docker.io") == 0);
    else
        need(strcmp(r->api_host, r->registry) == 0);
}

static void check_roundtrip(const struct image_ref *r)
{
    char s[1024];
    struct image_ref again;
    struct berr err;

    image_ref_format(r, s, sizeof(s));
    need(image_ref_parse(&again, s, &err) == 0);
    need(strcmp(again.registry, r->registry) == 0);
    need(strcmp(again.repository, r->repository) == 0);
    need(strcmp(again.tag, r->tag) == 0);
    need(strcmp(again.digest, r->digest) == 0);
    need(strcmp(again.api_host, r->api_host) == 0);
}

static void check_keyring(const struct image_ref *r)
{
    char name[512], key[512];

    image_ref_keyring_name(r, name, sizeof(name));
    need(strlen(name) <= IMAGE_REF_NAME_MAX);
    if (r->registry[0] == '[')
        return; /* "[::1]" alone is no host:port for Go's SplitHostPort, so kubelet never
                   matches it either (keyring_test.c has the row) */
    need(keyring_normalize_key(key, sizeof(key), r->registry) == 0);
    need(strcmp(key, r->registry) == 0);
    need(keyring_urls_match(key, name));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct image_ref r;
    struct berr err;
    char *s;
    int rc;

    if (size > 4096)
        return 0;
    s = mem_malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    memset(&err, 0, sizeof(err));
    rc = image_ref_parse(&r, s, &err);
    need(rc == 0 || rc == -1);
    if (rc == 0) {
        check_accepted(&r);
        check_roundtrip(&r);
        check_keyring(&r);
    } else {
        check_zero(&r);
        need(err.code == BERR_NAME_INVALID || err.code == BERR_TAG_INVALID ||
             err.code == BERR_DIGEST_INVALID);
        need(err.msg[0] != '\0');
    }
    mem_free(s);
    return 0;
}
