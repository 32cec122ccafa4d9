/* codec.h - byte encodings and digests: percent-encoding, hex, Base64,
 * SHA-256 and HMAC (OpenSSL). Pure functions, thread-safe.
 */
#ifndef ORCH_CODEC_H
#define ORCH_CODEC_H

#include <stddef.h>
#include <stdint.h>

struct orch_buf;

/* Appends the RFC 3986 percent-encoding of s[0..len) to out: A-Z a-z 0-9
 * - _ . ~ stay, every other byte becomes %XX with upper-case hex (space is
 * %20, '*' is %2A, '~' stays). Returns 0 or ORCH_ENOMEM. */
int orch_percent_encode(struct orch_buf *out, const char *s, size_t len);
/* Appends the decoding of s[0..len) to out. With plus_is_space, '+' becomes
 * a space (form bodies). Returns 0, ORCH_EINVAL on a malformed escape, or
 * ORCH_ENOMEM. */
int orch_percent_decode(struct orch_buf *out, const char *s, size_t len,
                        int plus_is_space);

/* Value (0-15) of the hex digit c, either case, or -1. */
int orch_hex_digit(unsigned char c);
/* Writes 2*len lower-case hex digits and a NUL to out. */
void orch_hex_encode(char *out, const unsigned char *in, size_t len);
/* Standard Base64 with '=' padding; out must hold 4*((len+2)/3)+1 bytes. */
void orch_base64_encode(char *out, const unsigned char *in, size_t len);

/* Lower-case hex SHA-256 of data into out[65]. Returns 0 or ORCH_ESIGN. */
int orch_sha256_hex(char out[65], const void *data, size_t len);
/* HMAC-SHA1 (20 bytes) / HMAC-SHA256 (32 bytes) into mac. 0 or ORCH_ESIGN. */
int orch_hmac_sha1(unsigned char mac[20], const void *key, size_t keylen,
                   const void *msg, size_t msglen);
int orch_hmac_sha256(unsigned char mac[32], const void *key, size_t keylen,
                     const void *msg, size_t msglen);
/* 16 random bytes from OpenSSL's CSPRNG as 32 lower-case hex chars + NUL
 * (the official SDK's nonce shape). Returns 0 or ORCH_ESIGN. */
int orch_random_nonce(char out[33]);
/* Constant-time comparison of two NUL-terminated strings (for verifying
 * signatures): 1 if equal. */
int orch_str_equal_ct(const char *a, const char *b);

#endif
