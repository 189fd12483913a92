#!/bin/sh
# build.sh [TARGET...] - `make fuzz`: build every tests/fuzz/<target>.c with clang's libFuzzer
# (plus ASan and UBSan) and run each for a bounded time.
#
#   FUZZ_SECONDS=60  seconds per target (default 60; FUZZ_TIME is the older name, still read)
#   FUZZ_MERGE=1     afterwards, fold what the fuzzer found into the kept corpus: libFuzzer's
#                    -merge=1 adds only inputs that cover something new (the corpus stays
#                    minimal; a target above FUZZ_CORPUS_MAX files, default 300, is reported)
#   CC_FUZZ=clang    the compiler (it must ship libFuzzer)
#
# The library is built by the Makefile into build/fuzz/ (MODE=fuzz with clang and the sanitizer
# flags below); warnings are not errors there, the fuzz build hunts crashes, `make` hunts warnings.
# A tests/fuzz/<target>.dict, when present, is passed as libFuzzer's -dict.
# Inputs libFuzzer finds interesting go to build/fuzz/work/<target>/ (scratch, never committed);
# the seeds in tests/fuzz/corpus/<target>/ are read, not written. A crash, leak, timeout or
# out-of-memory input is saved as tests/fuzz/corpus/<target>/crash-<sha1> (timeout-, oom-,
# leak-): fix the bug, keep the file, and `make test` replays it from then on.
# The closing table gives executions and new units per target. Exit status 1 when any target
# failed to build or found a problem.
set -u

cd "$(dirname "$0")/../.." || exit 2
FUZZ_SECONDS=${FUZZ_SECONDS:-${FUZZ_TIME:-60}}
FUZZ_MERGE=${FUZZ_MERGE:-0}
FUZZ_CORPUS_MAX=${FUZZ_CORPUS_MAX:-300}
CC_FUZZ=${CC_FUZZ:-clang}
OUT=build/fuzz

if ! command -v "$CC_FUZZ" >/dev/null 2>&1; then
    echo "fuzz: $CC_FUZZ not found (apt-get install clang)" >&2
    exit 2
fi

SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
LIBFLAGS="-O1 -g $SAN -fsanitize=fuzzer-no-link -DBERTH_TEST_BUILD -U_FORTIFY_SOURCE -Wno-error"

mkdir -p "$OUT"
echo "fuzz: building $OUT/libberth.a with $CC_FUZZ"
if ! make --no-print-directory MODE=fuzz CC="$CC_FUZZ" CFLAGS="$LIBFLAGS" "$OUT/libberth.a" \
        >"$OUT/lib.log" 2>&1; then
    tail -n 30 "$OUT/lib.log" >&2
    echo "fuzz: library build failed (full log: $OUT/lib.log)" >&2
    exit 1
fi

if [ $# -gt 0 ]; then
    targets=$*
else
    targets=$(for f in tests/fuzz/*.c; do
        b=$(basename "$f" .c)
        [ "$b" = replay ] || echo "$b"
    done)
fi

# shellcheck disable=SC2086 # word splitting of pkg-config output is intended
LIBS="$(pkg-config --libs libmicrohttpd openssl jansson sqlite3 libarchive libcurl yaml-0.1) -lpthread"
# shellcheck disable=SC2086
CFL="-std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -I. -O1 -g $SAN -DBERTH_TEST_BUILD"

failed=""
table=""
mkdir -p "$OUT/bin"
for t in $targets; do
    src=tests/fuzz/$t.c
    corpus=tests/fuzz/corpus/$t
    work=$OUT/work/$t
    bin=$OUT/bin/$t
    if [ ! -f "$src" ]; then
        echo "fuzz: no target $src" >&2
        failed="$failed $t"
        continue
    fi
    mkdir -p "$corpus" "$work"
    # shellcheck disable=SC2086
    if ! "$CC_FUZZ" $CFL -fsanitize=fuzzer -o "$bin" "$src" "$OUT/libberth.a" $LIBS; then
        echo "fuzz: $t does not build" >&2
        failed="$failed $t"
        continue
    fi
    dict=""
    [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
    echo "fuzz: $t for ${FUZZ_SECONDS}s"
    # shellcheck disable=SC2086 # $dict is empty or one word
    if "$bin" $dict -max_total_time="$FUZZ_SECONDS" -artifact_prefix="$corpus/" -print_final_stats=1 -timeout=10 \
            "$work" "$corpus" >"$OUT/$t.log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$t.log" | tail -n 1)
        units=$(sed -n 's/^stat::new_units_added: *//p' "$OUT/$t.log" | tail -n 1)
        echo "fuzz: $t: ${execs:-?} executions, ${units:-?} new units"
        table="$table$(printf '%-16s %12s %8s %s' "$t" "${execs:-?}" "${units:-?}" clean)
"
        if [ "$FUZZ_MERGE" = 1 ]; then
            # shellcheck disable=SC2086
            "$bin" $dict -merge=1 -timeout=10 "$corpus" "$work" >"$OUT/$t.merge.log" 2>&1 ||
                echo "fuzz: $t: merge failed (log: $OUT/$t.merge.log)" >&2
            kept=$(find "$corpus" -type f | wc -l)
            [ "$kept" -le "$FUZZ_CORPUS_MAX" ] ||
                echo "fuzz: $t: corpus has $kept files, more than $FUZZ_CORPUS_MAX" >&2
        fi
    else
        tail -n 40 "$OUT/$t.log" >&2
        echo "fuzz: $t FOUND A PROBLEM; reproducer saved in $corpus/ (log: $OUT/$t.log)" >&2
        failed="$failed $t"
        table="$table$(printf '%-16s %12s %8s %s' "$t" - - FOUND)
"
    fi
done

printf '\nfuzz: %-16s %12s %8s %s\n' target executions new result
printf '%s' "$table" | sed 's/^/fuzz: /'
if [ -n "$failed" ]; then
    echo "fuzz: failed:$failed" >&2
    exit 1
fi
echo "fuzz: all targets ran clean"
