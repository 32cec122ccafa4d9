/* test_cancel.c - cancel's journal records, its outcomes, and the
 * status/cancel configuration check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/commands/cancel.h"
#include "orch/model/config.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"
#include "orch/engine/query.h"
#include "orch/cloud/api.h"
#include "orch/engine/dispatch.h"
#include "orch/base/tally.h"
#include "torture.h"

#include <stdlib.h>
#include <string.h>

static void journal_records_cover(void **state)
{
    json_t *plain = json_pack("{s:s, s:s, s:b, s:s}", "t", "cancelled",
                              "job_id", "J1", "in_progress", 0, "code", "");
    json_t *full = json_pack("{s:s, s:s, s:b}", "t", "cancelled", "job_id",
                             "J2", "in_progress", 1);
    json_t *done =
        json_pack("{s:s, s:s, s:b, s:s}", "t", "cancelled", "job_id", "J3",
                  "in_progress", 0, "code", "iot.ota.JobHasFinished");
    json_t *run = json_pack("{s:s, s:s}", "t", "cancel_run", "job_id", "J4");
    json_t *noid = json_pack("{s:s}", "t", "cancelled");
    const char *id = NULL;

    (void)state;
    assert_true(orch_cancel_record_covers(plain, false, &id));
    assert_string_equal(id, "J1");
    /* Cancelled without --in-progress: a rerun with it goes again. */
    id = NULL;
    assert_false(orch_cancel_record_covers(plain, true, &id));
    assert_null(id);
    assert_true(orch_cancel_record_covers(full, true, &id));
    assert_string_equal(id, "J2");
    assert_true(orch_cancel_record_covers(full, false, &id));
    /* A finished job needs nothing more, whatever the flags. */
    assert_true(orch_cancel_record_covers(done, true, &id));
    assert_string_equal(id, "J3");
    assert_false(orch_cancel_record_covers(run, false, &id));
    assert_false(orch_cancel_record_covers(noid, false, &id));
    json_decref(plain);
    json_decref(full);
    json_decref(done);
    json_decref(run);
    json_decref(noid);
}

/* What one job's cancel did, from the cancel's answer
 * and the task listing before it (the answer has no count). */
static void outcome_per_job(void **state)
{
    uint64_t c[ORCH_TASK_NSTATES];
    char line[256];

    (void)state;
    memset(c, 0, sizeof(c));
    c[ORCH_TASK_QUEUED] = 3;
    c[ORCH_TASK_NOTIFIED] = 2;
    c[ORCH_TASK_CONFIRM] = 1;
    c[ORCH_TASK_IN_PROGRESS] = 4;
    c[ORCH_TASK_SUCCEEDED] = 190;
    assert_int_equal(orch_cancel_cancellable(c, false), 6);
    assert_int_equal(orch_cancel_cancellable(c, true), 10);

    /* Accepted with tasks left: requested, N tasks. */
    assert_int_equal(orch_cancel_classify(ORCH_ITEM_CREATED, "", true, 6),
                     ORCH_CANCEL_REQUESTED);
    orch_cancel_describe(line, sizeof(line), ORCH_CANCEL_REQUESTED, "", c,
                         false);
    assert_string_equal(line,
                        "cancel requested; 6 tasks were still cancellable");
    /* Accepted, every task ended: nothing left (the old "cancelled"). */
    assert_int_equal(orch_cancel_classify(ORCH_ITEM_CREATED, "", true, 0),
                     ORCH_CANCEL_NOTHING);
    memset(c, 0, sizeof(c));
    c[ORCH_TASK_SUCCEEDED] = 150;
    c[ORCH_TASK_FAILED] = 50;
    orch_cancel_describe(line, sizeof(line), ORCH_CANCEL_NOTHING, "", c,
                         false);
    assert_string_equal(line, "nothing left to cancel (all 200 tasks had "
                              "ended)");
    /* Only IN_PROGRESS left without --in-progress: say how to cancel. */
    c[ORCH_TASK_IN_PROGRESS] = 5;
    assert_int_equal(orch_cancel_cancellable(c, false), 0);
    orch_cancel_describe(line, sizeof(line), ORCH_CANCEL_NOTHING, "", c,
                         false);
    assert_string_equal(line, "nothing left to cancel (5 tasks in progress: "
                              "--in-progress cancels them)");
    /* Not counted (listing failed or listed nothing): still a request,
     * never "nothing left". */
    assert_int_equal(orch_cancel_classify(ORCH_ITEM_CREATED, "", false, 0),
                     ORCH_CANCEL_REQUESTED);
    orch_cancel_describe(line, sizeof(line), ORCH_CANCEL_REQUESTED, "", NULL,
                         false);
    assert_string_equal(line,
                        "cancel requested; its tasks could not be counted");
    /* JobHasFinished: already finished, not an error. */
    assert_int_equal(orch_cancel_classify(ORCH_ITEM_FAILED,
                                          "iot.ota.JobHasFinished", true, 3),
                     ORCH_CANCEL_FINISHED);
    orch_cancel_describe(line, sizeof(line), ORCH_CANCEL_FINISHED,
                         "iot.ota.JobHasFinished", NULL, false);
    assert_string_equal(line, "already finished (iot.ota.JobHasFinished)");
    assert_int_equal(orch_cancel_classify(ORCH_ITEM_FAILED,
                                          "iot.ota.InvalidJobId", true, 3),
                     ORCH_CANCEL_FAILED);
    assert_int_equal(orch_cancel_classify(ORCH_ITEM_NOT_SENT, "", true, 3),
                     ORCH_CANCEL_NOT_SENT);
    assert_string_equal(orch_cancel_outcome_name(ORCH_CANCEL_NOTHING),
                        "nothing_to_cancel");
    assert_string_equal(orch_cancel_outcome_name(ORCH_CANCEL_REQUESTED),
                        "cancelled");
    assert_string_equal(orch_cancel_outcome_name(ORCH_CANCEL_FINISHED),
                        "already_finished");
}

static void config_checks(void **state)
{
    struct orch_config cfg;
    struct orch_diag diag = {{0}};

    (void)state;
    orch_config_init(&cfg);
    cfg.command = ORCH_CMD_STATUS;
    assert_int_equal(orch_query_config_validate(&cfg, &diag), ORCH_ECONFIG);
    assert_non_null(strstr(diag.msg, "REPORT.csv"));
    cfg.inventory_path = strdup("r.csv");
    cfg.region = strdup("cn-beijing");
    assert_int_equal(orch_query_config_validate(&cfg, &diag), 0);
    assert_string_equal(cfg.endpoint, "https://iot.cn-beijing.aliyuncs.com");
    assert_int_equal(cfg.interval_ms, 10000);

    cfg.cancel_in_progress = true;
    assert_int_equal(orch_query_config_validate(&cfg, &diag), ORCH_ECONFIG);
    assert_non_null(strstr(diag.msg, "--in-progress"));
    cfg.cancel_in_progress = false;

    cfg.interval_ms = 500;
    cfg.watch = true;
    assert_int_equal(orch_query_config_validate(&cfg, &diag), ORCH_ECONFIG);
    assert_non_null(strstr(diag.msg, "--interval"));
    cfg.interval_ms = 2000;
    assert_int_equal(orch_query_config_validate(&cfg, &diag), 0);

    cfg.command = ORCH_CMD_CANCEL;
    assert_int_equal(orch_query_config_validate(&cfg, &diag), ORCH_ECONFIG);
    assert_non_null(strstr(diag.msg, "--watch"));
    cfg.watch = false;
    cfg.interval_ms = 0;
    /* cancel --json prints its own document. */
    cfg.json = true;
    assert_int_equal(orch_query_config_validate(&cfg, &diag), 0);
    cfg.json = false;
    cfg.devices_path = "d.csv";
    assert_int_equal(orch_query_config_validate(&cfg, &diag), ORCH_ECONFIG);
    assert_non_null(strstr(diag.msg, "--devices"));
    cfg.devices_path = NULL;
    cfg.cancel_in_progress = true;
    assert_int_equal(orch_query_config_validate(&cfg, &diag), 0);

    free(cfg.endpoint);
    cfg.endpoint = strdup("ftp://x");
    assert_int_equal(orch_query_config_validate(&cfg, &diag), ORCH_ECONFIG);
    if (strstr(diag.msg, "--endpoint") == NULL)
        fail_msg("diag: %s", diag.msg);
    orch_config_cleanup(&cfg);
}

/* cancel's document (cancel.h) is built on jsonout.h's base: every field. */
static void cancel_document(void **state)
{
    struct orch_cancel_counts n = {5, 1, 2, 1, 1, 0, 3, 17, 1};
    struct orch_tally codes;
    json_t *doc = NULL;

    (void)state;
    memset(&codes, 0, sizeof(codes));
    orch_tally_add(&codes, "iot.ota.X");
    doc = orch_cancel_json_doc("r.csv", true, &n, &codes,
                               "r.csv.cancel.journal", 1,
                               "1 job failed, 0 not sent");
    assert_non_null(doc);
    assert_int_equal(torture_json_num(doc, NULL, "schema"), 1);
    assert_string_equal(torture_json_str(doc, NULL, "command"), "cancel");
    assert_int_equal(torture_json_num(doc, "exit", "code"), 1);
    assert_string_equal(torture_json_str(doc, "exit", "name"), "partial");
    assert_string_equal(torture_json_str(doc, "exit", "reason"),
                        "1 job failed, 0 not sent");
    assert_string_equal(torture_json_str(doc, NULL, "report"), "r.csv");
    assert_true(json_is_true(torture_json_at(doc, NULL, "in_progress")));
    assert_int_equal(torture_json_num(doc, "counts", "jobs"), 5);
    assert_int_equal(torture_json_num(doc, "counts", "skipped"), 1);
    assert_int_equal(torture_json_num(doc, "counts", "cancelled"), 2);
    assert_int_equal(torture_json_num(doc, "counts", "already_finished"), 1);
    assert_int_equal(torture_json_num(doc, "counts", "failed"), 1);
    assert_int_equal(torture_json_num(doc, "counts", "not_sent"), 0);
    assert_int_equal(torture_json_num(doc, "counts", "nothing_to_cancel"), 3);
    assert_int_equal(torture_json_num(doc, "counts", "tasks_cancellable"), 17);
    assert_int_equal(torture_json_num(doc, "counts", "not_counted"), 1);
    assert_int_equal(torture_json_num(doc, "errors", "iot.ota.X"), 1);
    assert_string_equal(torture_json_str(doc, "files", "journal"),
                        "r.csv.cancel.journal");
    json_decref(doc);

    /* Before any count: counts and journal null, errors empty. */
    doc = orch_cancel_json_doc(NULL, false, NULL, NULL, NULL, 2, "");
    assert_non_null(doc);
    assert_true(json_is_null(torture_json_at(doc, NULL, "counts")));
    assert_true(json_is_null(torture_json_at(doc, NULL, "report")));
    assert_true(json_is_null(torture_json_at(doc, "files", "journal")));
    assert_int_equal(json_object_size(torture_json_at(doc, NULL, "errors")), 0);
    assert_string_equal(torture_json_str(doc, "exit", "reason"),
                        "usage or configuration error");
    json_decref(doc);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(journal_records_cover),
    cmocka_unit_test(config_checks),
    cmocka_unit_test(outcome_per_job),
    cmocka_unit_test(cancel_document))
