/* api_content.h - the management API handlers for content (repositories, artifacts, tags) and
 * for the registry as a whole (statistics, search, systeminfo, health, OpenAPI document,
 * Prometheus metrics). Called by api.c / api_projects.c's dispatch; same contract as the
 * handlers of api_int.h (0 with the reply built, -1 only when nothing could be allocated). */
#ifndef BERTH_REGISTRY_API_CONTENT_H
#define BERTH_REGISTRY_API_CONTENT_H

#include "registry/api_int.h"

/* api_repos.c */
int api_repositories(struct api_call *c); /* /repositories */
/* /projects/{p}/repositories... and /projects/{p}/artifacts, after api_project_lookup */
int api_project_content(struct api_call *c, const struct meta_project_info *p, int role);

/* api_misc.c */
int api_statistics(struct api_call *c); /* /statistics */
int api_search(struct api_call *c);     /* /search?q= */
int api_systeminfo(struct api_call *c); /* /systeminfo */
int api_health(struct api_call *c);     /* /health */
int api_openapi(struct api_call *c);    /* /openapi.json (the embedded webui/openapi.json) */
int api_metrics(struct api_call *c);    /* /metrics (also served at the root /metrics) */

/* api_content_dispatch: the top-level segments above (statistics, search, systeminfo, health,
 * openapi.json, metrics, repositories); 1 when seg[0] is none of them (nothing answered). */
int api_content_dispatch(struct api_call *c, int *rc);

#endif
