/* imds.c - an ECS instance RAM role's credentials from the metadata
 * service: IMDSv2 session token, role discovery, the role's credentials.
 *
 * DESIGN: three short blocking exchanges (credhttp.c), each with the
 * 1 s timeout the official libraries use. The session token is a secret
 * of its own (it lets anyone on the instance read the role's keys): it
 * lives in a wiped buffer and never reaches diag.
 */
#include "orch/cloud/imds.h"

#include "orch/base/buf.h"
#include "orch/base/err.h"
#include "orch/cloud/credanswer.h"
#include "orch/cloud/credhttp.h"
#include "orch/cloud/credsource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRED_PATH "/latest/meta-data/ram/security-credentials/"
#define TOKEN_HEADER "X-aliyun-ecs-metadata-token: "

/* One GET or PUT of base+path; the session token header when token is
 * not NULL. Returns what orch_credhttp_send returns. */
static int imds_send(const char *method, const char *base, const char *path,
                     const char *header, long *status, struct orch_buf *ans,
                     struct orch_diag *diag)
{
    const char *hdrs[2] = {header, NULL};
    struct orch_credhttp_req rq = {0};
    struct orch_buf url;
    int rc = 0;

    orch_buf_init(&url);
    rc = orch_buf_printf(&url, "%s%s", base, path);
    if (rc)
        return rc;
    rq.method = method;
    rq.url = orch_buf_str(&url);
    rq.headers = header ? hdrs : NULL;
    rq.timeout_ms = ORCH_IMDS_TIMEOUT_MS;
    rc = orch_credhttp_send(&rq, status, ans, diag);
    if (rc == ORCH_EHTTP) {
        char why[ORCH_DIAG_LEN];

        snprintf(why, sizeof(why), "%s", diag ? diag->msg : "");
        rc = orch_diag_set(diag, ORCH_EHTTP,
                           "ECS metadata service %s unreachable: %s", base,
                           why);
    }
    orch_buf_cleanup(&url);
    return rc;
}

/* Step 1: the IMDSv2 session token as a ready header line into hdr
 * (empty: IMDSv1). */
static int session_header(const struct orch_credsource *src,
                          struct orch_buf *hdr, struct orch_diag *diag)
{
    static const char *const ttl[] = {
        "X-aliyun-ecs-metadata-token-ttl-seconds: " ORCH_IMDS_TOKEN_TTL,
        NULL};
    struct orch_buf ans;
    long status = 0;
    int rc = 0;

    orch_buf_init(&ans);
    rc = imds_send("PUT", src->metadata_url, "/latest/api/token", ttl[0],
                   &status, &ans, diag);
    if (rc)
        goto out;
    if (status == 200 && ans.len > 0) {
        /* Room first: a growing buffer would free an unwiped copy. */
        rc = orch_buf_reserve(hdr, sizeof(TOKEN_HEADER) + ans.len);
        if (!rc)
            rc = orch_buf_puts(hdr, TOKEN_HEADER);
        if (!rc)
            rc = orch_buf_append(hdr, ans.data, strcspn(ans.data, "\r\n"));
    } else if (src->imdsv1_disabled) {
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "ECS metadata service: the IMDSv2 session token "
                           "was refused (HTTP %ld) and IMDSv1 is disabled "
                           "(ALIBABA_CLOUD_IMDSV1_DISABLED)",
                           status);
    }
out:
    orch_credhttp_wipe(&ans);
    return rc;
}

/* Step 2: the first role the service lists, into role. */
static int discover_role(const struct orch_credsource *src, const char *hdr,
                         struct orch_buf *role, struct orch_diag *diag)
{
    struct orch_buf ans;
    long status = 0;
    size_t n = 0;
    int rc = 0;

    orch_buf_init(&ans);
    rc = imds_send("GET", src->metadata_url, CRED_PATH, hdr, &status, &ans,
                   diag);
    if (rc)
        goto out;
    if (status != 200) {
        rc = orch_diag_set(diag, status >= 500 ? ORCH_EHTTP : ORCH_ECRED,
                           "ECS metadata service: listing the RAM roles: "
                           "HTTP %ld",
                           status);
        goto out;
    }
    n = strcspn(orch_buf_str(&ans), "\r\n");
    if (n == 0)
        rc = orch_diag_set(diag, ORCH_ECRED,
                           "ECS metadata service: no RAM role is attached "
                           "to this instance");
    else
        rc = orch_buf_append(role, ans.data, n);
out:
    orch_buf_cleanup(&ans);
    return rc;
}

int orch_imds_fetch(const struct orch_credsource *src,
                    struct orch_credset *out, struct orch_diag *diag)
{
    struct orch_buf hdr, role, path, ans, what;
    long status = 0;
    int rc = 0;

    orch_buf_init(&hdr);
    orch_buf_init(&role);
    orch_buf_init(&path);
    orch_buf_init(&ans);
    orch_buf_init(&what);
    if (src->metadata_url == NULL)
        return orch_diag_set(diag, ORCH_ECRED,
                             "ECS metadata service: no address");
    rc = session_header(src, &hdr, diag);
    if (!rc && src->ecs_role_name && *src->ecs_role_name)
        rc = orch_buf_puts(&role, src->ecs_role_name);
    else if (!rc)
        rc = discover_role(src, hdr.len ? orch_buf_str(&hdr) : NULL, &role,
                           diag);
    if (!rc)
        rc = orch_buf_printf(&path, CRED_PATH "%s", orch_buf_str(&role));
    if (!rc)
        rc = imds_send("GET", src->metadata_url, orch_buf_str(&path),
                       hdr.len ? orch_buf_str(&hdr) : NULL, &status, &ans,
                       diag);
    if (rc)
        goto out;
    rc = orch_buf_printf(&what, "ECS metadata service, RAM role \"%s\"",
                         orch_buf_str(&role));
    if (!rc)
        rc = orch_credanswer_decode(ORCH_CREDANSWER_FLAT,
                                    orch_buf_str(&what), status, ans.data,
                                    ans.len, NULL, out, diag);
out:
    orch_credhttp_wipe(&hdr);
    orch_credhttp_wipe(&ans);
    orch_buf_cleanup(&role);
    orch_buf_cleanup(&path);
    orch_buf_cleanup(&what);
    return rc;
}
