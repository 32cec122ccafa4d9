/* test_jsonout.c - the pure parts of the output for machines: the summary
 * document, the exit object and base document every --json document
 * shares (and cancel's, built on it), the plan object, the event shape,
 * exit names, the colour rule
 * and the --check-devices drop map of the run record. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/commands/cancel.h"
#include "orch/base/err.h"
#include "orch/base/jsonout.h"
#include "orch/base/msgs.h"
#include "orch/cloud/params.h"
#include "orch/rollout/preflight.h"
#include "orch/rollout/resume.h"
#include "orch/base/tally.h"

#include <stdlib.h>
#include <string.h>

static json_t *at(json_t *doc, const char *obj, const char *key)
{
    json_t *o = obj ? json_object_get(doc, obj) : doc;
    json_t *v = json_object_get(o, key);

    if (v == NULL)
        fail_msg("missing %s.%s", obj ? obj : "", key);
    return v;
}

static void exit_names(void **state)
{
    (void)state;
    assert_string_equal(orch_exit_name(0), "ok");
    assert_string_equal(orch_exit_name(1), "partial");
    assert_string_equal(orch_exit_name(2), "usage");
    assert_string_equal(orch_exit_name(3), "inventory");
    assert_string_equal(orch_exit_name(4), "aborted");
    assert_string_equal(orch_exit_name(5), "gate");
    assert_string_equal(orch_exit_name(6), "paused");
    assert_string_equal(orch_exit_name(77), "unknown");
}

/* The exit object and the base document every --json document shares. */
static void exit_object_and_base_document(void **state)
{
    json_t *ex = NULL, *doc = NULL;

    (void)state;
    ex = orch_jsonout_exit(1, "3 jobs failed");
    assert_non_null(ex);
    assert_int_equal(json_object_size(ex), 3);
    assert_int_equal(json_integer_value(at(ex, NULL, "code")), 1);
    assert_string_equal(json_string_value(at(ex, NULL, "name")), "partial");
    assert_string_equal(json_string_value(at(ex, NULL, "reason")),
                        "3 jobs failed");
    json_decref(ex);
    /* No reason (NULL or ""): the code's default text. */
    ex = orch_jsonout_exit(6, "");
    assert_string_equal(json_string_value(at(ex, NULL, "name")), "paused");
    assert_non_null(
        strstr(json_string_value(at(ex, NULL, "reason")), "resume"));
    json_decref(ex);
    ex = orch_jsonout_exit(5, NULL);
    assert_string_equal(json_string_value(at(ex, NULL, "name")), "gate");
    assert_non_null(strstr(json_string_value(at(ex, NULL, "reason")), "gate"));
    json_decref(ex);

    doc = orch_jsonout_doc("status", 2, "no such report");
    assert_non_null(doc);
    assert_int_equal(json_object_size(doc), 3);
    assert_int_equal(json_integer_value(at(doc, NULL, "schema")),
                     ORCH_JSONOUT_SCHEMA);
    assert_string_equal(json_string_value(at(doc, NULL, "command")),
                        "status");
    assert_int_equal(json_integer_value(at(doc, "exit", "code")), 2);
    assert_string_equal(json_string_value(at(doc, "exit", "name")), "usage");
    assert_string_equal(json_string_value(at(doc, "exit", "reason")),
                        "no such report");
    json_decref(doc);
}

/* cancel's document (cancel.h) is built on the same base: every field. */
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
    assert_int_equal(json_integer_value(at(doc, NULL, "schema")), 1);
    assert_string_equal(json_string_value(at(doc, NULL, "command")), "cancel");
    assert_int_equal(json_integer_value(at(doc, "exit", "code")), 1);
    assert_string_equal(json_string_value(at(doc, "exit", "name")), "partial");
    assert_string_equal(json_string_value(at(doc, "exit", "reason")),
                        "1 job failed, 0 not sent");
    assert_string_equal(json_string_value(at(doc, NULL, "report")), "r.csv");
    assert_true(json_is_true(at(doc, NULL, "in_progress")));
    assert_int_equal(json_integer_value(at(doc, "counts", "jobs")), 5);
    assert_int_equal(json_integer_value(at(doc, "counts", "skipped")), 1);
    assert_int_equal(json_integer_value(at(doc, "counts", "cancelled")), 2);
    assert_int_equal(
        json_integer_value(at(doc, "counts", "already_finished")), 1);
    assert_int_equal(json_integer_value(at(doc, "counts", "failed")), 1);
    assert_int_equal(json_integer_value(at(doc, "counts", "not_sent")), 0);
    assert_int_equal(
        json_integer_value(at(doc, "counts", "nothing_to_cancel")), 3);
    assert_int_equal(
        json_integer_value(at(doc, "counts", "tasks_cancellable")), 17);
    assert_int_equal(json_integer_value(at(doc, "counts", "not_counted")), 1);
    assert_int_equal(json_integer_value(at(doc, "errors", "iot.ota.X")), 1);
    assert_string_equal(json_string_value(at(doc, "files", "journal")),
                        "r.csv.cancel.journal");
    json_decref(doc);

    /* Before any count: counts and journal null, errors empty. */
    doc = orch_cancel_json_doc(NULL, false, NULL, NULL, NULL, 2, "");
    assert_non_null(doc);
    assert_true(json_is_null(at(doc, NULL, "counts")));
    assert_true(json_is_null(at(doc, NULL, "report")));
    assert_true(json_is_null(at(doc, "files", "journal")));
    assert_int_equal(json_object_size(at(doc, NULL, "errors")), 0);
    assert_string_equal(json_string_value(at(doc, "exit", "reason")),
                        "usage or configuration error");
    json_decref(doc);
}

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
    dev.checked = 10;
    dev.missing = 1;
    dev.up_to_date = 2;
    dev.unchecked = 3;
    dev.calls = 4;

    s.command = "run";
    s.run_id = "abc";
    s.resumed = true;
    s.exit_code = 1;
    s.exit_reason = NULL;
    s.devices = 100;
    s.duplicates = 1;
    s.rejected = 2;
    s.dropped_missing = 3;
    s.dropped_up_to_date = 4;
    s.unchecked = 5;
    s.chunks = 6;
    s.created = 7;
    s.failed = 8;
    s.not_sent = 9;
    s.already_done = 10;
    s.calls = 11;
    s.retries = 12;
    s.throttled = 13;
    s.form_fallbacks = 14;
    s.queries = 15;
    s.reconciled = 16;
    s.recovered = 17;
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

    doc = orch_jsonout_summary(&s);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(at(doc, NULL, "schema")), 1);
    assert_string_equal(json_string_value(at(doc, NULL, "command")), "run");
    assert_string_equal(json_string_value(at(doc, NULL, "run_id")), "abc");
    assert_true(json_is_true(at(doc, NULL, "resumed")));
    assert_int_equal(json_integer_value(at(doc, "exit", "code")), 1);
    assert_string_equal(json_string_value(at(doc, "exit", "name")),
                        "partial");
    assert_string_equal(json_string_value(at(doc, "exit", "reason")),
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
            assert_int_equal(json_integer_value(at(doc, "counts", keys[i])),
                             want[i]);
        assert_int_equal(json_object_size(json_object_get(doc, "counts")),
                         sizeof(keys) / sizeof(keys[0]));
    }
    assert_int_equal(json_integer_value(at(doc, "errors", "iot.ota.X")), 2);
    assert_int_equal(json_integer_value(at(doc, "errors", "Ambiguous")), 1);
    assert_string_equal(json_string_value(at(doc, "preflight", "firmware")),
                        "failed");
    assert_int_equal(json_integer_value(at(doc, "preflight", "calls")), 2);
    c = json_array_get(at(doc, "preflight", "checks"), 0);
    assert_string_equal(json_string_value(at(c, NULL, "verdict")), "ok");
    assert_int_equal(json_integer_value(at(c, NULL, "status")), 1);
    assert_string_equal(json_string_value(at(c, NULL, "dest_version")), "2.0");
    assert_true(json_is_null(at(c, NULL, "message")));
    c = json_array_get(at(doc, "preflight", "checks"), 1);
    assert_string_equal(json_string_value(at(c, NULL, "verdict")),
                        "unverified");
    assert_true(json_is_null(at(c, NULL, "status")));
    assert_string_equal(json_string_value(at(c, NULL, "message")),
                        "not verified");
    assert_null(json_object_get(c, "problem"));
    c = json_array_get(at(doc, "preflight", "checks"), 2);
    assert_string_equal(json_string_value(at(c, NULL, "problem")),
                        "credentials_rejected");
    assert_string_equal(json_string_value(at(c, NULL, "request_id")), "RQ");
    assert_string_equal(json_string_value(at(c, NULL, "server_message")),
                        "a b");
    c = at(doc, "preflight", "devices");
    assert_int_equal(json_integer_value(at(c, NULL, "checked")), 10);
    assert_int_equal(json_integer_value(at(c, NULL, "missing")), 1);
    assert_int_equal(json_integer_value(at(c, NULL, "up_to_date")), 2);
    assert_int_equal(json_integer_value(at(c, NULL, "unchecked")), 3);
    assert_int_equal(json_integer_value(at(c, NULL, "calls")), 4);
    assert_true(json_is_null(at(c, NULL, "first_error")));
    assert_true(json_real_value(at(doc, "timings", "wall_s")) == 1.5);
    assert_true(json_real_value(at(doc, "timings", "calls_per_s")) == 19.5);
    assert_string_equal(json_string_value(at(doc, "files", "report")),
                        "r.csv");
    assert_string_equal(json_string_value(at(doc, "files", "failed")),
                        "r.csv.failed.csv");
    assert_true(json_is_null(at(doc, "files", "rejects")));
    assert_string_equal(json_string_value(at(doc, "files", "journal")),
                        "r.csv.journal");
    assert_true(json_is_null(at(doc, NULL, "plan")));
    json_decref(doc);

    /* A given reason wins; no pre-flight and no device check. */
    s.exit_code = 4;
    s.exit_reason = "credentials rejected";
    s.pf = NULL;
    s.pf_state = ORCH_PF_SKIPPED;
    s.devcheck = NULL;
    doc = orch_jsonout_summary(&s);
    assert_string_equal(json_string_value(at(doc, "exit", "reason")),
                        "credentials rejected");
    assert_string_equal(json_string_value(at(doc, "preflight", "firmware")),
                        "skipped");
    assert_int_equal(json_array_size(at(doc, "preflight", "checks")), 0);
    assert_true(json_is_null(at(doc, "preflight", "devices")));
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
    doc = orch_jsonout_summary(&s);
    orch_params_init(&p);
    assert_int_equal(orch_params_add(&p, "FirmwareId", "FW1"), 0);
    assert_int_equal(orch_params_add(&p, "TargetDeviceName.1", "d1"), 0);
    assert_int_equal(orch_jsonout_set_plan(doc, "http://127.0.0.1:1", 3, 200,
                                           40, 20.0,
                                           json_pack("[{s:s}]", "product_key",
                                                     "PK"),
                                           7, 1.4, "CreateOTAStaticUpgradeJob",
                                           &p),
                     0);
    plan = at(doc, NULL, "plan");
    assert_string_equal(json_string_value(at(plan, NULL, "endpoint")),
                        "http://127.0.0.1:1");
    assert_int_equal(json_integer_value(at(plan, NULL, "calls_needed")), 40);
    assert_true(json_real_value(at(plan, NULL, "seconds_needed")) == 2.0);
    assert_int_equal(json_integer_value(at(at(plan, NULL, "device_check"),
                                           NULL, "calls")),
                     7);
    assert_int_equal(json_array_size(at(plan, NULL, "products")), 1);
    req = at(plan, NULL, "first_request");
    assert_string_equal(json_string_value(at(req, NULL, "action")),
                        "CreateOTAStaticUpgradeJob");
    assert_string_equal(
        json_string_value(at(at(req, NULL, "parameters"), NULL,
                             "TargetDeviceName.1")),
        "d1");
    orch_params_cleanup(&p);
    json_decref(doc);

    /* No chunk, no device check. */
    doc = orch_jsonout_summary(&s);
    assert_int_equal(orch_jsonout_set_plan(doc, NULL, 2, 10, 0, 20.0, NULL, 0,
                                           0, "X", NULL),
                     0);
    plan = at(doc, NULL, "plan");
    assert_true(json_is_null(at(plan, NULL, "first_request")));
    assert_true(json_is_null(at(plan, NULL, "device_check")));
    assert_true(json_is_null(at(plan, NULL, "endpoint")));
    json_decref(doc);
}

static void event_shape(void **state)
{
    json_t *ev = orch_event_new("sent", 1700000000123LL);

    (void)state;
    assert_non_null(ev);
    assert_string_equal(json_string_value(at(ev, NULL, "event")), "sent");
    assert_int_equal(json_integer_value(at(ev, NULL, "ts")), 1700000000123LL);
    assert_string_equal(json_string_value(at(ev, NULL, "time")),
                        "2023-11-14T22:13:20.123Z");
    json_decref(ev);
}

static void event_emit_one_line(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    json_t *ev = orch_event_new("created", 0);

    (void)state;
    json_object_set_new(ev, "chunk", json_integer(3));
    orch_event_emit(fp, ev);
    orch_event_emit(fp, NULL);
    fclose(fp);
    assert_string_equal(buf, "{\"chunk\":3,\"event\":\"created\","
                             "\"time\":\"1970-01-01T00:00:00.000Z\","
                             "\"ts\":0}\n");
    free(buf);
}

static void color_rule(void **state)
{
    (void)state;
    assert_true(orch_msgs_color_wanted(true, NULL, "xterm"));
    assert_true(orch_msgs_color_wanted(true, "", NULL));
    assert_false(orch_msgs_color_wanted(false, NULL, "xterm"));
    assert_false(orch_msgs_color_wanted(true, "1", "xterm"));
    assert_false(orch_msgs_color_wanted(true, NULL, "dumb"));
}

/* Messages: plain off a terminal, JSON lines with --log-format json, the
 * last error kept for the exit reason. */
static void messages_plain_and_json(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    FILE *old = orch_msgs_set_stream(fp);
    json_t *ev = NULL;

    (void)state;
    orch_msgs_set_color(false);
    orch_warnf("w %d", 1);
    orch_errorf("bad %s", "thing");
    fflush(fp);
    assert_string_equal(buf, "ota-rollout: warning: w 1\n"
                             "ota-rollout: bad thing\n");
    assert_string_equal(orch_msgs_last_error(), "bad thing");
    fclose(fp);
    free(buf);

    buf = NULL;
    fp = open_memstream(&buf, &len);
    orch_msgs_set_stream(fp);
    orch_msgs_set_json(true);
    orch_notef("n \"q\"");
    fflush(fp);
    orch_msgs_set_json(false);
    ev = json_loads(buf, 0, NULL);
    assert_non_null(ev);
    assert_string_equal(json_string_value(at(ev, NULL, "level")), "note");
    assert_string_equal(json_string_value(at(ev, NULL, "message")), "n \"q\"");
    assert_string_equal(json_string_value(at(ev, NULL, "event")), "message");
    json_decref(ev);
    orch_msgs_set_stream(old);
    fclose(fp);
    free(buf);
}

/* The final document: on the --json stream, as a "summary" event on the
 * log stream, either or both; a stream that fails is an error. */
static void deliver_document(void **state)
{
    json_t *doc = json_pack("{s:s}", "command", "cancel");
    char *out = NULL, *log = NULL;
    size_t outn = 0, logn = 0;
    FILE *ofp = open_memstream(&out, &outn);
    FILE *lfp = open_memstream(&log, &logn);
    FILE *full = fopen("/dev/full", "w");

    (void)state;
    assert_non_null(doc);
    assert_non_null(ofp);
    assert_non_null(lfp);
    assert_int_equal(orch_jsonout_deliver(doc, ofp, lfp, 1000), 0);
    fclose(ofp);
    fclose(lfp);
    assert_non_null(strstr(out, "\"command\": \"cancel\""));
    assert_non_null(strstr(log, "\"event\":\"summary\""));
    assert_non_null(strstr(log, "\"summary\":{\"command\":\"cancel\"}"));
    assert_int_equal(doc->refcount, 1); /* borrowed */
    /* Neither stream: nothing to do. */
    assert_int_equal(orch_jsonout_deliver(doc, NULL, NULL, 1000), 0);
    /* No document (out of memory) is an error only where one was due. */
    assert_int_equal(orch_jsonout_deliver(NULL, NULL, stderr, 1000), 0);
    assert_int_equal(orch_jsonout_deliver(NULL, stdout, NULL, 1000),
                     ORCH_EIO);
    if (full != NULL) {
        assert_int_equal(orch_jsonout_deliver(doc, full, NULL, 1000),
                         ORCH_EIO);
        fclose(full);
    }
    free(out);
    free(log);
    json_decref(doc);
}

static void drop_map_round_trip(void **state)
{
    uint8_t drop[6] = {0, 1, 0, 0, 1, 1};
    uint8_t back[6];
    json_t *run = json_object();
    struct orch_diag diag = {{0}};
    bool has = true;

    (void)state;
    /* No "dropped": the check did not run. */
    memset(back, 7, sizeof(back));
    assert_int_equal(orch_resume_drop_map(run, back, 6, &has, &diag), 0);
    assert_false(has);
    assert_memory_equal(back, (uint8_t[6]){0}, 6);

    json_object_set_new(run, "dropped", orch_resume_dropped_json(drop, 6));
    assert_int_equal(json_array_size(json_object_get(run, "dropped")), 3);
    assert_int_equal(orch_resume_drop_map(run, back, 6, &has, &diag), 0);
    assert_true(has);
    assert_memory_equal(back, drop, 6);

    /* An index outside the inventory is damage, and nothing is kept. */
    assert_int_equal(orch_resume_drop_map(run, back, 5, &has, &diag),
                     ORCH_EJOURNAL);
    assert_false(has);
    assert_non_null(strstr(diag.msg, "not a device of this inventory"));
    json_object_set_new(run, "dropped", json_pack("[i, s]", 1, "x"));
    assert_int_equal(orch_resume_drop_map(run, back, 6, &has, &diag),
                     ORCH_EJOURNAL);
    json_object_set_new(run, "dropped", json_string("no"));
    assert_int_equal(orch_resume_drop_map(run, back, 6, &has, &diag),
                     ORCH_EJOURNAL);
    json_decref(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exit_names),
        cmocka_unit_test(exit_object_and_base_document),
        cmocka_unit_test(cancel_document),
        cmocka_unit_test(summary_every_field),
        cmocka_unit_test(plan_object),
        cmocka_unit_test(event_shape),
        cmocka_unit_test(event_emit_one_line),
        cmocka_unit_test(color_rule),
        cmocka_unit_test(messages_plain_and_json),
        cmocka_unit_test(deliver_document),
        cmocka_unit_test(drop_map_round_trip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
