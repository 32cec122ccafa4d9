/* test_ratelimit.c - the sliding-window limiter with injected time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/engine/ratelimit.h"
#include "torture.h"

/* Greedy caller: from t0 to t1, asks at every millisecond as many times as
 * the limiter allows. Fills starts[] (up to max) and returns the count. */
static size_t run_greedy(struct orch_ratelimit *rl, uint64_t t0, uint64_t t1,
                         uint64_t *starts, size_t max)
{
    size_t n = 0;

    for (uint64_t t = t0; t < t1; t++) {
        while (n < max && orch_ratelimit_take(rl, t) == 0)
            starts[n++] = t;
    }
    return n;
}

/* Most starts in any half-open window [s, s + w) over sorted starts. */
static size_t max_in_window(const uint64_t *starts, size_t n, uint64_t w)
{
    size_t best = 0;
    size_t j = 0;

    for (size_t i = 0; i < n; i++) {
        while (starts[i] - starts[j] >= w)
            j++;
        if (i - j + 1 > best)
            best = i - j + 1;
    }
    return best;
}

static size_t count_in(const uint64_t *starts, size_t n, uint64_t a, uint64_t b)
{
    size_t c = 0;

    for (size_t i = 0; i < n; i++)
        c += starts[i] >= a && starts[i] < b;
    return c;
}

static void test_init_rejects_bad_rates(void **state)
{
    struct orch_ratelimit rl;

    (void)state;
    assert_int_equal(orch_ratelimit_init(&rl, 0, 0), ORCH_EINVAL);
    assert_int_equal(orch_ratelimit_init(&rl, -3, 0), ORCH_EINVAL);
    assert_int_equal(orch_ratelimit_init(&rl, NAN, 0), ORCH_EINVAL);
    assert_int_equal(orch_ratelimit_init(&rl, 1e12, 0), ORCH_EINVAL);
    orch_ratelimit_cleanup(&rl);
    orch_ratelimit_cleanup(NULL);
}

/* Never more than 20 in any sliding second, every window checked over a
 * long greedy run, and exactly 20 in every aligned second. */
static void test_never_more_than_n_in_any_window(void **state)
{
    struct orch_ratelimit rl;
    uint64_t *starts = calloc(4000, sizeof(*starts));
    size_t n = 0;

    (void)state;
    assert_non_null(starts);
    assert_int_equal(orch_ratelimit_init(&rl, 20, 5000), 0);
    n = run_greedy(&rl, 5000, 5000 + 120000, starts, 4000);
    assert_int_equal(n, 20 * 120);
    assert_int_equal(max_in_window(starts, n, 1000), 20);
    for (uint64_t s = 0; s < 120; s++)
        assert_int_equal(
            count_in(starts, n, 5000 + s * 1000, 5000 + (s + 1) * 1000), 20);
    orch_ratelimit_cleanup(&rl);
    free(starts);
}

/* A caller with jittered timing (asks at irregular moments): still never
 * more than N in any window, every window checked. */
static void test_irregular_caller(void **state)
{
    struct orch_ratelimit rl;
    uint64_t starts[3000];
    size_t n = 0;
    uint64_t t = 0;
    unsigned seed = 7;

    (void)state;
    assert_int_equal(orch_ratelimit_init(&rl, 20, 0), 0);
    while (n < 3000) {
        uint64_t w = orch_ratelimit_take(&rl, t);

        if (w == 0) {
            starts[n++] = t;
        } else {
            assert_true(w <= 1000);
            seed = seed * 1103515245u + 12345u;
            t += (seed >> 16) % 3 == 0 ? w : (seed >> 16) % 37;
        }
    }
    assert_true(max_in_window(starts, n, 1000) <= 20);
    orch_ratelimit_cleanup(&rl);
}

/* The returned wait is exact: refused one ms before, allowed at the time. */
static void test_wait_is_exact(void **state)
{
    struct orch_ratelimit rl;
    uint64_t w = 0;

    (void)state;
    assert_int_equal(orch_ratelimit_init(&rl, 3, 0), 0);
    assert_int_equal(orch_ratelimit_take(&rl, 10), 0);
    assert_int_equal(orch_ratelimit_take(&rl, 20), 0);
    assert_int_equal(orch_ratelimit_take(&rl, 30), 0);
    w = orch_ratelimit_take(&rl, 40);
    assert_int_equal(w, 970); /* the start at 10 leaves the window at 1010 */
    assert_int_equal(orch_ratelimit_take(&rl, 1009), 1);
    assert_int_equal(orch_ratelimit_take(&rl, 1010), 0);
    assert_int_equal(orch_ratelimit_take(&rl, 1011), 9);
    orch_ratelimit_cleanup(&rl);
}

/* spacing_slack_ms spreads a window's starts over W + slack: 20/s with
 * 5 ms is one start per 50.25 ms, 20 per 1005 ms, without drift. */
static void test_spacing_slack(void **state)
{
    struct orch_ratelimit rl;
    uint64_t starts[201];
    uint64_t t = 0, w = 0;
    size_t n = 0;

    (void)state;
    assert_int_equal(orch_ratelimit_init(&rl, 20, 0), 0);
    rl.even_spacing = true;
    rl.spacing_slack_ms = 5;
    assert_int_equal(orch_ratelimit_take(&rl, 0), 0);
    assert_int_equal(orch_ratelimit_take(&rl, 50), 1);
    assert_int_equal(orch_ratelimit_take(&rl, 51), 0);
    assert_int_equal(orch_ratelimit_take(&rl, 100), 1);
    assert_int_equal(orch_ratelimit_take(&rl, 101), 0);
    orch_ratelimit_reset(&rl);
    /* A caller that comes back exactly when told. */
    while (n < 201) {
        w = orch_ratelimit_take(&rl, t);
        if (w == 0)
            starts[n++] = t;
        else
            t += w;
    }
    assert_true(starts[200] >= 10050 && starts[200] <= 10051);
    assert_true(max_in_window(starts, n, 1005) <= 20);
    orch_ratelimit_cleanup(&rl);
}

/* A caller that is 4 ms late every 5th time at 200/s (gap 5 ms): with
 * the default (half a gap, 2.5 ms) each late start restarts the schedule
 * and its lateness is lost; with catchup_ms = 10 the schedule holds and
 * the next start follows closer. The window holds either way. */
static size_t late_caller(double catchup_ms, uint64_t *starts, size_t max,
                          uint64_t until)
{
    struct orch_ratelimit rl;
    uint64_t t = 0, w = 0;
    size_t n = 0, asks = 0;

    assert_int_equal(orch_ratelimit_init(&rl, 200, 0), 0);
    rl.even_spacing = true;
    rl.catchup_ms = catchup_ms;
    while (n < max && t < until) {
        w = orch_ratelimit_take(&rl, t);
        if (w == 0)
            starts[n++] = t;
        else
            t += w + (++asks % 5 == 0 ? 4 : 0);
    }
    orch_ratelimit_cleanup(&rl);
    return n;
}

static void test_catchup(void **state)
{
    static uint64_t starts[4000];
    size_t kept = 0, restarted = 0;

    (void)state;
    restarted = late_caller(0, starts, 4000, 10000);
    assert_true(max_in_window(starts, restarted, 1000) <= 200);
    kept = late_caller(10, starts, 4000, 10000);
    assert_true(max_in_window(starts, kept, 1000) <= 200);
    /* 10 s at 200/s: the kept schedule loses at most a start or two. */
    assert_true(kept >= 1998);
    assert_true(restarted < kept - 100);
    /* Later than catchup_ms: the schedule restarts from now. */
    {
        struct orch_ratelimit rl;

        assert_int_equal(orch_ratelimit_init(&rl, 200, 0), 0);
        rl.even_spacing = true;
        rl.catchup_ms = 10;
        assert_int_equal(orch_ratelimit_take(&rl, 0), 0);  /* next: 5 */
        assert_int_equal(orch_ratelimit_take(&rl, 14), 0); /* 9 late: kept */
        assert_int_equal(orch_ratelimit_take(&rl, 14), 0); /* next was 10 */
        assert_int_equal(orch_ratelimit_take(&rl, 14), 1); /* next: 15 */
        assert_int_equal(orch_ratelimit_take(&rl, 40), 0); /* 25 late */
        assert_int_equal(orch_ratelimit_take(&rl, 40), 5); /* restarted */
        orch_ratelimit_cleanup(&rl);
    }
}

static void test_non_integer_rates(void **state)
{
    struct orch_ratelimit rl;
    uint64_t *starts = calloc(1000, sizeof(*starts));
    size_t n = 0;

    (void)state;
    assert_non_null(starts);
    /* 2.5/s: 3 starts per 1200 ms, 300 in 120 s. */
    assert_int_equal(orch_ratelimit_init(&rl, 2.5, 0), 0);
    n = run_greedy(&rl, 0, 120000, starts, 1000);
    assert_int_equal(n, 300);
    assert_int_equal(max_in_window(starts, n, 1200), 3);
    assert_int_equal(max_in_window(starts, n, 1000), 3);
    orch_ratelimit_cleanup(&rl);

    /* 0.5/s: one start every 2 s. */
    assert_int_equal(orch_ratelimit_init(&rl, 0.5, 0), 0);
    n = run_greedy(&rl, 0, 60000, starts, 1000);
    assert_int_equal(n, 30);
    assert_int_equal(max_in_window(starts, n, 2000), 1);
    orch_ratelimit_cleanup(&rl);

    /* 19.9/s: 20 per 1006 ms; never more than 20 in a second. */
    assert_int_equal(orch_ratelimit_init(&rl, 19.9, 0), 0);
    n = run_greedy(&rl, 0, 30180, starts, 1000);
    assert_int_equal(n, 600);
    assert_true(max_in_window(starts, n, 1000) <= 20);
    assert_int_equal(max_in_window(starts, n, 1006), 20);
    orch_ratelimit_cleanup(&rl);
    free(starts);
}

/* After a throttling answer just above the quota the rate drops by 3%,
 * then climbs back to the full rate while no further throttling is seen. */
static void test_adaptive_decrease_and_recovery(void **state)
{
    struct orch_ratelimit rl;
    uint64_t *starts = calloc(4000, sizeof(*starts));
    size_t n = 0;
    double prev = 0;

    (void)state;
    assert_non_null(starts);
    assert_int_equal(orch_ratelimit_init(&rl, 20, 0), 0);
    rl.even_spacing = true;
    n = run_greedy(&rl, 0, 10000, starts, 4000);
    assert_int_equal(n, 200);
    /* Spaced: 50 ms apart, never two in the same 50 ms. */
    assert_int_equal(max_in_window(starts, n, 50), 1);

    orch_ratelimit_throttled(&rl, 10000);
    assert_int_equal(rl.throttles, 1);
    assert_true(rl.rate > 19.39 && rl.rate < 19.41);
    /* A second answer within the hold period counts but does not lower. */
    orch_ratelimit_throttled(&rl, 10500);
    assert_int_equal(rl.throttles, 2);
    assert_true(rl.rate > 19.39 && rl.rate < 19.41);

    /* At most 20 in any 1000 ms after the cut (20 per ~1031 ms). */
    n = run_greedy(&rl, 10000, 12000, starts, 4000);
    assert_true(max_in_window(starts, n, 1000) <= 20);
    assert_true(max_in_window(starts, n, 1030) <= 20);

    /* A throttle after the hold lowers again (from 19.45: one quiet second
     * since 10500 raised it by 0.05). */
    orch_ratelimit_throttled(&rl, 12000);
    assert_true(rl.rate > 18.86 && rl.rate < 18.87);

    /* Recovery: monotone, +0.05/s, back to exactly 20 within 30 s. */
    prev = rl.rate;
    for (uint64_t t = 12000; t < 12000 + 30000; t += 100) {
        (void)orch_ratelimit_take(&rl, t);
        assert_true(rl.rate >= prev);
        prev = rl.rate;
        if (t < 12000 + 20000)
            assert_true(rl.rate < 20);
    }
    assert_true(rl.rate == 20);

    /* Full rate again: 20 in each second, never more. */
    n = run_greedy(&rl, 50000, 60000, starts, 4000);
    assert_int_equal(n, 200);
    assert_int_equal(max_in_window(starts, n, 1000), 20);
    orch_ratelimit_cleanup(&rl);
    free(starts);
}

/* When the server accepted far fewer calls than the rate in the last
 * second (a much lower real quota), the rate drops at once to 97% of what
 * was accepted. */
static void test_overload_cut_to_accepted(void **state)
{
    struct orch_ratelimit rl;
    uint64_t *starts = calloc(4000, sizeof(*starts));
    size_t n = 0;

    (void)state;
    assert_non_null(starts);
    assert_int_equal(orch_ratelimit_init(&rl, 20, 0), 0);
    rl.even_spacing = true;
    n = run_greedy(&rl, 0, 2000, starts, 4000);
    assert_int_equal(n, 40);
    /* 20 starts in the last second and one throttle: a probe just above
     * the quota, a normal 3% cut; four more within the hold only count. */
    for (uint64_t t = 2001; t < 2006; t++)
        orch_ratelimit_throttled(&rl, t);
    assert_true(rl.rate > 19.39 && rl.rate < 19.41);
    /* 19 more starts in (2001, 3001], then a sixth throttle in that second
     * after the hold: 19 - 5 = 14 accepted, far below the rate: the rate
     * drops at once to 0.97 * 14. */
    n = run_greedy(&rl, 2006, 3001, starts, 4000);
    assert_int_equal(n, 19);
    orch_ratelimit_throttled(&rl, 3001);
    if (!(rl.rate > 13.57 && rl.rate < 13.59))
        fail_msg("rate %f", rl.rate);
    orch_ratelimit_cleanup(&rl);
    free(starts);
}

/* Endless throttling stops at the floor (5% of the configured rate). */
static void test_decrease_floor(void **state)
{
    struct orch_ratelimit rl;

    (void)state;
    assert_int_equal(orch_ratelimit_init(&rl, 20, 0), 0);
    for (uint64_t t = 0; t < 200000; t += 1000)
        orch_ratelimit_throttled(&rl, t);
    assert_true(rl.rate > 0.99 && rl.rate < 1.01);
    assert_true(rl.rate <= rl.max_rate);
    /* At 1/s one start per second. */
    assert_int_equal(orch_ratelimit_take(&rl, 199500), 0);
    assert_int_equal(orch_ratelimit_take(&rl, 199501), 999);
    orch_ratelimit_cleanup(&rl);
}

/* A server that counts arrivals over any sliding second (as the cloud and
 * ota-emulator do): the window alone, no spacing. */
struct window_server {
    uint64_t t[64];
    unsigned n, head, quota;
};

static int server_accepts(struct window_server *s, uint64_t now)
{
    unsigned in = 0;

    for (unsigned k = 0; k < s->n; k++) {
        if (s->t[(s->head + 64 - 1 - k) % 64] + 1000 > now)
            in++;
    }
    if (in >= s->quota)
        return 0;
    s->t[s->head] = now;
    s->head = (s->head + 1) % 64;
    if (s->n < 64)
        s->n++;
    return 1;
}

/* Settles near a hidden quota of 15 when it believes 20: a simulated
 * server throttles arrivals over 15 in any sliding second and its answers
 * come back 300 ms later (the adaptation's figure: within 5% of 15/s,
 * under 2% throttled). */
static void converge(bool spaced, size_t *ok_late, size_t *started,
                     size_t *throttled)
{
    struct orch_ratelimit rl;
    struct window_server server = { .quota = 15 };
    uint64_t pending[4096];
    size_t np = 0;

    *ok_late = *started = *throttled = 0;
    assert_int_equal(orch_ratelimit_init(&rl, 20, 0), 0);
    rl.even_spacing = spaced;
    for (uint64_t t = 0; t < 300000; t++) {
        size_t keep = 0;

        for (size_t i = 0; i < np; i++) {
            if (pending[i] == t)
                orch_ratelimit_throttled(&rl, t);
            else
                pending[keep++] = pending[i];
        }
        np = keep;
        while (orch_ratelimit_take(&rl, t) == 0) {
            (*started)++;
            if (!server_accepts(&server, t)) {
                (*throttled)++;
                assert_true(np < 4096);
                pending[np++] = t + 300;
            } else if (t >= 100000) {
                (*ok_late)++;
            }
        }
    }
    orch_ratelimit_cleanup(&rl);
}

static void test_converges_under_hidden_quota(void **state)
{
    size_t ok = 0, started = 0, throttled = 0;

    (void)state;
    /* The client mode (even spacing), as the dispatcher uses it. */
    converge(true, &ok, &started, &throttled);
    /* Within 5% of 15/s over the last 200 s, under 2% throttled. */
    if (ok < (size_t)(0.95 * 15 * 200) || throttled * 50 >= started)
        fail_msg("%zu accepted in the last 200 s, %zu of %zu throttled", ok,
                 throttled, started);
}

/* A 100-call run at 20/s (less the 5 ms window margin, evenly spaced)
 * against a hidden 15/s quota counted at arrival (= start), each answer
 * coming 450 ms after its call, throttled calls resent after 200 ms: the
 * throttled call's start measures the quota, so at most 8 are throttled
 * and the accepted calls come at 14/s or more. (Measuring the second
 * before the answer counted the calls sent meanwhile: 3% cuts, 10 of 110
 * throttled end to end.) */
static void test_fast_convergence_late_answers(void **state)
{
    struct orch_ratelimit rl;
    uint64_t acc[200], thr_at[64], thr_sent[64], resend[64];
    size_t nacc = 0, nthr = 0, nres = 0, ok = 0, todo = 100, next_thr = 0;
    size_t throttled = 0;
    uint64_t t = 0;

    (void)state;
    assert_int_equal(orch_ratelimit_init(&rl, 20.0 * 1000 / 1005, 0), 0);
    rl.even_spacing = true;
    rl.catchup_ms = 10;
    for (t = 0; ok < 100 && t < 60000; t++) {
        /* Answers due now. */
        while (next_thr < nthr && thr_at[next_thr] <= t) {
            orch_ratelimit_throttled_at(&rl, t, thr_sent[next_thr]);
            next_thr++;
        }
        while ((todo > 0 || (nres > 0 && resend[0] <= t)) &&
               orch_ratelimit_take(&rl, t) == 0) {
            size_t in_window = count_in(acc, nacc, t >= 999 ? t - 999 : 0,
                                        t + 1);

            if (todo > 0)
                todo--;
            else
                memmove(resend, resend + 1, --nres * sizeof(*resend));
            if (in_window < 15) {
                acc[nacc++] = t;
                ok++;
            } else {
                assert_true(nthr < 64 && nres < 64);
                thr_sent[nthr] = t;
                thr_at[nthr++] = t + 450;
                resend[nres++] = t + 450 + 200;
                throttled++;
            }
        }
    }
    if (throttled > 8 || (double)(ok - 1) * 1000.0 /
                                 (double)(acc[nacc - 1] - acc[0]) < 14.0)
        fail_msg("%zu throttled, %zu accepted over %llu ms", throttled, ok,
                 (unsigned long long)(acc[nacc - 1] - acc[0]));
    orch_ratelimit_cleanup(&rl);
}

/* Starts taken early and moved to their real launch time hold the window
 * from that time on. */
static void test_retime(void **state)
{
    struct orch_ratelimit rl;

    (void)state;
    assert_int_equal(orch_ratelimit_init(&rl, 3, 0), 0);
    assert_int_equal(orch_ratelimit_take(&rl, 0), 0);
    assert_int_equal(orch_ratelimit_take(&rl, 10), 0);
    assert_int_equal(orch_ratelimit_take(&rl, 10), 0);
    /* The last two really started at 50; the first one stays at 0. */
    orch_ratelimit_retime(&rl, 2, 50);
    assert_int_equal(orch_ratelimit_take(&rl, 1000), 0);
    assert_int_equal(orch_ratelimit_take(&rl, 1049), 1);
    assert_int_equal(orch_ratelimit_take(&rl, 1050), 0);
    /* k beyond what is recorded is capped; later starts never move back. */
    orch_ratelimit_retime(&rl, 99, 20);
    assert_int_equal(orch_ratelimit_take(&rl, 1051), 0); /* 50 left */
    assert_int_equal(orch_ratelimit_take(&rl, 1052), 948); /* 1000 kept */
    orch_ratelimit_cleanup(&rl);
}

static void test_reset(void **state)
{
    struct orch_ratelimit rl;

    (void)state;
    assert_int_equal(orch_ratelimit_init(&rl, 2, 0), 0);
    assert_int_equal(orch_ratelimit_take(&rl, 0), 0);
    assert_int_equal(orch_ratelimit_take(&rl, 0), 0);
    assert_true(orch_ratelimit_take(&rl, 0) > 0);
    orch_ratelimit_throttled(&rl, 0);
    assert_true(rl.rate < 2);
    orch_ratelimit_reset(&rl);
    assert_true(rl.rate == 2);
    assert_int_equal(orch_ratelimit_take(&rl, 1), 0);
    assert_int_equal(orch_ratelimit_take(&rl, 1), 0);
    assert_int_equal(orch_ratelimit_take(&rl, 1), 1000);
    orch_ratelimit_cleanup(&rl);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_init_rejects_bad_rates),
    cmocka_unit_test(test_never_more_than_n_in_any_window),
    cmocka_unit_test(test_irregular_caller),
    cmocka_unit_test(test_wait_is_exact),
    cmocka_unit_test(test_spacing_slack),
    cmocka_unit_test(test_catchup),
    cmocka_unit_test(test_non_integer_rates),
    cmocka_unit_test(test_adaptive_decrease_and_recovery),
    cmocka_unit_test(test_overload_cut_to_accepted),
    cmocka_unit_test(test_decrease_floor),
    cmocka_unit_test(test_converges_under_hidden_quota),
    cmocka_unit_test(test_fast_convergence_late_answers),
    cmocka_unit_test(test_retime),
    cmocka_unit_test(test_reset))
