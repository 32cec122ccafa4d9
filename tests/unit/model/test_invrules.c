/* test_invrules.c - the naming rules of an inventory row and the texts
 * that tell an invalid one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "orch/model/invrules.h"
#include "torture.h"

static void test_name_rule(void **state)
{
    (void)state;
    assert_null(orch_device_name_problem("abcd"));
    assert_null(orch_device_name_problem("a-b_c@d.e:f"));
    assert_null(orch_device_name_problem("12345678901234567890123456789012"));
    assert_non_null(
        orch_device_name_problem("123456789012345678901234567890123"));
    assert_non_null(orch_device_name_problem("abc"));
    assert_non_null(orch_device_name_problem(""));
    assert_non_null(orch_device_name_problem(NULL));
    assert_non_null(orch_device_name_problem("dev;0001"));
    assert_non_null(orch_device_name_problem("dev/0001"));
    assert_non_null(orch_device_name_problem("dév-0001"));
}

static void test_product_key_rule(void **state)
{
    char long_pk[66];

    (void)state;
    assert_null(orch_product_key_problem("a1BwAGVabcd", 11));
    /* Only len bytes count. */
    assert_null(orch_product_key_problem("a1B2,junk", 4));
    assert_string_equal(orch_product_key_problem("", 0), "is empty");
    assert_string_equal(orch_product_key_problem("a1-B", 4),
                        "is not letters and digits only");
    memset(long_pk, 'a', sizeof(long_pk));
    assert_null(orch_product_key_problem(long_pk, 64));
    assert_string_equal(orch_product_key_problem(long_pk, 65),
                        "is longer than 64 characters");
}

static void test_reason_and_problem_texts(void **state)
{
    struct orch_inventory_problem p;
    char out[256];

    (void)state;
    memset(&p, 0, sizeof(p));
    orch_invrules_reason(p.reason, sizeof(p.reason), "DeviceName",
                         "is shorter than 4 characters");
    assert_string_equal(p.reason, "DeviceName is shorter than 4 characters");
    p.line = 7;
    orch_invrules_show_value(p.value, sizeof(p.value), "a\"b\x01", 4, false);
    assert_string_equal(p.value, "a\\\"b\\x01");
    orch_inventory_problem_format(out, sizeof(out), "f.csv", &p);
    assert_string_equal(out, "f.csv:7: \"a\\\"b\\x01\": DeviceName is "
                             "shorter than 4 characters");
    /* Cut: by the room, or because the source was cut already. */
    orch_invrules_show_value(out, 12, "abcdefghijkl", 12, false);
    assert_string_equal(out, "abcd...");
    orch_invrules_show_value(out, sizeof(out), "abc", 3, true);
    assert_string_equal(out, "abc...");
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_name_rule),
    cmocka_unit_test(test_product_key_rule),
    cmocka_unit_test(test_reason_and_problem_texts))
