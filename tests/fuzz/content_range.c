/* content_range.c (fuzz) - client_content_range_parse (puller/client.h), which reads the
 * Content-Range of a registry's 206 answer, on any header value.
 *
 * The input is cut at the first NUL as a header string would be. Promises checked:
 *   1. The result is 0 or -1.
 *   2. On 0: first <= last, and total is UINT64_MAX ("*") or greater than last.
 *   3. Round trip: "bytes FIRST-LAST/TOTAL" (TOTAL may be a star) written back parses to the
 *      same three numbers, also with a trailing CRLF as curl hands headers over.
 *   4. Parsing is deterministic.
 * A broken promise aborts. */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "puller/client.h"

static void need(int cond)
{
    if (!cond)
        abort();
}

static void roundtrip(uint64_t first, uint64_t last, uint64_t total, const char *tail)
{
    char s[128], t[32];
    uint64_t f2 = 1, l2 = 1, t2 = 1;
    int n;

    if (total == UINT64_MAX)
        n = snprintf(t, sizeof(t), "*");
    else
        n = snprintf(t, sizeof(t), "%llu", (unsigned long long)total);
    need(n > 0 && (size_t)n < sizeof(t));
    n = snprintf(s, sizeof(s), "bytes %llu-%llu/%s%s", (unsigned long long)first,
                 (unsigned long long)last, t, tail);
    need(n > 0 && (size_t)n < sizeof(s));
    need(client_content_range_parse(&f2, &l2, &t2, s) == 0);
    need(f2 == first && l2 == last && t2 == total);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t first = 0, last = 0, total = 0, f2 = 0, l2 = 0, t2 = 0;
    char *v = mem_malloc(size + 1);
    int rc;

    if (v == NULL)
        return 0;
    if (size > 0)
        memcpy(v, data, size);
    v[size] = '\0';

    rc = client_content_range_parse(&first, &last, &total, v);
    need(rc == 0 || rc == -1);
    need(client_content_range_parse(&f2, &l2, &t2, v) == rc);
    if (rc == 0) {
        need(f2 == first && l2 == last && t2 == total);
        need(first <= last);
        need(total == UINT64_MAX || last < total);
        roundtrip(first, last, total, "");
        roundtrip(first, last, total, "\r\n");
    }
    mem_free(v);
    return 0;
}
