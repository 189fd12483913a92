/* v2_path.c (fuzz) - route_v2_parse, the /v2/ path router, on any path after "/v2/".
 *
 * The input is the path (cut at the first NUL as the core's decoded path would be); the first
 * byte, when present, also picks the method, since a bad manifest reference answers by method.
 * Promises checked: a parsed route names a valid repository (lowercase, at most REPO_NAME_MAX
 * bytes) or none, its reference is shorter than r.ref and holds no '/'; a refusal carries one
 * of the distribution spec's codes, never the management API's NOT_FOUND or BAD_REQUEST. */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "registry/route.h"

static void need(int cond)
{
    if (!cond)
        abort();
}

static const enum http_method methods[] = {HTTP_GET,     HTTP_HEAD,        HTTP_PUT,
                                           HTTP_POST,    HTTP_PATCH,       HTTP_DELETE,
                                           HTTP_OPTIONS, HTTP_METHOD_OTHER};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct req *r;
    char *path;
    int rc;

    path = mem_malloc(size + 1);
    r = mem_calloc(1, sizeof(*r));
    if (path == NULL || r == NULL) {
        mem_free(path);
        mem_free(r);
        return 0;
    }
    memcpy(path, data, size);
    path[size] = '\0';
    r->method = size > 0 ? methods[data[0] % (sizeof(methods) / sizeof(methods[0]))] : HTTP_GET;
    rc = route_v2_parse(r, path);
    need(rc == 0 || rc == -1);
    if (rc == 0) {
        size_t nl = strlen(r->name.s), rl = strlen(r->ref);
        need(r->route != ROUTE_NONE);
        need(nl <= REPO_NAME_MAX);
        for (size_t i = 0; i < nl; i++)
            need(!(r->name.s[i] >= 'A' && r->name.s[i] <= 'Z') &&
                 (unsigned char)r->name.s[i] > 0x20);
        need(rl < sizeof(r->ref));
        need(memchr(r->ref, '/', rl) == NULL);
        if (r->route == ROUTE_BASE || r->route == ROUTE_CATALOG)
            need(nl == 0);
        else
            need(nl > 0);
    } else {
        need(r->err.code != BERR_NOT_FOUND && r->err.code != BERR_BAD_REQUEST &&
             r->err.code != BERR_INTERNAL && r->err.code != BERR_OK);
    }
    mem_free(r);
    mem_free(path);
    return 0;
}
