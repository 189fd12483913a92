/* reply.c - the one place error codes become HTTP: status codes and the spec's error body.
 *
 * The error body is the distribution-spec's {"errors":[{"code","message","detail"}]}, built with
 * jansson so every string is escaped correctly. berr messages are written to be shown; an
 * internal error never carries more than "internal error". No shared state. */
#include "registry/req.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "common/mem.h"

unsigned reply_status_of(enum berr_code code)
{
    switch (code) {
    case BERR_OK:
        return HTTP_OK;
    case BERR_BLOB_UNKNOWN:
    case BERR_BLOB_UPLOAD_UNKNOWN:
    case BERR_MANIFEST_UNKNOWN:
    case BERR_NAME_UNKNOWN:
    case BERR_NOT_FOUND:
        return HTTP_NOT_FOUND;
    case BERR_BLOB_UPLOAD_INVALID:
    case BERR_DIGEST_INVALID:
    case BERR_MANIFEST_BLOB_UNKNOWN:
    case BERR_MANIFEST_INVALID:
    case BERR_NAME_INVALID:
    case BERR_SIZE_INVALID:
    case BERR_TAG_INVALID:
    case BERR_BAD_REQUEST:
        return HTTP_BAD_REQUEST;
    case BERR_UNAUTHORIZED:
        return HTTP_UNAUTHORIZED;
    case BERR_DENIED:
        return HTTP_FORBIDDEN;
    case BERR_UNSUPPORTED:
    case BERR_METHOD:
        return HTTP_METHOD_NOT_ALLOWED;
    case BERR_TOOMANYREQUESTS:
        return HTTP_TOO_MANY_REQUESTS;
    case BERR_RANGE_INVALID:
        return HTTP_RANGE_NOT_SATISFIABLE;
    case BERR_TOO_LARGE:
        return HTTP_CONTENT_TOO_LARGE;
    case BERR_CONFLICT:
        return HTTP_CONFLICT;
    case BERR_STORAGE_FULL:
        return HTTP_INSUFFICIENT_STORAGE;
    case BERR_UNAVAILABLE:
        return HTTP_SERVICE_UNAVAILABLE;
    case BERR_INTERNAL:
    case BERR_CODE_COUNT:
        break;
    }
    return HTTP_INTERNAL_SERVER_ERROR;
}

struct http_resp *reply_error(const struct berr *err, unsigned *status)
{
    static const char fallback[] =
            "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"internal error\"}]}";
    struct http_resp *resp;
    json_t *root, *one;
    const char *msg = err->msg[0] ? err->msg : "error";
    char *text;

    *status = reply_status_of(err->code);
    if (err->code == BERR_INTERNAL || err->code == BERR_OK)
        msg = "internal error";
    root = json_object();
    one = json_object();
    if (root == NULL || one == NULL) {
        json_decref(root);
        json_decref(one);
        return http_resp_json(fallback, sizeof(fallback) - 1);
    }
    if (json_object_set_new(one, "code", json_string(berr_code_name(err->code))) < 0 ||
        json_object_set_new(one, "message", json_string(msg)) < 0 ||
        json_object_set_new(one, "detail", json_object()) < 0 ||
        json_object_set_new(root, "errors", json_pack("[o]", one)) < 0) {
        json_decref(root);
        return http_resp_json(fallback, sizeof(fallback) - 1);
    }
    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (text == NULL)
        return http_resp_json(fallback, sizeof(fallback) - 1);
    resp = http_resp_json(text, strlen(text));
    mem_free(text);
    return resp;
}
