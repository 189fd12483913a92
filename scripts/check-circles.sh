#!/bin/sh
# check-circles.sh [DIR...] - fail when files of one folder call each other around a circle.
#
# For each folder (default: registry http) the object files of the build (BERTH_OBJ, default
# build/asan; *_test.o left out) give an edge a -> b when a.o has an undefined symbol that b.o
# defines. Two files on a common cycle (a calls into b and b, directly or through others, calls
# back into a) mean the cut between them is in the wrong place (STYLE.md section 2). Prints every
# edge with -v, then each circle as "DIR: a <-> b <-> ..."; exit 1 if any, 2 when a folder has no
# objects (build first: make asan-bin).
set -u
cd "$(dirname "$0")/.." || exit 2

OBJ=${BERTH_OBJ:-build/asan}
verbose=0
if [ "${1:-}" = "-v" ]; then
    verbose=1
    shift
fi
[ $# -gt 0 ] || set -- registry http

bad=0
for d in "$@"; do
    objs=""
    for o in "$OBJ/$d"/*.o; do
        case $o in *_test.o) ;; *) [ -f "$o" ] && objs="$objs $o" ;; esac
    done
    if [ -z "$objs" ]; then
        echo "check-circles: no objects under $OBJ/$d (make asan-bin)" >&2
        exit 2
    fi
    # "file T sym" / "file U sym" lines, then the graph in awk
    out=$(for o in $objs; do
        f=$(basename "$o" .o)
        nm "$o" | awk -v f="$f" 'NF == 3 && $2 ~ /^[TDRB]$/ { print f, "T", $3 }
                                 NF == 2 && $1 == "U" { print f, "U", $2 }'
    done | awk -v dir="$d" -v verbose="$verbose" '
        $2 == "T" { owner[$3] = $1; files[$1] = 1; next }
        { use[NR] = $1 " " $3 }
        END {
            for (i in use) {
                split(use[i], p, " ")
                g = owner[p[2]]
                if (g != "" && g != p[1]) {
                    edge[p[1], g] = 1
                    if (verbose && !(seen[p[1], g]++))
                        printf "  %s/%s -> %s/%s\n", dir, p[1], dir, g
                }
            }
            n = 0
            for (f in files)
                name[n++] = f
            for (i = 0; i < n; i++)
                for (j = 0; j < n; j++)
                    reach[i, j] = ((name[i], name[j]) in edge)
            for (k = 0; k < n; k++)
                for (i = 0; i < n; i++)
                    if (reach[i, k])
                        for (j = 0; j < n; j++)
                            if (reach[k, j])
                                reach[i, j] = 1
            for (i = 0; i < n; i++) {
                if (done[i] || !reach[i, i])
                    continue
                line = name[i]
                for (j = i + 1; j < n; j++)
                    if (reach[i, j] && reach[j, i]) {
                        line = line " <-> " name[j]
                        done[j] = 1
                    }
                print "CIRCLE " dir ": " line
            }
        }')
    printf '%s\n' "$out" | grep -v '^CIRCLE ' | grep . || true
    circles=$(printf '%s\n' "$out" | grep '^CIRCLE ' | sed 's/^CIRCLE //')
    if [ -n "$circles" ]; then
        printf '%s\n' "$circles" >&2
        bad=$((bad + $(printf '%s\n' "$circles" | wc -l)))
    fi
done
if [ "$bad" -gt 0 ]; then
    echo "check-circles: $bad circle(s)" >&2
    exit 1
fi
echo "check-circles: no file calls back into one that calls it ($*)"
