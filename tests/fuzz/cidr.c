/* cidr.c (fuzz) - cidr_list_parse (trusted_proxies) and cidr_list_match on any text, and
 * log_escape on the same bytes.
 *
 * The input up to the first NUL is the list; what follows is an address to match. Promises
 * checked: a refused list is left empty; a parsed list holds at most CIDR_LIST_MAX entries with
 * prefixes no longer than their address; every entry's own address matches the list; an escaped
 * log copy holds no control byte, quote or unescaped backslash and stays in its buffer. */
#include "tests/fuzz/fuzz.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/cidr.h"
#include "common/log.h"
#include "common/mem.h"

static void need(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = mem_malloc(size + 2);
    struct cidr_list l;
    struct berr e;
    char esc[256], text[INET6_ADDRSTRLEN];
    const char *addr;

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    copy[size + 1] = '\0';
    addr = copy + strlen(copy) + (strlen(copy) < size ? 1 : 0);
    if (cidr_list_parse(&l, copy, &e) < 0) {
        need(l.n == 0);
    } else {
        need(l.n <= CIDR_LIST_MAX);
        for (size_t i = 0; i < l.n; i++) {
            need(l.v[i].bits <= (l.v[i].v6 ? 128u : 32u));
            if (inet_ntop(l.v[i].v6 ? AF_INET6 : AF_INET, l.v[i].addr, text, sizeof(text)))
                need(cidr_list_match(&l, text));
        }
    }
    (void)cidr_list_match(&l, addr);
    (void)log_escape(esc, sizeof(esc), copy);
    need(strlen(esc) < sizeof(esc));
    for (const char *p = esc; *p != '\0'; p++) {
        need((unsigned char)*p >= 0x20 && *p != 0x7f && *p != '"');
        if (*p == '\\')
            need(p[1] == 'x');
    }
    (void)log_escape_prefix(esc, sizeof(esc), copy, 3);
    need(strlen(esc) <= 3 * 4 + 3);
    mem_free(copy);
    return 0;
}
