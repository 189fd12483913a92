#!/usr/bin/env bash
# db_modes.sh - the files that hold password hashes and the signing key are the owner's alone:
#   DATA/berth.db, berth.db-wal, berth.db-shm and token.key are mode 0600 on a first start (even
#   under umask 000), and files a previous version or a copy left 0644 are back to 0600 after a
#   restart.
. "$(dirname "$0")/lib.sh"

export BERTH_TEST_KDF_ITER=1000
mode_of() { stat -c %a "$1" 2>/dev/null || echo missing; }
check_modes() { # WHEN
    local f
    for f in berth.db berth.db-wal berth.db-shm token.key; do
        check_eq "$1: $f is 0600" "$(mode_of "$SRV_DATA/$f")" 600
    done
}

umask 000
srv_start
req GET /v2/_catalog
check_status "the server answers (the database is open)" 200
check_modes "first start under umask 000"
srv_stop

data=$SRV_DATA
for f in berth.db berth.db-wal berth.db-shm token.key; do
    [ -e "$data/$f" ] || : >"$data/$f"
    chmod 0644 "$data/$f"
done
check_eq "loosened for the test" "$(mode_of "$data/berth.db")" 644
srv_start "$data"
req GET /v2/_catalog
check_status "the server answers after the restart" 200
check_modes "restart over 0644 files"
srv_stop
finish
