/* test_runfiles.c - the run's output files in a temp dir: report rows and
 * failed devices from done records, the rejects file, the whole rewrite
 * through temp files, appending on resume, keeping old files aside. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "orch/model/config.h"
#include "orch/base/err.h"
#include "orch/model/inventory.h"
#include "orch/model/plan.h"
#include "orch/rollout/runfiles.h"
#include "torture.h"

#define HDR ORCH_REPORT_HEADER "\n"

struct fixture {
    char dir[64];
    char report[128];
    struct orch_config cfg;
    struct orch_inventory inv;
    struct orch_plan plan;
};

static void check_file(const char *path, const char *want)
{
    char *got = torture_read_file(path, NULL);

    assert_string_equal(got, want);
    free(got);
}

static char *sibling(const struct fixture *f, const char *suffix)
{
    static char buf[256];

    snprintf(buf, sizeof(buf), "%s%s", f->report, suffix);
    return buf;
}

/* Four devices of product pkA in chunks of 2 (dev-a, dev-b | dev-c,
 * dev-d), firmware FW1. */
static int setup(void **state)
{
    static const struct orch_inventory_opts opts;
    static const char csv[] = "DeviceName,ProductKey\n"
                              "dev-a,pkA\ndev-b,pkA\ndev-c,pkA\ndev-d,pkA\n";
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    torture_mkdtemp(f->dir, sizeof(f->dir), "test_runfiles");
    snprintf(f->report, sizeof(f->report), "%s/r.csv", f->dir);
    orch_config_init(&f->cfg);
    f->cfg.chunk_size = 2;
    f->cfg.firmware_id = strdup("FW1");
    torture_plan(&f->plan, &f->inv, &f->cfg, csv, &opts);
    assert_int_equal(f->plan.nchunks, 2);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    torture_plan_cleanup(&f->plan, &f->inv, &f->cfg);
    torture_rmtree(f->dir);
    free(f);
    return 0;
}

static json_t *created(const char *job)
{
    return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "t", "done", "status",
                     "created", "attempts", 1, "job_id", job, "utc_create",
                     "2026-01-02T03:04:05.000Z", "request_id", "RQ1");
}

static json_t *failed(const char *code, const char *message)
{
    return json_pack("{s:s, s:s, s:i, s:s, s:s}", "t", "done", "status",
                     "failed", "attempts", 3, "code", code, "message",
                     message);
}

static void live_rows_and_failed_devices(void **state)
{
    struct fixture *f = *state;
    struct orch_runfiles rf;
    struct orch_diag diag = {{0}};
    json_t *ok = created("J1");
    json_t *bad = failed("iot.ota.X", "no");

    orch_runfiles_init(&rf, f->report, &f->plan, NULL, NULL);
    assert_int_equal(orch_runfiles_open(&rf, false, &diag), 0);
    assert_true(rf.outputs_written);
    orch_runfiles_write(&rf, 0, ok);
    orch_runfiles_write(&rf, 1, bad);
    assert_int_equal(orch_runfiles_close(&rf), 0);
    check_file(f->report,
               HDR "1,pkA,FW1,2,dev-a,dev-b,created,J1,"
                   "2026-01-02T03:04:05.000Z,RQ1,1,,\n"
                   "2,pkA,FW1,2,dev-c,dev-d,failed,,,,3,iot.ota.X,no\n");
    check_file(sibling(f, ".failed.csv"), ORCH_FAILED_HEADER "\n"
                                          "pkA,dev-c,iot.ota.X\n"
                                          "pkA,dev-d,iot.ota.X\n");
    json_decref(ok);
    json_decref(bad);
}

static void not_sent_without_code_shows_its_status(void **state)
{
    struct fixture *f = *state;
    struct orch_runfiles rf;
    struct orch_diag diag = {{0}};
    json_t *ns = json_pack("{s:s, s:s}", "t", "done", "status", "not_sent");

    orch_runfiles_init(&rf, f->report, &f->plan, NULL, NULL);
    assert_int_equal(orch_runfiles_open(&rf, false, &diag), 0);
    orch_runfiles_write(&rf, 0, ns);
    assert_int_equal(orch_runfiles_close(&rf), 0);
    check_file(f->report,
               HDR "1,pkA,FW1,2,dev-a,dev-b,not_sent,,,,0,not_sent,\n");
    check_file(sibling(f, ".failed.csv"), ORCH_FAILED_HEADER "\n"
                                          "pkA,dev-a,not_sent\n"
                                          "pkA,dev-b,not_sent\n");
    json_decref(ns);
}

static void target_row_names_product_and_firmware(void **state)
{
    struct fixture *f = *state;
    struct orch_runfiles rf;
    struct orch_diag diag = {{0}};
    json_t *bad = failed("Busy", "later");

    orch_runfiles_init(&rf, f->report, NULL, "pkT", "FWT");
    assert_int_equal(orch_runfiles_open(&rf, false, &diag), 0);
    orch_runfiles_write(&rf, 0, bad);
    assert_int_equal(orch_runfiles_close(&rf), 0);
    check_file(f->report, HDR "1,pkT,FWT,0,,,failed,,,,3,Busy,later\n");
    /* No devices to list for an ALL/GRAY target. */
    check_file(sibling(f, ".failed.csv"), ORCH_FAILED_HEADER "\n");
    json_decref(bad);
}

static void recovered_job_says_so(void **state)
{
    struct fixture *f = *state;
    struct orch_runfiles rf;
    struct orch_diag diag = {{0}};
    json_t *ok = created("J9");

    json_object_set_new(ok, "recovered", json_true());
    orch_runfiles_init(&rf, f->report, &f->plan, NULL, NULL);
    assert_int_equal(orch_runfiles_open(&rf, false, &diag), 0);
    orch_runfiles_write(&rf, 1, ok);
    assert_int_equal(orch_runfiles_close(&rf), 0);
    check_file(f->report,
               HDR "2,pkA,FW1,2,dev-c,dev-d,created,J9,"
                   "2026-01-02T03:04:05.000Z,RQ1,1,,recovered: the answer "
                   "was lost; the job was found by its tag/devices\n");
    json_decref(ok);
}

static void nothing_written_before_open(void **state)
{
    struct fixture *f = *state;
    struct orch_runfiles rf;
    json_t *ok = created("J1");

    orch_runfiles_init(&rf, f->report, &f->plan, NULL, NULL);
    orch_runfiles_write(&rf, 0, ok);
    assert_int_equal(orch_runfiles_close(&rf), 0);
    assert_int_equal(access(f->report, F_OK), -1);
    assert_false(rf.outputs_written);
    json_decref(ok);
}

static void rejects_rows(void **state)
{
    struct fixture *f = *state;
    struct orch_runfiles rf;
    struct orch_diag diag = {{0}};

    orch_runfiles_init(&rf, f->report, &f->plan, NULL, NULL);
    assert_int_equal(orch_runfiles_open_rejects(&rf, &diag), 0);
    assert_true(rf.rejects_open);
    assert_true(rf.rejects_written);
    assert_int_equal(orch_runfiles_reject(&rf, 7, "=bad", "invalid name"), 0);
    assert_int_equal(orch_runfiles_reject(&rf, 9, NULL, "empty"), 0);
    assert_int_equal(orch_runfiles_close(&rf), 0);
    assert_false(rf.rejects_open);
    check_file(sibling(f, ".rejects.csv"), ORCH_REJECTS_HEADER "\n"
                                           "7,'=bad,invalid name\n"
                                           "9,,empty\n");
}

/* The rewrite puts rows in chunk order, skips chunks without an outcome,
 * replaces both files whole and leaves no temp file. */
static void rewrite_whole_in_chunk_order(void **state)
{
    struct fixture *f = *state;
    struct orch_runfiles rf;
    struct orch_diag diag = {{0}};
    json_t *rows[2];

    torture_write_text(f->report, "stale\n");
    torture_write_text(sibling(f, ".failed.csv"), "stale\n");
    rows[0] = NULL;
    rows[1] = failed("E", "m");
    orch_runfiles_init(&rf, f->report, &f->plan, NULL, NULL);
    assert_int_equal(orch_runfiles_rewrite(&rf, rows, 2, &diag), 0);
    check_file(f->report, HDR "2,pkA,FW1,2,dev-c,dev-d,failed,,,,3,E,m\n");
    check_file(sibling(f, ".failed.csv"),
               ORCH_FAILED_HEADER "\npkA,dev-c,E\npkA,dev-d,E\n");
    assert_int_equal(access(sibling(f, ".tmp"), F_OK), -1);
    assert_int_equal(access(sibling(f, ".failed.csv.tmp"), F_OK), -1);
    rows[0] = created("J1");
    assert_int_equal(orch_runfiles_rewrite(&rf, rows, 2, &diag), 0);
    check_file(f->report,
               HDR "1,pkA,FW1,2,dev-a,dev-b,created,J1,"
                   "2026-01-02T03:04:05.000Z,RQ1,1,,\n"
                   "2,pkA,FW1,2,dev-c,dev-d,failed,,,,3,E,m\n");
    assert_int_equal(orch_runfiles_close(&rf), 0);
    json_decref(rows[0]);
    json_decref(rows[1]);
}

static void rewrite_failure_keeps_old_files(void **state)
{
    struct fixture *f = *state;
    struct orch_runfiles rf;
    struct orch_diag diag = {{0}};
    char path[192];
    json_t *rows[1];

    snprintf(path, sizeof(path), "%s/missing-dir/r.csv", f->dir);
    rows[0] = created("J1");
    orch_runfiles_init(&rf, path, &f->plan, NULL, NULL);
    assert_int_equal(orch_runfiles_rewrite(&rf, rows, 1, &diag), ORCH_EIO);
    assert_true(diag.msg[0] != '\0');
    /* The caller's write_err is left alone. */
    assert_int_equal(rf.write_err, 0);
    orch_runfiles_note(&rf, ORCH_EIO);
    orch_runfiles_note(&rf, ORCH_ENOMEM);
    assert_int_equal(orch_runfiles_close(&rf), ORCH_EIO);
    json_decref(rows[0]);
}

static json_t *not_sent(const char *code)
{
    return json_pack("{s:s, s:s, s:i, s:s}", "t", "done", "status",
                     "not_sent", "attempts", 1, "code", code);
}

/* A chunk whose outcome is unknown (failed Ambiguous, or
 * not_sent after it was sent) never reaches the failed file: its devices
 * go to the ambiguous file, with the reason; live and rewritten alike. */
static void unknown_outcome_goes_to_ambiguous_file(void **state)
{
    struct fixture *f = *state;
    struct orch_runfiles rf;
    struct orch_diag diag = {{0}};
    unsigned attempts[2] = {1, 0};
    json_t *amb = failed("Ambiguous", "answer lost");
    json_t *ns = not_sent("Interrupted");
    char reason[300];
    char want[2048];
    struct stat st;

    snprintf(reason, sizeof(reason),
             "outcome unknown: a job may hold these devices; never rerun "
             "them: `ota-rollout resume %s` looks the job up",
             f->report);
    orch_runfiles_init(&rf, f->report, &f->plan, NULL, NULL);
    rf.attempts = attempts;
    assert_int_equal(orch_runfiles_open(&rf, false, &diag), 0);
    orch_runfiles_write(&rf, 0, amb);
    orch_runfiles_write(&rf, 1, ns); /* never sent: a plain failure */
    assert_int_equal(orch_runfiles_close(&rf), 0);
    check_file(sibling(f, ".failed.csv"), ORCH_FAILED_HEADER
               "\npkA,dev-c,Interrupted\npkA,dev-d,Interrupted\n");
    snprintf(want, sizeof(want),
             ORCH_AMBIGUOUS_HEADER "\npkA,dev-a,Ambiguous,%s\n"
             "pkA,dev-b,Ambiguous,%s\n", reason, reason);
    check_file(sibling(f, ".ambiguous.csv"), want);
    assert_int_equal(stat(sibling(f, ".ambiguous.csv"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* Rewritten: chunk 2 was sent too (an aborted call): unknown as well;
     * the failed file is left with nothing. */
    {
        json_t *rows[2] = {amb, ns};

        attempts[1] = 1;
        assert_int_equal(orch_runfiles_rewrite(&rf, rows, 2, &diag), 0);
    }
    check_file(sibling(f, ".failed.csv"), ORCH_FAILED_HEADER "\n");
    snprintf(want, sizeof(want),
             ORCH_AMBIGUOUS_HEADER "\npkA,dev-a,Ambiguous,%s\n"
             "pkA,dev-b,Ambiguous,%s\npkA,dev-c,Interrupted,%s\n"
             "pkA,dev-d,Interrupted,%s\n", reason, reason, reason, reason);
    check_file(sibling(f, ".ambiguous.csv"), want);
    assert_int_equal(stat(sibling(f, ".ambiguous.csv"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(access(sibling(f, ".ambiguous.csv.tmp"), F_OK), -1);

    /* A resume decided them (the journal's done records): the rewrite
     * empties the ambiguous file. */
    {
        json_t *rows[2];

        rows[0] = created("J1");
        rows[1] = created("J2");
        assert_int_equal(orch_runfiles_rewrite(&rf, rows, 2, &diag), 0);
        json_decref(rows[0]);
        json_decref(rows[1]);
    }
    check_file(sibling(f, ".ambiguous.csv"), ORCH_AMBIGUOUS_HEADER "\n");
    check_file(sibling(f, ".failed.csv"), ORCH_FAILED_HEADER "\n");
    json_decref(amb);
    json_decref(ns);
}

/* A resumed run: the files rewritten from the journal, then appended. */
static void append_after_rewrite(void **state)
{
    struct fixture *f = *state;
    struct orch_runfiles rf;
    struct orch_diag diag = {{0}};
    json_t *rows[2];

    rows[0] = created("J1");
    rows[1] = NULL;
    orch_runfiles_init(&rf, f->report, &f->plan, NULL, NULL);
    assert_int_equal(orch_runfiles_rewrite(&rf, rows, 2, &diag), 0);
    assert_int_equal(orch_runfiles_open(&rf, true, &diag), 0);
    rows[1] = failed("E", "m");
    orch_runfiles_write(&rf, 1, rows[1]);
    orch_runfiles_close_results(&rf);
    assert_false(rf.report_open);
    assert_int_equal(orch_runfiles_close(&rf), 0);
    check_file(f->report,
               HDR "1,pkA,FW1,2,dev-a,dev-b,created,J1,"
                   "2026-01-02T03:04:05.000Z,RQ1,1,,\n"
                   "2,pkA,FW1,2,dev-c,dev-d,failed,,,,3,E,m\n");
    check_file(sibling(f, ".failed.csv"),
               ORCH_FAILED_HEADER "\npkA,dev-c,E\npkA,dev-d,E\n");
    json_decref(rows[0]);
    json_decref(rows[1]);
}

struct kept_log {
    char line[8][256];
    size_t n;
};

static void log_kept(void *ud, const char *from, const char *to, int errnum)
{
    struct kept_log *k = ud;

    assert_true(k->n < 8);
    snprintf(k->line[k->n++], sizeof(k->line[0]), "%s -> %s (%d)",
             strrchr(from, '/') + 1, strrchr(to, '/') + 1, errnum);
}

static void keep_old_files_aside(void **state)
{
    struct fixture *f = *state;
    struct kept_log k;
    time_t now = 1767323045; /* 2026-01-02 03:04:05 UTC */

    memset(&k, 0, sizeof(k));
    torture_write_text(f->report, "r\n");
    torture_write_text(sibling(f, ".journal"), "j\n");
    torture_write_text(sibling(f, ".rejects.csv"), "x\n");
    assert_int_equal(
        orch_runfiles_keep_old(f->report, false, now, log_kept, &k), 0);
    assert_int_equal(k.n, 2);
    assert_string_equal(k.line[0], "r.csv -> r.csv.20260102T030405Z (0)");
    assert_string_equal(k.line[1], "r.csv.journal -> "
                                   "r.csv.journal.20260102T030405Z (0)");
    assert_false(orch_runfiles_exists(f->report));
    assert_true(orch_runfiles_exists(sibling(f, ".20260102T030405Z")));
    /* Rejects only when asked for. */
    assert_true(orch_runfiles_exists(sibling(f, ".rejects.csv")));

    /* A second --force in the same second keeps the first one's files. */
    torture_write_text(f->report, "r2\n");
    memset(&k, 0, sizeof(k));
    assert_int_equal(
        orch_runfiles_keep_old(f->report, true, now, log_kept, &k), 0);
    assert_int_equal(k.n, 2);
    assert_string_equal(k.line[0], "r.csv -> r.csv.20260102T030405Z-1 (0)");
    assert_string_equal(k.line[1], "r.csv.rejects.csv -> "
                                   "r.csv.rejects.csv.20260102T030405Z (0)");
    check_file(sibling(f, ".20260102T030405Z"), "r\n");
    check_file(sibling(f, ".20260102T030405Z-1"), "r2\n");
}

static void keep_old_nothing_there(void **state)
{
    struct fixture *f = *state;
    struct kept_log k;

    memset(&k, 0, sizeof(k));
    assert_int_equal(
        orch_runfiles_keep_old(f->report, true, 0, log_kept, &k), 0);
    assert_int_equal(k.n, 0);
}

/* A chunk whose wave was not created (planrows.h) has its report row
 * and is in neither device file; a plain not_sent chunk stays in the
 * failed file. */
static void wave_rows_in_no_device_file(void **state)
{
    struct fixture *f = *state;
    struct orch_runfiles rf;
    struct orch_diag diag = {{0}};
    json_t *rows[2];

    rows[0] = json_pack("{s:s, s:s, s:i, s:s, s:s}", "t", "done", "status",
                        "not_sent", "attempts", 0, "code", "WaveAborted",
                        "message", "m");
    rows[1] = json_pack("{s:s, s:s, s:i, s:s, s:s}", "t", "done", "status",
                        "not_sent", "attempts", 0, "code", "Interrupted",
                        "message", "i");
    orch_runfiles_init(&rf, f->report, &f->plan, NULL, NULL);
    assert_int_equal(orch_runfiles_rewrite(&rf, rows, 2, &diag), 0);
    check_file(f->report,
               HDR "1,pkA,FW1,2,dev-a,dev-b,not_sent,,,,0,WaveAborted,m\n"
                   "2,pkA,FW1,2,dev-c,dev-d,not_sent,,,,0,Interrupted,i\n");
    check_file(sibling(f, ".failed.csv"),
               ORCH_FAILED_HEADER "\npkA,dev-c,Interrupted\n"
                                  "pkA,dev-d,Interrupted\n");
    check_file(sibling(f, ".ambiguous.csv"), ORCH_AMBIGUOUS_HEADER "\n");
    assert_int_equal(orch_runfiles_close(&rf), 0);
    json_decref(rows[0]);
    json_decref(rows[1]);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test_setup_teardown(wave_rows_in_no_device_file, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(live_rows_and_failed_devices, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(not_sent_without_code_shows_its_status,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(target_row_names_product_and_firmware,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(recovered_job_says_so, setup, teardown),
    cmocka_unit_test_setup_teardown(nothing_written_before_open, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(rejects_rows, setup, teardown),
    cmocka_unit_test_setup_teardown(rewrite_whole_in_chunk_order, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(rewrite_failure_keeps_old_files, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(append_after_rewrite, setup, teardown),
    cmocka_unit_test_setup_teardown(unknown_outcome_goes_to_ambiguous_file,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(keep_old_files_aside, setup, teardown),
    cmocka_unit_test_setup_teardown(keep_old_nothing_there, setup, teardown))
