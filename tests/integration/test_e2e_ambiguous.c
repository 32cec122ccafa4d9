/* test_e2e_ambiguous.c - end to end: a chunk whose
 * outcome is unknown is never offered for a rerun. Its devices stay out of
 * <report>.failed.csv and are listed in <report>.ambiguous.csv; while
 * anything is Ambiguous or not sent the only hint (text and --json) is
 * `ota-rollout resume`; following it ends with every device in exactly
 * one job; a new run of an inventory holding those devices is refused
 * before anything is sent. Also: a double Ctrl-C keeps the
 * first "interrupted" note, and the summary and --json say it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"

/* The report's rows that are failed/Ambiguous; their devices (first and
 * last of each, and the count) are in the ambiguous file with the reason
 * and in no row of the failed file. Returns the number of such devices. */
static size_t assert_ambiguous_split(const struct e2e_fleet *c)
{
    json_t *rows = h_read_csv(c->report);
    json_t *failed = h_read_csv(c->failed);
    json_t *amb = NULL, *r = NULL, *d = NULL;
    char resume[800];
    size_t i = 0, j = 0, devices = 0;

    amb = h_read_csv(c->ambiguous);
    assert_non_null(rows);
    assert_non_null(failed);
    assert_non_null(amb);
    e2e_assert_mode_0600(c->ambiguous);
    snprintf(resume, sizeof(resume), "ota-rollout resume %s", c->report);
    json_array_foreach(rows, i, r) {
        if (strcmp(e2e_str(r, "error_code"), "Ambiguous") != 0)
            continue;
        devices += strtoul(e2e_str(r, "device_count"), NULL, 10);
        json_array_foreach(failed, j, d) {
            if (strcmp(e2e_str(d, "DeviceName"), e2e_str(r, "first_device")) ==
                    0 ||
                strcmp(e2e_str(d, "DeviceName"), e2e_str(r, "last_device")) ==
                    0)
                fail_msg("device %s of Ambiguous chunk %s is in the failed "
                         "file",
                         e2e_str(d, "DeviceName"), e2e_str(r, "chunk"));
        }
        assert_non_null(
            e2e_find_where(amb, "DeviceName", e2e_str(r, "first_device")));
        assert_non_null(
            e2e_find_where(amb, "DeviceName", e2e_str(r, "last_device")));
    }
    json_array_foreach(amb, j, d) {
        assert_string_equal(e2e_str(d, "ProductKey"), PK);
        assert_non_null(strstr(e2e_str(d, "reason"), "outcome unknown"));
        assert_non_null(strstr(e2e_str(d, "reason"), resume));
    }
    /* Every device of the ambiguous file is of an Ambiguous chunk or of a
     * chunk that was sent and not answered (not_sent after a send). */
    assert_true(json_array_size(amb) >= devices);
    json_decref(amb);
    json_decref(failed);
    json_decref(rows);
    return devices;
}

/* The output names resume as the one next step and offers no rerun. */
static void assert_resume_only(const char *err, const char *report)
{
    char want[800];

    snprintf(want, sizeof(want), "next step: ota-rollout resume %s",
             report);
    if (strstr(err, want) == NULL)
        fail_msg("no `%s` in: %s", want, err);
    if (strstr(err, "rerun") != NULL)
        fail_msg("a rerun is offered: %s", err);
}

/* The --json document's next step is resume, with the command. */
static void assert_json_resume(json_t *doc, const char *report)
{
    char want[800];

    snprintf(want, sizeof(want), "ota-rollout resume %s", report);
    assert_string_equal(torture_json_str(doc, "next_step", "action"), "resume");
    assert_string_equal(torture_json_str(doc, "next_step", "command"), want);
    assert_non_null(strstr(torture_json_str(doc, "files", "ambiguous"),
                           ".ambiguous.csv"));
}

/* A run of `inventory` (holding the devices of c's Ambiguous chunks) to
 * the report `report`: refused before anything is sent, exit 2. */
static void overlapping_run(const struct e2e_fleet *c, const char *inventory,
                            const char *report, struct h_run *r)
{
    e2e_run_expect(r,
                   E2E_ARGS("run", inventory, "--firmware-id", FW, "--endpoint",
                            c->emu.endpoint, "--yes", "--report", report,
                            "--skip-preflight"),
                   NULL, 0, 60, 2);
}

/* Every Create's answer is lost (the jobs ARE made) and every lookup
 * fails: both chunks end Ambiguous. Their devices go to the ambiguous
 * file, not the failed one; the hint is resume only. A new run of the
 * same devices (another report, the inventory elsewhere) is refused
 * before any call; the resume, once the lookups work, adopts the two jobs
 * and empties the ambiguous file: every device in exactly one job. */
static void ambiguous_kept_out_of_rerun_then_resume(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    json_t *doc = NULL, *rows = NULL;
    char other[700], sub[700], copy[800];

    (void)state;
    e2e_fleet_start(&c, 300, PK, E2E_ARGS(E2E_EMU_LOST_CREATES));
    e2e_fleet_run(
        &r, &c, FW,
        E2E_ARGS("--skip-preflight", "--request-timeout", "2s", "--json"), 1);
    assert_int_equal(e2e_job_count(&c.emu), 2); /* made, answers lost */
    assert_int_equal(assert_ambiguous_split(&c), 300);
    rows = h_read_csv(c.failed);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
    assert_resume_only(r.err, c.report);
    assert_non_null(strstr(r.err, ".ambiguous.csv (2 chunks"));
    doc = e2e_parse_document(r.out);
    assert_json_resume(doc, c.report);
    json_decref(doc);
    h_run_free(&r);

    /* The same devices under another report: refused, nothing sent. */
    snprintf(other, sizeof(other), "%s/other.report.csv", c.dir);
    overlapping_run(&c, c.inv, other, &r);
    assert_non_null(strstr(r.err, "300 devices"));
    assert_non_null(strstr(r.err, c.journal));
    assert_non_null(strstr(r.err, "nothing sent"));
    h_run_free(&r);
    /* The ambiguous file itself as the inventory: refused too. */
    overlapping_run(&c, c.ambiguous, other, &r);
    assert_non_null(strstr(r.err, "300 devices"));
    h_run_free(&r);
    /* The inventory copied to another folder, the report next to the
     * journal: the report's folder is looked at. */
    snprintf(sub, sizeof(sub), "%s/elsewhere", c.dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(copy, sizeof(copy), "%s/copy.csv", sub);
    {
        size_t len = 0;
        char *data = h_slurp(c.inv, &len);
        FILE *fp = fopen(copy, "wb");

        assert_non_null(fp);
        assert_int_equal(fwrite(data, 1, len, fp), len);
        fclose(fp);
        free(data);
    }
    overlapping_run(&c, copy, other, &r);
    h_run_free(&r);
    assert_int_equal(e2e_log_count(&c.emu, "CreateOTAStaticUpgradeJob", 0),
                     2);

    /* Following the hint: the resume decides both chunks. */
    assert_int_equal(h_emu_send(&c.emu, "/__emu/faults",
                                "fail-queries=0&lose-response=0"),
                     200);
    e2e_run_expect(&r,
                   E2E_ARGS("resume", c.report, "--endpoint", c.emu.endpoint,
                            "--yes", "--request-timeout", "2s", "--json"),
                   NULL, 0, 120, 0);
    assert_null(strstr(r.err, "next step"));
    doc = e2e_parse_document(r.out);
    assert_string_equal(torture_json_str(doc, "next_step", "action"), "none");
    json_decref(doc);
    h_run_free(&r);
    e2e_assert_complete(&c, 300, 2);
    assert_int_equal(e2e_log_count(&c.emu, "CreateOTAStaticUpgradeJob", 0),
                     2);
    e2e_fleet_stop(&c);
}

/* The reported scenario: Ctrl-C twice while calls are in flight (emulator
 * latency 800-1200 ms): the calls in flight are aborted and end Ambiguous
 * while the emulator still creates their jobs. Both interrupt notes are
 * printed, the summary and --json say it was interrupted, the Ambiguous
 * chunks' devices are not in the failed file, the only hint is resume,
 * and following it leaves every device in exactly one job. */
static void double_ctrl_c_hint_is_resume_only(void **state)
{
    struct e2e_fleet c;
    const char *emu[] = {"--auto-create", "--latency-ms", "800-1200",
                         "--seed", "12", NULL};
    char out_path[700];
    struct h_run r;
    json_t *doc = NULL;
    char *out = NULL, *err = NULL;
    pid_t pid = 0;
    int code = 0;

    (void)state;
    e2e_fleet_start(&c, 4000, PK, emu);
    snprintf(out_path, sizeof(out_path), "%s/stdout.json", c.dir);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--yes", "--report", c.report,
                          "--request-timeout", "5s", "--json", NULL};
    pid = h_spawn(argv, NULL, 0, c.dir, out_path, c.output);
    e2e_await_intents(&c, pid, 5);
    code = e2e_interrupt(pid, 2);
    err = h_slurp(c.output, NULL);
    out = h_slurp(out_path, NULL);
    if (code != 4)
        fail_msg("exit %d, not 4: %s", code, err);
    /* Both notes, the first one first. */
    assert_non_null(strstr(err, "interrupted: no new calls are started"));
    assert_non_null(strstr(err, "interrupted again"));
    assert_true(strstr(err, "interrupted: no new calls are started") <
                strstr(err, "interrupted again"));
    assert_non_null(strstr(err, "  stopped: interrupted"));
    doc = e2e_parse_document(out);
    assert_non_null(strstr(torture_json_str(doc, "exit", "reason"), "interrupted"));
    assert_json_resume(doc, c.report);
    json_decref(doc);
    assert_resume_only(err, c.report);
    assert_true(assert_ambiguous_split(&c) >= 200);
    free(out);
    free(err);

    /* The hint, as printed. */
    e2e_run_expect(
        &r, E2E_ARGS("resume", c.report, "--yes", "--request-timeout", "5s"),
        NULL, 0, 120, 0);
    h_run_free(&r);
    e2e_assert_complete(&c, 4000, 20);
    e2e_fleet_stop(&c);
}

E2E_MAIN(cmocka_unit_test(ambiguous_kept_out_of_rerun_then_resume),
         cmocka_unit_test(double_ctrl_c_hint_is_resume_only))
