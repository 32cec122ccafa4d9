/* rollout_fixture.h - a report, canned ListOTATaskByJob answers and a
 * rollout of three jobs folded from them: what the tests of the rollout
 * reader, the task aggregation and the status view share. Header-only:
 * static inline, so that a test that uses only some of them builds
 * warning-free. Include after cmocka.h. */
#ifndef ORCH_TEST_ROLLOUT_FIXTURE_H
#define ORCH_TEST_ROLLOUT_FIXTURE_H

#include "orch/base/err.h"
#include "orch/rollout/rollout.h"
#include "orch/rollout/taskagg.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define HEADER                                                                 \
    "chunk,product_key,firmware_id,device_count,first_device,last_device,"     \
    "status,job_id,utc_create,request_id,attempts,error_code,error_message\n"

static const char report_csv[] =
    HEADER "1,pkA,fw1,3,d1,d3,created,JOB1,2025-01-01T00:00:00Z,r1,1,,\n"
           "2,pkA,fw1,2,d4,d5,failed,,,r2,6,iot.x.Bad,\"oops, bad\"\n"
           "3,pkB,fw2,2,e1,e2,created,JOB2,2025-01-01T00:00:00Z,r3,1,,\n"
           "4,pkB,fw2,2,e1,e2,created,JOB2,2025-01-01T00:00:00Z,r3,1,,\n"
           "5,pkB,fw2,1,e3,e3,not_sent,,,,0,Interrupted,x\n";

static inline json_int_t jint_in(json_t *o, const char *obj, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(o, obj), key));
}

static inline void load(struct orch_rollout *r, const char *csv)
{
    struct orch_diag diag = {{0}};
    int rc = orch_rollout_parse(r, csv, strlen(csv), "rep.csv", &diag);

    if (rc)
        fail_msg("parse: %s", diag.msg);
}

/* A canned ListOTATaskByJob answer: n tasks with the given states. */
static inline json_t *page(long total, const char *const *states,
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

/* Two jobs of two products in two waves, one job not queried. */
static inline void fill_three_jobs(struct orch_rollout *r,
                                   struct orch_taskagg *agg)
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
    orch_taskagg_init(agg);
    assert_int_equal(orch_taskagg_add_page(agg, &r->jobs[0], p1, NULL, NULL),
                     0);
    assert_int_equal(orch_taskagg_add_page(agg, &r->jobs[1], p2, NULL, NULL),
                     0);
    snprintf(r->jobs[0].job_status, sizeof(r->jobs[0].job_status), "%s",
             orch_taskagg_derive_job(&r->jobs[0]));
    snprintf(r->jobs[1].job_status, sizeof(r->jobs[1].job_status), "CANCELED");
    r->jobs[2].query_failed = true;
    snprintf(r->jobs[2].error, sizeof(r->jobs[2].error),
             "iot.ota.InvalidJobId: no such job");
    json_decref(p1);
    json_decref(p2);
}

#endif
