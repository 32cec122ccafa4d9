/* test_waveaccount.c - a waved run's account: each wave's outcomes,
 * start and gate from the rows and the wave records, the text with its
 * total, and the JSON with the gate's thresholds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "orch/model/waves.h"
#include "orch/rollout/gate.h"
#include "orch/rollout/waveaccount.h"
#include "torture.h"

/* Waves of chunks {0} and {1, 2, 3}, 200 devices a chunk. */
static void two_waves(struct orch_wave_plan *p)
{
    memset(p, 0, sizeof(*p));
    p->n = 2;
    p->w[0].first = 0;
    p->w[0].end = 1;
    p->w[0].devices = 200;
    p->w[1].first = 1;
    p->w[1].end = 4;
    p->w[1].devices = 600;
}

static json_t *row(const char *status, const char *code)
{
    return json_pack("{s:s, s:s, s:s?}", "t", "done", "status", status,
                     "code", code);
}

static void account_of_a_paused_run(void **state)
{
    struct orch_wave_plan p;
    struct orch_wave_account a[2];
    struct orch_gate now = {0.95, 0.05, 10, 7200 * 1000};
    json_t *rows[4];
    json_t *records = NULL, *js = NULL, *g = NULL;
    struct torture_capture m;
    size_t i = 0;

    (void)state;
    two_waves(&p);
    rows[0] = row("created", NULL);
    rows[1] = row("created", NULL);
    rows[2] = row("failed", "iot.ota.X");
    rows[3] = row("not_sent", "WavePaused");
    records = json_pack(
        "[{s:s, s:i, s:s, s:i, s:i}, {s:s, s:i, s:s, s:s, s:i, s:i, s:i, "
        "s:i, s:i, s:i, s:s, s:i, s:f, s:i}, {s:s, s:i, s:s, s:i}, "
        "{s:s, s:i, s:s, s:s, s:i}]",
        "t", "wave", "wave", 1, "event", "start", "time", 1000, "schedule",
        5000,
        "t", "wave", "wave", 1, "event", "gate", "decision", "pass", "tasks",
        200, "succeeded", 200, "failed", 0, "canceled", 0, "pending", 0,
        "no_task", 0, "why", "200 of 200 tasks SUCCEEDED", "time", 9000,
        "success_threshold", 1.0, "min_decided", 5,
        "t", "wave", "wave", 2, "event", "start", "time", 9500,
        "t", "wave", "wave", 2, "event", "paused", "reason", "timeout", "time",
        12000);
    assert_non_null(records);
    orch_waveaccount_build(&p, rows, 4, records, a);
    assert_int_equal(a[0].created, 1);
    assert_int_equal(a[0].start_ms, 1000);
    assert_int_equal(a[0].schedule_ms, 5000);
    assert_non_null(a[0].gate);
    assert_string_equal(a[0].last_event, "gate");
    assert_int_equal(a[1].created, 1);
    assert_int_equal(a[1].failed, 1);
    assert_int_equal(a[1].not_sent, 1);
    assert_string_equal(a[1].not_sent_code, "WavePaused");
    assert_null(a[1].gate);
    assert_string_equal(a[1].last_event, "paused");
    assert_string_equal(a[1].reason, "timeout");
    assert_int_equal(a[1].schedule_ms, -1);

    orch_waveaccount_print(torture_capture_open(&m), a, 2);
    torture_capture_close(&m);
    assert_string_equal(
        m.buf,
        "waves:\n"
        "  wave 1/2 (canary): chunks 1-1, 200 devices, 1 job: 1 created, 0 "
        "failed, 0 not sent; gate pass: 200 of 200 tasks SUCCEEDED\n"
        "  wave 2/2: chunks 2-4, 600 devices, 1 job: 1 created, 1 failed, 1 "
        "not sent (WavePaused)\n"
        "total over 2 waves: 4 chunks, 800 devices: 2 created, 1 failed, 1 "
        "not sent\n");
    free(m.buf);

    js = orch_waveaccount_json(a, 2, &now);
    assert_int_equal(json_array_size(js), 2);
    g = torture_json_at(json_array_get(js, 0), NULL, "gate");
    assert_string_equal(torture_json_str(g, NULL, "decision"), "pass");
    assert_int_equal(torture_json_num(g, NULL, "succeeded"), 200);
    assert_int_equal(torture_json_num(g, NULL, "time_ms"), 9000);
    /* The record's thresholds; those it lacks are the current ones. */
    assert_true(json_real_value(json_object_get(g, "success_threshold")) ==
                1.0);
    assert_int_equal(torture_json_num(g, NULL, "min_decided"), 5);
    assert_true(json_real_value(json_object_get(g, "failure_threshold")) ==
                0.05);
    assert_int_equal(torture_json_num(g, NULL, "timeout_s"), 7200);
    assert_int_equal(
        torture_json_num(json_array_get(js, 1), NULL, "jobs"), 1);
    assert_string_equal(
        torture_json_str(json_array_get(js, 1), NULL, "reason"), "timeout");
    assert_true(json_is_null(
        torture_json_at(json_array_get(js, 1), NULL, "schedule_ms")));
    json_decref(js);
    json_decref(records);
    for (i = 0; i < 4; i++)
        json_decref(rows[i]);
}

/* No record yet, rows without an outcome: not sent, no code, no gate. */
static void account_before_any_record(void **state)
{
    struct orch_wave_plan p;
    struct orch_wave_account a[2];
    json_t *rows[4] = {NULL, NULL, NULL, NULL};
    json_t *js = NULL;

    (void)state;
    two_waves(&p);
    orch_waveaccount_build(&p, rows, 4, NULL, a);
    assert_int_equal(a[0].not_sent, 1);
    assert_int_equal(a[1].not_sent, 3);
    assert_string_equal(a[1].not_sent_code, "");
    assert_int_equal(a[0].start_ms, -1);
    js = orch_waveaccount_json(a, 2, NULL);
    assert_true(json_is_null(
        torture_json_at(json_array_get(js, 0), NULL, "gate")));
    assert_true(json_is_null(
        torture_json_at(json_array_get(js, 0), NULL, "not_sent_code")));
    json_decref(js);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(account_of_a_paused_run),
    cmocka_unit_test(account_before_any_record))
