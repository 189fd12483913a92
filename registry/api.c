/* api.c - the management API under /api/v2.0 (Harbor-compatible paths). Today it answers the
 * readiness probe `GET /api/v2.0/ping` ("Pong", no authentication, as Harbor); other paths are
 * 404 NOT_FOUND in the registry's JSON error format. */
#include "registry/req.h"

#include <string.h>

int api_handle(struct req *r, struct reply *out)
{
    if (strcmp(r->url, "/api/v2.0/ping") == 0 && (r->method == REQ_GET || r->method == REQ_HEAD)) {
        out->resp = reply_bytes("Pong", 4, "text/plain; charset=utf-8");
        out->status = MHD_HTTP_OK;
        out->len = 4;
        if (out->resp == NULL)
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
        return 0;
    }
    return berr_set(&r->err, BERR_NOT_FOUND, "not found");
}
