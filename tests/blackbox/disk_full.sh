#!/usr/bin/env bash
# disk_full.sh - a push that runs out of space on a 24 MiB tmpfs holding the whole data
#   directory: a 30 MB monolithic PUT and a 30 MB PATCH answer 507 INSUFFICIENT_STORAGE with
#   the spec's error body, leave no upload session, temp file, blob file or row behind, and the
#   free space comes back; pulls keep working while the disk is full; once a filler file is
#   removed, pushes work again without a restart. /api/v2.0/health and /metrics report the free
#   bytes. Needs root for mount (SKIP when mount is impossible).
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
MNT=$BB_TMP/mnt
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=24m tmpfs "$MNT" 2>"$BB_TMP/mount.err"; then
    skip "disk full: cannot mount a tmpfs ($(cat "$BB_TMP/mount.err"))"
    finish
fi
cleanup_mount() {
    [ -n "$SRV_PID" ] && kill -KILL "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
    umount "$MNT" 2>/dev/null
}
trap 'cleanup_mount; bb_cleanup' EXIT

free_kb() { df -k --output=avail "$MNT" | tail -n 1 | tr -d ' '; }
# leftovers: entries under uploads/ (sessions, temp files)
uploads_n() { find "$MNT/uploads" -mindepth 1 -maxdepth 1 | wc -l | tr -d ' '; }
blobfile() { printf '%s/blobs/sha256/%s/%s' "$MNT" "$(printf %s "${1#sha256:}" | cut -c1-2)" "${1#sha256:}"; }

srv_start "$MNT"

mk_image "$BB_TMP/img"
push_image library/app v1 "$BB_TMP/img"
layer=$(digest_of "$BB_TMP/img/layer.tar.gz")

# ---- free space is reported ----
req GET /api/v2.0/health
check_status "health answers" 200
check_jq "health: the storage component reports free and total bytes" \
    '.components[] | select(.name == "storage") | (.free_bytes | type == "number") and .free_bytes > 0 and .total_bytes >= .free_bytes'
req GET /metrics
check_status "metrics answer" 200
check_true "metrics: berth_storage_free_bytes" grep -Eq '^berth_storage_free_bytes [1-9][0-9]*$' "$R_BODY"
check_true "metrics: berth_storage_capacity_bytes" \
    grep -Eq '^berth_storage_capacity_bytes [1-9][0-9]*$' "$R_BODY"

free0=$(free_kb)

# ---- a 30 MB monolithic PUT ----
rand_file "$BB_TMP/big" 30000000
big=$(digest_of "$BB_TMP/big")
req POST /v2/library/app/blobs/uploads/
check_status "open an upload session" 202
loc=$(hdr Location)
req PUT "$(url_add_query "$loc" "digest=$big")" -H 'Content-Type: application/octet-stream' \
    --data-binary "@$BB_TMP/big"
check_err "30 MB monolithic PUT on a 24 MiB disk: 507 INSUFFICIENT_STORAGE" 507 INSUFFICIENT_STORAGE
check_jq "the message says the store is full" '.errors[0].message | test("storage full")'
check_eq "no upload session or temp file left" "$(uploads_n)" 0
check_false "no blob file" test -e "$(blobfile "$big")"
req HEAD "/v2/library/app/blobs/$big"
check_status "no blob row: HEAD 404" 404
req GET "$loc"
check_err "the session is gone" 404 BLOB_UPLOAD_UNKNOWN
free1=$(free_kb)
check_true "the partial upload's space is free again ($free0 KiB before, $free1 after)" \
    test "$free1" -ge $((free0 - 1024))

# ---- a 30 MB PATCH ----
req POST /v2/library/app/blobs/uploads/
check_status "open a second session" 202
loc=$(hdr Location)
req PATCH "$loc" -H 'Content-Type: application/octet-stream' --data-binary "@$BB_TMP/big"
check_err "30 MB PATCH: 507 INSUFFICIENT_STORAGE" 507 INSUFFICIENT_STORAGE
check_eq "no session left after the PATCH" "$(uploads_n)" 0
check_true "space free again after the PATCH" test "$(free_kb)" -ge $((free0 - 1024))

# ---- pushes right after work (the failures left nothing) ----
mk_image "$BB_TMP/img2"
push_image library/app v2 "$BB_TMP/img2"

# ---- a disk filled by something else ----
dd if=/dev/zero of="$MNT/filler" bs=1M 2>/dev/null
check_true "the disk is full (under 64 KiB free)" test "$(free_kb)" -lt 64
rand_file "$BB_TMP/small" 200000
small=$(digest_of "$BB_TMP/small")
req POST /v2/library/app/blobs/uploads/
if [ "$R_STATUS" = 202 ]; then
    loc=$(hdr Location)
    req PUT "$(url_add_query "$loc" "digest=$small")" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$BB_TMP/small"
fi
check_err "a push on a full disk: 507 INSUFFICIENT_STORAGE" 507 INSUFFICIENT_STORAGE
check_eq "no session left on the full disk" "$(uploads_n)" 0
# a new manifest of blobs already pushed: only its own bytes need space
jq -c '. + {annotations: {"test": "disk full"}}' "$BB_TMP/img/manifest.json" | tr -d '\n' \
    >"$BB_TMP/m-full.json"
req PUT /v2/library/app/manifests/full -H "Content-Type: $MT_OCI_MANIFEST" \
    --data-binary "@$BB_TMP/m-full.json"
check_err "a manifest PUT on a full disk: 507 INSUFFICIENT_STORAGE" 507 INSUFFICIENT_STORAGE
check_eq "no temp file left by the manifest PUT" "$(uploads_n)" 0
req HEAD /v2/library/app/manifests/full "${ACCEPT_ALL[@]}"
check_status "the refused manifest is unknown" 404
mk_image "$BB_TMP/img3"

# pulls keep working while the disk is full
req GET /v2/library/app/manifests/v1 "${ACCEPT_ALL[@]}"
check_body_file "pull on a full disk: manifest bytes" "$BB_TMP/img/manifest.json"
req GET "/v2/library/app/blobs/$layer"
check_body_file "pull on a full disk: layer bytes" "$BB_TMP/img/layer.tar.gz"
req GET /api/v2.0/health
check_jq "health on a full disk: storage reports under 64 KiB free" \
    '.components[] | select(.name == "storage") | .free_bytes < 65536'

# ---- space freed: pushes work again, no restart ----
rm -f "$MNT/filler"
req POST /v2/library/app/blobs/uploads/
check_status "after freeing space: POST" 202
loc=$(hdr Location)
req PUT "$(url_add_query "$loc" "digest=$small")" -H 'Content-Type: application/octet-stream' \
    --data-binary "@$BB_TMP/small"
check_status "after freeing space: PUT 201" 201
push_image library/app v3 "$BB_TMP/img3"
req GET /v2/library/app/manifests/v3 "${ACCEPT_ALL[@]}"
check_body_file "the new image pulls" "$BB_TMP/img3/manifest.json"
req GET "/v2/library/app/blobs/$small"
check_body_file "the new blob pulls" "$BB_TMP/small"

srv_stop
"$BERTH_BIN" fsck --data "$MNT" >"$BB_TMP/fsck.out" 2>&1
check_eq "fsck is clean afterwards (exit 0)" "$?" 0
umount "$MNT"
check_eq "tmpfs unmounted" "$?" 0
trap bb_cleanup EXIT
finish
