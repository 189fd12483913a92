/* upload_s3.c - upload sessions on S3, their state in the shared state.
 *
 * The record (JSON) holds: repo, created, offset, the multipart upload id ("" until the first
 * part), the ETags of parts 1..n, the tail (sequence number and length of the object
 * _uploads/<id>/tail-<seq> holding the bytes after the last part), the SHA-256 state of every
 * byte received (OpenSSL's SHA256_CTX, hex, with its size and a version tag), and busy (epoch s
 * until which a request holds the session).
 * Invariants:
 *   1. offset = sum of the parts + tail length, and the SHA-256 state has hashed exactly those
 *      bytes, in order. A record is only replaced by compare-and-swap on its version, so two
 *      requests of one session on two replicas cannot both move it: acquire sets busy (CAS), the
 *      loser gets BLOB_UPLOAD_INVALID, and release/flush write with the version they hold.
 *   2. Parts are at least US3_PART_BYTES (> 5 MiB, S3's minimum) except the last one, uploaded
 *      at commit; fewer bytes wait in the tail. A request that fails half-way is forgotten: the
 *      record still describes the previous state (parts re-uploaded later reuse their numbers
 *      and replace the orphaned ones; orphan tails are removed with the session).
 *   3. The tail object is written before the record that names it, and the old tail removed
 *      after, so the record never points at a missing object.
 *   4. Commit never reads the bytes back: the digest comes from the stored SHA-256 state; the
 *      multipart upload is completed into _uploads/<id>/data and copied to the blob's key
 *      (multipart copy above 5 GiB), or, for a blob that never made a part, the tail bytes are
 *      PUT there directly. The blob object exists before link() writes its row.
 * The low-level SHA-256 API is deprecated in OpenSSL 3 but is the only one whose state can be
 * stored (EVP_MD_CTX is opaque); its use is confined to this file. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "storage/upload_s3.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/s3.h"

#define US3_PART_BYTES ((size_t)8 * 1024 * 1024)
#define US3_STATE_VERSION 1
#define US3_BUSY_LEASE_S 900 /* a request holding a session longer than this has died */
#define US3_PREFIX "_uploads/"

struct us3_mgr {
    struct blob_store *bs;
    struct s3 *s3;
    struct meta *meta;
    unsigned per_repo;
};

struct us3 {
    struct us3_mgr *m;
    char id[UPLOAD_S3_ID_LEN + 1];
    struct repo_name repo;
    int64_t created;
    int64_t version; /* of the record as this request last wrote or read it */
    uint64_t offset;
    char mpu[S3_UPLOAD_ID_MAX];
    struct s3_part *parts;
    size_t nparts, parts_cap;
    unsigned tail_seq; /* 0: no tail object */
    uint64_t tail_len;
    SHA256_CTX sha;
    char *buf; /* bytes after the last part: the tail (once loaded) and what came since */
    size_t len, cap;
    bool tail_loaded;
    bool dirty;    /* buf differs from the stored tail */
    bool poisoned; /* a write failed: this request's changes are dropped (invariant 2) */
};

static bool id_valid(const char *id)
{
    size_t n = 0;

    for (; id[n] != '\0'; n++)
        if (n >= UPLOAD_S3_ID_LEN ||
            !((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'f')))
            return false;
    return n == UPLOAD_S3_ID_LEN;
}

static void obj_key(char *out, size_t cap, const char *id, const char *leaf)
{
    snprintf(out, cap, US3_PREFIX "%s/%s", id, leaf);
}

static void tail_key(char *out, size_t cap, const char *id, unsigned seq)
{
    snprintf(out, cap, US3_PREFIX "%s/tail-%u", id, seq);
}

int us3_mgr_new(struct us3_mgr **out, struct blob_store *bs, struct meta *meta, struct berr *err)
{
    struct us3_mgr *m;

    *out = NULL;
    if (blob_store_s3_client(bs) == NULL || meta == NULL)
        return berr_set(err, BERR_INTERNAL, "upload: S3 sessions need an S3 store and meta");
    m = mem_calloc(1, sizeof(*m));
    if (m == NULL)
        return berr_sys(err, ENOMEM, "upload: S3 manager");
    m->bs = bs;
    m->s3 = blob_store_s3_client(bs);
    m->meta = meta;
    *out = m;
    return 0;
}

void us3_mgr_free(struct us3_mgr *m)
{
    mem_free(m);
}

void us3_mgr_set_limit(struct us3_mgr *m, unsigned per_repo)
{
    m->per_repo = per_repo;
}

/* ---- the record ---- */

static char *hex_of(const void *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    const unsigned char *b = p;
    char *s = mem_malloc(2 * n + 1);

    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = hx[b[i] >> 4];
        s[2 * i + 1] = hx[b[i] & 15];
    }
    s[2 * n] = '\0';
    return s;
}

static int unhex(void *out, size_t n, const char *s)
{
    unsigned char *b = out;

    if (s == NULL || strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;

        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + (size_t)k];

            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else
                return -1;
        }
        b[i] = (unsigned char)v;
    }
    return 0;
}

/* serialize u (busy until `busy`, 0 = free) into *out (new, mem_free... free()) */
static char *state_dump(const struct us3 *u, int64_t busy)
{
    json_t *o = NULL, *parts = json_array();
    char *sha = hex_of(&u->sha, sizeof(u->sha)), *s = NULL;

    if (parts == NULL || sha == NULL)
        goto out;
    for (size_t i = 0; i < u->nparts; i++)
        if (json_array_append_new(parts, json_string(u->parts[i].etag)) < 0)
            goto out;
    o = json_pack("{s:i, s:s, s:I, s:I, s:s, s:O, s:i, s:I, s:s, s:i, s:I}", "v", US3_STATE_VERSION,
                  "repo", u->repo.s, "created", (json_int_t)u->created, "offset",
                  (json_int_t)u->offset, "mpu", u->mpu, "parts", parts, "tail_seq",
                  (int)u->tail_seq, "tail_len", (json_int_t)u->tail_len, "sha", sha, "sha_size",
                  (int)sizeof(u->sha), "busy", (json_int_t)busy);
    if (o != NULL)
        s = json_dumps(o, JSON_COMPACT);
out:
    json_decref(o);
    json_decref(parts);
    mem_free(sha);
    return s;
}

/* fill u from a record; -1 (BERR_INTERNAL) on anything that does not add up */
static int state_load(struct us3 *u, const char *val, size_t len, int64_t *busy, struct berr *err)
{
    json_error_t je;
    json_t *o = json_loadb(val, len, JSON_REJECT_DUPLICATES, &je), *parts;
    const char *repo, *mpu, *sha;
    json_int_t created, offset, tail_len, busy_j;
    int v, tail_seq, sha_size;
    uint64_t sum = 0;
    int rc = -1;

    if (o == NULL ||
        json_unpack(o, "{s:i, s:s, s:I, s:I, s:s, s:o, s:i, s:I, s:s, s:i, s:I}", "v", &v, "repo",
                    &repo, "created", &created, "offset", &offset, "mpu", &mpu, "parts", &parts,
                    "tail_seq", &tail_seq, "tail_len", &tail_len, "sha", &sha, "sha_size",
                    &sha_size, "busy", &busy_j) < 0 ||
        v != US3_STATE_VERSION || sha_size != (int)sizeof(u->sha) || !json_is_array(parts) ||
        offset < 0 || tail_len < 0 || tail_seq < 0 || strlen(mpu) >= sizeof(u->mpu) ||
        repo_name_parse(&u->repo, repo, strlen(repo), NULL) < 0 ||
        unhex(&u->sha, sizeof(u->sha), sha) < 0) {
        berr_set(err, BERR_INTERNAL, "internal error");
        log_msg(LOG_ERROR, "upload %s: unreadable session record", u->id);
        goto out;
    }
    u->nparts = json_array_size(parts);
    if (u->nparts > S3_MAX_PARTS || (u->nparts > 0 && mpu[0] == '\0')) {
        berr_set(err, BERR_INTERNAL, "internal error");
        goto out;
    }
    u->parts = mem_calloc(u->nparts + 1, sizeof(*u->parts));
    if (u->parts == NULL) {
        berr_sys(err, ENOMEM, "upload: parts");
        goto out;
    }
    u->parts_cap = u->nparts + 1;
    for (size_t i = 0; i < u->nparts; i++) {
        const char *e = json_string_value(json_array_get(parts, i));

        if (e == NULL || strlen(e) >= S3_ETAG_MAX) {
            berr_set(err, BERR_INTERNAL, "internal error");
            goto out;
        }
        u->parts[i].number = (unsigned)i + 1;
        memcpy(u->parts[i].etag, e, strlen(e) + 1);
    }
    /* invariant 1, as far as it can be checked without the bytes: whole parts of at least
     * US3_PART_BYTES, and the hash state has seen offset bytes */
    sum = (uint64_t)offset - (uint64_t)tail_len;
    if ((uint64_t)tail_len > (uint64_t)offset || sum < (uint64_t)u->nparts * US3_PART_BYTES ||
        ((((uint64_t)u->sha.Nh << 32) | u->sha.Nl) != (uint64_t)offset * 8) ||
        u->sha.num >= SHA256_CBLOCK || u->sha.md_len != SHA256_DIGEST_LENGTH) {
        berr_set(err, BERR_INTERNAL, "internal error");
        log_msg(LOG_ERROR, "upload %s: session record fails its checks", u->id);
        goto out;
    }
    memcpy(u->mpu, mpu, strlen(mpu) + 1);
    u->created = (int64_t)created;
    u->offset = (uint64_t)offset;
    u->tail_seq = (unsigned)tail_seq;
    u->tail_len = (uint64_t)tail_len;
    *busy = (int64_t)busy_j;
    rc = 0;
out:
    json_decref(o);
    return rc;
}

static int state_put(struct us3 *u, int64_t busy, int64_t expect, struct berr *err)
{
    char *s = state_dump(u, busy);
    int64_t nv = 0;
    int rc;

    if (s == NULL)
        return berr_sys(err, ENOMEM, "upload: session record");
    rc = meta_state_put(u->m->meta, UPLOAD_S3_NS, u->id, s, strlen(s), 0, expect, &nv, err);
    free(s); /* jansson's allocation */
    if (rc == 0)
        u->version = nv;
    return rc;
}

static void us3_free(struct us3 *u)
{
    if (u == NULL)
        return;
    mem_free(u->parts);
    mem_free(u->buf);
    mem_free(u);
}

/* ---- sessions ---- */

struct count_ctx {
    const char *repo;
    unsigned n;
};

static int count_repo(const char *key, const char *val, size_t len, int64_t version,
                      int64_t expires, void *ctx)
{
    struct count_ctx *c = ctx;
    json_t *o = json_loadb(val, len, 0, NULL);
    const char *r = o ? json_string_value(json_object_get(o, "repo")) : NULL;

    (void)key;
    (void)version;
    (void)expires;
    if (r != NULL && strcmp(r, c->repo) == 0)
        c->n++;
    json_decref(o);
    return 0;
}

int us3_create(struct us3_mgr *m, const struct repo_name *repo, char id[UPLOAD_S3_ID_LEN + 1],
               struct berr *err)
{
    struct us3 *u;
    int rc;

    id[0] = '\0';
    if (m->per_repo > 0) {
        struct count_ctx c = {repo->s, 0};

        if (meta_state_list(m->meta, UPLOAD_S3_NS, count_repo, &c, err) < 0)
            return -1;
        if (c.n >= m->per_repo)
            return berr_set(err, BERR_TOOMANYREQUESTS,
                            "too many upload sessions open for this repository");
    }
    u = mem_calloc(1, sizeof(*u));
    if (u == NULL)
        return berr_sys(err, ENOMEM, "upload: session");
    u->m = m;
    u->repo = *repo;
    u->created = (int64_t)time(NULL);
    SHA256_Init(&u->sha);
    if (rand_hex(u->id, sizeof(u->id), UPLOAD_S3_ID_LEN / 2) < 0) {
        us3_free(u);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    rc = state_put(u, 0, 0, err);
    if (rc == 0)
        memcpy(id, u->id, sizeof(u->id));
    us3_free(u);
    return rc;
}

/* load the record of id into a new struct; *busy its busy field. 0 found, -1 error
 * (BERR_BLOB_UPLOAD_UNKNOWN when absent or of another repository) */
static int load(struct us3_mgr *m, const char *id, const struct repo_name *repo, struct us3 **out,
                int64_t *busy, struct berr *err)
{
    char *val = NULL;
    size_t len = 0;
    int64_t version = 0;
    struct us3 *u;
    int rc;

    *out = NULL;
    if (!id_valid(id))
        return berr_set(err, BERR_BLOB_UPLOAD_UNKNOWN, "upload unknown");
    rc = meta_state_get(m->meta, UPLOAD_S3_NS, id, &val, &len, &version, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return berr_set(err, BERR_BLOB_UPLOAD_UNKNOWN, "upload unknown");
    u = mem_calloc(1, sizeof(*u));
    if (u == NULL) {
        mem_free(val);
        return berr_sys(err, ENOMEM, "upload: session");
    }
    u->m = m;
    memcpy(u->id, id, UPLOAD_S3_ID_LEN + 1);
    u->version = version;
    rc = state_load(u, val, len, busy, err);
    mem_free(val);
    if (rc == 0 && repo != NULL && strcmp(u->repo.s, repo->s) != 0)
        rc = berr_set(err, BERR_BLOB_UPLOAD_UNKNOWN, "upload unknown");
    if (rc < 0) {
        us3_free(u);
        return -1;
    }
    *out = u;
    return 0;
}

int us3_acquire(struct us3_mgr *m, const char *id, const struct repo_name *repo, struct us3 **out,
                struct berr *err)
{
    struct us3 *u;
    int64_t busy = 0, now = (int64_t)time(NULL);

    *out = NULL;
    if (load(m, id, repo, &u, &busy, err) < 0)
        return -1;
    if (busy > now) {
        us3_free(u);
        return berr_set(err, BERR_BLOB_UPLOAD_INVALID, "upload in use by another request");
    }
    if (state_put(u, now + US3_BUSY_LEASE_S, u->version, err) < 0) {
        us3_free(u);
        if (err != NULL && err->code == BERR_CONFLICT)
            return berr_set(err, BERR_BLOB_UPLOAD_INVALID, "upload in use by another request");
        return -1;
    }
    *out = u;
    return 0;
}

uint64_t us3_offset(const struct us3 *u)
{
    return u->offset;
}

const char *us3_id(const struct us3 *u)
{
    return u->id;
}

static int buf_reserve(struct us3 *u, size_t need, struct berr *err)
{
    size_t cap = u->cap ? u->cap : 64 * 1024;
    char *nb;

    if (need <= u->cap)
        return 0;
    while (cap < need)
        cap *= 2;
    nb = mem_realloc(u->buf, cap);
    if (nb == NULL)
        return berr_sys(err, ENOMEM, "upload: buffer");
    u->buf = nb;
    u->cap = cap;
    return 0;
}

/* the stored tail into buf, before the first new byte */
static int load_tail(struct us3 *u, struct berr *err)
{
    char key[128];
    size_t got = 0;

    if (u->tail_loaded)
        return 0;
    u->len = 0;
    if (u->tail_len > 0) {
        if (u->tail_len > US3_PART_BYTES || buf_reserve(u, (size_t)u->tail_len, err) < 0)
            return u->tail_len > US3_PART_BYTES ? berr_set(err, BERR_INTERNAL, "internal error")
                                                : -1;
        tail_key(key, sizeof(key), u->id, u->tail_seq);
        if (s3_get_range(u->m->s3, key, 0, (size_t)u->tail_len, u->buf, &got, err) < 0)
            return -1;
        if (got != u->tail_len)
            return berr_set(err, BERR_INTERNAL, "upload: tail object shorter than recorded");
        u->len = got;
    }
    u->tail_loaded = true;
    return 0;
}

static int add_part(struct us3 *u, const char *data, size_t n, struct berr *err)
{
    char key[128];

    if (u->nparts + 1 >= S3_MAX_PARTS)
        return berr_set(err, BERR_TOO_LARGE, "upload: too many parts");
    obj_key(key, sizeof(key), u->id, "data");
    if (u->mpu[0] == '\0' && s3_mpu_create(u->m->s3, key, u->mpu, err) < 0)
        return -1;
    if (u->nparts + 1 >= u->parts_cap) {
        size_t cap = u->parts_cap ? u->parts_cap * 2 : 16;
        struct s3_part *np = mem_realloc(u->parts, cap * sizeof(*np));

        if (np == NULL)
            return berr_sys(err, ENOMEM, "upload: parts");
        u->parts = np;
        u->parts_cap = cap;
    }
    u->parts[u->nparts].number = (unsigned)u->nparts + 1;
    if (s3_mpu_part(u->m->s3, key, u->mpu, u->parts[u->nparts].number, data, n,
                    u->parts[u->nparts].etag, err) < 0)
        return -1;
    u->nparts++;
    return 0;
}

int us3_write(struct us3 *u, const void *p, size_t n, struct berr *err)
{
    if (u->poisoned)
        return berr_set(err, BERR_INTERNAL, "internal error");
    if (load_tail(u, err) < 0 || buf_reserve(u, u->len + n, err) < 0)
        goto fail;
    memcpy(u->buf + u->len, p, n);
    u->len += n;
    SHA256_Update(&u->sha, p, n);
    u->offset += n;
    u->dirty = true;
    if (u->len >= US3_PART_BYTES) {
        if (add_part(u, u->buf, u->len, err) < 0)
            goto fail;
        u->len = 0;
    }
    return 0;
fail:
    u->poisoned = true;
    return -1;
}

int us3_flush(struct us3 *u, struct berr *err)
{
    char key[128];
    unsigned old = u->tail_seq;
    uint64_t old_len = u->tail_len;

    if (u->poisoned)
        return berr_set(err, BERR_INTERNAL, "internal error");
    if (!u->dirty)
        return 0;
    if (u->len > 0) {
        tail_key(key, sizeof(key), u->id, old + 1);
        if (s3_put(u->m->s3, key, u->buf, u->len, err) < 0)
            goto fail;
        u->tail_seq = old + 1;
    }
    u->tail_len = u->len;
    if (state_put(u, (int64_t)time(NULL) + US3_BUSY_LEASE_S, u->version, err) < 0) {
        u->tail_seq = old;
        u->tail_len = old_len;
        goto fail;
    }
    u->dirty = false;
    if (old > 0 && old != u->tail_seq) {
        struct berr ignored;

        tail_key(key, sizeof(key), u->id, old);
        if (s3_delete(u->m->s3, key, &ignored) < 0)
            log_msg(LOG_WARN, "upload %s: old tail left: %s", u->id, ignored.msg);
    }
    return 0;
fail:
    u->poisoned = true;
    return -1;
}

void us3_release(struct us3 *u)
{
    struct berr err;

    if (u == NULL)
        return;
    if (!u->poisoned && us3_flush(u, &err) < 0)
        log_msg(LOG_ERROR, "upload %s: cannot save the session: %s", u->id, err.msg);
    if (u->poisoned) {
        /* forget this request (invariant 2): free the stored record as it was */
        struct us3 *old = NULL;
        int64_t busy;

        if (load(u->m, u->id, NULL, &old, &busy, &err) == 0) {
            if (old->version == u->version && state_put(old, 0, old->version, &err) < 0)
                log_msg(LOG_WARN, "upload %s: cannot free the session: %s", u->id, err.msg);
            us3_free(old);
        }
    } else if (state_put(u, 0, u->version, &err) < 0) {
        log_msg(LOG_WARN, "upload %s: cannot free the session: %s", u->id, err.msg);
    }
    us3_free(u);
}

struct obj_del {
    struct s3 *s3;
    int64_t cutoff; /* delete only objects older than this; 0 any */
    int dry;
    unsigned n;
};

static int del_obj(const char *key, uint64_t size, int64_t mtime, void *ctx)
{
    struct obj_del *d = ctx;
    struct berr err;

    (void)size;
    if (d->cutoff != 0 && mtime >= d->cutoff)
        return 0;
    d->n++;
    if (!d->dry && s3_delete(d->s3, key, &err) < 0)
        log_msg(LOG_WARN, "upload: cannot remove %s: %s", key, err.msg);
    return 0;
}

/* remove everything of session u: its record first (compare-and-swap on the version this
 * request holds, so a session another request took meanwhile is left alone), then its multipart
 * upload and objects (any left behind are orphans for us3_purge) */
static int discard(struct us3 *u, struct berr *err)
{
    char key[128], prefix[64];
    struct obj_del d = {u->m->s3, 0, 0, 0};
    int rc;

    rc = meta_state_remove(u->m->meta, UPLOAD_S3_NS, u->id, u->version, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return berr_set(err, BERR_BLOB_UPLOAD_INVALID, "upload in use by another request");
    rc = 0;
    obj_key(key, sizeof(key), u->id, "data");
    if (u->mpu[0] != '\0' && s3_mpu_abort(u->m->s3, key, u->mpu, err) < 0)
        rc = -1;
    snprintf(prefix, sizeof(prefix), US3_PREFIX "%s/", u->id);
    if (s3_list(u->m->s3, prefix, del_obj, &d, err) < 0)
        rc = -1;
    return rc;
}

/* the blob's bytes to its key, without reading anything back (invariant 4) */
static int place(struct us3 *u, const struct digest *d, struct berr *err)
{
    char key[128], blob[96];
    uint64_t size;
    int rc;

    blob_store_s3_key(blob, d);
    if (u->nparts == 0) {
        struct digest got;
        char tmp[8];

        /* never reached a part: one PUT of the tail (the store dedups) */
        if (blob_store_stage_buf(u->m->bs, u->buf ? u->buf : "", u->len, &got, tmp, sizeof(tmp),
                                 err) < 0)
            return -1;
        if (!digest_equal(&got, d))
            return berr_set(err, BERR_INTERNAL, "internal error");
        return 0;
    }
    if (u->len > 0 && add_part(u, u->buf, u->len, err) < 0)
        return -1;
    u->len = 0;
    obj_key(key, sizeof(key), u->id, "data");
    if (s3_mpu_complete(u->m->s3, key, u->mpu, u->parts, u->nparts, err) < 0)
        return -1;
    u->mpu[0] = '\0'; /* completed: nothing left to abort */
    rc = s3_head(u->m->s3, blob, &size, NULL, err);
    if (rc < 0)
        return -1;
    if (rc == 1)
        rc = s3_touch(u->m->s3, blob, err); /* dedup: refresh for gc's window */
    else
        rc = s3_copy(u->m->s3, blob, key, u->offset, err);
    return rc;
}

int us3_commit(struct us3 *u, const struct digest *want, us3_link_fn link, void *ctx,
               uint64_t *size, struct berr *err)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256_CTX fin;
    struct digest got;
    struct berr ignored;
    int rc = -1;

    *size = 0;
    if (u->poisoned) {
        berr_set(err, BERR_INTERNAL, "internal error");
        goto out;
    }
    if (load_tail(u, err) < 0)
        goto out;
    fin = u->sha;
    SHA256_Final(md, &fin);
    digest_from_raw(&got, md);
    if (!digest_equal(&got, want)) {
        berr_set(err, BERR_DIGEST_INVALID, "provided digest did not match uploaded content");
        goto out;
    }
    if (place(u, want, err) < 0)
        goto out;
    if (link("", u->offset, ctx, err) < 0)
        goto out;
    *size = u->offset;
    rc = 0;
out:
    /* the session ends either way */
    if (discard(u, &ignored) < 0)
        log_msg(LOG_WARN, "upload %s: leftovers after commit: %s", u->id, ignored.msg);
    us3_free(u);
    return rc;
}

int us3_cancel(struct us3_mgr *m, const char *id, const struct repo_name *repo, struct berr *err)
{
    struct us3 *u;
    int64_t busy = 0;
    int rc;

    if (load(m, id, repo, &u, &busy, err) < 0)
        return -1;
    if (busy > (int64_t)time(NULL)) {
        us3_free(u);
        return berr_set(err, BERR_BLOB_UPLOAD_INVALID, "upload in use by another request");
    }
    rc = discard(u, err);
    us3_free(u);
    if (rc < 0 && err != NULL && err->code != BERR_BLOB_UPLOAD_INVALID)
        return berr_set(err, BERR_INTERNAL, "internal error");
    return rc;
}

/* ---- purge ---- */

struct purge_ctx {
    struct us3_mgr *m;
    int64_t cutoff, now;
    int dry;
    unsigned n;
};

static int purge_session(const char *key, const char *val, size_t len, int64_t version,
                         int64_t expires, void *ctx)
{
    struct purge_ctx *p = ctx;
    struct us3 *u = NULL;
    int64_t busy = 0;
    struct berr err;

    (void)val;
    (void)len;
    (void)version;
    (void)expires;
    if (load(p->m, key, NULL, &u, &busy, &err) < 0)
        return 0; /* gone since the listing, or unreadable: left for the operator */
    if (u->created < p->cutoff && busy <= p->now) {
        p->n++;
        if (!p->dry && discard(u, &err) < 0)
            log_msg(LOG_WARN, "upload %s: purge incomplete: %s", u->id, err.msg);
    }
    us3_free(u);
    return 0;
}

/* the session id in "_uploads/<id>/..." when it has no record; NULL when it has or on error */
static int orphan_id(struct us3_mgr *m, const char *key, char id[UPLOAD_S3_ID_LEN + 1])
{
    const char *p = key + strlen(US3_PREFIX);
    struct berr err;

    if (strlen(p) < UPLOAD_S3_ID_LEN + 1 || p[UPLOAD_S3_ID_LEN] != '/')
        return 1; /* not ours: stray */
    memcpy(id, p, UPLOAD_S3_ID_LEN);
    id[UPLOAD_S3_ID_LEN] = '\0';
    if (!id_valid(id))
        return 1;
    return meta_state_get(m->meta, UPLOAD_S3_NS, id, NULL, NULL, NULL, &err) == 0 ? 1 : 0;
}

static int purge_mpu(const char *key, const char *upload_id, int64_t initiated, void *ctx)
{
    struct purge_ctx *p = ctx;
    char id[UPLOAD_S3_ID_LEN + 1];
    struct berr err;

    if (initiated >= p->cutoff || !orphan_id(p->m, key, id))
        return 0;
    p->n++;
    if (!p->dry && s3_mpu_abort(p->m->s3, key, upload_id, &err) < 0)
        log_msg(LOG_WARN, "upload: cannot abort the multipart upload of %s: %s", key, err.msg);
    return 0;
}

static int purge_obj(const char *key, uint64_t size, int64_t mtime, void *ctx)
{
    struct purge_ctx *p = ctx;
    char id[UPLOAD_S3_ID_LEN + 1];
    struct berr err;

    (void)size;
    if (mtime >= p->cutoff || !orphan_id(p->m, key, id))
        return 0;
    p->n++;
    if (!p->dry && s3_delete(p->m->s3, key, &err) < 0)
        log_msg(LOG_WARN, "upload: cannot remove %s: %s", key, err.msg);
    return 0;
}

int us3_purge(struct us3_mgr *m, int64_t max_age_s, int dry, unsigned *removed, struct berr *err)
{
    struct purge_ctx p = {m, 0, (int64_t)time(NULL), dry, 0};

    *removed = 0;
    p.cutoff = p.now - max_age_s;
    if (meta_state_list(m->meta, UPLOAD_S3_NS, purge_session, &p, err) < 0 ||
        s3_mpu_list(m->s3, US3_PREFIX, purge_mpu, &p, err) < 0 ||
        s3_list(m->s3, US3_PREFIX, purge_obj, &p, err) < 0)
        return -1;
    *removed = p.n;
    return 0;
}
