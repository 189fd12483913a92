/* digest.c (fuzz) - digest_parse, repo_name_parse, tag_parse and reference_parse on any bytes.
 *
 * Besides not crashing, whatever a parser accepts must satisfy its header's promises: a digest
 * is 64 lowercase hex characters and formats back to the input, a name is the input with a
 * project component before the first '/', a tag is the input. A broken promise aborts. */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "common/digest.h"

static void need(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct digest d;
    struct repo_name n;
    struct tag t;
    struct reference r;
    struct berr err;
    char buf[DIGEST_STR_LEN + 1], proj[REPO_NAME_MAX + 1];

    if (digest_parse(&d, s, size, &err) == 0) {
        need(strlen(d.hex) == DIGEST_HEX_LEN);
        need(strspn(d.hex, "0123456789abcdef") == DIGEST_HEX_LEN);
        digest_format(&d, buf, sizeof(buf));
        need(size == DIGEST_STR_LEN && memcmp(buf, s, size) == 0);
    } else {
        need(err.code == BERR_DIGEST_INVALID);
        need(d.hex[0] == '\0');
    }
    if (repo_name_parse(&n, s, size, &err) == 0) {
        need(n.len == size && size <= REPO_NAME_MAX && memcmp(n.s, s, size) == 0);
        need(n.s[n.len] == '\0');
        need(n.project_len > 0 && n.project_len < n.len && n.s[n.project_len] == '/');
        need(project_name_valid(n.s, n.project_len));
        repo_name_project(&n, proj, sizeof(proj));
        need(strlen(proj) == n.project_len);
        need(strspn(n.s, "abcdefghijklmnopqrstuvwxyz0123456789._-/") == n.len);
    } else {
        need(err.code == BERR_NAME_INVALID);
    }
    (void)project_name_valid(s, size); /* only must not crash; checked above when it matters */
    if (tag_parse(&t, s, size, &err) == 0) {
        need(size >= 1 && size <= TAG_MAX && memcmp(t.s, s, size) == 0 && t.s[size] == '\0');
        need(s[0] != '.' && s[0] != '-');
    } else {
        need(err.code == BERR_TAG_INVALID);
    }
    if (reference_parse(&r, s, size, &err) == 0) {
        if (r.is_digest)
            need(memchr(s, ':', size) != NULL && strlen(r.digest.hex) == DIGEST_HEX_LEN);
        else
            need(memchr(s, ':', size) == NULL && strlen(r.tag.s) == size);
    }
    return 0;
}
