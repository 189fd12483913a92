#!/bin/sh
# deps.sh build|test|scaleout - install, idempotently, the Debian packages Berth needs.
# A second run finds everything installed and does not touch apt. Services the packages ship
# (docker-registry, containerd, prometheus) are kept from starting: tests start private instances
# of their own (prometheus is there for promtool, which checks /metrics).
set -eu

BUILD="gcc make pkg-config xxd libmicrohttpd-dev libssl-dev libjansson-dev libsqlite3-dev
       libarchive-dev libcurl4-openssl-dev libyaml-dev libpq-dev libxml2-dev"
TEST="$BUILD curl jq openssl sqlite3 skopeo umoci podman buildah crun conmon uidmap containerd runc zstd docker-registry
      apache2-utils python3 nginx libhttp-parser-dev tmux busybox-static ca-certificates tar chromium nodejs npm prometheus
      postgresql-15 radosgw ceph-mon ceph-osd ceph-common"
# the scale-out stack (scripts/scaleout.sh, tests/blackbox/scaleout_*.sh): PostgreSQL, a
# single-node Ceph for radosgw, haproxy
SCALEOUT="postgresql-15 libpq-dev radosgw ceph-mon ceph-osd ceph-common haproxy curl jq python3"

case "${1:-build}" in
build) want=$BUILD ;;
test) want="$TEST $SCALEOUT" ;;
scaleout) want=$SCALEOUT ;;
*) echo "usage: deps.sh build|test|scaleout" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    # Node and npm may come from elsewhere than Debian (nodesource's nodejs ships npm and conflicts
    # with Debian's npm): a working command is enough
    case $p in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    policy=1
fi
trap '[ $policy = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d; true' EXIT
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
