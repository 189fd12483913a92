/* fuzz.h - the one entry point every fuzz target defines.
 *
 * Each tests/fuzz/<target>.c defines LLVMFuzzerTestOneInput and nothing else global. It is linked
 * either with libFuzzer (tests/fuzz/build.sh, clang -fsanitize=fuzzer) or with replay.c, which
 * feeds it every file of tests/fuzz/corpus/<target>/ under gcc in `make test`. A target returns 0
 * and signals a bug only by crashing (abort, a sanitizer report or a failed assert). */
#ifndef BERTH_TESTS_FUZZ_FUZZ_H
#define BERTH_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
