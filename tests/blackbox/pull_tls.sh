#!/usr/bin/env bash
# pull_tls.sh - `berth pull` against a TLS registry (distribution 2.8 with http.tls): a throwaway
# CA and a server certificate for IP:127.0.0.1 made here with openssl. Checks that verification
# is on by default (an unknown CA fails with a clear error and no retries), that --ca-file makes
# it pass, that --insecure passes without the CA, that a certificate for another name is refused
# even with the right CA, and that --plain-http against the TLS port (and TLS against a plain
# port) fail with a message saying which flag is wrong.
. "$(dirname "$0")/lib_pull.sh"

need docker-registry skopeo openssl python3 curl jq

# --- a CA and a server certificate signed by it; a second cert for the wrong name
P=$PL_TMP/pki
mkdir -p "$P"
mk_pki() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=berth-test-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -keyout "$P/ca.key" -out "$P/ca.pem" &&
        openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$P/srv.key" -out "$P/srv.csr" &&
        printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$P/srv.ext" &&
        openssl x509 -req -in "$P/srv.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
            -days 2 -extfile "$P/srv.ext" -out "$P/srv.pem" &&
        openssl req -newkey rsa:2048 -nodes -subj /CN=other.example -keyout "$P/other.key" -out "$P/other.csr" &&
        printf 'subjectAltName=DNS:other.example\nextendedKeyUsage=serverAuth\n' >"$P/other.ext" &&
        openssl x509 -req -in "$P/other.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
            -days 2 -extfile "$P/other.ext" -out "$P/other.pem"
}
if mk_pki >"$P/log" 2>&1; then ok "throwaway CA and server certificate (SAN IP:127.0.0.1)"; else
    not_ok "openssl makes the CA" "$(tail -n 5 "$P/log")"
    finish
fi

REG_TLS_CERT=$P/srv.pem REG_TLS_KEY=$P/srv.key REG_TLS_CA=$P/ca.pem reg_start tls "" ||
    { not_ok "TLS registry starts"; finish; }
H=$REG_HOST
# its name does not match, so readiness is polled without verification (empty REG_TLS_CA)
REG_TLS_CERT=$P/other.pem REG_TLS_KEY=$P/other.key REG_TLS_CA="" reg_start tlsother "" ||
    { not_ok "second TLS registry (wrong name) starts"; finish; }
H2=$REG_HOST
reg_start plain "" || { not_ok "plain registry starts"; finish; }
HP=$REG_HOST

python3 "$FIX/mkimage.py" "$PL_TMP/img" v1 --layers 2 --seed 21 >"$PL_TMP/img.d"
WANT=$(cat "$PL_TMP/img.d")
for h in "$H" "$H2" "$HP"; do
    push "$PL_TMP/img:v1" "$h/test/tls:v1" || not_ok "skopeo push to $h"
done
check_eq "curl verifies the registry with the CA" \
    "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$P/ca.pem" "https://$H/v2/")" 200

run() { # ARGS...: pull; stdout/stderr to $PL_TMP/out, $PL_TMP/err; status in RC
    "$BERTH" pull "$@" >"$PL_TMP/out" 2>"$PL_TMP/err"
    RC=$?
}
diag() { printf 'exit %s\n' "$RC"; tail -n 8 "$PL_TMP/err"; }

# 1. default: verification on, the CA is unknown
start=$SECONDS
run --backoff-ms 1000 --oci "$PL_TMP/o1" "$H/test/tls:v1"
took=$((SECONDS - start))
check_eq "unknown CA: exit 1" "$RC" 1
if grep -q "TLS certificate not trusted; add its CA with --ca-file or use --insecure (" "$PL_TMP/err"; then
    ok "unknown CA: the error says the certificate is not trusted and what to do"
else
    not_ok "unknown CA: clear error" "$(diag)"
fi
if [ "$took" -lt 3 ]; then ok "unknown CA: not retried (${took}s)"; else not_ok "unknown CA: not retried" "took ${took}s"; fi
check_eq "unknown CA: no blob written" "$(find "$PL_TMP/o1/blobs/sha256" -type f 2>/dev/null | wc -l)" 0

# 2. --ca-file
run --ca-file "$P/ca.pem" --oci "$PL_TMP/o2" "$H/test/tls:v1"
check_eq "--ca-file: exit 0 and digest" "$RC:$(cat "$PL_TMP/out")" "0:$WANT"
check_eq "--ca-file: skopeo reads the layout" \
    "$(skopeo inspect "oci:$PL_TMP/o2:v1" 2>/dev/null | jq -r .Digest)" "$WANT"
run --ca-file "$PL_TMP/no-such-ca.pem" --oci "$PL_TMP/o2b" "$H/test/tls:v1"
check_eq "--ca-file of a missing file: exit 1" "$RC" 1
if grep -q -- "--ca-file" "$PL_TMP/err"; then ok "--ca-file of a missing file: the error names --ca-file"; else
    not_ok "--ca-file of a missing file: the error names --ca-file" "$(diag)"
fi

# 3. --insecure
run --insecure --oci "$PL_TMP/o3" "$H/test/tls:v1"
check_eq "--insecure without the CA: exit 0 and digest" "$RC:$(cat "$PL_TMP/out")" "0:$WANT"

# 4. right CA, wrong name: still refused; --insecure accepts it
run --ca-file "$P/ca.pem" --oci "$PL_TMP/o4" "$H2/test/tls:v1"
check_eq "certificate for another name: exit 1 even with the CA" "$RC" 1
if grep -q "TLS certificate not trusted; add its CA with --ca-file or use --insecure (" \
        "$PL_TMP/err"; then
    ok "certificate for another name: the error says why"
else
    not_ok "certificate for another name: the error says why" "$(diag)"
fi
run --insecure --oci "$PL_TMP/o4b" "$H2/test/tls:v1"
check_eq "certificate for another name with --insecure: exit 0" "$RC:$(cat "$PL_TMP/out")" "0:$WANT"

# 5. --plain-http against the TLS port
run --plain-http --oci "$PL_TMP/o5" "$H/test/tls:v1"
check_eq "--plain-http against a TLS port: exit 1" "$RC" 1
if grep -q "speaks TLS on this port; drop --plain-http" "$PL_TMP/err"; then
    ok "--plain-http against a TLS port: the error says to drop --plain-http"
else
    not_ok "--plain-http against a TLS port: clear error" "$(diag)"
fi

# 6. TLS (the default) against a plain-HTTP port
start=$SECONDS
run --backoff-ms 1000 --oci "$PL_TMP/o6" "$HP/test/tls:v1"
took=$((SECONDS - start))
check_eq "TLS against a plain-HTTP port: exit 1" "$RC" 1
if grep -q "does not speak TLS on this port (plain HTTP? use --plain-http)" "$PL_TMP/err"; then
    ok "TLS against a plain-HTTP port: the error suggests --plain-http"
else
    not_ok "TLS against a plain-HTTP port: clear error" "$(diag)"
fi
if [ "$took" -lt 3 ]; then ok "TLS against a plain port: not retried (${took}s)"; else not_ok "TLS against a plain port: not retried" "took ${took}s"; fi
run --plain-http --oci "$PL_TMP/o7" "$HP/test/tls:v1"
check_eq "--plain-http against the plain port: exit 0" "$RC:$(cat "$PL_TMP/out")" "0:$WANT"

finish
