/* keyring.h - registry credentials matched to images exactly as kubelet matches them.
 *
 * A keyring holds two sub-keyrings, one for pod-origin credentials (imagePullSecrets) and one for
 * node-origin credentials (docker config.json / .dockercfg), like kubelet's UnionDockerKeyring of
 * the pod's BasicDockerKeyring and the node keyring. Keys are normalized when added (anchors 3.2):
 * scheme dropped, "/v1/" or "/v2/" path prefix dropped, key = host[:port][/path]. Several
 * credentials under one key accumulate in the order added.
 *
 * keyring_lookup returns, for each sub-keyring (pod first, then node):
 *   - the credentials of every key that matches the image (anchors 3.3: equal port strings, equal
 *     number of host labels, each label a filepath.Match glob, key path a plain string prefix of
 *     the image path), keys in reverse-lexicographic order, so the most specific come first;
 *   - if no key of that sub-keyring matched and the image is a "default registry" image, the
 *     credentials stored under "index.docker.io".
 * An empty result means: pull anonymously. A returned credential may have an empty username and
 * password (a config entry without them); kubelet passes such entries on and so do we.
 *
 * Keys go through Go's url.Parse as in kubelet, which limits the glob syntax that can work:
 * '?' starts a URL query ("h?st.io" normalizes to "h"), '^' and '\\' are not valid host bytes
 * (the key is ignored), a host starting with '[' must be an IPv6 literal, and a '[' class in a
 * key with a port never matches (net.SplitHostPort rejects it). '*' and [a-z] classes work.
 *
 * Credential-helper entries (docker config.json credHelpers / credsStore) are resolved at lookup
 * time by running docker-credential-<name>; see credhelper.h. Not thread-safe: one keyring per
 * thread, or a lock around it. */
#ifndef BERTH_PULLER_KEYRING_H
#define BERTH_PULLER_KEYRING_H

#include <stdbool.h>
#include <stddef.h>

#include "common/berr.h"

/* Where a credential came from; pod credentials are always tried before node ones. */
enum secret_origin { SECRET_POD, SECRET_NODE };

#define KEYRING_MAX_CREDS 4096 /* per keyring; a cap so hostile input cannot grow it unbounded */

struct cred {
    char *username; /* owned; may be "" */
    char *password; /* owned; may be ""; never log it */
    char *source;   /* owned; "secret regcred (file x.yaml) key harbor.example.com"; no secret */
};

struct cred_list {
    struct cred *v; /* owned array of n creds, in the order to try them */
    size_t n;
};

struct keyring;

/* keyring_new: *out is new (keyring_free). -1 with BERR_INTERNAL when out of memory. */
int keyring_new(struct keyring **out, struct berr *err);
/* keyring_free wipes every stored password; keyring_free(NULL) is a no-op. */
void keyring_free(struct keyring *k);

/* keyring_add stores a copy of username/password under the normalized registry_key in the
 * sub-keyring of `origin`. source describes where it came from (never the password). A key that
 * does not parse as a URL is ignored as kubelet ignores it (returns 1, nothing stored);
 * 0 when stored, -1 on out of memory or when KEYRING_MAX_CREDS is reached. */
int keyring_add(struct keyring *k, enum secret_origin origin, const char *registry_key,
                const char *username, const char *password, const char *source, struct berr *err);

/* keyring_add_helper stores "ask docker-credential-<helper_name> for registry_key" under the
 * normalized key; the helper is run only when a lookup matches this key, with the raw
 * registry_key as the server URL. Same returns as keyring_add; helper_name must be a plain name
 * ([A-Za-z0-9._-]+), else BERR_BAD_REQUEST. */
int keyring_add_helper(struct keyring *k, enum secret_origin origin, const char *registry_key,
                       const char *helper_name, const char *source, struct berr *err);

/* keyring_lookup fills *out (new: cred_list_cleanup) with every credential for keyring_name,
 * kubelet's repoToPull ("docker.io/library/nginx", see image_ref_keyring_name), in the order to
 * try them. out->n == 0: pull anonymously. -1 (out empty) on out of memory or when a matched
 * credential helper fails (BERR_UNAUTHORIZED, message names the helper); a helper answering
 * "credentials not found" or with an identity token contributes nothing (the latter with a note
 * on stderr, since kubelet-style pulls only use username/password). */
int keyring_lookup(struct cred_list *out, struct keyring *k, const char *keyring_name,
                   struct berr *err);

/* keyring_count: number of credential entries stored (both origins), for notes and tests. */
size_t keyring_count(const struct keyring *k);

/* cred_list_cleanup wipes the passwords, frees everything and leaves l empty. */
void cred_list_cleanup(struct cred_list *l);

/* keyring_normalize_key writes the kubelet-normalized form of a config key into out:
 * "https://index.docker.io/v1/" -> "index.docker.io", "http://10.0.0.5:5000/" -> "10.0.0.5:5000".
 * 0 on success, 1 when the key does not parse as a URL (kubelet ignores such entries),
 * -1 when out is too small. */
int keyring_normalize_key(char *out, size_t cap, const char *key);

/* keyring_urls_match is kubelet's URLsMatchStr(glob, target) (exposed for tests and fuzzing). */
bool keyring_urls_match(const char *glob, const char *target);

/* keyring_is_default_registry is kubelet's isDefaultRegistryMatch(image). */
bool keyring_is_default_registry(const char *image);

#endif
