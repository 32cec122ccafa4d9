/* emu_sts.h - ota-emulator's credential services: STS (AssumeRole,
 * AssumeRoleWithOIDC, Version 2015-04-01) and the answers of its
 * credentials URI and ECS metadata service, minting keys in an emu_mint.
 *
 * STS checks, in order (codes and messages of the STS reference, all
 * HTTP 400):
 *   MissingRoleArn / InvalidParameter.RoleArn   acs:ram::<digits>:role/<name>
 *   MissingRoleSessionName / InvalidParameter.RoleSessionName
 *                          2 to 64 of [A-Za-z0-9.@_-]
 *   InvalidParameter.DurationSeconds  not an integer in 900..43200
 *                          (absent: 3600)
 *   OIDC: MissingOIDCProviderArn / InvalidParameter.OIDCProviderArn
 *                          (acs:ram::<digits>:oidc-provider/<name>),
 *         MissingOIDCToken, InvalidParameter.OIDCToken (not the token
 *                          required with --oidc-token)
 * The answer: {RequestId, AssumedRoleUser{Arn, AssumedRoleId},
 * Credentials{AccessKeyId "STS.…", AccessKeySecret, SecurityToken,
 * Expiration}} (+ SourceIdentity "" for OIDC: OIDCTokenInfo is left out).
 * Pure but for the mint (which locks itself); thread-safe.
 */
#ifndef EMU_STS_H
#define EMU_STS_H

#include "world/emu_call.h"

#include <stdbool.h>
#include <stdint.h>

struct emu_mint;

struct emu_sts_opts {
    int64_t ttl_ms;          /* lifetime of what is minted; 0: STS gives
                                the DurationSeconds asked, the others 1 h */
    const char *oidc_token;  /* the OIDC token required, NULL: any */
    const char *account_key; /* the account the unsigned mints (OIDC,
                                credentials URI, metadata) belong to */
};

/* True when the call is an STS one: Version 2015-04-01 and Action
 * AssumeRole or AssumeRoleWithOIDC. */
bool emu_sts_is_call(const char *action, const char *version);

/* Answers an STS call c (c->access_key_id: AssumeRole's signer, already
 * authenticated) into r, minting into m. Returns 0 or ORCH_ENOMEM. */
int emu_sts_call(struct emu_mint *m, const struct emu_sts_opts *o,
                 const struct emu_call *c, struct emu_result *r);

/* The answer of GET /credentials (ecs false) or of the metadata service's
 * GET .../security-credentials/<role> (ecs true: LastUpdated too), with
 * a key of kind "CredentialsURI" / "EcsMetadata" minted at now_ms:
 * {"Code":"Success", AccessKeyId, AccessKeySecret, SecurityToken,
 * Expiration[, LastUpdated]} (new reference) and its id into id_out[32]
 * (for the log). NULL on ENOMEM or no randomness. */
json_t *emu_sts_flat_answer(struct emu_mint *m, const struct emu_sts_opts *o,
                            bool ecs, int64_t now_ms, char id_out[32]);

#endif
