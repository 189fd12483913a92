#!/usr/bin/env bash
# api_repos.sh - repositories, artifacts, tags, statistics, search, systeminfo, health, metrics
# and pull counters of the management API (/api/v2.0, Harbor's paths and field names):
#   every endpoint's success and errors (400, 401, 403, 404, 405, 409), paging and q filters,
#   permissions of guest / developer / maintainer members and an outsider, nested repository
#   names encoded twice (%252F), index children with platforms, sizes, and pull counts after
#   real pulls: GET by tag counts repository + artifact + tag, GET by digest repository +
#   artifact, HEAD and 304 count nothing, skopeo's pull counts, and counts survive a restart
#   (flushed by the timer, and by the shutdown flush alone).
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
API=/api/v2.0
J=(-H 'Content-Type: application/json')

conf_fast=$BB_TMP/fast.conf
conf_slow=$BB_TMP/slow.conf
printf 'pull_flush_s = 1\n' >"$conf_fast"
printf 'pull_flush_s = 3600\n' >"$conf_slow"

# conf_start CONFIG [DATA_DIR]: srv_start with --config (same readiness rules).
conf_start() {
    local conf=$1
    SRV_DATA=${2:-$(mktemp -d "$BB_TMP/data.XXXXXX")}
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
            not_ok "server starts with $(basename "$conf")" "$(tail -n 20 "$SRV_LOG")"
            finish
        fi
        sleep 0.05
    done
    ok "server started with $(basename "$conf")"
}

as_json() { # CRED METHOD PATH JSON
    local cred=$1 method=$2 path=$3 json=$4
    req_as "$cred" "$method" "$path" "${J[@]}" --data-binary "$json"
}
pw() { printf '%s' "Pw$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')x9"; }

# jqv FILTER: a value of the last body
jqv() { jq -r "$1" "$R_BODY" 2>/dev/null; }

# wait_jq NAME PATH FILTER: polls GET PATH as admin until FILTER is true (10 s deadline)
wait_jq() {
    local name=$1 path=$2 filter=$3 deadline=$((SECONDS + 10))
    while :; do
        req GET "$path"
        if [ "$R_STATUS" = 200 ] && jq -e "$filter" "$R_BODY" >/dev/null 2>&1; then
            ok "$name"
            return 0
        fi
        if [ $SECONDS -ge $deadline ]; then
            not_ok "$name" "last: $R_STATUS $(head -c 400 "$R_BODY")"
            return 0
        fi
        sleep 0.2
    done
}

conf_start "$conf_fast"
project_public library # the tests below were written for a public library

# --- identity: users, projects, members --------------------------------------------------------
DEV_PASS=$(pw)
GST_PASS=$(pw)
MNT_PASS=$(pw)
OUT_PASS=$(pw)
for u in dev gst mnt out; do
    v=${u^^}_PASS
    as_json "$ADMIN_USER:$ADMIN_PASS" POST $API/users \
        "$(jq -cn --arg u "$u" --arg p "${!v}" '{username:$u,password:$p,email:($u+"@x.org"),realname:$u}')"
    check_status "create user $u" 201
done
DEV="dev:$DEV_PASS"
GST="gst:$GST_PASS"
MNT="mnt:$MNT_PASS"
OUT="out:$OUT_PASS"
as_json "$ADMIN_USER:$ADMIN_PASS" POST $API/projects '{"project_name":"prj","metadata":{"public":"false"}}'
check_status "create private project prj" 201
as_json "$ADMIN_USER:$ADMIN_PASS" POST $API/projects '{"project_name":"pubp","metadata":{"public":"true"}}'
check_status "create public project pubp" 201
for m in "dev 2" "gst 3" "mnt 4"; do
    set -- $m
    as_json "$ADMIN_USER:$ADMIN_PASS" POST $API/projects/prj/members \
        "$(jq -cn --arg u "$1" --argjson r "$2" '{role_id:$r,member_user:{username:$u}}')"
    check_status "member $1 role $2" 201
done

# --- content -------------------------------------------------------------------------------------
mk_image "$BB_TMP/img1" >/dev/null
IMG1=$IMG_DIGEST
push_image prj/app v1 "$BB_TMP/img1"
IMG1_SIZE=$(($(size_of "$BB_TMP/img1/manifest.json") + $(size_of "$BB_TMP/img1/config.json") + $(size_of "$BB_TMP/img1/layer.tar.gz")))
mk_image "$BB_TMP/img2" >/dev/null
IMG2=$IMG_DIGEST
push_image prj/app untagged-tmp "$BB_TMP/img2"
req DELETE "/v2/prj/app/manifests/untagged-tmp"
check_status "drop the tag of img2 (an untagged artifact remains)" 202
mk_image "$BB_TMP/img3" >/dev/null
push_image prj/team/tool 1.0 "$BB_TMP/img3"
mk_image "$BB_TMP/img4" >/dev/null
push_image pubp/web latest "$BB_TMP/img4"

# an index over two images of prj/multi
mk_image "$BB_TMP/ia" >/dev/null
IA=$IMG_DIGEST
push_image prj/multi amd "$BB_TMP/ia"
mk_image "$BB_TMP/ib" >/dev/null
IB=$IMG_DIGEST
push_image prj/multi arm "$BB_TMP/ib"
jq -cn --arg mt "$MT_OCI_INDEX" \
    --argjson a "$(descriptor "$MT_OCI_MANIFEST" "$BB_TMP/ia/manifest.json")" \
    --argjson b "$(descriptor "$MT_OCI_MANIFEST" "$BB_TMP/ib/manifest.json")" \
    '{schemaVersion:2, mediaType:$mt, manifests:[
        ($a + {platform:{os:"linux",architecture:"amd64"}}),
        ($b + {platform:{os:"linux",architecture:"arm64",variant:"v8"}})]}' | tr -d '\n' >"$BB_TMP/index.json"
push_manifest prj/multi latest "$BB_TMP/index.json" "$MT_OCI_INDEX"
IDX=$(digest_of "$BB_TMP/index.json")

# --- repositories ------------------------------------------------------------------------------
req GET "$API/repositories?page_size=100"
check_status "GET /repositories as admin -> 200" 200
check_jq "all four repositories, Harbor's fields" '
    (map(.name) | sort) == ["prj/app","prj/multi","prj/team/tool","pubp/web"]
    and all(.[]; has("id") and has("project_id") and has("description") and has("artifact_count")
                 and has("pull_count") and has("creation_time") and has("update_time"))'
check_hdr "X-Total-Count 4" X-Total-Count 4
req GET "$API/repositories?page=2&page_size=1&sort=name"
check_jq "page 2 of 1, sorted by name" 'length == 1 and .[0].name == "prj/multi"'
check_hdr "paged X-Total-Count" X-Total-Count 4
check_hdr_match "Link has prev and next" Link 'rel="prev".*rel="next"'
req GET "$API/repositories?q=name%3D~team"
check_jq "q=name=~team" 'length == 1 and .[0].name == "prj/team/tool"'
req GET "$API/repositories?sort=bogus"
check_err "bad sort -> 400" 400 BAD_REQUEST
req GET "$API/repositories?page_size=1000"
check_err "page_size too large -> 400" 400 BAD_REQUEST
req_anon GET "$API/repositories"
check_jq "anonymous sees the public repository only" 'map(.name) == ["pubp/web"]'
req_as "$OUT" GET "$API/repositories"
check_jq "an outsider sees the public repository only" 'map(.name) == ["pubp/web"]'
req_as "$GST" GET "$API/repositories?page_size=100"
check_jq "a guest of prj sees prj's repositories" 'length == 4'
req POST "$API/repositories"
check_err "POST /repositories -> 405" 405 METHOD_NOT_ALLOWED

req GET "$API/projects/prj/repositories?page_size=100"
check_jq "project repositories" '(map(.name) | sort) == ["prj/app","prj/multi","prj/team/tool"]'
req_anon GET "$API/projects/prj/repositories"
check_err "private project anonymous -> 401" 401 UNAUTHORIZED
req_as "$OUT" GET "$API/projects/prj/repositories"
check_err "private project outsider -> 403" 403 FORBIDDEN
req GET "$API/projects/nope/repositories"
check_err "unknown project -> 404" 404 NOT_FOUND
req_anon GET "$API/projects/pubp/repositories"
check_jq "public project anonymous -> its repository" 'map(.name) == ["pubp/web"]'

req GET "$API/projects/prj/repositories/app"
check_status "GET repository" 200
check_jq "repository app: 2 artifacts, no pulls" '.name == "prj/app" and .artifact_count == 2 and .pull_count == 0'
req GET "$API/projects/prj/repositories/team%252Ftool"
check_jq "nested name encoded twice (%252F)" '.name == "prj/team/tool" and .artifact_count == 1'
req GET "$API/projects/prj/repositories/nothing"
check_err "unknown repository -> 404" 404 NOT_FOUND
req GET "$API/projects/prj/repositories/BAD%2520NAME"
check_err "invalid repository name -> 400" 400 BAD_REQUEST
req GET "$API/projects/1/repositories/app" -H 'X-Is-Resource-Name: false'
check_status "project by id 1 (library) has no app -> 404" 404

as_json "$DEV" PUT $API/projects/prj/repositories/app '{"description":"by dev"}'
check_err "developer cannot update a repository -> 403" 403 FORBIDDEN
as_json "$MNT" PUT $API/projects/prj/repositories/app '{"description":"the app"}'
check_status "maintainer updates the description -> 200" 200
req GET "$API/projects/prj/repositories/app"
check_jq "description stored" '.description == "the app"'
as_json "$MNT" PUT $API/projects/prj/repositories/app '{"description":'
check_err "bad JSON -> 400" 400 BAD_REQUEST
as_json "$MNT" PUT $API/projects/prj/repositories/app '{"description":5}'
check_err "description not a string -> 400" 400 BAD_REQUEST
req_anon PUT $API/projects/prj/repositories/app "${J[@]}" --data '{"description":"x"}'
check_err "anonymous PUT -> 401" 401 UNAUTHORIZED
req PATCH "$API/projects/prj/repositories/app"
check_err "PATCH repository -> 405" 405 METHOD_NOT_ALLOWED

# --- artifacts ---------------------------------------------------------------------------------
req GET "$API/projects/prj/repositories/app/artifacts"
check_status "list artifacts" 200
check_hdr "two artifacts" X-Total-Count 2
check_jq "artifact fields (Harbor's, plus pull_count)" '
    all(.[]; has("id") and .type == "IMAGE" and .media_type == "application/vnd.oci.image.config.v1+json"
        and .manifest_media_type == "application/vnd.oci.image.manifest.v1+json"
        and has("project_id") and has("repository_id") and .repository_name == "prj/app"
        and (.digest | startswith("sha256:")) and (.size | type) == "number" and has("push_time")
        and .pull_time == "0001-01-01T00:00:00Z" and .pull_count == 0 and (.tags | type) == "array"
        and .extra_attrs.architecture == "amd64" and .extra_attrs.os == "linux")'
check_jq "size = manifest + config + layer" 'map(select(.digest == $d))[0].size == ($s | tonumber)' \
    --arg d "$IMG1" --arg s "$IMG1_SIZE"
check_jq "tag v1 with Harbor's tag fields" '
    (map(select(.digest == $d))[0].tags[0]) as $t
    | $t.name == "v1" and ($t | has("id")) and ($t.repository_id | type) == "number"
      and ($t.artifact_id | type) == "number" and $t.immutable == false and ($t | has("push_time"))
      and $t.pull_time == "0001-01-01T00:00:00Z"' --arg d "$IMG1"
req GET "$API/projects/prj/repositories/app/artifacts?with_tag=false"
check_jq "with_tag=false -> tags null" 'all(.[]; .tags == null)'
req GET "$API/projects/prj/repositories/app/artifacts?with_tag=maybe"
check_err "with_tag not a boolean -> 400" 400 BAD_REQUEST
req GET "$API/projects/prj/repositories/app/artifacts?q=tags%3Dv1"
check_jq "q=tags=v1" 'length == 1 and .[0].digest == $d' --arg d "$IMG1"
req GET "$API/projects/prj/repositories/app/artifacts?q=tags%3Dnil"
check_jq "q=tags=nil: the untagged one" 'length == 1 and .[0].digest == $d' --arg d "$IMG2"
req GET "$API/projects/prj/repositories/app/artifacts?q=tags%3D*"
check_jq "q=tags=*: the tagged one" 'length == 1 and .[0].digest == $d' --arg d "$IMG1"
req GET "$API/projects/prj/repositories/app/artifacts?q=digest%3D$IMG2"
check_jq "q=digest=" 'length == 1 and .[0].digest == $d' --arg d "$IMG2"
req GET "$API/projects/prj/repositories/app/artifacts?q=digest%3Dsha256:zz"
check_err "bad digest in q -> 400" 400 BAD_REQUEST
req GET "$API/projects/prj/repositories/app/artifacts?page_size=1&page=2"
check_jq "artifact paging" 'length == 1'
check_hdr "artifact paging total" X-Total-Count 2
req GET "$API/projects/prj/repositories/app/artifacts?sort=nope"
check_err "bad artifact sort -> 400" 400 BAD_REQUEST
req GET "$API/projects/prj/repositories/none/artifacts"
check_err "artifacts of an unknown repository -> 404" 404 NOT_FOUND
req_as "$OUT" GET "$API/projects/prj/repositories/app/artifacts"
check_err "artifacts as outsider -> 403" 403 FORBIDDEN
req_as "$GST" GET "$API/projects/prj/repositories/app/artifacts"
check_status "artifacts as guest -> 200" 200

req GET "$API/projects/prj/repositories/app/artifacts/v1"
check_jq "artifact by tag" '.digest == $d and .tags[0].name == "v1"' --arg d "$IMG1"
req GET "$API/projects/prj/repositories/app/artifacts/$IMG1"
check_jq "artifact by digest" '.digest == $d' --arg d "$IMG1"
req GET "$API/projects/prj/repositories/app/artifacts/nope"
check_err "unknown tag -> 404" 404 NOT_FOUND
req GET "$API/projects/prj/repositories/app/artifacts/sha256:123"
check_err "malformed digest -> 400" 400 BAD_REQUEST

req GET "$API/projects/prj/repositories/multi/artifacts"
check_jq "the index is the only top-level artifact of multi" 'length == 1 and .[0].digest == $d and .[0].type == "IMAGE"
    and .[0].manifest_media_type == $mt' --arg d "$IDX" --arg mt "$MT_OCI_INDEX"
check_jq "index references: children with platforms" '
    .[0].references == [
      {parent_id: .[0].id, child_id: .[0].references[0].child_id, child_digest: $a,
       platform: {os: "linux", architecture: "amd64"}},
      {parent_id: .[0].id, child_id: .[0].references[1].child_id, child_digest: $b,
       platform: {os: "linux", architecture: "arm64", variant: "v8"}}]
    and all(.[0].references[]; .child_id > 0)' --arg a "$IA" --arg b "$IB"
IDX_SIZE=$(($(size_of "$BB_TMP/index.json") + $(size_of "$BB_TMP/ia/manifest.json") + $(size_of "$BB_TMP/ia/config.json") + $(size_of "$BB_TMP/ia/layer.tar.gz") + $(size_of "$BB_TMP/ib/manifest.json") + $(size_of "$BB_TMP/ib/config.json") + $(size_of "$BB_TMP/ib/layer.tar.gz")))
check_jq "index size = index + children" '.[0].size == ($s | tonumber)' --arg s "$IDX_SIZE"
req GET "$API/projects/prj/repositories/multi/artifacts/$IB"
check_jq "a child by digest" '.digest == $d and .extra_attrs.architecture == "amd64"' --arg d "$IB"

req GET "$API/projects/prj/artifacts?page_size=100"
check_jq "project-wide artifacts: app (2), team/tool, multi index" 'length == 4
    and (map(.repository_name) | sort) == ["prj/app","prj/app","prj/multi","prj/team/tool"]'
req POST "$API/projects/prj/artifacts"
check_err "POST project artifacts -> 405" 405 METHOD_NOT_ALLOWED

# --- tags --------------------------------------------------------------------------------------
TAGS=$API/projects/prj/repositories/app/artifacts/$IMG1/tags
req GET "$TAGS"
check_jq "list tags" 'map(.name) == ["v1"]'
check_hdr "tag total" X-Total-Count 1
as_json "$GST" POST "$TAGS" '{"name":"g1"}'
check_err "guest cannot tag -> 403" 403 FORBIDDEN
as_json "$DEV" POST "$TAGS" '{"name":"v1.1"}'
check_status "developer creates tag v1.1 -> 201" 201
check_hdr_present "Location of the new tag" Location
as_json "$DEV" POST "$TAGS" '{"name":"v1.1"}'
check_err "the same tag again -> 409" 409 CONFLICT
as_json "$DEV" POST "$TAGS" '{"name":"bad tag!"}'
check_err "invalid tag name -> 400" 400 BAD_REQUEST
as_json "$DEV" POST "$TAGS" '{"nom":"x"}'
check_err "no name -> 400" 400 BAD_REQUEST
req HEAD "/v2/prj/app/manifests/v1.1" "${ACCEPT_ALL[@]}"
check_hdr "the new tag serves the artifact on /v2/" Docker-Content-Digest "$IMG1"
req GET "$TAGS?q=name%3D~1.1"
check_jq "tags q=name=~1.1" 'map(.name) == ["v1.1"]'
req_as "$DEV" DELETE "$TAGS/v1.1"
check_err "developer cannot delete a tag -> 403" 403 FORBIDDEN
req_as "$MNT" DELETE "$TAGS/v1.1"
check_status "maintainer deletes tag v1.1 -> 200" 200
req_as "$MNT" DELETE "$TAGS/v1.1"
check_err "deleted tag again -> 404" 404 NOT_FOUND
req DELETE "$TAGS/v1.1/extra"
check_err "too deep -> 404" 404 NOT_FOUND
req PUT "$TAGS"
check_err "PUT tags -> 405" 405 METHOD_NOT_ALLOWED

# --- pull counters -----------------------------------------------------------------------------
ART=$API/projects/prj/repositories/app/artifacts/$IMG1
req GET "/v2/prj/app/manifests/v1" "${ACCEPT_ALL[@]}"
check_status "GET manifest by tag" 200
wait_jq "GET by tag: repository +1" "$API/projects/prj/repositories/app" '.pull_count == 1'
req GET "$ART"
check_jq "GET by tag: artifact +1 and pull_time, tag +1" '.pull_count == 1
    and .pull_time != "0001-01-01T00:00:00Z" and .tags[0].pull_count == 1
    and .tags[0].pull_time != "0001-01-01T00:00:00Z"'
req GET "/v2/prj/app/manifests/$IMG1" "${ACCEPT_ALL[@]}"
check_status "GET manifest by digest" 200
wait_jq "GET by digest: repository +1" "$API/projects/prj/repositories/app" '.pull_count == 2'
req GET "$ART"
check_jq "GET by digest: artifact +1, tag unchanged" '.pull_count == 2 and .tags[0].pull_count == 1'
req HEAD "/v2/prj/app/manifests/v1" "${ACCEPT_ALL[@]}"
check_status "HEAD manifest" 200
req GET "/v2/prj/app/manifests/v1" "${ACCEPT_ALL[@]}" -H "If-None-Match: \"$IMG1\""
check_status "conditional GET -> 304" 304
req GET "/v2/prj/app/manifests/nope" "${ACCEPT_ALL[@]}"
check_status "GET unknown tag -> 404" 404
# a pull after those proves the flusher ran past them
req GET "/v2/pubp/web/manifests/latest" "${ACCEPT_ALL[@]}"
wait_jq "a later pull is counted" "$API/projects/pubp/repositories/web" '.pull_count == 1'
req GET "$ART"
check_jq "HEAD, 304 and 404 counted nothing" '.pull_count == 2 and .tags[0].pull_count == 1'
req GET "$API/projects/prj/repositories/app"
check_jq "repository still at 2" '.pull_count == 2'

# a multi-arch pull: the index by tag, then a child by digest (Harbor counts 2)
req GET "/v2/prj/multi/manifests/latest" "${ACCEPT_ALL[@]}"
req GET "/v2/prj/multi/manifests/$IA" "${ACCEPT_ALL[@]}"
wait_jq "multi-arch pull: repository +2" "$API/projects/prj/repositories/multi" '.pull_count == 2'
req GET "$API/projects/prj/repositories/multi/artifacts/latest"
check_jq "index pulled once by tag" '.pull_count == 1 and .tags[0].pull_count == 1'
req GET "$API/projects/prj/repositories/multi/artifacts/$IA"
check_jq "child pulled once by digest (and keeps its own tag count 0)" '.pull_count == 1
    and (.tags | map(select(.name == "amd"))[0].pull_count) == 0'

if command -v skopeo >/dev/null 2>&1; then
    skopeo --insecure-policy inspect --raw --tls-verify=false --creds "$ADMIN_USER:$ADMIN_PASS" \
        "docker://$SRV_HOSTPORT/prj/team/tool:1.0" >/dev/null 2>"$BB_TMP/skopeo.err"
    check_eq "skopeo reads the manifest" "$?" 0
    wait_jq "skopeo's pull is counted" "$API/projects/prj/repositories/team%252Ftool" '.pull_count >= 1'
else
    skip "skopeo not installed"
fi

# --- metrics, statistics, search, systeminfo, health ------------------------------------------
req GET /metrics
check_status "GET /metrics as admin" 200
check_contains "pull counter of prj/app" "$(body)" \
    'berth_pulls_total{project="prj",repository="prj/app"} 2'
check_hdr_match "Prometheus text format" Content-Type '^text/plain; version=0.0.4'
req GET $API/metrics
check_contains "also under /api/v2.0/metrics" "$(body)" \
    'berth_pulls_total{project="prj",repository="prj/multi"} 2'
req_anon GET /metrics
check_err "metrics anonymous -> 401" 401 UNAUTHORIZED
req_as "$DEV" GET /metrics
check_err "metrics as a non-admin -> 403" 403 FORBIDDEN

req GET $API/statistics
check_jq "statistics as admin" '.private_project_count == 1 and .public_project_count == 2
    and .total_project_count == 3 and .private_repo_count == 3 and .public_repo_count == 1
    and .total_repo_count == 4 and .total_storage_consumption > 0'
req_as "$OUT" GET $API/statistics
check_jq "statistics as outsider: no private" '.private_project_count == 0 and .private_repo_count == 0
    and .total_storage_consumption == 0'
req_anon GET $API/statistics
check_err "statistics anonymous -> 401" 401 UNAUTHORIZED

req GET "$API/search?q=pr"
check_jq "search as admin" '(.project | map(.name)) == ["prj"]
    and (.repository | map(.repository_name) | sort) == ["prj/app","prj/multi","prj/team/tool"]
    and all(.repository[]; has("project_id") and .project_name == "prj" and .project_public == false
            and has("pull_count") and has("artifact_count"))'
req_anon GET "$API/search?q=p"
check_jq "search anonymous: public only" '(.project | map(.name)) == ["pubp"] and (.repository | map(.repository_name)) == ["pubp/web"]'
req_as "$OUT" GET "$API/search?q=p"
check_jq "search as a logged-in non-member: public only" '(.project | map(.name)) == ["pubp"]
    and (.repository | map(.repository_name)) == ["pubp/web"]'
req_as "$DEV" GET "$API/search?q=p"
check_jq "search as a member: its private project and repositories too" '(.project | map(.name) | sort) == ["prj","pubp"]
    and (.repository | map(.repository_name) | sort) == ["prj/app","prj/multi","prj/team/tool","pubp/web"]'
# a robot with a pull grant on prj finds prj and its repositories
as_json "$ADMIN_USER:$ADMIN_PASS" POST $API/robots '{"name":"finder","level":"project","duration":-1,
    "permissions":[{"kind":"project","namespace":"prj","access":[{"resource":"repository","action":"pull"}]}]}'
check_status "robot with pull on prj" 201
ROBOT="$(jqv .name):$(jqv .secret)"
req_as "$ROBOT" GET "$API/search?q=p"
check_jq "search as a robot: the project it has a grant on, and its repositories" '(.project | map(.name) | sort) == ["prj","pubp"]
    and (.repository | map(.repository_name) | sort) == ["prj/app","prj/multi","prj/team/tool","pubp/web"]'
req GET "$API/search"
check_err "search without q -> 400" 400 BAD_REQUEST

req_anon GET $API/systeminfo
check_jq "systeminfo" '.harbor_version | startswith("berth-")'
check_jq "systeminfo fields" '.auth_mode == "db_auth" and .with_chartmuseum == false and (.registry_url | length) > 0'
req_anon GET $API/health
check_jq "health: all components healthy" '.status == "healthy"
    and (.components | map(.name)) == ["core","database","storage"] and all(.components[]; .status == "healthy")'
chmod 0500 "$SRV_DATA"
req_anon GET $API/health
if [ "$(id -u)" = 0 ]; then
    skip "health storage failure (root ignores directory permissions)"
else
    check_jq "health: storage unhealthy when the data directory is read-only" '.status == "unhealthy"'
fi
chmod 0750 "$SRV_DATA"
req DELETE $API/health
check_err "DELETE /health -> 405" 405 METHOD_NOT_ALLOWED

# --- deletes -----------------------------------------------------------------------------------
req_as "$DEV" DELETE "$API/projects/prj/repositories/app/artifacts/$IMG2"
check_err "developer cannot delete an artifact -> 403" 403 FORBIDDEN
req_as "$MNT" DELETE "$API/projects/prj/repositories/app/artifacts/$IMG2"
check_status "maintainer deletes an artifact -> 200" 200
req GET "$API/projects/prj/repositories/app/artifacts/$IMG2"
check_err "deleted artifact -> 404" 404 NOT_FOUND
req GET "/v2/prj/app/manifests/$IMG2" "${ACCEPT_ALL[@]}"
check_status "gone from /v2/ too" 404
req_as "$GST" DELETE "$API/projects/prj/repositories/team%252Ftool"
check_err "guest cannot delete a repository -> 403" 403 FORBIDDEN
req_anon DELETE "$API/projects/prj/repositories/team%252Ftool"
check_err "anonymous delete -> 401" 401 UNAUTHORIZED
req DELETE "$API/projects/prj/repositories/team%252Ftool"
check_status "admin deletes a nested repository -> 200" 200
req GET "$API/projects/prj/repositories/team%252Ftool"
check_err "deleted repository -> 404" 404 NOT_FOUND
req DELETE "$API/projects/prj/repositories/team%252Ftool"
check_err "delete again -> 404" 404 NOT_FOUND
req GET "/v2/prj/team/tool/manifests/1.0" "${ACCEPT_ALL[@]}"
check_status "its manifests are gone from /v2/" 404

# --- counts survive restarts ---------------------------------------------------------------------
srv_stop
conf_start "$conf_slow" "$SRV_DATA"
req GET "$API/projects/prj/repositories/app"
check_jq "after a restart: repository count kept" '.pull_count == 2'
req GET "$ART"
check_jq "after a restart: artifact and tag counts kept" '.pull_count == 2 and .tags[0].pull_count == 1'
# with a one-hour flush interval only the shutdown flush can write these
req GET "/v2/prj/app/manifests/v1" "${ACCEPT_ALL[@]}"
req GET "/v2/prj/app/manifests/v1" "${ACCEPT_ALL[@]}"
check_eq "batched: not written before a flush" \
    "$("$BERTH_BIN" stats --data "$SRV_DATA" --json prj/app 2>/dev/null |
        jq -r '.repositories[0].pull_count')" 2
req GET "$API/projects/prj/repositories/app"
check_jq "read-your-writes: the API adds the pending pulls" '.pull_count == 4'
srv_stop
conf_start "$conf_slow" "$SRV_DATA"
req GET "$ART"
check_jq "the shutdown flush wrote the pending pulls" '.pull_count == 4 and .tags[0].pull_count == 3'
srv_stop

# --- berth stats (offline) -----------------------------------------------------------------------
"$BERTH_BIN" stats --data "$SRV_DATA" --json >"$R_BODY" 2>"$BB_TMP/stats.err"
check_eq "berth stats --json exits 0" "$?" 0
check_jq "stats: repository, artifact and tag counts" '
    (.repositories | map(select(.name == "prj/app"))[0]) as $r
    | $r.pull_count == 4 and ($r.artifacts | map(select(.digest == $d))[0]) as $a
    | $a.pull_count == 4 and ($a.tags | map(select(.name == "v1"))[0].pull_count) == 3' --arg d "$IMG1"
check_jq "stats: index children listed under their index with their own counts" '
    (.repositories | map(select(.name == "prj/multi"))[0].artifacts) as $arts
    | ($arts | map(select(.digest == $i))[0].pull_count) == 1 and ($arts | map(select(.digest == $a))[0].child_of) == $x' \
    --arg i "$IDX" --arg a "$IA" --arg x "$IDX"
"$BERTH_BIN" stats --data "$SRV_DATA" prj/app >"$BB_TMP/stats.txt" 2>&1
check_eq "berth stats REPO (table) exits 0" "$?" 0
check_contains "table names the repository" "$(cat "$BB_TMP/stats.txt")" "prj/app"
check_contains "table shows tag pulls" "$(cat "$BB_TMP/stats.txt")" "v1 (3)"
"$BERTH_BIN" stats --data "$SRV_DATA" prj/none >/dev/null 2>&1
check_eq "berth stats of an unknown repository exits 1" "$?" 1
"$BERTH_BIN" stats --data "$BB_TMP/no-such-dir" >/dev/null 2>&1
check_eq "berth stats without a database exits 1" "$?" 1
"$BERTH_BIN" stats --bogus >/dev/null 2>&1
check_eq "berth stats bad flag exits 2" "$?" 2
finish
