/* test_rollout.c - the rollout report reader: created jobs kept once,
 * columns by name, other files refused, the chunks without a job, the
 * plan's size from the journal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/engine/journal.h"
#include "orch/rollout/rollout.h"
#include "rollout_fixture.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* The chunks that created no job, per (status, code); the last
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

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(rep, sizeof(rep), "%s/r.csv", dir);
    snprintf(jpath, sizeof(jpath), "%s.journal", rep);
    torture_write_text(rep, report_csv);
    assert_int_equal(orch_rollout_load(&r, rep, &diag), 0);
    assert_int_equal(r.planned_chunks, 0);
    /* The identity (the status cache's): no run record, the first job. */
    assert_non_null(strstr(r.identity, "00000000/"));
    assert_string_equal(r.identity + 9, r.jobs[0].job_id);
    orch_rollout_cleanup(&r);
    snprintf(line, sizeof(line), "J1 %zu %08x %s\n", strlen(payload),
             (unsigned)orch_crc32c(payload, strlen(payload)), payload);
    torture_write_text(jpath, line);
    assert_int_equal(orch_rollout_load(&r, rep, &diag), 0);
    assert_int_equal(r.planned_chunks, 7);
    assert_int_equal(orch_rollout_unsent_chunks(&r), 2);
    /* With a run record: its checksum names the run, then the first job. */
    assert_null(strstr(r.identity, "00000000/"));
    assert_int_equal(r.identity[8], '/');
    assert_string_equal(r.identity + 9, r.jobs[0].job_id);
    orch_rollout_cleanup(&r);
    unlink(jpath);
    unlink(rep);
    rmdir(dir);
}

/* A listing's reset zeroes what the listing learns and keeps the rest;
 * the round's reset zeroes both. */
static void job_reset_listing_and_counts(void **state)
{
    struct orch_rollout r;
    struct orch_rollout_job *j = NULL;

    (void)state;
    load(&r, report_csv);
    j = &r.jobs[0];
    j->counts[ORCH_TASK_FAILED] = 3;
    j->total = j->listed = 250;
    j->pages = 3;
    j->query_failed = true;
    snprintf(j->error, sizeof(j->error), "Throttling: x");
    snprintf(j->job_status, sizeof(j->job_status), "IN_PROGRESS");
    j->no_task_reason = 2;
    snprintf(j->modified, sizeof(j->modified), "2025-01-01T00:00:00Z");
    snprintf(j->seen_status, sizeof(j->seen_status), "IN_PROGRESS");
    j->cached = true;
    j->read_date_ms = 1000;
    j->tasks_modified_ms = 2000;
    orch_rollout_job_reset_listing(j);
    assert_int_equal(j->counts[ORCH_TASK_FAILED], 0);
    assert_int_equal(j->total + j->listed + j->pages, 0);
    assert_false(j->query_failed);
    assert_string_equal(j->error, "");
    assert_string_equal(j->job_status, "");
    assert_int_equal(j->no_task_reason, 2);
    assert_string_equal(j->modified, "2025-01-01T00:00:00Z");
    assert_string_equal(j->seen_status, "IN_PROGRESS");
    assert_true(j->cached);
    assert_int_equal(j->read_date_ms, 1000);
    assert_int_equal(j->tasks_modified_ms, 2000);
    j->counts[ORCH_TASK_FAILED] = 3;
    j->query_failed = true;
    orch_rollout_reset_counts(&r);
    assert_int_equal(j->counts[ORCH_TASK_FAILED], 0);
    assert_false(j->query_failed);
    assert_int_equal(j->no_task_reason, 0);
    assert_string_equal(j->modified, "");
    assert_string_equal(j->seen_status, "");
    assert_false(j->cached);
    assert_int_equal(j->read_date_ms + j->tasks_modified_ms, 0);
    orch_rollout_cleanup(&r);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(report_keeps_created_jobs_once),
    cmocka_unit_test(report_wave_column_reordered_and_neutralised),
    cmocka_unit_test(report_rejects_other_files),
    cmocka_unit_test(report_accounts_chunks_without_job),
    cmocka_unit_test(report_plan_size_from_journal),
    cmocka_unit_test(job_reset_listing_and_counts))
