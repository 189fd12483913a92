#!/usr/bin/env bash
# auth_robots.sh - robot accounts on /v2/ and the token service: Basic and bearer use of a
# project robot with the default prefix (robot$) and, on a second server started with
# robot_prefix = robot-, with a custom one; explicit permissions (pull-only, pull+push, no
# delete); wrong secrets; disabled robots (also after a cached login, and their refresh tokens);
# expired robots (also one whose login is cached: the cache ends at the expiry); a robot disabled
# in the database behind the server's back (another replica) is refused at once; skopeo copies
# with robot credentials through the token flow.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_auth.sh"

have_skopeo=yes
command -v skopeo >/dev/null 2>&1 || have_skopeo=no

# robot_suite PREFIX: everything, against the running server.
robot_suite() {
    local pre=$1 P Q line ci ci_sec pl pl_sec d_id d d_sec e_id e e_sec T s_id s s_sec
    P=$(rand_name rp)
    Q=$(rand_name rq)
    check_true "[$pre] projects P and Q (private)" eval 'api_project "$P" false && api_project "$Q" false'
    auth_basic "$ADMIN_USER:$ADMIN_PASS"
    try_push "$P/base" v1
    check_eq "[$pre] admin pushes P/base" "$PUSH_STATUS" 201
    try_push "$Q/base" v1

    line=$(api_robot ci "$P" pull,push) || line=""
    read -r _ ci ci_sec <<<"$line"
    check_eq "[$pre] project robot is named <prefix><project>+ci" "$ci" "$pre$P+ci"
    line=$(api_robot puller "$P" pull) || line=""
    read -r _ pl pl_sec <<<"$line"
    check_eq "[$pre] pull-only robot created" "$pl" "$pre$P+puller"

    # Basic on /v2/
    auth_basic "$ci:$ci_sec"
    as_req GET /v2/
    check_status "[$pre] robot Basic: GET /v2/ -> 200" 200
    as_req GET "/v2/$P/base/manifests/v1" "${ACCEPT_ALL[@]}"
    check_status "[$pre] robot Basic: pull P -> 200" 200
    try_push "$P/ci" v1
    check_eq "[$pre] robot Basic: push P -> 201" "$PUSH_STATUS" 201
    as_req DELETE "/v2/$P/ci/manifests/$PUSH_MANIFEST_DIGEST"
    check_err "[$pre] robot without delete: DELETE -> 403" 403 DENIED
    as_req GET "/v2/$Q/base/manifests/v1" "${ACCEPT_ALL[@]}"
    check_err "[$pre] robot on another project -> 403" 403 DENIED
    auth_basic "$pl:$pl_sec"
    as_req GET "/v2/$P/base/manifests/v1" "${ACCEPT_ALL[@]}"
    check_status "[$pre] pull-only robot: pull -> 200" 200
    as_req POST "/v2/$P/x/blobs/uploads/"
    check_err "[$pre] pull-only robot: push -> 403" 403 DENIED
    auth_basic "$ci:wrong-secret-1A"
    as_req GET /v2/
    check_err "[$pre] robot with a wrong secret -> 401" 401 UNAUTHORIZED

    # token flow
    T=$(token_get "$ci:$ci_sec" "repository:$P/tok:pull,push,delete" "repository:$Q/base:pull")
    check_true "[$pre] robot token: sub is the robot, pull,push on P, nothing on Q" \
        jq -e --arg s "$ci" '.sub == $s and (.access[0].actions | sort) == ["pull","push"]
            and .access[1].actions == []' <<<"$(jwt_payload "$T")"
    auth_bearer "$T"
    try_push "$P/tok" v1
    check_eq "[$pre] robot with a token: push -> 201" "$PUSH_STATUS" 201
    req_as "$ci:wrong-secret-1A" GET "/service/token?service=berth-registry&scope=repository:$P/tok:pull"
    check_err "[$pre] token endpoint: wrong robot secret -> 401" 401 UNAUTHORIZED
    req_anon POST /service/token --data-urlencode grant_type=password --data-urlencode "username=$ci" \
        --data-urlencode "password=$ci_sec" -d service=berth-registry \
        --data-urlencode "scope=repository:$P/tok:pull"
    check_status "[$pre] robot POST password grant -> 200" 200

    if [ "$have_skopeo" = yes ]; then
        mk_oci_layout "$BB_TMP/lay-$pre" v1
        check_true "[$pre] skopeo push with the robot (token flow)" skopeo --insecure-policy copy \
            --quiet --dest-tls-verify=false --dest-creds "$ci:$ci_sec" "oci:$BB_TMP/lay-$pre:v1" \
            "docker://$SRV_HOSTPORT/$P/skopeo:v1"
        check_true "[$pre] skopeo pull with the pull-only robot" skopeo --insecure-policy copy \
            --quiet --src-tls-verify=false --src-creds "$pl:$pl_sec" \
            "docker://$SRV_HOSTPORT/$P/skopeo:v1" "oci:$BB_TMP/pulled-$pre:v1"
        check_false "[$pre] skopeo push with the pull-only robot fails" skopeo --insecure-policy \
            copy --quiet --dest-tls-verify=false --dest-creds "$pl:$pl_sec" \
            "oci:$BB_TMP/lay-$pre:v1" "docker://$SRV_HOSTPORT/$P/skopeo2:v1"
        check_false "[$pre] skopeo with a wrong robot secret fails" skopeo --insecure-policy copy \
            --quiet --src-tls-verify=false --src-creds "$ci:nope-Nope-1" \
            "docker://$SRV_HOSTPORT/$P/skopeo:v1" "oci:$BB_TMP/nope-$pre:v1"
    else
        skip "[$pre] skopeo with robots" "skopeo not installed"
    fi

    # disabled: after a successful (cached) login, and its refresh token
    line=$(api_robot dis "$P" pull) || line=""
    read -r d_id d d_sec <<<"$line"
    auth_basic "$d:$d_sec"
    as_req GET "/v2/$P/base/manifests/v1" "${ACCEPT_ALL[@]}"
    check_status "[$pre] robot to be disabled pulls" 200
    req_as "$d:$d_sec" GET "/service/token?service=berth-registry&offline_token=true"
    local drefresh
    drefresh=$(jq -r '.refresh_token // empty' "$R_BODY")
    check_true "[$pre] disable the robot through the API" api_robot_disable "$d_id"
    as_req GET "/v2/$P/base/manifests/v1" "${ACCEPT_ALL[@]}"
    check_err "[$pre] disabled robot: Basic -> 401" 401 UNAUTHORIZED
    check_contains "[$pre] the robot (with its secret) learns it is disabled" "$(body)" "disabled"
    req_as "$d:$d_sec" GET "/service/token?service=berth-registry&scope=repository:$P/base:pull"
    check_err "[$pre] disabled robot: token endpoint -> 401" 401 UNAUTHORIZED
    req_anon POST /service/token --data-urlencode grant_type=refresh_token \
        --data-urlencode "refresh_token=$drefresh" -d service=berth-registry
    check_err "[$pre] disabled robot: its refresh token -> 401" 401 UNAUTHORIZED

    # expired (never used, so nothing cached): expiry set in the past in the database
    line=$(api_robot exp "$P" pull 30) || line=""
    read -r e_id e e_sec <<<"$line"
    auth_basic "$e:$e_sec"
    check_true "[$pre] set the robot's expiry 10 s in the past" sqlite3 "$SRV_DATA/berth.db" \
        ".timeout 5000" "UPDATE robots SET expires_at = strftime('%s','now') - 10 WHERE id = $e_id"
    as_req GET "/v2/$P/base/manifests/v1" "${ACCEPT_ALL[@]}"
    check_err "[$pre] expired robot: Basic -> 401" 401 UNAUTHORIZED
    check_contains "[$pre] the robot learns it expired" "$(body)" "expired"
    req_as "$e:$e_sec" GET "/service/token?service=berth-registry&scope=repository:$P/base:pull"
    check_err "[$pre] expired robot: token endpoint -> 401" 401 UNAUTHORIZED

    # expiring with its login in the cache: the cached login ends at the robot's expiry, not
    # AUTHN_CACHE_TTL_S (60 s) after the check
    line=$(api_robot soon "$P" pull 30) || line=""
    read -r s_id s s_sec <<<"$line"
    auth_basic "$s:$s_sec"
    check_true "[$pre] set the robot's expiry 8 s ahead" sqlite3 "$SRV_DATA/berth.db" \
        ".timeout 5000" "UPDATE robots SET expires_at = strftime('%s','now') + 8 WHERE id = $s_id"
    T=$SECONDS
    as_req GET "/v2/$P/base/manifests/v1" "${ACCEPT_ALL[@]}"
    check_status "[$pre] expiring robot pulls before its expiry (login cached)" 200
    as_req GET "/v2/$P/base/manifests/v1" "${ACCEPT_ALL[@]}"
    check_status "[$pre] ... and again from the cache" 200
    local deadline=$((T + 40))
    while [ $SECONDS -lt $deadline ]; do
        as_req GET "/v2/$P/base/manifests/v1" "${ACCEPT_ALL[@]}"
        [ "$R_STATUS" = 200 ] || break
        sleep 0.25
    done
    check_err "[$pre] the cached login ends at the expiry -> 401" 401 UNAUTHORIZED
    check_true "[$pre] ... within 20 s of setting an 8 s expiry (not the cache's 60 s)" \
        test $((SECONDS - T)) -le 20

    # disabled behind the server's back (as another replica over the same database would, with
    # no cache flush here): the cached login rereads the row at most once a second
    # (META_REPLICA_WINDOW_MS) and ends within that window
    line=$(api_robot behind "$P" pull) || line=""
    read -r b_id b b_sec <<<"$line"
    auth_basic "$b:$b_sec"
    as_req GET "/v2/$P/base/manifests/v1" "${ACCEPT_ALL[@]}"
    check_status "[$pre] robot pulls (its login now cached)" 200
    check_true "[$pre] disable it in the database directly" sqlite3 "$SRV_DATA/berth.db" \
        ".timeout 5000" "UPDATE robots SET disabled = 1 WHERE id = $b_id"
    T=$SECONDS
    local until=$((SECONDS + 10))
    while [ $SECONDS -lt $until ]; do
        as_req GET "/v2/$P/base/manifests/v1" "${ACCEPT_ALL[@]}"
        [ "$R_STATUS" = 200 ] || break
        sleep 0.1
    done
    check_err "[$pre] the cached login of a robot disabled elsewhere -> 401" 401 UNAUTHORIZED
    check_true "[$pre] ... within the 1 s recheck window (2 s with the test's own latency)" \
        test $((SECONDS - T)) -le 2
}

# --- server 1: default prefix --------------------------------------------------------------------------
srv_start
robot_suite 'robot$'
# a robot-looking name with another prefix is an ordinary (unknown) user
req_as 'robot-x+y:Whatever-1' GET /v2/
check_err "robot- name on a robot\$ server -> 401" 401 UNAUTHORIZED
srv_stop

# --- server 2: robot_prefix = robot- -------------------------------------------------------------------
printf 'robot_prefix = robot-\n' >"$BB_TMP/robot-prefix.conf"
auth_srv_start "$BB_TMP/robot-prefix.conf"
robot_suite 'robot-'
srv_stop
finish
