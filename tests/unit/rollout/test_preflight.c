/* test_preflight.c - the firmware check's decisions with canned answers:
 * every firmware state, missing / foreign firmware, how the result is
 * told. No network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/cloud/api.h"
#include "orch/model/config.h"
#include "orch/cloud/credentials.h"
#include "orch/engine/dispatch.h"
#include "orch/engine/engine_opts.h"
#include "orch/base/err.h"
#include "orch/model/inventory.h"
#include "orch/model/plan.h"
#include "orch/rollout/preflight.h"
#include "torture.h"

#define FW "FwTest00000000000000000001"
#define PK "a1Prod00001"

/* Judges pair (PK, FW) against an answer: HTTP status and body. */
static void judge(struct orch_fw_check *chk, enum orch_item_status st,
                  long http, const char *body, const char *error_code)
{
    struct orch_response r;
    struct orch_item_result res;

    memset(chk, 0, sizeof(*chk));
    chk->product_key = PK;
    chk->firmware_id = FW;
    orch_response_init(&r);
    assert_int_equal(orch_api_decode(&r, http, body, strlen(body)), 0);
    memset(&res, 0, sizeof(res));
    res.status = st;
    res.attempts = 1;
    res.resp = &r;
    res.error_code = error_code ? error_code : (r.success ? NULL : r.code);
    res.error_message = r.success ? NULL : r.message;
    orch_preflight_judge_firmware(chk, &res);
    orch_response_cleanup(&r);
}

static const char *info_fmt =
    "{\"RequestId\":\"R1\",\"Success\":true,\"FirmwareInfo\":{"
    "\"FirmwareId\":\"" FW "\",\"FirmwareName\":\"fw-2\","
    "\"ProductKey\":\"%s\",\"DestVersion\":\"2.0.0\",\"Status\":%s,"
    "\"VerifyProgress\":40,\"Type\":0}}";

static void judge_info(struct orch_fw_check *chk, const char *pk,
                       const char *status)
{
    char body[512];

    snprintf(body, sizeof(body), info_fmt, pk, status);
    judge(chk, ORCH_ITEM_CREATED, 200, body, NULL);
}

static void fw_verified_and_no_verification_pass(void **state)
{
    struct orch_fw_check chk;

    (void)state;
    judge_info(&chk, PK, "1");
    assert_int_equal(chk.verdict, ORCH_FW_OK);
    assert_int_equal(chk.status, 1);
    assert_string_equal(chk.dest_version, "2.0.0");
    assert_string_equal(chk.fw_product, PK);
    assert_string_equal(chk.fw_name, "fw-2");
    assert_string_equal(chk.message, "");

    judge_info(&chk, PK, "-1");
    assert_int_equal(chk.verdict, ORCH_FW_OK);
    assert_int_equal(chk.status, -1);
    /* A numeric string is taken too. */
    judge_info(&chk, PK, "\"1\"");
    assert_int_equal(chk.verdict, ORCH_FW_OK);
}

static void fw_unverified_says_create_verify_job(void **state)
{
    struct orch_fw_check chk;

    (void)state;
    judge_info(&chk, PK, "0");
    assert_int_equal(chk.verdict, ORCH_FW_UNVERIFIED);
    assert_non_null(strstr(chk.message, FW));
    assert_non_null(strstr(chk.message, "not verified"));
    assert_non_null(strstr(chk.message, "Status 0"));
    assert_non_null(strstr(chk.message, "CreateOTAVerifyJob"));
    assert_string_equal(orch_fw_verdict_name(chk.verdict), "unverified");
}

static void fw_verifying_says_wait(void **state)
{
    struct orch_fw_check chk;

    (void)state;
    judge_info(&chk, PK, "2");
    assert_int_equal(chk.verdict, ORCH_FW_VERIFYING);
    assert_non_null(strstr(chk.message, "being verified"));
    assert_non_null(strstr(chk.message, "40%"));
    assert_non_null(strstr(chk.message, "wait"));
}

static void fw_verification_failed(void **state)
{
    struct orch_fw_check chk;

    (void)state;
    judge_info(&chk, PK, "3");
    assert_int_equal(chk.verdict, ORCH_FW_VERIFY_FAILED);
    assert_non_null(strstr(chk.message, "failed its verification"));
    assert_non_null(strstr(chk.message, "CreateOTAVerifyJob"));
}

static void fw_unknown_or_absent_status_is_not_ok(void **state)
{
    struct orch_fw_check chk;
    const char *body = "{\"Success\":true,\"FirmwareInfo\":{\"ProductKey\":"
                       "\"" PK "\",\"DestVersion\":\"2.0.0\"}}";

    (void)state;
    judge_info(&chk, PK, "7");
    assert_int_equal(chk.verdict, ORCH_FW_BAD_STATE);
    assert_non_null(strstr(chk.message, "Status 7"));
    judge(&chk, ORCH_ITEM_CREATED, 200, body, NULL);
    assert_int_equal(chk.verdict, ORCH_FW_BAD_STATE);
    assert_int_equal(chk.status, -2);
}

static void fw_of_another_product_names_both(void **state)
{
    struct orch_fw_check chk;

    (void)state;
    /* Even a verified firmware is refused for the wrong product. */
    judge_info(&chk, "a1Other0001", "1");
    assert_int_equal(chk.verdict, ORCH_FW_WRONG_PRODUCT);
    assert_non_null(strstr(chk.message, "a1Other0001"));
    assert_non_null(strstr(chk.message, PK));
    assert_non_null(strstr(chk.message, FW));
    assert_string_equal(chk.fw_product, "a1Other0001");
}

/* A firmware belongs to one product: the same FirmwareId for two products
 * fails the second when the answer named no product (else the firmware
 * would pass the check, then every Create for the second product would be
 * refused). */
static void fw_shared_by_two_products_fails_the_second(void **state)
{
    struct orch_fw_check c[4];

    (void)state;
    judge_info(&c[0], "", "1");
    judge_info(&c[1], "", "1");
    c[1].product_key = "a1Prod00002";
    judge_info(&c[2], "", "1");
    c[2].product_key = "a1Prod00003";
    c[2].firmware_id = "FwOther000000000000000002";
    judge_info(&c[3], PK, "1"); /* named its product: judged already */
    c[3].firmware_id = "FwNamed000000000000000003";
    assert_int_equal(c[1].verdict, ORCH_FW_OK);
    orch_preflight_judge_shared(c, 4);
    assert_int_equal(c[0].verdict, ORCH_FW_OK);
    assert_int_equal(c[1].verdict, ORCH_FW_WRONG_PRODUCT);
    assert_non_null(strstr(c[1].message, "a1Prod00002"));
    assert_non_null(strstr(c[1].message, PK));
    assert_non_null(strstr(c[1].message, "one product"));
    assert_non_null(strstr(c[1].message, "--firmware a1Prod00002="));
    assert_int_equal(c[2].verdict, ORCH_FW_OK);
    assert_int_equal(c[3].verdict, ORCH_FW_OK);
}

static void fw_missing_from_error_codes(void **state)
{
    static const char *const codes[] = {
        "iot.ota.FirmwareNotFound", "iot.ota.InvalidFirmwareUid",
        "iot.ota.NotFirmwareOwner", "iot.firmware.NotExistedFirmware"};
    struct orch_fw_check chk;
    char body[256];
    size_t i = 0;

    (void)state;
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        snprintf(body, sizeof(body),
                 "{\"RequestId\":\"R\",\"Success\":false,\"Code\":\"%s\","
                 "\"ErrorMessage\":\"Firmware does not exist.\"}",
                 codes[i]);
        judge(&chk, ORCH_ITEM_FAILED, 200, body, NULL);
        assert_int_equal(chk.verdict, ORCH_FW_MISSING);
        assert_string_equal(chk.code, codes[i]);
        assert_non_null(strstr(chk.message, "does not exist"));
        assert_non_null(strstr(chk.message, FW));
    }
}

/* A denial is the account's problem: the check names its class, and the
 * advice (with --skip-preflight) is told once by the conclusion. */
static void fw_denied_is_an_account_problem(void **state)
{
    struct orch_fw_check chk;

    (void)state;
    judge(&chk, ORCH_ITEM_FAILED, 200,
          "{\"Success\":false,\"Code\":\"iot.common.RamActionPermissionDeny\","
          "\"ErrorMessage\":\"denied\",\"RequestId\":\"RQ-9\"}",
          NULL);
    assert_int_equal(chk.verdict, ORCH_FW_QUERY_FAILED);
    assert_int_equal(chk.problem, ORCH_PROBLEM_DENIED);
    assert_string_equal(chk.request_id, "RQ-9");
    assert_non_null(strstr(chk.message, "permission denied"));
    assert_null(strstr(chk.message, "--skip-preflight"));
}

/* The server's text never reaches the message; it is kept on one line
 * for --log-format json. */
static void fw_server_text_kept_on_one_line(void **state)
{
    struct orch_fw_check chk;

    (void)state;
    judge(&chk, ORCH_ITEM_FAILED, 400,
          "{\"RequestId\":\"RQ-1\",\"Code\":\"SignatureDoesNotMatch\","
          "\"Message\":\"Specified signature is not matched with our "
          "calculation. server string to sign is:ACS3-HMAC-SHA256\\nabc "
          "server canonical request is:POST\\n/\\nFirmwareId=X\"}",
          NULL);
    assert_int_equal(chk.problem, ORCH_PROBLEM_CREDENTIALS);
    assert_null(strstr(chk.message, "canonical"));
    assert_null(strchr(chk.message, '\n'));
    assert_non_null(strstr(chk.message, "SignatureDoesNotMatch"));
    assert_non_null(strstr(chk.message, "RQ-1"));
    assert_non_null(strstr(chk.server_message,
                           "canonical request is:POST / FirmwareId=X"));
    assert_null(strchr(chk.server_message, '\n'));
}

/* A result of n checks judged from one answer each. */
static void conclude_setup(struct orch_preflight_result *r,
                           struct orch_fw_check *checks, size_t n,
                           const char *const *pks, const char *const *fws,
                           const char *const *bodies, bool aborted)
{
    struct orch_response resp;
    struct orch_item_result res;
    size_t i = 0;

    memset(r, 0, sizeof(*r));
    memset(checks, 0, n * sizeof(*checks));
    for (i = 0; i < n; i++) {
        checks[i].product_key = pks[i];
        checks[i].firmware_id = fws[i];
        orch_response_init(&resp);
        assert_int_equal(orch_api_decode(&resp, 400, bodies[i],
                                         strlen(bodies[i])), 0);
        memset(&res, 0, sizeof(res));
        res.status = ORCH_ITEM_FAILED;
        res.resp = &resp;
        res.error_code = resp.code;
        res.error_message = resp.message;
        orch_preflight_judge_firmware(&checks[i], &res);
        orch_response_cleanup(&resp);
        if (checks[i].verdict != ORCH_FW_OK)
            r->failed++;
    }
    r->checks = checks;
    r->nchecks = n;
    r->aborted = aborted;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
        n++;
    return n;
}

static void conclude_credentials_told_once(void **state)
{
    static const char *const pks[] = {"a1A", "a1B"};
    static const char *const fws[] = {"FwA", "FwB"};
    static const char *const bodies[] = {
        "{\"RequestId\":\"RQ-A\",\"Code\":\"SignatureDoesNotMatch\","
        "\"Message\":\"x\\ny\"}",
        "{\"RequestId\":\"RQ-B\",\"Code\":\"SignatureDoesNotMatch\","
        "\"Message\":\"x\\ny\"}"};
    struct orch_fw_check checks[2];
    struct orch_preflight_result r;
    struct orch_credentials cred;
    struct orch_config cfg;
    struct orch_diag diag = {{0}};

    (void)state;
    orch_config_init(&cfg);
    memset(&cred, 0, sizeof(cred));
    cred.access_key_id = "LTAIk";
    cred.source = "environment";
    conclude_setup(&r, checks, 2, pks, fws, bodies, true);
    assert_int_equal(orch_preflight_conclude(&cfg, &cred, &r, &diag),
                     ORCH_EABORT);
    assert_int_equal(r.problem, ORCH_PROBLEM_CREDENTIALS);
    assert_true(checks[0].told);
    assert_true(checks[1].told);
    assert_non_null(strstr(diag.msg, "pre-flight: credentials rejected "
                                     "(SignatureDoesNotMatch, request id "
                                     "RQ-A)"));
    assert_non_null(strstr(diag.msg, "ALIBABA_CLOUD_ACCESS_KEY_SECRET"));
    assert_non_null(strstr(diag.msg, "LTAIk"));
    assert_null(strstr(diag.msg, "--skip-preflight"));
    assert_null(strchr(diag.msg, '\n'));
    orch_config_cleanup(&cfg);
}

static void conclude_denied_suggests_skip_preflight(void **state)
{
    static const char *const pks[] = {"a1A"};
    static const char *const fws[] = {"FwA"};
    static const char *const bodies[] = {
        "{\"RequestId\":\"RQ-D\",\"Code\":\"Forbidden.RAM\","
        "\"Message\":\"User not authorized to operate on the specified "
        "resource, or this API doesn't support RAM.\"}"};
    struct orch_fw_check checks[1];
    struct orch_preflight_result r;
    struct orch_config cfg;
    struct orch_diag diag = {{0}};

    (void)state;
    orch_config_init(&cfg);
    conclude_setup(&r, checks, 1, pks, fws, bodies, true);
    assert_int_equal(orch_preflight_conclude(&cfg, NULL, &r, &diag),
                     ORCH_EABORT);
    assert_int_equal(r.problem, ORCH_PROBLEM_DENIED);
    assert_non_null(strstr(diag.msg, "iot:QueryOTAFirmware"));
    assert_non_null(strstr(diag.msg, "--skip-preflight"));
    assert_non_null(strstr(diag.msg, "RQ-D"));
    orch_config_cleanup(&cfg);
}

/* One missing firmware chosen for two products: one message. */
static void conclude_same_missing_firmware_once(void **state)
{
    static const char *const pks[] = {"a1A", "a1B"};
    static const char *const fws[] = {"FwM", "FwM"};
    static const char *const bodies[] = {
        "{\"RequestId\":\"RQ-M\",\"Success\":false,"
        "\"Code\":\"iot.ota.FirmwareNotFound\",\"ErrorMessage\":\"m\"}",
        "{\"RequestId\":\"RQ-M\",\"Success\":false,"
        "\"Code\":\"iot.ota.FirmwareNotFound\",\"ErrorMessage\":\"m\"}"};
    struct orch_fw_check checks[2];
    struct orch_preflight_result r;
    struct orch_config cfg;
    struct orch_diag diag = {{0}};

    (void)state;
    orch_config_init(&cfg);
    conclude_setup(&r, checks, 2, pks, fws, bodies, false);
    assert_int_equal(orch_preflight_conclude(&cfg, NULL, &r, &diag),
                     ORCH_EAPI);
    assert_int_equal(r.problem, ORCH_PROBLEM_OTHER);
    /* diag tells it; neither check repeats it. */
    assert_true(checks[0].told);
    assert_true(checks[1].told);
    assert_int_equal(count(diag.msg, "FirmwareNotFound"), 1);
    assert_non_null(strstr(diag.msg, "FwM does not exist"));
    assert_non_null(strstr(diag.msg, "nothing sent"));
    orch_config_cleanup(&cfg);
}

/* Two different problems: each check tells its own, diag counts. */
static void conclude_distinct_problems_each_once(void **state)
{
    static const char *const pks[] = {"a1A", "a1B", "a1C"};
    static const char *const fws[] = {"FwM", "FwN", "FwM"};
    static const char *const bodies[] = {
        "{\"Success\":false,\"Code\":\"iot.ota.FirmwareNotFound\"}",
        "{\"Success\":false,\"Code\":\"iot.ota.FirmwareNotFound\"}",
        "{\"Success\":false,\"Code\":\"iot.ota.FirmwareNotFound\"}"};
    struct orch_fw_check checks[3];
    struct orch_preflight_result r;
    struct orch_config cfg;
    struct orch_diag diag = {{0}};

    (void)state;
    orch_config_init(&cfg);
    conclude_setup(&r, checks, 3, pks, fws, bodies, false);
    assert_int_equal(orch_preflight_conclude(&cfg, NULL, &r, &diag),
                     ORCH_EAPI);
    assert_false(checks[0].told);
    assert_false(checks[1].told);
    assert_true(checks[2].told); /* the same as the first */
    assert_null(strstr(diag.msg, "FirmwareNotFound"));
    assert_non_null(strstr(diag.msg, "3 of 3 firmware checks failed"));
    orch_config_cleanup(&cfg);
}

static void fw_other_failures_are_query_failed(void **state)
{
    struct orch_fw_check chk;
    struct orch_item_result res;

    (void)state;
    judge(&chk, ORCH_ITEM_FAILED, 503, "<html>busy</html>", NULL);
    assert_int_equal(chk.verdict, ORCH_FW_QUERY_FAILED);
    assert_string_equal(chk.code, "BadResponse");
    assert_non_null(strstr(chk.message, "could not be checked"));
    /* A success without FirmwareInfo nor Data. */
    judge(&chk, ORCH_ITEM_CREATED, 200, "{\"Success\":true}", NULL);
    assert_int_equal(chk.verdict, ORCH_FW_QUERY_FAILED);
    /* The generic Data shape is accepted. */
    judge(&chk, ORCH_ITEM_CREATED, 200,
          "{\"Success\":true,\"Data\":{\"ProductKey\":\"" PK
          "\",\"Status\":1,\"DestVersion\":\"9\"}}",
          NULL);
    assert_int_equal(chk.verdict, ORCH_FW_OK);
    assert_string_equal(chk.dest_version, "9");
    /* Nothing answered: not sent, no response. */
    memset(&res, 0, sizeof(res));
    res.status = ORCH_ITEM_NOT_SENT;
    orch_preflight_judge_firmware(&chk, &res);
    assert_int_equal(chk.verdict, ORCH_FW_QUERY_FAILED);
    assert_string_equal(chk.code, "not_sent");
    orch_preflight_judge_firmware(&chk, NULL);
    assert_int_equal(chk.verdict, ORCH_FW_QUERY_FAILED);
}

static void dest_version_lookup(void **state)
{
    struct orch_fw_check checks[2];
    struct orch_preflight_result r;

    (void)state;
    memset(checks, 0, sizeof(checks));
    checks[0].firmware_id = "FwA";
    checks[1].firmware_id = "FwB";
    snprintf(checks[1].dest_version, sizeof(checks[1].dest_version), "3.1");
    memset(&r, 0, sizeof(r));
    r.checks = checks;
    r.nchecks = 2;
    assert_null(orch_preflight_dest_version(&r, "FwA"));
    assert_string_equal(orch_preflight_dest_version(&r, "FwB"), "3.1");
    assert_null(orch_preflight_dest_version(&r, "FwC"));
    assert_null(orch_preflight_dest_version(NULL, "FwB"));
}

static void verdict_names(void **state)
{
    (void)state;
    assert_string_equal(orch_fw_verdict_name(ORCH_FW_OK), "ok");
    assert_string_equal(orch_fw_verdict_name(ORCH_FW_MISSING), "missing");
    assert_string_equal(orch_fw_verdict_name(ORCH_FW_WRONG_PRODUCT),
                        "wrong_product");
    assert_string_equal(orch_fw_verdict_name(ORCH_FW_QUERY_FAILED),
                        "query_failed");
}

/* A check runs at its operation's quota, without the fatal-streak rule,
 * and otherwise with the run's engine options. */
static void check_engine_opts_pace_and_no_streak(void **state)
{
    struct orch_config cfg;
    struct orch_engine_opts eo;

    (void)state;
    orch_config_init(&cfg);
    cfg.qps = 12.0;
    cfg.query_qps = 4.0;
    cfg.max_in_flight = 7;
    cfg.max_attempts = 3;
    cfg.fatal_streak = 9;
    orch_preflight_engine_opts(&eo, &cfg, ORCH_PREFLIGHT_FW_QPS);
    assert_true(eo.qps == ORCH_PREFLIGHT_FW_QPS);
    assert_int_equal(eo.fatal_streak, 0);
    assert_true(eo.query_qps == 4.0);
    assert_int_equal(eo.max_in_flight, 7);
    assert_int_equal(eo.max_attempts, 3);
    orch_config_cleanup(&cfg);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(fw_verified_and_no_verification_pass),
    cmocka_unit_test(fw_shared_by_two_products_fails_the_second),
    cmocka_unit_test(fw_unverified_says_create_verify_job),
    cmocka_unit_test(fw_verifying_says_wait),
    cmocka_unit_test(fw_verification_failed),
    cmocka_unit_test(fw_unknown_or_absent_status_is_not_ok),
    cmocka_unit_test(fw_of_another_product_names_both),
    cmocka_unit_test(fw_missing_from_error_codes),
    cmocka_unit_test(fw_denied_is_an_account_problem),
    cmocka_unit_test(fw_server_text_kept_on_one_line),
    cmocka_unit_test(conclude_credentials_told_once),
    cmocka_unit_test(conclude_denied_suggests_skip_preflight),
    cmocka_unit_test(conclude_same_missing_firmware_once),
    cmocka_unit_test(conclude_distinct_problems_each_once),
    cmocka_unit_test(fw_other_failures_are_query_failed),
    cmocka_unit_test(dest_version_lookup),
    cmocka_unit_test(verdict_names),
    cmocka_unit_test(check_engine_opts_pace_and_no_streak))
