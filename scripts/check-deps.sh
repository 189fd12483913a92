#!/bin/sh
# check-deps.sh [ROOT] - `make check-deps`: fail when a module reaches the wrong way.
#
# 1. Layer arrows. A folder may include itself and what it points at, nothing else of Berth:
#      common   -> (nothing)
#      config   -> common
#      storage  -> config, common
#      auth     -> storage, config, common
#      http     -> config, common
#      registry -> http, auth, storage, config, common
#      api      -> registry, http, auth, storage, config, common
#      service  -> api, registry, http, auth, storage, config, common
#      puller   -> common
#      cli      -> anything
#    Folders that do not exist yet are skipped. Berth headers are recognised as "dir/file.h"
#    with dir one of the folders above; tests/ and scripts/ are not checked.
# 2. HTTP stays in one folder: only http/ may include <microhttpd.h> or name an MHD_ identifier
#    (comments and strings aside; *_test.c excepted). Until http/ exists, registry/ holds it.
# 3. No circles of calls between the files of one folder: a.c calls a function (or uses a
#    variable) defined in b.c while b.c, directly or around a loop, reaches back into a.c. Read
#    from the object files' symbols (nm): build/release/DIR/x.o or build/asan/DIR/x.o when newer
#    than x.c, else compiled into build/check-deps/. *_test.c files are left out. Each circle
#    is printed as "DIR: a.c -> b.c -> a.c" (a shortest loop through its first file, plus the
#    size of the whole tangle when it is larger). Circles fail the check in the folders listed
#    in CIRCLE_STRICT (default: every folder; folders named in LOOSE are only warned about,
#    for a folder being cut apart).
# ROOT (default: the repository) lets tests/blackbox/lint_deps.sh run the check on a fake tree.
# Prints every violation as FILE:LINE: why (or the circle); exit 1 if any.
set -u
if [ $# -gt 0 ]; then
    cd "$1" || exit 2
else
    cd "$(dirname "$0")/.." || exit 2
fi

LAYERS="common config storage auth http registry api service puller cli"
LOOSE=""

allowed() {
    case $1 in
    common) echo "common" ;;
    config) echo "config common" ;;
    storage) echo "storage config common" ;;
    auth) echo "auth storage config common" ;;
    http) echo "http config common" ;;
    registry) echo "registry http auth storage config common" ;;
    api) echo "api registry http auth storage config common" ;;
    service) echo "service api registry http auth storage config common" ;;
    puller) echo "puller common" ;;
    cli) echo "$LAYERS" ;;
    esac
}

if [ -d http ]; then
    MHD_HOME=http
else
    MHD_HOME=registry
fi

if [ -z "${CIRCLE_STRICT+set}" ]; then
    CIRCLE_STRICT=""
    for l in $LAYERS; do
        case " $LOOSE " in
        *" $l "*) ;;
        *) CIRCLE_STRICT="$CIRCLE_STRICT $l" ;;
        esac
    done
fi

bad=0
checked=0
report() {
    if [ -n "$1" ]; then
        printf '%s\n' "$1" >&2
        bad=$((bad + $(printf '%s\n' "$1" | wc -l)))
    fi
}

# ---- 1 and 2: includes and MHD_ ----
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
                    [ "$layer" = "$MHD_HOME" ] || echo "$f:$n: only $MHD_HOME/ may include microhttpd.h"
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
        report "$out"
        if [ "$layer" != "$MHD_HOME" ]; then
            case $f in *_test.c) continue ;; esac
            # blank strings, char literals and comments first, as lint.sh does for banned calls
            out=$(sed -E -e 's/"([^"\\]|\\.)*"/""/g' -e "s/'([^'\\\\]|\\\\.)'/''/g" \
                -e 's:/\*.*\*/::g' -e 's://.*$::' -e 's:^[[:space:]]*\*.*$::' -e 's:/\*.*$::' "$f" |
                grep -nE '(^|[^A-Za-z0-9_])MHD_[A-Za-z0-9_]' | cut -d: -f1 |
                sed "s|^|$f:|; s|\$|: only $MHD_HOME/ may use libmicrohttpd (MHD_)|")
            report "$out"
        fi
    done
done

# ---- 3: circles of calls between the files of one folder ----
PKG_CFLAGS=$(pkg-config --cflags libmicrohttpd openssl jansson sqlite3 libpq libarchive libcurl yaml-0.1 libxml-2.0 2>/dev/null)

# obj_for F: an object file for F whose symbols are current; compiles one when none is
obj_for() {
    stem=${1%.c}
    for m in release asan check-deps; do
        o=build/$m/$stem.o
        if [ -f "$o" ] && ! [ "$1" -nt "$o" ]; then
            echo "$o"
            return 0
        fi
    done
    o=build/check-deps/$stem.o
    mkdir -p "$(dirname "$o")" || return 1
    # shellcheck disable=SC2086 # pkg-config flags are words
    ${CC:-cc} -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -I. $PKG_CFLAGS -O0 -w \
        -c -o "$o" "$1" >&2 || return 1
    echo "$o"
}

circles=0
loose_circles=0
for layer in $LAYERS; do
    [ -d "$layer" ] || continue
    syms=""
    for f in "$layer"/*.c; do
        [ -f "$f" ] || continue
        case $f in *_test.c) continue ;; esac
        if ! o=$(obj_for "$f"); then
            report "$f: cannot compile it to read its symbols"
            continue
        fi
        # "name type [value size]": U undefined, anything else defined here
        s=$(nm -P -g "$o" 2>/dev/null | awk -v f="${f#"$layer"/}" '{ print f, ($2 == "U" ? "U" : "D"), $1 }')
        syms="$syms$s
"
    done
    found=$(printf '%s' "$syms" | awk -v dir="$layer" '
        NF == 3 && $2 == "D" { def[$3] = $1; files[$1] = 1 }
        NF == 3 && $2 == "U" { use[++nu] = $1 " " $3; files[$1] = 1 }
        END {
            for (i = 1; i <= nu; i++) {
                split(use[i], p, " ")
                if ((p[2] in def) && def[p[2]] != p[1] && !((p[1] SUBSEP def[p[2]]) in edge)) {
                    edge[p[1], def[p[2]]] = 1
                    out[p[1]] = out[p[1]] " " def[p[2]]
                }
            }
            n = 0
            for (f in files)
                names[++n] = f
            # sort names so the output is stable
            for (i = 2; i <= n; i++) {
                v = names[i]
                for (j = i - 1; j >= 1 && names[j] > v; j--)
                    names[j + 1] = names[j]
                names[j + 1] = v
            }
            idx = 0
            sp = 0
            for (i = 1; i <= n; i++)
                if (!(names[i] in num))
                    tarjan(names[i])
        }
        function tarjan(v,    k, w, ws, nw, comp, cn, first) {
            num[v] = low[v] = ++idx
            stack[++sp] = v
            on[v] = 1
            nw = split(out[v], ws, " ")
            for (k = 1; k <= nw; k++) {
                w = ws[k]
                if (!(w in num)) {
                    tarjan(w)
                    if (low[w] < low[v])
                        low[v] = low[w]
                } else if (on[w] && num[w] < low[v]) {
                    low[v] = num[w]
                }
            }
            if (low[v] == num[v]) {
                cn = 0
                do {
                    w = stack[sp--]
                    on[w] = 0
                    comp[++cn] = w
                    incomp[w] = v
                } while (w != v)
                if (cn > 1) {
                    first = comp[1]
                    for (k = 2; k <= cn; k++)
                        if (comp[k] < first)
                            first = comp[k]
                    print dir ": " loop(first, v) (cn > 2 ? "  (" cn " files tangled)" : "")
                }
            }
        }
        # loop: a shortest path first -> ... -> first inside the component named c (BFS)
        function loop(first, c,    q, qh, qt, prev, x, ws, nw, k, w, path, seen) {
            qh = 1; qt = 0
            q[++qt] = first
            seen[first] = 1
            while (qh <= qt) {
                x = q[qh++]
                nw = split(out[x], ws, " ")
                for (k = 1; k <= nw; k++) {
                    w = ws[k]
                    if (incomp[w] != c)
                        continue
                    if (w == first) {
                        path = first
                        while (x != first) {
                            path = x " -> " path
                            x = prev[x]
                        }
                        return first " -> " path
                    }
                    if (!(w in seen)) {
                        seen[w] = 1
                        prev[w] = x
                        q[++qt] = w
                    }
                }
            }
            return first
        }')
    [ -n "$found" ] || continue
    case " $CIRCLE_STRICT " in
    *" $layer "*)
        report "$found"
        circles=$((circles + $(printf '%s\n' "$found" | wc -l)))
        ;;
    *)
        printf '%s\n' "$found" | sed 's/^/check-deps: warning (not in CIRCLE_STRICT): /' >&2
        loose_circles=$((loose_circles + $(printf '%s\n' "$found" | wc -l)))
        ;;
    esac
done

if [ "$bad" -gt 0 ]; then
    echo "check-deps: $bad violation(s) in $checked files ($circles circle(s) in strict folders)" >&2
    exit 1
fi
# shellcheck disable=SC2086 # word splitting normalizes the list
echo "check-deps: $checked files, layer arrows respected, no circles in: $(echo $CIRCLE_STRICT)" \
    "($loose_circles tolerated elsewhere)"
