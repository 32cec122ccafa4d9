/* sign.h - Alibaba Cloud request signatures: RPC V2 (HMAC-SHA1,
 * SignatureVersion 1.0) and V3 (ACS3-HMAC-SHA256).
 *
 * Pure functions of their inputs (no clock, no randomness): the caller
 * supplies nonce and timestamp. Used by the client (request.c) and by the
 * emulator's verifier, so both sides compute the very same bytes.
 * Thread-safe. Secrets are only read; nothing here copies them.
 */
#ifndef ORCH_SIGN_H
#define ORCH_SIGN_H

#include <stddef.h>

struct orch_buf;
struct orch_params;

/* Base64 of HMAC-SHA1 is 28 characters + NUL. */
#define ORCH_SIGN_V2_LEN 29

/* V2: signs every parameter of `params` except one named "Signature":
 *   StringToSign = METHOD & %2F & percent(sorted canonical query)
 *   Signature    = Base64(HMAC-SHA1(secret + "&", StringToSign))
 * params need not be sorted (a sorted copy is made). method is "GET" or
 * "POST". If string_to_sign is not NULL it receives the StringToSign.
 * Returns 0, ORCH_ENOMEM or ORCH_ESIGN. */
int orch_sign_v2(const struct orch_params *params, const char *method,
                 const char *secret, char out[ORCH_SIGN_V2_LEN],
                 struct orch_buf *string_to_sign);

/* One header for V3 signing. Names are compared case-insensitively and
 * written lower-case; values are trimmed. */
struct orch_header {
    const char *name;
    const char *value;
};

struct orch_v3_input {
    const char *method;               /* "POST" */
    const char *path;                 /* "/" for RPC */
    const struct orch_params *query;  /* parameters in the query; may be NULL */
    const struct orch_header *headers;/* the headers to sign: host, x-acs-*,
                                         content-type (any order) */
    size_t nheaders;
    const char *hashed_payload;       /* hex SHA-256 of the body */
    /* Optional (added at the end; zero it): the query's canonical form,
     * sorted and encoded as orch_params_encode writes it, e.g. the query
     * of the URL being signed. When not NULL it is used as is, and `query`
     * is not sorted and encoded a second time: the caller vouches that
     * they agree. */
    const char *canonical_query;
    size_t canonical_query_len;
};

/* V3: builds the canonical request, StringToSign =
 * "ACS3-HMAC-SHA256\n" + hex(SHA-256(canonical request)) and appends to
 * `authorization` the complete header value
 *   "ACS3-HMAC-SHA256 Credential=<key_id>,SignedHeaders=<a;b>,Signature=<hex>".
 * canonical_request / string_to_sign, when not NULL, receive those texts
 * (the emulator quotes them in SignatureDoesNotMatch, as the gateway does).
 * Returns 0, ORCH_ENOMEM or ORCH_ESIGN. */
int orch_sign_v3(const struct orch_v3_input *in, const char *key_id,
                 const char *secret, struct orch_buf *authorization,
                 struct orch_buf *canonical_request,
                 struct orch_buf *string_to_sign);

#endif
