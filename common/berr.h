/* berr.h - the one error convention of Berth.
 *
 * A function that can fail returns int: 0 on success, negative on failure. When its caller may need
 * to tell a client why, it takes `struct berr *err` last and fills it where the fault is found.
 * Codes map one to one onto the OCI distribution-spec error codes, plus a few that are HTTP-only
 * (range, size) and BERR_INTERNAL for everything a client cannot act on. registry/reply.c alone
 * turns a code into an HTTP status and the spec's JSON body. */
#ifndef BERTH_COMMON_BERR_H
#define BERTH_COMMON_BERR_H

enum berr_code {
    BERR_OK = 0,
    BERR_BLOB_UNKNOWN,
    BERR_BLOB_UPLOAD_INVALID,
    BERR_BLOB_UPLOAD_UNKNOWN,
    BERR_DIGEST_INVALID,
    BERR_MANIFEST_BLOB_UNKNOWN,
    BERR_MANIFEST_INVALID,
    BERR_MANIFEST_UNKNOWN,
    BERR_NAME_INVALID,
    BERR_NAME_UNKNOWN,
    BERR_SIZE_INVALID,
    BERR_UNAUTHORIZED,
    BERR_DENIED,
    BERR_UNSUPPORTED,
    BERR_TOOMANYREQUESTS,
    BERR_TAG_INVALID,
    BERR_RANGE_INVALID, /* 416: out-of-order chunk or unsatisfiable Range */
    BERR_TOO_LARGE,     /* 413: body over its cap */
    BERR_NOT_FOUND,     /* 404 outside the registry API (management API, UI assets) */
    BERR_CONFLICT,      /* 409 */
    BERR_BAD_REQUEST,   /* 400 outside the registry API */
    BERR_METHOD,        /* 405 */
    BERR_STORAGE_FULL,  /* 507: no space left (ENOSPC, EDQUOT, SQLITE_FULL) */
    BERR_UNAVAILABLE,   /* 503: a shared backend (PostgreSQL, the object store) cannot be reached */
    BERR_INTERNAL,
    BERR_CODE_COUNT
};

struct berr {
    enum berr_code code;
    int sys_errno; /* set by berr_sys(); logged, never sent */
    char msg[128]; /* short, safe to show the client */
};

/* berr_set fills err (which may be NULL) and returns -1. */
int berr_set(struct berr *err, enum berr_code code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* berr_sys records an OS failure as BERR_INTERNAL; `what` is logged, the client sees
 * "internal error". ENOSPC and EDQUOT are BERR_STORAGE_FULL instead, with a message that says so
 * (the client can act on it: retry once space is freed). Returns -1. */
int berr_sys(struct berr *err, int errnum, const char *what);
/* the message of BERR_STORAGE_FULL, wherever it is found */
#define BERR_STORAGE_FULL_MSG "storage full: the registry has no space left for this push"
/* berr_clear resets err to BERR_OK with an empty message. */
void berr_clear(struct berr *err);
/* berr_code_name returns the spec's code string ("BLOB_UNKNOWN"); static storage. */
const char *berr_code_name(enum berr_code code);

#endif
