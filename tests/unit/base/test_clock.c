/* test_clock.c - the wall and monotonic clocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "orch/base/clock.h"
#include "torture.h"

static void wall_clock_is_epoch_ms(void **state)
{
    int64_t before = (int64_t)time(NULL) * 1000;
    int64_t now = orch_wall_ms();
    int64_t after = (int64_t)time(NULL) * 1000 + 1000;

    (void)state;
    assert_true(now >= before);
    assert_true(now < after);
}

static void monotonic_clock_never_goes_back(void **state)
{
    uint64_t last = orch_mono_ms();

    (void)state;
    for (int i = 0; i < 100000; i++) {
        uint64_t now = orch_mono_ms();
        assert_true(now >= last);
        last = now;
    }
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(wall_clock_is_epoch_ms),
    cmocka_unit_test(monotonic_clock_never_goes_back))
