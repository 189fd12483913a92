#!/usr/bin/env bash
# auth_token.sh - the token service and bearer tokens on /v2/: the docker login flow, Harbor's
# 401 rules, anonymous tokens, scope filtering, the OAuth2 POST (password and refresh grants),
# a token for project A refused on B, a token older than a re-created project refused, and
# expired, not-yet-valid, tampered, wrong-audience, wrong-issuer and foreign-key tokens refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_auth.sh"

srv_start
project_public library # the tests below were written for a public library

# --- docker login: challenge, token with Basic, /v2/ with Bearer ----------------------------------
req_anon GET /v2/
check_err "GET /v2/ anonymous -> 401" 401 UNAUTHORIZED
check_hdr "challenge is Bearer with realm and service" WWW-Authenticate \
    "Bearer realm=\"http://$SRV_HOSTPORT/service/token\",service=\"berth-registry\""

req GET "/service/token?account=$ADMIN_USER&client_id=docker&offline_token=true&service=berth-registry"
check_status "token with Basic, no scope -> 200" 200
check_jq "reply has token = access_token, expires_in 1800, RFC 3339 issued_at, refresh_token" \
    '(.token | length > 100) and .token == .access_token and .expires_in == 1800
     and (.issued_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"))
     and (.refresh_token | length > 100)'
check_hdr "token reply is not cacheable" Cache-Control no-store
TOK=$(jq -r .token "$R_BODY")
REFRESH=$(jq -r .refresh_token "$R_BODY")
P=$(jwt_payload "$TOK")
check_true "claims: iss, sub, aud, exp-iat = 1800, nbf = iat, 32-hex jti, empty access" \
    jq -e --arg u "$ADMIN_USER" '.iss == "berth-token-issuer" and .sub == $u and
        .aud == "berth-registry" and .exp - .iat == 1800 and .nbf == .iat and
        (.jti | test("^[0-9a-f]{32}$")) and .access == []' <<<"$P"
check_true "header: RS256 with a libtrust kid" jq -e \
    '.alg == "RS256" and (.kid | test("^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$"))' \
    <<<"$(printf '%s' "$TOK" | cut -d. -f1 | b64url_dec)"
auth_bearer "$TOK"
as_req GET /v2/
check_status "GET /v2/ with the token -> 200 (Login Succeeded)" 200
check_true "token key file is mode 0600" test "$(stat -c %a "$SRV_DATA/token.key")" = 600

# --- Harbor's 401 rules -----------------------------------------------------------------------------
req_as "$ADMIN_USER:wrong-password" GET "/service/token?service=berth-registry&account=$ADMIN_USER"
check_err "bad password, no scope -> 401 (docker login fails)" 401 UNAUTHORIZED
req_as "$ADMIN_USER:wrong-password" GET "/service/token?service=berth-registry&scope=repository:library/a:pull"
check_err "bad password with a scope -> 401" 401 UNAUTHORIZED
req_as "nosuchuser:whatever" GET "/service/token?service=berth-registry"
check_err "unknown user -> 401" 401 UNAUTHORIZED
req_anon GET "/service/token?service=berth-registry"
check_err "no credentials, no scope -> 401" 401 UNAUTHORIZED
req GET "/service/token?service=other-registry"
check_err "unknown service -> 400" 400 BAD_REQUEST
req GET "/service/token?service=berth-registry&scope=repository:onlytwo"
check_err "malformed scope -> 400" 400 BAD_REQUEST
# oversized scope lists are the client's fault: 400, never 500
SC=()
for i in $(seq 1 65); do SC+=(--data-urlencode "scope=repository:p/r$i:pull"); done
req GET /service/token --get --data-urlencode service=berth-registry "${SC[@]}"
check_err "65 scopes -> 400" 400 BAD_REQUEST
LONGN=$(printf 'n%.0s' $(seq 1 250))
SC=()
for i in $(seq 1 64); do SC+=(--data-urlencode "scope=repository:p/$LONGN$i:pull,push,delete"); done
req GET /service/token --get --data-urlencode service=berth-registry "${SC[@]}"
check_err "64 long scopes (token too large) -> 400" 400 BAD_REQUEST
check_jq "message says the token would be too large" '.errors[0].message == "token too large"'
req POST /service/token -d grant_type=password -d username="$ADMIN_USER" \
    --data-urlencode "password=$ADMIN_PASS" -d service=berth-registry "${SC[@]}"
check_err "the same by POST -> 400" 400 BAD_REQUEST

# --- users, projects, anonymous tokens, filtering ---------------------------------------------------------
PA=$(rand_name pa)
PB=$(rand_name pb)
PRIV=$(rand_name priv)
check_true "create user alice, projects A, B (private), PRIV (private)" \
    eval 'api_user alice Alice-Pass-1 && api_project "$PA" false && api_project "$PB" false &&
          api_project "$PRIV" false && api_member "$PA" alice 2 && api_member "$PB" alice 2'

req_anon GET "/service/token?service=berth-registry&scope=repository:library/app:pull,push&scope=repository:$PRIV/app:pull"
check_status "no credentials with scopes -> 200 (anonymous token)" 200
check_true "anonymous token: pull on the public project only, push filtered, private empty" \
    jq -e --arg priv "$PRIV/app" '.sub == "" and .access == [
        {type: "repository", name: "library/app", actions: ["pull"]},
        {type: "repository", name: $priv, actions: []}]' <<<"$(jwt_payload "$(jq -r .token "$R_BODY")")"

T=$(token_get alice:Alice-Pass-1 "repository:$PA/app:pull,push,delete repository:$PRIV/app:pull" \
    "registry:catalog:*" "repository:$PA/app:pull")
check_true "developer: pull,push on A (delete filtered), nothing on PRIV, catalog kept, scopes merged" \
    jq -e --arg a "$PA/app" --arg p "$PRIV/app" '.sub == "alice" and .access == [
        {type: "repository", name: $a, actions: ["pull", "push"]},
        {type: "repository", name: $p, actions: []},
        {type: "registry", name: "catalog", actions: ["*"]}]' <<<"$(jwt_payload "$T")"
T=$(token_get "" "registry:catalog:*")
check_true "anonymous: catalog scope emptied" \
    jq -e '.access == [{type: "registry", name: "catalog", actions: []}]' <<<"$(jwt_payload "$T")"

# --- a token for project A does not open project B ---------------------------------------------------------
TA=$(token_get alice:Alice-Pass-1 "repository:$PA/app:pull,push")
auth_bearer "$TA"
try_push "$PA/app" v1
check_eq "token for A pushes to A" "$PUSH_STATUS" 201
as_req GET "/v2/$PA/app/tags/list"
check_status "token for A pulls from A" 200
as_req GET "/v2/$PB/app/tags/list"
check_err "token for A on B -> 401" 401 UNAUTHORIZED
check_hdr_match "insufficient_scope challenge names B's scope" WWW-Authenticate \
    "scope=\"repository:$PB/app:pull\",error=\"insufficient_scope\""
as_req POST "/v2/$PB/app/blobs/uploads/"
check_err "token for A cannot push to B" 401 UNAUTHORIZED
as_req DELETE "/v2/$PA/app/manifests/$PUSH_MANIFEST_DIGEST"
check_err "token without delete cannot delete on A" 401 UNAUTHORIZED
as_req GET /v2/_catalog
check_err "token without the catalog scope -> 401 on _catalog" 401 UNAUTHORIZED

# --- a token from before a project was deleted and re-created -------------------------------------------------
PC=$(rand_name pc)
check_true "create project C" api_project "$PC" false
TC=$(token_get "$ADMIN_USER:$ADMIN_PASS" "repository:$PC/app:pull,push")
TM=$(token_get "$ADMIN_USER:$ADMIN_PASS" "repository:$PA/mnt:pull,push" "repository:$PC/app:pull")
auth_bearer "$TC"
as_req GET "/v2/$PC/app/tags/list"
check_err "token for C works before (404: no repository yet)" 404 NAME_UNKNOWN
sleep 1.1 # created_at has second resolution: the re-created project must be strictly newer
check_true "delete and re-create project C" eval 'api_project_delete "$PC" && api_project "$PC" false'
as_req GET "/v2/$PC/app/tags/list"
check_err "old token on the re-created C -> 401" 401 UNAUTHORIZED
check_hdr_match "challenge says invalid_token" WWW-Authenticate 'error="invalid_token"'
try_push "$PC/app" v1
check_eq "old token cannot push to the re-created C" "$PUSH_STATUS" 401
# a project re-created in the second of its deletion is dated one second later (tombstone), so
# a token is good from the next second on
sleep 1.1
auth_bearer "$(token_get "$ADMIN_USER:$ADMIN_PASS" "repository:$PC/app:pull,push")"
try_push "$PC/app" v1
check_eq "a new token pushes to C" "$PUSH_STATUS" 201
auth_bearer "$TM"
as_req POST "/v2/$PA/mnt/blobs/uploads/?mount=$PUSH_LAYER_DIGEST&from=$PC/app"
check_status "old token: mount from the re-created C falls back to an upload (202)" 202
auth_bearer "$(token_get "$ADMIN_USER:$ADMIN_PASS" "repository:$PA/mnt:pull,push" "repository:$PC/app:pull")"
as_req POST "/v2/$PA/mnt/blobs/uploads/?mount=$PUSH_LAYER_DIGEST&from=$PC/app"
check_status "a new token mounts from C (201)" 201

# --- crafted and broken tokens --------------------------------------------------------------------------------
NOW=$(date +%s)
claims() { # IAT EXP AUD ISS
    jq -cn --argjson iat "$1" --argjson exp "$2" --arg aud "$3" --arg iss "$4" --arg n "$PA/app" \
        '{iss: $iss, sub: "alice", aud: $aud, exp: $exp, nbf: $iat, iat: $iat,
          jti: "0123456789abcdef0123456789abcdef",
          access: [{type: "repository", name: $n, actions: ["pull"]}]}'
}
auth_bearer "$(jwt_craft "$(claims "$NOW" $((NOW + 300)) berth-registry berth-token-issuer)")"
as_req GET "/v2/$PA/app/tags/list"
check_status "control: a crafted token signed with the server key works" 200
auth_bearer "$(jwt_craft "$(claims $((NOW - 600)) $((NOW - 120)) berth-registry berth-token-issuer)")"
as_req GET "/v2/$PA/app/tags/list"
check_err "expired token (past the 60 s leeway) -> 401" 401 UNAUTHORIZED
auth_bearer "$(jwt_craft "$(claims $((NOW + 600)) $((NOW + 900)) berth-registry berth-token-issuer)")"
as_req GET "/v2/$PA/app/tags/list"
check_err "token not valid before 10 min from now -> 401" 401 UNAUTHORIZED
auth_bearer "$(jwt_craft "$(claims "$NOW" $((NOW + 300)) harbor-registry berth-token-issuer)")"
as_req GET "/v2/$PA/app/tags/list"
check_err "wrong audience -> 401" 401 UNAUTHORIZED
auth_bearer "$(jwt_craft "$(claims "$NOW" $((NOW + 300)) berth-registry harbor-token-issuer)")"
as_req GET "/v2/$PA/app/tags/list"
check_err "wrong issuer -> 401" 401 UNAUTHORIZED
openssl genrsa -out "$BB_TMP/other.key" 2048 2>/dev/null
auth_bearer "$(jwt_craft "$(claims "$NOW" $((NOW + 300)) berth-registry berth-token-issuer)" "$BB_TMP/other.key")"
as_req GET "/v2/$PA/app/tags/list"
check_err "token signed by another key -> 401" 401 UNAUTHORIZED
# tampered: a real token for A with its claims rewritten to B, old signature kept
H=$(printf '%s' "$TA" | cut -d. -f1)
S=$(printf '%s' "$TA" | cut -d. -f3)
B=$(jwt_payload "$TA" | jq -c --arg b "$PB/app" '.access[0].name = $b' | b64url)
auth_bearer "$H.$B.$S"
as_req GET "/v2/$PB/app/tags/list"
check_err "tampered token (claims rewritten) -> 401" 401 UNAUTHORIZED
NONE_H=$(printf '{"typ":"JWT","alg":"none"}' | b64url)
auth_bearer "$NONE_H.$(claims "$NOW" $((NOW + 300)) berth-registry berth-token-issuer | b64url)."
as_req GET "/v2/$PA/app/tags/list"
check_err "alg none -> 401" 401 UNAUTHORIZED
auth_bearer "not-a-jwt"
as_req GET /v2/
check_err "garbage bearer -> 401" 401 UNAUTHORIZED

# --- containerd's OAuth2 POST ---------------------------------------------------------------------------------------
req_anon POST /service/token --data-urlencode grant_type=password --data-urlencode username=alice \
    --data-urlencode 'password=Alice-Pass-1' --data-urlencode service=berth-registry \
    --data-urlencode "scope=repository:$PA/app:pull" --data-urlencode client_id=containerd-client
check_status "POST grant_type=password -> 200" 200
check_jq "POST reply: access_token = token, no refresh token unless asked" \
    '.access_token == .token and (has("refresh_token") | not)'
check_true "POST token grants pull on A" jq -e --arg a "$PA/app" \
    '.access == [{type: "repository", name: $a, actions: ["pull"]}]' \
    <<<"$(jwt_payload "$(jq -r .access_token "$R_BODY")")"
req_anon POST /service/token -d grant_type=password -d username=alice -d password=wrong \
    -d service=berth-registry
check_err "POST with a wrong password -> 401" 401 UNAUTHORIZED
req_anon POST /service/token -d grant_type=client_credentials -d service=berth-registry
check_err "POST with an unsupported grant -> 400" 400 BAD_REQUEST
req_anon POST /service/token --data-urlencode grant_type=password --data-urlencode username=alice \
    --data-urlencode 'password=Alice-Pass-1' -d access_type=offline -d service=berth-registry
check_jq "POST access_type=offline -> refresh_token" '.refresh_token | length > 100'
ALICE_REFRESH=$(jq -r .refresh_token "$R_BODY")

req_anon POST /service/token --data-urlencode grant_type=refresh_token \
    --data-urlencode "refresh_token=$REFRESH" --data-urlencode service=berth-registry \
    --data-urlencode "scope=repository:$PA/app:pull"
check_status "refresh grant -> 200" 200
check_true "refreshed token: admin with pull on A, and a new refresh token" \
    jq -e --arg u "$ADMIN_USER" '.sub == $u and .access[0].actions == ["pull"]' \
    <<<"$(jwt_payload "$(jq -r .token "$R_BODY")")"
check_jq "refresh grant hands back a refresh token" '.refresh_token | length > 100'
auth_bearer "$REFRESH"
as_req GET /v2/
check_err "a refresh token is no access token on /v2/" 401 UNAUTHORIZED
req_anon POST /service/token --data-urlencode grant_type=refresh_token \
    --data-urlencode "refresh_token=$TA" --data-urlencode service=berth-registry
check_err "an access token is no refresh token" 401 UNAUTHORIZED
req_anon POST /service/token -d grant_type=refresh_token -d refresh_token=garbage
check_err "garbage refresh token -> 401" 401 UNAUTHORIZED

# a password change ends alice's refresh tokens
req GET "/api/v2.0/users/search?username=alice"
ALICE_ID=$(jq -r '.[0].user_id // empty' "$R_BODY")
check_match "alice's user id found" "$ALICE_ID" '^[0-9]+$'
req_as alice:Alice-Pass-1 PUT "/api/v2.0/users/$ALICE_ID/password" -H 'Content-Type: application/json' \
    --data '{"old_password":"Alice-Pass-1","new_password":"Alice-Pass-2"}'
check_status "alice changes her password -> 200" 200
req_anon POST /service/token --data-urlencode grant_type=refresh_token \
    --data-urlencode "refresh_token=$ALICE_REFRESH" --data-urlencode service=berth-registry
check_err "refresh token issued before the password change -> 401" 401 UNAUTHORIZED
req_as alice:Alice-Pass-2 GET "/service/token?service=berth-registry"
check_status "the new password gets a token -> 200" 200

srv_stop
finish
