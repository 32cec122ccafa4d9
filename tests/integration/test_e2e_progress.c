/* test_e2e_progress.c - what a run without a terminal (a CI log) shows
 * while it works and whether its rates agree:
 *  - a run of about 25 s against an emulator with latency prints plain
 *    progress lines (no "\r", no colour) no more often than one per 10 s
 *    and at least two before its final one; each line's rate is its
 *    chunks over its seconds, and the final line's rate and seconds are
 *    the summary's;
 *  - a waved run whose gate polls several times with nothing changing
 *    prints the gate's line once, not once per poll. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PK "a1BwAGVabcd"
#define FW "UkOZxXXnVaLfqvvv8YzC000100"

/* One progress line's numbers. */
struct pline {
    unsigned long done, total, created, failed;
    double rate, secs;
};

/* Parses "chunks D/T (C created, F failed), R chunks/s over S s, ETA E". */
static int parse_line(const char *p, struct pline *l)
{
    return sscanf(p,
                  "chunks %lu/%lu (%lu created, %lu failed), %lf chunks/s "
                  "over %lf s, ETA ",
                  &l->done, &l->total, &l->created, &l->failed, &l->rate,
                  &l->secs) == 6;
}

static void assert_rate_agrees(double rate, unsigned long n, double secs)
{
    if (rate < (double)n / (secs + 0.005) - 0.005 ||
        rate > (double)n / (secs - 0.005) + 0.005)
        fail_msg("%.2f/s is not %lu over %.2f s", rate, n, secs);
}

/* 50 chunks at --qps 2, answers 100-400 ms late: about 25 s. Lines due
 * every 10 s (10 % is 2.5 s here, the rarer is 10 s): 2 before the end,
 * then the final one. */
static void plain_progress_lines_in_a_log(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--latency-ms", "100-400", NULL};
    struct pline l[16], last;
    const char *p = NULL, *sum = NULL;
    size_t n = 0, i = 0;
    double t0 = 0, took = 0, wall = 0, crate = 0, orate = 0;
    unsigned long wchunks = 0, wcalls = 0;

    (void)state;
    e2e_fleet_start(&c, 10000, PK, emu);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--report", c.report, "--yes",
                          "--qps", "2", NULL};
    t0 = h_now_s();
    h_run(&r, argv, NULL, 0, 120);
    took = h_now_s() - t0;
    if (r.exit_code != 0)
        fail_msg("exit %d: %s", r.exit_code, r.err);
    fprintf(stderr, "%.1f s:\n%s\n", took, r.err);
    /* Plain text: no line redrawn in place, no colour. */
    assert_null(strchr(r.err, '\r'));
    assert_null(strchr(r.err, '\033'));
    for (p = r.err; (p = strstr(p, "\nchunks ")) != NULL; p++) {
        assert_true(n < 16);
        if (!parse_line(p + 1, &l[n]))
            fail_msg("not a progress line: %.120s", p + 1);
        n++;
    }
    /* At most one per 10 s plus the final one; at least 2 before it. */
    assert_true(n >= 3);
    assert_true((double)(n - 1) <= took / 10.0);
    for (i = 0; i < n; i++) {
        assert_int_equal(l[i].total, 50);
        assert_int_equal(l[i].created + l[i].failed, l[i].done);
        assert_rate_agrees(l[i].rate, l[i].done, l[i].secs);
        if (i > 0) {
            assert_true(l[i].secs >= l[i - 1].secs + 10.0 - 0.01 ||
                        i == n - 1);
            assert_true(l[i].done >= l[i - 1].done);
        }
        if (i < n - 1)
            assert_true(l[i].done < 50);
    }
    last = l[n - 1];
    assert_int_equal(last.done, 50);
    assert_int_equal(last.created, 50);
    /* The summary's rates are its counts over its seconds, and the final
     * progress line's figure over the same seconds. */
    sum = strstr(r.err, "wall time: ");
    assert_non_null(sum);
    assert_int_equal(sscanf(sum,
                            "wall time: %lf s; over it %lu chunks finished "
                            "(%lf chunks/s) and %lu calls were made (%lf "
                            "calls/s)",
                            &wall, &wchunks, &crate, &wcalls, &orate),
                     5);
    assert_int_equal(wchunks, 50);
    assert_rate_agrees(crate, wchunks, wall);
    assert_rate_agrees(orate, wcalls, wall);
    assert_int_equal(wcalls,
                     e2e_log_count(&c.emu, "CreateOTAStaticUpgradeJob", 0));
    assert_true(wall == last.secs);
    assert_true(crate == last.rate);
    /* The pace is the limiter's, about 2 calls/s, said apart. */
    assert_non_null(strstr(r.err, "sending pace: "));
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

/* Tasks that stay QUEUED (--sim-speed 0): the canary's gate sees the same
 * counts at every 1 s poll until its 5 s timeout pauses the run (exit 6).
 * Its line is printed once; the emulator saw every poll. */
static void unchanged_gate_line_is_not_repeated(void **state)
{
    struct e2e_fleet c;
    struct h_run r;
    const char *emu[] = {"--auto-create", "--sim-speed", "0", NULL};
    const char *line = "wave 1/2: 0 of 200 SUCCEEDED, 0 FAILED, "
                       "200 pending";

    (void)state;
    e2e_fleet_start(&c, 1000, PK, emu);
    const char *argv[] = {"run", c.inv, "--firmware-id", FW, "--endpoint",
                          c.emu.endpoint, "--report", c.report, "--yes",
                          "--waves", "200,all", "--wave-timeout", "5s",
                          "--poll-interval", "1s", NULL};
    e2e_run_expect(&r, argv, NULL, 0, 120, 6);
    fprintf(stderr, "%s\n", r.err);
    assert_true(e2e_log_count(&c.emu, "ListOTATaskByJob", 0) >= 4);
    assert_int_equal(e2e_count_substr(r.err, line), 1);
    /* The decision is still printed. */
    assert_non_null(strstr(r.err, "paused"));
    h_run_free(&r);
    e2e_fleet_stop(&c);
}

E2E_MAIN(cmocka_unit_test(plain_progress_lines_in_a_log),
         cmocka_unit_test(unchanged_gate_line_is_not_repeated))
