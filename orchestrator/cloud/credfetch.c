/* credfetch.c - orch_credsource_fetch(): one blocking fetch of a fresh
 * credential set from a resolved source (credsource.h), by kind.
 *
 * DESIGN: each kind is one function: a static copy, STS AssumeRole (the
 * signer fetched first, recursively, so a ChainableRamRoleArn chain of
 * any depth works), STS AssumeRoleWithOIDC (the token file read again at
 * every fetch, as the official libraries do, since Kubernetes rotates
 * it), the ECS metadata service (imds.c), a credentials URI and an
 * External profile's command (credprocess.c). Every HTTP exchange is a
 * private blocking libcurl easy handle (credhttp.c), never
 * the dispatcher's. Answers are read by credanswer.c, which never quotes
 * a secret. Every buffer that held a secret (a request body with the
 * OIDC token, an answer) is wiped before it is freed.
 *
 * Pacing: the STS calls are API calls of their own, paced like every
 * other call: sts_send() is the single place every STS request leaves
 * from, so it asks the caller's hook (credpace.h) for a start before the
 * send and tells it a throttling answer. The hook and the quota key (the
 * label of the source the caller asked for, also for a signer's
 * AssumeRole) travel down in struct pace_ctx.
 */
#include "orch/cloud/credsource.h"

#include "orch/base/buf.h"
#include "orch/base/clock.h"
#include "orch/base/codec.h"
#include "orch/base/err.h"
#include "orch/cloud/credanswer.h"
#include "orch/cloud/credhttp.h"
#include "orch/cloud/credpace.h"
#include "orch/cloud/credprocess.h"
#include "orch/cloud/imds.h"
#include "orch/cloud/request.h"
#include "orch/cloud/sts.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* STS and a credentials URI: "a few seconds" (the metadata service has
 * its own 1 s, imds.h). */
#define FETCH_TIMEOUT_MS 10000
/* A Kubernetes service account token is about 1 KiB. */
#define OIDC_TOKEN_MAX (64 * 1024)

/* The caller's hooks (NULL: not paced) and the quota key they are
 * called with. */
struct pace_ctx {
    const struct orch_credpace *pace;
    const char *key;
};

static const char *label_of(const struct orch_credsource *src)
{
    return src->label && *src->label ? src->label : "credentials";
}

static int fetch_kind(const struct orch_credsource *src,
                      const struct pace_ctx *pc, struct orch_credset *out,
                      struct orch_diag *diag);

/* Waits for the caller's go for one request of action; *start_ms the
 * start it recorded. */
static int pace_before(const struct pace_ctx *pc, const char *what,
                       const char *action, uint64_t *start_ms,
                       struct orch_diag *diag)
{
    *start_ms = 0;
    if (pc->pace == NULL || pc->pace->before == NULL)
        return 0;
    if (pc->pace->before(pc->pace->ud, pc->key, action, start_ms) != 0)
        return orch_diag_set(diag, ORCH_EABORT,
                             "%s: not sent, the run is stopping", what);
    return 0;
}

/* A throttling answer to the request started at start_ms, told to the
 * caller's pacing. */
static void pace_answered(const struct pace_ctx *pc, const char *action,
                          uint64_t start_ms, const struct orch_buf *ans)
{
    if (pc->pace == NULL || pc->pace->throttled == NULL)
        return;
    if (orch_credanswer_throttled(ans->data, ans->len))
        pc->pace->throttled(pc->pace->ud, pc->key, action, start_ms);
}

void orch_credset_cleanup(struct orch_credset *set)
{
    if (set == NULL)
        return;
    orch_credentials_cleanup(&set->cred);
    set->expires_ms = -1;
    set->fetched_ms = 0;
}

/* orch_credsource_cleanup is credbuild.c's (where sources are built). */

static int fetch_static(const struct orch_credsource *src,
                        struct orch_credset *out, struct orch_diag *diag)
{
    const struct orch_credentials *c = &src->static_cred;
    int rc = 0;

    if (c->access_key_id == NULL || c->secret.s == NULL)
        return orch_diag_set(diag, ORCH_ECRED, "%s: no AccessKey",
                             label_of(src));
    out->cred.access_key_id = strdup(c->access_key_id);
    if (out->cred.access_key_id == NULL)
        return ORCH_ENOMEM;
    rc = orch_secret_set(&out->cred.secret, c->secret.s);
    if (rc == 0 && c->token.s)
        rc = orch_secret_set(&out->cred.token, c->token.s);
    /* An STS token given as is: its expiry is not known here. */
    out->expires_ms = -1;
    return rc;
}

/* Sends a built STS request of action once pc's pacing lets it start,
 * and reads its answer into out. `avoid`: the secrets a Message must not
 * quote. */
static int sts_send(const char *what, const char *action,
                    const struct orch_request *req,
                    const struct pace_ctx *pc, const char *const *avoid,
                    struct orch_credset *out, struct orch_diag *diag)
{
    uint64_t start_ms = 0;
    const char *hdrs[ORCH_REQ_MAX_HEADERS + 1];
    struct orch_credhttp_req rq = {0};
    struct orch_buf ans;
    long status = 0;
    size_t i = 0;
    int rc = 0;

    orch_buf_init(&ans);
    for (i = 0; i < req->nheaders; i++)
        hdrs[i] = orch_buf_str(&req->headers[i]);
    hdrs[i] = NULL;
    rq.method = "POST";
    rq.url = orch_buf_str(&req->url);
    rq.headers = hdrs;
    rq.body = orch_buf_str(&req->body);
    rq.body_len = req->body.len;
    rq.timeout_ms = FETCH_TIMEOUT_MS;
    rc = pace_before(pc, what, action, &start_ms, diag);
    if (rc == 0)
        rc = orch_credhttp_send(&rq, &status, &ans, diag);
    if (rc == 0 && status != 200)
        pace_answered(pc, action, start_ms, &ans);
    if (rc == ORCH_EHTTP) {
        char why[ORCH_DIAG_LEN];

        snprintf(why, sizeof(why), "%s", diag ? diag->msg : "");
        rc = orch_diag_set(diag, ORCH_EHTTP, "%s: %s", what, why);
    }
    if (rc == 0)
        rc = orch_credanswer_decode(ORCH_CREDANSWER_STS, what, status,
                                    ans.data, ans.len, avoid, out, diag);
    orch_credhttp_wipe(&ans);
    return rc;
}

static int fetch_assume_role(const struct orch_credsource *src,
                             const struct pace_ctx *pc,
                             struct orch_credset *out,
                             struct orch_diag *diag)
{
    struct orch_credset signer;
    struct orch_request req;
    struct orch_buf what;
    const char *avoid[3] = {NULL, NULL, NULL};
    char nonce[33];
    int rc = 0;

    memset(&signer, 0, sizeof(signer));
    orch_request_init(&req);
    orch_buf_init(&what);
    if (src->signer == NULL)
        return orch_diag_set(diag, ORCH_ECRED,
                             "%s: no credentials to call AssumeRole with",
                             label_of(src));
    rc = fetch_kind(src->signer, pc, &signer, diag);
    if (rc)
        goto out;
    rc = orch_random_nonce(nonce);
    if (!rc)
        rc = orch_sts_assume_role(&req, src, &signer.cred, orch_wall_ms(),
                                  nonce);
    if (rc == ORCH_EINVAL)
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "%s: no RoleArn, or a bad STS endpoint",
                           label_of(src));
    if (!rc)
        rc = orch_buf_printf(&what, "STS AssumeRole for %s", label_of(src));
    if (rc)
        goto out;
    avoid[0] = signer.cred.secret.s;
    avoid[1] = signer.cred.token.s;
    rc = sts_send(orch_buf_str(&what), "AssumeRole", &req, pc, avoid, out,
                  diag);
out:
    /* The body holds no secret (the token travels in the query, as the
     * signature does): wipe the URL. */
    if (req.url.data)
        OPENSSL_cleanse(req.url.data, req.url.cap);
    orch_request_cleanup(&req);
    orch_credset_cleanup(&signer);
    orch_buf_cleanup(&what);
    return rc;
}

/* Reads the OIDC token file (orch_secret_file_read, at most
 * OIDC_TOKEN_MAX bytes) into a malloced string without trailing
 * whitespace (the caller wipes and frees it). */
static int read_token_file(const char *path, char **out,
                           struct orch_diag *diag)
{
    char *buf = NULL;
    size_t len = 0, full = 0;
    int rc = 0;

    *out = NULL;
    if (path == NULL)
        return orch_diag_set(diag, ORCH_ECRED, "OIDC: no token file");
    rc = orch_secret_file_read(path, &buf, &full, NULL, diag);
    if (rc == ORCH_ENOTFOUND)
        return orch_diag_set(diag, ORCH_ECRED, "OIDC token file %s: %s",
                             path, strerror(ENOENT));
    if (rc)
        return rc;
    len = full;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
                       buf[len - 1] == ' ' || buf[len - 1] == '\t'))
        len--;
    if (len == 0 || full > OIDC_TOKEN_MAX) {
        orch_secret_text_free(buf, full);
        return orch_diag_set(diag, ORCH_ECRED, "OIDC token file %s %s", path,
                             len == 0 ? "is empty" : "is larger than 64 KiB");
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

static int fetch_oidc(const struct orch_credsource *src,
                      const struct pace_ctx *pc, struct orch_credset *out,
                      struct orch_diag *diag)
{
    struct orch_request req;
    struct orch_buf what;
    const char *avoid[2] = {NULL, NULL};
    char *token = NULL;
    int rc = 0;

    orch_request_init(&req);
    orch_buf_init(&what);
    rc = read_token_file(src->oidc_token_file, &token, diag);
    if (rc)
        goto out;
    rc = orch_sts_assume_role_oidc(&req, src, token, orch_wall_ms());
    if (rc == ORCH_EINVAL)
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "%s: no RoleArn or OIDCProviderArn, or a bad STS "
                           "endpoint",
                           label_of(src));
    if (!rc)
        rc = orch_buf_printf(&what, "STS AssumeRoleWithOIDC for %s",
                             label_of(src));
    if (rc)
        goto out;
    avoid[0] = token;
    rc = sts_send(orch_buf_str(&what), "AssumeRoleWithOIDC", &req, pc, avoid,
                  out, diag);
out:
    orch_credhttp_wipe(&req.body);
    orch_request_cleanup(&req);
    if (token) {
        OPENSSL_cleanse(token, strlen(token));
        free(token);
    }
    orch_buf_cleanup(&what);
    return rc;
}

static int fetch_uri(const struct orch_credsource *src,
                     struct orch_credset *out, struct orch_diag *diag)
{
    struct orch_credhttp_req rq = {0};
    struct orch_buf ans;
    long status = 0;
    int rc = 0;

    /* The URI itself is never quoted: it may carry a secret in its
     * query. */
    if (src->uri == NULL)
        return orch_diag_set(diag, ORCH_ECRED, "credentials URI: not set");
    orch_buf_init(&ans);
    rq.method = "GET";
    rq.url = src->uri;
    rq.timeout_ms = FETCH_TIMEOUT_MS;
    rc = orch_credhttp_send(&rq, &status, &ans, diag);
    if (rc == ORCH_EHTTP) {
        char why[ORCH_DIAG_LEN];

        snprintf(why, sizeof(why), "%s", diag ? diag->msg : "");
        rc = orch_diag_set(diag, ORCH_EHTTP, "credentials URI: %s", why);
    }
    if (rc == 0)
        rc = orch_credanswer_decode(ORCH_CREDANSWER_FLAT, "credentials URI",
                                    status, ans.data, ans.len, NULL, out,
                                    diag);
    orch_credhttp_wipe(&ans);
    return rc;
}

int orch_credsource_fetch(const struct orch_credsource *src,
                          struct orch_credset *out, struct orch_diag *diag)
{
    return orch_credsource_fetch_paced(src, NULL, out, diag);
}

int orch_credsource_fetch_paced(const struct orch_credsource *src,
                                const struct orch_credpace *pace,
                                struct orch_credset *out,
                                struct orch_diag *diag)
{
    struct pace_ctx pc = {pace, label_of(src)};

    return fetch_kind(src, &pc, out, diag);
}

/* One fetch by src's kind, a signer's (recursively) under the same pc. */
static int fetch_kind(const struct orch_credsource *src,
                      const struct pace_ctx *pc, struct orch_credset *out,
                      struct orch_diag *diag)
{
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->expires_ms = -1;
    switch (src->kind) {
    case ORCH_CRED_STATIC:
        rc = fetch_static(src, out, diag);
        break;
    case ORCH_CRED_ASSUME_ROLE:
        rc = fetch_assume_role(src, pc, out, diag);
        break;
    case ORCH_CRED_OIDC:
        rc = fetch_oidc(src, pc, out, diag);
        break;
    case ORCH_CRED_ECS:
        rc = orch_imds_fetch(src, out, diag);
        break;
    case ORCH_CRED_URI:
        rc = fetch_uri(src, out, diag);
        break;
    case ORCH_CRED_PROCESS:
        rc = orch_credprocess_fetch(src, out, diag);
        break;
    default:
        rc = orch_diag_set(diag, ORCH_EINVAL, "%s: unknown source kind %d",
                           label_of(src), (int)src->kind);
        break;
    }
    if (rc == 0) {
        /* The process source names its set already: one label either
         * way. */
        free(out->cred.source);
        out->cred.source = strdup(label_of(src));
        if (out->cred.source == NULL)
            rc = ORCH_ENOMEM;
    }
    if (rc)
        orch_credset_cleanup(out);
    else
        out->fetched_ms = orch_wall_ms();
    return rc;
}
