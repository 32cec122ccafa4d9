/* retry.h - what to do with an attempt's outcome, and how long to wait.
 *
 * Pure: classification is a function of the outcome; backoff takes the
 * random draw as an argument.
 */
#ifndef ORCH_RETRY_H
#define ORCH_RETRY_H

#include <stdbool.h>
#include <stdint.h>

struct orch_response;

enum orch_verdict {
    ORCH_VERDICT_CREATED = 0, /* success: the chunk is done */
    ORCH_VERDICT_RETRY,       /* transient and safe to resend (not processed) */
    ORCH_VERDICT_AMBIGUOUS,   /* the request went out and its fate is unknown */
    ORCH_VERDICT_FAILED,      /* final failure of this chunk (business or
                                 validation error): never retried */
    ORCH_VERDICT_FATAL,       /* credentials rejected: stop the whole run */
    ORCH_VERDICT_RESEND_FORM  /* 414/431: resend once with a form body */
};

struct orch_outcome {
    int transport_error;      /* 0, or a CURLcode */
    bool request_sent;        /* the request bytes had all gone out */
    const struct orch_response *resp; /* NULL when transport_error != 0 */
};

enum orch_verdict orch_retry_classify(const struct orch_outcome *o);
/* True when the answer is a throttling error (Throttling, Throttling.User,
 * Throttling.Api, or any Code starting with "Throttling"). */
bool orch_retry_is_throttle(const struct orch_response *r);
/* True when the answer refused the STS token as expired or invalid
 * (InvalidSecurityToken.*; InvalidAccessKeyId.NotFound, which the API
 * also answers for an expired STS key): a refresh of credentials that
 * can be refreshed may help, and the refusal created nothing. */
bool orch_retry_is_token_refusal(const struct orch_response *r);
/* Full-jitter exponential backoff: uniform in [0, min(cap, base * 2^(attempt-1))]
 * using `rnd` (any 64-bit random value). attempt starts at 1. */
uint64_t orch_retry_backoff_ms(unsigned attempt, uint64_t base_ms,
                               uint64_t cap_ms, uint64_t rnd);
/* A server retry-after hint in ms (x-ratelimit-user-api / x-ratelimit-user
 * "TimeLeft:N" or Retry-After seconds) parsed from a header value; 0 if
 * none. */
uint64_t orch_retry_parse_hint(const char *name, const char *value);

#endif
