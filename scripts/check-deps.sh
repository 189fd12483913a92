#!/bin/sh
# check-deps.sh - `make check-deps`: fail when a module includes a layer above it.
#
# The arrows (a layer may include itself and what it points at, nothing else of Berth):
#   common   -> (nothing)
#   config   -> common
#   storage  -> common, config
#   auth     -> storage, common, config
#   http     -> common, config
#   registry -> http, auth, storage, common, config
#   api      -> registry, http, auth, storage, common, config
#   puller   -> common
#   cli      -> anything
# And only http/ may include <microhttpd.h>: HTTP stays in one layer.
# Berth headers are recognised as "dir/file.h" with dir one of the layers above; tests/ and
# scripts/ are not checked. Prints every violation as FILE:LINE: why; exit 1 if any.
set -u
cd "$(dirname "$0")/.." || exit 2

LAYERS="common config storage auth http registry api puller cli"

allowed() {
    case $1 in
    common) echo "common" ;;
    config) echo "config common" ;;
    storage) echo "storage common config" ;;
    auth) echo "auth storage common config" ;;
    http) echo "http common config" ;;
    registry) echo "registry http auth storage common config" ;;
    api) echo "api registry http auth storage common config" ;;
    puller) echo "puller common" ;;
    cli) echo "$LAYERS" ;;
    esac
}

bad=0
checked=0
for layer in $LAYERS; do
    [ -d "$layer" ] || continue
    ok=$(allowed "$layer")
    for f in "$layer"/*.c "$layer"/*.h; do
        [ -f "$f" ] || continue
        checked=$((checked + 1))
        # '#  include "x/y.h"' and '#include <microhttpd.h>' with any spacing
        out=$(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "$f" |
            while IFS= read -r line; do
                n=${line%%:*}
                inc=$(printf '%s\n' "$line" | sed -E 's/^[0-9]+:[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]*)[>"].*/\1/')
                case $inc in
                microhttpd.h | */microhttpd.h)
                    [ "$layer" = http ] || echo "$f:$n: only http/ may include microhttpd.h"
                    continue
                    ;;
                */*) ;;
                *) continue ;;
                esac
                dep=${inc%%/*}
                case " $LAYERS " in
                *" $dep "*) ;;
                *) continue ;;
                esac
                case " $ok " in
                *" $dep "*) ;;
                *) echo "$f:$n: $layer/ may not include $inc ($layer -> $dep reverses a layer arrow)" ;;
                esac
            done)
        if [ -n "$out" ]; then
            printf '%s\n' "$out" >&2
            bad=$((bad + $(printf '%s\n' "$out" | wc -l)))
        fi
    done
done

if [ "$bad" -gt 0 ]; then
    echo "check-deps: $bad violation(s) in $checked files" >&2
    exit 1
fi
echo "check-deps: $checked files, layer arrows respected"
