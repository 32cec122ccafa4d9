/* test_e2e_journal_compat.c - a journal written before the layer redesign
 * (tests/fixtures/journal-v1, see its README.md) resumes: the 3 chunks it
 * left unsent are created, the 7 it created are not sent again, and the
 * report ends with one row per chunk. A waved journal written when waves
 * were rounded to whole chunks (tests/fixtures/journal-waves-v1) resumes
 * with that plan: its canary is two whole chunks, not the exact 15
 * devices a new run would cut. The real binaries over loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "e2e_util.h"
#include "harness.h"
#include "orch/base/err.h"
#include "orch/engine/journal.h"

#define FIXTURE ORCH_FIXTURES "/journal-v1"
#define FIXTURE_WAVES ORCH_FIXTURES "/journal-waves-v1"

static void copy_file(const char *from, const char *to)
{
    size_t len = 0;
    char *data = h_slurp(from, &len);
    FILE *fp = NULL;

    assert_non_null(data);
    fp = fopen(to, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    free(data);
}

/* Writes the fixture's journal to `to` with the run record's "inventory"
 * pointing at `inventory`; every other record is copied byte for byte. */
static void copy_journal(const char *from, const char *to,
                         const char *inventory)
{
    size_t len = 0;
    char *data = h_slurp(from, &len);
    char *nl = NULL;
    const char *payload = NULL;
    json_t *run = NULL;
    struct orch_journal j;
    struct orch_diag diag = {{0}};
    FILE *fp = NULL;

    assert_non_null(data);
    nl = strchr(data, '\n');
    assert_non_null(nl);
    *nl = '\0';
    payload = strchr(data, '{');
    assert_non_null(payload);
    run = json_loads(payload, 0, NULL);
    assert_non_null(run);
    assert_string_equal(json_string_value(json_object_get(run, "t")), "run");
    json_object_set_new(run, "inventory", json_string(inventory));
    assert_int_equal(orch_journal_open(&j, to, (size_t)-1, &diag), 0);
    assert_int_equal(orch_journal_append(&j, run), 0);
    assert_int_equal(orch_journal_close(&j), 0);
    fp = fopen(to, "ab");
    assert_non_null(fp);
    fputs(nl + 1, fp);
    assert_int_equal(fclose(fp), 0);
    json_decref(run);
    free(data);
}

static void old_journal_resumes_after_the_redesign(void **state)
{
    struct e2e_fleet f;
    char inv[600], report[600], journal[700], failed[700];
    struct h_run r;
    json_t *rows = NULL, *jobs = NULL;

    const char *emu[] = {"--auto-create", NULL};

    (void)state;
    e2e_fleet_start(&f, 0, NULL, emu);
    snprintf(inv, sizeof inv, "%s/inv.csv", f.dir);
    snprintf(report, sizeof report, "%s/inv.report.csv", f.dir);
    snprintf(journal, sizeof journal, "%s.journal", report);
    snprintf(failed, sizeof failed, "%s.failed.csv", report);
    copy_file(FIXTURE "/inv.csv", inv);
    copy_file(FIXTURE "/inv.report.csv", report);
    copy_file(FIXTURE "/inv.report.csv.failed.csv", failed);
    copy_journal(FIXTURE "/inv.report.csv.journal", journal, inv);

    const char *argv[] = {"resume", report, "--endpoint", f.emu.endpoint,
                          "--yes", NULL};
    e2e_run_expect(&r, argv, NULL, 0, 120, 0);
    /* Only the three chunks the old run never sent were sent now. */
    assert_int_equal(e2e_log_count(&f.emu, "CreateOTAStaticUpgradeJob", 1), 3);
    rows = h_read_csv(report);
    assert_int_equal(json_array_size(rows), 10);
    assert_int_equal(e2e_count_where(rows, "status", "created"), 10);
    /* The seven old rows keep the job ids the old run wrote. */
    assert_non_null(e2e_find_where(rows, "job_id",
                                   "hnRJoyZ86uepkGWlftAAAAAAAB"));
    jobs = h_emu_get(&f.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 3);
    h_run_free(&r);
    json_decref(rows);
    json_decref(jobs);
    e2e_fleet_stop(&f);
}

static void old_waved_journal_keeps_whole_chunk_waves(void **state)
{
    struct e2e_fleet f;
    char inv[600], report[600], journal[700], waves[700];
    struct h_run r;
    json_t *rows = NULL, *jobs = NULL, *wrows = NULL;
    size_t i = 0;
    const char *emu[] = {"--auto-create", "--sim-speed", "20", NULL};

    (void)state;
    e2e_fleet_start(&f, 0, NULL, emu);
    snprintf(inv, sizeof inv, "%s/inv.csv", f.dir);
    snprintf(report, sizeof report, "%s/inv.report.csv", f.dir);
    snprintf(journal, sizeof journal, "%s.journal", report);
    snprintf(waves, sizeof waves, "%s.waves.csv", report);
    copy_file(FIXTURE_WAVES "/inv.csv", inv);
    copy_journal(FIXTURE_WAVES "/inv.report.csv.journal", journal, inv);

    const char *argv[] = {"resume", report, "--endpoint", f.emu.endpoint,
                          "--yes", "--poll-interval", "1s", NULL};
    e2e_run_expect(&r, argv, NULL, 0, 120, 0);
    /* The journal's plan: 10 chunks, the canary chunks 1-2 (20 devices). */
    assert_non_null(strstr(r.err, "wave 1 (canary): chunks 1-2, 20 devices"));
    jobs = h_emu_get(&f.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 10);
    rows = h_read_csv(report);
    assert_int_equal(json_array_size(rows), 10);
    assert_int_equal(e2e_count_where(rows, "status", "created"), 10);
    e2e_assert_report_matches_jobs(rows, jobs);
    /* Every chunk of 10 devices; chunks 1-2 in wave 1. */
    assert_int_equal(e2e_count_where(rows, "device_count", "10"), 10);
    wrows = h_read_csv(waves);
    assert_int_equal(json_array_size(wrows), 10);
    for (i = 0; i < 10; i++)
        assert_string_equal(e2e_str(json_array_get(wrows, i), "wave"),
                            i < 2 ? "1" : "2");
    h_run_free(&r);
    json_decref(rows);
    json_decref(wrows);
    json_decref(jobs);
    e2e_fleet_stop(&f);
}

E2E_MAIN(cmocka_unit_test(old_journal_resumes_after_the_redesign),
         cmocka_unit_test(old_waved_journal_keeps_whole_chunk_waves))
