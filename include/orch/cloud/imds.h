/* imds.h - credentials of an ECS instance's RAM role from the instance
 * metadata service (as credentials-go's ecs_ram_role.go reads them).
 *
 *   1. IMDSv2: PUT {metadata_url}/latest/api/token with
 *      X-aliyun-ecs-metadata-token-ttl-seconds: 21600; the answer is the
 *      session token, sent as X-aliyun-ecs-metadata-token below. When the
 *      service answers the PUT with an HTTP error, IMDSv1 (no token
 *      header) is used instead, unless src->imdsv1_disabled.
 *   2. The role: src->ecs_role_name, else the first line of
 *      GET /latest/meta-data/ram/security-credentials/.
 *   3. GET /latest/meta-data/ram/security-credentials/<role>:
 *      {"Code":"Success", AccessKeyId, AccessKeySecret, SecurityToken,
 *      Expiration, LastUpdated}.
 * Every exchange has a 1 s timeout. Thread-safe.
 */
#ifndef ORCH_IMDS_H
#define ORCH_IMDS_H

struct orch_credset;
struct orch_credsource;
struct orch_diag;

#define ORCH_IMDS_TIMEOUT_MS 1000
#define ORCH_IMDS_TOKEN_TTL "21600"

/* Fetches src's (ORCH_CRED_ECS) credentials into out->cred and
 * out->expires_ms. Returns 0; ORCH_EHTTP when the service cannot be
 * reached or answers 5xx (the chain may go on to the credentials URI);
 * ORCH_ECRED for a refusal (no role attached, an unknown role, IMDSv2
 * refused with IMDSv1 disabled, a Code other than Success); or
 * ORCH_ENOMEM. diag names the metadata service and the role, never the
 * session token. */
int orch_imds_fetch(const struct orch_credsource *src,
                    struct orch_credset *out, struct orch_diag *diag);

#endif
