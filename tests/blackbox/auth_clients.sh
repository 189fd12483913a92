#!/usr/bin/env bash
# auth_clients.sh - real clients through the token flow: podman, skopeo and buildah login with a
# user and with a robot (wrong passwords rejected), podman pull with a developer's credentials
# and anonymously from a public project, refused anonymously from a private one, and ctr
# (containerd's authorizer, OAuth2 POST) fetches with a password, a robot secret and
# anonymously. Missing clients are skipped. Client state (auth files, storage, a private
# containerd) lives under $BB_TMP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_auth.sh"

srv_start
export REGISTRY_AUTH_FILE=$BB_TMP/auth.json
P=$(rand_name cp)
PUB=$(rand_name cpub)
check_true "user dave (developer of private P), public project PUB" \
    eval 'api_user dave Dave-Pass-1 && api_project "$P" false && api_project "$PUB" true &&
          api_member "$P" dave 2'
line=$(api_robot ci "$P" pull,push) || line=""
read -r _ RNAME RSEC <<<"$line"

for cli in podman skopeo buildah; do
    if ! command -v $cli >/dev/null 2>&1; then
        skip "$cli login" "$cli not installed"
        continue
    fi
    check_true "$cli login as a user" timeout 60 $cli login --tls-verify=false -u dave \
        -p Dave-Pass-1 "$SRV_HOSTPORT"
    check_false "$cli login with a wrong password fails" timeout 60 $cli login --tls-verify=false \
        -u dave -p wrong-Pass-1 "$SRV_HOSTPORT"
    check_true "$cli login as a robot" timeout 60 $cli login --tls-verify=false -u "$RNAME" \
        -p "$RSEC" "$SRV_HOSTPORT"
    check_false "$cli login as a robot with a wrong secret fails" timeout 60 $cli login \
        --tls-verify=false -u "$RNAME" -p wrong-Secret-1 "$SRV_HOSTPORT"
    timeout 30 $cli logout "$SRV_HOSTPORT" >/dev/null 2>&1
done

if command -v skopeo >/dev/null 2>&1 && command -v podman >/dev/null 2>&1; then
    mk_oci_layout "$BB_TMP/lay" v1 "$(command -v busybox 2>/dev/null || true)"
    check_true "skopeo push to P as the developer" skopeo --insecure-policy copy --quiet \
        --dest-tls-verify=false --dest-creds dave:Dave-Pass-1 "oci:$BB_TMP/lay:v1" \
        "docker://$SRV_HOSTPORT/$P/app:v1"
    check_true "skopeo push to PUB as admin" skopeo --insecure-policy copy --quiet \
        --dest-tls-verify=false --dest-creds "$ADMIN_USER:$ADMIN_PASS" "oci:$BB_TMP/lay:v1" \
        "docker://$SRV_HOSTPORT/$PUB/app:v1"
    PODMAN=(podman --root "$BB_TMP/podman-root" --runroot "$BB_TMP/podman-run" --storage-driver vfs)
    check_true "podman pull from P with the developer's credentials" timeout 120 "${PODMAN[@]}" \
        pull -q --tls-verify=false --creds dave:Dave-Pass-1 "$SRV_HOSTPORT/$P/app:v1"
    check_true "podman pull from P with the robot's credentials" timeout 120 "${PODMAN[@]}" \
        pull -q --tls-verify=false --creds "$RNAME:$RSEC" "$SRV_HOSTPORT/$P/app:v1"
    check_true "podman pull from PUB anonymously" timeout 120 "${PODMAN[@]}" pull -q \
        --tls-verify=false "$SRV_HOSTPORT/$PUB/app:v1"
    check_false "podman pull from P anonymously fails" timeout 120 "${PODMAN[@]}" pull -q \
        --tls-verify=false "$SRV_HOSTPORT/$P/app:v1"
    check_true "podman push to P with the robot" timeout 120 "${PODMAN[@]}" push -q \
        --tls-verify=false --creds "$RNAME:$RSEC" "$SRV_HOSTPORT/$P/app:v1" \
        "docker://$SRV_HOSTPORT/$P/app:v2"
    check_false "podman push to PUB anonymously fails" timeout 120 "${PODMAN[@]}" push -q \
        --tls-verify=false "$SRV_HOSTPORT/$P/app:v1" "docker://$SRV_HOSTPORT/$PUB/app:v2"
    "${PODMAN[@]}" rmi -a -f >/dev/null 2>&1
    rm -rf "$BB_TMP/podman-root" 2>/dev/null
else
    skip "podman pulls and pushes" "podman or skopeo not installed"
fi

# containerd: ctr fetches through containerd's authorizer (the OAuth2 POST to the realm first,
# with --user), against a private containerd started here and stopped by its PID
CTRD_PID=""
ctrd_stop() {
    [ -n "$CTRD_PID" ] || return 0
    kill "$CTRD_PID" 2>/dev/null
    bb_wait_exit "$CTRD_PID" 10 || kill -KILL "$CTRD_PID" 2>/dev/null
    CTRD_PID=""
}
trap 'ctrd_stop; bb_cleanup' EXIT
if command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1 &&
    command -v skopeo >/dev/null 2>&1; then
    C=$BB_TMP/ctrd
    mkdir -p "$C"
    printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' >"$C/config.toml"
    containerd --config "$C/config.toml" --root "$C/root" --state "$C/state" \
        --address "$C/c.sock" >"$C/log" 2>&1 &
    CTRD_PID=$!
    CTR=(ctr --address "$C/c.sock")
    deadline=$((SECONDS + 20))
    while ! "${CTR[@]}" version >/dev/null 2>&1 && [ $SECONDS -lt "$deadline" ]; do sleep 0.1; done
    if "${CTR[@]}" version >/dev/null 2>&1; then
        ok "private containerd runs"
        check_true "ctr fetch from P with the developer's password" timeout 120 "${CTR[@]}" \
            content fetch --plain-http --user dave:Dave-Pass-1 "$SRV_HOSTPORT/$P/app:v1"
        check_true "ctr fetch from P with the robot's secret" timeout 120 "${CTR[@]}" \
            content fetch --plain-http --user "$RNAME:$RSEC" "$SRV_HOSTPORT/$P/app:v1"
        check_false "ctr fetch from P with a wrong password fails" timeout 120 "${CTR[@]}" \
            content fetch --plain-http --user dave:wrong-Pass-1 "$SRV_HOSTPORT/$P/app:v1"
        check_false "ctr fetch from P anonymously fails" timeout 120 "${CTR[@]}" \
            content fetch --plain-http "$SRV_HOSTPORT/$P/app:v1"
        check_true "ctr fetch from PUB anonymously" timeout 120 "${CTR[@]}" \
            content fetch --plain-http "$SRV_HOSTPORT/$PUB/app:v1"
        check_true "containerd used the OAuth2 POST to the token service" \
            grep -a -q 'POST /service/token 200' "$SRV_LOG"
    else
        not_ok "private containerd runs" "$(tail -n 5 "$C/log")"
    fi
    ctrd_stop
else
    skip "ctr fetches" "containerd, ctr or skopeo not installed"
fi

srv_stop
finish
