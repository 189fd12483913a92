#!/usr/bin/env bash
# auth_secrets.sh - a push and pull with known secrets (a user's password, a robot's secret,
# the tokens and refresh tokens handed out, a wrong password), through skopeo's token flow,
# curl with Basic and Bearer, and containerd's POST form; then none of those secrets, nor the
# Authorization header values carrying them, may appear in the server's log (debug level).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_auth.sh"

printf 'log_level = debug\n' >"$BB_TMP/debug.conf"
auth_srv_start "$BB_TMP/debug.conf"

UPASS="Known-Pass-$(rand_name x)"
WRONG="Wrong-Pass-$(rand_name y)"
P=$(rand_name sp)
check_true "user carol and project P with carol as developer" \
    eval 'api_user carol "$UPASS" && api_project "$P" false && api_member "$P" carol 2'
line=$(api_robot ci "$P" pull,push) || line=""
read -r _ RNAME RSEC <<<"$line"
check_true "robot created" test -n "$RSEC"

# curl: Basic, a wrong password, tokens (GET with offline_token, POST password and refresh)
auth_basic "carol:$UPASS"
try_push "$P/curl" v1
check_eq "carol pushes with Basic" "$PUSH_STATUS" 201
req_as "carol:$WRONG" GET /v2/
check_status "a wrong password is refused" 401
req_as "carol:$UPASS" GET "/service/token?service=berth-registry&offline_token=true&scope=repository:$P/curl:pull,push"
check_status "carol gets a token and a refresh token" 200
T1=$(jq -r .token "$R_BODY")
RT1=$(jq -r .refresh_token "$R_BODY")
auth_bearer "$T1"
as_req GET "/v2/$P/curl/tags/list"
check_status "carol pulls with the token" 200
req_anon POST /service/token --data-urlencode grant_type=password --data-urlencode username=carol \
    --data-urlencode "password=$UPASS" -d access_type=offline -d service=berth-registry \
    --data-urlencode "scope=repository:$P/curl:pull"
check_status "POST password grant" 200
T2=$(jq -r .token "$R_BODY")
RT2=$(jq -r .refresh_token "$R_BODY")
req_anon POST /service/token --data-urlencode grant_type=refresh_token \
    --data-urlencode "refresh_token=$RT2" -d service=berth-registry
check_status "POST refresh grant" 200
T3=$(jq -r .token "$R_BODY")
req_anon POST /service/token -d grant_type=password -d username=carol \
    --data-urlencode "password=$WRONG" -d service=berth-registry
check_status "POST with the wrong password is refused" 401
req_anon GET "/service/token?service=berth-registry&scope=repository:$P/curl:pull&refresh_token=$RT1&password=$UPASS"
check_status "secrets in a token query string (ignored) do not reach the log either" 200

# skopeo: the token flow with the user and the robot
if command -v skopeo >/dev/null 2>&1; then
    mk_oci_layout "$BB_TMP/lay" v1
    check_true "skopeo push as carol" skopeo --insecure-policy copy --quiet --dest-tls-verify=false \
        --dest-creds "carol:$UPASS" "oci:$BB_TMP/lay:v1" "docker://$SRV_HOSTPORT/$P/sk:v1"
    check_true "skopeo pull as the robot" skopeo --insecure-policy copy --quiet \
        --src-tls-verify=false --src-creds "$RNAME:$RSEC" "docker://$SRV_HOSTPORT/$P/sk:v1" \
        "oci:$BB_TMP/pulled:v1"
    check_true "skopeo push as the robot" skopeo --insecure-policy copy --quiet \
        --dest-tls-verify=false --dest-creds "$RNAME:$RSEC" "oci:$BB_TMP/lay:v1" \
        "docker://$SRV_HOSTPORT/$P/sk-robot:v1"
else
    skip "skopeo push and pull with secrets" "skopeo not installed"
fi
auth_basic "$RNAME:$RSEC"
as_req GET "/v2/$P/curl/tags/list"
check_status "robot pulls with Basic" 200

srv_stop
check_true "the server logged requests (the log is the right file)" grep -a -q "/v2/$P/curl" "$SRV_LOG"
b64() { printf '%s' "$1" | openssl base64 -A; }
leak=""
i=0
for s in "$UPASS" "$WRONG" "$RSEC" "$T1" "$T2" "$T3" "$RT1" "$RT2" \
    "$(printf '%s' "$T1" | cut -d. -f3)" "$(printf '%s' "$RT1" | cut -d. -f3)" \
    "$(b64 "carol:$UPASS")" "$(b64 "$RNAME:$RSEC")" "$(b64 "carol:$WRONG")"; do
    i=$((i + 1))
    [ -n "$s" ] || continue
    grep -a -q -F -- "$s" "$SRV_LOG" && leak="$leak secret#$i" # never print the secret itself
done
check_eq "no password, robot secret, token or Basic value in the log" "$leak" ""
check_false "no Authorization header in the log" grep -a -q -i 'authorization:' "$SRV_LOG"
check_false "no token query string in the log" grep -a -q -e 'service/token?' -e 'refresh_token=' "$SRV_LOG"
finish
