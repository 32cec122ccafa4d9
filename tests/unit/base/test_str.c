/* test_str.c - owned-string helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/base/str.h"

static void set_copies_and_replaces(void **state)
{
    char *s = NULL;
    char value[] = "first";

    (void)state;
    assert_int_equal(orch_str_set(&s, value), 0);
    assert_string_equal(s, "first");
    assert_ptr_not_equal(s, value);
    value[0] = 'F';
    assert_string_equal(s, "first");
    assert_int_equal(orch_str_set(&s, "second"), 0);
    assert_string_equal(s, "second");
    assert_int_equal(orch_str_set(&s, ""), 0);
    assert_string_equal(s, "");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_copies_and_replaces),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
