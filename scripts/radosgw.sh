#!/bin/sh
# radosgw.sh start DIR | stop DIR - a private, single-node Ceph object gateway on 127.0.0.1 for
# tests: one monitor, one memory-store OSD (data in RAM) and radosgw (beast), every file under DIR.
# start prints, once S3 answers:
#   S3_ENDPOINT=http://127.0.0.1:PORT
#   S3_ACCESS_KEY=...
#   S3_SECRET_KEY=...
# (also written to DIR/env). stop kills the three daemons by the PIDs in DIR and removes nothing
# else. Needs the Debian packages ceph-mon ceph-osd radosgw ceph-common (scripts/deps.sh test).
# What worked and what did not is in ../shared/reference/scaleout.md: keep cephx (auth none makes
# radosgw loop on -13), keep the default full ratios, bind everything to loopback.
set -eu

usage() { echo "usage: radosgw.sh start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

stop() {
    for p in radosgw osd mon; do
        f="$dir/$p.pid"
        [ -s "$f" ] || continue
        pid=$(cat "$f")
        kill "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$f"
    done
}

case $cmd in
stop) stop; exit 0 ;;
start) ;;
*) usage ;;
esac

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/mon" "$dir/osd" "$dir/run" "$dir/log" "$dir/rgw"
mon_port=$(free_port)
rgw_port=$(free_port)
# messenger ports for the OSD and radosgw: a range starting at a free port
msgr=$(free_port)
[ "$msgr" -lt 60000 ] || msgr=$((msgr - 2000))
fsid=$(cat /proc/sys/kernel/random/uuid)
conf="$dir/ceph.conf"
cat >"$conf" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$mon_port
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
public_network = 127.0.0.0/8
cluster_network = 127.0.0.0/8
ms_bind_port_min = $msgr
ms_bind_port_max = $((msgr + 60))
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = $dir/\$name.keyring
run_dir = $dir/run
admin_socket = $dir/run/\$name.asok
log_file = $dir/log/\$name.log
pid_file = $dir/\$name.pidfile
osd_objectstore = memstore
memstore_device_bytes = ${RADOSGW_MEM_BYTES:-1073741824}
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_warn_on_pool_no_redundancy = false
osd_max_object_name_len = 460
osd_max_object_namespace_len = 64
[mon.a]
mon_data = $dir/mon
[osd.0]
osd_data = $dir/osd
[client.rgw]
rgw_frontends = beast endpoint=127.0.0.1:$rgw_port
rgw_data = $dir/rgw
rgw_dns_name = 127.0.0.1
rgw_enable_usage_log = false
EOF

ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring "$dir/client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool --create-keyring "$dir/client.rgw.keyring" --gen-key -n client.rgw \
    --cap mon 'allow rw' --cap osd 'allow rwx' >/dev/null
cp "$dir/mon.keyring" "$dir/mon.a.keyring"
ceph-authtool "$dir/mon.a.keyring" --import-keyring "$dir/client.admin.keyring" >/dev/null
ceph-authtool "$dir/mon.a.keyring" --import-keyring "$dir/client.rgw.keyring" >/dev/null
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
ceph-mon --conf "$conf" -i a --mkfs --monmap "$dir/monmap" --keyring "$dir/mon.a.keyring" >/dev/null 2>&1
ceph-mon --conf "$conf" -i a
cp "$dir/mon.a.pidfile" "$dir/mon.pid" 2>/dev/null || true

ceph_() { timeout 30 ceph --conf "$conf" -n client.admin "$@"; }
i=0
until ceph_ -s >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 60 ] || { echo "radosgw.sh: monitor did not come up (see $dir/log)" >&2; stop; exit 1; }
    sleep 0.5
done
[ -s "$dir/mon.pid" ] || cp "$dir/mon.a.pidfile" "$dir/mon.pid"

uuid=$(cat /proc/sys/kernel/random/uuid)
osd_secret=$(ceph-authtool --gen-print-key)
printf '{"cephx_secret": "%s"}\n' "$osd_secret" >"$dir/osd-secret.json"
id=$(ceph_ osd new "$uuid" -i "$dir/osd-secret.json")
ceph-authtool --create-keyring "$dir/osd.$id.keyring" --name "osd.$id" --add-key "$osd_secret" >/dev/null
ceph-osd --conf "$conf" -i "$id" --mkfs --osd-uuid "$uuid" --osd-data "$dir/osd" >/dev/null 2>&1
ceph-osd --conf "$conf" -i "$id" --osd-data "$dir/osd" 2>>"$dir/log/osd-start.log"
i=0
until [ -s "$dir/osd.$id.pidfile" ]; do
    i=$((i + 1)); [ $i -lt 50 ] || break; sleep 0.1
done
cp "$dir/osd.$id.pidfile" "$dir/osd.pid" 2>/dev/null || true
i=0
until ceph_ osd stat 2>/dev/null | grep -q '1 up'; do
    i=$((i + 1))
    [ $i -lt 120 ] || { echo "radosgw.sh: OSD did not come up (see $dir/log)" >&2; stop; exit 1; }
    sleep 0.5
done

radosgw --conf "$conf" -n client.rgw
i=0
until [ -s "$dir/client.rgw.pidfile" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.1
done
cp "$dir/client.rgw.pidfile" "$dir/radosgw.pid" 2>/dev/null || true
i=0
until curl -s -o /dev/null "http://127.0.0.1:$rgw_port/"; do
    i=$((i + 1))
    [ $i -lt 240 ] || { echo "radosgw.sh: radosgw did not answer (see $dir/log)" >&2; stop; exit 1; }
    sleep 0.5
done

ak=$(head -c 10 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
sk=$(head -c 30 /dev/urandom | od -An -tx1 | tr -d ' \n')
timeout 60 radosgw-admin --conf "$conf" -n client.admin user create --uid=berth --display-name=berth \
    --access-key="$ak" --secret-key="$sk" >/dev/null
{
    echo "S3_ENDPOINT=http://127.0.0.1:$rgw_port"
    echo "S3_ACCESS_KEY=$ak"
    echo "S3_SECRET_KEY=$sk"
} >"$dir/env"
cat "$dir/env"
