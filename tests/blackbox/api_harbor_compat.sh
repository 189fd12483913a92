#!/usr/bin/env bash
# api_harbor_compat.sh - replays requests written from Harbor's API documentation
# (goharbor/harbor api/v2.0/swagger.yaml: its paths, query parameters and request bodies, as
# Harbor's own portal and scripts send them, unknown flags and extra body fields included) and
# checks that Berth answers with Harbor's status codes and field names (definitions Project,
# Repository, Artifact, Tag, Reference, Platform, Statistic, Search, SearchRepository,
# GeneralInfo, OverallHealthStatus, ProjectMemberEntity, Errors).
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
A=/api/v2.0
J=(-H 'Content-Type: application/json' -H 'Accept: application/json')

srv_start

# --- projects (createProject, headProject, listProjects, getProject) ---------------------------
req POST "$A/projects" "${J[@]}" -H 'X-Resource-Name-In-Location: false' \
    --data '{"project_name":"demo","public":false,"metadata":{"public":"false","auto_scan":"false","severity":"low","prevent_vul":"false"},"storage_limit":-1,"registry_id":null}'
check_status "createProject (ProjectReq with Harbor's optional fields) -> 201" 201
check_hdr_match "Location /api/v2.0/projects/{id}" Location '^/api/v2\.0/projects/[0-9]+$'
PID=$(hdr Location | sed 's#.*/##')
req HEAD "$A/projects?project_name=demo"
check_status "headProject -> 200" 200
req HEAD "$A/projects?project_name=absent"
check_status "headProject unknown -> 404" 404
req GET "$A/projects?page=1&page_size=10&with_detail=true&name=demo"
check_status "listProjects with page, page_size, with_detail, name" 200
check_hdr "X-Total-Count" X-Total-Count 1
check_jq "Project fields" '.[0] | has("project_id") and has("owner_id") and has("name") and has("creation_time")
    and has("update_time") and has("owner_name") and has("current_user_role_id") and has("repo_count")
    and .metadata.public == "false"'
req GET "$A/projects/$PID" -H 'X-Is-Resource-Name: false'
check_jq "getProject by id with X-Is-Resource-Name: false" '.name == "demo"'
req GET "$A/projects/demo" -H 'X-Is-Resource-Name: true'
check_jq "getProject by name with X-Is-Resource-Name: true" ".project_id == $PID"

# --- members (createProjectMember, listProjectMembers) ------------------------------------------
req POST "$A/users" "${J[@]}" --data '{"username":"viewer","email":"viewer@example.com","realname":"Viewer","password":"Harbor12345","comment":""}'
check_status "createUser (UserCreationReq) -> 201" 201
req POST "$A/projects/demo/members" "${J[@]}" --data '{"role_id":3,"member_user":{"username":"viewer"}}'
check_status "createProjectMember (member_user.username) -> 201" 201
req GET "$A/projects/demo/members?page=1&page_size=10&entityname=view"
check_jq "ProjectMemberEntity fields" 'map(select(.entity_name == "viewer"))[0]
    | has("id") and has("project_id") and .role_name == "guest" and .role_id == 3 and has("entity_id")
    and .entity_type == "u"'

# --- content pushed over /v2/ ----------------------------------------------------------------
mk_image "$BB_TMP/a" >/dev/null
DA=$IMG_DIGEST
push_image demo/app 1.0 "$BB_TMP/a"
mk_image "$BB_TMP/b" >/dev/null
push_image demo/group/svc latest "$BB_TMP/b"

# --- repositories (listRepositories, getRepository, updateRepository, listAllRepositories) ---
req GET "$A/projects/demo/repositories?page=1&page_size=15&q=name%3D~app&sort=-creation_time"
check_status "listRepositories with q=name=~ and sort=-creation_time" 200
check_jq "Repository fields" 'length == 1 and (.[0] | .name == "demo/app" and has("id") and has("project_id")
    and has("description") and has("artifact_count") and has("pull_count") and has("creation_time")
    and has("update_time"))'
req GET "$A/projects/demo/repositories/group%252Fsvc"
check_jq "getRepository, repository_name encoded twice" '.name == "demo/group/svc"'
req GET "$A/projects/demo/repositories/app"
REPO_JSON=$(cat "$R_BODY")
# the portal sends the whole Repository object back with a new description
req PUT "$A/projects/demo/repositories/app" "${J[@]}" \
    --data "$(jq -c '.description = "Harbor portal edit"' <<<"$REPO_JSON")"
check_status "updateRepository with a full Repository body -> 200" 200
req GET "$A/repositories?page=1&page_size=10&q=name%3D~demo"
check_jq "listAllRepositories" 'length == 2'

# --- artifacts (listArtifacts, getArtifact) ------------------------------------------------------
FLAGS="with_tag=true&with_label=false&with_scan_overview=false&with_signature=false&with_immutable_status=false&with_accessory=false"
req GET "$A/projects/demo/repositories/app/artifacts?page=1&page_size=15&$FLAGS" \
    -H 'X-Accept-Vulnerabilities: application/vnd.security.vulnerability.report; version=1.1'
check_status "listArtifacts with every documented flag" 200
check_jq "Artifact fields" '.[0] | has("id") and has("type") and has("media_type") and has("manifest_media_type")
    and has("project_id") and has("repository_id") and has("digest") and has("size") and has("push_time")
    and has("pull_time") and has("extra_attrs") and has("tags") and has("icon") and has("labels")'
check_jq "Tag fields" '.[0].tags[0] | has("id") and has("repository_id") and has("artifact_id") and has("name")
    and has("push_time") and has("pull_time") and has("immutable") and has("signed")'
req GET "$A/projects/demo/repositories/app/artifacts/1.0?page=1&page_size=10&$FLAGS"
check_jq "getArtifact by tag" ".digest == \"$DA\""
req GET "$A/projects/demo/repositories/app/artifacts/$DA?$FLAGS"
check_jq "getArtifact by digest" '.tags[0].name == "1.0"'

# --- tags (createTag with Harbor's Tag body, listTags, deleteTag) ------------------------------
req POST "$A/projects/demo/repositories/app/artifacts/$DA/tags" "${J[@]}" \
    --data '{"id":0,"repository_id":0,"artifact_id":0,"name":"stable","push_time":null,"pull_time":null,"immutable":false,"signed":false}'
check_status "createTag with a full Tag body -> 201" 201
req GET "$A/projects/demo/repositories/app/artifacts/$DA/tags?page=1&page_size=10&with_signature=false&with_immutable_status=false"
check_jq "listTags" '(map(.name) | sort) == ["1.0","stable"]'
check_hdr "listTags X-Total-Count" X-Total-Count 2
req DELETE "$A/projects/demo/repositories/app/artifacts/$DA/tags/stable"
check_status "deleteTag -> 200" 200
req POST "$A/projects/demo/repositories/app/artifacts/$DA/tags" "${J[@]}" --data '{"name":"1.0"}'
check_err "createTag of an existing tag -> 409 CONFLICT" 409 CONFLICT

# --- statistics, search, systeminfo, health, ping --------------------------------------------
req GET "$A/statistics"
check_jq "Statistic fields" 'has("private_project_count") and has("private_repo_count") and has("public_project_count")
    and has("public_repo_count") and has("total_project_count") and has("total_repo_count")
    and has("total_storage_consumption")'
req GET "$A/search?q=demo"
check_jq "Search fields" '(.project | map(.name)) == ["demo"] and (.repository | length) == 2
    and (.repository[0] | has("project_id") and has("project_name") and has("project_public")
         and has("repository_name") and has("pull_count") and has("artifact_count"))'
req_anon GET "$A/systeminfo"
check_jq "GeneralInfo fields" 'has("harbor_version") and has("auth_mode") and has("registry_url")
    and has("with_chartmuseum") and has("self_registration") and has("has_ca_root") and has("read_only")'
req_anon GET "$A/health"
check_jq "OverallHealthStatus fields" '.status == "healthy" and all(.components[]; has("name") and has("status"))'
req_anon GET "$A/ping"
check_eq "ping -> Pong" "$(body)" "Pong"

# --- errors in Harbor's format -----------------------------------------------------------------
req GET "$A/projects/demo/repositories/missing"
check_err "getRepository unknown -> 404 NOT_FOUND" 404 NOT_FOUND
req_anon GET "$A/projects/demo/repositories"
check_err "private project, no credentials -> 401 UNAUTHORIZED" 401 UNAUTHORIZED
req_as "viewer:Harbor12345" DELETE "$A/projects/demo/repositories/app/artifacts/$DA"
check_err "guest deleteArtifact -> 403 FORBIDDEN" 403 FORBIDDEN

# --- deletes (deleteArtifact, deleteRepository, deleteProject) --------------------------------
req DELETE "$A/projects/demo/repositories/app/artifacts/$DA"
check_status "deleteArtifact -> 200" 200
req GET "$A/projects/demo/repositories/app"
check_jq "app still holds its layers: artifact_count 0" '.artifact_count == 0'
req DELETE "$A/projects/demo/repositories/app"
check_status "deleteRepository (blob links too) -> 200" 200
req DELETE "$A/projects/demo/repositories/group%252Fsvc"
check_status "deleteRepository -> 200" 200
req GET "$A/projects/demo/_deletable"
check_jq "getProjectDeletable: deletable" '.deletable == true'
req DELETE "$A/projects/demo"
check_status "deleteProject -> 200" 200
srv_stop
finish
