/* config_test.c - defaults, every key, file syntax, errors with line numbers, suffixes, overflow,
 * quotes and the cross-field validation. Config files are written to a private temp dir. */
#include "config/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/mem.h"
#include "common/test.h"
#include "common/util.h"

static char tmpdir[64];
static char cfgpath[128];

static int write_cfg(const char *text)
{
    return write_file_atomic(cfgpath, text, strlen(text), 0600);
}

/* load_text writes text as the config file and loads it over the defaults */
static int load_text(struct berth_config *cfg, struct berr *err, const char *text)
{
    config_defaults(cfg);
    berr_clear(err);
    if (write_cfg(text) < 0) {
        fprintf(stderr, "cannot write %s: %s\n", cfgpath, strerror(errno));
        return -2;
    }
    return config_load(cfg, cfgpath, err);
}

static void test_defaults(void)
{
    struct berth_config cfg;
    struct berr err;

    config_defaults(&cfg);
    CHECK_STR_EQ(cfg.listen, "0.0.0.0:5000");
    CHECK_STR_EQ(cfg.data_dir, "./data");
    CHECK_STR_EQ(cfg.public_url, "");
    CHECK_STR_EQ(cfg.log_level, "info");
    CHECK(cfg.threads >= 4);
    CHECK(cfg.threads % 2 == 0);
    CHECK_INT_EQ(cfg.max_connections, 1024);
    CHECK_INT_EQ(cfg.per_ip_connections, 0);
    CHECK_INT_EQ(cfg.connection_timeout_s, 300);
    CHECK_INT_EQ(cfg.manifest_max_bytes, 4 * 1024 * 1024);
    CHECK_INT_EQ(cfg.chunk_min_bytes, 0);
    CHECK_INT_EQ(cfg.list_max, 1000);
    CHECK_INT_EQ(cfg.upload_purge_age_s, 7 * 86400);
    CHECK_INT_EQ(cfg.gc_window_s, 2 * 3600);
    CHECK_INT_EQ(cfg.token_ttl_s, 1800);
    CHECK_STR_EQ(cfg.token_service, "berth-registry");
    CHECK_STR_EQ(cfg.token_issuer, "berth-token-issuer");
    CHECK_STR_EQ(cfg.robot_prefix, "robot$");
    CHECK_INT_EQ(cfg.login_fail_limit, 5);
    CHECK_INT_EQ(cfg.pull_flush_s, 1);
    CHECK_INT_EQ(cfg.upload_sessions_max, 1000);
    CHECK_STR_EQ(cfg.trusted_proxies, "");
    CHECK_STR_EQ(cfg.tls_cert, "");
    CHECK_INT_EQ(config_validate(&cfg, &err), 0);
}

static void test_every_key(void)
{
    struct berth_config cfg;
    struct berr err;
    int rc;

    rc = load_text(&cfg, &err,
                   "# a full file\n"
                   "listen = 127.0.0.1:5999\n"
                   "data_dir = /var/lib/berth\n"
                   "public_url = https://registry.example.com\n"
                   "log_level = debug\n"
                   "threads = 16\n"
                   "max_connections = 200\n"
                   "per_ip_connections = 20\n"
                   "connection_timeout_s = 2m\n"
                   "manifest_max_bytes = 8M\n"
                   "chunk_min_bytes = 5MiB\n"
                   "list_max = 50\n"
                   "upload_purge_age_s = 3d\n"
                   "gc_window_s = 1h\n"
                   "token_ttl_s = 900s\n"
                   "token_service = my-registry\n"
                   "token_issuer = my-issuer\n"
                   "robot_prefix = bot+\n"
                   "login_fail_limit = 3\n"
                   "pull_flush_s = 30\n"
                   "upload_sessions_max = 7\n"
                   "trusted_proxies = \"10.0.0.0/8, ::1\"\n"
                   "tls_cert = /etc/berth/cert.pem\n"
                   "tls_key = /etc/berth/key.pem\n");
    CHECK_INT_EQ(rc, 0);
    if (rc != 0)
        fprintf(stderr, "  err: %s\n", err.msg);
    CHECK_STR_EQ(cfg.listen, "127.0.0.1:5999");
    CHECK_STR_EQ(cfg.data_dir, "/var/lib/berth");
    CHECK_STR_EQ(cfg.public_url, "https://registry.example.com");
    CHECK_STR_EQ(cfg.log_level, "debug");
    CHECK_INT_EQ(cfg.threads, 16);
    CHECK_INT_EQ(cfg.max_connections, 200);
    CHECK_INT_EQ(cfg.per_ip_connections, 20);
    CHECK_INT_EQ(cfg.connection_timeout_s, 120);
    CHECK_INT_EQ(cfg.manifest_max_bytes, 8 * 1024 * 1024);
    CHECK_INT_EQ(cfg.chunk_min_bytes, 5 * 1024 * 1024);
    CHECK_INT_EQ(cfg.list_max, 50);
    CHECK_INT_EQ(cfg.upload_purge_age_s, 3 * 86400);
    CHECK_INT_EQ(cfg.gc_window_s, 3600);
    CHECK_INT_EQ(cfg.token_ttl_s, 900);
    CHECK_STR_EQ(cfg.token_service, "my-registry");
    CHECK_STR_EQ(cfg.token_issuer, "my-issuer");
    CHECK_STR_EQ(cfg.robot_prefix, "bot+");
    CHECK_INT_EQ(cfg.login_fail_limit, 3);
    CHECK_INT_EQ(cfg.pull_flush_s, 30);
    CHECK_INT_EQ(cfg.upload_sessions_max, 7);
    CHECK_STR_EQ(cfg.trusted_proxies, "10.0.0.0/8, ::1");
    CHECK_STR_EQ(cfg.tls_cert, "/etc/berth/cert.pem");
    CHECK_STR_EQ(cfg.tls_key, "/etc/berth/key.pem");
    CHECK_INT_EQ(config_validate(&cfg, &err), 0);
}

static void test_syntax(void)
{
    struct berth_config cfg;
    struct berr err;

    /* blanks, tabs, CRLF, comments, inline comments, quotes */
    CHECK_INT_EQ(load_text(&cfg, &err,
                           "\n   \n\t# comment\r\n"
                           "  threads\t=\t8   \r\n"
                           "list_max = 20 # inline comment\n"
                           "data_dir = \"/srv/with space # not a comment\"  # real comment\n"
                           "token_issuer=\"iss\"\n"
                           "public_url =\n"
                           "robot_prefix = robot$"),
                 0);
    CHECK_INT_EQ(cfg.threads, 8);
    CHECK_INT_EQ(cfg.list_max, 20);
    CHECK_STR_EQ(cfg.data_dir, "/srv/with space # not a comment");
    CHECK_STR_EQ(cfg.token_issuer, "iss");
    CHECK_STR_EQ(cfg.public_url, "");
    CHECK_STR_EQ(cfg.robot_prefix, "robot$");

    /* a '#' not after a blank is part of an unquoted value */
    CHECK_INT_EQ(load_text(&cfg, &err, "data_dir = /srv/a#b\n"), 0);
    CHECK_STR_EQ(cfg.data_dir, "/srv/a#b");
    /* an empty quoted value */
    CHECK_INT_EQ(load_text(&cfg, &err, "public_url = \"\"\n"), 0);
    CHECK_STR_EQ(cfg.public_url, "");
    /* the last assignment wins */
    CHECK_INT_EQ(load_text(&cfg, &err, "threads = 5\nthreads = 6\n"), 0);
    CHECK_INT_EQ(cfg.threads, 6);
    /* an empty file keeps the defaults */
    CHECK_INT_EQ(load_text(&cfg, &err, ""), 0);
    CHECK_INT_EQ(cfg.list_max, 1000);
}

/* expect_error loads text and checks the error code and the exact message */
static void expect_error(const char *text, const char *want_suffix)
{
    struct berth_config cfg;
    struct berr err;
    char want[256];
    int rc;

    rc = load_text(&cfg, &err, text);
    CHECK_INT_EQ(rc, -1);
    CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);
    (void)snprintf(want, sizeof(want), "%s:%s", cfgpath, want_suffix); /* test only */
    CHECK_STR_EQ(err.msg, want);
}

static void test_errors_with_lines(void)
{
    expect_error("threads = 4\nbogus = 1\n", "2: unknown key 'bogus'");
    expect_error("\n\n# c\nthreads\n", "4: expected 'key = value'");
    expect_error(" = 4\n", "1: missing key before '='");
    expect_error("Threads = 4\n", "1: invalid key");
    expect_error("threads = four\n", "1: threads: 'four' is not a number");
    expect_error("threads = -1\n", "1: threads: '-1' is not a number");
    expect_error("threads = +1\n", "1: threads: '+1' is not a number");
    expect_error("threads = 0x10\n", "1: threads: bad suffix in '0x10'");
    expect_error("threads = 4 4\n", "1: threads: bad suffix in '4 4'");
    expect_error("threads = 4K\n", "1: threads: bad suffix in '4K'");
    expect_error("threads =\n", "1: threads: '' is not a number");
    expect_error("threads = 0\n", "1: threads: 0 is outside 1..1024");
    expect_error("threads = 1025\n", "1: threads: 1025 is outside 1..1024");
    expect_error("data_dir = \"/x\n", "1: data_dir: unterminated quote");
    expect_error("data_dir = \"/x\" y\n", "1: data_dir: text after closing quote");
    expect_error("data_dir = \"\"\n", "1: data_dir: must not be empty");
    expect_error("log_level = loud\n",
                 "1: log_level: 'loud' is not one of debug, info, warn, error");
    expect_error("connection_timeout_s = 5w\n", "1: connection_timeout_s: bad suffix in '5w'");
    expect_error("manifest_max_bytes = 1K\n",
                 "1: manifest_max_bytes: 1024 is outside 4096..67108864");
    expect_error("manifest_max_bytes = 65M\n",
                 "1: manifest_max_bytes: 68157440 is outside 4096..67108864");
    expect_error("manifest_max_bytes = 4T\n", "1: manifest_max_bytes: bad suffix in '4T'");
    expect_error("token_ttl_s = 0\n", "1: token_ttl_s: 0 is outside 1..86400");
    expect_error("data_dir = a\x01z\n", "1: data_dir: control character in value");
}

static void test_overflow(void)
{
    struct berth_config cfg;
    struct berr err;

    expect_error("threads = 99999999999999999999999\n",
                 "1: threads: '99999999999999999999999' is too large");
    expect_error("manifest_max_bytes = 18446744073709551615G\n",
                 "1: manifest_max_bytes: '18446744073709551615G' is too large");
    expect_error("gc_window_s = 213503982334602d\n",
                 "1: gc_window_s: '213503982334602d' is too large");
    /* fits in uint64_t but not in the unsigned field: rejected by the range, not truncated */
    expect_error("threads = 4294967297\n", "1: threads: 4294967297 is outside 1..1024");
    config_defaults(&cfg);
    CHECK_INT_EQ(config_set(&cfg, "max_connections", "4294967296", &err), -1);
    CHECK_INT_EQ(cfg.max_connections, 1024);
}

static void test_suffixes(void)
{
    struct berth_config cfg;
    struct berr err;

    config_defaults(&cfg);
    CHECK_INT_EQ(config_set(&cfg, "manifest_max_bytes", "4096", &err), 0);
    CHECK_INT_EQ(cfg.manifest_max_bytes, 4096);
    CHECK_INT_EQ(config_set(&cfg, "manifest_max_bytes", "4K", &err), 0);
    CHECK_INT_EQ(cfg.manifest_max_bytes, 4096);
    CHECK_INT_EQ(config_set(&cfg, "manifest_max_bytes", "64MiB", &err), 0);
    CHECK_INT_EQ(cfg.manifest_max_bytes, 64ULL * 1024 * 1024);
    CHECK_INT_EQ(config_set(&cfg, "chunk_min_bytes", "1G", &err), 0);
    CHECK_INT_EQ(cfg.chunk_min_bytes, 1024ULL * 1024 * 1024);
    CHECK_INT_EQ(config_set(&cfg, "chunk_min_bytes", "1GiB", &err), 0);
    CHECK_INT_EQ(config_set(&cfg, "chunk_min_bytes", "2G", &err), -1);
    CHECK_INT_EQ(cfg.chunk_min_bytes, 1024ULL * 1024 * 1024);
    CHECK_INT_EQ(config_set(&cfg, "chunk_min_bytes", "100B", &err), 0);
    CHECK_INT_EQ(cfg.chunk_min_bytes, 100);
    CHECK_INT_EQ(config_set(&cfg, "chunk_min_bytes", "1k", &err), -1);
    CHECK_INT_EQ(config_set(&cfg, "upload_purge_age_s", "90", &err), 0);
    CHECK_INT_EQ(cfg.upload_purge_age_s, 90);
    CHECK_INT_EQ(config_set(&cfg, "upload_purge_age_s", "90s", &err), 0);
    CHECK_INT_EQ(cfg.upload_purge_age_s, 90);
    CHECK_INT_EQ(config_set(&cfg, "upload_purge_age_s", "15m", &err), 0);
    CHECK_INT_EQ(cfg.upload_purge_age_s, 900);
    CHECK_INT_EQ(config_set(&cfg, "upload_purge_age_s", "12h", &err), 0);
    CHECK_INT_EQ(cfg.upload_purge_age_s, 43200);
    CHECK_INT_EQ(config_set(&cfg, "upload_purge_age_s", "365d", &err), 0);
    CHECK_INT_EQ(cfg.upload_purge_age_s, 365 * 86400);
    CHECK_INT_EQ(config_set(&cfg, "upload_purge_age_s", "366d", &err), -1);
    CHECK_INT_EQ(config_set(&cfg, "upload_purge_age_s", "1H", &err), -1);
    CHECK_INT_EQ(config_set(&cfg, "upload_purge_age_s", "h", &err), -1);
    CHECK_INT_EQ(cfg.upload_purge_age_s, 365 * 86400);
    CHECK_INT_EQ(config_set(&cfg, "gc_window_s", "0", &err), 0);
    CHECK_INT_EQ(cfg.gc_window_s, 0);
}

static void test_set_leaves_value_on_error(void)
{
    struct berth_config cfg;
    struct berr err;
    char longv[CONFIG_STR_MAX + 8];

    config_defaults(&cfg);
    memset(longv, 'a', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    CHECK_INT_EQ(config_set(&cfg, "data_dir", longv, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);
    CHECK_STR_EQ(err.msg, "data_dir: longer than 511 bytes");
    CHECK_STR_EQ(cfg.data_dir, "./data");
    longv[CONFIG_STR_MAX - 1] = '\0'; /* 511 bytes: fits */
    CHECK_INT_EQ(config_set(&cfg, "data_dir", longv, &err), 0);
    CHECK_INT_EQ(strlen(cfg.data_dir), CONFIG_STR_MAX - 1);
    CHECK_INT_EQ(config_set(&cfg, "token_service",
                            "0123456789012345678901234567890123456789"
                            "012345678901234567890123",
                            &err),
                 -1); /* 64 bytes in a 64-byte field */
    CHECK_STR_EQ(cfg.token_service, "berth-registry");
    CHECK_INT_EQ(config_set(&cfg, "nope", "1", &err), -1);
    CHECK_STR_EQ(err.msg, "unknown key 'nope'");
    CHECK_INT_EQ(config_set(&cfg, "log_level", "WARN", &err), 0);
    CHECK_STR_EQ(cfg.log_level, "WARN");
    CHECK_INT_EQ(config_set(&cfg, "log_level", "warning-ish", &err), -1);
    CHECK_STR_EQ(cfg.log_level, "WARN");
    /* a NULL err is allowed */
    CHECK_INT_EQ(config_set(&cfg, "threads", "x", NULL), -1);
}

static void test_missing_file(void)
{
    struct berth_config cfg;
    struct berr err;
    char path[160];

    config_defaults(&cfg);
    (void)snprintf(path, sizeof(path), "%s/absent.conf", tmpdir); /* test only */
    CHECK_INT_EQ(config_load(&cfg, path, &err), -1);
    CHECK_INT_EQ(err.code, BERR_INTERNAL);
    CHECK_INT_EQ(err.sys_errno, ENOENT);
    CHECK(strstr(err.msg, "cannot read") != NULL);
}

static int validate_with(const char *key, const char *value, struct berr *err)
{
    struct berth_config cfg;

    config_defaults(&cfg);
    berr_clear(err);
    if (config_set(&cfg, key, value, err) < 0)
        return -2;
    return config_validate(&cfg, err);
}

static void test_validate_listen(void)
{
    struct berr err;
    static const char *const good[] = {
            "0.0.0.0:5000", "127.0.0.1:1",  "127.0.0.1:65535",           "[::1]:5000",
            "[::]:443",     "localhost:80", "registry.example.com:5000", "a-b.c:8080",
            "[fe80::1]:9",
    };
    static const char *const bad[] = {
            "5000",
            ":5000",
            "127.0.0.1:",
            "127.0.0.1:0",
            "127.0.0.1:65536",
            "127.0.0.1:-1",
            "127.0.0.1:5000x",
            "::1:5000",
            "[::1]5000",
            "[::1:5000",
            "[1.2.3.4]:80",
            "999.1.1.1:80",
            "1.2.3:80",
            "-host:80",
            "host-:80",
            "a..b:80",
            "host_name:80",
            "[]:80",
            "127.0.0.1:99999999999999999999999",
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int rc = validate_with("listen", good[i], &err);
        CHECK_INT_EQ(rc, 0);
        if (rc != 0)
            fprintf(stderr, "  listen %s: %s\n", good[i], err.msg);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = validate_with("listen", bad[i], &err);
        CHECK_INT_EQ(rc, -1);
        if (rc != -1)
            fprintf(stderr, "  listen %s accepted\n", bad[i]);
        CHECK(str_has_prefix(err.msg, "listen: "));
    }
}

static void test_validate_other(void)
{
    struct berth_config cfg;
    struct berr err;

    CHECK_INT_EQ(validate_with("public_url", "http://localhost:5000", &err), 0);
    CHECK_INT_EQ(validate_with("public_url", "https://r.example.com/prefix", &err), 0);
    CHECK_INT_EQ(validate_with("public_url", "ftp://r.example.com", &err), -1);
    CHECK_INT_EQ(validate_with("public_url", "https://", &err), -1);
    CHECK_INT_EQ(validate_with("public_url", "https://r.example.com/", &err), -1);
    CHECK_INT_EQ(validate_with("public_url", "https://r.example.com/a b", &err), -1);
    CHECK_INT_EQ(validate_with("public_url", "https://r\"x", &err), -1);
    CHECK_INT_EQ(validate_with("robot_prefix", "robot$", &err), 0);
    CHECK_INT_EQ(validate_with("robot_prefix", "robot:", &err), -1);
    CHECK_STR_EQ(err.msg, "robot_prefix: only letters, digits and $ _ - . + allowed");
    CHECK_INT_EQ(validate_with("robot_prefix", "a b", &err), -1);
    CHECK_INT_EQ(validate_with("robot_prefix", "a/b", &err), -1);
    CHECK_INT_EQ(validate_with("robot_prefix", "", &err), -2); /* config_set refuses */
    CHECK_INT_EQ(validate_with("token_service", "svc \"x\"", &err), -1);
    CHECK_INT_EQ(validate_with("token_issuer", "a,b", &err), -1);
    CHECK_INT_EQ(validate_with("token_issuer", "https://issuer.example", &err), 0);
    CHECK_INT_EQ(validate_with("trusted_proxies", "127.0.0.1 10.0.0.0/8", &err), 0);
    CHECK_INT_EQ(validate_with("trusted_proxies", "proxy.example.com", &err), -1);
    CHECK_STR_EQ(err.msg, "trusted_proxies: not an address or network: proxy.example.com");
    CHECK_INT_EQ(validate_with("trusted_proxies", "10.0.0.0/40", &err), -1);
    CHECK_INT_EQ(validate_with("tls_cert", "/c.pem", &err), -1); /* without tls_key */
    CHECK_STR_EQ(err.msg, "tls_cert and tls_key go together");
    CHECK_INT_EQ(validate_with("tls_key", "/k.pem", &err), -1);
    CHECK_INT_EQ(validate_with("upload_sessions_max", "0", &err), -2);

    /* cross-field rules */
    config_defaults(&cfg);
    CHECK_INT_EQ(config_set(&cfg, "max_connections", "10", &err), 0);
    CHECK_INT_EQ(config_set(&cfg, "threads", "4", &err), 0);
    CHECK_INT_EQ(config_set(&cfg, "per_ip_connections", "11", &err), 0);
    CHECK_INT_EQ(config_validate(&cfg, &err), -1);
    CHECK_STR_EQ(err.msg, "per_ip_connections (11) exceeds max_connections (10)");
    CHECK_INT_EQ(config_set(&cfg, "per_ip_connections", "10", &err), 0);
    CHECK_INT_EQ(config_validate(&cfg, &err), 0);
    CHECK_INT_EQ(config_set(&cfg, "threads", "11", &err), 0);
    CHECK_INT_EQ(config_validate(&cfg, &err), -1);

    /* a struct filled by code, not by config_set, is checked too */
    config_defaults(&cfg);
    cfg.manifest_max_bytes = 100;
    CHECK_INT_EQ(config_validate(&cfg, &err), -1);
    CHECK_STR_EQ(err.msg, "manifest_max_bytes: 100 is outside 4096..67108864");
    config_defaults(&cfg);
    cfg.threads = 0;
    CHECK_INT_EQ(config_validate(&cfg, &err), -1);
    config_defaults(&cfg);
    memcpy(cfg.log_level, "verbose", 8);
    CHECK_INT_EQ(config_validate(&cfg, &err), -1);
    config_defaults(&cfg);
    memset(cfg.token_issuer, 'x', sizeof(cfg.token_issuer)); /* no terminator */
    CHECK_INT_EQ(config_validate(&cfg, &err), -1);
    CHECK_STR_EQ(err.msg, "token_issuer: not terminated");
    config_defaults(&cfg);
    cfg.data_dir[0] = '\0';
    CHECK_INT_EQ(config_validate(&cfg, &err), -1);
}

/* the password-check budget: automatic values leave a thread free; explicit ones must too */
static void test_login_check_budget(void)
{
    struct berth_config cfg;
    struct berr err;
    unsigned slots = 0, queue = 0;

    config_defaults(&cfg);
    cfg.threads = 4;
    config_login_check(&cfg, &slots, &queue);
    CHECK_INT_EQ(slots, 1);
    CHECK_INT_EQ(queue, 1);
    CHECK_INT_EQ(config_validate(&cfg, &err), 0);
    cfg.threads = 16;
    config_login_check(&cfg, &slots, &queue);
    CHECK_INT_EQ(slots, 4);
    CHECK_INT_EQ(queue, 4);
    cfg.threads = 2;
    config_login_check(&cfg, &slots, &queue);
    CHECK_INT_EQ(slots, 1);
    CHECK_INT_EQ(queue, 0);
    CHECK_INT_EQ(config_validate(&cfg, &err), 0);
    cfg.threads = 1; /* one thread: nothing to leave free, one check at a time */
    config_login_check(&cfg, &slots, &queue);
    CHECK_INT_EQ(slots, 1);
    CHECK_INT_EQ(queue, 0);
    CHECK_INT_EQ(config_validate(&cfg, &err), 0);
    cfg.threads = 8;
    CHECK_INT_EQ(config_set(&cfg, "login_check_slots", "3", &err), 0);
    CHECK_INT_EQ(config_set(&cfg, "login_check_queue", "2", &err), 0);
    config_login_check(&cfg, &slots, &queue);
    CHECK_INT_EQ(slots, 3);
    CHECK_INT_EQ(queue, 2);
    CHECK_INT_EQ(config_validate(&cfg, &err), 0);
    CHECK_INT_EQ(config_set(&cfg, "login_check_queue", "5", &err), 0);
    CHECK_INT_EQ(config_validate(&cfg, &err), -1);
    CHECK_STR_EQ(err.msg, "login_check_slots + login_check_queue (8) must be below threads (8)");
    CHECK_INT_EQ(config_set(&cfg, "login_check_wait_ms", "10001", &err), -1);
    CHECK_INT_EQ(cfg.login_check_wait_ms, 100);
}

/* web sessions: per-user cap, idle time within the absolute lifetime */
static void test_session_keys(void)
{
    struct berth_config cfg;
    struct berr err;

    config_defaults(&cfg);
    CHECK_INT_EQ(cfg.session_max_per_user, 10);
    CHECK_INT_EQ(cfg.session_idle_s, 1800);
    CHECK_INT_EQ(cfg.session_lifetime_s, 12 * 3600);
    CHECK_INT_EQ(config_set(&cfg, "session_lifetime_s", "1h", &err), 0);
    CHECK_INT_EQ(cfg.session_lifetime_s, 3600);
    CHECK_INT_EQ(config_set(&cfg, "session_idle_s", "2h", &err), 0);
    CHECK_INT_EQ(config_validate(&cfg, &err), -1);
    CHECK_STR_EQ(err.msg, "session_idle_s (7200) exceeds session_lifetime_s (3600)");
    CHECK_INT_EQ(config_set(&cfg, "session_max_per_user", "0", &err), -1);
    CHECK_INT_EQ(config_set(&cfg, "session_max_per_user", "501", &err), -1); /* one stored list */
    CHECK_INT_EQ(config_set(&cfg, "session_max_per_user", "500", &err), 0);
}

/* the pull and metrics keys: values checked, bad ones refused */
static void test_pull_metrics_keys(void)
{
    struct berth_config cfg;
    struct berr err;

    config_defaults(&cfg);
    CHECK_INT_EQ(cfg.pull_hourly_keep_s, 90 * 86400);
    CHECK_INT_EQ(cfg.pull_daily_keep_s, 0);
    CHECK_STR_EQ(cfg.metrics_access, "admin");
    CHECK_INT_EQ(config_set(&cfg, "pull_hourly_keep_s", "7d", &err), 0);
    CHECK_INT_EQ(cfg.pull_hourly_keep_s, 7 * 86400);
    CHECK(config_set(&cfg, "pull_hourly_keep_s", "10m", &err) < 0);
    CHECK_INT_EQ(config_set(&cfg, "pull_exclude_agents", "Trivy*,*scanner*", &err), 0);
    CHECK_INT_EQ(config_set(&cfg, "metrics_access", "auth", &err), 0);
    CHECK_INT_EQ(config_validate(&cfg, &err), 0);
    CHECK_INT_EQ(config_set(&cfg, "metrics_access", "maybe", &err), 0);
    CHECK(config_validate(&cfg, &err) < 0);
    CHECK_INT_EQ(config_set(&cfg, "metrics_access", "open", &err), 0);
    CHECK_INT_EQ(config_set(&cfg, "metrics_listen", "nohostport", &err), 0);
    CHECK(config_validate(&cfg, &err) < 0);
    CHECK_INT_EQ(config_set(&cfg, "metrics_listen", "127.0.0.1:9100", &err), 0);
    CHECK_INT_EQ(config_validate(&cfg, &err), 0);
}

static void test_blob_store(void)
{
    struct berth_config cfg;
    struct berr err;

    CHECK_INT_EQ(validate_with("blob_store", "file", &err), 0);
    CHECK_INT_EQ(validate_with("blob_store", "s3://my-bucket.1", &err), 0);
    CHECK_INT_EQ(validate_with("blob_store", "s3://", &err), -1);
    CHECK_INT_EQ(validate_with("blob_store", "s3://Upper", &err), -1);
    CHECK_INT_EQ(validate_with("blob_store", "s3://a/b", &err), -1);
    CHECK_INT_EQ(validate_with("blob_store", "gs://bucket", &err), -1);
    CHECK_INT_EQ(validate_with("redirect", "yes", &err), -1);
    /* redirect needs an S3 store */
    CHECK_INT_EQ(validate_with("redirect", "true", &err), -1);
    config_defaults(&cfg);
    CHECK_INT_EQ(config_set(&cfg, "blob_store", "s3://bkt", &err), 0);
    CHECK_INT_EQ(config_set(&cfg, "redirect", "true", &err), 0);
    CHECK_INT_EQ(config_validate(&cfg, &err), 0);
}

static void test_nul_byte(void)
{
    struct berth_config cfg;
    struct berr err;
    static const char text[] = "threads = 4\nlist_max = 1\0 0\n";
    char want[256];

    config_defaults(&cfg);
    CHECK_INT_EQ(write_file_atomic(cfgpath, text, sizeof(text) - 1, 0600), 0);
    CHECK_INT_EQ(config_load(&cfg, cfgpath, &err), -1);
    (void)snprintf(want, sizeof(want), "%s:2: NUL byte in line", cfgpath); /* test only */
    CHECK_STR_EQ(err.msg, want);
    CHECK_INT_EQ(cfg.threads, 4); /* rule 4: lines before the bad one stay applied */
}

/* test_example: every "#key = value" line of config/berth.conf.example, uncommented, loads,
 * validates and restates the defaults; and every key of the struct is in the example */
static void test_example(void)
{
    static const char *const all_keys[] = {
            "listen",
            "data_dir",
            "public_url",
            "log_level",
            "threads",
            "max_connections",
            "per_ip_connections",
            "connection_timeout_s",
            "manifest_max_bytes",
            "chunk_min_bytes",
            "list_max",
            "upload_purge_age_s",
            "gc_window_s",
            "token_ttl_s",
            "token_service",
            "token_issuer",
            "robot_prefix",
            "login_fail_limit",
            "login_check_slots",
            "login_check_queue",
            "login_check_wait_ms",
            "session_max_per_user",
            "session_idle_s",
            "session_lifetime_s",
            "pull_flush_s",
            "upload_sessions_max",
            "trusted_proxies",
            "tls_cert",
            "tls_key",
            "pull_hourly_keep_s",
            "pull_daily_keep_s",
            "pull_exclude_users",
            "pull_exclude_agents",
            "metrics_access",
            "metrics_listen",
            "metadata",
            "blob_store",
            "s3_endpoint",
            "s3_region",
            "s3_access_key",
            "s3_secret_key",
            "redirect",
    };
    struct berth_config def, cfg;
    struct berr err;
    struct buf out;
    char *text = NULL;
    size_t len = 0, pos = 0;
    int settings = 0;

    if (read_file(&text, &len, "config/berth.conf.example", 1 << 20) < 0) {
        fprintf(stderr, "  config/berth.conf.example unreadable: run from the repository root\n");
        CHECK_INT_EQ(errno, 0);
        return;
    }
    buf_init(&out, 1 << 20);
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        size_t klen = 0;

        pos += ll + (nl ? 1 : 0);
        while (klen + 1 < ll &&
               ((line[klen + 1] >= 'a' && line[klen + 1] <= 'z') ||
                (line[klen + 1] >= '0' && line[klen + 1] <= '9') || line[klen + 1] == '_'))
            klen++;
        if (ll > 0 && line[0] == '#' && klen > 0 && ll > klen + 3 &&
            memcmp(line + 1 + klen, " = ", 3) == 0) {
            CHECK_INT_EQ(buf_append(&out, line + 1, ll - 1), 0);
            CHECK_INT_EQ(buf_append(&out, "\n", 1), 0);
            settings++;
        }
    }
    CHECK_INT_EQ(settings, (int)(sizeof(all_keys) / sizeof(all_keys[0])));
    for (size_t i = 0; i < sizeof(all_keys) / sizeof(all_keys[0]); i++) {
        char pat[64];
        (void)snprintf(pat, sizeof(pat), "\n%s = ", all_keys[i]); /* test only */
        CHECK(out.data != NULL && (str_has_prefix(out.data, pat + 1) || strstr(out.data, pat)));
    }
    CHECK_INT_EQ(load_text(&cfg, &err, out.data ? out.data : ""), 0);
    CHECK_INT_EQ(config_validate(&cfg, &err), 0);
    config_defaults(&def);
    cfg.threads = def.threads; /* the example shows the minimum, the default depends on cores */
    CHECK(memcmp(&cfg, &def, sizeof(cfg)) == 0);
    buf_cleanup(&out);
    mem_free(text);
}

/* metadata: empty is data_dir/berth.db, a PostgreSQL URL or a path is taken as it is, another
 * scheme is refused without quoting the value (it may hold a password) */
static void test_metadata(void)
{
    struct berth_config cfg;
    struct berr err;
    char loc[CONFIG_STR_MAX + 16];

    config_defaults(&cfg);
    CHECK_INT_EQ(config_meta_location(&cfg, loc, sizeof(loc), &err), 0);
    CHECK_STR_EQ(loc, "./data/berth.db");
    CHECK_INT_EQ(config_set(&cfg, "metadata", "postgres://u:pw@db:5432/berth", &err), 0);
    CHECK_INT_EQ(config_validate(&cfg, &err), 0);
    CHECK_INT_EQ(config_meta_location(&cfg, loc, sizeof(loc), &err), 0);
    CHECK_STR_EQ(loc, "postgres://u:pw@db:5432/berth");
    CHECK_INT_EQ(config_set(&cfg, "metadata", "postgresql://db/berth", &err), 0);
    CHECK_INT_EQ(config_validate(&cfg, &err), 0);
    CHECK_INT_EQ(config_set(&cfg, "metadata", "/srv/berth/meta.db", &err), 0);
    CHECK_INT_EQ(config_validate(&cfg, &err), 0);
    CHECK_INT_EQ(config_set(&cfg, "metadata", "mysql://u:s3cret@db/berth", &err), 0);
    CHECK_INT_EQ(config_validate(&cfg, &err), -1);
    CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);
    CHECK(strstr(err.msg, "s3cret") == NULL);
    CHECK(strstr(err.msg, "metadata") != NULL);
}

int main(void)
{
    char path[160];

    memcpy(tmpdir, "/tmp/berth-config-test-XXXXXX", 30);
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    (void)snprintf(cfgpath, sizeof(cfgpath), "%s/berth.conf", tmpdir); /* fits: 64 + 12 */
    TEST_RUN(test_defaults);
    TEST_RUN(test_every_key);
    TEST_RUN(test_syntax);
    TEST_RUN(test_errors_with_lines);
    TEST_RUN(test_overflow);
    TEST_RUN(test_suffixes);
    TEST_RUN(test_set_leaves_value_on_error);
    TEST_RUN(test_missing_file);
    TEST_RUN(test_validate_listen);
    TEST_RUN(test_validate_other);
    TEST_RUN(test_login_check_budget);
    TEST_RUN(test_session_keys);
    TEST_RUN(test_pull_metrics_keys);
    TEST_RUN(test_nul_byte);
    TEST_RUN(test_metadata);
    TEST_RUN(test_blob_store);
    TEST_RUN(test_example);
    (void)unlink(cfgpath); /* cleanup of a temp dir: failure changes nothing */
    (void)snprintf(path, sizeof(path), "%s/berth.conf.tmp", tmpdir);
    (void)unlink(path);
    (void)rmdir(tmpdir);
    return test_summary();
}
