/* problem.c - the class of a failed call and the one thing that helps.
 *
 * DESIGN: classification looks at the Code alone (as retry.c does: the
 * HTTP status says little, Alibaba answers Forbidden.RAM with 400 or 403)
 * or, when nothing answered, at the fact that nothing did. The advice is
 * one sentence per class built from the caller's context; it names where
 * the credentials came from so the operator knows what to edit, and it
 * offers --skip-preflight only where skipping the check can help: a RAM
 * policy that denies the pre-flight's query but may allow the Create.
 */
#include "orch/engine/problem.h"

#include <stdio.h>
#include <string.h>

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool has(const char *s, const char *needle)
{
    return strstr(s, needle) != NULL;
}

static bool is_credentials(const char *c)
{
    return strcmp(c, "SignatureDoesNotMatch") == 0 ||
           strcmp(c, "IncompleteSignature") == 0 ||
           strcmp(c, "InvalidAccessKeySecret") == 0 ||
           strcmp(c, "MissingSecurityToken") == 0 ||
           starts_with(c, "InvalidSecurityToken");
}

static bool is_sts(const char *c)
{
    return c && (strcmp(c, "MissingSecurityToken") == 0 ||
                 starts_with(c, "InvalidSecurityToken"));
}

static bool is_firmware_missing(const char *c)
{
    if (strcmp(c, "iot.ota.FirmwareNotFound") == 0 ||
        strcmp(c, "iot.ota.InvalidFirmwareUid") == 0 ||
        strcmp(c, "iot.ota.NotFirmwareOwner") == 0)
        return true;
    /* The service is not consistent about the spelling
     * (iot.ota.FirmwareNotExist and the like): the family counts. */
    return has(c, "Firmware") &&
           (has(c, "NotFound") || has(c, "NotExist") || has(c, "NotOwner"));
}

static bool is_denied(const char *c)
{
    return starts_with(c, "Forbidden") || has(c, ".Forbidden") ||
           has(c, "OperationForbidden") || starts_with(c, "NoPermission") ||
           has(c, "PermissionDeny") || has(c, "PermissionDenied");
}

enum orch_problem orch_problem_classify(const char *code, int transport_error)
{
    if (transport_error != 0)
        return ORCH_PROBLEM_ENDPOINT;
    if (code == NULL || *code == '\0')
        return ORCH_PROBLEM_OTHER;
    /* The dispatcher's own code for "no answer" (dispatch.h). */
    if (strcmp(code, "NetworkError") == 0)
        return ORCH_PROBLEM_ENDPOINT;
    if (is_credentials(code))
        return ORCH_PROBLEM_CREDENTIALS;
    if (starts_with(code, "InvalidAccessKeyId"))
        return ORCH_PROBLEM_KEY_UNKNOWN;
    if (strcmp(code, "InvalidTimeStamp.Expired") == 0 ||
        strcmp(code, "RequestTimeTooSkewed") == 0)
        return ORCH_PROBLEM_CLOCK;
    if (is_firmware_missing(code))
        return ORCH_PROBLEM_FIRMWARE_MISSING;
    if (is_denied(code))
        return ORCH_PROBLEM_DENIED;
    return ORCH_PROBLEM_OTHER;
}

/* Each problem's stable --json name and its human title, one row per
 * enum value. */
static const struct {
    const char *name;
    const char *title;
} problems[] = {
    [ORCH_PROBLEM_OTHER] = {"other", "call failed"},
    [ORCH_PROBLEM_CREDENTIALS] = {"credentials_rejected",
                                  "credentials rejected"},
    [ORCH_PROBLEM_KEY_UNKNOWN] = {"key_unknown", "AccessKeyId unknown"},
    [ORCH_PROBLEM_CLOCK] = {"clock_skew", "clock skew"},
    [ORCH_PROBLEM_ENDPOINT] = {"endpoint_unreachable",
                               "endpoint unreachable"},
    [ORCH_PROBLEM_DENIED] = {"permission_denied",
                             "permission denied by the RAM policy"},
    [ORCH_PROBLEM_FIRMWARE_MISSING] = {"firmware_missing",
                                       "firmware missing"},
};

/* p's row; a value outside the enum reads as ORCH_PROBLEM_OTHER. */
static size_t problem_row(enum orch_problem p)
{
    size_t i = (size_t)p;

    return i < sizeof(problems) / sizeof(problems[0]) ? i
                                                      : ORCH_PROBLEM_OTHER;
}

const char *orch_problem_name(enum orch_problem p)
{
    return problems[problem_row(p)].name;
}

const char *orch_problem_title(enum orch_problem p)
{
    return problems[problem_row(p)].title;
}

static const char *or_q(const char *s)
{
    return s && *s ? s : "?";
}

static bool from_env(const struct orch_problem_ctx *c)
{
    return c->cred_source && strcmp(c->cred_source, "environment") == 0;
}

static bool from_profile(const struct orch_problem_ctx *c)
{
    return c->cred_source && starts_with(c->cred_source, "profile ");
}

/* For credentials that are refreshed: what to check in their source, by
 * the provider's kind (chain sources: credsource.h). */
static const char *source_check(const struct orch_problem_ctx *c)
{
    const char *p = c->provider ? c->provider : "";

    if (has(p, "RamRoleArn") || has(p, "ram_role_arn"))
        return "that its key may still assume the role (ram_role_arn) and "
               "that the role's session is long enough (expired_seconds)";
    if (strcasestr(p, "oidc") != NULL)
        return "that the OIDC token file is current and that the role "
               "trusts the OIDC provider";
    if (strcasestr(p, "ecs") != NULL)
        return "that the instance still has its RAM role attached";
    if (strcasestr(p, "uri") != NULL)
        return "what the credentials URI answers";
    if (has(p, "External"))
        return "what its process_command prints";
    return "that source";
}

/* Credentials refused although they are fetched afresh from their source
 * (the engine refreshed them and sent the call again): the first set's
 * key id means nothing now; the source is what to look at. */
static void advice_refreshed(const struct orch_problem_ctx *c, char *out,
                             size_t cap)
{
    const char *what = "signature";

    if (is_sts(c->code))
        what = "STS token";
    else if (c->code && starts_with(c->code, "InvalidAccessKeyId"))
        what = "temporary AccessKeyId";
    snprintf(out, cap,
             "the %s of the temporary credentials from %s was refused even "
             "after they were fetched again: check %s, and this machine's "
             "clock",
             what, or_q(c->cred_source), source_check(c));
}

static void advice_credentials(const struct orch_problem_ctx *c, char *out,
                               size_t cap)
{
    const char *where = "ALIBABA_CLOUD_ACCESS_KEY_SECRET, or the profile's "
                        "access_key_secret";

    if (c->refreshed) {
        advice_refreshed(c, out, cap);
        return;
    }
    if (is_sts(c->code)) {
        snprintf(out, cap,
                 "the STS token of AccessKeyId %s was refused (expired, or "
                 "not this key's): get fresh STS credentials (%s)",
                 or_q(c->key_id),
                 from_env(c) ? "ALIBABA_CLOUD_SECURITY_TOKEN"
                             : "the profile's sts_token");
        return;
    }
    if (from_env(c))
        where = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
    if (from_profile(c)) {
        snprintf(out, cap,
                 "the AccessKey secret does not match AccessKeyId %s: check "
                 "access_key_secret of %s",
                 or_q(c->key_id), c->cred_source + strlen("profile "));
        return;
    }
    snprintf(out, cap,
             "the AccessKey secret does not match AccessKeyId %s: check %s",
             or_q(c->key_id), where);
}

static void advice_key(const struct orch_problem_ctx *c, char *out,
                       size_t cap)
{
    const char *where = "ALIBABA_CLOUD_ACCESS_KEY_ID, or the profile's "
                        "access_key_id";

    if (c->refreshed) {
        advice_refreshed(c, out, cap);
        return;
    }
    if (from_env(c))
        where = "ALIBABA_CLOUD_ACCESS_KEY_ID";
    else if (from_profile(c))
        where = c->cred_source;
    snprintf(out, cap,
             "AccessKeyId %s (from %s) does not exist or is disabled: check "
             "the key id, and that the key is active in the RAM console",
             or_q(c->key_id), where);
}

static void advice_clock(const struct orch_problem_ctx *c, char *out,
                         size_t cap)
{
    int64_t s = c->skew_ms / 1000;

    if (c->skew_known)
        snprintf(out, cap,
                 "this machine's clock is %lld s %s the server's (the API "
                 "allows 15 minutes): fix the clock (NTP), then run again",
                 (long long)(s < 0 ? -s : s), s > 0 ? "behind" : "ahead of");
    else
        snprintf(out, cap,
                 "this machine's clock differs from the server's by more "
                 "than the 15 minutes the API allows: fix the clock (NTP), "
                 "then run again");
}

void orch_problem_advice(enum orch_problem p,
                         const struct orch_problem_ctx *ctx, char *out,
                         size_t cap)
{
    static const struct orch_problem_ctx none;
    const struct orch_problem_ctx *c = ctx ? ctx : &none;

    if (cap == 0)
        return;
    switch (p) {
    case ORCH_PROBLEM_CREDENTIALS:
        advice_credentials(c, out, cap);
        return;
    case ORCH_PROBLEM_KEY_UNKNOWN:
        advice_key(c, out, cap);
        return;
    case ORCH_PROBLEM_CLOCK:
        advice_clock(c, out, cap);
        return;
    case ORCH_PROBLEM_ENDPOINT:
        snprintf(out, cap,
                 "nothing answered at %s: check --region / --endpoint and "
                 "the network (proxy, firewall, TLS certificates); "
                 "--skip-preflight would not help, the jobs are created "
                 "at the same endpoint",
                 or_q(c->endpoint));
        return;
    case ORCH_PROBLEM_DENIED:
        if (c->refreshed)
            snprintf(out, cap,
                     "the RAM policy of the temporary credentials from %s "
                     "(for a role: the role's policy) does not allow "
                     "iot:%s: grant it%s",
                     or_q(c->cred_source), or_q(c->action),
                     c->preflight ? ", or pass --skip-preflight to run "
                                    "without the check"
                                  : ", then run again");
        else if (c->preflight)
            snprintf(out, cap,
                     "the RAM policy of AccessKeyId %s does not allow "
                     "iot:%s: grant it, or pass --skip-preflight to run "
                     "without the check",
                     or_q(c->key_id), or_q(c->action));
        else
            snprintf(out, cap,
                     "the RAM policy of AccessKeyId %s does not allow "
                     "iot:%s: grant it, then run again",
                     or_q(c->key_id), or_q(c->action));
        return;
    case ORCH_PROBLEM_FIRMWARE_MISSING:
        snprintf(out, cap,
                 "check the FirmwareId %s in the IoT console (OTA > "
                 "firmware) and --iot-instance-id",
                 or_q(c->firmware_id));
        return;
    case ORCH_PROBLEM_OTHER:
        break;
    }
    snprintf(out, cap, "try again later; if it persists, give the request "
                       "id to Alibaba Cloud support");
}

void orch_problem_sentence(enum orch_problem p, const char *code,
                           const char *request_id,
                           const struct orch_problem_ctx *ctx, char *out,
                           size_t cap)
{
    char advice[400];
    char what[300] = "";

    if (cap == 0)
        return;
    orch_problem_advice(p, ctx, advice, sizeof(advice));
    if (code && *code && request_id && *request_id)
        snprintf(what, sizeof(what), " (%.140s, request id %.128s)", code,
                 request_id);
    else if (code && *code)
        snprintf(what, sizeof(what), " (%.280s)", code);
    snprintf(out, cap, "%s%s: %s", orch_problem_title(p), what, advice);
}

void orch_problem_one_line(const char *raw, char *out, size_t cap)
{
    size_t n = 0;
    bool blank = false;

    if (cap == 0)
        return;
    for (; raw && *raw && n + 1 < cap; raw++) {
        unsigned char ch = (unsigned char)*raw;

        if (ch == '\r' || ch == '\n' || ch == '\t' || ch == ' ') {
            blank = true;
            continue;
        }
        if (ch < 0x20 || ch == 0x7f)
            continue;
        if (blank && n > 0) {
            if (n + 2 >= cap)
                break;
            out[n++] = ' ';
        }
        blank = false;
        out[n++] = (char)ch;
    }
    /* Never end inside a UTF-8 sequence: drop a lead byte whose
     * continuation bytes did not fit. */
    if (n > 0 && (unsigned char)out[n - 1] >= 0x80) {
        size_t k = n;

        while (k > 0 && ((unsigned char)out[k - 1] & 0xC0) == 0x80)
            k--;
        if (k > 0 && (unsigned char)out[k - 1] >= 0xC0) {
            unsigned char lead = (unsigned char)out[k - 1];
            size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;

            if (n - (k - 1) < want)
                n = k - 1;
        }
    }
    out[n] = '\0';
}
