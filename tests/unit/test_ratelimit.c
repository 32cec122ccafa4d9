/* test_ratelimit.c - the sliding-window limiter with injected time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>

#include <cmocka.h>

#include "orch/err.h"
#include "orch/ratelimit.h"

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

/* After a throttling answer the rate drops by 5%, then climbs back to the
 * full rate while no further throttling is seen. */
static void test_adaptive_decrease_and_recovery(void **state)
{
    struct orch_ratelimit rl;
    uint64_t *starts = calloc(4000, sizeof(*starts));
    size_t n = 0;
    double prev = 0;

    (void)state;
    assert_non_null(starts);
    assert_int_equal(orch_ratelimit_init(&rl, 20, 0), 0);
    n = run_greedy(&rl, 0, 10000, starts, 4000);
    assert_int_equal(n, 200);

    orch_ratelimit_throttled(&rl, 10000);
    assert_int_equal(rl.throttles, 1);
    assert_true(rl.rate > 18.99 && rl.rate < 19.01);
    /* A second answer within the hold period counts but does not lower. */
    orch_ratelimit_throttled(&rl, 10500);
    assert_int_equal(rl.throttles, 2);
    assert_true(rl.rate > 18.99 && rl.rate < 19.01);

    /* In the next second (no raise yet: the quiet period restarted at
     * 10500) 19 starts, and at most 19 in any 1000 ms after. */
    n = run_greedy(&rl, 10000, 11000, starts, 4000);
    assert_int_equal(n, 19);
    n = run_greedy(&rl, 11000, 11500, starts + n, 4000) + n;
    assert_true(max_in_window(starts, n, 1000) <= 19);

    /* A throttle after the hold lowers again. */
    orch_ratelimit_throttled(&rl, 11600);
    assert_true(rl.rate > 18.04 && rl.rate < 18.06);

    /* Recovery: monotone, +0.1/s, back to exactly 20 after ~20 s. */
    prev = rl.rate;
    for (uint64_t t = 11600; t < 11600 + 30000; t += 100) {
        (void)orch_ratelimit_take(&rl, t);
        assert_true(rl.rate >= prev);
        prev = rl.rate;
        if (t < 11600 + 18000)
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

/* Settles near a hidden quota of 15 when it believes 20: a simulated
 * server throttles starts over 15 in any sliding second (issue 5's
 * adaptation figure: within 5% of 15/s, under 2% throttled). */
static void test_converges_under_hidden_quota(void **state)
{
    struct orch_ratelimit rl;
    struct orch_ratelimit server;
    size_t started = 0, throttled = 0, late_ok = 0;

    (void)state;
    assert_int_equal(orch_ratelimit_init(&rl, 20, 0), 0);
    assert_int_equal(orch_ratelimit_init(&server, 15, 0), 0);
    for (uint64_t t = 0; t < 300000; t++) {
        while (orch_ratelimit_take(&rl, t) == 0) {
            started++;
            if (orch_ratelimit_take(&server, t) != 0) {
                throttled++;
                /* The answer comes back 300 ms later. */
                orch_ratelimit_throttled(&rl, t + 300);
            } else if (t >= 100000) {
                late_ok++;
            }
        }
    }
    /* Within 5% of 15/s over the last 200 s, under 2% throttled. */
    assert_true(late_ok >= (size_t)(0.95 * 15 * 200));
    assert_true(throttled * 50 < started);
    orch_ratelimit_cleanup(&server);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_bad_rates),
        cmocka_unit_test(test_never_more_than_n_in_any_window),
        cmocka_unit_test(test_irregular_caller),
        cmocka_unit_test(test_wait_is_exact),
        cmocka_unit_test(test_non_integer_rates),
        cmocka_unit_test(test_adaptive_decrease_and_recovery),
        cmocka_unit_test(test_decrease_floor),
        cmocka_unit_test(test_converges_under_hidden_quota),
        cmocka_unit_test(test_reset),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
