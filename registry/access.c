/* access.c - who may call a /v2/ endpoint.
 *
 * Every /v2/ request needs an authenticated user; the admin created on first start is the only
 * one until users, robots, tokens and project roles arrive. A missing or wrong Authorization
 * header gets 401 UNAUTHORIZED with a Basic challenge. No shared state. */
#include "registry/req.h"

#include <stdio.h>

int access_check(struct req *r)
{
    const char *h = req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);

    if (h == NULL)
        return berr_set(&r->err, BERR_UNAUTHORIZED, "authentication required");
    if (authn_basic(r->reg->authn, h, &r->who, &r->err) < 0)
        return -1;
    (void)snprintf(r->user, sizeof(r->user), "%s", r->who.name); /* same caps */
    return 0;
}
