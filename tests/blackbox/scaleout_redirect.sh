#!/usr/bin/env bash
# scaleout_redirect.sh - blob GETs answered with 307 to a presigned URL of the object store, on
# the scale-out stack with redirects on, and real clients following them:
#   - raw: 307 with a presigned Location on radosgw, whose bytes are the blob, fetched without the
#     registry's credentials; HEAD redirects too; the URL does not work for another blob;
#   - skopeo, podman, ctr (a private containerd) and docker (a private dockerd) pull an image
#     through haproxy, every blob arrives intact, and each pull's blob GETs were answered 307.
# A client that is not installed, or a daemon that cannot start here, is a skip, not a pass.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_scaleout.sh"

# the replicas' redirect setting (storage/blob_s3: GET/HEAD of a blob answer 307)
cat >"$BB_TMP/redirect.conf" <<EOF
${SCALEOUT_REDIRECT_CONF:-redirect = true}
EOF
export SCALEOUT_CONF=$BB_TMP/redirect.conf
so_up
S3_ENDPOINT=$(so_env S3_ENDPOINT)
REPO=library/$(rand_name redir)

# an image of two layers (one of 2 MiB), pushed with skopeo
mk_oci_layout "$BB_TMP/layout" t1 /bin/busybox
if skopeo_push "$BB_TMP/layout" t1 "$REPO:t1" 2>"$BB_TMP/sk.err"; then
    ok "skopeo push through haproxy"
else
    not_ok "skopeo push through haproxy" "$(tail -n 5 "$BB_TMP/sk.err")"
    so_down
    finish
fi
MDIG=$LAYOUT_MANIFEST_DIGEST
LAYER=$(jq -r '.layers[0].digest' "$BB_TMP/layout/blobs/sha256/${MDIG#sha256:}")
LAYER_FILE=$BB_TMP/layout/blobs/sha256/${LAYER#sha256:}

# --- raw -------------------------------------------------------------------------------------
req GET "/v2/$REPO/blobs/$LAYER"
check_status "blob GET through haproxy -> 307" 307
LOC=$(hdr Location)
check_match "Location is a presigned URL on the object store" "$LOC" \
    "^${S3_ENDPOINT}/.*X-Amz-Signature=[0-9a-f]{64}"
R_DESC="GET (presigned)"
curl -sS -o "$BB_TMP/via-s3" "$LOC"
check_true "the presigned URL serves the blob without credentials, byte-identical" \
    cmp -s "$BB_TMP/via-s3" "$LAYER_FILE"
req HEAD "/v2/$REPO/blobs/$LAYER"
check_match "blob HEAD -> 307 too (or 200 with its size)" "$R_STATUS" '^(200|307)$'
OTHER=$(jq -r '.config.digest' "$BB_TMP/layout/blobs/sha256/${MDIG#sha256:}")
BAD=$(printf '%s' "$LOC" | sed "s/${LAYER#sha256:}/${OTHER#sha256:}/g")
code=$(curl -s -o /dev/null -w '%{http_code}' "$BAD")
check_eq "the signature does not open another blob" "$code" 403
req_anon GET "/v2/$REPO/blobs/$LAYER"
check_status "no redirect without credentials (private project)" 401

# redirects_since MARK: blob GETs answered 307 in the replicas' logs after line counts MARK
log_mark() { cat "$SO_DIR"/r*/log | wc -l | tr -d ' '; }
redirects_since() {
    cat "$SO_DIR"/r*/log | tail -n +"$(($1 + 1))" | grep -c "GET /v2/$REPO/blobs/sha256:[0-9a-f]* 307"
}

# --- skopeo ----------------------------------------------------------------------------------
M=$(log_mark)
if skopeo_pull "$REPO:t1" "$BB_TMP/sk-back" t1 2>"$BB_TMP/sk.err" && layout_blobs_ok "$BB_TMP/sk-back" &&
    cmp -s "$BB_TMP/sk-back/blobs/sha256/${LAYER#sha256:}" "$LAYER_FILE"; then
    ok "skopeo pulls through the redirect, blobs intact"
else
    not_ok "skopeo pulls through the redirect" "$(tail -n 5 "$BB_TMP/sk.err")"
fi
check_true "skopeo's blob GETs were redirected" test "$(redirects_since "$M")" -ge 2

# --- podman ----------------------------------------------------------------------------------
if command -v podman >/dev/null 2>&1; then
    PM=(podman --root "$BB_TMP/pm/root" --runroot "$BB_TMP/pm/run" --storage-driver vfs
        --cgroup-manager cgroupfs --events-backend none)
    M=$(log_mark)
    if timeout 300 "${PM[@]}" pull -q --tls-verify=false --creds "$ADMIN_USER:$ADMIN_PASS" \
        "$SRV_HOSTPORT/$REPO:t1" >"$BB_TMP/pm.out" 2>"$BB_TMP/pm.err"; then
        got=$("${PM[@]}" image inspect --format '{{.Digest}}' "$SRV_HOSTPORT/$REPO:t1" 2>/dev/null)
        check_eq "podman pulls through the redirect, same manifest digest" "$got" "$MDIG"
        check_true "podman's blob GETs were redirected" test "$(redirects_since "$M")" -ge 2
    else
        not_ok "podman pulls through the redirect" "$(tail -n 5 "$BB_TMP/pm.err")"
    fi
else
    skip "podman pull" "podman not installed"
fi

# --- containerd (ctr) ------------------------------------------------------------------------
CT=$BB_TMP/ctrd
CT_PID=""
DK_PID=""
clients_cleanup() {
    [ -n "$DK_PID" ] && kill -TERM "$DK_PID" 2>/dev/null && bb_wait_exit "$DK_PID" 20
    [ -n "$CT_PID" ] && kill -TERM "$CT_PID" 2>/dev/null && bb_wait_exit "$CT_PID" 20
    so_cleanup
}
trap clients_cleanup EXIT
if command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1; then
    mkdir -p "$CT"
    cat >"$CT/config.toml" <<EOF
version = 2
root = "$CT/root"
state = "$CT/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$CT/c.sock"
[ttrpc]
  address = "$CT/c.sock.ttrpc"
[debug]
  address = "$CT/debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$CT/opt"
EOF
    containerd --config "$CT/config.toml" >"$CT/log" 2>&1 &
    CT_PID=$!
    ct() { timeout 300 ctr -a "$CT/c.sock" -n bb "$@"; }
    for _ in $(seq 1 100); do ct version >/dev/null 2>&1 && break; sleep 0.1; done
    if ct version >/dev/null 2>&1; then
        M=$(log_mark)
        if ct images pull --plain-http --user "$ADMIN_USER:$ADMIN_PASS" --snapshotter native \
            "$SRV_HOSTPORT/$REPO:t1" >"$BB_TMP/ct.out" 2>&1; then
            got=$(ct images ls | awk -v r="$SRV_HOSTPORT/$REPO:t1" '$1 == r {print $3}')
            check_eq "ctr pulls through the redirect, same manifest digest" "$got" "$MDIG"
            ct content get "$LAYER" >"$BB_TMP/ct-layer" 2>/dev/null
            check_true "ctr's layer byte-identical" cmp -s "$BB_TMP/ct-layer" "$LAYER_FILE"
            check_true "ctr's blob GETs were redirected" test "$(redirects_since "$M")" -ge 2
        else
            not_ok "ctr pulls through the redirect" "$(tail -n 5 "$BB_TMP/ct.out")"
        fi
    else
        skip "ctr pull" "containerd did not start here: $(tail -n 1 "$CT/log" | cut -c1-120)"
    fi
else
    skip "ctr pull" "containerd not installed"
fi

# --- docker ----------------------------------------------------------------------------------
DK=$BB_TMP/docker
if command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1; then
    mkdir -p "$DK/data" "$DK/exec" "$DK/cfg"
    dargs=(--data-root "$DK/data" --exec-root "$DK/exec" -H "unix://$DK/d.sock" --pidfile "$DK/d.pid"
        --iptables=false --ip-forward=false --ip-masq=false --bridge=none --storage-driver vfs
        --insecure-registry "$SRV_HOSTPORT")
    [ -n "$CT_PID" ] && dargs+=(--containerd "$CT/c.sock")
    dockerd "${dargs[@]}" >"$DK/log" 2>&1 &
    DK_PID=$!
    dk() { DOCKER_HOST=unix://$DK/d.sock DOCKER_CONFIG=$DK/cfg timeout 300 docker "$@"; }
    for _ in $(seq 1 150); do dk version >/dev/null 2>&1 && break; sleep 0.2; done
    if dk version >/dev/null 2>&1; then
        M=$(log_mark)
        if printf '%s' "$ADMIN_PASS" | dk login -u "$ADMIN_USER" --password-stdin "$SRV_HOSTPORT" \
            >/dev/null 2>&1 && dk pull -q "$SRV_HOSTPORT/$REPO:t1" >"$BB_TMP/dk.out" 2>&1; then
            got=$(dk image inspect --format '{{index .RepoDigests 0}}' "$SRV_HOSTPORT/$REPO:t1")
            check_eq "docker pulls through the redirect, same manifest digest" "${got##*@}" "$MDIG"
            check_true "docker's blob GETs were redirected" test "$(redirects_since "$M")" -ge 2
        else
            not_ok "docker pulls through the redirect" "$(tail -n 5 "$BB_TMP/dk.out")"
        fi
    else
        skip "docker pull" "dockerd did not start here: $(grep -iE 'level=(error|fatal)' "$DK/log" | tail -n 1 | cut -c1-120)"
    fi
else
    skip "docker pull" "docker not installed"
fi

so_down
finish
