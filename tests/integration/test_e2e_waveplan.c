/* test_e2e_waveplan.c - the plan from the spreadsheet end to end against
 * ota-emulator: --waves 1%,100% over 10,000 devices makes a canary of
 * exactly 100 devices in one job; with two products on two firmware,
 * --waves 1%,10%,100% puts both products in every wave; --where and
 * --wave-column/--wave-order on an inventory with extra columns (site,
 * region, model, wave) send exactly the rows selected, wave by wave, and
 * stop before anything is sent (exit 3, file and line) on a column the
 * file lacks, a filter that keeps nothing, an empty wave cell or a wave
 * missing from --wave-order. Gates pass fast: the emulator's --sim-speed,
 * and --poll-interval 1s. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PK "a1BwAGVabcd"
#define PK2 "a1BwAGVwxyz"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"
#define FW2 "UkOZxXXnVaLfqvvv8YzC000200"

static void run_fleet(struct e2e_fleet *f, struct h_run *r,
                      const char *const *extra, int want_exit)
{
    const char *argv[E2E_MAX_ARGS];
    const char *with[E2E_MAX_ARGS] = {"--poll-interval", "1s"};
    size_t n = 2, i = 0;

    for (i = 0; extra && extra[i] && n + 1 < E2E_MAX_ARGS; i++)
        with[n++] = extra[i];
    e2e_run_expect(r, e2e_fleet_argv(argv, f, FW, with), NULL, 0, 120,
                   want_exit);
}

/* The emulator's job with this id, or NULL. */
static json_t *job_by_id(json_t *jobs, const char *id)
{
    return e2e_find_where(jobs, "JobId", id);
}

/* Devices of product pk in wave `wave` (1-based), from the report, the
 * waves file and the emulator's jobs; *with_pk counts the wave's jobs of
 * that product. */
static size_t wave_devices(json_t *rows, json_t *wrows, json_t *jobs,
                           const char *wave, const char *pk, size_t *njobs)
{
    size_t i = 0, n = 0;
    json_t *w = NULL;

    *njobs = 0;
    json_array_foreach(wrows, i, w) {
        json_t *row = e2e_find_where(rows, "chunk", e2e_str(w, "chunk"));
        json_t *job = NULL;

        if (strcmp(e2e_str(w, "wave"), wave) != 0)
            continue;
        assert_non_null(row);
        job = job_by_id(jobs, e2e_str(row, "job_id"));
        assert_non_null(job);
        if (strcmp(e2e_str(job, "ProductKey"), pk) == 0) {
            n += json_array_size(json_object_get(job, "Devices"));
            (*njobs)++;
        }
    }
    return n;
}

static void canary_is_exactly_100_devices(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--sim-speed", "20", NULL};
    json_t *jobs = NULL, *rows = NULL, *canary = NULL, *dev = NULL;
    size_t i = 0, hundred = 0;
    char name[32];

    (void)state;
    e2e_fleet_start(&f, 10000, PK, emu);
    run_fleet(&f, &r, E2E_ARGS("--waves", "1%,100%"), 0);
    assert_non_null(strstr(r.err, "wave 1 (canary): chunks 1-1, 100 devices"));
    assert_non_null(strstr(r.err, "wave 2: chunks 2-51, 9900 devices"));
    jobs = h_emu_get(&f.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 51);
    e2e_assert_each_device_once(jobs, 10000);
    rows = h_read_csv(f.report);
    e2e_assert_report_matches_jobs(rows, jobs);
    /* The canary: chunk 1, one job of the first 100 devices; no other job
     * has 100 devices. */
    assert_string_equal(e2e_str(json_array_get(rows, 0), "device_count"),
                        "100");
    canary = job_by_id(jobs, e2e_str(json_array_get(rows, 0), "job_id"));
    assert_non_null(canary);
    json_array_foreach(json_object_get(canary, "Devices"), i, dev) {
        snprintf(name, sizeof(name), "dev-%06zu", i);
        assert_string_equal(json_string_value(dev), name);
    }
    json_array_foreach(jobs, i, dev) {
        if (json_array_size(json_object_get(dev, "Devices")) == 100)
            hundred++;
    }
    assert_int_equal(hundred, 2); /* the canary and the last chunk */
    h_run_free(&r);
    json_decref(rows);
    json_decref(jobs);
    e2e_fleet_stop(&f);
}

/* 1,000 devices "dev-%06zu", every 7th of product PK2. */
static void write_two_products(const char *path)
{
    FILE *fp = fopen(path, "w");
    size_t i = 0;

    assert_non_null(fp);
    fprintf(fp, "DeviceName,ProductKey\n");
    for (i = 0; i < 1000; i++)
        fprintf(fp, "dev-%06zu,%s\n", i, i % 7 == 3 ? PK2 : PK);
    assert_int_equal(fclose(fp), 0);
}

static void every_product_in_every_wave(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--sim-speed", "20", NULL};
    json_t *jobs = NULL, *rows = NULL, *wrows = NULL;
    char waves[700];
    size_t j1 = 0, j2 = 0;

    (void)state;
    e2e_fleet_start(&f, 0, PK, emu);
    write_two_products(f.inv);
    snprintf(waves, sizeof(waves), "%s.waves.csv", f.report);
    run_fleet(&f, &r,
              E2E_ARGS("--firmware", PK "=" FW, "--firmware", PK2 "=" FW2,
                       "--waves", "1%,10%,100%"),
              0);
    jobs = h_emu_get(&f.emu, "/__emu/jobs");
    e2e_assert_each_device_once(jobs, 1000);
    rows = h_read_csv(f.report);
    e2e_assert_report_matches_jobs(rows, jobs);
    wrows = h_read_csv(waves);
    /* 857 + 143 devices. Wave 1 (10): 9 + 1; wave 2 (90): 77 + 13. */
    assert_int_equal(wave_devices(rows, wrows, jobs, "1", PK, &j1), 9);
    assert_int_equal(wave_devices(rows, wrows, jobs, "1", PK2, &j2), 1);
    assert_int_equal(j1 + j2, 2);
    assert_int_equal(wave_devices(rows, wrows, jobs, "2", PK, &j1), 77);
    assert_int_equal(wave_devices(rows, wrows, jobs, "2", PK2, &j2), 13);
    assert_int_equal(wave_devices(rows, wrows, jobs, "3", PK, &j1), 771);
    assert_int_equal(wave_devices(rows, wrows, jobs, "3", PK2, &j2), 129);
    /* The plan told it. */
    assert_non_null(strstr(r.err, "wave 1: 10 devices in 2 jobs: " PK
                                  " 9 devices (1 job), " PK2
                                  " 1 device (1 job)"));
    /* Each product's jobs carry its own firmware. */
    assert_int_equal(e2e_count_where(jobs, "FirmwareId", FW2),
                     e2e_count_where(jobs, "ProductKey", PK2));
    h_run_free(&r);
    json_decref(rows);
    json_decref(wrows);
    json_decref(jobs);
    e2e_fleet_stop(&f);
}

/* 60 rows with extra columns: site/region cycle Berlin/eu, Shanghai/cn,
 * Austin/us; model m0/m1 alternate; wave canary (rows 0-9), early
 * (10-19), rest. With `empty_wave` one row of the selection has no
 * wave. */
static void write_sheet(const char *path, int empty_wave)
{
    static const char *const site[] = {"Berlin", "Shanghai", "Austin"};
    static const char *const region[] = {"eu", "cn", "us"};
    FILE *fp = fopen(path, "w");
    size_t i = 0;

    assert_non_null(fp);
    fprintf(fp, "Device Name,Product Key,Site,Region,Model,Wave\n");
    for (i = 0; i < 60; i++)
        fprintf(fp, "dev-%06zu,%s,%s,%s,m%zu,%s\n", i, PK, site[i % 3],
                region[i % 3], i % 2,
                empty_wave && i == 31 ? ""
                : i < 10              ? "canary"
                : i < 20              ? "early"
                                      : "rest");
    assert_int_equal(fclose(fp), 0);
}

/* Whether device i is selected by region=eu,cn and model=m0. */
static bool selected(size_t i)
{
    return i % 3 != 2 && i % 2 == 0;
}

static void where_and_wave_column(void **state)
{
    struct e2e_fleet f;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--sim-speed", "20", NULL};
    json_t *jobs = NULL, *rows = NULL, *job = NULL, *dev = NULL;
    size_t i = 0, j = 0, n = 0, k = 0, want = 0;
    unsigned long d = 0;

    (void)state;
    e2e_fleet_start(&f, 0, PK, emu);
    write_sheet(f.inv, 0);
    run_fleet(&f, &r,
              E2E_ARGS("--where", "Region=eu,cn", "--where", "model=m0",
                       "--wave-column", "WAVE", "--wave-order",
                       "canary,early,rest"),
              0);
    assert_non_null(strstr(r.err, "--where Region=eu,cn: kept 40 of 60 rows"));
    assert_non_null(strstr(r.err, "--where model=m0: kept 20 of 40 rows"));
    assert_non_null(strstr(r.err, "40 rows left out by --where"));
    assert_non_null(strstr(r.err, "wave 1 \"canary\": 3 devices in 1 job"));
    jobs = h_emu_get(&f.emu, "/__emu/jobs");
    rows = h_read_csv(f.report);
    e2e_assert_report_matches_jobs(rows, jobs);
    assert_int_equal(json_array_size(jobs), 3);
    /* Every job: selected devices of one wave; chunk k is wave k. */
    for (k = 0; k < 3; k++) {
        job = job_by_id(jobs, e2e_str(json_array_get(rows, k), "job_id"));
        assert_non_null(job);
        json_array_foreach(json_object_get(job, "Devices"), j, dev) {
            assert_int_equal(sscanf(json_string_value(dev), "dev-%lu", &d),
                             1);
            assert_true(selected(d));
            assert_int_equal(d < 10 ? 0 : d < 20 ? 1 : 2, k);
            n++;
        }
    }
    for (i = 0; i < 60; i++)
        want += selected(i);
    assert_int_equal(n, want);
    /* Rows left out are not rejected. */
    assert_null(strstr(r.err, "rejected: 4"));
    h_run_free(&r);
    json_decref(rows);
    json_decref(jobs);
    e2e_fleet_stop(&f);
}

/* One refused run: exit want, its stderr holds `says`, nothing sent. */
static void refused(struct e2e_fleet *f, const char *const *extra, int want,
                    const char *says)
{
    struct h_run r;

    run_fleet(f, &r, extra, want);
    if (strstr(r.err, says) == NULL)
        fail_msg("want \"%s\" in: %s", says, r.err);
    assert_int_equal(e2e_log_count(&f->emu, "CreateOTAStaticUpgradeJob", 0),
                     0);
    h_run_free(&r);
}

static void spreadsheet_refusals(void **state)
{
    struct e2e_fleet f;
    char where[800];

    (void)state;
    e2e_fleet_start(&f, 0, PK, E2E_ARGS("--auto-create"));
    write_sheet(f.inv, 0);
    snprintf(where, sizeof(where),
             "%s:1: --where country=de: the header has no column "
             "\"country\" (the columns are \"Device Name\", \"Product Key\", "
             "\"Site\", \"Region\", \"Model\", \"Wave\")",
             f.inv);
    refused(&f, E2E_ARGS("--where", "country=de"), 3, where);
    refused(&f, E2E_ARGS("--where", "site=berlin"), 3,
            "--where site=berlin keeps no row (of 60)");
    refused(&f, E2E_ARGS("--wave-column", "stage"), 3,
            "--wave-column stage: the header has no such column");
    snprintf(where, sizeof(where),
             "%s:12: wave \"early\" is not in --wave-order canary,rest", f.inv);
    refused(&f, E2E_ARGS("--wave-column", "wave", "--wave-order", "canary,rest"),
            3, where);
    refused(&f, E2E_ARGS("--wave-column", "wave", "--waves", "1%,all"), 2,
            "--waves and --wave-column: one or the other");
    write_sheet(f.inv, 1);
    snprintf(where, sizeof(where), "%s:33: column \"wave\" is empty", f.inv);
    refused(&f, E2E_ARGS("--wave-column", "wave"), 3, where);
    /* A row the filter leaves out may have no wave. */
    {
        struct h_run r;

        run_fleet(&f, &r,
                  E2E_ARGS("--wave-column", "wave", "--where", "site=Berlin",
                           "--wave-interval", "1h"),
                  0);
        assert_int_equal(
            e2e_log_count(&f.emu, "CreateOTAStaticUpgradeJob", 1), 3);
        h_run_free(&r);
    }
    e2e_fleet_stop(&f);
}

E2E_MAIN(cmocka_unit_test(canary_is_exactly_100_devices),
         cmocka_unit_test(every_product_in_every_wave),
         cmocka_unit_test(where_and_wave_column),
         cmocka_unit_test(spreadsheet_refusals))
