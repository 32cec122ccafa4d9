/* test_e2e_gatedwindow.c - a gated wave takes the next maintenance window
 * after its gate passes: the canary's window comes, its tasks succeed,
 * the gate passes, and wave 2's job gets the first window of the
 * devices' zone that starts after that (the next night, since the
 * canary's night has started), with that window's end.
 *
 * DESIGN: the watch waits (on its own clock) until the canary's
 * ScheduleTime, at least 5 minutes ahead, before it judges the gate. So
 * the tool and the emulator both run under libfaketime 60 times faster
 * than real time ("+OFFSET x60"), starting from a chosen instant 10
 * minutes before Berlin's 02:00 window: the 10 minutes take 10 s. The
 * monotonic clock is faked too (the default), so that the watch's naps
 * (timed on CLOCK_MONOTONIC) and its sleeps (nanosleep, which libfaketime
 * shortens by the same factor) agree with the wall clock; libcurl's
 * timeouts shrink alike, so --request-timeout is set long (10 min faked,
 * 10 s real). Each process's fast clock starts when it starts: the
 * emulator, started first, runs ahead by 59 times the real time between
 * the two starts (seconds faked, well inside the 5 minutes' margin the
 * window leaves). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"
#define NDEV 6 /* canary 2, then 4 */

/* 2027-01-16T00:50:00Z = 01:50 CET: Berlin's 02:00-05:00 window starts
 * 10 minutes later, at 01:00Z; the next night's at 2027-01-17T01:00Z. */
#define T_NOW INT64_C(1800060600000)
#define T_CANARY INT64_C(1800061200000)
#define HOUR_MS INT64_C(3600000)
#define DAY_MS (24 * HOUR_MS)
#define SPEED "x60"

/* Starts the emulator under the fake environment (it inherits this
 * process's environment for the exec). */
static void emu_start_faked(struct emu_proc *emu, const struct e2e_fake_env *fk,
                            const char *const *extra)
{
    size_t i = 0;

    for (i = 0; fk->v[i]; i++)
        assert_int_equal(putenv((char *)fk->v[i]), 0);
    h_emu_start(emu, extra);
    unsetenv("LD_PRELOAD");
    unsetenv("FAKETIME");
    unsetenv("FAKETIME_DONT_FAKE_MONOTONIC");
}

static int64_t job_time(json_t *j, const char *key)
{
    return json_integer_value(json_object_get(j, key));
}

static void gated_wave_takes_the_window_after_its_gate(void **state)
{
    struct e2e_fleet f;
    struct e2e_fake_env fake;
    struct h_run r;
    char *lib = e2e_faketime_lib();
    int64_t offset = T_NOW - h_wall_ms();
    char spec[64];
    json_t *jobs = NULL, *gates = NULL, *rows = NULL;
    json_t *canary = NULL, *rest = NULL;
    size_t i = 0;

    (void)state;
    e2e_fleet_init(&f, NDEV, PK);
    snprintf(spec, sizeof(spec), "%+" PRId64 " " SPEED, offset / 1000);
    e2e_fake_env_init(&fake, lib, spec, 1);
    const char *emu[] = {"--auto-create", "--sim-speed", "2", NULL};
    emu_start_faked(&f.emu, &fake, emu);
    const char *run[] = {"run",          f.inv,
                         "--firmware-id", FW,
                         "--endpoint",   f.emu.endpoint,
                         "--yes",        "--report",
                         f.report,       "--waves",
                         "2,all",        "--success-threshold",
                         "100%",         "--poll-interval",
                         "30s",          "--request-timeout",
                         "10m",          "--window",
                         "02:00-05:00",  "--time-zone",
                         "Europe/Berlin", NULL};
    e2e_run_expect(&r, run, fake.v, 0, 60, 0);
    assert_non_null(strstr(r.err, "gate passed"));
    h_run_free(&r);

    jobs = h_emu_get(&f.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 2);
    for (i = 0; i < 2; i++) {
        json_t *j = json_array_get(jobs, i);
        size_t n = json_array_size(json_object_get(j, "Devices"));

        if (n == 2)
            canary = j;
        else if (n == 4)
            rest = j;
    }
    assert_non_null(canary);
    assert_non_null(rest);
    /* The canary in tonight's window. */
    assert_int_equal(job_time(canary, "ScheduleTime"), T_CANARY);
    assert_int_equal(job_time(canary, "ScheduleFinishTime"),
                     T_CANARY + 3 * HOUR_MS);
    /* Its gate passed after tonight's window had started: wave 2 takes
     * the next one, tomorrow night's, in Berlin (not tonight's, which the
     * plan's time would give). */
    gates = e2e_wave_records(f.report, "gate");
    assert_int_equal(json_array_size(gates), 1);
    assert_int_equal(job_time(rest, "ScheduleTime"), T_CANARY + DAY_MS);
    assert_int_equal(job_time(rest, "ScheduleFinishTime"),
                     T_CANARY + DAY_MS + 3 * HOUR_MS);
    rows = h_read_csv(f.report);
    assert_int_equal(e2e_count_where(rows, "status", "created"), 2);
    e2e_assert_report_matches_jobs(rows, jobs);
    json_decref(rows);
    json_decref(gates);
    json_decref(jobs);
    free(lib);
    e2e_fleet_stop(&f);
}

E2E_MAIN(cmocka_unit_test(gated_wave_takes_the_window_after_its_gate))
