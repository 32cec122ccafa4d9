/* test_e2e_status_cancel.c - `status` and `cancel` end to end against
 * ota-emulator ("status counts equal to the emulator's own",
 * "cancel leaves no queued task behind"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"
#define NDEV 1000

static const char *const states[] = {"QUEUED",    "NOTIFIED", "IN_PROGRESS",
                                     "SUCCEEDED", "FAILED",   "CANCELED"};

/* Starts the emulator and runs a rollout of NDEV devices (5 jobs). */
static void ctx_rollout(struct e2e_fleet *c, const char *const *emu)
{
    struct h_run r;

    e2e_fleet_start(c, NDEV, PK, emu);
    e2e_fleet_run(&r, c, FW, NULL, 0);
    h_run_free(&r);
}

static json_int_t emu_tasks(json_t *stats, const char *state)
{
    return json_integer_value(
        json_object_get(json_object_get(stats, "tasks"), state));
}

/* Every "as of " in out is followed by a UTC ISO-8601 time
 * (YYYY-MM-DDTHH:MM:SSZ) within a day of now. */
static void assert_utc_stamps(const char *out)
{
    const char *p = out;
    size_t n = 0;

    while ((p = strstr(p, "as of ")) != NULL) {
        struct tm tm;
        const char *end = NULL;
        time_t t = 0;

        p += 6;
        memset(&tm, 0, sizeof(tm));
        end = strptime(p, "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (end == NULL || *end != '\n')
            fail_msg("not a UTC ISO-8601 time: \"%.30s\"", p);
        t = timegm(&tm);
        assert_true(labs((long)(t - time(NULL))) < 86400);
        n++;
    }
    assert_true(n > 0);
}

/* --watch refreshes until every task is decided; then status (text and
 * JSON) equals the emulator's own counts, and --devices holds one row per
 * device and exactly the FAILED devices in its failed file. */
static void status_watch_json_devices_match_emulator(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {"--auto-create",   "--sim-speed", "2",
                         "--success-ratio", "0.8",         NULL};
    char devices[600], failed[640];
    json_t *doc = NULL, *stats = NULL, *jobs = NULL, *log = NULL;
    json_t *rows = NULL, *frows = NULL, *row = NULL, *job = NULL;
    json_t *seen = json_object();
    json_int_t failed_n = 0, reasons_n = 0;
    size_t i = 0;
    double t0 = 0;

    (void)state;
    ctx_rollout(&c, emu);
    snprintf(devices, sizeof(devices), "%s/devices.csv", c.dir);
    snprintf(failed, sizeof(failed), "%s.failed.csv", devices);

    /* Tasks take up to 4 s (8 steps of 0.5 s): the watch must refresh. */
    t0 = h_now_s();
    const char *watch[] = {"status",       c.report,  "--endpoint",
                           c.emu.endpoint, "--watch", "--interval",
                           "1s",           NULL};
    h_run(&r, watch, NULL, 0, 60);
    /* Some tasks FAILED (success ratio 0.8): decided, not complete. */
    if (r.exit_code != 1)
        fail_msg("status --watch: exit %d: %s", r.exit_code, r.err);
    assert_true(e2e_count_substr(r.out, "rollout: ") >= 2);
    /* Each screen carries the UTC time of its refresh. */
    assert_int_equal(e2e_count_substr(r.out, "as of "),
                     e2e_count_substr(r.out, "rollout: "));
    assert_utc_stamps(r.out);
    assert_non_null(strstr(r.out, "rollout not complete: "));
    assert_non_null(strstr(r.out, "still pending"));
    assert_non_null(strstr(r.out, "every task is decided"));
    assert_true(h_now_s() - t0 < 30);
    stats = h_emu_get(&c.emu, "/__emu/stats");
    assert_int_equal(emu_tasks(stats, "QUEUED") + emu_tasks(stats, "NOTIFIED") +
                         emu_tasks(stats, "IN_PROGRESS"),
                     0);
    h_run_free(&r);
    /* The quota check below is per process: let a second pass so that
     * the watch's last queries and the next process's do not share a
     * window (the API would throttle, and the tool would retry). */
    h_sleep_ms(1100);

    e2e_report_run(&r, &c, "status", E2E_ARGS("--json", "--devices", devices),
                   1);
    doc = e2e_parse_document(r.out); /* one JSON document, nothing else */
    assert_true(json_is_false(json_object_get(doc, "complete")));
    assert_int_equal(torture_json_num(doc, "plan", "devices"), NDEV);
    assert_int_equal(torture_json_num(doc, "plan", "with_task"), NDEV);
    json_decref(stats);
    stats = h_emu_get(&c.emu, "/__emu/stats");
    for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        json_int_t mine = json_integer_value(
            json_object_get(json_object_get(doc, "tasks"), states[i]));

        if (mine != emu_tasks(stats, states[i]))
            fail_msg("%s: status %lld, emulator %lld", states[i],
                     (long long)mine, (long long)emu_tasks(stats, states[i]));
    }
    failed_n = emu_tasks(stats, "FAILED");
    assert_true(failed_n > 100 && failed_n < 300); /* success ratio 0.8 */
    assert_int_equal(torture_json_num(doc, "tasks", "total"), NDEV);
    assert_true(json_is_true(json_object_get(doc, "decided")));
    assert_int_equal(json_integer_value(json_object_get(doc, "devices")), NDEV);
    e2e_assert_ints(
        doc, "jobs",
        (const struct e2e_int[]){
            {"total", 5}, {"COMPLETED", 5}, {"query_failed", 0}, {NULL, 0}});
    assert_int_equal(json_array_size(json_object_get(doc, "products")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(doc, "products"), 0),
                            "product_key")),
                        PK);
    json_array_foreach(json_object_get(doc, "reasons"), i, row) reasons_n +=
        json_integer_value(json_object_get(row, "count"));
    assert_int_equal(reasons_n, failed_n);
    assert_int_equal(json_array_size(json_object_get(doc, "job_list")), 5);

    /* The devices file: one row per device, states as the emulator has
     * them; the failed file: exactly the FAILED devices. */
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    rows = h_read_csv(devices);
    frows = h_read_csv(failed);
    assert_non_null(rows);
    assert_non_null(frows);
    assert_int_equal(json_array_size(rows), NDEV);
    assert_int_equal(json_array_size(frows), (size_t)failed_n);
    json_array_foreach(jobs, i, job)
    {
        const char *dev = NULL;
        json_t *st = NULL;

        json_object_foreach(json_object_get(job, "Tasks"), dev, st)
            json_object_set(seen, dev, st);
    }
    json_array_foreach(rows, i, row)
    {
        const char *dev = json_string_value(json_object_get(row, "DeviceName"));
        json_t *want = json_object_get(seen, dev);

        assert_non_null(want);
        assert_string_equal(json_string_value(json_object_get(row, "status")),
                            json_string_value(want));
        assert_string_equal(
            json_string_value(json_object_get(row, "ProductKey")), PK);
        assert_true(json_string_length(json_object_get(row, "TaskId")) > 0);
    }
    json_array_foreach(frows, i, row)
    {
        const char *dev = json_string_value(json_object_get(row, "DeviceName"));

        assert_string_equal(json_string_value(json_object_get(seen, dev)),
                            "FAILED");
        assert_true(json_string_length(json_object_get(row, "error_code")) > 0);
    }

    /* Queries stay within the query quota. */
    log = h_read_jsonl(c.emu.log_path);
    assert_true(e2e_max_per_window(log, "ListOTATaskByJob") <= 10);
    assert_true(e2e_max_per_window(log, "QueryOTAJob") <= 10);
    e2e_assert_run_no_secret(c.dir, H_SECRET, &r);

    json_decref(seen);
    json_decref(doc);
    json_decref(stats);
    json_decref(jobs);
    json_decref(rows);
    json_decref(frows);
    json_decref(log);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* Tasks that stay QUEUED (sim speed 0): cancel needs --yes without a
 * terminal, leaves no QUEUED task, and a rerun skips every job. */
static void cancel_queued_then_rerun_skips(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--sim-speed", "0", NULL};
    json_t *stats = NULL, *log = NULL;

    (void)state;
    ctx_rollout(&c, emu);
    e2e_report_run(&r, &c, "cancel", NULL, 2);
    h_run_free(&r);
    stats = h_emu_get(&c.emu, "/__emu/stats");
    assert_int_equal(emu_tasks(stats, "QUEUED"), NDEV);
    json_decref(stats);

    e2e_report_run(&r, &c, "cancel", E2E_ARGS("--yes"), 0);
    assert_non_null(
        strstr(r.err, "cancel requested: 5 jobs (1000 tasks still cancellable)"));
    assert_non_null(strstr(r.err, "tasks were still cancellable"));
    h_run_free(&r);
    stats = h_emu_get(&c.emu, "/__emu/stats");
    assert_int_equal(emu_tasks(stats, "QUEUED"), 0);
    assert_int_equal(emu_tasks(stats, "CANCELED"), NDEV);
    json_decref(stats);

    e2e_report_run(&r, &c, "cancel", E2E_ARGS("--yes"), 0);
    assert_non_null(strstr(r.err, "skipped (cancelled by an earlier run): 5"));
    h_run_free(&r);
    log = h_read_jsonl(c.emu.log_path);
    assert_int_equal(e2e_count(log, "CancelOTATaskByJob", 0), 5);
    assert_true(e2e_max_per_window(log, "CancelOTATaskByJob") <= 5);

    /* status agrees: everything CANCELED, jobs CANCELED; the rollout is
     * not complete (exit 1). */
    e2e_report_run(&r, &c, "status", E2E_ARGS("--json"), 1);
    {
        json_t *doc = e2e_parse_document(r.out);
        assert_int_equal(torture_json_num(doc, "tasks", "CANCELED"), NDEV);
        assert_int_equal(torture_json_num(doc, "jobs", "CANCELED"), 5);
        json_decref(doc);
    }
    json_decref(log);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* Without --in-progress, IN_PROGRESS tasks are left alone; a rerun with
 * --in-progress is not skipped by the journal and cancels them. */
static void cancel_leaves_in_progress_alone(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    /* Steps of 4 s: a task is QUEUED for 4-12 s, NOTIFIED for 4 s, then
     * IN_PROGRESS for 16 s. At about 10 s all three states exist. */
    const char *emu[] = {"--auto-create", "--sim-speed", "0.25", NULL};
    json_t *before = NULL, *after = NULL;
    double t0 = 0;

    (void)state;
    t0 = h_now_s();
    ctx_rollout(&c, emu);
    while (h_now_s() - t0 < 9.5)
        h_sleep_ms(100);
    before = h_emu_get(&c.emu, "/__emu/stats");
    assert_true(emu_tasks(before, "IN_PROGRESS") > 0);
    assert_true(emu_tasks(before, "QUEUED") + emu_tasks(before, "NOTIFIED") >
                0);
    e2e_report_run(&r, &c, "cancel", E2E_ARGS("--yes"), 0);
    h_run_free(&r);
    after = h_emu_get(&c.emu, "/__emu/stats");
    assert_int_equal(emu_tasks(after, "QUEUED"), 0);
    assert_int_equal(emu_tasks(after, "NOTIFIED"), 0);
    assert_true(emu_tasks(after, "IN_PROGRESS") >=
                emu_tasks(before, "IN_PROGRESS"));
    assert_int_equal(
        emu_tasks(after, "IN_PROGRESS") + emu_tasks(after, "CANCELED"), NDEV);
    json_decref(after);

    const char *all[] = {
        "cancel", c.report,        "--endpoint", c.emu.endpoint,
        "--yes",  "--in-progress", NULL};
    e2e_run_expect(&r, all, NULL, 0, 30, 0);
    assert_non_null(strstr(r.err, "cancel requested: 5 jobs"));
    h_run_free(&r);
    after = h_emu_get(&c.emu, "/__emu/stats");
    assert_int_equal(emu_tasks(after, "CANCELED"), NDEV);
    json_decref(before);
    json_decref(after);
    e2e_fleet_stop(&c);
}

/* Jobs whose tasks had all ended before `cancel` ran.
 * CancelOTATaskByJob answers Success with no count, so the old cancel said
 * "cancelled: 5" although nothing was cancelled. Now each job says
 * "nothing left to cancel", the summary and --json count them as such,
 * the numbers agree, and the exit is 0 (nothing to retry). */
static void cancel_finished_jobs_says_nothing_left(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--sim-speed", "40", NULL};
    json_t *stats = NULL, *doc = NULL, *list = NULL, *log = NULL;
    double t0 = 0;
    size_t i = 0;
    const char *p = NULL;
    int lines = 0;

    (void)state;
    ctx_rollout(&c, emu);
    t0 = h_now_s();
    for (;;) {
        stats = h_emu_get(&c.emu, "/__emu/stats");
        if (emu_tasks(stats, "SUCCEEDED") == NDEV)
            break;
        json_decref(stats);
        if (h_now_s() - t0 > 30)
            fail_msg("the tasks did not end");
        h_sleep_ms(200);
    }
    json_decref(stats);
    const char *yes[] = {"cancel", c.report, "--endpoint", c.emu.endpoint,
                         "--yes",  "--json", NULL};
    e2e_run_expect(&r, yes, NULL, 0, 60, 0);
    for (p = r.err; (p = strstr(p, ": nothing left to cancel (all 200 "
                                    "tasks had ended)")) != NULL;
         p++)
        lines++;
    assert_int_equal(lines, 5);
    assert_non_null(strstr(r.err, "cancel requested: 0 jobs (0 tasks"));
    assert_non_null(strstr(r.err, "nothing left to cancel: 5, already "
                                  "finished: 0, failed: 0, not sent: 0"));
    doc = e2e_parse_document(r.out);
    assert_int_equal(torture_json_num(doc, "counts", "cancelled"), 0);
    assert_int_equal(torture_json_num(doc, "counts", "nothing_to_cancel"), 5);
    assert_int_equal(torture_json_num(doc, "counts", "tasks_cancellable"), 0);
    assert_int_equal(torture_json_num(doc, "exit", "code"), 0);
    list = json_object_get(doc, "jobs_cancelled");
    assert_int_equal(json_array_size(list), 5);
    for (i = 0; i < json_array_size(list); i++) {
        json_t *o = json_array_get(list, i);
        assert_string_equal(
            json_string_value(json_object_get(o, "outcome")),
            "nothing_to_cancel");
        assert_int_equal(
            json_integer_value(json_object_get(o, "tasks_cancellable")), 0);
    }
    json_decref(doc);
    h_run_free(&r);
    /* The listing is paced at the query quota, one page per 200-device
     * job, and every job still got its cancel call. */
    log = h_read_jsonl(c.emu.log_path);
    assert_true(e2e_max_per_window(log, "ListOTATaskByJob") <= 10);
    assert_int_equal(e2e_count(log, "CancelOTATaskByJob", 0), 5);
    json_decref(log);
    stats = h_emu_get(&c.emu, "/__emu/stats");
    assert_int_equal(emu_tasks(stats, "SUCCEEDED"), NDEV);
    json_decref(stats);
    e2e_fleet_stop(&c);
}

/* 5xx answers and resets on the queries: status and cancel retry them
 * (idempotent queries) and still get every count and every job. */
static void status_and_cancel_retry_faults(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {
        "--auto-create", "--sim-speed", "0",      "--fail-5xx", "0.3",
        "--reset",       "0.1",         "--seed", "11",         NULL};
    json_t *doc = NULL, *stats = NULL;

    (void)state;
    ctx_rollout(&c, emu);
    const char *st[] = {"status",       c.report, "--endpoint",
                        c.emu.endpoint, "--json", "--max-attempts",
                        "12",           NULL};
    h_run(&r, st, NULL, 0, 60);
    /* Every query answered; the tasks wait (sim-speed 0): exit 1. */
    if (r.exit_code != 1)
        fail_msg("status: exit %d: %s", r.exit_code, r.err);
    doc = e2e_parse_document(r.out);
    assert_int_equal(torture_json_num(doc, "tasks", "QUEUED"), NDEV);
    assert_int_equal(torture_json_num(doc, "jobs", "query_failed"), 0);
    json_decref(doc);
    h_run_free(&r);

    const char *cancel[] = {"cancel",       c.report, "--endpoint",
                            c.emu.endpoint, "--yes",  "--max-attempts",
                            "12",           NULL};
    e2e_run_expect(&r, cancel, NULL, 0, 60, 0);
    h_run_free(&r);
    stats = h_emu_get(&c.emu, "/__emu/stats");
    assert_int_equal(emu_tasks(stats, "CANCELED"), NDEV);
    assert_true(torture_json_num(stats, "faults", "5xx") > 0);
    json_decref(stats);
    e2e_fleet_stop(&c);
}

/* A job the API does not know: status says so and exits 1. */
static void status_unknown_job_exit_1(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--sim-speed", "0", NULL};
    FILE *fp = NULL;

    (void)state;
    ctx_rollout(&c, emu);
    fp = fopen(c.report, "a");
    assert_non_null(fp);
    fprintf(fp, "6,%s,%s,1,x,x,created,NoSuchJob0000000000000000,,,1,,\n", PK,
            FW);
    fclose(fp);
    e2e_report_run(&r, &c, "status", NULL, 1);
    assert_non_null(strstr(r.out, "could not be queried: 1"));
    assert_non_null(strstr(r.out, "NoSuchJob"));
    assert_non_null(strstr(r.out, "QUEUED"));
    h_run_free(&r);

    const char *usage[] = {"status", "--endpoint", c.emu.endpoint, NULL};
    e2e_run_expect(&r, usage, NULL, 0, 30, 2);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* The document's "exit": code and name as given, a non-empty reason
 * (containing `part` when not NULL); schema 1 and the command. */
static void assert_exit(json_t *doc, const char *command, int code,
                        const char *name, const char *part)
{
    json_t *ex = json_object_get(doc, "exit");
    const char *reason = json_string_value(json_object_get(ex, "reason"));

    assert_int_equal(json_integer_value(json_object_get(doc, "schema")), 1);
    assert_string_equal(json_string_value(json_object_get(doc, "command")),
                        command);
    assert_int_equal(json_integer_value(json_object_get(ex, "code")), code);
    assert_string_equal(json_string_value(json_object_get(ex, "name")), name);
    assert_non_null(reason);
    assert_true(reason[0] != '\0');
    if (part && strstr(reason, part) == NULL)
        fail_msg("exit reason \"%s\" does not say \"%s\"", reason, part);
}

/* Every line of err is one JSON object with "event" and "time"; returns
 * the "summary" event's summary (new reference; fails if there is not
 * exactly one). */
static json_t *json_lines_summary(const char *err)
{
    char *copy = strdup(err);
    char *p = NULL, *line = NULL;
    json_t *summary = NULL;
    size_t n = 0;

    assert_non_null(copy);
    for (line = strtok_r(copy, "\n", &p); line; line = strtok_r(NULL, "\n", &p)) {
        json_t *ev = json_loads(line, 0, NULL);
        const char *name = json_string_value(json_object_get(ev, "event"));

        if (ev == NULL || name == NULL ||
            !json_is_string(json_object_get(ev, "time")))
            fail_msg("stderr line is not a JSON event: %.200s", line);
        if (strcmp(name, "summary") == 0) {
            n++;
            json_decref(summary);
            summary = json_incref(json_object_get(ev, "summary"));
        }
        json_decref(ev);
    }
    free(copy);
    if (n != 1)
        fail_msg("%zu summary events on stderr: %.300s", n, err);
    return summary;
}

/* status and cancel --json: exactly one document whatever happens, with
 * the exit code and reason (an unknown report, an unreachable endpoint, a
 * success); cancel's counts; --log-format json leaves only JSON lines on
 * stderr for both commands, the document among them as a summary event. */
static void status_and_cancel_json_documents(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--sim-speed", "0", NULL};
    char missing[600];
    json_t *doc = NULL, *n = NULL, *stats = NULL;
    const char *journal = NULL;

    (void)state;
    ctx_rollout(&c, emu);
    snprintf(missing, sizeof(missing), "%s/no-such.report.csv", c.dir);

    /* An unknown report: usage, counts null. */
    const char *unk[] = {"status", missing, "--endpoint", c.emu.endpoint,
                         "--json", NULL};
    e2e_run_expect(&r, unk, NULL, 0, 30, 2);
    doc = e2e_parse_document(r.out);
    assert_exit(doc, "status", 2, "usage", "no-such.report.csv");
    assert_string_equal(json_string_value(json_object_get(doc, "report")),
                        missing);
    assert_true(json_is_false(json_object_get(doc, "decided")));
    assert_true(json_is_null(json_object_get(doc, "tasks")));
    assert_true(json_is_null(json_object_get(doc, "job_list")));
    json_decref(doc);
    h_run_free(&r);

    /* A usage error main.c finds (before status starts): still one. */
    e2e_report_run(&r, &c, "status", E2E_ARGS("--json", "--interval", "5s"), 2);
    doc = e2e_parse_document(r.out);
    assert_exit(doc, "status", 2, "usage", "--interval");
    json_decref(doc);
    h_run_free(&r);

    /* An unreachable endpoint (nothing listens on port 1): every job
     * fails its query; exit 1 and the jobs counted as query_failed. */
    const char *down[] = {"status", c.report, "--endpoint",
                          "http://127.0.0.1:1", "--json", "--max-attempts",
                          "1", NULL};
    e2e_run_expect(&r, down, NULL, 0, 30, 1);
    doc = e2e_parse_document(r.out);
    assert_exit(doc, "status", 1, "partial", "5 jobs could not be queried");
    assert_int_equal(torture_json_num(doc, "jobs", "query_failed"), 5);
    json_decref(doc);
    h_run_free(&r);

    /* Every job queried: the counts; the tasks wait (sim-speed 0), so
     * the rollout is not complete: exit 1, saying why. */
    const char *ok[] = {"status", c.report, "--endpoint", c.emu.endpoint,
                        "--json", NULL};
    e2e_run_expect(&r, ok, NULL, 0, 30, 1);
    doc = e2e_parse_document(r.out);
    assert_exit(doc, "status", 1, "partial",
                "rollout not complete: 1000 tasks pending");
    assert_int_equal(torture_json_num(doc, "tasks", "QUEUED"), NDEV);
    json_decref(doc);
    h_run_free(&r);

    /* --log-format json: JSON lines only on stderr, the screen on stdout,
     * and the summary event carries the same document. */
    const char *jl[] = {"status",       c.report,       "--endpoint",
                        c.emu.endpoint, "--log-format", "json",
                        NULL};
    e2e_run_expect(&r, jl, NULL, 0, 30, 1);
    assert_non_null(strstr(r.out, "QUEUED"));
    doc = json_lines_summary(r.err);
    assert_exit(doc, "status", 1, "partial", "tasks pending");
    assert_int_equal(torture_json_num(doc, "jobs", "total"), 5);
    json_decref(doc);
    h_run_free(&r);
    /* ... and an error message is a JSON line too. */
    const char *jlbad[] = {"status", missing, "--log-format", "json", NULL};
    e2e_run_expect(&r, jlbad, NULL, 0, 30, 2);
    assert_non_null(strstr(r.err, "\"level\":\"error\""));
    doc = json_lines_summary(r.err);
    assert_exit(doc, "status", 2, "usage", "no-such.report.csv");
    json_decref(doc);
    h_run_free(&r);

    /* cancel --json (and --log-format json): the counts. */
    e2e_report_run(&r, &c, "cancel",
                   E2E_ARGS("--yes", "--json", "--log-format", "json"), 0);
    doc = e2e_parse_document(r.out);
    assert_exit(doc, "cancel", 0, "ok", NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "report")),
                        c.report);
    assert_true(json_is_false(json_object_get(doc, "in_progress")));
    n = json_object_get(doc, "counts");
    assert_int_equal(json_integer_value(json_object_get(n, "jobs")), 5);
    assert_int_equal(json_integer_value(json_object_get(n, "cancelled")), 5);
    assert_int_equal(json_integer_value(json_object_get(n, "skipped")), 0);
    assert_int_equal(json_integer_value(json_object_get(n, "failed")), 0);
    assert_int_equal(json_integer_value(json_object_get(n, "not_sent")), 0);
    assert_int_equal(
        json_integer_value(json_object_get(n, "already_finished")), 0);
    assert_int_equal(json_object_size(json_object_get(doc, "errors")), 0);
    journal = json_string_value(
        json_object_get(json_object_get(doc, "files"), "journal"));
    assert_non_null(journal);
    assert_non_null(strstr(journal, ".cancel.journal"));
    json_decref(doc);
    doc = json_lines_summary(r.err); /* no human line on stderr */
    assert_int_equal(torture_json_num(doc, "counts", "cancelled"), 5);
    json_decref(doc);
    h_run_free(&r);
    stats = h_emu_get(&c.emu, "/__emu/stats");
    assert_int_equal(emu_tasks(stats, "CANCELED"), NDEV);
    json_decref(stats);

    /* A rerun skips every job; a failing one says how many failed. */
    e2e_report_run(&r, &c, "cancel", E2E_ARGS("--yes", "--json"), 0);
    doc = e2e_parse_document(r.out);
    assert_exit(doc, "cancel", 0, "ok", "already cancelled");
    n = json_object_get(doc, "counts");
    assert_int_equal(json_integer_value(json_object_get(n, "skipped")), 5);
    assert_int_equal(json_integer_value(json_object_get(n, "cancelled")), 0);
    json_decref(doc);
    h_run_free(&r);
    const char *cjin[] = {"cancel", c.report, "--endpoint",
                          "http://127.0.0.1:1", "--yes", "--json",
                          "--in-progress", "--max-attempts", "1", NULL};
    e2e_run_expect(&r, cjin, NULL, 0, 30, 1);
    doc = e2e_parse_document(r.out);
    assert_exit(doc, "cancel", 1, "partial", "5 jobs failed");
    assert_true(json_is_true(json_object_get(doc, "in_progress")));
    n = json_object_get(doc, "counts");
    assert_int_equal(json_integer_value(json_object_get(n, "failed")), 5);
    assert_int_equal(torture_json_num(doc, "errors", "NetworkError"), 5);
    json_decref(doc);
    h_run_free(&r);
    /* An unknown report: counts null. */
    const char *cunk[] = {"cancel", missing, "--yes", "--json", NULL};
    e2e_run_expect(&r, cunk, NULL, 0, 30, 2);
    doc = e2e_parse_document(r.out);
    assert_exit(doc, "cancel", 2, "usage", "no-such.report.csv");
    assert_true(json_is_null(json_object_get(doc, "counts")));
    json_decref(doc);
    e2e_assert_run_no_secret(c.dir, H_SECRET, &r);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* Sums device_count over the report's rows of `status` (NULL: all). */
static long report_devices(json_t *rows, const char *status, size_t *chunks)
{
    json_t *row = NULL;
    size_t i = 0;
    long n = 0;

    *chunks = 0;
    json_array_foreach(rows, i, row) {
        const char *st = json_string_value(json_object_get(row, "status"));

        if (status && (st == NULL || strcmp(st, status) != 0))
            continue;
        n += atol(json_string_value(json_object_get(row, "device_count")));
        (*chunks)++;
    }
    return n;
}

/* After a partial run (3 chunks created, 3 failed, 1 not sent)
 * status accounts for every device of the plan: in a job with a task, in
 * a job without one (13 devices already on the firmware's version, one
 * job with no task at all), in failed and not-sent chunks by code; the
 * counts match the report and the exit status is 1 (not complete). A
 * chunk with no row yet (the journal knows the plan's size) is counted
 * as not sent yet. */
static void status_accounts_every_device_of_a_partial_run(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    char fixture[600], *rep = NULL, *cut = NULL;
    const char *emu[] = {"--fixture", fixture, "--sim-speed", "0", NULL};
    json_t *doc = NULL, *rows = NULL, *jl = NULL, *codes = NULL;
    size_t chunks = 0, len = 0;
    long failed = 0, not_sent = 0;
    FILE *f = NULL;
    int i = 0;

    (void)state;
    e2e_fleet_init(&c, 0, PK);
    snprintf(fixture, sizeof(fixture), "%s/world.json", c.dir);
    f = fopen(fixture, "w");
    assert_non_null(f);
    /* PA: 30 devices, the first 13 on 2.0.0 already; PB: 40 devices; the
     * firmware belongs to PA only, so PB's chunks fail. */
    fputs("{\"products\":[{\"product_key\":\"PA\",\"devices\":[", f);
    for (i = 0; i < 30; i++)
        fprintf(f, "%s{\"name\":\"pa-%04d\",\"version\":\"%s\"}", i ? "," : "",
                i, i < 13 ? "2.0.0" : "1.0.0");
    fputs("]},{\"product_key\":\"PB\",\"devices\":[", f);
    for (i = 0; i < 40; i++)
        fprintf(f, "%s{\"name\":\"pb-%04d\",\"version\":\"1.0.0\"}",
                i ? "," : "", i);
    fputs("]}],\"firmware\":[{\"id\":\"FWA\",\"product_key\":\"PA\","
          "\"dest_version\":\"2.0.0\",\"status\":1,\"name\":\"fw-a\"}]}\n",
          f);
    fclose(f);
    f = fopen(c.inv, "w");
    assert_non_null(f);
    fputs("DeviceName,ProductKey\n", f);
    for (i = 0; i < 30; i++)
        fprintf(f, "pa-%04d,PA\n", i);
    for (i = 0; i < 40; i++)
        fprintf(f, "pb-%04d,PB\n", i);
    fclose(f);
    h_emu_start(&c.emu, emu);

    const char *run[] = {"run",          c.inv,       "--firmware-id",
                         "FWA",          "--endpoint", c.emu.endpoint,
                         "--yes",        "--report",   c.report,
                         "--chunk-size", "10",         "--skip-preflight",
                         NULL};
    e2e_run_expect(&r, run, NULL, 0, 60, 1);
    h_run_free(&r);
    rows = h_read_csv(c.report);
    assert_int_equal(report_devices(rows, "created", &chunks), 30);
    assert_int_equal(chunks, 3);
    failed = report_devices(rows, "failed", &chunks);
    assert_int_equal(chunks, 3);
    not_sent = report_devices(rows, "not_sent", &chunks);
    assert_int_equal(chunks, 1);

    /* Text: every device, and not complete. */
    e2e_report_run(&r, &c, "status", NULL, 1);
    assert_non_null(strstr(r.out, "devices of the plan: 70\n"));
    assert_non_null(strstr(r.out, "in a job, with a task                17"));
    assert_non_null(strstr(r.out, "in a job, no task                    13  "
                                  "already on the target version"));
    assert_non_null(strstr(r.out, "in failed chunks                     30  "
                                  "(3 chunks)"));
    assert_non_null(strstr(r.out, "in chunks not sent                   10  "
                                  "(1 chunk)"));
    assert_non_null(strstr(r.out, "iot.ota.FirmwareAndProductKeyMismatch"));
    assert_non_null(strstr(r.out, "rollout not complete: 30 devices in "
                                  "failed chunks, 10 devices in chunks not "
                                  "sent"));
    h_run_free(&r);

    /* JSON: the same counts, equal to the report's. */
    h_sleep_ms(1100);
    e2e_report_run(&r, &c, "status", E2E_ARGS("--json"), 1);
    doc = e2e_parse_document(r.out);
    assert_exit(doc, "status", 1, "partial", "rollout not complete");
    assert_true(json_is_false(json_object_get(doc, "complete")));
    assert_int_equal(torture_json_num(doc, "plan", "devices"), 70);
    assert_int_equal(torture_json_num(doc, "plan", "with_task"), 17);
    assert_int_equal(torture_json_num(doc, "tasks", "total"), 17);
    assert_int_equal(json_integer_value(json_object_get(
                         torture_json_at(doc, "plan", "no_task"), "on_version")),
                     13);
    assert_int_equal(json_integer_value(json_object_get(
                         torture_json_at(doc, "plan", "failed"), "devices")),
                     failed);
    assert_int_equal(json_integer_value(json_object_get(
                         torture_json_at(doc, "plan", "not_sent"), "devices")),
                     not_sent);
    assert_int_equal(torture_json_num(doc, "plan", "unsent_chunks"), 0);
    codes = torture_json_at(doc, "plan", "codes");
    assert_int_equal(json_array_size(codes), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(codes, 0), "code")),
        "iot.ota.FirmwareAndProductKeyMismatch");
    /* The job of chunk 1 has no task at all: counted, with its reason. */
    jl = json_object_get(doc, "job_list");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_array_get(jl, 0), "tasks"),
                         "total")),
                     0);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_array_get(jl, 0), "no_task"),
                         "devices")),
                     10);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(jl, 0), "no_task"),
                            "reason")),
                        "on_version");
    json_decref(doc);
    h_run_free(&r);

    /* A report without its last row (the run stopped before writing it):
     * the journal says the plan has 7 chunks, so 1 is not sent yet. */
    rep = h_slurp(c.report, &len);
    assert_non_null(rep);
    rep[len - 1] = '\0';
    cut = strrchr(rep, '\n');
    assert_non_null(cut);
    f = fopen(c.report, "w");
    assert_non_null(f);
    fwrite(rep, 1, (size_t)(cut - rep) + 1, f);
    fclose(f);
    free(rep);
    h_sleep_ms(1100);
    e2e_report_run(&r, &c, "status", E2E_ARGS("--json"), 1);
    doc = e2e_parse_document(r.out);
    assert_int_equal(torture_json_num(doc, "plan", "unsent_chunks"), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         torture_json_at(doc, "plan", "not_sent"), "chunks")),
                     0);
    assert_int_equal(torture_json_num(doc, "plan", "devices"), 60);
    json_decref(doc);
    h_run_free(&r);

    json_decref(rows);
    e2e_fleet_stop(&c);
}

/* A waved run paused after wave 1: status --json gives the
 * wave as a number; the report has a row for every chunk of the plan,
 * so the 4 chunks of wave 2 are not sent with their code (WavePaused)
 * and every device of the plan is counted; exit 1. */
static void status_waved_run_paused(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--sim-speed", "0", NULL};
    json_t *doc = NULL, *jl = NULL, *waves = NULL;

    (void)state;
    e2e_fleet_start(&c, NDEV, PK, emu);
    const char *run[] = {"run",         c.inv,       "--firmware-id",
                         FW,            "--endpoint", c.emu.endpoint,
                         "--yes",       "--report",   c.report,
                         "--waves",     "200,all",    "--wave-timeout",
                         "2s",          NULL};
    e2e_run_expect(&r, run, NULL, 0, 90, 6);
    h_run_free(&r);
    h_sleep_ms(1100);
    e2e_report_run(&r, &c, "status", E2E_ARGS("--json"), 1);
    doc = e2e_parse_document(r.out);
    jl = json_object_get(doc, "job_list");
    assert_int_equal(json_array_size(jl), 1);
    assert_true(json_is_integer(json_object_get(json_array_get(jl, 0), "wave")));
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(jl, 0), "wave")), 1);
    waves = json_object_get(doc, "waves");
    assert_int_equal(json_array_size(waves), 1);
    assert_true(json_is_integer(json_object_get(json_array_get(waves, 0),
                                                "wave")));
    assert_int_equal(torture_json_num(doc, "plan", "unsent_chunks"), 0);
    assert_int_equal(torture_json_num(doc, "plan", "devices"), NDEV);
    {
        json_t *ns = torture_json_at(doc, "plan", "not_sent");
        json_t *code =
            json_array_get(torture_json_at(doc, "plan", "codes"), 0);

        assert_int_equal(torture_json_num(ns, NULL, "chunks"), 4);
        assert_int_equal(torture_json_num(ns, NULL, "devices"), NDEV - 200);
        assert_string_equal(torture_json_str(code, NULL, "code"),
                            "WavePaused");
        assert_int_equal(torture_json_num(code, NULL, "chunks"), 4);
    }
    assert_exit(doc, "status", 1, "partial",
                "800 devices in chunks not sent");
    json_decref(doc);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

E2E_MAIN(cmocka_unit_test(status_watch_json_devices_match_emulator),
         cmocka_unit_test(cancel_queued_then_rerun_skips),
         cmocka_unit_test(cancel_leaves_in_progress_alone),
         cmocka_unit_test(cancel_finished_jobs_says_nothing_left),
         cmocka_unit_test(status_unknown_job_exit_1),
         cmocka_unit_test(status_and_cancel_retry_faults),
         cmocka_unit_test(status_and_cancel_json_documents),
         cmocka_unit_test(status_accounts_every_device_of_a_partial_run),
         cmocka_unit_test(status_waved_run_paused))
