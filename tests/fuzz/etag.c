/* etag.c (fuzz) - http_etag_match on any If-None-Match value, and http_etag_quote.
 *
 * The input up to the first NUL is the If-None-Match value; what follows (when present) is the
 * opaque part of the response's tag. Promises checked: "*" matches; the response's own tag,
 * alone or at the end of a list of other well-formed tags, matches; a quoted tag never
 * overflows its buffer and a too-small buffer gives -1 and "". */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "http/etag.h"

static void need(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = mem_malloc(size + 2);
    const char *inm, *opaque;
    char etag[80], list[200], small[4];
    size_t il;

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    buf[size + 1] = '\0';
    inm = buf;
    il = strlen(inm);
    opaque = il < size ? buf + il + 1 : "sha256:0";

    (void)http_etag_match(inm, "\"sha256:0\"");
    (void)http_etag_match(inm, "W/\"x\"");
    need(!http_etag_match(NULL, "\"x\""));
    /* an opaque part without quotes, backslashes or control bytes makes a proper tag */
    if (strlen(opaque) < 60 && strpbrk(opaque, "\"\\") == NULL) {
        int ok = 1;
        for (const char *p = opaque; *p != '\0'; p++)
            ok &= (unsigned char)*p > 0x20 && (unsigned char)*p != 0x7f;
        if (ok && http_etag_quote(etag, sizeof(etag), opaque) == 0) {
            need(http_etag_match("*", etag));
            need(http_etag_match(etag, etag));
            (void)snprintf(list, sizeof(list), "\"a\", W/\"b\", %s", etag);
            need(http_etag_match(list, etag));
            need(http_etag_quote(small, sizeof(small), opaque) == -1 || strlen(opaque) < 2);
        }
    }
    if (http_etag_quote(small, sizeof(small), inm) < 0)
        need(small[0] == '\0');
    mem_free(buf);
    return 0;
}
