/* test_e2e_rollout.c - the core rollout end to end: the real ota-rollout
 * binary against ota-emulator over loopback HTTP. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"
#include "torture.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"

/* The line of `text` that starts with `prefix` (after spaces), or fail. */
static const char *summary_line(const char *text, const char *prefix)
{
    const char *p = text;

    while ((p = strstr(p, prefix)) != NULL) {
        if (p > text && p[-1] == ' ')
            return p;
        p++;
    }
    fail_msg("no summary line \"%s\" in:\n%s", prefix, text);
    return NULL;
}

/* The end-of-run summary on stderr against what the emulator counted:
 * devices, chunks created / failed / not sent, calls (= Create requests
 * the emulator logged), retries (calls beyond one per chunk), throttled
 * answers (Throttling codes it logged), wall time (at least the pacing's
 * span, at most the process's life), the rates over it (its counts over
 * its seconds) and the sending pace (the pace of the arrivals it
 * logged). */
static void assert_summary_matches_emulator(const char *err, json_t *log,
                                            size_t devices, size_t chunks,
                                            double elapsed_s)
{
    unsigned long dev = 0, created = 0, failed = 0, not_sent = 0, of = 0;
    unsigned long calls = 0, retries = 0, throttled = 0, forms = 0;
    long long first = -1, last = -1;
    size_t i = 0, emu_calls = 0, emu_throttled = 0;
    double wall = 0, rate = 0, emu_rate = 0, crate = 0, orate = 0, gap = 0;
    unsigned long wchunks = 0, wcalls = 0;
    json_t *e = NULL;

    assert_int_equal(sscanf(summary_line(err, "devices: "), "devices: %lu",
                            &dev), 1);
    assert_int_equal(sscanf(summary_line(err, "chunks: "),
                            "chunks: %lu created, %lu failed, %lu not sent "
                            "(of %lu)",
                            &created, &failed, &not_sent, &of),
                     4);
    assert_int_equal(sscanf(summary_line(err, "calls: "),
                            "calls: %lu, retries: %lu, throttled answers: "
                            "%lu, form-body fallbacks: %lu",
                            &calls, &retries, &throttled, &forms),
                     4);
    assert_int_equal(sscanf(summary_line(err, "wall time: "),
                            "wall time: %lf s; over it %lu chunks finished "
                            "(%lf chunks/s) and %lu calls were made (%lf "
                            "calls/s)",
                            &wall, &wchunks, &crate, &wcalls, &orate),
                     5);
    assert_int_equal(sscanf(summary_line(err, "sending pace: "),
                            "sending pace: %lf calls/s (calls started %lf "
                            "ms apart",
                            &rate, &gap),
                     2);
    assert_int_equal(wchunks, chunks);
    assert_int_equal(wcalls, calls);
    assert_true(crate >= (double)wchunks / (wall + 0.005) - 0.005 &&
                crate <= (double)wchunks / (wall - 0.005) + 0.005);
    assert_true(orate >= (double)wcalls / (wall + 0.005) - 0.005 &&
                orate <= (double)wcalls / (wall - 0.005) + 0.005);
    json_array_foreach(log, i, e) {
        const char *a = json_string_value(json_object_get(e, "action"));
        const char *code = json_string_value(json_object_get(e, "code"));
        long long t = json_integer_value(json_object_get(e, "t"));

        if (a == NULL || strcmp(a, "CreateOTAStaticUpgradeJob") != 0)
            continue;
        emu_calls++;
        if (code && strncmp(code, "Throttling", 10) == 0)
            emu_throttled++;
        if (first < 0 || t < first)
            first = t;
        if (t > last)
            last = t;
    }
    assert_true(last > first);
    emu_rate = (double)(emu_calls - 1) * 1000.0 / (double)(last - first);
    print_message("summary: %lu calls, %.2f calls/s, wall %.1f s; emulator: "
                  "%zu calls, %.2f calls/s; process %.1f s\n",
                  calls, rate, wall, emu_calls, emu_rate, elapsed_s);
    assert_int_equal(dev, devices);
    assert_int_equal(created, chunks);
    assert_int_equal(failed, 0);
    assert_int_equal(not_sent, 0);
    assert_int_equal(of, chunks);
    assert_int_equal(calls, emu_calls);
    assert_int_equal(retries, emu_calls - chunks);
    assert_int_equal(throttled, emu_throttled);
    assert_int_equal(forms, 0);
    /* n calls at the pace need (n - 1) / qps seconds of sending. */
    assert_true(wall >= (double)(emu_calls - 1) / 20.0 - 0.1);
    assert_true(wall <= elapsed_s + 0.006); /* printed to 0.01 s */
    /* The tool's pace and the arrivals' agree within 5 % (loopback). */
    assert_true(rate <= 20.0 + 1e-9);
    assert_true(rate >= emu_rate * 0.95 && rate <= emu_rate * 1.05);
}

/* 20,000 devices: every device in exactly one job, never more than 20
 * Create calls in any second, report rows equal to the emulator's jobs. */
static void rollout_20k_exactly_once_at_quota(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *argv[E2E_MAX_ARGS];
    json_t *log = NULL, *jobs = NULL, *rows = NULL, *stats = NULL;
    double t0 = 0, elapsed = 0;

    (void)state;
    e2e_fleet_start(&c, 20000, PK, E2E_ARGS("--auto-create"));
    t0 = h_now_s();
    h_run(&r, e2e_fleet_argv(argv, &c, FW, NULL), NULL, 0, 120);
    elapsed = h_now_s() - t0;
    e2e_expect_exit(&r, "run", 0);

    log = h_read_jsonl(c.emu.log_path);
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    stats = h_emu_get(&c.emu, "/__emu/stats");
    rows = h_read_csv(c.report);

    assert_int_equal(json_array_size(jobs), 100);
    e2e_assert_each_device_once(jobs, 20000);
    assert_true(e2e_max_per_window(log, "CreateOTAStaticUpgradeJob") <= 20);
    assert_int_equal(e2e_count(log, "CreateOTAStaticUpgradeJob", 0), 100);
    assert_int_equal(json_array_size(rows), 100);
    assert_int_equal(e2e_count_where(rows, "status", "created"), 100);
    e2e_assert_report_matches_jobs(rows, jobs);
    assert_int_equal(
        json_array_size(json_object_get(stats, "double_assigned")), 0);
    /* The summary on stderr: its counts are the emulator's. */
    assert_summary_matches_emulator(r.err, log, 20000, 100, elapsed);

    e2e_assert_run_no_secret(c.dir, H_SECRET, &r);
    h_assert_no_secret(c.emu.dir, H_SECRET, NULL);
    json_decref(log);
    json_decref(jobs);
    json_decref(rows);
    json_decref(stats);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* 5xx answers and throttling (the emulator's quota below the tool's):
 * every chunk is still created exactly once. */
static void faults_5xx_and_throttling_still_exactly_once(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = { "--auto-create", "--fail-5xx", "0.15",
                          "--qps-create", "12", "--seed", "7", NULL };
    json_t *jobs = NULL, *rows = NULL, *stats = NULL;

    (void)state;
    e2e_fleet_start(&c, 6000, PK, emu);
    e2e_fleet_run(&r, &c, FW, E2E_ARGS("--max-attempts", "10"), 0);
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    stats = h_emu_get(&c.emu, "/__emu/stats");
    rows = h_read_csv(c.report);
    assert_int_equal(json_array_size(jobs), 30);
    e2e_assert_each_device_once(jobs, 6000);
    e2e_assert_report_matches_jobs(rows, jobs);
    assert_int_equal(e2e_count_where(rows, "status", "created"), 30);
    assert_true(json_integer_value(json_object_get(stats, "throttled")) > 0);
    json_decref(jobs);
    json_decref(rows);
    json_decref(stats);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* The V2 (HMAC-SHA1) path is accepted by the emulator's verifier. */
static void signature_v2_path(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    json_t *log = NULL, *jobs = NULL;
    size_t i = 0;
    json_t *e = NULL;

    (void)state;
    e2e_fleet_start(&c, 450, PK, E2E_ARGS("--auto-create"));
    e2e_fleet_run(&r, &c, FW, E2E_ARGS("--signature-version", "2"), 0);
    log = h_read_jsonl(c.emu.log_path);
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    assert_int_equal(json_array_size(jobs), 3);
    e2e_assert_each_device_once(jobs, 450);
    json_array_foreach(log, i, e) {
        json_t *sv = json_object_get(e, "sigver");

        assert_int_equal(json_integer_value(sv), 2);
    }
    json_decref(log);
    json_decref(jobs);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* A proxy that refuses long request targets (414): each chunk is resent
 * once with its parameters in a form body, created exactly once, and the
 * summary says so. 200 names make a ~6.5 KB query; the limit is 4 KB. */
static void uri_too_long_resent_as_form_body(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    json_t *jobs = NULL, *rows = NULL, *stats = NULL;

    (void)state;
    e2e_fleet_start(&c, 1000, PK,
                    E2E_ARGS("--auto-create", "--max-uri", "4096"));
    e2e_fleet_run(&r, &c, FW, NULL, 0);
    jobs = h_emu_get(&c.emu, "/__emu/jobs");
    stats = h_emu_get(&c.emu, "/__emu/stats");
    rows = h_read_csv(c.report);
    assert_int_equal(json_array_size(jobs), 5);
    e2e_assert_each_device_once(jobs, 1000);
    e2e_assert_report_matches_jobs(rows, jobs);
    assert_int_equal(torture_json_num(stats, NULL, "uri_too_long"), 5);
    assert_non_null(strstr(r.err, "form-body fallbacks: 5"));
    json_decref(jobs);
    json_decref(rows);
    json_decref(stats);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* --target ALL / GRAY fixture: product A has 12 devices on 1.0.0, 10 on
 * 1.1.0, 5 on 0.9.0 and 3 already on 2.0.0; product B has 15 on 1.0.0 and
 * 4 on 0.9.0. Each has a verified firmware to 2.0.0. */
#define PK_A "a1TgtAll001"
#define PK_B "a1TgtGray01"
#define FW_A "FwTargetAll0000000000001"
#define FW_B "FwTargetGray000000000001"

static void write_target_fixture(const char *path)
{
    FILE *f = fopen(path, "w");
    int i = 0;

    assert_non_null(f);
    fputs("{\"products\":[{\"product_key\":\"" PK_A "\",\"devices\":[",
          f);
    for (i = 0; i < 30; i++)
        fprintf(f, "%s{\"name\":\"all-%04d\",\"version\":\"%s\"}",
                i ? "," : "", i,
                i < 12 ? "1.0.0" : i < 22 ? "1.1.0" : i < 27 ? "0.9.0"
                                                        : "2.0.0");
    fputs("]},{\"product_key\":\"" PK_B "\",\"devices\":[", f);
    for (i = 0; i < 19; i++)
        fprintf(f, "%s{\"name\":\"gray-%04d\",\"version\":\"%s\"}",
                i ? "," : "", i, i % 4 == 3 ? "0.9.0" : "1.0.0");
    fputs("]}],\"firmware\":["
          "{\"id\":\"" FW_A "\",\"product_key\":\"" PK_A "\","
          "\"dest_version\":\"2.0.0\",\"status\":1,\"name\":\"fw-a\"},"
          "{\"id\":\"" FW_B "\",\"product_key\":\"" PK_B "\","
          "\"dest_version\":\"2.0.0\",\"status\":1,\"name\":\"fw-b\"}"
          "]}\n",
          f);
    fclose(f);
}

/* A scratch directory with the fixture and the report `report` in it, and
 * an emulator serving that world (the inventory stays empty: --target
 * names no device). */
static void target_start(struct e2e_fleet *c, const char *report)
{
    char fixture[600];
    const char *emu[] = { "--fixture", fixture, NULL };

    e2e_fleet_init(c, 0, NULL);
    snprintf(fixture, sizeof(fixture), "%s/world.json", c->dir);
    snprintf(c->report, sizeof(c->report), "%s/%s", c->dir, report);
    write_target_fixture(fixture);
    h_emu_start(&c->emu, emu);
}

/* The one Create of the request log (fails unless there is exactly one). */
static json_t *only_create(json_t *log)
{
    size_t i = 0;
    json_t *e = NULL, *found = NULL;

    json_array_foreach(log, i, e) {
        const char *a = json_string_value(json_object_get(e, "action"));

        if (a && strcmp(a, "CreateOTAStaticUpgradeJob") == 0) {
            assert_null(found);
            found = e;
        }
    }
    assert_non_null(found);
    return found;
}

static int has_device(json_t *devices, const char *name)
{
    size_t i = 0;
    json_t *d = NULL;

    json_array_foreach(devices, i, d) {
        const char *s = json_string_value(d);

        /* The dump may name devices "PK/dev" or "dev". */
        if (s && (strcmp(s, name) == 0 ||
                  (strchr(s, '/') && strcmp(strchr(s, '/') + 1, name) == 0)))
            return 1;
    }
    return 0;
}

/* A parameter the Create must carry with this value (NULL: must not
 * carry at all). */
struct param {
    const char *name;
    const char *value;
};

/* Runs one --target call against the fixture; returns the emulator's one
 * job (new reference) after checking the call (with the parameters
 * `want`, up to a NULL name), the report row and the job's product and
 * firmware. */
static json_t *run_target(struct e2e_fleet *c, const char *const *extra,
                          const char *pk, const char *fw, const char *sel,
                          const struct param *want)
{
    struct h_run r;
    const char *argv[40] = { "run", "--endpoint", c->emu.endpoint, "--yes",
                             "--report", c->report, "--product-key", pk,
                             "--firmware-id", fw };
    size_t n = 10, i = 0;
    json_t *log = NULL, *jobs = NULL, *rows = NULL, *call = NULL, *job = NULL;
    json_t *params = NULL, *row = NULL;
    const char *job_id = NULL;

    for (i = 0; extra[i] && n < 39; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    e2e_run_expect(&r, argv, NULL, 0, 60, 0);
    log = h_read_jsonl(c->emu.log_path);
    jobs = h_emu_get(&c->emu, "/__emu/jobs");
    rows = h_read_csv(c->report);

    /* One call, whole-product selection, no device names. */
    assert_int_equal(e2e_count(log, "CreateOTAStaticUpgradeJob", 0), 1);
    call = only_create(log);
    params = json_object_get(call, "params");
    assert_string_equal(torture_json_str(params, NULL, "TargetSelection"), sel);
    assert_string_equal(torture_json_str(params, NULL, "ProductKey"), pk);
    assert_string_equal(torture_json_str(params, NULL, "FirmwareId"), fw);
    assert_null(json_object_get(params, "TargetDeviceName.1"));
    for (; want->name; want++) {
        if (want->value)
            assert_string_equal(
                json_string_value(json_object_get(params, want->name)),
                want->value);
        else
            assert_null(json_object_get(params, want->name));
    }
    assert_string_equal(torture_json_str(call, NULL, "code"), "");

    /* One job, and the report's one row names it. */
    assert_int_equal(json_array_size(jobs), 1);
    job = json_array_get(jobs, 0);
    job_id = json_string_value(json_object_get(job, "JobId"));
    assert_string_equal(torture_json_str(job, NULL, "ProductKey"), pk);
    assert_string_equal(torture_json_str(job, NULL, "FirmwareId"), fw);
    assert_int_equal(json_array_size(rows), 1);
    row = json_array_get(rows, 0);
    assert_string_equal(torture_json_str(row, NULL, "chunk"), "1");
    assert_string_equal(torture_json_str(row, NULL, "status"), "created");
    assert_string_equal(torture_json_str(row, NULL, "product_key"), pk);
    assert_string_equal(torture_json_str(row, NULL, "firmware_id"), fw);
    assert_string_equal(torture_json_str(row, NULL, "job_id"), job_id);
    assert_string_equal(torture_json_str(row, NULL, "job_id"),
                        json_string_value(json_object_get(call, "job_id")));
    assert_string_equal(torture_json_str(row, NULL, "error_code"), "");
    json_incref(job);
    json_decref(log);
    json_decref(jobs);
    json_decref(rows);
    h_run_free(&r);
    return job;
}

/* --target ALL: one call with both source versions; the job holds exactly
 * the product's devices on those versions (not those on 0.9.0, nor those
 * already on 2.0.0). */
static void target_all_one_call(void **state)
{
    struct e2e_fleet c;
    const char *extra[] = { "--target", "ALL", "--src-version", "1.0.0",
                            "--src-version", "1.1.0", NULL };
    static const struct param want[] = {{"SrcVersion.1", "1.0.0"},
                                        {"SrcVersion.2", "1.1.0"},
                                        {"GrayPercent", NULL},
                                        {NULL, NULL}};
    json_t *job = NULL, *devs = NULL;
    char name[32];
    int i = 0;

    (void)state;
    target_start(&c, "all.report.csv");
    job = run_target(&c, extra, PK_A, FW_A, "ALL", want);
    devs = json_object_get(job, "Devices");
    assert_int_equal(json_array_size(devs), 22);
    for (i = 0; i < 30; i++) {
        snprintf(name, sizeof(name), "all-%04d", i);
        assert_int_equal(has_device(devs, name), i < 22);
    }
    json_decref(job);
    e2e_fleet_stop(&c);
}

/* --target GRAY --gray-percent 33.3 of the 15 devices on 1.0.0: 4.995
 * rounds down to 4 devices, all on 1.0.0 (none on 0.9.0). */
static void target_gray_rounds_down(void **state)
{
    struct e2e_fleet c;
    const char *extra[] = { "--target", "GRAY", "--gray-percent", "33.3",
                            "--src-version", "1.0.0", NULL };
    static const struct param want[] = {
        {"GrayPercent", "33.3"}, {"SrcVersion.1", "1.0.0"}, {NULL, NULL}};
    json_t *job = NULL, *devs = NULL, *d = NULL;
    size_t i = 0;

    (void)state;
    target_start(&c, "gray.report.csv");
    job = run_target(&c, extra, PK_B, FW_B, "GRAY", want);
    devs = json_object_get(job, "Devices");
    assert_int_equal(json_array_size(devs), 4);
    json_array_foreach(devs, i, d) {
        const char *s = json_string_value(d);
        const char *name = strchr(s, '/') ? strchr(s, '/') + 1 : s;
        int k = -1;

        assert_int_equal(sscanf(name, "gray-%d", &k), 1);
        assert_true(k >= 0 && k < 19 && k % 4 != 3); /* on 1.0.0 */
    }
    json_decref(job);
    e2e_fleet_stop(&c);
}

/* A rejected AccessKey stops the run at once: exit 4, the rest not_sent,
 * and the device files list every device. */
static void credentials_rejected_exit_4(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *argv[E2E_MAX_ARGS];
    json_t *rows = NULL, *failed = NULL, *amb = NULL;

    (void)state;
    e2e_fleet_start(&c, 2000, PK, E2E_ARGS("--auto-create"));
    /* --skip-preflight: the dispatcher's own handling of rejected
     * credentials (the pre-flight would stop before any Create; see
     * test_e2e_json.c). */
    e2e_run_expect(
        &r, e2e_fleet_argv(argv, &c, FW, E2E_ARGS("--skip-preflight")),
        E2E_ARGS("ALIBABA_CLOUD_ACCESS_KEY_SECRET=wrong-secret"), 0, 60, 4);
    rows = h_read_csv(c.report);
    assert_int_equal(json_array_size(rows), 10);
    assert_int_equal(e2e_count_where(rows, "status", "created"), 0);
    assert_true(e2e_count_where(rows, "status", "not_sent") >= 1);
    failed = h_read_csv(c.failed);
    /* A chunk sent and then reported not_sent is one a resume looks up
     * first (its outcome unknown): in the ambiguous file. */
    amb = h_read_csv(c.ambiguous);
    assert_int_equal(json_array_size(failed) + json_array_size(amb), 2000);
    json_decref(amb);
    assert_non_null(strstr(r.err, "SignatureDoesNotMatch"));
    e2e_assert_run_no_secret(c.dir, "wrong-secret", &r);
    json_decref(rows);
    json_decref(failed);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* A command the tool refuses, or runs offline: before any call. */
struct offline_case {
    const char *name;
    size_t devices;        /* "dev-%06zu" of PK, unless... */
    const char *inventory; /* ...not NULL: the inventory, as written */
    const char *command;   /* "run" or "plan" */
    bool yes;              /* --yes given */
    int no_creds;          /* no credentials in the environment */
    int exit_code;
    bool on_stdout;      /* `says` is on stdout, not stderr */
    const char *says[3]; /* NULL-terminated */
};

static const struct offline_case offline_cases[] = {
    /* Without a terminal and without --yes, run refuses. */
    {"no_terminal_needs_yes",
     10,
     NULL,
     "run",
     false,
     0,
     2,
     false,
     {"--yes", NULL}},
    /* An invalid row stops the run: exit 3, file:line named. */
    {"invalid_inventory_exit_3",
     0,
     "DeviceName,ProductKey\ndev-000001," PK "\nab," PK "\n",
     "run",
     true,
     0,
     3,
     false,
     {"fleet.csv:3", NULL}},
    /* plan needs no credentials. */
    {"plan_is_offline",
     1001,
     NULL,
     "plan",
     false,
     1,
     0,
     true,
     {"1001", "TargetDeviceName.1..200 = dev-000000", NULL}},
};

/* The case of `state` (an offline_case): its exit, what it says, and
 * nothing sent. */
static void sends_nothing(void **state)
{
    const struct offline_case *t = *state;
    struct e2e_fleet c;
    struct h_run r;
    size_t i = 0;

    e2e_fleet_start(&c, t->devices, PK, NULL);
    if (t->inventory)
        torture_write_text(c.inv, t->inventory);
    const char *argv[] = {
        t->command,   c.inv,          "--firmware-id",         FW,
        "--endpoint", c.emu.endpoint, t->yes ? "--yes" : NULL, NULL};
    e2e_run_expect(&r, argv, NULL, t->no_creds, 30, t->exit_code);
    for (i = 0; t->says[i]; i++)
        assert_non_null(strstr(t->on_stdout ? r.out : r.err, t->says[i]));
    assert_int_equal(e2e_log_count(&c.emu, NULL, 0), 0); /* nothing sent */
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

E2E_MAIN(cmocka_unit_test(rollout_20k_exactly_once_at_quota),
         cmocka_unit_test(faults_5xx_and_throttling_still_exactly_once),
         cmocka_unit_test(signature_v2_path),
         cmocka_unit_test(uri_too_long_resent_as_form_body),
         cmocka_unit_test(target_all_one_call),
         cmocka_unit_test(target_gray_rounds_down),
         cmocka_unit_test(credentials_rejected_exit_4),
         E2E_CASE(sends_nothing, offline_cases[0]),
         E2E_CASE(sends_nothing, offline_cases[1]),
         E2E_CASE(sends_nothing, offline_cases[2]))
