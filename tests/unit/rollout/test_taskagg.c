/* test_taskagg.c - the task aggregation: canned ListOTATaskByJob /
 * QueryOTAJob / QueryOTAFirmware answers folded into counts, reasons, job
 * states, groups and the summary. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/engine/dispatch_ops.h"
#include "orch/rollout/rollout.h"
#include "orch/rollout/taskagg.h"
#include "rollout_fixture.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct seen {
    size_t n;
    char last_dev[32];
    long long last_progress;
};

static int see_task(void *ud, const struct orch_rollout_job *job,
                    const struct orch_task_view *t)
{
    struct seen *s = ud;

    assert_string_equal(t->job_id, job->job_id);
    s->n++;
    snprintf(s->last_dev, sizeof(s->last_dev), "%s", t->device_name);
    s->last_progress = t->progress;
    return 0;
}

static void add_page_counts_and_reasons(void **state)
{
    const char *const st[] = {"SUCCEEDED",   "FAILED", "FAILED", "QUEUED",
                              "IN_PROGRESS", "FAILED", "WEIRD"};
    const char *const ds[] = {
        "", "timeout", "version not conform", "", "", "timeout", ""};
    struct orch_rollout r;
    struct orch_taskagg agg;
    struct seen seen;
    json_t *p = page(250, st, ds, 7, 0);

    (void)state;
    memset(&seen, 0, sizeof(seen));
    load(&r, report_csv);
    orch_taskagg_init(&agg);
    assert_int_equal(
        orch_taskagg_add_page(&agg, &r.jobs[0], p, see_task, &seen), 0);
    assert_int_equal(r.jobs[0].total, 250);
    assert_int_equal(r.jobs[0].pages, 3);
    assert_int_equal(r.jobs[0].listed, 7);
    assert_int_equal(r.jobs[0].counts[ORCH_TASK_SUCCEEDED], 1);
    assert_int_equal(r.jobs[0].counts[ORCH_TASK_FAILED], 3);
    assert_int_equal(r.jobs[0].counts[ORCH_TASK_QUEUED], 1);
    assert_int_equal(r.jobs[0].counts[ORCH_TASK_IN_PROGRESS], 1);
    assert_int_equal(r.jobs[0].counts[ORCH_TASK_OTHER], 1);
    assert_int_equal(seen.n, 7);
    assert_string_equal(seen.last_dev, "dev-006");
    assert_int_equal(seen.last_progress, 60);
    assert_int_equal(agg.n, 2);
    assert_string_equal(agg.reasons[0].text, "timeout");
    assert_int_equal(agg.reasons[0].count, 2);
    assert_int_equal(agg.reasons[1].count, 1);
    /* Empty reason is counted as "(none)". */
    assert_int_equal(orch_taskagg_add_reason(&agg, ""), 0);
    assert_string_equal(agg.reasons[2].text, "(none)");
    json_decref(p);
    orch_taskagg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

static void add_page_rejects_answer_without_list(void **state)
{
    struct orch_rollout r;
    struct orch_taskagg agg;
    json_t *bad = json_pack("{s:b, s:{}}", "Success", 1, "Data");
    json_t *nested = json_loads(
        "{\"Total\":1,\"Data\":{\"SimpleOTATaskInfo\":{\"SimpleOTATaskInfo\":"
        "[{\"TaskStatus\":\"SUCCEEDED\",\"DeviceName\":\"d\"}]}}}",
        0, NULL);

    (void)state;
    load(&r, report_csv);
    orch_taskagg_init(&agg);
    assert_int_equal(orch_taskagg_add_page(&agg, &r.jobs[0], bad, NULL, NULL),
                     ORCH_EDECODE);
    assert_int_equal(r.jobs[0].listed, 0);
    /* The SDK's nested shape is understood too. */
    assert_int_equal(
        orch_taskagg_add_page(&agg, &r.jobs[1], nested, NULL, NULL), 0);
    assert_int_equal(r.jobs[1].counts[ORCH_TASK_SUCCEEDED], 1);
    assert_int_equal(r.jobs[1].pages, 1);
    json_decref(bad);
    json_decref(nested);
    orch_taskagg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

static void derive_job_states(void **state)
{
    struct orch_rollout_job j;

    (void)state;
    memset(&j, 0, sizeof(j));
    assert_null(orch_taskagg_derive_job(&j)); /* nothing listed */
    j.listed = 3;
    j.counts[ORCH_TASK_QUEUED] = 3;
    assert_null(orch_taskagg_derive_job(&j)); /* PLANNED or waiting */
    j.counts[ORCH_TASK_QUEUED] = 2;
    j.counts[ORCH_TASK_SUCCEEDED] = 1;
    assert_string_equal(orch_taskagg_derive_job(&j), "IN_PROGRESS");
    j.counts[ORCH_TASK_QUEUED] = 0;
    j.counts[ORCH_TASK_FAILED] = 2;
    assert_string_equal(orch_taskagg_derive_job(&j), "COMPLETED");
    j.counts[ORCH_TASK_FAILED] = 1;
    j.counts[ORCH_TASK_CANCELED] = 1;
    assert_null(orch_taskagg_derive_job(&j)); /* CANCELED or COMPLETED */
}

static void summary_groups_and_reasons(void **state)
{
    struct orch_rollout r;
    struct orch_taskagg agg;
    struct orch_taskagg_summary s;

    (void)state;
    fill_three_jobs(&r, &agg);
    assert_int_equal(orch_taskagg_summarize(&r, &agg, &s), 0);
    assert_int_equal(s.jobs, 3);
    assert_int_equal(s.jobs_failed, 1);
    assert_int_equal(s.job_states[ORCH_JOB_COMPLETED], 1);
    assert_int_equal(s.job_states[ORCH_JOB_CANCELED], 1);
    assert_int_equal(s.job_states[ORCH_JOB_UNKNOWN], 1);
    assert_int_equal(s.devices, 9);
    assert_int_equal(s.tasks, 5);
    assert_int_equal(s.counts[ORCH_TASK_FAILED], 3);
    assert_int_equal(s.counts[ORCH_TASK_SUCCEEDED], 2);
    assert_int_equal(s.pending, 0);
    assert_false(s.decided); /* a job was not queried */
    assert_int_equal(s.nproducts, 2);
    assert_string_equal(s.products[0].key, "pkA");
    assert_int_equal(s.products[0].jobs, 2);
    assert_int_equal(s.products[0].devices, 7);
    assert_int_equal(s.products[0].tasks, 3);
    assert_string_equal(s.products[1].key, "pkB");
    assert_int_equal(s.products[1].counts[ORCH_TASK_FAILED], 2);
    assert_int_equal(s.nwaves, 2);
    assert_string_equal(s.waves[1].key, "2");
    assert_int_equal(s.waves[1].jobs, 2);
    assert_int_equal(s.waves[1].tasks, 2);
    assert_int_equal(s.nreasons, 2);
    assert_string_equal(s.reasons[0]->text, "timeout");
    assert_int_equal(s.reasons[0]->count, 2);
    assert_string_equal(s.reasons[1]->text, "bad version");
    orch_taskagg_summary_cleanup(&s);

    /* Once every job is queried and nothing is pending: decided. */
    r.jobs[2].query_failed = false;
    assert_int_equal(orch_taskagg_summarize(&r, &agg, &s), 0);
    assert_true(s.decided);
    orch_taskagg_summary_cleanup(&s);
    r.jobs[2].counts[ORCH_TASK_NOTIFIED] = 1;
    assert_int_equal(orch_taskagg_summarize(&r, &agg, &s), 0);
    assert_false(s.decided);
    assert_int_equal(s.pending, 1);
    orch_taskagg_summary_cleanup(&s);

    orch_rollout_reset_counts(&r);
    assert_int_equal(r.jobs[0].listed, 0);
    assert_int_equal(r.jobs[0].counts[ORCH_TASK_FAILED], 0);
    assert_string_equal(r.jobs[1].job_status, "");
    orch_taskagg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

static void firmware_reason_and_no_task(void **state)
{
    json_t *full = json_pack("{s:{s:i}}", "FirmwareInfo", "Type", 0);
    json_t *diff = json_pack("{s:{s:i}}", "Data", "Type", 1);
    json_t *none = json_pack("{s:{}}", "FirmwareInfo");
    struct orch_rollout_job j;

    (void)state;
    assert_int_equal(orch_taskagg_firmware_reason(full),
                     ORCH_NO_TASK_ON_VERSION);
    assert_int_equal(orch_taskagg_firmware_reason(diff),
                     ORCH_NO_TASK_NOT_ELIGIBLE);
    assert_int_equal(orch_taskagg_firmware_reason(none), ORCH_NO_TASK_UNKNOWN);
    assert_string_equal(orch_no_task_name(ORCH_NO_TASK_ON_VERSION),
                        "on_version");
    memset(&j, 0, sizeof(j));
    j.device_count = 200;
    j.total = 0; /* a job with no task at all */
    assert_int_equal(orch_taskagg_no_task(&j), 200);
    j.total = 195;
    assert_int_equal(orch_taskagg_no_task(&j), 5);
    j.total = 200;
    assert_int_equal(orch_taskagg_no_task(&j), 0);
    j.total = 0;
    j.query_failed = true; /* unknown, not "no task" */
    assert_int_equal(orch_taskagg_no_task(&j), 0);
    json_decref(full);
    json_decref(diff);
    json_decref(none);
}

/* A page of a listing filtered by TaskStatus: its tasks are folded, its
 * Total (that state's count) is read apart and never taken as the job's. */
static void filtered_page_and_its_total(void **state)
{
    const char *const st[] = {"FAILED", "FAILED"};
    const char *const ds[] = {"timeout", ""};
    struct orch_rollout r;
    struct orch_taskagg agg;
    json_t *p = page(37, st, ds, 2, 0);
    uint64_t total = 0;

    (void)state;
    load(&r, report_csv);
    orch_taskagg_init(&agg);
    assert_int_equal(orch_taskagg_page_total(p, &total), 0);
    assert_int_equal(total, 37);
    assert_int_equal(
        orch_taskagg_add_filtered_page(&agg, &r.jobs[0], p, NULL, NULL), 0);
    assert_int_equal(r.jobs[0].total, 0);
    assert_int_equal(r.jobs[0].listed, 2);
    assert_int_equal(r.jobs[0].counts[ORCH_TASK_FAILED], 2);
    assert_int_equal(agg.n, 2);
    json_object_del(p, "Total");
    assert_int_equal(orch_taskagg_page_total(p, &total), ORCH_EDECODE);
    json_decref(p);
    orch_taskagg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

/* A failed call marks its job failed with the call's error; a good one
 * gives its body and notes the earliest Date; a fold's error marks the
 * job failed once, with the first reason. */
static void unfail(struct orch_rollout_job *j)
{
    j->query_failed = false;
    j->error[0] = '\0';
}

static void answer_root_and_fold_failed(void **state)
{
    struct orch_rollout r;
    struct orch_response resp;
    struct orch_item_result res;
    json_t *body = json_object();

    (void)state;
    load(&r, report_csv);
    assert_true(r.njobs >= 2);
    memset(&resp, 0, sizeof(resp));
    memset(&res, 0, sizeof(res));
    res.status = ORCH_ITEM_FAILED;
    res.error_code = "Throttling";
    res.error_message = "slow down";
    assert_null(orch_taskagg_answer_root(&r.jobs[0], &res));
    assert_true(r.jobs[0].query_failed);
    assert_string_equal(r.jobs[0].error, "Throttling: slow down");

    unfail(&r.jobs[0]);
    res.status = ORCH_ITEM_CREATED;
    res.error_code = res.error_message = NULL;
    res.resp = &resp;
    assert_null(orch_taskagg_answer_root(&r.jobs[0], &res)); /* no body */
    assert_true(r.jobs[0].query_failed);
    assert_string_equal(r.jobs[0].error, "failed: ");

    resp.root = body;
    resp.date_ms = 2000;
    assert_ptr_equal(orch_taskagg_answer_root(&r.jobs[1], &res), body);
    assert_false(r.jobs[1].query_failed);
    assert_int_equal(r.jobs[1].read_date_ms, 2000);
    resp.date_ms = 1000;
    assert_ptr_equal(orch_taskagg_answer_root(&r.jobs[1], &res), body);
    resp.date_ms = 3000;
    assert_ptr_equal(orch_taskagg_answer_root(&r.jobs[1], &res), body);
    assert_int_equal(r.jobs[1].read_date_ms, 1000);

    orch_taskagg_fold_failed(&r.jobs[1], 0, "bad");
    assert_false(r.jobs[1].query_failed);
    orch_taskagg_fold_failed(&r.jobs[1], ORCH_EDECODE, "BadResponse: x");
    assert_true(r.jobs[1].query_failed);
    assert_string_equal(r.jobs[1].error, "BadResponse: x");
    orch_taskagg_fold_failed(&r.jobs[1], ORCH_ENOMEM, "bad");
    assert_string_equal(r.jobs[1].error, "BadResponse: x"); /* the first */
    unfail(&r.jobs[1]);
    orch_taskagg_fold_failed(&r.jobs[1], ORCH_ENOMEM, "bad");
    assert_string_equal(r.jobs[1].error, "out of memory");
    json_decref(body);
    orch_rollout_cleanup(&r);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(add_page_counts_and_reasons),
    cmocka_unit_test(filtered_page_and_its_total),
    cmocka_unit_test(add_page_rejects_answer_without_list),
    cmocka_unit_test(derive_job_states),
    cmocka_unit_test(summary_groups_and_reasons),
    cmocka_unit_test(firmware_reason_and_no_task),
    cmocka_unit_test(answer_root_and_fold_failed))
