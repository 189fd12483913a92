/* secrets_int.h - what puller/secrets.c and puller/secrets_yaml.c share, and nobody else.
 *
 * struct lctx is the state of loading one input (keyring, origin, label, count added) and
 * struct where names the entries being decoded; both are defined in secrets.c and only passed
 * through by secrets_yaml.c. The YAML loader turns each document into a jansson tree and hands
 * it to secrets_load_doc, the walker that also reads JSON inputs. */
#ifndef BERTH_PULLER_SECRETS_INT_H
#define BERTH_PULLER_SECRETS_INT_H

#include <stddef.h>

#include <jansson.h>

#include "common/berr.h"
#include "puller/secrets.h"

struct lctx;
struct where;

/* secrets_fail formats "<file>: <what>: <field>: <detail>" into err as BERR_BAD_REQUEST, using
 * the file's base name when the full path would not fit the message (w may be NULL). Returns
 * -1. */
int secrets_fail(const struct lctx *c, const struct where *w, struct berr *err, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

/* secrets_load_doc adds what one parsed document holds (a Secret, a List of them, a docker
 * config or a bare .dockercfg map) to the keyring of c. doc is borrowed; index numbers the
 * document in its file for messages; depth counts enclosing Lists (0 at the top). */
int secrets_load_doc(struct lctx *c, json_t *doc, size_t index, int depth, struct berr *err);

/* secrets_load_yaml feeds every document of the YAML stream data[0..len) to secrets_load_doc,
 * stopping at the first error; a YAML syntax error or an over-large or unconvertible document
 * is BERR_BAD_REQUEST naming the input, a parser that cannot start BERR_INTERNAL. */
int secrets_load_yaml(struct lctx *c, const char *data, size_t len, struct berr *err);

#endif
