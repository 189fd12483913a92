/* secrets_test.c - loading Secrets, docker config files and credential helpers into a keyring.
 * Fixtures live in tests/fixtures/secrets/; fake docker-credential-* helpers are written into a
 * temporary directory that is put first on PATH. */
#include "puller/secrets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/test.h"
#include "puller/credhelper.h"
#include "puller/keyring.h"

#define FX "tests/fixtures/secrets/"

static char tmpdir[256];

static struct keyring *mk(void)
{
    struct keyring *k = NULL;
    struct berr err;
    CHECK_INT_EQ(keyring_new(&k, &err), 0);
    return k;
}

/* who returns "user/password" pairs of a lookup joined by ',' ("ERROR: msg" on failure). */
static const char *who(struct keyring *k, const char *image)
{
    static char out[1024];
    struct cred_list l;
    struct berr err = {0};
    size_t off = 0;

    out[0] = '\0';
    if (keyring_lookup(&l, k, image, &err) < 0) {
        snprintf(out, sizeof(out), "ERROR: %s", err.msg);
        return out;
    }
    for (size_t i = 0; i < l.n; i++) {
        int n = snprintf(out + off, sizeof(out) - off, "%s%s/%s", i ? "," : "", l.v[i].username,
                         l.v[i].password);
        if (n > 0 && (size_t)n < sizeof(out) - off)
            off += (size_t)n;
    }
    cred_list_cleanup(&l);
    return out;
}

static const char *first_source(struct keyring *k, const char *image)
{
    static char out[1024];
    struct cred_list l;
    struct berr err;

    out[0] = '\0';
    if (keyring_lookup(&l, k, image, &err) == 0 && l.n > 0)
        snprintf(out, sizeof(out), "%s", l.v[0].source);
    cred_list_cleanup(&l);
    return out;
}

static int load(struct keyring *k, const char *file, struct berr *err)
{
    return secrets_load_file(k, file, SECRET_POD, false, err);
}

static int load_str(struct keyring *k, const char *s, struct berr *err)
{
    return secrets_load_buffer(k, s, strlen(s), "inline.yaml", SECRET_POD, false, err);
}

static void test_kubectl_yaml(void)
{
    struct keyring *k = mk();
    struct berr err = {0};

    CHECK_INT_EQ(load(k, FX "regcred.yaml", &err), 0);
    /* auth overrides username/password */
    CHECK_STR_EQ(who(k, "harbor.example.com/proj/app"), "robot$proj+pull/s3cr3t");
    /* https://index.docker.io/v1/ via the default-registry fallback */
    CHECK_STR_EQ(who(k, "docker.io/library/nginx"), "hubuser/hubpass");
    CHECK_STR_EQ(who(k, "ghcr.io/x/y"), "");
    CHECK_STR_EQ(first_source(k, "harbor.example.com/proj/app"),
                 "secret regcred (file " FX "regcred.yaml, key .dockerconfigjson) registry "
                 "harbor.example.com");
    keyring_free(k);
}

static void test_kubectl_json_unpadded(void)
{
    struct keyring *k = mk();
    struct berr err = {0};

    CHECK_INT_EQ(load(k, FX "regcred.json", &err), 0);
    /* unpadded auth, split at the first ':' */
    CHECK_STR_EQ(who(k, "quay.io/org/app"), "quser/qp:with:colons");
    keyring_free(k);
}

static void test_dockercfg_legacy(void)
{
    struct keyring *k = mk();
    struct berr err = {0};

    CHECK_INT_EQ(load(k, FX "dockercfg.yaml", &err), 0);
    CHECK_STR_EQ(who(k, "legacy.example.com/a/b"), "legacyuser/legacypw");
    keyring_free(k);
}

static void test_list_and_opaque(void)
{
    struct keyring *k = mk();
    struct berr err = {0};

    CHECK_INT_EQ(secrets_load_file(k, FX "list.yaml", SECRET_POD, true, &err), 0);
    /* the Opaque secret with the same JSON is ignored */
    CHECK_STR_EQ(who(k, "list.example.com/a"), "listuser/listpw");
    CHECK_INT_EQ(keyring_count(k), 1);
    keyring_free(k);
}

static void test_multi_doc_stringdata(void)
{
    struct keyring *k = mk();
    struct berr err = {0};

    CHECK_INT_EQ(load(k, FX "multi.yaml", &err), 0);
    /* two secrets, keys normalizing to the same host: both, in file order */
    CHECK_STR_EQ(who(k, "multi.example.com/a"), "first/firstpw,second/secondpw");
    keyring_free(k);
}

static void test_bare_dockerconfigjson(void)
{
    struct keyring *k = mk();
    struct berr err = {0};

    CHECK_INT_EQ(load(k, FX "bare.dockerconfigjson", &err), 0);
    CHECK_STR_EQ(who(k, "bare.example.com/a"), "bareuser/barepw");
    keyring_free(k);
}

static void test_bad_auth_names_everything(void)
{
    struct keyring *k = mk();
    struct berr err = {0};

    CHECK_INT_EQ(load(k, FX "bad-auth.yaml", &err), -1);
    CHECK_INT_EQ(err.code, BERR_BAD_REQUEST);
    CHECK(strstr(err.msg, "bad-auth.yaml") != NULL);
    CHECK(strstr(err.msg, "secret broken") != NULL);
    CHECK(strstr(err.msg, ".dockerconfigjson") != NULL);
    CHECK(strstr(err.msg, "harbor.example.com") != NULL);
    CHECK(strstr(err.msg, "':'") != NULL);
    CHECK(strstr(err.msg, "nocolonhere") == NULL);
    keyring_free(k);
}

struct bad_case {
    const char *doc, *want;
};

#define SECRET_HEAD                                                                                \
    "apiVersion: v1\nkind: Secret\nmetadata: {name: s1}\ntype: kubernetes.io/dockerconfigjson\n"

static void test_bad_inputs(void)
{
    static const struct bad_case cases[] = {
            {SECRET_HEAD "data: {.dockerconfigjson: 'not base64!'}\n", "not valid base64"},
            {SECRET_HEAD "stringData: {.dockerconfigjson: '{\"auths\": '}\n", "invalid JSON"},
            {SECRET_HEAD "stringData: {.dockerconfigjson: '{\"auths\": {\"h.io\": "
                         "{\"auth\": \"@@@\"}}}'}\n",
             "not valid base64"},
            {SECRET_HEAD "stringData: {.dockerconfigjson: '{\"auths\": {\"h.io\": "
                         "{\"username\": 5}}}'}\n",
             "must be strings"},
            {SECRET_HEAD "stringData: {.dockerconfigjson: '{\"auths\": {\"h.io\": [1]}}'}\n",
             "not an object"},
            {SECRET_HEAD "stringData: {.dockerconfigjson: '{\"auths\": [1]}'}\n",
             "map of registry"},
            {SECRET_HEAD "stringData: {.dockerconfigjson: '{\"auths\": {}, \"HttpHeaders\": "
                         "{\"a\": 1}}'}\n",
             "HttpHeaders"},
            /* a space before the auth is not skipped by Go's decoder */
            {SECRET_HEAD "stringData: {.dockerconfigjson: '{\"auths\": {\"h.io\": "
                         "{\"auth\": \" dTpw\"}}}'}\n",
             "not valid base64"},
            /* padded form chosen by a trailing '=' but wrong length */
            {SECRET_HEAD "stringData: {.dockerconfigjson: '{\"auths\": {\"h.io\": "
                         "{\"auth\": \"dTpwc=\"}}}'}\n",
             "not valid base64"},
            {"kind: Secret\ntype: kubernetes.io/dockercfg\nmetadata: {name: s2}\n"
             "stringData: {.dockercfg: '[1]'}\n",
             "secret s2: key .dockercfg"},
            {"a: [unclosed\n", "YAML error"},
            {"- 1\n- 2\n", "not a mapping"},
            {"{\"kind\": \"List\", \"items\": {}}", "not a sequence"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct keyring *k = mk();
        struct berr err = {0};
        CHECK_INT_EQ(load_str(k, cases[i].doc, &err), -1);
        if (strstr(err.msg, cases[i].want) == NULL)
            fprintf(stderr, "  case %zu: got \"%s\", want \"%s\"\n", i, err.msg, cases[i].want);
        CHECK(strstr(err.msg, cases[i].want) != NULL);
        CHECK(strstr(err.msg, "inline.yaml") != NULL);
        keyring_free(k);
    }
}

static void test_entry_decoding(void)
{
    struct keyring *k = mk();
    struct berr err = {0};

    /* Go's json matches field names case-insensitively; the last occurrence wins; padded
     * auth with a newline; an entry without credentials is kept (kubelet keeps it); null
     * entries decode as empty; unknown fields are ignored; identitytoken is not read */
    CHECK_INT_EQ(load_str(k,
                          SECRET_HEAD "stringData:\n  .dockerconfigjson: |\n"
                                      "    {\"AUTHS\": {\n"
                                      "      \"a.io\": {\"Username\": \"x\", \"username\": \"ua\","
                                      " \"PASSWORD\": \"pa\", \"identitytoken\": \"tok\"},\n"
                                      "      \"b.io\": {\"auth\": \"dWI6cGI=\\n\"},\n"
                                      "      \"c.io\": {},\n"
                                      "      \"d.io\": null,\n"
                                      "      \"e.io\": {\"auth\": \"\", \"username\": \"ue\","
                                      " \"extra\": [1, {}]},\n"
                                      "      \"host:abc\": {\"username\": \"ignored\"}\n"
                                      "    }, \"HttpHeaders\": {\"User-Agent\": \"x\"}}\n",
                          &err),
                 0);
    CHECK_STR_EQ(who(k, "a.io/x"), "ua/pa");
    CHECK_STR_EQ(who(k, "b.io/x"), "ub/pb");
    CHECK_STR_EQ(who(k, "c.io/x"), "/");
    CHECK_STR_EQ(who(k, "d.io/x"), "/");
    CHECK_STR_EQ(who(k, "e.io/x"), "ue/");
    CHECK_INT_EQ(keyring_count(k), 5); /* host:abc ignored as kubelet ignores it */
    keyring_free(k);

    /* secrets without the key, with an empty key, or of other types contribute nothing */
    k = mk();
    CHECK_INT_EQ(load_str(k,
                          SECRET_HEAD "data: {}\n---\n" SECRET_HEAD
                                      "data: {.dockerconfigjson: ''}\n---\n"
                                      "kind: Secret\nmetadata: {name: o}\ntype: Opaque\n"
                                      "stringData: {.dockerconfigjson: '{\"auths\": "
                                      "{\"o.io\": {\"username\": \"u\"}}}'}\n---\n"
                                      "kind: Secret\nmetadata: {name: t}\n"
                                      "stringData: {.dockerconfigjson: '{\"auths\": "
                                      "{\"o.io\": {\"username\": \"u\"}}}'}\n---\n"
                                      "kind: Secret\nmetadata: {name: wrongkey}\n"
                                      "type: kubernetes.io/dockercfg\n"
                                      "stringData: {.dockerconfigjson: '{\"auths\": "
                                      "{\"o.io\": {\"username\": \"u\"}}}'}\n",
                          &err),
                 0);
    CHECK_INT_EQ(keyring_count(k), 0);
    keyring_free(k);

    /* stringData wins over data for the same key, as the API server merges them */
    k = mk();
    CHECK_INT_EQ(load_str(k,
                          SECRET_HEAD "data: {.dockerconfigjson: 'bm90IGpzb24='}\n"
                                      "stringData: {.dockerconfigjson: '{\"auths\": "
                                      "{\"s.io\": {\"username\": \"sd\"}}}'}\n",
                          &err),
                 0);
    CHECK_STR_EQ(who(k, "s.io/x"), "sd/");
    keyring_free(k);
}

static void test_yaml_bomb(void)
{
    struct keyring *k = mk();
    struct berr err = {0};
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";

    CHECK_INT_EQ(load_str(k, bomb, &err), -1);
    CHECK(strstr(err.msg, "too large") != NULL);
    keyring_free(k);
}

static void test_missing_file(void)
{
    struct keyring *k = mk();
    struct berr err = {0};

    CHECK_INT_EQ(load(k, FX "does-not-exist.yaml", &err), -1);
    CHECK(strstr(err.msg, "does-not-exist.yaml") != NULL);
    keyring_free(k);
}

/* ---- credential helpers and docker config -------------------------------------------- */

static void write_file(const char *path, const char *content, mode_t mode)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    CHECK(fputs(content, f) >= 0);
    CHECK_INT_EQ(fclose(f), 0);
    CHECK_INT_EQ(chmod(path, mode), 0);
}

static void setup_helpers(void)
{
    char path[512], newpath[4096];
    const char *old = getenv("PATH");

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/berth-secrets-test-XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
    snprintf(path, sizeof(path), "%s/docker-credential-test", tmpdir);
    write_file(path,
               "#!/bin/sh\n"
               "[ \"$1\" = get ] || exit 3\n"
               "read -r url\n"
               "case \"$url\" in\n"
               "helped.example.com) echo '{\"ServerURL\":\"x\",\"Username\":\"helpuser\","
               "\"Secret\":\"helppw\"}' ;;\n"
               "store.example.com) echo '{\"Username\":\"storeuser\",\"Secret\":\"storepw\"}' ;;\n"
               "token.example.com) echo '{\"Username\":\"<token>\",\"Secret\":\"idtok\"}' ;;\n"
               "garbage.example.com) echo 'hello' ;;\n"
               "fail.example.com) echo 'boom' >&2; exit 7 ;;\n"
               "*) echo 'credentials not found in native keychain'; exit 1 ;;\n"
               "esac\n",
               0755);
    snprintf(path, sizeof(path), "%s/docker-credential-slow", tmpdir);
    write_file(path, "#!/bin/sh\nexec sleep 5\n", 0755);
    snprintf(newpath, sizeof(newpath), "%s:%s", tmpdir, old != NULL ? old : "/usr/bin:/bin");
    CHECK_INT_EQ(setenv("PATH", newpath, 1), 0);
}

static void test_credhelper_direct(void)
{
    char *u = NULL, *s = NULL;
    struct berr err = {0};

    CHECK_INT_EQ(credhelper_get(&u, &s, "test", "helped.example.com", 0, &err), CREDHELPER_FOUND);
    CHECK_STR_EQ(u, "helpuser");
    CHECK_STR_EQ(s, "helppw");
    mem_free(u);
    mem_free(s);
    CHECK_INT_EQ(credhelper_get(&u, &s, "test", "nothing.example.com", 0, &err),
                 CREDHELPER_NOT_FOUND);
    CHECK(u == NULL && s == NULL);
    CHECK_INT_EQ(credhelper_get(&u, &s, "test", "token.example.com", 0, &err),
                 CREDHELPER_IDENTITY_TOKEN);
    mem_free(u);
    mem_free(s);
    CHECK_INT_EQ(credhelper_get(&u, &s, "test", "fail.example.com", 0, &err), -1);
    CHECK(strstr(err.msg, "exited with 7") != NULL);
    CHECK_INT_EQ(credhelper_get(&u, &s, "test", "garbage.example.com", 0, &err), -1);
    CHECK(strstr(err.msg, "answer") != NULL);
    CHECK_INT_EQ(credhelper_get(&u, &s, "nonexistent-helper", "x", 0, &err), -1);
    CHECK(strstr(err.msg, "not found on PATH") != NULL);
    CHECK_INT_EQ(credhelper_get(&u, &s, "../../bin/sh", "x", 0, &err), -1);
    {
        int64_t t0 = 0;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        t0 = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        CHECK_INT_EQ(credhelper_get(&u, &s, "slow", "x", 300, &err), -1);
        CHECK(strstr(err.msg, "timed out") != NULL);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        CHECK((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0 < 3000);
    }
    CHECK(u == NULL && s == NULL);
}

static void test_config_json_helpers(void)
{
    struct keyring *k = mk();
    struct berr err = {0};

    static const char cfg[] =
            "{\"auths\": {\"static.example.com\": {\"auth\": \"c3U6c3A=\"},\n"
            "  \"helped.example.com\": {}, \"token.example.com\": {}},\n"
            " \"credHelpers\": {\"helped.example.com\": \"test\",\n"
            "  \"token.example.com\": \"test\", \"nothing.example.com\": \"test\",\n"
            "  \"fail.example.com\": \"test\"},\n"
            " \"psFormat\": \"table\"}";

    CHECK_INT_EQ(secrets_load_buffer(k, cfg, strlen(cfg), "config.json", SECRET_NODE, false, &err),
                 0);
    CHECK_STR_EQ(who(k, "static.example.com/a"), "su/sp");
    CHECK_STR_EQ(who(k, "helped.example.com/a"), "helpuser/helppw");
    CHECK(strstr(first_source(k, "helped.example.com/a"), "docker-credential-test") != NULL);
    CHECK_STR_EQ(who(k, "token.example.com/a"), ""); /* identity token: skipped with a note */
    CHECK_STR_EQ(who(k, "nothing.example.com/a"), "");
    CHECK(strstr(who(k, "fail.example.com/a"), "ERROR: docker-credential-test") != NULL);
    keyring_free(k);

    /* credsStore: every auths entry is looked up in the store, as docker does */
    k = mk();
    CHECK_INT_EQ(load(k, FX "config.json", &err), 0);
    CHECK_STR_EQ(who(k, "store.example.com/a"), "storeuser/storepw");
    CHECK_STR_EQ(who(k, "helped.example.com/a"), "helpuser/helppw");
    CHECK_STR_EQ(who(k, "static.example.com/a"), ""); /* store has nothing: docker ignores it */
    keyring_free(k);

    /* a bad helper name is an error naming the file */
    k = mk();
    CHECK_INT_EQ(load_str(k, "{\"credHelpers\": {\"x.io\": \"../evil\"}}", &err), -1);
    CHECK(strstr(err.msg, "inline.yaml") != NULL && strstr(err.msg, "x.io") != NULL);
    keyring_free(k);
}

static void test_docker_config_paths(void)
{
    char home[512], dir[600], path[700];
    struct keyring *k;
    struct berr err = {0};
    const char *old_home = getenv("HOME");
    char saved_home[512];

    snprintf(saved_home, sizeof(saved_home), "%s", old_home != NULL ? old_home : "/root");
    snprintf(home, sizeof(home), "%s/home", tmpdir);
    CHECK_INT_EQ(mkdir(home, 0700), 0);
    CHECK_INT_EQ(setenv("HOME", home, 1), 0);
    CHECK_INT_EQ(unsetenv("DOCKER_CONFIG"), 0);

    /* nothing there: fine, nothing added */
    k = mk();
    CHECK_INT_EQ(secrets_load_docker_config(k, false, &err), 0);
    CHECK_INT_EQ(keyring_count(k), 0);
    keyring_free(k);

    /* only ~/.dockercfg */
    snprintf(path, sizeof(path), "%s/.dockercfg", home);
    write_file(path, "{\"old.example.com\": {\"auth\": \"b3U6b3A=\"}}", 0600);
    k = mk();
    CHECK_INT_EQ(secrets_load_docker_config(k, false, &err), 0);
    CHECK_STR_EQ(who(k, "old.example.com/x"), "ou/op");
    keyring_free(k);

    /* ~/.docker/config.json present: .dockercfg is not read (kubelet reads the first found) */
    snprintf(dir, sizeof(dir), "%s/.docker", home);
    CHECK_INT_EQ(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/config.json", dir);
    write_file(path, "{\"auths\": {\"node.example.com\": {\"auth\": \"bnU6bnA=\"}}}", 0600);
    k = mk();
    CHECK_INT_EQ(secrets_load_docker_config(k, false, &err), 0);
    CHECK_STR_EQ(who(k, "node.example.com/x"), "nu/np");
    CHECK_STR_EQ(who(k, "old.example.com/x"), "");
    /* node creds come after pod creds */
    CHECK_INT_EQ(load_str(k,
                          SECRET_HEAD "stringData: {.dockerconfigjson: '{\"auths\": "
                                      "{\"node.example.com\": {\"username\": \"pod\"}}}'}\n",
                          &err),
                 0);
    CHECK_STR_EQ(who(k, "node.example.com/x"), "pod/,nu/np");
    keyring_free(k);

    /* $DOCKER_CONFIG wins over ~/.docker */
    snprintf(dir, sizeof(dir), "%s/dc", tmpdir);
    CHECK_INT_EQ(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/config.json", dir);
    write_file(path, "{\"auths\": {\"dc.example.com\": {\"username\": \"dcu\"}}}", 0600);
    CHECK_INT_EQ(setenv("DOCKER_CONFIG", dir, 1), 0);
    k = mk();
    CHECK_INT_EQ(secrets_load_docker_config(k, false, &err), 0);
    CHECK_STR_EQ(who(k, "dc.example.com/x"), "dcu/");
    CHECK_STR_EQ(who(k, "node.example.com/x"), "");
    keyring_free(k);

    /* a broken config.json is an error naming it */
    write_file(path, "{\"auths\": ", 0600);
    k = mk();
    CHECK_INT_EQ(secrets_load_docker_config(k, false, &err), -1);
    CHECK(strstr(err.msg, "config.json") != NULL);
    keyring_free(k);
    CHECK_INT_EQ(unsetenv("DOCKER_CONFIG"), 0);
    CHECK_INT_EQ(setenv("HOME", saved_home, 1), 0);
}

static void test_alloc_failures(void)
{
    long injected = 1;
    char *data = NULL;
    FILE *f = fopen(FX "regcred.yaml", "r");
    size_t len = 0;

    CHECK(f != NULL);
    if (f == NULL)
        return;
    data = malloc(8192);
    CHECK(data != NULL);
    if (data != NULL)
        len = fread(data, 1, 8192, f);
    fclose(f);
    for (long n = 0; data != NULL && injected > 0 && n < 500; n++) {
        struct keyring *k = mk();
        struct berr err = {0};
        int rc;
        mem_fail_after(n);
        rc = secrets_load_buffer(k, data, len, "x.yaml", SECRET_POD, false, &err);
        injected = mem_injected();
        mem_fail_after(-1);
        if (injected == 0)
            CHECK_INT_EQ(rc, 0);
        keyring_free(k);
    }
    CHECK_INT_EQ(injected, 0);
    free(data);
}

static void cleanup_tmp(void)
{
    char cmd[600];
    /* test-only cleanup of our own mkdtemp directory */
    snprintf(cmd, sizeof(cmd), "%s", tmpdir);
    if (strncmp(cmd, "/tmp/berth-secrets-test-", 24) != 0)
        return;
    const char *files[] = {"docker-credential-test",   "docker-credential-slow", "home/.dockercfg",
                           "home/.docker/config.json", "dc/config.json",         NULL};
    for (size_t i = 0; files[i] != NULL; i++) {
        char p[700];
        snprintf(p, sizeof(p), "%s/%s", tmpdir, files[i]);
        (void)unlink(p); /* best effort cleanup in a test */
    }
    const char *dirs[] = {"home/.docker", "home", "dc", "", NULL};
    for (size_t i = 0; dirs[i] != NULL; i++) {
        char p[700];
        snprintf(p, sizeof(p), "%s/%s", tmpdir, dirs[i]);
        (void)rmdir(p);
    }
}

int main(void)
{
    mem_install_json();
    TEST_RUN(test_kubectl_yaml);
    TEST_RUN(test_kubectl_json_unpadded);
    TEST_RUN(test_dockercfg_legacy);
    TEST_RUN(test_list_and_opaque);
    TEST_RUN(test_multi_doc_stringdata);
    TEST_RUN(test_bare_dockerconfigjson);
    TEST_RUN(test_bad_auth_names_everything);
    TEST_RUN(test_bad_inputs);
    TEST_RUN(test_entry_decoding);
    TEST_RUN(test_yaml_bomb);
    TEST_RUN(test_missing_file);
    setup_helpers();
    TEST_RUN(test_credhelper_direct);
    TEST_RUN(test_config_json_helpers);
    TEST_RUN(test_docker_config_paths);
    TEST_RUN(test_alloc_failures);
    cleanup_tmp();
    return test_summary();
}
