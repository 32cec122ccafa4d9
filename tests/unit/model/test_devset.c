/* test_devset.c - the duplicate set of an inventory load: duplicates
 * marked after the pipeline and squeezed out, the set's growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/model/devset.h"
#include "torture.h"

/* Records and a name arena, as an inventory keeps them. */
struct store {
    struct orch_device dev[20000];
    char names[20000 * 16];
    size_t n, names_len;
};

static void add(struct orch_devset *s, struct store *st, const char *name,
                uint32_t product, uint32_t line)
{
    size_t len = strlen(name);
    struct orch_device *d = &st->dev[st->n];

    memcpy(st->names + st->names_len, name, len + 1);
    d->name_off = st->names_len;
    d->product = product;
    d->line = line;
    st->names_len += len + 1;
    assert_int_equal(
        orch_devset_add(s, st->dev, st->names, (uint32_t)st->n, len), 0);
    st->n++;
}

static const char *name_of(const struct store *st, size_t i)
{
    return st->names + st->dev[i].name_off;
}

static void test_duplicates_squeezed_out(void **state)
{
    struct store *st = calloc(1, sizeof(*st));
    struct orch_devset s;

    (void)state;
    assert_non_null(st);
    orch_devset_init(&s, 0);
    add(&s, st, "dev-0001", 0, 2);
    add(&s, st, "dev-0002", 0, 3);
    add(&s, st, "dev-0001", 1, 4);     /* another product: kept */
    add(&s, st, "dev-0001", 0, 5);     /* a duplicate */
    assert_int_equal(s.duplicates, 0); /* not checked yet */
    assert_int_equal(orch_devset_settle(&s, st->dev, st->names, &st->n), 0);
    assert_null(s.slots);
    assert_int_equal(st->n, 3);
    assert_int_equal(s.duplicates, 1);
    assert_string_equal(name_of(st, 0), "dev-0001");
    assert_string_equal(name_of(st, 2), "dev-0001");
    assert_int_equal(st->dev[1].line, 3);
    assert_int_equal(st->dev[2].product, 1);
    orch_devset_cleanup(&s);
    orch_devset_cleanup(NULL);
    free(st);
}

/* Enough devices to grow the set several times, each one twice. */
static void test_growth(void **state)
{
    struct store *st = calloc(1, sizeof(*st));
    struct orch_devset s;
    char name[32];
    uint32_t i = 0;

    (void)state;
    assert_non_null(st);
    orch_devset_init(&s, 0);
    for (i = 0; i < 20000; i++) {
        snprintf(name, sizeof(name), "dev-%06u", i % 10000);
        add(&s, st, name, 0, i + 2);
    }
    assert_int_equal(orch_devset_settle(&s, st->dev, st->names, &st->n), 0);
    assert_int_equal(st->n, 10000);
    assert_int_equal(s.duplicates, 10000);
    for (i = 0; i < 10000; i++) {
        snprintf(name, sizeof(name), "dev-%06u", i);
        assert_string_equal(name_of(st, i), name);
        assert_int_equal(st->dev[i].line, i + 2);
    }
    free(st);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_duplicates_squeezed_out),
    cmocka_unit_test(test_growth))
