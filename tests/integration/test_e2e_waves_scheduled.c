/* test_e2e_waves_scheduled.c - gated waves with --schedule-time, end to
 * end: the canary (wave 1) is created scheduled, the tool waits for its
 * ScheduleTime, watches its tasks from then, and its gate passing after
 * that time creates wave 2, unscheduled, at once.
 *
 * DESIGN: two clocks moved, no code hooks. The API takes a ScheduleTime
 * 5 minutes ahead at the earliest, and the test does not wait that long:
 *  - the real ota-rollout binary runs under libfaketime at 20 times the
 *    speed (FAKETIME="+0 x20": its wall and monotonic clocks, its sleeps
 *    and poll timeouts alike), so its 6-minute wait for ScheduleTime takes
 *    18 s;
 *  - once the canary's job exists, the test moves the emulator's clock 7
 *    minutes forward (POST /__emu/clock), so the job has started by the
 *    time the tool looks and its tasks run.
 * The tool's requests carry its own (faked) time; it stays within the
 * emulator's 15 minutes of allowed skew all along (at most a few minutes
 * apart). The tool's timeouts are in its time too: --request-timeout is
 * raised so that 20x speed leaves a loaded CI machine room.
 *
 * Under the ASan build the preloaded library comes before libasan:
 * e2e_fake_env_init() adds verify_asan_link_order=0 to ASAN_OPTIONS. */
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
#include <time.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"
#define NDEV 400 /* 2 chunks of 200; waves "200,all": chunk 1 | chunk 2 */
#define MIN_MS ((int64_t)60 * 1000)

static void scheduled_canary_gate_passes_after_its_start(void **state)
{
    struct e2e_fleet f;
    char *lib = e2e_faketime_lib();
    struct e2e_fake_env fast;
    char t0s[32];
    /* Wave 1 starts 6 minutes from now (the API's minimum is 5). */
    int64_t t0 = (h_wall_ms() / 1000 + 6 * 60) * 1000;
    const char *emu[] = {"--auto-create", "--sim-speed", "20", NULL};
    json_t *jobs = NULL, *rows = NULL, *j1 = NULL, *j2 = NULL;
    char *out = NULL;
    pid_t pid = 0;
    int code = 0;
    double t_start = 0;

    (void)state;
    e2e_fleet_start(&f, NDEV, PK, emu);
    snprintf(t0s, sizeof(t0s), "%" PRId64, t0);
    e2e_fake_env_init(&fast, lib, "+0 x20", 1);
    const char *run[] = {"run",           f.inv,        "--firmware-id",
                         FW,              "--endpoint", f.emu.endpoint,
                         "--yes",         "--report",   f.report,
                         "--waves",       "200,all",    "--schedule-time",
                         t0s,             "--request-timeout", "10m",
                         NULL};

    t_start = h_now_s();
    pid = h_spawn(run, fast.v, 0, f.dir, f.output, NULL); /* 2>&1 */
    /* The canary's job, created scheduled: then the emulator's time
     * jumps past its start. */
    while (e2e_job_count(&f.emu) == 0) {
        if (h_now_s() - t_start > 60)
            fail_msg("no canary job after 60 s");
        h_sleep_ms(100);
    }
    assert_int_equal(h_emu_send(&f.emu, "/__emu/clock", "advance=420000"),
                     200);
    code = h_wait(pid, -1, 180 * 1000);
    out = h_slurp(f.output, NULL);
    if (code != 0)
        fail_msg("run: exit %d: %s", code, out);
    /* The tool said it waited for the start, then the gate passed. */
    assert_non_null(strstr(out, "its tasks start at"));
    assert_non_null(strstr(out, "wave 1/2: gate passed"));
    assert_non_null(strstr(out, "wave 2/2: creating chunks 2-2"));

    /* Wave 1's job was scheduled at t0 and created before it; wave 2's
     * was created (by the emulator's clock) after t0, unscheduled. */
    jobs = h_emu_get(&f.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 2);
    j1 = json_array_get(jobs, 0);
    j2 = json_array_get(jobs, 1);
    assert_int_equal(json_integer_value(json_object_get(j1, "ScheduleTime")),
                     t0);
    assert_true(json_is_null(json_object_get(j2, "ScheduleTime")));
    assert_true(strcmp(json_string_value(json_object_get(j1, "UtcCreate")),
                       json_string_value(json_object_get(j2, "UtcCreate"))) <
                0);
    {
        char t0utc[32];
        time_t secs = (time_t)(t0 / 1000);
        struct tm tm;

        gmtime_r(&secs, &tm);
        strftime(t0utc, sizeof(t0utc), "%Y-%m-%dT%H:%M:%S", &tm);
        /* ISO-8601 strings of one format compare as times. */
        assert_true(strcmp(json_string_value(json_object_get(j2, "UtcCreate")),
                           t0utc) > 0);
    }
    assert_string_equal(json_string_value(json_object_get(j1, "JobStatus")),
                        "COMPLETED");
    /* The report: both chunks created, naming exactly these jobs. */
    rows = h_read_csv(f.report);
    assert_int_equal(json_array_size(rows), 2);
    assert_int_equal(e2e_count_where(rows, "status", "created"), 2);
    e2e_assert_report_matches_jobs(rows, jobs);
    e2e_assert_each_device_once(jobs, NDEV);

    json_decref(rows);
    json_decref(jobs);
    free(out);
    free(lib);
    e2e_fleet_stop(&f);
}

E2E_MAIN(cmocka_unit_test(scheduled_canary_gate_passes_after_its_start))
