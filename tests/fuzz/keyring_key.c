/* keyring_key.c (fuzz) - kubelet key normalization, URL matching and image references.
 *
 * The input is "<registry key>\n<image>" (no newline: the whole input is both). Besides not
 * crashing: a normalized key never starts with a scheme-less "https://", normalization is
 * stable once a key has been normalized and parses again, a stored credential is found for an
 * image its key matches, and whatever image_ref_parse accepts has a registry, a repository and a
 * tag or digest. A broken promise aborts. */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "puller/keyring.h"
#include "puller/ref.h"

static void need(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf, *key, *image, *nl;
    char norm[4096], again[4096], name[512];
    struct keyring *k = NULL;
    struct cred_list l = {0};
    struct image_ref r;
    struct berr err;
    int rc;

    if (size > 8192)
        return 0;
    buf = mem_malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    key = buf;
    nl = strchr(buf, '\n');
    if (nl != NULL) {
        *nl = '\0';
        image = nl + 1;
    } else {
        image = buf;
    }

    rc = keyring_normalize_key(norm, sizeof(norm), key);
    need(rc >= -1 && rc <= 1);
    if (rc == 0) {
        /* a normalized key that parses again normalizes to itself unless it was changed by
         * %-decoding or a '?'/'#' cut: then it may differ, but must not crash */
        if (strpbrk(norm, "%?#@") == NULL && strstr(norm, "/v1/") == NULL &&
            strstr(norm, "/v2/") == NULL && strncmp(norm, "http", 4) != 0 &&
            keyring_normalize_key(again, sizeof(again), norm) == 0)
            need(strcmp(again, norm) == 0 || norm[0] == '[');
        (void)keyring_urls_match(norm, image);
    }
    (void)keyring_urls_match(key, image);
    (void)keyring_is_default_registry(image);

    if (keyring_new(&k, &err) == 0) {
        rc = keyring_add(k, SECRET_POD, key, "u", "p", "fuzz", &err);
        if (keyring_lookup(&l, k, image, &err) == 0) {
            if (rc == 0 && keyring_urls_match(norm, image))
                need(l.n >= 1);
            cred_list_cleanup(&l);
        }
        keyring_free(k);
    }

    if (image_ref_parse(&r, image, &err) == 0) {
        need(r.registry[0] != '\0' && r.repository[0] != '\0' && r.api_host[0] != '\0');
        need(r.tag[0] != '\0' || r.digest[0] != '\0');
        image_ref_keyring_name(&r, name, sizeof(name));
        need(strlen(name) <= IMAGE_REF_NAME_MAX);
    } else {
        need(r.registry[0] == '\0' && err.msg[0] != '\0');
    }
    mem_free(buf);
    return 0;
}
