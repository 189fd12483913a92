/* secrets_yaml.c - YAML secrets files: each document of a stream becomes a jansson tree that
 * secrets.c walks exactly like a JSON input (it passes the walker as a callback; this file
 * calls nothing of secrets.c).
 *
 * libyaml's document loader builds one document at a time; a converter turns its nodes into
 * jansson values (plain null/true/false scalars as the YAML 1.2 core schema spells them, every other scalar
 * a string; mapping keys must be scalars).
 *   1. Conversion is bounded (depth YAML_MAX_DEPTH, YAML_MAX_NODES values including alias
 *      expansions), so an alias bomb fails instead of exhausting memory.
 *   2. Documents are handed to the callback in stream order and the first error stops the
 *      stream; what earlier documents added stays in the keyring (secrets.h).
 *   3. An empty stream, or one that ends after complete documents, is not an error.
 * No global state; safe to call from several threads on different keyrings. */
#include "puller/secrets_yaml.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "common/mem.h"

#define YAML_MAX_DEPTH 64
#define YAML_MAX_NODES 200000

struct yconv {
    yaml_document_t *doc;
    size_t budget;
};

static bool plain_is(const char *s, const char *const *words)
{
    for (size_t i = 0; words[i] != NULL; i++)
        if (strcmp(s, words[i]) == 0)
            return true;
    return false;
}

static json_t *yaml_scalar(const yaml_node_t *node)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    const char *s = (const char *)node->data.scalar.value;
    size_t len = node->data.scalar.length;

    if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strlen(s) == len) {
        if (plain_is(s, nulls))
            return json_null();
        if (plain_is(s, trues))
            return json_true();
        if (plain_is(s, falses))
            return json_false();
    }
    return json_stringn(s, len);
}

static json_t *yaml_to_json(struct yconv *y, yaml_node_t *node, int depth)
{
    json_t *out = NULL, *v;
    yaml_node_item_t *it;
    yaml_node_pair_t *p;

    if (node == NULL || depth > YAML_MAX_DEPTH || y->budget == 0)
        return NULL;
    y->budget--;
    switch (node->type) {
    case YAML_SCALAR_NODE:
        return yaml_scalar(node);
    case YAML_SEQUENCE_NODE:
        out = json_array();
        if (out == NULL)
            return NULL;
        for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
            v = yaml_to_json(y, yaml_document_get_node(y->doc, *it), depth + 1);
            if (v == NULL || json_array_append_new(out, v) < 0)
                goto fail;
        }
        return out;
    case YAML_MAPPING_NODE:
        out = json_object();
        if (out == NULL)
            return NULL;
        for (p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
            yaml_node_t *kn = yaml_document_get_node(y->doc, p->key);
            char *key;
            if (kn == NULL || kn->type != YAML_SCALAR_NODE)
                goto fail;
            key = mem_strndup((const char *)kn->data.scalar.value, kn->data.scalar.length);
            if (key == NULL)
                goto fail;
            v = yaml_to_json(y, yaml_document_get_node(y->doc, p->value), depth + 1);
            if (v == NULL || json_object_set_new(out, key, v) < 0) {
                mem_free(key);
                goto fail;
            }
            mem_free(key);
        }
        return out;
    case YAML_NO_NODE:
        break;
    }
fail:
    json_decref(out);
    return NULL;
}

int secrets_yaml_each(const char *data, size_t len, secrets_yaml_doc_fn fn, void *ctx, char *why,
                      size_t cap, struct berr *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    size_t index = 0;
    int rc = 0;

    if (!yaml_parser_initialize(&parser))
        return berr_sys(err, ENOMEM, "secrets: yaml_parser_initialize");
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    for (;;) {
        yaml_node_t *root;
        json_t *j;
        struct yconv y;
        if (!yaml_parser_load(&parser, &doc)) {
            (void)snprintf(why, cap, "YAML error at line %zu: %s", parser.problem_mark.line + 1,
                           parser.problem != NULL ? parser.problem : "parse error"); /* cut */
            rc = SECRETS_YAML_BAD;
            break;
        }
        root = yaml_document_get_root_node(&doc);
        if (root == NULL) {
            yaml_document_delete(&doc);
            break;
        }
        y.doc = &doc;
        y.budget = YAML_MAX_NODES;
        j = yaml_to_json(&y, root, 0);
        if (j == NULL) {
            yaml_document_delete(&doc);
            if (y.budget == 0)
                (void)snprintf(why, cap, "YAML document %zu too large", index + 1); /* cut */
            else
                (void)snprintf(why, cap, /* a cut message still says what failed */
                               "YAML document %zu: unsupported structure (complex key, nesting "
                               "or invalid UTF-8)",
                               index + 1);
            rc = SECRETS_YAML_BAD;
            break;
        }
        rc = fn(j, index, err, ctx);
        json_decref(j);
        yaml_document_delete(&doc);
        if (rc < 0)
            break;
        index++;
    }
    yaml_parser_delete(&parser);
    return rc;
}
