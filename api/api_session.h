/* api_session.h - server-side sessions of the web UI: POST /c/login sets an HttpOnly,
 * SameSite=Strict cookie `sid` (256 random bits, Secure under TLS); each session carries the
 * CSRF token the client must echo in X-Harbor-CSRF-Token on unsafe methods. Sessions live in
 * the metadata store's shared state (every replica over one database shares them; a restart
 * logs nobody out) and expire after an idle time and, however busy, after an absolute
 * lifetime; each user holds a bounded number of them. Thread-safe. */
#ifndef BERTH_API_API_SESSION_H
#define BERTH_API_API_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/authn.h"
#include "common/berr.h"

#define API_SESSION_IDLE_S_DEFAULT (30 * 60)
#define API_SESSION_LIFETIME_S_DEFAULT (12 * 3600)
#define API_SESSION_PER_USER_DEFAULT 10
#define API_SESSION_ID_HEX 64   /* 256 bits */
#define API_SESSION_CSRF_HEX 64 /* 256 bits */

struct api_sessions;
struct req;
struct http_reply;

struct meta;

/* api_sessions_new: sessions kept in m (borrowed, outlives the result). A session ends idle_s
 * after its last use (the last use is stored at most once a minute, or once per idle_s / 2 when
 * that is shorter) or lifetime_s after its login, whichever comes first (0 takes
 * API_SESSION_IDLE_S_DEFAULT, API_SESSION_LIFETIME_S_DEFAULT); one user holds at most per_user
 * sessions (0: API_SESSION_PER_USER_DEFAULT; at most 500). *out is new (api_sessions_free). */
int api_sessions_new(struct api_sessions **out, struct meta *m, unsigned idle_s,
                     unsigned lifetime_s, unsigned per_user, struct berr *err);
void api_sessions_free(struct api_sessions *s);

/* api_session_create stores a session for who (a user) and writes its id and CSRF token (hex +
 * NUL). When who already holds per_user sessions, who's oldest is dropped, nobody else's. */
int api_session_create(struct api_sessions *s, const struct principal *who,
                       char id[API_SESSION_ID_HEX + 1], char csrf[API_SESSION_CSRF_HEX + 1],
                       struct berr *err);
/* api_session_lookup finds a live session by id (touching it), copying its principal and CSRF
 * token; 0 when found, -1 when unknown, expired (then removed) or unreadable (store failure,
 * logged). No cache: a logout or drop on any replica counts at the next lookup. */
int api_session_lookup(struct api_sessions *s, const char *id, struct principal *who,
                       char csrf[API_SESSION_CSRF_HEX + 1]);
/* api_session_drop removes a session (logout); unknown ids are ignored, store failures logged. */
void api_session_drop(struct api_sessions *s, const char *id);
/* api_session_drop_user removes every session of a user (password change, deletion): 0, or -1
 * with err set when the store failed (some may remain). s NULL: nothing to do. */
int api_session_drop_user(struct api_sessions *s, const char *name, struct berr *err);

/* api_form_field finds key in an application/x-www-form-urlencoded body of len bytes and
 * decodes its value into out (cap bytes): 1 found, 0 absent, -1 malformed or too long. */
int api_form_field(const char *body, size_t len, const char *key, char *out, size_t cap);

/* api_session_handle serves /c/login (POST, form principal & password) and /c/log_out (GET).
 * Called by api_handle for URLs under /c/. */
int api_session_handle(struct req *r, struct http_reply *out);

#endif
