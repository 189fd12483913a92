#!/usr/bin/env bash
# api_audit.sh - the audit log through the API: an entry for each action (push, pull, delete of
#   manifest/tag/blob, failed logins on /v2/ and /service/token, project/member/robot/user
#   create/update/delete), Harbor's fields, q filters (username, operation, resource_type,
#   resource fuzzy, op_time range), paging, sort, sysadmin-only /audit-logs, members-only
#   /projects/{p}/logs, and the purge (POST /system/purgeaudit).
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
API=/api/v2.0
J=(-H 'Content-Type: application/json')
adm_json() { req "$2" "$3" "${J[@]}" --data-binary "$1"; }

# q_all Q: a jq condition every entry filtered by Q (k%3Dv,... with exact values) must meet
q_all() {
    local cond=true kv k v
    local IFS=,
    for kv in ${1//%3D/=}; do
        k=${kv%%=*}
        v=${kv#*=}
        cond="$cond and .$k == \"$v\""
    done
    printf '%s' "$cond"
}

# has_event DESC Q JQ: the audit log filtered by q holds an entry matching JQ, and nothing the
# filter excludes (so a server that ignored q would fail)
has_event() {
    req GET "$API/audit-logs?page_size=100&q=$2"
    check_jq "$1" "any(.[]; $3) and all(.[]; $(q_all "$2"))"
}

srv_start

P=$(rand_name aud)
UPW="Au-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')x9"

# --- admin changes ------------------------------------------------------------------------------
adm_json "{\"project_name\":\"$P\"}" POST $API/projects
check_status "create project" 201
adm_json "{\"username\":\"auser\",\"password\":\"$UPW\",\"email\":\"a@example.com\",\"realname\":\"A\"}" POST $API/users
check_status "create user" 201
adm_json '{"role_id":2,"member_user":{"username":"auser"}}' POST "$API/projects/$P/members"
check_status "add member" 201
MID=$(hdr Location | sed 's#.*/##')
adm_json '{"role_id":3}' PUT "$API/projects/$P/members/$MID"
check_status "change member role" 200
adm_json "{\"name\":\"ci\",\"level\":\"system\",\"duration\":-1,\"permissions\":[{\"kind\":\"project\",\"namespace\":\"$P\",\"access\":[{\"resource\":\"repository\",\"action\":\"pull\"}]}]}" POST $API/robots
check_status "create robot" 201
RID=$(jq -r '.id' "$R_BODY")
req DELETE "$API/robots/$RID"
check_status "delete robot" 200

# --- registry actions ---------------------------------------------------------------------------
mk_image "$BB_TMP/img" >/dev/null
push_image "$P/app" v1 "$BB_TMP/img"
req GET "/v2/$P/app/manifests/v1" "${ACCEPT_ALL[@]}"
check_status "pull manifest" 200
req HEAD "/v2/$P/app/manifests/v1" "${ACCEPT_ALL[@]}"
check_status "HEAD manifest (not a pull)" 200
req DELETE "/v2/$P/app/manifests/v1"
check_status "delete tag" 202
req DELETE "/v2/$P/app/blobs/$(digest_of "$BB_TMP/img/layer.tar.gz")"
check_status "delete blob" 202
req DELETE "/v2/$P/app/manifests/$IMG_DIGEST"
check_status "delete manifest" 202
req_as "auser:wrong-password" GET "/v2/$P/app/tags/list"
check_status "failed Basic login on /v2/" 401
req_anon POST /service/token --data-urlencode grant_type=password --data-urlencode username=tokuser \
    --data-urlencode password=nope
check_status "failed token login" 401
req_as "auser:$UPW" GET "$API/projects/$P/logs"
check_status "guest of the project reads its logs -> 200" 200

# --- each action is found -----------------------------------------------------------------------
has_event "push recorded" "operation%3Dcreate,resource_type%3Dartifact" \
    ".resource == \"$P/app:v1\" and .username == \"admin\""
has_event "pull recorded" "operation%3Dpull" ".resource == \"$P/app:v1\""
req GET "$API/audit-logs?page_size=100&q=operation%3Dpull"
check_jq "HEAD is not a pull" "[.[] | select(.resource == \"$P/app:v1\")] | length == 1"
check_jq "q=operation=pull yields pulls only" 'length >= 1 and all(.[]; .operation == "pull")'
req GET "$API/audit-logs?page_size=100&q=resource_type%3Dproject"
check_jq "q=resource_type=project yields projects only" \
    'length >= 1 and all(.[]; .resource_type == "project")'
req GET "$API/audit-logs?page_size=100&q=username%3Dauser"
check_jq "q=username=auser yields auser's entries only" \
    'length >= 1 and all(.[]; .username == "auser")' 
has_event "tag delete recorded" "operation%3Ddelete,resource_type%3Dtag" ".resource == \"$P/app:v1\""
has_event "blob delete recorded" "operation%3Ddelete,resource_type%3Dblob" \
    ".resource == \"$P/app@$(digest_of "$BB_TMP/img/layer.tar.gz")\""
has_event "manifest delete recorded" "operation%3Ddelete,resource_type%3Dartifact" \
    ".resource == \"$P/app@$IMG_DIGEST\""
has_event "failed /v2/ login recorded" "operation%3Dlogin" \
    '.username == "auser" and .operation_result == false and .client_ip == "127.0.0.1"'
# tokuser is no account: the name may be a password typed into the wrong field, kept as a prefix
has_event "failed token login recorded" "operation%3Dlogin" '.username == "tok..."'
req GET "$API/audit-logs?page_size=100&q=operation%3Dlogin"
check_jq "the unknown name is nowhere in full" 'all(.[]; .username != "tokuser" and .resource != "tokuser")'
has_event "project create recorded" "resource_type%3Dproject,operation%3Dcreate" \
    ".resource | contains(\"$P\")"
has_event "user create recorded" "resource_type%3Duser" '.resource | contains("auser")'
has_event "member add recorded" "resource_type%3Dproject_member,operation%3Dcreate" \
    '.resource | contains("auser")'
has_event "member update recorded" "resource_type%3Dproject_member,operation%3Dupdate" 'true'
has_event "robot create recorded" "resource_type%3Drobot,operation%3Dcreate" '.resource | contains("ci")'
has_event "robot delete recorded" "resource_type%3Drobot,operation%3Ddelete" 'true'
req DELETE "$API/projects/$P/members/$MID"
check_status "delete member" 200
has_event "member delete recorded" "resource_type%3Dproject_member,operation%3Ddelete" 'true'
req GET "$API/users?q=username%3Dauser"
UID_A=$(jq -r '.[0].user_id' "$R_BODY")
req DELETE "$API/users/$UID_A"
check_status "delete user" 200
has_event "user delete recorded" "resource_type%3Duser,operation%3Ddelete" 'true'

# --- fields, filters, paging --------------------------------------------------------------------
req GET "$API/audit-logs?page_size=1"
check_status "GET /audit-logs -> 200" 200
check_jq "Harbor's fields" '.[0] | (.id|type) == "number" and (.username|type) == "string"
    and (.resource|type) == "string" and (.resource_type|type) == "string"
    and (.operation|type) == "string" and (.op_time|test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"))'
TOTAL=$(hdr X-Total-Count)
check_match "X-Total-Count" "$TOTAL" '^[0-9]+$'
check_hdr_match "Link next" Link 'rel="next"'
req GET "$API/audit-logs?page=2&page_size=1"
check_hdr_match "Link prev on page 2" Link 'rel="prev"'
req GET "$API/audit-logs?page_size=100&sort=op_time"
check_jq "sort=op_time oldest first" '.[0].id < .[-1].id'
req GET "$API/audit-logs?page_size=100"
check_jq "default newest first" '.[0].id > .[-1].id'
req GET "$API/audit-logs?q=username%3D~uvwxyz"
check_jq "fuzzy username no match" 'length == 0'
req GET "$API/audit-logs?page_size=100&q=resource%3D~$P/app"
check_jq "fuzzy resource" "length >= 4 and all(.[]; .resource | contains(\"$P/app\"))"
check_ne "fuzzy resource leaves entries out" "$(hdr X-Total-Count)" "$TOTAL"
req GET "$API/audit-logs?q=op_time%3D%5B2000-01-01%2000:00:00~2000-12-31%2023:59:59%5D"
check_jq "op_time range in 2000 -> none" 'length == 0'
check_hdr "total 0" X-Total-Count 0
req GET "$API/audit-logs?q=op_time%3D%5B2000-01-01%2000:00:00~%5D"
check_hdr "open-ended op_time keeps all" X-Total-Count "$TOTAL"
req GET "$API/audit-logs?q=op_time%3D%5Bnot-a-date~%5D"
check_err "bad op_time -> 400" 400 BAD_REQUEST
req GET "$API/audit-logs?q=color%3Dred"
check_err "unknown q key -> 400" 400 BAD_REQUEST
req GET "$API/audit-logs?sort=username"
check_err "bad sort -> 400" 400 BAD_REQUEST
req GET "$API/audit-logs?page=0"
check_err "page 0 -> 400" 400 BAD_REQUEST

# --- who may read -------------------------------------------------------------------------------
UPW2="Bu-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')x9"
adm_json "{\"username\":\"buser\",\"password\":\"$UPW2\",\"email\":\"b@example.com\",\"realname\":\"B\"}" POST $API/users
req_as "buser:$UPW2" GET "$API/audit-logs"
check_err "non-admin /audit-logs -> 403" 403 FORBIDDEN
req_anon GET "$API/audit-logs"
check_err "anonymous /audit-logs -> 401" 401 UNAUTHORIZED
req_as "buser:$UPW2" GET "$API/projects/$P/logs"
check_err "non-member project logs -> 403" 403 FORBIDDEN
adm_json '{"role_id":5,"member_user":{"username":"buser"}}' POST "$API/projects/$P/members"
req_as "buser:$UPW2" GET "$API/projects/$P/logs"
check_err "limited guest project logs -> 403" 403 FORBIDDEN
req GET "$API/projects/$P" -H 'X-Is-Resource-Name: true'
PID=$(jq '.project_id' "$R_BODY")
req GET "$API/projects/$P/logs?page_size=100"
check_status "admin project logs -> 200" 200
check_jq "project logs only hold the project's events" "length >= 5 and all(.[]; .project_id == $PID)"

# --- purge --------------------------------------------------------------------------------------
req_as "buser:$UPW2" POST "$API/system/purgeaudit" "${J[@]}" --data-binary '{"retention_hours":0}'
check_err "non-admin purge -> 403" 403 FORBIDDEN
adm_json '{"retention_hours":"x"}' POST "$API/system/purgeaudit"
check_err "purge wrong type -> 400" 400 BAD_REQUEST
adm_json '{}' POST "$API/system/purgeaudit"
check_err "purge without retention_hours -> 400" 400 BAD_REQUEST
req GET "$API/system/purgeaudit"
check_err "GET purgeaudit -> 405" 405 METHOD_NOT_ALLOWED
adm_json '{"retention_hours":24}' POST "$API/system/purgeaudit"
check_status "purge older than 24h -> 200" 200
check_jq "nothing that old" '.removed == 0'
adm_json '{"retention_hours":0}' POST "$API/system/purgeaudit"
check_status "purge everything -> 200" 200
check_jq "removed all but what came after" '.removed >= 10'

srv_stop
finish
