#!/usr/bin/env bash
# auth_matrix.sh - the permission matrix: every Harbor role (projectAdmin 1, developer 2,
# guest 3, maintainer 4, limitedGuest 5), a non-member and a sysadmin x {pull, push, delete,
# catalog, mount} with Basic credentials on /v2/, the same roles' token grants, requests with
# bearer tokens, and anonymous callers on a public and a private project. Users, projects and
# members are made through the REST API.
#
# Expected (auth/rbac.h): pull for every role; push for 1, 2, 4; delete for 1, 4; the catalog
# shows each caller the repositories of projects it may pull from; a mount needs push on the
# target and pull on `from`, else it falls back to an upload session (202).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_auth.sh"

# the proxy-header checks at the end come from loopback: trusted as a proxy
printf 'trusted_proxies = 127.0.0.1\n' >"$BB_TMP/proxy.conf"
BB_SERVE_ARGS="--config $BB_TMP/proxy.conf"
srv_start

P=$(rand_name mp)   # the project under test, private
Q=$(rand_name mq)   # another private project, nobody but admin in it
PUB=$(rand_name mpub)
check_true "create projects (two private, one public)" \
    eval 'api_project "$P" false && api_project "$Q" false && api_project "$PUB" true'

ROLES=(1 2 3 4 5)
NAMES=([1]=projectAdmin [2]=developer [3]=guest [4]=maintainer [5]=limitedGuest)
WANT_PUSH=([1]=yes [2]=yes [3]=no [4]=yes [5]=no)
WANT_DEL=([1]=yes [2]=no [3]=no [4]=yes [5]=no)
PASS=Role-Pass-1
for r in "${ROLES[@]}"; do
    check_true "user ${NAMES[$r]}user is a ${NAMES[$r]} of P" \
        eval "api_user ${NAMES[$r],,}user $PASS && api_member $P ${NAMES[$r],,}user $r"
done
check_true "user outsider exists, member of nothing" api_user outsider "$PASS"

# content made by admin: P/base:v1, Q/src:v1, PUB/app:v1, and one P/del-<role>:v1 per role
auth_basic "$ADMIN_USER:$ADMIN_PASS"
try_push "$P/base" v1
check_eq "admin pushes P/base" "$PUSH_STATUS" 201
BASE_LAYER=$PUSH_LAYER_DIGEST
try_push "$Q/src" v1
check_eq "admin pushes Q/src" "$PUSH_STATUS" 201
Q_LAYER=$PUSH_LAYER_DIGEST
try_push "$PUB/app" v1
check_eq "admin pushes PUB/app" "$PUSH_STATUS" 201
PUB_MANIFEST=$PUSH_MANIFEST_DIGEST
declare -A DEL_DIGEST
for r in "${ROLES[@]}" x; do
    try_push "$P/del-$r" v1
    DEL_DIGEST[$r]=$PUSH_MANIFEST_DIGEST
done
check_eq "admin pushes P/del-<role> for every role" "$PUSH_STATUS" 201

# --- Basic credentials: every role x {pull, push, delete, catalog, mount} --------------------------------
for r in "${ROLES[@]}"; do
    n=${NAMES[$r]}
    auth_basic "${n,,}user:$PASS"
    as_req GET "/v2/$P/base/manifests/v1" "${ACCEPT_ALL[@]}"
    check_status "$n: pull P -> 200" 200
    as_req HEAD "/v2/$P/base/blobs/$BASE_LAYER"
    check_status "$n: HEAD blob in P -> 200" 200
    as_req GET "/v2/$Q/src/manifests/v1" "${ACCEPT_ALL[@]}"
    check_err "$n: pull Q (not a member) -> 403" 403 DENIED

    try_push "$P/push-$r" v1
    if [ "${WANT_PUSH[$r]}" = yes ]; then
        check_eq "$n: push to P -> 201" "$PUSH_STATUS" 201
    else
        check_eq "$n: push to P -> 403" "$PUSH_STATUS" 403
    fi

    as_req DELETE "/v2/$P/del-$r/manifests/${DEL_DIGEST[$r]}"
    if [ "${WANT_DEL[$r]}" = yes ]; then
        check_status "$n: delete in P -> 202" 202
    else
        check_err "$n: delete in P -> 403" 403 DENIED
    fi

    as_req GET "/v2/_catalog"
    check_status "$n: catalog -> 200" 200
    check_jq "$n: catalog shows P's and PUB's repositories, none of Q" \
        '(.repositories | index($p)) != null and (.repositories | index($pub)) != null
         and (.repositories | index($q)) == null' \
        --arg p "$P/base" --arg q "$Q/src" --arg pub "$PUB/app"

    as_req POST "/v2/$P/mount-$r/blobs/uploads/?mount=$BASE_LAYER&from=$P/base"
    if [ "${WANT_PUSH[$r]}" = yes ]; then
        check_status "$n: mount from P into P -> 201" 201
    else
        check_err "$n: mount into P without push -> 403" 403 DENIED
    fi
    if [ "${WANT_PUSH[$r]}" = yes ]; then
        as_req POST "/v2/$P/mount-$r/blobs/uploads/?mount=$Q_LAYER&from=$Q/src"
        check_status "$n: mount from Q (no pull there) falls back to an upload session (202)" 202
        as_req POST "/v2/$P/mount-$r/blobs/uploads/?mount=$Q_LAYER"
        check_status "$n: mount without from does not find Q's blob (202)" 202
    fi
done

# non-member and sysadmin
auth_basic "outsider:$PASS"
as_req GET "/v2/$P/base/manifests/v1" "${ACCEPT_ALL[@]}"
check_err "outsider: pull P -> 403" 403 DENIED
as_req POST "/v2/$P/x/blobs/uploads/"
check_err "outsider: push P -> 403" 403 DENIED
as_req GET "/v2/$PUB/app/manifests/v1" "${ACCEPT_ALL[@]}"
check_status "outsider: pull public PUB -> 200" 200
as_req POST "/v2/$PUB/x/blobs/uploads/"
check_err "outsider: push public PUB -> 403" 403 DENIED
as_req GET /v2/_catalog
check_jq "outsider: catalog shows PUB only" \
    '(.repositories | index($pub)) != null and (.repositories | index($p)) == null' \
    --arg pub "$PUB/app" --arg p "$P/base"
auth_basic "$ADMIN_USER:$ADMIN_PASS"
as_req DELETE "/v2/$P/del-x/manifests/${DEL_DIGEST[x]}"
check_status "sysadmin: delete in P -> 202" 202
as_req GET /v2/_catalog
check_jq "sysadmin: catalog shows every project" \
    '(.repositories | index($q)) != null and (.repositories | index($p)) != null' \
    --arg q "$Q/src" --arg p "$P/base"
as_req GET "/v2/_catalog?n=1"
check_jq "catalog paginates after filtering (n=1 gives one name)" '.repositories | length == 1'
check_hdr_match "with a Link to the next page" Link 'rel="next"'

# --- tokens: what each role is granted --------------------------------------------------------------------------
for r in "${ROLES[@]}"; do
    n=${NAMES[$r]}
    want='["pull"]'
    [ "${WANT_PUSH[$r]}" = yes ] && want='["pull","push"]'
    [ "${WANT_DEL[$r]}" = yes ] && want='["delete","pull","push"]'
    T=$(token_get "${n,,}user:$PASS" "repository:$P/app:pull,push,delete" "repository:$Q/src:pull")
    check_true "$n: token grants $want on P and nothing on Q" jq -e --argjson w "$want" \
        '(.access[0].actions | sort) == $w and .access[1].actions == []' <<<"$(jwt_payload "$T")"
done
T=$(token_get "outsider:$PASS" "repository:$P/app:pull,push,delete")
check_true "outsider: token grants nothing on P" jq -e '.access[0].actions == []' <<<"$(jwt_payload "$T")"

# requests with bearer tokens
T=$(token_get "developeruser:$PASS" "repository:$P/tokpush:pull,push" "repository:$P/base:pull")
auth_bearer "$T"
try_push "$P/tokpush" v1
check_eq "developer with a token: push -> 201" "$PUSH_STATUS" 201
as_req POST "/v2/$P/tokpush/blobs/uploads/?mount=$BASE_LAYER&from=$P/base"
check_status "developer with a token holding pull on from: mount -> 201" 201
as_req POST "/v2/$P/tokpush/blobs/uploads/?mount=$Q_LAYER&from=$Q/src"
check_status "developer with a token lacking from: mount falls back (202)" 202
as_req DELETE "/v2/$P/tokpush/manifests/$PUSH_MANIFEST_DIGEST"
check_err "developer with a token: delete -> 401 (not in the token)" 401 UNAUTHORIZED
T=$(token_get "guestuser:$PASS" "repository:$P/base:pull,push")
auth_bearer "$T"
as_req GET "/v2/$P/base/manifests/v1" "${ACCEPT_ALL[@]}"
check_status "guest with a token: pull -> 200" 200
as_req POST "/v2/$P/base/blobs/uploads/"
check_err "guest with a token: push -> 401 insufficient_scope" 401 UNAUTHORIZED
check_hdr_match "challenge asks for push" WWW-Authenticate 'scope="repository:[^"]*:pull,push",error="insufficient_scope"'
T=$(token_get "maintaineruser:$PASS" "repository:$P/push-4:delete")
auth_bearer "$T"
req GET "/v2/$P/push-4/manifests/v1" "${ACCEPT_ALL[@]}"
D4=$(hdr Docker-Content-Digest)
as_req DELETE "/v2/$P/push-4/manifests/$D4"
check_status "maintainer with a token: delete -> 202" 202

# --- anonymous ----------------------------------------------------------------------------------------------------
auth_none
as_req GET "/v2/$PUB/app/manifests/v1" "${ACCEPT_ALL[@]}"
check_status "anonymous: pull manifest of a public project without a challenge -> 200" 200
as_req HEAD "/v2/$PUB/app/manifests/$PUB_MANIFEST" "${ACCEPT_ALL[@]}"
check_status "anonymous: HEAD manifest by digest -> 200" 200
as_req GET "/v2/$PUB/app/tags/list"
check_jq "anonymous: tags list of a public project" '.tags == ["v1"]'
as_req POST "/v2/$PUB/app/blobs/uploads/"
check_err "anonymous: push to a public project -> 401" 401 UNAUTHORIZED
check_hdr_match "with a Bearer challenge for pull,push" WWW-Authenticate \
    "^Bearer realm=\"http://$SRV_HOSTPORT/service/token\",service=\"berth-registry\",scope=\"repository:$PUB/app:pull,push\"\$"
as_req DELETE "/v2/$PUB/app/manifests/$PUB_MANIFEST"
check_err "anonymous: delete in a public project -> 401" 401 UNAUTHORIZED
check_hdr_match "with a Bearer challenge for delete" WWW-Authenticate "scope=\"repository:$PUB/app:delete\""
as_req GET "/v2/$P/base/manifests/v1" "${ACCEPT_ALL[@]}"
check_err "anonymous: pull from a private project -> 401" 401 UNAUTHORIZED
check_hdr_match "with a Bearer challenge for pull" WWW-Authenticate "scope=\"repository:$P/base:pull\"\$"
as_req GET /v2/_catalog
check_err "anonymous: catalog -> 401" 401 UNAUTHORIZED
check_hdr_match "with a catalog challenge" WWW-Authenticate 'scope="registry:catalog:\*"'
auth_bearer "$(token_get "" "repository:$PUB/app:pull")"
as_req GET "/v2/$PUB/app/manifests/v1" "${ACCEPT_ALL[@]}"
check_status "anonymous token: pull from the public project -> 200" 200
req_anon GET "/v2/$PUB/app/tags/list" -H "X-Forwarded-Proto: https" -H "Host: registry.example.com"
check_status "anonymous tags list with proxy headers -> 200" 200
req_anon GET "/v2/" -H "X-Forwarded-Proto: https" -H "Host: registry.example.com:443"
check_hdr_match "realm follows Host and X-Forwarded-Proto" WWW-Authenticate \
    '^Bearer realm="https://registry.example.com:443/service/token"'
req_anon GET "/v2/" -H 'Host: evil.com",x="1'
check_hdr_match "a Host with quotes is not copied into the challenge" WWW-Authenticate \
    "^Bearer realm=\"http://$SRV_HOSTPORT/service/token\""

srv_stop
finish
