/* cidr.h - a list of addresses and networks ("10.0.0.0/8, 127.0.0.1, ::1, fd00::/8") and the
 * question "is this address in it", for trusted_proxies.
 *
 * Parsing is strict: every entry is an IPv4 or IPv6 address in numeric form with an optional
 * /prefix no longer than the address; entries are separated by commas and/or blanks. An IPv4
 * address given as IPv4-mapped IPv6 ("::ffff:10.1.2.3") matches the IPv4 entries.
 * No shared state; a parsed list is read-only and safe to share between threads. */
#ifndef BERTH_COMMON_CIDR_H
#define BERTH_COMMON_CIDR_H

#include <stdbool.h>
#include <stddef.h>

#include "common/berr.h"

#define CIDR_LIST_MAX 32

struct cidr {
    unsigned char addr[16]; /* IPv4 in the first 4 bytes */
    unsigned bits;          /* prefix length */
    bool v6;
};

struct cidr_list {
    struct cidr v[CIDR_LIST_MAX];
    size_t n;
};

/* cidr_list_parse reads s (may be empty: an empty list) into *out; BERR_BAD_REQUEST naming the
 * bad entry, *out then empty. */
int cidr_list_parse(struct cidr_list *out, const char *s, struct berr *err);
/* cidr_list_match: addr (numeric text, "127.0.0.1" or "::1") is in one of the list's networks.
 * False for an unparsable address or an empty list. */
bool cidr_list_match(const struct cidr_list *l, const char *addr);

#endif
