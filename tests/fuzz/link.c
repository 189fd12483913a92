/* link.c (fuzz) - the Link builder's inputs: http_link_add with any parameter values and
 * http_link_pages with any page numbers.
 *
 * The input is split at NUL bytes into path, rel and up to 4 values; the first 24 bytes also
 * give page, page_size and total. Promises checked: the value built never exceeds the buffer's
 * cap; every value is percent-encoded (no byte outside RFC 3986's unreserved set and '%' comes
 * from a value: no ',', ';', '<', '>', '"' or control byte inside the <...> of a link made of a
 * safe path); page links appear only when a previous or next page exists. */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/mem.h"
#include "http/link.h"

static void need(int cond)
{
    if (!cond)
        abort();
}

static int64_t i64_of(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = mem_malloc(size + 1);
    const char *part[6] = {"", "", "", "", "", ""};
    struct http_link_param params[4] = {{"n", NULL}, {"last", NULL}, {"q", NULL}, {"x", NULL}};
    struct buf b;
    size_t np = 0, at = 0;

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    while (np < 6 && at <= size) {
        part[np++] = copy + at;
        at += strlen(copy + at) + 1;
    }
    for (size_t i = 0; i < 4; i++)
        params[i].value = np > 2 + i ? part[2 + i] : NULL;

    buf_init(&b, 4096);
    if (http_link_add(&b, "/v2/_catalog", "next", params, 4) == 0) {
        const char *end = b.data != NULL ? strchr(b.data, '>') : NULL;
        need(b.len <= 4096);
        need(b.data != NULL && b.data[0] == '<' && end != NULL);
        for (const char *p = b.data + 1; p < end; p++)
            need(strchr(",;<\"\\ ", *p) == NULL && (unsigned char)*p > 0x20 &&
                 (unsigned char)*p < 0x7f);
    }
    buf_cleanup(&b);
    /* path and rel are the caller's own literals in real use; any bytes must not break memory */
    buf_init(&b, 256);
    (void)http_link_add(&b, part[0], part[1][0] ? part[1] : "next", params, 4);
    need(b.len <= 256);
    buf_cleanup(&b);

    if (size >= 24) {
        int64_t page = i64_of(data), page_size = i64_of(data + 8), total = i64_of(data + 16);
        buf_init(&b, 4096);
        if (http_link_pages(&b, "/api/v2.0/projects", page, page_size, total, params, 2) == 0 &&
            b.len > 0) {
            need(page > 1 || strstr(b.data, "rel=\"prev\"") == NULL);
        }
        need(b.len <= 4096);
        buf_cleanup(&b);
    }
    mem_free(copy);
    return 0;
}
