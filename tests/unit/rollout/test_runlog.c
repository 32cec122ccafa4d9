/* test_runlog.c - each chunk's result and the run's journal: a report row
 * appears only after the journal sync that carries its done record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/base/err.h"
#include "torture.h"
#include "orch/rollout/runfiles.h"
#include "orch/rollout/runlog.h"

struct fixture {
    char dir[64];
    char report[128];
    char journal[128];
    struct orch_runfiles files;
    struct orch_runlog log;
};

/* The journal's records as read back: their types, space-separated, and
 * the last record. */
struct records {
    char types[4096];
    json_t *last;
};

static int collect(void *ud, const json_t *rec, size_t line)
{
    struct records *r = ud;
    size_t len = strlen(r->types);

    (void)line;
    snprintf(r->types + len, sizeof(r->types) - len, "%s%s", len ? " " : "",
             json_string_value(json_object_get(rec, "t")));
    json_decref(r->last);
    r->last = json_deep_copy(rec);
    return 0;
}

static void read_records(const struct fixture *f, struct records *r)
{
    struct orch_diag diag = {{0}};
    size_t valid = 0;

    memset(r, 0, sizeof(*r));
    assert_int_equal(orch_journal_read(f->journal, collect, r, &valid, &diag),
                     0);
}

static size_t report_lines(const struct fixture *f)
{
    FILE *fp = fopen(f->report, "rb");
    size_t n = 0;
    int c = 0;

    assert_non_null(fp);
    while ((c = fgetc(fp)) != EOF)
        n += c == '\n';
    fclose(fp);
    return n;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct orch_diag diag = {{0}};

    assert_non_null(f);
    torture_mkdtemp(f->dir, sizeof(f->dir), "test_runlog");
    snprintf(f->report, sizeof(f->report), "%s/r.csv", f->dir);
    snprintf(f->journal, sizeof(f->journal), "%s/r.csv.journal", f->dir);
    /* An ALL/GRAY target's rows: no plan needed. */
    orch_runfiles_init(&f->files, f->report, NULL, "pkT", "FWT");
    assert_int_equal(orch_runfiles_open(&f->files, false, &diag), 0);
    orch_runlog_init(&f->log, &f->files, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    orch_runlog_cleanup(&f->log);
    orch_runfiles_close(&f->files);
    torture_rmtree(f->dir);
    free(f);
    return 0;
}

static void open_log(struct fixture *f, size_t n)
{
    struct orch_diag diag = {{0}};

    assert_int_equal(orch_runlog_alloc(&f->log, n), 0);
    assert_int_equal(
        orch_runlog_open(&f->log, f->journal, (size_t)-1, &diag), 0);
    assert_true(f->log.open);
}

static json_t *created(const char *job)
{
    return json_pack("{s:s, s:s, s:i, s:s}", "t", "done", "status",
                     "created", "attempts", 1, "job_id", job);
}

static void row_waits_for_the_sync(void **state)
{
    struct fixture *f = *state;
    struct records r;

    open_log(f, 3);
    orch_runlog_sent(&f->log, 1, 1, 1000);
    orch_runlog_sent(&f->log, 1, 2, 2000);
    assert_int_equal(f->log.attempts[1], 2);
    orch_runlog_done(&f->log, 1, created("J1"));
    assert_non_null(f->log.rows[1]);
    assert_int_equal(f->log.npending, 1);
    assert_int_equal(report_lines(f), 1); /* the header only */

    assert_int_equal(orch_runlog_sync(&f->log), 0);
    assert_int_equal(f->log.npending, 0);
    assert_int_equal(report_lines(f), 2);
    read_records(f, &r);
    assert_string_equal(r.types, "intent attempt done");
    assert_string_equal(
        json_string_value(json_object_get(r.last, "job_id")), "J1");
    json_decref(r.last);
    assert_int_equal(f->log.err, 0);
}

static void sync_forced_every_pending_max(void **state)
{
    struct fixture *f = *state;
    size_t i = 0;

    open_log(f, ORCH_RUNLOG_PENDING_MAX + 10);
    for (i = 0; i < ORCH_RUNLOG_PENDING_MAX - 1; i++)
        orch_runlog_done(&f->log, i, created("J"));
    assert_int_equal(report_lines(f), 1);
    orch_runlog_done(&f->log, i++, created("J"));
    assert_int_equal(f->log.npending, 0);
    assert_int_equal(report_lines(f), 1 + ORCH_RUNLOG_PENDING_MAX);
    orch_runlog_done(&f->log, i, created("J"));
    assert_int_equal(f->log.npending, 1);
}

static void reconcile_and_end_records(void **state)
{
    struct fixture *f = *state;
    struct records r;

    open_log(f, 1);
    orch_runlog_reconciled(&f->log, 0, "ListOTAJobByDevice", NULL, 5);
    assert_int_equal(orch_runlog_sync(&f->log), 0);
    read_records(f, &r);
    assert_string_equal(r.types, "reconcile");
    assert_string_equal(json_string_value(json_object_get(r.last, "action")),
                        "ListOTAJobByDevice");
    assert_string_equal(json_string_value(json_object_get(r.last, "code")),
                        "");
    json_decref(r.last);

    assert_int_equal(orch_runlog_end(&f->log, 1, 77), 0);
    read_records(f, &r);
    assert_string_equal(r.types, "reconcile end");
    assert_int_equal(json_integer_value(json_object_get(r.last, "exit")), 1);
    assert_int_equal(json_integer_value(json_object_get(r.last, "time")), 77);
    json_decref(r.last);
}

/* A record that could not be built is the journal's failure: no end
 * record is written after it, and the run learns of it. */
static void failure_is_kept_and_ends_the_journal(void **state)
{
    struct fixture *f = *state;
    struct records r;

    open_log(f, 1);
    orch_runlog_sent(&f->log, 0, 1, 1);
    orch_runlog_add(&f->log, NULL);
    assert_int_equal(f->log.err, ORCH_ENOMEM);
    assert_int_equal(orch_runlog_end(&f->log, 0, 2), ORCH_ENOMEM);
    /* The sync still writes what was appended before. */
    assert_int_equal(orch_runlog_sync(&f->log), 0);
    read_records(f, &r);
    assert_string_equal(r.types, "intent");
    json_decref(r.last);
}

static void sync_without_journal(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(orch_runlog_alloc(&f->log, 1), 0);
    orch_runlog_done(&f->log, 0, created("J1"));
    assert_int_equal(orch_runlog_sync(&f->log), ORCH_EIO);
    assert_int_equal(f->log.err, 0);
    assert_int_equal(f->log.npending, 1);
    assert_int_equal(report_lines(f), 1);
}

static void alloc_again_drops_the_tables(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(orch_runlog_alloc(&f->log, 2), 0);
    orch_runlog_done(&f->log, 1, created("J1"));
    f->log.attempts[1] = 3;
    assert_int_equal(orch_runlog_alloc(&f->log, 5), 0);
    assert_int_equal(f->log.n, 5);
    assert_int_equal(f->log.npending, 0);
    assert_null(f->log.rows[1]);
    assert_int_equal(f->log.attempts[1], 0);
    /* Zero chunks still get tables. */
    assert_int_equal(orch_runlog_alloc(&f->log, 0), 0);
    assert_non_null(f->log.rows);
    orch_runlog_cleanup(&f->log);
    assert_null(f->log.rows);
    orch_runlog_cleanup(NULL);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test_setup_teardown(row_waits_for_the_sync, setup, teardown),
    cmocka_unit_test_setup_teardown(sync_forced_every_pending_max, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(reconcile_and_end_records, setup, teardown),
    cmocka_unit_test_setup_teardown(failure_is_kept_and_ends_the_journal, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(sync_without_journal, setup, teardown),
    cmocka_unit_test_setup_teardown(alloc_again_drops_the_tables, setup,
                                    teardown))
