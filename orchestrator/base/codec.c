/* codec.c - percent-encoding, hex, Base64, SHA-256 and HMAC (OpenSSL).
 *
 * DESIGN: the encoders are table driven and write straight into a buffer
 * reserved once for the worst case (3 bytes out per byte in), so a 200-device
 * request costs a few linear passes and no per-byte function calls.
 */
#include "orch/base/codec.h"

#include "orch/base/buf.h"
#include "orch/base/err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <string.h>

static const char hex_upper[] = "0123456789ABCDEF";
static const char hex_lower[] = "0123456789abcdef";

/* 1 for the RFC 3986 unreserved bytes A-Z a-z 0-9 - _ . ~ */
/* clang-format off */
static const unsigned char unreserved[256] = {
    ['-'] = 1, ['_'] = 1, ['.'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
    ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
    ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};
/* clang-format on */

int orch_percent_encode(struct orch_buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    char *w = NULL;
    size_t i = 0;
    int rc = 0;

    /* Worst case: every byte becomes %XX. */
    if (len > ((size_t)-1 - out->len - 1) / 3)
        return ORCH_ENOMEM;
    rc = orch_buf_reserve(out, 3 * len);
    if (rc)
        return rc;
    w = out->data + out->len;
    for (i = 0; i < len; i++) {
        unsigned char c = p[i];

        if (unreserved[c]) {
            *w++ = (char)c;
        } else {
            w[0] = '%';
            w[1] = hex_upper[c >> 4];
            w[2] = hex_upper[c & 0x0f];
            w += 3;
        }
    }
    *w = '\0';
    out->len = (size_t)(w - out->data);
    return 0;
}

int orch_hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int orch_percent_decode(struct orch_buf *out, const char *s, size_t len,
                        int plus_is_space)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t start = out->len;
    char *w = NULL;
    size_t i = 0;
    int rc = 0;

    /* The decoding is never longer than the input. */
    rc = orch_buf_reserve(out, len);
    if (rc)
        return rc;
    w = out->data + out->len;
    for (i = 0; i < len; i++) {
        unsigned char c = p[i];

        if (c == '%') {
            int hi = i + 2 < len ? orch_hex_digit(p[i + 1]) : -1;
            int lo = hi >= 0 ? orch_hex_digit(p[i + 2]) : -1;

            if (lo < 0) {
                /* Leave out unchanged on error. */
                out->len = start;
                out->data[start] = '\0';
                return ORCH_EINVAL;
            }
            *w++ = (char)((hi << 4) | lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            *w++ = ' ';
        } else {
            *w++ = (char)c;
        }
    }
    *w = '\0';
    out->len = (size_t)(w - out->data);
    return 0;
}

void orch_hex_encode(char *out, const unsigned char *in, size_t len)
{
    size_t i = 0;

    for (i = 0; i < len; i++) {
        out[2 * i] = hex_lower[in[i] >> 4];
        out[2 * i + 1] = hex_lower[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

void orch_base64_encode(char *out, const unsigned char *in, size_t len)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    char *w = out;

    for (i = 0; i + 2 < len; i += 3) {
        unsigned long v = ((unsigned long)in[i] << 16) |
                          ((unsigned long)in[i + 1] << 8) | in[i + 2];

        *w++ = tbl[(v >> 18) & 63];
        *w++ = tbl[(v >> 12) & 63];
        *w++ = tbl[(v >> 6) & 63];
        *w++ = tbl[v & 63];
    }
    if (len - i == 1) {
        unsigned long v = (unsigned long)in[i] << 16;

        *w++ = tbl[(v >> 18) & 63];
        *w++ = tbl[(v >> 12) & 63];
        *w++ = '=';
        *w++ = '=';
    } else if (len - i == 2) {
        unsigned long v =
            ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8);

        *w++ = tbl[(v >> 18) & 63];
        *w++ = tbl[(v >> 12) & 63];
        *w++ = tbl[(v >> 6) & 63];
        *w++ = '=';
    }
    *w = '\0';
}

int orch_sha256_hex(char out[65], const void *data, size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    if (SHA256(data, len, md) == NULL) {
        out[0] = '\0';
        return ORCH_ESIGN;
    }
    orch_hex_encode(out, md, sizeof(md));
    return 0;
}

/* One-shot HMAC with the given digest; mac receives exactly maclen bytes. */
static int hmac(const EVP_MD *md, unsigned char *mac, unsigned int maclen,
                const void *key, size_t keylen, const void *msg, size_t msglen)
{
    unsigned int n = 0;
    /* HMAC() rejects a NULL key even with length 0 on some builds. */
    static const unsigned char empty = 0;

    if (keylen > 0x7fffffff)
        return ORCH_ESIGN;
    if (key == NULL)
        key = &empty;
    if (msg == NULL)
        msg = &empty;
    if (HMAC(md, key, (int)keylen, msg, msglen, mac, &n) == NULL || n != maclen)
        return ORCH_ESIGN;
    return 0;
}

int orch_hmac_sha1(unsigned char mac[20], const void *key, size_t keylen,
                   const void *msg, size_t msglen)
{
    return hmac(EVP_sha1(), mac, 20, key, keylen, msg, msglen);
}

int orch_hmac_sha256(unsigned char mac[32], const void *key, size_t keylen,
                     const void *msg, size_t msglen)
{
    return hmac(EVP_sha256(), mac, 32, key, keylen, msg, msglen);
}

int orch_random_nonce(char out[33])
{
    unsigned char raw[16];

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        out[0] = '\0';
        return ORCH_ESIGN;
    }
    orch_hex_encode(out, raw, sizeof(raw));
    return 0;
}

int orch_str_equal_ct(const char *a, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);

    /* Lengths of signatures are public (fixed by the algorithm); only the
     * content is compared in constant time. */
    if (la != lb)
        return 0;
    return CRYPTO_memcmp(a, b, la) == 0;
}
