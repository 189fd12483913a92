#!/usr/bin/env bash
# auth_throttle.sh - failed-login throttling (login_fail_limit = 3): the third failure of one
# user from one address blocks that pair with 429 TOOMANYREQUESTS (on /v2/ and on the token
# endpoint, GET and POST, even with the right password), Retry-After grows 1, 2, 4 s with each
# further failure, other users are not affected, the block releases by itself, and a success
# starts the count over. The old-password check of a password change counts and is refused the
# same way (403 for a wrong old password, then 429).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_auth.sh"

printf 'login_fail_limit = 3\nlog_level = debug\n' >"$BB_TMP/throttle.conf"
auth_srv_start "$BB_TMP/throttle.conf"
check_true "users alice and bob" eval 'api_user alice Alice-Pass-1 && api_user bob Bob-Pass-1'

tokreq() { # CRED: GET /service/token with CRED
    req_as "$1" GET "/service/token?service=berth-registry&account=${1%%:*}"
}

for i in 1 2 3; do
    req_as alice:wrong-$i GET /v2/
    check_err "failure $i -> 401" 401 UNAUTHORIZED
done
req_as alice:Alice-Pass-1 GET /v2/
check_err "after 3 failures even the right password -> 429" 429 TOOMANYREQUESTS
check_hdr "/v2/ 429 carries Retry-After: 1" Retry-After 1
tokreq alice:Alice-Pass-1
check_err "token endpoint GET -> 429 too" 429 TOOMANYREQUESTS
check_hdr "token endpoint 429 carries Retry-After: 1" Retry-After 1
req_anon POST /service/token -d grant_type=password -d username=alice -d password=Alice-Pass-1 \
    -d service=berth-registry
check_err "token endpoint POST -> 429 too" 429 TOOMANYREQUESTS
req_as bob:Bob-Pass-1 GET /v2/
check_status "another user from the same address is not blocked" 200

# release by time: poll with a deadline, never a bare sleep for the check itself
released() {
    local deadline=$((SECONDS + $1))
    while [ $SECONDS -lt "$deadline" ]; do
        tokreq "$2"
        [ "$R_STATUS" != 429 ] && return 0
        sleep 0.2
    done
    return 1
}
check_true "the block releases within 3 s" released 3 alice:Alice-Pass-2-wrong
check_eq "first attempt after the release is checked (wrong password -> 401)" "$R_STATUS" 401
tokreq alice:Alice-Pass-1
check_err "failure 4 blocks again" 429 TOOMANYREQUESTS
check_hdr "back-off doubled: Retry-After 2" Retry-After 2
check_true "the block releases within 4 s" released 4 alice:wrong-5
tokreq alice:Alice-Pass-1
check_hdr "failure 5: Retry-After 4" Retry-After 4
check_true "the block releases within 6 s" released 6 alice:Alice-Pass-1
check_eq "the right password after the release -> 200" "$R_STATUS" 200
# the success cleared the count: 2 failures are not enough to block
tokreq alice:wrong-6
tokreq alice:wrong-7
tokreq alice:Alice-Pass-1
check_status "after a success the count starts over" 200
check_true "no password reached the log" eval '! grep -a -q -e Alice-Pass -e wrong-5 "$SRV_LOG"'

# the old-password check of a password change is throttled like a login
check_true "user carol" api_user carol Carol-Pass-1
req_as carol:Carol-Pass-1 GET /api/v2.0/users/current
CAROL_ID=$(jq -r '.user_id' "$R_BODY")
pwchange() { # OLD NEW: carol changes her own password
    req_as carol:Carol-Pass-1 PUT "/api/v2.0/users/$CAROL_ID/password" \
        -H 'Content-Type: application/json' \
        --data "$(jq -cn --arg o "$1" --arg n "$2" '{old_password: $o, new_password: $n}')"
}
for i in 1 2 3; do
    pwchange "Wrong-Old-$i" Carol-Pass-2
    check_err "password change, wrong old password $i -> 403" 403 FORBIDDEN
done
pwchange Carol-Pass-1 Carol-Pass-2
check_err "after 3 wrong old passwords even the right one -> 429" 429 TOO_MANY_REQUESTS
check_hdr "password change 429 carries Retry-After: 1" Retry-After 1
check_true "the block releases within 3 s" eval 'deadline=$((SECONDS + 3)); while [ $SECONDS -lt $deadline ]; do pwchange Carol-Pass-1 Carol-Pass-2; [ "$R_STATUS" != 429 ] && break; sleep 0.2; done; [ "$R_STATUS" = 200 ]'
req_as carol:Carol-Pass-2 GET /v2/
check_status "the new password works" 200

srv_stop
finish
