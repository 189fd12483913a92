#!/usr/bin/env bash
# registry_referrers.sh - GET /v2/<name>/referrers/<digest> (distribution-spec v1.1): the
# OCI-Subject header on PUT, the returned image index, artifactType filtering with
# OCI-Filters-Applied, referrers pushed before their subject, deletes, unknown subjects.
. "$(dirname "$0")/lib.sh"

srv_start

repo=library/$(rand_name refs)
img=$BB_TMP/img
mk_image "$img"
push_image "$repo" v1 "$img"
subject=$(digest_of "$img/manifest.json")
subject_desc=$(descriptor "$MT_OCI_MANIFEST" "$img/manifest.json")

printf '{}' >"$BB_TMP/empty.json"
push_blob "$repo" "$BB_TMP/empty.json"
empty_desc=$(descriptor "$MT_OCI_EMPTY" "$BB_TMP/empty.json")

# mk_referrer OUT ARTIFACT_TYPE LAYER_FILE [ANNOTATION_VALUE]: an artifact manifest whose subject
# is the image (empty config; ARTIFACT_TYPE "" leaves the field out).
mk_referrer() {
    jq -cn --arg mt "$MT_OCI_MANIFEST" --arg at "$2" --argjson cfg "$empty_desc" \
        --argjson sub "$subject_desc" --argjson l "$(descriptor application/octet-stream "$3")" \
        --arg ann "${4:-}" \
        '{schemaVersion: 2, mediaType: $mt, config: $cfg, layers: [$l], subject: $sub}
         + (if $at != "" then {artifactType: $at} else {} end)
         + (if $ann != "" then {annotations: {"org.example.note": $ann}} else {} end)' |
        tr -d '\n' >"$1"
}

rand_file "$BB_TMP/sbom" 300
rand_file "$BB_TMP/sig" 200
push_blob "$repo" "$BB_TMP/sbom"
push_blob "$repo" "$BB_TMP/sig"
mk_referrer "$BB_TMP/r1.json" application/vnd.example.sbom "$BB_TMP/sbom" "first"
mk_referrer "$BB_TMP/r2.json" application/vnd.example.sig "$BB_TMP/sig"
r1=$(digest_of "$BB_TMP/r1.json")
r2=$(digest_of "$BB_TMP/r2.json")

# --- empty before any referrer ------------------------------------------------------------------
req GET "/v2/$repo/referrers/$subject"
check_status "referrers of a subject without referrers -> 200" 200
check_hdr_match "referrers Content-Type is an OCI index" Content-Type "^application/vnd\.oci\.image\.index\.v1\+json"
check_jq "no referrers yet: empty manifests list" \
    '.schemaVersion == 2 and .mediaType == $mt and .manifests == []' --arg mt "$MT_OCI_INDEX"

# --- push two referrers -------------------------------------------------------------------------
for r in r1 r2; do
    req PUT "/v2/$repo/manifests/$(digest_of "$BB_TMP/$r.json")" -H "Content-Type: $MT_OCI_MANIFEST" \
        --data-binary "@$BB_TMP/$r.json"
    check_status "PUT referrer $r -> 201" 201
    check_hdr "PUT referrer $r answers OCI-Subject" OCI-Subject "$subject"
done
req PUT "/v2/$repo/manifests/plain" -H "Content-Type: $MT_OCI_MANIFEST" \
    --data-binary "@$img/manifest.json"
check_hdr_absent "PUT of a manifest without subject has no OCI-Subject" OCI-Subject

req GET "/v2/$repo/referrers/$subject"
check_status "referrers -> 200" 200
check_jq "referrers lists both" '[.manifests[].digest] | sort == ([$a, $b] | sort)' \
    --arg a "$r1" --arg b "$r2"
check_jq "referrer descriptors carry mediaType, size and artifactType" \
    '.manifests[] | select(.digest == $a) | .mediaType == $mt and .size == $s1
        and .artifactType == "application/vnd.example.sbom"' \
    --argjson s1 "$(size_of "$BB_TMP/r1.json")" --arg a "$r1" --arg mt "$MT_OCI_MANIFEST"
check_jq "referrer descriptor carries the manifest's annotations" \
    '.manifests[] | select(.digest == $a) | .annotations["org.example.note"] == "first"' --arg a "$r1"
check_hdr_absent "unfiltered referrers: no OCI-Filters-Applied" OCI-Filters-Applied

# --- artifactType filter ------------------------------------------------------------------------
req GET "/v2/$repo/referrers/$subject?artifactType=application/vnd.example.sig"
check_status "filtered referrers -> 200" 200
check_jq "filter keeps only the matching artifactType" \
    '[.manifests[].digest] == [$b]' --arg b "$r2"
check_hdr "filtered answer has OCI-Filters-Applied: artifactType" OCI-Filters-Applied artifactType
req GET "/v2/$repo/referrers/$subject?artifactType=application/vnd.example.none"
check_jq "filter matching nothing: empty list" '.manifests == []'

# --- artifactType defaults to the config media type ---------------------------------------------
printf '{"kind":"cfg"}' >"$BB_TMP/cfg3.json"
push_blob "$repo" "$BB_TMP/cfg3.json"
jq -cn --arg mt "$MT_OCI_MANIFEST" --argjson sub "$subject_desc" \
    --argjson cfg "$(descriptor application/vnd.example.config.v1+json "$BB_TMP/cfg3.json")" \
    --argjson l "$empty_desc" \
    '{schemaVersion: 2, mediaType: $mt, config: $cfg, layers: [$l], subject: $sub}' |
    tr -d '\n' >"$BB_TMP/r3.json"
r3=$(digest_of "$BB_TMP/r3.json")
req PUT "/v2/$repo/manifests/$r3" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$BB_TMP/r3.json"
check_status "PUT referrer without artifactType -> 201" 201
req GET "/v2/$repo/referrers/$subject?artifactType=application/vnd.example.config.v1%2Bjson"
check_jq "artifactType falls back to config.mediaType" '[.manifests[].digest] == [$c]' --arg c "$r3"

# --- an index as a referrer ---------------------------------------------------------------------
jq -cn --arg mt "$MT_OCI_INDEX" --argjson sub "$subject_desc" \
    --argjson d "$(descriptor "$MT_OCI_MANIFEST" "$BB_TMP/r2.json")" \
    '{schemaVersion: 2, mediaType: $mt, artifactType: "application/vnd.example.bundle",
      manifests: [$d], subject: $sub}' | tr -d '\n' >"$BB_TMP/r4.json"
r4=$(digest_of "$BB_TMP/r4.json")
req PUT "/v2/$repo/manifests/$r4" -H "Content-Type: $MT_OCI_INDEX" --data-binary "@$BB_TMP/r4.json"
check_status "PUT index with a subject -> 201" 201
check_hdr "PUT index with a subject answers OCI-Subject" OCI-Subject "$subject"
req GET "/v2/$repo/referrers/$subject"
check_jq "index referrer listed with the index media type" \
    'any(.manifests[]; .digest == $d and .mediaType == $mt)' --arg d "$r4" --arg mt "$MT_OCI_INDEX"
check_jq "four referrers in all" '.manifests | length == 4'

# --- referrer pushed before its subject ---------------------------------------------------------
later=$BB_TMP/later
mk_image "$later"
push_blob "$repo" "$later/config.json"
push_blob "$repo" "$later/layer.tar.gz"
later_subject=$(digest_of "$later/manifest.json")
jq -cn --arg mt "$MT_OCI_MANIFEST" --argjson cfg "$empty_desc" \
    --argjson sub "$(descriptor "$MT_OCI_MANIFEST" "$later/manifest.json")" \
    '{schemaVersion: 2, mediaType: $mt, artifactType: "application/vnd.example.early",
      config: $cfg, layers: [$cfg], subject: $sub}' | tr -d '\n' >"$BB_TMP/early.json"
early=$(digest_of "$BB_TMP/early.json")
req PUT "/v2/$repo/manifests/$early" -H "Content-Type: $MT_OCI_MANIFEST" \
    --data-binary "@$BB_TMP/early.json"
check_status "referrer whose subject does not exist yet -> 201" 201
check_hdr "early referrer answers OCI-Subject" OCI-Subject "$later_subject"
req GET "/v2/$repo/referrers/$later_subject"
check_jq "early referrer listed before its subject exists" '[.manifests[].digest] == [$e]' --arg e "$early"
push_manifest "$repo" later "$later/manifest.json"
req GET "/v2/$repo/referrers/$later_subject"
check_jq "early referrer still listed once the subject exists" '[.manifests[].digest] == [$e]' --arg e "$early"

# --- delete a referrer --------------------------------------------------------------------------
req DELETE "/v2/$repo/manifests/$r1"
check_status "DELETE referrer -> 202" 202
req GET "/v2/$repo/referrers/$subject"
check_jq "deleted referrer no longer listed" '[.manifests[].digest] | index($a) == null and length == 3' \
    --arg a "$r1"

# --- unknown subject, bad digest, other repository, no credentials ------------------------------
fake=sha256:$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)
req GET "/v2/$repo/referrers/$fake"
check_status "referrers of an unknown digest -> 200" 200
check_jq "referrers of an unknown digest: empty index" '.schemaVersion == 2 and .manifests == []'
req GET "/v2/$repo/referrers/sha256:xyz"
check_err "referrers with a malformed digest -> 400 DIGEST_INVALID" 400 DIGEST_INVALID
other=library/$(rand_name refs-other)
push_image "$other" v1 "$img"
req GET "/v2/$other/referrers/$subject"
check_jq "referrers are per repository" '.manifests == []'
req_anon GET "/v2/$repo/referrers/$subject"
check_err "referrers of the private library without credentials -> 401 UNAUTHORIZED" 401 UNAUTHORIZED

finish
