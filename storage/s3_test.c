/* s3_test.c - storage/s3.c against a real S3 server.
 *
 * Runs when S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY are set (tests/blackbox/s3_store.sh sets
 * them for the radosgw of scripts/radosgw.sh); without them it reports itself skipped. Uses a
 * fresh bucket per run. */
#include "storage/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/mem.h"
#include "common/test.h"

static struct s3 *cli;
static const char *env_ep, *env_ak;

static int count_key(const char *key, uint64_t size, int64_t mtime, void *ctx)
{
    int *n = ctx;

    (void)key;
    (void)size;
    CHECK(mtime > 1700000000);
    (*n)++;
    return 0;
}

static void test_objects(void)
{
    char buf[64];
    uint64_t size = 0;
    int64_t mtime = 0;
    size_t got = 0;
    struct berr err;
    int n = 0;

    CHECK_INT_EQ(s3_put(cli, "a/b c+d", "hello world", 11, &err), 0);
    CHECK_INT_EQ(s3_head(cli, "a/b c+d", &size, &mtime, &err), 1);
    CHECK_INT_EQ(size, 11);
    CHECK(mtime > 1700000000);
    CHECK_INT_EQ(s3_get_range(cli, "a/b c+d", 6, 5, buf, &got, &err), 0);
    CHECK_INT_EQ(got, 5);
    CHECK(memcmp(buf, "world", 5) == 0);
    CHECK_INT_EQ(s3_head(cli, "a/missing", &size, NULL, &err), 0);
    CHECK_INT_EQ(s3_get_range(cli, "a/missing", 0, 5, buf, &got, &err), -1);
    CHECK_INT_EQ(err.code, BERR_NOT_FOUND);
    CHECK_INT_EQ(s3_copy(cli, "b/copy", "a/b c+d", 11, &err), 0);
    CHECK_INT_EQ(s3_get_range(cli, "b/copy", 0, 11, buf, &got, &err), 0);
    CHECK(got == 11 && memcmp(buf, "hello world", 11) == 0);
    CHECK_INT_EQ(s3_copy(cli, "b/copy2", "a/missing", 11, &err), -1);
    CHECK_INT_EQ(s3_put(cli, "a/empty", "", 0, &err), 0);
    CHECK_INT_EQ(s3_head(cli, "a/empty", &size, NULL, &err), 1);
    CHECK_INT_EQ(size, 0);
    CHECK_INT_EQ(s3_list(cli, "a/", count_key, &n, &err), 0);
    CHECK_INT_EQ(n, 2);
    CHECK_INT_EQ(s3_delete(cli, "a/b c+d", &err), 0);
    CHECK_INT_EQ(s3_delete(cli, "a/b c+d", &err), 0);
    n = 0;
    CHECK_INT_EQ(s3_list(cli, "a/", count_key, &n, &err), 0);
    CHECK_INT_EQ(n, 1);
}

/* more than one page of ListObjectsV2 (1000 keys a page) */
static void test_list_pages(void)
{
    char key[64];
    struct berr err;
    int n = 0, ok = 1;

    for (int i = 0; i < 1005 && ok; i++) {
        snprintf(key, sizeof(key), "many/%04d", i);
        ok = s3_put(cli, key, "x", 1, &err) == 0;
    }
    CHECK(ok);
    CHECK_INT_EQ(s3_list(cli, "many/", count_key, &n, &err), 0);
    CHECK_INT_EQ(n, 1005);
}

struct mpu_seen {
    const char *id;
    int found;
};

static int find_mpu(const char *key, const char *id, int64_t initiated, void *ctx)
{
    struct mpu_seen *m = ctx;

    CHECK(initiated > 1700000000);
    if (strcmp(key, "mp/data") == 0 && strcmp(id, m->id) == 0)
        m->found++;
    return 0;
}

static void test_multipart(void)
{
    size_t part = S3_MIN_PART_BYTES, tail = 3 * 1024;
    char *data = mem_calloc(1, part + tail);
    char id[S3_UPLOAD_ID_MAX], id2[S3_UPLOAD_ID_MAX], out[16];
    struct s3_part parts[2];
    struct mpu_seen seen;
    uint64_t size = 0;
    size_t got;
    struct berr err;

    if (data == NULL)
        exit(2);
    for (size_t i = 0; i < part + tail; i++)
        data[i] = (char)(i * 7 + i / 4096);
    CHECK_INT_EQ(s3_mpu_create(cli, "mp/data", id, &err), 0);
    seen = (struct mpu_seen){id, 0};
    CHECK_INT_EQ(s3_mpu_list(cli, "mp/", find_mpu, &seen, &err), 0);
    CHECK_INT_EQ(seen.found, 1);
    parts[0].number = 1;
    parts[1].number = 2;
    CHECK_INT_EQ(s3_mpu_part(cli, "mp/data", id, 1, data, part, parts[0].etag, &err), 0);
    CHECK_INT_EQ(s3_mpu_part(cli, "mp/data", id, 2, data + part, tail, parts[1].etag, &err), 0);
    CHECK_INT_EQ(s3_mpu_complete(cli, "mp/data", id, parts, 2, &err), 0);
    CHECK_INT_EQ(s3_head(cli, "mp/data", &size, NULL, &err), 1);
    CHECK_INT_EQ(size, part + tail);
    CHECK_INT_EQ(s3_get_range(cli, "mp/data", part - 8, 16, out, &got, &err), 0);
    CHECK(got == 16 && memcmp(out, data + part - 8, 16) == 0);
    seen.found = 0;
    CHECK_INT_EQ(s3_mpu_list(cli, "mp/", find_mpu, &seen, &err), 0);
    CHECK_INT_EQ(seen.found, 0);

    /* a part under 5 MiB that is not the last is refused at complete */
    CHECK_INT_EQ(s3_mpu_create(cli, "mp/small", id2, &err), 0);
    CHECK_INT_EQ(s3_mpu_part(cli, "mp/small", id2, 1, data, 1024 * 1024, parts[0].etag, &err), 0);
    CHECK_INT_EQ(s3_mpu_part(cli, "mp/small", id2, 2, data, 1024, parts[1].etag, &err), 0);
    CHECK_INT_EQ(s3_mpu_complete(cli, "mp/small", id2, parts, 2, &err), -1);
    CHECK(strstr(err.msg, "EntityTooSmall") != NULL);
    CHECK_INT_EQ(s3_mpu_abort(cli, "mp/small", id2, &err), 0);
    CHECK_INT_EQ(s3_mpu_abort(cli, "mp/small", id2, &err), 0);

    /* part copy: a new object from ranges of another */
    CHECK_INT_EQ(s3_mpu_create(cli, "mp/copy", id2, &err), 0);
    CHECK_INT_EQ(s3_mpu_part_copy(cli, "mp/copy", id2, 1, "mp/data", 0, part, parts[0].etag, &err),
                 0);
    CHECK_INT_EQ(
            s3_mpu_part_copy(cli, "mp/copy", id2, 2, "mp/data", part, tail, parts[1].etag, &err),
            0);
    CHECK_INT_EQ(s3_mpu_complete(cli, "mp/copy", id2, parts, 2, &err), 0);
    CHECK_INT_EQ(s3_head(cli, "mp/copy", &size, NULL, &err), 1);
    CHECK_INT_EQ(size, part + tail);
    mem_free(data);
}

/* a presigned GET fetches the object with no other credential; the same URL refuses HEAD */
static void test_presign(void)
{
    char url[4096];
    CURL *h = curl_easy_init();
    long status = 0;
    struct berr err;
    FILE *devnull = fopen("/dev/null", "w");

    CHECK_INT_EQ(s3_put(cli, "p/obj", "presigned", 9, &err), 0);
    CHECK_INT_EQ(s3_presign_url(cli, "GET", "p/obj", 60, url, sizeof(url), &err), 0);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, devnull);
    CHECK_INT_EQ(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    CHECK_INT_EQ(status, 200);
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    CHECK_INT_EQ(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    CHECK_INT_EQ(status, 403);
    CHECK_INT_EQ(s3_presign_url(cli, "HEAD", "p/obj", 60, url, sizeof(url), &err), 0);
    curl_easy_setopt(h, CURLOPT_URL, url);
    CHECK_INT_EQ(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    CHECK_INT_EQ(status, 200);
    curl_easy_cleanup(h);
    fclose(devnull);
}

static void test_bad_secret(void)
{
    struct s3_opts o = {env_ep, NULL, s3_bucket(cli), env_ak, "wrong-secret", 1, 10};
    struct s3 *bad = NULL;
    uint64_t size;
    struct berr err;

    CHECK_INT_EQ(s3_new(&bad, &o, &err), 0);
    CHECK_INT_EQ(s3_put(bad, "x", "y", 1, &err), -1);
    CHECK(strstr(err.msg, "SignatureDoesNotMatch") != NULL);
    CHECK(strstr(err.msg, "wrong-secret") == NULL);
    CHECK_INT_EQ(s3_head(bad, "p/obj", &size, NULL, &err), -1);
    s3_free(bad);
    /* nothing listens: a bounded number of retries, then an error */
    o = (struct s3_opts){"http://127.0.0.1:9", NULL, "b", "a", "s", 2, 5};
    CHECK_INT_EQ(s3_new(&bad, &o, &err), 0);
    CHECK_INT_EQ(s3_put(bad, "x", "y", 1, &err), -1);
    s3_free(bad);
    o.endpoint = "ftp://x";
    CHECK_INT_EQ(s3_new(&bad, &o, &err), -1);
    o.endpoint = "http://h/path";
    CHECK_INT_EQ(s3_new(&bad, &o, &err), -1);
}

static int print_key(const char *key, uint64_t size, int64_t mtime, void *ctx)
{
    (void)mtime;
    (void)ctx;
    printf("%s %llu\n", key, (unsigned long long)size);
    return 0;
}

static int print_upload(const char *key, const char *id, int64_t initiated, void *ctx)
{
    (void)initiated;
    (void)ctx;
    printf("%s %s\n", key, id);
    return 0;
}

/* s3_test --list BUCKET PREFIX | --uploads BUCKET PREFIX: print the objects (key size) or the
 * multipart uploads in progress (key upload-id) under PREFIX, for the black-box tests. */
static int tool(const char *what, const char *bucket, const char *prefix, const char *ep,
                const char *ak, const char *sk)
{
    struct s3_opts o = {ep, NULL, bucket, ak, sk, 0, 0};
    struct berr err;
    int rc;

    if (s3_new(&cli, &o, &err) < 0) {
        fprintf(stderr, "s3_test: %s\n", err.msg);
        return 2;
    }
    if (strcmp(what, "--list") == 0)
        rc = s3_list(cli, prefix, print_key, NULL, &err);
    else
        rc = s3_mpu_list(cli, prefix, print_upload, NULL, &err);
    if (rc < 0)
        fprintf(stderr, "s3_test: %s\n", err.msg);
    s3_free(cli);
    return rc < 0 ? 2 : 0;
}

int main(int argc, char **argv)
{
    const char *ep = getenv("S3_ENDPOINT"), *ak = getenv("S3_ACCESS_KEY");
    const char *sk = getenv("S3_SECRET_KEY");
    char bucket[64];
    struct s3_opts o;
    struct berr err;

    if (argc == 4 && ep != NULL && ak != NULL && sk != NULL &&
        (strcmp(argv[1], "--list") == 0 || strcmp(argv[1], "--uploads") == 0))
        return tool(argv[1], argv[2], argv[3], ep, ak, sk);

    if (ep == NULL || ak == NULL || sk == NULL) {
        printf("s3_test: S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY not set\n");
        printf("0 passed, 0 failed, 1 skipped\n");
        return 0;
    }
    snprintf(bucket, sizeof(bucket), "s3test-%ld-%d", (long)time(NULL), (int)getpid());
    env_ep = ep;
    env_ak = ak;
    o = (struct s3_opts){ep, NULL, bucket, ak, sk, 0, 0};
    if (s3_new(&cli, &o, &err) < 0 || s3_bucket_create(cli, &err) < 0) {
        fprintf(stderr, "s3_test: %s\n", err.msg);
        return 2;
    }
    CHECK_INT_EQ(s3_bucket_create(cli, &err), 0);
    TEST_RUN(test_objects);
    TEST_RUN(test_list_pages);
    TEST_RUN(test_multipart);
    TEST_RUN(test_presign);
    TEST_RUN(test_bad_secret);
    s3_free(cli);
    return test_summary();
}
