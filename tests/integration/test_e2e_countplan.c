/* test_e2e_countplan.c - `status` counts each job's tasks with the
 * cheapest ListOTATaskByJob calls (rollout/countplan.h), counted in the
 * emulator's request log, and prints exactly what the full listing
 * prints. The full listing is forced with OTA_ROLLOUT_TEST_COUNT_PLAN=full
 * (a test hook of status.c; --devices forces it too), the Totals with
 * =totals. Each comparison starts without a status cache. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"

#define TOOL_FAST "--query-qps", "100", "--force-qps"

static const char *const compared[] = {"devices", "plan",    "jobs",
                                       "tasks",   "products", "reasons",
                                       "job_list"};

/* A rollout of n devices (jobs of 200) whose tasks have all ended. */
static void finished_rollout(struct e2e_fleet *f, size_t n, const char *ratio)
{
    struct h_run r;
    int tries = 0;

    e2e_fleet_start(f, n, PK,
                    E2E_ARGS("--auto-create", "--sim-speed", "20",
                             "--qps-scale", "10", "--success-ratio", ratio,
                             "--seed", "7"));
    e2e_fleet_run(&r, f, FW, E2E_ARGS("--qps", "200", "--force-qps"), 0);
    h_run_free(&r);
    for (tries = 0; tries < 100 && e2e_emu_pending(f) > 0; tries++)
        h_sleep_ms(100);
    assert_int_equal(e2e_emu_pending(f), 0);
}

struct status_run {
    char *out;    /* stdout (malloced) */
    json_t *log;  /* the requests it made */
    size_t calls; /* how many */
};

/* `status <report> [--json]` with OTA_ROLLOUT_TEST_COUNT_PLAN=plan (NULL:
 * unset), after deleting the status cache. */
static void status_with(struct status_run *s, const struct e2e_fleet *f,
                        const char *plan, int json, int want_exit)
{
    const char *argv[] = {"status",      f->report, "--endpoint",
                          f->emu.endpoint, TOOL_FAST,  json ? "--json" : NULL,
                          NULL};
    char envvar[64];
    const char *env[] = {envvar, NULL};
    char cache[700];
    json_t *all = NULL;
    size_t before = e2e_log_count(&f->emu, NULL, 0), i = 0;
    struct h_run r;

    snprintf(cache, sizeof(cache), "%s.status-cache", f->report);
    unlink(cache);
    snprintf(envvar, sizeof(envvar), "OTA_ROLLOUT_TEST_COUNT_PLAN=%s",
             plan ? plan : "");
    e2e_run_expect(&r, argv, plan ? env : NULL, 0, 60, want_exit);
    s->out = strdup(r.out);
    all = h_read_jsonl(f->emu.log_path);
    s->log = json_array();
    for (i = before; i < json_array_size(all); i++)
        json_array_append(s->log, json_array_get(all, i));
    s->calls = json_array_size(s->log);
    json_decref(all);
    h_run_free(&r);
}

static void status_run_free(struct status_run *s)
{
    free(s->out);
    json_decref(s->log);
}

/* The ListOTATaskByJob requests of log filtered by TaskStatus `st` (NULL:
 * unfiltered) with PageSize `size` (0: any). */
static size_t task_calls(json_t *log, const char *st, const char *size)
{
    size_t i = 0, n = 0;

    for (i = 0; i < json_array_size(log); i++) {
        json_t *e = json_array_get(log, i);
        json_t *p = json_object_get(e, "params");
        const char *fs = json_string_value(json_object_get(p, "TaskStatus"));
        const char *ps = json_string_value(json_object_get(p, "PageSize"));

        if (strcmp(e2e_str(e, "action"), "ListOTATaskByJob") != 0)
            continue;
        if ((st == NULL) != (fs == NULL) || (st && strcmp(st, fs) != 0))
            continue;
        if (size && (ps == NULL || strcmp(ps, size) != 0))
            continue;
        n++;
    }
    return n;
}

/* The two --json documents say the same of the rollout. */
static void assert_same_document(const char *a, const char *b)
{
    json_t *da = e2e_parse_document(a);
    json_t *db = e2e_parse_document(b);
    size_t i = 0;

    for (i = 0; i < sizeof(compared) / sizeof(compared[0]); i++) {
        if (!json_equal(json_object_get(da, compared[i]),
                        json_object_get(db, compared[i]))) {
            char *x = json_dumps(json_object_get(da, compared[i]), 0);
            char *y = json_dumps(json_object_get(db, compared[i]), 0);

            fail_msg("\"%s\" differs:\n%s\n%s", compared[i], x, y);
        }
    }
    json_decref(da);
    json_decref(db);
}

/* Every task succeeded: one SUCCEEDED Total a job (PageSize 1) instead of
 * two pages; the screen and the document are the full listing's. */
static void all_succeeded_costs_one_call_a_job(void **state)
{
    struct e2e_fleet f;
    struct status_run full, plan, full_j, plan_j;

    (void)state;
    finished_rollout(&f, 2000, "1"); /* 10 jobs of 200 */
    status_with(&full, &f, "full", 0, 0);
    status_with(&plan, &f, NULL, 0, 0);
    assert_int_equal(task_calls(full.log, NULL, "100"), 20);
    assert_int_equal(e2e_count(plan.log, "ListOTATaskByJob", 0), 10);
    assert_int_equal(task_calls(plan.log, "SUCCEEDED", "1"), 10);
    if (plan.calls >= full.calls)
        fail_msg("counted: %zu calls, full listing: %zu", plan.calls,
                 full.calls);
    assert_string_equal(plan.out, full.out);
    assert_non_null(strstr(plan.out, "tasks: 2000"));

    status_with(&full_j, &f, "full", 1, 0);
    status_with(&plan_j, &f, NULL, 1, 0);
    assert_same_document(plan_j.out, full_j.out);
    status_run_free(&full);
    status_run_free(&plan);
    status_run_free(&full_j);
    status_run_free(&plan_j);
    e2e_fleet_stop(&f);
}

/* Some tasks failed: the FAILED tasks are listed (their reasons), the
 * rest counted by Totals; counts and reasons are the full listing's, in
 * no more calls; the cache written from the counts gives them again. */
static void failures_keep_their_reasons(void **state)
{
    struct e2e_fleet f;
    struct status_run full, plan;
    struct h_run again;

    (void)state;
    finished_rollout(&f, 2000, "0.9");
    status_with(&full, &f, "full", 1, 1);
    status_with(&plan, &f, NULL, 1, 1);
    assert_true(task_calls(plan.log, "FAILED", "100") > 0);
    assert_int_equal(task_calls(plan.log, NULL, "100"), 0);
    if (plan.calls > full.calls)
        fail_msg("counted: %zu calls, full listing: %zu", plan.calls,
                 full.calls);
    assert_same_document(plan.out, full.out);

    /* The next status takes every job from the cache written above. */
    e2e_report_run(&again, &f, "status",
                   E2E_ARGS("--json", TOOL_FAST), 1);
    assert_same_document(again.out, full.out);
    h_run_free(&again);
    status_run_free(&full);
    status_run_free(&plan);
    e2e_fleet_stop(&f);
}

/* Running jobs whose tasks stay QUEUED (--sim-speed 0): the per-state
 * Totals (forced: the jobs are small) count what the full listing
 * counts. */
static void running_jobs_by_state_totals(void **state)
{
    struct e2e_fleet f;
    struct status_run full, plan;
    struct h_run r;

    (void)state;
    e2e_fleet_start(&f, 400, PK,
                    E2E_ARGS("--auto-create", "--sim-speed", "0",
                             "--qps-scale", "10"));
    e2e_fleet_run(&r, &f, FW, E2E_ARGS("--qps", "200", "--force-qps"), 0);
    h_run_free(&r);
    status_with(&full, &f, "full", 1, 1);
    status_with(&plan, &f, "totals", 1, 1);
    assert_int_equal(task_calls(plan.log, NULL, "100"), 0);
    assert_int_equal(task_calls(plan.log, NULL, "1"), 2); /* T per job */
    assert_int_equal(task_calls(plan.log, "QUEUED", "1"), 2);
    assert_int_equal(task_calls(plan.log, "FAILED", "100"), 2);
    assert_same_document(plan.out, full.out);
    status_run_free(&full);
    status_run_free(&plan);
    e2e_fleet_stop(&f);
}

E2E_MAIN(cmocka_unit_test(all_succeeded_costs_one_call_a_job),
         cmocka_unit_test(failures_keep_their_reasons),
         cmocka_unit_test(running_jobs_by_state_totals))
