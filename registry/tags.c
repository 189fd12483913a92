/* tags.c - GET /v2/<name>/tags/list and GET /v2/_catalog, with n/last pagination.
 *
 * Both lists come from storage/meta in lexical (byte) order, strictly after `last`.
 *   1. n is capped at cfg->list_max; without n a page holds list_max entries. n=0 is an empty
 *      list (spec), never "everything".
 *   2. When entries remain after a page, and only then, the reply carries
 *      Link: </v2/...?n=<n>&last=<last entry, percent-encoded>>; rel="next", n being the
 *      effective (capped) page size (built by http/link.c).
 *   3. A malformed n (not a plain decimal number) is 400 BAD_REQUEST: the distribution spec
 *      defines no code for it (distribution answers PAGINATION_NUMBER_INVALID, which is not in
 *      the spec's table), and silently ignoring it would hide a client bug.
 * _catalog lists only repositories of projects the caller may pull from (catalog_add).
 * JSON is built with jansson, never by hand. No shared state. */
#include "registry/req.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "auth/rbac.h"
#include "common/mem.h"
#include "common/util.h"
#include "http/link.h"
#include "registry/authz.h"
#include "storage/meta.h"

/* longest `last` accepted: a repository name or a tag is shorter */
#define LIST_LAST_MAX 512
/* ceiling of the Link value: the path, n, and `last` percent-encoded */
#define LIST_LINK_MAX (REPO_NAME_MAX + 3 * LIST_LAST_MAX + 96)

struct page {
    json_t *arr;
    char last[LIST_LAST_MAX + 1]; /* the last entry added */
    bool oom;
};

static int page_add(const char *s, void *ctx)
{
    struct page *p = ctx;
    int n;

    if (json_array_append_new(p->arr, json_string(s)) < 0) {
        p->oom = true;
        return -1;
    }
    n = snprintf(p->last, sizeof(p->last), "%s", s);
    if (n < 0 || (size_t)n >= sizeof(p->last)) {
        p->oom = true; /* cannot happen with grammar-checked names; refuse rather than cut */
        return -1;
    }
    return 0;
}

/* parse_page reads n and last from the query. *n is the effective page size. */
static int parse_page(struct req *r, unsigned *n, const char **last)
{
    const char *ns = req_query(r, "n");
    unsigned max = r->reg->cfg->list_max;
    uint64_t v;

    *n = max;
    *last = req_query(r, "last");
    if (*last != NULL && strlen(*last) > LIST_LAST_MAX)
        return berr_set(&r->err, BERR_BAD_REQUEST, "last is longer than %d bytes", LIST_LAST_MAX);
    if (ns == NULL)
        return 0;
    if (parse_u64(&v, ns, strlen(ns)) < 0)
        return berr_set(&r->err, BERR_BAD_REQUEST, "n must be a non-negative integer");
    *n = v < max ? (unsigned)v : max;
    return 0;
}

/* send_page answers 200 with root as JSON, plus the Link header when more entries remain.
 * path is the list's URL path ("/v2/<name>/tags/list" or "/v2/_catalog"). Takes root. */
static int send_page(struct req *r, struct http_reply *out, json_t *root, const struct page *p,
                     bool more, unsigned n, const char *path)
{
    char nstr[16];
    char *text = NULL;
    struct buf link;
    size_t len;
    int rc = -1;

    text = json_dumps(root, JSON_COMPACT);
    if (text == NULL) {
        rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
        goto out;
    }
    len = strlen(text);
    out->resp = http_resp_json(text, len);
    out->status = HTTP_OK;
    out->len = len;
    if (out->resp == NULL) {
        rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
        goto out;
    }
    if (more && n > 0) {
        const struct http_link_param ps[] = {{"n", nstr}, {"last", p->last}};

        (void)snprintf(nstr, sizeof(nstr), "%u", n); /* fits: 10 digits */
        buf_init(&link, LIST_LINK_MAX);
        if (http_link_add(&link, path, "next", ps, 2) < 0 ||
            http_resp_header(out->resp, HTTP_HEADER_LINK, link.data) < 0) {
            buf_cleanup(&link);
            rc = berr_set(&r->err, BERR_INTERNAL, "internal error");
            goto out;
        }
        buf_cleanup(&link);
    }
    rc = 0;
out:
    mem_free(text); /* jansson allocates with mem_malloc or malloc: both free() */
    json_decref(root);
    return rc;
}

int tags_list(struct req *r, struct http_reply *out)
{
    struct page p = {0};
    json_t *root = NULL;
    const char *last;
    char path[REPO_NAME_MAX + 32];
    unsigned n;
    bool more = false;
    int w;

    if (parse_page(r, &n, &last) < 0)
        return -1;
    root = json_object();
    p.arr = json_array();
    if (root == NULL || p.arr == NULL ||
        json_object_set_new(root, "name", json_string(r->name.s)) < 0) {
        json_decref(root);
        json_decref(p.arr);
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    }
    if (json_object_set_new(root, "tags", p.arr) < 0) { /* steals p.arr even on failure */
        json_decref(root);
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    }
    /* p.arr is now borrowed from root */
    if (meta_tags_list(r->reg->meta, &r->name, last, n, page_add, &p, &more, &r->err) != 0) {
        json_decref(root);
        /* a callback failure stops the walk; meta may not have set err for it */
        if (p.oom || r->err.code == BERR_OK)
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
        return -1;
    }
    w = snprintf(path, sizeof(path), "/v2/%s/tags/list", r->name.s);
    if (w < 0 || (size_t)w >= sizeof(path)) {
        json_decref(root);
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    }
    return send_page(r, out, root, &p, more, n, path);
}

/* The catalog shows a caller only repositories of projects it may pull from (auth/rbac.h).
 * Names come sorted, so one project's repositories are consecutive and one decision per run of
 * them is enough. */
struct catalog_filter {
    struct req *r;
    struct page *p;
    char project[REPO_NAME_MAX + 1]; /* project of the last decision ("" = none yet) */
    bool visible;                    /* that decision */
    char seen[LIST_LAST_MAX + 1];    /* the last name the walk gave, shown or not */
    unsigned added;
    bool failed; /* r->err set */
};

static int catalog_add(const char *s, void *ctx)
{
    struct catalog_filter *cf = ctx;
    struct repo_name name;
    char project[REPO_NAME_MAX + 1];
    int64_t created;
    unsigned acts = 0;
    struct berr e;
    int n;

    n = snprintf(cf->seen, sizeof(cf->seen), "%s", s);
    if (n < 0 || (size_t)n >= sizeof(cf->seen)) {
        cf->p->oom = true;
        return -1;
    }
    if (repo_name_parse(&name, s, strlen(s), &e) < 0)
        return 0; /* cannot be in the store; never shown */
    repo_name_project(&name, project, sizeof(project));
    if (cf->project[0] == '\0' || strcmp(project, cf->project) != 0) {
        if (authz_project_actions(cf->r->reg, &cf->r->who, project, &acts, &created, &cf->r->err) <
            0) {
            cf->failed = true;
            return -1;
        }
        memcpy(cf->project, project, sizeof(cf->project));
        cf->visible = (acts & RBAC_PULL) != 0;
    }
    if (!cf->visible)
        return 0;
    cf->added++;
    return page_add(s, cf->p);
}

int catalog_list(struct req *r, struct http_reply *out)
{
    struct page p = {0};
    struct catalog_filter cf = {.r = r, .p = &p};
    json_t *root;
    const char *last;
    char cursor[LIST_LAST_MAX + 1] = "";
    unsigned n;
    bool more = false;
    int rc;

    if (parse_page(r, &n, &last) < 0)
        return -1;
    root = json_object();
    p.arr = json_array();
    if (root == NULL || p.arr == NULL) {
        json_decref(root);
        json_decref(p.arr);
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    }
    if (json_object_set_new(root, "repositories", p.arr) < 0) { /* steals p.arr */
        json_decref(root);
        return berr_set(&r->err, BERR_INTERNAL, "internal error");
    }
    if (last != NULL)
        (void)snprintf(cursor, sizeof(cursor), "%s", last); /* length checked by parse_page */
    /* walk in pages until n visible names are found or the catalog ends; a sysadmin sees
     * everything, so the first page is the answer */
    for (;;) {
        rc = meta_catalog(r->reg->meta, cursor[0] != '\0' ? cursor : NULL, n - cf.added,
                          catalog_add, &cf, &more, &r->err);
        if (rc != 0)
            break;
        if (!more || cf.added >= n || n == 0 || cf.seen[0] == '\0')
            break;
        memcpy(cursor, cf.seen, sizeof(cursor));
    }
    if (rc != 0) {
        json_decref(root);
        /* a callback failure stops the walk; meta may not have set err for it */
        if (cf.failed)
            return -1;
        if (p.oom || r->err.code == BERR_OK)
            return berr_set(&r->err, BERR_INTERNAL, "internal error");
        return -1;
    }
    return send_page(r, out, root, &p, more, n, "/v2/_catalog");
}
