#!/usr/bin/env bash
# pulls_bench.sh - the cost of counting pulls (table 6 of `make bench`; runs alone too):
#
#   manifest GET req/s, counting on vs off   two Berths on the same data layout, one counting
#                                            (the default) and one whose pull_exclude_agents = "*"
#                                            excludes every pull; wrk, 8 connections, the runs
#                                            alternate on/off/off/on so drift favours neither
#                                            (a warm-up run first fills the credential cache);
#                                            the goal (<= 5%) is judged on the server's CPU per
#                                            request, which the load generator's share of a small
#                                            machine cannot move; the req/s ratio is shown too
#   200 pullers: one repository vs 200       wrk -c200 on the counting Berth: every GET on one
#                                            repository's manifest, then spread over 200
#                                            repositories (a row lock would serialize the first,
#                                            harbor#19918; Berth counts in memory); runs
#                                            alternate one/spread/spread/one
# Prints "RESULT on off one spread" (req/s) and a small table. BERTH_BENCH_BIN overrides the
# binary (default bin/berth); BENCH_SECONDS (default 5) per run. Servers listen on 127.0.0.1
# only, on free ports, with fresh data dirs, and are stopped by PID.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/bench
BERTH=${BERTH_BENCH_BIN:-$ROOT/bin/berth}
SECS=${BENCH_SECONDS:-5}
PASS="bench-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
AUTH_B64=$(printf 'admin:%s' "$PASS" | base64 -w0)
ACCEPT="application/vnd.oci.image.manifest.v1+json"
NREPOS=200

die() { echo "pulls_bench: $*" >&2; exit 1; }
[ -x "$BERTH" ] || die "$BERTH not built (make)"
for c in wrk curl python3 jq; do command -v "$c" >/dev/null 2>&1 || die "$c missing"; done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/berth-pbench.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

# shellcheck source-path=SCRIPTDIR source=lib_server.sh
. "$HERE/lib_server.sh" # free_port, cpu_ticks, cpu_us_per_req
start() { # NAME CONFIG_TEXT -> sets PORT_<NAME>
    local port pid deadline
    port=$(free_port)
    mkdir -p "$TMP/$1"
    printf '%s\n' "$2" >"$TMP/$1.conf"
    BERTH_ADMIN_PASSWORD=$PASS "$BERTH" serve --config "$TMP/$1.conf" --listen "127.0.0.1:$port" \
        --data "$TMP/$1" >"$TMP/$1.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    deadline=$((SECONDS + 60))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v2.0/ping")" = 200 ]; do
        kill -0 "$pid" 2>/dev/null || die "$1 exited while starting"
        [ $SECONDS -lt $deadline ] || die "$1 not ready within 60 s"
        sleep 0.1
    done
    printf -v "PORT_$1" '%s' "$port"
    printf -v "PID_$1" '%s' "$pid"
}
digest() { printf 'sha256:%s' "$(sha256sum "$1" | cut -d' ' -f1)"; }
push() { # PORT REPO: config + manifest (the blob is pushed once, then mounted)
    local loc
    loc=$(curl -sS -f -u "admin:$PASS" -X POST -D - -o /dev/null \
        "http://127.0.0.1:$1/v2/$2/blobs/uploads/?mount=$(digest "$TMP/config")&from=library/base" |
        tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    case $loc in */blobs/sha256:*) ;; *)
        case $loc in http*) ;; *) loc=http://127.0.0.1:$1$loc ;; esac
        case $loc in *\?*) loc="$loc&" ;; *) loc="$loc?" ;; esac
        curl -sS -f -u "admin:$PASS" -X PUT --data-binary "@$TMP/config" -o /dev/null \
            -H 'Content-Type: application/octet-stream' "${loc}digest=$(digest "$TMP/config")" ;;
    esac
    curl -sS -f -u "admin:$PASS" -X PUT -H "Content-Type: $ACCEPT" --data-binary "@$TMP/manifest" \
        -o /dev/null "http://127.0.0.1:$1/v2/$2/manifests/v1"
}
wrk_run() { # PORT CONNS SCRIPT PATH [spread]
    BENCH_HERE=$HERE BENCH_METHOD=GET BENCH_AUTHORIZATION="Basic $AUTH_B64" BENCH_ACCEPT=$ACCEPT \
        BENCH_SPREAD=${5:-1} wrk -t2 -c"$2" -d"${SECS}s" --timeout 30s -s "$HERE/$3" \
        "http://127.0.0.1:$1$4" 2>&1 | sed -n 's/^RESULT //p'
}
per_s() { awk -v n="$1" -v us="$2" 'BEGIN { printf "%.1f", (us > 0 ? n * 1e6 / us : 0) }'; }

printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$TMP/config"
jq -cn --arg c "$(digest "$TMP/config")" --argjson cs "$(wc -c <"$TMP/config")" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
      layers: []}' | tr -d '\n' >"$TMP/manifest"

start on ""
start off 'pull_exclude_agents = "*"'
for port in "$PORT_on" "$PORT_off"; do push "$port" library/base; done

# warm-up: 200 connections at once verify the password once each before the credential cache
# holds it; neither measurement below should pay for that
for port in "$PORT_on" "$PORT_off"; do
    SECS=2 wrk_run "$port" 200 wrk_report.lua /v2/library/base/manifests/v1 >/dev/null
done

declare -A N US E T
for k in on off one spread; do N[$k]=0; US[$k]=0; E[$k]=0; T[$k]=0; done
add() { # KEY RESULT...
    local k=$1
    shift
    N[$k]=$((N[$k] + ${1:-0}))
    US[$k]=$((US[$k] + ${3:-0}))
    if [[ ${4:-x} =~ ^[0-9]+$ ]]; then E[$k]=$((E[$k] + $4)); else E[$k]="${E[$k]}+?"; fi
}
# each pair runs twice in alternating order (a b b a), so a drift in load favours neither
echo "pulls_bench: manifest GET, counting on/off/off/on ..." >&2
for k in on off off on; do
    port=PORT_$k
    pid=PID_$k
    t0=$(cpu_ticks "${!pid}")
    add "$k" $(wrk_run "${!port}" 8 wrk_report.lua /v2/library/base/manifests/v1)
    T[$k]=$((T[$k] + $(cpu_ticks "${!pid}") - t0))
done
# the spread repositories go in after on/off, so that both of those servers hold the same data
echo "pulls_bench: pushing $NREPOS repositories ..." >&2
for i in $(seq 0 $((NREPOS - 1))); do push "$PORT_on" "library/spread-$i"; done
# the credential cache may have expired during the pushes: warm it again
SECS=2 wrk_run "$PORT_on" 200 wrk_report.lua /v2/library/base/manifests/v1 >/dev/null
echo "pulls_bench: 200 pullers, one repository / $NREPOS / $NREPOS / one ..." >&2
for k in one spread spread one; do
    if [ "$k" = one ]; then
        add one $(wrk_run "$PORT_on" 200 wrk_report.lua /v2/library/spread-0/manifests/v1)
    else
        add spread $(wrk_run "$PORT_on" 200 wrk_spread.lua / "$NREPOS")
    fi
done
on=$(per_s "${N[on]}" "${US[on]}")
off=$(per_s "${N[off]}" "${US[off]}")
cpu_on=$(cpu_us_per_req 0 "${T[on]}" "${N[on]}")
cpu_off=$(cpu_us_per_req 0 "${T[off]}" "${N[off]}")
one=$(per_s "${N[one]}" "${US[one]}")
spread=$(per_s "${N[spread]}" "${US[spread]}")
one_err=${E[one]}
spread_err=${E[spread]}
counted=$(curl -sS -u "admin:$PASS" "http://127.0.0.1:$PORT_on/api/v2.0/projects/library/repositories/spread-0" |
    jq -r .pull_count)

echo "RESULT $on $off $one $spread"
printf '\n%-52s %12s %10s\n' "pull counting" "req/s" "ratio"
printf '%-52s %12s %10s\n' "----------------------------------------------------" "------------" "----------"
printf '%-52s %12s %10s\n' "manifest GET, counting on (8 connections)" "$on" \
    "$(awk -v a="$on" -v b="$off" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }')"
printf '%-52s %12s %10s\n' "manifest GET, counting off (every pull excluded)" "$off" "1"
printf '%-52s %12s %10s\n' "  cost of counting in req/s" \
    "$(awk -v a="$on" -v b="$off" 'BEGIN { if (b > 0) printf "%.1f%%", (1 - a / b) * 100; else print "-" }')" ""
printf '%-52s %12s %10s\n' "  server CPU per GET, counting on / off (us)" "$cpu_on / $cpu_off" \
    "$(awk -v a="$cpu_on" -v b="$cpu_off" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }')"
printf '%-52s %12s %10s\n' "  cost of counting in server CPU (goal <= 5%, issue 10)" \
    "$(awk -v a="$cpu_on" -v b="$cpu_off" 'BEGIN { if (b > 0) printf "%.1f%%", (a / b - 1) * 100; else print "-" }')" \
    "$(awk -v a="$cpu_on" -v b="$cpu_off" 'BEGIN { print (b > 0 && a / b - 1 <= 0.05 ? "PASS" : "FAIL") }')"
printf '%-52s %12s %10s\n' "200 pullers on one repository" "$one" \
    "$(awk -v a="$one" -v b="$spread" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }')"
printf '%-52s %12s %10s\n' "200 pullers spread over $NREPOS repositories" "$spread" "1"
echo "errors: one repository $one_err, spread $spread_err; library/spread-0 counted $counted pulls" \
    "(read at once through the API)."
