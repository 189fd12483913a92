#!/usr/bin/env bash
# api_session_cap.sh - one account cannot end other users' web sessions: 10,001 logins by alice
# (one curl, one kept-alive connection, her credentials verified once and then served from the
# cache of verified credentials) leave bob's session working; alice keeps only her newest
# session_max_per_user (default 10) sessions: her first one is gone, her newest works. The UI
# pages may not be framed: Content-Security-Policy has frame-ancestors 'none' and
# X-Frame-Options is DENY.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_auth.sh"

export BERTH_TEST_KDF_ITER=1000
API=/api/v2.0
LOGINS=${LOGINS:-10001}

srv_start
check_true "users alice and bob" eval 'api_user alice Alice-Pass-1 && api_user bob Bob-Pass-1'

login_sid() { # USER PASS: prints the sid of a fresh login
    req_anon POST /c/login --data-urlencode "principal=$1" --data-urlencode "password=$2"
    hdr Set-Cookie | sed 's/^sid=\([0-9a-f]*\);.*/\1/'
}
BOB=$(login_sid bob Bob-Pass-1)
check_match "bob logged in" "$BOB" '^[0-9a-f]{64}$'
ALICE_FIRST=$(login_sid alice Alice-Pass-1)
check_match "alice logged in" "$ALICE_FIRST" '^[0-9a-f]{64}$'

# LOGINS more logins by alice on one connection
{
    for _ in $(seq 1 "$LOGINS"); do
        printf 'url = "%s/c/login"\ndata = "principal=alice&password=Alice-Pass-1"\n' "$SRV_URL"
        printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nnext\n'
    done
} >"$BB_TMP/logins.curlrc"
T0=$SECONDS
curl -s -K "$BB_TMP/logins.curlrc" >"$BB_TMP/logins.out" 2>"$BB_TMP/logins.err"
bb_diag "$LOGINS logins in $((SECONDS - T0)) s"
check_eq "all $LOGINS logins by alice -> 200" "$(grep -c '^200$' "$BB_TMP/logins.out")" "$LOGINS"

req_anon GET $API/users/current -b "sid=$BOB"
check_status "bob's session survives alice's logins" 200
check_jq "still bob" '.username == "bob"'
req_anon GET $API/users/current -b "sid=$ALICE_FIRST"
check_err "alice's oldest session was evicted -> 401" 401 UNAUTHORIZED
ALICE_NEW=$(login_sid alice Alice-Pass-1)
req_anon GET $API/users/current -b "sid=$ALICE_NEW"
check_status "alice's newest session works" 200
check_jq "as alice" '.username == "alice"'

# the per-user cap: a server with session_max_per_user = 2 keeps alice's two newest
srv_stop
printf 'session_max_per_user = 2\n' >"$BB_TMP/cap.conf"
BB_SERVE_ARGS="--config $BB_TMP/cap.conf" srv_start
check_true "users alice and bob again" eval 'api_user alice Alice-Pass-1 && api_user bob Bob-Pass-1'
S1=$(login_sid alice Alice-Pass-1)
S2=$(login_sid alice Alice-Pass-1)
B1=$(login_sid bob Bob-Pass-1)
S3=$(login_sid alice Alice-Pass-1)
req_anon GET $API/users/current -b "sid=$S1"
check_err "cap 2: alice's first session ends at her third login" 401 UNAUTHORIZED
req_anon GET $API/users/current -b "sid=$S2"
check_status "cap 2: her second session lives" 200
req_anon GET $API/users/current -b "sid=$S3"
check_status "cap 2: her third session lives" 200
req_anon GET $API/users/current -b "sid=$B1"
check_status "cap 2: bob's session lives" 200

# the pages may not be framed by another site
req_anon GET /
check_status "GET / -> 200" 200
check_hdr "CSP forbids framing" Content-Security-Policy "default-src 'self'; frame-ancestors 'none'"
check_hdr "X-Frame-Options: DENY" X-Frame-Options DENY

srv_stop
finish
