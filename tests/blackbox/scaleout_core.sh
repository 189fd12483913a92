#!/usr/bin/env bash
# scaleout_core.sh - the registry's core flows through haproxy over two replicas sharing
# PostgreSQL and radosgw (scripts/scaleout.sh):
#   - what haproxy forwards: the token realm names the balancer, a client's own X-Forwarded-Proto
#     is overwritten by haproxy, a replica believes X-Forwarded-* from 127.0.0.1 (trusted_proxies);
#   - monolithic push through the balancer, every byte pulled back from each replica directly;
#   - one chunked upload whose POST, PATCHes, status GET and closing PUT alternate between the
#     two replicas, addressed directly;
#   - a bearer token from one replica accepted by the other, a web session made on one used on
#     the other (shared token key and sessions);
#   - tags list, catalog, cross-repository mount, delete by digest seen by both replicas;
#   - management API: a project made on one replica is there on the other;
#   - skopeo pushes and pulls through the balancer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_scaleout.sh"

so_up
API=/api/v2.0
J=(-H 'Content-Type: application/json')

# --- what the balancer forwards ----------------------------------------------------------------
req_anon GET /v2/
check_status "GET /v2/ through haproxy -> 401" 401
check_hdr "realm names the balancer" WWW-Authenticate \
    "Bearer realm=\"$SRV_URL/service/token\",service=\"berth-registry\""
req_anon GET /v2/ -H 'X-Forwarded-Proto: https'
check_contains "a client's X-Forwarded-Proto is replaced by haproxy's" "$(hdr WWW-Authenticate)" \
    "realm=\"http://"
req_anon GET "$SO_R1/v2/" -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Host: registry.example'
check_contains "replica believes X-Forwarded-* from 127.0.0.1" "$(hdr WWW-Authenticate)" \
    'realm="https://registry.example/service/token"'
seen=""
for _ in 1 2 3 4 5 6; do
    req GET /v2/
    seen="$seen$R_STATUS "
done
check_eq "six pings through the balancer all 200" "$seen" "200 200 200 200 200 200 "

# --- monolithic push through the balancer, pulled from each replica ----------------------------
REPO=library/$(rand_name core)
mk_image "$BB_TMP/img1" >/dev/null
push_image "$REPO" v1 "$BB_TMP/img1"
for r in "$SO_R1" "$SO_R2"; do
    req GET "$r/v2/$REPO/manifests/v1" "${ACCEPT_ALL[@]}"
    check_body_file "manifest by tag from ${r##*:}" "$BB_TMP/img1/manifest.json"
    req GET "$r/v2/$REPO/blobs/$(digest_of "$BB_TMP/img1/layer.tar.gz")"
    check_body_file "layer from ${r##*:}" "$BB_TMP/img1/layer.tar.gz"
    req GET "$r/v2/$REPO/blobs/$(digest_of "$BB_TMP/img1/config.json")"
    check_body_file "config from ${r##*:}" "$BB_TMP/img1/config.json"
done

# --- one chunked upload across both replicas ---------------------------------------------------
# next_loc: LOC = the path of the last response's Location (kept when it has none: a refused
# request leaves the session where it was)
LOC=""
next_loc() {
    local l
    l=$(hdr Location)
    case $l in http://*) l=/${l#http://*/} ;; esac
    [ -n "$l" ] && LOC=$l
    return 0
}
rand_file "$BB_TMP/big" 3145728
head -c 1048576 "$BB_TMP/big" >"$BB_TMP/c1"
tail -c +1048577 "$BB_TMP/big" | head -c 1048576 >"$BB_TMP/c2"
tail -c +2097153 "$BB_TMP/big" >"$BB_TMP/c3"
req POST "$SO_R1/v2/$REPO/blobs/uploads/"
check_status "POST upload on replica 1 -> 202" 202
next_loc
req PATCH "$SO_R1$LOC" -H 'Content-Type: application/octet-stream' -H 'Content-Range: 0-1048575' \
    --data-binary "@$BB_TMP/c1"
check_status "PATCH 1 on replica 1 -> 202" 202
check_hdr "Range after PATCH 1" Range "0-1048575"
next_loc
req PATCH "$SO_R2$LOC" -H 'Content-Type: application/octet-stream' \
    -H 'Content-Range: 1048576-2097151' --data-binary "@$BB_TMP/c2"
check_status "PATCH 2 on replica 2 -> 202" 202
check_hdr "Range after PATCH 2" Range "0-2097151"
next_loc
req GET "$SO_R1$LOC"
check_status "upload status on replica 1 -> 204" 204
check_hdr "replica 1 sees both chunks" Range "0-2097151"
req PATCH "$SO_R2$LOC" -H 'Content-Type: application/octet-stream' \
    -H 'Content-Range: 0-1048575' --data-binary "@$BB_TMP/c1"
check_status "a chunk sent again on replica 2 -> 416" 416
check_hdr "its Range tells where the upload is" Range "0-2097151"
req PATCH "$SO_R1$LOC" -H 'Content-Type: application/octet-stream' \
    -H "Content-Range: 2097152-$(($(size_of "$BB_TMP/big") - 1))" --data-binary "@$BB_TMP/c3"
check_status "PATCH 3 on replica 1 -> 202" 202
next_loc
BIG=$(digest_of "$BB_TMP/big")
req PUT "$SO_R2$(url_add_query "$LOC" "digest=$BIG")"
check_status "closing PUT on replica 2 -> 201" 201
check_hdr "Docker-Content-Digest of the chunked blob" Docker-Content-Digest "$BIG"
req GET "/v2/$REPO/blobs/$BIG"
check_body_file "chunked blob byte-identical through the balancer" "$BB_TMP/big"
req GET "$SO_R1/v2/$REPO/blobs/$BIG"
check_body_file "chunked blob byte-identical from replica 1" "$BB_TMP/big"
req GET "$SO_R1$LOC"
check_err "finished upload session is gone on replica 1" 404 BLOB_UPLOAD_UNKNOWN

# an upload cancelled on one replica is gone on the other
req POST "$SO_R2/v2/$REPO/blobs/uploads/"
next_loc
req DELETE "$SO_R1$LOC"
check_status "DELETE of replica 2's upload on replica 1 -> 204" 204
req GET "$SO_R2$LOC"
check_err "cancelled upload unknown on replica 2" 404 BLOB_UPLOAD_UNKNOWN

# --- credentials shared by the replicas ---------------------------------------------------------
req GET "$SO_R1/service/token?service=berth-registry&scope=repository:$REPO:pull"
check_status "token from replica 1 -> 200" 200
TOK=$(jq -r .token "$R_BODY")
for r in "$SO_R1" "$SO_R2"; do
    req_anon GET "$r/v2/$REPO/manifests/v1" -H "Authorization: Bearer $TOK" "${ACCEPT_ALL[@]}"
    check_status "replica 1's token pulls on ${r##*:}" 200
done
req_anon POST "$SO_R2/c/login" --data-urlencode "principal=$ADMIN_USER" \
    --data-urlencode "password=$ADMIN_PASS"
check_status "web login on replica 2 -> 200" 200
SID=$(hdr Set-Cookie | sed -n 's/^sid=\([0-9a-f]*\);.*/\1/p')
CSRF=$(hdr X-Harbor-CSRF-Token)
req_anon GET "$SO_R1$API/users/current" -b "sid=$SID"
check_status "replica 2's session is known to replica 1" 200
check_jq "as admin" '.username == "admin"'
P1=$(rand_name so)
req_anon POST "$SO_R1$API/projects" -b "sid=$SID" "${J[@]}" -H "X-Harbor-CSRF-Token: $CSRF" \
    --data-binary "{\"project_name\":\"$P1\"}"
check_status "project created on replica 1 with replica 2's session and CSRF token" 201
req GET "$SO_R2$API/projects/$P1" -H 'X-Is-Resource-Name: true'
check_status "the project is there on replica 2" 200
req_anon GET "$SO_R1/c/log_out" -b "sid=$SID"
req_anon GET "$SO_R2$API/users/current" -b "sid=$SID"
check_status "logged out on replica 1 -> session gone on replica 2" 401

# --- lists, mount, delete -----------------------------------------------------------------------
mk_image "$BB_TMP/img2" >/dev/null
push_image "$REPO" v2 "$BB_TMP/img2"
for r in "$SO_R1" "$SO_R2"; do
    req GET "$r/v2/$REPO/tags/list"
    check_jq "tags list on ${r##*:}" '.tags == ["v1","v2"]'
    req GET "$r/v2/_catalog?n=1000"
    check_jq "catalog on ${r##*:} has the repository" '.repositories | index($r) != null' --arg r "$REPO"
done
REPO2=library/$(rand_name mnt)
req POST "$SO_R2/v2/$REPO2/blobs/uploads/?mount=$BIG&from=$REPO"
check_status "cross-repository mount on replica 2 of replica 1's blob -> 201" 201
req GET "$SO_R1/v2/$REPO2/blobs/$BIG"
check_body_file "mounted blob from replica 1" "$BB_TMP/big"
# replica 2 reads v2 first (by tag and by digest), so a lookup cache there would hold it: a
# delete on replica 1 must still show at once on replica 2 (a client behind the balancer reads
# right after its delete)
req GET "$SO_R2/v2/$REPO/manifests/v2" "${ACCEPT_ALL[@]}"
check_status "img2 by tag on replica 2 before the delete" 200
req GET "$SO_R2/v2/$REPO/manifests/$IMG_DIGEST" "${ACCEPT_ALL[@]}"
check_status "img2 by digest on replica 2 before the delete" 200
req DELETE "$SO_R1/v2/$REPO/manifests/$IMG_DIGEST"
check_status "delete img2 by digest on replica 1 -> 202" 202
req GET "$SO_R2/v2/$REPO/manifests/$IMG_DIGEST" "${ACCEPT_ALL[@]}"
check_err "deleted manifest unknown on replica 2" 404 MANIFEST_UNKNOWN
req GET "$SO_R2/v2/$REPO/manifests/v2" "${ACCEPT_ALL[@]}"
check_err "its tag unknown on replica 2 at once" 404 MANIFEST_UNKNOWN
req GET "$SO_R2/v2/$REPO/tags/list"
check_jq "tags list on replica 2 after the delete" '.tags == ["v1"]'

# --- a real client through the balancer ----------------------------------------------------------
mk_oci_layout "$BB_TMP/layout" t1
if skopeo_push "$BB_TMP/layout" t1 "$REPO:sk" 2>"$BB_TMP/sk.err"; then
    ok "skopeo push through haproxy"
else
    not_ok "skopeo push through haproxy" "$(tail -n 5 "$BB_TMP/sk.err")"
fi
if skopeo_pull "$REPO:sk" "$BB_TMP/back" t1 2>"$BB_TMP/sk.err" && layout_blobs_ok "$BB_TMP/back"; then
    ok "skopeo pull through haproxy, every blob hashes to its name"
else
    not_ok "skopeo pull through haproxy" "$(tail -n 5 "$BB_TMP/sk.err")"
fi
req GET "$SO_R2/v2/$REPO/manifests/$LAYOUT_MANIFEST_DIGEST" "${ACCEPT_ALL[@]}"
check_status "skopeo's manifest by digest on replica 2" 200

so_down
finish
