/* berr.c - filling struct berr.
 *
 * berr_sys keeps the errno and a description for the log; the message a client may see is always
 * a fixed text ("internal error", or BERR_STORAGE_FULL_MSG for ENOSPC and EDQUOT) so paths and
 * strerror text never leave the server. No shared state. */
#include "common/berr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

static const char *const code_names[BERR_CODE_COUNT] = {
        [BERR_OK] = "OK",
        [BERR_BLOB_UNKNOWN] = "BLOB_UNKNOWN",
        [BERR_BLOB_UPLOAD_INVALID] = "BLOB_UPLOAD_INVALID",
        [BERR_BLOB_UPLOAD_UNKNOWN] = "BLOB_UPLOAD_UNKNOWN",
        [BERR_DIGEST_INVALID] = "DIGEST_INVALID",
        [BERR_MANIFEST_BLOB_UNKNOWN] = "MANIFEST_BLOB_UNKNOWN",
        [BERR_MANIFEST_INVALID] = "MANIFEST_INVALID",
        [BERR_MANIFEST_UNKNOWN] = "MANIFEST_UNKNOWN",
        [BERR_NAME_INVALID] = "NAME_INVALID",
        [BERR_NAME_UNKNOWN] = "NAME_UNKNOWN",
        [BERR_SIZE_INVALID] = "SIZE_INVALID",
        [BERR_UNAUTHORIZED] = "UNAUTHORIZED",
        [BERR_DENIED] = "DENIED",
        [BERR_UNSUPPORTED] = "UNSUPPORTED",
        [BERR_TOOMANYREQUESTS] = "TOOMANYREQUESTS",
        [BERR_TAG_INVALID] = "TAG_INVALID",
        [BERR_RANGE_INVALID] = "RANGE_INVALID",
        [BERR_TOO_LARGE] = "SIZE_INVALID",
        [BERR_NOT_FOUND] = "NOT_FOUND",
        [BERR_CONFLICT] = "CONFLICT",
        [BERR_BAD_REQUEST] = "BAD_REQUEST",
        [BERR_METHOD] = "METHOD_NOT_ALLOWED",
        [BERR_STORAGE_FULL] = "INSUFFICIENT_STORAGE",
        [BERR_UNAVAILABLE] = "UNAVAILABLE",
        [BERR_INTERNAL] = "INTERNAL_ERROR",
};

int berr_set(struct berr *err, enum berr_code code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return -1;
    err->code = code;
    err->sys_errno = 0;
    va_start(ap, fmt);
    /* truncation of a client message is harmless: it is cut, never unterminated */
    (void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int berr_sys(struct berr *err, int errnum, const char *what)
{
    log_msg(LOG_ERROR, "%s: %s", what, strerror(errnum));
    if (err == NULL)
        return -1;
    err->sys_errno = errnum;
    if (errnum == ENOSPC || errnum == EDQUOT) {
        err->code = BERR_STORAGE_FULL;
        (void)snprintf(err->msg, sizeof(err->msg), "%s", BERR_STORAGE_FULL_MSG);
        return -1;
    }
    err->code = BERR_INTERNAL;
    (void)snprintf(err->msg, sizeof(err->msg), "internal error");
    return -1;
}

void berr_clear(struct berr *err)
{
    if (err == NULL)
        return;
    err->code = BERR_OK;
    err->sys_errno = 0;
    err->msg[0] = '\0';
}

const char *berr_code_name(enum berr_code code)
{
    if ((unsigned)code >= BERR_CODE_COUNT || code_names[code] == NULL)
        return "UNKNOWN";
    return code_names[code];
}
