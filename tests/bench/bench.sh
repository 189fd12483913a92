#!/usr/bin/env bash
# bench.sh - `make bench`: four tables from one run.
#
# 1. Berth side by side with Debian's docker-registry (distribution 2.8): same workload, same
#    Basic-auth password, one run each.
#
#   manifest GET req/s     wrk, GET /v2/library/bench/manifests/v1 (small OCI manifest)
#   blob HEAD req/s        headgen.c, 4 threads (wrk cannot parse HEAD answers)
#   1 MiB blob GET req/s   wrk
#   100 MiB blob GET MiB/s wrk, bytes read / duration
#   monolithic push/s      loadgen.py push: POST + PUT ?digest= of 1 KiB unique blobs
#   chunked upload MiB/s   loadgen.py chunked: 64 MiB blobs in 8 MiB PATCHes
#   peak RSS MiB           VmHWM of each server at the end
#
# 2. Berth auth modes (distribution 2.8 has no token service of its own, so no ratio; its
#    manifest GET with htpasswd Basic from table 1 is printed as the reference line):
#   tokens issued/s        wrk, GET /service/token?service=<from the /v2/ challenge>
#                          &scope=repository:library/bench:pull with Basic credentials
#   manifest GET req/s     wrk, the same manifest with Bearer (a token from the service), Basic,
#                          and anonymous (a copy in the public project benchpub)
#
# 3. The puller: `berth pull` to an OCI layout vs `skopeo copy` of a 200 MiB image from a local
#    docker-registry (pull_bench.sh, run after both servers above are stopped).
#
# 4. Pull counting (pulls_bench.sh, after the others): manifest GET req/s with counting on vs off,
#    and 200 concurrent pullers on one repository vs spread over 200 repositories.
#
# Each measurement lasts BENCH_SECONDS (default 5); the whole run stays under ~4 minutes. Both
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
for c in docker-registry htpasswd curl python3 jq cc skopeo; do
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

# --- Berth auth modes ---------------------------------------------------------------------------
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

# expect_200 PATH [CURL ARGS...]: the request answers 200, so a measurement counts real work
expect_200() {
    local path=$1 code
    shift
    code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Accept: $ACCEPT" "$@" "http://127.0.0.1:$BERTH_PORT$path")
    [ "$code" = 200 ] || die "GET $path answered $code (wanted 200)"
}
expect_200 /v2/library/bench/manifests/v1 -H "Authorization: Bearer $TOKEN"
expect_200 /v2/library/bench/manifests/v1 -u "$USER_NAME:$PASS"
expect_200 /v2/benchpub/bench/manifests/v1
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$BERTH_PORT/v2/library/bench/manifests/v1")
[ "$code" = 401 ] || die "anonymous GET on private library answered $code (wanted 401)"

declare -A A AE AN AUS
AKEYS=(token manifest_bearer manifest_basic manifest_anon)
declare -A ALABEL=(
    [token]="tokens issued/s (GET /service/token, Basic)"
    [manifest_bearer]="manifest GET req/s, Bearer"
    [manifest_basic]="manifest GET req/s, Basic"
    [manifest_anon]="manifest GET req/s, anonymous (public)"
)
declare -A APATH=(
    [token]=$TOKEN_PATH
    [manifest_bearer]=/v2/library/bench/manifests/v1
    [manifest_basic]=/v2/library/bench/manifests/v1
    [manifest_anon]=/v2/benchpub/bench/manifests/v1
)
declare -A AAUTH=(
    [token]="Basic $AUTH_B64"
    [manifest_bearer]="Bearer $TOKEN"
    [manifest_basic]="Basic $AUTH_B64"
    [manifest_anon]=""
)
for k in "${AKEYS[@]}"; do
    AN[$k]=0
    AUS[$k]=0
    AE[$k]=0
done
auth_run() { # KEY: one wrk run, added to the key's totals
    local -a f
    read -r -a f <<<"$(wrk_run "$BERTH_PORT" "${APATH[$1]}" 8 GET "${AAUTH[$1]}")"
    AN[$1]=$((AN[$1] + ${f[0]:-0}))
    AUS[$1]=$((AUS[$1] + ${f[2]:-0}))
    if [[ ${f[3]:-x} =~ ^[0-9]+$ ]]; then AE[$1]=$((AE[$1] + f[3])); else AE[$1]="${AE[$1]}+?"; fi
}
# The three manifest modes run twice, in the order Bearer Basic anonymous anonymous Basic Bearer,
# so that a drift in the machine's load does not favour one of them.
echo "bench: ${ALABEL[token]} ..." >&2
auth_run token
echo "bench: manifest GET req/s with Bearer, Basic, anonymous (2 rounds each) ..." >&2
for k in manifest_bearer manifest_basic manifest_anon manifest_anon manifest_basic manifest_bearer; do
    auth_run "$k"
done
for k in "${AKEYS[@]}"; do
    A[$k]=$(per_s "${AN[$k]}" "${AUS[$k]}")
    [ "${AN[$k]}" != 0 ] || AE[$k]="${AE[$k]} (no successful request)"
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

# --- puller -------------------------------------------------------------------------------------
# Runs with both servers above stopped; pull_bench.sh starts and stops its own docker-registry.
echo "bench: berth pull vs skopeo copy (200 MiB image) ..." >&2
PULL_OUT=$(BERTH_PULL_BIN=$BERTH bash "$HERE/pull_bench.sh" 2>&1) || true
read -r -a PULL <<<"$(printf '%s\n' "$PULL_OUT" | sed -n 's/^RESULT //p')"

# --- tables -------------------------------------------------------------------------------------
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

printf '\n%-48s %12s %10s\n' "Berth auth modes" "berth" "vs Basic"
printf '%-48s %12s %10s\n' "------------------------------------------------" "------------" "----------"
for k in "${AKEYS[@]}"; do
    ratio=-
    case $k in manifest_*)
        ratio=$(awk -v a="${A[$k]}" -v b="${A[manifest_basic]}" \
            'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }') ;;
    esac
    note=""
    [ "${AE[$k]}" = 0 ] || note=" errors: ${AE[$k]}"
    printf '%-48s %12s %10s%s\n' "${ALABEL[$k]}" "${A[$k]}" "$ratio" "$note"
done
printf '%-48s %12s %10s\n' "reference: distribution 2.8 manifest GET, Basic" "${R[manifest_get]}" \
    "$(awk -v a="${R[manifest_get]}" -v b="${A[manifest_basic]}" \
        'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
echo
echo "tokens: one RS256 JWT per request (scope repository:library/bench:pull," \
    "service \"$TOKEN_SERVICE\"), 8 connections."
echo "manifest rows: 2 runs each in alternating order, 8 connections; Bearer reuses one token"
echo "(signature, exp, nbf, aud and project age checked per request); Basic hits Berth's cache of"
echo "verified credentials after the first KDF; anonymous reads the public project benchpub."
echo "distribution 2.8 has no token service of its own; its row is table 1's manifest GET."

echo
if [ "${#PULL[@]}" -ge 4 ]; then
    printf '%-40s %12s %12s %10s\n' "puller (${PULL[0]} MiB image, best of ${PULL[3]})" "berth pull" \
        "skopeo copy" "berth/sk"
    printf '%-40s %12s %12s %10s\n' "----------------------------------------" "------------" \
        "------------" "----------"
    printf '%-40s %12s %12s %10s\n' "wall time s (lower is better)" "${PULL[1]}" "${PULL[2]}" \
        "$(awk -v a="${PULL[1]}" -v b="${PULL[2]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
    printf '%-40s %12s %12s %10s\n' "throughput MiB/s" \
        "$(awk -v n="${PULL[0]}" -v t="${PULL[1]}" 'BEGIN { if (t > 0) printf "%.1f", n / t; else print 0 }')" \
        "$(awk -v n="${PULL[0]}" -v t="${PULL[2]}" 'BEGIN { if (t > 0) printf "%.1f", n / t; else print 0 }')" \
        "$(awk -v a="${PULL[1]}" -v b="${PULL[2]}" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')"
    echo
    echo "puller: 4 layers of 50 MiB incompressible data (gzip) + config from a local docker-registry" \
        "into an OCI layout; rounds alternate which tool goes first."
else
    echo "puller: no result from pull_bench.sh; its output:"
    printf '%s\n' "$PULL_OUT" | tail -n 20
fi

# --- pull counting -----------------------------------------------------------------------------
echo "bench: pull counting on/off, 200 pullers one vs 200 repositories ..." >&2
PB_OUT=$(BERTH_BENCH_BIN=$BERTH BENCH_SECONDS=$SECS bash "$HERE/pulls_bench.sh" 2>&1) || true
echo
if printf '%s\n' "$PB_OUT" | grep -q '^RESULT '; then
    printf '%s\n' "$PB_OUT" | sed -n '/^pull counting/,$p'
else
    echo "pull counting: no result from pulls_bench.sh; its output:"
    printf '%s\n' "$PB_OUT" | tail -n 20
fi

if [ "$berth_rc" != 0 ]; then
    echo "bench: berth exited $berth_rc on SIGTERM; its log's tail:"
    tail -n 20 "$TMP/berth.log"
fi
