/* api_repos.c - /api/v2.0 repositories (Harbor's paths and field names):
 *   GET  /repositories                                          every readable repository
 *   GET  /projects/{p}/repositories                             one project's
 *   GET|PUT|DELETE /projects/{p}/repositories/{r}               {r} URL-encoded twice when it
 *                                                               holds '/', as Harbor (%252F)
 * Also the helpers api_artifacts.c uses too: api_repo_from_path ({r} parsed), api_time_json and
 * api_json_set (Harbor's JSON fields).
 *
 * Invariants:
 *   1. The router has checked the row's permission (routes.c, auth/rbac.c): reading needs only
 *      that the project is readable (public, member of any role, sysadmin, robot with a grant);
 *      deleting a repository and changing its description need delete (projectAdmin,
 *      maintainer, sysadmin, robots granted delete): developers and guests get 403, anonymous
 *      callers 401.
 *   2. The repository name from the path is parsed (repo_name_parse) before any storage call;
 *      a malformed one is a 400, an unknown one a 404.
 *   3. pull_count and pull_time are the database's plus the pulls still pending in memory
 *      (pulls_peek), read with no flush between the two (api_pulls_begin/steady, api_int.h).
 * Thread-safe: per-request state only. */
#include "api/api_content.h"

#include <string.h>

#include "common/mem.h"
#include "storage/meta.h"
#include "storage/pulls.h"

#define ZERO_TIME "0001-01-01T00:00:00Z" /* Harbor's never-pulled time */

/* ---- helpers ---- */

int api_repo_from_path(struct api_call *c, size_t i, struct repo_name *out)
{
    const struct meta_project_info *p = c->proj;
    char name[REPO_NAME_MAX + 2];
    size_t len = strlen(p->p.name);
    const char *s = c->seg[i];
    size_t k;
    struct berr e;

    if (len + 1 >= sizeof(name) || i >= c->nseg) {
        (void)api_fail(c, HTTP_BAD_REQUEST, "invalid repository name");
        return -1;
    }
    memcpy(name, p->p.name, len);
    name[len++] = '/';
    for (k = 0; k < c->seglen[i]; k++) {
        char ch = s[k];
        if (ch == '%' && k + 2 < c->seglen[i] && parse_hex_digit(s[k + 1]) >= 0 &&
            parse_hex_digit(s[k + 2]) >= 0) {
            ch = (char)(parse_hex_digit(s[k + 1]) * 16 + parse_hex_digit(s[k + 2]));
            k += 2;
        }
        if (len + 1 >= sizeof(name)) {
            (void)api_fail(c, HTTP_BAD_REQUEST, "invalid repository name");
            return -1;
        }
        name[len++] = ch;
    }
    name[len] = '\0';
    if (repo_name_parse(out, name, len, &e) < 0) {
        (void)api_fail(c, HTTP_BAD_REQUEST, "invalid repository name");
        return -1;
    }
    return 0;
}

json_t *api_time_json(int64_t t)
{
    char buf[32];

    if (t <= 0)
        return json_string(ZERO_TIME);
    api_time(t, buf, sizeof(buf));
    return json_string(buf);
}

/* api_json_set: json_object_set_new with the failure folded into *ok */
void api_json_set(json_t *o, const char *k, json_t *v, bool *ok)
{
    if (v == NULL || json_object_set_new(o, k, v) < 0)
        *ok = false;
}

/* ---- repositories ---- */

/* repo_json: r with the pulls still pending in memory added (read-your-writes) */
static json_t *repo_json(const struct api_call *c, const struct meta_repo_info *r)
{
    json_t *j = json_object();
    bool ok = j != NULL;
    struct repo_name rn;
    struct berr e;
    int64_t count = r->pull_count;
    int64_t last = r->pull_time;

    if (!ok)
        return NULL;
    if (repo_name_parse(&rn, r->name, strlen(r->name), &e) == 0)
        pulls_peek(c->r->reg->pulls, &rn, NULL, NULL, &count, &last);
    api_json_set(j, "id", json_integer(r->id), &ok);
    api_json_set(j, "project_id", json_integer(r->project_id), &ok);
    api_json_set(j, "name", json_string(r->name), &ok);
    api_json_set(j, "description", json_string(r->description), &ok);
    api_json_set(j, "artifact_count", json_integer(r->artifact_count), &ok);
    api_json_set(j, "pull_count", json_integer(count), &ok);
    api_json_set(j, "pull_time", api_time_json(last), &ok);
    api_json_set(j, "creation_time", api_time_json(r->created_at), &ok);
    api_json_set(j, "update_time", api_time_json(r->updated_at), &ok);
    if (!ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static int repo_rows(struct api_call *c, void *rows, size_t cap, size_t *n, int64_t *total,
                     struct berr *err, void *ctx)
{
    return meta_repo_list(c->r->reg->meta, ctx, rows, cap, n, total, err);
}

static json_t *repo_row_json(struct api_call *c, const void *row, void *ctx)
{
    (void)ctx;
    return repo_json(c, row);
}

static int repo_list(struct api_call *c, const struct meta_project_info *p)
{
    struct meta_repo_q q;
    struct api_page pg;

    if (api_page_parse(c, api_q_name, "name", &pg) < 0)
        return -1;
    memset(&q, 0, sizeof(q));
    api_page_q(&pg, &q.l);
    q.project_id = p != NULL ? p->p.id : 0;
    /* inside a readable project every repository is readable */
    q.all = p != NULL || api_is_sysadmin(c);
    q.viewer_user_id = api_is_user(c) ? c->who.user_id : 0;
    q.viewer_robot_id = c->who.kind == PRINCIPAL_ROBOT ? c->who.robot_id : 0;
    return api_reply_pulls_page(c, &pg, sizeof(struct meta_repo_info), repo_rows, repo_row_json,
                                &q);
}

int api_repositories(struct api_call *c)
{
    return repo_list(c, NULL);
}

int api_repo_list(struct api_call *c)
{
    return repo_list(c, c->proj);
}

int api_repo_update(struct api_call *c)
{
    struct repo_name repo;
    json_t *body = NULL;
    const char *desc;
    bool has;
    struct berr e;
    int rc;

    if (api_repo_from_path(c, 3, &repo) < 0)
        return -1;
    rc = api_body(c, &body);
    if (rc < 0)
        return -1;
    if (api_get_str(c, body, "description", &desc, &has) < 0) {
        rc = 0;
        goto out;
    }
    if (meta_repo_set_description(c->r->reg->meta, &repo, has ? desc : "", &e) < 0)
        rc = api_fail_berr(c, &e);
    else
        rc = api_reply_empty(c, HTTP_OK);
out:
    json_decref(body);
    return rc;
}

int api_repo_load(struct api_call *c, size_t i, struct meta_repo_info **out)
{
    struct meta_repo_info *info;
    struct repo_name repo;
    struct berr e;

    *out = NULL;
    if (api_repo_from_path(c, i, &repo) < 0)
        return -1;
    info = mem_malloc(sizeof(*info));
    if (info == NULL) {
        (void)api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
        return -1;
    }
    if (meta_repo_info_get(c->r->reg->meta, &repo, info, &e) < 0) {
        mem_free(info);
        (void)api_fail_berr(c, &e);
        return -1;
    }
    *out = info;
    return 0;
}

int api_repo_get(struct api_call *c)
{
    struct meta_repo_info *info;
    int rc;

    json_t *j = NULL;

    for (int t = 0;; t++) { /* the row and its pending counts with no flush between */
        uint64_t ep = api_pulls_begin(c, t);

        if (api_repo_load(c, 3, &info) < 0)
            return -1;
        api_pulls_between(c);
        j = repo_json(c, info);
        mem_free(info);
        if (j == NULL || api_pulls_steady(c, ep, t))
            break;
        json_decref(j);
    }
    rc = api_reply_json(c, HTTP_OK, j);
    return rc;
}

int api_repo_delete(struct api_call *c)
{
    struct repo_name repo;
    struct berr e;

    if (api_repo_from_path(c, 3, &repo) < 0)
        return -1;
    if (meta_repo_delete(c->r->reg->meta, &repo, &e) < 0)
        return api_fail_berr(c, &e);
    return api_reply_empty(c, HTTP_OK);
}
