/* s3_xml.h - reading S3's XML answers (libxml2), only the few elements Berth needs.
 *
 * Strict: no network, no DTD, no entity substitution beyond XML's predefined ones; a document with
 * a DOCTYPE, or that is not well-formed, is refused. Element names are matched by local name
 * (namespace ignored). Texts are copied into caller buffers and must fit. Thread-safe (libxml2's
 * parser is, once initialised: s3_xml_init, called by s3_new). */
#ifndef BERTH_STORAGE_S3_XML_H
#define BERTH_STORAGE_S3_XML_H

#include <stddef.h>

#include "common/berr.h"

#define S3_XML_MAX_FIELDS 4
#define S3_XML_FIELD_MAX 1024

void s3_xml_init(void);

/* s3_xml_find: the text of the first element named name, anywhere in the document, into out
 * (cap bytes). 1 found, 0 absent, -1 on a malformed document or a text that does not fit. */
int s3_xml_find(const char *doc, size_t len, const char *name, char *out, size_t cap,
                struct berr *err);

/* s3_xml_each calls fn once for every element named item (anywhere, document order) with the
 * texts of its direct children named fields[0..nfields) ("" for a missing child; at most
 * S3_XML_MAX_FIELDS, each under S3_XML_FIELD_MAX bytes). fn's non-zero return stops the walk
 * and is returned. -1 on a malformed document. */
typedef int (*s3_xml_item_fn)(const char *const *values, void *ctx);
int s3_xml_each(const char *doc, size_t len, const char *item, const char *const *fields,
                size_t nfields, s3_xml_item_fn fn, void *ctx, struct berr *err);

#endif
