/* test_status.c - the rollout report reader and the status aggregation:
 * canned ListOTATaskByJob / QueryOTAJob answers folded into counts,
 * reasons, job states, groups, the JSON document (with its exit part,
 * and its null form before a complete count) and the devices files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "torture.h"
#include "orch/engine/journal.h"
#include "orch/engine/query.h"
#include "orch/commands/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER                                                                 \
    "chunk,product_key,firmware_id,device_count,first_device,last_device,"     \
    "status,job_id,utc_create,request_id,attempts,error_code,error_message\n"

static const char report_csv[] =
    HEADER "1,pkA,fw1,3,d1,d3,created,JOB1,2025-01-01T00:00:00Z,r1,1,,\n"
           "2,pkA,fw1,2,d4,d5,failed,,,r2,6,iot.x.Bad,\"oops, bad\"\n"
           "3,pkB,fw2,2,e1,e2,created,JOB2,2025-01-01T00:00:00Z,r3,1,,\n"
           "4,pkB,fw2,2,e1,e2,created,JOB2,2025-01-01T00:00:00Z,r3,1,,\n"
           "5,pkB,fw2,1,e3,e3,not_sent,,,,0,Interrupted,x\n";

static json_int_t jint_in(json_t *o, const char *obj, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(o, obj), key));
}

static void load(struct orch_rollout *r, const char *csv)
{
    struct orch_diag diag = {{0}};
    int rc = orch_rollout_parse(r, csv, strlen(csv), "rep.csv", &diag);

    if (rc)
        fail_msg("parse: %s", diag.msg);
}

static void report_keeps_created_jobs_once(void **state)
{
    struct orch_rollout r;

    (void)state;
    load(&r, report_csv);
    assert_int_equal(r.rows, 5);
    assert_int_equal(r.njobs, 2);
    assert_int_equal(r.not_created, 2);
    assert_int_equal(r.duplicates, 1);
    assert_false(r.has_wave);
    assert_string_equal(r.jobs[0].job_id, "JOB1");
    assert_string_equal(r.jobs[0].product_key, "pkA");
    assert_string_equal(r.jobs[0].firmware_id, "fw1");
    assert_int_equal(r.jobs[0].device_count, 3);
    assert_int_equal(r.jobs[0].chunk, 1);
    assert_null(r.jobs[0].wave);
    assert_string_equal(r.jobs[1].job_id, "JOB2");
    assert_int_equal(r.jobs[1].chunk, 3);
    orch_rollout_cleanup(&r);
    orch_rollout_cleanup(&r); /* idempotent */
}

static void report_wave_column_reordered_and_neutralised(void **state)
{
    static const char csv[] = "\xEF\xBB\xBFwave,job_id,status,product_key\r\n"
                              "1,J1,created,'-pk\r\n"
                              "2,J2,created,pk\r\n"
                              "2,,created,pk\r\n";
    struct orch_rollout r;

    (void)state;
    load(&r, csv);
    assert_true(r.has_wave);
    assert_int_equal(r.njobs, 2);
    assert_int_equal(r.not_created, 1);
    assert_string_equal(r.jobs[0].wave, "1");
    assert_string_equal(r.jobs[0].product_key, "-pk");
    assert_string_equal(r.jobs[1].wave, "2");
    assert_string_equal(r.jobs[1].firmware_id, "");
    assert_int_equal(r.jobs[1].device_count, 0);
    orch_rollout_cleanup(&r);
}

static void report_rejects_other_files(void **state)
{
    struct orch_rollout r;
    struct orch_diag diag = {{0}};
    static const char inv[] = "ProductKey,DeviceName\npk,dev1\n";
    static const char badnum[] = "chunk,status,job_id\nx,created,J\n";

    (void)state;
    assert_int_equal(orch_rollout_parse(&r, inv, strlen(inv), "inv.csv", &diag),
                     ORCH_ECSV);
    assert_non_null(strstr(diag.msg, "inv.csv:1"));
    orch_rollout_cleanup(&r);
    assert_int_equal(
        orch_rollout_parse(&r, badnum, strlen(badnum), "b.csv", &diag),
        ORCH_ECSV);
    assert_non_null(strstr(diag.msg, "b.csv:2"));
    orch_rollout_cleanup(&r);
    assert_int_equal(orch_rollout_parse(&r, "", 0, "e.csv", &diag), ORCH_ECSV);
    orch_rollout_cleanup(&r);
    assert_int_equal(orch_rollout_load(&r, "/nonexistent/x.csv", &diag),
                     ORCH_ENOTFOUND);
    orch_rollout_cleanup(&r);
}

static void task_states(void **state)
{
    (void)state;
    assert_int_equal(orch_task_state_parse("QUEUED"), ORCH_TASK_QUEUED);
    assert_int_equal(orch_task_state_parse("CANCELED"), ORCH_TASK_CANCELED);
    assert_int_equal(orch_task_state_parse("CONFIRM"), ORCH_TASK_CONFIRM);
    assert_int_equal(orch_task_state_parse("queued"), ORCH_TASK_OTHER);
    assert_int_equal(orch_task_state_parse("OTHER"), ORCH_TASK_OTHER);
    assert_int_equal(orch_task_state_parse(NULL), ORCH_TASK_OTHER);
    assert_string_equal(orch_task_state_name(ORCH_TASK_IN_PROGRESS),
                        "IN_PROGRESS");
    assert_string_equal(orch_task_state_name(99), "OTHER");
    assert_true(orch_task_state_pending(ORCH_TASK_NOTIFIED));
    assert_true(orch_task_state_pending(ORCH_TASK_CONFIRM));
    assert_false(orch_task_state_pending(ORCH_TASK_FAILED));
    assert_false(orch_task_state_pending(ORCH_TASK_OTHER));
}

/* A canned ListOTATaskByJob answer: n tasks with the given states. */
static json_t *page(long total, const char *const *states,
                    const char *const *descs, size_t n, size_t first)
{
    json_t *list = json_array();
    size_t i = 0;

    for (i = 0; i < n; i++) {
        char dev[32], tid[32];

        snprintf(dev, sizeof(dev), "dev-%03zu", first + i);
        snprintf(tid, sizeof(tid), "T%03zu", first + i);
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}", "TaskId", tid,
                            "DeviceName", dev, "ProductKey", "pkA",
                            "TaskStatus", states[i], "Progress", (int)(i * 10),
                            "TaskDesc", descs ? descs[i] : ""));
    }
    return json_pack("{s:b, s:I, s:I, s:I, s:{s:o}}", "Success", 1, "Total",
                     (json_int_t)total, "PageSize", (json_int_t)100,
                     "CurrentPage", (json_int_t)1, "Data", "SimpleOTATaskInfo",
                     list);
}

struct seen {
    size_t n;
    char last_dev[32];
    long long last_progress;
};

static int see_task(void *ud, const struct orch_rollout_job *job,
                    const struct orch_task_view *t)
{
    struct seen *s = ud;

    assert_string_equal(t->job_id, job->job_id);
    s->n++;
    snprintf(s->last_dev, sizeof(s->last_dev), "%s", t->device_name);
    s->last_progress = t->progress;
    return 0;
}

static void add_page_counts_and_reasons(void **state)
{
    const char *const st[] = {"SUCCEEDED",   "FAILED", "FAILED", "QUEUED",
                              "IN_PROGRESS", "FAILED", "WEIRD"};
    const char *const ds[] = {
        "", "timeout", "version not conform", "", "", "timeout", ""};
    struct orch_rollout r;
    struct orch_status_agg agg;
    struct seen seen;
    json_t *p = page(250, st, ds, 7, 0);

    (void)state;
    memset(&seen, 0, sizeof(seen));
    load(&r, report_csv);
    orch_status_agg_init(&agg);
    assert_int_equal(orch_status_add_page(&agg, &r.jobs[0], p, see_task, &seen),
                     0);
    assert_int_equal(r.jobs[0].total, 250);
    assert_int_equal(r.jobs[0].pages, 3);
    assert_int_equal(r.jobs[0].listed, 7);
    assert_int_equal(r.jobs[0].counts[ORCH_TASK_SUCCEEDED], 1);
    assert_int_equal(r.jobs[0].counts[ORCH_TASK_FAILED], 3);
    assert_int_equal(r.jobs[0].counts[ORCH_TASK_QUEUED], 1);
    assert_int_equal(r.jobs[0].counts[ORCH_TASK_IN_PROGRESS], 1);
    assert_int_equal(r.jobs[0].counts[ORCH_TASK_OTHER], 1);
    assert_int_equal(seen.n, 7);
    assert_string_equal(seen.last_dev, "dev-006");
    assert_int_equal(seen.last_progress, 60);
    assert_int_equal(agg.n, 2);
    assert_string_equal(agg.reasons[0].text, "timeout");
    assert_int_equal(agg.reasons[0].count, 2);
    assert_int_equal(agg.reasons[1].count, 1);
    /* Empty reason is counted as "(none)". */
    assert_int_equal(orch_status_agg_reason(&agg, ""), 0);
    assert_string_equal(agg.reasons[2].text, "(none)");
    json_decref(p);
    orch_status_agg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

static void add_page_rejects_answer_without_list(void **state)
{
    struct orch_rollout r;
    struct orch_status_agg agg;
    json_t *bad = json_pack("{s:b, s:{}}", "Success", 1, "Data");
    json_t *nested = json_loads(
        "{\"Total\":1,\"Data\":{\"SimpleOTATaskInfo\":{\"SimpleOTATaskInfo\":"
        "[{\"TaskStatus\":\"SUCCEEDED\",\"DeviceName\":\"d\"}]}}}",
        0, NULL);

    (void)state;
    load(&r, report_csv);
    orch_status_agg_init(&agg);
    assert_int_equal(orch_status_add_page(&agg, &r.jobs[0], bad, NULL, NULL),
                     ORCH_EDECODE);
    assert_int_equal(r.jobs[0].listed, 0);
    /* The SDK's nested shape is understood too. */
    assert_int_equal(orch_status_add_page(&agg, &r.jobs[1], nested, NULL, NULL),
                     0);
    assert_int_equal(r.jobs[1].counts[ORCH_TASK_SUCCEEDED], 1);
    assert_int_equal(r.jobs[1].pages, 1);
    json_decref(bad);
    json_decref(nested);
    orch_status_agg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

static void derive_job_states(void **state)
{
    struct orch_rollout_job j;

    (void)state;
    memset(&j, 0, sizeof(j));
    assert_null(orch_status_derive_job(&j)); /* nothing listed */
    j.listed = 3;
    j.counts[ORCH_TASK_QUEUED] = 3;
    assert_null(orch_status_derive_job(&j)); /* PLANNED or waiting */
    j.counts[ORCH_TASK_QUEUED] = 2;
    j.counts[ORCH_TASK_SUCCEEDED] = 1;
    assert_string_equal(orch_status_derive_job(&j), "IN_PROGRESS");
    j.counts[ORCH_TASK_QUEUED] = 0;
    j.counts[ORCH_TASK_FAILED] = 2;
    assert_string_equal(orch_status_derive_job(&j), "COMPLETED");
    j.counts[ORCH_TASK_FAILED] = 1;
    j.counts[ORCH_TASK_CANCELED] = 1;
    assert_null(orch_status_derive_job(&j)); /* CANCELED or COMPLETED */
}

static void job_status_from_query(void **state)
{
    struct orch_rollout_job j;
    json_t *ok = json_pack("{s:{s:s}}", "Data", "JobStatus", "PLANNED");
    json_t *bad = json_pack("{s:{}}", "Data");

    (void)state;
    memset(&j, 0, sizeof(j));
    assert_int_equal(orch_status_set_job_status(&j, ok), 0);
    assert_string_equal(j.job_status, "PLANNED");
    assert_int_equal(orch_status_set_job_status(&j, bad), ORCH_EDECODE);
    json_decref(ok);
    json_decref(bad);
}

/* Two jobs of two products in two waves, one job not queried. */
static void fill_three_jobs(struct orch_rollout *r, struct orch_status_agg *agg)
{
    static const char csv[] = "wave,product_key,device_count,status,job_id\n"
                              "1,pkA,3,created,J1\n"
                              "2,pkB,2,created,J2\n"
                              "2,pkA,4,created,J3\n";
    const char *const s1[] = {"SUCCEEDED", "FAILED", "SUCCEEDED"};
    const char *const d1[] = {"", "timeout", ""};
    const char *const s2[] = {"FAILED", "FAILED"};
    const char *const d2[] = {"bad version", "timeout"};
    json_t *p1 = page(3, s1, d1, 3, 0);
    json_t *p2 = page(2, s2, d2, 2, 10);

    load(r, csv);
    orch_status_agg_init(agg);
    assert_int_equal(orch_status_add_page(agg, &r->jobs[0], p1, NULL, NULL), 0);
    assert_int_equal(orch_status_add_page(agg, &r->jobs[1], p2, NULL, NULL), 0);
    snprintf(r->jobs[0].job_status, sizeof(r->jobs[0].job_status), "%s",
             orch_status_derive_job(&r->jobs[0]));
    snprintf(r->jobs[1].job_status, sizeof(r->jobs[1].job_status), "CANCELED");
    r->jobs[2].query_failed = true;
    snprintf(r->jobs[2].error, sizeof(r->jobs[2].error),
             "iot.ota.InvalidJobId: no such job");
    json_decref(p1);
    json_decref(p2);
}

static void summary_groups_and_reasons(void **state)
{
    struct orch_rollout r;
    struct orch_status_agg agg;
    struct orch_status_summary s;

    (void)state;
    fill_three_jobs(&r, &agg);
    assert_int_equal(orch_status_summarize(&r, &agg, &s), 0);
    assert_int_equal(s.jobs, 3);
    assert_int_equal(s.jobs_failed, 1);
    assert_int_equal(s.job_states[ORCH_JOB_COMPLETED], 1);
    assert_int_equal(s.job_states[ORCH_JOB_CANCELED], 1);
    assert_int_equal(s.job_states[ORCH_JOB_UNKNOWN], 1);
    assert_int_equal(s.devices, 9);
    assert_int_equal(s.tasks, 5);
    assert_int_equal(s.counts[ORCH_TASK_FAILED], 3);
    assert_int_equal(s.counts[ORCH_TASK_SUCCEEDED], 2);
    assert_int_equal(s.pending, 0);
    assert_false(s.decided); /* a job was not queried */
    assert_int_equal(s.nproducts, 2);
    assert_string_equal(s.products[0].key, "pkA");
    assert_int_equal(s.products[0].jobs, 2);
    assert_int_equal(s.products[0].devices, 7);
    assert_int_equal(s.products[0].tasks, 3);
    assert_string_equal(s.products[1].key, "pkB");
    assert_int_equal(s.products[1].counts[ORCH_TASK_FAILED], 2);
    assert_int_equal(s.nwaves, 2);
    assert_string_equal(s.waves[1].key, "2");
    assert_int_equal(s.waves[1].jobs, 2);
    assert_int_equal(s.waves[1].tasks, 2);
    assert_int_equal(s.nreasons, 2);
    assert_string_equal(s.reasons[0]->text, "timeout");
    assert_int_equal(s.reasons[0]->count, 2);
    assert_string_equal(s.reasons[1]->text, "bad version");
    orch_status_summary_cleanup(&s);

    /* Once every job is queried and nothing is pending: decided. */
    r.jobs[2].query_failed = false;
    assert_int_equal(orch_status_summarize(&r, &agg, &s), 0);
    assert_true(s.decided);
    orch_status_summary_cleanup(&s);
    r.jobs[2].counts[ORCH_TASK_NOTIFIED] = 1;
    assert_int_equal(orch_status_summarize(&r, &agg, &s), 0);
    assert_false(s.decided);
    assert_int_equal(s.pending, 1);
    orch_status_summary_cleanup(&s);

    orch_rollout_reset_counts(&r);
    assert_int_equal(r.jobs[0].listed, 0);
    assert_int_equal(r.jobs[0].counts[ORCH_TASK_FAILED], 0);
    assert_string_equal(r.jobs[1].job_status, "");
    orch_status_agg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

static void json_document(void **state)
{
    struct orch_rollout r;
    struct orch_status_agg agg;
    struct orch_status_summary s;
    json_t *doc = NULL, *jl = NULL;

    (void)state;
    fill_three_jobs(&r, &agg);
    assert_int_equal(orch_status_summarize(&r, &agg, &s), 0);
    doc = orch_status_json(&r, &s);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "report")),
                        "rep.csv");
    assert_true(json_is_false(json_object_get(doc, "decided")));
    assert_int_equal(torture_json_int(doc, "tasks/FAILED"), 3);
    assert_int_equal(torture_json_int(doc, "tasks/total"), 5);
    assert_int_equal(torture_json_int(doc, "jobs/query_failed"), 1);
    assert_int_equal(torture_json_int(doc, "jobs/COMPLETED"), 1);
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
    /* The wave is a number (issue 11), in job_list and in waves[]. */
    assert_true(json_is_integer(json_object_get(json_array_get(jl, 1), "wave")));
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(jl, 1), "wave")), 2);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(doc, "waves"), 1),
                         "wave")),
                     2);
    json_decref(doc);
    orch_status_summary_cleanup(&s);
    orch_status_agg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

/* The whole --json document: the counts plus schema, command and exit;
 * without a complete count the same keys, null. */
static void json_document_with_exit(void **state)
{
    static const char *const counted[] = {"devices", "plan",     "jobs",
                                          "tasks",   "products", "reasons",
                                          "job_list"};
    struct orch_rollout r;
    struct orch_status_agg agg;
    struct orch_status_summary s;
    json_t *doc = NULL, *ex = NULL;
    size_t i = 0;

    (void)state;
    fill_three_jobs(&r, &agg);
    assert_int_equal(orch_status_summarize(&r, &agg, &s), 0);
    doc = orch_status_json_doc(&r, &s, "ignored.csv", 1,
                               "1 job could not be queried");
    assert_non_null(doc);
    assert_int_equal(json_integer_value(json_object_get(doc, "schema")), 1);
    assert_string_equal(json_string_value(json_object_get(doc, "command")),
                        "status");
    ex = json_object_get(doc, "exit");
    assert_int_equal(json_integer_value(json_object_get(ex, "code")), 1);
    assert_string_equal(json_string_value(json_object_get(ex, "name")),
                        "partial");
    assert_string_equal(json_string_value(json_object_get(ex, "reason")),
                        "1 job could not be queried");
    /* The counts are orch_status_json's, report included. */
    assert_string_equal(json_string_value(json_object_get(doc, "report")),
                        "rep.csv");
    assert_int_equal(torture_json_int(doc, "tasks/FAILED"), 3);
    assert_int_equal(json_array_size(json_object_get(doc, "waves")), 2);
    json_decref(doc);
    orch_status_summary_cleanup(&s);

    doc = orch_status_json_doc(NULL, NULL, "gone.csv", 4, "status "
                                                          "interrupted");
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "report")),
                        "gone.csv");
    assert_true(json_is_false(json_object_get(doc, "decided")));
    for (i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
        json_t *v = json_object_get(doc, counted[i]);

        if (v == NULL || !json_is_null(v))
            fail_msg("%s is not null", counted[i]);
    }
    ex = json_object_get(doc, "exit");
    assert_int_equal(json_integer_value(json_object_get(ex, "code")), 4);
    assert_string_equal(json_string_value(json_object_get(ex, "name")),
                        "aborted");
    assert_string_equal(json_string_value(json_object_get(ex, "reason")),
                        "status interrupted");
    json_decref(doc);
    orch_status_agg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

static void text_screen(void **state)
{
    struct orch_rollout r;
    struct orch_status_agg agg;
    struct orch_status_summary s;
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    (void)state;
    fill_three_jobs(&r, &agg);
    assert_int_equal(orch_status_summarize(&r, &agg, &s), 0);
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
    orch_status_summary_cleanup(&s);
    orch_status_agg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

static void devices_files(void **state)
{
    char dir[] = "/tmp/test_status_XXXXXX";
    char path[128], failed[160], tmp[160];
    struct orch_rollout r;
    struct orch_status_agg agg;
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
    orch_status_agg_init(&agg);
    assert_int_equal(orch_status_devices_open(&d, path, &diag), 0);
    assert_int_equal(
        orch_status_add_page(&agg, &r.jobs[0], p, orch_status_devices_row, &d),
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
    orch_status_agg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

/* Issue 11: the chunks that created no job, per (status, code); the last
 * row of a chunk decides; the plan's size from the journal. */
static void report_accounts_chunks_without_job(void **state)
{
    static const char resumed[] =
        HEADER "1,pkA,fw1,3,d1,d3,not_sent,,,,0,Interrupted,x\n"
               "2,pkA,fw1,2,d4,d5,failed,,,r2,6,Ambiguous,y\n"
               "3,pkA,fw1,2,d6,d7,not_sent,,,,0,Interrupted,x\n"
               "1,pkA,fw1,3,d1,d3,created,J1,2025-01-01T00:00:00Z,r1,1,,\n";
    struct orch_rollout r;

    (void)state;
    load(&r, report_csv);
    assert_int_equal(r.nleft, 2);
    assert_string_equal(r.left[0].status, "failed");
    assert_string_equal(r.left[0].code, "iot.x.Bad");
    assert_int_equal(r.left[0].chunks, 1);
    assert_int_equal(r.left[0].devices, 2);
    assert_string_equal(r.left[1].status, "not_sent");
    assert_string_equal(r.left[1].code, "Interrupted");
    assert_int_equal(r.left[1].devices, 1);
    assert_int_equal(r.chunk_rows, 5);
    assert_int_equal(orch_rollout_unsent_chunks(&r), 0); /* no journal */
    r.planned_chunks = 8;
    assert_int_equal(orch_rollout_unsent_chunks(&r), 3);
    orch_rollout_cleanup(&r);

    /* A resumed run appended chunk 1's created row: it is no longer
     * not_sent; chunk 3 still is. */
    load(&r, resumed);
    assert_int_equal(r.njobs, 1);
    assert_int_equal(r.chunk_rows, 3);
    assert_int_equal(r.nleft, 2);
    assert_string_equal(r.left[0].code, "Ambiguous");
    assert_int_equal(r.left[0].devices, 2);
    assert_string_equal(r.left[1].code, "Interrupted");
    assert_int_equal(r.left[1].chunks, 1);
    assert_int_equal(r.left[1].devices, 2);
    orch_rollout_cleanup(&r);
}

/* The journal beside a report gives the plan's size. */
static void report_plan_size_from_journal(void **state)
{
    char dir[] = "/tmp/test_status_j_XXXXXX";
    char rep[128], jpath[160], line[256];
    const char *payload = "{\"t\":\"run\",\"v\":1,\"nchunks\":7}";
    struct orch_rollout r;
    struct orch_diag diag = {{0}};
    FILE *fp = NULL;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(rep, sizeof(rep), "%s/r.csv", dir);
    snprintf(jpath, sizeof(jpath), "%s.journal", rep);
    fp = fopen(rep, "w");
    assert_non_null(fp);
    fputs(report_csv, fp);
    fclose(fp);
    assert_int_equal(orch_rollout_load(&r, rep, &diag), 0);
    assert_int_equal(r.planned_chunks, 0);
    orch_rollout_cleanup(&r);
    snprintf(line, sizeof(line), "J1 %zu %08x %s\n", strlen(payload),
             (unsigned)orch_crc32c(payload, strlen(payload)), payload);
    fp = fopen(jpath, "w");
    assert_non_null(fp);
    fputs(line, fp);
    fclose(fp);
    assert_int_equal(orch_rollout_load(&r, rep, &diag), 0);
    assert_int_equal(r.planned_chunks, 7);
    assert_int_equal(orch_rollout_unsent_chunks(&r), 2);
    orch_rollout_cleanup(&r);
    unlink(jpath);
    unlink(rep);
    rmdir(dir);
}

static void firmware_reason_and_no_task(void **state)
{
    json_t *full = json_pack("{s:{s:i}}", "FirmwareInfo", "Type", 0);
    json_t *diff = json_pack("{s:{s:i}}", "Data", "Type", 1);
    json_t *none = json_pack("{s:{}}", "FirmwareInfo");
    struct orch_rollout_job j;

    (void)state;
    assert_int_equal(orch_status_firmware_reason(full),
                     ORCH_NO_TASK_ON_VERSION);
    assert_int_equal(orch_status_firmware_reason(diff),
                     ORCH_NO_TASK_NOT_ELIGIBLE);
    assert_int_equal(orch_status_firmware_reason(none), ORCH_NO_TASK_UNKNOWN);
    assert_string_equal(orch_no_task_name(ORCH_NO_TASK_ON_VERSION),
                        "on_version");
    memset(&j, 0, sizeof(j));
    j.device_count = 200;
    j.total = 0; /* a job with no task at all */
    assert_int_equal(orch_status_no_task(&j), 200);
    j.total = 195;
    assert_int_equal(orch_status_no_task(&j), 5);
    j.total = 200;
    assert_int_equal(orch_status_no_task(&j), 0);
    j.total = 0;
    j.query_failed = true; /* unknown, not "no task" */
    assert_int_equal(orch_status_no_task(&j), 0);
    json_decref(full);
    json_decref(diff);
    json_decref(none);
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
    struct orch_status_agg agg;
    struct orch_status_summary s;
    char why[256];
    json_t *doc = NULL, *plan = NULL;

    (void)state;
    load(&r, csv);
    orch_status_agg_init(&agg);
    assert_int_equal(orch_status_add_page(&agg, &r.jobs[0], p1, NULL, NULL), 0);
    assert_int_equal(orch_status_add_page(&agg, &r.jobs[1], p2, NULL, NULL), 0);
    r.jobs[1].no_task_reason = ORCH_NO_TASK_ON_VERSION;
    assert_int_equal(orch_status_summarize(&r, &agg, &s), 0);
    assert_int_equal(s.tasks, 4);
    assert_int_equal(s.with_task, 4);
    assert_int_equal(s.no_task[ORCH_NO_TASK_ON_VERSION], 3);
    assert_int_equal(s.failed_chunks, 1);
    assert_int_equal(s.failed_devices, 2);
    assert_int_equal(s.not_sent_chunks, 2);
    assert_int_equal(s.not_sent_devices, 6);
    assert_int_equal(s.plan_devices, 3 + 4 + 2 + 6);
    assert_true(s.decided); /* every task is decided ... */
    assert_false(s.complete); /* ... but the rollout is not complete */
    orch_status_incomplete(&s, why, sizeof(why));
    assert_string_equal(why, "2 devices in failed chunks, 6 devices in "
                             "chunks not sent");

    doc = orch_status_json(&r, &s);
    plan = json_object_get(doc, "plan");
    assert_non_null(plan);
    assert_true(json_is_false(json_object_get(doc, "complete")));
    assert_int_equal(json_integer_value(json_object_get(plan, "devices")), 15);
    assert_int_equal(json_integer_value(json_object_get(plan, "with_task")), 4);
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
    orch_status_summary_cleanup(&s);

    /* Without the chunks that created no job: complete (the devices
     * without a task are on the version already). */
    r.nleft = 0;
    assert_int_equal(orch_status_summarize(&r, &agg, &s), 0);
    assert_true(s.complete);
    orch_status_incomplete(&s, why, sizeof(why));
    assert_string_equal(why, "");
    orch_status_summary_cleanup(&s);
    /* A reason not known, or a refusal, is not complete; nor are unsent
     * chunks. */
    r.jobs[1].no_task_reason = ORCH_NO_TASK_NOT_ELIGIBLE;
    assert_int_equal(orch_status_summarize(&r, &agg, &s), 0);
    assert_false(s.complete);
    orch_status_incomplete(&s, why, sizeof(why));
    assert_string_equal(why, "3 devices refused by the API");
    orch_status_summary_cleanup(&s);
    r.jobs[1].no_task_reason = ORCH_NO_TASK_ON_VERSION;
    r.planned_chunks = 6;
    assert_int_equal(orch_status_summarize(&r, &agg, &s), 0);
    assert_false(s.complete);
    assert_int_equal(s.unsent_chunks, 1);
    orch_status_summary_cleanup(&s);
    r.nleft = 2; /* cleanup frees them */

    json_decref(p1);
    json_decref(p2);
    orch_status_agg_cleanup(&agg);
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
    struct orch_status_agg agg;
    struct orch_status_summary s;
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    (void)state;
    load(&r, csv);
    r.planned_chunks = 4;
    orch_status_agg_init(&agg);
    assert_int_equal(orch_status_add_page(&agg, &r.jobs[0], p1, NULL, NULL), 0);
    assert_int_equal(orch_status_summarize(&r, &agg, &s), 0);
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
    orch_status_summary_cleanup(&s);
    orch_status_agg_cleanup(&agg);
    orch_rollout_cleanup(&r);
}

static void utc_stamp(void **state)
{
    char buf[32];

    (void)state;
    orch_status_utc(1735787045000LL, buf, sizeof(buf));
    assert_string_equal(buf, "2025-01-02T03:04:05Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(report_keeps_created_jobs_once),
        cmocka_unit_test(report_wave_column_reordered_and_neutralised),
        cmocka_unit_test(report_rejects_other_files),
        cmocka_unit_test(task_states),
        cmocka_unit_test(add_page_counts_and_reasons),
        cmocka_unit_test(add_page_rejects_answer_without_list),
        cmocka_unit_test(derive_job_states),
        cmocka_unit_test(job_status_from_query),
        cmocka_unit_test(summary_groups_and_reasons),
        cmocka_unit_test(json_document),
        cmocka_unit_test(json_document_with_exit),
        cmocka_unit_test(text_screen),
        cmocka_unit_test(devices_files),
        cmocka_unit_test(report_accounts_chunks_without_job),
        cmocka_unit_test(report_plan_size_from_journal),
        cmocka_unit_test(firmware_reason_and_no_task),
        cmocka_unit_test(summary_accounts_every_device),
        cmocka_unit_test(text_screen_accounts_plan),
        cmocka_unit_test(utc_stamp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
