#!/usr/bin/env bash
# api_robot_scope.sh - robot accounts stay inside their permission list on the management API as
#   on /v2/: a robot with pull on one project reads that project and its repositories, sees
#   nothing of another private project, may not delete, create projects or manage users; a robot
#   granted delete may delete a repository of its project and nothing elsewhere.
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
API=/api/v2.0
J=(-H 'Content-Type: application/json')

srv_start

for p in ra rb; do
    req POST "$API/projects" "${J[@]}" --data-binary "{\"project_name\":\"$p\",\"metadata\":{\"public\":\"false\"}}"
    check_status "create private project $p" 201
done
mk_image "$BB_TMP/img"
push_image ra/app v1 "$BB_TMP/img"
push_image rb/app v1 "$BB_TMP/img"

# mk_robot NAME ACTIONS: a project robot on ra; sets ROBOT (user:secret)
mk_robot() {
    local acc
    acc=$(printf '%s' "$2" | tr ',' '\n' | jq -R '{resource: "repository", action: .}' | jq -sc .)
    req POST "$API/robots" "${J[@]}" --data-binary "{\"name\":\"$1\",\"level\":\"project\",\"duration\":-1,
        \"permissions\":[{\"kind\":\"project\",\"namespace\":\"ra\",\"access\":$acc}]}"
    check_status "create robot $1 ($2)" 201
    ROBOT="$(jq -r .name "$R_BODY"):$(jq -r .secret "$R_BODY")"
}

mk_robot puller pull
req_as "$ROBOT" GET "$API/projects/ra"
check_status "pull robot reads its project" 200
req_as "$ROBOT" GET "$API/projects/ra/repositories"
check_jq "pull robot lists the repositories of its project" '[.[].name] == ["ra/app"]'
req_as "$ROBOT" GET "$API/projects/ra/repositories/app/artifacts"
check_jq "pull robot lists artifacts" 'length == 1'
req_as "$ROBOT" GET "$API/projects/rb"
check_err "pull robot does not see another private project -> 403" 403 FORBIDDEN
req_as "$ROBOT" GET "$API/projects/rb/repositories"
check_err "pull robot cannot list another project's repositories -> 403" 403 FORBIDDEN
req_as "$ROBOT" GET "$API/projects"
check_jq "pull robot's project list holds only its project" '[.[].name] == ["ra"]'
req_as "$ROBOT" DELETE "$API/projects/ra/repositories/app"
check_err "pull robot may not delete a repository" 403 FORBIDDEN
req_as "$ROBOT" POST "$API/projects" "${J[@]}" --data-binary '{"project_name":"byrobot"}'
check_err "pull robot may not create projects -> 403" 403 FORBIDDEN
req_as "$ROBOT" GET "$API/users"
check_err "pull robot may not list users -> 403" 403 FORBIDDEN
req_as "$ROBOT" DELETE "/v2/ra/app/manifests/v1"
check_err "pull robot may not delete on /v2/ either" 403 DENIED

mk_robot cleaner pull,delete
req_as "$ROBOT" DELETE "$API/projects/rb/repositories/app"
check_err "delete robot may not delete outside its project -> 403" 403 FORBIDDEN
req GET "$API/projects/rb/repositories/app"
check_status "rb/app still there" 200
req_as "$ROBOT" DELETE "$API/projects/ra/repositories/app"
check_status "delete robot deletes a repository of its project" 200
req GET "$API/projects/ra/repositories/app"
check_err "ra/app is gone" 404 NOT_FOUND

srv_stop
finish
