#!/bin/sh
# run.sh [--unit|--blackbox|--scaleout|--ui] - run Berth's tests and add up their results.
#
# Runs, in this order:
#   unit       every unit-test binary build/asan/tests/**/*_test; then, when PostgreSQL's
#              binaries are there (PG_BIN, default /usr/lib/postgresql/15/bin), every
#              build/asan/tests/storage/*_test again against one private PostgreSQL server
#              (scripts/pg.sh, fsync off) with BERTH_TEST_PG_URL set, named NAME.pg
#   fuzz       every replay binary build/asan/fuzz/<t> over tests/fuzz/corpus/<t>
#   black-box  every tests/blackbox/*.sh (lib.sh, lib_*.sh and scaleout_*.sh excepted), with bash
#   scale-out  every tests/blackbox/scaleout_*.sh, with bash, over one PostgreSQL and one radosgw
#              started once for all of them (scripts/scaleout.sh backends-up; each suite makes
#              its own database and bucket there)
#   ui         every tests/ui/*.test.mjs, with node (headless Chromium; needs tests/ui/node_modules,
#              which `make test` installs with npm ci)
# --unit runs the first two groups, --blackbox the third, --scaleout the fourth, --ui the last;
# no option runs all.
#
# Each program must end its output with a line "N passed, N failed[, N skipped]". Its output goes
# to $BERTH_TEST_LOGS/<name>.log (default build/test-logs). A program that exits non-zero, is
# killed, times out or prints no such line counts as one more failure, whatever its line said.
# One summary line per program, the failures' details (their "not ok" lines and the log's tail),
# then the closing line "N passed, N failed, N skipped" ("N passed, N failed" when nothing was
# skipped). Exit status 0 only when nothing failed and at least one test ran.
#
# Sanitizers: ASAN_OPTIONS=detect_leaks=1:abort_on_error=1, UBSAN_OPTIONS=print_stacktrace=1
# (exported, so servers started by black-box tests get them too). BERTH_BIN, when set, is passed
# on to the black-box tests (see tests/blackbox/lib.sh).
set -u

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)

mode=all
case "${1:-}" in
"") ;;
--unit) mode=unit ;;
--blackbox) mode=blackbox ;;
--scaleout) mode=scaleout ;;
--ui) mode=ui ;;
-h | --help)
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
*)
    echo "usage: tests/run.sh [--unit|--blackbox|--scaleout|--ui]" >&2
    exit 2
    ;;
esac

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1"

LOGS=${BERTH_TEST_LOGS:-$ROOT/build/test-logs}
mkdir -p "$LOGS" || exit 2
UNIT_TIMEOUT=${BERTH_UNIT_TIMEOUT:-300}
BB_TIMEOUT=${BERTH_BLACKBOX_TIMEOUT:-900}
UI_TIMEOUT=${BERTH_UI_TIMEOUT:-300}

total_pass=0
total_fail=0
total_skip=0
programs=0
failed_list=""

SUMMARY_RE='^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$'

# show_failure LOG: the "not ok" lines with their diagnostics, then the log's tail.
show_failure() {
    if grep -aq "^not ok" "$1"; then
        echo "    --- failed checks:"
        awk '/^not ok/ { p = 1; print; next } p && /^#/ { print; next } { p = 0 }' "$1" |
            head -n 80 | sed 's/^/    /'
    fi
    echo "    --- last lines of $1:"
    tail -n 30 "$1" | sed 's/^/    /'
}

# run_one KIND NAME TIMEOUT CMD...: runs one test program, parses its closing line, adds up.
run_one() {
    kind=$1
    name=$2
    limit=$3
    shift 3
    log=$LOGS/$(printf '%s' "$kind-$name" | tr '/ ' '__').log
    programs=$((programs + 1))
    start=$(date +%s)
    timeout -k 10 "$limit" "$@" </dev/null >"$log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    line=$(grep -a -E "$SUMMARY_RE" "$log" | tail -n 1)
    p=0
    f=0
    s=0
    if [ -n "$line" ]; then
        nums=$(printf '%s\n' "$line" | sed -E 's/^([A-Za-z]+: )?//')
        p=$(printf '%s\n' "$nums" | sed -E 's/^([0-9]+) passed.*/\1/')
        f=$(printf '%s\n' "$nums" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
        case $nums in
        *skipped) s=$(printf '%s\n' "$nums" | sed -E 's/.*, ([0-9]+) skipped$/\1/') ;;
        esac
    fi
    why=""
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        why="timed out after ${limit}s"
    elif [ "$rc" -gt 128 ]; then
        why="killed by signal $((rc - 128))"
    elif [ -z "$line" ]; then
        why="no summary line (exit $rc)"
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        why="exit status $rc with no failed check (sanitizer report at exit?)"
    fi
    if [ -n "$why" ] && [ "$f" -eq 0 ]; then
        f=1
    elif [ -n "$why" ]; then
        f=$((f + 1))
    fi
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    total_skip=$((total_skip + s))
    if [ "$f" -eq 0 ]; then
        verdict=PASS
    else
        verdict=FAIL
        failed_list="$failed_list $kind:$name"
    fi
    detail="$p passed, $f failed"
    [ "$s" -gt 0 ] && detail="$detail, $s skipped"
    [ -n "$why" ] && detail="$detail; $why"
    printf '%-4s %-9s %-40s (%s) %ss\n' "$verdict" "$kind" "$name" "$detail" "$secs"
    if [ "$verdict" = FAIL ]; then
        show_failure "$log"
    fi
}

if [ "$mode" = all ] || [ "$mode" = unit ]; then
    if [ -d build/asan/tests ]; then
        find build/asan/tests -type f -name '*_test' -perm -u+x | LC_ALL=C sort >"$LOGS/.unit-list"
        while IFS= read -r t; do
            run_one unit "${t#build/asan/tests/}" "$UNIT_TIMEOUT" "$t"
        done <"$LOGS/.unit-list"
    fi
    PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
    if [ -x "$PG_BIN/pg_ctl" ] && [ -d build/asan/tests/storage ]; then
        pg_dir=$(mktemp -d /tmp/berth-pg-XXXXXX)
        if sh scripts/pg.sh start --fast "$pg_dir" >"$LOGS/.pg-start" 2>&1; then
            pg_url=$(sed -n 's/^PG_URL=//p' "$LOGS/.pg-start")
            pg_pid=$(sed -n 's/^PG_PID=//p' "$LOGS/.pg-start")
            # stopped by its PID whatever happens to this script
            trap 'kill -INT "$pg_pid" 2>/dev/null; rm -rf "$pg_dir"' EXIT
            trap 'exit 130' INT TERM
            find build/asan/tests/storage -type f -name '*_test' -perm -u+x | LC_ALL=C sort >"$LOGS/.unit-pg-list"
            export BERTH_TEST_PG_URL="$pg_url"
            while IFS= read -r t; do
                run_one unit "${t#build/asan/tests/}.pg" "$UNIT_TIMEOUT" "$t"
            done <"$LOGS/.unit-pg-list"
            unset BERTH_TEST_PG_URL
            # fast shutdown, then wait for the postmaster to be gone before removing its files
            kill -INT "$pg_pid" 2>/dev/null
            i=0
            while kill -0 "$pg_pid" 2>/dev/null && [ $i -lt 300 ]; do
                sleep 0.1
                i=$((i + 1))
            done
            rm -rf "$pg_dir"
            trap - EXIT INT TERM
        else
            programs=$((programs + 1))
            total_fail=$((total_fail + 1))
            failed_list="$failed_list unit:postgresql"
            printf '%-4s %-9s %-40s (%s)\n' FAIL unit postgresql "scripts/pg.sh start failed"
            sed 's/^/    /' "$LOGS/.pg-start"
            rm -rf "$pg_dir"
        fi
    fi
    if [ -d build/asan/fuzz ]; then
        find build/asan/fuzz -maxdepth 1 -type f -perm -u+x | LC_ALL=C sort >"$LOGS/.fuzz-list"
        while IFS= read -r t; do
            target=$(basename "$t")
            if [ -d "tests/fuzz/corpus/$target" ]; then
                run_one fuzz "$target" "$UNIT_TIMEOUT" "$t" "tests/fuzz/corpus/$target"
            else
                programs=$((programs + 1))
                total_fail=$((total_fail + 1))
                failed_list="$failed_list fuzz:$target"
                printf '%-4s %-9s %-40s (%s)\n' FAIL fuzz "$target" "no corpus tests/fuzz/corpus/$target"
            fi
        done <"$LOGS/.fuzz-list"
    fi
fi

if [ "$mode" = all ] || [ "$mode" = blackbox ]; then
    for t in tests/blackbox/*.sh; do
        [ -e "$t" ] || continue
        case $(basename "$t") in lib.sh | lib_*.sh | scaleout_*.sh) continue ;; esac
        run_one blackbox "$(basename "$t" .sh)" "$BB_TIMEOUT" bash "$t"
    done
fi

if [ "$mode" = all ] || [ "$mode" = scaleout ]; then
    so_start=$(date +%s)
    # under /tmp, mode 0755: as root, PostgreSQL runs as user postgres, which must reach its data
    so_backends=$(mktemp -d /tmp/berth-so-XXXXXX)
    chmod 755 "$so_backends"
    if SCALEOUT_PG_FAST=1 bash scripts/scaleout.sh backends-up "$so_backends" >"$LOGS/scaleout-backends.log" 2>&1; then
        export SCALEOUT_BACKENDS=$so_backends
    else
        # each suite then tries on its own, and says why it could not
        echo "scale-out backends did not start (see $LOGS/scaleout-backends.log)"
    fi
    for t in tests/blackbox/scaleout_*.sh; do
        [ -e "$t" ] || continue
        run_one scaleout "$(basename "$t" .sh)" "$BB_TIMEOUT" bash "$t"
    done
    bash scripts/scaleout.sh backends-down "$so_backends" >/dev/null 2>&1
    rm -rf "$so_backends"
    unset SCALEOUT_BACKENDS
    echo "scale-out group: $(($(date +%s) - so_start))s"
fi

if [ "$mode" = all ] || [ "$mode" = ui ]; then
    ui_start=$(date +%s)
    for t in tests/ui/*.test.mjs; do
        [ -e "$t" ] || continue
        run_one ui "$(basename "$t" .test.mjs)" "$UI_TIMEOUT" node "$t"
    done
    echo "ui group: $(($(date +%s) - ui_start))s"
fi

echo
if [ "$programs" -eq 0 ]; then
    echo "run.sh: no test program found (build them with: make asan-bin)" >&2
    total_fail=$((total_fail + 1))
fi
[ -n "$failed_list" ] && echo "failed:$failed_list"
echo "logs: $LOGS"
if [ "$total_skip" -gt 0 ]; then
    echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
    echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
