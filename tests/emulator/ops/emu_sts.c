/* emu_sts.c - ota-emulator's STS and the answers of its credentials URI
 * and metadata service.
 *
 * DESIGN: a call's parameters are checked in the order STS documents its
 * errors; the first refusal answers. A success mints a key (emu_mint.c)
 * for the account of the signer (AssumeRole) or of the configured
 * account key (OIDC, the credentials URI, the metadata service), so the
 * temporary key's calls count against that account's quota.
 */
#include "ops/emu_sts.h"

#include "world/emu_mint.h"
#include "world/emu_reply.h"

#include "orch/base/err.h"
#include "orch/cloud/params.h"

#include <openssl/crypto.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STS_HOST "sts.aliyuncs.com"
#define DEFAULT_TTL_MS (3600LL * 1000)

bool emu_sts_is_call(const char *action, const char *version)
{
    return action && version && strcmp(version, "2015-04-01") == 0 &&
           (strcmp(action, "AssumeRole") == 0 ||
            strcmp(action, "AssumeRoleWithOIDC") == 0);
}

/* An STS refusal: HTTP 400 with the gateway's error shape. */
static int sts_fail(struct emu_result *r, const struct emu_call *c,
                    const char *code, const char *message)
{
    r->http_status = 400;
    snprintf(r->code, sizeof(r->code), "%s", code);
    r->body = emu_gateway_error_json(c->request_id, STS_HOST, code, message);
    return r->body ? 0 : ORCH_ENOMEM;
}

/* "acs:ram::<digits>:<kind>/<name>" with name of [A-Za-z0-9.@_-]+; the
 * account id into uid[32]. */
static bool arn_ok(const char *arn, const char *kind, char uid[32])
{
    const char *p = arn;
    size_t n = 0;

    if (strncmp(p, "acs:ram::", 9) != 0)
        return false;
    p += 9;
    while (isdigit((unsigned char)p[n]))
        n++;
    if (n == 0 || n >= 32 || p[n] != ':')
        return false;
    memcpy(uid, p, n);
    uid[n] = '\0';
    p += n + 1;
    n = strlen(kind);
    if (strncmp(p, kind, n) != 0 || p[n] != '/' || p[n + 1] == '\0')
        return false;
    for (p += n + 1; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(".@_-", *p))
            return false;
    return true;
}

static bool session_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n < 2 || n > 64)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(".@_-", *s))
            return false;
    return true;
}

/* DurationSeconds: absent 3600, else an integer in 900..43200; -1 when
 * invalid. */
static long duration_of(const char *s)
{
    char *end = NULL;
    long v = 0;

    if (s == NULL)
        return 3600;
    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < 900 || v > 43200)
        return -1;
    return v;
}

/* A parameter that must be present: NULL after answering Missing<name>. */
static const char *need(struct emu_result *r, const struct emu_call *c,
                        const char *name, int *rc)
{
    const char *v = orch_params_get(c->params, name);
    char code[64], msg[128];

    if (v && *v)
        return v;
    snprintf(code, sizeof(code), "Missing%s", name);
    snprintf(msg, sizeof(msg), "%s is mandatory for this action.", name);
    *rc = sts_fail(r, c, code, msg);
    return NULL;
}

static void fmt_time(char out[21], int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The checks shared by both calls: true with uid, *session and *dur set
 * and r untouched, or false with the refusal answered (r set; *rc its
 * result). */
static bool role_checks(struct emu_result *r, const struct emu_call *c,
                        char uid[32], const char **session, long *dur,
                        int *rc)
{
    const char *arn = need(r, c, "RoleArn", rc);

    if (arn == NULL)
        return false;
    if (!arn_ok(arn, "role", uid)) {
        *rc = sts_fail(r, c, "InvalidParameter.RoleArn",
                       "The parameter RoleArn is wrongly formed.");
        return false;
    }
    *session = need(r, c, "RoleSessionName", rc);
    if (*session == NULL)
        return false;
    if (!session_name_ok(*session)) {
        *rc = sts_fail(r, c, "InvalidParameter.RoleSessionName",
                       "The parameter RoleSessionName is wrongly formed.");
        return false;
    }
    *dur = duration_of(orch_params_get(c->params, "DurationSeconds"));
    if (*dur < 0) {
        *rc = sts_fail(r, c, "InvalidParameter.DurationSeconds",
                       "The Min/Max value of DurationSeconds is 15min/1hr.");
        return false;
    }
    return true;
}

static bool oidc_checks(struct emu_result *r, const struct emu_sts_opts *o,
                        const struct emu_call *c, int *rc)
{
    const char *prov = need(r, c, "OIDCProviderArn", rc);
    const char *tok = NULL;
    char uid[32];

    if (prov == NULL)
        return false;
    if (!arn_ok(prov, "oidc-provider", uid)) {
        *rc = sts_fail(r, c, "InvalidParameter.OIDCProviderArn",
                       "The parameter OIDCProviderArn is wrongly formed.");
        return false;
    }
    tok = need(r, c, "OIDCToken", rc);
    if (tok == NULL)
        return false;
    if (o->oidc_token && strcmp(tok, o->oidc_token) != 0) {
        *rc = sts_fail(r, c, "InvalidParameter.OIDCToken",
                       "The OIDCToken is invalid or has expired.");
        return false;
    }
    return true;
}

/* The success body around a freshly minted key. */
static json_t *assumed_json(const struct emu_call *c, const char *uid,
                            const char *arn, const char *session,
                            const struct emu_minted *k)
{
    const char *role = strrchr(arn, '/') + 1;
    char exp[21], user_arn[512], role_id[160];

    fmt_time(exp, k->expires_ms);
    snprintf(user_arn, sizeof(user_arn), "acs:ram::%s:assumed-role/%s/%s",
             uid, role, session);
    snprintf(role_id, sizeof(role_id), "3%s:%s", uid, session);
    return json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s}}",
                     "RequestId", c->request_id, "AssumedRoleUser", "Arn",
                     user_arn, "AssumedRoleId", role_id, "Credentials",
                     "AccessKeyId", k->id, "AccessKeySecret", k->secret,
                     "SecurityToken", k->token, "Expiration", exp);
}

int emu_sts_call(struct emu_mint *m, const struct emu_sts_opts *o,
                 const struct emu_call *c, struct emu_result *r)
{
    bool oidc = strcmp(c->action, "AssumeRoleWithOIDC") == 0;
    const char *minter = oidc ? o->account_key : c->access_key_id;
    const char *session = NULL;
    struct emu_minted k;
    char uid[32];
    long dur = 0;
    int rc = 0;

    memset(r, 0, sizeof(*r));
    if (!role_checks(r, c, uid, &session, &dur, &rc))
        return rc;
    if (oidc && !oidc_checks(r, o, c, &rc))
        return rc;
    rc = emu_mint_issue(m, minter ? minter : "", c->action, c->now_ms,
                        o->ttl_ms ? o->ttl_ms : (int64_t)dur * 1000, &k);
    if (rc)
        return rc;
    r->http_status = 200;
    r->body = assumed_json(c, uid, orch_params_get(c->params, "RoleArn"),
                           session, &k);
    OPENSSL_cleanse(&k, sizeof(k));
    return r->body ? 0 : ORCH_ENOMEM;
}

json_t *emu_sts_flat_answer(struct emu_mint *m, const struct emu_sts_opts *o,
                            bool ecs, int64_t now_ms, char id_out[32])
{
    struct emu_minted k;
    char exp[21], now[21];
    json_t *j = NULL;

    if (emu_mint_issue(m, o->account_key ? o->account_key : "",
                       ecs ? "EcsMetadata" : "CredentialsURI", now_ms,
                       o->ttl_ms ? o->ttl_ms : DEFAULT_TTL_MS, &k) != 0)
        return NULL;
    fmt_time(exp, k.expires_ms);
    fmt_time(now, now_ms);
    j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "Code", "Success",
                  "AccessKeyId", k.id, "AccessKeySecret", k.secret,
                  "SecurityToken", k.token, "Expiration", exp);
    if (j && ecs)
        json_object_set_new(j, "LastUpdated", json_string(now));
    snprintf(id_out, 32, "%s", k.id);
    OPENSSL_cleanse(&k, sizeof(k));
    return j;
}
