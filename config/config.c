/* config.c - defaults, the config file parser and validation, filling one struct berth_config.
 *
 * Every key is one row of `keys[]`: its name (the struct field's name), its kind and its
 * allowed range. config_set, config_load and config_validate all work from that table, so a
 * key cannot be parsed by one rule and checked by another. The rules:
 *   1. config_set either stores a value that passed its kind's parser and range, or fails and
 *      leaves the struct exactly as it was.
 *   2. Numbers are plain decimal ("0".."18446744073709551615" before the suffix): no sign, no
 *      leading space, no hex or octal; a multiplied value that overflows is an error, never a wrap.
 *   3. Strings never hold control characters and always fit their field with a NUL.
 *   4. config_load reports the first bad line as "FILE:LINE: why" and stops there; the values set
 *      by the lines before it stay set (the caller exits on error anyway).
 * File syntax: one "key = value" per line; blank lines and lines whose first non-blank character
 * is '#' are ignored; an unquoted value ends at a '#' that follows a blank (an inline comment);
 * a value in double quotes is taken verbatim (no escapes) and may hold '#' or surrounding blanks.
 * A trailing '\r' (CRLF files) is dropped. No shared state: reentrant. */
#include "config/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cidr.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/util.h"

/* A config file is a few kilobytes; anything far larger is a wrong path, not a config. */
#define CONFIG_FILE_MAX_BYTES ((size_t)1024 * 1024)
#define CONFIG_KEY_MAX 64

enum key_kind {
    KIND_STR,      /* free text without control characters (field checked in validate) */
    KIND_UINT,     /* unsigned, plain number */
    KIND_SIZE,     /* uint64_t, bytes, K/M/G suffix (binary) */
    KIND_DURATION, /* unsigned, seconds, s/m/h/d suffix */
    KIND_LOGLEVEL, /* debug|info|warn|error */
};

struct key_def {
    const char *name;
    enum key_kind kind;
    size_t offset;
    size_t size; /* sizeof the field: the capacity for strings */
    uint64_t min, max;
};

#define KiB (1024ULL)
#define MiB (1024ULL * 1024ULL)
#define GiB (1024ULL * 1024ULL * 1024ULL)
#define MINUTE_S 60ULL
#define HOUR_S 3600ULL
#define DAY_S 86400ULL

#define FIELD(f) offsetof(struct berth_config, f), sizeof(((struct berth_config *)0)->f)

static const struct key_def keys[] = {
        {"listen", KIND_STR, FIELD(listen), 1, 0},
        {"data_dir", KIND_STR, FIELD(data_dir), 1, 0},
        {"public_url", KIND_STR, FIELD(public_url), 0, 0},
        {"log_level", KIND_LOGLEVEL, FIELD(log_level), 0, 0},
        {"threads", KIND_UINT, FIELD(threads), 1, 1024},
        {"max_connections", KIND_UINT, FIELD(max_connections), 1, 1000000},
        {"per_ip_connections", KIND_UINT, FIELD(per_ip_connections), 0, 1000000},
        {"connection_timeout_s", KIND_DURATION, FIELD(connection_timeout_s), 1, DAY_S},
        {"manifest_max_bytes", KIND_SIZE, FIELD(manifest_max_bytes), 4 * KiB, 64 * MiB},
        {"chunk_min_bytes", KIND_SIZE, FIELD(chunk_min_bytes), 0, 1 * GiB},
        {"list_max", KIND_UINT, FIELD(list_max), 1, 100000},
        {"upload_purge_age_s", KIND_DURATION, FIELD(upload_purge_age_s), 1, 365 * DAY_S},
        {"gc_window_s", KIND_DURATION, FIELD(gc_window_s), 0, 30 * DAY_S},
        {"token_ttl_s", KIND_DURATION, FIELD(token_ttl_s), 1, DAY_S},
        {"token_service", KIND_STR, FIELD(token_service), 1, 0},
        {"token_issuer", KIND_STR, FIELD(token_issuer), 1, 0},
        {"robot_prefix", KIND_STR, FIELD(robot_prefix), 1, 0},
        {"login_fail_limit", KIND_UINT, FIELD(login_fail_limit), 1, 1000},
        {"login_check_slots", KIND_UINT, FIELD(login_check_slots), 0, 1024},
        {"login_check_queue", KIND_UINT, FIELD(login_check_queue), 0, 1024},
        {"login_check_wait_ms", KIND_UINT, FIELD(login_check_wait_ms), 0, 10000},
        {"session_max_per_user", KIND_UINT, FIELD(session_max_per_user), 1, 500},
        {"session_idle_s", KIND_DURATION, FIELD(session_idle_s), 1, DAY_S},
        {"session_lifetime_s", KIND_DURATION, FIELD(session_lifetime_s), 1, 30 * DAY_S},
        {"pull_flush_s", KIND_DURATION, FIELD(pull_flush_s), 1, HOUR_S},
        {"upload_sessions_max", KIND_UINT, FIELD(upload_sessions_max), 1, 1000000},
        {"trusted_proxies", KIND_STR, FIELD(trusted_proxies), 0, 0},
        {"tls_cert", KIND_STR, FIELD(tls_cert), 0, 0},
        {"tls_key", KIND_STR, FIELD(tls_key), 0, 0},
        {"pull_hourly_keep_s", KIND_DURATION, FIELD(pull_hourly_keep_s), HOUR_S, 3650 * DAY_S},
        {"pull_daily_keep_s", KIND_DURATION, FIELD(pull_daily_keep_s), 0, 36500u * DAY_S},
        {"pull_exclude_users", KIND_STR, FIELD(pull_exclude_users), 0, 0},
        {"pull_exclude_agents", KIND_STR, FIELD(pull_exclude_agents), 0, 0},
        {"metrics_access", KIND_STR, FIELD(metrics_access), 1, 0},
        {"metrics_listen", KIND_STR, FIELD(metrics_listen), 0, 0},
        {"metadata", KIND_STR, FIELD(metadata), 0, 0},
        {"blob_store", KIND_STR, FIELD(blob_store), 0, 0},
        {"s3_endpoint", KIND_STR, FIELD(s3_endpoint), 0, 0},
        {"s3_region", KIND_STR, FIELD(s3_region), 0, 0},
        {"s3_access_key", KIND_STR, FIELD(s3_access_key), 0, 0},
        {"s3_secret_key", KIND_STR, FIELD(s3_secret_key), 0, 0},
        {"redirect", KIND_STR, FIELD(redirect), 1, 0},
};
/* For KIND_STR rows, min is 1 when the value may not be empty; max is unused. */

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct key_def *key_find(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    }
    return NULL;
}

/* copy_str: *dst gets src when it fits (rule 3); the caller already checked characters. */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t len = strlen(src);

    if (len >= cap)
        len = cap - 1; /* unreachable: callers check the length first */
    memcpy(dst, src, len);
    dst[len] = '\0';
}

void config_defaults(struct berth_config *cfg)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = 4;

    memset(cfg, 0, sizeof(*cfg));
    copy_str(cfg->listen, sizeof(cfg->listen), "0.0.0.0:5000");
    copy_str(cfg->data_dir, sizeof(cfg->data_dir), "./data");
    copy_str(cfg->log_level, sizeof(cfg->log_level), "info");
    copy_str(cfg->redirect, sizeof(cfg->redirect), "false");
    /* request handlers block on disk and SQLite, so twice the cores keeps the CPUs busy */
    if (cores > 2 && cores <= 512)
        threads = (unsigned)cores * 2;
    cfg->threads = threads;
    cfg->max_connections = 1024;
    cfg->per_ip_connections = 0;
    cfg->connection_timeout_s = 300;
    cfg->manifest_max_bytes = 4 * MiB;
    cfg->chunk_min_bytes = 0;
    cfg->list_max = 1000;
    cfg->upload_purge_age_s = (unsigned)(7 * DAY_S);
    cfg->gc_window_s = (unsigned)(2 * HOUR_S);
    cfg->token_ttl_s = 1800;
    copy_str(cfg->token_service, sizeof(cfg->token_service), "berth-registry");
    copy_str(cfg->token_issuer, sizeof(cfg->token_issuer), "berth-token-issuer");
    copy_str(cfg->robot_prefix, sizeof(cfg->robot_prefix), "robot$");
    cfg->login_fail_limit = 5;
    cfg->login_check_wait_ms = 100;
    cfg->session_max_per_user = 10;
    cfg->session_idle_s = 30 * 60;
    cfg->session_lifetime_s = 12 * 3600;
    cfg->pull_flush_s = 1;
    cfg->pull_hourly_keep_s = (unsigned)(90 * DAY_S);
    cfg->pull_daily_keep_s = 0;
    copy_str(cfg->metrics_access, sizeof(cfg->metrics_access), "admin");
    cfg->upload_sessions_max = 1000;
}

/* parse_number reads a decimal number with an optional suffix from `suffixes` (a list of
 * {suffix, multiplier}); the whole string must be consumed (rule 2). */
struct suffix {
    const char *s;
    uint64_t mul;
};

static const struct suffix size_suffixes[] = {
        {"", 1},      {"B", 1},   {"K", KiB},   {"KiB", KiB}, {"M", MiB},
        {"MiB", MiB}, {"G", GiB}, {"GiB", GiB}, {NULL, 0},
};

static const struct suffix duration_suffixes[] = {
        {"", 1}, {"s", 1}, {"m", MINUTE_S}, {"h", HOUR_S}, {"d", DAY_S}, {NULL, 0},
};

static const struct suffix plain_suffixes[] = {
        {"", 1},
        {NULL, 0},
};

static int parse_number(uint64_t *out, const char *key, const char *value,
                        const struct suffix *suffixes, struct berr *err)
{
    size_t ndig = strspn(value, "0123456789");
    const char *end = value + ndig;
    uint64_t v;

    *out = 0;
    /* digits first: no leading blanks, no sign, no "0x"; the rest must be a known suffix */
    if (ndig == 0)
        return berr_set(err, BERR_BAD_REQUEST, "%s: '%s' is not a number", key, value);
    if (parse_u64(&v, value, ndig) < 0)
        return berr_set(err, BERR_BAD_REQUEST, "%s: '%s' is too large", key, value);
    for (const struct suffix *s = suffixes; s->s != NULL; s++) {
        if (strcmp(end, s->s) != 0)
            continue;
        if (v > UINT64_MAX / s->mul)
            return berr_set(err, BERR_BAD_REQUEST, "%s: '%s' is too large", key, value);
        *out = v * s->mul;
        return 0;
    }
    return berr_set(err, BERR_BAD_REQUEST, "%s: bad suffix in '%s'", key, value);
}

static int check_text(const char *key, const char *value, size_t cap, bool nonempty,
                      struct berr *err)
{
    size_t len = strlen(value);

    if (nonempty && len == 0)
        return berr_set(err, BERR_BAD_REQUEST, "%s: must not be empty", key);
    if (len >= cap)
        return berr_set(err, BERR_BAD_REQUEST, "%s: longer than %zu bytes", key, cap - 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c == 0x7f)
            return berr_set(err, BERR_BAD_REQUEST, "%s: control character in value", key);
    }
    return 0;
}

static int check_range(const struct key_def *k, uint64_t v, struct berr *err)
{
    if (v < k->min || v > k->max)
        return berr_set(err, BERR_BAD_REQUEST, "%s: %llu is outside %llu..%llu", k->name,
                        (unsigned long long)v, (unsigned long long)k->min,
                        (unsigned long long)k->max);
    return 0;
}

int config_set(struct berth_config *cfg, const char *key, const char *value, struct berr *err)
{
    const struct key_def *k = key_find(key);
    char *field;
    uint64_t v = 0;
    enum log_level level;
    int rc;

    if (k == NULL)
        return berr_set(err, BERR_BAD_REQUEST, "unknown key '%.60s'", key);
    field = (char *)cfg + k->offset;
    switch (k->kind) {
    case KIND_STR:
        rc = check_text(k->name, value, k->size, k->min != 0, err);
        if (rc < 0)
            return rc;
        copy_str(field, k->size, value);
        return 0;
    case KIND_LOGLEVEL:
        if (strlen(value) >= k->size || log_level_parse(&level, value) < 0)
            return berr_set(err, BERR_BAD_REQUEST,
                            "%s: '%.40s' is not one of debug, info, warn, error", k->name, value);
        copy_str(field, k->size, value);
        return 0;
    case KIND_UINT:
        rc = parse_number(&v, k->name, value, plain_suffixes, err);
        break;
    case KIND_SIZE:
        rc = parse_number(&v, k->name, value, size_suffixes, err);
        break;
    case KIND_DURATION:
        rc = parse_number(&v, k->name, value, duration_suffixes, err);
        break;
    default:
        return berr_set(err, BERR_INTERNAL, "%s: unknown kind", k->name);
    }
    if (rc < 0)
        return rc;
    rc = check_range(k, v, err);
    if (rc < 0)
        return rc;
    if (k->size == sizeof(uint64_t)) {
        uint64_t u = v;
        memcpy(field, &u, sizeof(u));
    } else {
        unsigned u = (unsigned)v; /* the range check keeps v within unsigned */
        memcpy(field, &u, sizeof(u));
    }
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* parse_line splits one line (without its newline) into key and value. *key is set to ""
 * for a blank or comment line. The why of a failure goes into err without file and line. */
static int parse_line(char *key, size_t keycap, char *value, size_t valcap, const char *line,
                      size_t len, struct berr *err)
{
    const char *eq, *v, *vend;
    size_t klen, kstart = 0, vlen;

    key[0] = '\0';
    value[0] = '\0';
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (memchr(line, '\0', len) != NULL)
        return berr_set(err, BERR_BAD_REQUEST, "NUL byte in line");
    while (kstart < len && is_blank(line[kstart]))
        kstart++;
    if (kstart == len || line[kstart] == '#')
        return 0;
    eq = memchr(line + kstart, '=', len - kstart);
    if (eq == NULL)
        return berr_set(err, BERR_BAD_REQUEST, "expected 'key = value'");
    klen = (size_t)(eq - (line + kstart));
    while (klen > 0 && is_blank(line[kstart + klen - 1]))
        klen--;
    if (klen == 0)
        return berr_set(err, BERR_BAD_REQUEST, "missing key before '='");
    for (size_t i = 0; i < klen; i++) {
        char c = line[kstart + i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return berr_set(err, BERR_BAD_REQUEST, "invalid key");
    }
    if (klen >= keycap)
        return berr_set(err, BERR_BAD_REQUEST, "unknown key");
    memcpy(key, line + kstart, klen);
    key[klen] = '\0';

    v = eq + 1;
    vend = line + len;
    while (v < vend && is_blank(*v))
        v++;
    if (v < vend && *v == '"') {
        const char *close = memchr(v + 1, '"', (size_t)(vend - v - 1));
        const char *rest;

        if (close == NULL)
            return berr_set(err, BERR_BAD_REQUEST, "%s: unterminated quote", key);
        for (rest = close + 1; rest < vend && is_blank(*rest); rest++)
            ;
        if (rest < vend && *rest != '#')
            return berr_set(err, BERR_BAD_REQUEST, "%s: text after closing quote", key);
        v++;
        vlen = (size_t)(close - v);
    } else {
        const char *p;

        /* an unquoted value ends at "<blank>#" (inline comment) or the end of the line */
        for (p = v; p < vend; p++) {
            if (*p == '#' && (p == v || is_blank(p[-1])))
                break;
        }
        vlen = (size_t)(p - v);
        while (vlen > 0 && is_blank(v[vlen - 1]))
            vlen--;
    }
    if (vlen >= valcap)
        return berr_set(err, BERR_BAD_REQUEST, "%s: value too long", key);
    memcpy(value, v, vlen);
    value[vlen] = '\0';
    return 0;
}

int config_load(struct berth_config *cfg, const char *path, struct berr *err)
{
    char key[CONFIG_KEY_MAX], value[CONFIG_STR_MAX + 1];
    char *data = NULL;
    size_t len = 0, pos = 0;
    unsigned lineno = 0;
    struct berr why;
    int rc = 0;

    if (read_file(&data, &len, path, CONFIG_FILE_MAX_BYTES) < 0) {
        int e = errno;

        rc = berr_set(err, BERR_INTERNAL, "%.80s: cannot read: %s", path,
                      e == EFBIG ? "file too large" : strerror(e));
        if (err != NULL)
            err->sys_errno = e;
        goto out;
    }
    while (pos < len) {
        const char *line = data + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t linelen = nl != NULL ? (size_t)(nl - line) : len - pos;

        pos += linelen + (nl != NULL ? 1 : 0);
        lineno++;
        berr_clear(&why);
        rc = parse_line(key, sizeof(key), value, sizeof(value), line, linelen, &why);
        if (rc == 0 && key[0] != '\0')
            rc = config_set(cfg, key, value, &why);
        if (rc < 0) {
            rc = berr_set(err, BERR_BAD_REQUEST, "%.60s:%u: %s", path, lineno, why.msg);
            goto out;
        }
    }
out:
    mem_free(data);
    return rc;
}

/* hostname_valid: RFC 1123 labels of [A-Za-z0-9-], 1..63 bytes, no leading or trailing '-',
 * at most 253 bytes in all. A name of digits and dots only must be an IPv4 address instead. */
static bool hostname_valid(const char *h, size_t len)
{
    size_t label = 0;
    bool only_digits = true;

    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = h[i];
        if (c == '.') {
            if (label == 0 || h[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
        if (c == '-' && label == 0)
            return false;
        if (!(c >= '0' && c <= '9'))
            only_digits = false;
        if (++label > 63)
            return false;
    }
    if (label == 0 || h[len - 1] == '-')
        return false;
    return !only_digits;
}

/* listen_split parses "ADDR:PORT" into host (brackets removed) and port. */
static int listen_split(char *host, size_t hostcap, unsigned *port, const char *listen,
                        struct berr *err)
{
    const char *colon, *h;
    size_t hlen, len = strlen(listen);
    uint64_t p;
    bool v6 = false;

    host[0] = '\0';
    *port = 0;
    if (len > 0 && listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (close == NULL || close[1] != ':')
            return berr_set(err, BERR_BAD_REQUEST, "listen: expected [IPv6]:PORT");
        h = listen + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
        v6 = true;
    } else {
        colon = strrchr(listen, ':');
        if (colon == NULL)
            return berr_set(err, BERR_BAD_REQUEST, "listen: expected ADDR:PORT");
        h = listen;
        hlen = (size_t)(colon - listen);
        if (memchr(h, ':', hlen) != NULL)
            return berr_set(err, BERR_BAD_REQUEST, "listen: put an IPv6 address in brackets");
    }
    if (hlen == 0)
        return berr_set(err, BERR_BAD_REQUEST, "listen: missing address");
    if (hlen >= hostcap)
        return berr_set(err, BERR_BAD_REQUEST, "listen: address too long");
    if (parse_u64_range(&p, colon + 1, strlen(colon + 1), 1, 65535) < 0)
        return berr_set(err, BERR_BAD_REQUEST, "listen: port must be 1..65535");
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (v6) {
        struct in6_addr a6;
        if (inet_pton(AF_INET6, host, &a6) != 1)
            return berr_set(err, BERR_BAD_REQUEST, "listen: invalid IPv6 address");
    } else {
        struct in_addr a4;
        if (inet_pton(AF_INET, host, &a4) != 1 && !hostname_valid(host, hlen))
            return berr_set(err, BERR_BAD_REQUEST, "listen: invalid address or host name");
    }
    *port = (unsigned)p;
    return 0;
}

static bool url_char_ok(char c)
{
    /* RFC 3986 unreserved, reserved and '%'; no blanks, quotes, '<', '>', '\\' */
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL;
}

static int public_url_check(const char *url, struct berr *err)
{
    size_t len = strlen(url);
    const char *rest;

    if (len == 0)
        return 0;
    if (str_has_prefix(url, "https://"))
        rest = url + 8;
    else if (str_has_prefix(url, "http://"))
        rest = url + 7;
    else
        return berr_set(err, BERR_BAD_REQUEST, "public_url: must start with http:// or https://");
    if (*rest == '\0' || *rest == '/')
        return berr_set(err, BERR_BAD_REQUEST, "public_url: missing host");
    for (size_t i = 0; i < len; i++) {
        if (!url_char_ok(url[i]))
            return berr_set(err, BERR_BAD_REQUEST, "public_url: invalid character");
    }
    if (url[len - 1] == '/')
        return berr_set(err, BERR_BAD_REQUEST, "public_url: drop the trailing '/'");
    return 0;
}

/* token_text_check: service and issuer appear inside a quoted WWW-Authenticate parameter and a
 * JWT claim; printable ASCII without blanks, quotes or backslashes keeps both unambiguous. */
static int token_text_check(const char *key, const char *s, struct berr *err)
{
    if (s[0] == '\0')
        return berr_set(err, BERR_BAD_REQUEST, "%s: must not be empty", key);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == ',')
            return berr_set(err, BERR_BAD_REQUEST, "%s: invalid character", key);
    }
    return 0;
}

/* robot_prefix_check: robot names are "<prefix><name>" and travel as Basic-auth user names,
 * so the prefix may not hold ':' (the user/password separator), '/', blanks or quotes. */
static int robot_prefix_check(const char *s, struct berr *err)
{
    if (s[0] == '\0')
        return berr_set(err, BERR_BAD_REQUEST, "robot_prefix: must not be empty");
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '$' || c == '_' || c == '-' || c == '.' || c == '+'))
            return berr_set(err, BERR_BAD_REQUEST,
                            "robot_prefix: only letters, digits and $ _ - . + allowed");
    }
    return 0;
}

int config_validate(const struct berth_config *cfg, struct berr *err)
{
    char host[CONFIG_STR_MAX];
    unsigned port, slots, queue;
    enum log_level level;
    int rc;

    /* every field first passes the same checks config_set would apply */
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key_def *k = &keys[i];
        const char *field = (const char *)cfg + k->offset;
        uint64_t v;

        if (k->kind == KIND_STR || k->kind == KIND_LOGLEVEL) {
            if (memchr(field, '\0', k->size) == NULL)
                return berr_set(err, BERR_BAD_REQUEST, "%s: not terminated", k->name);
            rc = check_text(k->name, field, k->size, k->min != 0, err);
            if (rc < 0)
                return rc;
            continue;
        }
        if (k->size == sizeof(uint64_t)) {
            memcpy(&v, field, sizeof(v));
        } else {
            unsigned u;
            memcpy(&u, field, sizeof(u));
            v = u;
        }
        rc = check_range(k, v, err);
        if (rc < 0)
            return rc;
    }
    rc = listen_split(host, sizeof(host), &port, cfg->listen, err);
    if (rc < 0)
        return rc;
    if (log_level_parse(&level, cfg->log_level) < 0)
        return berr_set(err, BERR_BAD_REQUEST, "log_level: not one of debug, info, warn, error");
    rc = public_url_check(cfg->public_url, err);
    if (rc < 0)
        return rc;
    rc = token_text_check("token_service", cfg->token_service, err);
    if (rc < 0)
        return rc;
    rc = token_text_check("token_issuer", cfg->token_issuer, err);
    if (rc < 0)
        return rc;
    rc = robot_prefix_check(cfg->robot_prefix, err);
    if (rc < 0)
        return rc;
    if (cfg->per_ip_connections > cfg->max_connections)
        return berr_set(err, BERR_BAD_REQUEST,
                        "per_ip_connections (%u) exceeds max_connections (%u)",
                        cfg->per_ip_connections, cfg->max_connections);
    {
        struct cidr_list proxies;
        struct berr e;
        if (cidr_list_parse(&proxies, cfg->trusted_proxies, &e) < 0)
            return berr_set(err, BERR_BAD_REQUEST, "trusted_proxies: %s", e.msg);
    }
    /* the value may hold a password: the message never quotes it */
    if (strstr(cfg->metadata, "://") != NULL && strncmp(cfg->metadata, "postgres://", 11) != 0 &&
        strncmp(cfg->metadata, "postgresql://", 13) != 0)
        return berr_set(err, BERR_BAD_REQUEST,
                        "metadata: a URL must start with postgres:// or postgresql://");
    if ((cfg->tls_cert[0] == '\0') != (cfg->tls_key[0] == '\0'))
        return berr_set(err, BERR_BAD_REQUEST, "tls_cert and tls_key go together");
    if (cfg->threads > cfg->max_connections)
        return berr_set(err, BERR_BAD_REQUEST, "threads (%u) exceeds max_connections (%u)",
                        cfg->threads, cfg->max_connections);
    config_login_check(cfg, &slots, &queue);
    /* a login flood may hold the threads of the checks and their queue, never all of them */
    if (cfg->threads > 1 && slots + queue >= cfg->threads)
        return berr_set(err, BERR_BAD_REQUEST,
                        "login_check_slots + login_check_queue (%u) must be below threads (%u)",
                        slots + queue, cfg->threads);
    if (cfg->session_idle_s > cfg->session_lifetime_s)
        return berr_set(err, BERR_BAD_REQUEST,
                        "session_idle_s (%u) exceeds session_lifetime_s (%u)", cfg->session_idle_s,
                        cfg->session_lifetime_s);
    if (strcmp(cfg->metrics_access, "admin") != 0 && strcmp(cfg->metrics_access, "auth") != 0 &&
        strcmp(cfg->metrics_access, "open") != 0)
        return berr_set(err, BERR_BAD_REQUEST, "metrics_access: not one of admin, auth, open");
    if (strcmp(cfg->redirect, "true") != 0 && strcmp(cfg->redirect, "false") != 0)
        return berr_set(err, BERR_BAD_REQUEST, "redirect: not true or false");
    if (cfg->blob_store[0] != '\0' && strcmp(cfg->blob_store, "file") != 0) {
        const char *b = cfg->blob_store + 5;

        if (strncmp(cfg->blob_store, "s3://", 5) != 0 || *b == '\0' || strlen(b) < 3 ||
            strlen(b) > 63 || strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789-.") != strlen(b))
            return berr_set(err, BERR_BAD_REQUEST,
                            "blob_store: not file or s3://BUCKET (3-63 of a-z 0-9 - .)");
    } else if (strcmp(cfg->redirect, "true") == 0) {
        return berr_set(err, BERR_BAD_REQUEST, "redirect: only with an s3:// blob_store");
    }
    if (cfg->metrics_listen[0] != '\0') {
        rc = listen_split(host, sizeof(host), &port, cfg->metrics_listen, err);
        if (rc < 0)
            return rc;
        if (strcmp(cfg->metrics_listen, cfg->listen) == 0)
            return berr_set(err, BERR_BAD_REQUEST, "metrics_listen: same address as listen");
    }
    return 0;
}

void config_login_check(const struct berth_config *cfg, unsigned *slots, unsigned *queue)
{
    unsigned s = cfg->login_check_slots, q = cfg->login_check_queue;

    if (s == 0)
        s = cfg->threads / 4 > 0 ? cfg->threads / 4 : 1;
    if (q == 0 && cfg->threads > s + 1) {
        q = cfg->threads - s - 1;
        if (q > s)
            q = s;
    }
    *slots = s;
    *queue = q;
}

int config_meta_location(const struct berth_config *cfg, char *out, size_t cap, struct berr *err)
{
    int n;

    if (cfg->metadata[0] != '\0')
        n = snprintf(out, cap, "%s", cfg->metadata);
    else
        n = snprintf(out, cap, "%s/berth.db", cfg->data_dir);
    if (n < 0 || (size_t)n >= cap)
        return berr_set(err, BERR_BAD_REQUEST, "metadata location too long");
    return 0;
}
