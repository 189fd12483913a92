/* link_test.c - paging Link headers: cursor links (n, last) with percent-encoding, skipped
 * parameters, the separator between links, prev/next of page-numbered lists, and the buffer's
 * ceiling. */
#include "http/link.h"

#include "common/test.h"

static void test_add(void)
{
    struct buf b;
    const struct http_link_param p[] = {{"n", "2"}, {"skip", NULL}, {"last", "lib/a b+c~d_e.f-g"}};

    buf_init(&b, 1024);
    CHECK_INT_EQ(http_link_add(&b, "/v2/_catalog", "next", p, 3), 0);
    CHECK_STR_EQ(b.data, "</v2/_catalog?n=2&last=lib%2Fa%20b%2Bc~d_e.f-g>; rel=\"next\"");
    CHECK_INT_EQ(http_link_add(&b, "/x", "prev", NULL, 0), 0);
    CHECK_STR_EQ(b.data, "</v2/_catalog?n=2&last=lib%2Fa%20b%2Bc~d_e.f-g>; rel=\"next\" , "
                         "</x>; rel=\"prev\"");
    buf_cleanup(&b);

    /* a value that would close the link or add a parameter is encoded */
    buf_init(&b, 1024);
    CHECK_INT_EQ(
            http_link_add(&b, "/p", "next", (const struct http_link_param[]){{"q", ">&x=\""}}, 1),
            0);
    CHECK_STR_EQ(b.data, "</p?q=%3E%26x%3D%22>; rel=\"next\"");
    buf_cleanup(&b);

    /* the first parameter given may be skipped: the next one still opens with '?' */
    buf_init(&b, 1024);
    CHECK_INT_EQ(http_link_add(&b, "/p", "next",
                               (const struct http_link_param[]){{"a", NULL}, {"b", "1"}}, 2),
                 0);
    CHECK_STR_EQ(b.data, "</p?b=1>; rel=\"next\"");
    buf_cleanup(&b);

    /* the buffer's ceiling */
    buf_init(&b, 16);
    CHECK_INT_EQ(http_link_add(&b, "/v2/_catalog", "next", p, 3), -1);
    buf_cleanup(&b);
}

static void test_pages(void)
{
    struct buf b;
    const struct http_link_param q[] = {{"q", "name=~a"}, {"sort", NULL}};

    buf_init(&b, 1024);
    CHECK_INT_EQ(http_link_pages(&b, "/api/v2.0/projects", 1, 10, 10, q, 2), 0);
    CHECK_INT_EQ(b.len, 0); /* one page: no link */
    CHECK_INT_EQ(http_link_pages(&b, "/api/v2.0/projects", 1, 10, 11, q, 2), 0);
    CHECK_STR_EQ(b.data, "</api/v2.0/projects?page=2&page_size=10&q=name%3D~a>; rel=\"next\"");
    buf_reset(&b);
    CHECK_INT_EQ(http_link_pages(&b, "/u", 2, 10, 30, NULL, 0), 0);
    CHECK_STR_EQ(b.data,
                 "</u?page=1&page_size=10>; rel=\"prev\" , </u?page=3&page_size=10>; rel=\"next\"");
    buf_reset(&b);
    CHECK_INT_EQ(http_link_pages(&b, "/u", 3, 10, 30, NULL, 0), 0);
    CHECK_STR_EQ(b.data, "</u?page=2&page_size=10>; rel=\"prev\"");
    buf_reset(&b);
    CHECK_INT_EQ(http_link_pages(&b, "/u", 5, 10, 30, NULL, 0), 0); /* past the end: prev only */
    CHECK_STR_EQ(b.data, "</u?page=4&page_size=10>; rel=\"prev\"");
    buf_reset(&b);
    CHECK_INT_EQ(http_link_pages(&b, "/u", INT64_MAX, 2, INT64_MAX, NULL, 0), 0); /* no overflow */
    CHECK(b.len > 0 && strstr(b.data, "rel=\"next\"") == NULL);
    buf_cleanup(&b);
}

int main(void)
{
    TEST_RUN(test_add);
    TEST_RUN(test_pages);
    return test_summary();
}
