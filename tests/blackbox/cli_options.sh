#!/usr/bin/env bash
# cli_options.sh - one option parser for every subcommand: `serve` and `stats` take
#   "--data DIR" and "--data=DIR" alike (and serve "--listen=ADDR"), and every command answers a
#   missing value, an unknown option and a value given to a flag with the same message and exit
#   status 2.
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
srv_start
mk_image "$BB_TMP/img"
push_image library/opts v1 "$BB_TMP/img"
req GET "/v2/library/opts/manifests/v1" "${ACCEPT_ALL[@]}"
check_status "image pushed to the server started with --data DIR" 200
data=$SRV_DATA
srv_stop

BB_SERVE_EQ=1 srv_start "$data"
req GET "/v2/library/opts/manifests/v1" "${ACCEPT_ALL[@]}"
check_status "serve --data=DIR --listen=ADDR serves the same data directory" 200
srv_stop

out=$("$BERTH_BIN" stats --data "$data" 2>&1)
check_eq "stats --data DIR exits 0" "$?" 0
check_contains "stats --data DIR lists the repository" "$out" "library/opts"
out=$("$BERTH_BIN" stats --data="$data" 2>&1)
check_eq "stats --data=DIR exits 0" "$?" 0
check_contains "stats --data=DIR lists the repository" "$out" "library/opts"
out=$("$BERTH_BIN" stats --json --data="$data" library/opts 2>&1)
check_eq "stats --json --data=DIR REPO exits 0" "$?" 0
check_contains "stats --json names the repository" "$out" '"library/opts"'

# the same messages from every command (exit 2, nothing started)
for cmd in serve stats gc fsck "user passwd" "project ls" "audit purge"; do
    # shellcheck disable=SC2086 # "user passwd" is two words
    out=$("$BERTH_BIN" $cmd --data 2>&1)
    rc=$?
    check_eq "$cmd --data without a value exits 2" "$rc" 2
    check_contains "$cmd --data without a value says so" "$out" ": --data needs a value"
done
out=$("$BERTH_BIN" pull --ca-file 2>&1)
check_eq "pull --ca-file without a value exits 2" "$?" 2
check_contains "pull --ca-file without a value says so" "$out" "berth pull: --ca-file needs a value"
for cmd in serve stats gc fsck pull "user passwd" "project ls"; do
    # shellcheck disable=SC2086
    out=$("$BERTH_BIN" $cmd --no-such-option 2>&1)
    rc=$?
    check_eq "$cmd --no-such-option exits 2" "$rc" 2
    check_contains "$cmd --no-such-option is named" "$out" ": unknown option '--no-such-option' (try --help)"
done
for cmd in "stats --json=yes" "gc --dry-run=1" "pull --insecure=no"; do
    # shellcheck disable=SC2086
    out=$("$BERTH_BIN" $cmd 2>&1)
    rc=$?
    check_eq "berth $cmd exits 2" "$rc" 2
    check_contains "berth $cmd: the flag takes no value" "$out" "takes no value"
done
out=$("$BERTH_BIN" serve --data="$BB_TMP/x" --help 2>&1)
check_eq "serve --data=DIR --help exits 0" "$?" 0
check_contains "serve --help prints the usage" "$out" "usage: berth serve"

finish
