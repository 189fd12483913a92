/* api_int.h - what the registry/api*.c files share, and nobody else.
 *
 * One struct api_call per management API request: the request, the reply being built, the
 * caller (authenticated once by api.c) and the path split into segments after /api/v2.0/.
 * Handlers return 0 with the reply built, errors included (Harbor's {"errors":[...]} format,
 * built by api_fail*, never by registry/reply.c); -1 only when even the error reply could not be
 * allocated (the server then answers 500). */
#ifndef BERTH_API_API_INT_H
#define BERTH_API_API_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "registry/req.h"
#include "storage/meta.h"

#define API_PREFIX "/api/v2.0"
#define API_MAX_SEGS 8
#define API_PAGE_SIZE_DEFAULT 10
#define API_PAGE_SIZE_MAX 100

struct api_call {
    struct req *r;
    struct http_reply *out;
    struct principal who; /* zeroed = anonymous */
    const char *seg[API_MAX_SEGS];
    size_t seglen[API_MAX_SEGS];
    size_t nseg;
    char segbuf[1024]; /* NUL-separated copies of the segments (seg[] points here) */
};

/* ---- callers ---- */
static inline bool api_anonymous(const struct api_call *c)
{
    return c->who.kind == PRINCIPAL_ANONYMOUS;
}
static inline bool api_is_user(const struct api_call *c)
{
    return c->who.kind == PRINCIPAL_USER && c->who.user_id > 0;
}
static inline bool api_is_sysadmin(const struct api_call *c)
{
    return api_is_user(c) && c->who.sysadmin;
}
/* api_need_auth answers 401 for anonymous callers: returns 1 when it answered. */
int api_need_auth(struct api_call *c);
/* api_deny refuses the call: 401 "UnAuthorized" to an anonymous caller, who might be let in by
 * logging in, 403 "forbidden" to anyone else. Returns what api_fail returns. */
int api_deny(struct api_call *c);

/* ---- replies ---- */
/* api_fail answers status with Harbor's error body ({"errors":[{"code","message"}]}); code is
 * derived from status. Returns 0 (the reply is built) or -1 (allocation failed). */
int api_fail(struct api_call *c, unsigned status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* api_fail_berr maps a storage error: NOT_FOUND 404, CONFLICT 409, BAD_REQUEST/NAME_INVALID 400,
 * else 500 (message "internal error"). */
int api_fail_berr(struct api_call *c, const struct berr *e);
/* api_handle_end closes a handler entry point (api_handle, api_session_handle) with the rc of its
 * reply: 0 as is; when rc < 0, drops any half-built response and sets BERR_INTERNAL on r, -1. */
int api_handle_end(struct req *r, struct http_reply *out, int rc);
/* api_reply_json answers status with j (takes j, also on failure; NULL = allocation failed). */
int api_reply_json(struct api_call *c, unsigned status, json_t *j);
/* api_reply_empty answers status with no body. */
int api_reply_empty(struct api_call *c, unsigned status);
/* api_reply_created answers 201 with Location: API_PREFIX + location (a path). */
int api_reply_created(struct api_call *c, const char *location);
/* api_add_header adds a header to the reply built; -1 on failure. */
int api_add_header(struct api_call *c, const char *k, const char *v);

/* ---- request input ---- */
/* api_body parses r->body as a JSON object: 0 and *out (new, json_decref) or answers 400 and
 * returns 1 (-1 when even that failed). */
int api_body(struct api_call *c, json_t **out);
/* JSON field readers: 0 when absent (*present false), 1 when present with the right type, -1
 * (and the 400 answered) for a wrong type. */
int api_get_str(struct api_call *c, json_t *obj, const char *key, const char **out, bool *present);
int api_get_int(struct api_call *c, json_t *obj, const char *key, int64_t *out, bool *present);
int api_get_bool(struct api_call *c, json_t *obj, const char *key, bool *out, bool *present);
/* api_hexval: the value of the hex digit ch (either case), -1 when ch is none. */
int api_hexval(char ch);
/* api_parse_id: a decimal id > 0 filling the whole segment; false otherwise. */
bool api_parse_id(const char *s, size_t len, int64_t *out);
/* api_time writes RFC 3339 into out (cap >= 32). */
void api_time(int64_t t, char *out, size_t cap);

/* Paging and the q filter (Harbor's conventions). */
struct api_page {
    int64_t page;      /* 1-based */
    int64_t page_size; /* 1..API_PAGE_SIZE_MAX */
    char name[REPO_NAME_MAX + 1];
    bool has_name;
    bool fuzzy;
    int public_only; /* -1 any, from q public=true|false or ?public= */
    char sort[32];
    char level[16];     /* q Level= (robots) */
    int64_t project_id; /* q ProjectID= (robots), 0 = none */
};
/* api_page_parse reads page, page_size, q and sort; name_key is the q key of the name filter
 * ("name", "username"). Answers 400 and returns 1 on bad input. */
int api_page_parse(struct api_call *c, const char *name_key, struct api_page *p);
/* api_page_q fills a storage list query from p. */
void api_page_q(const struct api_page *p, struct meta_list_q *q);
/* api_page_headers adds X-Total-Count and Link (rel="prev"/"next") for total rows. */
int api_page_headers(struct api_call *c, const struct api_page *p, int64_t total);
/* api_array_push appends item (taken, may be NULL) to *arr. When either is NULL or the append
 * fails, the whole array is dropped and *arr becomes NULL, so the reply that follows answers 500. */
void api_array_push(json_t **arr, json_t *item);
/* api_reply_page answers 200 with arr (taken; NULL = allocation failed, answers 500) and then
 * the paging headers of p for total rows. The tail of every paged JSON listing. */
int api_reply_page(struct api_call *c, json_t *arr, const struct api_page *p, int64_t total);

/* ---- projects (api_projects.c) ---- */
/* api_project_lookup finds the project named by segment i (id, or name with X-Is-Resource-Name:
 * true or when not numeric) and the caller's role on it. Answers 404 (and returns 1) when
 * unknown, or 401/403 when the caller may not even read it. */
int api_project_lookup(struct api_call *c, size_t i, struct meta_project_info *p, int *role);
/* api_project_role: the caller's member role on project_id (0 when none or not a user). */
int api_project_role(struct api_call *c, int64_t project_id, int *role, struct berr *err);
/* api_project_readable: sysadmin, public, a member, or a robot with a grant on it. */
bool api_project_readable(struct api_call *c, const struct meta_project_info *p, int role);

/* ---- handlers ---- */
int api_users(struct api_call *c);    /* /users... */
int api_projects(struct api_call *c); /* /projects... (members and robots of a project too) */
int api_members(struct api_call *c, const struct meta_project_info *p, int role);
int api_robots(struct api_call *c); /* /robots... */
int api_project_robots(struct api_call *c, const struct meta_project_info *p, int role);

#endif
