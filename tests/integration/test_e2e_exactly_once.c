/* test_e2e_exactly_once.c - the proof: every device in exactly one
 * job under network faults, after kill -9 at many points of a run, and the
 * resume refusals. The real binaries over loopback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"

/* Every Create whose answer the emulator lost after making the job (its
 * log: "fault":"lose" with a JobId) is in the report as that job's chunk:
 * created, with the emulator's JobId and the note that it was recovered
 * by reconciliation. Returns how many there were. */
static size_t assert_lost_answers_recovered(const struct e2e_fleet *c)
{
    json_t *log = h_read_jsonl(c->emu.log_path);
    json_t *rows = h_read_csv(c->report);
    json_t *e = NULL, *row = NULL;
    size_t i = 0, j = 0, lost = 0;

    assert_non_null(log);
    assert_non_null(rows);
    json_array_foreach(log, i, e) {
        const char *fault = json_string_value(json_object_get(e, "fault"));
        const char *action = json_string_value(json_object_get(e, "action"));
        const char *job = json_string_value(json_object_get(e, "job_id"));
        bool found = false;

        if (fault == NULL || strcmp(fault, "lose") != 0 || action == NULL ||
            strcmp(action, "CreateOTAStaticUpgradeJob") != 0)
            continue;
        if (job == NULL || *job == '\0')
            fail_msg("a lost Create answer made no job: %s",
                     json_string_value(json_object_get(e, "code")));
        lost++;
        json_array_foreach(rows, j, row) {
            const char *id = json_string_value(json_object_get(row, "job_id"));
            const char *st = json_string_value(json_object_get(row, "status"));
            const char *msg =
                json_string_value(json_object_get(row, "error_message"));

            if (id == NULL || strcmp(id, job) != 0)
                continue;
            found = true;
            assert_string_equal(st, "created");
            if (msg == NULL || strncmp(msg, "recovered", 9) != 0)
                fail_msg("chunk %s (job %s, answer lost): no recovered note "
                         "(error_message \"%s\")",
                         json_string_value(json_object_get(row, "chunk")), job,
                         msg ? msg : "");
        }
        if (!found)
            fail_msg("job %s, whose answer was lost, is in no report row",
                     job);
    }
    json_decref(log);
    json_decref(rows);
    return lost;
}

/* The report, the journal and the failed-devices file are 0600. */
static void assert_files_0600(const struct e2e_fleet *c)
{
    e2e_assert_mode_0600(c->report);
    e2e_assert_mode_0600(c->journal);
    e2e_assert_mode_0600(c->failed);
}

/* 20,000 devices under 5% 5xx, 2% resets, 2% lost responses (the job IS
 * created, the answer never comes), a latency spread and throttling
 * bursts. To stay well under a minute, the tool runs at --qps 100
 * --force-qps against an emulator whose Create quota is 100/s: the
 * property under test (no device in two jobs, the report's JobIds are the
 * emulator's jobs) does not depend on the pace. */
static void faults_20k_every_device_once(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {"--auto-create",
                         "--fail-5xx", "0.05",
                         "--reset", "0.02",
                         "--lose-response", "0.02",
                         "--latency-dist", "mix:50=3,90=20,99=80,100=300",
                         "--throttle-burst", "random:0.05:300",
                         "--qps-create", "100",
                         "--seed", "42",
                         NULL};
    const char *argv[E2E_MAX_ARGS];
    json_t *stats = NULL, *faults = NULL;

    (void)state;
    e2e_fleet_start(&c, 20000, PK, emu);
    e2e_run_expect(&r,
                   e2e_fleet_argv(argv, &c, FW,
                                  E2E_ARGS("--qps", "100", "--force-qps",
                                           "--max-attempts", "30")),
                   NULL, 0, 240, 0);
    stats = h_emu_get(&c.emu, "/__emu/stats");
    faults = json_object_get(stats, "faults");
    /* The faults really happened, including lost answers to commits. */
    assert_true(json_integer_value(json_object_get(faults, "5xx")) > 0);
    assert_true(json_integer_value(json_object_get(faults, "reset")) > 0);
    assert_true(json_integer_value(json_object_get(faults, "lose")) > 0);
    e2e_assert_complete(&c, 20000, 100);
    assert_true(assert_lost_answers_recovered(&c) > 0);
    assert_files_0600(&c);
    e2e_assert_run_no_secret(c.dir, H_SECRET, &r);
    json_decref(stats);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* Starts ota-rollout (argv without argv[0]) in the background with the
 * test credentials and the extra env entry ("NAME=VALUE" or NULL), its
 * output appended to c->output; returns its pid. */
static pid_t spawn_tool(const struct e2e_fleet *c, const char *const *argv,
                        const char *env)
{
    const char *envv[] = {env, NULL};

    return h_spawn(argv, envv, 0, c->dir, c->output, NULL);
}

static off_t file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* kill -9 at 24 seeded random points of a run (and 6 deterministic ones
 * right after a journal sync, before its report rows: the test-only hook
 * OTA_ROLLOUT_TEST_ABORT_AFTER_RECORDS), `--resume --yes` each time, then
 * a last resume to the end: every device in exactly one job, one created
 * row per chunk, no failed devices. The emulator's latency keeps calls in
 * flight when the kills land; its quota is lifted so the tool can run at
 * 50 calls/s (a whole run takes about 4 s, so the kills spread over it). */
static void kill9_at_random_points_then_resume(void **state)
{
    struct e2e_fleet c;
    const char *emu[] = {"--auto-create", "--qps-scale", "20",
                         "--latency-ms", "20-150", "--seed", "5", NULL};
    unsigned seed = 20240611u;
    int kills = 0, finished = 0, i = 0;
    int code = 0;
    char env[64];
    const char *argv[E2E_MAX_ARGS];

    (void)state;
    e2e_fleet_start(&c, 10000, PK, emu);
    e2e_fleet_argv(argv, &c, FW,
                   E2E_ARGS("--chunk-size", "50", "--qps", "50", "--force-qps",
                            "--max-in-flight", "8", "--max-attempts", "20",
                            "--resume",
                            /* a resume waits a request timeout for the
                             * killed run's calls to settle: keep it
                             * short */
                            "--request-timeout", "2s"));

    for (i = 0; i < 30 && !finished; i++) {
        long at = -1;
        const char *e = NULL;
        pid_t pid = 0;
        off_t before = file_size(c.journal);

        if (i % 5 == 4) {
            /* Deterministic: right after the journal grew by a batch. */
            snprintf(env, sizeof(env),
                     "OTA_ROLLOUT_TEST_ABORT_AFTER_RECORDS=%d",
                     2 + (int)(rand_r(&seed) % 30));
            e = env;
        } else {
            at = 30 + (long)(rand_r(&seed) % 400);
        }
        pid = spawn_tool(&c, argv, e);
        code = h_wait(pid, at, 60000);
        if (code == -1) {
            kills++;
            (void)before;
        } else {
            /* The run got to its end before the kill. */
            if (code != 0) {
                char *out = h_slurp(c.output, NULL);

                fail_msg("resume %d exit %d: %s", i, code, out ? out : "");
            }
            finished = 1;
        }
    }
    if (!finished) {
        pid_t pid = spawn_tool(&c, argv, NULL);

        code = h_wait(pid, -1, 120000);
        assert_int_equal(code, 0);
    }
    print_message("kill -9 landed %d times before the run finished\n", kills);
    assert_true(kills >= 20);
    e2e_assert_complete(&c, 10000, 200);
    e2e_fleet_stop(&c);
}

/* Runs the tool (argv without argv[0]); prints and returns its exit code
 * (its output in r, for the caller to free). */
static int run_tool(struct h_run *r, const char *const *argv)
{
    h_run(r, argv, NULL, 0, 60);
    print_message("exit %d\n%s", r->exit_code, r->err);
    return r->exit_code;
}

/* run_tool(), asserting that it exits `code` and its stderr says `says`. */
static void expect_run(const char *const *argv, int code, const char *says)
{
    struct h_run r;

    assert_int_equal(run_tool(&r, argv), code);
    assert_non_null(strstr(r.err, says));
    h_run_free(&r);
}

/* The file kept as "<path>.<UTC timestamp>" (the only one), malloced;
 * fails the test when there is none. */
static char *kept_copy(const char *path)
{
    char cmd[1400];
    char line[1024];
    FILE *p = NULL;
    size_t n = 0;
    char *found = NULL;

    snprintf(cmd, sizeof(cmd), "ls -d %s.20*Z 2>/dev/null", path);
    p = popen(cmd, "r");
    assert_non_null(p);
    while (fgets(line, sizeof(line), p)) {
        line[strcspn(line, "\n")] = '\0';
        free(found);
        found = h_slurp(line, NULL);
        n++;
    }
    pclose(p);
    if (n != 1)
        fail_msg("%zu kept copies of %s, expected 1", n, path);
    return found;
}

/* A report whose journal is gone (deleted, or written by a tool that kept
 * none) is never overwritten either: a plain run refuses and says that
 * --force keeps the old files; --force starts anew and keeps the report
 * and failed files under "<name>.<UTC timestamp>", byte for byte. */
static void report_without_journal_is_kept(struct e2e_fleet *c)
{
    struct h_run r;
    char *old_report = h_slurp(c->report, NULL);
    char *old_failed = h_slurp(c->failed, NULL);
    char *kept = NULL;
    const char *plain[E2E_MAX_ARGS], *force[E2E_MAX_ARGS];

    e2e_fleet_argv(plain, c, FW, NULL);
    e2e_fleet_argv(force, c, FW, E2E_ARGS("--force"));

    assert_non_null(old_report);
    assert_non_null(old_failed);
    assert_int_equal(unlink(c->journal), 0);
    assert_int_equal(run_tool(&r, plain), 2);
    assert_non_null(strstr(r.err, "already exists"));
    assert_non_null(strstr(r.err, "--force"));
    assert_non_null(strstr(r.err, "kept under a new name"));
    h_run_free(&r);

    /* The devices are already in jobs: this run's tasks fail, which is
     * what --force accepts; the point is the old report survives. */
    assert_true(run_tool(&r, force) != 2);
    assert_non_null(strstr(r.err, "kept the earlier run's"));
    h_run_free(&r);
    kept = kept_copy(c->report);
    assert_string_equal(kept, old_report);
    free(kept);
    kept = kept_copy(c->failed);
    assert_string_equal(kept, old_failed);
    free(kept);
    free(old_report);
    free(old_failed);
}

/* A resume with another --waves spec (or none) is refused like another
 * --chunk-size: the waves decide which chunks go when, and the journal's
 * wave records number the old waves. Nothing is sent by a refusal. */
static void waves_change_refused(void)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {"--auto-create", NULL};
    char env[] = "OTA_ROLLOUT_TEST_ABORT_AFTER_RECORDS=2";
    size_t calls = 0;
    off_t journal = 0;
    pid_t pid = 0;

    const char *base[E2E_MAX_ARGS], *other[E2E_MAX_ARGS];
    const char *none[E2E_MAX_ARGS];

    e2e_fleet_start(&c, 2000, PK, emu);
    e2e_fleet_argv(base, &c, FW,
                   E2E_ARGS("--chunk-size", "100", "--waves", "10%,all"));
    e2e_fleet_argv(
        other, &c, FW,
        E2E_ARGS("--chunk-size", "100", "--waves", "50%,all", "--resume"));
    e2e_fleet_argv(none, &c, FW, E2E_ARGS("--chunk-size", "100", "--resume"));

    pid = spawn_tool(&c, base, env);
    assert_int_equal(h_wait(pid, -1, 60000), -1);
    journal = file_size(c.journal);
    assert_true(journal > 0);
    calls = e2e_log_count(&c.emu, NULL, 0);

    assert_int_equal(run_tool(&r, other), 2);
    assert_non_null(strstr(r.err, "resume refused"));
    assert_non_null(strstr(r.err, "--waves was \"10%,all\", now \"50%,all\""));
    h_run_free(&r);
    expect_run(none, 2, "--waves was \"10%,all\", now (not set)");
    /* Refusals send nothing and leave the journal as it was. */
    assert_int_equal(e2e_log_count(&c.emu, NULL, 0), calls);
    assert_int_equal(file_size(c.journal), journal);
    e2e_fleet_stop(&c);
}

/* Resume refusals: changed inventory, changed --chunk-size, changed
 * --waves; --force starts anew keeping the old files (with or without a
 * journal); --resume without a journal starts afresh; a plain run over an
 * unfinished or a finished journal refuses. */
static void resume_refusals(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {"--auto-create", NULL};
    char env[] = "OTA_ROLLOUT_TEST_ABORT_AFTER_RECORDS=4";
    char *saved = NULL;
    size_t saved_len = 0;
    FILE *fp = NULL;
    json_t *rows = NULL;
    pid_t pid = 0;
    const char *base[E2E_MAX_ARGS], *resume[E2E_MAX_ARGS];
    const char *resume50[E2E_MAX_ARGS], *force50[E2E_MAX_ARGS];
    const char *fresh[E2E_MAX_ARGS];

    (void)state;
    e2e_fleet_start(&c, 2000, PK, emu);
    e2e_fleet_argv(base, &c, FW, E2E_ARGS("--chunk-size", "100"));
    e2e_fleet_argv(resume, &c, FW, E2E_ARGS("--chunk-size", "100", "--resume"));
    e2e_fleet_argv(resume50, &c, FW,
                   E2E_ARGS("--chunk-size", "50", "--resume"));
    e2e_fleet_argv(force50, &c, FW,
                   E2E_ARGS("--chunk-size", "50", "--resume", "--force"));
    const char *by_report[] = {"resume", c.report, "--yes", NULL};

    /* An unfinished run: killed after its 4th journal record. */
    pid = spawn_tool(&c, base, env);
    assert_int_equal(h_wait(pid, -1, 60000), -1);
    assert_true(file_size(c.journal) > 0);

    /* A plain run over it refuses and points to --resume. */
    expect_run(base, 2, "--resume");

    /* Changed inventory: refused, naming the change. */
    saved = h_slurp(c.inv, &saved_len);
    fp = fopen(c.inv, "a");
    fputs("dev-999999," PK "\n", fp);
    fclose(fp);
    expect_run(resume, 2, "inventory's content changed");
    fp = fopen(c.inv, "w");
    fwrite(saved, 1, saved_len, fp);
    fclose(fp);
    free(saved);

    /* Changed --chunk-size: refused, naming it. */
    expect_run(resume50, 2, "--chunk-size was 100, now 50");

    /* `resume REPORT` continues with the journal's options. */
    expect_run(by_report, 0, "resuming run");
    e2e_assert_complete(&c, 2000, 20);
    assert_files_0600(&c);

    /* Finished: a plain run refuses (it would duplicate every job)... */
    expect_run(base, 2, "already finished");
    /* ...and a resume has nothing to send. */
    expect_run(resume, 0, "nothing to send");
    rows = h_read_csv(c.report);
    assert_int_equal(json_array_size(rows), 20);
    json_decref(rows);

    /* --force with a change: a new run, the old files kept. */
    /* Its calls fail or create jobs with failed tasks (the devices are
     * already in jobs): that is what --force accepts; not a refusal. */
    assert_true(run_tool(&r, force50) != 2);
    assert_non_null(strstr(r.err, "kept the earlier run's"));
    h_run_free(&r);
    {
        char cmd[1200];

        snprintf(cmd, sizeof(cmd),
                 "ls %s.journal.* %s.20* >/dev/null 2>&1", c.report, c.report);
        assert_int_equal(system(cmd), 0);
    }
    e2e_fleet_stop(&c);

    /* --resume where no journal exists: starts afresh and says so. */
    e2e_fleet_start(&c, 300, PK, emu);
    expect_run(e2e_fleet_argv(fresh, &c, FW, E2E_ARGS("--resume")), 0,
               "starting the run afresh");
    e2e_assert_complete(&c, 300, 2);
    report_without_journal_is_kept(&c);
    e2e_fleet_stop(&c);

    waves_change_refused();
}

/* The undecidable case end to end: every Create's answer is lost
 * (the jobs ARE made) and the queries that would find them fail, so each
 * chunk ends failed/Ambiguous with its devices in <report>.ambiguous.csv and
 * is never resent; then, the queries working again, --resume asks again,
 * adopts each job (created, recovered) and creates nothing twice. */
static void ambiguous_chunks_kept_then_adopted_on_resume(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    json_t *rows = NULL, *failed = NULL, *jobs = NULL, *log = NULL;
    json_t *row = NULL;
    size_t i = 0, creates = 0;

    (void)state;
    e2e_fleet_start(&c, 300, PK, E2E_ARGS(E2E_EMU_LOST_CREATES));
    /* --skip-preflight: QueryOTAFirmware is a query, and it fails too. */
    e2e_fleet_run(&r, &c, FW,
                  E2E_ARGS("--skip-preflight", "--request-timeout", "2s"), 1);
    h_run_free(&r);
    rows = h_read_csv(c.report);
    assert_int_equal(json_array_size(rows), 2);
    json_array_foreach(rows, i, row) {
        assert_string_equal(json_string_value(json_object_get(row, "status")),
                            "failed");
        assert_string_equal(
            json_string_value(json_object_get(row, "error_code")),
            "Ambiguous");
    }
    /* Their devices are not offered for a rerun. */
    failed = h_read_csv(c.failed);
    assert_int_equal(json_array_size(failed), 0);
    json_decref(failed);
    failed = h_read_csv(c.ambiguous);
    assert_int_equal(json_array_size(failed), 300);
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 2); /* made, answers lost */
    log = h_read_jsonl(c.emu.log_path);
    creates = e2e_count(log, "CreateOTAStaticUpgradeJob", 0);
    assert_int_equal(creates, 2); /* never resent */
    /* Reconciliation asked, and every query failed. */
    assert_true(e2e_count(log, "ListOTAJobByDevice", 0) > 0);
    assert_int_equal(e2e_count(log, "ListOTAJobByDevice", 1), 0);
    json_decref(log);
    json_decref(jobs);
    json_decref(failed);
    json_decref(rows);

    /* Fault settings changed while the emulator runs. */
    assert_int_equal(h_emu_send(&c.emu, "/__emu/faults",
                                "fail-queries=0&lose-response=0"),
                     200);
    e2e_fleet_run(&r, &c, FW, E2E_ARGS("--resume", "--request-timeout", "2s"),
                  0);
    e2e_assert_complete(&c, 300, 2);
    assert_int_equal(assert_lost_answers_recovered(&c), 2);
    log = h_read_jsonl(c.emu.log_path);
    assert_int_equal(e2e_count(log, "CreateOTAStaticUpgradeJob", 0), 2);
    json_decref(log);
    e2e_assert_run_no_secret(c.dir, H_SECRET, &r);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* Built with ASan the binary cannot run under valgrind. */
#if defined(__SANITIZE_ADDRESS__)
#define ORCH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ORCH_ASAN 1
#endif
#endif

/* One small rollout, killed after its 8th journal record, then resumed
 * under valgrind --leak-check=full: no leak and no memory error, on the
 * paths a resume takes (journal replay, reconciliation of lost answers,
 * report rewrite). Skipped without valgrind or in a sanitizer build. */
static void valgrind_resume_no_leaks(void **state)
{
    struct e2e_fleet c;
    const char *emu[] = {"--auto-create", "--lose-response", "0.2",
                         "--seed", "9", NULL};
    char env[] = "OTA_ROLLOUT_TEST_ABORT_AFTER_RECORDS=8";
    char log[700], cmd[2400];
    char *out = NULL;
    pid_t pid = 0;
    int rc = 0;
    const char *argv[E2E_MAX_ARGS];

    (void)state;
#ifdef ORCH_ASAN
    skip();
#endif
    if (system("valgrind --version >/dev/null 2>&1") != 0) {
        print_message("valgrind not installed: skipped (tests/install-deps.sh "
                      "installs it)\n");
        skip();
    }
    e2e_fleet_start(&c, 1000, PK, emu);
    pid = spawn_tool(
        &c, e2e_fleet_argv(argv, &c, FW, E2E_ARGS("--chunk-size", "50")), env);
    assert_int_equal(h_wait(pid, -1, 60000), -1);
    snprintf(log, sizeof(log), "%s/valgrind.txt", c.dir);
    snprintf(cmd, sizeof(cmd),
             "cd %s && HOME=%s ALIBABA_CLOUD_ACCESS_KEY_ID=%s "
             "ALIBABA_CLOUD_ACCESS_KEY_SECRET=%s valgrind --leak-check=full "
             "--errors-for-leak-kinds=definite,indirect --error-exitcode=99 "
             "--log-file=%s %s run %s --firmware-id %s --endpoint %s --yes "
             "--report %s --chunk-size 50 --resume </dev/null "
             ">/dev/null 2>&1",
             c.dir, c.dir, H_KEY_ID, H_SECRET, log, ORCH_BIN, c.inv, FW,
             c.emu.endpoint, c.report);
    rc = system(cmd);
    out = h_slurp(log, NULL);
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
        fail_msg("valgrind run: status %d\n%s", rc, out ? out : "");
    assert_non_null(strstr(out, "ERROR SUMMARY: 0 errors"));
    free(out);
    e2e_assert_complete(&c, 1000, 20);
    e2e_fleet_stop(&c);
}

E2E_MAIN(cmocka_unit_test(resume_refusals),
         cmocka_unit_test(faults_20k_every_device_once),
         cmocka_unit_test(kill9_at_random_points_then_resume),
         cmocka_unit_test(valgrind_resume_no_leaks),
         cmocka_unit_test(ambiguous_chunks_kept_then_adopted_on_resume))
