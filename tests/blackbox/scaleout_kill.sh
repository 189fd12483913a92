#!/usr/bin/env bash
# scaleout_kill.sh - a replica killed with SIGKILL in the middle of 20 concurrent pushes through
# haproxy (tests/blackbox/crash_pusher.py: monolithic, chunked and single-request uploads, each
# push acknowledged only by a 201 to its manifest PUT). The pushers go on through the balancer,
# which takes the dead replica out; then:
#   - pushes kept being acknowledged after the kill (through the survivor);
#   - every acknowledged push pulls byte-identical, by digest and by tag, with every blob it
#     lists, from the survivor directly, and from the killed replica once it is back;
#   - `berth fsck` over the shared metadata and blob store is clean.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_scaleout.sh"

PUSHER="$(dirname "$0")/crash_pusher.py"
# 20 pushers start at once with Basic credentials, each checked once per replica (600,000 PBKDF2
# iterations, slower under ASan): room for them to wait for a check instead of a 429, which
# crash_pusher counts as an abandoned push like any other refusal
cat >"$BB_TMP/kill.conf" <<'EOF'
threads = 32
login_check_slots = 4
login_check_queue = 24
login_check_wait_ms = 10000
EOF
export SCALEOUT_CONF=$BB_TMP/kill.conf
so_up

ACK=$BB_TMP/ack
KEEP=$BB_TMP/keep
STOP=$BB_TMP/stop
mkdir -p "$KEEP"
: >"$ACK"
acked() { wc -l <"$ACK" | tr -d ' '; }

# wait_acks N SECONDS: until the ack file has N lines; 1 on timeout
wait_acks() {
    local deadline=$((SECONDS + $2))
    while [ "$(acked)" -lt "$1" ]; do
        [ $SECONDS -ge "$deadline" ] && return 1
        sleep 0.2
    done
}

python3 "$PUSHER" push --url "$SRV_HOSTPORT" --user "$ADMIN_USER" --password "$ADMIN_PASS" \
    --threads 20 --ack "$ACK" --keep "$KEEP" --stop "$STOP" >"$BB_TMP/pusher.out" 2>&1 &
PUSHER_PID=$!

if wait_acks 20 120; then
    ok "20 pushes acknowledged through haproxy before the kill"
else
    not_ok "20 pushes acknowledged before the kill" "only $(acked)" "$(tail -n 5 "$BB_TMP/pusher.out")"
fi
R1_PID=$(cat "$SO_DIR/r1/pid")
so_replica kill 1
AT_KILL=$(acked)
check_false "replica 1 is gone after SIGKILL" kill -0 "$R1_PID"
if wait_acks $((AT_KILL + 20)) 120; then
    ok "20 more pushes acknowledged after the kill, through the survivor"
else
    not_ok "20 more pushes acknowledged after the kill" "$AT_KILL at the kill, $(acked) now"
fi
touch "$STOP"
if bb_wait_exit "$PUSHER_PID" 120; then
    wait "$PUSHER_PID"
    ok "pushers stop"
else
    kill -KILL "$PUSHER_PID" 2>/dev/null
    not_ok "pushers stop within 120 s"
fi
bb_diag "$(cat "$BB_TMP/pusher.out")"
# abandoned pushes are expected only around the kill: the balancer takes replica 1 out within a
# couple of seconds, and pushes whose requests all went to one replica never fail
ABANDONED=$(sed -n 's/.*acknowledged, \([0-9]*\) abandoned.*/\1/p' "$BB_TMP/pusher.out")
check_true "fewer pushes abandoned (${ABANDONED:-?}) than acknowledged ($(acked))" \
    test "${ABANDONED:-999999}" -lt "$(acked)"

verify_via() { # NAME URL_HOSTPORT
    if python3 "$PUSHER" verify --url "$2" --user "$ADMIN_USER" --password "$ADMIN_PASS" \
        --ack "$ACK" --keep "$KEEP" >"$BB_TMP/verify.out" 2>&1; then
        ok "$1"
    else
        not_ok "$1" "$(tail -n 22 "$BB_TMP/verify.out")"
    fi
    bb_diag "$(tail -n 1 "$BB_TMP/verify.out")"
}
verify_via "every acknowledged push ($(acked)) pulls byte-identical through the survivor" "${SO_R2#http://}"

# fsck reads the same configuration as the replicas (shared metadata and blob store)
if [ "$(so_env LOCAL)" = 1 ]; then
    FSCK=(--data "$SO_DIR/data")
else
    FSCK=(--config "$SO_CONF" --data "$SO_DIR/r2")
fi
"$BERTH_BIN" fsck "${FSCK[@]}" >"$BB_TMP/fsck.out" 2>&1
check_eq "berth fsck is clean after the kill" "$?" 0
bb_diag "$(tail -n 5 "$BB_TMP/fsck.out")"

if so_replica start 1; then
    ok "replica 1 starts again"
else
    not_ok "replica 1 starts again" "$(tail -n 20 "$SO_DIR/r1/log")"
fi
verify_via "every acknowledged push pulls byte-identical from the restarted replica 1" "${SO_R1#http://}"
verify_via "and through the balancer" "$SRV_HOSTPORT"

so_down
finish
