/* emu_verify.h - ota-emulator's API gateway authentication: AccessKey
 * registry, V2 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256) signature checks,
 * timestamp skew, nonce replay and STS tokens.
 *
 * The verifier works on a parsed request (struct emu_http_request,
 * emu_request.h), not on a socket, so unit tests feed it the official SDK vectors directly.
 * Signatures are recomputed with the client's own signer (orch/sign.h), so
 * both sides compute the very same bytes.
 *
 * Codes answered (all HTTP 400 unless noted), in the order checked:
 *   InvalidParameter            query or form body with a bad %XX escape
 *   IncompleteSignature         malformed V3 Authorization; a host,
 *                               content-type or x-acs-* header present but
 *                               not in SignedHeaders (or signed but absent);
 *                               x-acs-content-sha256 missing; V2
 *                               SignatureMethod/SignatureVersion missing or
 *                               not HMAC-SHA1 / 1.0
 *   MissingSignature, MissingAccessKeyId, MissingSignatureNonce,
 *   MissingAction, MissingVersion
 *                               the gateway's "<Param> is mandatory for
 *                               this action." family (Alibaba has no
 *                               generic MissingParameter code)
 *   InvalidVersion              Version not 2018-01-20 / 2022-01-01
 *                               (2015-04-01 for STS AssumeRole)
 *   InvalidAccessKeyId.NotFound (404) unknown AccessKeyId / Credential
 *   IllegalTimestamp            Timestamp / x-acs-date missing or not
 *                               yyyy-MM-ddTHH:mm:ssZ
 *   InvalidTimeStamp.Expired    more than 15 minutes from the clock
 *   MissingSecurityToken        STS key without its token
 *   InvalidSecurityToken.MismatchWithAccessKey  token differs from the
 *                               registered one (or a token on a plain key)
 *   InvalidSecurityToken.Expired a minted (temporary) key past its expiry
 *                               on the emulator's clock
 *   SignatureDoesNotMatch       message quotes the server's string to sign
 *                               (V3: and its canonical request)
 *   SignatureNonceUsed          nonce already seen for this key within
 *                               15 minutes (checked last, so a rejected
 *                               request does not burn its nonce)
 *   Forbidden.RAM               the request is authentic but the key's RAM
 *                               policy (emu_verifier_deny) does not allow
 *                               its action: "User not authorized to
 *                               operate on the specified resource, or this
 *                               API doesn't support RAM." HTTP 400 as
 *                               observed (mgsky1/DDNS#27,
 *                               honwen/aliyun-ddns-cli#27; some products
 *                               answer 403)
 *
 * Thread-safety: emu_verify_request() may be called from many threads; the
 * key registry must be complete before the first call.
 */
#ifndef EMU_VERIFY_H
#define EMU_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/emu_request.h"

struct orch_diag;
struct emu_mint;
struct emu_verifier;

/* The Version of STS (AssumeRole, AssumeRoleWithOIDC). */
#define EMU_STS_VERSION "2015-04-01"

/* Clock skew allowed for Timestamp / x-acs-date, and how long a nonce is
 * remembered. */
#define EMU_VERIFY_WINDOW_MS (15 * 60 * 1000)

/* Returns a verifier with no keys, or NULL. Free with emu_verifier_free. */
struct emu_verifier *emu_verifier_new(void);
/* Wipes the secrets; NULL-safe. */
void emu_verifier_free(struct emu_verifier *v);
/* Registers "ID:SECRET" or, for STS credentials, "ID:SECRET:TOKEN" (the
 * token is everything after the second colon). Re-registering an id
 * replaces it. Returns 0, ORCH_EINVAL (diag says why, never the secret) or
 * ORCH_ENOMEM. Not thread-safe: call before serving. */
int emu_verifier_add_key(struct emu_verifier *v, const char *spec,
                         struct orch_diag *diag);
/* A RAM policy for key ID that does not allow the actions of
 * "ID:ACTION[,ACTION...]" ("ID:*": none). The key need not be registered
 * yet. Returns 0, ORCH_EINVAL (diag says why) or ORCH_ENOMEM. Not
 * thread-safe: call before serving. */
int emu_verifier_deny(struct emu_verifier *v, const char *spec,
                      struct orch_diag *diag);
/* Number of registered keys. */
size_t emu_verifier_key_count(const struct emu_verifier *v);
/* The id of the first registered key (the account the credentials URI
 * and the metadata service mint for), or NULL. */
const char *emu_verifier_first_key(const struct emu_verifier *v);
/* Also accepts the keys minted by m (borrowed; NULL: none), checking
 * their expiry; an accepted call with one counts in m. Not thread-safe:
 * call before serving. */
void emu_verifier_set_minted(struct emu_verifier *v, struct emu_mint *m);

/* Parses the query and, for an x-www-form-urlencoded body, the body into
 * out->params, tells the signature version and the action, then verifies
 * (see the list above). now_ms is the emulator's wall clock (epoch ms).
 * Returns 0 with the verdict in `out` (out->code[0] == '\0' when accepted)
 * or ORCH_ENOMEM. A nonce is recorded only for an accepted request. */
int emu_verify_request(struct emu_verifier *v,
                       const struct emu_http_request *req, int64_t now_ms,
                       struct emu_auth *out);
/* The verification step alone, on `out` as emu_verify_parse() left it for
 * the same req (the server parses once, decides on faults, then verifies:
 * a 200-device request has 200+ parameters and parsing them twice was a
 * tenth of the emulator's CPU). Same verdicts and returns as
 * emu_verify_request(). Calling it on an `out` that emu_verify_parse()
 * rejected (code set) returns 0 and keeps that verdict. */
int emu_verify_parsed(struct emu_verifier *v,
                      const struct emu_http_request *req, int64_t now_ms,
                      struct emu_auth *out);

#endif
