/* test_registry.h - a real registry on a fresh data directory, for in-process handler tests:
 * SQLite metadata, the blob store, the upload manager, authn, a token key, the audit queue and
 * the pull counters, assembled as cli/serve.c does (no threads: audit and pulls are flushed by
 * the test when it wants to read them). Helpers make users, projects, members and robots, the
 * Authorization values that carry them, and run one /v2/ request through route_v2_handler with
 * the seam's test double (http/fake.h).
 *
 * Test-only, header-only (like common/test.h): every helper aborts with a message when the
 * fixture itself cannot be built, since no check of the file could run without it. Passwords
 * are hashed with BERTH_TEST_KDF_ITER=1000 (set here unless the environment says otherwise).
 * Single-threaded use only. */
#ifndef BERTH_REGISTRY_TEST_REGISTRY_H
#define BERTH_REGISTRY_TEST_REGISTRY_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth/authn.h"
#include "auth/password.h"
#include "auth/token.h"
#include "auth/token_ring.h"
#include "common/digest.h"
#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"
#include "config/config.h"
#include "http/fake.h"
#include "registry/route.h"
#include "storage/audit.h"
#include "storage/blob_store.h"
#include "storage/meta.h"
#include "storage/meta.h"
#include "storage/pulls.h"
#include "storage/upload.h"

/* the end of test_v2's header list (a typed NULL: a bare NULL may be an int in varargs) */
#define TEST_HDR_END ((const char *)NULL)

struct test_registry {
    char dir[96];
    struct berth_config cfg;
    struct registry reg;
};

static inline void test_registry_die(const char *what, const struct berr *e)
{
    fprintf(stderr, "test_registry: %s: %s\n", what, e != NULL ? e->msg : "failed");
    abort();
}

/* test_registry_open builds t on a new directory under /tmp (public_url set, so challenges do
 * not depend on a Host header). */
static inline void test_registry_open(struct test_registry *t)
{
    char path[256];
    struct berr e = {0};

    memset(t, 0, sizeof(*t));
    (void)setenv("BERTH_TEST_KDF_ITER", "1000", 0); /* only fails without memory */
    mem_install_json();
    test_mkdtemp(t->dir, sizeof(t->dir), "reg");
    config_defaults(&t->cfg);
    if (config_set(&t->cfg, "data_dir", t->dir, &e) < 0 ||
        config_set(&t->cfg, "public_url", "https://reg.test", &e) < 0)
        test_registry_die("config", &e);
    t->reg.cfg = &t->cfg;
    if (snprintf(path, sizeof(path), "%s/berth.db", t->dir) >= (int)sizeof(path))
        test_registry_die("path", NULL);
    if (meta_open(&t->reg.meta, path, 4, &e) < 0 ||
        blob_store_open(&t->reg.blobs, t->dir, &e) < 0 ||
        upload_mgr_new(&t->reg.uploads, t->reg.blobs, &e) < 0 ||
        authn_new(&t->reg.authn, t->reg.meta, &e) < 0 ||
        authn_configure(t->reg.authn, t->cfg.robot_prefix, t->cfg.login_fail_limit, &e) < 0 ||
        audit_new(&t->reg.audit, t->reg.meta, 0, &e) < 0 ||
        pulls_new(&t->reg.pulls, t->reg.meta, 0, &e) < 0)
        test_registry_die("open", &e);
    if (snprintf(path, sizeof(path), "%s/token.key", t->dir) >= (int)sizeof(path) ||
        tok_ring_open(&t->reg.tokring, t->reg.meta, path, &e) < 0)
        test_registry_die("token key", &e);
}

static inline void test_registry_close(struct test_registry *t)
{
    struct berr e;

    if (pulls_flush(t->reg.pulls, NULL, &e) < 0)
        fprintf(stderr, "test_registry: pulls_flush: %s\n", e.msg);
    audit_free(t->reg.audit);
    pulls_free(t->reg.pulls);
    authn_free(t->reg.authn);
    tok_ring_free(t->reg.tokring);
    upload_mgr_free(t->reg.uploads);
    blob_store_close(t->reg.blobs);
    meta_close(t->reg.meta);
    test_rm_rf(t->dir);
    memset(t, 0, sizeof(*t));
}

/* ---- identities ---- */

/* test_registry_user creates a user with password pass; returns its id. */
static inline int64_t test_registry_user(struct test_registry *t, const char *name,
                                         const char *pass, bool sysadmin)
{
    char hash[PASSWORD_HASH_MAX];
    int64_t id = 0;
    struct berr e;

    if (password_hash(hash, sizeof(hash), pass, &e) < 0 ||
        meta_user_create(t->reg.meta, name, hash, sysadmin, &id, &e) < 0)
        test_registry_die(name, &e);
    return id;
}

/* test_registry_project creates a project (owner_id 0: none); returns its id. */
static inline int64_t test_registry_project(struct test_registry *t, const char *name, bool public,
                                            int64_t owner_id)
{
    int64_t id = 0;
    struct berr e;

    if (meta_project_create(t->reg.meta, name, public, owner_id, -1, &id, &e) < 0)
        test_registry_die(name, &e);
    return id;
}

/* test_registry_member makes user a member of project with role (ROLE_*). */
static inline void test_registry_member(struct test_registry *t, int64_t project_id,
                                        int64_t user_id, int role)
{
    struct berr e;

    if (meta_member_add(t->reg.meta, project_id, user_id, role, NULL, &e) < 0)
        test_registry_die("member", &e);
}

/* test_registry_robot creates the robot "robot$<name>" (system level) with actions (META_ACT_*)
 * on project ns ("*": every project) and secret; writes the full name into full. */
static inline int64_t test_registry_robot(struct test_registry *t, const char *name,
                                          const char *secret, const char *ns, unsigned actions,
                                          char *full, size_t cap)
{
    struct meta_robot r;
    struct meta_robot_perm p;
    int64_t id = 0;
    struct berr e;

    memset(&r, 0, sizeof(r));
    memset(&p, 0, sizeof(p));
    if (snprintf(r.name, sizeof(r.name), "%s%s", t->cfg.robot_prefix, name) >=
                (int)sizeof(r.name) ||
        snprintf(p.ns, sizeof(p.ns), "%s", ns) >= (int)sizeof(p.ns) ||
        snprintf(full, cap, "%s", r.name) >= (int)cap)
        test_registry_die("robot name", NULL);
    r.duration_days = -1;
    p.actions = actions;
    if (password_hash(r.secret_hash, sizeof(r.secret_hash), secret, &e) < 0 ||
        meta_robot_create(t->reg.meta, &r, &p, 1, &id, &e) < 0)
        test_registry_die(name, &e);
    return id;
}

/* test_basic writes "Basic base64(user:pass)" into out. */
static inline void test_basic(char *out, size_t cap, const char *user, const char *pass)
{
    char plain[512];
    int n = snprintf(plain, sizeof(plain), "%s:%s", user, pass);

    if (n < 0 || (size_t)n >= sizeof(plain) || cap < 7 + 4 * (((size_t)n + 2) / 3) + 1)
        test_registry_die("basic: too long", NULL);
    memcpy(out, "Basic ", 6);
    (void)EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)plain, n);
}

/* test_bearer writes "Bearer <jwt>" into out: a token for sub granting actions (SCOPE_ACT_*) on
 * repository repo (NULL: no access entry), issued iat_delta seconds from now (negative: in the
 * past) and valid until 600 seconds from now. */
static inline void test_bearer(struct test_registry *t, char *out, size_t cap, const char *sub,
                               const char *repo, unsigned actions, int64_t iat_delta)
{
    struct tok_claims c;
    char *jwt = NULL;
    struct berr e;

    tok_claims_init(&c);
    if (tok_claims_fill(&c, t->cfg.token_issuer, sub, t->cfg.token_service, now_s() + iat_delta,
                        600 - iat_delta, &e) < 0 ||
        (repo != NULL && tok_access_add(&c, "repository", repo, actions, &e) < 0) ||
        tok_issue(&jwt, tok_ring_signer(t->reg.tokring), &c, &e) < 0)
        test_registry_die("bearer", &e);
    tok_claims_cleanup(&c);
    if (snprintf(out, cap, "Bearer %s", jwt) >= (int)cap)
        test_registry_die("bearer: too long", NULL);
    mem_free(jwt);
}

/* ---- requests ---- */

/* test_v2 runs one request through route_v2_handler: method, target ("/v2/...?q"), auth (an
 * Authorization value or NULL), then header name/value pairs ended by TEST_HDR_END; body (may be NULL)
 * given to data() in pieces of piece bytes (0: at once). *res is filled (cleanup with
 * http_fake_result_cleanup). */
static inline void test_v2(struct http_fake_result *res, struct test_registry *t,
                           const char *method, const char *target, const char *auth,
                           const void *body, size_t len, size_t piece, ...)
{
    struct http_fake *f = http_fake_new(method, target);
    const char *k;
    va_list ap;

    if (f == NULL)
        test_registry_die("fake request", NULL);
    if (auth != NULL && http_fake_header(f, "Authorization", auth) < 0)
        test_registry_die("fake header", NULL);
    va_start(ap, piece);
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        if (http_fake_header(f, k, v) < 0)
            test_registry_die("fake header", NULL);
    }
    va_end(ap);
    if (body != NULL && http_fake_body(f, body, len) < 0)
        test_registry_die("fake body", NULL);
    if (http_fake_run(res, &route_v2_handler, &t->reg, f, piece) < 0)
        test_registry_die("fake run", NULL);
    http_fake_free(f);
}

/* test_err_code: whether body is a spec error whose first code is code. */
static inline bool test_err_code(const struct http_fake_result *res, const char *code)
{
    char want[64];

    (void)snprintf(want, sizeof(want), "\"code\":\"%s\"", code); /* fits the codes */
    return res->body != NULL && strncmp(res->body, "{\"errors\":[{", 12) == 0 &&
           strstr(res->body, want) != NULL;
}

/* test_body_digest: "sha256:<hex>" of the result's body bytes, into out. */
static inline void test_body_digest(const struct http_fake_result *res, char *out, size_t cap)
{
    struct digest d;

    if (digest_of(&d, res->body, res->body_len) < 0)
        test_registry_die("digest", NULL);
    digest_format(&d, out, cap);
}

/* test_digest_str: "sha256:<hex>" of len bytes at p, into out. */
static inline void test_digest_str(const void *p, size_t len, char *out, size_t cap)
{
    struct digest d;

    if (digest_of(&d, p, len) < 0)
        test_registry_die("digest", NULL);
    digest_format(&d, out, cap);
}

/* test_push_blob uploads data to repo in one POST ?digest= as auth; returns the status and
 * writes the digest into dstr (DIGEST_STR_LEN + 1 bytes). */
static inline unsigned test_push_blob(struct test_registry *t, const char *auth, const char *repo,
                                      const void *data, size_t len, char *dstr)
{
    struct http_fake_result res;
    char target[512];
    unsigned status;

    test_digest_str(data, len, dstr, DIGEST_STR_LEN + 1);
    if (snprintf(target, sizeof(target), "/v2/%s/blobs/uploads/?digest=%s", repo, dstr) >=
        (int)sizeof(target))
        test_registry_die("push: name too long", NULL);
    test_v2(&res, t, "POST", target, auth, data, len, 0, TEST_HDR_END);
    status = res.status;
    http_fake_result_cleanup(&res);
    return status;
}

/* test_push_manifest PUTs body to /v2/<repo>/manifests/<ref> (ref may carry "?tag=...") with
 * Content-Type ctype as auth; returns the status and writes the body's digest into dstr. */
static inline unsigned test_push_manifest(struct test_registry *t, const char *auth,
                                          const char *repo, const char *ref, const char *body,
                                          const char *ctype, char *dstr)
{
    struct http_fake_result res;
    char target[512];
    unsigned status;

    test_digest_str(body, strlen(body), dstr, DIGEST_STR_LEN + 1);
    if (snprintf(target, sizeof(target), "/v2/%s/manifests/%s", repo, ref) >= (int)sizeof(target))
        test_registry_die("push: name too long", NULL);
    test_v2(&res, t, "PUT", target, auth, body, strlen(body), 0, "Content-Type", ctype,
            TEST_HDR_END);
    status = res.status;
    http_fake_result_cleanup(&res);
    return status;
}

#endif
