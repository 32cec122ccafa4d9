/* test_cli.c - the command line: every option parsed into the config, every
 * parse-time rejection, secrets refused without echo, --help and
 * --version. */
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

static void every_option_parses(void **state)
{
    struct orch_config cfg;
    struct orch_diag d;
    const char *args[] = {"run",
                          "fleet.csv",
                          "--firmware-id",
                          "FW1",
                          "--product-key",
                          "PK1",
                          "--firmware",
                          "PKA=FWA",
                          "--firmware=PKB=FW=B",
                          "--target",
                          "gray",
                          "--src-version",
                          "1.0",
                          "--src-version=1.1",
                          "--gray-percent",
                          "33.33",
                          "--schedule-time",
                          "1893456000000",
                          "--schedule-finish-time=1893459600000",
                          "--retry-interval",
                          "60",
                          "--retry-count",
                          "2",
                          "--timeout-minutes",
                          "1440",
                          "--max-per-minute",
                          "0",
                          "--overwrite-mode",
                          "2",
                          NULL};
    int rc = torture_parse_cli(&cfg, args, &d);

    assert_int_equal(rc, 0);
    assert_int_equal(cfg.command, ORCH_CMD_RUN);
    assert_string_equal(cfg.inventory_path, "fleet.csv");
    assert_string_equal(cfg.firmware_id, "FW1");
    assert_string_equal(cfg.product_key, "PK1");
    assert_int_equal(cfg.n_fw_map, 2);
    assert_string_equal(cfg.fw_map[0].product_key, "PKA");
    assert_string_equal(cfg.fw_map[0].firmware_id, "FWA");
    /* Only the first '=' separates: firmware ids may contain '='. */
    assert_string_equal(cfg.fw_map[1].product_key, "PKB");
    assert_string_equal(cfg.fw_map[1].firmware_id, "FW=B");
    assert_int_equal(cfg.target, ORCH_TARGET_GRAY);
    assert_int_equal(cfg.n_src_versions, 2);
    assert_string_equal(cfg.src_versions[1], "1.1");
    assert_string_equal(cfg.gray_percent, "33.33");
    assert_true(cfg.schedule_time_ms == 1893456000000LL);
    assert_true(cfg.schedule_finish_time_ms == 1893459600000LL);
    assert_int_equal(cfg.retry_interval, 60);
    assert_int_equal(cfg.retry_count, 2);
    assert_int_equal(cfg.timeout_minutes, 1440);
    assert_int_equal(cfg.max_per_minute, 0);
    assert_int_equal(cfg.overwrite_mode, 2);
    orch_config_cleanup(&cfg);
    (void)state;
}

static void every_other_option_parses(void **state)
{
    struct orch_config cfg;
    struct orch_diag d;
    const char *args[] = {"--endpoint",
                          "http://127.0.0.1:8080",
                          "--region",
                          "cn-beijing",
                          "--iot-instance-id",
                          "iot-123",
                          "--profile",
                          "prod",
                          "--ca-bundle",
                          "/etc/ssl/ca.pem",
                          "--insecure",
                          "--delimiter",
                          "tab",
                          "--skip-invalid",
                          "--report",
                          "out.csv",
                          "--yes",
                          "--no-progress",
                          "--json",
                          "--qps",
                          "12.5",
                          "--force-qps",
                          "--max-in-flight",
                          "8",
                          "--max-attempts",
                          "3",
                          "--chunk-size",
                          "50",
                          "--no-job-tag",
                          NULL};
    const char *args2[] = {"plan",    "--signature-version",
                           "2",       "--request-timeout",
                           "45",      "--resume",
                           "--force", "--delimiter=;",
                           "--",      "-odd-name.csv",
                           NULL};
    int rc = torture_parse_cli(&cfg, args, &d);

    assert_int_equal(rc, 0);
    assert_int_equal(cfg.command, ORCH_CMD_NONE);
    assert_string_equal(cfg.endpoint, "http://127.0.0.1:8080");
    assert_string_equal(cfg.region, "cn-beijing");
    assert_string_equal(cfg.iot_instance_id, "iot-123");
    assert_string_equal(cfg.profile, "prod");
    assert_string_equal(cfg.ca_bundle, "/etc/ssl/ca.pem");
    assert_true(cfg.insecure);
    assert_int_equal(cfg.delimiter, '\t');
    assert_true(cfg.skip_invalid);
    assert_string_equal(cfg.report_path, "out.csv");
    assert_true(cfg.yes);
    assert_false(cfg.progress);
    assert_true(cfg.json);
    assert_true(cfg.qps == 12.5);
    assert_true(cfg.force_qps);
    assert_int_equal(cfg.max_in_flight, 8);
    assert_int_equal(cfg.max_attempts, 3);
    assert_int_equal(cfg.chunk_size, 50);
    assert_true(cfg.no_job_tag);
    orch_config_cleanup(&cfg);

    rc = torture_parse_cli(&cfg, args2, &d);
    assert_int_equal(rc, 0);
    assert_int_equal(cfg.command, ORCH_CMD_PLAN);
    assert_int_equal(cfg.signature_version, 2);
    assert_int_equal(cfg.request_timeout_ms, 45000);
    assert_true(cfg.resume);
    assert_true(cfg.force);
    assert_int_equal(cfg.delimiter, ';');
    /* After "--" a name starting with '-' is the inventory. */
    assert_string_equal(cfg.inventory_path, "-odd-name.csv");
    orch_config_cleanup(&cfg);
    (void)state;
}

static void defaults_and_last_one_wins(void **state)
{
    struct orch_config cfg;
    struct orch_diag d;
    const char *args[] = {
        "plan", "--firmware-id", "A", "inv.csv", "--firmware-id", "B", NULL};
    int rc = torture_parse_cli(&cfg, args, &d);

    assert_int_equal(rc, 0);
    assert_string_equal(cfg.firmware_id, "B");
    assert_string_equal(cfg.inventory_path, "inv.csv");
    assert_int_equal(cfg.target, ORCH_TARGET_SPECIFIC);
    assert_true(cfg.qps == 20.0);
    assert_int_equal(cfg.chunk_size, 200);
    assert_int_equal(cfg.signature_version, 3);
    assert_int_equal(cfg.retry_count, -1);
    assert_true(cfg.schedule_time_ms == -1);
    assert_true(cfg.progress);
    assert_false(cfg.yes);
    assert_null(cfg.endpoint);
    orch_config_cleanup(&cfg);
    (void)state;
}

static void commands_help_version(void **state)
{
    static const struct {
        const char *arg;
        int command;
    } cmds[] = {{"run", ORCH_CMD_RUN},
                {"plan", ORCH_CMD_PLAN},
                {"resume", ORCH_CMD_RESUME},
                {"status", ORCH_CMD_STATUS},
                {"cancel", ORCH_CMD_CANCEL}};
    struct orch_config cfg;
    struct orch_diag d;
    size_t i = 0;

    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        const char *args[] = {cmds[i].arg, NULL};

        assert_int_equal(torture_parse_cli(&cfg, args, &d), 0);
        assert_int_equal(cfg.command, cmds[i].command);
        assert_string_equal(orch_cli_command_name(cmds[i].command),
                            cmds[i].arg);
        orch_config_cleanup(&cfg);
    }
    {
        const char *h1[] = {"-h", NULL}, *h2[] = {"run", "--help", NULL},
                   *h3[] = {"help", NULL}, *v[] = {"--version", NULL};

        assert_int_equal(torture_parse_cli(&cfg, h1, &d), 0);
        assert_true(cfg.help);
        orch_config_cleanup(&cfg);
        assert_int_equal(torture_parse_cli(&cfg, h2, &d), 0);
        assert_true(cfg.help);
        orch_config_cleanup(&cfg);
        assert_int_equal(torture_parse_cli(&cfg, h3, &d), 0);
        assert_true(cfg.help);
        orch_config_cleanup(&cfg);
        assert_int_equal(torture_parse_cli(&cfg, v, &d), 0);
        assert_true(cfg.version);
        assert_false(cfg.help);
        orch_config_cleanup(&cfg);
    }
    (void)state;
}

/* Parse-time rejections: each names the option (or the argument). */
static void rejections(void **state)
{
    static const struct {
        const char *args[8];
        const char *msg;
    } cases[] = {
        {{"deploy", NULL}, "unknown command \"deploy\""},
        {{"run", "a.csv", "b.csv", NULL}, "unexpected argument \"b.csv\""},
        {{"run", "--frimware-id", "x", NULL}, "unknown option --frimware-id"},
        {{"run", "--firmware-i", "x", NULL},
         "unknown option --firmware-i; did you mean --firmware-id? (try "
         "--help)"},
        {{"run", "-x", NULL}, "unknown option -x"},
        {{"run", "-hv", NULL}, "-h takes no value"},
        {{"run", "--yes=no", NULL}, "--yes takes no value"},
        {{"run", "--firmware-id", NULL}, "--firmware-id needs a value"},
        {{"run", "--firmware-id", "--yes", NULL},
         "--firmware-id needs a value"},
        {{"run", "--report=", NULL}, "--report: empty value"},
        {{"run", "--retry-count", "3x", NULL},
         "--retry-count: \"3x\" is not a whole number"},
        {{"run", "--retry-count", "-1", NULL},
         "--retry-count: \"-1\" is not a whole number"},
        {{"run", "--chunk-size", " 5", NULL},
         "--chunk-size: \" 5\" is not a whole number"},
        {{"run", "--timeout-minutes", "99999999999", NULL},
         "--timeout-minutes: 99999999999 is too large"},
        {{"run", "--qps", "fast", NULL}, "--qps: \"fast\" is not a number"},
        {{"run", "--qps", "inf", NULL}, "--qps: \"inf\" is not a number"},
        {{"run", "--qps", "0x10", NULL}, "--qps: \"0x10\" is not a number"},
        {{"run", "--target", "SOME", NULL},
         "--target: \"SOME\" is not one of ALL, SPECIFIC, GRAY"},
        {{"run", "--firmware", "PKonly", NULL},
         "--firmware: \"PKonly\" is not PK=FW"},
        {{"run", "--firmware", "=FW", NULL}, "--firmware: \"=FW\" is not"},
        {{"run", "--firmware", "PK=", NULL}, "--firmware: \"PK=\" is not"},
        {{"run", "--delimiter", "x", NULL}, "--delimiter: \"x\" is not one of"},
        {{"run", "--schedule-time", "2030-01-01T00:00:00", NULL},
         "--schedule-time: "},
        {{"run", "--schedule-time", "tomorrow", NULL}, "--schedule-time: "},
        {{"run", "--request-timeout", "soon", NULL}, "--request-timeout: "},
    };
    struct orch_config cfg;
    struct orch_diag d;
    size_t i = 0;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = torture_parse_cli(&cfg, cases[i].args, &d);

        if (rc == 0 || strstr(d.msg, cases[i].msg) == NULL)
            fail_msg("case %zu (%s %s): rc %d, diag \"%s\", want \"%s\"", i,
                     cases[i].args[1] ? cases[i].args[1] : "",
                     cases[i].args[2] ? cases[i].args[2] : "", rc, d.msg,
                     cases[i].msg);
        orch_config_cleanup(&cfg);
    }
    (void)state;
}

/* A mistyped command or option gets "(try --help)" and, when a
 * name is close (a few edits away, or the typed text is the start of
 * exactly one), "did you mean"; a far-off word gets no guess. */
static void did_you_mean(void **state)
{
    static const struct {
        const char *args[4];
        const char *msg; /* the whole diag */
    } cases[] = {
        {{"rnu", NULL},
         "unknown command \"rnu\"; did you mean run? (expected run, plan, "
         "resume, status or cancel; try --help)"},
        {{"stauts", "r.csv", NULL},
         "unknown command \"stauts\"; did you mean status? (expected run, "
         "plan, resume, status or cancel; try --help)"},
        {{"deploy", NULL},
         "unknown command \"deploy\" (expected run, plan, resume, status or "
         "cancel; try --help)"},
        {{"xyz", NULL},
         "unknown command \"xyz\" (expected run, plan, resume, status or "
         "cancel; try --help)"},
        {{"run", "--qsp", "5", NULL},
         "unknown option --qsp; did you mean --qps? (try --help)"},
        {{"run", "--frimware-id", "x", NULL},
         "unknown option --frimware-id; did you mean --firmware-id? (try "
         "--help)"},
        {{"run", "--chunksize=5", NULL},
         "unknown option --chunksize; did you mean --chunk-size? (try "
         "--help)"},
        {{"run", "--foo", NULL}, "unknown option --foo (try --help)"},
        {{"run", "--ab", NULL}, "unknown option --ab (try --help)"},
        {{"run", "--verbosity", NULL},
         "unknown option --verbosity (try --help)"},
    };
    struct orch_config cfg;
    struct orch_diag d;
    size_t i = 0;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = torture_parse_cli(&cfg, cases[i].args, &d);

        if (rc == 0 || strcmp(d.msg, cases[i].msg) != 0)
            fail_msg("case %zu: rc %d, diag \"%s\", want \"%s\"", i, rc,
                     d.msg, cases[i].msg);
        orch_config_cleanup(&cfg);
    }
    (void)state;
}

static void too_many_src_versions(void **state)
{
    struct orch_config cfg;
    struct orch_diag d;
    const char *args[24];
    char names[11][8];
    size_t i = 0, n = 0;
    int rc = 0;

    args[n++] = "run";
    for (i = 0; i < 11; i++) {
        snprintf(names[i], sizeof(names[i]), "v%zu", i);
        args[n++] = "--src-version";
        args[n++] = names[i];
    }
    args[n] = NULL;
    rc = torture_parse_cli(&cfg, args, &d);
    assert_int_equal(rc, ORCH_EINVAL);
    assert_non_null(strstr(d.msg, "--src-version: more than 10"));
    /* The ten before were kept and are freed by cleanup (ASan checks). */
    assert_int_equal(cfg.n_src_versions, 10);
    orch_config_cleanup(&cfg);
    (void)state;
}

/* A secret on the command line is refused, and the message never contains
 * the value, whatever the spelling. */
static void secrets_refused_without_echo(void **state)
{
    static const char *const spellings[][3] = {
        {"--access-key-secret", "S3cr3tValue", NULL},
        {"--access-key-secret=S3cr3tValue", NULL, NULL},
        {"--secret", "S3cr3tValue", NULL},
        {"--access-key", "S3cr3tValue", NULL},
        {"--access-key-id", "S3cr3tValue", NULL},
        {"--security-token", "S3cr3tValue", NULL},
        {"--security-token=S3cr3tValue", NULL, NULL},
        {"--sts-token=S3cr3tValue", NULL, NULL},
        {"--ak-secret=S3cr3tValue", NULL, NULL},
        {"--my_token", "S3cr3tValue", NULL},
        {"--password=S3cr3tValue", NULL, NULL},
    };
    struct orch_config cfg;
    struct orch_diag d;
    size_t i = 0;

    for (i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        const char *args[] = {"run", "fleet.csv", spellings[i][0],
                              spellings[i][1], NULL};
        int rc = torture_parse_cli(&cfg, args, &d);

        assert_int_equal(rc, ORCH_EINVAL);
        if (strstr(d.msg, "S3cr3tValue"))
            fail_msg("case %zu echoes the secret: %s", i, d.msg);
        assert_non_null(strstr(d.msg, "ALIBABA_CLOUD_ACCESS_KEY_SECRET"));
        assert_non_null(strstr(d.msg, "not accepted on the command line"));
        /* The value was not taken as a positional argument either. */
        assert_null(cfg.firmware_id);
        orch_config_cleanup(&cfg);
    }
    (void)state;
}

static char *capture(void (*fn)(FILE *))
{
    struct torture_capture c;

    fn(torture_capture_open(&c));
    return torture_capture_close(&c);
}

static void help_lists_everything(void **state)
{
    static const char *const names[] = {"--firmware-id",
                                        "--product-key",
                                        "--firmware PK=FW",
                                        "--endpoint",
                                        "--region",
                                        "--iot-instance-id",
                                        "--report",
                                        "--yes",
                                        "--schedule-time",
                                        "--schedule-finish-time",
                                        "--retry-interval",
                                        "--retry-count",
                                        "--timeout-minutes",
                                        "--max-per-minute",
                                        "--overwrite-mode",
                                        "--target ALL|SPECIFIC|GRAY",
                                        "--src-version",
                                        "--gray-percent",
                                        "--qps",
                                        "--force-qps",
                                        "--max-in-flight",
                                        "--max-attempts",
                                        "--chunk-size",
                                        "--signature-version 3|2",
                                        "--delimiter",
                                        "--skip-invalid",
                                        "--profile",
                                        "--ca-bundle",
                                        "--insecure",
                                        "--request-timeout",
                                        "--no-progress",
                                        "--resume",
                                        "--force",
                                        "--json",
                                        "-h, --help",
                                        "--version",
                                        "ALIBABA_CLOUD_ACCESS_KEY_ID",
                                        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                                        "ALIBABA_CLOUD_SECURITY_TOKEN",
                                        "ALIBABA_CLOUD_PROFILE",
                                        "ALIBABA_CLOUD_REGION_ID",
                                        "Exit codes",
                                        "  0  every chunk created",
                                        "  1  some chunks failed",
                                        "status: the rollout\n"
                                        "     is not complete",
                                        "  2  usage",
                                        "  3  inventory invalid",
                                        "  4  run aborted",
                                        "ota-rollout run INVENTORY.csv",
                                        "ota-rollout plan INVENTORY.csv"};
    char *text = capture(orch_cli_help);
    size_t i = 0;
    const char *line = NULL;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strstr(text, names[i]) == NULL)
            fail_msg("--help lacks \"%s\"", names[i]);
    }
    /* Secret-looking options are not advertised. */
    assert_null(strstr(text, "--access-key"));
    /* Lines fit 80 columns. */
    for (line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);

        if (n > 79)
            fail_msg("help line longer than 79: %.*s", (int)n, line);
        line += n + (nl ? 1 : 0);
    }
    free(text);
    (void)state;
}

static void version_names_libraries(void **state)
{
    char *text = capture(orch_cli_version);

    assert_non_null(strstr(text, "ota-rollout " ORCH_VERSION));
    assert_non_null(strstr(text, "libcurl "));
    assert_non_null(strstr(text, "OpenSSL "));
    assert_non_null(strstr(text, "libcsv 3."));
    assert_non_null(strstr(text, "jansson 2."));
    free(text);
    (void)state;
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(every_option_parses),
    cmocka_unit_test(every_other_option_parses),
    cmocka_unit_test(defaults_and_last_one_wins),
    cmocka_unit_test(commands_help_version),
    cmocka_unit_test(rejections),
    cmocka_unit_test(did_you_mean),
    cmocka_unit_test(too_many_src_versions),
    cmocka_unit_test(secrets_refused_without_echo),
    cmocka_unit_test(help_lists_everything),
    cmocka_unit_test(version_names_libraries))
