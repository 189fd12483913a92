/* creds_test.c - the pull credential policy: source order (pod secrets in the order given, then
 * node credentials only with docker_config), no match means anonymous, a bad source stops, a
 * credential helper runs only for a matching key; and every branch of creds_try: anonymous
 * accepted or refused, a refusal moving on, all refused, a non-refusal stopping at once, the
 * tried list without passwords. Files live in a private temp directory; HOME, DOCKER_CONFIG and
 * PATH point into it. */
#include "puller/creds.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/test.h"

static char tmpdir[128];

static void put(const char *name, const char *text, unsigned mode)
{
    char path[512];
    int fd;

    (void)snprintf(path, sizeof(path), "%s/%s", tmpdir, name); /* test paths are short */
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    CHECK_INT_EQ(close(fd), 0);
}

static const char *in_tmp(char *out, size_t cap, const char *name)
{
    (void)snprintf(out, cap, "%s/%s", tmpdir, name); /* test paths are short */
    return out;
}

static void setup(void)
{
    char p[512], path[4096];
    const char *old = getenv("PATH");

    test_mkdtemp(tmpdir, sizeof(tmpdir), "creds-test");
    CHECK_INT_EQ(mkdir(in_tmp(p, sizeof(p), "node"), 0700), 0);
    CHECK_INT_EQ(mkdir(in_tmp(p, sizeof(p), "home"), 0700), 0);
    put("a.json", "{\"auths\":{\"reg.example.com\":{\"username\":\"ua\",\"password\":\"pa\"}}}",
        0600);
    put("b.json",
        "{\"auths\":{\"https://reg.example.com/v1/\":{\"username\":\"ub\",\"password\":\"pb\"}}}",
        0600);
    put("bad.json", "{\"auths\": [", 0600);
    put("node/config.json",
        "{\"auths\":{\"reg.example.com\":{\"username\":\"un\",\"password\":\"pn\"}},"
        "\"credHelpers\":{\"helped.example.com\":\"ctest\",\"other.example.com\":\"ctest\"}}",
        0600);
    put("docker-credential-ctest",
        "#!/bin/sh\n"
        "[ \"$1\" = get ] || exit 3\n"
        "read -r url\n"
        "echo \"$url\" >>\"$(dirname \"$0\")/helper.log\"\n"
        "echo '{\"Username\":\"uh\",\"Secret\":\"ph\"}'\n",
        0755);
    (void)snprintf(path, sizeof(path), "%s:%s", tmpdir, old != NULL ? old : "/usr/bin:/bin");
    CHECK_INT_EQ(setenv("PATH", path, 1), 0);
    CHECK_INT_EQ(setenv("HOME", in_tmp(p, sizeof(p), "home"), 1), 0);
    CHECK_INT_EQ(setenv("DOCKER_CONFIG", in_tmp(p, sizeof(p), "node"), 1), 0);
}

static void test_source_order(void)
{
    char a[512], b[512];
    const char *ab[2], *ba[2];
    struct creds_opts o = {.nsecrets = 2, .docker_config = true};
    struct cred_list l;
    struct berr err = {0};

    ab[0] = ba[1] = in_tmp(a, sizeof(a), "a.json");
    ab[1] = ba[0] = in_tmp(b, sizeof(b), "b.json");
    o.secrets = ab;
    CHECK_INT_EQ(creds_for_image(&l, &o, "reg.example.com/team/app", &err), 0);
    CHECK_INT_EQ(l.n, 3); /* pod a, pod b, then node */
    if (l.n == 3) {
        CHECK_STR_EQ(l.v[0].username, "ua");
        CHECK_STR_EQ(l.v[1].username, "ub");
        CHECK_STR_EQ(l.v[2].username, "un");
        CHECK(strstr(l.v[0].source, "a.json") != NULL);
        CHECK(strstr(l.v[2].source, "config.json") != NULL);
    }
    cred_list_cleanup(&l);

    o.secrets = ba; /* the order of --secret is the order tried */
    CHECK_INT_EQ(creds_for_image(&l, &o, "reg.example.com/team/app", &err), 0);
    CHECK_INT_EQ(l.n, 3);
    if (l.n == 3) {
        CHECK_STR_EQ(l.v[0].username, "ub");
        CHECK_STR_EQ(l.v[1].username, "ua");
        CHECK_STR_EQ(l.v[2].username, "un");
    }
    cred_list_cleanup(&l);

    o.docker_config = false; /* node credentials only when asked */
    CHECK_INT_EQ(creds_for_image(&l, &o, "reg.example.com/team/app", &err), 0);
    CHECK_INT_EQ(l.n, 2);
    cred_list_cleanup(&l);

    o.nsecrets = 0;
    o.docker_config = true; /* node only */
    CHECK_INT_EQ(creds_for_image(&l, &o, "reg.example.com/team/app", &err), 0);
    CHECK_INT_EQ(l.n, 1);
    if (l.n == 1)
        CHECK_STR_EQ(l.v[0].username, "un");
    cred_list_cleanup(&l);

    o.docker_config = false; /* no source at all: anonymous */
    CHECK_INT_EQ(creds_for_image(&l, &o, "reg.example.com/team/app", &err), 0);
    CHECK_INT_EQ(l.n, 0);
    CHECK(l.v == NULL);
}

static void test_no_match_and_bad_sources(void)
{
    char a[512], bad[512], missing[512];
    const char *one[1];
    struct creds_opts o = {.secrets = one, .nsecrets = 1, .docker_config = true};
    struct cred_list l;
    struct berr err = {0};

    one[0] = in_tmp(a, sizeof(a), "a.json");
    CHECK_INT_EQ(creds_for_image(&l, &o, "elsewhere.example.com/app", &err), 0);
    CHECK_INT_EQ(l.n, 0); /* nothing matched: anonymous */

    one[0] = in_tmp(missing, sizeof(missing), "missing.json");
    CHECK_INT_EQ(creds_for_image(&l, &o, "reg.example.com/app", &err), -1);
    CHECK_INT_EQ(l.n, 0);
    CHECK(l.v == NULL);
    CHECK(strstr(err.msg, "missing.json") != NULL);

    one[0] = in_tmp(bad, sizeof(bad), "bad.json");
    CHECK_INT_EQ(creds_for_image(&l, &o, "reg.example.com/app", &err), -1);
    CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);
    CHECK(strstr(err.msg, "bad.json") != NULL);
    CHECK_INT_EQ(l.n, 0);

    /* a node config that does not parse stops too, naming it */
    {
        char p[512], q[512];
        CHECK_INT_EQ(rename(in_tmp(p, sizeof(p), "node/config.json"),
                            in_tmp(q, sizeof(q), "node/config.json.good")),
                     0);
        put("node/config.json", "not json", 0600);
        o.nsecrets = 0;
        CHECK_INT_EQ(creds_for_image(&l, &o, "reg.example.com/app", &err), -1);
        CHECK(strstr(err.msg, "config.json") != NULL);
        CHECK_INT_EQ(rename(q, p), 0);
    }
}

static void test_helper_on_match_only(void)
{
    struct creds_opts o = {.docker_config = true};
    struct cred_list l;
    struct berr err = {0};
    char log[512];
    struct stat st;

    in_tmp(log, sizeof(log), "helper.log");
    (void)unlink(log); /* a fresh log: absent is fine */
    CHECK_INT_EQ(creds_for_image(&l, &o, "reg.example.com/app", &err), 0);
    CHECK_INT_EQ(l.n, 1);
    cred_list_cleanup(&l);
    CHECK(stat(log, &st) < 0); /* no matching helper key: no helper ran */

    CHECK_INT_EQ(creds_for_image(&l, &o, "helped.example.com/app", &err), 0);
    CHECK_INT_EQ(l.n, 1);
    if (l.n == 1) {
        CHECK_STR_EQ(l.v[0].username, "uh");
        CHECK_STR_EQ(l.v[0].password, "ph");
        CHECK(strstr(l.v[0].source, "docker-credential-ctest") != NULL);
    }
    cred_list_cleanup(&l);
    CHECK(stat(log, &st) == 0 && st.st_size == (off_t)strlen("helped.example.com\n"));
}

/* ---- creds_try ---- */

struct script {
    enum berr_code codes[4]; /* per attempt: BERR_OK accepts */
    int attempts;
    int refusals;
    const struct cred *seen[4];
};

static int attempt(const struct cred *cr, struct berr *err, void *ctx)
{
    struct script *s = ctx;
    int i = s->attempts++;

    s->seen[i] = cr;
    if (s->codes[i] == BERR_OK)
        return 0;
    return berr_set(err, s->codes[i], "no%d", i);
}

static void refused(const struct cred *cr, const struct berr *err, void *ctx)
{
    struct script *s = ctx;

    (void)cr;
    CHECK(err->code == BERR_UNAUTHORIZED || err->code == BERR_DENIED);
    s->refusals++;
}

static void test_try(void)
{
    struct cred v[3] = {
            {(char *)"alice", (char *)"pw-alice", (char *)"secret s1"},
            {(char *)"", (char *)"pw-empty", (char *)"secret s2"},
            {(char *)"carol", (char *)"pw-carol", (char *)"node config"},
    };
    struct cred_list none = {NULL, 0}, three = {v, 3};
    struct berr err = {0};
    struct buf tried;

    buf_init(&tried, 4096);
    {
        struct script s = {.codes = {BERR_OK}};
        CHECK_INT_EQ(creds_try(&none, attempt, refused, &s, &tried, &err), 0);
        CHECK_INT_EQ(s.attempts, 1);
        CHECK(s.seen[0] == NULL); /* anonymous */
        CHECK_INT_EQ(tried.len, 0);
    }
    {
        struct script s = {.codes = {BERR_UNAUTHORIZED}};
        CHECK_INT_EQ(creds_try(&none, attempt, refused, &s, &tried, &err), CREDS_ALL_REFUSED);
        CHECK_INT_EQ(s.attempts, 1);
        CHECK_INT_EQ(s.refusals, 0);
        CHECK_STR_EQ(tried.data, "anonymous: no0");
        CHECK_INT_EQ(err.code, BERR_UNAUTHORIZED);
    }
    buf_reset(&tried);
    {
        struct script s = {.codes = {BERR_DENIED, BERR_OK}};
        CHECK_INT_EQ(creds_try(&three, attempt, refused, &s, &tried, &err), 1);
        CHECK_INT_EQ(s.attempts, 2);
        CHECK(s.seen[0] == &v[0] && s.seen[1] == &v[1]);
        CHECK_INT_EQ(s.refusals, 1);
        CHECK_STR_EQ(tried.data, "secret s1 (user alice): no0");
    }
    buf_reset(&tried);
    {
        struct script s = {.codes = {BERR_UNAUTHORIZED, BERR_DENIED, BERR_UNAUTHORIZED}};
        CHECK_INT_EQ(creds_try(&three, attempt, refused, &s, &tried, &err), CREDS_ALL_REFUSED);
        CHECK_INT_EQ(s.attempts, 3); /* never anonymous once a credential matched */
        CHECK_INT_EQ(s.refusals, 2); /* not after the last one */
        CHECK_STR_EQ(tried.data, "secret s1 (user alice): no0; secret s2 (user (empty)): no1; "
                                 "node config (user carol): no2");
        CHECK(strstr(tried.data, "pw-") == NULL);
    }
    buf_reset(&tried);
    {
        struct script s = {.codes = {BERR_NOT_FOUND, BERR_OK}};
        CHECK_INT_EQ(creds_try(&three, attempt, refused, &s, &tried, &err), -1);
        CHECK_INT_EQ(s.attempts, 1); /* not a refusal: stop at once */
        CHECK_INT_EQ(s.refusals, 0);
        CHECK_INT_EQ(err.code, BERR_NOT_FOUND);
        CHECK_STR_EQ(err.msg, "no0");
    }
    {
        struct script s = {.codes = {BERR_UNAUTHORIZED, BERR_UNAUTHORIZED, BERR_OK}};
        CHECK_INT_EQ(creds_try(&three, attempt, NULL, &s, NULL, &err), 2); /* both optional */
        CHECK_INT_EQ(s.attempts, 3);
    }
    buf_cleanup(&tried);
    CHECK_STR_EQ(creds_user(&v[0]), "alice");
    CHECK_STR_EQ(creds_user(&v[1]), "(empty)");
}

int main(void)
{
    setup();
    TEST_RUN(test_source_order);
    TEST_RUN(test_no_match_and_bad_sources);
    TEST_RUN(test_helper_on_match_only);
    TEST_RUN(test_try);
    test_rm_rf(tmpdir);
    return test_summary();
}
