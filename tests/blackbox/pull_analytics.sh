#!/usr/bin/env bash
# pull_analytics.sh - pull counting as clients see it: the API shows each pull at once (no
# sleep), exactly: by tag, by digest, an index and its child, HEAD, If-None-Match and failures
# not counted, each client family recognised (curl with each family's User-Agent, then the real
# skopeo, podman, berth pull, ctr and docker where they run here), exclusions by configuration,
# the time series after a restart, SIGTERM losing nothing, kill -9 losing at most one flush
# interval, `berth stats --url`, promtool on the live /metrics, and retention (buckets of 100
# days ago, written offline, pruned at the next start as configured).
. "$(dirname "$0")/lib.sh"

API=/api/v2.0
BERTH_CLI=${BERTH_CLI:-$BERTH_BIN}

# counts of repository R (library/R): repo, artifact by reference, tag
repo_count() {
    req GET "$API/projects/library/repositories/$1"
    jq -r '.pull_count' "$R_BODY"
}
art_count() {
    req GET "$API/projects/library/repositories/$1/artifacts/$2"
    jq -r '.pull_count' "$R_BODY"
}
tag_count() {
    req GET "$API/projects/library/repositories/$1/artifacts/$2/tags"
    jq -r --arg t "$2" '.[] | select(.name == $t) | .pull_count' "$R_BODY"
}
# family_count R FAMILY: image pulls plus child fetches of FAMILY on library/R (time series)
family_count() {
    req GET "$API/projects/library/repositories/$1/pulls/timeseries?granularity=day&group_by=client"
    jq -r --arg f "$2" '[.series[] | select(.key == $f) | .pulls + .child_fetches] | add // 0' \
        "$R_BODY"
}
# counts R REF TAG: "repo artifact tag" in one line
counts() { echo "$(repo_count "$1") $(art_count "$1" "$2") $(tag_count "$1" "$3")"; }

get_manifest() { # REF [curl args]: GET library/app's manifest REF
    local ref=$1
    shift
    req GET "/v2/library/app/manifests/$ref" -H "Accept: $MT_OCI_MANIFEST" "$@"
}

srv_start

# --- one image, by tag and by digest ---------------------------------------------------------
mk_image "$BB_TMP/img"
push_image library/app 1.0 "$BB_TMP/img"
DIG=$IMG_DIGEST
check_eq "a new image: no pulls" "$(counts app 1.0 1.0)" "0 0 0"

get_manifest 1.0 -A 'docker/24.0.7 go/go1.20.10 git-commit/311b9ff os/linux arch/amd64'
check_status "GET by tag -> 200" 200
check_eq "read at once: repository, artifact and tag count 1" "$(counts app 1.0 1.0)" "1 1 1"
req GET "$API/projects/library/repositories/app/artifacts/1.0"
check_jq "the artifact's pull_time is set" '.pull_time | startswith("20")'

get_manifest "$DIG" -A 'docker/24.0.7 go/go1.20.10'
check_status "GET by digest -> 200" 200
check_eq "by digest: repository and artifact +1, the tag unchanged" "$(counts app 1.0 1.0)" "2 2 1"

# --- what never counts -------------------------------------------------------------------------
req HEAD "/v2/library/app/manifests/1.0" -H "Accept: $MT_OCI_MANIFEST"
check_status "HEAD -> 200" 200
get_manifest 1.0 -H "If-None-Match: \"$DIG\""
check_status "If-None-Match with the digest -> 304" 304
get_manifest nope
check_status "an unknown tag -> 404" 404
get_manifest "sha256:$(printf '%064d' 0)"
check_status "an unknown digest -> 404" 404
req_as "$ADMIN_USER:wrong" GET "/v2/library/app/manifests/1.0"
check_status "a wrong password -> 401" 401
req_anon GET "/v2/library/app/manifests/1.0"
check_status "anonymous on a private project -> 401" 401
req GET "/v2/library/nothere/manifests/1.0"
check_status "an unknown repository -> 404" 404
check_eq "HEAD, 304 and failures counted nothing" "$(counts app 1.0 1.0)" "2 2 1"

# --- a multi-platform index: one image pull plus one child fetch -------------------------------
mk_image "$BB_TMP/amd"
push_image library/multi "$IMG_DIGEST" "$BB_TMP/amd"
AMD=$IMG_DIGEST
mk_image "$BB_TMP/arm"
push_image library/multi "$IMG_DIGEST" "$BB_TMP/arm"
ARM=$IMG_DIGEST
jq -cn --argjson a "$(descriptor "$MT_OCI_MANIFEST" "$BB_TMP/amd/manifest.json")" \
    --argjson b "$(descriptor "$MT_OCI_MANIFEST" "$BB_TMP/arm/manifest.json")" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [$a + {platform: {os: "linux", architecture: "amd64"}},
                  $b + {platform: {os: "linux", architecture: "arm64"}}]}' | tr -d '\n' \
    >"$BB_TMP/index.json"
IDX=$(digest_of "$BB_TMP/index.json")
push_manifest library/multi multi "$BB_TMP/index.json" application/vnd.oci.image.index.v1+json
req GET "/v2/library/multi/manifests/multi" -H 'Accept: application/vnd.oci.image.index.v1+json' \
    -A 'containerd/1.7.13'
check_status "GET the index by tag -> 200" 200
req GET "/v2/library/multi/manifests/$AMD" -H "Accept: $MT_OCI_MANIFEST" -A 'containerd/1.7.13'
check_status "GET its amd64 child by digest -> 200" 200
check_eq "index pull: repository counts 2 (Harbor's rule)" "$(repo_count multi)" 2
check_eq "the index artifact counts 1" "$(art_count multi "$IDX")" 1
check_eq "the child counts 1" "$(art_count multi "$AMD")" 1
check_eq "the other child counts 0" "$(art_count multi "$ARM")" 0
req GET "$API/projects/library/repositories/multi/pulls/timeseries?granularity=hour&group_by=artifact"
check_jq "time series: the index is 1 image pull" \
    '[.series[] | select(.key == $d)][0] | .pulls == 1 and .child_fetches == 0' --arg d "$IDX"
check_jq "time series: the child is 1 child fetch, no image pull" \
    '[.series[] | select(.key == $d)][0] | .pulls == 0 and .child_fetches == 1' --arg d "$AMD"
# a child pulled by digest on its own, where no index lists it, is an image pull
req GET "/v2/library/app/manifests/$DIG" -H "Accept: $MT_OCI_MANIFEST" -A 'containerd/1.7.13'
req GET "$API/projects/library/repositories/app/pulls/timeseries?granularity=hour&group_by=artifact"
check_jq "a top-level digest pull is an image pull" \
    '[.series[] | select(.key == $d)][0] | .child_fetches == 0' --arg d "$DIG"

# --- each client family, by User-Agent ---------------------------------------------------------
declare -A UA=(
    [docker]='docker/20.10.24+dfsg1 go/go1.19.8 git-commit/5d6db84 kernel/6.1.0 os/linux arch/amd64'
    [containerd]='containerd/v1.6.20~ds1'
    [podman]='containers/5.24.2 (github.com/containers/image)'
    [crane]='go-containerregistry/v0.19.0'
    [helm]='Helm/3.14.0'
    [berth]='berth-pull/1'
    [other]='Wget/1.21'
)
for f in docker containerd podman crane helm berth other; do
    before=$(family_count app "$f")
    get_manifest 1.0 -A "${UA[$f]}"
    check_eq "User-Agent of $f: recognised, counted once" "$(family_count app "$f")" \
        "$((before + 1))"
done
req GET "$API/projects/library/repositories/app/pulls/timeseries?granularity=day&group_by=user"
check_jq "who: admin is a user" '[.series[] | select(.key == "admin")][0].kind == "user"'

# --- real clients ------------------------------------------------------------------------------
# client_pull NAME FAMILY WANT_REPO_DELTA CMD...: run a real client, then read at once
client_pull() {
    local name=$1 fam=$2 want=$3 r0 f0
    shift 3
    r0=$(repo_count app)
    f0=$(family_count app "$fam")
    if ! "$@" >"$BB_TMP/client.log" 2>&1; then
        not_ok "$name pulls library/app:1.0" "$(tail -n 5 "$BB_TMP/client.log")"
        return 0
    fi
    check_eq "$name: repository pull_count +$want, read at once" "$(repo_count app)" \
        "$((r0 + want))"
    check_eq "$name: counted as $fam" "$(family_count app "$fam")" "$((f0 + want))"
}

if command -v skopeo >/dev/null 2>&1; then
    client_pull "skopeo copy" podman 1 skopeo_pull library/app:1.0 "$BB_TMP/sk" 1.0
else
    skip "skopeo" "skopeo not installed"
fi

if command -v podman >/dev/null 2>&1; then
    POD=(podman --root "$BB_TMP/podroot" --runroot "$BB_TMP/podrun" --storage-driver vfs)
    client_pull "podman pull" podman 1 "${POD[@]}" pull -q --tls-verify=false \
        --creds "$ADMIN_USER:$ADMIN_PASS" "$SRV_HOSTPORT/library/app:1.0"
else
    skip "podman" "podman not installed"
fi

printf '{"auths":{"%s":{"auth":"%s"}}}' "$SRV_HOSTPORT" \
    "$(printf '%s:%s' "$ADMIN_USER" "$ADMIN_PASS" | base64 -w0)" >"$BB_TMP/dockercfg.json"
client_pull "berth pull" berth 1 "$BERTH_CLI" pull --quiet --plain-http \
    --secret "$BB_TMP/dockercfg.json" --oci "$BB_TMP/bp" "$SRV_HOSTPORT/library/app:1.0"

CT=$BB_TMP/ctrd
CTSOCK=$CT/c.sock
CT_PID=""
DK_PID=""
if command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    mkdir -p "$CT"
    cat >"$CT/config.toml" <<EOF
version = 2
root = "$CT/root"
state = "$CT/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$CTSOCK"
[ttrpc]
  address = "$CTSOCK.ttrpc"
[debug]
  address = "$CT/debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$CT/opt"
EOF
    containerd --config "$CT/config.toml" >"$BB_TMP/containerd.log" 2>&1 &
    CT_PID=$!
    deadline=$((SECONDS + 20))
    until ctr -a "$CTSOCK" version >/dev/null 2>&1 || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
    if ctr -a "$CTSOCK" version >/dev/null 2>&1; then
        # containerd resolves a tag with HEAD (not counted), then GETs the manifest by digest
        client_pull "ctr pull" containerd 1 ctr -a "$CTSOCK" -n bb images pull --plain-http \
            --user "$ADMIN_USER:$ADMIN_PASS" --snapshotter native "$SRV_HOSTPORT/library/app:1.0"
    else
        skip "ctr" "containerd did not start here: $(tail -n 1 "$BB_TMP/containerd.log")"
    fi
else
    skip "ctr" "containerd/ctr not installed or not root"
fi

DK=$BB_TMP/dk
if command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    mkdir -p "$DK/data" "$DK/exec" "$DK/cfg"
    dockerd --data-root "$DK/data" --exec-root "$DK/exec" -H "unix://$DK/d.sock" \
        --pidfile "$DK/d.pid" --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
        --storage-driver vfs --insecure-registry "$SRV_HOSTPORT" >"$BB_TMP/dockerd.log" 2>&1 &
    DK_PID=$!
    dk() { DOCKER_HOST=unix://$DK/d.sock DOCKER_CONFIG=$DK/cfg timeout 120 docker "$@"; }
    deadline=$((SECONDS + 40))
    until dk version >/dev/null 2>&1 || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
    if dk version >/dev/null 2>&1 &&
        printf '%s' "$ADMIN_PASS" | dk login -u "$ADMIN_USER" --password-stdin "$SRV_HOSTPORT" \
            >/dev/null 2>&1; then
        client_pull "docker pull" docker 1 dk pull -q "$SRV_HOSTPORT/library/app:1.0"
    else
        skip "docker" "dockerd did not start here: $(grep -iE 'level=(error|fatal)' \
            "$BB_TMP/dockerd.log" | tail -n 1 | cut -c1-120)"
    fi
else
    skip "docker" "docker/dockerd not installed or not root"
fi
[ -n "$DK_PID" ] && kill "$DK_PID" 2>/dev/null && bb_wait_exit "$DK_PID" 20
[ -n "$CT_PID" ] && kill "$CT_PID" 2>/dev/null && bb_wait_exit "$CT_PID" 20

# --- berth stats over the API, and the live /metrics -------------------------------------------
n_app=$(repo_count app)
out=$(BERTH_PASSWORD=$ADMIN_PASS "$BERTH_CLI" stats --url "$SRV_URL" --user "$ADMIN_USER" \
    --repo library/app --json 2>"$BB_TMP/stats.err")
check_eq "berth stats --url: the same pull_count at once" \
    "$(jq -r '.repositories[0].pull_count' <<<"$out")" "$n_app"
out=$(BERTH_PASSWORD=$ADMIN_PASS "$BERTH_CLI" stats --url "$SRV_URL" --user "$ADMIN_USER" \
    --project library --by client --since 1d 2>"$BB_TMP/stats.err")
check_contains "berth stats --by client lists the families" "$out" "containerd"
out=$(BERTH_PASSWORD=$ADMIN_PASS "$BERTH_CLI" stats --url "$SRV_URL" --user "$ADMIN_USER" \
    --project library --top 1 --json 2>"$BB_TMP/stats.err")
check_eq "berth stats --top 1: library/app is the busiest" \
    "$(jq -r '.repositories.items[0].repository_name' <<<"$out")" library/app
out=$(BERTH_PASSWORD=$ADMIN_PASS "$BERTH_CLI" stats --url "$SRV_URL" --user "$ADMIN_USER" \
    --project library --stale 1d --json 2>"$BB_TMP/stats.err")
check_eq "berth stats --stale 1d: the never-pulled arm64 child is not listed (not top level)" \
    "$(jq -r '[.artifacts[].digest] | index("'"$ARM"'")' <<<"$out")" null
req GET "$API/projects/library/pulls/stale?before=$(($(date +%s) + 10))&kind=tag&page_size=100"
check_status "stale listing -> 200" 200
check_jq "stale listing: tags with their size" 'map(select(.tag == "1.0"))[0].size > 0'

req GET /metrics
check_status "GET /metrics as admin -> 200" 200
check_match "metrics: pulls of library/app, read at once" "$(body)" \
    "berth_pulls_total\\{project=\"library\",repository=\"library/app\"\\} $n_app"
check_match "metrics: pushes of library/multi" "$(body)" \
    'berth_pushes_total\{project="library",repository="library/multi"\} 3'
check_match "metrics: manifest GETs by status" "$(body)" \
    'berth_http_requests_total\{class="v2_manifest",method="GET",status="304"\} 1'
if command -v promtool >/dev/null 2>&1; then
    if promtool check metrics <"$R_BODY" >"$BB_TMP/promtool.log" 2>&1; then
        ok "promtool check metrics accepts the live /metrics"
    else
        not_ok "promtool check metrics accepts the live /metrics" "$(head -n 20 "$BB_TMP/promtool.log")"
    fi
else
    skip "promtool check metrics" "promtool not installed (prometheus package; make deps-test)"
fi
req_anon GET /metrics
check_status "/metrics for anonymous (metrics_access admin) -> 401" 401

# --- SIGTERM loses no count; the history survives the restart ----------------------------------
req GET "$API/projects/library/pulls/timeseries?granularity=hour&group_by=repository"
series_before=$(jq -c '[.series[] | {key, pulls, child_fetches}]' "$R_BODY")
for i in 1 2 3 4 5; do get_manifest 1.0; done
n_app=$((n_app + 5))
data=$SRV_DATA
srv_stop
srv_start "$data"
check_eq "SIGTERM right after 5 pulls: none lost" "$(repo_count app)" "$n_app"
req GET "$API/projects/library/pulls/timeseries?granularity=hour&group_by=repository"
check_eq "the time series survives the restart (+5 on library/app)" \
    "$(jq -c '[.series[] | {key, pulls, child_fetches}]' "$R_BODY")" \
    "$(jq -c 'map(if .key == "library/app" then .pulls += 5 else . end)' <<<"$series_before")"

# --- kill -9: what was flushed stays; at most one interval (pull_flush_s = 1) is lost ----------
# offline_count: the count in the database itself (what a crash keeps)
offline_count() {
    "$BERTH_CLI" stats --data "$SRV_DATA" --json library/app 2>/dev/null |
        jq -r '.repositories[0].pull_count'
}
for i in 1 2 3; do get_manifest 1.0; done
n_app=$((n_app + 3))
deadline=$((SECONDS + 10))
while [ "$(offline_count)" != "$n_app" ] && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
check_eq "within one interval the pulls are in the database" "$(offline_count)" "$n_app"
flushed=$n_app
for i in 1 2 3 4; do get_manifest 1.0; done
kill -KILL "$SRV_PID"
wait "$SRV_PID" 2>/dev/null
SRV_PID=""
srv_start "$data"
after=$(repo_count app)
if [ "$after" -ge "$flushed" ] && [ "$after" -le $((flushed + 4)) ]; then
    ok "kill -9: flushed pulls kept, at most the last interval's 4 lost (had $after of $((flushed + 4)))"
else
    not_ok "kill -9: flushed pulls kept, loss bounded by one interval" "got $after, flushed $flushed"
fi
srv_stop

# --- exclusions by configuration, and /metrics on its own listener ------------------------------
MPORT=$(free_port)
cat >"$BB_TMP/berth.conf" <<EOF
pull_exclude_users = "scanner"
pull_exclude_agents = "Trivy*, *clair*"
metrics_listen = 127.0.0.1:$MPORT
EOF
BB_SERVE_ARGS="--config $BB_TMP/berth.conf" srv_start "$data"
req POST "$API/users" -H 'Content-Type: application/json' \
    --data '{"username":"scanner","password":"Scanner-Pass1","email":"s@x.y","realname":"s"}'
check_status "create user scanner -> 201" 201
project_public library
base=$(repo_count app)
req_as scanner:Scanner-Pass1 GET "/v2/library/app/manifests/1.0" -H "Accept: $MT_OCI_MANIFEST"
check_status "the excluded user pulls -> 200" 200
get_manifest 1.0 -A 'Trivy/0.50.1'
check_status "an excluded User-Agent pulls -> 200" 200
get_manifest 1.0 -A 'quay clair-v4'
check_eq "excluded user and agents are not counted" "$(repo_count app)" "$base"
req_anon GET "/v2/library/app/manifests/1.0" -H "Accept: $MT_OCI_MANIFEST"
check_eq "an anonymous pull of a public project counts" "$(repo_count app)" "$((base + 1))"
req GET "$API/projects/library/repositories/app/pulls/timeseries?granularity=day&group_by=user"
check_jq "who: the anonymous pull is kept as anonymous" \
    '[.series[] | select(.kind == "anonymous")][0].pulls >= 1'
req GET /metrics
check_status "metrics_listen: the main listener answers 404 for /metrics" 404
req_anon GET "http://127.0.0.1:$MPORT/metrics"
check_status "metrics_listen: /metrics on its own listener, open -> 200" 200
check_match "metrics_listen: the same content" "$(body)" 'berth_pulls_total\{project="library"'
req_anon GET "http://127.0.0.1:$MPORT/api/v2.0/projects"
check_status "metrics_listen serves nothing else -> 404" 404
srv_stop

# --- retention: old buckets written while stopped, pruned at the next start ---------------------
if command -v sqlite3 >/dev/null 2>&1; then
    old=$(($(date +%s) - 100 * 86400))
    old_h=$((old - old % 3600))
    old_d=$((old - old % 86400))
    sqlite3 "$data/berth.db" "INSERT INTO pull_buckets VALUES
        (3600, $old_h, 'library', 'library/app', '$DIG', '1.0', 'user', 'admin', 'docker', 0, 7, $old),
        (86400, $old_d, 'library', 'library/app', '$DIG', '1.0', 'user', 'admin', 'docker', 0, 7, $old)"
    check_eq "two buckets of 100 days ago written offline" "$?" 0
    srv_start "$data"
    win="from=$((old_d - 86400))&to=$((old_d + 2 * 86400))"
    req GET "$API/projects/library/repositories/app/pulls/timeseries?granularity=hour&$win"
    check_jq "hourly buckets older than 90 days (pull_hourly_keep_s) are pruned" '.series == []'
    req GET "$API/projects/library/repositories/app/pulls/timeseries?granularity=day&$win"
    check_jq "daily buckets are kept (pull_daily_keep_s 0: forever)" '.series[0].pulls == 7'
    srv_stop
    printf 'pull_daily_keep_s = 30d\n' >"$BB_TMP/keep.conf"
    BB_SERVE_ARGS="--config $BB_TMP/keep.conf" srv_start "$data"
    req GET "$API/projects/library/repositories/app/pulls/timeseries?granularity=day&$win"
    check_jq "pull_daily_keep_s = 30d prunes the daily bucket" '.series == []'
    req GET "$API/projects/library/repositories/app/pulls/timeseries?granularity=day"
    check_jq "recent daily buckets stay" '[.series[].pulls] | add > 0'
    srv_stop
else
    skip "retention" "sqlite3 not installed (make deps-test)"
fi

finish
