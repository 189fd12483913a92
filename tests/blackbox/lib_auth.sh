# shellcheck shell=bash
# lib_auth.sh - helpers for the access-control black-box tests (auth_*.sh), sourced after lib.sh.
#
# - auth_srv_start CONFIG: like srv_start, with `--config CONFIG` (robot prefix, throttle limit).
# - Identity through the Harbor REST API, as admin: api_user, api_project, api_member,
#   api_robot (prints "NAME SECRET"), api_robot_disable.
# - Tokens: token_get CRED SCOPE... (GET /service/token, prints the token), jwt_payload,
#   jwt_craft (signs arbitrary claims with the server's own DATA/token.key: expired,
#   wrong-audience and future tokens are made this way).
# - AUTH: an array of curl arguments for the identity under test (-u ... or a Bearer header, or
#   empty); as_req METHOD PATH [curl args] sends one request with it; try_push REPO TAG pushes
#   a one-layer image with it and sets PUSH_STATUS to the status of the first failing step, or
#   201 when the manifest is in.
#
# Secrets made here are printed only into $BB_TMP files the tests read back, never into check
# names, so the tests' own output holds none of them.

AUTH=()

auth_srv_start() { # CONFIG
    local conf=$1
    SRV_DATA=$(mktemp -d "$BB_TMP/data.XXXXXX")
    SRV_PORT=$(free_port)
    SRV_HOSTPORT=127.0.0.1:$SRV_PORT
    SRV_URL=http://$SRV_HOSTPORT
    SRV_LOG=$BB_TMP/server.$SRV_PORT.log
    BERTH_ADMIN_PASSWORD=$ADMIN_PASS "$BERTH_BIN" serve --config "$conf" --listen "$SRV_HOSTPORT" \
        --data "$SRV_DATA" >"$SRV_LOG" 2>&1 &
    SRV_PID=$!
    local deadline=$((SECONDS + 30))
    while ! bb_ready; do
        if ! kill -0 "$SRV_PID" 2>/dev/null || [ $SECONDS -ge "$deadline" ]; then
            not_ok "server with $(basename "$conf") starts" "log tail:" "$(tail -n 20 "$SRV_LOG")"
            finish
        fi
        sleep 0.05
    done
    ok "server started with $(basename "$conf") on $SRV_HOSTPORT"
}

# ---- REST API (as admin) --------------------------------------------------------------------

api_user() { # NAME PASSWORD
    req POST /api/v2.0/users -H 'Content-Type: application/json' \
        --data "$(jq -cn --arg u "$1" --arg p "$2" \
            '{username: $u, password: $p, email: ($u + "@example.com"), realname: $u}')"
    [ "$R_STATUS" = 201 ] || { bb_diag "api_user $1: $R_STATUS $(head -c 300 "$R_BODY")"; return 1; }
}

api_project() { # NAME PUBLIC(true|false)
    req POST /api/v2.0/projects -H 'Content-Type: application/json' \
        --data "$(jq -cn --arg n "$1" --arg pub "$2" '{project_name: $n, metadata: {public: $pub}}')"
    [ "$R_STATUS" = 201 ] || { bb_diag "api_project $1: $R_STATUS $(head -c 300 "$R_BODY")"; return 1; }
}

api_project_delete() { # NAME
    req DELETE "/api/v2.0/projects/$1"
    [ "$R_STATUS" = 200 ] || { bb_diag "api_project_delete $1: $R_STATUS $(head -c 300 "$R_BODY")"; return 1; }
}

api_member() { # PROJECT USER ROLE_ID
    req POST "/api/v2.0/projects/$1/members" -H 'Content-Type: application/json' \
        --data "$(jq -cn --arg u "$2" --argjson r "$3" '{role_id: $r, member_user: {username: $u}}')"
    [ "$R_STATUS" = 201 ] || { bb_diag "api_member $1 $2: $R_STATUS $(head -c 300 "$R_BODY")"; return 1; }
}

# api_robot NAME PROJECT ACTIONS(comma list) [DURATION_DAYS]: a project-level robot; prints
# "ID FULLNAME SECRET".
api_robot() {
    local body
    body=$(jq -cn --arg n "$1" --arg p "$2" --arg a "$3" --argjson d "${4:--1}" '
        {name: $n, level: "project", duration: $d, disable: false, description: "test",
         permissions: [{kind: "project", namespace: $p,
             access: [$a | split(",")[] | {resource: "repository", action: .}]}]}')
    req POST /api/v2.0/robots -H 'Content-Type: application/json' --data "$body"
    if [ "$R_STATUS" != 201 ]; then
        bb_diag "api_robot $1: $R_STATUS $(head -c 300 "$R_BODY")"
        return 1
    fi
    jq -r '"\(.id) \(.name) \(.secret)"' "$R_BODY"
}

# api_robot_disable ID: PUT the robot back with disable=true (Harbor's body: the whole robot).
api_robot_disable() {
    local body
    req GET "/api/v2.0/robots/$1"
    [ "$R_STATUS" = 200 ] || { bb_diag "robot $1 GET: $R_STATUS"; return 1; }
    body=$(jq -c '.disable = true' "$R_BODY")
    req PUT "/api/v2.0/robots/$1" -H 'Content-Type: application/json' --data "$body"
    [ "$R_STATUS" = 200 ] || { bb_diag "robot $1 PUT: $R_STATUS $(head -c 300 "$R_BODY")"; return 1; }
}

# ---- tokens -----------------------------------------------------------------------------------

# token_get CRED SCOPE...: a token from GET /service/token (CRED "" = anonymous).
token_get() {
    local cred=$1 s
    shift
    local -a args=(-sS -g --max-time 30 --get "$SRV_URL/service/token"
        --data-urlencode "service=berth-registry")
    [ -n "$cred" ] && args+=(-u "$cred")
    for s in "$@"; do args+=(--data-urlencode "scope=$s"); done
    curl "${args[@]}" | jq -r '.token // empty'
}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
b64url_dec() {
    local s
    s=$(tr -- '-_' '+/')
    case $((${#s} % 4)) in 2) s="$s==" ;; 3) s="$s=" ;; esac
    printf '%s' "$s" | openssl base64 -d -A
}

# jwt_payload TOKEN: the claims JSON.
jwt_payload() { printf '%s' "$1" | cut -d. -f2 | b64url_dec; }

# jwt_craft CLAIMS_JSON [KEYFILE]: a token with the header of the server's tokens, signed RS256
# with KEYFILE (default the server's own key).
jwt_craft() {
    local claims=$1 key=${2:-$SRV_DATA/token.key} head real
    real=$(token_get "$ADMIN_USER:$ADMIN_PASS" "repository:x/y:pull")
    head=$(printf '%s' "$real" | cut -d.  -f1)
    local body sig
    body=$(printf '%s' "$claims" | b64url)
    sig=$(printf '%s.%s' "$head" "$body" | openssl dgst -sha256 -sign "$key" -binary | b64url)
    printf '%s.%s.%s' "$head" "$body" "$sig"
}

# ---- requests as AUTH ---------------------------------------------------------------------------

as_req() { # METHOD PATH [curl args...]
    local m=$1 p=$2
    shift 2
    BB_CURL_AUTH="" bb_curl "$m" "$p" "${AUTH[@]}" "$@"
}

auth_basic() { AUTH=(-u "$1"); }
auth_bearer() { AUTH=(-H "Authorization: Bearer $1"); }
auth_none() { AUTH=(); }

# try_push REPO TAG: config + one layer + manifest, each request with AUTH.
try_push() {
    local repo=$1 tag=$2 w=$BB_TMP/push.$$ f loc
    mkdir -p "$w"
    printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$w/config.json"
    head -c 512 /dev/urandom >"$w/layer.bin"
    for f in config.json layer.bin; do
        as_req POST "/v2/$repo/blobs/uploads/"
        if [ "$R_STATUS" != 202 ]; then PUSH_STATUS=$R_STATUS; return 0; fi
        loc=$(hdr Location)
        as_req PUT "$(url_add_query "$loc" "digest=$(digest_of "$w/$f")")" \
            -H 'Content-Type: application/octet-stream' --data-binary "@$w/$f"
        if [ "$R_STATUS" != 201 ]; then PUSH_STATUS=$R_STATUS; return 0; fi
    done
    jq -cn --arg cd "$(digest_of "$w/config.json")" --argjson cs "$(size_of "$w/config.json")" \
        --arg ld "$(digest_of "$w/layer.bin")" --argjson ls "$(size_of "$w/layer.bin")" \
        '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
          config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
          layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $ld, size: $ls}]}' |
        tr -d '\n' >"$w/manifest.json"
    as_req PUT "/v2/$repo/manifests/$tag" -H "Content-Type: $MT_OCI_MANIFEST" \
        --data-binary "@$w/manifest.json"
    # shellcheck disable=SC2034 # read by the sourcing test
    PUSH_STATUS=$R_STATUS
    # shellcheck disable=SC2034
    PUSH_MANIFEST_DIGEST=$(digest_of "$w/manifest.json")
    # shellcheck disable=SC2034
    PUSH_LAYER_DIGEST=$(digest_of "$w/layer.bin")
}
