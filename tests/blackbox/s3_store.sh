#!/usr/bin/env bash
# s3_store.sh - Berth with blob_store = s3://BUCKET against a real radosgw (scripts/radosgw.sh):
#   the S3 client's own tests (build/asan/tests/storage/s3_test) against it; monolithic and
#   chunked uploads (1 MiB, 7 MiB, 3 KiB chunks; a 12 MiB blob) land as objects and nothing under
#   DATA/blobs; HEAD/GET byte-identical, Range GET, mount, delete; gc removes an unreferenced blob
#   object; an abandoned upload's multipart upload is purged (ListMultipartUploads); with
#   redirect = true, GET and HEAD answer 307 to presigned URLs that curl -L follows (without
#   forwarding Authorization) and skopeo copies through. Skipped when Ceph is not installed.
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
S3T=$BB_ROOT/build/asan/tests/storage/s3_test

if ! command -v radosgw >/dev/null 2>&1 || ! command -v ceph-mon >/dev/null 2>&1; then
    skip "radosgw and ceph-mon not installed (scripts/deps.sh test)"
    finish
fi

RGW=$BB_TMP/rgw
s3_cleanup() {
    sh "$BB_ROOT/scripts/radosgw.sh" stop "$RGW" >/dev/null 2>&1
    bb_cleanup
}
trap s3_cleanup EXIT

if ! sh "$BB_ROOT/scripts/radosgw.sh" start "$RGW" >"$BB_TMP/rgw.out" 2>"$BB_TMP/rgw.err"; then
    not_ok "radosgw starts" "$(tail -n 20 "$BB_TMP/rgw.err")"
    finish
fi
eval "$(grep -E '^S3_(ENDPOINT|ACCESS_KEY|SECRET_KEY)=' "$BB_TMP/rgw.out")"
export S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY
check_match "radosgw.sh prints the endpoint" "$S3_ENDPOINT" '^http://127\.0\.0\.1:[0-9]+$'

# --- the client's own tests against radosgw --------------------------------------------------
if [ -x "$S3T" ]; then
    "$S3T" >"$BB_TMP/s3_test.out" 2>&1
    check_eq "storage/s3_test against radosgw exits 0" "$?" 0
    check_match "storage/s3_test ran its checks" "$(tail -n 1 "$BB_TMP/s3_test.out")" '^[1-9][0-9]* passed, 0 failed$'
else
    not_ok "build/asan/tests/storage/s3_test built (make asan-bin)"
fi

BUCKET=berth-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
conf() { # REDIRECT
    cat >"$BB_TMP/berth.conf" <<EOF
blob_store = s3://$BUCKET
s3_endpoint = $S3_ENDPOINT
redirect = $1
EOF
}
conf false
# the keys come from the environment (AWS_* fallback), the rest from the file
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
BB_SERVE_ARGS="--config $BB_TMP/berth.conf"
srv_start
check_false "the secret key is not in the server log" grep -q "$S3_SECRET_KEY" "$SRV_LOG"

objects() { "$S3T" --list "$BUCKET" "${1:-blobs/}"; }
object_of() { printf 'blobs/sha256/%s/%s' "$(printf %s "${1#sha256:}" | cut -c1-2)" "${1#sha256:}"; }

# --- monolithic upload ----------------------------------------------------------------------
repo=library/s3app
mono=$BB_TMP/mono.bin
rand_file "$mono" 300000
push_blob "$repo" "$mono"
dmono=$PUSHED_DIGEST
check_contains "monolithic blob is an object in the bucket" "$(objects)" "$(object_of "$dmono") 300000"
check_eq "nothing under DATA/blobs" "$(find "$SRV_DATA/blobs" -type f | wc -l)" 0

# --- chunked upload: 1 MiB, 7 MiB, 3 KiB chunks --------------------------------------------
big=$BB_TMP/chunked.bin
rand_file "$big" $((1048576 + 7340032 + 3072))
dbig=$(digest_of "$big")
head -c 1048576 "$big" >"$BB_TMP/c1"
tail -c +1048577 "$big" | head -c 7340032 >"$BB_TMP/c2"
tail -c +8388609 "$big" >"$BB_TMP/c3"
req POST "/v2/$repo/blobs/uploads/"
check_status "chunked: POST -> 202" 202
loc=$(hdr Location)
off=0
for c in c1 c2 c3; do
    n=$(size_of "$BB_TMP/$c")
    req PATCH "$loc" -H 'Content-Type: application/octet-stream' \
        -H "Content-Range: $off-$((off + n - 1))" --data-binary "@$BB_TMP/$c"
    check_status "chunked: PATCH $c ($n bytes) -> 202" 202
    check_hdr "chunked: Range after $c" Range "0-$((off + n - 1))"
    loc=$(hdr Location)
    off=$((off + n))
done
req PUT "$(url_add_query "$loc" "digest=$dbig")"
check_status "chunked: PUT ?digest -> 201" 201
check_contains "chunked blob is an object" "$(objects)" "$(object_of "$dbig") $(size_of "$big")"

# --- a session continued by another process (one database, one bucket) --------------------
port2=$(free_port)
BERTH_ADMIN_PASSWORD=$ADMIN_PASS "$BERTH_BIN" serve --listen "127.0.0.1:$port2" --data "$SRV_DATA" \
    --config "$BB_TMP/berth.conf" >"$BB_TMP/server2.log" 2>&1 &
pid2=$!
deadline=$((SECONDS + 60))
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port2/api/v2.0/ping")" = 200 ] ||
    [ $SECONDS -ge $deadline ]; do sleep 0.2; done
two=$BB_TMP/two.bin
rand_file "$two" $((6 * 1048576 + 5000))
dtwo=$(digest_of "$two")
head -c $((6 * 1048576)) "$two" >"$BB_TMP/t1"
tail -c 5000 "$two" >"$BB_TMP/t2"
req POST "/v2/$repo/blobs/uploads/"
loc=$(hdr Location)
req PATCH "$loc" -H 'Content-Type: application/octet-stream' -H "Content-Range: 0-$((6 * 1048576 - 1))" \
    --data-binary "@$BB_TMP/t1"
check_status "two processes: PATCH 6 MiB on the first -> 202" 202
loc=$(hdr Location)
SRV_URL_1=$SRV_URL
SRV_URL=http://127.0.0.1:$port2
req GET "$loc"
check_hdr "two processes: the second sees the offset" Range "0-$((6 * 1048576 - 1))"
req PATCH "$loc" -H 'Content-Type: application/octet-stream' \
    -H "Content-Range: $((6 * 1048576))-$((6 * 1048576 + 4999))" --data-binary "@$BB_TMP/t2"
check_status "two processes: next PATCH on the second -> 202" 202
loc=$(hdr Location)
SRV_URL=$SRV_URL_1
req PUT "$(url_add_query "$loc" "digest=$dtwo")"
check_status "two processes: PUT on the first -> 201" 201
req GET "/v2/$repo/blobs/$dtwo"
check_body_file "two processes: blob byte-identical" "$two"
# one session, two requests at once on two processes: the second is refused (busy, CAS)
slow=$BB_TMP/slow.bin
rand_file "$slow" 1500000
req POST "/v2/$repo/blobs/uploads/"
loc=$(hdr Location)
curl -sS -o "$BB_TMP/slow.out" -w '%{http_code}' --limit-rate 150k -u "$ADMIN_USER:$ADMIN_PASS" \
    -X PATCH -H 'Content-Type: application/octet-stream' --data-binary "@$slow" \
    "$SRV_URL_1$loc" >"$BB_TMP/slow.code" 2>/dev/null &
slow_pid=$!
SRV_URL=http://127.0.0.1:$port2
deadline=$((SECONDS + 10))
while :; do
    req PATCH "$loc" -H 'Content-Type: application/octet-stream' -H 'Content-Length: 0'
    [ "$R_STATUS" != 202 ] || [ $SECONDS -ge $deadline ] && break
    sleep 0.1
done
check_err "two processes: a second request on a busy session -> 400 BLOB_UPLOAD_INVALID" 400 BLOB_UPLOAD_INVALID
wait "$slow_pid"
check_eq "two processes: the first request still succeeds" "$(cat "$BB_TMP/slow.code")" 202
req GET "$loc"
check_hdr "two processes: the offset is the first request's alone" Range "0-1499999"
SRV_URL=$SRV_URL_1
kill -TERM "$pid2"
bb_wait_exit "$pid2" 20
check_false "second server log free of sanitizer reports" grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$BB_TMP/server2.log"

# --- an abandoned upload: its multipart upload and tail are purged ----------------------------
req POST "/v2/$repo/blobs/uploads/"
loc=$(hdr Location)
aband=${loc##*/}
aband=${aband%%\?*}
head -c $((9 * 1048576)) /dev/urandom >"$BB_TMP/ab"
req PATCH "$loc" -H 'Content-Type: application/octet-stream' --data-binary "@$BB_TMP/ab"
check_status "abandoned: PATCH 9 MiB -> 202" 202
req PATCH "$(hdr Location)" -H 'Content-Type: application/octet-stream' --data-binary "@$BB_TMP/c3"
check_status "abandoned: PATCH 3 KiB more -> 202" 202
check_contains "abandoned: its multipart upload is listed (ListMultipartUploads)" \
    "$("$S3T" --uploads "$BUCKET" _uploads/)" "_uploads/$aband/data"
check_contains "abandoned: its tail object is there" "$(objects _uploads/)" "_uploads/$aband/tail-"
printf 'upload_purge_age_s = 1\n' | cat "$BB_TMP/berth.conf" - >"$BB_TMP/purge.conf"
sleep 2
"$BERTH_BIN" gc --data "$SRV_DATA" --config "$BB_TMP/purge.conf" >"$BB_TMP/purge.out" 2>&1
check_eq "gc with upload_purge_age_s = 1 exits 0" "$?" 0
check_eq "abandoned: no multipart upload left" "$("$S3T" --uploads "$BUCKET" _uploads/)" ""
check_eq "abandoned: no object left under _uploads/" "$(objects _uploads/)" ""
req GET "/v2/$repo/blobs/uploads/$aband"
check_status "abandoned: the session is gone (404)" 404

# --- a 12 MiB blob in one PATCH, then GET/HEAD/Range ------------------------------------------
b12=$BB_TMP/b12.bin
rand_file "$b12" $((12 * 1048576))
d12=$(digest_of "$b12")
req POST "/v2/$repo/blobs/uploads/"
loc=$(hdr Location)
req PATCH "$loc" -H 'Content-Type: application/octet-stream' --data-binary "@$b12"
check_status "12 MiB: streamed PATCH -> 202" 202
loc=$(hdr Location)
req PUT "$(url_add_query "$loc" "digest=$d12")"
check_status "12 MiB: PUT ?digest -> 201" 201

req GET "/v2/$repo/blobs/$d12"
check_status "GET 12 MiB blob -> 200" 200
check_body_file "GET 12 MiB blob: byte-identical" "$b12"
req GET "/v2/$repo/blobs/$dbig"
check_body_file "GET chunked blob: byte-identical" "$big"
req HEAD "/v2/$repo/blobs/$d12"
check_status "HEAD -> 200" 200
check_hdr "HEAD Content-Length" Content-Length "$(size_of "$b12")"
check_hdr "HEAD Docker-Content-Digest" Docker-Content-Digest "$d12"
req GET "/v2/$repo/blobs/$d12" -H 'Range: bytes=5242870-5242889'
check_status "Range GET -> 206" 206
tail -c +5242871 "$b12" | head -c 20 >"$BB_TMP/want.range"
check_body_file "Range GET: the 20 bytes across the 5 MiB mark" "$BB_TMP/want.range"
check_hdr "Range GET Content-Range" Content-Range "bytes 5242870-5242889/$(size_of "$b12")"
req GET "/v2/$repo/blobs/$d12" -H "Range: bytes=$((12 * 1048576))-"
check_status "unsatisfiable Range -> 416" 416

# --- an image, pulled back; mount; delete --------------------------------------------------
mk_image "$BB_TMP/img"
push_image library/s3img v1 "$BB_TMP/img"
req GET "/v2/library/s3img/manifests/v1" -H "Accept: $MT_OCI_MANIFEST"
check_status "manifest GET -> 200" 200
check_body_file "manifest GET: the pushed bytes" "$BB_TMP/img/manifest.json"
layer=$(digest_of "$BB_TMP/img/layer.tar.gz")
req POST "/v2/library/s3mount/blobs/uploads/?mount=$layer&from=library/s3img"
check_status "mount from another repository -> 201" 201
req GET "/v2/library/s3mount/blobs/$layer"
check_body_file "mounted blob: byte-identical" "$BB_TMP/img/layer.tar.gz"
req DELETE "/v2/library/s3mount/blobs/$layer"
check_status "blob DELETE -> 202" 202
req HEAD "/v2/library/s3mount/blobs/$layer"
check_status "deleted link -> 404" 404
req HEAD "/v2/library/s3img/blobs/$layer"
check_status "the other repository still serves it" 200

# --- redirect = true --------------------------------------------------------------------------
srv_stop
conf true
srv_start "$SRV_DATA"
req GET "/v2/$repo/blobs/$d12"
check_status "redirect: GET -> 307" 307
check_hdr_match "redirect: Location is a presigned URL of the store" Location "^$S3_ENDPOINT/$BUCKET/blobs/sha256/.*X-Amz-Signature="
curl -s -L -u "$ADMIN_USER:$ADMIN_PASS" -o "$BB_TMP/redir.bin" -w '%{http_code}' \
    "$SRV_URL/v2/$repo/blobs/$d12" >"$BB_TMP/redir.code"
check_eq "redirect: curl -L (Authorization not forwarded) -> 200" "$(cat "$BB_TMP/redir.code")" 200
check_true "redirect: curl -L bytes identical" cmp -s "$BB_TMP/redir.bin" "$b12"
code=$(curl -s -I -L -u "$ADMIN_USER:$ADMIN_PASS" -o "$BB_TMP/redir.hdr" -w '%{http_code}' "$SRV_URL/v2/$repo/blobs/$d12")
check_eq "redirect: HEAD followed -> 200" "$code" 200
check_true "redirect: HEAD Content-Length" grep -qi "^content-length: $(size_of "$b12")" "$BB_TMP/redir.hdr"
req_anon GET "/v2/$repo/blobs/$d12"
check_status "redirect: no URL for an anonymous caller (401)" 401

src=$BB_TMP/oci
mk_oci_layout "$src" v1
check_true "skopeo push with redirect on" skopeo_push "$src" v1 library/s3sk:v1
check_true "skopeo pull through redirects" skopeo_pull library/s3sk:v1 "$BB_TMP/pulled" v1
check_true "skopeo pull: every blob hashes to its name" layout_blobs_ok "$BB_TMP/pulled"
check_eq "skopeo pull: same manifest" \
    "$(jq -r '.manifests[0].digest' "$BB_TMP/pulled/index.json")" "$LAYOUT_MANIFEST_DIGEST"

# --- gc removes an unreferenced blob object -------------------------------------------------
mk_image "$BB_TMP/gone"
push_image library/s3gone v1 "$BB_TMP/gone"
gone_layer=$(digest_of "$BB_TMP/gone/layer.tar.gz")
check_contains "layer to collect is an object" "$(objects)" "$(object_of "$gone_layer")"
req DELETE "/v2/library/s3gone/manifests/$(digest_of "$BB_TMP/gone/manifest.json")"
check_status "delete the image to collect" 202
t0=$(date +%s)
while [ "$(date +%s)" = "$t0" ]; do sleep 0.1; done
"$BERTH_BIN" gc --data "$SRV_DATA" --config "$BB_TMP/berth.conf" --window 0 >"$BB_TMP/gc.out" 2>&1
check_eq "gc --window 0 exits 0" "$?" 0
check_match "gc reports unreferenced blobs removed" "$(cat "$BB_TMP/gc.out")" "removed [0-9]+ dangling repository links, [1-9][0-9]* unreferenced blobs"
check_false "the collected layer's object is gone" sh -c "'$S3T' --list '$BUCKET' blobs/ | grep -q '$(object_of "$gone_layer")'"
check_contains "the kept image's layer object stays" "$(objects)" "$(object_of "$layer")"
curl -s -L -u "$ADMIN_USER:$ADMIN_PASS" -o "$BB_TMP/kept.bin" "$SRV_URL/v2/library/s3img/blobs/$layer"
check_true "kept layer still pulls (through the redirect)" cmp -s "$BB_TMP/kept.bin" "$BB_TMP/img/layer.tar.gz"

finish
