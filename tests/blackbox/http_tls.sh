#!/usr/bin/env bash
# http_tls.sh - TLS served by Berth itself (--tls-cert/--tls-key): a self-signed certificate
#   made here with openssl; curl --cacert (and refused without it); the token realm says https
#   and the session cookie is Secure with no proxy header; skopeo and podman push and pull with
#   --tls-verify=false; a plain-HTTP request to the TLS port does not get an answer served; a
#   SIGHUP reload to a new certificate: the served fingerprint changes, a keep-alive connection
#   opened before the reload keeps working, new connections verify against the new certificate;
#   a reload to an unusable certificate keeps the old one serving.
. "$(dirname "$0")/lib.sh"

if ! command -v openssl >/dev/null 2>&1; then
    skip "TLS suite" "openssl not installed"
    finish
fi

# mkcert NAME: a self-signed certificate for 127.0.0.1 in $BB_TMP/NAME.crt and NAME.key
mkcert() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
        -addext "subjectAltName=IP:127.0.0.1" -keyout "$BB_TMP/$1.key" \
        -out "$BB_TMP/$1.crt" >/dev/null 2>&1
}
# fp_file FILE / fp_served: SHA-256 fingerprints of a certificate file and of what the server
# presents now
fp_file() { openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/.*=//'; }
fp_served() {
    openssl s_client -connect "$SRV_HOSTPORT" </dev/null 2>/dev/null |
        openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//'
}

check_true "make two self-signed certificates" eval 'mkcert one && mkcert two'
cp "$BB_TMP/one.crt" "$BB_TMP/served.crt"
cp "$BB_TMP/one.key" "$BB_TMP/served.key"
chmod 600 "$BB_TMP/served.key"
# both CAs in one bundle for the client that outlives the reload
cat "$BB_TMP/one.crt" "$BB_TMP/two.crt" >"$BB_TMP/both.crt"

BB_SCHEME=https
BB_CACERT=$BB_TMP/one.crt
BB_SERVE_ARGS="--tls-cert $BB_TMP/served.crt --tls-key $BB_TMP/served.key"
srv_start

# --- curl ----------------------------------------------------------------------------------------
req GET /v2/
check_status "curl --cacert: GET /v2/ over TLS -> 200" 200
check_hdr "  API version header" Docker-Distribution-Api-Version registry/2.0
check_false "curl without the CA refuses the certificate" curl -sf -o /dev/null "$SRV_URL/v2/"
req_anon GET /v2/
check_err "anonymous -> 401" 401 UNAUTHORIZED
check_hdr_match "token realm is https" WWW-Authenticate \
    "^Bearer realm=\"https://$SRV_HOSTPORT/service/token\""
req_anon GET "/service/token?service=berth-registry&scope=registry:catalog:*" \
    -u "$ADMIN_USER:$ADMIN_PASS"
check_status "token endpoint over TLS -> 200" 200
req_anon POST /c/login --data-urlencode "principal=$ADMIN_USER" --data-urlencode "password=$ADMIN_PASS"
check_status "web login over TLS -> 200" 200
check_contains "  session cookie is Secure" "$(hdr Set-Cookie)" "Secure"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://$SRV_HOSTPORT/v2/") || true
check_ne "plain HTTP on the TLS port gets no registry answer" "$code" 200
check_eq "served certificate is the first one" "$(fp_served)" "$(fp_file "$BB_TMP/one.crt")"

# --- real clients ------------------------------------------------------------------------------
repo=library/$(rand_name tls)
if command -v skopeo >/dev/null 2>&1; then
    mk_oci_layout "$BB_TMP/lay" v1
    check_true "skopeo push over TLS (--dest-tls-verify=false)" timeout 120 skopeo \
        --insecure-policy copy --quiet --dest-tls-verify=false \
        --dest-creds "$ADMIN_USER:$ADMIN_PASS" "oci:$BB_TMP/lay:v1" "docker://$SRV_HOSTPORT/$repo:v1"
    check_true "skopeo pull over TLS (--src-tls-verify=false)" timeout 120 skopeo \
        --insecure-policy copy --quiet --src-tls-verify=false \
        --src-creds "$ADMIN_USER:$ADMIN_PASS" "docker://$SRV_HOSTPORT/$repo:v1" "oci:$BB_TMP/back:v1"
    check_eq "  the manifest pulled back is the one pushed" \
        "$(jq -r '.manifests[0].digest' "$BB_TMP/back/index.json")" \
        "$(jq -r '.manifests[0].digest' "$BB_TMP/lay/index.json")"
else
    skip "skopeo push and pull over TLS" "skopeo not installed"
fi
if command -v podman >/dev/null 2>&1 && command -v skopeo >/dev/null 2>&1; then
    PODMAN=(podman --root "$BB_TMP/podman-root" --runroot "$BB_TMP/podman-run" --storage-driver vfs)
    check_true "podman pull over TLS (--tls-verify=false)" timeout 180 "${PODMAN[@]}" pull -q \
        --tls-verify=false --creds "$ADMIN_USER:$ADMIN_PASS" "$SRV_HOSTPORT/$repo:v1"
    check_true "podman push over TLS (--tls-verify=false)" timeout 180 "${PODMAN[@]}" push -q \
        --tls-verify=false --creds "$ADMIN_USER:$ADMIN_PASS" "$SRV_HOSTPORT/$repo:v1" \
        "docker://$SRV_HOSTPORT/$repo:v2"
    req HEAD "/v2/$repo/manifests/v2" "${ACCEPT_ALL[@]}"
    check_status "  the pushed tag is there" 200
    "${PODMAN[@]}" rmi -a -f >/dev/null 2>&1
    rm -rf "$BB_TMP/podman-root" 2>/dev/null
else
    skip "podman pull and push over TLS" "podman or skopeo not installed"
fi

# --- SIGHUP reload ---------------------------------------------------------------------------------
# keep.py: one keep-alive TLS connection; a request, then (on a line on stdin) another on the same
# connection; prints both statuses and whether the socket was the same
mkfifo "$BB_TMP/go"
cat >"$BB_TMP/keep.py" <<'EOF'
import http.client, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx, timeout=30)
c.request("GET", "/api/v2.0/ping")
r = c.getresponse(); r.read()
first, sock = r.status, c.sock
print("first", first, flush=True)
open(sys.argv[3]).readline()
c.request("GET", "/api/v2.0/ping")
r = c.getresponse(); r.read()
print("second", r.status, "same" if c.sock is sock else "new", flush=True)
EOF
: >"$BB_TMP/keep.out"
python3 "$BB_TMP/keep.py" "$SRV_PORT" "$BB_TMP/both.crt" "$BB_TMP/go" >"$BB_TMP/keep.out" 2>&1 &
keep_pid=$!
deadline=$((SECONDS + 20))
until grep -q first "$BB_TMP/keep.out" || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
check_contains "keep-alive connection before the reload" "$(cat "$BB_TMP/keep.out")" "first 200"

cp "$BB_TMP/two.crt" "$BB_TMP/served.crt"
cp "$BB_TMP/two.key" "$BB_TMP/served.key"
kill -HUP "$SRV_PID"
want=$(fp_file "$BB_TMP/two.crt")
deadline=$((SECONDS + 20))
until [ "$(fp_served)" = "$want" ] || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
check_eq "after SIGHUP the served certificate is the new one" "$(fp_served)" "$want"
check_true "  the server logged the reload" grep -q "TLS certificate reloaded" "$SRV_LOG"
check_true "  the listener was never closed (same PID, port still answering)" kill -0 "$SRV_PID"

echo go >"$BB_TMP/go"
wait "$keep_pid"
check_contains "the connection opened before the reload keeps working" \
    "$(cat "$BB_TMP/keep.out")" "second 200 same"

BB_CACERT=$BB_TMP/two.crt
req GET /v2/
check_status "new connections verify against the new certificate -> 200" 200
check_false "  and no longer against the old one" curl -sf -o /dev/null --cacert "$BB_TMP/one.crt" \
    "$SRV_URL/v2/"

# a reload to a certificate that does not load keeps the current one
echo "not a certificate" >"$BB_TMP/served.crt"
kill -HUP "$SRV_PID"
deadline=$((SECONDS + 20))
until grep -q "TLS reload failed" "$SRV_LOG" || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
check_true "a bad certificate on reload is refused and logged" grep -q "TLS reload failed" "$SRV_LOG"
check_eq "  the previous certificate keeps serving" "$(fp_served)" "$want"
req GET /v2/
check_status "  requests still answered -> 200" 200

# many reloads in a row, with requests between them
cp "$BB_TMP/two.crt" "$BB_TMP/served.crt"
fails=0
for i in 1 2 3 4 5; do
    kill -HUP "$SRV_PID"
    req GET /v2/
    [ "$R_STATUS" = 200 ] || fails=$((fails + 1))
done
check_eq "five reloads with requests between them: all answered" "$fails" 0

srv_stop
finish
