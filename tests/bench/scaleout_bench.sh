#!/usr/bin/env bash
# scaleout_bench.sh - the scale-out rows of `make bench` (bench.sh runs it last; BENCH_SCALEOUT=0
# skips it): scripts/scaleout.sh's topology (PostgreSQL, radosgw, two replicas of the release
# binary, haproxy in front), one small image pushed through haproxy, then loadgen.c with the same
# 8 keep-alive connections, 2 threads and BENCH_SECONDS as bench.sh's Berth vs nginx rows:
#
#   redirect off   manifest GET through haproxy; manifest GET straight to replica 1;
#                  1 MiB blob GET through haproxy, streamed by a replica from radosgw
#   redirect on    1 MiB blob GET through haproxy, answered 307 (answers/s); the presigned GET
#                  of one 307's Location loaded straight on radosgw (req/s); the end-to-end
#                  figure is the two combined per request, 1 / (1/a + 1/b)
#
# The replicas are restarted once between the halves with `redirect = true` appended to their
# configuration. Beside each row stands the single-host figure bench.sh measured in the same run
# (RESULTS_DIR/ceiling_m_basic.json and ceiling_b_basic.json), where there is one.
#
#   tests/bench/scaleout_bench.sh [RESULTS_DIR]
#
# Writes RESULTS_DIR/scaleout.json (bench.sh folds it into build/bench/results.json); without
# RESULTS_DIR, build/bench/scaleout.json. Everything it starts is stopped by PID
# (scripts/scaleout.sh down, and backends-down for the backends it started). PostgreSQL runs
# without fsync (SCALEOUT_PG_FAST=1): these rows read, and the bench measures no durability.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RESD=${1:-}
BERTH=${BERTH_BENCH_BIN:-$ROOT/bin/berth}
LOADGEN=${BENCH_LOADGEN:-$ROOT/build/bench/loadgen}
SECS=${BENCH_SECONDS:-5}
SO=$ROOT/scripts/scaleout.sh
USER_NAME="admin"
PASS="bench-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
AUTH_B64=$(printf '%s:%s' "$USER_NAME" "$PASS" | base64 -w0)
ACCEPT="application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"

die() { echo "scaleout_bench: $*" >&2; exit 1; }

[ -x "$BERTH" ] || die "$BERTH not built (make)"
[ -x "$LOADGEN" ] || die "$LOADGEN not built (make bench builds it)"
for c in curl jq haproxy python3; do
    command -v "$c" >/dev/null 2>&1 || die "$c missing (make deps-test)"
done

# outside a 0700 temp dir: as root, PostgreSQL runs as user postgres, which must reach its folder
TMP=$(mktemp -d /tmp/berth-sobench-XXXXXX)
chmod 755 "$TMP"
BDIR=$TMP/backends
SDIR=$TMP/so
cleanup() {
    [ -f "$SDIR/env" ] && BERTH_BIN=$BERTH bash "$SO" down "$SDIR" >/dev/null 2>&1
    [ -f "$BDIR/backends.env" ] && bash "$SO" backends-down "$BDIR" >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT

echo "scaleout_bench: starting PostgreSQL, radosgw, 2 replicas and haproxy ..." >&2
mkdir -p "$BDIR"
SCALEOUT_PG_FAST=1 bash "$SO" backends-up "$BDIR" >"$TMP/backends.log" 2>&1 ||
    die "backends-up failed: $(tail -n 20 "$TMP/backends.log")"
OUT=$(SCALEOUT_BACKENDS=$BDIR BERTH_BIN=$BERTH BERTH_ADMIN_PASSWORD=$PASS bash "$SO" up "$SDIR" \
    2>"$TMP/up.err") || die "scaleout.sh up failed: $(tail -n 20 "$TMP/up.err")"
URL=$(printf '%s\n' "$OUT" | sed -n 's/^URL=//p')
HA_PORT=${URL##*:}
env_get() { sed -n "s/^$1=//p" "$SDIR/env" | tail -n 1; }
R1_PORT=$(env_get R1_PORT)
if [ -z "$HA_PORT" ] || [ -z "$R1_PORT" ]; then die "no URL or R1_PORT from scaleout.sh up"; fi

# --- the image (as bench.sh builds its fixtures): a config, a 1 MiB layer, a small manifest ----
head -c $((1 << 20)) /dev/urandom >"$TMP/blob1m"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$TMP/config"
digest() { printf 'sha256:%s' "$(sha256sum "$1" | cut -d' ' -f1)"; }
jq -cn --arg c "$(digest "$TMP/config")" --argjson cs "$(wc -c <"$TMP/config")" \
    --arg l "$(digest "$TMP/blob1m")" --argjson ls "$(wc -c <"$TMP/blob1m")" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
      layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $l, size: $ls}]}' |
    tr -d '\n' >"$TMP/manifest"
push_blob() { # FILE
    local loc
    loc=$(curl -sS -f -u "$USER_NAME:$PASS" -X POST -D - -o /dev/null \
        "$URL/v2/library/bench/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    case $loc in http*) ;; *) loc=$URL$loc ;; esac
    case $loc in *\?*) loc="$loc&digest=$(digest "$1")" ;; *) loc="$loc?digest=$(digest "$1")" ;; esac
    curl -sS -f -u "$USER_NAME:$PASS" -X PUT -H 'Content-Type: application/octet-stream' \
        --data-binary "@$1" -o /dev/null "$loc" || die "push of $(basename "$1") failed"
}
push_blob "$TMP/config"
push_blob "$TMP/blob1m"
curl -sS -f -u "$USER_NAME:$PASS" -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    --data-binary "@$TMP/manifest" -o /dev/null "$URL/v2/library/bench/manifests/v1" ||
    die "manifest push failed"
MPATH=/v2/library/bench/manifests/v1
B1PATH=/v2/library/bench/blobs/$(digest "$TMP/blob1m")

# status_of PORT PATH [CURL ARGS]: the status of one authenticated GET
status_of() {
    local port=$1 path=$2
    shift 2
    curl -sS -o "$TMP/body" -w '%{http_code}' -u "$USER_NAME:$PASS" -H "Accept: $ACCEPT" "$@" \
        "http://127.0.0.1:$port$path"
}
# got CODE WANT_CODE FILE: CODE is WANT_CODE and the last body is FILE's bytes
got() { [ "$1" = "$2" ] && cmp -s "$TMP/body" "$3"; }
got "$(status_of "$HA_PORT" "$MPATH")" 200 "$TMP/manifest" ||
    die "manifest GET through haproxy does not give back the manifest"
[ "$(status_of "$R1_PORT" "$MPATH")" = 200 ] || die "manifest GET on replica 1 is not 200"
got "$(status_of "$HA_PORT" "$B1PATH")" 200 "$TMP/blob1m" ||
    die "blob GET through haproxy (redirect off) does not stream the blob"

# run KEY PORT PATH CODE [HEADER...]: one loadgen run; its JSON plus "want" (the status every
# answer should have) and "rate" (answers of that status per second) in $TMP/KEY.json
run() {
    local key=$1 port=$2 path=$3 want=$4
    shift 4
    local -a hdr=()
    local h
    for h in "$@"; do hdr+=(--header "$h"); done
    echo "scaleout_bench: $key ..." >&2
    "$LOADGEN" --port "$port" --conns 8 --threads 2 --seconds "$SECS" --path "$path" "${hdr[@]}" |
        jq -c --arg w "$want" '{want: ($w | tonumber), rate: (if .duration_s > 0 then
            (.status[$w] // 0) / .duration_s else 0 end), requests, duration_s, status, errors,
            reconnects, latency_us, stalled_seconds: (.stall.seconds | length)}' >"$TMP/$key.json"
}
BASIC="Authorization: Basic $AUTH_B64"
run m_haproxy "$HA_PORT" "$MPATH" 200 "$BASIC" "Accept: $ACCEPT"
run m_replica "$R1_PORT" "$MPATH" 200 "$BASIC" "Accept: $ACCEPT"
run b_stream "$HA_PORT" "$B1PATH" 200 "$BASIC"

# --- redirect on: both replicas restarted with `redirect = true` ---------------------------------
echo "scaleout_bench: restarting the replicas with redirect = true ..." >&2
for n in 1 2; do BERTH_BIN=$BERTH bash "$SO" replica stop "$SDIR" "$n" >>"$TMP/replica.log" 2>&1; done
echo "redirect = true" >>"$SDIR/berth.conf"
for n in 1 2; do
    BERTH_BIN=$BERTH bash "$SO" replica start "$SDIR" "$n" >>"$TMP/replica.log" 2>&1 ||
        die "replica $n does not start with redirect = true: $(tail -n 5 "$TMP/replica.log")"
done
# haproxy marks a replica up again within a second or two (inter 1s, rise 1); both must answer 307
deadline=$((SECONDS + 30))
n307=0
while [ "$n307" -lt 4 ]; do
    [ $SECONDS -lt "$deadline" ] || die "blob GET through haproxy not answered 307 within 30 s"
    if [ "$(status_of "$HA_PORT" "$B1PATH" -D "$TMP/hdr")" = 307 ]; then
        n307=$((n307 + 1))
    else
        n307=0
        sleep 0.2
    fi
done
LOC=$(tr -d '\r' <"$TMP/hdr" | sed -n 's/^[Ll]ocation: //p')
case $LOC in http://127.0.0.1:*/*) ;; *) die "the 307's Location is not on 127.0.0.1: $LOC" ;; esac
RGW_HP=${LOC#http://127.0.0.1:}
RGW_PORT=${RGW_HP%%/*}
RGW_PATH=/${RGW_HP#*/}
code=$(curl -sS -o "$TMP/body" -w '%{http_code}' "$LOC")
got "$code" 200 "$TMP/blob1m" ||
    die "the presigned URL answered $code, or other bytes than the blob"
run b_307 "$HA_PORT" "$B1PATH" 307 "$BASIC"
run b_presigned "$RGW_PORT" "$RGW_PATH" 200
# after the runs: the presigned URL still answered 200 throughout (it is valid for minutes)
[ "$(jq -r .rate "$TMP/b_presigned.json")" != 0 ] || die "the presigned URL answered no 200 under load"

# --- the table ----------------------------------------------------------------------------------
single() { # FILE: the single-host req/s bench.sh measured in this run, or ""
    if [ -n "$RESD" ] && [ -f "$RESD/$1" ]; then jq -r .rps "$RESD/$1"; fi
}
SM=$(single ceiling_m_basic.json)
SB=$(single ceiling_b_basic.json)
A=$(jq -r .rate "$TMP/b_307.json")
B=$(jq -r .rate "$TMP/b_presigned.json")
E2E=$(awk -v a="$A" -v b="$B" 'BEGIN { if (a > 0 && b > 0) printf "%.1f", 1 / (1 / a + 1 / b); else print 0 }')
fmt() { awk -v x="$1" 'BEGIN { if (x == "") print "-"; else printf "%.0f", x }'; }
ratio() { # A B: A/B, three decimals below 0.1 (a scale-out row can be far below single host)
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == "" || b <= 0) print "-"; else if (a / b < 0.1) printf "%.3f", a / b;
        else printf "%.2f", a / b }'
}

declare -A LBL=(
    [m_haproxy]="manifest GET via haproxy"
    [m_replica]="manifest GET, replica 1 direct"
    [b_stream]="1 MiB blob GET via haproxy, streamed"
    [b_307]="1 MiB blob GET via haproxy, 307 answers"
    [b_presigned]="1 MiB presigned GET, radosgw direct"
)
declare -A SINGLE=([m_haproxy]=$SM [m_replica]=$SM [b_stream]=$SB [b_307]="" [b_presigned]="")
printf '\n%-42s %9s %9s %7s %8s %8s %8s  %s\n' "scale-out (loadgen, 8 conns, Basic)" "req/s" "single" \
    "ratio" "p50 ms" "p99 ms" "max ms" "notes"
printf '%-42s %9s %9s %7s %8s %8s %8s\n' "------------------------------------------" "---------" \
    "---------" "-------" "--------" "--------" "--------"
for k in m_haproxy m_replica b_stream b_307 b_presigned; do
    read -r rate want p50 p99 mx st codes <<<"$(jq -r '[.rate, .want, .latency_us.p50 / 1000,
        .latency_us.p99 / 1000, .latency_us.max / 1000, .stalled_seconds,
        ((.status | to_entries | map("\(.key):\(.value)") | join(",")) + ",conn errors:\(.errors)")] | @tsv' \
        "$TMP/$k.json")"
    note=""
    [ "$(jq --argjson w "$want" '(.status[($w | tostring)] // 0) == .requests and .errors == 0' "$TMP/$k.json")" = true ] ||
        note="answers other than $want: $codes"
    [ "$st" = 0 ] || note="$note stalled ${st} s"
    printf '%-42s %9.0f %9s %7s %8.2f %8.2f %8.2f  %s\n' "${LBL[$k]}" "$rate" "$(fmt "${SINGLE[$k]}")" \
        "$(ratio "$rate" "${SINGLE[$k]}")" "$p50" "$p99" "$mx" "$note"
done
printf '%-42s %9.0f %9s %7s  %s\n' "1 MiB blob GET, redirect end to end" "$E2E" "$(fmt "$SB")" \
    "$(ratio "$E2E" "$SB")" "1/(1/307s + 1/presigned), per request"
echo
echo "scale-out: PostgreSQL (no fsync) + radosgw + 2 replicas of $(basename "$BERTH") + haproxy (roundrobin);"
echo "single = bench.sh's single-host Berth row of this run (loadgen, 8 conns, Basic, $SECS s), all on the"
echo "same $(nproc) cores as the load generator, so the ratio is the number to read."

OUTF=${RESD:+$RESD/scaleout.json}
if [ -z "$OUTF" ]; then
    mkdir -p "$ROOT/build/bench"
    OUTF=$ROOT/build/bench/scaleout.json
fi
jq -n --argjson e2e "$E2E" --arg sm "$SM" --arg sb "$SB" \
    --slurpfile mh "$TMP/m_haproxy.json" --slurpfile mr "$TMP/m_replica.json" \
    --slurpfile bs "$TMP/b_stream.json" --slurpfile b3 "$TMP/b_307.json" --slurpfile bp "$TMP/b_presigned.json" \
    '{replicas: 2, connections: 8,
      manifest_get_haproxy: $mh[0], manifest_get_replica: $mr[0], blob1m_get_haproxy_streamed: $bs[0],
      blob1m_get_haproxy_307: $b3[0], blob1m_presigned_get_radosgw: $bp[0],
      blob1m_get_redirect_end_to_end_rps: $e2e,
      single_host_manifest_get_rps: (if $sm == "" then null else ($sm | tonumber) end),
      single_host_blob1m_get_rps: (if $sb == "" then null else ($sb | tonumber) end)}' >"$OUTF"
