#!/usr/bin/env bash
# api_session.sh - cookie sessions of the web UI: POST /c/login (form principal/password) sets
#   sid with HttpOnly, SameSite=Strict, Path=/ (and Secure behind a TLS proxy listed in
#   trusted_proxies), the session authenticates
#   /api/v2.0 calls, unsafe methods need X-Harbor-CSRF-Token (403 "CSRF token invalid" without
#   or with a wrong one), Basic callers need none, /c/log_out ends the session, failed logins
#   are 401 and audited, robots may not log in, an unknown cookie is anonymous.
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
API=/api/v2.0
J=(-H 'Content-Type: application/json')

# the "TLS proxy" below is this test itself, on loopback: trusted as such
printf 'trusted_proxies = 127.0.0.1\n' >"$BB_TMP/proxy.conf"
BB_SERVE_ARGS="--config $BB_TMP/proxy.conf"
srv_start

# login: status, cookie flags, CSRF token
req_anon POST /c/login --data-urlencode "principal=$ADMIN_USER" --data-urlencode "password=$ADMIN_PASS"
check_status "POST /c/login -> 200" 200
COOKIE=$(hdr Set-Cookie)
check_match "cookie is sid=<64 hex>" "$COOKIE" '^sid=[0-9a-f]{64};'
check_contains "cookie HttpOnly" "$COOKIE" "HttpOnly"
check_contains "cookie SameSite=Strict" "$COOKIE" "SameSite=Strict"
check_contains "cookie Path=/" "$COOKIE" "Path=/"
check_false "no Secure over plain HTTP" grep -q Secure <<<"$COOKIE"
TOKEN=$(hdr X-Harbor-CSRF-Token)
check_match "CSRF token on login" "$TOKEN" '^[0-9a-f]{64}$'
SID=$(sed 's/^sid=\([0-9a-f]*\);.*/\1/' <<<"$COOKIE")

# behind a TLS proxy the cookie is Secure
req_anon POST /c/login -H 'X-Forwarded-Proto: https' \
    --data-urlencode "principal=$ADMIN_USER" --data-urlencode "password=$ADMIN_PASS"
check_contains "Secure behind TLS" "$(hdr Set-Cookie)" "Secure"

# session authenticates reads, and hands out the token
req_anon GET $API/users/current -b "sid=$SID"
check_status "GET /users/current with the session -> 200" 200
check_jq "as admin" '.username == "admin"'
check_hdr "token repeated on API answers" X-Harbor-CSRF-Token "$TOKEN"

# CSRF
P1=$(rand_name sess)
req_anon POST $API/projects -b "sid=$SID" "${J[@]}" --data-binary "{\"project_name\":\"$P1\"}"
check_err "unsafe method without the token -> 403" 403 FORBIDDEN
check_jq "message CSRF token invalid" '.errors[0].message == "CSRF token invalid"'
# a wrong token of the same length: the last character changed, whatever it was
case "$TOKEN" in *0) BAD_TOKEN="${TOKEN%?}1" ;; *) BAD_TOKEN="${TOKEN%?}0" ;; esac
req_anon POST $API/projects -b "sid=$SID" "${J[@]}" -H "X-Harbor-CSRF-Token: $BAD_TOKEN" \
    --data-binary "{\"project_name\":\"$P1\"}"
check_err "wrong token -> 403" 403 FORBIDDEN
req_anon HEAD "$API/projects?project_name=$P1" -b "sid=$SID"
check_status "nothing was created" 404
req_anon POST $API/projects -b "sid=$SID" "${J[@]}" -H "X-Harbor-CSRF-Token: $TOKEN" \
    --data-binary "{\"project_name\":\"$P1\"}"
check_status "with the token -> 201" 201
req_anon DELETE "$API/projects/$P1" -b "sid=$SID" -H "X-Is-Resource-Name: true"
check_err "DELETE without the token -> 403" 403 FORBIDDEN
req_anon DELETE "$API/projects/$P1" -b "sid=$SID" -H "X-Harbor-CSRF-Token: $TOKEN" \
    -H "X-Is-Resource-Name: true"
check_status "DELETE with the token -> 200" 200
# Basic callers are not subject to CSRF
P2=$(rand_name basic)
req POST $API/projects "${J[@]}" --data-binary "{\"project_name\":\"$P2\"}"
check_status "Basic POST without a token -> 201" 201

# unknown or malformed cookies are anonymous
req_anon GET $API/users/current -b "sid=$(printf '%064d' 0)"
check_err "unknown session -> 401" 401 UNAUTHORIZED
req_anon GET $API/users/current -b "sid=nothex"
check_err "malformed session -> 401" 401 UNAUTHORIZED

# failures
req_anon POST /c/login --data-urlencode "principal=$ADMIN_USER" --data-urlencode "password=wrong"
check_status "wrong password -> 401" 401
check_hdr_absent "no cookie on failure" Set-Cookie
req_anon POST /c/login --data-urlencode "principal=$ADMIN_USER"
check_status "missing password -> 400" 400
req_anon GET /c/login
check_status "GET /c/login -> 405" 405
req_anon GET /c/nothing
check_status "unknown /c/ path -> 404" 404
req GET "$API/audit-logs?q=operation%3Dlogin,username%3D$ADMIN_USER"
check_jq "failed web login audited" 'length >= 1 and .[0].operation_result == false'

# robots may not log in to the UI
req POST $API/robots "${J[@]}" --data-binary "{\"name\":\"ui\",\"level\":\"system\",\"duration\":-1,\"permissions\":[{\"kind\":\"project\",\"namespace\":\"$P2\",\"access\":[{\"resource\":\"repository\",\"action\":\"pull\"}]}]}"
check_status "create robot" 201
RNAME=$(jq -r '.name' "$R_BODY")
RSECRET=$(jq -r '.secret' "$R_BODY")
req_anon POST /c/login --data-urlencode "principal=$RNAME" --data-urlencode "password=$RSECRET"
check_status "robot UI login -> 401" 401

# a password change ends the user's sessions
SPW="Se-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')x9"
req POST $API/users "${J[@]}" --data-binary "{\"username\":\"suser\",\"password\":\"$SPW\",\"email\":\"s@example.com\",\"realname\":\"S\"}"
check_status "create suser" 201
SUID=$(hdr Location | sed 's#.*/##')
req_anon POST /c/login --data-urlencode "principal=suser" --data-urlencode "password=$SPW"
SSID=$(hdr Set-Cookie | sed 's/^sid=\([0-9a-f]*\);.*/\1/')
req_anon GET $API/users/current -b "sid=$SSID"
check_status "suser session works" 200
req PUT "$API/users/$SUID/password" "${J[@]}" --data-binary "{\"new_password\":\"${SPW}N\"}"
check_status "admin resets suser's password" 200
req_anon GET $API/users/current -b "sid=$SSID"
check_err "session dropped after the password change" 401 UNAUTHORIZED

# logout ends the session
req_anon GET /c/log_out -b "sid=$SID"
check_status "GET /c/log_out -> 200" 200
check_contains "logout clears the cookie" "$(hdr Set-Cookie)" "Max-Age=0"
req_anon GET $API/users/current -b "sid=$SID"
check_err "session gone after logout -> 401" 401 UNAUTHORIZED

# no session id, password or CSRF token in the log
check_false "log free of the session id" grep -aq "$SID" "$SRV_LOG"
check_false "log free of the CSRF token" grep -aq "$TOKEN" "$SRV_LOG"
check_false "log free of the admin password" grep -aqF "$ADMIN_PASS" "$SRV_LOG"

srv_stop

# idle expiry: a server whose sessions expire after 2 idle seconds
export BERTH_SESSION_IDLE_S=2
srv_start
req_anon POST /c/login --data-urlencode "principal=$ADMIN_USER" --data-urlencode "password=$ADMIN_PASS"
SID=$(hdr Set-Cookie | sed 's/^sid=\([0-9a-f]*\);.*/\1/')
req_anon GET $API/users/current -b "sid=$SID"
check_status "fresh session works" 200
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ]; do
    req_anon GET $API/ping
    sleep 0.5
    [ $SECONDS -ge $((deadline - 7)) ] && break
done
req_anon GET $API/users/current -b "sid=$SID"
check_err "session idle past its expiry -> 401" 401 UNAUTHORIZED
unset BERTH_SESSION_IDLE_S
srv_stop
finish
