#!/usr/bin/env bash
# http_trust.sh - what only a running server shows of the HTTP layer's defences:
#   - a TLS ClientHello on the plain port gets a complete HTTP 400, 100 times out of 100
#     (lingering close: no reset before the client read the answer);
#   - framing refused before any handler: HTTP/1.1 without Host, disagreeing Content-Length
#     headers, Content-Length with Transfer-Encoding;
#   - spec codes for bad paths: a NUL in the name, an upload id with path characters, an
#     unknown endpoint, a manifest reference that is neither tag nor digest, OCI-Tag headers;
#   - nothing from a request reaches the log unescaped (CR/LF in a path, a refused login name);
#   - X-Forwarded-* believed only from trusted_proxies (127.0.0.2 here; curl --interface);
#   - the cap on upload sessions per repository (429 TOOMANYREQUESTS, Retry-After).
. "$(dirname "$0")/lib.sh"

cat >"$BB_TMP/trust.conf" <<'EOF'
trusted_proxies = 127.0.0.2
upload_sessions_max = 3
EOF
BB_SERVE_ARGS="--config $BB_TMP/trust.conf"
srv_start

# raw.py PORT: sends stdin as is on one connection, prints what comes back (until EOF)
cat >"$BB_TMP/raw.py" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.stdin.buffer.read())
out = b""
try:
    while True:
        c = s.recv(65536)
        if not c:
            break
        out += c
except OSError as e:
    out += b"\n<" + repr(e).encode() + b">"
sys.stdout.write(out.decode("latin1"))
EOF
raw() { printf "$1" | python3 "$BB_TMP/raw.py" "$SRV_PORT"; }

# --- a TLS ClientHello on the plain-HTTP port ----------------------------------------------------
cat >"$BB_TMP/hello.py" <<'EOF'
import socket, ssl, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
good, bad = 0, []
for i in range(n):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx.wrap_bio(inb, outb, server_hostname="localhost")
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(outb.read())
    data = b""
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
    except OSError as e:
        data += repr(e).encode()
    s.close()
    head, sep, body = data.partition(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    if data.startswith(b"HTTP/1.1 400 ") and sep and length is not None and len(body) == length:
        good += 1
    else:
        bad.append(data[:40])
print(good)
for b in bad[:3]:
    print("#", b, file=sys.stderr)
EOF
got=$(python3 "$BB_TMP/hello.py" "$SRV_PORT" 100 2>"$BB_TMP/hello.err")
check_eq "TLS ClientHello on the plain port: a complete 400, 100 of 100" "$got" 100
[ "$got" = 100 ] || bb_diag "$(cat "$BB_TMP/hello.err")"
check_true "the server still answers afterwards" curl -sf -o /dev/null "$SRV_URL/api/v2.0/ping"

# --- framing ---------------------------------------------------------------------------------
out=$(raw 'GET /v2/ HTTP/1.1\r\n\r\n')
check_match "HTTP/1.1 without Host -> 400" "$out" '^HTTP/1.1 400 '
check_contains "  says why" "$out" '"message":"HTTP/1.1 request without Host"'
out=$(raw 'GET /api/v2.0/ping HTTP/1.0\r\n\r\n')
check_match "HTTP/1.0 without Host is fine -> 200" "$out" '^HTTP/1.1 200 '
out=$(raw 'PUT /v2/library/x/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 5\r\n\r\nabcde')
check_match "two Content-Length headers that disagree -> 400" "$out" '^HTTP/1.1 400 '
check_contains "  says why" "$out" 'conflicting Content-Length headers'
check_contains "  and closes the connection" "$out" 'Connection: close'
out=$(raw 'GET /api/v2.0/ping HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
check_match "two equal Content-Length headers are fine -> 200" "$out" '^HTTP/1.1 200 '
out=$(raw 'POST /v2/library/x/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
check_match "Content-Length with Transfer-Encoding -> 400" "$out" '^HTTP/1.1 400 '

# --- spec codes for bad paths ------------------------------------------------------------------
req GET "/v2/library%00evil/app/manifests/v1"
check_err "a NUL in the repository name -> 400 NAME_INVALID" 400 NAME_INVALID
req GET "/v2/library/app%00/tags/list"
check_err "a NUL at the end of the name -> 400 NAME_INVALID" 400 NAME_INVALID
req PATCH "/v2/library/app/blobs/uploads/..%2F..%2F..%2Fetc" --data-binary x
check_err "an upload id with path characters -> 404 BLOB_UPLOAD_UNKNOWN" 404 BLOB_UPLOAD_UNKNOWN
req GET "/v2/library/app/blobs/uploads/..%2F.."
check_err "  GET too" 404 BLOB_UPLOAD_UNKNOWN
req GET "/v2/library/app/no/such/endpoint"
check_err "an unknown /v2/ endpoint -> 404 UNSUPPORTED" 404 UNSUPPORTED
check_false "  never a generic NOT_FOUND" grep -q NOT_FOUND "$R_BODY"
req GET "/v2/library/app/manifests/-not-a-tag"
check_err "manifest GET of an invalid reference -> 404 MANIFEST_UNKNOWN" 404 MANIFEST_UNKNOWN
req HEAD "/v2/library/app/manifests/sha256:short"
check_status "manifest HEAD of an invalid digest -> 404" 404
req PUT "/v2/library/app/manifests/-not-a-tag" -H "Content-Type: $MT_OCI_MANIFEST" --data-binary '{}'
check_err "manifest PUT with an invalid tag -> 400 TAG_INVALID" 400 TAG_INVALID

repo=library/$(rand_name trust)
mk_image "$BB_TMP/img" >/dev/null
push_blob "$repo" "$BB_TMP/img/config.json"
push_blob "$repo" "$BB_TMP/img/layer.tar.gz"
req PUT "/v2/$repo/manifests/$IMG_DIGEST?tag=a&tag=b" -H "Content-Type: $MT_OCI_MANIFEST" \
    --data-binary "@$BB_TMP/img/manifest.json"
check_status "PUT by digest with ?tag=a&tag=b -> 201" 201
check_eq "  one OCI-Tag header per tag" \
    "$(grep -i '^OCI-Tag:' "$R_HDR" | tr -d '\r' | sed 's/^[^:]*: *//' | tr '\n' ' ')" "a b "
req HEAD "/v2/$repo/manifests/b"
check_hdr "  tag b resolves to it" Docker-Content-Digest "$IMG_DIGEST"

# --- log injection -----------------------------------------------------------------------------
req_anon GET "/v2/library/x%0d%0a2026-01-01T00:00:00.000Z%20INFO%20forged/tags/list"
req_anon POST /c/login --data-urlencode "principal=SuperSecretPassw0rd!" \
    --data-urlencode "password=whatever"
check_status "a refused web login -> 401" 401
# the access log line is written when the request completes: poll for it
deadline=$((SECONDS + 10))
until grep -q 'web login refused' "$SRV_LOG" || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
check_false "CR/LF in a path does not start a log line" grep -q '^2026-01-01T00:00:00.000Z INFO' "$SRV_LOG"
check_true "  it is logged escaped" grep -q 'x\\x0d\\x0a2026-01-01' "$SRV_LOG"
check_false "a refused login name is not logged in full" grep -q 'SuperSecret' "$SRV_LOG"
check_true "  only a short prefix" grep -q 'web login refused for Sup\.\.\. ' "$SRV_LOG"

# --- X-Forwarded-* and trusted_proxies ----------------------------------------------------------
req_anon GET /v2/ -H "X-Forwarded-Proto: https" -H "X-Forwarded-Host: registry.example.com"
check_hdr_match "untrusted peer: X-Forwarded-* ignored in the realm" WWW-Authenticate \
    "^Bearer realm=\"http://$SRV_HOSTPORT/service/token\""
if curl -s -o /dev/null --interface 127.0.0.2 "$SRV_URL/api/v2.0/ping"; then
    req_anon GET /v2/ --interface 127.0.0.2 -H "X-Forwarded-Proto: https" \
        -H "X-Forwarded-Host: registry.example.com"
    check_hdr_match "trusted proxy (127.0.0.2): realm follows X-Forwarded-Proto and -Host" \
        WWW-Authenticate '^Bearer realm="https://registry.example.com/service/token"'
    req_anon POST /c/login --interface 127.0.0.2 -H 'X-Forwarded-Proto: https' \
        --data-urlencode "principal=$ADMIN_USER" --data-urlencode "password=$ADMIN_PASS"
    check_contains "trusted proxy says https: session cookie Secure" "$(hdr Set-Cookie)" "Secure"
else
    skip "trusted proxy checks: cannot send from 127.0.0.2"
fi
req_anon POST /c/login -H 'X-Forwarded-Proto: https' \
    --data-urlencode "principal=$ADMIN_USER" --data-urlencode "password=$ADMIN_PASS"
check_status "login from an untrusted peer -> 200" 200
check_false "  its X-Forwarded-Proto does not make the cookie Secure" grep -qi 'Set-Cookie:.*Secure' "$R_HDR"

# --- upload sessions per repository --------------------------------------------------------------
capped=library/$(rand_name cap)
for i in 1 2 3; do
    req POST "/v2/$capped/blobs/uploads/"
    check_status "upload session $i of 3 -> 202" 202
done
loc=$(hdr Location)
req POST "/v2/$capped/blobs/uploads/"
check_err "a 4th session with upload_sessions_max = 3 -> 429 TOOMANYREQUESTS" 429 TOOMANYREQUESTS
check_hdr "  with Retry-After" Retry-After 30
req POST "/v2/library/$(rand_name other)/blobs/uploads/"
check_status "another repository is not affected -> 202" 202
req DELETE "$loc"
check_status "cancel one session -> 204" 204
req POST "/v2/$capped/blobs/uploads/"
check_status "then a new one opens -> 202" 202

srv_stop
finish
