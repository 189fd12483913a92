/* keyring_test.c - kubelet keyring semantics: anchors 3.2 and 3.3 row by row, plus ordering,
 * globs, ports, path prefixes, fallback and the pod/node union. */
#include "puller/keyring.h"

#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "common/test.h"

/* anchors 3.2, then our own rows */
static const char *const norm[][2] = {
        {"https://index.docker.io/v1/", "index.docker.io"},
        {"docker.io", "docker.io"},
        {"harbor.example.com", "harbor.example.com"},
        {"https://harbor.example.com/v2/", "harbor.example.com"},
        {"harbor.example.com:8443", "harbor.example.com:8443"},
        {"harbor.example.com/proj", "harbor.example.com/proj"},
        {"http://10.0.0.5:5000/", "10.0.0.5:5000"},
        {"*.example.com", "*.example.com"},
        /* ours */
        {"https://harbor.example.com/v1/", "harbor.example.com"},
        {"https://harbor.example.com/v2/proj", "harbor.example.com/proj"},
        {"harbor.example.com/v1", "harbor.example.com/v1"}, /* no trailing '/': kept */
        {"harbor.example.com/proj/", "harbor.example.com/proj/"},
        {"https://user:pw@harbor.example.com/", "harbor.example.com"},
        {"harbor.example.com:443", "harbor.example.com:443"},
        {"harbor.example.com?x=1", "harbor.example.com"},
        {"harbor.example.com#frag", "harbor.example.com"},
        {"h?st.example.com", "h"}, /* Go's url.Parse: '?' starts the query */
        {"h[a-z]rbor.example.com", "h[a-z]rbor.example.com"},
        {"HTTPS://x", "HTTPS://x"}, /* scheme prefix is case-sensitive in kubelet */
        {"h.io/a%2Fb", "h.io/a/b"}, /* the path is %-decoded */
        {"[::1]:5000", "[::1]:5000"},
        {"", ""},
};

static const char *const unparseable[] = {
        "[a-z].example.com", /* leading '[' must be an IPv6 literal */
        "host:abc",          /* non-numeric port */
        "a b.example.com",   /* space in host */
        "h.io/%zz",          /* bad escape */
        "h%41.io",           /* ASCII %-escape in a host */
        "tab\there",         /* control byte */
        "ex{a}.com",         /* '{' not allowed in a host */
        "h[^a-z]rbor.io",    /* nor '^' (so no negated classes in keys) */
        "harbor.co\\m",      /* nor '\\' */
};

static void test_normalize(void)
{
    char out[256];

    for (size_t i = 0; i < sizeof(norm) / sizeof(norm[0]); i++) {
        int rc = keyring_normalize_key(out, sizeof(out), norm[i][0]);
        CHECK_INT_EQ(rc, 0);
        CHECK_STR_EQ(out, norm[i][1]);
    }
    for (size_t i = 0; i < sizeof(unparseable) / sizeof(unparseable[0]); i++) {
        int rc = keyring_normalize_key(out, sizeof(out), unparseable[i]);
        if (rc != 1)
            fprintf(stderr, "  key %s -> %d %s\n", unparseable[i], rc, out);
        CHECK_INT_EQ(rc, 1);
    }
    CHECK_INT_EQ(keyring_normalize_key(out, 5, "harbor.example.com"), -1);
    CHECK_STR_EQ(out, "");
}

struct mrow {
    const char *image, *key;
    bool want;
};

/* anchors 3.3 (direct matches; the fallback rows are in test_fallback) and our own */
static const struct mrow matches[] = {
        {"harbor.example.com/proj/app", "harbor.example.com", true},
        {"harbor.example.com/proj/app", "harbor.example.com:443", false},
        {"harbor.example.com:8443/proj/app", "harbor.example.com", false},
        {"a.example.com/x", "*.example.com", true},
        {"a.b.example.com/x", "*.example.com", false},
        {"example.com/x", "*.example.com", false},
        {"harbor.example.com/proj/app", "harbor.example.com/proj", true},
        {"docker.io/library/nginx", "docker.io", true},
        {"docker.io/library/nginx", "index.docker.io", false},
        /* ports, both ways */
        {"harbor.example.com:443/proj/app", "harbor.example.com", false},
        {"harbor.example.com:8443/proj/app", "harbor.example.com:8443", true},
        {"harbor.example.com:8443/proj/app", "harbor.example.com:8444", false},
        /* path prefix is a plain string prefix */
        {"harbor.example.com/project2/app", "harbor.example.com/proj", true},
        {"harbor.example.com/other/app", "harbor.example.com/proj", false},
        {"harbor.example.com/proj", "harbor.example.com/proj/", false},
        {"harbor.example.com/proj/app", "harbor.example.com/proj/", true},
        /* globs per label */
        {"registry.example.com/x", "reg*.example.com", true},
        {"harbor.example.com/x", "h[a-z]rbor.example.com", true},
        {"h0rbor.example.com/x", "h[a-z]rbor.example.com", false},
        {"harbor.example.com/x", "h[!a]rbor.example.com", true},  /* '!' is a member... */
        {"hbrbor.example.com/x", "h[!a]rbor.example.com", false}, /* ...not a negation */
        {"hbrbor.example.com/x", "h[a-c]rbor.example.com", true},
        {"h-rbor.example.com/x", "h[a-c-]rbor.example.com", false}, /* bad pattern */
        {"a.example.com/x", "*.*.com", true},
        {"a.example.com:5000/x", "*.example.com:5000", true},
        {"a.example.com:5000/x", "*.example.com", false},
        {"host.example.com/x", "h?st.example.com", false},     /* '?' never reaches the glob */
        {"harbor.example.com/x", "h[a-.example.com", false},   /* bad pattern: no match */
        {"Harbor.example.com/x", "harbor.example.com", false}, /* case-sensitive */
        {"localhost/app", "localhost", true},
        {"localhost:5000/app", "localhost", false},
        {"10.0.0.5:5000/x", "10.0.0.5:5000", true},
        {"[::1]:5000/app", "[::1]:5000", true},
        {"[::1]:5000/app", "[::1]", false},
        /* look-alike hosts: a key's labels are a prefix (or suffix) of a longer host */
        {"harbor.example.com.evil.io/proj/app", "harbor.example.com", false},
        {"harbor.example.com.evil.io/proj/app", "https://harbor.example.com/v2/", false},
        {"a.example.com.evil.io/x", "*.example.com", false},
        {"a.example.com.evil.io/x", "*.example.com.evil.io", true},
        {"evil.harbor.example.com/proj/app", "harbor.example.com", false},
        {"harbor.example.comevil.io/proj/app", "harbor.example.com", false},
        {"harbor.example.co/proj/app", "harbor.example.com", false},
        {"harbor.example.com.evil.io:8443/proj/app", "harbor.example.com:8443", false},
        {"harbor.example.com:8443.evil.io/proj/app", "harbor.example.com:8443", false},
        {"harbor.example.com:84431/proj/app", "harbor.example.com:8443", false},
        {"harbor.example.com:844/proj/app", "harbor.example.com:8443", false},
        {"harbor.example.com.evil.io/proj/app", "harbor.example.com/proj", false},
        {"evil.io/harbor.example.com/proj/app", "harbor.example.com", false},
        {"a.example.com.evil.io:5000/x", "*.example.com:5000", false},
        {"harbor.example.com/pro/app", "harbor.example.com/proj", false},
        {"harbor.example.com/app/proj", "harbor.example.com/proj", false},
};

static void test_urls_match(void)
{
    for (size_t i = 0; i < sizeof(matches) / sizeof(matches[0]); i++) {
        char key[256];
        bool got;
        CHECK_INT_EQ(keyring_normalize_key(key, sizeof(key), matches[i].key), 0);
        got = keyring_urls_match(key, matches[i].image);
        if (got != matches[i].want)
            fprintf(stderr, "  image %s key %s: got %d\n", matches[i].image, matches[i].key, got);
        CHECK(got == matches[i].want);
    }
}

static void test_default_registry(void)
{
    CHECK(keyring_is_default_registry("nginx"));
    CHECK(keyring_is_default_registry("library/nginx"));
    CHECK(keyring_is_default_registry("docker.io/library/nginx"));
    CHECK(keyring_is_default_registry("index.docker.io/user/app"));
    CHECK(keyring_is_default_registry("localhost/app"));
    CHECK(!keyring_is_default_registry("localhost:5000/app"));
    CHECK(!keyring_is_default_registry("harbor.example.com/proj/app"));
    CHECK(!keyring_is_default_registry("/x"));
    CHECK(!keyring_is_default_registry(""));
}

static struct keyring *mk(void)
{
    struct keyring *k = NULL;
    struct berr err;
    CHECK_INT_EQ(keyring_new(&k, &err), 0);
    return k;
}

static void add(struct keyring *k, enum secret_origin o, const char *key, const char *user)
{
    struct berr err;
    char src[128];
    snprintf(src, sizeof(src), "test %s", user);
    CHECK_INT_EQ(keyring_add(k, o, key, user, "pw-of-" /* never compared */, src, &err), 0);
}

/* users returns the usernames of a lookup joined by ',' */
static const char *users(struct keyring *k, const char *image)
{
    static char out[512];
    struct cred_list l;
    struct berr err;
    size_t off = 0;

    out[0] = '\0';
    if (keyring_lookup(&l, k, image, &err) < 0)
        return "ERROR";
    for (size_t i = 0; i < l.n; i++) {
        int n = snprintf(out + off, sizeof(out) - off, "%s%s", i ? "," : "", l.v[i].username);
        if (n > 0)
            off += (size_t)n;
    }
    cred_list_cleanup(&l);
    CHECK(l.v == NULL && l.n == 0);
    return out;
}

static void test_lookup_table(void)
{
    struct keyring *k;

    /* each anchors 3.3 row with a fresh keyring */
    k = mk();
    add(k, SECRET_POD, "harbor.example.com", "a");
    CHECK_STR_EQ(users(k, "harbor.example.com/proj/app"), "a");
    keyring_free(k);

    k = mk();
    add(k, SECRET_POD, "harbor.example.com:443", "a");
    CHECK_STR_EQ(users(k, "harbor.example.com/proj/app"), "");
    keyring_free(k);

    k = mk();
    add(k, SECRET_POD, "harbor.example.com", "a");
    CHECK_STR_EQ(users(k, "harbor.example.com:8443/proj/app"), "");
    keyring_free(k);

    k = mk();
    add(k, SECRET_POD, "*.example.com", "a");
    CHECK_STR_EQ(users(k, "a.example.com/x"), "a");
    CHECK_STR_EQ(users(k, "a.b.example.com/x"), "");
    CHECK_STR_EQ(users(k, "example.com/x"), "");
    keyring_free(k);

    k = mk();
    add(k, SECRET_POD, "harbor.example.com", "host");
    add(k, SECRET_POD, "harbor.example.com/proj", "proj");
    CHECK_STR_EQ(users(k, "harbor.example.com/proj/app"), "proj,host");
    keyring_free(k);

    k = mk();
    add(k, SECRET_POD, "https://index.docker.io/v1/", "hub");
    CHECK_STR_EQ(users(k, "docker.io/library/nginx"), "hub");
    CHECK_STR_EQ(users(k, "docker.io/myuser/app"), "hub");
    CHECK_STR_EQ(users(k, "localhost/app"), "hub"); /* the anchors' surprise */
    CHECK_STR_EQ(users(k, "localhost:5000/app"), "");
    CHECK_STR_EQ(users(k, "harbor.example.com/proj/app"), "");
    keyring_free(k);

    k = mk();
    add(k, SECRET_POD, "docker.io", "direct");
    CHECK_STR_EQ(users(k, "docker.io/library/nginx"), "direct");
    keyring_free(k);

    /* look-alike hosts get nothing, not even through the default-registry fallback */
    k = mk();
    add(k, SECRET_POD, "harbor.example.com", "host");
    add(k, SECRET_POD, "*.example.com", "glob");
    add(k, SECRET_POD, "harbor.example.com:8443/proj", "port");
    add(k, SECRET_NODE, "index.docker.io", "hub");
    CHECK_STR_EQ(users(k, "harbor.example.com/proj/app"), "host,glob");
    CHECK_STR_EQ(users(k, "harbor.example.com.evil.io/proj/app"), "");
    CHECK_STR_EQ(users(k, "a.example.com.evil.io/x"), "");
    CHECK_STR_EQ(users(k, "harbor.example.com.evil.io:8443/proj/app"), "");
    CHECK_STR_EQ(users(k, "harbor.example.com:8443/proj/app"), "port");
    CHECK_STR_EQ(users(k, "harbor.example.com:8443/pro/app"), "");
    CHECK_STR_EQ(users(k, "harbor.example.com:84431/proj/app"), "");
    CHECK_STR_EQ(users(k, "docker.io/harbor.example.com/app"), "hub");
    keyring_free(k);
}

static void test_order_and_union(void)
{
    struct keyring *k = mk();

    /* several creds under one key keep their order; keys sort reverse-lexicographically */
    add(k, SECRET_POD, "quay.io", "q1");
    add(k, SECRET_POD, "quay.io/coreos", "qc");
    add(k, SECRET_POD, "https://quay.io/v2/", "q2"); /* same normalized key as "quay.io" */
    add(k, SECRET_POD, "*.io", "glob");
    add(k, SECRET_NODE, "quay.io", "node");
    add(k, SECRET_POD, "quay.io/coreos/etcd", "qce");
    CHECK_STR_EQ(users(k, "quay.io/coreos/etcd"), "qce,qc,q1,q2,glob,node");
    CHECK_STR_EQ(users(k, "quay.io/other/x"), "q1,q2,glob,node");
    CHECK_INT_EQ(keyring_count(k), 6);
    /* identical creds are kept, as kubelet keeps them (only keys are deduplicated) */
    add(k, SECRET_POD, "quay.io", "q1");
    CHECK_STR_EQ(users(k, "quay.io/other/x"), "q1,q2,q1,glob,node");
    keyring_free(k);

    /* pod before node even when the node key is more specific */
    k = mk();
    add(k, SECRET_NODE, "harbor.example.com/proj", "nodeproj");
    add(k, SECRET_POD, "harbor.example.com", "pod");
    CHECK_STR_EQ(users(k, "harbor.example.com/proj/app"), "pod,nodeproj");
    keyring_free(k);

    /* the fallback is per sub-keyring: a pod match does not stop the node fallback */
    k = mk();
    add(k, SECRET_POD, "docker.io", "pod");
    add(k, SECRET_NODE, "index.docker.io", "nodehub");
    add(k, SECRET_POD, "index.docker.io", "podhub");
    CHECK_STR_EQ(users(k, "docker.io/library/nginx"), "pod,nodehub");
    CHECK_STR_EQ(users(k, "localhost/app"), "podhub,nodehub");
    CHECK_STR_EQ(users(k, "example.com/app"), "");
    keyring_free(k);

    /* an unparseable key is ignored, not an error */
    k = mk();
    {
        struct berr err;
        CHECK_INT_EQ(keyring_add(k, SECRET_POD, "host:abc", "u", "p", "s", &err), 1);
        CHECK_INT_EQ(keyring_count(k), 0);
        CHECK_INT_EQ(keyring_add_helper(k, SECRET_POD, "h.io", "../x", "s", &err), -1);
        CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);
    }
    keyring_free(k);
    keyring_free(NULL);
}

static void test_cred_fields(void)
{
    struct keyring *k = mk();
    struct cred_list l;
    struct berr err;

    CHECK_INT_EQ(keyring_add(k, SECRET_POD, "h.io", "robot$proj+pull", "s3:cr3t",
                             "secret regcred (file x.yaml) registry h.io", &err),
                 0);
    CHECK_INT_EQ(keyring_lookup(&l, k, "h.io/proj/app", &err), 0);
    CHECK_INT_EQ(l.n, 1);
    if (l.n == 1) {
        CHECK_STR_EQ(l.v[0].username, "robot$proj+pull");
        CHECK_STR_EQ(l.v[0].password, "s3:cr3t");
        CHECK_STR_EQ(l.v[0].source, "secret regcred (file x.yaml) registry h.io");
        CHECK(strstr(l.v[0].source, "s3:cr3t") == NULL);
    }
    cred_list_cleanup(&l);
    cred_list_cleanup(&l); /* idempotent */
    keyring_free(k);
}

static void test_alloc_failures(void)
{
    long injected = 1;

    for (long n = 0; injected > 0 && n < 200; n++) {
        struct keyring *k = NULL;
        struct cred_list l = {0};
        struct berr err;
        mem_fail_after(n);
        if (keyring_new(&k, &err) == 0) {
            (void)keyring_add(k, SECRET_POD, "a.io", "u", "p", "s", &err);
            (void)keyring_add(k, SECRET_POD, "a.io/x", "u2", "p2", "s2", &err);
            (void)keyring_add(k, SECRET_NODE, "a.io", "u3", "p3", "s3", &err);
            if (keyring_lookup(&l, k, "a.io/x/y", &err) == 0)
                cred_list_cleanup(&l);
            else
                CHECK(l.v == NULL && l.n == 0);
            keyring_free(k);
        } else {
            CHECK(k == NULL);
        }
        injected = mem_injected();
        mem_fail_after(-1);
    }
    CHECK_INT_EQ(injected, 0); /* the loop reached a run without any failure */
}

int main(void)
{
    TEST_RUN(test_normalize);
    TEST_RUN(test_urls_match);
    TEST_RUN(test_default_registry);
    TEST_RUN(test_lookup_table);
    TEST_RUN(test_order_and_union);
    TEST_RUN(test_cred_fields);
    TEST_RUN(test_alloc_failures);
    return test_summary();
}
