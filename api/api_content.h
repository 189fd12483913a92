/* api_content.h - the management API handlers for content (repositories, artifacts, tags) and
 * for the registry as a whole (statistics, search, systeminfo, health, OpenAPI document,
 * Prometheus metrics). Called by api.c / api_projects.c's dispatch; same contract as the
 * handlers of api_int.h (0 with the reply built, -1 only when nothing could be allocated). */
#ifndef BERTH_API_API_CONTENT_H
#define BERTH_API_API_CONTENT_H

#include "api/api_int.h"

/* api_repos.c */
int api_repositories(struct api_call *c); /* /repositories */
/* /projects/{p}/repositories... and /projects/{p}/artifacts, after api_project_lookup */
int api_project_content(struct api_call *c, const struct meta_project_info *p, int role);
/* Shared by api_repos.c and api_artifacts.c only:
 * api_repo_need: 0 when the caller may use every bit of act (RBAC_*) in project p, where its
 * member role is role; else answers 401/403 and returns 1 (-1: not even that reply built). */
int api_repo_need(struct api_call *c, const struct meta_project_info *p, int role, unsigned act);
/* api_time_json: Unix time t as Harbor's time string, 0001-01-01T00:00:00Z when t <= 0; new,
 * NULL when out of memory. */
json_t *api_time_json(int64_t t);
/* api_json_set: json_object_set_new(o, k, v) (takes v); a NULL v or a failure clears *ok. */
void api_json_set(json_t *o, const char *k, json_t *v, bool *ok);

/* api_artifacts.c, called by api_project_content once {r} is parsed */
/* api_artifact_list: GET the artifacts of project project_id (repo_id 0), or of repository
 * repo_id (project_id 0): paged, with_tag, q */
int api_artifact_list(struct api_call *c, int64_t project_id, int64_t repo_id);
/* api_artifact_routes: .../repositories/{r}/artifacts/{reference}[/tags[/{tag}]] (nseg > 5) */
int api_artifact_routes(struct api_call *c, const struct meta_project_info *p, int role,
                        const struct repo_name *repo);

/* api_misc.c */
int api_statistics(struct api_call *c); /* /statistics */
int api_search(struct api_call *c);     /* /search?q= */
int api_systeminfo(struct api_call *c); /* /systeminfo */
int api_health(struct api_call *c);     /* /health */
int api_openapi(struct api_call *c);    /* /openapi.json (the embedded webui/openapi.json) */
int api_metrics(struct api_call *c);    /* /metrics (also served at the root /metrics) */
/* api_metrics_listener: the whole of the separate metrics listener (metrics_listen): GET
 * /metrics, open; 404 elsewhere. An entry point like api_handle. */
int api_metrics_listener(struct req *r, struct http_reply *out);

/* api_content_dispatch: the top-level segments above (statistics, search, systeminfo, health,
 * openapi.json, metrics, repositories); 1 when seg[0] is none of them (nothing answered). */
int api_content_dispatch(struct api_call *c, int *rc);

#endif
