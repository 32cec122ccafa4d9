/* test_e2e_interrupt.c - Ctrl-C end to end (and
 * resume): SIGINT sent to the real ota-rollout mid-run against an emulator
 * whose latency keeps calls in flight. One Ctrl-C lets the calls in flight
 * finish and reports the rest not_sent; a second one aborts the calls in
 * flight (failed/Ambiguous once sent); either way exit 4, a report row for
 * every chunk, the failed-devices file, and a resume that completes with
 * every device in exactly one job. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"

/* The interrupted run's files: one row per chunk; every chunk not created
 * is failed/Ambiguous (allowed only when `ambiguous_ok`) or
 * not_sent/Interrupted; the failed-devices file lists exactly the
 * not_sent chunks' devices and the ambiguous file the Ambiguous ones'
 * (never offered for a rerun), with their codes; the created
 * rows are the emulator's jobs (the emulator may hold more: the jobs of
 * aborted calls). Returns the rows. */
static json_t *assert_interrupted_outputs(const struct e2e_fleet *c,
                                          size_t chunks, int ambiguous_ok)
{
    json_t *rows = h_read_csv(c->report);
    json_t *failed = h_read_csv(c->failed);
    json_t *amb = h_read_csv(c->ambiguous);
    json_t *r = NULL, *f = NULL;
    size_t i = 0, j = 0, devices = 0, amb_devices = 0;

    assert_non_null(rows);
    assert_non_null(failed);
    assert_non_null(amb);
    assert_int_equal(json_array_size(rows), chunks);
    json_array_foreach(rows, i, r) {
        const char *st = e2e_str(r, "status");
        const char *code = e2e_str(r, "error_code");
        char chunk[32];

        snprintf(chunk, sizeof(chunk), "%zu", i + 1);
        assert_string_equal(e2e_str(r, "chunk"), chunk);
        if (strcmp(st, "created") == 0) {
            assert_true(e2e_str(r, "job_id")[0] != '\0');
            continue;
        }
        if (strcmp(st, "not_sent") == 0)
            assert_string_equal(code, "Interrupted");
        else if (ambiguous_ok && strcmp(st, "failed") == 0)
            assert_string_equal(code, "Ambiguous");
        else
            fail_msg("chunk %zu: %s %s", i + 1, st, code);
        assert_string_equal(e2e_str(r, "job_id"), "");
        if (strcmp(st, "failed") == 0) {
            amb_devices += strtoul(e2e_str(r, "device_count"), NULL, 10);
            assert_non_null(
                e2e_find_where(amb, "DeviceName", e2e_str(r, "first_device")));
            assert_null(e2e_find_where(failed, "DeviceName",
                                       e2e_str(r, "first_device")));
            continue;
        }
        devices += strtoul(e2e_str(r, "device_count"), NULL, 10);
        /* Its devices, first to last, are in the failed file. */
        json_array_foreach(failed, j, f) {
            if (strcmp(e2e_str(f, "DeviceName"), e2e_str(r, "first_device")) ==
                    0 ||
                strcmp(e2e_str(f, "DeviceName"), e2e_str(r, "last_device")) ==
                    0) {
                assert_string_equal(e2e_str(f, "error_code"), code);
                assert_string_equal(e2e_str(f, "ProductKey"), PK);
            }
        }
    }
    assert_int_equal(json_array_size(failed), devices);
    assert_int_equal(json_array_size(amb), amb_devices);
    json_decref(amb);
    json_decref(failed);
    return rows;
}

/* Starts `run --request-timeout TIMEOUT` in the background, waits until
 * n calls are announced in its journal, sends it `times` SIGINTs 50 ms
 * apart and asserts that it exits 4. Returns what it wrote to stdout and
 * stderr (malloced). */
static char *run_interrupted(const struct e2e_fleet *c, const char *timeout,
                             size_t n, int times)
{
    const char *argv[E2E_MAX_ARGS];
    pid_t pid = h_spawn(
        e2e_fleet_argv(argv, c, FW, E2E_ARGS("--request-timeout", timeout)),
        NULL, 0, c->dir, c->output, NULL);
    char *out = NULL;
    int code = 0;

    e2e_await_intents(c, pid, n);
    code = e2e_interrupt(pid, times);
    out = h_slurp(c->output, NULL);
    if (code != 4)
        fail_msg("exit %d, not 4: %s", code, out ? out : "");
    return out;
}

/* `run --resume --request-timeout TIMEOUT`: exits 0, and its stderr says
 * "resuming run" and `says`. */
static void resume_run(const struct e2e_fleet *c, const char *timeout,
                       const char *says)
{
    struct h_run r;

    e2e_fleet_run(&r, c, FW, E2E_ARGS("--resume", "--request-timeout", timeout),
                  0);
    assert_non_null(strstr(r.err, "resuming run"));
    assert_non_null(strstr(r.err, says));
    h_run_free(&r);
}

/* One Ctrl-C while calls are in flight (300-600 ms each): no new call
 * starts, the ones in flight finish as created, the rest are not_sent /
 * Interrupted and listed in the failed file; exit 4. `--resume` then
 * sends exactly the rest: 50 Creates in all, every device once. */
static void ctrl_c_finishes_in_flight_then_resume(void **state)
{
    struct e2e_fleet c;
    const char *emu[] = {"--auto-create", "--latency-ms", "300-600",
                         "--seed", "11", NULL};
    json_t *rows = NULL, *jobs = NULL;
    char *out = NULL;
    size_t created = 0, intents = 0;

    (void)state;
    e2e_fleet_start(&c, 10000, PK, emu);
    /* A resume waits a request timeout for the calls of the interrupted
     * run to settle before it looks them up: 2 s keeps the test short. */
    out = run_interrupted(&c, "2s", 8, 1);
    assert_non_null(strstr(out, "no new calls are started"));
    assert_non_null(strstr(out, "run aborted: interrupted"));

    rows = assert_interrupted_outputs(&c, 50, 0);
    created = e2e_count_where(rows, "status", "created");
    intents = e2e_count_intents(c.journal);
    print_message("interrupted after %zu calls: %zu created, %zu not sent\n",
                  intents, created,
                  e2e_count_where(rows, "status", "not_sent"));
    /* Every call that had started finished and was created; the rest were
     * never sent. */
    assert_int_equal(created, intents);
    assert_true(created >= 8);
    assert_true(created < 50);
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), created);
    e2e_assert_report_matches_jobs(rows, jobs);
    json_decref(jobs);
    json_decref(rows);
    free(out);

    resume_run(&c, "2s", "0 interrupted");
    e2e_assert_complete(&c, 10000, 50);
    /* Exactly once: no chunk was sent twice. */
    assert_int_equal(e2e_log_count(&c.emu, "CreateOTAStaticUpgradeJob", 0),
                     50);
    e2e_fleet_stop(&c);
}

/* Ctrl-C twice while calls are in flight (800-1200 ms each): the calls in
 * flight are aborted at once, those already sent reported failed /
 * Ambiguous (their jobs may exist: the emulator, like the API, still
 * creates them), the others not_sent; exit 4. `--resume` asks about the
 * Ambiguous chunks before any resend and adopts the jobs it finds (created,
 * recovered note, the emulator's JobId): every device in exactly one job. */
static void second_ctrl_c_aborts_then_resume_reconciles(void **state)
{
    struct e2e_fleet c;
    const char *emu[] = {"--auto-create", "--latency-ms", "800-1200",
                         "--seed", "12", NULL};
    json_t *rows = NULL, *jobs = NULL, *after = NULL, *job = NULL;
    char *out = NULL;
    size_t ambiguous = 0, created = 0, i = 0, adopted = 0;

    (void)state;
    e2e_fleet_start(&c, 4000, PK, emu);
    /* The aborted calls are still being processed by the emulator (its
     * latency) when the resume starts right away: the resume must wait a
     * request timeout after the last send before looking them up, or it
     * would find nothing, resend, and a job made a moment later would hold
     * the same devices. 5 s: well above the emulator's latency. */
    out = run_interrupted(&c, "5s", 5, 2);
    assert_non_null(strstr(out, "aborting the calls in flight"));

    rows = assert_interrupted_outputs(&c, 20, 1);
    ambiguous = e2e_count_where(rows, "status", "failed");
    created = e2e_count_where(rows, "status", "created");
    print_message("aborted: %zu created, %zu ambiguous, %zu not sent\n",
                  created, ambiguous,
                  e2e_count_where(rows, "status", "not_sent"));
    /* The calls were still waiting for their answers: aborted, not
     * finished. */
    assert_true(ambiguous >= 1);
    json_array_foreach(rows, i, job) {
        if (strcmp(e2e_str(job, "status"), "failed") == 0)
            assert_non_null(
                strstr(e2e_str(job, "error_message"), "second interrupt"));
    }
    json_decref(rows);
    free(out);

    /* Resume at once: the emulator is still working on the aborted calls
     * (it creates their jobs after its latency). */
    resume_run(&c, "5s", "to settle");
    e2e_assert_complete(&c, 4000, 20);

    /* Every job is its chunk's: those the interrupted run never heard of
     * were adopted, with the recovered note, none made twice. */
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    assert_true(json_array_size(jobs) > created);
    rows = h_read_csv(c.report);
    json_array_foreach(jobs, i, job) {
        const char *id = e2e_str(job, "JobId");
        size_t k = 0;
        json_t *row = NULL;
        int found = 0;

        json_array_foreach(rows, k, row) {
            if (strcmp(e2e_str(row, "job_id"), id) != 0)
                continue;
            found = 1;
            if (strncmp(e2e_str(row, "error_message"), "recovered", 9) == 0)
                adopted++;
        }
        if (!found)
            fail_msg("job %s is in no report row", id);
    }
    assert_true(adopted >= 1);
    assert_true(adopted <= ambiguous);
    after = h_emu_get(&c.emu, "/__emu/jobs");
    print_message("resume adopted %zu jobs; %zu jobs in all\n", adopted,
                  json_array_size(after));
    json_decref(after);
    json_decref(jobs);
    json_decref(rows);
    e2e_fleet_stop(&c);
}

E2E_MAIN(cmocka_unit_test(ctrl_c_finishes_in_flight_then_resume),
         cmocka_unit_test(second_ctrl_c_aborts_then_resume_reconciles))
