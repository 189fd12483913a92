#!/usr/bin/env bash
# crash_kill.sh - crash safety under load: 50 concurrent pushes (45 threads of the project's own
#   pusher, tests/blackbox/crash_pusher.py, and 5 skopeo loops) while the server is killed with
#   SIGKILL at a random moment, CRASH_ROUNDS times (default 20), and restarted each time on the
#   same data directory. Afterwards every manifest whose PUT was acknowledged (201; for skopeo,
#   exit 0) pulls byte-identical with every blob it lists, `berth fsck` is clean, and uploads/
#   holds only usable sessions (no temp files, no half-made or committed-but-left sessions).
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
ROUNDS=${CRASH_ROUNDS:-20}
PUSHER="$(dirname "$0")/crash_pusher.py"
ACK=$BB_TMP/acks
KEEP=$BB_TMP/keep
STOP=$BB_TMP/stop
mkdir -p "$KEEP"
: >"$ACK"

srv_start
PORT=$SRV_PORT
DATA=$SRV_DATA

# restart: the same binary on the same port and data directory, ready within 30 s
restart() {
    SRV_LOG=$BB_TMP/server.$PORT.$1.log
    BERTH_ADMIN_PASSWORD=$ADMIN_PASS "$BERTH_BIN" serve --listen "127.0.0.1:$PORT" \
        --data "$DATA" >"$SRV_LOG" 2>&1 &
    SRV_PID=$!
    local deadline=$((SECONDS + 30))
    while ! bb_ready; do
        if ! kill -0 "$SRV_PID" 2>/dev/null || [ $SECONDS -ge "$deadline" ]; then
            return 1
        fi
        sleep 0.05
    done
}

# skopeo_loop N: pushes a new one-layer image to library/skopeoN under a new tag until $STOP
skopeo_loop() {
    local n=$1 i=0 lay tag
    while [ ! -e "$STOP" ]; do
        i=$((i + 1))
        lay=$BB_TMP/lay$n
        rm -rf "$lay"
        mk_oci_layout "$lay" t >/dev/null 2>&1
        tag=s$n-$i
        if skopeo --insecure-policy copy --quiet --dest-tls-verify=false --retry-times 0 \
            --dest-creds "$ADMIN_USER:$ADMIN_PASS" "oci:$lay:t" \
            "docker://127.0.0.1:$PORT/library/skopeo$n:$tag" >/dev/null 2>&1; then
            cp "$lay/blobs/sha256/${LAYOUT_MANIFEST_DIGEST#sha256:}" \
                "$KEEP/${LAYOUT_MANIFEST_DIGEST#sha256:}.json"
            # one short line: appended whole (below PIPE_BUF)
            printf 'library/skopeo%s %s %s\n' "$n" "$tag" "$LAYOUT_MANIFEST_DIGEST" >>"$ACK"
        else
            sleep 0.1
        fi
    done
}

HAVE_SKOPEO=1
command -v skopeo >/dev/null 2>&1 || HAVE_SKOPEO=0
threads=45
[ $HAVE_SKOPEO = 1 ] || threads=50
python3 "$PUSHER" push --url "127.0.0.1:$PORT" --user "$ADMIN_USER" --password "$ADMIN_PASS" \
    --threads $threads --ack "$ACK" --keep "$KEEP" --stop "$STOP" >"$BB_TMP/pusher.out" 2>&1 &
PUSHER_PID=$!
SKOPEO_PIDS=()
if [ $HAVE_SKOPEO = 1 ]; then
    for n in 1 2 3 4 5; do
        skopeo_loop $n &
        SKOPEO_PIDS+=($!)
    done
else
    skip "skopeo pushes in the crash test" "skopeo not installed (the pusher runs 50 threads)"
fi

restarted=0
for r in $(seq 1 "$ROUNDS"); do
    # a random moment 0.4 - 2.4 s into this life of the server
    sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.4 + rand() * 2 }')"
    kill -KILL "$SRV_PID"
    wait "$SRV_PID" 2>/dev/null
    if restart "$r"; then
        restarted=$((restarted + 1))
    else
        not_ok "round $r: the server restarts after SIGKILL" "$(tail -n 20 "$SRV_LOG")"
        break
    fi
done
check_eq "the server restarted after each of $ROUNDS SIGKILLs" "$restarted" "$ROUNDS"
# one more short life so the last pushes land, then stop the pushers
sleep 1
touch "$STOP"
bb_wait_exit "$PUSHER_PID" 60 || kill -KILL "$PUSHER_PID" 2>/dev/null
wait "$PUSHER_PID" 2>/dev/null
for p in "${SKOPEO_PIDS[@]}"; do
    bb_wait_exit "$p" 60 || kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
done
bb_diag "$(cat "$BB_TMP/pusher.out")"
acked=$(wc -l <"$ACK" | tr -d ' ')
acked_skopeo=$(grep -c '^library/skopeo' "$ACK")
bb_diag "acknowledged: $acked manifests ($acked_skopeo by skopeo) over $ROUNDS kills"
check_true "pushes were acknowledged between the kills ($acked)" test "$acked" -ge "$ROUNDS"
[ $HAVE_SKOPEO = 1 ] && check_true "skopeo pushes were acknowledged ($acked_skopeo)" \
    test "$acked_skopeo" -ge 1
# what the start-up reconciliations repaired, counted over the restarts
grep -h 'start-up reconciliation' "$BB_TMP"/server.*.log | sed 's/^[^ ]* *[A-Z]* *//' | sort |
    uniq -c | sort -rn | head -n 6 | sed 's/^/# /'

# a last kill in the middle of nothing, then a clean restart to verify against
kill -KILL "$SRV_PID"
wait "$SRV_PID" 2>/dev/null
check_true "the server restarts for the checks" restart final
SRV_URL=http://127.0.0.1:$PORT
python3 "$PUSHER" verify --url "127.0.0.1:$PORT" --user "$ADMIN_USER" --password "$ADMIN_PASS" \
    --ack "$ACK" --keep "$KEEP" >"$BB_TMP/verify.out" 2>&1
check_eq "every acknowledged manifest pulls byte-identical, with its blobs" "$?" 0
bb_diag "$(cat "$BB_TMP/verify.out")"
srv_stop

"$BERTH_BIN" fsck --data "$DATA" >"$BB_TMP/fsck.out" 2>&1
check_eq "berth fsck is clean after $ROUNDS kills" "$?" 0
bb_diag "$(tail -n 5 "$BB_TMP/fsck.out")"

# uploads/: only usable sessions (a directory with info and data), nothing else
leaks=0
sessions=0
for e in "$DATA"/uploads/* "$DATA"/uploads/.[!.]*; do
    [ -e "$e" ] || continue
    if [ -d "$e" ] && [ -f "$e/info" ] && [ -f "$e/data" ] &&
        [[ $(basename "$e") =~ ^[0-9a-f]{32}$ ]]; then
        sessions=$((sessions + 1))
    else
        leaks=$((leaks + 1))
        bb_diag "not a session: $e"
    fi
done
check_eq "no upload leaks: uploads/ holds only usable sessions ($sessions abandoned by killed pushes)" \
    "$leaks" 0
check_true "abandoned sessions are bounded by the pushes in flight (<= 50 per kill)" \
    test "$sessions" -le $((50 * (ROUNDS + 1)))
# the sanitizer must not have reported anything in any life of the server
if grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$BB_TMP"/server.*.log \
    >"$BB_TMP/san.out" 2>/dev/null; then
    not_ok "no sanitizer report in any server log" "$(cat "$BB_TMP/san.out")"
else
    ok "no sanitizer report in any server log"
fi
finish
