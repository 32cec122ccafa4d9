/* test_devset.c - the device store of an inventory load: records, the
 * name arena, duplicates dropped after the pipeline, the set's growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "orch/model/devset.h"
#include "orch/model/inventory.h"

static void add(struct orch_devset *s, struct orch_inventory *inv,
                const char *name, uint32_t product, uint32_t line)
{
    assert_int_equal(orch_devset_add(s, inv, name, strlen(name), product, line),
                     0);
}

static void test_records_and_duplicates(void **state)
{
    struct orch_inventory inv;
    struct orch_devset s;

    (void)state;
    orch_inventory_init(&inv);
    orch_devset_init(&s, 0);
    add(&s, &inv, "dev-0001", 0, 2);
    add(&s, &inv, "dev-0002", 0, 3);
    add(&s, &inv, "dev-0001", 1, 4); /* another product: kept */
    add(&s, &inv, "dev-0001", 0, 5); /* a duplicate */
    assert_int_equal(inv.n, 4);      /* not checked yet */
    assert_int_equal(orch_devset_settle(&s, &inv), 0);
    assert_null(s.slots);
    assert_int_equal(inv.n, 3);
    assert_int_equal(inv.duplicates, 1);
    assert_string_equal(orch_inventory_name(&inv, 0), "dev-0001");
    assert_string_equal(orch_inventory_name(&inv, 2), "dev-0001");
    assert_int_equal(inv.dev[1].line, 3);
    assert_int_equal(inv.dev[2].product, 1);
    orch_devset_cleanup(&s);
    orch_devset_cleanup(NULL);
    orch_inventory_cleanup(&inv);
}

/* Enough devices to grow the set several times, each one twice. */
static void test_growth(void **state)
{
    struct orch_inventory inv;
    struct orch_devset s;
    char name[32];
    uint32_t i = 0;

    (void)state;
    orch_inventory_init(&inv);
    orch_devset_init(&s, 0);
    for (i = 0; i < 20000; i++) {
        snprintf(name, sizeof(name), "dev-%06u", i % 10000);
        add(&s, &inv, name, 0, i + 2);
    }
    assert_int_equal(orch_devset_settle(&s, &inv), 0);
    assert_int_equal(inv.n, 10000);
    assert_int_equal(inv.duplicates, 10000);
    for (i = 0; i < 10000; i++) {
        snprintf(name, sizeof(name), "dev-%06u", i);
        assert_string_equal(orch_inventory_name(&inv, i), name);
        assert_int_equal(inv.dev[i].line, i + 2);
    }
    orch_inventory_cleanup(&inv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_and_duplicates),
        cmocka_unit_test(test_growth),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
