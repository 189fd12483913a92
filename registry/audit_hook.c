/* audit_hook.c - what request handlers call to put an event in the audit log
 * (storage/audit.h): the caller's name, the client address and the project come from the request.
 *
 * Invariants:
 *   1. Never fails the request: an event that cannot be queued is counted and logged by
 *      storage/audit.c.
 *   2. A failed login records the user name only, never the password (wiped after decoding);
 *      a refused name that is no existing user or robot (often a password typed into the name
 *      field) is kept only as a short escaped prefix.
 * Thread-safe: all state is per request or in storage/audit.c. */
#include "registry/audit_hook.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/mem.h"
#include "registry/authz.h"
#include "registry/req.h"
#include "storage/audit.h"
#include "storage/meta.h"

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

/* known_account: name is an existing user or robot. */
static bool known_account(struct req *r, const char *name)
{
    struct meta_user u;
    struct meta_robot rb;
    struct berr e;
    bool known;

    if (name[0] == '\0' || r->reg->meta == NULL)
        return false;
    known = meta_user_get(r->reg->meta, name, &u, &e) == 0 ||
            meta_robot_get(r->reg->meta, name, &rb, &e) == 0;
    OPENSSL_cleanse(&u, sizeof(u)); /* holds a password hash */
    OPENSSL_cleanse(&rb, sizeof(rb));
    return known;
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
        char addr[64], kept[AUTHN_USER_MAX + 1];
        if (known_account(r, name))
            (void)snprintf(kept, sizeof(kept), "%s", name); /* same size */
        else
            (void)log_escape_prefix(kept, sizeof(kept), name, 3);
        OPENSSL_cleanse(name, sizeof(name));
        authz_client_addr(r, addr, sizeof(addr));
        (void)audit_record(r->reg->audit, kept, "login", "user", kept, NULL, addr, false);
    }
}
