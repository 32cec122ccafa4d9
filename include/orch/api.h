/* api.h - the OTA operations' request parameters and response decoding.
 *
 * Builders fill an orch_params with an action's parameters (no common
 * parameters: request.c adds those). The decoder understands every answer
 * shape of alibaba-api.md: gateway errors (HTTP 4xx/5xx with Code/Message),
 * IoT business errors (HTTP 200, Success:false, Code, ErrorMessage), success
 * (Success:true, Data), and bodies that are not JSON at all. Pure functions.
 */
#ifndef ORCH_API_H
#define ORCH_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct orch_config;
struct orch_params;
struct orch_plan;
struct orch_chunk;

/* CreateOTAStaticUpgradeJob for one chunk (TargetSelection=SPECIFIC,
 * TargetDeviceName.1..N) or, with chunk == NULL, the single ALL/GRAY call
 * (SrcVersion.N, GrayPercent). Every optional API value the config holds
 * is added. Returns 0 or ORCH_ENOMEM. */
int orch_api_create_params(struct orch_params *out,
                           const struct orch_config *cfg,
                           const struct orch_plan *plan,
                           const struct orch_chunk *chunk);

struct orch_response {
    long http_status;
    bool is_json;          /* the body parsed as a JSON object */
    bool success;          /* HTTP 2xx and Success:true (or no Success field
                              and no Code on a 2xx) */
    char code[128];        /* Code, or "HTTP<status>" / "BadResponse" */
    char message[512];     /* Message or ErrorMessage, or the first bytes of
                              a body that is not JSON */
    char request_id[128];
    char job_id[128];      /* Data.JobId */
    char utc_create[64];   /* Data.UtcCreate */
    json_t *root;          /* the parsed body (owned), NULL if not JSON */
};

void orch_response_init(struct orch_response *r);
void orch_response_cleanup(struct orch_response *r);
/* Decodes one HTTP answer. Never fails on bad input: a body that is not JSON
 * sets code "BadResponse" with the status and the first bytes (printable,
 * at most 200) in message. Returns 0 or ORCH_ENOMEM. */
int orch_api_decode(struct orch_response *r, long http_status,
                    const char *body, size_t len);

#endif
