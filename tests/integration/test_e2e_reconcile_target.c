/* test_e2e_reconcile_target.c - an unknown outcome of the one Create of a
 * `--target ALL` / `--target GRAY` run, which names no devices, is
 * reconciled by the job's tag in ListOTAJobByFirmware: a lost answer is
 * adopted (never resent), a Create that made nothing is sent again, and
 * the emulator ends with exactly one job. The real binaries over
 * loopback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CREATE "CreateOTAStaticUpgradeJob"
#define BY_FIRMWARE "ListOTAJobByFirmware"
/* One product: 6 devices on 1.0.0, 2 on 0.9.0; a verified firmware to
 * 2.0.0. */
#define PK "a1RecTgt001"
#define FW "FwReconcileTarget0000001"

struct ctx {
    struct emu_proc emu;
    char *dir;
    char fixture[512];
    char report[512];
};

static void write_fixture(const char *path)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs("{\"products\":[{\"product_key\":\"" PK "\",\"devices\":[", f);
    for (int i = 0; i < 8; i++)
        fprintf(f, "%s{\"name\":\"tgt-%04d\",\"version\":\"%s\"}",
                i ? "," : "", i, i < 6 ? "1.0.0" : "0.9.0");
    fputs("]}],\"firmware\":[{\"id\":\"" FW "\",\"product_key\":\"" PK
          "\",\"dest_version\":\"2.0.0\",\"status\":1,\"name\":\"fw-rt\"}]}\n",
          f);
    fclose(f);
}

/* A scratch directory with the fixture; the emulator started on it with
 * the extra arguments `faults` (NULL-terminated, may be NULL). */
static void ctx_start(struct ctx *c, const char *const *faults)
{
    const char *args[24] = {"--fixture", NULL};
    size_t n = 2;

    memset(c, 0, sizeof(*c));
    c->dir = h_tmpdir();
    snprintf(c->fixture, sizeof(c->fixture), "%s/world.json", c->dir);
    snprintf(c->report, sizeof(c->report), "%s/target.report.csv", c->dir);
    write_fixture(c->fixture);
    args[1] = c->fixture;
    for (size_t i = 0; faults != NULL && faults[i] != NULL && n < 23; i++)
        args[n++] = faults[i];
    args[n] = NULL;
    h_emu_start(&c->emu, args);
}

static void ctx_stop(struct ctx *c)
{
    h_emu_stop(&c->emu);
    free(c->dir);
}

/* Runs `ota-rollout run` for the whole product with the target options
 * `target` (NULL-terminated) and more options `more` (may be NULL), the
 * report at `report`, env entries `env` (may be NULL). */
static void run_target(struct ctx *c, struct h_run *r, const char *report,
                       const char *const *target, const char *const *more,
                       const char *const *env)
{
    const char *argv[48] = {"run", "--endpoint", c->emu.endpoint, "--yes",
                            "--report", report, "--product-key", PK,
                            "--firmware-id", FW,
                            /* a resume waits this long first */
                            "--request-timeout", "2s"};
    size_t n = 12;

    for (size_t i = 0; target[i] != NULL && n < 47; i++)
        argv[n++] = target[i];
    for (size_t i = 0; more != NULL && more[i] != NULL && n < 47; i++)
        argv[n++] = more[i];
    argv[n] = NULL;
    h_run(r, argv, env, 0, 120);
}

/* run_target() with no extra env; fails the test unless the tool exits 0
 * (`what` names the run in the message). */
static void run_target_ok(struct ctx *c, struct h_run *r, const char *report,
                          const char *const *target, const char *const *more,
                          const char *what)
{
    run_target(c, r, report, target, more, NULL);
    if (r->exit_code != 0)
        fail_msg("%s: exit %d: %s", what, r->exit_code, r->err);
}

/* The request log shows the lookup by tag among the firmware's jobs (at
 * least `n` answered) and no lookup by device. */
static void assert_looked_up_by_firmware(json_t *log, size_t n)
{
    assert_true(e2e_count(log, BY_FIRMWARE, 1) >= n);
    assert_int_equal(e2e_count(log, "ListOTAJobByDevice", 0), 0);
}

static const char *const all_args[] = {"--target", "ALL", "--src-version",
                                       "1.0.0", NULL};
static const char *const gray_args[] = {"--target", "GRAY", "--gray-percent",
                                        "50", "--src-version", "1.0.0", NULL};

/* Log entries of `action` whose fault is `fault` (NULL: no fault). */
static size_t count_fault(json_t *log, const char *action, const char *fault)
{
    size_t i = 0, n = 0;
    json_t *e = NULL;

    json_array_foreach(log, i, e) {
        const char *a = json_string_value(json_object_get(e, "action"));
        const char *f = json_string_value(json_object_get(e, "fault"));

        if (a == NULL || strcmp(a, action) != 0)
            continue;
        if (fault == NULL ? f == NULL : f != NULL && strcmp(f, fault) == 0)
            n++;
    }
    return n;
}

/* The JobId of the Create whose answer the emulator lost (there must be
 * exactly one such Create, and it made a job), borrowed from log. */
static const char *lost_job(json_t *log)
{
    size_t i = 0;
    json_t *e = NULL;
    const char *job = NULL;

    json_array_foreach(log, i, e) {
        const char *a = json_string_value(json_object_get(e, "action"));
        const char *f = json_string_value(json_object_get(e, "fault"));

        if (!a || !f || strcmp(a, CREATE) != 0 || strcmp(f, "lose") != 0)
            continue;
        assert_null(job);
        job = json_string_value(json_object_get(e, "job_id"));
        assert_non_null(job);
        assert_true(job[0] != '\0');
    }
    assert_non_null(job);
    return job;
}

/* Index in log of the first entry of `action` (size of log if none). */
static size_t first_of(json_t *log, const char *action)
{
    size_t i = 0;
    json_t *e = NULL;

    json_array_foreach(log, i, e) {
        const char *a = json_string_value(json_object_get(e, "action"));

        if (a && strcmp(a, action) == 0)
            return i;
    }
    return json_array_size(log);
}

/* The report at `report` has one row, the whole product's call: created
 * as job_id, with the "recovered" note when it was found by
 * reconciliation and no note otherwise. */
static void assert_row(const char *report, const char *job_id,
                       int recovered)
{
    json_t *rows = h_read_csv(report);
    json_t *row = NULL;
    const char *msg = NULL;

    assert_non_null(rows);
    assert_int_equal(json_array_size(rows), 1);
    row = json_array_get(rows, 0);
    assert_string_equal(torture_json_str(row, NULL, "chunk"), "1");
    assert_string_equal(torture_json_str(row, NULL, "status"), "created");
    assert_string_equal(torture_json_str(row, NULL, "job_id"), job_id);
    assert_string_equal(torture_json_str(row, NULL, "error_code"), "");
    assert_string_equal(torture_json_str(row, NULL, "product_key"), PK);
    assert_string_equal(torture_json_str(row, NULL, "firmware_id"), FW);
    msg = json_string_value(json_object_get(row, "error_message"));
    assert_non_null(msg);
    if (recovered && strncmp(msg, "recovered", 9) != 0)
        fail_msg("no recovered note: error_message \"%s\"", msg);
    if (!recovered)
        assert_string_equal(msg, "");
    json_decref(rows);
}

/* The emulator holds exactly `n` jobs, all of the firmware; returns the
 * JobId of the newest (the last of the dump), malloced. */
static char *assert_jobs(const struct ctx *c, size_t n)
{
    json_t *jobs = h_emu_get(&c->emu, "/__emu/jobs");
    json_t *job = NULL;
    size_t i = 0;
    char *id = NULL;

    assert_int_equal(json_array_size(jobs), n);
    json_array_foreach(jobs, i, job) {
        assert_string_equal(torture_json_str(job, NULL, "FirmwareId"), FW);
        assert_string_equal(torture_json_str(job, NULL, "ProductKey"), PK);
    }
    id = strdup(json_string_value(
        json_object_get(json_array_get(jobs, n - 1), "JobId")));
    assert_non_null(id);
    json_decref(jobs);
    return id;
}

/* The Create's answer is lost after the job was made: the firmware's job
 * list shows the job with the run's tag, which is adopted. One Create,
 * one job, the row created with that JobId and the recovered note. */
static void lost_answer_adopted(const char *const *target, size_t devices)
{
    struct ctx c;
    struct h_run r;
    const char *emu[] = {"--fault-actions", CREATE, "--lose-response", "1",
                         NULL};
    json_t *log = NULL, *jobs = NULL;
    char *job = NULL;

    ctx_start(&c, emu);
    run_target_ok(&c, &r, c.report, target, NULL, "run");
    job = assert_jobs(&c, 1);
    log = h_read_jsonl(c.emu.log_path);
    assert_int_equal(e2e_count(log, CREATE, 0), 1);
    assert_string_equal(lost_job(log), job);
    assert_looked_up_by_firmware(log, 1);
    assert_true(first_of(log, CREATE) < first_of(log, BY_FIRMWARE));
    assert_row(c.report, job, 1);
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    assert_int_equal(
        json_array_size(json_object_get(json_array_get(jobs, 0), "Devices")),
        devices);
    e2e_assert_run_no_secret(c.dir, H_SECRET, &r);
    json_decref(jobs);
    json_decref(log);
    free(job);
    h_run_free(&r);
    ctx_stop(&c);
}

static void all_lost_answer_adopted(void **state)
{
    (void)state;
    lost_answer_adopted(all_args, 6); /* every device on 1.0.0 */
}

static void gray_lost_answer_adopted(void **state)
{
    (void)state;
    lost_answer_adopted(gray_args, 3); /* 50% of the 6 on 1.0.0 */
}

/* --no-job-tag: the Create carries no tag, so a lost answer of the one
 * ALL call cannot be recognised among the firmware's jobs: the chunk ends
 * failed/Ambiguous (exit 1), never resent, nothing looked up. */
static void untagged_lost_answer_ambiguous(void **state)
{
    struct ctx c;
    struct h_run r;
    const char *emu[] = {"--fault-actions", CREATE, "--lose-response", "1",
                         NULL};
    const char *more[] = {"--no-job-tag", NULL};
    json_t *log = NULL, *rows = NULL, *params = NULL;
    char *job = NULL;
    size_t i = 0;
    json_t *e = NULL;

    (void)state;
    ctx_start(&c, emu);
    run_target(&c, &r, c.report, all_args, more, NULL);
    assert_int_equal(r.exit_code, 1);
    job = assert_jobs(&c, 1); /* the lost answer did make the job */
    log = h_read_jsonl(c.emu.log_path);
    assert_int_equal(e2e_count(log, CREATE, 0), 1);
    assert_int_equal(e2e_count(log, BY_FIRMWARE, 0), 0);
    json_array_foreach(log, i, e) {
        const char *a = json_string_value(json_object_get(e, "action"));

        if (a != NULL && strcmp(a, CREATE) == 0)
            params = json_object_get(e, "params");
    }
    assert_non_null(params);
    assert_non_null(json_object_get(params, "FirmwareId"));
    assert_null(json_object_get(params, "Tag.1.Key"));
    rows = h_read_csv(c.report);
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(
        torture_json_str(json_array_get(rows, 0), NULL, "status"), "failed");
    assert_string_equal(
        torture_json_str(json_array_get(rows, 0), NULL, "error_code"),
        "Ambiguous");
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_array_get(rows, 0), "error_message")),
                           "no job tag"));
    json_decref(rows);
    json_decref(log);
    free(job);
    h_run_free(&r);
    ctx_stop(&c);
}

/* POSTs `form` to the emulator's /__emu/faults. Returns 0 on HTTP 200.
 * No cmocka call: the watcher thread uses it too. */
static int post_faults(const struct emu_proc *e, const char *form)
{
    CURL *h = curl_easy_init();
    char url[128];
    long status = 0;
    FILE *sink = fopen("/dev/null", "w");
    CURLcode rc = CURLE_FAILED_INIT;

    if (h != NULL && sink != NULL) {
        snprintf(url, sizeof(url), "%s/__emu/faults", e->endpoint);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_easy_cleanup(h);
    if (sink != NULL)
        fclose(sink);
    return rc == CURLE_OK && status == 200 ? 0 : -1;
}

/* A run whose first Create's answer was lost made a job tagged with its
 * own run id; a second run of the same firmware (another report, so
 * another run id) loses its answer too. Both jobs are recent (the clock
 * skew margin does not tell them apart): the tag does, and the second run
 * adopts its own job, not the first one's. */
static void lost_answer_not_confused_with_another_runs_job(void **state)
{
    struct ctx c;
    struct h_run r;
    char other[600];
    char *first = NULL, *second = NULL;
    json_t *log = NULL;

    (void)state;
    ctx_start(&c, NULL);
    snprintf(other, sizeof(other), "%s/other.report.csv", c.dir);
    run_target_ok(&c, &r, other, all_args, NULL, "first run");
    h_run_free(&r);
    first = assert_jobs(&c, 1);

    assert_int_equal(post_faults(&c.emu, "fault-actions=" CREATE
                                         "&lose-response=1"),
                     0);
    run_target_ok(&c, &r, c.report, all_args, NULL, "second run");
    second = assert_jobs(&c, 2);
    assert_string_not_equal(first, second);
    log = h_read_jsonl(c.emu.log_path);
    assert_int_equal(e2e_count(log, CREATE, 0), 2);
    assert_string_equal(lost_job(log), second);
    assert_row(c.report, second, 1);
    assert_row(other, first, 0);
    json_decref(log);
    free(first);
    free(second);
    h_run_free(&r);
    ctx_stop(&c);
}

/* Switches the emulator's connection resets off once the request log
 * shows the first one, so that only the first Create (or the first few,
 * if the tool is quicker than this thread) is reset. */
struct reset_watch {
    const struct emu_proc *emu;
    volatile int stop;
    int switched; /* 1: switched off, -1: the POST failed */
};

static void *watch_resets(void *arg)
{
    struct reset_watch *w = arg;
    struct timespec ts = {0, 2 * 1000000L};

    while (!w->stop) {
        char *log = h_slurp(w->emu->log_path, NULL);
        int seen = log != NULL && strstr(log, "\"fault\":\"reset\"") != NULL;

        free(log);
        if (seen) {
            w->switched = post_faults(w->emu, "reset=0") == 0 ? 1 : -1;
            break;
        }
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* The Create's connection is reset before the emulator processes it: the
 * outcome is unknown to the tool, but no job was made. Reconciliation
 * finds none on the firmware's list and the call is sent again: one job,
 * created from the answer (no recovered note). */
static void all_reset_before_processing_resent(void **state)
{
    struct ctx c;
    struct h_run r;
    const char *emu[] = {"--fault-actions", CREATE, "--reset", "1", NULL};
    const char *more[] = {"--max-attempts", "20", NULL};
    struct reset_watch w;
    pthread_t th;
    json_t *log = NULL;
    size_t resets = 0;
    char *job = NULL;

    (void)state;
    ctx_start(&c, emu);
    memset(&w, 0, sizeof(w));
    w.emu = &c.emu;
    assert_int_equal(pthread_create(&th, NULL, watch_resets, &w), 0);
    run_target_ok(&c, &r, c.report, all_args, more, "run");
    w.stop = 1;
    pthread_join(th, NULL);
    assert_int_equal(w.switched, 1);
    job = assert_jobs(&c, 1);
    log = h_read_jsonl(c.emu.log_path);
    resets = count_fault(log, CREATE, "reset");
    print_message("%zu Create(s) reset before the one answered\n", resets);
    assert_true(resets >= 1);
    /* Each reset Create was looked up, found absent, then sent again. */
    assert_int_equal(e2e_count(log, CREATE, 0), resets + 1);
    assert_int_equal(count_fault(log, CREATE, NULL), 1);
    assert_looked_up_by_firmware(log, resets);
    assert_row(c.report, job, 0);
    json_decref(log);
    free(job);
    h_run_free(&r);
    ctx_stop(&c);
}

/* A run killed right after its journal recorded the Create as about to be
 * sent (the test hook), before it went out: `--resume` does not know
 * whether it was sent, asks the firmware's job list first, finds no job
 * with the run's tag and sends it: one Create in all, one job. */
static void all_killed_before_send_resumed(void **state)
{
    struct ctx c;
    struct h_run r;
    const char *env[] = {"OTA_ROLLOUT_TEST_ABORT_AFTER_RECORDS=2", NULL};
    const char *resume[] = {"--resume", NULL};
    char journal[600];
    char *text = NULL;
    json_t *log = NULL;
    char *job = NULL;

    (void)state;
    ctx_start(&c, NULL);
    snprintf(journal, sizeof(journal), "%s.journal", c.report);
    run_target(&c, &r, c.report, gray_args, NULL, env);
    assert_int_equal(r.exit_code, -1); /* killed by the test hook */
    h_run_free(&r);
    text = h_slurp(journal, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "intent"));
    free(text);
    log = h_read_jsonl(c.emu.log_path);
    assert_int_equal(e2e_count(log, CREATE, 0), 0);
    json_decref(log);

    run_target_ok(&c, &r, c.report, gray_args, resume, "resume");
    job = assert_jobs(&c, 1);
    log = h_read_jsonl(c.emu.log_path);
    assert_int_equal(e2e_count(log, CREATE, 0), 1);
    assert_looked_up_by_firmware(log, 1);
    assert_true(first_of(log, BY_FIRMWARE) < first_of(log, CREATE));
    assert_row(c.report, job, 0);
    json_decref(log);
    free(job);
    h_run_free(&r);
    ctx_stop(&c);
}

/* The watcher thread uses libcurl: initialise it before any thread. */
static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

E2E_MAIN_GROUP(group_setup, NULL, cmocka_unit_test(all_lost_answer_adopted),
               cmocka_unit_test(gray_lost_answer_adopted),
               cmocka_unit_test(untagged_lost_answer_ambiguous),
               cmocka_unit_test(lost_answer_not_confused_with_another_runs_job),
               cmocka_unit_test(all_reset_before_processing_resent),
               cmocka_unit_test(all_killed_before_send_resumed))
