/* manifest.c (fuzz) - manifest_parse on any bytes, under several Content-Type headers.
 *
 * Besides not crashing or leaking, whatever the parser accepts must keep its header's promises:
 * the media type is one of the four manifest types and agrees with kind; an image manifest has
 * at least its config in blobs and no children; an index has no blobs; every digest is 64
 * lowercase hex; no digest repeats in blobs or children; annotations, when present, are a JSON
 * object; artifactType, when present, is non-empty. A refusal must be MANIFEST_INVALID (or
 * INTERNAL, only under memory pressure) and leave the output empty. A broken promise aborts. */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "registry/manifest_parse.h"

static void need(int cond)
{
    if (!cond)
        abort();
}

static void check_digest(const struct digest *d)
{
    need(strlen(d->hex) == DIGEST_HEX_LEN);
    need(strspn(d->hex, "0123456789abcdef") == DIGEST_HEX_LEN);
}

static void check_accepted(const struct manifest_info *m)
{
    bool index =
            strcmp(m->media_type, MT_OCI_INDEX) == 0 || strcmp(m->media_type, MT_DOCKER_LIST) == 0;

    need(manifest_media_type_known(m->media_type));
    need(index == (m->kind == MANIFEST_KIND_INDEX));
    if (index) {
        need(m->nblobs == 0 && m->nforeign == 0);
    } else {
        need(m->nblobs >= 1 && m->nchildren == 0);
    }
    for (size_t i = 0; i < m->nblobs; i++) {
        check_digest(&m->blobs[i]);
        for (size_t j = 0; j < i; j++)
            need(!digest_equal(&m->blobs[i], &m->blobs[j]));
    }
    for (size_t i = 0; i < m->nforeign; i++)
        check_digest(&m->foreign[i]);
    for (size_t i = 0; i < m->nchildren; i++) {
        const struct meta_child *c = &m->children[i];

        check_digest(&c->digest);
        need(strlen(c->media_type) > 0 && strchr(c->media_type, '/') != NULL);
        need(strlen(c->os) < sizeof(c->os) && strlen(c->arch) < sizeof(c->arch) &&
             strlen(c->variant) < sizeof(c->variant));
        for (size_t j = 0; j < i; j++)
            need(!digest_equal(&c->digest, &m->children[j].digest));
    }
    if (m->has_subject)
        check_digest(&m->subject);
    if (m->artifact_type != NULL)
        need(m->artifact_type[0] != '\0' && strchr(m->artifact_type, '/') != NULL);
    if (m->annotations_json != NULL) {
        json_t *a = json_loads(m->annotations_json, JSON_REJECT_DUPLICATES, NULL);

        need(a != NULL && json_is_object(a));
        json_decref(a);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const cts[] = {
            NULL,
            MT_OCI_MANIFEST,
            MT_OCI_INDEX,
            MT_DOCKER_MANIFEST,
            MT_DOCKER_LIST,
            "application/json; charset=utf-8",
            MT_DOCKER_SCHEMA1_SIGNED,
    };

    for (size_t i = 0; i < sizeof(cts) / sizeof(cts[0]); i++) {
        struct manifest_info m;
        struct berr err;

        if (manifest_parse(&m, data, size, cts[i], &err) == 0) {
            check_accepted(&m);
        } else {
            need(err.code == BERR_MANIFEST_INVALID || err.code == BERR_INTERNAL);
            need(m.blobs == NULL && m.children == NULL && m.foreign == NULL &&
                 m.artifact_type == NULL && m.annotations_json == NULL);
        }
        manifest_info_cleanup(&m);
    }
    return 0;
}
