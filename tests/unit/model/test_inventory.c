/* test_inventory.c - the inventory reader against what spreadsheets write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "orch/base/err.h"
#include "orch/model/inventory.h"
#include "orch/base/csvout.h"
#include "torture.h"

#define INV_DIR ORCH_FIXTURES "/inventories/"
#define SAMPLES ORCH_FIXTURES "/../../samples/"

static const struct orch_inventory_opts no_opts;

struct loaded {
    struct orch_inventory inv;
    struct orch_diag diag;
    int rc;
};

static void load_str(struct loaded *l, const char *csv,
                     const struct orch_inventory_opts *o)
{
    memset(l, 0, sizeof(*l));
    orch_inventory_init(&l->inv);
    l->rc = orch_inventory_load_mem(&l->inv, "t.csv", csv, strlen(csv),
                                    o ? o : &no_opts, &l->diag);
}

static void load_file(struct loaded *l, const char *path,
                      const struct orch_inventory_opts *o)
{
    memset(l, 0, sizeof(*l));
    orch_inventory_init(&l->inv);
    l->rc = orch_inventory_load(&l->inv, path, o ? o : &no_opts, &l->diag);
}

static const char *name_at(const struct loaded *l, size_t i)
{
    return orch_inventory_name(&l->inv, i);
}

static const char *product_at(const struct loaded *l, size_t i)
{
    return l->inv.products[l->inv.dev[i].product];
}

/* ------------------------------------------------------------------ */

static void test_excel_bom_crlf(void **state)
{
    struct loaded l;

    (void)state;
    load_file(&l, INV_DIR "excel-bom-crlf.csv", NULL);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.inv.delimiter, ',');
    assert_true(l.inv.has_product_column);
    assert_int_equal(l.inv.n, 4);
    assert_int_equal(l.inv.rows, 5);
    assert_int_equal(l.inv.duplicates, 1);
    assert_int_equal(l.inv.nproducts, 2);
    assert_string_equal(l.inv.products[0], "a1BwAGVabcd");
    assert_string_equal(l.inv.products[1], "a1Ko2mPq7Rt");
    assert_string_equal(name_at(&l, 0), "meter-0001");
    assert_string_equal(name_at(&l, 1), "meter-0002");
    assert_string_equal(name_at(&l, 2), "gw_0001");
    assert_string_equal(name_at(&l, 3), "meter-0003");
    assert_string_equal(product_at(&l, 2), "a1Ko2mPq7Rt");
    /* Physical lines: blank line 4, ",,,,," line 5, a note over 6-8. */
    assert_int_equal(l.inv.dev[0].line, 2);
    assert_int_equal(l.inv.dev[1].line, 3);
    assert_int_equal(l.inv.dev[2].line, 6);
    assert_int_equal(l.inv.dev[3].line, 10);
    orch_inventory_cleanup(&l.inv);
}

static void test_lf_and_crlf_same_result(void **state)
{
    struct loaded a, b;

    (void)state;
    load_str(&a, "DeviceName,ProductKey\ndev-0001,pk1\n\ndev-0002,pk1\n", NULL);
    load_str(&b, "DeviceName,ProductKey\r\ndev-0001,pk1\r\n\r\ndev-0002,pk1",
             NULL);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    assert_int_equal(a.inv.n, 2);
    assert_int_equal(b.inv.n, 2);
    assert_int_equal(a.inv.dev[1].line, 4);
    assert_int_equal(b.inv.dev[1].line, 4);
    assert_string_equal(name_at(&b, 1), "dev-0002");
    orch_inventory_cleanup(&a.inv);
    orch_inventory_cleanup(&b.inv);
}

static void test_quoted_newlines_line_numbers(void **state)
{
    struct loaded l;

    (void)state;
    load_file(&l, INV_DIR "quoted-newlines.csv", NULL);
    assert_int_equal(l.rc, ORCH_EINVENTORY);
    /* Row 1 spans lines 2-4, row 2 lines 5-6 (a quoted CRLF), so the bad
     * row is on physical line 7. */
    assert_non_null(strstr(l.diag.msg, "quoted-newlines.csv:7: \"bad!\": "
                                       "DeviceName contains a character"));
    orch_inventory_cleanup(&l.inv);

    /* Lone CRs (old Mac line ends) inside quotes count as line breaks. */
    load_str(&l,
             "DeviceName,ProductKey,Notes\r\n\"dev-0001\",pk,\"a\rb\rc\"\r\n"
             "x,pk\r\n",
             NULL);
    assert_int_equal(l.rc, ORCH_EINVENTORY);
    assert_non_null(strstr(l.diag.msg, "t.csv:5: \"x\": DeviceName"));
    orch_inventory_cleanup(&l.inv);
}

static void test_bom_then_semicolon(void **state)
{
    struct loaded l;

    (void)state;
    load_str(&l,
             "\xef\xbb\xbf"
             "DeviceName;ProductKey\r\ndev-0001;pk1\r\n",
             NULL);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.inv.delimiter, ';');
    assert_string_equal(name_at(&l, 0), "dev-0001");
    orch_inventory_cleanup(&l.inv);
}

static void test_cr_only_line_ends(void **state)
{
    struct loaded l;

    (void)state;
    load_str(&l, "DeviceName,ProductKey\rdev-0001,pk1\r\rbad,pk1\r", NULL);
    assert_int_equal(l.rc, ORCH_EINVENTORY);
    assert_non_null(strstr(l.diag.msg, "t.csv:4: \"bad\": DeviceName"));
    orch_inventory_cleanup(&l.inv);
}

/* Rows, CRLFs and quoted line breaks that straddle the 1 MiB read blocks
 * keep their line numbers. */
static void test_block_boundaries(void **state)
{
    const size_t block = 1u << 20;
    size_t cut = 0, off = 0, lines = 1;
    char *csv = malloc(3 * block);
    struct loaded l;

    (void)state;
    assert_non_null(csv);
    for (cut = block - 3; cut <= block + 1; cut++) {
        off = (size_t)sprintf(csv, "DeviceName,ProductKey,Notes\r\n");
        lines = 2;
        /* Filler rows up to just before the cut. */
        while (off + 40 < cut) {
            off += (size_t)sprintf(csv + off, "fill-%07zu,pk1,\r\n", lines);
            lines++;
        }
        while (off < cut - 1) /* pad the last filler's note */
            csv[off++] = ' ';
        /* A CRLF that ends at the cut, then a quoted multi-line note. */
        off += (size_t)sprintf(csv + off, "\r\nnote-0001,pk1,\"a\r\nb\nc\"\r\n"
                                          "bad,pk1,\r\n");
        load_str(&l, csv, NULL);
        assert_int_equal(l.rc, ORCH_EINVENTORY);
        {
            char want[64];
            /* blank line from the padding + note spans 3 lines */
            snprintf(want, sizeof(want), "t.csv:%zu: \"bad\": DeviceName",
                     lines + 1 + 3);
            if (strstr(l.diag.msg, want) == NULL)
                fail_msg("cut %zu: want \"%s\" in \"%s\"", cut, want,
                         l.diag.msg);
        }
        orch_inventory_cleanup(&l.inv);
    }
    free(csv);
}

static void test_semicolon_detected(void **state)
{
    struct loaded l;

    (void)state;
    load_file(&l, INV_DIR "semicolon.csv", NULL);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.inv.delimiter, ';');
    assert_int_equal(l.inv.n, 2);
    assert_string_equal(name_at(&l, 0), "dev-0001");
    assert_string_equal(product_at(&l, 1), "a1BwAGVabcd");
    orch_inventory_cleanup(&l.inv);
}

static void test_tab_detected(void **state)
{
    struct loaded l;

    (void)state;
    load_file(&l, INV_DIR "tab.tsv", NULL);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.inv.delimiter, '\t');
    assert_int_equal(l.inv.n, 2);
    assert_string_equal(name_at(&l, 0), "dev-0001");
    assert_string_equal(name_at(&l, 1), "dev-0002");
    orch_inventory_cleanup(&l.inv);

    /* The second row's DeviceName column is the empty first cell. */
    load_str(&l, "DeviceName\tProductKey\n\tdev-0002\ta1\n", NULL);
    assert_int_equal(l.rc, ORCH_EINVENTORY);
    assert_non_null(strstr(l.diag.msg, "t.csv:2: \"\": DeviceName is empty"));
    orch_inventory_cleanup(&l.inv);
}

static void test_delimiter_override(void **state)
{
    struct orch_inventory_opts o = {0};
    struct loaded l;

    (void)state;
    o.delimiter = '|';
    load_str(&l, "DeviceName|ProductKey\ndev-0001|pk1\n", &o);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.inv.delimiter, '|');
    assert_string_equal(name_at(&l, 0), "dev-0001");
    orch_inventory_cleanup(&l.inv);

    /* Forced ',' on a ';' file: one column named "DeviceName;ProductKey". */
    o.delimiter = ',';
    load_str(&l, "DeviceName;ProductKey\ndev-0001;pk1\n", &o);
    assert_int_equal(l.rc, ORCH_ECSV);
    assert_non_null(strstr(l.diag.msg, "no DeviceName column"));
    orch_inventory_cleanup(&l.inv);
}

static void test_blank_lines_skipped(void **state)
{
    struct loaded l;

    (void)state;
    load_str(&l,
             "\n\nDeviceName,ProductKey\n\ndev-0001,pk1\n,,\n   \n"
             "dev-0002,pk1\n\n\n",
             NULL);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.inv.n, 2);
    assert_int_equal(l.inv.rows, 2);
    assert_int_equal(l.inv.dev[0].line, 5);
    assert_int_equal(l.inv.dev[1].line, 8);
    orch_inventory_cleanup(&l.inv);
}

static void test_fields_trimmed(void **state)
{
    struct loaded l;

    (void)state;
    load_str(&l,
             "DeviceName,ProductKey\n  dev-0001 , pk1 \n\" dev-0002\t\",pk1\n"
             "\"\xc2\xa0"
             "dev-0003\",pk1\n",
             NULL);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.inv.n, 3);
    assert_string_equal(name_at(&l, 0), "dev-0001");
    assert_string_equal(name_at(&l, 1), "dev-0002");
    assert_string_equal(name_at(&l, 2), "dev-0003");
    assert_int_equal(l.inv.nproducts, 1);
    assert_string_equal(l.inv.products[0], "pk1");
    orch_inventory_cleanup(&l.inv);
}

static void test_trailing_empty_columns(void **state)
{
    struct loaded l;

    (void)state;
    load_str(&l, "DeviceName,ProductKey,,,\ndev-0001,pk1,,,\ndev-0002,pk1\n",
             NULL);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.inv.n, 2);
    orch_inventory_cleanup(&l.inv);
}

static void test_utf16_refused(void **state)
{
    static const char *files[] = {"utf16le.csv", "utf16be.csv",
                                  "utf16-nobom.csv"};
    char path[512];
    size_t i = 0;
    struct loaded l;

    (void)state;
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", INV_DIR, files[i]);
        load_file(&l, path, NULL);
        assert_int_equal(l.rc, ORCH_ECSV);
        assert_non_null(strstr(l.diag.msg, ":1: the file is UTF-16"));
        assert_non_null(strstr(l.diag.msg, "CSV UTF-8"));
        orch_inventory_cleanup(&l.inv);
    }
}

static void test_scientific_notation(void **state)
{
    struct loaded l;

    (void)state;
    load_file(&l, INV_DIR "scientific.csv", NULL);
    assert_int_equal(l.rc, ORCH_EINVENTORY);
    assert_non_null(strstr(l.diag.msg, "scientific.csv:3: \"8.6E+14\": "
                                       "DeviceName looks like a number"));
    orch_inventory_cleanup(&l.inv);

    /* Without a sign but with a decimal point, still caught. */
    assert_non_null(orch_device_name_problem("8.61234E14"));
    assert_non_null(strstr(orch_device_name_problem("1.2E+15"), "scientific"));
    /* A plain name that merely has digits and an E is fine. */
    assert_null(orch_device_name_problem("1E10"));
    assert_null(orch_device_name_problem("86E14x"));
}

static void test_header_aliases(void **state)
{
    static const char *headers[] = {
        "DeviceName,ProductKey", "device_name,product_key", "DN,PRODUCTKEY",
        " Device Name , Product-Key ", "Device-Name;Product Key"};
    char csv[256];
    size_t i = 0;
    struct loaded l;

    (void)state;
    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        char d = strchr(headers[i], ';') ? ';' : ',';
        snprintf(csv, sizeof(csv), "%s\ndev-0001%cpk1\n", headers[i], d);
        load_str(&l, csv, NULL);
        assert_int_equal(l.rc, 0);
        assert_true(l.inv.has_product_column);
        assert_string_equal(name_at(&l, 0), "dev-0001");
        assert_string_equal(product_at(&l, 0), "pk1");
        orch_inventory_cleanup(&l.inv);
    }
    /* Columns found by name in any position; others ignored. */
    load_str(&l, "Site,Notes,ProductKey,DeviceName\nSH,n,pk2,dev-0009\n", NULL);
    assert_int_equal(l.rc, 0);
    assert_string_equal(name_at(&l, 0), "dev-0009");
    assert_string_equal(product_at(&l, 0), "pk2");
    orch_inventory_cleanup(&l.inv);
}

static void test_missing_devicename_column(void **state)
{
    struct loaded l;

    (void)state;
    load_file(&l, INV_DIR "no-devicename.csv", NULL);
    assert_int_equal(l.rc, ORCH_ECSV);
    assert_non_null(strstr(l.diag.msg, "no-devicename.csv:1: the header row "
                                       "has no DeviceName column"));
    assert_non_null(strstr(l.diag.msg, "\"Name\""));
    orch_inventory_cleanup(&l.inv);

    /* A file with no header at all: its first name is taken as a header. */
    load_str(&l, "dev-0001,pk1\ndev-0002,pk1\n", NULL);
    assert_int_equal(l.rc, ORCH_ECSV);
    orch_inventory_cleanup(&l.inv);
}

static void test_empty_and_missing_file(void **state)
{
    struct loaded l;

    (void)state;
    load_file(&l, INV_DIR "empty.csv", NULL);
    assert_int_equal(l.rc, ORCH_ECSV);
    assert_non_null(strstr(l.diag.msg, "empty inventory"));
    orch_inventory_cleanup(&l.inv);

    load_file(&l, INV_DIR "does-not-exist.csv", NULL);
    assert_int_equal(l.rc, ORCH_EIO);
    assert_non_null(strstr(l.diag.msg, "does-not-exist.csv"));
    orch_inventory_cleanup(&l.inv);
}

static void test_duplicates_dropped(void **state)
{
    struct loaded l;

    (void)state;
    load_str(&l,
             "DeviceName,ProductKey\ndev-0001,pk1\ndev-0002,pk1\n"
             "dev-0001,pk1\n dev-0001,pk1\ndev-0001,pk2\ndev-0002,pk1\n",
             NULL);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.inv.rows, 6);
    assert_int_equal(l.inv.duplicates, 3);
    /* The same name under another product is another device. */
    assert_int_equal(l.inv.n, 3);
    assert_string_equal(name_at(&l, 2), "dev-0001");
    assert_string_equal(product_at(&l, 2), "pk2");
    assert_int_equal(l.inv.dev[2].line, 6);
    orch_inventory_cleanup(&l.inv);
}

/* Enough devices to grow the hash set several times, duplicates close
 * together and far apart. */
static void test_duplicates_many(void **state)
{
    const size_t unique = 20000;
    char *csv = malloc(unique * 64 + 64);
    size_t off = 0, i = 0, dups = 0;
    struct loaded l;

    (void)state;
    assert_non_null(csv);
    off += (size_t)sprintf(csv + off, "DeviceName,ProductKey\n");
    for (i = 0; i < unique; i++) {
        off += (size_t)sprintf(csv + off, "dev-%06zu,pk%zu\n", i, i % 3);
        if (i % 7 == 0) { /* right away */
            off += (size_t)sprintf(csv + off, "dev-%06zu,pk%zu\n", i, i % 3);
            dups++;
        }
        if (i % 11 == 5) { /* much earlier */
            off += (size_t)sprintf(csv + off, "dev-%06zu,pk%zu\n", i / 2,
                                   (i / 2) % 3);
            dups++;
        }
    }
    load_str(&l, csv, NULL);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.inv.n, unique);
    assert_int_equal(l.inv.duplicates, dups);
    for (i = 0; i < unique; i += 997) {
        char want[32];
        snprintf(want, sizeof(want), "dev-%06zu", i);
        assert_string_equal(name_at(&l, i), want);
    }
    assert_int_equal(l.inv.nproducts, 3);
    orch_inventory_cleanup(&l.inv);
    free(csv);
}

static void test_multi_product_default(void **state)
{
    struct orch_inventory_opts o = {0};
    struct loaded l;

    (void)state;
    o.default_product_key = "a1Default";
    load_str(&l, "DeviceName,ProductKey\ndev-0001,\ndev-0002,pkB\ndev-0003\n",
             &o);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.inv.n, 3);
    assert_int_equal(l.inv.nproducts, 2);
    assert_string_equal(l.inv.products[0], "a1Default");
    assert_string_equal(l.inv.products[1], "pkB");
    assert_string_equal(product_at(&l, 2), "a1Default");
    orch_inventory_cleanup(&l.inv);

    /* Without a default, an empty ProductKey is an error. */
    load_str(&l, "DeviceName,ProductKey\ndev-0001,pkB\ndev-0002,\n", NULL);
    assert_int_equal(l.rc, ORCH_EINVENTORY);
    assert_non_null(strstr(l.diag.msg, "t.csv:3: \"\": ProductKey is empty "
                                       "and no --product-key was given"));
    orch_inventory_cleanup(&l.inv);

    /* No ProductKey column: --product-key is required... */
    load_str(&l, "DeviceName\ndev-0001\n", NULL);
    assert_int_equal(l.rc, ORCH_ECONFIG);
    assert_non_null(strstr(l.diag.msg, "--product-key"));
    orch_inventory_cleanup(&l.inv);
    /* ...and used for every row. */
    load_str(&l, "DeviceName\ndev-0001\ndev-0002\n", &o);
    assert_int_equal(l.rc, 0);
    assert_false(l.inv.has_product_column);
    assert_int_equal(l.inv.nproducts, 1);
    assert_string_equal(product_at(&l, 1), "a1Default");
    orch_inventory_cleanup(&l.inv);

    /* A ProductKey must be an alphanumeric token. */
    load_str(&l, "DeviceName,ProductKey\ndev-0001,a1-bad\n", NULL);
    assert_int_equal(l.rc, ORCH_EINVENTORY);
    assert_non_null(strstr(l.diag.msg, "\"a1-bad\": ProductKey"));
    orch_inventory_cleanup(&l.inv);
}

struct rejects {
    int n;
    uint32_t lines[8];
    char values[8][64];
    char reasons[8][160];
    int fail_at; /* return an error on this call (1-based), 0: never */
};

static int collect(void *ud, uint32_t line, const char *value,
                   const char *reason)
{
    struct rejects *r = ud;

    if (r->n < 8) {
        r->lines[r->n] = line;
        snprintf(r->values[r->n], sizeof(r->values[0]), "%s", value);
        snprintf(r->reasons[r->n], sizeof(r->reasons[0]), "%s", reason);
    }
    r->n++;
    return r->n == r->fail_at ? ORCH_EIO : 0;
}

static int stop_now(void *ud, uint32_t line, const char *value,
                    const char *reason)
{
    (void)ud;
    (void)line;
    (void)value;
    (void)reason;
    return 1;
}

static void test_skip_invalid(void **state)
{
    struct orch_inventory_opts o = {0};
    struct rejects r;
    struct loaded l;
    const char *csv = "DeviceName,ProductKey\n"
                      "abc,pk1\n"
                      "dev-0001,pk1\n"
                      "dev 0002,pk1\n"
                      "8.6E+14,pk1\n"
                      "dev-0003,\n"
                      "dev-0004,pk1\n";

    (void)state;
    memset(&r, 0, sizeof(r));
    o.skip_invalid = true;
    o.on_reject = collect;
    o.reject_ud = &r;
    load_str(&l, csv, &o);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.inv.n, 2);
    assert_int_equal(l.inv.rejected, 4);
    assert_int_equal(l.inv.rows, 6);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.lines[0], 2);
    assert_string_equal(r.values[0], "abc");
    assert_string_equal(r.reasons[0],
                        "DeviceName is shorter than 4 characters");
    assert_int_equal(r.lines[1], 4);
    assert_string_equal(r.values[1], "dev 0002");
    assert_int_equal(r.lines[2], 5);
    assert_non_null(strstr(r.reasons[2], "scientific notation"));
    assert_int_equal(r.lines[3], 6);
    assert_string_equal(r.values[3], "");
    assert_non_null(strstr(r.reasons[3], "ProductKey is empty"));
    orch_inventory_cleanup(&l.inv);

    /* Without a callback the rows are still skipped and counted. */
    o.on_reject = NULL;
    load_str(&l, csv, &o);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.inv.rejected, 4);
    orch_inventory_cleanup(&l.inv);

    /* A failing callback (e.g. the rejects file cannot be written) stops. */
    memset(&r, 0, sizeof(r));
    r.fail_at = 2;
    o.on_reject = collect;
    load_str(&l, csv, &o);
    assert_int_equal(l.rc, ORCH_EIO);
    assert_non_null(strstr(l.diag.msg, "t.csv:4:"));
    orch_inventory_cleanup(&l.inv);

    /* A positive "stop" from the callback aborts the load. */
    memset(&r, 0, sizeof(r));
    r.fail_at = 1;
    o.on_reject = stop_now;
    o.reject_ud = &r;
    load_str(&l, csv, &o);
    assert_int_equal(l.rc, ORCH_EABORT);
    orch_inventory_cleanup(&l.inv);

    /* Without skip_invalid the whole file is read; the diag tells the
     * first bad row and how many more there are. */
    load_str(&l, csv, NULL);
    assert_int_equal(l.rc, ORCH_EINVENTORY);
    assert_string_equal(l.diag.msg, "t.csv:2: \"abc\": DeviceName is shorter "
                                    "than 4 characters (and 3 more invalid "
                                    "rows)");
    orch_inventory_cleanup(&l.inv);
}

/* Six invalid rows are six problems, each with its line
 * and the rejects file's reason text, and the load still fails. */
static void test_every_bad_row(void **state)
{
    struct orch_inventory_opts o = {0};
    struct orch_inventory_problems ps;
    struct rejects r;
    struct loaded l;
    char line[512];
    size_t i = 0;
    const char *csv = "DeviceName,ProductKey\n"
                      "dev-0001,pk1\n"
                      "abc,pk1\n"          /* 3 */
                      "dev-0002,pk1\n"
                      "dev 0003,pk1\n"     /* 5 */
                      "8.6E+14,pk1\n"      /* 6 */
                      "dev-0004,\n"        /* 7 */
                      "dev-0005,pk-1\n"    /* 8 */
                      "\"a\nb\",pk1\n"      /* 9-10 */
                      "dev-0006,pk1\n";
    const uint32_t want[6] = {3, 5, 6, 7, 8, 9};

    (void)state;
    memset(&ps, 0, sizeof(ps));
    o.problems = &ps;
    load_str(&l, csv, &o);
    assert_int_equal(l.rc, ORCH_EINVENTORY);
    assert_int_equal(ps.total, 6);
    assert_int_equal(ps.n, 6);
    /* The reasons are the rejects file's, word for word. */
    memset(&r, 0, sizeof(r));
    o.problems = NULL;
    o.skip_invalid = true;
    o.on_reject = collect;
    o.reject_ud = &r;
    {
        struct loaded k;

        load_str(&k, csv, &o);
        assert_int_equal(k.rc, 0);
        assert_int_equal(r.n, 6);
        orch_inventory_cleanup(&k.inv);
    }
    for (i = 0; i < 6; i++) {
        assert_int_equal(ps.first[i].line, want[i]);
        assert_int_equal(r.lines[i], want[i]);
        assert_string_equal(ps.first[i].reason, r.reasons[i]);
    }
    assert_string_equal(ps.first[0].value, "abc");
    assert_string_equal(ps.first[0].reason,
                        "DeviceName is shorter than 4 characters");
    assert_string_equal(ps.first[3].reason,
                        "ProductKey is empty and no --product-key was given");
    assert_string_equal(ps.first[5].value, "a\\x0ab");
    orch_inventory_problem_format(line, sizeof(line), "t.csv", &ps.first[1]);
    assert_string_equal(line, "t.csv:5: \"dev 0003\": DeviceName contains a "
                              "character other than letters, digits and "
                              "- _ @ . :");
    assert_non_null(strstr(l.diag.msg, "(and 5 more invalid rows)"));
    orch_inventory_cleanup(&l.inv);
}

/* Past the limit the rows are counted, not kept; a file that cannot be
 * read on (UTF-16 after a bad row) still stops at once. */
static void test_problem_limit(void **state)
{
    struct orch_inventory_opts o = {0};
    struct orch_inventory_problems ps;
    struct loaded l;
    char *csv = malloc(64 * 100);
    size_t off = 0, i = 0;

    (void)state;
    assert_non_null(csv);
    off = (size_t)sprintf(csv, "DeviceName,ProductKey\n");
    for (i = 0; i < 50; i++)
        off += (size_t)sprintf(csv + off, "x%zu,pk1\ndev-%04zu,pk1\n", i, i);
    memset(&ps, 0, sizeof(ps));
    o.problems = &ps;
    load_str(&l, csv, &o);
    assert_int_equal(l.rc, ORCH_EINVENTORY);
    assert_int_equal(ps.total, 50);
    assert_int_equal(ps.n, ORCH_INVENTORY_PROBLEMS_MAX);
    assert_int_equal(ps.first[0].line, 2);
    assert_int_equal(ps.first[ORCH_INVENTORY_PROBLEMS_MAX - 1].line,
                     2 + 2 * (ORCH_INVENTORY_PROBLEMS_MAX - 1));
    assert_non_null(strstr(l.diag.msg, "(and 49 more invalid rows)"));
    orch_inventory_cleanup(&l.inv);

    /* A quote left open at the end: ECSV naming its row, not a list. */
    memset(&ps, 0, sizeof(ps));
    load_str(&l, "DeviceName,ProductKey\nab,pk1\ndev-0001,pk1\n"
                 "\"dev-0002,pk1\nxx,pk1\n", &o);
    assert_int_equal(l.rc, ORCH_ECSV);
    assert_non_null(strstr(l.diag.msg, "t.csv:4: a quote opened in this row "
                                       "is never closed"));
    orch_inventory_cleanup(&l.inv);

    /* A NUL (UTF-16 without a BOM) after a bad row: ECSV, at once. */
    memset(&ps, 0, sizeof(ps));
    memcpy(csv, "DeviceName,ProductKey\nab,pk1\nd\0e\0v\0", 36);
    memset(&l, 0, sizeof(l));
    orch_inventory_init(&l.inv);
    l.rc = orch_inventory_load_mem(&l.inv, "t.csv", csv, 36, &o, &l.diag);
    assert_int_equal(l.rc, ORCH_ECSV);
    assert_non_null(strstr(l.diag.msg, "UTF-16"));
    orch_inventory_cleanup(&l.inv);
    free(csv);
}

static void test_value_shown_safely(void **state)
{
    struct loaded l;
    char csv[512];

    (void)state;
    load_str(&l, "DeviceName\n\"ab\x1b[31m\"\"x\\\"\n", NULL);
    assert_int_equal(l.rc, ORCH_ECONFIG); /* no product: header check */
    orch_inventory_cleanup(&l.inv);

    load_str(&l, "DeviceName,ProductKey\n\"ab\x1b[31m\"\"x\\\",pk\n", NULL);
    assert_int_equal(l.rc, ORCH_EINVENTORY);
    assert_non_null(strstr(l.diag.msg, "\"ab\\x1b[31m\\\"x\\\\\""));
    assert_null(strchr(l.diag.msg, '\x1b'));
    orch_inventory_cleanup(&l.inv);

    snprintf(csv, sizeof(csv), "DeviceName,ProductKey\n%s,pk\n",
             "a-very-long-device-name-that-goes-on-and-on-and-on-and-on-"
             "and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-"
             "and-on-and-on-and-on-and-on");
    load_str(&l, csv, NULL);
    assert_int_equal(l.rc, ORCH_EINVENTORY);
    assert_non_null(strstr(l.diag.msg, "...\": DeviceName is longer than 32"));
    assert_true(strlen(l.diag.msg) < 200);
    orch_inventory_cleanup(&l.inv);
}

/* <report>.failed.csv must read back as an inventory, even when a name
 * starts with '-' and the writer neutralised it. */
static void test_failed_csv_round_trip(void **state)
{
    char path[] = "/tmp/test_inventory_XXXXXX";
    struct orch_csv_out out;
    struct orch_diag diag;
    const char *row1[] = {"a1BwAGVabcd", "-dev-0001", "iot.ota.X"};
    const char *row2[] = {"a1BwAGVabcd", "@dev:0002", "iot.ota.X"};
    struct loaded l;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(orch_csv_out_open(
                         &out, path, "ProductKey,DeviceName,error_code", &diag),
                     0);
    assert_int_equal(orch_csv_out_row(&out, row1, 3), 0);
    assert_int_equal(orch_csv_out_row(&out, row2, 3), 0);
    assert_int_equal(orch_csv_out_close(&out), 0);
    load_file(&l, path, NULL);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.inv.n, 2);
    assert_string_equal(name_at(&l, 0), "-dev-0001");
    assert_string_equal(name_at(&l, 1), "@dev:0002");
    orch_inventory_cleanup(&l.inv);
    unlink(path);
}

static void test_samples(void **state)
{
    struct orch_inventory_opts o = {0};
    struct loaded l;

    (void)state;
    load_file(&l, SAMPLES "fleet.csv", NULL);
    assert_int_equal(l.rc, 0);
    assert_true(l.inv.n >= 2500);
    assert_true(l.inv.duplicates > 0);
    assert_int_equal(l.inv.nproducts, 2);
    orch_inventory_cleanup(&l.inv);

    load_file(&l, SAMPLES "fleet-with-errors.csv", NULL);
    assert_int_equal(l.rc, ORCH_EINVENTORY);
    orch_inventory_cleanup(&l.inv);
    o.skip_invalid = true;
    load_file(&l, SAMPLES "fleet-with-errors.csv", &o);
    assert_int_equal(l.rc, 0);
    assert_true(l.inv.rejected >= 3);
    orch_inventory_cleanup(&l.inv);
}

TORTURE_MAIN(NULL, NULL,
    cmocka_unit_test(test_excel_bom_crlf),
    cmocka_unit_test(test_lf_and_crlf_same_result),
    cmocka_unit_test(test_quoted_newlines_line_numbers),
    cmocka_unit_test(test_bom_then_semicolon),
    cmocka_unit_test(test_cr_only_line_ends),
    cmocka_unit_test(test_block_boundaries),
    cmocka_unit_test(test_semicolon_detected),
    cmocka_unit_test(test_tab_detected),
    cmocka_unit_test(test_delimiter_override),
    cmocka_unit_test(test_blank_lines_skipped),
    cmocka_unit_test(test_fields_trimmed),
    cmocka_unit_test(test_trailing_empty_columns),
    cmocka_unit_test(test_utf16_refused),
    cmocka_unit_test(test_scientific_notation),
    cmocka_unit_test(test_header_aliases),
    cmocka_unit_test(test_missing_devicename_column),
    cmocka_unit_test(test_empty_and_missing_file),
    cmocka_unit_test(test_duplicates_dropped),
    cmocka_unit_test(test_duplicates_many),
    cmocka_unit_test(test_multi_product_default),
    cmocka_unit_test(test_skip_invalid),
    cmocka_unit_test(test_every_bad_row),
    cmocka_unit_test(test_problem_limit),
    cmocka_unit_test(test_value_shown_safely),
    cmocka_unit_test(test_failed_csv_round_trip),
    cmocka_unit_test(test_samples))
