#!/usr/bin/env bash
# registry_manifests.sh - PUT/GET/HEAD/DELETE /v2/<name>/manifests/<reference>: exact bytes,
# content types, ETag, several tags in one PUT, every rejection (each leaving the store as it
# was), delete by digest and by tag.
. "$(dirname "$0")/lib.sh"

srv_start

repo=library/$(rand_name man)
before=$BB_TMP/snap.before
img=$BB_TMP/img
mk_image "$img"
push_blob "$repo" "$img/config.json"
push_blob "$repo" "$img/layer.tar.gz"
m=$img/manifest.json
md=$(digest_of "$m")

# --- PUT by tag ---------------------------------------------------------------------------------
req PUT "/v2/$repo/manifests/v1" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$m"
check_status "PUT manifest by tag -> 201" 201
check_hdr_match "PUT by tag Location" Location "/v2/$repo/manifests/($md|v1)\$"
check_hdr "PUT by tag Docker-Content-Digest" Docker-Content-Digest "$md"

# --- GET / HEAD by tag and by digest ------------------------------------------------------------
for ref in v1 "$md"; do
    req GET "/v2/$repo/manifests/$ref" -H "Accept: $MT_OCI_MANIFEST"
    check_status "GET manifest by ${ref:0:12} -> 200" 200
    check_body_file "GET manifest by ${ref:0:12}: exact bytes" "$m"
    check_hdr "GET manifest by ${ref:0:12}: Content-Type" Content-Type "$MT_OCI_MANIFEST"
    check_hdr "GET manifest by ${ref:0:12}: Docker-Content-Digest" Docker-Content-Digest "$md"
    check_hdr "GET manifest by ${ref:0:12}: Content-Length" Content-Length "$(size_of "$m")"
    req HEAD "/v2/$repo/manifests/$ref" -H "Accept: $MT_OCI_MANIFEST"
    check_status "HEAD manifest by ${ref:0:12} -> 200" 200
    check_hdr "HEAD manifest by ${ref:0:12}: Content-Length" Content-Length "$(size_of "$m")"
    check_hdr "HEAD manifest by ${ref:0:12}: Docker-Content-Digest" Docker-Content-Digest "$md"
    check_hdr "HEAD manifest by ${ref:0:12}: Content-Type" Content-Type "$MT_OCI_MANIFEST"
done

# --- ETag / If-None-Match -----------------------------------------------------------------------
req GET "/v2/$repo/manifests/v1" "${ACCEPT_ALL[@]}"
etag=$(hdr ETag)
check_match "GET manifest has an ETag" "$etag" '.+'
req GET "/v2/$repo/manifests/v1" "${ACCEPT_ALL[@]}" -H "If-None-Match: $etag"
check_status "If-None-Match with the ETag -> 304" 304
check_body_empty "304 has no body"
req GET "/v2/$repo/manifests/v1" "${ACCEPT_ALL[@]}" -H 'If-None-Match: "sha256:0000"'
check_status "If-None-Match with another ETag -> 200" 200

# --- PUT by digest, non-canonical bytes ---------------------------------------------------------
pretty=$BB_TMP/pretty.json
jq . "$m" >"$pretty" # same content, different bytes, so a different digest
pd=$(digest_of "$pretty")
req PUT "/v2/$repo/manifests/$pd" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$pretty"
check_status "PUT manifest by digest -> 201" 201
check_hdr "PUT by digest Docker-Content-Digest" Docker-Content-Digest "$pd"
check_hdr_match "PUT by digest Location" Location "/v2/$repo/manifests/$pd\$"
req GET "/v2/$repo/manifests/$pd" "${ACCEPT_ALL[@]}"
check_body_file "pretty-printed manifest comes back byte for byte" "$pretty"

# --- PUT ?tag=a&tag=b ---------------------------------------------------------------------------
req PUT "/v2/$repo/manifests/$pd?tag=multi-a&tag=multi-b" -H "Content-Type: $MT_OCI_MANIFEST" \
    --data-binary "@$pretty"
check_status "PUT by digest with ?tag=a&tag=b -> 201" 201
for t in multi-a multi-b; do
    req HEAD "/v2/$repo/manifests/$t" "${ACCEPT_ALL[@]}"
    check_status "tag $t from ?tag= resolves" 200
    check_hdr "tag $t points at the pushed digest" Docker-Content-Digest "$pd"
done

# --- moving a tag -------------------------------------------------------------------------------
req PUT "/v2/$repo/manifests/moving" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$m"
req PUT "/v2/$repo/manifests/moving" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$pretty"
check_status "PUT an existing tag with another manifest -> 201" 201
req HEAD "/v2/$repo/manifests/moving" "${ACCEPT_ALL[@]}"
check_hdr "tag moved to the new manifest" Docker-Content-Digest "$pd"

# --- Docker schema 2 media type is kept ---------------------------------------------------------
dm=$BB_TMP/docker.json
jq -c --arg mt "$MT_DOCKER_MANIFEST" \
    '.mediaType = $mt | .config.mediaType = "application/vnd.docker.container.image.v1+json"
     | .layers[].mediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip"' "$m" |
    tr -d '\n' >"$dm"
req PUT "/v2/$repo/manifests/docker" -H "Content-Type: $MT_DOCKER_MANIFEST" --data-binary "@$dm"
check_status "PUT Docker schema 2 manifest -> 201" 201
req GET "/v2/$repo/manifests/docker" -H "Accept: $MT_DOCKER_MANIFEST"
check_hdr "Docker schema 2 Content-Type kept" Content-Type "$MT_DOCKER_MANIFEST"
check_body_file "Docker schema 2 bytes kept" "$dm"

# --- image index --------------------------------------------------------------------------------
idx=$BB_TMP/index.json
jq -cn --arg mt "$MT_OCI_INDEX" --argjson d "$(descriptor "$MT_OCI_MANIFEST" "$m")" \
    '{schemaVersion: 2, mediaType: $mt,
      manifests: [$d + {platform: {architecture: "amd64", os: "linux"}}]}' | tr -d '\n' >"$idx"
req PUT "/v2/$repo/manifests/index" -H "Content-Type: $MT_OCI_INDEX" --data-binary "@$idx"
check_status "PUT image index -> 201" 201
req GET "/v2/$repo/manifests/index" -H "Accept: $MT_OCI_INDEX"
check_hdr "GET index Content-Type" Content-Type "$MT_OCI_INDEX"
check_body_file "GET index exact bytes" "$idx"

# --- rejections, each leaving the store as it was -----------------------------------------------
snap "$before"

missing=$BB_TMP/missing.json
rand_file "$BB_TMP/never-pushed" 100
mk_manifest "$missing" "$img/config.json" "$img/layer.tar.gz" "$BB_TMP/never-pushed"
req PUT "/v2/$repo/manifests/missing" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$missing"
check_err "manifest with a missing layer -> 400 MANIFEST_BLOB_UNKNOWN" 400 MANIFEST_BLOB_UNKNOWN
check_unchanged "missing layer: store as it was" "$before"

rand_file "$BB_TMP/cfg-missing" 50
mk_manifest "$missing" "$BB_TMP/cfg-missing" "$img/layer.tar.gz"
req PUT "/v2/$repo/manifests/missing" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$missing"
check_err "manifest with a missing config -> 400 MANIFEST_BLOB_UNKNOWN" 400 MANIFEST_BLOB_UNKNOWN
check_unchanged "missing config: store as it was" "$before"

# a blob that exists only in another repository does not count
elsewhere=library/$(rand_name man-else)
rand_file "$BB_TMP/else-layer" 200
push_blob "$elsewhere" "$BB_TMP/else-layer"
snap "$before"
mk_manifest "$missing" "$img/config.json" "$BB_TMP/else-layer"
req PUT "/v2/$repo/manifests/missing" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$missing"
check_err "layer only in another repository -> 400 MANIFEST_BLOB_UNKNOWN" 400 MANIFEST_BLOB_UNKNOWN
check_unchanged "layer elsewhere: store as it was" "$before"

# spec v1.1: a manifest rejected for a missing reference of any type gets MANIFEST_BLOB_UNKNOWN
bad_idx=$BB_TMP/bad-index.json
jq -cn --arg mt "$MT_OCI_INDEX" --argjson d "$(descriptor "$MT_OCI_MANIFEST" "$missing")" \
    '{schemaVersion: 2, mediaType: $mt, manifests: [$d]}' | tr -d '\n' >"$bad_idx"
req PUT "/v2/$repo/manifests/bad-index" -H "Content-Type: $MT_OCI_INDEX" --data-binary "@$bad_idx"
check_err "index with a missing child -> 400 MANIFEST_BLOB_UNKNOWN" 400 MANIFEST_BLOB_UNKNOWN
check_unchanged "index with a missing child: store as it was" "$before"

printf '{"schemaVersion": 2, "mediaType": "%s", "config": ' "$MT_OCI_MANIFEST" >"$BB_TMP/trunc.json"
req PUT "/v2/$repo/manifests/broken" -H "Content-Type: $MT_OCI_MANIFEST" \
    --data-binary "@$BB_TMP/trunc.json"
check_err "malformed JSON -> 400 MANIFEST_INVALID" 400 MANIFEST_INVALID
check_unchanged "malformed JSON: store as it was" "$before"

for body in '[]' '{"schemaVersion":1}' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:xyz","size":1,"mediaType":"a/b"},"layers":[]}' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":"nope"}'; do
    req PUT "/v2/$repo/manifests/broken" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "$body"
    check_err "invalid manifest '${body:0:30}' -> 400 MANIFEST_INVALID" 400 MANIFEST_INVALID
done
check_unchanged "invalid manifests: store as it was" "$before"

req PUT "/v2/$repo/manifests/mismatch" -H "Content-Type: $MT_OCI_INDEX" --data-binary "@$m"
check_err "Content-Type differs from mediaType -> 400 MANIFEST_INVALID" 400 MANIFEST_INVALID
check_unchanged "media type mismatch: store as it was" "$before"

python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
m["annotations"] = {"pad": "x" * (4 * 1024 * 1024 + 100)}
open(sys.argv[2], "w").write(json.dumps(m, separators=(",", ":")))' "$m" "$BB_TMP/huge.json"
req PUT "/v2/$repo/manifests/huge" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$BB_TMP/huge.json"
check_status "manifest over 4 MiB -> 413" 413
check_unchanged "huge manifest: store as it was" "$before"

req PUT "/v2/$repo/manifests/$md" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$pretty"
check_err "PUT by a digest that is not the body's -> 400 DIGEST_INVALID" 400 DIGEST_INVALID
check_unchanged "digest mismatch: store as it was" "$before"

req PUT "/v2/$repo/manifests/sha256:1234" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$m"
check_err "PUT by a malformed digest -> 400 DIGEST_INVALID" 400 DIGEST_INVALID
req_anon PUT "/v2/$repo/manifests/anon" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$m"
check_err "PUT manifest without credentials -> 401 UNAUTHORIZED" 401 UNAUTHORIZED
req PUT "/v2/$(rand_name noproj)/app/manifests/v1" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$m"
check_err "PUT manifest into an unknown project -> 404 NAME_UNKNOWN" 404 NAME_UNKNOWN
check_unchanged "rejected PUTs: store as it was" "$before"

# --- unknown references -------------------------------------------------------------------------
req GET "/v2/$repo/manifests/no-such-tag" "${ACCEPT_ALL[@]}"
check_err "GET unknown tag -> 404 MANIFEST_UNKNOWN" 404 MANIFEST_UNKNOWN
fake=sha256:$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)
req GET "/v2/$repo/manifests/$fake" "${ACCEPT_ALL[@]}"
check_err "GET unknown digest -> 404 MANIFEST_UNKNOWN" 404 MANIFEST_UNKNOWN
req HEAD "/v2/$repo/manifests/$fake" "${ACCEPT_ALL[@]}"
check_status "HEAD unknown digest -> 404" 404
req DELETE "/v2/$repo/manifests/$fake"
check_err "DELETE unknown digest -> 404 MANIFEST_UNKNOWN" 404 MANIFEST_UNKNOWN

# --- DELETE by tag (the manifest and its other tags stay) ---------------------------------------
req DELETE "/v2/$repo/manifests/multi-a"
check_status "DELETE by tag -> 202" 202
req HEAD "/v2/$repo/manifests/multi-a" "${ACCEPT_ALL[@]}"
check_status "deleted tag is gone" 404
req HEAD "/v2/$repo/manifests/multi-b" "${ACCEPT_ALL[@]}"
check_status "other tag of the same manifest survives" 200
req HEAD "/v2/$repo/manifests/$pd" "${ACCEPT_ALL[@]}"
check_status "manifest survives a tag delete" 200
req DELETE "/v2/$repo/manifests/multi-a"
check_err "DELETE the same tag again -> 404 MANIFEST_UNKNOWN" 404 MANIFEST_UNKNOWN

# --- DELETE by digest (its tags go with it) -----------------------------------------------------
req DELETE "/v2/$repo/manifests/$pd"
check_status "DELETE by digest -> 202" 202
req GET "/v2/$repo/manifests/$pd" "${ACCEPT_ALL[@]}"
check_err "deleted manifest: GET by digest -> 404 MANIFEST_UNKNOWN" 404 MANIFEST_UNKNOWN
for t in multi-b moving; do
    req GET "/v2/$repo/manifests/$t" "${ACCEPT_ALL[@]}"
    check_err "deleted manifest: its tag $t -> 404 MANIFEST_UNKNOWN" 404 MANIFEST_UNKNOWN
done
req GET "/v2/$repo/tags/list"
check_jq "deleted manifest's tags are not listed" \
    '(.tags // []) | (index("multi-b") == null and index("moving") == null and index("v1") != null)'
req GET "/v2/$repo/manifests/v1" "${ACCEPT_ALL[@]}"
check_body_file "unrelated manifest untouched by the delete" "$m"
req DELETE "/v2/$repo/manifests/$pd"
check_err "DELETE the same digest again -> 404 MANIFEST_UNKNOWN" 404 MANIFEST_UNKNOWN

# push it back: the blob file may still be there, the manifest must be usable again
req PUT "/v2/$repo/manifests/again" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$pretty"
check_status "re-push of a deleted manifest -> 201" 201
req GET "/v2/$repo/manifests/again" "${ACCEPT_ALL[@]}"
check_body_file "re-pushed manifest exact bytes" "$pretty"

finish
