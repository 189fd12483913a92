/* audit_hook.c - what request handlers call to put an event in the audit log
 * (storage/audit.h): the caller's name, the client address and the project come from the request.
 *
 * Invariants:
 *   1. Never fails the request: an event that cannot be queued is counted and logged by
 *      storage/audit.c.
 *   2. A failed login records the user name only, never the password (wiped after decoding).
 * Thread-safe: all state is per request or in storage/audit.c. */
#include "registry/audit_hook.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/mem.h"
#include "registry/authz.h"
#include "registry/req.h"
#include "storage/audit.h"

void req_audit(struct req *r, const char *operation, const char *resource_type,
               const char *resource, const char *project, bool result)
{
    char addr[64], proj[REPO_NAME_MAX + 1];

    if (r->reg->audit == NULL)
        return;
    authz_client_addr(r, addr, sizeof(addr));
    if (r->name.len > 0) {
        repo_name_project(&r->name, proj, sizeof(proj));
        project = proj;
    }
    /* a dropped event is counted and logged by storage/audit.c */
    (void)audit_record(r->reg->audit, r->user, operation, resource_type, resource, project, addr,
                       result);
}

void req_audit_ref(struct req *r, const char *operation, const char *resource_type, const char *ref)
{
    char res[AUDIT_RESOURCE_MAX + 1];
    bool digest = strchr(ref, ':') != NULL;
    int n = snprintf(res, sizeof(res), "%s%c%s", r->name.s, digest ? '@' : ':', ref);

    if (n < 0)
        return;
    req_audit(r, operation, resource_type, res, NULL, true); /* cut at the field size if long */
}

void req_audit_login_failed(struct req *r, const char *user)
{
    char name[AUTHN_USER_MAX + 1];
    char *pass;
    const char *h;

    if (r->reg->audit == NULL)
        return;
    name[0] = '\0';
    if (user != NULL) {
        (void)snprintf(name, sizeof(name), "%s", user); /* cut at the field size */
    } else {
        h = req_header(r, HTTP_HEADER_AUTHORIZATION);
        pass = mem_malloc(AUTHN_PASS_MAX + 1);
        if (h != NULL && pass != NULL &&
            authn_basic_decode(h, name, sizeof(name), pass, AUTHN_PASS_MAX + 1) < 0)
            name[0] = '\0';
        if (pass != NULL)
            OPENSSL_cleanse(pass, AUTHN_PASS_MAX + 1);
        mem_free(pass);
    }
    {
        char addr[64];
        authz_client_addr(r, addr, sizeof(addr));
        (void)audit_record(r->reg->audit, name, "login", "user", name, NULL, addr, false);
    }
}
