/* test_e2e_windows.c - maintenance windows end to end: --window with a
 * --time-zone gives every job the next window of that zone as its
 * ScheduleTime and ScheduleFinishTime, on a daylight-saving day too; an
 * unknown zone stops the run (exit 3) and a window under the API's hour
 * is a usage error (exit 2).
 *
 * DESIGN: the tool computes ScheduleTime from its own clock, so it runs
 * under libfaketime shifted to a chosen instant (the day before Berlin's
 * clocks go forward in 2027), and the emulator, which checks ScheduleTime
 * against its clock, is started with the same --clock-offset (the
 * mechanism of test_e2e_waves_deferred.c). */
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
#define NDEV 400 /* 2 chunks */

/* 2027-03-27T12:00:00Z, a Saturday: Berlin goes from 02:00 CET to 03:00
 * CEST the next night, at 2027-03-28T01:00:00Z. */
#define T_NOW INT64_C(1806148800000)
#define T_SPRING INT64_C(1806195600000)
#define HOUR_MS INT64_C(3600000)

static void berlin_window_on_its_spring_forward_night(void **state)
{
    struct e2e_fleet f;
    struct e2e_fake_env fake;
    struct h_run r;
    char *lib = e2e_faketime_lib();
    int64_t offset = T_NOW - h_wall_ms();
    char spec[32], off[32];
    json_t *jobs = NULL, *rows = NULL;
    size_t i = 0;

    (void)state;
    e2e_fleet_init(&f, NDEV, PK);
    snprintf(off, sizeof(off), "%" PRId64, offset);
    snprintf(spec, sizeof(spec), "%+" PRId64, offset / 1000);
    e2e_fake_env_init(&fake, lib, spec, 0);
    const char *emu[] = {"--auto-create", "--clock-offset", off, NULL};
    h_emu_start(&f.emu, emu);
    /* 02:30 does not exist that night: the window starts at the first
     * instant after the jump, 03:00 CEST, and ends at 05:00 CEST. */
    const char *run[] = {"run",      f.inv,        "--firmware-id",
                         FW,         "--endpoint", f.emu.endpoint,
                         "--yes",    "--report",   f.report,
                         "--window", "02:30-05:00", "--time-zone",
                         "Europe/Berlin", NULL};
    e2e_run_expect(&r, run, fake.v, 0, 60, 0);
    h_run_free(&r);
    jobs = h_emu_get(&f.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 2);
    for (i = 0; i < json_array_size(jobs); i++) {
        json_t *j = json_array_get(jobs, i);

        assert_int_equal(
            json_integer_value(json_object_get(j, "ScheduleTime")),
            T_SPRING);
        assert_int_equal(
            json_integer_value(json_object_get(j, "ScheduleFinishTime")),
            T_SPRING + 2 * HOUR_MS);
    }
    rows = h_read_csv(f.report);
    assert_int_equal(e2e_count_where(rows, "status", "created"), 2);
    e2e_assert_report_matches_jobs(rows, jobs);
    json_decref(rows);
    json_decref(jobs);
    free(lib);
    e2e_fleet_stop(&f);
}

static void unknown_zone_and_short_window_send_nothing(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    json_t *jobs = NULL;
    const char *emu[] = {"--auto-create", NULL};

    (void)state;
    e2e_fleet_start(&f, NDEV, PK, emu);
    const char *unknown[] = {"run",      f.inv,        "--firmware-id",
                             FW,         "--endpoint", f.emu.endpoint,
                             "--yes",    "--report",   f.report,
                             "--window", "02:00-05:00", "--time-zone",
                             "Europe/Atlantis", NULL};
    e2e_run_expect(&r, unknown, NULL, 0, 60, 3);
    assert_non_null(strstr(r.err, "--time-zone"));
    assert_non_null(strstr(r.err, "unknown time zone \"Europe/Atlantis\""));
    h_run_free(&r);
    const char *shortw[] = {"run",      f.inv,        "--firmware-id",
                            FW,         "--endpoint", f.emu.endpoint,
                            "--yes",    "--report",   f.report,
                            "--window", "02:00-02:45", "--time-zone",
                            "Asia/Shanghai", NULL};
    e2e_run_expect(&r, shortw, NULL, 0, 60, 2);
    assert_non_null(strstr(r.err, "at least 1 hour"));
    h_run_free(&r);
    jobs = h_emu_get(&f.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 0);
    json_decref(jobs);
    e2e_fleet_stop(&f);
}

E2E_MAIN(cmocka_unit_test(berlin_window_on_its_spring_forward_night),
         cmocka_unit_test(unknown_zone_and_short_window_send_nothing))
