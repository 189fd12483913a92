/* secrets.c - turning Kubernetes Secrets and docker config files into keyring entries.
 *
 * Every input becomes a jansson tree first: JSON through jansson, YAML (several documents per
 * file) through secrets_yaml.c, which hands each document back to secrets_load_doc. Then one
 * walker handles Secret, List and docker-config shapes, and one decoder handles kubelet's
 * DockerConfigEntry (config.go) and DockerConfigJSON:
 *   1. Field names inside .dockerconfigjson / .dockercfg / config.json are matched
 *      case-insensitively (ASCII) and the last occurrence wins, as Go's encoding/json does;
 *      Secret manifest fields are matched exactly, as the API server does.
 *   2. A non-empty `auth` overrides username and password; it is base64, padded when the trimmed
 *      field ends in '=', else unpadded; '\r' and '\n' are skipped as Go's decoder skips them.
 *   3. Only secrets of type kubernetes.io/dockerconfigjson with a non-empty .dockerconfigjson
 *      and kubernetes.io/dockercfg with a non-empty .dockercfg contribute; others are ignored.
 *   4. Decoded secret material is wiped before it is freed and never reaches a log line or an
 *      error message; sources and errors name files, secrets and registry keys only.
 * No global state; safe to call from several threads on different keyrings. */
#include "puller/secrets.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "puller/secrets_yaml.h"

#define LIST_MAX_DEPTH 8
#define TYPE_DOCKERCONFIGJSON "kubernetes.io/dockerconfigjson"
#define TYPE_DOCKERCFG "kubernetes.io/dockercfg"
#define KEY_DOCKERCONFIGJSON ".dockerconfigjson"
#define KEY_DOCKERCFG ".dockercfg"

struct lctx {
    struct keyring *k;
    enum secret_origin origin;
    bool verbose;
    const char *label; /* file name, for sources and errors */
    size_t added;      /* entries added from this input */
};

/* What the entries being decoded belong to, for sources and error messages. */
struct where {
    const char *what;   /* "secret regcred", "docker config", "dockercfg" */
    const char *field;  /* ".dockerconfigjson", ".dockercfg", NULL */
    const char *helper; /* credsStore for config.json, else NULL */
    json_t *helpers;    /* credHelpers object for config.json, else NULL */
};

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s != NULL ? s + 1 : path;
}

/* secrets_fail formats "<file>: <what>: <field>: <detail>" into err as BERR_BAD_REQUEST, using
 * the file's base name when the full path would not fit the message (w may be NULL). Returns
 * -1. */
static int secrets_fail(const struct lctx *c, const struct where *w, struct berr *err,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int secrets_fail(const struct lctx *c, const struct where *w, struct berr *err,
                        const char *fmt, ...)
{
    char detail[256], head[512];
    const char *label = c->label;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if (n < 0)
        detail[0] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        if (w != NULL && w->field != NULL)
            n = snprintf(head, sizeof(head), "%s: %s: key %s", label, w->what, w->field);
        else if (w != NULL)
            n = snprintf(head, sizeof(head), "%s: %s", label, w->what);
        else
            n = snprintf(head, sizeof(head), "%s", label);
        if (n < 0)
            head[0] = '\0';
        if (n >= 0 && (size_t)n + 2 + strlen(detail) < sizeof(err->msg))
            break;
        label = base_name(c->label);
    }
    /* berr_set cuts an over-long message; the file, secret and key come first */
    return berr_set(err, BERR_BAD_REQUEST, "%s: %s", head, detail);
}

static void note(const struct lctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const struct lctx *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    int n;

    if (!c->verbose)
        return;
    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    log_msg(LOG_INFO, "%s: %s", c->label, msg);
}

static void wipe_free(char *p, size_t len)
{
    if (p != NULL) {
        OPENSSL_cleanse(p, len);
        mem_free(p);
    }
}

/* ---- base64 (Go's StdEncoding / RawStdEncoding, newlines skipped) ---------------------- */

static bool b64_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '+' || ch == '/';
}

/* b64_decode: *out is new (wipe_free with *out_len + 1 bytes... see below), NUL-terminated.
 * padded selects StdEncoding, else RawStdEncoding. -1 with errno EINVAL for bad input,
 * ENOMEM when out of memory. */
static int b64_decode(char **out, size_t *out_len, const char *in, size_t len, bool padded)
{
    char *clean = NULL, *dec = NULL;
    size_t n = 0, pad = 0, i, cap;
    int got, rc = -1;

    *out = NULL;
    *out_len = 0;
    clean = mem_malloc(len + 4);
    if (clean == NULL)
        return -1;
    for (i = 0; i < len; i++)
        if (in[i] != '\r' && in[i] != '\n')
            clean[n++] = in[i];
    if (padded) {
        while (pad < 2 && pad < n && clean[n - 1 - pad] == '=')
            pad++;
        if (n % 4 != 0)
            goto inval;
    } else if (n % 4 == 1) {
        goto inval;
    }
    for (i = 0; i < n - pad; i++)
        if (!b64_char(clean[i]))
            goto inval;
    if (!padded) {
        while (n % 4 != 0) {
            clean[n++] = '=';
            pad++;
        }
    }
    cap = n / 4 * 3 + 1;
    dec = mem_malloc(cap);
    if (dec == NULL)
        goto out;
    if (n > 0) {
        if (n > (size_t)INT32_MAX)
            goto inval;
        got = EVP_DecodeBlock((unsigned char *)dec, (const unsigned char *)clean, (int)n);
        if (got < 0 || (size_t)got < pad)
            goto inval;
        n = (size_t)got - pad;
    }
    dec[n] = '\0';
    *out = dec;
    *out_len = n;
    dec = NULL;
    rc = 0;
    goto out;
inval:
    errno = EINVAL;
out:
    wipe_free(clean, len + 4);
    if (dec != NULL)
        wipe_free(dec, cap);
    return rc;
}

/* ---- kubelet's DockerConfigEntry and DockerConfigJSON ---------------------------------- */

/* get_ci finds the last member whose name equals name ignoring ASCII case (Go's json matching).
 * Sets *found; the value may be NULL-json. */
static json_t *get_ci(json_t *obj, const char *name, bool *found)
{
    const char *key;
    json_t *v, *last = NULL;

    *found = false;
    json_object_foreach(obj, key, v)
    {
        if (strcasecmp(key, name) == 0) {
            last = v;
            *found = true;
        }
    }
    return last;
}

/* str_field reads an optional string field; json null keeps "" (Go leaves the zero value). */
static int str_field(const char **out, json_t *obj, const char *name)
{
    bool found;
    json_t *v = get_ci(obj, name, &found);

    *out = "";
    if (!found || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    *out = json_string_value(v);
    return 0;
}

static bool has_nul(const char *s, size_t len)
{
    return memchr(s, '\0', len) != NULL;
}

static int add_entry(struct lctx *c, const struct where *w, const char *reg_key, json_t *entry,
                     struct berr *err)
{
    const char *user = "", *pass = "", *email = "", *auth = "", *helper = NULL;
    char source[768], *dec = NULL, *colon;
    size_t dec_len = 0, tl;
    bool padded;
    json_t *h;
    int rc, n;

    if (!json_is_null(entry) && !json_is_object(entry))
        return secrets_fail(c, w, err, "entry %s is not an object", reg_key);
    if (json_is_object(entry) &&
        (str_field(&user, entry, "username") < 0 || str_field(&pass, entry, "password") < 0 ||
         str_field(&email, entry, "email") < 0 || str_field(&auth, entry, "auth") < 0))
        return secrets_fail(
                c, w, err, "entry %s: username, password, email and auth must be strings", reg_key);
    /* docker: credHelpers[exact key] first, then credsStore, then the stored entry */
    h = w->helpers != NULL ? json_object_get(w->helpers, reg_key) : NULL;
    if (json_is_string(h))
        helper = json_string_value(h);
    if (helper == NULL && w->helper != NULL)
        helper = w->helper;
    if (auth[0] != '\0') {
        tl = strlen(auth);
        while (tl > 0 && strchr(" \t\r\n\v\f", auth[tl - 1]) != NULL)
            tl--;
        padded = tl > 0 && auth[tl - 1] == '=';
        if (b64_decode(&dec, &dec_len, auth, strlen(auth), padded) < 0) {
            if (errno == ENOMEM)
                return berr_sys(err, ENOMEM, "secrets: base64");
            return secrets_fail(c, w, err, "entry %s: auth is not valid base64", reg_key);
        }
        colon = memchr(dec, ':', dec_len);
        if (colon == NULL) {
            wipe_free(dec, dec_len + 1);
            return secrets_fail(
                    c, w, err, "entry %s: auth has no ':' (want base64 of user:password)", reg_key);
        }
        if (has_nul(dec, dec_len)) {
            wipe_free(dec, dec_len + 1);
            return secrets_fail(c, w, err, "entry %s: auth holds a NUL byte", reg_key);
        }
        *colon = '\0';
        user = dec;
        pass = colon + 1;
    }
    if (w->field != NULL)
        n = snprintf(source, sizeof(source), "%s (file %s, key %s) registry %s", w->what, c->label,
                     w->field, reg_key);
    else
        n = snprintf(source, sizeof(source), "%s (file %s) registry %s", w->what, c->label,
                     reg_key);
    if (n < 0 || (size_t)n >= sizeof(source))
        n = snprintf(source, sizeof(source), "%s (file %s) registry %.200s", w->what,
                     base_name(c->label), reg_key);
    if (n < 0)
        source[0] = '\0';
    if (helper != NULL) {
        char hsrc[800];
        n = snprintf(hsrc, sizeof(hsrc), "credential helper docker-credential-%s for %s", helper,
                     source);
        if (n < 0 || (size_t)n >= sizeof(hsrc))
            memcpy(hsrc, source, strlen(source) + 1);
        rc = keyring_add_helper(c->k, c->origin, reg_key, helper, hsrc, err);
    } else {
        rc = keyring_add(c->k, c->origin, reg_key, user, pass, source, err);
    }
    if (dec != NULL)
        wipe_free(dec, dec_len + 1);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        note(c, "%s: registry key %s does not parse as a URL; ignored, as kubelet does", w->what,
             reg_key);
        return 0;
    }
    c->added++;
    return 0;
}

/* add_map adds every entry of a DockerConfig map (registry key -> entry). */
static int add_map(struct lctx *c, const struct where *w, json_t *map, struct berr *err)
{
    const char *key;
    json_t *v;

    if (map == NULL || json_is_null(map))
        return 0;
    if (!json_is_object(map))
        return secrets_fail(c, w, err, "expected a map of registry -> credentials");
    json_object_foreach(map, key, v)
    {
        if (add_entry(c, w, key, v, err) < 0)
            return -1;
    }
    return 0;
}

/* add_config_json reads DockerConfigJSON ({"auths":..., "HttpHeaders":...}); with docker set,
 * also credHelpers and credsStore (docker's config.json, not something kubelet reads). */
static int add_config_json(struct lctx *c, struct where *w, json_t *root, bool docker,
                           struct berr *err)
{
    json_t *auths, *hh, *helpers = NULL, *store = NULL, *v;
    const char *key;
    bool found;

    if (json_is_null(root))
        return 0;
    if (!json_is_object(root))
        return secrets_fail(c, w, err, "expected a JSON object with \"auths\"");
    hh = get_ci(root, "HttpHeaders", &found);
    if (found && !json_is_null(hh)) {
        if (!json_is_object(hh))
            return secrets_fail(c, w, err, "HttpHeaders must be a map of strings");
        json_object_foreach(hh, key, v)
        {
            if (!json_is_string(v))
                return secrets_fail(c, w, err, "HttpHeaders must be a map of strings");
        }
    }
    if (docker) {
        helpers = get_ci(root, "credHelpers", &found);
        if (found && !json_is_null(helpers) && !json_is_object(helpers))
            return secrets_fail(c, w, err, "credHelpers must be a map of registry -> helper name");
        if (json_is_null(helpers))
            helpers = NULL;
        store = get_ci(root, "credsStore", &found);
        if (found && !json_is_null(store) && !json_is_string(store))
            return secrets_fail(c, w, err, "credsStore must be a string");
        if (json_is_string(store) && json_string_length(store) > 0)
            w->helper = json_string_value(store);
        w->helpers = helpers;
    }
    auths = get_ci(root, "auths", &found);
    if (add_map(c, w, found ? auths : NULL, err) < 0)
        return -1;
    if (helpers != NULL) {
        json_object_foreach(helpers, key, v)
        {
            char source[768];
            int rc, n;
            if (!json_is_string(v))
                return secrets_fail(c, w, err, "credHelpers[%s] must be a helper name", key);
            if (found && json_is_object(auths) && json_object_get(auths, key) != NULL)
                continue; /* already added from auths, through this helper */
            n = snprintf(source, sizeof(source),
                         "credential helper docker-credential-%s (file %s) registry %s",
                         json_string_value(v), c->label, key);
            if (n < 0 || (size_t)n >= sizeof(source))
                n = snprintf(source, sizeof(source), "credential helper (file %s) registry",
                             base_name(c->label));
            if (n < 0)
                source[0] = '\0';
            rc = keyring_add_helper(c->k, c->origin, key, json_string_value(v), source, err);
            if (rc < 0 && err != NULL && err->code == BERR_BAD_REQUEST)
                return secrets_fail(c, w, err, "credHelpers[%s]: invalid helper name", key);
            if (rc < 0)
                return rc;
            if (rc == 1)
                note(c, "credHelpers key %s does not parse as a URL; ignored", key);
            else
                c->added++;
        }
    }
    return 0;
}

/* parse_json_bytes parses decoded secret data as Go's json.Unmarshal would accept it. */
static int parse_json_bytes(json_t **out, struct lctx *c, const struct where *w, const char *s,
                            size_t len, struct berr *err)
{
    json_error_t jerr;

    *out = json_loadb(s, len, JSON_DECODE_ANY, &jerr);
    if (*out == NULL)
        return secrets_fail(c, w, err, "invalid JSON at line %d: %s", jerr.line, jerr.text);
    return 0;
}

/* ---- Secret manifests -------------------------------------------------------------------- */

static const char *str_or(json_t *v, const char *dflt)
{
    return json_is_string(v) ? json_string_value(v) : dflt;
}

/* secret_value finds key in stringData (plain) or data (base64); *out is new (wipe_free) or
 * NULL when absent. */
static int secret_value(char **out, size_t *out_len, struct lctx *c, const struct where *w,
                        json_t *secret, const char *key, struct berr *err)
{
    json_t *sd = json_object_get(secret, "stringData"), *d = json_object_get(secret, "data");
    json_t *v;

    *out = NULL;
    *out_len = 0;
    if (sd != NULL && !json_is_null(sd) && !json_is_object(sd))
        return secrets_fail(c, w, err, "stringData is not a map");
    if (d != NULL && !json_is_null(d) && !json_is_object(d))
        return secrets_fail(c, w, err, "data is not a map");
    v = json_object_get(sd, key);
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v))
            return secrets_fail(c, w, err, "stringData value is not a string");
        *out = mem_strndup(json_string_value(v), json_string_length(v));
        if (*out == NULL)
            return berr_sys(err, ENOMEM, "secrets: stringData");
        *out_len = json_string_length(v);
        return 0;
    }
    v = json_object_get(d, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return secrets_fail(c, w, err, "data value is not a base64 string");
    if (b64_decode(out, out_len, json_string_value(v), json_string_length(v), true) < 0) {
        if (errno == ENOMEM)
            return berr_sys(err, ENOMEM, "secrets: base64");
        return secrets_fail(c, w, err, "data value is not valid base64");
    }
    return 0;
}

static int load_secret(struct lctx *c, json_t *secret, size_t index, struct berr *err)
{
    json_t *meta = json_object_get(secret, "metadata");
    const char *name = str_or(json_object_get(meta, "name"), NULL);
    const char *type = str_or(json_object_get(secret, "type"), "Opaque");
    char what[320];
    struct where w = {what, NULL, NULL, NULL};
    char *val = NULL;
    size_t len = 0;
    json_t *root = NULL;
    bool modern;
    int rc, n;

    if (name != NULL)
        n = snprintf(what, sizeof(what), "secret %.256s", name);
    else
        n = snprintf(what, sizeof(what), "secret #%zu (unnamed)", index + 1);
    if (n < 0)
        what[0] = '\0';
    if (strcmp(type, TYPE_DOCKERCONFIGJSON) == 0)
        modern = true;
    else if (strcmp(type, TYPE_DOCKERCFG) == 0)
        modern = false;
    else {
        note(c, "%s of type %s ignored (kubelet reads only %s and %s)", what, type,
             TYPE_DOCKERCONFIGJSON, TYPE_DOCKERCFG);
        return 0;
    }
    w.field = modern ? KEY_DOCKERCONFIGJSON : KEY_DOCKERCFG;
    rc = secret_value(&val, &len, c, &w, secret, w.field, err);
    if (rc < 0)
        goto out;
    if (val == NULL || len == 0) {
        note(c, "%s has no %s; ignored, as kubelet does", what, w.field);
        goto out;
    }
    rc = parse_json_bytes(&root, c, &w, val, len, err);
    if (rc < 0)
        goto out;
    if (modern)
        rc = add_config_json(c, &w, root, false, err);
    else
        rc = add_map(c, &w, root, err);
out:
    json_decref(root);
    if (val != NULL)
        wipe_free(val, len + 1);
    return rc;
}

static int secrets_load_doc(struct lctx *c, json_t *doc, size_t index, int depth, struct berr *err);

static int load_list(struct lctx *c, json_t *items, int depth, struct berr *err)
{
    size_t i;
    json_t *v;

    if (json_is_null(items) || items == NULL)
        return 0;
    if (!json_is_array(items))
        return secrets_fail(c, NULL, err, "List items is not a sequence");
    json_array_foreach(items, i, v)
    {
        if (secrets_load_doc(c, v, i, depth + 1, err) < 0)
            return -1;
    }
    return 0;
}

/* A plain map of registry -> object (a ~/.dockercfg) versus a docker config.json. */
static bool looks_like_dockercfg(json_t *root)
{
    const char *key;
    json_t *v;

    if (json_object_size(root) == 0)
        return false;
    json_object_foreach(root, key, v)
    {
        if (!json_is_object(v) && !json_is_null(v))
            return false;
        if (strcasecmp(key, "HttpHeaders") == 0 || strcasecmp(key, "proxies") == 0 ||
            strcasecmp(key, "plugins") == 0 || strcasecmp(key, "aliases") == 0)
            return false;
    }
    return true;
}

/* secrets_load_doc adds what one parsed document holds (a Secret, a List of them, a docker
 * config or a bare .dockercfg map) to the keyring of c. doc is borrowed; index numbers the
 * document in its file for messages; depth counts enclosing Lists (0 at the top). */
static int secrets_load_doc(struct lctx *c, json_t *doc, size_t index, int depth, struct berr *err)
{
    json_t *kind;
    bool found;

    if (depth > LIST_MAX_DEPTH)
        return secrets_fail(c, NULL, err, "Lists nested too deeply");
    if (json_is_null(doc))
        return 0;
    if (!json_is_object(doc))
        return secrets_fail(c, NULL, err, "document %zu is not a mapping", index + 1);
    kind = json_object_get(doc, "kind");
    if (kind != NULL) {
        const char *k = str_or(kind, "");
        size_t kl = strlen(k);
        if (strcmp(k, "Secret") == 0)
            return load_secret(c, doc, index, err);
        if (kl >= 4 && strcmp(k + kl - 4, "List") == 0)
            return load_list(c, json_object_get(doc, "items"), depth, err);
        note(c, "document %zu of kind %s ignored", index + 1, k);
        return 0;
    }
    if (get_ci(doc, "auths", &found), found)
        goto docker;
    if (get_ci(doc, "credHelpers", &found), found)
        goto docker;
    if (get_ci(doc, "credsStore", &found), found)
        goto docker;
    if (looks_like_dockercfg(doc)) {
        struct where w = {"dockercfg", NULL, NULL, NULL};
        return add_map(c, &w, doc, err);
    }
docker : {
    struct where w = {"docker config", NULL, NULL, NULL};
    return add_config_json(c, &w, doc, true, err);
}
}

/* ---- entry points ------------------------------------------------------------------------ */

static size_t skip_ws(const char *data, size_t len)
{
    size_t i = 0;

    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len && strchr(" \t\r\n", data[i]) != NULL && data[i] != '\0')
        i++;
    return i;
}

static int yaml_doc(json_t *doc, size_t index, struct berr *err, void *ctx)
{
    return secrets_load_doc(ctx, doc, index, 0, err);
}

/* secrets_load_yaml feeds every YAML document of data to secrets_load_doc; a stream that is not
 * YAML Berth can read is BERR_BAD_REQUEST naming the input */
static int secrets_load_yaml(struct lctx *c, const char *data, size_t len, struct berr *err)
{
    char why[200];
    int rc = secrets_yaml_each(data, len, yaml_doc, c, why, sizeof(why), err);

    if (rc == SECRETS_YAML_BAD)
        return secrets_fail(c, NULL, err, "%s", why);
    return rc;
}

static int load_buffer(struct lctx *c, const char *data, size_t len, struct berr *err)
{
    size_t i = skip_ws(data, len);
    json_error_t jerr;
    json_t *root;
    int rc;

    if (i < len && (data[i] == '{' || data[i] == '[')) {
        root = json_loadb(data, len, 0, &jerr);
        if (root != NULL) {
            if (json_is_array(root))
                rc = load_list(c, root, 0, err);
            else
                rc = secrets_load_doc(c, root, 0, 0, err);
            json_decref(root);
            return rc;
        }
        /* not JSON: maybe a YAML flow mapping; report the JSON error if YAML fails too */
        rc = secrets_load_yaml(c, data, len, err);
        if (rc < 0 && err != NULL && err->code == BERR_BAD_REQUEST)
            return secrets_fail(c, NULL, err, "invalid JSON at line %d: %s", jerr.line, jerr.text);
        return rc;
    }
    return secrets_load_yaml(c, data, len, err);
}

int secrets_load_buffer(struct keyring *k, const char *data, size_t len, const char *label,
                        enum secret_origin origin, bool verbose, struct berr *err)
{
    struct lctx c = {k, origin, verbose, label != NULL ? label : "(input)", 0};
    int rc;

    rc = load_buffer(&c, data, len, err);
    if (rc == 0 && c.added == 0)
        note(&c, "no registry credentials found");
    return rc;
}

int secrets_load_file(struct keyring *k, const char *path, enum secret_origin origin, bool verbose,
                      struct berr *err)
{
    struct lctx c = {k, origin, verbose, path, 0};
    char *data = NULL;
    size_t len = 0;
    int rc;

    if (read_file(&data, &len, path, SECRETS_FILE_MAX_BYTES) < 0) {
        if (errno == EFBIG)
            return secrets_fail(&c, NULL, err, "larger than %u bytes", SECRETS_FILE_MAX_BYTES);
        if (errno == ENOENT)
            return secrets_fail(&c, NULL, err, "no such file");
        if (errno == EACCES)
            return secrets_fail(&c, NULL, err, "permission denied");
        return secrets_fail(&c, NULL, err, "cannot read: %s", strerror(errno));
    }
    rc = secrets_load_buffer(k, data, len, path, origin, verbose, err);
    wipe_free(data, len + 1);
    return rc;
}

/* load_node_file: 1 when path does not exist, 0 loaded, -1 error. dockercfg selects the bare
 * legacy map format. */
static int load_node_file(struct keyring *k, const char *path, bool dockercfg, bool verbose,
                          struct berr *err)
{
    struct lctx c = {k, SECRET_NODE, verbose, path, 0};
    struct where w = {dockercfg ? "dockercfg" : "docker config", NULL, NULL, NULL};
    char *data = NULL;
    size_t len = 0;
    json_error_t jerr;
    json_t *root = NULL;
    int rc;

    if (read_file(&data, &len, path, SECRETS_FILE_MAX_BYTES) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 1;
        if (errno == EFBIG)
            return secrets_fail(&c, NULL, err, "larger than %u bytes", SECRETS_FILE_MAX_BYTES);
        return secrets_fail(&c, NULL, err, "cannot read: %s", strerror(errno));
    }
    root = json_loadb(data, len, JSON_DECODE_ANY, &jerr);
    if (root == NULL) {
        rc = secrets_fail(&c, NULL, err, "invalid JSON at line %d: %s", jerr.line, jerr.text);
        goto out;
    }
    if (dockercfg)
        rc = add_map(&c, &w, root, err);
    else
        rc = add_config_json(&c, &w, root, true, err);
    if (rc == 0)
        note(&c, "%zu node credential entr%s", c.added, c.added == 1 ? "y" : "ies");
out:
    json_decref(root);
    wipe_free(data, len + 1);
    return rc;
}

int secrets_load_docker_config(struct keyring *k, bool verbose, struct berr *err)
{
    const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
    char path[4096];
    int n, rc;

    if (dir != NULL && dir[0] != '\0')
        n = snprintf(path, sizeof(path), "%s/config.json", dir);
    else if (home != NULL && home[0] != '\0')
        n = snprintf(path, sizeof(path), "%s/.docker/config.json", home);
    else
        return 0;
    if (n < 0 || (size_t)n >= sizeof(path))
        return berr_set(err, BERR_BAD_REQUEST, "DOCKER_CONFIG or HOME path too long");
    rc = load_node_file(k, path, false, verbose, err);
    if (rc <= 0)
        return rc;
    if (home == NULL || home[0] == '\0')
        return 0;
    n = snprintf(path, sizeof(path), "%s/.dockercfg", home);
    if (n < 0 || (size_t)n >= sizeof(path))
        return berr_set(err, BERR_BAD_REQUEST, "HOME path too long");
    rc = load_node_file(k, path, true, verbose, err);
    return rc < 0 ? rc : 0;
}
