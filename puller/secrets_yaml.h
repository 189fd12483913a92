/* secrets_yaml.h - YAML streams as jansson documents, for puller/secrets.c.
 *
 * secrets_yaml_each converts each document of a YAML stream into a jansson tree and hands it to
 * a callback; it knows nothing of keyrings or secrets, so secrets.c calls it and never the
 * other way round. */
#ifndef BERTH_PULLER_SECRETS_YAML_H
#define BERTH_PULLER_SECRETS_YAML_H

#include <stddef.h>

#include <jansson.h>

#include "common/berr.h"

/* secrets_yaml_doc_fn takes one document (borrowed until it returns) and its 0-based index in
 * the stream; non-zero stops the stream and is returned by secrets_yaml_each. */
typedef int (*secrets_yaml_doc_fn)(json_t *doc, size_t index, struct berr *err, void *ctx);

#define SECRETS_YAML_BAD (-2) /* the stream is not YAML Berth can read: see why */

/* secrets_yaml_each feeds every document of the YAML stream data[0..len) to fn, in order,
 * stopping at the first failure; an empty stream is not an error. Returns 0; fn's result when
 * fn fails (err as fn left it); -1 with BERR_INTERNAL when the parser cannot start;
 * SECRETS_YAML_BAD with a message in why (cap bytes) for a YAML syntax error or an over-large
 * or unconvertible document (the caller words err). */
int secrets_yaml_each(const char *data, size_t len, secrets_yaml_doc_fn fn, void *ctx, char *why,
                      size_t cap, struct berr *err);

#endif
