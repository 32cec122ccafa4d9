/* test_e2e_operator.c - what `run` and `plan` tell a new operator before
 * anything is sent: every invalid row at once
 * with the --skip-invalid hint, one outcome for a header-only inventory,
 * a report folder that does not exist refused before any call, the first
 * request's device list shortened, range errors and mistyped names. Each
 * runs the real binary against ota-emulator and checks its request log:
 * nothing may reach it. */
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
#define FW "UkOZxXXnVaLfqvvv8YzC000100"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* `cmd INVENTORY --firmware-id FW --endpoint EMULATOR --yes` (cmd: run or
 * plan), printed, and refused for its inventory: exit 3. r is the
 * caller's to free. */
static void refused_inventory(const struct e2e_fleet *c, const char *cmd,
                              struct h_run *r)
{
    const char *argv[] = {cmd,          c->inv,          "--firmware-id", FW,
                          "--endpoint", c->emu.endpoint, "--yes",         NULL};

    h_run(r, argv, NULL, 0, 30);
    print_message("%s: exit %d\n%s", cmd, r->exit_code, r->err);
    assert_int_equal(r->exit_code, 3);
}

/* Six invalid rows among valid ones: `run` and `plan` list all six, each
 * with file, line, value and the rejects file's reason, then the count
 * and the --skip-invalid hint; exit 3, nothing sent. */
static void every_bad_row_at_once(void **state)
{
    static const char *const want[] = {
        "fleet.csv:3: \"abc\": DeviceName is shorter than 4 characters\n",
        "fleet.csv:5: \"dev 0003\": DeviceName contains a character other "
        "than letters, digits and - _ @ . :\n",
        "fleet.csv:6: \"8.6E+14\": DeviceName looks like a number",
        "fleet.csv:7: \"\": ProductKey is empty and no --product-key was "
        "given\n",
        "fleet.csv:8: \"a1-bad\": ProductKey is not letters and digits only\n",
        "fleet.csv:10: \"x\": DeviceName is shorter than 4 characters\n",
    };
    const char *cmds[] = {"run", "plan"};
    struct e2e_fleet c;
    struct h_run r;
    char rejects[700];
    size_t i = 0, k = 0;

    (void)state;
    e2e_fleet_start(&c, 0, PK, NULL);
    write_file(c.inv, "DeviceName,ProductKey\n"
                      "dev-000001," PK "\n"
                      "abc," PK "\n"
                      "dev-000002," PK "\n"
                      "dev 0003," PK "\n"
                      "8.6E+14," PK "\n"
                      "dev-000004,\n"
                      "dev-000005,a1-bad\n"
                      "dev-000006," PK "\n"
                      "x," PK "\n");
    snprintf(rejects, sizeof(rejects), "%s.rejects.csv", c.report);
    for (k = 0; k < 2; k++) {
        refused_inventory(&c, cmds[k], &r);
        for (i = 0; i < 6; i++) {
            if (strstr(r.err, want[i]) == NULL)
                fail_msg("%s: \"%s\" not in:\n%s", cmds[k], want[i], r.err);
        }
        assert_non_null(strstr(r.err, "fleet.csv: 6 invalid rows; nothing "
                                      "sent"));
        assert_non_null(strstr(r.err, "--skip-invalid writes them to"));
        assert_non_null(strstr(r.err, rejects));
        h_run_free(&r);
    }
    assert_int_equal(e2e_log_count(&c.emu, NULL, 0), 0); /* nothing sent */

    /* And the hint is right: --skip-invalid puts the same six rows, with
     * the same reasons, into the rejects file. */
    {
        const char *argv[] = {"plan", c.inv, "--firmware-id", FW,
                              "--skip-invalid", NULL};

        e2e_run_expect(&r, argv, NULL, 1, 30, 0);
        assert_non_null(strstr(r.out, "rows rejected: 6"));
        assert_non_null(strstr(r.out, "line 8: \"a1-bad\": ProductKey is not "
                                      "letters and digits only"));
        h_run_free(&r);
    }
    e2e_fleet_stop(&c);
}

/* More invalid rows than the list shows: the first 20, then a count. */
static void many_bad_rows_counted(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    FILE *f = NULL;
    size_t i = 0;

    (void)state;
    e2e_fleet_start(&c, 0, PK, NULL);
    f = fopen(c.inv, "w");
    assert_non_null(f);
    fputs("DeviceName,ProductKey\n", f);
    for (i = 0; i < 30; i++)
        fprintf(f, "d%zu," PK "\n", i);
    fclose(f);
    const char *argv[] = {"plan", c.inv, "--firmware-id", FW, NULL};
    e2e_run_expect(&r, argv, NULL, 1, 30, 3);
    assert_non_null(strstr(r.err, "fleet.csv:21: \"d19\""));
    assert_null(strstr(r.err, "fleet.csv:22:"));
    assert_non_null(strstr(r.err, "... and 10 more invalid rows"));
    assert_non_null(strstr(r.err, "fleet.csv: 30 invalid rows"));
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* A header and no rows: the same outcome for plan and run (exit 3, the
 * same message), nothing sent. */
static void header_only_same_for_plan_and_run(void **state)
{
    const char *cmds[] = {"plan", "run"};
    struct e2e_fleet c;
    struct h_run r;
    size_t k = 0;

    (void)state;
    e2e_fleet_start(&c, 0, PK, NULL);
    write_file(c.inv, "DeviceName,ProductKey\n");
    for (k = 0; k < 2; k++) {
        refused_inventory(&c, cmds[k], &r);
        assert_non_null(strstr(r.err, "fleet.csv: no devices (the inventory "
                                      "has a header and no rows)"));
        h_run_free(&r);
    }
    assert_int_equal(e2e_log_count(&c.emu, NULL, 0), 0);
    e2e_fleet_stop(&c);
}

/* --report in a folder that does not exist: exit 2 naming the folder,
 * before credentials, the pre-flight or any call. */
static void report_folder_missing_refused_first(void **state)
{
    static const char *const auto_create[] = {"--auto-create", NULL};
    struct e2e_fleet c;
    struct h_run r;
    char report[700], folder[650];

    (void)state;
    e2e_fleet_start(&c, 10, PK, auto_create);
    snprintf(folder, sizeof(folder), "%s/no-such-folder", c.dir);
    snprintf(report, sizeof(report), "%s/r.csv", folder);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--yes", "--report", report, NULL};
    h_run(&r, argv, NULL, 0, 30);
    print_message("exit %d\n%s", r.exit_code, r.err);
    assert_int_equal(r.exit_code, 2);
    assert_non_null(strstr(r.err, "--report: the folder"));
    assert_non_null(strstr(r.err, folder));
    assert_non_null(strstr(r.err, "does not exist"));
    assert_null(strstr(r.err, "pre-flight"));
    assert_null(strstr(r.err, "credentials:"));
    assert_int_equal(e2e_log_count(&c.emu, NULL, 0), 0);
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* plan shows the first request's 200 devices as one line; --verbose
 * shows them all. */
static void plan_device_list_shortened(void **state)
{
    struct e2e_fleet c;
    struct h_run r;

    (void)state;
    e2e_fleet_start(&c, 450, PK, NULL);
    {
        const char *argv[] = {"plan", c.inv, "--firmware-id", FW, NULL};

        e2e_run_expect(&r, argv, NULL, 1, 30, 0);
        assert_non_null(strstr(r.out, "\nTargetDeviceName.1..200 = "
                                      "dev-000000 .. dev-000199\n"));
        assert_null(strstr(r.out, "TargetDeviceName.1="));
        assert_null(strstr(r.out, "TargetDeviceName.2"));
        assert_non_null(strstr(r.out, "FirmwareId=" FW "\n"));
        h_run_free(&r);
    }
    {
        const char *argv[] = {"plan", c.inv, "--firmware-id", FW, "--verbose",
                              NULL};

        e2e_run_expect(&r, argv, NULL, 1, 30, 0);
        assert_non_null(strstr(r.out, "\nTargetDeviceName.1=dev-000000\n"));
        assert_non_null(strstr(r.out, "\nTargetDeviceName.200=dev-000199\n"));
        assert_null(strstr(r.out, "TargetDeviceName.1.."));
        assert_int_equal(e2e_count_substr(r.out, "TargetDeviceName."), 200);
        h_run_free(&r);
    }
    e2e_fleet_stop(&c);
}

/* Range errors and mistyped names, as the binary prints them. */
static void usage_errors_say_what_helps(void **state)
{
    static const struct {
        const char *args[8];
        const char *want;
    } cases[] = {
        {{"run", "x.csv", "--firmware-id", FW, "--qps", "0", NULL},
         "ota-rollout: --qps: must be at least 1 (got 0)\n"},
        {{"run", "x.csv", "--firmware-id", FW, "--chunk-size", "0", NULL},
         "ota-rollout: --chunk-size: must be at least 1 (got 0)\n"},
        {{"rnu", "x.csv", NULL},
         "ota-rollout: unknown command \"rnu\"; did you mean run? (expected "
         "run, plan, resume, status or cancel; try --help)\n"},
        {{"run", "x.csv", "--qsp", "5", NULL},
         "ota-rollout: unknown option --qsp; did you mean --qps? (try "
         "--help)\n"},
        {{"run", "x.csv", "--frobnicate", NULL},
         "ota-rollout: unknown option --frobnicate (try --help)\n"},
    };
    struct h_run r;
    size_t i = 0;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        h_run(&r, cases[i].args, NULL, 1, 30);
        if (r.exit_code != 2 || strcmp(r.err, cases[i].want) != 0)
            fail_msg("case %zu: exit %d, stderr \"%s\", want \"%s\"", i,
                     r.exit_code, r.err, cases[i].want);
        h_run_free(&r);
    }
}

E2E_MAIN(cmocka_unit_test(every_bad_row_at_once),
         cmocka_unit_test(many_bad_rows_counted),
         cmocka_unit_test(header_only_same_for_plan_and_run),
         cmocka_unit_test(report_folder_missing_refused_first),
         cmocka_unit_test(plan_device_list_shortened),
         cmocka_unit_test(usage_errors_say_what_helps))
