/* test_e2e_waves_report.c - a waved run's report covers the whole plan,
 * against ota-emulator: after a gate abort every chunk has exactly one
 * row, those never created `not_sent` WaveAborted (no emulator job holds
 * their devices, none is in the failed file, the next step is no blind
 * rerun) and resume --force rewrites them to created; a timeout pause
 * gives WavePaused rows that a resume rewrites; while a wave waits for
 * its gate the report already holds WaveNotStarted rows for the later
 * waves (and so it stays after a Ctrl-C); scheduled waves beyond the
 * 7-day horizon are Deferred. A wave whose job has no task (every device
 * already on the target version) passes its gate as decided, with the
 * reason. The codes' rules are unit-tested (test_planrows). */
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
#include <sys/wait.h>
#include <unistd.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"
#define NDEV 1000 /* 5 chunks of 200 */

/* Runs `run` of c with --poll-interval 1s and `extra`; fails unless it
 * exits want_exit. */
static void run_waves(struct e2e_fleet *c, struct h_run *r,
                      const char *const *extra, int want_exit)
{
    const char *argv[E2E_MAX_ARGS], *with[E2E_MAX_ARGS] = {"--poll-interval",
                                                           "1s"};
    size_t n = 2, i = 0;

    for (i = 0; extra && extra[i] && n + 1 < E2E_MAX_ARGS; i++)
        with[n++] = extra[i];
    with[n] = NULL;
    e2e_run_expect(r, e2e_fleet_argv(argv, c, FW, with), NULL, 0, 120,
                   want_exit);
}

/* The report of c: exactly one row per chunk 1..nchunks, in order; rows
 * first..last (1-based) are not_sent with `code`, the others created.
 * Returns the rows (new reference). */
static json_t *check_rows(const struct e2e_fleet *c, size_t nchunks,
                          size_t first, size_t last, const char *code)
{
    json_t *rows = h_read_csv(c->report);
    json_t *row = NULL;
    size_t i = 0;

    assert_int_equal(json_array_size(rows), nchunks);
    json_array_foreach(rows, i, row) {
        bool waiting = i + 1 >= first && i + 1 <= last;

        assert_int_equal(strtoul(e2e_str(row, "chunk"), NULL, 10), i + 1);
        if (!waiting) {
            assert_string_equal(e2e_str(row, "status"), "created");
            continue;
        }
        assert_string_equal(e2e_str(row, "status"), "not_sent");
        assert_string_equal(e2e_str(row, "error_code"), code);
        assert_string_equal(e2e_str(row, "job_id"), "");
        assert_string_equal(e2e_str(row, "device_count"), "200");
        assert_true(strlen(e2e_str(row, "error_message")) > 0);
    }
    return rows;
}

/* No emulator job holds a device of the not_sent rows of `rows`, and the
 * created rows are exactly the emulator's jobs. */
static void check_against_jobs(const struct e2e_fleet *c, json_t *rows)
{
    json_t *jobs = h_emu_get(&c->emu, "/__emu/jobs");
    json_t *row = NULL, *job = NULL, *d = NULL;
    size_t i = 0, j = 0, k = 0;

    e2e_assert_report_matches_jobs(rows, jobs);
    json_array_foreach(rows, i, row) {
        char first[32];

        if (strcmp(e2e_str(row, "status"), "not_sent") != 0)
            continue;
        snprintf(first, sizeof(first), "%s", e2e_str(row, "first_device"));
        json_array_foreach(jobs, j, job) {
            json_array_foreach(json_object_get(job, "Devices"), k, d) {
                const char *s = json_string_value(d);
                const char *name = s && strchr(s, '/') ? strchr(s, '/') + 1
                                                       : s;

                if (name && strcmp(name, first) == 0)
                    fail_msg("chunk %s is not_sent but job %s holds %s",
                             e2e_str(row, "chunk"),
                             e2e_str(job, "JobId"), first);
            }
        }
    }
    json_decref(jobs);
}

/* The failed-devices file holds no device (header only). */
static void check_failed_empty(const struct e2e_fleet *c)
{
    json_t *failed = h_read_csv(c->failed);

    assert_int_equal(json_array_size(failed), 0);
    json_decref(failed);
}

/* `run --json`'s "waves" after the abort: wave 1 with its job, its
 * gate's verdict, counts and thresholds and its times; wave 2 not
 * created (WaveAborted), no gate. */
static void check_waves_json(json_t *doc)
{
    json_t *waves = json_object_get(doc, "waves");
    json_t *w1 = json_array_get(waves, 0), *w2 = json_array_get(waves, 1);
    json_t *g = json_object_get(w1, "gate");
    const struct e2e_int one[] = {{"wave", 1},     {"first_chunk", 1},
                                  {"last_chunk", 1}, {"devices", 200},
                                  {"jobs", 1},     {"created", 1},
                                  {"not_sent", 0}, {NULL, 0}};
    const struct e2e_int two[] = {{"wave", 2},       {"first_chunk", 2},
                                  {"last_chunk", 5}, {"chunks", 4},
                                  {"devices", 800},  {"jobs", 0},
                                  {"not_sent", 4},   {NULL, 0}};

    assert_int_equal(json_array_size(waves), 2);
    for (size_t i = 0; one[i].key; i++)
        assert_int_equal(torture_json_num(w1, NULL, one[i].key), one[i].want);
    for (size_t i = 0; two[i].key; i++)
        assert_int_equal(torture_json_num(w2, NULL, two[i].key), two[i].want);
    assert_string_equal(torture_json_str(g, NULL, "decision"), "fail");
    assert_int_equal(torture_json_num(g, NULL, "tasks"), 200);
    assert_int_equal(torture_json_num(g, NULL, "succeeded") +
                         torture_json_num(g, NULL, "failed") +
                         torture_json_num(g, NULL, "canceled") +
                         torture_json_num(g, NULL, "pending"),
                     200);
    assert_true(json_real_value(json_object_get(g, "failure_threshold")) ==
                0.2);
    assert_int_equal(torture_json_num(g, NULL, "min_decided"), 20);
    assert_true(torture_json_num(g, NULL, "time_ms") >=
                torture_json_num(w1, NULL, "started_ms"));
    assert_string_equal(torture_json_str(w1, NULL, "last_event"), "aborted");
    assert_string_equal(torture_json_str(w2, NULL, "not_sent_code"),
                        "WaveAborted");
    assert_true(json_is_null(json_object_get(w2, "gate")));
    assert_true(json_is_null(json_object_get(w2, "started_ms")));
}

static void gate_abort_report_covers_the_plan(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    json_t *rows = NULL, *doc = NULL;

    (void)state;
    e2e_fleet_start(&c, NDEV, PK,
                    E2E_ARGS("--auto-create", "--sim-speed", "4",
                             "--success-ratio", "0.3"));
    run_waves(&c, &r,
              E2E_ARGS("--waves", "200,all", "--failure-threshold", "20%",
                       "--min-decided", "20", "--json"),
              5);
    assert_int_equal(e2e_job_count(&c.emu), 1);
    rows = check_rows(&c, 5, 2, 5, "WaveAborted");
    check_against_jobs(&c, rows);
    json_decref(rows);
    /* Never in the failed file: a rerun would send the firmware that
     * failed its gate. Nor ambiguous: their outcome is known. */
    check_failed_empty(&c);
    rows = h_read_csv(c.ambiguous);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    /* The next step is no blind resume nor rerun. */
    assert_non_null(strstr(r.err, "next step: a wave's health gate aborted "
                                  "the rollout; 4 chunks were not created"));
    assert_null(strstr(r.err, "rerun:"));
    /* One account of the whole run: each wave's line and the total. */
    assert_non_null(strstr(r.err, "\nwaves:\n  wave 1/2 (canary): chunks "
                                  "1-1, 200 devices, 1 job: 1 created, 0 "
                                  "failed, 0 not sent; gate fail: "));
    assert_non_null(strstr(r.err, "  wave 2/2: chunks 2-5, 800 devices, 0 "
                                  "jobs: 0 created, 0 failed, 4 not sent "
                                  "(WaveAborted)\n"));
    assert_non_null(strstr(r.err, "total over 2 waves: 5 chunks, 1000 "
                                  "devices: 1 created, 0 failed, 4 not "
                                  "sent\n"));
    doc = e2e_parse_document(r.out);
    check_waves_json(doc);
    assert_string_equal(torture_json_str(doc, "next_step", "action"),
                        "review_abort");
    assert_non_null(strstr(torture_json_str(doc, "next_step", "command"),
                           "ota-rollout status "));
    json_decref(doc);
    h_run_free(&r);

    /* status accounts for every device of the plan, by code. */
    e2e_report_run(&r, &c, "status", NULL, 1);
    assert_non_null(strstr(r.out, "devices of the plan: 1000\n"));
    assert_non_null(strstr(r.out, "WaveAborted"));
    assert_non_null(strstr(r.out, "800 devices, 4 chunks (a gate aborted "
                                  "the rollout"));
    assert_null(strstr(r.out, "not sent yet"));
    h_run_free(&r);
    /* The same words in --json, beside the code. */
    e2e_report_run(&r, &c, "status", E2E_ARGS("--json"), 1);
    doc = e2e_parse_document(r.out);
    {
        json_t *w = e2e_find_where(
            json_object_get(json_object_get(doc, "plan"), "codes"), "code",
            "WaveAborted");

        assert_non_null(w);
        assert_int_equal(json_integer_value(json_object_get(w, "devices")),
                         800);
        assert_non_null(strstr(e2e_str(w, "explanation"),
                               "a gate aborted the rollout"));
    }
    json_decref(doc);
    h_run_free(&r);

    /* A refused resume leaves the rows as they were. */
    e2e_report_run(&r, &c, "resume", E2E_ARGS("--yes"), 5);
    h_run_free(&r);
    json_decref(check_rows(&c, 5, 2, 5, "WaveAborted"));

    /* resume --force creates them: the rows are rewritten, one each. */
    e2e_report_run(&r, &c, "resume", E2E_ARGS("--yes", "--force"), 0);
    rows = check_rows(&c, 5, 0, 0, "");
    check_against_jobs(&c, rows);
    json_decref(rows);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

static void timeout_pause_rows_then_resume(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    json_t *rows = NULL;

    (void)state;
    e2e_fleet_start(&c, NDEV, PK,
                    E2E_ARGS("--auto-create", "--sim-speed", "1"));
    run_waves(&c, &r, E2E_ARGS("--waves", "200,all", "--wave-timeout", "2s"),
              6);
    rows = check_rows(&c, 5, 2, 5, "WavePaused");
    check_against_jobs(&c, rows);
    json_decref(rows);
    check_failed_empty(&c);
    assert_non_null(strstr(r.err, "next step: ota-rollout resume"));
    h_run_free(&r);
    e2e_report_run(&r, &c, "resume", E2E_ARGS("--yes", "--wave-timeout", "60s"),
                   0);
    rows = check_rows(&c, 5, 0, 0, "");
    check_against_jobs(&c, rows);
    json_decref(rows);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* While wave 1 is watched (tasks that never move: --sim-speed 0), the
 * report already has WaveNotStarted rows for the later waves; a Ctrl-C
 * leaves them so. */
static void waiting_for_gate_rows_are_wave_not_started(void **state)
{
    struct e2e_fleet c;
    const char *argv[E2E_MAX_ARGS];
    char errp[600];
    char *err = NULL;
    json_t *rows = NULL;
    pid_t pid = 0;

    (void)state;
    e2e_fleet_start(&c, NDEV, PK,
                    E2E_ARGS("--auto-create", "--sim-speed", "0"));
    snprintf(errp, sizeof(errp), "%s/tool.err", c.dir);
    pid = h_spawn(e2e_fleet_argv(argv, &c, FW,
                                 E2E_ARGS("--poll-interval", "1s", "--waves",
                                          "200,all")),
                  NULL, 0, c.dir, c.output, errp);
    err = e2e_await_text(errp, "wave 1/2: watching", pid, 60);
    if (strstr(err, "wave 1/2: watching") == NULL)
        fail_msg("the run did not watch wave 1: %s", err);
    free(err);
    rows = check_rows(&c, 5, 2, 5, "WaveNotStarted");
    json_decref(rows);
    assert_int_equal(e2e_interrupt(pid, 1), 4);
    rows = check_rows(&c, 5, 2, 5, "WaveNotStarted");
    check_against_jobs(&c, rows);
    json_decref(rows);
    check_failed_empty(&c);
    e2e_fleet_stop(&c);
}

/* Scheduled waves 200,400,all four days apart: wave 3 lies beyond the
 * 7-day horizon, its chunks are Deferred. */
static void scheduled_beyond_horizon_rows_are_deferred(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    int64_t t0 = (h_wall_ms() / 1000 + 3600) * 1000;
    char t0s[32];
    json_t *rows = NULL;

    (void)state;
    snprintf(t0s, sizeof(t0s), "%" PRId64, t0);
    e2e_fleet_start(&c, NDEV, PK, E2E_ARGS("--auto-create"));
    run_waves(&c, &r,
              E2E_ARGS("--waves", "200,400,all", "--schedule-time", t0s,
                       "--wave-interval", "4d"),
              6);
    rows = check_rows(&c, 5, 3, 5, "Deferred");
    check_against_jobs(&c, rows);
    json_decref(rows);
    check_failed_empty(&c);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* A world where the canary's 200 devices are already on the firmware's
 * version (its job is COMPLETED with no task) and the 200 others are not. */
static void write_on_version_fixture(const char *path)
{
    FILE *f = fopen(path, "w");
    size_t i = 0;

    assert_non_null(f);
    fputs("{\"products\":[{\"product_key\":\"" PK "\",\"devices\":[", f);
    for (i = 0; i < 400; i++)
        fprintf(f, "%s{\"name\":\"dev-%06zu\",\"version\":\"%s\"}",
                i ? "," : "", i, i < 200 ? "2.0.0" : "1.0.0");
    fputs("]}],\"firmware\":[{\"id\":\"" FW "\",\"product_key\":\"" PK
          "\",\"dest_version\":\"2.0.0\",\"status\":1,\"name\":\"fw\"}]}\n",
          f);
    fclose(f);
}

static void zero_task_wave_passes_as_decided(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    char fixture[600];
    json_t *gates = NULL, *g = NULL;

    (void)state;
    e2e_fleet_init(&c, 400, PK);
    snprintf(fixture, sizeof(fixture), "%s/world.json", c.dir);
    write_on_version_fixture(fixture);
    h_emu_start(&c.emu, E2E_ARGS("--fixture", fixture, "--sim-speed", "20"));
    run_waves(&c, &r,
              E2E_ARGS("--waves", "200,all", "--success-threshold", "95%",
                       "--wave-timeout", "20s", "--wait"),
              0);
    assert_non_null(strstr(r.err, "no task to judge: the API made no task "
                                  "for any of the wave's 200 devices"));
    /* wave 1's gate never waits on its devices (wave 2's first poll may
     * well see its tasks still pending) */
    assert_null(strstr(r.err, "wave 1/2: 0 of 200 SUCCEEDED"));
    assert_null(strstr(r.err, "not decided within"));
    /* the run's account ends with where its credentials came from */
    assert_non_null(strstr(r.err, "not sent\ncredentials: environment\n"));
    gates = e2e_wave_records(c.report, "gate");
    assert_int_equal(json_array_size(gates), 2);
    g = json_array_get(gates, 0);
    assert_string_equal(torture_json_str(g, NULL, "decision"), "pass");
    assert_int_equal(torture_json_num(g, NULL, "no_task"), 200);
    assert_int_equal(torture_json_num(g, NULL, "tasks"), 0);
    g = json_array_get(gates, 1);
    assert_string_equal(torture_json_str(g, NULL, "decision"), "pass");
    assert_int_equal(torture_json_num(g, NULL, "succeeded"), 200);
    assert_int_equal(e2e_job_count(&c.emu), 2);
    assert_non_null(strstr(r.err, "total over 2 waves: 2 chunks, 400 devices: "
                                  "2 created, 0 failed, 0 not sent\n"));
    json_decref(gates);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

E2E_MAIN(cmocka_unit_test(gate_abort_report_covers_the_plan),
         cmocka_unit_test(timeout_pause_rows_then_resume),
         cmocka_unit_test(waiting_for_gate_rows_are_wave_not_started),
         cmocka_unit_test(scheduled_beyond_horizon_rows_are_deferred),
         cmocka_unit_test(zero_task_wave_passes_as_decided))
