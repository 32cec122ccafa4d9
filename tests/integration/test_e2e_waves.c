/* test_e2e_waves.c - waves and gates end to end against ota-emulator:
 * a canary that passes and a rollout that completes; a canary
 * whose failures trip the gate (nothing beyond it created, its tasks that
 * had not started cancelled, exit 5); a pause on wave timeout (exit 6)
 * then a resume that completes; resume --force after a gate abort (the
 * override journaled, the next wave created); run --wait without waves
 * (exit 0 when every task SUCCEEDED, 1 when some FAILED); scheduled waves
 * with the right ScheduleTime, and the 7-day horizon (exit 6, journaled;
 * a resume before the wave is creatable creates nothing); a gated canary
 * at --schedule-time (its jobs carry it, its wave timeout does not run
 * before it; stopped by SIGINT, exit 4, paused), and run --wait at
 * --schedule-time (no polls before it). Creating the deferred
 * wave days later, by a resume under libfaketime against an emulator
 * whose clock agrees, is test_e2e_waves_deferred.c; the decision itself
 * is unit-tested (test_waves: orch_waves_when). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"
#define NDEV 1000 /* 5 chunks of 200 */
#define HOUR_MS ((int64_t)3600 * 1000)
#define DAY_MS (24 * HOUR_MS)

/* The argv (E2E_MAX_ARGS) of the fleet's `run` (e2e_fleet_argv) polling
 * every second, with `extra` (NULL-terminated, may be NULL). */
static const char *const *waves_argv(const struct e2e_fleet *c,
                                     const char *const *extra,
                                     const char **argv)
{
    const char *with[E2E_MAX_ARGS] = {"--poll-interval", "1s"};
    size_t n = 2, i = 0;

    for (i = 0; extra && extra[i] && n + 1 < E2E_MAX_ARGS; i++)
        with[n++] = extra[i];
    return e2e_fleet_argv(argv, c, FW, with);
}

/* Runs `run INVENTORY` with the common options and `extra`; fails unless
 * it exits want_exit. */
static void run_waves(struct e2e_fleet *c, struct h_run *r,
                      const char *const *extra, int want_exit)
{
    const char *argv[E2E_MAX_ARGS];

    e2e_run_expect(r, waves_argv(c, extra, argv), NULL, 0, 120, want_exit);
}

/* The journal's one "paused" wave record (new reference), after checking
 * that there is exactly one and that it gives `reason`. */
static json_t *the_pause(const struct e2e_fleet *c, const char *reason)
{
    json_t *paused = e2e_wave_records(c->report, "paused");
    json_t *p = json_array_get(paused, 0);

    assert_int_equal(json_array_size(paused), 1);
    assert_string_equal(torture_json_str(p, NULL, "reason"), reason);
    json_incref(p);
    json_decref(paused);
    return p;
}

static void canary_passes_and_rollout_completes(void **state)
{
    struct e2e_fleet c;
    struct h_run r, s;
    const char *emu[] = {"--auto-create", "--sim-speed", "20", NULL};
    const char *extra[] = {"--waves", "20%,60%,all", "--success-threshold",
                           "95%", "--wait", NULL};
    char waves[600];
    json_t *gates = NULL, *g = NULL;
    size_t i = 0;

    (void)state;
    e2e_fleet_start(&c, NDEV, PK, emu);
    run_waves(&c, &r, extra, 0);
    assert_non_null(strstr(r.err, "wave 1 (canary): chunks 1-1, 200 devices"));
    assert_non_null(strstr(r.err, "wave 3: chunks 4-5"));
    assert_int_equal(e2e_job_count(&c.emu), 5);
    /* Three gates, each passed, in order. */
    gates = e2e_wave_records(c.report, "gate");
    assert_int_equal(json_array_size(gates), 3);
    json_array_foreach(gates, i, g) {
        assert_string_equal(torture_json_str(g, NULL, "decision"), "pass");
        assert_int_equal(torture_json_num(g, NULL, "wave"), (json_int_t)i + 1);
    }
    /* status shows the waves from <report>.waves.csv. */
    snprintf(waves, sizeof(waves), "%s.waves.csv", c.report);
    assert_int_equal(access(waves, R_OK), 0);
    const char *st[] = {"status", c.report, "--endpoint", c.emu.endpoint,
                        NULL};
    e2e_run_expect(&s, st, NULL, 0, 60, 0);
    assert_non_null(strstr(s.out, "per wave:"));
    assert_non_null(strstr(s.out, "1 job, 200 tasks: 200 succeeded"));
    assert_non_null(strstr(s.out, "2 jobs, 400 tasks: 400 succeeded"));
    h_run_free(&s);
    json_decref(gates);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

static void canary_failures_trip_the_gate(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {"--auto-create",   "--sim-speed", "4",
                         "--success-ratio", "0.3",         NULL};
    const char *extra[] = {"--waves",        "200,all",
                           "--failure-threshold", "20%",
                           "--min-decided",  "20",
                           NULL};
    json_t *jobs = NULL, *aborted = NULL;

    (void)state;
    e2e_fleet_start(&c, NDEV, PK, emu);
    run_waves(&c, &r, extra, 5);
    assert_non_null(strstr(r.err, "health gate failed"));
    assert_non_null(strstr(r.err, "later waves were not created"));
    /* Nothing beyond the canary was created. */
    assert_int_equal(e2e_job_count(&c.emu), 1);
    /* The canary's job got a cancel for what had not started. */
    assert_int_equal(e2e_log_count(&c.emu, "CancelOTATaskByJob", 0), 1);
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    {
        json_t *tasks = json_object_get(json_array_get(jobs, 0), "Tasks");
        const char *k = NULL;
        json_t *v = NULL;

        json_object_foreach(tasks, k, v) {
            assert_string_not_equal(json_string_value(v), "QUEUED");
            assert_string_not_equal(json_string_value(v), "NOTIFIED");
        }
    }
    json_decref(jobs);
    aborted = e2e_wave_records(c.report, "aborted");
    assert_int_equal(json_array_size(aborted), 1);
    json_decref(aborted);
    /* A plain resume refuses: the gate failed. */
    h_run_free(&r);
    const char *res[] = {"resume", c.report, "--yes", NULL};
    h_run(&r, res, NULL, 0, 60);
    e2e_expect_exit(&r, "resume", 5);
    assert_non_null(strstr(r.err, "--force"));
    assert_int_equal(e2e_job_count(&c.emu), 1);

    /* resume --force overrides the failed gate (journaled) and goes on:
     * wave 2 (chunks 2-5, the last one, not watched) is created. */
    h_run_free(&r);
    const char *force[] = {"resume", c.report, "--yes", "--force", NULL};
    h_run(&r, force, NULL, 0, 60);
    e2e_expect_exit(&r, "resume --force", 0);
    assert_non_null(strstr(r.err, "overriding wave 1's failed health gate"));
    assert_non_null(strstr(r.err, "wave 2/2: creating chunks 2-5"));
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 5);
    e2e_assert_each_device_once(jobs, NDEV);
    json_decref(jobs);
    {
        json_t *over = e2e_wave_records(c.report, "override");
        json_t *starts = e2e_wave_records(c.report, "start");
        json_t *st2 = json_array_get(starts, 1);

        assert_int_equal(json_array_size(over), 1);
        assert_int_equal(
            torture_json_num(json_array_get(over, 0), NULL, "wave"), 1);
        /* Wave 1's start, then wave 2's, after the override. */
        assert_int_equal(json_array_size(starts), 2);
        assert_int_equal(torture_json_num(st2, NULL, "wave"), 2);
        assert_true(json_integer_value(json_object_get(st2, "time")) >=
                    json_integer_value(json_object_get(
                        json_array_get(over, 0), "time")));
        json_decref(starts);
        json_decref(over);
    }
    /* The override is remembered: a later resume has nothing to do and
     * neither refuses nor creates anything again. */
    h_run_free(&r);
    h_run(&r, res, NULL, 0, 60);
    e2e_expect_exit(&r, "resume after the override", 0);
    assert_int_equal(e2e_job_count(&c.emu), 5);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

static void pause_on_timeout_then_resume_completes(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    /* Tasks end 6-8 steps of 1 s after creation: a 2 s timeout pauses. */
    const char *emu[] = {"--auto-create", "--sim-speed", "1", NULL};
    const char *extra[] = {"--waves", "200,all", "--wave-timeout", "2s", NULL};
    json_t *paused = NULL;

    (void)state;
    e2e_fleet_start(&c, NDEV, PK, emu);
    run_waves(&c, &r, extra, 6);
    assert_non_null(strstr(r.err, "paused"));
    assert_non_null(strstr(r.err, "ota-rollout resume"));
    assert_int_equal(e2e_job_count(&c.emu), 1);
    paused = the_pause(&c, "timeout");
    h_run_free(&r);

    /* Without --yes and without a terminal, resume does not go on. */
    const char *ask[] = {"resume", c.report, NULL};
    e2e_run_expect(&r, ask, NULL, 0, 60, 2);
    h_run_free(&r);

    const char *res[] = {"resume", c.report, "--yes", "--wave-timeout", "60s",
                         NULL};
    h_run(&r, res, NULL, 0, 120);
    e2e_expect_exit(&r, "resume", 0);
    assert_non_null(strstr(r.err, "gate passed"));
    assert_int_equal(e2e_job_count(&c.emu), 5);
    json_decref(paused);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* `run --wait` without --waves watches the whole rollout until every task
 * has ended: exit 0 when all SUCCEEDED, 1 when some FAILED (or were
 * CANCELED). */
static void wait_without_waves(const char *ratio, int want_exit)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {"--auto-create",   "--sim-speed", "20",
                         "--success-ratio", ratio,         NULL};
    const char *extra[] = {"--wait", NULL};
    json_t *jobs = NULL, *j = NULL;
    size_t i = 0, ok = 0, failed = 0;

    e2e_fleet_start(&c, NDEV, PK, emu);
    run_waves(&c, &r, extra, want_exit);
    assert_non_null(strstr(r.err, "tasks: watching 5 jobs (1000 devices)"));
    assert_non_null(strstr(r.err, "every task has ended"));
    /* It watched (ListOTATaskByJob) and did not stop before the end: every
     * task of every job is final in the emulator. */
    assert_true(e2e_log_count(&c.emu, "ListOTATaskByJob", 1) >= 5);
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 5);
    json_array_foreach(jobs, i, j) {
        const char *k = NULL;
        json_t *v = NULL;

        json_object_foreach(json_object_get(j, "Tasks"), k, v) {
            const char *st = json_string_value(v);

            if (strcmp(st, "SUCCEEDED") == 0)
                ok++;
            else if (strcmp(st, "FAILED") == 0)
                failed++;
            else
                fail_msg("task %s is %s after run --wait", k, st);
        }
    }
    assert_int_equal(ok + failed, NDEV);
    if (want_exit == 0) {
        assert_int_equal(failed, 0);
        assert_non_null(strstr(r.err, "1000 of 1000 SUCCEEDED, 0 FAILED"));
    } else {
        char line[96];

        assert_true(failed > 0);
        /* The last count printed is the emulator's. */
        snprintf(line, sizeof(line), "%zu of 1000 SUCCEEDED, %zu FAILED", ok,
                 failed);
        assert_non_null(strstr(r.err, line));
    }
    json_decref(jobs);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

static void wait_all_succeeded_exits_0(void **state)
{
    (void)state;
    wait_without_waves("1", 0);
}

static void wait_some_failed_exits_1(void **state)
{
    (void)state;
    wait_without_waves("0.5", 1);
}

/* Chunk -> wave for "200,400,all" over 5 chunks: 1 | 2 | 3 4 5. */
static int wave_of_chunk(long chunk)
{
    return chunk == 1 ? 0 : chunk == 2 ? 1 : 2;
}

/* The emulator holds want_jobs jobs, each the job of a report row and
 * scheduled at t0 + its wave's index x interval. */
static void check_schedules(struct e2e_fleet *c, int64_t t0, int64_t interval,
                            size_t want_jobs)
{
    const struct e2e_schedule s = {t0, interval, wave_of_chunk};
    json_t *jobs = h_emu_get(&c->emu, "/__emu/jobs");
    json_t *rows = h_read_csv(c->report);

    assert_int_equal(e2e_assert_schedules(jobs, rows, 1, NDEV / 200, &s),
                     want_jobs);
    json_decref(rows);
    json_decref(jobs);
}

/* Starts c's emulator and runs the waves "200,400,all" scheduled from the
 * next whole second an hour ahead (returned), `interval` apart; fails
 * unless the run exits want_exit. */
static int64_t run_scheduled(struct e2e_fleet *c, struct h_run *r,
                             const char *interval, int want_exit)
{
    int64_t t0 = (h_wall_ms() / 1000 + 3600) * 1000;
    char t0s[32];

    snprintf(t0s, sizeof(t0s), "%" PRId64, t0);
    e2e_fleet_start(c, NDEV, PK, E2E_ARGS("--auto-create"));
    run_waves(c, r,
              E2E_ARGS("--waves", "200,400,all", "--schedule-time", t0s,
                       "--wave-interval", interval),
              want_exit);
    return t0;
}

static void scheduled_waves_carry_schedule_times(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    int64_t t0 = 0;

    (void)state;
    t0 = run_scheduled(&c, &r, "1h", 0);
    /* Shown in UTC and local time. */
    assert_non_null(strstr(r.err, " UTC ("));
    assert_non_null(strstr(r.err, "local)"));
    check_schedules(&c, t0, HOUR_MS, 5);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

static void scheduled_wave_beyond_horizon_waits_for_resume(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    int64_t t0 = 0;
    json_t *paused = NULL;

    (void)state;
    t0 = run_scheduled(&c, &r, "4d", 6);
    assert_non_null(strstr(r.err, "7 days"));
    assert_non_null(strstr(r.err, "wave 3: chunks 3-5"));
    /* Waves 1 and 2 (chunks 1 and 2) only. */
    check_schedules(&c, t0, 4 * DAY_MS, 2);
    paused = the_pause(&c, "horizon");
    assert_int_equal(torture_json_num(paused, NULL, "creatable"),
                     t0 + 8 * DAY_MS - 7 * DAY_MS + 10 * 60 * 1000);
    h_run_free(&r);

    /* Too early: resume refuses again, creating nothing. */
    const char *res[] = {"resume", c.report, "--yes", NULL};
    e2e_run_expect(&r, res, NULL, 0, 60, 6);
    h_run_free(&r);
    check_schedules(&c, t0, 4 * DAY_MS, 2);

    json_decref(paused);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* Starts c's emulator and runs `run INVENTORY` with the common options,
 * `extra` and --schedule-time six minutes ahead (*t0) in the background
 * (h_run cannot send SIGINT mid-run, hence this) until it says it waits
 * for the start, lets it wait 4 s more (twice a 2 s --wave-timeout: it
 * must not have ended), stops it with SIGINT and fails unless it exits 4.
 * Returns its stderr (malloced). */
static char *interrupt_while_waiting(struct e2e_fleet *c,
                                     const char *const *extra, int64_t *t0)
{
    const char *argv[E2E_MAX_ARGS], *with[E2E_MAX_ARGS];
    char outp[600], errp[600], t0s[32];
    char *err = NULL;
    size_t n = 0;
    pid_t pid = 0;
    int code = 0;

    *t0 = (h_wall_ms() / 1000 + 6 * 60) * 1000;
    snprintf(t0s, sizeof(t0s), "%" PRId64, *t0);
    for (n = 0; extra[n] && n + 3 < E2E_MAX_ARGS; n++)
        with[n] = extra[n];
    with[n++] = "--schedule-time";
    with[n++] = t0s;
    with[n] = NULL;
    e2e_fleet_start(c, NDEV, PK, E2E_ARGS("--auto-create"));
    snprintf(outp, sizeof(outp), "%s/tool.out", c->dir);
    snprintf(errp, sizeof(errp), "%s/tool.err", c->dir);
    pid = h_spawn(waves_argv(c, with, argv), NULL, 0, c->dir, outp, errp);
    err = e2e_await_text(errp, "its tasks start at", pid, 60);
    if (strstr(err, "its tasks start at") == NULL)
        fail_msg("the watch did not wait for the start: %s", err);
    free(err);
    sleep(4);
    assert_int_equal(waitpid(pid, NULL, WNOHANG), 0);
    code = e2e_interrupt(pid, 1);
    err = h_slurp(errp, NULL);
    assert_non_null(err);
    if (code != 4)
        fail_msg("exit %d (want 4): %s", code, err);
    return err;
}

/* --schedule-time with gated waves (no --wave-interval) schedules the
 * canary: its jobs carry that ScheduleTime, and its --wave-timeout counts
 * from then, so a 2 s timeout does not fire in the minutes before the
 * start. The emulator keeps the jobs PLANNED until the ScheduleTime, so
 * the gate passing is not waited for here (the arithmetic is unit-tested:
 * test_waves gate_timeout_counts_from_schedule): the run is stopped with
 * SIGINT, exit 4, wave 1 created and the pause journaled. */
static void gated_canary_at_schedule_time(void **state)
{
    struct e2e_fleet c;
    json_t *jobs = NULL, *starts = NULL, *paused = NULL, *gates = NULL;
    char *err = NULL;
    int64_t t0 = 0;

    (void)state;
    err = interrupt_while_waiting(
        &c, E2E_ARGS("--waves", "200,all", "--wave-timeout", "2s"), &t0);
    assert_null(strstr(err, "not decided within"));
    assert_non_null(strstr(err, "watching was interrupted"));
    /* The plan summary and the creation line show the start. */
    assert_non_null(strstr(err, "wave 1 (canary): chunks 1-1, 200 devices "
                                "(200 in all so far), starts "));
    assert_non_null(strstr(err, "wave 1/2 (canary): creating chunks 1-1 (200 "
                                "devices), scheduled for "));
    /* Wave 1 only, with the ScheduleTime. */
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 1);
    assert_int_equal(
        torture_json_num(json_array_get(jobs, 0), NULL, "ScheduleTime"), t0);
    /* No polling before the start (nothing can change until then). */
    assert_int_equal(e2e_log_count(&c.emu, "ListOTATaskByJob", 0), 0);
    /* Journal: wave 1 started with its schedule, paused (interrupted), no
     * gate decision. */
    starts = e2e_wave_records(c.report, "start");
    assert_int_equal(json_array_size(starts), 1);
    assert_int_equal(
        torture_json_num(json_array_get(starts, 0), NULL, "schedule"), t0);
    paused = the_pause(&c, "interrupted");
    assert_int_equal(torture_json_num(paused, NULL, "wave"), 1);
    gates = e2e_wave_records(c.report, "gate");
    assert_int_equal(json_array_size(gates), 0);
    json_decref(gates);
    json_decref(paused);
    json_decref(starts);
    json_decref(jobs);
    free(err);
    e2e_fleet_stop(&c);
}

/* run --wait (no waves) with --schedule-time: every job carries it and
 * the watch starts then, not with hours of polls before. */
static void wait_from_schedule_time(void **state)
{
    struct e2e_fleet c;
    json_t *jobs = NULL, *j = NULL;
    char *err = NULL;
    size_t i = 0;
    int64_t t0 = 0;

    (void)state;
    err = interrupt_while_waiting(&c, E2E_ARGS("--wait"), &t0);
    assert_non_null(strstr(err, "stopped watching; the jobs go on"));
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 5);
    json_array_foreach(jobs, i, j) {
        assert_int_equal(torture_json_num(j, NULL, "ScheduleTime"), t0);
    }
    assert_int_equal(e2e_log_count(&c.emu, "ListOTATaskByJob", 0), 0);
    json_decref(jobs);
    free(err);
    e2e_fleet_stop(&c);
}

E2E_MAIN(cmocka_unit_test(canary_passes_and_rollout_completes),
         cmocka_unit_test(canary_failures_trip_the_gate),
         cmocka_unit_test(pause_on_timeout_then_resume_completes),
         cmocka_unit_test(wait_all_succeeded_exits_0),
         cmocka_unit_test(wait_some_failed_exits_1),
         cmocka_unit_test(scheduled_waves_carry_schedule_times),
         cmocka_unit_test(gated_canary_at_schedule_time),
         cmocka_unit_test(wait_from_schedule_time),
         cmocka_unit_test(scheduled_wave_beyond_horizon_waits_for_resume))
