/* audit_hook.h - what registry code calls to put an event in the audit log (storage/audit.h):
 * the caller's name, the client address and the project are taken from the request.
 *
 * Every call is cheap (a copy into the audit queue) and never fails the request: an event that
 * cannot be queued is counted and logged by storage/audit.c. With r->reg->audit NULL the calls
 * do nothing. Implemented in registry/audit_hook.c. Thread-safe. */
#ifndef BERTH_REGISTRY_AUDIT_HOOK_H
#define BERTH_REGISTRY_AUDIT_HOOK_H

#include <stdbool.h>

#include "common/digest.h"

struct req;

/* req_audit records operation on resource (of resource_type) by r's caller; the project is the
 * first component of r->name when the request names a repository, else `project` (may be
 * NULL). */
void req_audit(struct req *r, const char *operation, const char *resource_type,
               const char *resource, const char *project, bool result);
/* req_audit_ref records operation on "<r->name>:<tag>" or "<r->name>@<digest>" (ref as the
 * client sent it, a tag or a digest). */
void req_audit_ref(struct req *r, const char *operation, const char *resource_type,
                   const char *ref);
/* req_audit_login_failed records a failed login of `user`, or of the user named in r's Basic
 * Authorization header when user is NULL (the password is wiped, never kept). */
void req_audit_login_failed(struct req *r, const char *user);

#endif
