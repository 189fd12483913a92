/* config.h - Berth's configuration: one struct, filled from defaults, then the config file, then
 * command-line flags, validated as a whole before the server starts. Read-only after start.
 *
 * The file format is "key = value" lines, '#' comments, blank lines ignored; values may be quoted
 * with double quotes. Unknown keys and malformed values are errors naming the line. Every key is
 * documented with its default in config/berth.conf.example. */
#ifndef BERTH_CONFIG_CONFIG_H
#define BERTH_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "common/berr.h"

#define CONFIG_STR_MAX 512

struct berth_config {
    char listen[CONFIG_STR_MAX];     /* "ADDR:PORT", default "0.0.0.0:5000" */
    char data_dir[CONFIG_STR_MAX];   /* default "./data" */
    char public_url[CONFIG_STR_MAX]; /* "" = derive from the request's Host header */
    char log_level[16];              /* debug|info|warn|error, default info */
    unsigned threads;                /* worker threads, default 2 x cores, at least 4 */
    unsigned max_connections;        /* default 1024 */
    unsigned per_ip_connections;     /* 0 = no per-address limit (default) */
    unsigned connection_timeout_s;   /* idle connection timeout, default 300 */
    uint64_t manifest_max_bytes;     /* default 4 MiB */
    uint64_t chunk_min_bytes;        /* OCI-Chunk-Min-Length advertised, default 0 (not sent) */
    unsigned list_max;               /* cap on n for tags/list and _catalog, default 1000 */
    unsigned upload_purge_age_s;     /* gc removes upload sessions older than this, default 7 d */
    unsigned gc_window_s;            /* gc spares blobs younger than this, default 2 h */
    unsigned token_ttl_s;            /* bearer token lifetime, default 1800 */
    char token_service[64];        /* "service" of the token challenge, default "berth-registry" */
    char token_issuer[64];         /* iss claim, default "berth-token-issuer" */
    char robot_prefix[32];         /* default "robot$" */
    unsigned login_fail_limit;     /* failed logins before throttling, default 5 */
    unsigned login_check_slots;    /* password checks at once; 0 (default) = threads / 4, >= 1 */
    unsigned login_check_queue;    /* checks waiting for a slot; 0 (default) = automatic */
    unsigned login_check_wait_ms;  /* longest wait for a slot, default 100; 0 = never wait */
    unsigned session_max_per_user; /* web sessions of one user, default 10 */
    unsigned session_idle_s;       /* web session idle expiry, default 30 min */
    unsigned session_lifetime_s;   /* web session absolute lifetime, default 12 h */
    unsigned pull_flush_s;         /* pull counters flush interval, default 1 */
    unsigned upload_sessions_max;  /* open upload sessions per repository, default 1000 */
    char trusted_proxies[CONFIG_STR_MAX]; /* addresses/CIDRs believed in X-Forwarded-*, "" */
    char tls_cert[CONFIG_STR_MAX];        /* PEM certificate (chain) file; "" = plain HTTP */
    char tls_key[CONFIG_STR_MAX];         /* PEM private key file of tls_cert */
    unsigned pull_hourly_keep_s;          /* hourly pull buckets kept this long, default 90 d */
    unsigned pull_daily_keep_s; /* daily pull buckets kept this long, 0 = forever (default) */
    char pull_exclude_users[CONFIG_STR_MAX];  /* comma-separated user/robot names not counted */
    char pull_exclude_agents[CONFIG_STR_MAX]; /* comma-separated User-Agent fnmatch patterns */
    char metrics_access[16];                  /* admin|auth|open, default admin */
    char metrics_listen[CONFIG_STR_MAX]; /* "ADDR:PORT": /metrics there only; "" = main listener */
    /* the metadata database: "" = SQLite file data_dir/berth.db; postgres://... or
     * postgresql://... = that PostgreSQL database (may hold a password: never logged); any
     * other value = the path of a SQLite file */
    char metadata[CONFIG_STR_MAX];
    /* Where blobs live: "" or "file" (DATA/blobs, the default), or "s3://BUCKET" with the s3_*
     * keys below (each empty one falls back to AWS_ENDPOINT_URL, AWS_REGION,
     * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY from the environment). Path-style requests. */
    char blob_store[CONFIG_STR_MAX];
    char s3_endpoint[CONFIG_STR_MAX]; /* "http://host:port" */
    char s3_region[64];               /* default us-east-1 */
    char s3_access_key[128];
    char s3_secret_key[256]; /* never logged */
    char redirect[8];        /* "true": blob GET/HEAD answer 307 to a presigned URL */
};

/* config_defaults fills every field with its default. */
void config_defaults(struct berth_config *cfg);
/* config_load reads FILE over the current values. BERR_BAD_REQUEST with "FILE:LINE: why" in
 * err->msg on a bad key or value; BERR_INTERNAL when the file cannot be read. */
int config_load(struct berth_config *cfg, const char *path, struct berr *err);
/* config_set applies one key/value (used by the file parser and by command-line flags). */
int config_set(struct berth_config *cfg, const char *key, const char *value, struct berr *err);
/* config_validate checks cross-field rules (listen parses, sizes in range). */
int config_validate(const struct berth_config *cfg, struct berr *err);
/* config_meta_location writes the metadata location meta_open takes into out (cap bytes):
 * metadata when set, else data_dir/berth.db. BERR_BAD_REQUEST when it does not fit. */
int config_meta_location(const struct berth_config *cfg, char *out, size_t cap, struct berr *err);
/* config_login_check resolves the password-check budget: *slots from login_check_slots (0:
 * threads / 4, at least 1) and *queue from login_check_queue (0: as many as slots while
 * slots + queue stays below threads). */
void config_login_check(const struct berth_config *cfg, unsigned *slots, unsigned *queue);

#endif
