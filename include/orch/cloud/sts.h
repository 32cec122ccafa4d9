/* sts.h - the two STS calls that mint temporary credentials, built as
 * credentials-go sends them (providers/ram_role_arn.go, oidc.go): POST
 * {sts_url}/?<common parameters> with the role's parameters in an
 * x-www-form-urlencoded body, Version 2015-04-01, Format JSON.
 *
 *   AssumeRole          signed with the V2 signer (HMAC-SHA1 over the
 *                       query's and the body's parameters together), the
 *                       signer's SecurityToken added when it has one;
 *                       RoleArn, RoleSessionName, DurationSeconds, and
 *                       Policy / ExternalId when set
 *   AssumeRoleWithOIDC  unsigned: Action, Version, Format, Timestamp in
 *                       the query; RoleArn, OIDCProviderArn, OIDCToken,
 *                       RoleSessionName, DurationSeconds, Policy in the body
 *
 * Pure (nonce and time are inputs); the answer is read with
 * credanswer.h. Thread-safe.
 */
#ifndef ORCH_STS_H
#define ORCH_STS_H

#include <stdint.h>

struct orch_credentials;
struct orch_credsource;
struct orch_request;

#define ORCH_STS_VERSION "2015-04-01"
#define ORCH_STS_SESSION_DEFAULT "ota-rollout"

/* Builds AssumeRole for src (ORCH_CRED_ASSUME_ROLE: role_arn,
 * session_name, duration_s, policy, external_id, sts_url) signed with
 * signer into req (orch_request_init'ed). The signer's secret is used
 * only to sign. Returns 0, ORCH_EINVAL (no role_arn, a bad sts_url),
 * ORCH_ENOMEM or ORCH_ESIGN. */
int orch_sts_assume_role(struct orch_request *req,
                         const struct orch_credsource *src,
                         const struct orch_credentials *signer,
                         int64_t now_ms, const char *nonce);

/* Builds AssumeRoleWithOIDC for src (ORCH_CRED_OIDC: role_arn,
 * oidc_provider_arn, session_name, duration_s, policy, sts_url) with the
 * OIDC token `token` into req. req->body then holds the token: the
 * caller wipes it (orch_credhttp_wipe) when done. Returns 0, ORCH_EINVAL
 * or ORCH_ENOMEM. */
int orch_sts_assume_role_oidc(struct orch_request *req,
                              const struct orch_credsource *src,
                              const char *token, int64_t now_ms);

#endif
