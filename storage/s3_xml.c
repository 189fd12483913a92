/* s3_xml.c - the S3 XML reader over libxml2's tree API.
 *
 *   1. Parsing never touches the network or loads a DTD (XML_PARSE_NONET, no DTDLOAD/NOENT), and a
 *      document carrying a DOCTYPE is refused outright, so no entity can expand.
 *   2. Every text copied out fits its buffer or the call fails: nothing is truncated silently.
 * Stateless apart from libxml2's one-time initialisation; thread-safe. */
#include "storage/s3_xml.h"

#include <limits.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "common/mem.h"

#define S3_XML_DOC_MAX (16u * 1024 * 1024)

void s3_xml_init(void)
{
    xmlInitParser();
}

static xmlDocPtr parse(const char *doc, size_t len, struct berr *err)
{
    xmlDocPtr d;

    if (len == 0 || len > S3_XML_DOC_MAX) {
        berr_set(err, BERR_INTERNAL, "s3: XML answer empty or too large");
        return NULL;
    }
    d = xmlReadMemory(doc, (int)len, "s3.xml", NULL,
                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                              XML_PARSE_NOCDATA);
    if (d == NULL) {
        berr_set(err, BERR_INTERNAL, "s3: malformed XML answer");
        return NULL;
    }
    if (d->intSubset != NULL || d->extSubset != NULL || xmlDocGetRootElement(d) == NULL) {
        xmlFreeDoc(d);
        berr_set(err, BERR_INTERNAL, "s3: XML answer with a DOCTYPE or no root refused");
        return NULL;
    }
    return d;
}

static int is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* text of n (its text children concatenated) into out */
static int text_of(const xmlNode *n, char *out, size_t cap, struct berr *err)
{
    xmlChar *t = xmlNodeGetContent(n);
    size_t len;
    int rc = 0;

    if (t == NULL) {
        out[0] = '\0';
        return 0;
    }
    len = strlen((const char *)t);
    if (len >= cap)
        rc = berr_set(err, BERR_INTERNAL, "s3: XML text too long");
    else
        memcpy(out, t, len + 1);
    xmlFree(t);
    return rc;
}

static const xmlNode *find_first(const xmlNode *n, const char *name)
{
    for (; n != NULL; n = n->next) {
        const xmlNode *hit;

        if (is_elem(n, name))
            return n;
        if (n->type == XML_ELEMENT_NODE && (hit = find_first(n->children, name)) != NULL)
            return hit;
    }
    return NULL;
}

int s3_xml_find(const char *doc, size_t len, const char *name, char *out, size_t cap,
                struct berr *err)
{
    xmlDocPtr d = parse(doc, len, err);
    const xmlNode *n;
    int rc;

    if (cap > 0)
        out[0] = '\0';
    if (d == NULL)
        return -1;
    n = find_first(xmlDocGetRootElement(d), name);
    rc = n == NULL ? 0 : (text_of(n, out, cap, err) < 0 ? -1 : 1);
    xmlFreeDoc(d);
    return rc;
}

struct each {
    const char *item;
    const char *const *fields;
    size_t nfields;
    s3_xml_item_fn fn;
    void *ctx;
    struct berr *err;
    char vals[S3_XML_MAX_FIELDS][S3_XML_FIELD_MAX];
};

static int walk(struct each *e, const xmlNode *n)
{
    for (; n != NULL; n = n->next) {
        int rc;

        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (is_elem(n, e->item)) {
            const char *v[S3_XML_MAX_FIELDS];

            for (size_t i = 0; i < e->nfields; i++) {
                e->vals[i][0] = '\0';
                v[i] = e->vals[i];
            }
            for (const xmlNode *c = n->children; c != NULL; c = c->next)
                for (size_t i = 0; i < e->nfields; i++)
                    if (is_elem(c, e->fields[i]) &&
                        text_of(c, e->vals[i], sizeof(e->vals[i]), e->err) < 0)
                        return -1;
            rc = e->fn(v, e->ctx);
            if (rc != 0)
                return rc;
            continue;
        }
        rc = walk(e, n->children);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int s3_xml_each(const char *doc, size_t len, const char *item, const char *const *fields,
                size_t nfields, s3_xml_item_fn fn, void *ctx, struct berr *err)
{
    struct each *e;
    xmlDocPtr d;
    int rc;

    if (nfields > S3_XML_MAX_FIELDS)
        return berr_set(err, BERR_INTERNAL, "s3: too many XML fields");
    d = parse(doc, len, err);
    if (d == NULL)
        return -1;
    e = mem_calloc(1, sizeof(*e));
    if (e == NULL) {
        xmlFreeDoc(d);
        return berr_set(err, BERR_INTERNAL, "s3: out of memory");
    }
    e->item = item;
    e->fields = fields;
    e->nfields = nfields;
    e->fn = fn;
    e->ctx = ctx;
    e->err = err;
    rc = walk(e, xmlDocGetRootElement(d));
    mem_free(e);
    xmlFreeDoc(d);
    return rc;
}
