/* berr_test.c - unit tests for common/berr.c: what berr_set and berr_sys leave in the struct,
 * and that a full disk (ENOSPC, EDQUOT) is told apart from other OS failures. */
#include "common/berr.h"

#include <errno.h>
#include <string.h>

#include "common/test.h"

static void test_sys(void)
{
    struct berr e;

    berr_clear(&e);
    CHECK_INT_EQ(berr_sys(&e, EIO, "test: read"), -1);
    CHECK_INT_EQ(e.code, BERR_INTERNAL);
    CHECK_INT_EQ(e.sys_errno, EIO);
    CHECK_STR_EQ(e.msg, "internal error");

    /* no space: its own code and a message a client can act on, never a path or strerror */
    CHECK_INT_EQ(berr_sys(&e, ENOSPC, "test: write /secret/path"), -1);
    CHECK_INT_EQ(e.code, BERR_STORAGE_FULL);
    CHECK_INT_EQ(e.sys_errno, ENOSPC);
    CHECK_STR_EQ(e.msg, BERR_STORAGE_FULL_MSG);
    CHECK(strstr(e.msg, "/secret") == NULL);
    CHECK_INT_EQ(berr_sys(&e, EDQUOT, "test: write"), -1);
    CHECK_INT_EQ(e.code, BERR_STORAGE_FULL);
    CHECK_STR_EQ(berr_code_name(BERR_STORAGE_FULL), "INSUFFICIENT_STORAGE");

    CHECK_INT_EQ(berr_sys(NULL, ENOSPC, "test: no struct"), -1);
    CHECK_INT_EQ(berr_set(&e, BERR_DENIED, "no %s", "way"), -1);
    CHECK_INT_EQ(e.code, BERR_DENIED);
    CHECK_INT_EQ(e.sys_errno, 0);
    CHECK_STR_EQ(e.msg, "no way");
    berr_clear(&e);
    CHECK_INT_EQ(e.code, BERR_OK);
    CHECK_STR_EQ(e.msg, "");
}

int main(void)
{
    TEST_RUN(test_sys);
    return test_summary();
}
