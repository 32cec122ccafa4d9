/* test_problem.c - the class of a failed call (one test per class, with
 * the codes alibaba-api.md lists for it) and the advice for each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "orch/engine/problem.h"
#include "torture.h"

static enum orch_problem cls(const char *code)
{
    return orch_problem_classify(code, 0);
}

static void advice(enum orch_problem p, const struct orch_problem_ctx *c,
                   char *out, size_t cap)
{
    orch_problem_advice(p, c, out, cap);
    /* One sentence: never a line break. */
    assert_null(strchr(out, '\n'));
}

static void test_credentials_rejected(void **state)
{
    struct orch_problem_ctx c = {0};
    char out[400];

    (void)state;
    assert_int_equal(cls("SignatureDoesNotMatch"), ORCH_PROBLEM_CREDENTIALS);
    assert_int_equal(cls("IncompleteSignature"), ORCH_PROBLEM_CREDENTIALS);
    assert_int_equal(cls("InvalidAccessKeySecret"), ORCH_PROBLEM_CREDENTIALS);
    assert_int_equal(cls("InvalidSecurityToken.Expired"),
                     ORCH_PROBLEM_CREDENTIALS);
    assert_int_equal(cls("MissingSecurityToken"), ORCH_PROBLEM_CREDENTIALS);
    assert_string_equal(orch_problem_name(ORCH_PROBLEM_CREDENTIALS),
                        "credentials_rejected");

    c.code = "SignatureDoesNotMatch";
    c.key_id = "LTAIabc";
    c.cred_source = "environment";
    c.preflight = true;
    advice(ORCH_PROBLEM_CREDENTIALS, &c, out, sizeof(out));
    assert_non_null(strstr(out, "ALIBABA_CLOUD_ACCESS_KEY_SECRET"));
    assert_non_null(strstr(out, "LTAIabc"));
    assert_null(strstr(out, "--skip-preflight"));

    c.cred_source = "profile dev (/home/x/.aliyun/config.json)";
    advice(ORCH_PROBLEM_CREDENTIALS, &c, out, sizeof(out));
    assert_non_null(
        strstr(out, "access_key_secret of dev (/home/x/.aliyun/config.json)"));
    assert_null(strstr(out, "ALIBABA_CLOUD_ACCESS_KEY_SECRET"));

    /* An STS token problem: the token, not the secret. */
    c.code = "InvalidSecurityToken.Expired";
    c.cred_source = "environment";
    advice(ORCH_PROBLEM_CREDENTIALS, &c, out, sizeof(out));
    assert_non_null(strstr(out, "ALIBABA_CLOUD_SECURITY_TOKEN"));
}

/* Temporary credentials fetched again from their source: the advice
 * names the source and what to check in it, never the first set's key id
 * nor a profile's sts_token. */
static void test_refreshed_credentials(void **state)
{
    static const struct {
        const char *provider;
        const char *check;
    } sources[] = {
        {"profile:RamRoleArn", "assume the role (ram_role_arn)"},
        {"profile:ChainableRamRoleArn", "assume the role (ram_role_arn)"},
        {"ini:ram_role_arn", "assume the role (ram_role_arn)"},
        {"oidc", "OIDC token file"},
        {"profile:OIDC", "OIDC token file"},
        {"ecs_ram_role", "RAM role attached"},
        {"profile:EcsRamRole", "RAM role attached"},
        {"credentials_uri", "what the credentials URI answers"},
        {"profile:CredentialsURI", "what the credentials URI answers"},
        {"profile:External", "process_command prints"},
    };
    struct orch_problem_ctx c = {0};
    char out[400];
    size_t i = 0;

    (void)state;
    c.key_id = "STS.firstkey";
    c.cred_source = "RamRoleArn profile \"ops\"";
    c.refreshed = true;
    for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
        c.provider = sources[i].provider;
        c.code = "InvalidSecurityToken.Expired";
        advice(ORCH_PROBLEM_CREDENTIALS, &c, out, sizeof(out));
        assert_non_null(strstr(out, "STS token of the temporary credentials "
                                    "from RamRoleArn profile \"ops\""));
        assert_non_null(strstr(out, sources[i].check));
        assert_null(strstr(out, "STS.firstkey"));
        assert_null(strstr(out, "sts_token"));
        assert_null(strstr(out, "ALIBABA_CLOUD_SECURITY_TOKEN"));
    }
    c.provider = "profile:RamRoleArn";
    c.code = "SignatureDoesNotMatch";
    advice(ORCH_PROBLEM_CREDENTIALS, &c, out, sizeof(out));
    assert_non_null(strstr(out, "signature of the temporary credentials"));
    assert_null(strstr(out, "access_key_secret"));
    assert_null(strstr(out, "STS.firstkey"));
    c.code = "InvalidAccessKeyId.NotFound";
    advice(ORCH_PROBLEM_KEY_UNKNOWN, &c, out, sizeof(out));
    assert_non_null(strstr(out, "temporary AccessKeyId of the temporary "
                                "credentials from"));
    assert_null(strstr(out, "STS.firstkey"));
    c.code = "Forbidden.RAM";
    c.action = "CreateOTAStaticUpgradeJob";
    advice(ORCH_PROBLEM_DENIED, &c, out, sizeof(out));
    assert_non_null(strstr(out, "the role's policy"));
    assert_non_null(strstr(out, "iot:CreateOTAStaticUpgradeJob"));
    assert_null(strstr(out, "STS.firstkey"));

    /* A token given as is (a StsToken profile, not refreshed): as before. */
    c.refreshed = false;
    c.provider = "profile:StsToken";
    c.cred_source = "profile dev (/home/x/.aliyun/config.json)";
    c.code = "InvalidSecurityToken.Expired";
    advice(ORCH_PROBLEM_CREDENTIALS, &c, out, sizeof(out));
    assert_non_null(strstr(out, "the profile's sts_token"));
    assert_non_null(strstr(out, "STS.firstkey"));
}

static void test_key_unknown(void **state)
{
    struct orch_problem_ctx c = {0};
    char out[400];

    (void)state;
    assert_int_equal(cls("InvalidAccessKeyId.NotFound"),
                     ORCH_PROBLEM_KEY_UNKNOWN);
    assert_int_equal(cls("InvalidAccessKeyId.Inactive"),
                     ORCH_PROBLEM_KEY_UNKNOWN);
    assert_string_equal(orch_problem_name(ORCH_PROBLEM_KEY_UNKNOWN),
                        "key_unknown");
    c.key_id = "LTAInope";
    c.cred_source = "environment";
    c.preflight = true;
    advice(ORCH_PROBLEM_KEY_UNKNOWN, &c, out, sizeof(out));
    assert_non_null(strstr(out, "LTAInope"));
    assert_non_null(strstr(out, "ALIBABA_CLOUD_ACCESS_KEY_ID"));
    assert_non_null(strstr(out, "does not exist or is disabled"));
    assert_null(strstr(out, "--skip-preflight"));
    c.cred_source = "profile p (/h/.aliyun/config.json)";
    advice(ORCH_PROBLEM_KEY_UNKNOWN, &c, out, sizeof(out));
    assert_non_null(strstr(out, "from profile p (/h/.aliyun/config.json)"));
}

static void test_clock_skew(void **state)
{
    struct orch_problem_ctx c = {0};
    char out[400];

    (void)state;
    assert_int_equal(cls("InvalidTimeStamp.Expired"), ORCH_PROBLEM_CLOCK);
    assert_int_equal(cls("RequestTimeTooSkewed"), ORCH_PROBLEM_CLOCK);
    /* A malformed Timestamp is our bug, not the clock. */
    assert_int_equal(cls("IllegalTimestamp"), ORCH_PROBLEM_OTHER);
    assert_string_equal(orch_problem_name(ORCH_PROBLEM_CLOCK), "clock_skew");
    c.preflight = true;
    advice(ORCH_PROBLEM_CLOCK, &c, out, sizeof(out));
    assert_non_null(strstr(out, "fix the clock"));
    assert_non_null(strstr(out, "15 minutes"));
    assert_null(strstr(out, "--skip-preflight"));
    /* Server ahead by an hour: ours is behind. */
    c.skew_known = true;
    c.skew_ms = 3600 * 1000;
    advice(ORCH_PROBLEM_CLOCK, &c, out, sizeof(out));
    assert_non_null(strstr(out, "3600 s behind"));
    c.skew_ms = -1200 * 1000;
    advice(ORCH_PROBLEM_CLOCK, &c, out, sizeof(out));
    assert_non_null(strstr(out, "1200 s ahead of"));
}

static void test_endpoint_unreachable(void **state)
{
    struct orch_problem_ctx c = {0};
    char out[400];

    (void)state;
    assert_int_equal(orch_problem_classify(NULL, CURLE_COULDNT_CONNECT),
                     ORCH_PROBLEM_ENDPOINT);
    assert_int_equal(orch_problem_classify("", CURLE_COULDNT_RESOLVE_HOST),
                     ORCH_PROBLEM_ENDPOINT);
    assert_int_equal(orch_problem_classify(NULL,
                                           CURLE_PEER_FAILED_VERIFICATION),
                     ORCH_PROBLEM_ENDPOINT);
    assert_int_equal(orch_problem_classify(NULL, CURLE_SSL_CONNECT_ERROR),
                     ORCH_PROBLEM_ENDPOINT);
    /* The dispatcher's code for "no answer". */
    assert_int_equal(cls("NetworkError"), ORCH_PROBLEM_ENDPOINT);
    assert_string_equal(orch_problem_name(ORCH_PROBLEM_ENDPOINT),
                        "endpoint_unreachable");
    c.endpoint = "https://iot.cn-shanghai.aliyuncs.com";
    c.preflight = true;
    advice(ORCH_PROBLEM_ENDPOINT, &c, out, sizeof(out));
    assert_non_null(strstr(out, "https://iot.cn-shanghai.aliyuncs.com"));
    assert_non_null(strstr(out, "--region"));
    assert_non_null(strstr(out, "--endpoint"));
    /* Named only to say it would not help. */
    assert_non_null(strstr(out, "--skip-preflight would not help"));
}

static void test_permission_denied(void **state)
{
    struct orch_problem_ctx c = {0};
    char out[400];

    (void)state;
    assert_int_equal(cls("Forbidden.RAM"), ORCH_PROBLEM_DENIED);
    assert_int_equal(cls("Forbidden"), ORCH_PROBLEM_DENIED);
    assert_int_equal(cls("NoPermission"), ORCH_PROBLEM_DENIED);
    assert_int_equal(cls("iot.common.RamActionPermissionDeny"),
                     ORCH_PROBLEM_DENIED);
    assert_int_equal(cls("iot.common.AuthActionPermissionDeny"),
                     ORCH_PROBLEM_DENIED);
    assert_string_equal(orch_problem_name(ORCH_PROBLEM_DENIED),
                        "permission_denied");
    c.key_id = "LTAIabc";
    c.action = "QueryOTAFirmware";
    c.preflight = true;
    advice(ORCH_PROBLEM_DENIED, &c, out, sizeof(out));
    assert_non_null(strstr(out, "iot:QueryOTAFirmware"));
    /* The one class where skipping the check helps. */
    assert_non_null(strstr(out, "or pass --skip-preflight"));
    c.action = "CreateOTAStaticUpgradeJob";
    c.preflight = false;
    advice(ORCH_PROBLEM_DENIED, &c, out, sizeof(out));
    assert_non_null(strstr(out, "iot:CreateOTAStaticUpgradeJob"));
    assert_null(strstr(out, "--skip-preflight"));
}

static void test_firmware_missing(void **state)
{
    struct orch_problem_ctx c = {0};
    char out[400];

    (void)state;
    assert_int_equal(cls("iot.ota.FirmwareNotFound"),
                     ORCH_PROBLEM_FIRMWARE_MISSING);
    assert_int_equal(cls("iot.ota.FirmwareNotExist"),
                     ORCH_PROBLEM_FIRMWARE_MISSING);
    assert_int_equal(cls("iot.ota.InvalidFirmwareUid"),
                     ORCH_PROBLEM_FIRMWARE_MISSING);
    assert_int_equal(cls("iot.ota.NotFirmwareOwner"),
                     ORCH_PROBLEM_FIRMWARE_MISSING);
    assert_string_equal(orch_problem_name(ORCH_PROBLEM_FIRMWARE_MISSING),
                        "firmware_missing");
    c.firmware_id = "FwX";
    c.preflight = true;
    advice(ORCH_PROBLEM_FIRMWARE_MISSING, &c, out, sizeof(out));
    assert_non_null(strstr(out, "FirmwareId FwX"));
    assert_non_null(strstr(out, "--iot-instance-id"));
    assert_null(strstr(out, "--skip-preflight"));
}

static void test_other(void **state)
{
    struct orch_problem_ctx c = {0};
    char out[400];

    (void)state;
    assert_int_equal(cls("iot.ota.FirmwareNotVerified"), ORCH_PROBLEM_OTHER);
    assert_int_equal(cls("Throttling.User"), ORCH_PROBLEM_OTHER);
    assert_int_equal(cls("InternalError"), ORCH_PROBLEM_OTHER);
    assert_int_equal(cls(""), ORCH_PROBLEM_OTHER);
    assert_int_equal(cls(NULL), ORCH_PROBLEM_OTHER);
    assert_string_equal(orch_problem_name(ORCH_PROBLEM_OTHER), "other");
    c.preflight = true;
    advice(ORCH_PROBLEM_OTHER, &c, out, sizeof(out));
    assert_non_null(strstr(out, "try again later"));
    assert_null(strstr(out, "--skip-preflight"));
    /* A NULL context is allowed. */
    advice(ORCH_PROBLEM_CREDENTIALS, NULL, out, sizeof(out));
    assert_non_null(strstr(out, "secret"));
}

static void test_one_line(void **state)
{
    char out[64];
    const char *raw = "Specified signature is not matched. server string to "
                      "sign is:ACS3\nabc\r\n/\n\tF";

    (void)state;
    orch_problem_one_line(raw, out, sizeof(out));
    assert_null(strchr(out, '\n'));
    assert_null(strchr(out, '\r'));
    assert_null(strchr(out, '\t'));
    orch_problem_one_line("a\n\n b\x01 c\n", out, sizeof(out));
    assert_string_equal(out, "a b c");
    orch_problem_one_line("  lead", out, sizeof(out));
    assert_string_equal(out, "lead");
    orch_problem_one_line(NULL, out, sizeof(out));
    assert_string_equal(out, "");
    /* Truncation never splits a UTF-8 character ("é" is 2 bytes). */
    orch_problem_one_line("ab\xc3\xa9", out, 4);
    assert_string_equal(out, "ab");
    orch_problem_one_line("ab\xc3\xa9", out, 5);
    assert_string_equal(out, "ab\xc3\xa9");
}

/* Every problem's title, and a value outside the enum reads as "other". */
static void titles_and_out_of_range(void **state)
{
    (void)state;
    assert_string_equal(orch_problem_title(ORCH_PROBLEM_CREDENTIALS),
                        "credentials rejected");
    assert_string_equal(orch_problem_title(ORCH_PROBLEM_KEY_UNKNOWN),
                        "AccessKeyId unknown");
    assert_string_equal(orch_problem_title(ORCH_PROBLEM_CLOCK), "clock skew");
    assert_string_equal(orch_problem_title(ORCH_PROBLEM_ENDPOINT),
                        "endpoint unreachable");
    assert_string_equal(orch_problem_title(ORCH_PROBLEM_DENIED),
                        "permission denied by the RAM policy");
    assert_string_equal(orch_problem_title(ORCH_PROBLEM_FIRMWARE_MISSING),
                        "firmware missing");
    assert_string_equal(orch_problem_title(ORCH_PROBLEM_OTHER), "call failed");
    assert_string_equal(orch_problem_name((enum orch_problem)99), "other");
    assert_string_equal(orch_problem_title((enum orch_problem)99),
                        "call failed");
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_credentials_rejected),
    cmocka_unit_test(test_refreshed_credentials),
    cmocka_unit_test(test_key_unknown),
    cmocka_unit_test(test_clock_skew),
    cmocka_unit_test(test_endpoint_unreachable),
    cmocka_unit_test(test_permission_denied),
    cmocka_unit_test(test_firmware_missing),
    cmocka_unit_test(test_other),
    cmocka_unit_test(test_one_line),
    cmocka_unit_test(titles_and_out_of_range))
