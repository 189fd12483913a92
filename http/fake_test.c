/* fake_test.c - the seam's test double: request building (path and query decoding, headers,
 * cookies, client address, Content-Length from the body), the driving order (answered at begin,
 * pieces, a failing data, done once), and replies read back (memory, file range, HEAD, 500 for a
 * missing response, mounts and their 404). */
#include "http/fake.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/test.h"

/* ---- a handler that records what it is given ---- */

struct rec {
    bool answer_at_begin; /* begin answers */
    bool no_resp;         /* the answer has no response */
    int fail_at;          /* data call (1-based) that fails; 0 = none */
    int fd;               /* answer with this file range when >= 0 */
    char log[512];        /* "b d5 d5 e x" */
    char body[256];
    size_t body_len;
    int done_calls;
};

static void rec_log(struct rec *r, const char *what)
{
    size_t l = strlen(r->log);
    (void)snprintf(r->log + l, sizeof(r->log) - l, "%s%s", l ? " " : "", what);
}

static void rec_answer(struct rec *r, struct http_reply *out)
{
    if (r->no_resp)
        return;
    if (r->fd >= 0) {
        out->resp = http_resp_fd(dup(r->fd), 2, 5);
        out->status = HTTP_PARTIAL_CONTENT;
        return;
    }
    out->resp = http_resp_bytes(r->body, r->body_len, "text/plain");
    out->status = 201;
    out->len = r->body_len;
    (void)http_resp_header(out->resp, "X-Seen", r->log);
}

static enum http_next rec_begin(void *ctx, struct http_req *hr, void **state,
                                struct http_reply *out)
{
    struct rec *r = ctx;

    *state = r;
    rec_log(r, "b");
    http_req_set_user(hr, "alice");
    if (r->answer_at_begin) {
        rec_answer(r, out);
        return HTTP_ANSWERED;
    }
    return HTTP_READ_BODY;
}

static int rec_data(void *state, const char *data, size_t n)
{
    struct rec *r = state;
    char w[16];
    int calls = 0;

    for (const char *p = r->log; (p = strstr(p, "d")) != NULL; p++)
        calls++;
    (void)snprintf(w, sizeof(w), "d%zu", n);
    rec_log(r, w);
    if (r->fail_at == calls + 1)
        return -1;
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    return 0;
}

static void rec_end(void *state, struct http_reply *out)
{
    struct rec *r = state;

    rec_log(r, "e");
    rec_answer(r, out);
}

static void rec_done(void *state)
{
    struct rec *r = state;

    rec_log(r, "x");
    r->done_calls++;
}

static const struct http_handler rec_handler = {rec_begin, rec_data, rec_end, rec_done};

/* ---- request building ---- */

struct collect {
    char all[128];
};

static int collect_fn(const char *value, void *ctx)
{
    struct collect *c = ctx;
    size_t l = strlen(c->all);
    (void)snprintf(c->all + l, sizeof(c->all) - l, "[%s]", value);
    return strcmp(value, "stop") == 0 ? 7 : 0;
}

static void test_request(void)
{
    struct http_fake *f = http_fake_new("GET", "/v2/a%20b/tags/list?n=2&last=x%2By+z&flag&n=3&e=");
    struct http_req *hr;
    struct collect c = {{0}};
    char addr[64];

    CHECK(f != NULL);
    if (f == NULL)
        return;
    hr = http_fake_req(f);
    CHECK_INT_EQ(hr->method, HTTP_GET);
    CHECK_STR_EQ(hr->method_str, "GET");
    CHECK_STR_EQ(hr->path, "/v2/a b/tags/list");
    CHECK_STR_EQ(http_query(hr, "n"), "2");
    CHECK_STR_EQ(http_query(hr, "last"), "x+y z");
    CHECK(http_query(hr, "flag") == NULL);
    CHECK_STR_EQ(http_query(hr, "e"), "");
    CHECK(http_query(hr, "missing") == NULL);
    CHECK(http_query(hr, "N") == NULL); /* argument names are case-sensitive */
    CHECK_INT_EQ(http_query_each(hr, "n", collect_fn, &c), 0);
    CHECK_STR_EQ(c.all, "[2][3]");
    c.all[0] = '\0';
    CHECK_INT_EQ(http_query_each(hr, "flag", collect_fn, &c), 0);
    CHECK_STR_EQ(c.all, "[]");
    CHECK(strlen(hr->reqid) == HTTP_REQID_LEN);

    CHECK_INT_EQ(http_fake_header(f, "Accept", "a/b"), 0);
    CHECK_INT_EQ(http_fake_header(f, "accept", "c/d"), 0);
    CHECK_STR_EQ(http_header(hr, "ACCEPT"), "a/b");
    CHECK(http_header(hr, "Content-Length") == NULL);
    CHECK_INT_EQ(http_fake_cookie(f, "sid", "s1"), 0);
    CHECK_STR_EQ(http_cookie(hr, "sid"), "s1");
    CHECK(http_cookie(hr, "SID") == NULL);
    http_client_addr(hr, addr, sizeof(addr));
    CHECK_STR_EQ(addr, "");
    CHECK_INT_EQ(http_fake_client(f, "10.1.2.3"), 0);
    http_client_addr(hr, addr, sizeof(addr));
    CHECK_STR_EQ(addr, "10.1.2.3");
    http_client_addr(hr, addr, 4);
    CHECK_STR_EQ(addr, "");

    CHECK_INT_EQ(http_fake_body(f, "hello", 5), 0);
    CHECK_STR_EQ(http_header(hr, "content-length"), "5");
    CHECK_INT_EQ(http_fake_header(f, "Content-Length", "99"), 0);
    CHECK_STR_EQ(http_header(hr, "Content-Length"), "99"); /* an explicit one wins, even a lie */
    http_fake_free(f);

    f = http_fake_new("BREW", "/x%zz%4?stop=1&stop&a=%41%2f");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    hr = http_fake_req(f);
    CHECK_INT_EQ(hr->method, HTTP_METHOD_OTHER);
    CHECK_STR_EQ(hr->method_str, "BREW");
    CHECK_STR_EQ(hr->path, "/x%zz%4"); /* bad escapes stay */
    CHECK_STR_EQ(http_query(hr, "a"), "A/");
    c.all[0] = '\0';
    CHECK_INT_EQ(http_query_each(hr, "stop", collect_fn, &c), 0);
    CHECK_STR_EQ(c.all, "[1][]");
    CHECK_INT_EQ(http_fake_header(f, "Transfer-Encoding", "chunked"), 0);
    CHECK_INT_EQ(http_fake_body(f, "xy", 2), 0);
    CHECK(http_header(hr, "Content-Length") == NULL); /* chunked: no length */
    http_fake_free(f);
    http_fake_free(NULL);
}

static void test_alloc_failures(void)
{
    int ok = 0, clean = 0;

    for (long n = 0; n < 20; n++) {
        struct http_fake *f;
        mem_fail_after(n);
        f = http_fake_new("GET", "/p?a=1&b=2");
        mem_fail_after(-1);
        if (f != NULL) {
            ok++;
            CHECK_STR_EQ(http_query(http_fake_req(f), "b"), "2");
        } else {
            clean++;
        }
        http_fake_free(f);
    }
    CHECK(ok > 0);
    CHECK(clean > 0);
}

/* ---- driving ---- */

static struct rec rec_new(void)
{
    struct rec r;

    memset(&r, 0, sizeof(r));
    r.fd = -1;
    return r;
}

static void test_pieces(void)
{
    struct rec r = rec_new();
    struct http_fake *f = http_fake_new("PUT", "/up");
    struct http_fake_result res;

    CHECK_INT_EQ(http_fake_body(f, "abcdefghijk", 11), 0);
    CHECK_INT_EQ(http_fake_run(&res, &rec_handler, &r, f, 4), 0);
    CHECK_STR_EQ(r.log, "b d4 d4 d3 e x");
    CHECK_INT_EQ(r.done_calls, 1);
    CHECK_INT_EQ(res.status, 201);
    CHECK(!res.answered_at_begin);
    CHECK_INT_EQ(res.data_calls, 3);
    CHECK(!res.data_failed);
    CHECK_INT_EQ(res.body_dropped, 0);
    CHECK_INT_EQ(res.body_len, 11);
    CHECK_STR_EQ(res.body, "abcdefghijk");
    CHECK_INT_EQ(res.len, 11);
    CHECK_INT_EQ(res.reply_len, 11);
    CHECK_INT_EQ(res.kind, HTTP_BODY_MEM);
    CHECK_STR_EQ(http_fake_get(&res, "x-seen"), "b d4 d4 d3 e");
    CHECK_STR_EQ(http_fake_get(&res, "Content-Type"), "text/plain");
    CHECK(http_fake_get(&res, "Nope") == NULL);
    CHECK_STR_EQ(res.user, "alice");
    http_fake_result_cleanup(&res);

    /* piece 0: all at once; the same fake runs again */
    r = rec_new();
    CHECK_INT_EQ(http_fake_run(&res, &rec_handler, &r, f, 0), 0);
    CHECK_STR_EQ(r.log, "b d11 e x");
    http_fake_result_cleanup(&res);

    /* an empty body: no data call */
    r = rec_new();
    CHECK_INT_EQ(http_fake_body(f, "", 0), 0);
    CHECK_INT_EQ(http_fake_run(&res, &rec_handler, &r, f, 4), 0);
    CHECK_STR_EQ(r.log, "b e x");
    CHECK_INT_EQ(res.data_calls, 0);
    http_fake_result_cleanup(&res);
    http_fake_free(f);
}

static void test_data_failure(void)
{
    struct rec r = rec_new();
    struct http_fake *f = http_fake_new("PATCH", "/up");
    struct http_fake_result res;

    r.fail_at = 2;
    CHECK_INT_EQ(http_fake_body(f, "0123456789", 10), 0);
    CHECK_INT_EQ(http_fake_run(&res, &rec_handler, &r, f, 3), 0);
    CHECK_STR_EQ(r.log, "b d3 d3 e x"); /* the rest is dropped, end still answers */
    CHECK(res.data_failed);
    CHECK_INT_EQ(res.data_calls, 2);
    CHECK_INT_EQ(res.body_dropped, 4);
    CHECK_STR_EQ(res.body, "012");
    http_fake_result_cleanup(&res);
    http_fake_free(f);
}

static void test_answered_at_begin(void)
{
    struct rec r = rec_new();
    struct http_fake *f = http_fake_new("POST", "/up");
    struct http_fake_result res;

    r.answer_at_begin = true;
    CHECK_INT_EQ(http_fake_body(f, "ignored", 7), 0);
    CHECK_INT_EQ(http_fake_run(&res, &rec_handler, &r, f, 2), 0);
    CHECK_STR_EQ(r.log, "b x");
    CHECK(res.answered_at_begin);
    CHECK_INT_EQ(res.data_calls, 0);
    CHECK_INT_EQ(res.body_dropped, 7);
    CHECK_INT_EQ(res.status, 201);
    CHECK_STR_EQ(http_fake_get(&res, "X-Seen"), "b");
    http_fake_result_cleanup(&res);

    /* no response: the core's 500 */
    r = rec_new();
    r.answer_at_begin = true;
    r.no_resp = true;
    CHECK_INT_EQ(http_fake_run(&res, &rec_handler, &r, f, 2), 0);
    CHECK_INT_EQ(res.status, 500);
    CHECK_STR_EQ(res.body, "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"internal error\"}]}");
    CHECK_STR_EQ(http_fake_get(&res, "Content-Type"), "application/json; charset=utf-8");
    CHECK_INT_EQ(r.done_calls, 1);
    http_fake_result_cleanup(&res);
    http_fake_free(f);
}

static void test_file_range_and_head(void)
{
    char dir[64], path[128];
    struct rec r = rec_new();
    struct http_fake *f;
    struct http_fake_result res;
    int fd;

    test_mkdtemp(dir, sizeof(dir), "fake");
    (void)snprintf(path, sizeof(path), "%s/f", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK_INT_EQ(write(fd, "0123456789", 10), 10);
    r.fd = fd;
    r.answer_at_begin = true;
    f = http_fake_new("GET", "/blob");
    CHECK_INT_EQ(http_fake_run(&res, &rec_handler, &r, f, 0), 0);
    CHECK_INT_EQ(res.status, 206);
    CHECK_INT_EQ(res.kind, HTTP_BODY_FD);
    CHECK_INT_EQ(res.len, 5);
    CHECK_INT_EQ(res.body_len, 5);
    CHECK_STR_EQ(res.body, "23456");
    http_fake_result_cleanup(&res);
    http_fake_free(f);

    /* HEAD: the announced length, no bytes */
    f = http_fake_new("HEAD", "/blob");
    CHECK_INT_EQ(http_fake_run(&res, &rec_handler, &r, f, 0), 0);
    CHECK_INT_EQ(res.len, 5);
    CHECK_INT_EQ(res.body_len, 0);
    CHECK_STR_EQ(res.body, "");
    http_fake_result_cleanup(&res);

    /* a range past the end of the file cannot be read back */
    CHECK_INT_EQ(ftruncate(fd, 3), 0);
    http_fake_free(f);
    f = http_fake_new("GET", "/blob");
    CHECK_INT_EQ(http_fake_run(&res, &rec_handler, &r, f, 0), -1);
    CHECK(res.resp == NULL && res.body == NULL);
    http_fake_free(f);
    (void)close(fd);
    test_rm_rf(dir);
}

static void test_serve(void)
{
    struct rec r = rec_new();
    const struct http_mount mounts[] = {
            {"/v2", true, &rec_handler, &r},
            {"/v2/", false, &rec_handler, &r},
    };
    struct http_fake *f = http_fake_new("GET", "/v2/x");
    struct http_fake_result res;

    CHECK_INT_EQ(http_fake_serve(&res, mounts, 2, f, 0), 0);
    CHECK_INT_EQ(res.status, 201);
    CHECK_STR_EQ(r.log, "b e x");
    http_fake_result_cleanup(&res);
    http_fake_free(f);

    r = rec_new();
    f = http_fake_new("GET", "/v2x");
    CHECK_INT_EQ(http_fake_serve(&res, mounts, 2, f, 0), 0);
    CHECK_INT_EQ(res.status, 404);
    CHECK_STR_EQ(res.body, "{\"errors\":[{\"code\":\"NOT_FOUND\",\"message\":\"not found\"}]}");
    CHECK_STR_EQ(r.log, ""); /* no handler ran */
    http_fake_result_cleanup(&res);
    http_fake_free(f);
}

/* an encoded NUL cuts the path and is flagged; X-Forwarded-* only from a trusted proxy */
static void test_nul_and_forwarded(void)
{
    struct http_fake *f = http_fake_new("GET", "/v2/lib%00evil/app/tags/list?x=%00");
    struct http_req *hr;

    CHECK(f != NULL);
    if (f == NULL)
        return;
    hr = http_fake_req(f);
    CHECK_STR_EQ(hr->path, "/v2/lib");
    CHECK(hr->path_nul);
    CHECK_INT_EQ(http_fake_header(f, "X-Forwarded-Proto", "https"), 0);
    CHECK_INT_EQ(http_fake_header(f, "X-Forwarded-For", "203.0.113.9"), 0);
    CHECK(http_forwarded(hr, "Proto") == NULL);
    CHECK(http_forwarded(hr, "For") == NULL);
    CHECK(!http_req_https(hr));
    http_fake_trusted_proxy(f, true);
    CHECK_STR_EQ(http_forwarded(hr, "Proto"), "https");
    CHECK_STR_EQ(http_forwarded(hr, "For"), "203.0.113.9");
    {
        char addr[64];
        CHECK_INT_EQ(http_fake_client(f, "10.0.0.5"), 0);
        http_client_addr(hr, addr, sizeof(addr));
        CHECK_STR_EQ(addr, "203.0.113.9"); /* the address the trusted proxy saw */
        http_fake_trusted_proxy(f, false);
        http_client_addr(hr, addr, sizeof(addr));
        CHECK_STR_EQ(addr, "10.0.0.5"); /* an untrusted peer's claim is ignored */
        http_fake_trusted_proxy(f, true);
    }
    CHECK(http_forwarded(hr, "Host") == NULL);
    CHECK(http_req_https(hr));
    http_fake_trusted_proxy(f, false);
    http_fake_tls(f, true);
    CHECK(http_req_https(hr));
    http_fake_free(f);

    /* only the last X-Forwarded-For entry counts (the one the trusted proxy appended), and only
     * a numeric address */
    {
        static const struct {
            const char *xff, *want;
        } cases[] = {{"1.1.1.1, 198.51.100.7", "198.51.100.7"},
                     {"evil, 2001:db8::1", "2001:db8::1"},
                     {"198.51.100.7, not-an-ip", "10.0.0.5"},
                     {"", "10.0.0.5"},
                     {"198.51.100.7 x", "10.0.0.5"}};
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            char addr[64];
            f = http_fake_new("GET", "/");
            if (f == NULL)
                return;
            CHECK_INT_EQ(http_fake_client(f, "10.0.0.5"), 0);
            CHECK_INT_EQ(http_fake_header(f, "X-Forwarded-For", cases[i].xff), 0);
            http_fake_trusted_proxy(f, true);
            http_client_addr(http_fake_req(f), addr, sizeof(addr));
            CHECK_STR_EQ(addr, cases[i].want);
            http_fake_free(f);
        }
    }

    f = http_fake_new("GET", "/v2/lib/app/tags/list?x=%00");
    CHECK(f != NULL && !http_fake_req(f)->path_nul); /* only the path counts */
    http_fake_free(f);
}

int main(void)
{
    TEST_RUN(test_request);
    TEST_RUN(test_nul_and_forwarded);
    TEST_RUN(test_alloc_failures);
    TEST_RUN(test_pieces);
    TEST_RUN(test_data_failure);
    TEST_RUN(test_answered_at_begin);
    TEST_RUN(test_file_range_and_head);
    TEST_RUN(test_serve);
    return test_summary();
}
