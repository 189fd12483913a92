# lib_scaleout.sh - the scale-out harness, sourced after lib.sh by tests/blackbox/scaleout_*.sh.
#
# so_up starts a whole scale-out Berth with scripts/scaleout.sh: two replicas of $BERTH_BIN over
# PostgreSQL and radosgw, haproxy in front. The backends are shared when SCALEOUT_BACKENDS names
# a folder that `scripts/scaleout.sh backends-up` filled (tests/run.sh --scaleout starts them
# once for all the scale-out suites); otherwise this script starts its own under $BB_TMP and
# stops them on exit. Each so_up gets a database and a bucket of its own either way.
#
# After so_up: SRV_URL, SRV_HOSTPORT (haproxy), ADMIN_PASS, SO_DIR, SO_CONF (the replicas'
# configuration), SO_R1/SO_R2 (each replica's own URL) and SO_ENV (scripts/scaleout.sh's env).
# so_replica start|stop|kill N drives one replica. Everything is stopped by PID on exit.

SO_SCRIPT=$BB_ROOT/scripts/scaleout.sh
SO_DIR=""
SO_OWN_BACKENDS=""

so_env() { sed -n "s/^$1=//p" "$SO_DIR/env" | tail -n 1; }

so_cleanup() {
    if [ -n "$SO_DIR" ] && [ -f "$SO_DIR/env" ]; then
        BERTH_BIN=$BERTH_BIN bash "$SO_SCRIPT" down "$SO_DIR" >/dev/null 2>&1 || true
    fi
    if [ -n "$SO_OWN_BACKENDS" ]; then
        bash "$SO_SCRIPT" backends-down "$SO_OWN_BACKENDS" >/dev/null 2>&1 || true
        rm -rf "$SO_OWN_BACKENDS"
    fi
    bb_cleanup
}
trap so_cleanup EXIT

# so_backends: makes sure SCALEOUT_BACKENDS names running backends (starts private ones if not)
so_backends() {
    [ "${SCALEOUT_LOCAL:-0}" = 1 ] && return 0
    if [ -n "${SCALEOUT_BACKENDS:-}" ] && [ -f "$SCALEOUT_BACKENDS/backends.env" ]; then
        return 0
    fi
    # outside $BB_TMP (mode 0700): as root, PostgreSQL runs as user postgres, which must reach
    # its data folder
    SO_OWN_BACKENDS=$(mktemp -d /tmp/berth-so-XXXXXX)
    chmod 755 "$SO_OWN_BACKENDS"
    if ! SCALEOUT_PG_FAST=1 bash "$SO_SCRIPT" backends-up "$SO_OWN_BACKENDS" >"$BB_TMP/backends.log" 2>&1; then
        not_ok "PostgreSQL and radosgw start" "$(tail -n 20 "$BB_TMP/backends.log")"
        finish
    fi
    export SCALEOUT_BACKENDS=$SO_OWN_BACKENDS
}

# so_up [NAME]: the whole stack under $BB_TMP/NAME (default so); counts one check
so_up() {
    local out
    so_backends
    SO_DIR=$BB_TMP/${1:-so}
    if ! out=$(BERTH_BIN=$BERTH_BIN BERTH_ADMIN_PASSWORD=$ADMIN_PASS bash "$SO_SCRIPT" up "$SO_DIR" \
        2>"$BB_TMP/so-up.err"); then
        not_ok "scaleout.sh up" "$(tail -n 30 "$BB_TMP/so-up.err")" \
            "$(tail -n 20 "$SO_DIR"/r1/log 2>/dev/null)"
        finish
    fi
    SRV_URL=$(printf '%s\n' "$out" | sed -n 's/^URL=//p')
    SRV_HOSTPORT=${SRV_URL#http://}
    SRV_PORT=${SRV_HOSTPORT##*:}
    SO_ENV=$SO_DIR/env
    SO_CONF=$SO_DIR/berth.conf
    SO_R1=http://127.0.0.1:$(so_env R1_PORT)
    SO_R2=http://127.0.0.1:$(so_env R2_PORT)
    check_eq "scaleout.sh up prints the admin password" \
        "$(printf '%s\n' "$out" | sed -n 's/^ADMIN_PASSWORD=//p')" "$ADMIN_PASS"
}

# so_replica start|stop|kill N
so_replica() {
    BERTH_BIN=$BERTH_BIN bash "$SO_SCRIPT" replica "$1" "$SO_DIR" "$2" >>"$BB_TMP/so-replica.log" 2>&1
}

# so_logs_clean NAME: no sanitizer report in any replica's log (one check)
so_logs_clean() {
    if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)' \
        "$SO_DIR"/r*/log; then
        not_ok "$1" "$(grep -E -A 25 'ERROR: |runtime error:' "$SO_DIR"/r*/log | head -n 40)"
    else
        ok "$1"
    fi
}

# so_down: stops the stack (replicas by SIGTERM: each must exit 0), one check
so_down() {
    local n pid rc bad=""
    for n in 1 2; do
        [ -f "$SO_DIR/r$n/pid" ] || continue
        pid=$(cat "$SO_DIR/r$n/pid")
        kill -TERM "$pid" 2>/dev/null
        if ! bb_wait_exit "$pid" 30; then
            bad="$bad r$n(no exit)"
            kill -KILL "$pid" 2>/dev/null
        fi
        rm -f "$SO_DIR/r$n/pid"
    done
    BERTH_BIN=$BERTH_BIN bash "$SO_SCRIPT" down "$SO_DIR" >/dev/null 2>&1
    check_eq "replicas stop within 30 s of SIGTERM" "$bad" ""
    so_logs_clean "replica logs free of sanitizer reports"
}
