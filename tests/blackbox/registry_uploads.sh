#!/usr/bin/env bash
# registry_uploads.sh - /v2/<name>/blobs/uploads/: monolithic (POST + PUT, single POST), chunked
# and streamed PATCH, status, cancel, digest checks, unknown sessions, cross-repository mount.
. "$(dirname "$0")/lib.sh"

srv_start

repo=library/$(rand_name up)
before=$BB_TMP/snap.before
range_re() { printf '^(bytes=)?0-%s$' "$1"; } # "Range: 0-N" (spec) or the bytes= form

# --- POST then PUT ?digest= ---------------------------------------------------------------------
blob=$BB_TMP/mono.bin
rand_file "$blob" 70000
dg=$(digest_of "$blob")
req POST "/v2/$repo/blobs/uploads/"
check_status "POST upload -> 202" 202
loc=$(hdr Location)
check_match "POST upload Location is the session URL" "$loc" "/v2/$repo/blobs/uploads/[^/]+"
check_hdr_present "POST upload Docker-Upload-UUID" Docker-Upload-UUID
check_hdr_match "POST upload Range" Range "$(range_re 0)|^$"
check_hdr "POST upload Content-Length 0" Content-Length 0
req PUT "$(url_add_query "$loc" "digest=$dg")" -H 'Content-Type: application/octet-stream' \
    --data-binary "@$blob"
check_status "PUT ?digest= with the bytes -> 201" 201
check_hdr_match "201 Location is the blob URL" Location "/v2/$repo/blobs/$dg\$"
check_hdr "201 Docker-Content-Digest" Docker-Content-Digest "$dg"
req GET "/v2/$repo/blobs/$dg"
check_body_file "monolithic upload: blob readable, exact bytes" "$blob"
req GET "$loc"
check_err "finished session is gone -> 404 BLOB_UPLOAD_UNKNOWN" 404 BLOB_UPLOAD_UNKNOWN

# --- the same blob again: succeeds, nothing duplicated ------------------------------------------
snap "$before"
req POST "/v2/$repo/blobs/uploads/"
loc=$(hdr Location)
req PUT "$(url_add_query "$loc" "digest=$dg")" --data-binary "@$blob" \
    -H 'Content-Type: application/octet-stream'
check_status "uploading an existing blob again -> 201" 201
check_unchanged "re-upload of an existing blob leaves the store as it was" "$before"

# --- single POST ?digest= -----------------------------------------------------------------------
blob2=$BB_TMP/single.bin
rand_file "$blob2" 4096
dg2=$(digest_of "$blob2")
req POST "/v2/$repo/blobs/uploads/?digest=$dg2" -H 'Content-Type: application/octet-stream' \
    --data-binary "@$blob2"
check_status "single POST ?digest= -> 201" 201
check_hdr "single POST Docker-Content-Digest" Docker-Content-Digest "$dg2"
check_hdr_match "single POST Location" Location "/v2/$repo/blobs/$dg2\$"
req GET "/v2/$repo/blobs/$dg2"
check_body_file "single POST: blob readable" "$blob2"

snap "$before"
rand_file "$BB_TMP/single-bad" 4096
req POST "/v2/$repo/blobs/uploads/?digest=$dg" -H 'Content-Type: application/octet-stream' \
    --data-binary "@$BB_TMP/single-bad"
check_err "single POST with a wrong digest -> 400 DIGEST_INVALID" 400 DIGEST_INVALID
req HEAD "/v2/$repo/blobs/$(digest_of "$BB_TMP/single-bad")"
check_status "single POST with a wrong digest: the bytes are not stored" 404
check_unchanged "single POST with a wrong digest leaves the store as it was" "$before"

# --- chunked PATCH with Content-Range -----------------------------------------------------------
big=$BB_TMP/chunked.bin
rand_file "$big" 3000000
dgb=$(digest_of "$big")
head -c 1000000 "$big" >"$BB_TMP/c1"
tail -c +1000001 "$big" | head -c 1000000 >"$BB_TMP/c2"
tail -c +2000001 "$big" >"$BB_TMP/c3"
req POST "/v2/$repo/blobs/uploads/"
loc=$(hdr Location)
uuid=$(hdr Docker-Upload-UUID)
req PATCH "$loc" -H 'Content-Type: application/octet-stream' -H 'Content-Range: 0-999999' \
    --data-binary "@$BB_TMP/c1"
check_status "PATCH chunk 1 -> 202" 202
check_hdr_match "chunk 1 Range" Range "$(range_re 999999)"
check_hdr_match "chunk 1 Location" Location "/v2/$repo/blobs/uploads/"
check_hdr "chunk 1 Docker-Upload-UUID is the session's" Docker-Upload-UUID "$uuid"
check_hdr "chunk 1 Content-Length 0" Content-Length 0
loc=$(hdr Location)

req GET "$loc"
check_status "GET upload status -> 204" 204
check_hdr_match "status Range after chunk 1" Range "$(range_re 999999)"
check_hdr_match "status Location" Location "/v2/$repo/blobs/uploads/"
check_hdr "status Docker-Upload-UUID" Docker-Upload-UUID "$uuid"

req PATCH "$loc" -H 'Content-Type: application/octet-stream' -H 'Content-Range: 1500000-2499999' \
    --data-binary "@$BB_TMP/c2"
check_status "out-of-order chunk -> 416" 416
check_hdr_match "416 tells the current Range" Range "$(range_re 999999)"
req PATCH "$loc" -H 'Content-Type: application/octet-stream' -H 'Content-Range: 0-999999' \
    --data-binary "@$BB_TMP/c1"
check_status "repeated chunk (overlapping) -> 416" 416
req GET "$loc"
check_hdr_match "rejected chunks did not move the offset" Range "$(range_re 999999)"

req PATCH "$loc" -H 'Content-Type: application/octet-stream' -H 'Content-Range: 1000000-1999999' \
    --data-binary "@$BB_TMP/c2"
check_status "PATCH chunk 2 -> 202" 202
check_hdr_match "chunk 2 Range" Range "$(range_re 1999999)"
loc=$(hdr Location)
req PUT "$(url_add_query "$loc" "digest=$dgb")" -H 'Content-Type: application/octet-stream' \
    -H "Content-Range: 2000000-$((3000000 - 1))" --data-binary "@$BB_TMP/c3"
check_status "final PUT carrying the last chunk -> 201" 201
check_hdr "final PUT Docker-Content-Digest" Docker-Content-Digest "$dgb"
req GET "/v2/$repo/blobs/$dgb"
check_body_file "chunked upload: exact bytes" "$big"
req HEAD "/v2/$repo/blobs/$dgb"
check_hdr "chunked upload: HEAD Content-Length" Content-Length 3000000

# --- malformed chunks ---------------------------------------------------------------------------
snap "$before"
req POST "/v2/$repo/blobs/uploads/"
loc=$(hdr Location)
req PATCH "$loc" -H 'Content-Type: application/octet-stream' -H 'Content-Range: bytes=0-999' \
    --data-binary "@$BB_TMP/c1"
check_status "PATCH with a malformed Content-Range -> 416 (spec)" 416
head -c 50 "$blob" >"$BB_TMP/part50"
req PATCH "$loc" -H 'Content-Type: application/octet-stream' -H 'Content-Range: 0-99' \
    --data-binary "@$BB_TMP/part50"
check_err "PATCH whose body is shorter than its Content-Range -> 400 SIZE_INVALID" 400 SIZE_INVALID
req GET "$loc"
check_eq "malformed chunks left the session open at offset 0" "$R_STATUS $(hdr Range)" "204 0-0"
req DELETE "$loc"
check_unchanged "malformed chunks leave the store as it was" "$before"

# --- a session is used by one request at a time; an aborted PATCH releases it -------------------
slow=$BB_TMP/slow.bin
rand_file "$slow" 1500000
req POST "/v2/$repo/blobs/uploads/"
loc=$(hdr Location)
case $loc in http*) sloc=$loc ;; *) sloc=$SRV_URL$loc ;; esac
curl -sS -o /dev/null --limit-rate 100k -u "$ADMIN_USER:$ADMIN_PASS" -X PATCH \
    -H 'Content-Type: application/octet-stream' --data-binary "@$slow" "$sloc" 2>/dev/null &
slow_pid=$!
deadline=$((SECONDS + 10))
while :; do
    req PATCH "$loc" -H 'Content-Type: application/octet-stream' -H 'Content-Length: 0'
    [ "$R_STATUS" != 202 ] || [ $SECONDS -ge $deadline ] && break
    sleep 0.1
done
check_err "second request on a busy session -> 400 BLOB_UPLOAD_INVALID" 400 BLOB_UPLOAD_INVALID
kill "$slow_pid" 2>/dev/null
wait "$slow_pid" 2>/dev/null
deadline=$((SECONDS + 10))
while :; do
    req GET "$loc"
    [ "$R_STATUS" = 204 ] || [ $SECONDS -ge $deadline ] && break
    sleep 0.1
done
check_status "an aborted PATCH gives the session back" 204
got=$(hdr Range | sed -E 's/^(bytes=)?0-//')
if [ -n "$got" ] && [ "$got" -lt 1500000 ] 2>/dev/null; then
    off=$((got == 0 ? 0 : got + 1))
    # "0-0" is both "nothing yet" and "one byte" (the spec's ambiguity): taken as nothing
    tail -c +$((off + 1)) "$slow" >"$BB_TMP/rest"
    req PATCH "$loc" -H 'Content-Type: application/octet-stream' \
        -H "Content-Range: $off-$((1500000 - 1))" --data-binary "@$BB_TMP/rest"
    check_status "upload resumes where the aborted PATCH stopped" 202
    req PUT "$(url_add_query "$(hdr Location)" "digest=$(digest_of "$slow")")" -H 'Content-Length: 0'
    check_status "resumed upload completes -> 201" 201
else
    not_ok "aborted PATCH left a usable offset" "Range: '$(hdr Range)'"
fi

# --- streamed PATCH (no Content-Range), then PUT with an empty body -----------------------------
s=$BB_TMP/stream.bin
rand_file "$s" 1500000
dgs=$(digest_of "$s")
head -c 700000 "$s" >"$BB_TMP/s1"
tail -c +700001 "$s" >"$BB_TMP/s2"
req POST "/v2/$repo/blobs/uploads/"
loc=$(hdr Location)
req PATCH "$loc" -H 'Content-Type: application/octet-stream' --data-binary "@$BB_TMP/s1"
check_status "streamed PATCH 1 -> 202" 202
check_hdr_match "streamed PATCH 1 Range" Range "$(range_re 699999)"
loc=$(hdr Location)
req PATCH "$loc" -H 'Content-Type: application/octet-stream' -H 'Transfer-Encoding: chunked' \
    --data-binary "@$BB_TMP/s2"
check_status "streamed PATCH 2 (chunked transfer encoding) -> 202" 202
check_hdr_match "streamed PATCH 2 Range" Range "$(range_re 1499999)"
loc=$(hdr Location)
req PUT "$(url_add_query "$loc" "digest=$dgs")" -H 'Content-Length: 0'
check_status "PUT ?digest= with an empty body closes the upload -> 201" 201
req GET "/v2/$repo/blobs/$dgs"
check_body_file "streamed upload: exact bytes" "$s"

# --- PUT with a wrong digest --------------------------------------------------------------------
snap "$before"
w=$BB_TMP/wrong.bin
rand_file "$w" 5000
req POST "/v2/$repo/blobs/uploads/"
loc=$(hdr Location)
req PATCH "$loc" -H 'Content-Type: application/octet-stream' --data-binary "@$w"
loc=$(hdr Location)
fake=sha256:$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)
req PUT "$(url_add_query "$loc" "digest=$fake")" -H 'Content-Length: 0'
check_err "PUT with a wrong digest -> 400 DIGEST_INVALID" 400 DIGEST_INVALID
req HEAD "/v2/$repo/blobs/$fake"
check_status "wrong digest: claimed digest absent" 404
req HEAD "/v2/$repo/blobs/$(digest_of "$w")"
check_status "wrong digest: real digest absent" 404
check_unchanged "PUT with a wrong digest leaves the store as it was" "$before"

req POST "/v2/$repo/blobs/uploads/"
loc=$(hdr Location)
req PUT "$(url_add_query "$loc" "digest=sha256:abc")" --data-binary "@$w" \
    -H 'Content-Type: application/octet-stream'
check_err "PUT with a malformed digest -> 400 DIGEST_INVALID" 400 DIGEST_INVALID
req POST "/v2/$repo/blobs/uploads/"
loc=$(hdr Location)
req PUT "$loc" --data-binary "@$w" -H 'Content-Type: application/octet-stream'
check_err "PUT without ?digest= -> 400 DIGEST_INVALID" 400 DIGEST_INVALID
check_unchanged "malformed and missing digests leave the store as it was" "$before"

# --- DELETE upload ------------------------------------------------------------------------------
req POST "/v2/$repo/blobs/uploads/"
loc=$(hdr Location)
id=$(printf '%s' "$loc" | sed -E 's|.*/blobs/uploads/([^/?]+).*|\1|')
req PATCH "$loc" -H 'Content-Type: application/octet-stream' --data-binary "@$w"
loc=$(hdr Location)
req DELETE "$loc"
check_status "DELETE upload -> 204" 204
req GET "$loc"
check_err "cancelled upload: GET status -> 404 BLOB_UPLOAD_UNKNOWN" 404 BLOB_UPLOAD_UNKNOWN
req PATCH "$loc" -H 'Content-Type: application/octet-stream' --data-binary "@$w"
check_err "cancelled upload: PATCH -> 404 BLOB_UPLOAD_UNKNOWN" 404 BLOB_UPLOAD_UNKNOWN
req PUT "$(url_add_query "$loc" "digest=$(digest_of "$w")")" -H 'Content-Length: 0'
check_err "cancelled upload: PUT -> 404 BLOB_UPLOAD_UNKNOWN" 404 BLOB_UPLOAD_UNKNOWN
req DELETE "$loc"
check_err "cancelled upload: DELETE again -> 404 BLOB_UPLOAD_UNKNOWN" 404 BLOB_UPLOAD_UNKNOWN
if srv_is_berth; then
    check_false "cancelled upload: its files are gone" test -e "$SRV_DATA/uploads/$id"
fi

# --- unknown session ids ------------------------------------------------------------------------
nid=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
for m in GET PATCH PUT DELETE; do
    case $m in
    PUT) req PUT "/v2/$repo/blobs/uploads/$nid?digest=$dg" -H 'Content-Length: 0' ;;
    PATCH) req PATCH "/v2/$repo/blobs/uploads/$nid" --data-binary "@$w" ;;
    *) req "$m" "/v2/$repo/blobs/uploads/$nid" ;;
    esac
    check_err "$m unknown upload id -> 404 BLOB_UPLOAD_UNKNOWN" 404 BLOB_UPLOAD_UNKNOWN
done
req GET "/v2/$repo/blobs/uploads/..%2F..%2Fblobs"
check_status "GET upload id with a traversal -> 404" 404

# a session belongs to the repository that opened it
req POST "/v2/$repo/blobs/uploads/"
loc=$(hdr Location)
other=library/$(rand_name up-other)
oloc=${loc/\/v2\/$repo\//\/v2\/$other\/}
req GET "$oloc"
check_err "session used through another repository -> 404 BLOB_UPLOAD_UNKNOWN" 404 BLOB_UPLOAD_UNKNOWN
req DELETE "$loc"
check_status "session still usable by its own repository" 204

# --- mount ?mount=&from= ------------------------------------------------------------------------
target=library/$(rand_name mount)
req POST "/v2/$target/blobs/uploads/?mount=$dg&from=$repo"
check_status "mount from a repository that has the blob -> 201" 201
check_hdr_match "mount 201 Location" Location "/v2/$target/blobs/$dg\$"
check_hdr "mount 201 Docker-Content-Digest" Docker-Content-Digest "$dg"
req GET "/v2/$target/blobs/$dg"
check_body_file "mounted blob readable in the target" "$blob"

req POST "/v2/$target/blobs/uploads/?mount=$fake&from=$repo"
check_status "mount of a blob the source lacks -> 202 (upload session)" 202
check_hdr_match "mount fallback Location is a session" Location "/v2/$target/blobs/uploads/[^/]+"
loc=$(hdr Location)
req DELETE "$loc"
check_status "mount fallback session can be cancelled" 204

empty_repo=library/$(rand_name mount-empty)
req POST "/v2/$target/blobs/uploads/?mount=$dgb&from=$empty_repo"
check_status "mount from a repository that does not exist -> 202" 202
req DELETE "$(hdr Location)"

req POST "/v2/$target/blobs/uploads/?mount=$dgb&from=NOT/a/valid/Name"
check_status "mount from an invalid name -> 202 (an upload session, as for any failed mount)" 202
req DELETE "$(hdr Location)"

# --- mount ?mount= without from (Berth) ---------------------------------------------------------
target2=library/$(rand_name mount2)
req POST "/v2/$target2/blobs/uploads/?mount=$dgb"
check_status "mount without from, blob in a readable repository -> 201" 201
check_hdr "mount without from Docker-Content-Digest" Docker-Content-Digest "$dgb"
req GET "/v2/$target2/blobs/$dgb"
check_body_file "blob mounted without from is readable" "$big"
req POST "/v2/$target2/blobs/uploads/?mount=$fake"
check_status "mount without from of an unknown blob -> 202" 202
req DELETE "$(hdr Location)"

# --- upload into a project that does not exist, and without credentials -------------------------
req POST "/v2/$(rand_name noproj)/x/blobs/uploads/?mount=$dg&from=$repo"
check_err "mount into an unknown project -> 404 NAME_UNKNOWN" 404 NAME_UNKNOWN
req POST "/v2/$repo/blobs/uploads/"
loc=$(hdr Location)
req_anon PATCH "$loc" --data-binary "@$w"
check_err "PATCH without credentials -> 401" 401 UNAUTHORIZED
req DELETE "$loc"

# --- OCI-Chunk-Min-Length: not sent by default, advertised when configured ----------------------
req POST "/v2/$repo/blobs/uploads/"
check_hdr_absent "default: no OCI-Chunk-Min-Length" OCI-Chunk-Min-Length
req DELETE "$(hdr Location)"
srv_stop
printf 'chunk_min_bytes = 1M\n' >"$BB_TMP/chunk.conf"
BB_SERVE_ARGS="--config $BB_TMP/chunk.conf" srv_start
req POST "/v2/$repo/blobs/uploads/"
check_status "POST with chunk_min_bytes configured -> 202" 202
check_hdr "OCI-Chunk-Min-Length advertised" OCI-Chunk-Min-Length 1048576
srv_stop

finish
