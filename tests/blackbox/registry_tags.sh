#!/usr/bin/env bash
# registry_tags.sh - GET /v2/<name>/tags/list and GET /v2/_catalog: order, n, last, and the
# Link rel="next" pagination followed to the end.
. "$(dirname "$0")/lib.sh"

srv_start

repo=library/$(rand_name tags)
img=$BB_TMP/img
mk_image "$img"
push_image "$repo" latest "$img"
want_tags=(latest)
for t in t01 t02 t03 t04 t05 t06 t07 t08 t09 t10 A-upper v1.0 v1.0_b; do
    req PUT "/v2/$repo/manifests/$t" -H "Content-Type: $MT_OCI_MANIFEST" \
        --data-binary "@$img/manifest.json"
    [ "$R_STATUS" = 201 ] || not_ok "tag $t pushed" "status $R_STATUS"
    want_tags+=("$t")
done
want=$(printf '%s\n' "${want_tags[@]}" | LC_ALL=C sort | jq -R . | jq -sc .)

# link_next: the target of the Link rel="next" header of the last response, "" when none.
link_next() {
    hdr Link | sed -nE 's/^<([^>]+)>;[[:space:]]*rel="?next"?.*$/\1/p'
}

# --- full list ----------------------------------------------------------------------------------
req GET "/v2/$repo/tags/list"
check_status "tags/list -> 200" 200
check_hdr_match "tags/list is JSON" Content-Type '^application/json'
check_jq "tags/list name is the repository" '.name == $r' --arg r "$repo"
check_eq "tags/list holds every tag in lexical order" "$(jq -c .tags "$R_BODY")" "$want"
check_hdr_absent "complete tags/list has no Link" Link

# --- n and last ---------------------------------------------------------------------------------
req GET "/v2/$repo/tags/list?n=3"
check_status "tags/list?n=3 -> 200" 200
check_eq "n=3 gives the first 3" "$(jq -c .tags "$R_BODY")" "$(jq -c '.[:3]' <<<"$want")"
next=$(link_next)
check_match "n=3 has Link rel=next with n and last" "$next" \
    "/v2/$repo/tags/list\\?(n=3&last=$(jq -r '.[2]' <<<"$want")|last=$(jq -r '.[2]' <<<"$want")&n=3)\$"

third=$(jq -r '.[2]' <<<"$want")
req GET "/v2/$repo/tags/list?last=$third"
check_eq "last=X lists the tags after X" "$(jq -c .tags "$R_BODY")" "$(jq -c '.[3:]' <<<"$want")"

req GET "/v2/$repo/tags/list?n=2&last=t05"
check_eq "n=2&last=t05 -> t06,t07" "$(jq -c .tags "$R_BODY")" '["t06","t07"]'

req GET "/v2/$repo/tags/list?n=1000"
check_eq "n larger than the count gives all" "$(jq -c .tags "$R_BODY")" "$want"
check_hdr_absent "n larger than the count: no Link" Link

req GET "/v2/$repo/tags/list?last=zzz"
check_status "last after every tag -> 200" 200
check_jq "last after every tag: empty list" '(.tags // []) | length == 0'

# --- follow Link to the end ---------------------------------------------------------------------
got=()
url="/v2/$repo/tags/list?n=4"
pages=0
while [ -n "$url" ] && [ $pages -lt 20 ]; do
    req GET "$url"
    [ "$R_STATUS" = 200 ] || break
    mapfile -t page < <(jq -r '.tags[]?' "$R_BODY")
    got+=("${page[@]}")
    url=$(link_next)
    pages=$((pages + 1))
done
check_eq "following Link with n=4 visits 4 pages" "$pages" 4
check_eq "pages together give every tag once, in order" \
    "$(printf '%s\n' "${got[@]}" | jq -R . | jq -sc .)" "$want"

# --- catalog ------------------------------------------------------------------------------------
repos=("$repo")
for i in 1 2 3 4 5; do
    r=library/$(rand_name "cat$i-")
    push_blob "$r" "$img/config.json"
    push_blob "$r" "$img/layer.tar.gz"
    push_manifest "$r" v1 "$img/manifest.json"
    repos+=("$r")
done
req GET "/v2/_catalog"
check_status "_catalog -> 200" 200
check_jq "_catalog lists repositories in lexical order" \
    '.repositories == (.repositories | sort)'
for r in "${repos[@]}"; do
    check_jq "_catalog lists $r" '.repositories | index($r) != null' --arg r "$r"
done
all=$(jq -c .repositories "$R_BODY")
total=$(jq length <<<"$all")

req GET "/v2/_catalog?n=2"
check_eq "_catalog?n=2 gives the first 2" "$(jq -c .repositories "$R_BODY")" "$(jq -c '.[:2]' <<<"$all")"
check_match "_catalog?n=2 has Link rel=next" "$(link_next)" '/v2/_catalog\?.*n=2'

first=$(jq -r '.[0]' <<<"$all")
req GET "/v2/_catalog?last=$first"
check_eq "_catalog?last= lists the names after it" "$(jq -c .repositories "$R_BODY")" "$(jq -c '.[1:]' <<<"$all")"

got=()
url="/v2/_catalog?n=2"
pages=0
while [ -n "$url" ] && [ $pages -lt 50 ]; do
    req GET "$url"
    [ "$R_STATUS" = 200 ] || break
    mapfile -t page < <(jq -r '.repositories[]?' "$R_BODY")
    got+=("${page[@]}")
    url=$(link_next)
    pages=$((pages + 1))
done
check_eq "_catalog pages: $(((total + 1) / 2)) of them" "$pages" "$(((total + 1) / 2))"
check_eq "_catalog pages together give every name once" \
    "$(printf '%s\n' "${got[@]}" | jq -R . | jq -sc .)" "$all"

req_anon GET "/v2/_catalog"
check_err "_catalog without credentials -> 401 UNAUTHORIZED" 401 UNAUTHORIZED
req_anon GET "/v2/$repo/tags/list"
check_err "tags/list of the private library without credentials -> 401 UNAUTHORIZED" 401 UNAUTHORIZED

finish
