/* test_statusview.c - what `status` shows: the text screen, the JSON
 * document (with its exit part, and its null form before a complete
 * count), the devices files, and the accounting of every device. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/commands/statusview.h"
#include "orch/rollout/rollout.h"
#include "orch/rollout/taskagg.h"
#include "../rollout/rollout_fixture.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void json_document(void **state)
{
    struct orch_rollout r;
    struct orch_taskagg agg;
    struct orch_taskagg_summary s;
    json_t *doc = NULL, *jl = NULL;

    (void)state;
    fill_three_jobs(&r, &agg);
    assert_int_equal(orch_taskagg_summarize(&r, &agg, &s), 0);
    doc = orch_status_json(&r, &s);
    assert_non_null(doc);
    assert_string_equal(torture_json_str(doc, NULL, "report"), "rep.csv");
    assert_true(json_is_false(json_object_get(doc, "decided")));
    assert_int_equal(torture_json_num(doc, "tasks", "FAILED"), 3);
    assert_int_equal(torture_json_num(doc, "tasks", "total"), 5);
    assert_int_equal(torture_json_num(doc, "jobs", "query_failed"), 1);
    assert_int_equal(torture_json_num(doc, "jobs", "COMPLETED"), 1);
    assert_int_equal(json_array_size(json_object_get(doc, "products")), 2);
    assert_int_equal(json_array_size(json_object_get(doc, "waves")), 2);
    assert_int_equal(json_array_size(json_object_get(doc, "reasons")), 2);
    jl = json_object_get(doc, "job_list");
    assert_int_equal(json_array_size(jl), 3);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(jl, 2), "status")),
        "UNKNOWN");
    assert_non_null(strstr(
        json_string_value(json_object_get(json_array_get(jl, 2), "error")),
        "InvalidJobId"));
    /* The wave is a number, in job_list and in waves[]. */
    assert_true(
        json_is_integer(json_object_get(json_array_get(jl, 1), "wave")));
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(jl, 1), "wave")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(
            json_array_get(json_object_get(doc, "waves"), 1), "wave")),
        2);
    json_decref(doc);
    orch_taskagg_summary_cleanup(&s);
    orch_taskagg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

/* The whole --json document: the counts plus schema, command and exit;
 * without a complete count the same keys, null. */
static void json_document_with_exit(void **state)
{
    static const char *const counted[] = {
        "devices", "plan", "jobs", "tasks", "products", "reasons", "job_list"};
    struct orch_rollout r;
    struct orch_taskagg agg;
    struct orch_taskagg_summary s;
    json_t *doc = NULL, *ex = NULL;
    size_t i = 0;

    (void)state;
    fill_three_jobs(&r, &agg);
    assert_int_equal(orch_taskagg_summarize(&r, &agg, &s), 0);
    doc = orch_status_json_doc(&r, &s, "ignored.csv", 1,
                               "1 job could not be queried");
    assert_non_null(doc);
    assert_int_equal(torture_json_num(doc, NULL, "schema"), 1);
    assert_string_equal(torture_json_str(doc, NULL, "command"), "status");
    ex = json_object_get(doc, "exit");
    assert_int_equal(torture_json_num(ex, NULL, "code"), 1);
    assert_string_equal(torture_json_str(ex, NULL, "name"), "partial");
    assert_string_equal(torture_json_str(ex, NULL, "reason"),
                        "1 job could not be queried");
    /* The counts are orch_status_json's, report included. */
    assert_string_equal(torture_json_str(doc, NULL, "report"), "rep.csv");
    assert_int_equal(torture_json_num(doc, "tasks", "FAILED"), 3);
    assert_int_equal(json_array_size(json_object_get(doc, "waves")), 2);
    json_decref(doc);
    orch_taskagg_summary_cleanup(&s);

    doc = orch_status_json_doc(NULL, NULL, "gone.csv", 4,
                               "status "
                               "interrupted");
    assert_non_null(doc);
    assert_string_equal(torture_json_str(doc, NULL, "report"), "gone.csv");
    assert_true(json_is_false(json_object_get(doc, "decided")));
    for (i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
        json_t *v = json_object_get(doc, counted[i]);

        if (v == NULL || !json_is_null(v))
            fail_msg("%s is not null", counted[i]);
    }
    ex = json_object_get(doc, "exit");
    assert_int_equal(torture_json_num(ex, NULL, "code"), 4);
    assert_string_equal(torture_json_str(ex, NULL, "name"), "aborted");
    assert_string_equal(torture_json_str(ex, NULL, "reason"),
                        "status interrupted");
    json_decref(doc);
    orch_taskagg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

static void text_screen(void **state)
{
    struct orch_rollout r;
    struct orch_taskagg agg;
    struct orch_taskagg_summary s;
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    (void)state;
    fill_three_jobs(&r, &agg);
    assert_int_equal(orch_taskagg_summarize(&r, &agg, &s), 0);
    orch_status_print(fp, &r, &s, 1);
    fclose(fp);
    assert_non_null(strstr(buf, "jobs: 3 (planned 0, running 0, done 2"));
    assert_non_null(strstr(buf, "FAILED"));
    assert_non_null(strstr(buf, "per wave:"));
    assert_non_null(strstr(buf, "timeout"));
    assert_non_null(strstr(buf, "and 1 other reasons"));
    assert_non_null(strstr(buf, "J3: iot.ota.InvalidJobId"));
    assert_null(strstr(buf, "CONFIRM")); /* only shown when non-zero */
    free(buf);
    orch_taskagg_summary_cleanup(&s);
    orch_taskagg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

static void devices_files(void **state)
{
    char dir[] = "/tmp/test_status_XXXXXX";
    char path[128], failed[160], tmp[160];
    struct orch_rollout r;
    struct orch_taskagg agg;
    struct orch_status_devices d;
    struct orch_diag diag = {{0}};
    const char *const st[] = {"SUCCEEDED", "FAILED", "FAILED"};
    const char *const ds[] = {"", "=cmd, evil", ""};
    json_t *p = page(3, st, ds, 3, 0);
    char *all = NULL, *fl = NULL;
    struct stat sb;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/devices.csv", dir);
    snprintf(failed, sizeof(failed), "%s.failed.csv", path);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    load(&r, report_csv);
    orch_taskagg_init(&agg);
    assert_int_equal(orch_status_devices_open(&d, path, &diag), 0);
    assert_int_equal(
        orch_taskagg_add_page(&agg, &r.jobs[0], p, orch_status_devices_row, &d),
        0);
    /* Nothing in place before the commit. */
    assert_int_not_equal(stat(path, &sb), 0);
    assert_int_equal(stat(tmp, &sb), 0);
    assert_int_equal(orch_status_devices_commit(&d, &diag), 0);
    orch_status_devices_cleanup(&d);
    assert_int_not_equal(stat(tmp, &sb), 0);
    all = torture_read_file(path, NULL);
    fl = torture_read_file(failed, NULL);
    assert_non_null(all);
    assert_non_null(fl);
    assert_string_equal(all, ORCH_STATUS_DEVICES_HEADER
                        "\n"
                        "pkA,dev-000,JOB1,T000,SUCCEEDED,0,\n"
                        "pkA,dev-001,JOB1,T001,FAILED,10,\"'=cmd, evil\"\n"
                        "pkA,dev-002,JOB1,T002,FAILED,20,\n");
    assert_string_equal(fl, ORCH_STATUS_FAILED_HEADER
                        "\n"
                        "pkA,dev-001,\"'=cmd, evil\"\n"
                        "pkA,dev-002,FAILED\n");
    free(all);
    free(fl);

    /* A refresh that is abandoned leaves the committed files alone. */
    assert_int_equal(orch_status_devices_open(&d, path, &diag), 0);
    orch_status_devices_cleanup(&d);
    assert_int_not_equal(stat(tmp, &sb), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(orch_status_devices_open(&d, "/nonexistent/d.csv", &diag),
                     ORCH_EIO);
    orch_status_devices_cleanup(&d);

    unlink(path);
    unlink(failed);
    rmdir(dir);
    json_decref(p);
    orch_taskagg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

/* Every device of the plan is accounted for, and "complete" only when
 * every one is upgraded or already on the version. */
static void summary_accounts_every_device(void **state)
{
    static const char csv[] =
        HEADER "1,pkA,fw1,3,d1,d3,created,J1,2025-01-01T00:00:00Z,r1,1,,\n"
               "2,pkA,fw1,4,d4,d7,created,J2,2025-01-01T00:00:00Z,r2,1,,\n"
               "3,pkA,fw1,2,d8,d9,failed,,,r3,6,iot.x.Bad,oops\n"
               "4,pkA,fw1,5,e1,e5,not_sent,,,,0,Interrupted,x\n"
               "5,pkA,fw1,1,e6,e6,not_sent,,,,0,Interrupted,x\n";
    const char *const ok3[] = {"SUCCEEDED", "SUCCEEDED", "SUCCEEDED"};
    const char *const ok1[] = {"SUCCEEDED"};
    json_t *p1 = page(3, ok3, NULL, 3, 0);
    json_t *p2 = page(1, ok1, NULL, 1, 3);
    struct orch_rollout r;
    struct orch_taskagg agg;
    struct orch_taskagg_summary s;
    char why[256];
    json_t *doc = NULL, *plan = NULL;

    (void)state;
    load(&r, csv);
    orch_taskagg_init(&agg);
    assert_int_equal(orch_taskagg_add_page(&agg, &r.jobs[0], p1, NULL, NULL),
                     0);
    assert_int_equal(orch_taskagg_add_page(&agg, &r.jobs[1], p2, NULL, NULL),
                     0);
    r.jobs[1].no_task_reason = ORCH_NO_TASK_ON_VERSION;
    assert_int_equal(orch_taskagg_summarize(&r, &agg, &s), 0);
    assert_int_equal(s.tasks, 4);
    assert_int_equal(s.with_task, 4);
    assert_int_equal(s.no_task[ORCH_NO_TASK_ON_VERSION], 3);
    assert_int_equal(s.failed_chunks, 1);
    assert_int_equal(s.failed_devices, 2);
    assert_int_equal(s.not_sent_chunks, 2);
    assert_int_equal(s.not_sent_devices, 6);
    assert_int_equal(s.plan_devices, 3 + 4 + 2 + 6);
    assert_true(s.decided);   /* every task is decided ... */
    assert_false(s.complete); /* ... but the rollout is not complete */
    orch_taskagg_incomplete(&s, why, sizeof(why));
    assert_string_equal(why, "2 devices in failed chunks, 6 devices in "
                             "chunks not sent");

    doc = orch_status_json(&r, &s);
    plan = json_object_get(doc, "plan");
    assert_non_null(plan);
    assert_true(json_is_false(json_object_get(doc, "complete")));
    assert_int_equal(torture_json_num(plan, NULL, "devices"), 15);
    assert_int_equal(torture_json_num(plan, NULL, "with_task"), 4);
    assert_int_equal(jint_in(plan, "no_task", "on_version"), 3);
    assert_int_equal(jint_in(plan, "failed", "devices"), 2);
    assert_int_equal(jint_in(plan, "not_sent", "chunks"), 2);
    assert_int_equal(json_array_size(json_object_get(plan, "codes")), 2);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_array_get(json_object_get(doc, "job_list"), 1),
                            "no_task"),
            "reason")),
        "on_version");
    json_decref(doc);
    orch_taskagg_summary_cleanup(&s);

    /* Without the chunks that created no job: complete (the devices
     * without a task are on the version already). */
    r.nleft = 0;
    assert_int_equal(orch_taskagg_summarize(&r, &agg, &s), 0);
    assert_true(s.complete);
    orch_taskagg_incomplete(&s, why, sizeof(why));
    assert_string_equal(why, "");
    orch_taskagg_summary_cleanup(&s);
    /* A reason not known, or a refusal, is not complete; nor are unsent
     * chunks. */
    r.jobs[1].no_task_reason = ORCH_NO_TASK_NOT_ELIGIBLE;
    assert_int_equal(orch_taskagg_summarize(&r, &agg, &s), 0);
    assert_false(s.complete);
    orch_taskagg_incomplete(&s, why, sizeof(why));
    assert_string_equal(why, "3 devices refused by the API");
    orch_taskagg_summary_cleanup(&s);
    r.jobs[1].no_task_reason = ORCH_NO_TASK_ON_VERSION;
    r.planned_chunks = 6;
    assert_int_equal(orch_taskagg_summarize(&r, &agg, &s), 0);
    assert_false(s.complete);
    assert_int_equal(s.unsent_chunks, 1);
    orch_taskagg_summary_cleanup(&s);
    r.nleft = 2; /* cleanup frees them */

    json_decref(p1);
    json_decref(p2);
    orch_taskagg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

static void text_screen_accounts_plan(void **state)
{
    static const char csv[] =
        HEADER "1,pkA,fw1,3,d1,d3,created,J1,2025-01-01T00:00:00Z,r1,1,,\n"
               "2,pkA,fw1,2,d8,d9,failed,,,r3,6,iot.x.Bad,oops\n";
    const char *const ok1[] = {"SUCCEEDED"};
    json_t *p1 = page(1, ok1, NULL, 1, 0);
    struct orch_rollout r;
    struct orch_taskagg agg;
    struct orch_taskagg_summary s;
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    (void)state;
    load(&r, csv);
    r.planned_chunks = 4;
    orch_taskagg_init(&agg);
    assert_int_equal(orch_taskagg_add_page(&agg, &r.jobs[0], p1, NULL, NULL),
                     0);
    assert_int_equal(orch_taskagg_summarize(&r, &agg, &s), 0);
    orch_status_print(fp, &r, &s, 10);
    fclose(fp);
    assert_non_null(strstr(buf, "devices of the plan: 5 in the report, and "
                                "those of 2 chunks not sent yet\n"));
    assert_non_null(strstr(buf, "in a job, no task                     2  "
                                "reason unknown"));
    assert_non_null(strstr(buf, "iot.x.Bad"));
    assert_non_null(strstr(buf, "chunks not sent yet: 2"));
    assert_non_null(strstr(buf, "`ota-rollout resume rep.csv` sends them"));
    assert_non_null(strstr(buf, "rollout not complete: 2 devices in failed "
                                "chunks, 2 chunks not sent yet"));
    free(buf);
    json_decref(p1);
    orch_taskagg_summary_cleanup(&s);
    orch_taskagg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

static void utc_stamp(void **state)
{
    char buf[32];

    (void)state;
    orch_status_utc(1735787045000LL, buf, sizeof(buf));
    assert_string_equal(buf, "2025-01-02T03:04:05Z");
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(json_document),
    cmocka_unit_test(json_document_with_exit),
    cmocka_unit_test(text_screen),
    cmocka_unit_test(devices_files),
    cmocka_unit_test(summary_accounts_every_device),
    cmocka_unit_test(text_screen_accounts_plan),
    cmocka_unit_test(utc_stamp))
