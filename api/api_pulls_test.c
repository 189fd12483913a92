/* api_pulls_test.c - in-process tests of pull counting and the pull analytics endpoints: the
 * counting rules of a manifest GET (by tag, by digest, HEAD, 304, failures, an index's child,
 * who, client family, exclusions), read-your-writes (the API shows a pull that is still
 * pending, without flushing it; a flush between the database read and the peek changes no
 * count), the time series, top and stale endpoints with their
 * permissions and argument errors, and the configured access to /metrics. */
#include "api/api_pulls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/test_api.h"
#include "common/test.h"

static char dig[DIGEST_STR_LEN + 1];

/* pull GETs (or HEADs) priv/app's manifest ref as the admin with a User-Agent; returns status */
static unsigned pull(struct test_api *w, const char *method, const char *ref, const char *ua,
                     const char *inm)
{
    struct http_fake_result res;
    char target[256];
    unsigned st;

    (void)snprintf(target, sizeof(target), "/v2/priv/app/manifests/%s", ref); /* fits */
    if (inm != NULL)
        test_v2(&res, &w->t, method, target, w->auth[W_ADMIN], NULL, 0, 0, "User-Agent", ua,
                "If-None-Match", inm, TEST_HDR_END);
    else
        test_v2(&res, &w->t, method, target, w->auth[W_ADMIN], NULL, 0, 0, "User-Agent", ua,
                TEST_HDR_END);
    st = res.status;
    http_fake_result_cleanup(&res);
    return st;
}

/* get_json: GET target as who, 200 expected; the body parsed (new) or NULL */
static json_t *get_json(struct test_api *w, enum test_who who, const char *target)
{
    struct http_fake_result res;
    json_t *j = NULL;

    test_api_req(&res, w, who, "GET", target, NULL);
    if (res.status == HTTP_OK)
        j = test_api_json(&res);
    else
        fprintf(stderr, "  GET %s: %u %s\n", target, res.status, res.body ? res.body : "");
    http_fake_result_cleanup(&res);
    return j;
}

static long long repo_count(struct test_api *w)
{
    json_t *j = get_json(w, W_ADMIN, "/api/v2.0/projects/priv/repositories/app");
    long long n = j != NULL ? (long long)json_integer_value(json_object_get(j, "pull_count")) : -1;

    json_decref(j);
    return n;
}

static long long tag_count(struct test_api *w)
{
    json_t *j = get_json(w, W_ADMIN, "/api/v2.0/projects/priv/repositories/app/artifacts/1.0");
    json_t *t = json_array_get(json_object_get(j, "tags"), 0);
    long long n = t != NULL ? (long long)json_integer_value(json_object_get(t, "pull_count")) : -1;

    json_decref(j);
    return n;
}

/* the counting rules, read at once from the API without a flush */
static void test_counting(struct test_api *w)
{
    char inm[DIGEST_STR_LEN + 3];

    test_api_push_image(w, "priv/app", "1.0", "layer-one", dig);
    CHECK_INT_EQ(repo_count(w), 0);
    CHECK_INT_EQ(pull(w, "GET", "1.0", "docker/24.0.7 go/go1.20", NULL), HTTP_OK);
    CHECK_INT_EQ(pulls_pending(w->t.reg.pulls), 1);
    CHECK_INT_EQ(repo_count(w), 1);
    CHECK_INT_EQ(tag_count(w), 1);
    CHECK_INT_EQ(pulls_pending(w->t.reg.pulls), 1); /* read without writing */
    CHECK_INT_EQ(pull(w, "GET", dig, "containerd/1.7.13", NULL), HTTP_OK);
    CHECK_INT_EQ(repo_count(w), 2);
    CHECK_INT_EQ(tag_count(w), 1); /* by digest: not the tag's */
    /* never counted */
    CHECK_INT_EQ(pull(w, "HEAD", "1.0", "docker/24", NULL), HTTP_OK);
    (void)snprintf(inm, sizeof(inm), "\"%s\"", dig); /* fits */
    CHECK_INT_EQ(pull(w, "GET", "1.0", "docker/24", inm), HTTP_NOT_MODIFIED);
    CHECK_INT_EQ(pull(w, "GET", "nope", "docker/24", NULL), HTTP_NOT_FOUND);
    CHECK_INT_EQ(pull(w, "GET", "harbor", "harbor-registry-client", NULL), HTTP_NOT_FOUND);
    CHECK_INT_EQ(pull(w, "GET", "1.0", "harbor-registry-client", NULL), HTTP_OK);
    CHECK_INT_EQ(repo_count(w), 2);
    /* exclusions by configuration */
    {
        struct berr e;

        CHECK_INT_EQ(config_set(&w->t.cfg, "pull_exclude_agents", "Trivy*", &e), 0);
        CHECK_INT_EQ(config_set(&w->t.cfg, "pull_exclude_users", "admin", &e), 0);
        CHECK_INT_EQ(pull(w, "GET", "1.0", "Trivy/0.50", NULL), HTTP_OK);
        CHECK_INT_EQ(pull(w, "GET", "1.0", "podman/4", NULL), HTTP_OK); /* admin excluded */
        CHECK_INT_EQ(repo_count(w), 2);
        CHECK_INT_EQ(config_set(&w->t.cfg, "pull_exclude_agents", "", &e), 0);
        CHECK_INT_EQ(config_set(&w->t.cfg, "pull_exclude_users", "", &e), 0);
    }
    CHECK_INT_EQ(pull(w, "GET", "1.0", "containers/5.24.2 (github.com/containers/image)", NULL),
                 HTTP_OK);
    CHECK_INT_EQ(repo_count(w), 3);
}

/* the time series (pending pulls merged in, nothing written), grouped by client and by user;
 * the top list (flushes first) */
static void test_series(struct test_api *w)
{
    json_t *j, *s;
    size_t i;
    int seen = 0;

    j = get_json(w, W_GUEST,
                 "/api/v2.0/projects/priv/pulls/timeseries?granularity=hour&group_by=client");
    CHECK(j != NULL);
    CHECK_INT_EQ(pulls_pending(w->t.reg.pulls), 3); /* merged into the read, not flushed */
    CHECK_STR_EQ(json_string_value(json_object_get(j, "granularity")), "hour");
    json_array_foreach(json_object_get(j, "series"), i, s)
    {
        const char *k = json_string_value(json_object_get(s, "key"));
        json_int_t p = json_integer_value(json_object_get(s, "pulls"));

        if (strcmp(k, "docker") == 0 || strcmp(k, "containerd") == 0 || strcmp(k, "podman") == 0) {
            CHECK_INT_EQ(p, 1);
            seen++;
        }
    }
    CHECK_INT_EQ(seen, 3);
    json_decref(j);
    j = get_json(w, W_ADMIN,
                 "/api/v2.0/projects/priv/repositories/app/pulls/timeseries?group_by=user");
    s = json_array_get(json_object_get(j, "series"), 0);
    CHECK_STR_EQ(json_string_value(json_object_get(s, "key")), "admin");
    CHECK_STR_EQ(json_string_value(json_object_get(s, "kind")), "user");
    CHECK_INT_EQ(json_integer_value(json_object_get(s, "pulls")), 3);
    json_decref(j);
    j = get_json(w, W_ADMIN,
                 "/api/v2.0/projects/priv/repositories/app/artifacts/1.0/pulls/timeseries");
    s = json_array_get(json_object_get(j, "series"), 0);
    CHECK_INT_EQ(json_integer_value(json_object_get(s, "pulls")), 3);
    json_decref(j);
    CHECK_INT_EQ(pulls_pending(w->t.reg.pulls), 3);
    j = get_json(w, W_ADMIN, "/api/v2.0/pulls/top?by=tag&n=1");
    CHECK_INT_EQ(pulls_pending(w->t.reg.pulls), 0);
    s = json_array_get(json_object_get(j, "items"), 0);
    CHECK_STR_EQ(json_string_value(json_object_get(s, "repository_name")), "priv/app");
    CHECK_STR_EQ(json_string_value(json_object_get(s, "tag")), "1.0");
    CHECK_INT_EQ(json_integer_value(json_object_get(s, "pull_count")), 2);
    json_decref(j);
    j = get_json(w, W_DEV, "/api/v2.0/projects/priv/pulls/top");
    CHECK_INT_EQ(json_array_size(json_object_get(j, "items")), 1);
    json_decref(j);
}

static void test_stale(struct test_api *w)
{
    struct http_fake_result res;
    char target[160];
    json_t *j;

    (void)snprintf(target, sizeof(target),
                   "/api/v2.0/projects/priv/pulls/stale?kind=tag&before=%lld",
                   (long long)now_s() + 60); /* fits */
    test_api_req(&res, w, W_GUEST, "GET", target, NULL);
    CHECK_INT_EQ(res.status, HTTP_OK);
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "1");
    j = test_api_json(&res);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "tag")), "1.0");
    CHECK(json_integer_value(json_object_get(json_array_get(j, 0), "size")) > 0);
    json_decref(j);
    http_fake_result_cleanup(&res);
    test_api_req(&res, w, W_GUEST, "GET", "/api/v2.0/projects/priv/pulls/stale?days=1", NULL);
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "0"); /* pulled today */
    http_fake_result_cleanup(&res);
}

/* a flush landing between a reader's database read and its peek at the pending pulls (the
 * hook runs exactly there, once): every count stays exact, neither short nor doubled */
static struct pulls *between_pulls;
static int between_flushes;

static void flush_between(struct api_call *c)
{
    struct berr e;

    (void)c;
    if (between_flushes > 0)
        return; /* the read that follows must see the flush it raced with, once */
    between_flushes++;
    if (pulls_flush(between_pulls, NULL, &e) < 0)
        fprintf(stderr, "  flush in the hook: %s\n", e.msg);
}

/* count_at: the pull_count at path (an array index or an object key per step) of GET target */
static long long count_at(struct test_api *w, const char *target, const char *outer, int idx)
{
    json_t *j = get_json(w, W_ADMIN, target);
    json_t *o = outer != NULL ? json_object_get(j, outer) : j;
    json_t *item = idx >= 0 ? json_array_get(o, (size_t)idx) : o;
    long long n =
            item != NULL ? (long long)json_integer_value(json_object_get(item, "pull_count")) : -1;

    json_decref(j);
    return n;
}

static void test_flush_between(struct test_api *w)
{
    static const struct {
        const char *target;
        const char *outer;
        int idx;
    } reads[] = {
            {"/api/v2.0/projects/priv/repositories/app", NULL, -1},
            {"/api/v2.0/projects/priv/repositories", NULL, 0},
            {"/api/v2.0/projects/priv/repositories/app/artifacts/1.0", NULL, -1},
            {"/api/v2.0/projects/priv/repositories/app/artifacts", NULL, 0},
            {"/api/v2.0/projects/priv/repositories/app/artifacts/1.0/tags", NULL, 0},
            {"/api/v2.0/search?q=app", "repository", 0},
    };

    between_pulls = w->t.reg.pulls;
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
        long long before = count_at(w, reads[i].target, reads[i].outer, reads[i].idx);

        CHECK(before > 0);
        CHECK_INT_EQ(pull(w, "GET", "1.0", "docker/24", NULL), HTTP_OK);
        CHECK_INT_EQ(pulls_pending(w->t.reg.pulls), 1);
        between_flushes = 0;
        api_pulls_test_between = flush_between;
        CHECK_INT_EQ(count_at(w, reads[i].target, reads[i].outer, reads[i].idx), before + 1);
        api_pulls_test_between = NULL;
        CHECK_INT_EQ(between_flushes, 1); /* the flush did land between the two reads */
        CHECK_INT_EQ(pulls_pending(w->t.reg.pulls), 0);
        CHECK_INT_EQ(count_at(w, reads[i].target, reads[i].outer, reads[i].idx), before + 1);
    }
    /* a time series copies the pending pulls, then reads: a flush between must not double */
    {
        json_t *j, *s;
        long long before, after;

        j = get_json(w, W_ADMIN,
                     "/api/v2.0/projects/priv/repositories/app/artifacts/1.0/pulls/timeseries");
        s = json_array_get(json_object_get(j, "series"), 0);
        before = (long long)json_integer_value(json_object_get(s, "pulls"));
        json_decref(j);
        CHECK_INT_EQ(pull(w, "GET", "1.0", "docker/24", NULL), HTTP_OK);
        between_flushes = 0;
        api_pulls_test_between = flush_between;
        j = get_json(w, W_ADMIN,
                     "/api/v2.0/projects/priv/repositories/app/artifacts/1.0/pulls/timeseries");
        api_pulls_test_between = NULL;
        s = json_array_get(json_object_get(j, "series"), 0);
        after = (long long)json_integer_value(json_object_get(s, "pulls"));
        json_decref(j);
        CHECK_INT_EQ(between_flushes, 1);
        CHECK_INT_EQ(after, before + 1);
    }
}

/* X-Total-Size of a stale listing, the system-wide listing, the projects list's pulls_7d
 * (pending pulls included) and the repositories sorted by their last pull */
static void test_reports(struct test_api *w)
{
    struct http_fake_result res;
    char old[DIGEST_STR_LEN + 1];
    char size[24];
    json_t *j, *p;
    long long pulls;

    test_api_push_image(w, "priv/old", "1.0", "layer-never-pulled", old);
    j = get_json(w, W_ADMIN, "/api/v2.0/projects/priv/repositories/old/artifacts/1.0");
    (void)snprintf(size, sizeof(size), "%lld",
                   (long long)json_integer_value(json_object_get(j, "size"))); /* fits */
    json_decref(j);
    CHECK(strcmp(size, "0") != 0);
    test_api_req(&res, w, W_GUEST, "GET", "/api/v2.0/projects/priv/pulls/stale?days=1", NULL);
    CHECK_INT_EQ(res.status, HTTP_OK);
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "1");
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Size"), size);
    j = test_api_json(&res);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "digest")), old);
    CHECK(json_is_null(json_object_get(json_array_get(j, 0), "pull_time")));
    json_decref(j);
    http_fake_result_cleanup(&res);
    /* the size sums every page, not only the one answered */
    {
        char target[160];

        (void)snprintf(target, sizeof(target),
                       "/api/v2.0/projects/priv/pulls/stale?before=%lld&page_size=1&page=2",
                       (long long)now_s() + 60); /* fits */
        test_api_req(&res, w, W_GUEST, "GET", target, NULL);
    }
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "2");
    CHECK(http_fake_get(&res, "X-Total-Size") != NULL &&
          strtoll(http_fake_get(&res, "X-Total-Size"), NULL, 10) > strtoll(size, NULL, 10));
    http_fake_result_cleanup(&res);
    test_api_req(&res, w, W_GUEST, "GET", "/api/v2.0/projects/priv/pulls/stale?days=1&kind=tag",
                 NULL);
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "1");
    CHECK(http_fake_get(&res, "X-Total-Size") == NULL); /* tags share artifacts: no sum */
    http_fake_result_cleanup(&res);
    /* system wide: every project's, for system administrators only */
    test_api_req(&res, w, W_ADMIN, "GET", "/api/v2.0/pulls/stale?days=1", NULL);
    CHECK_INT_EQ(res.status, HTTP_OK);
    CHECK_STR_EQ(http_fake_get(&res, "X-Total-Count"), "1");
    j = test_api_json(&res);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "repository_name")),
                 "priv/old");
    json_decref(j);
    http_fake_result_cleanup(&res);
    CHECK(test_api_err(w, W_PA, "GET", "/api/v2.0/pulls/stale", NULL, HTTP_FORBIDDEN, "FORBIDDEN",
                       "the system-wide stale listing is for system administrators"));
    CHECK(test_api_err(w, W_ANON, "GET", "/api/v2.0/pulls/stale", NULL, TEST_API_401));
    j = get_json(w, W_ADMIN, "/api/v2.0/pulls/timeseries?group_by=repository");
    p = json_array_get(json_object_get(j, "series"), 0);
    CHECK_STR_EQ(json_string_value(json_object_get(p, "key")), "priv/app");
    CHECK_INT_EQ(json_integer_value(json_object_get(p, "pulls")), repo_count(w));
    json_decref(j);
    CHECK(test_api_err(w, W_PA, "GET", "/api/v2.0/pulls/timeseries", NULL, HTTP_FORBIDDEN,
                       "FORBIDDEN", "the system-wide pull history is for system administrators"));
    /* pulls_7d: the flushed pulls and a pending one */
    CHECK_INT_EQ(pull(w, "GET", "1.0", "docker/24", NULL), HTTP_OK);
    CHECK_INT_EQ(pulls_pending(w->t.reg.pulls), 1);
    pulls = repo_count(w);
    j = get_json(w, W_PA, "/api/v2.0/projects?with_pulls=true&sort=name");
    CHECK_INT_EQ(json_array_size(j), 2);
    p = json_array_get(j, 0);
    CHECK_STR_EQ(json_string_value(json_object_get(p, "name")), "priv");
    CHECK_INT_EQ(json_integer_value(json_object_get(p, "pulls_7d")), pulls);
    p = json_array_get(j, 1);
    CHECK_STR_EQ(json_string_value(json_object_get(p, "name")), "pub");
    CHECK_INT_EQ(json_integer_value(json_object_get(p, "pulls_7d")), 0);
    json_decref(j);
    CHECK_INT_EQ(pulls_pending(w->t.reg.pulls), 1); /* read, not flushed */
    j = get_json(w, W_PA, "/api/v2.0/projects?sort=name");
    CHECK(json_object_get(json_array_get(j, 0), "pulls_7d") == NULL); /* asked for only */
    json_decref(j);
    CHECK(test_api_err(w, W_PA, "GET", "/api/v2.0/projects?with_pulls=yes", NULL, HTTP_BAD_REQUEST,
                       "BAD_REQUEST", "with_pulls must be true or false"));
    /* the repositories by their last pull */
    j = get_json(w, W_ADMIN, "/api/v2.0/projects/priv/repositories?sort=-pull_time");
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "name")), "priv/app");
    json_decref(j);
    j = get_json(w, W_ADMIN, "/api/v2.0/projects/priv/repositories?sort=pull_time");
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(j, 0), "name")), "priv/old");
    json_decref(j);
}

/* who may read what; bad arguments are 400 */
static void test_refusals(struct test_api *w)
{
    CHECK(test_api_err(w, W_ANON, "GET", "/api/v2.0/projects/priv/pulls/timeseries", NULL,
                       TEST_API_401));
    CHECK_INT_EQ(test_api_status(w, W_OUT, "GET", "/api/v2.0/projects/priv/pulls/timeseries", NULL),
                 HTTP_FORBIDDEN);
    CHECK_INT_EQ(test_api_status(w, W_ROBOT_PULL, "GET", "/api/v2.0/projects/priv/pulls/timeseries",
                                 NULL),
                 HTTP_OK);
    CHECK_INT_EQ(test_api_status(w, W_OUT, "GET", "/api/v2.0/projects/pub/pulls/timeseries", NULL),
                 HTTP_OK); /* a public project */
    CHECK(test_api_err(w, W_DEV, "GET", "/api/v2.0/pulls/top", NULL, HTTP_FORBIDDEN, "FORBIDDEN",
                       "the system-wide top list is for system administrators"));
    CHECK(test_api_err(w, W_ADMIN, "GET",
                       "/api/v2.0/projects/priv/pulls/timeseries?granularity=minute", NULL,
                       HTTP_BAD_REQUEST, "BAD_REQUEST", "granularity must be hour or day"));
    CHECK(test_api_err(w, W_ADMIN, "GET", "/api/v2.0/projects/priv/pulls/timeseries?group_by=x",
                       NULL, HTTP_BAD_REQUEST, "BAD_REQUEST",
                       "group_by must be tag, artifact, user, client or repository"));
    CHECK(test_api_err(w, W_ADMIN, "GET", "/api/v2.0/projects/priv/pulls/timeseries?from=soon",
                       NULL, HTTP_BAD_REQUEST, "BAD_REQUEST", "from: not a time"));
    CHECK(test_api_err(w, W_ADMIN, "GET",
                       "/api/v2.0/projects/priv/pulls/timeseries?from=2026-01-02&to=2026-01-01",
                       NULL, HTTP_BAD_REQUEST, "BAD_REQUEST", "from must be before to"));
    CHECK_INT_EQ(test_api_status(w, W_ADMIN, "GET",
                                 "/api/v2.0/projects/priv/pulls/timeseries?granularity=hour&"
                                 "from=2000-01-01&to=2026-01-01",
                                 NULL),
                 HTTP_BAD_REQUEST);
    CHECK(test_api_err(w, W_ADMIN, "GET", "/api/v2.0/projects/priv/pulls/top?n=0", NULL,
                       HTTP_BAD_REQUEST, "BAD_REQUEST", "n must be 1..100"));
    CHECK(test_api_err(w, W_ADMIN, "GET", "/api/v2.0/projects/priv/pulls/stale?kind=blob", NULL,
                       HTTP_BAD_REQUEST, "BAD_REQUEST", "kind must be artifact or tag"));
    CHECK_INT_EQ(test_api_status(w, W_ADMIN, "GET",
                                 "/api/v2.0/projects/priv/repositories/app/artifacts/9.9/pulls/"
                                 "timeseries",
                                 NULL),
                 HTTP_NOT_FOUND);
    CHECK_INT_EQ(test_api_status(w, W_ADMIN, "GET", "/api/v2.0/projects/nope/pulls/top", NULL),
                 HTTP_NOT_FOUND);
}

/* metrics_access: admin (default), auth, open; metrics_listen moves it away */
static void test_metrics_access(struct test_api *w)
{
    struct berr e;

    CHECK_INT_EQ(test_api_status(w, W_OUT, "GET", "/metrics", NULL), HTTP_FORBIDDEN);
    CHECK_INT_EQ(config_set(&w->t.cfg, "metrics_access", "auth", &e), 0);
    CHECK_INT_EQ(test_api_status(w, W_OUT, "GET", "/metrics", NULL), HTTP_OK);
    CHECK_INT_EQ(test_api_status(w, W_ANON, "GET", "/metrics", NULL), HTTP_UNAUTHORIZED);
    CHECK_INT_EQ(config_set(&w->t.cfg, "metrics_access", "open", &e), 0);
    CHECK_INT_EQ(test_api_status(w, W_ANON, "GET", "/metrics", NULL), HTTP_OK);
    CHECK_INT_EQ(config_set(&w->t.cfg, "metrics_listen", "127.0.0.1:9", &e), 0);
    CHECK_INT_EQ(test_api_status(w, W_ADMIN, "GET", "/metrics", NULL), HTTP_NOT_FOUND);
    CHECK_INT_EQ(config_set(&w->t.cfg, "metrics_listen", "", &e), 0);
    CHECK_INT_EQ(config_set(&w->t.cfg, "metrics_access", "admin", &e), 0);
}

int main(void)
{
    struct test_api w;

    test_api_open(&w);
    test_counting(&w);
    test_series(&w);
    test_stale(&w);
    test_flush_between(&w);
    test_reports(&w);
    test_refusals(&w);
    test_metrics_access(&w);
    test_api_close(&w);
    return test_summary();
}
