/* test_countplan.c - the plan that counts one job's tasks: which plan a
 * job gets, and the questions, step by step, for the answers a job of 200
 * devices can give. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/rollout/countplan.h"

#include <stdio.h>
#include <string.h>

#define ASK ORCH_COUNTPLAN_ASK
#define ALL ORCH_COUNTPLAN_ASK_ALL
#define PENDING                                                                \
    (ASK(ORCH_TASK_QUEUED) | ASK(ORCH_TASK_NOTIFIED) |                         \
     ASK(ORCH_TASK_IN_PROGRESS) | ASK(ORCH_TASK_CONFIRM))

static struct orch_rollout_job job(unsigned devices, const char *state)
{
    struct orch_rollout_job j;

    memset(&j, 0, sizeof(j));
    j.device_count = devices;
    snprintf(j.seen_status, sizeof(j.seen_status), "%s", state);
    return j;
}

static void choose_by_state_and_size(void **state)
{
    struct orch_rollout_job j;

    (void)state;
    j = job(200, "COMPLETED");
    assert_int_equal(orch_countplan_choose(&j, ORCH_COUNTPLAN_AUTO),
                     ORCH_COUNTPLAN_ENDED);
    j = job(200, "CANCELED");
    assert_int_equal(orch_countplan_choose(&j, ORCH_COUNTPLAN_AUTO),
                     ORCH_COUNTPLAN_ENDED);
    /* One page tells everything in one call: nothing is cheaper. */
    j = job(100, "COMPLETED");
    assert_int_equal(orch_countplan_choose(&j, ORCH_COUNTPLAN_AUTO),
                     ORCH_COUNTPLAN_FULL);
    /* Size unknown (ALL/GRAY): listed. */
    j = job(0, "COMPLETED");
    assert_int_equal(orch_countplan_choose(&j, ORCH_COUNTPLAN_FORCE_TOTALS),
                     ORCH_COUNTPLAN_FULL);
    /* Running: 8 calls of Totals against ceil(D / 100) pages. */
    j = job(200, "IN_PROGRESS");
    assert_int_equal(orch_countplan_choose(&j, ORCH_COUNTPLAN_AUTO),
                     ORCH_COUNTPLAN_FULL);
    j = job(800, "IN_PROGRESS");
    assert_int_equal(orch_countplan_choose(&j, ORCH_COUNTPLAN_AUTO),
                     ORCH_COUNTPLAN_FULL);
    j = job(801, "IN_PROGRESS");
    assert_int_equal(orch_countplan_choose(&j, ORCH_COUNTPLAN_AUTO),
                     ORCH_COUNTPLAN_STATES);
    j = job(200, "IN_PROGRESS");
    assert_int_equal(orch_countplan_choose(&j, ORCH_COUNTPLAN_FORCE_TOTALS),
                     ORCH_COUNTPLAN_STATES);
    j = job(200, "COMPLETED");
    assert_int_equal(orch_countplan_choose(&j, ORCH_COUNTPLAN_FORCE_FULL),
                     ORCH_COUNTPLAN_FULL);
}

/* Every task succeeded: one call. */
static void all_succeeded_is_one_call(void **state)
{
    struct orch_rollout_job j = job(200, "COMPLETED");
    struct orch_countplan p;

    (void)state;
    orch_countplan_start(&p, &j, ORCH_COUNTPLAN_ENDED);
    assert_int_equal(p.asks, ASK(ORCH_TASK_SUCCEEDED));
    orch_countplan_learn(&p, ASK(ORCH_TASK_SUCCEEDED), 200);
    orch_countplan_next(&p, &j);
    assert_true(p.done);
    assert_int_equal(p.asks, 0);
    orch_countplan_finish(&p, &j);
    assert_int_equal(j.counts[ORCH_TASK_SUCCEEDED], 200);
    assert_int_equal(j.total, 200);
    assert_int_equal(j.listed, 200);
    assert_int_equal(j.pages, 2);
}

/* 190 succeeded, 10 failed: the FAILED listing (reasons), 2 calls. */
static void failures_are_listed_for_their_reasons(void **state)
{
    struct orch_rollout_job j = job(200, "COMPLETED");
    struct orch_countplan p;

    (void)state;
    orch_countplan_start(&p, &j, ORCH_COUNTPLAN_ENDED);
    orch_countplan_learn(&p, ASK(ORCH_TASK_SUCCEEDED), 190);
    orch_countplan_next(&p, &j);
    assert_int_equal(p.mode, ORCH_COUNTPLAN_ENDED);
    assert_int_equal(p.asks, ASK(ORCH_TASK_FAILED));
    orch_countplan_learn(&p, ASK(ORCH_TASK_FAILED), 10);
    j.counts[ORCH_TASK_FAILED] = 10; /* the listing folded its tasks */
    assert_int_equal(p.failed_next, 0);
    orch_countplan_next(&p, &j);
    assert_true(p.done);
    orch_countplan_finish(&p, &j);
    assert_int_equal(j.counts[ORCH_TASK_SUCCEEDED], 190);
    assert_int_equal(j.counts[ORCH_TASK_FAILED], 10);
    assert_int_equal(j.total, 200);
}

/* 150 succeeded, 20 already on the version (no task), 30 failed: the
 * unfiltered Total tells 180 tasks; then CANCELED: none; the rest is in
 * no state the tool knows. */
static void no_task_devices_need_the_total(void **state)
{
    struct orch_rollout_job j = job(200, "COMPLETED");
    struct orch_countplan p;

    (void)state;
    orch_countplan_start(&p, &j, ORCH_COUNTPLAN_ENDED);
    orch_countplan_learn(&p, ASK(ORCH_TASK_SUCCEEDED), 150);
    orch_countplan_next(&p, &j);
    orch_countplan_learn(&p, ASK(ORCH_TASK_FAILED), 30);
    j.counts[ORCH_TASK_FAILED] = 30;
    orch_countplan_next(&p, &j);
    assert_int_equal(p.asks, ALL);
    orch_countplan_learn(&p, ALL, 180);
    orch_countplan_next(&p, &j);
    assert_true(p.done);
    orch_countplan_finish(&p, &j);
    assert_int_equal(j.total, 180); /* 20 devices without a task */
    assert_int_equal(j.counts[ORCH_TASK_OTHER], 0);
}

/* The whole question order of a COMPLETED job, to the pending Totals. */
static void the_rest_is_asked_state_by_state(void **state)
{
    struct orch_rollout_job j = job(200, "COMPLETED");
    struct orch_countplan p;

    (void)state;
    orch_countplan_start(&p, &j, ORCH_COUNTPLAN_ENDED);
    orch_countplan_learn(&p, ASK(ORCH_TASK_SUCCEEDED), 180);
    orch_countplan_next(&p, &j);
    orch_countplan_learn(&p, ASK(ORCH_TASK_FAILED), 5);
    j.counts[ORCH_TASK_FAILED] = 5;
    orch_countplan_next(&p, &j);
    orch_countplan_learn(&p, ALL, 200);
    orch_countplan_next(&p, &j);
    assert_int_equal(p.asks, ASK(ORCH_TASK_CANCELED));
    orch_countplan_learn(&p, ASK(ORCH_TASK_CANCELED), 10);
    orch_countplan_next(&p, &j);
    assert_int_equal(p.asks, PENDING);
    orch_countplan_learn(&p, ASK(ORCH_TASK_QUEUED), 1);
    orch_countplan_learn(&p, ASK(ORCH_TASK_NOTIFIED), 0);
    orch_countplan_learn(&p, ASK(ORCH_TASK_IN_PROGRESS), 0);
    orch_countplan_learn(&p, ASK(ORCH_TASK_CONFIRM), 0);
    orch_countplan_next(&p, &j);
    assert_true(p.done);
    orch_countplan_finish(&p, &j);
    assert_int_equal(j.counts[ORCH_TASK_CANCELED], 10);
    assert_int_equal(j.counts[ORCH_TASK_QUEUED], 1);
    assert_int_equal(j.counts[ORCH_TASK_OTHER], 4);
    assert_int_equal(j.listed, 200);
    assert_int_equal(j.total, 200);
}

/* Most tasks failed: listing them costs as many pages as the full
 * listing, so the job is listed in full (after the one probe). */
static void mostly_failed_falls_back_to_the_full_listing(void **state)
{
    struct orch_rollout_job j = job(200, "COMPLETED");
    struct orch_countplan p;

    (void)state;
    orch_countplan_start(&p, &j, ORCH_COUNTPLAN_ENDED);
    orch_countplan_learn(&p, ASK(ORCH_TASK_SUCCEEDED), 50);
    orch_countplan_next(&p, &j);
    assert_int_equal(p.mode, ORCH_COUNTPLAN_FULL);
    assert_int_equal(p.asks, 0);
    assert_int_equal(j.counts[ORCH_TASK_SUCCEEDED], 0); /* left as it was */
}

/* A cancelled job: CANCELED first, then the FAILED listing. */
static void canceled_job_asks_canceled_first(void **state)
{
    struct orch_rollout_job j = job(200, "CANCELED");
    struct orch_countplan p;

    (void)state;
    orch_countplan_start(&p, &j, ORCH_COUNTPLAN_ENDED);
    orch_countplan_learn(&p, ASK(ORCH_TASK_SUCCEEDED), 20);
    orch_countplan_next(&p, &j);
    assert_int_equal(p.asks, ASK(ORCH_TASK_CANCELED));
    orch_countplan_learn(&p, ASK(ORCH_TASK_CANCELED), 180);
    orch_countplan_next(&p, &j);
    assert_true(p.done);
    orch_countplan_finish(&p, &j);
    assert_int_equal(j.counts[ORCH_TASK_CANCELED], 180);
    assert_int_equal(j.total, 200);
}

/* A running job of 5,000 devices: every Total at once, then the FAILED
 * pages its Total announces. */
static void a_big_running_job_asks_every_total_at_once(void **state)
{
    struct orch_rollout_job j = job(5000, "IN_PROGRESS");
    struct orch_countplan p;

    (void)state;
    orch_countplan_start(&p, &j, ORCH_COUNTPLAN_STATES);
    assert_int_equal(p.asks, PENDING | ASK(ORCH_TASK_SUCCEEDED) |
                                 ASK(ORCH_TASK_CANCELED) |
                                 ASK(ORCH_TASK_FAILED) | ALL);
    orch_countplan_learn(&p, ALL, 5000);
    orch_countplan_learn(&p, ASK(ORCH_TASK_SUCCEEDED), 4000);
    orch_countplan_learn(&p, ASK(ORCH_TASK_IN_PROGRESS), 750);
    orch_countplan_learn(&p, ASK(ORCH_TASK_FAILED), 250);
    assert_int_equal(p.failed_pages, 3);
    assert_int_equal(p.failed_next, 2);
    orch_countplan_next(&p, &j);
    assert_false(p.done); /* pages 2 and 3 of the FAILED tasks to come */
    assert_int_equal(p.asks, 0);
    p.failed_next = 0; /* the caller asked them */
    orch_countplan_next(&p, &j);
    assert_true(p.done);
    j.counts[ORCH_TASK_FAILED] = 250;
    orch_countplan_finish(&p, &j);
    assert_int_equal(j.counts[ORCH_TASK_IN_PROGRESS], 750);
    assert_int_equal(j.total, 5000);
}

static void full_calls(void **state)
{
    (void)state;
    assert_int_equal(orch_countplan_full_calls(0), 1);
    assert_int_equal(orch_countplan_full_calls(100), 1);
    assert_int_equal(orch_countplan_full_calls(101), 2);
    assert_int_equal(orch_countplan_full_calls(200), 2);
    assert_int_equal(orch_countplan_full_calls(10000000), 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(choose_by_state_and_size),
        cmocka_unit_test(all_succeeded_is_one_call),
        cmocka_unit_test(failures_are_listed_for_their_reasons),
        cmocka_unit_test(no_task_devices_need_the_total),
        cmocka_unit_test(the_rest_is_asked_state_by_state),
        cmocka_unit_test(mostly_failed_falls_back_to_the_full_listing),
        cmocka_unit_test(canceled_job_asks_canceled_first),
        cmocka_unit_test(a_big_running_job_asks_every_total_at_once),
        cmocka_unit_test(full_calls),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
