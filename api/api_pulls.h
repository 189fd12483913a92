/* api_pulls.h - the pull analytics handlers (api/api_pulls.c); same contract as the handlers
 * of api_int.h. */
#ifndef BERTH_API_API_PULLS_H
#define BERTH_API_API_PULLS_H

#include "api/api_int.h"

/* GET /projects/{project_name}/pulls/timeseries */
int api_pulls_project_series(struct api_call *c);
/* GET /projects/{project_name}/repositories/{repository_name}/pulls/timeseries */
int api_pulls_repo_series(struct api_call *c);
/* GET .../repositories/{repository_name}/artifacts/{reference}/pulls/timeseries */
int api_pulls_artifact_series(struct api_call *c);
/* GET /pulls/timeseries (system administrators): every project's */
int api_pulls_series_all(struct api_call *c);
/* GET /projects/{project_name}/pulls/top */
int api_pulls_project_top(struct api_call *c);
/* GET /pulls/top (system administrators) */
int api_pulls_top(struct api_call *c);
/* GET /projects/{project_name}/pulls/stale */
int api_pulls_stale(struct api_call *c);
/* GET /pulls/stale (system administrators): every project's */
int api_pulls_stale_all(struct api_call *c);

/* api_pulls_recent: out[i] (n of them) the image pulls of the project named projects[i] in the
 * last 7 days (child fetches of an index left out), the pulls still pending included; one
 * query per project. 0, or -1 with err set (out zeroed). */
int api_pulls_recent(struct api_call *c, const char *const *projects, size_t n, uint64_t *out,
                     struct berr *err);

#endif
