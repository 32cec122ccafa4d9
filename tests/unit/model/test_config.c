/* test_config.c - orch_config_validate(): every rule of the spec page
 * (CreateOTAStaticUpgradeJob.md), the combinations per target, pacing
 * limits, and the derived defaults (region, endpoint, report path). The
 * clock is injected, so schedule windows are tested at their edges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/cli/cli.h"
#include "orch/model/config.h"
#include "orch/base/err.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW INT64_C(1800000000000) /* 2027-01-15T08:00:00Z */
#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define UNSET INT64_MIN

/* Parses then validates at NOW; returns validate's rc (parse must pass). */
static int check(struct orch_config *cfg, const char *const *args,
                 struct orch_diag *diag)
{
    int rc = torture_parse_cli(cfg, args, diag);

    if (rc)
        fail_msg("parse failed: %s", diag->msg);
    return orch_config_validate_at(cfg, NOW, diag);
}

static int setup(void **state)
{
    unsetenv("ALIBABA_CLOUD_REGION_ID");
    (void)state;
    return 0;
}

static void accepted(void **state)
{
    static const char *const cases[][24] = {
        {"plan", "inv.csv", "--firmware-id", "FW", NULL},
        {"run", "inv.csv", "--firmware", "PK1=FW1", "--firmware", "PK2=FW2",
         "--firmware", "PK1=FW1", NULL},
        {"run", "inv.csv", "--firmware-id", "FW", "--retry-interval", "0",
         "--retry-count", "1", "--timeout-minutes", "1", "--max-per-minute",
         "0", "--overwrite-mode", "1", NULL},
        {"run", "inv.csv", "--firmware-id", "FW", "--retry-interval", "1440",
         "--retry-count", "5", "--timeout-minutes", "1440", "--max-per-minute",
         "1000", "--overwrite-mode", "2", NULL},
        {"run", "--target", "ALL", "--product-key", "PK", "--firmware-id", "FW",
         "--src-version", "1.0", "--src-version", "1.1", NULL},
        {"run", "--target", "GRAY", "--product-key", "PK", "--firmware-id",
         "FW", "--src-version", "1.0", "--gray-percent", "100", NULL},
        {"run", "--target", "GRAY", "--product-key", "PK", "--firmware-id",
         "FW", "--src-version", "1.0", "--gray-percent", "0.001", NULL},
        {"run", "--target", "GRAY", "--product-key", "PK", "--firmware-id",
         "FW", "--src-version", "1.0", "--gray-percent", "33.333", NULL},
        {"run", "inv.csv", "--firmware-id", "FW", "--qps", "50", "--force-qps",
         NULL},
        {"run", "inv.csv", "--firmware-id", "FW", "--qps", "1",
         "--chunk-size", "1", "--max-in-flight", "1", "--max-attempts", "1",
         "--signature-version", "2", "--request-timeout", "1", NULL},
        {"run", "inv.csv", "--firmware-id", "FW", "--endpoint",
         "http://127.0.0.1:9999", "--iot-instance-id", "iot-06z00abc", NULL},
    };
    struct orch_config cfg;
    struct orch_diag d;
    size_t i = 0;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = check(&cfg, cases[i], &d);

        if (rc != 0)
            fail_msg("case %zu rejected: %s", i, d.msg);
        orch_config_cleanup(&cfg);
    }
    (void)state;
}

/* Each rejected config names the option and the rule. */
static void rejected(void **state)
{
    static const struct {
        const char *args[20];
        const char *msg;
    } cases[] = {
        {{"run", "i.csv", "--firmware-id", "F", "--retry-interval", "10",
          "--retry-count", "3", NULL},
         "--retry-count: 3 is not one of 1, 2, 5"},
        {{"run", "i.csv", "--firmware-id", "F", "--retry-interval", "15",
          "--retry-count", "1", NULL},
         "--retry-interval: 15 is not one of 0, 10, 30, 60, 1440"},
        {{"run", "i.csv", "--firmware-id", "F", "--retry-interval", "10", NULL},
         "--retry-interval: needs --retry-count"},
        {{"run", "i.csv", "--firmware-id", "F", "--retry-count", "2", NULL},
         "--retry-count: needs --retry-interval"},
        {{"run", "i.csv", "--firmware-id", "F", "--timeout-minutes", "0", NULL},
         "--timeout-minutes: must be at least 1 (got 0)"},
        {{"run", "i.csv", "--firmware-id", "F", "--timeout-minutes", "1441",
          NULL},
         "--timeout-minutes: must be at most 1440 (got 1441)"},
        {{"run", "i.csv", "--firmware-id", "F", "--max-per-minute", "1001",
          NULL},
         "--max-per-minute: must be at most 1000 (got 1001)"},
        {{"run", "i.csv", "--firmware-id", "F", "--overwrite-mode", "3", NULL},
         "--overwrite-mode: 3 is not one of 1"},
        {{"run", "i.csv", "--firmware-id", "F", "--overwrite-mode", "0", NULL},
         "--overwrite-mode: 0 is not one of 1"},
        {{"run", "--target", "GRAY", "--product-key", "P", "--firmware-id", "F",
          "--src-version", "1", "--gray-percent", "0", NULL},
         "--gray-percent: 0 is not more than 0"},
        {{"run", "--target", "GRAY", "--product-key", "P", "--firmware-id", "F",
          "--src-version", "1", "--gray-percent", "100.001", NULL},
         "--gray-percent: 100.001 is not more than 0 and at most 100"},
        {{"run", "--target", "GRAY", "--product-key", "P", "--firmware-id", "F",
          "--src-version", "1", "--gray-percent", "33.3333", NULL},
         "--gray-percent: 33.3333 has more than 3 decimals"},
        {{"run", "--target", "GRAY", "--product-key", "P", "--firmware-id", "F",
          "--src-version", "1", "--gray-percent", "5.", NULL},
         "--gray-percent: \"5.\" is not a percentage"},
        {{"run", "--target", "GRAY", "--product-key", "P", "--firmware-id", "F",
          "--src-version", "1", "--gray-percent", "1e1", NULL},
         "--gray-percent: \"1e1\" is not a percentage"},
        {{"run", "--target", "GRAY", "--product-key", "P", "--firmware-id", "F",
          "--src-version", "1", NULL},
         "--target GRAY needs --gray-percent"},
        {{"run", "--target", "ALL", "--product-key", "P", "--firmware-id", "F",
          "--src-version", "1", "--gray-percent", "5", NULL},
         "--gray-percent: only with --target GRAY"},
        {{"run", "i.csv", "--firmware-id", "F", "--gray-percent", "5", NULL},
         "--gray-percent: only with --target GRAY"},
        {{"run", "i.csv", "--firmware-id", "F", "--src-version", "1", NULL},
         "--src-version: only with --target ALL or GRAY"},
        {{"run", "--firmware-id", "F", NULL}, "no INVENTORY.csv given"},
        {{"run", "i.csv", "--target", "ALL", "--product-key", "P",
          "--firmware-id", "F", "--src-version", "1", NULL},
         "--target ALL takes no inventory"},
        {{"run", "--target", "ALL", "--product-key", "P", "--firmware-id", "F",
          NULL},
         "--target ALL needs --src-version"},
        {{"run", "--target", "GRAY", "--firmware-id", "F", "--src-version", "1",
          "--gray-percent", "5", NULL},
         "--target GRAY needs --product-key"},
        {{"run", "--target", "ALL", "--product-key", "P", "--firmware-id", "F",
          "--src-version", "1", "--src-version", "1", NULL},
         "--src-version: 1 is given twice"},
        {{"run", "--target", "ALL", "--product-key", "P", "--firmware-id", "F",
          "--src-version", "1", "--skip-invalid", NULL},
         "--skip-invalid: only with an inventory"},
        {{"run", "--target", "ALL", "--product-key", "P", "--firmware", "Q=F",
          "--src-version", "1", NULL},
         "no firmware for product P"},
        {{"run", "i.csv", NULL}, "--firmware-id (or --firmware PK=FW"},
        {{"run", "i.csv", "--firmware", "P=F1", "--firmware", "P=F2", NULL},
         "--firmware: product P is given two firmware ids (F1 and F2)"},
        {{"run", "i.csv", "--firmware-id", "F", "--product-key", "a b", NULL},
         "--product-key: the ProductKey \"a b\" contains a space"},
        {{"run", "i.csv", "--firmware-id", "F", "--qps", "21", NULL},
         "--qps: 21 is above the account's quota of 20"},
        {{"run", "i.csv", "--firmware-id", "F", "--qps", "0", NULL},
         "--qps: must be at least 1 (got 0)"},
        {{"run", "i.csv", "--firmware-id", "F", "--qps", "1000001",
          "--force-qps", NULL},
         "--qps: must be at most 1000000 (got 1000001)"},
        {{"run", "i.csv", "--firmware-id", "F", "--query-qps", "11", NULL},
         "--query-qps: 11 is above the query operations' quota of 10"},
        {{"run", "i.csv", "--firmware-id", "F", "--qps", "0.5", NULL},
         "--qps: must be at least 1 (got 0.5)"},
        {{"run", "i.csv", "--firmware-id", "F", "--poll-interval", "0", NULL},
         "--poll-interval: must be at least 1 s (got 0 s)"},
        {{"run", "i.csv", "--firmware-id", "F", "--report",
          "/nonexistent/dir/r.csv", NULL},
         "--report: the folder /nonexistent/dir does not exist"},
        {{"run", "i.csv", "--firmware-id", "F", "--report",
          "/etc/passwd/r.csv", NULL},
         "--report: /etc/passwd is not a folder"},
        {{"run", "i.csv", "--firmware-id", "F", "--query-qps", "0", NULL},
         "--query-qps: must be at least 1 (got 0)"},
        {{"run", "i.csv", "--firmware-id", "F", "--chunk-size", "0", NULL},
         "--chunk-size: must be at least 1 (got 0)"},
        {{"run", "i.csv", "--firmware-id", "F", "--chunk-size", "201", NULL},
         "--chunk-size: must be at most 200 (got 201)"},
        {{"run", "i.csv", "--firmware-id", "F", "--max-in-flight", "0", NULL},
         "--max-in-flight: must be at least 1 (got 0)"},
        {{"run", "i.csv", "--firmware-id", "F", "--max-attempts", "0", NULL},
         "--max-attempts: must be at least 1 (got 0)"},
        {{"run", "i.csv", "--firmware-id", "F", "--signature-version", "1",
          NULL},
         "--signature-version: 1 is not one of 3"},
        {{"run", "i.csv", "--firmware-id", "F", "--signature-version", "4",
          NULL},
         "--signature-version: 4 is not one of 3"},
        {{"run", "i.csv", "--firmware-id", "F", "--request-timeout", "0", NULL},
         "--request-timeout: must be at least 1 s (got 0 s)"},
        {{"run", "i.csv", "--firmware-id", "F", "--endpoint", "ftp://x", NULL},
         "--endpoint: \"ftp://x\" does not start with https://"},
        {{"run", "i.csv", "--firmware-id", "F", "--endpoint", "https://h/?a",
          NULL},
         "--endpoint: \"https://h/?a\" has a space, '?' or '#'"},
        {{"run", "i.csv", "--firmware-id", "F", "--region", "CN-Shanghai",
          NULL},
         "--region: \"CN-Shanghai\" is not a region id"},
        {{"run", "i.csv", "--firmware-id", "F", "--iot-instance-id", "a b",
          NULL},
         "--iot-instance-id: the instance id \"a b\" contains a space"},
        {{"run", "i.csv", "--firmware-id", "F", "--ca-bundle",
          "/nonexistent/ca.pem", NULL},
         "--ca-bundle: cannot read /nonexistent/ca.pem"},
        {{"plan", "i.csv", "--firmware-id", "F", "--resume", NULL},
         "--resume: only with run (or use `ota-rollout resume REPORT`)"},
        {{"run", "i.csv", "--firmware-id", "F", "--log-format", "xml", NULL},
         "--log-format: \"xml\" is not text or json"},
        {{"i.csv", NULL}, "unknown command"}, /* parse error, see below */
        {{"--firmware-id", "F", NULL}, "no command given"},
    };
    struct orch_config cfg;
    struct orch_diag d;
    size_t i = 0;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = torture_parse_cli(&cfg, cases[i].args, &d);

        if (rc == 0)
            rc = orch_config_validate_at(&cfg, NOW, &d);
        if (rc == 0 || strstr(d.msg, cases[i].msg) == NULL)
            fail_msg("case %zu: rc %d, diag \"%s\", want \"%s\"", i, rc, d.msg,
                     cases[i].msg);
        orch_config_cleanup(&cfg);
    }
    (void)state;
}

/* ScheduleTime 5 min..7 days from now, ScheduleFinishTime 1 h..30 days
 * after it: both edges of each window. */
static void schedule_windows(void **state)
{
    static const struct {
        int64_t start, finish; /* offsets from NOW, or UNSET */
        const char *msg;       /* NULL: accepted */
    } cases[] = {
        {5 * MIN_MS, UNSET, NULL},
        {5 * MIN_MS - 1000, UNSET,
         "--schedule-time: 2027-01-15T08:04:59Z is "
         "less than 5 minutes from now"},
        {0, UNSET,
         "--schedule-time: 2027-01-15T08:00:00Z is less than 5 "
         "minutes from now"},
        {-1000, UNSET,
         "--schedule-time: 2027-01-15T07:59:59Z is in the "
         "past"},
        {7 * DAY_MS, UNSET, NULL},
        {7 * DAY_MS + 1000, UNSET,
         "--schedule-time: 2027-01-22T08:00:01Z is "
         "more than 7 days from now"},
        {HOUR_MS, HOUR_MS + HOUR_MS, NULL},
        {HOUR_MS, HOUR_MS + 30 * DAY_MS, NULL},
        {HOUR_MS, HOUR_MS + HOUR_MS - 1000,
         "--schedule-finish-time: 2027-01-15T09:59:59Z is less than 1 hour "
         "after --schedule-time"},
        {HOUR_MS, HOUR_MS + 30 * DAY_MS + 1000,
         "--schedule-finish-time: 2027-02-14T09:00:01Z is more than 30 days "
         "after --schedule-time"},
        {UNSET, 2 * HOUR_MS, "--schedule-finish-time: needs --schedule-time"},
    };
    const char *args[] = {"run", "i.csv", "--firmware-id", "F", NULL};
    struct orch_config cfg;
    struct orch_diag d;
    size_t i = 0;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = torture_parse_cli(&cfg, args, &d);

        assert_int_equal(rc, 0);
        if (cases[i].start != UNSET)
            cfg.schedule_time_ms = NOW + cases[i].start;
        if (cases[i].finish != UNSET)
            cfg.schedule_finish_time_ms = NOW + cases[i].finish;
        rc = orch_config_validate_at(&cfg, NOW, &d);
        if (cases[i].msg == NULL && rc != 0)
            fail_msg("case %zu rejected: %s", i, d.msg);
        if (cases[i].msg && (rc == 0 || strstr(d.msg, cases[i].msg) == NULL))
            fail_msg("case %zu: rc %d, diag \"%s\", want \"%s\"", i, rc, d.msg,
                     cases[i].msg);
        orch_config_cleanup(&cfg);
    }
    (void)state;
}

/* --window and its zone options: which combinations are refused. */
static void maintenance_windows(void **state)
{
    static const struct {
        const char *args[12];
        const char *msg; /* NULL: accepted */
    } cases[] = {
        {{"--window", "02:00-05:00", "--time-zone", "Europe/Berlin"}, NULL},
        {{"--window", "22:00-01:00", "--time-zone-column", "tz"}, NULL},
        {{"--window", "02:00-05:00", "--time-zone", "UTC", "--waves",
          "1%,all", "--wave-interval", "1d"},
         NULL},
        {{"--window", "02:00-02:30", "--time-zone", "UTC"},
         "--window: 02:00-02:30 is 30 minutes; the API wants "
         "ScheduleFinishTime at least 1 hour"},
        {{"--window", "2-5", "--time-zone", "UTC"},
         "--window: \"2-5\" is not a window"},
        {{"--window", "02:00-05:00"}, "--window: needs the devices' time zone"},
        {{"--time-zone", "UTC"}, "--time-zone: only with --window"},
        {{"--time-zone-column", "tz"}, "--time-zone-column: only with --window"},
        {{"--window", "02:00-05:00", "--time-zone", "UTC",
          "--time-zone-column", "tz"},
         "--time-zone and --time-zone-column: one or the other"},
        {{"--window", "02:00-05:00", "--time-zone", "../etc/passwd"},
         "is not a time zone name"},
        {{"--window", "02:00-05:00", "--time-zone", "UTC", "--schedule-time",
          "2027-01-15T10:00:00Z"},
         "--window: not with --schedule-time"},
    };
    struct orch_config cfg;
    struct orch_diag d;
    size_t i = 0, j = 0;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *args[20] = {"run", "i.csv", "--firmware-id", "F"};
        int rc = 0;

        for (j = 0; cases[i].args[j]; j++)
            args[4 + j] = cases[i].args[j];
        rc = check(&cfg, args, &d);
        if (cases[i].msg == NULL && rc != 0)
            fail_msg("case %zu rejected: %s", i, d.msg);
        if (cases[i].msg && (rc != ORCH_ECONFIG ||
                             strstr(d.msg, cases[i].msg) == NULL))
            fail_msg("case %zu: rc %d, diag \"%s\", want \"%s\"", i, rc,
                     d.msg, cases[i].msg);
        orch_config_cleanup(&cfg);
    }
    (void)state;
}

static void derived_defaults(void **state)
{
    struct orch_config cfg;
    struct orch_diag d;
    const char *a1[] = {"plan", "dir/Fleet.CSV", "--firmware-id", "F", NULL};
    const char *a2[] = {"plan", "fleet.txt", "--firmware-id", "F", NULL};
    const char *a3[] = {"plan",     "i.csv",    "--firmware-id",
                        "F",        "--region", "cn-beijing",
                        "--report", "r.csv",    NULL};
    const char *a4[] = {"run", "--target",   "ALL",    "--product-key",
                        "PK",  "--firmware", "PK=FWX", "--src-version",
                        "1",   NULL};

    assert_int_equal(check(&cfg, a1, &d), 0);
    assert_string_equal(cfg.region, "cn-shanghai");
    assert_string_equal(cfg.endpoint, "https://iot.cn-shanghai.aliyuncs.com");
    assert_string_equal(cfg.report_path, "dir/Fleet.report.csv");
    orch_config_cleanup(&cfg);

    setenv("ALIBABA_CLOUD_REGION_ID", "ap-southeast-1", 1);
    assert_int_equal(check(&cfg, a2, &d), 0);
    assert_string_equal(cfg.region, "ap-southeast-1");
    assert_string_equal(cfg.endpoint,
                        "https://iot.ap-southeast-1.aliyuncs.com");
    assert_string_equal(cfg.report_path, "fleet.txt.report.csv");
    orch_config_cleanup(&cfg);

    /* --region beats the environment; --report is kept as given. */
    assert_int_equal(check(&cfg, a3, &d), 0);
    assert_string_equal(cfg.endpoint, "https://iot.cn-beijing.aliyuncs.com");
    assert_string_equal(cfg.report_path, "r.csv");
    orch_config_cleanup(&cfg);
    unsetenv("ALIBABA_CLOUD_REGION_ID");

    /* ALL: the product's firmware becomes cfg->firmware_id, the report
     * goes to the working directory. */
    assert_int_equal(check(&cfg, a4, &d), 0);
    assert_string_equal(cfg.firmware_id, "FWX");
    assert_string_equal(cfg.report_path, "ota-rollout-PK-all.report.csv");
    orch_config_cleanup(&cfg);
    (void)state;
}

static void firmware_lookup(void **state)
{
    struct orch_config cfg;
    struct orch_diag d;
    const char *a[] = {"plan",  "i.csv", "--firmware-id", "DEF", "--firmware",
                       "P1=F1", NULL};

    assert_int_equal(check(&cfg, a, &d), 0);
    assert_string_equal(orch_config_firmware_for(&cfg, "P1"), "F1");
    assert_string_equal(orch_config_firmware_for(&cfg, "P2"), "DEF");
    assert_string_equal(orch_config_firmware_for(&cfg, NULL), "DEF");
    orch_config_cleanup(&cfg);
    (void)state;
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test_setup(accepted, setup),
    cmocka_unit_test_setup(rejected, setup),
    cmocka_unit_test_setup(schedule_windows, setup),
    cmocka_unit_test_setup(maintenance_windows, setup),
    cmocka_unit_test_setup(derived_defaults, setup),
    cmocka_unit_test_setup(firmware_lookup, setup))
