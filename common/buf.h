/* buf.h - growable byte buffer with a ceiling.
 *
 * Every buffer is given its maximum size when created; buf_append past it fails with -1 and
 * errno EFBIG, leaving the content as it was. data is always NUL-terminated (not counted in len),
 * so text can be read as a C string. */
#ifndef BERTH_COMMON_BUF_H
#define BERTH_COMMON_BUF_H

#include <stddef.h>

struct buf {
    char *data; /* owned; NULL until the first append */
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated */
    size_t max; /* ceiling for len */
};

void buf_init(struct buf *b, size_t max);
/* buf_append copies n bytes in; -1 with errno ENOMEM or EFBIG on failure (content unchanged). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_appends(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* buf_reset keeps the allocation and empties the content. */
void buf_reset(struct buf *b);
/* buf_detach hands data to the caller (new, mem_free) and leaves b empty; NULL if nothing. */
char *buf_detach(struct buf *b);
void buf_cleanup(struct buf *b);

#endif
