/* test_e2e_ambiguous.c - issue 11 item 1 end to end: a chunk whose
 * outcome is unknown is never offered for a rerun. Its devices stay out of
 * <report>.failed.csv and are listed in <report>.ambiguous.csv; while
 * anything is Ambiguous or not sent the only hint (text and --json) is
 * `ota-rollout resume`; following it ends with every device in exactly
 * one job; a new run of an inventory holding those devices is refused
 * before anything is sent. Also issue 11 item 8: a double Ctrl-C keeps the
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

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static void ambiguous_path(const struct e2e_fleet *c, char *out, size_t n)
{
    snprintf(out, n, "%s.ambiguous.csv", c->report);
}

/* The report's rows that are failed/Ambiguous; their devices (first and
 * last of each, and the count) are in the ambiguous file with the reason
 * and in no row of the failed file. Returns the number of such devices. */
static size_t assert_ambiguous_split(const struct e2e_fleet *c)
{
    json_t *rows = h_read_csv(c->report);
    json_t *failed = h_read_csv(c->failed);
    json_t *amb = NULL, *r = NULL, *d = NULL;
    char path[700], resume[800];
    size_t i = 0, j = 0, devices = 0;

    ambiguous_path(c, path, sizeof(path));
    amb = h_read_csv(path);
    assert_non_null(rows);
    assert_non_null(failed);
    assert_non_null(amb);
    e2e_assert_mode_0600(path);
    snprintf(resume, sizeof(resume), "ota-rollout resume %s", c->report);
    json_array_foreach(rows, i, r) {
        if (strcmp(str(r, "error_code"), "Ambiguous") != 0)
            continue;
        devices += strtoul(str(r, "device_count"), NULL, 10);
        json_array_foreach(failed, j, d) {
            if (strcmp(str(d, "DeviceName"), str(r, "first_device")) == 0 ||
                strcmp(str(d, "DeviceName"), str(r, "last_device")) == 0)
                fail_msg("device %s of Ambiguous chunk %s is in the failed "
                         "file", str(d, "DeviceName"), str(r, "chunk"));
        }
        assert_non_null(e2e_find_where(amb, "DeviceName",
                                       str(r, "first_device")));
        assert_non_null(e2e_find_where(amb, "DeviceName",
                                       str(r, "last_device")));
    }
    json_array_foreach(amb, j, d) {
        assert_string_equal(str(d, "ProductKey"), PK);
        assert_non_null(strstr(str(d, "reason"), "outcome unknown"));
        assert_non_null(strstr(str(d, "reason"), resume));
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
    assert_string_equal(e2e_jstr(doc, "next_step", "action"), "resume");
    assert_string_equal(e2e_jstr(doc, "next_step", "command"), want);
    assert_non_null(strstr(e2e_jstr(doc, "files", "ambiguous"),
                           ".ambiguous.csv"));
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
    const char *emu[] = {"--auto-create",
                         "--fault-actions", "CreateOTAStaticUpgradeJob",
                         "--lose-response", "1",
                         "--fail-queries", "1",
                         "--seed", "11",
                         NULL};
    json_t *doc = NULL, *rows = NULL;
    char other[700], amb[700], sub[700], copy[800], journal_name[700];

    (void)state;
    e2e_fleet_start(&c, 300, PK, emu);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--yes", "--report", c.report,
                          "--skip-preflight", "--request-timeout", "2s",
                          "--json", NULL};
    h_run(&r, argv, NULL, 0, 120);
    if (r.exit_code != 1)
        fail_msg("exit %d (expected 1): %s", r.exit_code, r.err);
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
    snprintf(journal_name, sizeof(journal_name), "%s.journal", c.report);
    const char *again[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                           c.emu.endpoint, "--yes", "--report", other,
                           "--skip-preflight", NULL};
    h_run(&r, again, NULL, 0, 60);
    if (r.exit_code != 2)
        fail_msg("overlapping run: exit %d (expected 2): %s", r.exit_code,
                 r.err);
    assert_non_null(strstr(r.err, "300 devices"));
    assert_non_null(strstr(r.err, journal_name));
    assert_non_null(strstr(r.err, "nothing sent"));
    h_run_free(&r);
    /* The ambiguous file itself as the inventory: refused too. */
    ambiguous_path(&c, amb, sizeof(amb));
    const char *amb_run[] = {"run", amb, "--firmware-id", FW, "--endpoint",
                             c.emu.endpoint, "--yes", "--report", other,
                             "--skip-preflight", NULL};
    h_run(&r, amb_run, NULL, 0, 60);
    if (r.exit_code != 2)
        fail_msg("ambiguous file run: exit %d (expected 2): %s",
                 r.exit_code, r.err);
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
    const char *copied[] = {"run", copy, "--firmware-id", FW, "--endpoint",
                            c.emu.endpoint, "--yes", "--report", other,
                            "--skip-preflight", NULL};
    h_run(&r, copied, NULL, 0, 60);
    if (r.exit_code != 2)
        fail_msg("copied inventory: exit %d (expected 2): %s", r.exit_code,
                 r.err);
    h_run_free(&r);
    assert_int_equal(e2e_log_count(&c.emu, "CreateOTAStaticUpgradeJob", 0),
                     2);

    /* Following the hint: the resume decides both chunks. */
    assert_int_equal(h_emu_send(&c.emu, "/__emu/faults",
                                "fail-queries=0&lose-response=0"),
                     200);
    const char *resume[] = {"resume", c.report, "--endpoint", c.emu.endpoint,
                            "--yes", "--request-timeout", "2s", "--json",
                            NULL};
    h_run(&r, resume, NULL, 0, 120);
    if (r.exit_code != 0)
        fail_msg("resume: exit %d: %s", r.exit_code, r.err);
    assert_null(strstr(r.err, "next step"));
    doc = e2e_parse_document(r.out);
    assert_string_equal(e2e_jstr(doc, "next_step", "action"), "none");
    json_decref(doc);
    h_run_free(&r);
    e2e_assert_complete(&c, 300, 2);
    assert_int_equal(e2e_log_count(&c.emu, "CreateOTAStaticUpgradeJob", 0),
                     2);
    e2e_fleet_stop(&c);
}

/* Intent records in the journal: calls about to go out. */
static size_t count_intents(const char *journal)
{
    char *data = h_slurp(journal, NULL);
    size_t n = e2e_count_substr(data, "\"t\":\"intent\"");

    free(data);
    return n;
}

/* The scenario: Ctrl-C twice while calls are in flight (emulator
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
    long waited = 0;
    pid_t pid = 0;
    int code = 0;

    (void)state;
    e2e_fleet_start(&c, 4000, PK, emu);
    snprintf(out_path, sizeof(out_path), "%s/stdout.json", c.dir);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--yes", "--report", c.report,
                          "--request-timeout", "5s", "--json", NULL};
    pid = h_spawn(argv, NULL, 0, c.dir, out_path, c.output);
    while (count_intents(c.journal) < 5) {
        if (waited >= 30000 || waitpid(pid, NULL, WNOHANG) == pid)
            fail_msg("no calls in flight after %ld ms", waited);
        h_sleep_ms(2);
        waited += 2;
    }
    assert_int_equal(kill(pid, SIGINT), 0);
    h_sleep_ms(50);
    assert_int_equal(kill(pid, SIGINT), 0);
    code = h_wait(pid, -1, 30000);
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
    assert_non_null(strstr(e2e_jstr(doc, "exit", "reason"), "interrupted"));
    assert_json_resume(doc, c.report);
    json_decref(doc);
    assert_resume_only(err, c.report);
    assert_true(assert_ambiguous_split(&c) >= 200);
    free(out);
    free(err);

    /* The hint, as printed. */
    const char *resume[] = {"resume", c.report, "--yes",
                            "--request-timeout", "5s", NULL};
    h_run(&r, resume, NULL, 0, 120);
    if (r.exit_code != 0)
        fail_msg("resume: exit %d: %s", r.exit_code, r.err);
    h_run_free(&r);
    e2e_assert_complete(&c, 4000, 20);
    e2e_fleet_stop(&c);
}

E2E_MAIN(
    cmocka_unit_test(ambiguous_kept_out_of_rerun_then_resume),
    cmocka_unit_test(double_ctrl_c_hint_is_resume_only))
