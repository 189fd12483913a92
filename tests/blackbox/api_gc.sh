#!/usr/bin/env bash
# api_gc.sh - garbage collection over the management API against the real server: who may start
#   and read runs (401/403), a dry run removes nothing and its log says what it would, a real run
#   removes a deleted image's layer past the window (gc_window_s = 0 here), Harbor's history
#   fields, paging headers, the log as text/plain, the start audit-logged, and the history
#   surviving a restart.
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
API=/api/v2.0
J=(-H 'Content-Type: application/json')
DRY='{"schedule":{"type":"Manual"},"parameters":{"dry_run":true}}'
REAL='{"schedule":{"type":"Manual"},"parameters":{"dry_run":false}}'
printf 'gc_window_s = 0\n' >"$BB_TMP/gc.conf"
BB_SERVE_ARGS="--config $BB_TMP/gc.conf"
srv_start
DATA=$SRV_DATA

blobfile() { printf '%s/blobs/sha256/%s/%s' "$DATA" "$(printf %s "${1#sha256:}" | cut -c1-2)" "${1#sha256:}"; }
# wait_done ID: poll the run until it is Success or Error (deadline 30 s)
wait_done() {
    local deadline=$((SECONDS + 30)) st=""
    while [ $SECONDS -lt $deadline ]; do
        req GET "$API/system/gc/$1"
        st=$(jq -r '.job_status' "$R_BODY")
        case $st in Success | Error) break ;; esac
        sleep 0.1
    done
    check_eq "run $1 finished with Success" "$st" Success
}

# --- permissions --------------------------------------------------------------------------------
req_anon POST "$API/system/gc/schedule" "${J[@]}" --data "$DRY"
check_err "anonymous start -> 401" 401 UNAUTHORIZED
req POST "$API/users" "${J[@]}" --data '{"username":"plain","password":"Pw-123456a","email":"p@x.org","realname":"p"}'
check_status "fixture: a user who is no admin" 201
req_as "plain:Pw-123456a" POST "$API/system/gc/schedule" "${J[@]}" --data "$DRY"
check_err "non-admin start -> 403" 403 FORBIDDEN
req_as "plain:Pw-123456a" GET "$API/system/gc"
check_err "non-admin history -> 403" 403 FORBIDDEN
req POST "$API/system/gc/schedule" "${J[@]}" --data '{"schedule":{"type":"Daily"}}'
check_err "a schedule other than Manual -> 400" 400 BAD_REQUEST

# --- an image to collect ------------------------------------------------------------------------
mk_image "$BB_TMP/drop" >/dev/null
push_image library/drop v1 "$BB_TMP/drop"
layer=$(digest_of "$BB_TMP/drop/layer.tar.gz")
req DELETE "/v2/library/drop/manifests/$(digest_of "$BB_TMP/drop/manifest.json")"
check_status "delete the image to collect" 202
t0=$(date +%s) # window 0 spares what is younger than this second
while [ "$(date +%s)" = "$t0" ]; do sleep 0.1; done

# --- dry run ------------------------------------------------------------------------------------
req POST "$API/system/gc/schedule" "${J[@]}" --data "$DRY"
check_status "admin starts a dry run -> 201" 201
check_hdr_match "Location names the run" Location '^/api/v2\.0/system/gc/[0-9]+$'
DRY_ID=$(hdr Location | sed 's#.*/##')
wait_done "$DRY_ID"
check_jq "dry run: Harbor's fields" '.job_name == "GARBAGE_COLLECTION" and .job_kind == "MANUAL"
    and .job_parameters == "{\"dry_run\":true}" and (.creation_time | type) == "string"
    and (.update_time | type) == "string" and .deleted == false'
check_true "dry run removed nothing" test -f "$(blobfile "$layer")"
req GET "$API/system/gc/$DRY_ID/log"
check_status "dry run log -> 200" 200
check_hdr "log is text/plain" Content-Type "text/plain; charset=utf-8"
# the deleted manifest's own blob has no reference left; its layers still have dangling links
check_match "dry run log says what it would remove" "$(body)" 'would remove 1 unreferenced blobs \([0-9]+ bytes\), 0 orphan files \(0 bytes\), 2 repository links'
check_contains "dry run log has the duration" "$(body)" "duration: "

# --- real run -----------------------------------------------------------------------------------
req POST "$API/system/gc/schedule" "${J[@]}" --data "$REAL"
check_status "admin starts a run -> 201" 201
REAL_ID=$(hdr Location | sed 's#.*/##')
wait_done "$REAL_ID"
check_false "the deleted image's layer is gone" test -f "$(blobfile "$layer")"
req GET "$API/system/gc/$REAL_ID/log"
check_contains "log says what was removed" "$(body)" "removed 3 unreferenced blobs"
check_contains "log has progress lines" "$(body)" "progress: "

# --- history ------------------------------------------------------------------------------------
req GET "$API/system/gc?page=1&page_size=1"
check_status "history -> 200" 200
check_hdr "X-Total-Count" X-Total-Count 2
check_hdr_match "Link to the next page" Link 'rel="next"'
check_jq "newest first" ".[0].id == $REAL_ID and length == 1"
req GET "$API/system/gc/999999"
check_err "unknown run -> 404" 404 NOT_FOUND
req GET "$API/audit-logs?q=resource_type=garbage_collection"
check_jq "each start is audit-logged" 'length == 2 and all(.[]; .operation == "create" and .username == "admin")'

# --- the history survives a restart -------------------------------------------------------------
srv_stop
srv_start "$DATA"
req GET "$API/system/gc"
check_jq "after a restart both runs are still listed" 'length == 2 and all(.[]; .job_status == "Success")'
srv_stop
finish
