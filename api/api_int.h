/* api_int.h - what the api/api*.c files share, and nobody else.
 *
 * One struct api_call per management API request: the request, the reply being built, the
 * caller (authenticated once by router.c), the path split into segments after /api/v2.0/, the
 * route row it matched and what the router resolved for it (the project, the caller's role, the
 * numeric path parameter). The router has checked the row's permission before the handler runs.
 * Handlers return 0 with the reply built, errors included (Harbor's {"errors":[...]} format,
 * built by api_fail*, never by registry/reply.c), or -1: when c->answered an error reply is
 * built (api_fail sets it), otherwise even that could not be allocated (the server answers 500). */
#ifndef BERTH_API_API_INT_H
#define BERTH_API_API_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api/routes.h"
#include "common/parse.h"
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
    char segbuf[1024];              /* NUL-separated copies of the segments (seg[] points here) */
    const struct api_route *route;  /* the row matched */
    struct meta_project_info *proj; /* PROJECT rows: the path's project (owned by the router) */
    int role;                       /* the caller's member role on proj (0: none, or no user) */
    int64_t id;                     /* the row's numeric path parameter, 0 when none */
    bool answered;                  /* an error reply is built (api_fail): -1 then means "stop" */
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

/* ---- replies ---- */
/* api_fail answers status with Harbor's error body ({"errors":[{"code","message"}]}); code is
 * derived from status. Returns 0 (the reply is built) or -1 (allocation failed). */
int api_fail(struct api_call *c, unsigned status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* api_stop: what a helper returns after answering an error: -1, whatever the api_fail* call
 * given returned (c->answered tells the router whether the error reply was built). */
static inline int api_stop(int rc)
{
    (void)rc;
    return -1;
}
/* api_fail_berr maps a storage error: NOT_FOUND 404, CONFLICT 409, BAD_REQUEST/NAME_INVALID 400,
 * STORAGE_FULL 507 (INSUFFICIENT_STORAGE, "storage full: ..."), else 500 ("internal error"). */
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
/* api_body parses r->body as a JSON object: 0 and *out (new, json_decref), or -1 with 400
 * answered (c->answered; not set when even that failed). */
int api_body(struct api_call *c, json_t **out);
/* JSON field readers: 0 when absent (*present false), 1 when present with the right type, -1
 * (and the 400 answered) for a wrong type. */
int api_get_str(struct api_call *c, json_t *obj, const char *key, const char **out, bool *present);
int api_get_int(struct api_call *c, json_t *obj, const char *key, int64_t *out, bool *present);
int api_get_bool(struct api_call *c, json_t *obj, const char *key, bool *out, bool *present);
/* api_parse_id: a decimal id > 0 filling the whole segment; false otherwise. */
bool api_parse_id(const char *s, size_t len, int64_t *out);
/* api_time writes RFC 3339 into out (cap >= 32). */
void api_time(int64_t t, char *out, size_t cap);

/* Paging and the q filter (Harbor's conventions), parsed by common/parse.c. */
struct api_page {
    int64_t page;      /* 1-based */
    int64_t page_size; /* 1..API_PAGE_SIZE_MAX */
    char sort[32];
    struct parse_q q; /* every term, checked against the endpoint's keys */
    /* read from q by api_page_parse when keys allow them: */
    char name[REPO_NAME_MAX + 1]; /* the name key's value */
    bool has_name;
    bool fuzzy;
    int public_only;    /* -1 any, from q public=true|false or ?public= */
    char level[16];     /* q Level= (robots) */
    int64_t project_id; /* q ProjectID= (robots), 0 = none */
};
/* The q keys each listing takes (a key not listed is a 400, never silently ignored). */
extern const struct parse_q_key api_q_none[];      /* quotas */
extern const struct parse_q_key api_q_name[];      /* repositories, tags: name */
extern const struct parse_q_key api_q_projects[];  /* name, public */
extern const struct parse_q_key api_q_robots[];    /* name, Level, ProjectID */
extern const struct parse_q_key api_q_users[];     /* username */
extern const struct parse_q_key api_q_members[];   /* entityname */
extern const struct parse_q_key api_q_artifacts[]; /* tags, digest */
/* api_page_parse reads page, page_size, sort and q (against keys); name_key, when not NULL,
 * is the q key of the name filter ("name", "username"). 0, or -1 with 400 answered (or
 * nothing, out of memory). */
int api_page_parse(struct api_call *c, const struct parse_q_key *keys, const char *name_key,
                   struct api_page *p);
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

/* ---- pending pull counts read with the database (api.c) ----
 * A reader that adds the pulls still pending in memory (pulls_peek) to counts it read from the
 * database brackets both reads, so that a flush landing between them (moving counts from
 * memory to the database) cannot make a count go down (read before the flush, peeked after)
 * or double:
 *     for (int t = 0;; t++) {
 *         uint64_t ep = api_pulls_begin(c, t);
 *         ... read the database ...;  api_pulls_between(c);  ... pulls_peek ...;
 *         if (failed || api_pulls_steady(c, ep, t)) break;
 *         ... drop what was built ...
 *     }
 * api_pulls_begin: the flush epoch to compare at the end; on the last try it flushes the
 * pending pulls first (flushes kept racing: what is then pending arrived after the read began).
 * api_pulls_steady: true when no flush ran since ep was taken, or on the last try
 * (API_PULLS_READ_TRIES); false means read again. */
#define API_PULLS_READ_TRIES 4
uint64_t api_pulls_begin(struct api_call *c, int try_n);
bool api_pulls_steady(struct api_call *c, uint64_t ep, int try_n);
/* api_pulls_between marks the point between the database read and the peeks; it calls
 * api_pulls_test_between when set (tests: a flush landing exactly there). */
void api_pulls_between(struct api_call *c);
extern void (*api_pulls_test_between)(struct api_call *c);
/* One page of a listing whose rows carry pull counts, read in that bracket. read fills rows (an
 * array of cap rows) as the meta_*_list calls do: *n rows of the page, *total rows in all;
 * row_json builds one row's JSON with its pending pulls added (NULL: allocation failed). Both
 * get ctx. */
typedef int (*api_rows_read_fn)(struct api_call *c, void *rows, size_t cap, size_t *n,
                                int64_t *total, struct berr *err, void *ctx);
typedef json_t *(*api_row_json_fn)(struct api_call *c, const void *row, void *ctx);
/* api_reply_pulls_page answers the page pg of such a listing (api_reply_page), rows of elem
 * bytes read and built inside the bracket and read again while a flush moved counts meanwhile;
 * a failed read answers its error (api_fail_berr). Returns what a handler returns. */
int api_reply_pulls_page(struct api_call *c, const struct api_page *pg, size_t elem,
                         api_rows_read_fn read, api_row_json_fn row_json, void *ctx);

/* ---- the central check (guard.c) ---- */
/* api_guard runs between authentication and the handler of c->route: 401 to an anonymous
 * caller on a row that needs one; for PROJECT rows, finds the project of the path (id, or name
 * with X-Is-Resource-Name: true or when not numeric: 404 when unknown) and the caller's role,
 * and refuses (401 anonymous, 403 otherwise) a caller that may not even read it; parses the
 * row's numeric parameter (400); then asks auth/rbac.c for the row's permission (401/403, the
 * row's message). 0: the handler may run; -1: stopped (answered when c->answered). */
int api_guard(struct api_call *c);
/* api_project_allows: *ok whether the caller may do res/act (a PROJECT rule of auth/rbac.c) on
 * project_id, a project found through an object the handler loaded (a robot's, a quota's, a
 * ProjectID filter's) rather than the path. -1 with err set when the role lookup fails. */
int api_project_allows(struct api_call *c, int64_t project_id, enum rbac_res res, enum rbac_act act,
                       bool *ok, struct berr *err);
/* api_project_role: the caller's member role on project_id (0 when none or not a user). */
int api_project_role(struct api_call *c, int64_t project_id, int *role, struct berr *err);

/* ---- handlers (rows of routes.c) ---- */
/* api_users.c */
int api_user_list(struct api_call *c);
int api_user_create(struct api_call *c);
int api_user_current(struct api_call *c);
int api_user_search(struct api_call *c);
int api_user_get(struct api_call *c);
int api_user_update(struct api_call *c);
int api_user_delete(struct api_call *c);
int api_user_password(struct api_call *c);
int api_user_sysadmin(struct api_call *c);
/* api_projects.c */
int api_project_list(struct api_call *c);
int api_project_head(struct api_call *c);
int api_project_create(struct api_call *c);
int api_project_get(struct api_call *c);
int api_project_update(struct api_call *c);
int api_project_delete(struct api_call *c);
int api_project_deletable(struct api_call *c);
/* api_members.c */
int api_member_list(struct api_call *c);
int api_member_add(struct api_call *c);
int api_member_get(struct api_call *c);
int api_member_update(struct api_call *c);
int api_member_delete(struct api_call *c);
/* api_robots.c */
int api_robot_list(struct api_call *c);
int api_robot_create(struct api_call *c);
int api_robot_one(struct api_call *c); /* GET, PUT, PATCH (refresh the secret), DELETE */
int api_project_robots(struct api_call *c);

#endif
