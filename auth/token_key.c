/* token_key.c - the RS256 signing key of bearer tokens: load, generate, create on first start,
 * export the public half, and the libtrust key ID (kid) tokens name it by.
 *
 * Invariants:
 *   1. A struct tok_key (token_int.h) holds an RSA key of 2048..4096 bits, its public half as a
 *      separate EVP_PKEY (what verification uses), its libtrust kid and the base64url of the one
 *      header Berth ever writes; key_wrap is the only place that makes one, and none of it
 *      changes afterwards, so any number of threads may issue and verify with one key.
 *   2. The key file is only ever created (write_file_atomic to a unique name, then link(2),
 *      which fails rather than replace), never overwritten. Its PEM text is wiped from memory
 *      after use (OPENSSL_cleanse, BIO_s_secmem).
 *   3. An encrypted key file is an error; OpenSSL never prompts on the terminal.
 * Thread safety: no shared mutable state; a key is read-only once made. */
#include "auth/token.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "auth/token_int.h"
#include "common/digest.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"

#define TOK_MIN_BITS 2048
#define TOK_MAX_BITS 4096

static int internal(struct berr *err, const char *what)
{
    ERR_clear_error();
    return berr_set(err, BERR_INTERNAL, "%s", what);
}

int tok_kid_from_spki(char *out, size_t cap, const unsigned char *der, size_t len)
{
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    unsigned char md[32];
    unsigned int mdlen = 0;
    size_t o = 0;
    unsigned v = 0;
    int bits = 0;

    if (cap < TOK_KID_LEN + 1)
        return -1;
    if (EVP_Digest(der, len, md, &mdlen, digest_sha256_md(), NULL) != 1 || mdlen != 32) {
        ERR_clear_error();
        return -1;
    }
    /* 30 bytes = 240 bits = 48 base32 characters exactly: no padding, no leftover bits */
    for (size_t i = 0; i < 30; i++) {
        v = (v << 8 | md[i]) & 0xffffu;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            if (o > 0 && o % 5 == 4)
                out[o++] = ':';
            out[o++] = b32[v >> bits & 31];
        }
    }
    out[o] = '\0';
    return o == TOK_KID_LEN ? 0 : -1;
}

void tok_key_free(struct tok_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->priv);
    EVP_PKEY_free(k->pub);
    mem_free(k);
}

const char *tok_key_kid(const struct tok_key *k)
{
    return k->kid;
}

int tok_key_bits(const struct tok_key *k)
{
    return k->bits;
}

/* key_wrap checks priv and builds the rest of a tok_key around it. Takes priv. */
static int key_wrap(struct tok_key **out, EVP_PKEY *priv, struct berr *err)
{
    struct tok_key *k = NULL;
    unsigned char *der = NULL;
    const unsigned char *p;
    char hdr[128];
    int derlen, n, rc = -1;

    *out = NULL;
    if (EVP_PKEY_get_base_id(priv) != EVP_PKEY_RSA) {
        rc = berr_set(err, BERR_INTERNAL, "token key: not an RSA key");
        goto out;
    }
    if (EVP_PKEY_get_bits(priv) < TOK_MIN_BITS || EVP_PKEY_get_bits(priv) > TOK_MAX_BITS) {
        rc = berr_set(err, BERR_INTERNAL, "token key: RSA key of %d bits (want %d..%d)",
                      EVP_PKEY_get_bits(priv), TOK_MIN_BITS, TOK_MAX_BITS);
        goto out;
    }
    k = mem_calloc(1, sizeof(*k));
    if (k == NULL) {
        rc = berr_set(err, BERR_INTERNAL, "out of memory");
        goto out;
    }
    k->priv = priv;
    priv = NULL;
    k->bits = EVP_PKEY_get_bits(k->priv);
    if (EVP_PKEY_get_size(k->priv) <= 0 || EVP_PKEY_get_size(k->priv) > TOK_SIG_MAX) {
        rc = internal(err, "token key: bad signature size");
        goto out;
    }
    k->sig_len = (size_t)EVP_PKEY_get_size(k->priv);

    derlen = i2d_PUBKEY(k->priv, &der);
    if (derlen <= 0) {
        rc = internal(err, "token key: cannot encode public key");
        goto out;
    }
    p = der;
    k->pub = d2i_PUBKEY(NULL, &p, derlen);
    if (k->pub == NULL) {
        rc = internal(err, "token key: cannot decode public key");
        goto out;
    }
    if (tok_kid_from_spki(k->kid, sizeof(k->kid), der, (size_t)derlen) < 0) {
        rc = internal(err, "token key: cannot compute kid");
        goto out;
    }
    n = snprintf(hdr, sizeof(hdr), "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"%s\"}", k->kid);
    if (n < 0 || (size_t)n >= sizeof(hdr) || tok_b64url_len((size_t)n) >= sizeof(k->hdr_b64)) {
        rc = internal(err, "token key: header too long");
        goto out;
    }
    k->hdr_b64_len = tok_b64url_enc(k->hdr_b64, (const unsigned char *)hdr, (size_t)n);
    k->hdr_b64[k->hdr_b64_len] = '\0';
    *out = k;
    k = NULL;
    rc = 0;
out:
    OPENSSL_free(der);
    EVP_PKEY_free(priv);
    tok_key_free(k);
    return rc;
}

/* Never prompt on the terminal for a passphrase: an encrypted key file is an error. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

int tok_key_from_pem(struct tok_key **out, const char *pem, size_t len, struct berr *err)
{
    EVP_PKEY *pkey;
    BIO *bio;

    *out = NULL;
    if (len > TOK_KEY_FILE_MAX)
        return berr_set(err, BERR_INTERNAL, "token key: file too large");
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return internal(err, "out of memory");
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (pkey == NULL)
        return internal(err, "token key: not an unencrypted PEM private key");
    return key_wrap(out, pkey, err);
}

int tok_key_generate(struct tok_key **out, int bits, struct berr *err)
{
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    int rc;

    *out = NULL;
    if (bits < TOK_MIN_BITS || bits > TOK_MAX_BITS)
        return berr_set(err, BERR_INTERNAL, "token key: %d bits not in %d..%d", bits, TOK_MIN_BITS,
                        TOK_MAX_BITS);
    ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) <= 0 || EVP_PKEY_keygen(ctx, &pkey) <= 0) {
        rc = internal(err, "token key: RSA key generation failed");
        goto out;
    }
    rc = key_wrap(out, pkey, err);
out:
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* key_pem_private writes k's private key as PKCS#8 PEM into a secure-heap BIO (*out_bio, freed
 * by the caller, which wipes it). */
static int key_pem_private(BIO **out_bio, const EVP_PKEY *pkey, struct berr *err)
{
    BIO *bio = BIO_new(BIO_s_secmem());

    *out_bio = NULL;
    if (bio == NULL)
        return internal(err, "out of memory");
    if (PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        BIO_free(bio);
        return internal(err, "token key: cannot encode private key");
    }
    *out_bio = bio;
    return 0;
}

int tok_key_private_pem(char **out, size_t *len, const struct tok_key *k, struct berr *err)
{
    BIO *bio = NULL;
    char *pem = NULL;
    long n;
    int rc;

    *out = NULL;
    *len = 0;
    rc = key_pem_private(&bio, k->priv, err);
    if (rc < 0)
        return -1;
    n = BIO_get_mem_data(bio, &pem);
    if (n <= 0 || pem == NULL) {
        rc = internal(err, "token key: cannot encode private key");
    } else if ((*out = mem_strndup(pem, (size_t)n)) == NULL) {
        rc = berr_set(err, BERR_INTERNAL, "out of memory");
    } else {
        *len = (size_t)n;
    }
    BIO_free(bio); /* secure-heap BIO: wiped when freed */
    return rc;
}

int tok_key_public_pem(char **out, const struct tok_key *k, struct berr *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len;
    int rc = -1;

    *out = NULL;
    if (bio == NULL)
        return internal(err, "out of memory");
    if (PEM_write_bio_PUBKEY(bio, k->pub) != 1) {
        rc = internal(err, "token key: cannot encode public key");
        goto out;
    }
    len = BIO_get_mem_data(bio, &data);
    if (len <= 0 || data == NULL) {
        rc = internal(err, "token key: cannot encode public key");
        goto out;
    }
    *out = mem_strndup(data, (size_t)len);
    if (*out == NULL) {
        rc = berr_set(err, BERR_INTERNAL, "out of memory");
        goto out;
    }
    rc = 0;
out:
    BIO_free(bio);
    return rc;
}

static int dir_of(char *dir, size_t cap, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n;

    if (slash == NULL) {
        if (cap < 2)
            return -1;
        memcpy(dir, ".", 2);
        return 0;
    }
    n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= cap)
        return -1;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return 0;
}

static int key_load_file(struct tok_key **out, const char *path, struct berr *err)
{
    struct stat st;
    char *data = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    if (read_file(&data, &len, path, TOK_KEY_FILE_MAX) < 0) {
        if (errno == EFBIG)
            return berr_set(err, BERR_INTERNAL, "token key: file too large");
        return berr_sys(err, errno, "token key: read");
    }
    rc = tok_key_from_pem(out, data, len, err);
    OPENSSL_cleanse(data, len);
    mem_free(data);
    /* the key signs every token: tightened to 0600 when found looser (an older version, a
     * copy made with cp) */
    if (rc == 0 && stat(path, &st) == 0 && (st.st_mode & 077) != 0) {
        if (chmod(path, 0600) == 0)
            log_msg(LOG_WARN, "token key %s had mode %03o, now 600", path,
                    (unsigned)(st.st_mode & 0777));
        else
            log_errno(LOG_WARN, errno, "token key %s is readable by group or others (mode %03o)",
                      path, (unsigned)(st.st_mode & 0777));
    }
    return rc;
}

/* key_create generates a key and publishes it at path unless a file is already there, in
 * which case that one is loaded instead (another process won the race). */
static int key_create(struct tok_key **out, const char *path, struct berr *err)
{
    char tmp[PATH_MAX], dir[PATH_MAX], hex[17];
    struct tok_key *k = NULL;
    BIO *bio = NULL;
    char *pem = NULL;
    long pem_len;
    int n, rc, linked = 0;

    *out = NULL;
    rc = tok_key_generate(&k, TOK_KEY_BITS, err);
    if (rc < 0)
        goto out;
    rc = key_pem_private(&bio, k->priv, err);
    if (rc < 0)
        goto out;
    pem_len = BIO_get_mem_data(bio, &pem);
    if (pem_len <= 0 || pem == NULL) {
        rc = internal(err, "token key: cannot encode private key");
        goto out;
    }
    if (rand_hex(hex, sizeof(hex), 8) < 0) {
        rc = internal(err, "random generator failed");
        goto out;
    }
    n = snprintf(tmp, sizeof(tmp), "%s.new-%s", path, hex);
    if (n < 0 || (size_t)n >= sizeof(tmp) || dir_of(dir, sizeof(dir), path) < 0) {
        rc = berr_set(err, BERR_INTERNAL, "token key: path too long");
        goto out;
    }
    if (write_file_atomic(tmp, pem, (size_t)pem_len, 0600) < 0) {
        rc = berr_sys(err, errno, "token key: write");
        goto out;
    }
    if (link(tmp, path) == 0) {
        linked = 1;
    } else if (errno == EEXIST) {
        linked = 0;
    } else if (errno == EPERM || errno == ENOTSUP || errno == ENOSYS) {
        /* a file system without hard links: rename may replace a racing writer's key, which
         * then only costs that process its freshly issued tokens */
        if (rename(tmp, path) < 0) {
            rc = berr_sys(err, errno, "token key: rename");
            (void)unlink(tmp); /* best effort: a leftover .new file holds nothing in use */
            goto out;
        }
        linked = 2;
    } else {
        rc = berr_sys(err, errno, "token key: link");
        (void)unlink(tmp); /* best effort, see above */
        goto out;
    }
    if (linked != 2 && unlink(tmp) < 0)
        log_errno(LOG_WARN, errno, "token key: cannot remove %s", tmp);
    if (fsync_dir(dir) < 0) {
        rc = berr_sys(err, errno, "token key: fsync directory");
        goto out;
    }
    if (linked == 0) {
        /* someone else created it between our read and our link: use theirs */
        tok_key_free(k);
        k = NULL;
        rc = key_load_file(&k, path, err);
        if (rc < 0)
            goto out;
    } else {
        log_msg(LOG_INFO, "token key: created %d-bit RSA key %s (kid %s)", k->bits, path, k->kid);
    }
    *out = k;
    k = NULL;
    rc = 0;
out:
    BIO_free(bio); /* secure-heap BIO: wiped when freed */
    tok_key_free(k);
    return rc;
}

int tok_key_load_or_create(struct tok_key **out, const char *path, struct berr *err)
{
    struct stat st;

    *out = NULL;
    if (stat(path, &st) < 0) {
        if (errno != ENOENT)
            return berr_sys(err, errno, "token key: stat");
        return key_create(out, path, err);
    }
    if (!S_ISREG(st.st_mode))
        return berr_set(err, BERR_INTERNAL, "token key: not a regular file");
    return key_load_file(out, path, err);
}
