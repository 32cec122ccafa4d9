/* test_invheader.c - an inventory's encoding, delimiter and header row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/model/invheader.h"
#include "torture.h"

static void test_encoding(void **state)
{
    (void)state;
    assert_true(orch_invheader_utf16("\xff\xfe"
                                     "D",
                                     4));
    assert_true(orch_invheader_utf16("\xfe\xff"
                                     "D",
                                     3));
    assert_false(orch_invheader_utf16("\xff", 1));
    assert_false(orch_invheader_utf16("DeviceName", 10));
    assert_int_equal(orch_invheader_bom("\xef\xbb\xbfx", 4), 3);
    assert_int_equal(orch_invheader_bom("\xef\xbb", 2), 0);
    assert_int_equal(orch_invheader_bom("abc", 3), 0);
}

static void test_delimiter(void **state)
{
    (void)state;
    assert_int_equal(orch_invheader_sniff_delimiter("a,b\nc;d;e;f", 11), ',');
    assert_int_equal(orch_invheader_sniff_delimiter("a;b;c\n", 6), ';');
    assert_int_equal(orch_invheader_sniff_delimiter("a\tb\tc", 5), '\t');
    /* Quoted delimiters do not count; nor does an empty first line. */
    assert_int_equal(orch_invheader_sniff_delimiter("\"a;b;c\",d", 9), ',');
    assert_int_equal(orch_invheader_sniff_delimiter("\n\na;b", 5), ';');
    assert_int_equal(orch_invheader_sniff_delimiter("", 0), ',');
}

static void header(struct orch_invheader *h, const char *const *cells, size_t n)
{
    size_t i = 0;

    orch_invheader_init(h);
    for (i = 0; i < n; i++)
        orch_invheader_field(h, i, cells[i], strlen(cells[i]));
}

static void test_columns(void **state)
{
    static const char *const row[] = {"Site", "Device Name", "product_key",
                                      "DN"};
    static const char *const none[] = {"Name", "", "Key"};
    struct orch_invheader h;
    struct orch_diag diag = {{0}};

    (void)state;
    header(&h, row, 4);
    assert_int_equal(h.dn_col, 1);
    assert_int_equal(h.pk_col, 2);
    assert_int_equal(orch_invheader_check(&h, "f.csv", 1, NULL, &diag), 0);

    header(&h, none, 3);
    assert_int_equal(h.dn_col, -1);
    assert_string_equal(h.seen, "\"Name\", \"Key\"");
    assert_int_equal(orch_invheader_check(&h, "f.csv", 2, NULL, &diag),
                     ORCH_ECSV);
    assert_non_null(strstr(diag.msg, "f.csv:2: the header row has no "
                                     "DeviceName column (found \"Name\", "
                                     "\"Key\")"));
}

static void test_product_key_default(void **state)
{
    static const char *const row[] = {"DeviceName"};
    struct orch_invheader h;
    struct orch_diag diag = {{0}};

    (void)state;
    header(&h, row, 1);
    assert_int_equal(orch_invheader_check(&h, "f.csv", 1, NULL, &diag),
                     ORCH_ECONFIG);
    assert_non_null(strstr(diag.msg, "no ProductKey column"));
    assert_int_equal(orch_invheader_check(&h, "f.csv", 1, "a1B2", &diag), 0);
    assert_int_equal(orch_invheader_check(&h, "f.csv", 1, "a-1", &diag),
                     ORCH_ECONFIG);
    assert_string_equal(diag.msg,
                        "--product-key \"a-1\" is not letters and digits only");
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_encoding),
    cmocka_unit_test(test_delimiter),
    cmocka_unit_test(test_columns),
    cmocka_unit_test(test_product_key_default))
