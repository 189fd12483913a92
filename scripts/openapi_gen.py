# openapi_gen.py - writes webui/openapi.json (also docs/openapi.json, a symlink): the OpenAPI 3
# document of /api/v2.0. Edit this file, then: python3 scripts/openapi_gen.py > webui/openapi.json
# tests/blackbox/api_openapi.sh checks the server against the result.
import json, collections
O = collections.OrderedDict
def obj(*names, extra=None):
    props = O((n, {"type": t}) for n, t in names)
    s = {"type": "object", "required": [n for n, _ in names], "properties": props}
    return s
def ref(n): return {"$ref": "#/components/schemas/" + n}
def arr(s): return {"type": "array", "items": s}
I, S, B, A, Ob = "integer", "string", "boolean", "array", "object"
schemas = O()
schemas["Errors"] = {"type": "object", "required": ["errors"], "properties": {"errors": arr(obj(("code", S), ("message", S)))}}
schemas["Repository"] = obj(("id", I), ("project_id", I), ("name", S), ("description", S), ("artifact_count", I), ("pull_count", I), ("pull_time", S), ("creation_time", S), ("update_time", S))
schemas["Repository"]["properties"]["pull_count"]["description"] = "Successful manifest GETs (image pulls and child fetches, Harbor's rule), pulls still in memory included."
schemas["Repository"]["properties"]["pull_time"]["description"] = "Berth extension: the latest pull of any of its manifests (0001-01-01T00:00:00Z: never)."
schemas["Tag"] = obj(("id", I), ("repository_id", I), ("artifact_id", I), ("name", S), ("push_time", S), ("pull_time", S), ("pull_count", I), ("immutable", B), ("signed", B))
schemas["Tag"]["properties"]["pull_count"]["description"] = "Berth extension: successful GETs of the manifest by this tag (Harbor has none, harbor#21664)."
schemas["Artifact"] = obj(("id", I), ("type", S), ("media_type", S), ("manifest_media_type", S), ("project_id", I), ("repository_id", I), ("repository_name", S), ("digest", S), ("size", I), ("push_time", S), ("pull_time", S), ("pull_count", I), ("extra_attrs", Ob))
schemas["Artifact"]["properties"]["tags"] = {"type": "array", "nullable": True, "items": ref("Tag")}
schemas["Artifact"]["properties"]["references"] = arr(O([("type", "object"), ("properties", O([("parent_id", {"type": I}), ("child_id", {"type": I}), ("child_digest", {"type": S}), ("platform", obj(("os", S), ("architecture", S)))]))]))
schemas["Artifact"]["properties"]["pull_count"]["description"] = "Berth extension: successful manifest GETs of this artifact (harbor#21664)."
schemas["Statistic"] = obj(("private_project_count", I), ("private_repo_count", I), ("public_project_count", I), ("public_repo_count", I), ("total_project_count", I), ("total_repo_count", I), ("total_storage_consumption", I))
schemas["Search"] = obj(("project", A), ("repository", A))
schemas["Search"]["properties"]["repository"]["items"] = obj(("project_id", I), ("project_name", S), ("project_public", B), ("repository_name", S), ("pull_count", I), ("artifact_count", I))
schemas["GeneralInfo"] = obj(("harbor_version", S), ("auth_mode", S), ("registry_url", S), ("with_chartmuseum", B), ("current_time", S), ("read_only", B))
schemas["OverallHealthStatus"] = obj(("status", S), ("components", A))
schemas["OverallHealthStatus"]["properties"]["components"]["items"] = obj(("name", S), ("status", S))
_hc = schemas["OverallHealthStatus"]["properties"]["components"]["items"]["properties"]
_hc["error"] = {"type": S}
_hc["free_bytes"] = {"type": I, "description": "storage only: bytes free for Berth on the data directory's filesystem"}
_hc["total_bytes"] = {"type": I, "description": "storage only: size of the data directory's filesystem"}
schemas["Project"] = obj(("project_id", I), ("owner_id", I), ("name", S), ("creation_time", S), ("update_time", S), ("owner_name", S), ("repo_count", I), ("metadata", Ob))
schemas["Project"]["properties"]["pulls_7d"] = {"type": I, "description": "Berth extension, with_pulls=true only: image pulls of the last 7 days (child fetches of an index left out), pulls still in memory included."}
schemas["ProjectReq"] = {"type": "object", "properties": {"project_name": {"type": S}, "metadata": {"type": Ob, "properties": {"public": {"type": S, "enum": ["true", "false"]}}}, "storage_limit": {"type": I}}}
schemas["ProjectDeletable"] = obj(("deletable", B))
schemas["ProjectSummary"] = obj(("repo_count", I), ("project_admin_count", I), ("maintainer_count", I), ("developer_count", I), ("guest_count", I), ("limited_guest_count", I), ("quota", Ob))
schemas["UserResp"] = obj(("user_id", I), ("username", S), ("email", S), ("realname", S), ("sysadmin_flag", B), ("creation_time", S), ("update_time", S))
schemas["UserCreationReq"] = {"type": "object", "required": ["username", "password"], "properties": {"username": {"type": S}, "password": {"type": S}, "email": {"type": S}, "realname": {"type": S}, "comment": {"type": S}}}
schemas["UserSearchRespItem"] = obj(("user_id", I), ("username", S))
schemas["ProjectMemberEntity"] = obj(("id", I), ("project_id", I), ("entity_name", S), ("role_name", S), ("role_id", I), ("entity_id", I), ("entity_type", S))
schemas["ProjectMember"] = {"type": "object", "properties": {"role_id": {"type": I, "minimum": 1, "maximum": 5}, "member_user": {"type": Ob, "properties": {"user_id": {"type": I}, "username": {"type": S}}}}}
schemas["RoleRequest"] = {"type": "object", "properties": {"role_id": {"type": I}}}
schemas["Robot"] = obj(("id", I), ("name", S), ("description", S), ("level", S), ("duration", I), ("disable", B), ("expires_at", I), ("permissions", A), ("creation_time", S), ("update_time", S))
schemas["RobotCreate"] = {"type": "object", "properties": {"name": {"type": S}, "description": {"type": S}, "level": {"type": S, "enum": ["system", "project"]}, "duration": {"type": I}, "disable": {"type": B}, "permissions": {"type": A}}}
schemas["RobotCreated"] = obj(("id", I), ("name", S), ("secret", S), ("creation_time", S), ("expires_at", I))
schemas["Quota"] = obj(("id", I), ("ref", Ob), ("hard", Ob), ("used", Ob), ("creation_time", S), ("update_time", S))
schemas["QuotaUpdateReq"] = {"type": "object", "properties": {"hard": {"type": Ob, "properties": {"storage": {"type": I}}}}}
schemas["GCHistory"] = obj(("id", I), ("job_name", S), ("job_kind", S), ("schedule", Ob), ("job_parameters", S), ("job_status", S), ("creation_time", S), ("update_time", S), ("deleted", B))
schemas["Schedule"] = {"type": "object", "properties": {"schedule": {"type": Ob, "properties": {"type": {"type": S, "enum": ["Manual"]}}}, "parameters": {"type": Ob, "properties": {"dry_run": {"type": B}}}}}
PT = lambda: {"type": S, "nullable": True, "description": "RFC 3339 UTC; null: never"}
schemas["PullPoint"] = obj(("time", S), ("pulls", I), ("child_fetches", I))
schemas["PullSeries"] = obj(("key", S), ("pulls", I), ("child_fetches", I), ("last_pull_time", S), ("points", A))
schemas["PullSeries"]["properties"]["key"]["description"] = "The group's key: tag ('' for pulls by digest), artifact digest, user or robot name ('' anonymous), client family (docker, containerd, podman, crane, helm, berth, other) or repository; '' without grouping."
schemas["PullSeries"]["properties"]["kind"] = {"type": S, "enum": ["anonymous", "user", "robot"], "description": "group_by=user only"}
schemas["PullSeries"]["properties"]["last_pull_time"] = PT()
schemas["PullSeries"]["properties"]["points"]["items"] = ref("PullPoint")
schemas["PullTimeSeries"] = obj(("granularity", S), ("from", S), ("to", S), ("group_by", S), ("series", A))
schemas["PullTimeSeries"]["properties"]["group_by"]["nullable"] = True
schemas["PullTimeSeries"]["properties"]["series"]["items"] = ref("PullSeries")
schemas["PullTimeSeries"]["description"] = "Pulls per bucket [from, to), non-empty buckets only. pulls: image pulls (a tag or a top-level digest); child_fetches: child manifests of an index fetched by digest."
schemas["PullTopItem"] = obj(("repository_name", S), ("pulls", I), ("child_fetches", I), ("pull_count", I), ("last_pull_time", S))
schemas["PullTopItem"]["properties"]["tag"] = {"type": S, "description": "by=tag only"}
schemas["PullTop"] = obj(("from", S), ("to", S), ("by", S), ("items", A))
schemas["PullTop"]["properties"]["items"]["items"] = ref("PullTopItem")
schemas["StaleItem"] = obj(("repository_name", S), ("digest", S), ("size", I), ("push_time", S), ("pull_time", S), ("pull_count", I))
schemas["StaleItem"]["properties"]["pull_time"] = PT()
schemas["StaleItem"]["properties"]["tag"] = {"type": S, "description": "kind=tag only"}
schemas["AuditLog"] = obj(("id", I), ("username", S), ("resource", S), ("resource_type", S), ("operation", S), ("op_time", S))

def resp(code, desc, schema=None, paged=False, ctype="application/json"):
    r = {"description": desc}
    if schema is not None:
        r["content"] = {ctype: {"schema": schema}}
    if paged:
        r["headers"] = {"X-Total-Count": {"schema": {"type": I}}, "Link": {"schema": {"type": S}}}
    return r
def err(*codes):
    names = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed", 409: "Conflict", 412: "Precondition failed", 500: "Internal error"}
    return O((str(c), {"$ref": "#/components/responses/E%d" % c}) for c in codes)
P = {n: {"name": n, "in": "path", "required": True, "schema": {"type": S}} for n in ["project_name_or_id", "project_name", "repository_name", "reference", "tag_name", "user_id", "mid", "robot_id", "id", "gc_id"]}
P["repository_name"]["description"] = "The repository name without the project; a '/' in it is URL-encoded twice (%252F), as Harbor."
Q = lambda n, t=S, d=None: {"name": n, "in": "query", "schema": {"type": t}, **({"description": d} if d else {})}
PAGING = [Q("page", I), Q("page_size", I), Q("q", S, "Harbor's query: k=v, k=~v (fuzzy)"), Q("sort", S)]
def op(summary, tag, params, responses, body=None, security=True):
    o = O([("summary", summary), ("tags", [tag]), ("parameters", params), ("responses", responses)])
    if body is not None:
        o["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if not security:
        o["security"] = [{}]
    return o
def merge(*ds):
    r = O()
    for d in ds: r.update(d)
    return r
ok = lambda s=None, d="Success", paged=False: {"200": resp(200, d, s, paged)}
created = {"201": {"description": "Created", "headers": {"Location": {"schema": {"type": S}}}}}
paths = O()
pp = [P["project_name_or_id"]]
paths["/ping"] = {"get": op("Ping", "ping", [], {"200": resp(200, "Pong", {"type": S}, ctype="text/plain")}, security=False)}
paths["/health"] = {"get": op("Health of core, database and storage (real checks)", "health", [], merge(ok(ref("OverallHealthStatus")), err(405)), security=False)}
paths["/systeminfo"] = {"get": op("General system information", "systeminfo", [], merge(ok(ref("GeneralInfo")), err(405)), security=False)}
paths["/statistics"] = {"get": op("Project and repository counts, storage", "statistic", [], merge(ok(ref("Statistic")), err(401, 405)))}
paths["/search"] = {"get": op("Search projects and repositories by name", "search", [dict(Q("q"), required=True)], merge(ok(ref("Search")), err(400, 405)), security=False)}
paths["/metrics"] = {"get": op("Prometheus metrics (sysadmin by default; metrics_access admin|auth|open, or alone on metrics_listen); also served at the root path /metrics", "metrics", [], merge({"200": resp(200, "Prometheus text format", {"type": S}, ctype="text/plain")}, err(401, 403, 405)))}
paths["/openapi.json"] = {"get": op("This document", "openapi", [], {"200": resp(200, "OpenAPI 3 document", {"type": Ob})}, security=False)}
paths["/repositories"] = {"get": op("List every repository the caller may read", "repository", PAGING, merge(ok(arr(ref("Repository")), paged=True), err(400, 405)), security=False)}
pr = [P["project_name"]]
paths["/projects/{project_name}/repositories"] = {"get": op("List the repositories of a project", "repository", pr + PAGING, merge(ok(arr(ref("Repository")), paged=True), err(400, 401, 403, 404, 405)))}
prr = pr + [P["repository_name"]]
paths["/projects/{project_name}/repositories/{repository_name}"] = O([
    ("get", op("Get a repository", "repository", prr, merge(ok(ref("Repository")), err(400, 401, 403, 404)))),
    ("put", op("Update a repository's description (projectAdmin, maintainer)", "repository", prr, merge(ok(), err(400, 401, 403, 404)), body={"type": Ob, "properties": {"description": {"type": S}}})),
    ("delete", op("Delete a repository with all its artifacts and tags (projectAdmin, maintainer)", "repository", prr, merge(ok(), err(400, 401, 403, 404))))])
paths["/projects/{project_name}/repositories/{repository_name}/artifacts"] = {"get": op("List the top-level artifacts of a repository (q: tags=*, tags=nil, tags=v, tags=~v, digest=)", "artifact", prr + PAGING + [Q("with_tag", B)], merge(ok(arr(ref("Artifact")), paged=True), err(400, 401, 403, 404, 405)))}
pra = prr + [P["reference"]]
paths["/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}"] = O([
    ("get", op("Get an artifact by tag or digest", "artifact", pra + [Q("with_tag", B)], merge(ok(ref("Artifact")), err(400, 401, 403, 404)))),
    ("delete", op("Delete an artifact (by tag: the whole artifact)", "artifact", pra, merge(ok(), err(400, 401, 403, 404))))])
paths["/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags"] = O([
    ("get", op("List the tags of an artifact", "artifact", pra + PAGING, merge(ok(arr(ref("Tag")), paged=True), err(400, 401, 403, 404)))),
    ("post", op("Create a tag (push permission)", "artifact", pra, merge(created, err(400, 401, 403, 404, 409)), body={"type": Ob, "required": ["name"], "properties": {"name": {"type": S}}}))])
paths["/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags/{tag_name}"] = {"delete": op("Delete a tag of an artifact", "artifact", pra + [P["tag_name"]], merge(ok(), err(400, 401, 403, 404)))}
WINDOW = [Q("from", S, "Start: Unix seconds, YYYY-MM-DD or RFC 3339 UTC (default: to minus 7 days)"), Q("to", S, "End, exclusive (default: the end of the current bucket)")]
SERIES = WINDOW + [dict(Q("granularity", S, "hour or day (default day); hourly buckets are kept pull_hourly_keep_s (90 days by default), daily ones forever"), schema={"type": S, "enum": ["hour", "day"]}), dict(Q("group_by", S, "One series per tag, artifact, user, client family or repository"), schema={"type": S, "enum": ["tag", "artifact", "user", "client", "repository"]})]
TOP = WINDOW + [dict(Q("by", S, "repository (default) or tag"), schema={"type": S, "enum": ["repository", "tag"]}), Q("n", I, "1..100, default 10")]
paths["/projects/{project_name}/pulls/timeseries"] = {"get": op("Pull history of a project (pulls not yet flushed included)", "pulls", pr + SERIES, merge(ok(ref("PullTimeSeries")), err(400, 401, 403, 404)))}
paths["/projects/{project_name}/pulls/top"] = {"get": op("The busiest repositories or tags of a project in a window (pending pulls flushed first)", "pulls", pr + TOP, merge(ok(ref("PullTop")), err(400, 401, 403, 404)))}
STALE = [Q("before", S, "A time (as from); default: now minus days"), Q("days", I, "Default 30"), dict(Q("kind", S, "artifact (default, top-level artifacts) or tag"), schema={"type": S, "enum": ["artifact", "tag"]})] + PAGING[:2]
def stale_ok():
    r = ok(arr(ref("StaleItem")), paged=True)
    r["200"]["headers"]["X-Total-Size"] = {"schema": {"type": I}, "description": "kind=artifact only: the bytes of every stale artifact, not only the page's (layers shared between artifacts count in each: deleting them all frees at most this); absent above 50000 artifacts"}
    return r
paths["/projects/{project_name}/pulls/stale"] = {"get": op("Artifacts or tags not pulled since a time, or never (oldest first), with sizes", "pulls", pr + STALE, merge(stale_ok(), err(400, 401, 403, 404)))}
paths["/projects/{project_name}/repositories/{repository_name}/pulls/timeseries"] = {"get": op("Pull history of a repository", "pulls", prr + SERIES, merge(ok(ref("PullTimeSeries")), err(400, 401, 403, 404)))}
paths["/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/pulls/timeseries"] = {"get": op("Pull history of an artifact (by tag or digest)", "pulls", pra + SERIES, merge(ok(ref("PullTimeSeries")), err(400, 401, 403, 404)))}
paths["/pulls/timeseries"] = {"get": op("Pull history of the whole registry (sysadmin; pulls not yet flushed included)", "pulls", SERIES, merge(ok(ref("PullTimeSeries")), err(400, 401, 403)))}
paths["/pulls/top"] = {"get": op("The busiest repositories or tags of the whole registry (sysadmin)", "pulls", TOP, merge(ok(ref("PullTop")), err(400, 401, 403)))}
paths["/pulls/stale"] = {"get": op("Artifacts or tags of every project not pulled since a time, or never (sysadmin)", "pulls", STALE, merge(stale_ok(), err(400, 401, 403)))}
paths["/projects/{project_name}/artifacts"] = {"get": op("Recent artifacts of a whole project", "artifact", pr + PAGING + [Q("with_tag", B)], merge(ok(arr(ref("Artifact")), paged=True), err(400, 401, 403, 404)))}
# the identity part (api_projects.c, api_members.c, api_robots.c, api_users.c, api_quotas.c, api_audit.c)
paths["/projects"] = O([
    ("get", op("List projects", "project", PAGING + [Q("name"), Q("public", B), Q("with_pulls", B, "Berth extension: add pulls_7d to each project of the page")], merge(ok(arr(ref("Project")), paged=True), err(400)), security=False)),
    ("head", op("Check a project name exists (logged-in callers only, as Harbor: 401 to anonymous ones whatever the name)", "project", [dict(Q("project_name"), required=True)], merge(ok(), err(400, 401, 404)))),
    ("post", op("Create a project", "project", [], merge(created, err(400, 401, 403, 409)), body=ref("ProjectReq")))])
paths["/projects/{project_name_or_id}"] = O([
    ("get", op("Get a project", "project", pp, merge(ok(ref("Project")), err(401, 403, 404)), security=False)),
    ("put", op("Update a project", "project", pp, merge(ok(), err(400, 401, 403, 404)), body=ref("ProjectReq"))),
    ("delete", op("Delete an empty project", "project", pp, merge(ok(), err(401, 403, 404, 412))))])
paths["/projects/{project_name_or_id}/_deletable"] = {"get": op("Whether the project can be deleted", "project", pp, merge(ok(ref("ProjectDeletable")), err(401, 403, 404)))}
paths["/projects/{project_name_or_id}/summary"] = {"get": op("Quota and member counts", "project", pp, merge(ok(ref("ProjectSummary")), err(401, 403, 404)))}
paths["/projects/{project_name_or_id}/logs"] = {"get": op("Audit log of a project", "auditlog", pp + PAGING, merge(ok(arr(ref("AuditLog")), paged=True), err(400, 401, 403, 404)))}
paths["/projects/{project_name_or_id}/members"] = O([
    ("get", op("List members", "member", pp + PAGING + [Q("entityname")], merge(ok(arr(ref("ProjectMemberEntity")), paged=True), err(400, 401, 403, 404)))),
    ("post", op("Add a member", "member", pp, merge(created, err(400, 401, 403, 404, 409)), body=ref("ProjectMember")))])
ppm = pp + [P["mid"]]
paths["/projects/{project_name_or_id}/members/{mid}"] = O([
    ("get", op("Get a member", "member", ppm, merge(ok(ref("ProjectMemberEntity")), err(400, 401, 403, 404)))),
    ("put", op("Change a member's role", "member", ppm, merge(ok(), err(400, 401, 403, 404)), body=ref("RoleRequest"))),
    ("delete", op("Remove a member", "member", ppm, merge(ok(), err(400, 401, 403, 404))))])
paths["/projects/{project_name_or_id}/robots"] = {"get": op("Project-level robot accounts", "robot", pp + PAGING, merge(ok(arr(ref("Robot")), paged=True), err(400, 401, 403, 404)))}
paths["/robots"] = O([
    ("get", op("List robot accounts", "robot", PAGING, merge(ok(arr(ref("Robot")), paged=True), err(400, 401, 403)))),
    ("post", op("Create a robot account (the secret is shown once)", "robot", [], merge({"201": resp(201, "Created", ref("RobotCreated"))}, err(400, 401, 403, 404, 409)), body=ref("RobotCreate")))])
prb = [P["robot_id"]]
paths["/robots/{robot_id}"] = O([
    ("get", op("Get a robot account", "robot", prb, merge(ok(ref("Robot")), err(401, 403, 404)))),
    ("put", op("Update a robot account", "robot", prb, merge(ok(), err(400, 401, 403, 404)), body=ref("Robot"))),
    ("patch", op("Refresh the secret", "robot", prb, merge(ok({"type": Ob}), err(400, 401, 403, 404)), body={"type": Ob, "properties": {"secret": {"type": S}}})),
    ("delete", op("Delete a robot account", "robot", prb, merge(ok(), err(401, 403, 404))))])
paths["/users"] = O([
    ("get", op("List users (sysadmin)", "user", PAGING + [Q("username")], merge(ok(arr(ref("UserResp")), paged=True), err(400, 401, 403)))),
    ("post", op("Create a user (sysadmin)", "user", [], merge(created, err(400, 401, 403, 409)), body=ref("UserCreationReq")))])
paths["/users/current"] = {"get": op("The caller", "user", [], merge(ok(ref("UserResp")), err(401)))}
paths["/users/search"] = {"get": op("Search users by name", "user", [dict(Q("username"), required=True)] + PAGING[:2], merge(ok(arr(ref("UserSearchRespItem")), paged=True), err(400, 401)))}
pu = [P["user_id"]]
paths["/users/{user_id}"] = O([
    ("get", op("Get a user", "user", pu, merge(ok(ref("UserResp")), err(401, 403, 404)))),
    ("put", op("Update a user's profile", "user", pu, merge(ok(), err(400, 401, 403, 404)), body={"type": Ob, "properties": {"email": {"type": S}, "realname": {"type": S}, "comment": {"type": S}}})),
    ("delete", op("Delete a user (sysadmin)", "user", pu, merge(ok(), err(401, 403, 404))))])
paths["/users/{user_id}/password"] = {"put": op("Change a password", "user", pu, merge(ok(), err(400, 401, 403, 404)), body={"type": Ob, "properties": {"old_password": {"type": S}, "new_password": {"type": S}}})}
paths["/users/{user_id}/sysadmin"] = {"put": op("Grant or revoke sysadmin", "user", pu, merge(ok(), err(400, 401, 403, 404)), body={"type": Ob, "properties": {"sysadmin_flag": {"type": B}}})}
paths["/quotas"] = {"get": op("List project quotas (sysadmin)", "quota", PAGING, merge(ok(arr(ref("Quota")), paged=True), err(400, 401, 403)))}
paths["/quotas/{id}"] = O([
    ("get", op("Get a quota", "quota", [P["id"]], merge(ok(ref("Quota")), err(401, 403, 404)))),
    ("put", op("Set a project's storage limit (sysadmin)", "quota", [P["id"]], merge(ok(), err(400, 401, 403, 404)), body=ref("QuotaUpdateReq")))])
paths["/audit-logs"] = {"get": op("Audit log entries the caller may see", "auditlog", PAGING, merge(ok(arr(ref("AuditLog")), paged=True), err(400, 401)))}
paths["/system/gc"] = {"get": op("Garbage collection runs, newest first (sysadmin)", "gc", PAGING, merge(ok(arr(ref("GCHistory")), paged=True), err(400, 401, 403)))}
paths["/system/gc/schedule"] = {"post": op("Start a garbage collection now: schedule type Manual, parameters.dry_run (sysadmin); 409 while one runs", "gc", [], merge(created, err(400, 401, 403, 409)), body=ref("Schedule"))}
paths["/system/gc/{gc_id}"] = {"get": op("One garbage collection run (sysadmin)", "gc", [P["gc_id"]], merge(ok(ref("GCHistory")), err(400, 401, 403, 404)))}
paths["/system/gc/{gc_id}/log"] = {"get": op("A garbage collection run's log: what was removed or would be, counts, bytes, progress, duration (sysadmin)", "gc", [P["gc_id"]], merge({"200": resp(200, "The log", {"type": S}, ctype="text/plain")}, err(400, 401, 403, 404)))}
paths["/system/purgeaudit"] = {"post": op("Remove audit entries older than retention_hours, now (sysadmin)", "auditlog", [], merge(ok({"type": Ob, "properties": {"removed": {"type": I}}}), err(400, 401, 403)), body={"type": Ob, "properties": {"retention_hours": {"type": I}}})}
responses = O(("E%d" % c, {"description": d, "content": {"application/json": {"schema": ref("Errors")}}}) for c, d in [(400, "Bad request"), (401, "Unauthorized"), (403, "Forbidden"), (404, "Not found"), (405, "Method not allowed"), (409, "Conflict"), (412, "Precondition failed"), (500, "Internal error")])
doc = O([("openapi", "3.0.3"),
  ("info", O([("title", "Berth management API"), ("version", "2.0"), ("description", "Harbor-compatible /api/v2.0 subset served by Berth: Harbor's paths, JSON field names, status codes, paging (page, page_size, X-Total-Count, Link) and error body {\"errors\":[{\"code\",\"message\"}]}. Berth extensions: pull_count on artifacts and tags.")])),
  ("servers", [{"url": "/api/v2.0"}]),
  ("security", [{"basic": []}, {}]),
  ("paths", paths),
  ("components", O([("securitySchemes", {"basic": {"type": "http", "scheme": "basic"}}), ("responses", responses), ("schemas", schemas)]))])
print(json.dumps(doc, indent=1))
