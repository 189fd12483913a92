/* credhelper.c - running docker-credential-<name> get.
 *
 * The helper is spawned with posix_spawnp (PATH search) with its stdin and stdout on pipes and
 * its stderr inherited. The server URL is written to its stdin, which is then closed; its stdout
 * is read with poll() against a monotonic deadline, capped at CREDHELPER_OUT_MAX bytes.
 *   1. The child is always reaped: on timeout or an over-long answer it is sent SIGKILL first.
 *   2. The helper's answer holds a secret: it is wiped before its memory is freed and never
 *      logged or copied into an error message.
 *   3. SIGPIPE from a helper that exits without reading is blocked for this thread while writing
 *      and a pending one is consumed, so it never kills the process.
 * Safe to call from several threads (pipes are opened O_CLOEXEC); no global state. */
/* pipe2() with O_CLOEXEC is a GNU extension in glibc 2.36 */
#define _GNU_SOURCE /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#include "puller/credhelper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/mem.h"
#include "common/util.h"

#define CREDHELPER_OUT_MAX ((size_t)64 * 1024)
#define CREDHELPER_NAME_MAX 64

extern char **environ;

int credhelper_name_valid(const char *name)
{
    size_t len, i;

    if (name == NULL)
        return 0;
    len = strnlen(name, CREDHELPER_NAME_MAX + 1);
    if (len == 0 || len > CREDHELPER_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return 0;
    for (i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* write_all_nosigpipe writes s to fd with SIGPIPE blocked; -1 with errno on failure. */
static int write_all_nosigpipe(int fd, const char *s, size_t len)
{
    sigset_t block, old, pending;
    struct timespec zero = {0, 0};
    size_t off = 0;
    int rc = 0, saved = 0;

    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    if (pthread_sigmask(SIG_BLOCK, &block, &old) != 0)
        return -1;
    while (off < len) {
        ssize_t w = write(fd, s + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            saved = errno;
            rc = -1;
            break;
        }
        off += (size_t)w;
    }
    if (rc < 0 && saved == EPIPE && !sigismember(&old, SIGPIPE)) {
        /* consume the SIGPIPE our write raised before unblocking */
        if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
            (void)sigtimedwait(&block, NULL, &zero); /* it is pending: returns at once */
    }
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL); /* restoring a mask we just read */
    errno = saved;
    return rc;
}

static void wipe_buf(struct buf *b)
{
    if (b->data != NULL)
        OPENSSL_cleanse(b->data, b->cap);
    buf_cleanup(b);
}

/* run_helper spawns the helper and collects its stdout into out; *status is waitpid's. */
static int run_helper(struct buf *out, int *status, const char *name, const char *server_url,
                      int timeout_ms, struct berr *err)
{
    char prog[16 + CREDHELPER_NAME_MAX];
    char *argv[3];
    int in[2] = {-1, -1}, outp[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    bool fa_ok = false, over = false, timed_out = false;
    pid_t pid = -1;
    int64_t deadline;
    int rc = -1, n;

    n = snprintf(prog, sizeof(prog), "docker-credential-%s", name);
    if (n < 0 || (size_t)n >= sizeof(prog))
        return berr_set(err, BERR_UNAUTHORIZED, "credential helper name too long");
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
        rc = berr_sys(err, errno, "credhelper: pipe2");
        goto out;
    }
    if (posix_spawn_file_actions_init(&fa) != 0) {
        rc = berr_sys(err, ENOMEM, "credhelper: posix_spawn_file_actions_init");
        goto out;
    }
    fa_ok = true;
    if (posix_spawn_file_actions_adddup2(&fa, in[0], 0) != 0 ||
        posix_spawn_file_actions_adddup2(&fa, outp[1], 1) != 0) {
        rc = berr_sys(err, ENOMEM, "credhelper: posix_spawn_file_actions_adddup2");
        goto out;
    }
    argv[0] = prog;
    argv[1] = (char *)(uintptr_t) "get";
    argv[2] = NULL;
    n = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    if (n != 0) {
        pid = -1;
        rc = berr_set(err, BERR_UNAUTHORIZED, "cannot run %s: %s", prog,
                      n == ENOENT ? "not found on PATH" : "spawn failed");
        goto out;
    }
    (void)close(in[0]); /* the child holds its own copy */
    in[0] = -1;
    (void)close(outp[1]);
    outp[1] = -1;
    if (write_all_nosigpipe(in[1], server_url, strlen(server_url)) < 0 && errno != EPIPE) {
        rc = berr_sys(err, errno, "credhelper: write server URL");
        goto out;
    }
    (void)close(in[1]); /* EOF for the helper; nothing was buffered */
    in[1] = -1;

    deadline = now_ms_mono() + (timeout_ms > 0 ? timeout_ms : CREDHELPER_TIMEOUT_MS);
    for (;;) {
        char chunk[4096];
        struct pollfd pfd = {.fd = outp[0], .events = POLLIN};
        int64_t left = deadline - now_ms_mono();
        ssize_t r;
        if (left <= 0) {
            timed_out = true;
            break;
        }
        n = poll(&pfd, 1, (int)(left > 1000000 ? 1000000 : left));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = berr_sys(err, errno, "credhelper: poll");
            goto out;
        }
        if (n == 0)
            continue;
        r = read(outp[0], chunk, sizeof(chunk));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = berr_sys(err, errno, "credhelper: read");
            goto out;
        }
        if (r == 0)
            break;
        if (buf_append(out, chunk, (size_t)r) < 0) {
            OPENSSL_cleanse(chunk, sizeof(chunk));
            over = true;
            break;
        }
        OPENSSL_cleanse(chunk, sizeof(chunk));
    }
    if (timed_out || over) {
        (void)kill(pid, SIGKILL); /* ours, not yet reaped: the pid cannot have been reused */
        rc = berr_set(err, BERR_UNAUTHORIZED, "%s get: %s", prog,
                      timed_out ? "timed out" : "answer too long");
    } else {
        rc = 0;
    }
out:
    if (pid > 0) {
        while (waitpid(pid, status, 0) < 0) {
            if (errno != EINTR) {
                rc = berr_sys(err, errno, "credhelper: waitpid");
                break;
            }
        }
    }
    if (fa_ok)
        (void)posix_spawn_file_actions_destroy(&fa); /* frees memory only */
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            (void)close(in[i]); /* pipe ends: nothing to flush */
        if (outp[i] >= 0)
            (void)close(outp[i]);
    }
    return rc;
}

static int dup_json_string(char **out, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_string(v) || memchr(json_string_value(v), '\0', json_string_length(v)) != NULL)
        return -1;
    *out = mem_strdup(json_string_value(v));
    return *out != NULL ? 0 : -1;
}

static void wipe_str(char **s)
{
    if (*s != NULL) {
        OPENSSL_cleanse(*s, strlen(*s));
        mem_free(*s);
        *s = NULL;
    }
}

int credhelper_get(char **username, char **secret, const char *name, const char *server_url,
                   int timeout_ms, struct berr *err)
{
    struct buf out;
    json_t *root = NULL;
    json_error_t jerr;
    int status = 0, rc;

    *username = NULL;
    *secret = NULL;
    buf_init(&out, CREDHELPER_OUT_MAX);
    if (!credhelper_name_valid(name)) {
        rc = berr_set(err, BERR_UNAUTHORIZED, "invalid credential helper name");
        goto out;
    }
    rc = run_helper(&out, &status, name, server_url, timeout_ms, err);
    if (rc < 0)
        goto out;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* docker's helpers say "credentials not found in native keychain" on stdout */
        if (WIFEXITED(status) && out.data != NULL &&
            strstr(out.data, "credentials not found") != NULL) {
            rc = CREDHELPER_NOT_FOUND;
            goto out;
        }
        if (WIFEXITED(status))
            rc = berr_set(err, BERR_UNAUTHORIZED, "docker-credential-%s get exited with %d", name,
                          WEXITSTATUS(status));
        else
            rc = berr_set(err, BERR_UNAUTHORIZED, "docker-credential-%s get killed by signal",
                          name);
        goto out;
    }
    root = json_loadb(out.data != NULL ? out.data : "", out.len, 0, &jerr);
    if (!json_is_object(root) || dup_json_string(username, root, "Username") < 0 ||
        dup_json_string(secret, root, "Secret") < 0) {
        wipe_str(username);
        wipe_str(secret);
        rc = berr_set(err, BERR_UNAUTHORIZED,
                      "docker-credential-%s get: answer is not {\"Username\",\"Secret\"}", name);
        goto out;
    }
    if (strcmp(*username, "<token>") == 0)
        rc = CREDHELPER_IDENTITY_TOKEN;
    else
        rc = CREDHELPER_FOUND;
out:
    if (root != NULL) {
        json_t *v = json_object_get(root, "Secret");
        /* wipe jansson's copy of the secret in place: the string is ours to drop */
        if (json_is_string(v))
            OPENSSL_cleanse((void *)(uintptr_t)json_string_value(v), json_string_length(v));
        json_decref(root);
    }
    wipe_buf(&out);
    return rc;
}
