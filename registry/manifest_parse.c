/* manifest_parse.c - checking a pushed manifest and reading what the registry must record.
 *
 * The manifest is read with json_loadb(JSON_REJECT_DUPLICATES) and only read: nothing here
 * produces bytes that are stored or hashed, apart from the "annotations" object, which is
 * metadata (re-serialized compactly for storage/meta, never served as the manifest).
 *   1. On success out->media_type is one of the four MT_* manifest types in canonical spelling,
 *      and out->kind agrees with it.
 *   2. Every digest in out went through digest_parse; every media type string in out is a
 *      type "/" subtype of RFC 6838 restricted-name characters, no NUL, at most
 *      META_MEDIA_TYPE_MAX bytes.
 *   3. out->blobs and out->children hold no digest twice (the first occurrence wins), so
 *      storage/meta can record them under a unique key.
 *   4. On failure *out is zeroed and everything the call allocated is freed.
 * Null handling: an object field given as JSON null is invalid; an array field (layers,
 * manifests) given as null reads as empty, because Go's encoding/json writes a nil slice as null
 * and image-spec's structs carry no omitempty on those fields.
 * Reentrant; no shared state. */
#include "registry/manifest_parse.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/mem.h"

#define WHERE_MAX 48

/* a descriptor as read from the JSON: strings are borrowed from the json_t tree */
struct desc {
    struct digest digest;
    uint64_t size;
    const char *media_type;
    size_t media_type_len;
    bool has_urls;
};

static bool is_restricted_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '!' ||
           c == '#' || c == '$' || c == '&' || c == '^' || c == '_' || c == '.' || c == '+' ||
           c == '-';
}

/* RFC 6838 section 4.2: type-name "/" subtype-name, each 1..127 restricted-name characters
 * starting with a letter or digit. */
static bool media_type_valid(const char *s, size_t len)
{
    size_t i, part = 0;
    bool slash = false;

    if (len == 0 || len > META_MEDIA_TYPE_MAX)
        return false;
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (c == '/') {
            if (slash || part == 0)
                return false;
            slash = true;
            part = 0;
            continue;
        }
        if (!is_restricted_name_char(c))
            return false;
        if (part == 0 &&
            !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
        if (++part > 127)
            return false;
    }
    return slash && part > 0;
}

bool manifest_media_type_base(char *out, size_t cap, const char *header)
{
    static const char lower[] = "abcdefghijklmnopqrstuvwxyz"; /* no locale, no arithmetic */
    const char *s = header, *e;
    size_t len, i;

    if (cap == 0)
        return false;
    out[0] = '\0';
    if (header == NULL)
        return true;
    while (*s == ' ' || *s == '\t')
        s++;
    e = strchr(s, ';');
    if (e == NULL)
        e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    len = (size_t)(e - s);
    if (len >= cap)
        return false; /* out stays "" */
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (c >= 'A' && c <= 'Z')
            out[i] = lower[c - 'A'];
        else
            out[i] = c;
    }
    out[len] = '\0';
    return true;
}

/* canonical spelling of a known manifest media type (compared without case), or NULL */
static const char *known_type(const char *mt)
{
    static const char *const known[] = {MT_DOCKER_MANIFEST, MT_DOCKER_LIST, MT_OCI_MANIFEST,
                                        MT_OCI_INDEX};

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcasecmp(mt, known[i]) == 0)
            return known[i];
    }
    return NULL;
}

bool manifest_media_type_known(const char *mt)
{
    return mt != NULL && known_type(mt) != NULL;
}

static bool is_schema1_type(const char *mt)
{
    return strcasecmp(mt, MT_DOCKER_SCHEMA1) == 0 || strcasecmp(mt, MT_DOCKER_SCHEMA1_SIGNED) == 0;
}

/* Content-Type values that say nothing about which manifest this is */
static bool is_generic_type(const char *mt)
{
    return mt[0] == '\0' || strcmp(mt, "application/json") == 0 ||
           strcmp(mt, "application/octet-stream") == 0;
}

/* a JSON string that is a usable C string (no embedded NUL) */
static const char *json_cstr(const json_t *j, size_t *len)
{
    const char *s;
    size_t n;

    if (!json_is_string(j))
        return NULL;
    s = json_string_value(j);
    n = json_string_length(j);
    if (s == NULL || strlen(s) != n)
        return NULL;
    if (len != NULL)
        *len = n;
    return s;
}

static void where_fmt(char *out, size_t cap, const char *field, long idx)
{
    int n;

    if (idx < 0)
        n = snprintf(out, cap, "%s", field);
    else
        n = snprintf(out, cap, "%s[%ld]", field, idx);
    if (n < 0 || (size_t)n >= cap) {
        /* the name only decorates an error message; a cut one is still useful */
        out[cap - 1] = '\0';
    }
}

/* annotations must be an object of strings (image-spec annotations rules) */
static int annotations_check(const json_t *ann, const char *where, struct berr *err)
{
    const char *key;
    const json_t *v;

    if (!json_is_object(ann))
        return berr_set(err, BERR_MANIFEST_INVALID, "%s%sannotations must be an object", where,
                        where[0] ? "." : "");
    json_object_foreach((json_t *)ann, key, v)
    {
        if (!json_is_string(v))
            return berr_set(err, BERR_MANIFEST_INVALID, "%s%sannotations values must be strings",
                            where, where[0] ? "." : "");
    }
    return 0;
}

/* desc_parse checks one descriptor: mediaType (a valid media type), digest (sha256), size
 * (integer >= 0), and when present urls (array of strings), annotations (object of strings),
 * artifactType (media type). */
static int desc_parse(struct desc *out, const json_t *j, const char *where, struct berr *err)
{
    const json_t *v;
    const char *s;
    size_t len;
    json_int_t size;
    struct berr derr;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(j))
        return berr_set(err, BERR_MANIFEST_INVALID, "%s must be an object", where);

    v = json_object_get(j, "mediaType");
    if (v == NULL)
        return berr_set(err, BERR_MANIFEST_INVALID, "%s.mediaType is missing", where);
    s = json_cstr(v, &len);
    if (s == NULL || !media_type_valid(s, len))
        return berr_set(err, BERR_MANIFEST_INVALID, "%s.mediaType is not a valid media type",
                        where);
    out->media_type = s;
    out->media_type_len = len;

    v = json_object_get(j, "digest");
    if (v == NULL)
        return berr_set(err, BERR_MANIFEST_INVALID, "%s.digest is missing", where);
    if (!json_is_string(v))
        return berr_set(err, BERR_MANIFEST_INVALID, "%s.digest must be a string", where);
    if (digest_parse(&out->digest, json_string_value(v), json_string_length(v), &derr) < 0)
        return berr_set(err, BERR_MANIFEST_INVALID, "%s.digest: %s", where, derr.msg);

    v = json_object_get(j, "size");
    if (v == NULL)
        return berr_set(err, BERR_MANIFEST_INVALID, "%s.size is missing", where);
    if (!json_is_integer(v))
        return berr_set(err, BERR_MANIFEST_INVALID, "%s.size must be an integer", where);
    size = json_integer_value(v);
    if (size < 0)
        return berr_set(err, BERR_MANIFEST_INVALID, "%s.size must not be negative", where);
    out->size = (uint64_t)size;

    v = json_object_get(j, "urls");
    if (v != NULL) {
        size_t i;
        const json_t *u;

        if (!json_is_array(v))
            return berr_set(err, BERR_MANIFEST_INVALID, "%s.urls must be an array", where);
        json_array_foreach(v, i, u)
        {
            if (json_cstr(u, &len) == NULL || len == 0)
                return berr_set(err, BERR_MANIFEST_INVALID, "%s.urls[%zu] must be a string", where,
                                i);
        }
        out->has_urls = json_array_size(v) > 0;
    }

    v = json_object_get(j, "annotations");
    if (v != NULL && annotations_check(v, where, err) < 0)
        return -1;

    v = json_object_get(j, "artifactType");
    if (v != NULL) {
        s = json_cstr(v, &len);
        if (s == NULL || !media_type_valid(s, len))
            return berr_set(err, BERR_MANIFEST_INVALID, "%s.artifactType is not a valid media type",
                            where);
    }
    return 0;
}

/* dedupe_digests removes repeated digests from a[0..*n), keeping the first occurrence of each in
 * its place: sort an index by (digest, position), mark later duplicates, compact. O(n log n) so a
 * 4 MiB manifest with tens of thousands of layers costs milliseconds. */
struct dd_key {
    const char *hex;
    size_t pos;
};

static int dd_cmp(const void *pa, const void *pb)
{
    const struct dd_key *a = pa, *b = pb;
    int c = memcmp(a->hex, b->hex, DIGEST_HEX_LEN);

    if (c != 0)
        return c;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

/* dedupe_positions sets keep[i] for the first occurrence of each digest in arr (get(arr, i) gives
 * the i-th); 0, or -1 (BERR_INTERNAL) when memory runs out */
static int dedupe_positions(bool *keep, size_t n, const struct digest *(*get)(const void *, size_t),
                            const void *arr, struct berr *err)
{
    struct dd_key *keys;
    size_t i;

    if (n == 0)
        return 0;
    keys = mem_calloc(n, sizeof(*keys));
    if (keys == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    for (i = 0; i < n; i++) {
        keys[i].hex = get(arr, i)->hex;
        keys[i].pos = i;
        keep[i] = true;
    }
    qsort(keys, n, sizeof(*keys), dd_cmp);
    for (i = 1; i < n; i++) {
        if (memcmp(keys[i].hex, keys[i - 1].hex, DIGEST_HEX_LEN) == 0)
            keep[keys[i].pos] = false;
    }
    mem_free(keys);
    return 0;
}

static const struct digest *get_digest(const void *arr, size_t i)
{
    return &((const struct digest *)arr)[i];
}

static const struct digest *get_child(const void *arr, size_t i)
{
    return &((const struct meta_child *)arr)[i].digest;
}

/* dedupe_array removes from arr[0..*n) (elements of size bytes, get(arr, i) giving the i-th
 * one's digest) every element whose digest came earlier, keeping the others in order; 0, or -1
 * (BERR_INTERNAL, arr and *n unchanged) when memory runs out */
static int dedupe_array(void *arr, size_t *n, size_t size,
                        const struct digest *(*get)(const void *, size_t), struct berr *err)
{
    unsigned char *base = arr;
    bool *keep;
    size_t i, w = 0;

    if (*n < 2)
        return 0;
    keep = mem_calloc(*n, sizeof(*keep));
    if (keep == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    if (dedupe_positions(keep, *n, get, arr, err) < 0) {
        mem_free(keep);
        return -1;
    }
    for (i = 0; i < *n; i++) {
        if (keep[i]) {
            if (w != i)
                memcpy(base + w * size, base + i * size, size); /* w < i: no overlap */
            w++;
        }
    }
    *n = w;
    mem_free(keep);
    return 0;
}

/* copy a platform string field into a fixed meta_child field */
static int platform_field(char *out, size_t cap, const json_t *platform, const char *key,
                          bool required, const char *where, struct berr *err)
{
    const json_t *v = json_object_get(platform, key);
    const char *s;
    size_t len;

    out[0] = '\0';
    if (v == NULL) {
        if (required)
            return berr_set(err, BERR_MANIFEST_INVALID, "%s.platform.%s is missing", where, key);
        return 0;
    }
    s = json_cstr(v, &len);
    if (s == NULL)
        return berr_set(err, BERR_MANIFEST_INVALID, "%s.platform.%s must be a string", where, key);
    if (len >= cap)
        return berr_set(err, BERR_MANIFEST_INVALID, "%s.platform.%s is longer than %zu bytes",
                        where, key, cap - 1);
    memcpy(out, s, len + 1);
    return 0;
}

static int parse_image(struct manifest_info *out, const json_t *root, struct berr *err)
{
    const json_t *config = json_object_get(root, "config");
    const json_t *layers = json_object_get(root, "layers");
    const json_t *l;
    struct desc d;
    char where[WHERE_MAX];
    size_t i, nlayers;

    if (config == NULL)
        return berr_set(err, BERR_MANIFEST_INVALID, "config is missing");
    if (desc_parse(&d, config, "config", err) < 0)
        return -1;
    if (layers == NULL)
        return berr_set(err, BERR_MANIFEST_INVALID, "layers is missing");
    if (!json_is_array(layers) && !json_is_null(layers))
        return berr_set(err, BERR_MANIFEST_INVALID, "layers must be an array");
    nlayers = json_is_array(layers) ? json_array_size(layers) : 0;

    out->blobs = mem_calloc(1 + nlayers, sizeof(*out->blobs));
    if (out->blobs == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    out->blobs[out->nblobs++] = d.digest;

    if (strcmp(out->media_type, MT_OCI_MANIFEST) == 0) {
        /* referrers rule (distribution-spec 1.1): without artifactType an image manifest is
         * listed under its config media type */
        out->artifact_type = mem_strdup(d.media_type);
        if (out->artifact_type == NULL)
            return berr_set(err, BERR_INTERNAL, "out of memory");
    }

    for (i = 0; i < nlayers; i++) {
        l = json_array_get(layers, i);
        where_fmt(where, sizeof(where), "layers", (long)i);
        if (desc_parse(&d, l, where, err) < 0)
            return -1;
        if (d.has_urls) {
            if (out->foreign == NULL) {
                out->foreign = mem_calloc(nlayers, sizeof(*out->foreign));
                if (out->foreign == NULL)
                    return berr_set(err, BERR_INTERNAL, "out of memory");
            }
            out->foreign[out->nforeign++] = d.digest;
        } else {
            out->blobs[out->nblobs++] = d.digest;
        }
    }
    if (dedupe_array(out->blobs, &out->nblobs, sizeof(*out->blobs), get_digest, err) < 0)
        return -1;
    return dedupe_array(out->foreign, &out->nforeign, sizeof(*out->foreign), get_digest, err);
}

static int parse_index(struct manifest_info *out, const json_t *root, struct berr *err)
{
    const json_t *manifests = json_object_get(root, "manifests");
    const json_t *e, *platform;
    struct desc d;
    char where[WHERE_MAX];
    size_t i, n;

    if (manifests == NULL)
        return berr_set(err, BERR_MANIFEST_INVALID, "manifests is missing");
    if (!json_is_array(manifests) && !json_is_null(manifests))
        return berr_set(err, BERR_MANIFEST_INVALID, "manifests must be an array");
    n = json_is_array(manifests) ? json_array_size(manifests) : 0;
    if (n == 0)
        return 0;
    out->children = mem_calloc(n, sizeof(*out->children));
    if (out->children == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    for (i = 0; i < n; i++) {
        struct meta_child *c = &out->children[out->nchildren];

        e = json_array_get(manifests, i);
        where_fmt(where, sizeof(where), "manifests", (long)i);
        if (desc_parse(&d, e, where, err) < 0)
            return -1;
        c->digest = d.digest;
        c->size = d.size;
        /* desc_parse set media_type and checked its length against META_MEDIA_TYPE_MAX */
        assert(d.media_type != NULL && d.media_type_len < sizeof(c->media_type));
        memcpy(c->media_type, d.media_type, d.media_type_len + 1);
        platform = json_object_get(e, "platform");
        if (platform != NULL) {
            if (!json_is_object(platform))
                return berr_set(err, BERR_MANIFEST_INVALID, "%s.platform must be an object", where);
            if (platform_field(c->os, sizeof(c->os), platform, "os", true, where, err) < 0 ||
                platform_field(c->arch, sizeof(c->arch), platform, "architecture", true, where,
                               err) < 0 ||
                platform_field(c->variant, sizeof(c->variant), platform, "variant", false, where,
                               err) < 0)
                return -1;
        }
        out->nchildren++;
    }
    return dedupe_array(out->children, &out->nchildren, sizeof(*out->children), get_child, err);
}

/* dump_matches: text parses back to a value equal to v */
static bool dump_matches(const char *text, const json_t *v)
{
    json_t *back = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    bool same = back != NULL && json_equal(back, v);

    json_decref(back);
    return same;
}

/* the fields common to both kinds: subject, artifactType, annotations */
static int parse_common(struct manifest_info *out, const json_t *root, struct berr *err)
{
    const json_t *v;
    struct desc d;

    v = json_object_get(root, "subject");
    if (v != NULL) {
        if (desc_parse(&d, v, "subject", err) < 0)
            return -1;
        out->has_subject = true;
        out->subject = d.digest;
    }

    v = json_object_get(root, "artifactType");
    if (v != NULL) {
        const char *s;
        size_t len;

        s = json_cstr(v, &len);
        if (s == NULL || (len > 0 && !media_type_valid(s, len)))
            return berr_set(err, BERR_MANIFEST_INVALID, "artifactType is not a valid media type");
        if (len > 0) {
            /* an explicit artifactType wins over the config media type */
            mem_free(out->artifact_type);
            out->artifact_type = mem_strdup(s);
            if (out->artifact_type == NULL)
                return berr_set(err, BERR_INTERNAL, "out of memory");
        }
    }

    v = json_object_get(root, "annotations");
    if (v != NULL) {
        char *text;

        if (annotations_check(v, "", err) < 0)
            return -1;
        text = json_dumps(v, JSON_COMPACT);
        if (text == NULL)
            return berr_set(err, BERR_INTERNAL, "out of memory");
        /* json_dumps ignores some failed buffer growths and returns text with bytes missing:
         * read it back and compare before trusting it */
        if (!dump_matches(text, v)) {
            mem_free(text); /* jansson allocates with mem_malloc or malloc: both free() */
            return berr_set(err, BERR_INTERNAL, "out of memory");
        }
        out->annotations_json = text;
    }
    return 0;
}

/* decide the media type (field, else header, else shape) and check they agree */
static int pick_media_type(struct manifest_info *out, const json_t *root, const char *ct,
                           struct berr *err)
{
    const json_t *v = json_object_get(root, "mediaType");
    const char *field = NULL, *canon;
    char want[META_MEDIA_TYPE_MAX + 1];
    size_t len;

    if (v != NULL) {
        field = json_cstr(v, &len);
        if (field == NULL || !media_type_valid(field, len))
            return berr_set(err, BERR_MANIFEST_INVALID, "mediaType is not a valid media type");
    }
    if (field != NULL && ct[0] != '\0' && strcasecmp(field, ct) != 0)
        return berr_set(err, BERR_MANIFEST_INVALID, "mediaType %s does not match Content-Type %s",
                        field, ct);
    if (field != NULL) {
        memcpy(want, field, len + 1);
    } else if (ct[0] != '\0') {
        memcpy(want, ct, strlen(ct) + 1);
    } else if (json_object_get(root, "manifests") != NULL) {
        memcpy(want, MT_OCI_INDEX, sizeof(MT_OCI_INDEX));
    } else if (json_object_get(root, "config") != NULL) {
        memcpy(want, MT_OCI_MANIFEST, sizeof(MT_OCI_MANIFEST));
    } else {
        return berr_set(err, BERR_MANIFEST_INVALID,
                        "cannot tell the manifest type: no mediaType, Content-Type, config or "
                        "manifests");
    }
    if (is_schema1_type(want))
        return berr_set(err, BERR_MANIFEST_INVALID,
                        "schema 1 manifests are not supported; push schema 2 or OCI");
    canon = known_type(want);
    if (canon == NULL)
        return berr_set(err, BERR_MANIFEST_INVALID, "unsupported manifest media type %s", want);
    memcpy(out->media_type, canon, strlen(canon) + 1);
    out->kind = (strcmp(canon, MT_DOCKER_LIST) == 0 || strcmp(canon, MT_OCI_INDEX) == 0)
                        ? MANIFEST_KIND_INDEX
                        : MANIFEST_KIND_IMAGE;
    return 0;
}

int manifest_parse(struct manifest_info *out, const void *data, size_t len,
                   const char *content_type, struct berr *err)
{
    char ct[META_MEDIA_TYPE_MAX + 1] = "";
    json_t *root = NULL;
    json_error_t jerr;
    const json_t *sv;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (len == 0)
        return berr_set(err, BERR_MANIFEST_INVALID, "empty manifest");
    if (content_type != NULL && !manifest_media_type_base(ct, sizeof(ct), content_type)) {
        /* longer than any media type storage/meta keeps, so not a manifest type */
        return berr_set(err, BERR_MANIFEST_INVALID, "unsupported Content-Type");
    }
    if (is_generic_type(ct))
        ct[0] = '\0';
    if (ct[0] != '\0' && is_schema1_type(ct))
        return berr_set(err, BERR_MANIFEST_INVALID,
                        "schema 1 manifests are not supported; push schema 2 or OCI");

    /* jansson does not report every allocation failure: some come back as syntax errors (a
     * string it could not copy is "string or '}' expected"), some with no message, and a failed
     * buffer growth inside a string is ignored, leaving the string a byte short. The allocator's
     * ENOMEM is the best sign (checked even after a success), but jansson clears errno when it
     * reads a number, so an allocation failure can still surface as MANIFEST_INVALID. */
    errno = 0;
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (errno == ENOMEM || (root == NULL && (json_error_code(&jerr) == json_error_out_of_memory ||
                                             jerr.text[0] == '\0'))) {
        rc = berr_set(err, BERR_INTERNAL, "out of memory");
        goto out;
    }
    if (root == NULL) {
        rc = berr_set(err, BERR_MANIFEST_INVALID, "invalid JSON at line %d: %s", jerr.line,
                      jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        rc = berr_set(err, BERR_MANIFEST_INVALID, "manifest must be a JSON object");
        goto out;
    }
    sv = json_object_get(root, "schemaVersion");
    if (json_is_integer(sv) && json_integer_value(sv) == 1) {
        rc = berr_set(err, BERR_MANIFEST_INVALID,
                      "schema 1 manifests are not supported; push schema 2 or OCI");
        goto out;
    }
    if (sv == NULL) {
        rc = berr_set(err, BERR_MANIFEST_INVALID, "schemaVersion is missing");
        goto out;
    }
    if (!json_is_integer(sv) || json_integer_value(sv) != 2) {
        rc = berr_set(err, BERR_MANIFEST_INVALID, "schemaVersion must be 2");
        goto out;
    }
    rc = pick_media_type(out, root, ct, err);
    if (rc < 0)
        goto out;
    if (out->kind == MANIFEST_KIND_IMAGE)
        rc = parse_image(out, root, err);
    else
        rc = parse_index(out, root, err);
    if (rc < 0)
        goto out;
    rc = parse_common(out, root, err);
out:
    json_decref(root);
    if (rc < 0)
        manifest_info_cleanup(out);
    return rc;
}

void manifest_info_cleanup(struct manifest_info *m)
{
    if (m == NULL)
        return;
    mem_free(m->artifact_type);
    mem_free(m->annotations_json);
    mem_free(m->blobs);
    mem_free(m->foreign);
    mem_free(m->children);
    memset(m, 0, sizeof(*m));
}
