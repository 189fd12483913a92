/* secret.c (fuzz) - secrets_load_buffer on any bytes: YAML, JSON, Secret manifests, Lists,
 * docker config files.
 *
 * Besides not crashing and not leaking: a failed load leaves an error message; a keyring never
 * holds more than KEYRING_MAX_CREDS entries; lookups on what was loaded do not crash. Lookups
 * only run when no credential helper could have been recorded (the input does not mention
 * credHelpers or credsStore), so the fuzzer never spawns processes. */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/mem.h"
#include "puller/keyring.h"
#include "puller/secrets.h"

static void need(int cond)
{
    if (!cond)
        abort();
}

static bool mentions(const uint8_t *data, size_t size, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= size; i++)
        if (strncasecmp((const char *)data + i, word, n) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const images[] = {"docker.io/library/nginx", "harbor.example.com/p/a",
                                         "localhost/app", "a.example.com:5000/x"};
    struct keyring *k = NULL;
    struct cred_list l;
    struct berr err = {0};
    int rc;

    mem_install_json();
    if (keyring_new(&k, &err) < 0)
        return 0;
    rc = secrets_load_buffer(k, (const char *)data, size, "fuzz.yaml", SECRET_POD, false, &err);
    if (rc < 0)
        need(err.msg[0] != '\0');
    need(keyring_count(k) <= KEYRING_MAX_CREDS);
    if (!mentions(data, size, "credhelpers") && !mentions(data, size, "credsstore")) {
        for (size_t i = 0; i < sizeof(images) / sizeof(images[0]); i++) {
            if (keyring_lookup(&l, k, images[i], &err) == 0)
                cred_list_cleanup(&l);
        }
    }
    keyring_free(k);
    return 0;
}
