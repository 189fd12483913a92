/* api_misc.c - registry-wide endpoints of /api/v2.0: ping, statistics, search, systeminfo,
 * health, the OpenAPI document, and Prometheus metrics (also at the root path /metrics). Who may
 * call them is in their rows of routes.c (metrics: sysadmins by default, see metrics_access;
 * statistics: any caller logged in).
 *
 * Invariants:
 *   1. Nothing here shows a private project or repository to a caller who may not read it:
 *      statistics count private projects the caller is a member of (all for sysadmins), search
 *      uses the same visibility filters as the lists; metrics name every repository, so they
 *      are for sysadmins unless metrics_access or metrics_listen says otherwise.
 *   2. /health runs real checks: a query on the database and a write probe (create, fsync,
 *      unlink) in the data directory; any failure makes the overall status "unhealthy". The
 *      storage component also reports the bytes free and the filesystem's size (statvfs), as
 *      /metrics does (berth_storage_free_bytes, berth_storage_capacity_bytes).
 *   3. /metrics and search add the pull counts still pending in memory to the database's
 *      (pulls_peek), read with no flush between the two (search: api_pulls_begin/steady), so a
 *      pull shows at once, exactly once, and a scrape never writes. Who may read it is configured
 *      (metrics_access admin|auth|open, applied by api/guard.c; metrics_listen serves it
 *      alone on another address, and this listener then answers 404).
 *   4. /openapi.json serves the bytes of webui/openapi.json embedded at build time, the same file
 *      kept in the repository as docs/openapi.json.
 * Thread-safe: per-request state only. */
#include "api/api_content.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "api/mount.h"
#include "api/ui_assets.h"
#include "auth/authn.h"
#include "http/metrics.h"
#include "storage/blob_store.h"
#include "storage/meta.h"
#include "storage/pulls.h"

#define BERTH_HARBOR_VERSION "berth-0.1.0"
#define SEARCH_MAX 100
#define METRICS_MAX_BYTES (8u * 1024 * 1024)
#define METRICS_READ_TRIES 8 /* reads of the repository counters racing a flush */

/* ---- ping ---- */

int api_ping(struct api_call *c)
{
    c->out->resp = http_resp_bytes("Pong", 4, "text/plain; charset=utf-8");
    c->out->status = HTTP_OK;
    c->out->len = 4;
    return c->out->resp != NULL ? 0 : -1;
}

/* ---- statistics ---- */

int api_statistics(struct api_call *c)
{
    struct meta_stats s;
    struct berr e;

    if (meta_stats_get(c->r->reg->meta, api_is_sysadmin(c), api_is_user(c) ? c->who.user_id : 0, &s,
                       &e) < 0)
        return api_fail_berr(c, &e);
    return api_reply_json(
            c, HTTP_OK,
            json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "private_project_count",
                      (json_int_t)s.private_project_count, "private_repo_count",
                      (json_int_t)s.private_repo_count, "public_project_count",
                      (json_int_t)s.public_project_count, "public_repo_count",
                      (json_int_t)s.public_repo_count, "total_project_count",
                      (json_int_t)s.total_project_count, "total_repo_count",
                      (json_int_t)s.total_repo_count, "total_storage_consumption",
                      (json_int_t)(api_is_sysadmin(c) ? s.total_storage_consumption : 0)));
}

/* ---- search ---- */

static json_t *search_project_json(struct api_call *c, const struct meta_project_info *p)
{
    char created[32];
    char updated[32];
    struct berr e;
    int role = 0;

    if (api_project_role(c, p->p.id, &role, &e) < 0)
        return NULL;
    api_time(p->p.created_at, created, sizeof(created));
    api_time(p->updated_at, updated, sizeof(updated));
    return json_pack("{s:I,s:I,s:s,s:s,s:s,s:b,s:s,s:i,s:I,s:{s:s}}", "project_id",
                     (json_int_t)p->p.id, "owner_id", (json_int_t)p->owner_id, "name", p->p.name,
                     "creation_time", created, "update_time", updated, "deleted", 0, "owner_name",
                     p->owner_name, "current_user_role_id", role, "repo_count",
                     (json_int_t)p->repo_count, "metadata", "public",
                     p->p.public ? "true" : "false");
}

static json_t *search_repo_json(const struct api_call *c, const struct meta_repo_info *r)
{
    char project[REPO_NAME_MAX + 1];
    const char *slash = strchr(r->name, '/');
    size_t plen = slash != NULL ? (size_t)(slash - r->name) : strlen(r->name);
    int64_t count = r->pull_count;
    int64_t last = 0;
    struct repo_name rn;
    struct berr e;

    if (repo_name_parse(&rn, r->name, strlen(r->name), &e) == 0)
        pulls_peek(c->r->reg->pulls, &rn, NULL, NULL, &count, &last); /* read-your-writes */
    memcpy(project, r->name, plen);
    project[plen] = '\0';
    return json_pack("{s:I,s:s,s:b,s:s,s:I,s:I}", "project_id", (json_int_t)r->project_id,
                     "project_name", project, "project_public", r->project_public ? 1 : 0,
                     "repository_name", r->name, "pull_count", (json_int_t)count, "artifact_count",
                     (json_int_t)r->artifact_count);
}

int api_search(struct api_call *c)
{
    const char *q = req_query(c->r, "q");
    struct meta_project_info *projects = NULL;
    struct meta_repo_info *repos = NULL;
    struct meta_project_q pq;
    struct meta_repo_q rq;
    json_t *parr = NULL, *rarr = NULL;
    struct berr e;
    int64_t total;
    size_t n, i;
    int rc;

    if (q == NULL || q[0] == '\0')
        return api_fail(c, HTTP_BAD_REQUEST, "q is required");
    if (strlen(q) > REPO_NAME_MAX)
        return api_fail(c, HTTP_BAD_REQUEST, "q is too long");
    projects = mem_calloc(SEARCH_MAX, sizeof(*projects));
    repos = mem_calloc(SEARCH_MAX, sizeof(*repos));
    parr = json_array();
    rarr = json_array();
    if (projects == NULL || repos == NULL || parr == NULL || rarr == NULL) {
        rc = api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
        goto out;
    }
    memset(&pq, 0, sizeof(pq));
    pq.l.name = q;
    pq.l.fuzzy = true;
    pq.l.sort = "name";
    pq.l.limit = SEARCH_MAX;
    pq.public_only = -1;
    pq.all = api_is_sysadmin(c);
    pq.viewer_user_id = api_is_user(c) ? c->who.user_id : 0;
    /* a robot finds the projects it has a grant on, as it finds their repositories below */
    pq.viewer_robot_id = c->who.kind == PRINCIPAL_ROBOT ? c->who.robot_id : 0;
    if (meta_project_list(c->r->reg->meta, &pq, projects, SEARCH_MAX, &n, &total, &e) < 0) {
        rc = api_fail_berr(c, &e);
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (json_array_append_new(parr, search_project_json(c, &projects[i])) < 0) {
            rc = api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
            goto out;
        }
    }
    memset(&rq, 0, sizeof(rq));
    rq.l.name = q;
    rq.l.fuzzy = true;
    rq.l.sort = "name";
    rq.l.limit = SEARCH_MAX;
    rq.all = api_is_sysadmin(c);
    rq.viewer_user_id = api_is_user(c) ? c->who.user_id : 0;
    rq.viewer_robot_id = c->who.kind == PRINCIPAL_ROBOT ? c->who.robot_id : 0;
    for (int t = 0;; t++) { /* the rows and their pending counts with no flush between */
        uint64_t ep = api_pulls_begin(c, t);

        if (meta_repo_list(c->r->reg->meta, &rq, repos, SEARCH_MAX, &n, &total, &e) < 0) {
            rc = api_fail_berr(c, &e);
            goto out;
        }
        api_pulls_between(c);
        for (i = 0; i < n; i++) {
            if (json_array_append_new(rarr, search_repo_json(c, &repos[i])) < 0) {
                rc = api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
                goto out;
            }
        }
        if (api_pulls_steady(c, ep, t))
            break;
        if (json_array_clear(rarr) < 0) {
            rc = api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
            goto out;
        }
    }
    rc = api_reply_json(c, HTTP_OK, json_pack("{s:o,s:o}", "project", parr, "repository", rarr));
    parr = NULL; /* json_pack's "o" took them, also on failure */
    rarr = NULL;
out:
    json_decref(parr);
    json_decref(rarr);
    mem_free(projects);
    mem_free(repos);
    return rc;
}

/* ---- systeminfo ---- */

int api_systeminfo(struct api_call *c)
{
    const char *host = req_header(c->r, HTTP_HEADER_HOST);
    char now[32];

    /* a Host header goes back only when it is a plain host[:port] */
    if (host == NULL || host[0] == '\0' || strlen(host) > 255 ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
                strlen(host))
        host = c->r->reg->cfg->listen;
    api_time(now_s(), now, sizeof(now));
    return api_reply_json(c, HTTP_OK,
                          json_pack("{s:s,s:s,s:b,s:b,s:s,s:s,s:s,s:b,s:b,s:b,s:b,s:b,s:s,s:s}",
                                    "harbor_version", BERTH_HARBOR_VERSION, "auth_mode", "db_auth",
                                    "primary_auth_mode", 0, "self_registration", 0, "registry_url",
                                    host, "external_url", host, "current_time", now, "has_ca_root",
                                    0, "read_only", 0, "with_chartmuseum", 0, "with_notary", 0,
                                    "notification_enable", 0, "registry_storage_provider_name",
                                    "filesystem", "banner_message", ""));
}

/* ---- health ---- */

/* probe_storage creates, fsyncs and removes a file in the data directory */
static int probe_storage(const char *dir, char *why, size_t cap)
{
    char path[PATH_MAX];
    int fd;
    int n = snprintf(path, sizeof(path), "%s/.health-%ld", dir, (long)getpid());

    if (n < 0 || (size_t)n >= sizeof(path)) {
        (void)snprintf(why, cap, "data directory path too long");
        return -1;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, "ok", 2) != 2 || fsync(fd) < 0) {
        (void)snprintf(why, cap, "cannot write to the data directory: %s", strerror(errno));
        if (fd >= 0)
            (void)close(fd); /* already failing */
        (void)unlink(path);  /* best effort */
        return -1;
    }
    if (close(fd) < 0 || unlink(path) < 0) {
        (void)snprintf(why, cap, "cannot write to the data directory: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static json_t *component(const char *name, bool ok, const char *why)
{
    if (ok)
        return json_pack("{s:s,s:s}", "name", name, "status", "healthy");
    return json_pack("{s:s,s:s,s:s}", "name", name, "status", "unhealthy", "error", why);
}

/* clamp_i64: a byte count as a JSON integer (jansson's are signed) */
static json_int_t clamp_i64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v;
}

int api_health(struct api_call *c)
{
    char swhy[160] = "";
    json_t *storage;
    uint64_t avail = 0, total = 0;
    struct berr e;
    bool db_ok, st_ok;
    int version = 0;

    db_ok = meta_schema_version(c->r->reg->meta, &version, &e) == 0 && version > 0;
    st_ok = probe_storage(c->r->reg->cfg->data_dir, swhy, sizeof(swhy)) == 0;
    if (!st_ok)
        log_msg(LOG_WARN, "health: %s", swhy);
    /* the client sees a short reason, not paths */
    storage = component("storage", st_ok, "data directory not writable");
    if (storage != NULL && blob_store_free(c->r->reg->blobs, &avail, &total, &e) == 0 &&
        (json_object_set_new(storage, "free_bytes", json_integer(clamp_i64(avail))) < 0 ||
         json_object_set_new(storage, "total_bytes", json_integer(clamp_i64(total))) < 0)) {
        json_decref(storage);
        storage = NULL; /* json_pack below fails on NULL: the reply is a 500 */
    }
    return api_reply_json(
            c, HTTP_OK,
            json_pack("{s:s,s:[o,o,o]}", "status", db_ok && st_ok ? "healthy" : "unhealthy",
                      "components", component("core", true, ""),
                      component("database", db_ok, "database query failed"), storage));
}

/* ---- OpenAPI document ---- */

int api_openapi(struct api_call *c)
{
    for (unsigned i = 0; i < ui_assets_count; i++) {
        if (strcmp(ui_assets[i].path, "/openapi.json") != 0)
            continue;
        c->out->resp = http_resp_bytes(ui_assets[i].data, ui_assets[i].len, "application/json");
        c->out->status = HTTP_OK;
        c->out->len = ui_assets[i].len;
        return c->out->resp != NULL ? 0 : -1;
    }
    return api_fail(c, HTTP_NOT_FOUND, "the OpenAPI document was not built in");
}

/* ---- metrics ---- */

/* metrics_repos: pulls and pushes per project and repository; pulls include the counts still
 * pending in memory (invariant 3) */
static int metrics_repos(struct api_call *c, struct buf *b)
{
    struct meta_repo_info *rows = mem_calloc(META_LIST_MAX, sizeof(*rows));
    struct buf pushes;
    struct meta_repo_q q;
    struct repo_name rn;
    struct berr e;
    int64_t total = 0;
    size_t n, i;
    int rc = 0;

    buf_init(&pushes, METRICS_MAX_BYTES / 2);
    if (rows == NULL)
        rc = -1;
    if (rc == 0)
        rc = buf_appends(b, "# HELP berth_pulls_total Successful manifest GETs (image pulls and "
                            "child fetches) per repository.\n"
                            "# TYPE berth_pulls_total counter\n");
    if (rc == 0)
        rc = buf_appends(&pushes, "# HELP berth_pushes_total Manifest pushes per repository.\n"
                                  "# TYPE berth_pushes_total counter\n");
    memset(&q, 0, sizeof(q));
    q.all = true;
    q.l.sort = "name";
    q.l.limit = META_LIST_MAX;
    do {
        if (rc < 0 ||
            meta_repo_list(c->r->reg->meta, &q, rows, META_LIST_MAX, &n, &total, &e) < 0) {
            rc = -1;
            break;
        }
        /* names match the distribution grammar: no quote, backslash or newline to escape */
        for (i = 0; i < n && rc == 0; i++) {
            int64_t count = rows[i].pull_count;
            int64_t last = 0;
            int plen = (int)strcspn(rows[i].name, "/");

            if (repo_name_parse(&rn, rows[i].name, strlen(rows[i].name), &e) == 0)
                pulls_peek(c->r->reg->pulls, &rn, NULL, NULL, &count, &last);
            rc = buf_printf(b, "berth_pulls_total{project=\"%.*s\",repository=\"%s\"} %lld\n", plen,
                            rows[i].name, rows[i].name, (long long)count);
            if (rc == 0)
                rc = buf_printf(&pushes,
                                "berth_pushes_total{project=\"%.*s\",repository=\"%s\"} %lld\n",
                                plen, rows[i].name, rows[i].name, (long long)rows[i].push_count);
        }
        q.l.offset += (int64_t)n;
    } while (rc == 0 && n == META_LIST_MAX && q.l.offset < total);
    if (rc == 0 && pushes.len > 0)
        rc = buf_append(b, pushes.data, pushes.len);
    buf_cleanup(&pushes);
    mem_free(rows);
    return rc;
}

/* metrics_repos_stable: metrics_repos with no flush between its database read and its peeks at
 * the pending counts (a flush in between would hide the pulls it moved); b keeps one try. */
static int metrics_repos_stable(struct api_call *c, struct buf *b)
{
    size_t mark = b->len;
    uint64_t epoch;
    int rc = -1;

    if (c->r->reg->pulls == NULL)
        return metrics_repos(c, b);
    for (int tries = 0; tries < METRICS_READ_TRIES; tries++) {
        b->len = mark;
        epoch = pulls_epoch(c->r->reg->pulls);
        rc = metrics_repos(c, b);
        if (rc < 0 || (epoch != 0 && epoch == pulls_epoch(c->r->reg->pulls)))
            return rc;
        usleep(1000); /* a flush is writing: it ends within milliseconds */
    }
    return rc; /* flushes kept racing: the last read, at worst short of one interval */
}

static int metrics_text(struct api_call *c, struct buf *b)
{
    struct pulls *p = c->r->reg->pulls;
    struct meta_stats s;
    struct berr e;
    uint64_t flushes = 0, avail = 0, fs_total = 0;
    double last_s = 0, total_s = 0;
    int rc = metrics_repos_stable(c, b);

    if (p != NULL)
        pulls_flush_stats(p, &flushes, &last_s, &total_s);
    if (rc == 0 && meta_stats_get(c->r->reg->meta, true, 0, &s, &e) < 0)
        rc = -1;
    if (rc == 0 && blob_store_free(c->r->reg->blobs, &avail, &fs_total, &e) < 0)
        rc = -1;
    if (rc == 0)
        rc = buf_printf(b,
                        "# HELP berth_storage_free_bytes Bytes free for Berth on the filesystem"
                        " of the data directory.\n"
                        "# TYPE berth_storage_free_bytes gauge\nberth_storage_free_bytes %llu\n"
                        "# HELP berth_storage_capacity_bytes Size of the filesystem of the data"
                        " directory.\n"
                        "# TYPE berth_storage_capacity_bytes gauge\n"
                        "berth_storage_capacity_bytes %llu\n",
                        (unsigned long long)avail, (unsigned long long)fs_total);
    if (rc == 0)
        rc = buf_printf(
                b,
                "# HELP berth_pulls_pending Pulls counted in memory, not yet written.\n"
                "# TYPE berth_pulls_pending gauge\nberth_pulls_pending %llu\n"
                "# HELP berth_pull_flushes_total Flushes of the pull counters to the database.\n"
                "# TYPE berth_pull_flushes_total counter\nberth_pull_flushes_total %llu\n"
                "# HELP berth_pull_flush_seconds_total Time spent writing pull counters.\n"
                "# TYPE berth_pull_flush_seconds_total counter\n"
                "berth_pull_flush_seconds_total %.6f\n"
                "# HELP berth_pull_flush_last_seconds Duration of the last pull counter flush.\n"
                "# TYPE berth_pull_flush_last_seconds gauge\nberth_pull_flush_last_seconds %.6f\n"
                "# HELP berth_projects Projects.\n# TYPE berth_projects gauge\n"
                "berth_projects{public=\"true\"} %lld\n"
                "berth_projects{public=\"false\"} %lld\n"
                "# HELP berth_repositories Repositories holding content.\n"
                "# TYPE berth_repositories gauge\n"
                "berth_repositories{public=\"true\"} %lld\n"
                "berth_repositories{public=\"false\"} %lld\n"
                "# HELP berth_storage_bytes Bytes of every blob known.\n"
                "# TYPE berth_storage_bytes gauge\nberth_storage_bytes %lld\n"
                "# HELP berth_blobs Blobs known.\n# TYPE berth_blobs gauge\nberth_blobs %lld\n"
                "# HELP berth_tokens_issued_total Bearer tokens issued.\n"
                "# TYPE berth_tokens_issued_total counter\nberth_tokens_issued_total %llu\n"
                "# HELP berth_failed_logins_total Logins refused for a wrong name or secret.\n"
                "# TYPE berth_failed_logins_total counter\nberth_failed_logins_total %llu\n",
                (unsigned long long)(p != NULL ? pulls_pending(p) : 0), (unsigned long long)flushes,
                total_s, last_s, (long long)s.public_project_count,
                (long long)s.private_project_count, (long long)s.public_repo_count,
                (long long)s.private_repo_count, (long long)s.total_storage_consumption,
                (long long)s.total_blob_count, (unsigned long long)token_issued_total(),
                (unsigned long long)authn_failed_logins());
    if (rc == 0)
        rc = http_metrics_write(b);
    return rc;
}

static int metrics_reply(struct api_call *c)
{
    struct buf b;

    buf_init(&b, METRICS_MAX_BYTES);
    if (metrics_text(c, &b) < 0) {
        buf_cleanup(&b);
        return api_fail(c, HTTP_INTERNAL_SERVER_ERROR, "internal error");
    }
    c->out->resp = http_resp_bytes(b.data != NULL ? b.data : "", b.len,
                                   "text/plain; version=0.0.4; charset=utf-8");
    c->out->status = HTTP_OK;
    c->out->len = b.len;
    buf_cleanup(&b);
    return c->out->resp != NULL ? 0 : -1;
}

int api_metrics(struct api_call *c)
{
    /* who may read it was decided by the guard (metrics_access); a separate listener serves it
     * alone */
    if (c->r->reg->cfg->metrics_listen[0] != '\0')
        return api_fail(c, HTTP_NOT_FOUND, "metrics are served on the metrics listener");
    return metrics_reply(c);
}

int api_metrics_listener(struct req *r, struct http_reply *out)
{
    struct api_call *c = mem_calloc(1, sizeof(*c));
    int rc;

    if (c == NULL)
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    c->r = r;
    c->out = out;
    if (strcmp(r->url, "/metrics") != 0)
        rc = api_fail(c, HTTP_NOT_FOUND, "not found");
    else if (r->method != HTTP_GET && r->method != HTTP_HEAD)
        rc = api_fail(c, HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    else
        rc = metrics_reply(c);
    mem_free(c);
    return api_handle_end(r, out, rc);
}
