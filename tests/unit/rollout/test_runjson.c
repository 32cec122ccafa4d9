/* test_runjson.c - the summary document of `run --json` and `plan
 * --json`: every field, and the plan object. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/tally.h"
#include "orch/cloud/params.h"
#include "orch/rollout/devcheck.h"
#include "orch/rollout/preflight.h"
#include "orch/rollout/runjson.h"
#include "torture.h"

#include <stdlib.h>
#include <string.h>

static void summary_every_field(void **state)
{
    struct orch_preflight_result pf;
    struct orch_fw_check chk[3];
    struct orch_device_check_stats dev;
    struct orch_tally codes;
    struct orch_run_summary s;
    json_t *doc = NULL, *c = NULL;

    (void)state;
    memset(&s, 0, sizeof(s));
    memset(chk, 0, sizeof(chk));
    memset(&dev, 0, sizeof(dev));
    orch_preflight_result_init(&pf);
    chk[0].product_key = "PA";
    chk[0].firmware_id = "FA";
    chk[0].verdict = ORCH_FW_OK;
    chk[0].status = 1;
    strcpy(chk[0].dest_version, "2.0");
    chk[1].product_key = "PB";
    chk[1].firmware_id = "FB";
    chk[1].verdict = ORCH_FW_UNVERIFIED;
    chk[1].status = -2;
    strcpy(chk[1].message, "not verified");
    chk[2].product_key = "PC";
    chk[2].firmware_id = "FC";
    chk[2].verdict = ORCH_FW_QUERY_FAILED;
    chk[2].status = -2;
    chk[2].problem = ORCH_PROBLEM_CREDENTIALS;
    strcpy(chk[2].code, "SignatureDoesNotMatch");
    strcpy(chk[2].request_id, "RQ");
    strcpy(chk[2].server_message, "a b");
    pf.checks = chk;
    pf.nchecks = 3;
    pf.failed = 2;
    pf.calls = 2;
    dev = (struct orch_device_check_stats){
        .checked = 10, .missing = 1, .up_to_date = 2, .unchecked = 3,
        .calls = 4};

    s = (struct orch_run_summary){
        .command = "run", .run_id = "abc", .resumed = true, .exit_code = 1,
        .exit_reason = NULL, .devices = 100, .duplicates = 1, .rejected = 2,
        .dropped_missing = 3, .dropped_up_to_date = 4, .unchecked = 5,
        .chunks = 6, .created = 7, .failed = 8, .not_sent = 9,
        .already_done = 10, .calls = 11, .retries = 12, .throttled = 13,
        .form_fallbacks = 14, .queries = 15, .reconciled = 16,
        .recovered = 17};
    memset(&codes, 0, sizeof(codes));
    orch_tally_add(&codes, "iot.ota.X");
    orch_tally_add(&codes, "Ambiguous");
    orch_tally_add(&codes, "iot.ota.X");
    s.codes = &codes;
    s.pf_state = ORCH_PF_FAILED;
    s.pf = &pf;
    s.devcheck = &dev;
    s.wall_s = 1.5;
    s.calls_per_s = 19.5;
    s.report = "r.csv";
    s.failed_file = "r.csv.failed.csv";
    s.rejects = NULL;
    s.journal = "r.csv.journal";

    doc = orch_runjson_summary(&s);
    assert_non_null(doc);
    assert_int_equal(torture_json_num(doc, NULL, "schema"), 1);
    assert_string_equal(torture_json_str(doc, NULL, "command"), "run");
    assert_string_equal(torture_json_str(doc, NULL, "run_id"), "abc");
    assert_true(json_is_true(torture_json_at(doc, NULL, "resumed")));
    assert_int_equal(torture_json_num(doc, "exit", "code"), 1);
    assert_string_equal(torture_json_str(doc, "exit", "name"), "partial");
    assert_string_equal(torture_json_str(doc, "exit", "reason"),
                        "some chunks failed or were not sent");
    {
        static const char *const keys[] = {
            "devices",  "duplicates",   "rejected",    "dropped_missing",
            "dropped_up_to_date", "unchecked", "chunks", "created", "failed",
            "not_sent", "already_done", "calls", "retries", "throttled",
            "form_fallbacks", "queries", "reconciled", "recovered"};
        static const json_int_t want[] = {100, 1, 2, 3, 4, 5, 6, 7, 8,
                                          9, 10, 11, 12, 13, 14, 15, 16, 17};
        size_t i = 0;

        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            assert_int_equal(torture_json_num(doc, "counts", keys[i]), want[i]);
        assert_int_equal(json_object_size(json_object_get(doc, "counts")),
                         sizeof(keys) / sizeof(keys[0]));
    }
    assert_int_equal(torture_json_num(doc, "errors", "iot.ota.X"), 2);
    assert_int_equal(torture_json_num(doc, "errors", "Ambiguous"), 1);
    assert_string_equal(torture_json_str(doc, "preflight", "firmware"),
                        "failed");
    assert_int_equal(torture_json_num(doc, "preflight", "calls"), 2);
    c = json_array_get(torture_json_at(doc, "preflight", "checks"), 0);
    assert_string_equal(torture_json_str(c, NULL, "verdict"), "ok");
    assert_int_equal(torture_json_num(c, NULL, "status"), 1);
    assert_string_equal(torture_json_str(c, NULL, "dest_version"), "2.0");
    assert_true(json_is_null(torture_json_at(c, NULL, "message")));
    c = json_array_get(torture_json_at(doc, "preflight", "checks"), 1);
    assert_string_equal(torture_json_str(c, NULL, "verdict"), "unverified");
    assert_true(json_is_null(torture_json_at(c, NULL, "status")));
    assert_string_equal(torture_json_str(c, NULL, "message"), "not verified");
    assert_null(json_object_get(c, "problem"));
    c = json_array_get(torture_json_at(doc, "preflight", "checks"), 2);
    assert_string_equal(torture_json_str(c, NULL, "problem"),
                        "credentials_rejected");
    assert_string_equal(torture_json_str(c, NULL, "request_id"), "RQ");
    assert_string_equal(torture_json_str(c, NULL, "server_message"), "a b");
    c = torture_json_at(doc, "preflight", "devices");
    assert_int_equal(torture_json_num(c, NULL, "checked"), 10);
    assert_int_equal(torture_json_num(c, NULL, "missing"), 1);
    assert_int_equal(torture_json_num(c, NULL, "up_to_date"), 2);
    assert_int_equal(torture_json_num(c, NULL, "unchecked"), 3);
    assert_int_equal(torture_json_num(c, NULL, "calls"), 4);
    assert_true(json_is_null(torture_json_at(c, NULL, "first_error")));
    assert_true(json_real_value(torture_json_at(doc, "timings", "wall_s")) ==
                1.5);
    assert_true(json_real_value(
                    torture_json_at(doc, "timings", "calls_per_s")) == 19.5);
    assert_string_equal(torture_json_str(doc, "files", "report"), "r.csv");
    assert_string_equal(torture_json_str(doc, "files", "failed"),
                        "r.csv.failed.csv");
    assert_true(json_is_null(torture_json_at(doc, "files", "rejects")));
    assert_string_equal(torture_json_str(doc, "files", "journal"),
                        "r.csv.journal");
    assert_true(json_is_null(torture_json_at(doc, NULL, "plan")));
    assert_true(json_is_null(torture_json_at(doc, NULL, "waves")));
    json_decref(doc);

    /* A waved run: "waves" carries the account (copied). */
    {
        json_t *waves = json_pack("[{s:i}]", "wave", 1);

        s.waves = waves;
        doc = orch_runjson_summary(&s);
        s.waves = NULL;
        json_decref(waves);
        assert_int_equal(json_array_size(torture_json_at(doc, NULL, "waves")),
                         1);
        json_decref(doc);
    }

    /* A given reason wins; no pre-flight and no device check. */
    s.exit_code = 4;
    s.exit_reason = "credentials rejected";
    s.pf = NULL;
    s.pf_state = ORCH_PF_SKIPPED;
    s.devcheck = NULL;
    doc = orch_runjson_summary(&s);
    assert_string_equal(torture_json_str(doc, "exit", "reason"),
                        "credentials rejected");
    assert_string_equal(torture_json_str(doc, "preflight", "firmware"),
                        "skipped");
    assert_int_equal(
        json_array_size(torture_json_at(doc, "preflight", "checks")), 0);
    assert_true(json_is_null(torture_json_at(doc, "preflight", "devices")));
    json_decref(doc);
}

static void plan_object(void **state)
{
    struct orch_run_summary s;
    struct orch_params p;
    json_t *doc = NULL, *plan = NULL, *req = NULL;

    (void)state;
    memset(&s, 0, sizeof(s));
    s.command = "plan";
    doc = orch_runjson_summary(&s);
    orch_params_init(&p);
    assert_int_equal(orch_params_add(&p, "FirmwareId", "FW1"), 0);
    assert_int_equal(orch_params_add(&p, "TargetDeviceName.1", "d1"), 0);
    assert_int_equal(orch_runjson_set_plan(doc, "http://127.0.0.1:1", 3, 200,
                                           40, 20.0,
                                           json_pack("[{s:s}]", "product_key",
                                                     "PK"),
                                           7, 1.4, "CreateOTAStaticUpgradeJob",
                                           &p),
                     0);
    plan = torture_json_at(doc, NULL, "plan");
    assert_string_equal(torture_json_str(plan, NULL, "endpoint"),
                        "http://127.0.0.1:1");
    assert_int_equal(torture_json_num(plan, NULL, "calls_needed"), 40);
    assert_true(
        json_real_value(torture_json_at(plan, NULL, "seconds_needed")) == 2.0);
    assert_int_equal(
        json_integer_value(torture_json_at(
            torture_json_at(plan, NULL, "device_check"), NULL, "calls")),
        7);
    assert_int_equal(json_array_size(torture_json_at(plan, NULL, "products")),
                     1);
    req = torture_json_at(plan, NULL, "first_request");
    assert_string_equal(torture_json_str(req, NULL, "action"),
                        "CreateOTAStaticUpgradeJob");
    assert_string_equal(json_string_value(torture_json_at(
                            torture_json_at(req, NULL, "parameters"), NULL,
                            "TargetDeviceName.1")),
                        "d1");
    orch_params_cleanup(&p);
    json_decref(doc);

    /* No chunk, no device check. */
    doc = orch_runjson_summary(&s);
    assert_int_equal(orch_runjson_set_plan(doc, NULL, 2, 10, 0, 20.0, NULL, 0,
                                           0, "X", NULL),
                     0);
    plan = torture_json_at(doc, NULL, "plan");
    assert_true(json_is_null(torture_json_at(plan, NULL, "first_request")));
    assert_true(json_is_null(torture_json_at(plan, NULL, "device_check")));
    assert_true(json_is_null(torture_json_at(plan, NULL, "endpoint")));
    json_decref(doc);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(summary_every_field),
    cmocka_unit_test(plan_object))
