/* util.c - time, randomness and durable file helpers.
 *
 * write_file_atomic follows the one durable sequence used everywhere in Berth:
 * temp file, write, fsync, close, rename, fsync the directory. No shared state. */
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common/mem.h"

int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

int64_t now_ms_wall(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t now_ms_mono(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void time_rfc3339(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        if (cap > 0)
            out[0] = '\0';
    }
}

int rand_fill(void *out, size_t n)
{
    if (n > INT_MAX || RAND_bytes(out, (int)n) != 1)
        return -1;
    return 0;
}

int rand_hex(char *out, size_t cap, size_t nbytes)
{
    static const char hexd[] = "0123456789abcdef";
    unsigned char raw[64];

    if (nbytes > sizeof(raw) || cap < 2 * nbytes + 1)
        return -1;
    if (rand_fill(raw, nbytes) < 0)
        return -1;
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hexd[raw[i] >> 4];
        out[2 * i + 1] = hexd[raw[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return 0;
}

int mkdir_p(const char *dir)
{
    char tmp[PATH_MAX];
    size_t len = strlen(dir);

    if (len == 0 || len >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char saved = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
                return -1;
            tmp[i] = saved;
        }
    }
    return 0;
}

int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    if (close(fd) < 0)
        rc = -1;
    return rc;
}

int write_file_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    const char *p = data;
    char *slash;
    int fd, n;

    n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        return -1;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0)
        goto fail;
    memcpy(dir, path, strlen(path) + 1);
    slash = strrchr(dir, '/');
    if (slash == NULL)
        return fsync_dir(".");
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    return fsync_dir(dir);
fail : {
    int saved = errno;
    if (fd >= 0)
        (void)close(fd); /* already failing; the write error is the one to report */
    (void)unlink(tmp);   /* best effort: a leftover .tmp is overwritten next time */
    errno = saved;
    return -1;
}
}

int read_file(char **out, size_t *out_len, const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *data = NULL;
    size_t got = 0;

    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0)
        goto fail;
    if ((uint64_t)st.st_size > max) {
        errno = EFBIG;
        goto fail;
    }
    data = mem_malloc((size_t)st.st_size + 1);
    if (data == NULL)
        goto fail;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, data + got, (size_t)st.st_size - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    data[got] = '\0';
    (void)close(fd); /* read-only descriptor: nothing to lose */
    *out = data;
    if (out_len)
        *out_len = got;
    return 0;
fail : {
    int saved = errno;
    mem_free(data);
    (void)close(fd);
    errno = saved;
    return -1;
}
}

int str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}
