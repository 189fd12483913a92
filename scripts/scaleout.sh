#!/usr/bin/env bash
# scaleout.sh - a whole scale-out Berth on this machine: PostgreSQL, radosgw, two replicas and
# haproxy in front, every server on 127.0.0.1 and a free port, everything under one folder.
#
#   scripts/scaleout.sh up DIR        install what is missing, start it all; prints
#                                     URL=http://127.0.0.1:PORT and ADMIN_PASSWORD=... lines
#   scripts/scaleout.sh down DIR      stop everything DIR started, by PID
#   scripts/scaleout.sh prepare DIR / start DIR
#                                     the two halves of up: backends, database, bucket and
#                                     configuration; then the replicas and haproxy
#   scripts/scaleout.sh migrate DIR DATA [OPTIONS]
#                                     berth migrate of the single-host folder DATA into DIR's
#                                     database and bucket (between prepare and start)
#   scripts/scaleout.sh status DIR    one line per process: name, pid, up|down
#   scripts/scaleout.sh replica start|stop|kill DIR N
#                                     one replica (N = 1 or 2): kill sends SIGKILL
#   scripts/scaleout.sh backends-up DIR / backends-down DIR
#                                     PostgreSQL and radosgw alone (for tests that share them)
#
# Environment:
#   BERTH_BIN              the binary (default bin/berth, built by `make` when missing)
#   BERTH_ADMIN_PASSWORD   the admin password (default: generated, kept in DIR/env)
#   SCALEOUT_BACKENDS=BDIR use the PostgreSQL and radosgw that `backends-up BDIR` started: `up`
#                          then makes a database and a bucket of its own there, and `down`
#                          leaves those servers running
#   SCALEOUT_REPLICAS=N    replicas behind haproxy (default 2)
#   SCALEOUT_CONF=FILE     extra lines appended to every replica's configuration
#   SCALEOUT_PG_FAST=1     PostgreSQL without fsync (pg.sh --fast): for tests only
#   PG_SH, RADOSGW_SH      the scripts that start the backends (default scripts/pg.sh and
#                          scripts/radosgw.sh)
#   SCALEOUT_BLOBS=files   metadata in PostgreSQL, but blobs as files in one folder the
#                          replicas share (DIR/data), instead of the S3 bucket
#   SCALEOUT_MIGRATE_FROM=DATA  `up` migrates that single-host folder before the replicas start
#   SCALEOUT_META=sqlite   blobs in the bucket, but the metadata in one SQLite file the replicas
#                          share (DIR/shared.db; one machine only), instead of PostgreSQL
#   SCALEOUT_LOCAL=1       no PostgreSQL or radosgw: the replicas share one data folder
#                          (SQLite and blob files in DIR/data) on this one machine
#
# Layout of DIR: env (KEY=VALUE lines: URL, ADMIN_PASSWORD, PG_URL, S3_*, BUCKET, ports),
# berth.conf (the replicas' configuration), rN/ (replica N's data folder, log, pid), haproxy.cfg,
# haproxy.pid, haproxy.log, pg/ and rgw/ (the backends, unless shared).
# Invariants:
#   1. Every process is started with its PID written to a file under DIR and is stopped by that
#      PID only; nothing is ever stopped by name.
#   2. Every listener is on 127.0.0.1; ports come from the kernel (bind to port 0).
#   3. `up` twice on one DIR is refused while the first is running (DIR/env exists).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BERTH_BIN=${BERTH_BIN:-$ROOT/bin/berth}
case $BERTH_BIN in /*) ;; *) BERTH_BIN=$ROOT/$BERTH_BIN ;; esac
REPLICAS=${SCALEOUT_REPLICAS:-2}
PG_SH=${PG_SH:-$ROOT/scripts/pg.sh}
RADOSGW_SH=${RADOSGW_SH:-$ROOT/scripts/radosgw.sh}

die() {
    echo "scaleout: $*" >&2
    exit 1
}

free_port() {
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# env_get FILE KEY: the value of KEY=... in FILE ("" when absent)
env_get() {
    [ -f "$1" ] || return 0
    sed -n "s/^$2=//p" "$1" | tail -n 1
}

# wait_http URL SECONDS CODES_ERE [PID]: polls until URL answers one of the codes
wait_http() {
    local url=$1 deadline=$((SECONDS + $2)) codes=$3 pid=${4:-} code
    while :; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null) || true
        if printf '%s' "$code" | grep -Eq "^($codes)$"; then
            return 0
        fi
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        [ $SECONDS -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# stop_pidfile FILE [SECONDS]: SIGTERM the process of FILE, SIGKILL after SECONDS (default 20)
stop_pidfile() {
    local f=$1 limit=${2:-20} pid deadline
    [ -f "$f" ] || return 0
    pid=$(cat "$f")
    rm -f "$f"
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    deadline=$((SECONDS + limit))
    while kill -0 "$pid" 2>/dev/null; do
        if [ $SECONDS -ge "$deadline" ]; then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
}

deps() {
    sh "$ROOT/scripts/deps.sh" scaleout
}

# --- backends ----------------------------------------------------------------------------------

# backends_up BDIR: PostgreSQL (scripts/pg.sh) and radosgw (scripts/radosgw.sh) under BDIR,
# their coordinates in BDIR/backends.env
backends_up() {
    local b=$1 out
    mkdir -p "$b"
    b=$(cd "$b" && pwd)
    if [ -f "$b/backends.env" ]; then
        echo "scaleout: backends already up in $b" >&2
        return 0
    fi
    : >"$b/backends.env.tmp"
    local fast=""
    [ "${SCALEOUT_PG_FAST:-0}" = 1 ] && fast=--fast
    out=$(sh "$PG_SH" start $fast "$b/pg") || die "PostgreSQL did not start ($PG_SH start $b/pg)"
    printf '%s\n' "$out" | grep -E '^PG_URL=' >>"$b/backends.env.tmp" || die "pg.sh printed no PG_URL"
    out=$(sh "$RADOSGW_SH" start "$b/rgw") || die "radosgw did not start ($RADOSGW_SH start $b/rgw)"
    printf '%s\n' "$out" | grep -E '^S3_(ENDPOINT|ACCESS_KEY|SECRET_KEY|REGION)=' >>"$b/backends.env.tmp"
    grep -q '^S3_ENDPOINT=' "$b/backends.env.tmp" || die "radosgw.sh printed no S3_ENDPOINT"
    mv "$b/backends.env.tmp" "$b/backends.env"
}

backends_down() {
    local b=$1
    [ -d "$b" ] || return 0
    [ -d "$b/rgw" ] && sh "$RADOSGW_SH" stop "$b/rgw" || true
    [ -d "$b/pg" ] && sh "$PG_SH" stop "$b/pg" || true
    rm -f "$b/backends.env"
}

# s3_request METHOD PATH: one signed request to the object store (curl's SigV4, which radosgw
# accepts for requests without a query string when x-amz-content-sha256 is sent); prints status
s3_request() {
    local env=$1 method=$2 path=$3 region
    region=$(env_get "$env" S3_REGION)
    curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X "$method" \
        --aws-sigv4 "aws:amz:${region:-us-east-1}:s3" \
        --user "$(env_get "$env" S3_ACCESS_KEY):$(env_get "$env" S3_SECRET_KEY)" \
        -H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' \
        "$(env_get "$env" S3_ENDPOINT)$path"
}

# db_create ENV NAME: a fresh database NAME on the PostgreSQL of ENV; prints its URL
db_create() {
    local env=$1 name=$2 url base
    url=$(env_get "$env" PG_URL)
    psql -q -X -v ON_ERROR_STOP=1 "$url" -c "DROP DATABASE IF EXISTS \"$name\"" >/dev/null
    psql -q -X -v ON_ERROR_STOP=1 "$url" -c "CREATE DATABASE \"$name\"" >/dev/null
    # postgres://user@host:port/db[?opts] -> same with /NAME
    base=${url%%\?*}
    case $url in *\?*) printf '%s/%s?%s\n' "${base%/*}" "$name" "${url#*\?}" ;; *) printf '%s/%s\n' "${base%/*}" "$name" ;; esac
}

# --- replicas ------------------------------------------------------------------------------------

replica_start() {
    local dir=$1 n=$2 port pid tries=0 data
    [ -f "$dir/env" ] || die "$dir is not up"
    mkdir -p "$dir/r$n"
    if [ -f "$dir/r$n/pid" ] && kill -0 "$(cat "$dir/r$n/pid")" 2>/dev/null; then
        return 0
    fi
    port=$(env_get "$dir/env" "R${n}_PORT")
    while :; do
        if [ -z "$port" ]; then
            port=$(free_port)
            echo "R${n}_PORT=$port" >>"$dir/env"
        fi
        data=$dir/r$n
        [ "$(env_get "$dir/env" LOCAL)" = 1 ] && data=$dir/data
        [ "$(env_get "$dir/env" BLOBS)" = files ] && data=$dir/data
        BERTH_ADMIN_PASSWORD=$(env_get "$dir/env" ADMIN_PASSWORD) \
            setsid "$BERTH_BIN" serve --config "$dir/berth.conf" --listen "127.0.0.1:$port" \
            --data "$data" >>"$dir/r$n/log" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$dir/r$n/pid"
        if wait_http "http://127.0.0.1:$port/api/v2.0/ping" 60 200 "$pid"; then
            return 0
        fi
        rm -f "$dir/r$n/pid"
        kill -KILL "$pid" 2>/dev/null || true
        tries=$((tries + 1))
        # the port was taken meanwhile: another one (only for a first start)
        if [ $tries -lt 3 ] && tail -n 5 "$dir/r$n/log" | grep -qi 'in use'; then
            sed -i "/^R${n}_PORT=/d" "$dir/env"
            port=""
            continue
        fi
        tail -n 20 "$dir/r$n/log" >&2
        die "replica $n did not start (log: $dir/r$n/log)"
    done
}

replica_stop() { # DIR N SIGNAL
    local dir=$1 n=$2 sig=$3 pid
    [ -f "$dir/r$n/pid" ] || return 0
    pid=$(cat "$dir/r$n/pid")
    if [ "$sig" = KILL ]; then
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
        rm -f "$dir/r$n/pid"
    else
        stop_pidfile "$dir/r$n/pid" 30
    fi
}

# write_conf DIR: the replicas' configuration from DIR/env
write_conf() {
    local dir=$1 env=$1/env
    {
        echo "# written by scripts/scaleout.sh; every replica reads the same file"
        if [ "$(env_get "$env" LOCAL)" != 1 ]; then
        if [ "$(env_get "$env" META)" = sqlite ]; then
            echo "metadata = $dir/shared.db"
        else
            echo "metadata = $(env_get "$env" PG_URL)"
        fi
        if [ "$(env_get "$env" BLOBS)" != files ]; then
        echo "blob_store = s3://$(env_get "$env" BUCKET)"
        echo "s3_endpoint = $(env_get "$env" S3_ENDPOINT)"
        echo "s3_region = $(env_get "$env" S3_REGION)"
        echo "s3_access_key = $(env_get "$env" S3_ACCESS_KEY)"
        echo "s3_secret_key = $(env_get "$env" S3_SECRET_KEY)"
        fi
        fi
        # haproxy connects from 127.0.0.1: its X-Forwarded-* are believed, nobody else's
        echo "trusted_proxies = 127.0.0.1"
        echo "pull_flush_s = 1"
        [ -n "${SCALEOUT_CONF:-}" ] && cat "$SCALEOUT_CONF"
    } >"$dir/berth.conf.tmp"
    # the S3 region line is dropped when the store has none
    sed -i '/^s3_region = $/d' "$dir/berth.conf.tmp"
    chmod 600 "$dir/berth.conf.tmp"
    mv "$dir/berth.conf.tmp" "$dir/berth.conf"
}

# write_haproxy DIR: DIR/haproxy.cfg after docs/haproxy.cfg.example
write_haproxy() {
    local dir=$1 env=$1/env n
    {
        cat <<EOF
# written by scripts/scaleout.sh (after docs/haproxy.cfg.example)
global
    maxconn 4096
    log stdout format raw local0 notice

defaults
    mode http
    log global
    option httplog
    option forwardfor
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 10m
    timeout server 10m
    timeout http-request 30s
    timeout queue 30s

frontend registry
    bind 127.0.0.1:$(env_get "$env" HAPROXY_PORT)
    http-request set-header X-Forwarded-Proto http if !{ ssl_fc }
    http-request set-header X-Forwarded-Proto https if { ssl_fc }
    default_backend berth

backend berth
    balance roundrobin
    option httpchk GET /v2/
    http-check expect rstatus ^(200|401)$
    # a request is sent again to the other replica only when the first never answered it:
    # uploads carry Content-Range, so a PATCH that had landed is refused (416), never doubled
    retry-on conn-failure empty-response
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
EOF
        for n in $(seq 1 "$REPLICAS"); do
            echo "    server r$n 127.0.0.1:$(env_get "$env" "R${n}_PORT") check"
        done
    } >"$dir/haproxy.cfg"
}

haproxy_start() {
    local dir=$1
    haproxy -c -q -f "$dir/haproxy.cfg" || die "haproxy refuses $dir/haproxy.cfg"
    setsid haproxy -f "$dir/haproxy.cfg" -db >>"$dir/haproxy.log" 2>&1 </dev/null &
    echo $! >"$dir/haproxy.pid"
    wait_http "http://127.0.0.1:$(env_get "$dir/env" HAPROXY_PORT)/v2/" 30 '200|401' "$(cat "$dir/haproxy.pid")" ||
        die "haproxy does not answer (log: $dir/haproxy.log)"
}

# prepare DIR: backends, database, bucket, configuration; nothing of Berth runs yet
prepare() {
    local dir=$1 bdir name pass code
    deps >&2
    if [ ! -x "$BERTH_BIN" ]; then
        make -C "$ROOT" --no-print-directory bin/berth >&2
    fi
    if [ "${SCALEOUT_LOCAL:-0}" = 1 ]; then
        bdir=""
        mkdir -p "$dir/data"
    elif [ -n "${SCALEOUT_BACKENDS:-}" ]; then
        bdir=$(cd "$SCALEOUT_BACKENDS" && pwd)
        [ -f "$bdir/backends.env" ] || die "no backends in $bdir (scripts/scaleout.sh backends-up $bdir)"
    else
        bdir=$dir
        backends_up "$bdir" >&2
    fi
    pass=${BERTH_ADMIN_PASSWORD:-$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20)Aa1}
    # one database and one bucket per DIR, named after it, so folders sharing backends never meet
    name=berth_$(printf '%s' "$dir" | sha256sum | head -c 12)
    {
        echo "ADMIN_PASSWORD=$pass"
        echo "HAPROXY_PORT=$(free_port)"
        if [ -z "$bdir" ]; then
            echo "LOCAL=1"
        else
            echo "BACKENDS=$bdir"
            grep -E '^S3_' "$bdir/backends.env"
            echo "PG_URL=$(db_create "$bdir/backends.env" "$name")"
            echo "BUCKET=${name//_/-}"
            [ "${SCALEOUT_BLOBS:-}" = files ] && echo "BLOBS=files" && mkdir -p "$dir/data"
            [ "${SCALEOUT_META:-}" = sqlite ] && echo "META=sqlite"
        fi
    } >"$dir/env.tmp"
    chmod 600 "$dir/env.tmp"
    mv "$dir/env.tmp" "$dir/env"
    if [ -n "$bdir" ]; then
        code=$(s3_request "$dir/env" PUT "/$(env_get "$dir/env" BUCKET)")
        case $code in 200 | 409) ;; *) die "creating bucket $(env_get "$dir/env" BUCKET): HTTP $code" ;; esac
    fi
    write_conf "$dir"
}

# migrate DIR DATA: berth migrate of the single-host folder DATA into DIR's database and bucket
migrate() {
    local dir=$1 data=$2
    shift 2
    BERTH_S3_SECRET_KEY=$(env_get "$dir/env" S3_SECRET_KEY) "$BERTH_BIN" migrate --data "$data" \
        --metadata "$(env_get "$dir/env" PG_URL)" --blob-store "s3://$(env_get "$dir/env" BUCKET)" \
        --s3-endpoint "$(env_get "$dir/env" S3_ENDPOINT)" \
        --s3-access-key "$(env_get "$dir/env" S3_ACCESS_KEY)" "$@"
}

# start DIR: the replicas and haproxy of a prepared DIR
start() {
    local dir=$1 n url
    # the first replica creates the schema and the admin user, then the others join
    for n in $(seq 1 "$REPLICAS"); do
        replica_start "$dir" "$n"
    done
    write_haproxy "$dir"
    haproxy_start "$dir"
    url=http://127.0.0.1:$(env_get "$dir/env" HAPROXY_PORT)
    echo "URL=$url" >>"$dir/env"
    echo "URL=$url"
    echo "ADMIN_PASSWORD=$(env_get "$dir/env" ADMIN_PASSWORD)"
}

# up_guarded STEP DIR: runs prepare and/or start; a failure half-way stops what had started
up_guarded() {
    local step=$1 dir=$2
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    UP_DIR=$dir
    trap 'if [ -n "${UP_DIR:-}" ]; then down "$UP_DIR" >/dev/null 2>&1; fi' EXIT
    case $step in
    up)
        [ -f "$dir/env" ] && die "$dir is up already (scripts/scaleout.sh down $dir first)"
        prepare "$dir"
        if [ -n "${SCALEOUT_MIGRATE_FROM:-}" ]; then
            migrate "$dir" "$SCALEOUT_MIGRATE_FROM" >&2 || die "berth migrate from $SCALEOUT_MIGRATE_FROM failed"
        fi
        start "$dir"
        ;;
    prepare)
        [ -f "$dir/env" ] && die "$dir is prepared already (scripts/scaleout.sh down $dir first)"
        prepare "$dir"
        ;;
    start)
        [ -f "$dir/env" ] || die "$dir is not prepared (scripts/scaleout.sh prepare $dir)"
        start "$dir"
        ;;
    esac
    UP_DIR=""
}

down() {
    local dir=$1 n bdir
    [ -d "$dir" ] || return 0
    dir=$(cd "$dir" && pwd)
    stop_pidfile "$dir/haproxy.pid" 10
    for n in $(ls -d "$dir"/r[0-9]* 2>/dev/null | sed 's/.*\/r//'); do
        replica_stop "$dir" "$n" TERM
    done
    bdir=$(env_get "$dir/env" BACKENDS)
    if [ "$bdir" = "$dir" ]; then
        backends_down "$dir"
    elif [ -n "$bdir" ] && [ -f "$bdir/backends.env" ]; then
        # shared backends stay up; only this folder's database goes
        psql -q -X "$(env_get "$bdir/backends.env" PG_URL)" \
            -c "DROP DATABASE IF EXISTS \"$(basename "$(env_get "$dir/env" PG_URL | sed 's/?.*//')")\"" \
            >/dev/null 2>&1 || true
    fi
    rm -f "$dir/env"
}

status() {
    local dir=$1 f name
    for f in "$dir"/haproxy.pid "$dir"/r*/pid "$dir"/pg/*.pid "$dir"/rgw/*.pid; do
        [ -f "$f" ] || continue
        name=${f#"$dir"/}
        if kill -0 "$(cat "$f")" 2>/dev/null; then
            echo "$name $(cat "$f") up"
        else
            echo "$name $(cat "$f") down"
        fi
    done
}

case "${1:-}" in
up | prepare | start) [ $# -eq 2 ] || die "usage: scaleout.sh $1 DIR"; up_guarded "$1" "$2" ;;
migrate)
    [ $# -ge 3 ] || die "usage: scaleout.sh migrate DIR DATA [berth migrate options]"
    d=$(cd "$2" && pwd)
    shift 2
    migrate "$d" "$@"
    ;;
down) [ $# -eq 2 ] || die "usage: scaleout.sh down DIR"; down "$2" ;;
status) [ $# -eq 2 ] || die "usage: scaleout.sh status DIR"; status "$2" ;;
backends-up) [ $# -eq 2 ] || die "usage: scaleout.sh backends-up DIR"; deps >&2; backends_up "$2"; cat "$2/backends.env" ;;
backends-down) [ $# -eq 2 ] || die "usage: scaleout.sh backends-down DIR"; backends_down "$2" ;;
replica)
    [ $# -eq 4 ] || die "usage: scaleout.sh replica start|stop|kill DIR N"
    d=$(cd "$3" && pwd)
    case $2 in
    start) replica_start "$d" "$4" ;;
    stop) replica_stop "$d" "$4" TERM ;;
    kill) replica_stop "$d" "$4" KILL ;;
    *) die "usage: scaleout.sh replica start|stop|kill DIR N" ;;
    esac
    ;;
*)
    sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
