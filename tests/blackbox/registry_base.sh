#!/usr/bin/env bash
# registry_base.sh - the base endpoint, authentication, names and the error body.
#   GET /v2/ with and without credentials, the API version header, wrong password, invalid and
#   unknown repository names, pushes into an unknown project, invalid tags.
. "$(dirname "$0")/lib.sh"

srv_start

# --- GET /v2/ -----------------------------------------------------------------------------------
req GET /v2/
check_status "GET /v2/ with credentials -> 200" 200
check_hdr "GET /v2/ Docker-Distribution-Api-Version" Docker-Distribution-Api-Version registry/2.0

req HEAD /v2/
check_status "HEAD /v2/ with credentials -> 200" 200

req_anon GET /v2/
check_err "GET /v2/ without credentials -> 401 UNAUTHORIZED" 401 UNAUTHORIZED
check_hdr_match "401 carries WWW-Authenticate (Basic or Bearer challenge)" WWW-Authenticate \
    '^(Basic|Bearer) .*realm="[^"]+"'
check_hdr "401 carries Docker-Distribution-Api-Version" Docker-Distribution-Api-Version registry/2.0
check_hdr_match "401 error body is JSON" Content-Type '^application/json'

req_as "$ADMIN_USER:wrong-password" GET /v2/
check_err "GET /v2/ with a wrong password -> 401 UNAUTHORIZED" 401 UNAUTHORIZED
check_hdr_present "wrong password answer carries WWW-Authenticate" WWW-Authenticate

req_as "nosuchuser:whatever" GET /v2/
check_err "GET /v2/ with an unknown user -> 401 UNAUTHORIZED" 401 UNAUTHORIZED

# library is private on a new server: anonymous reads get a challenge; a public project lets
# them reach the repository (unknown here)
req_anon GET "/v2/library/x/tags/list"
check_err "private library, repository route without credentials -> 401 UNAUTHORIZED" 401 UNAUTHORIZED
req POST "/api/v2.0/projects" -H 'Content-Type: application/json' \
    --data '{"project_name":"pubbase","metadata":{"public":"true"}}'
check_status "create a public project through the API" 201
req_anon GET "/v2/pubbase/x/tags/list"
check_err "public project, anonymous read of an unknown repository -> 404 NAME_UNKNOWN" 404 NAME_UNKNOWN
req_anon GET "/v2/library/x/tags/list"
check_hdr_match "401 carries a Bearer challenge for the repository" Www-Authenticate \
    'Bearer realm=".*/service/token",service="[^"]+",scope="repository:library/x:pull"'

req_anon POST "/v2/library/x/blobs/uploads/"
check_err "upload without credentials -> 401 UNAUTHORIZED" 401 UNAUTHORIZED

req_as "$ADMIN_USER:wrong-password" POST "/v2/library/x/blobs/uploads/"
check_err "upload with a wrong password -> 401 UNAUTHORIZED" 401 UNAUTHORIZED

# --- ping (Berth's readiness endpoint) ----------------------------------------------------------
req_anon GET /api/v2.0/ping
check_status "GET /api/v2.0/ping -> 200" 200
check_eq "ping answers Pong" "$(body)" Pong

# --- names --------------------------------------------------------------------------------------
before=$BB_TMP/snap.before
snap "$before"
long=library/$(printf 'a%.0s' $(seq 1 260))
for name in "library/UPPER" "library//x" "library/x/" "library/-x" "library/x_" "library/x..y" \
    "$long"; do
    req GET "/v2/$name/tags/list"
    check_err "GET tags of invalid name '${name:0:40}' -> 400 NAME_INVALID" 400 NAME_INVALID
done
for name in "library/UPPER" "library/-x" "$long"; do
    req POST "/v2/$name/blobs/uploads/"
    check_err "POST upload to invalid name '${name:0:40}' -> 400 NAME_INVALID" 400 NAME_INVALID
done
# a path that resolves to a traversal must not escape: curl normalises ../ unless told not to
req GET "/v2/library/../x/tags/list" --path-as-is
check_err "GET /v2/library/../x/tags/list -> 400 NAME_INVALID" 400 NAME_INVALID
req PUT "/v2/../../etc/manifests/latest" --path-as-is -H "Content-Type: $MT_OCI_MANIFEST" \
    --data-binary '{}'
check_err "PUT /v2/../../etc/manifests/latest -> 400 NAME_INVALID" 400 NAME_INVALID
check_unchanged "invalid names leave the store as it was" "$before"

# --- unknown repository -------------------------------------------------------------------------
req GET "/v2/library/$(rand_name nope)/tags/list"
check_err "tags of an unknown repository -> 404 NAME_UNKNOWN" 404 NAME_UNKNOWN
req GET "/v2/library/$(rand_name nope)/manifests/latest"
check_err "manifest of an unknown repository -> 404 NAME_UNKNOWN" 404 NAME_UNKNOWN
req GET "/v2/library/$(rand_name nope)/blobs/sha256:$(printf 'x' | sha256sum | cut -d' ' -f1)"
check_err "blob of an unknown repository -> 404 BLOB_UNKNOWN" 404 BLOB_UNKNOWN

# --- unknown project ----------------------------------------------------------------------------
proj=$(rand_name noproj)
snap "$before"
req POST "/v2/$proj/app/blobs/uploads/"
check_err "push into an unknown project -> 404 NAME_UNKNOWN" 404 NAME_UNKNOWN
check_jq "unknown project message names the project" \
    '.errors[0].message | test("project .*" + $p + ".* not found")' --arg p "$proj"
printf 'hello' >"$BB_TMP/hello"
req POST "/v2/$proj/app/blobs/uploads/?digest=$(digest_of "$BB_TMP/hello")" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$BB_TMP/hello"
check_err "single-POST upload into an unknown project -> 404 NAME_UNKNOWN" 404 NAME_UNKNOWN
check_unchanged "pushes into an unknown project leave the store as it was" "$before"

# --- invalid tags -------------------------------------------------------------------------------
repo=library/$(rand_name base)
d=$BB_TMP/img
mk_image "$d"
push_image "$repo" v1 "$d"
snap "$before"
for tag in "-bad" ".bad" "bad%20tag" "$(printf 't%.0s' $(seq 1 129))" "b@d"; do
    req PUT "/v2/$repo/manifests/$tag" -H "Content-Type: $MT_OCI_MANIFEST" \
        --data-binary "@$d/manifest.json"
    check_err "PUT manifest with invalid tag '${tag:0:20}' -> 400 TAG_INVALID" 400 TAG_INVALID
done
check_unchanged "invalid tags leave the store as it was" "$before"
req GET "/v2/$repo/manifests/-bad"
# nothing exists by a reference that is neither a tag nor a digest: the spec's conformance suite
# expects 404 MANIFEST_UNKNOWN on GET/HEAD (a PUT with an invalid tag stays 400 TAG_INVALID)
check_err "GET manifest by an invalid tag -> 404 MANIFEST_UNKNOWN" 404 MANIFEST_UNKNOWN
req GET "/v2/$repo/manifests/sha256:zz"
check_err "GET manifest by a malformed digest -> 404 MANIFEST_UNKNOWN" 404 MANIFEST_UNKNOWN

# --- unknown routes and methods -----------------------------------------------------------------
req GET "/v2/$repo/nothing-here/x"
check_err "unknown route under /v2/ -> 404 UNSUPPORTED" 404 UNSUPPORTED
req POST "/v2/$repo/manifests/v1"
check_err "POST on a manifest -> 405 UNSUPPORTED (method not allowed)" 405 UNSUPPORTED

finish
