/* sts.c - the STS AssumeRole and AssumeRoleWithOIDC requests.
 *
 * DESIGN: both are RPC calls built by request.c (V2 with the common
 * parameters in the query for AssumeRole, the unsigned form for OIDC);
 * this module only lists the role's parameters.
 */
#include "orch/cloud/sts.h"

#include "orch/base/err.h"
#include "orch/cloud/credsource.h"
#include "orch/cloud/params.h"
#include "orch/cloud/request.h"

#include <openssl/crypto.h>

#include <stddef.h>
#include <string.h>

/* Wipes every value of p (the OIDC token is one of them): the arena's
 * blocks are freed unwiped. */
static void wipe_values(struct orch_params *p)
{
    size_t i = 0;

    for (i = 0; i < p->n; i++)
        OPENSSL_cleanse(p->v[i].value, strlen(p->v[i].value));
}

/* The role's parameters shared by both calls. */
static int role_params(struct orch_params *p,
                       const struct orch_credsource *src)
{
    const char *session = src->session_name && *src->session_name
                              ? src->session_name
                              : ORCH_STS_SESSION_DEFAULT;
    long duration = src->duration_s > 0 ? src->duration_s : 3600;
    int rc = 0;

    if (src->role_arn == NULL || *src->role_arn == '\0' ||
        src->sts_url == NULL)
        return ORCH_EINVAL;
    rc = orch_params_add(p, "RoleArn", src->role_arn);
    if (!rc)
        rc = orch_params_add(p, "RoleSessionName", session);
    if (!rc)
        rc = orch_params_addf(p, "DurationSeconds", "%ld", duration);
    if (!rc && src->policy && *src->policy)
        rc = orch_params_add(p, "Policy", src->policy);
    return rc;
}

int orch_sts_assume_role(struct orch_request *req,
                         const struct orch_credsource *src,
                         const struct orch_credentials *signer,
                         int64_t now_ms, const char *nonce)
{
    struct orch_request_input in = {0};
    struct orch_params p;
    int rc = 0;

    orch_params_init(&p);
    rc = role_params(&p, src);
    if (!rc && src->external_id && *src->external_id)
        rc = orch_params_add(&p, "ExternalId", src->external_id);
    if (rc)
        goto out;
    in.endpoint = src->sts_url;
    in.action = "AssumeRole";
    in.params = &p;
    in.cred = signer;
    in.signature_version = 2;
    in.now_ms = now_ms;
    in.nonce = nonce;
    in.version = ORCH_STS_VERSION;
    in.v2_query = true;
    rc = orch_request_build(req, &in);
out:
    orch_params_cleanup(&p);
    return rc;
}

int orch_sts_assume_role_oidc(struct orch_request *req,
                              const struct orch_credsource *src,
                              const char *token, int64_t now_ms)
{
    struct orch_request_input in = {0};
    struct orch_params p;
    int rc = 0;

    orch_params_init(&p);
    rc = role_params(&p, src);
    if (!rc && (src->oidc_provider_arn == NULL || token == NULL))
        rc = ORCH_EINVAL;
    if (!rc)
        rc = orch_params_add(&p, "OIDCProviderArn", src->oidc_provider_arn);
    if (!rc)
        rc = orch_params_add(&p, "OIDCToken", token);
    if (rc)
        goto out;
    in.endpoint = src->sts_url;
    in.action = "AssumeRoleWithOIDC";
    in.params = &p;
    in.signature_version = 0;
    in.now_ms = now_ms;
    in.version = ORCH_STS_VERSION;
    rc = orch_request_build(req, &in);
out:
    wipe_values(&p);
    orch_params_cleanup(&p);
    return rc;
}
