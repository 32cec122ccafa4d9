/* test_params.c - the parameter list: add/get/remove, canonical sort,
 * encoding and form/query parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "orch/base/buf.h"
#include "orch/base/err.h"
#include "orch/cloud/params.h"
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_add_get_remove(void **state)
{
    struct orch_params p;

    (void)state;
    orch_params_init(&p);
    assert_null(orch_params_get(&p, "a"));
    assert_int_equal(orch_params_add(&p, "a", "1"), 0);
    assert_int_equal(orch_params_add(&p, "b", ""), 0);
    assert_int_equal(orch_params_add(&p, "a", "2"), 0);
    assert_int_equal(orch_params_addf(&p, "n", "%d-%s", 42, "x"), 0);
    assert_int_equal(p.n, 4);
    assert_string_equal(orch_params_get(&p, "a"), "1");
    assert_string_equal(orch_params_get(&p, "b"), "");
    assert_string_equal(orch_params_get(&p, "n"), "42-x");
    assert_null(orch_params_get(&p, "A"));
    assert_int_equal(orch_params_remove(&p, "a"), 2);
    assert_int_equal(orch_params_remove(&p, "zz"), 0);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.v[0].name, "b");
    assert_string_equal(p.v[1].name, "n");
    assert_int_equal(orch_params_add(&p, NULL, "x"), ORCH_EINVAL);
    orch_params_cleanup(&p);
    assert_int_equal(p.n, 0);
    orch_params_cleanup(&p);
    orch_params_cleanup(NULL);
}

/* Enough entries to force the lists to grow several times. */
static void test_many(void **state)
{
    struct orch_params p;
    char *big = NULL;
    char name[32];
    int i = 0;

    (void)state;
    orch_params_init(&p);
    for (i = 1; i <= 1000; i++) {
        snprintf(name, sizeof(name), "TargetDeviceName.%d", i);
        assert_int_equal(orch_params_addf(&p, name, "dev-%04d", i), 0);
    }
    assert_int_equal(p.n, 1000);
    assert_string_equal(orch_params_get(&p, "TargetDeviceName.777"),
                        "dev-0777");
    /* A value larger than an arena block, then more small ones: every
     * earlier name and value stays where it was. */
    big = malloc(40001);
    assert_non_null(big);
    memset(big, 'x', 40000);
    big[40000] = '\0';
    assert_int_equal(orch_params_add(&p, "Big", big), 0);
    assert_int_equal(orch_params_add(&p, "After", "1"), 0);
    assert_string_equal(orch_params_get(&p, "Big"), big);
    assert_string_equal(orch_params_get(&p, "After"), "1");
    for (i = 1; i <= 1000; i++) {
        char want[16];

        snprintf(want, sizeof(want), "dev-%04d", i);
        assert_string_equal(p.v[i - 1].value, want);
    }
    free(big);
    orch_params_cleanup(&p);
}

static void assert_order(const struct orch_params *p, const char *const *names,
                         size_t n)
{
    size_t i = 0;

    assert_int_equal(p->n, n);
    for (i = 0; i < n; i++)
        assert_string_equal(p->v[i].name, names[i]);
}

static void test_sort_byte_order(void **state)
{
    static const char *const want[] = {
        "AccessKeyId",
        "TargetDeviceName.1",
        "TargetDeviceName.10",
        "TargetDeviceName.100",
        "TargetDeviceName.11",
        "TargetDeviceName.2",
        "Timestamp",
        "Version",
        "a",
        "\xc3\xa4",
    };
    static const char *const in[] = {
        "TargetDeviceName.2",
        "Version",
        "\xc3\xa4",
        "TargetDeviceName.100",
        "a",
        "TargetDeviceName.1",
        "Timestamp",
        "TargetDeviceName.11",
        "AccessKeyId",
        "TargetDeviceName.10",
    };
    struct orch_params p;
    size_t i = 0;

    (void)state;
    orch_params_init(&p);
    for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
        assert_int_equal(orch_params_add(&p, in[i], "v"), 0);
    orch_params_sort(&p);
    /* Upper case before lower case; bytes >= 0x80 last (unsigned). */
    assert_order(&p, want, sizeof(want) / sizeof(want[0]));
    orch_params_cleanup(&p);
}

static void test_sort_ties_by_value_and_stable(void **state)
{
    struct orch_params p;
    char *first = NULL;
    char *second = NULL;

    (void)state;
    orch_params_init(&p);
    assert_int_equal(orch_params_add(&p, "Tag", "b"), 0);
    assert_int_equal(orch_params_add(&p, "Tag", "a"), 0);
    assert_int_equal(orch_params_add(&p, "Same", "x"), 0);
    assert_int_equal(orch_params_add(&p, "Same", "x"), 0);
    assert_int_equal(orch_params_add(&p, "Tag", ""), 0);
    first = p.v[2].value;
    second = p.v[3].value;
    orch_params_sort(&p);
    assert_string_equal(p.v[0].name, "Same");
    /* Equal pairs keep their order (same storage, same place). */
    assert_ptr_equal(p.v[0].value, first);
    assert_ptr_equal(p.v[1].value, second);
    assert_string_equal(p.v[2].value, "");
    assert_string_equal(p.v[3].value, "a");
    assert_string_equal(p.v[4].value, "b");
    orch_params_cleanup(&p);
}

static int ref_cmp(const void *a, const void *b)
{
    const struct orch_param *x = a;
    const struct orch_param *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->value, y->value);
}

/* Large lists (the merge path) against qsort, with duplicates so that the
 * stability of the merge is exercised too. */
static void test_sort_large_matches_reference(void **state)
{
    static const size_t sizes[] = {0,  1,  2,  15,  16,  17,
                                   63, 64, 65, 200, 201, 1000};
    unsigned int seed = 12345;
    size_t s = 0;

    (void)state;
    for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        struct orch_params p;
        struct orch_param *ref = NULL;
        char **order = NULL;
        size_t n = sizes[s];
        size_t i = 0;

        orch_params_init(&p);
        for (i = 0; i < n; i++) {
            char name[32];

            seed = seed * 1103515245u + 12345u;
            snprintf(name, sizeof(name), "TargetDeviceName.%zu",
                     (size_t)(seed >> 16) % (n / 2 + 1));
            assert_int_equal(orch_params_addf(&p, name, "%u", (seed >> 8) % 3),
                             0);
        }
        ref = malloc((n + 1) * sizeof(*ref));
        order = malloc((n + 1) * sizeof(*order));
        assert_non_null(ref);
        assert_non_null(order);
        if (n)
            memcpy(ref, p.v, n * sizeof(*ref));
        /* qsort is not stable: compare names and values only, and check
         * stability separately through the value pointers' input order. */
        qsort(ref, n, sizeof(*ref), ref_cmp);
        for (i = 0; i < n; i++)
            order[i] = p.v[i].value;
        orch_params_sort(&p);
        for (i = 0; i < n; i++) {
            assert_string_equal(p.v[i].name, ref[i].name);
            assert_string_equal(p.v[i].value, ref[i].value);
            if (i > 0 && ref_cmp(&p.v[i - 1], &p.v[i]) == 0) {
                size_t a = 0;
                size_t b = 0;

                while (order[a] != p.v[i - 1].value)
                    a++;
                while (order[b] != p.v[i].value)
                    b++;
                assert_true(a < b);
            }
        }
        free(order);
        free(ref);
        orch_params_cleanup(&p);
    }
}

static void test_encode(void **state)
{
    struct orch_params p;
    struct orch_buf b;

    (void)state;
    orch_params_init(&p);
    orch_buf_init(&b);
    assert_int_equal(orch_params_encode(&p, &b), 0);
    assert_string_equal(orch_buf_str(&b), "");
    assert_int_equal(orch_params_add(&p, "Z", "with space"), 0);
    assert_int_equal(orch_params_add(&p, "a b", "x*y~z+/"), 0);
    assert_int_equal(orch_params_add(&p, "Empty", ""), 0);
    assert_int_equal(orch_params_add(&p, "Name", "设备"), 0);
    /* The list's own order: encode does not sort. */
    assert_int_equal(orch_params_encode(&p, &b), 0);
    assert_string_equal(orch_buf_str(&b),
                        "Z=with%20space&a%20b=x%2Ay~z%2B%2F&Empty="
                        "&Name=%E8%AE%BE%E5%A4%87");
    orch_buf_cleanup(&b);
    orch_params_cleanup(&p);
}

static void test_parse(void **state)
{
    static const char form[] =
        "a=1&b=x+y&c=%2B&d=&e&&f=%E8%AE%BE&g=a%3Db%26c&h=1=2&+k+=v&";
    struct orch_params p;

    (void)state;
    orch_params_init(&p);
    assert_int_equal(orch_params_add(&p, "pre", "existing"), 0);
    assert_int_equal(orch_params_parse(&p, form, strlen(form)), 0);
    assert_int_equal(p.n, 10);
    assert_string_equal(p.v[0].name, "pre");
    assert_string_equal(p.v[1].name, "a");
    assert_string_equal(orch_params_get(&p, "a"), "1");
    assert_string_equal(orch_params_get(&p, "b"), "x y");
    assert_string_equal(orch_params_get(&p, "c"), "+");
    assert_string_equal(orch_params_get(&p, "d"), "");
    assert_string_equal(orch_params_get(&p, "e"), "");
    assert_string_equal(orch_params_get(&p, "f"), "设");
    assert_string_equal(orch_params_get(&p, "g"), "a=b&c");
    assert_string_equal(orch_params_get(&p, "h"), "1=2");
    assert_string_equal(orch_params_get(&p, " k "), "v");
    orch_params_cleanup(&p);

    /* Only len bytes are parsed. */
    assert_int_equal(orch_params_parse(&p, "x=12&y=3", 4), 0);
    assert_int_equal(p.n, 1);
    assert_string_equal(orch_params_get(&p, "x"), "12");
    orch_params_cleanup(&p);
    assert_int_equal(orch_params_parse(&p, "", 0), 0);
    assert_int_equal(p.n, 0);
}

static void test_parse_errors(void **state)
{
    static const char *const bad[] = {
        "a=%",
        "a=%4",
        "a=%GG",
        "%zz=1",
        "a=1&b=%2",
        "a=1&b=%-1",
        /* A NUL cannot live in a C string: no silent truncation. */
        "a=b%00c",
        "a%00=1",
    };
    struct orch_params p;
    size_t i = 0;

    (void)state;
    orch_params_init(&p);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(orch_params_parse(&p, bad[i], strlen(bad[i])),
                         ORCH_EINVAL);
        orch_params_cleanup(&p);
    }
}

/* encode then parse gives back the same list, for awkward values. */
static void test_round_trip(void **state)
{
    static const char *const values[] = {
        "with space", "star*x",      "tilde~x", "plus+x", "slash/x", "设备-001",
        "Gerät",      "bang!q'p(x)", "a=b&c",   "%41",    "",
    };
    struct orch_params p;
    struct orch_params q;
    struct orch_buf b;
    size_t i = 0;

    (void)state;
    orch_params_init(&p);
    orch_params_init(&q);
    orch_buf_init(&b);
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        assert_int_equal(
            orch_params_addf(&p, "TargetDeviceName.1", "%s", values[i]), 0);
    assert_int_equal(orch_params_encode(&p, &b), 0);
    assert_int_equal(orch_params_parse(&q, b.data, b.len), 0);
    assert_int_equal(q.n, p.n);
    for (i = 0; i < p.n; i++) {
        assert_string_equal(q.v[i].name, p.v[i].name);
        assert_string_equal(q.v[i].value, p.v[i].value);
    }
    orch_buf_cleanup(&b);
    orch_params_cleanup(&q);
    orch_params_cleanup(&p);
}

/* A sorted view borrows the strings, leaves src as it was and drops the
 * skipped name. */
static void test_sorted_view(void **state)
{
    struct orch_params p;
    struct orch_params view;

    (void)state;
    orch_params_init(&p);
    assert_int_equal(orch_params_add(&p, "b", "2"), 0);
    assert_int_equal(orch_params_add(&p, "Signature", "x"), 0);
    assert_int_equal(orch_params_add(&p, "a", "1"), 0);
    assert_int_equal(orch_params_sorted_view(&p, "Signature", &view), 0);
    assert_int_equal(view.n, 2);
    assert_string_equal(view.v[0].name, "a");
    assert_string_equal(view.v[1].name, "b");
    assert_ptr_equal(view.v[0].name, p.v[2].name);
    assert_string_equal(p.v[0].name, "b");
    free(view.v);
    assert_int_equal(orch_params_sorted_view(&p, NULL, &view), 0);
    assert_int_equal(view.n, 3);
    assert_string_equal(view.v[0].name, "Signature");
    free(view.v);
    assert_int_equal(orch_params_sorted_view(NULL, NULL, &view), 0);
    assert_int_equal(view.n, 0);
    assert_null(view.v);
    orch_params_cleanup(&p);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_add_get_remove),
    cmocka_unit_test(test_many),
    cmocka_unit_test(test_sort_byte_order),
    cmocka_unit_test(test_sort_ties_by_value_and_stable),
    cmocka_unit_test(test_sort_large_matches_reference),
    cmocka_unit_test(test_encode),
    cmocka_unit_test(test_parse),
    cmocka_unit_test(test_parse_errors),
    cmocka_unit_test(test_round_trip),
    cmocka_unit_test(test_sorted_view))
