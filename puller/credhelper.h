/* credhelper.h - docker credential helpers (docker-credential-<name> get).
 *
 * The helper is found on PATH, run with argument "get", given the server URL on stdin and read
 * for {"ServerURL","Username","Secret"} on stdout. It gets CREDHELPER_TIMEOUT_MS to answer, then
 * it is killed. Its stdout is capped at 64 KiB; its stderr is passed through. */
#ifndef BERTH_PULLER_CREDHELPER_H
#define BERTH_PULLER_CREDHELPER_H

#include <stddef.h>

#include "common/berr.h"

#define CREDHELPER_TIMEOUT_MS 10000

enum credhelper_result {
    CREDHELPER_FOUND,          /* username and secret filled */
    CREDHELPER_NOT_FOUND,      /* the helper has nothing for this server */
    CREDHELPER_IDENTITY_TOKEN, /* username "<token>": secret is an identity token */
};

/* credhelper_get runs docker-credential-<name> get for server_url. On CREDHELPER_FOUND and
 * CREDHELPER_IDENTITY_TOKEN, *username and *secret are new (mem_free; wipe the secret first);
 * otherwise they are NULL. Returns the result (>= 0), or -1 with BERR_UNAUTHORIZED when the helper
 * cannot be run, times out, fails or answers garbage. timeout_ms <= 0 means the default. */
int credhelper_get(char **username, char **secret, const char *name, const char *server_url,
                   int timeout_ms, struct berr *err);

/* credhelper_name_valid: name is [A-Za-z0-9._-]+, at most 64 bytes, not "." or "..". */
int credhelper_name_valid(const char *name);

#endif
