/* fetch.c - manifest resolution and platform choice.
 *
 * Invariants:
 *   1. A manifest is checked in memory (SHA-256 against the digest that named it, size against
 *      its descriptor) before it is written, with write_file_atomic, as the blob
 *      ROOT/blobs/sha256/<hex>; so a file under that name always hashes to its own name. A file
 *      already there is kept only when its bytes equal the checked ones, never for its length.
 *   2. Every manifest fetched is parsed with JSON_REJECT_DUPLICATES and only read, never
 *      re-serialized: what is stored is the exact bytes the registry sent.
 *   3. On failure fetch_resolve leaves *out empty (fetch_result_cleanup) and what it allocated
 *      freed; manifests already stored stay, being verified blobs.
 * Config and layer downloads live in fetch_blobs.c. No shared mutable state: calls on different
 * results may run on different threads at once (the client is thread-safe itself). */
#include "puller/fetch.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/mem.h"
#include "common/util.h"

/* ---- platforms ------------------------------------------------------------------------- */

static void lower_copy(char *dst, size_t cap, const char *src)
{
    size_t i = 0;

    for (; src[i] != '\0' && i + 1 < cap; i++)
        dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] - 'A' + 'a') : src[i];
    dst[i] = '\0';
}

/* set_str copies src, cut to cap: fields hold every known name, and a cut one never matches */
static void set_str(char *dst, size_t cap, const char *src)
{
    size_t len = strnlen(src, cap - 1);

    memmove(dst, src, len);
    dst[len] = '\0';
}

void fetch_platform_normalize(struct fetch_platform *p)
{
    char tmp[32];

    lower_copy(tmp, sizeof(tmp), p->os);
    set_str(p->os, sizeof(p->os), tmp);
    lower_copy(tmp, sizeof(tmp), p->arch);
    set_str(p->arch, sizeof(p->arch), tmp);
    lower_copy(tmp, sizeof(tmp), p->variant);
    set_str(p->variant, sizeof(p->variant), tmp);
    if (strcmp(p->arch, "x86_64") == 0 || strcmp(p->arch, "x86-64") == 0) {
        set_str(p->arch, sizeof(p->arch), "amd64");
    } else if (strcmp(p->arch, "aarch64") == 0) {
        set_str(p->arch, sizeof(p->arch), "arm64");
    } else if (strcmp(p->arch, "armhf") == 0) {
        set_str(p->arch, sizeof(p->arch), "arm");
        set_str(p->variant, sizeof(p->variant), "v7");
    } else if (strcmp(p->arch, "armel") == 0) {
        set_str(p->arch, sizeof(p->arch), "arm");
        set_str(p->variant, sizeof(p->variant), "v6");
    } else if (strcmp(p->arch, "i386") == 0 || strcmp(p->arch, "i686") == 0) {
        set_str(p->arch, sizeof(p->arch), "386");
    }
    if (strcmp(p->arch, "arm64") == 0) {
        if (p->variant[0] == '\0' || strcmp(p->variant, "8") == 0)
            set_str(p->variant, sizeof(p->variant), "v8");
    } else if (strcmp(p->arch, "arm") == 0) {
        if (p->variant[0] == '\0' || strcmp(p->variant, "7") == 0)
            set_str(p->variant, sizeof(p->variant), "v7");
        else if (strcmp(p->variant, "6") == 0)
            set_str(p->variant, sizeof(p->variant), "v6");
        else if (strcmp(p->variant, "5") == 0)
            set_str(p->variant, sizeof(p->variant), "v5");
    }
}

int fetch_platform_parse(struct fetch_platform *out, const char *s, struct berr *err)
{
    const char *a = strchr(s, '/');
    const char *v;
    size_t oslen, alen, vlen;

    memset(out, 0, sizeof(*out));
    if (a == NULL)
        return berr_set(err, BERR_BAD_REQUEST, "platform must be os/arch[/variant]");
    v = strchr(a + 1, '/');
    oslen = (size_t)(a - s);
    alen = v != NULL ? (size_t)(v - a - 1) : strlen(a + 1);
    vlen = v != NULL ? strlen(v + 1) : 0;
    if (oslen == 0 || alen == 0 || (v != NULL && (vlen == 0 || strchr(v + 1, '/') != NULL)) ||
        oslen >= sizeof(out->os) || alen >= sizeof(out->arch) || vlen >= sizeof(out->variant))
        return berr_set(err, BERR_BAD_REQUEST, "platform must be os/arch[/variant]");
    memcpy(out->os, s, oslen);
    memcpy(out->arch, a + 1, alen);
    if (v != NULL)
        memcpy(out->variant, v + 1, vlen);
    fetch_platform_normalize(out);
    return 0;
}

void fetch_platform_host(struct fetch_platform *out)
{
    struct utsname u;

    memset(out, 0, sizeof(*out));
    set_str(out->os, sizeof(out->os), "linux");
    if (uname(&u) == 0)
        set_str(out->arch, sizeof(out->arch), u.machine);
    else
        set_str(out->arch, sizeof(out->arch), "amd64"); /* uname cannot fail on Linux */
    if (strcmp(out->arch, "armv7l") == 0) {
        set_str(out->arch, sizeof(out->arch), "arm");
        set_str(out->variant, sizeof(out->variant), "v7");
    } else if (strcmp(out->arch, "armv6l") == 0) {
        set_str(out->arch, sizeof(out->arch), "arm");
        set_str(out->variant, sizeof(out->variant), "v6");
    }
    fetch_platform_normalize(out);
}

int fetch_platform_match(const struct fetch_platform *want, const struct fetch_platform *have)
{
    struct fetch_platform w = *want, h = *have;

    fetch_platform_normalize(&w);
    fetch_platform_normalize(&h);
    if (strcmp(w.os, h.os) != 0 || strcmp(w.arch, h.arch) != 0)
        return -1;
    if (strcmp(w.variant, h.variant) == 0)
        return 2;
    /* containerd: an arm vN machine also runs images built for older arm variants */
    if (strcmp(w.arch, "arm") == 0 && w.variant[0] == 'v' && h.variant[0] == 'v' &&
        h.variant[1] >= '5' && h.variant[1] < w.variant[1] && h.variant[2] == '\0' &&
        w.variant[2] == '\0')
        return 1;
    return -1;
}

void fetch_platform_format(const struct fetch_platform *p, char *out, size_t cap)
{
    (void)snprintf(out, cap, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
}

int fetch_blob_path(char *out, size_t cap, const char *root, const struct digest *d)
{
    int n = snprintf(out, cap, "%s/blobs/sha256/%s", root, d->hex);

    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* ---- descriptors and manifests --------------------------------------------------------- */

static int parse_desc(struct fetch_desc *out, json_t *obj, const char *what, struct berr *err)
{
    const char *dg = json_string_value(json_object_get(obj, "digest"));
    const char *mt = json_string_value(json_object_get(obj, "mediaType"));
    json_t *size = json_object_get(obj, "size");
    struct berr e2;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(obj) || dg == NULL || !json_is_integer(size) ||
        json_integer_value(size) < 0)
        return berr_set(err, BERR_MANIFEST_INVALID, "%s descriptor lacks digest or size", what);
    if (digest_parse(&out->digest, dg, strlen(dg), &e2) < 0)
        return berr_set(err, BERR_MANIFEST_INVALID, "%s digest is not a sha256 digest", what);
    out->size = (uint64_t)json_integer_value(size);
    if (mt != NULL)
        set_str(out->media_type, sizeof(out->media_type), mt);
    return 0;
}

static bool is_index_type(const char *mt)
{
    return strcmp(mt, FETCH_MT_OCI_INDEX) == 0 || strcmp(mt, FETCH_MT_DOCKER_LIST) == 0;
}

static bool is_manifest_type(const char *mt)
{
    return strcmp(mt, FETCH_MT_OCI_MANIFEST) == 0 || strcmp(mt, FETCH_MT_DOCKER_MANIFEST) == 0;
}

/* classify decides index or manifest from the Content-Type, else from the body */
static int classify(char *mt, size_t cap, json_t *root, struct berr *err)
{
    const char *body_mt = json_string_value(json_object_get(root, "mediaType"));
    json_t *sv = json_object_get(root, "schemaVersion");

    if (json_is_integer(sv) && json_integer_value(sv) == 1)
        return berr_set(err, BERR_UNSUPPORTED, "Docker schema 1 manifests are not supported");
    if (is_index_type(mt) || is_manifest_type(mt))
        return 0;
    if (body_mt != NULL && (is_index_type(body_mt) || is_manifest_type(body_mt))) {
        set_str(mt, cap, body_mt);
        return 0;
    }
    if (json_is_array(json_object_get(root, "manifests"))) {
        set_str(mt, cap, FETCH_MT_OCI_INDEX);
        return 0;
    }
    if (json_is_object(json_object_get(root, "config"))) {
        set_str(mt, cap, FETCH_MT_OCI_MANIFEST);
        return 0;
    }
    return berr_set(err, BERR_MANIFEST_INVALID, "unknown manifest type '%s'", mt);
}

int fetch_store_manifest(const char *root, const struct digest *d, const char *data, size_t len,
                         struct berr *err)
{
    char path[PATH_MAX];
    char *old = NULL;
    size_t old_len = 0;
    struct stat st;
    bool same = false;

    if (fetch_blob_path(path, sizeof(path), root, d) < 0)
        return berr_set(err, BERR_INTERNAL, "output path too long");
    /* A file of the right length may still be corrupt: keep it only when its bytes are the ones
     * just checked against d. */
    if (stat(path, &st) == 0 && (uint64_t)st.st_size == len &&
        read_file(&old, &old_len, path, len) == 0)
        same = old_len == len && (len == 0 || memcmp(old, data, len) == 0);
    mem_free(old);
    if (same)
        return 0;
    if (write_file_atomic(path, data != NULL ? data : "", len, 0644) < 0)
        return berr_set(err, BERR_INTERNAL, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

static int store_bytes(const char *root, const struct digest *d, const struct buf *b,
                       struct berr *err)
{
    return fetch_store_manifest(root, d, b->data, b->len, err);
}

/* get_checked fetches a manifest by reference and checks it against want (when given) */
static int get_checked(struct buf *body, char *mt, size_t cap, struct digest *got, struct client *c,
                       const char *ref, const struct fetch_desc *want, const char *pinned,
                       struct berr *err)
{
    char gs[DIGEST_STR_LEN + 1];

    buf_reset(body);
    if (client_get_manifest(c, body, mt, cap, ref, err) < 0)
        return -1;
    if (digest_of(got, body->data != NULL ? body->data : "", body->len) < 0)
        return berr_set(err, BERR_INTERNAL, "SHA-256 failed");
    digest_format(got, gs, sizeof(gs));
    if (want != NULL) {
        if (!digest_equal(got, &want->digest))
            return berr_set(err, BERR_DIGEST_INVALID, "manifest %s does not match its digest", ref);
        if (body->len != want->size)
            return berr_set(err, BERR_SIZE_INVALID,
                            "manifest %s is %zu bytes, its descriptor says %llu", ref, body->len,
                            (unsigned long long)want->size);
    }
    if (pinned != NULL && pinned[0] != '\0' && strcmp(pinned, gs) != 0)
        return berr_set(err, BERR_DIGEST_INVALID, "registry sent %s for %s", gs, pinned);
    return 0;
}

static int parse_image(struct fetch_image *img, json_t *root, struct berr *err)
{
    json_t *layers = json_object_get(root, "layers");
    size_t i;

    if (parse_desc(&img->config, json_object_get(root, "config"), "config", err) < 0)
        return -1;
    if (!json_is_array(layers))
        return berr_set(err, BERR_MANIFEST_INVALID, "manifest has no layers array");
    if (json_array_size(layers) > FETCH_MAX_LAYERS)
        return berr_set(err, BERR_MANIFEST_INVALID, "manifest has over %d layers",
                        FETCH_MAX_LAYERS);
    img->layers = mem_calloc(json_array_size(layers) + 1, sizeof(*img->layers));
    if (img->layers == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    for (i = 0; i < json_array_size(layers); i++) {
        if (parse_desc(&img->layers[i], json_array_get(layers, i), "layer", err) < 0)
            return -1;
        img->nlayers++;
    }
    return 0;
}

/* load_image fetches one platform manifest named by desc and parses it into img */
static int load_image(struct fetch_image *img, struct client *c, const struct fetch_opts *o,
                      struct buf *body, struct berr *err)
{
    char ref[DIGEST_STR_LEN + 1], mt[CLIENT_MEDIA_TYPE_MAX];
    struct digest got;
    json_t *root = NULL;
    json_error_t je;
    int rc = -1;

    digest_format(&img->manifest.digest, ref, sizeof(ref));
    if (get_checked(body, mt, sizeof(mt), &got, c, ref, &img->manifest, NULL, err) < 0)
        goto out;
    root = json_loadb(body->data, body->len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        rc = berr_set(err, BERR_MANIFEST_INVALID, "manifest %s is not JSON", ref);
        goto out;
    }
    if (img->manifest.media_type[0] == '\0')
        set_str(img->manifest.media_type, sizeof(img->manifest.media_type), mt);
    if (classify(img->manifest.media_type, sizeof(img->manifest.media_type), root, err) < 0)
        goto out;
    if (!is_manifest_type(img->manifest.media_type)) {
        rc = berr_set(err, BERR_UNSUPPORTED, "nested index %s is not supported", ref);
        goto out;
    }
    if (parse_image(img, root, err) < 0 || store_bytes(o->root, &got, body, err) < 0)
        goto out;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

static int read_platform(struct fetch_platform *p, json_t *desc)
{
    json_t *pl = json_object_get(desc, "platform");
    const char *os = json_string_value(json_object_get(pl, "os"));
    const char *arch = json_string_value(json_object_get(pl, "architecture"));
    const char *var = json_string_value(json_object_get(pl, "variant"));

    memset(p, 0, sizeof(*p));
    if (os == NULL || arch == NULL)
        return -1;
    set_str(p->os, sizeof(p->os), os);
    set_str(p->arch, sizeof(p->arch), arch);
    if (var != NULL)
        set_str(p->variant, sizeof(p->variant), var);
    return 0;
}

/* pick_from_index chooses the image descriptors of an index into out->images (not loaded) */
static int pick_from_index(struct fetch_result *out, json_t *root, const struct fetch_opts *o,
                           struct berr *err)
{
    json_t *ms = json_object_get(root, "manifests");
    size_t i, best = SIZE_MAX;
    int best_score = -1;
    struct buf avail;
    int rc = -1;

    buf_init(&avail, 512);
    if (!json_is_array(ms) || json_array_size(ms) == 0)
        return berr_set(err, BERR_MANIFEST_INVALID, "index lists no manifests");
    if (json_array_size(ms) > FETCH_MAX_LAYERS)
        return berr_set(err, BERR_MANIFEST_INVALID, "index lists too many manifests");
    out->images = mem_calloc(json_array_size(ms), sizeof(*out->images));
    if (out->images == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    for (i = 0; i < json_array_size(ms); i++) {
        json_t *d = json_array_get(ms, i);
        struct fetch_platform p;
        bool has = read_platform(&p, d) == 0;
        int score = has ? fetch_platform_match(&o->platform, &p) : -1;
        char ps[96];

        if (o->all_platforms) {
            struct fetch_image *img = &out->images[out->nimages];
            if (parse_desc(&img->manifest, d, "index entry", err) < 0)
                goto out;
            img->has_platform = has;
            if (has) {
                img->platform = p;
                fetch_platform_normalize(&img->platform);
            }
            out->nimages++;
            continue;
        }
        if (has) {
            fetch_platform_format(&p, ps, sizeof(ps));
            /* the list of offered platforms is only for the error message; cut is fine */
            (void)buf_printf(&avail, "%s%s", avail.len ? ", " : "", ps);
        }
        if (score > best_score) {
            best_score = score;
            best = i;
        }
    }
    if (!o->all_platforms) {
        struct fetch_image *img = &out->images[0];
        char want[96];
        if (best == SIZE_MAX) {
            fetch_platform_format(&o->platform, want, sizeof(want));
            rc = berr_set(err, BERR_MANIFEST_UNKNOWN, "no manifest for %s in the index (has: %s)",
                          want, avail.data != NULL ? avail.data : "none");
            goto out;
        }
        if (parse_desc(&img->manifest, json_array_get(ms, best), "index entry", err) < 0)
            goto out;
        img->has_platform = read_platform(&img->platform, json_array_get(ms, best)) == 0;
        fetch_platform_normalize(&img->platform);
        out->nimages = 1;
    }
    rc = 0;
out:
    buf_cleanup(&avail);
    return rc;
}

void fetch_result_cleanup(struct fetch_result *r)
{
    for (size_t i = 0; r->images != NULL && i < r->nimages; i++)
        mem_free(r->images[i].layers);
    mem_free(r->images);
    memset(r, 0, sizeof(*r));
}

int fetch_resolve(struct fetch_result *out, struct client *c, const struct fetch_opts *o,
                  struct berr *err)
{
    struct buf body;
    char mt[CLIENT_MEDIA_TYPE_MAX];
    struct digest got;
    json_t *root = NULL;
    json_error_t je;
    char dir[PATH_MAX];
    int n, rc = -1;

    memset(out, 0, sizeof(*out));
    buf_init(&body, CLIENT_MANIFEST_MAX_BYTES);
    n = snprintf(dir, sizeof(dir), "%s/blobs/sha256", o->root);
    if (n < 0 || (size_t)n >= sizeof(dir)) {
        rc = berr_set(err, BERR_INTERNAL, "output path too long");
        goto out;
    }
    if (mkdir_p(dir) < 0) {
        rc = berr_set(err, BERR_INTERNAL, "cannot create %s: %s", dir, strerror(errno));
        goto out;
    }
    if (get_checked(&body, mt, sizeof(mt), &got, c, o->reference, NULL, o->digest, err) < 0)
        goto out;
    root = json_loadb(body.data, body.len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        rc = berr_set(err, BERR_MANIFEST_INVALID, "manifest of %s is not JSON", o->reference);
        goto out;
    }
    if (classify(mt, sizeof(mt), root, err) < 0)
        goto out;
    out->top.digest = got;
    out->top.size = body.len;
    set_str(out->top.media_type, sizeof(out->top.media_type), mt);
    if (store_bytes(o->root, &got, &body, err) < 0)
        goto out;
    if (is_index_type(mt)) {
        out->is_index = true;
        if (pick_from_index(out, root, o, err) < 0)
            goto out;
        for (size_t i = 0; i < out->nimages; i++) {
            if (load_image(&out->images[i], c, o, &body, err) < 0)
                goto out;
        }
    } else {
        out->images = mem_calloc(1, sizeof(*out->images));
        if (out->images == NULL) {
            rc = berr_set(err, BERR_INTERNAL, "out of memory");
            goto out;
        }
        out->nimages = 1;
        out->images[0].manifest = out->top;
        if (parse_image(&out->images[0], root, err) < 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(root);
    buf_cleanup(&body);
    if (rc < 0)
        fetch_result_cleanup(out);
    return rc;
}
