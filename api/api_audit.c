/* api_audit.c - the audit log over the API (Harbor's GET /audit-logs and /projects/{p}/logs,
 * POST /system/purgeaudit executing now), and the hook recording successful management API
 * changes (the /v2/ side records through registry/audit_hook.c).
 *
 * Invariants:
 *   1. Listing flushes the queue first, so a client sees every event recorded before its call.
 *   2. Only sysadmins read the whole log or purge it; project members (not limited guests) read
 *      their project's events.
 *   3. No secret reaches the log: login failures record the user name only; bodies are read for
 *      a resource name (project_name, username, name) and nothing else.
 * Thread-safe: all state is per request or in storage/audit.c. */
#include "api/api_ext.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "api/api_session.h"
#include "registry/audit_hook.h"
#include "registry/authz.h"
#include "storage/audit.h"

/* ---- listing ---- */

/* parse_time reads epoch seconds or "YYYY-MM-DD[ HH:MM:SS]" / "YYYY-MM-DDTHH:MM:SS[Z]" (UTC) */
static int parse_time(const char *s, size_t len, int64_t *out)
{
    char tmp[40];
    struct tm tm;
    uint64_t v;
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    time_t t;

    *out = 0;
    if (len == 0)
        return 0; /* open end */
    if (parse_u64(&v, s, len) == 0 && v <= INT64_MAX) {
        *out = (int64_t)v;
        return 0;
    }
    if (len >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (sscanf(tmp, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
        return -1;
    if (tmp[n] == ' ' || tmp[n] == 'T') {
        int m2 = 0;
        if (sscanf(tmp + n + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &m2) != 3)
            return -1;
        n += 1 + m2;
    }
    if (tmp[n] == 'Z')
        n++;
    if (tmp[n] != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (int64_t)t;
    return 0;
}

struct audit_filter {
    struct audit_q q;
    char username[AUDIT_USER_MAX + 1];
    char operation[AUDIT_WORD_MAX + 1];
    char resource_type[AUDIT_WORD_MAX + 1];
    char resource[AUDIT_RESOURCE_MAX + 1];
};

/* set_str copies one q value into buf and points *dst at it */
static int set_str(char *buf, size_t cap, const struct parse_q_term *t, const char **dst,
                   bool *fuzzy)
{
    size_t vlen = strlen(t->v[0]);

    if (vlen >= cap)
        return -1;
    memcpy(buf, t->v[0], vlen + 1);
    *dst = buf;
    *fuzzy = t->kind == PARSE_Q_FUZZY;
    return 0;
}

#define Q_EF (PARSE_Q_EXACT | PARSE_Q_FUZZY)

/* the audit log's q keys; any other is refused: it would silently list everything */
static const struct parse_q_key audit_keys[] = {
        {"username", Q_EF}, {"operation", Q_EF},        {"resource_type", Q_EF},
        {"resource", Q_EF}, {"op_time", PARSE_Q_RANGE}, {NULL, 0},
};

/* q_terms applies the parsed q to f */
static int q_terms(struct audit_filter *f, const struct parse_q *q)
{
    const struct parse_q_term *t;

    t = parse_q_find(q, "op_time");
    if (t != NULL && (parse_time(t->v[0], strlen(t->v[0]), &f->q.from) < 0 ||
                      parse_time(t->v[1], strlen(t->v[1]), &f->q.to) < 0))
        return -1;
    t = parse_q_find(q, "username");
    if (t != NULL &&
        set_str(f->username, sizeof(f->username), t, &f->q.username, &f->q.username_fuzzy) < 0)
        return -1;
    t = parse_q_find(q, "operation");
    if (t != NULL &&
        set_str(f->operation, sizeof(f->operation), t, &f->q.operation, &f->q.operation_fuzzy) < 0)
        return -1;
    t = parse_q_find(q, "resource_type");
    if (t != NULL && set_str(f->resource_type, sizeof(f->resource_type), t, &f->q.resource_type,
                             &f->q.resource_type_fuzzy) < 0)
        return -1;
    t = parse_q_find(q, "resource");
    if (t != NULL &&
        set_str(f->resource, sizeof(f->resource), t, &f->q.resource, &f->q.resource_fuzzy) < 0)
        return -1;
    return 0;
}

/* page_args reads page, page_size, sort and q; 0, or -1 with 400 answered */
static int page_args(struct api_call *c, struct audit_filter *f, struct api_page *p)
{
    const char *s;

    memset(f, 0, sizeof(*f));
    s = req_query(c->r, "sort");
    if (s != NULL && strcmp(s, "op_time") != 0 && strcmp(s, "-op_time") != 0) {
        (void)api_fail(c, HTTP_BAD_REQUEST, "sort must be op_time or -op_time");
        return -1;
    }
    if (api_page_parse(c, audit_keys, NULL, p) < 0)
        return -1;
    f->q.oldest_first = s != NULL && strcmp(s, "op_time") == 0;
    if (q_terms(f, &p->q) < 0) {
        (void)api_fail(c, HTTP_BAD_REQUEST, "invalid q");
        return -1;
    }
    f->q.offset = (p->page - 1) * p->page_size;
    return 0;
}

static json_t *event_json(const struct audit_event *e)
{
    char t[32];

    api_time(e->op_time, t, sizeof(t));
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:I}", "id", (json_int_t)e->id, "username",
                     e->username, "resource", e->resource, "resource_type", e->resource_type,
                     "operation", e->operation, "op_time", t, "operation_result", e->result,
                     "client_ip", e->client, "project_id", (json_int_t)e->project_id);
}

static int list_events(struct api_call *c, int64_t project_id)
{
    struct audit_filter *f;
    struct audit_event *ev = NULL;
    struct api_page p;
    struct berr e;
    json_t *arr = NULL;
    size_t n = 0;
    int64_t total = 0;
    int rc;

    f = mem_calloc(1, sizeof(*f));
    ev = mem_calloc(API_PAGE_SIZE_MAX, sizeof(*ev));
    if (f == NULL || ev == NULL) {
        rc = api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
        goto out;
    }
    rc = page_args(c, f, &p);
    if (rc < 0)
        goto out;
    f->q.project_id = project_id;
    if (audit_flush(c->r->reg->audit, NULL, &e) < 0) /* invariant 1 */
        log_msg(LOG_WARN, "%s audit flush before listing: %s", c->r->reqid, e.msg);
    if (audit_list(c->r->reg->meta, &f->q, ev, (size_t)p.page_size, &n, &total, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++)
        api_array_push(&arr, event_json(&ev[i]));
    rc = api_reply_page(c, arr, &p, total);
out:
    mem_free(ev);
    mem_free(f);
    return rc;
}

int api_audit_logs(struct api_call *c)
{
    return list_events(c, 0);
}

int api_project_logs(struct api_call *c)
{
    return list_events(c, c->proj->p.id);
}

/* ---- POST /system/purgeaudit ---- */

#define PURGE_HOURS_MAX (100LL * 365 * 24)

int api_system_purgeaudit(struct api_call *c)
{
    json_t *body = NULL;
    struct berr e;
    int64_t hours = 0, removed = 0;
    bool present = false;
    char who[4 * sizeof(c->who.name)];
    int rc;

    rc = api_body(c, &body);
    if (rc < 0)
        return -1;
    rc = api_get_int(c, body, "retention_hours", &hours, &present);
    if (rc < 0) {
        rc = 0; /* answered */
        goto out;
    }
    if (!present || hours < 0 || hours > PURGE_HOURS_MAX) {
        rc = api_fail(c, HTTP_BAD_REQUEST, "retention_hours must be 0..%lld",
                      (long long)PURGE_HOURS_MAX);
        goto out;
    }
    if (audit_flush(c->r->reg->audit, NULL, &e) < 0)
        log_msg(LOG_WARN, "%s audit flush before purge: %s", c->r->reqid, e.msg);
    if (audit_purge(c->r->reg->meta, now_s() - hours * 3600, &removed, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    log_msg(LOG_INFO, "%s audit purge by %s: %lld events older than %lld hours removed",
            c->r->reqid, log_escape(who, sizeof(who), c->who.name), (long long)removed,
            (long long)hours);
    rc = api_reply_json(c, HTTP_OK, json_pack("{s:I}", "removed", (json_int_t)removed));
out:
    json_decref(body);
    return rc;
}

/* ---- recording management API changes ---- */

/* body_name: the resource name in a JSON request body (project_name, username, name,
 * member_user.username), copied into out; "" when none */
static void body_name(struct api_call *c, char *out, size_t cap)
{
    static const char *const keys[] = {"project_name", "username", "name"};
    json_t *j;
    json_t *v;

    out[0] = '\0';
    if (c->r->body.len == 0)
        return;
    j = json_loadb(c->r->body.data, c->r->body.len, 0, NULL);
    if (j == NULL)
        return;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && out[0] == '\0'; i++) {
        v = json_object_get(j, keys[i]);
        if (json_is_string(v))
            (void)snprintf(out, cap, "%s", json_string_value(v)); /* cut at cap */
    }
    v = json_object_get(json_object_get(j, "member_user"), "username");
    if (out[0] == '\0' && json_is_string(v))
        (void)snprintf(out, cap, "%s", json_string_value(v)); /* cut at cap */
    json_decref(j);
}

void api_audit_after(struct api_call *c)
{
    const char *op;
    const char *type = NULL;
    const char *project = NULL;
    char name[AUDIT_RESOURCE_MAX + 1];
    char res[AUDIT_RESOURCE_MAX + 1];
    char addr[64];
    size_t used = 0;

    if (c->r->reg->audit == NULL || c->nseg == 0 || c->out->resp == NULL || c->out->status < 200 ||
        c->out->status > 299)
        return;
    switch (c->r->method) {
    case HTTP_POST:
        op = "create";
        break;
    case HTTP_PUT:
    case HTTP_PATCH:
        op = "update";
        break;
    case HTTP_DELETE:
        op = "delete";
        break;
    default:
        return;
    }
    if (strcmp(c->seg[0], "projects") == 0) {
        type = "project";
        if (c->nseg >= 2)
            project = c->seg[1];
        if (c->nseg >= 3 && strcmp(c->seg[2], "members") == 0)
            type = "project_member";
        else if (c->nseg >= 3 && strcmp(c->seg[2], "robots") == 0)
            type = "robot";
        else if (c->nseg >= 3 && strcmp(c->seg[2], "metadatas") == 0)
            type = "project";
        else if (c->nseg >= 3 && strcmp(c->seg[2], "repositories") == 0)
            type = c->nseg >= 5 ? "artifact" : "repository";
    } else if (strcmp(c->seg[0], "users") == 0) {
        type = "user";
    } else if (strcmp(c->seg[0], "robots") == 0) {
        type = "robot";
    } else if (strcmp(c->seg[0], "quotas") == 0) {
        type = "quota";
    } else {
        return; /* purgeaudit and reads are not changes of a resource */
    }
    /* resource: the path below /api/v2.0, plus the name from the body when it gives one */
    res[0] = '\0';
    for (size_t i = 0; i < c->nseg && used + 1 < sizeof(res); i++) {
        int n = snprintf(res + used, sizeof(res) - used, "%s%s", i > 0 ? "/" : "", c->seg[i]);
        if (n < 0)
            break;
        used += (size_t)n < sizeof(res) - used ? (size_t)n : sizeof(res) - used - 1;
    }
    body_name(c, name, sizeof(name));
    if (name[0] != '\0' && used + 1 < sizeof(res))
        (void)snprintf(res + used, sizeof(res) - used, " %s", name); /* cut at the field size */
    if (project == NULL && strcmp(type, "project") == 0 && name[0] != '\0')
        project = name;
    authz_client_addr(c->r, addr, sizeof(addr));
    (void)audit_record(c->r->reg->audit, c->who.name, op, type, res, project, addr, true);
}
