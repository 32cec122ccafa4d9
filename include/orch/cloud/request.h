/* request.h - turn an action and its parameters into a signed HTTP request
 * (method, URL, headers, body), ready for http.c to send.
 *
 * Pure: nonce and time are inputs, so unit tests compare against the
 * official SDK's bytes. V3 (default): POST, parameters in the query,
 * x-acs-* headers signed with ACS3-HMAC-SHA256; with `form_body`, the
 * parameters travel in an x-www-form-urlencoded body instead (the fallback
 * after a 414/431). V2: POST with every parameter, Signature included, in a
 * form body (HMAC-SHA1, SignatureVersion 1.0, Format=JSON); with
 * `v2_query`, the common parameters and the Signature travel in the query
 * and only the action's parameters in the form body (how credentials-go
 * sends STS AssumeRole; the signature covers both, as always).
 */
#ifndef ORCH_REQUEST_H
#define ORCH_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orch/base/buf.h"

struct orch_credentials;
struct orch_params;

#define ORCH_API_VERSION "2018-01-20"

struct orch_request_input {
    const char *endpoint;          /* "https://iot.cn-shanghai.aliyuncs.com" or
                                      "http://127.0.0.1:PORT" */
    const char *action;            /* "CreateOTAStaticUpgradeJob" */
    const struct orch_params *params; /* action parameters only */
    const struct orch_credentials *cred;
    int signature_version;         /* 3, 2, or 0: unsigned (STS
                                      AssumeRoleWithOIDC: Action, Version,
                                      Format, Timestamp in the query, the
                                      parameters in a form body; cred and
                                      nonce unused) */
    bool form_body;                /* V3: parameters in a form body */
    int64_t now_ms;                /* wall clock, for Timestamp / x-acs-date */
    const char *nonce;             /* unique per attempt */
    /* Added at the end (zero them when unused): */
    const char *version;           /* API Version; NULL = ORCH_API_VERSION */
    bool v2_query;                 /* V2: common parameters in the query */
};

#define ORCH_REQ_MAX_HEADERS 16

/* The wire request. Owned by the caller: orch_request_init/cleanup. */
struct orch_request {
    struct orch_buf url;           /* endpoint + "/?" + query */
    struct orch_buf body;          /* empty for V3 query style */
    struct orch_buf headers[ORCH_REQ_MAX_HEADERS]; /* "name: value" lines */
    size_t nheaders;
    /* The AccessKeyId that signed it (credentials rotate: credlive.h),
     * "" when none; not a secret. */
    char key_id[160];
};

void orch_request_init(struct orch_request *req);
void orch_request_cleanup(struct orch_request *req);
/* Builds the signed request into req (reset first). Returns 0, ORCH_EINVAL
 * (bad endpoint), ORCH_ENOMEM or ORCH_ESIGN. The secret is used only to
 * sign; it is not copied into req. When in->cred has a live holder
 * (credlive.h), its current set at in->now_ms signs (taken under the
 * holder's lock for the signature's time only); ORCH_ECRED when that set
 * is within its safety margin (nothing is signed with it). */
int orch_request_build(struct orch_request *req,
                       const struct orch_request_input *in);

/* Formats epoch ms as "YYYY-MM-DDThh:mm:ssZ" into out[21]. */
void orch_format_iso8601(char out[21], int64_t epoch_ms);

#endif
