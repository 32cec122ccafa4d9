/* test_e2e_interrupt.c - Ctrl-C end to end (issue 2, "Ctrl-C"; issue 4,
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

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"

struct ctx {
    struct emu_proc emu;
    char *dir;
    char inv[512];
    char report[512];
    char journal[600];
    char failed[600];
    char output[600]; /* the spawned tool's stdout + stderr */
};

static void ctx_start(struct ctx *c, size_t devices, const char *const *emu)
{
    memset(c, 0, sizeof(*c));
    c->dir = h_tmpdir();
    snprintf(c->inv, sizeof(c->inv), "%s/fleet.csv", c->dir);
    snprintf(c->report, sizeof(c->report), "%s/fleet.report.csv", c->dir);
    snprintf(c->journal, sizeof(c->journal), "%s.journal", c->report);
    snprintf(c->failed, sizeof(c->failed), "%s.failed.csv", c->report);
    snprintf(c->output, sizeof(c->output), "%s/tool-output.txt", c->dir);
    h_write_inventory(c->inv, devices, PK);
    h_emu_start(&c->emu, emu);
}

static void ctx_stop(struct ctx *c)
{
    h_emu_stop(&c->emu);
    free(c->dir);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Starts ota-rollout (argv without argv[0]) in its own process group with
 * the test credentials, output to c->output; returns its pid. */
static pid_t spawn_tool(const struct ctx *c, const char *const *argv)
{
    const char *args[64];
    size_t n = 0;
    pid_t pid = 0;

    args[n++] = ORCH_BIN;
    for (size_t i = 0; argv[i] && n < 62; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(c->output, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        setsid();
        setenv("HOME", c->dir, 1);
        unsetenv("ALIBABA_CLOUD_SECURITY_TOKEN");
        unsetenv("ALIBABA_CLOUD_PROFILE");
        setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", H_KEY_ID, 1);
        setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", H_SECRET, 1);
        execv(ORCH_BIN, (char *const *)args);
        _exit(127);
    }
    return pid;
}

/* Waits up to limit_ms for pid; kills it after that. Returns its exit
 * code, or -1 when it had to be killed (or died of a signal). */
static int wait_exit(pid_t pid, long limit_ms)
{
    long waited = 0;
    int st = 0;

    for (;;) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            break;
        if (waited >= limit_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        sleep_ms(5);
        waited += 5;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Intent records in the journal: calls about to go out. */
static size_t count_intents(const char *journal)
{
    char *data = h_slurp(journal, NULL);
    const char *p = data;
    size_t n = 0;

    while (p && (p = strstr(p, "\"t\":\"intent\"")) != NULL) {
        n++;
        p++;
    }
    free(data);
    return n;
}

/* Waits until at least n calls have been announced in the journal. */
static void wait_for_intents(const struct ctx *c, pid_t pid, size_t n)
{
    long waited = 0;

    while (count_intents(c->journal) < n) {
        if (waited >= 30000 || waitpid(pid, NULL, WNOHANG) == pid) {
            char *out = h_slurp(c->output, NULL);

            fail_msg("no %zu calls in flight after %ld ms: %s", n, waited,
                     out ? out : "");
        }
        sleep_ms(2);
        waited += 2;
    }
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static size_t count_status(json_t *rows, const char *status)
{
    size_t i = 0, n = 0;
    json_t *r = NULL;

    json_array_foreach(rows, i, r) {
        if (strcmp(str(r, "status"), status) == 0)
            n++;
    }
    return n;
}

/* The interrupted run's files: one row per chunk; every chunk not created
 * is failed/Ambiguous (allowed only when `ambiguous_ok`) or
 * not_sent/Interrupted; the failed-devices file lists exactly their
 * devices with their codes; the created rows are the emulator's jobs (the
 * emulator may hold more: the jobs of aborted calls). Returns the rows. */
static json_t *assert_interrupted_outputs(const struct ctx *c, size_t chunks,
                                          int ambiguous_ok)
{
    json_t *rows = h_read_csv(c->report);
    json_t *failed = h_read_csv(c->failed);
    json_t *r = NULL, *f = NULL;
    size_t i = 0, j = 0, devices = 0;

    assert_non_null(rows);
    assert_non_null(failed);
    assert_int_equal(json_array_size(rows), chunks);
    json_array_foreach(rows, i, r) {
        const char *st = str(r, "status");
        const char *code = str(r, "error_code");
        char chunk[32];

        snprintf(chunk, sizeof(chunk), "%zu", i + 1);
        assert_string_equal(str(r, "chunk"), chunk);
        if (strcmp(st, "created") == 0) {
            assert_true(str(r, "job_id")[0] != '\0');
            continue;
        }
        if (strcmp(st, "not_sent") == 0)
            assert_string_equal(code, "Interrupted");
        else if (ambiguous_ok && strcmp(st, "failed") == 0)
            assert_string_equal(code, "Ambiguous");
        else
            fail_msg("chunk %zu: %s %s", i + 1, st, code);
        assert_string_equal(str(r, "job_id"), "");
        devices += strtoul(str(r, "device_count"), NULL, 10);
        /* Its devices, first to last, are in the failed file. */
        json_array_foreach(failed, j, f) {
            if (strcmp(str(f, "DeviceName"), str(r, "first_device")) == 0 ||
                strcmp(str(f, "DeviceName"), str(r, "last_device")) == 0) {
                assert_string_equal(str(f, "error_code"), code);
                assert_string_equal(str(f, "ProductKey"), PK);
            }
        }
    }
    assert_int_equal(json_array_size(failed), devices);
    json_decref(failed);
    return rows;
}

/* Every device in exactly one job, one created row per chunk with the
 * emulator's JobIds, an empty failed file, no FAILED task anywhere. */
static void assert_complete(const struct ctx *c, size_t devices, size_t chunks)
{
    json_t *jobs = h_emu_get(&c->emu, "/__emu/jobs");
    json_t *stats = h_emu_get(&c->emu, "/__emu/stats");
    json_t *rows = h_read_csv(c->report);
    json_t *failed = h_read_csv(c->failed);
    json_t *job = NULL, *st = NULL;
    const char *dev = NULL;
    size_t i = 0;

    assert_non_null(rows);
    assert_int_equal(json_array_size(jobs), chunks);
    e2e_assert_each_device_once(jobs, devices);
    assert_int_equal(json_array_size(rows), chunks);
    assert_int_equal(count_status(rows, "created"), chunks);
    e2e_assert_report_matches_jobs(rows, jobs);
    assert_non_null(failed);
    assert_int_equal(json_array_size(failed), 0);
    assert_int_equal(json_array_size(json_object_get(stats, "double_assigned")),
                     0);
    json_array_foreach(jobs, i, job) {
        json_object_foreach(json_object_get(job, "Tasks"), dev, st) {
            if (strcmp(json_string_value(st), "FAILED") == 0)
                fail_msg("job %s: task of %s FAILED", str(job, "JobId"), dev);
        }
    }
    json_decref(jobs);
    json_decref(stats);
    json_decref(rows);
    json_decref(failed);
}

/* One Ctrl-C while calls are in flight (300-600 ms each): no new call
 * starts, the ones in flight finish as created, the rest are not_sent /
 * Interrupted and listed in the failed file; exit 4. `--resume` then
 * sends exactly the rest: 50 Creates in all, every device once. */
static void ctrl_c_finishes_in_flight_then_resume(void **state)
{
    struct ctx c;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--latency-ms", "300-600",
                         "--seed", "11", NULL};
    json_t *rows = NULL, *jobs = NULL, *log = NULL;
    char *out = NULL;
    size_t created = 0, intents = 0;
    pid_t pid = 0;
    int code = 0;

    (void)state;
    ctx_start(&c, 10000, emu);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--yes", "--report", c.report,
                          "--request-timeout", "2s", NULL};
    /* A resume waits a request timeout for the calls of the interrupted
     * run to settle before it looks them up: 2 s keeps the test short. */
    const char *resume[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                            c.emu.endpoint, "--yes", "--report", c.report,
                            "--resume", "--request-timeout", "2s", NULL};

    pid = spawn_tool(&c, argv);
    wait_for_intents(&c, pid, 8);
    assert_int_equal(kill(pid, SIGINT), 0);
    code = wait_exit(pid, 30000);
    out = h_slurp(c.output, NULL);
    if (code != 4)
        fail_msg("exit %d, not 4: %s", code, out ? out : "");
    assert_non_null(strstr(out, "no new calls are started"));
    assert_non_null(strstr(out, "run aborted: interrupted"));

    rows = assert_interrupted_outputs(&c, 50, 0);
    created = count_status(rows, "created");
    intents = count_intents(c.journal);
    print_message("interrupted after %zu calls: %zu created, %zu not sent\n",
                  intents, created, count_status(rows, "not_sent"));
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

    h_run(&r, resume, NULL, 0, 120);
    if (r.exit_code != 0)
        fail_msg("resume: exit %d: %s", r.exit_code, r.err);
    assert_non_null(strstr(r.err, "resuming run"));
    assert_non_null(strstr(r.err, "0 interrupted"));
    h_run_free(&r);
    assert_complete(&c, 10000, 50);
    /* Exactly once: no chunk was sent twice. */
    log = h_read_jsonl(c.emu.log_path);
    assert_int_equal(e2e_count(log, "CreateOTAStaticUpgradeJob", 0), 50);
    json_decref(log);
    ctx_stop(&c);
}

/* Ctrl-C twice while calls are in flight (800-1200 ms each): the calls in
 * flight are aborted at once, those already sent reported failed /
 * Ambiguous (their jobs may exist: the emulator, like the API, still
 * creates them), the others not_sent; exit 4. `--resume` asks about the
 * Ambiguous chunks before any resend and adopts the jobs it finds (created,
 * recovered note, the emulator's JobId): every device in exactly one job. */
static void second_ctrl_c_aborts_then_resume_reconciles(void **state)
{
    struct ctx c;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--latency-ms", "800-1200",
                         "--seed", "12", NULL};
    json_t *rows = NULL, *jobs = NULL, *after = NULL, *job = NULL;
    char *out = NULL;
    size_t ambiguous = 0, created = 0, i = 0, adopted = 0;
    pid_t pid = 0;
    int code = 0;

    (void)state;
    ctx_start(&c, 4000, emu);
    /* The aborted calls are still being processed by the emulator (its
     * latency) when the resume starts right away: the resume must wait a
     * request timeout after the last send before looking them up, or it
     * would find nothing, resend, and a job made a moment later would hold
     * the same devices. 5 s: well above the emulator's latency. */
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--yes", "--report", c.report,
                          "--request-timeout", "5s", NULL};
    const char *resume[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                            c.emu.endpoint, "--yes", "--report", c.report,
                            "--resume", "--request-timeout", "5s", NULL};

    pid = spawn_tool(&c, argv);
    wait_for_intents(&c, pid, 5);
    assert_int_equal(kill(pid, SIGINT), 0);
    sleep_ms(50);
    assert_int_equal(kill(pid, SIGINT), 0);
    code = wait_exit(pid, 30000);
    out = h_slurp(c.output, NULL);
    if (code != 4)
        fail_msg("exit %d, not 4: %s", code, out ? out : "");
    assert_non_null(strstr(out, "aborting the calls in flight"));

    rows = assert_interrupted_outputs(&c, 20, 1);
    ambiguous = count_status(rows, "failed");
    created = count_status(rows, "created");
    print_message("aborted: %zu created, %zu ambiguous, %zu not sent\n",
                  created, ambiguous, count_status(rows, "not_sent"));
    /* The calls were still waiting for their answers: aborted, not
     * finished. */
    assert_true(ambiguous >= 1);
    json_array_foreach(rows, i, job) {
        if (strcmp(str(job, "status"), "failed") == 0)
            assert_non_null(strstr(str(job, "error_message"),
                                   "second interrupt"));
    }
    json_decref(rows);
    free(out);

    /* Resume at once: the emulator is still working on the aborted calls
     * (it creates their jobs after its latency). */
    h_run(&r, resume, NULL, 0, 120);
    if (r.exit_code != 0)
        fail_msg("resume: exit %d: %s", r.exit_code, r.err);
    assert_non_null(strstr(r.err, "resuming run"));
    assert_non_null(strstr(r.err, "to settle"));
    h_run_free(&r);
    assert_complete(&c, 4000, 20);

    /* Every job is its chunk's: those the interrupted run never heard of
     * were adopted, with the recovered note, none made twice. */
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    assert_true(json_array_size(jobs) > created);
    rows = h_read_csv(c.report);
    json_array_foreach(jobs, i, job) {
        const char *id = str(job, "JobId");
        size_t k = 0;
        json_t *row = NULL;
        int found = 0;

        json_array_foreach(rows, k, row) {
            if (strcmp(str(row, "job_id"), id) != 0)
                continue;
            found = 1;
            if (strncmp(str(row, "error_message"), "recovered", 9) == 0)
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
    ctx_stop(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ctrl_c_finishes_in_flight_then_resume),
        cmocka_unit_test(second_ctrl_c_aborts_then_resume_reconciles),
    };

    signal(SIGPIPE, SIG_IGN);
    /* E2E_FILTER=NAME runs one test (cmocka's pattern, * and ?). */
    if (getenv("E2E_FILTER"))
        cmocka_set_test_filter(getenv("E2E_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
