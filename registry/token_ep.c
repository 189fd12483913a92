/* token_ep.c - /service/token. Berth answers HTTP Basic on /v2/ directly; the bearer token
 * service is not offered yet, so the endpoint says so with 404 (clients then use Basic). */
#include "registry/req.h"

int token_handle(struct req *r, struct reply *out)
{
    (void)out;
    return berr_set(&r->err, BERR_NOT_FOUND, "token service not enabled");
}
