/* range.h - parsers for the Range request header (blob GET) and the Content-Range request header
 * of a chunked upload PATCH.
 *
 * Both parse first and never touch anything: the caller checks the result against sizes. */
#ifndef BERTH_COMMON_RANGE_H
#define BERTH_COMMON_RANGE_H

#include <stdint.h>
#include <stddef.h>

/* range_parse_bytes reads one "bytes=A-B", "bytes=A-" or "bytes=-N" (suffix) range and resolves it
 * against a resource of `size` bytes into [*first, *last] inclusive.
 * Returns 0 on success, 1 when the header is syntactically a range this parser does not handle
 * (several ranges, other units: serve the whole body with 200), and -1 when unsatisfiable
 * (answer 416). */
int range_parse_bytes(uint64_t *first, uint64_t *last, const char *hdr, uint64_t size);

/* content_range_parse reads an upload chunk range "A-B" (the spec's form), also accepting
 * the HTTP form "bytes A-B/TOTAL" (TOTAL may be a star); "bytes=A-B" is a Range, not
 * a Content-Range, and is refused. On success [*first, *last] inclusive, last >= first.
 * -1 when malformed. */
int content_range_parse(uint64_t *first, uint64_t *last, const char *hdr);

#endif
