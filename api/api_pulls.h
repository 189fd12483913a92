/* api_pulls.h - the pull analytics handlers (api/api_pulls.c); same contract as the handlers
 * of api_int.h. */
#ifndef BERTH_API_API_PULLS_H
#define BERTH_API_API_PULLS_H

#include "api/api_int.h"

/* /projects/{p}/pulls/{timeseries,top,stale}, after the project lookup */
int api_project_pulls(struct api_call *c, const struct meta_project_info *p, int role);
/* .../repositories/{r}[/artifacts/{reference}]/pulls/timeseries; d NULL for the repository */
int api_repo_pulls(struct api_call *c, const struct meta_project_info *p, int role,
                   const struct repo_name *repo, const struct digest *d);
/* /pulls/top (system administrators) */
int api_pulls(struct api_call *c);

#endif
