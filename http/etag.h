/* etag.h - entity tags and If-None-Match (RFC 9110 8.8.3, 13.1.2), with no registry knowledge.
 *
 * A handler that answers with an ETag checks the request's If-None-Match against it with
 * http_etag_match; true means the client's copy is current (304 for GET and HEAD). */
#ifndef BERTH_HTTP_ETAG_H
#define BERTH_HTTP_ETAG_H

#include <stdbool.h>
#include <stddef.h>

/* http_etag_match: the If-None-Match value inm (may be NULL: false) matches etag, the entity
 * tag this response carries ("\"opaque\"" or "W/\"opaque\""). inm is "*" (matches any current
 * representation) or a comma-separated list of entity tags, compared weakly (W/ ignored on both
 * sides, opaque tags equal byte for byte; a comma inside quotes belongs to the tag). Lenient
 * on what clients send: a list member without quotes is compared with etag's opaque text, so
 * "If-None-Match: sha256:..." still matches. A member that does not parse ends the list. */
bool http_etag_match(const char *inm, const char *etag);

/* http_etag_quote writes "\"opaque\"" into out: 0, or -1 when cap is too small (out "" then). */
int http_etag_quote(char *out, size_t cap, const char *opaque);

#endif
