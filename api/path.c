/* path.c - the path patterns of the route table: "/projects/{project_name_or_id}/members/{mid}"
 * is a list of segments, each a literal or a "{name}" that matches any one non-empty segment.
 * Invariants:
 *   1. A pattern matches only a path of exactly as many segments; no segment is ever empty.
 *   2. Nothing here allocates or keeps state: pure functions of their arguments, thread-safe. */
#include "api/path.h"

#include <string.h>

bool api_path_match(const char *pattern, const char *const *seg, size_t n)
{
    const char *s = pattern;
    size_t i = 0;

    while (*s == '/') {
        const char *e;
        size_t len;

        s++;
        e = strchr(s, '/');
        len = e != NULL ? (size_t)(e - s) : strlen(s);
        if (i == n)
            return false;
        if (!(len >= 2 && s[0] == '{' && s[len - 1] == '}') &&
            (strlen(seg[i]) != len || memcmp(seg[i], s, len) != 0))
            return false;
        if (seg[i][0] == '\0')
            return false;
        i++;
        s += len;
    }
    return i == n;
}

int api_path_param(const char *pattern, const char *name)
{
    const char *s = pattern;
    size_t nlen = strlen(name);
    int i = 0;

    while (*s == '/') {
        const char *e;
        size_t len;

        s++;
        e = strchr(s, '/');
        len = e != NULL ? (size_t)(e - s) : strlen(s);
        if (len == nlen + 2 && s[0] == '{' && memcmp(s + 1, name, nlen) == 0 && s[len - 1] == '}')
            return i;
        i++;
        s += len;
    }
    return -1;
}

int api_path_project_param(const char *pattern)
{
    int i = api_path_param(pattern, "project_name_or_id");

    return i >= 0 ? i : api_path_param(pattern, "project_name");
}
