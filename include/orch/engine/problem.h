/* problem.h - what a failed call means for the operator: the class of
 * problem (credentials rejected, key unknown, clock skew, endpoint
 * unreachable, permission denied, firmware missing, other) and the one
 * thing to do about it.
 *
 * retry.h answers "may this call be sent again?"; this module answers
 * "what is wrong, and what helps?". Both are pure functions of the same
 * outcome (an API error Code, or a libcurl error when nothing answered).
 *
 * The codes (alibaba-api.md, sections c and d, and the public threads it
 * names; Forbidden.RAM from mgsky1/DDNS#27 and honwen/aliyun-ddns-cli#27):
 *   credentials rejected  SignatureDoesNotMatch, IncompleteSignature,
 *                         InvalidAccessKeySecret, MissingSecurityToken,
 *                         InvalidSecurityToken.* (STS token expired,
 *                         malformed, or not this key's)
 *   key unknown           InvalidAccessKeyId.* (NotFound: no such key, or
 *                         an expired STS key; Inactive: disabled)
 *   clock skew            InvalidTimeStamp.Expired (more than 15 minutes
 *                         off), RequestTimeTooSkewed
 *   endpoint unreachable  no answer at all: resolve, connect, TLS
 *                         handshake or verification, timeout
 *   permission denied     Forbidden* (Forbidden.RAM: "User not authorized
 *                         to operate on the specified resource"),
 *                         NoPermission*, *PermissionDeny
 *                         (iot.common.RamActionPermissionDeny,
 *                         iot.common.AuthActionPermissionDeny)
 *   firmware missing      iot.ota.FirmwareNotFound, iot.ota.InvalidFirmwareUid,
 *                         iot.ota.NotFirmwareOwner, and any code naming
 *                         Firmware with NotFound / NotExist / NotOwner
 *   other                 everything else (business and validation
 *                         errors, throttling, 5xx, ...)
 */
#ifndef ORCH_PROBLEM_H
#define ORCH_PROBLEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum orch_problem {
    ORCH_PROBLEM_OTHER = 0,
    ORCH_PROBLEM_CREDENTIALS,      /* the secret (or STS token) is wrong */
    ORCH_PROBLEM_KEY_UNKNOWN,      /* the AccessKeyId does not exist / off */
    ORCH_PROBLEM_CLOCK,            /* this machine's clock is off */
    ORCH_PROBLEM_ENDPOINT,         /* nothing answered (network, TLS) */
    ORCH_PROBLEM_DENIED,           /* the RAM policy does not allow it */
    ORCH_PROBLEM_FIRMWARE_MISSING  /* no such firmware in this account */
};

/* The class of a failed call: code is the answer's error Code (NULL or
 * "" when nothing answered), transport_error the libcurl error (0 when
 * an answer came). A transport error wins: no answer, no code. */
enum orch_problem orch_problem_classify(const char *code,
                                        int transport_error);

/* "credentials_rejected", "key_unknown", "clock_skew",
 * "endpoint_unreachable", "permission_denied", "firmware_missing",
 * "other": stable names for --json. */
const char *orch_problem_name(enum orch_problem p);
/* The human title: "credentials rejected", "AccessKeyId unknown",
 * "clock skew", "endpoint unreachable", "permission denied by the RAM
 * policy", "firmware missing", "call failed". */
const char *orch_problem_title(enum orch_problem p);

/* What the advice may name. Every field may be NULL / 0. */
struct orch_problem_ctx {
    const char *code;          /* the error Code (STS codes get STS advice) */
    const char *key_id;        /* AccessKeyId in use */
    const char *cred_source;   /* credentials.h's source: "environment",
                                  "profile NAME (FILE)", or a chain
                                  source's label */
    const char *provider;      /* credentials.h's provider ("env",
                                  "profile:RamRoleArn", "oidc", ...) */
    bool refreshed;            /* temporary credentials fetched again from
                                  their source before they expire (and
                                  after a refused token): key_id is only
                                  the first set's, so the advice names the
                                  source and what to check in it */
    const char *endpoint;      /* the endpoint called */
    const char *action;        /* the API action denied, e.g.
                                  "QueryOTAFirmware" */
    const char *firmware_id;   /* firmware missing: which */
    bool preflight;            /* the call is the pre-flight's, which
                                  --skip-preflight would skip */
    bool skew_known;           /* skew_ms is the server's clock minus ours */
    int64_t skew_ms;
};

/* Writes the one sentence that helps for p into out (NUL-terminated,
 * truncated to cap). Only for ORCH_PROBLEM_DENIED during the pre-flight
 * does it suggest --skip-preflight: for every other class skipping the
 * check cannot help (the Creates would fail the same way, or the check
 * found a real problem). ORCH_PROBLEM_OTHER: try again later. Never names
 * a secret (the context holds none). */
void orch_problem_advice(enum orch_problem p,
                         const struct orch_problem_ctx *ctx, char *out,
                         size_t cap);

/* The one sentence the operator is told: "<title> (<code>[, request id
 * <id>]): <advice>" (problem p, advice from ctx; code may be "" when
 * nothing answered, then the title alone before the colon). One line,
 * truncated to cap; request_id may be NULL or "". */
void orch_problem_sentence(enum orch_problem p, const char *code,
                           const char *request_id,
                           const struct orch_problem_ctx *ctx, char *out,
                           size_t cap);

/* Copies raw (a server's message, which may span lines: a
 * SignatureDoesNotMatch message quotes the canonical request) into out
 * as one line: each run of blanks (CR, LF, TAB, space) becomes one space,
 * none at either end; other control bytes are dropped. Truncated to cap
 * on a UTF-8 character boundary. raw NULL gives "". */
void orch_problem_one_line(const char *raw, char *out, size_t cap);

#endif
