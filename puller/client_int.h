/* client_int.h - private to the registry client (puller/client*.c); nothing else includes it.
 *
 * The client is one module in three files: client.c (setup, curl callbacks, the request loop,
 * Basic credentials and Bearer tokens), client_challenge.c (WWW-Authenticate challenges) and
 * client_err.c (errors worded for the user); client.c calls the other two, never back. This header holds what they share: struct client,
 * struct req and the calls between them. The public contract stays puller/client.h. */
#ifndef BERTH_PULLER_CLIENT_INT_H
#define BERTH_PULLER_CLIENT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "common/berr.h"
#include "common/buf.h"
#include "puller/client.h"

#define URL_MAX 4096

enum auth_kind { AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct client {
    char base[URL_MAX]; /* scheme://host */
    char *repo;
    char *ca_file;
    bool insecure;
    bool verbose;
    int64_t limit_rate;
    int max_retries;
    int backoff_ms;
    char *username; /* NULL: anonymous */
    char *password;
    CURLSH *share;
    pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST]; /* one per curl share data kind */
    pthread_mutex_t mu;                            /* guards everything below */
    enum auth_kind auth;
    struct client_challenge bearer; /* the registry's Bearer challenge (realm, service) */
    char *token;
    int64_t token_expiry_ms; /* monotonic; renew at or after it */
    long token_gen;
    /* counters are atomic: they are bumped with and without c->mu held */
    _Atomic long n_tokens;
    _Atomic long n_requests;
    _Atomic long n_ranged;
    _Atomic long n_retries;
};

enum req_kind { REQ_MANIFEST, REQ_BLOB, REQ_TOKEN };

struct req {
    struct client *c;
    enum req_kind kind;
    CURL *h;
    /* response headers of the last hop */
    long status;
    struct buf www_auth;
    char content_type[CLIENT_MEDIA_TYPE_MAX];
    char content_range[128];
    long retry_after_s;
    bool range_checked;
    /* body */
    struct buf *body; /* REQ_MANIFEST, REQ_TOKEN */
    struct buf errbody;
    client_sink_fn sink;
    void *ctx;
    uint64_t offset;       /* first byte wanted in this attempt */
    uint64_t skip;         /* bytes still to drop (server ignored Range) */
    uint64_t delivered;    /* bytes given to the sink, all attempts */
    uint64_t limit;        /* total bytes the sink may get */
    int64_t rate_start_ms; /* --limit-rate: when this request's first body byte came */
    uint64_t rate_bytes;   /* body bytes since rate_start_ms */
    bool sink_failed;
    bool too_big;
    bool bad_range;
};

/* ---- client.c ---- */

/* client_perform runs one request (r filled by the caller: c, kind, body or sink) from
 * start_url, answering 401s, following redirects and retrying; 0 once a 2xx body was taken. */
int client_perform(struct client *c, struct req *r, const char *start_url, struct berr *err);

/* client_wipe_free cleanses a secret string and frees it; NULL is a no-op. */
void client_wipe_free(char *s);

/* ---- client_challenge.c ---- */

/* client_skip_ows: p past spaces and tabs (RFC 7230 optional whitespace). */
const char *client_skip_ows(const char *p);

/* ---- client.c: authentication ---- */

/* client_auth_header: *line is new (client_wipe_free), the Authorization header line for c's
 * current auth state, NULL when none; an expired or missing token is fetched first. *gen gets
 * the token generation used, for client_on_unauthorized. Takes c->mu. */
int client_auth_header(struct client *c, char **line, long *gen, struct berr *err);

/* client_on_unauthorized decides how to answer a 401 of the registry from r->www_auth: switch
 * to Basic, fetch a token, or reuse one another request renewed since gen_used. -1 with
 * BERR_UNAUTHORIZED when the challenge cannot be answered. Takes c->mu. */
int client_on_unauthorized(struct client *c, struct req *r, long gen_used, struct berr *err);

/* ---- client_err.c ---- */

/* client_curl_retryable: a transport failure worth another attempt. */
bool client_curl_retryable(CURLcode rc, const char *detail);

/* client_transport_error fills err for a curl failure after `attempts` retries; returns -1. */
int client_transport_error(const struct client *c, const char *url, CURLcode cc, const char *detail,
                           int attempts, struct berr *err);

/* client_note_retries appends how many retries were spent to err's message. */
void client_note_retries(struct berr *err, int attempts);

/* client_fail_status fills err for a final non-2xx status of r; returns -1. */
int client_fail_status(struct client *c, struct req *r, long status, bool auth_tried,
                       struct berr *err);

#endif
