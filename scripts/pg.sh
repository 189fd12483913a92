#!/bin/sh
# pg.sh start [--fast] DIR [PORT] | pg.sh stop DIR - a private PostgreSQL server for tests and
# local runs.
#
# start: initdb DIR/data (once; superuser "berth", trust authentication, so only for a server on
#        127.0.0.1), then pg_ctl start listening on 127.0.0.1:PORT (default: a free port, tried
#        until one takes) with its socket in DIR itself. Prints, each on its own line,
#          PG_URL=postgres://berth@127.0.0.1:PORT/postgres
#          PG_PID=<postmaster pid>
#        --fast turns fsync, synchronous_commit and full_page_writes off (and initdb's syncing):
#        a crash of the machine may lose or corrupt the data. For tests only.
# stop:  pg_ctl stop (fast shutdown) of the server whose data is DIR/data; it stops the
#        postmaster named in DIR/data/postmaster.pid.
# As root the server runs as user postgres (initdb refuses root): DIR is chowned to it.
# Binaries: PG_BIN, default /usr/lib/postgresql/15/bin.
set -eu

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

usage() {
    echo "usage: pg.sh start [--fast] DIR [PORT] | pg.sh stop DIR" >&2
    exit 2
}

[ $# -ge 1 ] || usage
cmd=$1
shift
fast=0
if [ "$cmd" = start ] && [ "${1:-}" = --fast ]; then
    fast=1
    shift
fi
[ $# -ge 1 ] || usage
dir=$1
port=${2:-}

if [ ! -x "$PG_BIN/pg_ctl" ]; then
    echo "pg.sh: no PostgreSQL binaries in $PG_BIN (install postgresql-15)" >&2
    exit 1
fi

# as root, run the server's programs as postgres
run() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# port_busy PORT: something listens on PORT (IPv4 or IPv6)
port_busy() {
    hex=$(printf '%04X' "$1")
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" { f = 1 } END { exit !f }'
}

case $cmd in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    chmod 700 "$dir"
    nosync=""
    [ $fast = 1 ] && nosync=--no-sync
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        run "$PG_BIN/initdb" -D "$dir/data" -U berth --auth=trust -E UTF8 --locale=C.UTF-8 $nosync \
            >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            exit 1
        }
    fi
    opts="-c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c max_connections=200"
    [ $fast = 1 ] && opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    tries=0
    while :; do
        tries=$((tries + 1))
        p=$port
        if [ -z "$p" ]; then
            p=$(( (($$ + tries * 7919) % 30000) + 20000 ))
            while port_busy "$p"; do p=$((p + 1)); done
        fi
        if run "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "$opts -p $p" start >/dev/null 2>&1; then
            break
        fi
        if [ -n "$port" ] || [ $tries -ge 5 ]; then
            echo "pg.sh: server did not start; see $dir/server.log" >&2
            tail -n 20 "$dir/server.log" >&2 || true
            exit 1
        fi
    done
    echo "PG_URL=postgres://berth@127.0.0.1:$p/postgres"
    echo "PG_PID=$(head -n 1 "$dir/data/postmaster.pid")"
    ;;
stop)
    dir=$(cd "$dir" && pwd)
    [ -f "$dir/data/postmaster.pid" ] || exit 0
    run "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null
    ;;
*) usage ;;
esac
