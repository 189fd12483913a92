/* q.c (fuzz) - parse_q, parse_paging and the hex, integer and quoted-string parsers on any bytes.
 *
 * The input, cut at the first NUL as a C string would be, is the q value; it is also fed to the
 * other toolkit parsers. Promises checked: parse_q returns 0 or -1; on 0 every term names a key
 * from the table with a kind the key allows, carries 1..PARSE_Q_MAX_ITEMS values that are
 * NUL-terminated inside the result, and keys are unique; on -1 the result is empty and the
 * message is set. Paging yields 1 <= page_size <= max and an offset that is (page-1)*size. A
 * parsed quoted string fits its buffer and consumed at least its two quotes. */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/parse.h"

static void need(int cond)
{
    if (!cond)
        abort();
}

static const struct parse_q_key keys[] = {
        {"name", PARSE_Q_EXACT | PARSE_Q_FUZZY},
        {"public", PARSE_Q_EXACT},
        {"ProjectID", PARSE_Q_EXACT},
        {"Level", PARSE_Q_EXACT},
        {"op_time", PARSE_Q_RANGE},
        {"tags", PARSE_Q_EXACT | PARSE_Q_FUZZY | PARSE_Q_ANY | PARSE_Q_ALL},
        {NULL, 0},
};

static int from_table(const char *k)
{
    for (const struct parse_q_key *t = keys; t->name != NULL; t++) {
        if (t->name == k)
            return (int)t->kinds;
    }
    return -1;
}

static void check_q(const char *s)
{
    struct parse_q *q = mem_malloc(sizeof(*q));
    struct berr err = {0};
    int rc;

    if (q == NULL)
        return;
    rc = parse_q(q, s, keys, &err);
    need(rc == 0 || rc == -1);
    if (rc < 0) {
        need(q->n == 0 && err.code == BERR_BAD_REQUEST && err.msg[0] != '\0');
    } else {
        need(q->n <= PARSE_Q_MAX_TERMS);
        for (size_t i = 0; i < q->n; i++) {
            const struct parse_q_term *t = &q->t[i];
            int kinds = from_table(t->key);
            need(kinds >= 0 && ((unsigned)kinds & (unsigned)t->kind) != 0);
            need(t->nv >= 1 && t->nv <= PARSE_Q_MAX_ITEMS);
            need(t->kind != PARSE_Q_RANGE || t->nv == 2);
            for (size_t j = 0; j < t->nv; j++) {
                need(t->v[j] >= q->buf && t->v[j] < q->buf + sizeof(q->buf));
                need(memchr(t->v[j], '\0', (size_t)(q->buf + sizeof(q->buf) - t->v[j])) != NULL);
            }
            need(parse_q_find(q, t->key) == t);
        }
    }
    mem_free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct parse_paging pg;
    struct berr err = {0};
    char out[64];
    uint8_t bytes[32];
    size_t used;
    uint64_t u;
    int64_t i;
    char *s = mem_malloc(size + 1);

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    check_q(s);
    if (parse_paging(&pg, s, s, 10, 100, &err) == 0)
        need(pg.page >= 1 && pg.page_size >= 1 && pg.page_size <= 100 &&
             pg.offset == (pg.page - 1) * pg.page_size);
    else
        need(pg.page == 0 && pg.page_size == 0 && pg.offset == 0);
    if (parse_u64_range(&u, s, strlen(s), 5, 500) == 0)
        need(u >= 5 && u <= 500);
    else
        need(u == 0);
    if (parse_i64_range(&i, s, strlen(s), -7, 7) == 0)
        need(i >= -7 && i <= 7);
    else
        need(i == 0);
    {
        int n = parse_hex(bytes, sizeof(bytes), s, strlen(s));
        need(n == -1 || (size_t)n == strlen(s) / 2);
    }
    if (parse_quoted(out, sizeof(out), &used, s, strlen(s)) == 0)
        need(used >= 2 && used <= strlen(s) && strlen(out) < sizeof(out));
    else
        need(used == 0 && out[0] == '\0');
    mem_free(s);
    return 0;
}
