/* digest_test.c - the distribution-spec grammar for names, tags, digests and references, and
 * what each parser leaves behind when it refuses. */
#include "common/digest.h"

#include <string.h>

#include "common/test.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int name_ok(const char *s)
{
    struct repo_name n;
    struct berr err;

    berr_clear(&err);
    if (repo_name_parse(&n, s, strlen(s), &err) == 0)
        return 1;
    if (err.code != BERR_NAME_INVALID)
        return -1; /* wrong code: counted as neither pass nor refusal */
    return 0;
}

static void test_names_accepted(void)
{
    static const char *const good[] = {
            "library/alpine", "a/b",   "a0/b1",           "my.project/app", "p/a_b",
            "p/a__b",         "p/a-b", "p/a---b",         "p/a.b.c",        "p/x/y/z",
            "p/a-b_c.d__e",   "0/9",   "project/sub/img", "abc/d-----e--f",
    };
    struct repo_name n;
    struct berr err;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        CHECK_INT_EQ(name_ok(good[i]), 1);
        if (name_ok(good[i]) != 1)
            fprintf(stderr, "  refused: %s\n", good[i]);
    }
    CHECK_INT_EQ(repo_name_parse(&n, "proj/sub/img", 12, &err), 0);
    CHECK_STR_EQ(n.s, "proj/sub/img");
    CHECK_INT_EQ(n.len, 12);
    CHECK_INT_EQ(n.project_len, 4);
    {
        char proj[REPO_NAME_MAX + 1];
        char small[3];

        repo_name_project(&n, proj, sizeof(proj));
        CHECK_STR_EQ(proj, "proj");
        repo_name_project(&n, small, sizeof(small));
        CHECK_STR_EQ(small, "pr");
    }
    /* len bounds the parse: bytes after len are not looked at */
    CHECK_INT_EQ(repo_name_parse(&n, "a/bINVALID", 3, &err), 0);
    CHECK_STR_EQ(n.s, "a/b");
}

static void test_names_refused(void)
{
    static const char *const bad[] = {
            "",        "alpine", "../x",   "a/../x", "a/./b",  "./a/b", "Library/alpine",
            "lib/Alp", "a//b",   "/a/b",   "a/b/",   "a/",     "/",     "a/b__",
            "a/b--",   "a/b.",   "a/b_",   "a/.b",   "a/_b",   "a/-b",  "a/b___c",
            "a/b._c",  "a/b.-c", "a/b-.c", "a/b_.c", "a/b..c", "a/b c", "a/b:c",
            "a/b@c",   "a\\b/c", "a/b\n",  "a/b%2f", "a_/b",   "-a/b",  "a/b/-",
    };
    struct repo_name n;
    struct berr err;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT_EQ(name_ok(bad[i]), 0);
        if (name_ok(bad[i]) != 0)
            fprintf(stderr, "  accepted: %s\n", bad[i]);
    }
    /* a NUL inside the given length is not a name character */
    CHECK_INT_EQ(repo_name_parse(&n, "a/b\0c", 5, &err), -1);
    /* a refused name leaves an empty struct */
    CHECK_INT_EQ(repo_name_parse(&n, "Bad/Name", 8, &err), -1);
    CHECK_INT_EQ(n.len, 0);
    CHECK_STR_EQ(n.s, "");
    CHECK_INT_EQ(err.code, BERR_NAME_INVALID);
    CHECK_INT_EQ(repo_name_parse(&n, "alpine", 6, &err), -1);
    CHECK_STR_EQ(err.msg, "repository name must be <project>/<repository>");
}

static void test_name_length(void)
{
    char s[300];
    struct repo_name n;
    struct berr err;

    /* "p/" + 253 'a' = 255 bytes: the maximum */
    s[0] = 'p';
    s[1] = '/';
    memset(s + 2, 'a', 253);
    CHECK_INT_EQ(repo_name_parse(&n, s, 255, &err), 0);
    CHECK_INT_EQ(n.len, 255);
    CHECK_INT_EQ(strlen(n.s), 255);
    /* 256 bytes */
    memset(s + 2, 'a', 254);
    CHECK_INT_EQ(repo_name_parse(&n, s, 256, &err), -1);
    CHECK_INT_EQ(err.code, BERR_NAME_INVALID);
    CHECK_STR_EQ(err.msg, "repository name longer than 255 bytes");
    memset(s + 2, 'a', 298);
    CHECK_INT_EQ(repo_name_parse(&n, s, 300, &err), -1);
    /* project names: one component */
    CHECK(project_name_valid("library", 7));
    CHECK(project_name_valid("a.b-c__d", 8));
    CHECK(!project_name_valid("a/b", 3));
    CHECK(!project_name_valid("", 0));
    CHECK(!project_name_valid("Lib", 3));
    CHECK(!project_name_valid("lib-", 4));
    memset(s, 'a', 256);
    CHECK(project_name_valid(s, 255));
    CHECK(!project_name_valid(s, 256));
}

static void test_tags(void)
{
    static const char *const good[] = {"latest", "v1.2.3", "V1", "_x", "1", "a-b_c.d", "A..--__"};
    static const char *const bad[] = {"", ".x", "-x", "a b", "a/b", "a:b", "a@b", "ä", "a\n"};
    struct tag t;
    struct berr err;
    char s[200];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        CHECK_INT_EQ(tag_parse(&t, good[i], strlen(good[i]), &err), 0);
        CHECK_STR_EQ(t.s, good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT_EQ(tag_parse(&t, bad[i], strlen(bad[i]), &err), -1);
        CHECK_INT_EQ(err.code, BERR_TAG_INVALID);
        CHECK_STR_EQ(t.s, "");
    }
    memset(s, 'a', sizeof(s));
    CHECK_INT_EQ(tag_parse(&t, s, 128, &err), 0);
    CHECK_INT_EQ(strlen(t.s), 128);
    CHECK_INT_EQ(tag_parse(&t, s, 129, &err), -1);
}

static void test_digests(void)
{
    struct digest d, d2;
    struct berr err;
    char out[DIGEST_STR_LEN + 1];
    const char *ok = "sha256:" HEX64;

    CHECK_INT_EQ(digest_parse(&d, ok, strlen(ok), &err), 0);
    CHECK_STR_EQ(d.hex, HEX64);
    digest_format(&d, out, sizeof(out));
    CHECK_STR_EQ(out, ok);
    CHECK_INT_EQ(digest_parse(&d2, out, strlen(out), &err), 0);
    CHECK(digest_equal(&d, &d2));

    /* upper-case hex */
    CHECK_INT_EQ(digest_parse(&d,
                              "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789"
                              "abcdef",
                              71, &err),
                 -1);
    CHECK_INT_EQ(err.code, BERR_DIGEST_INVALID);
    CHECK_STR_EQ(d.hex, "");
    /* sha512, even well formed, is refused */
    {
        const char *s512 = "sha512:" HEX64 HEX64;
        CHECK_INT_EQ(digest_parse(&d, s512, strlen(s512), &err), -1);
        CHECK_STR_EQ(err.msg, "unsupported digest algorithm");
    }
    CHECK_INT_EQ(digest_parse(&d, "SHA256:" HEX64, 71, &err), -1);
    CHECK_INT_EQ(digest_parse(&d, "sha256:" HEX64 "0", 72, &err), -1);
    CHECK_INT_EQ(digest_parse(&d, "sha256:" HEX64, 70, &err), -1); /* one hex short */
    CHECK_INT_EQ(digest_parse(&d, "sha256:", 7, &err), -1);
    CHECK_INT_EQ(digest_parse(&d, ":" HEX64, 65, &err), -1);
    CHECK_INT_EQ(digest_parse(&d, HEX64, 64, &err), -1);
    CHECK_INT_EQ(digest_parse(&d, "", 0, &err), -1);
    CHECK_INT_EQ(digest_parse(&d,
                              "sha256:g123456789abcdef0123456789abcdef0123456789abcdef0123456789"
                              "abcdef",
                              71, &err),
                 -1);
    CHECK_INT_EQ(digest_parse(&d, "sha256::" HEX64, 72, &err), -1);

    /* digest_of: SHA-256 of "abc" (FIPS 180-2 example) */
    CHECK_INT_EQ(digest_of(&d, "abc", 3), 0);
    CHECK_STR_EQ(d.hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_INT_EQ(digest_of(&d, "", 0), 0);
    CHECK_STR_EQ(d.hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    {
        unsigned char raw[32];
        for (int i = 0; i < 32; i++)
            raw[i] = (unsigned char)(i * 8);
        digest_from_raw(&d, raw);
        CHECK_STR_EQ(d.hex, "0008101820283038404850586068707880889098a0a8b0b8c0c8d0d8e0e8f0f8");
    }
}

static void test_references(void)
{
    struct reference r;
    struct berr err;

    CHECK_INT_EQ(reference_parse(&r, "latest", 6, &err), 0);
    CHECK(!r.is_digest);
    CHECK_STR_EQ(r.tag.s, "latest");
    CHECK_INT_EQ(reference_parse(&r, "sha256:" HEX64, 71, &err), 0);
    CHECK(r.is_digest);
    CHECK_STR_EQ(r.digest.hex, HEX64);
    /* a ':' makes it a digest, so a tag-looking "v1:2" fails as a digest */
    CHECK_INT_EQ(reference_parse(&r, "v1:2", 4, &err), -1);
    CHECK_INT_EQ(err.code, BERR_DIGEST_INVALID);
    CHECK_INT_EQ(reference_parse(&r, ".bad", 4, &err), -1);
    CHECK_INT_EQ(err.code, BERR_TAG_INVALID);
    CHECK_INT_EQ(reference_parse(&r, "", 0, &err), -1);
    CHECK_INT_EQ(err.code, BERR_TAG_INVALID);
}

int main(void)
{
    TEST_RUN(test_names_accepted);
    TEST_RUN(test_names_refused);
    TEST_RUN(test_name_length);
    TEST_RUN(test_tags);
    TEST_RUN(test_digests);
    TEST_RUN(test_references);
    return test_summary();
}
