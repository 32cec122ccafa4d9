/* test_resumegate.c - a run's decisions about the journal next to its
 * report: the decision table (no journal, damaged, resume, --force,
 * finished, unfinished), the per-chunk plan of a resumed run, the time
 * its earlier calls settle, and the run record with the device check's
 * drop map. No files: the replayed journal is built in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/rollout/devcheck.h"
#include "orch/rollout/preflight.h"
#include "orch/rollout/resume.h"
#include "orch/rollout/resumegate.h"
#include "orch/rollout/summary.h"
#include "torture.h"

/* A replayed journal of three chunks: 0 created, 1 started (sent at
 * 1000 and 5000, no outcome), 2 never sent. `ended`: an end record. */
static void three_chunks(struct orch_resume *rs, struct orch_resume_chunk *ch,
                         bool ended)
{
    orch_resume_init(rs);
    memset(ch, 0, 3 * sizeof(*ch));
    rs->run = json_object();
    rs->nchunks = 3;
    rs->chunks = ch;
    rs->ended = ended;
    ch[0].state = ORCH_CHUNK_DONE;
    ch[0].first_ms = ch[0].last_ms = 500;
    ch[0].attempts = 1;
    ch[0].done = json_pack("{s:s, s:s}", "status", "created", "job_id", "J1");
    ch[1].state = ORCH_CHUNK_STARTED;
    ch[1].first_ms = 1000;
    ch[1].last_ms = 5000;
    ch[1].attempts = 2;
    ch[2].state = ORCH_CHUNK_NEW;
    ch[2].first_ms = ch[2].last_ms = -1;
}

static void release(struct orch_resume *rs, struct orch_resume_chunk *ch)
{
    json_decref(ch[0].done);
    json_decref(rs->run);
}

static void decide_table(void **state)
{
    static const struct {
        int load_rc;
        bool has_run, resume, force;
        enum orch_resumegate want;
    } t[] = {
        {ORCH_ENOTFOUND, false, false, false, ORCH_RESUMEGATE_NONE},
        {ORCH_ENOTFOUND, false, true, true, ORCH_RESUMEGATE_NONE},
        {0, false, true, false, ORCH_RESUMEGATE_NONE},
        {ORCH_EJOURNAL, true, false, false, ORCH_RESUMEGATE_DAMAGED},
        {ORCH_EJOURNAL, true, true, true, ORCH_RESUMEGATE_DAMAGED},
        {ORCH_EJOURNAL, true, false, true, ORCH_RESUMEGATE_ANEW_DAMAGED},
        {0, true, true, false, ORCH_RESUMEGATE_RESUME},
        {0, true, true, true, ORCH_RESUMEGATE_RESUME},
        {0, true, false, true, ORCH_RESUMEGATE_ANEW},
        {0, true, false, false, ORCH_RESUMEGATE_UNFINISHED},
    };
    struct orch_resume_chunk ch[3];
    struct orch_resume rs;
    json_t *run = NULL;
    size_t i = 0;

    (void)state;
    three_chunks(&rs, ch, true);
    run = rs.run;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        rs.run = t[i].has_run ? run : NULL;
        assert_int_equal(orch_resumegate_decide(t[i].load_rc, &rs,
                                                t[i].resume, t[i].force),
                         t[i].want);
    }
    rs.run = run;
    release(&rs, ch);
}

/* Ended with every chunk final: a new run would send every device again;
 * ended with a chunk left (or not ended): resume it. */
static void finished_or_not(void **state)
{
    struct orch_resume_chunk ch[3];
    struct orch_resume rs;

    (void)state;
    three_chunks(&rs, ch, true);
    assert_int_equal(orch_resumegate_decide(0, &rs, false, false),
                     ORCH_RESUMEGATE_UNFINISHED);
    rs.nchunks = 1; /* only the created chunk */
    assert_int_equal(orch_resumegate_decide(0, &rs, false, false),
                     ORCH_RESUMEGATE_FINISHED);
    rs.ended = false;
    assert_int_equal(orch_resumegate_decide(0, &rs, false, false),
                     ORCH_RESUMEGATE_UNFINISHED);
    release(&rs, ch);
}

static void count_resumed_and_new(void **state)
{
    struct orch_resume_chunk ch[3];
    struct orch_resume rs;
    struct orch_summary_todo todo;
    unsigned attempts[3] = {0};
    json_t *rows[3] = {NULL};

    (void)state;
    three_chunks(&rs, ch, false);
    memset(&todo, 0, sizeof(todo));
    orch_resumegate_count(&rs, 3, attempts, rows, &todo);
    assert_int_equal(todo.already_done, 1);
    assert_int_equal(todo.to_reconcile, 1);
    assert_int_equal(todo.to_send, 1);
    assert_int_equal(attempts[0], 1);
    assert_int_equal(attempts[1], 2);
    assert_ptr_equal(rows[0], ch[0].done);
    assert_null(rows[1]);
    assert_null(rows[2]);
    json_decref(rows[0]);

    memset(&todo, 0, sizeof(todo));
    orch_resumegate_count(NULL, 3, attempts, rows, &todo);
    assert_int_equal(todo.to_send, 3);
    assert_int_equal(todo.already_done + todo.to_reconcile, 0);
    release(&rs, ch);
}

static void settled_after_the_last_call(void **state)
{
    struct orch_resume_chunk ch[3];
    struct orch_resume rs;

    (void)state;
    three_chunks(&rs, ch, false);
    assert_int_equal(orch_resumegate_settled_ms(&rs, 30000), 35000);
    assert_int_equal(orch_resumegate_settled_ms(NULL, 30000), -1);
    ch[1].state = ORCH_CHUNK_NEW; /* nothing left to look up */
    ch[1].first_ms = -1;
    assert_int_equal(orch_resumegate_settled_ms(&rs, 30000), -1);
    release(&rs, ch);
}

static void devcheck_counts_round_trip(void **state)
{
    struct orch_device_check_stats st, back;
    json_t *run = NULL;
    json_t *rec = orch_resumegate_resume_record(1234, 42);

    (void)state;
    assert_non_null(rec);
    assert_string_equal(json_string_value(json_object_get(rec, "t")),
                        "resume");
    assert_int_equal(json_integer_value(json_object_get(rec, "pid")), 42);
    json_decref(rec);

    memset(&st, 0, sizeof(st));
    st.checked = 10;
    st.missing = 2;
    st.up_to_date = 3;
    st.unchecked = 1;
    run = json_pack("{s:{s:I, s:I, s:I, s:I}}", "devcheck", "checked",
                    (json_int_t)10, "missing", (json_int_t)2, "up_to_date",
                    (json_int_t)3, "unchecked", (json_int_t)1);
    memset(&back, 0xff, sizeof(back));
    orch_resumegate_devcheck(run, &back);
    assert_int_equal(back.checked, st.checked);
    assert_int_equal(back.missing, st.missing);
    assert_int_equal(back.up_to_date, st.up_to_date);
    assert_int_equal(back.unchecked, st.unchecked);
    json_decref(run);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(decide_table),
    cmocka_unit_test(finished_or_not),
    cmocka_unit_test(count_resumed_and_new),
    cmocka_unit_test(settled_after_the_last_call),
    cmocka_unit_test(devcheck_counts_round_trip))
