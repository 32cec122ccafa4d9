/* test_e2e_zones.c - maintenance windows per time zone end to end:
 * --window with --time-zone-column over a fleet in Berlin, New York and
 * Shanghai gives each job the next window of its devices' zone
 * (ScheduleTime / ScheduleFinishTime), no job mixes zones, and `plan`
 * (text and --json) shows the same schedule per wave and zone; a wave
 * whose window is beyond the API's 7-day horizon (--wave-interval) is
 * Deferred in the report and created by a later `resume`; an unknown zone
 * in a cell stops the run (exit 3, file and line) before anything is
 * created.
 *
 * DESIGN: as test_e2e_windows.c: the tool runs under libfaketime shifted
 * to a chosen instant and each emulator is started with the same
 * --clock-offset; a later moment (the resume) has its own emulator. */
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
#define NDEV 30 /* 10 per zone: 2 jobs of 5 each */

/* 2027-01-15T12:00:00Z, winter: CET +1, EST -5, CST +8. The 02:00-05:00
 * windows after it: Shanghai's at 18:00Z the same day, Berlin's at 01:00Z
 * and New York's at 07:00Z the next. */
#define T_NOW INT64_C(1800014400000)
#define HOUR_MS INT64_C(3600000)
#define DAY_MS (24 * HOUR_MS)

static const char *const zones[3] = {"Europe/Berlin", "America/New_York",
                                     "Asia/Shanghai"};
static const int64_t first_window[3] = {T_NOW + 13 * HOUR_MS,
                                        T_NOW + 19 * HOUR_MS,
                                        T_NOW + 6 * HOUR_MS};

/* Device i ("dev-%06zu") is in zone i % 3; `bad_line` (0: none) gets the
 * zone "Asia/Shangai" instead. */
static void write_fleet(const char *path, size_t bad_line)
{
    FILE *fp = fopen(path, "w");
    size_t i = 0;

    assert_non_null(fp);
    fprintf(fp, "ProductKey,DeviceName,Site,Time Zone\n");
    for (i = 0; i < NDEV; i++)
        fprintf(fp, "%s,dev-%06zu,%s,%s\n", PK, i, i < 3 ? "lab" : "field",
                i + 2 == bad_line ? "Asia/Shangai" : zones[i % 3]);
    fclose(fp);
}

struct moment {
    struct e2e_fake_env env;
    struct emu_proc emu;
};

/* The tool and a new emulator at T_NOW + later_ms. */
static void moment_start(struct moment *m, const char *lib, int64_t later_ms,
                         const char *seed)
{
    int64_t offset = T_NOW + later_ms - h_wall_ms();
    char spec[32], off[32];

    snprintf(off, sizeof(off), "%" PRId64, offset);
    snprintf(spec, sizeof(spec), "%+" PRId64, offset / 1000);
    e2e_fake_env_init(&m->env, lib, spec, 0);
    const char *emu[] = {"--auto-create", "--clock-offset", off, "--seed",
                         seed, NULL};
    h_emu_start(&m->emu, emu);
}

/* The zone of every device of job j; fails when they are not one zone. */
static int job_zone(json_t *j)
{
    json_t *devs = json_object_get(j, "Devices"), *d = NULL;
    int z = -1;
    size_t i = 0;

    assert_true(json_array_size(devs) > 0);
    json_array_foreach(devs, i, d) {
        int dz = (int)(strtoul(json_string_value(d) + 4, NULL, 10) % 3);

        if (z < 0)
            z = dz;
        assert_int_equal(dz, z);
    }
    return z;
}

/* Each job of `jobs` has its zone's window after `after_days` days. */
static void assert_zone_windows(json_t *jobs, int64_t after_days)
{
    json_t *j = NULL;
    size_t i = 0;

    json_array_foreach(jobs, i, j) {
        int z = job_zone(j);
        int64_t start = first_window[z] + after_days * DAY_MS;

        assert_int_equal(
            json_integer_value(json_object_get(j, "ScheduleTime")), start);
        assert_int_equal(
            json_integer_value(json_object_get(j, "ScheduleFinishTime")),
            start + 3 * HOUR_MS);
    }
}

static const char *const *zoned_argv(const char **argv, const char *cmd,
                                     const struct e2e_fleet *f,
                                     const char *endpoint,
                                     const char *const *extra)
{
    size_t n = 0, i = 0;
    const char *base[] = {cmd,      f->inv,        "--firmware-id", FW,
                          "--yes",  "--report",    f->report,
                          "--window", "02:00-05:00", "--time-zone-column",
                          "time_zone", "--chunk-size", "5"};

    for (i = 0; i < sizeof(base) / sizeof(base[0]); i++)
        argv[n++] = base[i];
    if (endpoint) {
        argv[n++] = "--endpoint";
        argv[n++] = endpoint;
    }
    for (i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    assert_true(n < E2E_MAX_ARGS);
    return argv;
}

static void each_job_in_its_zones_night(void **state)
{
    struct e2e_fleet f;
    struct moment m;
    struct h_run r;
    char *lib = e2e_faketime_lib();
    const char *argv[E2E_MAX_ARGS];
    json_t *jobs = NULL, *rows = NULL, *doc = NULL, *sched = NULL, *o = NULL;

    (void)state;
    e2e_fleet_init(&f, NDEV, PK);
    write_fleet(f.inv, 0);
    moment_start(&m, lib, 0, "1");
    /* The plan tells each zone's window, local and UTC. */
    e2e_run_expect(&r, zoned_argv(argv, "plan", &f, NULL, NULL), m.env.v, 0,
                   60, 0);
    assert_non_null(strstr(r.out, "schedule (window 02:00-05:00, local time "
                                  "of each zone):\n"));
    assert_non_null(strstr(r.out, "  Europe/Berlin: 10 devices in 2 jobs: "
                                  "2027-01-16 02:00 +01:00 to 2027-01-16 "
                                  "05:00 +01:00 (UTC 2027-01-16T01:00:00Z "
                                  "to 2027-01-16T04:00:00Z)\n"));
    assert_non_null(strstr(r.out, "  America/New_York: 10 devices in 2 jobs: "
                                  "2027-01-16 02:00 -05:00"));
    assert_non_null(strstr(r.out, "  Asia/Shanghai: 10 devices in 2 jobs: "
                                  "2027-01-16 02:00 +08:00"));
    h_run_free(&r);
    e2e_run_expect(&r,
                   zoned_argv(argv, "plan", &f, NULL, E2E_ARGS("--json")),
                   m.env.v, 0, 60, 0);
    doc = e2e_parse_document(r.out);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(doc, "plan"),
                                          "window")),
        "02:00-05:00");
    sched = json_object_get(json_object_get(doc, "plan"), "schedule");
    assert_int_equal(json_array_size(sched), 3);
    o = json_array_get(sched, 2);
    assert_string_equal(e2e_str(o, "time_zone"), "Asia/Shanghai");
    assert_string_equal(e2e_str(o, "start"), "2027-01-15T18:00:00Z");
    assert_string_equal(e2e_str(o, "end_local"), "2027-01-16T05:00:00+08:00");
    assert_int_equal(json_integer_value(json_object_get(o, "jobs")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "devices")), 10);
    json_decref(doc);
    h_run_free(&r);

    e2e_run_expect(&r, zoned_argv(argv, "run", &f, m.emu.endpoint, NULL),
                   m.env.v, 0, 60, 0);
    h_run_free(&r);
    jobs = h_emu_get(&m.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 6);
    e2e_assert_each_device_once(jobs, NDEV);
    assert_zone_windows(jobs, 0);
    rows = h_read_csv(f.report);
    e2e_assert_report_matches_jobs(rows, jobs);
    json_decref(rows);
    json_decref(jobs);
    h_emu_stop(&m.emu);
    free(lib);
    e2e_fleet_stop(&f);
}

/* Waves 8 days apart: the canary site (one device per zone) now, the
 * rest in the windows after 8 days, beyond the horizon: Deferred, then
 * created by a resume two days later. */
static void wave_beyond_horizon_deferred_then_resumed(void **state)
{
    struct e2e_fleet f;
    struct moment a, c;
    struct h_run r;
    char *lib = e2e_faketime_lib();
    const char *argv[E2E_MAX_ARGS];
    json_t *jobs_a = NULL, *jobs_c = NULL, *rows = NULL, *row = NULL;
    json_t *all = NULL;
    size_t i = 0, deferred = 0;

    (void)state;
    e2e_fleet_init(&f, NDEV, PK);
    write_fleet(f.inv, 0);
    moment_start(&a, lib, 0, "1");
    e2e_run_expect(&r,
                   zoned_argv(argv, "plan", &f, NULL,
                              E2E_ARGS("--wave-column", "site",
                                       "--wave-order", "lab,field",
                                       "--wave-interval", "8d")),
                   a.env.v, 0, 60, 0);
    assert_non_null(strstr(r.out, "  wave 2 \"field\", Asia/Shanghai: 9 "
                                  "devices in 2 jobs: 2027-01-24 02:00 "
                                  "+08:00"));
    /* The plan says what the run does: wave 2 deferred, in every zone. */
    assert_int_equal(e2e_count_substr(r.out, "- deferred: beyond the API's "
                                            "7-day horizon, `resume` "
                                            "creates it\n"),
                     3);
    assert_null(strstr(r.out, "wave 1 \"lab\", Asia/Shanghai: 1 device in 1 "
                              "job: 2027-01-16 02:00 +08:00 to 2027-01-16 "
                              "05:00 +08:00 (UTC 2027-01-15T18:00:00Z to "
                              "2027-01-15T21:00:00Z) -"));
    h_run_free(&r);
    e2e_run_expect(&r,
                   zoned_argv(argv, "plan", &f, NULL,
                              E2E_ARGS("--wave-column", "site",
                                       "--wave-order", "lab,field",
                                       "--wave-interval", "8d", "--json")),
                   a.env.v, 0, 60, 0);
    all = e2e_parse_document(r.out);
    json_array_foreach(json_object_get(json_object_get(all, "plan"),
                                       "schedule"),
                       i, row) {
        json_t *dfr = json_object_get(row, "deferred");

        assert_true(json_is_boolean(dfr));
        assert_int_equal(json_is_true(dfr),
                         json_integer_value(json_object_get(row, "wave")) ==
                             2);
        deferred += json_is_true(dfr);
    }
    assert_int_equal(deferred, 3);
    deferred = 0;
    json_decref(all);
    all = NULL;
    h_run_free(&r);
    e2e_run_expect(&r,
                   zoned_argv(argv, "run", &f, a.emu.endpoint,
                              E2E_ARGS("--wave-column", "site",
                                       "--wave-order", "lab,field",
                                       "--wave-interval", "8d")),
                   a.env.v, 0, 60, 6);
    h_run_free(&r);
    jobs_a = h_emu_get(&a.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs_a), 3);
    assert_zone_windows(jobs_a, 0);
    rows = h_read_csv(f.report);
    assert_int_equal(json_array_size(rows), 9);
    json_array_foreach(rows, i, row) {
        if (strcmp(e2e_str(row, "status"), "not_sent") == 0) {
            assert_string_equal(e2e_str(row, "error_code"), "Deferred");
            deferred++;
        }
    }
    assert_int_equal(deferred, 6);
    json_decref(rows);

    moment_start(&c, lib, 2 * DAY_MS, "3");
    const char *res[] = {"resume",     f.report,     "--yes",
                         "--endpoint", c.emu.endpoint, NULL};
    e2e_run_expect(&r, res, c.env.v, 0, 60, 0);
    h_run_free(&r);
    jobs_c = h_emu_get(&c.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs_c), 6);
    assert_zone_windows(jobs_c, 8);
    all = json_array();
    json_array_extend(all, jobs_a);
    json_array_extend(all, jobs_c);
    e2e_assert_each_device_once(all, NDEV);
    rows = h_read_csv(f.report);
    e2e_assert_report_matches_jobs(rows, all);
    assert_int_equal(e2e_count_where(rows, "status", "created"), 9);
    json_decref(rows);
    json_decref(all);
    json_decref(jobs_a);
    json_decref(jobs_c);
    h_emu_stop(&c.emu);
    h_emu_stop(&a.emu);
    free(lib);
    e2e_fleet_stop(&f);
}

static void unknown_zone_in_a_cell_sends_nothing(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    const char *argv[E2E_MAX_ARGS];

    (void)state;
    e2e_fleet_start(&f, NDEV, PK, E2E_ARGS("--auto-create"));
    write_fleet(f.inv, 9);
    e2e_run_expect(&r, zoned_argv(argv, "run", &f, f.emu.endpoint, NULL),
                   NULL, 0, 60, 3);
    assert_non_null(strstr(r.err, "fleet.csv:9: --time-zone-column "
                                  "time_zone: unknown time zone "
                                  "\"Asia/Shangai\""));
    h_run_free(&r);
    assert_int_equal(e2e_job_count(&f.emu), 0);
    assert_int_equal(e2e_log_count(&f.emu, "CreateOTAStaticUpgradeJob", 0),
                     0);
    assert_null(h_slurp(f.report, NULL));
    e2e_fleet_stop(&f);
}

E2E_MAIN(cmocka_unit_test(each_job_in_its_zones_night),
         cmocka_unit_test(wave_beyond_horizon_deferred_then_resumed),
         cmocka_unit_test(unknown_zone_in_a_cell_sends_nothing))
