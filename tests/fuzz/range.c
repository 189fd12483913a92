/* range.c (fuzz) - range_parse_bytes and content_range_parse on any header value.
 *
 * The first 8 bytes (when present) choose the resource size, the rest is the header, cut at the
 * first NUL as a C string would be. Promises checked: a satisfiable range lies inside the
 * resource with first <= last, a Content-Range has first <= last, and a failed parse leaves
 * both outputs 0. */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/range.h"

static void need(int cond)
{
    if (!cond)
        abort();
}

static void check_range(const char *hdr, uint64_t size)
{
    uint64_t first = 1, last = 1;
    int rc = range_parse_bytes(&first, &last, hdr, size);

    need(rc >= -1 && rc <= 1);
    if (rc == 0)
        need(first <= last && last < size);
    else
        need(first == 0 && last == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t rsize = 0, first = 1, last = 1;
    size_t off = 0;
    char *hdr;

    if (size >= 8) {
        for (int i = 0; i < 8; i++)
            rsize = rsize << 8 | data[i];
        off = 8;
    }
    hdr = mem_malloc(size - off + 1);
    if (hdr == NULL)
        return 0;
    memcpy(hdr, data + off, size - off);
    hdr[size - off] = '\0';

    check_range(hdr, rsize);
    check_range(hdr, 0);
    check_range(hdr, 1);
    check_range(hdr, 1000);
    check_range(hdr, UINT64_MAX);
    if (content_range_parse(&first, &last, hdr) == 0)
        need(first <= last);
    else
        need(first == 0 && last == 0);
    mem_free(hdr);
    return 0;
}
