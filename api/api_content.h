/* api_content.h - the management API handlers for content (repositories, artifacts, tags) and
 * for the registry as a whole (statistics, search, systeminfo, health, OpenAPI document,
 * Prometheus metrics): rows of routes.c, with the contract of api_int.h's handlers. */
#ifndef BERTH_API_API_CONTENT_H
#define BERTH_API_API_CONTENT_H

#include "api/api_int.h"

/* api_repos.c */
int api_repositories(struct api_call *c); /* GET /repositories: every readable repository */
int api_repo_list(struct api_call *c);    /* GET /projects/{p}/repositories */
int api_repo_get(struct api_call *c);
int api_repo_update(struct api_call *c);
int api_repo_delete(struct api_call *c);
/* api_repo_from_path: "<project>/<segment i percent-decoded once more>" parsed as a repository
 * name (the server decoded the path once; Harbor clients encode a '/' in {repository_name}
 * twice). 0, or -1 with 400 answered (or nothing, out of memory). */
int api_repo_from_path(struct api_call *c, size_t i, struct repo_name *out);
/* api_repo_load reads the repository named by path segment i: 0 and *out (new, mem_free), or
 * -1 with the error answered (400 bad name, 404 unknown, 500). */
int api_repo_load(struct api_call *c, size_t i, struct meta_repo_info **out);
/* api_time_json: Unix time t as Harbor's time string, 0001-01-01T00:00:00Z when t <= 0; new,
 * NULL when out of memory. */
json_t *api_time_json(int64_t t);
/* api_json_set: json_object_set_new(o, k, v) (takes v); a NULL v or a failure clears *ok. */
void api_json_set(json_t *o, const char *k, json_t *v, bool *ok);

/* api_artifacts.c */
int api_artifact_project_list(struct api_call *c); /* GET /projects/{p}/artifacts */
int api_artifact_list_repo(struct api_call *c);    /* GET .../repositories/{r}/artifacts */
int api_artifact_get(struct api_call *c);
int api_artifact_delete(struct api_call *c);
int api_tag_list(struct api_call *c);
int api_tag_create(struct api_call *c);
int api_tag_delete(struct api_call *c);

/* api_misc.c */
int api_ping(struct api_call *c);       /* /ping: "Pong", no authentication */
int api_statistics(struct api_call *c); /* /statistics */
int api_search(struct api_call *c);     /* /search?q= */
int api_systeminfo(struct api_call *c); /* /systeminfo */
int api_health(struct api_call *c);     /* /health */
int api_openapi(struct api_call *c);    /* /openapi.json (the embedded webui/openapi.json) */
int api_metrics(struct api_call *c);    /* /metrics (also served at the root /metrics) */
/* api_metrics_listener: the whole of the separate metrics listener (metrics_listen): GET
 * /metrics, open; 404 elsewhere. An entry point like api_handle. */
int api_metrics_listener(struct req *r, struct http_reply *out);

#endif
