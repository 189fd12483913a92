#!/usr/bin/env bash
# state_replicas.sh - two replicas share their state through one PostgreSQL database: two
#   `berth serve` processes with `metadata = postgres://...` and different data directories
#   (scripts/pg.sh starts a private PostgreSQL). A web login on A is a session on B; a logout on
#   B ends it on A; a token from A's /service/token verifies on B (one signing key, stored
#   once); 5 failed logins split over A and B trip the throttle on both; after
#   `berth admin rotate-token-key` both sign with the new key and the old token still verifies;
#   `berth audit purge --config` purges the shared store.
#   Skipped (with the reason) when PostgreSQL is not installed or a server cannot run on it.
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
API=/api/v2.0
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# jwt_kid JWT: the kid of a token's header
jwt_kid() {
    local h
    h=$(cut -d. -f1 <<<"$1" | tr '_-' '/+')
    while [ $((${#h} % 4)) -ne 0 ]; do h="$h="; done
    base64 -d <<<"$h" 2>/dev/null | jq -r .kid 2>/dev/null
}

skip_all() { # REASON
    skip "state shared by two replicas over PostgreSQL" "$1"
    echo "# skipped: $1" >&2
    finish
}

[ -x "$PG_BIN/pg_ctl" ] || skip_all "no PostgreSQL binaries in $PG_BIN"
[ -x "$BERTH_BIN" ] || skip_all "no server binary $BERTH_BIN (make asan-bin)"

# outside BB_TMP (mode 0700): as root the server runs as user postgres (scripts/pg.sh)
PG_DIR=$(mktemp -d /tmp/berth-pg-XXXXXX)
if ! sh "$ROOT/scripts/pg.sh" start --fast "$PG_DIR" >"$BB_TMP/pg.out" 2>&1; then
    skip_all "scripts/pg.sh start failed: $(tail -n 3 "$BB_TMP/pg.out" | tr '\n' ' ')"
fi
PG_URL=$(sed -n 's/^PG_URL=//p' "$BB_TMP/pg.out")
PG_PID=$(sed -n 's/^PG_PID=//p' "$BB_TMP/pg.out")
printf 'metadata = %s\n' "$PG_URL" >"$BB_TMP/pg.conf"

# replicas: NAME_URL NAME_PID NAME_LOG NAME_DATA; stopped (and PostgreSQL) on exit
REPLICAS=()
stop_all() {
    local n pid
    for n in "${REPLICAS[@]}"; do
        pid=${n}_PID
        if [ -n "${!pid:-}" ] && kill -0 "${!pid}" 2>/dev/null; then
            kill -TERM "${!pid}" 2>/dev/null
            bb_wait_exit "${!pid}" 10 || kill -KILL "${!pid}" 2>/dev/null
        fi
    done
    [ -n "${PG_PID:-}" ] && kill -INT "$PG_PID" 2>/dev/null
    [ -n "${PG_PID:-}" ] && { bb_wait_exit "$PG_PID" 20 || true; }
    rm -rf "$PG_DIR"
    bb_cleanup
}
trap stop_all EXIT

# start_replica NAME: a server over the shared database with its own data directory; 1 when it
# does not become ready within 30 s (its log tail in NAME_LOG)
start_replica() {
    local name=$1 port data log pid deadline
    port=$(free_port)
    data=$(mktemp -d "$BB_TMP/data-$name.XXXXXX")
    log=$BB_TMP/server-$name.log
    BERTH_ADMIN_PASSWORD=$ADMIN_PASS "$BERTH_BIN" serve --listen "127.0.0.1:$port" --data "$data" \
        --config "$BB_TMP/pg.conf" >"$log" 2>&1 &
    pid=$!
    REPLICAS+=("$name")
    printf -v "${name}_PID" '%s' "$pid"
    printf -v "${name}_URL" '%s' "http://127.0.0.1:$port"
    printf -v "${name}_LOG" '%s' "$log"
    printf -v "${name}_DATA" '%s' "$data"
    deadline=$((SECONDS + 30))
    while [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
        "http://127.0.0.1:$port/api/v2.0/ping")" != 200 ]; do
        kill -0 "$pid" 2>/dev/null || return 1
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.1
    done
    return 0
}

# stop_replica NAME: SIGTERM, exit 0, no sanitizer report
stop_replica() {
    local name=$1 pid log rc
    pid=${name}_PID
    log=${name}_LOG
    pid=${!pid}
    kill -TERM "$pid" 2>/dev/null
    if ! bb_wait_exit "$pid" 20; then
        kill -KILL "$pid" 2>/dev/null
        not_ok "replica $name stops within 20 s of SIGTERM"
        return 0
    fi
    wait "$pid" 2>/dev/null
    rc=$?
    check_eq "replica $name exits 0 on SIGTERM" "$rc" 0
    if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)' "${!log}"; then
        not_ok "replica $name log free of sanitizer reports" "$(grep -E -A 25 'ERROR: |runtime error:' "${!log}" | head -n 40)"
    else
        ok "replica $name log free of sanitizer reports"
    fi
}

if ! start_replica A; then
    skip_all "a server cannot run on PostgreSQL yet: $(grep -E 'ERROR|runtime error|cannot' "$A_LOG" | head -n 2 | tr '\n' ' ')"
fi
if ! start_replica B; then
    skip_all "a second server cannot run on PostgreSQL yet: $(grep -E 'ERROR|runtime error|cannot' "$B_LOG" | head -n 2 | tr '\n' ' ')"
fi
ok "two replicas started over one PostgreSQL database ($A_URL, $B_URL)"

# ---- web sessions ----
req_anon POST "$A_URL/c/login" --data-urlencode "principal=$ADMIN_USER" \
    --data-urlencode "password=$ADMIN_PASS"
check_status "POST /c/login on A -> 200" 200
SID=$(hdr Set-Cookie | sed -n 's/^sid=\([0-9a-f]*\);.*/\1/p')
TOKEN=$(hdr X-Harbor-CSRF-Token)
check_match "A set a session cookie" "$SID" '^[0-9a-f]{64}$'
req_anon GET "$B_URL$API/users/current" -b "sid=$SID"
check_status "A's session cookie works on B" 200
check_jq "as admin on B" '.username == "admin"'
check_hdr "B knows the session's CSRF token" X-Harbor-CSRF-Token "$TOKEN"
P1=$(rand_name repl)
req_anon POST "$B_URL$API/projects" -b "sid=$SID" -H 'Content-Type: application/json' \
    -H "X-Harbor-CSRF-Token: $TOKEN" --data-binary "{\"project_name\":\"$P1\"}"
check_status "an unsafe call on B with A's session and token -> 201" 201
check_false "no session id in either log" grep -q "$SID" "$A_LOG" "$B_LOG"
req_anon GET "$B_URL/c/log_out" -b "sid=$SID"
check_status "logout on B -> 200" 200
req_anon GET "$A_URL$API/users/current" -b "sid=$SID"
check_status "the session is gone on A at once" 401

# ---- bearer tokens: one key for both ----
req GET "$A_URL/service/token?service=berth-registry&scope=repository:$P1/app:pull"
check_status "token from A's /service/token" 200
JWT=$(jq -r .token <"$R_BODY")
check_match "a JWT" "$JWT" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'
req_anon GET "$B_URL/v2/" -H "Authorization: Bearer $JWT"
check_status "A's token verifies on B" 200
req GET "$B_URL/service/token?service=berth-registry"
JWT_B=$(jq -r .token <"$R_BODY")
req_anon GET "$A_URL/v2/" -H "Authorization: Bearer $JWT_B"
check_status "B's token verifies on A" 200
KID_A=$(jwt_kid "$JWT")
KID_B=$(jwt_kid "$JWT_B")
check_match "A's token names a kid" "$KID_A" '^[A-Z2-7]{4}(:[A-Z2-7]{4}){11}$'
check_eq "both sign with one key" "$KID_B" "$KID_A"

# ---- login throttling: 5 failures over both replicas (limit 5; the first back-off is 1 s, so
# the two checks right after the fifth failure fall inside it) ----
for target in "$A_URL" "$B_URL" "$A_URL" "$B_URL"; do
    req_anon POST "$target/c/login" --data-urlencode "principal=$ADMIN_USER" \
        --data-urlencode "password=wrong-$RANDOM"
done
check_status "four failed logins over A and B -> 401" 401
req_anon POST "$A_URL/c/login" --data-urlencode "principal=$ADMIN_USER" \
    --data-urlencode "password=wrong-$RANDOM"
check_status "the fifth (on A) -> 401" 401
req_anon POST "$B_URL/c/login" --data-urlencode "principal=$ADMIN_USER" \
    --data-urlencode "password=$ADMIN_PASS"
check_status "B refuses even the right password after 5 failures over A and B" 429
check_hdr_present "with Retry-After" Retry-After
req_anon POST "$A_URL/c/login" --data-urlencode "principal=$ADMIN_USER" \
    --data-urlencode "password=$ADMIN_PASS"
check_status "so does A" 429
sleep 1.2 # the back-off ends: the right password logs in on either
req_anon POST "$B_URL/c/login" --data-urlencode "principal=$ADMIN_USER" \
    --data-urlencode "password=$ADMIN_PASS"
check_status "after the back-off, the right password on B -> 200" 200

# ---- rotation ----
if "$BERTH_BIN" admin rotate-token-key --config "$BB_TMP/pg.conf" --data "$A_DATA" \
    >"$BB_TMP/rotate.out" 2>&1; then
    ok "berth admin rotate-token-key"
else
    not_ok "berth admin rotate-token-key" "$(cat "$BB_TMP/rotate.out")"
fi
NEW_KID=$(sed -n 's/.*new kid //p' "$BB_TMP/rotate.out")
check_ne "a new kid" "$NEW_KID" "$KID_A"
req_anon GET "$B_URL/v2/" -H "Authorization: Bearer $JWT"
check_status "the old token still verifies on B" 200
# a replica started now signs with the new key, and the running ones accept its tokens
start_replica C || not_ok "replica C starts" "$(tail -n 5 "$C_LOG")"
req GET "$C_URL/service/token?service=berth-registry"
JWT_C=$(jq -r .token <"$R_BODY")
KID_C=$(jwt_kid "$JWT_C")
check_eq "C signs with the new key" "$KID_C" "$NEW_KID"
req_anon GET "$A_URL/v2/" -H "Authorization: Bearer $JWT_C"
check_status "the new key's token verifies on A" 200
req_anon GET "$C_URL/v2/" -H "Authorization: Bearer $JWT"
check_status "the old token verifies on C" 200

# ---- the offline audit purge reaches the shared store through --config ----
t0=$(date +%s) # "older than 0s" spares events of the current second: let it tick over
while [ "$(date +%s)" = "$t0" ]; do sleep 0.1; done
if "$BERTH_BIN" audit purge --older-than 0s --config "$BB_TMP/pg.conf" >"$BB_TMP/purge.out" 2>&1; then
    ok "berth audit purge --config (PostgreSQL)"
else
    not_ok "berth audit purge --config (PostgreSQL)" "$(cat "$BB_TMP/purge.out")"
fi
check_match "it removed the replicas' events" "$(cat "$BB_TMP/purge.out")" \
    '^removed [1-9][0-9]* audit events'

stop_replica C
stop_replica B
stop_replica A
finish
