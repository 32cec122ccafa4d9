/* test_tally.c - error-code counts for summaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "orch/base/tally.h"
#include "torture.h"

static void counts_in_order_of_first_appearance(void **state)
{
    struct orch_tally t = {0};

    (void)state;
    orch_tally_add(&t, "Ambiguous");
    orch_tally_add(&t, "iot.ota.X");
    orch_tally_add(&t, "Ambiguous");
    assert_int_equal(t.count, 2);
    assert_string_equal(t.e[0].code, "Ambiguous");
    assert_int_equal(t.e[0].n, 2);
    assert_string_equal(t.e[1].code, "iot.ota.X");
    assert_int_equal(t.e[1].n, 1);
}

static void keeps_the_first_max_codes(void **state)
{
    struct orch_tally t = {0};
    char code[16];

    (void)state;
    for (int i = 0; i < ORCH_TALLY_MAX + 3; i++) {
        snprintf(code, sizeof(code), "c%d", i);
        orch_tally_add(&t, code);
    }
    orch_tally_add(&t, "c0");
    assert_int_equal(t.count, ORCH_TALLY_MAX);
    assert_string_equal(t.e[ORCH_TALLY_MAX - 1].code, "c7");
    assert_int_equal(t.e[0].n, 2);
}

static void long_codes_cut_and_matched(void **state)
{
    struct orch_tally t = {0};
    char code[300];

    (void)state;
    memset(code, 'x', sizeof(code) - 1);
    code[sizeof(code) - 1] = '\0';
    orch_tally_add(&t, code);
    orch_tally_add(&t, code);
    assert_int_equal(t.count, 1);
    assert_int_equal(t.e[0].n, 2);
    assert_int_equal(strlen(t.e[0].code), sizeof(t.e[0].code) - 1);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(counts_in_order_of_first_appearance),
    cmocka_unit_test(keeps_the_first_max_codes),
    cmocka_unit_test(long_codes_cut_and_matched))
