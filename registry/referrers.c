/* referrers.c - GET /v2/<name>/referrers/<digest>[?artifactType=...] (distribution-spec 1.1).
 *
 * The answer is always an OCI image index listing a descriptor (mediaType, digest, size,
 * artifactType, annotations) for every manifest of the repository whose subject is <digest>.
 *   1. Only a malformed digest is an error (400 DIGEST_INVALID). The spec forbids a 404 from a
 *      registry that supports the API, so an unknown subject and an unknown repository both get
 *      200 with an empty list.
 *   2. With a non-empty artifactType the list is filtered by storage/meta and the reply carries
 *      OCI-Filters-Applied: artifactType.
 *   3. The index is built with jansson; stored annotations (JSON text written by
 *      manifest_parse) are parsed back and embedded as objects, never pasted as text.
 * No shared state. */
#include "registry/req.h"

#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/mem.h"
#include "registry/manifest_parse.h"
#include "storage/meta.h"

struct ref_list {
    json_t *arr;
    bool oom;
};

static int add_referrer(const struct meta_referrer *m, void *ctx)
{
    struct ref_list *l = ctx;
    char dstr[DIGEST_STR_LEN + 1];
    json_t *d = json_object();

    digest_format(&m->digest, dstr, sizeof(dstr));
    if (d == NULL || json_object_set_new(d, "mediaType", json_string(m->media_type)) < 0 ||
        json_object_set_new(d, "digest", json_string(dstr)) < 0 ||
        json_object_set_new(d, "size", json_integer((json_int_t)m->size)) < 0)
        goto fail;
    if (m->artifact_type != NULL && m->artifact_type[0] != '\0' &&
        json_object_set_new(d, "artifactType", json_string(m->artifact_type)) < 0)
        goto fail;
    if (m->annotations_json != NULL && m->annotations_json[0] != '\0') {
        json_error_t jerr;
        json_t *ann = json_loads(m->annotations_json, 0, &jerr);

        if (ann == NULL || !json_is_object(ann)) {
            /* written by manifest_parse, so this is damage in the database: list the
             * referrer without its annotations rather than fail the whole answer */
            log_msg(LOG_WARN, "referrers: %s has unreadable annotations", dstr);
            json_decref(ann);
        } else if (json_object_set_new(d, "annotations", ann) < 0) {
            goto fail;
        }
    }
    if (json_array_append_new(l->arr, d) < 0) {
        d = NULL; /* stolen even on failure */
        goto fail;
    }
    return 0;
fail:
    json_decref(d);
    l->oom = true;
    return -1;
}

int referrers_get(struct req *r, struct http_reply *out)
{
    struct ref_list l = {0};
    struct digest subject;
    json_t *root = NULL;
    const char *q;
    char *filter = NULL, *text = NULL;
    size_t len;
    int rc = -1;

    if (digest_parse(&subject, r->ref, strlen(r->ref), &r->err) < 0)
        return -1;
    q = req_query(r, "artifactType");
    if (q != NULL && q[0] != '\0') {
        filter = mem_strdup(q);
        if (filter == NULL)
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
        /* libmicrohttpd decodes '+' in a query to ' '; a media type has no spaces, so a space
         * can only be a '+' the client did not percent-encode (application/vnd.x+json) */
        for (char *p = filter; *p != '\0'; p++) {
            if (*p == ' ')
                *p = '+';
        }
    }

    root = json_object();
    l.arr = json_array();
    if (root == NULL || l.arr == NULL) {
        json_decref(l.arr);
        rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
        goto out;
    }
    if (json_object_set_new(root, "schemaVersion", json_integer(2)) < 0 ||
        json_object_set_new(root, "mediaType", json_string(MT_OCI_INDEX)) < 0) {
        json_decref(l.arr);
        rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
        goto out;
    }
    if (json_object_set_new(root, "manifests", l.arr) < 0) { /* steals l.arr even on failure */
        rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
        goto out;
    }
    if (meta_referrers(r->reg->meta, &r->name, &subject, filter, add_referrer, &l, &r->err) != 0) {
        if (l.oom || r->err.code == BERR_OK) {
            rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
            goto out;
        }
        if (r->err.code != BERR_NAME_UNKNOWN)
            goto out;
        /* unknown repository: the empty index (invariant 1) */
        berr_clear(&r->err);
        if (json_array_clear(l.arr) < 0) {
            rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
            goto out;
        }
    }

    text = json_dumps(root, JSON_COMPACT);
    if (text == NULL) {
        rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
        goto out;
    }
    len = strlen(text);
    out->resp = http_resp_bytes(text, len, MT_OCI_INDEX);
    out->status = HTTP_OK;
    out->len = len;
    if (out->resp == NULL || (filter != NULL && http_resp_header(out->resp, "OCI-Filters-Applied",
                                                                 "artifactType") < 0)) {
        rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
        goto out;
    }
    rc = 0;
out:
    mem_free(text); /* jansson allocates with mem_malloc or malloc: both free() */
    json_decref(root);
    mem_free(filter);
    return rc;
}
