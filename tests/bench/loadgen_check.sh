#!/usr/bin/env bash
# loadgen_check.sh - checks tests/bench/loadgen.c against a private nginx before `make bench`
# trusts its figures (bench.sh runs it first; runs alone too, ~10 s):
#   - every answer of a keep-alive GET run is counted, 2xx, with the file's bytes;
#   - HEAD answers are framed without a body (the next answer is still parsed);
#   - a 404 is counted under its status and not as 2xx;
#   - a server that closes after each answer costs reconnects, never errors;
#   - a server stopped (SIGSTOP) for 2 s of a 5 s run shows as stalled seconds;
#   - bad arguments are refused with exit status 2.
# LOADGEN overrides the binary (default build/bench/loadgen). Prints ok/not ok lines and
# "N passed, N failed".
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/bench
LOADGEN=${LOADGEN:-$ROOT/build/bench/loadgen}
NGINX=${NGINX:-nginx}
die() { echo "loadgen_check: $*" >&2; exit 1; }
[ -x "$LOADGEN" ] || die "$LOADGEN not built (make build/bench/loadgen)"
command -v jq >/dev/null 2>&1 || die "jq missing"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-lgcheck.XXXXXX")
# shellcheck source-path=SCRIPTDIR source=lib_server.sh
. "$HERE/lib_server.sh"
trap 'nginx_stop; rm -rf "$TMP"' EXIT

pass=0
fail=0
check() { # NAME JQ_FILTER JSON: ok when the filter yields true
    if printf '%s' "$3" | jq -e "$2" >/dev/null 2>&1; then
        echo "ok - $1"
        pass=$((pass + 1))
    else
        echo "not ok - $1: $(printf '%s' "$3" | head -c 600)"
        fail=$((fail + 1))
    fi
}

WWW=$(nginx_root check)
head -c 4096 /dev/urandom >"$WWW/f4k"
PORT=$(free_port)
nginx_start check "$PORT" 1

out=$(lg_run "$PORT" --conns 4 --threads 2 --seconds 2 --path /f4k)
check "keep-alive GET: all answers 2xx, no errors or reconnects, bytes cover the bodies" \
    '.requests > 100 and .ok == .requests and .errors == 0 and .reconnects == 0 and
     .bytes >= .requests * 4096 and .bytes < .requests * 4096 + .requests * 400 and
     .connections_served == 4 and (.per_second | add) == .requests and .status["200"] == .requests' "$out"
check "latency percentiles ordered, max exact and at least p99.9" \
    '.latency_us as $l | $l.p50 > 0 and $l.p50 <= $l.p90 and $l.p90 <= $l.p99 and
     $l.p99 <= $l.p999 and $l.p999 <= $l.max' "$out"

out=$(lg_run "$PORT" --conns 2 --threads 1 --seconds 1 --method HEAD --path /f4k)
check "HEAD: answers framed without a body" \
    '.requests > 50 and .ok == .requests and .errors == 0 and .bytes < .requests * 400' "$out"

out=$(lg_run "$PORT" --conns 2 --threads 1 --seconds 1 --path /missing)
check "404 counted under its status, not as 2xx" \
    '.requests > 50 and .ok == 0 and .non_2xx == .requests and .status["404"] == .requests' "$out"

printf 'GET /f4k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$TMP/close.req"
out=$(lg_run "$PORT" --conns 2 --threads 1 --seconds 1 --request "$TMP/close.req")
check "Connection: close: one reconnect per answer, no errors" \
    '.requests > 20 and .ok == .requests and .errors == 0 and .reconnects >= .requests - 2' "$out"

# stop nginx's worker for seconds 2-3 of a 5 s run: those seconds fall below a tenth of the median
WORKERS=$(cat /proc/"$NGINX_PID"/task/*/children 2>/dev/null)
[ -n "$WORKERS" ] || die "no nginx worker found"
lg_run "$PORT" --conns 4 --threads 1 --seconds 5 --path /f4k >"$TMP/stall.json" &
LGPID=$!
sleep 1.8
# shellcheck disable=SC2086
kill -STOP $WORKERS
sleep 2.2
# shellcheck disable=SC2086
kill -CONT $WORKERS
wait "$LGPID"
check "stall detector: the stopped seconds are flagged, the others not" \
    '(.stall.seconds | length) >= 1 and (.stall.seconds | length) <= 3 and
     (.stall.seconds | index(0)) == null and (.stall.seconds | index(4)) == null' "$(cat "$TMP/stall.json")"

for args in "--port 0 --path /" "--port 80" "--port 80 --path / --request x" "--port 80 --path / --method POST" \
    "--port 80 --path / --header bad"; do
    rc=0
    # shellcheck disable=SC2086
    $LOADGEN $args >/dev/null 2>&1 || rc=$?
    check "refuses: $args" '. == 2' "$rc"
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
