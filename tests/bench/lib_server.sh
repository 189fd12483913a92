# shellcheck shell=bash
# lib_server.sh - sourced by tests/bench/bench.sh and tests/bench/device.sh (bash): a private
# nginx serving static files, server CPU time from /proc, and loadgen runs.
#
# The caller sets:
#   TASKSET   the command that runs taskset (default taskset)
#   NGINX     the command that runs nginx (may be "ld.so --library-path DIR DIR/nginx")
#   LOADGEN   the command that runs tests/bench/loadgen.c's binary
#   TMP       a private temporary directory (the nginx instance lives in $TMP/nginx-*)
#   die       a function that prints its arguments and exits
# and gets:
#   nginx_start NAME PORT WORKERS [CPUS]   nginx, its root $TMP/nginx-NAME/www, on 127.0.0.1:PORT
#                                          with WORKERS workers (pinned to CPUS with taskset, when
#                                          given); sets NGINX_PID; its files go in before the call
#                                          (nginx_root NAME prints the root, creating it)
#   nginx_stop                             stops it by PID
#   cpu_ticks PID                          utime+stime of PID and of its children, clock ticks
#   cpu_us_per_req TICKS_BEFORE TICKS_AFTER REQUESTS
#   lg_run PORT [loadgen args]             one loadgen run, its JSON on stdout
#   free_port                              a port nobody listens on, 20000 up to the ephemeral range
TASKSET=${TASKSET:-taskset}
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
NGINX_PID=""

free_port() {
    # Below the kernel's ephemeral range: a port inside it may be the local end of some client's
    # connection, where nobody listens (so a connect fails) yet a bind fails too; that made a
    # bench run die now and then with "server exited while starting".
    local p lo=20000 hi=32767 eph
    read -r eph _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph=32768
    [ "$eph" -gt $((lo + 1000)) ] && hi=$((eph - 1))
    for _ in $(seq 1 200); do
        p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
        # a connect that fails means nobody listens there
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    die "no free port"
}

nginx_root() {
    mkdir -p "$TMP/nginx-$1/www" "$TMP/nginx-$1/tmp"
    chmod 755 "$TMP/nginx-$1" "$TMP/nginx-$1/www"
    echo "$TMP/nginx-$1/www"
}

nginx_start() { # NAME PORT WORKERS [CPUS]
    local d=$TMP/nginx-$1 user="" deadline
    nginx_root "$1" >/dev/null
    # nginx's workers run as another user when the master is root: they must reach the files
    chmod 711 "$TMP"
    [ "$(id -u)" != 0 ] || user="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
    cat >"$d/nginx.conf" <<EOF
$user
worker_processes $3;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log error;
events { worker_connections 8192; }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    keepalive_requests 1000000000;
    keepalive_timeout 300s;
    client_body_temp_path $d/tmp;
    proxy_temp_path $d/tmp;
    fastcgi_temp_path $d/tmp;
    uwsgi_temp_path $d/tmp;
    scgi_temp_path $d/tmp;
    server {
        listen 127.0.0.1:$2 backlog=4096;
        root $d/www;
        location = /manifest { default_type application/vnd.oci.image.manifest.v1+json; }
    }
}
EOF
    if [ -n "${4:-}" ]; then
        # shellcheck disable=SC2086
        $TASKSET -c "$4" $NGINX -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >"$d/out.log" 2>&1 &
    else
        # shellcheck disable=SC2086
        $NGINX -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >"$d/out.log" 2>&1 &
    fi
    NGINX_PID=$!
    deadline=$((SECONDS + 10))
    until (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; do
        kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited while starting: $(cat "$d/out.log" "$d/error.log" 2>/dev/null)"
        [ $SECONDS -lt $deadline ] || die "nginx not listening within 10 s"
        sleep 0.05
    done
}

nginx_stop() {
    [ -n "$NGINX_PID" ] || return 0
    kill -TERM "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=""
}

cpu_ticks() { # PID
    local p t=0 s pids
    local -a f
    pids="$1 $(cat /proc/"$1"/task/*/children 2>/dev/null)"
    for p in $pids; do
        s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        s=${s##*) }     # the fields after "pid (comm) ": state is f[0], utime f[11], stime f[12]
        read -r -a f <<<"$s"
        t=$((t + f[11] + f[12]))
    done
    echo "$t"
}

cpu_us_per_req() { # BEFORE AFTER REQUESTS
    awk -v a="$1" -v b="$2" -v n="$3" -v hz="$CLK_TCK" \
        'BEGIN { if (n > 0) printf "%.1f", (b - a) * 1e6 / hz / n; else print 0 }'
}

lg_run() { # PORT args...
    local port=$1
    shift
    # shellcheck disable=SC2086
    ${LG_PIN:-} $LOADGEN --port "$port" "$@"
}
