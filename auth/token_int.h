/* token_int.h - what auth/token.c and auth/token_key.c share, and nobody else.
 *
 * struct tok_key is made only by key_wrap in token_key.c and is read-only afterwards, so any
 * number of threads may issue and verify with one key. hdr_b64 is the base64url of the JWT
 * header {"typ":"JWT","alg":"RS256","kid":KID}, the only header tok_issue writes and the one
 * tok_verify recognises byte for byte without parsing. */
#ifndef BERTH_AUTH_TOKEN_INT_H
#define BERTH_AUTH_TOKEN_INT_H

#include <stddef.h>

#include <openssl/evp.h>

#include "auth/token.h"

#define TOK_SIG_MAX 512 /* bytes of a signature with a 4096-bit modulus */

struct tok_key {
    EVP_PKEY *priv;
    EVP_PKEY *pub;
    int bits;
    size_t sig_len; /* bytes of every signature, <= TOK_SIG_MAX */
    char kid[TOK_KID_LEN + 1];
    char hdr_b64[160];
    size_t hdr_b64_len;
};

/* tok_b64url_len is the length of the base64url (RFC 4648 section 5, no padding) of n bytes. */
size_t tok_b64url_len(size_t n);
/* tok_b64url_enc writes tok_b64url_len(n) characters (no NUL) into dst and returns that count. */
size_t tok_b64url_enc(char *dst, const unsigned char *src, size_t n);

#endif
