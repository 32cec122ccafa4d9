/* test_e2e_preflight.c - the pre-flight checks against ota-emulator over
 * loopback HTTP: unverified, verifying and failed
 * firmware, firmware of another product, missing firmware, devices missing
 * or already upgraded. The functions are called in process (the real
 * dispatcher, signer and HTTP stack); the binary tests at the end check
 * `run`, `plan --preflight`, `run --check-devices` (rejects file, summary
 * counts, --json) and a resume after --check-devices (the same chunks,
 * no second device check). Binary tests use disjoint devices: the
 * emulator fails a task whose device already has a job. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "e2e_util.h"
#include "harness.h"
#include "torture.h"

#include "orch/model/config.h"
#include "orch/cloud/credentials.h"
#include "orch/base/err.h"
#include "orch/model/inventory.h"
#include "orch/model/plan.h"
#include "orch/rollout/devcheck.h"
#include "orch/rollout/preflight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PKA "a1PreA00001"
#define PKB "a1PreB00001"
#define FW_OK_A "FwPreOk00000000000000000A1"
#define FW_OK_B "FwPreOk00000000000000000B1"
#define FW_NOVERIFY "FwPreNoVerify0000000000001"
#define FW_UNVERIFIED "FwPreUnverified00000000001"
#define FW_VERIFYING "FwPreVerifying000000000001"
#define FW_VFAILED "FwPreVerifyFailed000000001"
#define FW_MISSING "FwPreMissing00000000000001"

static struct emu_proc emu;
static char *scratch;

static int group_setup(void **state)
{
    const char *extra[] = {"--fixture", ORCH_FIXTURES "/preflight-world.json",
                           NULL};

    (void)state;
    /* The pre-flight runs the dispatcher here, which leaves libcurl's
     * one initialisation to its program. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    scratch = h_tmpdir();
    h_emu_start(&emu, extra);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    h_emu_stop(&emu);
    free(scratch);
    curl_global_cleanup();
    return 0;
}

static void cfg_make(struct orch_config *cfg)
{
    orch_config_init(cfg);
    cfg->endpoint = strdup(emu.endpoint);
    cfg->region = strdup("cn-shanghai");
    cfg->max_attempts = 4;
    cfg->request_timeout_ms = 10000;
}

static void cred_make(struct orch_credentials *cred, const char *secret)
{
    memset(cred, 0, sizeof(*cred));
    cred->access_key_id = strdup(H_KEY_ID);
    assert_int_equal(orch_secret_set(&cred->secret, secret), 0);
}

/* ALL/GRAY shape: one pair (PK, FW), no plan. */
static int check_one(const char *pk, const char *fw,
                     struct orch_preflight_result *res,
                     struct orch_diag *diag)
{
    struct orch_config cfg;
    struct orch_credentials cred;
    int rc = 0;

    cfg_make(&cfg);
    cfg.product_key = strdup(pk);
    cfg.firmware_id = strdup(fw);
    cred_make(&cred, H_SECRET);
    orch_preflight_result_init(res);
    memset(diag, 0, sizeof(*diag));
    rc = orch_preflight_run(&cfg, &cred, NULL, res, diag);
    /* The checks borrow the config's strings: judge now, keep copies. */
    if (res->nchecks == 1) {
        res->checks[0].product_key = pk;
        res->checks[0].firmware_id = fw;
    }
    orch_credentials_cleanup(&cred);
    orch_config_cleanup(&cfg);
    return rc;
}

static void firmware_verified_or_no_verification_pass(void **state)
{
    struct orch_preflight_result res;
    struct orch_diag diag;

    (void)state;
    assert_int_equal(check_one(PKA, FW_OK_A, &res, &diag), 0);
    assert_int_equal(res.nchecks, 1);
    assert_int_equal(res.failed, 0);
    assert_int_equal(res.checks[0].verdict, ORCH_FW_OK);
    assert_string_equal(res.checks[0].dest_version, "2.0.0");
    assert_int_equal(res.calls, 1);
    orch_preflight_result_cleanup(&res);

    assert_int_equal(check_one(PKA, FW_NOVERIFY, &res, &diag), 0);
    assert_int_equal(res.checks[0].status, -1);
    orch_preflight_result_cleanup(&res);
}

static void firmware_unverified_verifying_failed(void **state)
{
    static const struct {
        const char *fw;
        enum orch_fw_verdict v;
        const char *says;
    } cases[] = {
        {FW_UNVERIFIED, ORCH_FW_UNVERIFIED, "CreateOTAVerifyJob"},
        {FW_VERIFYING, ORCH_FW_VERIFYING, "wait until"},
        {FW_VFAILED, ORCH_FW_VERIFY_FAILED, "failed its verification"},
    };
    struct orch_preflight_result res;
    struct orch_diag diag;
    size_t i = 0;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(check_one(PKA, cases[i].fw, &res, &diag), ORCH_EAPI);
        assert_int_equal(res.failed, 1);
        assert_int_equal(res.checks[0].verdict, cases[i].v);
        assert_non_null(strstr(res.checks[0].message, cases[i].says));
        assert_non_null(strstr(diag.msg, cases[i].fw));
        assert_non_null(strstr(diag.msg, "nothing sent"));
        orch_preflight_result_cleanup(&res);
    }
}

static void firmware_missing(void **state)
{
    struct orch_preflight_result res;
    struct orch_diag diag;

    (void)state;
    assert_int_equal(check_one(PKA, FW_MISSING, &res, &diag), ORCH_EAPI);
    assert_int_equal(res.checks[0].verdict, ORCH_FW_MISSING);
    assert_string_equal(res.checks[0].code, "iot.ota.FirmwareNotFound");
    assert_non_null(strstr(diag.msg, FW_MISSING " does not exist"));
    /* A business error is final: one call, no retries. */
    assert_int_equal(res.calls, 1);
    orch_preflight_result_cleanup(&res);
}

static void firmware_of_another_product(void **state)
{
    struct orch_preflight_result res;
    struct orch_diag diag;

    (void)state;
    assert_int_equal(check_one(PKA, FW_OK_B, &res, &diag), ORCH_EAPI);
    assert_int_equal(res.checks[0].verdict, ORCH_FW_WRONG_PRODUCT);
    assert_string_equal(res.checks[0].fw_product, PKB);
    assert_non_null(strstr(diag.msg, PKA));
    assert_non_null(strstr(diag.msg, PKB));
    orch_preflight_result_cleanup(&res);
}

static void rejected_credentials_abort(void **state)
{
    struct orch_config cfg;
    struct orch_credentials cred;
    struct orch_preflight_result res;
    struct orch_diag diag = {{0}};

    (void)state;
    cfg_make(&cfg);
    cfg.product_key = strdup(PKA);
    cfg.firmware_id = strdup(FW_OK_A);
    cred_make(&cred, "not-the-secret");
    orch_preflight_result_init(&res);
    assert_int_equal(orch_preflight_run(&cfg, &cred, NULL, &res, &diag),
                     ORCH_EABORT);
    assert_true(res.aborted);
    assert_int_equal(res.failed, 1);
    assert_non_null(strstr(diag.msg, "nothing sent"));
    assert_null(strstr(diag.msg, "not-the-secret"));
    orch_preflight_result_cleanup(&res);
    orch_credentials_cleanup(&cred);
    orch_config_cleanup(&cfg);
}

/* An inventory of both products: pf-0001..pf-0250 and pf-9001..9002 of A
 * (the 9xxx do not exist), pb-0001..pb-0010 and pb-9001 of B. */
static void write_inventory(const char *path)
{
    FILE *fp = fopen(path, "w");
    int i = 0;

    assert_non_null(fp);
    fprintf(fp, "ProductKey,DeviceName\n");
    for (i = 1; i <= 250; i++)
        fprintf(fp, PKA ",pf-%04d\n", i);
    fprintf(fp, PKA ",pf-9001\n" PKA ",pf-9002\n");
    for (i = 1; i <= 10; i++)
        fprintf(fp, PKB ",pb-%04d\n", i);
    fprintf(fp, PKB ",pb-9001\n");
    assert_int_equal(fclose(fp), 0);
}

struct drops {
    json_t *rows; /* [line, value, reason] */
};

static int on_drop(void *ud, uint32_t line, const char *value,
                   const char *reason)
{
    struct drops *d = ud;

    json_array_append_new(d->rows,
                          json_pack("[i,s,s]", (int)line, value, reason));
    return 0;
}

static int has_row(json_t *rows, int line, const char *value,
                   const char *reason)
{
    size_t i = 0;
    json_t *r = NULL;

    json_array_foreach(rows, i, r) {
        if (json_integer_value(json_array_get(r, 0)) == line &&
            strcmp(json_string_value(json_array_get(r, 1)), value) == 0 &&
            strcmp(json_string_value(json_array_get(r, 2)), reason) == 0)
            return 1;
    }
    return 0;
}

static void load_plan(struct orch_config *cfg, struct orch_inventory *inv,
                      struct orch_plan *plan, char *path, size_t pathsz)
{
    static const struct orch_inventory_opts opts;
    struct orch_diag diag = {{0}};

    snprintf(path, pathsz, "%s/both.csv", scratch);
    write_inventory(path);
    orch_inventory_init(inv);
    assert_int_equal(orch_inventory_load(inv, path, &opts, &diag), 0);
    assert_int_equal(inv->n, 263);
    assert_int_equal(orch_plan_build(plan, inv, cfg, &diag), 0);
}

/* Multi-product plan: each firmware queried once; a firmware given to the
 * wrong product is caught for that product only. */
static void plan_pairs_and_distinct_queries(void **state)
{
    struct orch_config cfg;
    struct orch_credentials cred;
    struct orch_inventory inv;
    struct orch_plan plan;
    struct orch_preflight_result res;
    struct orch_diag diag = {{0}};
    char path[512];

    (void)state;
    cfg_make(&cfg);
    torture_config_add_firmware(&cfg, PKA, FW_OK_A);
    torture_config_add_firmware(&cfg, PKB, FW_OK_A);
    cred_make(&cred, H_SECRET);
    load_plan(&cfg, &inv, &plan, path, sizeof(path));
    orch_preflight_result_init(&res);
    assert_int_equal(orch_preflight_run(&cfg, &cred, &plan, &res, &diag),
                     ORCH_EAPI);
    assert_int_equal(res.nchecks, 2);
    assert_int_equal(res.calls, 1);
    assert_int_equal(res.failed, 1);
    assert_string_equal(res.checks[0].product_key, PKA);
    assert_int_equal(res.checks[0].verdict, ORCH_FW_OK);
    assert_string_equal(res.checks[1].product_key, PKB);
    assert_int_equal(res.checks[1].verdict, ORCH_FW_WRONG_PRODUCT);
    orch_preflight_result_cleanup(&res);
    orch_plan_cleanup(&plan);
    orch_inventory_cleanup(&inv);
    orch_credentials_cleanup(&cred);
    orch_config_cleanup(&cfg);
}

/* --check-devices: missing devices and devices already on 2.0.0 are left
 * out with their inventory line and reason; 100 devices per call, at most
 * 5 calls in any second. */
static void devices_missing_and_already_upgraded(void **state)
{
    struct orch_config cfg;
    struct orch_credentials cred;
    struct orch_inventory inv;
    struct orch_plan plan, kept;
    struct orch_preflight_result res;
    struct orch_device_check_opts opts;
    struct orch_device_check_stats st;
    struct orch_diag diag = {{0}};
    struct drops d;
    uint8_t *drop = NULL;
    json_t *log = NULL;
    size_t calls = 0, before = 0;
    double secs = 0;
    char path[512];

    (void)state;
    cfg_make(&cfg);
    torture_config_add_firmware(&cfg, PKA, FW_OK_A);
    torture_config_add_firmware(&cfg, PKB, FW_OK_B);
    cred_make(&cred, H_SECRET);
    load_plan(&cfg, &inv, &plan, path, sizeof(path));
    orch_preflight_device_cost(&plan, &calls, &secs);
    assert_int_equal(calls, 4); /* A: 252 -> 3, B: 11 -> 1 */

    orch_preflight_result_init(&res);
    assert_int_equal(orch_preflight_run(&cfg, &cred, &plan, &res, &diag), 0);
    log = h_read_jsonl(emu.log_path);
    /* Accepted calls only: one emulator serves every test here, and a
     * throttled retry (the previous test's calls share the quota second)
     * is not a call of this plan. */
    before = e2e_count(log, "BatchQueryDeviceDetail", 1);
    json_decref(log);

    drop = calloc(inv.n, 1);
    assert_non_null(drop);
    d.rows = json_array();
    memset(&opts, 0, sizeof(opts));
    opts.on_drop = on_drop;
    opts.ud = &d;
    assert_int_equal(orch_preflight_devices(&cfg, &cred, &plan, &res, &opts,
                                            drop, &st, &diag),
                     0);
    assert_int_equal(st.calls, 4);
    assert_int_equal(st.checked, 263);
    assert_int_equal(st.missing, 3);
    assert_int_equal(st.up_to_date, 3);
    assert_int_equal(st.unchecked, 0);
    assert_int_equal(json_array_size(d.rows), 6);
    /* Header is line 1: pf-0005 is on line 6. */
    assert_true(has_row(d.rows, 6, "pf-0005", "already on version 2.0.0"));
    assert_true(has_row(d.rows, 151, "pf-0150", "already on version 2.0.0"));
    assert_true(has_row(d.rows, 252, "pf-9001", "device does not exist"));
    assert_true(has_row(d.rows, 253, "pf-9002", "device does not exist"));
    assert_true(has_row(d.rows, 256, "pb-0003", "already on version 2.0.0"));
    assert_true(has_row(d.rows, 264, "pb-9001", "device does not exist"));

    /* The rebuilt plan holds the other 257 devices. */
    assert_int_equal(
        orch_plan_build_filtered(&kept, &inv, &cfg, drop, &diag), 0);
    assert_int_equal(kept.nchunks, 3);
    assert_int_equal(kept.chunks[0].count + kept.chunks[1].count, 248);
    assert_int_equal(kept.chunks[2].count, 9);

    log = h_read_jsonl(emu.log_path);
    assert_int_equal(e2e_count(log, "BatchQueryDeviceDetail", 1) - before, 4);
    assert_true(e2e_max_per_window(log, "BatchQueryDeviceDetail") <= 5);
    assert_int_equal(e2e_count(log, "CreateOTAStaticUpgradeJob", 0), 0);
    h_assert_no_secret(emu.dir, H_SECRET, NULL);

    json_decref(log);
    json_decref(d.rows);
    free(drop);
    orch_plan_cleanup(&kept);
    orch_preflight_result_cleanup(&res);
    orch_plan_cleanup(&plan);
    orch_inventory_cleanup(&inv);
    orch_credentials_cleanup(&cred);
    orch_config_cleanup(&cfg);
}

/* --- through the binary -------------------------------------------------- */

/* Requests of `action` so far, every answer counted. */
static size_t count_action(const char *action)
{
    return e2e_log_count(&emu, action, 0);
}

/* Accepted calls of `action` so far: a throttled retry is not a call of
 * the plan (the tests share one emulator and its quota seconds). */
static size_t count_accepted(const char *action)
{
    return e2e_log_count(&emu, action, 1);
}

static void binary_run_refuses_unverified_firmware(void **state)
{
    struct h_run r;
    char inv[512], report[512];
    size_t q0 = count_action("QueryOTAFirmware");
    size_t c0 = count_action("CreateOTAStaticUpgradeJob");

    (void)state;
    e2e_scratch_paths(scratch, "bin-unverified", inv, report, sizeof(inv));
    write_inventory(inv);
    const char *argv[] = {"run", inv, "--firmware", PKA "=" FW_UNVERIFIED,
                          "--firmware", PKB "=" FW_OK_B, "--endpoint",
                          emu.endpoint, "--yes", "--report", report, NULL};
    h_run(&r, argv, NULL, 0, 60);
    assert_true(count_action("QueryOTAFirmware") > q0);
    /* 2: the firmware is refused (man page, EXIT STATUS). */
    assert_int_equal(r.exit_code, 2);
    assert_int_equal(count_action("CreateOTAStaticUpgradeJob"), c0);
    assert_non_null(strstr(r.err, FW_UNVERIFIED));
    assert_non_null(strstr(r.err, "CreateOTAVerifyJob"));
    e2e_assert_run_no_secret(scratch, H_SECRET, &r);
    h_run_free(&r);
}

/* --skip-preflight: no QueryOTAFirmware, and a warning on stderr that the
 * firmware was not checked (here it is unverified: the Creates go out and
 * the cloud refuses them, which the check would have prevented). */
static void binary_skip_preflight_warns(void **state)
{
    struct h_run r;
    char inv[512], report[512];
    size_t q0 = count_action("QueryOTAFirmware");
    size_t c0 = count_action("CreateOTAStaticUpgradeJob");
    size_t a0 = count_accepted("CreateOTAStaticUpgradeJob");

    (void)state;
    e2e_scratch_paths(scratch, "bin-skip", inv, report, sizeof(inv));
    write_inventory(inv);
    /* Neither firmware can make a job: the later tests' devices stay
     * free. */
    const char *argv[] = {"run", inv, "--firmware", PKA "=" FW_UNVERIFIED,
                          "--firmware", PKB "=" FW_MISSING, "--endpoint",
                          emu.endpoint, "--yes", "--report", report,
                          "--skip-preflight", NULL};
    h_run(&r, argv, NULL, 0, 60);
    assert_non_null(strstr(r.err, "ota-rollout: warning: pre-flight skipped "
                                  "(--skip-preflight)"));
    assert_non_null(strstr(r.err, "not checked"));
    assert_int_equal(count_action("QueryOTAFirmware"), q0);
    assert_true(count_action("CreateOTAStaticUpgradeJob") > c0);
    assert_int_equal(count_accepted("CreateOTAStaticUpgradeJob"), a0);
    assert_int_not_equal(r.exit_code, 0);
    assert_int_not_equal(r.exit_code, 2); /* not refused by a check */
    e2e_assert_run_no_secret(scratch, H_SECRET, &r);
    h_run_free(&r);

    /* plan --preflight --skip-preflight: the same warning, no query. */
    const char *plan[] = {"plan", inv, "--firmware", PKA "=" FW_UNVERIFIED,
                          "--firmware", PKB "=" FW_MISSING, "--endpoint",
                          emu.endpoint, "--preflight", "--skip-preflight",
                          NULL};
    e2e_run_expect(&r, plan, NULL, 0, 60, 0);
    assert_non_null(strstr(r.err, "ota-rollout: warning: pre-flight skipped "
                                  "(--skip-preflight)"));
    assert_int_equal(count_action("QueryOTAFirmware"), q0);
    h_run_free(&r);
}

static void binary_plan_preflight_reports_missing(void **state)
{
    struct h_run r;
    char inv[512];
    size_t q0 = count_action("QueryOTAFirmware");

    (void)state;
    snprintf(inv, sizeof(inv), "%s/bin-plan.csv", scratch);
    write_inventory(inv);
    const char *argv[] = {"plan", inv, "--firmware", PKA "=" FW_MISSING,
                          "--firmware", PKB "=" FW_OK_B, "--endpoint",
                          emu.endpoint, "--preflight", NULL};
    h_run(&r, argv, NULL, 0, 60);
    assert_true(count_action("QueryOTAFirmware") > q0);
    assert_int_not_equal(r.exit_code, 0);
    /* The result may be printed with the plan (stdout) or as an error. */
    assert_true(strstr(r.err, FW_MISSING " does not exist") ||
                strstr(r.out, FW_MISSING " does not exist"));
    h_run_free(&r);
}

/* Writes "ProductKey,DeviceName" rows: PKA pf-<a0..a1>, then the extra
 * names of PKA, then PKB pb-<b0..b1>, then the extra names of PKB. */
static void write_subset(const char *path, int a0, int a1,
                         const char *const *extra_a, int b0, int b1,
                         const char *const *extra_b)
{
    FILE *fp = fopen(path, "w");
    int i = 0;

    assert_non_null(fp);
    fprintf(fp, "ProductKey,DeviceName\n");
    for (i = a0; i <= a1; i++)
        fprintf(fp, PKA ",pf-%04d\n", i);
    for (i = 0; extra_a && extra_a[i]; i++)
        fprintf(fp, PKA ",%s\n", extra_a[i]);
    for (i = b0; i <= b1; i++)
        fprintf(fp, PKB ",pb-%04d\n", i);
    for (i = 0; extra_b && extra_b[i]; i++)
        fprintf(fp, PKB ",%s\n", extra_b[i]);
    assert_int_equal(fclose(fp), 0);
}

/* Is device dev in any job of the emulator's dump? */
static int in_some_job(json_t *jobs, const char *dev)
{
    size_t i = 0;
    json_t *job = NULL;

    json_array_foreach(jobs, i, job) {
        if (json_object_get(json_object_get(job, "Tasks"), dev))
            return 1;
    }
    return 0;
}

/* run --check-devices: the missing and already-upgraded devices go to the
 * rejects file with their reason, no job holds them, and both summaries
 * (stderr, --json) count them. */
static void binary_run_check_devices_drops_into_rejects(void **state)
{
    static const char *const xa[] = {"pf-9001", NULL};
    static const char *const xb[] = {"pb-9001", NULL};
    struct h_run r;
    char inv[512], report[512], rejects[600];
    json_t *doc = NULL, *rej = NULL, *rows = NULL, *jobs = NULL, *row = NULL;
    size_t i = 0, devices = 0;
    size_t b0 = count_accepted("BatchQueryDeviceDetail");
    size_t all0 = count_action("BatchQueryDeviceDetail");

    (void)state;
    e2e_scratch_paths(scratch, "bin-devcheck", inv, report, sizeof(inv));
    snprintf(rejects, sizeof(rejects), "%s/bin-devcheck.report.csv.rejects.csv",
             scratch);
    /* A: pf-0001..0120 (pf-0005 on 2.0.0) + pf-9001; B: pb-0001..0005
     * (pb-0003 on 2.0.0) + pb-9001. */
    write_subset(inv, 1, 120, xa, 1, 5, xb);
    const char *argv[] = {"run", inv, "--firmware", PKA "=" FW_OK_A,
                          "--firmware", PKB "=" FW_OK_B, "--endpoint",
                          emu.endpoint, "--yes", "--report", report,
                          "--chunk-size", "50", "--check-devices", "--json",
                          NULL};
    e2e_run_expect(&r, argv, NULL, 0, 60, 0);
    /* The cost before asking: A 121 devices -> 2 calls, B 6 -> 1. */
    assert_non_null(strstr(r.err, "device check: 3 calls"));
    assert_non_null(strstr(r.err, "devices left out: missing 2, already on "
                                  "the firmware's version 2"));
    assert_int_equal(count_accepted("BatchQueryDeviceDetail") - b0, 3);

    rej = h_read_csv(rejects);
    assert_int_equal(json_array_size(rej), 4);
    row = e2e_find_where(rej, "value", "pf-0005");
    assert_non_null(row);
    assert_string_equal(json_string_value(json_object_get(row, "reason")),
                        "already on version 2.0.0");
    assert_string_equal(json_string_value(json_object_get(row, "line")), "6");
    row = e2e_find_where(rej, "value", "pf-9001");
    assert_non_null(row);
    assert_string_equal(json_string_value(json_object_get(row, "reason")),
                        "device does not exist");
    assert_non_null(e2e_find_where(rej, "value", "pb-0003"));
    assert_non_null(e2e_find_where(rej, "value", "pb-9001"));

    /* Kept: A 119 -> 50+50+19, B 4 -> 1 chunk. */
    rows = h_read_csv(report);
    assert_int_equal(json_array_size(rows), 4);
    json_array_foreach(rows, i, row)
        devices += (size_t)atoi(json_string_value(
            json_object_get(row, "device_count")));
    assert_int_equal(devices, 123);
    jobs = h_emu_get(&emu, "/__emu/jobs");
    assert_false(in_some_job(jobs, "pf-0005"));
    assert_false(in_some_job(jobs, "pb-0003"));
    assert_true(in_some_job(jobs, "pf-0004"));
    assert_true(in_some_job(jobs, "pb-0005"));

    doc = e2e_parse_document(r.out);
    e2e_assert_ints(doc, "counts",
                    (const struct e2e_int[]){{"devices", 127},
                                             {"dropped_missing", 2},
                                             {"dropped_up_to_date", 2},
                                             {"unchecked", 0},
                                             {"chunks", 4},
                                             {"created", 4},
                                             {NULL, 0}});
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(doc, "preflight"), "firmware")),
                        "passed");
    /* Calls made, a throttled retry included (the previous test's quota
     * second may still be open): as many as the emulator saw. */
    assert_int_equal(
        json_integer_value(json_object_get(
            json_object_get(json_object_get(doc, "preflight"), "devices"),
            "calls")),
        count_action("BatchQueryDeviceDetail") - all0);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(doc, "files"), "rejects")),
                        rejects);
    e2e_assert_run_no_secret(scratch, H_SECRET, &r);
    json_decref(doc);
    json_decref(jobs);
    json_decref(rows);
    json_decref(rej);
    h_run_free(&r);
}

/* A run with --check-devices killed after its first journal batch, then
 * resumed: the resume asks the firmware again but not the devices, and
 * the chunks are those of the filtered plan (the journal's drop map):
 * each kept device in exactly one job, none of the left-out ones. */
static void binary_resume_after_check_devices_same_chunks(void **state)
{
    static const char *const xa[] = {"pf-9002", NULL};
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_plan plan;
    static const struct orch_inventory_opts iopts;
    struct orch_diag diag = {{0}};
    struct h_run r;
    char path[512], report[512];
    json_t *rows = NULL, *jobs = NULL, *doc = NULL;
    uint8_t *drop = NULL;
    size_t i = 0, b0 = 0, q0 = 0;
    const char *env[] = {"OTA_ROLLOUT_TEST_ABORT_AFTER_RECORDS=3", NULL};

    (void)state;
    snprintf(path, sizeof(path), "%s/bin-resume.csv", scratch);
    snprintf(report, sizeof(report), "%s/bin-resume.report.csv", scratch);
    /* A: pf-0121..0250 (pf-0150 on 2.0.0) + pf-9002; B: pb-0006..0010. */
    write_subset(path, 121, 250, xa, 6, 10, NULL);
    const char *argv[] = {"run", path, "--firmware", PKA "=" FW_OK_A,
                          "--firmware", PKB "=" FW_OK_B, "--endpoint",
                          emu.endpoint, "--yes", "--report", report,
                          "--chunk-size", "20", "--check-devices",
                          "--max-in-flight", "1", "--qps", "5",
                          "--request-timeout", "2s", NULL};
    h_run(&r, argv, env, 0, 60);
    assert_int_equal(r.exit_code, -1); /* killed by the test hook */
    h_run_free(&r);

    b0 = count_accepted("BatchQueryDeviceDetail");
    q0 = count_action("QueryOTAFirmware");
    const char *again[] = {"run", path, "--firmware", PKA "=" FW_OK_A,
                           "--firmware", PKB "=" FW_OK_B, "--endpoint",
                           emu.endpoint, "--yes", "--report", report,
                           "--chunk-size", "20", "--check-devices",
                           "--resume", "--json", "--request-timeout", "2s",
                           NULL};
    e2e_run_expect(&r, again, NULL, 0, 60, 0);
    assert_int_equal(count_accepted("BatchQueryDeviceDetail"), b0);
    assert_true(count_action("QueryOTAFirmware") > q0);
    doc = e2e_parse_document(r.out);
    assert_true(json_is_true(json_object_get(doc, "resumed")));
    assert_int_equal(torture_json_num(doc, "counts", "dropped_missing"), 1);
    assert_int_equal(torture_json_num(doc, "counts", "dropped_up_to_date"), 1);

    /* The expected plan: the same inventory without pf-0150 and pf-9002. */
    cfg_make(&cfg);
    cfg.chunk_size = 20;
    torture_config_add_firmware(&cfg, PKA, FW_OK_A);
    torture_config_add_firmware(&cfg, PKB, FW_OK_B);
    orch_inventory_init(&inv);
    assert_int_equal(orch_inventory_load(&inv, path, &iopts, &diag), 0);
    drop = calloc(inv.n, 1);
    assert_non_null(drop);
    for (i = 0; i < inv.n; i++) {
        const char *dn = inv.names + inv.dev[i].name_off;

        drop[i] = strcmp(dn, "pf-0150") == 0 || strcmp(dn, "pf-9002") == 0;
    }
    assert_int_equal(orch_plan_build_filtered(&plan, &inv, &cfg, drop, &diag),
                     0);
    assert_int_equal(plan.nchunks, 8); /* A 129 -> 7, B 5 -> 1 */

    rows = h_read_csv(report);
    assert_int_equal(json_array_size(rows), plan.nchunks);
    for (i = 0; i < plan.nchunks; i++) {
        const struct orch_chunk *c = &plan.chunks[i];
        json_t *row = json_array_get(rows, i);
        char num[32];

        snprintf(num, sizeof(num), "%zu", i + 1);
        assert_string_equal(json_string_value(json_object_get(row, "chunk")),
                            num);
        assert_string_equal(json_string_value(json_object_get(row, "status")),
                            "created");
        assert_string_equal(
            json_string_value(json_object_get(row, "first_device")),
            orch_plan_device(&plan, c, 0));
        assert_string_equal(
            json_string_value(json_object_get(row, "last_device")),
            orch_plan_device(&plan, c, c->count - 1));
    }
    jobs = h_emu_get(&emu, "/__emu/jobs");
    assert_false(in_some_job(jobs, "pf-0150"));
    assert_true(in_some_job(jobs, "pf-0151"));
    assert_true(in_some_job(jobs, "pb-0010"));

    json_decref(jobs);
    json_decref(rows);
    json_decref(doc);
    free(drop);
    orch_plan_cleanup(&plan);
    orch_inventory_cleanup(&inv);
    orch_config_cleanup(&cfg);
    h_run_free(&r);
}

/* The README's rehearsal, as written: `ota-emulator
 * --auto-create --access-key LTAIrehearsal:rehearsal-secret`, then the
 * README's `run samples/fleet.csv ...` line with the emulator's port, the
 * sample's absolute path and a scratch report: every chunk created, exit
 * 0. The same fleet with one --firmware-id for its two products fails the
 * pre-flight (a firmware belongs to one product) before any Create; it
 * used to pass it, then fail 3 chunks with FirmwareAndProductKeyMismatch. */
#define README_RUN                                                           \
    "./build/ota-rollout run samples/fleet.csv --firmware "                  \
    "a1BwAGVabcd=FW1 --firmware a1Ko2mPq7Rt=FW2 \\\n    --endpoint "         \
    "http://127.0.0.1:41235 --yes --report /tmp/rehearsal.report.csv\n"

static void readme_rehearsal_creates_every_chunk(void **state)
{
    const char *extra[] = {"--auto-create", "--access-key",
                           "LTAIrehearsal:rehearsal-secret", NULL};
    const char *env[] = {"ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIrehearsal",
                         "ALIBABA_CLOUD_ACCESS_KEY_SECRET=rehearsal-secret",
                         NULL};
    const char *fleet = ORCH_FIXTURES "/../../samples/fleet.csv";
    struct emu_proc e;
    struct h_run r;
    char report[512], report2[512];
    char *readme = h_slurp(ORCH_FIXTURES "/../../README.md", NULL);
    json_t *rows = NULL, *stats = NULL;
    size_t i = 0;

    (void)state;
    assert_non_null(readme);
    assert_non_null(strstr(readme, README_RUN));
    free(readme);
    h_emu_start(&e, extra);
    snprintf(report, sizeof(report), "%s/rehearsal.report.csv", scratch);
    {
        const char *argv[] = {"run", fleet, "--firmware", "a1BwAGVabcd=FW1",
                              "--firmware", "a1Ko2mPq7Rt=FW2", "--endpoint",
                              e.endpoint, "--yes", "--report", report, NULL};
        h_run(&r, argv, env, 1, 120);
    }
    if (r.exit_code != 0)
        fail_msg("rehearsal: exit %d: %s", r.exit_code, r.err);
    assert_non_null(strstr(r.err, "16 created, 0 failed, 0 not sent"));
    h_run_free(&r);
    rows = h_read_csv(report);
    assert_int_equal(json_array_size(rows), 16);
    for (i = 0; i < json_array_size(rows); i++)
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(rows, i),
                                              "status")),
            "created");
    json_decref(rows);

    /* One firmware for both products: refused before any Create. */
    snprintf(report2, sizeof(report2), "%s/rehearsal-one-fw.report.csv",
             scratch);
    {
        const char *argv[] = {"run", fleet, "--firmware-id", "FW9",
                              "--endpoint", e.endpoint, "--yes",
                              "--report", report2, NULL};
        h_run(&r, argv, env, 1, 120);
    }
    assert_int_equal(r.exit_code, 2);
    assert_non_null(strstr(r.err, "belongs to one product only"));
    assert_non_null(strstr(r.err, "--firmware a1Ko2mPq7Rt=FIRMWARE_ID"));
    assert_null(strstr(r.err, "FirmwareAndProductKeyMismatch"));
    h_run_free(&r);
    stats = h_emu_get(&e, "/__emu/stats");
    assert_int_equal(json_integer_value(json_object_get(stats, "jobs")), 16);
    json_decref(stats);
    h_emu_stop(&e);
}

E2E_MAIN_GROUP(group_setup, group_teardown,
               cmocka_unit_test(firmware_verified_or_no_verification_pass),
               cmocka_unit_test(firmware_unverified_verifying_failed),
               cmocka_unit_test(firmware_missing),
               cmocka_unit_test(firmware_of_another_product),
               cmocka_unit_test(rejected_credentials_abort),
               cmocka_unit_test(plan_pairs_and_distinct_queries),
               cmocka_unit_test(devices_missing_and_already_upgraded),
               cmocka_unit_test(binary_run_refuses_unverified_firmware),
               cmocka_unit_test(binary_skip_preflight_warns),
               cmocka_unit_test(binary_plan_preflight_reports_missing),
               cmocka_unit_test(binary_run_check_devices_drops_into_rejects),
               cmocka_unit_test(binary_resume_after_check_devices_same_chunks),
               cmocka_unit_test(readme_rehearsal_creates_every_chunk))
