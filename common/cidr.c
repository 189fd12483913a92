/* cidr.c - address lists for trusted_proxies (common/cidr.h).
 *
 * Invariants:
 *   1. An entry's host bits past its prefix are ignored when matching, never an error, so
 *      "10.1.2.3/8" means 10.0.0.0/8 (what an operator who writes it means).
 *   2. Addresses are compared as bytes in network order; IPv4-mapped IPv6 addresses are
 *      unmapped first, so one entry covers a peer whichever socket family it came in on.
 * No shared state. */
#include "common/cidr.h"

#include <arpa/inet.h>
#include <string.h>

#include "common/parse.h"

/* addr_parse reads a numeric IPv4 or IPv6 address of len bytes; 0 or -1. */
static int addr_parse(struct cidr *out, const char *s, size_t len)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (len == 0 || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, tmp, out->addr) == 1) {
        out->bits = 32;
        return 0;
    }
    if (inet_pton(AF_INET6, tmp, out->addr) != 1)
        return -1;
    if (memcmp(out->addr, mapped, sizeof(mapped)) == 0) { /* invariant 2 */
        memmove(out->addr, out->addr + 12, 4);
        memset(out->addr + 4, 0, 12);
        out->bits = 32;
        return 0;
    }
    out->v6 = true;
    out->bits = 128;
    return 0;
}

int cidr_list_parse(struct cidr_list *out, const char *s, struct berr *err)
{
    memset(out, 0, sizeof(*out));
    while (*s != '\0') {
        size_t len, alen;
        const char *slash;
        struct cidr c;

        s += strspn(s, ", \t");
        len = strcspn(s, ", \t");
        if (len == 0)
            break;
        slash = memchr(s, '/', len);
        alen = slash != NULL ? (size_t)(slash - s) : len;
        if (out->n == CIDR_LIST_MAX) {
            memset(out, 0, sizeof(*out));
            return berr_set(err, BERR_BAD_REQUEST, "more than %d addresses", CIDR_LIST_MAX);
        }
        if (addr_parse(&c, s, alen) < 0)
            goto bad;
        if (slash != NULL) {
            uint64_t bits;
            size_t blen = len - alen - 1;
            if (parse_u64(&bits, slash + 1, blen) < 0 || bits > c.bits)
                goto bad;
            c.bits = (unsigned)bits;
        }
        out->v[out->n++] = c;
        s += len;
        continue;
bad:
        memset(out, 0, sizeof(*out));
        return berr_set(err, BERR_BAD_REQUEST, "not an address or network: %.*s",
                        (int)(len > 64 ? 64 : len), s);
    }
    return 0;
}

/* prefix_equal: the first bits bits of a and b agree */
static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;

    if (memcmp(a, b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((a[whole] ^ b[whole]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

bool cidr_list_match(const struct cidr_list *l, const char *addr)
{
    struct cidr a;

    if (l->n == 0 || addr_parse(&a, addr, strlen(addr)) < 0)
        return false;
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].v6 == a.v6 && prefix_equal(l->v[i].addr, a.addr, l->v[i].bits))
            return true;
    }
    return false;
}
