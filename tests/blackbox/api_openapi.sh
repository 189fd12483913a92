#!/usr/bin/env bash
# api_openapi.sh - the OpenAPI document (docs/openapi.json, embedded from webui/openapi.json)
# against the running server: it is served byte for byte at /api/v2.0/openapi.json, and every
# documented path answers as documented:
#   - GET/HEAD operations: a success (admin, existing fixtures) answers the documented 2xx with
#     every required field of the documented schema (each item, for arrays); an error case
#     (unknown names and ids in the path, or no credentials) answers a documented status with
#     Harbor's error body;
#   - other operations: the error case (no credentials, or unknown ids) answers a documented
#     status. Their success cases live in api_repos.sh and api_identity.sh, which need ordered
#     bodies (create before delete).
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
API=/api/v2.0
DOC=$BB_ROOT/docs/openapi.json
J=(-H 'Content-Type: application/json')

check_true "docs/openapi.json is valid JSON, OpenAPI 3" jq -e '.openapi | startswith("3.")' "$DOC"
srv_start

req_anon GET $API/openapi.json
check_status "GET /openapi.json anonymous -> 200" 200
check_body_file "served document = docs/openapi.json" "$DOC"
check_hdr_match "served as JSON" Content-Type '^application/json'

# --- fixtures ------------------------------------------------------------------------------------
req POST $API/projects "${J[@]}" --data '{"project_name":"prj","metadata":{"public":"false"}}'
check_status "fixture: project prj" 201
mk_image "$BB_TMP/img" >/dev/null
push_image prj/app v1 "$BB_TMP/img"
req POST $API/users "${J[@]}" --data '{"username":"u1","password":"Pw-123456a","email":"u1@x.org","realname":"u1"}'
check_status "fixture: user u1" 201
USER_ID=$(hdr Location | sed 's#.*/##')
req POST $API/projects/prj/members "${J[@]}" --data '{"role_id":2,"member_user":{"username":"u1"}}'
check_status "fixture: member" 201
MID=$(hdr Location | sed 's#.*/##')
req POST $API/robots "${J[@]}" --data '{"name":"ci","level":"project","duration":-1,"permissions":[{"kind":"project","namespace":"prj","access":[{"resource":"repository","action":"pull"}]}]}'
check_status "fixture: robot" 201
ROBOT_ID=$(jq -r '.id' "$R_BODY")
req GET $API/quotas
QUOTA_ID=$(jq -r '.[0].id // 1' "$R_BODY" 2>/dev/null)
req POST $API/system/gc/schedule "${J[@]}" --data '{"schedule":{"type":"Manual"},"parameters":{"dry_run":true}}'
GC_ID=$(hdr Location | sed 's#.*/##')

# subst TEMPLATE good|bad: path parameters replaced by fixtures (good) or by unknown ones (bad)
subst() {
    local p=$1
    if [ "$2" = good ]; then
        p=${p//\{project_name_or_id\}/prj}
        p=${p//\{project_name\}/prj}
        p=${p//\{repository_name\}/app}
        p=${p//\{reference\}/v1}
        p=${p//\{tag_name\}/v1}
        p=${p//\{user_id\}/$USER_ID}
        p=${p//\{mid\}/$MID}
        p=${p//\{robot_id\}/$ROBOT_ID}
        p=${p//\{id\}/$QUOTA_ID}
        p=${p//\{gc_id\}/$GC_ID}
    else
        p=${p//\{project_name_or_id\}/nope-project}
        p=${p//\{project_name\}/nope-project}
        p=${p//\{repository_name\}/nope}
        p=${p//\{reference\}/nope}
        p=${p//\{tag_name\}/nope}
        p=${p//\{user_id\}/999999}
        p=${p//\{mid\}/999999}
        p=${p//\{robot_id\}/999999}
        p=${p//\{id\}/999999}
        p=${p//\{gc_id\}/999999}
    fi
    printf '%s' "$p"
}

# one line per operation: METHOD PATH SUCCESS ERRORS(csv) KIND(object|array|none) REQUIRED(csv)
jq -r '
  .components.schemas as $s
  | def resolve: if has("$ref") then $s[(."$ref" | sub("#/components/schemas/"; ""))] else . end;
  .paths | to_entries[] | .key as $p | .value | to_entries[]
  | .key as $m | .value.responses as $r
  | ($r | keys | map(select(startswith("2"))) | min) as $ok
  | ($r[$ok].content["application/json"].schema // null) as $sc
  | (if $sc == null then ["none", []]
     elif ($sc | resolve | .type) == "array" then ["array", ($sc | resolve | .items | resolve | .required // [])]
     else ["object", ($sc | resolve | .required // [])] end) as $shape
  | [$m, $p, $ok, ($r | keys | map(select(startswith("2") | not)) | join(",")), $shape[0],
     ($shape[1] | join(","))] | @tsv' "$DOC" >"$BB_TMP/ops.tsv"
check_true "the document lists operations" test -s "$BB_TMP/ops.tsv"

documented() { # STATUS CSV
    case ",$2," in *",$1,"*) return 0 ;; *) return 1 ;; esac
}

while IFS=$'\t' read -r method path okc errs kind required; do
    M=${method^^}
    q=""
    case $path in /search) q="?q=p" ;; /users/search) q="?username=u" ;; esac
    [ "$path/$M" = /projects/HEAD ] && q="?project_name=prj"
    if [ "$M" = GET ] || [ "$M" = HEAD ]; then
        req "$M" "$API$(subst "$path" good)$q"
        if [ "$R_STATUS" = "$okc" ]; then
            ok "$M $path -> $okc"
        else
            not_ok "$M $path -> $okc" && bb_resp_diag
        fi
        if [ "$M" = GET ] && [ -n "$required" ]; then
            if [ "$kind" = array ]; then
                filt='all(.[]; . as $o | ($k | split(",")) | all(. as $f | $o | has($f)))'
            else
                filt='. as $o | ($k | split(",")) | all(. as $f | $o | has($f))'
            fi
            check_jq "$M $path: documented fields $required" "$filt" --arg k "$required"
        fi
    fi
    # error case: unknown path parameters when there are any, else no credentials
    case $path in
    *\{*) req "$M" "$API$(subst "$path" bad)$q" "${J[@]}" --data '{}' ;;
    *) req_anon "$M" "$API$path$q" "${J[@]}" --data '{}' ;;
    esac
    [ "$M" = HEAD ] && req_anon HEAD "$API$path?project_name=nope-project"
    if [ "$R_STATUS" = "$okc" ] || documented "$R_STATUS" "$errs"; then
        if [ "${R_STATUS:0:1}" = 4 ] && [ "$M" != HEAD ]; then
            check_jq "$M $path error case -> $R_STATUS (documented), Harbor error body" \
                '.errors | type == "array" and length > 0 and all(.[]; has("code") and has("message"))'
        else
            ok "$M $path error case -> $R_STATUS (documented)"
        fi
    else
        not_ok "$M $path error case -> $R_STATUS, documented: $okc,$errs" && bb_resp_diag
    fi
done <"$BB_TMP/ops.tsv"

# the document covers what the server routes: an undocumented top-level segment is a 404
req GET $API/not-documented
check_err "undocumented path -> 404" 404 NOT_FOUND
srv_stop
finish
