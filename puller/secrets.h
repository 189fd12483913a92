/* secrets.h - loading registry credentials from Kubernetes Secrets and docker config files.
 *
 * Accepted inputs (one file may hold several YAML documents; JSON is read with jansson):
 *   - Secret manifests as `kubectl get secret -o yaml|json` prints them or as written by hand
 *     (`data` base64, `stringData` plain, stringData winning as the API server merges them), also
 *     inside `kind: List` items. Kubelet's rule picks a secret by type and key together:
 *     kubernetes.io/dockerconfigjson with a non-empty .dockerconfigjson, or
 *     kubernetes.io/dockercfg with a non-empty .dockercfg. Every other secret is ignored (a note
 *     on stderr when verbose).
 *   - A bare .dockerconfigjson ({"auths":{...}}), a docker config.json (auths, credHelpers,
 *     credsStore), or a bare legacy .dockercfg map.
 * Entries decode as kubelet's DockerConfigEntry: username/password/email strings; a non-empty
 * `auth` overrides them, base64 padded or unpadded (chosen by a trailing '='), split at the first
 * ':'; no ':' is an error. A secret of the right type that does not parse is an error naming the
 * file, the secret and the key. Nothing is logged that contains a password. */
#ifndef BERTH_PULLER_SECRETS_H
#define BERTH_PULLER_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/berr.h"
#include "puller/keyring.h"

#define SECRETS_FILE_MAX_BYTES (4u << 20) /* a secrets file is read whole, up to 4 MiB */

/* secrets_load_file adds every credential found in path to k with the given origin.
 * On error (BERR_BAD_REQUEST for bad content, BERR_INTERNAL for I/O) what the file added before
 * the fault stays in k; callers treat the keyring as unusable and stop. */
int secrets_load_file(struct keyring *k, const char *path, enum secret_origin origin, bool verbose,
                      struct berr *err);

/* secrets_load_buffer is secrets_load_file on bytes in memory; label names the input in sources
 * and errors (a file name). */
int secrets_load_buffer(struct keyring *k, const char *data, size_t len, const char *label,
                        enum secret_origin origin, bool verbose, struct berr *err);

/* secrets_load_docker_config adds node credentials as kubelet's node keyring finds them:
 * $DOCKER_CONFIG/config.json, else ~/.docker/config.json; only when neither exists,
 * ~/.dockercfg. Missing files are fine (0, nothing added); a file that exists but does not parse
 * is an error naming it. */
int secrets_load_docker_config(struct keyring *k, bool verbose, struct berr *err);

#endif
