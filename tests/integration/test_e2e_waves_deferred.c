/* test_e2e_waves_deferred.c - a scheduled wave beyond the API's 7-day
 * horizon is created later by `ota-rollout resume REPORT`, end to end
 * ("beyond it, the tool explains that the later waves must be
 * created later by --resume, and the journal remembers when").
 *
 * DESIGN: time travel, no code hooks. The real ota-rollout binary runs
 * under libfaketime (Debian's faketime package, preloaded through the
 * environment exactly as the `faketime` wrapper does), which shifts its
 * wall clock by a fixed offset. FAKETIME_DONT_FAKE_MONOTONIC=1 keeps
 * CLOCK_MONOTONIC real, so the offset moves exactly one thing, the wall
 * clock the tool signs requests with and compares with the journal's
 * "creatable" time; its rate limiter, timeouts and elapsed times run on
 * the untouched monotonic clock. The MT variant of the library is the one
 * for threaded programs (the dispatcher runs in a thread).
 *
 * The emulator checks every request's signature timestamp against its own
 * clock (15 minutes of skew) and ScheduleTime against a 7-day horizon, so
 * its clock must agree with the tool's. Its clock is its start-up wall
 * time plus CLOCK_MONOTONIC's progress (emu_main.c), so it cannot be
 * moved under a running emulator (faking the monotonic clock of a
 * threaded libmicrohttpd server mid-run would be a test of libfaketime,
 * not of ours). Jobs live in the emulator process, so each moment of the
 * test has its own emulator, started with --clock-offset equal to the
 * tool's offset:
 *   A (real time): `run` creates waves 1 and 2 and stops at the horizon
 *                  (exit 6, journal: paused, reason horizon, creatable);
 *   B (+1 day):    a resume 70 minutes before "creatable" sends only the
 *                  firmware pre-flight, creates nothing, exits 6 again;
 *   C (+2 days):   a resume after "creatable" creates wave 3 (and only
 *                  it) with ScheduleTime = start + 2 x interval, exit 0.
 * The rollout as a whole is then A's jobs plus C's: every device in
 * exactly one job, the report complete and naming exactly those jobs.
 *
 * Under the ASan build the preloaded library comes before libasan in the
 * link order, which ASan refuses by default: verify_asan_link_order=0 is
 * added to ASAN_OPTIONS (the check only guards against missed
 * interceptors; libfaketime intercepts only time functions). */
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
#define NDEV 1000 /* 5 chunks of 200; waves "200,400,all": 1 | 2 | 3 4 5 */
#define MIN_MS ((int64_t)60 * 1000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

/* The environment entries that run the tool `offset_ms` ahead ("+N" is
 * an offset in seconds from the real time, which keeps running; the
 * monotonic clock stays real). */
static void fake_env_init(struct e2e_fake_env *f, const char *lib,
                          int64_t offset_ms)
{
    char spec[32];

    snprintf(spec, sizeof(spec), "+%" PRId64, offset_ms / 1000);
    e2e_fake_env_init(f, lib, spec, 0);
}

/* Job ids derive from the seed: each emulator has its own, so that the
 * ids of A's and C's jobs cannot collide in the report. */
static void start_emu(struct emu_proc *e, int64_t offset_ms, const char *seed)
{
    char off[32];

    snprintf(off, sizeof(off), "%" PRId64, offset_ms);
    const char *args[] = {"--auto-create", "--clock-offset", off, "--seed",
                          seed, NULL};
    h_emu_start(e, args);
}

/* Chunk -> wave for "200,400,all" over 5 chunks: 1 | 2 | 3 4 5. */
static int wave_of_chunk(long chunk)
{
    return chunk == 1 ? 0 : chunk == 2 ? 1 : 2;
}

static void deferred_wave_created_by_a_later_resume(void **state)
{
    struct e2e_fleet f;
    struct emu_proc a, b, c;
    struct h_run r;
    struct e2e_fake_env early, late;
    char *lib = e2e_faketime_lib();
    char t0s[32];
    /* Start in an hour; waves 4 days apart: wave 3 starts at t0 + 8 d, so
     * it can be created from t0 + 8 d - 7 d + 10 min (the tool keeps 10
     * minutes of margin below the horizon). */
    int64_t t0 = (h_wall_ms() / 1000 + 3600) * 1000;
    int64_t interval = 4 * DAY_MS;
    int64_t creatable = t0 + 2 * interval - 7 * DAY_MS + 10 * MIN_MS;
    int64_t early_ms = 0;
    const struct e2e_schedule sched = {t0, interval, wave_of_chunk};
    json_t *paused = NULL, *jobs_a = NULL, *jobs_c = NULL, *all = NULL;
    json_t *rows = NULL, *row = NULL;
    size_t i = 0;

    (void)state;
    /* The fleet's own emulator is not started: each moment has its own. */
    e2e_fleet_init(&f, NDEV, PK);
    snprintf(t0s, sizeof(t0s), "%" PRId64, t0);

    /* A, real time: waves 1 and 2 are created, wave 3 waits. */
    start_emu(&a, 0, "1");
    const char *run[] = {"run",       f.inv,        "--firmware-id",
                         FW,          "--endpoint", a.endpoint,
                         "--yes",     "--report",   f.report,
                         "--waves",   "200,400,all", "--schedule-time",
                         t0s,         "--wave-interval", "4d",
                         NULL};
    e2e_run_expect(&r, run, NULL, 0, 60, 6);
    h_run_free(&r);
    paused = e2e_wave_records(f.report, "paused");
    assert_int_equal(json_array_size(paused), 1);
    assert_int_equal(
        torture_json_num(json_array_get(paused, 0), NULL, "creatable"),
        creatable);
    jobs_a = h_emu_get(&a, "/__emu/jobs");
    rows = h_read_csv(f.report);
    assert_int_equal(e2e_assert_schedules(jobs_a, rows, 1, 2, &sched), 2);
    json_decref(rows);

    /* B, one day later: still 70 minutes before "creatable". The resume
     * checks the firmware (its pre-flight), then stops as before. */
    early_ms = creatable - 70 * MIN_MS - h_wall_ms();
    fake_env_init(&early, lib, early_ms);
    start_emu(&b, early_ms, "2");
    const char *res_b[] = {"resume",     f.report,   "--yes",
                           "--endpoint", b.endpoint, NULL};
    e2e_run_expect(&r, res_b, early.v, 0, 60, 6);
    assert_non_null(strstr(r.err, "7 days"));
    h_run_free(&r);
    assert_int_equal(e2e_log_count(&b, "CreateOTAStaticUpgradeJob", 0), 0);
    assert_true(e2e_log_count(&b, "QueryOTAFirmware", 1) >= 1);
    json_decref(paused);
    paused = e2e_wave_records(f.report, "paused");
    assert_int_equal(json_array_size(paused), 2);
    assert_int_equal(
        torture_json_num(json_array_get(paused, 1), NULL, "creatable"),
        creatable);

    /* C, two days later: past "creatable". */
    fake_env_init(&late, lib, 2 * DAY_MS);
    start_emu(&c, 2 * DAY_MS, "3");
    const char *res_c[] = {"resume",     f.report,   "--yes",
                           "--endpoint", c.endpoint, NULL};
    e2e_run_expect(&r, res_c, late.v, 0, 60, 0);
    e2e_assert_run_no_secret(f.dir, H_SECRET, &r);
    h_run_free(&r);

    /* Wave 3 only, with its ScheduleTime; waves 1 and 2 not again. */
    rows = h_read_csv(f.report);
    jobs_c = h_emu_get(&c, "/__emu/jobs");
    assert_int_equal(e2e_assert_schedules(jobs_c, rows, 3, 5, &sched), 3);
    assert_int_equal(e2e_log_count(&c, "CreateOTAStaticUpgradeJob", 0), 3);
    json_decref(jobs_a);
    jobs_a = h_emu_get(&a, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs_a), 2);
    assert_int_equal(e2e_log_count(&b, "CreateOTAStaticUpgradeJob", 0), 0);

    /* The rollout as a whole: A's jobs and C's, each device once, and a
     * complete report naming exactly those jobs. */
    all = json_array();
    json_array_extend(all, jobs_a);
    json_array_extend(all, jobs_c);
    e2e_assert_each_device_once(all, NDEV);
    e2e_assert_report_matches_jobs(rows, all);
    assert_int_equal(json_array_size(rows), 5);
    json_array_foreach(rows, i, row)
        assert_string_equal(torture_json_str(row, NULL, "status"), "created");

    json_decref(all);
    json_decref(jobs_a);
    json_decref(jobs_c);
    json_decref(rows);
    json_decref(paused);
    h_emu_stop(&c);
    h_emu_stop(&b);
    h_emu_stop(&a);
    free(lib);
    e2e_fleet_stop(&f);
}

E2E_MAIN(cmocka_unit_test(deferred_wave_created_by_a_later_resume))
