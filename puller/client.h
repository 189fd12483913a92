/* client.h - HTTP client for the registry v2 API (libcurl), with Basic and Bearer auth.
 *
 * One struct client talks to one repository of one registry with one credential (or none).
 * It answers the registry's challenges itself: a 401 with a Basic challenge makes it send the
 * credential; a Bearer challenge makes it fetch a token from the realm (with the credential as
 * Basic, if any), keep it, reuse it on every later request and fetch a new one when it expires
 * (by expires_in) or when the registry answers 401 again. Transient failures (429, 5xx,
 * connection resets) are retried with back-off; redirects are followed by hand so the
 * Authorization header never leaves the registry's origin. Neither passwords nor tokens nor
 * Authorization headers are ever logged.
 *
 * Thread safety: client_get_manifest and client_get_blob may be called from several threads at
 * once on the same client (each call uses its own curl handle; connections are shared through a
 * curl share object; the token sits behind a mutex). */
#ifndef BERTH_PULLER_CLIENT_H
#define BERTH_PULLER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"
#include "common/buf.h"

#define CLIENT_MANIFEST_MAX_BYTES (4u * 1024u * 1024u)
#define CLIENT_MEDIA_TYPE_MAX 128
#define CLIENT_MAX_CHALLENGES 4
#define CLIENT_REALM_MAX 1024
#define CLIENT_SERVICE_MAX 256
#define CLIENT_SCOPE_MAX 512

struct client;

struct client_opts {
    const char *host;    /* registry API host[:port], e.g. "registry-1.docker.io"; borrowed */
    const char *repo;    /* repository path, e.g. "library/busybox"; borrowed */
    const char *ca_file; /* extra CA bundle; NULL: system default */
    bool insecure;       /* TLS without certificate verification */
    bool plain_http;     /* http:// instead of https:// */
    bool verbose;        /* log requests (method, URL without query, status) at INFO */
    int64_t limit_rate;  /* bytes per second per transfer; 0: unlimited */
    int max_retries;     /* attempts after the first on transient failure; < 0: default 4 */
    int backoff_ms;      /* first back-off delay; doubles each retry; 0: default 500 */
};

/* One parsed challenge of a WWW-Authenticate header. Empty strings when a parameter is absent. */
struct client_challenge {
    char scheme[16]; /* "Basic", "Bearer", as sent */
    char realm[CLIENT_REALM_MAX];
    char service[CLIENT_SERVICE_MAX];
    char scope[CLIENT_SCOPE_MAX];
    char error[64];
};

/* client_challenge_parse parses a WWW-Authenticate value (RFC 7235: several comma-separated
 * challenges, parameters as tokens or quoted strings with backslash escapes, token68 skipped)
 * into at most `cap` challenges; *n gets the count. -1 when the value is malformed or a
 * parameter is too long for its field; what was parsed before stays in out. */
int client_challenge_parse(struct client_challenge *out, size_t cap, size_t *n, const char *value);

/* client_same_origin: both absolute URLs have the same scheme, host (case-insensitive) and port
 * (default ports made explicit). Used to decide whether Authorization may follow a redirect. */
bool client_same_origin(const char *a, const char *b);

/* client_content_range_parse reads a response "bytes FIRST-LAST/TOTAL" (TOTAL may be "*", then
 * *total is UINT64_MAX). -1 when malformed or LAST < FIRST. */
int client_content_range_parse(uint64_t *first, uint64_t *last, uint64_t *total, const char *v);

/* client_retry_delay_ms: the back-off before retry number `attempt` (0-based): base * 2^attempt,
 * capped at 30 s; a Retry-After of retry_after_s seconds (> 0) wins when larger, also capped. */
long client_retry_delay_ms(int attempt, int base_ms, long retry_after_s);

/* client_global_init / client_global_cleanup wrap curl_global_init; call once from main's thread
 * before any client exists. */
int client_global_init(struct berr *err);
void client_global_cleanup(void);

/* client_new: *out is new (client_free). username/password are copied (NULL: anonymous) and
 * wiped on free. Fails only on allocation or curl setup. */
int client_new(struct client **out, const struct client_opts *opts, const char *username,
               const char *password, struct berr *err);
void client_free(struct client *c);

/* client_get_manifest fetches /v2/<repo>/manifests/<ref> accepting the OCI manifest and index
 * and the Docker v2 manifest and manifest list. body (caller-initialised, any ceiling; capped at
 * CLIENT_MANIFEST_MAX_BYTES anyway) gets the exact bytes; media_type (cap bytes) the
 * Content-Type without parameters. Errors: BERR_UNAUTHORIZED (credential refused, or none and
 * one needed), BERR_DENIED, BERR_MANIFEST_UNKNOWN, BERR_NAME_UNKNOWN, BERR_TOO_LARGE,
 * BERR_TOOMANYREQUESTS (retries exhausted), BERR_INTERNAL (transport; message says why). */
int client_get_manifest(struct client *c, struct buf *body, char *media_type, size_t cap,
                        const char *ref, struct berr *err);

/* The sink receives a blob's bytes in order; a negative return aborts the transfer (the sink
 * fills its own error). */
typedef int (*client_sink_fn)(const void *p, size_t n, void *ctx);

/* client_get_blob streams /v2/<repo>/blobs/<digest> from byte `offset` on into sink: a Range
 * request when offset > 0 (if the server ignores it, the first offset bytes are skipped).
 * After a transient failure mid-body it resumes where the sink stopped. `size` is the expected
 * length (for the Range end and a too-long body check). *got counts bytes given to the sink.
 * Errors as client_get_manifest, BERR_BLOB_UNKNOWN for 404, BERR_SIZE_INVALID when the server
 * sends more than size, or the sink's error. */
int client_get_blob(struct client *c, uint64_t *got, const char *digest, uint64_t offset,
                    uint64_t size, client_sink_fn sink, void *ctx, struct berr *err);

/* Statistics for tests and --verbose: tokens fetched, requests made (attempts included),
 * range requests answered 206. */
struct client_stats {
    long tokens;
    long requests;
    long ranged;
    long retries;
};
void client_get_stats(struct client *c, struct client_stats *out);

#endif
