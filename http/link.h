/* link.h - Link headers for paged lists (RFC 8288), with no registry knowledge.
 *
 * A list handler that has more to show builds the header value in a struct buf (common/buf.h)
 * and adds it as "Link":
 *   cursor paging (the distribution spec's tags and catalog: n and last)
 *       http_link_add(&b, "/v2/_catalog", "next", (struct http_link_param[]){{"n", "100"},
 *                     {"last", "lib/app"}}, 2)   ->   </v2/_catalog?n=100&last=lib%2Fapp>; rel="next"
 *   page numbers (the management API: page, page_size, plus the filters to carry along)
 *       http_link_pages(&b, path, page, page_size, total, extra, n_extra)
 *                      ->   <path?page=1&page_size=10&q=...>; rel="prev" , <...>; rel="next"
 * Parameter values are percent-encoded (everything but RFC 3986 unreserved characters); the path
 * is copied as given (the caller's own, already valid, path). */
#ifndef BERTH_HTTP_LINK_H
#define BERTH_HTTP_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct http_link_param {
    const char *name;  /* sent as is: a literal of the caller */
    const char *value; /* percent-encoded; NULL leaves the parameter out */
};

/* http_link_add appends one link-value <path?name=value&...>; rel="rel" to b, after a " , "
 * when b already holds one (Harbor's separator, which clients split on ","). -1 when b's cap
 * is reached or memory runs out (b then holds a partial value: drop it). */
int http_link_add(struct buf *b, const char *path, const char *rel,
                  const struct http_link_param *params, size_t n);

/* http_link_pages appends the prev (page > 1) and next (page * page_size < total) links of a
 * page-numbered list: page and page_size first, then extra. Nothing when neither applies.
 * -1 as http_link_add. */
int http_link_pages(struct buf *b, const char *path, int64_t page, int64_t page_size, int64_t total,
                    const struct http_link_param *extra, size_t n_extra);

#endif
