#!/usr/bin/env bash
# api_identity.sh - the identity part of the management API (/api/v2.0, Harbor-compatible):
#   users (list, create, get, update, password, sysadmin flag, delete, current), projects (list
#   with q/sort/paging and visibility, create, HEAD, get by name or id, update, delete refused
#   while not empty, _deletable), members (add, list, get, role change, delete) and robots
#   (create, secret shown once, list, get, update/disable, refresh, delete, login on /v2/).
#   Each endpoint's success and its errors (400 bad JSON / wrong types / policy, 401, 403, 404,
#   405, 409, 412), Harbor's error body, paging headers, `berth user passwd` offline, and a log
#   free of every password and secret used.
. "$(dirname "$0")/lib.sh"

# PBKDF2 at full strength under ASan makes every login and user creation slow; test builds
# honour this (auth/password.h), release builds ignore it.
export BERTH_TEST_KDF_ITER=1000

API=/api/v2.0
J=(-H 'Content-Type: application/json')
SECRETS=("$ADMIN_PASS")

pw() { printf '%s' "Pw$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')x9"; }

# post_json USERPASS METHOD PATH JSON
as_json() {
    local cred=$1 method=$2 path=$3 json=$4
    req_as "$cred" "$method" "$path" "${J[@]}" --data-binary "$json"
}
adm_json() { as_json "$ADMIN_USER:$ADMIN_PASS" "$@"; }

# id_from_location: the last path segment of the Location header
id_from_location() { hdr Location | sed 's#.*/##'; }

srv_start
project_public library # the tests below were written for a public library

# --- ping and basics ----------------------------------------------------------------------------
req_anon GET $API/ping
check_status "GET /ping anonymous -> 200" 200
check_eq "ping body" "$(body)" "Pong"

req_anon GET $API/users/current
check_err "GET /users/current anonymous -> 401" 401 UNAUTHORIZED
req GET $API/users/current
check_status "GET /users/current as admin -> 200" 200
check_jq "current user is admin, sysadmin_flag true, Harbor fields" \
    '.username == "admin" and .sysadmin_flag == true and (.user_id|type) == "number"
     and (.creation_time|type) == "string" and has("email") and has("realname")'
req_as "$ADMIN_USER:Wrong-pass1" GET $API/users/current
check_err "wrong password -> 401 UNAUTHORIZED" 401 UNAUTHORIZED
req_as "admin:x" GET $API/projects -H 'Authorization: Bearer abc'
check_status "unknown scheme or bad credentials -> 401" 401
req GET $API/nothing-here
check_err "unknown path -> 404 NOT_FOUND" 404 NOT_FOUND
req DELETE $API/users
check_err "DELETE /users -> 405 METHOD_NOT_ALLOWED" 405 METHOD_NOT_ALLOWED

# --- users --------------------------------------------------------------------------------------
DEV_PASS=$(pw)
OTHER_PASS=$(pw)
SECRETS+=("$DEV_PASS" "$OTHER_PASS")

adm_json POST $API/users '{"username":"dev1",'
check_err "POST /users bad JSON -> 400" 400 BAD_REQUEST
adm_json POST $API/users '["dev1"]'
check_err "POST /users array body -> 400" 400 BAD_REQUEST
adm_json POST $API/users "{\"username\":5,\"password\":\"$DEV_PASS\"}"
check_err "POST /users username of wrong type -> 400" 400 BAD_REQUEST
adm_json POST $API/users '{"username":"dev1","password":"short"}'
check_err "POST /users weak password -> 400 (policy)" 400 BAD_REQUEST
adm_json POST $API/users '{"username":"dev1","password":"alllowercase1"}'
check_err "POST /users password without upper case -> 400 (policy)" 400 BAD_REQUEST
adm_json POST $API/users "{\"password\":\"$DEV_PASS\"}"
check_err "POST /users without username -> 400" 400 BAD_REQUEST
adm_json POST $API/users "{\"username\":\"robot\$evil\",\"password\":\"$DEV_PASS\"}"
check_err "POST /users name with the robot prefix -> 400" 400 BAD_REQUEST
adm_json POST $API/users "{\"username\":\"dev1\",\"password\":\"$DEV_PASS\",\"email\":\"dev1@example.com\",\"realname\":\"Dev One\"}"
check_status "POST /users -> 201" 201
check_hdr_match "POST /users Location" Location "^/api/v2.0/users/[0-9]+$"
DEV_ID=$(id_from_location)
adm_json POST $API/users "{\"username\":\"dev1\",\"password\":\"$DEV_PASS\"}"
check_err "POST /users duplicate -> 409 CONFLICT" 409 CONFLICT
adm_json POST $API/users "{\"username\":\"other\",\"password\":\"$OTHER_PASS\"}"
check_status "POST /users other -> 201" 201
OTHER_ID=$(id_from_location)
for n in dev2 dev3; do
    adm_json POST $API/users "{\"username\":\"$n\",\"password\":\"$OTHER_PASS\"}"
done
check_status "POST /users dev3 -> 201" 201
DEV3_ID=$(id_from_location)

DEV="dev1:$DEV_PASS"
OTHER="other:$OTHER_PASS"
as_json "$DEV" POST $API/users "{\"username\":\"sneaky\",\"password\":\"$OTHER_PASS\"}"
check_err "POST /users by a non-admin -> 403 FORBIDDEN" 403 FORBIDDEN
req_as "$DEV" GET $API/users
check_err "GET /users by a non-admin -> 403" 403 FORBIDDEN

req GET "$API/users?page=1&page_size=2"
check_status "GET /users page 1 -> 200" 200
check_hdr "GET /users X-Total-Count" X-Total-Count 5
check_jq "GET /users page 1 has 2 rows, no password fields" \
    'length == 2 and all(.[]; has("password") | not) and all(.[]; has("pw_hash") | not)'
check_hdr_match "GET /users page 1 Link rel=next" Link '<[^>]*page=2&page_size=2>; rel="next"'
req GET "$API/users?page=3&page_size=2"
check_jq "GET /users page 3 has the last row" 'length == 1'
check_hdr_match "GET /users page 3 Link rel=prev only" Link '^<[^>]*page=2&page_size=2>; rel="prev"$'
req GET "$API/users?page_size=101"
check_err "page_size over 100 -> 400" 400 BAD_REQUEST
req GET "$API/users?page=0"
check_err "page 0 -> 400" 400 BAD_REQUEST
req GET "$API/users?q=username%3D~dev"
check_jq "q username=~dev (fuzzy) finds 3" 'length == 3 and all(.[]; .username | startswith("dev"))'
req GET "$API/users?q=username%3Ddev"
check_jq "q username=dev (exact) finds none" 'length == 0'
req GET "$API/users?q=username%3Ddev1"
check_jq "q username=dev1 (exact) finds dev1" 'length == 1 and .[0].username == "dev1"'
req GET "$API/users?sort=-username&page_size=1"
check_jq "sort=-username puts other first" '.[0].username == "other"'
req GET "$API/users?sort=password"
check_err "unknown sort key -> 400" 400 BAD_REQUEST

req GET "$API/users/$DEV_ID"
check_jq "GET /users/{id} fields" ".user_id == $DEV_ID and .email == \"dev1@example.com\" and .realname == \"Dev One\" and .sysadmin_flag == false"
req GET "$API/users/999999"
check_err "GET /users/{unknown} -> 404" 404 NOT_FOUND
req GET "$API/users/abc"
check_err "GET /users/{non-numeric} -> 400" 400 BAD_REQUEST
req_as "$DEV" GET "$API/users/$DEV_ID"
check_status "a user reads itself -> 200" 200
req_as "$DEV" GET "$API/users/$OTHER_ID"
check_err "a user reads another user -> 403" 403 FORBIDDEN
req_as "$DEV" GET "$API/users/search?username=oth"
check_jq "users/search by a user finds other (id and name only)" \
    '.[0].username == "other" and (.[0] | keys) == ["user_id","username"]'

as_json "$DEV" PUT "$API/users/$DEV_ID" '{"email":"new@example.com","comment":"hi"}'
check_status "PUT own profile -> 200" 200
req GET "$API/users/$DEV_ID"
check_jq "profile updated" '.email == "new@example.com" and .comment == "hi" and .realname == "Dev One"'
as_json "$DEV" PUT "$API/users/$DEV_ID" '{"email":42}'
check_err "PUT profile wrong type -> 400" 400 BAD_REQUEST
as_json "$DEV" PUT "$API/users/$DEV_ID" '{"email":"not-an-email"}'
check_err "PUT profile bad email -> 400" 400 BAD_REQUEST
as_json "$DEV" PUT "$API/users/$OTHER_ID" '{"email":"x@example.com"}'
check_err "PUT another user's profile -> 403" 403 FORBIDDEN
adm_json PUT "$API/users/999999" '{"email":"x@example.com"}'
check_err "PUT unknown user -> 404" 404 NOT_FOUND

# password changes
NEW_DEV_PASS=$(pw)
SECRETS+=("$NEW_DEV_PASS")
as_json "$DEV" PUT "$API/users/$DEV_ID/password" "{\"new_password\":\"$NEW_DEV_PASS\"}"
check_err "own password change without old_password -> 400" 400 BAD_REQUEST
as_json "$DEV" PUT "$API/users/$DEV_ID/password" "{\"old_password\":\"Wrong-old1\",\"new_password\":\"$NEW_DEV_PASS\"}"
check_err "own password change with a wrong old password -> 403" 403 FORBIDDEN
as_json "$DEV" PUT "$API/users/$DEV_ID/password" "{\"old_password\":\"$DEV_PASS\",\"new_password\":\"weak\"}"
check_err "new password failing the policy -> 400" 400 BAD_REQUEST
as_json "$DEV" PUT "$API/users/$DEV_ID/password" "{\"old_password\":\"$DEV_PASS\",\"new_password\":123}"
check_err "new_password of wrong type -> 400" 400 BAD_REQUEST
as_json "$DEV" PUT "$API/users/$OTHER_ID/password" "{\"old_password\":\"$DEV_PASS\",\"new_password\":\"$NEW_DEV_PASS\"}"
check_err "changing another user's password -> 403" 403 FORBIDDEN
as_json "$DEV" PUT "$API/users/$DEV_ID/password" "{\"old_password\":\"$DEV_PASS\",\"new_password\":\"$NEW_DEV_PASS\"}"
check_status "own password change -> 200" 200
req_as "$DEV" GET $API/users/current
check_err "old password refused after the change -> 401" 401 UNAUTHORIZED
DEV="dev1:$NEW_DEV_PASS"
req_as "$DEV" GET $API/users/current
check_jq "new password accepted" '.username == "dev1"'
RESET_PASS=$(pw)
SECRETS+=("$RESET_PASS")
adm_json PUT "$API/users/$DEV3_ID/password" "{\"new_password\":\"$RESET_PASS\"}"
check_status "sysadmin resets another user's password without the old one -> 200" 200
req_as "dev3:$RESET_PASS" GET $API/users/current
check_status "reset password works" 200

# sysadmin flag
as_json "$DEV" PUT "$API/users/$OTHER_ID/sysadmin" '{"sysadmin_flag":true}'
check_err "PUT sysadmin by a non-admin -> 403" 403 FORBIDDEN
adm_json PUT "$API/users/$OTHER_ID/sysadmin" '{"sysadmin_flag":"yes"}'
check_err "PUT sysadmin wrong type -> 400" 400 BAD_REQUEST
adm_json PUT "$API/users/$OTHER_ID/sysadmin" '{"sysadmin_flag":true}'
check_status "PUT sysadmin true -> 200" 200
req_as "$OTHER" GET $API/users
check_status "a new sysadmin lists users -> 200" 200
adm_json PUT "$API/users/$OTHER_ID/sysadmin" '{"sysadmin_flag":false}'
req_as "$OTHER" GET $API/users
check_err "sysadmin flag revoked -> 403" 403 FORBIDDEN

# delete
req_as "$DEV" DELETE "$API/users/$DEV3_ID"
check_err "DELETE user by a non-admin -> 403" 403 FORBIDDEN
req DELETE "$API/users/1"
check_err "sysadmin deleting itself -> 403" 403 FORBIDDEN
req DELETE "$API/users/$DEV3_ID"
check_status "DELETE user -> 200" 200
req DELETE "$API/users/$DEV3_ID"
check_err "DELETE deleted user -> 404" 404 NOT_FOUND
req_as "dev3:$RESET_PASS" GET $API/users/current
check_err "deleted user can no longer log in -> 401" 401 UNAUTHORIZED

# --- projects -----------------------------------------------------------------------------------
req_anon POST $API/projects "${J[@]}" --data-binary '{"project_name":"anon"}'
check_err "POST /projects anonymous -> 401" 401 UNAUTHORIZED
as_json "$DEV" POST $API/projects '{"project_name":"devproj","metadata":{"public":"false"}}'
check_status "POST /projects by a user -> 201" 201
check_hdr_match "POST /projects Location has the id" Location '^/api/v2.0/projects/[0-9]+$'
DEVPROJ_ID=$(id_from_location)
as_json "$DEV" POST $API/projects '{"project_name":"devproj"}'
check_err "POST /projects duplicate -> 409" 409 CONFLICT
as_json "$DEV" POST $API/projects '{"project_name":"Bad Name"}'
check_err "POST /projects invalid name -> 400" 400 BAD_REQUEST
as_json "$DEV" POST $API/projects '{"project_name":"x","metadata":{"public":true}}'
check_err "POST /projects metadata.public as a bool -> 400 (Harbor wants a string)" 400 BAD_REQUEST
as_json "$DEV" POST $API/projects '{"metadata":{}}'
check_err "POST /projects without project_name -> 400" 400 BAD_REQUEST
as_json "$DEV" POST $API/projects '{"project_name":"limited","storage_limit":1000}'
check_err "POST /projects storage_limit by a non-admin -> 403" 403 FORBIDDEN
adm_json POST $API/projects '{"project_name":"pubproj","metadata":{"public":"true"},"storage_limit":-1}'
check_status "POST /projects public by admin -> 201" 201
PUB_ID=$(id_from_location)
req POST $API/projects "${J[@]}" -H 'X-Resource-Name-In-Location: true' --data-binary '{"project_name":"42"}'
check_hdr "X-Resource-Name-In-Location: true puts the name in Location" Location "/api/v2.0/projects/42"

req_as "$OTHER" HEAD "$API/projects?project_name=devproj"
check_status "HEAD /projects?project_name=existing (logged in) -> 200" 200
req_as "$OTHER" HEAD "$API/projects?project_name=nope"
check_status "HEAD /projects?project_name=unknown (logged in) -> 404" 404
# anonymous callers learn nothing about which projects exist (as Harbor: 401 for all)
req_anon HEAD "$API/projects?project_name=devproj"
check_status "HEAD /projects?project_name=private anonymous -> 401" 401
req_anon HEAD "$API/projects?project_name=nope"
check_status "HEAD /projects?project_name=unknown anonymous -> 401 (same)" 401
req_anon HEAD "$API/projects?project_name=pubproj"
check_status "HEAD /projects?project_name=public anonymous -> 401" 401
req GET "$API/projects/42" -H 'X-Is-Resource-Name: true'
check_jq "X-Is-Resource-Name: true looks 42 up by name" '.name == "42"'

req_anon GET "$API/projects"
check_jq "anonymous lists public projects only" '([.[].name] | sort) == ["library","pubproj"]'
req_as "$DEV" GET "$API/projects"
check_jq "a member also sees its private project, with its role" \
    'any(.[]; .name == "devproj" and .current_user_role_id == 1 and .metadata.public == "false")'
req_as "$OTHER" GET "$API/projects"
check_jq "a non-member does not see the private project" 'all(.[]; .name != "devproj")'
req GET "$API/projects?page_size=2&sort=name"
check_hdr "GET /projects X-Total-Count (admin sees all 4)" X-Total-Count 4
check_jq "sort=name" '[.[].name] == ["42","devproj"]'
check_hdr_match "GET /projects Link next keeps sort" Link 'page=2&page_size=2&sort=name>; rel="next"'
req GET "$API/projects?q=name%3D~proj&sort=-name"
check_jq "q name=~proj sort=-name" '[.[].name] == ["pubproj","devproj"]'
req GET "$API/projects?q=name%3Dproj"
check_jq "q name=proj (exact) finds none" 'length == 0'
req GET "$API/projects?q=public%3Dtrue"
check_jq "q public=true" 'all(.[]; .metadata.public == "true")'
req GET "$API/projects?sort=owner"
check_err "projects unknown sort -> 400" 400 BAD_REQUEST

req_anon GET "$API/projects/devproj"
check_err "private project anonymous -> 401" 401 UNAUTHORIZED
PRIV_BODY=$(cat "$R_BODY")
req_anon GET "$API/projects/nope"
check_err "unknown project anonymous -> 401 (as a private one)" 401 UNAUTHORIZED
check_eq "same body for an unknown and a private project" "$(cat "$R_BODY")" "$PRIV_BODY"
req_anon GET "$API/projects/999999"
check_err "unknown project id anonymous -> 401" 401 UNAUTHORIZED
req_anon GET "$API/projects/$DEVPROJ_ID"
check_err "private project id anonymous -> 401" 401 UNAUTHORIZED
req_anon GET "$API/projects/nope/repositories"
check_err "repositories of an unknown project anonymous -> 401" 401 UNAUTHORIZED
req_anon GET "$API/projects/devproj/repositories"
check_err "repositories of a private project anonymous -> 401" 401 UNAUTHORIZED
req_as "$OTHER" GET "$API/projects/devproj"
check_err "private project non-member -> 403" 403 FORBIDDEN
req_as "$DEV" GET "$API/projects/$DEVPROJ_ID"
check_jq "GET /projects/{id} by a member" ".project_id == $DEVPROJ_ID and .name == \"devproj\" and .owner_name == \"dev1\" and .repo_count == 0"
req GET "$API/projects/nope"
check_err "GET unknown project -> 404" 404 NOT_FOUND
req GET "$API/projects/999999"
check_err "GET unknown project id -> 404" 404 NOT_FOUND
req_anon GET "$API/projects/pubproj"
check_status "public project anonymous -> 200" 200

as_json "$DEV" PUT "$API/projects/devproj" '{"metadata":{"public":"maybe"}}'
check_err "PUT project bad metadata.public -> 400" 400 BAD_REQUEST
as_json "$DEV" PUT "$API/projects/devproj" '{"metadata":{"public":"true"}}'
check_status "PUT project public by its projectAdmin -> 200" 200
req_anon GET "$API/projects/devproj"
check_jq "now public" '.metadata.public == "true"'
as_json "$DEV" PUT "$API/projects/devproj" '{"metadata":{"public":"false"}}'
as_json "$OTHER" PUT "$API/projects/pubproj" '{"metadata":{"public":"false"}}'
check_err "PUT project by a non-member -> 403" 403 FORBIDDEN

# --- members ------------------------------------------------------------------------------------
M=$API/projects/devproj/members
req_as "$DEV" GET "$M"
check_jq "creator is projectAdmin member" \
    '.[0].entity_name == "dev1" and .[0].role_id == 1 and .[0].role_name == "projectAdmin" and .[0].entity_type == "u"'
as_json "$DEV" POST "$M" '{"role_id":0,"member_user":{"username":"other"}}'
check_err "add member role_id 0 -> 400" 400 BAD_REQUEST
as_json "$DEV" POST "$M" '{"role_id":"2","member_user":{"username":"other"}}'
check_err "add member role_id as a string -> 400" 400 BAD_REQUEST
as_json "$DEV" POST "$M" '{"role_id":2,"member_user":"other"}'
check_err "add member member_user not an object -> 400" 400 BAD_REQUEST
as_json "$DEV" POST "$M" '{"role_id":2,"member_user":{"username":"ghost"}}'
check_err "add unknown user -> 404" 404 NOT_FOUND
as_json "$OTHER" POST "$M" '{"role_id":1,"member_user":{"username":"other"}}'
check_err "non-member adds itself -> 403" 403 FORBIDDEN
as_json "$DEV" POST "$M" "{\"role_id\":3,\"member_user\":{\"user_id\":$OTHER_ID}}"
check_status "add member by user_id as guest -> 201" 201
check_hdr_match "member Location" Location "^/api/v2.0/projects/$DEVPROJ_ID/members/[0-9]+$"
MID=$(id_from_location)
as_json "$DEV" POST "$M" '{"role_id":2,"member_user":{"username":"other"}}'
check_err "add the same member again -> 409" 409 CONFLICT
req_as "$OTHER" GET "$API/projects/devproj"
check_jq "a guest reads the project, role 3" '.current_user_role_id == 3'
req_as "$OTHER" GET "$M?entityname=oth"
check_jq "a guest lists members; entityname filter" 'length == 1 and .[0].entity_name == "other"'
as_json "$OTHER" PUT "$M/$MID" '{"role_id":1}'
check_err "a guest changes roles -> 403" 403 FORBIDDEN
as_json "$DEV" PUT "$M/$MID" '{"role_id":9}'
check_err "role_id 9 -> 400" 400 BAD_REQUEST
as_json "$DEV" PUT "$M/$MID" '{"role_id":5}'
check_status "change role to limitedGuest -> 200" 200
req_as "$OTHER" GET "$M"
check_err "a limitedGuest may not list members -> 403" 403 FORBIDDEN
as_json "$DEV" PUT "$M/$MID" '{"role_id":4}'
req_as "$DEV" GET "$M/$MID"
check_jq "GET member shows the new role" '.role_id == 4 and .role_name == "maintainer" and .entity_name == "other"'
req_as "$DEV" GET "$API/projects/pubproj/members/$MID"
check_err "member id of another project -> 404 (or 403 for non-members)" 403 FORBIDDEN
req GET "$API/projects/pubproj/members/$MID"
check_err "member id of another project as admin -> 404" 404 NOT_FOUND
req_as "$DEV" GET "$M?page_size=1"
check_hdr "members X-Total-Count" X-Total-Count 2
check_hdr_match "members Link next" Link 'rel="next"'
req_as "$DEV" DELETE "$M/$MID"
check_status "DELETE member -> 200" 200
req_as "$DEV" DELETE "$M/$MID"
check_err "DELETE member again -> 404" 404 NOT_FOUND
req_as "$OTHER" GET "$API/projects/devproj"
check_err "removed member loses access -> 403" 403 FORBIDDEN

# --- robots -------------------------------------------------------------------------------------
PERM_DEV='[{"kind":"project","namespace":"devproj","access":[{"resource":"repository","action":"pull"},{"resource":"repository","action":"push"}]}]'
as_json "$DEV" POST $API/robots "{\"name\":\"sys\",\"level\":\"system\",\"duration\":-1,\"permissions\":$PERM_DEV}"
check_err "system robot by a non-admin -> 403" 403 FORBIDDEN
as_json "$DEV" POST $API/robots "{\"name\":\"ci\",\"level\":\"project\",\"duration\":0,\"permissions\":$PERM_DEV}"
check_err "robot duration 0 -> 400" 400 BAD_REQUEST
as_json "$DEV" POST $API/robots "{\"name\":\"ci\",\"level\":\"galaxy\",\"permissions\":$PERM_DEV}"
check_err "robot level invalid -> 400" 400 BAD_REQUEST
as_json "$DEV" POST $API/robots '{"name":"ci","level":"project","permissions":"all"}'
check_err "robot permissions not an array -> 400" 400 BAD_REQUEST
as_json "$DEV" POST $API/robots '{"name":"Bad+Name","level":"project","permissions":[]}'
check_err "robot invalid name -> 400" 400 BAD_REQUEST
adm_json POST $API/robots '{"name":"s1","level":"system","permissions":[{"kind":"project","namespace":"ghost","access":[{"resource":"repository","action":"pull"}]}]}'
check_err "robot permission on an unknown project -> 404" 404 NOT_FOUND
as_json "$OTHER" POST $API/robots "{\"name\":\"ci\",\"level\":\"project\",\"permissions\":$PERM_DEV}"
check_err "project robot by a non-member -> 403" 403 FORBIDDEN
as_json "$DEV" POST $API/robots "{\"name\":\"ci\",\"description\":\"pushes\",\"level\":\"project\",\"duration\":-1,\"permissions\":$PERM_DEV}"
check_status "project robot by its projectAdmin -> 201" 201
check_jq "RobotCreated: id, name with prefix and project, secret, expires_at -1" \
    '.name == "robot$devproj+ci" and (.secret|length) >= 32 and .expires_at == -1 and (.id|type) == "number"'
ROBOT_ID=$(jq -r .id "$R_BODY")
ROBOT_SECRET=$(jq -r .secret "$R_BODY")
SECRETS+=("$ROBOT_SECRET")
check_hdr "robot Location" Location "/api/v2.0/robots/$ROBOT_ID"
as_json "$DEV" POST $API/robots "{\"name\":\"ci\",\"level\":\"project\",\"permissions\":$PERM_DEV}"
check_err "robot duplicate -> 409" 409 CONFLICT
adm_json POST $API/robots '{"name":"sys","level":"system","duration":30,"permissions":[{"kind":"project","namespace":"*","access":[{"resource":"repository","action":"pull"}]}]}'
check_status "system robot by admin -> 201" 201
SYS_ID=$(jq -r .id "$R_BODY")
SYS_SECRET=$(jq -r .secret "$R_BODY")
SECRETS+=("$SYS_SECRET")
check_jq "system robot expires in 30 days" '.expires_at > (now + 29*86400) and .expires_at < (now + 31*86400)'

req_as "$DEV" GET "$API/robots/$ROBOT_ID"
check_jq "GET robot: Harbor fields, no secret" \
    '.name == "robot$devproj+ci" and .level == "project" and .duration == -1 and .disable == false
     and .description == "pushes" and (has("secret") | not)
     and (.permissions[0].namespace == "devproj") and ([.permissions[0].access[].action] | sort) == ["pull","push"]'
check_false "robot secret absent from GET" grep -qF "$ROBOT_SECRET" "$R_BODY"
req GET "$API/robots"
check_hdr "GET /robots X-Total-Count" X-Total-Count 2
check_false "robot secrets absent from the list" grep -qF -e "$ROBOT_SECRET" -e "$SYS_SECRET" "$R_BODY"
req GET "$API/robots?q=Level%3Dsystem"
check_jq "q Level=system" 'length == 1 and .[0].name == "robot$sys"'
req_as "$DEV" GET "$API/robots"
check_err "GET /robots without a project by a non-admin -> 403" 403 FORBIDDEN
req_as "$DEV" GET "$API/robots?q=Level%3Dproject,ProjectID%3D$DEVPROJ_ID"
check_jq "q Level=project,ProjectID=N by the projectAdmin" 'length == 1 and .[0].id == '"$ROBOT_ID"
req_as "$DEV" GET "$API/projects/devproj/robots"
check_jq "GET /projects/{p}/robots" 'length == 1 and .[0].name == "robot$devproj+ci"'
req_as "$OTHER" GET "$API/robots/$ROBOT_ID"
check_err "GET robot by a non-member -> 403" 403 FORBIDDEN
req GET "$API/robots/999999"
check_err "GET unknown robot -> 404" 404 NOT_FOUND

# the robot logs in on /v2/ with its secret, and may not manage robots through the API
ROBOT="robot\$devproj+ci:$ROBOT_SECRET"
req_as "$ROBOT" GET /v2/
check_status "robot Basic login on /v2/ -> 200" 200
req_as "$ROBOT" GET "$API/projects/devproj"
check_status "robot reads the project it has a grant on -> 200" 200
req_as "$ROBOT" GET "$API/robots"
check_err "robot on /robots -> 403" 403 FORBIDDEN

# refresh: a new secret once, the old one stops working
req_as "$DEV" PATCH "$API/robots/$ROBOT_ID" "${J[@]}" --data-binary '{"secret":"weak"}'
check_err "PATCH robot with a weak secret -> 400" 400 BAD_REQUEST
req_as "$DEV" PATCH "$API/robots/$ROBOT_ID" "${J[@]}" --data-binary '{}'
check_status "PATCH robot (refresh) -> 200" 200
NEW_SECRET=$(jq -r .secret "$R_BODY")
SECRETS+=("$NEW_SECRET")
check_ne "refresh gives a new secret" "$NEW_SECRET" "$ROBOT_SECRET"
req_as "$ROBOT" GET /v2/
check_status "old robot secret refused after refresh -> 401" 401
ROBOT="robot\$devproj+ci:$NEW_SECRET"
req_as "$ROBOT" GET /v2/
check_status "new robot secret works" 200
GIVEN_SECRET=$(pw)
SECRETS+=("$GIVEN_SECRET")
req_as "$DEV" PATCH "$API/robots/$ROBOT_ID" "${J[@]}" --data-binary "{\"secret\":\"$GIVEN_SECRET\"}"
check_jq "PATCH with a chosen secret returns it once" ".secret == \"$GIVEN_SECRET\""
ROBOT="robot\$devproj+ci:$GIVEN_SECRET"

# update: disable, then enable; permissions stay on the project
as_json "$DEV" PUT "$API/robots/$ROBOT_ID" '{"disable":"yes"}'
check_err "PUT robot disable of wrong type -> 400" 400 BAD_REQUEST
as_json "$DEV" PUT "$API/robots/$ROBOT_ID" '{"level":"system"}'
check_err "PUT robot changing its level -> 400" 400 BAD_REQUEST
as_json "$DEV" PUT "$API/robots/$ROBOT_ID" '{"permissions":[{"kind":"project","namespace":"pubproj","access":[{"resource":"repository","action":"pull"}]}]}'
check_err "PUT project robot with a grant on another project -> 400" 400 BAD_REQUEST
as_json "$DEV" PUT "$API/robots/$ROBOT_ID" '{"disable":true,"description":"off"}'
check_status "PUT robot disable -> 200" 200
req_as "$ROBOT" GET /v2/
check_status "disabled robot refused -> 401" 401
req_as "$DEV" GET "$API/robots/$ROBOT_ID"
check_jq "robot shows disable true" '.disable == true and .description == "off"'
as_json "$DEV" PUT "$API/robots/$ROBOT_ID" '{"disable":false}'
req_as "$ROBOT" GET /v2/
check_status "re-enabled robot accepted" 200

req_as "$OTHER" DELETE "$API/robots/$ROBOT_ID"
check_err "DELETE robot by a non-member -> 403" 403 FORBIDDEN
req_as "$DEV" DELETE "$API/robots/$SYS_ID"
check_err "DELETE system robot by a non-admin -> 403" 403 FORBIDDEN
req DELETE "$API/robots/$SYS_ID"
check_status "DELETE system robot -> 200" 200
req DELETE "$API/robots/$SYS_ID"
check_err "DELETE robot again -> 404" 404 NOT_FOUND

# --- project delete: refused while it holds a repository ------------------------------------------
printf 'layer-bytes-%s' "$RANDOM" >"$BB_TMP/blob"
push_blob devproj/app "$BB_TMP/blob"
BLOB_DIGEST=$PUSHED_DIGEST
req_as "$DEV" GET "$API/projects/devproj"
check_jq "repo_count counts the repository" '.repo_count == 1'
req_as "$DEV" GET "$API/projects/devproj/_deletable"
check_jq "_deletable false while not empty" '.deletable == false'
req_as "$DEV" DELETE "$API/projects/devproj"
check_err "DELETE non-empty project -> 412 PRECONDITION" 412 PRECONDITION
req_as "$OTHER" DELETE "$API/projects/pubproj"
check_err "DELETE project by a non-member -> 403" 403 FORBIDDEN
req DELETE "/v2/devproj/app/blobs/$BLOB_DIGEST"
check_status "delete the blob from the repository" 202
req_as "$DEV" GET "$API/projects/devproj/_deletable"
check_jq "_deletable true once empty" '.deletable == true'
req_as "$DEV" DELETE "$API/projects/devproj"
check_status "DELETE empty project -> 200" 200
req GET "$API/projects/devproj"
check_err "deleted project -> 404" 404 NOT_FOUND
req GET "$API/robots/$ROBOT_ID"
check_err "its project robot went with it -> 404" 404 NOT_FOUND
req_as "$ROBOT" GET /v2/
check_status "the deleted robot can no longer log in -> 401" 401

# --- offline password reset ------------------------------------------------------------------------
srv_stop
OFFLINE_PASS=$(pw)
SECRETS+=("$OFFLINE_PASS")
check_false "berth user passwd refuses a weak password" \
    sh -c "printf 'weak\n' | '$BERTH_BIN' user passwd dev1 --data '$SRV_DATA'"
check_false "berth user passwd refuses an unknown user" \
    sh -c "printf '%s\n' '$OFFLINE_PASS' | '$BERTH_BIN' user passwd ghost --data '$SRV_DATA'"
check_false "berth user passwd refuses a missing data dir" \
    sh -c "printf '%s\n' '$OFFLINE_PASS' | '$BERTH_BIN' user passwd dev1 --data '$BB_TMP/none'"
out=$(printf '%s\n' "$OFFLINE_PASS" | "$BERTH_BIN" user passwd dev1 --data "$SRV_DATA" 2>&1)
check_eq "berth user passwd dev1 succeeds" "$?" 0
check_false "berth user passwd does not echo the password" grep -qF "$OFFLINE_PASS" <<<"$out"
srv_start "$SRV_DATA"
req_as "dev1:$OFFLINE_PASS" GET $API/users/current
check_jq "login with the offline-reset password" '.username == "dev1"'
req_as "$DEV" GET $API/users/current
check_err "the previous password is refused" 401 UNAUTHORIZED
srv_stop

# --- no password or secret in any server log ---------------------------------------------------------
leaked=""
for s in "${SECRETS[@]}"; do
    if grep -aqF -- "$s" "$BB_TMP"/server.*.log; then leaked="$leaked ${s:0:4}..."; fi
done
check_eq "server logs hold none of the ${#SECRETS[@]} passwords and secrets used" "$leaked" ""
check_false "server logs hold no query strings of API calls" grep -aqE 'GET /api/v2.0/[^ ]*\?' "$BB_TMP"/server.*.log

finish
