/* out_tar.c - docker-archive and oci-archive output through libarchive.
 *
 * Invariants:
 *   1. A blob goes into the archive from its verified file in ROOT/blobs/sha256, READ_CHUNK
 *      bytes at a time; its header carries the size fstat reports, and a file that is shorter
 *      or longer than that when read is an error (the archive would be corrupt).
 *   2. The archive is written to PATH.tmp and renamed to PATH only after archive_write_close
 *      succeeded and the file was fsynced; on failure PATH.tmp is removed and PATH untouched.
 *   3. Each blob is written once even when several images or the config and a layer share it.
 * Entries are pax (ustar-compatible) regular files, mode 0644, owner 0, mtime 0, so the same
 * pull gives the same archive bytes. No shared state. */
#include "puller/out_tar.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "common/mem.h"
#include "common/util.h"
#include "puller/out_oci.h"

#define READ_CHUNK (256u * 1024u)

static const char oci_layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

struct tarw {
    struct archive *a;
    const char *root;
    char tmp[PATH_MAX];
    const struct digest **written; /* blobs already in the archive */
    size_t nwritten, capwritten;
    char *chunk;
};

static int tar_err(struct tarw *t, struct berr *err, const char *what)
{
    return berr_set(err, BERR_INTERNAL, "tar: %s: %s", what, archive_error_string(t->a));
}

static int add_entry_header(struct tarw *t, const char *name, int64_t size, unsigned mode, bool dir,
                            struct berr *err)
{
    struct archive_entry *e = archive_entry_new();
    int rc;

    if (e == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, (mode_t)mode);
    archive_entry_set_size(e, dir ? 0 : size);
    archive_entry_set_mtime(e, 0, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    rc = archive_write_header(t->a, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK)
        return tar_err(t, err, name);
    return 0;
}

static int add_bytes(struct tarw *t, const char *name, const void *p, size_t len, struct berr *err)
{
    if (add_entry_header(t, name, (int64_t)len, 0644, false, err) < 0)
        return -1;
    if (len > 0 && archive_write_data(t->a, p, len) != (la_ssize_t)len)
        return tar_err(t, err, name);
    return 0;
}

static int add_blob(struct tarw *t, const struct digest *d, struct berr *err)
{
    char path[PATH_MAX], name[96];
    struct stat st;
    uint64_t left;
    int fd = -1, n, rc = -1;

    for (size_t i = 0; i < t->nwritten; i++) {
        if (digest_equal(t->written[i], d))
            return 0;
    }
    if (t->nwritten == t->capwritten) {
        size_t cap = t->capwritten ? t->capwritten * 2 : 16;
        const struct digest **v = mem_realloc(t->written, cap * sizeof(*v));
        if (v == NULL)
            return berr_set(err, BERR_INTERNAL, "out of memory");
        t->written = v;
        t->capwritten = cap;
    }
    if (fetch_blob_path(path, sizeof(path), t->root, d) < 0)
        return berr_set(err, BERR_INTERNAL, "path too long");
    n = snprintf(name, sizeof(name), "blobs/sha256/%s", d->hex);
    if (n < 0 || (size_t)n >= sizeof(name))
        return berr_set(err, BERR_INTERNAL, "name too long");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        rc = berr_set(err, BERR_INTERNAL, "cannot open blob %s: %s", path, strerror(errno));
        goto out;
    }
    if (add_entry_header(t, name, (int64_t)st.st_size, 0644, false, err) < 0)
        goto out;
    left = (uint64_t)st.st_size;
    while (left > 0) {
        size_t want = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
        ssize_t r = read(fd, t->chunk, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = berr_set(err, BERR_INTERNAL, "blob %s changed while archiving", path);
            goto out;
        }
        if (archive_write_data(t->a, t->chunk, (size_t)r) != (la_ssize_t)r) {
            rc = tar_err(t, err, name);
            goto out;
        }
        left -= (uint64_t)r;
    }
    t->written[t->nwritten++] = d;
    rc = 0;
out:
    if (fd >= 0)
        (void)close(fd); /* read-only: nothing to lose */
    return rc;
}

static int tar_open(struct tarw *t, const char *path, const char *root, struct berr *err)
{
    int n;

    memset(t, 0, sizeof(*t));
    t->root = root;
    n = snprintf(t->tmp, sizeof(t->tmp), "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof(t->tmp))
        return berr_set(err, BERR_INTERNAL, "output path too long");
    t->chunk = mem_malloc(READ_CHUNK);
    t->a = archive_write_new();
    if (t->chunk == NULL || t->a == NULL)
        return berr_set(err, BERR_INTERNAL, "out of memory");
    if (archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK)
        return tar_err(t, err, "setup");
    if (archive_write_open_filename(t->a, t->tmp) != ARCHIVE_OK)
        return tar_err(t, err, t->tmp);
    return 0;
}

/* tar_close finishes the archive; on success renames it into place */
static int tar_close(struct tarw *t, const char *path, bool ok, struct berr *err)
{
    int rc = ok ? 0 : -1;

    if (t->a != NULL) {
        if (ok && archive_write_close(t->a) != ARCHIVE_OK)
            rc = tar_err(t, err, "close");
        (void)archive_write_free(t->a); /* after close, free only releases memory */
        t->a = NULL;
    }
    if (rc == 0) {
        int fd = open(t->tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
            rc = berr_set(err, BERR_INTERNAL, "cannot fsync %s: %s", t->tmp, strerror(errno));
        if (fd >= 0)
            (void)close(fd); /* the data is synced; close of a read-only fd cannot lose it */
        if (rc == 0 && rename(t->tmp, path) < 0)
            rc = berr_set(err, BERR_INTERNAL, "cannot rename to %s: %s", path, strerror(errno));
    }
    if (rc < 0 && t->tmp[0] != '\0')
        (void)unlink(t->tmp); /* best effort: the error already reported matters more */
    mem_free(t->chunk);
    mem_free(t->written);
    t->chunk = NULL;
    t->written = NULL;
    return rc;
}

/* add_layout writes oci-layout, index.json, and every blob of r */
static int add_layout(struct tarw *t, const struct fetch_result *r, const char *ref_name,
                      const char *image_name, bool with_index_blobs, struct berr *err)
{
    const struct fetch_platform *plat;
    const struct fetch_desc *top = out_oci_top(r, &plat);
    char *idx = NULL;
    size_t idx_len;
    int rc = -1;

    if (add_entry_header(t, "blobs/", 0, 0755, true, err) < 0 ||
        add_entry_header(t, "blobs/sha256/", 0, 0755, true, err) < 0)
        return -1;
    if (add_bytes(t, "oci-layout", oci_layout, sizeof(oci_layout) - 1, err) < 0)
        return -1;
    if (out_oci_index_json(&idx, &idx_len, NULL, 0, top, plat, ref_name, image_name, err) < 0)
        return -1;
    if (add_bytes(t, "index.json", idx, idx_len, err) < 0)
        goto out;
    if (with_index_blobs && r->is_index && top == &r->top && add_blob(t, &r->top.digest, err) < 0)
        goto out;
    for (size_t i = 0; i < r->nimages; i++) {
        const struct fetch_image *img = &r->images[i];
        if (add_blob(t, &img->manifest.digest, err) < 0 ||
            add_blob(t, &img->config.digest, err) < 0)
            goto out;
        for (size_t k = 0; k < img->nlayers; k++) {
            if (add_blob(t, &img->layers[k].digest, err) < 0)
                goto out;
        }
    }
    rc = 0;
out:
    mem_free(idx);
    return rc;
}

int out_tar_manifest_json(char **out, const struct fetch_image *img, const char *repo_tag,
                          struct berr *err)
{
    json_t *root = NULL, *m, *layers;
    char name[96];

    *out = NULL;
    (void)snprintf(name, sizeof(name), "blobs/sha256/%s", img->config.digest.hex); /* fits */
    layers = json_array();
    m = json_pack("{s:s,s:[],s:o}", "Config", name, "RepoTags", "Layers", layers);
    if (m == NULL)
        goto nomem;
    root = json_array();
    if (root == NULL || json_array_append_new(root, m) < 0) {
        json_decref(m);
        goto nomem;
    }
    if (repo_tag != NULL &&
        json_array_append_new(json_object_get(m, "RepoTags"), json_string(repo_tag)) < 0)
        goto nomem;
    for (size_t k = 0; k < img->nlayers; k++) {
        (void)snprintf(name, sizeof(name), "blobs/sha256/%s", img->layers[k].digest.hex);
        if (json_array_append_new(layers, json_string(name)) < 0)
            goto nomem;
    }
    *out = json_dumps(root, JSON_COMPACT);
    if (*out == NULL)
        goto nomem;
    json_decref(root);
    return 0;
nomem:
    json_decref(root);
    return berr_set(err, BERR_INTERNAL, "out of memory");
}

int out_tar_docker(const char *path, const char *root, const struct fetch_result *r,
                   const char *repo, const char *tag, const char *image_name, struct berr *err)
{
    struct tarw t;
    char repo_tag[600];
    char *manifest = NULL, *repos = NULL;
    bool tagged = tag != NULL && tag[0] != '\0';
    json_t *rj = NULL;
    int rc = -1, n;

    if (r->nimages != 1)
        return berr_set(err, BERR_UNSUPPORTED,
                        "a docker archive holds one platform; use --oci or --oci-archive");
    n = snprintf(repo_tag, sizeof(repo_tag), "%s:%s", repo, tagged ? tag : "");
    if (n < 0 || (size_t)n >= sizeof(repo_tag))
        return berr_set(err, BERR_NAME_INVALID, "image name too long");
    if (out_tar_manifest_json(&manifest, &r->images[0], tagged ? repo_tag : NULL, err) < 0)
        return -1;
    if (tagged) {
        const struct fetch_image *img = &r->images[0];
        const char *last = img->nlayers > 0 ? img->layers[img->nlayers - 1].digest.hex
                                            : img->config.digest.hex;
        rj = json_pack("{s:{s:s}}", repo, tag, last);
        repos = rj != NULL ? json_dumps(rj, JSON_COMPACT) : NULL;
        if (repos == NULL) {
            rc = berr_set(err, BERR_INTERNAL, "out of memory");
            goto out;
        }
    }
    if (tar_open(&t, path, root, err) < 0) {
        rc = tar_close(&t, path, false, err);
        goto out;
    }
    rc = add_layout(&t, r, tagged ? tag : "", image_name, false, err);
    if (rc == 0)
        rc = add_bytes(&t, "manifest.json", manifest, strlen(manifest), err);
    if (rc == 0 && repos != NULL)
        rc = add_bytes(&t, "repositories", repos, strlen(repos), err);
    rc = tar_close(&t, path, rc == 0, err);
out:
    json_decref(rj);
    mem_free(manifest);
    mem_free(repos);
    return rc;
}

int out_tar_oci(const char *path, const char *root, const struct fetch_result *r,
                const char *ref_name, const char *image_name, struct berr *err)
{
    struct tarw t;
    int rc;

    if (tar_open(&t, path, root, err) < 0)
        return tar_close(&t, path, false, err);
    rc = add_layout(&t, r, ref_name, image_name, true, err);
    return tar_close(&t, path, rc == 0, err);
}
