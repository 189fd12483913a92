/* api_quotas.c - Harbor's /quotas: GET /quotas (reference=project, reference_id, paging),
 * GET /quotas/{id}, PUT /quotas/{id} {"hard":{"storage":N}}; and GET /projects/{p}/summary
 * (Harbor's ProjectSummary: repo_count, member counts per role, quota). A quota's id is its project's id (one storage quota per project).
 *
 * Invariants:
 *   1. Lists and updates are for sysadmins; a project member may read its own project's quota.
 *   2. A limit below the current usage is accepted (harbor#15615) and the answer says so with a
 *      "warning" field and a log line; pushes that add bytes are refused from then on.
 * Thread-safe: all state is per request. */
#include "api/api_ext.h"

#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "storage/quota.h"

static json_t *quota_json(const struct quota_info *q)
{
    char created[32];
    char updated[32];

    api_time(q->created_at, created, sizeof(created));
    api_time(q->updated_at, updated, sizeof(updated));
    return json_pack("{s:I,s:{s:s,s:I,s:s},s:{s:I},s:{s:I},s:s,s:s}", "id", (json_int_t)q->id,
                     "ref", "name", q->project, "id", (json_int_t)q->project_id, "owner_name",
                     q->owner_name, "hard", "storage", (json_int_t)q->hard, "used", "storage",
                     (json_int_t)q->used, "creation_time", created, "update_time", updated);
}

json_t *api_quota_json(struct api_call *c, int64_t project_id)
{
    struct quota_info q;
    struct berr e;

    if (quota_get(c->r->reg->meta, project_id, &q, &e) < 0)
        return NULL;
    return json_pack("{s:{s:I},s:{s:I}}", "hard", "storage", (json_int_t)q.hard, "used", "storage",
                     (json_int_t)q.used);
}

static int quota_list_reply(struct api_call *c)
{
    const char *ref = req_query(c->r, "reference");
    const char *refid = req_query(c->r, "reference_id");
    struct quota_info *rows = NULL;
    struct api_page p;
    struct berr e;
    json_t *arr;
    int64_t pid = 0, total = 0;
    size_t n = 0;
    int rc;

    if (ref != NULL && strcmp(ref, "project") != 0)
        return api_fail(c, HTTP_BAD_REQUEST, "reference must be project");
    if (refid != NULL && !api_parse_id(refid, strlen(refid), &pid))
        return api_fail(c, HTTP_BAD_REQUEST, "reference_id must be a positive integer");
    if (api_page_parse(c, api_q_none, NULL, &p) < 0)
        return -1;
    if (p.sort[0] != '\0')
        return api_fail(c, HTTP_BAD_REQUEST, "unknown sort key");
    rows = mem_calloc(API_PAGE_SIZE_MAX, sizeof(*rows));
    if (rows == NULL)
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    if (quota_list(c->r->reg->meta, pid, (p.page - 1) * p.page_size, rows, (size_t)p.page_size, &n,
                   &total, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++)
        api_array_push(&arr, quota_json(&rows[i]));
    rc = api_reply_page(c, arr, &p, total);
out:
    mem_free(rows);
    return rc;
}

static int quota_put(struct api_call *c, int64_t id)
{
    json_t *body = NULL;
    json_t *hard;
    json_t *storage;
    struct berr e;
    int64_t used = 0, limit;
    int rc;

    rc = api_body(c, &body);
    if (rc < 0)
        return -1;
    hard = json_object_get(body, "hard");
    storage = json_is_object(hard) ? json_object_get(hard, "storage") : NULL;
    if (!json_is_object(hard) || !json_is_integer(storage)) {
        rc = api_fail(c, HTTP_BAD_REQUEST, "hard.storage must be an integer");
        goto out;
    }
    limit = (int64_t)json_integer_value(storage);
    if (limit < QUOTA_UNLIMITED || limit == 0) {
        /* Harbor refuses 0 as well: a quota of nothing is spelled as a tiny one */
        rc = api_fail(c, HTTP_BAD_REQUEST,
                      "hard.storage must be -1 (unlimited) or a positive byte count");
        goto out;
    }
    if (quota_set(c->r->reg->meta, id, limit, &used, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    if (limit >= 0 && used > limit) {
        char who[4 * sizeof(c->who.name)];
        log_msg(LOG_WARN, "%s quota %lld set to %lld bytes by %s, below its usage of %lld",
                c->r->reqid, (long long)id, (long long)limit,
                log_escape(who, sizeof(who), c->who.name), (long long)used);
        rc = api_reply_json(c, HTTP_OK,
                            json_pack("{s:{s:I},s:{s:I},s:s}", "hard", "storage", (json_int_t)limit,
                                      "used", "storage", (json_int_t)used, "warning",
                                      "the limit is below the current usage: pushes that add "
                                      "content are refused until usage drops"));
    } else {
        rc = api_reply_json(c, HTTP_OK,
                            json_pack("{s:{s:I},s:{s:I}}", "hard", "storage", (json_int_t)limit,
                                      "used", "storage", (json_int_t)used));
    }
out:
    json_decref(body);
    return rc;
}

int api_quota_list(struct api_call *c)
{
    return quota_list_reply(c);
}

int api_quota_put(struct api_call *c)
{
    return quota_put(c, c->id);
}

int api_quota_get(struct api_call *c)
{
    struct quota_info q;
    struct berr e;
    bool ok = false;

    if (quota_get(c->r->reg->meta, c->id, &q, &e) < 0)
        return api_fail_berr(c, &e);
    /* the row lets every caller in; the quota's project decides */
    if (api_project_allows(c, q.project_id, RBAC_RES_QUOTA, RBAC_ACT_READ, &ok, &e) < 0)
        return api_fail_berr(c, &e);
    if (!ok)
        return api_fail(c, HTTP_FORBIDDEN, "forbidden");
    return api_reply_json(c, HTTP_OK, quota_json(&q));
}

static int member_counts(struct api_call *c, int64_t project_id, json_t *j, struct berr *e)
{
    static const char *const keys[6] = {
            NULL,          "project_admin_count", "developer_count",
            "guest_count", "maintainer_count",    "limited_guest_count"};
    struct meta_member *rows;
    struct meta_list_q q;
    int64_t counts[6] = {0};
    int64_t total = 0;
    size_t n = 0;
    int rc = 0;

    rows = mem_calloc(META_LIST_MAX, sizeof(*rows));
    if (rows == NULL)
        return berr_set(e, BERR_INTERNAL, "out of memory");
    memset(&q, 0, sizeof(q));
    q.limit = META_LIST_MAX;
    do {
        rc = meta_member_list(c->r->reg->meta, project_id, &q, rows, META_LIST_MAX, &n, &total, e);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (rows[i].role >= 1 && rows[i].role <= 5)
                counts[rows[i].role]++;
        }
        q.offset += (int64_t)n;
    } while (rc == 0 && n > 0 && q.offset < total);
    mem_free(rows);
    for (int k = 1; rc == 0 && k <= 5; k++) {
        if (json_object_set_new(j, keys[k], json_integer((json_int_t)counts[k])) < 0)
            rc = berr_set(e, BERR_INTERNAL, "out of memory");
    }
    return rc;
}

int api_project_summary(struct api_call *c)
{
    const struct meta_project_info *p = c->proj;
    int role = c->role;
    struct berr e;
    json_t *j;
    json_t *quota;

    j = json_pack("{s:I}", "repo_count", (json_int_t)p->repo_count);
    if (j == NULL)
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    /* member counts and quota are for members (Harbor shows neither to outsiders) */
    if (api_is_sysadmin(c) || role > 0) {
        if (member_counts(c, p->p.id, j, &e) < 0) {
            json_decref(j);
            return api_fail_berr(c, &e);
        }
        quota = api_quota_json(c, p->p.id);
        if (quota == NULL || json_object_set_new(j, "quota", quota) < 0) {
            json_decref(j);
            return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
        }
    }
    return api_reply_json(c, HTTP_OK, j);
}
