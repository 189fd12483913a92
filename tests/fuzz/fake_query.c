/* fake_query.c (fuzz) - the test double's request-target decoder (http_fake_new): path
 * percent-decoding and query splitting, as libmicrohttpd does them.
 *
 * The input up to the first NUL is the target; what follows names the argument to look up.
 * Promises checked: the decoded path is never longer than the target's path part and holds no
 * '?'; path_nul is set exactly when the path's decoding met an encoded NUL; every value
 * query_each reports is also what a decoder finds; http_query gives the first of them. */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "http/fake.h"

static void need(int cond)
{
    if (!cond)
        abort();
}

struct seen {
    const char *first;
    size_t n;
};

static int seen_fn(const char *value, void *ctx)
{
    struct seen *s = ctx;

    need(value != NULL);
    if (s->n++ == 0)
        s->first = value;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = mem_malloc(size + 2);
    struct http_fake *f;
    struct http_req *hr;
    struct seen s = {NULL, 0};
    const char *target, *name, *q;
    size_t plen;

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    copy[size + 1] = '\0';
    target = copy;
    name = copy + strlen(copy) + (strlen(copy) < size ? 1 : 0);
    if (strlen(copy) == size)
        name = "n";
    f = http_fake_new("GET", target);
    if (f == NULL) {
        mem_free(copy);
        return 0;
    }
    hr = http_fake_req(f);
    plen = strcspn(target, "?");
    need(strlen(hr->path) <= plen);
    need(strchr(hr->path, '?') == NULL);
    if (!hr->path_nul) {
        for (size_t i = 0; i + 3 <= plen; i++)
            need(memcmp(target + i, "%00", 3) != 0);
    }
    need(http_query_each(hr, name, seen_fn, &s) == 0);
    q = http_query(hr, name);
    if (s.n == 0)
        need(q == NULL);
    else
        need(q == NULL ? s.first[0] == '\0' : strcmp(q, s.first) == 0);
    (void)http_header(hr, name);
    http_fake_free(f);
    mem_free(copy);
    return 0;
}
