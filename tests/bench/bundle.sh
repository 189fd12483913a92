#!/usr/bin/env bash
# bundle.sh DIR - `make bench-bundle`: what tests/bench/device.sh needs on a machine with no apt
# and no repository, in DIR: bin/{berth,loadgen,nginx,curl,jq,taskset}, lib/ with every library
# ldd lists for them (the dynamic loader included: device.sh runs each binary through
# lib/ld-linux-x86-64.so.2 --library-path lib, so the machine's own libc is never mixed in),
# device.sh and lib_server.sh; all stripped of debug symbols. DIR is emptied first; DIR.tar.gz
# holds the same (about 25 MiB: a device run carries at most 64 MiB, and the raw folder is ~60).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${1:?usage: bundle.sh DIR}
die() { echo "bundle: $*" >&2; exit 1; }

[ -x "$ROOT/bin/berth" ] || die "bin/berth not built (make)"
[ -x "$ROOT/build/bench/loadgen" ] || die "build/bench/loadgen not built (make build/bench/loadgen)"
SRC=("$ROOT/bin/berth" "$ROOT/build/bench/loadgen")
for c in nginx curl jq taskset; do
    p=$(command -v "$c") || die "$c missing (make deps-test)"
    SRC+=("$p")
done
rm -rf "$DIR"
mkdir -p "$DIR/bin" "$DIR/lib"
for b in "${SRC[@]}"; do
    cp -L "$b" "$DIR/bin/"
    # "name => /path (addr)" and the loader's own "/lib64/ld-linux-x86-64.so.2 (addr)"
    ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
        while read -r lib; do cp -Ln "$lib" "$DIR/lib/" 2>/dev/null || true; done
done
[ -e "$DIR/lib/ld-linux-x86-64.so.2" ] || die "no ld-linux-x86-64.so.2 among the libraries (not x86-64?)"
strip --strip-debug "$DIR"/bin/* "$DIR"/lib/* 2>/dev/null || true
cp "$ROOT/tests/bench/device.sh" "$ROOT/tests/bench/lib_server.sh" "$DIR/"
chmod +x "$DIR/device.sh"
tar -czf "$DIR.tar.gz" -C "$(dirname "$DIR")" "$(basename "$DIR")"
echo "bundle: $DIR ($(du -sh "$DIR" | cut -f1)), $DIR.tar.gz ($(du -sh "$DIR.tar.gz" | cut -f1))"
echo "bundle: on the machine: tar -xzf $(basename "$DIR").tar.gz && $(basename "$DIR")/device.sh"
