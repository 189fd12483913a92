/* upload.c - blob upload sessions: DATA/uploads/<id>/{data,info}.
 *
 * The manager keeps a table of the sessions it has seen, each with its running SHA-256 state, so
 * a chunk is hashed once as it is written and never read back. A session not in the table (the
 * server restarted) is loaded on first use: `info` is read, and the state is rebuilt by reading
 * `data` once. Invariants:
 *   1. A session in the table with busy == false has no open descriptor; the request that set
 *      busy owns fd, md and offset until it releases, commits or cancels.
 *   2. offset is the number of bytes of `data` that md has hashed. Bytes past offset (left by a
 *      failed write) are never hashed: they are cut off at the next acquire or at commit.
 *   3. md == NULL means the state is lost (an EVP failure) and is rebuilt from `data` before use.
 *   4. A session's files are removed while it is still in the table and busy, so a concurrent
 *      request gets BLOB_UPLOAD_INVALID then BLOB_UPLOAD_UNKNOWN, never a half-deleted session.
 *   5. Only ids of exactly 32 lowercase hex characters ever reach a path.
 *   6. wb_prev <= wb_done <= offset. Writeback of data[0, wb_done) has been started, and
 *      writeback of data[0, wb_prev) has also been waited for (sync_file_range, the
 *      "bytes_per_sync" pattern): once offset - wb_done reaches UPLOAD_WRITEBACK_BYTES,
 *      upload_write waits for the range [wb_prev, wb_done) started last time
 *      (SYNC_FILE_RANGE_WAIT_BEFORE), then starts [wb_done, offset) (SYNC_FILE_RANGE_WRITE). So
 *      a slow disk holds the PATCHes back instead of the closing PUT, a session keeps about two
 *      ranges of dirty pages, and the commit's fsync finds little left to write; that fsync
 *      stays the one durability point. Where the filesystem lacks the call (ENOSYS, EINVAL,
 *      ESPIPE, EOPNOTSUPP) the session stops asking and the fsync does it all, as before; a
 *      failure to start writeback is logged once per session and never fails a write.
 *   7. A wait consumes the file's writeback error (the kernel's errseq: neither the commit's
 *      fsync nor a later open would report it again). So an error from the wait means the disk
 *      lost bytes of this session that no fsync will report: the session is cut to empty
 *      (offset 0, hash reset) and the write fails, so no later commit can carry lost bytes,
 *      even after a server restart. Where even the cut fails, wb_lost keeps the error and the commit
 *      fails with it.
 *   8. A session loaded from disk starts at wb_prev = wb_done = 0: its first range also covers
 *      what the previous process left dirty. rebuild_hash pulls both back to a shorter file.
 * Thread-safety: `mu` guards the bucket chains and every `busy` flag and is never held across
 * file I/O: reading `info`, rehashing and deleting all happen outside it. A separate
 * process (berth gc) purging sessions cannot see this table: it only takes sessions older than
 * the purge age, which no live client still uses. */
/* for sync_file_range (Linux); where it is missing, sfr answers ENOSYS (invariant 6) */
#define _GNU_SOURCE /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#include "storage/upload.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/digest.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/util.h"
#include "storage/upload_s3.h"

#define UPLOAD_BUCKETS 256
#define UPLOAD_INFO_MAX 1024

struct upload {
    struct upload_mgr *mgr;
    struct upload *next; /* bucket chain, guarded by mgr->mu */
    bool busy;           /* guarded by mgr->mu */
    char id[UPLOAD_ID_LEN + 1];
    struct repo_name repo;
    int64_t created;
    /* owned by the request holding the session (invariant 1) */
    EVP_MD_CTX *md;
    uint64_t offset;
    uint64_t wb_prev, wb_done; /* invariant 6 */
    int wb_lost;               /* invariant 7: errno of a lost write the session still holds */
    bool wb_off;               /* the filesystem has no sync_file_range: no more calls */
    bool wb_warned;            /* one warning per session for failures to start writeback */
    int fd;
    struct us3 *s3; /* an S3 session: everything else above is unused */
};

struct upload_mgr {
    struct blob_store *bs;
    struct us3_mgr *s3; /* an S3 store: sessions live in the shared state (upload_s3.c) */
    char dir[PATH_MAX];
    pthread_mutex_t mu;
    struct upload *buckets[UPLOAD_BUCKETS]; /* guarded by mu */
    unsigned max_per_repo;                  /* 0 = no cap; set before the manager is shared */
};

/* id_valid: exactly UPLOAD_ID_LEN lowercase hex characters (the check stops at a NUL, so a
 * short id is never read past its end) */
static bool id_valid(const char *id)
{
    return id != NULL && parse_is_lower_hex(id, UPLOAD_ID_LEN) && id[UPLOAD_ID_LEN] == '\0';
}

/* the id was checked to be lowercase hex, so its first byte decodes */
static unsigned bucket_of(const char *id)
{
    return (unsigned)parse_hex_byte(id);
}

/* session_path writes <uploads>/<id>[/<leaf>]. */
static int session_path(const struct upload_mgr *m, const char *id, const char *leaf, char *out,
                        size_t cap, struct berr *err)
{
    int n;

    if (leaf != NULL)
        n = snprintf(out, cap, "%s/%s/%s", m->dir, id, leaf);
    else
        n = snprintf(out, cap, "%s/%s", m->dir, id);
    if (n < 0 || (size_t)n >= cap)
        return berr_sys(err, ENAMETOOLONG, "upload: path too long");
    return 0;
}

static void lock(struct upload_mgr *m)
{
    int rc = pthread_mutex_lock(&m->mu);

    /* only fails on a destroyed or uninitialised mutex, which the code never uses */
    assert(rc == 0);
    (void)rc;
}

static void unlock(struct upload_mgr *m)
{
    int rc = pthread_mutex_unlock(&m->mu);

    assert(rc == 0);
    (void)rc;
}

/* table_find: the caller holds mu. */
static struct upload *table_find(struct upload_mgr *m, const char *id)
{
    struct upload *u;

    for (u = m->buckets[bucket_of(id)]; u != NULL; u = u->next) {
        if (memcmp(u->id, id, UPLOAD_ID_LEN) == 0)
            return u;
    }
    return NULL;
}

/* table_insert / table_unlink: the caller holds mu. */
static void table_insert(struct upload_mgr *m, struct upload *u)
{
    unsigned b = bucket_of(u->id);

    u->next = m->buckets[b];
    m->buckets[b] = u;
}

/* count_repo: sessions of repo in the table (mu held) */
static unsigned count_repo(const struct upload_mgr *m, const struct repo_name *repo)
{
    unsigned n = 0;

    for (unsigned b = 0; b < UPLOAD_BUCKETS; b++) {
        for (const struct upload *u = m->buckets[b]; u != NULL; u = u->next) {
            if (strcmp(u->repo.s, repo->s) == 0)
                n++;
        }
    }
    return n;
}

/* at_cap: repo already has max_per_repo sessions (mu held) */
static bool at_cap(const struct upload_mgr *m, const struct repo_name *repo)
{
    return m->max_per_repo > 0 && count_repo(m, repo) >= m->max_per_repo;
}

static int cap_error(const struct upload_mgr *m, struct berr *err)
{
    return berr_set(err, BERR_TOOMANYREQUESTS,
                    "more than %u upload sessions open for this repository", m->max_per_repo);
}

static void table_unlink(struct upload_mgr *m, struct upload *u)
{
    struct upload **pp;

    for (pp = &m->buckets[bucket_of(u->id)]; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == u) {
            *pp = u->next;
            u->next = NULL;
            return;
        }
    }
}

static void session_free(struct upload *u)
{
    if (u == NULL)
        return;
    if (u->fd >= 0)
        (void)close(u->fd); /* only on teardown paths where the bytes no longer matter */
    EVP_MD_CTX_free(u->md);
    mem_free(u);
}

/* session_new: a detached session, busy, no descriptor, no hash state. */
static struct upload *session_new(struct upload_mgr *m, const char *id,
                                  const struct repo_name *repo, int64_t created)
{
    struct upload *u = mem_calloc(1, sizeof(*u));

    if (u == NULL)
        return NULL;
    u->mgr = m;
    u->busy = true;
    memcpy(u->id, id, UPLOAD_ID_LEN + 1);
    u->repo = *repo;
    u->created = created;
    u->fd = -1;
    return u;
}

/* rm_session_files removes <id>/{data,info,info.tmp} and the directory. Missing is fine. */
static int rm_session_files(const struct upload_mgr *m, const char *id)
{
    static const char *const leaves[] = {"data", "info", "info.tmp"};
    char path[PATH_MAX];
    int rc = 0;

    for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
        if (session_path(m, id, leaves[i], path, sizeof(path), NULL) < 0)
            return -1;
        if (unlink(path) < 0 && errno != ENOENT) {
            log_errno(LOG_WARN, errno, "upload: cannot remove %s", path);
            rc = -1;
        }
    }
    if (session_path(m, id, NULL, path, sizeof(path), NULL) < 0)
        return -1;
    if (rmdir(path) < 0 && errno != ENOENT) {
        log_errno(LOG_WARN, errno, "upload: cannot remove %s", path);
        rc = -1;
    }
    return rc;
}

/* discard ends a busy session: files first, then the table entry (invariant 4). */
static int discard(struct upload *u)
{
    struct upload_mgr *m = u->mgr;
    int rc;

    if (u->fd >= 0) {
        (void)close(u->fd); /* the bytes are being thrown away */
        u->fd = -1;
    }
    rc = rm_session_files(m, u->id);
    lock(m);
    table_unlink(m, u);
    unlock(m);
    session_free(u);
    return rc;
}

/* info_parse reads "repo=NAME\ncreated=SECONDS\n". */
static int info_parse(const char *text, size_t len, struct repo_name *repo, int64_t *created)
{
    const char *p = text, *end = text + len, *nl;
    uint64_t t;

    if (len < 5 || memcmp(p, "repo=", 5) != 0)
        return -1;
    p += 5;
    nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL || repo_name_parse(repo, p, (size_t)(nl - p), NULL) < 0)
        return -1;
    p = nl + 1;
    if ((size_t)(end - p) < 8 || memcmp(p, "created=", 8) != 0)
        return -1;
    p += 8;
    nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL || nl + 1 != end || parse_u64(&t, p, (size_t)(nl - p)) < 0 ||
        t > (uint64_t)INT64_MAX)
        return -1;
    *created = (int64_t)t;
    return 0;
}

/* info_read: BERR_BLOB_UPLOAD_UNKNOWN when the session does not exist or its info is unusable. */
static int info_read(const struct upload_mgr *m, const char *id, struct repo_name *repo,
                     int64_t *created, struct berr *err)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (session_path(m, id, "info", path, sizeof(path), err) < 0)
        return -1;
    if (read_file(&text, &len, path, UPLOAD_INFO_MAX) < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == EFBIG)
            return berr_set(err, BERR_BLOB_UPLOAD_UNKNOWN, "blob upload unknown to registry");
        return berr_sys(err, errno, "upload: read info");
    }
    rc = info_parse(text, len, repo, created);
    mem_free(text);
    if (rc < 0) {
        log_msg(LOG_WARN, "upload: session %s has a malformed info file", id);
        return berr_set(err, BERR_BLOB_UPLOAD_UNKNOWN, "blob upload unknown to registry");
    }
    return 0;
}

/* rebuild_hash hashes `data` from the start, reading it once; offset becomes its length. */
static int rebuild_hash(struct upload *u, struct berr *err)
{
    EVP_MD_CTX *md;
    uint64_t len;

    if (blob_store_hash_fd(&md, &len, u->fd, "upload: read data", err) < 0)
        return -1;
    EVP_MD_CTX_free(u->md);
    u->md = md;
    u->offset = len;
    if (u->wb_done > len)
        u->wb_done = len; /* the file got shorter than what writeback was asked for */
    if (u->wb_prev > len)
        u->wb_prev = len;
    return 0;
}

/* open_data opens `data` read-write and makes the file agree with the hash state: rebuilds the
 * state when it is lost or the file is shorter than offset, cuts bytes past offset. */
static int open_data(struct upload *u, struct berr *err)
{
    char path[PATH_MAX];
    struct stat st;

    if (session_path(u->mgr, u->id, "data", path, sizeof(path), err) < 0)
        return -1;
    u->fd = open(path, O_RDWR | O_CLOEXEC);
    if (u->fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return berr_set(err, BERR_BLOB_UPLOAD_UNKNOWN, "blob upload unknown to registry");
        return berr_sys(err, errno, "upload: open data");
    }
    if (fstat(u->fd, &st) < 0)
        return berr_sys(err, errno, "upload: fstat data");
    if (u->md == NULL || (uint64_t)st.st_size < u->offset)
        return rebuild_hash(u, err);
    if ((uint64_t)st.st_size > u->offset && ftruncate(u->fd, (off_t)u->offset) < 0)
        return berr_sys(err, errno, "upload: cut unhashed bytes");
    return 0;
}

void upload_mgr_set_limit(struct upload_mgr *m, unsigned per_repo)
{
    m->max_per_repo = per_repo;
    if (m->s3 != NULL)
        us3_mgr_set_limit(m->s3, per_repo);
}

int upload_mgr_use_meta(struct upload_mgr *m, struct meta *meta, struct berr *err)
{
    if (blob_store_s3_client(m->bs) == NULL || m->s3 != NULL)
        return 0;
    if (us3_mgr_new(&m->s3, m->bs, meta, err) < 0)
        return -1;
    us3_mgr_set_limit(m->s3, m->max_per_repo);
    return 0;
}

int upload_mgr_new(struct upload_mgr **out, struct blob_store *bs, struct berr *err)
{
    struct upload_mgr *m;
    int n;

    *out = NULL;
    m = mem_calloc(1, sizeof(*m));
    if (m == NULL)
        return berr_sys(err, ENOMEM, "upload: allocating manager");
    m->bs = bs;
    n = snprintf(m->dir, sizeof(m->dir), "%s/uploads", blob_store_root(bs));
    if (n < 0 || (size_t)n >= sizeof(m->dir)) {
        mem_free(m);
        return berr_sys(err, ENAMETOOLONG, "upload: uploads path too long");
    }
    n = pthread_mutex_init(&m->mu, NULL);
    if (n != 0) {
        mem_free(m);
        return berr_sys(err, n, "upload: mutex init");
    }
    *out = m;
    return 0;
}

void upload_mgr_free(struct upload_mgr *m)
{
    if (m == NULL)
        return;
    us3_mgr_free(m->s3);
    for (unsigned b = 0; b < UPLOAD_BUCKETS; b++) {
        struct upload *u = m->buckets[b];
        while (u != NULL) {
            struct upload *next = u->next;
            if (u->busy)
                log_msg(LOG_WARN, "upload: session %s still held at shutdown", u->id);
            session_free(u);
            u = next;
        }
    }
    (void)pthread_mutex_destroy(&m->mu); /* no thread uses the manager any more */
    mem_free(m);
}

int upload_create(struct upload_mgr *m, const struct repo_name *repo, char id[UPLOAD_ID_LEN + 1],
                  struct berr *err)
{
    char path[PATH_MAX], info[REPO_NAME_MAX + 64];

    if (m->s3 != NULL)
        return us3_create(m->s3, repo, id, err);
    struct upload *u = NULL;
    bool made_dir = false;
    int rc = -1, fd, n;

    id[0] = '\0';
    /* checked here to spare the disk work, and again when the session goes in the table */
    lock(m);
    if (at_cap(m, repo)) {
        unlock(m);
        return cap_error(m, err);
    }
    unlock(m);
    if (rand_hex(id, UPLOAD_ID_LEN + 1, UPLOAD_ID_LEN / 2) < 0) {
        id[0] = '\0';
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    u = session_new(m, id, repo, now_s());
    if (u == NULL) {
        berr_sys(err, ENOMEM, "upload: allocating session");
        goto out;
    }
    u->md = EVP_MD_CTX_new();
    if (u->md == NULL || EVP_DigestInit_ex(u->md, digest_sha256_md(), NULL) != 1) {
        berr_set(err, BERR_INTERNAL, "internal error");
        goto out;
    }
    if (session_path(m, id, NULL, path, sizeof(path), err) < 0)
        goto out;
    if (mkdir(path, 0750) < 0) {
        berr_sys(err, errno, "upload: create session directory");
        goto out;
    }
    made_dir = true;
    if (session_path(m, id, "data", path, sizeof(path), err) < 0)
        goto out;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) {
        berr_sys(err, errno, "upload: create data file");
        goto out;
    }
    if (close(fd) < 0) {
        berr_sys(err, errno, "upload: close data file");
        goto out;
    }
    n = snprintf(info, sizeof(info), "repo=%s\ncreated=%" PRId64 "\n", repo->s, u->created);
    if (n < 0 || (size_t)n >= sizeof(info)) {
        berr_sys(err, ENAMETOOLONG, "upload: info too long");
        goto out;
    }
    if (session_path(m, id, "info", path, sizeof(path), err) < 0)
        goto out;
    /* write_file_atomic fsyncs the session directory, which makes `data` durable too */
    if (write_file_atomic(path, info, (size_t)n, 0640) < 0) {
        berr_sys(err, errno, "upload: write info");
        goto out;
    }
    if (fsync_dir(m->dir) < 0) {
        berr_sys(err, errno, "upload: fsync uploads");
        goto out;
    }
    u->busy = false;
    lock(m);
    if (at_cap(m, repo)) { /* a concurrent create took the last place */
        unlock(m);
        cap_error(m, err);
        goto out;
    }
    table_insert(m, u);
    unlock(m);
    u = NULL;
    rc = 0;
out:
    if (rc < 0) {
        if (made_dir)
            (void)rm_session_files(m, id); /* failures are logged; purge retries later */
        id[0] = '\0';
    }
    session_free(u);
    return rc;
}

/* take marks session id busy for the caller, loading it from disk when it is not in the table.
 * repo NULL matches any repository (purge). With data, the descriptor is opened and the hash
 * state made current. */
static int take(struct upload_mgr *m, const char *id, const struct repo_name *repo, bool data,
                struct upload **out, struct berr *err)
{
    struct repo_name disk_repo;
    struct upload *u, *fresh;
    struct berr lerr;
    int64_t created = 0;

    *out = NULL;
    berr_clear(&lerr);
    if (!id_valid(id))
        return berr_set(err, BERR_BLOB_UPLOAD_UNKNOWN, "blob upload unknown to registry");
    for (;;) {
        lock(m);
        u = table_find(m, id);
        if (u != NULL) {
            if (repo != NULL && strcmp(u->repo.s, repo->s) != 0) {
                unlock(m);
                return berr_set(err, BERR_BLOB_UPLOAD_UNKNOWN, "blob upload unknown to registry");
            }
            if (u->busy) {
                unlock(m);
                return berr_set(err, BERR_BLOB_UPLOAD_INVALID,
                                "blob upload is in use by another request");
            }
            u->busy = true;
            unlock(m);
            break;
        }
        unlock(m);
        /* not loaded: read info outside the lock, then insert unless someone beat us to it */
        if (info_read(m, id, &disk_repo, &created, err) < 0)
            return -1;
        if (repo != NULL && strcmp(disk_repo.s, repo->s) != 0)
            return berr_set(err, BERR_BLOB_UPLOAD_UNKNOWN, "blob upload unknown to registry");
        fresh = session_new(m, id, &disk_repo, created);
        if (fresh == NULL)
            return berr_sys(err, ENOMEM, "upload: allocating session");
        lock(m);
        if (table_find(m, id) == NULL) {
            table_insert(m, fresh);
            unlock(m);
            u = fresh;
            break;
        }
        unlock(m);
        session_free(fresh); /* loaded concurrently: go round and use that one */
    }
    assert(u != NULL);
    if (data && open_data(u, &lerr) < 0) {
        if (err != NULL)
            *err = lerr;
        if (lerr.code == BERR_BLOB_UPLOAD_UNKNOWN) {
            /* the files went away (purged by another process): forget the session */
            (void)discard(u); /* nothing left to remove; errors are logged */
        } else {
            upload_release(u);
        }
        return -1;
    }
    *out = u;
    return 0;
}

int upload_acquire(struct upload_mgr *m, const char *id, const struct repo_name *repo,
                   struct upload **out, struct berr *err)
{
    struct upload *u;

    if (m->s3 == NULL)
        return take(m, id, repo, true, out, err);
    *out = NULL;
    u = mem_calloc(1, sizeof(*u));
    if (u == NULL)
        return berr_sys(err, ENOMEM, "upload: session");
    u->mgr = m;
    u->fd = -1;
    if (us3_acquire(m->s3, id, repo, &u->s3, err) < 0) {
        mem_free(u);
        return -1;
    }
    *out = u;
    return 0;
}

uint64_t upload_offset(const struct upload *u)
{
    return u->s3 != NULL ? us3_offset(u->s3) : u->offset;
}

const char *upload_id(const struct upload *u)
{
    return u->s3 != NULL ? us3_id(u->s3) : u->id;
}

int upload_flush(struct upload *u, struct berr *err)
{
    return u->s3 != NULL ? us3_flush(u->s3, err) : 0;
}

/* cut_tail drops bytes past offset after a failed write; when even that fails, open_data or
 * upload_commit cuts them later (invariant 2). */
static void cut_tail(struct upload *u)
{
    if (ftruncate(u->fd, (off_t)u->offset) < 0)
        log_errno(LOG_WARN, errno, "upload: cannot cut %s back to its hashed length", u->id);
}

#ifdef BERTH_TEST_BUILD
upload_test_sfr_fn upload_test_sfr;
#endif

/* sfr: sync_file_range of [off, off + len), waiting for writeback already started (wait) or
 * starting it */
static int sfr(int fd, uint64_t off, uint64_t len, bool wait)
{
#ifdef BERTH_TEST_BUILD
    if (upload_test_sfr != NULL)
        return upload_test_sfr(fd, off, len, wait);
#endif
#ifdef SYNC_FILE_RANGE_WRITE
    return sync_file_range(fd, (off_t)off, (off_t)len,
                           wait ? SYNC_FILE_RANGE_WAIT_BEFORE : SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
    (void)off;
    (void)len;
    (void)wait;
    errno = ENOSYS;
    return -1;
#endif
}

/* sfr_unsupported: the filesystem (or kernel) has no sync_file_range for this file */
static bool sfr_unsupported(int e)
{
    return e == ENOSYS || e == EINVAL || e == ESPIPE || e == EOPNOTSUPP;
}

/* writeback_lost: a wait reported that the disk lost written bytes (invariant 7) */
static int writeback_lost(struct upload *u, int e, struct berr *err)
{
    if (ftruncate(u->fd, 0) == 0) {
        log_errno(LOG_ERROR, e, "upload: the disk lost data of %s; it starts over empty", u->id);
        EVP_MD_CTX_free(u->md);
        u->md = NULL; /* invariant 3: rebuilt from the now empty file */
        u->offset = 0;
        u->wb_prev = 0;
        u->wb_done = 0;
    } else {
        log_errno(LOG_ERROR, e, "upload: the disk lost data of %s; its commit will fail", u->id);
        u->wb_lost = e;
    }
    return berr_sys(err, e, "upload: write back data");
}

/* writeback_step: invariant 6, after offset grew. -1 only when the disk lost data (7). */
static int writeback_step(struct upload *u, struct berr *err)
{
    uint64_t prev = u->wb_prev, from = u->wb_done;

    if (u->offset - from < UPLOAD_WRITEBACK_BYTES)
        return 0;
    u->wb_prev = from;
    u->wb_done = u->offset; /* a range that failed to start is left to the commit's fsync */
    if (u->wb_off)
        return 0;
    if (from > prev && sfr(u->fd, prev, from - prev, true) < 0) {
        int e = errno;

        if (!sfr_unsupported(e))
            return writeback_lost(u, e, err);
        u->wb_off = true;
        return 0;
    }
    if (sfr(u->fd, from, u->offset - from, false) < 0) {
        int e = errno;

        if (sfr_unsupported(e)) {
            u->wb_off = true;
        } else if (!u->wb_warned) {
            u->wb_warned = true;
            log_errno(LOG_WARN, e, "upload: cannot start writeback of %s (once per session)",
                      u->id);
        }
    }
    return 0;
}

int upload_write(struct upload *u, const void *p, size_t n, struct berr *err)
{
    const unsigned char *src = p;
    uint64_t done = 0;

    if (u->s3 != NULL)
        return us3_write(u->s3, p, n, err);

    assert(u->busy && u->fd >= 0);
    if (n == 0)
        return 0;
    if (u->offset > UINT64_MAX - n || u->offset + n > (uint64_t)INT64_MAX)
        return berr_set(err, BERR_SIZE_INVALID, "upload too large");
    if (u->md == NULL && rebuild_hash(u, err) < 0)
        return -1;
    while (done < n) {
        ssize_t w = pwrite(u->fd, src + done, n - done, (off_t)(u->offset + done));
        if (w < 0) {
            int saved = errno;
            if (saved == EINTR)
                continue;
            /* bytes past offset are never hashed; cut them now or at the next acquire */
            cut_tail(u);
            return berr_sys(err, saved, "upload: write data");
        }
        done += (uint64_t)w;
    }
    if (EVP_DigestUpdate(u->md, p, n) != 1) {
        EVP_MD_CTX_free(u->md);
        u->md = NULL; /* invariant 3: rebuilt from the file on next use */
        cut_tail(u);
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    u->offset += n;
    return writeback_step(u, err);
}

uint64_t upload_writeback_offset(const struct upload *u)
{
    return u->s3 != NULL ? 0 : u->wb_done;
}

/* commit_plain: upload_commit's link step, the file moved in with no meta row */
struct plain_ctx {
    struct blob_store *bs;
    const struct digest *d;
};

static int commit_plain(const char *path, uint64_t size, void *ctx, struct berr *err)
{
    const struct plain_ctx *p = ctx;

    (void)size;
    return blob_store_commit_file(p->bs, path, p->d, err);
}

int upload_commit(struct upload *u, const struct digest *want, uint64_t *size, struct berr *err)
{
    struct plain_ctx p = {u->mgr->bs, want};

    return upload_commit_link(u, want, commit_plain, &p, size, err);
}

int upload_commit_link(struct upload *u, const struct digest *want, upload_link_fn link, void *ctx,
                       uint64_t *size, struct berr *err)
{
    if (u->s3 != NULL) {
        int rc = us3_commit(u->s3, want, link, ctx, size, err);

        mem_free(u);
        return rc;
    }
    unsigned char raw[EVP_MAX_MD_SIZE];
    unsigned int rawlen = 0;
    char path[PATH_MAX];
    struct digest got;
    struct stat st;
    int rc = -1, fd;

    assert(u->busy && u->fd >= 0);
    *size = 0;
    if (u->md == NULL && rebuild_hash(u, err) < 0)
        goto out;
    if (fstat(u->fd, &st) < 0) {
        berr_sys(err, errno, "upload: fstat data");
        goto out;
    }
    if ((uint64_t)st.st_size != u->offset && ftruncate(u->fd, (off_t)u->offset) < 0) {
        berr_sys(err, errno, "upload: cut unhashed bytes");
        goto out;
    }
    if (EVP_DigestFinal_ex(u->md, raw, &rawlen) != 1 || rawlen != 32) {
        berr_set(err, BERR_INTERNAL, "internal error");
        goto out;
    }
    digest_from_raw(&got, raw);
    if (!digest_equal(&got, want)) {
        berr_set(err, BERR_DIGEST_INVALID, "content does not match sha256:%s", want->hex);
        goto out;
    }
    if (u->wb_lost != 0) {
        berr_sys(err, u->wb_lost, "upload: fsync data"); /* invariant 7 */
        goto out;
    }
    if (fsync(u->fd) < 0) {
        berr_sys(err, errno, "upload: fsync data");
        goto out;
    }
    fd = u->fd;
    u->fd = -1;
    if (close(fd) < 0) {
        berr_sys(err, errno, "upload: close data");
        goto out;
    }
    if (session_path(u->mgr, u->id, "data", path, sizeof(path), err) < 0)
        goto out;
    if (link(path, u->offset, ctx, err) < 0)
        goto out;
    *size = u->offset;
    rc = 0;
out:
    /* the blob is in place (or the session is dead): the session ends either way */
    (void)discard(u); /* leftovers are logged and purged later; the blob itself is safe */
    return rc;
}

void upload_release(struct upload *u)
{
    struct upload_mgr *m = u->mgr;

    if (u->s3 != NULL) {
        us3_release(u->s3);
        mem_free(u);
        return;
    }
    if (u->fd >= 0) {
        /* unsynced until commit by design; a lost tail is found by the length check on resume */
        if (close(u->fd) < 0)
            log_errno(LOG_WARN, errno, "upload: close data of %s", u->id);
        u->fd = -1;
    }
    lock(m);
    u->busy = false;
    unlock(m);
}

int upload_cancel(struct upload_mgr *m, const char *id, const struct repo_name *repo,
                  struct berr *err)
{
    struct upload *u = NULL;

    if (m->s3 != NULL)
        return us3_cancel(m->s3, id, repo, err);
    /* u == NULL cannot follow a 0 from take; the test keeps static analysis convinced */
    if (take(m, id, repo, false, &u, err) < 0 || u == NULL)
        return -1;
    if (discard(u) < 0)
        return berr_set(err, BERR_INTERNAL, "internal error");
    return 0;
}

/* purge_entry handles one name under uploads/; *gone is set when it was removed, or in a dry
 * run when it would have been. */
static int purge_entry(struct upload_mgr *m, int dir_fd, const char *name, int64_t cutoff, bool dry,
                       bool *gone, struct berr *err)
{
    struct repo_name repo;
    struct upload *u;
    struct stat st;
    int64_t created = 0;
    struct berr terr;
    bool held;

    *gone = false;
    berr_clear(&terr);
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return berr_sys(err, errno, "upload: stat entry");
    }
    if (!id_valid(name)) {
        /* temp files of blob_store_put_buf left by a crash */
        if (S_ISREG(st.st_mode) && (int64_t)st.st_mtime < cutoff) {
            if (!dry && unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
                return berr_sys(err, errno, "upload: remove stale file");
            *gone = true;
        }
        return 0;
    }
    if (!S_ISDIR(st.st_mode))
        return 0;
    if (info_read(m, name, &repo, &created, &terr) < 0) {
        if (terr.code != BERR_BLOB_UPLOAD_UNKNOWN)
            return berr_set(err, terr.code, "%s", terr.msg);
        /* no usable info (a crash during create): judge by the directory's age */
        if ((int64_t)st.st_mtime >= cutoff)
            return 0;
        lock(m);
        u = table_find(m, name);
        unlock(m);
        if (u != NULL)
            return 0;
        if (!dry && rm_session_files(m, name) < 0)
            return berr_set(err, BERR_INTERNAL, "internal error");
        *gone = true;
        return 0;
    }
    if (created >= cutoff)
        return 0;
    if (dry) {
        lock(m);
        u = table_find(m, name);
        held = u != NULL && u->busy;
        unlock(m);
        *gone = !held;
        return 0;
    }
    if (take(m, name, NULL, false, &u, &terr) < 0 || u == NULL) {
        if (terr.code == BERR_BLOB_UPLOAD_UNKNOWN || terr.code == BERR_BLOB_UPLOAD_INVALID)
            return 0; /* gone meanwhile, or in use: not idle */
        return berr_set(err, terr.code, "%s", terr.msg);
    }
    if (discard(u) < 0)
        return berr_set(err, BERR_INTERNAL, "internal error");
    *gone = true;
    return 0;
}

static int purge(struct upload_mgr *m, int64_t max_age_s, bool dry, unsigned *removed,
                 struct berr *err)
{
    struct dirent *de;
    int64_t cutoff = now_s() - max_age_s;
    DIR *dir;
    int rc = 0;

    *removed = 0;
    dir = opendir(m->dir);
    if (dir == NULL)
        return berr_sys(err, errno, "upload: open uploads");
    for (;;) {
        bool gone;

        errno = 0;
        de = readdir(dir);
        if (de == NULL) {
            if (errno != 0)
                rc = berr_sys(err, errno, "upload: read uploads");
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        rc = purge_entry(m, dirfd(dir), de->d_name, cutoff, dry, &gone, err);
        if (rc < 0)
            break;
        if (gone)
            (*removed)++;
    }
    (void)closedir(dir); /* read-only directory stream */
    return rc;
}

/* debris_entry: one name under uploads/ for upload_sweep_debris; *gone when removed */
static int debris_entry(struct upload_mgr *m, int dir_fd, const char *name, bool *gone,
                        struct berr *err)
{
    char data[UPLOAD_ID_LEN + 8];
    struct repo_name repo;
    struct upload *u;
    struct stat st;
    int64_t created = 0;
    struct berr terr;

    *gone = false;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return berr_sys(err, errno, "upload: stat entry");
    }
    if (!id_valid(name)) {
        if (!S_ISREG(st.st_mode))
            return 0; /* not ours: left alone */
        if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
            return berr_sys(err, errno, "upload: remove temp file");
        log_msg(LOG_INFO, "upload: removed temp file %s left by a crash", name);
        *gone = true;
        return 0;
    }
    if (!S_ISDIR(st.st_mode))
        return 0;
    lock(m);
    u = table_find(m, name);
    unlock(m);
    if (u != NULL)
        return 0;
    berr_clear(&terr);
    if (info_read(m, name, &repo, &created, &terr) == 0) {
        /* a usable session keeps its data; without it (committed, crash before cleanup) it
         * is debris */
        (void)snprintf(data, sizeof(data), "%s/data", name); /* an id fits */
        if (fstatat(dir_fd, data, &st, 0) == 0 && S_ISREG(st.st_mode))
            return 0;
        if (errno != ENOENT && errno != ENOTDIR)
            return berr_sys(err, errno, "upload: stat session data");
    } else if (terr.code != BERR_BLOB_UPLOAD_UNKNOWN) {
        return berr_set(err, terr.code, "%s", terr.msg);
    }
    if (rm_session_files(m, name) < 0)
        return berr_set(err, BERR_INTERNAL, "internal error");
    log_msg(LOG_INFO, "upload: removed unusable session %s left by a crash", name);
    *gone = true;
    return 0;
}

int upload_sweep_debris(struct upload_mgr *m, unsigned *removed, struct berr *err)
{
    struct dirent *de;
    DIR *dir;
    int rc = 0;

    *removed = 0;
    dir = opendir(m->dir);
    if (dir == NULL)
        return berr_sys(err, errno, "upload: open uploads");
    for (;;) {
        bool gone;

        errno = 0;
        de = readdir(dir);
        if (de == NULL) {
            if (errno != 0)
                rc = berr_sys(err, errno, "upload: read uploads");
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        rc = debris_entry(m, dirfd(dir), de->d_name, &gone, err);
        if (rc < 0)
            break;
        if (gone)
            (*removed)++;
    }
    (void)closedir(dir); /* read-only directory stream */
    return rc;
}

int upload_purge(struct upload_mgr *m, int64_t max_age_s, unsigned *removed, struct berr *err)
{
    unsigned n = 0;

    if (purge(m, max_age_s, false, removed, err) < 0)
        return -1;
    if (m->s3 != NULL) {
        if (us3_purge(m->s3, max_age_s, 0, &n, err) < 0)
            return -1;
        *removed += n;
    }
    return 0;
}

int upload_purge_count(struct upload_mgr *m, int64_t max_age_s, unsigned *n, struct berr *err)
{
    unsigned k = 0;

    if (purge(m, max_age_s, true, n, err) < 0)
        return -1;
    if (m->s3 != NULL) {
        if (us3_purge(m->s3, max_age_s, 1, &k, err) < 0)
            return -1;
        *n += k;
    }
    return 0;
}
