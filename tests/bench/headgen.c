/* headgen.c - HEAD load generator for tests/bench/bench.sh (wrk cannot parse HEAD answers).
 *
 *   headgen PORT PATH AUTH_B64 THREADS SECONDS
 *
 * Each thread keeps one HTTP/1.1 connection to 127.0.0.1:PORT and sends HEAD PATH with Basic
 * auth, one request at a time, until SECONDS have passed; it reconnects when the server closes.
 * Prints "RESULT <requests answered 200> 0 <duration_us> <errors>".
 * Invariants: only 127.0.0.1 is contacted; every loop is bounded by the deadline; a response is
 * complete at the blank line after its headers (HEAD answers carry no body). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct worker {
    pthread_t tid;
    uint64_t ok;
    uint64_t errors;
};

static unsigned short g_port;
static char g_req[4096];
static size_t g_req_len;
static double g_deadline;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(void)
{
    struct sockaddr_in sa;
    struct timeval tv = {5, 0};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(g_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* one_request: 1 when answered 200, 0 when answered otherwise, -1 when the connection failed. */
static int one_request(int fd)
{
    char buf[8192];
    size_t len = 0, off = 0;

    while (off < g_req_len) {
        ssize_t n = send(fd, g_req + off, g_req_len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    for (;;) {
        ssize_t n;
        if (len >= sizeof(buf) - 1)
            return -1;
        n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL)
            break;
    }
    return strncmp(buf, "HTTP/1.1 200", 12) == 0 || strncmp(buf, "HTTP/1.0 200", 12) == 0;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    int fd = -1;

    while (now_s() < g_deadline) {
        int rc;
        if (fd < 0 && (fd = dial()) < 0) {
            w->errors++;
            usleep(1000);
            continue;
        }
        rc = one_request(fd);
        if (rc == 1) {
            w->ok++;
        } else {
            w->errors++;
            if (rc < 0) {
                close(fd);
                fd = -1;
            }
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int parse_ul(unsigned long *out, const char *s, unsigned long max)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v == 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long port, threads, secs;
    struct worker *ws;
    uint64_t ok = 0, errors = 0;
    double t0;
    int n;

    if (argc != 6 || parse_ul(&port, argv[1], 65535) < 0 || parse_ul(&threads, argv[4], 64) < 0 ||
        parse_ul(&secs, argv[5], 60) < 0) {
        fprintf(stderr, "usage: headgen PORT PATH AUTH_B64 THREADS(1-64) SECONDS(1-60)\n");
        return 2;
    }
    g_port = (unsigned short)port;
    n = snprintf(g_req, sizeof(g_req),
                 "HEAD %s HTTP/1.1\r\nHost: 127.0.0.1:%lu\r\nAuthorization: Basic %s\r\n"
                 "User-Agent: berth-headgen\r\n\r\n",
                 argv[2], port, argv[3]);
    if (n < 0 || (size_t)n >= sizeof(g_req)) {
        fprintf(stderr, "headgen: request too long\n");
        return 2;
    }
    g_req_len = (size_t)n;
    ws = calloc(threads, sizeof(*ws));
    if (ws == NULL) {
        fprintf(stderr, "headgen: out of memory\n");
        return 1;
    }
    t0 = now_s();
    g_deadline = t0 + (double)secs;
    for (unsigned long i = 0; i < threads; i++) {
        if (pthread_create(&ws[i].tid, NULL, run, &ws[i]) != 0) {
            fprintf(stderr, "headgen: pthread_create failed\n");
            return 1;
        }
    }
    for (unsigned long i = 0; i < threads; i++) {
        pthread_join(ws[i].tid, NULL);
        ok += ws[i].ok;
        errors += ws[i].errors;
    }
    printf("RESULT %llu 0 %llu %llu\n", (unsigned long long)ok,
           (unsigned long long)((now_s() - t0) * 1e6), (unsigned long long)errors);
    free(ws);
    return 0;
}
