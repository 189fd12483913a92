/* replay.c - a standalone driver that feeds corpus files to a fuzz target without libFuzzer.
 *
 * Linked with one tests/fuzz/<target>.c into build/<mode>/fuzz/<target> (see the Makefile), so
 * gcc and the ASan build replay every seed and every crash reproducer in `make test`:
 *   build/asan/fuzz/<target> [PATH...]
 * Each PATH is a directory (every regular file in it is replayed, in name order) or a file.
 * Without PATH the corpus is tests/fuzz/corpus/<target>/, the target named by argv[0]'s
 * basename. Each input is copied into an allocation of exactly its size, as libFuzzer does, so
 * ASan catches a read one byte past the end. A crash aborts the run (the sanitizers are set to
 * abort); otherwise the last line is "N passed, M failed", where a failure is a file that could
 * not be read. Exit status 1 when anything failed or no input was found (an empty corpus is a
 * broken setup, not a pass). */
#include "tests/fuzz/fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/mem.h"
#include "common/util.h"

#define REPLAY_MAX_INPUT ((size_t)16 * 1024 * 1024)
#define REPLAY_MAX_FILES 100000

struct tally {
    int passed;
    int failed;
};

static void replay_file(struct tally *t, const char *path)
{
    char *data = NULL;
    unsigned char *exact;
    size_t len = 0;

    if (read_file(&data, &len, path, REPLAY_MAX_INPUT) < 0) {
        fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
        t->failed++;
        return;
    }
    exact = mem_malloc(len);
    if (exact == NULL) {
        fprintf(stderr, "replay: out of memory for %s\n", path);
        mem_free(data);
        t->failed++;
        return;
    }
    if (len > 0)
        memcpy(exact, data, len);
    mem_free(data);
    (void)LLVMFuzzerTestOneInput(exact, len); /* targets always return 0; bugs crash */
    mem_free(exact);
    t->passed++;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_dir(struct tally *t, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;

    if (d == NULL) {
        fprintf(stderr, "replay: cannot open %s: %s\n", dir, strerror(errno));
        t->failed++;
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue; /* ".", ".." and hidden files such as .gitkeep */
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **p;
            if (ncap > REPLAY_MAX_FILES)
                break;
            p = mem_realloc(names, ncap * sizeof(*names));
            if (p == NULL)
                break;
            names = p;
            cap = ncap;
        }
        names[n] = mem_strdup(de->d_name);
        if (names[n] == NULL)
            break;
        n++;
    }
    if (de != NULL) {
        fprintf(stderr, "replay: cannot list all of %s\n", dir);
        t->failed++;
    }
    (void)closedir(d); /* read-only directory handle */
    if (n > 0)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        int w = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);

        if (w < 0 || (size_t)w >= sizeof(path)) {
            fprintf(stderr, "replay: path too long in %s\n", dir);
            t->failed++;
        } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            replay_file(t, path);
        }
        mem_free(names[i]);
    }
    mem_free(names);
}

static void replay_path(struct tally *t, const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        t->failed++;
    } else if (S_ISDIR(st.st_mode)) {
        replay_dir(t, path);
    } else {
        replay_file(t, path);
    }
}

int main(int argc, char **argv)
{
    struct tally t = {0, 0};

    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            replay_path(&t, argv[i]);
    } else {
        const char *base = strrchr(argv[0], '/');
        char dir[1024];
        int w;

        base = base != NULL ? base + 1 : argv[0];
        w = snprintf(dir, sizeof(dir), "tests/fuzz/corpus/%s", base);
        if (w < 0 || (size_t)w >= sizeof(dir)) {
            fprintf(stderr, "replay: target name too long\n");
            return 1;
        }
        replay_path(&t, dir);
    }
    printf("%d passed, %d failed\n", t.passed, t.failed);
    if (t.passed == 0 && t.failed == 0)
        fprintf(stderr, "replay: no inputs found\n");
    return t.failed > 0 || t.passed == 0 ? 1 : 0;
}
