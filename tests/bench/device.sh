#!/usr/bin/env bash
# device.sh - the scaling table of `make bench`: Berth's manifest GET (Basic) with the server
# pinned by taskset to 1, 2, ... N cores, beside nginx serving the same manifest bytes as a static
# file at the same pinning; req/s, req/s per core, server CPU microseconds per request (from
# /proc/PID/stat, utime+stime of the server and its children, before/after each run), p99, and
# the stall detector of tests/bench/loadgen.c (seconds below a tenth of the run's median).
#
#   device.sh [BUNDLE]          BUNDLE (default: this script's folder) holds bin/{berth,loadgen,
#                               nginx,curl,jq,taskset} and lib/ (their libraries, ld.so included,
#                               collected with ldd by `make bench-bundle`): runs with no apt and
#                               no repository, on a lent machine with many cores
#   BERTH_BIN=... LOADGEN_BIN=... NGINX_BIN=... device.sh
#                               the binaries of this machine (`make bench` does this)
#
# On a lent machine: carry build/bench-bundle.tar.gz (about 25 MiB; the folder itself is ~60 MiB)
# and run `tar -xzf build/bench-bundle.tar.gz -C /tmp && BENCH_JSON=$OUT/scaling.json
# /tmp/bench-bundle/device.sh`; about 13 s per row at BENCH_SECONDS=5 (7 rows on 16 CPUs).
#
# Cores: the load generator gets the last L = max(1, cores/4) of the CPUs this process may use,
# the server 1..N = cores - L of the first ones (all of them up to 8, then 1 2 3 4 6 8 12 16 ...
# and N). The 0.8x-linear goal (req/s at 4 cores >= 0.8 * 4 * req/s at 1 core) needs N >= 4;
# below it the line says "n/a (only K cores)". Berth gets threads = max(4, 2 * its cores).
# Environment: BENCH_SECONDS (default 5) per run; BENCH_SERVER_CORES caps N; BENCH_JSON, a file
# that receives the table as JSON. Servers listen on 127.0.0.1 only, on free ports, with fresh
# data in a temp dir, and are stopped by PID.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SECS=${BENCH_SECONDS:-5}
die() { echo "device: $*" >&2; exit 1; }
case ${1:-} in -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac

if [ -n "${BERTH_BIN:-}" ]; then
    BERTH=$BERTH_BIN
    LOADGEN=${LOADGEN_BIN:?LOADGEN_BIN with BERTH_BIN}
    NGINX=${NGINX_BIN:-nginx}
    CURL=${CURL_BIN:-curl}
    JQ=${JQ_BIN:-jq}
    TASKSET=${TASKSET_BIN:-taskset}
else
    B=$(cd "${1:-$HERE}" && pwd)
    [ -x "$B/bin/berth" ] || die "$B/bin/berth missing (make bench-bundle builds the bundle)"
    X=""
    [ ! -e "$B/lib/ld-linux-x86-64.so.2" ] || X="$B/lib/ld-linux-x86-64.so.2 --library-path $B/lib"
    # shellcheck disable=SC2034 # LOADGEN, NGINX and TASKSET are read by lib_server.sh
    BERTH="$X $B/bin/berth"
    LOADGEN="$X $B/bin/loadgen"
    NGINX="$X $B/bin/nginx"
    CURL="$X $B/bin/curl"
    JQ="$X $B/bin/jq"
    TASKSET="$X $B/bin/taskset"
fi
# shellcheck source-path=SCRIPTDIR source=lib_server.sh
. "$HERE/lib_server.sh"

# the CPUs this process may use, as a list
CPUS=()
aff=$($TASKSET -pc $$ | sed 's/.*: *//')
IFS=, read -r -a ranges <<<"$aff"
for r in "${ranges[@]}"; do
    case $r in
    *-*) for ((c = ${r%-*}; c <= ${r#*-}; c++)); do CPUS+=("$c"); done ;;
    *) CPUS+=("$r") ;;
    esac
done
CORES=${#CPUS[@]}
[ "$CORES" -ge 2 ] || die "needs at least 2 CPUs (one for the server, one for the load)"
LOADC=$((CORES / 4))
[ "$LOADC" -ge 1 ] || LOADC=1
MAXS=$((CORES - LOADC))
[ -z "${BENCH_SERVER_CORES:-}" ] || [ "$BENCH_SERVER_CORES" -ge "$MAXS" ] || MAXS=$BENCH_SERVER_CORES
list() { local IFS=,; echo "$*"; } # CPU... -> "a,b,c"
LOAD_CPUS=$(list "${CPUS[@]:$((CORES - LOADC))}")
STEPS=()
if [ "$MAXS" -le 8 ]; then
    for ((k = 1; k <= MAXS; k++)); do STEPS+=("$k"); done
else
    for k in 1 2 3 4 6 8 12 16 24 32 48 64 96 128; do [ "$k" -ge "$MAXS" ] || STEPS+=("$k"); done
    STEPS+=("$MAXS")
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-device.XXXXXX")
BERTH_PID=""
berth_stop() {
    [ -n "$BERTH_PID" ] || return 0
    kill -TERM "$BERTH_PID" 2>/dev/null || true
    wait "$BERTH_PID" 2>/dev/null || true
    BERTH_PID=""
}
cleanup() {
    berth_stop
    nginx_stop
    rm -rf "$TMP"
}
trap cleanup EXIT

PASS="bench-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
AUTH_B64=$(printf 'admin:%s' "$PASS" | base64 -w0)
ACCEPT="application/vnd.oci.image.manifest.v1+json"

berth_start() { # CPUS THREADS -> BERTH_PID, BERTH_PORT
    local deadline code
    BERTH_PORT=$(free_port)
    printf 'threads = %s\n' "$2" >"$TMP/berth.conf"
    # shellcheck disable=SC2086
    BERTH_ADMIN_PASSWORD=$PASS $TASKSET -c "$1" $BERTH serve --config "$TMP/berth.conf" \
        --listen "127.0.0.1:$BERTH_PORT" --data "$TMP/data" --log-level error >>"$TMP/berth.log" 2>&1 &
    BERTH_PID=$!
    deadline=$((SECONDS + 60))
    while :; do
        code=$($CURL -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$BERTH_PORT/api/v2.0/ping") || true
        [ "$code" = 200 ] && return 0
        kill -0 "$BERTH_PID" 2>/dev/null || die "berth exited while starting: $(tail -n 5 "$TMP/berth.log")"
        [ $SECONDS -lt "$deadline" ] || die "berth not ready within 60 s"
        sleep 0.05
    done
}

digest() { printf 'sha256:%s' "$(sha256sum "$1" | cut -d' ' -f1)"; }
push_blob() { # FILE
    local loc
    loc=$($CURL -sS -f -u "admin:$PASS" -X POST -D - -o /dev/null \
        "http://127.0.0.1:$BERTH_PORT/v2/library/bench/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    case $loc in http*) ;; *) loc=http://127.0.0.1:$BERTH_PORT$loc ;; esac
    case $loc in *\?*) loc="$loc&" ;; *) loc="$loc?" ;; esac
    $CURL -sS -f -u "admin:$PASS" -X PUT -H 'Content-Type: application/octet-stream' \
        --data-binary "@$1" -o /dev/null "${loc}digest=$(digest "$1")" || die "push of $1 failed"
}

# --- content: the manifest of bench.sh (a config and one 1 MiB layer) ---------------------------
mkdir -p "$TMP/data"
head -c $((1 << 20)) /dev/urandom >"$TMP/blob1m"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$TMP/config"
$JQ -cn --arg c "$(digest "$TMP/config")" --argjson cs "$(wc -c <"$TMP/config")" \
    --arg l "$(digest "$TMP/blob1m")" --argjson ls "$(wc -c <"$TMP/blob1m")" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
      layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $l, size: $ls}]}' |
    tr -d '\n' >"$TMP/manifest"
berth_start "$(list "${CPUS[@]:0:$MAXS}")" 4
push_blob "$TMP/config"
push_blob "$TMP/blob1m"
$CURL -sS -f -u "admin:$PASS" -X PUT -H "Content-Type: $ACCEPT" --data-binary "@$TMP/manifest" \
    -o /dev/null "http://127.0.0.1:$BERTH_PORT/v2/library/bench/manifests/v1" || die "manifest push failed"
cmp -s "$TMP/manifest" <($CURL -sS -f -u "admin:$PASS" -H "Accept: $ACCEPT" \
    "http://127.0.0.1:$BERTH_PORT/v2/library/bench/manifests/v1") || die "the manifest read back differs"
berth_stop
cp "$TMP/manifest" "$(nginx_root scale)/manifest"

# one_run PID PORT PATH CONNS [HEADER...] -> "rps us_per_req p99_us stalls requests errors"
one_run() {
    local pid=$1 port=$2 path=$3 conns=$4 t0 t1 out
    shift 4
    local -a hdr=()
    local h
    for h in "$@"; do hdr+=(--header "$h"); done
    t0=$(cpu_ticks "$pid")
    out=$(LG_PIN="$TASKSET -c $LOAD_CPUS" lg_run "$port" --conns "$conns" --threads "$LOADC" \
        --seconds "$SECS" --path "$path" "${hdr[@]}")
    t1=$(cpu_ticks "$pid")
    printf '%s\n' "$out" >>"$TMP/runs.jsonl"
    read -r n rps p99 st err <<<"$(printf '%s' "$out" |
        $JQ -r '[.requests, .ok_rps, .latency_us.p99, (.stall.seconds | length), (.errors + .non_2xx)] | @tsv')"
    echo "$rps $(cpu_us_per_req "$t0" "$t1" "$n") $p99 $st $n $err"
}

echo "device: $CORES CPUs (${CPUS[*]}); load on $LOAD_CPUS ($LOADC threads); server steps ${STEPS[*]}; ${SECS}s per run" >&2
ROWS=()
declare -A RPS1
for k in "${STEPS[@]}"; do
    scpus=$(list "${CPUS[@]:0:$k}")
    conns=$((16 * k))
    threads=$((2 * k))
    [ "$threads" -ge 4 ] || threads=4
    echo "device: $k server core(s) ..." >&2
    berth_start "$scpus" "$threads"
    # warm-up: the first Basic check runs the KDF; the credential cache holds it after
    LG_PIN="$TASKSET -c $LOAD_CPUS" lg_run "$BERTH_PORT" --conns "$conns" --threads "$LOADC" --seconds 1 \
        --path /v2/library/bench/manifests/v1 --header "Authorization: Basic $AUTH_B64" >/dev/null
    read -r b_rps b_us b_p99 b_st _ b_err <<<"$(one_run "$BERTH_PID" "$BERTH_PORT" \
        /v2/library/bench/manifests/v1 "$conns" "Authorization: Basic $AUTH_B64" "Accept: $ACCEPT")"
    berth_stop
    nport=$(free_port)
    nginx_start scale "$nport" "$k" "$scpus"
    read -r n_rps n_us n_p99 n_st _ n_err <<<"$(one_run "$NGINX_PID" "$nport" /manifest "$conns")"
    nginx_stop
    RPS1[$k]=$b_rps
    ROWS+=("$($JQ -cn --argjson k "$k" --argjson br "$b_rps" --argjson bu "$b_us" --argjson bp "$b_p99" \
        --argjson bs "$b_st" --argjson be "$b_err" --argjson nr "$n_rps" --argjson nu "$n_us" \
        --argjson np "$n_p99" --argjson ns "$n_st" --argjson ne "$n_err" --argjson c "$conns" \
        '{cores: $k, connections: $c,
          berth: {rps: $br, rps_per_core: ($br / $k), cpu_us_per_req: $bu, p99_us: $bp, stalled_seconds: $bs, errors: $be},
          nginx: {rps: $nr, rps_per_core: ($nr / $k), cpu_us_per_req: $nu, p99_us: $np, stalled_seconds: $ns, errors: $ne}}')")
done

if [ "$MAXS" -ge 4 ] && [ -n "${RPS1[1]:-}" ] && [ -n "${RPS1[4]:-}" ]; then
    eff=$(awk -v a="${RPS1[4]}" -v b="${RPS1[1]}" 'BEGIN { if (b > 0) printf "%.2f", a / (4 * b); else print 0 }')
    verdict=$(awk -v e="$eff" 'BEGIN { print (e >= 0.8 ? "PASS" : "FAIL") }')
    linear="$eff of linear ($verdict)"
else
    eff=null
    linear="n/a (only $CORES cores)"
fi

TABLE=$($JQ -cn --argjson rows "[$(IFS=,; echo "${ROWS[*]}")]" --argjson cores "$CORES" \
    --argjson load "$LOADC" --arg loadcpus "$LOAD_CPUS" --argjson secs "$SECS" --argjson eff "$eff" \
    --arg linear "$linear" \
    '{cpus: $cores, load_threads: $load, load_cpus: $loadcpus, seconds: $secs, rows: $rows,
      linear_1_to_4: $eff, linear_goal: 0.8, linear_line: $linear}')
[ -z "${BENCH_JSON:-}" ] || printf '%s\n' "$TABLE" >"$BENCH_JSON"

printf '\n%-5s %10s %9s %9s %9s %10s %9s %9s %8s %s\n' "cores" "berth r/s" "r/s/core" "us/req" \
    "p99 ms" "nginx r/s" "r/s/core" "us/req" "cpu b/n" "stalls b/n"
printf '%-5s %10s %9s %9s %9s %10s %9s %9s %8s %s\n' "-----" "----------" "---------" "---------" \
    "---------" "----------" "---------" "---------" "--------" "----------"
printf '%s\n' "$TABLE" | $JQ -r '.rows[] | [.cores, .berth.rps, .berth.rps_per_core, .berth.cpu_us_per_req,
    .berth.p99_us / 1000, .nginx.rps, .nginx.rps_per_core, .nginx.cpu_us_per_req,
    (if .nginx.cpu_us_per_req > 0 then .berth.cpu_us_per_req / .nginx.cpu_us_per_req else 0 end),
    .berth.stalled_seconds, .nginx.stalled_seconds, .berth.errors, .nginx.errors] | @tsv' |
    while IFS=$'\t' read -r k br bc bu bp nr nc nu ratio bs ns be ne; do
        note=""
        [ "$be" = 0 ] && [ "$ne" = 0 ] || note=" errors b/n: $be/$ne"
        printf '%-5s %10.0f %9.0f %9.1f %9.2f %10.0f %9.0f %9.1f %8.2f %s/%s%s\n' "$k" "$br" "$bc" "$bu" \
            "$bp" "$nr" "$nc" "$nu" "$ratio" "$bs" "$ns" "$note"
    done
echo
echo "scaling: Berth manifest GET (Basic, credential cache warm) vs nginx static GET of the same bytes;"
echo "server pinned to the first K of $CORES CPUs, loadgen ($LOADC threads, 16 connections per server core) on $LOAD_CPUS."
echo "us/req: server CPU (utime+stime, nginx master+workers) per request; cpu b/n: Berth's over nginx's."
echo "goal 1 -> 4 cores >= 0.8x linear: $linear"
