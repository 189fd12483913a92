#!/usr/bin/env bash
# cli_gc.sh - `berth gc` and `berth fsck` on a real data directory: gc keeps what manifests use,
#   drops a deleted image's layers (links, rows and files) once past the window, leaves young
#   content alone, runs while the server serves, and its dry run removes nothing; fsck finds a
#   clean store clean, reports a corrupted blob (exit 1) and --repair quarantines it.
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
srv_start

mk_image "$BB_TMP/keep"
push_image library/keep v1 "$BB_TMP/keep"
mk_image "$BB_TMP/drop"
push_image library/drop v1 "$BB_TMP/drop"
keep_layer=$(digest_of "$BB_TMP/keep/layer.tar.gz")
drop_layer=$(digest_of "$BB_TMP/drop/layer.tar.gz")
blobfile() { printf '%s/blobs/sha256/%s/%s' "$SRV_DATA" "$(printf %s "${1#sha256:}" | cut -c1-2)" "${1#sha256:}"; }

req DELETE "/v2/library/drop/manifests/$(digest_of "$BB_TMP/drop/manifest.json")"
check_status "delete the image to collect" 202

out=$("$BERTH_BIN" gc --data "$SRV_DATA" 2>&1)
check_contains "gc within the window removes nothing" "$out" "removed 0 dangling repository links, 0 unreferenced blobs"
check_true "young layer still on disk" test -f "$(blobfile "$drop_layer")"

# --window 0 spares what is younger than this second: let the clock tick over once
t0=$(date +%s)
while [ "$(date +%s)" = "$t0" ]; do sleep 0.1; done
out=$("$BERTH_BIN" gc --data "$SRV_DATA" --window 0 --dry-run 2>&1)
check_contains "dry run counts the dangling links" "$out" "would remove 2 dangling repository links"
check_true "dry run removed nothing" test -f "$(blobfile "$drop_layer")"

"$BERTH_BIN" gc --data "$SRV_DATA" --window 0 >"$BB_TMP/gc.out" 2>&1
check_eq "gc --window 0 exits 0 while the server runs" "$?" 0
check_contains "gc reports what it removed (config, layer, manifest)" "$(cat "$BB_TMP/gc.out")" "removed 2 dangling repository links, 3 unreferenced blobs"
check_false "the deleted image's layer is gone" test -f "$(blobfile "$drop_layer")"
check_true "the kept image's layer stays" test -f "$(blobfile "$keep_layer")"
req GET "/v2/library/keep/manifests/v1"
check_status "kept image still pulls (manifest)" 200
req GET "/v2/library/keep/blobs/$keep_layer"
check_body_file "kept image still pulls (layer bytes)" "$BB_TMP/keep/layer.tar.gz"
req HEAD "/v2/library/drop/blobs/$drop_layer"
check_status "collected layer is unknown" 404

"$BERTH_BIN" fsck --data "$SRV_DATA" >"$BB_TMP/fsck.out" 2>&1
check_eq "fsck of a clean store exits 0" "$?" 0

chmod u+w "$(blobfile "$keep_layer")"
printf 'X' | dd of="$(blobfile "$keep_layer")" bs=1 seek=10 conv=notrunc 2>/dev/null
"$BERTH_BIN" fsck --data "$SRV_DATA" >"$BB_TMP/fsck.out" 2>&1
check_eq "fsck finds the corrupted blob (exit 1)" "$?" 1
check_contains "fsck names it" "$(cat "$BB_TMP/fsck.out")" "${keep_layer#sha256:}"
"$BERTH_BIN" fsck --data "$SRV_DATA" --repair >"$BB_TMP/fsck.out" 2>&1
check_false "--repair moved the corrupt file out of blobs/" test -f "$(blobfile "$keep_layer")"
check_true "--repair put it in quarantine/" sh -c "ls '$SRV_DATA/quarantine/' | grep -q '${keep_layer#sha256:}'"

mkdir -p "$BB_TMP/empty"
out=$("$BERTH_BIN" gc --data "$BB_TMP/empty" 2>&1)
check_contains "gc refuses a directory without a registry" "$out" "berth.db"
out=$("$BERTH_BIN" gc --data "$BB_TMP/nowhere" 2>&1)
check_contains "gc refuses a missing directory" "$out" "not a directory"

srv_stop
finish
