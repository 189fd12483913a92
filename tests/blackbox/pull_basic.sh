#!/usr/bin/env bash
# pull_basic.sh - `berth pull` against distribution 2.8 with htpasswd Basic auth: OCI layout
# (skopeo, umoci), docker-archive (podman load), oci-archive, index + --platform, arm64 variant
# default, --all-platforms, by digest, zstd layers, blob reuse, pod-before-node credential order,
# a corrupted blob refused, an interrupted pull resumed with Range, --json events.
. "$(dirname "$0")/lib_pull.sh"

need docker-registry skopeo htpasswd python3 curl jq

htpasswd_file "$PL_TMP/htpasswd" bob pw-good-123 || { not_ok "htpasswd"; finish; }
reg_start basic "$(printf '  htpasswd:\n    realm: berth-test\n    path: %s\n' "$PL_TMP/htpasswd")" ||
    { not_ok "registry starts"; finish; }
H=$REG_HOST
docker_config "$PL_TMP/good.json" "$H" bob pw-good-123
docker_config "$PL_TMP/bad.json" "$H" bob pw-bad-456
P=(--plain-http --secret "$PL_TMP/good.json")

bb=/bin/busybox
[ -x "$bb" ] || bb=""
python3 "$FIX/mkimage.py" "$PL_TMP/single" v1 ${bb:+--busybox $bb} --layers 2 >"$PL_TMP/single.d"
python3 "$FIX/mkimage.py" "$PL_TMP/multi" v1 --platform linux/amd64 --platform linux/arm64/v8 \
    --platform linux/arm/v7 --seed 2 >"$PL_TMP/multi.d"
python3 "$FIX/mkimage.py" "$PL_TMP/zstd" v1 --zstd --layers 2 --seed 3 >"$PL_TMP/zstd.d"
python3 "$FIX/mkimage.py" "$PL_TMP/big" v1 --random-mib 24 --seed 4 >"$PL_TMP/big.d"
for i in single multi zstd big; do
    push "$PL_TMP/$i:v1" "$H/test/$i:v1" bob:pw-good-123 || not_ok "push $i"
done
SINGLE=$(cat "$PL_TMP/single.d")
MULTI=$(cat "$PL_TMP/multi.d")
ARM64=$(jq -r '.manifests[] | select(.platform.architecture=="arm64") | .digest' \
    "$PL_TMP/multi/blobs/sha256/${MULTI#sha256:}")
AMD64=$(jq -r '.manifests[] | select(.platform.architecture=="amd64") | .digest' \
    "$PL_TMP/multi/blobs/sha256/${MULTI#sha256:}")

# --- single image to an OCI layout
out=$("$BERTH" pull "${P[@]}" --oci "$PL_TMP/o1" "$H/test/single:v1" 2>"$PL_TMP/e1")
check_eq "single image: exit 0 and digest" "$?:$out" "0:$SINGLE"
check_eq "skopeo inspect oci: reads it" \
    "$(skopeo inspect "oci:$PL_TMP/o1:v1" 2>/dev/null | jq -r .Digest)" "$SINGLE"
check_eq "index.json carries the ref.name annotation" \
    "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$PL_TMP/o1/index.json")" v1
if command -v umoci >/dev/null; then
    check_eq "umoci ls lists the tag" "$(umoci ls --layout "$PL_TMP/o1" 2>/dev/null)" v1
    check "umoci stat reads the image" umoci stat --image "$PL_TMP/o1:v1"
else
    skip "umoci not installed"
fi
bad=0
for f in "$PL_TMP"/o1/blobs/sha256/*; do
    [ "$(blob_sha "$f")" = "$(basename "$f")" ] || bad=1
done
check_eq "every blob hashes to its name, no .partial left" "$bad:$(find "$PL_TMP/o1/blobs/sha256" -name '*partial*' | wc -l)" "0:0"

# --- second pull into the same layout: everything reused
"$BERTH" pull "${P[@]}" --oci "$PL_TMP/o1" "$H/test/single:v1" >/dev/null 2>"$PL_TMP/e1b"
check_eq "second pull reuses every blob (config and 3 layers)" "$(grep -c '^exists' "$PL_TMP/e1b")" 4

# --- same-size corruption in the output layout: a re-pull re-checks, never trusts a length
O1M=$PL_TMP/o1/blobs/sha256/${SINGLE#sha256:}
O1L=$PL_TMP/o1/blobs/sha256/$(jq -r '.layers[0].digest' "$O1M" | cut -d: -f2)
O1S=$(stat -c %s "$O1L"):$(stat -c %s "$O1M")
printf 'X' | dd of="$O1L" bs=1 seek=10 conv=notrunc 2>/dev/null
printf ' ' | dd of="$O1M" bs=1 seek=1 conv=notrunc 2>/dev/null
check_eq "corrupted layer and manifest keep their sizes" "$(stat -c %s "$O1L"):$(stat -c %s "$O1M")" "$O1S"
check_eq "corruption took (the files no longer hash to their names)" \
    "$([ "$(blob_sha "$O1L")" = "$(basename "$O1L")" ] && echo same):$([ "$(blob_sha "$O1M")" = "$(basename "$O1M")" ] && echo same)" ":"
out=$("$BERTH" pull "${P[@]}" --oci "$PL_TMP/o1" "$H/test/single:v1" 2>"$PL_TMP/e1c")
check_eq "re-pull over a corrupted layout: exit 0 and digest" "$?:$out" "0:$SINGLE"
check_eq "re-pull: the same-size corrupted layer is fetched again" "$(blob_sha "$O1L")" "$(basename "$O1L")"
check_eq "re-pull: the same-size corrupted manifest is rewritten" "$(blob_sha "$O1M")" "$(basename "$O1M")"
check_eq "re-pull: only the bad layer is downloaded (config and 2 layers reused)" \
    "$(grep -c '^exists' "$PL_TMP/e1c")" 3

# --- docker-archive, loaded by podman
"$BERTH" pull "${P[@]}" --tar "$PL_TMP/img.tar" "$H/test/single:v1" >/dev/null 2>"$PL_TMP/e2"
check_eq "docker-archive written, work dir removed" "$?:$(test -e "$PL_TMP/img.tar.partial.d" && echo left)" "0:"
check_eq "manifest.json names the tag" "$(tar -xOf "$PL_TMP/img.tar" manifest.json | jq -r '.[0].RepoTags[0]')" "$H/test/single:v1"
if command -v podman >/dev/null; then
    PR=(podman --root "$PL_TMP/podman/root" --runroot "$PL_TMP/podman/run" --storage-driver vfs)
    if "${PR[@]}" load -i "$PL_TMP/img.tar" >"$PL_TMP/podman.out" 2>&1; then
        check "podman load names the image" grep -q "Loaded image: $H/test/single:v1" "$PL_TMP/podman.out"
        check_eq "podman image has the pulled config" \
            "$("${PR[@]}" image inspect --format '{{.Id}}' "$H/test/single:v1" 2>/dev/null)" \
            "$(jq -r .config.digest "$PL_TMP/o1/blobs/sha256/${SINGLE#sha256:}" | cut -d: -f2)"
    else
        not_ok "podman load" "$(cat "$PL_TMP/podman.out")"
    fi
else
    skip "podman not installed"
fi

# --- oci-archive
"$BERTH" pull "${P[@]}" --oci-archive "$PL_TMP/img.oci.tar" "$H/test/single:v1" >/dev/null 2>"$PL_TMP/e3"
check_eq "skopeo inspect oci-archive: reads it" \
    "$(skopeo inspect "oci-archive:$PL_TMP/img.oci.tar" 2>/dev/null | jq -r .Digest)" "$SINGLE"

# --- index: --platform, default variant, --all-platforms
out=$("$BERTH" pull "${P[@]}" --platform linux/arm64 --oci "$PL_TMP/o4" "$H/test/multi:v1" 2>"$PL_TMP/e4")
check_eq "index: --platform linux/arm64 picks arm64/v8" \
    "$(jq -r '.manifests[0].digest' "$PL_TMP/o4/index.json")" "$ARM64"
check_eq "index: stdout gives the index digest" "$out" "$MULTI"
"$BERTH" pull "${P[@]}" --oci "$PL_TMP/o5" "$H/test/multi:v1" >/dev/null 2>&1
check_eq "index: default platform is the host's (linux/amd64)" \
    "$(jq -r '.manifests[0].digest' "$PL_TMP/o5/index.json")" "$AMD64"
"$BERTH" pull "${P[@]}" --platform linux/s390x --oci "$PL_TMP/o6" "$H/test/multi:v1" >/dev/null 2>"$PL_TMP/e6"
check_eq "index: missing platform fails" "$?" 1
check "index: the error lists what the index has" grep -q "no manifest for linux/s390x.*linux/arm64/v8" "$PL_TMP/e6"
"$BERTH" pull "${P[@]}" --all-platforms --oci "$PL_TMP/o7" "$H/test/multi:v1" >/dev/null 2>&1
check_eq "--all-platforms: index.json names the index" "$(jq -r '.manifests[0].digest' "$PL_TMP/o7/index.json")" "$MULTI"
check_eq "--all-platforms: skopeo copies all from the layout" \
    "$(skopeo copy -q --all "oci:$PL_TMP/o7:v1" "oci:$PL_TMP/o7copy:v1" >/dev/null 2>&1; echo $?)" 0

# --- by digest, and a tag+digest mismatch refused
out=$("$BERTH" pull "${P[@]}" --oci "$PL_TMP/o8" "$H/test/single@$SINGLE" 2>/dev/null)
check_eq "by digest" "$out" "$SINGLE"
"$BERTH" pull "${P[@]}" --oci "$PL_TMP/o9" "$H/test/single@sha256:$(printf '%064d' 0)" >/dev/null 2>"$PL_TMP/e9"
check_eq "unknown digest fails" "$?" 1

# --- zstd layers
"$BERTH" pull "${P[@]}" --oci "$PL_TMP/o10" "$H/test/zstd:v1" >/dev/null 2>&1
check_eq "zstd image pulled, layer media type kept" \
    "$(jq -r '.layers[0].mediaType' "$PL_TMP/o10/blobs/sha256/$(jq -r '.manifests[0].digest' "$PL_TMP/o10/index.json" | cut -d: -f2)")" \
    application/vnd.oci.image.layer.v1.tar+zstd

# --- credentials: pod secret (wrong) before node docker config (right)
mkdir -p "$PL_TMP/dcfg"
cp "$PL_TMP/good.json" "$PL_TMP/dcfg/config.json"
DOCKER_CONFIG=$PL_TMP/dcfg "$BERTH" pull --plain-http --secret "$PL_TMP/bad.json" --docker-config \
    --oci "$PL_TMP/o11" "$H/test/single:v1" >/dev/null 2>"$PL_TMP/e11"
check_eq "wrong pod secret, right node credential: exit 0" "$?" 0
check "the refused pod credential is named" grep -q "bad.json.*user bob) refused: registry refused the credentials" "$PL_TMP/e11"
"$BERTH" pull --plain-http --secret "$PL_TMP/bad.json" --oci "$PL_TMP/o12" "$H/test/single:v1" >/dev/null 2>"$PL_TMP/e12"
check_eq "only a wrong credential: exit 1" "$?" 1
check "error names source and user" grep -q "not authorized; tried .*bad.json.*(user bob): registry refused the credentials" "$PL_TMP/e12"
"$BERTH" pull --plain-http --oci "$PL_TMP/o13" "$H/test/single:v1" >/dev/null 2>"$PL_TMP/e13"
check "anonymous on a Basic registry: told credentials are required" grep -q "requires credentials" "$PL_TMP/e13"
if grep -q "pw-bad-456\|pw-good-123" "$PL_TMP"/e*; then not_ok "no password printed"; else ok "no password printed"; fi

# --- --json events
"$BERTH" pull "${P[@]}" --json --oci "$PL_TMP/o14" "$H/test/single:v1" >"$PL_TMP/j14" 2>/dev/null
check_eq "--json: every line is JSON with an event" "$(jq -r .event "$PL_TMP/j14" 2>/dev/null | grep -c .)" "$(wc -l <"$PL_TMP/j14")"
check_eq "--json: start and done per blob, then pulled" \
    "$(jq -r .event "$PL_TMP/j14" | grep -v progress | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')" \
    "done=4 pulled=1 resolve=1 start=4 "

# --- corrupted blob in the registry's storage: detected, refused, nothing left
LAYER=$(jq -r '.layers[0].digest' "$PL_TMP/single/blobs/sha256/${SINGLE#sha256:}" | cut -d: -f2)
DATA=$REG_DATA/docker/registry/v2/blobs/sha256/${LAYER:0:2}/$LAYER/data
cp "$DATA" "$PL_TMP/layer.orig"
printf 'X' | dd of="$DATA" bs=1 seek=100 conv=notrunc 2>/dev/null
"$BERTH" pull "${P[@]}" --retries 0 --oci "$PL_TMP/o15" "$H/test/single:v1" >/dev/null 2>"$PL_TMP/e15"
check_eq "corrupted blob: exit 1" "$?" 1
check "corrupted blob: digest mismatch reported" grep -q "content has digest" "$PL_TMP/e15"
check_eq "corrupted blob: neither final nor partial file kept" \
    "$(find "$PL_TMP/o15/blobs/sha256" -name "$LAYER*" 2>/dev/null | wc -l)" 0
cp "$PL_TMP/layer.orig" "$DATA"

# --- corrupted child manifest in the registry (same length, still JSON): refused by digest
AH=${ARM64#sha256:}
MDATA=$REG_DATA/docker/registry/v2/blobs/sha256/${AH:0:2}/$AH/data
cp "$MDATA" "$PL_TMP/arm64.orig"
python3 - "$MDATA" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p, "rb").read()
m = re.search(rb'"size": ?([0-9])', s)
i = m.start(1)
open(p, "wb").write(s[:i] + (b"2" if s[i:i + 1] == b"1" else b"1") + s[i + 1:])
PY
check_eq "corrupted child manifest keeps its length" "$(stat -c %s "$MDATA")" "$(stat -c %s "$PL_TMP/arm64.orig")"
"$BERTH" pull "${P[@]}" --retries 0 --platform linux/arm64 --oci "$PL_TMP/o15m" "$H/test/multi:v1" \
    >/dev/null 2>"$PL_TMP/e15m"
check_eq "corrupted child manifest: exit 1" "$?" 1
check "corrupted child manifest: digest mismatch reported" \
    grep -q "manifest $ARM64 does not match its digest" "$PL_TMP/e15m"
check_eq "corrupted child manifest: not stored" \
    "$(find "$PL_TMP/o15m/blobs/sha256" -name "$AH*" 2>/dev/null | wc -l)" 0
cp "$PL_TMP/arm64.orig" "$MDATA"

# --- interrupted pull resumed with Range
BIG=$(cat "$PL_TMP/big.d")
BIGL=$(jq -r '.layers[1].digest' "$PL_TMP/big/blobs/sha256/${BIG#sha256:}" | cut -d: -f2)
BIGSZ=$(jq -r '.layers[1].size' "$PL_TMP/big/blobs/sha256/${BIG#sha256:}")
"$BERTH" pull "${P[@]}" --limit-rate 8388608 --oci "$PL_TMP/o16" "$H/test/big:v1" >/dev/null 2>&1 &
pid=$!
part=$PL_TMP/o16/blobs/sha256/$BIGL.partial
part_over() { [ "$(stat -c %s "$part" 2>/dev/null || echo 0)" -gt "$1" ]; }
wait_until 20 part_over 4000000
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
have=$(stat -c %s "$part" 2>/dev/null || echo 0)
if [ "$have" -gt 0 ] && [ "$have" -lt "$BIGSZ" ]; then ok "killed pull left a partial blob ($have of $BIGSZ)"; else not_ok "killed pull left a partial blob" "have $have of $BIGSZ"; fi
out=$("$BERTH" pull "${P[@]}" --verbose --oci "$PL_TMP/o16" "$H/test/big:v1" 2>"$PL_TMP/e16")
check_eq "resumed pull: exit 0 and digest" "$?:$out" "0:$BIG"
check "resumed pull: asked with Range and got 206" grep -q "ranged 1" "$PL_TMP/e16"
check "resumed pull: resumed at the partial size" grep -q "resuming at" "$PL_TMP/e16"
check_eq "resumed pull: blob verifies" "$(blob_sha "$PL_TMP/o16/blobs/sha256/$BIGL")" "$BIGL"

finish
