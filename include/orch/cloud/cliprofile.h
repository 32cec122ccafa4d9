/* cliprofile.h - a profile of the aliyun CLI's config file
 * (~/.aliyun/config.json) as a credential source, with the CLI's mode and
 * field names (aliyun-cli config/profile.go):
 *
 *   AK, StsToken           access_key_id, access_key_secret[, sts_token]
 *                          -> ORCH_CRED_STATIC, label "profile NAME (FILE)"
 *   RamRoleArn             access_key_id, access_key_secret[, sts_token],
 *                          ram_role_arn, ram_session_name, expired_seconds,
 *                          external_id, sts_region, sts_endpoint
 *   ChainableRamRoleArn    source_profile (any supported mode, resolved
 *                          recursively as the signer; a cycle is refused),
 *                          ram_role_arn, ram_session_name, expired_seconds,
 *                          external_id, sts_region, sts_endpoint
 *   EcsRamRole             ram_role_name (empty: discovered)
 *   CredentialsURI         credentials_uri
 *   OIDC                   oidc_provider_arn, oidc_token_file, ram_role_arn,
 *                          ram_session_name, expired_seconds, sts_region,
 *                          sts_endpoint
 *   External               process_command (credprocess.h)
 *
 * A profile without "mode" is AK (the CLI's default); mode names match in
 * any case, as the CLI's NormalizeMode does. The other modes (CloudSSO,
 * OAuth, RsaKeyPair, BearerToken, RamRoleArnWithRoleName, Anonymous) and
 * unknown ones are refused with a message naming what to use instead.
 * Labels: `<Mode> profile "NAME"` for the temporary modes; providers
 * "profile:<Mode>".
 */
#ifndef ORCH_CLIPROFILE_H
#define ORCH_CLIPROFILE_H

#include <stdbool.h>

#include "orch/cloud/credsource.h"

struct orch_diag;

/* Resolves profile `name` of the config file at path (name NULL: the
 * file's "current", else "default"). *file_exists tells whether path
 * exists. A loose mode on the file (or on an OIDC token file) is appended
 * to *warning (malloced). Returns 0 with *out (orch_credbuild_free it);
 * ORCH_ENOTFOUND when the file does not exist, or the profile does not
 * exist (diag: "profile NAME not found in FILE") and name was NULL and the
 * file has no "current" (a "current" that names no profile is
 * ORCH_ECONFIG); ORCH_ENOTFOUND too for a missing explicit name, with that
 * diag, so that the caller can look elsewhere; ORCH_ECRED for a missing
 * field or an unsupported mode; ORCH_ECONFIG for a malformed file or a
 * value out of range (diag names file, profile and field, never a secret);
 * ORCH_ENOMEM. */
int orch_cliprofile_resolve(struct orch_credsource **out, const char *path,
                            const char *name, bool *file_exists,
                            char **warning, struct orch_diag *diag);

#endif
