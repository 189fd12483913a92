#!/usr/bin/env bash
# bench.sh - Berth side by side with Debian's docker-registry (distribution 2.8): same workload,
# same Basic-auth password, one run each, one table (make bench).
#
#   manifest GET req/s     wrk, GET /v2/library/bench/manifests/v1 (small OCI manifest)
#   blob HEAD req/s        headgen.c, 4 threads (wrk cannot parse HEAD answers)
#   1 MiB blob GET req/s   wrk
#   100 MiB blob GET MiB/s wrk, bytes read / duration
#   monolithic push/s      loadgen.py push: POST + PUT ?digest= of 1 KiB unique blobs
#   chunked upload MiB/s   loadgen.py chunked: 64 MiB blobs in 8 MiB PATCHes
#   peak RSS MiB           VmHWM of each server at the end
#
# Each measurement lasts BENCH_SECONDS (default 5); the whole run stays under ~3 minutes. Both
# servers listen on 127.0.0.1 only, on free ports, with fresh data dirs under a temp dir, and are
# stopped by PID at the end. Both share the machine with the load generators, so the ratio is
# the number to read. BERTH_BENCH_BIN overrides the Berth binary (default bin/berth).
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
for c in docker-registry htpasswd curl python3 jq cc; do
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

free_port() {
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

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

# --- measurements -------------------------------------------------------------------------------
# Each prints "value errors".
wrk_run() { # PORT PATH CONNS METHOD -> "requests bytes duration_us errors"
    BENCH_METHOD=$4 BENCH_AUTH_B64=$AUTH_B64 BENCH_ACCEPT=$ACCEPT \
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

KEYS=(manifest_get blob_head blob1m_get blob100m_get push chunked)
declare -A LABEL=(
    [manifest_get]="manifest GET req/s"
    [blob_head]="blob HEAD req/s"
    [blob1m_get]="1 MiB blob GET req/s"
    [blob100m_get]="100 MiB blob GET MiB/s"
    [push]="monolithic push/s"
    [chunked]="chunked upload MiB/s"
)
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

hwm_mib() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }
B[rss]=$(hwm_mib "$BERTH_PID")
R[rss]=$(hwm_mib "$REF_PID")
BE[rss]=0
RE[rss]=0
KEYS+=(rss)
LABEL[rss]="peak RSS MiB (VmHWM, lower is better)"

# --- stop both by PID ---------------------------------------------------------------------------
kill -TERM "$BERTH_PID" "$REF_PID" 2>/dev/null || true
berth_rc=0
wait "$BERTH_PID" || berth_rc=$?
wait "$REF_PID" 2>/dev/null || true
PIDS=()

# --- table --------------------------------------------------------------------------------------
printf '\n%-40s %12s %12s %10s\n' "metric" "berth" "reference" "berth/ref"
printf '%-40s %12s %12s %10s\n' "----------------------------------------" "------------" \
    "------------" "----------"
for k in "${KEYS[@]}"; do
    ratio=$(awk -v a="${B[$k]}" -v b="${R[$k]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    note=""
    [ "${BE[$k]}" = 0 ] || note="$note berth errors: ${BE[$k]};"
    [ "${RE[$k]}" = 0 ] || note="$note reference errors: ${RE[$k]};"
    printf '%-40s %12s %12s %10s%s\n' "${LABEL[$k]}" "${B[$k]}" "${R[$k]}" "$ratio" "$note"
done
echo
echo "reference: Debian docker-registry $(docker-registry --version 2>/dev/null | awk '{print $3}');" \
    "both with Basic auth (same password; distribution checks bcrypt from htpasswd on every request)."
echo "load: wrk (GET), headgen.c (HEAD), loadgen.py (pushes), on the same $(nproc) cores as the servers."
if [ "$berth_rc" != 0 ]; then
    echo "bench: berth exited $berth_rc on SIGTERM; its log's tail:"
    tail -n 20 "$TMP/berth.log"
fi
