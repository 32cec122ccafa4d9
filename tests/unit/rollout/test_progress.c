/* test_progress.c - the progress line's text and numbers, when a line is
 * due without a terminal ("every 10 s or 10 %, whichever is rarer", with
 * a heartbeat while nothing moves), and when a repeated status line (a
 * wave's gate) is printed again. Simulated clocks only: nothing waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "orch/rollout/progress.h"
#include "torture.h"

/* Simulates a pass of `total` chunks finishing `per_s` a second (a tick
 * every second, as the dispatcher's) for `secs` seconds; counts the lines
 * due and checks that no two are less than 10 s apart. Returns the
 * count. */
static size_t simulate(size_t total, double per_s, uint64_t secs)
{
    struct orch_progress p;
    struct orch_progress_pace pace;
    uint64_t t = 0, last = 0;
    size_t lines = 0;

    memset(&p, 0, sizeof(p));
    memset(&pace, 0, sizeof(pace));
    p.total = total;
    for (t = 1; t <= secs; t++) {
        double d = per_s * (double)t;

        p.done = d >= (double)total ? total : (size_t)d;
        p.created = p.done;
        p.elapsed_ms = t * 1000;
        if (orch_progress_due(&pace, &p)) {
            assert_true(p.elapsed_ms - last >= ORCH_PROGRESS_EVERY_MS);
            assert_true(p.done < total);
            last = p.elapsed_ms;
            lines++;
        }
    }
    return lines;
}

static void fast_runs_print_no_line_before_the_end(void **state)
{
    (void)state;
    /* 100 chunks in 5 s: done before 10 s. */
    assert_int_equal(simulate(100, 20, 5), 0);
    /* 10,000 chunks at 1,000/s: 10 % a second, but 10 s is rarer. */
    assert_int_equal(simulate(10000, 1000, 10), 0);
}

static void slow_runs_print_every_ten_percent(void **state)
{
    (void)state;
    /* 1,000 chunks at 1/s: 10 % is 100 s, rarer than 10 s: lines at
     * 100, 200, ... 900 chunks. */
    assert_int_equal(simulate(1000, 1, 1000), 9);
    /* 100 chunks at 1/s: 10 % is 10 s, both at once. */
    assert_int_equal(simulate(100, 1, 100), 9);
    /* 20,000 chunks at 50/s (400 s): a line per 2,000 chunks. */
    assert_int_equal(simulate(20000, 50, 400), 9);
    /* 50 chunks at 2/s (25 s): 10 s apart, 10 % is 2.5 s: 2 lines. */
    assert_int_equal(simulate(50, 2, 25), 2);
}

static void tiny_runs_step_by_one_chunk(void **state)
{
    (void)state;
    /* 3 chunks, one every 20 s: a line after each but the last. */
    assert_int_equal(simulate(3, 0.05, 60), 2);
}

static void a_stalled_run_prints_a_heartbeat(void **state)
{
    struct orch_progress p;
    struct orch_progress_pace pace;
    uint64_t t = 0;
    size_t lines = 0;

    (void)state;
    memset(&p, 0, sizeof(p));
    memset(&pace, 0, sizeof(pace));
    p.total = 100;
    p.done = 5;
    for (t = 1; t < ORCH_PROGRESS_HEARTBEAT_MS / 1000; t++) {
        p.elapsed_ms = t * 1000;
        assert_false(orch_progress_due(&pace, &p));
    }
    p.elapsed_ms = ORCH_PROGRESS_HEARTBEAT_MS;
    assert_true(orch_progress_due(&pace, &p));
    assert_int_equal(pace.last_ms, ORCH_PROGRESS_HEARTBEAT_MS);
    p.elapsed_ms += 1000;
    assert_false(orch_progress_due(&pace, &p));
    for (t = 2; t <= 2 * ORCH_PROGRESS_HEARTBEAT_MS / 1000; t++) {
        p.elapsed_ms = ORCH_PROGRESS_HEARTBEAT_MS + t * 1000;
        lines += orch_progress_due(&pace, &p);
    }
    assert_int_equal(lines, 2);
}

static void the_line_is_plain_and_its_numbers_agree(void **state)
{
    struct orch_progress p;
    char line[256];
    unsigned long done = 0, total = 0, created = 0, failed = 0;
    double rate = 0, over = 0, eta = 0;

    (void)state;
    memset(&p, 0, sizeof(p));
    p.total = 100;
    p.done = 40;
    p.created = 38;
    p.failed = 2;
    p.elapsed_ms = 10000;
    orch_progress_format(line, sizeof(line), &p);
    assert_string_equal(line, "chunks 40/100 (38 created, 2 failed), 4.00 "
                              "chunks/s over 10.00 s, ETA 15.0 s");
    assert_null(strchr(line, '\r'));
    assert_null(strchr(line, '\033'));

    p.not_sent = 3;
    p.done = 43;
    p.elapsed_ms = 2549;
    orch_progress_format(line, sizeof(line), &p);
    assert_non_null(strstr(line, "2 failed, 3 not sent)"));
    assert_int_equal(sscanf(line,
                            "chunks %lu/%lu (%lu created, %lu failed, %*u "
                            "not sent), %lf chunks/s over %lf s, ETA %lf s",
                            &done, &total, &created, &failed, &rate, &over,
                            &eta),
                     7);
    /* The rate is the chunks over the seconds printed beside it, and the
     * ETA the chunks left at that rate (within the printed rounding). */
    assert_true(rate >= (double)done / (over + 0.005) - 0.005);
    assert_true(rate <= (double)done / (over - 0.005) + 0.005);
    assert_true(eta >= (double)(total - done) / (rate + 0.005) - 0.05);
    assert_true(eta <= (double)(total - done) / (rate - 0.005) + 0.05);

    /* Nothing finished yet: no rate, no ETA. */
    memset(&p, 0, sizeof(p));
    p.total = 5;
    p.elapsed_ms = 3000;
    orch_progress_format(line, sizeof(line), &p);
    assert_string_equal(line, "chunks 0/5 (0 created, 0 failed), 0.00 "
                              "chunks/s over 3.00 s, ETA ?");
    assert_true(orch_progress_rate(&p) == 0.0);
    p.elapsed_ms = 0;
    p.done = 1;
    assert_true(orch_progress_rate(&p) == 0.0);
}

static void a_finished_pass_is_left_to_the_final_line(void **state)
{
    struct orch_progress p;
    struct orch_progress_pace pace;

    (void)state;
    memset(&p, 0, sizeof(p));
    memset(&pace, 0, sizeof(pace));
    p.total = 10;
    p.done = 10;
    p.elapsed_ms = 3600 * 1000;
    assert_false(orch_progress_due(&pace, &p));
}

static void gate_lines_repeat_only_when_changed(void **state)
{
    const char *a = "0 of 200 SUCCEEDED, 0 FAILED, 200 pending";
    const char *b = "10 of 200 SUCCEEDED, 0 FAILED, 190 pending";

    (void)state;
    assert_true(orch_progress_repeat_due(NULL, a, 0));
    assert_false(orch_progress_repeat_due(a, a, 1000));
    assert_false(
        orch_progress_repeat_due(a, a, ORCH_PROGRESS_HEARTBEAT_MS - 1));
    assert_true(orch_progress_repeat_due(a, a, ORCH_PROGRESS_HEARTBEAT_MS));
    assert_true(orch_progress_repeat_due(a, b, 0));
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(fast_runs_print_no_line_before_the_end),
    cmocka_unit_test(slow_runs_print_every_ten_percent),
    cmocka_unit_test(tiny_runs_step_by_one_chunk),
    cmocka_unit_test(a_stalled_run_prints_a_heartbeat),
    cmocka_unit_test(the_line_is_plain_and_its_numbers_agree),
    cmocka_unit_test(a_finished_pass_is_left_to_the_final_line),
    cmocka_unit_test(gate_lines_repeat_only_when_changed))
