#!/usr/bin/env bash
# api_quota.sh - project storage quotas: /api/v2.0/quotas (list, reference filters, paging, get,
#   put, errors), the project summary's quota, and enforcement with real skopeo pushes:
#   a push over the limit is refused with DENIED "quota exceeded ..." and leaves the blob store
#   and the database exactly as they were; a layer shared by two repositories of a project
#   counts once; deleting content brings the usage down; a limit below usage is accepted and
#   reported; an unlimited project is never refused.
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
API=/api/v2.0
J=(-H 'Content-Type: application/json')

adm_json() { req "$2" "$3" "${J[@]}" --data-binary "$1"; }
# usage_of PID: used.storage of quota PID
usage_of() {
    req GET "$API/quotas/$1"
    jq -r '.used.storage' "$R_BODY"
}
# flush_audit: listing the audit log flushes its queue (so snapshots do not see late rows)
flush_audit() { req GET "$API/audit-logs?page_size=1"; }

srv_start

if ! command -v skopeo >/dev/null; then
    skip "skopeo pushes" "skopeo not installed"
fi

# --- projects with limits -------------------------------------------------------------------
adm_json '{"project_name":"qa","storage_limit":-1}' POST $API/projects
check_status "create project qa (unlimited)" 201
QA=$(hdr Location | sed 's#.*/##')
adm_json '{"project_name":"qb","storage_limit":1000000}' POST $API/projects
check_status "create project qb (1 MB)" 201
QB=$(hdr Location | sed 's#.*/##')

# --- API: list, get, errors -----------------------------------------------------------------
req GET "$API/quotas?reference=project&reference_id=$QB"
check_status "GET /quotas?reference_id -> 200" 200
check_hdr "one quota for reference_id" X-Total-Count 1
check_jq "quota fields as Harbor" \
    '.[0] | .id > 0 and .ref.name == "qb" and .ref.id > 0 and .hard.storage == 1000000
     and .used.storage == 0 and (.creation_time | type) == "string" and (.update_time | type) == "string"'
req GET "$API/quotas?page=1&page_size=1"
check_status "GET /quotas paged -> 200" 200
check_hdr "X-Total-Count = library, qa, qb" X-Total-Count 3
check_hdr_match "Link to the next page" Link 'page=2&page_size=1>; rel="next"'
check_jq "one row per page" 'length == 1'
req GET "$API/quotas?reference=repository"
check_err "reference other than project -> 400" 400 BAD_REQUEST
req GET "$API/quotas?reference_id=abc"
check_err "reference_id not a number -> 400" 400 BAD_REQUEST
req GET "$API/quotas?page_size=1000"
check_err "page_size over 100 -> 400" 400 BAD_REQUEST
req GET "$API/quotas/999999"
check_err "unknown quota -> 404" 404 NOT_FOUND
req GET "$API/quotas/x"
check_err "quota id not a number -> 400" 400 BAD_REQUEST
req_anon GET "$API/quotas"
check_err "anonymous -> 401" 401 UNAUTHORIZED
adm_json '{"hard":{"storage":"big"}}' PUT "$API/quotas/$QB"
check_err "PUT wrong type -> 400" 400 BAD_REQUEST
adm_json '{"hard":{"storage":-5}}' PUT "$API/quotas/$QB"
check_err "PUT below -1 -> 400" 400 BAD_REQUEST
adm_json '{"hard":' PUT "$API/quotas/$QB"
check_err "PUT bad JSON -> 400" 400 BAD_REQUEST
adm_json '{"hard":{"storage":5}}' PUT "$API/quotas/999999"
check_err "PUT unknown -> 404" 404 NOT_FOUND
req DELETE "$API/quotas/$QB"
check_err "DELETE -> 405" 405 METHOD_NOT_ALLOWED

# a plain user: 403 on the list and on PUT, 200 on its own project's quota
UPW="Qu-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')x9"
adm_json "{\"username\":\"quser\",\"password\":\"$UPW\",\"email\":\"q@example.com\",\"realname\":\"Q\"}" POST $API/users
check_status "create user quser" 201
req_as "quser:$UPW" GET "$API/quotas"
check_err "non-admin list -> 403" 403 FORBIDDEN
req_as "quser:$UPW" GET "$API/quotas/$QB"
check_err "non-member get -> 403" 403 FORBIDDEN
QUID=$(req GET "$API/users?q=username%3Dquser" && jq -r '.[0].user_id' "$R_BODY")
adm_json "{\"role_id\":2,\"member_user\":{\"username\":\"quser\"}}" POST "$API/projects/qb/members"
check_status "quser developer of qb" 201
req_as "quser:$UPW" GET "$API/quotas/$QB"
check_status "member get -> 200" 200
req_as "quser:$UPW" PUT "$API/quotas/$QB" "${J[@]}" --data-binary '{"hard":{"storage":1}}'
check_err "member PUT -> 403" 403 FORBIDDEN
: "$QUID"

# --- enforcement with real pushes -----------------------------------------------------------
if command -v skopeo >/dev/null; then
    L1=$BB_TMP/l1
    L2=$BB_TMP/l2
    mk_oci_layout "$L1" v1
    mk_oci_layout "$L2" v2
    # image sizes (config + layer + manifest)
    img_size() {
        local s=0 f
        for f in "$1"/blobs/sha256/*; do s=$((s + $(size_of "$f"))); done
        echo $s
    }
    S1=$(img_size "$L1")

    check_true "skopeo push qb/app:v1" skopeo_push "$L1" v1 "qb/app:v1"
    check_eq "usage = the image's bytes" "$(usage_of "$QB")" "$S1"
    # the same image into a second repository of the project: shared layers count once
    check_true "skopeo push qb/other:v1 (same blobs)" skopeo_push "$L1" v1 "qb/other:v1"
    check_eq "shared layers counted once across two repositories" "$(usage_of "$QB")" "$S1"
    # and into another project: that project pays for its own copy
    check_true "skopeo push qa/app:v1" skopeo_push "$L1" v1 "qa/app:v1"
    check_eq "qa pays for its copy" "$(usage_of "$QA")" "$S1"
    check_eq "qb unchanged by qa's push" "$(usage_of "$QB")" "$S1"

    # summary carries the quota
    req GET "$API/projects/qb/summary"
    check_status "GET summary -> 200" 200
    check_jq "summary quota" ".quota.hard.storage == 1000000 and .quota.used.storage == $S1"
    check_jq "summary member counts" '.project_admin_count >= 0 and .developer_count == 1'

    # lower the limit to just above the current usage: the next image does not fit
    adm_json "{\"hard\":{\"storage\":$((S1 + 10))}}" PUT "$API/quotas/$QB"
    check_status "PUT limit above usage -> 200" 200
    check_jq "no warning above usage" 'has("warning") | not'
    flush_audit
    BEFORE=$BB_TMP/snap.before
    snap "$BEFORE"
    out=$(skopeo --insecure-policy copy --dest-tls-verify=false \
        --dest-creds "$ADMIN_USER:$ADMIN_PASS" "oci:$L2:v2" "docker://$SRV_HOSTPORT/qb/app:v2" 2>&1)
    rc=$?
    check_ne "skopeo push over the quota fails" "$rc" 0
    check_contains "client sees quota exceeded" "$out" "quota exceeded: project qb uses $S1 of $((S1 + 10)) bytes"
    flush_audit
    check_unchanged "refused push left blobs/ and the database as they were" "$BEFORE"
    check_eq "no upload files left in blobs/" \
        "$(find "$SRV_DATA/blobs" -type f | wc -l | tr -d ' ')" \
        "$(grep -c ' blobs/' "$BEFORE" | tr -d ' ')"

    # curl: the registry error body is the spec's DENIED
    LAYER=$BB_TMP/big.bin
    rand_file "$LAYER" 4096
    req POST "/v2/qb/app/blobs/uploads/"
    loc=$(hdr Location)
    req PUT "$(url_add_query "$loc" "digest=$(digest_of "$LAYER")")" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$LAYER"
    check_err "monolithic upload over quota -> 403 DENIED" 403 DENIED
    check_jq "message names usage, limit and need" \
        ".errors[0].message == \"quota exceeded: project qb uses $S1 of $((S1 + 10)) bytes, this push needs 4096 more\""
    check_false "refused blob is not in the store" \
        test -e "$SRV_DATA/blobs/sha256/$(sha256_of "$LAYER" | cut -c1-2)/$(sha256_of "$LAYER")"
    req HEAD "/v2/qb/app/blobs/$(digest_of "$LAYER")"
    check_status "refused blob is unknown" 404
    # mount of a blob the project does not hold is refused too
    push_blob "qa/app" "$LAYER"
    req POST "/v2/qb/app/blobs/uploads/?mount=$(digest_of "$LAYER")&from=qa/app"
    check_err "cross-project mount over quota -> 403 DENIED" 403 DENIED
    # a blob the project already holds adds nothing: re-pushing it succeeds even when full
    adm_json "{\"hard\":{\"storage\":$S1}}" PUT "$API/quotas/$QB"
    check_true "re-push of held image at exactly the limit" skopeo_push "$L1" v1 "qb/third:v1"
    check_eq "usage still one copy" "$(usage_of "$QB")" "$S1"

    # a limit below usage is accepted and reported (harbor#15615)
    adm_json '{"hard":{"storage":100}}' PUT "$API/quotas/$QB"
    check_status "PUT limit below usage -> 200" 200
    check_jq "warning says below usage" ".warning | test(\"below the current usage\")"
    check_jq "answer carries used" ".used.storage == $S1 and .hard.storage == 100"

    # deleting brings usage down: remove every link of the image from every repository
    MD=$LAYOUT_MANIFEST_DIGEST
    : "$MD"
    M1=$(jq -r '.manifests[0].digest' "$L1/index.json")
    for repo in app other third; do
        req DELETE "/v2/qb/$repo/manifests/$M1"
        check_status "delete manifest of qb/$repo" 202
    done
    check_eq "manifest bytes no longer counted" "$(usage_of "$QB")" \
        "$((S1 - $(size_of "$L1/blobs/sha256/${M1#sha256:}")))"
    for f in "$L1"/blobs/sha256/*; do
        d="sha256:$(basename "$f")"
        [ "$d" = "$M1" ] && continue
        for repo in app other third; do
            req DELETE "/v2/qb/$repo/blobs/$d"
        done
    done
    check_eq "usage back to 0 after deletes" "$(usage_of "$QB")" 0
    # with room again, the second image fits
    adm_json '{"hard":{"storage":-1}}' PUT "$API/quotas/$QB"
    check_true "push after raising the limit" skopeo_push "$L2" v2 "qb/app:v2"
    check_eq "usage = second image" "$(usage_of "$QB")" "$(img_size "$L2")"
fi

srv_stop
finish
