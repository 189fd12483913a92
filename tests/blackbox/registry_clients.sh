#!/usr/bin/env bash
# registry_clients.sh - real client flows with skopeo: push and pull back byte-identical, copy
# between repositories (blob mount), list tags, delete; a restart on the same data dir (images
# and an unfinished upload survive); several pushes in parallel.
. "$(dirname "$0")/lib.sh"

if ! command -v skopeo >/dev/null 2>&1; then
    skip "skopeo client flows" "skopeo not installed (make deps-test)"
    finish
fi

# same_blobs NAME SRC_LAYOUT DST_LAYOUT: the pulled layout holds exactly the pushed blobs, each
# hashing to its name.
same_blobs() {
    local a b
    a=$(cd "$2/blobs/sha256" && ls | sort)
    b=$(cd "$3/blobs/sha256" && ls | sort)
    if [ "$a" = "$b" ] && layout_blobs_ok "$3"; then
        ok "$1"
    else
        not_ok "$1" "pushed: $(echo $a)" "pulled: $(echo $b)"
    fi
}

srv_start

busybox=""
for b in /bin/busybox /usr/bin/busybox; do
    [ -x "$b" ] && busybox=$b && break
done

# --- push, pull back ----------------------------------------------------------------------------
src=$BB_TMP/src
mk_oci_layout "$src" 1.0 "$busybox"
src_digest=$LAYOUT_MANIFEST_DIGEST
check_true "skopeo push library/app:1.0" skopeo_push "$src" 1.0 library/app:1.0
check_true "skopeo push the same image again (all blobs exist)" skopeo_push "$src" 1.0 library/app:1.0-again
req HEAD "/v2/library/app/manifests/1.0" "${ACCEPT_ALL[@]}"
check_hdr "pushed tag resolves to the image's digest" Docker-Content-Digest "$src_digest"
check_true "skopeo pull library/app:1.0" skopeo_pull library/app:1.0 "$BB_TMP/pulled" 1.0
same_blobs "pulled image is byte-identical to the pushed one" "$src" "$BB_TMP/pulled"

tags=$(skopeo list-tags --tls-verify=false --creds "$ADMIN_USER:$ADMIN_PASS" \
    "docker://$SRV_HOSTPORT/library/app" 2>"$BB_TMP/skopeo.err" | jq -c '.Tags | sort')
check_eq "skopeo list-tags" "$tags" '["1.0","1.0-again"]'

check_true "skopeo copy between repositories (mount)" skopeo --insecure-policy copy --quiet \
    --src-tls-verify=false --dest-tls-verify=false \
    --src-creds "$ADMIN_USER:$ADMIN_PASS" --dest-creds "$ADMIN_USER:$ADMIN_PASS" \
    "docker://$SRV_HOSTPORT/library/app:1.0" "docker://$SRV_HOSTPORT/library/app-copy:1.0"
check_true "skopeo pull the copy" skopeo_pull library/app-copy:1.0 "$BB_TMP/pulled-copy" 1.0
same_blobs "copy is byte-identical" "$src" "$BB_TMP/pulled-copy"

check_true "skopeo delete library/app-copy:1.0" skopeo delete --tls-verify=false \
    --creds "$ADMIN_USER:$ADMIN_PASS" "docker://$SRV_HOSTPORT/library/app-copy:1.0"
check_false "deleted image no longer pullable" skopeo_pull library/app-copy:1.0 "$BB_TMP/gone" 1.0
check_true "original survives the delete of the copy" skopeo_pull library/app:1.0 "$BB_TMP/pulled2" 1.0
same_blobs "original still byte-identical" "$src" "$BB_TMP/pulled2"

check_false "skopeo with a wrong password fails" skopeo --insecure-policy copy --quiet \
    --dest-tls-verify=false --dest-creds "$ADMIN_USER:nope" "oci:$src:1.0" \
    "docker://$SRV_HOSTPORT/library/app:nope"

# --- an upload left half-way, then a restart on the same data dir -------------------------------
half=$BB_TMP/half.bin
rand_file "$half" 600000
head -c 250000 "$half" >"$BB_TMP/half1"
tail -c +250001 "$half" >"$BB_TMP/half2"
req POST "/v2/library/app/blobs/uploads/"
req PATCH "$(hdr Location)" -H 'Content-Type: application/octet-stream' -H 'Content-Range: 0-249999' \
    --data-binary "@$BB_TMP/half1"
check_status "first half of an upload before the restart -> 202" 202
half_loc=$(hdr Location)

data=$SRV_DATA
srv_stop
srv_start "$data"

check_true "after restart: pull library/app:1.0" skopeo_pull library/app:1.0 "$BB_TMP/pulled3" 1.0
same_blobs "after restart: byte-identical" "$src" "$BB_TMP/pulled3"
req GET "/v2/library/app/tags/list"
check_jq "after restart: tags kept" '.tags | sort == ["1.0","1.0-again"]'
req GET "/v2/library/app-copy/manifests/1.0" "${ACCEPT_ALL[@]}"
check_status "after restart: deleted image stays deleted" 404

half_loc=$(printf '%s' "$half_loc" | sed -E "s#^http://[^/]+#$SRV_URL#")
req GET "$half_loc"
check_status "after restart: the unfinished upload is still there" 204
check_hdr_match "after restart: its offset is kept" Range '^(bytes=)?0-249999$'
req PATCH "$half_loc" -H 'Content-Type: application/octet-stream' -H 'Content-Range: 250000-599999' \
    --data-binary "@$BB_TMP/half2"
check_status "after restart: second half -> 202" 202
req PUT "$(url_add_query "$(hdr Location)" "digest=$(digest_of "$half")")" -H 'Content-Length: 0'
check_status "after restart: upload completes -> 201" 201
req GET "/v2/library/app/blobs/$(digest_of "$half")"
check_body_file "after restart: resumed upload has the exact bytes" "$half"

# --- parallel pushes ----------------------------------------------------------------------------
n=5
pids=()
for i in $(seq 1 $n); do
    mk_oci_layout "$BB_TMP/par$i" v1
    if [ "$i" -le 3 ]; then dest=library/par$i:v1; else dest=library/par-shared:v$i; fi
    (skopeo_push "$BB_TMP/par$i" v1 "$dest" >"$BB_TMP/par$i.log" 2>&1) &
    pids+=($!)
done
i=0
for p in "${pids[@]}"; do
    i=$((i + 1))
    if wait "$p"; then
        ok "parallel push $i finished"
    else
        not_ok "parallel push $i finished" "$(tail -n 5 "$BB_TMP/par$i.log")"
    fi
done
for i in $(seq 1 $n); do
    if [ "$i" -le 3 ]; then dest=library/par$i:v1; else dest=library/par-shared:v$i; fi
    rm -rf "$BB_TMP/parpull$i"
    if skopeo_pull "$dest" "$BB_TMP/parpull$i" v1 >"$BB_TMP/parpull$i.log" 2>&1; then
        same_blobs "parallel push $i pulls back byte-identical" "$BB_TMP/par$i" "$BB_TMP/parpull$i"
    else
        not_ok "parallel push $i pullable" "$(tail -n 5 "$BB_TMP/parpull$i.log")"
    fi
done
req GET "/v2/library/par-shared/tags/list"
check_jq "parallel pushes into one repository: every tag present" '.tags | sort == ["v4","v5"]'

# --- the same blob and the same tag from several clients at once --------------------------------
same=$BB_TMP/same.bin
rand_file "$same" 800000
sdg=$(digest_of "$same")
pids=()
for i in 1 2 3 4 5 6; do
    (
        BB_CURL_AUTH="$ADMIN_USER:$ADMIN_PASS"
        R_HDR=$BB_TMP/same$i.hdr R_BODY=$BB_TMP/same$i.body
        bb_curl POST "/v2/library/same/blobs/uploads/"
        bb_curl PUT "$(url_add_query "$(hdr Location)" "digest=$sdg")" \
            -H 'Content-Type: application/octet-stream' --data-binary "@$same"
        [ "$R_STATUS" = 201 ]
    ) &
    pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
check_eq "6 parallel uploads of the same blob all -> 201" "$fails" 0
req GET "/v2/library/same/blobs/$sdg"
check_body_file "the blob uploaded in parallel has the exact bytes" "$same"
if srv_is_berth; then
    check_eq "one file in the blob store for it" \
        "$(find "$SRV_DATA/blobs" -type f -name "${sdg#sha256:}" | wc -l | tr -d ' ')" 1
fi
mk_image "$BB_TMP/same-img"
push_blob library/same "$BB_TMP/same-img/config.json"
push_blob library/same "$BB_TMP/same-img/layer.tar.gz"
pids=()
for i in 1 2 3 4 5 6; do
    (
        BB_CURL_AUTH="$ADMIN_USER:$ADMIN_PASS"
        R_HDR=$BB_TMP/samem$i.hdr R_BODY=$BB_TMP/samem$i.body
        bb_curl PUT "/v2/library/same/manifests/v$((i % 2))" -H "Content-Type: $MT_OCI_MANIFEST" \
            --data-binary "@$BB_TMP/same-img/manifest.json"
        [ "$R_STATUS" = 201 ]
    ) &
    pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
check_eq "6 parallel PUTs of one manifest under 2 tags all -> 201" "$fails" 0
req GET "/v2/library/same/tags/list"
check_jq "both tags exist once" '.tags | sort == ["v0","v1"]'

finish
