/* test_e2e_exactly_once.c - issue 4's proof: every device in exactly one
 * job under network faults, after kill -9 at many points of a run, and the
 * resume refusals. The real binaries over loopback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
};

static void ctx_start(struct ctx *c, size_t devices, const char *const *emu)
{
    memset(c, 0, sizeof(*c));
    c->dir = h_tmpdir();
    snprintf(c->inv, sizeof(c->inv), "%s/fleet.csv", c->dir);
    snprintf(c->report, sizeof(c->report), "%s/fleet.report.csv", c->dir);
    snprintf(c->journal, sizeof(c->journal), "%s.journal", c->report);
    snprintf(c->failed, sizeof(c->failed), "%s.failed.csv", c->report);
    h_write_inventory(c->inv, devices, PK);
    h_emu_start(&c->emu, emu);
}

static void ctx_stop(struct ctx *c)
{
    h_emu_stop(&c->emu);
    free(c->dir);
}

static size_t count_status(json_t *rows, const char *status)
{
    size_t i = 0, n = 0;
    json_t *r = NULL;

    json_array_foreach(rows, i, r) {
        const char *s = json_string_value(json_object_get(r, "status"));

        if (s && strcmp(s, status) == 0)
            n++;
    }
    return n;
}

/* No task anywhere FAILED (the emulator fails a task whose device already
 * has a job: a second job for a device would show up here), and the
 * emulator saw no device assigned twice. */
static void assert_no_double_assignment(const struct emu_proc *e)
{
    json_t *jobs = h_emu_get(e, "/__emu/jobs");
    json_t *stats = h_emu_get(e, "/__emu/stats");
    json_t *job = NULL, *st = NULL;
    const char *dev = NULL;
    size_t i = 0;

    assert_int_equal(json_array_size(json_object_get(stats, "double_assigned")),
                     0);
    json_array_foreach(jobs, i, job) {
        json_object_foreach(json_object_get(job, "Tasks"), dev, st) {
            const char *s = json_string_value(st);

            if (s && strcmp(s, "FAILED") == 0)
                fail_msg("job %s: task of %s FAILED",
                         json_string_value(json_object_get(job, "JobId")),
                         dev);
        }
    }
    json_decref(jobs);
    json_decref(stats);
}

/* The whole exactly-once property: every device in one job, report rows
 * = chunks, all created with the emulator's JobIds, failed file empty. */
static void assert_complete(const struct ctx *c, size_t devices, size_t chunks)
{
    json_t *jobs = h_emu_get(&c->emu, "/__emu/jobs");
    json_t *rows = h_read_csv(c->report);
    json_t *failed = h_read_csv(c->failed);

    assert_non_null(rows);
    assert_int_equal(json_array_size(jobs), chunks);
    e2e_assert_each_device_once(jobs, devices);
    assert_int_equal(json_array_size(rows), chunks);
    assert_int_equal(count_status(rows, "created"), chunks);
    e2e_assert_report_matches_jobs(rows, jobs);
    assert_non_null(failed);
    assert_int_equal(json_array_size(failed), 0);
    assert_no_double_assignment(&c->emu);
    json_decref(jobs);
    json_decref(rows);
    json_decref(failed);
}

static void assert_mode_0600(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0)
        fail_msg("%s: missing", path);
    if ((st.st_mode & 0777) != 0600)
        fail_msg("%s: mode %o, not 0600", path, st.st_mode & 0777);
}

/* Every Create whose answer the emulator lost after making the job (its
 * log: "fault":"lose" with a JobId) is in the report as that job's chunk:
 * created, with the emulator's JobId and the note that it was recovered
 * by reconciliation. Returns how many there were. */
static size_t assert_lost_answers_recovered(const struct ctx *c)
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

/* 20,000 devices under 5% 5xx, 2% resets, 2% lost responses (the job IS
 * created, the answer never comes), a latency spread and throttling
 * bursts. To stay well under a minute, the tool runs at --qps 100
 * --force-qps against an emulator whose Create quota is 100/s: the
 * property under test (no device in two jobs, the report's JobIds are the
 * emulator's jobs) does not depend on the pace. */
static void faults_20k_every_device_once(void **state)
{
    struct ctx c;
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
    json_t *stats = NULL, *faults = NULL;

    (void)state;
    ctx_start(&c, 20000, emu);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--yes", "--report", c.report,
                          "--qps", "100", "--force-qps", "--max-attempts",
                          "30", NULL};
    h_run(&r, argv, NULL, 0, 240);
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
    stats = h_emu_get(&c.emu, "/__emu/stats");
    faults = json_object_get(stats, "faults");
    /* The faults really happened, including lost answers to commits. */
    assert_true(json_integer_value(json_object_get(faults, "5xx")) > 0);
    assert_true(json_integer_value(json_object_get(faults, "reset")) > 0);
    assert_true(json_integer_value(json_object_get(faults, "lose")) > 0);
    assert_complete(&c, 20000, 100);
    assert_true(assert_lost_answers_recovered(&c) > 0);
    assert_mode_0600(c.report);
    assert_mode_0600(c.journal);
    assert_mode_0600(c.failed);
    h_assert_no_secret(c.dir, H_SECRET, (const char *[]){r.out, r.err, NULL});
    json_decref(stats);
    h_run_free(&r);
    ctx_stop(&c);
}

/* Starts ota-rollout (argv without argv[0]) with the test credentials and
 * extra env ("NAME=VALUE" or NULL); returns its pid. */
static pid_t spawn_tool(const char *const *argv, const char *env,
                        const char *dir)
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
        char path[600];
        int in = open("/dev/null", O_RDONLY);
        int out = -1;

        snprintf(path, sizeof(path), "%s/tool-output.txt", dir);
        out = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        setsid();
        setenv("HOME", dir, 1);
        unsetenv("ALIBABA_CLOUD_SECURITY_TOKEN");
        unsetenv("ALIBABA_CLOUD_PROFILE");
        setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", H_KEY_ID, 1);
        setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", H_SECRET, 1);
        if (env)
            putenv((char *)env);
        execv(ORCH_BIN, (char *const *)args);
        _exit(127);
    }
    return pid;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Waits up to limit_ms; kills with SIGKILL at kill_ms (<0: never).
 * Returns the exit code, or -1 when killed. */
static int wait_or_kill(pid_t pid, long kill_ms, long limit_ms)
{
    long waited = 0;
    int st = 0;

    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);

        if (w == pid)
            break;
        if ((kill_ms >= 0 && waited >= kill_ms) || waited >= limit_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        sleep_ms(5);
        waited += 5;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
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
    struct ctx c;
    const char *emu[] = {"--auto-create", "--qps-scale", "20",
                         "--latency-ms", "20-150", "--seed", "5", NULL};
    unsigned seed = 20240611u;
    int kills = 0, finished = 0, i = 0;
    int code = 0;
    char env[64];

    (void)state;
    ctx_start(&c, 10000, emu);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--yes", "--report", c.report,
                          "--chunk-size", "50", "--qps", "50",
                          "--force-qps", "--max-in-flight", "8",
                          "--max-attempts", "20", "--resume",
                          /* a resume waits a request timeout for the
                           * killed run's calls to settle: keep it short */
                          "--request-timeout", "2s", NULL};

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
        pid = spawn_tool(argv, e, c.dir);
        code = wait_or_kill(pid, at, 60000);
        if (code == -1) {
            kills++;
            (void)before;
        } else {
            /* The run got to its end before the kill. */
            if (code != 0) {
                char *out = NULL;
                char p[600];

                snprintf(p, sizeof(p), "%s/tool-output.txt", c.dir);
                out = h_slurp(p, NULL);
                fail_msg("resume %d exit %d: %s", i, code, out ? out : "");
            }
            finished = 1;
        }
    }
    if (!finished) {
        pid_t pid = spawn_tool(argv, NULL, c.dir);

        code = wait_or_kill(pid, -1, 120000);
        assert_int_equal(code, 0);
    }
    print_message("kill -9 landed %d times before the run finished\n", kills);
    assert_true(kills >= 20);
    assert_complete(&c, 10000, 200);
    ctx_stop(&c);
}

static int run_tool(struct h_run *r, const char *const *argv)
{
    h_run(r, argv, NULL, 0, 60);
    print_message("exit %d\n%s", r->exit_code, r->err);
    return r->exit_code;
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
static void report_without_journal_is_kept(struct ctx *c)
{
    struct h_run r;
    char *old_report = h_slurp(c->report, NULL);
    char *old_failed = h_slurp(c->failed, NULL);
    char *kept = NULL;
    const char *plain[] = {"run", c->inv, "--firmware-id", FW, "--endpoint",
                           c->emu.endpoint, "--yes", "--report", c->report,
                           NULL};
    const char *force[] = {"run", c->inv, "--firmware-id", FW, "--endpoint",
                           c->emu.endpoint, "--yes", "--report", c->report,
                           "--force", NULL};

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
    struct ctx c;
    struct h_run r;
    const char *emu[] = {"--auto-create", NULL};
    char env[] = "OTA_ROLLOUT_TEST_ABORT_AFTER_RECORDS=2";
    json_t *log = NULL;
    size_t calls = 0;
    off_t journal = 0;
    pid_t pid = 0;

    ctx_start(&c, 2000, emu);
    const char *base[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--yes", "--report", c.report,
                          "--chunk-size", "100", "--waves", "10%,all",
                          NULL};
    const char *other[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                           c.emu.endpoint, "--yes", "--report", c.report,
                           "--chunk-size", "100", "--waves", "50%,all",
                           "--resume", NULL};
    const char *none[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--yes", "--report", c.report,
                          "--chunk-size", "100", "--resume", NULL};

    pid = spawn_tool(base, env, c.dir);
    assert_int_equal(wait_or_kill(pid, -1, 60000), -1);
    journal = file_size(c.journal);
    assert_true(journal > 0);
    log = h_read_jsonl(c.emu.log_path);
    calls = json_array_size(log);
    json_decref(log);

    assert_int_equal(run_tool(&r, other), 2);
    assert_non_null(strstr(r.err, "resume refused"));
    assert_non_null(strstr(r.err, "--waves was \"10%,all\", now \"50%,all\""));
    h_run_free(&r);
    assert_int_equal(run_tool(&r, none), 2);
    assert_non_null(strstr(r.err, "--waves was \"10%,all\", now (not set)"));
    h_run_free(&r);
    /* Refusals send nothing and leave the journal as it was. */
    log = h_read_jsonl(c.emu.log_path);
    assert_int_equal(json_array_size(log), calls);
    json_decref(log);
    assert_int_equal(file_size(c.journal), journal);
    ctx_stop(&c);
}

/* Resume refusals: changed inventory, changed --chunk-size, changed
 * --waves; --force starts anew keeping the old files (with or without a
 * journal); --resume without a journal starts afresh; a plain run over an
 * unfinished or a finished journal refuses. */
static void resume_refusals(void **state)
{
    struct ctx c;
    struct h_run r;
    const char *emu[] = {"--auto-create", NULL};
    char env[] = "OTA_ROLLOUT_TEST_ABORT_AFTER_RECORDS=4";
    char *saved = NULL;
    size_t saved_len = 0;
    FILE *fp = NULL;
    json_t *rows = NULL;
    pid_t pid = 0;

    (void)state;
    ctx_start(&c, 2000, emu);
    const char *base[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--yes", "--report", c.report,
                          "--chunk-size", "100", NULL};
    const char *resume[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                            c.emu.endpoint, "--yes", "--report", c.report,
                            "--chunk-size", "100", "--resume", NULL};
    const char *resume50[] = {"run", c.inv, "--firmware-id", FW,
                              "--endpoint", c.emu.endpoint, "--yes",
                              "--report", c.report, "--chunk-size", "50",
                              "--resume", NULL};
    const char *force50[] = {"run", c.inv, "--firmware-id", FW,
                             "--endpoint", c.emu.endpoint, "--yes",
                             "--report", c.report, "--chunk-size", "50",
                             "--resume", "--force", NULL};
    const char *by_report[] = {"resume", c.report, "--yes", NULL};

    /* An unfinished run: killed after its 4th journal record. */
    pid = spawn_tool(base, env, c.dir);
    assert_int_equal(wait_or_kill(pid, -1, 60000), -1);
    assert_true(file_size(c.journal) > 0);

    /* A plain run over it refuses and points to --resume. */
    assert_int_equal(run_tool(&r, base), 2);
    assert_non_null(strstr(r.err, "--resume"));
    h_run_free(&r);

    /* Changed inventory: refused, naming the change. */
    saved = h_slurp(c.inv, &saved_len);
    fp = fopen(c.inv, "a");
    fputs("dev-999999," PK "\n", fp);
    fclose(fp);
    assert_int_equal(run_tool(&r, resume), 2);
    assert_non_null(strstr(r.err, "inventory's content changed"));
    h_run_free(&r);
    fp = fopen(c.inv, "w");
    fwrite(saved, 1, saved_len, fp);
    fclose(fp);
    free(saved);

    /* Changed --chunk-size: refused, naming it. */
    assert_int_equal(run_tool(&r, resume50), 2);
    assert_non_null(strstr(r.err, "--chunk-size was 100, now 50"));
    h_run_free(&r);

    /* `resume REPORT` continues with the journal's options. */
    assert_int_equal(run_tool(&r, by_report), 0);
    assert_non_null(strstr(r.err, "resuming run"));
    h_run_free(&r);
    assert_complete(&c, 2000, 20);
    assert_mode_0600(c.report);
    assert_mode_0600(c.journal);
    assert_mode_0600(c.failed);

    /* Finished: a plain run refuses (it would duplicate every job)... */
    assert_int_equal(run_tool(&r, base), 2);
    assert_non_null(strstr(r.err, "already finished"));
    h_run_free(&r);
    /* ...and a resume has nothing to send. */
    assert_int_equal(run_tool(&r, resume), 0);
    assert_non_null(strstr(r.err, "nothing to send"));
    h_run_free(&r);
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
    ctx_stop(&c);

    /* --resume where no journal exists: starts afresh and says so. */
    ctx_start(&c, 300, emu);
    const char *fresh[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                           c.emu.endpoint, "--yes", "--report", c.report,
                           "--resume", NULL};
    assert_int_equal(run_tool(&r, fresh), 0);
    assert_non_null(strstr(r.err, "starting the run afresh"));
    h_run_free(&r);
    assert_complete(&c, 300, 2);
    report_without_journal_is_kept(&c);
    ctx_stop(&c);

    waves_change_refused();
}

/* POSTs `form` to the emulator's /__emu/faults (fault settings changed
 * while it runs); asserts 200. */
static void emu_set_faults(const struct emu_proc *e, const char *form)
{
    CURL *h = curl_easy_init();
    char url[128];
    long status = 0;
    FILE *sink = fopen("/dev/null", "w");

    assert_non_null(h);
    assert_non_null(sink);
    snprintf(url, sizeof(url), "%s/__emu/faults", e->endpoint);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 200);
    curl_easy_cleanup(h);
    fclose(sink);
}

/* Issue 4's undecidable case end to end: every Create's answer is lost
 * (the jobs ARE made) and the queries that would find them fail, so each
 * chunk ends failed/Ambiguous with its devices in <report>.failed.csv and
 * is never resent; then, the queries working again, --resume asks again,
 * adopts each job (created, recovered) and creates nothing twice. */
static void ambiguous_chunks_kept_then_adopted_on_resume(void **state)
{
    struct ctx c;
    struct h_run r;
    const char *emu[] = {"--auto-create",
                         "--fault-actions", "CreateOTAStaticUpgradeJob",
                         "--lose-response", "1",
                         "--fail-queries", "1",
                         "--seed", "11",
                         NULL};
    json_t *rows = NULL, *failed = NULL, *jobs = NULL, *log = NULL;
    json_t *row = NULL;
    size_t i = 0, creates = 0;

    (void)state;
    ctx_start(&c, 300, emu);
    /* --skip-preflight: QueryOTAFirmware is a query, and it fails too. */
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--yes", "--report", c.report,
                          "--skip-preflight", "--request-timeout", "2s",
                          NULL};
    h_run(&r, argv, NULL, 0, 120);
    if (r.exit_code != 1)
        fail_msg("exit %d (expected 1): %s", r.exit_code, r.err);
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
    failed = h_read_csv(c.failed);
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

    emu_set_faults(&c.emu, "fail-queries=0&lose-response=0");
    const char *again[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                           c.emu.endpoint, "--yes", "--report", c.report,
                           "--resume", "--request-timeout", "2s", NULL};
    h_run(&r, again, NULL, 0, 120);
    if (r.exit_code != 0)
        fail_msg("resume: exit %d: %s", r.exit_code, r.err);
    assert_complete(&c, 300, 2);
    assert_int_equal(assert_lost_answers_recovered(&c), 2);
    log = h_read_jsonl(c.emu.log_path);
    assert_int_equal(e2e_count(log, "CreateOTAStaticUpgradeJob", 0), 2);
    json_decref(log);
    h_assert_no_secret(c.dir, H_SECRET, (const char *[]){r.out, r.err, NULL});
    h_run_free(&r);
    ctx_stop(&c);
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
    struct ctx c;
    const char *emu[] = {"--auto-create", "--lose-response", "0.2",
                         "--seed", "9", NULL};
    char env[] = "OTA_ROLLOUT_TEST_ABORT_AFTER_RECORDS=8";
    char log[700], cmd[2400];
    char *out = NULL;
    pid_t pid = 0;
    int rc = 0;

    (void)state;
#ifdef ORCH_ASAN
    skip();
#endif
    if (system("valgrind --version >/dev/null 2>&1") != 0) {
        print_message("valgrind not installed: skipped (tests/install-deps.sh "
                      "installs it)\n");
        skip();
    }
    ctx_start(&c, 1000, emu);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--yes", "--report", c.report,
                          "--chunk-size", "50", NULL};
    pid = spawn_tool(argv, env, c.dir);
    assert_int_equal(wait_or_kill(pid, -1, 60000), -1);
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
    assert_complete(&c, 1000, 20);
    ctx_stop(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resume_refusals),
        cmocka_unit_test(faults_20k_every_device_once),
        cmocka_unit_test(kill9_at_random_points_then_resume),
        cmocka_unit_test(valgrind_resume_no_leaks),
        cmocka_unit_test(ambiguous_chunks_kept_then_adopted_on_resume),
    };

    signal(SIGPIPE, SIG_IGN);
    /* E2E_FILTER=NAME runs one test (cmocka's pattern, * and ?). */
    if (getenv("E2E_FILTER"))
        cmocka_set_test_filter(getenv("E2E_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
