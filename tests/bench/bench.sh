#!/usr/bin/env bash
# bench.sh - `make bench`: eight tables from one run, and build/bench/results.json.
#
# 1. Berth side by side with Debian's docker-registry (distribution 2.8): same workload, same
#    Basic-auth password, one run each; the goal column holds issue 14's ratios.
#
#   manifest GET req/s     wrk, GET /v2/library/bench/manifests/v1 (small OCI manifest)
#   tags/list req/s        wrk, GET /v2/library/bench/tags/list               (goal >= 5x)
#   catalog req/s          wrk, GET /v2/_catalog                               (goal >= 5x)
#   blob HEAD req/s        headgen.c, 4 threads (wrk cannot parse HEAD answers)
#   1 MiB blob GET req/s   wrk
#   100 MiB blob GET MiB/s wrk, bytes read / duration
#   monolithic push/s      loadgen.py push: POST + PUT ?digest= of 1 KiB unique blobs
#   chunked upload MiB/s   loadgen.py chunked: 64 MiB blobs in 8 MiB PATCHes    (goal >= 1.5x)
#   peak RSS MiB           VmHWM of each server after tables 1 and 2
#   and tokens issued/s    wrk, GET /service/token (Basic), Berth only
#
# 2. Berth vs nginx, the ceiling (loadgen.c, 8 connections): a private nginx (lib_server.sh)
#    serves the manifest Berth stores and the same 1 MiB blob as static files. Rows: Berth's
#    manifest GET with Basic, Bearer (a token from /service/token) and anonymous (the public
#    project benchpub), nginx's; Berth's and nginx's 1 MiB blob GET. Columns: req/s, ratio,
#    p50/p99/p99.9/max latency, server CPU us per request (utime+stime from /proc/PID/stat before
#    and after, nginx's master and workers), stalled seconds (below a tenth of the run's median).
#    Goals: Berth CPU per manifest GET <= 2x nginx's per static GET; Bearer and anonymous within
#    10% of Basic in server CPU per request (exact where the load generator shares the cores;
#    the req/s ratios are printed beside it).
#
# 3. Peak RSS (VmHWM, reset first through clear_refs) with 1,000 keep-alive connections served
#    by loadgen; goal < 64 MiB.
#
# 4. Scaling by cores: device.sh, the servers pinned with taskset (its header says how); on
#    this machine's few cores a row or two, on a lent one from `make bench-bundle`.
#
# 5. The puller: `berth pull` to an OCI layout vs `skopeo copy` of a 200 MiB image from a local
#    docker-registry (pull_bench.sh, run after the servers above are stopped).
#
# 6. Pull counting (pulls_bench.sh, after the others): manifest GET req/s with counting on vs off
#    (goal: costs <= 5%), and 200 concurrent pullers on one repository vs spread over 200.
#
# 7. Scale-out (scaleout_bench.sh, last; BENCH_SCALEOUT=0 skips it): PostgreSQL, radosgw, two
#    replicas and haproxy; manifest GET and 1 MiB blob GET through haproxy with redirects off and
#    on, beside the single-host rows of table 2.
#
# loadgen_check.sh checks the load generator against nginx first; a failure stops the run.
#
# Each measurement lasts BENCH_SECONDS (default 5); the whole run stays under ~8 minutes on 2
# cores. Servers listen on 127.0.0.1 only, on free ports, with fresh data dirs under a temp dir,
# and are stopped by PID at the end. They share the machine with the load generators, so the
# ratio is the number to read. BERTH_BENCH_BIN overrides the Berth binary (default bin/berth),
# BENCH_LOADGEN the load generator (default build/bench/loadgen, which `make bench` builds).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/bench
BERTH=${BERTH_BENCH_BIN:-$ROOT/bin/berth}
SECS=${BENCH_SECONDS:-5}
USER_NAME="admin"
PASS="bench-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
AUTH_B64=$(printf '%s:%s' "$USER_NAME" "$PASS" | base64 -w0)
ACCEPT="application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"

die() { echo "bench: $*" >&2; exit 1; }

[ -x "$BERTH" ] || die "$BERTH not built (make)"
if ! command -v wrk >/dev/null 2>&1; then
    echo "bench: installing wrk" >&2
    [ "$(id -u)" = 0 ] || die "wrk missing: apt-get install wrk"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } ||
        die "cannot install wrk"
fi
for c in docker-registry htpasswd curl python3 jq cc skopeo nginx taskset; do
    command -v "$c" >/dev/null 2>&1 || die "$c missing (make deps-test)"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

cc -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra -Werror -o "$TMP/headgen" "$HERE/headgen.c" -lpthread ||
    die "cannot build headgen"

LOADGEN=${BENCH_LOADGEN:-$ROOT/build/bench/loadgen}
[ -x "$LOADGEN" ] || die "$LOADGEN not built (make bench builds it)"
NGINX=$(command -v nginx) || die "nginx missing (make deps-test)"
# shellcheck source-path=SCRIPTDIR source=lib_server.sh
. "$HERE/lib_server.sh"
RESD=$TMP/results # one JSON file per figure, gathered into build/bench/results.json at the end
mkdir -p "$RESD"
echo "bench: checking loadgen against nginx (loadgen_check.sh) ..." >&2
LGC_OUT=$(LOADGEN=$LOADGEN NGINX=$NGINX bash "$HERE/loadgen_check.sh" 2>&1) ||
    die "loadgen_check.sh failed: $(printf '%s\n' "$LGC_OUT" | grep -v '^ok' | tail -n 20)"

# wait_ready URL WANT_STATUS PID
wait_ready() {
    local deadline=$((SECONDS + 30)) code
    while :; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1") || true
        [ "$code" = "$2" ] && return 0
        kill -0 "$3" 2>/dev/null || die "server exited while starting"
        [ $SECONDS -lt "$deadline" ] || die "server not ready within 30 s ($1)"
        sleep 0.05
    done
}

# --- start both ---------------------------------------------------------------------------------
REF_PORT=$(free_port)
mkdir -p "$TMP/ref-data" "$TMP/berth-data"
htpasswd -Bbc "$TMP/htpasswd" "$USER_NAME" "$PASS" >/dev/null 2>&1
cat >"$TMP/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $TMP/ref-data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REF_PORT
  secret: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
auth:
  htpasswd:
    realm: bench
    path: $TMP/htpasswd
EOF
docker-registry serve "$TMP/registry.yml" >"$TMP/ref.log" 2>&1 &
REF_PID=$!
PIDS+=("$REF_PID")
wait_ready "http://127.0.0.1:$REF_PORT/v2/" 401 "$REF_PID"

BERTH_PORT=$(free_port)
BERTH_ADMIN_PASSWORD=$PASS "$BERTH" serve --listen "127.0.0.1:$BERTH_PORT" \
    --data "$TMP/berth-data" >"$TMP/berth.log" 2>&1 &
BERTH_PID=$!
PIDS+=("$BERTH_PID")
wait_ready "http://127.0.0.1:$BERTH_PORT/api/v2.0/ping" 200 "$BERTH_PID"

# --- content ------------------------------------------------------------------------------------
head -c $((1 << 20)) /dev/urandom >"$TMP/blob1m"
head -c $((100 << 20)) /dev/urandom >"$TMP/blob100m"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$TMP/config"
digest() { printf 'sha256:%s' "$(sha256sum "$1" | cut -d' ' -f1)"; }
jq -cn --arg c "$(digest "$TMP/config")" --argjson cs "$(wc -c <"$TMP/config")" \
    --arg l "$(digest "$TMP/blob1m")" --argjson ls "$(wc -c <"$TMP/blob1m")" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
      layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $l, size: $ls}]}' |
    tr -d '\n' >"$TMP/manifest"

# push_blob PORT FILE
push_blob() {
    local loc
    loc=$(curl -sS -f -u "$USER_NAME:$PASS" -X POST -D - -o /dev/null \
        "http://127.0.0.1:$1/v2/library/bench/blobs/uploads/" |
        tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    case $loc in http*) ;; *) loc=http://127.0.0.1:$1$loc ;; esac
    case $loc in *\?*) loc="$loc&digest=$(digest "$2")" ;; *) loc="$loc?digest=$(digest "$2")" ;; esac
    curl -sS -f -u "$USER_NAME:$PASS" -X PUT -H 'Content-Type: application/octet-stream' \
        --data-binary "@$2" -o /dev/null "$loc" || die "push of $(basename "$2") to :$1 failed"
}

for port in "$REF_PORT" "$BERTH_PORT"; do
    push_blob "$port" "$TMP/config"
    push_blob "$port" "$TMP/blob1m"
    push_blob "$port" "$TMP/blob100m"
    curl -sS -f -u "$USER_NAME:$PASS" -X PUT \
        -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
        --data-binary "@$TMP/manifest" -o /dev/null \
        "http://127.0.0.1:$port/v2/library/bench/manifests/v1" || die "manifest push to :$port failed"
done

# Berth only: a public project holding the same manifest (library is private on a new server),
# for anonymous pulls; its blobs are mounted from library/bench.
curl -sS -f -u "$USER_NAME:$PASS" -X POST -H 'Content-Type: application/json' -o /dev/null \
    "http://127.0.0.1:$BERTH_PORT/api/v2.0/projects" \
    -d '{"project_name":"benchpub","metadata":{"public":"true"}}' || die "cannot create project benchpub"
for f in config blob1m; do
    code=$(curl -sS -u "$USER_NAME:$PASS" -X POST -o /dev/null -w '%{http_code}' \
        "http://127.0.0.1:$BERTH_PORT/v2/benchpub/bench/blobs/uploads/?mount=$(digest "$TMP/$f")&from=library/bench")
    [ "$code" = 201 ] || die "mount of $f into benchpub/bench answered $code"
done
curl -sS -f -u "$USER_NAME:$PASS" -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    --data-binary "@$TMP/manifest" -o /dev/null \
    "http://127.0.0.1:$BERTH_PORT/v2/benchpub/bench/manifests/v1" || die "manifest push to benchpub failed"

# --- measurements -------------------------------------------------------------------------------
# wrk_run PORT PATH CONNS METHOD [AUTHORIZATION] -> "requests bytes duration_us errors"
# AUTHORIZATION defaults to Basic with the bench password; an empty one sends none.
wrk_run() {
    BENCH_METHOD=$4 BENCH_AUTHORIZATION=${5-Basic $AUTH_B64} BENCH_ACCEPT=$ACCEPT \
        wrk -t2 -c"$3" -d"${SECS}s" --timeout 30s -s "$HERE/wrk_report.lua" \
        "http://127.0.0.1:$1$2" 2>&1 | sed -n 's/^RESULT //p'
}
loadgen() { # MODE PORT [args...] -> "ops bytes duration_us errors"
    local mode=$1 port=$2
    shift 2
    python3 "$HERE/loadgen.py" "$mode" --port "$port" --auth "$AUTH_B64" --seconds "$SECS" "$@" |
        sed -n 's/^RESULT //p'
}
per_s() { awk -v n="$1" -v us="$2" 'BEGIN { printf "%.1f", (us > 0 ? n * 1e6 / us : 0) }'; }
mib_s() { awk -v b="$1" -v us="$2" 'BEGIN { printf "%.1f", (us > 0 ? b / 1048576 * 1e6 / us : 0) }'; }

declare -A RES ERR
measure() { # KEY PORT
    local key=$1 port=$2 r
    local -a f
    case $key in
    manifest_get)
        read -r -a f <<<"$(wrk_run "$port" /v2/library/bench/manifests/v1 8 GET)"
        RES[$key]=$(per_s "${f[0]:-0}" "${f[2]:-0}") ;;
    tags_list)
        read -r -a f <<<"$(wrk_run "$port" /v2/library/bench/tags/list 8 GET)"
        RES[$key]=$(per_s "${f[0]:-0}" "${f[2]:-0}") ;;
    catalog)
        read -r -a f <<<"$(wrk_run "$port" /v2/_catalog 8 GET)"
        RES[$key]=$(per_s "${f[0]:-0}" "${f[2]:-0}") ;;
    blob_head)
        read -r -a f <<<"$("$TMP/headgen" "$port" "/v2/library/bench/blobs/$(digest "$TMP/blob1m")" \
            "$AUTH_B64" 4 "$SECS" | sed -n 's/^RESULT //p')"
        RES[$key]=$(per_s "${f[0]:-0}" "${f[2]:-0}") ;;
    blob1m_get)
        read -r -a f <<<"$(wrk_run "$port" "/v2/library/bench/blobs/$(digest "$TMP/blob1m")" 8 GET)"
        RES[$key]=$(per_s "${f[0]:-0}" "${f[2]:-0}") ;;
    blob100m_get)
        read -r -a f <<<"$(wrk_run "$port" "/v2/library/bench/blobs/$(digest "$TMP/blob100m")" 2 GET)"
        RES[$key]=$(mib_s "${f[1]:-0}" "${f[2]:-0}") ;;
    push)
        read -r -a f <<<"$(loadgen push "$port" --procs 4 --repo library/bench-push)"
        RES[$key]=$(per_s "${f[0]:-0}" "${f[2]:-0}") ;;
    chunked)
        read -r -a f <<<"$(loadgen chunked "$port" --procs 2 --repo library/bench-chunked \
            --size $((64 << 20)) --chunk $((8 << 20)))"
        RES[$key]=$(mib_s "${f[1]:-0}" "${f[2]:-0}") ;;
    esac
    ERR[$key]=${f[3]:-?}
    r=${f[0]:-0}
    [ "$r" != 0 ] || ERR[$key]="${ERR[$key]} (no successful request)"
}

KEYS=(manifest_get tags_list catalog blob_head blob1m_get blob100m_get push chunked)
declare -A LABEL=(
    [manifest_get]="manifest GET req/s"
    [tags_list]="tags/list req/s"
    [catalog]="catalog req/s"
    [blob_head]="blob HEAD req/s"
    [blob1m_get]="1 MiB blob GET req/s"
    [blob100m_get]="100 MiB blob GET MiB/s"
    [push]="monolithic push/s"
    [chunked]="chunked upload MiB/s"
)
# goals of issue 14: Berth / distribution 2.8 at least this much
declare -A GOAL=([tags_list]=5 [catalog]=5 [chunked]=1.5)
declare -A B R BE RE
echo "bench: ${SECS}s per measurement, Berth on :$BERTH_PORT, distribution 2.8 on :$REF_PORT" >&2
for k in "${KEYS[@]}"; do
    echo "bench: ${LABEL[$k]} ..." >&2
    measure "$k" "$BERTH_PORT"
    B[$k]=${RES[$k]}
    BE[$k]=${ERR[$k]}
    measure "$k" "$REF_PORT"
    R[$k]=${RES[$k]}
    RE[$k]=${ERR[$k]}
done

# --- tokens -------------------------------------------------------------------------------------
# The token service's name and realm come from Berth's own /v2/ challenge (cfg token_service).
CHALLENGE=$(curl -sS -D - -o /dev/null "http://127.0.0.1:$BERTH_PORT/v2/" | tr -d '\r' |
    sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: *//p')
TOKEN_SERVICE=$(printf '%s' "$CHALLENGE" | sed -n 's/.*service="\([^"]*\)".*/\1/p')
[ -n "$TOKEN_SERVICE" ] || die "no service in Berth's /v2/ challenge: $CHALLENGE"
TOKEN_PATH="/service/token?service=$TOKEN_SERVICE&scope=repository:library/bench:pull"
TOKEN=$(curl -sS -f -u "$USER_NAME:$PASS" "http://127.0.0.1:$BERTH_PORT$TOKEN_PATH" | jq -r .token) ||
    die "token request failed"
if [ -z "$TOKEN" ] || [ "$TOKEN" = null ]; then
    die "no token in the token service's answer"
fi

# expect_200 PORT PATH [CURL ARGS...]: the request answers 200, so a measurement counts real work
expect_200() {
    local port=$1 path=$2 code
    shift 2
    code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Accept: $ACCEPT" "$@" "http://127.0.0.1:$port$path")
    [ "$code" = 200 ] || die "GET :$port$path answered $code (wanted 200)"
}
expect_200 "$BERTH_PORT" /v2/library/bench/manifests/v1 -H "Authorization: Bearer $TOKEN"
expect_200 "$BERTH_PORT" /v2/library/bench/manifests/v1 -u "$USER_NAME:$PASS"
expect_200 "$BERTH_PORT" /v2/benchpub/bench/manifests/v1
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$BERTH_PORT/v2/library/bench/manifests/v1")
[ "$code" = 401 ] || die "anonymous GET on private library answered $code (wanted 401)"

echo "bench: tokens issued/s ..." >&2
read -r -a f <<<"$(wrk_run "$BERTH_PORT" "$TOKEN_PATH" 8 GET)"
TOK_RPS=$(per_s "${f[0]:-0}" "${f[2]:-0}")
TOK_ERR=${f[3]:-?}
[ "${f[0]:-0}" != 0 ] || TOK_ERR="$TOK_ERR (no successful request)"

# --- Berth vs nginx, with latency, stalls and CPU per request ------------------------------------
# nginx serves the manifest Berth stores (the same bytes) and the same 1 MiB blob as static files.
NGINX_PORT=$(free_port)
NGX_WWW=$(nginx_root ceil)
curl -sS -f -u "$USER_NAME:$PASS" -H "Accept: $ACCEPT" -o "$NGX_WWW/manifest" \
    "http://127.0.0.1:$BERTH_PORT/v2/library/bench/manifests/v1" || die "cannot read the manifest back"
cmp -s "$NGX_WWW/manifest" "$TMP/manifest" || die "Berth's manifest differs from the one pushed"
cp "$TMP/blob1m" "$NGX_WWW/blob1m"
nginx_start ceil "$NGINX_PORT" "$(nproc)"
PIDS+=("$NGINX_PID")
expect_200 "$NGINX_PORT" /manifest
expect_200 "$NGINX_PORT" /blob1m

mkdir -p "$TMP/runs"
# lg_measure KEY PID PORT PATH [HEADER...]: one loadgen run (8 connections, 2 threads), its JSON
# with the server's CPU ticks over the run added, into $TMP/runs/KEY.<n>.json
lg_measure() {
    local key=$1 pid=$2 port=$3 path=$4 t0 t1 n
    shift 4
    local -a hdr=()
    local h
    for h in "$@"; do hdr+=(--header "$h"); done
    t0=$(cpu_ticks "$pid")
    lg_run "$port" --conns 8 --threads 2 --seconds "$SECS" --path "$path" "${hdr[@]}" >"$TMP/lg.json"
    t1=$(cpu_ticks "$pid")
    n=$(find "$TMP/runs" -name "$key.*.json" | wc -l)
    jq -c --argjson t "$((t1 - t0))" --argjson hz "$CLK_TCK" '. + {cpu_ticks: $t, clk_tck: $hz}' \
        "$TMP/lg.json" >"$TMP/runs/$key.$n.json"
}
# lg_sum KEY: the runs of KEY as one: req/s (2xx answers only) over all of them, CPU per request over all of them,
# each latency percentile the worst of the runs, stalled seconds added up
lg_sum() {
    jq -cs '(map(.requests) | add) as $n | (map(.duration_s) | add) as $d | (map(.ok) | add) as $ok |
        {requests: $n, ok: $ok, duration_s: $d, rps: (if $d > 0 then $ok / $d else 0 end),
         all_rps: (if $d > 0 then $n / $d else 0 end),
         cpu_us_per_req: (if $n > 0 then (map(.cpu_ticks) | add) * 1e6 / .[0].clk_tck / $n else 0 end),
         latency_us: {p50: (map(.latency_us.p50) | max), p99: (map(.latency_us.p99) | max),
                      p999: (map(.latency_us.p999) | max), max: (map(.latency_us.max) | max)},
         stalled_seconds: (map(.stall.seconds | length) | add),
         errors: (map(.errors + .non_2xx) | add), runs: length, conn_errors: (map(.errors) | add),
         status: (reduce (.[].status | to_entries[]) as $e ({}; .[$e.key] += $e.value)),
         per_second: map(.per_second)}' "$TMP"/runs/"$1".*.json
}

MPATH=/v2/library/bench/manifests/v1
B1PATH=/v2/library/bench/blobs/$(digest "$TMP/blob1m")
declare -A CEIL_LABEL=(
    [m_basic]="Berth manifest GET, Basic"
    [m_bearer]="Berth manifest GET, Bearer"
    [m_anon]="Berth manifest GET, anonymous (public)"
    [m_nginx]="nginx static GET, same manifest bytes"
    [b_basic]="Berth 1 MiB blob GET, Basic"
    [b_nginx]="nginx static GET, same 1 MiB blob"
)
CEIL_KEYS=(m_basic m_bearer m_anon m_nginx b_basic b_nginx)
ceil_run() {
    case $1 in
    m_basic) lg_measure "$1" "$BERTH_PID" "$BERTH_PORT" "$MPATH" "Authorization: Basic $AUTH_B64" "Accept: $ACCEPT" ;;
    m_bearer) lg_measure "$1" "$BERTH_PID" "$BERTH_PORT" "$MPATH" "Authorization: Bearer $TOKEN" "Accept: $ACCEPT" ;;
    m_anon) lg_measure "$1" "$BERTH_PID" "$BERTH_PORT" /v2/benchpub/bench/manifests/v1 "Accept: $ACCEPT" ;;
    m_nginx) lg_measure "$1" "$NGINX_PID" "$NGINX_PORT" /manifest "Accept: $ACCEPT" ;;
    b_basic) lg_measure "$1" "$BERTH_PID" "$BERTH_PORT" "$B1PATH" "Authorization: Basic $AUTH_B64" ;;
    b_nginx) lg_measure "$1" "$NGINX_PID" "$NGINX_PORT" /blob1m ;;
    esac
}
# the manifest rows run twice, in the order basic bearer anon nginx nginx anon bearer basic, so a
# drift in the machine's load favours none of them; the blob rows once each
echo "bench: Berth vs nginx, manifest GET (Basic, Bearer, anonymous, nginx; 2 rounds) and 1 MiB blob GET ..." >&2
for k in m_basic m_bearer m_anon m_nginx m_nginx m_anon m_bearer m_basic b_basic b_nginx; do
    ceil_run "$k"
done
declare -A CEIL
for k in "${CEIL_KEYS[@]}"; do
    CEIL[$k]=$(lg_sum "$k")
    printf '%s\n' "${CEIL[$k]}" >"$RESD/ceiling_$k.json"
done
cval() { printf '%s' "${CEIL[$1]}" | jq -r "$2"; } # KEY FILTER
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# peak RSS of table 1 is read here, before the 1000-connection run resets the high-water mark
hwm_mib() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }
B[rss]=$(hwm_mib "$BERTH_PID")
R[rss]=$(hwm_mib "$REF_PID")
BE[rss]=0
RE[rss]=0
KEYS+=(rss)
LABEL[rss]="peak RSS MiB (VmHWM, lower is better)"

# --- peak RSS with 1,000 keep-alive connections -------------------------------------------------
# "5" in clear_refs resets VmHWM (Linux 4.0+), so the peak is the one of this run, not of the
# 100 MiB blobs and chunked uploads above; where it cannot be reset, the line says so.
echo "bench: 1,000 keep-alive connections on Berth's manifest GET ..." >&2
RSS_BEFORE=$(rss_mib "$BERTH_PID")
HWM_RESET=yes
echo 5 >"/proc/$BERTH_PID/clear_refs" 2>/dev/null || HWM_RESET=no
t0=$(cpu_ticks "$BERTH_PID")
lg_run "$BERTH_PORT" --conns 1000 --threads 2 --seconds "$SECS" --path "$MPATH" \
    --header "Authorization: Basic $AUTH_B64" --header "Accept: $ACCEPT" >"$TMP/lg1000.json"
t1=$(cpu_ticks "$BERTH_PID")
HWM1000=$(hwm_mib "$BERTH_PID")
# the sockets Berth still holds 2 s after the 1000 clients closed theirs
sleep 2
FDS_AFTER=$(find "/proc/$BERTH_PID/fd" -mindepth 1 -lname 'socket:*' 2>/dev/null | wc -l)
RSS1000=$(jq -c --argjson hwm "$HWM1000" --argjson before "$RSS_BEFORE" --argjson fds "$FDS_AFTER" \
    --argjson t "$((t1 - t0))" --argjson hz "$CLK_TCK" --arg reset "$HWM_RESET" \
    '{vmhwm_mib: $hwm, vmrss_before_mib: $before, hwm_reset: ($reset == "yes"), goal_mib: 64,
      sockets_held_2s_after: $fds, status, reconnects,
      requests, rps: .ok_rps, all_rps: .rps, connections, connections_served, errors: (.errors + .non_2xx),
      latency_us, stalled_seconds: (.stall.seconds | length), per_second,
      cpu_us_per_req: (if .requests > 0 then $t * 1e6 / $hz / .requests else 0 end)}' "$TMP/lg1000.json")
printf '%s\n' "$RSS1000" >"$RESD/rss_1000.json"

# --- stop all by PID ----------------------------------------------------------------------------
nginx_stop
kill -TERM "$BERTH_PID" "$REF_PID" 2>/dev/null || true
berth_rc=0
wait "$BERTH_PID" || berth_rc=$?
wait "$REF_PID" 2>/dev/null || true
PIDS=()

# --- scaling by cores (device.sh; on a lent many-core machine it runs alone from the bundle) ----
echo "bench: scaling by cores (device.sh) ..." >&2
SCALE_OUT=$(BERTH_BIN=$BERTH LOADGEN_BIN=$LOADGEN NGINX_BIN=$NGINX BENCH_SECONDS=$SECS \
    BENCH_JSON=$RESD/scaling.json bash "$HERE/device.sh" 2>&1) || SCALE_OUT="device.sh failed: $SCALE_OUT"

# --- puller -------------------------------------------------------------------------------------
# Runs with the servers above stopped; pull_bench.sh starts and stops its own docker-registry.
echo "bench: berth pull vs skopeo copy (200 MiB image) ..." >&2
PULL_OUT=$(BERTH_PULL_BIN=$BERTH bash "$HERE/pull_bench.sh" 2>&1) || true
read -r -a PULL <<<"$(printf '%s\n' "$PULL_OUT" | sed -n 's/^RESULT //p')"

# --- pull counting -----------------------------------------------------------------------------
echo "bench: pull counting on/off, 200 pullers one vs 200 repositories ..." >&2
PB_OUT=$(BERTH_BENCH_BIN=$BERTH BENCH_SECONDS=$SECS bash "$HERE/pulls_bench.sh" 2>&1) || true
read -r -a PB <<<"$(printf '%s\n' "$PB_OUT" | sed -n 's/^RESULT //p')"

# --- scale-out (scaleout_bench.sh: its own PostgreSQL, radosgw, replicas and haproxy) ----------
# It reads this run's single-host rows from $RESD and adds $RESD/scaleout.json.
SO_OUT=""
if [ "${BENCH_SCALEOUT:-1}" != 0 ]; then
    echo "bench: scale-out, manifest and 1 MiB blob GET through haproxy, redirect off and on ..." >&2
    SO_OUT=$(BERTH_BENCH_BIN=$BERTH BENCH_LOADGEN=$LOADGEN BENCH_SECONDS=$SECS \
        bash "$HERE/scaleout_bench.sh" "$RESD" 2>&1) || SO_OUT="scaleout_bench.sh failed: $SO_OUT"
fi

# --- tables -------------------------------------------------------------------------------------
goal_of() { # KEY -> "" or ">= Nx PASS|FAIL"
    local g=${GOAL[$1]:-}
    [ -n "$g" ] || return 0
    awk -v a="${B[$1]}" -v b="${R[$1]}" -v g="$g" \
        'BEGIN { printf ">=%sx %s", g, (b > 0 && a / b >= g ? "PASS" : "FAIL") }'
}
printf '\n%-40s %12s %12s %10s  %-11s\n' "metric" "berth" "reference" "berth/ref" "goal"
printf '%-40s %12s %12s %10s  %-11s\n' "----------------------------------------" "------------" \
    "------------" "----------" "-----------"
for k in "${KEYS[@]}"; do
    ratio=$(ratio "${B[$k]}" "${R[$k]}")
    note=""
    [ "${BE[$k]}" = 0 ] || note="$note berth errors: ${BE[$k]};"
    [ "${RE[$k]}" = 0 ] || note="$note reference errors: ${RE[$k]};"
    printf '%-40s %12s %12s %10s  %-11s%s\n' "${LABEL[$k]}" "${B[$k]}" "${R[$k]}" "$ratio" "$(goal_of "$k")" "$note"
    jq -cn --arg b "${B[$k]}" --arg r "${R[$k]}" --arg be "${BE[$k]}" --arg re "${RE[$k]}" \
        --arg g "${GOAL[$k]:-}" --arg lbl "${LABEL[$k]}" \
        '{"label": $lbl, berth: ($b | tonumber), reference: ($r | tonumber),
          ratio: (if ($r | tonumber) > 0 then ($b | tonumber) / ($r | tonumber) else null end),
          goal_ratio: (if $g == "" then null else ($g | tonumber) end), berth_errors: $be, reference_errors: $re}' \
        >"$RESD/distribution_$k.json"
done
echo
echo "reference: Debian docker-registry $(docker-registry --version 2>/dev/null | awk '{print $3}');" \
    "both with Basic auth (same password; distribution checks bcrypt from htpasswd on every request)."
echo "load: wrk (GET), headgen.c (HEAD), loadgen.py (pushes), on the same $(nproc) cores as the servers."
echo "tokens issued/s (GET /service/token, Basic, RS256 JWT, 8 connections): $TOK_RPS$([ "$TOK_ERR" = 0 ] || echo " errors: $TOK_ERR")"
jq -cn --arg r "$TOK_RPS" --arg e "$TOK_ERR" '{rps: ($r | tonumber), errors: $e}' >"$RESD/tokens.json"

printf '\n%-40s %9s %6s %8s %8s %8s %8s %8s %6s\n' "Berth vs nginx (loadgen, 8 conns)" "req/s" "ratio" \
    "p50 ms" "p99 ms" "p99.9 ms" "max ms" "cpu us" "stalls"
printf '%-40s %9s %6s %8s %8s %8s %8s %8s %6s\n' "----------------------------------------" "---------" \
    "------" "--------" "--------" "--------" "--------" "--------" "------"
for k in "${CEIL_KEYS[@]}"; do
    case $k in
    m_basic | b_basic) base="" ;;
    m_nginx) base=m_basic ;;
    b_nginx) base=b_basic ;;
    *) base=m_basic ;;
    esac
    r=$(cval "$k" .rps)
    rr=""
    [ -z "$base" ] || rr=$(ratio "$r" "$(cval "$base" .rps)")
    read -r p50 p99 p999 mx cpu st er codes <<<"$(cval "$k" '[.latency_us.p50 / 1000, .latency_us.p99 / 1000,
        .latency_us.p999 / 1000, .latency_us.max / 1000, .cpu_us_per_req, .stalled_seconds, .errors,
        ((.status | to_entries | map("\(.key): \(.value)") | join(", ")) + ", connection errors: \(.conn_errors)")] | @tsv')"
    note=""
    [ "$er" = 0 ] || note=" errors: $er ($codes)"
    printf '%-40s %9.0f %6s %8.2f %8.2f %8.2f %8.2f %8.1f %6s%s\n' "${CEIL_LABEL[$k]}" "$r" "$rr" \
        "$p50" "$p99" "$p999" "$mx" "$cpu" "$st" "$note"
done
MB=$(cval m_basic .rps)
MN=$(cval m_nginx .rps)
CB=$(cval m_basic .cpu_us_per_req)
CN=$(cval m_nginx .cpu_us_per_req)
CPU_RATIO=$(ratio "$CB" "$CN")
within() { # A B PCT -> PASS|FAIL: A within PCT% of B
    awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = (b > 0 ? (a - b) / b * 100 : 100); if (d < 0) d = -d;
        print (d <= p ? "PASS" : "FAIL") }'
}
BEARER_R=$(ratio "$(cval m_bearer .rps)" "$MB")
ANON_R=$(ratio "$(cval m_anon .rps)" "$MB")
# judged on the server's CPU per request: on a machine whose cores the load generator shares,
# req/s also moves with the generator's share (a Bearer request is 800 bytes longer to send)
BEARER_C=$(ratio "$(cval m_bearer .cpu_us_per_req)" "$CB")
ANON_C=$(ratio "$(cval m_anon .cpu_us_per_req)" "$CB")
BEARER_V=$(within "$(cval m_bearer .cpu_us_per_req)" "$CB" 10)
ANON_V=$(within "$(cval m_anon .cpu_us_per_req)" "$CB" 10)
CPU_V=$(awk -v a="$CB" -v b="$CN" 'BEGIN { print (b > 0 && a <= 2 * b ? "PASS" : "FAIL") }')
STALLS=$(for k in "${CEIL_KEYS[@]}"; do
    s=$(cval "$k" .stalled_seconds)
    [ "$s" = 0 ] || printf '%s: %s s; ' "${CEIL_LABEL[$k]}" "$s"
done)
echo
echo "req/s: 2xx answers; ratio: Bearer/anonymous rows against Basic, nginx rows Berth/nginx; cpu us: server utime+stime"
echo "(/proc/PID/stat; nginx master + workers) per request; percentiles the worst of the rounds"
echo "(manifest rows 2 rounds in the order Basic Bearer anon nginx nginx anon Bearer Basic, blobs 1)."
echo "Berth manifest GET / nginx static: $(ratio "$MB" "$MN"); 1 MiB blob GET: $(ratio "$(cval b_basic .rps)" "$(cval b_nginx .rps)")"
printf 'goal Berth CPU per manifest GET <= 2x nginx'"'"'s per static GET: %.1f us vs %.1f us = %sx %s\n' \
    "$CB" "$CN" "$CPU_RATIO" "$CPU_V"
echo "goal Bearer and anonymous within 10% of Basic (server CPU per request): Bearer ${BEARER_C}x $BEARER_V," \
    "anonymous ${ANON_C}x $ANON_V; req/s Bearer ${BEARER_R}, anonymous ${ANON_R}"
echo "stalls (a second below a tenth of its run's median): ${STALLS:-none}"
jq -cn --argjson cb "$CB" --argjson cn "$CN" --argjson mb "$MB" --argjson mn "$MN" \
    --arg cv "$CPU_V" --arg bv "$BEARER_V" --arg av "$ANON_V" \
    '{manifest_rps_ratio_vs_nginx: (if $mn > 0 then $mb / $mn else null end),
      cpu_ratio_vs_nginx: (if $cn > 0 then $cb / $cn else null end), cpu_goal: "<= 2", cpu_verdict: $cv,
      bearer_verdict: $bv, anonymous_verdict: $av,
      auth_goal: "server CPU per request within 10% of Basic"}' >"$RESD/ceiling_goals.json"

read -r r1 served1 p99_1 max1 st1 er1 hwm1 cpu1 codes1 ps1 <<<"$(printf '%s' "$RSS1000" | jq -r '[.rps,
    .connections_served, .latency_us.p99 / 1000, .latency_us.max / 1000, .stalled_seconds, .errors,
    .vmhwm_mib, .cpu_us_per_req, (.status | to_entries | map("\(.key):\(.value)") | join(",")),
    (.per_second | map(tostring) | join(","))] | @tsv')"
echo
printf '1,000 keep-alive connections (Berth manifest GET, Basic, %s s)\n' "$SECS"
printf '  peak RSS (VmHWM) %s MiB: goal < 64 MiB %s%s\n' "$hwm1" \
    "$(awk -v h="$hwm1" 'BEGIN { print (h < 64 ? "PASS" : "FAIL") }')" \
    "$([ "$HWM_RESET" = yes ] || echo " (VmHWM could not be reset: it includes the runs above)")"
printf '  %.0f req/s, %s of 1000 connections served, p99 %.2f ms, max %.2f ms, cpu %.1f us/req, stalls %s, errors %s\n' \
    "$r1" "$served1" "$p99_1" "$max1" "$cpu1" "$st1" "$er1"
printf '  answers by status %s; per second %s; sockets Berth still held 2 s after the clients closed: %s\n' \
    "${codes1:-none}" "$ps1" "$FDS_AFTER"

echo
printf '%s\n' "$SCALE_OUT" | sed -n '/^cores/,$p'
printf '%s\n' "$SCALE_OUT" | grep -q '^cores' || printf '%s\n' "$SCALE_OUT" | tail -n 20

echo
if [ "${#PULL[@]}" -ge 4 ]; then
    printf '%-40s %12s %12s %10s\n' "puller (${PULL[0]} MiB image, best of ${PULL[3]})" "berth pull" \
        "skopeo copy" "berth/sk"
    printf '%-40s %12s %12s %10s\n' "----------------------------------------" "------------" \
        "------------" "----------"
    printf '%-40s %12s %12s %10s\n' "wall time s (lower is better)" "${PULL[1]}" "${PULL[2]}" \
        "$(ratio "${PULL[1]}" "${PULL[2]}")"
    printf '%-40s %12s %12s %10s\n' "throughput MiB/s" \
        "$(awk -v n="${PULL[0]}" -v t="${PULL[1]}" 'BEGIN { if (t > 0) printf "%.1f", n / t; else print 0 }')" \
        "$(awk -v n="${PULL[0]}" -v t="${PULL[2]}" 'BEGIN { if (t > 0) printf "%.1f", n / t; else print 0 }')" \
        "$(ratio "${PULL[2]}" "${PULL[1]}")"
    echo
    echo "puller: 4 layers of 50 MiB incompressible data (gzip) + config from a local docker-registry" \
        "into an OCI layout; rounds alternate which tool goes first."
    jq -cn --argjson mib "${PULL[0]}" --argjson b "${PULL[1]}" --argjson s "${PULL[2]}" --argjson n "${PULL[3]}" \
        '{image_mib: $mib, berth_s: $b, skopeo_s: $s, rounds: $n}' >"$RESD/puller.json"
else
    echo "puller: no result from pull_bench.sh; its output:"
    printf '%s\n' "$PULL_OUT" | tail -n 20
fi

echo
if [ "${#PB[@]}" -ge 4 ]; then
    printf '%s\n' "$PB_OUT" | sed -n '/^pull counting/,$p'
    jq -cn --argjson on "${PB[0]}" --argjson off "${PB[1]}" --argjson one "${PB[2]}" --argjson spread "${PB[3]}" \
        '{counting_on_rps: $on, counting_off_rps: $off, cost: (if $off > 0 then 1 - $on / $off else null end),
          cost_goal: 0.05, one_repo_rps: $one, spread_rps: $spread}' >"$RESD/pull_counting.json"
else
    echo "pull counting: no result from pulls_bench.sh; its output:"
    printf '%s\n' "$PB_OUT" | tail -n 20
fi

if [ -n "$SO_OUT" ]; then
    printf '%s\n' "$SO_OUT" | sed -n '/^scale-out (loadgen/,$p'
    printf '%s\n' "$SO_OUT" | grep -q '^scale-out (loadgen' || printf '%s\n' "$SO_OUT" | tail -n 20
fi

# --- the machine-readable copy ------------------------------------------------------------------
mkdir -p "$ROOT/build/bench"
jq -n --argjson secs "$SECS" --argjson cpus "$(nproc)" \
    'reduce inputs as $x ({seconds: $secs, cpus: $cpus};
        . + {(input_filename | split("/") | last | rtrimstr(".json")): $x})' "$RESD"/*.json \
    >"$ROOT/build/bench/results.json"
echo
echo "bench: the same figures as JSON in build/bench/results.json"

if [ "$berth_rc" != 0 ]; then
    echo "bench: berth exited $berth_rc on SIGTERM; its log's tail:"
    tail -n 20 "$TMP/berth.log"
fi
