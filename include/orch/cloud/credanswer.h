/* credanswer.h - reading the answer of a credential service into a
 * fetched set: STS (AssumeRole, AssumeRoleWithOIDC: a `Credentials`
 * object), the ECS metadata service and a credentials URI (the fields at
 * the top, with "Code":"Success").
 *
 * The body holds secrets: it is parsed with jansson's wiping free
 * installed (credentials.h: orch_secret_json_wipe_on_free; every block
 * jansson frees is wiped first) and no part of it reaches diag but the
 * Code and a Message that quotes no secret. A refusal is ORCH_ECRED; a
 * 5xx, a throttling Code or a body that is not JSON with a 5xx is
 * ORCH_EHTTP (worth a retry). Pure apart from that one-time install.
 * Thread-safe.
 */
#ifndef ORCH_CREDANSWER_H
#define ORCH_CREDANSWER_H

#include <stddef.h>

struct orch_diag;
struct orch_credset;

enum orch_credanswer_shape {
    ORCH_CREDANSWER_STS,  /* {"Credentials":{AccessKeyId, ...}} */
    ORCH_CREDANSWER_FLAT  /* {"Code":"Success", AccessKeyId, ...} */
};

/* Decodes the answer of HTTP `status` (body of len bytes) from `what`
 * (e.g. `STS AssumeRole for RamRoleArn profile "ops"`, used as the diag's
 * prefix) into out->cred (access_key_id, secret, token; source left
 * alone) and out->expires_ms (from Expiration "2006-01-02T15:04:05Z"; -1
 * when absent). `avoid` lists strings (NULL-terminated, entries may be
 * NULL) that must never be quoted: a Message containing one is withheld.
 * Returns 0, ORCH_ECRED, ORCH_EHTTP or ORCH_ENOMEM; on failure out->cred
 * is left empty. */
int orch_credanswer_decode(enum orch_credanswer_shape shape,
                           const char *what, long status, const char *body,
                           size_t len, const char *const *avoid,
                           struct orch_credset *out, struct orch_diag *diag);

/* True for an error Code that a retry may cure: Throttling,
 * Throttling.User, Throttling.Api, ServiceUnavailable, InternalError. */
int orch_credanswer_retryable_code(const char *code);

/* True when an answer's body (len bytes, JSON) is a throttling refusal:
 * its Code starts with "Throttling". Reads the Code only. */
int orch_credanswer_throttled(const char *body, size_t len);

#endif
