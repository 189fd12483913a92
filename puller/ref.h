/* ref.h - image references as `docker pull` and kubelet read them.
 *
 * image_ref_parse applies the docker normalization rules: a missing registry becomes docker.io
 * (index.docker.io is folded into docker.io), a single-component docker.io name gets "library/",
 * and a reference with neither tag nor digest gets the tag "latest". The first path component is
 * the registry when it contains '.' or ':', equals "localhost", or has an upper-case letter
 * (docker's rule: "Foo/bar" is a host, never a lower-case repository). The repository is checked
 * against the distribution name grammar (one or more lower-case components, unlike the two that
 * the Berth server requires), the tag against the tag grammar, the digest with digest_parse
 * (sha256 only). */
#ifndef BERTH_PULLER_REF_H
#define BERTH_PULLER_REF_H

#include <stddef.h>

#include "common/berr.h"

#define IMAGE_REF_NAME_MAX 255 /* registry + '/' + repository, as distribution/reference */

struct image_ref {
    char registry[256];   /* "docker.io", "host:5000", "localhost", "[::1]:5000" */
    char repository[256]; /* "library/nginx" */
    char tag[129];        /* "" when pinned by digest only */
    char digest[72];      /* "sha256:<64 hex>" or "" */
    char api_host[256];   /* host[:port] to contact: registry-1.docker.io for docker.io */
};

/* image_ref_parse fills out from a reference such as "nginx", "user/app:1",
 * "host:5000/a/b:tag", "name@sha256:...", "name:tag@sha256:..." (the digest wins for fetching,
 * the tag is kept for display). On failure out is zeroed and err is BERR_NAME_INVALID,
 * BERR_TAG_INVALID or BERR_DIGEST_INVALID with a message naming the problem. */
int image_ref_parse(struct image_ref *out, const char *s, struct berr *err);

/* image_ref_keyring_name writes kubelet's repoToPull, "registry/repository" with neither tag nor
 * digest ("docker.io/library/nginx"), into out. Truncates (NUL-terminated) when cap is too small;
 * 512 bytes always suffice. */
void image_ref_keyring_name(const struct image_ref *r, char *out, size_t cap);

/* image_ref_format writes "registry/repository[:tag][@digest]" into out; same cap rule. */
void image_ref_format(const struct image_ref *r, char *out, size_t cap);

#endif
