/* test_gate.c - the health gate between waves: its clock and its
 * decisions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/rollout/gate.h"
#include "torture.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MIN_MS (60 * 1000LL)
#define HOUR_MS (60 * MIN_MS)

/* --wave-timeout counts from the wave's ScheduleTime, not from creation. */
static void gate_timeout_counts_from_schedule(void **state)
{
    struct orch_gate g = {1.0, 0, 10, 2000};
    struct orch_gate_counts c;
    int64_t wall0 = 1800000000000LL;
    int64_t sched = wall0 + 6 * MIN_MS;
    int64_t e = 0;

    (void)state;
    memset(&c, 0, sizeof(c));
    c.expected = 200;
    c.tasks = 200;
    c.pending = 200;
    /* Watched 2 s, 1 h, 5:59 before a start 6 minutes away: negative
     * (before the start), never a timeout. */
    e = orch_gate_elapsed(2000, wall0, sched);
    assert_int_equal(e, 2000 - 6 * MIN_MS);
    assert_int_equal(orch_gate_decide(&g, &c, e, NULL, 0), ORCH_GATE_WAIT);
    e = orch_gate_elapsed(6 * MIN_MS - 1000, wall0, sched);
    assert_int_equal(e, -1000);
    assert_int_equal(orch_gate_decide(&g, &c, e, NULL, 0), ORCH_GATE_WAIT);
    /* From the start on it is the time since the start. */
    assert_int_equal(orch_gate_elapsed(6 * MIN_MS, wall0, sched), 0);
    e = orch_gate_elapsed(6 * MIN_MS + 1999, wall0, sched);
    assert_int_equal(orch_gate_decide(&g, &c, e, NULL, 0), ORCH_GATE_WAIT);
    e = orch_gate_elapsed(6 * MIN_MS + 2000, wall0, sched);
    assert_int_equal(e, 2000);
    assert_int_equal(orch_gate_decide(&g, &c, e, NULL, 0), ORCH_GATE_TIMEOUT);
    /* The canary at 03:00 watched from 01:00 (2 h before) with a 1 h
     * timeout: no timeout at 02:00 nor 03:59, one at 04:00. */
    g.timeout_ms = HOUR_MS;
    sched = wall0 + 2 * HOUR_MS;
    e = orch_gate_elapsed(HOUR_MS, wall0, sched);
    assert_int_equal(orch_gate_decide(&g, &c, e, NULL, 0), ORCH_GATE_WAIT);
    e = orch_gate_elapsed(3 * HOUR_MS - 1000, wall0, sched);
    assert_int_equal(orch_gate_decide(&g, &c, e, NULL, 0), ORCH_GATE_WAIT);
    e = orch_gate_elapsed(3 * HOUR_MS, wall0, sched);
    assert_int_equal(orch_gate_decide(&g, &c, e, NULL, 0), ORCH_GATE_TIMEOUT);
    /* No ScheduleTime, or one already past when the watch started (a
     * resumed watch): the timeout counts from the start of the watch. */
    assert_int_equal(orch_gate_elapsed(1234, wall0, -1), 1234);
    assert_int_equal(orch_gate_elapsed(1234, wall0, wall0 - HOUR_MS), 1234);
    assert_int_equal(orch_gate_elapsed(1234, wall0, wall0), 1234);
}

/* --schedule-time with gated waves is accepted (wave 1's start); with
 * --wave-interval it stays the scheduled waves' base. */
static enum orch_gate_decision decide(const struct orch_gate *g,
                                      uint64_t expected, uint64_t ok,
                                      uint64_t failed, uint64_t canceled,
                                      int64_t elapsed)
{
    struct orch_gate_counts c = {
        .expected = expected,
        .tasks = expected,
        .succeeded = ok,
        .failed = failed,
        .canceled = canceled,
        .pending = expected - ok - failed - canceled,
    };
    char why[256];

    return orch_gate_decide(g, &c, elapsed, why, sizeof(why));
}

static void gate_decisions(void **state)
{
    /* The gate (success, failure, min decided, timeout), the counts
     * (expected, succeeded, failed, canceled), the time elapsed and the
     * decision. */
    static const struct {
        struct orch_gate g;
        uint64_t expected, ok, failed, canceled;
        int64_t elapsed;
        enum orch_gate_decision want;
    } rows[] = {
        /* Nothing decided yet. */
        {{0.95, 0.20, 20, 60000}, 200, 0, 0, 0, 0, ORCH_GATE_WAIT},
        /* 190 of 200 = 95%: pass (exactly at the threshold). */
        {{0.95, 0.20, 20, 60000}, 200, 190, 0, 0, 0, ORCH_GATE_PASS},
        {{0.95, 0.20, 20, 60000}, 200, 189, 0, 0, 0, ORCH_GATE_WAIT},
        /* 4 of 19 ended failed (21%) but fewer than 20 ended: no verdict. */
        {{0.95, 0.20, 20, 60000}, 200, 15, 4, 0, 0, ORCH_GATE_WAIT},
        /* 4 of 20 = 20%: fail. */
        {{0.95, 0.20, 20, 60000}, 200, 16, 4, 0, 0, ORCH_GATE_FAIL},
        /* 3 of 20 = 15%: go on. */
        {{0.95, 0.20, 20, 60000}, 200, 17, 3, 0, 0, ORCH_GATE_WAIT},
        /* 11 failed: 95% can no longer be reached -> fail at once. */
        {{0.95, 0, 20, 60000}, 200, 100, 11, 0, 0, ORCH_GATE_FAIL},
        {{0.95, 0, 20, 60000}, 200, 100, 10, 0, 0, ORCH_GATE_WAIT},
        /* Cancelled tasks do not succeed either. */
        {{0.95, 0, 20, 60000}, 200, 100, 0, 11, 0, ORCH_GATE_FAIL},
        /* Timeout. */
        {{0.95, 0, 20, 60000}, 200, 100, 0, 0, 59999, ORCH_GATE_WAIT},
        {{0.95, 0, 20, 60000}, 200, 100, 0, 0, 60000, ORCH_GATE_TIMEOUT},
        /* A decision wins over the timeout. */
        {{0.95, 0, 20, 60000}, 200, 200, 0, 0, 600000, ORCH_GATE_PASS},
        /* min-decided larger than the wave: the whole wave is enough. */
        {{0.1, 0.5, 1000, 60000}, 10, 1, 9, 0, 0, ORCH_GATE_FAIL},
    };
    struct orch_gate g = {0.95, 0.20, 20, 60000};
    struct orch_gate_counts c;
    char why[256];

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        assert_int_equal(decide(&rows[i].g, rows[i].expected, rows[i].ok,
                                rows[i].failed, rows[i].canceled,
                                rows[i].elapsed),
                         rows[i].want);
    /* Tasks not listed yet count as pending, not as absent. */
    memset(&c, 0, sizeof(c));
    c.expected = 200;
    c.tasks = 100;
    c.succeeded = 100;
    assert_int_equal(orch_gate_decide(&g, &c, 0, why, sizeof(why)),
                     ORCH_GATE_WAIT);
    assert_non_null(strstr(why, "100 of 200"));
    /* Nothing to watch passes. */
    memset(&c, 0, sizeof(c));
    assert_int_equal(orch_gate_decide(&g, &c, 0, NULL, 0), ORCH_GATE_PASS);
    /* Messages say why. */
    assert_int_equal(decide(&g, 200, 16, 4, 0, 0), ORCH_GATE_FAIL);
    c.expected = c.tasks = 200;
    c.succeeded = 16;
    c.failed = 4;
    orch_gate_decide(&g, &c, 0, why, sizeof(why));
    assert_non_null(strstr(why, "4 of 20 ended tasks FAILED"));
    assert_string_equal(orch_gate_decision_name(ORCH_GATE_TIMEOUT), "timeout");
}

/* The whole sentence of a threshold reached, failure and success. */
static void gate_threshold_sentences(void **state)
{
    struct orch_gate g;
    struct orch_gate_counts c;
    char why[256];

    (void)state;
    memset(&g, 0, sizeof(g));
    memset(&c, 0, sizeof(c));
    g.success = 0.95;
    g.failure = 0.2;
    g.min_decided = 10;
    g.timeout_ms = 3600000;
    c.expected = c.tasks = 200;
    c.succeeded = 16;
    c.failed = 4;
    assert_int_equal(orch_gate_decide(&g, &c, 0, why, sizeof(why)),
                     ORCH_GATE_FAIL);
    assert_string_equal(
        why, "4 of 20 ended tasks FAILED (20.0%, failure threshold 20%)");
    c.succeeded = 190;
    c.failed = 0;
    assert_int_equal(orch_gate_decide(&g, &c, 0, why, sizeof(why)),
                     ORCH_GATE_PASS);
    assert_string_equal(
        why, "190 of 200 tasks SUCCEEDED (95.0%, success threshold 95%)");
}

/* One job of a wave as the gate's poll fills it: device_count devices,
 * `listed` tasks of which `ok` SUCCEEDED and the rest QUEUED, and the
 * state QueryOTAJob gave ("" when not asked). */
static struct orch_rollout_job job_of(unsigned devices, uint64_t listed,
                                      uint64_t ok, const char *state)
{
    struct orch_rollout_job j;

    memset(&j, 0, sizeof(j));
    j.device_count = devices;
    j.listed = j.total = listed;
    j.counts[ORCH_TASK_SUCCEEDED] = ok;
    j.counts[ORCH_TASK_QUEUED] = listed - ok;
    snprintf(j.job_status, sizeof(j.job_status), "%s", state);
    return j;
}

/* A job the API finished with no task (every device already on the
 * target version) is decided, never pending: the gate passes and says
 * why; while the API has not said so, its devices stay pending. */
static void gate_job_without_tasks_is_decided(void **state)
{
    struct orch_gate g = {0.95, 0, 10, 3600 * 1000};
    struct orch_gate_counts c;
    struct orch_rollout_job j = job_of(200, 0, 0, "COMPLETED");
    char why[512];

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_true(orch_gate_job_over(&j));
    orch_gate_add_job(&c, &j);
    c.expected = 200;
    assert_int_equal(c.no_task, 200);
    assert_int_equal(orch_gate_decide(&g, &c, 0, why, sizeof(why)),
                     ORCH_GATE_PASS);
    assert_non_null(strstr(why, "no task to judge"));
    assert_non_null(strstr(why, "200 devices"));
    assert_non_null(strstr(why, "already on the target version"));
    /* Not asked yet, or still PLANNED / IN_PROGRESS: pending. */
    j = job_of(200, 0, 0, "");
    memset(&c, 0, sizeof(c));
    assert_false(orch_gate_job_over(&j));
    orch_gate_add_job(&c, &j);
    c.expected = 200;
    assert_int_equal(orch_gate_decide(&g, &c, 0, why, sizeof(why)),
                     ORCH_GATE_WAIT);
    assert_non_null(strstr(why, "200 pending"));
    j = job_of(200, 0, 0, "PLANNED");
    assert_false(orch_gate_job_over(&j));
    /* A CANCELED job is over too; a job whose query failed is not. */
    j = job_of(200, 0, 0, "CANCELED");
    assert_true(orch_gate_job_over(&j));
    j.query_failed = true;
    assert_false(orch_gate_job_over(&j));
}

/* Devices the API will never upgrade (150 of 200 already on the version,
 * 50 tasks): once every task ended, the 50 tasks are judged and the 150
 * are named as decided; before that, the job is not over. */
static void gate_devices_without_task_are_not_pending(void **state)
{
    struct orch_gate g = {0.95, 0, 10, 3600 * 1000};
    struct orch_gate_counts c;
    struct orch_rollout_job j = job_of(200, 50, 50, "");
    struct orch_rollout_job k = job_of(200, 50, 48, "");
    char why[512];

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_true(orch_gate_job_over(&j));
    orch_gate_add_job(&c, &j);
    c.expected = 200;
    assert_int_equal(c.no_task, 150);
    assert_int_equal(orch_gate_decide(&g, &c, 0, why, sizeof(why)),
                     ORCH_GATE_PASS);
    assert_non_null(strstr(why, "50 of 50 tasks SUCCEEDED"));
    assert_non_null(strstr(why, "150 devices without a task"));
    /* Two tasks still QUEUED: the job is not over, nothing is decided
     * about its devices without a task yet. */
    memset(&c, 0, sizeof(c));
    assert_false(orch_gate_job_over(&k));
    orch_gate_add_job(&c, &k);
    c.expected = 200;
    assert_int_equal(c.no_task, 0);
    assert_int_equal(orch_gate_decide(&g, &c, 0, why, sizeof(why)),
                     ORCH_GATE_WAIT);
    /* A failure names them the same way. */
    memset(&c, 0, sizeof(c));
    j.counts[ORCH_TASK_SUCCEEDED] = 40;
    j.counts[ORCH_TASK_FAILED] = 10;
    orch_gate_add_job(&c, &j);
    c.expected = 200;
    assert_int_equal(orch_gate_decide(&g, &c, 0, why, sizeof(why)),
                     ORCH_GATE_FAIL);
    assert_non_null(strstr(why, "150 devices without a task"));
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(gate_timeout_counts_from_schedule),
    cmocka_unit_test(gate_decisions),
    cmocka_unit_test(gate_threshold_sentences),
    cmocka_unit_test(gate_job_without_tasks_is_decided),
    cmocka_unit_test(gate_devices_without_task_are_not_pending))
