/* test_wavecut.c - exact wave sizes, cut per product. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/model/wavecut.h"
#include "orch/model/wavespec.h"
#include "waves_fixture.h"

#include <string.h>

static void targets_are_exact(void **state)
{
    struct orch_wave_spec s;
    struct orch_diag d = {{0}};
    uint64_t t[ORCH_WAVES_MAX];

    (void)state;
    parse_ok("1%,100%", &s);
    assert_int_equal(orch_wavecut_targets(&s, 10000, t, &d), 0);
    assert_int_equal(t[0], 100);
    assert_int_equal(t[1], 10000);
    parse_ok("200,5000,all", &s);
    assert_int_equal(orch_wavecut_targets(&s, 10000, t, &d), 0);
    assert_int_equal(t[0], 200);
    assert_int_equal(t[1], 5000);
    assert_int_equal(t[2], 10000);
    /* A share rounds up and is at least one device. */
    parse_ok("0.1%,all", &s);
    assert_int_equal(orch_wavecut_targets(&s, 150, t, &d), 0);
    assert_int_equal(t[0], 1);
    parse_ok("10.5%,all", &s);
    assert_int_equal(orch_wavecut_targets(&s, 10000, t, &d), 0);
    assert_int_equal(t[0], 1050);
    /* A count beyond the plan is the whole plan. */
    parse_ok("200,50000", &s);
    assert_int_equal(orch_wavecut_targets(&s, 150, t, &d), 0);
    assert_int_equal(t[0], 150);
    assert_int_equal(t[1], 150);
    /* Refusals: stops short, not cumulative, nothing. */
    parse_ok("200,5000", &s);
    assert_int_equal(orch_wavecut_targets(&s, 10000, t, &d), ORCH_ECONFIG);
    assert_non_null(strstr(d.msg, "covers 5000 of the plan's 10000"));
    parse_ok("5000,10%,all", &s);
    assert_int_equal(orch_wavecut_targets(&s, 10000, t, &d), ORCH_ECONFIG);
    assert_non_null(strstr(d.msg, "cumulative"));
    assert_int_equal(orch_wavecut_targets(&s, 0, t, &d), ORCH_ECONFIG);
}

/* Checks the rules of wavecut.h on one result. */
static void check_rules(const uint64_t *t, size_t nw, const uint64_t *dev,
                        size_t np, const uint64_t *cum)
{
    size_t k = 0, p = 0;

    for (k = 0; k < nw; k++) {
        uint64_t sum = 0;

        for (p = 0; p < np; p++) {
            uint64_t c = cum[k * np + p];

            assert_true(c <= dev[p]);
            if (k > 0)
                assert_true(c >= cum[(k - 1) * np + p]);
            sum += c;
        }
        assert_int_equal(sum, t[k]);
    }
}

static void share_per_product(void **state)
{
    /* The fleet: 8,517 + 1,483 devices, --waves 1%,10%,100%. */
    static const uint64_t dev[] = {8517, 1483};
    static const uint64_t t[] = {100, 1000, 10000};
    uint64_t cum[6];

    (void)state;
    assert_int_equal(orch_wavecut_share(t, 3, dev, 2, cum), 0);
    check_rules(t, 3, dev, 2, cum);
    /* 85.17 + 14.83: the larger remainder gets the last device. */
    assert_int_equal(cum[0], 85);
    assert_int_equal(cum[1], 15);
    assert_int_equal(cum[2], 852);
    assert_int_equal(cum[3], 148);
    assert_int_equal(cum[4], 8517);
    assert_int_equal(cum[5], 1483);
}

static void share_gives_every_product_a_canary(void **state)
{
    /* A product of 1 device among 10,000 still gets into a 3-device
     * canary, at the cost of proportion. */
    static const uint64_t dev[] = {9998, 1, 1};
    static const uint64_t t[] = {3, 4, 10000};
    static const uint64_t t2[] = {2, 10000};
    uint64_t cum[9];

    (void)state;
    assert_int_equal(orch_wavecut_share(t, 3, dev, 3, cum), 0);
    check_rules(t, 3, dev, 3, cum);
    assert_int_equal(cum[0], 1);
    assert_int_equal(cum[1], 1);
    assert_int_equal(cum[2], 1);
    assert_int_equal(cum[3], 2);
    /* Fewer devices than products: the first seen get one. */
    assert_int_equal(orch_wavecut_share(t2, 2, dev, 3, cum), 0);
    check_rules(t2, 2, dev, 3, cum);
    assert_int_equal(cum[0], 1);
    assert_int_equal(cum[1], 1);
    assert_int_equal(cum[2], 0);
    /* A product without devices takes none. */
    {
        static const uint64_t dev0[] = {0, 10};
        static const uint64_t t3[] = {1, 10};
        uint64_t c3[4];

        assert_int_equal(orch_wavecut_share(t3, 2, dev0, 2, c3), 0);
        check_rules(t3, 2, dev0, 2, c3);
        assert_int_equal(c3[0], 0);
        assert_int_equal(c3[1], 1);
    }
}

static void share_rules_hold_everywhere(void **state)
{
    /* Many shapes, deterministic: the rules always hold, and the same
     * inputs give the same counts. */
    uint64_t dev[5], t[4], cum[20], again[20];
    unsigned seed = 7;
    int round = 0;
    size_t p = 0, k = 0;

    (void)state;
    for (round = 0; round < 2000; round++) {
        size_t np = 1 + (size_t)(round % 5);
        uint64_t total = 0;

        for (p = 0; p < np; p++) {
            seed = seed * 1103515245u + 12345u;
            dev[p] = (seed >> 8) % (round % 3 ? 50 : 5000);
            total += dev[p];
        }
        if (total == 0)
            continue;
        for (k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            t[k] = 1 + (seed >> 8) % total;
        }
        t[3] = total;
        /* Cumulative targets. */
        if (t[1] < t[0])
            t[1] = t[0];
        if (t[2] < t[1])
            t[2] = t[1];
        assert_int_equal(orch_wavecut_share(t, 4, dev, np, cum), 0);
        check_rules(t, 4, dev, np, cum);
        for (p = 0; p < np; p++) {
            if (dev[p] > 0 && t[0] >= np)
                assert_true(cum[p] >= 1);
        }
        assert_int_equal(orch_wavecut_share(t, 4, dev, np, again), 0);
        assert_memory_equal(cum, again, 4 * np * sizeof(*cum));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(targets_are_exact),
        cmocka_unit_test(share_per_product),
        cmocka_unit_test(share_gives_every_product_a_canary),
        cmocka_unit_test(share_rules_hold_everywhere),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
