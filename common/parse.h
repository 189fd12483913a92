/* parse.h - the parsing toolkit: hex, bounded integers, HTTP quoted strings, Harbor's q filter
 * grammar and paging. Pure functions: strings in, values out, no I/O, no HTTP, no allocation.
 *
 * Every parser reads the whole of what it is given (no trailing junk), refuses what it cannot
 * represent (overflow, a sign where none belongs) and leaves its output zeroed on failure. */
#ifndef BERTH_COMMON_PARSE_H
#define BERTH_COMMON_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"

/* ---- hex ---- */

/* parse_hex_digit: the value 0..15 of one hex digit, either case; -1 for anything else. */
int parse_hex_digit(char c);
/* parse_hex_byte: the byte spelled by the two hex digits at s (either case); -1 when either is
 * not a hex digit. Used for %XX escapes. */
int parse_hex_byte(const char *s);
/* parse_hex decodes the hex string s (len bytes, even, either case) into out (cap bytes).
 * Returns the number of bytes written (len / 2); -1 when len is odd, a byte is not a hex digit
 * or len / 2 > cap (out is then zeroed up to cap). */
int parse_hex(uint8_t *out, size_t cap, const char *s, size_t len);
/* parse_is_lower_hex: s (len bytes, len > 0) is only 0-9a-f, the form Berth writes. */
bool parse_is_lower_hex(const char *s, size_t len);

/* ---- integers ---- */

/* parse_u64 parses a decimal number that must fill exactly len bytes (1..20 digits): no sign, no
 * blanks, no "0x"; -1 on anything else or on overflow, *out is then 0. */
int parse_u64(uint64_t *out, const char *s, size_t len);
/* parse_u64_range: parse_u64, then lo <= value <= hi; -1 (and *out 0) when outside. */
int parse_u64_range(uint64_t *out, const char *s, size_t len, uint64_t lo, uint64_t hi);
/* parse_i64_range: an optional '-' then digits filling exactly len bytes ('+', blanks and "-0"
 * junk such as "--1" refused), lo <= value <= hi; -1 (and *out 0) otherwise. INT64_MIN parses. */
int parse_i64_range(int64_t *out, const char *s, size_t len, int64_t lo, int64_t hi);

/* ---- HTTP quoted-string (RFC 9110 5.6.4) ---- */

/* parse_quoted reads the quoted-string at the start of s (len bytes; s[0] must be '"') into out
 * (cap bytes, NUL-terminated, backslash escapes removed). *used gets the bytes consumed, both
 * quotes included. -1 when s does not start with '"', the string is unterminated, holds a byte
 * the grammar does not allow (controls other than HTAB, DEL) or does not fit; out is then "". */
int parse_quoted(char *out, size_t cap, size_t *used, const char *s, size_t len);

/* ---- Harbor q filters ---- */

/* The grammar (Harbor's, as its clients send it, already URL-decoded):
 *   q     = "" / term *("," term) [","]
 *   term  = key "=" value
 *   value = exact / "~" fuzzy / "[" from "~" to "]" / "{" item *(" " item) "}"
 *         / "(" item *(" " item) ")"
 * exact and fuzzy are any bytes but ','; a range end may be empty (open); list items are
 * separated by single or repeated spaces and are never empty. */
enum parse_q_kind {
    PARSE_Q_EXACT = 1 << 0, /* key=value */
    PARSE_Q_FUZZY = 1 << 1, /* key=~value */
    PARSE_Q_RANGE = 1 << 2, /* key=[from~to] */
    PARSE_Q_ANY = 1 << 3,   /* key={a b}: any of the items */
    PARSE_Q_ALL = 1 << 4,   /* key=(a b): all of the items */
};

#define PARSE_Q_MAX_BYTES 1024 /* longest q accepted */
#define PARSE_Q_MAX_TERMS 16
#define PARSE_Q_MAX_ITEMS 16 /* values of one term */

/* parse_q_key: one allowed key and the kinds of value it takes (an OR of parse_q_kind). */
struct parse_q_key {
    const char *name;
    unsigned kinds;
};

struct parse_q_term {
    const char *key;                  /* the name from the allowed table (borrowed from it) */
    enum parse_q_kind kind;           /* exactly one bit */
    const char *v[PARSE_Q_MAX_ITEMS]; /* exact/fuzzy: v[0]; range: v[0] from, v[1] to ("" open) */
    size_t nv;
};

struct parse_q {
    struct parse_q_term t[PARSE_Q_MAX_TERMS];
    size_t n;
    char buf[PARSE_Q_MAX_BYTES + 1]; /* the values, NUL-separated; terms point into it */
};

/* parse_q parses q (NULL or "" gives no term) against keys, a table ended by a {NULL, 0} row.
 * A key not in the table, a kind the key does not take, a key given twice, an empty key or item,
 * more than PARSE_Q_MAX_TERMS terms or PARSE_Q_MAX_ITEMS items, or q over PARSE_Q_MAX_BYTES is
 * refused: -1 with err set to BERR_BAD_REQUEST and a message naming the fault (the caller
 * answers 400 with it); out is then empty. out's pointers are valid while out lives. */
int parse_q(struct parse_q *out, const char *q, const struct parse_q_key *keys, struct berr *err);
/* parse_q_find: the term for key (compared with strcmp), or NULL. */
const struct parse_q_term *parse_q_find(const struct parse_q *q, const char *key);

/* ---- paging ---- */

struct parse_paging {
    int64_t page;      /* 1-based */
    int64_t page_size; /* 1..size_max */
    int64_t offset;    /* (page - 1) * page_size, never overflows */
};

/* parse_paging reads the page and page_size query values (NULL when absent: page 1, size_default).
 * page must be 1..INT64_MAX / size_max, page_size 1..size_max; -1 with err BERR_BAD_REQUEST
 * ("page must be a positive integer", "page is too large", "page_size must be 1..N") otherwise,
 * out then zeroed. size_default must lie in 1..size_max. */
int parse_paging(struct parse_paging *out, const char *page, const char *page_size,
                 int64_t size_default, int64_t size_max, struct berr *err);

#endif
