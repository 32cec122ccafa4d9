/* test_grow.c - growing an array by doubling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/base/grow.h"

static void starts_at_first_then_doubles(void **state)
{
    int *a = NULL;
    size_t cap = 0;

    (void)state;
    a = orch_grow(NULL, &cap, 1, sizeof(*a), 8);
    assert_non_null(a);
    assert_int_equal(cap, 8);
    a[7] = 7;
    a = orch_grow(a, &cap, 9, sizeof(*a), 8);
    assert_non_null(a);
    assert_int_equal(cap, 16);
    assert_int_equal(a[7], 7);
    a = orch_grow(a, &cap, 100, sizeof(*a), 8);
    assert_non_null(a);
    assert_int_equal(cap, 128);
    assert_int_equal(a[7], 7);
    free(a);
}

static void enough_room_returns_the_same_array(void **state)
{
    char *a = malloc(64);
    char *b = NULL;
    size_t cap = 64;

    (void)state;
    assert_non_null(a);
    b = orch_grow(a, &cap, 64, 1, 16);
    assert_ptr_equal(a, b);
    assert_int_equal(cap, 64);
    free(a);
}

static void zero_need_and_first_count_as_one(void **state)
{
    char *a = NULL;
    size_t cap = 0;

    (void)state;
    a = orch_grow(NULL, &cap, 0, 1, 0);
    assert_non_null(a);
    assert_int_equal(cap, 1);
    free(a);
}

static void overflow_fails_and_keeps_the_array(void **state)
{
    char *a = malloc(4);
    size_t cap = 4;

    (void)state;
    assert_non_null(a);
    assert_null(orch_grow(a, &cap, SIZE_MAX / 2 + 2, 1, 4));
    assert_int_equal(cap, 4);
    assert_null(orch_grow(a, &cap, SIZE_MAX / 8, 16, 4));
    assert_int_equal(cap, 4);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(starts_at_first_then_doubles),
        cmocka_unit_test(enough_room_returns_the_same_array),
        cmocka_unit_test(zero_need_and_first_count_as_one),
        cmocka_unit_test(overflow_fails_and_keeps_the_array),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
