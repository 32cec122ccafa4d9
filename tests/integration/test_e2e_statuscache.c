/* test_e2e_statuscache.c - `status` reads only what changed: the status
 * cache beside the report, counted in the emulator's request log. A
 * second status of a finished rollout makes at most 3 calls and prints
 * the same; a job changed behind the tool's back is read again; a cache
 * that is damaged, of another rollout or of an older format is ignored
 * with a note. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include "orch/engine/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"
#define PK2 "a1Ko2mPq7Rt"
#define FW2 "UkOZxXXnVaLfqvvv8YzC000101"

/* Fast tasks (a step of 50 ms) and quotas scaled so that the tests take
 * seconds; the tool is told the scaled query quota. */
#define EMU_FAST "--auto-create", "--sim-speed", "20", "--qps-scale", "10"
#define TOOL_FAST "--query-qps", "100", "--force-qps"

static const char *const states[] = {"QUEUED",    "NOTIFIED", "IN_PROGRESS",
                                     "SUCCEEDED", "FAILED",   "CANCELED"};

static size_t log_lines(const struct emu_proc *e)
{
    return e2e_log_count(e, NULL, 0);
}

/* The requests of the log from entry `from` on (new reference). */
static json_t *log_since(const struct emu_proc *e, size_t from)
{
    json_t *all = h_read_jsonl(e->log_path);
    json_t *tail = json_array();
    size_t i = 0;

    for (i = from; i < json_array_size(all); i++)
        json_array_append(tail, json_array_get(all, i));
    json_decref(all);
    return tail;
}

/* Runs a rollout of n devices and waits until every task has ended. */
static void finished_rollout(struct e2e_fleet *f, size_t n, const char *ratio)
{
    struct h_run r;
    int tries = 0;

    e2e_fleet_start(f, n, PK,
                    E2E_ARGS(EMU_FAST, "--success-ratio", ratio, "--seed",
                             "5"));
    e2e_fleet_run(&r, f, FW, E2E_ARGS("--qps", "200", "--force-qps"), 0);
    h_run_free(&r);
    for (tries = 0; tries < 100 && e2e_emu_pending(f) > 0; tries++)
        h_sleep_ms(100);
}

/* status --json of f: the document (new reference); *calls the requests
 * it made. */
static json_t *status_json(const struct e2e_fleet *f, int want_exit,
                           size_t *calls, char **err)
{
    struct h_run r;
    size_t before = log_lines(&f->emu);
    json_t *doc = NULL;

    e2e_report_run(&r, f, "status", E2E_ARGS("--json", TOOL_FAST), want_exit);
    doc = e2e_parse_document(r.out);
    *calls = log_lines(&f->emu) - before;
    if (err)
        *err = strdup(r.err);
    h_run_free(&r);
    return doc;
}

/* The document's task counts equal the emulator's own. */
static void assert_counts_match_emulator(const struct e2e_fleet *f,
                                         json_t *doc)
{
    json_t *stats = h_emu_get(&f->emu, "/__emu/stats");
    size_t i = 0;

    for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        json_int_t mine = json_integer_value(
            json_object_get(json_object_get(doc, "tasks"), states[i]));
        json_int_t emu = json_integer_value(
            json_object_get(json_object_get(stats, "tasks"), states[i]));

        if (mine != emu)
            fail_msg("%s: status %lld, emulator %lld", states[i],
                     (long long)mine, (long long)emu);
    }
    json_decref(stats);
}

static void cache_path(const struct e2e_fleet *f, char *out, size_t size)
{
    snprintf(out, size, "%s.status-cache", f->report);
}

/* A finished 20,000-device rollout (100 jobs): the first status lists
 * every job; the second makes at most 3 calls and prints the same. */
static void second_status_of_a_finished_rollout_makes_at_most_3_calls(
    void **state)
{
    struct e2e_fleet f;
    struct h_run a, b;
    char cache[700];
    size_t before = 0, first = 0, second = 0;
    json_t *tail = NULL;

    (void)state;
    finished_rollout(&f, 20000, "1");
    before = log_lines(&f.emu);
    e2e_report_run(&a, &f, "status", E2E_ARGS(TOOL_FAST), 0);
    first = log_lines(&f.emu) - before;
    /* 100 jobs of 200 tasks, every task succeeded: one SUCCEEDED Total
     * each (countplan.h), plus the job states. */
    assert_true(first >= 100);
    cache_path(&f, cache, sizeof(cache));
    e2e_assert_mode_0600(cache);

    before = log_lines(&f.emu);
    e2e_report_run(&b, &f, "status", E2E_ARGS(TOOL_FAST), 0);
    second = log_lines(&f.emu) - before;
    if (second > 3)
        fail_msg("second status: %zu calls (at most 3)", second);
    tail = log_since(&f.emu, before);
    assert_int_equal(e2e_count(tail, "ListOTATaskByJob", 0), 0);
    assert_string_equal(a.out, b.out);
    assert_non_null(strstr(b.out, "tasks: 20000"));
    json_decref(tail);
    h_run_free(&a);
    h_run_free(&b);
    e2e_fleet_stop(&f);
}

/* Every ListOTATaskByJob of the log `tail` names job_id. */
static void assert_only_job_listed(json_t *tail, const char *job_id)
{
    size_t i = 0, n = 0;

    for (i = 0; i < json_array_size(tail); i++) {
        json_t *e = json_array_get(tail, i);

        if (strcmp(e2e_str(e, "action"), "ListOTATaskByJob") != 0)
            continue;
        n++;
        assert_string_equal(e2e_str(json_object_get(e, "params"), "JobId"),
                            job_id);
    }
    assert_true(n > 0);
}

static void console(const struct e2e_fleet *f, const char *job,
                    const char *action)
{
    char form[200];

    snprintf(form, sizeof(form), "job=%s&action=%s", job, action);
    assert_int_equal(h_emu_send(&f->emu, "/__emu/console", form), 200);
}

/* The status of job_id in the document's job_list. */
static const char *job_status(json_t *doc, const char *job_id)
{
    json_t *j = e2e_find_where(json_object_get(doc, "job_list"), "job_id",
                               job_id);

    assert_non_null(j);
    return e2e_str(j, "status");
}

/* The job re-upgraded from the console and ended again before the next
 * status (COMPLETED then as before: only its UtcModified tells): that
 * status reads it again, and only it, and its counts follow. */
static void reupgraded_job_alone_is_read_again(const struct e2e_fleet *f,
                                               const char *job)
{
    json_t *doc = NULL, *tail = NULL;
    size_t calls = 0, before = 0;
    int tries = 0;

    console(f, job, "reupgrade");
    for (tries = 0; tries < 50 && e2e_emu_pending(f) > 0; tries++)
        h_sleep_ms(100);
    assert_int_equal(e2e_emu_pending(f), 0);
    before = log_lines(&f->emu);
    doc = status_json(f, 1, &calls, NULL);
    tail = log_since(&f->emu, before);
    assert_only_job_listed(tail, job);
    assert_string_equal(job_status(doc, job), "COMPLETED");
    assert_counts_match_emulator(f, doc);
    json_decref(tail);
    json_decref(doc);
}

/* A job re-upgraded, then cancelled, from the console: each time that job
 * alone is read again and the counts follow the emulator's. */
static void a_job_changed_behind_the_back_is_read_again(void **state)
{
    struct e2e_fleet f;
    json_t *doc = NULL, *tail = NULL, *jobs = NULL;
    char job[64], other[64];
    size_t calls = 0, before = 0;

    (void)state;
    finished_rollout(&f, 1000, "0.5");
    doc = status_json(&f, 1, &calls, NULL);
    assert_counts_match_emulator(&f, doc);
    jobs = json_object_get(doc, "job_list");
    snprintf(job, sizeof(job), "%s",
             e2e_str(json_array_get(jobs, 1), "job_id"));
    snprintf(other, sizeof(other), "%s",
             e2e_str(json_array_get(jobs, 3), "job_id"));
    json_decref(doc);

    /* Re-upgraded, and ended again before the next status (COMPLETED
     * then as before: only its UtcModified tells): the job is read again,
     * and only it. */
    reupgraded_job_alone_is_read_again(&f, job);

    /* Re-upgraded and cancelled at once: CANCELED tasks, a CANCELED job. */
    console(&f, other, "reupgrade");
    console(&f, other, "cancel");
    before = log_lines(&f.emu);
    doc = status_json(&f, 1, &calls, NULL);
    tail = log_since(&f.emu, before);
    assert_only_job_listed(tail, other);
    assert_string_equal(job_status(doc, other), "CANCELED");
    assert_true(torture_json_num(doc, "tasks", "CANCELED") > 0);
    assert_counts_match_emulator(&f, doc);
    json_decref(tail);
    json_decref(doc);

    /* Nothing changed since: no job listed. */
    before = log_lines(&f.emu);
    doc = status_json(&f, 1, &calls, NULL);
    assert_true(calls <= 3);
    tail = log_since(&f.emu, before);
    assert_int_equal(e2e_count(tail, "ListOTATaskByJob", 0), 0);
    assert_counts_match_emulator(&f, doc);
    json_decref(tail);
    json_decref(doc);
    e2e_fleet_stop(&f);
}

/* The first status of a rollout of more than 20 jobs reads 20 of them
 * without their states, and learns the others' states only when that
 * sample says it saves calls. 30 jobs of 200 devices, a failed task in
 * every one: every job needs its two pages anyway, so no state is asked
 * (60 calls, no more than the plain listing); the jobs are still kept by
 * the time of their read, so the second status makes at most 3 calls,
 * and a sampled job re-upgraded behind the tool's back is read again. */
static void a_first_status_learns_states_only_when_they_pay(void **state)
{
    struct e2e_fleet f;
    json_t *doc = NULL, *tail = NULL;
    char job[64];
    size_t calls = 0, before = 0;

    (void)state;
    finished_rollout(&f, 6000, "0.9");
    before = log_lines(&f.emu);
    doc = status_json(&f, 1, &calls, NULL);
    tail = log_since(&f.emu, before);
    assert_int_equal(e2e_count(tail, "ListOTAJobByFirmware", 0), 0);
    assert_int_equal(e2e_count(tail, "QueryOTAJob", 0), 0);
    assert_int_equal(e2e_count(tail, "ListOTATaskByJob", 0), 60);
    assert_int_equal(calls, 60);
    assert_counts_match_emulator(&f, doc);
    snprintf(job, sizeof(job), "%s",
             e2e_str(json_array_get(json_object_get(doc, "job_list"), 1),
                     "job_id"));
    json_decref(tail);
    json_decref(doc);

    doc = status_json(&f, 1, &calls, NULL);
    if (calls > 3)
        fail_msg("second status: %zu calls (at most 3)", calls);
    assert_counts_match_emulator(&f, doc);
    json_decref(doc);

    reupgraded_job_alone_is_read_again(&f, job);
    e2e_fleet_stop(&f);
}

/* The same 30 jobs with every task succeeded: the sample's 20 clean jobs
 * promise a call saved per job, so the other 10 jobs' states are learnt
 * (one list page) and each is counted by its SUCCEEDED Total: 20 x 2 +
 * 1 + 10 calls. */
static void a_clean_sample_learns_the_states_of_the_rest(void **state)
{
    struct e2e_fleet f;
    json_t *doc = NULL, *tail = NULL;
    size_t calls = 0, before = 0;

    (void)state;
    finished_rollout(&f, 6000, "1");
    before = log_lines(&f.emu);
    doc = status_json(&f, 0, &calls, NULL);
    tail = log_since(&f.emu, before);
    assert_int_equal(e2e_count(tail, "ListOTAJobByFirmware", 0), 1);
    assert_int_equal(e2e_count(tail, "ListOTATaskByJob", 0), 50);
    assert_int_equal(calls, 51);
    assert_counts_match_emulator(&f, doc);
    json_decref(tail);
    json_decref(doc);
    e2e_fleet_stop(&f);
}

/* Writes the cache file `path` again with its header's format version
 * set to v (every record re-framed as the tool frames them). */
static void rewrite_version(const char *path, int v)
{
    size_t len = 0;
    char *text = h_slurp(path, &len);
    char *nl = strchr(text, '\n');
    const char *payload = strchr(text, '{');
    json_t *hdr = json_loadb(payload, (size_t)(nl - payload), 0, NULL);
    char *line = NULL;
    size_t llen = 0;
    FILE *fp = NULL;

    assert_non_null(hdr);
    json_object_set_new(hdr, "v", json_integer(v));
    assert_int_equal(orch_journal_frame(hdr, &line, &llen), 0);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    fwrite(line, 1, llen, fp);
    fwrite(nl + 1, 1, len - (size_t)(nl + 1 - text), fp);
    fclose(fp);
    json_decref(hdr);
    free(line);
    free(text);
}

/* Runs status with the cache as `prepare` left it: a note naming why it
 * was ignored, every job read, the same counts; then the cache is whole
 * again (the next status lists nothing). */
static void expect_ignored(const struct e2e_fleet *f, const char *why,
                           json_t *want)
{
    char *err = NULL;
    size_t calls = 0;
    json_t *doc = status_json(f, 0, &calls, &err);

    if (strstr(err, "status-cache: ignored (") == NULL ||
        strstr(err, why) == NULL)
        fail_msg("no note saying \"%s\": %s", why, err);
    assert_true(calls >= 5); /* 5 jobs of 200 tasks, a SUCCEEDED Total each */
    assert_true(json_equal(json_object_get(doc, "tasks"),
                           json_object_get(want, "tasks")));
    json_decref(doc);
    free(err);
    doc = status_json(f, 0, &calls, &err);
    assert_true(calls <= 3);
    assert_null(strstr(err, "ignored"));
    json_decref(doc);
    free(err);
}

static void a_damaged_foreign_or_old_cache_is_ignored_with_a_note(
    void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    char cache[700], inv2[700], report2[700], cache2[800];
    const char *argv[E2E_MAX_ARGS];
    json_t *want = NULL;
    size_t calls = 0, len = 0;
    char *text = NULL;
    FILE *fp = NULL;

    (void)state;
    finished_rollout(&f, 1000, "1");
    want = status_json(&f, 0, &calls, NULL);
    cache_path(&f, cache, sizeof(cache));

    /* Damaged: one byte of a job record flipped. */
    text = h_slurp(cache, &len);
    text[len / 2] = text[len / 2] == 'A' ? 'B' : 'A';
    fp = fopen(cache, "wb");
    fwrite(text, 1, len, fp);
    fclose(fp);
    free(text);
    expect_ignored(&f, "damaged", want);

    /* Of an older format. */
    rewrite_version(cache, 0);
    expect_ignored(&f, "another version", want);

    /* Of another rollout: a second rollout's cache in its place. */
    e2e_scratch_paths(f.dir, "second", inv2, report2, sizeof(inv2));
    h_write_inventory(inv2, 400, PK2);
    argv[0] = "run";
    argv[1] = inv2;
    argv[2] = "--firmware-id";
    argv[3] = FW2;
    argv[4] = "--endpoint";
    argv[5] = f.emu.endpoint;
    argv[6] = "--yes";
    argv[7] = "--report";
    argv[8] = report2;
    argv[9] = NULL;
    e2e_run_expect(&r, argv, NULL, 0, 60, 0);
    h_run_free(&r);
    h_sleep_ms(1000); /* its tasks end (about 0.4 s) */
    argv[0] = "status";
    argv[1] = report2;
    argv[2] = "--endpoint";
    argv[3] = f.emu.endpoint;
    argv[4] = "--query-qps";
    argv[5] = "100";
    argv[6] = "--force-qps";
    argv[7] = NULL;
    e2e_run_expect(&r, argv, NULL, 0, 60, 0);
    h_run_free(&r);
    snprintf(cache2, sizeof(cache2), "%s.status-cache", report2);
    assert_int_equal(rename(cache2, cache), 0);
    expect_ignored(&f, "another rollout", want);

    /* Deleted: read again, silently. */
    assert_int_equal(remove(cache), 0);
    json_decref(status_json(&f, 0, &calls, NULL));
    assert_true(calls >= 5); /* every job read: a SUCCEEDED Total each */
    json_decref(want);
    e2e_fleet_stop(&f);
}

/* A gate polls only its wave's jobs not decided yet: 20 jobs of 2 tasks
 * whose tasks end 6, 7 or 8 s after they start (sim-speed 1, a task
 * waits 0-2 extra steps); polled every second, a job that ended early is
 * not listed again, so the jobs are not all listed the same number of
 * times (they would be if every poll listed every job). */
static void a_gate_polls_only_undecided_jobs(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    const char *argv[E2E_MAX_ARGS];
    json_t *log = NULL, *per_job = json_object(), *wave1 = json_object();
    json_t *rows = NULL, *row = NULL;
    const char *key = NULL;
    json_t *v = NULL;
    json_int_t least = -1, most = 0;
    size_t i = 0;

    (void)state;
    e2e_fleet_start(&f, 60, PK, E2E_ARGS("--auto-create", "--sim-speed", "1",
                                         "--seed", "3"));
    e2e_fleet_argv(argv, &f, FW,
                   E2E_ARGS("--chunk-size", "2", "--waves", "40,all",
                            "--success-threshold", "100%", "--poll-interval",
                            "1s", "--wait"));
    e2e_run_expect(&r, argv, NULL, 0, 120, 0);
    h_run_free(&r);
    log = h_read_jsonl(f.emu.log_path);
    for (i = 0; i < json_array_size(log); i++) {
        json_t *e = json_array_get(log, i);
        const char *job = e2e_str(json_object_get(e, "params"), "JobId");
        json_t *n = NULL;

        if (strcmp(e2e_str(e, "action"), "ListOTATaskByJob") != 0)
            continue;
        n = json_object_get(per_job, job);
        json_object_set_new(per_job, job,
                            json_integer(n ? json_integer_value(n) + 1 : 1));
    }
    /* Wave 1's jobs: chunks 1-20 of the report. */
    rows = h_read_csv(f.report);
    json_array_foreach(rows, i, row)
    {
        if (atol(e2e_str(row, "chunk")) <= 20)
            json_object_set(wave1, e2e_str(row, "job_id"), json_true());
    }
    assert_int_equal(json_object_size(wave1), 20);
    json_object_foreach(per_job, key, v)
    {
        json_int_t n = json_integer_value(v);

        if (json_object_get(wave1, key) == NULL)
            continue;
        least = least < 0 || n < least ? n : least;
        most = n > most ? n : most;
    }
    if (least == most)
        fail_msg("every job listed %lld times: decided jobs polled again",
                 (long long)most);
    json_decref(per_job);
    json_decref(wave1);
    json_decref(rows);
    json_decref(log);
    e2e_fleet_stop(&f);
}

E2E_MAIN(
    cmocka_unit_test(second_status_of_a_finished_rollout_makes_at_most_3_calls),
    cmocka_unit_test(a_job_changed_behind_the_back_is_read_again),
    cmocka_unit_test(a_first_status_learns_states_only_when_they_pay),
    cmocka_unit_test(a_clean_sample_learns_the_states_of_the_rest),
    cmocka_unit_test(a_damaged_foreign_or_old_cache_is_ignored_with_a_note),
    cmocka_unit_test(a_gate_polls_only_undecided_jobs))
