/* test_jobstate.c - the pure decisions of jobstate.h: further list pages
 * or one QueryOTAJob per job, and whether a first refresh learns the
 * states of the jobs its sample did not read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/rollout/jobstate.h"
#include "orch/rollout/rollout.h"

#include <string.h>
#include "torture.h"

static void further_pages_when_no_dearer_than_queries(void **state)
{
    (void)state;
    assert_false(orch_jobstate_pages_cheaper(0, 5));
    assert_true(orch_jobstate_pages_cheaper(1, 0)); /* nothing more */
    assert_true(orch_jobstate_pages_cheaper(3, 2)); /* 2 pages, 2 jobs */
    assert_false(orch_jobstate_pages_cheaper(3, 1)); /* 1 QueryOTAJob */
}

/* 1,000,000 devices in 5,000 jobs: a sample of 20 in which every job
 * had a failed task saves nothing (the 25 pages would be pure cost); one
 * clean job in 20 promises ~249 saved calls for 25 pages. */
static void states_learnt_when_the_sample_promises_more_than_pages(
    void **state)
{
    (void)state;
    assert_false(orch_jobstate_worth_learning(20, 0, 4980));
    assert_true(orch_jobstate_worth_learning(20, 1, 4980));
    assert_true(orch_jobstate_worth_learning(20, 20, 4980));
    /* 30 jobs left: one page; a sample saving 1 call in 20 promises 1.5
     * for the page's 1. */
    assert_true(orch_jobstate_worth_learning(20, 1, 30));
    /* 10 jobs left: 0.5 promised for 1 page. */
    assert_false(orch_jobstate_worth_learning(20, 1, 10));
    assert_false(orch_jobstate_worth_learning(0, 0, 100));
    assert_false(orch_jobstate_worth_learning(20, 5, 0));
}

/* What a sample read without states would have saved with them. */
static void sample_savings_counts_clean_and_untold_jobs(void **state)
{
    struct orch_rollout_job jobs[4];

    (void)state;
    memset(jobs, 0, sizeof(jobs));
    /* 0: 200 devices, all succeeded: one Total instead of 2 pages. */
    jobs[0].device_count = 200;
    jobs[0].listed = 200;
    jobs[0].counts[ORCH_TASK_SUCCEEDED] = 200;
    /* 1: 200 devices, some failed: 2 pages either way; state told. */
    jobs[1].device_count = 200;
    jobs[1].listed = 200;
    jobs[1].counts[ORCH_TASK_SUCCEEDED] = 190;
    jobs[1].counts[ORCH_TASK_FAILED] = 10;
    /* 2: every task queued: its tasks do not tell its state. */
    jobs[2].device_count = 50;
    jobs[2].listed = 50;
    jobs[2].counts[ORCH_TASK_QUEUED] = 50;
    /* 3: could not be queried: nothing. */
    jobs[3].query_failed = true;
    assert_int_equal(orch_jobstate_sample_savings(jobs, 4, true), 2);
    assert_int_equal(orch_jobstate_sample_savings(jobs, 4, false), 1);
    assert_int_equal(orch_jobstate_sample_savings(jobs, 2, true), 1);
}

TORTURE_MAIN(NULL, NULL,
             cmocka_unit_test(further_pages_when_no_dearer_than_queries),
             cmocka_unit_test(
                 states_learnt_when_the_sample_promises_more_than_pages),
             cmocka_unit_test(sample_savings_counts_clean_and_untold_jobs))
