/* loadgen.c - closed-loop HTTP/1.1 load generator for `make bench` (tests/bench/bench.sh) and
 * tests/bench/device.sh: latency percentiles and per-second completions, which wrk cannot give.
 *
 *   loadgen --port P [--conns N] [--threads M] [--seconds S] [--method GET|HEAD]
 *           (--path PATH [--header 'Name: value']... | --request FILE)
 *
 * N keep-alive connections to 127.0.0.1:P, spread over M threads, each thread one epoll loop.
 * Every connection has one request in flight: it sends the fixed request bytes, reads the whole
 * answer, records the latency, and sends again, until S seconds have passed. The answer is framed
 * by Debian's http-parser (libhttp-parser-dev), not by hand; a connection the server closes is
 * opened again (counted in "reconnects", and in "errors" when a request was in flight).
 *
 * Prints one JSON object (jansson) on stdout:
 *   requests, ok (2xx), non_2xx, status {code: answers}, errors, reconnects, bytes (read),
 *   duration_s, rps (answers/s), ok_rps (2xx answers/s),
 *   connections (asked), connections_served (that completed at least one request),
 *   latency_us {p50, p90, p99, p999, max, mean}, per_second [completions in second 0, 1, ...],
 *   stall {median, threshold, seconds: [indexes of full seconds below median/10]}
 *
 * Latencies go into a log-bucketed histogram (HdrHistogram's layout: 64 linear sub-buckets per
 * power of two, so a reported percentile is within 1/64 of the true value); a percentile is the
 * upper edge of its bucket, the max is exact. Closed loop: a stalled server delays the next
 * request too (coordinated omission), which is why the per-second counts are the stall detector.
 *
 * Invariants:
 *   1. only 127.0.0.1 is contacted; every loop ends at the deadline (epoll waits at most 100 ms);
 *   2. each connection has at most one request in flight, so every completed answer belongs to
 *      the request whose send time the connection holds;
 *   3. answers completing after the deadline are not counted, so rps = requests / duration_s. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SUB_BITS 6
#define SUB_N (1u << SUB_BITS)
/* values below 2*SUB_N ns get one bucket each; above, SUB_N buckets per power of two */
#define HIST_N (2 * SUB_N + (64 - SUB_BITS - 1) * SUB_N)
#define MAX_SECONDS 3600
#define READ_BUF 65536

struct conn {
    int fd;
    int connecting;
    int in_flight;   /* a request has been sent (or started) and not answered */
    int served;      /* completed at least one request */
    size_t sent;     /* bytes of the request written */
    uint64_t t_send; /* ns, monotonic */
    http_parser parser;
    struct worker *w;
};

struct worker {
    pthread_t tid;
    int ep;
    struct conn *conns;
    size_t n_conns;
    uint64_t requests, ok, non_2xx, errors, reconnects, bytes;
    uint64_t hist[HIST_N];
    uint64_t lat_max, lat_sum;
    uint64_t per_sec[MAX_SECONDS + 1];
    uint64_t status[600]; /* answers by status code */
};

static unsigned short g_port;
static char *g_req;
static size_t g_req_len;
static int g_head;
static uint64_t g_t0, g_deadline;
static http_parser_settings g_settings;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned hist_index(uint64_t v)
{
    unsigned e;

    if (v < 2 * SUB_N)
        return (unsigned)v;
    e = 63u - (unsigned)__builtin_clzll(v); /* >= SUB_BITS + 1 */
    return 2 * SUB_N + (e - SUB_BITS - 1) * SUB_N + (unsigned)((v >> (e - SUB_BITS)) & (SUB_N - 1));
}

/* the largest value that falls into bucket i */
static uint64_t hist_upper(unsigned i)
{
    unsigned e, sub;

    if (i < 2 * SUB_N)
        return i;
    e = (i - 2 * SUB_N) / SUB_N + SUB_BITS + 1;
    sub = (i - 2 * SUB_N) % SUB_N;
    return (((uint64_t)(SUB_N + sub) + 1) << (e - SUB_BITS)) - 1;
}

static int on_headers_complete(http_parser *p)
{
    (void)p;
    return g_head ? 1 : 0; /* 1: the answer to HEAD has no body whatever its Content-Length */
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(c->w->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
}

static int conn_watch(struct conn *c, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    return epoll_ctl(c->w->ep, op, c->fd, &ev);
}

static int conn_open(struct conn *c)
{
    struct sockaddr_in sa;
    int one = 1;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(g_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->connecting = 0;
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (errno != EINPROGRESS) {
            close(c->fd);
            c->fd = -1;
            return -1;
        }
        c->connecting = 1;
    }
    c->in_flight = 0;
    c->sent = 0;
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    if (conn_watch(c, EPOLLOUT, EPOLL_CTL_ADD) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

/* conn_send: write what is left of the request; 0 when all is written or the socket is full
 * (then it waits for EPOLLOUT), -1 when the connection failed. */
static int conn_send(struct conn *c)
{
    if (!c->in_flight) {
        c->in_flight = 1;
        c->sent = 0;
        c->t_send = now_ns();
    }
    while (c->sent < g_req_len) {
        ssize_t n = send(c->fd, g_req + c->sent, g_req_len - c->sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return conn_watch(c, EPOLLOUT, EPOLL_CTL_MOD);
        if (n <= 0)
            return -1;
        c->sent += (size_t)n;
    }
    return conn_watch(c, EPOLLIN, EPOLL_CTL_MOD);
}

static void conn_reopen(struct conn *c, int failed)
{
    struct worker *w = c->w;

    if (failed && c->in_flight)
        w->errors++;
    conn_close(c);
    if (now_ns() >= g_deadline)
        return;
    w->reconnects++;
    if (conn_open(c) < 0)
        w->errors++;
}

static int on_message_complete(http_parser *p)
{
    struct conn *c = p->data;
    struct worker *w = c->w;
    uint64_t t = now_ns(), lat;

    if (!c->in_flight)
        return -1; /* an answer nobody asked for: stop parsing, the connection is dropped */
    c->in_flight = 0;
    if (t >= g_deadline)
        return 0;
    lat = t - c->t_send;
    w->requests++;
    if (p->status_code < 600)
        w->status[p->status_code]++;
    if (p->status_code >= 200 && p->status_code < 300)
        w->ok++;
    else
        w->non_2xx++;
    w->hist[hist_index(lat)]++;
    w->lat_sum += lat;
    if (lat > w->lat_max)
        w->lat_max = lat;
    w->per_sec[(t - g_t0) / 1000000000u]++;
    c->served = 1;
    return 0;
}

/* conn_read: read and parse what arrived; sends the next request when an answer completed. */
static void conn_read(struct conn *c, char *buf)
{
    for (;;) {
        ssize_t n = recv(c->fd, buf, READ_BUF, 0);
        size_t used;

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            conn_reopen(c, 1);
            return;
        }
        c->w->bytes += (uint64_t)n;
        used = http_parser_execute(&c->parser, &g_settings, buf, (size_t)n);
        if (c->parser.http_errno != HPE_OK || used != (size_t)n) {
            conn_reopen(c, 1);
            return;
        }
        if (!c->in_flight) {
            if (!http_should_keep_alive(&c->parser)) {
                conn_reopen(c, 0);
                return;
            }
            if (now_ns() >= g_deadline) {
                conn_close(c);
                return;
            }
            if (conn_send(c) < 0) {
                conn_reopen(c, 1);
                return;
            }
        }
    }
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct epoll_event evs[256];
    char *buf = malloc(READ_BUF);

    if (buf == NULL) {
        w->errors++;
        return NULL;
    }
    for (size_t i = 0; i < w->n_conns; i++) {
        w->conns[i].w = w;
        w->conns[i].fd = -1;
        if (conn_open(&w->conns[i]) < 0)
            w->errors++;
    }
    while (now_ns() < g_deadline) {
        int n = epoll_wait(w->ep, evs, 256, 100);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->fd < 0)
                continue;
            if (evs[i].events & (EPOLLERR | EPOLLHUP) && !(evs[i].events & EPOLLIN)) {
                conn_reopen(c, 1);
                continue;
            }
            if (c->connecting) {
                int soerr = 0;
                socklen_t sl = sizeof(soerr);
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
                    w->errors++;
                    conn_close(c);
                    usleep(1000);
                    if (conn_open(c) < 0)
                        w->errors++;
                    continue;
                }
                c->connecting = 0;
            }
            if (evs[i].events & EPOLLIN) {
                conn_read(c, buf);
            } else if (evs[i].events & EPOLLOUT) {
                if (now_ns() >= g_deadline) {
                    conn_close(c);
                } else if (conn_send(c) < 0) {
                    conn_reopen(c, 1);
                }
            }
        }
    }
    for (size_t i = 0; i < w->n_conns; i++)
        conn_close(&w->conns[i]);
    free(buf);
    return NULL;
}

static int parse_ul(unsigned long *out, const char *s, unsigned long min, unsigned long max)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    long len;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) <= 0 || len > (1 << 20) ||
        fseek(f, 0, SEEK_SET) != 0 || (g_req = malloc((size_t)len)) == NULL ||
        fread(g_req, 1, (size_t)len, f) != (size_t)len) {
        if (f != NULL)
            fclose(f);
        return -1;
    }
    fclose(f);
    g_req_len = (size_t)len;
    return 0;
}

static int build_request(const char *method, const char *path, char **headers, int n_headers)
{
    size_t cap = strlen(method) + strlen(path) + 128, off;
    int n;

    for (int i = 0; i < n_headers; i++)
        cap += strlen(headers[i]) + 2;
    g_req = malloc(cap);
    if (g_req == NULL)
        return -1;
    n = snprintf(g_req, cap,
                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUser-Agent: berth-loadgen\r\n", method,
                 path, (unsigned)g_port);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    off = (size_t)n;
    for (int i = 0; i < n_headers; i++) {
        if (strchr(headers[i], '\r') != NULL || strchr(headers[i], '\n') != NULL ||
            strchr(headers[i], ':') == NULL)
            return -1;
        n = snprintf(g_req + off, cap - off, "%s\r\n", headers[i]);
        if (n < 0 || (size_t)n >= cap - off)
            return -1;
        off += (size_t)n;
    }
    n = snprintf(g_req + off, cap - off, "\r\n");
    if (n < 0 || (size_t)n >= cap - off)
        return -1;
    g_req_len = off + (size_t)n;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double hist_pct(const uint64_t *hist, uint64_t total, double pct, uint64_t max)
{
    uint64_t want = (uint64_t)((double)total * pct / 100.0 + 0.999999), seen = 0;

    if (total == 0)
        return 0;
    if (want == 0)
        want = 1;
    for (unsigned i = 0; i < HIST_N; i++) {
        seen += hist[i];
        if (seen >= want) {
            uint64_t v = hist_upper(i);
            return (double)(v < max ? v : max) / 1000.0;
        }
    }
    return (double)max / 1000.0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen --port P [--conns N] [--threads M] [--seconds S] "
            "[--method GET|HEAD] (--path PATH [--header 'Name: value']... | --request FILE)\n");
}

int main(int argc, char **argv)
{
    unsigned long port = 0, conns = 8, threads = 2, secs = 5, full;
    const char *method = "GET", *path = NULL, *reqfile = NULL;
    char *headers[32];
    int n_headers = 0;
    struct worker *ws;
    uint64_t requests = 0, ok = 0, non_2xx = 0, errors = 0, reconnects = 0, bytes = 0;
    uint64_t lat_max = 0, lat_sum = 0, served = 0, *sorted;
    static uint64_t hist[HIST_N], per_sec[MAX_SECONDS + 1], status[600];
    json_t *out, *lat, *ps, *stall, *stalled, *codes;
    double dur, median, threshold;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = v == NULL;
        if (!bad && strcmp(a, "--port") == 0)
            bad = parse_ul(&port, v, 1, 65535);
        else if (!bad && strcmp(a, "--conns") == 0)
            bad = parse_ul(&conns, v, 1, 100000);
        else if (!bad && strcmp(a, "--threads") == 0)
            bad = parse_ul(&threads, v, 1, 256);
        else if (!bad && strcmp(a, "--seconds") == 0)
            bad = parse_ul(&secs, v, 1, MAX_SECONDS);
        else if (!bad && strcmp(a, "--method") == 0)
            method = v;
        else if (!bad && strcmp(a, "--path") == 0)
            path = v;
        else if (!bad && strcmp(a, "--request") == 0)
            reqfile = v;
        else if (!bad && strcmp(a, "--header") == 0 && n_headers < 32)
            headers[n_headers++] = argv[i + 1];
        else
            bad = 1;
        if (bad) {
            usage();
            return 2;
        }
        i++;
    }
    if (port == 0 || (path == NULL) == (reqfile == NULL) ||
        (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)) {
        usage();
        return 2;
    }
    g_port = (unsigned short)port;
    g_head = strcmp(method, "HEAD") == 0;
    if (reqfile != NULL ? read_file(reqfile) < 0
                        : build_request(method, path, headers, n_headers) < 0) {
        fprintf(stderr, "loadgen: cannot read or build the request\n");
        return 2;
    }
    if (threads > conns)
        threads = conns;
    memset(&g_settings, 0, sizeof(g_settings));
    g_settings.on_headers_complete = on_headers_complete;
    g_settings.on_message_complete = on_message_complete;

    ws = calloc(threads, sizeof(*ws));
    if (ws == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 1;
    }
    g_t0 = now_ns();
    g_deadline = g_t0 + (uint64_t)secs * 1000000000u;
    for (unsigned long i = 0; i < threads; i++) {
        ws[i].n_conns = conns / threads + (i < conns % threads ? 1 : 0);
        ws[i].conns = calloc(ws[i].n_conns, sizeof(struct conn));
        ws[i].ep = epoll_create1(EPOLL_CLOEXEC);
        if (ws[i].conns == NULL || ws[i].ep < 0 ||
            pthread_create(&ws[i].tid, NULL, worker_run, &ws[i]) != 0) {
            fprintf(stderr, "loadgen: cannot start thread %lu\n", i);
            return 1;
        }
    }
    for (unsigned long i = 0; i < threads; i++) {
        struct worker *w = &ws[i];
        pthread_join(w->tid, NULL);
        requests += w->requests;
        ok += w->ok;
        non_2xx += w->non_2xx;
        errors += w->errors;
        reconnects += w->reconnects;
        bytes += w->bytes;
        lat_sum += w->lat_sum;
        if (w->lat_max > lat_max)
            lat_max = w->lat_max;
        for (unsigned j = 0; j < HIST_N; j++)
            hist[j] += w->hist[j];
        for (unsigned j = 0; j <= MAX_SECONDS; j++)
            per_sec[j] += w->per_sec[j];
        for (unsigned j = 0; j < 600; j++)
            status[j] += w->status[j];
        for (size_t j = 0; j < w->n_conns; j++)
            served += (uint64_t)w->conns[j].served;
        close(w->ep);
        free(w->conns);
    }
    dur = (double)(g_deadline - g_t0) / 1e9;

    /* only full seconds count for the stall detector: the deadline falls on a second boundary */
    full = secs;
    sorted = malloc(full * sizeof(*sorted));
    if (sorted == NULL)
        return 1;
    memcpy(sorted, per_sec, full * sizeof(*sorted));
    qsort(sorted, full, sizeof(*sorted), cmp_u64);
    median = full % 2 ? (double)sorted[full / 2]
                      : ((double)sorted[full / 2 - 1] + (double)sorted[full / 2]) / 2;
    free(sorted);
    threshold = median / 10.0;

    out = json_object();
    lat = json_object();
    ps = json_array();
    stall = json_object();
    stalled = json_array();
    codes = json_object();
    for (unsigned j = 0; j < 600; j++) {
        char code[8];
        if (status[j] == 0)
            continue;
        snprintf(code, sizeof(code), "%u", j);
        json_object_set_new(codes, code, json_integer((json_int_t)status[j]));
    }
    for (unsigned long j = 0; j < full; j++) {
        json_array_append_new(ps, json_integer((json_int_t)per_sec[j]));
        if ((double)per_sec[j] < threshold || (median == 0 && per_sec[j] == 0))
            json_array_append_new(stalled, json_integer((json_int_t)j));
    }
    json_object_set_new(lat, "p50", json_real(hist_pct(hist, requests, 50, lat_max)));
    json_object_set_new(lat, "p90", json_real(hist_pct(hist, requests, 90, lat_max)));
    json_object_set_new(lat, "p99", json_real(hist_pct(hist, requests, 99, lat_max)));
    json_object_set_new(lat, "p999", json_real(hist_pct(hist, requests, 99.9, lat_max)));
    json_object_set_new(lat, "max", json_real((double)lat_max / 1000.0));
    json_object_set_new(lat, "mean",
                        json_real(requests ? (double)lat_sum / (double)requests / 1000.0 : 0));
    json_object_set_new(stall, "median", json_real(median));
    json_object_set_new(stall, "threshold", json_real(threshold));
    json_object_set_new(stall, "seconds", stalled);
    json_object_set_new(out, "requests", json_integer((json_int_t)requests));
    json_object_set_new(out, "ok", json_integer((json_int_t)ok));
    json_object_set_new(out, "non_2xx", json_integer((json_int_t)non_2xx));
    json_object_set_new(out, "errors", json_integer((json_int_t)errors));
    json_object_set_new(out, "reconnects", json_integer((json_int_t)reconnects));
    json_object_set_new(out, "status", codes);
    json_object_set_new(out, "bytes", json_integer((json_int_t)bytes));
    json_object_set_new(out, "duration_s", json_real(dur));
    json_object_set_new(out, "rps", json_real((double)requests / dur));
    json_object_set_new(out, "ok_rps", json_real((double)ok / dur));
    json_object_set_new(out, "connections", json_integer((json_int_t)conns));
    json_object_set_new(out, "connections_served", json_integer((json_int_t)served));
    json_object_set_new(out, "latency_us", lat);
    json_object_set_new(out, "per_second", ps);
    json_object_set_new(out, "stall", stall);
    if (json_dumpf(out, stdout, JSON_COMPACT | JSON_REAL_PRECISION(9)) < 0)
        return 1;
    putchar('\n');
    json_decref(out);
    free(g_req);
    free(ws);
    return 0;
}
