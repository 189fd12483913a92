#!/usr/bin/env bash
# lint_deps.sh - scripts/check-deps.sh on tiny fake trees: it passes a clean tree and fails on a
#   circle of calls between two (or three) files of one folder, on an MHD_ identifier or a
#   <microhttpd.h> include outside http/, and on a reversed layer arrow; a circle in a folder
#   outside CIRCLE_STRICT is only a warning, and a comment naming MHD_ is not a use.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK=$ROOT/scripts/check-deps.sh
TMP=$(mktemp -d /tmp/berth-lint-deps-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

ok() {
    pass=$((pass + 1))
    echo "ok - $1"
}
not_ok() {
    fail=$((fail + 1))
    echo "not ok - $1"
    printf '%s\n' "$2" | sed 's/^/# /'
}

# tree NAME: a fresh clean tree; common/b.c is called by common/a.c, config/c.c uses both
tree() {
    T=$TMP/$1
    mkdir -p "$T/common" "$T/config" "$T/http" "$T/storage" "$T/registry"
    printf 'int b_fn(void);\nint a_fn(void);\n' >"$T/common/ab.h"
    printf '#include "common/ab.h"\nint a_fn(void) { return b_fn() + 1; }\n' >"$T/common/a.c"
    printf '#include "common/ab.h"\nint b_fn(void) { return 2; }\n' >"$T/common/b.c"
    printf '#include "common/ab.h"\nint c_fn(void);\nint c_fn(void) { return a_fn(); }\n' >"$T/config/c.c"
    printf '/* MHD_YES is what libmicrohttpd answers */\nint s_fn(void);\nint s_fn(void) { return 0; }\n' >"$T/storage/s.c"
    printf '#define MHD_FAKE 1\nint h_fn(void);\nint h_fn(void) { return MHD_FAKE; }\n' >"$T/http/h.c"
}

# expect NAME WANT_RC MUST_CONTAIN [ENV...]: run the check on $T
expect() {
    name=$1
    want=$2
    pat=$3
    shift 3
    out=$(env "$@" sh "$CHECK" "$T" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        not_ok "$name: exit $rc, want $want" "$out"
    elif [ -n "$pat" ] && ! printf '%s\n' "$out" | grep -qF -- "$pat"; then
        not_ok "$name: output lacks '$pat'" "$out"
    else
        ok "$name"
    fi
}

tree clean
expect "a clean tree passes" 0 "layer arrows respected"

tree circle2
printf '#include "common/ab.h"\nint b_fn(void) { return a_fn() > 0 ? 2 : 3; }\n' >"$T/common/b.c"
expect "a circle of two files fails" 1 "common: a.c -> b.c -> a.c"

tree circle3
printf 'int a_fn(void);\nint b_fn(void);\nint c3_fn(void);\n' >"$T/common/ab.h"
printf '#include "common/ab.h"\nint b_fn(void) { return c3_fn(); }\n' >"$T/common/b.c"
printf '#include "common/ab.h"\nint c3_fn(void) { return a_fn(); }\n' >"$T/common/c3.c"
expect "a circle of three files fails, printed in call order" 1 "common: a.c -> b.c -> c3.c -> a.c"

tree testfile
printf '#include "common/ab.h"\nint main(void);\nint main(void) { return a_fn(); }\n' >"$T/common/b_test.c"
expect "a _test.c file calling back is not a circle" 0 ""

tree loose
printf 'int r1(void);\nint r2(void);\nint r1(void) { return r2(); }\n' >"$T/registry/r1.c"
printf 'int r1(void);\nint r2(void);\nint r2(void) { return r1(); }\n' >"$T/registry/r2.c"
expect "a circle in registry/ fails by default (every folder is strict)" 1 "registry: r1.c -> r2.c -> r1.c"
expect "a circle in a folder CIRCLE_STRICT leaves out only warns" 0 "warning (not in CIRCLE_STRICT): registry: r1.c -> r2.c -> r1.c" CIRCLE_STRICT=common
expect "the same circle fails when CIRCLE_STRICT names registry" 1 "registry: r1.c -> r2.c -> r1.c" CIRCLE_STRICT=registry

tree mhd
printf 'int s_fn(void);\nint s_fn(void) { int MHD_x = 0; return MHD_x; }\n' >"$T/storage/s.c"
expect "an MHD_ identifier outside http/ fails" 1 "storage/s.c:2: only http/ may use libmicrohttpd (MHD_)"

tree mhdinc
printf '#include <microhttpd.h>\n' >"$T/storage/s.h"
expect "a microhttpd.h include outside http/ fails" 1 "storage/s.h:1: only http/ may include microhttpd.h"

tree arrow
printf '#include "storage/s.h"\n' >"$T/common/x.h"
printf '\n' >"$T/storage/s.h"
expect "a reversed layer arrow fails" 1 "common/ may not include storage/s.h"

tree httparrow
printf '#include "storage/s.h"\n' >"$T/http/x.h"
printf '\n' >"$T/storage/s.h"
expect "http/ may not include storage/" 1 "http/ may not include storage/s.h"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
