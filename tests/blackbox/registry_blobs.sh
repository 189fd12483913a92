#!/usr/bin/env bash
# registry_blobs.sh - GET/HEAD/DELETE /v2/<name>/blobs/<digest>: headers, exact bytes, ranges,
# unknown and malformed digests, and delete scoped to one repository.
. "$(dirname "$0")/lib.sh"

srv_start

repo=library/$(rand_name blobs)
other=library/$(rand_name blobs-other)
blob=$BB_TMP/blob.bin
rand_file "$blob" 300000
dg=$(digest_of "$blob")
size=$(size_of "$blob")
push_blob "$repo" "$blob"
push_blob "$other" "$blob"

# --- HEAD ---------------------------------------------------------------------------------------
req HEAD "/v2/$repo/blobs/$dg"
check_status "HEAD blob -> 200" 200
check_hdr "HEAD blob Content-Length" Content-Length "$size"
check_hdr "HEAD blob Docker-Content-Digest" Docker-Content-Digest "$dg"
check_body_empty "HEAD blob has no body"

# --- GET ----------------------------------------------------------------------------------------
req GET "/v2/$repo/blobs/$dg"
check_status "GET blob -> 200" 200
check_hdr "GET blob Content-Length" Content-Length "$size"
check_hdr "GET blob Docker-Content-Digest" Docker-Content-Digest "$dg"
check_body_file "GET blob returns the exact bytes" "$blob"
check_hdr_present "GET blob has a Content-Type" Content-Type

# --- Range --------------------------------------------------------------------------------------
req GET "/v2/$repo/blobs/$dg" -H 'Range: bytes=100-1099'
check_status "GET blob Range bytes=100-1099 -> 206" 206
check_hdr "206 Content-Range" Content-Range "bytes 100-1099/$size"
check_hdr "206 Content-Length" Content-Length 1000
tail -c +101 "$blob" | head -c 1000 >"$BB_TMP/part"
check_body_file "206 body is the requested slice" "$BB_TMP/part"

req GET "/v2/$repo/blobs/$dg" -H "Range: bytes=$((size - 10))-"
check_status "GET blob open-ended Range -> 206" 206
check_hdr "open-ended Range Content-Range" Content-Range "bytes $((size - 10))-$((size - 1))/$size"
tail -c 10 "$blob" >"$BB_TMP/part"
check_body_file "open-ended Range body" "$BB_TMP/part"

req GET "/v2/$repo/blobs/$dg" -H 'Range: bytes=-5'
check_status "GET blob suffix Range bytes=-5 -> 206" 206
tail -c 5 "$blob" >"$BB_TMP/part"
check_body_file "suffix Range body" "$BB_TMP/part"

req GET "/v2/$repo/blobs/$dg" -H "Range: bytes=$((size - 1))-$((size + 100))"
check_status "Range past the end is clipped -> 206" 206
check_hdr "clipped Range Content-Range" Content-Range "bytes $((size - 1))-$((size - 1))/$size"

req GET "/v2/$repo/blobs/$dg" -H "Range: bytes=$size-"
check_status "Range starting at the size -> 416" 416
check_hdr "416 Content-Range names the size" Content-Range "bytes */$size"

req GET "/v2/$repo/blobs/$dg" -H "Range: bytes=$((size + 10))-$((size + 20))"
check_status "unsatisfiable Range -> 416" 416

# --- unknown / malformed digests ----------------------------------------------------------------
unknown=sha256:$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)
req GET "/v2/$repo/blobs/$unknown"
check_err "GET unknown blob -> 404 BLOB_UNKNOWN" 404 BLOB_UNKNOWN
req HEAD "/v2/$repo/blobs/$unknown"
check_status "HEAD unknown blob -> 404" 404
check_body_empty "HEAD 404 has no body"
req GET "/v2/$repo/blobs/sha256:1234"
check_err "GET blob with a short digest -> 400 DIGEST_INVALID" 400 DIGEST_INVALID
req GET "/v2/$repo/blobs/md5:$(printf x | md5sum | cut -d' ' -f1)"
check_err "GET blob with an unsupported algorithm -> 400 DIGEST_INVALID" 400 DIGEST_INVALID
req GET "/v2/$repo/blobs/sha256:$(printf 'X%.0s' $(seq 1 64))"
check_err "GET blob with upper-case hex -> 400 DIGEST_INVALID" 400 DIGEST_INVALID

# a blob pushed to one repository is not readable through another that never got it
third=library/$(rand_name blobs-third)
push_blob "$third" "$BB_TMP/part"
req GET "/v2/$third/blobs/$dg"
check_err "blob is not served through a repository that does not hold it" 404 BLOB_UNKNOWN

# --- DELETE -------------------------------------------------------------------------------------
req DELETE "/v2/$repo/blobs/$dg"
check_status "DELETE blob -> 202" 202
req HEAD "/v2/$repo/blobs/$dg"
check_status "deleted blob: HEAD -> 404" 404
req GET "/v2/$repo/blobs/$dg"
check_err "deleted blob: GET -> 404 BLOB_UNKNOWN" 404 BLOB_UNKNOWN
req GET "/v2/$other/blobs/$dg"
check_status "deleted blob still served by the other repository" 200
check_body_file "other repository still has the exact bytes" "$blob"
req DELETE "/v2/$repo/blobs/$dg"
check_err "DELETE blob again -> 404 BLOB_UNKNOWN" 404 BLOB_UNKNOWN
req DELETE "/v2/$repo/blobs/$unknown"
check_err "DELETE unknown blob -> 404 BLOB_UNKNOWN" 404 BLOB_UNKNOWN
req DELETE "/v2/$repo/blobs/sha256:zz"
check_err "DELETE malformed digest -> 400 DIGEST_INVALID" 400 DIGEST_INVALID
req_anon DELETE "/v2/$other/blobs/$dg"
check_err "DELETE blob without credentials -> 401" 401 UNAUTHORIZED
req HEAD "/v2/$other/blobs/$dg"
check_status "blob survives an unauthenticated DELETE" 200

# --- push again after delete --------------------------------------------------------------------
push_blob "$repo" "$blob"
req GET "/v2/$repo/blobs/$dg"
check_body_file "blob pushed again after delete is served" "$blob"

# --- empty blob ---------------------------------------------------------------------------------
: >"$BB_TMP/empty"
push_blob "$repo" "$BB_TMP/empty"
req GET "/v2/$repo/blobs/$(digest_of "$BB_TMP/empty")"
check_status "GET empty blob -> 200" 200
check_hdr "empty blob Content-Length 0" Content-Length 0

finish
