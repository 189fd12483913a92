/* test_meta.h - a fixture for the unit tests of storage/ modules that work on the metadata
 * database (audit_test, quota_test, meta_ident_test): a fresh database per call.
 * Test-only, header-only (like common/test.h); single-threaded use. */
#ifndef BERTH_STORAGE_TEST_META_H
#define BERTH_STORAGE_TEST_META_H

#include <stdio.h>
#include <stdlib.h>

#include "storage/meta.h"

/* test_meta_open opens a new database dir/tN.db (N counts the calls) with pool connections.
 * Without it the test cannot go on, so a failure prints why and aborts. */
static inline struct meta *test_meta_open(const char *dir, unsigned pool)
{
    static int seq;
    struct meta *m = NULL;
    char path[256];
    struct berr e;
    int n = snprintf(path, sizeof(path), "%s/t%d.db", dir, ++seq);

    if (n < 0 || (size_t)n >= sizeof(path)) {
        fprintf(stderr, "test_meta_open: no room for the path under %s\n", dir);
        abort();
    }
    if (meta_open(&m, path, pool, &e) < 0) {
        fprintf(stderr, "meta_open: %s\n", e.msg);
        abort();
    }
    return m;
}

#endif
