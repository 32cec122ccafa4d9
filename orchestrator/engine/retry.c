/* retry.c - classify an attempt's outcome; backoff and retry-after hints.
 *
 * DESIGN: the one question is "could this request have created a job?".
 * CreateOTAStaticUpgradeJob takes no idempotency token, so a resend after
 * a processed request makes a second job. Hence:
 *
 *  - Transport error before the request went out (resolve, connect, TLS
 *    handshake): nothing reached the server -> RETRY.
 *  - Transport error after the request bytes went out (timeout, reset or
 *    close before the answer, a truncated answer): the server may have
 *    processed it -> AMBIGUOUS (never simply resent: the dispatcher
 *    reconciles it first).
 *  - TLS peer verification failed, bad CA file, malformed URL, unsupported
 *    protocol: every call of the run would fail the same way, and nothing
 *    was sent -> FATAL (stop, the rest not_sent).
 *  - An answer whose Code says the request was refused at the door:
 *    Throttling*, ServiceUnavailable*, SignatureNonceUsed (a replay
 *    check, before processing), iot.common.TooManyRequest, or HTTP 503 /
 *    429 whatever the body -> RETRY. These are the "not processed" codes.
 *  - Other 5xx answers (InternalError, InternalFailure, a proxy's 502/504
 *    page) and iot.system.SystemException at any status: the request
 *    reached the service, which failed somewhere inside; it may have
 *    committed the job first. They look transient, but a 5xx after the
 *    request body went out is an unknown outcome: AMBIGUOUS, reconciled
 *    before any resend; at worst a `failed/Ambiguous` chunk, never a
 *    duplicate job.
 *  - Credentials or signing rejected (InvalidAccessKeyId.*,
 *    SignatureDoesNotMatch, IncompleteSignature, InvalidSecurityToken.*,
 *    MissingSecurityToken, Forbidden*, iot.common.RamActionPermissionDeny,
 *    iot.common.AuthActionPermissionDeny) and request-shape errors every
 *    call shares (InvalidTimeStamp.Expired: clock skew; IllegalTimestamp,
 *    InvalidVersion, InvalidAction.NotFound) -> FATAL.
 *  - HTTP 414 / 431 -> RESEND_FORM (rejected before processing).
 *  - A 2xx whose body is not a JSON object (truncated, garbled): the
 *    service processed the call and we cannot tell its result ->
 *    AMBIGUOUS.
 *  - Everything else (validation, business, iot.* codes, other 4xx,
 *    undecodable 2xx/4xx bodies) -> FAILED, never retried.
 *
 * Codes are matched before statuses: Alibaba sends Throttling.User with
 * 400 or 503, so the status alone says little.
 */
#include "orch/engine/retry.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "orch/cloud/api.h"

/* A hint beyond an hour is nonsense; clamp so additions cannot wrap. */
#define HINT_MAX_MS 3600000ULL

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool code_is_fatal(const char *c)
{
    static const char *const exact[] = {
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingSecurityToken",
        "iot.common.RamActionPermissionDeny",
        "iot.common.AuthActionPermissionDeny",
        "InvalidTimeStamp.Expired",
        "IllegalTimestamp",
        "InvalidVersion",
        "InvalidAction.NotFound",
    };
    static const char *const prefix[] = {
        "InvalidAccessKeyId",
        "InvalidSecurityToken",
        "Forbidden",
    };

    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (strcmp(c, exact[i]) == 0)
            return true;
    for (size_t i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++)
        if (starts_with(c, prefix[i]))
            return true;
    return false;
}

/* Codes that mean the request was refused before any processing. */
static bool code_not_processed(const char *c)
{
    return starts_with(c, "Throttling") ||
           starts_with(c, "ServiceUnavailable") ||
           strcmp(c, "SignatureNonceUsed") == 0 ||
           strcmp(c, "iot.common.TooManyRequest") == 0;
}

static enum orch_verdict classify_transport(const struct orch_outcome *o)
{
    switch (o->transport_error) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return ORCH_VERDICT_FATAL;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
        /* Failed before a byte of the request could go out, whatever the
         * caller believed. */
        return ORCH_VERDICT_RETRY;
    default:
        return o->request_sent ? ORCH_VERDICT_AMBIGUOUS : ORCH_VERDICT_RETRY;
    }
}

enum orch_verdict orch_retry_classify(const struct orch_outcome *o)
{
    const struct orch_response *r = o->resp;
    const char *c = NULL;

    if (o->transport_error != 0 || r == NULL)
        return classify_transport(o);
    if (r->success)
        return ORCH_VERDICT_CREATED;
    c = r->code;
    if (code_is_fatal(c))
        return ORCH_VERDICT_FATAL;
    if (code_not_processed(c))
        return ORCH_VERDICT_RETRY;
    if (r->http_status == 414 || r->http_status == 431)
        return ORCH_VERDICT_RESEND_FORM;
    if (r->http_status == 503 || r->http_status == 429)
        return ORCH_VERDICT_RETRY;
    if (r->http_status >= 500 || strcmp(c, "iot.system.SystemException") == 0)
        return ORCH_VERDICT_AMBIGUOUS;
    /* A 2xx we cannot read (truncated, garbled) was processed: whether it
     * created a job is exactly what we do not know. */
    if (r->http_status >= 200 && r->http_status < 300 && !r->is_json)
        return ORCH_VERDICT_AMBIGUOUS;
    return ORCH_VERDICT_FAILED;
}

bool orch_retry_is_token_refusal(const struct orch_response *r)
{
    if (r == NULL || r->success)
        return false;
    return starts_with(r->code, "InvalidSecurityToken") ||
           strcmp(r->code, "InvalidAccessKeyId.NotFound") == 0;
}

bool orch_retry_is_throttle(const struct orch_response *r)
{
    if (r == NULL || r->success)
        return false;
    return starts_with(r->code, "Throttling") ||
           strcmp(r->code, "iot.common.TooManyRequest") == 0;
}

uint64_t orch_retry_backoff_ms(unsigned attempt, uint64_t base_ms,
                               uint64_t cap_ms, uint64_t rnd)
{
    uint64_t ceiling = base_ms;

    if (attempt < 1)
        attempt = 1;
    for (unsigned i = 1; i < attempt && ceiling < cap_ms; i++) {
        if (ceiling > UINT64_MAX / 2)
            ceiling = UINT64_MAX / 2;
        ceiling *= 2;
    }
    if (ceiling > cap_ms)
        ceiling = cap_ms;
    if (ceiling == UINT64_MAX)
        return rnd;
    return rnd % (ceiling + 1);
}

/* Parses a decimal prefix of s (after blanks); false if none. */
static bool parse_uint(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    bool any = false;

    while (*s == ' ' || *s == '\t')
        s++;
    for (; isdigit((unsigned char)*s); s++) {
        any = true;
        if (v > HINT_MAX_MS * 10)
            continue; /* saturate; clamped below */
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return any;
}

/* "k1:v1,TimeLeft:1234,k3:v3" -> 1234. */
static uint64_t parse_time_left(const char *value)
{
    const char *p = value;

    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        const char *k = p;
        size_t klen = 0;
        uint64_t v = 0;

        while (k < p + len && (*k == ' ' || *k == '\t'))
            k++;
        if (colon != NULL) {
            klen = (size_t)(colon - k);
            while (klen > 0 && (k[klen - 1] == ' ' || k[klen - 1] == '\t'))
                klen--;
            if (klen == 8 && strncasecmp(k, "TimeLeft", 8) == 0 &&
                parse_uint(colon + 1, &v))
                return v;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

uint64_t orch_retry_parse_hint(const char *name, const char *value)
{
    uint64_t v = 0;

    if (name == NULL || value == NULL)
        return 0;
    if (strcasecmp(name, "x-ratelimit-user-api") == 0 ||
        strcasecmp(name, "x-ratelimit-user") == 0) {
        v = parse_time_left(value);
    } else if (strcasecmp(name, "Retry-After") == 0) {
        /* Delta-seconds only; an HTTP-date is rare enough to ignore. */
        if (!parse_uint(value, &v))
            return 0;
        v = v > HINT_MAX_MS / 1000 ? HINT_MAX_MS : v * 1000;
    }
    return v > HINT_MAX_MS ? HINT_MAX_MS : v;
}
