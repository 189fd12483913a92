/* api_ext.h - the management API handlers for quotas, the audit log, the system calls and the
 * cookie sessions of the web UI (api_quotas.c, api_audit.c, api_session.c), and the hooks
 * router.c calls around every request. Same conventions as api_int.h. */
#ifndef BERTH_API_API_EXT_H
#define BERTH_API_API_EXT_H

#include <stdbool.h>

#include "api/api_int.h"

/* ---- quotas (api_quotas.c) ---- */
int api_quota_list(struct api_call *c);
int api_quota_get(struct api_call *c); /* sysadmins, or members of the quota's project */
int api_quota_put(struct api_call *c);
/* api_quota_json: Harbor's summary "quota" object {"hard":{"storage":N},"used":{"storage":U}}
 * for a project (new reference; NULL when the store fails). */
json_t *api_quota_json(struct api_call *c, int64_t project_id);
/* GET /projects/{p}/summary: repo_count, member counts per role (members only), quota. */
int api_project_summary(struct api_call *c);

/* ---- audit log (api_audit.c) ---- */
int api_audit_logs(struct api_call *c);        /* GET /audit-logs */
int api_project_logs(struct api_call *c);      /* GET /projects/{p}/logs */
int api_system_purgeaudit(struct api_call *c); /* POST /system/purgeaudit */
/* api_audit_after records a successful unsafe call (POST/PUT/PATCH/DELETE answered 2xx) on
 * projects, members, robots, users and quotas; called by router.c after the handler. */
void api_audit_after(struct api_call *c);

/* ---- cookie sessions (api_session.c) ---- */
/* api_session_auth authenticates c from its sid cookie when there is no Authorization header:
 * 0 when it set c->who (or there is no session: anonymous), -1 when it refused the call (CSRF:
 * answered, c->answered) or ran out of memory. *used tells whether a session authenticated the
 * call. */
int api_session_auth(struct api_call *c, bool *used);
/* api_session_token_header adds X-Harbor-CSRF-Token to c's reply when the call came with a
 * session (GET /users/current and login give the client its token). */
int api_session_token_header(struct api_call *c);

#endif
