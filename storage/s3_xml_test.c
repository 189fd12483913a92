/* s3_xml_test.c - unit tests for storage/s3_xml.c on answers shaped like radosgw's and AWS's. */
#include "storage/s3_xml.h"

#include <string.h>

#include "common/test.h"

static const char list_v2[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Name>b</Name><Prefix>blobs/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>"
        "<IsTruncated>true</IsTruncated><NextContinuationToken>tok&amp;1</NextContinuationToken>"
        "<Contents><Key>blobs/sha256/ab/abc</Key><LastModified>2026-12-04T19:53:00.000Z"
        "</LastModified><ETag>&quot;e1&quot;</ETag><Size>12</Size></Contents>"
        "<Contents><Key>blobs/sha256/cd/cde</Key><Size>0</Size></Contents>"
        "</ListBucketResult>";

struct seen {
    int n;
    char keys[4][64];
    char sizes[4][16];
    char mod[4][32];
};

static int on_item(const char *const *v, void *ctx)
{
    struct seen *s = ctx;

    if (s->n < 4) {
        snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", v[0]);
        snprintf(s->sizes[s->n], sizeof(s->sizes[0]), "%s", v[1]);
        snprintf(s->mod[s->n], sizeof(s->mod[0]), "%s", v[2]);
    }
    s->n++;
    return 0;
}

static int stop_at_first(const char *const *v, void *ctx)
{
    (void)v;
    (*(int *)ctx)++;
    return 7;
}

static void test_list(void)
{
    static const char *const fields[] = {"Key", "Size", "LastModified"};
    struct seen s = {0};
    char tok[64];
    struct berr err;
    int calls = 0;

    CHECK_INT_EQ(
            s3_xml_find(list_v2, strlen(list_v2), "NextContinuationToken", tok, sizeof(tok), &err),
            1);
    CHECK_STR_EQ(tok, "tok&1");
    CHECK_INT_EQ(s3_xml_find(list_v2, strlen(list_v2), "IsTruncated", tok, sizeof(tok), &err), 1);
    CHECK_STR_EQ(tok, "true");
    CHECK_INT_EQ(s3_xml_find(list_v2, strlen(list_v2), "UploadId", tok, sizeof(tok), &err), 0);
    CHECK_STR_EQ(tok, "");
    /* a text that does not fit fails, never truncates */
    CHECK_INT_EQ(s3_xml_find(list_v2, strlen(list_v2), "Key", tok, 5, &err), -1);
    CHECK_INT_EQ(s3_xml_each(list_v2, strlen(list_v2), "Contents", fields, 3, on_item, &s, &err),
                 0);
    CHECK_INT_EQ(s.n, 2);
    CHECK_STR_EQ(s.keys[0], "blobs/sha256/ab/abc");
    CHECK_STR_EQ(s.sizes[0], "12");
    CHECK_STR_EQ(s.mod[0], "2026-12-04T19:53:00.000Z");
    CHECK_STR_EQ(s.keys[1], "blobs/sha256/cd/cde");
    CHECK_STR_EQ(s.mod[1], "");
    CHECK_INT_EQ(s3_xml_each(list_v2, strlen(list_v2), "Contents", fields, 3, stop_at_first, &calls,
                             &err),
                 7);
    CHECK_INT_EQ(calls, 1);
}

static void test_multipart_answers(void)
{
    static const char init[] =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><InitiateMultipartUploadResult "
            "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b</Bucket><Key>k</Key>"
            "<UploadId>2~abcDEF</UploadId></InitiateMultipartUploadResult>";
    static const char uploads[] =
            "<ListMultipartUploadsResult><Upload><Key>_uploads/1/data</Key><UploadId>2~x</UploadId>"
            "<Initiated>2026-12-04T19:00:00.000Z</Initiated></Upload><Upload><Key>_uploads/2/data"
            "</Key><UploadId>2~y</UploadId><Initiated>2026-12-04T19:01:00.000Z</Initiated></Upload>"
            "</ListMultipartUploadsResult>";
    static const char copy[] = "<CopyObjectResult><LastModified>x</LastModified><ETag>"
                               "\"9b2cf535f27731c974343645a3985328\"</ETag></CopyObjectResult>";
    static const char *const fields[] = {"Key", "UploadId", "Initiated"};
    char v[128];
    struct seen s = {0};
    struct berr err;

    CHECK_INT_EQ(s3_xml_find(init, strlen(init), "UploadId", v, sizeof(v), &err), 1);
    CHECK_STR_EQ(v, "2~abcDEF");
    CHECK_INT_EQ(s3_xml_each(uploads, strlen(uploads), "Upload", fields, 3, on_item, &s, &err), 0);
    CHECK_INT_EQ(s.n, 2);
    CHECK_STR_EQ(s.keys[1], "_uploads/2/data");
    CHECK_STR_EQ(s.sizes[1], "2~y");
    CHECK_INT_EQ(s3_xml_find(copy, strlen(copy), "ETag", v, sizeof(v), &err), 1);
    CHECK_STR_EQ(v, "\"9b2cf535f27731c974343645a3985328\"");
}

static void test_refused(void)
{
    static const char doctype[] = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a "
                                  "\"aaaaaaaaaa\">]><r><Code>&a;</Code></r>";
    static const char external[] =
            "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
            "<r><Code>&x;</Code></r>";
    static const char broken[] = "<Error><Code>NoSuchKey</Code>";
    static const char err_doc[] = "<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>";
    char v[128];
    struct berr err;

    CHECK_INT_EQ(s3_xml_find(doctype, strlen(doctype), "Code", v, sizeof(v), &err), -1);
    CHECK_INT_EQ(s3_xml_find(external, strlen(external), "Code", v, sizeof(v), &err), -1);
    CHECK_INT_EQ(s3_xml_find(broken, strlen(broken), "Code", v, sizeof(v), &err), -1);
    CHECK_INT_EQ(s3_xml_find("", 0, "Code", v, sizeof(v), &err), -1);
    CHECK_INT_EQ(s3_xml_find("not xml", 7, "Code", v, sizeof(v), &err), -1);
    CHECK_INT_EQ(s3_xml_find(err_doc, strlen(err_doc), "Code", v, sizeof(v), &err), 1);
    CHECK_STR_EQ(v, "NoSuchKey");
}

int main(void)
{
    s3_xml_init();
    TEST_RUN(test_list);
    TEST_RUN(test_multipart_answers);
    TEST_RUN(test_refused);
    return test_summary();
}
