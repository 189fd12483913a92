/* keyring.c - kubelet's credential keyring (pkg/credentialprovider), rewritten in C: the store
 * of credentials per normalized key, and the lookup that picks them for an image.
 *
 * Key normalization (BasicDockerKeyring.Add) and matching (URLsMatchStr, isDefaultRegistryMatch)
 * live in keyring_match.c, on top of its port of Go's net/url and path/filepath.Match; this file
 * calls them through keyring.h.
 * Invariants:
 *   1. Each sub-keyring's keys are unique and kept in reverse strcmp order (Go compares strings
 *      bytewise, as strcmp does), so a lookup walks them most specific first.
 *   2. Credentials under one key stay in the order they were added.
 *   3. Stored passwords are wiped (OPENSSL_cleanse) before their memory is freed, and never
 *      appear in a source string, a log line or an error message.
 *   4. A key is at most KEY_MAX bytes (keyring_int.h); longer ones are treated as unparseable.
 * Not thread-safe; no global state. */
#include "puller/keyring.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/mem.h"
#include "puller/credhelper.h"
#include "puller/keyring_int.h"

#define DEFAULT_REGISTRY_HOST "index.docker.io"

struct kentry {
    char *username; /* NULL for a helper entry */
    char *password;
    char *source;
    char *helper; /* helper name, or NULL */
    char *server; /* raw key given to the helper, or NULL */
};

struct kkey {
    char *key;
    struct kentry *v;
    size_t n, cap;
};

struct ksub {
    struct kkey *keys;
    size_t n, cap;
};

struct keyring {
    struct ksub sub[2]; /* [SECRET_POD], [SECRET_NODE] */
    size_t total;
};

/* ---- the keyring ----------------------------------------------------------------------- */

static void wipe_free(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        mem_free(s);
    }
}

static void kentry_cleanup(struct kentry *e)
{
    wipe_free(e->username);
    wipe_free(e->password);
    mem_free(e->source);
    mem_free(e->helper);
    mem_free(e->server);
    memset(e, 0, sizeof(*e));
}

int keyring_new(struct keyring **out, struct berr *err)
{
    *out = mem_calloc(1, sizeof(**out));
    if (*out == NULL)
        return berr_sys(err, ENOMEM, "keyring_new");
    return 0;
}

void keyring_free(struct keyring *k)
{
    if (k == NULL)
        return;
    for (size_t s = 0; s < 2; s++) {
        struct ksub *sub = &k->sub[s];
        for (size_t i = 0; i < sub->n; i++) {
            for (size_t j = 0; j < sub->keys[i].n; j++)
                kentry_cleanup(&sub->keys[i].v[j]);
            mem_free(sub->keys[i].v);
            mem_free(sub->keys[i].key);
        }
        mem_free(sub->keys);
    }
    mem_free(k);
}

size_t keyring_count(const struct keyring *k)
{
    return k->total;
}

/* find_or_insert returns the key slot for key, inserting it in reverse strcmp order. */
static struct kkey *find_or_insert(struct ksub *sub, const char *key)
{
    size_t i;
    int c = 1;
    char *dup;

    for (i = 0; i < sub->n; i++) {
        c = strcmp(sub->keys[i].key, key);
        if (c <= 0)
            break;
    }
    if (i < sub->n && c == 0)
        return &sub->keys[i];
    if (sub->n == sub->cap) {
        size_t ncap = sub->cap ? sub->cap * 2 : 8;
        struct kkey *nv = mem_realloc(sub->keys, ncap * sizeof(*nv));
        if (nv == NULL)
            return NULL;
        sub->keys = nv;
        sub->cap = ncap;
    }
    dup = mem_strdup(key);
    if (dup == NULL)
        return NULL;
    memmove(&sub->keys[i + 1], &sub->keys[i], (sub->n - i) * sizeof(sub->keys[0]));
    memset(&sub->keys[i], 0, sizeof(sub->keys[i]));
    sub->keys[i].key = dup;
    sub->n++;
    return &sub->keys[i];
}

/* add_entry takes the strings in *e (freed on failure too). */
static int add_entry(struct keyring *k, enum secret_origin origin, const char *registry_key,
                     struct kentry *e, struct berr *err)
{
    char key[KEY_MAX + 1];
    struct kkey *slot;
    int rc;

    if (origin != SECRET_POD && origin != SECRET_NODE) {
        rc = berr_set(err, BERR_INTERNAL, "keyring: bad origin");
        goto fail;
    }
    rc = keyring_normalize_key(key, sizeof(key), registry_key);
    if (rc != 0) {
        if (rc < 0)
            rc = berr_set(err, BERR_BAD_REQUEST, "registry key too long");
        goto fail;
    }
    if (k->total >= KEYRING_MAX_CREDS) {
        rc = berr_set(err, BERR_BAD_REQUEST, "more than %d registry credentials",
                      KEYRING_MAX_CREDS);
        goto fail;
    }
    slot = find_or_insert(&k->sub[origin], key);
    if (slot == NULL) {
        rc = berr_sys(err, ENOMEM, "keyring_add");
        goto fail;
    }
    if (slot->n == slot->cap) {
        size_t ncap = slot->cap ? slot->cap * 2 : 2;
        struct kentry *nv = mem_realloc(slot->v, ncap * sizeof(*nv));
        if (nv == NULL) {
            rc = berr_sys(err, ENOMEM, "keyring_add");
            goto fail;
        }
        slot->v = nv;
        slot->cap = ncap;
    }
    slot->v[slot->n++] = *e;
    k->total++;
    return 0;
fail:
    /* an empty key slot left by a failed append is harmless: it matches, contributes nothing */
    kentry_cleanup(e);
    return rc;
}

int keyring_add(struct keyring *k, enum secret_origin origin, const char *registry_key,
                const char *username, const char *password, const char *source, struct berr *err)
{
    struct kentry e = {0};

    e.username = mem_strdup(username != NULL ? username : "");
    e.password = mem_strdup(password != NULL ? password : "");
    e.source = mem_strdup(source != NULL ? source : "");
    if (e.username == NULL || e.password == NULL || e.source == NULL) {
        kentry_cleanup(&e);
        return berr_sys(err, ENOMEM, "keyring_add");
    }
    return add_entry(k, origin, registry_key, &e, err);
}

int keyring_add_helper(struct keyring *k, enum secret_origin origin, const char *registry_key,
                       const char *helper_name, const char *source, struct berr *err)
{
    struct kentry e = {0};

    if (!credhelper_name_valid(helper_name))
        return berr_set(err, BERR_BAD_REQUEST, "invalid credential helper name");
    e.helper = mem_strdup(helper_name);
    e.server = mem_strdup(registry_key);
    e.source = mem_strdup(source != NULL ? source : "");
    if (e.helper == NULL || e.server == NULL || e.source == NULL) {
        kentry_cleanup(&e);
        return berr_sys(err, ENOMEM, "keyring_add_helper");
    }
    return add_entry(k, origin, registry_key, &e, err);
}

void cred_list_cleanup(struct cred_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        wipe_free(l->v[i].username);
        wipe_free(l->v[i].password);
        mem_free(l->v[i].source);
    }
    mem_free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* append_cred takes username and password (wiped and freed on failure). */
static int append_cred(struct cred_list *l, size_t *cap, char *username, char *password,
                       const char *source, struct berr *err)
{
    char *src = mem_strdup(source);

    if (src == NULL || username == NULL || password == NULL)
        goto fail;
    if (l->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        struct cred *nv = mem_realloc(l->v, ncap * sizeof(*nv));
        if (nv == NULL)
            goto fail;
        l->v = nv;
        *cap = ncap;
    }
    l->v[l->n].username = username;
    l->v[l->n].password = password;
    l->v[l->n].source = src;
    l->n++;
    return 0;
fail:
    mem_free(src);
    wipe_free(username);
    wipe_free(password);
    return berr_sys(err, ENOMEM, "keyring_lookup");
}

static int resolve_entry(struct cred_list *out, size_t *cap, const struct kentry *e,
                         struct berr *err)
{
    char *user = NULL, *secret = NULL;
    int r;

    if (e->helper == NULL)
        return append_cred(out, cap, mem_strdup(e->username), mem_strdup(e->password), e->source,
                           err);
    r = credhelper_get(&user, &secret, e->helper, e->server, 0, err);
    if (r < 0)
        return -1;
    if (r == CREDHELPER_NOT_FOUND)
        return 0;
    if (r == CREDHELPER_IDENTITY_TOKEN) {
        log_msg(LOG_WARN,
                "%s: docker-credential-%s returned an identity token; kubelet-style pulls use "
                "only username/password, so it is skipped",
                e->source, e->helper);
        wipe_free(user);
        wipe_free(secret);
        return 0;
    }
    return append_cred(out, cap, user, secret, e->source, err);
}

static int lookup_sub(struct cred_list *out, size_t *cap, const struct ksub *sub, const char *image,
                      struct berr *err)
{
    bool matched = false;

    for (size_t i = 0; i < sub->n; i++) {
        if (!keyring_urls_match(sub->keys[i].key, image))
            continue;
        matched = true;
        for (size_t j = 0; j < sub->keys[i].n; j++)
            if (resolve_entry(out, cap, &sub->keys[i].v[j], err) < 0)
                return -1;
    }
    if (matched || !keyring_is_default_registry(image))
        return 0;
    for (size_t i = 0; i < sub->n; i++) {
        if (strcmp(sub->keys[i].key, DEFAULT_REGISTRY_HOST) != 0)
            continue;
        for (size_t j = 0; j < sub->keys[i].n; j++)
            if (resolve_entry(out, cap, &sub->keys[i].v[j], err) < 0)
                return -1;
    }
    return 0;
}

int keyring_lookup(struct cred_list *out, struct keyring *k, const char *keyring_name,
                   struct berr *err)
{
    size_t cap = 0;

    out->v = NULL;
    out->n = 0;
    if (lookup_sub(out, &cap, &k->sub[SECRET_POD], keyring_name, err) < 0 ||
        lookup_sub(out, &cap, &k->sub[SECRET_NODE], keyring_name, err) < 0) {
        cred_list_cleanup(out);
        return -1;
    }
    return 0;
}
