#!/usr/bin/env bash
# pull_berth.sh - `berth pull` against `berth serve` (the Berth leg of the pull tests).
#
# Starts BERTH_BIN (default build/asan/berth) with tests/blackbox/lib.sh's srv_start, pushes test
# images made by tests/fixtures/pull/mkimage.py with skopeo (--dest-creds admin:PASS) into a
# private project made through the projects API (`library`, public in Berth, when there is no
# such API), and pulls them back with the same binary's `pull` subcommand:
# a single image to an OCI layout (read by `skopeo inspect oci:` and `umoci`), an index with
# --platform, by digest, a zstd layer, credentials from a Kubernetes Secret manifest
# (kubernetes.io/dockerconfigjson, data base64, beside a secret of another type that must be
# ignored), a wrong credential refused with a clear error, anonymous refused on the private
# project and served on the public `library`, and a docker-archive loaded by
# `podman load`. Works whether Berth answers GET /v2/ with a Basic challenge or with a Bearer
# challenge of its token service: the puller follows whichever the registry sends.
. "$(dirname "$0")/lib.sh"

FIX=$BB_ROOT/tests/fixtures/pull

for t in skopeo python3 curl jq; do
    if ! command -v "$t" >/dev/null 2>&1; then
        skip "pull from berth" "SKIP: $t not installed"
        finish
    fi
done
if [ "$SRV_KIND" != berth ]; then
    skip "pull from berth" "SKIP: BERTH_BIN is not Berth (pull_basic.sh covers distribution)"
    finish
fi

srv_start
H=$SRV_HOSTPORT
CHALLENGE=$(curl -s -o /dev/null -D - "$SRV_URL/v2/" | tr -d '\r' |
    awk 'tolower($1) == "www-authenticate:" { print $2 }')
bb_diag "GET /v2/ challenge scheme: ${CHALLENGE:-none}"

# pull ARGS...: the pull subcommand; stdout to $BB_TMP/out, stderr to $BB_TMP/err, status in PRC
pull() {
    "$BERTH_BIN" pull --plain-http "$@" >"$BB_TMP/out" 2>"$BB_TMP/err"
    PRC=$?
}
pull_diag() { bb_diag "exit $PRC" "stdout: $(head -c 300 "$BB_TMP/out")" "stderr:" "$(tail -n 15 "$BB_TMP/err")"; }

# layout_top_manifest DIR: the digest index.json names
layout_top() { jq -r '.manifests[0].digest' "$1/index.json"; }

# check_layout NAME DIR: every blob hashes to its name and no .partial is left
check_layout() {
    local f bad=""
    for f in "$2"/blobs/sha256/*; do
        case $f in *.partial) bad="$bad $(basename "$f")" ;; esac
        [ "$(sha256_of "$f")" = "$(basename "$f")" ] || bad="$bad $(basename "$f")"
    done
    if [ -z "$bad" ] && [ -f "$2/oci-layout" ]; then ok "$1"; else not_ok "$1" "bad blobs:$bad"; fi
}

# registry_digest REPO REF: Docker-Content-Digest of a manifest HEAD as admin
registry_digest() {
    req HEAD "/v2/$1/manifests/$2" "${ACCEPT_ALL[@]}"
    hdr Docker-Content-Digest
}

# --- the project: a private one made through the projects API, so that credentials matter
# (Berth's `library` is private too, README: anonymous pulls of it are refused)
PROJ=pulltest
req POST /api/v2.0/projects -H 'Content-Type: application/json' \
    --data '{"project_name":"pulltest","metadata":{"public":"false"}}'
check_status "private project pulltest created" 201
req GET /api/v2.0/projects/library
check_status "GET the library project" 200
check_eq "library is private" "$(jq -r '.metadata.public' "$R_BODY" 2>/dev/null)" false

# --- test images, pushed as admin into the project (and the single one into library too)
python3 "$FIX/mkimage.py" "$BB_TMP/single" v1 --layers 2 --seed 11 >"$BB_TMP/single.d"
python3 "$FIX/mkimage.py" "$BB_TMP/multi" v1 --platform linux/amd64 --platform linux/arm64/v8 \
    --platform linux/arm/v7 --seed 12 >"$BB_TMP/multi.d"
zstd_ok=0
if command -v zstd >/dev/null 2>&1; then
    python3 "$FIX/mkimage.py" "$BB_TMP/zstd" v1 --zstd --layers 2 --seed 13 >"$BB_TMP/zstd.d" && zstd_ok=1
fi
SINGLE=$(cat "$BB_TMP/single.d")
MULTI=$(cat "$BB_TMP/multi.d")
ARM64=$(jq -r '.manifests[] | select(.platform.architecture=="arm64") | .digest' \
    "$BB_TMP/multi/blobs/sha256/${MULTI#sha256:}")
ARMV7=$(jq -r '.manifests[] | select(.platform.architecture=="arm") | .digest' \
    "$BB_TMP/multi/blobs/sha256/${MULTI#sha256:}")
imgs="single multi"
[ $zstd_ok = 1 ] && imgs="$imgs zstd"
for i in $imgs library/single; do
    dest=$PROJ/$i
    case $i in library/*) dest=$i i=${i#library/} ;; esac
    if skopeo copy -q --all --dest-tls-verify=false --dest-creds "$ADMIN_USER:$ADMIN_PASS" \
        "oci:$BB_TMP/$i:v1" "docker://$H/$dest:v1" >"$BB_TMP/push.err" 2>&1; then
        ok "skopeo pushes $i into berth ($dest:v1)"
    else
        not_ok "skopeo pushes $i into berth ($dest:v1)" "$(tail -n 5 "$BB_TMP/push.err")"
    fi
done
check_eq "berth serves the single image under the digest skopeo pushed" \
    "$(registry_digest "$PROJ/single" v1)" "$SINGLE"

# --- credentials: a Kubernetes Secret manifest (dockerconfigjson, data base64) for the Berth host,
# plus an Opaque secret that kubelet ignores
dcj() { # USER PASS: a .dockerconfigjson for $H
    jq -cn --arg h "$H" --arg a "$(printf '%s:%s' "$1" "$2" | base64 -w0)" '{auths: {($h): {auth: $a}}}'
}
cat >"$BB_TMP/secret.yaml" <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: unrelated
  namespace: default
type: Opaque
data:
  password: $(printf 'not-a-registry' | base64 -w0)
---
apiVersion: v1
kind: Secret
metadata:
  name: berth-pull
  namespace: default
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: $(dcj "$ADMIN_USER" "$ADMIN_PASS" | base64 -w0)
EOF
cat >"$BB_TMP/wrong.yaml" <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: wrong-pull
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '$(dcj "$ADMIN_USER" "Wrong-pass-999")'
EOF
S=(--secret "$BB_TMP/secret.yaml")

# --- single image to an OCI layout
pull "${S[@]}" --verbose --oci "$BB_TMP/o1" "$H/$PROJ/single:v1"
if [ "$PRC" = 0 ] && [ "$(cat "$BB_TMP/out")" = "$SINGLE" ]; then
    ok "single image: exit 0, digest on stdout"
else
    not_ok "single image: exit 0, digest on stdout" && pull_diag
fi
if grep -q "using credential from secret berth-pull (file .*secret.yaml.*(user $ADMIN_USER)" "$BB_TMP/err"; then
    ok "credential taken from the Kubernetes Secret berth-pull"
else
    not_ok "credential taken from the Kubernetes Secret berth-pull" "$(grep -i credential "$BB_TMP/err")"
fi
check_contains "the Opaque secret is ignored with a note (--verbose)" "$(cat "$BB_TMP/err")" \
    "type Opaque ignored"
check_layout "single image: every blob hashes to its name" "$BB_TMP/o1"
check_eq "skopeo inspect oci: reads the layout" \
    "$(skopeo inspect "oci:$BB_TMP/o1:v1" 2>/dev/null | jq -r .Digest)" "$SINGLE"
check_eq "index.json carries the ref.name annotation" \
    "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$BB_TMP/o1/index.json")" v1
if command -v umoci >/dev/null 2>&1; then
    check_eq "umoci ls lists the tag" "$(umoci ls --layout "$BB_TMP/o1" 2>/dev/null)" v1
    if umoci stat --image "$BB_TMP/o1:v1" >"$BB_TMP/umoci.out" 2>&1 && grep -q mkimage.py "$BB_TMP/umoci.out"; then
        ok "umoci stat reads the image history"
    else
        not_ok "umoci stat reads the image history" "$(head -n 10 "$BB_TMP/umoci.out")"
    fi
else
    skip "umoci reads the layout" "SKIP: umoci not installed"
fi

# --- index with --platform
pull "${S[@]}" --platform linux/arm64 --oci "$BB_TMP/o2" "$H/$PROJ/multi:v1"
check_eq "index: stdout gives the index digest" "$PRC:$(cat "$BB_TMP/out")" "0:$MULTI"
check_eq "index: --platform linux/arm64 picks the arm64/v8 manifest" "$(layout_top "$BB_TMP/o2")" "$ARM64"
pull "${S[@]}" --platform linux/arm/v7 --oci "$BB_TMP/o2b" "$H/$PROJ/multi:v1"
check_eq "index: --platform linux/arm/v7 picks the arm/v7 manifest" "$(layout_top "$BB_TMP/o2b")" "$ARMV7"
check_eq "index: the arm/v7 config says arm" \
    "$(skopeo inspect --config "oci:$BB_TMP/o2b:v1" 2>/dev/null | jq -r '.architecture + "/" + .variant')" arm/v7
pull "${S[@]}" --platform linux/s390x --oci "$BB_TMP/o2c" "$H/$PROJ/multi:v1"
check_eq "index: a platform the index lacks fails" "$PRC" 1
check_contains "index: the error lists what the index has" "$(cat "$BB_TMP/err")" "no manifest for linux/s390x"

# --- by digest
pull "${S[@]}" --oci "$BB_TMP/o3" "$H/$PROJ/single@$SINGLE"
check_eq "by digest: exit 0 and digest" "$PRC:$(cat "$BB_TMP/out")" "0:$SINGLE"
check_eq "by digest: layout names the pinned manifest" "$(layout_top "$BB_TMP/o3")" "$SINGLE"
pull "${S[@]}" --oci "$BB_TMP/o3b" "$H/$PROJ/single@sha256:$(printf '%064d' 0)"
check_eq "by digest: an unknown digest fails" "$PRC" 1
check_contains "by digest: the error says manifest unknown" "$(cat "$BB_TMP/err")" "not found"

# --- zstd layer
if [ $zstd_ok = 1 ]; then
    ZSTD=$(cat "$BB_TMP/zstd.d")
    pull "${S[@]}" --oci "$BB_TMP/o4" "$H/$PROJ/zstd:v1"
    check_eq "zstd image: exit 0 and digest" "$PRC:$(cat "$BB_TMP/out")" "0:$ZSTD"
    check_eq "zstd image: layer media type kept" \
        "$(jq -r '.layers[0].mediaType' "$BB_TMP/o4/blobs/sha256/${ZSTD#sha256:}")" \
        application/vnd.oci.image.layer.v1.tar+zstd
    L0=$(jq -r '.layers[0].digest' "$BB_TMP/o4/blobs/sha256/${ZSTD#sha256:}")
    if zstd -dc "$BB_TMP/o4/blobs/sha256/${L0#sha256:}" 2>/dev/null | tar -tf - | grep -q berth-platform; then
        ok "zstd image: the layer decompresses to its tar"
    else
        not_ok "zstd image: the layer decompresses to its tar"
    fi
else
    skip "zstd layer" "SKIP: zstd not installed"
fi

# --- a wrong credential: clear error naming source and user, never the password
pull --secret "$BB_TMP/wrong.yaml" --oci "$BB_TMP/o5" "$H/$PROJ/single:v1"
check_eq "wrong credential: exit 1" "$PRC" 1
if grep -q "not authorized; tried secret wrong-pull (file .*wrong.yaml.*(user $ADMIN_USER): .*refused the credentials" "$BB_TMP/err"; then
    ok "wrong credential: the error names the secret and the user"
else
    not_ok "wrong credential: the error names the secret and the user" && pull_diag
fi
# the wrong one first, then the right one: the next matching credential is tried
pull --secret "$BB_TMP/wrong.yaml" --secret "$BB_TMP/secret.yaml" --oci "$BB_TMP/o6" "$H/$PROJ/single:v1"
check_eq "wrong then right Secret: exit 0" "$PRC:$(cat "$BB_TMP/out")" "0:$SINGLE"
check_contains "wrong then right Secret: the refused one is reported" "$(cat "$BB_TMP/err")" \
    "refused"
pull --oci "$BB_TMP/o7" "$H/$PROJ/single:v1"
check_eq "anonymous on a private project: exit 1" "$PRC" 1
check_contains "anonymous: told what was tried" "$(cat "$BB_TMP/err")" "tried anonymous"
pull --oci "$BB_TMP/o7b" "$H/library/single:v1"
check_eq "anonymous on the private library project: exit 1" "$PRC:$(cat "$BB_TMP/out")" "1:"
check_contains "anonymous on library: told what was tried" "$(cat "$BB_TMP/err")" "tried anonymous"

# --- docker-archive, loaded by podman
pull "${S[@]}" --tar "$BB_TMP/img.tar" "$H/$PROJ/single:v1"
check_eq "docker-archive: exit 0, work dir removed" \
    "$PRC:$(test -e "$BB_TMP/img.tar.partial.d" && echo left)" "0:"
check_eq "docker-archive: manifest.json names the image" \
    "$(tar -xOf "$BB_TMP/img.tar" manifest.json 2>/dev/null | jq -r '.[0].RepoTags[0]')" "$H/$PROJ/single:v1"
if command -v podman >/dev/null 2>&1; then
    PR=(podman --root "$BB_TMP/podman/root" --runroot "$BB_TMP/podman/run" --storage-driver vfs)
    if "${PR[@]}" load -i "$BB_TMP/img.tar" >"$BB_TMP/podman.out" 2>&1 &&
        grep -q "Loaded image: $H/$PROJ/single:v1" "$BB_TMP/podman.out"; then
        ok "podman load reads the docker-archive and names the image"
        check_eq "podman image id is the pulled config's digest" \
            "$("${PR[@]}" image inspect --format '{{.Id}}' "$H/$PROJ/single:v1" 2>/dev/null)" \
            "$(jq -r .config.digest "$BB_TMP/o1/blobs/sha256/${SINGLE#sha256:}" | cut -d: -f2)"
    else
        not_ok "podman load reads the docker-archive" "$(tail -n 10 "$BB_TMP/podman.out")"
    fi
    "${PR[@]}" system reset -f >/dev/null 2>&1 || true
else
    skip "podman load" "SKIP: podman not installed"
fi

if grep -rq -- "$ADMIN_PASS\|Wrong-pass-999" "$BB_TMP/err" "$BB_TMP/out"; then
    not_ok "no password printed"
else
    ok "no password printed"
fi

finish
