/* reply.c - building libmicrohttpd responses, and the one place error codes become HTTP.
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
        return MHD_HTTP_OK;
    case BERR_BLOB_UNKNOWN:
    case BERR_BLOB_UPLOAD_UNKNOWN:
    case BERR_MANIFEST_UNKNOWN:
    case BERR_NAME_UNKNOWN:
    case BERR_NOT_FOUND:
        return MHD_HTTP_NOT_FOUND;
    case BERR_BLOB_UPLOAD_INVALID:
    case BERR_DIGEST_INVALID:
    case BERR_MANIFEST_BLOB_UNKNOWN:
    case BERR_MANIFEST_INVALID:
    case BERR_NAME_INVALID:
    case BERR_SIZE_INVALID:
    case BERR_TAG_INVALID:
    case BERR_BAD_REQUEST:
        return MHD_HTTP_BAD_REQUEST;
    case BERR_UNAUTHORIZED:
        return MHD_HTTP_UNAUTHORIZED;
    case BERR_DENIED:
        return MHD_HTTP_FORBIDDEN;
    case BERR_UNSUPPORTED:
    case BERR_METHOD:
        return MHD_HTTP_METHOD_NOT_ALLOWED;
    case BERR_TOOMANYREQUESTS:
        return MHD_HTTP_TOO_MANY_REQUESTS;
    case BERR_RANGE_INVALID:
        return MHD_HTTP_RANGE_NOT_SATISFIABLE;
    case BERR_TOO_LARGE:
        return MHD_HTTP_CONTENT_TOO_LARGE;
    case BERR_CONFLICT:
        return MHD_HTTP_CONFLICT;
    case BERR_INTERNAL:
    case BERR_CODE_COUNT:
        break;
    }
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

struct MHD_Response *reply_empty(void)
{
    return MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
}

struct MHD_Response *reply_bytes(const void *data, size_t len, const char *content_type)
{
    struct MHD_Response *resp;

    resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
    if (resp != NULL && content_type != NULL &&
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES) {
        MHD_destroy_response(resp);
        return NULL;
    }
    return resp;
}

struct MHD_Response *reply_json(const char *json, size_t len)
{
    return reply_bytes(json, len, "application/json; charset=utf-8");
}

struct MHD_Response *reply_fd(int fd, uint64_t offset, uint64_t len)
{
    struct MHD_Response *resp;

    if (offset > INT64_MAX) {
        (void)close(fd); /* read-only descriptor */
        return NULL;
    }
    resp = MHD_create_response_from_fd_at_offset64(len, fd, offset);
    if (resp == NULL)
        (void)close(fd); /* read-only descriptor; the caller answers 500 */
    return resp;
}

/* A HEAD reply carries the Content-Length of the body it does not send; libmicrohttpd takes it
 * from the response size and never calls the reader for HEAD. */
static ssize_t head_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    (void)pos;
    (void)buf;
    (void)max;
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

struct MHD_Response *reply_head(uint64_t len)
{
    return MHD_create_response_from_callback(len, 4096, head_reader, NULL, NULL);
}

struct MHD_Response *reply_error(const struct berr *err, unsigned *status)
{
    static const char fallback[] =
            "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"internal error\"}]}";
    struct MHD_Response *resp;
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
        return reply_json(fallback, sizeof(fallback) - 1);
    }
    if (json_object_set_new(one, "code", json_string(berr_code_name(err->code))) < 0 ||
        json_object_set_new(one, "message", json_string(msg)) < 0 ||
        json_object_set_new(one, "detail", json_object()) < 0 ||
        json_object_set_new(root, "errors", json_pack("[o]", one)) < 0) {
        json_decref(root);
        return reply_json(fallback, sizeof(fallback) - 1);
    }
    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (text == NULL)
        return reply_json(fallback, sizeof(fallback) - 1);
    resp = reply_json(text, strlen(text));
    mem_free(text);
    return resp;
}
