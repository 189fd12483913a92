/* out_oci.c - oci-layout and index.json of an OCI image layout.
 *
 * Invariants:
 *   1. index.json is replaced atomically (write_file_atomic): a reader sees the old or the new
 *      index, never a mix, and the blobs it names are in place before it is written (fetch.c
 *      finishes them first).
 *   2. Entries of an existing index.json are kept byte for byte as parsed objects, except the
 *      one this pull replaces; an index.json that is not an OCI index is an error, never
 *      overwritten.
 * No shared state. */
#include "puller/out_oci.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "common/mem.h"
#include "common/util.h"

static const char oci_layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

const struct fetch_desc *out_oci_top(const struct fetch_result *r,
                                     const struct fetch_platform **platform)
{
    *platform = NULL;
    if (r->is_index && r->nimages != 1)
        return &r->top;
    if (r->is_index && r->images[0].has_platform)
        *platform = &r->images[0].platform;
    return &r->images[0].manifest;
}

static json_t *desc_json(const struct fetch_desc *d, const struct fetch_platform *p,
                         const char *ref_name, const char *image_name)
{
    char ds[DIGEST_STR_LEN + 1];
    json_t *o, *ann = NULL;

    digest_format(&d->digest, ds, sizeof(ds));
    o = json_pack("{s:s,s:s,s:I}", "mediaType", d->media_type, "digest", ds, "size",
                  (json_int_t)d->size);
    if (o == NULL)
        return NULL;
    if (p != NULL) {
        json_t *pj = json_pack("{s:s,s:s}", "architecture", p->arch, "os", p->os);
        if (pj == NULL ||
            (p->variant[0] != '\0' &&
             json_object_set_new(pj, "variant", json_string(p->variant)) < 0) ||
            json_object_set_new(o, "platform", pj) < 0)
            goto fail;
    }
    if ((ref_name != NULL && ref_name[0] != '\0') || (image_name != NULL && image_name[0])) {
        ann = json_object();
        if (ann == NULL || json_object_set_new(o, "annotations", ann) < 0)
            goto fail;
        if (image_name != NULL && image_name[0] != '\0' &&
            json_object_set_new(ann, "io.containerd.image.name", json_string(image_name)) < 0)
            goto fail;
        if (ref_name != NULL && ref_name[0] != '\0' &&
            json_object_set_new(ann, OUT_OCI_REF_NAME, json_string(ref_name)) < 0)
            goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

int out_oci_index_json(char **out, size_t *out_len, const char *existing, size_t len,
                       const struct fetch_desc *desc, const struct fetch_platform *platform,
                       const char *ref_name, const char *image_name, struct berr *err)
{
    json_t *root = NULL, *ms, *entry = NULL;
    char ds[DIGEST_STR_LEN + 1];
    int rc = -1;
    size_t i;

    *out = NULL;
    *out_len = 0;
    digest_format(&desc->digest, ds, sizeof(ds));
    if (existing != NULL) {
        json_error_t je;
        root = json_loadb(existing, len, JSON_REJECT_DUPLICATES, &je);
        if (root == NULL || !json_is_object(root) ||
            !json_is_array(json_object_get(root, "manifests")) ||
            json_integer_value(json_object_get(root, "schemaVersion")) != 2) {
            rc = berr_set(err, BERR_MANIFEST_INVALID, "existing index.json is not an OCI index");
            goto out;
        }
    } else {
        root = json_pack("{s:i,s:s,s:[]}", "schemaVersion", 2, "mediaType", FETCH_MT_OCI_INDEX,
                         "manifests");
        if (root == NULL)
            goto nomem;
    }
    ms = json_object_get(root, "manifests");
    for (i = 0; i < json_array_size(ms);) {
        json_t *m = json_array_get(ms, i);
        const char *name = json_string_value(
                json_object_get(json_object_get(m, "annotations"), OUT_OCI_REF_NAME));
        const char *d = json_string_value(json_object_get(m, "digest"));
        bool same = ref_name[0] != '\0' ? name != NULL && strcmp(name, ref_name) == 0
                                        : name == NULL && d != NULL && strcmp(d, ds) == 0;
        if (same) {
            if (json_array_remove(ms, i) < 0)
                goto nomem;
            continue;
        }
        i++;
    }
    entry = desc_json(desc, platform, ref_name, image_name);
    if (entry == NULL || json_array_append_new(ms, entry) < 0)
        goto nomem;
    *out = json_dumps(root, JSON_COMPACT);
    if (*out == NULL)
        goto nomem;
    *out_len = strlen(*out);
    rc = 0;
    goto out;
nomem:
    rc = berr_set(err, BERR_INTERNAL, "out of memory");
out:
    json_decref(root);
    return rc;
}

int out_oci_finish(const char *root, const struct fetch_result *r, const char *ref_name,
                   const char *image_name, struct berr *err)
{
    char path[PATH_MAX];
    char *old = NULL, *idx = NULL;
    size_t old_len = 0, idx_len = 0;
    const struct fetch_platform *plat;
    const struct fetch_desc *top = out_oci_top(r, &plat);
    struct stat st;
    int n, rc = -1;

    n = snprintf(path, sizeof(path), "%s/oci-layout", root);
    if (n < 0 || (size_t)n >= sizeof(path))
        return berr_set(err, BERR_INTERNAL, "output path too long");
    if (stat(path, &st) < 0 &&
        write_file_atomic(path, oci_layout, sizeof(oci_layout) - 1, 0644) < 0)
        return berr_set(err, BERR_INTERNAL, "cannot write %s: %s", path, strerror(errno));
    n = snprintf(path, sizeof(path), "%s/index.json", root);
    if (n < 0 || (size_t)n >= sizeof(path))
        return berr_set(err, BERR_INTERNAL, "output path too long");
    if (read_file(&old, &old_len, path, OUT_OCI_INDEX_MAX_BYTES) < 0) {
        if (errno != ENOENT) {
            rc = berr_set(err, BERR_INTERNAL, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        old = NULL;
    }
    if (out_oci_index_json(&idx, &idx_len, old, old_len, top, plat, ref_name, image_name, err) < 0)
        goto out;
    if (write_file_atomic(path, idx, idx_len, 0644) < 0) {
        rc = berr_set(err, BERR_INTERNAL, "cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    mem_free(old);
    mem_free(idx);
    return rc;
}
