/* resp_test.c - the response object (http/resp.c): each kind of body, headers in order and by
 * name, descriptor ownership, the method names, the request accessors without a source, and
 * allocation failures. */
#include "http/http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/test.h"

static void test_methods(void)
{
    CHECK_INT_EQ(http_method_of("GET"), HTTP_GET);
    CHECK_INT_EQ(http_method_of("HEAD"), HTTP_HEAD);
    CHECK_INT_EQ(http_method_of("PATCH"), HTTP_PATCH);
    CHECK_INT_EQ(http_method_of("DELETE"), HTTP_DELETE);
    CHECK_INT_EQ(http_method_of("OPTIONS"), HTTP_OPTIONS);
    CHECK_INT_EQ(http_method_of("get"), HTTP_METHOD_OTHER); /* methods are case-sensitive */
    CHECK_INT_EQ(http_method_of(""), HTTP_METHOD_OTHER);
    CHECK_STR_EQ(http_method_name(HTTP_PUT), "PUT");
    CHECK_STR_EQ(http_method_name(HTTP_METHOD_OTHER), "OTHER");
    CHECK_STR_EQ(http_method_name((enum http_method)99), "OTHER");
}

static void test_bytes(void)
{
    struct http_resp *r = http_resp_bytes("abc", 3, "text/plain");
    const char *k, *v, *b;
    size_t len = 99;
    uint64_t off = 7;

    CHECK(r != NULL);
    if (r == NULL)
        return;
    CHECK_INT_EQ(http_resp_kind(r), HTTP_BODY_MEM);
    b = http_resp_body(r, &len);
    CHECK_INT_EQ(len, 3);
    CHECK(b != NULL && memcmp(b, "abc", 3) == 0);
    CHECK_INT_EQ(http_resp_len(r), 3);
    CHECK_INT_EQ(http_resp_fd_of(r, &off), -1);
    CHECK_INT_EQ(off, 0);
    CHECK_STR_EQ(http_resp_get(r, "content-type"), "text/plain");
    CHECK_INT_EQ(http_resp_header(r, "Link", "<a>; rel=\"next\""), 0);
    CHECK_INT_EQ(http_resp_header(r, "link", "<b>"), 0);
    CHECK_STR_EQ(http_resp_get(r, "LINK"), "<a>; rel=\"next\""); /* the first one */
    CHECK(http_resp_get(r, "Lin") == NULL);
    CHECK_INT_EQ(http_resp_header_at(r, 0, &k, &v), 0);
    CHECK_STR_EQ(k, "Content-Type");
    CHECK_INT_EQ(http_resp_header_at(r, 2, &k, &v), 0);
    CHECK_STR_EQ(k, "link");
    CHECK_STR_EQ(v, "<b>");
    CHECK_INT_EQ(http_resp_header_at(r, 3, &k, &v), -1);
    http_resp_free(r);

    r = http_resp_json("{}", 2);
    CHECK_STR_EQ(http_resp_get(r, HTTP_HEADER_CONTENT_TYPE), "application/json; charset=utf-8");
    http_resp_free(r);

    /* empty bodies: a non-NULL "" */
    r = http_resp_empty();
    b = http_resp_body(r, &len);
    CHECK(b != NULL && len == 0);
    CHECK(http_resp_get(r, HTTP_HEADER_CONTENT_TYPE) == NULL);
    http_resp_free(r);
    r = http_resp_bytes(NULL, 0, NULL);
    CHECK(r != NULL && http_resp_len(r) == 0);
    http_resp_free(r);
    http_resp_free(NULL);
    CHECK_INT_EQ(http_resp_header(NULL, "a", "b"), -1);
}

static void test_header_cap(void)
{
    struct http_resp *r = http_resp_empty();
    int ok = 0;

    for (int i = 0; i < 100; i++) {
        if (http_resp_header(r, "X-N", "v") == 0)
            ok++;
    }
    CHECK_INT_EQ(ok, 64);
    http_resp_free(r);
}

static void test_fd_and_head(void)
{
    char dir[64], path[128];
    struct http_resp *r;
    uint64_t off = 0;
    size_t len = 5;
    int fd, fd2;

    test_mkdtemp(dir, sizeof(dir), "resp");
    (void)snprintf(path, sizeof(path), "%s/f", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    r = http_resp_fd(fd, 3, 4);
    CHECK(r != NULL);
    CHECK_INT_EQ(http_resp_kind(r), HTTP_BODY_FD);
    CHECK_INT_EQ(http_resp_len(r), 4);
    CHECK_INT_EQ(http_resp_fd_of(r, &off), fd);
    CHECK_INT_EQ(off, 3);
    CHECK(http_resp_body(r, &len) == NULL);
    CHECK_INT_EQ(len, 0);
    http_resp_free(r); /* closes fd */
    CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF);

    fd = open(path, O_RDONLY | O_CLOEXEC);
    r = http_resp_fd(fd, 0, 1);
    CHECK_INT_EQ(http_resp_fd_release(r), fd);
    CHECK_INT_EQ(http_resp_fd_of(r, &off), -1);
    http_resp_free(r); /* released: stays open */
    CHECK(fcntl(fd, F_GETFD) != -1);
    (void)close(fd);

    /* an offset past INT64_MAX is refused and the descriptor closed */
    fd2 = open(path, O_RDONLY | O_CLOEXEC);
    CHECK(http_resp_fd(fd2, (uint64_t)INT64_MAX + 1, 1) == NULL);
    CHECK(fcntl(fd2, F_GETFD) == -1 && errno == EBADF);

    r = http_resp_head(12345);
    CHECK_INT_EQ(http_resp_kind(r), HTTP_BODY_SIZE);
    CHECK_INT_EQ(http_resp_len(r), 12345);
    CHECK(http_resp_body(r, &len) == NULL);
    http_resp_free(r);
    test_rm_rf(dir);
}

static void test_reply_drop_and_req(void)
{
    struct http_reply rep = {http_resp_empty(), 204, 9};
    struct http_req hr;
    char addr[8] = "x";
    char longname[400];

    http_reply_drop(&rep);
    CHECK(rep.resp == NULL && rep.status == 0 && rep.len == 0);
    http_reply_drop(&rep); /* twice is fine */

    memset(&hr, 0, sizeof(hr));
    CHECK(http_header(&hr, "Host") == NULL);
    CHECK(http_query(&hr, "n") == NULL);
    CHECK(http_cookie(&hr, "sid") == NULL);
    CHECK_INT_EQ(http_query_each(&hr, "n", NULL, NULL), 0);
    http_client_addr(&hr, addr, sizeof(addr));
    CHECK_STR_EQ(addr, "");
    memset(longname, 'u', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    http_req_set_user(&hr, longname);
    CHECK_INT_EQ(strlen(hr.user), HTTP_USER_MAX);
}

static void test_alloc_failures(void)
{
    int failed = 0;

    for (long n = 0; n < 4; n++) {
        struct http_resp *r;
        mem_fail_after(n);
        r = http_resp_bytes("abc", 3, "text/plain");
        mem_fail_after(-1);
        if (r == NULL)
            failed++;
        http_resp_free(r);
    }
    CHECK_INT_EQ(failed, 3); /* struct, body, header; the fourth run succeeds */
}

int main(void)
{
    TEST_RUN(test_methods);
    TEST_RUN(test_bytes);
    TEST_RUN(test_header_cap);
    TEST_RUN(test_fd_and_head);
    TEST_RUN(test_reply_drop_and_req);
    TEST_RUN(test_alloc_failures);
    return test_summary();
}
